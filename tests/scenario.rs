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
    assert!(held.contains("over 2 connections"), "{held}");
    assert!(held.contains("for durations from 0ns to 1.99"), "{held}");
    assert!(held.contains("ended by close"), "{held}");
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

/// A sweep over `two_hosts` with `sweep` appended.
fn sweep_file(sweep: &str) -> String {
    two_hosts("", &format!("[sweep]\n{sweep}"))
}

/// A sweep file's error through `check`'s path: the [sweep] table, then every grid point.
fn sweep_error(text: &str) -> String {
    use timewait::sweep::{Plan, SweepSpec};
    let spec = SweepSpec::parse_located("t", "t.toml", text).map_err(|e| e.to_string());
    match spec.and_then(|s| Plan::new_located(s).map_err(|e| e.to_string())) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn a_huge_http_body_is_refused_with_its_line_and_the_limit() {
    for body in [
        "9223372036854775807",
        "1099511627776",
        "\"1TiB\"",
        "\"1025MiB\"",
    ] {
        let apps = format!(
            "[[app]]\nkind = \"http_server\"\nhost = \"server\"\nport = 80\n\
             handlers = [{{ path = \"/\", body = {body} }}]\n"
        );
        let text = two_hosts("", &apps);
        if body.contains("TiB") {
            // Not a unit the parser knows: refused as such, still located.
            let e = parse(&text).unwrap_err();
            assert!(e.contains("app[0].handlers[0].body"), "{e}");
            continue;
        }
        let e = parse(&text).unwrap_err();
        let line = line_of(&text, "handlers");
        assert!(e.starts_with(&format!("t.toml:{line}:")), "{e}");
        assert!(e.contains("app[0].handlers[0].body"), "{e}");
        assert!(e.contains("at most 67108864 bytes"), "{e}");
    }
    // The largest body allowed still builds its world.
    let apps = "[[app]]\nkind = \"http_server\"\nhost = \"server\"\nport = 80\n\
                handlers = [{ path = \"/\", body = \"64MiB\" }]\n";
    let sc = parse(&two_hosts("", apps)).unwrap();
    timewait::world::World::new(&sc.config).unwrap();
    let client = "[[app]]\nkind = \"http_client\"\nhost = \"client\"\nurl = \"http://10.0.0.2/\"\n\
                  request_body = 4294967296\n";
    let e = parse(&two_hosts("", client)).unwrap_err();
    assert!(
        e.contains("app[0].request_body") && e.contains("at most"),
        "{e}"
    );
}

#[test]
fn a_socket_buffer_past_64_mib_is_refused_where_it_was_written() {
    // A sender fills its send buffer, so 4 GB here was 4 GB of memory per connection.
    let text = two_hosts("snd_buf = 4294967295", "");
    let e = parse(&text).unwrap_err();
    let line = line_of(&text, "snd_buf");
    assert!(
        e.starts_with(&format!("t.toml:{line}:11: error in `tcp.snd_buf`")),
        "{e}"
    );
    assert!(e.contains("at most 67108864 bytes"), "{e}");
    let text = two_hosts("", "").replace(
        "addr = \"10.0.0.2\"",
        "addr = \"10.0.0.2\"\ntcp = { rcv_buf = 67108865 }",
    );
    let e = parse(&text).unwrap_err();
    assert!(e.contains("error in `host[1].tcp.rcv_buf`"), "{e}");
    assert!(parse(&two_hosts("snd_buf = 67108864\nrcv_buf = 67108864", "")).is_ok());
}

#[test]
fn nesting_past_the_depth_limit_names_the_line_and_the_key() {
    for (deep, field) in [
        (
            format!("{}b = 1", "a.".repeat(100)),
            "a.a.a.a.… (101 parts)",
        ),
        (format!("[{}b]", "t.".repeat(100)), "t.t.t.t.… (101 parts)"),
        (format!("x = {}{}", "[".repeat(100), "]".repeat(100)), "x"),
    ] {
        let text = two_hosts("", &deep);
        let line = text.lines().count();
        let e = parse(&text).unwrap_err();
        assert!(
            e.starts_with(&format!("t.toml:{line}:1: error in `{field}`")),
            "{e}"
        );
        assert!(e.contains("more than 64 levels deep"), "{e}");
    }
}

#[test]
fn invalid_utf8_names_the_byte_line_and_field() {
    let text = two_hosts("", "");
    let at = text.find("server\"\naddr").unwrap() + 2;
    let mut bytes = text.clone().into_bytes();
    bytes.insert(at, 0xff);
    let e = timewait::scenario::locate::decode("t.toml", bytes)
        .unwrap_err()
        .to_string();
    let line = line_of(&text, "name = \"server\"");
    assert!(
        e.starts_with(&format!("t.toml:{line}:11: error in `host[1].name`")),
        "{e}"
    );
    assert!(
        e.contains(&format!("invalid UTF-8 at byte {at} (0xff, line {line})")),
        "{e}"
    );
}

#[test]
fn field_paths_never_show_serde_internal_names() {
    // `addr` is read through a span-keeping wrapper whose internal name used to leak.
    let text = two_hosts("", "").replace("addr = \"10.0.0.1\"", "addr = 5");
    let e = parse(&text).unwrap_err();
    let line = line_of(&text, "addr = 5");
    assert!(
        e.starts_with(&format!("t.toml:{line}:8: error in `host[0].addr`: ")),
        "{e}"
    );
    assert!(!e.contains("$__"), "{e}");
}

#[test]
fn durations_too_large_say_so_and_give_the_maximum() {
    let e = "1e18s".parse::<Duration>().unwrap_err().to_string();
    assert!(e.contains("`1e18` is too large"), "{e}");
    assert!(e.contains("18446744073.709551615s"), "{e}");
    // Exponents are exact where they fit.
    assert_eq!("1e3ms".parse::<Duration>().unwrap(), Duration::from_secs(1));
    assert_eq!(
        "2.5e-3s".parse::<Duration>().unwrap(),
        Duration::from_micros(2500)
    );
    assert!("1e-10s".parse::<Duration>().is_err());
    let text = two_hosts("", "").replace("duration = \"10s\"", "duration = \"1e18s\"");
    let e = parse(&text).unwrap_err();
    assert!(
        e.starts_with("t.toml:2:12: error in `simulation.duration`"),
        "{e}"
    );
    assert!(e.contains("too large"), "{e}");
}

#[test]
fn sweep_errors_that_had_no_position_name_line_column_and_field() {
    // A seed above i64::MAX: the scenario takes it, a sweep's TOML values cannot.
    let text = sweep_file("seeds = 2\n").replace(
        "duration = \"10s\"",
        "duration = \"10s\"\nseed = 18446744073709551615",
    );
    let e = sweep_error(&text);
    assert!(
        e.starts_with("t.toml:3:8: error in `simulation.seed`"),
        "{e}"
    );
    assert!(e.contains(&i64::MAX.to_string()), "{e}");
    // A grid too large: blamed on the parameter that takes it past the limit.
    let grid = "[sweep.parameters]\n\"tcp.mss\" = { from = 1, to = 1000, step = 1 }\n\
                \"link.0.delay\" = { from = 1, to = 1000, step = 1, unit = \"ms\" }\n";
    let text = sweep_file(grid);
    let e = sweep_error(&text);
    let line = line_of(&text, "link.0.delay");
    assert!(
        e.starts_with(&format!(
            "t.toml:{line}:1: error in `sweep.parameters.\"link.0.delay\"`"
        )),
        "{e}"
    );
    assert!(
        e.contains("1000000 grid points") && e.contains("at most 100000"),
        "{e}"
    );
    // Values valid alone that fail together: located at the parameters.
    let pair = "[sweep.parameters]\n\"tcp.rto_min\" = [\"2s\"]\n\"tcp.rto_max\" = [\"1s\"]\n";
    let text = sweep_file(pair);
    let e = sweep_error(&text);
    let line = line_of(&text, "tcp.rto_max");
    assert!(e.starts_with(&format!("t.toml:{line}:1:")), "{e}");
    assert!(
        e.contains("grid point tcp.rto_min = \"2s\", tcp.rto_max = \"1s\""),
        "{e}"
    );
}

#[test]
fn counts_past_the_limits_are_refused_at_the_first_table_beyond() {
    use timewait::scenario::{MAX_NODES, MAX_ROUTES};
    let mut text = String::from("[simulation]\nduration = \"1s\"\n");
    for i in 0..=MAX_NODES {
        text.push_str(&format!(
            "[[host]]\nname = \"h{i}\"\naddr = \"10.0.{}.{}\"\n",
            i / 250,
            i % 250
        ));
    }
    let e = parse(&text).unwrap_err();
    let line = line_of(&text, &format!("name = \"h{MAX_NODES}\"")) - 1;
    assert!(
        e.starts_with(&format!("t.toml:{line}:1: error in `host[{MAX_NODES}]`")),
        "{e}"
    );
    assert!(e.contains("at most 10000 nodes"), "{e}");
    let routes: Vec<String> = (0..=MAX_ROUTES)
        .map(|i| {
            format!(
                "{{ dest = \"10.{}.{}.0/24\", via = \"server\" }}",
                i / 250,
                i % 250
            )
        })
        .collect();
    let text = two_hosts("", "").replace(
        "addr = \"10.0.0.1\"",
        &format!("addr = \"10.0.0.1\"\nroutes = [{}]", routes.join(", ")),
    );
    let e = parse(&text).unwrap_err();
    assert!(
        e.contains("error in `host[0].routes[10000].dest`") && e.contains("at most 10000"),
        "{e}"
    );
    assert!(
        e.starts_with(&format!("t.toml:{}:", line_of(&text, "routes = "))),
        "{e}"
    );
}

#[test]
fn checking_thousands_of_hosts_takes_linear_time() {
    // 3,000 hosts behind one router, each with an app that sends to the next host: the
    // neighbour, duplicate-route and reachability checks used to cost the square (or cube)
    // of that. Twice the hosts must cost well under four times as long.
    fn star(n: usize) -> String {
        let mut t =
            String::from("[simulation]\nduration = \"1s\"\n\n[[router]]\nname = \"r\"\nroutes = [");
        for i in 0..n {
            t.push_str(&format!(
                "{{ dest = \"10.{}.{}.1/32\", via = \"h{i}\" }},",
                i / 250,
                i % 250
            ));
        }
        t.push_str("]\n");
        for i in 0..n {
            t.push_str(&format!(
                "[[host]]\nname = \"h{i}\"\naddr = \"10.{}.{}.1\"\n[[link]]\nends = [\"h{i}\", \"r\"]\ndelay = \"1ms\"\n\
                 [[app]]\nkind = \"datagram\"\nhost = \"h{i}\"\nto = \"10.{}.{}.1\"\ncount = 1\n",
                i / 250,
                i % 250,
                (i + 1) % n / 250,
                (i + 1) % n % 250
            ));
        }
        t
    }
    let time = |n: usize| {
        let text = star(n);
        let t0 = std::time::Instant::now();
        let sc = parse(&text).unwrap();
        assert_eq!(sc.config.nodes.len(), n + 1);
        assert!(sc.warnings.is_empty(), "{}", sc.warnings[0]);
        t0.elapsed().as_secs_f64()
    };
    let small = time(1500);
    let large = time(3000);
    assert!(
        large < 3.0 * small + 0.2,
        "1,500 hosts: {small:.2} s, 3,000 hosts: {large:.2} s"
    );
}

mod never_panics {
    use proptest::prelude::*;

    /// Every bundled scenario's text.
    pub(super) fn bundled() -> Vec<String> {
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
    pub(super) const NASTY: &[&str] = &[
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
    pub(super) fn swap_value(text: &str, which: usize, nasty: &str) -> String {
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
            let cut = cut(&texts[file % texts.len()], at, len);
            if let Err(e) = timewait::scenario::parse("t", "t.toml", &cut) {
                prop_assert!(e.to_string().starts_with("t.toml:"), "{}", e);
            }
        }
    }

    /// `text` without the `len` bytes from `at` (both moved back to character boundaries).
    pub(super) fn cut(text: &str, at: usize, len: usize) -> String {
        let mut start = at % (text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + len).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}{}", &text[..start], &text[end..])
    }
}

/// The fuzz harness: mutated bundled scenarios and sweep files go through every stage a user's
/// file does (read as bytes, parse, check, plan a sweep, build the world, simulate up to 1 s),
/// under `catch_unwind`. No input may panic, and every error must name file:line:column and a
/// field path free of serde's internal names. `TIMEWAIT_FUZZ_CASES` sets the number of inputs
/// (20,000 by default: about a minute in the debug profile on two busy cores); the seed is
/// fixed (`TIMEWAIT_FUZZ_SEED` changes it), so CI sees the same inputs every time.
mod fuzz {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Once;

    use rand::RngExt;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::SeedableRng;
    use timewait::net::Network;
    use timewait::scenario::{ScenarioError, locate};
    use timewait::sim::{Duration, SimTime};
    use timewait::sweep::{Plan, SweepSpec, is_sweep};
    use timewait::world::{Observer, PacketEvent, World};

    use super::never_panics::{NASTY, bundled, cut, swap_value};

    /// Observer callbacks a simulated case may make before it is stopped: enough for the
    /// bundled scenarios' first second, and it keeps a case that grinds (a churn at 10^9/s,
    /// counts every ns) from holding the run.
    const BUDGET: u64 = 20_000;

    /// The payload that stops a simulation at its budget (not a failure).
    struct OutOfBudget;

    struct Budget(u64);

    impl Budget {
        fn spend(&mut self) {
            self.0 += 1;
            if self.0 > BUDGET {
                std::panic::panic_any(OutOfBudget);
            }
        }
    }

    impl Observer for Budget {
        fn packet(&mut self, _: &Network, _: &PacketEvent<'_>) {
            self.spend();
        }
        fn counts(&mut self, _: &Network, _: SimTime, _: timewait::net::NodeId, _: &[u64; 11]) {
            self.spend();
        }
        fn app(&mut self, _: &Network, _: SimTime, _: timewait::net::NodeId, _: u32, _: &str) {
            self.spend();
        }
        fn tcp(
            &mut self,
            _: &Network,
            _: SimTime,
            _: timewait::net::NodeId,
            _: &timewait::tcp::TcpLog,
        ) {
            self.spend();
        }
    }

    /// Values beyond the never_panics set: limits of every integer type, sizes far past any
    /// buffer, exponents, durations past u64 nanoseconds.
    const HUGE: &[&str] = &[
        "9223372036854775807",
        "-9223372036854775808",
        "4294967296",
        "1099511627776",
        "\"1099511627776B\"",
        "\"17179869184GiB\"",
        "\"1e18s\"",
        "\"1e-18s\"",
        "\"18446744073.709551616s\"",
        "\"5e3ms\"",
        "1e9",
        "-0.0",
        "inf",
        "nan",
        "65536",
        "\"10.0.0.1\"",
        "\"10.0.0.1:80\"",
        "\"http://10.0.0.2:99999/\"",
        "{ fixed = 4294967296 }",
        "[1, 2, 3]",
        "{ from = 0, to = 1e9, step = 1 }",
        "{ from = 0, to = 20000, step = 1 }",
        "{ from = 1, to = 40, step = 1 }",
    ];

    /// Integers at the edges of the types sizes, counts and rates are read into.
    const HUGE_INTEGERS: &[&str] = &[
        "2147483648",
        "4294967295",
        "4294967296",
        "1099511627776",
        "9223372036854775807",
        "18446744073709551615",
        "-1",
    ];

    /// One random change: a nasty or huge value, a cut, deep nesting, a duplicated table or
    /// line, a swapped type, or a bare key. Invalid UTF-8 is added by the caller, on bytes.
    fn mutate(rng: &mut ChaCha8Rng, text: &str) -> String {
        let lines: Vec<&str> = text.lines().collect();
        let line = rng.random_range(0..lines.len().max(1));
        match rng.random_range(0..13u32) {
            0 | 1 => {
                let v = NASTY[rng.random_range(0..NASTY.len())];
                swap_value(text, rng.random_range(0..512), v)
            }
            2 | 3 => swap_value(
                text,
                rng.random_range(0..512),
                HUGE[rng.random_range(0..HUGE.len())],
            ),
            4 => cut(
                text,
                rng.random_range(0..text.len() + 1),
                rng.random_range(0..300),
            ),
            5 => {
                // Deep nesting: a dotted key, a table header or brackets, 50 to 200 deep.
                let depth = rng.random_range(50..200);
                let deep = match rng.random_range(0..3u32) {
                    0 => format!("{}x = 1", "a.".repeat(depth)),
                    1 => format!("[{}x]", "t.".repeat(depth)),
                    _ => format!("x = {}{}", "[".repeat(depth), "]".repeat(depth)),
                };
                insert_line(&lines, line, &deep)
            }
            6 => {
                // A table (or array-of-tables entry) written twice.
                let start = (0..=line)
                    .rev()
                    .find(|&i| lines.get(i).is_some_and(|l| l.starts_with('[')))
                    .unwrap_or(0);
                let end = (start + 1..lines.len())
                    .find(|&i| lines[i].starts_with('['))
                    .unwrap_or(lines.len());
                let block = lines[start..end].join("\n");
                format!("{text}\n{block}\n")
            }
            7 => insert_line(&lines, line, lines.get(line).copied().unwrap_or("")),
            8 => {
                // The value's type swapped: strings lose their quotes, numbers gain them.
                let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                if let Some(l) = out.get_mut(line)
                    && let Some((k, v)) = l.clone().split_once(" = ")
                {
                    let v = v.trim();
                    *l = if let Some(bare) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                        format!("{k} = {bare}")
                    } else if v.starts_with('[') {
                        format!("{k} = {{ x = {v} }}")
                    } else {
                        format!("{k} = \"{v}\"")
                    };
                }
                out.join("\n")
            }
            9 => insert_line(&lines, line, "bogus_key = 1"),
            10 => {
                // An integer anywhere (a body, a count, a port) pushed to a type's edge.
                let ints: Vec<(usize, usize)> = text
                    .match_indices("= ")
                    .map(|(i, _)| i + 2)
                    .filter_map(|at| {
                        let n = text[at..].bytes().take_while(u8::is_ascii_digit).count();
                        (n > 0).then_some((at, at + n))
                    })
                    .collect();
                match ints.get(rng.random_range(0..ints.len().max(1))) {
                    Some(&(a, b)) => {
                        let v = HUGE_INTEGERS[rng.random_range(0..HUGE_INTEGERS.len())];
                        format!("{}{v}{}", &text[..a], &text[b..])
                    }
                    None => text.to_string(),
                }
            }
            _ => {
                // Any value, inline tables included (`handlers = [{ body = 11 }]`).
                let pool = if rng.random_bool(0.5) { HUGE } else { NASTY };
                swap_token(
                    text,
                    rng.random_range(0..4096),
                    pool[rng.random_range(0..pool.len())],
                )
            }
        }
    }

    /// Replaces the `which`-th value written after `= ` (up to `,`, `}` or the line's end).
    fn swap_token(text: &str, which: usize, value: &str) -> String {
        let starts: Vec<usize> = text.match_indices("= ").map(|(i, _)| i + 2).collect();
        let Some(&start) = starts.get(which % starts.len().max(1)) else {
            return text.to_string();
        };
        let rest = &text[start..];
        let end = match rest.strip_prefix('"') {
            Some(inside) => inside.find('"').map_or(rest.len(), |i| i + 2),
            None => rest.find([',', '}', '\n']).unwrap_or(rest.len()),
        };
        format!("{}{value}{}", &text[..start], &rest[end..])
    }

    fn insert_line(lines: &[&str], at: usize, new: &str) -> String {
        let mut out: Vec<&str> = lines.to_vec();
        out.insert(at.min(out.len()), new);
        out.join("\n")
    }

    /// The error's text if it lacks a file:line:column, a field, or shows an internal name.
    fn unlocated(e: &ScenarioError) -> Option<String> {
        let shown = e.to_string();
        let ok = e.location.is_some()
            && shown.starts_with("t.toml:")
            && shown.contains(": error in `")
            && !e.field.is_empty()
            && !shown.contains("$__");
        (!ok).then_some(shown)
    }

    /// Runs one input through every stage (an accepted scenario runs up to 1 s or the budget): `Ok(true)` if it was refused with a located
    /// error, `Ok(false)` if it was accepted, `Err` with the text of an unlocated error.
    fn check_one(bytes: Vec<u8>) -> Result<bool, String> {
        let refused = |e: ScenarioError| unlocated(&e).map_or(Ok(true), Err);
        let source = match locate::decode("t.toml", bytes) {
            Ok(s) => s,
            Err(e) => return refused(e),
        };
        if is_sweep(&source) {
            let spec = match SweepSpec::parse_located("t", "t.toml", &source) {
                Ok(s) => s,
                Err(e) => return refused(e),
            };
            // Huge grids are refused before any point is checked; small ones are planned.
            return match Plan::new_located(spec) {
                Ok(_) => Ok(false),
                Err(e) => refused(e),
            };
        }
        let scenario = match timewait::scenario::parse("t", "t.toml", &source) {
            Ok(s) => s,
            Err(e) => return refused(e),
        };
        let mut world = World::new(&scenario.config)
            .map_err(|e| format!("a checked scenario failed to build: {e}"))?;
        let until = SimTime::ZERO + scenario.duration.min(Duration::from_secs(1));
        world.run(until, &mut Budget(0));
        Ok(false)
    }

    static QUIET: Once = Once::new();

    #[test]
    fn mutated_scenarios_and_sweeps_never_panic_and_every_error_is_located() {
        // Budget stops are expected unwinds: keep them off stderr, and report every other panic.
        QUIET.call_once(|| {
            let default = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if info.payload().downcast_ref::<OutOfBudget>().is_none() {
                    default(info);
                }
            }));
        });
        let cases: u32 = std::env::var("TIMEWAIT_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        let texts = bundled();
        // A fixed seed: CI sees the same inputs every time. TIMEWAIT_FUZZ_SEED picks another
        // stream, to split a long run across processes.
        let seed = std::env::var("TIMEWAIT_FUZZ_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0x7173_7761_6974u64);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut panics, mut unlocated, mut refused, mut capped) = (0u32, 0u32, 0u32, 0u32);
        let mut examples = Vec::new();
        for _ in 0..cases {
            let mut text = texts[rng.random_range(0..texts.len())].clone();
            // Mostly one change, so most inputs get past the parser to the deeper checks.
            let changes = [1, 1, 1, 1, 1, 1, 2, 2, 3][rng.random_range(0..9)];
            for _ in 0..changes {
                text = mutate(&mut rng, &text);
            }
            let mut bytes = text.into_bytes();
            if rng.random_range(0..12u32) == 0 {
                // Bytes that are never UTF-8 (a lone continuation byte, 0xff, a cut sequence).
                let at = rng.random_range(0..bytes.len() + 1);
                let bad: &[u8] = [&[0x80u8][..], &[0xff], &[0xe2, 0x82]][rng.random_range(0..3)];
                bytes.splice(at..at, bad.iter().copied());
            }
            let shown = String::from_utf8_lossy(&bytes).into_owned();
            match catch_unwind(AssertUnwindSafe(|| check_one(bytes))) {
                Ok(Ok(false)) => {}
                Ok(Ok(true)) => refused += 1,
                Ok(Err(m)) => {
                    unlocated += 1;
                    if examples.len() < 5 {
                        examples.push(format!("unlocated: {m}\n--- input ---\n{shown}"));
                    }
                }
                Err(p) if p.downcast_ref::<OutOfBudget>().is_some() => capped += 1,
                Err(p) => {
                    panics += 1;
                    let m = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    if examples.len() < 5 {
                        examples.push(format!("panic: {m}\n--- input ---\n{shown}"));
                    }
                }
            }
        }
        eprintln!(
            "fuzz: {cases} inputs ({refused} refused with a located error), {panics} panics, {unlocated} unlocated errors, {capped} simulations stopped at the budget"
        );
        assert!(
            panics == 0 && unlocated == 0,
            "{panics} panics and {unlocated} unlocated errors in {cases} inputs; first:\n{}",
            examples.join("\n\n")
        );
    }
}
