//! The world: wires the network to the event queue, runs applications on hosts, and reports
//! everything to an [`Observer`].

pub mod apps;
mod config;
mod trace;
mod wire;

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

pub use config::{
    AppConfig, LinkChange, LinkConfig, NodeConfig, Observe, RouteChange, RouteTarget, WorldConfig,
};
pub use trace::{
    AppOutcome, DropReason, NetworkEvent, NullObserver, Observer, PacketEvent, PacketEventKind,
};

use apps::App;
use wire::{InFlight, Wire};

use crate::net::{
    Body, Datagram, FaultAction, Icmp, Link, Network, NextHop, Node, NodeId, NodeKind, Packet,
    Port, Provenance, Verdict,
};
use crate::sim::{Duration, EventQueue, SimTime, component_rng};
use crate::tcp::{
    ConnectError, Output, Payload, Socket, SocketEvent, SocketHandle, Stack, TcpLog, Wakeup,
    Wakeups,
};

/// Index of an application in the world.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AppId(pub u32);

/// Kept small (packets travel boxed): the queue moves every event in and out of its slab.
enum Event {
    /// The first packet on a link's wire reaches the far end.
    Wire(Port),
    /// A packet reaches the far end of a link ahead of packets sent before it.
    Arrive {
        port: Port,
        epoch: u32,
        packet: Box<Packet>,
    },
    /// A packet a host sent to itself.
    Loopback {
        node: NodeId,
        packet: Box<Packet>,
    },
    RouteChange(u32),
    LinkChange(u32),
    AppStart(u32),
    AppTimer {
        app: u32,
        token: u64,
    },
    /// TCP on a host asked to be woken.
    Tcp {
        node: u32,
        wakeup: Wakeup,
    },
    /// List every host's sockets.
    Netstat,
    /// Count every host's sockets per state (once, at t = 0: later counts follow changes).
    Sample,
}

/// What a packet a host sends to itself costs: it reaches the host this long after the
/// loopback has finished the packets before it (one at a time, in order).
///
/// Linux's loopback is not free: each segment goes down the stack, through `loopback_xmit`
/// and up again in softirq context. Measured in a private network namespace (`unshare -n`) on
/// a 2-core VM, a bulk TCP transfer over `lo` with MSS 1460 ran at 4.5 Gbit/s, 2.6 us per
/// segment, and a 1-byte ping-pong took 24 us one way (mostly system calls and wake-ups).
/// 5 us is a round figure between those; a self-connection then moves at most one MSS per
/// 5 us (292 MB/s with MSS 1460), so `--until` bounds every run.
pub const LOOPBACK_COST: Duration = Duration::from_micros(5);

/// Counters a run keeps whatever the observer.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct RunStats {
    /// Events taken from the queue.
    pub events: u64,
    /// Packets created (including link duplicates).
    pub packets: u64,
    /// Time of the last event run.
    pub end: SimTime,
}

/// Everything but the applications, so an app can be called with mutable access to the rest.
struct Core {
    net: Network,
    queue: EventQueue<Event>,
    default_ttl: u8,
    route_changes: Vec<RouteChange>,
    link_changes: Vec<LinkChange>,
    faults: Vec<crate::net::Fault>,
    observe: config::Observe,
    app_hosts: Vec<NodeId>,
    ip_ids: Vec<u16>,
    /// Each host's TCP, indexed by node (routers have none).
    stacks: Vec<Option<Stack>>,
    /// Reused buffer for what each TCP call produces.
    tcp_out: Output,
    /// Per node: the socket counts last reported (`None` before the first report).
    counted: Vec<Option<[u64; 11]>>,
    /// Hosts whose sockets changed state at `dirty_at`, not yet reported.
    dirty: Vec<u32>,
    dirty_at: SimTime,
    /// Socket events waiting to be handed to their applications, in order.
    pending: VecDeque<(u32, SocketHandle, SocketEvent)>,
    /// Per node: the pending TCP wakeups.
    tcp_wakeups: Vec<Wakeups>,
    /// Per node: when its loopback has finished the packets handed to it so far.
    loopback_free: Vec<SimTime>,
    /// Per link, per sending side: the packets on their way.
    wires: Vec<[Wire; 2]>,
    /// TCP packets delivered, their segments emptied, boxed for the next segments sent: a bulk
    /// flow or a churn of connections then sends without allocating (bounded by
    /// [`PACKET_POOL`]), and each hop moves a pointer, not the packet.
    #[allow(clippy::vec_box)] // the boxes are what is reused
    packet_pool: Vec<Box<Packet>>,
    /// The observer's [`Observer::wants_hops`], asked as each run starts.
    hops: bool,
    stats: RunStats,
}

