//! The `timeseq` figure: tcptrace-style sequence numbers over time, one panel per connection.

use std::collections::BTreeMap;

use super::model::{HopKind, Index};
use super::{Stack, TIMESEQ_PANELS, secs};
use crate::report::plot::TimeSeq;

/// One connection's data direction, for `timeseq`.
#[derive(Default)]
struct Direction {
    sent: Vec<(f64, f64, f64)>,
    retransmitted: Vec<(f64, f64, f64)>,
    acked: Vec<(f64, f64)>,
    highlighted: Vec<(f64, f64, f64)>,
    /// Highest relative sequence number sent so far.
    high: u64,
}

/// Segments that make a window's worth of data: Linux's and RFC 6928's initial window. A
/// connection that sent fewer, none of them again, draws a step or two that say nothing the
/// ladder does not.
const WINDOW_SEGMENTS: usize = 10;

pub(super) fn timeseq(a: &Index<'_>, note: &str) -> Option<Stack<TimeSeq>> {
    let d = a.d;
    let mut dirs: BTreeMap<usize, Direction> = BTreeMap::new();
    for r in &d.packets {
        let (Some(flags), Some(seq)) = (r.flags, r.seq) else {
            continue;
        };
        match r.kind {
            HopKind::Send if r.len > 0 => {
                let Some(c) = a.sender_index(r) else {
                    continue;
                };
                let iss = d.connections[c].iss;
                let lo = (seq as u32).wrapping_sub(iss) as u64;
                let hi = lo + r.len as u64;
                let dir = dirs.entry(c).or_default();
                let seg = (secs(r.time), lo as f64, hi as f64);
                if lo < dir.high {
                    dir.retransmitted.push(seg);
                } else {
                    dir.sent.push(seg);
                }
                dir.high = dir.high.max(hi);
            }
            // An ACK the data's sender received: sent by its peer, delivered to its host.
            HopKind::Deliver if flags.ack() => {
                let Some(ack) = r.ack else { continue };
                // The incarnation that held the 4-tuple on the host it reached.
                let Some(c) = a.receiver(r) else { continue };
                let rel = ack.wrapping_sub(d.connections[c].iss) as f64;
                dirs.entry(c).or_default().acked.push((secs(r.time), rel));
            }
            _ => {}
        }
    }
    // Corrupting segments, in the panel of the connection whose stream they took the place
    // of: the peer of the incarnation that held their 4-tuple when they arrived, if its
    // delivered stream held them and had corrupted bytes.
    for &i in &a.lost {
        let r = &d.packets[i];
        let Some(recv) = a.receiver(r) else { continue };
        let rc = &d.connections[recv];
        let (Some(irs), Some(seq)) = (rc.irs, r.seq) else {
            continue;
        };
        let rel = (seq as u32).wrapping_sub(irs) as u64;
        if rc.corrupted == 0 || rel < 1 || rel > rc.delivered {
            continue;
        }
        let Some(p) = a.peer(recv) else { continue };
        let lo = (seq as u32).wrapping_sub(d.connections[p].iss) as f64;
        dirs.entry(p)
            .or_default()
            .highlighted
            .push((secs(r.time), lo, lo + r.len as f64));
    }
    // Only connections whose sequence plot says something get a panel: data replaced by a
    // lost duplicate, retransmissions, or at least a window's worth of segments.
    dirs.retain(|_, dir| {
        !dir.highlighted.is_empty()
            || !dir.retransmitted.is_empty()
            || dir.sent.len() >= WINDOW_SEGMENTS
    });
    if dirs.is_empty() {
        return None;
    }
    // Panels: corrupted first, then retransmitting, then the rest; shown in opening order.
    let mut order: Vec<usize> = dirs.keys().copied().collect();
    let rank = |c: &usize| {
        let dir = &dirs[c];
        (
            dir.highlighted.is_empty(),
            dir.retransmitted.is_empty(),
            d.connections[*c].opened,
            *c,
        )
    };
    order.sort_by_key(rank);
    order.truncate(TIMESEQ_PANELS);
    order.sort_by_key(|c| (d.connections[*c].opened, *c));
    let panels = order
        .iter()
        .map(|c| {
            let conn = &d.connections[*c];
            let dir = dirs.remove(c).unwrap_or_default();
            TimeSeq {
                title: format!(
                    "{} {} \u{2192} {}, incarnation {}",
                    conn.conn, conn.local, conn.remote, conn.incarnation
                ),
                sent: dir.sent,
                retransmitted: dir.retransmitted,
                acked: dir.acked,
                highlighted: dir.highlighted,
                window: None,
            }
        })
        .collect::<Vec<_>>();
    let total = panels.len() + dirs.len();
    let mut title = "Sequence numbers over time (relative to each ISN)".to_string();
    if total > panels.len() {
        title.push_str(&format!(
            ": {} of {total} connections sending data",
            panels.len()
        ));
    }
    title.push_str(note);
    Some(Stack {
        title,
        subtitle: String::new(),
        panels,
        panel_height: 400,
        heights: Vec::new(),
    })
}
