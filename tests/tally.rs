//! The summary's TCP tallies keep constant-size aggregates, not per-connection history: a
//! steady-state churn that reuses every port many times must still number incarnations and
//! count connections exactly as a straightforward per-connection computation over the run's
//! `states.csv` and `connections.csv` does.

mod common;

use std::collections::BTreeMap;

use common::{TWO_HOSTS, csv_rows, num, timewait};

/// 100 client ports, a 1 s TIME_WAIT and 50 connections per second for 20 s: each port is
/// reused about ten times, and TIME_WAIT holds about 50 at once in steady state.
fn scenario() -> String {
    format!(
        "[simulation]\nseed = 3\nduration = \"22s\"\n\n\
         [tcp]\nport_range = [40000, 40099]\ntime_wait = \"1s\"\n{TWO_HOSTS}\n\
         [output]\nevents = false\npcap = \"off\"\nstates = true\nconnections = true\n\
         socket_counts = false\n\n\
         [[app]]\nkind = \"http_server\"\nhost = \"b\"\nport = 80\n\
         close_after_response = false\nhandlers = [{{ path = \"/\", body = 3000 }}]\n\n\
         [[app]]\nkind = \"churn\"\nhost = \"a\"\nurl = \"http://10.0.0.2:80/\"\n\
         rate = 50\nduration = \"20s\"\n"
    )
}

#[test]
fn steady_state_tallies_match_a_per_connection_count() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("churn.toml"), scenario()).unwrap();
    let out = timewait(dir.path(), &["run", "churn.toml", "--out", "o", "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o = dir.path().join("o");
    let summary = std::fs::read_to_string(o.join("summary.txt")).unwrap();
    let states = csv_rows(&o.join("states.csv"));
    let conns = csv_rows(&o.join("connections.csv"));

    // Incarnations, the obvious way: a connection's number is how many connections its host
    // had opened on its 4-tuple up to and including it.
    let mut opened: BTreeMap<(String, String, String), u32> = BTreeMap::new();
    let mut incarnation: BTreeMap<String, u32> = BTreeMap::new();
    let mut tw_now: BTreeMap<String, i64> = BTreeMap::new();
    let mut tw_peak: BTreeMap<String, i64> = BTreeMap::new();
    let mut tw_entered: BTreeMap<String, u64> = BTreeMap::new();
    for r in &states {
        let key = (r["host"].clone(), r["local"].clone(), r["remote"].clone());
        if r["from"] == "CLOSED" {
            let n = opened.entry(key).or_default();
            *n += 1;
            incarnation.insert(r["conn"].clone(), *n);
        }
        assert_eq!(
            num(r, "incarnation") as u32,
            incarnation[&r["conn"]],
            "states.csv row {r:?}"
        );
        let tw = tw_now.entry(r["host"].clone()).or_default();
        if r["to"] == "TIME_WAIT" {
            *tw += 1;
            *tw_entered.entry(r["host"].clone()).or_default() += 1;
        }
        if r["from"] == "TIME_WAIT" {
            *tw -= 1;
        }
        let peak = tw_peak.entry(r["host"].clone()).or_default();
        *peak = (*peak).max(*tw);
    }
    let max_incarnation = opened.values().copied().max().unwrap();
    assert!(
        max_incarnation >= 8,
        "ports were reused {max_incarnation} times at most"
    );
    for r in &conns {
        assert_eq!(
            num(r, "incarnation") as u32,
            incarnation[&r["conn"]],
            "{r:?}"
        );
    }

    // Per host: opened, completed, bytes; the summary's sentences must carry the same numbers.
    for host in ["a", "b"] {
        let mine: Vec<_> = conns.iter().filter(|r| r["host"] == host).collect();
        let completed = mine
            .iter()
            .filter(|r| {
                !r["established"].is_empty()
                    && r["error"].is_empty()
                    && (r["final_state"] == "CLOSED" || r["final_state"] == "TIME_WAIT")
            })
            .count();
        let written: f64 = mine.iter().map(|r| num(r, "bytes_written")).sum();
        let delivered: f64 = mine.iter().map(|r| num(r, "bytes_delivered")).sum();
        let line = format!(
            "  {host}: {completed} of {} connections completed (established, then closed without an error); {written} bytes written, {delivered} delivered.",
            mine.len()
        );
        assert!(summary.contains(&line), "missing {line:?} in\n{summary}");
    }
    let entered = tw_entered["a"];
    let line = format!(
        "TIME_WAIT on a: entered {entered} times, at most {} at once",
        tw_peak["a"]
    );
    assert!(summary.contains(&line), "missing {line:?} in\n{summary}");
    assert!(
        summary.contains("Audit: 0 corrupted bytes across all connections"),
        "reused 4-tuples call for the audit line:\n{summary}"
    );
}
