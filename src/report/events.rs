//! `events.csv`: one row per event.

use std::fmt::Write as _;
use std::io::{self, BufWriter};
use std::path::Path;

use super::meter::{Meter, Metered};
use crate::net::{Body, Icmp, Network, Packet};
use crate::sim::SimTime;
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
        let none = String::new;
        // (flags, seq, ack, len, sport, dport, conn, window, tsval, tsecr)
        let f = match &p.body {
            Body::Tcp(s) => {
                let ts = s.timestamps;
                [
                    s.flags.to_string(),
                    s.seq.0.to_string(),
                    if s.flags.ack() {
                        s.ack.0.to_string()
                    } else {
                        none()
                    },
                    s.payload.len().to_string(),
                    s.src_port.to_string(),
                    s.dst_port.to_string(),
                    super::conn_name(net, s.tag.conn).unwrap_or_default(),
                    s.window.to_string(),
                    ts.map(|t| t.tsval.to_string()).unwrap_or_default(),
                    ts.map(|t| t.tsecr.to_string()).unwrap_or_default(),
                ]
            }
            Body::Udp(d) => [
                none(),
                d.seq.to_string(),
                none(),
                d.len.to_string(),
                d.src_port.to_string(),
                d.dst_port.to_string(),
                none(),
                none(),
                none(),
                none(),
            ],
            Body::Icmp(Icmp::TimeExceeded(q)) => {
                if !self.note.is_empty() {
                    self.note.push_str("; ");
                }
                let _ = write!(self.note, "icmp time exceeded for packet #{}", q.packet);
                std::array::from_fn(|_| none())
            }
        };
        // The packet's age here: from its first sending (a link's copy keeps its original's).
        let lifetime = (SimTime::ZERO + (ev.time - p.meta.sent_at)).csv();
        self.out.write_record([
            ev.time.csv().as_str(),
            ev.kind.name(),
            net.node(ev.node).name.as_str(),
            p.meta.id.to_string().as_str(),
            p.src.to_string().as_str(),
            p.dst.to_string().as_str(),
            p.ttl.to_string().as_str(),
            f[0].as_str(),
            f[1].as_str(),
            f[2].as_str(),
            f[3].as_str(),
            f[4].as_str(),
            f[5].as_str(),
            f[6].as_str(),
            f[7].as_str(),
            f[8].as_str(),
            f[9].as_str(),
            p.meta.hops.to_string().as_str(),
            lifetime.as_str(),
            self.note.as_str(),
        ])?;
        Ok(())
    }

    /// One change to the network.
    pub fn network(&mut self, net: &Network, ev: &NetworkEvent) -> io::Result<()> {
        // No packet: only the time, the kind, the node and the note.
        let mut row = [""; EVENT_COLUMNS.len()];
        let time = ev.time.csv();
        row[0] = time.as_str();
        row[1] = ev.kind;
        row[2] = net.node(ev.node).name.as_str();
        row[EVENT_COLUMNS.len() - 1] = ev.note.as_str();
        self.out.write_record(row)?;
        Ok(())
    }

    /// Flushes everything to disk.
    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}
