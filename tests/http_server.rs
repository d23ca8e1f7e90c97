//! The `http_server` application closes its sockets when a Flask (Werkzeug) server would, so
//! CLOSE_WAIT appears exactly where it does on a real host. Checked against Linux with a
//! Python server sleeping in its handler and `curl -m 2`: `netstat -tan` shows
//! `tcp 1 0 127.0.0.1:5000 ... CLOSE_WAIT` (the unread FIN) until the handler returns.

mod common;

use std::fs;

use common::{csv_rows, timewait};

// While the handler sleeps, the worker reads nothing: the client's FIN waits in Recv-Q and
// netstat counts it (Linux rx_queue = rcv_nxt - copied_seq, and the FIN takes a sequence
// number), so CLOSE_WAIT reads `1 0`, not `0 0`.
#[test]
fn a_sleeping_handler_leaves_the_clients_fin_unread_in_recv_q() {
    let dir = tempfile::tempdir().unwrap();
    let out = timewait(
        dir.path(),
        &["run", "close_wait_slow_handler", "--out", "o", "--quiet"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let netstat = fs::read_to_string(dir.path().join("o/netstat.txt")).unwrap();
    let close_wait: Vec<Vec<&str>> = netstat
        .lines()
        .filter(|l| l.ends_with("CLOSE_WAIT"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(close_wait.len(), 3, "at 1.5 s, 30 s and 61.5 s:\n{netstat}");
    for row in close_wait {
        assert_eq!(row[1..3], ["1", "0"], "Recv-Q, Send-Q of {row:?}");
    }
}

// A client that connects and closes without a request: Werkzeug's handler reads EOF where it
// expects the request line and closes the connection at once, so the server passes through
// CLOSE_WAIT to LAST_ACK in the same instant instead of holding it to the end of the run.
#[test]
fn a_connection_closed_before_its_request_is_closed_by_the_server_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = r#"
[simulation]
seed = 1
duration = "5s"

[[host]]
name = "client"
addr = "10.0.0.1"

[[host]]
name = "server"
addr = "10.0.0.2"

[[link]]
ends = ["client", "server"]
delay = "1ms"

[[app]]
kind = "http_server"
host = "server"
port = 5000
close_after_response = false
handlers = [{ path = "/", body = 11 }]

[[app]]
kind = "sender"
host = "client"
to = "10.0.0.2:5000"
bytes = 0
"#;
    fs::write(dir.path().join("eof.toml"), scenario).unwrap();
    let out = timewait(dir.path(), &["run", "eof.toml", "--out", "o", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server: Vec<_> = csv_rows(&dir.path().join("o/states.csv"))
        .into_iter()
        .filter(|r| r["host"] == "server")
        .map(|r| (r["time"].clone(), r["to"].clone()))
        .collect();
    let at = |state: &str| {
        server
            .iter()
            .find(|(_, to)| to == state)
            .map(|(t, _)| t.clone())
            .unwrap_or_else(|| panic!("server never entered {state}: {server:?}"))
    };
    assert_eq!(at("CLOSE_WAIT"), at("LAST_ACK"), "closed on EOF at once");
    assert_eq!(server.last().unwrap().1, "CLOSED");
}

// The same moment as Linux shows it with `ss -tano` (checked on a real kernel): the client,
// orphaned in FIN_WAIT_2, holds a timewait timer of tcp_fin_timeout = 60 s, about 59 s left
// half a second after its close; the server's CLOSE_WAIT shows the unread FIN and no timer.
#[test]
fn ss_style_lists_the_orphans_timewait_timer_and_the_close_wait_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = timewait(
        dir.path(),
        &[
            "run",
            "close_wait_slow_handler",
            "--set",
            "output.netstat_style=ss",
            "--out",
            "o",
            "--quiet",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let netstat = fs::read_to_string(dir.path().join("o/netstat.txt")).unwrap();
    // Addresses without the client's port, which the seeded ephemeral choice picks.
    let first: Vec<Vec<&str>> = netstat
        .split("\n\n")
        .take(2)
        .flat_map(|table| table.lines().skip(2))
        .map(|l| {
            l.split_whitespace()
                .map(|w| w.strip_prefix("10.0.0.1:").map_or(w, |_| "10.0.0.1"))
                .collect()
        })
        .collect();
    assert_eq!(
        first,
        [
            vec![
                "FIN-WAIT-2",
                "0",
                "0",
                "10.0.0.1",
                "10.0.0.2:5000",
                "timer:(timewait,59sec,0)"
            ],
            vec!["LISTEN", "0", "128", "0.0.0.0:5000", "0.0.0.0:*"],
            vec!["CLOSE-WAIT", "1", "0", "10.0.0.2:5000", "10.0.0.1"],
        ],
        "{netstat}"
    );
}
