//! The network: packets, links, routing tables and the per-hop forwarding decision. Knows nothing
//! of scenarios or files; the world schedules what it decides.

mod addr;
mod fault;
mod link;
mod packet;
mod routing;

use std::net::Ipv4Addr;

pub use addr::Prefix;
pub use fault::{Fault, FaultAction};
pub use link::{Bandwidth, Link, LinkDrop, LinkId, LinkParams, Port, Transmission};
pub use packet::{
    Body, Datagram, IPV4_HEADER_LEN, Icmp, NodeId, Packet, PacketId, Provenance, Quote,
};
pub use routing::{NextHop, Route, RoutingTable};

use crate::sim::{Duration, SimTime};

/// How routers charge a packet's TTL.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum TtlMode {
    /// Modern IP: one per router.
    #[default]
    Hops,
    /// RFC 791: one per router, and one per second the packet was held since its last charge.
    Seconds,
}

/// Hosts end paths; routers forward.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NodeKind {
    /// An end system with a TCP stack and applications.
    Host,
    /// A forwarding node.
    Router,
}

/// A host or router.
#[derive(Clone, Debug)]
pub struct Node {
    /// Unique name from the scenario.
    pub name: String,
    /// Host or router.
    pub kind: NodeKind,
    /// Addresses this node owns (routers may have none).
    pub addrs: Vec<Ipv4Addr>,
    /// Ports of the links attached to this node, in scenario order.
    pub ports: Vec<Port>,
    /// Forwarding table.
    pub routes: RoutingTable,
    /// Whether this router answers TTL expiry with ICMP time-exceeded.
    pub icmp_time_exceeded: bool,
}

impl Node {
    /// True if `addr` is one of this node's own.
    pub fn owns(&self, addr: Ipv4Addr) -> bool {
        self.addrs.contains(&addr)
    }
}

/// What a node does with a packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Addressed to this node.
    Local,
    /// Send out of this port (TTL already charged).
    Forward(Port),
    /// The TTL ran out at this router; the packet dies here.
    TtlExpired,
    /// No route matches the destination.
    NoRoute,
    /// A black-hole route matched.
    Blackhole,
    /// A host received a packet for another address; hosts do not forward.
    NotForwarding,
}

/// Nodes and the links between them.
pub struct Network {
    /// Hosts and routers, indexed by [`NodeId`].
    pub nodes: Vec<Node>,
    /// Links, indexed by [`LinkId`].
    pub links: Vec<Link>,
    /// How routers charge TTL.
    pub ttl_mode: TtlMode,
}

impl Network {
    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    /// The link with this id.
    pub fn link_mut(&mut self, id: LinkId) -> &mut Link {
        &mut self.links[id.0 as usize]
    }

    /// The port on `from` whose link leads to `to`, if they are neighbours.
    pub fn port_towards(&self, from: NodeId, to: NodeId) -> Option<Port> {
        self.node(from)
            .ports
            .iter()
            .copied()
            .find(|p| self.links[p.link.0 as usize].far_end(p.side) == to)
    }

    /// Route lookup for a packet `node` sends or forwards.
    fn next_hop(&self, node: &Node, dst: Ipv4Addr) -> Verdict {
        match node.routes.lookup(dst) {
            Some(NextHop::Port(p)) => Verdict::Forward(p),
            Some(NextHop::Drop) => Verdict::Blackhole,
            None => Verdict::NoRoute,
        }
    }

    /// Decides the fate of a packet `node` originates.
    pub fn originate(&self, node: NodeId, packet: &Packet) -> Verdict {
        let n = self.node(node);
        if n.owns(packet.dst) {
            return Verdict::Local;
        }
        self.next_hop(n, packet.dst)
    }

    /// Decides the fate of a packet arriving at `node` at `now`, charging its TTL if forwarded.
    /// A router never forwards a packet whose TTL would reach zero (RFC 1812 §5.3.1).
    pub fn arrive(&self, node: NodeId, packet: &mut Packet, now: SimTime) -> Verdict {
        let n = self.node(node);
        if n.owns(packet.dst) {
            return Verdict::Local;
        }
        if n.kind == NodeKind::Host {
            return Verdict::NotForwarding;
        }
        let charge = match self.ttl_mode {
            TtlMode::Hops => 1,
            TtlMode::Seconds => {
                let held = (now - packet.ttl_clock).as_secs();
                packet.ttl_clock += Duration::from_secs(held);
                held.clamp(1, 255) as u8
            }
        };
        if packet.ttl <= charge {
            packet.ttl = 0;
            return Verdict::TtlExpired;
        }
        packet.ttl -= charge;
        self.next_hop(n, packet.dst)
    }
}
