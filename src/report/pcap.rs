//! A pcap writer: simulated packets as Ethernet frames that tshark and Wireshark open, stamped
//! with simulated time to the nanosecond.

use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::Path;

use etherparse::err::packet::BuildWriteError;
use etherparse::icmpv4::TimeExceededCode;
use etherparse::{
    Icmpv4Type, IpHeaders, IpNumber, Ipv4Header, PacketBuilder, TcpHeader, TcpOptionElement,
};
use pcap_file::pcap::{PcapHeader, PcapPacket};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

use super::meter::{Meter, Metered};
use crate::net::{Body, Datagram, IPV4_HEADER_LEN, Icmp, Packet, Quote};
use crate::scenario::Compression;
use crate::sim::SimTime;
use crate::tcp::Segment;

/// Ethernet II header length.
const ETHERNET_HEADER_LEN: usize = 14;

/// Largest frame we write: an IPv4 packet of the largest total length behind an Ethernet header.
const SNAPLEN: u32 = (ETHERNET_HEADER_LEN + u16::MAX as usize) as u32;

/// Writes packets to a classic pcap file (Ethernet, nanosecond timestamps).
pub struct PcapWriter {
    inner: pcap_file::pcap::PcapWriter<Metered>,
    /// Bytes of each frame kept.
    snaplen: u32,
    /// The frame being written, reused from packet to packet.
    frame: Vec<u8>,
    /// The TCP payload's bytes, made here (segments carry only where they come from).
    payload: Vec<u8>,
}

impl PcapWriter {
    /// Creates (or truncates) `path` and writes the pcap file header.
    pub fn create(path: &Path) -> io::Result<PcapWriter> {
        PcapWriter::create_metered(path, &Meter::default(), None, Compression::None)
    }

    /// As [`PcapWriter::create`], with `meter` counting what it writes, keeping the first
    /// `snaplen` bytes of each frame (as `tcpdump -s`; `None` keeps whole frames), the file
    /// stored as `compress` says.
    pub fn create_metered(
        path: &Path,
        meter: &Meter,
        snaplen: Option<u32>,
        compress: Compression,
    ) -> io::Result<PcapWriter> {
        let snaplen = snaplen.unwrap_or(SNAPLEN).clamp(1, SNAPLEN);
        let header = PcapHeader {
            snaplen,
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::NanoSecond,
            // Fixed rather than native byte order, so files are identical on every machine.
            endianness: Endianness::Little,
            ..PcapHeader::default()
        };
        let file = meter.create_compressed(path, compress)?;
        let inner = pcap_file::pcap::PcapWriter::with_header(file, header).map_err(pcap_error)?;
        Ok(PcapWriter {
            inner,
            snaplen,
            frame: Vec::new(),
            payload: Vec::new(),
        })
    }

    /// Appends `packet` as it is at simulated time `time`.
    pub fn packet(&mut self, time: SimTime, packet: &Packet) -> io::Result<()> {
        self.frame.clear();
        frame_into(&mut self.frame, &mut self.payload, packet)?;
        let data = &self.frame;
        let timestamp = std::time::Duration::from_nanos(time.as_nanos());
        let len = data.len() as u32; // at most SNAPLEN: frame() refuses anything longer
        // The record keeps the frame's real length, so readers know what was cut.
        let kept = &data[..len.min(self.snaplen) as usize];
        self.inner
            .write_packet(&PcapPacket::new(timestamp, len, kept))
            .map_err(pcap_error)?;
        Ok(())
    }

    /// Flushes the file; write errors held in the buffer surface here.
    pub fn finish(self) -> io::Result<()> {
        self.inner.into_writer().flush()
    }
}

/// Keeps the underlying I/O error when there is one, so callers see the real cause.
fn pcap_error(e: PcapError) -> io::Error {
    match e {
        PcapError::IoError(e) => e,
        e => io::Error::new(io::ErrorKind::InvalidInput, e),
    }
}

/// Keeps the underlying I/O error when there is one, so callers see the real cause.
fn build_error(e: BuildWriteError) -> io::Error {
    match e {
        BuildWriteError::Io(e) => e,
        e => io::Error::new(io::ErrorKind::InvalidInput, e),
    }
}

/// A locally administered MAC address carrying the IPv4 address, so frames are stable.
fn mac(addr: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = addr.octets();
    [0x02, 0x00, a, b, c, d]
}

/// The Ethernet frame for `packet`: headers with correct lengths and checksums, then payload.
#[cfg(test)]
fn frame(packet: &Packet) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    frame_into(&mut out, &mut Vec::new(), packet)?;
    Ok(out)
}

