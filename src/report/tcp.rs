//! TCP's part of a run's report: `states.csv`, `connections.csv`, incarnation numbers, and the
//! audit's sentences (corruptions, lost duplicates, TIME_WAIT).

use super::plural;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddrV4;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::meter::Meter;
use super::records::{Record, RecordFile};
use super::row::Row;
use crate::net::{Body, Network, NodeId, Packet};
use crate::sim::{Duration, SimTime};
use crate::tcp::{
    ConnId, ConnRecord, Corruption, FourTuple, ListenDropKind, State, TcpLog, Transition,
};
use crate::world::{PacketEvent, PacketEventKind};

/// Column names of `states.csv`.
pub const STATE_COLUMNS: [&str; 9] = [
    "time",
    "host",
    "conn",
    "local",
    "remote",
    "incarnation",
    "from",
    "to",
    "cause",
];

/// A connection that wrote at least this much gets a `Transfer:` line in the summary.
const BULK_BYTES: u64 = 1 << 20;
/// `Transfer:` lines at most.
const MAX_TRANSFERS: usize = 8;

/// Column names of `connections.csv`.
pub const CONNECTION_COLUMNS: [&str; 17] = [
    "host",
    "conn",
    "incarnation",
    "role",
    "local",
    "remote",
    "iss",
    "irs",
    "opened",
    "established",
    "released",
    "bytes_written",
    "bytes_delivered",
    "bytes_corrupted",
    "retransmissions",
    "final_state",
    "error",
];

/// A row of `states.csv`.
struct StateRow {
    time: SimTime,
    host: u32,
    incarnation: u32,
    t: Transition,
}

impl Record for StateRow {
    fn write(&self, row: &mut Row, hosts: &[String]) {
        let t = &self.t;
        row.nanos(self.time.as_nanos());
        row.host(hosts, self.host);
        row.conn(hosts, t.conn);
        row.socket(t.tuple.local);
        row.socket(t.tuple.remote);
        row.uint(u64::from(self.incarnation));
        row.text(t.from.name());
        row.text(t.to.name());
        row.text(t.cause);
    }
}

/// A row of `connections.csv`.
struct ConnectionRow {
    host: u32,
    incarnation: u32,
    r: ConnRecord,
}

impl Record for ConnectionRow {
    fn write(&self, row: &mut Row, hosts: &[String]) {
        let r = &self.r;
        row.host(hosts, self.host);
        row.conn(hosts, r.conn);
        row.uint(u64::from(self.incarnation));
        row.text(if r.active { "active" } else { "passive" });
        row.socket(r.tuple.local);
        row.socket(r.tuple.remote);
        row.uint(u64::from(r.iss.0));
        match r.irs {
            Some(irs) => row.uint(u64::from(irs.0)),
            None => row.empty(),
        }
        row.nanos(r.opened_at.as_nanos());
        row.opt_nanos(r.established_at.map(SimTime::as_nanos));
        row.nanos(r.closed_at.as_nanos());
        row.uint(r.bytes_written);
        row.uint(r.bytes_delivered);
        row.uint(r.bytes_corrupted);
        row.uint(u64::from(r.retransmissions));
        row.text(r.final_state.name());
        row.text(r.error.map_or("", |e| e.name()));
    }
}

/// A segment of a connection that had already ended when it arrived.
#[derive(Clone, Copy, Debug)]
struct LostDuplicate {
    packet: u64,
    sender: ConnId,
    receiver_host: NodeId,
    offset: u64,
    len: usize,
    /// The sender's incarnation number.
    incarnation: u32,
    sent_at: SimTime,
    arrived: SimTime,
    ttl_left: u8,
    /// The incarnation number of the receiving host's connection for that 4-tuple when it
    /// arrived, if any.
    met: Option<u32>,
    /// Whether that 4-tuple was in TIME_WAIT there.
    met_time_wait: bool,
}

