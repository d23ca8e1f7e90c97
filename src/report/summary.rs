//! `summary.txt`: what happened, in sentences with the numbers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::net::{Body, Network, NodeId, PacketId};
use crate::sim::{Duration, SimTime};
use crate::world::{NetworkEvent, PacketEvent, PacketEventKind};

/// A datagram flow: source and destination addresses.
type Flow = (Ipv4Addr, Ipv4Addr);

#[derive(Clone, Copy)]
struct Delivery {
    latency: Duration,
    ttl_spent: u8,
    ttl_left: u8,
}

#[derive(Default)]
struct FlowTally {
    sender: Option<NodeId>,
    sent: u64,
    delivered: Vec<Delivery>,
    expired: Vec<Duration>,
    dropped: BTreeMap<&'static str, u64>,
}

/// Counts what the summary reports, as the run goes.
#[derive(Default)]
pub struct Tally {
    /// Datagram flows, in a stable order.
    flows: BTreeMap<Flow, FlowTally>,
    /// TTL each datagram was sent with, until it is delivered or dies.
    sent_ttl: BTreeMap<PacketId, u8>,
    /// Every TTL expiry (any protocol): where.
    expiries_at: BTreeMap<String, u64>,
    /// Drops by reason, any protocol.
    drops: BTreeMap<&'static str, u64>,
    packets_sent: u64,
    /// ICMP time-exceeded messages sent, by router.
    icmp_sent: BTreeMap<String, u64>,
    changes: Vec<String>,
}

impl Tally {
    /// Counts a packet event.
    #[inline]
    pub fn packet(&mut self, net: &Network, ev: &PacketEvent<'_>) {
        // Nearly every event: a TCP packet sent, forwarded or delivered only counts a send.
        if let Body::Tcp(_) = ev.packet.body {
            match ev.kind {
                PacketEventKind::Send => {
                    self.packets_sent += 1;
                    return;
                }
                PacketEventKind::Forward
                | PacketEventKind::Deliver
                | PacketEventKind::Duplicate => return,
                _ => {}
            }
        }
        self.packet_any(net, ev);
    }

    /// Counts any packet event (see [`Tally::packet`]).
    fn packet_any(&mut self, net: &Network, ev: &PacketEvent<'_>) {
        let p = ev.packet;
        if let PacketEventKind::Send = ev.kind {
            self.packets_sent += 1;
            if matches!(p.body, Body::Icmp(_)) {
                *self
                    .icmp_sent
                    .entry(net.node(ev.node).name.clone())
                    .or_default() += 1;
            }
        }
        match ev.kind {
            PacketEventKind::TtlExpired => {
                *self
                    .expiries_at
                    .entry(net.node(ev.node).name.clone())
                    .or_default() += 1;
            }
            PacketEventKind::Drop(why) => *self.drops.entry(why.name()).or_default() += 1,
            _ => {}
        }
        if !matches!(p.body, Body::Udp(_)) {
            return;
        }
        let flow = self.flows.entry((p.src, p.dst)).or_default();
        match ev.kind {
            PacketEventKind::Send => {
                flow.sender = Some(ev.node);
                flow.sent += 1;
                self.sent_ttl.insert(p.meta.id, p.ttl);
            }
            PacketEventKind::Duplicate => {
                if let Some(orig) = p.meta.copy_of.and_then(|o| self.sent_ttl.get(&o).copied()) {
                    self.sent_ttl.insert(p.meta.id, orig);
                }
            }
            PacketEventKind::Deliver => {
                let sent = self.sent_ttl.remove(&p.meta.id).unwrap_or(p.ttl);
                flow.delivered.push(Delivery {
                    latency: ev.time - p.meta.sent_at,
                    ttl_spent: sent.saturating_sub(p.ttl),
                    ttl_left: p.ttl,
                });
            }
            PacketEventKind::TtlExpired => {
                self.sent_ttl.remove(&p.meta.id);
                flow.expired.push(ev.time - p.meta.sent_at);
            }
            PacketEventKind::Drop(why) => {
                self.sent_ttl.remove(&p.meta.id);
                *flow.dropped.entry(why.name()).or_default() += 1;
            }
            PacketEventKind::Forward => {}
        }
    }

    /// Notes a route or link change.
    pub fn network(&mut self, net: &Network, ev: &NetworkEvent) {
        let what = match ev.kind {
            "route_change" => format!("{} routes {}", net.node(ev.node).name, ev.note),
            "link_down" => format!("link {} went down", ev.note),
            _ => format!("link {} came up", ev.note),
        };
        self.changes.push(format!("at {} {what}", ev.time));
    }

