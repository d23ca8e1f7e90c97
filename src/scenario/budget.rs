//! How big a run will be: a rough count of events and output bytes from rates, durations and
//! sampling intervals, so `check` (and `run`) can warn before a run grinds for hours.
//!
//! The figures per request, segment and sample are orders of magnitude measured on bundled
//! scenarios (an HTTP request over one router is about 25 events and 6 KB of files), not
//! bounds: the warning is there to catch settings that are off by factors of 1,000.

use toml::de::{DeTable, DeValue};

use super::values::Bytes;
use super::{Location, Scenario, Warning};
use crate::sim::Duration;
use crate::world::apps::AppSpec;

/// Above this many events a run is worth a warning (about half a minute at 3 M events/s).
pub const EVENT_WARNING: f64 = 1e8;
/// Above this many bytes of output a run is worth a warning.
pub const OUTPUT_WARNING: f64 = 10e9;
/// Events per second a release build runs (the `pileup` benchmark), for the time estimate.
const EVENTS_PER_SECOND: f64 = 3e6;

/// Events of one HTTP-like request: timers, and ten segments crossing a link or two.
const EVENTS_PER_REQUEST: f64 = 25.0;
/// Bytes of files one request writes: `events.csv` rows, `states.csv` rows, a connection row
/// and its packets in `trace.pcap`.
const BYTES_PER_REQUEST: f64 = 6_000.0;
/// Events of one datagram or data segment (send timer, link arrivals, its ACK).
const EVENTS_PER_PACKET: f64 = 3.0;
/// Bytes of `events.csv` one packet writes (send, forward and deliver rows), besides its pcap.
const ROW_BYTES_PER_PACKET: f64 = 270.0;
/// Bytes a pcap record adds to a packet's payload (record, Ethernet, IP and TCP headers).
const PCAP_BYTES_PER_PACKET: f64 = 70.0;

/// Parses a byte count such as `2GB`, `500MB` or `1048576` (`--max-output`).
pub fn parse_size(s: &str) -> Result<u64, String> {
    if let Ok(n) = s.trim().parse::<u64>() {
        return Ok(n);
    }
    s.parse::<Bytes>().map(|b| b.0)
}

/// One setting's share of a run.
struct Cost {
    /// The table it comes from, as a TOML path (`["app", "2"]`, `["output"]`).
    table: Vec<String>,
    /// The fields that set it, most telling first; the warning names the first one written.
    fields: &'static [&'static str],
    events: f64,
    bytes: f64,
    /// How the numbers were reached, for the message.
    why: String,
}

/// Adds a warning to `scenario` when its estimated events or output are extreme.
pub fn with_estimate(mut scenario: Scenario) -> Scenario {
    let costs = costs(&scenario);
    let events: f64 = costs.iter().map(|c| c.events).sum();
    let bytes: f64 = costs.iter().map(|c| c.bytes).sum();
    if events <= EVENT_WARNING && bytes <= OUTPUT_WARNING {
        return scenario;
    }
    // Name the setting that weighs most on whichever limit was passed.
    let key = |c: &Cost| {
        if events > EVENT_WARNING {
            c.events
        } else {
            c.bytes
        }
    };
    let Some(top) = costs.iter().max_by(|a, b| key(a).total_cmp(&key(b))) else {
        return scenario;
    };
    let (field, location) = locate(&scenario, &top.table, top.fields);
    scenario.warnings.push(Warning {
        location,
        field,
        message: format!(
            "this run is about {} events and {} of output over {} of simulated time ({}); at ~3 M events/s that is {}. Lower it, shorten the run with --until, or bound it with --max-events / --max-output",
            count(events),
            size(bytes),
            scenario.duration,
            top.why,
            wall(events / EVENTS_PER_SECOND),
        ),
    });
    scenario
}

