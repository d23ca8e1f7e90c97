//! Data held above a hole until the hole fills (Linux's out-of-order queue), and the merged
//! ranges it covers, which SACK reports.

use std::collections::BTreeMap;

use super::payload::Payload;
use super::segment::Tag;

/// One held segment.
#[derive(Clone, Debug)]
pub struct Chunk {
    /// Stream offset of the first byte.
    pub off: u64,
    /// The bytes.
    pub data: Payload,
    /// Provenance of the first byte.
    pub tag: Tag,
}

impl Chunk {
    fn end(&self) -> u64 {
        self.off + self.data.len() as u64
    }
}

/// Held segments by offset. No segment lies inside another (so no two start at one offset),
/// and their ends are in the order of their starts: a hole that fills drains from the front.
/// A map, not a sorted array: after a burst of losses thousands are held, and each
/// retransmission fills a hole in the middle.
#[derive(Clone, Debug, Default)]
pub struct Reassembly {
    chunks: BTreeMap<u64, Chunk>,
    /// The union of the chunks, merged, in order of offset.
    held: Vec<(u64, u64)>,
}

impl Reassembly {
    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The merged ranges held, in order of offset.
    pub fn held(&self) -> &[(u64, u64)] {
        &self.held
    }

    /// Whether one held segment covers all of `[off, end)` (the new one is a duplicate).
    pub fn covers(&self, off: u64, end: u64) -> bool {
        self.chunks
            .range(..=off)
            .next_back()
            .is_some_and(|(_, c)| c.end() >= end)
    }

    /// Keeps a segment, as Linux `tcp_data_queue_ofo` does: one inside a held segment adds
    /// nothing, held segments it covers from no earlier start are dropped, and partial
    /// overlaps are kept. Draining in order of start then gives each byte from the covering
    /// segment that starts lowest (the longest among equal starts, the first to arrive among
    /// equal ones).
    pub fn store(&mut self, off: u64, data: Payload, tag: Tag) {
        let end = off + data.len() as u64;
        if self.covers(off, end) {
            return;
        }
        while let Some((&at, _)) = self
            .chunks
            .range(off..)
            .next()
            .filter(|(_, c)| c.end() <= end)
        {
            self.chunks.remove(&at);
        }
        self.chunks.insert(off, Chunk { off, data, tag });
        insert_merged(&mut self.held, off, end);
    }

    /// The first held segment, if it starts at or below `rcv_off` (it can join the stream).
    pub fn pop_ready(&mut self, rcv_off: u64) -> Option<Chunk> {
        if self.chunks.first_key_value()?.1.off > rcv_off {
            return None;
        }
        let (_, c) = self.chunks.pop_first()?;
        // The first merged range now starts at the next chunk if that one touches `c`, and is
        // gone if a gap follows.
        match self.chunks.first_key_value() {
            Some((_, n)) if n.off <= c.end() => {
                if let Some(first) = self.held.first_mut() {
                    first.0 = n.off;
                }
            }
            _ if !self.held.is_empty() => {
                self.held.remove(0);
            }
            _ => {}
        }
        Some(c)
    }
}

/// Adds `[l, r)` to sorted, disjoint ranges, merging every range it touches.
pub fn insert_merged<T: PartialOrd + Copy>(ranges: &mut Vec<(T, T)>, l: T, r: T) {
    let (mut l, mut r) = (l, r);
    // The ranges touching [l, r) are contiguous: those from the first that ends at or after l.
    let first = ranges.partition_point(|&(_, b)| b < l);
    let mut last = first;
    while last < ranges.len() && ranges[last].0 <= r {
        let (a, b) = ranges[last];
        if a < l {
            l = a;
        }
        if b > r {
            r = b;
        }
        last += 1;
    }
    ranges.splice(first..last, [(l, r)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag() -> Tag {
        Tag::default()
    }

    #[test]
    fn ranges_merge_when_they_touch_or_overlap() {
        let mut v: Vec<(u64, u64)> = Vec::new();
        insert_merged(&mut v, 10, 20);
        insert_merged(&mut v, 30, 40);
        assert_eq!(v, [(10, 20), (30, 40)]);
        insert_merged(&mut v, 20, 25);
        assert_eq!(v, [(10, 25), (30, 40)]);
        insert_merged(&mut v, 0, 5);
        insert_merged(&mut v, 24, 31);
        assert_eq!(v, [(0, 5), (10, 40)]);
        insert_merged(&mut v, 50, 60);
        insert_merged(&mut v, 2, 55);
        assert_eq!(v, [(0, 60)]);
    }

    #[test]
    fn a_segment_inside_a_held_one_adds_nothing_and_one_covering_others_replaces_them() {
        let mut q = Reassembly::default();
        q.store(100, vec![1; 50].into(), tag());
        q.store(200, vec![2; 50].into(), tag());
        assert!(q.covers(110, 150));
        assert!(!q.covers(140, 160));
        q.store(120, vec![3; 10].into(), tag());
        assert_eq!(q.chunks.len(), 2);
        // [90, 260) covers both.
        q.store(90, vec![4; 170].into(), tag());
        assert_eq!(q.chunks.len(), 1);
        assert_eq!(q.held(), [(90, 260)]);
    }

    #[test]
    fn filling_the_hole_drains_in_order_and_keeps_the_ranges_above_the_next_hole() {
        let mut q = Reassembly::default();
        q.store(100, vec![1; 100].into(), tag());
        q.store(200, vec![2; 100].into(), tag());
        q.store(400, vec![3; 100].into(), tag());
        assert_eq!(q.held(), [(100, 300), (400, 500)]);
        assert!(q.pop_ready(99).is_none());
        assert_eq!(q.pop_ready(100).map(|c| c.off), Some(100));
        assert_eq!(q.pop_ready(200).map(|c| c.off), Some(200));
        assert!(q.pop_ready(300).is_none());
        assert_eq!(q.held(), [(400, 500)]);
        assert_eq!(q.pop_ready(450).map(|c| c.off), Some(400));
        assert!(q.is_empty() && q.held().is_empty());
    }
}
