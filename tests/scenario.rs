//! Scenario fields whose meaning is easy to get wrong: each test states the rule.

use timewait::scenario::{self, Scenario};
use timewait::sim::Duration;
use timewait::world::apps::AppSpec;

/// Two hosts on one link, with `tcp` in `[tcp]` and `extra` appended.
fn two_hosts(tcp: &str, extra: &str) -> String {
    format!(
        "[simulation]\nduration = \"10s\"\n\n[tcp]\n{tcp}\n\n\
         [[host]]\nname = \"client\"\naddr = \"10.0.0.1\"\n\n\
         [[host]]\nname = \"server\"\naddr = \"10.0.0.2\"\n\n\
         [[link]]\nends = [\"client\", \"server\"]\ndelay = \"1ms\"\n\n{extra}"
    )
}

fn parse(text: &str) -> Result<Scenario, String> {
    scenario::parse("t", "t.toml", text).map_err(|e| e.to_string())
}

#[test]
fn time_wait_in_msl_units_resolves_against_the_hosts_msl() {
    for (written, expected) in [("msl", 10), ("1msl", 10), ("2msl", 20), ("0.5msl", 5)] {
        let sc = parse(&two_hosts(
            &format!("msl = \"10s\"\ntime_wait = \"{written}\""),
            "",
        ))
        .unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(
            sc.config.nodes[0].tcp.time_wait,
            Duration::from_secs(expected),
            "time_wait = \"{written}\""
        );
    }
}

#[test]
fn a_churn_rate_runs_for_its_duration_exactly_and_needs_one() {
    let app = |fields: &str| {
        format!(
            "[[app]]\nkind = \"churn\"\nhost = \"client\"\nurl = \"http://10.0.0.2/\"\n{fields}\n"
        )
    };
    // 1/300 s is not a whole number of ns, but 300/s for 120 s is 36,000 requests.
    let sc = parse(&two_hosts("", &app("rate = 300\nduration = \"120s\""))).unwrap();
    let AppSpec::HttpClient(c) = &sc.config.apps[0].spec else {
        panic!("a churn is an HTTP client");
    };
    assert_eq!(c.requests, 36_000);
    // A rate alone would silently make one request: an error naming the field and its line.
    let text = two_hosts("", &app("rate = 300"));
    let line = text.lines().position(|l| l == "rate = 300").unwrap() + 1;
    let e = parse(&text).unwrap_err();
    assert!(e.contains("app[0].rate"), "{e}");
    assert!(e.contains(&format!("t.toml:{line}:")), "{e}");
}

#[test]
fn an_rto_bound_conflict_names_the_bound_the_user_wrote() {
    // timers = "rfc6298" sets rto_min = 1 s; the user wrote only rto_max.
    let text = two_hosts("timers = \"rfc6298\"\nrto_max = \"500ms\"", "");
    let line = text.lines().position(|l| l.starts_with("rto_max")).unwrap() + 1;
    let e = parse(&text).unwrap_err();
    assert!(e.contains("tcp.rto_max"), "{e}");
    assert!(e.contains(&format!("t.toml:{line}:")), "{e}");
}

#[test]
fn tw_reuse_without_timestamps_is_a_warning_because_it_cannot_act() {
    let sc = parse(&two_hosts("tw_reuse = true", "")).unwrap();
    assert!(
        sc.warnings
            .iter()
            .any(|w| w.to_string().contains("tcp.tw_reuse")),
        "{:?}",
        sc.warnings
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
    );
    let sc = parse(&two_hosts("tw_reuse = true\ntimestamps = true", "")).unwrap();
    assert!(sc.warnings.is_empty());
}

/// Runs `text` to its duration and returns the summary.
fn summary(text: &str) -> String {
    let sc = parse(text).unwrap();
    let until = timewait::sim::SimTime::ZERO + sc.duration;
    timewait::run::simulate(&sc.config, until)
        .expect("the run")
        .summary
}

#[test]
fn accept_delay_accepts_each_connection_that_long_after_it_was_queued() {
    // Three requests 100 ms apart; the server accepts each 1 s after its handshake (2 ms RTT)
    // and answers at once: the responses go out about 1.002, 1.102 and 1.202 s in, not all
    // at the first accept.
    let apps = "[[app]]\nkind = \"http_server\"\nhost = \"server\"\nport = 80\n\
                accept_delay = \"1s\"\nhandlers = [{ path = \"/\" }]\n\n\
                [[app]]\nkind = \"http_client\"\nhost = \"client\"\nurl = \"http://10.0.0.2/\"\n\
                requests = 3\ninterval = \"100ms\"\n";
    let s = summary(&two_hosts("", apps));
    let served = s
        .lines()
        .find(|l| l.contains("served /"))
        .unwrap_or_else(|| panic!("no served line in\n{s}"));
    assert!(
        served.contains("3 times from 1.00") && served.contains(" to 1.20"),
        "{served}"
    );
}

