//! The retransmission timer's value, with exponential backoff: RFC 6298's estimator, or
//! Linux's (`tcp_rtt_estimator`, `tcp_set_rto`).

use super::seq::SeqNum;
use crate::sim::Duration;

/// Clock granularity G of RFC 6298 §2: the simulator's clock is exact, so 1 ms stands in for a
/// kernel's tick (Linux uses jiffies).
const GRANULARITY: Duration = Duration::from_millis(1);

/// Smoothed RTT estimation and the current RTO.
#[derive(Clone, Debug)]
pub struct RtoEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    base: Duration,
    backoff: u32,
    min: Duration,
    max: Duration,
    /// Linux's estimator, when the host runs it.
    linux: Option<LinuxRtt>,
}

/// `tcp_sock`'s RTT fields, in microseconds and Linux's fixed-point scales.
#[derive(Clone, Debug)]
struct LinuxRtt {
    /// Nanoseconds per jiffy (1e9 / HZ): the RTO is a whole number of jiffies.
    jiffy_ns: u64,
    /// `srtt_us`: 8 x SRTT.
    srtt8: u64,
    /// `mdev_us`: 4 x the mean deviation.
    mdev4: u64,
    /// `mdev_max_us`: the largest `mdev_us` of the current round trip.
    mdev_max: u64,
    /// `rttvar_us`: the deviation term of the RTO, never below `rto_min`.
    rttvar: u64,
    /// `rtt_seq`: SND.NXT when the current round trip's measurement began.
    rtt_seq: SeqNum,
}

