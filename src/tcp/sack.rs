//! Selective acknowledgments: the receiver's choice of blocks (RFC 2018 §4, D-SACK per RFC
//! 2883 §4) and the sender's scoreboard with RFC 6675's IsLost, SetPipe and NextSeg. Plain
//! data: the socket feeds it what arrives and asks it what to send.

use super::reassembly::insert_merged;
use super::seq::SeqNum;

/// RFC 6675 §2: DupThresh, the duplicate ACKs (or SACKed segments) that mark a loss.
pub const DUP_THRESH: u32 = 3;

/// What the receiver reports: out-of-order ranges (stream offsets) in the order RFC 2018 §4
/// wants them, and a duplicate to report once (RFC 2883).
#[derive(Clone, Debug, Default)]
pub struct SackReport {
    /// Held ranges, most recently reported first (the newest segment's block at the head).
    recent: Vec<(u64, u64)>,
    /// A duplicate range to report in the first block of the next ACK (D-SACK).
    dsack: Option<(u64, u64)>,
}

impl SackReport {
    /// Data `[start, end)` arrived out of order; `held` are the merged ranges now held, in
    /// order of offset. RFC 2018 §4: the first block is the one holding the newest segment,
    /// then the blocks most recently reported. The list stays a most-recent-first ordering of
    /// every held range: only the range holding the new segment is new (it absorbed those it
    /// touches), so it moves to the front and the others keep their order.
    pub fn arrived(&mut self, start: u64, end: u64, held: &[(u64, u64)]) {
        let end = end.max(start + 1);
        let i = held.partition_point(|&(_, r)| r <= start);
        let Some(&first) = held.get(i).filter(|&&(l, _)| l < end) else {
            return;
        };
        self.recent.retain(|&(l, r)| r < first.0 || first.1 < l);
        self.recent.insert(0, first);
    }

    /// RCV.NXT moved to stream offset `rcv_off`: ranges delivered in order are no longer held.
    pub fn delivered(&mut self, rcv_off: u64) {
        self.recent.retain(|&(_, r)| r > rcv_off);
    }

    /// A duplicate `[start, end)` arrived (RFC 2883 §4): reported once, in the first block.
    pub fn duplicate(&mut self, start: u64, end: u64) {
        self.dsack = Some((start, end));
    }

    /// True if there is nothing to report (the common case: no allocation then).
    pub fn is_empty(&self) -> bool {
        self.recent.is_empty() && self.dsack.is_none()
    }

    /// The blocks of the next ACK, as stream offsets, at most `max`: the D-SACK block first
    /// (then the held range that contains it, if any, as RFC 2883 §4 step 2 asks), then the
    /// held ranges in reporting order.
    pub fn blocks(&self, max: usize) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(max);
        if let Some((a, b)) = self.dsack {
            out.push((a, b));
            if let Some(&m) = self.recent.iter().find(|&&(l, r)| l <= a && b <= r) {
                out.push(m);
            }
        }
        for &m in &self.recent {
            if out.len() >= max {
                break;
            }
            if !out[self.dsack.is_some() as usize..].contains(&m) {
                out.push(m);
            }
        }
        out.truncate(max);
        out
    }

    /// The ACK carrying the D-SACK block went: it is reported only once.
    pub fn sent(&mut self) {
        self.dsack = None;
    }
}

/// The sender's scoreboard (RFC 6675 §3): the SACKed ranges above SND.UNA, sorted and
/// disjoint. A few ranges at most, so a small `Vec` rather than per-segment state.
#[derive(Clone, Debug, Default)]
pub struct Scoreboard {
    ranges: Vec<(SeqNum, SeqNum)>,
    /// Running totals of the ranges' bytes, one more entry than `ranges` once any is held:
    /// `sums[j] - sums[i]` (wrapping) is the bytes of `ranges[i..j]`. SetPipe then counts the
    /// SACKed bytes of a span by two binary searches, not a walk: after a burst of losses the
    /// ranges number thousands, and pipe is asked before every segment sent.
    sums: Vec<u32>,
    /// HighRxt (RFC 6675 §2): the highest sequence number retransmitted in this recovery
    /// (`None` once SND.UNA has passed it, so that no stale number compares across a wrap).
    pub high_rxt: Option<SeqNum>,
    /// After a timeout every unSACKed byte below this is lost (Linux `tcp_enter_loss` marks
    /// them all), not only those IsLost() names.
    pub lost_below: Option<SeqNum>,
}

/// The blocks of an ACK that report data held by the receiver: a D-SACK block (the first one,
/// below the ACK or inside the second block, RFC 2883 §4) reports a duplicate, and an empty or
/// inverted block reports nothing.
pub fn reported(
    blocks: &[(SeqNum, SeqNum)],
    ack: SeqNum,
) -> impl Iterator<Item = (SeqNum, SeqNum)> + '_ {
    blocks.iter().enumerate().filter_map(move |(i, &(l, r))| {
        let dsack =
            i == 0 && (r <= ack || blocks.get(1).is_some_and(|&(l2, r2)| l2 <= l && r <= r2));
        (!dsack && l < r).then_some((l, r))
    })
}