/// The estimated events and output bytes of each rate, count and interval in the scenario.
fn costs(s: &Scenario) -> Vec<Cost> {
    let run = s.duration.as_secs_f64();
    let out = &s.output;
    let pcap = !matches!(out.pcap, super::PcapMode::Off);
    let packet_bytes = |payload: f64| {
        (if out.events {
            ROW_BYTES_PER_PACKET
        } else {
            0.0
        }) + (if pcap {
            PCAP_BYTES_PER_PACKET + payload
        } else {
            0.0
        })
    };
    let mut costs = Vec::new();
    // How many of `n` things, one per `interval` from `start`, begin before the run ends.
    let within = |n: f64, start: Duration, interval: Duration| {
        let room = (run - start.as_secs_f64()).max(0.0);
        n.min(room / interval.as_secs_f64().max(1e-9) + 1.0)
    };
    for (i, app) in s.config.apps.iter().enumerate() {
        let (fields, events, bytes, why): (&'static [&'static str], _, _, _) = match &app.spec {
            AppSpec::Datagram(d) => {
                let n = within(d.count as f64, d.start, d.interval);
                let why = format!("{} datagrams, one every {}", count(n), d.interval);
                (
                    &["interval", "count"],
                    n * EVENTS_PER_PACKET,
                    n * packet_bytes(d.size as f64),
                    why,
                )
            }
            AppSpec::HttpClient(c) => {
                let n = within(c.requests as f64, c.start, c.interval);
                let why = format!(
                    "{} requests, one every {}, ~{EVENTS_PER_REQUEST} events each",
                    count(n),
                    c.interval
                );
                (
                    &["rate", "interval", "duration", "requests"],
                    n * EVENTS_PER_REQUEST,
                    n * BYTES_PER_REQUEST,
                    why,
                )
            }
            AppSpec::Sender(d) => {
                let n = within(d.connections as f64, d.start, d.interval);
                let mss = s.config.nodes[app.host.0 as usize].tcp.mss.max(1) as f64;
                let segments = (d.bytes as f64 / mss).ceil();
                let why = format!(
                    "{} connection{} of {} segments each",
                    count(n),
                    if n == 1.0 { "" } else { "s" },
                    count(segments)
                );
                let fields: &'static [&'static str] = if segments > n {
                    &["bytes", "connections"]
                } else {
                    &["connections", "interval", "bytes"]
                };
                (
                    fields,
                    n * (EVENTS_PER_REQUEST + segments * EVENTS_PER_PACKET),
                    n * (BYTES_PER_REQUEST + segments * packet_bytes(mss)),
                    why,
                )
            }
            AppSpec::Receiver(_) | AppSpec::HttpServer(_) => continue,
        };
        costs.push(Cost {
            table: vec!["app".into(), i.to_string()],
            fields,
            events,
            bytes,
            why,
        });
    }
    costs
}

/// The value at `path` (table keys, or array indices written as numbers), and its span start.
fn lookup(doc: &DeValue<'_>, path: &[String]) -> Option<usize> {
    let mut at = doc;
    let mut start = None;
    for key in path {
        let next = match key.parse::<usize>() {
            Ok(i) => at.get(i)?,
            Err(_) => at.get(key.as_str())?,
        };
        start = Some(next.span().start);
        at = next.get_ref();
    }
    start
}

/// The field path errors use (`app[2].rate`) and the position of the first of `fields` the
/// table writes; the table itself if it writes none (a default), or the file's start.
fn locate(s: &Scenario, table: &[String], fields: &[&str]) -> (String, Location) {
    let name = match table {
        [t, i] => format!("{t}[{i}]"),
        _ => table.join("."),
    };
    let doc = DeTable::parse(&s.source)
        .ok()
        .map(|root| DeValue::Table(root.into_inner()));
    let written = doc.as_ref().and_then(|doc| {
        fields.iter().find_map(|f| {
            let mut path = table.to_vec();
            path.push(f.to_string());
            lookup(doc, &path).map(|at| (*f, at))
        })
    });
    let (field, at) = match written {
        Some((f, at)) => (f, Some(at)),
        None => (fields[0], doc.as_ref().and_then(|d| lookup(d, table))),
    };
    (
        format!("{name}.{field}"),
        Location::at(&s.file, &s.source, at.unwrap_or(0)),
    )
}

/// `3.2e9` style for large counts, plain below a million.
fn count(n: f64) -> String {
    if n < 1e6 {
        format!("{}", n.round() as u64)
    } else {
        format!("{n:.1e}")
    }
}

/// Bytes in the largest decimal unit that keeps the number at least 1.
fn size(b: f64) -> String {
    for (unit, scale) in [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)] {
        if b >= scale {
            return format!("{:.1} {unit}", b / scale);
        }
    }
    format!("{} B", b.round() as u64)
}

/// A wall-clock estimate in the largest unit that fits.
fn wall(secs: f64) -> String {
    if secs >= 86_400.0 * 365.0 {
        format!("{:.1e} years", secs / (86_400.0 * 365.0))
    } else if secs >= 86_400.0 {
        format!("{:.1} days", secs / 86_400.0)
    } else if secs >= 3_600.0 {
        format!("{:.1} hours", secs / 3_600.0)
    } else if secs >= 60.0 {
        format!("{:.1} minutes", secs / 60.0)
    } else {
        format!("{secs:.0} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units_or_as_bytes() {
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn numbers_print_in_readable_units() {
        assert_eq!(size(2.5e10), "25.0 GB");
        assert_eq!(count(3.2e9), "3.2e9");
        assert_eq!(wall(7_200.0), "2.0 hours");
    }
}
