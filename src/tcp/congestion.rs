//! Congestion control: how many bytes a sender may have in flight beyond what the peer's
//! window allows. Slow start and congestion avoidance with byte counting (RFC 5681 §3.1,
//! RFC 3465), fast retransmit and fast recovery (RFC 5681 §3.2) with NewReno's partial ACKs
//! (RFC 6582), CUBIC's window growth (RFC 9438), and the restart after idle (RFC 5681 §4.1 as
//! Linux `tcp_cwnd_restart` does it). Plain data: the socket tells it what the ACKs say and
//! asks it how much may be sent.

use super::seq::SeqNum;
use crate::sim::{Duration, SimTime};

/// Which congestion control a host's sockets run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Congestion {
    /// RFC 9438 CUBIC (Linux's default since 2.6.19).
    Cubic,
    /// RFC 5681 with RFC 6582's partial-ACK rule (ns-3's default).
    NewReno,
    /// RFC 5681 alone: any new ACK ends fast recovery.
    Reno,
    /// No congestion window: send what the peer's window allows; recover by timeout only.
    None,
}

/// Where a sender stands, as Linux's `tcp_ca_state` names it (tcp_probe prints it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// No loss being repaired (`TCP_CA_Open`).
    Open,
    /// Fast recovery after a fast retransmit (`TCP_CA_Recovery`).
    Recovery,
    /// Repairing after a retransmission timeout (`TCP_CA_Loss`).
    Loss,
}

impl Phase {
    /// The name tcp_probe.csv writes.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Open => "open",
            Phase::Recovery => "recovery",
            Phase::Loss => "loss",
        }
    }
}

/// What the socket must do after an ACK or a duplicate ACK.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reaction {
    /// Nothing beyond sending what the window now allows.
    None,
    /// Resend the first unacknowledged segment now (fast retransmit, or a NewReno partial ACK).
    RetransmitFirst,
}

/// RFC 9438 §5: C = 0.4.
const CUBIC_C: f64 = 0.4;
/// RFC 9438 §4.6: the multiplicative decrease factor.
const CUBIC_BETA: f64 = 0.7;
/// RFC 5681 §3.2: the third duplicate ACK starts fast retransmit.
pub const DUPACK_THRESHOLD: u32 = 3;

/// CUBIC's state for the current congestion epoch (RFC 9438 §4.1), in segments and seconds.
#[derive(Clone, Debug, Default)]
struct Cubic {
    /// W_max: the window just before the last reduction.
    w_max: f64,
    /// When the current avoidance epoch began (the first ACK after the reduction).
    epoch_start: Option<SimTime>,
    /// K: time the cubic function takes to climb back to `origin`.
    k: f64,
    /// The plateau the cubic function is centred on (W_max, or cwnd if above it).
    origin: f64,
    /// W_est: the window standard TCP would have now (RFC 9438 §4.3).
    w_est: f64,
    /// cwnd, in segments, with the fraction integer bytes lose.
    cwnd: f64,
}

/// One connection's congestion state.
#[derive(Clone, Debug)]
pub struct CongestionControl {
    algorithm: Congestion,
    /// SMSS: the sender's maximum segment size.
    smss: u32,
    /// IW (RFC 6928), in bytes; also the restart window after idle.
    initial: u32,
    /// cwnd, in bytes.
    cwnd: u32,
    /// ssthresh, in bytes (arbitrarily high until the first loss, RFC 5681 §3.1).
    ssthresh: u32,
    /// Bytes acknowledged since cwnd last grew in congestion avoidance (RFC 3465 §2.1).
    bytes_acked: u32,
    /// Duplicate ACKs in a row.
    dupacks: u32,
    /// RFC 5681 §3.2's temporary inflation during fast recovery, one SMSS per segment the
    /// duplicates say has left the network. Kept apart from cwnd (as ns-3's `cWndInfl`), so
    /// cwnd reads as the window recovery returns to.
    inflation: u32,
    phase: Phase,
    /// RFC 6582 `recover`: SND.MAX when the last fast recovery or timeout began.
    recover: SeqNum,
    /// SACK is in use (RFC 6675): recovery counts `pipe` instead of inflating the window, and
    /// the socket picks what to resend from its scoreboard.
    sack: bool,
    cubic: Cubic,
}