#[test]
fn a_receiver_closes_at_close_at_and_later_connections_when_their_peer_does() {
    // One connection before close_at (held open until 2 s), one after (closed on its FIN).
    let apps = "[[app]]\nkind = \"receiver\"\nhost = \"server\"\nport = 80\nclose_at = \"2s\"\n\n\
                [[app]]\nkind = \"sender\"\nhost = \"client\"\nto = \"10.0.0.2:80\"\nbytes = 100\n\
                connections = 2\ninterval = \"3s\"\n";
    let sc = parse(&two_hosts("", apps)).unwrap();
    let until = timewait::sim::SimTime::ZERO + sc.duration;
    let out = timewait::run::simulate(&sc.config, until).expect("the run");
    let s = out.summary;
    // Both server sockets leave CLOSE_WAIT by the app's close: the first after waiting for
    // close_at (its FIN came about 3 ms in: 1 ms link, handshake, 100 bytes, FIN), the one
    // opened at 3 s at once.
    let held = s
        .lines()
        .find(|l| l.starts_with("server held CLOSE_WAIT"))
        .unwrap_or_else(|| panic!("no CLOSE_WAIT line in\n{s}"));
    assert!(held.contains("2 connections"), "{held}");
    assert!(held.contains("for 0ns to 1.99"), "{held}");
    assert!(held.contains("ended by close"), "{held}");
}

mod never_panics {
    use proptest::prelude::*;

    /// Every bundled scenario's text.
    fn bundled() -> Vec<String> {
        let mut files: Vec<_> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Values that break assumptions: zero, negative, huge, wrong type, odd units.
    const NASTY: &[&str] = &[
        "0",
        "-1",
        "18446744073709551616",
        "1e308",
        "\"\"",
        "\"0s\"",
        "\"-1s\"",
        "\"1e9h\"",
        "\"99999999999999999999ns\"",
        "\"0.0000000001s\"",
        "\"nan\"",
        "true",
        "[]",
        "{}",
        "\"300.0.0.1\"",
        "\"10.0.0.0/33\"",
        "\"0msl\"",
        "\"1e400msl\"",
        "[0, 0]",
        "[65535, 1]",
    ];

    /// Replaces the `which`-th value (text after `= `) by `nasty`.
    fn swap_value(text: &str, which: usize, nasty: &str) -> String {
        let lines: Vec<&str> = text.lines().collect();
        let valued: Vec<usize> = (0..lines.len())
            .filter(|&i| !lines[i].starts_with('#') && lines[i].contains(" = "))
            .collect();
        if valued.is_empty() {
            return text.to_string();
        }
        let i = valued[which % valued.len()];
        let (key, _) = lines[i].split_once(" = ").unwrap();
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        out[i] = format!("{key} = {nasty}");
        out.join("\n")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

        // Bad input is an error naming the file, never a panic.
        #[test]
        fn a_bundled_scenario_with_a_nasty_value_is_parsed_or_refused(
            file in 0usize..64, which in 0usize..512, nasty in 0usize..NASTY.len()
        ) {
            let texts = bundled();
            let text = swap_value(&texts[file % texts.len()], which, NASTY[nasty]);
            if let Err(e) = timewait::scenario::parse("t", "t.toml", &text) {
                prop_assert!(e.to_string().starts_with("t.toml:"), "{}", e);
            }
        }

        #[test]
        fn a_bundled_scenario_cut_anywhere_is_parsed_or_refused(
            file in 0usize..64, at in 0usize..20_000, len in 0usize..200
        ) {
            let texts = bundled();
            let text = &texts[file % texts.len()];
            let mut start = at % (text.len() + 1);
            while !text.is_char_boundary(start) { start -= 1; }
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            let cut = format!("{}{}", &text[..start], &text[end..]);
            if let Err(e) = timewait::scenario::parse("t", "t.toml", &cut) {
                prop_assert!(e.to_string().starts_with("t.toml:"), "{}", e);
            }
        }
    }
}
