//! Which transmission an acknowledgment times: Karn's one timed segment at a time (RFC 6298
//! §3), or, as Linux `tcp_clean_rtx_queue` and `tcp_sacktag_one` do, every segment an ACK or a
//! SACK block newly covers.

use std::collections::VecDeque;

use super::seq::SeqNum;
use crate::sim::SimTime;

/// Segments' worth of allocation a recycled send log keeps.
const KEPT_SENT: usize = 16;

/// The send times an RTT sample is taken from.
#[derive(Clone, Debug)]
pub enum RttSampler {
    /// One segment timed at a time; any retransmission cancels it (Karn).
    OneTimed(Option<(SeqNum, SimTime)>),
    /// Every unacknowledged segment's last send time, oldest first, like Linux's
    /// retransmission queue.
    EveryAck(SentLog),
}

/// The segments sent and not yet acknowledged, with a count of those ever retransmitted.
#[derive(Clone, Debug, Default)]
pub struct SentLog {
    queue: VecDeque<Sent>,
    retransmitted: usize,
}

/// One transmitted range in [`RttSampler::EveryAck`].
#[derive(Clone, Copy, Debug)]
pub struct Sent {
    start: SeqNum,
    end: SeqNum,
    at: SimTime,
    /// Ever retransmitted (Linux `TCPCB_RETRANS`): Karn forbids timing it.
    retransmitted: bool,
    /// Already reported by a SACK block (`TCPCB_SACKED_ACKED`).
    sacked: bool,
    /// For a SACKed segment: this and the next `skip - 1` segments are all SACKed, so a walk
    /// looking for unSACKed ones may jump over them (at least 1; 0 while not SACKed).
    skip: u32,
}

impl RttSampler {
    /// The send log's allocation, emptied and trimmed to a few segments, for another
    /// connection's [`RttSampler::every_ack`].
    pub fn recycle(&mut self) -> SentLog {
        let mut log = match self {
            RttSampler::EveryAck(log) => std::mem::take(log),
            RttSampler::OneTimed(_) => SentLog::default(),
        };
        log.queue.clear();
        log.queue.shrink_to(KEPT_SENT);
        log.retransmitted = 0;
        log
    }

    /// Karn's single timed segment (the RFC 6298 preset).
    pub fn one_timed() -> RttSampler {
        RttSampler::OneTimed(None)
    }

    /// Every segment timed (the Linux preset), in `log`'s allocation: a new log, or one
    /// emptied by [`RttSampler::recycle`].
    pub fn every_ack(log: SentLog) -> RttSampler {
        debug_assert!(log.queue.is_empty() && log.retransmitted == 0);
        RttSampler::EveryAck(log)
    }

    /// `[seq, end)` left now; `retransmission` when it resends sequence space sent before.
    pub fn sent(&mut self, seq: SeqNum, end: SeqNum, now: SimTime, retransmission: bool) {
        match self {
            RttSampler::OneTimed(timed) => {
                if retransmission {
                    *timed = None;
                } else if timed.is_none() {
                    *timed = Some((seq, now));
                }
            }
            RttSampler::EveryAck(log) => {
                let queue = &mut log.queue;
                if retransmission {
                    let first = queue.partition_point(|s| s.end <= seq);
                    for s in queue.iter_mut().skip(first) {
                        if s.start >= end {
                            break;
                        }
                        log.retransmitted += usize::from(!s.retransmitted);
                        s.retransmitted = true;
                        s.at = now;
                    }
                }
                // New sequence space (all of a first transmission, or the part of a resend
                // that runs past everything sent before).
                let start = queue.back().map_or(seq, |s| s.end.max(seq));
                if end > start {
                    log.retransmitted += usize::from(retransmission);
                    queue.push_back(Sent {
                        start,
                        end,
                        at: now,
                        retransmitted: retransmission,
                        sacked: false,
                        skip: 0,
                    });
                }
            }
        }
    }

    /// A retransmission timeout: Karn's timed segment gives no sample any more.
    pub fn timed_out(&mut self) {
        if let RttSampler::OneTimed(timed) = self {
            *timed = None;
        }
    }

