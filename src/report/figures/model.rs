//! The figures' model: a run's CSV rows as typed values, filled from the running simulation or
//! read back from the files, and an index over them that every figure shares (each packet's
//! rows, its connection, the lost duplicates, each connection's peer).

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{COUNTED, FigureError, FigureOptions, MAX_COUNT_SAMPLES, MAX_PACKET_ROWS, SOURCES};
use crate::net::{Body, Icmp, Network, NodeId, Packet};
use crate::report::plot::MAX_ROWS;
use crate::report::{CONNECT_FAILED, TcpTally, conn_name, plural};
use crate::scenario::OutputOptions;
use crate::sim::SimTime;
use crate::tcp::{ConnId, ConnRecord, Flags, TcpLog, Transition};
use crate::world::{NetworkEvent, PacketEvent, PacketEventKind};

/// What happened to a packet at a node (the `kind` column of `events.csv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HopKind {
    /// A host put it on its first link.
    Send,
    /// A router sent it on.
    Forward,
    /// It reached its host.
    Deliver,
    /// It was discarded.
    Drop,
    /// Its TTL ran out here.
    TtlExpired,
    /// A link made it as a copy of another.
    Duplicate,
}

impl HopKind {
    fn parse(s: &str) -> Option<HopKind> {
        Some(match s {
            "send" => HopKind::Send,
            "forward" => HopKind::Forward,
            "deliver" => HopKind::Deliver,
            "drop" => HopKind::Drop,
            "ttl_expired" => HopKind::TtlExpired,
            "duplicate" => HopKind::Duplicate,
            _ => return None,
        })
    }

    fn of(k: PacketEventKind) -> HopKind {
        match k {
            PacketEventKind::Send => HopKind::Send,
            PacketEventKind::Forward => HopKind::Forward,
            PacketEventKind::Deliver => HopKind::Deliver,
            PacketEventKind::Drop(_) => HopKind::Drop,
            PacketEventKind::TtlExpired => HopKind::TtlExpired,
            PacketEventKind::Duplicate => HopKind::Duplicate,
        }
    }
}

/// One packet row of `events.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketRow {
    /// Nanoseconds since the start.
    pub time: u64,
    /// What happened.
    pub kind: HopKind,
    /// Index into [`FigureData::nodes`].
    pub node: u32,
    /// Packet id.
    pub packet: u64,
    /// IP source.
    pub src: Ipv4Addr,
    /// IP destination.
    pub dst: Ipv4Addr,
    /// TTL after this node's charge.
    pub ttl: u8,
    /// TCP flags; `None` for datagrams and ICMP.
    pub flags: Option<Flags>,
    /// TCP sequence number or datagram counter; `None` for ICMP.
    pub seq: Option<u64>,
    /// TCP acknowledgment number, when the ACK flag is set.
    pub ack: Option<u32>,
    /// Payload bytes.
    pub len: u32,
    /// Source and destination ports (TCP or datagram); `None` for ICMP.
    pub ports: Option<(u16, u16)>,
    /// The incarnation that sent a TCP segment: index into [`FigureData::conn_names`].
    pub conn: Option<u32>,
    /// TCP timestamps (TSval, TSecr), when the segment carries them.
    pub timestamps: Option<(u32, u32)>,
    /// Routers that have forwarded the packet so far.
    pub hops: u16,
    /// For a link's copy: the packet it copies.
    pub copy_of: Option<u64>,
    /// For a drop: why ("loss", "queue_full", ...).
    pub reason: Option<String>,
}

/// A change to the network: a row of `events.csv` without a packet.
#[derive(Clone, Debug, PartialEq)]
pub struct NetRow {
    /// Nanoseconds since the start.
    pub time: u64,
    /// `route_change`, `link_down` or `link_up`.
    pub kind: String,
    /// Index into [`FigureData::nodes`]: the router (or link end) it concerns.
    pub node: u32,
    /// Plain words: "10.0.1.0/24 via C", "C - receiver".
    pub note: String,
}

/// One row of `connections.csv` (the columns the figures use).
#[derive(Clone, Debug, PartialEq)]
pub struct ConnRow {
    /// Host name.
    pub host: String,
    /// "client#2".
    pub conn: String,
    /// Incarnation of its 4-tuple on that host, from 1.
    pub incarnation: u32,
    /// Local address.
    pub local: SocketAddrV4,
    /// Remote address.
    pub remote: SocketAddrV4,
    /// Initial send sequence number.
    pub iss: u32,
    /// Initial receive sequence number, once known.
    pub irs: Option<u32>,
    /// Socket created (ns).
    pub opened: u64,
    /// Full socket released (ns): entering CLOSED or TIME_WAIT, or the end of the run.
    pub released: u64,
    /// Bytes the application wrote.
    pub written: u64,
    /// Bytes delivered in order.
    pub delivered: u64,
    /// Of those, bytes from another incarnation.
    pub corrupted: u64,
}

/// One socket's changes of state (from `states.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct SocketRow {
    /// "client#2".
    pub conn: String,
    /// Local address.
    pub local: SocketAddrV4,
    /// Remote address.
    pub remote: SocketAddrV4,
    /// Incarnation number.
    pub incarnation: u32,
    /// (time in ns, state entered), in order; the first entry's state is the first one
    /// left CLOSED for.
    pub changes: Vec<(u64, String)>,
}

/// Where each [`COUNTED`] state is in [`State::ALL`](crate::tcp::State::ALL), the order a
/// run's counts come in.
const COUNTED_AT: [usize; 3] = [10, 7, 4];

/// One host's (time in ns, count) samples per [`COUNTED`] state: TIME_WAIT, CLOSE_WAIT,
/// ESTABLISHED.
pub type HostCounts = [Vec<(u64, u64)>; 3];

