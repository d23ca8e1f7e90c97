//! Faults: rules that drop chosen packets entering a link, to stage a precise loss (the final
//! ACK of a close, the third SYN) that random loss would only hit by chance.

use super::link::{LinkId, Port};
use super::packet::{Body, Packet};
use crate::sim::{Duration, SimTime};

/// What a fault does to the packets it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Lose them.
    Drop,
    /// Hold them this much longer in the network (like a packet stuck in a loop).
    Delay(Duration),
    /// Deliver them, and a copy this much later (an old duplicate).
    Duplicate(Duration),
}

/// Acts on `count` packets matching a filter, after letting `skip` matches through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// What happens to a packet taken.
    pub action: FaultAction,
    /// The link.
    pub link: LinkId,
    /// Only this direction (side 0 sends from the link's first end); both if `None`.
    pub side: Option<u8>,
    /// Only packets entering the link from this time.
    pub after: SimTime,
    /// ... until this time.
    pub until: SimTime,
    /// Only TCP segments with exactly these flag bits.
    pub flags: Option<u8>,
    /// Only TCP segments with this payload length.
    pub len: Option<u32>,
    /// Matches still to let through.
    pub skip: u32,
    /// Matches still to drop.
    pub count: u32,
}

impl Fault {
    fn matches(&self, port: Port, now: SimTime, packet: &Packet) -> bool {
        if port.link != self.link
            || self.side.is_some_and(|s| s != port.side)
            || now < self.after
            || now > self.until
        {
            return false;
        }
        match &packet.body {
            Body::Tcp(seg) => {
                self.flags.is_none_or(|f| f == seg.flags.bits())
                    && self.len.is_none_or(|l| l as usize == seg.payload.len())
            }
            _ => self.flags.is_none() && self.len.is_none(),
        }
    }

    /// True if this fault takes the packet; updates its counters.
    pub fn take(&mut self, port: Port, now: SimTime, packet: &Packet) -> bool {
        if self.count == 0 || !self.matches(port, now, packet) {
            return false;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        self.count -= 1;
        true
    }
}