    /// When the oldest unacknowledged segment last left (Linux's `retrans_stamp` is taken from
    /// it at the first timeout); only the Linux preset keeps it.
    pub fn head_sent(&self) -> Option<SimTime> {
        match self {
            RttSampler::OneTimed(_) => None,
            RttSampler::EveryAck(log) => log.queue.front().map(|s| s.at),
        }
    }

    /// Whether some unacknowledged segment was ever retransmitted (Linux
    /// `tcp_any_retrans_done`, which keeps `retrans_stamp` alive).
    pub fn retransmitted_outstanding(&self) -> bool {
        match self {
            RttSampler::OneTimed(_) => false,
            RttSampler::EveryAck(log) => log.retransmitted > 0,
        }
    }

    /// SACK blocks arrived (before the cumulative ACK is applied, as in Linux `tcp_ack`);
    /// returns the send time of the lowest newly SACKed segment never retransmitted.
    pub fn sacked(&mut self, blocks: impl Iterator<Item = (SeqNum, SeqNum)>) -> Option<SimTime> {
        let RttSampler::EveryAck(SentLog { queue, .. }) = self else {
            return None;
        };
        let mut first = None;
        let mut sorted: Vec<(SeqNum, SeqNum)> = blocks.collect();
        sorted.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        for (left, right) in sorted {
            // The segments inside [left, right), from the first that ends after `left` to the
            // first that ends after `right` (ends only grow along the queue). SACKed ones are
            // left as they are, so runs of them are jumped over (the jumps only ever skip
            // SACKed segments, and a segment past the block's end stops the walk either way).
            let mut i = queue.partition_point(|s| s.end <= left);
            while let Some(s) = queue.get_mut(i) {
                if s.end > right {
                    break;
                }
                if s.sacked {
                    i = skip_sacked(queue, i);
                    continue;
                }
                if s.start >= left {
                    s.sacked = true;
                    s.skip = 1;
                    if !s.retransmitted && first.is_none() {
                        first = Some(s.at);
                    }
                }
                i += 1;
            }
        }
        first
    }

    /// SND.UNA moved to `ack`: the send time to time, if Karn allows one. Linux times the
    /// oldest fully acknowledged segment not already SACKed, and none at all when any fully
    /// acknowledged segment was retransmitted (`FLAG_RETRANS_DATA_ACKED`).
    pub fn acked(&mut self, ack: SeqNum) -> Option<SimTime> {
        match self {
            RttSampler::OneTimed(timed) => match *timed {
                Some((seq, at)) if ack > seq => {
                    *timed = None;
                    Some(at)
                }
                _ => None,
            },
            RttSampler::EveryAck(log) => {
                let mut first = None;
                let mut retransmitted = false;
                while let Some(s) = log.queue.front_mut() {
                    if s.end > ack {
                        // A partly acknowledged segment is trimmed, not timed.
                        if s.start < ack {
                            s.start = ack;
                        }
                        break;
                    }
                    retransmitted |= s.retransmitted;
                    log.retransmitted -= usize::from(s.retransmitted);
                    if first.is_none() && !s.sacked {
                        first = Some(s.at);
                    }
                    log.queue.pop_front();
                }
                if retransmitted { None } else { first }
            }
        }
    }
}