/// What TCP did, gathered for the files and the summary.
#[derive(Default)]
pub struct TcpTally {
    states: Option<RecordFile<StateRow>>,
    connections: Option<RecordFile<ConnectionRow>>,
    /// What is known of each (host, 4-tuple): one lookup serves every question. Bounded by the
    /// 4-tuples a run can form (ports x peers), not by the connections made.
    tuples: FxHashMap<(u32, FourTuple), TupleLog>,
    /// Connections that may still be named, and no others (see [`ConnLog`]).
    conns: FxHashMap<ConnId, ConnLog>,
    /// The connection forgotten last, for the one question that may follow its final entry
    /// (the figures' model asks for its incarnation right after the tally has seen it).
    last_retired: Option<(ConnId, u32)>,
    /// `conns` is swept of connections nothing can name any more once it grows to this size.
    sweep_at: usize,
    /// Host of each address, for finding a connection's peer.
    addr_hosts: FxHashMap<std::net::Ipv4Addr, u32>,
    /// Per host: connections opened actively and passively.
    opened: Vec<(u64, u64)>,
    /// Per host: connections released, of them completed (established, then closed without an
    /// error), and their bytes written and delivered.
    traffic: Vec<Traffic>,
    errors: BTreeMap<(u32, &'static str), u64>,
    /// The first corruptions, with the receiver's and the origin's incarnation numbers.
    corruptions: Vec<(Corruption, u32, u32)>,
    corrupted_bytes: u64,
    lost_duplicates: Vec<LostDuplicate>,
    lost_duplicate_count: u64,
    /// The longest time in the network of any lost duplicate (listed or not).
    lost_duplicate_longest: Option<Duration>,
    /// TCP data segments that died of TTL expiry: how many, and their least and greatest
    /// time in the network.
    tcp_ttl_deaths: (u64, Duration, Duration),
    /// Per host: TIME_WAIT entered, ended by cause.
    time_wait: Vec<TimeWaitTally>,
    /// Sockets held per state and host, now and at most.
    occupancy: Occupancy,
    tw_overflows: u64,
    /// The first [`MAX_TRANSFERS`] connections that wrote at least [`BULK_BYTES`], for the
    /// summary's throughput lines.
    transfers: Vec<ConnRecord>,
    /// Handshake segments listeners dropped, by (host, listener, why): count, first, last.
    listen_drops: BTreeMap<(u32, SocketAddrV4, ListenDropKind), NoteTally>,
    max_incarnation: u32,
    /// Application messages by (host, app), then text.
    notes: BTreeMap<(u32, u32), BTreeMap<String, NoteTally>>,
    /// Time spent in a state before leaving it, by (host, state, next state, cause).
    dwell: FxHashMap<(u32, State, State, &'static str), Dwell>,
}

/// How often an application said one thing: count, first and last time.
type NoteTally = (u64, SimTime, SimTime);

/// How long connections stayed in a state before leaving it one particular way.
#[derive(Clone, Copy)]
struct Dwell {
    count: u64,
    min: Duration,
    max: Duration,
    first_left: SimTime,
}

/// One host's connections and bytes, counted as each full socket is released.
#[derive(Default, Clone, Copy)]
struct Traffic {
    released: u64,
    completed: u64,
    written: u64,
    delivered: u64,
}

#[derive(Default, Clone)]
struct TimeWaitTally {
    /// Entries that held a TIME_WAIT record.
    entered: u64,
    ended: BTreeMap<&'static str, u64>,
    /// Closes that skipped TIME_WAIT, by cause (`time_wait = 0s`, table full).
    skipped: BTreeMap<&'static str, u64>,
}

/// How many of something are held now and the most ever held at once: exact, since it moves on
/// every entry and exit rather than being sampled.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gauge {
    /// Held now.
    pub held: u64,
    /// Most held at once.
    pub peak: u64,
    /// When that peak was first reached.
    pub peak_at: SimTime,
    /// The peak before the last `up` raised it, for `retract`.
    before: Option<(u64, SimTime)>,
}

impl Gauge {
    /// One more held from `time`.
    pub fn up(&mut self, time: SimTime) {
        self.held += 1;
        if self.held > self.peak {
            self.before = Some((self.peak, self.peak_at));
            self.peak = self.held;
            self.peak_at = time;
        } else {
            self.before = None;
        }
    }

    /// One fewer held.
    pub fn down(&mut self) {
        self.held = self.held.saturating_sub(1);
        self.before = None;
    }

    /// Takes back the last `up`, peak included, as if it had never happened.
    pub fn retract(&mut self) {
        self.held = self.held.saturating_sub(1);
        if let Some((peak, at)) = self.before.take() {
            self.peak = peak;
            self.peak_at = at;
        }
    }
}

/// Sockets in each TCP state (TIME_WAIT: records in the TIME_WAIT table), per host and over
/// all hosts, now and at most at once; moved by every state transition.
#[derive(Default)]
pub struct Occupancy {
    hosts: Vec<[Gauge; 11]>,
    all: [Gauge; 11],
}

/// A state's place in [`State::ALL`].
fn state_index(s: State) -> usize {
    s as usize
}

impl Occupancy {
    fn transition(&mut self, time: SimTime, host: u32, from: State, to: State, cause: &str) {
        let skipped = from == State::TimeWait && time_wait_skipped(cause);
        let gauges = per_host(&mut self.hosts, host);
        if from != State::Closed {
            let i = state_index(from);
            if skipped {
                gauges[i].retract();
                self.all[i].retract();
            } else {
                gauges[i].down();
                self.all[i].down();
            }
        }
        if to != State::Closed {
            let i = state_index(to);
            gauges[i].up(time);
            self.all[i].up(time);
        }
    }

    /// `state` on host `host` (node index).
    pub fn host(&self, host: u32, state: State) -> Gauge {
        self.hosts
            .get(host as usize)
            .map(|g| g[state_index(state)])
            .unwrap_or_default()
    }

