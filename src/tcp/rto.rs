//! The retransmission timer's value (RFC 6298), with exponential backoff and Karn's rule.

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

    /// Feeds one RTT measurement from a segment that was not retransmitted (Karn).
    pub fn sample(&mut self, r: Duration) {
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
        r.sample(Duration::from_millis(100));
        // RTO = SRTT + max(G, 4 * RTTVAR) = 100 + 4 * 50 = 300 ms.
        assert_eq!(r.rto(), Duration::from_millis(300));
        r.sample(Duration::from_millis(100));
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
        r.sample(Duration::from_millis(10));
        assert_eq!(r.rto(), Duration::from_secs(1));
    }
}