/// Everything the figures are drawn from: the rows of a run's CSV files, in file order.
#[derive(Clone, Debug, Default)]
pub struct FigureData {
    /// Node names, in order of first appearance in `events.csv`.
    pub nodes: Vec<String>,
    /// Packet rows of `events.csv` (at most [`MAX_PACKET_ROWS`]).
    pub packets: Vec<PacketRow>,
    /// Packet rows left out because of the cap.
    pub packets_left_out: u64,
    /// Changes to the network (route changes, links going down or up), in order.
    pub network: Vec<NetRow>,
    /// Names of the connections packets name (`PacketRow::conn` indexes this).
    pub conn_names: Vec<String>,
    /// `connections.csv`.
    pub connections: Vec<ConnRow>,
    /// The host that owns each local address of `connections.csv`: the first row's with
    /// that address (a run keeps this even when it keeps no rows).
    pub owners: BTreeMap<Ipv4Addr, String>,
    /// The first [`MAX_ROWS`] sockets of `states.csv`.
    pub sockets: Vec<SocketRow>,
    /// Sockets in `states.csv` in all.
    pub socket_count: usize,
    /// Hosts of `socket_counts.csv` in order of first appearance, with, per [`COUNTED`] state,
    /// the (time in ns, count) samples.
    pub counts: Vec<(String, HostCounts)>,
    /// Numbers the run's summary gives that a TIME_WAIT count is measured against, from its
    /// `Ports:` lines: (host, value, words), e.g. the ephemeral port range's size, or the
    /// connection rate times TIME_WAIT.
    pub count_refs: Vec<(String, f64, String)>,
    /// Failed `connect()` calls so far, per (host, errno), from `socket_counts.csv`'s
    /// `connect_failed:ERRNO` rows: (time in ns, count) steps, at most one per millisecond.
    pub failed: Vec<FailedConnects>,
    /// Per host in `counts` and [`COUNTED`] state: samples seen, the stride they are kept at,
    /// and whether any was above zero (so decimation never hides a state that was held).
    count_seen: Vec<[CountLine; 3]>,
    node_index: FxHashMap<String, u32>,
    /// `node_index` by the run's node id, so a run's packets are not looked up by name.
    node_by_id: Vec<Option<u32>>,
    conn_index: FxHashMap<String, u32>,
    /// `conn_index` by the run's connection id, so a run's segments are not named each time.
    conn_by_id: FxHashMap<ConnId, u32>,
    /// Every socket of `states.csv` seen so far, with its index in `sockets` if kept.
    socket_index: FxHashMap<String, Option<usize>>,
    /// In a run, per host and connection number, whether the socket has changed state yet
    /// and whether it is kept (two bits each), so a run's sockets are counted and found
    /// without naming each change.
    socket_seen: Vec<Vec<u64>>,
    /// In a run, the kept sockets (`sockets`) by connection id.
    socket_kept: Vec<(ConnId, usize)>,
    /// `counts`' index of each run node id, so a run's counts are not looked up by name.
    count_host_by_id: Vec<Option<usize>>,
    /// Which rows a run records (the files `[output]` turns on).
    record: Record,
}

/// What [`MAX_COUNT_SAMPLES`] decimation needs to know of one line of `socket_counts`.
#[derive(Clone, Copy, Debug, Default)]
struct CountLine {
    /// Width in ns of the time buckets whose first, least, greatest and last points are kept
    /// (0 before the first decimation).
    bucket: u64,
    /// The time of the line's last row.
    end: u64,
    held: bool,
}

/// The points of a step line that show it in buckets of `width` ns: in each, the first, the
/// least, the greatest and the last, so a change alone in its bucket (a pixel column, once
/// drawn) is never dropped and a busy bucket still spans its whole range.
fn min_max(points: &[(u64, u64)], width: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < points.len() {
        let b = points[start].0 / width;
        let end = start + points[start..].partition_point(|p| p.0 / width == b);
        let group = &points[start..end];
        let lo = (0..group.len()).min_by_key(|&j| group[j].1).unwrap_or(0);
        let hi = (0..group.len()).max_by_key(|&j| group[j].1).unwrap_or(0);
        let mut keep = [0, lo, hi, group.len() - 1];
        keep.sort_unstable();
        let mut prev = None;
        for j in keep {
            if prev != Some(j) {
                out.push(group[j]);
                prev = Some(j);
            }
        }
        start = end;
    }
    out
}

#[derive(Clone, Copy, Debug, Default)]
struct Record {
    events: bool,
    states: bool,
    /// `connections.csv` is written: its addresses' owners are kept.
    connections: bool,
    /// Its rows are kept too.
    connection_rows: bool,
}

impl FigureData {
    /// An empty model that records what a run with `opts` writes to its CSV files, as far as
    /// figures drawn with `figures` use it: `connections.csv` rows name packets' connections
    /// and the connections `figures` selects, so without either they are not kept (a
    /// million-connection run without `events.csv` would hold them all for nothing).
    pub fn for_run(opts: &OutputOptions, figures: &FigureOptions) -> FigureData {
        let named = !figures.conns.is_empty() || !figures.hosts.is_empty();
        FigureData {
            record: Record {
                events: opts.events,
                states: opts.states,
                connections: opts.connections,
                connection_rows: opts.connections && (opts.events || named),
            },
            ..FigureData::default()
        }
    }

    // -- rows, from either source --

    fn node(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.node_index.get(name) {
            return i;
        }
        let i = self.nodes.len() as u32;
        self.nodes.push(name.to_string());
        self.node_index.insert(name.to_string(), i);
        i
    }

    fn conn(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.conn_index.get(name) {
            return i;
        }
        let i = self.conn_names.len() as u32;
        self.conn_names.push(name.to_string());
        self.conn_index.insert(name.to_string(), i);
        i
    }

    fn push_connection(&mut self, row: ConnRow) {
        self.owners
            .entry(*row.local.ip())
            .or_insert_with(|| row.host.clone());
        self.connections.push(row);
    }

    fn push_packet(&mut self, row: PacketRow) {
        if self.packets.len() < MAX_PACKET_ROWS {
            self.packets.push(row);
        } else {
            self.packets_left_out += 1;
        }
    }

    fn push_transition(
        &mut self,
        time: u64,
        conn: &str,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        incarnation: u32,
        to: &str,
    ) {
        let kept = match self.socket_index.get(conn) {
            Some(k) => *k,
            None => {
                let k = self.new_socket(|| conn.to_string(), local, remote, || incarnation);
                self.socket_index.insert(conn.to_string(), k);
                k
            }
        };
        if let Some(k) = kept {
            self.sockets[k].changes.push((time, to.to_string()));
        }
    }

    /// Counts a socket's first change of state and keeps its row while fewer than
    /// [`MAX_ROWS`] are kept: its index in `sockets` if kept.
    fn new_socket(
        &mut self,
        conn: impl FnOnce() -> String,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        incarnation: impl FnOnce() -> u32,
    ) -> Option<usize> {
        self.socket_count += 1;
        let k = (self.sockets.len() < MAX_ROWS).then_some(self.sockets.len());
        if k.is_some() {
            self.sockets.push(SocketRow {
                conn: conn(),
                local,
                remote,
                incarnation: incarnation(),
                changes: Vec::new(),
            });
        }
        k
    }

