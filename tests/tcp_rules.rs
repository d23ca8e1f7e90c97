//! TCP rules, one test each: RFC 9293 (and the Linux choices `TcpConfig` documents) checked on
//! two `Stack`s joined by a wire with a fixed one-way delay (the harness in `common::pair`).
//! Each test names its rule and cites its source; every expected number is derived from the
//! configuration in the test.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::pair::*;
use timewait::net::Fault;
use timewait::sim::{Duration, SimTime, component_rng};
use timewait::tcp::{
    ConnError, ConnId, ConnRecord, ConnectError, Corruption, Flags, FourTuple, IsnPolicy,
    ListenDropKind, Output, Segment, SeqNum, SocketEvent, SocketHandle, Stack, State,
    SynInTimeWait, TcpConfig, TcpLog, TimerPreset, Timestamps,
};

// ----- 1. Segment acceptability: RFC 9293 §3.10.7.4, the four cases -----

/// Client and server connected; the client wrote `fill` bytes the server has not read. The
/// server answers every unacceptable segment (no `invalid_ratelimit`), so each poke shows its
/// answer.
fn filled(server_rcv_buf: u32, fill: usize) -> (Net, SocketHandle, SocketHandle) {
    filled_with(
        TcpConfig {
            rcv_buf: server_rcv_buf,
            invalid_ratelimit: Duration::ZERO,
            ..TcpConfig::default()
        },
        fill,
    )
}

fn filled_with(server: TcpConfig, fill: usize) -> (Net, SocketHandle, SocketHandle) {
    let mut net = Net::new(TcpConfig::default(), server, D);
    let (ch, sh) = net.open(None);
    if fill > 0 {
        assert_eq!(net.send(C, ch, &pattern(0..fill)), fill);
    }
    net.run_for(ms(50));
    (net, ch, sh)
}

// RFC 9293 §3.10.7.4 row SEG.LEN = 0, RCV.WND = 0: acceptable only if SEG.SEQ = RCV.NXT.
#[test]
fn a_zero_length_segment_into_a_zero_window_is_acceptable_only_at_rcv_nxt() {
    let buf = 1000;
    let (mut net, _, sh) = filled(buf, buf as usize);
    let s = net.sock(S, sh);
    assert_eq!(s.rcv_wnd(), 0, "the unread bytes fill the whole buffer");
    let (rn, sn) = (s.rcv_nxt(), s.snd_nxt());
    assert!(s.acceptable(rn, 0));
    assert!(!s.acceptable(rn + 1, 0));
    assert!(!s.acceptable(rn - 1, 0));

    let at_edge = forge(s, rn, Flags::ACK, vec![]);
    let beyond = forge(s, rn + 1, Flags::ACK, vec![]);
    let behind = forge(s, rn - 1, Flags::ACK, vec![]);
    assert!(
        net.poke(S, at_edge).is_empty(),
        "an acceptable bare ACK needs no answer"
    );
    assert_only_ack(&net.poke(S, beyond), sn, rn);
    assert_only_ack(&net.poke(S, behind), sn, rn);
}

// RFC 9293 §3.10.7.4 row SEG.LEN = 0, RCV.WND > 0: RCV.NXT =< SEG.SEQ < RCV.NXT + RCV.WND.
#[test]
fn a_zero_length_segment_is_acceptable_anywhere_in_an_open_window_and_nowhere_else() {
    let cfg = TcpConfig::default();
    let (mut net, _, sh) = filled(cfg.rcv_buf, 0);
    let s = net.sock(S, sh);
    let wnd = cfg.rcv_buf.min(65_535);
    assert_eq!(s.rcv_wnd(), wnd);
    let (rn, sn) = (s.rcv_nxt(), s.snd_nxt());
    assert!(s.acceptable(rn, 0));
    assert!(s.acceptable(rn + (wnd - 1), 0));
    assert!(!s.acceptable(rn + wnd, 0));
    assert!(!s.acceptable(rn - 1, 0));

    let last_in = forge(s, rn + (wnd - 1), Flags::ACK, vec![]);
    let first_out = forge(s, rn + wnd, Flags::ACK, vec![]);
    let behind = forge(s, rn - 1, Flags::ACK, vec![]);
    assert!(net.poke(S, last_in).is_empty());
    assert_only_ack(&net.poke(S, first_out), sn, rn);
    assert_only_ack(&net.poke(S, behind), sn, rn);
}

// RFC 9293 §3.10.7.4 row SEG.LEN > 0, RCV.WND = 0: never acceptable; the data is not kept.
#[test]
fn data_into_a_zero_window_is_never_acceptable_draws_an_ack_and_is_not_delivered() {
    let buf = 1000;
    let (mut net, _, sh) = filled(buf, buf as usize);
    let s = net.sock(S, sh);
    assert_eq!(s.rcv_wnd(), 0);
    let (rn, sn) = (s.rcv_nxt(), s.snd_nxt());
    assert!(!s.acceptable(rn, 1));
    assert!(!s.acceptable(rn, 10));

    let extra = forge_data(s, buf as usize..buf as usize + 10);
    assert_eq!(extra.seq, rn, "the next bytes, exactly at RCV.NXT");
    let before = net.events_of(S, sh).len();
    assert_only_ack(&net.poke(S, extra), sn, rn);
    let s = net.sock(S, sh);
    assert_eq!(s.rcv_nxt(), rn);
    assert_eq!(s.recv_queue(), buf as usize);
    assert_eq!(
        net.events_of(S, sh).len(),
        before,
        "no Readable for dropped bytes"
    );
    assert_eq!(net.recv(S, sh), pattern(0..buf as usize));
    assert_eq!(net.sock(S, sh).record(net.now).bytes_delivered, buf as u64);
}

/// Bytes 900..1100 arrive ahead of 0..900 at a server whose window is 1000 bytes; returns
/// what the server reads.
fn straddling_the_right_edge(trim_to_window: bool) -> Vec<u8> {
    let buf = 1000usize;
    let server = TcpConfig {
        rcv_buf: buf as u32,
        trim_to_window,
        ..TcpConfig::default()
    };
    let (mut net, _, sh) = filled_with(server, 0);
    let tail = forge_data(net.sock(S, sh), 900..1100);
    net.poke(S, tail);
    let head = forge_data(net.sock(S, sh), 0..900);
    net.poke(S, head);
    assert!(net.corruptions().is_empty());
    net.recv(S, sh)
}

// Linux `tcp_data_queue` (and `tcp_data_queue_ofo`): a segment that starts inside the window is
// queued whole, bytes beyond the right edge included (`trim_to_window = false`).
#[test]
fn data_straddling_the_right_edge_is_queued_whole_as_linux() {
    assert_eq!(straddling_the_right_edge(false), pattern(0..1100));
}

// RFC 9293 §3.10.7.4 row SEG.LEN > 0, RCV.WND > 0, first byte inside the window: acceptable;
// §3.10.7.4 seventh: the part beyond the window is trimmed (`trim_to_window = true`).
#[test]
fn data_starting_inside_the_window_is_accepted_and_trimmed_to_the_window() {
    assert_eq!(straddling_the_right_edge(true), pattern(0..1000));
    let buf = 1000usize;
    let (mut net, _, sh) = filled_with(
        TcpConfig {
            rcv_buf: buf as u32,
            trim_to_window: true,
            ..TcpConfig::default()
        },
        0,
    );
    let s = net.sock(S, sh);
    let rn = s.rcv_nxt();
    assert_eq!(s.rcv_wnd(), buf as u32);
    assert!(
        s.acceptable(rn + (buf as u32 - 1), 2),
        "start inside, end outside"
    );
    assert!(!s.acceptable(rn + buf as u32, 1));

    // Bytes 900..1100 start inside the window [0, 1000) and end beyond it.
    let tail = forge_data(s, 900..1100);
    let reply = net.poke(S, tail);
    assert_only_ack(&reply, net.sock(S, sh).snd_nxt(), rn);
    assert_eq!(
        net.sock(S, sh).recv_queue(),
        0,
        "held out of order, not delivered yet"
    );
    let head = forge_data(net.sock(S, sh), 0..900);
    net.poke(S, head);
    assert_eq!(
        net.recv(S, sh),
        pattern(0..buf),
        "100 bytes beyond the window were trimmed"
    );
    assert!(net.corruptions().is_empty());
}

// RFC 9293 §3.10.7.4 row SEG.LEN > 0, RCV.WND > 0, last byte inside the window: acceptable,
// and only the new bytes join the stream.
#[test]
fn data_ending_inside_the_window_is_accepted_and_only_its_new_bytes_are_delivered() {
    let (mut net, ch, sh) = filled(65_535, 0);
    net.send(C, ch, &pattern(0..100));
    net.run_for(ms(50));
    assert_eq!(net.recv(S, sh), pattern(0..100));
    let s = net.sock(S, sh);
    let rn = s.rcv_nxt();
    assert!(s.acceptable(rn - 50, 100), "end inside");
    assert!(!s.acceptable(rn - 50, 50), "ends just before RCV.NXT");

    let overlap = forge_data(s, 50..150);
    assert_eq!(overlap.seq, rn - 50);
    let reply = net.poke(S, overlap);
    assert_only_ack(&reply, net.sock(S, sh).snd_nxt(), rn + 50);
    assert_eq!(net.recv(S, sh), pattern(100..150));
    assert_eq!(net.sock(S, sh).record(net.now).bytes_delivered, 150);
    assert!(net.corruptions().is_empty());
}

// RFC 9293 §3.10.7.4 row SEG.LEN > 0, RCV.WND > 0, neither end inside: unacceptable, answered
// with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, and dropped.
#[test]
fn data_with_neither_end_inside_the_window_draws_an_ack_and_is_dropped() {
    let (mut net, ch, sh) = filled(65_535, 0);
    net.send(C, ch, &pattern(0..100));
    net.run_for(ms(50));
    assert_eq!(net.recv(S, sh), pattern(0..100));
    let s = net.sock(S, sh);
    let (rn, sn, wnd) = (s.rcv_nxt(), s.snd_nxt(), s.rcv_wnd());
    assert!(!s.acceptable(rn - 100, 100), "wholly old");
    assert!(!s.acceptable(rn + wnd, 10), "wholly beyond");

    let old = forge_data(s, 0..100);
    let beyond = forge(s, rn + wnd, Flags::ACK | Flags::PSH, vec![9; 10]);
    assert_only_ack(&net.poke(S, old), sn, rn);
    assert_only_ack(&net.poke(S, beyond), sn, rn);
    let s = net.sock(S, sh);
    assert_eq!((s.rcv_nxt(), s.recv_queue()), (rn, 0));
    net.run_for(secs(5));
    assert_eq!(
        net.sock(S, sh).recv_queue(),
        0,
        "nothing was held for later either"
    );
}

// RFC 9293 §3.10.7.4 second (RFC 5961 §3.2): a RST outside the window is dropped silently, one
// inside but not at RCV.NXT draws a challenge ACK, and only one exactly at RCV.NXT resets.
#[test]
fn an_established_connection_is_reset_only_by_a_rst_exactly_at_rcv_nxt() {
    let mut net = Net::pair(&TcpConfig::default());
    let (_, sh) = net.open(None);
    let s = net.sock(S, sh);
    let (rn, sn, wnd) = (s.rcv_nxt(), s.snd_nxt(), s.rcv_wnd());
    let outside = forge(s, rn + wnd, Flags::RST, vec![]);
    let inside = forge(s, rn + 1, Flags::RST, vec![]);
    let exact = forge(s, rn, Flags::RST, vec![]);
    assert!(net.poke(S, outside).is_empty());
    assert_only_ack(&net.poke(S, inside), sn, rn);
    assert_eq!(net.sock(S, sh).state, State::Established);
    assert!(net.poke(S, exact).is_empty());
    assert!(net.stacks[S].socket(sh).is_none());
    assert_eq!(
        net.events_of(S, sh).last().copied(),
        Some((net.now, SocketEvent::Reset))
    );
}

