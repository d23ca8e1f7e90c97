//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod pair;
pub mod states;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Output};

use timewait::net::{LinkParams, NodeId, NodeKind, Prefix, TtlMode};
use timewait::sim::{Duration, SimTime};
use timewait::world::apps::{AppSpec, DatagramSpec};
use timewait::world::{
    AppConfig, LinkConfig, NodeConfig, Observer, PacketEvent, PacketEventKind, RouteTarget,
    WorldConfig,
};

/// How long a host with `cfg` waits before acknowledging a FIN that takes it from ESTABLISHED
/// to CLOSE_WAIT: Linux's `tcp_fin` enters ping-pong mode so that the application's FIN can
/// carry the ACK, and the delayed-ACK timer runs its minimum, `TCP_ATO_MIN` = 40 ms (seen on a
/// real kernel as 40 ms plus the jiffy it rounds to).
pub fn fin_ack_delay(cfg: &timewait::tcp::TcpConfig) -> Duration {
    if cfg.delayed_ack {
        Duration::from_millis(40)
    } else {
        Duration::ZERO
    }
}

/// One packet event, as the tests look at it.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub time: SimTime,
    pub kind: PacketEventKind,
    pub node: String,
    pub packet: u64,
    pub ttl: u8,
}

/// Records every packet event.
#[derive(Default)]
pub struct Collect(pub Vec<Seen>);

impl Observer for Collect {
    fn packet(&mut self, net: &timewait::net::Network, ev: &PacketEvent<'_>) {
        self.0.push(Seen {
            time: ev.time,
            kind: ev.kind,
            node: net.node(ev.node).name.clone(),
            packet: ev.packet.meta.id,
            ttl: ev.packet.ttl,
        });
    }
}

impl Collect {
    pub fn of_kind(&self, kind: PacketEventKind) -> Vec<&Seen> {
        self.0.iter().filter(|s| s.kind == kind).collect()
    }
}

pub fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub fn prefix(s: &str) -> Prefix {
    s.parse().unwrap()
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn at(d: Duration) -> SimTime {
    SimTime::ZERO + d
}

pub fn host(name: &str, addr: &str, via: NodeId) -> NodeConfig {
    NodeConfig {
        name: name.into(),
        kind: NodeKind::Host,
        addrs: vec![ip(addr)],
        routes: vec![(prefix("0.0.0.0/0"), RouteTarget::Via(via))],
        icmp_time_exceeded: false,
        tcp: Default::default(),
    }
}

pub fn router(name: &str, routes: Vec<(Prefix, RouteTarget)>) -> NodeConfig {
    NodeConfig {
        name: name.into(),
        kind: NodeKind::Router,
        addrs: vec![],
        routes,
        icmp_time_exceeded: false,
        tcp: Default::default(),
    }
}

pub fn link(a: u32, b: u32, delay: Duration) -> LinkConfig {
    LinkConfig {
        ends: [NodeId(a), NodeId(b)],
        params: LinkParams {
            delay,
            ..LinkParams::default()
        },
    }
}

/// Datagrams from `host` to `to`: `count` of them, `interval` apart, from `start`.
pub fn datagrams(
    host: u32,
    to: &str,
    start: Duration,
    interval: Duration,
    count: u64,
) -> AppConfig {
    AppConfig {
        host: NodeId(host),
        spec: AppSpec::Datagram(DatagramSpec {
            to: ip(to),
            port: 9,
            src_port: 9,
            start,
            interval,
            count,
            size: 100,
            ttl: None,
        }),
    }
}

pub fn config(nodes: Vec<NodeConfig>, links: Vec<LinkConfig>, apps: Vec<AppConfig>) -> WorldConfig {
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
        apps,
    }
}

/// Hosts `a` (10.0.0.1) and `b` (10.0.0.2) joined by a 1 ms link: the body of small test
/// scenarios.
pub const TWO_HOSTS: &str = r#"
[[host]]
name = "a"
addr = "10.0.0.1"

[[host]]
name = "b"
addr = "10.0.0.2"

[[link]]
ends = ["a", "b"]
delay = "1ms"
"#;

/// Runs the `timewait` binary in `dir` with `args`.
pub fn timewait(dir: &Path, args: &[&str]) -> Output {
    timewait_env(dir, args, &[])
}

/// Runs the `timewait` binary in `dir` with `args` and extra environment variables.
pub fn timewait_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_timewait"))
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

/// A CSV file's rows as maps from column name to text.
pub fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The names in `dir`, hidden ones included, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A CSV row's column `col` as a number.
pub fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = `{}` is not a number", row[col]))
}
