//! What a sweep can measure in each run: `[sweep] metrics = [...]`, chosen by name.

use crate::sim::Duration;
use crate::tcp::{ConnectError, State};

/// The states whose counts are metrics, with the names used in metric names.
pub const STATES: [(&str, State); 3] = [
    ("time_wait", State::TimeWait),
    ("close_wait", State::CloseWait),
    ("fin_wait_2", State::FinWait2),
];

/// Errnos a failed connect() is counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    /// No local port free (connect() fails at once).
    AddrNotAvail,
    /// The 4-tuple is in use (a fixed source port; connect() fails at once).
    AddrInUse,
    /// A RST answered the SYN.
    ConnRefused,
    /// The SYN retransmissions ran out.
    TimedOut,
}

impl Errno {
    /// Every errno, in the order columns and messages list them.
    pub const ALL: [Errno; 4] = [
        Errno::AddrNotAvail,
        Errno::AddrInUse,
        Errno::ConnRefused,
        Errno::TimedOut,
    ];

    /// The C name.
    pub fn name(self) -> &'static str {
        match self {
            Errno::AddrNotAvail => "EADDRNOTAVAIL",
            Errno::AddrInUse => "EADDRINUSE",
            Errno::ConnRefused => "ECONNREFUSED",
            Errno::TimedOut => "ETIMEDOUT",
        }
    }

    /// The errno of a connect() that failed at once.
    pub fn of(e: ConnectError) -> Errno {
        match e {
            ConnectError::AddrNotAvailable => Errno::AddrNotAvail,
            ConnectError::AddrInUse => Errno::AddrInUse,
        }
    }
}

/// curl exit codes the apps give.
pub const CURL_CODES: [u8; 3] = [7, 28, 56];

/// What a metric measures.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// 1 if any byte was delivered from the wrong incarnation (a proportion).
    Corrupted,
    /// Bytes delivered from the wrong incarnation.
    CorruptedBytes,
    /// Data segments that reached a host after their connection had ended.
    LostDuplicates,
    /// Connections opened actively.
    Connections,
    /// connect() calls that failed at once (any errno).
    ConnectRefused,
    /// Active connections released without being established.
    ConnectFailures,
    /// Most sockets in a state at once, over all hosts or on one (by name).
    Peak(State, Option<String>),
    /// Sockets in a state at the end of the run.
    Final(State, Option<String>),
    /// Failed connects with one errno, or with any of them.
    ConnectFailed(Option<Errno>),
    /// curl failures with one exit code, or with any.
    CurlFailed(Option<u8>),
    /// curl requests that received their whole response.
    RequestsCompleted,
    /// A percentile (in hundredths of a percent) of completed requests' durations.
    Latency(u32),
    /// Packets (any protocol) whose TTL ran out.
    TtlExpired,
    /// Segments TCP sent again.
    Retransmissions,
    /// Events the simulation ran.
    Events,
    /// The longest time in the network of a lost duplicate (sent to its arrival), if any
    /// arrived: what TIME_WAIT's 2 x MSL must outlast.
    DuplicateLifetimeMax,
}

/// One chosen metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// Its name as written (also its column in runs.csv).
    pub name: String,
    /// What it measures.
    pub kind: Kind,
}

/// The plain metric names, for messages and suggestions (host and percentile forms aside).
pub const NAMES: [&str; 28] = [
    "corrupted",
    "corrupted_bytes",
    "lost_duplicates",
    "connections",
    "connect_refused",
    "connect_failures",
    "peak_time_wait",
    "final_time_wait",
    "peak_close_wait",
    "final_close_wait",
    "peak_fin_wait_2",
    "final_fin_wait_2",
    "connect_failed",
    "connect_failed:EADDRNOTAVAIL",
    "connect_failed:EADDRINUSE",
    "connect_failed:ECONNREFUSED",
    "connect_failed:ETIMEDOUT",
    "curl_failed",
    "curl_failed:7",
    "curl_failed:28",
    "curl_failed:56",
    "requests_completed",
    "latency_p50",
    "latency_p90",
    "latency_p99",
    "ttl_expired",
    "retransmissions",
    "duplicate_lifetime_max",
];

/// The columns `runs.csv` has when no metrics are chosen, as metrics.
pub const DEFAULT: [&str; 7] = [
    "corrupted",
    "corrupted_bytes",
    "lost_duplicates",
    "connections",
    "connect_refused",
    "connect_failures",
    "events",
];

impl Metric {
    /// Parses a metric name; `hosts` are the scenario's host names (for `peak_time_wait:HOST`).
    /// The error says what is wrong and suggests the nearest name.
    pub fn parse(name: &str, hosts: &[&str]) -> Result<Metric, String> {
        let kind = Self::kind(name, hosts)?;
        Ok(Metric {
            name: name.to_string(),
            kind,
        })
    }