/// Most emptied packet boxes kept for reuse.
const PACKET_POOL: usize = 4096;

/// A network with its applications, ready to run.
pub struct World {
    core: Core,
    apps: Vec<Box<dyn App>>,
    /// The latest finite time `run` was asked to reach (when the run's report ends).
    horizon: SimTime,
    /// `--max-events`: `run` stops rather than take more events than this.
    event_limit: u64,
    /// Why `run` stopped before `until`, if it did.
    halted: Option<Halt>,
}

/// Why [`World::run`] stopped before the time it was asked to reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// It had run [`World::limit_events`] events and more were due.
    Events(u64),
    /// The observer asked it to stop ([`Observer::halt`]).
    Observer,
}

/// Why a configuration could not be turned into a world (the scenario layer checks first, so
/// this means a configuration built by hand was inconsistent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl World {
    /// Builds the network and applications described by `config`.
    pub fn new(config: &WorldConfig) -> Result<World, ConfigError> {
        let node_count = config.nodes.len();
        let link_count = config.links.len();
        let mut nodes: Vec<Node> = config
            .nodes
            .iter()
            .map(|n| Node {
                name: n.name.clone(),
                kind: n.kind,
                addrs: n.addrs.clone(),
                ports: Vec::new(),
                routes: Default::default(),
                icmp_time_exceeded: n.icmp_time_exceeded,
            })
            .collect();
        let mut links = Vec::with_capacity(config.links.len());
        for (i, l) in config.links.iter().enumerate() {
            for end in l.ends {
                if end.0 as usize >= node_count {
                    return Err(ConfigError(format!(
                        "link {i} names node {} of {node_count}",
                        end.0
                    )));
                }
            }
            let [a, b] = l.ends.map(|n| config.nodes[n.0 as usize].name.as_str());
            let rngs = [
                component_rng(config.seed, &format!("link:{a}->{b}")),
                component_rng(config.seed, &format!("link:{b}->{a}")),
            ];
            let id = crate::net::LinkId(i as u32);
            nodes[l.ends[0].0 as usize]
                .ports
                .push(Port { link: id, side: 0 });
            nodes[l.ends[1].0 as usize]
                .ports
                .push(Port { link: id, side: 1 });
            links.push(Link::new(l.ends, l.params.clone(), rngs));
        }
        let mut net = Network {
            nodes,
            links,
            ttl_mode: config.ttl_mode,
        };
        for (i, n) in config.nodes.iter().enumerate() {
            let id = NodeId(i as u32);
            for (prefix, target) in &n.routes {
                apply_route(&mut net, id, *prefix, *target)?;
            }
        }
        let mut queue = EventQueue::new();
        for (i, c) in config.route_changes.iter().enumerate() {
            queue.schedule(SimTime::ZERO + c.at, Event::RouteChange(i as u32));
        }
        for (i, c) in config.link_changes.iter().enumerate() {
            queue.schedule(SimTime::ZERO + c.at, Event::LinkChange(i as u32));
        }
        let stacks = config
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| match (n.kind, n.addrs.first()) {
                (NodeKind::Host, Some(addr)) => Some(Stack::new(
                    i as u32,
                    *addr,
                    n.tcp.clone(),
                    component_rng(config.seed, &format!("host:{}/tcp", n.name)),
                )),
                _ => None,
            })
            .collect();
        for t in &config.observe.netstat_at {
            queue.schedule(SimTime::ZERO + *t, Event::Netstat);
        }
        if config.observe.counts {
            queue.schedule(SimTime::ZERO, Event::Sample);
        }
        let mut apps = Vec::new();
        let mut app_hosts = Vec::new();
        for (i, a) in config.apps.iter().enumerate() {
            apps.push(a.spec.instantiate(AppId(i as u32)));
            app_hosts.push(a.host);
            queue.schedule(SimTime::ZERO, Event::AppStart(i as u32));
        }
        Ok(World {
            core: Core {
                net,
                queue,
                default_ttl: config.default_ttl,
                route_changes: config.route_changes.clone(),
                link_changes: config.link_changes.clone(),
                faults: config.faults.clone(),
                observe: config.observe.clone(),
                app_hosts,
                ip_ids: vec![0; node_count],
                stacks,
                tcp_out: Output {
                    probe: config.observe.tcp_probe,
                    ..Output::default()
                },
                counted: vec![None; node_count],
                dirty: Vec::new(),
                dirty_at: SimTime::ZERO,
                pending: VecDeque::new(),
                tcp_wakeups: vec![Wakeups::default(); node_count],
                loopback_free: vec![SimTime::ZERO; node_count],
                wires: (0..link_count).map(|_| Default::default()).collect(),
                packet_pool: Vec::new(),
                hops: true,
                stats: RunStats::default(),
            },
            apps,
            horizon: SimTime::ZERO,
            event_limit: u64::MAX,
            halted: None,
        })
    }

    /// Makes [`World::run`] stop, rather than take event `n + 1` (`--max-events`).
    pub fn limit_events(&mut self, n: u64) {
        self.event_limit = n;
    }

    /// Why the last [`World::run`] stopped early: an event limit, or the observer's request.
    pub fn halted(&self) -> Option<Halt> {
        self.halted
    }

    /// The network, for inspection.
    pub fn network(&self) -> &Network {
        &self.core.net
    }

    /// The simulation clock.
    pub fn now(&self) -> SimTime {
        self.core.queue.now()
    }

    /// Runs every event up to and including `until`, reporting to `obs`.
    pub fn run(&mut self, until: SimTime, obs: &mut dyn Observer) -> RunStats {
        self.core.hops = obs.wants_hops();
        while let Some(t) = self.core.queue.peek_time() {
            if t > until {
                break;
            }
            // Both guards count work done, never wall time, so where a run stops is deterministic.
            if self.core.stats.events >= self.event_limit {
                self.halted = Some(Halt::Events(self.event_limit));
                return self.core.stats;
            }
            // The observer is asked every 1,024 events: its files grow in 64 KiB flushes anyway.
            if self.core.stats.events.is_multiple_of(1024) {
                if obs.halt() {
                    self.halted = Some(Halt::Observer);
                    return self.core.stats;
                }
                obs.progress(t, self.core.stats.events);
            }
            // Counts changed at an earlier instant are final once time moves on.
            if !self.core.dirty.is_empty() && t > self.core.dirty_at {
                self.core.report_counts(obs);
            }
            let event = self.core.queue.pop_peeked();
            self.core.stats.events += 1;
            self.core.stats.end = t;
            self.dispatch(event, obs);
            self.run_pending(obs);
        }
        if until != SimTime::MAX {
            self.horizon = self.horizon.max(until);
        }
        self.core.stats
    }

    /// Reports every connection still open as released at the end of the run (the time the
    /// last [`World::run`] was asked to reach; call once, after it).
    pub fn finish(&mut self, obs: &mut dyn Observer) {
        let now = self.core.queue.now().max(self.horizon);
        if self.core.observe.counts {
            // The last changes, then every host's counts again at the end: a report that
            // changes nothing marks the end of the run, so every series reaches it.
            self.core.report_counts(obs);
            for (i, c) in self.core.counted.iter().enumerate() {
                if let Some(c) = c {
                    obs.counts(&self.core.net, now, NodeId(i as u32), c);
                }
            }
        }
        for (i, stack) in self.core.stacks.iter().enumerate() {
            let Some(stack) = stack else { continue };
            for record in stack.open_records(now) {
                obs.tcp(
                    &self.core.net,
                    now,
                    NodeId(i as u32),
                    &TcpLog::Closed(record),
                );
            }
        }
    }

    /// The TCP of a host, for inspection (netstat, tests).
    pub fn stack(&self, node: NodeId) -> Option<&Stack> {
        self.core.stacks.get(node.0 as usize)?.as_ref()
    }

    /// Hands queued socket events to their applications (which may queue more).
    fn run_pending(&mut self, obs: &mut dyn Observer) {
        while let Some((app, h, ev)) = self.core.pending.pop_front() {
            if (app as usize) < self.apps.len() {
                self.with_app(app, obs, |a, ctx| a.socket(ctx, h, ev));
            }
        }
    }

    fn dispatch(&mut self, event: Event, obs: &mut dyn Observer) {
        match event {
            Event::Arrive {
                port,
                epoch,
                packet,
            } => {
                let wire_len = packet.wire_len();
                self.arrive(port, epoch, wire_len, packet, obs)
            }
            Event::Wire(port) => {
                let core = &mut self.core;
                let wire = &mut core.wires[port.link.0 as usize][port.side as usize];
                let f = wire.pop().expect("a wire's event has its packet");
                if let Some((at, ticket)) = wire.head() {
                    core.queue.schedule_ticket(at, ticket, Event::Wire(port));
                }
                self.arrive(port, f.epoch, f.wire_len, f.packet, obs);
            }
            Event::Loopback { node, packet } => self.core.deliver(node, packet, obs),
            Event::RouteChange(i) => self.core.route_change(i as usize, obs),
            Event::LinkChange(i) => self.core.link_change(i as usize, obs),
            Event::AppStart(i) => self.with_app(i, obs, |app, ctx| app.start(ctx)),
            Event::AppTimer { app, token } => self.with_app(app, obs, |a, ctx| a.timer(ctx, token)),
            Event::Netstat => {
                for i in 0..self.core.stacks.len() {
                    self.core.netstat(NodeId(i as u32), obs);
                }
            }
            Event::Sample => {
                // Every host is reported once t = 0 is over, with what its apps opened then.
                for i in 0..self.core.stacks.len() {
                    if self.core.stacks[i].is_some() {
                        self.core.counts_changed(NodeId(i as u32));
                    }
                }
            }
            Event::Tcp { node, wakeup } => {
                let core = &mut self.core;
                let now = core.queue.now();
                core.tcp_wakeups[node as usize].fired(wakeup);
                if let Some(Some(stack)) = core.stacks.get_mut(node as usize) {
                    stack.wakeup(now, wakeup, &mut core.tcp_out);
                }
                core.flush_tcp(NodeId(node), obs);
            }
        }
    }

    fn with_app(
        &mut self,
        app: u32,
        obs: &mut dyn Observer,
        f: impl FnOnce(&mut dyn App, &mut AppCtx<'_>),
    ) {
        let host = self.core.app_hosts[app as usize];
        let mut ctx = AppCtx {
            core: &mut self.core,
            obs,
            app: AppId(app),
            host,
        };
        f(self.apps[app as usize].as_mut(), &mut ctx);
    }

    /// A packet of IP total length `wire_len` reaches the far end of `port`'s link.
    fn arrive(
        &mut self,
        port: Port,
        epoch: u32,
        wire_len: usize,
        mut packet: Box<Packet>,
        obs: &mut dyn Observer,
    ) {
        let core = &mut self.core;
        let now = core.queue.now();
        let link = &core.net.links[port.link.0 as usize];
        let node = link.far_end(port.side);
        if link.epoch() != epoch {
            core.report(
                obs,
                PacketEventKind::Drop(DropReason::LinkDown),
                node,
                &packet,
            );
            return;
        }
        match core.net.arrive(node, &mut packet, now) {
            Verdict::Local => core.deliver(node, packet, obs),
            Verdict::Forward(out) => {
                packet.meta.hops = packet.meta.hops.saturating_add(1);
                if core.hops {
                    core.report(obs, PacketEventKind::Forward, node, &packet);
                }
                core.transmit(obs, node, out, wire_len, packet);
            }
            Verdict::TtlExpired => {
                core.report(obs, PacketEventKind::TtlExpired, node, &packet);
                core.time_exceeded(obs, node, &packet);
            }
            Verdict::NoRoute => core.drop(obs, node, &packet, DropReason::NoRoute),
            Verdict::Blackhole => core.drop(obs, node, &packet, DropReason::Blackhole),
            Verdict::NotForwarding => core.drop(obs, node, &packet, DropReason::NotForwarding),
        }
    }
}

