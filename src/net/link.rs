//! Point-to-point links: propagation delay, serialisation at a bandwidth, a drop-tail queue,
//! seeded loss, duplication and jitter, and up/down state. Each direction is independent.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use rand::{Rng, RngExt};

use super::packet::NodeId;
use crate::sim::{Duration, SimRng, SimTime, parse_scaled_decimal};

/// Index of a link in the network.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct LinkId(pub u32);

/// One direction of a link: side 0 sends from `ends[0]` to `ends[1]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Port {
    /// The link.
    pub link: LinkId,
    /// Which end transmits (0 or 1).
    pub side: u8,
}

/// A data rate in bits per second.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Bandwidth(pub u64);

impl Bandwidth {
    /// Time to put `bytes` on the wire, rounded up to the nanosecond.
    pub fn serialisation(self, bytes: usize) -> Duration {
        // Packets fit u64 arithmetic (a 128-bit division costs several times more).
        if let Some(bit_nanos) = (bytes as u64).checked_mul(8_000_000_000) {
            return Duration::from_nanos(bit_nanos.div_ceil(self.0));
        }
        let bits = bytes as u128 * 8;
        let nanos = (bits * 1_000_000_000).div_ceil(self.0 as u128);
        Duration::from_nanos(nanos.min(u64::MAX as u128) as u64)
    }

    /// The time one byte takes when it is a whole number of nanoseconds (every rate that
    /// divides 8 Gbit/s): then [`Bandwidth::serialisation`] is that times the bytes, a
    /// multiplication where it divides.
    pub fn nanos_per_byte(self) -> Option<u64> {
        const BYTE_NANOS: u64 = 8_000_000_000;
        BYTE_NANOS
            .is_multiple_of(self.0)
            .then(|| BYTE_NANOS / self.0)
    }
}

impl FromStr for Bandwidth {
    type Err = String;

    /// Parses "100Mbps", "1.5Gbps", "64kbps", "9600bps".
    fn from_str(s: &str) -> Result<Bandwidth, String> {
        let t = s.trim();
        for (suffix, unit) in [
            ("Gbps", 1_000_000_000u64),
            ("Mbps", 1_000_000),
            ("kbps", 1_000),
            ("Kbps", 1_000),
            ("bps", 1),
        ] {
            if let Some(n) = t.strip_suffix(suffix) {
                let bps = parse_scaled_decimal(n.trim_end(), unit, suffix)
                    .map_err(|e| format!("invalid bandwidth \"{s}\": {e}"))?;
                if bps == 0 {
                    return Err(format!("invalid bandwidth \"{s}\": must be above zero"));
                }
                return Ok(Bandwidth(bps));
            }
        }
        Err(format!(
            "invalid bandwidth \"{s}\": expected a number and a unit (bps, kbps, Mbps, Gbps), e.g. \"100Mbps\""
        ))
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        for (unit, name) in [
            (1_000_000_000, "Gbps"),
            (1_000_000, "Mbps"),
            (1_000, "kbps"),
        ] {
            if b >= unit && b.is_multiple_of(unit) {
                return write!(f, "{}{}", b / unit, name);
            }
        }
        write!(f, "{b}bps")
    }
}

/// A link's fixed properties.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkParams {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Serialisation rate; `None` puts packets on the wire instantly.
    pub bandwidth: Option<Bandwidth>,
    /// Packets that may wait behind the one being sent before drop-tail discards arrivals.
    pub queue_limit: u32,
    /// Probability each packet is lost.
    pub loss: f64,
    /// Probability each packet is delivered twice.
    pub duplicate: f64,
    /// Extra delay drawn uniformly from [0, jitter] per packet.
    pub jitter: Duration,
    /// Let jitter reorder packets (netem's behaviour); by default a link stays first in,
    /// first out, as a queue would keep it.
    pub reorder: bool,
}

impl Default for LinkParams {
    fn default() -> Self {
        LinkParams {
            delay: Duration::from_millis(1),
            bandwidth: None,
            queue_limit: 1000,
            loss: 0.0,
            duplicate: 0.0,
            jitter: Duration::ZERO,
            reorder: false,
        }
    }
}

/// Why a link refused a packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LinkDrop {
    /// The drop-tail queue was full.
    QueueFull,
    /// The seeded loss draw discarded it.
    Loss,
    /// The link was down.
    Down,
}

/// When a transmitted packet (and a duplicate, if one was made) reaches the far end.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Transmission {
    /// Arrival time of the packet.
    pub arrival: SimTime,
    /// Arrival time of a duplicate copy, if the link made one.
    pub duplicate: Option<SimTime>,
}

