//! Engine and forwarding benchmarks.
//!
//! - `queue/*`: one pop + one push with 100,000 events pending, for the project's event queue,
//!   a `BinaryHeap` holding (time, seq, payload), a bare `BinaryHeap` of 16-byte (time, seq)
//!   keys (the floor: the queue's goal is within 2x of it), and the `priority-queue` crate;
//!   the project's queue and the bare heap also at 1,000,000 pending.
//! - `forwarding`: datagrams through a chain of routers; throughput is packet-hops per second.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use timewait::net::{LinkParams, NodeId, NodeKind, Prefix, TtlMode};
use timewait::sim::{Duration, EventQueue, SimTime};
use timewait::world::apps::{AppSpec, DatagramSpec};
use timewait::world::{
    AppConfig, LinkConfig, NodeConfig, NullObserver, RouteTarget, World, WorldConfig,
};

const PENDING: u64 = 100_000;

/// A cheap deterministic stream of delays in [1, 1_000_000) ns.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        1 + (self.0 >> 33) % 999_999
    }
}

fn queues(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue");
    g.throughput(Throughput::Elements(1));

    g.bench_function("event_queue_pop_push_100k", |b| {
        let mut q = EventQueue::new();
        let mut r = Lcg(1);
        for _ in 0..PENDING {
            q.schedule(SimTime::from_nanos(r.next()), [0u64; 4]);
        }
        b.iter(|| {
            let (t, p) = q.pop().unwrap();
            q.schedule(t + Duration::from_nanos(r.next()), black_box(p));
        });
    });

    g.bench_function("binary_heap_pop_push_100k", |b| {
        let mut q: BinaryHeap<Reverse<(u64, u64, [u64; 4])>> = BinaryHeap::new();
        let mut r = Lcg(1);
        let mut seq = 0;
        for _ in 0..PENDING {
            seq += 1;
            q.push(Reverse((r.next(), seq, [0; 4])));
        }
        b.iter(|| {
            let Reverse((t, _, p)) = q.pop().unwrap();
            seq += 1;
            q.push(Reverse((t + r.next(), seq, black_box(p))));
        });
    });

    // The floor the project's queue is held to: 16-byte (time, seq) keys and nothing else.
    for pending in [PENDING, 1_000_000] {
        g.bench_function(
            format!("bare_heap_16b_keys_pop_push_{}k", pending / 1000),
            |b| {
                let mut q: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::new();
                let mut r = Lcg(1);
                let mut seq = 0;
                for _ in 0..pending {
                    seq += 1;
                    q.push(Reverse((r.next(), seq)));
                }
                b.iter(|| {
                    let Reverse((t, _)) = q.pop().unwrap();
                    seq += 1;
                    q.push(Reverse((t + r.next(), black_box(seq))));
                });
            },
        );
    }

    g.bench_function("event_queue_pop_push_1000k", |b| {
        let mut q = EventQueue::new();
        let mut r = Lcg(1);
        for _ in 0..1_000_000 {
            q.schedule(SimTime::from_nanos(r.next()), [0u64; 4]);
        }
        b.iter(|| {
            let (t, p) = q.pop().unwrap();
            q.schedule(t + Duration::from_nanos(r.next()), black_box(p));
        });
    });

    g.bench_function("priority_queue_crate_pop_push_100k", |b| {
        let mut q = priority_queue::PriorityQueue::new();
        let mut r = Lcg(1);
        let mut seq = 0u64;
        for _ in 0..PENDING {
            seq += 1;
            q.push(seq, Reverse((r.next(), seq)));
        }
        b.iter(|| {
            let (_, Reverse((t, _))) = q.pop().unwrap();
            seq += 1;
            q.push(seq, Reverse((t + r.next(), seq)));
        });
    });
    g.finish();
}

/// sender -> R1 -> ... -> R`routers` -> receiver, 1 us links, `packets` datagrams.
fn chain(routers: u32, packets: u64) -> WorldConfig {
    let dst: Prefix = "10.0.1.0/24".parse().unwrap();
    let back: Prefix = "10.0.0.0/24".parse().unwrap();
    let receiver = routers + 1;
    let mut nodes = vec![NodeConfig {
        name: "sender".into(),
        kind: NodeKind::Host,
        addrs: vec!["10.0.0.1".parse().unwrap()],
        routes: vec![("0.0.0.0/0".parse().unwrap(), RouteTarget::Via(NodeId(1)))],
        icmp_time_exceeded: false,
        tcp: Default::default(),
    }];
    for i in 1..=routers {
        nodes.push(NodeConfig {
            name: format!("R{i}"),
            kind: NodeKind::Router,
            addrs: vec![],
            routes: vec![
                (dst, RouteTarget::Via(NodeId(i + 1))),
                (back, RouteTarget::Via(NodeId(i - 1))),
            ],
            icmp_time_exceeded: false,
            tcp: Default::default(),
        });
    }
    nodes.push(NodeConfig {
        name: "receiver".into(),
        kind: NodeKind::Host,
        addrs: vec!["10.0.1.2".parse().unwrap()],
        routes: vec![(
            "0.0.0.0/0".parse().unwrap(),
            RouteTarget::Via(NodeId(routers)),
        )],
        icmp_time_exceeded: false,
        tcp: Default::default(),
    });
    let links = (0..receiver)
        .map(|i| LinkConfig {
            ends: [NodeId(i), NodeId(i + 1)],
            params: LinkParams {
                delay: Duration::from_micros(1),
                ..LinkParams::default()
            },
        })
        .collect();
    WorldConfig {
        seed: 1,
        ttl_mode: TtlMode::Hops,
        default_ttl: 64,
        nodes,
        links,
        route_changes: vec![],
        link_changes: vec![],
        faults: vec![],
        observe: Default::default(),
        apps: vec![AppConfig {
            host: NodeId(0),
            spec: AppSpec::Datagram(DatagramSpec {
                to: "10.0.1.2".parse().unwrap(),
                port: 9,
                src_port: 9,
                start: Duration::ZERO,
                interval: Duration::from_nanos(100),
                count: packets,
                size: 100,
                ttl: None,
            }),
        }],
    }
}

fn forwarding(c: &mut Criterion) {
    let routers = 10;
    let packets = 100_000;
    let cfg = chain(routers, packets);
    let mut g = c.benchmark_group("forwarding");
    g.sample_size(10);
    // Each datagram is forwarded by every router: packet-hops per iteration.
    g.throughput(Throughput::Elements(packets * routers as u64));
    g.bench_function("chain_of_10_routers_100k_datagrams", |b| {
        b.iter(|| {
            let mut w = World::new(&cfg).unwrap();
            let stats = w.run(SimTime::MAX, &mut NullObserver);
            black_box(stats.events)
        });
    });
    g.finish();
}

criterion_group!(benches, queues, forwarding);
criterion_main!(benches);
