//! `socket_counts.csv` as exact step functions: a row whenever a host's count for a state
//! changes, one per host and state at t = 0 and at the end, none for idle time.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("timewait-counts-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Runs bundled scenario `name` into `out` with `extra` arguments.
fn run(name: &str, out: &Path, extra: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_timewait"))
        .args(["run", name, "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The rows of a CSV file as maps from column to value.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// `1.020014080` as nanoseconds.
fn nanos(t: &str) -> u64 {
    let (s, f) = t.split_once('.').unwrap();
    s.parse::<u64>().unwrap() * 1_000_000_000 + f.parse::<u64>().unwrap()
}

/// (host, state) -> the (time, count) rows of `socket_counts.csv`, in order.
type Steps = BTreeMap<(String, String), Vec<(u64, i64)>>;

fn steps(dir: &Path) -> Steps {
    let mut s = Steps::new();
    for r in rows(&dir.join("socket_counts.csv")) {
        s.entry((r["host"].clone(), r["state"].clone()))
            .or_default()
            .push((nanos(&r["time"]), r["count"].parse().unwrap()));
    }
    s
}

/// The value of a step line at `t` (the last row at or before it).
fn at(line: &[(u64, i64)], t: u64) -> Option<i64> {
    let i = line.partition_point(|p| p.0 <= t);
    (i > 0).then(|| line[i - 1].1)
}

/// The bundled scenarios that are runs rather than sweeps.
fn bundled_runs() -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with("sweep_"))
            .collect();
    names.sort();
    names
}

#[test]
fn steps_equal_the_counts_replayed_from_states_csv_at_every_transition() {
    let dir = temp_dir("replay");
    let mut with_tcp = 0;
    for name in bundled_runs() {
        let out = dir.join(&name);
        run(&name, &out, &["--outputs", "states,socket_counts"]);
        let steps = steps(&out);
        let states = rows(&out.join("states.csv"));
        if states.is_empty() {
            continue;
        }
        with_tcp += 1;
        // states.csv holds connections, not listeners: every state but LISTEN is replayed.
        let mut count: BTreeMap<(String, String), i64> = BTreeMap::new();
        let mut i = 0;
        let mut checked = 0;
        while i < states.len() {
            let t = states[i]["time"].clone();
            while i < states.len() && states[i]["time"] == t {
                let r = &states[i];
                *count
                    .entry((r["host"].clone(), r["from"].clone()))
                    .or_default() -= 1;
                *count
                    .entry((r["host"].clone(), r["to"].clone()))
                    .or_default() += 1;
                i += 1;
            }
            for ((host, state), line) in &steps {
                // Failed connects are counted as they happen, not replayed from states.csv
                // (tests/sweep_metrics.rs checks them).
                if state == "LISTEN" || state.starts_with("connect_failed:") {
                    continue;
                }
                let want = count
                    .get(&(host.clone(), state.clone()))
                    .copied()
                    .unwrap_or(0);
                assert_eq!(
                    at(line, nanos(&t)),
                    Some(want),
                    "{name}: {host} {state} at {t}"
                );
                checked += 1;
            }
        }
        assert!(checked > 0, "{name}");
        // Rows are changes: no two rows of a line at one time, and each differs from the one
        // before it, except the last (the end of the run), which may repeat it.
        for ((host, state), line) in &steps {
            for (j, w) in line.windows(2).enumerate() {
                assert!(
                    w[0].0 < w[1].0,
                    "{name}: {host} {state} twice at {}",
                    w[1].0
                );
                assert!(
                    w[0].1 != w[1].1 || j + 2 == line.len(),
                    "{name}: {host} {state} repeats {} at {}",
                    w[1].1,
                    w[1].0
                );
            }
        }
    }
    assert!(with_tcp >= 8, "{with_tcp} bundled scenarios with TCP");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn last_ack_lost_shows_its_established_sockets() {
    let dir = temp_dir("last-ack");
    run("last_ack_lost", &dir, &[]);
    let steps = steps(&dir);
    let est = &steps[&("server".to_string(), "ESTABLISHED".to_string())];
    // The server's two connections are ESTABLISHED from 1.030 s until the clients' FINs,
    // about 0.2 ms later: far less than the 1 s a sampled count would have needed.
    assert!(
        est.iter()
            .any(|&(t, n)| n > 0 && (1_000_000_000..1_100_000_000).contains(&t)),
        "{est:?}"
    );
    assert_eq!(est.last().unwrap().1, 0);
    let svg = fs::read_to_string(dir.join("socket_counts.svg")).unwrap();
    assert!(svg.contains("ESTABLISHED sockets per host"));
    assert!(!svg.contains("none in ESTABLISHED") && !svg.contains("or ESTABLISHED"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn idle_simulated_time_adds_no_rows() {
    let dir = temp_dir("idle");
    let count = |until: &str| {
        let out = dir.join(until);
        run(
            "last_ack_lost",
            &out,
            &["--until", until, "--outputs", "socket_counts"],
        );
        let text = fs::read_to_string(out.join("socket_counts.csv")).unwrap();
        let last = text.lines().last().unwrap().to_string();
        (text.lines().count(), last)
    };
    let (short, short_last) = count("100s");
    let (long, long_last) = count("1000s");
    assert_eq!(short, long);
    // Both runs' series reach their own end.
    assert!(short_last.starts_with("100.000000000,"), "{short_last}");
    assert!(long_last.starts_with("1000.000000000,"), "{long_last}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn socket_counts_off_writes_no_rows() {
    let dir = temp_dir("off");
    let toml = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/last_ack_lost.toml"),
    )
    .unwrap();
    let path = dir.join("off.toml");
    fs::write(&path, toml).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_timewait"))
        .args([
            "run",
            "--quiet",
            "--set",
            "output.socket_counts=false",
            "--out",
        ])
        .arg(dir.join("out"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = fs::read_to_string(dir.join("out/socket_counts.csv")).unwrap_or_default();
    assert!(text.lines().count() <= 1, "{text}");
    fs::remove_dir_all(&dir).unwrap();
}
