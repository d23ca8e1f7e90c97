//! One connection: a transmission control block (RFC 9293 §3.3.1) as plain data, with pure
//! functions for segment arrival (§3.10.7), timeouts (§3.10.8) and the user calls (§3.10.1-6).
//! It knows nothing of links or files: everything it does lands in an [`Output`].

use std::rc::Rc;

use super::ack::AckPolicy;
use super::config::{TcpConfig, TimerPreset};
use super::congestion::{CongestionControl, Phase, Reaction};
use super::payload::{Payload, PayloadQueue};
use super::reassembly::Reassembly;
use super::rto::RtoEstimator;
use super::rtt::{RttSampler, SentLog};
use super::sack::{self, SackReport, Scoreboard};
use super::segment::{ConnId, Flags, SackBlocks, Segment, Tag, Timestamps};
use super::seq::SeqNum;
use super::state::{
    ConnError, ConnRecord, Corruption, FourTuple, Output, Probe, SocketEvent, SocketTimer, State,
    TcpLog, TimerKind, Transition,
};
use super::timers::{Timer, Timers};
use crate::sim::{Duration, SimTime};

/// MSS assumed when the peer sends no MSS option (RFC 9293 §3.7.1: 536).
const DEFAULT_MSS: u16 = 536;
/// Largest window the 16-bit field can carry unscaled.
const MAX_WINDOW: u32 = 65_535;
/// RFC 7323 §2.3: a shift above 14 is used as 14.
const MAX_WSCALE: u8 = 14;

/// Linux `TCP_TIMEWAIT_LEN`: an orphaned FIN_WAIT_2 whose `tcp_fin_time` is no longer is held
/// as a timewait socket.
const LINUX_TIMEWAIT_LEN: Duration = Duration::from_secs(60);

/// RFC 7323 state, when both sides sent the timestamps option.
#[derive(Clone, Copy, Debug)]
struct TsState {
    /// TS.Recent: the peer's latest timestamp.
    recent: u32,
    /// When TS.Recent was last updated.
    recent_at: SimTime,
    /// Our clock's offset (a per host pair constant, so it keeps rising across incarnations).
    offset: u32,
}

/// How a socket was opened.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Opened {
    /// By connect(): we sent the first SYN.
    Active,
    /// By a listener, from the peer's SYN.
    Passive,
}

/// How soon an arriving segment must be acknowledged.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum AckDue {
    /// Not at all (nothing arrived that needs it).
    No,
    /// In order: the delayed-ACK policy decides (RFC 1122 §4.2.3.2).
    Delayable,
    /// At once: out-of-order, duplicate or gap-filling data (RFC 5681 §4.2), a FIN outside
    /// ESTABLISHED, or an ACK of a SYN-ACK.
    Now,
}

/// A transmission control block.
#[derive(Clone, Debug)]
pub struct Socket {
    /// This incarnation, for the audit.
    pub conn: ConnId,
    /// Endpoints.
    pub tuple: FourTuple,
    /// Current state.
    pub state: State,
    /// The application that gets events (`None` while waiting in an accept queue).
    pub owner: Option<u32>,
    /// Handle the host gave this socket, echoed in events.
    pub handle: u64,
    /// The listener that created it, while it waits to be accepted.
    pub parent: Option<u32>,
    opened: Opened,
    config: Rc<TcpConfig>,

    // Send sequence space (RFC 9293 §3.3.1).
    iss: SeqNum,
    snd_una: SeqNum,
    snd_nxt: SeqNum,
    /// Highest sequence number sent + 1 (SND.NXT may step back on a timeout).
    snd_max: SeqNum,
    snd_wnd: u32,
    snd_wl1: SeqNum,
    snd_wl2: SeqNum,
    /// MAX.SND.WND: the largest window the peer has offered (RFC 5961 §5).
    max_snd_wnd: u32,
    peer_mss: u16,
    /// Written but not yet acknowledged; `send_buf[0]` is stream offset `una_off`.
    send_buf: PayloadQueue,
    una_off: u64,
    /// The application has no more to send: FIN follows the data.
    fin_queued: bool,
    want_writable: bool,

    // Receive sequence space.
    irs: Option<SeqNum>,
    rcv_nxt: SeqNum,
    /// Stream offset of RCV.NXT (bytes delivered in order so far).
    rcv_off: u64,
    /// Delivered in order, not yet read by the application (Recv-Q).
    recv_buf: PayloadQueue,
    /// The application has read up to the peer's FIN (end of stream).
    eof_read: bool,
    ooo: Reassembly,
    /// Stream offset of a FIN that arrived ahead of a hole.
    fin_at: Option<u64>,
    last_adv_wnd: u32,
    /// RFC 7323 §2: Snd.Wind.Shift, applied to the windows the peer advertises.
    snd_wscale: u8,
    /// Rcv.Wind.Shift, applied to the windows we advertise (0 unless both SYNs agreed).
    rcv_wscale: u8,
    /// Both SYNs carried the window scale option.
    wscale_ok: bool,
    /// Both SYNs carried SACK-permitted (RFC 2018 §2).
    sack_ok: bool,
    /// The SACK blocks we report (receiver side).
    sack_rx: SackReport,
    /// The ranges the peer SACKed (sender side, RFC 6675 §3).
    board: Scoreboard,

    ts: Option<TsState>,
    /// Our timestamp clock offset, offered on the SYN.
    ts_offset: u32,

    /// How much may be in flight beyond the peer's window (RFC 5681).
    cc: CongestionControl,
    /// When to acknowledge what arrives (delayed ACKs).
    acks: AckPolicy,
    /// When data was last sent, for the restart after idle.
    last_data_sent: Option<SimTime>,

    // Timers.
    rto: RtoEstimator,
    timers: Timers,
    /// The send times RTT samples come from (Karn's rule either way).
    rtt: RttSampler,
    /// SYN-ACK retransmissions allowed in SYN_RCVD (`synack_retries`, or fewer when pruned).
    synack_retries: u32,
    /// Our SYN-ACK timed out at least once (the request is no longer "young").
    synack_timed_out: bool,

    /// The application closed the socket: it will never read again (an orphan).
    app_closed: bool,
    /// The incarnation on the other end, learned from its SYN.
    peer_conn: Option<ConnId>,

    opened_at: SimTime,
    /// When the current state began.
    state_since: SimTime,
    established_at: Option<SimTime>,
    bytes_written: u64,
    bytes_corrupted: u64,
    retransmissions: u32,
    error: Option<ConnError>,
    /// When the last ACK for a dropped segment went out (Linux `last_oow_ack_time`).
    last_oow_ack: Option<SimTime>,
}

/// A closed socket's queues, emptied, with some of their allocation: a stack hands them to
/// the next socket it opens, so a busy host does not allocate them for every connection.
#[derive(Default)]
pub struct Queues {
    send: PayloadQueue,
    recv: PayloadQueue,
    sent: SentLog,
}

impl Socket {
    fn new(
        conn: ConnId,
        tuple: FourTuple,
        iss: SeqNum,
        now: SimTime,
        config: Rc<TcpConfig>,
        opened: Opened,
        ts_offset: u32,
    ) -> Socket {
        let (rto, rtt) = match config.timers {
            TimerPreset::Linux => (
                RtoEstimator::linux(
                    config.rto_initial,
                    config.rto_min,
                    config.rto_max,
                    config.hz,
                ),
                RttSampler::every_ack(SentLog::default()),
            ),
            TimerPreset::Rfc6298 => (
                RtoEstimator::new(config.rto_initial, config.rto_min, config.rto_max),
                RttSampler::one_timed(),
            ),
        };
        let cc = CongestionControl::new(
            config.congestion,
            config.mss as u32,
            config.initial_window,
            iss,
        );
        let acks = AckPolicy::new(config.delayed_ack, config.mss as u32);
        Socket {
            conn,
            tuple,
            state: State::Closed,
            owner: None,
            handle: 0,
            parent: None,
            opened,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            snd_wl1: SeqNum(0),
            snd_wl2: SeqNum(0),
            max_snd_wnd: 0,
            peer_mss: DEFAULT_MSS,
            send_buf: PayloadQueue::default(),
            una_off: 0,
            fin_queued: false,
            want_writable: false,
            irs: None,
            rcv_nxt: SeqNum(0),
            rcv_off: 0,
            recv_buf: PayloadQueue::default(),
            eof_read: false,
            ooo: Reassembly::default(),
            fin_at: None,
            last_adv_wnd: 0,
            snd_wscale: 0,
            rcv_wscale: 0,
            wscale_ok: false,
            sack_ok: false,
            sack_rx: SackReport::default(),
            board: Scoreboard::default(),
            ts: None,
            ts_offset,
            cc,
            acks,
            last_data_sent: None,
            rto,
            timers: Timers::default(),
            rtt,
            synack_retries: config.synack_retries,
            synack_timed_out: false,
            app_closed: false,
            peer_conn: None,
            opened_at: now,
            state_since: now,
            established_at: None,
            bytes_written: 0,
            bytes_corrupted: 0,
            retransmissions: 0,
            error: None,
            last_oow_ack: None,
            config,
        }
    }