impl Scoreboard {
    /// RFC 6675 §5 Update(): records the [`reported`] blocks of an ACK for `[snd_una,
    /// snd_max)`. Returns true if some byte was newly SACKed.
    pub fn update(
        &mut self,
        blocks: &[(SeqNum, SeqNum)],
        ack: SeqNum,
        snd_una: SeqNum,
        snd_max: SeqNum,
    ) -> bool {
        let mut grew = false;
        for (l, r) in reported(blocks, ack) {
            // Only what was sent and is not yet acknowledged (RFC 2018 §8: never trust more).
            let l = l.max(snd_una);
            let r = if r > snd_max { snd_max } else { r };
            if r > l {
                // The ranges are disjoint, so [l, r) adds what it does not already cover.
                grew |= self.sacked_in(l, r) < r.since(l);
                self.insert(l, r);
            }
        }
        grew
    }

    fn insert(&mut self, l: SeqNum, r: SeqNum) {
        // The first range the new one may touch: those before it keep their totals.
        let first = self.ranges.partition_point(|&(_, b)| b < l);
        insert_merged(&mut self.ranges, l, r);
        if self.sums.is_empty() {
            self.sums.push(0);
        }
        self.sums.truncate(first + 1);
        let mut total = self.sums[first];
        for &(l, r) in &self.ranges[first..] {
            total = total.wrapping_add(r.since(l));
            self.sums.push(total);
        }
    }

    /// SND.UNA moved to `una`: forget what lies below it.
    pub fn advance(&mut self, una: SeqNum) {
        self.high_rxt = self.high_rxt.filter(|&h| h > una);
        self.lost_below = self.lost_below.filter(|&h| h > una);
        if self.ranges.is_empty() {
            // Nearly every ACK outside a loss episode.
            return;
        }
        // The ranges are sorted by their ends too: those wholly below `una` come first.
        let gone = self.ranges.partition_point(|&(_, r)| r <= una);
        self.ranges.drain(..gone);
        self.sums.drain(..gone.min(self.sums.len()));
        if let Some(first) = self.ranges.first_mut()
            && first.0 < una
        {
            // The first range loses its bytes below `una`: its total starts that much later.
            self.sums[0] = self.sums[0].wrapping_add(una.since(first.0));
            first.0 = una;
        }
    }

    /// The SACKed ranges, in order.
    #[cfg(test)]
    pub fn ranges(&self) -> &[(SeqNum, SeqNum)] {
        &self.ranges
    }

    /// Bytes SACKed above SND.UNA.
    pub fn sacked_bytes(&self) -> u32 {
        match (self.sums.first(), self.sums.last()) {
            (Some(first), Some(last)) => last.wrapping_sub(*first),
            _ => 0,
        }
    }

    /// The boundary of RFC 6675's IsLost(): an unSACKed byte below it has DupThresh
    /// discontiguous SACKed ranges above it, or more than (DupThresh - 1) * SMSS SACKed bytes
    /// (IsLost is monotone, so one boundary says it for every byte). `snd_una` if none is lost.
    pub fn lost_boundary(&self, smss: u32, snd_una: SeqNum) -> SeqNum {
        let mut boundary = self.lost_below.map_or(snd_una, |l| l.max(snd_una));
        let mut bytes = 0u32;
        for (n, &(l, r)) in self.ranges.iter().rev().enumerate() {
            bytes += r.since(l);
            if n + 1 >= DUP_THRESH as usize || bytes > (DUP_THRESH - 1) * smss {
                boundary = boundary.max(l);
                break;
            }
        }
        boundary
    }

    /// IsLost(seq) (RFC 6675 §4) for an unSACKed `seq`.
    pub fn is_lost(&self, seq: SeqNum, smss: u32, snd_una: SeqNum) -> bool {
        seq < self.lost_boundary(smss, snd_una)
    }

    /// The unSACKed ranges ("holes") of `[from, to)`, in order.
    #[cfg(test)]
    pub fn holes(&self, from: SeqNum, to: SeqNum) -> Vec<(SeqNum, SeqNum)> {
        let mut out = Vec::new();
        let mut at = from;
        for &(l, r) in &self.ranges {
            if r <= at {
                continue;
            }
            if l >= to {
                break;
            }
            if l > at {
                out.push((at, l));
            }
            at = r;
        }
        if at < to {
            out.push((at, to));
        }
        out
    }

