//! `events.csv`: one row per event.

use std::io;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;

use super::meter::Meter;
use super::records::{Record, RecordFile};
use super::row::{Row, push_duration, push_uint};
use crate::net::{Body, Datagram, Icmp, Packet};
use crate::scenario::Compression;
use crate::sim::SimTime;
use crate::tcp::{ConnId, Flags};
use crate::world::{NetworkEvent, PacketEvent, PacketEventKind};

/// Column names of `events.csv`.
pub const EVENT_COLUMNS: [&str; 20] = [
    "time",
    "kind",
    "node",
    "packet",
    "src",
    "dst",
    "ttl",
    "flags",
    "seq",
    "ack",
    "len",
    "sport",
    "dport",
    "conn",
    "window",
    "tsval",
    "tsecr",
    "hops",
    "lifetime_s",
    "note",
];

/// Writes `events.csv` rows as events arrive; they are formatted on a thread of the file's
/// own (see [`RecordFile`]).
pub struct EventLog {
    file: RecordFile<EventRow>,
}

impl EventLog {
    /// Creates the file and writes the header; `meter` counts what it writes.
    pub fn create(
        path: &Path,
        meter: &Meter,
        compress: Compression,
        hosts: Arc<[String]>,
    ) -> io::Result<EventLog> {
        Ok(EventLog {
            file: RecordFile::create_compressed(path, &EVENT_COLUMNS, meter, compress, hosts)?,
        })
    }

    /// One packet event.
    pub fn packet(&mut self, ev: &PacketEvent<'_>) -> io::Result<()> {
        let p: &Packet = ev.packet;
        let body = match &p.body {
            Body::Tcp(s) => BodyRow::Tcp {
                flags: s.flags,
                seq: s.seq.0,
                ack: s.flags.ack().then_some(s.ack.0),
                len: s.payload.len() as u64,
                sport: s.src_port,
                dport: s.dst_port,
                conn: s.tag.conn,
                window: s.window,
                timestamps: s.timestamps.map(|t| (t.tsval, t.tsecr)),
            },
            Body::Udp(d) => BodyRow::Udp(*d),
            Body::Icmp(Icmp::TimeExceeded(q)) => BodyRow::Icmp { packet: q.packet },
        };
        self.file.push(EventRow::Packet(PacketRow {
            time: ev.time,
            kind: ev.kind,
            node: ev.node.0,
            id: p.meta.id,
            src: p.src,
            dst: p.dst,
            ttl: p.ttl,
            hops: p.meta.hops,
            age: (ev.time - p.meta.sent_at).as_nanos(),
            copy_of: p.meta.copy_of,
            body,
        }))
    }

    /// One change to the network.
    pub fn network(&mut self, ev: &NetworkEvent) -> io::Result<()> {
        self.file.push(EventRow::Network {
            time: ev.time,
            kind: ev.kind,
            node: ev.node.0,
            note: ev.note.clone(),
        })
    }

    /// Flushes everything to disk.
    pub fn finish(self) -> io::Result<()> {
        self.file.finish()
    }
}

/// A row of `events.csv`: what it shows of the event, copied out of it.
enum EventRow {
    Packet(PacketRow),
    Network {
        time: SimTime,
        kind: &'static str,
        node: u32,
        note: String,
    },
}

struct PacketRow {
    time: SimTime,
    kind: PacketEventKind,
    node: u32,
    id: u64,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    hops: u16,
    /// Nanoseconds since the packet was first sent (a link's copy keeps its original's).
    age: u64,
    copy_of: Option<u64>,
    body: BodyRow,
}

/// The columns of a packet row that depend on what it carries.
enum BodyRow {
    Tcp {
        flags: Flags,
        seq: u32,
        /// Only when the ACK flag is set.
        ack: Option<u32>,
        len: u64,
        sport: u16,
        dport: u16,
        conn: ConnId,
        window: u16,
        timestamps: Option<(u32, u32)>,
    },
    Udp(Datagram),
    Icmp {
        /// The packet the time-exceeded message is about.
        packet: u64,
    },
}

impl Record for EventRow {
    fn write(&self, row: &mut Row, hosts: &[String]) {
        let p = match self {
            EventRow::Packet(p) => p,
            EventRow::Network {
                time,
                kind,
                node,
                note,
            } => {
                // No packet: only the time, the kind, the node and the note.
                row.nanos(time.as_nanos());
                row.text(kind);
                row.host(hosts, *node);
                for _ in 3..EVENT_COLUMNS.len() - 1 {
                    row.empty();
                }
                row.text(note);
                return;
            }
        };
        row.nanos(p.time.as_nanos());
        row.text(p.kind.name());
        row.host(hosts, p.node);
        row.uint(p.id);
        row.ip(p.src);
        row.ip(p.dst);
        row.uint(u64::from(p.ttl));
        // flags, seq, ack, len, sport, dport, conn, window, tsval, tsecr
        match &p.body {
            BodyRow::Tcp {
                flags,
                seq,
                ack,
                len,
                sport,
                dport,
                conn,
                window,
                timestamps,
            } => {
                row.flags(*flags);
                row.uint(u64::from(*seq));
                match ack {
                    Some(a) => row.uint(u64::from(*a)),
                    None => row.empty(),
                }
                row.uint(*len);
                row.uint(u64::from(*sport));
                row.uint(u64::from(*dport));
                // A stateless RST carries connection number 0: no incarnation sent it.
                row.conn(hosts, *conn);
                row.uint(u64::from(*window));
                match timestamps {
                    Some((tsval, tsecr)) => {
                        row.uint(u64::from(*tsval));
                        row.uint(u64::from(*tsecr));
                    }
                    None => {
                        row.empty();
                        row.empty();
                    }
                }
            }
            BodyRow::Udp(d) => {
                row.empty();
                row.uint(d.seq);
                row.empty();
                row.uint(u64::from(d.len));
                row.uint(u64::from(d.src_port));
                row.uint(u64::from(d.dst_port));
                for _ in 0..4 {
                    row.empty();
                }
            }
            BodyRow::Icmp { .. } => {
                for _ in 0..10 {
                    row.empty();
                }
            }
        }
        row.uint(u64::from(p.hops));
        row.nanos(p.age);
        // The note: words and numbers only, so it never needs quoting.
        row.plain(|note| {
            let start = note.len();
            match p.kind {
                PacketEventKind::Drop(why) => note.extend_from_slice(why.name().as_bytes()),
                PacketEventKind::Duplicate => {
                    if let Some(orig) = p.copy_of {
                        note.extend_from_slice(b"copy of #");
                        push_uint(note, orig);
                    }
                }
                PacketEventKind::TtlExpired | PacketEventKind::Deliver => {
                    note.extend_from_slice(b"lifetime ");
                    push_duration(note, p.age);
                }
                _ => {}
            }
            if let BodyRow::Icmp { packet } = p.body {
                if note.len() > start {
                    note.extend_from_slice(b"; ");
                }
                note.extend_from_slice(b"icmp time exceeded for packet #");
                push_uint(note, packet);
            }
        });
    }
}