    /// `state` summed over all hosts (its peak is the most held at once in total, not the sum
    /// of the hosts' peaks).
    pub fn all(&self, state: State) -> Gauge {
        self.all[state_index(state)]
    }
}

/// Whether a TIME_WAIT -> CLOSED transition is one the host skipped the moment the socket
/// entered TIME_WAIT (`time_wait = 0s`, or the table full): no record was ever held.
fn time_wait_skipped(cause: &str) -> bool {
    cause == crate::tcp::TW_SKIPPED_ZERO || cause == crate::tcp::TW_SKIPPED_FULL
}

/// One incarnation, for as long as something may still name it: while it holds a socket or
/// has not reached CLOSED, while a segment it sent is in the network, or while a full socket
/// on its peer's side of the 4-tuple is open (it may hold the segment's bytes, out of order,
/// and report them as corrupted later). Then it is forgotten, so memory follows live state.
struct ConnLog {
    incarnation: u32,
    tuple: FourTuple,
    /// Its full socket is held (from opening until released).
    socket: bool,
    /// It has not yet reached CLOSED (TIME_WAIT included).
    open: bool,
    /// Payload-carrying packets it sent that have not yet been delivered, dropped or expired.
    in_flight: u32,
}

/// One (host, 4-tuple)'s history, in 12 bytes: a run may form hundreds of thousands.
#[derive(Default)]
struct TupleLog {
    /// Incarnations seen.
    incarnations: u32,
    /// The number (`ConnId.n` on this host) of the connection whose full socket holds it
    /// now; 0 for none (numbers start at 1).
    live: u32,
    /// Held in TIME_WAIT now.
    time_wait: bool,
}

impl TupleLog {
    /// The connection on `host` whose full socket holds this 4-tuple now.
    fn live(&self, host: u32) -> Option<ConnId> {
        (self.live != 0).then_some(ConnId { host, n: self.live })
    }
}

/// The entry for `host`, growing the vector as hosts appear.
fn per_host<T: Default>(v: &mut Vec<T>, host: u32) -> &mut T {
    let i = host as usize;
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}

/// Keeps the first `CAP` examples of something that may happen millions of times.
const CAP: usize = 20;

impl TcpTally {
    /// A tally that writes `states.csv` and/or `connections.csv` into `dir`.
    pub fn new(
        dir: Option<&Path>,
        states: bool,
        connections: bool,
        meter: &Meter,
        hosts: &Arc<[String]>,
    ) -> io::Result<TcpTally> {
        let mut t = TcpTally::default();
        if let Some(d) = dir {
            if states {
                t.states = Some(RecordFile::create(
                    &d.join("states.csv"),
                    &STATE_COLUMNS,
                    meter,
                    hosts.clone(),
                )?);
            }
            if connections {
                t.connections = Some(RecordFile::create(
                    &d.join("connections.csv"),
                    &CONNECTION_COLUMNS,
                    meter,
                    hosts.clone(),
                )?);
            }
        }
        Ok(t)
    }

    /// The incarnation number of a connection on its host (1 for the first use of a 4-tuple),
    /// asked while the connection may still be named: at any of its TCP log entries, or of a
    /// segment it sent (1 for a connection long gone, or the stateless RST's number 0).
    pub fn incarnation(&self, conn: ConnId) -> u32 {
        match self.conns.get(&conn) {
            Some(c) => c.incarnation,
            None => match self.last_retired {
                Some((c, n)) if c == conn => n,
                _ => 1,
            },
        }
    }

    /// Bytes delivered from the wrong incarnation, in total.
    pub fn corrupted_bytes(&self) -> u64 {
        self.corrupted_bytes
    }

    /// Lost duplicates that reached a host after their connection had ended.
    pub fn lost_duplicates(&self) -> u64 {
        self.lost_duplicate_count
    }

    /// The longest time in the network of a lost duplicate, if any arrived.
    pub fn longest_lost_duplicate(&self) -> Option<Duration> {
        self.lost_duplicate_longest
    }

    /// Sockets held per state and host, now and at most at once.
    pub fn occupancy(&self) -> &Occupancy {
        &self.occupancy
    }

    /// Whether `conn`'s full socket is held.
    fn is_live(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.socket)
    }

    /// Whether a full socket on the far side of `tuple` (seen from `host`) is open: it may
    /// hold bytes that `host`'s connection on `tuple` sent.
    fn peer_holds(&self, tuple: &FourTuple) -> bool {
        let Some(&peer) = self.addr_hosts.get(tuple.remote.ip()) else {
            return false;
        };
        let back = FourTuple {
            local: tuple.remote,
            remote: tuple.local,
        };
        self.tuples.get(&(peer, back)).is_some_and(|e| e.live != 0)
    }

    /// Forgets `conn` if nothing can name it any more; otherwise a later sweep will.
    fn maybe_retire(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.socket || c.open || c.in_flight > 0 || self.peer_holds(&c.tuple) {
            return;
        }
        self.last_retired = Some((conn, c.incarnation));
        self.conns.remove(&conn);
        if self.conns.len() >= self.sweep_at {
            self.sweep();
        }
    }

