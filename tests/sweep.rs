//! `timewait sweep` and `timewait merge` as a user meets them: the files do not depend on the
//! thread count or on sharding, the headline sweep shows what TIME_WAIT = 2 x MSL buys, the
//! summary's intervals are the Wilson formula's, and bad input writes nothing.
//!
//! Every sweep here is the bundled `scenarios/sweep_time_wait.toml` with a smaller [sweep]
//! table, so the whole file runs in a few seconds.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::timewait;
use common::{csv_rows, entries, num};

const HEADLINE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/sweep_time_wait.toml"
);

/// Every file a whole sweep writes.
const WHOLE: [&str; 9] = [
    ".timewait-output",
    "manifest.toml",
    "report.html",
    "runs.csv",
    "summary.csv",
    "sweep.pdf",
    "sweep.png",
    "sweep.svg",
    "sweep.toml",
];

/// Runs the binary and insists it succeeded.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = timewait(dir, args);
    assert!(
        out.status.success(),
        "timewait {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the binary and insists it failed as bad input (status 2); returns stderr.
fn bad_input(dir: &Path, args: &[&str]) -> String {
    let out = timewait(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "timewait {args:?} should fail as bad input; stderr: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// The headline sweep file with its [sweep] table replaced by `sweep`, written to `dir/name`.
fn reduced(dir: &Path, name: &str, sweep: &str) -> PathBuf {
    let text = fs::read_to_string(HEADLINE).unwrap();
    let at = text
        .find("\n[sweep]\n")
        .expect("the headline sweep ends with a [sweep] table");
    let path = dir.join(name);
    fs::write(&path, format!("{}\n{sweep}", &text[..=at])).unwrap();
    path
}

/// A [sweep] table over `time_waits` x `isns` with seeds 1..=`seeds`.
fn table(seeds: u32, time_waits: &[&str], isns: &[&str]) -> String {
    let list = |v: &[&str]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "[sweep]\nseeds = {seeds}\nx = \"tcp.time_wait\"\n\n[sweep.parameters]\n\"tcp.time_wait\" = [{}]\n\"tcp.isn\" = [{}]\n",
        list(time_waits),
        list(isns)
    )
}

/// The files of a folder by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Asserts two folders hold the same files with the same bytes, naming the first that differs.
fn assert_same_folder(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    for (name, bytes) in &fa {
        assert!(
            bytes == &fb[name],
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn the_files_are_the_same_bytes_on_one_thread_and_on_two() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    reduced(
        dir,
        "s.toml",
        &table(
            6,
            &["0.125msl", "0.5msl", "2msl"],
            &["rfc793-clock", "random"],
        ),
    );
    let one = ok(dir, &["sweep", "s.toml", "--jobs", "1", "--out", "one"]);
    let two = ok(dir, &["sweep", "s.toml", "--jobs", "2", "--out", "two"]);
    assert!(one.contains("6 grid points x 6 seeds = 36 runs"), "{one}");
    assert!(two.contains("on 2 threads"), "{two}");

    let found = files(&dir.join("one"));
    assert_eq!(found.keys().map(String::as_str).collect::<Vec<_>>(), WHOLE);
    assert_same_folder(&dir.join("one"), &dir.join("two"));
    // Not trivially equal: every run is there, in run order, with real work done.
    let runs = csv_rows(&dir.join("one/runs.csv"));
    assert_eq!(runs.len(), 36);
    for (i, r) in runs.iter().enumerate() {
        assert_eq!(r["run"], i.to_string());
        assert_eq!(r["seed"], (i % 6 + 1).to_string());
        assert!(num(r, "events") > 100.0, "{r:?}");
    }
    // The PNG is a PNG and the SVG an SVG (the figure was drawn, not left empty).
    assert_eq!(found["sweep.png"][..8], *b"\x89PNG\r\n\x1a\n");
    assert!(String::from_utf8_lossy(&found["sweep.svg"]).contains("<svg"));
}

#[test]
fn two_shards_merge_into_the_whole_sweep_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    reduced(
        dir,
        "s.toml",
        &table(5, &["0.25msl", "2msl"], &["rfc793-clock", "linux"]),
    );
    ok(dir, &["sweep", "s.toml", "--jobs", "2", "--out", "whole"]);
    ok(dir, &["sweep", "s.toml", "--shard", "1/2", "--out", "s1"]);
    let out = ok(dir, &["sweep", "s.toml", "--shard", "2/2", "--out", "s2"]);
    assert!(out.contains("shard 2/2 ran 10"), "{out}");

    // A shard holds its own runs only (even run numbers for 1/2, odd for 2/2), and no summary.
    for (shard, parity) in [("s1", 0), ("s2", 1)] {
        let names: Vec<String> = files(&dir.join(shard)).into_keys().collect();
        assert_eq!(
            names,
            [
                ".timewait-output",
                "manifest.toml",
                "runs.csv",
                "sweep.toml"
            ],
            "{shard}"
        );
        let runs = csv_rows(&dir.join(shard).join("runs.csv"));
        assert_eq!(runs.len(), 10, "{shard}");
        assert!(
            runs.iter()
                .all(|r| r["run"].parse::<u64>().unwrap() % 2 == parity),
            "{shard}"
        );
    }

    let out = ok(dir, &["merge", "s2", "s1", "--out", "merged"]);
    assert!(out.contains("Merged 2 shard folders (20 runs)"), "{out}");
    assert_same_folder(&dir.join("whole"), &dir.join("merged"));
}

#[test]
fn merge_refuses_missing_mismatched_and_repeated_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // 2 grid points x 4 seeds = 8 runs: shard 3/3 holds runs 2 and 5.
    reduced(dir, "a.toml", &table(4, &["0.25msl", "2msl"], &["random"]));
    reduced(dir, "b.toml", &table(3, &["0.25msl", "2msl"], &["random"]));
    for k in 1..=3 {
        ok(
            dir,
            &[
                "sweep",
                "a.toml",
                "--shard",
                &format!("{k}/3"),
                "--out",
                &format!("a{k}"),
            ],
        );
    }
    ok(
        dir,
        &["sweep", "a.toml", "--shard", "1/2", "--out", "a1of2"],
    );
    ok(
        dir,
        &["sweep", "b.toml", "--shard", "2/2", "--out", "b2of2"],
    );

    let cases: &[(&[&str], &str)] = &[
        (
            &["a1", "a2"],
            "missing shard 3/3: runs 2, 5 are in none of the 2 folders given; pass all 3 shard folders",
        ),
        (
            &["a2"],
            "missing shards 1/3, 3/3: runs 0, 2, 3, 5, 6 are in none of the 1 folder given",
        ),
        (&["a1of2", "b2of2"], "come from different sweep files"),
        (&["a1", "a2", "a1of2"], "must split the sweep the same way"),
        (&["a1", "a1", "a2", "a3"], "shard 1/3 is given twice"),
        (
            &["a1", "a2", "a3", "nowhere"],
            "nowhere is not a sweep folder",
        ),
    ];
    for (dirs, expected) in cases {
        let mut args = vec!["merge"];
        args.extend_from_slice(dirs);
        args.extend(["--out", "merged"]);
        let err = bad_input(dir, &args);
        assert!(
            err.starts_with("timewait merge: ") && err.contains(expected),
            "merge {dirs:?}: expected `{expected}` in: {err}"
        );
        assert!(
            !dir.join("merged").exists(),
            "merge {dirs:?} wrote a folder"
        );
    }

    // A shard cut short: its runs.csv lost its last row (run 7, of shard 2/3).
    let runs = dir.join("a2/runs.csv");
    let text = fs::read_to_string(&runs).unwrap();
    let kept: Vec<&str> = text.lines().collect();
    fs::write(&runs, kept[..kept.len() - 1].join("\n") + "\n").unwrap();
    let err = bad_input(dir, &["merge", "a1", "a2", "a3", "--out", "merged"]);
    assert!(
        err.contains("1 of 8 runs are missing: run 7 is not in a2/runs.csv (shard 2/3)"),
        "{err}"
    );
    assert!(!dir.join("merged").exists());
    // Nothing but the inputs: no staging folder left behind either.
    assert!(
        entries(dir).iter().all(|e| !e.starts_with('.')),
        "{:?}",
        entries(dir)
    );
}

/// The Wilson score interval as the textbook writes it: (p + z^2/2n -+ z sqrt(p(1-p)/n +
/// z^2/4n^2)) / (1 + z^2/n), clamped to [0, 1], z = 1.959964 (the 0.975 normal quantile).
fn wilson_by_hand(k: f64, n: f64) -> (f64, f64) {
    let z: f64 = 1.959_963_984_540_054;
    let p = k / n;
    let centre = p + z * z / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    let d = 1.0 + z * z / n;
    (
        ((centre - half) / d).max(0.0),
        ((centre + half) / d).min(1.0),
    )
}

#[test]
fn two_msl_of_time_wait_leaves_no_corrupted_run_and_an_eighth_of_msl_does() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    reduced(
        dir,
        "h.toml",
        &table(
            12,
            &["0.125msl", "0.25msl", "2msl", "2.5msl"],
            &["rfc793-clock"],
        ),
    );
    let out = ok(dir, &["sweep", "h.toml", "--out", "h"]);
    assert!(out.contains("4 grid points x 12 seeds = 48 runs"), "{out}");
    let summary = csv_rows(&dir.join("h/summary.csv"));
    let runs = csv_rows(&dir.join("h/runs.csv"));
    assert_eq!(summary.len(), 4);
    assert_eq!(runs.len(), 48);

    for row in &summary {
        let x = num(row, "x");
        let (n, k) = (num(row, "runs"), num(row, "corrupted_runs"));
        assert_eq!(n, 12.0);
        // The summary counts what runs.csv says, grid point by grid point.
        let counted = runs
            .iter()
            .filter(|r| r["grid"] == row["grid"] && r["corrupted"] == "1")
            .count();
        assert_eq!(k, counted as f64, "{row:?}");
        if x >= 2.0 {
            assert_eq!(k, 0.0, "corrupted runs at TIME_WAIT = {x} MSL: {row:?}");
            assert_eq!(num(row, "corrupted_bytes_mean"), 0.0);
            // Not for want of trouble: lost duplicates still arrive, after TIME_WAIT has kept
            // the 4-tuple out of reach until they are harmless.
            assert!(num(row, "lost_duplicates_mean") > 0.0, "{row:?}");
        }
        let (lo, hi) = wilson_by_hand(k, n);
        for (col, want) in [
            ("corrupted_proportion", k / n),
            ("corrupted_wilson95_lo", lo),
            ("corrupted_wilson95_hi", hi),
        ] {
            assert_eq!(row[col], format!("{want:.6}"), "{col} of {row:?}");
        }
    }
    let below_msl: f64 = summary
        .iter()
        .filter(|r| num(r, "x") < 1.0)
        .map(|r| num(r, "corrupted_runs"))
        .sum();
    assert!(
        below_msl >= 1.0,
        "no corrupted run below MSL with RFC 793's clock: {summary:?}"
    );

    // By hand for 0 of 12 (the 2 x MSL row): p = 0, so the interval is [0, z^2 / (n + z^2)]
    // = [0, 3.841459 / 15.841459] = [0, 0.242494].
    let two_msl = summary
        .iter()
        .find(|r| r["tcp.time_wait"] == "2msl")
        .unwrap();
    assert_eq!(two_msl["corrupted_proportion"], "0.000000");
    assert_eq!(two_msl["corrupted_wilson95_lo"], "0.000000");
    assert_eq!(two_msl["corrupted_wilson95_hi"], "0.242494");
    // And the manifest says which statistic this is.
    let manifest = fs::read_to_string(dir.join("h/manifest.toml")).unwrap();
    assert!(manifest.contains("95% Wilson score interval"), "{manifest}");
}

#[test]
fn bad_sweep_input_is_named_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = table(2, &["0.25msl", "2msl"], &["random"]);
    let cases: [(&str, String, &[&str]); 5] = [
        (
            "unknown host in a path",
            good.replace("\"tcp.isn\"", "\"host.clinet.tcp.isn\""),
            &[
                "error in `sweep.parameters.\"host.clinet.tcp.isn\"`",
                "no [[host]] named `clinet`",
                "did you mean `client`?",
            ],
        ),
        (
            "unknown field in a path",
            good.replace("\"tcp.isn\"", "\"tcp.time_wiat\""),
            &[
                "error in `sweep.parameters.\"tcp.time_wiat\"`",
                "unknown field `time_wiat`",
                "did you mean `time_wait`?",
            ],
        ),
        (
            "a value the scenario rejects",
            good.replace("\"2msl\"", "\"-2msl\""),
            &[
                "error in `sweep.parameters.\"tcp.time_wait\"`",
                "value \"-2msl\"",
                "not a non-negative number",
            ],
        ),
        (
            "a typo in [sweep]",
            good.replace("seeds = 2", "sedes = 2"),
            &[
                "error in `sweep.sedes`",
                "unknown field `sedes`",
                "did you mean `seeds`?",
            ],
        ),
        (
            "x names no parameter",
            good.replace("x = \"tcp.time_wait\"", "x = \"tcp.isn_\""),
            &["error in `sweep.x`", "did you mean `tcp.isn`?"],
        ),
    ];
    for (what, sweep, expected) in cases {
        let file = reduced(dir, "bad.toml", &sweep);
        let text = fs::read_to_string(&file).unwrap();
        let err = bad_input(dir, &["sweep", "bad.toml", "--out", "out"]);
        // file:line:column, pointing at the [sweep] table's line at fault.
        let line = err
            .strip_prefix("bad.toml:")
            .and_then(|r| r.split(':').next())
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("{what}: no file:line in: {err}"));
        assert!(
            line > text
                .find("[sweep]")
                .map_or(0, |at| text[..at].lines().count()),
            "{what}: line {line} is not in the [sweep] table: {err}"
        );
        for e in expected {
            assert!(err.contains(e), "{what}: expected `{e}` in: {err}");
        }
        assert_eq!(entries(dir), ["bad.toml"], "{what}: something was written");
    }

    reduced(dir, "ok.toml", &good);
    for shard in ["0/2", "3/2", "2", "1/0"] {
        let err = bad_input(dir, &["sweep", "ok.toml", "--shard", shard, "--out", "out"]);
        assert!(
            err.contains(&format!("invalid shard `{shard}`")) && err.contains("1 <= K <= N"),
            "--shard {shard}: {err}"
        );
    }
    let err = bad_input(dir, &["sweep", "ok.toml", "--jobs", "0", "--out", "out"]);
    assert!(err.contains("invalid thread count `0`"), "{err}");
    assert_eq!(entries(dir), ["bad.toml", "ok.toml"]);

    // An --out folder with someone's files in it is not replaced.
    fs::create_dir(dir.join("mine")).unwrap();
    fs::write(dir.join("mine/notes.txt"), "keep me").unwrap();
    let err = bad_input(dir, &["sweep", "ok.toml", "--out", "mine"]);
    assert!(
        err.contains("--out mine: already exists and is not an output folder"),
        "{err}"
    );
    assert_eq!(entries(&dir.join("mine")), ["notes.txt"]);
    // ... while a sweep folder is replaced whole.
    ok(dir, &["sweep", "ok.toml", "--out", "out"]);
    ok(dir, &["sweep", "ok.toml", "--out", "out"]);
    assert_eq!(files(&dir.join("out")).len(), WHOLE.len());
}

