//! The packetdrill-style conformance suite (`tests/drill`, run under both profiles) and the
//! runner's own behaviour: diffs, skipped lines, tolerance, malformed scripts.

use std::path::Path;
use std::process::Command;

use timewait::drill::{self, DrillOptions, Outcome, Profile, Row};
use timewait::sim::Duration;

fn suite() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/drill"))
}

/// Every script passes under both profiles, except those `tests/drill/KNOWN` lists (which must
/// still fail, or the list is out of date).
#[test]
fn conformance_suite_passes_under_both_profiles() {
    let mut problems = Vec::new();
    for profile in Profile::ALL {
        let rows = drill::run_dir(suite(), &DrillOptions::new(profile)).expect("the suite runs");
        let count = |what: &str| rows.iter().filter(|r| r.result() == what).count();
        println!(
            "drill suite ({profile}): {} scripts, {} pass, {} known",
            rows.len(),
            count("pass"),
            count("known")
        );
        for r in rows.iter().filter(|r| r.known.is_some()) {
            println!("  known ({profile}): {}", r.script);
        }
        problems.extend(rows.iter().filter(|r| !r.ok()).map(|r: &Row| {
            format!(
                "{} ({profile}): {} {}",
                r.script,
                r.result(),
                r.outcome.first_mismatch()
            )
        }));
    }
    assert!(
        problems.is_empty(),
        "failing drill scripts:\n{}",
        problems.join("\n")
    );
}

/// The suite covers every state with at least a handful of scripts, and has at least 150.
#[test]
fn suite_has_scripts_for_every_state() {
    let scripts = drill::scripts_in(suite()).expect("listable");
    assert!(scripts.len() >= 150, "{} scripts", scripts.len());
    for state in [
        "closed",
        "listen",
        "syn_sent",
        "syn_rcvd",
        "established",
        "fin_wait_1",
        "fin_wait_2",
        "close_wait",
        "closing",
        "last_ack",
        "time_wait",
    ] {
        let n = scripts
            .iter()
            .filter(|p| p.parent().and_then(|d| d.file_name()) == Some(state.as_ref()))
            .count();
        assert!(n >= 9, "{state}: {n} scripts");
    }
    // Each script begins by citing what it checks.
    for p in &scripts {
        let text = std::fs::read_to_string(p).expect("readable");
        assert!(text.starts_with("// "), "{} has no citation", p.display());
    }
}

fn run(text: &str) -> Outcome {
    drill::run_script(text, &DrillOptions::new(Profile::Linux))
}

