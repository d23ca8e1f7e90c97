//! A bundled run's `trace.pcap`, read by tshark: `scenarios/incarnation_no_timewait.toml`
//! writes every packet delivered to a host (the `[output] pcap = "all"` default), so the
//! capture must hold exactly the `deliver` rows of events.csv, in order, with the same times and
//! headers, good checksums, nothing malformed, and the lost duplicate the summary names.

use std::collections::BTreeMap;
use std::process::Command;
use std::str::FromStr;

use timewait::tcp::Flags;

mod tshark;
use tshark::tshark;

mod common;
use common::csv_rows;

/// The fields read from every frame, in this order.
const FIELDS: [&str; 13] = [
    "frame.time_epoch",
    "ip.src",
    "ip.dst",
    "ip.ttl",
    "ip.id",
    "ip.checksum.status",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.len",
    "tcp.flags",
    "tcp.checksum.status",
    "tcp.analysis.retransmission",
    "_ws.malformed",
];

/// A hex field such as "0x0012".
fn hex(s: &str) -> u32 {
    u32::from_str_radix(s.trim_start_matches("0x"), 16)
        .unwrap_or_else(|_| panic!("`{s}` is not hex"))
}

#[test]
fn tshark_reads_the_bundled_lost_duplicate_as_the_simulator_logged_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let run = Command::new(env!("CARGO_BIN_EXE_timewait"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "scenarios/incarnation_no_timewait.toml", "--out"])
        .arg(&out)
        .output()
        .expect("the binary runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let manifest = std::fs::read_to_string(out.join("manifest.toml")).unwrap();
    assert!(manifest.contains("\"trace.pcap\""), "{manifest}");
    let pcap = out.join("trace.pcap");
    let events = csv_rows(&out.join("events.csv"));
    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap();

    // The capture is documented (src/report/mod.rs, Capture::Delivered) to hold every packet
    // delivered to a host, written as it is delivered: the `deliver` rows, in order.
    let delivered: Vec<&BTreeMap<String, String>> =
        events.iter().filter(|e| e["kind"] == "deliver").collect();
    assert!(delivered.len() > 10, "{} deliveries", delivered.len());

    // IP ids count each host's packets from 1, in the order it sends them (send rows).
    let mut sent_by: BTreeMap<&str, u32> = BTreeMap::new();
    let mut ip_id: BTreeMap<&str, u32> = BTreeMap::new();
    for e in events.iter().filter(|e| e["kind"] == "send") {
        let n = sent_by.entry(e["node"].as_str()).or_default();
        *n += 1;
        ip_id.insert(e["packet"].as_str(), *n);
    }
    // Packets dropped where they were sent would take an id without a send row.
    assert!(
        !events
            .iter()
            .any(|e| e["kind"] == "drop" && sent_by.contains_key(e["node"].as_str())),
        "a host dropped a packet; the ip.id count below no longer holds"
    );

    let mut args = vec!["-T", "fields", "-E", "separator=;", "-E", "occurrence=f"];
    for f in FIELDS {
        args.extend(["-e", f]);
    }
    let text = tshark(&pcap, &args);
    let frames: Vec<BTreeMap<&str, &str>> = text
        .lines()
        .map(|l| FIELDS.iter().copied().zip(l.split(';')).collect())
        .collect();
    assert_eq!(
        frames.len(),
        delivered.len(),
        "frames in trace.pcap vs deliver rows in events.csv"
    );

    // Checksum status 1 is "Good" (0 bad, 2 unverified, 3 absent).
    for (i, (f, e)) in frames.iter().zip(&delivered).enumerate() {
        let ctx = format!("frame {}: {f:?} vs {e:?}", i + 1);
        assert_eq!(f["frame.time_epoch"], e["time"], "{ctx}");
        assert_eq!(f["ip.src"], e["src"], "{ctx}");
        assert_eq!(f["ip.dst"], e["dst"], "{ctx}");
        assert_eq!(f["ip.ttl"], e["ttl"], "{ctx}");
        assert_eq!(f["tcp.seq_raw"], e["seq"], "{ctx}");
        // events.csv leaves the ACK field empty when the ACK flag is off.
        if !e["ack"].is_empty() {
            assert_eq!(f["tcp.ack_raw"], e["ack"], "{ctx}");
        }
        assert_eq!(f["tcp.len"], e["len"], "{ctx}");
        let flags = Flags::from_str(&e["flags"]).unwrap_or_else(|_| panic!("{ctx}"));
        assert_eq!(hex(f["tcp.flags"]), u32::from(flags.0), "{ctx}");
        assert_eq!(hex(f["ip.id"]), ip_id[e["packet"].as_str()], "{ctx}");
        assert_eq!(f["ip.checksum.status"], "1", "{ctx}");
        assert_eq!(f["tcp.checksum.status"], "1", "{ctx}");
        assert_eq!(f["_ws.malformed"], "", "{ctx}");
    }
    let flagged = tshark(
        &pcap,
        &[
            "-Y",
            "_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || tcp.checksum.status == 0",
        ],
    );
    assert_eq!(flagged, "", "tshark flagged frames");

    // The lost duplicate the summary names: "Lost duplicate: packet #4 (...) ... with TTL 31
    // left". It is the original data segment of incarnation 1, looped for seconds, delivered
    // into incarnation 2.
    let line = summary
        .lines()
        .find(|l| l.starts_with("Lost duplicate: packet #"))
        .unwrap_or_else(|| panic!("no lost duplicate in summary.txt:\n{summary}"));
    let packet = line["Lost duplicate: packet #".len()..]
        .split(' ')
        .next()
        .unwrap();
    let ttl_left = line
        .split("with TTL ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("{line}"));
    let at = delivered
        .iter()
        .position(|e| e["packet"] == packet)
        .unwrap_or_else(|| panic!("packet #{packet} is not delivered in events.csv"));
    let (dup, row) = (&frames[at], delivered[at]);
    assert_eq!(dup["ip.ttl"], ttl_left, "{line}");
    assert_eq!(
        (dup["tcp.seq_raw"], dup["tcp.ack_raw"], dup["ip.ttl"]),
        (
            row["seq"].as_str(),
            row["ack"].as_str(),
            row["ttl"].as_str()
        )
    );
    assert_eq!(dup["tcp.len"], "1000");
    // Its stream bytes were sent again, earlier, by a retransmission: same seq and length, a
    // later IP id, delivered before it, and by the direct path: with far more TTL left.
    let retx = frames[..at]
        .iter()
        .find(|f| {
            f["ip.src"] == dup["ip.src"]
                && f["tcp.seq_raw"] == dup["tcp.seq_raw"]
                && f["tcp.len"] == dup["tcp.len"]
        })
        .expect("the retransmission of the lost segment reached the server first");
    assert!(
        hex(retx["ip.id"]) > hex(dup["ip.id"]),
        "{retx:?} vs {dup:?}"
    );
    let ttl = |f: &BTreeMap<&str, &str>| f["ip.ttl"].parse::<u32>().unwrap();
    assert!(ttl(retx) > ttl(dup) + 20, "{retx:?} vs {dup:?}");

    // Wireshark's own TCP analysis sees retransmissions where the simulator counted some.
    let retransmissions: u64 = csv_rows(&out.join("connections.csv"))
        .iter()
        .map(|c| c["retransmissions"].parse::<u64>().unwrap())
        .sum();
    assert!(retransmissions > 0, "the scenario retransmits");
    let marked = frames
        .iter()
        .filter(|f| !f["tcp.analysis.retransmission"].is_empty())
        .count();
    assert!(marked >= 1, "tshark marks no retransmission:\n{text}");
}

/// Runs a bundled scenario with `extra` arguments; returns its output folder (kept in `tmp`).
fn run_bundled(tmp: &tempfile::TempDir, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let out = tmp.path().join(name);
    let run = Command::new(env!("CARGO_BIN_EXE_timewait"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", name, "-q", "--out"])
        .arg(&out)
        .args(extra)
        .output()
        .expect("the binary runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

/// The identity columns of events.csv (ports, window, TSval/TSecr, hops, lifetime, conn)
/// against tshark's reading of the same deliveries in trace.pcap, and `conn` against the
/// 4-tuple and life connections.csv gives that incarnation.
#[test]
fn events_identity_columns_agree_with_tshark() {
    const IDENT: [&str; 6] = [
        "tcp.srcport",
        "tcp.dstport",
        "tcp.window_size_value",
        "tcp.options.timestamp.tsval",
        "tcp.options.timestamp.tsecr",
        "ip.ttl",
    ];
    let tmp = tempfile::tempdir().unwrap();
    // last_ack_lost with RFC 7323 timestamps on (its RST comes from no socket); the lost
    // duplicate's scenario as bundled, with timestamps off.
    for (name, extra, timestamps) in [
        ("last_ack_lost", &["--set", "tcp.timestamps=true"][..], true),
        ("incarnation_no_timewait", &[][..], false),
    ] {
        let out = run_bundled(&tmp, name, extra);
        let events = csv_rows(&out.join("events.csv"));
        let conns = csv_rows(&out.join("connections.csv"));
        let delivered: Vec<&BTreeMap<String, String>> =
            events.iter().filter(|e| e["kind"] == "deliver").collect();
        let mut args = vec!["-T", "fields", "-E", "separator=;", "-E", "occurrence=f"];
        for f in IDENT {
            args.extend(["-e", f]);
        }
        let text = tshark(&out.join("trace.pcap"), &args);
        let frames: Vec<BTreeMap<&str, &str>> = text
            .lines()
            .map(|l| IDENT.iter().copied().zip(l.split(';')).collect())
            .collect();
        assert_eq!(frames.len(), delivered.len(), "{name}");
        // When each packet (by id) was sent, by which host, for lifetime_s and conn.
        let sends: BTreeMap<&str, &BTreeMap<String, String>> = events
            .iter()
            .filter(|e| e["kind"] == "send")
            .map(|e| (e["packet"].as_str(), e))
            .collect();
        let nanos = |s: &str| -> u64 {
            let (a, b) = s.split_once('.').unwrap();
            a.parse::<u64>().unwrap() * 1_000_000_000 + b.parse::<u64>().unwrap()
        };
        let mut stateless_rsts = 0;
        for (i, (f, e)) in frames.iter().zip(&delivered).enumerate() {
            let ctx = format!("{name} frame {}: {f:?} vs {e:?}", i + 1);
            assert_eq!(f["tcp.srcport"], e["sport"], "{ctx}");
            assert_eq!(f["tcp.dstport"], e["dport"], "{ctx}");
            assert_eq!(f["tcp.window_size_value"], e["window"], "{ctx}");
            assert_eq!(f["tcp.options.timestamp.tsval"], e["tsval"], "{ctx}");
            assert_eq!(f["tcp.options.timestamp.tsecr"], e["tsecr"], "{ctx}");
            // A reset from no socket has no timestamps to echo; every other segment has them
            // exactly when the scenario turns them on.
            let stateless = e["flags"].starts_with('R') && e["conn"].is_empty();
            assert_eq!(e["tsval"].is_empty(), !timestamps || stateless, "{ctx}");
            // Every bundled route here is counted in hops: each router took one off 64.
            let ttl: u32 = f["ip.ttl"].parse().unwrap();
            let hops: u32 = e["hops"].parse().unwrap();
            assert_eq!(ttl + hops, 64, "{ctx}");
            let sent = sends[e["packet"].as_str()];
            assert_eq!(
                nanos(&e["lifetime_s"]),
                nanos(&e["time"]) - nanos(&sent["time"]),
                "{ctx}"
            );
            if e["conn"].is_empty() {
                // Only a reset from no socket (RFC 9293 §3.10.7.1) belongs to no incarnation.
                assert!(e["flags"].starts_with('R'), "{ctx}");
                stateless_rsts += 1;
                continue;
            }
            let c = conns
                .iter()
                .find(|c| c["conn"] == e["conn"])
                .unwrap_or_else(|| panic!("{ctx}: no such connection"));
            assert_eq!(c["host"], sent["node"], "{ctx}");
            assert_eq!(c["local"], format!("{}:{}", e["src"], e["sport"]), "{ctx}");
            assert_eq!(c["remote"], format!("{}:{}", e["dst"], e["dport"]), "{ctx}");
            assert!(nanos(&c["opened"]) <= nanos(&sent["time"]), "{ctx}");
        }
        if name == "last_ack_lost" {
            // client_notw kept no TIME_WAIT, so the server's retransmitted FIN drew a RST.
            assert_eq!(stateless_rsts, 1, "{name}");
        } else {
            // The lost duplicate belongs to incarnation 1, delivered after it was released,
            // on the same 4-tuple as the incarnation it corrupted.
            let late: Vec<_> = delivered
                .iter()
                .filter(|e| e["len"] != "0" && !e["conn"].is_empty())
                .filter(|e| {
                    let c = conns.iter().find(|c| c["conn"] == e["conn"]).unwrap();
                    nanos(&c["released"]) < nanos(&e["time"])
                })
                .collect();
            assert_eq!(late.len(), 1, "{late:?}");
            let c = conns.iter().find(|c| c["conn"] == late[0]["conn"]).unwrap();
            assert_eq!(c["incarnation"], "1", "{c:?}");
            assert!(
                conns.iter().any(|n| n["incarnation"] == "2"
                    && n["local"] == c["local"]
                    && n["remote"] == c["remote"]),
                "{conns:?}"
            );
        }
    }
}

/// tshark, reading `bulk_loss_recovery`'s capture on its own, sees fast retransmissions (at
/// least one per fast recovery tcp_probe.csv records), the window scale options, and nothing
/// malformed, no checksum error and no "ACKed unseen segment".
#[test]
fn tshark_sees_the_bulk_transfers_fast_retransmissions_and_nothing_malformed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_bundled(&tmp, "bulk_loss_recovery", &[]);
    let pcap = out.join("trace.pcap");
    let fast = tshark(&pcap, &["-Y", "tcp.analysis.fast_retransmission"]);
    let probe = std::fs::read_to_string(out.join("tcp_probe.csv")).unwrap();
    // Each entry into fast recovery: a row whose phase is `recovery` after one that is not.
    let mut recoveries = 0;
    let mut previous: std::collections::BTreeMap<String, String> = Default::default();
    for row in probe.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let (conn, phase) = (f[2].to_string(), f[16].to_string());
        if phase == "recovery" && previous.get(&conn).is_none_or(|p| p != "recovery") {
            recoveries += 1;
        }
        previous.insert(conn, phase);
    }
    assert!(recoveries >= 2, "both senders recover at least once");
    assert!(
        fast.lines().count() >= recoveries,
        "{recoveries} fast recoveries, tshark marks:\n{fast}"
    );
    let bad = tshark(
        &pcap,
        &[
            "-Y",
            "_ws.malformed || _ws.expert.severity >= error || tcp.analysis.ack_lost_segment",
        ],
    );
    assert!(bad.is_empty(), "{bad}");
    let shifts = tshark(
        &pcap,
        &[
            "-Y",
            "tcp.flags.syn == 1",
            "-T",
            "fields",
            "-e",
            "tcp.options.wscale.shift",
        ],
    );
    // The senders' 64 KiB buffers need no shift; the receiver's 128 KiB needs 2.
    let shifts: std::collections::BTreeSet<&str> = shifts.lines().collect();
    assert_eq!(shifts, ["0", "2"].into_iter().collect());

    // The summary's goodput per bulk sender is its bytes over the time from its handshake to
    // the release of its socket, as connections.csv records them.
    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap();
    let conns = std::fs::read_to_string(out.join("connections.csv")).unwrap();
    let mut senders = 0;
    for row in conns.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let written: u64 = f[11].parse().unwrap();
        if written < 1 << 20 {
            continue;
        }
        senders += 1;
        let (est, rel): (f64, f64) = (f[9].parse().unwrap(), f[10].parse().unwrap());
        let rate = written as f64 * 8.0 / (rel - est) / 1e6;
        let line = format!(
            "Transfer: {} wrote {written} bytes in {:.3} s from its handshake to its close ({rate:.2} Mb/s), with {} retransmission",
            f[1],
            rel - est,
            f[14]
        );
        assert!(summary.contains(&line), "{line}\n{summary}");
    }
    assert_eq!(senders, 2);
}

/// `bulk_loss_recovery` with SACK on both ends (the default): tshark reads SACK-permitted
/// (kind 4) on both SYNs and SACK blocks (kind 5) on the receiver's ACKs, marks the repairs
/// as fast retransmissions, and finds nothing malformed and no ACK of a segment it never saw
/// (the capture holds every delivered packet, so each SACKed range was delivered first).
#[test]
fn tshark_reads_sack_options_and_fast_retransmissions_in_bulk_loss_recovery() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_bundled(
        &tmp,
        "bulk_loss_recovery",
        &["--outputs", "pcap,summary,connections"],
    );
    let pcap = out.join("trace.pcap");
    let count = |filter: &str| tshark(&pcap, &["-Y", filter]).lines().count();
    // RFC 2018 §2: one SYN and one SYN-ACK per connection, each with SACK-permitted.
    assert_eq!(count("tcp.flags.syn == 1 && tcp.options.sack_perm"), 4);
    assert_eq!(count("tcp.flags.syn == 1 && !tcp.options.sack_perm"), 0);
    // RFC 2018 §3-4: SACK blocks from the receiver only, each right of its ACK.
    let sacks = count("tcp.options.sack_le");
    assert!(sacks > 100, "{sacks} ACKs with SACK blocks");
    assert_eq!(count("tcp.options.sack_le && ip.src != 10.0.1.2"), 0);
    let fields = tshark(
        &pcap,
        &[
            "-o",
            "tcp.relative_sequence_numbers:FALSE",
            "-Y",
            "tcp.options.sack_le",
            "-T",
            "fields",
            "-E",
            "occurrence=f",
            "-e",
            "tcp.ack",
            "-e",
            "tcp.options.sack_le",
            "-e",
            "tcp.options.sack_re",
        ],
    );
    for line in fields.lines() {
        let v: Vec<u64> = line.split('\t').map(|x| x.parse().unwrap()).collect();
        let (ack, le, re) = (v[0], v[1], v[2]);
        // A D-SACK block may lie below the ACK; any other lies above it and is not empty.
        assert!(re > le, "{line}");
        assert!(le > ack || re <= ack, "{line}");
    }
    let fast = count("tcp.analysis.fast_retransmission");
    assert!(fast > 0, "no fast retransmission marked");
    assert_eq!(count("_ws.malformed || _ws.expert.severity >= error"), 0);
    assert_eq!(
        count("tcp.analysis.ack_lost_segment"),
        0,
        "ACKed unseen segment"
    );
    let summary = std::fs::read_to_string(out.join("summary.txt")).unwrap();
    assert!(summary.contains("Transfer: sender_cubic#1"), "{summary}");
}
