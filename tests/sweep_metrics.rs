//! `[sweep] metrics = [...]`: each metric's value on a tiny scenario worked out by hand, the
//! TIME_WAIT pile-up theory reproduced by a sweep over the client's rate, and the files a
//! sweep with metrics writes (runs.csv, summary.csv, one figure per metric, plot and merge).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use timewait::sim::SimTime;
use timewait::sweep::metric::Metric;
use timewait::sweep::run_measured;

mod common;
use common::{csv_rows, num};

/// Client and server 10 ms apart (no bandwidth limit). On the client:
/// - `fast`: 3 requests at 0, 0.7 and 1.4 s for `/fast` (answered at once). Each takes
///   4 x 10 ms = 40 ms (SYN, SYN-ACK, request, response); the client then closes first
///   (keep-alive server) and enters TIME_WAIT 20 ms later, when the server's FIN arrives: at
///   0.06, 0.76 and 1.46 s, for the client's TIME_WAIT of 2 s.
/// - `pinned`: source port 5555, requests at 0 and 1 s: the first like `fast` (TIME_WAIT from
///   0.06 to 2.06 s), the second finds its 4-tuple in TIME_WAIT: EADDRNOTAVAIL, curl (7).
/// - `slow`: 2 requests at 0.5 and 1.5 s for `/slow` (a 100 s handler) with `max_time = 1s`:
///   curl (28) twice, and each connection stays in FIN_WAIT_2 on the client (orphaned, 60 s
///   fin_timeout) and CLOSE_WAIT on the server (the handler still runs) to the end (10 s).
/// - `closed`: 1 request to port 81, where nothing listens: RST, curl (7), ECONNREFUSED.
///
/// So: TIME_WAIT at most 4 at once (at 1.46 s: three of `fast`'s and `pinned`'s), none at the
/// end; 4 completed requests of 40 ms; 7 active opens; no loss, so no retransmission.
const TINY: &str = r#"
[simulation]
duration = "10s"

[[host]]
name = "client"
addr = "10.0.0.1"
tcp = { time_wait = "2s" }

[[host]]
name = "server"
addr = "10.0.0.2"

[[link]]
ends = ["client", "server"]
delay = "10ms"

[[app]]
kind = "http_server"
host = "server"
port = 80
close_after_response = false
idle_timeout = "60s"
handlers = [{ path = "/fast", delay = "0s", body = 11 }, { path = "/slow", delay = "100s" }]

[[app]]
kind = "http_client"
host = "client"
url = "http://10.0.0.2:80/fast"
requests = 3
interval = "0.7s"

[[app]]
kind = "http_client"
host = "client"
url = "http://10.0.0.2:80/fast"
src_port = 5555
requests = 2

[[app]]
kind = "http_client"
host = "client"
url = "http://10.0.0.2:80/slow"
start = "0.5s"
requests = 2
max_time = "1s"

[[app]]
kind = "http_client"
host = "client"
url = "http://10.0.0.2:81/"
"#;

fn measure(source: &str, names: &[&str]) -> BTreeMap<String, Option<u64>> {
    let sc = timewait::scenario::parse("tiny", "tiny.toml", source).unwrap();
    let hosts: Vec<&str> = sc.config.nodes.iter().map(|n| n.name.as_str()).collect();
    let metrics: Vec<Metric> = names
        .iter()
        .map(|n| Metric::parse(n, &hosts).unwrap())
        .collect();
    let until = SimTime::ZERO + sc.duration;
    let out = run_measured(&sc.config, sc.config.seed, until, &metrics).unwrap();
    names
        .iter()
        .map(|n| n.to_string())
        .zip(out.values)
        .collect()
}

