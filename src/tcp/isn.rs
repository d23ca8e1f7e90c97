//! Initial sequence number generators (RFC 9293 §3.4.1, RFC 6528, Linux `secure_seq.c`).

use std::hash::Hasher;
use std::net::SocketAddrV4;

use rand::Rng;
use siphasher::sip::SipHasher24;

use super::config::IsnPolicy;
use super::seq::SeqNum;
use crate::sim::{SimRng, SimTime};

/// Chooses ISNs for one host.
pub struct IsnGenerator {
    policy: IsnPolicy,
    /// Secret for the keyed hash (RFC 6528's F).
    key: (u64, u64),
    /// The host's clock value at time zero: hosts boot at different moments.
    clock_offset: u32,
    rng: SimRng,
}

impl IsnGenerator {
    /// A generator drawing its secret and clock offset from `rng`.
    pub fn new(policy: IsnPolicy, mut rng: SimRng) -> IsnGenerator {
        let key = (rng.next_u64(), rng.next_u64());
        let clock_offset = rng.next_u32();
        IsnGenerator {
            policy,
            key,
            clock_offset,
            rng,
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> IsnPolicy {
        self.policy
    }

    /// RFC 793's clock: one tick every 4 us.
    fn clock_4us(&self, now: SimTime) -> u32 {
        self.clock_offset
            .wrapping_add((now.as_nanos() / 4_000) as u32)
    }

    fn keyed_hash(&self, local: SocketAddrV4, remote: SocketAddrV4) -> u32 {
        let mut h = SipHasher24::new_with_keys(self.key.0, self.key.1);
        h.write(&local.ip().octets());
        h.write(&remote.ip().octets());
        h.write_u16(local.port());
        h.write_u16(remote.port());
        h.finish() as u32
    }

    /// The ISN for a new connection from `local` to `remote` at `now`.
    pub fn isn(&mut self, now: SimTime, local: SocketAddrV4, remote: SocketAddrV4) -> SeqNum {
        SeqNum(match self.policy {
            IsnPolicy::Rfc793Clock => self.clock_4us(now),
            IsnPolicy::Rfc6528 => self
                .clock_4us(now)
                .wrapping_add(self.keyed_hash(local, remote)),
            IsnPolicy::Linux => self
                .keyed_hash(local, remote)
                .wrapping_add((now.as_nanos() >> 6) as u32),
            IsnPolicy::Random => self.rng.next_u32(),
            IsnPolicy::Fixed(n) => n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Duration, component_rng};

    fn ends() -> (SocketAddrV4, SocketAddrV4) {
        (
            "10.0.0.1:49152".parse().unwrap(),
            "10.0.0.2:80".parse().unwrap(),
        )
    }

    #[test]
    fn the_rfc793_clock_ticks_every_4_us_whatever_the_tuple() {
        let mut g = IsnGenerator::new(IsnPolicy::Rfc793Clock, component_rng(1, "isn"));
        let (l, r) = ends();
        let a = g.isn(SimTime::ZERO, l, r);
        let b = g.isn(
            SimTime::ZERO + Duration::from_secs(1),
            "10.9.9.9:1".parse().unwrap(),
            r,
        );
        assert_eq!(b.since(a), 250_000);
    }

    #[test]
    fn rfc6528_moves_only_with_the_clock_for_one_tuple_but_differs_across_tuples() {
        let mut g = IsnGenerator::new(IsnPolicy::Rfc6528, component_rng(1, "isn"));
        let (l, r) = ends();
        let t1 = SimTime::ZERO + Duration::from_millis(8);
        assert_eq!(g.isn(t1, l, r).since(g.isn(SimTime::ZERO, l, r)), 2_000);
        let other: SocketAddrV4 = "10.0.0.1:49153".parse().unwrap();
        assert_ne!(g.isn(SimTime::ZERO, l, r), g.isn(SimTime::ZERO, other, r));
    }

    #[test]
    fn linux_isn_ticks_every_64_ns() {
        let mut g = IsnGenerator::new(IsnPolicy::Linux, component_rng(1, "isn"));
        let (l, r) = ends();
        let t1 = SimTime::ZERO + Duration::from_micros(64);
        assert_eq!(g.isn(t1, l, r).since(g.isn(SimTime::ZERO, l, r)), 1_000);
    }

    #[test]
    fn fixed_is_fixed_and_random_is_seeded() {
        let (l, r) = ends();
        let mut f = IsnGenerator::new(IsnPolicy::Fixed(1000), component_rng(1, "isn"));
        assert_eq!(
            f.isn(SimTime::ZERO + Duration::from_secs(9), l, r),
            SeqNum(1000)
        );
        let mut a = IsnGenerator::new(IsnPolicy::Random, component_rng(1, "isn"));
        let mut b = IsnGenerator::new(IsnPolicy::Random, component_rng(1, "isn"));
        assert_eq!(a.isn(SimTime::ZERO, l, r), b.isn(SimTime::ZERO, l, r));
    }
}
