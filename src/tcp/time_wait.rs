//! TIME_WAIT as a compact record, not a full socket (as Linux keeps a `tcp_timewait_sock`):
//! what is needed to re-ACK a retransmitted FIN, judge a new SYN, and expire after 2 x MSL.

use std::borrow::Borrow;
use std::cmp::Reverse;
use std::hash::{Hash, Hasher};

use priority_queue::PriorityQueue;
use rustc_hash::FxBuildHasher;

use super::config::{SynInTimeWait, TcpConfig};
use super::payload::Payload;
use super::segment::{ConnId, Flags, Segment, Tag, Timestamps};
use super::seq::SeqNum;
use super::state::FourTuple;
use crate::sim::SimTime;

/// One 4-tuple in TIME_WAIT.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TimeWait {
    /// The 4-tuple held.
    pub tuple: FourTuple,
    /// The incarnation that closed.
    pub conn: ConnId,
    /// Our SND.NXT at close (after our FIN).
    pub snd_nxt: SeqNum,
    /// Our RCV.NXT at close (after the peer's FIN).
    pub rcv_nxt: SeqNum,
    /// The window we last advertised.
    pub rcv_wnd: u16,
    /// TS.Recent and our clock offset, if timestamps were on.
    pub ts_recent: u32,
    /// Our timestamp clock offset.
    pub ts_offset: u32,
    /// Whether the connection used timestamps.
    pub ts_on: bool,
    /// When TS.Recent was last set (for `tcp_tw_reuse`'s one-second rule).
    pub ts_recent_at: SimTime,
    /// When TIME_WAIT began.
    pub since: SimTime,
}

/// A record as the table holds it: keyed by its 4-tuple alone, since a 4-tuple is in
/// TIME_WAIT once at a time (the key, not the record, compares equal across incarnations).
struct Held(TimeWait);

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.0.tuple == other.0.tuple
    }
}

impl Eq for Held {}

impl Hash for Held {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.tuple.hash(state);
    }
}

impl Borrow<FourTuple> for Held {
    fn borrow(&self) -> &FourTuple {
        &self.0.tuple
    }
}

/// How a new connection reusing a TIME_WAIT 4-tuple picks its ISS.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReopenIss {
    /// From the host's ISN generator.
    Generated,
    /// From the generator, but above the old SND.NXT (RFC 1122 §4.2.2.13 (1)).
    AboveOld(SeqNum),
    /// Exactly this (Linux: old SND.NXT + 65537).
    Exactly(SeqNum),
}

/// What a TIME_WAIT record does with an arriving segment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TwVerdict {
    /// Answer `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`; restart the 2MSL timer if `restart`.
    Ack {
        /// Restart the timer.
        restart: bool,
    },
    /// No answer; restart the 2MSL timer (an in-window bare ACK).
    Restart,
    /// A reset ended TIME_WAIT early (RFC 1337's "assassination").
    Kill,
    /// The SYN may open a new incarnation: end TIME_WAIT and hand the SYN to the listener.
    Reopen(ReopenIss),
    /// Nothing at all.
    Ignore,
}

