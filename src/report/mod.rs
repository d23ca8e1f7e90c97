//! Everything a run writes: the event log, the summary and the manifest, in a folder that
//! appears only when complete.

mod events;
mod manifest;
mod output;
mod pcap;
mod summary;

use std::io;
use std::path::Path;

pub use events::{EVENT_COLUMNS, EventLog};
pub use manifest::Manifest;
pub use output::StagedDir;
pub use pcap::PcapWriter;
pub use summary::{Tally, header};

use crate::net::Network;
use crate::world::{NetworkEvent, Observer, PacketEvent};

/// The observer a run reports to: it logs events and counts what the summary needs.
pub struct Recorder {
    events: Option<EventLog>,
    /// Counts for the summary.
    pub tally: Tally,
    error: Option<io::Error>,
}

impl Recorder {
    /// A recorder that writes `events.csv` into `dir` (or only counts, if `dir` is `None`).
    pub fn new(dir: Option<&Path>) -> io::Result<Recorder> {
        let events = match dir {
            Some(d) => Some(EventLog::create(&d.join("events.csv"))?),
            None => None,
        };
        Ok(Recorder {
            events,
            tally: Tally::default(),
            error: None,
        })
    }

    fn keep(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
            // Stop writing after the first failure; the run reports it at the end.
            self.events = None;
        }
    }

    /// Flushes the files; the first write error, if any, surfaces here.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match self.events.take() {
            Some(log) => log.finish(),
            None => Ok(()),
        }
    }
}

impl Observer for Recorder {
    fn packet(&mut self, net: &Network, ev: &PacketEvent<'_>) {
        self.tally.packet(net, ev);
        if let Some(log) = &mut self.events {
            let r = log.packet(net, ev);
            self.keep(r);
        }
    }

    fn network(&mut self, net: &Network, ev: &NetworkEvent) {
        self.tally.network(net, ev);
        if let Some(log) = &mut self.events {
            let r = log.network(net, ev);
            self.keep(r);
        }
    }
}
