//! Stream bytes as the model carries them: where each byte comes from, not the byte itself.
//! A transfer moves (incarnation, offset, length) between the send buffer, segments, the
//! out-of-order queue and the receive buffer; the bytes are made only where something reads
//! them (an application parsing a request, the capture writer).

use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use super::segment::ConnId;

/// Bytes of one origin.
#[derive(Clone)]
enum Piece {
    /// `len` bytes of the synthetic stream of `conn`, from its stream offset `offset`.
    Pattern { conn: ConnId, len: u32, offset: u64 },
    /// `len` bytes of `buf` from index `start`.
    Bytes {
        buf: Rc<Vec<u8>>,
        start: u32,
        len: u32,
    },
}

impl Piece {
    fn len(&self) -> u32 {
        match self {
            Piece::Pattern { len, .. } | Piece::Bytes { len, .. } => *len,
        }
    }

    /// Bytes `from..from + len` of this piece.
    fn slice(&self, from: u32, len: u32) -> Piece {
        debug_assert!(from + len <= self.len());
        match self {
            Piece::Pattern { conn, offset, .. } => Piece::Pattern {
                conn: *conn,
                len,
                offset: offset + u64::from(from),
            },
            Piece::Bytes { buf, start, .. } => Piece::Bytes {
                buf: Rc::clone(buf),
                start: start + from,
                len,
            },
        }
    }

    /// Extends this piece by `next` when `next` continues it (the same stream at the next
    /// offset, or the same buffer at the next index), so a transfer stays one piece.
    fn join(&mut self, next: &Piece) -> bool {
        match (self, next) {
            (
                Piece::Pattern { conn, len, offset },
                Piece::Pattern {
                    conn: c2,
                    len: l2,
                    offset: o2,
                },
            ) if conn == c2 && *offset + u64::from(*len) == *o2 => match len.checked_add(*l2) {
                Some(sum) => {
                    *len = sum;
                    true
                }
                None => false,
            },
            (
                Piece::Bytes { buf, start, len },
                Piece::Bytes {
                    buf: b2,
                    start: s2,
                    len: l2,
                },
            ) if Rc::ptr_eq(buf, b2) && *start + *len == *s2 => {
                *len += *l2;
                true
            }
            _ => false,
        }
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Piece::Pattern { conn, len, offset } => pattern_into(*conn, *offset, *len, out),
            Piece::Bytes { buf, start, len } => {
                out.extend_from_slice(&buf[*start as usize..(*start + *len) as usize]);
            }
        }
    }
}

/// The bytes every application writes as stream data: a pure function of (incarnation, stream
/// offset), so a byte in a capture can be traced to its writer. Lower-case letters keep
/// captures readable.
fn pattern_into(conn: ConnId, offset: u64, len: u32, out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";
    let shift = (conn.n as u64)
        .wrapping_mul(7)
        .wrapping_add(conn.host as u64 * 13);
    let mut at = ((offset.wrapping_add(shift)) % 26) as usize;
    let mut left = len as usize;
    out.reserve(left);
    while left > 0 {
        // Up to 26 letters at a time from the doubled alphabet.
        let n = left.min(26);
        out.extend_from_slice(&ALPHABET[at..at + n]);
        at = (at + n) % 26;
        left -= n;
    }
}

#[derive(Clone, Default)]
enum Repr {
    #[default]
    Empty,
    One(Piece),
    Many(Rc<[Piece]>),
}

/// A run of stream bytes, held as where they come from. Cloning and slicing copy no bytes.
#[derive(Clone, Default)]
pub struct Payload {
    repr: Repr,
}

impl Payload {
    /// `len` bytes of `conn`'s synthetic stream from stream offset `offset`: what the bundled
    /// applications write (see [`Payload::to_vec`] for the bytes).
    pub fn pattern(conn: ConnId, offset: u64, len: u32) -> Payload {
        Payload::from_piece(Piece::Pattern { conn, len, offset })
    }

    /// The bytes of `buf`, shared rather than copied by every slice and clone.
    pub fn shared(buf: Rc<Vec<u8>>) -> Payload {
        let len = u32::try_from(buf.len()).expect("a payload holds at most 4 GiB");
        Payload::from_piece(Piece::Bytes { buf, start: 0, len })
    }

    fn from_piece(p: Piece) -> Payload {
        if p.len() == 0 {
            Payload::default()
        } else {
            Payload { repr: Repr::One(p) }
        }
    }

    /// Joins pieces in order, merging those that continue each other.
    fn from_pieces(pieces: impl IntoIterator<Item = Piece>) -> Payload {
        let mut v: Vec<Piece> = Vec::new();
        for p in pieces {
            if p.len() == 0 {
                continue;
            }
            if !v.last_mut().is_some_and(|last| last.join(&p)) {
                v.push(p);
            }
        }
        match v.len() {
            0 => Payload::default(),
            1 => Payload::from_piece(v.pop().expect("one piece")),
            _ => Payload {
                repr: Repr::Many(v.into()),
            },
        }
    }