// RFC 9293 §3.10.7.4 second: with RFC 5961 protection the three RST checks apply in LAST_ACK
// too; only an exact RST ends it (early, so the application learns of a reset).
#[test]
fn last_ack_is_ended_only_by_a_rst_exactly_at_rcv_nxt() {
    let mut net = Net::pair(&TcpConfig::default());
    let (ch, sh) = net.open(None);
    let sc = net.sock(S, sh).conn;
    net.close(C, ch);
    net.run_for(ms(50));
    net.fault(Fault {
        flags: Some(Flags::ACK.bits()),
        len: Some(0),
        ..drop_from(C)
    });
    net.close(S, sh);
    net.run_for(D * 2);
    let s = net.sock(S, sh);
    assert_eq!(s.state, State::LastAck);
    let (rn, sn, wnd) = (s.rcv_nxt(), s.snd_nxt(), s.rcv_wnd());
    let outside = forge(s, rn + wnd, Flags::RST, vec![]);
    let inside = forge(s, rn + 1, Flags::RST, vec![]);
    let exact = forge(s, rn, Flags::RST, vec![]);
    assert!(net.poke(S, outside).is_empty());
    assert_only_ack(&net.poke(S, inside), sn, rn);
    assert_eq!(net.sock(S, sh).state, State::LastAck);
    assert!(net.poke(S, exact).is_empty());
    assert_eq!(
        net.transitions(S, sc).last().copied(),
        Some((net.now, State::LastAck, State::Closed, "RST received"))
    );
    assert_eq!(net.record(S, sc).error, Some(ConnError::Reset));
}

// RFC 9293 §3.10.7.4 fourth (RFC 5961 §4): a SYN on a synchronized connection, in the window or
// not, draws a challenge ACK and changes nothing.
#[test]
fn a_syn_on_an_established_connection_draws_a_challenge_ack() {
    // Without Linux's per-socket limit, so the second challenge is sent too.
    let mut net = Net::pair(&TcpConfig {
        invalid_ratelimit: Duration::ZERO,
        ..TcpConfig::default()
    });
    let (_, sh) = net.open(None);
    let s = net.sock(S, sh);
    let (rn, sn) = (s.rcv_nxt(), s.snd_nxt());
    let in_window = forge(s, rn + 5, Flags::SYN, vec![]);
    let old = forge(s, rn - 1000, Flags::SYN, vec![]);
    assert_only_ack(&net.poke(S, in_window), sn, rn);
    assert_only_ack(&net.poke(S, old), sn, rn);
    let s = net.sock(S, sh);
    assert_eq!(
        (s.state, s.rcv_nxt(), s.snd_nxt()),
        (State::Established, rn, sn)
    );
}

// ----- 2. TIME_WAIT and the lost final ACK -----

/// The client closes at 1 s, the server at 2 s; the client's ACK of the server's FIN is lost.
struct LostFinalAck {
    net: Net,
    client: ConnId,
    server: ConnId,
    tuple: FourTuple,
    /// When the server sent its FIN.
    fin_at: SimTime,
    /// The server's RTO when it sent its FIN.
    rto: Duration,
    delay: Duration,
}

fn lose_the_final_ack(client: TcpConfig) -> LostFinalAck {
    // 100 ms each way keeps the RTO above Linux's 200 ms floor, so the RFC 6298 formula shows.
    let delay = ms(100);
    let server = TcpConfig::default();
    let mut net = Net::new(client, server.clone(), delay);
    let (ch, sh) = net.open(None);
    let (cc, sc, tuple) = (
        net.sock(C, ch).conn,
        net.sock(S, sh).conn,
        net.sock(C, ch).tuple,
    );
    // The server's only RTT sample is its SYN-ACK: one round trip.
    let rto = rto_after_first_sample(&server, delay * 2);
    assert_eq!(net.sock(S, sh).rto(), rto);
    net.run_until(t(secs(1)));
    net.close(C, ch);
    net.run_until(t(ms(1500)));
    assert_eq!(net.sock(C, ch).state, State::FinWait2);
    assert_eq!(net.sock(S, sh).state, State::CloseWait);
    net.fault(Fault {
        flags: Some(Flags::ACK.bits()),
        len: Some(0),
        count: 1,
        ..drop_from(C)
    });
    net.run_until(t(secs(2)));
    net.close(S, sh);
    LostFinalAck {
        net,
        client: cc,
        server: sc,
        tuple,
        fin_at: t(secs(2)),
        rto,
        delay,
    }
}

// RFC 9293 §3.10.7.4 TIME-WAIT: "The only thing that can arrive in this state is a
// retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."
#[test]
fn a_fin_retransmitted_into_time_wait_is_reacked_and_restarts_the_2msl_timer() {
    let cfg = TcpConfig::default();
    let mut x = lose_the_final_ack(cfg.clone());
    let d = x.delay;
    let first_fin = x.fin_at + d;
    x.net.run_until(first_fin);
    assert_eq!(x.net.entered(C, x.client, State::TimeWait), Some(first_fin));
    assert_eq!(
        x.net.time_wait_expiry(C, &x.tuple),
        Some(first_fin + cfg.time_wait)
    );
    let (tw_snd, tw_rcv) = {
        let (tw, _) = x.net.stacks[C]
            .time_wait()
            .get(&x.tuple)
            .expect("TIME_WAIT");
        (tw.snd_nxt, tw.rcv_nxt)
    };
    let lost = only(x.net.sent_at(C, first_fin));
    assert!(x.net.sent.iter().any(|s| s.at == first_fin && s.dropped));

    let second_fin = x.fin_at + x.rto + d;
    x.net.run_until(second_fin);
    let reack = only(x.net.sent_at(C, second_fin));
    assert_only_ack(std::slice::from_ref(&reack), tw_snd, tw_rcv);
    assert_eq!(
        (reack.seq, reack.ack),
        (lost.seq, lost.ack),
        "the same ACK again"
    );
    assert_eq!(
        x.net.time_wait_expiry(C, &x.tuple),
        Some(second_fin + cfg.time_wait)
    );

    // Past the first FIN's 2MSL, TIME_WAIT still holds; it ends 2MSL after the second.
    x.net.run_until(first_fin + cfg.time_wait + ms(1));
    assert!(x.net.time_wait_expiry(C, &x.tuple).is_some());
    x.net.run_until(second_fin + cfg.time_wait + secs(1));
    assert_eq!(
        x.net.time_wait_end(C, x.client),
        Some((second_fin + cfg.time_wait, "2MSL expired"))
    );
}

// RFC 9293 §3.10.7.4 LAST-ACK and RFC 6298 §5: the unacknowledged FIN is retransmitted when its
// RTO expires; the re-ACK from TIME_WAIT closes the passive side normally.
#[test]
fn the_last_ack_side_retransmits_its_fin_after_its_rto_and_closes_on_the_reack() {
    let mut x = lose_the_final_ack(TcpConfig::default());
    let d = x.delay;
    x.net.run_until(x.fin_at + secs(10));
    let fins = x.net.sent_by(S, is_fin);
    assert_eq!(times(&fins), [x.fin_at, x.fin_at + x.rto]);
    assert_eq!(fins[0].1.seq, fins[1].1.seq);
    assert!(!fins[0].1.tag.retransmission && fins[1].1.tag.retransmission);
    let closed = x.fin_at + x.rto + d * 2;
    assert_eq!(
        x.net.transitions(S, x.server).last().copied(),
        Some((closed, State::LastAck, State::Closed, "ACK of FIN"))
    );
    let rec = x.net.record(S, x.server);
    assert_eq!((rec.error, rec.retransmissions), (None, 1));
    assert!(x.net.sent_by(C, is_rst).is_empty());
    assert!(x.net.events.iter().all(|e| e.3 != SocketEvent::Reset));
}

// REFERENCE "If the final ACK is lost" / RFC 9293 §3.10.7.1: without TIME_WAIT the
// retransmitted FIN meets no connection and is answered <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn without_time_wait_the_retransmitted_fin_meets_no_socket_and_draws_a_reset() {
    let client = TcpConfig {
        time_wait: Duration::ZERO,
        ..TcpConfig::default()
    };
    let mut x = lose_the_final_ack(client);
    let d = x.delay;
    x.net.run_until(x.fin_at + secs(10));
    assert_eq!(
        x.net.time_wait_end(C, x.client),
        Some((x.fin_at + d, "time_wait = 0s"))
    );
    assert!(x.net.stacks[C].time_wait().is_empty());
    let second_fin = x.fin_at + x.rto + d;
    let fin = x.net.sent_by(S, is_fin)[1].1.clone();
    let rst = only(x.net.sent_at(C, second_fin));
    assert_eq!((rst.flags, rst.seq), (Flags::RST, fin.ack));
    assert_eq!(
        x.net.transitions(S, x.server).last().copied(),
        Some((
            second_fin + d,
            State::LastAck,
            State::Closed,
            "RST received"
        ))
    );
}

// ----- 3. A SYN for a 4-tuple in TIME_WAIT -----

/// The server closed first, so it holds TIME_WAIT for (server:80, client:CPORT).
struct ServerTw {
    net: Net,
    /// The 4-tuple, from the server's side.
    tuple: FourTuple,
    old_client: ConnRecord,
    old_server: ConnRecord,
    /// When the server entered TIME_WAIT.
    since: SimTime,
    /// Old SND.NXT and RCV.NXT of the server's incarnation.
    snd_nxt: SeqNum,
    rcv_nxt: SeqNum,
}

/// The client writes 100 bytes and the server 50; the server closes at 100 ms, the client at
/// 200 ms, so the server enters TIME_WAIT when the client's FIN lands at 200 ms + D.
fn server_holds_time_wait(client: TcpConfig, server: TcpConfig) -> ServerTw {
    let mut net = Net::new(client, server, D);
    let (ch, sh) = net.open(Some(CPORT));
    net.send(C, ch, &pattern(0..100));
    net.send(S, sh, &pattern(0..50));
    net.run_until(t(ms(50)));
    assert_eq!(net.recv(S, sh).len(), 100);
    assert_eq!(net.recv(C, ch).len(), 50);
    net.run_until(t(ms(100)));
    net.close(S, sh);
    net.run_until(t(ms(200)));
    net.close(C, ch);
    let (cc, sc, tuple) = (
        net.sock(C, ch).conn,
        net.sock(S, sh).conn,
        net.sock(S, sh).tuple,
    );
    net.run_until(t(ms(300)));
    let since = t(ms(200)) + D;
    assert_eq!(net.entered(S, sc, State::TimeWait), Some(since));
    let old_client = net.record(C, cc);
    let old_server = net.record(S, sc);
    let (tw, _) = net.stacks[S]
        .time_wait()
        .get(&tuple)
        .expect("server in TIME_WAIT");
    // SYN, the bytes and the FIN each side sent.
    assert_eq!(tw.rcv_nxt, old_client.iss + 1 + 100 + 1);
    assert_eq!(tw.snd_nxt, old_server.iss + 1 + 50 + 1);
    let (snd_nxt, rcv_nxt) = (tw.snd_nxt, tw.rcv_nxt);
    ServerTw {
        net,
        tuple,
        old_client,
        old_server,
        since,
        snd_nxt,
        rcv_nxt,
    }
}

