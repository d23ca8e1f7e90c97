//! Connection states, 4-tuples, and what a socket reports to its host.

use std::fmt;
use std::net::SocketAddrV4;

use super::congestion::Phase;
use super::segment::{ConnId, Segment, Tag};
use super::seq::SeqNum;
use super::wakeup::Wakeup;
use crate::sim::{Duration, SimTime};

/// The eleven states of RFC 9293 §3.3.2.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum State {
    /// No connection.
    Closed,
    /// Waiting for a connection request.
    Listen,
    /// Sent a SYN, waiting for a matching SYN.
    SynSent,
    /// Received and sent a SYN, waiting for the ACK of ours.
    SynReceived,
    /// Open; data flows both ways.
    Established,
    /// Sent our FIN (active close), waiting for its ACK or the peer's FIN.
    FinWait1,
    /// Our FIN is acknowledged; waiting for the peer's FIN.
    FinWait2,
    /// Received the peer's FIN (passive close); waiting for our application to close.
    CloseWait,
    /// Both sides sent FIN at once; waiting for the ACK of ours.
    Closing,
    /// Passive closer sent its FIN; waiting for the last ACK.
    LastAck,
    /// Active closer, done; waiting 2 x MSL for old duplicates to die.
    TimeWait,
}

impl State {
    /// Every state, in RFC order.
    pub const ALL: [State; 11] = [
        State::Closed,
        State::Listen,
        State::SynSent,
        State::SynReceived,
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ];

    /// The name used in the RFC and in the simulator's files: `SYN_RCVD`, `FIN_WAIT_1`, ...
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN_SENT",
            State::SynReceived => "SYN_RCVD",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN_WAIT_1",
            State::FinWait2 => "FIN_WAIT_2",
            State::CloseWait => "CLOSE_WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST_ACK",
            State::TimeWait => "TIME_WAIT",
        }
    }

    /// The spelling Linux `netstat -tan` prints: `SYN_RECV`, `FIN_WAIT1`, `CLOSE`, ...
    pub fn netstat(self) -> &'static str {
        match self {
            State::Closed => "CLOSE",
            State::SynReceived => "SYN_RECV",
            State::FinWait1 => "FIN_WAIT1",
            State::FinWait2 => "FIN_WAIT2",
            other => other.name(),
        }
    }

    /// The spelling of `ss`: `ESTAB`, `SYN-RECV`, `FIN-WAIT-1`, `UNCONN` for CLOSED, ...
    pub fn ss(self) -> &'static str {
        match self {
            State::Closed => "UNCONN",
            State::Listen => "LISTEN",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECV",
            State::Established => "ESTAB",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        }
    }

    /// States in which both sides' sequence numbers are known (RFC 9293 §3.10.7.4).
    pub fn is_synchronized(self) -> bool {
        !matches!(
            self,
            State::Closed | State::Listen | State::SynSent | State::SynReceived
        )
    }

    /// The application's SEND is queued (RFC 9293 §3.10.2): before our FIN, from SYN_SENT on.
    pub fn accepts_send(self) -> bool {
        matches!(
            self,
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        )
    }

    /// Data and our FIN may go out: the handshake is done and our FIN is not yet acknowledged.
    pub fn can_send(self) -> bool {
        matches!(
            self,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        )
    }

    /// Segment text is taken (RFC 9293 §3.10.7.4 seventh): the peer has not sent its FIN.
    pub fn can_receive(self) -> bool {
        matches!(self, State::Established | State::FinWait1 | State::FinWait2)
    }

    /// Our FIN is sent and not yet acknowledged.
    pub fn fin_in_flight(self) -> bool {
        matches!(self, State::FinWait1 | State::Closing | State::LastAck)
    }

    /// The peer's FIN has been processed (RFC 9293 §3.10.7.4 eighth).
    pub fn peer_fin_received(self) -> bool {
        matches!(
            self,
            State::CloseWait | State::Closing | State::LastAck | State::TimeWait
        )
    }

    /// The peer knows this connection, so ABORT and a RST received apply to it (RFC 9293
    /// §3.10.5; CLOSING, LAST_ACK and TIME_WAIT have nothing left to reset).
    pub fn peer_knows_us(self) -> bool {
        matches!(
            self,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A connection's two endpoints, from this host's side.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct FourTuple {
    /// This host's address and port.
    pub local: SocketAddrV4,
    /// The peer's address and port.
    pub remote: SocketAddrV4,
}

impl fmt::Display for FourTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.local, self.remote)
    }
}

/// What a socket tells the application that owns it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SocketEvent {
    /// The handshake completed (active open).
    Connected,
    /// New in-order bytes can be read.
    Readable,
    /// The send buffer has room again.
    Writable,
    /// The peer sent FIN: reads will hit end of stream once the buffer is drained.
    PeerClosed,
    /// The peer reset the connection (or refused it, during connect).
    Reset,
    /// Retransmissions ran out (RFC 9293 "connection aborted due to user timeout").
    TimedOut,
    /// A listener's accept queue has a connection waiting.
    Incoming,
}