    fn kind(name: &str, hosts: &[&str]) -> Result<Kind, String> {
        let plain = match name {
            "corrupted" => Some(Kind::Corrupted),
            "corrupted_bytes" => Some(Kind::CorruptedBytes),
            "lost_duplicates" => Some(Kind::LostDuplicates),
            "connections" => Some(Kind::Connections),
            "connect_refused" => Some(Kind::ConnectRefused),
            "connect_failures" => Some(Kind::ConnectFailures),
            "connect_failed" => Some(Kind::ConnectFailed(None)),
            "curl_failed" => Some(Kind::CurlFailed(None)),
            "requests_completed" => Some(Kind::RequestsCompleted),
            "ttl_expired" => Some(Kind::TtlExpired),
            "retransmissions" => Some(Kind::Retransmissions),
            "events" => Some(Kind::Events),
            "duplicate_lifetime_max" => Some(Kind::DuplicateLifetimeMax),
            _ => None,
        };
        if let Some(k) = plain {
            return Ok(k);
        }
        let (base, arg) = match name.split_once(':') {
            Some((b, a)) => (b, Some(a)),
            None => (name, None),
        };
        for (word, state) in STATES {
            for (prefix, peak) in [("peak_", true), ("final_", false)] {
                if base.strip_prefix(prefix) == Some(word) {
                    let host = match arg {
                        None => None,
                        Some(h) if hosts.contains(&h) => Some(h.to_string()),
                        Some(h) => {
                            let hint = crate::scenario::nearest(h, hosts.iter().copied())
                                .map(|n| format!(" (did you mean `{base}:{n}`?)"))
                                .unwrap_or_default();
                            return Err(format!(
                                "unknown host `{h}` in metric `{name}`; the hosts are {}{hint}",
                                list(hosts)
                            ));
                        }
                    };
                    return Ok(if peak {
                        Kind::Peak(state, host)
                    } else {
                        Kind::Final(state, host)
                    });
                }
            }
        }
        if let (Some(errno), "connect_failed") = (arg, base) {
            return match Errno::ALL.iter().find(|e| e.name() == errno) {
                Some(e) => Ok(Kind::ConnectFailed(Some(*e))),
                None => Err(format!(
                    "unknown errno `{errno}` in `{name}`; connect failures are counted by {}{}",
                    list(&Errno::ALL.map(Errno::name)),
                    hint(name)
                )),
            };
        }
        if let (Some(code), "curl_failed") = (arg, base) {
            return match code.parse::<u8>().ok().filter(|c| CURL_CODES.contains(c)) {
                Some(c) => Ok(Kind::CurlFailed(Some(c))),
                None => Err(format!(
                    "curl exit code `{code}` in `{name}` is not one the curl client gives: 7 (could not connect), 28 (timed out), 56 (receive failure)"
                )),
            };
        }
        if let Some(p) = name.strip_prefix("latency_p")
            && let Some(q) = percentile(p)
        {
            return Ok(Kind::Latency(q));
        }
        Err(format!(
            "unknown metric `{name}`, expected one of {}, or a state's count on one host such as `peak_time_wait:HOST`, or a percentile `latency_pN` (0 < N <= 100){}",
            list(&NAMES),
            hint(name)
        ))
    }

    /// Whether the metric is a proportion of runs (Wilson interval) rather than a mean.
    pub fn is_proportion(&self) -> bool {
        self.kind == Kind::Corrupted
    }

    /// Whether the value is a duration (written in seconds with 9 decimals) rather than a count.
    pub fn is_duration(&self) -> bool {
        matches!(self.kind, Kind::Latency(_) | Kind::DuplicateLifetimeMax)
    }

    /// The metric in words, for figure titles and axes: (title, y-axis label).
    pub fn describe(&self) -> (String, String) {
        let on = |h: &Option<String>| h.as_ref().map(|h| format!(" on {h}")).unwrap_or_default();
        let state_name = |s: State| s.name();
        match &self.kind {
            Kind::Corrupted => (
                "Runs with a corrupted stream".into(),
                "proportion of runs".into(),
            ),
            Kind::CorruptedBytes => ("Corrupted bytes per run".into(), "bytes".into()),
            Kind::LostDuplicates => ("Lost duplicates per run".into(), "segments".into()),
            Kind::Connections => ("Connections opened per run".into(), "connections".into()),
            Kind::ConnectRefused => (
                "connect() calls failed at once per run".into(),
                "calls".into(),
            ),
            Kind::ConnectFailures => (
                "Connections never established per run".into(),
                "connections".into(),
            ),
            Kind::Peak(s, h) => (
                format!("Most {} sockets at once{}", state_name(*s), on(h)),
                "sockets".into(),
            ),
            Kind::Final(s, h) => (
                format!("{} sockets at the end{}", state_name(*s), on(h)),
                "sockets".into(),
            ),
            Kind::ConnectFailed(e) => (
                format!(
                    "Failed connects{} per run",
                    e.map(|e| format!(" ({})", e.name())).unwrap_or_default()
                ),
                "connects".into(),
            ),
            Kind::CurlFailed(c) => (
                format!(
                    "curl failures{} per run",
                    c.map(|c| format!(" (exit code {c})")).unwrap_or_default()
                ),
                "requests".into(),
            ),
            Kind::RequestsCompleted => ("Completed requests per run".into(), "requests".into()),
            Kind::Latency(q) => (
                format!("Request latency, {} percentile", ordinal(*q)),
                "seconds".into(),
            ),
            Kind::TtlExpired => (
                "Packets dead of TTL expiry per run".into(),
                "packets".into(),
            ),
            Kind::Retransmissions => ("Retransmissions per run".into(), "segments".into()),
            Kind::Events => ("Events per run".into(), "events".into()),
            Kind::DuplicateLifetimeMax => (
                "Longest lost-duplicate lifetime per run".into(),
                "seconds".into(),
            ),
        }
    }