/// Appends the Ethernet frame for `packet` to `out`, making a TCP payload's bytes in `scratch`.
fn frame_into(out: &mut Vec<u8>, scratch: &mut Vec<u8>, packet: &Packet) -> io::Result<()> {
    // Checked before building, so a huge datagram never allocates its payload.
    if packet.wire_len() > usize::from(u16::MAX) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "packet {} is {} bytes, more than IPv4 allows",
                packet.meta.id,
                packet.wire_len()
            ),
        ));
    }
    let ip = Ipv4Header {
        source: packet.src.octets(),
        destination: packet.dst.octets(),
        time_to_live: packet.ttl,
        identification: packet.ip_id,
        dont_fragment: false,
        protocol: IpNumber(packet.body.protocol()),
        ..Ipv4Header::default()
    };
    let builder = PacketBuilder::ethernet2(mac(packet.src), mac(packet.dst))
        .ip(IpHeaders::Ipv4(ip, Default::default()));
    out.reserve(ETHERNET_HEADER_LEN + packet.wire_len());
    let written = match &packet.body {
        Body::Tcp(seg) => {
            scratch.clear();
            seg.payload.write_to(scratch);
            builder.tcp_header(tcp_header(seg)?).write(out, scratch)
        }
        Body::Udp(d) => builder
            .udp(d.src_port, d.dst_port)
            .write(out, &udp_payload(d)),
        Body::Icmp(Icmp::TimeExceeded(q)) => builder
            .icmpv4(Icmpv4Type::TimeExceeded(
                TimeExceededCode::TtlExceededInTransit,
            ))
            .write(out, &quote_bytes(q)),
    };
    written.map_err(build_error)?;
    Ok(())
}

/// The TCP header of `seg`, checksum left for the builder; options laid out as Linux sends them.
fn tcp_header(seg: &Segment) -> io::Result<TcpHeader> {
    // Bit positions as in the TCP header (RFC 9293 §3.1), all eight so nothing is lost.
    let bits = seg.flags.bits();
    let mut h = TcpHeader::new(seg.src_port, seg.dst_port, seg.seq.0, seg.window);
    h.acknowledgment_number = seg.ack.0;
    h.fin = bits & 0x01 != 0;
    h.syn = bits & 0x02 != 0;
    h.rst = bits & 0x04 != 0;
    h.psh = bits & 0x08 != 0;
    h.ack = bits & 0x10 != 0;
    h.urg = bits & 0x20 != 0;
    h.ece = bits & 0x40 != 0;
    h.cwr = bits & 0x80 != 0;
    let mut options = Vec::new();
    if let Some(mss) = seg.mss {
        options.push(TcpOptionElement::MaximumSegmentSize(mss));
    }
    // Linux `tcp_options_write`: SACK-permitted (kind 4) takes the two NOPs before the
    // timestamps; without timestamps it gets two NOPs of its own.
    match (seg.sack_ok, seg.timestamps) {
        (true, Some(_)) => options.push(TcpOptionElement::SelectiveAcknowledgementPermitted),
        (true, None) => {
            options.push(TcpOptionElement::Noop);
            options.push(TcpOptionElement::Noop);
            options.push(TcpOptionElement::SelectiveAcknowledgementPermitted);
        }
        (false, Some(_)) => {
            options.push(TcpOptionElement::Noop);
            options.push(TcpOptionElement::Noop);
        }
        (false, None) => {}
    }
    if let Some(ts) = seg.timestamps {
        options.push(TcpOptionElement::Timestamp(ts.tsval, ts.tsecr));
    }
    if let Some(shift) = seg.wscale {
        options.push(TcpOptionElement::Noop);
        options.push(TcpOptionElement::WindowScale(shift));
    }
    // RFC 2018 §3: SACK (kind 5), after two NOPs, 8 bytes a block.
    if let Some(b) = seg.sack.as_deref()
        && let Some((&(l, r), rest)) = b.as_slice().split_first()
    {
        let mut more = [None; 3];
        for (slot, &(l, r)) in more.iter_mut().zip(rest) {
            *slot = Some((l.0, r.0));
        }
        options.push(TcpOptionElement::Noop);
        options.push(TcpOptionElement::Noop);
        options.push(TcpOptionElement::SelectiveAcknowledgement((l.0, r.0), more));
    }
    h.set_options(&options)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    Ok(h)
}

/// The datagram's payload: a pattern from its counter, since the model carries only a length.
fn udp_payload(d: &Datagram) -> Vec<u8> {
    (0..d.len)
        .map(|i| (d.seq as u8).wrapping_add(i as u8))
        .collect()
}