impl CongestionControl {
    /// A connection's controller once the handshake fixed SMSS; `iss` seeds `recover`.
    pub fn new(algorithm: Congestion, smss: u32, initial_segments: u32, iss: SeqNum) -> Self {
        let smss = smss.max(1);
        let initial = initial_segments.max(1).saturating_mul(smss);
        CongestionControl {
            algorithm,
            smss,
            initial,
            cwnd: initial,
            ssthresh: u32::MAX,
            bytes_acked: 0,
            dupacks: 0,
            inflation: 0,
            phase: Phase::Open,
            recover: iss,
            sack: false,
            cubic: Cubic::default(),
        }
    }

    /// Bytes the congestion window allows in flight (unbounded without congestion control).
    pub fn window(&self) -> u32 {
        match self.algorithm {
            Congestion::None => u32::MAX,
            _ => self.cwnd.saturating_add(self.inflation),
        }
    }

    /// True if this controller limits sending at all.
    pub fn enabled(&self) -> bool {
        self.algorithm != Congestion::None
    }

    /// cwnd in bytes.
    pub fn cwnd(&self) -> u32 {
        self.cwnd
    }

    /// ssthresh in bytes (`u32::MAX` before the first loss).
    pub fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    /// Open, recovery or loss.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Both ends agreed on SACK: RFC 6675 loss recovery (no inflation, no partial-ACK rule).
    pub fn use_sack(&mut self) {
        self.sack = true;
    }

    /// RFC 6582 `recover`, RFC 6675 RecoveryPoint: SND.MAX when the last recovery or timeout
    /// began.
    pub fn recovery_point(&self) -> SeqNum {
        self.recover
    }

    /// Duplicate ACKs counted since the last new ACK.
    pub fn dupacks(&self) -> u32 {
        self.dupacks
    }

    /// An ACK moved SND.UNA forward by `acked` bytes to `ack`; `before` was in flight before
    /// it; `rtt` is the smoothed RTT, if measured.
    pub fn on_ack(
        &mut self,
        now: SimTime,
        ack: SeqNum,
        acked: u32,
        before: u32,
        rtt: Option<Duration>,
    ) -> Reaction {
        if !self.enabled() {
            return Reaction::None;
        }
        self.dupacks = 0;
        match self.phase {
            // RFC 6675 §5 step C: with SACK a partial ACK changes no window; the socket
            // resends from its scoreboard while cwnd - pipe >= 1 SMSS.
            Phase::Recovery if ack < self.recover && self.sack => return Reaction::None,
            Phase::Recovery if ack < self.recover && self.algorithm != Congestion::Reno => {
                // RFC 6582 §3.2 step 5, partial ACK: resend the next hole, deflate by what was
                // acknowledged and add back one SMSS if at least that much was.
                let mut window = self.window().saturating_sub(acked).max(self.smss);
                if acked >= self.smss {
                    window += self.smss;
                }
                self.inflation = window.saturating_sub(self.cwnd);
                return Reaction::RetransmitFirst;
            }
            Phase::Recovery => {
                // RFC 6582 §3.2 step 3 (full ACK) option 2 and RFC 5681 §3.2 step 6: back to
                // ssthresh, as Linux `tcp_end_cwnd_reduction` does.
                self.cwnd = self.ssthresh;
                self.inflation = 0;
                self.phase = Phase::Open;
                self.sync_cubic();
                return Reaction::None;
            }
            Phase::Loss if ack >= self.recover => self.phase = Phase::Open,
            _ => {}
        }
        if !self.limited(before) {
            return Reaction::None;
        }
        if self.cwnd < self.ssthresh {
            // Slow start with appropriate byte counting, L = 2 SMSS (RFC 3465 §2.2): what
            // Linux's per-packet count gives when every second segment is acknowledged.
            let grow = acked.min(2 * self.smss);
            let room = self.ssthresh - self.cwnd;
            self.cwnd = self.cwnd.saturating_add(grow.min(room));
            self.sync_cubic();
            if grow <= room {
                return Reaction::None;
            }
            // The rest of the ACK counts in congestion avoidance, as Linux `tcp_slow_start`.
            self.avoid(now, grow - room, rtt);
            return Reaction::None;
        }
        self.avoid(now, acked, rtt);
        Reaction::None
    }

