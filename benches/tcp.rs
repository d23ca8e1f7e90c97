//! TCP benchmarks.
//!
//! - `churn`: two hosts on one link; each connection opens, sends 1 KB each way (a 1 KB
//!   request body and a 1 KB response), and closes, the client first (so it ends in
//!   TIME_WAIT). Throughput is simulated connections per second of wall time.
//! - `time_wait_entry_bytes`: heap bytes one TIME_WAIT record costs in the table, measured
//!   with a counting allocator over 100,000 records (printed; the goal is at most 128).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use timewait::net::{LinkParams, NodeId, NodeKind, Prefix};
use timewait::sim::{Duration, SimTime};
use timewait::tcp::{ConnId, FourTuple, SeqNum, TimeWait, TimeWaitTable};
use timewait::world::apps::{
    AcceptDelay, AppSpec, Handler, HttpClientSpec, HttpServerSpec, OnTimeout,
};
use timewait::world::{
    AppConfig, LinkConfig, NodeConfig, NullObserver, RouteTarget, World, WorldConfig,
};

/// Counts bytes currently allocated, to measure data structure footprints.
struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn host(name: &str, addr: &str, via: u32) -> NodeConfig {
    // Enough ports that the churn never runs out within the run.
    let tcp = timewait::tcp::TcpConfig {
        port_range: (1024, 65535),
        ..Default::default()
    };
    NodeConfig {
        name: name.into(),
        kind: NodeKind::Host,
        addrs: vec![addr.parse().unwrap()],
        routes: vec![(
            "0.0.0.0/0".parse::<Prefix>().unwrap(),
            RouteTarget::Via(NodeId(via)),
        )],
        icmp_time_exceeded: false,
        tcp,
    }
}

/// `connections` short HTTP exchanges, 1 KB each way, `rate` per second.
fn churn(connections: u64, rate: u64) -> WorldConfig {
    WorldConfig {
        seed: 1,
        ttl_mode: Default::default(),
        default_ttl: 64,
        nodes: vec![host("client", "10.0.0.1", 1), host("server", "10.0.0.2", 0)],
        links: vec![LinkConfig {
            ends: [NodeId(0), NodeId(1)],
            params: LinkParams {
                delay: Duration::from_micros(100),
                ..LinkParams::default()
            },
        }],
        route_changes: vec![],
        link_changes: vec![],
        faults: vec![],
        observe: Default::default(),
        apps: vec![
            AppConfig {
                host: NodeId(1),
                spec: AppSpec::HttpServer(HttpServerSpec {
                    port: 80,
                    backlog: 4096,
                    accept_delay: AcceptDelay::After(Duration::ZERO),
                    handlers: vec![Handler {
                        path: "/".into(),
                        delay: Duration::ZERO,
                        body: 1024,
                    }],
                    close_after_response: false,
                    idle_timeout: Duration::from_secs(5),
                }),
            },
            AppConfig {
                host: NodeId(0),
                spec: AppSpec::HttpClient(HttpClientSpec {
                    server: "10.0.0.2:80".parse().unwrap(),
                    path: "/".into(),
                    start: Duration::ZERO,
                    requests: connections,
                    interval: Duration::from_nanos(1_000_000_000 / rate),
                    connect_timeout: None,
                    max_time: None,
                    on_timeout: OnTimeout::Close,
                    src_port: None,
                    request_body: 1024,
                    verbose: false,
                }),
            },
        ],
    }
}

fn churn_bench(c: &mut Criterion) {
    let n = 20_000;
    let cfg = churn(n, 10_000);
    // Report events per connection once, so events/s can be derived from connections/s.
    let stats = World::new(&cfg)
        .unwrap()
        .run(SimTime::MAX, &mut NullObserver);
    println!(
        "churn: {} events for {n} connections ({:.1} per connection)",
        stats.events,
        stats.events as f64 / n as f64
    );
    let mut g = c.benchmark_group("churn");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n));
    g.bench_function("connections_1kb_each_way", |b| {
        b.iter(|| {
            let mut w = World::new(&cfg).unwrap();
            black_box(w.run(SimTime::MAX, &mut NullObserver).events)
        });
    });
    g.finish();
}

fn time_wait_entry(c: &mut Criterion) {
    let n = 100_000u32;
    let before = ALLOCATED.load(Ordering::Relaxed);
    let mut table = TimeWaitTable::default();
    for i in 0..n {
        let tuple = FourTuple {
            local: SocketAddrV4::new(
                [10, 0, (i >> 16) as u8, (i >> 8) as u8].into(),
                (i & 0xffff) as u16,
            ),
            remote: "10.0.1.2:80".parse().unwrap(),
        };
        table.insert(
            TimeWait {
                tuple,
                conn: ConnId { host: 0, n: i },
                snd_nxt: SeqNum(i),
                rcv_nxt: SeqNum(i),
                rcv_wnd: 65535,
                ts_recent: 0,
                ts_offset: 0,
                ts_on: false,
                ts_recent_at: SimTime::ZERO,
                since: SimTime::ZERO,
            },
            SimTime::from_nanos(i as u64),
        );
    }
    let bytes = ALLOCATED.load(Ordering::Relaxed) - before;
    println!(
        "time_wait_entry: {} bytes per TIME_WAIT record ({} records; the record itself is {} bytes)",
        bytes / n as usize,
        n,
        std::mem::size_of::<TimeWait>()
    );
    c.bench_function("time_wait_insert_and_expire_100k", |b| {
        b.iter(|| {
            let mut t = TimeWaitTable::default();
            for (i, tw) in table.iter().enumerate() {
                t.insert(*tw.0, SimTime::from_nanos(i as u64));
            }
            while t.pop_expired(SimTime::MAX).is_some() {}
        })
    });
}

criterion_group!(benches, churn_bench, time_wait_entry);
criterion_main!(benches);