/// RFC 9293 section 3.6.1's second MSL, from the scenario's own parameters: every lost
/// duplicate honours MSL, yet with a clock-driven ISN some run is corrupted by a TIME_WAIT
/// between 1 and 2 MSL (the passive closer's retransmission, sent while the last ACK was held);
/// from 2 MSL on no run is corrupted under any ISN policy.
#[test]
fn one_msl_of_time_wait_is_not_enough_and_two_are() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let isns = ["rfc793-clock", "rfc6528", "linux", "random"];
    let mut sweep = table(8, &["1.25msl", "1.5msl", "2msl", "2.5msl"], &isns);
    sweep = sweep.replace(
        "x = \"tcp.time_wait\"\n",
        "x = \"tcp.time_wait\"\nmetrics = [\"corrupted\", \"duplicate_lifetime_max\"]\n",
    );
    let path = reduced(dir, "m.toml", &sweep);
    ok(dir, &["sweep", "m.toml", "--out", "m"]);
    // MSL as the scenario states it.
    let scenario: toml::Table = fs::read_to_string(&path).unwrap().parse().unwrap();
    let msl = scenario["tcp"]["msl"].as_str().unwrap();
    let msl: f64 = msl.strip_suffix('s').unwrap().parse().unwrap();
    let runs = csv_rows(&dir.join("m/runs.csv"));
    assert_eq!(runs.len(), 4 * 4 * 8);
    let mut longest = 0.0f64;
    for r in &runs {
        if !r["duplicate_lifetime_max"].is_empty() {
            longest = longest.max(num(r, "duplicate_lifetime_max"));
        }
    }
    assert!(longest > 0.0, "no lost duplicate arrived");
    assert!(longest <= msl, "a lost duplicate outlived MSL: {longest} s");
    let summary = csv_rows(&dir.join("m/summary.csv"));
    for row in &summary {
        let x = num(row, "x");
        // `corrupted_runs` counts the corrupted runs, as in the default summary.
        let k = num(row, "corrupted_runs");
        assert!((k / num(row, "runs") - num(row, "corrupted_proportion")).abs() < 1e-6);
        if x >= 2.0 {
            assert_eq!(k, 0.0, "corrupted at TIME_WAIT = {x} MSL: {row:?}");
        }
    }
    for clock in ["rfc793-clock", "rfc6528"] {
        let between: f64 = summary
            .iter()
            .filter(|r| r["tcp.isn"] == clock && (1.0..2.0).contains(&num(r, "x")))
            .map(|r| num(r, "corrupted_proportion") * num(r, "runs"))
            .sum();
        assert!(
            between >= 1.0,
            "{clock}: no corrupted run with TIME_WAIT between MSL and 2 x MSL: {summary:?}"
        );
    }
    // The figure marks the longest lifetime on the TIME_WAIT / MSL axis.
    let svg = fs::read_to_string(dir.join("m/sweep.svg")).unwrap();
    assert!(
        svg.contains("longest old segment lifetime"),
        "no mark in the figure"
    );
}
