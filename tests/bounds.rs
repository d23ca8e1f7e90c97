//! Runs stay bounded: a host talking to itself pays loopback's cost so `--until` stops it,
//! `--max-events` and `--max-output` stop a run with nothing written, and `check` warns of
//! settings that would make a run enormous.

use std::fs;
use std::path::{Path, PathBuf};

use timewait::run::simulate;
use timewait::scenario;
use timewait::sim::SimTime;
use timewait::world::LOOPBACK_COST;

mod common;
use common::{TWO_HOSTS, entries, timewait};

/// Host `a` sends 2^32 bytes to its own address.
fn self_connection() -> String {
    format!(
        r#"[simulation]
duration = "1h"
{TWO_HOSTS}
[[app]]
kind = "receiver"
host = "a"
port = 80

[[app]]
kind = "sender"
host = "a"
to = "10.0.0.1:80"
bytes = 4294967296

[output]
events = false
states = false
pcap = "off"
figures = false
"#
    )
}

/// An HTTP client at `rate` requests per second for `duration`.
fn churn(rate: &str, duration: &str) -> String {
    format!(
        r#"[simulation]
duration = "{duration}"
{TWO_HOSTS}
[[app]]
kind = "http_server"
host = "b"
port = 80

[[app]]
kind = "churn"
host = "a"
url = "http://10.0.0.2/"
rate = {rate}
duration = "{duration}"
"#
    )
}