    fn pieces(&self) -> &[Piece] {
        match &self.repr {
            Repr::Empty => &[],
            Repr::One(p) => std::slice::from_ref(p),
            Repr::Many(v) => v,
        }
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        // Asked of every segment at every hop: one piece (nearly always) needs no loop.
        match &self.repr {
            Repr::Empty => 0,
            Repr::One(p) => p.len() as usize,
            Repr::Many(v) => v.iter().map(|p| p.len() as usize).sum(),
        }
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        matches!(self.repr, Repr::Empty)
    }

    /// Bytes `from..from + len`, as slicing `&[u8]` would give (panics past the end).
    pub fn slice(&self, from: usize, len: usize) -> Payload {
        assert!(from + len <= self.len(), "slice past the payload's end");
        if len == 0 {
            return Payload::default();
        }
        if let Repr::One(p) = &self.repr {
            return Payload::from_piece(p.slice(from as u32, len as u32));
        }
        let (mut skip, mut left) = (from as u64, len as u64);
        let mut out = Vec::new();
        for p in self.pieces() {
            let plen = u64::from(p.len());
            if skip >= plen {
                skip -= plen;
                continue;
            }
            let take = (plen - skip).min(left);
            out.push(p.slice(skip as u32, take as u32));
            left -= take;
            skip = 0;
            if left == 0 {
                break;
            }
        }
        Payload::from_pieces(out)
    }

    /// Appends the bytes to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        for p in self.pieces() {
            p.write_to(out);
        }
    }

    /// The bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        self.write_to(&mut v);
        v
    }
}

impl From<Vec<u8>> for Payload {
    fn from(v: Vec<u8>) -> Payload {
        Payload::shared(Rc::new(v))
    }
}

impl From<&[u8]> for Payload {
    fn from(v: &[u8]) -> Payload {
        Payload::from(v.to_vec())
    }
}

/// Two payloads are equal when their bytes are, wherever the bytes come from.
impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        self.len() == other.len() && self.to_vec() == other.to_vec()
    }
}

impl Eq for Payload {}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({} bytes)", self.len())
    }
}

/// Pieces' worth of allocation a recycled [`PayloadQueue`] keeps.
const KEPT_PIECES: usize = 16;

/// A byte queue of payloads (a send or receive buffer): appended at the back, consumed from
/// the front, sliced anywhere, without copying bytes.
#[derive(Clone, Default)]
pub struct PayloadQueue {
    /// Each piece with the queue position of its first byte (positions count from the
    /// queue's creation, so consuming the front renumbers nothing).
    pieces: VecDeque<(u64, Piece)>,
    /// Position of the first byte held.
    head: u64,
    /// Position one past the last byte held.
    tail: u64,
}