/// At 1 s the client connects again from the same port: (its socket, its SYN, the server's
/// reply one delay later).
fn reconnect(tw: &mut ServerTw) -> (SocketHandle, Segment, Vec<Segment>) {
    let at = t(secs(1));
    tw.net.run_until(at);
    let ch = tw
        .net
        .connect(Some(CPORT))
        .expect("the client's side is CLOSED");
    let syn = only(tw.net.sent_at(C, at));
    assert!(is_syn(&syn));
    tw.net.run_until(at + D);
    (ch, syn, tw.net.sent_at(S, at + D))
}

/// RFC 793's 4 us ISN clock: 250,000 ticks a second, so a SYN sent 1 s after the first one
/// lands far above the old RCV.NXT.
fn client_syn_above() -> TcpConfig {
    TcpConfig {
        isn: IsnPolicy::Rfc793Clock,
        ..TcpConfig::default()
    }
}

/// A fixed ISN: the new SYN repeats the old ISS, below the old RCV.NXT.
fn client_syn_below() -> TcpConfig {
    TcpConfig {
        isn: IsnPolicy::Fixed(1000),
        ..TcpConfig::default()
    }
}

fn server_policy(p: SynInTimeWait) -> TcpConfig {
    TcpConfig {
        syn_in_time_wait: p,
        ..TcpConfig::default()
    }
}

fn assert_syn_above(tw: &ServerTw, syn: &Segment) {
    assert_eq!(
        syn.seq,
        tw.old_client.iss + 250_000,
        "one second of the 4 us clock"
    );
    assert!(syn.seq > tw.rcv_nxt);
}

fn assert_syn_below(tw: &ServerTw, syn: &Segment) {
    assert_eq!(syn.seq, tw.old_client.iss);
    assert!(syn.seq < tw.rcv_nxt);
}

// RFC 9293 §3.10.7.4 (MAY-2 not taken) with RFC 5961 §4: a SYN in TIME_WAIT, above or below the
// old RCV.NXT, draws a challenge ACK and never reopens; the port opens only once 2MSL is over.
#[test]
fn rfc9293_a_syn_in_time_wait_draws_a_challenge_ack_and_never_reopens_it() {
    for (client, above) in [(client_syn_above(), true), (client_syn_below(), false)] {
        // The client resends its SYN on its timer alone (RFC 9293 §3.10.7.3, not Linux's
        // quick resend after a RST), so its SYNs follow the plain backoff schedule.
        let client = TcpConfig {
            quick_syn_resend: false,
            ..client
        };
        // rfc1337 keeps the client's RST (its answer to the challenge ACK) from ending
        // TIME_WAIT, so only the SYN rule is at work.
        let server = TcpConfig {
            rfc1337: true,
            ..server_policy(SynInTimeWait::Rfc9293)
        };
        let mut tw = server_holds_time_wait(client.clone(), server.clone());
        let (ch, syn, reply) = reconnect(&mut tw);
        if above {
            assert_syn_above(&tw, &syn);
        } else {
            assert_syn_below(&tw, &syn);
        }
        assert_only_ack(&reply, tw.snd_nxt, tw.rcv_nxt);
        assert!(tw.net.time_wait_expiry(S, &tw.tuple).is_some());
        assert_eq!(tw.net.stacks[S].sockets().count(), 0, "no new incarnation");

        // Every retransmitted SYN meets TIME_WAIT until it expires; the first one after that
        // reaches the listener.
        let end = tw.since + server.time_wait;
        let (syns, _) = backoff_schedule(
            t(secs(1)),
            client.rto_initial,
            client.rto_max,
            client.syn_retries,
        );
        let opener = *syns
            .iter()
            .find(|&&s| s + D > end)
            .expect("a SYN after TIME_WAIT");
        tw.net.run_until(opener + D * 3);
        assert_eq!(
            tw.net.time_wait_end(S, tw.old_server.conn),
            Some((end, "2MSL expired"))
        );
        let reconnect_at = t(secs(1));
        assert_eq!(
            times(&tw.net.sent_since(S, reconnect_at, is_syn_ack)),
            [opener + D]
        );
        let challenges = tw.net.sent_since(S, reconnect_at, is_pure_ack);
        assert_eq!(
            challenges.len(),
            syns.iter().filter(|&&s| s + D < end).count()
        );
        assert_eq!(
            tw.net.events_of(C, ch),
            [(opener + D * 2, SocketEvent::Connected)]
        );
    }
}

// RFC 1122 §4.2.2.13: a SYN above the old RCV.NXT may reopen TIME_WAIT if the new ISS is above
// the old SND.NXT (here the fixed generator would repeat the old ISS, so it is raised).
#[test]
fn rfc1122_a_syn_above_the_old_rcv_nxt_reopens_with_an_iss_above_the_old_snd_nxt() {
    let server = TcpConfig {
        isn: IsnPolicy::Fixed(5000),
        ..server_policy(SynInTimeWait::Rfc1122)
    };
    let mut tw = server_holds_time_wait(client_syn_above(), server);
    let (ch, syn, reply) = reconnect(&mut tw);
    assert_syn_above(&tw, &syn);
    let syn_ack = only(reply);
    assert!(is_syn_ack(&syn_ack));
    assert_eq!(tw.old_server.iss, SeqNum(5000));
    assert_eq!(syn_ack.seq, tw.snd_nxt + 1);
    assert_eq!(syn_ack.ack, syn.seq + 1);
    let at = t(secs(1)) + D;
    assert_eq!(
        tw.net.time_wait_end(S, tw.old_server.conn),
        Some((at, "SYN opens a new incarnation"))
    );
    tw.net.run_until(at + D * 2);
    assert_eq!(tw.net.events_of(C, ch), [(at + D, SocketEvent::Connected)]);
}

// RFC 1122 §4.2.2.13: only a SYN above the old RCV.NXT may reopen; one below is challenged
// (RFC 5961 §4) and TIME_WAIT stays.
#[test]
fn rfc1122_a_syn_below_the_old_rcv_nxt_is_challenged_and_time_wait_stays() {
    let mut tw = server_holds_time_wait(client_syn_below(), server_policy(SynInTimeWait::Rfc1122));
    let (_, syn, reply) = reconnect(&mut tw);
    assert_syn_below(&tw, &syn);
    assert_only_ack(&reply, tw.snd_nxt, tw.rcv_nxt);
    assert_eq!(
        tw.net.time_wait_expiry(S, &tw.tuple),
        Some(tw.since + tw.net.stacks[S].config().time_wait),
        "still held, timer untouched"
    );
    assert_eq!(tw.net.stacks[S].sockets().count(), 0);
}

// Linux tcp_timewait_state_process: a SYN after RCV.NXT reopens TIME_WAIT with
// ISS = tw_snd_nxt + 65535 + 2.
#[test]
fn linux_a_syn_above_rcv_nxt_reopens_time_wait_with_iss_old_snd_nxt_plus_65537() {
    let mut tw = server_holds_time_wait(client_syn_above(), server_policy(SynInTimeWait::Linux));
    let (ch, syn, reply) = reconnect(&mut tw);
    assert_syn_above(&tw, &syn);
    let syn_ack = only(reply);
    assert!(is_syn_ack(&syn_ack));
    assert_eq!(syn_ack.seq, tw.old_server.iss + 1 + 50 + 1 + 65_537);
    tw.net.run_until(t(secs(2)));
    assert_eq!(
        tw.net.events_of(C, ch),
        [(t(secs(1)) + D * 2, SocketEvent::Connected)]
    );
}

// Linux tcp_timewait_state_process: a SYN at or below RCV.NXT gets an ACK and TIME_WAIT stays;
// the client (SYN_SENT, RFC 9293 §3.10.7.3) answers that ACK with RST <SEQ=SEG.ACK>, which is
// exactly RCV.NXT, so without rfc1337 it ends TIME_WAIT; the client resends its SYN 2 ms after
// its RST (Linux tcp_rcv_synsent_state_process, TCP_TIMEOUT_MIN), which then connects.
#[test]
fn linux_a_syn_below_rcv_nxt_is_acked_and_the_clients_reset_then_ends_time_wait() {
    let client = client_syn_below();
    let mut tw = server_holds_time_wait(client.clone(), server_policy(SynInTimeWait::Linux));
    let (ch, syn, reply) = reconnect(&mut tw);
    assert_syn_below(&tw, &syn);
    assert_only_ack(&reply, tw.snd_nxt, tw.rcv_nxt);
    assert!(tw.net.time_wait_expiry(S, &tw.tuple).is_some());

    let at = t(secs(1));
    tw.net.run_until(at + secs(3));
    let rst = only(tw.net.sent_at(C, at + D * 2));
    assert_eq!((rst.flags, rst.seq), (Flags::RST, tw.rcv_nxt));
    assert_eq!(
        tw.net.time_wait_end(S, tw.old_server.conn),
        Some((at + D * 3, "RST received"))
    );
    assert!(client.quick_syn_resend);
    let retry = at + D * 2 + Duration::from_millis(2);
    assert_eq!(times(&tw.net.sent_since(S, at, is_syn_ack)), [retry + D]);
    assert_eq!(
        tw.net.events_of(C, ch),
        [(retry + D * 2, SocketEvent::Connected)]
    );
}

fn rfc6191_pair() -> (TcpConfig, TcpConfig) {
    let client = TcpConfig {
        timestamps: true,
        ..client_syn_below()
    };
    let server = TcpConfig {
        timestamps: true,
        ..server_policy(SynInTimeWait::Rfc6191)
    };
    (client, server)
}

// RFC 6191 §2: with timestamps, a SYN whose TSval is newer than the last one seen reopens
// TIME_WAIT, even with a sequence number below the old RCV.NXT.
#[test]
fn rfc6191_a_syn_with_a_newer_timestamp_reopens_time_wait_even_below_rcv_nxt() {
    let (client, server) = rfc6191_pair();
    let mut tw = server_holds_time_wait(client, server);
    let ts_recent = tw.net.stacks[S]
        .time_wait()
        .get(&tw.tuple)
        .expect("TW")
        .0
        .ts_recent;
    let (ch, syn, reply) = reconnect(&mut tw);
    assert_syn_below(&tw, &syn);
    let tsval = syn.timestamps.expect("timestamps offered").tsval;
    assert!(
        tsval.wrapping_sub(ts_recent) as i32 > 0,
        "the new SYN's clock is later"
    );
    assert!(is_syn_ack(&only(reply)));
    let at = t(secs(1)) + D;
    assert_eq!(
        tw.net.time_wait_end(S, tw.old_server.conn),
        Some((at, "SYN opens a new incarnation"))
    );
    tw.net.run_until(at + secs(1));
    assert_eq!(tw.net.events_of(C, ch), [(at + D, SocketEvent::Connected)]);
}

