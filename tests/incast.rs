//! `incast_pileup`: synchronized responses through a shallow switch queue. The facts come from
//! the scenario's parameters and RFC 6298 / Linux's timer bounds, not from a run's output.

use std::path::Path;

use timewait::run::{self, RunOptions};
use timewait::scenario;
use timewait::tcp::TcpConfig;

mod common;
use common::{csv_rows, num};

/// The burst starts at 1 s; 40 responses of 20,000 bytes cross a 100 Mb/s port in 66 ms.
const BURST: f64 = 1.0;

#[test]
fn a_shallow_queue_turns_the_time_wait_pile_up_into_a_staircase_of_timer_expiries() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario::load(Path::new("scenarios/incast_pileup.toml")).unwrap();
    let dir = run::run(
        &s,
        &RunOptions {
            out: Some(tmp.path().join("incast")),
            ..RunOptions::default()
        },
    )
    .unwrap()
    .dir;
    let defaults = TcpConfig::default();
    let rto_min = defaults.rto_min.as_secs_f64();
    let syn_rto = defaults.rto_initial.as_secs_f64();

    // Only the shallow port overflows: 32 packets cannot hold eight initial windows.
    let drops: Vec<_> = csv_rows(&dir.join("events.csv"))
        .into_iter()
        .filter(|e| e["kind"] == "drop")
        .collect();
    assert!(!drops.is_empty());
    for d in &drops {
        assert_eq!(
            (d["node"].as_str(), d["dst"].as_str(), d["note"].as_str()),
            ("S", "10.0.0.2", "queue_full"),
            "{d:?}"
        );
    }

    let entries = |host: &str| -> Vec<f64> {
        let mut t: Vec<f64> = csv_rows(&dir.join("states.csv"))
            .into_iter()
            .filter(|r| r["host"] == host && r["to"] == "TIME_WAIT")
            .map(|r| num(&r, "time"))
            .collect();
        t.sort_by(f64::total_cmp);
        t
    };
    // Every connection ends, on both aggregators: congestion delays the pile-up, it does not
    // shrink it.
    let (deep, shallow) = (entries("agg_deep"), entries("agg_shallow"));
    assert_eq!((deep.len(), shallow.len()), (40, 40));
    // Nothing lost: all 40 are in TIME_WAIT before any retransmission timer could expire.
    assert!(*deep.last().unwrap() < BURST + rto_min, "{deep:?}");
    // A sender that lost its window's tail gets no duplicate ACKs: it waits for the RTO. So
    // between the burst and rto_min after it nothing more completes, then a step does...
    let quiet = shallow
        .iter()
        .filter(|&&t| t > BURST + 0.07 && t < BURST + rto_min)
        .count();
    assert_eq!(quiet, 0, "{shallow:?}");
    assert!(
        shallow
            .iter()
            .any(|&t| t >= BURST + rto_min && t < BURST + rto_min + 0.05),
        "{shallow:?}"
    );
    // ...and a connection whose SYN was lost waits for the SYN's 1 s timer before it starts.
    assert!(*shallow.last().unwrap() > BURST + syn_rto, "{shallow:?}");
}
