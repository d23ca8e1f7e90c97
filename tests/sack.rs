//! Selective acknowledgments on the wire, one RFC rule per test: SACK-permitted negotiation
//! (RFC 2018 §2), the receiver's blocks (§4) and D-SACK (RFC 2883 §4), and the sender's
//! RFC 6675 loss recovery, between two stacks joined by a 10 ms one-way delay (no bandwidth
//! limit, so a window leaves at once and all its ACKs come back together).

mod common;

use common::pair::*;
use timewait::sim::SimTime;
use timewait::tcp::{Congestion, Phase, Segment, SeqNum, SocketHandle, TcpConfig};

const MSS: usize = 1460;

fn cfg(sack: bool) -> TcpConfig {
    TcpConfig {
        sack,
        ..TcpConfig::default()
    }
}

/// A bulk client (congestion `cc`) and a server that reads nothing, with 1 MiB of buffer.
fn bulk(client: TcpConfig, server: TcpConfig) -> (Net, SocketHandle) {
    let server = TcpConfig {
        rcv_buf: 1 << 20,
        ..server
    };
    let mut net = Net::new(client, server, D);
    let (ch, _) = net.open(None);
    (net, ch)
}

fn starts_at(v: &[(SimTime, Segment)], seq: SeqNum) -> Vec<SimTime> {
    v.iter()
        .filter(|(_, s)| s.seq == seq)
        .map(|(t, _)| *t)
        .collect()
}

/// The blocks of `seg`, as stream offsets of `irs`'s side.
fn blocks(seg: &Segment, irs: SeqNum) -> Vec<(u32, u32)> {
    seg.sack
        .as_deref()
        .map(|b| {
            b.as_slice()
                .iter()
                .map(|&(l, r)| (l.since(irs + 1), r.since(irs + 1)))
                .collect()
        })
        .unwrap_or_default()
}

// RFC 2018 §2: SACK-permitted goes on the SYN; the SYN-ACK carries it only in answer to a
// SYN that did, and SACK is used only when both agreed.
#[test]
fn sack_permitted_is_offered_on_the_syn_and_answered_only_when_offered() {
    for (client, server, offered, answered) in [
        (true, true, true, true),
        (false, true, false, false),
        (true, false, true, false),
        (false, false, false, false),
    ] {
        let mut net = Net::new(cfg(client), cfg(server), D);
        let (ch, sh) = net.open(None);
        let ctx = format!("client sack = {client}, server sack = {server}");
        assert_eq!(net.sent_by(C, is_syn)[0].1.sack_ok, offered, "{ctx}");
        assert_eq!(net.sent_by(S, is_syn_ack)[0].1.sack_ok, answered, "{ctx}");
        assert_eq!(net.sock(C, ch).sack_ok(), answered, "{ctx}");
        assert_eq!(net.sock(S, sh).sack_ok(), answered, "{ctx}");
    }
}

// RFC 2018 §2 and §4: with `sack = false` on either side, a transfer with losses carries no
// SACK block at all, and the side without SACK sends no SACK option of any kind.
#[test]
fn sack_off_on_either_side_means_no_sack_options() {
    for (client, server) in [(false, true), (true, false)] {
        let (mut net, ch) = bulk(cfg(client), cfg(server));
        net.lose_data(C, &[0, 2, 5]);
        net.send(C, ch, &pattern(0..30 * MSS));
        net.run_for(secs(3));
        assert_eq!(net.sock(C, ch).snd_una(), net.sock(C, ch).snd_nxt());
        for host in [C, S] {
            for (_, s) in net.sent_by(host, |_| true) {
                assert!(s.sack.is_none(), "{client}/{server}: {s:?}");
                let off = (host == C && !client) || (host == S && !server);
                assert!(!(off && s.sack_ok), "{client}/{server}: {s:?}");
                assert!(!(s.flags.ack() && s.sack_ok), "{client}/{server}: {s:?}");
            }
        }
    }
}