/// How a connection ended badly, as its application learned it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConnError {
    /// RST answered our SYN.
    Refused,
    /// RST on an open connection.
    Reset,
    /// Retransmission limit reached.
    TimedOut,
    /// Our application aborted it (sent RST).
    Aborted,
}

impl ConnError {
    /// Lower-case name for CSV files.
    pub fn name(self) -> &'static str {
        match self {
            ConnError::Refused => "refused",
            ConnError::Reset => "reset",
            ConnError::TimedOut => "timed_out",
            ConnError::Aborted => "aborted",
        }
    }
}

/// Bytes delivered to a connection that its peer incarnation did not write at that offset.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Corruption {
    /// The receiving incarnation.
    pub receiver: ConnId,
    /// Its 4-tuple.
    pub tuple: FourTuple,
    /// The incarnation it expected bytes from (its peer), if known.
    pub expected: Option<ConnId>,
    /// Stream offset in the receiver's stream.
    pub offset: u64,
    /// Bytes affected.
    pub len: u32,
    /// Where the bytes really came from.
    pub origin: Tag,
    /// When they were delivered.
    pub at: SimTime,
}

/// A change of state, for `states.csv`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Transition {
    /// The incarnation.
    pub conn: ConnId,
    /// Its 4-tuple.
    pub tuple: FourTuple,
    /// From.
    pub from: State,
    /// To.
    pub to: State,
    /// Why, in a few words ("FIN received", "2MSL expired").
    pub cause: &'static str,
    /// How long the connection was in `from` (zero when `from` is CLOSED).
    pub held: Duration,
}

/// The life of one connection incarnation, for `connections.csv`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ConnRecord {
    /// The incarnation.
    pub conn: ConnId,
    /// Its 4-tuple.
    pub tuple: FourTuple,
    /// True if this side sent the first SYN.
    pub active: bool,
    /// Our initial sequence number.
    pub iss: SeqNum,
    /// The peer's, once known.
    pub irs: Option<SeqNum>,
    /// When the socket was created.
    pub opened_at: SimTime,
    /// When it left the handshake, if it did.
    pub established_at: Option<SimTime>,
    /// When the full socket was released (entering CLOSED or TIME_WAIT).
    pub closed_at: SimTime,
    /// Bytes the application wrote.
    pub bytes_written: u64,
    /// Bytes delivered in order to this side.
    pub bytes_delivered: u64,
    /// Of those, bytes from another incarnation.
    pub bytes_corrupted: u64,
    /// Segments sent again.
    pub retransmissions: u32,
    /// State when released.
    pub final_state: State,
    /// What went wrong, if anything.
    pub error: Option<ConnError>,
}

/// Everything TCP reports for the record (never read back by TCP).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TcpLog {
    /// A socket changed state.
    State(Transition),
    /// A sender's congestion state after an ACK (only when [`Output::probe`] is set).
    Probe(Probe),
    /// A full socket was released.
    Closed(ConnRecord),
    /// Bytes from the wrong incarnation were delivered.
    Corruption(Corruption),
    /// The TIME_WAIT table was full, so a closing socket skipped TIME_WAIT (Linux prints
    /// "TCP: time wait bucket table overflow").
    TimeWaitOverflow(ConnId, FourTuple),
    /// A listener turned a connection away (Linux counts these in `netstat -s`).
    ListenDrop {
        /// The listener's address (may be 0.0.0.0).
        listener: SocketAddrV4,
        /// The peer whose segment was dropped.
        remote: SocketAddrV4,
        /// Which queue was full.
        why: ListenDropKind,
    },
}

/// One sender's congestion state right after it processed an ACK: Linux's `tcp_probe`
/// tracepoint, ns-3's `CongestionWindow` trace source.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Probe {
    /// When the ACK was processed.
    pub at: SimTime,
    /// The sender.
    pub conn: ConnId,
    /// The sender's endpoints.
    pub tuple: FourTuple,
    /// The ACK's acknowledgment number.
    pub ack: SeqNum,
    /// SND.UNA after the ACK.
    pub snd_una: SeqNum,
    /// SND.NXT after the ACK.
    pub snd_nxt: SeqNum,
    /// Congestion window, bytes (`u32::MAX` without congestion control).
    pub cwnd: u32,
    /// Slow-start threshold, bytes (`u32::MAX` before the first loss).
    pub ssthresh: u32,
    /// The peer's window, bytes.
    pub snd_wnd: u32,
    /// Smoothed RTT, once measured.
    pub srtt: Option<Duration>,
    /// RTT variation.
    pub rttvar: Duration,
    /// Retransmission timeout, backoff included.
    pub rto: Duration,
    /// Bytes sent and not acknowledged.
    pub in_flight: u32,
    /// Duplicate ACKs in a row.
    pub dupacks: u32,
    /// Open, recovery or loss.
    pub phase: Phase,
    /// Bytes SACKed on the scoreboard (RFC 6675 §3), 0 without SACK.
    pub sacked: u32,
    /// RFC 6675's pipe, bytes the sender estimates are in the network (`None` without SACK).
    pub pipe: Option<u32>,
}

