//! The TCP segment as the model exchanges it, plus the provenance tag the audit reads.

use std::fmt;

use super::payload::Payload;
use super::seq::SeqNum;
use crate::sim::SimTime;

/// TCP control bits (RFC 9293 §3.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// No more data from sender.
    pub const FIN: Flags = Flags(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: Flags = Flags(0x02);
    /// Reset the connection.
    pub const RST: Flags = Flags(0x04);
    /// Push function.
    pub const PSH: Flags = Flags(0x08);
    /// Acknowledgment field is significant.
    pub const ACK: Flags = Flags(0x10);

    /// True if every bit of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    /// Wire bits, as in the TCP header.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// True if FIN is set.
    pub const fn fin(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// True if SYN is set.
    pub const fn syn(self) -> bool {
        self.0 & 0x02 != 0
    }
    /// True if RST is set.
    pub const fn rst(self) -> bool {
        self.0 & 0x04 != 0
    }
    /// True if ACK is set.
    pub const fn ack(self) -> bool {
        self.0 & 0x10 != 0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, o: Flags) -> Flags {
        Flags(self.0 | o.0)
    }
}

impl fmt::Display for Flags {
    /// tcpdump-like: "S", "S.", ".", "P.", "F.", "R", "R.".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        for (flag, c) in [
            (Flags::SYN, 'S'),
            (Flags::FIN, 'F'),
            (Flags::RST, 'R'),
            (Flags::PSH, 'P'),
        ] {
            if self.contains(flag) {
                s.push(c);
            }
        }
        if self.ack() {
            s.push('.');
        }
        if s.is_empty() {
            s.push_str("none");
        }
        f.write_str(&s)
    }
}

impl std::str::FromStr for Flags {
    type Err = String;

    /// Parses tcpdump's notation: "S", "S.", ".", "P.", "F.", "R", "R.", "FP." ...
    fn from_str(s: &str) -> Result<Flags, String> {
        let mut f = Flags::default();
        for c in s.chars() {
            f = f
                | match c {
                    'S' => Flags::SYN,
                    'F' => Flags::FIN,
                    'R' => Flags::RST,
                    'P' => Flags::PSH,
                    '.' => Flags::ACK,
                    _ => {
                        return Err(format!(
                            "invalid TCP flags \"{s}\": use S, F, R, P and . (ACK) as tcpdump prints them, e.g. \"S.\""
                        ));
                    }
                };
        }
        Ok(f)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Identifies one connection incarnation across the whole run (host index, per-host counter).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct ConnId {
    /// The host that created the socket.
    pub host: u32,
    /// Creation order on that host, from 1.
    pub n: u32,
}

/// Provenance carried by every segment, never read by TCP's logic: which incarnation sent it,
/// at which stream offset its payload starts, and what the network did to the packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Tag {
    /// The sending incarnation.
    pub conn: ConnId,
    /// Stream offset (bytes since the sender's SYN) of the first payload byte.
    pub offset: u64,
    /// The packet that carried the segment (set by the network).
    pub packet: u64,
    /// When that packet was sent (set by the network).
    pub sent_at: SimTime,
    /// When it reached the receiving host (set by the network).
    pub arrived_at: SimTime,
    /// Its IP TTL on arrival (set by the network).
    pub ttl_left: u8,
    /// True if the sender had sent these bytes before.
    pub retransmission: bool,
}

/// TCP timestamps option (RFC 7323).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Timestamps {
    /// Sender's clock.
    pub tsval: u32,
    /// Echo of the peer's most recent clock.
    pub tsecr: u32,
}

/// Most SACK blocks one segment carries: 40 bytes of option space hold 4 blocks of 8 bytes plus
/// the kind and length (RFC 2018 §3); with timestamps (12 bytes) only 3 fit.
pub const MAX_SACK_BLOCKS: usize = 4;

/// The SACK option's blocks (RFC 2018 §3): each the left edge and the right edge (one past the
/// last byte) of a range the receiver holds, in the order the receiver chose (§4: the first
/// contains the most recently received segment; RFC 2883: or reports a duplicate). Kept behind
/// a `Box` in [`Segment`], so the segments that carry none (nearly all) stay small.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SackBlocks {
    len: u8,
    blocks: [(SeqNum, SeqNum); MAX_SACK_BLOCKS],
}