impl RtoEstimator {
    /// Before any sample, RTO is `initial` (RFC 6298 §2.1).
    pub fn new(initial: Duration, min: Duration, max: Duration) -> RtoEstimator {
        RtoEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            base: initial,
            backoff: 0,
            min,
            max,
            linux: None,
        }
    }

    /// Linux's estimator with `hz` jiffies per second (`CONFIG_HZ`).
    pub fn linux(initial: Duration, min: Duration, max: Duration, hz: u32) -> RtoEstimator {
        RtoEstimator {
            linux: Some(LinuxRtt {
                jiffy_ns: 1_000_000_000 / u64::from(hz.max(1)),
                srtt8: 0,
                mdev4: 0,
                mdev_max: 0,
                rttvar: 0,
                rtt_seq: SeqNum(0),
            }),
            ..RtoEstimator::new(initial, min, max)
        }
    }

    /// The current RTO, with backoff applied, bounded by the maximum.
    pub fn rto(&self) -> Duration {
        let factor = 1u64.checked_shl(self.backoff).unwrap_or(u64::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// Smoothed RTT, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// RTTVAR (RFC 6298 §2).
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }

    /// Feeds one RTT measurement from a segment that was not retransmitted (Karn). `snd_una`
    /// and `snd_nxt` (after the ACK) mark Linux's round trips.
    pub fn sample(&mut self, r: Duration, snd_una: SeqNum, snd_nxt: SeqNum) {
        if self.linux.is_some() {
            self.sample_linux(r.as_nanos() / 1000, snd_una, snd_nxt);
            return;
        }
        let (srtt, rttvar) = match self.srtt {
            // RFC 6298 §2.2.
            None => (r, Duration::from_nanos(r.as_nanos() / 2)),
            // RFC 6298 §2.3, alpha = 1/8, beta = 1/4.
            Some(srtt) => {
                let err = srtt.as_nanos().abs_diff(r.as_nanos());
                let rttvar = (3 * self.rttvar.as_nanos() + err) / 4;
                let srtt = (7 * srtt.as_nanos() + r.as_nanos()) / 8;
                (Duration::from_nanos(srtt), Duration::from_nanos(rttvar))
            }
        };
        self.srtt = Some(srtt);
        self.rttvar = rttvar;
        let rto = srtt + GRANULARITY.max(rttvar * 4);
        self.base = rto.max(self.min).min(self.max);
        // Karn: a fresh sample ends the backoff.
        self.backoff = 0;
    }

    /// Linux `tcp_rtt_estimator` (Jacobson's SIGCOMM '88 code with Linux's changes: a falling
    /// RTT moves mdev with gain 1/32, and the deviation term decays once per round trip
    /// towards that round trip's largest mdev, never below `rto_min`), then `tcp_set_rto`:
    /// RTO = SRTT + rttvar, rounded up to a whole jiffy.
    fn sample_linux(&mut self, m_us: u64, snd_una: SeqNum, snd_nxt: SeqNum) {
        let rto_min = self.min.as_nanos() / 1000;
        let Some(l) = self.linux.as_mut() else {
            return;
        };
        let mut m = m_us as i64;
        if l.srtt8 != 0 {
            m -= (l.srtt8 >> 3) as i64;
            l.srtt8 = (l.srtt8 as i64 + m) as u64;
            if m < 0 {
                m = -m - (l.mdev4 >> 2) as i64;
                if m > 0 {
                    m >>= 3;
                }
            } else {
                m -= (l.mdev4 >> 2) as i64;
            }
            l.mdev4 = (l.mdev4 as i64 + m) as u64;
            if l.mdev4 > l.mdev_max {
                l.mdev_max = l.mdev4;
                l.rttvar = l.rttvar.max(l.mdev_max);
            }
            if snd_una > l.rtt_seq {
                if l.mdev_max < l.rttvar {
                    l.rttvar -= (l.rttvar - l.mdev_max) >> 2;
                }
                l.rtt_seq = snd_nxt;
                l.mdev_max = rto_min;
            }
        } else {
            l.srtt8 = (m as u64) << 3;
            l.mdev4 = (m as u64) << 1;
            l.rttvar = l.mdev4.max(rto_min);
            l.mdev_max = l.rttvar;
            l.rtt_seq = snd_nxt;
        }
        l.srtt8 = l.srtt8.max(1);
        self.srtt = Some(Duration::from_micros(l.srtt8 >> 3));
        // ss's `rtt:SRTT/RTTVAR` shows mdev / 4 as the variation.
        self.rttvar = Duration::from_micros(l.mdev4 >> 2);
        let us = (l.srtt8 >> 3) + l.rttvar;
        let jiffy_us = (l.jiffy_ns / 1000).max(1);
        let jiffies = us.div_ceil(jiffy_us);
        self.base = Duration::from_nanos(jiffies * l.jiffy_ns).min(self.max);
        self.backoff = 0;
    }

    /// A retransmission timeout: double the RTO (RFC 6298 §5.5).
    pub fn back_off(&mut self) {
        if self.rto() < self.max {
            self.backoff += 1;
        }
    }

    /// RFC 6298 §5.7: after a SYN timed out and no sample was taken, data starts at 3 s.
    pub fn reset_after_syn_timeout(&mut self) {
        if self.srtt.is_none() {
            self.base = Duration::from_secs(3).max(self.min).min(self.max);
            self.backoff = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rto_doubles_on_each_timeout_up_to_the_maximum() {
        let mut r = RtoEstimator::new(
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(120),
        );
        let mut seen = vec![];
        for _ in 0..9 {
            seen.push(r.rto().as_secs());
            r.back_off();
        }
        assert_eq!(seen, [1, 2, 4, 8, 16, 32, 64, 120, 120]);
    }

    #[test]
    fn first_sample_sets_srtt_and_rttvar_per_rfc6298() {
        let mut r = RtoEstimator::new(
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(120),
        );
        r.sample(Duration::from_millis(100), SeqNum(1), SeqNum(1));
        // RTO = SRTT + max(G, 4 * RTTVAR) = 100 + 4 * 50 = 300 ms.
        assert_eq!(r.rto(), Duration::from_millis(300));
        r.sample(Duration::from_millis(100), SeqNum(1), SeqNum(1));
        // RTTVAR = 3/4 * 50 + 1/4 * 0 = 37.5; SRTT = 100; RTO = 100 + 150 = 250 ms.
        assert_eq!(r.rto(), Duration::from_millis(250));
    }

    #[test]
    fn the_minimum_bounds_small_rtts_and_a_sample_ends_backoff() {
        let mut r = RtoEstimator::new(
            Duration::from_secs(1),
            Duration::from_secs(1),
            Duration::from_secs(60),
        );
        r.back_off();
        r.back_off();
        assert_eq!(r.rto(), Duration::from_secs(4));
        r.sample(Duration::from_millis(10), SeqNum(1), SeqNum(1));
        assert_eq!(r.rto(), Duration::from_secs(1));
    }

    fn linux(hz: u32) -> RtoEstimator {
        RtoEstimator::linux(
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(120),
            hz,
        )
    }

    #[test]
    fn linux_rto_is_srtt_plus_at_least_rto_min_rounded_up_to_a_jiffy() {
        // Loopback: a 30 us RTT. rttvar = max(2 x 30 us, 200 ms); RTO = 200.03 ms, which is 51
        // jiffies at HZ=250 (the `rto:204` ss prints on such a kernel) and 201 at HZ=1000.
        let mut r = linux(250);
        r.sample(Duration::from_micros(30), SeqNum(1), SeqNum(1));
        assert_eq!(r.rto(), Duration::from_millis(204));
        let mut r = linux(1000);
        r.sample(Duration::from_micros(30), SeqNum(1), SeqNum(1));
        assert_eq!(r.rto(), Duration::from_millis(201));
        // RFC 6298's estimator gives max(rto_min, SRTT + 4 x RTTVAR) = 200 ms here.
    }

    #[test]
    fn linux_first_sample_gives_three_rtts_when_that_exceeds_rto_min() {
        // m = 100 ms: srtt = 100, mdev_us = 200 ms (4 x 50), rttvar = 200: RTO 300 ms.
        let mut r = linux(1000);
        r.sample(Duration::from_millis(100), SeqNum(1), SeqNum(1));
        assert_eq!(r.rto(), Duration::from_millis(300));
        assert_eq!(r.srtt(), Some(Duration::from_millis(100)));
    }

    #[test]
    fn linux_deviation_decays_a_quarter_per_round_trip_towards_rto_min() {
        // Steady 100 ms samples. After the first: rttvar = 200 ms (= 2 x m). Each later
        // sample: mdev_us = 3/4 of itself, mdev_max follows; once SND.UNA passes rtt_seq the
        // deviation term loses a quarter of its excess over mdev_max, but mdev_max starts
        // each round trip at rto_min (200 ms), so rttvar never falls below 200 ms.
        let mut r = linux(1000);
        r.sample(Duration::from_millis(100), SeqNum(1), SeqNum(1000));
        for k in 1..10u32 {
            r.sample(
                Duration::from_millis(100),
                SeqNum(1000 * k + 1),
                SeqNum(1000 * (k + 1)),
            );
            assert_eq!(r.rto(), Duration::from_millis(300), "round trip {k}");
        }
        // A spike raises rttvar at once. The steady samples took mdev_us from 200,000 to
        // 15,018 (x 3/4 nine times, truncated). m = 300 ms: error 200,000 us, srtt = 125 ms;
        // mdev_us = 15,018 + 200,000 - 3,754 = 211,264 > rttvar: RTO = 125 + 211.264 ms,
        // 337 ms at HZ=1000.
        r.sample(Duration::from_millis(300), SeqNum(10_001), SeqNum(11_000));
        assert_eq!(r.rto(), Duration::from_millis(337));
    }

    #[test]
    fn linux_a_falling_rtt_moves_the_deviation_by_one_thirty_second() {
        // Eifel-like damping: after srtt 100 ms, a 20 ms sample: error -80 ms (scaled: m =
        // -80000 us; |m| - mdev/4 = 80000 - 50000 = 30000, >> 3 = 3750): mdev_us 200000 ->
        // 203750, where a rising error of the same size would add 30000.
        let mut r = linux(1000);
        r.sample(Duration::from_millis(100), SeqNum(1), SeqNum(100));
        r.sample(Duration::from_millis(20), SeqNum(50), SeqNum(100));
        // srtt = 100 - 10 = 90 ms; mdev_max 203750 > rttvar 200000 -> rttvar 203.75 ms;
        // RTO = 90 + 203.75 = 293.75 -> 294 ms at HZ=1000.
        assert_eq!(r.srtt(), Some(Duration::from_millis(90)));
        assert_eq!(r.rttvar(), Duration::from_micros(50_937));
        assert_eq!(r.rto(), Duration::from_millis(294));
    }
}
