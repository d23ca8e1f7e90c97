//! Everything a run writes: the event log, the summary and the manifest, in a folder that
//! appears only when complete.

mod events;
pub mod figures;
pub mod html;
mod manifest;
mod meter;
mod netstat;
pub(crate) mod output;
mod pcap;
pub mod plot;
mod probe;
mod reader;
mod records;
mod row;
mod summary;
mod tcp;

use std::io;
use std::path::Path;
use std::sync::Arc;

pub use events::{EVENT_COLUMNS, EventLog};
pub use manifest::{Manifest, shell_word};
pub use meter::{Meter, Metered};
pub use netstat::{
    CONNECT_FAILED, COUNT_COLUMNS, NETSTAT_HEADER, Netstat, SS_HEADER, format_ss_table,
    format_table,
};
pub use output::{MARKER, OutDir, OutError, StagedDir, clean_stale, remove_staged_on_signal};
pub use pcap::PcapWriter;
pub use reader::open_output;
pub use summary::{Tally, header};
pub use tcp::{CONNECTION_COLUMNS, Gauge, Occupancy, STATE_COLUMNS, TcpTally, render_capacity};

use crate::net::{Network, NodeId, Packet, Port};
use crate::scenario::{OutputOptions, PcapMode};
use crate::sim::SimTime;
use crate::tcp::{NetstatRow, TcpLog};
use crate::world::{AppOutcome, NetworkEvent, Observer, PacketEvent, PacketEventKind};
use probe::ProbeLog;

/// Packet captures being written.
enum Capture {
    /// Every packet delivered to a host, as its tcpdump would see it arrive; with
    /// `pcap_hosts`, only those from or to the addresses listed here.
    Delivered(PcapWriter, Option<Vec<std::net::Ipv4Addr>>),
    /// Per link: every packet that entered it, with the TTL it had there.
    PerLink(Vec<Option<PcapWriter>>),
}

/// The observer a run reports to: it writes the files and counts what the summary needs.
pub struct Recorder {
    events: Option<EventLog>,
    capture: Option<Capture>,
    /// `tcp_probe.csv`.
    probe: Option<ProbeLog>,
    /// Counts for the summary.
    pub tally: Tally,
    /// TCP's files and counts.
    pub tcp: TcpTally,
    /// Socket tables and counts.
    pub netstat: Netstat,
    files: Vec<String>,
    error: Option<io::Error>,
    /// Bytes written to the files so far.
    meter: Meter,
    /// `--max-output`: the run asks to stop once its files hold more than this.
    max_output: Option<u64>,
}

impl Recorder {
    /// A recorder writing the files `opts` asks for into `dir` (or only counting, if `None`).
    pub fn new(dir: Option<&Path>, opts: &OutputOptions, net: &Network) -> io::Result<Recorder> {
        let meter = Meter::default();
        // Rows formatted off the simulation's thread name their hosts from here.
        let hosts: Arc<[String]> = net.nodes.iter().map(|n| n.name.clone()).collect();
        let mut files = Vec::new();
        let mut events = None;
        let mut capture = None;
        let mut probe = None;
        if let Some(d) = dir {
            if opts.tcp_probe {
                probe = Some(ProbeLog::create(
                    &d.join("tcp_probe.csv"),
                    &meter,
                    hosts.clone(),
                )?);
                files.push("tcp_probe.csv".to_string());
            }
            // The large files take the compression's suffix: `events.csv.zst`.
            let z = opts.compress.suffix();
            if opts.events {
                let name = format!("events.csv{z}");
                events = Some(EventLog::create(
                    &d.join(&name),
                    &meter,
                    opts.compress,
                    hosts.clone(),
                )?);
                files.push(name);
            }
            if opts.states {
                files.push("states.csv".to_string());
            }
            if opts.connections {
                files.push("connections.csv".to_string());
            }
            if opts.netstat {
                files.push("netstat.txt".to_string());
            }
            if opts.socket_counts {
                files.push("socket_counts.csv".to_string());
            }
            match opts.pcap {
                PcapMode::Off => {}
                PcapMode::All => {
                    let name = format!("trace.pcap{z}");
                    let addrs = (!opts.pcap_hosts.is_empty()).then(|| {
                        opts.pcap_hosts
                            .iter()
                            .flat_map(|&h| net.node(h).addrs.iter().copied())
                            .collect()
                    });
                    capture = Some(Capture::Delivered(
                        PcapWriter::create_metered(
                            &d.join(&name),
                            &meter,
                            opts.pcap_snaplen,
                            opts.compress,
                        )?,
                        addrs,
                    ));
                    files.push(name);
                }
                PcapMode::PerLink => {
                    let mut writers = Vec::new();
                    for l in &net.links {
                        let wanted = opts.pcap_hosts.is_empty()
                            || l.ends.iter().any(|e| opts.pcap_hosts.contains(e));
                        if !wanted {
                            writers.push(None);
                            continue;
                        }
                        let name = format!(
                            "link-{}-{}.pcap{z}",
                            net.node(l.ends[0]).name,
                            net.node(l.ends[1]).name
                        );
                        writers.push(Some(PcapWriter::create_metered(
                            &d.join(&name),
                            &meter,
                            opts.pcap_snaplen,
                            opts.compress,
                        )?));
                        files.push(name);
                    }
                    capture = Some(Capture::PerLink(writers));
                }
            }
        }
        Ok(Recorder {
            events,
            capture,
            probe,
            tally: Tally::default(),
            tcp: TcpTally::new(dir, opts.states, opts.connections, &meter, &hosts)?,
            netstat: Netstat::new(dir, opts, &meter, &hosts)?,
            files,
            error: None,
            meter,
            max_output: None,
        })
    }

