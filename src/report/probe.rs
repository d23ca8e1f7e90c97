//! `tcp_probe.csv`: each sender's congestion state after every ACK it processes, as Linux's
//! `tcp_probe` tracepoint and ns-3's `CongestionWindow` trace give it.

use std::io::{self, Write};
use std::path::Path;

use super::meter::{Meter, Metered};
use crate::net::{Network, NodeId};
use crate::sim::{Duration, SimTime};
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

/// Writes `tcp_probe.csv`.
pub struct ProbeLog {
    out: Metered,
    line: String,
}

fn secs(d: Duration) -> String {
    (SimTime::ZERO + d).csv()
}

fn bytes_or_empty(v: u32) -> String {
    if v == u32::MAX {
        String::new()
    } else {
        v.to_string()
    }
}

impl ProbeLog {
    /// Creates the file and writes its header.
    pub fn create(path: &Path, meter: &Meter) -> io::Result<ProbeLog> {
        let mut out = meter.create(path)?;
        writeln!(out, "{}", PROBE_COLUMNS.join(","))?;
        Ok(ProbeLog {
            out,
            line: String::new(),
        })
    }

    /// One row. No field can hold a comma or a quote, so none is quoted.
    pub fn probe(&mut self, net: &Network, node: NodeId, p: &Probe) -> io::Result<()> {
        use std::fmt::Write as _;
        self.line.clear();
        let _ = writeln!(
            self.line,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            p.at.csv(),
            net.node(node).name,
            super::conn_name(net, p.conn).unwrap_or_default(),
            p.tuple.local,
            p.tuple.remote,
            p.ack.0,
            p.snd_una.0,
            p.snd_nxt.0,
            bytes_or_empty(p.cwnd),
            bytes_or_empty(p.ssthresh),
            p.snd_wnd,
            p.in_flight,
            p.srtt.map(secs).unwrap_or_default(),
            secs(p.rttvar),
            secs(p.rto),
            p.dupacks,
            p.phase.name(),
            p.sacked,
            p.pipe.map(|v| v.to_string()).unwrap_or_default(),
        );
        self.out.write_all(self.line.as_bytes())
    }

    /// Flushes the file.
    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}