// RFC 7323 §5.4 (Linux since 4.13: one offset per host pair): the TIME_WAIT record keeps the
// clock its connection ran on, so the ACK it sends an old duplicate carries the TSval the
// socket would have sent then (its last TSval plus the milliseconds since) and echoes TS.Recent.
#[test]
fn a_time_wait_ack_runs_on_its_connections_timestamp_clock() {
    let ts = |c: TcpConfig| TcpConfig {
        timestamps: true,
        ..c
    };
    let mut tw = server_holds_time_wait(ts(TcpConfig::default()), ts(TcpConfig::default()));
    let (last_at, last) = tw.net.sent_by(S, |_| true).pop().expect("the server sent");
    let last = last.timestamps.expect("timestamps on");
    let ms = |at: SimTime| (at.as_nanos() / 1_000_000) as u32;
    let old = tw.net.sent_by(C, is_data)[0].1.clone();
    tw.net.run_until(t(secs(1)));
    let ack = only(tw.net.poke(S, old));
    assert_eq!(
        (ack.flags, ack.seq, ack.ack),
        (Flags::ACK, tw.snd_nxt, tw.rcv_nxt)
    );
    let echoed = tw.net.stacks[S]
        .time_wait()
        .get(&tw.tuple)
        .expect("TIME_WAIT stays")
        .0
        .ts_recent;
    assert_eq!(
        ack.timestamps,
        Some(Timestamps {
            tsval: last.tsval.wrapping_add(ms(tw.net.now) - ms(last_at)),
            tsecr: echoed,
        })
    );
}

// RFC 6191 §2: with timestamps, a SYN with an older TSval, or an equal one and a SEQ not above
// the old RCV.NXT, is silently dropped and TIME_WAIT stays; equal TSval and a higher SEQ reopens.
#[test]
fn rfc6191_a_syn_with_an_old_timestamp_is_silently_dropped() {
    let (client, server) = rfc6191_pair();
    let mut tw = server_holds_time_wait(client, server);
    // TS.Recent is the TSval of the client's FIN, the last segment the server took in.
    let fin = tw.net.sent_by(C, is_fin)[0].1.clone();
    let recent = fin.timestamps.expect("timestamps on").tsval;
    let expiry = tw.net.time_wait_expiry(S, &tw.tuple);
    assert_eq!(
        tw.net.stacks[S]
            .time_wait()
            .get(&tw.tuple)
            .expect("TW")
            .0
            .ts_recent,
        recent
    );

    let syn = |seq: SeqNum, tsval: u32| Segment {
        src_port: CPORT,
        dst_port: PORT,
        seq,
        flags: Flags::SYN,
        window: 65_535,
        mss: Some(1460),
        timestamps: Some(Timestamps { tsval, tsecr: 0 }),
        ..Segment::default()
    };
    let older_ts_higher_seq = syn(tw.rcv_nxt + 1000, recent.wrapping_sub(1));
    let same_ts_lower_seq = syn(tw.rcv_nxt - 10, recent);
    assert!(tw.net.poke(S, older_ts_higher_seq).is_empty());
    assert!(tw.net.poke(S, same_ts_lower_seq).is_empty());
    assert_eq!(
        tw.net.time_wait_expiry(S, &tw.tuple),
        expiry,
        "TIME_WAIT untouched"
    );

    let same_ts_higher_seq = syn(tw.rcv_nxt + 1000, recent);
    let reply = tw.net.poke(S, same_ts_higher_seq);
    assert!(is_syn_ack(&only(reply)));
    assert_eq!(tw.net.time_wait_expiry(S, &tw.tuple), None);
}

// ----- 4. RST and old duplicates in TIME_WAIT (RFC 1337) -----

/// The client holds TIME_WAIT.
struct ClientTw {
    net: Net,
    /// The 4-tuple from the client's side.
    tuple: FourTuple,
    conn: ConnId,
    since: SimTime,
    /// The server's 100-byte data segment, to replay as an old duplicate.
    old_data: Segment,
    snd_nxt: SeqNum,
    rcv_nxt: SeqNum,
}

/// The server writes 100 bytes at 3D; the client closes at 100 ms and the server at 200 ms, so
/// the client enters TIME_WAIT at 200 ms + D.
fn client_holds_time_wait(client: TcpConfig) -> ClientTw {
    let mut net = Net::new(client, TcpConfig::default(), D);
    let (ch, sh) = net.open(None);
    net.send(S, sh, &pattern(0..100));
    net.run_until(t(ms(50)));
    assert_eq!(net.recv(C, ch), pattern(0..100));
    net.run_until(t(ms(100)));
    net.close(C, ch);
    net.run_until(t(ms(200)));
    net.close(S, sh);
    let (conn, tuple) = (net.sock(C, ch).conn, net.sock(C, ch).tuple);
    net.run_until(t(ms(300)));
    let since = t(ms(200)) + D;
    assert_eq!(net.entered(C, conn, State::TimeWait), Some(since));
    let old_data = only(net.sent_by(S, is_data)).1;
    let (tw, _) = net.stacks[C]
        .time_wait()
        .get(&tuple)
        .expect("client in TIME_WAIT");
    let (snd_nxt, rcv_nxt) = (tw.snd_nxt, tw.rcv_nxt);
    ClientTw {
        net,
        tuple,
        conn,
        since,
        old_data,
        snd_nxt,
        rcv_nxt,
    }
}

/// `<SEQ=seq><CTL=RST>` from the server's port to the client's.
fn rst_to(tuple: &FourTuple, seq: SeqNum) -> Segment {
    Segment {
        src_port: tuple.remote.port(),
        dst_port: tuple.local.port(),
        seq,
        flags: Flags::RST,
        ..Segment::default()
    }
}

// RFC 9293 §3.10.7.4 TIME-WAIT, RST: close (RFC 1337 "assassination"; Linux tcp_rfc1337 = 0).
#[test]
fn without_rfc1337_an_in_window_rst_ends_time_wait_at_once() {
    let mut tw = client_holds_time_wait(TcpConfig::default());
    tw.net.run_until(t(secs(1)));
    let reply = tw.net.poke(C, rst_to(&tw.tuple, tw.rcv_nxt));
    assert!(reply.is_empty(), "never a reset for a reset");
    assert_eq!(
        tw.net.time_wait_end(C, tw.conn),
        Some((tw.net.now, "RST received"))
    );
    assert!(tw.net.stacks[C].time_wait().is_empty());
}

// RFC 1337 fix F1 (Linux tcp_rfc1337 = 1): ignore RST in TIME_WAIT, which lasts its full 2MSL.
#[test]
fn with_rfc1337_an_rst_in_time_wait_is_ignored_and_time_wait_lasts_its_full_time() {
    let client = TcpConfig {
        rfc1337: true,
        ..TcpConfig::default()
    };
    let mut tw = client_holds_time_wait(client.clone());
    tw.net.run_until(t(secs(1)));
    assert!(tw.net.poke(C, rst_to(&tw.tuple, tw.rcv_nxt)).is_empty());
    let end = tw.since + client.time_wait;
    assert_eq!(tw.net.time_wait_expiry(C, &tw.tuple), Some(end));
    tw.net.run_until(end + secs(1));
    assert_eq!(
        tw.net.time_wait_end(C, tw.conn),
        Some((end, "2MSL expired"))
    );
}

// RFC 1337 hazard: an old duplicate makes TIME_WAIT send an ACK (RFC 9293 §3.10.7.4), the CLOSED
// peer answers RST <SEQ=SEG.ACK> (§3.10.7.1), and that RST, exactly at RCV.NXT, ends TIME_WAIT.
#[test]
fn an_old_duplicate_in_time_wait_draws_an_ack_whose_reset_assassinates_time_wait() {
    let mut tw = client_holds_time_wait(TcpConfig::default());
    tw.net.run_until(t(secs(1)));
    let old = tw.old_data.clone();
    assert!(old.seq < tw.rcv_nxt);
    let reply = tw.net.poke(C, old);
    assert_only_ack(&reply, tw.snd_nxt, tw.rcv_nxt);
    let at = tw.net.now;
    tw.net.run_until(at + D * 3);
    let rst = only(tw.net.sent_at(S, at + D));
    assert_eq!((rst.flags, rst.seq), (Flags::RST, tw.rcv_nxt));
    assert_eq!(
        tw.net.time_wait_end(C, tw.conn),
        Some((at + D * 2, "RST received"))
    );
}

// RFC 1337 F1 (Linux tcp_rfc1337 = 1): the old duplicate is still ACKed but the reset is
// ignored; the ACK-bearing duplicate restarts TIME_WAIT (Linux tcp_timewait_state_process).
#[test]
fn with_rfc1337_an_old_duplicate_is_acked_but_its_reset_does_not_end_time_wait() {
    let client = TcpConfig {
        rfc1337: true,
        ..TcpConfig::default()
    };
    let mut tw = client_holds_time_wait(client.clone());
    tw.net.run_until(t(secs(1)));
    let old = tw.old_data.clone();
    assert_only_ack(&tw.net.poke(C, old), tw.snd_nxt, tw.rcv_nxt);
    let at = tw.net.now;
    tw.net.run_until(at + client.time_wait + secs(1));
    assert!(is_rst(&only(tw.net.sent_at(S, at + D))));
    assert_eq!(
        tw.net.time_wait_end(C, tw.conn),
        Some((at + client.time_wait, "2MSL expired"))
    );
}

// ----- 5. Simultaneous open and close -----

// RFC 9293 §3.5 figure 7: SYNs cross; each side goes SYN_SENT -> SYN_RCVD -> ESTABLISHED.
#[test]
fn a_simultaneous_open_goes_through_syn_rcvd_to_established_on_both_sides() {
    let cfg = TcpConfig::default();
    let mut net = Net::pair(&cfg);
    let ends = [
        SocketAddrV4::new(ADDR[C], 5000),
        SocketAddrV4::new(ADDR[S], 6000),
    ];
    let ch = net.connect_from(C, Some(5000), ends[S]).expect("connect");
    let sh = net.connect_from(S, Some(6000), ends[C]).expect("connect");
    net.run_until(t(ms(500)));
    for (host, h) in [(C, ch), (S, sh)] {
        let conn = net.sock(host, h).conn;
        let path: Vec<_> = net
            .transitions(host, conn)
            .into_iter()
            .map(|tr| (tr.0, tr.2))
            .collect();
        assert_eq!(
            path,
            [
                (t(ms(0)), State::SynSent),
                (t(D), State::SynReceived),
                (t(D * 2), State::Established)
            ]
        );
        assert_eq!(net.events_of(host, h), [(t(D * 2), SocketEvent::Connected)]);
        assert_eq!(net.sent_by(host, is_syn_ack).len(), 1);
        assert_eq!(net.sock(host, h).record(net.now).retransmissions, 0);
    }
    assert!(net.sent.iter().all(|s| !is_rst(&s.seg)));
    net.send(C, ch, &pattern(0..10));
    net.send(S, sh, &pattern(0..20));
    net.run_for(ms(100));
    assert_eq!(net.recv(S, sh), pattern(0..10));
    assert_eq!(net.recv(C, ch), pattern(0..20));
}

