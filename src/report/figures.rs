//! A run's figures: `ladder`, `timeseq`, `states` and `socket_counts`, each as SVG and PNG.
//!
//! - `ladder`: packets between hosts and routers, one lane per node, time running down; each
//!   packet labelled once like tcpdump ("#4 P. 1:1001(1000) ack 1", sequence and ACK numbers
//!   relative to the connection's ISN); lost duplicates in the highlight colour over their
//!   whole trip; TTL deaths marked with an X; dropped packets named in the title.
//! - `timeseq`: tcptrace-style sequence numbers over time, one panel per connection that sent
//!   data: first transmissions, retransmissions, the ACKs the sender received, and the lost
//!   duplicate that took the place of its data (the corrupting segment).
//! - `states`: one row per socket, a coloured bar per TCP state.
//! - `socket_counts`: TIME_WAIT, CLOSE_WAIT and ESTABLISHED sockets per host over time.
//!
//! Everything is drawn from one in-memory model, [`FigureData`], which holds exactly what the
//! run's CSV files hold (`events.csv`, `states.csv`, `connections.csv`, `socket_counts.csv`).
//! `timewait run` fills it from the recorder as the run goes ([`FigureData::for_run`] and its
//! `on_*` methods); `timewait plot DIR` fills it by reading those files back
//! ([`FigureData::read_dir`]). Both push the same rows through the same code, and every figure
//! is derived from the model alone, so the two draw the same bytes. A figure whose file was
//! turned off in `[output]`, or that would be empty (no TCP data: no `timeseq`), is not drawn.
//!
//! Because `events.csv` carries addresses but no ports, a packet is attributed to a
//! connection by host, addresses and time (the connection that was open on the sending host
//! when it left), and among connections open at once by which one's sequence space holds it.
//! A *lost duplicate* is then what the audit calls one: a TCP segment with payload delivered
//! after the connection that sent it was released (`released` in `connections.csv`); the
//! tests check that this finds exactly the audit's lost duplicates in every bundled scenario.
//!
//! Caps, so that big runs stay readable (each figure's title says when one applies):
//! - ladder: whole packets in send order, at most [`LADDER_HOPS`] hops in all, plus up to
//!   [`LADDER_LOST`] lost duplicates with every hop of their trip. The packets start at the
//!   first one unless the first lost duplicate would not fit; then they start
//!   [`LADDER_LEAD`] packets before it. Idle stretches (nothing in flight but lost
//!   duplicates) longer than a fifth of the time around them are cut out, leaving at most
//!   [`LADDER_PANELS`] panels, so a burst long after another does not squash both into lines.
//! - timeseq: at most [`TIMESEQ_PANELS`] connections, those with a corrupting segment first,
//!   then those with retransmissions, then the others in opening order.
//! - states: the first [`MAX_ROWS`] sockets to appear.
//! - socket_counts: the first [`COUNT_HOSTS`] hosts (by first appearance) with any count.
//! - at most [`MAX_PACKET_ROWS`] packet events are kept; later ones are left out of every
//!   figure (said in the titles).

use super::plural;
use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rustc_hash::{FxHashMap, FxHashSet};

use super::TcpTally;
use super::plot::{
    Arrow, Figure, Ladder, LineChart, MAX_ROWS, Mark, PlotError, Row, Series, Style, TimeSeq,
    Timeline, save_both,
};
use crate::net::{Body, Icmp, Network, NodeId, Packet};
use crate::scenario::OutputOptions;
use crate::sim::SimTime;
use crate::tcp::{ConnId, ConnRecord, Flags, State, TcpLog};
use crate::world::{PacketEvent, PacketEventKind};

/// Hops drawn in the ladder at most (besides the lost duplicates' own).
pub const LADDER_HOPS: usize = 300;
/// Lost duplicates drawn in the ladder at most.
pub const LADDER_LOST: usize = 3;
/// Panels of the ladder at most (busy stretches of time between idle ones).
pub const LADDER_PANELS: usize = 4;
/// Packets shown before the first lost duplicate when the ladder cannot start at the first.
pub const LADDER_LEAD: usize = 8;
/// Connections (one panel each) in `timeseq` at most.
pub const TIMESEQ_PANELS: usize = 4;
/// Hosts in `socket_counts` at most (one palette colour each).
pub const COUNT_HOSTS: usize = 8;
/// Packet events kept for the figures at most (about 100 bytes each, so about 100 MB).
pub const MAX_PACKET_ROWS: usize = 1_000_000;
/// Samples kept per host and state for `socket_counts` at most, so a long run's figure model
/// stays small: when a line reaches this many, every other sample is dropped and from then on
/// only every 2nd (4th, 8th...) sample of `socket_counts.csv` is kept. The line then shows
/// evenly spaced true samples (the figure is 800 px wide, so 4,096 still fill it).
pub const MAX_COUNT_SAMPLES: usize = 4096;

/// The CSV files the figures are drawn from, in the order they are read.
pub const SOURCES: [&str; 4] = [
    "events.csv",
    "states.csv",
    "connections.csv",
    "socket_counts.csv",
];

/// Socket states whose counts are drawn, in panel order.
pub const COUNTED: [&str; 3] = ["TIME_WAIT", "CLOSE_WAIT", "ESTABLISHED"];

// ---- the model ----

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
    /// For a link's copy: the packet it copies.
    pub copy_of: Option<u64>,
    /// For a drop: why ("loss", "queue_full", ...).
    pub reason: Option<String>,
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
    /// `connections.csv`.
    pub connections: Vec<ConnRow>,
    /// The first [`MAX_ROWS`] sockets of `states.csv`.
    pub sockets: Vec<SocketRow>,
    /// Sockets in `states.csv` in all.
    pub socket_count: usize,
    /// Hosts of `socket_counts.csv` in order of first appearance, with, per [`COUNTED`] state,
    /// the (time in ns, count) samples.
    pub counts: Vec<(String, HostCounts)>,
    /// Per host in `counts` and [`COUNTED`] state: samples seen, the stride they are kept at,
    /// and whether any was above zero (so decimation never hides a state that was held).
    count_seen: Vec<[CountLine; 3]>,
    node_index: FxHashMap<String, u32>,
    /// `node_index` by the run's node id, so a run's packets are not looked up by name.
    node_by_id: Vec<Option<u32>>,
    /// Every socket of `states.csv` seen so far, with its index in `sockets` if kept.
    socket_index: FxHashMap<String, Option<usize>>,
    /// Which rows a run records (the files `[output]` turns on).
    record: Record,
}