    /// A run's change of state of socket `c`: as [`Self::push_transition`] with the socket's
    /// name, but a socket is named only when it is kept.
    fn run_transition(&mut self, net: &Network, tally: &TcpTally, time: u64, t: &Transition) {
        let c = t.conn;
        if c.n == 0 {
            let inc = tally.incarnation(c);
            let name = conn_name(net, c).unwrap_or_default();
            self.push_transition(time, &name, t.tuple.local, t.tuple.remote, inc, t.to.name());
            return;
        }
        // Two bits per socket: it has changed state before; it is kept.
        let (host, bit) = (c.host as usize, 2 * c.n as usize);
        if self.socket_seen.len() <= host {
            self.socket_seen.resize_with(host + 1, Vec::new);
        }
        let words = &mut self.socket_seen[host];
        if words.len() <= bit / 64 {
            words.resize(bit / 64 + 1, 0);
        }
        let (seen, kept_bit) = (1u64 << (bit % 64), 2u64 << (bit % 64));
        let word = words[bit / 64];
        let kept = if word & seen == 0 {
            let name = || conn_name(net, c).unwrap_or_default();
            let k = self.new_socket(name, t.tuple.local, t.tuple.remote, || tally.incarnation(c));
            let mut mark = seen;
            if let Some(k) = k {
                self.socket_kept.push((c, k));
                mark |= kept_bit;
            }
            self.socket_seen[host][bit / 64] |= mark;
            k
        } else if word & kept_bit != 0 {
            self.socket_kept.iter().find(|s| s.0 == c).map(|s| s.1)
        } else {
            None
        };
        if let Some(k) = kept {
            self.sockets[k]
                .changes
                .push((time, t.to.name().to_string()));
        }
    }

    fn push_count(&mut self, time: u64, host: &str, state: &str, count: u64) {
        if let Some(errno) = state.strip_prefix(CONNECT_FAILED) {
            self.push_failed(time, host, errno, count);
            return;
        }
        let Some(k) = COUNTED.iter().position(|s| *s == state) else {
            return;
        };
        let i = self.count_host(host);
        self.push_count_at(i, k, time, count);
    }

    /// The index in `counts` of `host`'s lines, added if new.
    fn count_host(&mut self, host: &str) -> usize {
        match self.counts.iter().position(|(h, _)| h == host) {
            Some(i) => i,
            None => {
                self.counts.push((host.to_string(), Default::default()));
                self.count_seen.push(Default::default());
                self.counts.len() - 1
            }
        }
    }

    /// A row of the line of host `i` (in `counts`) and [`COUNTED`] state `k`.
    fn push_count_at(&mut self, i: usize, k: usize, time: u64, count: u64) {
        let line = &mut self.count_seen[i][k];
        let samples = &mut self.counts[i].1[k];
        line.held |= count > 0;
        line.end = line.end.max(time);
        // Rows come at changes (and once more at the end of the run): a count equal to the
        // last kept one only extends the line.
        if samples.last().is_some_and(|&(_, c)| c == count) {
            return;
        }
        samples.push((time, count));
        if samples.len() > MAX_COUNT_SAMPLES {
            let span = samples[samples.len() - 1].0 - samples[0].0;
            // At most 512 buckets over the line so far, 4 points each: half the cap.
            line.bucket = line.bucket.max(span / (MAX_COUNT_SAMPLES as u64 / 8) + 1);
            *samples = min_max(samples, line.bucket);
        }
    }

    /// When the line of host `h` and [`COUNTED`] state `k` ends (its last row), if known.
    pub(super) fn count_end(&self, h: usize, k: usize) -> Option<u64> {
        self.count_seen.get(h).map(|lines| lines[k].end)
    }

    /// Whether `socket_counts` ever counted a socket of [`COUNTED`] state `k` on host `h`.
    pub(super) fn held(&self, h: usize, k: usize) -> bool {
        match self.count_seen.get(h) {
            Some(lines) => lines[k].held,
            // Counts filled in by hand rather than through `push_count`.
            None => self.counts[h].1[k].iter().any(|s| s.1 > 0),
        }
    }

    /// Keeps the counts of the hosts `keep` accepts, cut to `from..=to` (the count held at
    /// `from`, then the changes inside).
    pub(super) fn narrow_counts(&mut self, keep: &dyn Fn(&str) -> bool, from: u64, to: u64) {
        let tracked = self.count_seen.len() == self.counts.len();
        let mut counts = Vec::new();
        let mut seen = Vec::new();
        for (h, (name, lines)) in self.counts.iter().enumerate() {
            if !keep(name) {
                continue;
            }
            let lines = lines
                .clone()
                .map(|l| super::select::clip_steps(&l, from, to));
            if tracked {
                let mut s = self.count_seen[h];
                for (k, line) in s.iter_mut().enumerate() {
                    line.end = line.end.clamp(from, to);
                    line.held = lines[k].iter().any(|p| p.1 > 0);
                }
                seen.push(s);
            }
            counts.push((name.clone(), lines));
        }
        self.counts = counts;
        self.count_seen = seen;
    }

    /// Reads the reference numbers of `summary.txt`'s `Ports:` lines ("Ports: client can
    /// open at most 28232 ports / 60s TIME_WAIT = ...; it asks for 300.0/s, ..."): the port
    /// count, and the rate times TIME_WAIT when a rate is given. Other lines are ignored.
    pub fn read_summary(&mut self, summary: &str) {
        self.count_refs.clear();
        for line in summary.lines() {
            let Some(rest) = line.strip_prefix("Ports: ") else {
                continue;
            };
            let Some((host, rest)) = rest.split_once(" can open at most ") else {
                continue;
            };
            let Some((ports, rest)) = rest.split_once(" ports / ") else {
                continue;
            };
            let Some((tw, rest)) = rest.split_once(" TIME_WAIT") else {
                continue;
            };
            let (Ok(ports), Ok(tw)) = (ports.parse::<u64>(), tw.parse::<crate::sim::Duration>())
            else {
                continue;
            };
            self.count_refs.push((
                host.to_string(),
                ports as f64,
                format!("{ports} ephemeral ports"),
            ));
            let rate = rest
                .split_once("it asks for ")
                .and_then(|(_, r)| r.split_once("/s"))
                .and_then(|(r, _)| r.parse::<f64>().ok());
            if let Some(rate) = rate {
                let secs = tw.as_secs_f64();
                let n = (rate * secs).round();
                self.count_refs.push((
                    host.to_string(),
                    n,
                    format!("{host}: {rate}/s \u{d7} {tw} = {n}"),
                ));
            }
        }
    }