    /// The index of the first range that ends after `at` (the ranges before it lie wholly
    /// below `at`): a binary search, the ranges being sorted and disjoint.
    fn first_ending_after(&self, at: SeqNum) -> usize {
        self.ranges.partition_point(|&(_, r)| r <= at)
    }

    /// The first unSACKed range ("hole") of `[from, to)`, if any: the first of
    /// [`Scoreboard::holes`], found without listing the others.
    pub fn first_hole(&self, from: SeqNum, to: SeqNum) -> Option<(SeqNum, SeqNum)> {
        let mut at = from;
        for &(l, r) in &self.ranges[self.first_ending_after(from)..] {
            if l >= to {
                break;
            }
            if l > at {
                return Some((at, l));
            }
            at = r;
        }
        (at < to).then_some((at, to))
    }

    /// SACKed bytes inside `[a, b)` (`a` before `b`): those of the ranges that overlap it,
    /// less what the first starts before `a` and the last runs past `b`.
    fn sacked_in(&self, a: SeqNum, b: SeqNum) -> u32 {
        let i = self.first_ending_after(a);
        let j = self.ranges.partition_point(|&(l, _)| l < b);
        if i >= j {
            return 0;
        }
        let (first, last) = (self.ranges[i].0, self.ranges[j - 1].1);
        let mut n = self.sums[j].wrapping_sub(self.sums[i]);
        if first < a {
            n -= a.since(first);
        }
        if last > b {
            n -= last.since(b);
        }
        n
    }

    /// UnSACKed bytes inside `[a, b)` (none if `b` is not after `a`).
    fn unsacked_in(&self, a: SeqNum, b: SeqNum) -> u32 {
        if b > a {
            b.since(a) - self.sacked_in(a, b)
        } else {
            0
        }
    }

    /// RFC 6675 §4 SetPipe(): bytes in the network, counting each unSACKed byte of
    /// `[snd_una, snd_max)` once if it is not lost and once more if it was retransmitted
    /// (below HighRxt). The holes partition the unSACKed bytes, so this is the unSACKed bytes
    /// of `[max(lost, snd_una), snd_max)` plus those of `[snd_una, min(HighRxt, snd_max))`,
    /// each found from the ranges that overlap it alone.
    pub fn pipe(&self, smss: u32, snd_una: SeqNum, snd_max: SeqNum) -> u32 {
        let lost = self.lost_boundary(smss, snd_una);
        let rxt = self.high_rxt.unwrap_or(snd_una);
        let rxt = if rxt < snd_max { rxt } else { snd_max };
        self.unsacked_in(lost.max(snd_una), snd_max) + self.unsacked_in(snd_una, rxt)
    }

