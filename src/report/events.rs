//! `events.csv`: one row per event.

use std::io;
use std::path::Path;

use super::meter::Meter;
use super::row::{CsvFile, push_duration, push_uint};
use crate::net::{Body, Icmp, Network, Packet};
use crate::scenario::Compression;
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

/// Writes `events.csv` rows as events arrive.
pub struct EventLog {
    file: CsvFile,
    /// The row's note, built before the row (it may need quoting).
    note: Vec<u8>,
}

impl EventLog {
    /// Creates the file and writes the header; `meter` counts what it writes.
    pub fn create(path: &Path, meter: &Meter, compress: Compression) -> io::Result<EventLog> {
        Ok(EventLog {
            file: CsvFile::create_compressed(path, &EVENT_COLUMNS, meter, compress)?,
            note: Vec::new(),
        })
    }

    /// One packet event.
    pub fn packet(&mut self, net: &Network, ev: &PacketEvent<'_>) -> io::Result<()> {
        let p: &Packet = ev.packet;
        self.note.clear();
        match ev.kind {
            PacketEventKind::Drop(why) => self.note.extend_from_slice(why.name().as_bytes()),
            PacketEventKind::Duplicate => {
                if let Some(orig) = p.meta.copy_of {
                    self.note.extend_from_slice(b"copy of #");
                    push_uint(&mut self.note, orig);
                }
            }
            PacketEventKind::TtlExpired | PacketEventKind::Deliver => {
                self.note.extend_from_slice(b"lifetime ");
                push_duration(&mut self.note, (ev.time - p.meta.sent_at).as_nanos());
            }
            _ => {}
        }
        let row = &mut self.file.row;
        row.nanos(ev.time.as_nanos());
        row.text(ev.kind.name());
        row.text(&net.node(ev.node).name);
        row.uint(p.meta.id);
        row.ip(p.src);
        row.ip(p.dst);
        row.uint(u64::from(p.ttl));
        // flags, seq, ack, len, sport, dport, conn, window, tsval, tsecr
        match &p.body {
            Body::Tcp(s) => {
                row.flags(s.flags);
                row.uint(u64::from(s.seq.0));
                if s.flags.ack() {
                    row.uint(u64::from(s.ack.0));
                } else {
                    row.empty();
                }
                row.uint(s.payload.len() as u64);
                row.uint(u64::from(s.src_port));
                row.uint(u64::from(s.dst_port));
                // A stateless RST carries connection number 0: no incarnation sent it.
                row.conn(net, s.tag.conn);
                row.uint(u64::from(s.window));
                match s.timestamps {
                    Some(ts) => {
                        row.uint(u64::from(ts.tsval));
                        row.uint(u64::from(ts.tsecr));
                    }
                    None => {
                        row.empty();
                        row.empty();
                    }
                }
            }
            Body::Udp(d) => {
                row.empty();
                row.uint(d.seq);
                row.empty();
                row.uint(d.len as u64);
                row.uint(u64::from(d.src_port));
                row.uint(u64::from(d.dst_port));
                for _ in 0..4 {
                    row.empty();
                }
            }
            Body::Icmp(Icmp::TimeExceeded(q)) => {
                if !self.note.is_empty() {
                    self.note.extend_from_slice(b"; ");
                }
                self.note
                    .extend_from_slice(b"icmp time exceeded for packet #");
                push_uint(&mut self.note, q.packet);
                for _ in 0..10 {
                    row.empty();
                }
            }
        }
        row.uint(u64::from(p.meta.hops));
        // The packet's age here: from its first sending (a link's copy keeps its original's).
        row.nanos((ev.time - p.meta.sent_at).as_nanos());
        row.bytes(&self.note);
        self.file.end()
    }

    /// One change to the network.
    pub fn network(&mut self, net: &Network, ev: &NetworkEvent) -> io::Result<()> {
        // No packet: only the time, the kind, the node and the note.
        let row = &mut self.file.row;
        row.nanos(ev.time.as_nanos());
        row.text(ev.kind);
        row.text(&net.node(ev.node).name);
        for _ in 3..EVENT_COLUMNS.len() - 1 {
            row.empty();
        }
        row.text(&ev.note);
        self.file.end()
    }

    /// Flushes everything to disk.
    pub fn finish(mut self) -> io::Result<()> {
        self.file.flush()
    }
}
