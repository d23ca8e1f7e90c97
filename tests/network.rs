//! Network facts: TTL, routing loops, serialisation, queues. Every expected value is derived
//! from the topology's parameters in the test itself.

mod common;

use common::*;
use timewait::net::{NodeId, TtlMode};
use timewait::sim::Duration;
use timewait::world::{NullObserver, PacketEventKind, RouteChange, RouteTarget, World};

const DST: &str = "10.0.1.2";

/// sender(0) -> A(1); A(2)... a triangle A -> B -> C -> A for 10.0.1.0/24; receiver(4) hangs off
/// C but C's route points back at A, so the loop exists from t = 0.
fn triangle(hop: Duration, edge: Duration) -> timewait::world::WorldConfig {
    let dst = prefix("10.0.1.0/24");
    let (s, a, b, c, r) = (0, 1, 2, 3, 4);
    config(
        vec![
            host("sender", "10.0.0.1", NodeId(a)),
            router("A", vec![(dst, RouteTarget::Via(NodeId(b)))]),
            router("B", vec![(dst, RouteTarget::Via(NodeId(c)))]),
            router("C", vec![(dst, RouteTarget::Via(NodeId(a)))]),
            host("receiver", DST, NodeId(c)),
        ],
        vec![
            link(s, a, edge),
            link(a, b, hop),
            link(b, c, hop),
            link(c, a, hop),
            link(c, r, edge),
        ],
        vec![],
    )
}

#[test]
fn a_packet_in_a_three_router_loop_dies_after_exactly_its_ttl_in_hops() {
    let hop = ms(1);
    let mut cfg = triangle(hop, hop);
    cfg.apps.push(datagrams(0, DST, ms(0), ms(1), 1));
    let ttl = cfg.default_ttl as u64;
    let mut world = World::new(&cfg).unwrap();
    let mut seen = Collect::default();
    world.run(at(ms(10_000)), &mut seen);

    // Each router visit costs one TTL; the visit that would leave 0 discards the packet instead,
    // so there are ttl - 1 forwards and the ttl-th router visit is the death.
    let forwards = seen.of_kind(PacketEventKind::Forward);
    assert_eq!(forwards.len() as u64, ttl - 1);
    let deaths = seen.of_kind(PacketEventKind::TtlExpired);
    assert_eq!(deaths.len(), 1);
    // Visit k happens at the edge delay plus (k - 1) loop hops; routers visited A, B, C, A, ...
    assert_eq!(deaths[0].time, at(hop + hop * (ttl - 1)));
    assert_eq!(deaths[0].node, ["A", "B", "C"][((ttl - 1) % 3) as usize]);
    assert_eq!(deaths[0].ttl, 0);
    // TTLs seen on the way out of each router count down from ttl - 1 to 1: never forwarded at 0.
    let ttls: Vec<u8> = forwards.iter().map(|s| s.ttl).collect();
    assert_eq!(ttls, (1..ttl as u8).rev().collect::<Vec<_>>());
    assert!(seen.of_kind(PacketEventKind::Deliver).is_empty());
}

#[test]
fn a_loop_that_heals_releases_its_packets_with_the_ttl_they_had_left() {
    let hop = ms(1);
    let edge = ms(2);
    let heal = ms(30) + Duration::from_micros(500);
    let sends = [0u64, 5, 20];
    let mut cfg = triangle(hop, edge);
    for s in sends {
        cfg.apps.push(datagrams(0, DST, ms(s), ms(1), 1));
    }
    cfg.route_changes.push(RouteChange {
        at: heal,
        node: NodeId(3),
        prefix: prefix("10.0.1.0/24"),
        target: RouteTarget::Via(NodeId(4)),
    });
    let ttl = cfg.default_ttl;
    let mut world = World::new(&cfg).unwrap();
    let mut seen = Collect::default();
    world.run(at(ms(10_000)), &mut seen);

    let mut delivered = seen.of_kind(PacketEventKind::Deliver);
    assert_eq!(
        delivered.len(),
        sends.len(),
        "every packet was still looping at the heal"
    );
    // Packet ids follow send order; two of these arrive at the same instant.
    delivered.sort_by_key(|s| s.packet);
    for (d, sent) in delivered.iter().zip(sends) {
        // Router visit k (k = 1, 2, ...) is at sent + edge + (k - 1) hops; C is every third.
        // The first C visit after the heal sends the packet out to the receiver.
        let visit_time = |k: u64| at(ms(sent) + edge + hop * (k - 1));
        let k = (1..)
            .find(|k| k % 3 == 0 && visit_time(*k) >= at(heal))
            .unwrap();
        assert_eq!(d.time, visit_time(k) + edge, "packet sent at {sent} ms");
        assert_eq!(d.ttl as u64, ttl as u64 - k, "packet sent at {sent} ms");
    }
}