// RFC 9293 §3.6 figure 13: FINs cross; each side goes FIN_WAIT_1 -> CLOSING -> TIME_WAIT.
#[test]
fn a_simultaneous_close_goes_through_closing_to_time_wait_on_both_sides() {
    let cfg = TcpConfig::default();
    let mut net = Net::pair(&cfg);
    let (ch, sh) = net.open(None);
    let conns = [net.sock(C, ch).conn, net.sock(S, sh).conn];
    let tuples = [net.sock(C, ch).tuple, net.sock(S, sh).tuple];
    let at = t(secs(1));
    net.run_until(at);
    net.close(C, ch);
    net.close(S, sh);
    net.run_until(at + secs(1));
    for host in [C, S] {
        let tail: Vec<_> = net
            .transitions(host, conns[host])
            .into_iter()
            .filter(|tr| tr.0 >= at)
            .map(|tr| (tr.0, tr.1, tr.2))
            .collect();
        assert_eq!(
            tail,
            [
                (at, State::Established, State::FinWait1),
                (at + D, State::FinWait1, State::Closing),
                (at + D * 2, State::Closing, State::TimeWait)
            ]
        );
        assert_eq!(
            net.time_wait_expiry(host, &tuples[host]),
            Some(at + D * 2 + cfg.time_wait)
        );
    }
    net.run_until(at + D * 2 + cfg.time_wait);
    for host in [C, S] {
        assert_eq!(
            net.time_wait_end(host, conns[host]),
            Some((at + D * 2 + cfg.time_wait, "2MSL expired"))
        );
    }
}

// ----- 6. Retransmission timeouts -----

// Linux tcp_syn_retries = 6 with RFC 6298 §5.5 doubling from a 1 s initial RTO: SYNs at 0, 1,
// 3, 7, 15, 31, 63 s, and connect fails at 127 s.
#[test]
fn unanswered_syns_go_at_1_3_7_15_31_63_s_and_connect_times_out_at_127_s() {
    let cfg = TcpConfig::default();
    let mut net = Net::pair(&cfg);
    net.listen(128);
    net.fault(drop_from(C));
    let ch = net.connect(None).expect("connect");
    let conn = net.sock(C, ch).conn;
    net.run_until(t(secs(300)));
    let (sends, give_up) =
        backoff_schedule(SimTime::ZERO, cfg.rto_initial, cfg.rto_max, cfg.syn_retries);
    let secs_of = |v: &[SimTime]| {
        v.iter()
            .map(|x| x.since_start().as_secs())
            .collect::<Vec<_>>()
    };
    assert_eq!(secs_of(&sends), [0, 1, 3, 7, 15, 31, 63]);
    assert_eq!(give_up, t(secs(127)));
    assert_eq!(times(&net.sent_by(C, is_syn)), sends);
    assert_eq!(net.events_of(C, ch), [(give_up, SocketEvent::TimedOut)]);
    let rec = net.record(C, conn);
    assert_eq!(
        (rec.closed_at, rec.error),
        (give_up, Some(ConnError::TimedOut))
    );
    assert_eq!(rec.retransmissions, cfg.syn_retries);
}

// Linux tcp_synack_retries = 5: SYN-ACKs at 0, 1, 3, 7, 15, 31 s; the half-open connection is
// dropped at 63 s and leaves the listener's SYN queue.
#[test]
fn a_half_open_connection_whose_syn_acks_go_unanswered_disappears_at_63_s() {
    let cfg = TcpConfig::default();
    let mut net = Net::pair(&cfg);
    let lid = net.listen(128);
    net.fault(drop_from(S));
    let syn = Segment {
        src_port: CPORT,
        dst_port: PORT,
        seq: SeqNum(777),
        flags: Flags::SYN,
        window: 65_535,
        mss: Some(1460),
        ..Segment::default()
    };
    net.inject(S, SimTime::ZERO, syn);
    net.run_until(SimTime::ZERO);
    assert_eq!(net.stacks[S].listener(lid).expect("listener").syn_queue, 1);
    let conn = net.stacks[S].sockets().next().expect("half-open").conn;
    net.run_until(t(secs(200)));
    let (sends, give_up) = backoff_schedule(
        SimTime::ZERO,
        cfg.rto_initial,
        cfg.rto_max,
        cfg.synack_retries,
    );
    assert_eq!(give_up, t(secs(63)));
    assert_eq!(times(&net.sent_by(S, is_syn_ack)), sends);
    assert_eq!(
        net.transitions(S, conn).last().copied(),
        Some((
            give_up,
            State::SynReceived,
            State::Closed,
            "SYN-ACK retries exhausted"
        ))
    );
    assert_eq!(net.stacks[S].sockets().count(), 0);
    assert_eq!(net.stacks[S].listener(lid).expect("listener").syn_queue, 0);
}

/// 150 ms each way: a 300 ms RTT keeps every RTO here above Linux's 200 ms floor.
const SLOW: Duration = Duration::from_millis(150);

/// RFC 6298's estimator with Linux's 200 ms floor (`timers = "rfc6298"`; the Linux timers'
/// own rules are in tests/linux_timers.rs).
fn rfc6298() -> TcpConfig {
    TcpConfig {
        timers: TimerPreset::Rfc6298,
        rto_min: ms(200),
        ..TcpConfig::default()
    }
}

// RFC 6298 §2.2-2.3: RTO = SRTT + max(G, 4 RTTVAR); after the first sample R, SRTT = R and
// RTTVAR = R/2; after a second equal sample, RTTVAR = 3/4 R/2 + 1/4 |R - R| = 3R/8.
#[test]
fn after_rtt_samples_the_rto_follows_rfc6298() {
    let cfg = rfc6298();
    let mut net = Net::new(cfg.clone(), cfg.clone(), SLOW);
    let (ch, sh) = net.open(None);
    let r = SLOW * 2;
    assert_eq!(net.sock(C, ch).rto(), rto_after_first_sample(&cfg, r));
    assert_eq!(net.sock(C, ch).rto(), ms(900));

    net.run_until(t(secs(1)));
    net.send(C, ch, &pattern(0..100));
    net.run_until(t(ms(1500)));
    let second = r + Duration::from_nanos(r.as_nanos() * 3 / 8) * 4;
    assert_eq!(second, ms(750));
    assert_eq!(net.sock(C, ch).rto(), second);

    // The timer really runs on that value: a lost segment goes again one RTO later.
    net.run_until(t(secs(2)));
    // Any data segment, whatever its length: beyond the model's flags/len filter.
    net.fault_where(
        Fault {
            count: 1,
            ..drop_from(C)
        },
        is_data,
    );
    net.send(C, ch, &pattern(100..200));
    net.run_until(t(secs(4)));
    let data = net.sent_by(C, is_data);
    assert_eq!(times(&data[1..]), [t(secs(2)), t(secs(2)) + second]);
    assert!(data[2].1.tag.retransmission);
    assert_eq!(net.recv(S, sh), pattern(0..200));
}

// RFC 6298 §3 / Karn: no RTT sample from a retransmitted segment, and the backed-off RTO is
// kept until a segment sent once is acknowledged.
#[test]
fn karn_the_ack_of_a_retransmitted_segment_gives_no_rtt_sample() {
    let cfg = rfc6298();
    let mut net = Net::new(cfg.clone(), cfg.clone(), SLOW);
    let (ch, _) = net.open(None);
    let r = SLOW * 2;
    let rto = rto_after_first_sample(&cfg, r);
    net.run_until(t(secs(1)));
    // Any data segment, whatever its length: beyond the model's flags/len filter.
    net.fault_where(
        Fault {
            count: 1,
            ..drop_from(C)
        },
        is_data,
    );
    net.send(C, ch, &pattern(0..100));
    net.run_until(t(ms(2500)));
    let data = net.sent_by(C, is_data);
    assert_eq!(times(&data), [t(secs(1)), t(secs(1)) + rto]);
    assert_eq!(
        net.sock(C, ch).snd_una(),
        net.sock(C, ch).snd_nxt(),
        "acknowledged"
    );
    // A sample from the first send (1.2 s) or from the retransmission (R) would both change it.
    assert_eq!(net.sock(C, ch).rto(), rto * 2);

    net.run_until(t(secs(3)));
    net.send(C, ch, &pattern(100..200));
    net.run_until(t(secs(4)));
    // A fresh sample R: RTTVAR = 3/4 (R/2) + 0, RTO = R + 4 RTTVAR, and the backoff is over.
    let fresh = r + Duration::from_nanos(r.as_nanos() * 3 / 8) * 4;
    assert_eq!(net.sock(C, ch).rto(), fresh);
}

// ----- 7. Half-close -----

// RFC 9293 §3.6 / §3.10.4: after its FIN the client may still receive; FIN_WAIT_2 takes data
// until the server's FIN.
#[test]
fn after_shutdown_the_client_keeps_receiving_in_fin_wait_2_until_the_server_closes() {
    let cfg = TcpConfig::default();
    let mut net = Net::pair(&cfg);
    let (ch, sh) = net.open(None);
    let (cc, sc) = (net.sock(C, ch).conn, net.sock(S, sh).conn);
    net.run_until(t(ms(100)));
    net.shutdown(C, ch);
    net.run_until(t(ms(200)));
    assert_eq!(net.sock(C, ch).state, State::FinWait2);
    assert_eq!(net.sock(S, sh).state, State::CloseWait);
    assert!(
        net.events_of(S, sh)
            .contains(&(t(ms(100)) + D, SocketEvent::PeerClosed))
    );

    let data = pattern(0..5000);
    assert_eq!(net.send(S, sh, &data), data.len());
    net.run_until(t(ms(300)));
    assert_eq!(net.sock(C, ch).state, State::FinWait2);
    assert_eq!(net.recv(C, ch), data);
    assert_eq!(net.sock(S, sh).send_queue(), 0, "all acknowledged");

    net.close(S, sh);
    net.run_until(t(ms(400)));
    assert_eq!(net.entered(C, cc, State::TimeWait), Some(t(ms(300)) + D));
    assert_eq!(net.entered(S, sc, State::Closed), Some(t(ms(300)) + D * 2));
    assert_eq!(net.record(S, sc).error, None);
    assert!(net.sent.iter().all(|s| !is_rst(&s.seg)));
}

// ----- 8. FIN_WAIT_2 timeout -----

// Linux tcp_fin_timeout: an orphaned FIN_WAIT_2 socket is dropped after fin_timeout; data for
// it afterwards meets no socket and draws RST (RFC 9293 §3.10.7.1).
#[test]
fn an_orphaned_fin_wait_2_socket_is_dropped_after_fin_timeout_and_later_data_draws_rst() {
    let cfg = TcpConfig::default();
    let mut net = Net::pair(&cfg);
    let (ch, sh) = net.open(None);
    let cc = net.sock(C, ch).conn;
    net.run_until(t(ms(100)));
    net.close(C, ch);
    // The server acknowledges the FIN into CLOSE_WAIT after its delayed-ACK timer.
    let fin_acked = t(ms(100)) + D * 2 + common::fin_ack_delay(&cfg);
    net.run_until(fin_acked);
    assert_eq!(net.entered(C, cc, State::FinWait2), Some(fin_acked));
    net.run_until(before(fin_acked + cfg.fin_timeout, ms(1)));
    assert_eq!(net.sock(C, ch).state, State::FinWait2);
    net.run_until(fin_acked + cfg.fin_timeout);
    assert_eq!(
        net.transitions(C, cc).last().copied(),
        Some((
            fin_acked + cfg.fin_timeout,
            State::FinWait2,
            State::Closed,
            "FIN_WAIT_2 timeout"
        ))
    );
    assert!(net.stacks[C].socket(ch).is_none());

    let at = fin_acked + cfg.fin_timeout + secs(1);
    net.run_until(at);
    net.send(S, sh, &pattern(0..10));
    let rcv_nxt = net.sock(S, sh).rcv_nxt();
    net.run_until(at + D * 3);
    let rst = only(net.sent_at(C, at + D));
    assert_eq!((rst.flags, rst.seq), (Flags::RST, rcv_nxt));
    assert_eq!(
        net.events_of(S, sh).last().copied(),
        Some((at + D * 2, SocketEvent::Reset))
    );
}

