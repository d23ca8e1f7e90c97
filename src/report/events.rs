//! `events.csv`: one row per event.

use std::fmt::Write as _;
use std::io::{self, BufWriter};
use std::path::Path;

use super::meter::{Meter, Metered};
use crate::net::{Body, Icmp, Network, Packet};
use crate::world::{NetworkEvent, PacketEvent, PacketEventKind};

/// Column names of `events.csv`.
pub const EVENT_COLUMNS: [&str; 12] = [
    "time", "kind", "node", "packet", "src", "dst", "ttl", "flags", "seq", "ack", "len", "note",
];

/// Writes `events.csv` rows as events arrive.
pub struct EventLog {
    out: csv::Writer<BufWriter<Metered>>,
    note: String,
}

impl EventLog {
    /// Creates the file and writes the header; `meter` counts what it writes.
    pub fn create(path: &Path, meter: &Meter) -> io::Result<EventLog> {
        let mut out =
            csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, meter.create(path)?));
        out.write_record(EVENT_COLUMNS)?;
        Ok(EventLog {
            out,
            note: String::new(),
        })
    }

    /// One packet event.
    pub fn packet(&mut self, net: &Network, ev: &PacketEvent<'_>) -> io::Result<()> {
        let p: &Packet = ev.packet;
        self.note.clear();
        match ev.kind {
            PacketEventKind::Drop(why) => self.note.push_str(why.name()),
            PacketEventKind::Duplicate => {
                if let Some(orig) = p.meta.copy_of {
                    let _ = write!(self.note, "copy of #{orig}");
                }
            }
            PacketEventKind::TtlExpired | PacketEventKind::Deliver => {
                let _ = write!(self.note, "lifetime {}", ev.time - p.meta.sent_at);
            }
            _ => {}
        }
        let (flags, seq, ack, len) = match &p.body {
            Body::Tcp(s) => (
                s.flags.to_string(),
                s.seq.0.to_string(),
                if s.flags.ack() {
                    s.ack.0.to_string()
                } else {
                    String::new()
                },
                s.payload.len().to_string(),
            ),
            Body::Udp(d) => (
                String::new(),
                d.seq.to_string(),
                String::new(),
                d.len.to_string(),
            ),
            Body::Icmp(Icmp::TimeExceeded(q)) => {
                if !self.note.is_empty() {
                    self.note.push_str("; ");
                }
                let _ = write!(self.note, "icmp time exceeded for packet #{}", q.packet);
                (String::new(), String::new(), String::new(), String::new())
            }
        };
        self.out.write_record([
            ev.time.csv().as_str(),
            ev.kind.name(),
            net.node(ev.node).name.as_str(),
            p.meta.id.to_string().as_str(),
            p.src.to_string().as_str(),
            p.dst.to_string().as_str(),
            p.ttl.to_string().as_str(),
            flags.as_str(),
            seq.as_str(),
            ack.as_str(),
            len.as_str(),
            self.note.as_str(),
        ])?;
        Ok(())
    }

    /// One change to the network.
    pub fn network(&mut self, net: &Network, ev: &NetworkEvent) -> io::Result<()> {
        self.out.write_record([
            ev.time.csv().as_str(),
            ev.kind,
            net.node(ev.node).name.as_str(),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            ev.note.as_str(),
        ])?;
        Ok(())
    }

    /// Flushes everything to disk.
    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}