/// What [`MAX_COUNT_SAMPLES`] decimation needs to know of one line of `socket_counts`.
#[derive(Clone, Copy, Debug, Default)]
struct CountLine {
    seen: u64,
    /// Keep sample `seen` when it is a multiple of this (0 before the first decimation).
    stride: u64,
    held: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct Record {
    events: bool,
    states: bool,
    connections: bool,
}

impl FigureData {
    /// An empty model that records what a run with `opts` writes to its CSV files.
    pub fn for_run(opts: &OutputOptions) -> FigureData {
        FigureData {
            record: Record {
                events: opts.events,
                states: opts.states,
                connections: opts.connections,
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
                self.socket_count += 1;
                let k = (self.sockets.len() < MAX_ROWS).then_some(self.sockets.len());
                if k.is_some() {
                    self.sockets.push(SocketRow {
                        conn: conn.to_string(),
                        local,
                        remote,
                        incarnation,
                        changes: Vec::new(),
                    });
                }
                self.socket_index.insert(conn.to_string(), k);
                k
            }
        };
        if let Some(k) = kept {
            self.sockets[k].changes.push((time, to.to_string()));
        }
    }

    fn push_count(&mut self, time: u64, host: &str, state: &str, count: u64) {
        let Some(k) = COUNTED.iter().position(|s| *s == state) else {
            return;
        };
        let i = match self.counts.iter().position(|(h, _)| h == host) {
            Some(i) => i,
            None => {
                self.counts.push((host.to_string(), Default::default()));
                self.count_seen.push(Default::default());
                self.counts.len() - 1
            }
        };
        let line = &mut self.count_seen[i][k];
        let samples = &mut self.counts[i].1[k];
        let n = line.seen;
        line.seen += 1;
        line.held |= count > 0;
        if !n.is_multiple_of(line.stride.max(1)) {
            return;
        }
        if samples.len() >= MAX_COUNT_SAMPLES {
            // Kept samples are at multiples of the stride: keeping every other one leaves the
            // multiples of twice the stride, which this sample may not be.
            let mut j = 0;
            samples.retain(|_| {
                j += 1;
                j % 2 == 1
            });
            line.stride = line.stride.max(1) * 2;
            if !n.is_multiple_of(line.stride) {
                return;
            }
        }
        samples.push((time, count));
    }

    /// Whether `socket_counts` ever counted a socket of [`COUNTED`] state `k` on host `h`.
    fn held(&self, h: usize, k: usize) -> bool {
        match self.count_seen.get(h) {
            Some(lines) => lines[k].held,
            // Counts filled in by hand rather than through `push_count`.
            None => self.counts[h].1[k].iter().any(|s| s.1 > 0),
        }
    }

    // -- from the run --

