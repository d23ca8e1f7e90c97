//! The pcap writer, checked by tshark: every header field, every checksum and every timestamp
//! of a hand-built capture decodes to what the simulated packets said.

use std::net::Ipv4Addr;
use std::path::Path;

use timewait::net::{Body, Datagram, Icmp, NodeId, Packet, Provenance};
use timewait::report::PcapWriter;
use timewait::sim::SimTime;
use timewait::tcp::{Flags, Segment, SeqNum, Timestamps};

mod tshark;
use tshark::tshark;

const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 254);

fn packet(id: u64, src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, body: Body) -> Packet {
    Packet {
        src,
        dst,
        ttl,
        ip_id: 100 + id as u16,
        body,
        ttl_clock: SimTime::ZERO,
        meta: Provenance {
            id,
            sent_at: SimTime::ZERO,
            sender: NodeId(0),
            copy_of: None,
            hops: 0,
        },
    }
}

fn segment(seq: u32, ack: u32, flags: Flags) -> Segment {
    Segment {
        src_port: 40000,
        dst_port: 80,
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 64240,
        ..Segment::default()
    }
}

/// The same segment sent the other way.
fn reply(mut s: Segment) -> Segment {
    std::mem::swap(&mut s.src_port, &mut s.dst_port);
    s
}

/// One packet of each kind, with the simulated time it is written at.
fn capture() -> Vec<(SimTime, Packet)> {
    let ts = |tsval, tsecr| Some(Timestamps { tsval, tsecr });
    let syn = Segment {
        mss: Some(1460),
        ..segment(1000, 0, Flags::SYN)
    };
    let syn_ack = Segment {
        mss: Some(1400),
        timestamps: ts(7, 0),
        ..reply(segment(5000, 1001, Flags::SYN | Flags::ACK))
    };
    let data = Segment {
        timestamps: ts(8, 7),
        payload: (0..1000)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>()
            .into(),
        ..segment(1001, 5001, Flags::PSH | Flags::ACK)
    };
    let fin = segment(2001, 5001, Flags::FIN | Flags::ACK);
    let rst = reply(segment(5001, 0, Flags::RST));
    let datagram = Datagram {
        src_port: 5000,
        dst_port: 9,
        len: 100,
        seq: 300,
    };
    let udp = packet(6, CLIENT, SERVER, 64, Body::Udp(datagram));
    let tcp = packet(3, CLIENT, SERVER, 1, Body::Tcp(Box::new(data.clone())));
    vec![
        (
            at(0),
            packet(1, CLIENT, SERVER, 64, Body::Tcp(Box::new(syn))),
        ),
        (
            at(1_000_000_001),
            packet(2, SERVER, CLIENT, 62, Body::Tcp(Box::new(syn_ack))),
        ),
        (
            at(2_000_000_500),
            packet(3, CLIENT, SERVER, 63, Body::Tcp(Box::new(data))),
        ),
        (
            at(3_123_456_789),
            packet(4, CLIENT, SERVER, 63, Body::Tcp(Box::new(fin))),
        ),
        (
            at(4_000_000_000),
            packet(5, SERVER, CLIENT, 255, Body::Tcp(Box::new(rst))),
        ),
        (at(5_000_000_007), udp.clone()),
        (
            at(6_500_000_000),
            packet(
                7,
                ROUTER,
                CLIENT,
                64,
                Body::Icmp(Icmp::TimeExceeded(udp.quote())),
            ),
        ),
        (
            at(7_000_000_000),
            packet(
                8,
                ROUTER,
                CLIENT,
                64,
                Body::Icmp(Icmp::TimeExceeded(tcp.quote())),
            ),
        ),
    ]
}

fn at(nanos: u64) -> SimTime {
    SimTime::from_nanos(nanos)
}