    /// Asks the run to stop once the files hold more than `bytes` (`--max-output`).
    pub fn limit_output(&mut self, bytes: u64) {
        self.max_output = Some(bytes);
        self.meter.require_exact();
    }

    /// Bytes the files hold so far (what their buffers have flushed, up to 64 KiB behind each,
    /// and up to a batch of rows not yet formatted).
    pub fn output_bytes(&self) -> u64 {
        self.meter.bytes()
    }

    /// Whether the files outgrew `--max-output`.
    pub fn over_output_limit(&self) -> bool {
        self.max_output.is_some_and(|m| self.meter.bytes() > m)
    }

    /// The files written so far, in order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    fn keep(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            // Stop writing after the first failure; the run reports it at the end.
            self.error.get_or_insert(e);
            self.events = None;
            self.capture = None;
            self.probe = None;
        }
    }

    /// Flushes the files; the first write error, if any, surfaces here.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(log) = self.events.take() {
            log.finish()?;
        }
        if let Some(log) = self.probe.take() {
            log.finish()?;
        }
        match self.capture.take() {
            Some(Capture::Delivered(w, _)) => w.finish()?,
            Some(Capture::PerLink(ws)) => {
                for w in ws.into_iter().flatten() {
                    w.finish()?;
                }
            }
            None => {}
        }
        self.netstat.finish()?;
        self.tcp.finish()
    }
}

impl Recorder {
    /// The files' part of [`Observer::packet`], out of line: without the event log or the
    /// capture (the default), the summary's counts are all a packet costs.
    #[inline(never)]
    fn packet_files(&mut self, ev: &PacketEvent<'_>) {
        if let Some(log) = &mut self.events {
            let r = log.packet(ev);
            self.keep(r);
        }
        if ev.kind == PacketEventKind::Deliver
            && let Some(Capture::Delivered(w, only)) = &mut self.capture
            && only
                .as_ref()
                .is_none_or(|a| a.contains(&ev.packet.src) || a.contains(&ev.packet.dst))
        {
            let r = w.packet(ev.time, ev.packet);
            self.keep(r);
        }
    }
}

impl Observer for Recorder {
    #[inline]
    fn packet(&mut self, net: &Network, ev: &PacketEvent<'_>) {
        self.tally.packet(net, ev);
        self.tcp.packet(ev);
        if self.events.is_some() || self.capture.is_some() {
            self.packet_files(ev);
        }
    }

    fn link(&mut self, _net: &Network, time: SimTime, port: Port, packet: &Packet) {
        if let Some(Capture::PerLink(ws)) = &mut self.capture
            && let Some(Some(w)) = ws.get_mut(port.link.0 as usize)
        {
            let r = w.packet(time, packet);
            self.keep(r);
        }
    }

    fn wants_hops(&self) -> bool {
        // The counts for the summary ignore hops: only the files record them.
        self.events.is_some() || self.capture.is_some()
    }

    fn network(&mut self, net: &Network, ev: &NetworkEvent) {
        self.tally.network(net, ev);
        if let Some(log) = &mut self.events {
            let r = log.network(ev);
            self.keep(r);
        }
    }

    fn tcp(&mut self, net: &Network, time: SimTime, node: NodeId, log: &TcpLog) {
        if let TcpLog::Probe(p) = log {
            if let Some(w) = &mut self.probe {
                let r = w.probe(node, p);
                self.keep(r);
            }
            return;
        }
        let r = self.tcp.log(net, time, node, log);
        self.keep(r);
    }

    fn netstat(&mut self, net: &Network, time: SimTime, node: NodeId, rows: &[NetstatRow]) {
        let r = self.netstat.table(net, time, node, rows);
        self.keep(r);
    }

    fn counts(&mut self, _net: &Network, time: SimTime, node: NodeId, counts: &[u64; 11]) {
        let r = self.netstat.counts(time, node, counts);
        self.keep(r);
    }

    fn app(&mut self, _net: &Network, time: SimTime, node: NodeId, app: u32, message: &str) {
        self.tcp.note(time, node, app, message);
    }

    fn outcome(
        &mut self,
        _net: &Network,
        time: SimTime,
        node: NodeId,
        _app: u32,
        outcome: &AppOutcome,
    ) {
        if let AppOutcome::ConnectFailed(e) = outcome {
            let r = self.netstat.connect_failed(time, node, e.errno());
            self.keep(r);
        }
    }

    fn halt(&self) -> bool {
        self.over_output_limit()
    }
}

/// How the output files name a connection incarnation: its host's name and its number there,
/// `client#2`. `None` for the number 0, which a stateless RST carries (no incarnation sent it).
pub fn conn_name(net: &Network, c: crate::tcp::ConnId) -> Option<String> {
    if c.n == 0 {
        return None;
    }
    let host = net
        .nodes
        .get(c.host as usize)
        .map_or("?", |n| n.name.as_str());
    Some(format!("{host}#{}", c.n))
}

/// The plural ending for a count in a sentence: "" for 1, "s" otherwise.
pub fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
