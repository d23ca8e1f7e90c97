//! A host's TCP: sockets demultiplexed by 4-tuple, listeners with SYN and accept queues,
//! ephemeral ports, and the TIME_WAIT table. Like the socket, it only returns what to do.

use std::collections::VecDeque;
use std::hash::Hasher;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;

use rand::Rng;
use rustc_hash::FxHashMap;
use siphasher::sip::SipHasher24;

use super::config::{SynInTimeWait, TcpConfig};
use super::isn::IsnGenerator;
use super::payload::Payload;
use super::segment::{ConnId, Segment, Tag};
use super::seq::SeqNum;
use super::socket::{Queues, Socket};
use super::state::{
    FourTuple, ListenDropKind, NetstatRow, Output, SocketEvent, SocketTimer, State, TcpLog,
    TimerKind, Transition,
};
use super::time_wait::{ReopenIss, TimeWait, TimeWaitTable, TwVerdict};
use super::wakeup::Wakeup;
use crate::sim::{Duration, SimRng, SimTime};

/// A socket handle: slab index in the low 32 bits, generation in the high 32.
pub type SocketHandle = u64;

/// The cause of TIME_WAIT -> CLOSED when `time_wait` is zero: no record is kept.
pub const TW_SKIPPED_ZERO: &str = "time_wait = 0s";
/// The cause of TIME_WAIT -> CLOSED when the TIME_WAIT table is full: no record is kept.
pub const TW_SKIPPED_FULL: &str = "TIME_WAIT table full";

/// Why connect() failed at once.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConnectError {
    /// EADDRINUSE: a live connection already has this 4-tuple.
    AddrInUse,
    /// EADDRNOTAVAIL: no usable local port (all in use or held in TIME_WAIT).
    AddrNotAvailable,
}

impl ConnectError {
    /// The errno's C name.
    pub fn errno(self) -> &'static str {
        match self {
            ConnectError::AddrInUse => "EADDRINUSE",
            ConnectError::AddrNotAvailable => "EADDRNOTAVAIL",
        }
    }

    /// The C library's message.
    pub fn message(self) -> &'static str {
        match self {
            ConnectError::AddrInUse => "Address already in use",
            ConnectError::AddrNotAvailable => "Cannot assign requested address",
        }
    }
}

/// A listening socket.
#[derive(Clone, Debug)]
pub struct Listener {
    /// Address and port (address may be 0.0.0.0).
    pub local: SocketAddrV4,
    /// listen()'s backlog: the accept queue holds backlog + 1 (Linux tests `>`).
    pub backlog: u32,
    /// The application that accepts.
    pub owner: u32,
    /// Established connections not yet accepted.
    pub accept_queue: VecDeque<SocketHandle>,
    /// Handshakes in progress (SYN_RCVD children).
    pub syn_queue: u32,
    /// Those of them whose SYN-ACK has not timed out yet (Linux `young`).
    pub young: u32,
    /// Final ACKs ignored or reset because the accept queue was full.
    pub overflows: u64,
    /// SYNs dropped because a queue was full.
    pub syn_drops: u64,
}

impl Listener {
    fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() as u32 > self.backlog
    }

    /// A handshake left the SYN queue (completed or dropped).
    fn leave_syn_queue(&mut self, timed_out: bool) {
        self.syn_queue = self.syn_queue.saturating_sub(1);
        if !timed_out {
            self.young = self.young.saturating_sub(1);
        }
    }

    /// Linux `reqsk_timer_handler`: while the SYN queue holds more than half of max(8,
    /// backlog), keep room for young requests by lowering the SYN-ACK retries of old ones,
    /// one step for each doubling by which the queue outnumbers twice the young, down to 2.
    fn synack_retries(&self, retries: u32) -> u32 {
        let qlen = u64::from(self.syn_queue);
        let mut retries = retries;
        if qlen << 1 > u64::from(self.backlog.max(8)) {
            let mut young = u64::from(self.young) << 1;
            while retries > 2 && qlen >= young {
                retries -= 1;
                young <<= 1;
            }
        }
        retries
    }
}