    // -- from the run --

    /// A packet event, as `events.csv` records it.
    pub fn on_packet(&mut self, net: &Network, ev: &PacketEvent<'_>) {
        if !self.record.events {
            return;
        }
        if self.packets.len() >= MAX_PACKET_ROWS {
            self.packets_left_out += 1;
            return;
        }
        let p: &Packet = ev.packet;
        let mut conn = None;
        let (flags, seq, ack, len, ports, timestamps) = match &p.body {
            Body::Tcp(s) => {
                conn = self.run_conn(net, s.tag.conn);
                (
                    Some(s.flags),
                    Some(s.seq.0 as u64),
                    s.flags.ack().then_some(s.ack.0),
                    s.payload.len() as u32,
                    Some((s.src_port, s.dst_port)),
                    s.timestamps.map(|t| (t.tsval, t.tsecr)),
                )
            }
            Body::Udp(d) => (
                None,
                Some(d.seq),
                None,
                d.len,
                Some((d.src_port, d.dst_port)),
                None,
            ),
            Body::Icmp(Icmp::TimeExceeded(_)) => (None, None, None, 0, None, None),
        };
        let id = ev.node.0 as usize;
        let node = match self.node_by_id.get(id).copied().flatten() {
            Some(i) => i,
            None => {
                let i = self.node(&net.node(ev.node).name);
                if self.node_by_id.len() <= id {
                    self.node_by_id.resize(id + 1, None);
                }
                self.node_by_id[id] = Some(i);
                i
            }
        };
        self.push_packet(PacketRow {
            time: ev.time.as_nanos(),
            kind: HopKind::of(ev.kind),
            node,
            packet: p.meta.id,
            src: p.src,
            dst: p.dst,
            ttl: p.ttl,
            flags,
            seq,
            ack,
            len,
            ports,
            conn,
            timestamps,
            hops: p.meta.hops,
            copy_of: match ev.kind {
                PacketEventKind::Duplicate => p.meta.copy_of,
                _ => None,
            },
            reason: match ev.kind {
                PacketEventKind::Drop(why) => Some(why.name().to_string()),
                _ => None,
            },
        });
    }

    /// A change to the network, as `events.csv` records it.
    pub fn on_network(&mut self, net: &Network, ev: &NetworkEvent) {
        if !self.record.events {
            return;
        }
        let node = self.node(&net.node(ev.node).name);
        self.network.push(NetRow {
            time: ev.time.as_nanos(),
            kind: ev.kind.to_string(),
            node,
            note: ev.note.clone(),
        });
    }

    /// The model's index of a run's connection id, named as `events.csv` names it.
    fn run_conn(&mut self, net: &Network, c: ConnId) -> Option<u32> {
        if let Some(&i) = self.conn_by_id.get(&c) {
            return Some(i);
        }
        let i = self.conn(&conn_name(net, c)?);
        self.conn_by_id.insert(c, i);
        Some(i)
    }

    /// A TCP log entry, after `tally` has counted it (it numbers the incarnations).
    pub fn on_tcp(
        &mut self,
        net: &Network,
        time: SimTime,
        node: NodeId,
        log: &TcpLog,
        tally: &TcpTally,
    ) {
        let name = |c: ConnId| conn_name(net, c).unwrap_or_default();
        match log {
            TcpLog::State(t) if self.record.states => {
                self.run_transition(net, tally, time.as_nanos(), t);
            }
            TcpLog::Closed(r) if self.record.connection_rows => {
                let row = conn_row(net, node, r, tally, name(r.conn));
                self.push_connection(row);
            }
            TcpLog::Closed(r) if self.record.connections => {
                let host = &net.node(node).name;
                self.owners
                    .entry(*r.tuple.local.ip())
                    .or_insert_with(|| host.clone());
            }
            _ => {}
        }
    }

    /// A `connect()` on `node` failed at once with `errno` (as `socket_counts.csv` counts it).
    pub fn on_connect_failed(&mut self, net: &Network, time: SimTime, node: NodeId, errno: &str) {
        let host = &net.node(node).name;
        let n = self
            .failed
            .iter()
            .find(|f| f.host == *host && f.errno == errno)
            .and_then(|f| f.steps.last())
            .map_or(1, |&(_, n)| n + 1);
        self.push_failed(time.as_nanos(), host, errno, n);
    }

    /// One count of failed connects; within a millisecond of the last kept step, that step
    /// takes the new count (a burst of failures stays one step, drawn a pixel early at most).
    fn push_failed(&mut self, time: u64, host: &str, errno: &str, count: u64) {
        let i = match self
            .failed
            .iter()
            .position(|f| f.host == host && f.errno == errno)
        {
            Some(i) => i,
            None => {
                self.failed.push(FailedConnects {
                    host: host.to_string(),
                    errno: errno.to_string(),
                    steps: Vec::new(),
                });
                self.failed.len() - 1
            }
        };
        let steps = &mut self.failed[i].steps;
        match steps.last_mut() {
            Some(last) if time < last.0 + 1_000_000 => last.1 = count,
            _ => steps.push((time, count)),
        }
    }

    /// A host's socket counts, in [`State::ALL`](crate::tcp::State::ALL) order.
    pub fn on_counts(&mut self, net: &Network, time: SimTime, node: NodeId, counts: &[u64; 11]) {
        let id = node.0 as usize;
        let i = match self.count_host_by_id.get(id).copied().flatten() {
            Some(i) => i,
            None => {
                let i = self.count_host(&net.node(node).name);
                if self.count_host_by_id.len() <= id {
                    self.count_host_by_id.resize(id + 1, None);
                }
                self.count_host_by_id[id] = Some(i);
                i
            }
        };
        for (k, at) in COUNTED_AT.iter().enumerate() {
            self.push_count_at(i, k, time.as_nanos(), counts[*at]);
        }
    }

    // -- from the files --

