//! TCP attributes, each with its default and the source it comes from (REFERENCE.md).

use crate::sim::Duration;

/// How initial sequence numbers are chosen (RFC 9293 §3.4.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IsnPolicy {
    /// RFC 793: a 32-bit clock ticking every 4 us, shared by all connections of a host.
    Rfc793Clock,
    /// RFC 6528: the 4 us clock plus a keyed hash of the 4-tuple (RFC 9293's recommendation).
    Rfc6528,
    /// Linux `secure_tcp_seq`: keyed hash of the 4-tuple plus a 64 ns clock.
    Linux,
    /// A uniform random draw per connection.
    Random,
    /// The same number every time (to make incarnations collide on purpose).
    Fixed(u32),
}

/// What a TIME_WAIT socket does with a SYN for its 4-tuple.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SynInTimeWait {
    /// RFC 9293 §3.10.7.4: no reopening; answer with an ACK (RFC 5961 challenge) and stay.
    Rfc9293,
    /// RFC 1122 §4.2.2.13: reopen if the SYN's sequence number is above the old RCV.NXT,
    /// with an ISS above the old SND.NXT.
    Rfc1122,
    /// Linux `tcp_timewait_state_process`: reopen if SEQ is after RCV.NXT or the timestamp is
    /// newer; the new ISS is the old SND.NXT + 65537.
    Linux,
    /// RFC 6191: with timestamps, reopen only for a newer timestamp (or an equal one with a
    /// higher SEQ) and otherwise drop silently; without timestamps, the RFC 1122 rule.
    Rfc6191,
}

/// TCP settings for a host. `Default` is the Linux-flavoured baseline the README documents.
#[derive(Clone, Debug, PartialEq)]
pub struct TcpConfig {
    /// Largest payload per segment: 1460 = Ethernet MTU 1500 - 40 bytes of headers.
    pub mss: u16,
    /// Receive buffer; the advertised window is its free space, capped at 65,535 (no scaling).
    pub rcv_buf: u32,
    /// Send buffer: bytes the application may have written but not yet had acknowledged.
    pub snd_buf: u32,
    /// RTO before any RTT sample: 1 s (RFC 6298 §2.1; Linux too).
    pub rto_initial: Duration,
    /// Lower bound on RTO: 1 s in RFC 6298 §2.4, 200 ms in Linux (`TCP_RTO_MIN`).
    pub rto_min: Duration,
    /// Upper bound on RTO: at least 60 s in RFC 6298 §2.5, 120 s in Linux (`TCP_RTO_MAX`).
    pub rto_max: Duration,
    /// SYN retransmissions before connect fails: Linux `tcp_syn_retries` = 6 (127 s).
    pub syn_retries: u32,
    /// SYN-ACK retransmissions before a half-open connection is dropped: Linux 5 (63 s).
    pub synack_retries: u32,
    /// Retransmissions of data or FIN before the connection fails: Linux `tcp_retries2` = 15.
    pub data_retries: u32,
    /// Maximum segment lifetime the network is assumed to honour (RFC 9293 §3.4.2 says 2 min;
    /// BSD and Linux's 60 s TIME_WAIT imply 30 s).
    pub msl: Duration,
    /// How long the active closer stays in TIME_WAIT: 2 x MSL (RFC 9293 MUST-13); 0 = none.
    pub time_wait: Duration,
    /// How long an orphaned FIN_WAIT_2 socket waits for the peer's FIN: Linux `tcp_fin_timeout`.
    pub fin_timeout: Duration,
    /// ISN choice.
    pub isn: IsnPolicy,
    /// SYN arriving for a 4-tuple in TIME_WAIT.
    pub syn_in_time_wait: SynInTimeWait,
    /// RFC 1337 fix F1: ignore RST in TIME_WAIT (Linux `tcp_rfc1337`, default off).
    pub rfc1337: bool,
    /// RFC 7323 timestamps and PAWS.
    pub timestamps: bool,
    /// Linux `tcp_tw_reuse`: an outgoing connection may take over a TIME_WAIT 4-tuple whose
    /// last timestamp is at least 1 s old (needs timestamps).
    pub tw_reuse: bool,
    /// Linux `tcp_max_tw_buckets`: beyond it, closing sockets skip TIME_WAIT.
    pub max_tw_buckets: u32,
    /// Ephemeral ports, inclusive: Linux `ip_local_port_range` 32768-60999.
    pub port_range: (u16, u16),
    /// Linux `tcp_abort_on_overflow`: RST (true) or ignore (false) a handshake's final ACK when
    /// the accept queue is full.
    pub abort_on_overflow: bool,
    /// Half-open connections a listener keeps: Linux `tcp_max_syn_backlog`.
    pub max_syn_backlog: u32,
    /// RFC 5961 §5 (RFC 9293 MAY-12): drop segments whose ACK is older than
    /// SND.UNA - MAX.SND.WND. Linux does; stacks before 2010 did not.
    pub rfc5961_ack_check: bool,
}

impl Default for TcpConfig {
    fn default() -> Self {
        let msl = Duration::from_secs(30);
        TcpConfig {
            mss: 1460,
            rcv_buf: 65_535,
            snd_buf: 262_144,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(120),
            syn_retries: 6,
            synack_retries: 5,
            data_retries: 15,
            msl,
            time_wait: msl * 2,
            fin_timeout: Duration::from_secs(60),
            isn: IsnPolicy::Rfc6528,
            syn_in_time_wait: SynInTimeWait::Linux,
            rfc1337: false,
            timestamps: false,
            tw_reuse: false,
            max_tw_buckets: 262_144,
            port_range: (32768, 60999),
            abort_on_overflow: false,
            max_syn_backlog: 4096,
            rfc5961_ack_check: true,
        }
    }
}

impl TcpConfig {
    /// RFC 6298's timer bounds: minimum RTO 1 s, maximum 60 s.
    pub fn rfc6298_timers(mut self) -> Self {
        self.rto_min = Duration::from_secs(1);
        self.rto_max = Duration::from_secs(60);
        self
    }

    /// Number of ephemeral ports.
    pub fn port_count(&self) -> u32 {
        (self.port_range.1 as u32 + 1).saturating_sub(self.port_range.0 as u32)
    }
}
