//! `[output] pcap_hosts`: a capture limited to some hosts, as tcpdump on their interfaces.
//! With `pcap = "all"` the capture holds exactly the frames of the full capture that the named
//! host sent or received (tshark reads both); with `pcap = "per-link"` only the named host's
//! links are captured.

use std::path::{Path, PathBuf};
use std::process::Command;

mod tshark;
use tshark::tshark;

mod common;
use common::entries;

/// Runs the bundled `time_wait_assassination` (two clients, one server) with `extra`.
fn run(tmp: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_timewait"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "time_wait_assassination", "-q", "--out"])
        .arg(tmp.join(out))
        .args(extra)
        .output()
        .expect("the binary runs")
}

fn ok_run(tmp: &Path, out: &str, extra: &[&str]) -> PathBuf {
    let r = run(tmp, out, extra);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    tmp.join(out)
}

/// Every frame's time, addresses, ports and flags, one line each.
fn frames(file: &Path, filter: Option<&str>) -> Vec<String> {
    let mut args = vec!["-T", "fields", "-E", "separator=,"];
    for f in [
        "frame.time_epoch",
        "ip.src",
        "ip.dst",
        "tcp.srcport",
        "tcp.dstport",
        "tcp.flags",
    ] {
        args.extend(["-e", f]);
    }
    if let Some(f) = filter {
        args.extend(["-Y", f]);
    }
    tshark(file, &args).lines().map(str::to_string).collect()
}

#[test]
fn a_host_capture_holds_exactly_that_hosts_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let all = ok_run(tmp.path(), "all", &[]);
    let one = ok_run(
        tmp.path(),
        "one",
        &["--set", r#"output.pcap_hosts=["client_plain"]"#],
    );
    let full = frames(&all.join("trace.pcap"), None);
    let mine = frames(&one.join("trace.pcap"), None);
    assert!(
        !mine.is_empty() && mine.len() < full.len(),
        "{} of {}",
        mine.len(),
        full.len()
    );
    for f in &mine {
        assert!(f.contains(",10.0.0.1,"), "not client_plain's: {f}");
    }
    assert_eq!(
        mine,
        frames(&all.join("trace.pcap"), Some("ip.addr == 10.0.0.1"))
    );
}

#[test]
fn a_per_link_capture_keeps_only_the_hosts_links() {
    let tmp = tempfile::tempdir().unwrap();
    let per_link = ["--set", "output.pcap=per-link"];
    let all = ok_run(tmp.path(), "all", &per_link);
    let mut args = per_link.to_vec();
    args.extend(["--set", r#"output.pcap_hosts=["client_plain"]"#]);
    let one = ok_run(tmp.path(), "one", &args);
    let pcaps = |d: &Path| -> Vec<String> {
        entries(d)
            .into_iter()
            .filter(|f| f.ends_with(".pcap"))
            .collect()
    };
    assert_eq!(pcaps(&one), ["link-client_plain-R.pcap"]);
    assert!(pcaps(&all).len() > 1);
    let f = "link-client_plain-R.pcap";
    assert_eq!(frames(&one.join(f), None), frames(&all.join(f), None));
    assert!(!frames(&one.join(f), None).is_empty());
}

#[test]
fn an_unknown_host_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run(
        tmp.path(),
        "x",
        &["--set", r#"output.pcap_hosts=["clinet_plain"]"#],
    );
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("pcap_hosts") && err.contains("clinet_plain"),
        "{err}"
    );
}
