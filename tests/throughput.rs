//! Throughput and fairness through a drop-tail bottleneck, over 60 s: what a congestion
//! controller is for. Rates are measured from `tcp_probe.csv` (SND.UNA's progress), in payload
//! bits, against the bottleneck's line rate.

use std::collections::BTreeMap;

use timewait::run::{self, RunOptions};
use timewait::scenario;

mod common;
use common::{csv_rows, num};

/// The bottleneck's rate, bits per second (`bandwidth = "10Mbps"` below).
const LINK: f64 = 10e6;

/// Two hosts `a` and `b` send to `r` through router R: 1 Gb/s access links, then a 10 Mb/s,
/// 20 ms bottleneck with a 50-packet drop-tail queue (the path holds 36 segments: about one
/// bandwidth-delay product of buffer). `r` reads with a 1 MiB buffer, so the window is
/// limited by congestion control alone.
const PATH: &str = r#"
[simulation]
seed = 1
duration = "60s"

[output]
events = false
pcap = "off"
states = false
figures = false
tcp_probe = true

[[host]]
name = "a"
addr = "10.0.0.1"

[[host]]
name = "b"
addr = "10.0.0.2"

[[host]]
name = "r"
addr = "10.0.1.2"
tcp = { rcv_buf = 1048576 }

[[router]]
name = "R"
routes = [
  { dest = "10.0.1.2/32", via = "r" },
  { dest = "10.0.0.1/32", via = "a" },
  { dest = "10.0.0.2/32", via = "b" },
]

[[link]]
ends = ["a", "R"]
delay = "1ms"
bandwidth = "1Gbps"

[[link]]
ends = ["b", "R"]
delay = "1ms"
bandwidth = "1Gbps"

[[link]]
ends = ["R", "r"]
delay = "20ms"
bandwidth = "10Mbps"
queue = 50

[[app]]
kind = "receiver"
host = "r"
port = 80

"#;

/// Each sender's payload rate (bits per second) over the run, by connection.
fn rates(extra: &str) -> BTreeMap<String, f64> {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario::parse("throughput", "throughput.toml", &format!("{PATH}{extra}")).unwrap();
    let dir = run::run(
        &s,
        &RunOptions {
            out: Some(tmp.path().join("out")),
            ..RunOptions::default()
        },
    )
    .unwrap()
    .dir;
    // Each connection's first and last (time, SND.UNA).
    type Point = (f64, f64);
    let mut span: BTreeMap<String, (Point, Point)> = BTreeMap::new();
    for r in csv_rows(&dir.join("tcp_probe.csv")) {
        let point = (num(&r, "time"), num(&r, "snd_una"));
        span.entry(r["conn"].clone())
            .and_modify(|e| e.1 = point)
            .or_insert((point, point));
    }
    span.into_iter()
        .map(|(c, ((t0, u0), (t1, u1)))| {
            // SND.UNA wraps at 2^32; a 60 s run at 10 Mb/s moves it by far less.
            let bytes = (u1 - u0).rem_euclid(4_294_967_296.0);
            (c, bytes * 8.0 / (t1 - t0))
        })
        .collect()
}

/// One long CUBIC flow (RFC 9438) keeps the bottleneck busy: its goodput is within 10% of the
/// line rate, the headers' 2.7% included.
#[test]
fn one_cubic_flow_fills_the_bottleneck_to_within_ten_percent() {
    let r = rates(
        "[[app]]\nkind = \"sender\"\nhost = \"a\"\nto = \"10.0.1.2:80\"\nbytes = \"200MB\"\n\n[tcp]\ncongestion = \"cubic\"\n",
    );
    assert_eq!(r.len(), 1, "{r:?}");
    let rate = r.values().next().copied().unwrap();
    assert!((0.9 * LINK..=LINK).contains(&rate), "{rate} b/s");
}

/// Two NewReno flows (RFC 5681, RFC 6582) sharing the bottleneck converge to a fair share:
/// Jain's index at least 0.95, neither more than 20% behind the other, and together within
/// 10% of the line rate.
#[test]
fn two_newreno_flows_share_the_bottleneck_fairly() {
    let app = |host: &str, start: &str| {
        format!(
            "[[app]]\nkind = \"sender\"\nhost = \"{host}\"\nto = \"10.0.1.2:80\"\nbytes = \"200MB\"\nstart = \"{start}\"\n\n"
        )
    };
    let r = rates(&format!(
        "{}{}[tcp]\ncongestion = \"newreno\"\n",
        app("a", "0s"),
        app("b", "0.1s")
    ));
    let x: Vec<f64> = r.values().copied().collect();
    assert_eq!(x.len(), 2, "{r:?}");
    let sum: f64 = x.iter().sum();
    let jain = sum * sum / (2.0 * x.iter().map(|v| v * v).sum::<f64>());
    assert!(jain >= 0.95, "Jain's index {jain}: {r:?}");
    assert!(x[0].min(x[1]) >= 0.8 * x[0].max(x[1]), "{r:?}");
    assert!(sum >= 0.9 * LINK, "{sum} b/s together");
}