struct Direction {
    /// Start times of packets waiting behind the one on the wire, oldest first.
    waiting: VecDeque<SimTime>,
    busy_until: SimTime,
    /// Arrival time of the latest packet sent, to keep jittered packets in order.
    last_arrival: SimTime,
    /// Drawn from only for loss, duplication and jitter. Boxed: its state and buffer (over
    /// 300 bytes) would otherwise sit between the fields every packet touches.
    rng: Box<SimRng>,
}

/// A full-duplex point-to-point link.
pub struct Link {
    /// The two nodes it joins.
    pub ends: [NodeId; 2],
    /// Fixed properties.
    pub params: LinkParams,
    up: bool,
    epoch: u32,
    dirs: [Direction; 2],
    /// The bandwidth's [`Bandwidth::nanos_per_byte`], with the bandwidth it was found for.
    per_byte: Option<(Bandwidth, u64)>,
}

impl Link {
    /// A link that is up, with one random stream per direction.
    pub fn new(ends: [NodeId; 2], params: LinkParams, rngs: [SimRng; 2]) -> Link {
        let [r0, r1] = rngs;
        let dir = |rng| Direction {
            waiting: VecDeque::new(),
            busy_until: SimTime::ZERO,
            last_arrival: SimTime::ZERO,
            rng: Box::new(rng),
        };
        let per_byte = params
            .bandwidth
            .and_then(|bw| Some((bw, bw.nanos_per_byte()?)));
        Link {
            ends,
            params,
            up: true,
            epoch: 0,
            dirs: [dir(r0), dir(r1)],
            per_byte,
        }
    }

    /// True while the link carries packets.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Changes with every transition to down; packets in flight from an earlier epoch are lost.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Brings the link up or down. Going down empties both queues.
    pub fn set_up(&mut self, up: bool, now: SimTime) {
        if self.up && !up {
            self.epoch = self.epoch.wrapping_add(1);
            for d in &mut self.dirs {
                d.waiting.clear();
                d.busy_until = now;
            }
        }
        self.up = up;
    }

    /// The node at the receiving end of `side`.
    pub fn far_end(&self, side: u8) -> NodeId {
        self.ends[1 - side as usize]
    }

    /// Packets waiting (not counting the one on the wire) in direction `side` at `now`.
    pub fn queue_len(&mut self, side: u8, now: SimTime) -> usize {
        let d = &mut self.dirs[side as usize];
        while d.waiting.front().is_some_and(|&start| start <= now) {
            d.waiting.pop_front();
        }
        d.waiting.len()
    }

    /// Offers a packet of `bytes` to direction `side` at `now`.
    #[inline]
    pub fn transmit(
        &mut self,
        side: u8,
        now: SimTime,
        bytes: usize,
    ) -> Result<Transmission, LinkDrop> {
        if !self.up {
            return Err(LinkDrop::Down);
        }
        let limit = self.params.queue_limit as usize;
        let queued = self.queue_len(side, now);
        let p = &self.params;
        let d = &mut self.dirs[side as usize];
        let start = d.busy_until.max(now);
        if start > now && queued >= limit {
            return Err(LinkDrop::QueueFull);
        }
        let done = match (p.bandwidth, self.per_byte) {
            (Some(bw), Some((at, n))) if at == bw => match (bytes as u64).checked_mul(n) {
                Some(nanos) => start + Duration::from_nanos(nanos),
                None => start + bw.serialisation(bytes),
            },
            (Some(bw), _) => start + bw.serialisation(bytes),
            (None, _) => start,
        };
        if start > now {
            d.waiting.push_back(start);
        }
        d.busy_until = done;
        // Draws happen only for enabled features, in a fixed order, so enabling one on this
        // link never shifts another link's stream.
        if p.loss > 0.0 && d.rng.random_bool(p.loss) {
            return Err(LinkDrop::Loss);
        }
        let base = done + p.delay;
        let mut arrival = base + jitter(&mut d.rng, p.jitter);
        if !p.reorder {
            arrival = arrival.max(d.last_arrival);
        }
        d.last_arrival = d.last_arrival.max(arrival);
        let duplicate = if p.duplicate > 0.0 && d.rng.random_bool(p.duplicate) {
            let mut copy = base + jitter(&mut d.rng, p.jitter);
            if !p.reorder {
                copy = copy.max(d.last_arrival);
            }
            d.last_arrival = d.last_arrival.max(copy);
            Some(copy)
        } else {
            None
        };
        Ok(Transmission { arrival, duplicate })
    }
}

