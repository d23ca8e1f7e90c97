//! Packets on their way along one direction of a link. A link that does not reorder delivers
//! them in the order they were sent, so only the first holds an event in the queue: a link
//! carrying a thousand packets costs the event queue one entry, not a thousand. Each packet
//! keeps the [`Ticket`] it took when it was sent, so it arrives exactly where it would have
//! had it been scheduled on its own.

use std::collections::VecDeque;

use crate::net::Packet;
use crate::sim::{SimTime, Ticket};

/// A packet between the ends of a link.
pub(super) struct InFlight {
    /// When it reaches the far end.
    pub at: SimTime,
    /// Its place among events at that time.
    pub ticket: Ticket,
    /// The link's epoch when it was sent (a link that went down since loses it).
    pub epoch: u32,
    pub packet: Packet,
}

/// One direction of a link: packets in the order they arrive.
#[derive(Default)]
pub(super) struct Wire {
    packets: VecDeque<InFlight>,
}

impl Wire {
    /// Queues `f` behind the packets already on the wire; `Ok(true)` if it is the first (its
    /// arrival needs an event), `Err(f)` if it would arrive before the last one (a reordering
    /// link or a fault's delay: it needs an event of its own).
    pub fn push(&mut self, f: InFlight) -> Result<bool, InFlight> {
        match self.packets.back() {
            Some(last) if (f.at, f.ticket) < (last.at, last.ticket) => Err(f),
            last => {
                let first = last.is_none();
                self.packets.push_back(f);
                Ok(first)
            }
        }
    }

    /// Takes the first packet off the wire.
    pub fn pop(&mut self) -> Option<InFlight> {
        self.packets.pop_front()
    }

    /// When the first packet arrives, and its ticket.
    pub fn head(&self) -> Option<(SimTime, Ticket)> {
        self.packets.front().map(|f| (f.at, f.ticket))
    }
}
