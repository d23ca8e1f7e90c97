//! summary.txt says what happened in sentences a reader can trust: failures the apps saw are
//! counted next to TCP's, and ranges of durations read as such.

mod common;

use timewait::scenario;

fn two_hosts(tcp: &str, extra: &str) -> String {
    format!(
        "[simulation]\nduration = \"10s\"\n\n[tcp]\n{tcp}\n\n\
         [[host]]\nname = \"client\"\naddr = \"10.0.0.1\"\n\n\
         [[host]]\nname = \"server\"\naddr = \"10.0.0.2\"\n\n\
         [[link]]\nends = [\"client\", \"server\"]\ndelay = \"1ms\"\n\n{extra}"
    )
}

/// Runs `text` to its duration and returns the summary.
fn summary(text: &str) -> String {
    let sc = scenario::parse("t", "t.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let until = timewait::sim::SimTime::ZERO + sc.duration;
    timewait::run::simulate(&sc.config, until)
        .expect("the run")
        .summary
}

fn line<'a>(s: &'a str, start: &str) -> &'a str {
    s.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in\n{s}"))
}

#[test]
fn connects_that_fail_for_want_of_a_port_are_counted_next_to_tcp_failures() {
    // 10 ephemeral ports, TIME_WAIT 60 s on the client (it closes first), 25 requests 100 ms
    // apart within 10 s: the first 10 take every port, the other 15 find none free.
    let apps = "[[app]]\nkind = \"http_server\"\nhost = \"server\"\nport = 80\n\
                close_after_response = false\nhandlers = [{ path = \"/\", body = 100 }]\n\n\
                [[app]]\nkind = \"churn\"\nhost = \"client\"\nurl = \"http://10.0.0.2/\"\n\
                requests = 25\ninterval = \"100ms\"\n";
    let s = summary(&two_hosts(
        "time_wait = \"60s\"\nport_range = [40000, 40009]",
        apps,
    ));
    let tcp = line(&s, "TCP on client:");
    assert!(tcp.contains("10 connections opened actively"), "{tcp}");
    assert!(!tcp.contains("(none failed)"), "{tcp}");
    assert!(
        tcp.contains(
            "none failed in TCP; 15 application failures: 15 x curl (7) Cannot assign requested address"
        ),
        "{tcp}"
    );
    // The server saw nothing fail at all.
    assert!(line(&s, "TCP on server:").contains("(none failed)"), "{s}");
}

#[test]
fn a_range_of_durations_in_a_state_is_written_as_one() {
    // Two connections 500 ms apart; the receiver holds each in CLOSE_WAIT until close_at = 2 s,
    // from its peer's FIN a few ms after each connect: about 2 s and 1.5 s.
    let apps = "[[app]]\nkind = \"receiver\"\nhost = \"server\"\nport = 80\nclose_at = \"2s\"\n\n\
                [[app]]\nkind = \"sender\"\nhost = \"client\"\nto = \"10.0.0.2:80\"\nbytes = 100\n\
                connections = 2\ninterval = \"500ms\"\n";
    let s = summary(&two_hosts("", apps));
    let held = line(&s, "server held CLOSE_WAIT");
    assert!(
        held.contains("for durations from 1.49") && held.contains(" to 1.99"),
        "{held}"
    );
    assert!(held.contains("over 2 connections"), "{held}");
}

#[test]
fn one_duration_shared_by_every_connection_is_written_once() {
    // One connection, held in CLOSE_WAIT until close_at = 2 s: one duration, and when it left.
    let apps = "[[app]]\nkind = \"receiver\"\nhost = \"server\"\nport = 80\nclose_at = \"2s\"\n\n\
                [[app]]\nkind = \"sender\"\nhost = \"client\"\nto = \"10.0.0.2:80\"\nbytes = 100\n";
    let s = summary(&two_hosts("", apps));
    let held = line(&s, "server held CLOSE_WAIT");
    assert!(held.contains("CLOSE_WAIT for 1.99"));
    assert!(
        held.contains(": 1 connection (leaving at 2.000s)"),
        "{held}"
    );
    assert!(!held.contains("durations"), "{held}");
}

