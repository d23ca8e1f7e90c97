//! A two-host TCP harness: two `Stack`s joined by one wire with a fixed one-way delay, driven
//! by an event queue, recording every segment, log line and application event. The wire is
//! link 0 of the scenario model and each host sends from its own side (side = host index), so
//! losses are stated as the scenario model's own [`Fault`]s.

use std::net::{Ipv4Addr, SocketAddrV4};

use timewait::net::{Body, Fault, FaultAction, LinkId, NodeId, Packet, Port, Provenance};
use timewait::sim::{Duration, EventQueue, SimTime, component_rng};
use timewait::tcp::{
    ConnId, ConnRecord, ConnectError, Corruption, Flags, FourTuple, Output, Payload, Segment,
    SeqNum, Socket, SocketEvent, SocketHandle, Stack, State, Tag, TcpConfig, TcpLog, TimerPreset,
    Wakeup, Wakeups,
};

/// Host indices: the client is 10.0.0.1, the server 10.0.0.2.
pub const C: usize = 0;
pub const S: usize = 1;
pub const ADDR: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)];
/// The server's listening port and the client port used when a test needs a fixed one.
pub const PORT: u16 = 80;
pub const CPORT: u16 = 40000;
/// Owner ids of the two "applications" (the test code itself).
pub const APP: [u32; 2] = [1, 2];
pub const SEED: u64 = 9293;
/// The default one-way delay.
pub const D: Duration = Duration::from_millis(10);

pub use super::ms;

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn t(d: Duration) -> SimTime {
    SimTime::ZERO + d
}

/// `d` before `at`.
pub fn before(at: SimTime, d: Duration) -> SimTime {
    SimTime::from_nanos(at.as_nanos() - d.as_nanos())
}

pub fn server_addr() -> SocketAddrV4 {
    SocketAddrV4::new(ADDR[S], PORT)
}

/// Recognisable bytes for stream offsets `range`.
pub fn pattern(range: std::ops::Range<usize>) -> Vec<u8> {
    range.map(|i| (i % 251) as u8).collect()
}

pub fn is_syn(s: &Segment) -> bool {
    s.flags == Flags::SYN
}

pub fn is_syn_ack(s: &Segment) -> bool {
    s.flags == Flags::SYN | Flags::ACK
}

pub fn is_pure_ack(s: &Segment) -> bool {
    s.flags == Flags::ACK && s.payload.is_empty()
}

pub fn is_data(s: &Segment) -> bool {
    !s.payload.is_empty()
}

pub fn is_fin(s: &Segment) -> bool {
    s.flags.fin()
}

pub fn is_rst(s: &Segment) -> bool {
    s.flags.rst()
}

/// What the harness's event queue holds.
pub enum Ev {
    /// A segment reaches host `to`.
    Deliver { to: usize, seg: Segment },
    /// A host's timer is due (see [`Net::timers`]).
    Wake { host: usize, w: Wakeup },
}

/// What [`Net::timers`] is asked to do.
pub enum Timers<'a> {
    /// Take in the deadlines and released sockets of one call into a stack.
    Arm(&'a mut Output),
    /// A wakeup is due now: hand it to the stack.
    Fire(Wakeup),
}

/// One segment put on the wire.
#[derive(Clone, Debug)]
pub struct Sent {
    pub at: SimTime,
    pub from: usize,
    pub seg: Segment,
    pub dropped: bool,
}

/// Only segments this predicate accepts are offered to the fault: the escape hatch for a
/// loss that the scenario model's `flags`/`len` filter cannot state (e.g. "any data segment").
pub type Only = Box<dyn Fn(&Segment) -> bool>;

/// The harness's wire in the scenario model's terms.
pub const WIRE: LinkId = LinkId(0);

/// A fault on the wire for every segment `from` sends: `action` on all of them, at any time.
/// Narrow it with struct update syntax (`Fault { flags: .., len: .., skip: .., count: .., ..f }`).
pub fn fault(action: FaultAction, from: usize) -> Fault {
    Fault {
        action,
        link: WIRE,
        side: Some(from as u8),
        after: SimTime::ZERO,
        until: SimTime::MAX,
        flags: None,
        len: None,
        skip: 0,
        count: u32::MAX,
    }
}

/// Drops every segment `from` sends.
pub fn drop_from(from: usize) -> Fault {
    fault(FaultAction::Drop, from)
}