impl SackBlocks {
    /// Appends a block; returns false (and keeps nothing) once the option is full.
    pub fn push(&mut self, left: SeqNum, right: SeqNum) -> bool {
        if self.len as usize == MAX_SACK_BLOCKS {
            return false;
        }
        self.blocks[self.len as usize] = (left, right);
        self.len += 1;
        true
    }
    /// The blocks, in the order sent.
    pub fn as_slice(&self) -> &[(SeqNum, SeqNum)] {
        &self.blocks[..self.len as usize]
    }
    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.len as usize
    }
    /// True when there is no block.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl FromIterator<(SeqNum, SeqNum)> for SackBlocks {
    fn from_iter<I: IntoIterator<Item = (SeqNum, SeqNum)>>(it: I) -> Self {
        let mut b = SackBlocks::default();
        for (l, r) in it {
            if !b.push(l, r) {
                break;
            }
        }
        b
    }
}

/// A TCP segment: the header fields the model uses, the payload bytes and the audit tag.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Segment {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// SEG.SEQ.
    pub seq: SeqNum,
    /// SEG.ACK (meaningful when ACK is set).
    pub ack: SeqNum,
    /// Control bits.
    pub flags: Flags,
    /// SEG.WND (unscaled).
    pub window: u16,
    /// MSS option, sent on SYNs.
    pub mss: Option<u16>,
    /// Window scale option (RFC 7323 §2), sent on SYNs: the shift the sender will apply to
    /// the windows it advertises.
    pub wscale: Option<u8>,
    /// Timestamps option.
    pub timestamps: Option<Timestamps>,
    /// SACK-permitted option (RFC 2018 §2), sent on SYNs.
    pub sack_ok: bool,
    /// SACK option (RFC 2018 §3), `None` on most segments (boxed: see [`SackBlocks`]).
    pub sack: Option<Box<SackBlocks>>,
    /// Payload bytes (held as where they come from: see [`Payload`]).
    pub payload: Payload,
    /// Provenance for the audit.
    pub tag: Tag,
}

impl Segment {
    /// The reset RFC 9293 §3.10.7.1 sends in reply to `seg` when no connection matches (or
    /// when a segment acknowledges something never sent): `<SEQ=SEG.ACK><CTL=RST>` if `seg`
    /// has ACK, else `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`. Never a reset for a reset.
    pub fn reset_for(seg: &Segment) -> Option<Segment> {
        if seg.flags.rst() {
            return None;
        }
        let (seq, ack, flags) = if seg.flags.ack() {
            (seg.ack, SeqNum(0), Flags::RST)
        } else {
            (SeqNum(0), seg.seq + seg.seg_len(), Flags::RST | Flags::ACK)
        };
        Some(Segment {
            src_port: seg.dst_port,
            dst_port: seg.src_port,
            seq,
            ack,
            flags,
            ..Segment::default()
        })
    }

    /// SEG.LEN: payload plus one for each of SYN and FIN.
    pub fn seg_len(&self) -> u32 {
        self.payload.len() as u32 + self.flags.syn() as u32 + self.flags.fin() as u32
    }

    /// TCP header length in bytes, options padded to 32-bit words.
    pub fn header_len(&self) -> usize {
        let mut opts = 0;
        if self.mss.is_some() {
            opts += 4;
        }
        if self.timestamps.is_some() {
            opts += 12; // 10 bytes plus two NOPs of padding, as Linux sends it
        }
        if self.sack_ok && self.timestamps.is_none() {
            opts += 4; // NOP, NOP, then the 2-byte option (with timestamps it takes their NOPs)
        }
        if let Some(b) = &self.sack {
            opts += 4 + 8 * b.len(); // NOP, NOP, kind, length, then 8 bytes a block
        }
        20 + opts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sack_blocks_add_one_pointer_to_a_segment() {
        // Issue 13: segments move a lot. Before SACK a Segment was 112 bytes; the blocks live
        // behind a Box (8 bytes, `None` on nearly every segment) and SACK-permitted in padding.
        assert_eq!(std::mem::size_of::<Segment>(), 120);
        assert_eq!(std::mem::size_of::<SackBlocks>(), 36);
    }
}
