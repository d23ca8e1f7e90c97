//! Congestion control and delayed ACKs on the wire, one RFC or Linux rule per test, between
//! two stacks joined by a 10 ms one-way delay (no bandwidth limit, so a window leaves at once).

mod common;

use common::pair::*;
use timewait::sim::{Duration, SimTime};
use timewait::tcp::{Congestion, Phase, Segment, SeqNum, TcpConfig};

/// A client with `congestion`, and a server that reads nothing (its window is 64 KiB).
fn bulk(congestion: Congestion) -> (Net, timewait::tcp::SocketHandle) {
    bulk_into(congestion, 65_535)
}

/// The same with the server's receive buffer `rcv_buf` (window scaling above 64 KiB).
/// The client does not offer SACK: these tests are about loss recovery without it (RFC 5681,
/// RFC 6582); tests/sack.rs covers RFC 6675.
fn bulk_into(congestion: Congestion, rcv_buf: u32) -> (Net, timewait::tcp::SocketHandle) {
    let client = TcpConfig {
        congestion,
        sack: false,
        ..TcpConfig::default()
    };
    let server = TcpConfig {
        rcv_buf,
        ..TcpConfig::default()
    };
    let mut net = Net::new(client, server, D);
    let (ch, _) = net.open(None);
    (net, ch)
}

const MSS: usize = 1460;

/// Data segments the client sent at `at`.
fn data_at(net: &Net, at: SimTime) -> Vec<Segment> {
    net.sent_at(C, at).into_iter().filter(is_data).collect()
}

// RFC 6928 §2: IW = min(10 MSS, max(2 MSS, 14600)) = 10 segments of 1460 bytes; slow start
// (RFC 5681 §3.1) then sends two segments per segment acknowledged (byte counting, RFC 3465).
#[test]
fn a_bulk_sender_starts_with_ten_segments_and_doubles_each_round_trip() {
    // The server's 1 MiB buffer never limits the sender.
    for congestion in [Congestion::Cubic, Congestion::NewReno, Congestion::Reno] {
        let (mut net, ch) = bulk_into(congestion, 1 << 20);
        let start = net.now;
        net.send(C, ch, &pattern(0..80 * MSS));
        assert_eq!(data_at(&net, start).len(), 10, "{congestion:?}: IW10");
        assert!(data_at(&net, start).iter().all(|s| s.payload.len() == MSS));
        // Each of the ten is acknowledged at once (quick-ACK mode at the start of a
        // connection), and each ACK lets two more go.
        net.run_for(D * 2);
        assert_eq!(data_at(&net, start + D * 2).len(), 20, "{congestion:?}");
        assert_eq!(net.sock(C, ch).congestion().cwnd(), 20 * MSS as u32);
        // The next 20 are acknowledged by 13 ACKs (6 quick ones left, then one per two
        // segments); each counts what it acknowledges, up to 2 SMSS: 40 segments.
        net.run_for(D * 2);
        assert_eq!(net.sock(C, ch).congestion().cwnd(), 40 * MSS as u32);
    }
    // Without congestion control all of it goes at once.
    let (mut net, ch) = bulk(Congestion::None);
    let start = net.now;
    net.send(C, ch, &pattern(0..40 * MSS));
    assert_eq!(data_at(&net, start).len(), 40);
}

/// Sends `segments` full segments with the data segments numbered in `lost` (from 0) dropped
/// on their first transmission; returns the client's data segments after `wait`.
fn send_losing(
    congestion: Congestion,
    segments: usize,
    lost: &[usize],
    wait: Duration,
) -> (Net, SimTime, Vec<(SimTime, Segment)>) {
    let (mut net, ch) = bulk(congestion);
    let start = net.now;
    net.lose_data(C, lost);
    net.send(C, ch, &pattern(0..segments * MSS));
    net.run_for(wait);
    let data = net.sent_by(C, is_data);
    (net, start, data)
}

fn starts_at(v: &[(SimTime, Segment)], seq: SeqNum) -> Vec<SimTime> {
    v.iter()
        .filter(|(_, s)| s.seq == seq)
        .map(|(t, _)| *t)
        .collect()
}

// RFC 5681 §3.2: the third duplicate ACK, not the second, triggers fast retransmit.
#[test]
fn fast_retransmit_comes_on_the_third_duplicate_ack_not_the_second() {
    // Four segments, the first lost: three duplicates arrive one round trip later.
    let (net, start, data) = send_losing(Congestion::NewReno, 4, &[0], D * 4);
    let first = data[0].1.seq;
    assert_eq!(starts_at(&data, first), [start, start + D * 2]);
    assert_eq!(
        net.sent_by(S, is_pure_ack).len(),
        3 + 1,
        "three duplicates, then the ACK"
    );

    // Three segments, the first lost: two duplicates only, so the RTO resends it.
    let (net, start, data) = send_losing(Congestion::NewReno, 3, &[0], Duration::from_secs(2));
    let first = data[0].1.seq;
    let again = starts_at(&data, first);
    assert_eq!(again.len(), 2);
    assert!(
        again[1] - start >= ms(200),
        "by timeout ({}), not at once",
        again[1] - start
    );
    let _ = net;
}