    /// The summary's sentences about packets and the network.
    pub fn render(&self, net: &Network, out: &mut String) {
        if !self.changes.is_empty() {
            let _ = writeln!(out, "Network changes: {}.", self.changes.join("; "));
        }
        for ((src, dst), f) in &self.flows {
            let Some(sender) = f.sender else { continue };
            render_flow(out, &net.node(sender).name, *src, *dst, f);
        }
        if !self.expiries_at.is_empty() {
            let total: u64 = self.expiries_at.values().sum();
            let at: Vec<String> = self
                .expiries_at
                .iter()
                .map(|(n, c)| format!("{n} {c}"))
                .collect();
            let _ = writeln!(
                out,
                "TTL expiries, all protocols: {total} (by router: {}).",
                at.join(", ")
            );
        }
        if !self.icmp_sent.is_empty() {
            let total: u64 = self.icmp_sent.values().sum();
            let by: Vec<String> = self
                .icmp_sent
                .iter()
                .map(|(n, c)| format!("{n} {c}"))
                .collect();
            let _ = writeln!(
                out,
                "ICMP time-exceeded messages sent back to sources: {total} (by router: {}).",
                by.join(", ")
            );
        }
        if !self.drops.is_empty() {
            let d: Vec<String> = self.drops.iter().map(|(r, c)| format!("{c} {r}")).collect();
            let _ = writeln!(out, "Packets dropped, all protocols: {}.", d.join(", "));
        }
    }

    /// Packets hosts sent.
    pub fn packets_sent(&self) -> u64 {
        self.packets_sent
    }
}

fn range(values: impl Iterator<Item = Duration> + Clone) -> (Duration, Duration, Duration) {
    let n = values.clone().count().max(1) as u64;
    let min = values.clone().min().unwrap_or_default();
    let max = values.clone().max().unwrap_or_default();
    let mean = Duration::from_nanos(values.map(|d| d.as_nanos()).sum::<u64>() / n);
    (min, max, mean)
}

/// Durations in sentences: to the microsecond, which is all a reader needs.
fn us(d: Duration) -> Duration {
    d.round_to(Duration::from_micros(1))
}

fn span_text(min: Duration, max: Duration) -> String {
    let (min, max) = (us(min), us(max));
    if min == max {
        format!("{min}")
    } else {
        format!("{min} to {max}")
    }
}

fn render_flow(out: &mut String, sender: &str, src: Ipv4Addr, dst: Ipv4Addr, f: &FlowTally) {
    let dropped: u64 = f.dropped.values().sum();
    let lost = f.sent - f.delivered.len() as u64 - f.expired.len() as u64 - dropped;
    let _ = write!(
        out,
        "Datagrams from {sender} ({src}) to {dst}: {} sent, {} delivered, {} died of TTL expiry",
        f.sent,
        f.delivered.len(),
        f.expired.len()
    );
    if dropped > 0 {
        let d: Vec<String> = f.dropped.iter().map(|(r, c)| format!("{c} {r}")).collect();
        let _ = write!(out, ", {dropped} dropped ({})", d.join(", "));
    }
    if lost > 0 {
        let _ = write!(out, ", {lost} still in flight at the end");
    }
    out.push_str(".\n");
    if !f.expired.is_empty() {
        let (min, max, mean) = range(f.expired.iter().copied());
        let _ = writeln!(
            out,
            "  The {} that died of TTL expiry lived {} (mean {}) before a router discarded them.",
            f.expired.len(),
            span_text(min, max),
            us(mean)
        );
    }
    if f.delivered.is_empty() {
        return;
    }
    // The direct path spends the least TTL; anything that spent more went round a loop.
    let direct_spent = f.delivered.iter().map(|d| d.ttl_spent).min().unwrap_or(0);
    let fastest = f
        .delivered
        .iter()
        .map(|d| d.latency)
        .min()
        .unwrap_or_default();
    let (on_time, late): (Vec<Delivery>, Vec<Delivery>) = f
        .delivered
        .iter()
        .partition(|d| d.ttl_spent == direct_spent);
    let _ = writeln!(
        out,
        "  {} took the direct path ({direct_spent} router hops, fastest {}).",
        on_time.len(),
        us(fastest)
    );
    if late.is_empty() {
        let _ = writeln!(out, "  No datagram arrived late.");
        return;
    }
    let (min, max, mean) = range(late.iter().map(|d| d.latency.saturating_sub(fastest)));
    let spent_min = late.iter().map(|d| d.ttl_spent).min().unwrap_or(0);
    let spent_max = late.iter().map(|d| d.ttl_spent).max().unwrap_or(0);
    let left_min = late.iter().map(|d| d.ttl_left).min().unwrap_or(0);
    let left_max = late.iter().map(|d| d.ttl_left).max().unwrap_or(0);
    let hops = if spent_min == spent_max {
        format!("{spent_min}")
    } else {
        format!("{spent_min} to {spent_max}")
    };
    let left = if left_min == left_max {
        format!("{left_min}")
    } else {
        format!("{left_min} to {left_max}")
    };
    let _ = writeln!(
        out,
        "  {} arrived late, having circled a loop until it healed: {} later than the fastest (mean {}), after {hops} router hops, with {left} TTL left.",
        late.len(),
        span_text(min, max),
        us(mean)
    );
}

/// The run's opening line.
///
/// `events` counts the simulation's scheduled events (packet arrivals, timers, app wake-ups),
/// not rows of `events.csv`: the line names it so.
pub fn header(scenario: &str, seed: u64, until: SimTime, events: u64) -> String {
    format!("Scenario {scenario}, seed {seed}: simulated to {until}, {events} simulation events.\n")
}
