//! A world described as plain data, with names already resolved to ids. The scenario layer
//! builds it from TOML and checks it; tests and benchmarks build it directly.

use std::net::Ipv4Addr;

use super::apps::AppSpec;
use crate::net::{Fault, LinkId, LinkParams, NodeId, NodeKind, Prefix, TtlMode};
use crate::sim::Duration;
use crate::tcp::TcpConfig;

/// Where a route sends packets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RouteTarget {
    /// To this neighbour.
    Via(NodeId),
    /// Nowhere: discard.
    Drop,
    /// Withdraw the route.
    Remove,
}

/// A host or router.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeConfig {
    /// Unique name.
    pub name: String,
    /// Host or router.
    pub kind: NodeKind,
    /// Owned addresses.
    pub addrs: Vec<Ipv4Addr>,
    /// Routes at time zero.
    pub routes: Vec<(Prefix, RouteTarget)>,
    /// Whether a router sends ICMP time-exceeded when a TTL runs out.
    pub icmp_time_exceeded: bool,
    /// TCP settings (hosts only).
    pub tcp: TcpConfig,
}

/// A link between two nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    /// The nodes it joins.
    pub ends: [NodeId; 2],
    /// Delay, bandwidth, queue, loss...
    pub params: LinkParams,
}

/// A scheduled routing table change.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RouteChange {
    /// When, from the start.
    pub at: Duration,
    /// Whose table.
    pub node: NodeId,
    /// Which destinations.
    pub prefix: Prefix,
    /// The new next hop.
    pub target: RouteTarget,
}

/// A scheduled link failure or repair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkChange {
    /// When, from the start.
    pub at: Duration,
    /// Which link.
    pub link: LinkId,
    /// Up (true) or down.
    pub up: bool,
}

/// An application and the host it runs on.
#[derive(Clone, Debug, PartialEq)]
pub struct AppConfig {
    /// The host.
    pub host: NodeId,
    /// What it runs.
    pub spec: AppSpec,
}

/// Everything needed to build a [`World`](super::World).
#[derive(Clone, Debug, PartialEq)]
pub struct WorldConfig {
    /// Seed for every random stream.
    pub seed: u64,
    /// How routers charge TTL.
    pub ttl_mode: TtlMode,
    /// IP TTL of packets hosts send (Linux `ip_default_ttl` is 64).
    pub default_ttl: u8,
    /// Hosts and routers.
    pub nodes: Vec<NodeConfig>,
    /// Links.
    pub links: Vec<LinkConfig>,
    /// Scheduled route changes.
    pub route_changes: Vec<RouteChange>,
    /// Scheduled link changes.
    pub link_changes: Vec<LinkChange>,
    /// Applications.
    pub apps: Vec<AppConfig>,
    /// Rules that drop chosen packets.
    pub faults: Vec<Fault>,
    /// Observation schedule.
    pub observe: Observe,
}

/// When the world reports socket tables and counts.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Observe {
    /// Times to list every host's sockets (`netstat`).
    pub netstat_at: Vec<Duration>,
    /// Also list a host's sockets after each state change there.
    pub netstat_on_change: bool,
    /// Report each host's socket counts per state at t = 0, whenever they change, and at
    /// the end of the run ([`Observer::counts`](super::Observer::counts)).
    pub counts: bool,
    /// Log every ACK's congestion state ([`crate::tcp::Probe`]) for tcp_probe.csv.
    pub tcp_probe: bool,
}