    /// Forgets every connection nothing can name any more. Run when `conns` has doubled since
    /// the last sweep, so its cost per connection stays constant.
    fn sweep(&mut self) {
        let done: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| !c.socket && !c.open && c.in_flight == 0 && !self.peer_holds(&c.tuple))
            .map(|(id, _)| *id)
            .collect();
        // Removal order cannot change what remains, so hash order is harmless here.
        for id in done {
            self.conns.remove(&id);
        }
        self.sweep_at = (2 * self.conns.len()).max(1024);
    }

    /// Records one TCP log entry.
    pub fn log(
        &mut self,
        net: &Network,
        time: SimTime,
        node: NodeId,
        log: &TcpLog,
    ) -> io::Result<()> {
        if self.addr_hosts.is_empty() {
            for (i, n) in net.nodes.iter().enumerate() {
                for a in &n.addrs {
                    self.addr_hosts.insert(*a, i as u32);
                }
            }
        }
        match log {
            // Written by the probe log alone.
            TcpLog::Probe(_) => {}
            TcpLog::State(t) => {
                if t.from == State::Closed {
                    let e = self.tuples.entry((node.0, t.tuple)).or_default();
                    e.incarnations += 1;
                    e.live = t.conn.n;
                    let n = e.incarnations;
                    self.max_incarnation = self.max_incarnation.max(n);
                    self.conns.insert(
                        t.conn,
                        ConnLog {
                            incarnation: n,
                            tuple: t.tuple,
                            socket: true,
                            open: true,
                            in_flight: 0,
                        },
                    );
                    let o = per_host(&mut self.opened, node.0);
                    if t.to == State::SynSent {
                        o.0 += 1;
                    } else {
                        o.1 += 1;
                    }
                }
                if t.to == State::TimeWait {
                    self.tuples.entry((node.0, t.tuple)).or_default().time_wait = true;
                    per_host(&mut self.time_wait, node.0).entered += 1;
                }
                if t.from == State::TimeWait {
                    if let Some(e) = self.tuples.get_mut(&(node.0, t.tuple)) {
                        e.time_wait = false;
                    }
                    let tw = per_host(&mut self.time_wait, node.0);
                    if time_wait_skipped(t.cause) {
                        // Never held: counted as skipped, not as entered.
                        tw.entered = tw.entered.saturating_sub(1);
                        *tw.skipped.entry(t.cause).or_default() += 1;
                    } else {
                        *tw.ended.entry(t.cause).or_default() += 1;
                    }
                }
                self.occupancy
                    .transition(time, node.0, t.from, t.to, t.cause);
                if matches!(
                    t.from,
                    State::SynSent
                        | State::SynReceived
                        | State::FinWait1
                        | State::FinWait2
                        | State::CloseWait
                        | State::Closing
                        | State::LastAck
                ) {
                    let d = self
                        .dwell
                        .entry((node.0, t.from, t.to, t.cause))
                        .or_insert(Dwell {
                            count: 0,
                            min: t.held,
                            max: t.held,
                            first_left: time,
                        });
                    d.count += 1;
                    d.min = d.min.min(t.held);
                    d.max = d.max.max(t.held);
                }
                if self.states.is_some() {
                    let row = StateRow {
                        time,
                        host: node.0,
                        incarnation: self.incarnation(t.conn),
                        t: *t,
                    };
                    if let Some(f) = &mut self.states {
                        f.push(row)?;
                    }
                }
                if t.to == State::Closed {
                    if let Some(c) = self.conns.get_mut(&t.conn) {
                        c.open = false;
                    }
                    self.maybe_retire(t.conn);
                }
            }
            TcpLog::Closed(r) => {
                let t = per_host(&mut self.traffic, node.0);
                t.released += 1;
                t.completed += u64::from(
                    r.established_at.is_some()
                        && r.error.is_none()
                        && matches!(r.final_state, State::Closed | State::TimeWait),
                );
                t.written += r.bytes_written;
                t.delivered += r.bytes_delivered;
                if let Some(c) = self.conns.get_mut(&r.conn) {
                    c.socket = false;
                }
                if let Some(e) = self.tuples.get_mut(&(node.0, r.tuple))
                    && e.live == r.conn.n
                {
                    e.live = 0;
                }
                if let Some(e) = r.error {
                    *self.errors.entry((node.0, e.name())).or_default() += 1;
                }
                if r.bytes_written >= BULK_BYTES && self.transfers.len() < MAX_TRANSFERS {
                    self.transfers.push(*r);
                }
                self.write_connection(node, r)?;
                self.maybe_retire(r.conn);
            }
            TcpLog::Corruption(c) => {
                self.corrupted_bytes += c.len as u64;
                if self.corruptions.len() < CAP {
                    let receiver = self.incarnation(c.receiver);
                    let origin = self.incarnation(c.origin.conn);
                    self.corruptions.push((*c, receiver, origin));
                }
            }
            TcpLog::TimeWaitOverflow(..) => self.tw_overflows += 1,
            TcpLog::ListenDrop { listener, why, .. } => {
                let e = self
                    .listen_drops
                    .entry((node.0, *listener, *why))
                    .or_insert((0, time, time));
                e.0 += 1;
                e.2 = time;
            }
        }
        Ok(())
    }

    fn write_connection(&mut self, node: NodeId, r: &ConnRecord) -> io::Result<()> {
        let incarnation = self.incarnation(r.conn);
        match &mut self.connections {
            Some(f) => f.push(ConnectionRow {
                host: node.0,
                incarnation,
                r: *r,
            }),
            None => Ok(()),
        }
    }

    /// Watches TCP packets for lost duplicates and TTL deaths.
    #[inline]
    pub fn packet(&mut self, ev: &PacketEvent<'_>) {
        // A router forwarding a packet changes nothing here (and the segment need not be read).
        if let PacketEventKind::Forward = ev.kind {
            return;
        }
        if let Body::Tcp(seg) = &ev.packet.body
            && !seg.payload.is_empty()
        {
            self.data_packet(ev, seg);
        }
    }

    /// [`TcpTally::packet`] for a segment that carries data: most events pass over none, so
    /// they are told apart where they are reported, without a call.
    fn data_packet(&mut self, ev: &PacketEvent<'_>, seg: &crate::tcp::Segment) {
        let p: &Packet = ev.packet;
        let sender = seg.tag.conn;
        if let PacketEventKind::Deliver = ev.kind
            && let Some(c) = self.conns.get_mut(&sender)
            && c.socket
        {
            // Nearly every delivery: to a live incarnation, whose sending socket still holds
            // it (one lookup).
            c.in_flight = c.in_flight.saturating_sub(1);
            return;
        }
        match ev.kind {
            PacketEventKind::Send | PacketEventKind::Duplicate => {
                if let Some(c) = self.conns.get_mut(&sender) {
                    c.in_flight += 1;
                }
                return;
            }
            PacketEventKind::Forward => return,
            PacketEventKind::Deliver if !self.is_live(sender) => {
                self.lost_duplicate_count += 1;
                let lived = ev.time - p.meta.sent_at;
                self.lost_duplicate_longest = self.lost_duplicate_longest.max(Some(lived));
                if self.lost_duplicates.len() < CAP {
                    let tuple = FourTuple {
                        local: std::net::SocketAddrV4::new(p.dst, seg.dst_port),
                        remote: std::net::SocketAddrV4::new(p.src, seg.src_port),
                    };
                    self.lost_duplicates.push(LostDuplicate {
                        packet: p.meta.id,
                        sender: seg.tag.conn,
                        receiver_host: ev.node,
                        offset: seg.tag.offset,
                        len: seg.payload.len(),
                        incarnation: self.incarnation(sender),
                        sent_at: p.meta.sent_at,
                        arrived: ev.time,
                        ttl_left: p.ttl,
                        met: self
                            .tuples
                            .get(&(ev.node.0, tuple))
                            .and_then(|e| e.live(ev.node.0))
                            .map(|c| self.incarnation(c)),
                        met_time_wait: self
                            .tuples
                            .get(&(ev.node.0, tuple))
                            .is_some_and(|e| e.time_wait),
                    });
                }
            }
            PacketEventKind::TtlExpired => {
                let lived = ev.time - p.meta.sent_at;
                let d = &mut self.tcp_ttl_deaths;
                *d = if d.0 == 0 {
                    (1, lived, lived)
                } else {
                    (d.0 + 1, d.1.min(lived), d.2.max(lived))
                };
            }
            _ => {}
        }
        // The packet has left the network: its sender may now be forgotten.
        if let Some(c) = self.conns.get_mut(&sender) {
            c.in_flight = c.in_flight.saturating_sub(1);
            if c.in_flight == 0 {
                self.maybe_retire(sender);
            }
        }
    }

    /// Records an application's message.
    pub fn note(&mut self, time: SimTime, node: NodeId, app: u32, message: &str) {
        let by_text = self.notes.entry((node.0, app)).or_default();
        // Looking up by &str first spares an allocation for every repeat.
        match by_text.get_mut(message) {
            Some(e) => {
                e.0 += 1;
                e.2 = time;
            }
            None => {
                by_text.insert(message.to_string(), (1, time, time));
            }
        }
    }

    /// Flushes the CSV files.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(w) = self.states.take() {
            w.finish()?;
        }
        if let Some(w) = self.connections.take() {
            w.finish()?;
        }
        Ok(())
    }

    /// The summary's sentences about TCP.
    pub fn render(&self, net: &Network, out: &mut String) {
        if self.opened.iter().all(|o| *o == (0, 0)) && self.notes.is_empty() {
            return;
        }
        let name = |h: u32| net.nodes.get(h as usize).map_or("?", |n| n.name.as_str());
        for (h, (active, passive)) in self.opened.iter().enumerate() {
            let h = &(h as u32);
            if (*active, *passive) == (0, 0) {
                continue;
            }
            let mut errs: Vec<String> = self
                .errors
                .iter()
                .filter(|((host, _), _)| host == h)
                .map(|((_, e), n)| format!("{n} {e}"))
                .collect();
            // The apps' own failures (curl exit codes, connect() and listen() errors) never
            // reach TCP's error count: a connect() refused for want of a port opens nothing.
            let mut app_fails: BTreeMap<String, u64> = BTreeMap::new();
            for ((host, _), by_text) in &self.notes {
                if host != h {
                    continue;
                }
                for (msg, (n, _, _)) in by_text {
                    if let Some(why) = app_failure(msg) {
                        *app_fails.entry(why).or_default() += n;
                    }
                }
            }
            if errs.is_empty() {
                errs.push(if app_fails.is_empty() {
                    "none failed".into()
                } else {
                    "none failed in TCP".into()
                });
            }
            let mut errs = vec![errs.join(", ")];
            if !app_fails.is_empty() {
                let total: u64 = app_fails.values().sum();
                let by: Vec<String> = app_fails
                    .iter()
                    .map(|(why, n)| format!("{n} x {why}"))
                    .collect();
                errs.push(format!(
                    "{total} application failure{}: {}",
                    plural(total),
                    by.join(", ")
                ));
            }
            let _ = writeln!(
                out,
                "TCP on {}: {active} connection{} opened actively, {passive} passively ({}).",
                name(*h),
                plural(*active),
                errs.join("; ")
            );
            if let Some(t) = self.traffic.get(*h as usize).filter(|t| t.released > 0) {
                let _ = writeln!(
                    out,
                    "  {}: {} of {} connection{} completed (established, then closed without an error); {} bytes written, {} delivered.",
                    name(*h),
                    t.completed,
                    t.released,
                    plural(t.released),
                    t.written,
                    t.delivered
                );
            }
        }
        // Bulk senders: goodput from the handshake to the release of the full socket (the
        // peer's FIN acknowledged), so congestion controls can be compared run against run.
        for r in &self.transfers {
            let Some(start) = r.established_at else {
                continue;
            };
            let took = (r.closed_at - start).as_secs_f64();
            let rate = if took > 0.0 {
                format!("{:.2} Mb/s", r.bytes_written as f64 * 8.0 / took / 1e6)
            } else {
                "instantly".into()
            };
            let _ = writeln!(
                out,
                "Transfer: {} wrote {} bytes in {took:.3} s from its handshake to its close ({rate}), with {} retransmission{}.",
                super::conn_name(net, r.conn).unwrap_or_default(),
                r.bytes_written,
                r.retransmissions,
                plural(u64::from(r.retransmissions))
            );
        }
        let notes = self
            .notes
            .iter()
            .flat_map(|((h, _), m)| m.iter().map(move |(msg, e)| (h, msg, e)));
        for (h, msg, (n, first, last)) in notes {
            if *n == 1 {
                let _ = writeln!(out, "  {} at {}: {msg}", name(*h), at(*first));
            } else {
                let _ = writeln!(
                    out,
                    "  {} {n} times from {} to {}: {msg}",
                    name(*h),
                    at(*first),
                    at(*last)
                );
            }
        }
        let mut dwell: Vec<_> = self.dwell.iter().collect();
        // Hash order is arbitrary: sort so the summary is the same bytes every run.
        dwell.sort_by_key(|((h, from, to, cause), _)| (*h, *from, *to, *cause));
        for ((h, from, to, cause), d) in dwell {
            // Handshakes and prompt closes are noise next to the states people debug.
            if d.max < Duration::from_millis(500) && !cause.contains("RST") {
                continue;
            }
            // A range of durations, not an interval of time: say so.
            let held = if d.count == 1 {
                format!(
                    "for {}: 1 connection (leaving at {})",
                    round(d.max),
                    at(d.first_left)
                )
            } else if round(d.min) == round(d.max) {
                format!("for {} in each of {} connections", round(d.max), d.count)
            } else {
                format!(
                    "for durations from {} to {} over {} connections",
                    round(d.min),
                    round(d.max),
                    d.count
                )
            };
            let _ = writeln!(
                out,
                "{} held {} {held}, ended by {cause} (to {}).",
                name(*h),
                from.name(),
                to.name()
            );
        }
        for (h, tw) in self.time_wait.iter().enumerate() {
            let h = &(h as u32);
            let skipped: Vec<String> = tw
                .skipped
                .iter()
                .map(|(c, n)| format!("{n} by {c}"))
                .collect();
            let skipped = skipped.join(", ");
            if tw.entered == 0 {
                if !skipped.is_empty() {
                    let _ = writeln!(
                        out,
                        "TIME_WAIT on {}: never held; skipped: {skipped}.",
                        name(*h)
                    );
                }
                continue;
            }
            let held = self.occupancy.host(*h, State::TimeWait);
            let ended: Vec<String> = tw
                .ended
                .iter()
                .map(|(c, n)| format!("{n} by {c}"))
                .collect();
            let _ = writeln!(
                out,
                "TIME_WAIT on {}: entered {} time{}, at most {} at once (at {}); ended: {}; {} still held at the end{}.",
                name(*h),
                tw.entered,
                plural(tw.entered),
                held.peak,
                at(held.peak_at),
                if ended.is_empty() {
                    "none yet".into()
                } else {
                    ended.join(", ")
                },
                held.held,
                if skipped.is_empty() {
                    String::new()
                } else {
                    format!("; skipped: {skipped}")
                }
            );
        }
        for ((host, listener, why), (n, first, last)) in &self.listen_drops {
            let plural = plural(*n);
            let what = match why {
                ListenDropKind::Syn => {
                    format!("SYN{plural} dropped (accept queue or SYN queue full)")
                }
                ListenDropKind::Overflow => {
                    format!("handshake-completing ACK{plural} turned away (accept queue full)")
                }
            };
            let when = if first == last {
                format!("at {}", at(*first))
            } else {
                format!("from {} to {}", at(*first), at(*last))
            };
            let _ = writeln!(
                out,
                "Listener {} {listener}: {n} {what}, {when}.",
                net.node(NodeId(*host)).name
            );
        }
        if self.tw_overflows > 0 {
            let _ = writeln!(
                out,
                "{} closing sockets skipped TIME_WAIT because the table was full (max_tw_buckets).",
                self.tw_overflows
            );
        }
        // Sockets the run stopped with: the states an operator's `netstat` would show then.
        for h in 0..self.opened.len() as u32 {
            let open: Vec<String> = State::ALL
                .iter()
                .filter_map(|&st| {
                    let n = self.occupancy.host(h, st).held;
                    (n > 0).then(|| format!("{n} in {}", st.name()))
                })
                .collect();
            if !open.is_empty() {
                let _ = writeln!(
                    out,
                    "At the end of the run, {} still holds {}.",
                    name(h),
                    open.join(", ")
                );
            }
        }
        let (deaths, min, max) = self.tcp_ttl_deaths;
        if deaths > 0 {
            let _ = writeln!(
                out,
                "{deaths} TCP data segments died of TTL expiry, after {} to {} in the network.",
                round(min),
                round(max)
            );
        }
        for d in &self.lost_duplicates {
            let inc = d.incarnation;
            let outcome = match self
                .corruptions
                .iter()
                .find(|(c, _, _)| c.origin.packet == d.packet)
            {
                Some((c, receiver, _)) => {
                    format!("incarnation {receiver} took {} of its bytes as data", c.len)
                }
                None => match (d.met, d.met_time_wait) {
                    (Some(met), _) => format!("incarnation {met} there rejected it"),
                    (None, true) => {
                        "TIME_WAIT held that 4-tuple there and answered it with an ACK".into()
                    }
                    (None, false) => {
                        "no connection there held that 4-tuple, so it drew a RST".into()
                    }
                },
            };
            let _ = writeln!(
                out,
                "Lost duplicate: packet #{} ({} bytes at offset {} of {} incarnation {inc}) reached {} at {}, {} after it was sent, with TTL {} left; {outcome}.",
                d.packet,
                d.len,
                d.offset,
                name(d.sender.host),
                name(d.receiver_host.0),
                at(d.arrived),
                round(d.arrived - d.sent_at),
                d.ttl_left
            );
        }
        if let Some(longest) = self.lost_duplicate_longest {
            let _ = writeln!(
                out,
                "Longest old segment lifetime: {} (the longest a lost duplicate spent in the network, from its sending to its arrival).",
                round(longest)
            );
        }
        if self.lost_duplicate_count > self.lost_duplicates.len() as u64 {
            let _ = writeln!(
                out,
                "({} lost duplicates in all; the first {} are listed.)",
                self.lost_duplicate_count,
                self.lost_duplicates.len()
            );
        }
        for (c, receiver, origin) in &self.corruptions {
            let o = c.origin;
            let _ = writeln!(
                out,
                "Stream corrupted: {}->{} incarnation {} received {} bytes at offset {} that incarnation {} sent (packet #{}, first sent at {}, lived {}, TTL left {}).",
                name(o.conn.host),
                name(c.receiver.host),
                receiver,
                c.len,
                c.offset,
                origin,
                o.packet,
                at(o.sent_at),
                round(o.arrived_at - o.sent_at),
                o.ttl_left
            );
        }
        if self.max_incarnation > 1 || self.corrupted_bytes > 0 {
            let _ = writeln!(
                out,
                "Audit: {} corrupted bytes across all connections ({} lost duplicate{} reached a host after {} connection ended).",
                self.corrupted_bytes,
                self.lost_duplicate_count,
                plural(self.lost_duplicate_count),
                if self.lost_duplicate_count == 1 {
                    "its"
                } else {
                    "their"
                },
            );
        }
    }
}