fn failure(o: Outcome) -> drill::Failure {
    match o {
        Outcome::Fail(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

const HANDSHAKE: &str = "\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0.1 < S 0:0(0) win 65535 <mss 1460>
";

#[test]
fn a_wrong_segment_fails_with_both_packets_and_the_fields_that_differ() {
    let f = failure(run(&format!("{HANDSHAKE}+0 > S. 0:0(0) ack 2 <...>\n")));
    assert_eq!(f.line, 5);
    assert!(f.message.contains("ack 1 (expected 2)"), "{}", f.message);
    assert!(
        f.message
            .contains("script packet: 0.100000 S. 0:0(0) ack 2 <...>"),
        "{}",
        f.message
    );
    assert!(
        f.message
            .contains("actual packet: 0.100000 S. 0:0(0) ack 1 win 65535 <mss 1460>"),
        "{}",
        f.message
    );
    let report = Outcome::Fail(f).report(Path::new("x.pkt"), Profile::Linux);
    assert!(
        report.starts_with("x.pkt:5: error handling packet:"),
        "{report}"
    );
}

#[test]
fn a_segment_the_script_did_not_expect_fails() {
    // The SYN-ACK goes out, but the script injects the next segment as if it had not.
    let f = failure(run(&format!(
        "{HANDSHAKE}+0.1 < . 1:1(0) ack 1 win 65535\n"
    )));
    assert_eq!(f.line, 5);
    assert!(
        f.message.contains("unexpected outbound packet"),
        "{}",
        f.message
    );
    assert!(f.message.contains("S. 0:0(0) ack 1"), "{}", f.message);
    // And a reply to the script's last line counts too.
    let f = failure(run(HANDSHAKE));
    assert!(f.message.contains("after the last line"), "{}", f.message);
}

#[test]
fn a_missing_segment_fails_at_the_end_of_its_window() {
    let f = failure(run(&format!(
        "{HANDSHAKE}+0 > S. 0:0(0) ack 1 <...>\n+0.1 < . 1:1(0) ack 1 win 65535\n+0 > . 1:1(0) ack 1\n"
    )));
    assert_eq!(f.line, 7);
    assert!(f.message.contains("the host sent nothing"), "{}", f.message);
}

#[test]
fn a_skipped_line_that_matters_fails_the_script_and_names_it() {
    let f = failure(run(&format!(
        "{HANDSHAKE}+0 > S. 0:0(0) ack 1 <...>\n+0 `tc qdisc add dev tun0 root netem delay 10ms`\n+0.1 < . 1:1(0) ack 1 win 65535\n"
    )));
    assert_eq!(f.line, 6);
    assert!(
        f.message.contains("cannot run `+0 `tc qdisc"),
        "{}",
        f.message
    );
    let f = failure(run(
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 poll([{fd=3, events=POLLIN}], 1, 0) = 0\n",
    ));
    assert!(
        f.message.contains("poll() is not modelled"),
        "{}",
        f.message
    );
    let f = failure(run(
        "`sysctl -q net.ipv4.tcp_congestion_control=reno`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
    ));
    assert!(f.message.contains("no equivalent"), "{}", f.message);
    // A sysctl that sets what the profile already has is a no-op and runs.
    assert!(
        run("`sysctl -q net.ipv4.tcp_sack=0`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n")
            .passed()
    );
}

/// The SYN-ACK is retransmitted 1 s after the first (RFC 6298's initial RTO); the script says
/// 0.997 s, so the segment is 3 ms late.
const LATE: &str = "+0 > S. 0:0(0) ack 1 <...>\n+0.997 > S. 0:0(0) ack 1 <...>\n";

#[test]
fn tolerance_windows_are_honoured() {
    let text = format!("{HANDSHAKE}{LATE}");
    assert!(run(&text).passed(), "3 ms late passes the 4 ms default");
    let strict = DrillOptions {
        tolerance: Some(Duration::from_micros(1000)),
        ..DrillOptions::new(Profile::Linux)
    };
    let f = failure(drill::run_script(&text, &strict));
    assert!(
        f.message
            .contains("sent at 1.100000, expected by 1.098000 (tolerance 1000 us)"),
        "{}",
        f.message
    );
    // The script's own option, as packetdrill's --tolerance_usecs.
    assert!(!run(&format!("--tolerance_usecs=1000\n{text}")).passed());
    // A range takes whatever falls inside it.
    assert!(
        run(&format!(
            "{HANDSHAKE}+0 > S. 0:0(0) ack 1 <...>\n+0.9~+1.01 > S. 0:0(0) ack 1 <...>\n"
        ))
        .passed()
    );
}

#[test]
fn malformed_scripts_name_the_line_and_what_was_expected() {
    match run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0 win 5\n") {
        Outcome::Error(f) => {
            assert_eq!(f.line, 2);
            assert!(
                f.message.contains("expected `(` in seq:end(len)"),
                "{}",
                f.message
            );
        }
        other => panic!("{other:?}"),
    }
    match run("#ifdef LINUX\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n") {
        Outcome::Error(f) => assert!(f.message.contains("#ifdef without #endif")),
        other => panic!("{other:?}"),
    }
}

/// Hostile numbers are errors, not panics or huge allocations.
#[test]
fn out_of_range_numbers_are_errors() {
    for text in [
        "0 < S 0:100000(100000) win 5\n",
        "99999999999 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
        "0 < S 0:0(0) win 70000\n",
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 99999999999999999999\n",
    ] {
        assert!(matches!(run(text), Outcome::Error(_)), "{text}");
    }
    let f = failure(run(&format!(
        "{HANDSHAKE}+0 > S. 0:0(0) ack 1 <...>\n+0.1 < . 1:1(0) ack 1 win 65535\n+0 accept(3, ..., ...) = 4\n+0 write(4, ..., 99999999999) = 1\n"
    )));
    assert!(f.message.contains("at most 64 MiB"), "{}", f.message);
    let huge = DrillOptions {
        tolerance: Some(drill::micros(u64::MAX)),
        ..DrillOptions::new(Profile::Linux)
    };
    assert!(drill::run_script(&format!("{HANDSHAKE}+0 > S. 0:0(0) ack 1 <...>\n"), &huge).passed());
}

#[test]
fn return_values_and_errno_are_checked() {
    let f = failure(run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4\n"));
    assert!(
        f.message.contains("returned 3, expected 4"),
        "{}",
        f.message
    );
    let f = failure(run("0 close(9) = 0\n"));
    assert!(
        f.message.contains("returned -1 EBADF, expected 0"),
        "{}",
        f.message
    );
}

#[test]
fn a_call_still_blocked_at_the_end_fails() {
    let f = failure(run(
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n+0 accept(3, ..., ...) = 4\n",
    ));
    assert_eq!(f.line, 4);
    assert!(f.message.contains("still blocked"), "{}", f.message);
}

#[test]
fn ifdef_follows_the_profile_and_define() {
    let text = "#ifdef EXTRA\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 7\n#else\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n#endif\n";
    assert!(run(text).passed());
    let opts = DrillOptions {
        defines: vec!["EXTRA".into()],
        ..DrillOptions::new(Profile::Rfc9293)
    };
    assert!(!drill::run_script(text, &opts).passed());
}

#[test]
fn the_command_prints_a_table_and_exits_by_the_result() {
    let dir = std::env::temp_dir().join(format!("timewait-drill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("good.pkt"),
        format!("{HANDSHAKE}+0 > S. 0:0(0) ack 1 <...>\n"),
    )
    .expect("write");
    let bin = env!("CARGO_BIN_EXE_timewait");
    let out = Command::new(bin)
        .arg("drill")
        .arg(&dir)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("good.pkt"), "{stdout}");
    assert!(
        stdout.contains("1 scripts (linux): 1 pass, 0 known, 0 fail"),
        "{stdout}"
    );
    std::fs::write(dir.join("bad.pkt"), format!("{HANDSHAKE}+0 > R 0:0(0)\n")).expect("write");
    let out = Command::new(bin)
        .arg("drill")
        .arg(&dir)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("bad.pkt   FAIL    line 5: error handling packet"),
        "{stdout}"
    );
    let out = Command::new(bin)
        .arg("drill")
        .arg(dir.join("bad.pkt"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("bad.pkt:5: error handling packet"));
    std::fs::remove_dir_all(&dir).ok();
}
