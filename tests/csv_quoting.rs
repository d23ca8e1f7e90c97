//! A host's name may hold a comma or a quote: every CSV file a run writes quotes it (as the
//! `csv` crate would), so each file still parses with one field per column.

use timewait::run::{self, RunOptions};
use timewait::scenario;

mod common;
use common::csv_rows;

const ODD_NAMES: &str = r#"
[simulation]
seed = 1
duration = "2s"

[output]
events = true
tcp_probe = true

[[host]]
name = "web, \"east\""
addr = "10.0.0.1"

[[host]]
name = "r"
addr = "10.0.0.2"

[[link]]
ends = ["web, \"east\"", "r"]
delay = "5ms"
bandwidth = "10Mbps"

[[app]]
kind = "receiver"
host = "r"
port = 80

[[app]]
kind = "sender"
host = "web, \"east\""
to = "10.0.0.2:80"
bytes = "200KB"
"#;

#[test]
fn a_host_name_with_a_comma_and_a_quote_is_quoted_in_every_csv_file() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario::parse("odd", "odd.toml", ODD_NAMES).unwrap();
    let dir = run::run(
        &s,
        &RunOptions {
            out: Some(tmp.path().join("out")),
            ..RunOptions::default()
        },
    )
    .unwrap()
    .dir;
    let name = "web, \"east\"";
    for (file, column) in [
        ("states.csv", "host"),
        ("connections.csv", "host"),
        ("socket_counts.csv", "host"),
        ("events.csv", "node"),
        ("tcp_probe.csv", "host"),
    ] {
        // `csv_rows` fails on a row with more or fewer fields than the header.
        let rows = csv_rows(&dir.join(file));
        assert!(
            rows.iter().any(|r| r[column] == name),
            "{file}: no row names {name}"
        );
        if let Some(conn) = rows.first().and_then(|r| r.get("conn")) {
            assert!(conn.is_empty() || conn.starts_with(name) || conn.starts_with("r#"));
        }
    }
    let probe = csv_rows(&dir.join("tcp_probe.csv"));
    assert!(probe.iter().all(|r| r["conn"] == format!("{name}#1")));
}