/// For each client opening connections at a steady rate: the most it can sustain, given its
/// ephemeral ports and TIME_WAIT (each 4-tuple is held for the whole TIME_WAIT).
pub fn render_capacity(config: &crate::world::WorldConfig, out: &mut String) {
    use crate::world::apps::AppSpec;
    for a in &config.apps {
        let AppSpec::HttpClient(c) = &a.spec else {
            continue;
        };
        if c.requests < 2 || c.src_port.is_some() || c.interval.is_zero() {
            continue;
        }
        // A server that closes after its response closes first: TIME_WAIT lands on it, and the
        // client's ports come free at once, so there is no client limit to state.
        let server_closes = config.apps.iter().any(|s| {
            matches!(&s.spec, AppSpec::HttpServer(h)
                if h.close_after_response
                    && h.port == c.server.port()
                    && config.nodes[s.host.0 as usize].addrs.contains(c.server.ip()))
        });
        if server_closes {
            continue;
        }
        let node = &config.nodes[a.host.0 as usize];
        let tcp = &node.tcp;
        let rate = 1e9 / c.interval.as_nanos() as f64;
        let ports = tcp.port_count() as f64;
        let tw = tcp.time_wait.as_secs_f64();
        // Only clients that could hold half their ports in TIME_WAIT at once (a short burst
        // at a high rate never gets near the limit).
        let at_once = (rate * tw).min(c.requests as f64);
        if tw == 0.0 || at_once < ports / 2.0 {
            continue;
        }
        let limit = ports / tw;
        // A limit that rounds to 0.0 per second says nothing a reader can use.
        if limit < 0.05 {
            continue;
        }
        let verdict = if tcp.tw_reuse && tcp.timestamps {
            "tcp_tw_reuse is on, so TIME_WAIT ports a second old are taken over and the limit does not bind".to_string()
        } else if rate > limit {
            format!(
                "it asks for {rate:.1}/s, so about {:.1} connects per second must fail on average (in bursts, whenever no port has left TIME_WAIT)",
                rate - limit
            )
        } else {
            format!("it asks for {rate:.1}/s, within the limit")
        };
        let _ = writeln!(
            out,
            "Ports: {} can open at most {} ports / {} TIME_WAIT = {limit:.1} new connections per second to {}; {verdict}.",
            node.name,
            tcp.port_count(),
            tcp.time_wait,
            c.server
        );
    }
}