// RFC 2018 §4: every ACK sent while out-of-order data is held carries SACK blocks; the first
// is the block holding the most recently received segment, then the most recently reported
// others; 4 fit in 40 bytes of options, 3 beside timestamps.
#[test]
fn sack_blocks_put_the_newest_segment_first_then_the_most_recently_reported() {
    for timestamps in [false, true] {
        let c = TcpConfig {
            timestamps,
            delayed_ack: false,
            ..TcpConfig::default()
        };
        let mut net = Net::pair(&c);
        let (_, sh) = net.open(None);
        let irs = net.sock(S, sh).irs().unwrap();
        let k = MSS;
        let ack_for = |net: &mut Net, seg: usize| {
            let s = forge_data(net.sock(S, sh), seg * k..(seg + 1) * k);
            let reply = net.poke(S, s);
            assert_eq!(reply.len(), 1, "one ACK at once: {reply:?}");
            blocks(&reply[0], irs)
        };
        let b = |a: usize, z: usize| ((a * k) as u32, (z * k) as u32);
        assert_eq!(ack_for(&mut net, 2), [b(2, 3)]);
        assert_eq!(ack_for(&mut net, 4), [b(4, 5), b(2, 3)]);
        assert_eq!(ack_for(&mut net, 6), [b(6, 7), b(4, 5), b(2, 3)]);
        // Segment 3 joins 2..3 and 4..5 into one block, reported first.
        let max = if timestamps { 3 } else { 4 };
        let got = ack_for(&mut net, 3);
        assert_eq!(got, [b(2, 5), b(6, 7)]);
        let got = ack_for(&mut net, 8);
        assert_eq!(got, [b(8, 9), b(2, 5), b(6, 7)]);
        let got = ack_for(&mut net, 10);
        assert_eq!(
            got,
            [b(10, 11), b(8, 9), b(2, 5), b(6, 7)][..max],
            "ts {timestamps}"
        );
        let got = ack_for(&mut net, 12);
        assert_eq!(
            got,
            [b(12, 13), b(10, 11), b(8, 9), b(2, 5)][..max],
            "ts {timestamps}"
        );
        // Segment 0 fills the first hole: 0..1 is delivered, the rest stays held.
        let got = ack_for(&mut net, 0);
        assert_eq!(got[0], b(12, 13), "no block holds in-order data");
        assert!(!got.contains(&b(0, 1)));
        // Filling every hole leaves nothing to report.
        for seg in [1, 5, 7, 9, 11] {
            ack_for(&mut net, seg);
        }
        assert_eq!(net.sock(S, sh).rcv_nxt(), irs + 1 + 13 * k as u32);
        let s = forge_data(net.sock(S, sh), 13 * k..14 * k);
        let reply = net.poke(S, s);
        assert!(reply.iter().all(|r| r.sack.is_none()), "{reply:?}");
    }
}

// RFC 2883 §4: a duplicate segment is acknowledged at once with its range in the first block
// (a D-SACK), followed by the held block that contains it, if any; it is reported once.
#[test]
fn a_duplicate_is_reported_in_the_first_block_at_once() {
    let mut net = Net::pair(&TcpConfig::default());
    let (ch, sh) = net.open(None);
    // Use up the quick ACKs, so that only the duplicate rule can make the ACK immediate.
    net.use_up_quick_acks(ch, sh);
    let irs = net.sock(S, sh).irs().unwrap();
    let base = 1600;
    // In-order data already received, sent again: below RCV.NXT.
    let old = forge_data(net.sock(S, sh), 0..100);
    let reply = net.poke(S, old);
    assert_eq!(reply.len(), 1, "acknowledged at once: {reply:?}");
    assert_eq!(reply[0].ack, net.sock(S, sh).rcv_nxt());
    assert_eq!(blocks(&reply[0], irs), [(0, 100)]);
    // Held out of order, then again.
    let ahead = base + 1000..base + 2000;
    net.poke(S, forge_data(net.sock(S, sh), ahead.clone()));
    let again = base + 1200..base + 1500;
    let reply = net.poke(S, forge_data(net.sock(S, sh), again.clone()));
    assert_eq!(reply.len(), 1, "{reply:?}");
    let r = |x: &std::ops::Range<usize>| (x.start as u32, x.end as u32);
    assert_eq!(blocks(&reply[0], irs), [r(&again), r(&ahead)]);
    // Reported once: the next out-of-order segment's ACK has no D-SACK block.
    let next = base + 3000..base + 3100;
    let reply = net.poke(S, forge_data(net.sock(S, sh), next.clone()));
    assert_eq!(blocks(&reply[0], irs), [r(&next), r(&ahead)]);

    // With `dsack = false` the duplicate draws a plain ACK.
    let c = TcpConfig {
        dsack: false,
        ..TcpConfig::default()
    };
    let mut net = Net::pair(&c);
    let (ch, sh) = net.open(None);
    net.send(C, ch, &pattern(0..100));
    net.run_for(ms(100));
    let reply = net.poke(S, forge_data(net.sock(S, sh), 0..100));
    assert_eq!(reply.len(), 1);
    assert!(reply[0].sack.is_none(), "{reply:?}");
}

/// Ten segments sent at once with segments 0 and 2 lost; the client's data after `wait`.
fn two_holes(client: TcpConfig) -> (Net, SocketHandle, SimTime, Vec<(SimTime, Segment)>) {
    let (mut net, ch) = bulk(client, TcpConfig::default());
    net.lose_data(C, &[0, 2]);
    let start = net.now;
    net.send(C, ch, &pattern(0..10 * MSS));
    net.run_for(D * 8);
    let data = net.sent_by(C, is_data);
    (net, ch, start, data)
}