pub struct Net {
    pub stacks: [Stack; 2],
    pub delay: Duration,
    pub queue: EventQueue<Ev>,
    /// Per host: the pending TCP wakeups.
    pub wakeups: [Wakeups; 2],
    pub now: SimTime,
    pub sent: Vec<Sent>,
    pub log: Vec<(SimTime, usize, TcpLog)>,
    pub events: Vec<(SimTime, usize, SocketHandle, SocketEvent)>,
    /// The wire's faults, tried in order; the first that takes a segment acts on it (as the
    /// world does). Each may carry an [`Only`] predicate.
    pub faults: Vec<(Fault, Option<Only>)>,
    pub listener: Option<u32>,
    packets: u64,
}

impl Net {
    pub fn new(client: TcpConfig, server: TcpConfig, delay: Duration) -> Net {
        Net {
            stacks: [
                Stack::new(0, ADDR[C], client, component_rng(SEED, "host:client/tcp")),
                Stack::new(1, ADDR[S], server, component_rng(SEED, "host:server/tcp")),
            ],
            delay,
            queue: EventQueue::new(),
            wakeups: Default::default(),
            now: SimTime::ZERO,
            sent: Vec::new(),
            log: Vec::new(),
            events: Vec::new(),
            faults: Vec::new(),
            listener: None,
            packets: 0,
        }
    }

    /// Both hosts with the same configuration, joined by the default delay.
    pub fn pair(cfg: &TcpConfig) -> Net {
        Net::new(cfg.clone(), cfg.clone(), D)
    }

    /// Runs `f` on a host's stack now and takes in what it produced.
    pub fn call<R>(
        &mut self,
        host: usize,
        f: impl FnOnce(&mut Stack, SimTime, &mut Output) -> R,
    ) -> R {
        let mut out = Output::default();
        let r = f(&mut self.stacks[host], self.now, &mut out);
        self.absorb(host, out);
        r
    }

    /// The harness's one place that knows how the stacks' timers work: keeps each host's
    /// wakeups on the harness's queue as the world does, and hands a due one to its stack.
    pub fn timers(&mut self, host: usize, t: Timers) {
        match t {
            Timers::Arm(out) => {
                let now = self.now;
                for (w, at) in &out.wakeups {
                    assert!(
                        *at >= now,
                        "host {host}: wakeup {w:?} at {at}, before now {now}"
                    );
                }
                self.wakeups[host].schedule(out, &mut self.queue, |w| Ev::Wake { host, w });
            }
            Timers::Fire(w) => {
                self.wakeups[host].fired(w);
                self.call(host, |s, now, out| s.wakeup(now, w, out))
            }
        }
    }

    pub fn absorb(&mut self, host: usize, mut out: Output) {
        let now = self.now;
        self.timers(host, Timers::Arm(&mut out));
        for o in out.segments {
            assert_eq!(*o.tuple.local.ip(), ADDR[host]);
            assert_eq!(*o.tuple.remote.ip(), ADDR[1 - host]);
            assert_eq!(
                (o.segment.src_port, o.segment.dst_port),
                (o.tuple.local.port(), o.tuple.remote.port())
            );
            let action = self.fault_for(host, &o.segment);
            let arrive = now + self.delay;
            match action {
                Some(FaultAction::Drop) => {}
                Some(FaultAction::Delay(d)) => self.deliver(1 - host, arrive + d, &o.segment),
                Some(FaultAction::Duplicate(d)) => {
                    self.deliver(1 - host, arrive, &o.segment);
                    self.deliver(1 - host, arrive + d, &o.segment);
                }
                None => self.deliver(1 - host, arrive, &o.segment),
            }
            self.sent.push(Sent {
                at: now,
                from: host,
                seg: *o.segment,
                dropped: action == Some(FaultAction::Drop),
            });
        }
        for (_, h, ev) in out.events {
            self.events.push((now, host, h, ev));
        }
        for l in out.log {
            self.log.push((now, host, l));
        }
    }

    fn deliver(&mut self, to: usize, at: SimTime, seg: &Segment) {
        let seg = seg.clone();
        self.queue.schedule(at, Ev::Deliver { to, seg });
    }

