//! `tcp_probe.csv`: each sender's congestion state after every ACK it processes, as Linux's
//! `tcp_probe` tracepoint and ns-3's `CongestionWindow` trace give it.

use std::io;
use std::path::Path;
use std::sync::Arc;

use super::meter::Meter;
use super::records::{Record, RecordFile};
use super::row::Row;
use crate::net::NodeId;
use crate::sim::Duration;
use crate::tcp::Probe;

/// Column names of `tcp_probe.csv`. Sizes are bytes; `cwnd` is empty without congestion
/// control and `ssthresh` before the first loss; times are seconds. `sacked` is what the
/// scoreboard holds SACKed (RFC 6675 §3) and `pipe` RFC 6675's estimate of the bytes in the
/// network (empty when the connection does not use SACK).
pub const PROBE_COLUMNS: [&str; 19] = [
    "time",
    "host",
    "conn",
    "local",
    "remote",
    "ack",
    "snd_una",
    "snd_nxt",
    "cwnd",
    "ssthresh",
    "snd_wnd",
    "in_flight",
    "srtt_s",
    "rttvar_s",
    "rto_s",
    "dupacks",
    "phase",
    "sacked",
    "pipe",
];

/// Writes `tcp_probe.csv`; its rows are formatted on a thread of the file's own (see
/// [`RecordFile`]).
pub struct ProbeLog {
    file: RecordFile<ProbeRow>,
}

impl ProbeLog {
    /// Creates the file and writes its header.
    pub fn create(path: &Path, meter: &Meter, hosts: Arc<[String]>) -> io::Result<ProbeLog> {
        Ok(ProbeLog {
            file: RecordFile::create(path, &PROBE_COLUMNS, meter, hosts)?,
        })
    }

    /// One row.
    pub fn probe(&mut self, node: NodeId, p: &Probe) -> io::Result<()> {
        self.file.push(ProbeRow {
            host: node.0,
            p: *p,
        })
    }

    /// Flushes the file.
    pub fn finish(self) -> io::Result<()> {
        self.file.finish()
    }
}

/// A row of `tcp_probe.csv`.
struct ProbeRow {
    host: u32,
    p: Probe,
}

impl Record for ProbeRow {
    fn write(&self, row: &mut Row, hosts: &[String]) {
        let p = &self.p;
        // Sizes a sender does not track are u32::MAX, written as an empty field.
        let bytes_or_empty = |row: &mut Row, v: u32| match v {
            u32::MAX => row.empty(),
            v => row.uint(u64::from(v)),
        };
        row.nanos(p.at.as_nanos());
        row.host(hosts, self.host);
        row.conn(hosts, p.conn);
        row.socket(p.tuple.local);
        row.socket(p.tuple.remote);
        row.uint(u64::from(p.ack.0));
        row.uint(u64::from(p.snd_una.0));
        row.uint(u64::from(p.snd_nxt.0));
        bytes_or_empty(row, p.cwnd);
        bytes_or_empty(row, p.ssthresh);
        row.uint(u64::from(p.snd_wnd));
        row.uint(u64::from(p.in_flight));
        row.opt_nanos(p.srtt.map(Duration::as_nanos));
        row.nanos(p.rttvar.as_nanos());
        row.nanos(p.rto.as_nanos());
        row.uint(u64::from(p.dupacks));
        row.text(p.phase.name());
        row.uint(u64::from(p.sacked));
        match p.pipe {
            Some(v) => row.uint(u64::from(v)),
            None => row.empty(),
        }
    }
}