    /// RFC 6675 §4 NextSeg() rules 1 and 3: the first unSACKed byte above HighRxt (and
    /// SND.UNA) that is lost, then (rule 3) one below the highest SACKed byte; with the bytes
    /// up to the next SACKed range. `None` leaves rule 2 (new data) to the caller.
    pub fn next_retransmit(
        &self,
        smss: u32,
        snd_una: SeqNum,
        snd_max: SeqNum,
        rule3: bool,
    ) -> Option<(SeqNum, u32, bool)> {
        let from = self.high_rxt.map_or(snd_una, |h| h.max(snd_una));
        let lost = self.lost_boundary(smss, snd_una);
        let (l, r) = self.first_hole(from, snd_max)?;
        if l < lost {
            let r = if r > lost { lost } else { r };
            return Some((l, r.since(l), true));
        }
        let top = self.ranges.last().map(|&(_, r)| r)?;
        (rule3 && l < top).then(|| (l, r.since(l), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes of `[l, r)` inside `[a, b)`.
    fn overlap(l: SeqNum, r: SeqNum, a: SeqNum, b: SeqNum) -> u32 {
        let lo = l.max(a);
        let hi = if r < b { r } else { b };
        if hi > lo { hi.since(lo) } else { 0 }
    }

    const MSS: u32 = 1000;

    fn s(n: u32) -> SeqNum {
        SeqNum(n)
    }

    #[test]
    fn blocks_merge_and_fall_below_snd_una() {
        let mut b = Scoreboard::default();
        assert!(b.update(&[(s(3000), s(4000))], s(1000), s(1000), s(10_000)));
        assert!(b.update(
            &[(s(4000), s(5000)), (s(3000), s(4000))],
            s(1000),
            s(1000),
            s(10_000)
        ));
        assert!(!b.update(&[(s(3000), s(5000))], s(1000), s(1000), s(10_000)));
        assert_eq!(b.ranges(), [(s(3000), s(5000))]);
        b.update(&[(s(7000), s(8000))], s(1000), s(1000), s(10_000));
        assert_eq!(b.sacked_bytes(), 3000);
        b.advance(s(4500));
        assert_eq!(b.ranges(), [(s(4500), s(5000)), (s(7000), s(8000))]);
    }

    #[test]
    fn a_dsack_block_is_not_taken_as_sacked_data() {
        // RFC 2883 §4: below the ACK, or inside the second block.
        let mut b = Scoreboard::default();
        assert!(!b.update(&[(s(500), s(1000))], s(1000), s(1000), s(9000)));
        assert!(b.update(
            &[(s(3000), s(4000)), (s(2000), s(5000))],
            s(1000),
            s(1000),
            s(9000)
        ));
        assert_eq!(b.ranges(), [(s(2000), s(5000))]);
    }

    #[test]
    fn is_lost_needs_dupthresh_segments_sacked_above() {
        // RFC 6675 §4: more than (DupThresh - 1) * SMSS bytes, or DupThresh blocks.
        let mut b = Scoreboard::default();
        b.update(&[(s(2000), s(4000))], s(1000), s(1000), s(9000));
        assert!(!b.is_lost(s(1000), MSS, s(1000)), "2 segments SACKed above");
        b.update(&[(s(4000), s(5000))], s(1000), s(1000), s(9000));
        assert!(b.is_lost(s(1000), MSS, s(1000)), "3 segments SACKed above");
        let mut b = Scoreboard::default();
        for l in [2000, 4000, 6000] {
            b.update(&[(s(l), s(l + 100))], s(1000), s(1000), s(9000));
        }
        assert!(b.is_lost(s(1000), MSS, s(1000)), "3 discontiguous blocks");
        assert!(
            !b.is_lost(s(2100), MSS, s(1000)),
            "2 blocks, 200 bytes above"
        );
    }

    /// SetPipe() as RFC 6675 §4 words it: over the holes, one by one.
    fn pipe_by_holes(b: &Scoreboard, smss: u32, una: SeqNum, max: SeqNum) -> u32 {
        let lost = b.lost_boundary(smss, una);
        let rxt = b.high_rxt.unwrap_or(una);
        b.holes(una, max)
            .into_iter()
            .map(|(l, r)| overlap(l, r, lost, max) + overlap(l, r, una, rxt))
            .sum()
    }

    #[test]
    fn pipe_and_first_hole_agree_with_the_list_of_holes() {
        // A scoreboard with many ranges near the wrap of the sequence space.
        let base = u32::MAX - 20_000;
        let una = s(base);
        let max = una + 60_000;
        let mut b = Scoreboard::default();
        let mut x = 7u32;
        for _ in 0..200 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let l = una + (x >> 8) % 58_000;
            let r = l + 1 + (x >> 3) % 1_500;
            let before = b.sacked_bytes();
            let grew = b.update(&[(l, r)], una, una, max);
            assert_eq!(grew, b.sacked_bytes() > before);
            for rxt in [None, Some(una + 5_000), Some(una + 30_000), Some(max + 10)] {
                b.high_rxt = rxt;
                for m in [max, una + 40_000] {
                    assert_eq!(b.pipe(MSS, una, m), pipe_by_holes(&b, MSS, una, m));
                    for from in [una, una + 1, una + 12_345, m] {
                        assert_eq!(b.first_hole(from, m), b.holes(from, m).first().copied());
                    }
                }
            }
        }
    }

    #[test]
    fn sacked_counts_stay_right_as_snd_una_advances_across_the_wrap() {
        let max = s(u32::MAX - 5_000) + 60_000;
        let mut una = s(u32::MAX - 5_000);
        let mut b = Scoreboard::default();
        let mut x = 11u32;
        for step in 0..300 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let l = una + (x >> 8) % 50_000;
            b.update(&[(l, l + 1 + (x >> 3) % 1_500)], una, una, max);
            if step % 7 == 0 {
                una += (x >> 5) % 1_000;
                b.advance(una);
            }
            let sum: u32 = b.ranges().iter().map(|&(l, r)| r.since(l)).sum();
            assert_eq!(b.sacked_bytes(), sum);
            assert_eq!(b.pipe(MSS, una, max), pipe_by_holes(&b, MSS, una, max));
        }
    }

    #[test]
    fn pipe_counts_unsacked_bytes_not_lost_plus_retransmitted_ones() {
        // 1000..10000 sent; 2000..5000 SACKed: 1000..2000 is lost.
        let mut b = Scoreboard::default();
        b.update(&[(s(2000), s(5000))], s(1000), s(1000), s(10_000));
        assert_eq!(b.pipe(MSS, s(1000), s(10_000)), 5000, "5000..10000");
        assert_eq!(
            b.next_retransmit(MSS, s(1000), s(10_000), true),
            Some((s(1000), 1000, true))
        );
        b.high_rxt = Some(s(2000));
        assert_eq!(
            b.pipe(MSS, s(1000), s(10_000)),
            6000,
            "plus the retransmission"
        );
        assert_eq!(b.next_retransmit(MSS, s(1000), s(10_000), false), None);
    }
}