    /// What the first fault that takes a segment `from` sends does to it, if one does.
    fn fault_for(&mut self, from: usize, seg: &Segment) -> Option<FaultAction> {
        if self.faults.is_empty() {
            return None;
        }
        self.packets += 1;
        let packet = Packet {
            src: ADDR[from],
            dst: ADDR[1 - from],
            ttl: 64,
            ip_id: self.packets as u16,
            body: Body::Tcp(Box::new(seg.clone())),
            ttl_clock: self.now,
            meta: Provenance {
                id: self.packets,
                sent_at: self.now,
                sender: NodeId(from as u32),
                copy_of: None,
                hops: 0,
            },
        };
        let port = Port {
            link: WIRE,
            side: from as u8,
        };
        let now = self.now;
        self.faults.iter_mut().find_map(|(f, only)| {
            (only.as_ref().is_none_or(|p| p(seg)) && f.take(port, now, &packet)).then_some(f.action)
        })
    }

    /// Adds a fault on the wire (after those already there).
    pub fn fault(&mut self, f: Fault) {
        self.faults.push((f, None));
    }

    /// Adds a fault that only sees segments `only` accepts: for losses the model's
    /// `flags`/`len` filter cannot state.
    pub fn fault_where(&mut self, f: Fault, only: impl Fn(&Segment) -> bool + 'static) {
        self.faults.push((f, Some(Box::new(only))));
    }

    /// Drops the data segments `from` sends numbered in `lost` (from 0, ascending) on their
    /// first transmission.
    pub fn lose_data(&mut self, from: usize, lost: &[usize]) {
        let mut previous = 0;
        for &n in lost {
            self.fault_where(
                Fault {
                    skip: (n - previous) as u32,
                    count: 1,
                    ..drop_from(from)
                },
                is_data,
            );
            previous = n + 1;
        }
    }

    /// Hands a hand-made segment to host `to` at `at`, as if it came from the other host.
    pub fn inject(&mut self, to: usize, at: SimTime, seg: Segment) {
        assert!(at >= self.now);
        self.queue.schedule(at, Ev::Deliver { to, seg });
    }

    /// Injects `seg` into `to` 1 ms from now and returns what `to` sent at that instant.
    pub fn poke(&mut self, to: usize, seg: Segment) -> Vec<Segment> {
        let at = self.now + ms(1);
        self.inject(to, at, seg);
        self.run_until(at);
        self.sent_at(to, at)
    }

    /// Runs every event up to and including `until`.
    pub fn run_until(&mut self, until: SimTime) {
        assert!(until >= self.now, "time runs forwards");
        while let Some(next) = self.queue.peek_time()
            && next <= until
        {
            let (at, ev) = self.queue.pop().expect("peeked");
            self.now = at;
            match ev {
                Ev::Deliver { to, seg } => {
                    let (src, dst) = (ADDR[1 - to], ADDR[to]);
                    self.call(to, |s, now, out| s.segment_in(now, src, dst, &seg, out));
                }
                Ev::Wake { host, w } => self.timers(host, Timers::Fire(w)),
            }
        }
        self.now = until;
    }

    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    // ----- the applications' calls -----

    pub fn listen(&mut self, backlog: u32) -> u32 {
        let lid = self.stacks[S]
            .listen(server_addr(), backlog, APP[S])
            .expect("listen");
        self.listener = Some(lid);
        lid
    }

    pub fn connect_from(
        &mut self,
        host: usize,
        port: Option<u16>,
        remote: SocketAddrV4,
    ) -> Result<SocketHandle, ConnectError> {
        self.call(host, |s, now, out| {
            s.connect(now, port, remote, APP[host], out)
        })
    }

    /// The client connects to the server's listening port.
    pub fn connect(&mut self, port: Option<u16>) -> Result<SocketHandle, ConnectError> {
        self.connect_from(C, port, server_addr())
    }

    pub fn accept(&mut self) -> Option<SocketHandle> {
        let lid = self.listener?;
        self.stacks[S].accept(lid, APP[S])
    }

    pub fn send(&mut self, host: usize, h: SocketHandle, data: &[u8]) -> usize {
        let data = Payload::from(data);
        self.call(host, |s, now, out| s.send(now, h, &data, out))
    }

    pub fn recv(&mut self, host: usize, h: SocketHandle) -> Vec<u8> {
        self.recv_max(host, h, usize::MAX)
    }