    /// Active open (RFC 9293 §3.10.1): sends SYN and enters SYN_SENT.
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        conn: ConnId,
        tuple: FourTuple,
        iss: SeqNum,
        now: SimTime,
        config: Rc<TcpConfig>,
        ts_offset: u32,
        owner: u32,
        queues: Queues,
        out: &mut Output,
    ) -> Socket {
        let mut s = Socket::new(conn, tuple, iss, now, config, Opened::Active, ts_offset);
        s.reuse(queues);
        s.owner = Some(owner);
        s.set_state(State::SynSent, "connect", now, out);
        s.send_syn(now, out);
        s
    }

    /// Passive open from a listener (RFC 9293 §3.10.7.2): records the peer's SYN, sends
    /// SYN-ACK and enters SYN_RCVD.
    #[allow(clippy::too_many_arguments)]
    pub fn accept_syn(
        conn: ConnId,
        tuple: FourTuple,
        iss: SeqNum,
        now: SimTime,
        config: Rc<TcpConfig>,
        ts_offset: u32,
        syn: &Segment,
        queues: Queues,
        out: &mut Output,
    ) -> Socket {
        let mut s = Socket::new(conn, tuple, iss, now, config, Opened::Passive, ts_offset);
        s.reuse(queues);
        s.learn_peer(syn, now);
        s.snd_wnd = syn.window as u32;
        s.max_snd_wnd = s.max_snd_wnd.max(s.snd_wnd);
        s.snd_wl1 = syn.seq;
        s.snd_wl2 = syn.ack;
        s.set_state(State::SynReceived, "SYN received", now, out);
        s.send_syn(now, out);
        s
    }

    /// Takes `queues`' allocations for this new socket's (empty, never allocated) queues.
    fn reuse(&mut self, queues: Queues) {
        debug_assert!(self.send_buf.is_empty() && self.recv_buf.is_empty());
        self.send_buf = queues.send;
        self.recv_buf = queues.recv;
        if let RttSampler::EveryAck(_) = self.rtt {
            self.rtt = RttSampler::every_ack(queues.sent);
        }
    }

    /// Empties this closed socket's queues for the next socket (see [`Queues`]).
    pub fn take_queues(&mut self) -> Queues {
        let mut q = Queues {
            send: std::mem::take(&mut self.send_buf),
            recv: std::mem::take(&mut self.recv_buf),
            sent: self.rtt.recycle(),
        };
        q.send.recycle();
        q.recv.recycle();
        q
    }

    /// Records what the peer's SYN tells us: IRS, MSS, timestamps, and its incarnation.
    fn learn_peer(&mut self, syn: &Segment, now: SimTime) {
        self.irs = Some(syn.seq);
        self.rcv_nxt = syn.seq + 1;
        self.peer_mss = syn.mss.unwrap_or(DEFAULT_MSS);
        // RFC 7323 §2.2: scaling is on only if both SYNs carried the option.
        if let (true, Some(shift)) = (self.config.window_scaling, syn.wscale) {
            self.snd_wscale = shift.min(MAX_WSCALE);
            self.rcv_wscale = self.offered_wscale();
            self.wscale_ok = true;
        }
        // SMSS is known once both MSS options are (RFC 5681 §2).
        self.cc = CongestionControl::new(
            self.config.congestion,
            self.smss(),
            self.config.initial_window,
            self.iss,
        );
        // RFC 2018 §2: SACK only if both SYNs carried SACK-permitted.
        self.sack_ok = self.config.sack && syn.sack_ok;
        if self.sack_ok {
            self.cc.use_sack();
        }
        self.peer_conn = Some(syn.tag.conn);
        // Timestamps are on only if we want them and the peer's SYN offered them (RFC 7323 §3.2);
        // for an active open, our SYN offered them already.
        self.ts = match (self.config.timestamps, syn.timestamps) {
            (true, Some(t)) => Some(TsState {
                recent: t.tsval,
                recent_at: now,
                offset: self.ts_offset,
            }),
            _ => None,
        };
    }

    // ----- what the host and reports read -----

    /// Our initial sequence number.
    pub fn iss(&self) -> SeqNum {
        self.iss
    }
    /// SND.NXT.
    pub fn snd_nxt(&self) -> SeqNum {
        self.snd_nxt
    }
    /// SND.UNA.
    pub fn snd_una(&self) -> SeqNum {
        self.snd_una
    }
    /// RCV.NXT.
    pub fn rcv_nxt(&self) -> SeqNum {
        self.rcv_nxt
    }
    /// The peer's initial sequence number, once known.
    pub fn irs(&self) -> Option<SeqNum> {
        self.irs
    }
    /// The retransmission timer's current value.
    pub fn rto(&self) -> Duration {
        self.rto.rto()
    }
    /// Recv-Q: bytes received in order and not yet read.
    pub fn recv_queue(&self) -> usize {
        self.recv_buf.len()
    }
    /// Send-Q: bytes written and not yet acknowledged.
    pub fn send_queue(&self) -> usize {
        self.send_buf.len()
    }
    /// netstat's (Recv-Q, Send-Q), counted in sequence space as Linux's `/proc/net/tcp` does
    /// (rcv_nxt - copied_seq, write_seq - snd_una): a peer's FIN the application has not read
    /// up to counts 1 in Recv-Q (the familiar `1 0 ... CLOSE_WAIT`), and our unacknowledged
    /// SYN or queued FIN counts 1 in Send-Q.
    pub fn netstat_queues(&self) -> (u64, u64) {
        let fin_unread = self.peer_closed() && !self.eof_read;
        let syn = self.state == State::SynSent;
        let fin = self.state.fin_in_flight();
        (
            self.recv_buf.len() as u64 + u64::from(fin_unread),
            self.send_buf.len() as u64 + u64::from(syn) + u64::from(fin),
        )
    }
    /// True once the peer's FIN has been processed (reads end after the buffer drains).
    pub fn peer_closed(&self) -> bool {
        self.state.peer_fin_received()
            || (self.state == State::Closed && self.irs.is_some() && self.error.is_none())
    }
    /// True if this side sent the first SYN.
    pub fn is_active(&self) -> bool {
        self.opened == Opened::Active
    }
    /// The peer incarnation, learned from its SYN.
    pub fn peer_conn(&self) -> Option<ConnId> {
        self.peer_conn
    }
    /// The error the application saw, if any.
    pub fn error(&self) -> Option<ConnError> {
        self.error
    }
    /// Timestamp state for a TIME_WAIT record: (TS.Recent, when it was set).
    pub fn ts_recent(&self) -> Option<(u32, SimTime)> {
        self.ts.map(|t| (t.recent, t.recent_at))
    }
    /// Our timestamp clock offset towards the peer's address (RFC 7323 §5.4).
    pub fn ts_offset(&self) -> u32 {
        self.ts_offset
    }
    /// The congestion controller (cwnd, ssthresh, recovery phase).
    pub fn congestion(&self) -> &CongestionControl {
        &self.cc
    }

    /// True if both SYNs carried SACK-permitted (RFC 2018 §2).
    pub fn sack_ok(&self) -> bool {
        self.sack_ok
    }
    /// Bytes the scoreboard holds SACKed (RFC 6675 §3).
    pub fn sacked_bytes(&self) -> u32 {
        self.board.sacked_bytes()
    }
    /// RFC 6675 SetPipe(): bytes presumed in the network (`None` without SACK).
    pub fn pipe(&self) -> Option<u32> {
        self.sack_ok
            .then(|| self.board.pipe(self.smss(), self.data_una(), self.snd_max))
    }

    /// The receive window we advertise now.
    pub fn rcv_wnd(&self) -> u32 {
        self.config
            .rcv_buf
            .saturating_sub(self.recv_buf.len() as u32)
            .min(MAX_WINDOW << self.rcv_wscale)
    }

    /// The window field of a segment we send now (RFC 7323 §2.3: scaled down, except on a
    /// SYN, whose window is never scaled).
    pub fn advertised_window(&self) -> u16 {
        (self.rcv_wnd() >> self.rcv_wscale).min(MAX_WINDOW) as u16
    }

    /// The shift we offer on our SYN: the smallest that lets the 16-bit field carry the whole
    /// receive buffer (Linux `tcp_select_initial_window` sizes it from the largest buffer).
    fn offered_wscale(&self) -> u8 {
        let mut shift = 0;
        while shift < MAX_WSCALE && (self.config.rcv_buf >> shift) > MAX_WINDOW {
            shift += 1;
        }
        shift
    }
    /// The timer pending, as `ss -o` shows it.
    pub fn shown_timer(&self, now: SimTime) -> Option<SocketTimer> {
        let (timer, at) = self.timers.shown()?;
        let (kind, retrans) = match timer {
            Timer::Retransmit => (TimerKind::On, self.timers.retries),
            Timer::Persist => (TimerKind::Persist, self.timers.probes),
            Timer::FinWait2 => (TimerKind::TimeWait, 0),
            Timer::DelayedAck => return None,
        };
        Some(SocketTimer {
            kind,
            remaining: at.saturating_since(now),
            retrans,
        })
    }

    /// The earliest time this socket needs [`Socket::on_timer`].
    pub fn deadline(&self) -> Option<SimTime> {
        self.timers.deadline()
    }

    /// Checks, in debug builds, the invariants RFC 9293 §3.3.1 states for the TCB after every
    /// call: SND.UNA <= SND.NXT <= the highest sequence sent, RCV.NXT past IRS once
    /// synchronized, and a zero-window probe only while the peer's window is zero.
    pub fn debug_check(&self) {
        debug_assert!(
            self.snd_una <= self.snd_nxt && self.snd_nxt <= self.snd_max,
            "{:?}: SND.UNA {} SND.NXT {} SND.MAX {}",
            self.conn,
            self.snd_una,
            self.snd_nxt,
            self.snd_max
        );
        if self.state.is_synchronized() {
            debug_assert!(
                self.irs.is_some_and(|irs| self.rcv_nxt > irs),
                "{:?}: RCV.NXT {} not past IRS {:?} in {}",
                self.conn,
                self.rcv_nxt,
                self.irs,
                self.state
            );
        }
        debug_assert!(
            self.timers.at(Timer::Persist).is_none() || self.snd_wnd == 0,
            "{:?}: probing a window of {}",
            self.conn,
            self.snd_wnd
        );
    }

    /// The connection's record, as of now.
    pub fn record(&self, now: SimTime) -> ConnRecord {
        ConnRecord {
            conn: self.conn,
            tuple: self.tuple,
            active: self.is_active(),
            iss: self.iss,
            irs: self.irs,
            opened_at: self.opened_at,
            established_at: self.established_at,
            closed_at: now,
            bytes_written: self.bytes_written,
            bytes_delivered: self.rcv_off,
            bytes_corrupted: self.bytes_corrupted,
            retransmissions: self.retransmissions,
            final_state: self.state,
            error: self.error,
        }
    }

    fn set_state(&mut self, to: State, cause: &'static str, now: SimTime, out: &mut Output) {
        if to == self.state {
            return;
        }
        out.log.push(TcpLog::State(Transition {
            conn: self.conn,
            tuple: self.tuple,
            from: self.state,
            to,
            cause,
            held: if self.state == State::Closed {
                Duration::ZERO
            } else {
                now - self.state_since
            },
        }));
        self.state_since = now;
        if to == State::Established && self.established_at.is_none() {
            self.established_at = Some(now);
        }
        self.state = to;
        if matches!(to, State::Closed | State::TimeWait) {
            self.timers.stop_all();
        }
    }

    fn event(&self, ev: SocketEvent, out: &mut Output) {
        if let Some(owner) = self.owner {
            out.events.push((owner, self.handle, ev));
        }
    }

    /// Ends the connection with an error the application sees.
    fn fail(
        &mut self,
        err: ConnError,
        ev: SocketEvent,
        cause: &'static str,
        now: SimTime,
        out: &mut Output,
    ) {
        self.error = Some(err);
        self.event(ev, out);
        self.set_state(State::Closed, cause, now, out);
    }

    // ----- building segments -----

    fn timestamps(&self, now: SimTime) -> Option<Timestamps> {
        let clock = (now.as_nanos() / 1_000_000) as u32;
        match (&self.ts, self.state) {
            (Some(t), _) => Some(Timestamps {
                tsval: t.offset.wrapping_add(clock),
                tsecr: t.recent,
            }),
            // Our SYN offers timestamps before we know whether the peer agrees.
            (None, State::SynSent) if self.config.timestamps => Some(Timestamps {
                tsval: self.ts_offset.wrapping_add(clock),
                tsecr: 0,
            }),
            _ => None,
        }
    }

    fn segment(&self, now: SimTime, seq: SeqNum, flags: Flags, payload: Payload) -> Segment {
        let ack = flags.ack();
        let offset = if seq == self.iss {
            0
        } else {
            self.una_off + seq.since(self.data_una()) as u64
        };
        Segment {
            src_port: self.tuple.local.port(),
            dst_port: self.tuple.remote.port(),
            seq,
            ack: if ack { self.rcv_nxt } else { SeqNum(0) },
            flags,
            window: if flags.syn() {
                self.rcv_wnd().min(MAX_WINDOW) as u16
            } else {
                self.advertised_window()
            },
            mss: None,
            wscale: None,
            timestamps: self.timestamps(now),
            sack_ok: false,
            sack: if ack && !flags.syn() && !flags.rst() {
                self.sack_blocks()
            } else {
                None
            },
            payload,
            tag: Tag {
                conn: self.conn,
                offset,
                retransmission: seq < self.snd_max,
                ..Tag::default()
            },
        }
    }

    /// The SACK option of an ACK sent now (RFC 2018 §4): on every ACK while out-of-order
    /// data is held, up to 4 blocks (3 beside timestamps: 40 bytes of option space), a D-SACK
    /// block first when one is due (RFC 2883 §4).
    fn sack_blocks(&self) -> Option<Box<SackBlocks>> {
        if !self.sack_ok || self.sack_rx.is_empty() {
            return None;
        }
        let max = if self.ts.is_some() { 3 } else { 4 };
        let blocks = self.sack_rx.blocks(max);
        if blocks.is_empty() {
            return None;
        }
        // Stream offsets to sequence numbers (a D-SACK block may lie below RCV.NXT).
        let seq = |off: u64| self.rcv_nxt + (off.wrapping_sub(self.rcv_off) as u32);
        Some(Box::new(
            blocks.into_iter().map(|(l, r)| (seq(l), seq(r))).collect(),
        ))
    }

    fn emit(&mut self, now: SimTime, seg: Segment, out: &mut Output) {
        let len = seg.seg_len();
        if len > 0 && !seg.flags.rst() {
            self.rtt
                .sent(seg.seq, seg.seq + len, now, seg.tag.retransmission);
        }
        if seg.flags.ack() {
            self.last_adv_wnd = if seg.flags.syn() {
                seg.window as u32
            } else {
                (seg.window as u32) << self.rcv_wscale
            };
            // Any segment carrying the ACK settles what was owed; a D-SACK is reported once.
            self.acks.ack_sent();
            self.sack_rx.sent();
            self.timers.stop(Timer::DelayedAck);
        }
        out.send(self.tuple, seg);
    }

    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`: the answer to unacceptable segments and the
    /// acknowledgment of data and FIN.
    fn send_ack(&mut self, now: SimTime, out: &mut Output) {
        let seg = self.segment(now, self.snd_nxt, Flags::ACK, Payload::default());
        self.emit(now, seg, out);
    }

    /// SYN (SYN_SENT) or SYN-ACK (SYN_RCVD), first or again.
    fn send_syn(&mut self, now: SimTime, out: &mut Output) {
        let flags = if self.state == State::SynReceived {
            Flags::SYN | Flags::ACK
        } else {
            Flags::SYN
        };
        let mut seg = self.segment(now, self.iss, flags, Payload::default());
        seg.mss = Some(self.config.mss);
        // RFC 7323 §2.2: offered on a SYN; on a SYN-ACK only in answer to one.
        let answer = self.state != State::SynReceived || self.wscale_ok;
        if self.config.window_scaling && answer {
            seg.wscale = Some(self.offered_wscale());
        }
        // RFC 2018 §2: SACK-permitted on a SYN; on a SYN-ACK only in answer to one.
        seg.sack_ok = self.config.sack && (self.state != State::SynReceived || self.sack_ok);
        if self.state == State::SynReceived && self.ts.is_none() {
            seg.timestamps = None;
        }
        seg.tag.retransmission = self.snd_max != self.iss;
        if seg.tag.retransmission {
            self.retransmissions += 1;
        }
        self.snd_nxt = self.iss + 1;
        self.snd_max = self.snd_nxt;
        self.emit(now, seg, out);
        self.timers.arm(Timer::Retransmit, now + self.rto.rto());
    }

    /// The reset of an ABORT. RFC 9293 §3.10.5: `<SEQ=SND.NXT><CTL=RST>`; Linux
    /// `tcp_send_active_reset` also acknowledges: `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>`.
    fn send_reset(&mut self, now: SimTime, out: &mut Output) {
        let flags = if self.config.linux_resets {
            Flags::RST | Flags::ACK
        } else {
            Flags::RST
        };
        let seg = self.segment(now, self.snd_nxt, flags, Payload::default());
        self.emit(now, seg, out);
    }

    /// The reset `tcp_v4_send_reset` builds from an arriving segment (RFC 9293 §3.10.7.1's
    /// form), sent by this connection.
    fn reset_segment(&self, seg: &Segment, out: &mut Output) {
        if let Some(mut rst) = Segment::reset_for(seg) {
            rst.tag = Tag {
                conn: self.conn,
                ..Tag::default()
            };
            out.send(self.tuple, rst);
        }
    }

    /// An orphaned FIN_WAIT_2 that Linux would hold as a timewait socket (`tcp_time_wait` when
    /// `tcp_fin_time` <= TCP_TIMEWAIT_LEN) and judge by `tcp_timewait_state_process`.
    fn orphan_timewait(&self) -> bool {
        self.state == State::FinWait2
            && self.app_closed
            && self.config.orphan_timewait
            && self.config.fin_timeout <= LINUX_TIMEWAIT_LEN
    }

    /// Linux `__tcp_oow_rate_limited`: true if an ACK for a dropped segment went out less
    /// than `invalid_ratelimit` ago (simulated time); otherwise `now` becomes the last one.
    fn oow_rate_limited(&mut self, now: SimTime) -> bool {
        if let Some(last) = self.last_oow_ack
            && now < last + self.config.invalid_ratelimit
        {
            return true;
        }
        self.last_oow_ack = Some(now);
        false
    }

    /// RFC 5961's challenge ACK, `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, behind the per-socket
    /// limit Linux `tcp_send_challenge_ack` applies first (RFC 5961 §7: SHOULD throttle).
    fn send_challenge_ack(&mut self, now: SimTime, out: &mut Output) {
        if !self.oow_rate_limited(now) {
            self.send_ack(now, out);
        }
    }

    /// The ACK for an unacceptable segment (§3.10.7.4 first), behind Linux
    /// `tcp_oow_rate_limited`: a segment with data or FIN and no SYN is always answered ("not
    /// likely part of an ACK loop"), any other only if the limit allows.
    fn send_dupack(&mut self, now: SimTime, seg: &Segment, out: &mut Output) {
        let text = seg.seg_len() > 0 && !seg.flags.syn();
        if text || !self.oow_rate_limited(now) {
            self.send_ack(now, out);
        }
    }

    // ----- sending data -----

    /// Sequence number of our FIN, once the application has closed its side.
    fn fin_seq(&self) -> Option<SeqNum> {
        if !self.fin_queued {
            return None;
        }
        let data_end = self.una_off + self.send_buf.len() as u64;
        Some(self.iss + 1 + data_end as u32)
    }

    /// Sequence number of the first data byte not yet acknowledged (past our SYN).
    fn data_una(&self) -> SeqNum {
        if self.snd_una == self.iss {
            self.iss + 1
        } else {
            self.snd_una
        }
    }

    fn fin_acked(&self) -> bool {
        self.fin_seq().is_some_and(|f| self.snd_una > f)
    }

    /// SMSS: the largest segment we send (RFC 5681 §2), from both MSS options.
    fn smss(&self) -> u32 {
        self.config.mss.min(self.peer_mss).max(1) as u32
    }

    /// Bytes sent and not yet acknowledged (RFC 5681's FlightSize).
    fn flight(&self) -> u32 {
        self.snd_max.since(self.snd_una)
    }

    /// Sends what the peer's window and the congestion window allow (RFC 9293 §3.8.6, RFC 5681
    /// §3.1); `limit` caps the segment count. If nothing went, `ack` says whether to send a
    /// bare ACK now, leave it to the delayed-ACK policy, or send none.
    fn output(&mut self, now: SimTime, out: &mut Output, ack: AckDue, limit: usize) {
        let mut sent = 0;
        if self.state.can_send() {
            let mss = self.smss();
            if self.config.slow_start_after_idle
                && self.snd_max == self.snd_una
                && let Some(last) = self.last_data_sent
            {
                self.cc
                    .restart_after_idle(now.saturating_since(last), self.rto.rto());
            }
            if self.sack_recovering() {
                sent = self.sack_output(now, out, limit);
            } else {
                let wnd = self.snd_wnd.min(self.cc.window());
                while sent < limit && self.send_next(now, wnd, mss, out) {
                    sent += 1;
                }
            }
        }
        if sent > 0 {
            return;
        }
        match ack {
            AckDue::Now => self.send_ack(now, out),
            AckDue::Delayable if self.acks.ack_now() => self.send_ack(now, out),
            AckDue::Delayable => {
                if self.timers.at(Timer::DelayedAck).is_none() {
                    let delay = self.acks.delay(self.rto.srtt());
                    self.timers.arm(Timer::DelayedAck, now + delay);
                }
            }
            AckDue::No => {}
        }
    }

    /// Sends the next segment at SND.NXT if `wnd` (bytes past SND.UNA) leaves room: data, or
    /// the FIN after it. False if nothing went.
    fn send_next(&mut self, now: SimTime, wnd: u32, mss: u32, out: &mut Output) -> bool {
        // Bytes between SND.UNA and SND.NXT are in flight; the rest of the buffer waits.
        let in_flight = self.snd_nxt.diff(self.data_una()).max(0) as usize;
        let unsent = self.send_buf.len().saturating_sub(in_flight);
        let window_left = (self.snd_una + wnd).diff(self.snd_nxt).max(0) as u32;
        let fin_due = self.fin_seq().is_some_and(|f| self.snd_nxt == f);
        if unsent > 0 && window_left > 0 {
            let len = (unsent as u32).min(mss).min(window_left) as usize;
            let payload = self.send_buf.slice(in_flight, len);
            let last = len == unsent;
            let mut flags = Flags::ACK;
            if last {
                flags = flags | Flags::PSH;
                if self.fin_queued {
                    flags = flags | Flags::FIN;
                }
            }
            self.transmit(now, flags, payload, out);
        } else if unsent == 0 && fin_due && window_left > 0 {
            self.transmit(now, Flags::FIN | Flags::ACK, Payload::default(), out);
        } else {
            // A FIN takes a sequence number, so it waits behind a zero window like data
            // (Linux `tcp_snd_wnd_test`), and the window is probed for.
            let waiting = unsent > 0 || fin_due;
            if waiting && self.snd_wnd == 0 && !self.timers.sending() {
                self.timers.arm(Timer::Persist, now + self.rto.rto());
            }
            return false;
        }
        true
    }

    /// True while SACK-based loss recovery runs: fast recovery (RFC 6675 §5) or the repair
    /// after a timeout (§5.1), both paced by pipe.
    fn sack_recovering(&self) -> bool {
        self.sack_ok && self.cc.enabled() && self.cc.phase() != Phase::Open
    }

    /// RFC 6675 §5 steps 4.3-4.4 and C: fast recovery starts. HighRxt = HighACK, the first
    /// segment presumed lost MUST be resent at once, then the pipe loop (in `output`) goes on.
    fn start_recovery(&mut self, now: SimTime, out: &mut Output) {
        if !self.sack_ok {
            self.retransmit_first(now, out);
            return;
        }
        let una = self.data_una();
        self.board.high_rxt = Some(una);
        let first = self.board.first_hole(una, self.snd_max);
        if let Some((l, r)) = first {
            let len = r.since(l).min(self.smss());
            let used = self.retransmit_at(now, l, len, out);
            self.board.high_rxt = Some(l + used);
            self.timers.arm(Timer::Retransmit, now + self.rto.rto());
        }
    }

    /// RFC 6675 §5 step C: while cwnd - pipe >= 1 SMSS, send what NextSeg() names: a lost
    /// hole above HighRxt (rule 1), new data (rule 2), an unSACKed segment below the highest
    /// SACKed one (rule 3). Returns the segments sent.
    fn sack_output(&mut self, now: SimTime, out: &mut Output, limit: usize) -> usize {
        let smss = self.smss();
        let mut sent = 0;
        while sent < limit {
            let una = self.data_una();
            let pipe = self.board.pipe(smss, una, self.snd_max);
            if self.cc.cwnd() < pipe.saturating_add(smss) {
                break;
            }
            let rule1 = self.board.next_retransmit(smss, una, self.snd_max, false);
            let hole = match rule1 {
                Some(h) => Some(h),
                None if self.send_next(now, self.snd_wnd, smss, out) => None,
                None => match self.board.next_retransmit(smss, una, self.snd_max, true) {
                    Some(h) => Some(h),
                    None => break,
                },
            };
            if let Some((seq, len, _)) = hole {
                let used = self.retransmit_at(now, seq, len.min(smss), out);
                if used == 0 {
                    break;
                }
                self.board.high_rxt = Some(seq + used);
                if self.timers.at(Timer::Retransmit).is_none() {
                    self.timers.arm(Timer::Retransmit, now + self.rto.rto());
                }
            }
            sent += 1;
        }
        sent
    }

    /// Resends up to `len` sequence numbers from `seq` (inside `[SND.UNA, SND.MAX)`) without
    /// moving SND.NXT, with the FIN if they reach it; returns the sequence space used.
    fn retransmit_at(&mut self, now: SimTime, seq: SeqNum, len: u32, out: &mut Output) -> u32 {
        let start = seq.diff(self.data_una()).max(0) as usize;
        let sent_data =
            (self.snd_max.diff(self.data_una()).max(0) as usize).min(self.send_buf.len());
        let data_len = (len as usize).min(sent_data.saturating_sub(start));
        let fin_sent = self.fin_seq().is_some_and(|f| self.snd_max > f);
        let mut flags = Flags::ACK;
        let mut used = data_len as u32;
        if start + data_len == self.send_buf.len() {
            if data_len > 0 {
                flags = flags | Flags::PSH;
            }
            if fin_sent && data_len < len as usize {
                flags = flags | Flags::FIN;
                used += 1;
            }
        }
        if used == 0 {
            return 0;
        }
        let payload = self.send_buf.slice(start, data_len);
        let seg = self.segment(now, seq, flags, payload);
        self.retransmissions += 1;
        self.emit(now, seg, out);
        used
    }

    /// Resends the first unacknowledged segment without moving SND.NXT: fast retransmit (RFC
    /// 5681 §3.2 step 2) and NewReno's answer to a partial ACK (RFC 6582 §3.2 step 5).
    fn retransmit_first(&mut self, now: SimTime, out: &mut Output) {
        let seq = self.data_una();
        let outstanding = (self.snd_max.diff(seq).max(0) as usize).min(self.send_buf.len());
        let len = outstanding.min(self.smss() as usize);
        let fin_sent = self.fin_seq().is_some_and(|f| self.snd_max > f);
        let mut flags = Flags::ACK;
        if len == self.send_buf.len() {
            if len > 0 {
                flags = flags | Flags::PSH;
            }
            if fin_sent {
                flags = flags | Flags::FIN;
            }
        }
        if len == 0 && !fin_sent {
            return;
        }
        let payload = self.send_buf.slice(0, len);
        let seg = self.segment(now, seq, flags, payload);
        self.retransmissions += 1;
        self.timers.arm(Timer::Retransmit, now + self.rto.rto());
        self.emit(now, seg, out);
    }

    /// Logs the congestion state after an ACK (tcp_probe.csv).
    fn probe(&self, now: SimTime, ack: SeqNum, out: &mut Output) {
        out.log.push(TcpLog::Probe(Probe {
            at: now,
            conn: self.conn,
            tuple: self.tuple,
            ack,
            snd_una: self.snd_una,
            snd_nxt: self.snd_nxt,
            cwnd: if self.cc.enabled() {
                self.cc.cwnd()
            } else {
                u32::MAX
            },
            ssthresh: self.cc.ssthresh(),
            snd_wnd: self.snd_wnd,
            srtt: self.rto.srtt(),
            rttvar: self.rto.rttvar(),
            rto: self.rto.rto(),
            in_flight: self.flight(),
            dupacks: self.cc.dupacks(),
            phase: self.cc.phase(),
            sacked: self.board.sacked_bytes(),
            pipe: self.pipe(),
        }));
    }

    /// The delayed-ACK timer fired: send what is owed.
    fn delayed_ack_timeout(&mut self, now: SimTime, out: &mut Output) {
        if self.acks.scheduled() && self.state.is_synchronized() {
            self.acks.timer_fired(self.rto.rto());
            self.send_ack(now, out);
        }
    }

    fn transmit(&mut self, now: SimTime, flags: Flags, payload: Payload, out: &mut Output) {
        let seg = self.segment(now, self.snd_nxt, flags, payload);
        let len = seg.seg_len();
        if seg.tag.retransmission {
            self.retransmissions += 1;
        }
        if !seg.payload.is_empty() {
            self.acks.data_sent(now);
            self.last_data_sent = Some(now);
        }
        self.snd_nxt += len;
        if self.snd_nxt > self.snd_max {
            self.snd_max = self.snd_nxt;
        }
        // A running retransmission timer keeps its deadline; a probe gives way to it.
        if self.timers.at(Timer::Retransmit).is_none() {
            self.timers.arm(Timer::Retransmit, now + self.rto.rto());
        }
        self.emit(now, seg, out);
    }

    // ----- segment arrival (RFC 9293 §3.10.7) -----

    /// Processes one arriving segment.
    pub fn process(&mut self, now: SimTime, seg: &Segment, out: &mut Output) {
        match self.state {
            State::SynSent => self.process_syn_sent(now, seg, out),
            State::Closed | State::Listen | State::TimeWait => {}
            _ => self.process_synchronized(now, seg, out),
        }
    }

    /// §3.10.7.3, SYN-SENT.
    fn process_syn_sent(&mut self, now: SimTime, seg: &Segment, out: &mut Output) {
        let f = seg.flags;
        if f.ack() && (seg.ack <= self.iss || seg.ack > self.snd_max) {
            // An ACK for something we never sent: reset it, unless it is itself a reset.
            if let Some(rst) = Segment::reset_for(seg) {
                out.send(self.tuple, rst);
            }
            // Linux: the peer may have held an old connection the RST just ended, so the SYN
            // goes again at once rather than after the RTO.
            if self.config.quick_syn_resend && self.timers.retries == 0 {
                self.timers
                    .arm(Timer::Retransmit, now + Duration::from_millis(2));
            }
            return;
        }
        if f.rst() {
            if f.ack() {
                self.fail(
                    ConnError::Refused,
                    SocketEvent::Reset,
                    "RST received (refused)",
                    now,
                    out,
                );
            }
            return;
        }
        if !f.syn() {
            return;
        }
        self.learn_peer(seg, now);
        self.snd_wnd = seg.window as u32;
        self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
        self.snd_wl1 = seg.seq;
        self.snd_wl2 = seg.ack;
        if f.ack() {
            self.ack_advance(now, seg, None, out);
            if self.timers.syn_timed_out {
                self.rto.reset_after_syn_timeout();
            }
            self.set_state(State::Established, "SYN-ACK received", now, out);
            self.event(SocketEvent::Connected, out);
            // Data written during the handshake goes with (or right after) the ACK.
            self.output(now, out, AckDue::Now, usize::MAX);
        } else {
            // Simultaneous open: both SYNs crossed.
            self.set_state(
                State::SynReceived,
                "SYN received (simultaneous open)",
                now,
                out,
            );
            self.snd_max = self.iss;
            self.send_syn(now, out);
        }
    }

    /// RFC 9293 §3.10.7.4's acceptability test (the four cases).
    pub fn acceptable(&self, seq: SeqNum, len: u32) -> bool {
        let wnd = self.rcv_wnd();
        match (len, wnd) {
            (0, 0) => seq == self.rcv_nxt,
            (0, _) => seq.in_window(self.rcv_nxt, wnd),
            (_, 0) => false,
            (_, _) => {
                seq.in_window(self.rcv_nxt, wnd) || (seq + (len - 1)).in_window(self.rcv_nxt, wnd)
            }
        }
    }

    /// Every state after the handshake started.
    fn process_synchronized(&mut self, now: SimTime, seg: &Segment, out: &mut Output) {
        let f = seg.flags;
        // RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old duplicate.
        if let (Some(ts), Some(t)) = (&self.ts, seg.timestamps)
            && !f.rst()
            && (t.tsval.wrapping_sub(ts.recent) as i32) < 0
        {
            self.send_dupack(now, seg, out);
            return;
        }
        // Linux passes the peer's SYN-ACK in a simultaneous open straight to ACK processing (only
        // an active open can be simultaneous; a listener's SYN_RCVD ACKs a SYN-ACK and waits).
        let simultaneous_syn_ack = self.is_active()
            && self.state == State::SynReceived
            && f.syn()
            && f.ack()
            && Some(seg.seq) == self.irs
            && seg.ack == self.iss + 1;
        let len = seg.seg_len();
        if !simultaneous_syn_ack && !self.acceptable(seg.seq, len) {
            if f.rst() {
                return;
            }
            if self.config.check_req
                && self.state == State::SynReceived
                && f.syn()
                && !f.ack()
                && Some(seg.seq) == self.irs
            {
                // The peer did not hear our SYN-ACK and sent its SYN again: Linux
                // `tcp_check_req` resends the SYN-ACK (behind `tcp_oow_rate_limited`), where
                // RFC 9293 finds the SYN left of RCV.NXT and acknowledges it.
                if !self.oow_rate_limited(now) {
                    self.retransmit_syn(now, out);
                }
                return;
            }
            self.note_old_duplicate(seg);
            self.send_dupack(now, seg, out);
            // A zero window still takes the ACK of a segment that starts at RCV.NXT (§3.10.7.4).
            if self.rcv_wnd() == 0 && seg.seq == self.rcv_nxt && f.ack() {
                self.process_ack_field(now, seg, out);
            }
            return;
        }

        // Second: RST (RFC 5961 §3: only an exact match resets; in-window gets a challenge ACK).
        if f.rst() {
            match self.state {
                // RFC 5961 §3.2 applies to SYN-RECEIVED too; Linux `tcp_check_req` (a passive
                // open's request socket) drops the half-open connection on any in-window RST.
                State::SynReceived
                    if seg.seq != self.rcv_nxt
                        && (self.is_active() || self.config.rst_challenge_everywhere) =>
                {
                    self.send_challenge_ack(now, out)
                }
                State::SynReceived => {
                    if self.is_active() {
                        self.fail(
                            ConnError::Refused,
                            SocketEvent::Reset,
                            "RST received (refused)",
                            now,
                            out,
                        );
                    } else {
                        self.set_state(State::Closed, "RST received", now, out);
                    }
                }
                State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                    // Linux's timewait socket for an orphaned FIN_WAIT_2 is killed by any
                    // in-window RST (`tcp_timewait_state_process`: `if (th->rst) goto kill`).
                    if seg.seq == self.rcv_nxt || self.orphan_timewait() {
                        self.fail(
                            ConnError::Reset,
                            SocketEvent::Reset,
                            "RST received",
                            now,
                            out,
                        );
                    } else {
                        self.send_challenge_ack(now, out);
                    }
                }
                // RFC 5961 §3.2 covers CLOSING and LAST_ACK too: in window but inexact, challenge.
                _ if seg.seq != self.rcv_nxt => self.send_challenge_ack(now, out),
                _ => {
                    // CLOSING or LAST_ACK: the application has closed, but the close was not clean.
                    self.error = Some(ConnError::Reset);
                    self.set_state(State::Closed, "RST received", now, out);
                }
            }
            return;
        }

        // Fourth: SYN in a synchronized state (RFC 5961 §4: challenge ACK).
        if f.syn() && !simultaneous_syn_ack {
            if self.state == State::SynReceived && !self.is_active() {
                // RFC 9293: a passive SYN_RCVD returns to LISTEN; the listener stays. Linux
                // `tcp_check_req` also resets the SYN (embryonic_reset).
                if self.config.check_req {
                    self.reset_segment(seg, out);
                }
                self.set_state(State::Closed, "SYN received in SYN_RCVD", now, out);
            } else if self.orphan_timewait() && seg.seq >= self.rcv_nxt {
                // Linux holds an orphaned FIN_WAIT_2 as a timewait socket (`tcp_time_wait`
                // when `tcp_fin_time` <= TCP_TIMEWAIT_LEN), and `tcp_timewait_state_process`
                // answers a SYN at or after RCV.NXT with TCP_TW_RST: a reset, and it is gone.
                self.reset_segment(seg, out);
                self.error = Some(ConnError::Reset);
                self.set_state(
                    State::Closed,
                    "SYN received in orphaned FIN_WAIT_2",
                    now,
                    out,
                );
            } else {
                self.send_challenge_ack(now, out);
            }
            return;
        }

        // Fifth: ACK.
        if !f.ack() {
            return;
        }
        let handshake = self.state == State::SynReceived;
        if self.state == State::SynReceived {
            if seg.ack > self.snd_una && seg.ack <= self.snd_max {
                self.snd_wnd = (seg.window as u32) << self.snd_wscale;
                self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
                self.snd_wl1 = seg.seq;
                self.snd_wl2 = seg.ack;
                self.set_state(State::Established, "ACK of SYN", now, out);
                if self.is_active() {
                    self.event(SocketEvent::Connected, out);
                }
            } else {
                if let Some(rst) = Segment::reset_for(seg) {
                    out.send(self.tuple, rst);
                }
                return;
            }
        }
        if !self.process_ack_field(now, seg, out) {
            return;
        }
        if handshake && self.rto.srtt().is_none() {
            // RFC 6298 §5.7 on the passive side too (Linux `tcp_init_transfer`): a handshake
            // that gave no RTT sample (its SYN-ACK was resent) starts data at 3 s, not at the
            // backed-off SYN-ACK timer.
            self.rto.reset_after_syn_timeout();
        }
        if self.state == State::Closed || self.state == State::TimeWait {
            return;
        }

        // Timestamps: remember the peer's clock (RFC 7323 §4.3, simplified to in-order arrival).
        if let (Some(ts), Some(t)) = (&mut self.ts, seg.timestamps)
            && seg.seq <= self.rcv_nxt
        {
            ts.recent = t.tsval;
            ts.recent_at = now;
        }

        // Seventh: segment text.
        let mut data_ack = AckDue::No;
        if !seg.payload.is_empty() && self.state.can_receive() {
            if self.app_closed {
                // Linux: new data for a socket its application closed is answered with RST
                // (`tcp_rcv_state_process` returns 1, and `tcp_v4_send_reset` builds it from the
                // segment: <SEQ=SEG.ACK>); RFC 9293 names no form, so the ABORT's.
                if self.config.linux_resets {
                    self.reset_segment(seg, out);
                } else {
                    self.send_reset(now, out);
                }
                self.error = Some(ConnError::Aborted);
                self.set_state(State::Closed, "data after close", now, out);
                return;
            }
            data_ack = self.receive_data(now, seg, out);
        }

        // Eighth: FIN, once every byte before it has arrived.
        let mut fin_ack = AckDue::No;
        if f.fin() && self.state != State::SynReceived {
            let fin_seq = seg.seq + f.syn() as u32 + seg.payload.len() as u32;
            let off = self.rcv_off as i64 + fin_seq.diff(self.rcv_nxt) as i64;
            if off >= 0 && (off as u64) >= self.rcv_off {
                self.fin_at = Some(off as u64);
            }
            fin_ack = AckDue::Now;
        }
        if self.fin_at == Some(self.rcv_off) && !self.state.peer_fin_received() {
            let was = self.state;
            self.process_fin(now, out);
            if was == State::Established && f.fin() {
                // Linux `tcp_fin`: the ACK of a FIN into CLOSE_WAIT waits for the timer, so
                // the application's own FIN can carry it.
                self.acks.fin_received();
                fin_ack = AckDue::Delayable;
            }
        }
        let mut ack = data_ack.max(fin_ack);
        if simultaneous_syn_ack {
            // Its SYN lies left of RCV.NXT: a retransmission, acknowledged at once (Linux
            // `tcp_data_queue`).
            ack = AckDue::Now;
        }
        if self.state == State::Closed {
            return;
        }
        self.output(now, out, ack, usize::MAX);
    }

    /// The ACK field's effect (RFC 9293 §3.10.7.4 fifth). False if the segment must be dropped.
    fn process_ack_field(&mut self, now: SimTime, seg: &Segment, out: &mut Output) -> bool {
        if seg.ack > self.snd_max {
            // Acknowledges something not yet sent.
            self.send_ack(now, out);
            return false;
        }
        // RFC 5961 §5 (RFC 9293 MAY-12, as Linux): an ACK older than SND.UNA - MAX.SND.WND is
        // blind injection or an old duplicate; drop it with a challenge ACK.
        if self.config.rfc5961_ack_check
            && seg.ack < self.snd_una
            && self.snd_una.since(seg.ack) > self.max_snd_wnd
        {
            self.send_challenge_ack(now, out);
            return false;
        }
        // RFC 5681 §2's duplicate ACK: nothing new acknowledged, no data, no SYN or FIN, the
        // same window, and data outstanding.
        let duplicate = seg.ack == self.snd_una
            && self.snd_max > self.snd_una
            && seg.payload.is_empty()
            && !seg.flags.syn()
            && !seg.flags.fin()
            && (seg.window as u32) << self.snd_wscale == self.snd_wnd
            && self.state.is_synchronized();
        let high_ack = self.snd_una;
        // Linux tags SACKed segments before it cleans the retransmission queue: a SACK
        // sample is the fallback for an ACK that times nothing cumulatively.
        let sack_sent = match seg.sack.as_deref() {
            Some(b) if self.sack_ok && self.state.is_synchronized() => {
                self.rtt.sacked(sack::reported(b.as_slice(), seg.ack))
            }
            _ => None,
        };
        if seg.ack > self.snd_una {
            self.ack_advance(now, seg, sack_sent, out);
        } else if let Some(sent) = sack_sent {
            self.rtt_sample(now - sent);
        }
        // RFC 6675 §5 Update(): the scoreboard takes the ACK's SACK blocks.
        let newly_sacked = match seg.sack.as_deref() {
            Some(b) if self.sack_ok && self.state.is_synchronized() => {
                self.board
                    .update(b.as_slice(), seg.ack, self.data_una(), self.snd_max)
            }
            _ => false,
        };
        // RFC 6675 §2: with SACK, an ACK that SACKs new data without moving HighACK is a
        // duplicate too.
        let sack_duplicate =
            newly_sacked && seg.ack == high_ack && self.snd_max > self.snd_una && !duplicate;
        if (duplicate || sack_duplicate)
            && self.cc.on_dupack(self.snd_una, self.snd_max, self.flight())
                == Reaction::RetransmitFirst
        {
            self.start_recovery(now, out);
        } else if newly_sacked
            && self.cc.phase() == Phase::Open
            && self
                .board
                .is_lost(self.data_una(), self.smss(), self.data_una())
            && self
                .cc
                .enter_recovery(self.snd_una, self.snd_max, self.flight())
                == Reaction::RetransmitFirst
        {
            // RFC 6675 §5 step 2: IsLost(HighACK + 1) starts recovery before DupThresh
            // duplicates (several segments SACKed by one ACK).
            self.start_recovery(now, out);
        }
        // Only senders: a socket that never wrote has no congestion state worth a row.
        if out.probe && self.state.is_synchronized() && self.bytes_written > 0 {
            self.probe(now, seg.ack, out);
        }
        // Window update, unless the segment is older than the last one that set it.
        if seg.ack >= self.snd_una
            && (self.snd_wl1 < seg.seq || (self.snd_wl1 == seg.seq && self.snd_wl2 <= seg.ack))
        {
            let opened = self.snd_wnd == 0 && seg.window > 0;
            self.snd_wnd = (seg.window as u32) << self.snd_wscale;
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
            if opened {
                self.timers.stop(Timer::Persist);
                self.timers.probes = 0;
            }
        }
        match self.state {
            State::FinWait1 if self.fin_acked() => {
                self.set_state(State::FinWait2, "ACK of FIN", now, out);
                if self.app_closed {
                    self.timers
                        .arm(Timer::FinWait2, now + self.config.fin_timeout);
                }
            }
            State::Closing if self.fin_acked() => {
                self.set_state(State::TimeWait, "ACK of FIN", now, out);
            }
            State::LastAck if self.fin_acked() => {
                self.set_state(State::Closed, "ACK of FIN", now, out);
            }
            _ => {}
        }
        true
    }

    /// SND.UNA moves forward to `seg.ack`: free acknowledged bytes, take an RTT sample, rearm.
    /// `sack_sent` is the send time the same ACK's SACK blocks timed.
    fn ack_advance(
        &mut self,
        now: SimTime,
        seg: &Segment,
        sack_sent: Option<SimTime>,
        out: &mut Output,
    ) {
        let ack = seg.ack;
        let before = self.flight();
        let mut acked = ack.since(self.snd_una) as u64;
        if self.snd_una == self.iss && acked > 0 {
            acked -= 1; // our SYN
        }
        let data = acked.min(self.send_buf.len() as u64);
        // The ACK of our SYN is no signal about the path's capacity.
        let synchronized = self.state.is_synchronized();
        let was_full = self.send_buf.len() as u32 >= self.config.snd_buf;
        self.send_buf.consume(data as usize);
        self.una_off += data;
        self.snd_una = ack;
        self.board.advance(ack);
        if self.snd_nxt < self.snd_una {
            self.snd_nxt = self.snd_una;
        }
        // Linux `tcp_ack_update_rtt`: the cumulative sample, else the SACK one, else (RFC
        // 7323 §4's RTTM) the timestamp echo of an ACK of new data.
        let sample = match self.rtt.acked(ack).or(sack_sent) {
            Some(sent) => Some(now - sent),
            None => self.ts_echo_rtt(now, seg),
        };
        if let Some(r) = sample {
            self.rtt_sample(r);
        }
        self.timers.retries = 0;
        self.timers.probes = 0;
        if !self.rtt.retransmitted_outstanding() {
            self.timers.retrans_stamp = None;
        }
        if synchronized && acked > 0 {
            let reaction = self
                .cc
                .on_ack(now, ack, acked as u32, before, self.rto.srtt());
            if reaction == Reaction::RetransmitFirst {
                self.retransmit_first(now, out);
            }
        }
        if self.snd_una < self.snd_max {
            self.timers.arm(Timer::Retransmit, now + self.rto.rto());
        } else {
            self.timers.stop(Timer::Retransmit);
            self.timers.stop(Timer::Persist);
        }
        if (was_full || self.want_writable) && (self.send_buf.len() as u32) < self.config.snd_buf {
            self.want_writable = false;
            self.event(SocketEvent::Writable, out);
        }
    }

    /// One RTT measurement into the estimator.
    fn rtt_sample(&mut self, r: Duration) {
        self.rto.sample(r, self.snd_una, self.snd_nxt);
    }

    /// Linux `tcp_rtt_tsopt_us`: the RTT a timestamp echo gives, in whole ms of the TS clock
    /// (0 counts as 1 ms). Only the Linux timers take it.
    fn ts_echo_rtt(&self, now: SimTime, seg: &Segment) -> Option<Duration> {
        if self.config.timers != TimerPreset::Linux {
            return None;
        }
        let echo = seg.timestamps.filter(|t| t.tsecr != 0)?;
        let ours = self.timestamps(now)?.tsval;
        let ms = ours.wrapping_sub(echo.tsecr);
        (ms < i32::MAX as u32 / 1000).then(|| Duration::from_millis(u64::from(ms.max(1))))
    }

    /// Seventh step: place the segment's bytes, trimmed to the window, and deliver what is in
    /// order. Returns how soon the ACK is due (RFC 5681 §4.2: at once for out-of-order,
    /// duplicate or gap-filling data).
    fn receive_data(&mut self, now: SimTime, seg: &Segment, out: &mut Output) -> AckDue {
        let start = seg.seq + seg.flags.syn() as u32;
        // The part of the payload kept: `len` bytes from `from`.
        let (mut from, mut len) = (0, seg.payload.len());
        let mut tag = seg.tag;
        let ahead = start.diff(self.rcv_nxt);
        let mut rel: u64 = 0;
        let rcv_wnd = self.rcv_wnd();
        if ahead < 0 {
            let skip = (-(ahead as i64)) as usize;
            // Data we had already: our ACK was lost or late (Linux enters quick-ACK mode).
            self.acks.enter_quickack(rcv_wnd);
            // RFC 2883 §4: the part below RCV.NXT is a duplicate, reported in a D-SACK block.
            // (Bytes from before our IRS, such as another incarnation's, are no duplicate.)
            if let Some(dup_from) = self.rcv_off.checked_sub(skip as u64) {
                let dup = skip.min(len) as u64;
                self.duplicate_arrived(dup_from, dup_from + dup);
            }
            if skip >= len {
                return AckDue::Now;
            }
            (from, len) = (skip, len - skip);
            tag.offset += skip as u64;
        } else {
            rel = ahead as u64;
        }
        let room = (self.rcv_wnd() as u64).saturating_sub(rel) as usize;
        // RFC 9293 trims what lies beyond the window; Linux `tcp_data_queue` queues a segment
        // that starts inside it whole.
        if self.config.trim_to_window && len > room {
            len = room;
        }
        if len == 0 {
            return AckDue::Now;
        }
        let data = seg.payload.slice(from, len);
        let off = self.rcv_off + rel;
        if rel == 0 {
            let had_gap = !self.ooo.is_empty();
            self.acks
                .data_received(now, len as u32, rcv_wnd, self.rto.rto());
            self.deliver(now, off, data, tag, out);
            self.drain_ooo(now, out);
            self.sack_rx.delivered(self.rcv_off);
            if had_gap || ahead < 0 {
                AckDue::Now
            } else {
                AckDue::Delayable
            }
        } else {
            let end = off + len as u64;
            if self.ooo.covers(off, end) {
                // RFC 2883 §4: already held out of order, a duplicate.
                self.duplicate_arrived(off, end);
            }
            self.ooo.store(off, data, tag);
            if self.sack_ok {
                self.sack_rx.arrived(off, end, self.ooo.held());
            }
            self.acks.enter_quickack(rcv_wnd);
            AckDue::Now
        }
    }

    /// A duplicate of stream offsets `[start, end)` arrived: with D-SACK on, the next ACK (sent
    /// at once) reports it in its first block (RFC 2883 §4).
    fn duplicate_arrived(&mut self, start: u64, end: u64) {
        if self.sack_ok && self.config.dsack && end > start {
            self.sack_rx.duplicate(start, end);
        }
    }

    /// An unacceptable segment wholly below RCV.NXT is an old duplicate: D-SACK it (RFC 2883
    /// §4, Linux `tcp_data_queue`'s `tcp_dsack_set` for an out-of-window retransmission).
    fn note_old_duplicate(&mut self, seg: &Segment) {
        let start = seg.seq + seg.flags.syn() as u32;
        let len = seg.payload.len() as u64;
        let below = self.rcv_nxt.diff(start) as i64;
        if len > 0
            && below >= len as i64
            && below as u64 <= self.rcv_off
            && self.state.is_synchronized()
        {
            let off = self.rcv_off.wrapping_sub(below as u64);
            self.duplicate_arrived(off, off + len);
        }
    }

    fn drain_ooo(&mut self, now: SimTime, out: &mut Output) {
        while let Some(c) = self.ooo.pop_ready(self.rcv_off) {
            let skip = (self.rcv_off - c.off) as usize;
            if skip < c.data.len() {
                let tag = Tag {
                    offset: c.tag.offset + skip as u64,
                    ..c.tag
                };
                let rest = c.data.slice(skip, c.data.len() - skip);
                self.deliver(now, self.rcv_off, rest, tag, out);
            }
        }
    }

    /// In-order bytes join the stream; the audit checks where they came from.
    fn deliver(&mut self, now: SimTime, off: u64, data: Payload, tag: Tag, out: &mut Output) {
        let expected = self.peer_conn;
        if Some(tag.conn) != expected || tag.offset != off {
            self.bytes_corrupted += data.len() as u64;
            out.log.push(TcpLog::Corruption(Corruption {
                receiver: self.conn,
                tuple: self.tuple,
                expected,
                offset: off,
                len: data.len() as u32,
                origin: tag,
                at: now,
            }));
        }
        let was_empty = self.recv_buf.is_empty();
        self.recv_buf.push(&data);
        self.rcv_nxt += data.len() as u32;
        self.rcv_off += data.len() as u64;
        if was_empty {
            self.event(SocketEvent::Readable, out);
        }
    }

    /// Eighth step: the peer's FIN is in order.
    fn process_fin(&mut self, now: SimTime, out: &mut Output) {
        self.rcv_nxt += 1;
        self.fin_at = None;
        self.event(SocketEvent::PeerClosed, out);
        match self.state {
            State::SynReceived | State::Established => {
                self.set_state(State::CloseWait, "FIN received", now, out);
            }
            State::FinWait1 => {
                if self.fin_acked() {
                    self.set_state(State::TimeWait, "FIN received", now, out);
                } else {
                    self.set_state(
                        State::Closing,
                        "FIN received (simultaneous close)",
                        now,
                        out,
                    );
                }
            }
            State::FinWait2 => self.set_state(State::TimeWait, "FIN received", now, out),
            _ => {}
        }
    }

    fn retransmit_syn(&mut self, now: SimTime, out: &mut Output) {
        self.send_syn(now, out);
    }

    // ----- timeouts (RFC 9293 §3.10.8) -----

    /// Runs whatever timers are due at `now`.
    pub fn on_timer(&mut self, now: SimTime, out: &mut Output) {
        for timer in Timer::ALL {
            if !self.timers.take_due(timer, now) {
                continue;
            }
            match timer {
                Timer::FinWait2 => self.fin_wait_2_timeout(now, out),
                Timer::DelayedAck => self.delayed_ack_timeout(now, out),
                Timer::Persist => self.probe_zero_window(now, out),
                Timer::Retransmit => self.retransmission_timeout(now, out),
            }
        }
    }

    fn fin_wait_2_timeout(&mut self, now: SimTime, out: &mut Output) {
        if self.state == State::FinWait2 {
            self.set_state(State::Closed, "FIN_WAIT_2 timeout", now, out);
        }
    }

    /// RFC 9293 §3.8.6.1: a segment below the window draws an ACK that carries the window.
    fn probe_zero_window(&mut self, now: SimTime, out: &mut Output) {
        self.rto.back_off();
        self.timers.probes += 1;
        let probe = self.segment(now, self.snd_una - 1, Flags::ACK, Payload::default());
        self.emit(now, probe, out);
        if self.snd_wnd == 0 {
            self.timers.arm(Timer::Persist, now + self.rto.rto());
        }
    }

    /// Whether the retransmissions so far have used up their allowance (Linux
    /// `tcp_write_timeout`): a count of timeouts, and under the Linux timers also (for data,
    /// only) the time `tcp_model_timeout` gives that count.
    fn retries_exhausted(&mut self, now: SimTime) -> bool {
        let done = self.timers.retries; // retransmissions before this timeout
        let (limit, rto_base) = match self.state {
            State::SynSent => (self.config.syn_retries, Duration::from_secs(1)),
            // A request socket's count, lowered by SYN queue pruning (`reqsk_timer_handler`).
            State::SynReceived => return done >= self.synack_retries,
            _ => (self.config.data_retries, Duration::from_millis(200)),
        };
        let counted = done >= limit;
        if self.config.timers != TimerPreset::Linux {
            return counted;
        }
        // An orphan (closed by its application: Linux `SOCK_DEAD`) has its own allowance
        // (`tcp_orphan_retries`): 0 means 8 while the RTO is still below its ceiling.
        let limit = match self.config.orphan_retries {
            _ if !self.app_closed || self.state == State::SynSent => limit,
            0 if self.rto.rto() < self.config.rto_max => 8,
            n => n,
        };
        let stamp = *self
            .timers
            .retrans_stamp
            .get_or_insert(self.rtt.head_sent().unwrap_or(now));
        // `retransmits_timed_out`: no budget before the first retransmission.
        let timed_out = done > 0 && {
            let budget = model_timeout(limit, rto_base, self.config.rto_max);
            let ms = |t: SimTime| t.as_nanos() / 1_000_000;
            ms(now).saturating_sub(ms(stamp)) >= budget.as_millis()
        };
        // Data: the budget alone (`tcp_retries2`); SYN: either (`tcp_syn_retries`).
        timed_out || (self.state == State::SynSent && counted)
    }

    /// RFC 6298 §5.4-5.6: resend, back off, and give up after the configured retries.
    fn retransmission_timeout(&mut self, now: SimTime, out: &mut Output) {
        let exhausted = self.retries_exhausted(now);
        self.timers.retries += 1;
        if exhausted {
            if self.state == State::SynReceived && !self.is_active() {
                // A half-open connection no application has seen: dropped without an event,
                // but recorded as timed out.
                self.error = Some(ConnError::TimedOut);
                self.set_state(State::Closed, "SYN-ACK retries exhausted", now, out);
            } else {
                self.fail(
                    ConnError::TimedOut,
                    SocketEvent::TimedOut,
                    "retransmission timeout",
                    now,
                    out,
                );
            }
            return;
        }
        self.rto.back_off();
        match self.state {
            State::SynSent => {
                self.timers.syn_timed_out = true;
                self.send_syn(now, out);
            }
            State::SynReceived => {
                self.synack_timed_out = true;
                self.send_syn(now, out);
            }
            _ => {
                // Go back to the oldest unacknowledged byte and resend from there.
                self.cc
                    .on_timeout(self.timers.retries == 1, self.snd_max, self.flight());
                if self.sack_ok && self.cc.enabled() {
                    // RFC 6675 §5.1 with Linux's `tcp_enter_loss`: the SACKed ranges are kept
                    // (RFC 2018 §8 would clear them against reneging, which the model's receiver
                    // never does), every other byte sent is lost, and the holes are resent from
                    // the first, paced by pipe; SND.NXT stays.
                    self.board.lost_below = Some(self.snd_max);
                    self.board.high_rxt = Some(self.data_una());
                } else {
                    self.snd_nxt = self.snd_una;
                }
                self.rtt.timed_out();
                // Without congestion control, one segment; with it, cwnd is one SMSS now.
                let limit = if self.cc.enabled() { usize::MAX } else { 1 };
                self.output(now, out, AckDue::No, limit);
                if !self.timers.sending() && self.snd_una < self.snd_max {
                    self.timers.arm(Timer::Retransmit, now + self.rto.rto());
                }
            }
        }
    }

    // ----- user calls (RFC 9293 §3.10.1-6) -----

    /// The SYN-ACK retransmissions this half-open connection may still make: its listener
    /// lowers `synack_retries` when old requests crowd the SYN queue.
    pub(super) fn set_synack_retries(&mut self, n: u32) {
        self.synack_retries = n;
    }

    /// A passive open whose SYN-ACK has timed out at least once (no longer "young").
    pub(super) fn syn_ack_timed_out(&self) -> bool {
        self.synack_timed_out
    }

    /// Room in the send buffer: what SEND would take now (0 once sending is over).
    pub fn send_space(&self) -> usize {
        if !self.state.accepts_send() || self.fin_queued {
            return 0;
        }
        (self.config.snd_buf as usize).saturating_sub(self.send_buf.len())
    }

    /// SEND: queues up to the send buffer's room; returns the bytes taken.
    pub fn send(&mut self, now: SimTime, data: &Payload, out: &mut Output) -> usize {
        if !self.state.accepts_send() || self.fin_queued {
            return 0;
        }
        let n = self.send_space().min(data.len());
        if n == data.len() {
            self.send_buf.push(data);
        } else {
            self.send_buf.push(&data.slice(0, n));
        }
        self.bytes_written += n as u64;
        if n < data.len() {
            self.want_writable = true;
        }
        self.output(now, out, AckDue::No, usize::MAX);
        n
    }

    /// RECEIVE: takes up to `max` bytes in order. Opens the window again if it had closed.
    pub fn recv(&mut self, now: SimTime, max: usize, out: &mut Output) -> Payload {
        let data = self.recv_buf.take(max);
        let n = data.len();
        self.eof_read |= self.recv_buf.is_empty() && self.peer_closed();
        // RFC 9293 §3.8.6.2.2: reopen once min(MSS, RCV.BUFF / 2) is free (a buffer below one
        // MSS would otherwise never announce its window and leave the sender to its probes).
        let step = (self.config.mss as u32).min(self.config.rcv_buf / 2).max(1);
        if n > 0
            && self.last_adv_wnd < step
            && self.rcv_wnd() >= step
            && self.state.is_synchronized()
        {
            self.send_ack(now, out);
        }
        data
    }

    /// CLOSE: no more sends and no more reads. Unread data makes it an abort (RFC 2525 §2.17,
    /// as Linux does).
    pub fn close(&mut self, now: SimTime, out: &mut Output) {
        self.app_closed = true;
        if !self.recv_buf.is_empty() && self.state.is_synchronized() {
            self.send_reset(now, out);
            self.error = Some(ConnError::Aborted);
            self.set_state(State::Closed, "close with unread data", now, out);
            return;
        }
        self.shutdown(now, out);
        if self.state == State::FinWait2 && self.timers.at(Timer::FinWait2).is_none() {
            self.timers
                .arm(Timer::FinWait2, now + self.config.fin_timeout);
        }
    }

    /// Half close: our FIN follows the data; reads go on.
    pub fn shutdown(&mut self, now: SimTime, out: &mut Output) {
        match self.state {
            State::SynSent => self.set_state(State::Closed, "close", now, out),
            State::SynReceived | State::Established => {
                self.fin_queued = true;
                self.set_state(State::FinWait1, "close", now, out);
                self.output(now, out, AckDue::No, usize::MAX);
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.set_state(State::LastAck, "close", now, out);
                self.output(now, out, AckDue::No, usize::MAX);
            }
            _ => {}
        }
    }

    /// ABORT: RST to the peer if it knows us, then CLOSED.
    pub fn abort(&mut self, now: SimTime, out: &mut Output) {
        self.app_closed = true;
        if self.state.peer_knows_us() {
            self.send_reset(now, out);
        }
        if self.state != State::Closed {
            self.error.get_or_insert(ConnError::Aborted);
            self.set_state(State::Closed, "abort", now, out);
        }
    }

    /// True once the handshake completed (even if the connection has since closed).
    pub fn established_or_later(&self) -> bool {
        self.established_at.is_some()
    }

    /// Closes without telling the peer (the host answers for it, e.g. on accept-queue overflow).
    pub fn abort_silently(&mut self, now: SimTime, cause: &'static str, out: &mut Output) {
        self.app_closed = true;
        self.set_state(State::Closed, cause, now, out);
    }

    /// True once the application has closed (or aborted) this socket.
    pub fn app_closed(&self) -> bool {
        self.app_closed
    }
}

/// Linux `tcp_model_timeout`: the time `boundary` retransmissions take when the RTO starts at
/// `rto_base` and doubles up to `rto_max`, then stays there: the time budget Linux gives
/// `tcp_retries2` (924.6 s for 15 from 200 ms).
fn model_timeout(boundary: u32, rto_base: Duration, rto_max: Duration) -> Duration {
    let base = rto_base.as_millis().max(1);
    let thresh = (rto_max.as_millis() / base).max(1).ilog2();
    // 2^(n+1) - 1 timeouts' worth of the base, saturating for absurd settings.
    let doubling = |n: u32| {
        1u64.checked_shl(n + 1)
            .unwrap_or(u64::MAX)
            .saturating_sub(1)
            .saturating_mul(base)
    };
    let ms = if boundary <= thresh {
        doubling(boundary)
    } else {
        doubling(thresh)
            .saturating_add(u64::from(boundary - thresh).saturating_mul(rto_max.as_millis()))
    };
    Duration::from_millis(ms)
}