impl Core {
    /// A packet reached the host (or router) it is addressed to.
    fn deliver(&mut self, node: NodeId, mut packet: Box<Packet>, obs: &mut dyn Observer) {
        if self.net.node(node).kind == NodeKind::Router {
            self.drop(obs, node, &packet, DropReason::ToRouter);
            return;
        }
        self.report(obs, PacketEventKind::Deliver, node, &packet);
        let now = self.queue.now();
        if let Body::Tcp(seg) = &mut packet.body {
            // Provenance the audit reports if these bytes turn out to be foreign.
            seg.tag.arrived_at = now;
            seg.tag.ttl_left = packet.ttl;
            if let Some(Some(stack)) = self.stacks.get_mut(node.0 as usize) {
                stack.segment_in(now, packet.src, packet.dst, seg, &mut self.tcp_out);
            }
            self.flush_tcp(node, obs);
        }
        if let Body::Tcp(seg) = &mut packet.body
            && self.packet_pool.len() < PACKET_POOL
        {
            // What the segment holds goes now, as it would have with the packet.
            seg.payload = Payload::default();
            seg.sack = None;
            self.packet_pool.push(packet);
        }
    }

    /// A packet `node` sends from `src` to `dst` carrying `segment`, in a box: an emptied one
    /// from the pool (its segment's box goes back to TCP's spares), or a new one.
    fn tcp_packet(
        &mut self,
        node: NodeId,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        mut segment: Box<crate::tcp::Segment>,
    ) -> Box<Packet> {
        let Some(mut p) = self.packet_pool.pop() else {
            return Box::new(Packet {
                src,
                dst,
                ttl: self.default_ttl,
                ip_id: 0,
                body: Body::Tcp(segment),
                ttl_clock: SimTime::ZERO,
                meta: placeholder_provenance(node),
            });
        };
        let Body::Tcp(seg) = &mut p.body else {
            unreachable!("the pool holds TCP packets only")
        };
        std::mem::swap(seg, &mut segment);
        self.tcp_out.spare.push(segment);
        p.src = src;
        p.dst = dst;
        p.ttl = self.default_ttl;
        p.ip_id = 0;
        p.ttl_clock = SimTime::ZERO;
        p.meta = placeholder_provenance(node);
        p
    }