// RFC 6582 §3.2 step 5: a partial ACK during fast recovery resends the next hole at once;
// Reno (RFC 5681 alone) leaves recovery on it and waits.
#[test]
fn a_newreno_partial_ack_resends_the_next_hole_at_once() {
    let (net, start, data) = send_losing(Congestion::NewReno, 10, &[0, 2], D * 6);
    let third = data[2].1.seq;
    // Lost at `start`, the first is resent on the third duplicate (one RTT), its ACK is
    // partial (it stops at the second hole) and comes back one RTT later.
    assert_eq!(starts_at(&data, third), [start, start + D * 4]);
    let c = net.stacks[C].sockets().next().expect("the client");
    assert_eq!(
        c.congestion().phase(),
        Phase::Open,
        "the full ACK ended recovery"
    );

    let (_, start, data) = send_losing(Congestion::Reno, 10, &[0, 2], D * 6);
    let third = data[2].1.seq;
    assert_eq!(
        starts_at(&data, third),
        [start],
        "Reno has not resent it yet"
    );
}

// RFC 5681 §3.1: after a retransmission timeout cwnd is one segment (the loss window) and
// ssthresh half of what was in flight; slow start then doubles it per round trip.
#[test]
fn a_retransmission_timeout_collapses_the_window_to_one_segment() {
    let (mut net, ch) = bulk(Congestion::NewReno);
    // The whole initial window is lost.
    net.fault_where(
        timewait::net::Fault {
            count: 10,
            ..drop_from(C)
        },
        is_data,
    );
    let start = net.now;
    let rto = net.sock(C, ch).rto();
    net.send(C, ch, &pattern(0..20 * MSS));
    net.run_until(start + rto);
    assert_eq!(
        data_at(&net, start + rto).len(),
        1,
        "one segment at the timeout"
    );
    let cc = net.sock(C, ch).congestion();
    assert_eq!(cc.cwnd(), MSS as u32);
    assert_eq!(
        cc.ssthresh(),
        5 * MSS as u32,
        "half of the 10 segments in flight"
    );
    assert_eq!(cc.phase(), Phase::Loss);
    net.run_until(start + rto + D * 2);
    assert_eq!(data_at(&net, start + rto + D * 2).len(), 2, "then two");
}

// Linux `tcp_fin` (checked on a real kernel): the ACK of a FIN that moves ESTABLISHED to
// CLOSE_WAIT waits for the delayed-ACK timer, 40 ms (TCP_ATO_MIN); if the application closes
// sooner, its FIN carries the ACK. With `delayed_ack = false` the ACK goes at once.
#[test]
fn the_ack_of_a_fin_into_close_wait_waits_40_ms_or_rides_on_our_fin() {
    let cfg = TcpConfig::default();
    let mut net = Net::pair(&cfg);
    let (ch, _) = net.open(None);
    let closed = net.now;
    net.close(C, ch);
    net.run_for(ms(100));
    let acks = net.sent_by(S, is_pure_ack);
    assert_eq!(times(&acks), [closed + D + ms(40)]);

    let mut net = Net::pair(&cfg);
    let (ch, sh) = net.open(None);
    let closed = net.now;
    net.close(C, ch);
    let fin_end = net.sock(C, ch).snd_nxt();
    net.run_until(closed + D + ms(5));
    net.close(S, sh);
    net.run_for(ms(100));
    assert!(net.sent_by(S, is_pure_ack).is_empty(), "no separate ACK");
    let fins = net.sent_by(S, is_fin);
    assert_eq!(times(&fins), [closed + D + ms(5)]);
    assert_eq!(fins[0].1.ack, fin_end, "the FIN acknowledges the FIN");

    let cfg = TcpConfig {
        delayed_ack: false,
        ..TcpConfig::default()
    };
    let mut net = Net::pair(&cfg);
    let (ch, _) = net.open(None);
    let closed = net.now;
    net.close(C, ch);
    net.run_for(ms(100));
    assert_eq!(times(&net.sent_by(S, is_pure_ack)), [closed + D]);
}

