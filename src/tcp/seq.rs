//! Sequence numbers: 32-bit, compared modulo 2^32 (RFC 9293 §3.4).

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A TCP sequence number. Ordering is the RFC's circular comparison: `a < b` when `b` is
/// less than 2^31 ahead of `a`, so comparisons stay right across the wrap.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// Bytes from `earlier` to `self`, wrapping (the caller knows `earlier` is not after `self`).
    pub fn since(self, earlier: SeqNum) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// Signed distance from `other` to `self`, in (-2^31, 2^31].
    pub fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `lo <= self < hi` in sequence space (RFC 9293's window test).
    pub fn in_window(self, lo: SeqNum, len: u32) -> bool {
        self.since(lo) < len
    }

    /// The later of two sequence numbers.
    pub fn max(self, other: SeqNum) -> SeqNum {
        if self.diff(other) >= 0 { self } else { other }
    }
}

impl PartialOrd for SeqNum {
    fn partial_cmp(&self, other: &SeqNum) -> Option<Ordering> {
        Some(self.diff(*other).cmp(&0))
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;
    fn add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }
}

impl AddAssign<u32> for SeqNum {
    fn add_assign(&mut self, n: u32) {
        self.0 = self.0.wrapping_add(n);
    }
}

impl Sub<u32> for SeqNum {
    type Output = SeqNum;
    fn sub(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }
}

impl fmt::Debug for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_hold_across_the_wrap() {
        let near_top = SeqNum(u32::MAX - 10);
        let wrapped = near_top + 20;
        assert_eq!(wrapped, SeqNum(9));
        assert!(near_top < wrapped);
        assert!(wrapped > near_top);
        assert_eq!(wrapped.since(near_top), 20);
        assert_eq!(near_top.diff(wrapped), -20);
    }

    #[test]
    fn half_the_space_ahead_is_later_and_beyond_is_earlier() {
        let a = SeqNum(0);
        assert!(a < SeqNum(0x7fff_ffff));
        assert!(a > SeqNum(0x8000_0001));
    }

    #[test]
    fn window_test_is_half_open_and_wraps() {
        let lo = SeqNum(u32::MAX - 1);
        assert!(lo.in_window(lo, 4));
        assert!(SeqNum(1).in_window(lo, 4));
        assert!(!SeqNum(2).in_window(lo, 4));
        assert!(!SeqNum(u32::MAX - 2).in_window(lo, 4));
        assert!(!lo.in_window(lo, 0));
    }
}