/// The summary with the `Ports:` line, as `run` writes it.
fn capacity(text: &str) -> String {
    let sc = scenario::parse("t", "t.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    timewait::report::render_capacity(&sc.config, &mut out);
    out
}

#[test]
fn the_ports_line_speaks_only_of_clients_that_hold_time_wait() {
    // 10 ports, TIME_WAIT 60 s, 100 requests at 10/s: 600 in TIME_WAIT at once would need
    // 60 times the ports, so a client that closes first is limited to 10 / 60 = 0.2/s.
    let client = "[[app]]\nkind = \"churn\"\nhost = \"client\"\nurl = \"http://10.0.0.2/\"\n\
                  requests = 100\ninterval = \"100ms\"\n";
    let tcp = "time_wait = \"60s\"\nport_range = [40000, 40009]";
    let server = |close: bool| {
        format!(
            "[[app]]\nkind = \"http_server\"\nhost = \"server\"\nport = 80\n\
             close_after_response = {close}\n\n{client}"
        )
    };
    let held_by_client = capacity(&two_hosts(tcp, &server(false)));
    assert!(
        held_by_client.contains("10 ports / 60s TIME_WAIT = 0.2 new connections per second"),
        "{held_by_client}"
    );
    // The server closes first: TIME_WAIT is on the server, the client's ports are free.
    assert_eq!(capacity(&two_hosts(tcp, &server(true))), "");
    // 10 ports over 1000 s: 0.01/s rounds to 0.0, which no line should print.
    let long = "time_wait = \"1000s\"\nport_range = [40000, 40009]";
    assert_eq!(capacity(&two_hosts(long, &server(false))), "");
}

/// The seed's slow handler: curl gives up after 1 s and closes, the client then waits in
/// FIN_WAIT_2 for `fin_timeout` (60 s) and the server in CLOSE_WAIT until its handler returns
/// at 100 s. Stopped at 30 s both are still open, and the summary says so; at the scenario's
/// own end (110 s) both have closed and no such line is written.
#[test]
fn sockets_still_open_when_the_run_stops_are_listed_by_host_and_state() {
    let t = tempfile::tempdir().unwrap();
    let run = |until: &str| {
        let o = common::timewait(
            t.path(),
            &[
                "run",
                "close_wait_slow_handler",
                "--until",
                until,
                "--quiet",
                "--out",
                until,
            ],
        );
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let early = run("30s");
    assert!(
        early.contains("At the end of the run, client still holds 1 in FIN_WAIT_2.\n"),
        "{early}"
    );
    assert!(
        early.contains("At the end of the run, server still holds 1 in CLOSE_WAIT.\n"),
        "{early}"
    );
    let late = run("110s");
    assert!(!late.contains("At the end of the run"), "{late}");
}

/// 25 requests 100 ms apart, each closed first by the client: 25 closes into TIME_WAIT.
const CHURN_25: &str = "[[app]]\nkind = \"http_server\"\nhost = \"server\"\nport = 80\n\
                        close_after_response = false\nhandlers = [{ path = \"/\", body = 100 }]\n\n\
                        [[app]]\nkind = \"churn\"\nhost = \"client\"\nurl = \"http://10.0.0.2/\"\n\
                        requests = 25\ninterval = \"100ms\"\n";

#[test]
fn time_wait_skipped_by_a_full_table_is_not_counted_as_entered() {
    // Linux's tcp_max_tw_buckets: with room for 3 records and TIME_WAIT outliving the 2.5 s of
    // requests, the first 3 closes hold a record and the other 22 are destroyed at once.
    let s = summary(&two_hosts(
        "time_wait = \"60s\"\nmax_tw_buckets = 3",
        CHURN_25,
    ));
    let tw = line(&s, "TIME_WAIT on client:");
    assert!(
        tw.starts_with("TIME_WAIT on client: entered 3 times, at most 3 at once"),
        "{tw}"
    );
    assert!(
        tw.contains("3 still held at the end; skipped: 22 by TIME_WAIT table full"),
        "{tw}"
    );
}

#[test]
fn time_wait_0s_is_never_reported_as_entered() {
    let s = summary(&two_hosts("time_wait = \"0s\"", CHURN_25));
    let tw = line(&s, "TIME_WAIT on client:");
    assert_eq!(
        tw,
        "TIME_WAIT on client: never held; skipped: 25 by time_wait = 0s."
    );
    assert!(!s.contains("entered"), "{s}");
}

#[test]
fn a_connection_that_skipped_time_wait_ends_closed_in_connections_csv() {
    let t = tempfile::tempdir().unwrap();
    let o = common::timewait(
        t.path(),
        &[
            "run",
            "incarnation_2msl",
            "--set",
            "tcp.time_wait=0s",
            "--quiet",
            "--out",
            "o",
        ],
    );
    assert!(o.status.success());
    let mut r = csv::Reader::from_path(t.path().join("o/connections.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (host, state) = (col("host"), col("final_state"));
    let client: Vec<String> = r
        .records()
        .map(|rec| rec.unwrap())
        .filter(|rec| &rec[host] == "client")
        .map(|rec| rec[state].to_string())
        .collect();
    // Both client incarnations closed first; neither held a TIME_WAIT record.
    assert_eq!(client, ["CLOSED", "CLOSED"]);
}

#[test]
fn bytes_and_completed_connections_are_totalled_per_host() {
    // last_ack_lost: each client writes 1000 bytes and closes first; the final ACK of each
    // close is lost. client_tw re-ACKs the server's retransmitted FIN from TIME_WAIT, so that
    // connection completes on both sides; client_notw has no TIME_WAIT, answers with RST, and
    // the server's side of it ends in error (RFC 9293's first reason for TIME_WAIT).
    let t = tempfile::tempdir().unwrap();
    let o = common::timewait(t.path(), &["run", "last_ack_lost", "--quiet", "--out", "o"]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    for client in ["client_tw", "client_notw"] {
        assert!(
            s.contains(&format!(
                "  {client}: 1 of 1 connection completed (established, then closed without an error); 1000 bytes written, 0 delivered.\n"
            )),
            "{s}"
        );
    }
    assert!(
        s.contains("  server: 1 of 2 connections completed (established, then closed without an error); 0 bytes written, 2000 delivered.\n"),
        "{s}"
    );
}
