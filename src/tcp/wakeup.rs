//! When TCP needs waking, and the host's record of the one pending wakeup per socket (and
//! per TIME_WAIT table) on its event queue: the only owner of TCP's scheduled wakeups.

use super::stack::{SocketHandle, index};
use super::state::Output;
use crate::sim::{Alarm, EventQueue, SimTime};

/// What needs a host's `Stack::wakeup` call at a given time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Wakeup {
    /// A socket's timers (its handle).
    Socket(SocketHandle),
    /// The TIME_WAIT table's next expiry.
    TimeWait,
}

impl Wakeup {
    /// A small dense number per wakeup (0 for the TIME_WAIT table, then one per socket slot),
    /// so a host keeps its pending wakeups in a vector rather than a map.
    fn key(self) -> usize {
        match self {
            Wakeup::TimeWait => 0,
            Wakeup::Socket(h) => index(h) + 1,
        }
    }
}

/// One host's pending TCP wakeups on an event queue.
#[derive(Clone, Debug, Default)]
pub struct Wakeups {
    /// Per [`Wakeup::key`]: the pending alarm and the wakeup it is for (a reused socket slot
    /// holds another handle).
    alarms: Vec<(Option<Alarm>, Option<Wakeup>)>,
}

impl Wakeups {
    /// Takes in what a TCP call reported: released sockets lose their wakeup, and each
    /// reported deadline gets a wakeup no later than it (`event` builds the queue's event).
    #[inline]
    pub fn schedule<E>(
        &mut self,
        out: &mut Output,
        queue: &mut EventQueue<E>,
        event: impl Fn(Wakeup) -> E,
    ) {
        for &h in &out.released {
            if let Some((alarm, _)) = self.alarms.get_mut(Wakeup::Socket(h).key()) {
                queue.disarm(alarm);
            }
        }
        out.released.clear();
        for &(w, at) in &out.wakeups {
            let key = w.key();
            if key >= self.alarms.len() {
                self.alarms.resize(key + 1, (None, None));
            }
            let (alarm, owner) = &mut self.alarms[key];
            if *owner != Some(w) {
                // The slot's earlier socket is gone: its wakeup serves nobody.
                queue.disarm(alarm);
                *owner = Some(w);
            }
            queue.alarm_by(alarm, at, event(w));
        }
        out.wakeups.clear();
    }

    /// `w`'s wakeup has been popped from the queue: it is no longer pending.
    pub fn fired(&mut self, w: Wakeup) {
        if let Some((alarm, owner)) = self.alarms.get_mut(w.key())
            && *owner == Some(w)
        {
            *alarm = None;
        }
    }

    /// When `w` is due to be woken, if a wakeup is pending.
    pub fn pending(&self, w: Wakeup) -> Option<SimTime> {
        match self.alarms.get(w.key()) {
            Some((Some(alarm), owner)) if *owner == Some(w) => Some(alarm.at()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddrV4};

    use super::*;
    use crate::sim::{Duration, component_rng};
    use crate::tcp::{ConnId, Payload, Stack, TcpConfig};

    fn client() -> Stack {
        let addr = Ipv4Addr::new(10, 0, 0, 1);
        Stack::new(
            0,
            addr,
            TcpConfig::default(),
            component_rng(1, "client/tcp"),
        )
    }

    fn server() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80)
    }

    /// A wakeup that comes after the deadline it serves (the queue ran late, or two deadlines
    /// were merged) must still fire the timer: matching the wakeup's time against the
    /// deadline, as hosts once did, would drop it and leave the socket never woken again.
    #[test]
    fn a_late_wakeup_still_retransmits_the_syn_and_reports_the_next_deadline() {
        let mut stack = client();
        let mut out = Output::default();
        stack
            .connect(SimTime::ZERO, None, server(), 0, &mut out)
            .expect("connect");
        let [(w, at)] = out.wakeups[..] else {
            panic!("one deadline, got {:?}", out.wakeups)
        };
        assert_eq!(
            at,
            SimTime::ZERO + Duration::from_secs(1),
            "RFC 6298 initial RTO"
        );
        out.clear();
        let late = at + Duration::from_millis(250);
        stack.wakeup(late, w, &mut out);
        let syns: Vec<_> = out
            .segments
            .iter()
            .filter(|o| o.segment.flags.syn())
            .collect();
        assert_eq!(syns.len(), 1, "the SYN goes again");
        // Backed off to 2 s from when the timer actually ran.
        assert_eq!(out.wakeups, [(w, late + Duration::from_secs(2))]);
    }

    #[test]
    fn a_deadline_is_reported_again_only_when_earlier_or_once_the_wakeup_fired() {
        let mut stack = client();
        let mut out = Output::default();
        let h = stack
            .connect(SimTime::ZERO, None, server(), 0, &mut out)
            .expect("connect");
        let [(w, at)] = out.wakeups[..] else {
            panic!("one deadline, got {:?}", out.wakeups)
        };
        out.clear();
        // A call that leaves the deadline where it was reports none: the host's wakeup serves.
        let data = Payload::pattern(ConnId::default(), 0, 100);
        stack.send(SimTime::ZERO, h, &data, &mut out);
        assert_eq!(out.wakeups, []);
        // Woken early, nothing is due; the wakeup is gone, so the same deadline goes again.
        stack.wakeup(SimTime::ZERO + Duration::from_millis(1), w, &mut out);
        assert_eq!(out.wakeups, [(w, at)]);
    }

    #[test]
    fn one_wakeup_per_socket_no_later_than_its_earliest_deadline() {
        let mut queue = EventQueue::new();
        let mut wakeups = Wakeups::default();
        let t = |ms| SimTime::ZERO + Duration::from_millis(ms);
        let mut out = Output::default();
        let sock = Wakeup::Socket(3);
        out.wakeups
            .extend([(sock, t(300)), (sock, t(500)), (sock, t(200))]);
        out.wakeups.push((Wakeup::TimeWait, t(60_000)));
        wakeups.schedule(&mut out, &mut queue, |w| w);
        assert_eq!(queue.len(), 2);
        assert_eq!(wakeups.pending(sock), Some(t(200)));
        // A released socket's wakeup is cancelled; the table's stays.
        out.released.push(3);
        wakeups.schedule(&mut out, &mut queue, |w| w);
        assert_eq!(wakeups.pending(sock), None);
        // A socket reusing the slot is not served by the old handle's wakeup.
        out.wakeups.push((sock, t(400)));
        wakeups.schedule(&mut out, &mut queue, |w| w);
        let reused = Wakeup::Socket(1 << 32 | 3);
        out.wakeups.push((reused, t(900)));
        wakeups.schedule(&mut out, &mut queue, |w| w);
        assert_eq!(
            (wakeups.pending(sock), wakeups.pending(reused)),
            (None, Some(t(900)))
        );
        assert_eq!(queue.pop(), Some((t(900), reused)));
        wakeups.fired(reused);
        assert_eq!(queue.pop(), Some((t(60_000), Wakeup::TimeWait)));
        wakeups.fired(Wakeup::TimeWait);
        assert_eq!(wakeups.pending(Wakeup::TimeWait), None);
    }
}