    /// Acts on what a TCP call produced: sends its segments, schedules its wakeups, logs,
    /// and queues its socket events for the applications.
    fn flush_tcp(&mut self, node: NodeId, obs: &mut dyn Observer) {
        if self.tcp_out.is_empty() {
            return;
        }
        let now = self.queue.now();
        self.tcp_wakeups[node.0 as usize].schedule(&mut self.tcp_out, &mut self.queue, |wakeup| {
            Event::Tcp {
                node: node.0,
                wakeup,
            }
        });
        // Each list is looked at only when it holds something: most calls fill one or two.
        if !self.tcp_out.log.is_empty() {
            let mut changed = false;
            for log in &self.tcp_out.log {
                changed |= matches!(log, TcpLog::State(_));
                obs.tcp(&self.net, now, node, log);
            }
            self.tcp_out.log.clear();
            if changed {
                self.counts_changed(node);
            }
            if changed && self.observe.netstat_on_change {
                self.netstat(node, obs);
            }
        }
        if !self.tcp_out.events.is_empty() {
            for &e in &self.tcp_out.events {
                self.pending.push_back(e);
            }
            self.tcp_out.events.clear();
        }
        if self.tcp_out.segments.is_empty() {
            return;
        }
        // Only the list is moved out (sending needs `self`), not the whole output.
        let mut segments = std::mem::take(&mut self.tcp_out.segments);
        for o in segments.drain(..) {
            let (src, dst) = (*o.tuple.local.ip(), *o.tuple.remote.ip());
            let packet = self.tcp_packet(node, src, dst, o.segment);
            self.originate(obs, node, packet);
        }
        self.tcp_out.segments = segments;
    }