/// Seconds-resolution signed comparison of timestamps (RFC 7323 §5.2).
fn ts_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl TimeWait {
    /// Judges a segment for this 4-tuple, following Linux `tcp_timewait_state_process` for the
    /// common cases and `config.syn_in_time_wait` for SYNs.
    pub fn judge(&self, seg: &Segment, config: &TcpConfig) -> TwVerdict {
        let f = seg.flags;
        let tsval = seg.timestamps.map(|t| t.tsval);
        let paws_reject =
            self.ts_on && !f.rst() && tsval.is_some_and(|v| ts_before(v, self.ts_recent));
        // In window, only a reset or a bare ACK can arrive.
        if !paws_reject && seg.seq == self.rcv_nxt && (seg.seg_len() == 0 || f.rst()) {
            if f.rst() {
                return if config.rfc1337 {
                    TwVerdict::Ignore
                } else {
                    TwVerdict::Kill
                };
            }
            return TwVerdict::Restart;
        }
        if f.syn() && !f.rst() && !f.ack() {
            let seq_newer = seg.seq > self.rcv_nxt;
            let ts_newer = self.ts_on && tsval.is_some_and(|v| ts_before(self.ts_recent, v));
            let reopen = match config.syn_in_time_wait {
                // RFC 9293 with RFC 5961: a challenge ACK, TIME_WAIT stays.
                SynInTimeWait::Rfc9293 => None,
                // RFC 7323 §5.3 R1: PAWS judges a SYN before RFC 1122's sequence test does.
                SynInTimeWait::Rfc1122 => {
                    (!paws_reject && seq_newer).then_some(ReopenIss::AboveOld(self.snd_nxt))
                }
                SynInTimeWait::Linux => (!paws_reject && (seq_newer || ts_newer))
                    .then_some(ReopenIss::Exactly(self.snd_nxt + 65_537)),
                SynInTimeWait::Rfc6191 => {
                    // RFC 6191 §2, by whether the old and the new incarnation use timestamps.
                    let ts_new = config.timestamps && tsval.is_some();
                    let ok = match (self.ts_on, tsval) {
                        (true, Some(v)) if ts_new => ts_newer || (v == self.ts_recent && seq_newer),
                        (false, _) if ts_new => true,
                        _ => seq_newer,
                    };
                    if !ok {
                        // RFC 6191: otherwise silently drop the SYN.
                        return TwVerdict::Ignore;
                    }
                    Some(ReopenIss::Generated)
                }
            };
            return match reopen {
                Some(iss) => TwVerdict::Reopen(iss),
                // Linux `tcp_timewait_state_process`: `if (paws_reject || th->ack)
                // inet_twsk_reschedule(...)` restarts TIME_WAIT before the ACK.
                None => TwVerdict::Ack {
                    restart: paws_reject && config.syn_in_time_wait == SynInTimeWait::Linux,
                },
            };
        }
        if f.rst() {
            // RFC 5961 §3.2 (RFC 9293 §3.10.7.4 second) covers TIME-WAIT: a RST in the window
            // but off RCV.NXT gets a challenge ACK. Linux `tcp_timewait_state_process` ignores it.
            if config.rst_challenge_everywhere
                && seg.seq.in_window(self.rcv_nxt, self.rcv_wnd.into())
            {
                return TwVerdict::Ack { restart: false };
            }
            return TwVerdict::Ignore;
        }
        // A retransmitted FIN (or any out-of-window segment): ACK it and restart 2MSL.
        TwVerdict::Ack {
            restart: paws_reject || f.ack(),
        }
    }

    /// The ACK a TIME_WAIT record sends.
    pub fn ack(&self, now: SimTime) -> Segment {
        let clock = (now.as_nanos() / 1_000_000) as u32;
        Segment {
            src_port: self.tuple.local.port(),
            dst_port: self.tuple.remote.port(),
            seq: self.snd_nxt,
            ack: self.rcv_nxt,
            flags: Flags::ACK,
            window: self.rcv_wnd,
            mss: None,
            wscale: None,
            timestamps: self.ts_on.then_some(Timestamps {
                tsval: self.ts_offset.wrapping_add(clock),
                tsecr: self.ts_recent,
            }),
            sack_ok: false,
            sack: None,
            payload: Payload::default(),
            tag: Tag {
                conn: self.conn,
                ..Tag::default()
            },
        }
    }
}

/// A host's TIME_WAIT records, keyed by 4-tuple and ordered by expiry.
#[derive(Default)]
pub struct TimeWaitTable {
    queue: PriorityQueue<Held, Reverse<SimTime>, FxBuildHasher>,
}

impl TimeWaitTable {
    /// Number of 4-tuples held.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True if no 4-tuple is held.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Holds `tw` until `expires`.
    pub fn insert(&mut self, tw: TimeWait, expires: SimTime) {
        self.queue.push(Held(tw), Reverse(expires));
    }

    /// The record for `tuple`, and its expiry.
    pub fn get(&self, tuple: &FourTuple) -> Option<(&TimeWait, SimTime)> {
        self.queue.get(tuple).map(|(tw, p)| (&tw.0, p.0))
    }

    /// Moves the expiry of `tuple` to `expires` (a retransmitted FIN restarts 2MSL).
    pub fn restart(&mut self, tuple: &FourTuple, expires: SimTime) {
        self.queue.change_priority(tuple, Reverse(expires));
    }

    /// Ends TIME_WAIT for `tuple` early.
    pub fn remove(&mut self, tuple: &FourTuple) -> Option<TimeWait> {
        self.queue.remove(tuple).map(|(tw, _)| tw.0)
    }

    /// The earliest expiry.
    pub fn next_expiry(&self) -> Option<SimTime> {
        self.queue.peek().map(|(_, p)| p.0)
    }

    /// Removes and returns one record whose time is up at `now`.
    pub fn pop_expired(&mut self, now: SimTime) -> Option<TimeWait> {
        self.queue.pop_if(|_, p| p.0 <= now).map(|(tw, _)| tw.0)
    }

    /// Every record with its expiry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&TimeWait, SimTime)> {
        self.queue.iter().map(|(tw, p)| (&tw.0, p.0))
    }
}
