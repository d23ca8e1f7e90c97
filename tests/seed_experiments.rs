//! The seed article's experiments, replayed from the bundled scenarios: CLOSE_WAIT behind a slow
//! handler and inside the accept queue, simultaneous close, TIME_WAIT piling up until the ports
//! run out, whoever closes first holding TIME_WAIT, TIME_WAIT assassination, and netstat.
//!
//! Every expected number is derived from the loaded scenario's own parameters (the client's
//! `max_time`, the handler's `delay`, the host's `fin_timeout` and `time_wait`, the link's delay
//! and bandwidth, ...), never copied from a run's output. Timing bounds use one round trip
//! computed from the links on the path: per link and direction, its delay plus the time to
//! serialise a full 1500-byte packet.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;

use timewait::net::{Body, FaultAction, LinkParams, Network, NodeId};
use timewait::report::{NETSTAT_HEADER, format_table};
use timewait::scenario::{self, Scenario};
use timewait::sim::{Duration, SimTime};
use timewait::tcp::{
    ConnError, ConnId, ConnRecord, Flags, FourTuple, NetstatRow, SocketTimer, Stack, State,
    TcpConfig, TcpLog, TimerKind,
};
use timewait::world::apps::{AcceptDelay, AppSpec, HttpClientSpec, HttpServerSpec};
use timewait::world::{Observer, PacketEvent, PacketEventKind, World, WorldConfig};

// ----- scenarios and their parameters -----

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"));
    scenario::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn at(d: Duration) -> SimTime {
    SimTime::ZERO + d
}

fn node(config: &WorldConfig, name: &str) -> NodeId {
    let i = config
        .nodes
        .iter()
        .position(|n| n.name == name)
        .unwrap_or_else(|| panic!("no node {name}"));
    NodeId(i as u32)
}

fn host_of_addr(config: &WorldConfig, addr: Ipv4Addr) -> NodeId {
    let i = config
        .nodes
        .iter()
        .position(|n| n.addrs.contains(&addr))
        .unwrap_or_else(|| panic!("no node owns {addr}"));
    NodeId(i as u32)
}

fn name_of(config: &WorldConfig, n: NodeId) -> &str {
    &config.nodes[n.0 as usize].name
}

fn tcp_of<'a>(config: &'a WorldConfig, name: &str) -> &'a TcpConfig {
    &config.nodes[node(config, name).0 as usize].tcp
}

/// The curl-like clients on `host`, with their app index, in scenario order.
fn clients_on<'a>(config: &'a WorldConfig, host: &str) -> Vec<(u32, &'a HttpClientSpec)> {
    let h = node(config, host);
    config
        .apps
        .iter()
        .enumerate()
        .filter(|(_, a)| a.host == h)
        .filter_map(|(i, a)| match &a.spec {
            AppSpec::HttpClient(c) => Some((i as u32, c)),
            _ => None,
        })
        .collect()
}

fn server_on<'a>(config: &'a WorldConfig, host: &str) -> &'a HttpServerSpec {
    let h = node(config, host);
    config
        .apps
        .iter()
        .filter(|a| a.host == h)
        .find_map(|a| match &a.spec {
            AppSpec::HttpServer(s) => Some(s),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no http_server on {host}"))
}

fn link<'a>(config: &'a WorldConfig, a: &str, b: &str) -> &'a LinkParams {
    let (a, b) = (node(config, a), node(config, b));
    config
        .links
        .iter()
        .find(|l| l.ends == [a, b] || l.ends == [b, a])
        .map(|l| &l.params)
        .expect("no such link")
}

/// Largest packet the bounds allow for: an Ethernet MTU.
const MTU: usize = 1500;

/// One way along `path`: each link's delay, jitter, and one MTU-sized packet's serialisation.
fn one_way_bound(config: &WorldConfig, path: &[&str]) -> Duration {
    path.windows(2)
        .map(|w| {
            let l = link(config, w[0], w[1]);
            l.delay + l.jitter + l.bandwidth.map_or(Duration::ZERO, |b| b.serialisation(MTU))
        })
        .fold(Duration::ZERO, |a, b| a + b)
}

/// One round trip along `path` = 2 x (link delays + serialisation).
fn rtt_bound(config: &WorldConfig, path: &[&str]) -> Duration {
    one_way_bound(config, path) * 2
}