    /// Notes that `node`'s socket counts may have changed now (a state change, a listener
    /// opened or closed), to be reported once this instant is over.
    fn counts_changed(&mut self, node: NodeId) {
        if !self.observe.counts {
            return;
        }
        self.dirty_at = self.queue.now();
        if !self.dirty.contains(&node.0) {
            self.dirty.push(node.0);
        }
    }

    /// Reports the counts of the hosts whose sockets changed state at `dirty_at`, in host
    /// order, each only if its counts differ from the last reported (several changes at one
    /// instant are reported once, with their final value).
    fn report_counts(&mut self, obs: &mut dyn Observer) {
        self.dirty.sort_unstable();
        for node in std::mem::take(&mut self.dirty) {
            let Some(Some(stack)) = self.stacks.get(node as usize) else {
                continue;
            };
            let c = stack.state_counts();
            if self.counted[node as usize] != Some(c) {
                obs.counts(&self.net, self.dirty_at, NodeId(node), &c);
                self.counted[node as usize] = Some(c);
            }
        }
    }

    /// Reports a host's socket table.
    fn netstat(&self, node: NodeId, obs: &mut dyn Observer) {
        if let Some(Some(stack)) = self.stacks.get(node.0 as usize) {
            let now = self.queue.now();
            obs.netstat(&self.net, now, node, &stack.netstat(now));
        }
    }

    fn report(&self, obs: &mut dyn Observer, kind: PacketEventKind, node: NodeId, packet: &Packet) {
        obs.packet(
            &self.net,
            &PacketEvent {
                time: self.queue.now(),
                kind,
                node,
                packet,
            },
        );
    }