/// A receiver that no one calls, with `[output] socket_counts = VALUE`.
fn idle_counts(value: &str) -> String {
    format!(
        r#"[simulation]
duration = "1s"
{TWO_HOSTS}
[[app]]
kind = "receiver"
host = "b"
port = 80

[output]
socket_counts = {value}
"#
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("timewait-bounds-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn column(header: &str, name: &str) -> usize {
    header.split(',').position(|c| c == name).unwrap()
}

#[test]
fn a_self_connection_of_4_gib_stops_at_until_having_moved_what_loopback_carries() {
    let dir = temp_dir("loopback");
    fs::write(dir.join("self.toml"), self_connection()).unwrap();
    let o = timewait(
        &dir,
        &["run", "self.toml", "--until", "10ms", "--out", "out"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = fs::read_to_string(dir.join("out/connections.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    let (role, delivered, released) = (
        column(header, "role"),
        column(header, "bytes_delivered"),
        column(header, "released"),
    );
    let passive: Vec<&str> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[role] == "passive")
        .expect("the receiver's side of the connection")
        .into_iter()
        .collect();
    let moved: u64 = passive[delivered].parse().unwrap();
    // One packet (at most one 1460-byte segment) per LOOPBACK_COST, ACKs included.
    let slots = 10_000_000 / LOOPBACK_COST.as_nanos();
    assert!(moved > 0, "the self-connection moved no data");
    assert!(
        moved <= slots * 1460,
        "{moved} bytes in 10 ms is more than loopback carries"
    );
    assert_eq!(passive[released], "0.010000000");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_self_connection_runs_one_event_per_loopback_slot() {
    let s = scenario::parse("self", "self.toml", &self_connection()).unwrap();
    let until = SimTime::ZERO + timewait::sim::Duration::from_millis(10);
    let out = simulate(&s.config, until).unwrap();
    let slots = 10_000_000 / LOOPBACK_COST.as_nanos();
    // Every packet waits its turn on the loopback, so events cannot outnumber its slots by
    // more than the app's start-up events.
    assert!(
        out.stats.events <= slots + 10,
        "{} events",
        out.stats.events
    );
    assert!(out.stats.events >= slots / 2, "{} events", out.stats.events);
    assert!(out.stats.end <= until);
}

#[test]
fn max_events_passes_a_run_that_fits_and_stops_one_that_does_not_writing_nothing() {
    let dir = temp_dir("max-events");
    fs::write(dir.join("c.toml"), churn("100", "1s")).unwrap();
    let full = timewait(&dir, &["run", "c.toml", "--out", "full"]);
    assert!(full.status.success());
    let stdout = String::from_utf8_lossy(&full.stdout);
    let events: u64 = stdout
        .split(" simulation events.")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the summary gives the event count");
    let fits = timewait(
        &dir,
        &[
            "run",
            "c.toml",
            "--out",
            "fits",
            "--max-events",
            &events.to_string(),
        ],
    );
    assert!(
        fits.status.success(),
        "{}",
        String::from_utf8_lossy(&fits.stderr)
    );
    let cut = (events - 1).to_string();
    let stopped = timewait(
        &dir,
        &["run", "c.toml", "--out", "cut", "--max-events", &cut],
    );
    assert_eq!(stopped.status.code(), Some(1));
    let err = String::from_utf8_lossy(&stopped.stderr);
    assert!(err.contains(&format!("--max-events {cut}")), "{err}");
    assert!(err.contains("no output was written"), "{err}");
    // Neither the folder nor its staging folder is left behind.
    assert_eq!(entries(&dir), ["c.toml", "fits", "full"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn max_output_stops_a_run_whose_files_outgrow_it_writing_nothing() {
    let dir = temp_dir("max-output");
    fs::write(dir.join("n.toml"), churn("10000", "1s")).unwrap();
    let o = timewait(
        &dir,
        &["run", "n.toml", "--out", "out", "--max-output", "1MB"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("over --max-output 1000000 bytes"), "{err}");
    assert_eq!(entries(&dir), ["n.toml"]);
    // Rows formatted on other threads are counted before the run goes on, so the guard stops
    // it at the same simulated time with the same byte count every time.
    for _ in 0..3 {
        let again = timewait(
            &dir,
            &["run", "n.toml", "--out", "out", "--max-output", "1MB"],
        );
        assert_eq!(String::from_utf8_lossy(&again.stderr), err);
    }
    // The same run with room for its files completes.
    fs::write(dir.join("small.toml"), churn("10", "1s")).unwrap();
    let ok = timewait(
        &dir,
        &["run", "small.toml", "--out", "ok", "--max-output", "1MB"],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = timewait(&dir, &["run", "small.toml", "--max-output", "lots"]);
    assert_eq!(bad.status.code(), Some(2));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_and_run_warn_of_a_churn_rate_naming_the_field_and_the_estimate() {
    let dir = temp_dir("estimate");
    let text = churn("1e9", "1s");
    fs::write(dir.join("c.toml"), &text).unwrap();
    let line = text.lines().position(|l| l.starts_with("rate")).unwrap() + 1;
    let o = timewait(&dir, &["check", "c.toml"]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let at = format!("c.toml:{line}:8: warning in `app[1].rate`: this run is about 2.5e10 events");
    assert!(err.contains(&at), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 warning"));
    // `run` prints the same warning before it starts.
    let r = timewait(&dir, &["run", "c.toml", "--max-events", "10", "--out", "o"]);
    assert!(String::from_utf8_lossy(&r.stderr).contains(&at));
    // A modest rate draws no warning.
    fs::write(dir.join("calm.toml"), churn("100", "10s")).unwrap();
    let calm = timewait(&dir, &["check", "calm.toml"]);
    assert!(String::from_utf8_lossy(&calm.stdout).contains("0 warnings"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn socket_counts_is_on_or_off_and_an_old_interval_reads_as_on_without_a_warning() {
    // Rows follow changes, so even an interval of 1 ns costs nothing more.
    for (value, on) in [
        ("true", true),
        ("false", false),
        ("\"1ns\"", true),
        ("\"0s\"", false),
    ] {
        let s = scenario::parse("n", "n.toml", &idle_counts(value)).unwrap();
        assert_eq!(s.config.observe.counts, on, "{value}");
        assert!(s.warnings.is_empty(), "{value}: {:?}", s.warnings);
    }
    let text = idle_counts("\"often\"");
    let err = scenario::parse("n", "n.toml", &text)
        .unwrap_err()
        .to_string();
    let line = text
        .lines()
        .position(|l| l.starts_with("socket_counts"))
        .unwrap()
        + 1;
    assert!(err.starts_with(&format!("n.toml:{line}:")), "{err}");
    assert!(err.contains("true or false"), "{err}");
}

#[test]
fn no_bundled_scenario_draws_a_size_warning() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for e in fs::read_dir(&root).unwrap() {
        let path = e.unwrap().path();
        let s = timewait::sweep::load_scenario_file(&path).unwrap();
        for w in &s.warnings {
            assert!(!w.message.contains("events and"), "{}: {w}", path.display());
        }
    }
}