    /// Reads whichever of [`SOURCES`] `dir` holds. Errors name the file and line; an
    /// `events.csv` without the packet identity columns (written by an older timewait) is
    /// refused rather than guessed at.
    pub fn read_dir(dir: &Path) -> Result<FigureData, FigureError> {
        let mut d = FigureData::default();
        let mut found = false;
        if let Some(mut t) = Table::open(&dir.join("events.csv"), &EVENT_COLS)? {
            found = true;
            t.rows(|r| d.read_event(r))?;
        }
        if let Some(mut t) = Table::open(&dir.join("states.csv"), &STATE_COLS)? {
            found = true;
            t.rows(|r| {
                let time = r.time("time")?;
                let conn = r.get("conn");
                let local = r.parse::<SocketAddrV4>("local", "an address:port")?;
                let remote = r.parse::<SocketAddrV4>("remote", "an address:port")?;
                let inc = r.parse::<u32>("incarnation", "a whole number")?;
                d.push_transition(time, conn, local, remote, inc, r.get("to"));
                Ok(())
            })?;
        }
        if let Some(mut t) = Table::open(&dir.join("connections.csv"), &CONN_COLS)? {
            found = true;
            t.rows(|r| {
                d.push_connection(ConnRow {
                    host: r.get("host").to_string(),
                    conn: r.get("conn").to_string(),
                    incarnation: r.parse("incarnation", "a whole number")?,
                    local: r.parse("local", "an address:port")?,
                    remote: r.parse("remote", "an address:port")?,
                    iss: r.parse("iss", "a sequence number")?,
                    irs: r.opt("irs", "a sequence number")?,
                    opened: r.time("opened")?,
                    released: r.time("released")?,
                    written: r.parse("bytes_written", "a byte count")?,
                    delivered: r.parse("bytes_delivered", "a byte count")?,
                    corrupted: r.parse("bytes_corrupted", "a byte count")?,
                });
                Ok(())
            })?;
        }
        if let Some(mut t) = Table::open(&dir.join("socket_counts.csv"), &COUNT_COLS)? {
            found = true;
            t.rows(|r| {
                let time = r.time("time")?;
                let n = r.parse::<u64>("count", "a count")?;
                d.push_count(time, r.get("host"), r.get("state"), n);
                Ok(())
            })?;
        }
        if !found {
            return Err(FigureError::Input(format!(
                "{}: not a run's output folder: it has none of {}",
                dir.display(),
                SOURCES.join(", ")
            )));
        }
        Ok(d)
    }

    fn read_event(&mut self, r: &Rec<'_>) -> Result<(), String> {
        // Rows without a packet are changes to the network (route_change, link_down, ...).
        if r.get("packet").is_empty() {
            let row = NetRow {
                time: r.time("time")?,
                kind: r.get("kind").to_string(),
                node: self.node(r.get("node")),
                note: r.get("note").to_string(),
            };
            self.network.push(row);
            return Ok(());
        }
        // Past the cap a row is only counted: most of a big file is never parsed.
        if self.packets.len() >= MAX_PACKET_ROWS {
            self.packets_left_out += 1;
            return Ok(());
        }
        let kind = HopKind::parse(r.get("kind")).ok_or_else(|| {
            format!(
                "column `kind`: `{}` is not a packet event (send, forward, deliver, drop, ttl_expired, duplicate)",
                r.get("kind")
            )
        })?;
        let flags = match r.get("flags") {
            "" => None,
            "none" => Some(Flags::default()),
            f => Some(Flags::from_str(f).map_err(|e| format!("column `flags`: {e}"))?),
        };
        let note = r.get("note");
        let copy_of = match kind {
            HopKind::Duplicate => Some(
                note.strip_prefix("copy of #")
                    .and_then(|n| n.parse::<u64>().ok())
                    .ok_or_else(|| {
                        format!("column `note`: `{note}` should read `copy of #N` for a duplicate")
                    })?,
            ),
            _ => None,
        };
        let reason = match kind {
            HopKind::Drop => Some(note.split(';').next().unwrap_or("").to_string()),
            _ => None,
        };
        let sport: Option<u16> = r.opt("sport", "a port")?;
        let dport: Option<u16> = r.opt("dport", "a port")?;
        let tsval: Option<u32> = r.opt("tsval", "a timestamp")?;
        let tsecr: Option<u32> = r.opt("tsecr", "a timestamp")?;
        let conn = match r.get("conn") {
            "" => None,
            c => Some(self.conn(c)),
        };
        let node = self.node(r.get("node"));
        let row = PacketRow {
            time: r.time("time")?,
            kind,
            node,
            packet: r.parse("packet", "a packet id")?,
            src: r.parse("src", "an IPv4 address")?,
            dst: r.parse("dst", "an IPv4 address")?,
            ttl: r.parse("ttl", "a TTL (0-255)")?,
            flags,
            seq: r.opt("seq", "a sequence number")?,
            ack: r.opt("ack", "an acknowledgment number")?,
            len: r.opt("len", "a length")?.unwrap_or(0),
            ports: sport.zip(dport),
            conn,
            timestamps: tsval.zip(tsecr),
            hops: r.parse("hops", "a hop count")?,
            copy_of,
            reason,
        };
        self.push_packet(row);
        Ok(())
    }
}

fn conn_row(
    net: &Network,
    node: NodeId,
    r: &ConnRecord,
    tally: &TcpTally,
    conn: String,
) -> ConnRow {
    ConnRow {
        host: net.node(node).name.clone(),
        conn,
        incarnation: tally.incarnation(r.conn),
        local: r.tuple.local,
        remote: r.tuple.remote,
        iss: r.iss.0,
        irs: r.irs.map(|s| s.0),
        opened: r.opened_at.as_nanos(),
        released: r.closed_at.as_nanos(),
        written: r.bytes_written,
        delivered: r.bytes_delivered,
        corrupted: r.bytes_corrupted,
    }
}

// ---- what every figure derives from the rows ----

/// Each packet's row indexes, in file order, by packet id: three flat lists (a run with every
/// file holds a million rows; a map of small vectors cost a tenth of its figures' time).
pub(super) struct PacketRows {
    /// Packet ids with a row, ascending.
    ids: Vec<u64>,
    /// `rows[starts[k]..starts[k + 1]]` are the rows of `ids[k]`.
    starts: Vec<usize>,
    rows: Vec<usize>,
    /// When the ids were counted: `k` of id `lo + j` at `slot[j]` (`u32::MAX`: no rows), so
    /// the ladder's many lookups take one step each.
    slot: Vec<u32>,
    lo: u64,
}

