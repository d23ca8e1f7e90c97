//! The research workflow from any folder: bundled scenarios by name, `--set` overrides with the
//! paths a sweep uses, and one sweep run re-run in full.

use std::fs;
use std::path::Path;
use std::process::Command;

mod common;
use common::timewait;

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = timewait(dir, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Sum of `bytes_corrupted` over a run folder's connections.csv.
fn corrupted(dir: &Path) -> u64 {
    let mut r = csv::Reader::from_path(dir.join("connections.csv")).unwrap();
    let col = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "bytes_corrupted")
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap()[col].parse::<u64>().unwrap())
        .sum()
}

#[test]
fn bundled_scenarios_work_from_a_folder_without_scenarios() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let list = ok(dir, &["list"]);
    let disk: Vec<String> = fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(list.lines().count(), disk.len(), "{list}");
    for name in &disk {
        assert!(list.lines().any(|l| l.starts_with(name.as_str())), "{name}");
    }
    let shown = ok(dir, &["show", "incarnation_2msl"]);
    assert_eq!(
        shown,
        fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/incarnation_2msl.toml"
        ))
        .unwrap()
    );
    // A run's output folder named like the scenario does not hide the bundled name.
    ok(dir, &["run", "routing_loop", "--out", "routing_loop"]);
    let again = ok(dir, &["run", "routing_loop", "--out", "routing_loop"]);
    assert!(again.contains("Scenario routing_loop"), "{again}");
    // A file of that name does: the user's copy wins.
    fs::write(dir.join("mine"), shown.replace("seed = 1", "seed = 77")).unwrap();
    assert!(ok(dir, &["check", "mine"]).starts_with("mine: ok"));
    let o = timewait(dir, &["run", "routing_lop"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no such file") && err.contains("did you mean `routing_loop`"),
        "{err}"
    );
}

#[test]
fn set_overrides_a_parameter_and_is_recorded() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    // RFC 9293's second reason for TIME_WAIT: without it the lost duplicate lands in the next
    // incarnation of the 4-tuple; with 2 x MSL it has died first.
    ok(dir, &["run", "incarnation_2msl", "--out", "kept"]);
    assert_eq!(corrupted(&dir.join("kept")), 0);
    let summary = ok(
        dir,
        &[
            "run",
            "incarnation_2msl",
            "--set",
            "tcp.time_wait=0s",
            "--out",
            "none",
        ],
    );
    assert!(corrupted(&dir.join("none")) > 0);
    assert!(
        summary.contains("Overrides: --set tcp.time_wait=0s"),
        "{summary}"
    );
    let manifest: toml::Table = fs::read_to_string(dir.join("none/manifest.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        manifest["overrides"].as_array().unwrap()[0].as_str(),
        Some("tcp.time_wait=0s")
    );
    assert!(
        manifest["command"]
            .as_str()
            .unwrap()
            .ends_with("--set tcp.time_wait=0s")
    );
    // Bracket paths are the dotted ones; a wrong path or field is named with a suggestion.
    ok(
        dir,
        &[
            "check",
            "incarnation_2msl",
            "--set",
            "host[client].tcp.isn=linux",
        ],
    );
    for (arg, needle) in [
        ("tcp.time_wat=0s", "did you mean `time_wait`"),
        ("host[clinet].tcp.isn=linux", "did you mean `client`"),
        (
            "tcp.time_wait=-5s",
            "--set tcp.time_wait=-5s: error in `tcp.time_wait`",
        ),
    ] {
        let o = timewait(
            dir,
            &["run", "incarnation_2msl", "--set", arg, "--out", "bad"],
        );
        assert_eq!(o.status.code(), Some(2), "{arg}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{arg}: {err}");
        assert!(!dir.join("bad").exists());
    }
}

