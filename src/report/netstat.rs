//! `netstat.txt` and `socket_counts.csv`: what a person on each host would see with
//! `netstat -tan`, and the count of sockets per state over time.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use super::meter::{Meter, Metered};
use super::records::{Record, RecordFile};
use super::row::Row;
use crate::net::{Network, NodeId};
use crate::scenario::{NetstatStyle, OutputOptions};
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

/// The header line of `ss -tano`, its address columns aligned on the colon.
pub const SS_HEADER: &str =
    "State      Recv-Q Send-Q   Local Address:Port     Peer Address:Port   Process";

/// One host's table as `ss -tano` prints it: a listener's Send-Q is its backlog, and a
/// pending timer is shown as `timer:(kind,time left,retransmissions)`.
pub fn format_ss_table(time: SimTime, host: &str, rows: &[NetstatRow]) -> String {
    let mut out = format!("at {time}  host {host}\n{SS_HEADER}\n");
    for r in rows {
        let send_q = if r.state == State::Listen {
            u64::from(r.backlog)
        } else {
            r.send_q
        };
        let (peer_ip, peer_port) = r
            .foreign
            .map_or(("0.0.0.0".to_string(), "*".to_string()), |f| {
                (f.ip().to_string(), f.port().to_string())
            });
        let timer = r.timer.map_or(String::new(), |t| {
            format!(
                "timer:({},{},{})",
                t.kind.ss(),
                ss_time(t.remaining.as_millis()),
                t.retrans
            )
        });
        let line = format!(
            "{:<10} {:<6} {:<6} {:>15}:{:<5} {:>15}:{:<5}  {timer}",
            r.state.ss(),
            r.recv_q,
            send_q,
            r.local.ip().to_string(),
            r.local.port(),
            peer_ip,
            peer_port,
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A time left as `ss` prints it (iproute2 `print_ms_timer`): `59sec`, `1min59sec`, `200ms`,
/// `1.500sec` (the unit after a fraction of a second is `sec`, as iproute2 fixed it).
fn ss_time(ms: u64) -> String {
    let (minutes, mut secs, mut msecs) = (ms / 60_000, ms / 1000 % 60, ms % 1000);
    let mut out = String::new();
    if minutes > 0 {
        msecs = 0;
        out += &format!("{minutes}min");
        if minutes > 9 {
            secs = 0;
        }
    }
    if secs > 0 {
        if secs > 9 {
            msecs = 0;
        }
        out += &format!("{secs}{}", if msecs > 0 { "." } else { "sec" });
    }
    if msecs > 0 {
        out += &format!("{msecs:03}{}", if secs > 0 { "sec" } else { "ms" });
    }
    out
}

/// Column names of `socket_counts.csv`.
pub const COUNT_COLUMNS: [&str; 4] = ["time", "host", "state", "count"];

/// The `state` of a `socket_counts.csv` row that counts a host's failed `connect()` calls so
/// far, followed by the errno (`connect_failed:EADDRNOTAVAIL`).
pub const CONNECT_FAILED: &str = "connect_failed:";

/// What a `socket_counts.csv` row counts.
#[derive(Clone, Copy)]
enum Counted {
    State(State),
    /// Failed `connect()` calls with this errno.
    ConnectFailed(&'static str),
}

/// A row of `socket_counts.csv`.
struct CountRow {
    time: SimTime,
    host: u32,
    what: Counted,
    n: u64,
}

impl Record for CountRow {
    fn write(&self, row: &mut Row, hosts: &[String]) {
        row.nanos(self.time.as_nanos());
        row.host(hosts, self.host);
        match self.what {
            Counted::State(s) => row.text(s.name()),
            Counted::ConnectFailed(errno) => row.text(&format!("{CONNECT_FAILED}{errno}")),
        }
        row.uint(self.n);
    }
}

/// Writes `netstat.txt` and `socket_counts.csv`, and keeps the tables for the console.
#[derive(Default)]
pub struct Netstat {
    style: NetstatStyle,
    tables: Option<Metered>,
    counts: Option<RecordFile<CountRow>>,
    /// Per node: each state's last row (time, count), `None` before the host's first row.
    last: Vec<Option<[(SimTime, u64); 11]>>,
    /// Failed `connect()` calls so far, per node and errno.
    failed: Vec<(NodeId, &'static str, u64)>,
    /// Every table written, for printing.
    pub text: String,
}

impl Netstat {
    /// Creates the files in `dir` (nothing is written to disk if `dir` is `None`).
    pub fn new(
        dir: Option<&Path>,
        opts: &OutputOptions,
        meter: &Meter,
        hosts: &Arc<[String]>,
    ) -> io::Result<Netstat> {
        let mut n = Netstat {
            style: opts.netstat_style,
            ..Netstat::default()
        };
        let Some(d) = dir else { return Ok(n) };
        if opts.netstat {
            n.tables = Some(meter.create(&d.join("netstat.txt"))?);
        }
        if opts.socket_counts {
            n.counts = Some(RecordFile::create(
                &d.join("socket_counts.csv"),
                &COUNT_COLUMNS,
                meter,
                hosts.clone(),
            )?);
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
        let host = &net.node(node).name;
        let t = match self.style {
            NetstatStyle::Netstat => format_table(time, host, rows),
            NetstatStyle::Ss => format_ss_table(time, host, rows),
        };
        if let Some(f) = &mut self.tables {
            f.write_all(t.as_bytes())?;
            f.write_all(b"\n")?;
        }
        self.text.push_str(&t);
        self.text.push('\n');
        Ok(())
    }

    /// A `connect()` on `node` failed at once with `errno`: a row with the host's count of such
    /// failures so far.
    pub fn connect_failed(
        &mut self,
        time: SimTime,
        node: NodeId,
        errno: &'static str,
    ) -> io::Result<()> {
        let Some(f) = &mut self.counts else {
            return Ok(());
        };
        let i = match self.failed.iter().position(|e| e.0 == node && e.1 == errno) {
            Some(i) => i,
            None => {
                self.failed.push((node, errno, 0));
                self.failed.len() - 1
            }
        };
        let e = &mut self.failed[i];
        e.2 += 1;
        f.push(CountRow {
            time,
            host: node.0,
            what: Counted::ConnectFailed(errno),
            n: e.2,
        })
    }

    /// One host's counts (every state but CLOSED), as [`World`](crate::world::World) reports
    /// them: at the host's first report a row for every state; then a row for each state
    /// whose count differs from its last row. A report that changes nothing marks the end of
    /// the run: every state whose last row is earlier gets one, so every series reaches it.
    pub fn counts(&mut self, time: SimTime, node: NodeId, counts: &[u64; 11]) -> io::Result<()> {
        let Some(f) = &mut self.counts else {
            return Ok(());
        };
        let i = node.0 as usize;
        if self.last.len() <= i {
            self.last.resize(i + 1, None);
        }
        let first = self.last[i].is_none();
        let last = self.last[i].get_or_insert([(time, 0); 11]);
        let end = !first && last.iter().zip(counts).all(|(l, n)| l.1 == *n);
        // Under churn this file takes a row for nearly every connection's every state change.
        for (k, (state, n)) in State::ALL.iter().zip(counts).enumerate() {
            if *state == State::Closed {
                continue;
            }
            let write = first || last[k].1 != *n || (end && last[k].0 < time);
            if !write {
                continue;
            }
            last[k] = (time, *n);
            f.push(CountRow {
                time,
                host: node.0,
                what: Counted::State(*state),
                n: *n,
            })?;
        }
        Ok(())
    }

    /// Flushes both files.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(mut f) = self.tables.take() {
            f.flush()?;
        }
        if let Some(f) = self.counts.take() {
            f.finish()?;
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
                backlog: 128,
                timer: None,
            },
            NetstatRow {
                recv_q: 14,
                send_q: 0,
                local: "10.0.0.2:5000".parse().unwrap(),
                foreign: Some("10.0.0.1:49152".parse().unwrap()),
                state: State::CloseWait,
                backlog: 0,
                timer: None,
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

    #[test]
    fn times_left_read_as_ss_prints_them() {
        // iproute2 print_ms_timer: minutes drop the milliseconds, ten or more seconds drop them
        // too, ten or more minutes drop the seconds.
        assert_eq!(ss_time(59_720), "59sec");
        assert_eq!(ss_time(119_000), "1min59sec");
        assert_eq!(ss_time(61_500), "1min1sec");
        assert_eq!(ss_time(725_000), "12min");
        assert_eq!(ss_time(200), "200ms");
        assert_eq!(ss_time(9_501), "9.501sec");
        assert_eq!(ss_time(0), "");
    }

    /// The lines of a real `ss -tano` (iproute2, Linux 6.x), a Flask-like server that has not
    /// closed, and its client orphaned in FIN_WAIT_2: the same fields in the same order.
    #[test]
    fn rows_read_like_linux_ss_with_timers() {
        use crate::sim::Duration;
        use crate::tcp::{SocketTimer, TimerKind};
        let rows = [
            NetstatRow {
                recv_q: 0,
                send_q: 0,
                local: "127.0.0.1:5000".parse().unwrap(),
                foreign: None,
                state: State::Listen,
                backlog: 8,
                timer: None,
            },
            NetstatRow {
                recv_q: 0,
                send_q: 0,
                local: "127.0.0.1:42320".parse().unwrap(),
                foreign: Some("127.0.0.1:5000".parse().unwrap()),
                state: State::FinWait2,
                backlog: 0,
                timer: Some(SocketTimer {
                    kind: TimerKind::TimeWait,
                    remaining: Duration::from_millis(59_720),
                    retrans: 0,
                }),
            },
        ];
        let t = format_ss_table(SimTime::from_nanos(1_500_000_000), "client", &rows);
        let lines: Vec<&str> = t.lines().collect();
        let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        // Linux: "LISTEN     0      8          127.0.0.1:5000       0.0.0.0:*"
        assert_eq!(
            words(lines[2]),
            ["LISTEN", "0", "8", "127.0.0.1:5000", "0.0.0.0:*"]
        );
        // Linux: "FIN-WAIT-2 0      0          127.0.0.1:42320    127.0.0.1:5000  timer:(timewait,59sec,0)"
        assert_eq!(
            words(lines[3]),
            [
                "FIN-WAIT-2",
                "0",
                "0",
                "127.0.0.1:42320",
                "127.0.0.1:5000",
                "timer:(timewait,59sec,0)"
            ]
        );
        // The colons of the address columns line up with the header's.
        let colons = |l: &str| {
            l.match_indices(':')
                .map(|(i, _)| i)
                .take(2)
                .collect::<Vec<_>>()
        };
        assert_eq!(colons(lines[1]), colons(lines[3]));
    }
}