    /// Sends 16 segments of 100 bytes from C to S, one per 100 ms, each read at once: the
    /// receiver's quick-ACK segments (Linux `tcp_incr_quickack`, at most 16) are used up, so
    /// in-order data from here on waits for the delayed-ACK timer. The stream is then at byte
    /// 1600.
    pub fn use_up_quick_acks(&mut self, c: SocketHandle, s: SocketHandle) {
        for i in 0..16 {
            self.send(C, c, &pattern(i * 100..(i + 1) * 100));
            self.run_for(ms(100));
            self.recv(S, s);
        }
    }

    pub fn recv_max(&mut self, host: usize, h: SocketHandle, max: usize) -> Vec<u8> {
        self.call(host, |s, now, out| s.recv(now, h, max, out).to_vec())
    }

    pub fn close(&mut self, host: usize, h: SocketHandle) {
        self.call(host, |s, now, out| s.close(now, h, out));
    }

    pub fn shutdown(&mut self, host: usize, h: SocketHandle) {
        self.call(host, |s, now, out| s.shutdown(now, h, out));
    }

    pub fn sock(&self, host: usize, h: SocketHandle) -> &Socket {
        self.stacks[host].socket(h).expect("a live socket")
    }

    /// Listens if nobody does yet, connects, runs three one-way delays (the handshake) and
    /// accepts: (client socket, server socket), both ESTABLISHED.
    pub fn open(&mut self, port: Option<u16>) -> (SocketHandle, SocketHandle) {
        if self.listener.is_none() {
            self.listen(128);
        }
        let ch = self.connect(port).expect("connect");
        self.run_for(self.delay * 3);
        let sh = self.accept().expect("the handshake completed");
        assert_eq!(self.sock(C, ch).state, State::Established);
        assert_eq!(self.sock(S, sh).state, State::Established);
        (ch, sh)
    }

    // ----- what was recorded -----

    /// Segments `host` sent at exactly `at` (dropped ones included).
    pub fn sent_at(&self, host: usize, at: SimTime) -> Vec<Segment> {
        self.sent
            .iter()
            .filter(|s| s.from == host && s.at == at)
            .map(|s| s.seg.clone())
            .collect()
    }

    /// Every segment `host` sent that `pred` matches, with its time (dropped ones included).
    pub fn sent_by(&self, host: usize, pred: impl Fn(&Segment) -> bool) -> Vec<(SimTime, Segment)> {
        self.sent
            .iter()
            .filter(|s| s.from == host && pred(&s.seg))
            .map(|s| (s.at, s.seg.clone()))
            .collect()
    }

    /// Like [`Net::sent_by`], from `since` on.
    pub fn sent_since(
        &self,
        host: usize,
        since: SimTime,
        pred: impl Fn(&Segment) -> bool,
    ) -> Vec<(SimTime, Segment)> {
        let mut v = self.sent_by(host, pred);
        v.retain(|s| s.0 >= since);
        v
    }

    /// State changes of incarnation `conn` on `host`: (time, from, to, cause).
    pub fn transitions(
        &self,
        host: usize,
        conn: ConnId,
    ) -> Vec<(SimTime, State, State, &'static str)> {
        self.log
            .iter()
            .filter_map(|(at, h, l)| match l {
                TcpLog::State(tr) if *h == host && tr.conn == conn => {
                    Some((*at, tr.from, tr.to, tr.cause))
                }
                _ => None,
            })
            .collect()
    }

    /// When `conn` on `host` first entered `state`.
    pub fn entered(&self, host: usize, conn: ConnId, state: State) -> Option<SimTime> {
        self.transitions(host, conn)
            .into_iter()
            .find(|tr| tr.2 == state)
            .map(|tr| tr.0)
    }

    /// When and why TIME_WAIT of `conn` on `host` ended.
    pub fn time_wait_end(&self, host: usize, conn: ConnId) -> Option<(SimTime, &'static str)> {
        self.transitions(host, conn)
            .into_iter()
            .find(|tr| tr.1 == State::TimeWait)
            .map(|tr| (tr.0, tr.3))
    }

    /// Events the application of socket `h` on `host` received (a listener's `Incoming`
    /// names the listener id, not a socket, so it is left out).
    pub fn events_of(&self, host: usize, h: SocketHandle) -> Vec<(SimTime, SocketEvent)> {
        self.events
            .iter()
            .filter(|e| e.1 == host && e.2 == h && e.3 != SocketEvent::Incoming)
            .map(|e| (e.0, e.3))
            .collect()
    }