    /// RFC 7661 §4.1, as Linux `tcp_is_cwnd_limited`: the window grows only while it limits
    /// the sender (in slow start, until it is twice what was in flight), so a sender held back
    /// by the peer's window or by its application does not build up a window it never used.
    fn limited(&self, in_flight: u32) -> bool {
        if self.cwnd < self.ssthresh {
            self.cwnd < in_flight.saturating_mul(2)
        } else {
            in_flight.saturating_add(self.smss) > self.cwnd
        }
    }

    /// Congestion avoidance growth for `acked` bytes.
    fn avoid(&mut self, now: SimTime, acked: u32, rtt: Option<Duration>) {
        match self.algorithm {
            Congestion::Cubic => self.cubic_avoid(now, acked, rtt),
            _ => {
                // RFC 5681 §3.1 with byte counting (RFC 3465 §2.1): one SMSS per cwnd acked.
                self.bytes_acked = self.bytes_acked.saturating_add(acked);
                if self.bytes_acked >= self.cwnd {
                    self.bytes_acked -= self.cwnd;
                    self.cwnd = self.cwnd.saturating_add(self.smss);
                }
            }
        }
    }

    /// RFC 9438 §4.2-4.4: the window follows W_cubic(t + RTT), or standard TCP's W_est where
    /// that is larger (the Reno-friendly region).
    fn cubic_avoid(&mut self, now: SimTime, acked: u32, rtt: Option<Duration>) {
        let smss = self.smss as f64;
        let c = &mut self.cubic;
        let start = *c.epoch_start.get_or_insert_with(|| {
            // A new epoch (RFC 9438 §4.2, Linux `bictcp_update`).
            if c.cwnd < c.w_max {
                c.k = ((c.w_max - c.cwnd) / CUBIC_C).cbrt();
                c.origin = c.w_max;
            } else {
                c.k = 0.0;
                c.origin = c.cwnd;
            }
            c.w_est = c.cwnd;
            now
        });
        let t = now.saturating_since(start).as_secs_f64();
        let rtt = rtt.map_or(0.0, |r| r.as_secs_f64());
        let w_cubic = |t: f64| c.origin + CUBIC_C * (t - c.k).powi(3);
        let segments = acked as f64 / smss;
        // RFC 9438 §4.3: alpha_cubic until W_est reaches W_max, then 1 (Reno's slope).
        let alpha = if c.w_est >= c.w_max {
            1.0
        } else {
            3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA)
        };
        c.w_est += alpha * segments / c.cwnd;
        if w_cubic(t) < c.w_est {
            c.cwnd = c.w_est;
        } else {
            // §4.4: the target is W_cubic one RTT ahead, kept within [cwnd, 1.5 cwnd].
            let target = w_cubic(t + rtt).clamp(c.cwnd, 1.5 * c.cwnd);
            c.cwnd += (target - c.cwnd) / c.cwnd * segments;
        }
        self.cwnd = (c.cwnd * smss) as u32;
    }

    /// Keeps CUBIC's fractional window equal to cwnd after a change made in bytes.
    fn sync_cubic(&mut self) {
        self.cubic.cwnd = self.cwnd as f64 / self.smss as f64;
    }

    /// The multiplicative decrease on a congestion event: the new ssthresh.
    fn reduce(&mut self, flight: u32) -> u32 {
        match self.algorithm {
            Congestion::Cubic => {
                let cwnd = self.cwnd as f64 / self.smss as f64;
                // RFC 9438 §4.7 fast convergence: a flow losing below its last W_max gives up
                // more, to leave room for newcomers.
                self.cubic.w_max = if cwnd < self.cubic.w_max {
                    cwnd * (1.0 + CUBIC_BETA) / 2.0
                } else {
                    cwnd
                };
                self.cubic.epoch_start = None;
                ((self.cwnd as f64 * CUBIC_BETA) as u32).max(2 * self.smss)
            }
            // RFC 5681 §3.1 equation 4.
            _ => (flight / 2).max(2 * self.smss),
        }
    }

    /// A duplicate ACK (RFC 5681 §2's definition, checked by the socket). `snd_una` and
    /// `snd_max` are the socket's; `flight` the bytes outstanding.
    pub fn on_dupack(&mut self, snd_una: SeqNum, snd_max: SeqNum, flight: u32) -> Reaction {
        if !self.enabled() {
            return Reaction::None;
        }
        self.dupacks += 1;
        if self.phase == Phase::Recovery && self.sack {
            // RFC 6675: pipe, not inflation, counts what left the network.
            return Reaction::None;
        }
        if self.phase == Phase::Recovery {
            // RFC 5681 §3.2 step 4: each further duplicate means a segment left the network.
            self.inflation = self.inflation.saturating_add(self.smss);
            return Reaction::None;
        }
        // RFC 6582 §3.2 step 2: duplicates of data sent before the last recovery or timeout
        // do not start another one.
        if self.dupacks != DUPACK_THRESHOLD {
            return Reaction::None;
        }
        self.enter_recovery(snd_una, snd_max, flight)
    }

    /// Fast recovery begins (the third duplicate ACK, or with SACK RFC 6675 §5 step 2's
    /// IsLost(HighACK + 1)), unless a recovery or timeout is under way or `snd_una` has not
    /// passed the last one's RecoveryPoint (RFC 6582 §3.2 step 2, RFC 6675 §5.1).
    pub fn enter_recovery(&mut self, snd_una: SeqNum, snd_max: SeqNum, flight: u32) -> Reaction {
        if !self.enabled() || self.phase == Phase::Recovery || snd_una < self.recover {
            return Reaction::None;
        }
        self.ssthresh = self.reduce(flight);
        self.recover = snd_max;
        self.phase = Phase::Recovery;
        // RFC 5681 §3.2 step 3: cwnd = ssthresh, inflated by the three segments that left;
        // RFC 6675 §5 step 4.2: with SACK, cwnd = ssthresh and pipe does the counting.
        self.cwnd = self.ssthresh;
        self.inflation = if self.sack {
            0
        } else {
            DUPACK_THRESHOLD * self.smss
        };
        self.bytes_acked = 0;
        self.sync_cubic();
        Reaction::RetransmitFirst
    }

    /// A retransmission timeout. ssthresh is set on the first timeout of a series only (RFC
    /// 5681 §3.1: "upon the first retransmission"); cwnd becomes the loss window, one SMSS.
    pub fn on_timeout(&mut self, first: bool, snd_max: SeqNum, flight: u32) {
        if !self.enabled() {
            return;
        }
        if first && self.phase != Phase::Loss {
            self.ssthresh = self.reduce(flight);
        }
        self.cwnd = self.smss;
        self.inflation = 0;
        self.bytes_acked = 0;
        self.dupacks = 0;
        self.phase = Phase::Loss;
        // RFC 6582 §4: duplicates of what was sent before the timeout start no fast recovery.
        self.recover = snd_max;
        if self.algorithm == Congestion::Cubic {
            // RFC 9438 §4.8: the epoch restarts from slow start.
            self.cubic.epoch_start = None;
        }
        self.sync_cubic();
    }

    /// Sending after `idle` with nothing in flight: Linux `tcp_cwnd_restart` (RFC 5681 §4.1's
    /// restart window, halved once per RTO of idleness rather than cut at once).
    pub fn restart_after_idle(&mut self, idle: Duration, rto: Duration) {
        if !self.enabled() || idle <= rto {
            return;
        }
        // Linux `tcp_current_ssthresh`: remember three quarters of the window given up.
        self.ssthresh = self.ssthresh.max((self.cwnd >> 1) + (self.cwnd >> 2));
        let restart = self.initial.min(self.cwnd);
        let mut cwnd = self.cwnd;
        let mut left = idle.as_nanos();
        while left > rto.as_nanos() && cwnd > restart {
            left -= rto.as_nanos();
            cwnd >>= 1;
        }
        self.cwnd = cwnd.max(restart);
        self.cubic.epoch_start = None;
        self.sync_cubic();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    fn cc(algorithm: Congestion) -> CongestionControl {
        CongestionControl::new(algorithm, MSS, 10, SeqNum(0))
    }

    fn at(ms: u64) -> SimTime {
        SimTime::ZERO + Duration::from_millis(ms)
    }

    #[test]
    fn the_initial_window_is_ten_segments() {
        // RFC 6928 §2: IW = min(10 * MSS, max(2 * MSS, 14600)); with MSS 1000 that is 10 MSS.
        assert_eq!(cc(Congestion::NewReno).window(), 10 * MSS);
        assert_eq!(cc(Congestion::None).window(), u32::MAX);
    }

    #[test]
    fn slow_start_grows_by_the_bytes_acked_up_to_two_segments_per_ack() {
        let mut c = cc(Congestion::NewReno);
        c.on_ack(at(10), SeqNum(1000), 1000, 10 * MSS, None);
        assert_eq!(c.cwnd(), 11 * MSS);
        c.on_ack(at(10), SeqNum(5000), 4000, 11 * MSS, None);
        assert_eq!(c.cwnd(), 13 * MSS, "RFC 3465 limit L = 2 SMSS per ACK");
    }

    #[test]
    fn avoidance_adds_one_segment_per_window_acknowledged() {
        let mut c = cc(Congestion::Reno);
        c.ssthresh = 10 * MSS;
        let mut ack = SeqNum(0);
        for _ in 0..10 {
            ack += MSS;
            c.on_ack(at(10), ack, MSS, c.cwnd(), None);
        }
        assert_eq!(
            c.cwnd(),
            11 * MSS,
            "one cwnd of bytes acknowledged adds one SMSS"
        );
        for _ in 0..10 {
            ack += MSS;
            c.on_ack(at(10), ack, MSS, c.cwnd(), None);
        }
        assert_eq!(
            c.cwnd(),
            11 * MSS,
            "10 of the 11 segments of the next window"
        );
    }

    #[test]
    fn a_window_the_sender_does_not_fill_does_not_grow() {
        // RFC 7661 §4.1 (Linux `tcp_is_cwnd_limited`): held back by the peer's window, with
        // 4 segments in flight out of 10, slow start leaves cwnd alone.
        let mut c = cc(Congestion::NewReno);
        c.on_ack(at(10), SeqNum(1000), MSS, 4 * MSS, None);
        assert_eq!(c.cwnd(), 10 * MSS);
        c.on_ack(at(10), SeqNum(2000), MSS, 6 * MSS, None);
        assert_eq!(
            c.cwnd(),
            11 * MSS,
            "in flight above half the window: it grows"
        );
    }

    #[test]
    fn fast_retransmit_comes_on_the_third_duplicate_not_the_second() {
        let mut c = cc(Congestion::NewReno);
        let (una, max) = (SeqNum(5000), SeqNum(15_000));
        assert_eq!(c.on_dupack(una, max, 10_000), Reaction::None);
        assert_eq!(c.on_dupack(una, max, 10_000), Reaction::None);
        assert_eq!(c.on_dupack(una, max, 10_000), Reaction::RetransmitFirst);
        // RFC 5681 §3.2 steps 2-3: ssthresh = FlightSize / 2, cwnd = ssthresh + 3 SMSS.
        assert_eq!(c.ssthresh(), 5000);
        assert_eq!((c.cwnd(), c.window()), (5000, 8000));
        assert_eq!(c.phase(), Phase::Recovery);
        // Step 4: each further duplicate inflates by one SMSS.
        assert_eq!(c.on_dupack(una, max, 10_000), Reaction::None);
        assert_eq!(c.window(), 9000);
    }

    #[test]
    fn a_newreno_partial_ack_resends_the_next_hole_and_a_full_ack_ends_recovery() {
        let mut c = cc(Congestion::NewReno);
        let (una, max) = (SeqNum(5000), SeqNum(15_000));
        for _ in 0..3 {
            c.on_dupack(una, max, 10_000);
        }
        // RFC 6582 §3.2 step 5: 2000 bytes acknowledged, below recover (15000).
        let r = c.on_ack(at(50), SeqNum(7000), 2000, 10_000, None);
        assert_eq!(r, Reaction::RetransmitFirst);
        assert_eq!(c.window(), 8000 - 2000 + MSS);
        assert_eq!(c.phase(), Phase::Recovery);
        // Step 3, option 2 (as Linux): a full ACK sets cwnd to ssthresh.
        let r = c.on_ack(at(60), SeqNum(15_000), 8000, 8000, None);
        assert_eq!(r, Reaction::None);
        assert_eq!((c.cwnd(), c.window()), (5000, 5000));
        assert_eq!(c.phase(), Phase::Open);
    }

    #[test]
    fn reno_leaves_recovery_on_any_new_ack() {
        let mut c = cc(Congestion::Reno);
        for _ in 0..3 {
            c.on_dupack(SeqNum(5000), SeqNum(15_000), 10_000);
        }
        let r = c.on_ack(at(50), SeqNum(7000), 2000, 10_000, None);
        assert_eq!(r, Reaction::None);
        assert_eq!(c.phase(), Phase::Open);
        assert_eq!(c.cwnd(), c.ssthresh());
    }

    #[test]
    fn duplicates_of_data_sent_before_a_timeout_start_no_fast_recovery() {
        let mut c = cc(Congestion::NewReno);
        c.on_timeout(true, SeqNum(15_000), 10_000);
        assert_eq!(c.cwnd(), MSS, "RFC 5681 §3.1: the loss window is one SMSS");
        assert_eq!(c.ssthresh(), 5000);
        for _ in 0..3 {
            assert_eq!(
                c.on_dupack(SeqNum(6000), SeqNum(15_000), 9000),
                Reaction::None
            );
        }
        // A second timeout in the series keeps ssthresh (not halved again).
        c.on_timeout(false, SeqNum(15_000), 9000);
        assert_eq!(c.ssthresh(), 5000);
    }

    #[test]
    fn cubic_follows_the_cubic_function_after_a_loss() {
        let mut c = cc(Congestion::Cubic);
        // Grow to 100 segments, then lose one.
        c.cwnd = 100 * MSS;
        c.sync_cubic();
        for _ in 0..3 {
            c.on_dupack(SeqNum(0), SeqNum(100_000), 100 * MSS);
        }
        assert_eq!(c.ssthresh(), 70 * MSS, "RFC 9438 §4.6: beta = 0.7");
        c.on_ack(at(0), SeqNum(100_000), MSS, 100 * MSS, None);
        assert_eq!(c.cwnd(), 70 * MSS);
        // RFC 9438 eq. 2: K = cbrt(W_max (1 - beta) / C) = cbrt(100 * 0.3 / 0.4).
        let k = (100.0_f64 * 0.3 / 0.4).cbrt();
        let mut acked = SeqNum(100_000);
        let rtt = Duration::from_millis(100);
        // The ACK clock: each RTT, one ACK per segment of the window, evenly spaced. Past 5 s
        // standard TCP's estimate W_est (70 + 0.53 per RTT, then 1 per RTT from W_max on)
        // overtakes W_cubic and the Reno-friendly region (§4.3) takes over.
        let mut now = at(0);
        for second in 1..=5u64 {
            while now < at(second * 1000) {
                let n = (c.cwnd() / MSS).max(1) as u64;
                let step = Duration::from_nanos(rtt.as_nanos() / n);
                for _ in 0..n {
                    now += step;
                    acked += MSS;
                    c.on_ack(now, acked, MSS, c.cwnd(), Some(rtt));
                }
            }
            let t = now.as_secs_f64();
            let w_cubic = 100.0 + 0.4 * (t - k).powi(3);
            let w = c.cwnd() as f64 / MSS as f64;
            assert!(
                (w - w_cubic).abs() <= 1.0,
                "t = {t:.3} s: cwnd {w:.2} segments, W_cubic {w_cubic:.2}"
            );
        }
    }

    #[test]
    fn cubic_fast_convergence_lowers_w_max_when_losing_below_it() {
        let mut c = cc(Congestion::Cubic);
        c.cubic.w_max = 100.0;
        c.cwnd = 80 * MSS;
        c.sync_cubic();
        c.on_timeout(true, SeqNum(80_000), 80 * MSS);
        // RFC 9438 §4.7: W_max = cwnd (1 + beta) / 2.
        assert!((c.cubic.w_max - 80.0 * 1.7 / 2.0).abs() < 1e-9);
    }

    #[test]
    fn idle_restart_halves_per_rto_down_to_the_initial_window() {
        let mut c = cc(Congestion::NewReno);
        c.cwnd = 80 * MSS;
        let rto = Duration::from_millis(200);
        c.restart_after_idle(Duration::from_millis(150), rto);
        assert_eq!(
            c.cwnd(),
            80 * MSS,
            "idle shorter than an RTO changes nothing"
        );
        c.restart_after_idle(Duration::from_millis(450), rto);
        assert_eq!(
            c.cwnd(),
            20 * MSS,
            "two halvings for 450 ms of idle at RTO 200 ms"
        );
        c.restart_after_idle(Duration::from_secs(10), rto);
        assert_eq!(c.cwnd(), 10 * MSS, "never below the restart window IW");
    }
}
