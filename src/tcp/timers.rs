//! A socket's timers as typed data: which roles are armed, for when, and the socket's one
//! next wakeup derived from them. Firing a timer is the socket's business; this module only
//! says which one is due.

use crate::sim::SimTime;

/// The role a timer plays. Each role has one deadline at most.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Timer {
    /// RFC 6298 §5 retransmission timeout: resend the oldest unacknowledged segment.
    Retransmit,
    /// RFC 9293 §3.8.6.1 zero-window probe (BSD's persist timer, Linux `ICSK_TIME_PROBE0`).
    Persist,
    /// Linux `tcp_fin_timeout`: an orphaned FIN_WAIT_2 socket is closed after this long.
    FinWait2,
    /// RFC 1122 §4.2.3.2 delayed ACK (Linux `ICSK_TIME_DACK`).
    DelayedAck,
}

impl Timer {
    /// Every role, in the order due timers fire at one instant.
    pub const ALL: [Timer; 4] = [
        Timer::FinWait2,
        Timer::DelayedAck,
        Timer::Persist,
        Timer::Retransmit,
    ];
}

/// Retransmission and persist share one slot, as in BSD and Linux: a sender probing a zero
/// window has nothing in flight to retransmit, and data in flight needs no probe.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
enum SendTimer {
    #[default]
    Off,
    Retransmit(SimTime),
    Persist(SimTime),
}

/// Every timer of one socket.
#[derive(Clone, Debug, Default)]
pub struct Timers {
    send: SendTimer,
    fin_wait_2: Option<SimTime>,
    delayed_ack: Option<SimTime>,
    /// Retransmission timeouts in a row without an ACK of new data (RFC 9293 §3.8.3's R1/R2
    /// count; Linux `icsk_retransmits`).
    pub retries: u32,
    /// Linux `retrans_stamp`: when the oldest unacknowledged segment had left at the first
    /// timeout of this series; `tcp_retries2`'s time budget runs from it.
    pub retrans_stamp: Option<SimTime>,
    /// The SYN's retransmission timer expired at least once (RFC 6298 §5.7 then resets RTO).
    pub syn_timed_out: bool,
    /// Zero-window probes sent since the window was last open (Linux `icsk_probes_out`).
    pub probes: u32,
}

impl Timers {
    /// The earliest armed deadline: when the socket next needs waking.
    pub fn deadline(&self) -> Option<SimTime> {
        let send = match self.send {
            SendTimer::Off => None,
            SendTimer::Retransmit(at) | SendTimer::Persist(at) => Some(at),
        };
        // Asked after every call on the socket: plain comparisons, no iterator.
        earlier(earlier(send, self.fin_wait_2), self.delayed_ack)
    }

    /// When `timer` is due, if it is armed.
    pub fn at(&self, timer: Timer) -> Option<SimTime> {
        match (timer, self.send) {
            (Timer::Retransmit, SendTimer::Retransmit(at))
            | (Timer::Persist, SendTimer::Persist(at)) => Some(at),
            (Timer::FinWait2, _) => self.fin_wait_2,
            (Timer::DelayedAck, _) => self.delayed_ack,
            _ => None,
        }
    }

    /// Arms `timer` for `at`, replacing whatever its slot held (a retransmission replaces a
    /// probe and the other way round).
    pub fn arm(&mut self, timer: Timer, at: SimTime) {
        match timer {
            Timer::Retransmit => self.send = SendTimer::Retransmit(at),
            Timer::Persist => self.send = SendTimer::Persist(at),
            Timer::FinWait2 => self.fin_wait_2 = Some(at),
            Timer::DelayedAck => self.delayed_ack = Some(at),
        }
    }

    /// Stops `timer` if it is armed.
    pub fn stop(&mut self, timer: Timer) {
        if self.at(timer).is_some() {
            match timer {
                Timer::Retransmit | Timer::Persist => self.send = SendTimer::Off,
                Timer::FinWait2 => self.fin_wait_2 = None,
                Timer::DelayedAck => self.delayed_ack = None,
            }
        }
    }

    /// True if retransmission or persist is armed (they share a slot).
    pub fn sending(&self) -> bool {
        self.send != SendTimer::Off
    }

    /// Stops every timer (CLOSED and TIME_WAIT need none of a socket's).
    pub fn stop_all(&mut self) {
        self.send = SendTimer::Off;
        self.fin_wait_2 = None;
        self.delayed_ack = None;
    }

    /// The timer a user would see pending (`ss -o`): the send slot first, then FIN_WAIT_2 (ss
    /// never shows the delayed-ACK timer).
    pub fn shown(&self) -> Option<(Timer, SimTime)> {
        match self.send {
            SendTimer::Retransmit(at) => Some((Timer::Retransmit, at)),
            SendTimer::Persist(at) => Some((Timer::Persist, at)),
            SendTimer::Off => self.fin_wait_2.map(|at| (Timer::FinWait2, at)),
        }
    }

    /// If `timer` is armed and due at `now`, disarms it and returns true: the caller fires it.
    pub fn take_due(&mut self, timer: Timer, now: SimTime) -> bool {
        let due = self.at(timer).is_some_and(|at| at <= now);
        if due {
            self.stop(timer);
        }
        due
    }
}

/// The earlier of two optional deadlines.
fn earlier(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Duration;

    fn t(ms: u64) -> SimTime {
        SimTime::ZERO + Duration::from_millis(ms)
    }

    #[test]
    fn the_deadline_is_the_earliest_armed_timer() {
        let mut timers = Timers::default();
        assert_eq!(timers.deadline(), None);
        timers.arm(Timer::FinWait2, t(60_000));
        timers.arm(Timer::Retransmit, t(200));
        assert_eq!(timers.deadline(), Some(t(200)));
        timers.stop(Timer::Retransmit);
        assert_eq!(timers.deadline(), Some(t(60_000)));
    }

    #[test]
    fn a_probe_and_a_retransmission_share_one_slot() {
        let mut timers = Timers::default();
        timers.arm(Timer::Persist, t(300));
        timers.arm(Timer::Retransmit, t(500));
        assert_eq!(timers.at(Timer::Persist), None);
        assert_eq!(timers.at(Timer::Retransmit), Some(t(500)));
        // Stopping the role that is not armed leaves the other alone.
        timers.stop(Timer::Persist);
        assert_eq!(timers.deadline(), Some(t(500)));
    }

    #[test]
    fn only_a_due_timer_is_taken_and_it_fires_once() {
        let mut timers = Timers::default();
        timers.arm(Timer::Retransmit, t(200));
        assert!(!timers.take_due(Timer::Retransmit, t(199)));
        assert!(timers.take_due(Timer::Retransmit, t(250)));
        assert!(!timers.take_due(Timer::Retransmit, t(250)));
        assert_eq!(timers.deadline(), None);
    }
}
