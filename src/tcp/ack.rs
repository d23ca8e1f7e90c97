//! When to acknowledge received data: RFC 1122 §4.2.3.2's delayed ACK (at least every second
//! full-sized segment, never later than 500 ms) as Linux runs it, with its quick-ACK mode
//! (every segment at once at the start of a connection and after out-of-order data) and its
//! ping-pong mode (an interactive peer's data waits for our reply to carry the ACK).

use crate::sim::{Duration, SimTime};

/// Linux `TCP_ATO_MIN` / `TCP_DELACK_MIN`: the shortest delayed-ACK timeout.
pub const ATO_MIN: Duration = Duration::from_millis(40);
/// Linux `TCP_DELACK_MAX`: the longest.
pub const DELACK_MAX: Duration = Duration::from_millis(200);
/// Linux `TCP_MAX_QUICKACKS`: immediate ACKs granted at a time.
const MAX_QUICKACKS: u32 = 16;
/// Linux `TCP_MSS_DEFAULT`: the receive MSS assumed before a full segment is seen.
const RCV_MSS_DEFAULT: u32 = 536;

/// A socket's acknowledgment policy (Linux `icsk_ack`).
#[derive(Clone, Debug)]
pub struct AckPolicy {
    /// `[tcp] delayed_ack`: without it, every segment is acknowledged at once.
    enabled: bool,
    /// Immediate ACKs left (Linux `icsk_ack.quick`).
    quick: u32,
    /// An interactive connection: ACKs wait for a reply to carry them.
    pingpong: bool,
    /// ATO, the delayed-ACK timeout estimate; zero until data first arrives.
    ato: Duration,
    /// When in-order data last arrived (Linux `icsk_ack.lrcvtime`).
    last_rcv: Option<SimTime>,
    /// Largest segment received, the peer's MSS as far as we can tell (`icsk_ack.rcv_mss`).
    rcv_mss: u32,
    /// Bytes received in order since our last ACK (Linux `rcv_nxt - rcv_wup`).
    unacked: u32,
    /// An ACK is owed (Linux `inet_csk_ack_scheduled`).
    scheduled: bool,
}

impl AckPolicy {
    /// The policy of a new connection; `mss` is the MSS we announced.
    pub fn new(enabled: bool, mss: u32) -> AckPolicy {
        AckPolicy {
            enabled,
            quick: 0,
            pingpong: false,
            ato: Duration::ZERO,
            last_rcv: None,
            rcv_mss: mss.clamp(1, RCV_MSS_DEFAULT),
            unacked: 0,
            scheduled: false,
        }
    }

    /// Grants immediate ACKs for half a receive window's worth of segments, at most 16 (Linux
    /// `tcp_incr_quickack`).
    fn grant_quick(&mut self, rcv_wnd: u32) {
        let n = (rcv_wnd / (2 * self.rcv_mss)).clamp(2, MAX_QUICKACKS);
        self.quick = self.quick.max(n);
    }

    /// In-order data of `len` bytes arrived (Linux `tcp_event_data_recv` and
    /// `tcp_measure_rcv_mss`): the first data starts quick-ACK mode; later ATO follows the
    /// gaps between arrivals.
    pub fn data_received(&mut self, now: SimTime, len: u32, rcv_wnd: u32, rto: Duration) {
        self.rcv_mss = self.rcv_mss.max(len);
        self.scheduled = true;
        self.unacked = self.unacked.saturating_add(len);
        match self.last_rcv {
            _ if self.ato.is_zero() => {
                self.grant_quick(rcv_wnd);
                self.ato = ATO_MIN;
            }
            Some(last) => {
                let gap = now.saturating_since(last);
                let half = Duration::from_nanos(self.ato.as_nanos() / 2);
                if gap <= Duration::from_nanos(ATO_MIN.as_nanos() / 2) {
                    self.ato = half + Duration::from_nanos(ATO_MIN.as_nanos() / 2);
                } else if gap < self.ato {
                    self.ato = (half + gap).min(rto);
                } else if gap > rto {
                    // The sender was idle too long to restart its window: help it along.
                    self.grant_quick(rcv_wnd);
                }
            }
            None => {}
        }
        self.last_rcv = Some(now);
    }

    /// Out-of-order or duplicate data: acknowledge every segment for a while (Linux
    /// `tcp_enter_quickack_mode`).
    pub fn enter_quickack(&mut self, rcv_wnd: u32) {
        self.grant_quick(rcv_wnd);
        self.pingpong = false;
        self.ato = ATO_MIN;
        self.scheduled = true;
    }

    /// The peer's FIN took us to CLOSE_WAIT: its ACK waits, so that the application's own FIN
    /// can carry it (Linux `tcp_fin`).
    pub fn fin_received(&mut self) {
        self.pingpong = true;
        self.scheduled = true;
        if self.ato.is_zero() {
            self.ato = ATO_MIN;
        }
    }

