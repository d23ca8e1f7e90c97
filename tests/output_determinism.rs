//! Files written by the writer threads are the same bytes run after run: every bundled scenario,
//! with every output on (the pile-up with its own, as it opens 164,000 connections), run twice.

mod common;

use std::path::Path;

use common::{entries, timewait};

/// The bundled scenarios `timewait run` takes (the sweeps run with `timewait sweep`).
fn bundled(dir: &Path) -> Vec<String> {
    let out = timewait(dir, &["list"]);
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| !n.starts_with("sweep_"))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_bundled_scenario_writes_the_same_bytes_twice() {
    let dir = tempfile::tempdir().unwrap();
    let names = bundled(dir.path());
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        let mut args = vec!["run", name.as_str(), "-q"];
        if name != "time_wait_pileup" {
            args.extend(["--outputs", "all"]);
        }
        let mut runs = Vec::new();
        for i in 0..2 {
            let out = dir.path().join(format!("{name}-{i}"));
            let mut a = args.clone();
            a.extend(["--out", out.to_str().unwrap()]);
            let r = timewait(dir.path(), &a);
            assert!(
                r.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&r.stderr)
            );
            runs.push(out);
        }
        let files = entries(&runs[0]);
        assert_eq!(files, entries(&runs[1]), "{name}");
        if name != "time_wait_pileup" {
            assert!(files.iter().any(|f| f == "events.csv"), "{name}: {files:?}");
        }
        for f in &files {
            let a = std::fs::read(runs[0].join(f)).unwrap();
            let b = std::fs::read(runs[1].join(f)).unwrap();
            assert!(a == b, "{name}/{f} differs between two runs");
        }
        for r in runs {
            std::fs::remove_dir_all(r).unwrap();
        }
    }
}
