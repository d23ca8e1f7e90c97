//! Packets: an IPv4-like header, a TCP, UDP-like or ICMP body, and provenance that forwarding
//! never reads.

use std::net::Ipv4Addr;

use crate::sim::SimTime;
use crate::tcp::Segment;

/// Identifies a packet (and each copy a link makes of it) for the whole run.
pub type PacketId = u64;

/// Index of a node (host or router) in the network.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct NodeId(pub u32);

/// IPv4 header length; the model never sends IP options.
pub const IPV4_HEADER_LEN: usize = 20;

/// Where a packet came from and what became of it, for reports only.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Provenance {
    /// This packet's id.
    pub id: PacketId,
    /// When the sending host handed it to its first link.
    pub sent_at: SimTime,
    /// The host that sent it.
    pub sender: NodeId,
    /// If a link duplicated it: the packet it is a copy of.
    pub copy_of: Option<PacketId>,
    /// Routers that have forwarded it so far (a link's copy inherits its original's count).
    pub hops: u16,
}

/// A datagram of the simple UDP-like protocol used to exercise the network without TCP.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Datagram {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload length in bytes (the bytes themselves are a pattern, made when written out).
    pub len: u32,
    /// The sending application's counter, so receivers can tell datagrams apart.
    pub seq: u64,
}

/// The part of an offending packet an ICMP error quotes: its IP header and first 8 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Quote {
    /// Original source.
    pub src: Ipv4Addr,
    /// Original destination.
    pub dst: Ipv4Addr,
    /// Original IP protocol number.
    pub protocol: u8,
    /// Original IP id.
    pub ip_id: u16,
    /// Original source port.
    pub src_port: u16,
    /// Original destination port.
    pub dst_port: u16,
    /// Original TCP sequence number (or datagram counter, truncated).
    pub seq: u32,
    /// Id of the packet quoted.
    pub packet: PacketId,
}

/// ICMP messages the model sends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Icmp {
    /// Type 11 code 0: TTL exceeded in transit (RFC 792).
    TimeExceeded(Quote),
}

/// What the IP packet carries.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Body {
    /// A TCP segment (protocol 6); boxed, as a packet is moved at every hop.
    Tcp(Box<Segment>),
    /// A UDP-like datagram (protocol 17).
    Udp(Datagram),
    /// An ICMP message (protocol 1).
    Icmp(Icmp),
}

impl Body {
    /// IP protocol number.
    pub fn protocol(&self) -> u8 {
        match self {
            Body::Tcp(_) => 6,
            Body::Udp(_) => 17,
            Body::Icmp(_) => 1,
        }
    }

    /// Bytes after the IP header.
    pub fn len(&self) -> usize {
        match self {
            Body::Tcp(s) => s.header_len() + s.payload.len(),
            Body::Udp(d) => 8 + d.len as usize,
            Body::Icmp(_) => 8 + IPV4_HEADER_LEN + 8,
        }
    }

    /// True if the body has no bytes (never: every body has a header).
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// An IP packet in flight.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Packet {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live: hops (or seconds) left.
    pub ttl: u8,
    /// IP identification field.
    pub ip_id: u16,
    /// Payload.
    pub body: Body,
    /// Up to when the TTL has been charged for time held (TTL mode `seconds`).
    pub ttl_clock: SimTime,
    /// Provenance, for reports only.
    pub meta: Provenance,
}

impl Packet {
    /// IP total length: header plus body.
    pub fn wire_len(&self) -> usize {
        IPV4_HEADER_LEN + self.body.len()
    }

    /// The first 8 bytes of the body and the header, as an ICMP error quotes them.
    pub fn quote(&self) -> Quote {
        let (src_port, dst_port, seq) = match &self.body {
            Body::Tcp(s) => (s.src_port, s.dst_port, s.seq.0),
            Body::Udp(d) => (d.src_port, d.dst_port, d.seq as u32),
            Body::Icmp(_) => (0, 0, 0),
        };
        Quote {
            src: self.src,
            dst: self.dst,
            protocol: self.body.protocol(),
            ip_id: self.ip_id,
            src_port,
            dst_port,
            seq,
            packet: self.meta.id,
        }
    }
}