/// The index of the first unSACKed segment at or after `i` (a SACKed one), or the queue's
/// length; shortens the jump stored at `i` to reach it directly next time.
fn skip_sacked(queue: &mut VecDeque<Sent>, i: usize) -> usize {
    let mut j = i;
    while let Some(s) = queue.get(j)
        && s.sacked
    {
        j += s.skip.max(1) as usize;
    }
    queue[i].skip = (j - i) as u32;
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SimTime {
        SimTime::from_nanos(ms * 1_000_000)
    }

    #[test]
    fn karn_times_one_segment_and_a_retransmission_cancels_it() {
        let mut s = RttSampler::one_timed();
        s.sent(SeqNum(0), SeqNum(100), t(0), false);
        s.sent(SeqNum(100), SeqNum(200), t(5), false);
        assert_eq!(s.acked(SeqNum(200)), Some(t(0)));
        s.sent(SeqNum(200), SeqNum(300), t(10), false);
        s.sent(SeqNum(200), SeqNum(300), t(20), true);
        assert_eq!(s.acked(SeqNum(300)), None);
    }

    #[test]
    fn every_ack_times_the_oldest_segment_it_covers() {
        let mut s = RttSampler::every_ack(SentLog::default());
        s.sent(SeqNum(0), SeqNum(100), t(0), false);
        s.sent(SeqNum(100), SeqNum(200), t(5), false);
        s.sent(SeqNum(200), SeqNum(300), t(7), false);
        // A partial ACK of the first segment is no sample.
        assert_eq!(s.acked(SeqNum(50)), None);
        assert_eq!(s.acked(SeqNum(200)), Some(t(0)));
        assert_eq!(s.acked(SeqNum(300)), Some(t(7)));
    }

    #[test]
    fn a_recycled_log_forgets_the_old_connections_segments() {
        let mut old = RttSampler::every_ack(SentLog::default());
        for i in 0..40u32 {
            old.sent(SeqNum(i * 100), SeqNum(i * 100 + 100), t(1), i % 2 == 0);
        }
        let log = old.recycle();
        assert!(
            log.queue.capacity() <= 2 * KEPT_SENT,
            "a long log's room is not hoarded"
        );
        // The next connection's first ACK times its own segment, not the old ones before it.
        let mut s = RttSampler::every_ack(log);
        s.sent(SeqNum(100), SeqNum(200), t(50), false);
        assert_eq!(s.acked(SeqNum(200)), Some(t(50)));
    }

    #[test]
    fn an_ack_covering_a_retransmitted_segment_gives_no_sample() {
        let mut s = RttSampler::every_ack(SentLog::default());
        s.sent(SeqNum(0), SeqNum(100), t(0), false);
        s.sent(SeqNum(100), SeqNum(200), t(5), false);
        s.sent(SeqNum(0), SeqNum(100), t(300), true);
        assert_eq!(s.acked(SeqNum(200)), None);
    }

    #[test]
    fn a_sack_times_the_lowest_newly_sacked_original_and_the_later_ack_skips_it() {
        let mut s = RttSampler::every_ack(SentLog::default());
        for i in 0..4u32 {
            s.sent(SeqNum(i * 100), SeqNum(i * 100 + 100), t(i as u64), false);
        }
        assert_eq!(
            s.sacked([(SeqNum(200), SeqNum(400))].into_iter()),
            Some(t(2))
        );
        // Reported again: nothing new.
        assert_eq!(s.sacked([(SeqNum(200), SeqNum(400))].into_iter()), None);
        // The cumulative ACK times segment 0, the oldest not SACKed.
        assert_eq!(s.acked(SeqNum(400)), Some(t(0)));
    }

    #[test]
    fn sacks_over_runs_of_sacked_segments_mark_exactly_the_segments_inside_a_block() {
        // Against a plain walk over every segment of each block.
        fn plain(q: &mut [(u32, u32, u64, bool)], blocks: &[(u32, u32)]) -> Option<u64> {
            let mut first = None;
            let mut sorted = blocks.to_vec();
            sorted.sort();
            for (l, r) in sorted {
                for s in q.iter_mut() {
                    if s.1 <= l {
                        continue;
                    }
                    if s.1 > r {
                        break;
                    }
                    if s.0 >= l && !s.3 {
                        s.3 = true;
                        if first.is_none() {
                            first = Some(s.2);
                        }
                    }
                }
            }
            first
        }
        let mut s = RttSampler::every_ack(SentLog::default());
        let mut q = Vec::new();
        for i in 0..300u32 {
            s.sent(SeqNum(i * 100), SeqNum(i * 100 + 100), t(i as u64), false);
            q.push((i * 100, i * 100 + 100, i as u64, false));
        }
        let mut x = 1u32;
        for _ in 0..400 {
            let mut blocks = Vec::new();
            for _ in 0..3 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let l = (x >> 8) % 30_000;
                let r = l + (x >> 4) % 3_000;
                blocks.push((l, r));
            }
            let want = plain(&mut q, &blocks).map(t);
            let got = s.sacked(blocks.iter().map(|&(l, r)| (SeqNum(l), SeqNum(r))));
            assert_eq!(got, want);
        }
        let RttSampler::EveryAck(log) = &s else {
            unreachable!()
        };
        let marks: Vec<bool> = log.queue.iter().map(|s| s.sacked).collect();
        assert_eq!(marks, q.iter().map(|s| s.3).collect::<Vec<_>>());
    }
}
