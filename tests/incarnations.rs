//! The bundled TIME_WAIT scenarios tell the story the RFCs predict, whatever the seed.

use std::path::Path;

use proptest::prelude::*;
use timewait::net::{Network, NodeId};
use timewait::run::simulate;
use timewait::scenario::{self, Scenario};
use timewait::sim::{Duration, SimTime};
use timewait::tcp::{IsnPolicy, State, TcpLog};
use timewait::world::{Observer, PacketEvent, PacketEventKind, World};

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"));
    scenario::load(&path).expect("bundled scenario is valid")
}

fn corrupted(s: &Scenario, seed: u64) -> u64 {
    let mut config = s.config.clone();
    config.seed = seed;
    let out = simulate(&config, SimTime::ZERO + s.duration).unwrap();
    out.recorder.tcp.corrupted_bytes()
}

#[test]
fn without_time_wait_a_lost_duplicate_corrupts_the_next_incarnation_and_2msl_prevents_it() {
    let none = load("incarnation_no_timewait");
    let two_msl = load("incarnation_2msl");
    // The two files differ only in TIME_WAIT (and how long they run).
    let mss = none.config.nodes[0].tcp.mss as u64;
    for seed in 1..=20 {
        let bad = corrupted(&none, seed);
        // The looping segment is the whole 1000-byte write (below one MSS).
        assert!(
            bad > 0 && bad <= mss,
            "seed {seed}: {bad} corrupted bytes without TIME_WAIT"
        );
        assert_eq!(
            corrupted(&two_msl, seed),
            0,
            "seed {seed}: corruption despite 2 x MSL"
        );
    }
}

#[test]
fn a_time_wait_shorter_than_the_duplicates_life_does_not_protect() {
    let short = load("time_wait_too_short");
    let tw = short.config.nodes[0].tcp.time_wait;
    assert!(
        tw < short.config.nodes[0].tcp.msl,
        "the scenario must keep TIME_WAIT below MSL"
    );
    for seed in 1..=5 {
        assert!(corrupted(&short, seed) > 0, "seed {seed}");
    }
}

/// Records TCP transitions and packet deliveries by host name.
#[derive(Default)]
struct Watch {
    transitions: Vec<(SimTime, String, State, State, &'static str)>,
    delivered: Vec<(SimTime, String, String)>,
}

impl Observer for Watch {
    fn tcp(&mut self, net: &Network, time: SimTime, node: NodeId, log: &TcpLog) {
        if let TcpLog::State(t) = log {
            self.transitions
                .push((time, net.node(node).name.clone(), t.from, t.to, t.cause));
        }
    }
    fn packet(&mut self, net: &Network, ev: &PacketEvent<'_>) {
        if ev.kind == PacketEventKind::Deliver
            && let timewait::net::Body::Tcp(s) = &ev.packet.body
        {
            self.delivered
                .push((ev.time, net.node(ev.node).name.clone(), s.flags.to_string()));
        }
    }
}

#[test]
fn a_lost_final_ack_is_repaired_by_time_wait_and_answered_with_rst_without_it() {
    let s = load("last_ack_lost");
    let mut world = World::new(&s.config).unwrap();
    let mut w = Watch::default();
    world.run(SimTime::ZERO + s.duration, &mut w);

    // The server's two LAST_ACK sockets: one closes on the ACK of its (retransmitted) FIN,
    // the other on a RST.
    let last_acks: Vec<&str> = w
        .transitions
        .iter()
        .filter(|t| t.1 == "server" && t.2 == State::LastAck && t.3 == State::Closed)
        .map(|t| t.4)
        .collect();
    assert_eq!(last_acks, ["ACK of FIN", "RST received"]);

    // client_tw saw the server's FIN twice, and TIME_WAIT ended 2 x MSL after the second.
    let fins: Vec<SimTime> = w
        .delivered
        .iter()
        .filter(|d| d.1 == "client_tw" && d.2.contains('F'))
        .map(|d| d.0)
        .collect();
    assert_eq!(fins.len(), 2, "the FIN was retransmitted once");
    let tw = s.config.nodes[0].tcp.time_wait;
    let end = w
        .transitions
        .iter()
        .find(|t| t.1 == "client_tw" && t.2 == State::TimeWait)
        .expect("TIME_WAIT ended");
    assert_eq!(end.0, fins[1] + tw);
    assert_eq!(end.4, "2MSL expired");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// RFC 9293 §3.4.2: TIME_WAIT at least as long as any packet can live means no old
    /// duplicate can reach a new incarnation, whatever the ISNs.
    #[test]
    fn no_corruption_when_time_wait_outlasts_the_longest_packet_lifetime(
        seed in 1u64..10_000,
        extra_ms in 0u64..20_000,
        random_isn in any::<bool>(),
    ) {
        let mut s = load("incarnation_no_timewait");
        // TTL 64 router hops, each at most 150 ms + 10 ms jitter on the B-C link, plus the
        // 1 ms first hop: no packet lives longer than this.
        let longest = Duration::from_millis(64 * 160 + 1);
        let tw = longest + Duration::from_millis(extra_ms);
        let isn = if random_isn { IsnPolicy::Random } else { IsnPolicy::Fixed(1000) };
        for n in &mut s.config.nodes {
            n.tcp.time_wait = tw;
            n.tcp.isn = isn;
        }
        s.config.seed = seed;
        let until = SimTime::ZERO + Duration::from_secs(60);
        let out = simulate(&s.config, until).unwrap();
        prop_assert_eq!(out.recorder.tcp.corrupted_bytes(), 0);
    }
}
