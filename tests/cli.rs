//! The command line as a user meets it: bad scenarios get located errors and write nothing;
//! good ones produce byte-identical outputs for the same seed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::timewait;

const BASE: &str = r#"# a small valid scenario
[simulation]
seed = 7
duration = "2s"

[[host]]
name = "sender"
addr = "10.0.0.1"

[[host]]
name = "receiver"
addr = "10.0.1.2"

[[router]]
name = "router"
routes = [{ dest = "10.0.1.0/24", via = "receiver" }, { dest = "10.0.0.0/24", via = "sender" }]

[[link]]
ends = ["sender", "router"]
delay = "1ms"
loss = 0.2

[[link]]
ends = ["router", "receiver"]
delay = "1ms"

[[app]]
kind = "datagram"
host = "sender"
to = "10.0.1.2"
interval = "10ms"
count = 100
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

/// 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle in text")
        + 1
}

struct Bad {
    what: &'static str,
    from: &'static str,
    to: &'static str,
    /// Text on the line the error must point at.
    line_has: &'static str,
    field: &'static str,
    message: &'static str,
}

const BAD: &[Bad] = &[
    Bad {
        what: "TOML syntax",
        from: "[simulation]",
        to: "[simulation",
        line_has: "[simulation",
        field: "",
        message: "",
    },
    Bad {
        what: "unknown field, with a suggestion",
        from: "delay = \"1ms\"\nloss",
        to: "dela = \"1ms\"\nloss",
        line_has: "dela =",
        field: "link[0].dela",
        message: "did you mean `delay`?",
    },
    Bad {
        what: "wrong type",
        from: "seed = 7",
        to: "seed = \"seven\"",
        line_has: "seed =",
        field: "simulation.seed",
        message: "invalid type",
    },
    Bad {
        what: "unknown node in a link, with a suggestion",
        from: "ends = [\"sender\", \"router\"]",
        to: "ends = [\"sender\", \"routr\"]",
        line_has: "routr",
        field: "link[0].ends[1]",
        message: "did you mean `router`?",
    },
    Bad {
        what: "duplicate node name",
        from: "name = \"receiver\"",
        to: "name = \"sender\" # again",
        line_has: "# again",
        field: "host[1].name",
        message: "duplicate node name `sender`",
    },
    Bad {
        what: "duplicate address",
        from: "addr = \"10.0.1.2\"",
        to: "addr = \"10.0.0.1\" # again",
        line_has: "# again",
        field: "host[1].addr",
        message: "duplicate address 10.0.0.1",
    },
    Bad {
        what: "route via a node that is not a neighbour",
        from: "via = \"sender\" }",
        to: "via = \"router\" }",
        line_has: "routes = ",
        field: "router[0].routes[1].via",
        message: "not a neighbour",
    },
    Bad {
        what: "zero duration",
        from: "duration = \"2s\"",
        to: "duration = \"0s\"",
        line_has: "duration =",
        field: "simulation.duration",
        message: "longer than zero",
    },
    Bad {
        what: "probability above one",
        from: "loss = 0.2",
        to: "loss = 1.5",
        line_has: "loss =",
        field: "link[0].loss",
        message: "not a probability",
    },
    Bad {
        what: "duration without a known unit",
        from: "interval = \"10ms\"",
        to: "interval = \"10 parsecs\"",
        line_has: "interval =",
        field: "app[0].interval",
        message: "invalid duration",
    },
    Bad {
        what: "unknown app kind, with a suggestion",
        from: "kind = \"datagram\"",
        to: "kind = \"datagrm\"",
        line_has: "kind =",
        field: "app[0].kind",
        message: "did you mean `datagram`?",
    },
    Bad {
        what: "app on a router",
        from: "host = \"sender\"\nto",
        to: "host = \"router\"\nto",
        line_has: "host = \"router\"",
        field: "app[0].host",
        message: "is a router",
    },
    Bad {
        what: "TTL out of range",
        from: "seed = 7",
        to: "seed = 7\ndefault_ttl = 0",
        line_has: "default_ttl",
        field: "simulation.default_ttl",
        message: "outside 1 to 255",
    },
    Bad {
        what: "missing required field",
        from: "duration = \"2s\"\n",
        to: "",
        line_has: "[simulation]",
        field: "simulation",
        message: "missing field `duration`",
    },
    Bad {
        what: "negative queue",
        from: "loss = 0.2",
        to: "queue = -1",
        line_has: "queue =",
        field: "link[0].queue",
        message: "invalid value",
    },
];