#[test]
fn one_sweep_run_in_full_is_the_run_its_manifest_names() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    // Run 5 of the headline sweep: grid point 0 (TIME_WAIT 0, the first ISN policy), seed 6.
    ok(
        dir,
        &["sweep", "sweep_time_wait", "--point", "5", "--out", "point"],
    );
    let manifest: toml::Table = fs::read_to_string(dir.join("point/manifest.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let command = manifest["command"].as_str().unwrap().to_string();
    assert!(command.contains("--seed 6"), "{command}");
    // The whole sweep's runs.csv names the same command for run 5 (without the --until a run
    // records, which is the scenario's own duration).
    ok(dir, &["sweep", "sweep_time_wait", "--out", "all"]);
    let scenario: toml::Table = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/sweep_time_wait.toml"
    ))
    .unwrap()
    .parse()
    .unwrap();
    let duration = scenario["simulation"]["duration"]
        .as_str()
        .unwrap()
        .to_string();
    let mut runs = csv::Reader::from_path(dir.join("all/runs.csv")).unwrap();
    let reproduce = runs
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "reproduce")
        .unwrap();
    let row = runs.records().nth(5).unwrap().unwrap();
    assert_eq!(&row[0], "5");
    assert_eq!(
        row[reproduce].to_string(),
        command.replace(&format!(" --until {duration}"), ""),
        "runs.csv and the run's manifest name the same run"
    );
    assert!(command.contains("--set tcp.time_wait=0s"), "{command}");
    let args: Vec<&str> = command
        .strip_prefix("timewait ")
        .unwrap()
        .split(' ')
        .chain(["--out", "again"])
        .collect();
    ok(dir, &args);
    for f in fs::read_dir(dir.join("point")).unwrap() {
        let name = f.unwrap().file_name();
        assert_eq!(
            fs::read(dir.join("point").join(&name)).unwrap(),
            fs::read(dir.join("again").join(&name)).unwrap(),
            "{name:?}"
        );
    }
    assert_eq!(
        fs::read_dir(dir.join("again")).unwrap().count(),
        fs::read_dir(dir.join("point")).unwrap().count()
    );
    // 21 TIME_WAITs x 4 ISN policies x 40 seeds = 3360 runs: run 3360 is one too far.
    let o = timewait(dir, &["sweep", "sweep_time_wait", "--point", "3360"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("runs 0 to 3359"));
}

#[test]
fn a_run_outside_a_terminal_reports_progress_in_lines_unless_quiet() {
    let t = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_timewait"))
            .current_dir(t.path())
            .args(["run", "time_wait_pileup", "--until", "20s", "--out", "p"])
            .args(extra)
            // A line at every report (every 1,024 events) instead of every 10 s.
            .env("TIMEWAIT_HEARTBEAT", "0")
            .output()
            .unwrap()
    };
    let o = run(&[]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("timewait: simulated "))
        .collect();
    assert!(lines.len() > 10, "{err}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains(" of 20s (") && l.contains("events/s")),
        "{err}"
    );
    let o = run(&["--quiet"]);
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stderr).contains("timewait: simulated"));
}

/// Client and server through one router; `client_routes` and `router_routes` are TOML lists.
fn two_hosts(client_routes: &str, router_routes: &str) -> String {
    format!(
        r#"[simulation]
duration = "5s"

[[host]]
name = "client"
addr = "10.0.0.1"
routes = {client_routes}

[[host]]
name = "server"
addr = "10.0.1.2"

[[router]]
name = "r"
routes = {router_routes}

[[link]]
ends = ["client", "r"]
delay = "1ms"

[[link]]
ends = ["r", "server"]
delay = "1ms"

[[app]]
kind = "http_server"
host = "server"
port = 80

[[app]]
kind = "http_client"
host = "client"
url = "http://10.0.1.2:80/"
"#
    )
}

#[test]
fn check_warns_of_a_connection_whose_packets_cannot_go_or_come_back() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let both =
        r#"[{ dest = "10.0.1.0/24", via = "server" }, { dest = "10.0.0.0/24", via = "client" }]"#;
    let out_only = r#"[{ dest = "10.0.1.0/24", via = "server" }]"#;
    let to_r = r#"[{ dest = "0.0.0.0/0", via = "r" }]"#;
    let cases = [
        ("fine.toml", two_hosts(to_r, both), None),
        (
            "no_return.toml",
            two_hosts(to_r, out_only),
            Some("replies from `server` cannot come back: `r` has no route to 10.0.0.1"),
        ),
        (
            "dropped.toml",
            two_hosts(r#"[{ dest = "0.0.0.0/0", via = "drop" }]"#, both),
            Some("`client` drops packets for 10.0.1.2"),
        ),
    ];
    for (name, text, warning) in cases {
        fs::write(dir.join(name), &text).unwrap();
        let o = timewait(dir, &["check", name]);
        assert!(o.status.success(), "{name}");
        let err = String::from_utf8_lossy(&o.stderr);
        match warning {
            None => assert!(err.is_empty(), "{name}: {err}"),
            Some(w) => {
                let line = 1 + text.lines().position(|l| l.starts_with("url")).unwrap();
                assert!(err.contains(w), "{name}: {err}");
                assert!(
                    err.contains(&format!("{name}:{line}:")) && err.contains("app[1].url"),
                    "{name}: {err}"
                );
            }
        }
    }
}