impl PacketRows {
    fn new(packets: &[PacketRow]) -> PacketRows {
        let lo = packets.iter().map(|r| r.packet).min().unwrap_or(0);
        let hi = packets.iter().map(|r| r.packet).max().unwrap_or(0);
        let span = usize::try_from(hi - lo).unwrap_or(usize::MAX);
        if span > 4 * packets.len() {
            return PacketRows::sorted(packets);
        }
        // Ids are a run's packet counter, so nearly every id in the span has rows: counted
        // into place in two passes rather than sorted.
        let mut at = vec![0usize; span + 2];
        for r in packets {
            at[(r.packet - lo) as usize + 1] += 1;
        }
        let mut ids = Vec::new();
        let mut starts = Vec::new();
        let mut slot = vec![u32::MAX; span + 1];
        for k in 0..=span {
            if at[k + 1] > 0 {
                slot[k] = ids.len() as u32;
                ids.push(lo + k as u64);
                starts.push(at[k]);
            }
            at[k + 1] += at[k];
        }
        starts.push(packets.len());
        let mut rows = vec![0; packets.len()];
        for (i, r) in packets.iter().enumerate() {
            let next = &mut at[(r.packet - lo) as usize];
            rows[*next] = i;
            *next += 1;
        }
        PacketRows {
            ids,
            starts,
            rows,
            slot,
            lo,
        }
    }

    /// The rows sorted by id, for ids spread too far apart to count (a selection's).
    fn sorted(packets: &[PacketRow]) -> PacketRows {
        let mut pairs: Vec<(u64, usize)> = packets
            .iter()
            .enumerate()
            .map(|(i, r)| (r.packet, i))
            .collect();
        pairs.sort_unstable();
        let mut ids = Vec::new();
        let mut starts = Vec::new();
        for (k, &(id, _)) in pairs.iter().enumerate() {
            if ids.last() != Some(&id) {
                ids.push(id);
                starts.push(k);
            }
        }
        starts.push(pairs.len());
        let rows = pairs.into_iter().map(|p| p.1).collect();
        PacketRows {
            ids,
            starts,
            rows,
            slot: Vec::new(),
            lo: 0,
        }
    }

    /// The rows of packet `id`, if it has any.
    pub fn get(&self, id: &u64) -> Option<&[usize]> {
        let k = self.position(*id)?;
        Some(&self.rows[self.starts[k]..self.starts[k + 1]])
    }

    /// Whether packet `id` has a row.
    pub fn contains_key(&self, id: &u64) -> bool {
        self.position(*id).is_some()
    }

    /// Where `id` is in `ids`.
    fn position(&self, id: u64) -> Option<usize> {
        if self.slot.is_empty() {
            return self.ids.binary_search(&id).ok();
        }
        let j = usize::try_from(id.checked_sub(self.lo)?).ok()?;
        self.slot
            .get(j)
            .filter(|&&k| k != u32::MAX)
            .map(|&k| k as usize)
    }

    /// (id, rows) of every packet, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&u64, &[usize])> {
        self.ids
            .iter()
            .zip(self.starts.windows(2))
            .map(|(id, s)| (id, &self.rows[s[0]..s[1]]))
    }
}

impl std::ops::Index<&u64> for PacketRows {
    type Output = [usize];

    /// The rows of packet `id`; panics if it has none, as a map would.
    fn index(&self, id: &u64) -> &[usize] {
        self.get(id).expect("a packet with rows")
    }
}

/// The model indexed: each packet's rows, the connection of each packet, the lost duplicates
/// and each connection's peer. Built once per drawing and shared by the figures.
pub(super) struct Index<'a> {
    /// The rows.
    pub d: &'a FigureData,
    /// Rows of each packet, by id (send order).
    pub packets: PacketRows,
    /// Index into `connections` of each name in `conn_names`, when connections.csv has it.
    conn_row: Vec<Option<usize>>,
    /// Connections by (host, local, remote), in opening order.
    by_tuple: FxHashMap<(&'a str, SocketAddrV4, SocketAddrV4), Vec<usize>>,
    /// Connections by (local, remote, ISS), in file order (a fixed ISN repeats).
    by_iss: FxHashMap<(SocketAddrV4, SocketAddrV4, u32), Vec<usize>>,
    /// Delivered lost duplicates: row indexes of the deliveries, in file order.
    pub lost: Vec<usize>,
    /// Routers: nodes that forward or expire packets.
    pub routers: Vec<bool>,
}

impl<'a> Index<'a> {
    /// Indexes `d`.
    pub fn new(d: &'a FigureData) -> Index<'a> {
        let packets = PacketRows::new(&d.packets);
        let mut routers = vec![false; d.nodes.len()];
        for r in &d.packets {
            if matches!(r.kind, HopKind::Forward | HopKind::TtlExpired) {
                routers[r.node as usize] = true;
            }
        }
        let by_name: FxHashMap<&str, usize> = d
            .connections
            .iter()
            .enumerate()
            .map(|(i, c)| (c.conn.as_str(), i))
            .collect();
        let conn_row = d
            .conn_names
            .iter()
            .map(|n| by_name.get(n.as_str()).copied())
            .collect();
        let mut by_tuple: FxHashMap<_, Vec<usize>> = FxHashMap::default();
        for (i, c) in d.connections.iter().enumerate() {
            by_tuple
                .entry((c.host.as_str(), c.local, c.remote))
                .or_default()
                .push(i);
        }
        for v in by_tuple.values_mut() {
            v.sort_by_key(|&i| (d.connections[i].opened, i));
        }
        let mut by_iss: FxHashMap<_, Vec<usize>> = FxHashMap::default();
        for (i, c) in d.connections.iter().enumerate() {
            by_iss
                .entry((c.local, c.remote, c.iss))
                .or_default()
                .push(i);
        }
        let mut ix = Index {
            d,
            packets,
            conn_row,
            by_tuple,
            by_iss,
            lost: Vec::new(),
            routers,
        };
        // A lost duplicate, as the audit counts one: a segment with payload delivered after
        // the incarnation that sent it was released.
        ix.lost = d
            .packets
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind == HopKind::Deliver && r.flags.is_some() && r.len > 0)
            .filter(|(_, r)| ix.sender(r).is_some_and(|c| c.released < r.time))
            .map(|(i, _)| i)
            .collect();
        ix
    }

    /// Index into `connections` of the incarnation that sent the packet of `row`.
    pub fn sender_index(&self, row: &PacketRow) -> Option<usize> {
        self.conn_row.get(row.conn? as usize).copied().flatten()
    }