/// An application's report of a failure, shortened for counting: "curl (7) Cannot assign
/// requested address", "connect() failed: Connection refused"; `None` for other messages.
fn app_failure(msg: &str) -> Option<String> {
    if let Some(rest) = msg.strip_prefix("curl: (") {
        let (code, text) = rest.split_once(')')?;
        let why = text.rsplit(": ").next().unwrap_or(text).trim();
        return Some(format!("curl ({code}) {why}"));
    }
    for call in ["connect()", "listen()"] {
        if msg.starts_with(call)
            && let Some((_, why)) = msg.split_once(" failed: ")
        {
            let why = why.split(';').next().unwrap_or(why);
            return Some(format!("{call} failed: {why}"));
        }
    }
    None
}

fn round(d: Duration) -> Duration {
    d.round_to(Duration::from_micros(1))
}

/// Instants in sentences: to the microsecond.
fn at(t: SimTime) -> SimTime {
    t.round_to(Duration::from_micros(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_index_is_the_place_in_all() {
        for (i, s) in State::ALL.iter().enumerate() {
            assert_eq!(state_index(*s), i, "{}", s.name());
        }
    }

    #[test]
    fn a_gauge_is_exact_and_a_retracted_entry_leaves_no_peak() {
        let t = |s: u64| SimTime::ZERO + Duration::from_secs(s);
        let mut g = Gauge::default();
        g.up(t(1));
        g.up(t(2));
        g.down();
        g.up(t(3));
        assert_eq!((g.held, g.peak, g.peak_at), (2, 2, t(2)));
        // Entered and skipped at once: as if it never happened, peak included.
        g.up(t(4));
        g.retract();
        assert_eq!((g.held, g.peak, g.peak_at), (2, 2, t(2)));
        g.down();
        g.down();
        g.down(); // never below zero
        assert_eq!(g.held, 0);

        // Per host and in total: the total's peak is the most held at once over all hosts,
        // not the sum of the hosts' peaks.
        let mut o = Occupancy::default();
        let tw = State::TimeWait;
        o.transition(t(1), 0, State::FinWait2, tw, "FIN received");
        o.transition(t(2), 0, tw, State::Closed, "2MSL expired");
        o.transition(t(3), 1, State::FinWait2, tw, "FIN received");
        o.transition(t(4), 1, State::Closing, tw, "ACK of FIN");
        o.transition(t(5), 2, State::Closing, tw, "ACK of FIN");
        o.transition(t(5), 2, tw, State::Closed, crate::tcp::TW_SKIPPED_FULL);
        assert_eq!(o.host(0, tw).peak, 1);
        assert_eq!(o.host(1, tw).peak, 2);
        assert_eq!(o.host(2, tw).peak, 0);
        assert_eq!(o.all(tw).peak, 2);
        assert_eq!(o.all(tw).held, 2);
        assert_eq!(o.host(7, tw), Gauge::default());
        // FIN_WAIT_2 was left three times and never entered: it stays at zero.
        assert_eq!(o.all(State::FinWait2).held, 0);
    }
}