    fn drop(&self, obs: &mut dyn Observer, node: NodeId, packet: &Packet, why: DropReason) {
        self.report(obs, PacketEventKind::Drop(why), node, packet);
    }

    fn next_packet_id(&mut self) -> u64 {
        self.stats.packets += 1;
        self.stats.packets
    }

    /// Sends a packet a node originates: stamps provenance and routes it.
    fn originate(&mut self, obs: &mut dyn Observer, node: NodeId, mut packet: Box<Packet>) {
        let now = self.queue.now();
        let ip_id = &mut self.ip_ids[node.0 as usize];
        *ip_id = ip_id.wrapping_add(1);
        packet.ip_id = *ip_id;
        packet.ttl_clock = now;
        packet.meta = Provenance {
            id: self.next_packet_id(),
            sent_at: now,
            sender: node,
            copy_of: None,
            hops: 0,
        };
        if let Body::Tcp(seg) = &mut packet.body {
            seg.tag.packet = packet.meta.id;
            seg.tag.sent_at = now;
        }
        match self.net.originate(node, &packet) {
            Verdict::Forward(port) => {
                self.report(obs, PacketEventKind::Send, node, &packet);
                let wire_len = packet.wire_len();
                self.transmit(obs, node, port, wire_len, packet);
            }
            Verdict::Local => {
                self.report(obs, PacketEventKind::Send, node, &packet);
                // Loopback is a FIFO that handles one packet per LOOPBACK_COST, so a host
                // talking to itself moves a bounded number of bytes per simulated second.
                let free = &mut self.loopback_free[node.0 as usize];
                let at = (*free).max(self.queue.now()) + LOOPBACK_COST;
                *free = at;
                self.queue.schedule(at, Event::Loopback { node, packet });
            }
            Verdict::Blackhole => self.drop(obs, node, &packet, DropReason::Blackhole),
            _ => self.drop(obs, node, &packet, DropReason::NoRoute),
        }
    }

    /// Offers a packet of IP total length `wire_len` to a link and schedules its arrival (and
    /// any duplicate's).
    fn transmit(
        &mut self,
        obs: &mut dyn Observer,
        node: NodeId,
        port: Port,
        wire_len: usize,
        packet: Box<Packet>,
    ) {
        debug_assert_eq!(wire_len, packet.wire_len());
        let now = self.queue.now();
        let mut extra = Duration::ZERO;
        let mut copy_after = None;
        if !self.faults.is_empty()
            && let Some(f) = self
                .faults
                .iter_mut()
                .find_map(|f| f.take(port, now, &packet).then_some(f.action))
        {
            match f {
                FaultAction::Drop => {
                    self.drop(obs, node, &packet, DropReason::Fault);
                    return;
                }
                FaultAction::Delay(d) => extra = d,
                FaultAction::Duplicate(d) => copy_after = Some(d),
            }
        }
        let link = self.net.link_mut(port.link);
        let epoch = link.epoch();
        match link.transmit(port.side, now, wire_len) {
            Ok(mut tx) => {
                if self.hops {
                    obs.link(&self.net, now, port, &packet);
                }
                tx.arrival += extra;
                if let Some(d) = copy_after {
                    tx.duplicate = Some(tx.arrival + d);
                }
                if let Some(at) = tx.duplicate {
                    let mut copy = packet.clone();
                    copy.meta.copy_of = Some(packet.meta.id);
                    copy.meta.id = self.next_packet_id();
                    if let Body::Tcp(seg) = &mut copy.body {
                        seg.tag.packet = copy.meta.id;
                    }
                    self.report(obs, PacketEventKind::Duplicate, node, &copy);
                    if self.hops {
                        obs.link(&self.net, now, port, &copy);
                    }
                    self.launch(port, at, epoch, wire_len, copy);
                }
                self.launch(port, tx.arrival, epoch, wire_len, packet);
            }
            Err(why) => self.drop(obs, node, &packet, why.into()),
        }
    }

    /// Puts a packet on a link's wire, to reach the far end at `at`.
    fn launch(
        &mut self,
        port: Port,
        at: SimTime,
        epoch: u32,
        wire_len: usize,
        packet: Box<Packet>,
    ) {
        let ticket = self.queue.ticket();
        let wire = &mut self.wires[port.link.0 as usize][port.side as usize];
        if !wire.takes(at, ticket) {
            let event = Event::Arrive {
                port,
                epoch,
                packet,
            };
            self.queue.schedule_ticket(at, ticket, event);
            return;
        }
        let f = InFlight {
            at,
            ticket,
            epoch,
            wire_len,
            packet,
        };
        if wire.push(f) {
            self.queue.schedule_ticket(at, ticket, Event::Wire(port));
        }
    }