/// The request curl 7.29 sends for `spec` (the seed's `curl` command): request line, Host,
/// User-Agent, Accept, the blank line, and any body.
fn curl_request_len(spec: &HttpClientSpec) -> u64 {
    let head = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: curl/7.29.0\r\nAccept: */*\r\n\r\n",
        spec.path, spec.server
    );
    head.len() as u64 + spec.request_body
}

/// How the seed's article (and Linux net-tools `netstat`) spells each state.
fn linux_netstat_name(s: State) -> &'static str {
    match s {
        State::Closed => "CLOSE",
        State::Listen => "LISTEN",
        State::SynSent => "SYN_SENT",
        State::SynReceived => "SYN_RECV",
        State::Established => "ESTABLISHED",
        State::FinWait1 => "FIN_WAIT1",
        State::FinWait2 => "FIN_WAIT2",
        State::CloseWait => "CLOSE_WAIT",
        State::Closing => "CLOSING",
        State::LastAck => "LAST_ACK",
        State::TimeWait => "TIME_WAIT",
    }
}

// ----- the observer -----

#[derive(Clone, Debug)]
struct Tr {
    time: SimTime,
    host: NodeId,
    conn: ConnId,
    tuple: FourTuple,
    from: State,
    to: State,
    cause: &'static str,
}

#[derive(Clone, Debug)]
struct Note {
    time: SimTime,
    host: NodeId,
    app: u32,
    text: String,
}

#[derive(Clone, Debug)]
struct Pkt {
    time: SimTime,
    kind: PacketEventKind,
    node: NodeId,
    src: SocketAddrV4,
    dst: SocketAddrV4,
    flags: Flags,
    len: usize,
}

/// Records what the tests look at. With `detail` off it only counts (for runs that open
/// hundreds of thousands of connections).
#[derive(Default)]
struct Log {
    detail: bool,
    trs: Vec<Tr>,
    records: Vec<(NodeId, ConnRecord)>,
    notes: Vec<Note>,
    /// (host, message) -> (count, first time).
    note_counts: BTreeMap<(u32, String), (u64, SimTime)>,
    packets: Vec<Pkt>,
    counts: Vec<(SimTime, NodeId, [u64; 11])>,
    tables: Vec<(SimTime, NodeId, Vec<NetstatRow>)>,
    /// Connections opened actively (CLOSED -> SYN_SENT), per host.
    connects: BTreeMap<u32, u64>,
    /// TIME_WAIT per host: (held now, most held at once, entered).
    tw: BTreeMap<u32, (u64, u64, u64)>,
}

impl Log {
    fn detailed() -> Log {
        Log {
            detail: true,
            ..Log::default()
        }
    }

    fn trs_of(&self, host: NodeId) -> Vec<&Tr> {
        self.trs.iter().filter(|t| t.host == host).collect()
    }

    fn notes_of(&self, host: NodeId) -> Vec<&Note> {
        self.notes.iter().filter(|n| n.host == host).collect()
    }

    fn note_count(&self, host: NodeId, text: &str) -> (u64, Option<SimTime>) {
        self.note_counts
            .get(&(host.0, text.to_string()))
            .map_or((0, None), |(n, first)| (*n, Some(*first)))
    }

    fn tw_peak(&self, host: NodeId) -> u64 {
        self.tw.get(&host.0).map_or(0, |t| t.1)
    }

    fn tw_entered(&self, host: NodeId) -> u64 {
        self.tw.get(&host.0).map_or(0, |t| t.2)
    }

    fn table(&self, time: SimTime, host: NodeId) -> &[NetstatRow] {
        self.tables
            .iter()
            .find(|(t, h, _)| *t == time && *h == host)
            .map(|(_, _, rows)| rows.as_slice())
            .unwrap_or_else(|| panic!("no netstat table for node {} at {time}", host.0))
    }
}

impl Observer for Log {
    fn tcp(&mut self, _net: &Network, time: SimTime, node: NodeId, log: &TcpLog) {
        match log {
            TcpLog::State(t) => {
                if t.from == State::Closed && t.to == State::SynSent {
                    *self.connects.entry(node.0).or_default() += 1;
                }
                let tw = self.tw.entry(node.0).or_default();
                if t.to == State::TimeWait {
                    tw.0 += 1;
                    tw.1 = tw.1.max(tw.0);
                    tw.2 += 1;
                }
                if t.from == State::TimeWait {
                    tw.0 -= 1;
                }
                if self.detail {
                    self.trs.push(Tr {
                        time,
                        host: node,
                        conn: t.conn,
                        tuple: t.tuple,
                        from: t.from,
                        to: t.to,
                        cause: t.cause,
                    });
                }
            }
            TcpLog::Closed(r) if self.detail => self.records.push((node, *r)),
            _ => {}
        }
    }

    fn app(&mut self, _net: &Network, time: SimTime, node: NodeId, app: u32, message: &str) {
        self.note_counts
            .entry((node.0, message.to_string()))
            .or_insert((0, time))
            .0 += 1;
        if self.detail {
            self.notes.push(Note {
                time,
                host: node,
                app,
                text: message.to_string(),
            });
        }
    }

    fn packet(&mut self, _net: &Network, ev: &PacketEvent<'_>) {
        if !self.detail {
            return;
        }
        let p = ev.packet;
        if let Body::Tcp(seg) = &p.body {
            self.packets.push(Pkt {
                time: ev.time,
                kind: ev.kind,
                node: ev.node,
                src: SocketAddrV4::new(p.src, seg.src_port),
                dst: SocketAddrV4::new(p.dst, seg.dst_port),
                flags: seg.flags,
                len: seg.payload.len(),
            });
        }
    }

    fn counts(&mut self, _net: &Network, time: SimTime, node: NodeId, counts: &[u64; 11]) {
        self.counts.push((time, node, *counts));
    }

    fn netstat(&mut self, _net: &Network, time: SimTime, node: NodeId, rows: &[NetstatRow]) {
        self.tables.push((time, node, rows.to_vec()));
    }
}

fn run(config: &WorldConfig, until: SimTime, log: &mut Log) -> World {
    let mut world = World::new(config).expect("world");
    world.run(until, log);
    world
}

fn run_detailed(config: &WorldConfig, until: SimTime) -> Log {
    let mut log = Log::detailed();
    let mut world = run(config, until, &mut log);
    world.finish(&mut log);
    log
}

/// The one transition of `trs` matching `from -> to` (panics unless exactly one).
fn only<'a>(trs: &[&'a Tr], from: State, to: State) -> &'a Tr {
    let found: Vec<&&Tr> = trs
        .iter()
        .filter(|t| t.from == from && t.to == to)
        .collect();
    assert_eq!(found.len(), 1, "{from} -> {to} in {trs:#?}");
    found[0]
}

fn is_syn_ack(f: Flags) -> bool {
    f.syn() && f.ack()
}

// ----- 1. CLOSE_WAIT behind a slow handler -----

struct SlowHandler {
    config: WorldConfig,
    log: Log,
    client: NodeId,
    server: NodeId,
    spec: HttpClientSpec,
    handler_delay: Duration,
    max_time: Duration,
    rtt: Duration,
}

fn slow_handler() -> SlowHandler {
    let sc = load("close_wait_slow_handler");
    let config = sc.config.clone();
    let (_, spec) = clients_on(&config, "client")[0];
    let spec = spec.clone();
    let handler = server_on(&config, "server")
        .handlers
        .iter()
        .find(|h| h.path == spec.path)
        .expect("a handler for the client's path")
        .clone();
    let max_time = spec.max_time.expect("curl -m");
    let fin_timeout = tcp_of(&config, "client").fin_timeout;
    let rtt = rtt_bound(&config, &["client", "server"]);
    // The story needs: curl gives up before the handler answers, and the orphaned FIN_WAIT_2
    // times out before the late response arrives.
    assert!(max_time < handler.delay);
    assert!(max_time + fin_timeout + rtt * 2 < handler.delay);
    // Run until the late response has met its RST.
    let until = at(spec.start + handler.delay + rtt * 4).max(at(sc.duration));
    let log = run_detailed(&config, until);
    SlowHandler {
        client: node(&config, "client"),
        server: node(&config, "server"),
        handler_delay: handler.delay,
        max_time,
        rtt,
        spec,
        log,
        config,
    }
}

#[test]
fn slow_handler_server_close_wait_lasts_handler_delay_minus_max_time() {
    let s = slow_handler();
    let server = s.log.trs_of(s.server);
    let entered = only(&server, State::Established, State::CloseWait);
    assert_eq!(entered.cause, "FIN received");
    let left = only(&server, State::CloseWait, State::LastAck);
    assert_eq!(
        left.cause, "close",
        "the handler's return closes the socket"
    );
    let held = left.time - entered.time;
    // curl closes max_time after it starts; the handler closes `delay` after the request
    // arrived, which is a handshake and a half after curl started, while the FIN took half a
    // round trip: the difference is one round trip at most.
    let expected = s.handler_delay.saturating_sub(s.max_time);
    assert!(
        held >= expected && held.saturating_sub(expected) <= s.rtt,
        "CLOSE_WAIT held {held}, expected {expected} within one RTT ({})",
        s.rtt
    );
}

#[test]
fn slow_handler_client_fin_wait_2_ends_fin_timeout_after_entering_fin_wait_2() {
    let s = slow_handler();
    let fin_timeout = tcp_of(&s.config, "client").fin_timeout;
    let client = s.log.trs_of(s.client);
    let close = only(&client, State::Established, State::FinWait1);
    assert_eq!(close.cause, "close");
    assert_eq!(close.time, at(s.spec.start + s.max_time), "curl -m closes");
    let fw2 = only(&client, State::FinWait1, State::FinWait2);
    let end = only(&client, State::FinWait2, State::Closed);
    assert_eq!(end.cause, "FIN_WAIT_2 timeout");
    // The code arms tcp_fin_timeout when the orphan enters FIN_WAIT_2 (the ACK of its FIN),
    // as Linux does (tcp_rcv_state_process, TCP_FIN_WAIT1 case: tcp_time_wait(sk,
    // TCP_FIN_WAIT2, tmo) for a dead socket), not at close(): so it ends exactly fin_timeout
    // after FIN_WAIT_2 began, and fin_timeout plus the FIN's round trip after close().
    assert_eq!(end.time, fw2.time + fin_timeout);
    // The server's ACK of the FIN is delayed (its ACK would ride on its own FIN).
    let since_close = end.time - close.time;
    let ack_delay = common::fin_ack_delay(tcp_of(&s.config, "server"));
    assert!(
        since_close >= fin_timeout + ack_delay
            && since_close.saturating_sub(fin_timeout + ack_delay) <= s.rtt,
        "FIN_WAIT_2 ended {since_close} after close, fin_timeout {fin_timeout}"
    );
}

#[test]
fn slow_handler_curl_reports_operation_timed_out_after_max_time() {
    let s = slow_handler();
    let expected = format!(
        "curl: (28) Operation timed out after {} milliseconds with 0 bytes received",
        s.max_time.as_millis()
    );
    let notes = s.log.notes_of(s.client);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(notes[0].text, expected);
    assert_eq!(notes[0].time, at(s.spec.start + s.max_time));
}

#[test]
fn slow_handler_late_response_is_answered_with_rst() {
    let s = slow_handler();
    let client_addr = s.config.nodes[s.client.0 as usize].addrs[0];
    let handler_done = at(s.spec.start + s.handler_delay);
    // The client's socket is gone (FIN_WAIT_2 timed out) before the response comes.
    let gone = only(&s.log.trs_of(s.client), State::FinWait2, State::Closed).time;
    assert!(gone < handler_done);
    // The response reaches the client after the handler's delay ...
    let response = s
        .log
        .packets
        .iter()
        .find(|p| p.kind == PacketEventKind::Deliver && p.node == s.client && p.len > 0)
        .expect("the response reaches the client");
    assert!(response.time >= handler_done && response.time <= handler_done + s.rtt * 2);
    // ... and the client host answers with RST, and sends no RST before.
    let rsts: Vec<&Pkt> = s
        .log
        .packets
        .iter()
        .filter(|p| p.kind == PacketEventKind::Send && *p.src.ip() == client_addr)
        .filter(|p| p.flags.rst())
        .collect();
    assert!(!rsts.is_empty(), "the client sent no RST");
    assert!(rsts.iter().all(|p| p.time >= response.time));
    assert_eq!(rsts[0].time, response.time, "RST answers the late response");
    // The server's connection dies of it.
    let server = s.log.trs_of(s.server);
    let end = only(&server, State::LastAck, State::Closed);
    assert_eq!(end.cause, "RST received");
    let (_, record) = s
        .log
        .records
        .iter()
        .find(|(h, r)| *h == s.server && r.conn == end.conn)
        .expect("the server connection's record");
    assert_eq!(record.error, Some(ConnError::Reset));
}

// ----- 2. CLOSE_WAIT inside the accept queue -----

struct AcceptQueue {
    config: WorldConfig,
    log: Log,
    server: NodeId,
    client: NodeId,
    backlog: u64,
    burst: HttpClientSpec,
    late: (u32, HttpClientSpec),
    /// A netstat instant after every burst client's max_time expired and its FIN arrived.
    after_max_time: SimTime,
}

fn accept_queue() -> AcceptQueue {
    let sc = load("close_wait_accept_queue");
    let mut config = sc.config.clone();
    let server_spec = server_on(&config, "server");
    assert_eq!(server_spec.accept_delay, AcceptDelay::Never);
    let backlog = server_spec.backlog as u64;
    let clients = clients_on(&config, "client");
    let burst = clients
        .iter()
        .find(|(_, c)| c.requests > 1)
        .map(|(_, c)| (*c).clone())
        .expect("the burst of requests");
    let late = clients
        .iter()
        .find(|(_, c)| c.requests == 1)
        .map(|(i, c)| (*i, (*c).clone()))
        .expect("the later client");
    // More clients than the queue holds, and every SYN of the burst arrives before the first
    // handshake completes (a round trip after the first SYN), so none meets a full queue.
    assert!(burst.requests > backlog + 1);
    let min_rtt = link(&config, "client", "server").delay * 2;
    assert!(burst.interval * (burst.requests - 1) < min_rtt);
    let rtt = rtt_bound(&config, &["client", "server"]);
    let max_time = burst.max_time.expect("curl -m");
    let last_start = burst.start + burst.interval * (burst.requests - 1);
    let after_max_time = at(last_start + max_time + rtt * 2);
    assert!(after_max_time < at(late.1.start));
    config.observe.netstat_at.push(after_max_time.since_start());
    let log = run_detailed(&config, at(sc.duration));
    AcceptQueue {
        server: node(&config, "server"),
        client: node(&config, "client"),
        backlog,
        burst,
        late,
        after_max_time,
        log,
        config,
    }
}

#[test]
fn accept_queue_backlog_plus_one_handshakes_complete_and_sit_in_close_wait() {
    let a = accept_queue();
    let b1 = a.backlog + 1;
    let server = a.log.trs_of(a.server);
    let established: Vec<&&Tr> = server
        .iter()
        .filter(|t| t.from == State::SynReceived && t.to == State::Established)
        .collect();
    assert_eq!(established.len() as u64, b1, "backlog {} + 1", a.backlog);
    // Their clients closed (curl -m): each moved to CLOSE_WAIT, still in the accept queue.
    let close_wait: BTreeSet<ConnId> = server
        .iter()
        .filter(|t| t.from == State::Established && t.to == State::CloseWait)
        .map(|t| t.conn)
        .collect();
    let est: BTreeSet<ConnId> = established.iter().map(|t| t.conn).collect();
    assert_eq!(close_wait, est);

    let request = curl_request_len(&a.burst);
    // What the clients put on the wire agrees with curl's request.
    let sent: BTreeSet<usize> = a
        .log
        .packets
        .iter()
        .filter(|p| p.kind == PacketEventKind::Send && p.node == a.client && p.len > 0)
        .map(|p| p.len)
        .collect();
    assert_eq!(sent, BTreeSet::from([request as usize]));

    let rows = a.log.table(a.after_max_time, a.server);
    let listen: Vec<&NetstatRow> = rows.iter().filter(|r| r.state == State::Listen).collect();
    assert_eq!(listen.len(), 1);
    assert_eq!(listen[0].recv_q, b1, "LISTEN's Recv-Q is the accept queue");
    let cw: Vec<&NetstatRow> = rows
        .iter()
        .filter(|r| r.state == State::CloseWait)
        .collect();
    assert_eq!(cw.len() as u64, b1, "{rows:#?}");
    for r in cw {
        assert_eq!(r.recv_q, request + 1, "the unread request and FIN: {r:?}");
        assert_eq!(r.send_q, 0);
    }
}

#[test]
fn accept_queue_overflow_ignores_final_ack_and_retransmits_syn_ack_at_1_3_7_s() {
    let a = accept_queue();
    let tcp = tcp_of(&a.config, "server");
    let server = a.log.trs_of(a.server);
    let opened: Vec<&&Tr> = server
        .iter()
        .filter(|t| t.from == State::Closed && t.to == State::SynReceived)
        .collect();
    let established: BTreeSet<ConnId> = server
        .iter()
        .filter(|t| t.to == State::Established)
        .map(|t| t.conn)
        .collect();
    let stuck: Vec<&&&Tr> = opened
        .iter()
        .filter(|t| !established.contains(&t.conn))
        .collect();
    assert_eq!(
        stuck.len() as u64,
        a.burst.requests - (a.backlog + 1),
        "the early clients beyond the queue"
    );
    // Retransmission k (1-based) goes rto_initial * (2^k - 1) after the first SYN-ACK: 1, 3, 7,
    // 15, 31 s with Linux's 1 s initial RTO doubling, synack_retries times.
    let expected: Vec<Duration> = (1..=tcp.synack_retries)
        .map(|k| tcp.rto_initial * ((1u64 << k) - 1))
        .collect();
    for t in stuck {
        let peer = t.tuple.remote;
        let synacks: Vec<SimTime> = a
            .log
            .packets
            .iter()
            .filter(|p| p.kind == PacketEventKind::Send && p.node == a.server && p.dst == peer)
            .filter(|p| is_syn_ack(p.flags))
            .map(|p| p.time)
            .collect();
        assert!(!synacks.is_empty());
        let first = synacks[0];
        let offsets: Vec<Duration> = synacks[1..].iter().map(|s| *s - first).collect();
        assert_eq!(offsets, expected, "SYN-ACKs to {peer}");
        // The client's final ACK (and its request) did reach the server and were ignored.
        let acks = a
            .log
            .packets
            .iter()
            .filter(|p| p.kind == PacketEventKind::Deliver && p.node == a.server)
            .filter(|p| p.src == peer && p.flags.ack() && !p.flags.syn() && !p.flags.rst())
            .filter(|p| p.time < first + expected[0])
            .count();
        assert!(acks >= 1, "no final ACK from {peer} reached the server");
        // Half-open to the end of its retries: closed rto_initial * (2^(n+1) - 1) after the SYN.
        let end = server
            .iter()
            .find(|x| x.conn == t.conn && x.to == State::Closed)
            .expect("the half-open connection ends");
        assert_eq!(end.from, State::SynReceived);
        assert_eq!(end.cause, "SYN-ACK retries exhausted");
        assert_eq!(
            end.time,
            t.time + tcp.rto_initial * ((1u64 << (tcp.synack_retries + 1)) - 1)
        );
    }
}

#[test]
fn accept_queue_later_client_connect_times_out() {
    let a = accept_queue();
    let (app, late) = &a.late;
    let timeout = match (late.connect_timeout, late.max_time) {
        (Some(c), Some(m)) => c.min(m),
        (c, m) => c.or(m).expect("a timeout"),
    };
    let notes: Vec<&Note> = a
        .log
        .notes
        .iter()
        .filter(|n| n.host == a.client && n.app == *app)
        .collect();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(notes[0].text, "curl: (28) connect() timed out!");
    assert_eq!(notes[0].time, at(late.start + timeout));
    // Its SYNs reached the full listener and were dropped: no SYN-ACK ever came back.
    let conn = a
        .log
        .trs_of(a.client)
        .into_iter()
        .find(|t| t.to == State::SynSent && t.time == at(late.start))
        .expect("the later connect");
    let local = conn.tuple.local;
    let syns = a
        .log
        .packets
        .iter()
        .filter(|p| p.kind == PacketEventKind::Deliver && p.node == a.server && p.src == local)
        .count();
    assert!(syns >= 1);
    assert!(
        !a.log
            .packets
            .iter()
            .any(|p| p.dst == local && is_syn_ack(p.flags)),
        "the server answered the later SYN"
    );
    assert!(
        !a.log
            .packets
            .iter()
            .any(|p| p.kind == PacketEventKind::Deliver
                && p.dst == local
                && p.time <= at(late.start + timeout)),
        "something reached the later client while it waited"
    );
}

// ----- 3. simultaneous close -----

#[test]
fn simultaneous_close_both_pass_closing_and_hold_time_wait() {
    let sc = load("simultaneous_close");
    let config = &sc.config;
    let log = run_detailed(config, at(sc.duration));
    for name in ["alice", "bob"] {
        let h = node(config, name);
        let trs = log.trs_of(h);
        let path: Vec<State> = trs
            .iter()
            .skip_while(|t| t.to != State::Established)
            .map(|t| t.to)
            .collect();
        assert_eq!(
            path,
            [
                State::Established,
                State::FinWait1,
                State::Closing,
                State::TimeWait,
                State::Closed
            ],
            "{name}"
        );
        let time_wait = tcp_of(config, name).time_wait;
        let began = only(&trs, State::Closing, State::TimeWait);
        let ended = only(&trs, State::TimeWait, State::Closed);
        assert_eq!(ended.cause, "2MSL expired", "{name}");
        assert_eq!(ended.time - began.time, time_wait, "{name}");
    }
}

// ----- 4. TIME_WAIT pile-up and port exhaustion -----

#[test]
fn pileup_time_wait_settles_at_rate_times_time_wait_ports_run_out_above_limit_not_with_reuse() {
    let sc = load("time_wait_pileup");
    let config = &sc.config;
    let until = at(sc.duration);
    let mut log = Log::default();
    run(config, until, &mut log);

    // When a churn client's attempts start and how many start by `until`.
    let attempts = |spec: &HttpClientSpec| -> (u64, SimTime) {
        let n = (0..spec.requests)
            .take_while(|k| at(spec.start + spec.interval * *k) <= until)
            .count() as u64;
        (n, at(spec.start + spec.interval * (n - 1)))
    };
    let rate = |spec: &HttpClientSpec| 1e9 / spec.interval.as_nanos() as f64;
    let refused = |spec: &HttpClientSpec| {
        format!(
            "curl: (7) Failed to connect to {} port {}: Cannot assign requested address",
            spec.server.ip(),
            spec.server.port()
        )
    };

    // Below the limit: TIME_WAIT settles at R x TIME_WAIT.
    let (_, c300) = clients_on(config, "client_300")[0];
    let tcp = tcp_of(config, "client_300");
    let limit = tcp.port_count() as f64 / tcp.time_wait.as_secs_f64();
    assert!(rate(c300) < limit);
    let h300 = node(config, "client_300");
    let settled = rate(c300) * tcp.time_wait.as_secs_f64();
    let tw_at = State::ALL
        .iter()
        .position(|s| *s == State::TimeWait)
        .unwrap();
    // Once the first TIME_WAITs (entered a round trip after the first request) have expired.
    let from = at(c300.start + tcp.time_wait + Duration::from_secs(1));
    let samples: Vec<(SimTime, u64)> = log
        .counts
        .iter()
        .filter(|(t, h, _)| *h == h300 && *t >= from)
        .map(|(t, _, c)| (*t, c[tw_at]))
        .collect();
    assert!(samples.len() >= 10, "{} samples", samples.len());
    for (t, n) in &samples {
        assert!(
            (*n as f64 - settled).abs() <= settled * 0.01,
            "client_300 held {n} TIME_WAIT at {t}, expected {settled} within 1%"
        );
    }
    assert_eq!(log.note_count(h300, &refused(c300)).0, 0);

    // Above the limit: each local port can carry one connection per TIME_WAIT period (it is
    // held, live and then in TIME_WAIT, for the connection's few milliseconds plus TIME_WAIT),
    // so over attempts spanning `span` it carries ceil(span / time_wait) connections, every
    // port being used up in each period when R exceeds ports / TIME_WAIT and the last period
    // lasts at least ports / R. Every other attempt finds no port. (`span` runs from the first
    // attempt to the last, (requests - 1) x interval: the "duration", less the hair
    // that would make an exact multiple of TIME_WAIT count a period with no attempt in it.)
    let (_, c600) = clients_on(config, "client_600")[0];
    let tcp = tcp_of(config, "client_600");
    let h600 = node(config, "client_600");
    let ports = tcp.port_count() as u64;
    assert!(rate(c600) > ports as f64 / tcp.time_wait.as_secs_f64());
    let (tried, last) = attempts(c600);
    let span = last - at(c600.start);
    let periods = span.as_nanos().div_ceil(tcp.time_wait.as_nanos());
    let last_period = span.saturating_sub(tcp.time_wait * (periods - 1));
    assert!(
        last_period >= c600.interval * ports,
        "the run must be long enough for the ports to run out in its last period"
    );
    let successes = ports * periods;
    let (failed, first_failure) = log.note_count(h600, &refused(c600));
    assert_eq!(failed, tried - successes, "{tried} attempts");
    assert_eq!(log.connects.get(&h600.0).copied(), Some(successes));
    // The first failure is the attempt after the last free port went: ports / R seconds in.
    assert_eq!(first_failure, Some(at(c600.start + c600.interval * ports)));
    assert_eq!(log.tw_peak(h600), ports);

    // With tcp_tw_reuse (and timestamps) connect() takes over TIME_WAIT ports: no failure.
    let (_, reuse) = clients_on(config, "client_reuse")[0];
    let tcp = tcp_of(config, "client_reuse");
    assert!(tcp.tw_reuse && tcp.timestamps);
    assert!(rate(reuse) > tcp.port_count() as f64 / tcp.time_wait.as_secs_f64());
    let hr = node(config, "client_reuse");
    let (tried, _) = attempts(reuse);
    assert_eq!(log.note_count(hr, &refused(reuse)).0, 0);
    assert_eq!(log.connects.get(&hr.0).copied(), Some(tried));
}

// ----- 5. whoever closes first holds TIME_WAIT -----

#[test]
fn server_active_close_time_wait_piles_up_on_whoever_closes_first() {
    let sc = load("server_active_close");
    let config = &sc.config;
    let mut log = Log::default();
    run(config, at(sc.duration), &mut log);
    let mut checked = 0;
    for a in &config.apps {
        let AppSpec::HttpClient(c) = &a.spec else {
            continue;
        };
        let client = a.host;
        let server = host_of_addr(config, *c.server.ip());
        let (cn, sn) = (name_of(config, client), name_of(config, server));
        let spec = server_on(config, sn);
        let rate = 1e9 / c.interval.as_nanos() as f64;
        // The active closer holds TIME_WAIT; the other end none.
        let (closer, other) = if spec.close_after_response {
            (server, client)
        } else {
            (client, server)
        };
        let closer_name = name_of(config, closer);
        let time_wait = tcp_of(config, closer_name).time_wait;
        assert!(
            sc.duration > time_wait,
            "the run must outlast one TIME_WAIT"
        );
        let expected = rate * time_wait.as_secs_f64();
        let peak = log.tw_peak(closer) as f64;
        assert!(
            (peak - expected).abs() <= expected * 0.01,
            "{closer_name} (client {cn}, server {sn}) peaked at {peak} TIME_WAIT, expected {expected}"
        );
        assert_eq!(
            log.tw_entered(other),
            0,
            "{} holds TIME_WAIT though it closes second",
            name_of(config, other)
        );
        checked += 1;
    }
    assert_eq!(checked, 2);
}

// ----- 6. TIME_WAIT assassination -----

#[test]
fn assassination_rst_ends_time_wait_early_unless_rfc1337() {
    let sc = load("time_wait_assassination");
    let config = &sc.config;
    let log = run_detailed(config, at(sc.duration));
    let dup_delay = |client: NodeId| -> Duration {
        config
            .faults
            .iter()
            .filter(|f| config.links[f.link.0 as usize].ends.contains(&client))
            .find_map(|f| match f.action {
                FaultAction::Duplicate(d) => Some(d),
                _ => None,
            })
            .expect("a duplicating fault on the client's link")
    };
    for name in ["client_plain", "client_f1"] {
        let h = node(config, name);
        let tcp = tcp_of(config, name);
        let delay = dup_delay(h);
        let rtt = rtt_bound(config, &[name, "R", "server"]);
        let trs = log.trs_of(h);
        let began = trs
            .iter()
            .find(|t| t.to == State::TimeWait)
            .expect("the client closes first");
        let ended = only(&trs, State::TimeWait, State::Closed);
        // The response, and its copy `delay` later.
        let data: Vec<&Pkt> = log
            .packets
            .iter()
            .filter(|p| p.kind == PacketEventKind::Deliver && p.node == h && p.len > 0)
            .collect();
        assert_eq!(data.len(), 2, "{name}: the response and its old duplicate");
        let response = data[0].time;
        let duplicate = data[1].time;
        assert_eq!(duplicate, response + delay);
        assert!(began.time < duplicate, "the copy reaches TIME_WAIT");
        if !tcp.rfc1337 {
            // TIME_WAIT ACKs the copy, the server (closed) answers RST, and the RST kills it:
            // `delay` after the response, plus the ACK's and RST's round trip.
            assert_eq!(ended.cause, "RST received", "{name}");
            let after = ended.time - (response + delay);
            assert!(after <= rtt, "{name}: ended {after} after the duplicate");
            assert!(
                (ended.time - began.time) * 10 < tcp.time_wait,
                "{name}: TIME_WAIT should be cut short"
            );
        } else {
            assert_eq!(ended.cause, "2MSL expired", "{name}");
            // The 2MSL timer runs from the last segment that restarted it. The copy is an
            // out-of-window segment with ACK, which Linux's tcp_timewait_state_process answers
            // with an ACK *and* re-arms TIME_WAIT for (inet_twsk_reschedule when th->ack), and
            // so does the model: TIME_WAIT ends time_wait after the copy arrived, i.e. longer
            // than time_wait after it began (RFC 9293 §3.10.7.4 would restart it only for a
            // retransmitted FIN, ending exactly time_wait after it began).
            assert_eq!(ended.time, duplicate + tcp.time_wait, "{name}");
            assert!(ended.time - began.time >= tcp.time_wait, "{name}");
        }
    }
    assert!(!tcp_of(config, "client_plain").rfc1337);
    assert!(tcp_of(config, "client_f1").rfc1337);
}

// ----- 7. netstat -----

/// The sockets a stack holds, listed from its tables: listeners, full sockets, TIME_WAIT.
fn model_rows(stack: &Stack, now: SimTime) -> Vec<NetstatRow> {
    let listeners = stack.listeners().map(|(_, l)| NetstatRow {
        recv_q: l.accept_queue.len() as u64,
        send_q: 0,
        local: l.local,
        foreign: None,
        state: State::Listen,
        backlog: l.backlog,
        timer: None,
    });
    let sockets = stack.sockets().map(|s| {
        let (recv_q, send_q) = s.netstat_queues();
        NetstatRow {
            recv_q,
            send_q,
            local: s.tuple.local,
            foreign: Some(s.tuple.remote),
            state: s.state,
            backlog: 0,
            timer: s.shown_timer(now),
        }
    });
    let tw = stack.time_wait().iter().map(|(tw, expires)| NetstatRow {
        recv_q: 0,
        send_q: 0,
        local: tw.tuple.local,
        foreign: Some(tw.tuple.remote),
        state: State::TimeWait,
        backlog: 0,
        timer: Some(SocketTimer {
            kind: TimerKind::TimeWait,
            remaining: expires - now,
            retrans: 0,
        }),
    });
    sorted(listeners.chain(sockets).chain(tw).collect())
}

type RowKey = (State, SocketAddrV4, Option<SocketAddrV4>, u64, u64);

fn sorted(rows: Vec<NetstatRow>) -> Vec<NetstatRow> {
    let mut rows = rows;
    rows.sort_by_key(|r| -> RowKey { (r.state, r.local, r.foreign, r.recv_q, r.send_q) });
    rows
}

/// Connections on `host` at the end of `log`, replayed from its transitions alone.
fn replayed(log: &Log, host: NodeId) -> BTreeSet<(SocketAddrV4, SocketAddrV4, State)> {
    let mut live: BTreeMap<ConnId, (FourTuple, State)> = BTreeMap::new();
    for t in log.trs.iter().filter(|t| t.host == host) {
        if t.to == State::Closed {
            live.remove(&t.conn);
        } else {
            live.insert(t.conn, (t.tuple, t.to));
        }
    }
    live.values()
        .map(|(tuple, s)| (tuple.local, tuple.remote, *s))
        .collect()
}

/// Checks one host's `netstat` at this instant against the model's tables, its state counts,
/// and the transitions the observer saw.
fn check_snapshot(world: &World, log: &Log, host: NodeId, what: &str) -> Vec<NetstatRow> {
    let stack = world.stack(host).expect("a host");
    let rows = stack.netstat(world.now());
    assert!(rows.iter().all(|r| r.state != State::Closed), "{what}");
    assert_eq!(
        sorted(rows.clone()),
        model_rows(stack, world.now()),
        "{what}"
    );
    let counts = stack.state_counts();
    for (i, s) in State::ALL.iter().enumerate() {
        let n = rows.iter().filter(|r| r.state == *s).count() as u64;
        assert_eq!(counts[i], n, "{what}: {s} rows vs state_counts");
    }
    assert_eq!(counts.iter().sum::<u64>(), rows.len() as u64, "{what}");
    let listed: BTreeSet<(SocketAddrV4, SocketAddrV4, State)> = rows
        .iter()
        .filter_map(|r| r.foreign.map(|f| (r.local, f, r.state)))
        .collect();
    assert_eq!(
        listed.len(),
        rows.iter().filter(|r| r.foreign.is_some()).count(),
        "{what}: one row per 4-tuple"
    );
    assert_eq!(listed, replayed(log, host), "{what}: rows vs transitions");
    // A listener's Recv-Q counts its established children no application has accepted yet.
    for (lid, l) in stack.listeners() {
        let waiting = stack
            .sockets()
            .filter(|s| s.parent == Some(lid) && s.established_or_later())
            .count() as u64;
        let row = rows
            .iter()
            .find(|r| r.state == State::Listen && r.local == l.local)
            .expect("a LISTEN row per listener");
        assert_eq!(row.recv_q, waiting, "{what}: LISTEN {}", l.local);
    }
    rows
}

#[test]
fn netstat_rows_are_the_sockets_the_model_holds() {
    let sc = load("close_wait_accept_queue");
    let config = sc.config.clone();
    let server = node(&config, "server");
    let client = node(&config, "client");
    let backlog = server_on(&config, "server").backlog as u64;
    let clients = clients_on(&config, "client");
    let burst = clients.iter().find(|(_, c)| c.requests > 1).unwrap().1;
    let late = clients.iter().find(|(_, c)| c.requests == 1).unwrap().1;
    let request = curl_request_len(burst);
    let rtt = rtt_bound(&config, &["client", "server"]);
    let max_time = burst.max_time.unwrap();
    let last_start = burst.start + burst.interval * (burst.requests - 1);
    // Mid-way through curl's wait (requests unread), after its close, during the later connect.
    let instants = [
        at(last_start + rtt * 4),
        at(last_start + max_time + rtt * 2 + common::fin_ack_delay(tcp_of(&config, "server"))),
        at(late.start + rtt),
    ];
    let mut log = Log::detailed();
    let mut world = World::new(&config).unwrap();
    for (i, t) in instants.iter().enumerate() {
        world.run(*t, &mut log);
        let what = format!("accept queue at {t}");
        let srows = check_snapshot(&world, &log, server, &format!("{what}, server"));
        let crows = check_snapshot(&world, &log, client, &format!("{what}, client"));
        // LISTEN's Recv-Q: the handshakes completed into the queue.
        let listen = srows.iter().find(|r| r.state == State::Listen).unwrap();
        assert_eq!(listen.recv_q, backlog + 1, "{what}");
        // The queued connections hold the whole request unread.
        let queued: Vec<&NetstatRow> = srows
            .iter()
            .filter(|r| matches!(r.state, State::Established | State::CloseWait))
            .collect();
        assert_eq!(queued.len() as u64, backlog + 1, "{what}");
        // (Linux counts a received FIN too: CLOSE_WAIT's Recv-Q is the request + 1.)
        assert!(
            queued
                .iter()
                .all(|r| r.recv_q == request + u64::from(r.state == State::CloseWait)),
            "{what}"
        );
        // The overflowed ones: nothing received; their clients' requests are unacknowledged
        // (plus 1 for the FIN once curl has closed: Send-Q counts sequence space, as in Linux).
        for r in srows.iter().filter(|r| r.state == State::SynReceived) {
            assert_eq!((r.recv_q, r.send_q), (0, 0), "{what}");
            let peer = crows
                .iter()
                .find(|c| Some(c.local) == r.foreign)
                .expect("the client side of a half-open connection");
            let fin = u64::from(peer.state == State::FinWait1);
            assert_eq!(peer.send_q, request + fin, "{what}: {peer:?}");
        }
        if i == 0 {
            assert!(srows.iter().any(|r| r.state == State::Established));
        }
        if i >= 1 {
            assert!(srows.iter().any(|r| r.state == State::CloseWait));
            assert!(crows.iter().any(|r| r.state == State::FinWait2));
        }
        if i == 2 {
            assert!(crows.iter().any(|r| r.state == State::SynSent));
        }
    }

    // TIME_WAIT rows come from the TIME_WAIT table.
    let sc = load("time_wait_assassination");
    let config = sc.config.clone();
    let (_, spec) = clients_on(&config, "client_plain")[0];
    let mut log = Log::detailed();
    let mut world = World::new(&config).unwrap();
    let t = at(spec.start + Duration::from_secs(1));
    world.run(t, &mut log);
    let h = node(&config, "client_plain");
    let rows = check_snapshot(&world, &log, h, "assassination, client_plain");
    assert_eq!(
        rows.iter()
            .map(|r| (r.state, r.recv_q, r.send_q))
            .collect::<Vec<_>>(),
        [(State::TimeWait, 0, 0)]
    );
    check_snapshot(
        &world,
        &log,
        node(&config, "server"),
        "assassination, server",
    );

    // And the snapshots the world reports at `netstat_at` are the same tables.
    let sc = load("close_wait_accept_queue");
    let mut log = Log::detailed();
    let mut world = World::new(&sc.config).unwrap();
    for d in &sc.config.observe.netstat_at {
        world.run(at(*d), &mut log);
        for h in [server, client] {
            let stack = world.stack(h).unwrap();
            assert_eq!(
                log.table(at(*d), h),
                stack.netstat(at(*d)).as_slice(),
                "at {d}"
            );
        }
    }
}

/// Linux's Send-Q (`/proc/net/tcp` tx_queue = write_seq - snd_una) counts sequence space, so an
/// unacknowledged SYN or FIN counts 1: `netstat -tan` shows SYN_SENT, FIN_WAIT1, CLOSING and
/// LAST_ACK sockets with Send-Q 1 (plus any unacknowledged data).
fn linux_send_q(stack: &Stack, row: &NetstatRow) -> u64 {
    let Some(foreign) = row.foreign else {
        return 0;
    };
    let Some(s) = stack
        .sockets()
        .find(|s| s.tuple.local == row.local && s.tuple.remote == foreign)
    else {
        return 0; // TIME_WAIT
    };
    let syn = u64::from(s.state == State::SynSent);
    let fin = u64::from(matches!(
        s.state,
        State::FinWait1 | State::Closing | State::LastAck
    ));
    s.send_queue() as u64 + syn + fin
}

#[test]
fn netstat_send_q_counts_an_unacked_syn_or_fin_like_linux() {
    let mut wrong = Vec::new();
    let mut seen = BTreeSet::new();
    for name in [
        "close_wait_accept_queue",
        "simultaneous_close",
        "close_wait_slow_handler",
    ] {
        let sc = load(name);
        let config = &sc.config;
        // The scenario's own netstat instants, and just after each connect (SYN outstanding).
        let mut times: Vec<Duration> = config.observe.netstat_at.clone();
        for a in &config.apps {
            match &a.spec {
                AppSpec::HttpClient(c) => times.push(c.start + Duration::from_micros(1)),
                AppSpec::Sender(s) => times.push(s.start + Duration::from_micros(1)),
                _ => {}
            }
        }
        times.sort();
        times.dedup();
        let mut log = Log::default();
        let mut world = World::new(config).unwrap();
        for t in times {
            world.run(at(t), &mut log);
            for (i, n) in config.nodes.iter().enumerate() {
                let Some(stack) = world.stack(NodeId(i as u32)) else {
                    continue;
                };
                for r in stack.netstat(at(t)) {
                    seen.insert(r.state);
                    let linux = linux_send_q(stack, &r);
                    if r.send_q != linux {
                        wrong.push(format!(
                            "{name} at {t} on {}: {} {} -> {:?} Send-Q {} (Linux {linux})",
                            n.name,
                            r.state.netstat(),
                            r.local,
                            r.foreign,
                            r.send_q
                        ));
                    }
                }
            }
        }
    }
    for s in [
        State::SynSent,
        State::FinWait1,
        State::Closing,
        State::SynReceived,
    ] {
        assert!(seen.contains(&s), "no {s} socket was looked at");
    }
    assert!(
        wrong.is_empty(),
        "Send-Q leaves out the unacknowledged SYN/FIN:\n{}",
        wrong.join("\n")
    );
}

/// Linux's Recv-Q (`/proc/net/tcp` rx_queue = rcv_nxt - copied_seq) counts sequence space too:
/// the peer's FIN moves rcv_nxt on by one and only a read that reaches end-of-stream moves
/// copied_seq past it, so a CLOSE_WAIT socket nobody has read shows its unread bytes + 1 (the
/// familiar `tcp 1 0 ... CLOSE_WAIT` lines). The accept queue's connections were never
/// accepted, so nothing has read them: their Recv-Q in Linux is the request + 1.
#[test]
fn netstat_recv_q_of_an_unread_close_wait_counts_the_fin_like_linux() {
    let a = accept_queue();
    let request = curl_request_len(&a.burst);
    let rows = a.log.table(a.after_max_time, a.server);
    let cw: Vec<&NetstatRow> = rows
        .iter()
        .filter(|r| r.state == State::CloseWait)
        .collect();
    assert_eq!(cw.len() as u64, a.backlog + 1);
    let wrong: Vec<String> = cw
        .iter()
        .filter(|r| r.recv_q != request + 1)
        .map(|r| {
            format!(
                "CLOSE_WAIT {} -> {:?} Recv-Q {} (Linux {})",
                r.local,
                r.foreign,
                r.recv_q,
                request + 1
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "Recv-Q leaves out the unread FIN:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn netstat_table_has_linux_column_layout() {
    let header = "Proto Recv-Q Send-Q Local Address           Foreign Address         State";
    assert_eq!(NETSTAT_HEADER, header);
    let mut tables = Vec::new();
    // Real snapshots holding LISTEN, SYN_RECV, CLOSE_WAIT, FIN_WAIT1/2 (accept queue, after
    // curl gave up) and TIME_WAIT (assassination, during TIME_WAIT).
    let sc = load("close_wait_accept_queue");
    for (t, h, rows) in run_detailed(&sc.config, at(sc.duration)).tables {
        tables.push((t, name_of(&sc.config, h).to_string(), rows));
    }
    let sc = load("time_wait_assassination");
    let mut config = sc.config.clone();
    let (_, spec) = clients_on(&config, "client_plain")[0];
    config
        .observe
        .netstat_at
        .push(spec.start + Duration::from_secs(1));
    for (t, h, rows) in run_detailed(&config, at(sc.duration)).tables {
        tables.push((t, name_of(&config, h).to_string(), rows));
    }

    let col = |title: &str| header.find(title).unwrap();
    let mut states = BTreeSet::new();
    for (t, host, rows) in &tables {
        let text = format_table(*t, host, rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("at {t}  host {host}"));
        assert_eq!(lines[1], header);
        assert_eq!(lines.len(), rows.len() + 2);
        for (line, r) in lines[2..].iter().zip(rows) {
            // net-tools: "%-4s  %6ld %6ld %-23s %-23s %-11s" (Recv-Q and Send-Q right-aligned
            // under their titles, addresses in 23-character columns).
            assert_eq!(&line[..col("Recv-Q")], "tcp   ", "{line}");
            let recv_end = col("Recv-Q") + "Recv-Q".len();
            let send_end = col("Send-Q") + "Send-Q".len();
            assert_eq!(
                line[..recv_end].trim_start_matches("tcp").trim(),
                r.recv_q.to_string()
            );
            assert_eq!(
                line[recv_end..send_end].trim(),
                r.send_q.to_string(),
                "{line}"
            );
            let local = &line[col("Local Address")..col("Foreign Address")];
            assert_eq!(local.trim_end(), r.local.to_string(), "{line}");
            let foreign = &line[col("Foreign Address")..col("State")];
            let want = r.foreign.map_or("0.0.0.0:*".to_string(), |f| f.to_string());
            assert_eq!(foreign.trim_end(), want, "{line}");
            let state = &line[col("State")..];
            assert_eq!(state.trim_end(), linux_netstat_name(r.state), "{line}");
            states.insert(state.trim_end().to_string());
        }
    }
    for s in [
        "LISTEN",
        "SYN_RECV",
        "FIN_WAIT1",
        "FIN_WAIT2",
        "CLOSE_WAIT",
        "TIME_WAIT",
    ] {
        assert!(states.contains(s), "no {s} row in {states:?}");
    }
}