// RFC 6675 §5: with SACK both holes of one window are resent one RTT (2 D) after the window
// left, in one recovery episode, without a timeout: the first on the third duplicate ACK,
// the second as soon as IsLost() names it and cwnd - pipe leaves room (both on the ACKs of
// the same round). Without SACK, NewReno (RFC 6582 §3.2 step 5) learns of the second hole
// only from the partial ACK of the first: one RTT later, at 4 D.
#[test]
fn with_sack_two_holes_are_repaired_in_one_round_trip_without_sack_one_each() {
    let newreno = |sack| TcpConfig {
        congestion: Congestion::NewReno,
        sack,
        ..TcpConfig::default()
    };
    let (net, ch, start, data) = two_holes(newreno(true));
    let (first, third) = (data[0].1.seq, data[2].1.seq);
    let rtt = D * 2;
    assert_eq!(starts_at(&data, first), [start, start + rtt]);
    assert_eq!(starts_at(&data, third), [start, start + rtt]);
    let c = net.sock(C, ch);
    assert_eq!(c.snd_una(), c.snd_nxt(), "all acknowledged");
    assert_eq!(data.len(), 10 + 2, "two retransmissions, no timeout");
    // One recovery episode: ssthresh halved once (RFC 5681 §3.1: FlightSize / 2).
    assert_eq!(c.congestion().ssthresh(), (10 * MSS / 2) as u32);
    assert_eq!(c.congestion().phase(), Phase::Open);
    let acks = net.sent_by(S, is_pure_ack);
    let last_ack = acks.last().unwrap().0;
    assert_eq!(
        last_ack,
        start + rtt + D,
        "the repair is acknowledged at once"
    );

    let (_, _, start, data) = two_holes(newreno(false));
    let (first, third) = (data[0].1.seq, data[2].1.seq);
    assert_eq!(starts_at(&data, first), [start, start + rtt]);
    assert_eq!(starts_at(&data, third), [start, start + rtt * 2]);
}

// RFC 6675 §5 step C: during recovery a segment is sent only while cwnd - pipe >= 1 SMSS, so
// once recovery has begun, what the sender counts in the network never exceeds cwnd.
#[test]
fn pipe_never_lets_in_flight_exceed_cwnd_during_recovery() {
    for congestion in [Congestion::Cubic, Congestion::NewReno] {
        let client = TcpConfig {
            congestion,
            ..TcpConfig::default()
        };
        let (mut net, ch) = bulk(client, TcpConfig::default());
        net.lose_data(C, &[20, 23, 26, 27, 40]);
        net.send(C, ch, &pattern(0..200 * MSS));
        let mut recoveries = 0;
        let mut was = Phase::Open;
        let mut checked = 0;
        for _ in 0..2000 {
            let before = net.sent_by(C, is_data).len();
            net.run_for(ms(1));
            let sent = net.sent_by(C, is_data).len() > before;
            let c = net.sock(C, ch);
            let phase = c.congestion().phase();
            if phase == Phase::Recovery && was != Phase::Recovery {
                recoveries += 1;
            } else if phase == Phase::Recovery && sent {
                let pipe = c.pipe().unwrap();
                assert!(
                    pipe <= c.congestion().cwnd(),
                    "{congestion:?} at {}: pipe {pipe} > cwnd {}",
                    net.now,
                    c.congestion().cwnd()
                );
                checked += 1;
            }
            was = phase;
        }
        assert!(recoveries >= 1, "{congestion:?}");
        assert!(
            checked > 0,
            "{congestion:?}: no sending during recovery to check"
        );
        let c = net.sock(C, ch);
        assert_eq!(c.snd_una(), c.snd_nxt(), "{congestion:?}: all acknowledged");
    }
}

// RFC 6675 §5.1 with Linux's choice (`tcp_enter_loss` keeps SACKed marks): after a timeout
// the sender resends the first hole and not the segments the peer SACKed.
#[test]
fn after_a_timeout_only_the_holes_are_resent() {
    let (mut net, ch) = bulk(TcpConfig::default(), TcpConfig::default());
    // Segment 0 and its fast retransmission are lost: only the RTO can repair it.
    net.fault_where(
        timewait::net::Fault {
            count: 2,
            ..drop_from(C)
        },
        |s: &Segment| is_data(s) && s.tag.offset == 0,
    );
    let start = net.now;
    net.send(C, ch, &pattern(0..6 * MSS));
    net.run_for(secs(2));
    let data = net.sent_by(C, is_data);
    let first = data[0].1.seq;
    let again = starts_at(&data, first);
    assert_eq!(
        again.len(),
        3,
        "sent, fast-retransmitted, resent on timeout"
    );
    assert_eq!(again[1], start + D * 2);
    assert!(again[2] - again[1] >= ms(200), "by timeout");
    assert_eq!(data.len(), 6 + 2, "segments 1-5 were SACKed: never resent");
    let c = net.sock(C, ch);
    assert_eq!(c.snd_una(), c.snd_nxt());
}