    /// The record logged when `conn` on `host` was released.
    pub fn record(&self, host: usize, conn: ConnId) -> ConnRecord {
        self.log
            .iter()
            .find_map(|(_, h, l)| match l {
                TcpLog::Closed(r) if *h == host && r.conn == conn => Some(*r),
                _ => None,
            })
            .expect("the connection was released")
    }

    pub fn corruptions(&self) -> Vec<Corruption> {
        self.log
            .iter()
            .filter_map(|(_, _, l)| match l {
                TcpLog::Corruption(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    pub fn time_wait_expiry(&self, host: usize, tuple: &FourTuple) -> Option<SimTime> {
        self.stacks[host].time_wait().get(tuple).map(|(_, e)| e)
    }
}

/// A segment as `sock`'s peer would send it: ports swapped, acknowledging everything `sock`
/// sent, and tagged with the peer incarnation and the stream offset of `seq`.
pub fn forge(sock: &Socket, seq: SeqNum, flags: Flags, payload: Vec<u8>) -> Segment {
    let irs = sock.irs().expect("a synchronized socket");
    Segment {
        src_port: sock.tuple.remote.port(),
        dst_port: sock.tuple.local.port(),
        seq,
        ack: if flags.ack() {
            sock.snd_nxt()
        } else {
            SeqNum(0)
        },
        flags,
        window: 65_535,
        payload: payload.into(),
        tag: Tag {
            conn: sock.peer_conn().expect("peer known"),
            offset: seq.since(irs + 1) as u64,
            ..Tag::default()
        },
        ..Segment::default()
    }
}

/// Data from the peer of `sock` carrying stream offsets `range` (pattern bytes).
pub fn forge_data(sock: &Socket, range: std::ops::Range<usize>) -> Segment {
    let seq = sock.irs().expect("synchronized") + 1 + range.start as u32;
    forge(sock, seq, Flags::ACK | Flags::PSH, pattern(range))
}

/// RFC 9293 §3.10.7.4: the only answer to an unacceptable segment is
/// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`.
pub fn assert_only_ack(reply: &[Segment], snd_nxt: SeqNum, rcv_nxt: SeqNum) {
    assert_eq!(reply.len(), 1, "exactly one segment in reply: {reply:?}");
    let a = &reply[0];
    assert_eq!(
        (a.flags, a.seq, a.ack, a.payload.len()),
        (Flags::ACK, snd_nxt, rcv_nxt, 0),
        "{a:?}"
    );
}

/// The single element of `v`.
pub fn only<T: std::fmt::Debug>(v: Vec<T>) -> T {
    assert_eq!(v.len(), 1, "{v:?}");
    v.into_iter().next().expect("one")
}

pub fn times(v: &[(SimTime, Segment)]) -> Vec<SimTime> {
    v.iter().map(|s| s.0).collect()
}

/// Send times of a segment sent at `start` and retransmitted `retries` times, the RTO
/// doubling from `initial` up to `max` (RFC 6298 §5.5), and when the last timeout fires.
pub fn backoff_schedule(
    start: SimTime,
    initial: Duration,
    max: Duration,
    retries: u32,
) -> (Vec<SimTime>, SimTime) {
    let mut sends = Vec::new();
    let (mut at, mut rto) = (start, initial);
    for _ in 0..=retries {
        sends.push(at);
        at += rto;
        rto = (rto * 2).min(max);
    }
    (sends, at)
}

/// The RTO after the first RTT sample R. RFC 6298 §2.2: SRTT = R and RTTVAR = R/2, so RTO =
/// R + max(G, 4 RTTVAR) = 3R, within the configured bounds. Linux `tcp_rtt_estimator` and
/// `tcp_set_rto`: SRTT = R, rttvar = max(2R, rto_min), RTO = their sum in whole jiffies
/// (rounded up), at most rto_max.
pub fn rto_after_first_sample(cfg: &TcpConfig, r: Duration) -> Duration {
    match cfg.timers {
        TimerPreset::Rfc6298 => (r * 3).max(cfg.rto_min).min(cfg.rto_max),
        TimerPreset::Linux => {
            let us =
                r.as_nanos() / 1000 + (2 * r.as_nanos() / 1000).max(cfg.rto_min.as_nanos() / 1000);
            let jiffy_us = 1_000_000 / u64::from(cfg.hz);
            Duration::from_micros(us.div_ceil(jiffy_us) * jiffy_us).min(cfg.rto_max)
        }
    }
}