#[test]
fn each_metric_of_a_tiny_scenario_is_what_hand_working_gives() {
    let expected: [(&str, Option<u64>); 31] = [
        ("corrupted", Some(0)),
        ("corrupted_bytes", Some(0)),
        ("lost_duplicates", Some(0)),
        ("connections", Some(7)),
        ("connect_refused", Some(1)),
        ("connect_failures", Some(1)),
        ("peak_time_wait", Some(4)),
        ("peak_time_wait:client", Some(4)),
        ("peak_time_wait:server", Some(0)),
        ("final_time_wait", Some(0)),
        ("peak_close_wait", Some(2)),
        ("peak_close_wait:server", Some(2)),
        ("final_close_wait:server", Some(2)),
        ("final_close_wait:client", Some(0)),
        ("peak_fin_wait_2:client", Some(2)),
        ("final_fin_wait_2", Some(2)),
        ("connect_failed", Some(2)),
        ("connect_failed:EADDRNOTAVAIL", Some(1)),
        ("connect_failed:EADDRINUSE", Some(0)),
        ("connect_failed:ECONNREFUSED", Some(1)),
        ("connect_failed:ETIMEDOUT", Some(0)),
        ("curl_failed", Some(4)),
        ("curl_failed:7", Some(2)),
        ("curl_failed:28", Some(2)),
        ("curl_failed:56", Some(0)),
        ("requests_completed", Some(4)),
        ("latency_p50", Some(40_000_000)),
        ("latency_p99", Some(40_000_000)),
        ("ttl_expired", Some(0)),
        ("retransmissions", Some(0)),
        ("events", None), // checked below: not worked out by hand
    ];
    let names: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    let got = measure(TINY, &names);
    for (name, want) in expected {
        if name == "events" {
            assert!(got[name].is_some_and(|n| n > 0));
            continue;
        }
        assert_eq!(got[name], want, "{name}");
    }
    // No request completes: a latency has no value (an empty cell), a count is 0.
    let none = TINY.replace("requests = 3", "requests = 0").replace(
        "src_port = 5555\nrequests = 2",
        "src_port = 5555\nrequests = 0",
    );
    let got = measure(&none, &["latency_p90", "requests_completed"]);
    assert_eq!(got["latency_p90"], None);
    assert_eq!(got["requests_completed"], Some(0));
}

/// The same TIME_WAIT skipped at entry (`time_wait = 0s`) is never held: its peak is 0.
#[test]
fn a_skipped_time_wait_is_not_counted_as_held() {
    let src = TINY.replace("time_wait = \"2s\"", "time_wait = \"0s\"");
    let got = measure(&src, &["peak_time_wait", "final_time_wait"]);
    assert_eq!(got["peak_time_wait"], Some(0));
    assert_eq!(got["final_time_wait"], Some(0));
}