struct Slot {
    generation: u32,
    socket: Option<Socket>,
    /// The earliest deadline reported for this socket since its wakeup last fired: the host's
    /// wakeup is no later, so a deadline no earlier needs no report (most calls move the
    /// retransmission timer later).
    reported: Option<SimTime>,
}

/// A host's TCP.
pub struct Stack {
    host: u32,
    addr: Ipv4Addr,
    config: Rc<TcpConfig>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    conns: FxHashMap<FourTuple, SocketHandle>,
    listeners: Vec<Option<Listener>>,
    listening: FxHashMap<SocketAddrV4, u32>,
    time_wait: TimeWaitTable,
    isn: IsnGenerator,
    secret: (u64, u64),
    next_conn: u32,
    /// 4-tuples in use (live or TIME_WAIT) per (local address, remote endpoint).
    occupancy: FxHashMap<(Ipv4Addr, SocketAddrV4), u32>,
    /// Where the next ephemeral port search starts, per (local address, remote endpoint).
    port_hint: FxHashMap<(Ipv4Addr, SocketAddrV4), u32>,
    /// [`Stack::ts_offset`] per remote address, hashed once: at most one entry per address
    /// in the topology.
    ts_offsets: FxHashMap<Ipv4Addr, u32>,
    /// Closed sockets' queues, for the next sockets opened (at most [`SPARE_QUEUES`]).
    spare_queues: Vec<Queues>,
}

/// Closed sockets' queues a stack keeps for reuse.
const SPARE_QUEUES: usize = 16;

fn handle(index: u32, generation: u32) -> SocketHandle {
    (generation as u64) << 32 | index as u64
}

pub(super) fn index(h: SocketHandle) -> usize {
    (h & 0xffff_ffff) as usize
}