    /// ICMP time exceeded back to the source, if this router sends them (never about ICMP).
    fn time_exceeded(&mut self, obs: &mut dyn Observer, router: NodeId, dead: &Packet) {
        let node = self.net.node(router);
        if !node.icmp_time_exceeded || matches!(dead.body, Body::Icmp(_)) {
            return;
        }
        let Some(&src) = node.addrs.first() else {
            return;
        };
        let packet = Packet {
            src,
            dst: dead.src,
            ttl: self.default_ttl,
            ip_id: 0,
            body: Body::Icmp(Icmp::TimeExceeded(dead.quote())),
            ttl_clock: SimTime::ZERO,
            meta: placeholder_provenance(router),
        };
        self.originate(obs, router, Box::new(packet));
    }

    fn route_change(&mut self, i: usize, obs: &mut dyn Observer) {
        let c = self.route_changes[i];
        let note = match c.target {
            RouteTarget::Via(n) => format!("{} via {}", c.prefix, self.net.node(n).name),
            RouteTarget::Drop => format!("{} blackhole", c.prefix),
            RouteTarget::Remove => format!("{} removed", c.prefix),
        };
        // The scenario layer checked the neighbour; a failure here leaves the table unchanged.
        let _ = apply_route(&mut self.net, c.node, c.prefix, c.target);
        obs.network(
            &self.net,
            &NetworkEvent {
                time: self.queue.now(),
                node: c.node,
                kind: "route_change",
                note,
            },
        );
    }

    fn link_change(&mut self, i: usize, obs: &mut dyn Observer) {
        let c = self.link_changes[i];
        let now = self.queue.now();
        let link = self.net.link_mut(c.link);
        link.set_up(c.up, now);
        let ends = link.ends;
        let note = format!(
            "{} - {}",
            self.net.node(ends[0]).name,
            self.net.node(ends[1]).name
        );
        obs.network(
            &self.net,
            &NetworkEvent {
                time: now,
                node: ends[0],
                kind: if c.up { "link_up" } else { "link_down" },
                note,
            },
        );
    }
}

fn placeholder_provenance(sender: NodeId) -> Provenance {
    Provenance {
        id: 0,
        sent_at: SimTime::ZERO,
        sender,
        copy_of: None,
        hops: 0,
    }
}

fn apply_route(
    net: &mut Network,
    node: NodeId,
    prefix: crate::net::Prefix,
    target: RouteTarget,
) -> Result<(), ConfigError> {
    let next = match target {
        RouteTarget::Via(n) => NextHop::Port(net.port_towards(node, n).ok_or_else(|| {
            ConfigError(format!(
                "{} has no link to {}",
                net.node(node).name,
                net.node(n).name
            ))
        })?),
        RouteTarget::Drop => NextHop::Drop,
        RouteTarget::Remove => {
            net.nodes[node.0 as usize].routes.remove(prefix);
            return Ok(());
        }
    };
    net.nodes[node.0 as usize].routes.set(prefix, next);
    Ok(())
}

/// What an application may do, on the host it runs on.
pub struct AppCtx<'a> {
    core: &'a mut Core,
    obs: &'a mut dyn Observer,
    app: AppId,
    host: NodeId,
}