fn write(path: &Path, packets: &[(SimTime, Packet)]) {
    let mut w = PcapWriter::create(path).unwrap();
    for (t, p) in packets {
        w.packet(*t, p).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn tshark_decodes_every_field_checksum_and_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("capture.pcap");
    let packets = capture();
    write(&file, &packets);

    let fields = [
        "frame.time_epoch",
        "ip.src",
        "ip.dst",
        "ip.ttl",
        "ip.id",
        "ip.flags.df",
        "ip.checksum.status",
        "tcp.seq_raw",
        "tcp.ack_raw",
        "tcp.flags",
        "tcp.len",
        "tcp.options.mss_val",
        "tcp.options.timestamp.tsval",
        "tcp.options.timestamp.tsecr",
        "tcp.checksum.status",
        "udp.length",
        "udp.checksum.status",
        "icmp.type",
        "icmp.code",
        "icmp.checksum.status",
    ];
    let mut args = vec!["-T", "fields", "-E", "separator=;", "-E", "occurrence=f"];
    for f in fields {
        args.extend(["-e", f]);
    }
    let out = tshark(&file, &args);
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split(';').collect()).collect();
    assert_eq!(rows.len(), packets.len(), "tshark output:\n{out}");

    // Checksum status 1 is "Good" in tshark's field output (0 bad, 2 unverified, 3 absent).
    const GOOD: &str = "1";
    for (row, (time, p)) in rows.iter().zip(&packets) {
        let get = |name: &str| row[fields.iter().position(|f| *f == name).unwrap()];
        let ctx = format!("packet {}: {row:?}", p.meta.id);
        let t = time.as_nanos();
        assert_eq!(
            get("frame.time_epoch"),
            format!("{}.{:09}", t / 1_000_000_000, t % 1_000_000_000),
            "{ctx}"
        );
        assert_eq!(get("ip.src"), p.src.to_string(), "{ctx}");
        assert_eq!(get("ip.dst"), p.dst.to_string(), "{ctx}");
        assert_eq!(get("ip.ttl"), p.ttl.to_string(), "{ctx}");
        assert_eq!(get("ip.id"), format!("0x{:04x}", p.ip_id), "{ctx}");
        assert_eq!(get("ip.flags.df"), "0", "{ctx}");
        assert_eq!(get("ip.checksum.status"), GOOD, "{ctx}");
        match &p.body {
            Body::Tcp(s) => {
                assert_eq!(get("tcp.seq_raw"), s.seq.0.to_string(), "{ctx}");
                assert_eq!(get("tcp.ack_raw"), s.ack.0.to_string(), "{ctx}");
                assert_eq!(
                    get("tcp.flags"),
                    format!("0x{:04x}", s.flags.bits()),
                    "{ctx}"
                );
                assert_eq!(get("tcp.len"), s.payload.len().to_string(), "{ctx}");
                let mss = s.mss.map(|m| m.to_string()).unwrap_or_default();
                assert_eq!(get("tcp.options.mss_val"), mss, "{ctx}");
                let (tsval, tsecr) = match s.timestamps {
                    Some(ts) => (ts.tsval.to_string(), ts.tsecr.to_string()),
                    None => (String::new(), String::new()),
                };
                assert_eq!(get("tcp.options.timestamp.tsval"), tsval, "{ctx}");
                assert_eq!(get("tcp.options.timestamp.tsecr"), tsecr, "{ctx}");
                assert_eq!(get("tcp.checksum.status"), GOOD, "{ctx}");
            }
            Body::Udp(d) => {
                assert_eq!(get("udp.length"), (8 + d.len).to_string(), "{ctx}");
                assert_eq!(get("udp.checksum.status"), GOOD, "{ctx}");
            }
            Body::Icmp(Icmp::TimeExceeded(_)) => {
                assert_eq!(get("icmp.type"), "11", "{ctx}");
                assert_eq!(get("icmp.code"), "0", "{ctx}");
                assert_eq!(get("icmp.checksum.status"), GOOD, "{ctx}");
            }
        }
    }
}

#[test]
fn tshark_finds_nothing_malformed_and_no_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("capture.pcap");
    write(&file, &capture());
    let bad = tshark(
        &file,
        &["-Y", "_ws.malformed || _ws.expert.severity >= error"],
    );
    assert_eq!(bad, "", "tshark flagged frames");
}

#[test]
fn the_same_packets_make_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.pcap"), dir.path().join("b.pcap"));
    write(&a, &capture());
    write(&b, &capture());
    let a = std::fs::read(a).unwrap();
    assert_eq!(a, std::fs::read(b).unwrap());
    // Nanosecond pcap magic, little-endian, so every machine writes the same header.
    assert_eq!(a[..4], [0x4d, 0x3c, 0xb2, 0xa1]);
}