impl Stack {
    /// The TCP of host number `host` with address `addr`; `rng` seeds its ISN secret, clock
    /// offsets and port choice.
    pub fn new(host: u32, addr: Ipv4Addr, config: TcpConfig, mut rng: SimRng) -> Stack {
        let secret = (rng.next_u64(), rng.next_u64());
        let isn = IsnGenerator::new(config.isn, rng);
        Stack {
            host,
            addr,
            config: Rc::new(config),
            slots: Vec::new(),
            free: Vec::new(),
            conns: FxHashMap::default(),
            listeners: Vec::new(),
            listening: FxHashMap::default(),
            time_wait: TimeWaitTable::default(),
            isn,
            secret,
            next_conn: 0,
            occupancy: FxHashMap::default(),
            port_hint: FxHashMap::default(),
            ts_offsets: FxHashMap::default(),
            spare_queues: Vec::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &TcpConfig {
        &self.config
    }

    /// The host's address.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// A socket, if the handle is still live.
    pub fn socket(&self, h: SocketHandle) -> Option<&Socket> {
        let slot = self.slots.get(index(h))?;
        if handle(index(h) as u32, slot.generation) != h {
            return None;
        }
        slot.socket.as_ref()
    }

    fn socket_mut(&mut self, h: SocketHandle) -> Option<&mut Socket> {
        let slot = self.slots.get_mut(index(h))?;
        if handle(index(h) as u32, slot.generation) != h {
            return None;
        }
        slot.socket.as_mut()
    }

    /// Every live socket, in slab order.
    pub fn sockets(&self) -> impl Iterator<Item = &Socket> {
        self.slots.iter().filter_map(|s| s.socket.as_ref())
    }

    /// Every listener.
    pub fn listeners(&self) -> impl Iterator<Item = (u32, &Listener)> {
        self.listeners
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.as_ref().map(|l| (i as u32, l)))
    }

    /// A listener by id.
    pub fn listener(&self, id: u32) -> Option<&Listener> {
        self.listeners.get(id as usize)?.as_ref()
    }

    /// The TIME_WAIT table.
    pub fn time_wait(&self) -> &TimeWaitTable {
        &self.time_wait
    }

    fn new_conn(&mut self) -> ConnId {
        self.next_conn += 1;
        ConnId {
            host: self.host,
            n: self.next_conn,
        }
    }

    /// Our timestamp clock offset towards `remote`: one per host pair (as Linux since 4.13), so
    /// the clock keeps rising across incarnations.
    fn ts_offset(&mut self, remote: Ipv4Addr) -> u32 {
        *self.ts_offsets.entry(remote).or_insert_with(|| {
            let mut h = SipHasher24::new_with_keys(self.secret.0, self.secret.1);
            h.write(&self.addr.octets());
            h.write(&remote.octets());
            h.finish() as u32
        })
    }

    fn occupy(&mut self, t: &FourTuple) {
        *self.occupancy.entry((*t.local.ip(), t.remote)).or_default() += 1;
    }

    fn vacate(&mut self, t: &FourTuple) {
        let key = (*t.local.ip(), t.remote);
        if let Some(n) = self.occupancy.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.occupancy.remove(&key);
            }
        }
    }

    fn insert(&mut self, mut socket: Socket) -> SocketHandle {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    socket: None,
                    reported: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[i as usize];
        let h = handle(i, slot.generation);
        socket.handle = h;
        self.occupy(&socket.tuple);
        self.conns.insert(socket.tuple, h);
        let slot = &mut self.slots[i as usize];
        slot.socket = Some(socket);
        slot.reported = None;
        h
    }

    /// After any call on socket `h`: release it if it closed, turn it into a TIME_WAIT record,
    /// or report its next deadline (the host keeps the one wakeup that serves it).
    fn settle(&mut self, h: SocketHandle, now: SimTime, out: &mut Output) {
        let i = index(h);
        let Some(state) = self.socket(h).map(|s| s.state) else {
            return;
        };
        match state {
            State::Closed | State::TimeWait => {
                // Read where it lies, then dropped there: a socket is too big to move out.
                let Some(s) = self.slots[i].socket.as_ref() else {
                    return;
                };
                let (tuple, conn, parent) = (s.tuple, s.conn, s.parent);
                let (established, syn_ack_timed_out) =
                    (s.established_or_later(), s.syn_ack_timed_out());
                // Decided first, so a socket that skips TIME_WAIT is recorded as ending CLOSED.
                let skip = (state == State::TimeWait)
                    .then(|| self.time_wait_skip(s, out))
                    .flatten();
                let mut record = s.record(now);
                let time_wait =
                    (state == State::TimeWait && skip.is_none()).then(|| self.time_wait_of(s, now));
                let slot = &mut self.slots[i];
                if self.spare_queues.len() < SPARE_QUEUES
                    && let Some(s) = slot.socket.as_mut()
                {
                    self.spare_queues.push(s.take_queues());
                }
                slot.socket = None;
                slot.generation = slot.generation.wrapping_add(1);
                self.free.push(i as u32);
                self.conns.remove(&tuple);
                if let Some(p) = parent
                    && let Some(Some(l)) = self.listeners.get_mut(p as usize)
                {
                    if established {
                        l.accept_queue.retain(|c| *c != h);
                    } else {
                        l.leave_syn_queue(syn_ack_timed_out);
                    }
                }
                if skip.is_some() {
                    record.final_state = State::Closed;
                }
                out.log.push(TcpLog::Closed(record));
                out.released.push(h);
                match (time_wait, skip) {
                    (Some(tw), _) => {
                        self.time_wait.insert(tw, now + self.config.time_wait);
                        self.arm_time_wait(out);
                    }
                    (None, Some(cause)) => {
                        self.vacate(&tuple);
                        log_tw_end(conn, tuple, cause, Duration::ZERO, out);
                    }
                    (None, None) => self.vacate(&tuple),
                }
            }
            _ => {
                let slot = &mut self.slots[i];
                let s = slot.socket.as_ref().expect("live socket");
                s.debug_check();
                if let Some(d) = s.deadline()
                    && slot.reported.is_none_or(|r| d < r)
                {
                    debug_assert!(
                        d >= now,
                        "{:?} asks to be woken at {d}, before {now}",
                        s.conn
                    );
                    slot.reported = Some(d);
                    out.wakeups.push((Wakeup::Socket(h), d));
                }
            }
        }
    }

    /// Why a socket closing into TIME_WAIT skips it (`time_wait = 0s`, or the table full, which
    /// Linux reports as "time wait bucket table overflow"), if it does.
    fn time_wait_skip(&self, s: &Socket, out: &mut Output) -> Option<&'static str> {
        if self.config.time_wait.is_zero() {
            Some(TW_SKIPPED_ZERO)
        } else if self.time_wait.len() as u32 >= self.config.max_tw_buckets {
            out.log.push(TcpLog::TimeWaitOverflow(s.conn, s.tuple));
            Some(TW_SKIPPED_FULL)
        } else {
            None
        }
    }

    /// The TIME_WAIT record that `s`, closing, leaves behind.
    fn time_wait_of(&self, s: &Socket, now: SimTime) -> TimeWait {
        let (ts_recent, ts_recent_at) = s.ts_recent().unwrap_or((0, now));
        TimeWait {
            tuple: s.tuple,
            conn: s.conn,
            snd_nxt: s.snd_nxt(),
            rcv_nxt: s.rcv_nxt(),
            rcv_wnd: s.advertised_window(),
            ts_recent,
            ts_offset: s.ts_offset(),
            ts_on: s.ts_recent().is_some(),
            ts_recent_at,
            since: now,
        }
    }

    /// Reports the TIME_WAIT table's next expiry.
    fn arm_time_wait(&self, out: &mut Output) {
        if let Some(t) = self.time_wait.next_expiry() {
            out.wakeups.push((Wakeup::TimeWait, t));
        }
    }

    fn end_time_wait(
        &mut self,
        now: SimTime,
        tuple: &FourTuple,
        cause: &'static str,
        out: &mut Output,
    ) {
        if let Some(tw) = self.time_wait.remove(tuple) {
            self.vacate(tuple);
            log_tw_end(tw.conn, tw.tuple, cause, now - tw.since, out);
        }
    }

    /// A wakeup reported earlier has come due (or is late): runs every timer due at `now`
    /// and reports the next deadline. A wakeup with nothing due only reports it.
    pub fn wakeup(&mut self, now: SimTime, w: Wakeup, out: &mut Output) {
        match w {
            Wakeup::Socket(h) => {
                let Some(s) = self.socket(h) else {
                    return;
                };
                // A half-open connection: its listener counts it young until its first
                // timeout and, when pruning, decides how many SYN-ACKs it may send.
                let parent = s.parent.filter(|_| s.state == State::SynReceived);
                let young = !s.syn_ack_timed_out();
                let limit = parent
                    .and_then(|p| self.listeners.get(p as usize)?.as_ref())
                    .filter(|_| self.config.syn_queue_pruning)
                    .map(|l| l.synack_retries(self.config.synack_retries));
                // The host's wakeup for it has fired: its next deadline must be reported.
                self.slots[index(h)].reported = None;
                let Some(s) = self.socket_mut(h) else {
                    return;
                };
                if let Some(n) = limit {
                    s.set_synack_retries(n);
                }
                s.on_timer(now, out);
                if young
                    && s.syn_ack_timed_out()
                    && let Some(p) = parent
                    && let Some(Some(l)) = self.listeners.get_mut(p as usize)
                {
                    l.young = l.young.saturating_sub(1);
                }
                self.settle(h, now, out);
            }
            Wakeup::TimeWait => {
                while let Some(tw) = self.time_wait.pop_expired(now) {
                    self.vacate(&tw.tuple);
                    log_tw_end(tw.conn, tw.tuple, "2MSL expired", now - tw.since, out);
                }
                self.arm_time_wait(out);
            }
        }
    }

    // ----- segment arrival -----

    /// A segment for this host arrived from `src`.
    pub fn segment_in(
        &mut self,
        now: SimTime,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        seg: &Segment,
        out: &mut Output,
    ) {
        let tuple = FourTuple {
            local: SocketAddrV4::new(dst, seg.dst_port),
            remote: SocketAddrV4::new(src, seg.src_port),
        };
        if let Some(&h) = self.conns.get(&tuple) {
            self.deliver_to_socket(now, h, seg, out);
            return;
        }
        let lid = self
            .listening
            .get(&tuple.local)
            .or_else(|| {
                self.listening
                    .get(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, seg.dst_port))
            })
            .copied();
        let mut forced_iss = None;
        if let Some((tw, _)) = self.time_wait.get(&tuple) {
            let tw = *tw;
            match tw.judge(seg, &self.config) {
                TwVerdict::Ack { restart } => {
                    out.send(tuple, tw.ack(now));
                    if restart {
                        self.time_wait.restart(&tuple, now + self.config.time_wait);
                    }
                    return;
                }
                TwVerdict::Restart => {
                    self.time_wait.restart(&tuple, now + self.config.time_wait);
                    return;
                }
                TwVerdict::Kill => {
                    self.end_time_wait(now, &tuple, "RST received", out);
                    return;
                }
                TwVerdict::Ignore => return,
                TwVerdict::Reopen(_)
                    if lid.is_none() && self.config.syn_in_time_wait == SynInTimeWait::Linux =>
                {
                    // Linux `tcp_v4_rcv`: TCP_TW_SYN finds no listener and falls through to
                    // TCP_TW_ACK, so the SYN is acknowledged and TIME_WAIT stays.
                    out.send(tuple, tw.ack(now));
                    return;
                }
                TwVerdict::Reopen(rule) => {
                    self.end_time_wait(now, &tuple, "SYN opens a new incarnation", out);
                    forced_iss = Some(rule);
                }
            }
        }
        match lid {
            Some(lid) => self.deliver_to_listener(now, lid, tuple, seg, forced_iss, out),
            None => self.reset(tuple, seg, out),
        }
    }

    /// RST for a segment that matches no connection (RFC 9293 §3.10.7.1).
    fn reset(&self, tuple: FourTuple, seg: &Segment, out: &mut Output) {
        if let Some(mut rst) = Segment::reset_for(seg) {
            rst.tag = Tag {
                conn: ConnId {
                    host: self.host,
                    n: 0,
                },
                ..Tag::default()
            };
            out.send(tuple, rst);
        }
    }

    fn deliver_to_socket(
        &mut self,
        now: SimTime,
        h: SocketHandle,
        seg: &Segment,
        out: &mut Output,
    ) {
        let Some(s) = self.socket(h) else { return };
        let completes_handshake = s.state == State::SynReceived
            && seg.flags.ack()
            && !seg.flags.rst()
            && !seg.flags.syn()
            && seg.ack == s.iss() + 1;
        let (parent, tuple) = (s.parent, s.tuple);
        if completes_handshake
            && let Some(p) = parent
            && let Some(Some(l)) = self.listeners.get_mut(p as usize)
            && l.accept_queue_full()
        {
            l.overflows += 1;
            out.log.push(TcpLog::ListenDrop {
                listener: l.local,
                remote: tuple.remote,
                why: ListenDropKind::Overflow,
            });
            if self.config.abort_on_overflow {
                self.reset(tuple, seg, out);
                if let Some(s) = self.socket_mut(h) {
                    s.abort_silently(now, "accept queue full (abort_on_overflow)", out);
                }
                self.settle(h, now, out);
            }
            // Otherwise the final ACK is ignored: the SYN-ACK timer will send it again.
            return;
        }
        let Some(s) = self.socket_mut(h) else { return };
        s.process(now, seg, out);
        let timed_out = s.syn_ack_timed_out();
        if completes_handshake
            && s.established_or_later()
            && s.state != State::Closed
            && let Some(p) = parent
            && let Some(Some(l)) = self.listeners.get_mut(p as usize)
        {
            {
                l.leave_syn_queue(timed_out);
                l.accept_queue.push_back(h);
                out.events.push((l.owner, p as u64, SocketEvent::Incoming));
            }
        }
        self.settle(h, now, out);
    }

    /// RFC 9293 §3.10.7.2, LISTEN.
    fn deliver_to_listener(
        &mut self,
        now: SimTime,
        lid: u32,
        tuple: FourTuple,
        seg: &Segment,
        forced_iss: Option<ReopenIss>,
        out: &mut Output,
    ) {
        let f = seg.flags;
        if f.rst() {
            return;
        }
        if f.ack() {
            self.reset(tuple, seg, out);
            return;
        }
        if !f.syn() {
            return;
        }
        let max_syn = self.config.max_syn_backlog;
        let Some(Some(l)) = self.listeners.get_mut(lid as usize) else {
            return;
        };
        // Linux drops a SYN when the accept queue is full, and when the SYN queue is.
        if l.accept_queue_full() || l.syn_queue >= max_syn {
            l.syn_drops += 1;
            out.log.push(TcpLog::ListenDrop {
                listener: l.local,
                remote: tuple.remote,
                why: ListenDropKind::Syn,
            });
            return;
        }
        l.syn_queue += 1;
        l.young += 1;
        let generated = self.isn.isn(now, tuple.local, tuple.remote);
        let iss = match forced_iss {
            None | Some(ReopenIss::Generated) => generated,
            Some(ReopenIss::AboveOld(old)) if generated <= old => old + 1,
            Some(ReopenIss::AboveOld(_)) => generated,
            Some(ReopenIss::Exactly(iss)) => iss,
        };
        let conn = self.new_conn();
        let ts = self.ts_offset(*tuple.remote.ip());
        let config = self.config.clone();
        let queues = self.spare_queues.pop().unwrap_or_default();
        let mut s = Socket::accept_syn(conn, tuple, iss, now, config, ts, seg, queues, out);
        s.parent = Some(lid);
        let h = self.insert(s);
        self.settle(h, now, out);
    }

    // ----- the application's calls -----

    /// listen(): returns the listener id.
    pub fn listen(
        &mut self,
        local: SocketAddrV4,
        backlog: u32,
        owner: u32,
    ) -> Result<u32, ConnectError> {
        if self.listening.contains_key(&local) {
            return Err(ConnectError::AddrInUse);
        }
        let id = self.listeners.len() as u32;
        self.listeners.push(Some(Listener {
            local,
            backlog,
            owner,
            accept_queue: VecDeque::new(),
            syn_queue: 0,
            young: 0,
            overflows: 0,
            syn_drops: 0,
        }));
        self.listening.insert(local, id);
        Ok(id)
    }

    /// accept(): the oldest established connection, now owned by `owner`.
    pub fn accept(&mut self, lid: u32, owner: u32) -> Option<SocketHandle> {
        let h = self
            .listeners
            .get_mut(lid as usize)?
            .as_mut()?
            .accept_queue
            .pop_front()?;
        if let Some(s) = self.socket_mut(h) {
            s.owner = Some(owner);
            s.parent = None;
        }
        Some(h)
    }

    /// Closes a listener; connections it never handed out are reset (Linux `inet_csk_listen_stop`).
    pub fn close_listener(&mut self, now: SimTime, lid: u32, out: &mut Output) {
        let Some(l) = self.listeners.get_mut(lid as usize).and_then(Option::take) else {
            return;
        };
        self.listening.remove(&l.local);
        let children: Vec<SocketHandle> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let sock = s.socket.as_ref()?;
                (sock.parent == Some(lid)).then(|| handle(i as u32, s.generation))
            })
            .collect();
        for h in children {
            if let Some(s) = self.socket_mut(h) {
                s.parent = None;
                s.abort(now, out);
            }
            self.settle(h, now, out);
        }
    }

    /// connect(): from `local_port` (or an ephemeral port) to `remote`.
    pub fn connect(
        &mut self,
        now: SimTime,
        local_port: Option<u16>,
        remote: SocketAddrV4,
        owner: u32,
        out: &mut Output,
    ) -> Result<SocketHandle, ConnectError> {
        let (local, reused) = match local_port {
            Some(p) => {
                let tuple = FourTuple {
                    local: SocketAddrV4::new(self.addr, p),
                    remote,
                };
                if self.conns.contains_key(&tuple) {
                    return Err(ConnectError::AddrInUse);
                }
                match self.time_wait.get(&tuple) {
                    None => (tuple.local, None),
                    Some((tw, _)) => match self.reusable(tw, now) {
                        Some(iss) => (tuple.local, Some(iss)),
                        None => return Err(ConnectError::AddrNotAvailable),
                    },
                }
            }
            None => self.ephemeral(now, remote)?,
        };
        let tuple = FourTuple { local, remote };
        let iss = match reused {
            Some(iss) => {
                self.end_time_wait(now, &tuple, "reused by connect (tw_reuse)", out);
                iss
            }
            None => self.isn.isn(now, local, remote),
        };
        let conn = self.new_conn();
        let ts = self.ts_offset(*remote.ip());
        let config = self.config.clone();
        let queues = self.spare_queues.pop().unwrap_or_default();
        let s = Socket::connect(conn, tuple, iss, now, config, ts, owner, queues, out);
        let h = self.insert(s);
        self.settle(h, now, out);
        Ok(h)
    }

    /// Linux `tcp_twsk_unique`: with `tw_reuse` and timestamps, a TIME_WAIT 4-tuple whose last
    /// timestamp is a second old may be taken over, with ISS = old SND.NXT + 65537.
    fn reusable(&self, tw: &TimeWait, now: SimTime) -> Option<SeqNum> {
        let old_enough =
            now.saturating_since(tw.ts_recent_at) >= crate::sim::Duration::from_secs(1);
        (self.config.tw_reuse && tw.ts_on && old_enough).then_some(tw.snd_nxt + 65_537)
    }

    /// Distinct ports of the ephemeral range that listeners hold.
    #[cold]
    fn listener_ports_in_range(&self) -> u32 {
        let (lo, hi) = self.config.port_range;
        self.listening
            .keys()
            .map(|a| a.port())
            .filter(|p| (lo..=hi).contains(p))
            .collect::<std::collections::BTreeSet<u16>>()
            .len() as u32
    }

    /// Picks a local port towards `remote`: a sequential search from a per-destination point,
    /// skipping 4-tuples that are live or in TIME_WAIT (unless reusable).
    fn ephemeral(
        &mut self,
        now: SimTime,
        remote: SocketAddrV4,
    ) -> Result<(SocketAddrV4, Option<SeqNum>), ConnectError> {
        let (lo, _) = self.config.port_range;
        let count = self.config.port_count();
        if count == 0 {
            return Err(ConnectError::AddrNotAvailable);
        }
        let key = (self.addr, remote);
        // Ports bound by listeners are never handed out, so they do not count as free (and
        // are only counted when they could matter).
        let used = self.occupancy.get(&key).copied().unwrap_or(0);
        let full = used >= count
            || (used + self.listening.len() as u32 >= count
                && used + self.listener_ports_in_range() >= count);
        if full && !self.config.tw_reuse {
            return Err(ConnectError::AddrNotAvailable);
        }
        let start = match self.port_hint.get(&key) {
            Some(s) => *s,
            None => {
                let mut h = SipHasher24::new_with_keys(self.secret.1, self.secret.0);
                h.write(&remote.ip().octets());
                h.write_u16(remote.port());
                (h.finish() % count as u64) as u32
            }
        };
        for i in 0..count {
            let k = (start + i) % count;
            let local = SocketAddrV4::new(self.addr, lo + k as u16);
            let tuple = FourTuple { local, remote };
            // A port some socket bound (a listener on this address or on 0.0.0.0) is never
            // handed out, as Linux's `__inet_hash_connect` skips ports with a bind bucket.
            let wildcard = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, local.port());
            if self.conns.contains_key(&tuple)
                || self.listening.contains_key(&local)
                || self.listening.contains_key(&wildcard)
            {
                continue;
            }
            let reused = match self.time_wait.get(&tuple) {
                None => None,
                Some((tw, _)) => match self.reusable(tw, now) {
                    Some(iss) => Some(iss),
                    None => continue,
                },
            };
            self.port_hint.insert(key, (k + 1) % count);
            return Ok((local, reused));
        }
        Err(ConnectError::AddrNotAvailable)
    }

    /// send(): bytes accepted into the send buffer.
    pub fn send(
        &mut self,
        now: SimTime,
        h: SocketHandle,
        data: &Payload,
        out: &mut Output,
    ) -> usize {
        let Some(s) = self.socket_mut(h) else {
            return 0;
        };
        let n = s.send(now, data, out);
        self.settle(h, now, out);
        n
    }

    /// recv(): up to `max` bytes in order.
    pub fn recv(&mut self, now: SimTime, h: SocketHandle, max: usize, out: &mut Output) -> Payload {
        let Some(s) = self.socket_mut(h) else {
            return Payload::default();
        };
        let data = s.recv(now, max, out);
        self.settle(h, now, out);
        data
    }

    /// close().
    pub fn close(&mut self, now: SimTime, h: SocketHandle, out: &mut Output) {
        if let Some(s) = self.socket_mut(h) {
            s.close(now, out);
            self.settle(h, now, out);
        }
    }

    /// shutdown(SHUT_WR).
    pub fn shutdown(&mut self, now: SimTime, h: SocketHandle, out: &mut Output) {
        if let Some(s) = self.socket_mut(h) {
            s.shutdown(now, out);
            self.settle(h, now, out);
        }
    }

    /// abort(): RST and forget (SO_LINGER with a zero timeout, then close).
    pub fn abort(&mut self, now: SimTime, h: SocketHandle, out: &mut Output) {
        if let Some(s) = self.socket_mut(h) {
            s.abort(now, out);
            self.settle(h, now, out);
        }
    }

    /// What `netstat -tan` would print: listeners, then connections, then TIME_WAIT, each
    /// sorted by address.
    pub fn netstat(&self, now: SimTime) -> Vec<NetstatRow> {
        let mut listeners: Vec<NetstatRow> = self
            .listeners()
            .map(|(_, l)| NetstatRow {
                recv_q: l.accept_queue.len() as u64,
                send_q: 0,
                local: l.local,
                foreign: None,
                state: State::Listen,
                backlog: l.backlog,
                timer: None,
            })
            .collect();
        listeners.sort_by_key(|r| r.local);
        let mut conns: Vec<NetstatRow> = self
            .sockets()
            .map(|s| {
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
            })
            .chain(self.time_wait.iter().map(|(tw, expires)| NetstatRow {
                recv_q: 0,
                send_q: 0,
                local: tw.tuple.local,
                foreign: Some(tw.tuple.remote),
                state: State::TimeWait,
                backlog: 0,
                timer: Some(SocketTimer {
                    kind: TimerKind::TimeWait,
                    remaining: expires.saturating_since(now),
                    retrans: 0,
                }),
            }))
            .collect();
        conns.sort_by_key(|r| (r.local, r.foreign));
        listeners.extend(conns);
        listeners
    }

    /// Sockets per state, in [`State::ALL`] order (cheap: TIME_WAIT is counted, not listed).
    pub fn state_counts(&self) -> [u64; 11] {
        let mut counts = [0u64; 11];
        let at = |s: State| State::ALL.iter().position(|x| *x == s).unwrap_or(0);
        counts[at(State::Listen)] = self.listeners().count() as u64;
        counts[at(State::TimeWait)] = self.time_wait.len() as u64;
        for s in self.sockets() {
            counts[at(s.state)] += 1;
        }
        counts
    }

    /// Records for every socket still open, as if released now (end of run).
    pub fn open_records(&self, now: SimTime) -> Vec<super::state::ConnRecord> {
        self.sockets().map(|s| s.record(now)).collect()
    }
}

fn log_tw_end(
    conn: ConnId,
    tuple: FourTuple,
    cause: &'static str,
    held: Duration,
    out: &mut Output,
) {
    out.log.push(TcpLog::State(Transition {
        conn,
        tuple,
        from: State::TimeWait,
        to: State::Closed,
        cause,
        held,
    }));
}