impl AppCtx<'_> {
    /// The simulation clock.
    pub fn now(&self) -> SimTime {
        self.core.queue.now()
    }

    /// The host this app runs on.
    pub fn host(&self) -> NodeId {
        self.host
    }

    /// The host's first address.
    pub fn addr(&self) -> Ipv4Addr {
        self.core
            .net
            .node(self.host)
            .addrs
            .first()
            .copied()
            .unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    /// Calls the app's `timer(token)` after `delay`; the id can cancel it.
    pub fn set_timer_after(&mut self, delay: Duration, token: u64) -> crate::sim::TimerId {
        let at = self.now() + delay;
        self.core.queue.schedule(
            at,
            Event::AppTimer {
                app: self.app.0,
                token,
            },
        )
    }

    /// Cancels a timer set with [`AppCtx::set_timer_after`] (no effect once it has fired).
    pub fn cancel_timer(&mut self, id: crate::sim::TimerId) {
        self.core.queue.cancel(id);
    }

    fn stack(&mut self) -> Option<&mut Stack> {
        self.core.stacks.get_mut(self.host.0 as usize)?.as_mut()
    }

    /// Runs a call on this host's TCP and acts on what it produced.
    fn with_tcp<T>(
        &mut self,
        f: impl FnOnce(&mut Stack, SimTime, u32, &mut Output) -> T,
    ) -> Option<T> {
        let now = self.now();
        let owner = self.app.0;
        let core = &mut *self.core;
        let stack = core.stacks.get_mut(self.host.0 as usize)?.as_mut()?;
        let r = f(stack, now, owner, &mut core.tcp_out);
        core.flush_tcp(self.host, self.obs);
        Some(r)
    }

    /// listen() on `port` of every address of this host; returns the listener id.
    pub fn listen(&mut self, port: u16, backlog: u32) -> Result<u32, ConnectError> {
        let local = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
        let r = self
            .with_tcp(|s, _, owner, _| s.listen(local, backlog, owner))
            .unwrap_or(Err(ConnectError::AddrNotAvailable));
        self.core.counts_changed(self.host);
        r
    }

    /// accept(): the next connection waiting on `listener`, now owned by this app.
    pub fn accept(&mut self, listener: u32) -> Option<SocketHandle> {
        let owner = self.app.0;
        self.stack()?.accept(listener, owner)
    }

    /// connect() to `remote`, from `local_port` or an ephemeral port.
    pub fn connect(
        &mut self,
        remote: SocketAddrV4,
        local_port: Option<u16>,
    ) -> Result<SocketHandle, ConnectError> {
        self.with_tcp(|s, now, owner, out| s.connect(now, local_port, remote, owner, out))
            .unwrap_or(Err(ConnectError::AddrNotAvailable))
    }

    /// send(): how many bytes the send buffer took.
    pub fn send(&mut self, h: SocketHandle, data: &Payload) -> usize {
        self.with_tcp(|s, now, _, out| s.send(now, h, data, out))
            .unwrap_or(0)
    }

    /// recv(): up to `max` bytes.
    pub fn recv(&mut self, h: SocketHandle, max: usize) -> Payload {
        self.with_tcp(|s, now, _, out| s.recv(now, h, max, out))
            .unwrap_or_default()
    }

    /// close().
    pub fn close(&mut self, h: SocketHandle) {
        self.with_tcp(|s, now, _, out| s.close(now, h, out));
    }

    /// shutdown(SHUT_WR).
    pub fn shutdown(&mut self, h: SocketHandle) {
        self.with_tcp(|s, now, _, out| s.shutdown(now, h, out));
    }

    /// Abortive close: RST.
    pub fn abort(&mut self, h: SocketHandle) {
        self.with_tcp(|s, now, _, out| s.abort(now, h, out));
    }

    /// Closes a listener (its unaccepted connections are reset).
    pub fn close_listener(&mut self, listener: u32) {
        self.with_tcp(|s, now, _, out| s.close_listener(now, listener, out));
        self.core.counts_changed(self.host);
    }

    /// A socket's current state, if it still exists.
    pub fn socket(&self, h: SocketHandle) -> Option<&Socket> {
        self.core
            .stacks
            .get(self.host.0 as usize)?
            .as_ref()?
            .socket(h)
    }

    /// Records a message in the app's own words (curl's error, a request served).
    pub fn note(&mut self, message: &str) {
        let now = self.now();
        self.obs
            .app(&self.core.net, now, self.host, self.app.0, message);
    }

    /// Reports what an attempt came to, for counting (next to the note that says it in words).
    pub fn outcome(&mut self, outcome: AppOutcome) {
        let now = self.now();
        self.obs
            .outcome(&self.core.net, now, self.host, self.app.0, &outcome);
    }

    /// Sends a datagram of `len` payload bytes; `ttl` overrides the network default.
    pub fn send_datagram(
        &mut self,
        to: Ipv4Addr,
        src_port: u16,
        dst_port: u16,
        len: u32,
        seq: u64,
        ttl: Option<u8>,
    ) {
        let packet = Packet {
            src: self.addr(),
            dst: to,
            ttl: ttl.unwrap_or(self.core.default_ttl),
            ip_id: 0,
            body: Body::Udp(Datagram {
                src_port,
                dst_port,
                len,
                seq,
            }),
            ttl_clock: SimTime::ZERO,
            meta: placeholder_provenance(self.host),
        };
        self.core.originate(self.obs, self.host, Box::new(packet));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_small_whatever_it_carries() {
        // The queue moves every event in and out of its slab: packets ride in boxes.
        assert!(std::mem::size_of::<Event>() <= 32);
    }
}