// Linux tcp_fin_timeout applies to orphans only: after shutdown(SHUT_WR) the application may
// still read, so FIN_WAIT_2 waits for the peer's FIN as long as it takes.
#[test]
fn a_shut_down_but_still_open_fin_wait_2_socket_never_times_out() {
    let cfg = TcpConfig::default();
    let mut net = Net::pair(&cfg);
    let (ch, sh) = net.open(None);
    let cc = net.sock(C, ch).conn;
    net.run_until(t(ms(100)));
    net.shutdown(C, ch);
    let late = t(ms(100)) + cfg.fin_timeout * 3;
    net.run_until(late);
    assert_eq!(net.sock(C, ch).state, State::FinWait2);
    net.send(S, sh, &pattern(0..10));
    net.run_until(late + D * 2);
    assert_eq!(net.recv(C, ch), pattern(0..10), "still readable");
    net.close(S, sh);
    net.run_until(late + secs(1));
    assert_eq!(net.entered(C, cc, State::TimeWait), Some(late + D * 3));
}

// ----- 9. Host rules: no socket, listeners, backlog -----

/// A segment from the client's address to a server port nobody uses.
fn stray(flags: Flags, seq: u32, ack: u32, len: usize) -> Segment {
    Segment {
        src_port: CPORT,
        dst_port: 81,
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 1000,
        payload: vec![7; len].into(),
        ..Segment::default()
    }
}

// RFC 9293 §3.10.7.1: to a segment with ACK and no connection, reply <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn a_segment_with_ack_to_no_socket_draws_rst_with_seq_equal_to_its_ack() {
    let mut net = Net::pair(&TcpConfig::default());
    net.listen(128);
    let rst = only(net.poke(S, stray(Flags::ACK | Flags::PSH, 1234, 5678, 10)));
    assert_eq!((rst.flags, rst.seq), (Flags::RST, SeqNum(5678)));
    assert_eq!((rst.src_port, rst.dst_port), (81, CPORT));
    assert!(rst.payload.is_empty());
}

// RFC 9293 §3.10.7.1: without ACK, reply <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, where SYN and
// FIN count in SEG.LEN.
#[test]
fn a_segment_without_ack_to_no_socket_draws_rst_ack_of_seq_plus_len() {
    let mut net = Net::pair(&TcpConfig::default());
    for (seg, len) in [
        (stray(Flags::SYN, 1234, 0, 0), 1),
        (stray(Flags::PSH, 1234, 0, 10), 10),
        (stray(Flags::SYN | Flags::FIN, 1234, 0, 10), 12),
    ] {
        let rst = only(net.poke(S, seg));
        assert_eq!(
            (rst.flags, rst.seq, rst.ack),
            (Flags::RST | Flags::ACK, SeqNum(0), SeqNum(1234 + len))
        );
    }
}

// RFC 9293 §3.10.7.1: "An incoming segment containing a RST is discarded", never answered.
#[test]
fn a_reset_to_no_socket_draws_nothing() {
    let mut net = Net::pair(&TcpConfig::default());
    net.listen(128);
    assert!(net.poke(S, stray(Flags::RST, 1234, 0, 0)).is_empty());
    assert!(
        net.poke(S, stray(Flags::RST | Flags::ACK, 1234, 5678, 0))
            .is_empty()
    );
    let mut to_listener = stray(Flags::RST, 1234, 0, 0);
    to_listener.dst_port = PORT;
    assert!(net.poke(S, to_listener).is_empty());
}

/// Backlog B; B + 2 clients connect at once and nobody accepts.
fn overflow(backlog: u32, abort_on_overflow: bool) -> (Net, u32, Vec<SocketHandle>) {
    let cfg = TcpConfig::default();
    let server = TcpConfig {
        abort_on_overflow,
        ..cfg.clone()
    };
    let mut net = Net::new(cfg, server, D);
    let lid = net.listen(backlog);
    let clients = (0..backlog + 2)
        .map(|_| net.connect(None).expect("a free port"))
        .collect();
    net.run_until(t(ms(100)));
    (net, lid, clients)
}

// Linux sk_acceptq_is_full (`>`): the accept queue holds backlog + 1; with tcp_abort_on_overflow
// = 0 the next final ACK is ignored and the SYN-ACK retransmitted; SYNs meet a full queue
// and are dropped (tcp_conn_request).
#[test]
fn with_backlog_b_exactly_b_plus_1_handshakes_complete_and_the_next_final_ack_is_ignored() {
    let b = 2;
    let (mut net, lid, clients) = overflow(b, false);
    let rto = net.stacks[S].config().rto_initial;
    let l = net.stacks[S].listener(lid).expect("listener");
    assert_eq!(l.accept_queue.len(), b as usize + 1);
    assert_eq!((l.overflows, l.syn_drops), (1, 0));
    let count = |net: &Net, st: State| net.stacks[S].sockets().filter(|s| s.state == st).count();
    assert_eq!(count(&net, State::Established), b as usize + 1);
    assert_eq!(count(&net, State::SynReceived), 1);
    // Every client believes it is connected.
    for &h in &clients {
        assert_eq!(net.sock(C, h).state, State::Established);
    }

    // A new SYN meets the full queue and is dropped without a word.
    net.run_until(t(ms(500)));
    net.connect(None).expect("a free port");
    net.run_until(t(ms(500)) + D * 2);
    assert!(net.sent_at(S, t(ms(500)) + D).is_empty());
    assert_eq!(net.stacks[S].listener(lid).expect("listener").syn_drops, 1);
    // Both turn-aways are logged for the report, as `netstat -s` counts them.
    let drops: Vec<ListenDropKind> = net
        .log
        .iter()
        .filter_map(|(_, host, l)| match l {
            TcpLog::ListenDrop { why, listener, .. } if *host == S => {
                assert_eq!(*listener, server_addr());
                Some(*why)
            }
            _ => None,
        })
        .collect();
    assert_eq!(drops, [ListenDropKind::Overflow, ListenDropKind::Syn]);

    // The ignored child's SYN-ACK goes again after its initial RTO; the client's answer is
    // ignored again.
    let lagging = net.stacks[S]
        .sockets()
        .find(|s| s.state == State::SynReceived)
        .expect("the overflowing child")
        .tuple
        .remote
        .port();
    let again = t(D + rto);
    net.run_until(again + D * 2);
    let synacks = net.sent_by(S, |s| is_syn_ack(s) && s.dst_port == lagging);
    assert_eq!(times(&synacks), [t(D), again]);
    let l = net.stacks[S].listener(lid).expect("listener");
    assert_eq!((l.overflows, l.accept_queue.len()), (2, b as usize + 1));
}

// Linux tcp_abort_on_overflow = 1: the final ACK that finds the accept queue full is answered
// with RST <SEQ=SEG.ACK>, which resets the client.
#[test]
fn with_abort_on_overflow_the_overflowing_client_is_reset() {
    let b = 2;
    let (net, lid, clients) = overflow(b, true);
    let resets: Vec<_> = clients
        .iter()
        .filter(|&&h| {
            net.events_of(C, h)
                .iter()
                .any(|e| e.1 == SocketEvent::Reset)
        })
        .collect();
    assert_eq!(resets.len(), 1);
    let h = *resets[0];
    assert_eq!(
        net.events_of(C, h),
        [
            (t(D * 2), SocketEvent::Connected),
            (t(D * 4), SocketEvent::Reset)
        ]
    );
    let rst = only(net.sent_by(S, is_rst)).1;
    let final_ack = net.sent_by(C, |s| is_pure_ack(s) && s.src_port == rst.dst_port);
    assert_eq!((rst.flags, rst.seq), (Flags::RST, final_ack[0].1.ack));
    let l = net.stacks[S].listener(lid).expect("listener");
    assert_eq!(
        (l.accept_queue.len(), l.syn_queue, l.overflows),
        (b as usize + 1, 0, 1)
    );
    assert_eq!(net.stacks[S].sockets().count(), b as usize + 1);
}

// ----- 10. Ephemeral ports -----

/// `n` connections to the server, each closed by the client first (the client keeps TIME_WAIT
/// for each from 200 ms + D).
fn churn(net: &mut Net, n: usize) -> Vec<ConnId> {
    let start = net.now;
    if net.listener.is_none() {
        net.listen(128);
    }
    let clients: Vec<_> = (0..n).map(|_| net.connect(None).expect("a port")).collect();
    net.run_until(start + D * 3);
    let servers: Vec<_> = (0..n).map(|_| net.accept().expect("accepted")).collect();
    let conns = clients.iter().map(|&h| net.sock(C, h).conn).collect();
    net.run_until(start + ms(100));
    for &h in &clients {
        net.close(C, h);
    }
    net.run_until(start + ms(200));
    for &h in &servers {
        net.close(S, h);
    }
    net.run_until(start + ms(300));
    conns
}

// Linux ip_local_port_range: with N ports and every one in TIME_WAIT towards the same server,
// connect fails with EADDRNOTAVAIL until TIME_WAIT ends.
#[test]
fn with_n_ephemeral_ports_the_n_plus_1th_connect_fails_until_time_wait_ends() {
    let client = TcpConfig {
        port_range: (40000, 40002),
        ..TcpConfig::default()
    };
    let n = client.port_count() as usize;
    assert_eq!(n, 3);
    let mut net = Net::new(client.clone(), TcpConfig::default(), D);
    churn(&mut net, n);
    assert_eq!(net.stacks[C].time_wait().len(), n);
    assert_eq!(net.connect(None), Err(ConnectError::AddrNotAvailable));
    let end = t(ms(200)) + D + client.time_wait;
    net.run_until(before(end, ms(1)));
    assert_eq!(net.connect(None), Err(ConnectError::AddrNotAvailable));
    net.run_until(end);
    assert!(net.stacks[C].time_wait().is_empty());
    let h = net.connect(None).expect("a port is free again");
    net.run_for(D * 3);
    assert_eq!(net.sock(C, h).state, State::Established);
}

// Linux tcp_twsk_unique with tcp_tw_reuse and timestamps: an outgoing connection may take over
// a TIME_WAIT port once its last timestamp is 1 s old, with ISS = old SND.NXT + 65535 + 2.
#[test]
fn tw_reuse_takes_over_a_time_wait_port_after_1_s_with_iss_old_snd_nxt_plus_65537() {
    let client = TcpConfig {
        port_range: (40000, 40000),
        timestamps: true,
        tw_reuse: true,
        ..TcpConfig::default()
    };
    let server = TcpConfig {
        timestamps: true,
        ..TcpConfig::default()
    };
    let mut net = Net::new(client, server, D);
    let conns = churn(&mut net, 1);
    let old = net.record(C, conns[0]);
    // The server's FIN set TS.Recent last, at 200 ms + D.
    let ts_at = t(ms(200)) + D;
    net.run_until(before(ts_at + secs(1), ms(1)));
    assert_eq!(net.connect(None), Err(ConnectError::AddrNotAvailable));
    net.run_until(ts_at + secs(1));
    let h = net.connect(None).expect("reuse");
    let syn = only(net.sent_at(C, net.now));
    // The old incarnation sent SYN and FIN and no data.
    assert_eq!(syn.seq, old.iss + 1 + 1 + 65_537);
    assert_eq!(net.sock(C, h).tuple, old.tuple);
    assert_eq!(
        net.time_wait_end(C, old.conn),
        Some((net.now, "reused by connect (tw_reuse)"))
    );
    net.run_for(D * 3);
    assert_eq!(net.sock(C, h).state, State::Established);
}

