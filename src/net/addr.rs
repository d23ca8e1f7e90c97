//! IPv4 prefixes for routing tables.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 prefix such as `10.0.1.0/24`; host bits are cleared when parsed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Prefix {
    bits: u32,
    len: u8,
}

impl Prefix {
    /// The prefix of `addr` with `len` leading bits (0..=32).
    pub fn new(addr: Ipv4Addr, len: u8) -> Prefix {
        let len = len.min(32);
        Prefix {
            bits: addr.to_bits() & Self::mask(len),
            len,
        }
    }

    /// A /32 for one address.
    pub fn host(addr: Ipv4Addr) -> Prefix {
        Prefix::new(addr, 32)
    }

    fn mask(len: u8) -> u32 {
        if len == 0 { 0 } else { u32::MAX << (32 - len) }
    }

    /// The network mask and the network bits: `addr` is inside when `addr & mask == bits`.
    pub fn mask_and_bits(&self) -> (u32, u32) {
        (Self::mask(self.len), self.bits)
    }

    /// Prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// True for the default route `0.0.0.0/0`.
    pub fn is_default(&self) -> bool {
        self.len == 0
    }

    /// True if `addr` falls inside this prefix.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        addr.to_bits() & Self::mask(self.len) == self.bits
    }
}

impl FromStr for Prefix {
    type Err = String;

    /// Parses "10.0.1.0/24", or a bare address as a /32.
    fn from_str(s: &str) -> Result<Prefix, String> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => {
                let len: u8 = l.parse().ok().filter(|l| *l <= 32).ok_or_else(|| {
                    format!("invalid prefix length in \"{s}\" (expected 0 to 32)")
                })?;
                (a, len)
            }
            None => (s, 32),
        };
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("invalid IPv4 address in \"{s}\""))?;
        Ok(Prefix::new(addr, len))
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from_bits(self.bits), self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let p: Prefix = "10.0.1.77/24".parse().unwrap();
        assert_eq!(p.to_string(), "10.0.1.0/24");
        assert!(p.contains("10.0.1.2".parse().unwrap()));
        assert!(!p.contains("10.0.2.2".parse().unwrap()));
        let d: Prefix = "0.0.0.0/0".parse().unwrap();
        assert!(d.is_default() && d.contains("192.0.2.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
        assert!("10.0.0/8".parse::<Prefix>().is_err());
    }
}