#[test]
fn ttl_in_seconds_kills_a_packet_held_long_enough_even_with_hops_to_spare() {
    // sender -> R -> receiver with a 10 s link into R: in `seconds` mode R charges the 10 s held.
    let slow = Duration::from_secs(10);
    let build = |mode: TtlMode| {
        let mut cfg = config(
            vec![
                host("sender", "10.0.0.1", NodeId(1)),
                router(
                    "R",
                    vec![(prefix("10.0.1.0/24"), RouteTarget::Via(NodeId(2)))],
                ),
                host("receiver", DST, NodeId(1)),
            ],
            vec![link(0, 1, slow), link(1, 2, ms(1))],
            vec![datagrams(0, DST, ms(0), ms(1), 1)],
        );
        cfg.ttl_mode = mode;
        cfg.default_ttl = 8; // 8 hops would be plenty for a 1-router path
        cfg
    };
    let mut hops = Collect::default();
    World::new(&build(TtlMode::Hops))
        .unwrap()
        .run(at(ms(60_000)), &mut hops);
    assert_eq!(hops.of_kind(PacketEventKind::Deliver).len(), 1);
    assert_eq!(hops.of_kind(PacketEventKind::Deliver)[0].ttl, 7);

    let mut secs = Collect::default();
    World::new(&build(TtlMode::Seconds))
        .unwrap()
        .run(at(ms(60_000)), &mut secs);
    assert!(secs.of_kind(PacketEventKind::Deliver).is_empty());
    let death = secs.of_kind(PacketEventKind::TtlExpired);
    assert_eq!(death.len(), 1);
    assert_eq!(death[0].time, at(slow));

    // Held for 5 s with TTL 8: charged 5, forwarded with 3 left.
    let mut cfg = build(TtlMode::Seconds);
    cfg.links[0].params.delay = Duration::from_secs(5);
    let mut short = Collect::default();
    World::new(&cfg).unwrap().run(at(ms(60_000)), &mut short);
    assert_eq!(short.of_kind(PacketEventKind::Deliver)[0].ttl, 3);
}

#[test]
fn a_full_drop_tail_queue_drops_the_next_packet_in_a_running_network() {
    // 1 Mb/s, 128-byte packets (20 IP + 8 UDP + 100): 1.024 ms each on the wire.
    let mut cfg = config(
        vec![
            host("sender", "10.0.0.1", NodeId(1)),
            host("receiver", DST, NodeId(0)),
        ],
        vec![link(0, 1, ms(1))],
        vec![],
    );
    cfg.links[0].params.bandwidth = Some(timewait::net::Bandwidth(1_000_000));
    cfg.links[0].params.queue_limit = 2;
    // Five datagrams offered at the same instant: one on the wire, two queued, two dropped.
    for _ in 0..5 {
        cfg.apps.push(datagrams(0, DST, ms(0), ms(1), 1));
    }
    let mut seen = Collect::default();
    World::new(&cfg).unwrap().run(at(ms(1000)), &mut seen);
    let drops = seen.of_kind(PacketEventKind::Drop(
        timewait::world::DropReason::QueueFull,
    ));
    assert_eq!(drops.len(), 2);
    let times: Vec<_> = seen
        .of_kind(PacketEventKind::Deliver)
        .iter()
        .map(|s| s.time)
        .collect();
    let wire = Duration::from_micros(1024);
    assert_eq!(
        times,
        vec![at(wire + ms(1)), at(wire * 2 + ms(1)), at(wire * 3 + ms(1))]
    );
}

#[test]
fn the_null_observer_sees_the_same_run() {
    let mut cfg = triangle(ms(1), ms(1));
    cfg.apps.push(datagrams(0, DST, ms(0), ms(1), 3));
    let a = World::new(&cfg)
        .unwrap()
        .run(at(ms(1000)), &mut NullObserver);
    let mut seen = Collect::default();
    let b = World::new(&cfg).unwrap().run(at(ms(1000)), &mut seen);
    assert_eq!(a, b);
}