// Linux tcp_max_tw_buckets: beyond it a closing socket skips TIME_WAIT ("time wait bucket table
// overflow").
#[test]
fn with_max_tw_buckets_1_the_second_closing_socket_skips_time_wait() {
    let client = TcpConfig {
        max_tw_buckets: 1,
        ..TcpConfig::default()
    };
    let mut net = Net::new(client, TcpConfig::default(), D);
    net.listen(128);
    let (c1, s1) = net.open(None);
    let (c2, s2) = net.open(None);
    let conns = [net.sock(C, c1).conn, net.sock(C, c2).conn];
    let start = net.now;
    net.close(C, c1);
    net.close(C, c2);
    net.run_until(start + ms(100));
    net.close(S, s1);
    net.close(S, s2);
    net.run_until(start + ms(200));
    let fin_in = start + ms(100) + D;
    let overflows: Vec<_> = net
        .log
        .iter()
        .filter_map(|(at, _, l)| match l {
            TcpLog::TimeWaitOverflow(conn, _) => Some((*at, *conn)),
            _ => None,
        })
        .collect();
    assert_eq!(overflows, [(fin_in, conns[1])]);
    assert_eq!(net.stacks[C].time_wait().len(), 1);
    assert_eq!(net.time_wait_end(C, conns[0]), None);
    assert_eq!(
        net.time_wait_end(C, conns[1]),
        Some((fin_in, "TIME_WAIT table full"))
    );
}

// ----- 11. Receive side: reassembly and the audit -----

// RFC 9293 §3.10.7.4 seventh / §3.9: segments past a hole are held and delivered in order once
// the hole fills.
#[test]
fn out_of_order_segments_are_held_and_delivered_in_order_once_the_hole_fills() {
    let cfg = TcpConfig {
        mss: 100,
        ..TcpConfig::default()
    };
    let mut net = Net::pair(&cfg);
    let (ch, sh) = net.open(None);
    let start = net.now;
    // Any data segment, whatever its length: beyond the model's flags/len filter.
    net.fault_where(
        Fault {
            count: 1,
            ..drop_from(C)
        },
        is_data,
    );
    net.send(C, ch, &pattern(0..300));
    net.run_until(start + D);
    assert_eq!(
        net.sent_by(C, is_data).len(),
        3,
        "three segments of one MSS"
    );
    assert_eq!(
        net.sock(S, sh).recv_queue(),
        0,
        "bytes 100..300 wait for 0..100"
    );
    assert!(net.events_of(S, sh).is_empty());
    // Duplicate ACKs of the hole.
    let acks = net.sent_at(S, start + D);
    assert_eq!(acks.len(), 2);
    assert!(acks.iter().all(|a| a.ack == net.sock(S, sh).rcv_nxt()));

    net.run_until(start + secs(3));
    assert_eq!(net.recv(S, sh), pattern(0..300));
    assert_eq!(net.sock(S, sh).record(net.now).bytes_delivered, 300);
    assert!(net.corruptions().is_empty());
}

// RFC 9293 §3.10.7.4 seventh: bytes are delivered once; overlapping retransmissions, in order or
// held out of order, never duplicate them.
#[test]
fn overlapping_retransmissions_never_duplicate_bytes() {
    let mut net = Net::pair(&TcpConfig::default());
    let (_, sh) = net.open(None);
    for range in [100..200, 150..250, 240..260, 0..120, 110..230, 0..260] {
        let seg = forge_data(net.sock(S, sh), range);
        net.poke(S, seg);
    }
    assert_eq!(net.recv(S, sh), pattern(0..260));
    let s = net.sock(S, sh);
    assert_eq!(s.rcv_nxt(), s.irs().expect("synchronized") + 1 + 260);
    assert_eq!(s.record(net.now).bytes_delivered, 260);
    assert!(
        net.corruptions().is_empty(),
        "right tags are never reported"
    );
}

/// Incarnation 1 (fixed client port and ISS, mss 100) writes 300 'A's and closes, the client
/// first, keeping no TIME_WAIT; at 1 s incarnation 2 opens the same 4-tuple with the same ISS.
/// Returns the net, both sockets of incarnation 2, incarnation 1's client ConnId, and its data
/// segment at stream offset 100.
fn second_incarnation(server: TcpConfig) -> (Net, SocketHandle, SocketHandle, ConnId, Segment) {
    let client = TcpConfig {
        mss: 100,
        isn: IsnPolicy::Fixed(1000),
        time_wait: Duration::ZERO,
        ..TcpConfig::default()
    };
    let server = TcpConfig { mss: 100, ..server };
    let mut net = Net::new(client, server, D);
    let (c1, s1) = net.open(Some(CPORT));
    let old_conn = net.sock(C, c1).conn;
    net.send(C, c1, &[b'A'; 300]);
    net.run_until(t(ms(60)));
    assert_eq!(net.recv(S, s1), [b'A'; 300]);
    net.close(C, c1);
    net.run_until(t(ms(200)));
    net.close(S, s1);
    net.run_until(t(ms(300)));
    let old = net
        .sent_by(C, |s| is_data(s) && s.tag.offset == 100)
        .remove(0)
        .1;
    assert_eq!((old.tag.conn, old.payload.len()), (old_conn, 100));

    net.run_until(t(secs(1)));
    let (c2, s2) = net.open(Some(CPORT));
    assert_ne!(net.sock(C, c2).conn, old_conn);
    assert_eq!(net.sock(C, c2).iss(), SeqNum(1000));
    assert_eq!(
        old.seq,
        net.sock(S, s2).rcv_nxt() + 100,
        "inside the new window"
    );
    (net, c2, s2, old_conn, old)
}

// The audit (REFERENCE "Random ISN"; RFC 9293 §3.4.1): bytes from a previous incarnation that
// land in a new incarnation's window are delivered and logged with their origin; bytes whose tag
// matches (same incarnation, same offset) never are. The server here predates RFC 5961 §5.
#[test]
fn an_old_incarnations_segment_in_a_new_window_is_logged_as_corruption() {
    let server = TcpConfig {
        rfc5961_ack_check: false,
        ..TcpConfig::default()
    };
    let (mut net, c2, s2, _, old) = second_incarnation(server);
    let new_conn = net.sock(C, c2).conn;
    // The old segment arrives first and waits past the hole at offset 0.
    net.poke(S, old.clone());
    assert_eq!(net.sock(S, s2).recv_queue(), 0);
    net.run_for(ms(10));
    net.send(C, c2, &[b'B'; 300]);
    let arrival = net.now + D;
    net.run_until(arrival + ms(50));

    let mut expected = vec![b'B'; 300];
    expected[100..200].fill(b'A');
    assert_eq!(net.recv(S, s2), expected);
    let s = net.sock(S, s2);
    assert_eq!(
        net.corruptions(),
        [Corruption {
            receiver: s.conn,
            tuple: s.tuple,
            expected: Some(new_conn),
            offset: 100,
            len: 100,
            origin: old.tag,
            at: arrival,
        }]
    );
    let rec = s.record(net.now);
    assert_eq!((rec.bytes_delivered, rec.bytes_corrupted), (300, 100));

    // The new incarnation's own segments (right tags) are never reported, even resent.
    let own = net.sent_by(C, |s| is_data(s) && s.tag.conn == new_conn)[2]
        .1
        .clone();
    net.poke(S, own);
    assert_eq!(net.corruptions().len(), 1);
}

// RFC 5961 §5 (RFC 9293 MAY-12, Linux tcp_ack): a segment whose ACK lies more than MAX.SND.WND
// behind SND.UNA is discarded with an ACK, which stops the same old segment here.
#[test]
fn rfc5961_an_old_incarnations_segment_whose_ack_is_far_behind_is_dropped_with_an_ack() {
    let (mut net, c2, s2, _, old) = second_incarnation(TcpConfig::default());
    let s = net.sock(S, s2);
    assert!(
        s.snd_una().since(old.ack) > 65_535,
        "the old ACK is far behind SND.UNA"
    );
    let (sn, rn) = (s.snd_nxt(), s.rcv_nxt());
    assert_only_ack(&net.poke(S, old), sn, rn);
    net.run_for(ms(10));
    net.send(C, c2, &[b'B'; 300]);
    net.run_for(ms(100));
    assert_eq!(net.recv(S, s2), [b'B'; 300]);
    assert!(net.corruptions().is_empty());
}

// Linux tcp_data_queue_ofo ("All the bits are present. Drop."): bytes already held out of order
// win over a later copy, so an old duplicate that arrived first is what the stream delivers.
#[test]
fn an_old_duplicate_held_out_of_order_is_not_displaced_by_the_genuine_bytes() {
    let server = TcpConfig {
        rfc5961_ack_check: false,
        ..TcpConfig::default()
    };
    let (mut net, _, s2, _, old) = second_incarnation(server);
    net.poke(S, old.clone());
    let genuine = forge_data(net.sock(S, s2), 100..200);
    net.poke(S, genuine);
    let head = forge_data(net.sock(S, s2), 0..100);
    net.poke(S, head);
    let mut expected = pattern(0..100);
    expected.extend([b'A'; 100]);
    assert_eq!(net.recv(S, s2), expected);
    let only_one = only(net.corruptions());
    assert_eq!(
        (only_one.offset, only_one.len, only_one.origin),
        (100, 100, old.tag)
    );
}

// Linux tcp_data_queue_ofo keeps a partial overlap (`/* Partial overlap. */`) and tcp_ofo_queue
// delivers in order of sequence, trimming what is already in: the copy that starts lower wins
// the overlapping bytes, whichever arrived first. Here the old duplicate [100, 200) is held
// first, the genuine [50, 150) arrives second and starts lower: the genuine bytes win
// [100, 150), and only [150, 200) is the old incarnation's.
#[test]
fn in_an_overlap_held_out_of_order_the_copy_that_starts_lower_wins() {
    let server = TcpConfig {
        rfc5961_ack_check: false,
        ..TcpConfig::default()
    };
    let (mut net, _, s2, _, old) = second_incarnation(server);
    net.poke(S, old.clone());
    let genuine = forge_data(net.sock(S, s2), 50..150);
    net.poke(S, genuine);
    let head = forge_data(net.sock(S, s2), 0..50);
    net.poke(S, head);
    let mut expected = pattern(0..150);
    expected.extend([b'A'; 50]);
    assert_eq!(net.recv(S, s2), expected);
    let only_one = only(net.corruptions());
    assert_eq!((only_one.offset, only_one.len), (150, 50));
    assert_eq!(only_one.origin.offset, old.tag.offset + 50);
}

// The audit: a tag names both the incarnation and the stream offset, so bytes of the right
// incarnation delivered at another offset than the one they were written at are reported too.
#[test]
fn bytes_of_the_right_incarnation_at_the_wrong_offset_are_reported() {
    let mut net = Net::pair(&TcpConfig::default());
    let (ch, sh) = net.open(None);
    let cc = net.sock(C, ch).conn;
    let mut misplaced = forge_data(net.sock(S, sh), 0..100);
    misplaced.tag.offset = 100;
    net.poke(S, misplaced.clone());
    let s = net.sock(S, sh);
    assert_eq!(
        net.corruptions(),
        [Corruption {
            receiver: s.conn,
            tuple: s.tuple,
            expected: Some(cc),
            offset: 0,
            len: 100,
            origin: misplaced.tag,
            at: net.now,
        }]
    );
}