/// Why a listener dropped a handshake segment.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum ListenDropKind {
    /// A SYN, because the accept queue or the SYN queue was full ("SYNs to LISTEN sockets
    /// dropped").
    Syn,
    /// A handshake's final ACK, because the accept queue was full ("times the listen queue of
    /// a socket overflowed"); ignored, or answered by RST with `abort_on_overflow`.
    Overflow,
}

/// One line of `netstat -tan`: a listener, a connection, or a TIME_WAIT record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NetstatRow {
    /// Bytes received and not read (for a listener: connections waiting in the accept queue).
    pub recv_q: u64,
    /// Bytes written and not acknowledged.
    pub send_q: u64,
    /// Local address.
    pub local: SocketAddrV4,
    /// Remote address; `None` for a listener (`0.0.0.0:*`).
    pub foreign: Option<SocketAddrV4>,
    /// State.
    pub state: State,
    /// A listener's backlog (what `ss` shows as its Send-Q); 0 for a connection.
    pub backlog: u32,
    /// The timer pending, as `ss -o` and `netstat -o` show it.
    pub timer: Option<SocketTimer>,
}

/// What a pending timer is for, in the words of Linux `ss -o` (`netstat -o` says `probe` for
/// `persist`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TimerKind {
    /// Retransmission (of data, a SYN or a FIN).
    On,
    /// Zero-window probe.
    Persist,
    /// TIME_WAIT, or an orphaned FIN_WAIT_2 (Linux keeps both as timewait sockets).
    TimeWait,
}

impl TimerKind {
    /// `ss`'s name.
    pub fn ss(self) -> &'static str {
        match self {
            TimerKind::On => "on",
            TimerKind::Persist => "persist",
            TimerKind::TimeWait => "timewait",
        }
    }
}

/// A socket's pending timer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SocketTimer {
    /// What it is for.
    pub kind: TimerKind,
    /// Time left until it fires.
    pub remaining: Duration,
    /// Retransmissions (or probes) sent since the last progress.
    pub retrans: u32,
}

/// A segment ready to be put in an IP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Source and destination.
    pub tuple: FourTuple,
    /// The segment, boxed as it will travel (see [`Output::send`]).
    pub segment: Box<Segment>,
}

/// What one call into TCP produced. The host drains it after each call.
#[derive(Default, Debug)]
pub struct Output {
    /// Deadlines: each is the whole next deadline of its socket (or of the TIME_WAIT table)
    /// as of this call; a socket reports one only if it is earlier than every one it reported
    /// since its wakeup last fired. The host keeps one wakeup per [`Wakeup`] no later than the
    /// earliest reported since it last fired, and calls `Stack::wakeup` then.
    pub wakeups: Vec<(Wakeup, SimTime)>,
    /// Sockets released: their pending wakeups are no longer needed.
    pub released: Vec<u64>,
    /// Segments to send, in order.
    pub segments: Vec<Outgoing>,
    /// Events for applications: (owner, socket handle, event).
    pub events: Vec<(u32, u64, SocketEvent)>,
    /// Records for the reports.
    pub log: Vec<TcpLog>,
    /// Log a [`Probe`] for every ACK a sender processes (off unless a report wants them).
    pub probe: bool,
    /// Emptied segment boxes for [`Output::send`], which the host returns as it sends: a
    /// segment is written once, into the box it travels in, and once boxes come back,
    /// sending allocates nothing.
    pub spare: Vec<Box<Segment>>,
}

impl Output {
    /// True if the call produced nothing at all.
    pub fn is_empty(&self) -> bool {
        self.wakeups.is_empty()
            && self.released.is_empty()
            && self.segments.is_empty()
            && self.events.is_empty()
            && self.log.is_empty()
    }

    /// Queues `segment` to be sent on `tuple` (from its local to its remote address).
    pub fn send(&mut self, tuple: FourTuple, segment: Segment) {
        let segment = match self.spare.pop() {
            Some(mut b) => {
                *b = segment;
                b
            }
            None => Box::new(segment),
        };
        self.segments.push(Outgoing { tuple, segment });
    }

    /// Empties every list, keeping their allocations.
    pub fn clear(&mut self) {
        self.wakeups.clear();
        self.released.clear();
        self.segments.clear();
        self.events.clear();
        self.log.clear();
    }
}