    /// The incarnation that sent the packet of `row`, when connections.csv lists it.
    pub fn sender(&self, row: &PacketRow) -> Option<&'a ConnRow> {
        self.sender_index(row).map(|i| &self.d.connections[i])
    }

    /// The connection on `host` with this 4-tuple whose life holds time `t` (one socket per
    /// 4-tuple at a time).
    pub fn at(
        &self,
        host: &str,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        t: u64,
    ) -> Option<usize> {
        let list = self.by_tuple.get(&(host, local, remote))?;
        let conns = &self.d.connections;
        let end = list.partition_point(|&i| conns[i].opened <= t);
        list[..end]
            .iter()
            .rev()
            .copied()
            .find(|&i| conns[i].released >= t)
    }

    /// The connection whose sequence numbers a segment no incarnation sent (a reset from no
    /// socket) is numbered against in labels: the latest one on its sending host with its
    /// 4-tuple opened before it left.
    pub fn numbering(&self, row: &PacketRow) -> Option<&'a ConnRow> {
        let (sport, dport) = row.ports?;
        let host = self.d.nodes[row.node as usize].as_str();
        let key = (
            host,
            SocketAddrV4::new(row.src, sport),
            SocketAddrV4::new(row.dst, dport),
        );
        let list = self.by_tuple.get(&key)?;
        let conns = &self.d.connections;
        let end = list.partition_point(|&i| conns[i].opened <= row.time);
        list[..end].last().map(|&i| &conns[i])
    }

    /// The connection that received the packet of a `deliver` row, if one held its 4-tuple.
    pub fn receiver(&self, row: &PacketRow) -> Option<usize> {
        let (sport, dport) = row.ports?;
        let host = self.d.nodes[row.node as usize].as_str();
        self.at(
            host,
            SocketAddrV4::new(row.dst, dport),
            SocketAddrV4::new(row.src, sport),
            row.time,
        )
    }

    /// The other end of connection `c`: its 4-tuple reversed, its ISS our IRS and our ISS its
    /// IRS, alive while `c` was.
    pub fn peer(&self, c: usize) -> Option<usize> {
        let conns = &self.d.connections;
        let me = &conns[c];
        self.by_iss
            .get(&(me.remote, me.local, me.irs?))?
            .iter()
            .copied()
            .find(|&p| {
                let o = &conns[p];
                o.irs == Some(me.iss) && o.opened <= me.released && o.released >= me.opened
            })
    }

    /// The row where packet `id`'s life began: its send, or its original's for a copy.
    pub fn origin(&self, id: u64) -> Option<&'a PacketRow> {
        let mut id = id;
        for _ in 0..64 {
            let first = &self.d.packets[*self.packets.get(&id)?.first()?];
            match (first.kind, first.copy_of) {
                (HopKind::Duplicate, Some(o)) => id = o,
                (HopKind::Send, _) => return Some(first),
                _ => return None,
            }
        }
        None
    }

    /// Packet ids of the delivered lost duplicates, in order of delivery.
    pub fn lost_ids(&self) -> Vec<u64> {
        let mut seen = FxHashSet::default();
        self.lost
            .iter()
            .map(|&i| self.d.packets[i].packet)
            .filter(|id| seen.insert(*id))
            .collect()
    }
}

// ---- reading CSV files ----

/// The columns `events.csv` must have; the identity columns came later than the rest.
const EVENT_COLS: [&str; 19] = [
    "time", "kind", "node", "packet", "src", "dst", "ttl", "flags", "seq", "ack", "len", "sport",
    "dport", "conn", "window", "tsval", "tsecr", "hops", "note",
];
/// Columns an `events.csv` written before packets carried their identity lacks.
const IDENTITY_COLS: [&str; 4] = ["sport", "dport", "conn", "hops"];
const STATE_COLS: [&str; 5] = ["time", "conn", "local", "remote", "incarnation"];
const CONN_COLS: [&str; 12] = [
    "host",
    "conn",
    "incarnation",
    "local",
    "remote",
    "iss",
    "irs",
    "opened",
    "released",
    "bytes_written",
    "bytes_delivered",
    "bytes_corrupted",
];
const COUNT_COLS: [&str; 4] = ["time", "host", "state", "count"];

/// One host's failed `connect()` calls with one errno, as steps of the count so far.
#[derive(Clone, Debug, Default)]
pub struct FailedConnects {
    /// The host.
    pub host: String,
    /// The errno's C name (`EADDRNOTAVAIL`).
    pub errno: String,
    /// (time in ns, failures so far).
    pub steps: Vec<(u64, u64)>,
}

/// A CSV file with named columns.
struct Table {
    path: PathBuf,
    reader: csv::Reader<Box<dyn io::Read + Send>>,
    cols: FxHashMap<String, usize>,
}

/// One record of a [`Table`], with typed access by column name.
struct Rec<'a> {
    rec: &'a csv::StringRecord,
    cols: &'a FxHashMap<String, usize>,
}

impl Table {
    /// Opens `path` and checks it has `required` columns (`to` is needed too for states);
    /// `None` if the file does not exist.
    fn open(path: &Path, required: &[&str]) -> Result<Option<Table>, FigureError> {
        let shown = path.display();
        // A compressed run wrote `events.csv.zst`: read it the same way.
        let file = match crate::report::open_output(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FigureError::Input(format!("cannot read {shown}: {e}"))),
        };
        let mut reader = csv::ReaderBuilder::new().from_reader(file);
        let header = reader
            .headers()
            .map_err(|e| FigureError::Input(format!("{shown}:1: {}", csv_message(&e))))?;
        let cols: FxHashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, c)| (c.to_string(), i))
            .collect();
        let mut need: Vec<&str> = required.to_vec();
        if path.ends_with("states.csv") {
            need.push("to");
        }
        let missing: Vec<&str> = need
            .into_iter()
            .filter(|c| !cols.contains_key(*c))
            .collect();
        if path.ends_with("events.csv") && IDENTITY_COLS.iter().any(|c| missing.contains(c)) {
            return Err(FigureError::Input(format!(
                "{shown}: written by an older timewait (no `sport`, `dport`, `conn`, `hops` columns, so packets cannot be told apart by connection); rerun the scenario to draw its figures"
            )));
        }
        if !missing.is_empty() {
            return Err(FigureError::Input(format!(
                "{shown}:1: missing column{} {} (the header is `{}`)",
                plural(missing.len() as u64),
                missing
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                header.iter().collect::<Vec<_>>().join(",")
            )));
        }
        Ok(Some(Table {
            path: path.to_path_buf(),
            reader,
            cols,
        }))
    }

    /// Calls `f` on every record; the first error is returned with the file and line.
    fn rows(
        &mut self,
        mut f: impl FnMut(&Rec<'_>) -> Result<(), String>,
    ) -> Result<(), FigureError> {
        let mut rec = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut rec) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    let line = rec.position().map_or(0, |p| p.line());
                    f(&Rec {
                        rec: &rec,
                        cols: &self.cols,
                    })
                    .map_err(|m| {
                        FigureError::Input(format!("{}:{line}: {m}", self.path.display()))
                    })?;
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Err(FigureError::Input(format!(
                        "{}:{line}: {}",
                        self.path.display(),
                        csv_message(&e)
                    )));
                }
            }
        }
    }
}