#[test]
fn malformed_scenarios_name_file_line_and_field_exit_non_zero_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (i, bad) in BAD.iter().enumerate() {
        assert!(
            BASE.contains(bad.from),
            "{}: base lacks {:?}",
            bad.what,
            bad.from
        );
        let text = BASE.replacen(bad.from, bad.to, 1);
        let name = format!("bad{i}.toml");
        write(dir.path(), &name, &text);
        for cmd in ["check", "run"] {
            let out = timewait(
                dir.path(),
                &[cmd, &name, "--out", "out"][..if cmd == "run" { 4 } else { 2 }],
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{}: {cmd} exit status; stderr: {err}",
                bad.what
            );
            assert!(!err.contains("panicked"), "{}: panicked: {err}", bad.what);
            let line = line_of(&text, bad.line_has);
            assert!(
                err.starts_with(&format!("{name}:{line}:")),
                "{}: expected {name}:{line}: in {err}",
                bad.what
            );
            if !bad.field.is_empty() {
                assert!(
                    err.contains(&format!("in `{}`", bad.field)),
                    "{}: field in {err}",
                    bad.what
                );
            }
            assert!(
                err.contains(bad.message),
                "{}: message {:?} in {err}",
                bad.what,
                bad.message
            );
            assert!(
                !dir.path().join("out").exists(),
                "{}: wrote output",
                bad.what
            );
        }
    }
}

#[test]
fn a_loop_at_time_zero_is_a_warning_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = BASE
        .replace("[[link]]\nends = [\"router\", \"receiver\"]", "[[router]]\nname = \"other\"\nroutes = [{ dest = \"10.0.1.0/24\", via = \"router\" }]\n\n[[link]]\nends = [\"router\", \"other\"]\ndelay = \"1ms\"\n\n[[link]]\nends = [\"router\", \"receiver\"]")
        .replace("via = \"receiver\" }", "via = \"other\" }");
    write(dir.path(), "loop.toml", &text);
    let out = timewait(dir.path(), &["check", "loop.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let line = line_of(&text, "to = \"10.0.1.2\"");
    assert!(err.starts_with(&format!("loop.toml:{line}:")), "{err}");
    assert!(
        err.contains("warning") && err.contains("loop: router -> other -> router"),
        "{err}"
    );
}

fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_changes_the_losses() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "lossy.toml", BASE);
    for out in ["a", "b"] {
        // Every file, the per-packet ones (off by default) included.
        let o = timewait(
            dir.path(),
            &["run", "lossy.toml", "--out", out, "--outputs", "all"],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let a = read_all(&dir.path().join("a"));
    let b = read_all(&dir.path().join("b"));
    // Every file the manifest lists is there, and nothing else.
    let manifest = fs::read_to_string(dir.path().join("a/manifest.toml")).unwrap();
    let listed: toml::Table = toml::from_str(&manifest).unwrap();
    let mut listed: Vec<String> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    let names: Vec<String> = a.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, listed);
    assert!(names.contains(&"events.csv".to_string()) && names.contains(&"trace.pcap".to_string()));
    assert_eq!(a, b, "same scenario and seed must give the same bytes");

    let o = timewait(
        dir.path(),
        &[
            "run",
            "lossy.toml",
            "--out",
            "c",
            "--seed",
            "8",
            "--outputs",
            "events",
        ],
    );
    assert!(o.status.success());
    let losses = |d: &str| {
        let events = fs::read_to_string(dir.path().join(d).join("events.csv")).unwrap();
        events
            .lines()
            .filter(|l| l.ends_with(",loss"))
            .map(|l| l.split(',').nth(3).unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (la, lc) = (losses("a"), losses("c"));
    assert!(!la.is_empty() && !lc.is_empty());
    assert_ne!(la, lc, "a different seed must lose different packets");
    // 20% of 100 datagrams: both seeds lose a plausible share.
    for l in [&la, &lc] {
        assert!((5..=40).contains(&l.len()), "{} losses", l.len());
    }
}

#[test]
fn the_bundled_routing_loop_summary_states_the_loops_toll() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rl");
    let o = Command::new(env!("CARGO_BIN_EXE_timewait"))
        .current_dir(root)
        .args(["run", "scenarios/routing_loop.toml", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = fs::read_to_string(out.join("summary.txt")).unwrap();
    // The scenario sends every 20 ms from 0.5 s; the loop lasts from 1 s to 3 s over 5 ms links.
    // A datagram in the loop dies 1 ms + 63 x 5 ms (plus 64 serialisations of 128 B at
    // 100 Mb/s, 10.24 us each) after it was sent.
    let lifetime = 1.0 + 63.0 * 5.0 + 64.0 * 0.01024;
    assert!(
        summary.contains(&format!("lived {lifetime:.3}ms")),
        "{summary}"
    );
    assert!(summary.contains("175 sent"), "{summary}");
    assert!(summary.contains("arrived late"), "{summary}");
    assert!(summary.contains("3 router hops"), "{summary}");
}

#[test]
fn list_shows_each_bundled_scenario_with_its_title() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = timewait(root, &["list"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("routing_loop"))
        .expect("listed");
    assert!(line.contains("routing loop"), "{line}");
}

#[test]
fn run_never_replaces_a_folder_that_is_not_an_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "s.toml", BASE);
    let mine = dir.path().join("mine");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let out = timewait(
        dir.path(),
        &[
            "run",
            file.to_str().unwrap(),
            "--out",
            mine.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an output folder"), "{err}");
    assert_eq!(
        fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert!(!mine.join("summary.txt").exists());
    // `--out .` inside an output folder would delete the folder the user stands in.
    let run_into =
        |cwd: &Path, out: &str| timewait(cwd, &["run", file.to_str().unwrap(), "--out", out]);
    let prev = dir.path().join("prev");
    let prev_arg = prev.to_str().unwrap();
    assert!(run_into(dir.path(), prev_arg).status.success());
    fs::write(prev.join("notes.txt"), "keep me").unwrap();
    assert!(!run_into(&prev, ".").status.success());
    assert_eq!(
        fs::read_to_string(prev.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert!(prev.join("manifest.toml").is_file());
    // An output folder (it has a manifest) is replaced whole by the next run, as users expect.
    assert!(run_into(dir.path(), prev_arg).status.success());
    assert!(prev.join("summary.txt").is_file());
    assert!(!prev.join("notes.txt").exists());
}

#[test]
fn check_checks_a_sweep_files_sweep_table_and_grid_with_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = "[sweep]\nseeds = 2\n\n[sweep.parameters]\n\"link.0.delay\" = [\"1ms\", \"2ms\"]\n";
    let good = format!("{BASE}\n{sweep}");
    write(dir.path(), "good.toml", &good);
    let out = timewait(dir.path(), &["check", "good.toml"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("sweep of 2 grid points x 2 seeds = 4 runs"),
        "{said}"
    );
    // A value `sweep` refuses (a negative delay), a typo inside [sweep], and a value that is
    // valid alone but not at every grid point all fail `check` at their line, with exit 2.
    for (name, text, line_has, field, message) in [
        (
            "negative.toml",
            good.replace("\"2ms\"]", "\"-60s\"]"),
            "\"link.0.delay\"",
            "sweep.parameters.\"link.0.delay\"",
            "value \"-60s\"",
        ),
        (
            "typo.toml",
            good.replace("seeds = 2", "seedz = 2"),
            "seedz",
            "sweep.seedz",
            "(did you mean `seeds`?)",
        ),
        (
            "huge.toml",
            good.replace("seed = 7", "seed = 18446744073709551615"),
            "seed = 1844",
            "simulation.seed",
            "9223372036854775807",
        ),
    ] {
        write(dir.path(), name, &text);
        let out = timewait(dir.path(), &["check", name]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        let line = line_of(&text, line_has);
        assert!(
            err.starts_with(&format!("{name}:{line}:")),
            "{name}: expected line {line}: {err}"
        );
        assert!(
            err.contains(&format!("error in `{field}`")),
            "{name}: {err}"
        );
        assert!(err.contains(message), "{name}: {err}");
        assert!(!err.contains("unknown field `sweep`"), "{name}: {err}");
    }
}

#[test]
fn an_until_too_large_is_bad_input_and_names_the_largest_duration() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.toml", BASE);
    let out = timewait(
        dir.path(),
        &["run", "s.toml", "--until", "1e18s", "--out", "out"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`1e18` is too large: the largest value is 18446744073.709551615s"),
        "{err}"
    );
    assert!(!dir.path().join("out").exists());
}

/// Per-packet traces are opt-in, as ns-3's pcap and OMNeT++'s eventlog: a scenario that does
/// not ask writes no `events.csv` or capture (and says why it drew no ladder), while its
/// per-connection files, socket counts and figures are there; `--outputs all` adds them.
#[test]
fn per_packet_traces_are_written_only_when_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = format!(
        "[simulation]\nseed = 1\nduration = \"2s\"\n{}\n\
         [[app]]\nkind = \"http_server\"\nhost = \"b\"\nport = 80\n\
         handlers = [{{ path = \"/\", body = 5000 }}]\n\n\
         [[app]]\nkind = \"http_client\"\nhost = \"a\"\nurl = \"http://10.0.0.2:80/\"\n",
        common::TWO_HOSTS
    );
    write(dir.path(), "s.toml", &scenario);
    let o = timewait(dir.path(), &["run", "s.toml", "--out", "default", "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("No ladder or timeseq figure") && stdout.contains("--outputs all"),
        "{stdout}"
    );
    // The report page says it too, for whoever opens the folder later.
    let page = fs::read_to_string(dir.path().join("default/report.html")).unwrap();
    assert!(page.contains("No ladder or timeseq figure"));
    // And `plot` asked for the ladder says where it would come from.
    let plot = timewait(dir.path(), &["plot", "default", "--only", "ladder"]);
    assert_eq!(plot.status.code(), Some(2));
    let err = String::from_utf8_lossy(&plot.stderr);
    assert!(
        err.contains("events.csv, which this folder does not have")
            && err.contains("--outputs all"),
        "{err}"
    );
    let files = common::entries(&dir.path().join("default"));
    for f in ["events.csv", "trace.pcap", "ladder.png"] {
        assert!(!files.iter().any(|g| g == f), "{f} written: {files:?}");
    }
    for f in [
        "connections.csv",
        "states.csv",
        "socket_counts.csv",
        "states.png",
    ] {
        assert!(files.iter().any(|g| g == f), "{f} missing: {files:?}");
    }
    let o = timewait(
        dir.path(),
        &["run", "s.toml", "--out", "all", "-q", "--outputs", "all"],
    );
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stdout).contains("No ladder"));
    let files = common::entries(&dir.path().join("all"));
    for f in ["events.csv", "trace.pcap", "ladder.png"] {
        assert!(files.iter().any(|g| g == f), "{f} missing: {files:?}");
    }
    // The files both runs write are the same bytes.
    for f in ["connections.csv", "states.csv", "socket_counts.csv"] {
        let read = |d: &str| fs::read(dir.path().join(d).join(f)).unwrap();
        assert!(read("default") == read("all"), "{f} differs");
    }
}

/// `run --outputs LIST` writes exactly the files named, and the manifest lists them and the
/// choice; `none` leaves the summary, the manifest and the report.
#[test]
fn outputs_selects_exactly_the_files_named() {
    let dir = tempfile::tempdir().unwrap();
    let run = |outputs: &str, out: &str| {
        let o = common::timewait(
            dir.path(),
            &[
                "run",
                "last_ack_lost",
                "--outputs",
                outputs,
                "--out",
                out,
                "--quiet",
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        common::entries(&dir.path().join(out))
    };
    let always = [
        ".timewait-output",
        "manifest.toml",
        "report.html",
        "summary.txt",
    ];
    let with = |extra: &[&str]| {
        let mut v: Vec<String> = always.iter().chain(extra).map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(run("none", "none"), with(&[]));
    assert_eq!(
        run("pcap,events", "two"),
        with(&["events.csv", "trace.pcap"])
    );
    assert_eq!(
        run("netstat,socket_counts,states", "tables"),
        with(&["netstat.txt", "socket_counts.csv", "states.csv"])
    );
    let manifest = std::fs::read_to_string(dir.path().join("two/manifest.toml")).unwrap();
    assert!(
        manifest.contains("outputs = \"summary,events,pcap\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("--outputs summary,events,pcap"),
        "{manifest}"
    );

    // `all` is what the bundled scenario writes by default, byte for byte, plus tcp_probe.csv
    // (off unless asked for: a row per ACK) and the cwnd figure drawn from it.
    let mut all = run("all", "all");
    for f in ["tcp_probe.csv", "cwnd.svg", "cwnd.png", "cwnd.pdf"] {
        let at = all.iter().position(|g| g == f);
        all.remove(at.unwrap_or_else(|| panic!("`all` writes {f}")));
    }
    let default = common::timewait(
        dir.path(),
        &["run", "last_ack_lost", "--out", "default", "--quiet"],
    );
    assert!(default.status.success());
    assert_eq!(all, common::entries(&dir.path().join("default")));
    for f in [
        "events.csv",
        "trace.pcap",
        "netstat.txt",
        "socket_counts.csv",
        "states.csv",
    ] {
        let read = |d: &str| std::fs::read(dir.path().join(d).join(f)).unwrap();
        assert!(read("all") == read("default"), "{f} differs");
    }

    let bad = common::timewait(
        dir.path(),
        &["run", "last_ack_lost", "--outputs", "events,trace"],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`trace` is not an output"));
}
