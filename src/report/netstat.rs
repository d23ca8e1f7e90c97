//! `netstat.txt` and `socket_counts.csv`: what a person on each host would see with
//! `netstat -tan`, and the count of sockets per state over time.

use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::meter::{Meter, Metered};
use crate::net::{Network, NodeId};
use crate::sim::SimTime;
use crate::tcp::{NetstatRow, State};

/// The header line of Linux `netstat -tan`.
pub const NETSTAT_HEADER: &str =
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State";

/// One host's table, formatted as Linux `netstat -tan` prints it.
pub fn format_table(time: SimTime, host: &str, rows: &[NetstatRow]) -> String {
    let mut out = format!("at {time}  host {host}\n{NETSTAT_HEADER}\n");
    for r in rows {
        let foreign = r
            .foreign
            .map_or_else(|| "0.0.0.0:*".to_string(), |f| f.to_string());
        let _ = writeln!(
            out,
            "{:<5} {:>6} {:>6} {:<23} {:<23} {}",
            "tcp",
            r.recv_q,
            r.send_q,
            r.local.to_string(),
            foreign,
            r.state.netstat()
        );
    }
    out
}

/// Column names of `socket_counts.csv`.
pub const COUNT_COLUMNS: [&str; 4] = ["time", "host", "state", "count"];

/// Writes `netstat.txt` and `socket_counts.csv`, and keeps the tables for the console.
#[derive(Default)]
pub struct Netstat {
    tables: Option<BufWriter<Metered>>,
    counts: Option<csv::Writer<BufWriter<Metered>>>,
    /// Every table written, for printing.
    pub text: String,
}

impl Netstat {
    /// Creates the files in `dir` (nothing is written to disk if `dir` is `None`).
    pub fn new(dir: Option<&Path>, meter: &Meter) -> io::Result<Netstat> {
        let mut n = Netstat::default();
        if let Some(d) = dir {
            n.tables = Some(BufWriter::new(meter.create(&d.join("netstat.txt"))?));
            let mut w = csv::Writer::from_writer(BufWriter::new(
                meter.create(&d.join("socket_counts.csv"))?,
            ));
            w.write_record(COUNT_COLUMNS)?;
            n.counts = Some(w);
        }
        Ok(n)
    }

    /// One host's table.
    pub fn table(
        &mut self,
        net: &Network,
        time: SimTime,
        node: NodeId,
        rows: &[NetstatRow],
    ) -> io::Result<()> {
        let t = format_table(time, &net.node(node).name, rows);
        if let Some(f) = &mut self.tables {
            f.write_all(t.as_bytes())?;
            f.write_all(b"\n")?;
        }
        self.text.push_str(&t);
        self.text.push('\n');
        Ok(())
    }

    /// One host's counts (every state but CLOSED).
    pub fn counts(
        &mut self,
        net: &Network,
        time: SimTime,
        node: NodeId,
        counts: &[u64; 11],
    ) -> io::Result<()> {
        let Some(w) = &mut self.counts else {
            return Ok(());
        };
        let t = time.csv();
        for (state, n) in State::ALL.iter().zip(counts) {
            if *state == State::Closed {
                continue;
            }
            w.write_record([
                t.as_str(),
                net.node(node).name.as_str(),
                state.name(),
                n.to_string().as_str(),
            ])?;
        }
        Ok(())
    }

    /// Flushes both files.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(mut f) = self.tables.take() {
            f.flush()?;
        }
        if let Some(mut w) = self.counts.take() {
            w.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up_like_linux_netstat() {
        let rows = [
            NetstatRow {
                recv_q: 0,
                send_q: 0,
                local: "0.0.0.0:5000".parse().unwrap(),
                foreign: None,
                state: State::Listen,
            },
            NetstatRow {
                recv_q: 14,
                send_q: 0,
                local: "10.0.0.2:5000".parse().unwrap(),
                foreign: Some("10.0.0.1:49152".parse().unwrap()),
                state: State::CloseWait,
            },
        ];
        let t = format_table(SimTime::from_nanos(1_500_000_000), "server", &rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "at 1.500s  host server");
        assert_eq!(
            lines[2],
            "tcp        0      0 0.0.0.0:5000            0.0.0.0:*               LISTEN"
        );
        assert_eq!(
            lines[3],
            "tcp       14      0 10.0.0.2:5000           10.0.0.1:49152          CLOSE_WAIT"
        );
        // Columns start where the header's titles do.
        let col = |s: &str, w: &str| s.find(w).unwrap();
        assert_eq!(col(lines[1], "Local"), col(lines[3], "10.0.0.2"));
        assert_eq!(col(lines[1], "Foreign"), col(lines[3], "10.0.0.1"));
        assert_eq!(col(lines[1], "State"), col(lines[3], "CLOSE_WAIT"));
    }
}