// ----- 12. Resets on close, orphans, PAWS -----

// RFC 2525 §2.17 (Linux tcp_close): closing with unread data sends RST, not FIN.
#[test]
fn closing_with_unread_data_sends_rst_instead_of_fin() {
    let mut net = Net::pair(&TcpConfig::default());
    let (ch, sh) = net.open(None);
    let sc = net.sock(S, sh).conn;
    net.send(C, ch, &pattern(0..100));
    net.run_until(t(ms(200)));
    assert_eq!(net.sock(S, sh).recv_queue(), 100);
    let snd_nxt = net.sock(S, sh).snd_nxt();
    let rcv_nxt = net.sock(S, sh).rcv_nxt();
    net.close(S, sh);
    // Linux `tcp_send_active_reset` acknowledges too: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>.
    let rst = only(net.sent_at(S, net.now));
    assert_eq!(
        (rst.flags, rst.seq, rst.ack),
        (Flags::RST | Flags::ACK, snd_nxt, rcv_nxt)
    );
    assert!(net.sent_by(S, is_fin).is_empty());
    assert_eq!(
        net.transitions(S, sc).last().copied(),
        Some((
            t(ms(200)),
            State::Established,
            State::Closed,
            "close with unread data"
        ))
    );
    assert_eq!(net.record(S, sc).error, Some(ConnError::Aborted));
    net.run_for(ms(100));
    assert_eq!(
        net.events_of(C, ch).last().copied(),
        Some((t(ms(200)) + D, SocketEvent::Reset))
    );
}

// RFC 1122 §4.2.2.13 (Linux tcp_rcv_state_process, FIN_WAIT_1/2): new data for a socket whose
// application has closed is answered with RST.
#[test]
fn data_arriving_for_an_orphaned_socket_is_answered_with_rst() {
    let mut net = Net::pair(&TcpConfig::default());
    let (ch, sh) = net.open(None);
    let cc = net.sock(C, ch).conn;
    net.run_until(t(ms(100)));
    net.close(C, ch);
    net.run_until(t(ms(200)));
    assert_eq!(net.sock(C, ch).state, State::FinWait2);
    let rcv_nxt = net.sock(S, sh).rcv_nxt();
    net.send(S, sh, &pattern(0..100));
    net.run_until(t(ms(300)));
    let rst = only(net.sent_at(C, t(ms(200)) + D));
    assert_eq!((rst.flags, rst.seq), (Flags::RST, rcv_nxt));
    assert_eq!(
        net.transitions(C, cc).last().copied(),
        Some((
            t(ms(200)) + D,
            State::FinWait2,
            State::Closed,
            "data after close"
        ))
    );
    assert_eq!(
        net.events_of(S, sh).last().copied(),
        Some((t(ms(200)) + D * 2, SocketEvent::Reset))
    );
}

// RFC 7323 §5.3 (PAWS): a segment whose TSval is older than TS.Recent is an old duplicate: ACK
// it and drop it.
#[test]
fn paws_drops_a_segment_with_an_older_timestamp_and_acks_it() {
    let cfg = TcpConfig {
        timestamps: true,
        ..TcpConfig::default()
    };
    let mut net = Net::pair(&cfg);
    let (ch, sh) = net.open(None);
    net.send(C, ch, &pattern(0..100));
    net.run_until(t(ms(100)));
    assert_eq!(net.recv(S, sh), pattern(0..100));
    let last = net.sent_by(C, is_data)[0].1.clone();
    let recent = last.timestamps.expect("timestamps on").tsval;
    let s = net.sock(S, sh);
    assert_eq!(s.ts_recent().map(|r| r.0), Some(recent));
    let (rn, sn) = (s.rcv_nxt(), s.snd_nxt());

    let mut stale = forge_data(s, 100..110);
    stale.timestamps = Some(Timestamps {
        tsval: recent.wrapping_sub(1),
        tsecr: 0,
    });
    let reply = net.poke(S, stale.clone());
    assert_only_ack(&reply, sn, rn);
    assert!(reply[0].timestamps.is_some());
    assert_eq!(
        (net.sock(S, sh).rcv_nxt(), net.sock(S, sh).recv_queue()),
        (rn, 0)
    );

    // The same bytes with the current timestamp are taken.
    stale.timestamps = Some(Timestamps {
        tsval: recent,
        tsecr: 0,
    });
    net.poke(S, stale);
    assert_eq!(net.recv(S, sh), pattern(100..110));
}

// ----- 13. Zero window -----

/// The server's buffer holds `buf` bytes; the client writes `total` at 100 ms and the server
/// reads nothing until told.
fn stalled(buf: u32, total: usize) -> (Net, SocketHandle, SocketHandle, SimTime) {
    let server = TcpConfig {
        rcv_buf: buf,
        ..TcpConfig::default()
    };
    let mut net = Net::new(TcpConfig::default(), server, D);
    let (ch, sh) = net.open(None);
    net.run_until(t(ms(100)));
    assert_eq!(net.send(C, ch, &pattern(0..total)), total);
    // The ACK that closes the window reaches the client one round trip later.
    let closed = t(ms(100)) + D * 2;
    net.run_until(closed);
    assert_eq!(net.sock(S, sh).rcv_wnd(), 0);
    (net, ch, sh, closed)
}

// RFC 9293 §3.8.6.1 (persist timer, RFC 1122 §4.2.2.17): a zero window is probed, the interval
// backing off like the RTO; a window update after the reader frees space restarts the flow.
#[test]
fn a_zero_window_is_probed_with_backoff_and_sending_resumes_when_the_receiver_reads() {
    let buf = 2000;
    let total = 5000;
    let (mut net, ch, sh, closed) = stalled(buf, total);
    let rto = net.sock(C, ch).rto();
    let una = net.sock(C, ch).snd_una();
    let read_at = closed + rto * 7 + ms(100);
    net.run_until(before(read_at, ms(1)));
    let probes = net.sent_by(C, |s| is_pure_ack(s) && s.seq == una - 1);
    assert_eq!(
        times(&probes),
        [closed + rto, closed + rto * 3, closed + rto * 7],
        "after RTO, then twice, then four times as long"
    );
    // A probe (SEG.SEQ = RCV.NXT - 1, no data) is out of window, and Linux
    // `tcp_oow_rate_limited` answers such a segment at most once per `invalid_ratelimit`.
    let limit = net.stacks[S].config().invalid_ratelimit;
    let mut answered: Option<SimTime> = None;
    for (at, _) in &probes {
        let answer = net.sent_at(S, *at + D);
        if answered.is_some_and(|last| *at + D < last + limit) {
            assert!(answer.is_empty(), "{answer:?}");
            continue;
        }
        let answer = only(answer);
        assert_eq!((answer.window, answer.ack), (0, una));
        answered = Some(*at + D);
    }
    assert_eq!(
        net.sent_at(S, probes[0].0 + D).len(),
        1,
        "the first probe is answered"
    );
    assert_eq!(net.sock(C, ch).send_queue(), total - buf as usize);

    net.run_until(read_at);
    assert_eq!(net.recv(S, sh), pattern(0..buf as usize));
    let update = only(net.sent_at(S, read_at));
    assert_eq!(update.window as u32, buf);
    net.run_until(read_at + D);
    assert!(
        net.sent_at(C, read_at + D).iter().any(is_data),
        "sending resumes at once"
    );

    let mut got = pattern(0..buf as usize);
    for _ in 0..10 {
        net.run_for(ms(100));
        got.extend(net.recv(S, sh));
    }
    assert_eq!(got, pattern(0..total));
}

// RFC 9293 §3.8.6.2.2 (receiver SWS avoidance): the window is reopened once min(MSS, RCV.BUFF/2)
// is free, so a buffer smaller than one MSS still gets its window update.
#[test]
fn a_receiver_with_a_buffer_smaller_than_an_mss_sends_a_window_update_when_read() {
    let buf = 1000;
    let (mut net, ch, sh, closed) = stalled(buf, 3000);
    assert!(buf < net.stacks[S].config().mss as u32);
    let read_at = closed + ms(50);
    net.run_until(read_at);
    assert_eq!(
        net.recv_max(S, sh, buf as usize / 2).len(),
        buf as usize / 2
    );
    let update = only(net.sent_at(S, read_at));
    assert_eq!(update.window as u32, buf / 2);
    net.run_until(read_at + D);
    let resumed = net.sent_at(C, read_at + D);
    assert_eq!(only(resumed).payload.len(), buf as usize / 2);
    assert!(net.sock(C, ch).send_queue() > 0);
}

// Linux's `__inet_hash_connect`: an ephemeral port is never one a local socket is bound to,
// and a listener on 0.0.0.0:P binds P on every address of the host.
#[test]
fn connect_never_picks_a_port_a_wildcard_listener_holds() {
    let config = TcpConfig {
        port_range: (5000, 5001),
        ..TcpConfig::default()
    };
    let mut stack = Stack::new(0, ADDR[C], config, component_rng(SEED, "host:client/tcp"));
    let wildcard = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 5000);
    stack.listen(wildcard, 16, APP[C]).expect("listen");
    let mut out = Output::default();
    let remote = server_addr();
    let h = stack
        .connect(SimTime::ZERO, None, remote, APP[C], &mut out)
        .expect("port 5001 is free");
    let s = stack.socket(h).expect("the new socket");
    assert_eq!(s.tuple.local.port(), 5001);
    let again = stack.connect(SimTime::ZERO, None, remote, APP[C], &mut out);
    assert_eq!(again.err(), Some(ConnectError::AddrNotAvailable));
}

// A FIN takes a sequence number (RFC 9293 §3.4), so like data it does not go into a zero
// window: Linux `tcp_snd_wnd_test` holds it and the persist timer probes (RFC 9293 §3.8.6.1).
// Sent anyway, it would be unacceptable to the peer (§3.10.7.4), ACKed and retransmitted
// until the connection timed out.
#[test]
fn a_fin_waits_behind_a_zero_window_with_probes_and_goes_when_the_window_opens() {
    let buf = 1000;
    let (mut net, ch, sh) = filled(buf, buf as usize);
    assert_eq!(
        net.sock(C, ch).send_queue(),
        0,
        "every byte is acknowledged"
    );
    let closed = net.now;
    net.close(C, ch);
    assert_eq!(net.sock(C, ch).state, State::FinWait1);
    let rto = net.sock(C, ch).rto();
    let una = net.sock(C, ch).snd_una();
    let read_at = closed + rto * 3 + ms(100);
    net.run_until(before(read_at, ms(1)));
    assert!(
        net.sent_by(C, is_fin).is_empty(),
        "no FIN into a zero window"
    );
    let probes = net.sent_by(C, |s| is_pure_ack(s) && s.seq == una - 1);
    assert_eq!(times(&probes), [closed + rto, closed + rto * 3]);

    net.run_until(read_at);
    assert_eq!(net.recv(S, sh), pattern(0..buf as usize));
    net.run_until(read_at + D * 3 + common::fin_ack_delay(&TcpConfig::default()));
    let fins = net.sent_by(C, is_fin);
    assert_eq!(
        times(&fins),
        [read_at + D],
        "the FIN goes on the window update"
    );
    assert_eq!(fins[0].1.seq, una);
    assert_eq!(net.sock(C, ch).state, State::FinWait2);
    assert_eq!(net.sock(S, sh).state, State::CloseWait);
}
