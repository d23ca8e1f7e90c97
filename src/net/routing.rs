//! Longest-prefix-match routing tables that can change while the simulation runs.

use std::net::Ipv4Addr;

use rustc_hash::FxHashMap;

use super::addr::Prefix;
use super::link::Port;

/// Where a route sends matching packets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NextHop {
    /// Out of this port, to the neighbour at its far end.
    Port(Port),
    /// Discarded (a black hole route).
    Drop,
}

/// One routing table entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Route<H = NextHop> {
    /// Destinations it matches.
    pub prefix: Prefix,
    /// What to do with them.
    pub next: H,
}

/// A routing table: the most specific matching prefix wins. Generic over the next hop so
/// checks that work on names (the scenario's reachability warning) share the same matching.
#[derive(Clone, Debug)]
pub struct RoutingTable<H = NextHop> {
    /// Kept sorted by prefix length, longest first, so the first match is the best.
    routes: Vec<Route<H>>,
    /// Each route's mask and network bits, in the same order: what a lookup compares, with
    /// no mask to compute per route.
    matchers: Vec<(u32, u32)>,
    /// The host (/32) routes, which lead the list, by address: a router with a route per
    /// host finds the most specific match with one probe rather than a scan.
    hosts: FxHashMap<u32, usize>,
}

/// Fewer host routes than this are scanned like the others (cheaper than hashing).
const HOSTS_HASHED: usize = 4;

impl<H> Default for RoutingTable<H> {
    fn default() -> Self {
        RoutingTable {
            routes: Vec::new(),
            matchers: Vec::new(),
            hosts: FxHashMap::default(),
        }
    }
}

impl<H: Copy> RoutingTable<H> {
    /// Adds a route, replacing any with the same prefix.
    pub fn set(&mut self, prefix: Prefix, next: H) {
        self.remove(prefix);
        let at = self
            .routes
            .iter()
            .position(|r| r.prefix.prefix_len() < prefix.prefix_len())
            .unwrap_or(self.routes.len());
        self.routes.insert(at, Route { prefix, next });
        self.matchers.insert(at, prefix.mask_and_bits());
        self.index_hosts();
    }

    /// Removes the route for exactly `prefix`; true if there was one.
    pub fn remove(&mut self, prefix: Prefix) -> bool {
        let before = self.routes.len();
        self.routes.retain(|r| r.prefix != prefix);
        self.matchers = self
            .routes
            .iter()
            .map(|r| r.prefix.mask_and_bits())
            .collect();
        self.index_hosts();
        self.routes.len() != before
    }

    /// Rebuilds [`RoutingTable::hosts`] after a change.
    fn index_hosts(&mut self) {
        self.hosts.clear();
        let n = self
            .routes
            .iter()
            .take_while(|r| r.prefix.prefix_len() == 32)
            .count();
        if n >= HOSTS_HASHED {
            self.hosts.extend(
                self.matchers[..n]
                    .iter()
                    .enumerate()
                    .map(|(i, &(_, bits))| (bits, i)),
            );
        }
    }

    /// The best route for `dst`.
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<H> {
        let a = dst.to_bits();
        let mut from = 0;
        if !self.hosts.is_empty() {
            // A /32 is the longest prefix there is; without one, only shorter routes can match.
            if let Some(&i) = self.hosts.get(&a) {
                return Some(self.routes[i].next);
            }
            from = self.hosts.len();
        }
        let i = self.matchers[from..]
            .iter()
            .position(|&(mask, bits)| a & mask == bits)?;
        Some(self.routes[from + i].next)
    }

    /// All routes, most specific first.
    pub fn routes(&self) -> &[Route<H>] {
        &self.routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::LinkId;

    fn port(n: u32) -> NextHop {
        NextHop::Port(Port {
            link: LinkId(n),
            side: 0,
        })
    }

    #[test]
    fn most_specific_prefix_wins_whatever_the_insertion_order() {
        let mut t = RoutingTable::default();
        t.set("0.0.0.0/0".parse().unwrap(), port(0));
        t.set("10.0.1.0/24".parse().unwrap(), port(2));
        t.set("10.0.0.0/8".parse().unwrap(), port(1));
        assert_eq!(t.lookup("10.0.1.9".parse().unwrap()), Some(port(2)));
        assert_eq!(t.lookup("10.9.9.9".parse().unwrap()), Some(port(1)));
        assert_eq!(t.lookup("192.0.2.1".parse().unwrap()), Some(port(0)));
    }

    #[test]
    fn host_routes_found_by_address_still_lose_to_nothing_and_fall_through_to_shorter_ones() {
        let mut t = RoutingTable::default();
        t.set("10.0.1.0/24".parse().unwrap(), port(100));
        for i in 1..=6 {
            t.set(format!("10.0.0.{i}/32").parse().unwrap(), port(i));
        }
        t.set("0.0.0.0/0".parse().unwrap(), port(0));
        assert_eq!(t.lookup("10.0.0.4".parse().unwrap()), Some(port(4)));
        assert_eq!(t.lookup("10.0.1.4".parse().unwrap()), Some(port(100)));
        assert_eq!(t.lookup("10.0.0.9".parse().unwrap()), Some(port(0)));
        assert!(t.remove("10.0.0.4/32".parse().unwrap()));
        assert_eq!(t.lookup("10.0.0.4".parse().unwrap()), Some(port(0)));
        assert_eq!(t.lookup("10.0.0.5".parse().unwrap()), Some(port(5)));
    }

    #[test]
    fn replacing_and_removing_routes() {
        let mut t = RoutingTable::default();
        let p: Prefix = "10.0.1.0/24".parse().unwrap();
        t.set(p, port(1));
        t.set(p, NextHop::Drop);
        assert_eq!(t.routes().len(), 1);
        assert_eq!(t.lookup("10.0.1.1".parse().unwrap()), Some(NextHop::Drop));
        assert!(t.remove(p));
        assert_eq!(t.lookup("10.0.1.1".parse().unwrap()), None);
    }
}