    /// The name made safe for a file name: `sweep_<this>.svg`.
    pub fn file_stem(&self) -> String {
        let safe: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("sweep_{safe}")
    }
}

/// `50` -> 5000, `99.9` -> 9990 (hundredths of a percent); `None` unless 0 < N <= 100 with at
/// most two decimals.
fn percentile(text: &str) -> Option<u32> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty()
        || int.len() > 3
        || frac.len() > 2
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
        || (text.contains('.') && frac.is_empty())
    {
        return None;
    }
    let v = int.parse::<u32>().ok()? * 100 + format!("{frac:0<2}").parse::<u32>().ok()?;
    (1..=10_000).contains(&v).then_some(v)
}

fn ordinal(q: u32) -> String {
    let whole = q / 100;
    if !q.is_multiple_of(100) {
        return format!(
            "{}th",
            format!("{}.{:02}", whole, q % 100).trim_end_matches('0')
        );
    }
    let suffix = match (whole % 10, whole % 100) {
        (1, n) if n != 11 => "st",
        (2, n) if n != 12 => "nd",
        (3, n) if n != 13 => "rd",
        _ => "th",
    };
    format!("{whole}{suffix}")
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn hint(name: &str) -> String {
    crate::scenario::nearest(name, NAMES.iter().copied().chain(["events"]))
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default()
}

/// The nearest-rank percentile (`q` in hundredths of a percent) of `sorted` durations: the
/// smallest value at or above which lie no more than (100 - q)% of them, i.e. the
/// ceil(q/100 x n)-th smallest. `None` for no values.
pub fn nearest_rank(sorted: &[Duration], q: u32) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(q) * n).div_ceil(10_000).max(1);
    sorted.get(rank as usize - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_mistakes_are_named() {
        let hosts = ["client", "server"];
        let m = |n: &str| Metric::parse(n, &hosts).map(|m| m.kind);
        assert_eq!(m("peak_time_wait"), Ok(Kind::Peak(State::TimeWait, None)));
        assert_eq!(
            m("final_close_wait:server"),
            Ok(Kind::Final(State::CloseWait, Some("server".into())))
        );
        assert_eq!(
            m("connect_failed:EADDRNOTAVAIL"),
            Ok(Kind::ConnectFailed(Some(Errno::AddrNotAvail)))
        );
        assert_eq!(m("curl_failed:28"), Ok(Kind::CurlFailed(Some(28))));
        assert_eq!(m("latency_p99"), Ok(Kind::Latency(9900)));
        assert_eq!(m("latency_p99.9"), Ok(Kind::Latency(9990)));
        assert_eq!(m("latency_p100"), Ok(Kind::Latency(10_000)));
        for bad in [
            "latency_p0",
            "latency_p101",
            "latency_p",
            "latency_p9.",
            "latency_p1.234",
        ] {
            assert!(m(bad).is_err(), "{bad}");
        }
        for n in NAMES {
            assert!(m(n).is_ok(), "{n}");
        }
        let e = m("peak_time_wiat").unwrap_err();
        assert!(e.contains("did you mean `peak_time_wait`"), "{e}");
        let e = m("peak_time_wait:clinet").unwrap_err();
        assert!(e.contains("did you mean `peak_time_wait:client`"), "{e}");
        let e = m("curl_failed:6").unwrap_err();
        assert!(e.contains("7 (could not connect)"), "{e}");
        let e = m("connect_failed:EADDRNOTAVIAL").unwrap_err();
        assert!(e.contains("`EADDRNOTAVAIL`"), "{e}");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let ms = |v: u64| Duration::from_millis(v);
        let v: Vec<Duration> = (1..=10).map(ms).collect();
        assert_eq!(nearest_rank(&v, 5000), Some(ms(5)));
        assert_eq!(nearest_rank(&v, 9000), Some(ms(9)));
        assert_eq!(nearest_rank(&v, 9900), Some(ms(10)));
        assert_eq!(nearest_rank(&v, 1), Some(ms(1)));
        assert_eq!(nearest_rank(&[], 5000), None);
        assert_eq!(ordinal(9900), "99th");
        assert_eq!(ordinal(5000), "50th");
        assert_eq!(ordinal(9990), "99.9th");
        assert_eq!(ordinal(100), "1st");
    }
}
