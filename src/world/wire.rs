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
    /// Its IP total length, found once when it was sent: a router forwards it without reading
    /// the segment (a second cache line, cold by the time the packet arrives).
    pub wire_len: usize,
    pub packet: Box<Packet>,
}

/// One direction of a link: packets in the order they arrive.
#[derive(Default)]
pub(super) struct Wire {
    packets: VecDeque<InFlight>,
}

impl Wire {
    /// Whether a packet due at `at` with `ticket` arrives no earlier than the last one on the
    /// wire (else, on a reordering link or delayed by a fault, it needs an event of its own).
    pub fn takes(&self, at: SimTime, ticket: Ticket) -> bool {
        self.packets
            .back()
            .is_none_or(|last| (at, ticket) > (last.at, last.ticket))
    }

    /// Queues `f` behind the packets already on the wire (see [`Wire::takes`]); true if it is
    /// the first, whose arrival needs an event.
    pub fn push(&mut self, f: InFlight) -> bool {
        debug_assert!(self.takes(f.at, f.ticket));
        self.packets.push_back(f);
        self.packets.len() == 1
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