// Linux `tcp_incr_quickack`: the first data of a connection grants min(16, window / 2 MSS)
// immediate ACKs (TCP_MAX_QUICKACKS); after them a lone segment's ACK waits for the
// delayed-ACK timer, 40 ms, as RFC 1122 §4.2.3.2 allows (under 500 ms).
#[test]
fn after_sixteen_quick_acks_a_lone_segment_is_acknowledged_after_40_ms() {
    let mut net = Net::pair(&TcpConfig::default());
    let (ch, sh) = net.open(None);
    let start = net.now;
    let mut sent_at = Vec::new();
    for i in 0..18 {
        sent_at.push(net.now);
        net.send(C, ch, &pattern(i * 100..(i + 1) * 100));
        net.run_for(ms(100));
        net.recv(S, sh);
    }
    let acks = times(&net.sent_since(S, start, is_pure_ack));
    let delays: Vec<Duration> = acks
        .iter()
        .zip(&sent_at)
        .map(|(ack, sent)| (*ack - *sent).saturating_sub(D))
        .collect();
    assert_eq!(delays[..16], [Duration::ZERO; 16], "quick ACKs");
    assert_eq!(delays[16..], [ms(40), ms(40)], "then the delayed-ACK timer");
}

// RFC 5681 §4.2: out-of-order data is acknowledged at once (a duplicate ACK), even when
// delayed ACKs would hold an in-order segment.
#[test]
fn out_of_order_data_is_acknowledged_at_once() {
    let mut net = Net::pair(&TcpConfig::default());
    let (ch, sh) = net.open(None);
    // Use up the quick ACKs so that in-order data would wait.
    net.use_up_quick_acks(ch, sh);
    let ahead = forge_data(net.sock(S, sh), 1700..1800);
    let rcv_nxt = net.sock(S, sh).rcv_nxt();
    let reply = net.poke(S, ahead);
    assert_only_ack(&reply, net.sock(S, sh).snd_nxt(), rcv_nxt);
}

// RFC 7323 §2: each SYN offers the shift that fits its receive buffer into 16 bits (1 MiB:
// shift 5), a SYN-ACK answers only a SYN that offered one, and once both did the windows are
// scaled, so more than 64 KiB can be in flight.
#[test]
fn window_scaling_lets_more_than_64_kib_be_in_flight_when_both_ends_offer_it() {
    let (mut net, ch) = bulk_into(Congestion::None, 1 << 20);
    assert_eq!(net.sent_by(C, is_syn)[0].1.wscale, Some(0));
    assert_eq!(net.sent_by(S, is_syn_ack)[0].1.wscale, Some(5));
    let start = net.now;
    net.send(C, ch, &pattern(0..100 * MSS));
    // A SYN's window is never scaled (§2.2): 64 KiB until the first ACK brings the scaled one.
    assert_eq!(data_at(&net, start).len(), 65_535 / MSS + 1);
    net.run_for(D * 2);
    let flying = net.sock(C, ch).snd_nxt().since(net.sock(C, ch).snd_una());
    assert!(flying > 65_535, "{flying} bytes in flight");

    let client = TcpConfig {
        congestion: Congestion::None,
        window_scaling: false,
        ..TcpConfig::default()
    };
    let server = TcpConfig {
        rcv_buf: 1 << 20,
        ..TcpConfig::default()
    };
    let mut net = Net::new(client, server, D);
    let (ch, _) = net.open(None);
    assert_eq!(net.sent_by(C, is_syn)[0].1.wscale, None);
    assert_eq!(
        net.sent_by(S, is_syn_ack)[0].1.wscale,
        None,
        "no answer to no offer"
    );
    net.send(C, ch, &pattern(0..100 * MSS));
    net.run_for(D * 2);
    let flying = net.sock(C, ch).snd_nxt().since(net.sock(C, ch).snd_una());
    assert!(flying <= 65_535, "{flying} bytes in flight");
}

// RFC 6298 §5.7, on the passive side as Linux `tcp_init_transfer` applies it: a server whose
// SYN-ACK timed out (no RTT sample, RTO backed off to 2 s) starts its data at RTO = 3 s.
#[test]
fn a_server_whose_syn_ack_timed_out_starts_data_at_an_rto_of_3_s() {
    // The client waits long enough before resending its SYN that only the server's timer acts.
    let client = TcpConfig {
        rto_initial: secs(5),
        ..TcpConfig::default()
    };
    let mut net = Net::new(client, TcpConfig::default(), D);
    net.fault_where(
        timewait::net::Fault {
            count: 1,
            ..drop_from(S)
        },
        is_syn_ack,
    );
    net.listen(128);
    net.connect(None).expect("connect");
    net.run_for(secs(2));
    let sh = net
        .accept()
        .expect("the handshake completed after the resent SYN-ACK");
    let syn_acks = times(&net.sent_by(S, is_syn_ack));
    assert_eq!(syn_acks.len(), 2, "resent once, by its own timer");
    assert_eq!(syn_acks[1] - syn_acks[0], secs(1));
    net.fault_where(
        timewait::net::Fault {
            count: 1,
            ..drop_from(S)
        },
        is_data,
    );
    let sent = net.now;
    net.send(S, sh, &pattern(0..100));
    net.run_for(secs(5));
    let data = times(&net.sent_by(S, is_data));
    assert_eq!(data, [sent, sent + secs(3)], "3 s, not the backed-off 2 s");
}