fn timewait(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_timewait"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = timewait(dir, args);
    assert!(
        out.status.success(),
        "timewait {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// TTL expiries and retransmissions agree with what `timewait run` writes for the same run:
/// `ttl_expired` rows of events.csv and the `retransmissions` column of connections.csv
/// (both with the scenario's own seed).
#[test]
fn ttl_expiries_and_retransmissions_match_the_run_files() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["routing_loop", "incarnation_no_timewait"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(format!("{name}.toml"));
        let source = fs::read_to_string(&path).unwrap();
        let got = measure(&source, &["ttl_expired", "retransmissions"]);
        let out = tmp.path().join(name);
        ok(
            tmp.path(),
            &[
                "run",
                path.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let rows = |file: &str| -> Vec<BTreeMap<String, String>> {
            let mut r = csv::Reader::from_path(out.join(file)).unwrap();
            let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
            r.records()
                .map(|rec| {
                    h.iter()
                        .cloned()
                        .zip(rec.unwrap().iter().map(str::to_string))
                        .collect()
                })
                .collect()
        };
        let ttl = rows("events.csv")
            .iter()
            .filter(|r| r["kind"] == "ttl_expired")
            .count() as u64;
        let retx: u64 = rows("connections.csv")
            .iter()
            .map(|r| r["retransmissions"].parse::<u64>().unwrap())
            .sum();
        assert_eq!(got["ttl_expired"], Some(ttl), "{name}");
        assert_eq!(got["retransmissions"], Some(retx), "{name}");
        if name == "routing_loop" {
            assert!(ttl > 0);
        } else {
            assert!(retx > 0);
        }
    }
}

/// The pile-up of `scenarios/time_wait_pileup.toml` scaled down ten times: 2,823 ports and
/// TIME_WAIT 6 s (the bundled one has 28,232 and 60 s), so the same limit, 2,823 / 6 = 470.5
/// connections per second, in a tenth of the simulated time.
const PILEUP: &str = r#"
[simulation]
duration = "10s"

[[host]]
name = "client"
addr = "10.0.0.1"
tcp = { port_range = [32768, 35590], time_wait = "6s" }

[[host]]
name = "server"
addr = "10.0.1.2"

[[link]]
ends = ["client", "server"]
delay = "1ms"
bandwidth = "1Gbps"

[[app]]
kind = "http_server"
host = "server"
port = 80
backlog = 4096
close_after_response = false
handlers = [{ path = "/", delay = "0s", body = 100 }]

[[app]]
kind = "churn"
host = "client"
url = "http://10.0.1.2:80/"
rate = 100
duration = "10s"

[sweep]
seeds = 2
x = "app.1.rate"
metrics = ["peak_time_wait:client", "connect_failed:EADDRNOTAVAIL", "requests_completed", "latency_p50", "corrupted"]

[sweep.parameters]
"app.1.rate" = [100, 300, 450, 480, 600]
"#;

#[test]
fn a_sweep_over_the_rate_reproduces_the_pileup_theory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = dir.join("pileup.toml");
    fs::write(&file, PILEUP).unwrap();
    let f = file.to_str().unwrap();
    ok(dir, &["sweep", f, "--out", "out"]);
    let out = dir.join("out");

    let (ports, time_wait) = (2823.0, 6.0);
    let limit = ports / time_wait;
    assert_eq!(limit, 470.5);
    let summary = csv_rows(&out.join("summary.csv"));
    assert_eq!(summary.len(), 5);
    for row in &summary {
        let rate = num(row, "app.1.rate");
        assert_eq!(num(row, "runs"), 2.0);
        let peak = num(row, "peak_time_wait:client_mean");
        let failed = num(row, "connect_failed:EADDRNOTAVAIL_mean");
        if rate < limit {
            // TIME_WAIT settles at rate x TIME_WAIT (one held more for an instant at most,
            // when an entry and an expiry fall on the same nanosecond), and nothing fails.
            assert!(
                (peak - rate * time_wait).abs() <= 1.0,
                "rate {rate}: peak {peak}, theory {}",
                rate * time_wait
            );
            assert_eq!(failed, 0.0, "rate {rate}");
            // Every request that can end by 10 s (one started at k / rate ends a round trip
            // or two later) completes.
            let p50 = num(row, "latency_p50_mean");
            let can_end = (0..(rate * 10.0) as u64)
                .filter(|k| *k as f64 / rate + p50 <= 10.0)
                .count() as f64;
            assert_eq!(num(row, "requests_completed_mean"), can_end, "rate {rate}");
        } else {
            // Every port is held, and connects fail for want of one.
            assert_eq!(peak, ports, "rate {rate}");
            assert!(failed > 0.0, "rate {rate}");
            let lo = num(row, "connect_failed:EADDRNOTAVAIL_t95_lo");
            let hi = num(row, "connect_failed:EADDRNOTAVAIL_t95_hi");
            assert!(lo > 0.0 && lo <= failed && failed <= hi, "rate {rate}");
        }
        // A request takes two round trips of 2 ms, plus serialisation at 1 Gb/s.
        let p50 = num(row, "latency_p50_mean");
        assert!((0.004..0.0042).contains(&p50), "rate {rate}: {p50}");
        assert_eq!(num(row, "corrupted_proportion"), 0.0);
        assert_eq!(num(row, "corrupted_wilson95_lo"), 0.0);
    }

    // runs.csv: one column per metric after the seed; latency in seconds with 9 decimals; last,
    // the command that reproduces the run in full.
    let runs = fs::read_to_string(out.join("runs.csv")).unwrap();
    assert!(runs.starts_with("run,grid,app.1.rate,seed,peak_time_wait:client,connect_failed:EADDRNOTAVAIL,requests_completed,latency_p50,corrupted,reproduce\n"), "{runs}");
    // One figure per metric: sweep.* for the first, sweep_<metric>.* for the others.
    for stem in [
        "sweep",
        "sweep_connect_failed_EADDRNOTAVAIL",
        "sweep_requests_completed",
        "sweep_latency_p50",
        "sweep_corrupted",
    ] {
        for ext in ["svg", "png"] {
            assert!(out.join(format!("{stem}.{ext}")).is_file(), "{stem}.{ext}");
        }
    }
    let svg = fs::read_to_string(out.join("sweep.svg")).unwrap();
    assert!(
        svg.contains("Most TIME_WAIT sockets at once on client"),
        "title"
    );
    // One line, nothing else swept: the title and the y label name it, no legend repeats
    // the metric's file name.
    assert!(
        !svg.contains("peak_time_wait:client"),
        "a legend names the metric"
    );

    // `plot` redraws the same figures from runs.csv; two shards merge into the same files.
    let before = fs::read(out.join("sweep_latency_p50.png")).unwrap();
    fs::remove_file(out.join("sweep_latency_p50.png")).unwrap();
    ok(dir, &["plot", "out"]);
    assert_eq!(fs::read(out.join("sweep_latency_p50.png")).unwrap(), before);
    ok(dir, &["sweep", f, "--shard", "1/2", "--out", "s1"]);
    ok(dir, &["sweep", f, "--shard", "2/2", "--out", "s2"]);
    ok(dir, &["merge", "s1", "s2", "--out", "merged"]);
    for name in [
        "runs.csv",
        "summary.csv",
        "sweep.png",
        "sweep_corrupted.svg",
        "manifest.toml",
    ] {
        assert_eq!(
            fs::read(out.join(name)).unwrap(),
            fs::read(dir.join("merged").join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn an_unknown_metric_is_located_and_the_nearest_name_suggested() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (bad, hint) in [
        ("peak_time_wiat", "did you mean `peak_time_wait`?"),
        (
            "peak_time_wait:clinet",
            "did you mean `peak_time_wait:client`?",
        ),
    ] {
        let text = PILEUP.replace("\"peak_time_wait:client\"", &format!("\"{bad}\""));
        fs::write(dir.join("bad.toml"), &text).unwrap();
        let out = timewait(dir, &["sweep", "bad.toml", "--out", "out"]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        let line = text
            .lines()
            .position(|l| l.starts_with("metrics ="))
            .unwrap()
            + 1;
        assert!(
            err.contains(&format!("bad.toml:{line}:12: error in `sweep.metrics`")),
            "{err}"
        );
        assert!(err.contains(hint), "{err}");
        assert!(!dir.join("out").exists());
    }
}

/// socket_counts.csv counts failed connects as they happen: EADDRNOTAVAIL only once every
/// ephemeral port is held (here in TIME_WAIT: 2,823 of them), one row per failure with the
/// host's count so far, ending at the total the summary gives.
#[test]
fn socket_counts_records_each_failed_connect_once_all_ports_are_held() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = dir.join("pileup.toml");
    fs::write(&file, PILEUP).unwrap();
    let f = file.to_str().unwrap();
    ok(
        dir,
        &["run", f, "--set", "app.1.rate=600", "--out", "r", "-q"],
    );
    let rows = csv_rows(&dir.join("r/socket_counts.csv"));
    let failed: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r["state"] == "connect_failed:EADDRNOTAVAIL")
        .map(|r| {
            assert_eq!(r["host"], "client");
            (num(r, "time"), num(r, "count"))
        })
        .collect();
    assert!(!failed.is_empty(), "600/s is above 2,823 / 6 s = 470.5/s");
    for (i, (_, n)) in failed.iter().enumerate() {
        assert_eq!(*n, (i + 1) as f64, "one row per failure, counting up");
    }
    // Sockets the client holds at the first failure, summed over the states (each state's
    // last row at or before it): every port, one socket each (a single destination).
    let t0 = failed[0].0;
    let mut held = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r["host"] == "client" && num(r, "time") <= t0)
    {
        if !r["state"].starts_with("connect_failed") {
            held.insert(r["state"].clone(), num(r, "count"));
        }
    }
    assert_eq!(held.values().sum::<f64>(), 2823.0, "at {t0} s: {held:?}");
    let summary = fs::read_to_string(dir.join("r/summary.txt")).unwrap();
    let total = failed.len();
    assert!(
        summary.contains(&format!("{total} application failures")),
        "{total} failures in socket_counts.csv, not in the summary:\n{summary}"
    );
}
