//! What the world reports as it runs. Observers (the report writers, benchmarks, tests) see
//! every event; the world never writes files itself.

use crate::net::{LinkDrop, Network, NodeId, Packet, Port};
use crate::sim::{Duration, SimTime};
use crate::tcp::{ConnectError, NetstatRow, TcpLog};

/// Why a packet stopped short of its destination.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DropReason {
    /// A link's drop-tail queue was full.
    QueueFull,
    /// A link's seeded loss draw.
    Loss,
    /// The link was (or went) down.
    LinkDown,
    /// No route to the destination.
    NoRoute,
    /// A black-hole route.
    Blackhole,
    /// A host got a packet for another address.
    NotForwarding,
    /// A router got a packet addressed to itself and has nothing to hand it to.
    ToRouter,
    /// The transport had no one to give it to.
    NoReceiver,
    /// A scenario `[[fault]]` rule took it.
    Fault,
}

impl DropReason {
    /// Lower-case name used in CSV files.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::Loss => "loss",
            DropReason::LinkDown => "link_down",
            DropReason::NoRoute => "no_route",
            DropReason::Blackhole => "blackhole",
            DropReason::NotForwarding => "not_forwarding",
            DropReason::ToRouter => "to_router",
            DropReason::NoReceiver => "no_receiver",
            DropReason::Fault => "fault",
        }
    }
}

impl From<LinkDrop> for DropReason {
    fn from(d: LinkDrop) -> DropReason {
        match d {
            LinkDrop::QueueFull => DropReason::QueueFull,
            LinkDrop::Loss => DropReason::Loss,
            LinkDrop::Down => DropReason::LinkDown,
        }
    }
}

/// What happened to a packet at a node.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PacketEventKind {
    /// A host put a packet on its first link.
    Send,
    /// A router sent it on.
    Forward,
    /// It reached the host it was addressed to.
    Deliver,
    /// It was discarded.
    Drop(DropReason),
    /// Its TTL ran out at this router.
    TtlExpired,
    /// A link made this packet as a copy of another.
    Duplicate,
}

impl PacketEventKind {
    /// Lower-case name used in CSV files.
    pub fn name(self) -> &'static str {
        match self {
            PacketEventKind::Send => "send",
            PacketEventKind::Forward => "forward",
            PacketEventKind::Deliver => "deliver",
            PacketEventKind::Drop(_) => "drop",
            PacketEventKind::TtlExpired => "ttl_expired",
            PacketEventKind::Duplicate => "duplicate",
        }
    }
}

/// A packet event.
#[derive(Clone, Copy, Debug)]
pub struct PacketEvent<'a> {
    /// When.
    pub time: SimTime,
    /// What.
    pub kind: PacketEventKind,
    /// Where.
    pub node: NodeId,
    /// The packet, as it is at that moment (TTL already charged when forwarded).
    pub packet: &'a Packet,
}

/// A change to the network itself.
#[derive(Clone, Debug)]
pub struct NetworkEvent {
    /// When.
    pub time: SimTime,
    /// The node it concerns (a router for route changes, an end for link changes).
    pub node: NodeId,
    /// "route_change", "link_down" or "link_up".
    pub kind: &'static str,
    /// Plain words: "10.0.1.0/24 via C".
    pub note: String,
}

/// What an application's attempt came to, in a form a sweep can count (the same facts its
/// notes give in words; emitted next to them).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AppOutcome {
    /// `connect()` failed at once with this errno (no port, or the 4-tuple held).
    ConnectFailed(ConnectError),
    /// curl gave up with this exit code (7: could not connect, 28: timed out, 56: receive
    /// failure).
    CurlFailed(u8),
    /// curl received its whole response, `took` after it started the request.
    RequestCompleted {
        /// From the request's start (before connect()) to the last byte of the response.
        took: Duration,
    },
}

/// Receives everything a run reports. Every method has an empty default so observers only
/// implement what they use.
pub trait Observer {
    /// A packet was sent, forwarded, delivered, dropped, expired or duplicated.
    fn packet(&mut self, _net: &Network, _ev: &PacketEvent<'_>) {}
    /// A packet went onto a link (what a tap on that link would capture).
    fn link(&mut self, _net: &Network, _time: SimTime, _port: Port, _packet: &Packet) {}
    /// Whether [`Observer::link`] and the [`PacketEventKind::Forward`] events are wanted; asked
    /// at the start of each run. Nearly every call is one of these, so an observer that only
    /// counts what hosts send and receive says no and the world spares them.
    fn wants_hops(&self) -> bool {
        true
    }
    /// A route or link changed.
    fn network(&mut self, _net: &Network, _ev: &NetworkEvent) {}
    /// TCP on `node` changed a state, released a connection, or delivered foreign bytes.
    fn tcp(&mut self, _net: &Network, _time: SimTime, _node: NodeId, _log: &TcpLog) {}
    /// A host's sockets as `netstat -tan` would list them.
    fn netstat(&mut self, _net: &Network, _time: SimTime, _node: NodeId, _rows: &[NetstatRow]) {}
    /// A host's socket count per state, in [`State::ALL`](crate::tcp::State::ALL) order.
    fn counts(&mut self, _net: &Network, _time: SimTime, _node: NodeId, _counts: &[u64; 11]) {}
    /// An application reported something in its own words (a curl error, a served request).
    fn app(&mut self, _net: &Network, _time: SimTime, _node: NodeId, _app: u32, _message: &str) {}
    /// Whether the run should stop before its next event (a `--max-output` guard); asked every
    /// 1,024 events.
    fn halt(&self) -> bool {
        false
    }
    /// How far the run has got: simulated time and events run so far; told every 1,024 events
    /// (a progress display).
    fn progress(&mut self, _now: SimTime, _events: u64) {}
    /// An application's attempt ended in a way a sweep counts (see [`AppOutcome`]).
    fn outcome(
        &mut self,
        _net: &Network,
        _time: SimTime,
        _node: NodeId,
        _app: u32,
        _outcome: &AppOutcome,
    ) {
    }
}

/// An observer that ignores everything (benchmarks).
pub struct NullObserver;

impl Observer for NullObserver {
    fn wants_hops(&self) -> bool {
        false
    }
}