impl PayloadQueue {
    /// Empties the queue for reuse: positions start over, and at most a few pieces' worth
    /// of allocation is kept.
    pub fn recycle(&mut self) {
        self.pieces.clear();
        self.pieces.shrink_to(KEPT_PIECES);
        self.head = 0;
        self.tail = 0;
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        (self.tail - self.head) as usize
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// Appends `data`.
    pub fn push(&mut self, data: &Payload) {
        for p in data.pieces() {
            let len = u64::from(p.len());
            if !self.pieces.back_mut().is_some_and(|(_, last)| last.join(p)) {
                self.pieces.push_back((self.tail, p.clone()));
            }
            self.tail += len;
        }
    }

    /// Bytes `from..from + len` of what is held (panics past the end).
    pub fn slice(&self, from: usize, len: usize) -> Payload {
        assert!(from + len <= self.len(), "slice past the queue's end");
        if len == 0 {
            return Payload::default();
        }
        let start = self.head + from as u64;
        let end = start + len as u64;
        // The piece holding `start`: the last one starting at or before it (the front one,
        // which holds the whole of a bulk transfer's buffer, needs no search).
        let first = match self.pieces.front() {
            Some((at, p)) if start < at + u64::from(p.len()) => 0,
            _ => self.pieces.partition_point(|(at, _)| *at <= start) - 1,
        };
        let (at, p) = &self.pieces[first];
        if end <= at + u64::from(p.len()) {
            // Within one piece (a bulk transfer's every segment): nothing to gather.
            return Payload::from_piece(p.slice((start - at) as u32, len as u32));
        }
        Payload::from_pieces(self.pieces.range(first..).map_while(|(at, p)| {
            (*at < end).then(|| {
                let from = start.max(*at);
                let to = end.min(*at + u64::from(p.len()));
                p.slice((from - at) as u32, (to - from) as u32)
            })
        }))
    }

    /// Drops the first `n` bytes (at most all held).
    pub fn consume(&mut self, n: usize) {
        self.head += (n as u64).min(self.tail - self.head);
        while let Some((at, p)) = self.pieces.front_mut() {
            let end = *at + u64::from(p.len());
            if end <= self.head {
                self.pieces.pop_front();
                continue;
            }
            if *at < self.head {
                let cut = (self.head - *at) as u32;
                *p = p.slice(cut, p.len() - cut);
                *at = self.head;
            }
            break;
        }
    }

    /// Removes and returns the first `n` bytes (at most all held).
    pub fn take(&mut self, n: usize) -> Payload {
        let n = n.min(self.len());
        let out = self.slice(0, n);
        self.consume(n);
        out
    }
}

impl fmt::Debug for PayloadQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PayloadQueue({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: ConnId = ConnId { host: 1, n: 2 };

    #[test]
    fn the_pattern_is_a_pure_function_of_incarnation_and_offset() {
        let whole = Payload::pattern(C, 100, 1000).to_vec();
        // Any slice of the stream is the same bytes, however it is cut.
        assert_eq!(&whole[37..537], &Payload::pattern(C, 137, 500).to_vec()[..]);
        assert_eq!(
            &whole[37..537],
            &Payload::pattern(C, 100, 1000).slice(37, 500).to_vec()[..]
        );
        let shift = (2 * 7 + 13) % 26;
        assert_eq!(whole[0], b'a' + ((100 + shift) % 26) as u8);
        let other = Payload::pattern(ConnId { host: 1, n: 3 }, 100, 50).to_vec();
        assert_ne!(other, whole[..50]);
    }

    #[test]
    fn a_recycled_queue_is_empty_and_holds_new_bytes_as_a_new_one_would() {
        let mut q = PayloadQueue::default();
        for i in 0..40 {
            q.push(&Payload::pattern(ConnId { host: 0, n: i }, 0, 100));
        }
        q.consume(1_234);
        q.recycle();
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        assert!(
            q.pieces.capacity() <= 2 * KEPT_PIECES,
            "a big queue's room is not hoarded"
        );
        let fresh = Payload::pattern(C, 5, 300);
        q.push(&fresh);
        assert_eq!(q.len(), 300);
        assert_eq!(q.slice(0, 300).to_vec(), fresh.to_vec());
        assert_eq!(q.take(300).to_vec(), fresh.to_vec());
        assert!(q.is_empty());
    }

    #[test]
    fn a_queue_slices_across_pieces_of_different_origin_as_a_byte_queue_would() {
        let mut q = PayloadQueue::default();
        let mut model: VecDeque<u8> = VecDeque::new();
        let parts = [
            Payload::from(b"GET / HTTP/1.0\r\n\r\n".to_vec()),
            Payload::pattern(C, 0, 700),
            Payload::pattern(C, 700, 300), // continues the previous piece: merged
            Payload::from((0..=255u8).collect::<Vec<u8>>()),
        ];
        for p in &parts {
            q.push(p);
            model.extend(p.to_vec());
        }
        assert_eq!(q.pieces.len(), 3);
        assert_eq!(q.len(), model.len());
        for (from, len) in [
            (0, 18),
            (10, 20),
            (17, 1000),
            (1000, 274),
            (0, 1274),
            (5, 0),
        ] {
            let want: Vec<u8> = model.range(from..from + len).copied().collect();
            assert_eq!(q.slice(from, len).to_vec(), want, "slice {from}+{len}");
            assert_eq!(q.slice(from, len).len(), len);
        }
        // Consuming part of a piece, then more than one piece.
        let a = q.take(11);
        assert_eq!(a.to_vec(), model.drain(..11).collect::<Vec<u8>>());
        q.consume(900);
        model.drain(..900);
        assert_eq!(
            q.slice(0, q.len()).to_vec(),
            model.iter().copied().collect::<Vec<u8>>()
        );
        q.consume(usize::MAX);
        assert!(q.is_empty() && q.pieces.is_empty());
    }

    #[test]
    fn slices_of_slices_and_equality_go_by_bytes() {
        let mut q = PayloadQueue::default();
        q.push(&Payload::from(b"abc".to_vec()));
        q.push(&Payload::pattern(C, 0, 10));
        let p = q.slice(1, 10);
        assert_eq!(p.slice(2, 5).to_vec(), p.to_vec()[2..7].to_vec());
        // The same bytes from another origin compare equal.
        assert_eq!(Payload::from(p.to_vec()), p);
        assert_ne!(Payload::pattern(C, 1, 10), Payload::pattern(C, 0, 10));
        assert!(Payload::pattern(C, 5, 0).is_empty());
    }

    #[test]
    fn a_bulk_stream_stays_one_piece_and_a_payload_is_small() {
        let mut q = PayloadQueue::default();
        for i in 0..1000 {
            q.push(&Payload::pattern(C, i * 1448, 1448));
        }
        assert_eq!(q.pieces.len(), 1);
        assert!(matches!(q.slice(5000, 1448).repr, Repr::One(_)));
        assert!(std::mem::size_of::<Payload>() <= 32);
    }
}