/// What an ICMP error carries: the offending packet's IP header and its first 8 bytes.
fn quote_bytes(q: &Quote) -> Vec<u8> {
    let mut ip = Ipv4Header {
        source: q.src.octets(),
        destination: q.dst.octets(),
        time_to_live: 1,
        identification: q.ip_id,
        dont_fragment: false,
        protocol: IpNumber(q.protocol),
        total_len: (IPV4_HEADER_LEN + 8) as u16,
        ..Ipv4Header::default()
    };
    ip.header_checksum = ip.calc_header_checksum();
    let mut out = ip.to_bytes().to_vec();
    out.extend_from_slice(&q.src_port.to_be_bytes());
    out.extend_from_slice(&q.dst_port.to_be_bytes());
    if q.protocol == 17 {
        // UDP: length of the 8 quoted bytes, checksum 0 ("not computed").
        out.extend_from_slice(&8u16.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
    } else {
        out.extend_from_slice(&q.seq.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{NodeId, Provenance};
    use crate::tcp::{Flags, SeqNum, Timestamps};

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);

    fn packet(body: Body) -> Packet {
        Packet {
            src: A,
            dst: B,
            ttl: 17,
            ip_id: 0x1234,
            body,
            ttl_clock: SimTime::ZERO,
            meta: Provenance {
                id: 9,
                sent_at: SimTime::ZERO,
                sender: NodeId(0),
                copy_of: None,
                hops: 0,
            },
        }
    }

    fn tcp() -> Segment {
        Segment {
            src_port: 40000,
            dst_port: 80,
            seq: SeqNum(0xdead_beef),
            ack: SeqNum(7),
            flags: Flags::SYN | Flags::ACK,
            window: 1000,
            mss: Some(1460),
            timestamps: Some(Timestamps { tsval: 5, tsecr: 6 }),
            payload: vec![1, 2, 3].into(),
            ..Segment::default()
        }
    }

    fn udp() -> Datagram {
        Datagram {
            src_port: 5000,
            dst_port: 9,
            len: 33,
            seq: 254,
        }
    }

    /// One's-complement sum of 16-bit words; a region with a correct checksum sums to 0xffff.
    fn sum(parts: &[&[u8]]) -> u16 {
        let bytes: Vec<u8> = parts.concat();
        let mut s: u32 = bytes
            .chunks(2)
            .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
            .sum();
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    /// The frame's IP header (checked) and the bytes after it.
    fn ip_payload(f: &[u8], p: &Packet) -> Vec<u8> {
        assert_eq!(f.len(), ETHERNET_HEADER_LEN + p.wire_len());
        assert_eq!(f[..12], [2, 0, 10, 0, 1, 2, 2, 0, 10, 0, 0, 1]);
        let ip = &f[ETHERNET_HEADER_LEN..ETHERNET_HEADER_LEN + IPV4_HEADER_LEN];
        assert_eq!(sum(&[ip]), 0xffff);
        assert_eq!(ip[6] & 0x40, 0, "DF must be clear");
        assert_eq!(
            (ip[4], ip[5], ip[8], ip[9]),
            (0x12, 0x34, 17, p.body.protocol())
        );
        f[ETHERNET_HEADER_LEN + IPV4_HEADER_LEN..].to_vec()
    }

    fn pseudo(protocol: u8, len: usize) -> Vec<u8> {
        let mut v = [A.octets(), B.octets()].concat();
        v.extend([0, protocol]);
        v.extend((len as u16).to_be_bytes());
        v
    }

    #[test]
    fn tcp_has_linux_option_layout_and_a_correct_checksum() {
        let p = packet(Body::Tcp(Box::new(tcp())));
        let t = ip_payload(&frame(&p).unwrap(), &p);
        assert_eq!(sum(&[&pseudo(6, t.len()), &t]), 0xffff);
        assert_eq!(t[4..8], 0xdead_beef_u32.to_be_bytes());
        assert_eq!(t[8..12], 7u32.to_be_bytes());
        assert_eq!((t[12] >> 4, t[13]), (9, 0x12));
        let ts = [1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6];
        assert_eq!(t[20..36], [&[2, 4, 0x05, 0xb4][..], &ts].concat()[..]);
        assert_eq!(t[36..], [1, 2, 3]);
    }

    #[test]
    fn udp_has_the_pattern_payload_and_a_correct_checksum() {
        let p = packet(Body::Udp(udp()));
        let u = ip_payload(&frame(&p).unwrap(), &p);
        assert_eq!(sum(&[&pseudo(17, u.len()), &u]), 0xffff);
        assert_eq!(u[4..6], 41u16.to_be_bytes());
        assert_eq!(u[8..11], [254, 255, 0]);
    }

    #[test]
    fn icmp_quotes_a_valid_header_and_eight_bytes() {
        let quoted = packet(Body::Tcp(Box::new(tcp())));
        let p = packet(Body::Icmp(Icmp::TimeExceeded(quoted.quote())));
        let i = ip_payload(&frame(&p).unwrap(), &p);
        assert_eq!(sum(&[&i]), 0xffff);
        assert_eq!(i[..2], [11, 0]);
        let inner = &i[8..28];
        assert_eq!(sum(&[inner]), 0xffff);
        assert_eq!(
            (inner[9], &inner[12..20]),
            (6, &[10, 0, 0, 1, 10, 0, 1, 2][..])
        );
        assert_eq!(i[28..], [0x9c, 0x40, 0, 80, 0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    fn oversized_packets_are_errors_not_panics() {
        let big = Datagram {
            len: u32::MAX,
            ..udp()
        };
        let e = frame(&packet(Body::Udp(big))).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