    /// We sent data: a reply within ATO of the peer's data makes the connection interactive
    /// (Linux `tcp_event_data_sent`).
    pub fn data_sent(&mut self, now: SimTime) {
        if let Some(last) = self.last_rcv
            && now.saturating_since(last) < self.ato
        {
            self.pingpong = true;
        }
    }

    /// True if what is owed must be acknowledged now (Linux `__tcp_ack_snd_check`): delayed
    /// ACKs are off, more than one full segment is unacknowledged, or quick-ACK mode is on.
    pub fn ack_now(&self) -> bool {
        !self.enabled || self.unacked > self.rcv_mss || (self.quick > 0 && !self.pingpong)
    }

    /// True if an ACK is owed.
    pub fn scheduled(&self) -> bool {
        self.scheduled
    }

    /// An ACK went out, alone or on data (Linux `tcp_event_ack_sent`, `tcp_dec_quickack_mode`).
    pub fn ack_sent(&mut self) {
        if self.scheduled && self.quick > 0 {
            self.quick -= 1;
            if self.quick == 0 {
                self.ato = ATO_MIN;
            }
        }
        self.scheduled = false;
        self.unacked = 0;
    }

    /// How long the delayed-ACK timer runs (Linux `tcp_send_delayed_ack`): ATO, capped at 200 ms
    /// and at the RTT once ATO grew past its minimum.
    pub fn delay(&self, srtt: Option<Duration>) -> Duration {
        let ato = self.ato.max(ATO_MIN);
        if ato <= ATO_MIN {
            return ato;
        }
        let cap = srtt.map_or(DELACK_MAX, |r| r.max(ATO_MIN).min(DELACK_MAX));
        ato.min(cap)
    }

    /// The delayed-ACK timer fired (Linux `tcp_delack_timer_handler`): a bulk receiver's ATO
    /// grows; an interactive one whose reply did not come leaves ping-pong mode.
    pub fn timer_fired(&mut self, rto: Duration) {
        if self.pingpong {
            self.pingpong = false;
            self.ato = ATO_MIN;
        } else {
            self.ato = self.ato.saturating_mul(2).min(rto);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimTime {
        SimTime::ZERO + Duration::from_millis(ms)
    }

    const RTO: Duration = Duration::from_millis(200);

    #[test]
    fn the_first_segments_are_acknowledged_at_once_then_every_second_one() {
        let mut a = AckPolicy::new(true, 1460);
        // 64 KiB window, 1460-byte segments: 65535 / 2920 = 22 quick ACKs, capped at 16.
        for i in 0..16 {
            a.data_received(at(i), 1460, 65_535, RTO);
            assert!(a.ack_now(), "quick ACK {i}");
            a.ack_sent();
        }
        a.data_received(at(20), 1460, 65_535, RTO);
        assert!(!a.ack_now(), "one full segment may wait");
        a.data_received(at(21), 1460, 65_535, RTO);
        assert!(
            a.ack_now(),
            "RFC 1122 §4.2.3.2: ACK at least every second full segment"
        );
    }

    #[test]
    fn a_reply_within_ato_turns_on_ping_pong_and_delays_the_next_ack() {
        let mut a = AckPolicy::new(true, 1460);
        a.data_received(at(0), 100, 65_535, RTO);
        assert!(a.ack_now());
        a.ack_sent();
        a.data_sent(at(5));
        a.data_received(at(300), 100, 65_535, RTO);
        assert!(!a.ack_now(), "ping-pong waits for a reply to carry the ACK");
        assert_eq!(a.delay(None), ATO_MIN);
        // The reply did not come: leave ping-pong.
        a.timer_fired(RTO);
        a.ack_sent();
        a.data_received(at(600), 100, 65_535, RTO);
        assert!(a.ack_now());
    }

    #[test]
    fn a_fin_into_close_wait_waits_for_the_timer() {
        let mut a = AckPolicy::new(true, 1460);
        a.fin_received();
        assert!(a.scheduled());
        assert!(!a.ack_now());
        assert_eq!(a.delay(None), Duration::from_millis(40));
    }

    #[test]
    fn without_delayed_acks_every_segment_is_acknowledged_at_once() {
        let mut a = AckPolicy::new(false, 1460);
        a.fin_received();
        assert!(a.ack_now());
    }

    #[test]
    fn a_bulk_receivers_ato_doubles_when_the_timer_fires_up_to_the_rto() {
        let mut a = AckPolicy::new(true, 1460);
        a.data_received(at(0), 1460, 65_535, RTO);
        a.timer_fired(RTO);
        a.timer_fired(RTO);
        a.timer_fired(RTO);
        // 40 -> 80 -> 160 -> 200 (the RTO); the timer itself never runs past 200 ms.
        assert_eq!(a.delay(None), Duration::from_millis(200));
        assert_eq!(
            a.delay(Some(Duration::from_millis(60))),
            Duration::from_millis(60),
            "capped at the RTT once above the minimum"
        );
    }
}