/// A csv error without the position (the caller puts file and line first).
fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_string(),
        _ => e.to_string(),
    }
}

impl Rec<'_> {
    fn get(&self, col: &str) -> &str {
        self.cols
            .get(col)
            .and_then(|&i| self.rec.get(i))
            .unwrap_or("")
    }

    fn parse<T: FromStr>(&self, col: &str, what: &str) -> Result<T, String> {
        let v = self.get(col);
        v.parse::<T>()
            .map_err(|_| format!("column `{col}`: `{v}` is not {what}"))
    }

    fn opt<T: FromStr>(&self, col: &str, what: &str) -> Result<Option<T>, String> {
        if self.get(col).is_empty() {
            Ok(None)
        } else {
            self.parse(col, what).map(Some)
        }
    }

    /// Seconds with up to nine decimals ("3.200000000"), as nanoseconds.
    fn time(&self, col: &str) -> Result<u64, String> {
        let v = self.get(col);
        parse_time(v).ok_or_else(|| format!("column `{col}`: `{v}` is not a time in seconds"))
    }
}

/// "3.2" or "3.200000000" as nanoseconds; exact, never through floats.
fn parse_time(s: &str) -> Option<u64> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if secs.is_empty() || !digits(secs) || !digits(frac) || frac.len() > 9 {
        return None;
    }
    let whole: u64 = secs.parse().ok()?;
    let mut nanos: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..9 {
        nanos *= 10;
    }
    whole.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::State;

    #[test]
    fn each_packets_rows_are_kept_in_file_order_and_found_by_id() {
        let row = |packet: u64, time: u64| PacketRow {
            time,
            kind: HopKind::Send,
            node: 0,
            packet,
            src: std::net::Ipv4Addr::LOCALHOST,
            dst: std::net::Ipv4Addr::LOCALHOST,
            ttl: 64,
            flags: None,
            seq: None,
            ack: None,
            len: 0,
            ports: None,
            conn: None,
            timestamps: None,
            hops: 0,
            copy_of: None,
            reason: None,
        };
        // Hops of packets 7, 3 and 9 interleaved, as a file holds them in time order.
        let rows: Vec<PacketRow> = [7, 3, 7, 9, 3, 7, 9]
            .iter()
            .enumerate()
            .map(|(t, &p)| row(p, t as u64))
            .collect();
        let listed = |ix: &PacketRows| -> Vec<(u64, Vec<usize>)> {
            ix.iter().map(|(id, r)| (*id, r.to_vec())).collect()
        };
        let ix = PacketRows::new(&rows);
        assert_eq!(
            listed(&ix),
            [(3, vec![1, 4]), (7, vec![0, 2, 5]), (9, vec![3, 6])]
        );
        assert_eq!(&ix[&7], &[0, 2, 5]);
        assert!(ix.contains_key(&9) && !ix.contains_key(&8));
        assert_eq!((ix.get(&10), ix.get(&2), ix.get(&0)), (None, None, None));
        // Ids too far apart to count are sorted, with the same result.
        assert_eq!(listed(&PacketRows::sorted(&rows)), listed(&ix));
        let mut far = rows.clone();
        far[3].packet = 1 << 40;
        far[6].packet = 1 << 40;
        let ix = PacketRows::new(&far);
        assert_eq!(&ix[&(1 << 40)], &[3, 6]);
        assert_eq!(listed(&ix), listed(&PacketRows::sorted(&far)));
        assert_eq!(PacketRows::new(&[]).iter().count(), 0);
    }

    #[test]
    fn socket_counts_keep_each_lone_change_and_every_extreme_up_to_the_cap() {
        let mut d = FigureData::default();
        let n = 10 * MAX_COUNT_SAMPLES as u64 + 3;
        for i in 0..n {
            // TIME_WAIT saws between 0 and 50 every microsecond; CLOSE_WAIT is held once, for
            // a nanosecond, in the middle of the run.
            d.push_count(i * 1_000, "h", "TIME_WAIT", if i % 2 == 0 { 50 } else { 0 });
            let cw = u64::from(i == n / 2);
            d.push_count(i * 1_000, "h", "CLOSE_WAIT", cw);
            d.push_count(i * 1_000 + 1, "h", "CLOSE_WAIT", 0);
        }
        let tw = &d.counts[0].1[0];
        assert!(tw.len() <= MAX_COUNT_SAMPLES, "{}", tw.len());
        // Every 1 % of the run still reaches both extremes.
        let step = n * 1_000 / 100;
        for w in 0..100 {
            let inside: Vec<u64> = tw.iter().filter(|p| p.0 / step == w).map(|p| p.1).collect();
            assert!(inside.contains(&0) && inside.contains(&50), "window {w}");
        }
        assert!(
            d.counts[0].1[1].iter().any(|s| s.1 > 0),
            "the lone change is kept"
        );
        assert!(d.held(0, 1));
        assert!(!d.held(0, 2));
        assert_eq!(d.count_end(0, 0), Some((n - 1) * 1_000));
    }

    #[test]
    fn a_runs_counts_feed_the_lines_of_the_states_they_name() {
        for (k, at) in COUNTED_AT.iter().enumerate() {
            assert_eq!(State::ALL[*at].name(), COUNTED[k]);
        }
    }

    #[test]
    fn times_parse_exactly() {
        assert_eq!(parse_time("1.000000000"), Some(1_000_000_000));
        assert_eq!(parse_time("2.5"), Some(2_500_000_000));
        assert_eq!(parse_time("0.000000001"), Some(1));
        assert_eq!(parse_time("7"), Some(7_000_000_000));
        for bad in ["", ".5", "1.0000000001", "-1.0", "1e3", "a.b", "1.2.3"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