/// A uniform draw from [0, max]; no draw at all when jitter is off.
fn jitter(rng: &mut SimRng, max: Duration) -> Duration {
    if max.is_zero() {
        Duration::ZERO
    } else {
        Duration::from_nanos(rng.next_u64() % (max.as_nanos() + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::component_rng;

    fn link(params: LinkParams) -> Link {
        Link::new(
            [NodeId(0), NodeId(1)],
            params,
            [component_rng(1, "a"), component_rng(1, "b")],
        )
    }

    #[test]
    fn a_whole_number_of_nanoseconds_per_byte_serialises_as_the_division_does() {
        assert_eq!(Bandwidth(1_000_000_000).nanos_per_byte(), Some(8));
        assert_eq!(Bandwidth(3_000_000).nanos_per_byte(), None);
        for bps in [1_000_000_000, 100_000_000, 64_000, 9_600, 3_000_000] {
            let bw = Bandwidth(bps);
            let mut l = link(LinkParams {
                delay: Duration::ZERO,
                bandwidth: Some(bw),
                ..LinkParams::default()
            });
            // Each packet at the instant the one before has left: its arrival is its own time.
            let mut now = SimTime::ZERO;
            for bytes in [40, 1500, 1, 0, 65_535] {
                let t = l.transmit(0, now, bytes).unwrap();
                assert_eq!(
                    t.arrival,
                    now + bw.serialisation(bytes),
                    "{bps} b/s, {bytes} B"
                );
                now = t.arrival;
            }
        }
    }

    #[test]
    fn fifteen_hundred_bytes_at_100_mbps_take_120_us() {
        let bw: Bandwidth = "100Mbps".parse().unwrap();
        // 1500 B * 8 = 12,000 bits; 12,000 / 100e6 b/s = 120e-6 s.
        assert_eq!(bw.serialisation(1500), Duration::from_micros(120));
        let mut l = link(LinkParams {
            delay: Duration::from_millis(1),
            bandwidth: Some(bw),
            ..LinkParams::default()
        });
        let t = l.transmit(0, SimTime::ZERO, 1500).unwrap();
        assert_eq!(t.arrival, SimTime::ZERO + Duration::from_micros(1120));
        // A second packet offered at the same instant waits for the first to finish.
        let t2 = l.transmit(0, SimTime::ZERO, 1500).unwrap();
        assert_eq!(t2.arrival, SimTime::ZERO + Duration::from_micros(1240));
    }

    #[test]
    fn a_full_drop_tail_queue_drops_the_next_packet() {
        let limit = 3;
        let mut l = link(LinkParams {
            bandwidth: Some(Bandwidth(1_000_000)),
            queue_limit: limit,
            ..LinkParams::default()
        });
        // One packet goes on the wire at once; `limit` more wait; the next is dropped.
        for _ in 0..=limit {
            l.transmit(0, SimTime::ZERO, 1000).unwrap();
        }
        assert_eq!(l.queue_len(0, SimTime::ZERO), limit as usize);
        assert_eq!(l.transmit(0, SimTime::ZERO, 1000), Err(LinkDrop::QueueFull));
        // The other direction has its own queue.
        assert!(l.transmit(1, SimTime::ZERO, 1000).is_ok());
        // Once the first packet is serialised (8 ms at 1 Mb/s), a slot frees up.
        let later = SimTime::ZERO + Duration::from_millis(8);
        assert_eq!(l.queue_len(0, later), limit as usize - 1);
        assert!(l.transmit(0, later, 1000).is_ok());
    }

    #[test]
    fn jitter_keeps_a_link_first_in_first_out_unless_reordering_is_allowed() {
        let params = |reorder| LinkParams {
            jitter: Duration::from_millis(50),
            reorder,
            ..LinkParams::default()
        };
        let arrivals = |mut l: Link| -> Vec<SimTime> {
            (0..200u64)
                .map(|i| {
                    l.transmit(0, SimTime::from_nanos(i * 1_000_000), 100)
                        .unwrap()
                        .arrival
                })
                .collect()
        };
        let fifo = arrivals(link(params(false)));
        assert!(fifo.windows(2).all(|w| w[0] <= w[1]));
        let netem = arrivals(link(params(true)));
        assert!(
            netem.windows(2).any(|w| w[0] > w[1]),
            "50 ms jitter on 1 ms spacing reorders"
        );
    }

    #[test]
    fn a_down_link_refuses_packets() {
        let mut l = link(LinkParams::default());
        let e = l.epoch();
        l.set_up(false, SimTime::ZERO);
        assert_eq!(l.transmit(0, SimTime::ZERO, 100), Err(LinkDrop::Down));
        assert_ne!(l.epoch(), e);
    }

    #[test]
    fn bandwidth_parses_and_prints() {
        assert_eq!(
            "100Mbps".parse::<Bandwidth>().unwrap(),
            Bandwidth(100_000_000)
        );
        assert_eq!(
            "1.5Gbps".parse::<Bandwidth>().unwrap(),
            Bandwidth(1_500_000_000)
        );
        assert_eq!(Bandwidth(100_000_000).to_string(), "100Mbps");
        assert!("0Mbps".parse::<Bandwidth>().is_err());
        assert!("100".parse::<Bandwidth>().is_err());
    }
}