    /// A packet event, as `events.csv` records it.
    pub fn on_packet(&mut self, net: &Network, ev: &PacketEvent<'_>) {
        if !self.record.events {
            return;
        }
        let p: &Packet = ev.packet;
        let (flags, seq, ack, len) = match &p.body {
            Body::Tcp(s) => (
                Some(s.flags),
                Some(s.seq.0 as u64),
                s.flags.ack().then_some(s.ack.0),
                s.payload.len() as u32,
            ),
            Body::Udp(d) => (None, Some(d.seq), None, d.len),
            Body::Icmp(Icmp::TimeExceeded(_)) => (None, None, None, 0),
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

    /// A TCP log entry, after `tally` has counted it (it numbers the incarnations).
    pub fn on_tcp(
        &mut self,
        net: &Network,
        time: SimTime,
        node: NodeId,
        log: &TcpLog,
        tally: &TcpTally,
    ) {
        let conn_name = |c: ConnId| {
            let host = net
                .nodes
                .get(c.host as usize)
                .map_or("?", |n| n.name.as_str());
            format!("{host}#{}", c.n)
        };
        match log {
            TcpLog::State(t) if self.record.states => {
                let inc = tally.incarnation(t.conn);
                self.push_transition(
                    time.as_nanos(),
                    &conn_name(t.conn),
                    t.tuple.local,
                    t.tuple.remote,
                    inc,
                    t.to.name(),
                );
            }
            TcpLog::Closed(r) if self.record.connections => {
                let row = conn_row(net, node, r, tally, conn_name(r.conn));
                self.connections.push(row);
            }
            _ => {}
        }
    }

    /// A host's socket counts, in [`State::ALL`] order.
    pub fn on_counts(&mut self, net: &Network, time: SimTime, node: NodeId, counts: &[u64; 11]) {
        let host = &net.node(node).name;
        for (state, n) in State::ALL.iter().zip(counts) {
            self.push_count(time.as_nanos(), host, state.name(), *n);
        }
    }

    // -- from the files --

    /// Reads whichever of [`SOURCES`] `dir` holds. Errors name the file and line.
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
                d.connections.push(ConnRow {
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

// ---- reading CSV files ----

const EVENT_COLS: [&str; 12] = [
    "time", "kind", "node", "packet", "src", "dst", "ttl", "flags", "seq", "ack", "len", "note",
];
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

/// A CSV file with named columns.
struct Table {
    path: PathBuf,
    reader: csv::Reader<fs::File>,
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
        let file = match fs::File::open(path) {
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

// ---- errors and writing ----

/// Why figures could not be drawn or written.
#[derive(Debug)]
pub enum FigureError {
    /// The folder or one of its files is not what a run writes (the message names it).
    Input(String),
    /// Writing failed.
    Io(PathBuf, io::Error),
    /// Drawing failed.
    Plot(PathBuf, PlotError),
}

impl fmt::Display for FigureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FigureError::Input(m) => f.write_str(m),
            FigureError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
            FigureError::Plot(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl std::error::Error for FigureError {}

/// The figures of one run; `None` where there is nothing to draw.
pub struct RunFigures {
    /// `ladder`: packet sequence chart, one panel per busy stretch of time.
    pub ladder: Option<Stack<Ladder>>,
    /// `timeseq`: sequence numbers over time, one panel per connection.
    pub timeseq: Option<Stack<TimeSeq>>,
    /// `states`: each socket's TCP state over time.
    pub states: Option<Timeline>,
    /// `socket_counts`: sockets per state and host over time.
    pub socket_counts: Option<Stack<LineChart>>,
}

impl RunFigures {
    /// How many figures there are.
    pub fn len(&self) -> usize {
        self.ladder.is_some() as usize
            + self.timeseq.is_some() as usize
            + self.states.is_some() as usize
            + self.socket_counts.is_some() as usize
    }

    /// True if there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes `NAME.svg` and `NAME.png` for each figure into `dir`; returns the file names
    /// written, in order.
    pub fn save(&self, dir: &Path) -> Result<Vec<String>, FigureError> {
        let mut files = Vec::new();
        let style = Style::default();
        let mut put = |name: &str, f: &dyn Fn(&Path) -> Result<(), PlotError>| {
            let base = dir.join(name);
            f(&base).map_err(|e| match e {
                PlotError::Io(io) => FigureError::Io(base.clone(), io),
                other => FigureError::Plot(base.clone(), other),
            })?;
            files.push(format!("{name}.svg"));
            files.push(format!("{name}.png"));
            Ok::<(), FigureError>(())
        };
        if let Some(l) = &self.ladder {
            put("ladder", &|b| save_both(b, &style, l))?;
        }
        if let Some(t) = &self.timeseq {
            // Thicker bars: a segment is one bar, and at the default width it is a hairline.
            let s = Style {
                line_width: 4,
                ..style.clone()
            };
            put("timeseq", &|b| save_both(b, &s, t))?;
        }
        if let Some(t) = &self.states {
            put("states", &|b| save_both(b, &style, t))?;
        }
        if let Some(c) = &self.socket_counts {
            put("socket_counts", &|b| save_both(b, &style, c))?;
        }
        Ok(files)
    }
}

/// `timewait plot DIR` for a run's folder: redraws the figures from its CSV files. Everything
/// is read and drawn into a hidden staging folder inside `dir` first, and the figures are
/// moved into `dir` only when all are done, so a failure leaves `dir` as it was.
pub fn plot_dir(dir: &Path) -> Result<Vec<String>, FigureError> {
    if !dir.is_dir() {
        return Err(FigureError::Input(format!(
            "{}: no such folder",
            dir.display()
        )));
    }
    let data = FigureData::read_dir(dir)?;
    let figs = data.figures();
    if figs.is_empty() {
        return Err(FigureError::Input(format!(
            "{}: nothing to draw: its CSV files hold no packets, state changes or socket counts",
            dir.display()
        )));
    }
    let stage = FigureStage::create(dir)?;
    let files = figs.save(stage.dir())?;
    stage.commit(&files)?;
    Ok(files)
}

/// A hidden folder inside an output folder where figures are drawn before they are moved into
/// it; removed when dropped.
pub struct FigureStage {
    stage: PathBuf,
    target: PathBuf,
}

impl FigureStage {
    /// Creates `.figures.partial-PID` in `dir`, after removing what dead processes left there.
    pub fn create(dir: &Path) -> Result<FigureStage, FigureError> {
        crate::report::clean_stale(dir);
        let stage = dir.join(format!(".figures.partial-{}", std::process::id()));
        let io_err = |e| FigureError::Io(stage.clone(), e);
        if stage.exists() {
            fs::remove_dir_all(&stage).map_err(io_err)?;
        }
        crate::report::output::make_stage(&stage).map_err(io_err)?;
        Ok(FigureStage {
            stage: stage.clone(),
            target: dir.to_path_buf(),
        })
    }

    /// The staging folder.
    pub fn dir(&self) -> &Path {
        &self.stage
    }

    /// Moves `files` from the staging folder into the output folder.
    pub fn commit(self, files: &[String]) -> Result<(), FigureError> {
        for f in files {
            let to = self.target.join(f);
            fs::rename(self.stage.join(f), &to).map_err(|e| FigureError::Io(to, e))?;
        }
        Ok(())
    }
}

impl Drop for FigureStage {
    fn drop(&mut self) {
        crate::report::output::remove_stage(&self.stage);
    }
}

// ---- a figure of stacked panels ----

/// Panels drawn one under another, under a common title.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stack<F> {
    /// Title over all panels.
    pub title: String,
    /// The panels, top to bottom.
    pub panels: Vec<F>,
    /// Height of each panel in pixels, unless `heights` gives it.
    pub panel_height: u32,
    /// Heights of the panels, in order (the panels beyond take `panel_height`).
    pub heights: Vec<u32>,
}

impl<F> Stack<F> {
    fn height(&self, i: usize) -> u32 {
        self.heights
            .get(i)
            .copied()
            .unwrap_or(self.panel_height)
            .clamp(100, 2000)
    }

    fn header(&self, style: &Style) -> u32 {
        if self.title.is_empty() {
            0
        } else {
            (style.title_size * 1.2) as u32 + 20
        }
    }
}

impl<F: Figure> Figure for Stack<F> {
    fn size(&self, style: &Style) -> (u32, u32) {
        let style = style.sanitized();
        let h = self.header(&style)
            + (0..self.panels.len().max(1))
                .map(|i| self.height(i))
                .sum::<u32>();
        (style.width, h)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &Style,
    ) -> Result<(), PlotError> {
        let style = &style.sanitized();
        let (w, _) = area.dim_in_pixel();
        let header = self.header(style);
        if header > 0 {
            let mut text = style.text(style.title_size, style.ink);
            // Shrunk to fit the width rather than cut.
            if let Ok((tw, _)) = text.font.box_size(&self.title)
                && tw + 24 > w
            {
                let size = (style.title_size * (w as f64 - 24.0) / tw as f64).max(8.0);
                text = style.text(size, style.ink);
            }
            area.draw(&Text::new(
                self.title.clone(),
                (w as i32 / 2, 12),
                text.pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        let (_, body) = area.split_vertically(header);
        let mut rest = body;
        for (i, p) in self.panels.iter().enumerate() {
            let (top, below) = rest.split_vertically(self.height(i));
            p.draw(&top, style)?;
            rest = below;
        }
        Ok(())
    }
}

// ---- from the model to the figures ----

/// Seconds, for plotting.
fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// What the figures derive from the packet rows: which connection sent each packet, and the
/// lost duplicates.
struct Analysis<'a> {
    d: &'a FigureData,
    /// Rows of each packet, by id (send order).
    packets: BTreeMap<u64, Vec<usize>>,
    /// Connections by (host, local address, remote address), sorted by opening time.
    by_key: FxHashMap<(&'a str, Ipv4Addr, Ipv4Addr), Vec<usize>>,
    /// The connection that sent each packet, if known, and whether it was open then.
    sender: FxHashMap<u64, (usize, bool)>,
    /// Delivered lost duplicates: (row index of the delivery), in file order.
    lost: Vec<usize>,
    /// Routers: nodes that forward or expire packets.
    routers: Vec<bool>,
}

/// Connections scanned back per lookup at most (connections open at once on one address pair).
const SCAN: usize = 1024;

impl<'a> Analysis<'a> {
    fn new(d: &'a FigureData) -> Analysis<'a> {
        let mut packets: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        let mut routers = vec![false; d.nodes.len()];
        for (i, r) in d.packets.iter().enumerate() {
            packets.entry(r.packet).or_default().push(i);
            if matches!(r.kind, HopKind::Forward | HopKind::TtlExpired) {
                routers[r.node as usize] = true;
            }
        }
        let mut by_key: FxHashMap<(&str, Ipv4Addr, Ipv4Addr), Vec<usize>> = FxHashMap::default();
        for (i, c) in d.connections.iter().enumerate() {
            by_key
                .entry((c.host.as_str(), *c.local.ip(), *c.remote.ip()))
                .or_default()
                .push(i);
        }
        for v in by_key.values_mut() {
            v.sort_by_key(|&i| (d.connections[i].opened, i));
        }
        let mut a = Analysis {
            d,
            packets,
            by_key,
            sender: FxHashMap::default(),
            lost: Vec::new(),
            routers,
        };
        a.attribute();
        a
    }

    /// The connection on `host` between `local` and `remote` open at `t` for which `fits`
    /// holds (else any open one, most recent first); `(index, false)` for the most recently
    /// opened one when none was open.
    fn find(
        &self,
        host: &str,
        local: Ipv4Addr,
        remote: Ipv4Addr,
        t: u64,
        fits: impl Fn(&ConnRow) -> bool,
    ) -> Option<(usize, bool)> {
        let list = self.by_key.get(&(host, local, remote))?;
        let conns = &self.d.connections;
        let end = list.partition_point(|&i| conns[i].opened <= t);
        let mut open_one = None;
        for &i in list[..end].iter().rev().take(SCAN) {
            let c = &conns[i];
            if c.released >= t {
                if fits(c) {
                    return Some((i, true));
                }
                open_one.get_or_insert(i);
            }
        }
        match open_one {
            Some(i) => Some((i, true)),
            None => list[..end].last().map(|&i| (i, false)),
        }
    }

    /// The row where packet `id`'s life began: its send, or its original's for a copy.
    fn origin(&self, id: u64) -> Option<&'a PacketRow> {
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

    fn attribute(&mut self) {
        let d = self.d;
        let mut sender = FxHashMap::default();
        for &id in self.packets.keys() {
            let Some(o) = self.origin(id) else { continue };
            let (Some(flags), Some(seq)) = (o.flags, o.seq) else {
                continue;
            };
            let seq = seq as u32;
            let host = d.nodes[o.node as usize].as_str();
            let found = self.find(host, o.src, o.dst, o.time, |c| {
                let rel = seq.wrapping_sub(c.iss) as u64;
                if flags.syn() {
                    rel == 0
                } else {
                    rel >= 1 && rel <= c.written + 2
                }
            });
            if let Some(f) = found {
                sender.insert(id, f);
            }
        }
        self.sender = sender;
        for (i, r) in d.packets.iter().enumerate() {
            if r.kind != HopKind::Deliver || r.flags.is_none() || r.len == 0 {
                continue;
            }
            if let Some(&(c, true)) = self.sender.get(&r.packet)
                && d.connections[c].released < r.time
            {
                self.lost.push(i);
            }
        }
    }

    /// Packet ids of the delivered lost duplicates, in order of delivery.
    fn lost_ids(&self) -> Vec<u64> {
        let mut seen = FxHashSet::default();
        self.lost
            .iter()
            .map(|&i| self.d.packets[i].packet)
            .filter(|id| seen.insert(*id))
            .collect()
    }

    /// The receiving connection whose stream a lost duplicate delivered at `row` corrupted:
    /// one open then, with corrupted bytes, whose window held it.
    fn corrupted_receiver(&self, row: &PacketRow) -> Option<usize> {
        let seq = row.seq? as u32;
        let host = self.d.nodes[row.node as usize].as_str();
        let (r, open) = self.find(host, row.dst, row.src, row.time, |c| {
            c.corrupted > 0
                && c.irs.is_some_and(|irs| {
                    let rel = seq.wrapping_sub(irs) as u64;
                    rel >= 1 && rel <= c.delivered
                })
        })?;
        let c = &self.d.connections[r];
        let rel = seq.wrapping_sub(c.irs?) as u64;
        (open && c.corrupted > 0 && rel >= 1 && rel <= c.delivered).then_some(r)
    }

    /// The connection on the other end of `r` (its ISS is `r`'s IRS, their lives overlap).
    fn peer(&self, r: usize, sender_host: &str) -> Option<usize> {
        let c = &self.d.connections[r];
        let list = self
            .by_key
            .get(&(sender_host, *c.remote.ip(), *c.local.ip()))?;
        list.iter().copied().find(|&i| {
            let p = &self.d.connections[i];
            p.local == c.remote
                && p.remote == c.local
                && Some(p.iss) == c.irs
                && p.opened <= c.released
                && p.released >= c.opened
        })
    }
}

impl FigureData {
    /// Packet ids of the lost duplicates the figures highlight, in order of delivery: TCP
    /// segments with payload delivered after the connection that sent them was released.
    pub fn lost_duplicates(&self) -> Vec<u64> {
        Analysis::new(self).lost_ids()
    }

    /// The figures this data gives.
    pub fn figures(&self) -> RunFigures {
        let a = Analysis::new(self);
        let note = if self.packets_left_out > 0 {
            format!(
                " (first {} packet events; {} more not drawn)",
                self.packets.len(),
                self.packets_left_out
            )
        } else {
            String::new()
        };
        RunFigures {
            ladder: ladder(&a, &note),
            timeseq: timeseq(&a, &note),
            states: states(self),
            socket_counts: socket_counts(self),
        }
    }
}

/// tcpdump-like text for a packet: "#4 P. 1:1001(1000) ack 1", sequence numbers relative to
/// the sending connection's ISN when it is known.
fn packet_label(row: &PacketRow, conn: Option<&ConnRow>) -> String {
    let id = row.packet;
    let Some(flags) = row.flags else {
        return match row.seq {
            Some(seq) => format!("#{id} datagram {seq} ({} B)", row.len),
            None => format!("#{id} ICMP time exceeded"),
        };
    };
    let seq = row.seq.unwrap_or(0) as u32;
    let rel_seq = conn.map_or(seq, |c| seq.wrapping_sub(c.iss));
    let mut s = format!("#{id} {flags}");
    if flags.syn() || flags.fin() || flags.rst() || row.len > 0 {
        s.push_str(&format!(
            " {rel_seq}:{}({})",
            rel_seq.wrapping_add(row.len),
            row.len
        ));
    }
    if let Some(ack) = row.ack {
        let rel = match conn.and_then(|c| c.irs) {
            Some(irs) => ack.wrapping_sub(irs),
            None => ack,
        };
        s.push_str(&format!(" ack {rel}"));
    }
    s
}

fn ladder(a: &Analysis<'_>, note: &str) -> Option<Stack<Ladder>> {
    let d = a.d;
    let ids: Vec<u64> = a
        .packets
        .iter()
        .filter(|(_, rows)| rows.len() >= 2)
        .map(|(id, _)| *id)
        .collect();
    if ids.is_empty() {
        return None;
    }
    let hops = |id: &u64| a.packets[id].len() - 1;
    let lost: Vec<u64> = a
        .lost_ids()
        .into_iter()
        .filter(|id| a.packets.contains_key(id))
        .take(LADDER_LOST)
        .collect();
    let budget = LADDER_HOPS;

    // A run of packets in send order: from the first, or from a little before the first lost
    // duplicate's original when the run from the first would not reach it.
    let start = match lost.first() {
        Some(l) => {
            let origin = a.origin(*l).map_or(*l, |o| o.packet);
            let at = ids.partition_point(|id| *id < origin);
            let upto: usize = ids[..at.min(ids.len())].iter().map(hops).sum();
            if upto > budget {
                at.saturating_sub(LADDER_LEAD)
            } else {
                0
            }
        }
        None => 0,
    };
    let mut end = start;
    let mut used = 0;
    while end < ids.len() {
        let h = if lost.contains(&ids[end]) {
            0
        } else {
            hops(&ids[end])
        };
        if used + h > budget && end > start {
            break;
        }
        used += h;
        end += 1;
    }
    let mut shown: Vec<u64> = ids[start..end].to_vec();
    let outside: Vec<u64> = lost
        .iter()
        .copied()
        .filter(|l| !shown.contains(l))
        .collect();
    shown.extend(&outside);
    shown.sort_unstable();

    // Lanes: hosts that spoke first (clients, senders), routers, then the other hosts (the
    // ones that answer), each in order of appearance.
    let mut first_seen: Vec<(usize, u32)> = Vec::new();
    let mut seen = vec![false; d.nodes.len()];
    for id in &shown {
        for &i in &a.packets[id] {
            let n = d.packets[i].node;
            if !seen[n as usize] {
                seen[n as usize] = true;
                first_seen.push((i, n));
            }
        }
    }
    first_seen.sort_unstable();
    let group = |&(i, n): &(usize, u32)| {
        if a.routers[n as usize] {
            1
        } else if d.packets[i].kind == HopKind::Send {
            0
        } else {
            2
        }
    };
    let mut lanes: Vec<u32> = Vec::new();
    for g in 0..3 {
        lanes.extend(first_seen.iter().filter(|e| group(e) == g).map(|e| e.1));
    }
    let lane_of = |n: u32| lanes.iter().position(|&l| l == n).unwrap_or(0);

    let mut arrows = Vec::new();
    // The packet of each arrow.
    let mut owners: Vec<u64> = Vec::new();
    let mut deaths = Vec::new();
    for id in &shown {
        let rows = &a.packets[id];
        let highlight = lost.contains(id);
        let conn = a.sender.get(id).map(|&(c, _)| &d.connections[c]);
        let first = &d.packets[rows[0]];
        let mut label = packet_label(first, conn);
        if let Some(o) = first.copy_of {
            label.push_str(&format!(" (copy of #{o})"));
        }
        let mut labelled = false;
        for w in rows.windows(2) {
            let (p, q) = (&d.packets[w[0]], &d.packets[w[1]]);
            if p.node == q.node {
                continue;
            }
            let text = if !labelled {
                labelled = true;
                label.clone()
            } else {
                String::new()
            };
            owners.push(*id);
            arrows.push(Arrow {
                from: lane_of(p.node),
                to: lane_of(q.node),
                sent: secs(p.time),
                arrived: secs(q.time),
                label: text,
                highlight,
            });
        }
        for &i in rows {
            let r = &d.packets[i];
            if r.kind == HopKind::TtlExpired {
                deaths.push(Mark {
                    lane: lane_of(r.node),
                    time: secs(r.time),
                    label: format!("#{}", r.packet),
                });
            }
        }
    }

    let total = ids.len();
    let mut title = if start == 0 && end == ids.len() {
        format!("Packet sequence: all {total} packets")
    } else {
        format!(
            "Packet sequence: packets #{}\u{2013}#{} of {total} (at most {budget} hops)",
            ids[start],
            ids[end - 1]
        )
    };
    if !outside.is_empty() {
        let list: Vec<String> = outside.iter().map(|l| format!("#{l}")).collect();
        title.push_str(&format!(" + lost duplicate {}", list.join(", ")));
    }
    let pieces = time_pieces(&arrows, &deaths);
    if pieces.len() > 1 {
        title.push_str(", idle time cut out");
    }
    // A drop has no arrow of its own (the packet ends where it was dropped, or is not drawn
    // at all when its first link lost it), so the title names the dropped packets.
    let dropped: Vec<String> = shown
        .iter()
        .filter(|id| {
            a.packets[*id]
                .last()
                .is_some_and(|&i| d.packets[i].kind == HopKind::Drop)
        })
        .map(|id| format!("#{id}"))
        .collect();
    if !dropped.is_empty() {
        let more = dropped.len().saturating_sub(4);
        title.push_str(&format!(
            "; dropped: {}",
            dropped[..dropped.len() - more].join(", ")
        ));
        if more > 0 {
            title.push_str(&format!(" and {more} more"));
        }
    }
    title.push_str(note);

    let lane_names: Vec<String> = lanes.iter().map(|&n| d.nodes[n as usize].clone()).collect();
    let highlight_label = lost_legend(a, &lost);
    let mut panels = Vec::new();
    let mut heights = Vec::new();
    for (t0, t1) in pieces {
        let inside = |t: f64| t >= t0 && t <= t1;
        let mut own: Vec<u64> = Vec::new();
        let mut piece: Vec<Arrow> = Vec::new();
        for (arrow, o) in arrows.iter().zip(&owners) {
            // A lost duplicate's long hop may leave in one panel and arrive in another.
            if arrow.sent.min(arrow.arrived) <= t1 && arrow.sent.max(arrow.arrived) >= t0 {
                piece.push(arrow.clone());
                own.push(*o);
            }
        }
        hide_under_highlight(&mut piece, &mut own);
        label_in_the_open(&mut piece, &own);
        // Room above: a lost duplicate arriving from an earlier panel gets a stub long
        // enough to see and to label (one leaving for a later panel shows where it leaves).
        let span = (t1 - t0).max(1e-4);
        let arriving = piece
            .iter()
            .any(|a| a.highlight && a.sent.min(a.arrived) < t0);
        let window = (
            t0 - span * if arriving { 0.25 } else { 0.03 },
            t1 + span * 0.03,
        );
        let labelled = piece.iter().filter(|a| !a.label.is_empty()).count() as u32;
        heights.push((300 + 22 * labelled).clamp(360, 1300));
        panels.push(Ladder {
            title: String::new(),
            lanes: lane_names.clone(),
            arrows: piece,
            deaths: deaths.iter().filter(|m| inside(m.time)).cloned().collect(),
            window: Some(window),
            highlight_label: highlight_label.clone(),
        });
    }
    // Shorter panels when there are several, so the whole stays about a page high.
    let total_h: u32 = heights.iter().sum();
    if total_h > 1400 {
        for h in &mut heights {
            *h = (*h as u64 * 1400 / total_h as u64).max(300) as u32;
        }
    }
    Some(Stack {
        title,
        panels,
        panel_height: 400,
        heights,
    })
}

/// The time spans the ladder shows: the whole activity, cut at idle stretches (no packet in
/// flight) longer than a fifth of the span they are in, longest first, into at most
/// [`LADDER_PANELS`] pieces, so a burst long after another does not squash both into lines.
fn time_pieces(arrows: &[Arrow], deaths: &[Mark]) -> Vec<(f64, f64)> {
    // A highlighted hop in flight does not keep a stretch busy (its ends do): a lost
    // duplicate held for seconds is the kind of gap worth cutting out.
    let mut spans: Vec<(f64, f64)> = arrows
        .iter()
        .flat_map(|a| {
            let (lo, hi) = (a.sent.min(a.arrived), a.sent.max(a.arrived));
            if a.highlight {
                vec![(lo, lo), (hi, hi)]
            } else {
                vec![(lo, hi)]
            }
        })
        .chain(deaths.iter().map(|m| (m.time, m.time)))
        .filter(|s| s.0.is_finite() && s.1.is_finite())
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut busy: Vec<(f64, f64)> = Vec::new();
    for (s, e) in spans {
        match busy.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => busy.push((s, e)),
        }
    }
    if busy.is_empty() {
        return Vec::new();
    }
    // Pieces as ranges of `busy`; cut the piece with the relatively longest hole each time.
    let mut pieces: Vec<(usize, usize)> = vec![(0, busy.len())];
    while pieces.len() < LADDER_PANELS {
        let best = pieces
            .iter()
            .enumerate()
            .filter_map(|(p, &(a, b))| {
                let span = busy[b - 1].1 - busy[a].0;
                (a + 1..b)
                    .map(|i| ((busy[i].0 - busy[i - 1].1) / span, i))
                    .filter(|h| h.0 > 0.2)
                    .max_by(|x, y| x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)))
                    .map(|(r, i)| (r, p, i))
            })
            .max_by(|x, y| x.0.total_cmp(&y.0).then(y.1.cmp(&x.1)));
        let Some((_, p, i)) = best else { break };
        let (a, b) = pieces[p];
        pieces[p] = (a, i);
        pieces.insert(p + 1, (i, b));
    }
    pieces
        .into_iter()
        .map(|(a, b)| (busy[a].0, busy[b - 1].1))
        .collect()
}

/// Leaves out plain hops drawn exactly under a highlighted one (same lanes, both ends within
/// 0.25 % of the time span, about two pixels): they cannot be seen, and their middles would
/// keep the highlighted packet's label off its own arrows. A pure ACK caught in the same loop
/// as the lost duplicate travels with it like this.
fn hide_under_highlight(arrows: &mut Vec<Arrow>, owners: &mut Vec<u64>) {
    let times = arrows.iter().flat_map(|a| [a.sent, a.arrived]);
    let (lo, hi) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    let tol = (hi - lo) * 0.0025;
    let hl: Vec<(usize, usize, f64, f64)> = arrows
        .iter()
        .filter(|a| a.highlight)
        .map(|a| (a.from, a.to, a.sent, a.arrived))
        .collect();
    let hidden = |a: &Arrow| {
        !a.highlight
            && hl.iter().any(|h| {
                h.0 == a.from
                    && h.1 == a.to
                    && (h.2 - a.sent).abs() <= tol
                    && (h.3 - a.arrived).abs() <= tol
            })
    };
    let keep: Vec<bool> = arrows.iter().map(|a| !hidden(a)).collect();
    let mut k = keep.iter();
    arrows.retain(|_| *k.next().unwrap_or(&true));
    let mut k = keep.iter();
    owners.retain(|_| *k.next().unwrap_or(&true));
}

/// Labels each highlighted packet a second time, on its hop farthest in time from the middle
/// of any other arrow across the same lanes: its first hop is often crowded (the sender's
/// other segments leave with it, the peer's answers arrive then), and the label placer skips
/// a label that would cover another arrow's middle.
fn label_in_the_open(arrows: &mut [Arrow], owners: &[u64]) {
    let mid = |a: &Arrow| (a.sent + a.arrived) / 2.0;
    let span = |a: &Arrow| (a.from.min(a.to), a.from.max(a.to));
    let mut best: BTreeMap<u64, (f64, usize)> = BTreeMap::new();
    for (i, h) in arrows.iter().enumerate() {
        if !h.highlight {
            continue;
        }
        let (lo, hi) = span(h);
        let gap = arrows
            .iter()
            .enumerate()
            .filter(|&(j, a)| j != i && span(a).0 <= hi && span(a).1 >= lo)
            .map(|(_, a)| (mid(a) - mid(h)).abs())
            .fold(f64::INFINITY, f64::min);
        let e = best.entry(owners[i]).or_insert((gap, i));
        if gap > e.0 {
            *e = (gap, i);
        }
    }
    for (id, (_, i)) in best {
        if arrows[i].label.is_empty()
            && let Some(label) = arrows
                .iter()
                .zip(owners)
                .find(|(a, o)| **o == id && !a.label.is_empty())
                .map(|(a, _)| a.label.clone())
        {
            arrows[i].label = label;
        }
    }
}

/// The legend's words for the highlighted packets: "lost duplicate #4, 4.826 s in the
/// network" (the time from its first sending to its delivery).
fn lost_legend(a: &Analysis<'_>, lost: &[u64]) -> String {
    let lived = |id: u64| {
        let rows = &a.packets[&id];
        let last = &a.d.packets[*rows.last()?];
        let first = a.origin(id)?;
        (last.kind == HopKind::Deliver).then(|| secs(last.time - first.time.min(last.time)))
    };
    match lost {
        [one] => match lived(*one) {
            Some(t) => format!("lost duplicate #{one}, {t:.3} s in the network"),
            None => format!("lost duplicate #{one}"),
        },
        _ => {
            let ids: Vec<String> = lost.iter().map(|l| format!("#{l}")).collect();
            format!("lost duplicates {}", ids.join(", "))
        }
    }
}

/// One connection's data direction, for `timeseq`.
#[derive(Default)]
struct Direction {
    sent: Vec<(f64, f64, f64)>,
    retransmitted: Vec<(f64, f64, f64)>,
    acked: Vec<(f64, f64)>,
    highlighted: Vec<(f64, f64, f64)>,
    /// Highest relative sequence number sent so far.
    high: u64,
}

fn timeseq(a: &Analysis<'_>, note: &str) -> Option<Stack<TimeSeq>> {
    let d = a.d;
    let mut dirs: BTreeMap<usize, Direction> = BTreeMap::new();
    for r in &d.packets {
        let (Some(flags), Some(seq)) = (r.flags, r.seq) else {
            continue;
        };
        match r.kind {
            HopKind::Send if r.len > 0 => {
                let Some(&(c, true)) = a.sender.get(&r.packet) else {
                    continue;
                };
                let iss = d.connections[c].iss;
                let lo = (seq as u32).wrapping_sub(iss) as u64;
                let hi = lo + r.len as u64;
                let dir = dirs.entry(c).or_default();
                let seg = (secs(r.time), lo as f64, hi as f64);
                if lo < dir.high {
                    dir.retransmitted.push(seg);
                } else {
                    dir.sent.push(seg);
                }
                dir.high = dir.high.max(hi);
            }
            HopKind::Deliver if flags.ack() => {
                let Some(ack) = r.ack else { continue };
                let host = d.nodes[r.node as usize].as_str();
                let found = a.find(host, r.dst, r.src, r.time, |c| {
                    (ack.wrapping_sub(c.iss) as u64) <= c.written + 2
                });
                if let Some((c, true)) = found {
                    let rel = ack.wrapping_sub(d.connections[c].iss) as f64;
                    dirs.entry(c).or_default().acked.push((secs(r.time), rel));
                }
            }
            _ => {}
        }
    }
    // Corrupting segments, in the panel of the connection whose stream they took the place of.
    for &i in &a.lost {
        let r = &d.packets[i];
        let Some(recv) = a.corrupted_receiver(r) else {
            continue;
        };
        let Some(&(s, _)) = a.sender.get(&r.packet) else {
            continue;
        };
        let Some(p) = a.peer(recv, &d.connections[s].host) else {
            continue;
        };
        let lo = (r.seq.unwrap_or(0) as u32).wrapping_sub(d.connections[p].iss) as f64;
        dirs.entry(p)
            .or_default()
            .highlighted
            .push((secs(r.time), lo, lo + r.len as f64));
    }
    // Only connections that sent data (or whose data was replaced) get a panel.
    dirs.retain(|_, dir| {
        !(dir.sent.is_empty() && dir.retransmitted.is_empty() && dir.highlighted.is_empty())
    });
    if dirs.is_empty() {
        return None;
    }
    // Panels: corrupted first, then retransmitting, then the rest; shown in opening order.
    let mut order: Vec<usize> = dirs.keys().copied().collect();
    let rank = |c: &usize| {
        let dir = &dirs[c];
        (
            dir.highlighted.is_empty(),
            dir.retransmitted.is_empty(),
            d.connections[*c].opened,
            *c,
        )
    };
    order.sort_by_key(rank);
    order.truncate(TIMESEQ_PANELS);
    order.sort_by_key(|c| (d.connections[*c].opened, *c));
    let panels = order
        .iter()
        .map(|c| {
            let conn = &d.connections[*c];
            let dir = dirs.remove(c).unwrap_or_default();
            TimeSeq {
                title: format!(
                    "{} {} \u{2192} {}, incarnation {}",
                    conn.conn, conn.local, conn.remote, conn.incarnation
                ),
                sent: dir.sent,
                retransmitted: dir.retransmitted,
                acked: dir.acked,
                highlighted: dir.highlighted,
                window: None,
            }
        })
        .collect::<Vec<_>>();
    let total = panels.len() + dirs.len();
    let mut title = "Sequence numbers over time (relative to each ISN)".to_string();
    if total > panels.len() {
        title.push_str(&format!(
            ": {} of {total} connections sending data",
            panels.len()
        ));
    }
    title.push_str(note);
    Some(Stack {
        title,
        panels,
        panel_height: 400,
        heights: Vec::new(),
    })
}

fn states(d: &FigureData) -> Option<Timeline> {
    if d.sockets.is_empty() {
        return None;
    }
    // Remote addresses are named by the host that owns them, when the files say.
    let mut owner: BTreeMap<Ipv4Addr, &str> = BTreeMap::new();
    for c in &d.connections {
        owner.entry(*c.local.ip()).or_insert(c.host.as_str());
    }
    let rows = d
        .sockets
        .iter()
        .map(|s| {
            let remote = match owner.get(s.remote.ip()) {
                Some(h) => format!("{h}:{}", s.remote.port()),
                None => s.remote.to_string(),
            };
            let mut label = format!("{} :{} \u{2192} {remote}", s.conn, s.local.port());
            if s.incarnation > 1 {
                label.push_str(&format!(" (inc. {})", s.incarnation));
            }
            let mut spans = Vec::new();
            for (k, (t, state)) in s.changes.iter().enumerate() {
                if state == "CLOSED" {
                    continue;
                }
                let end = s
                    .changes
                    .get(k + 1)
                    .map_or(f64::INFINITY, |(t1, _)| secs(*t1));
                spans.push((secs(*t), end, state.clone()));
            }
            Row { label, spans }
        })
        .collect();
    let mut title = "TCP state of each socket".to_string();
    if d.socket_count > d.sockets.len() {
        title.push_str(&format!(
            " (first {} of {} sockets)",
            d.sockets.len(),
            d.socket_count
        ));
    }
    Some(Timeline {
        title,
        rows,
        window: None,
    })
}

fn socket_counts(d: &FigureData) -> Option<Stack<LineChart>> {
    let nonzero = |h: usize, k: usize| d.held(h, k);
    let hosts: Vec<usize> = (0..d.counts.len())
        .filter(|&h| (0..COUNTED.len()).any(|k| nonzero(h, k)))
        .collect();
    let shown: Vec<usize> = hosts.iter().copied().take(COUNT_HOSTS).collect();
    let mut panels = Vec::new();
    let mut never = Vec::new();
    for (k, state) in COUNTED.iter().enumerate() {
        // A host keeps its colour in every panel; hosts and states never counted are left
        // out rather than drawn as lines along the axis.
        let mut series: Vec<Series> = shown
            .iter()
            .enumerate()
            .filter(|&(_, &h)| nonzero(h, k))
            .map(|(ci, &h)| {
                let pts = d.counts[h].1[k]
                    .iter()
                    .map(|&(t, n)| (secs(t), n as f64))
                    .collect();
                Series::new(d.counts[h].0.clone(), pts)
                    .steps()
                    .with_color(ci)
            })
            .collect();
        if series.is_empty() {
            never.push(*state);
            continue;
        }
        let most = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0, f64::max);
        // A line within 1 % of an earlier one would hide under it: it is dashed instead.
        for i in 1..series.len() {
            if series[..i]
                .iter()
                .any(|e| close(&e.points, &series[i].points, most * 0.01))
            {
                series[i] = std::mem::take(&mut series[i]).dashed();
            }
        }
        panels.push(LineChart {
            title: format!("{state} sockets per host"),
            x_label: "time (s)".into(),
            y_label: "sockets".into(),
            series,
            // Counts are whole: a range of at least 0..5 keeps the ticks on whole numbers.
            y_range: Some((0.0, (most * 1.05).max(5.0))),
            ..LineChart::default()
        });
    }
    if panels.is_empty() {
        return None;
    }
    let mut title = "Sockets per state over time".to_string();
    let mut notes = Vec::new();
    if !never.is_empty() {
        notes.push(format!("none in {}", never.join(" or ")));
    }
    if hosts.len() > shown.len() {
        notes.push(format!("first {} of {} hosts", shown.len(), hosts.len()));
    }
    if !notes.is_empty() {
        title.push_str(&format!(" ({})", notes.join("; ")));
    }
    Some(Stack {
        title,
        panels,
        panel_height: 360,
        heights: Vec::new(),
    })
}

/// Same x values and y values within `tol` of each other.
fn close(a: &[(f64, f64)], b: &[(f64, f64)], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(p, q)| p.0 == q.0 && (p.1 - q.1).abs() <= tol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_counts_keep_evenly_spaced_true_samples_up_to_the_cap() {
        let mut d = FigureData::default();
        let n = 10 * MAX_COUNT_SAMPLES as u64 + 3;
        for i in 0..n {
            // CLOSE_WAIT is held only at sample 1, which decimation drops.
            let cw = u64::from(i == 1);
            d.push_count(i * 1_000, "h", "TIME_WAIT", i);
            d.push_count(i * 1_000, "h", "CLOSE_WAIT", cw);
        }
        let tw = &d.counts[0].1[0];
        assert!(tw.len() <= MAX_COUNT_SAMPLES && tw.len() > MAX_COUNT_SAMPLES / 2);
        // 10 x the cap needs a stride of 16: samples 0, 16, 32, ... with their own counts.
        assert!(
            tw.iter()
                .enumerate()
                .all(|(j, &(t, c))| c == 16 * j as u64 && t == c * 1_000)
        );
        assert!(!d.counts[0].1[1].iter().any(|s| s.1 > 0));
        assert!(d.held(0, 1), "a state held once is still drawn");
        assert!(!d.held(0, 2));
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

    #[test]
    fn labels_read_like_tcpdump() {
        let row = PacketRow {
            time: 0,
            kind: HopKind::Send,
            node: 0,
            packet: 4,
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 1, 2),
            ttl: 64,
            flags: Some("P.".parse().unwrap()),
            seq: Some(1001),
            ack: Some(5001),
            len: 1000,
            copy_of: None,
            reason: None,
        };
        let conn = ConnRow {
            host: "client".into(),
            conn: "client#1".into(),
            incarnation: 1,
            local: "10.0.0.1:5555".parse().unwrap(),
            remote: "10.0.1.2:80".parse().unwrap(),
            iss: 1000,
            irs: Some(5000),
            opened: 0,
            released: 1,
            written: 1000,
            delivered: 0,
            corrupted: 0,
        };
        assert_eq!(packet_label(&row, Some(&conn)), "#4 P. 1:1001(1000) ack 1");
        assert_eq!(packet_label(&row, None), "#4 P. 1001:2001(1000) ack 5001");
        let ack = PacketRow {
            flags: Some(".".parse().unwrap()),
            len: 0,
            ..row.clone()
        };
        assert_eq!(packet_label(&ack, Some(&conn)), "#4 . ack 1");
        let udp = PacketRow {
            flags: None,
            seq: Some(7),
            ack: None,
            len: 100,
            ..row
        };
        assert_eq!(packet_label(&udp, None), "#4 datagram 7 (100 B)");
    }
}
