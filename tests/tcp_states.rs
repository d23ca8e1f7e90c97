//! RFC 9293 §3.10.7 (SEGMENT ARRIVES), state by state: each test starts from a fixture of
//! `common::states` that put a real connection in that state, hands it one segment, and checks
//! the rule for that state.

mod common;

use common::pair::*;
use common::states::*;
use timewait::net::{Fault, FaultAction};
use timewait::tcp::{ConnError, Flags, NetstatRow, Segment, SeqNum, State, TcpConfig, TimerKind};

fn cfg() -> TcpConfig {
    TcpConfig::default()
}

/// The reply is exactly `<SEQ=seq><CTL=RST>`.
fn assert_only_rst(reply: &[Segment], seq: SeqNum) {
    let r = only(reply.to_vec());
    assert_eq!(
        (r.flags, r.seq, r.payload.len()),
        (Flags::RST, seq, 0),
        "{r:?}"
    );
}

// ----- CLOSED -----

// RFC 9293 §3.10.7.1: in CLOSED, a segment with ACK draws <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn a_segment_for_a_closed_connection_draws_a_reset_from_its_ack() {
    let mut fx = socket_closed(&cfg());
    let ack = SeqNum(123_456);
    let seg = fx.peer_seg(SeqNum(777), ack, Flags::ACK | Flags::PSH, pattern(0..10));
    let reply = fx.poke(seg);
    assert_only_rst(&reply, ack);
    assert_eq!(fx.state(), State::Closed);
}

// RFC 9293 §3.10.7.1: in CLOSED, "an incoming segment containing a RST is discarded".
#[test]
fn a_reset_for_a_connection_closed_by_a_reset_draws_nothing() {
    let mut fx = socket_closed_by_reset(&cfg());
    let seg = fx.peer_seg(SeqNum(777), SeqNum(0), Flags::RST, vec![]);
    assert!(fx.poke(seg).is_empty());
    assert_eq!(fx.state(), State::Closed);
}

// ----- LISTEN -----

// RFC 9293 §3.10.7.2 first: in LISTEN, "an incoming RST segment could not be valid ...
// it should be ignored".
#[test]
fn a_rst_to_a_listening_port_is_ignored() {
    let (mut net, lid) = socket_listen(&cfg());
    let rst = Segment {
        src_port: CPORT,
        dst_port: PORT,
        seq: SeqNum(1000),
        flags: Flags::RST,
        ..Segment::default()
    };
    assert!(net.poke(S, rst).is_empty());
    assert_eq!(net.stacks[S].sockets().count(), 0);
    assert!(net.stacks[S].listener(lid).is_some());
}

// RFC 9293 §3.10.7.2 second: in LISTEN, an ACK draws <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn an_ack_to_a_listening_port_draws_a_reset_from_its_ack() {
    let (mut net, _) = socket_listen(&cfg());
    let ack = Segment {
        src_port: CPORT,
        dst_port: PORT,
        seq: SeqNum(1000),
        ack: SeqNum(424_242),
        flags: Flags::ACK,
        ..Segment::default()
    };
    assert_only_rst(&net.poke(S, ack), SeqNum(424_242));
    assert_eq!(net.stacks[S].sockets().count(), 0);
}

// RFC 9293 §3.10.7.2 third: in LISTEN, a SYN sets RCV.NXT = SEG.SEQ+1, sends
// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and enters SYN-RECEIVED.
#[test]
fn a_syn_to_a_listening_port_draws_a_syn_ack_of_seg_seq_plus_1_and_enters_syn_rcvd() {
    let (mut net, _) = socket_listen(&cfg());
    let syn = Segment {
        src_port: CPORT,
        dst_port: PORT,
        seq: SeqNum(1000),
        flags: Flags::SYN,
        window: 65_535,
        ..Segment::default()
    };
    let r = only(net.poke(S, syn));
    assert_eq!((r.flags, r.ack), (Flags::SYN | Flags::ACK, SeqNum(1001)));
    let child = only(net.stacks[S].sockets().collect());
    assert_eq!(child.state, State::SynReceived);
    assert_eq!((child.iss(), child.rcv_nxt()), (r.seq, SeqNum(1001)));
}

// ----- SYN_SENT -----

// RFC 9293 §3.10.7.3 second: in SYN-SENT, a RST without an acceptable ACK ("If the ACK bit is
// off") is dropped.
#[test]
fn a_rst_in_syn_sent_without_an_acceptable_ack_is_ignored() {
    let mut fx = socket_syn_sent(&cfg());
    let iss = fx.sock().iss();
    let rst = fx.peer_seg(SeqNum(5000), SeqNum(0), Flags::RST, vec![]);
    assert!(fx.poke(rst).is_empty());
    // Nor with an ACK that is not acceptable (SEG.ACK =< ISS).
    let rst = fx.peer_seg(SeqNum(5000), iss, Flags::RST | Flags::ACK, vec![]);
    assert!(fx.poke(rst).is_empty());
    assert_eq!(fx.state(), State::SynSent);
}

// RFC 9293 §3.10.7.3 first: in SYN-SENT, an ACK with SEG.ACK =< ISS or > SND.NXT draws
// <SEQ=SEG.ACK><CTL=RST> (unless RST is set) and is dropped.
#[test]
fn an_unacceptable_ack_in_syn_sent_draws_a_reset_and_the_state_stays() {
    let mut fx = socket_syn_sent(&cfg());
    let iss = fx.sock().iss();
    for ack in [iss, iss + 1000] {
        let seg = fx.peer_seg(SeqNum(5000), ack, Flags::SYN | Flags::ACK, vec![]);
        assert_only_rst(&fx.poke(seg), ack);
        assert_eq!(fx.state(), State::SynSent);
    }
}

// RFC 9293 §3.10.7.3 second: in SYN-SENT, a RST whose ACK is acceptable signals "connection
// reset" and enters CLOSED.
#[test]
fn a_rst_with_an_acceptable_ack_in_syn_sent_refuses_the_connection() {
    let mut fx = socket_syn_sent(&cfg());
    let snd_nxt = fx.sock().snd_nxt();
    let rst = fx.peer_seg(SeqNum(0), snd_nxt, Flags::RST | Flags::ACK, vec![]);
    assert!(fx.poke(rst).is_empty());
    assert_eq!(fx.state(), State::Closed);
    assert_eq!(fx.net.record(C, fx.conn).error, Some(ConnError::Refused));
}

// ----- SYN_RCVD -----

// RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT, then enter
// ESTABLISHED state".
#[test]
fn an_ack_of_our_syn_in_syn_rcvd_enters_established() {
    let mut fx = socket_syn_received(&cfg());
    let s = fx.sock();
    let seg = fx.peer_seg(s.rcv_nxt(), s.snd_nxt(), Flags::ACK, vec![]);
    assert!(fx.poke(seg).is_empty());
    assert_eq!(fx.state(), State::Established);
}

// RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: "If the segment acknowledgment is not acceptable,
// form a reset segment <SEQ=SEG.ACK><CTL=RST> and send it."
#[test]
fn an_unacceptable_ack_in_syn_rcvd_draws_a_reset_from_its_ack_and_the_state_stays() {
    let mut fx = socket_syn_received(&cfg());
    let s = fx.sock();
    let ack = s.snd_nxt() + 1000;
    let seg = fx.peer_seg(s.rcv_nxt(), ack, Flags::ACK, vec![]);
    assert_only_rst(&fx.poke(seg), ack);
    assert_eq!(fx.state(), State::SynReceived);
}

// RFC 9293 §3.10.7.4 second, SYN-RECEIVED: a RST on a connection from a passive OPEN "return[s]
// this connection to LISTEN state": the child goes, the listener stays, nothing is sent.
#[test]
fn a_rst_in_syn_rcvd_from_a_passive_open_returns_it_to_listen() {
    let mut fx = socket_syn_received(&cfg());
    let rcv_nxt = fx.sock().rcv_nxt();
    let lid = fx.net.listener.expect("listening");
    let seg = fx.peer_seg(rcv_nxt, SeqNum(0), Flags::RST, vec![]);
    assert!(fx.poke(seg).is_empty());
    assert_eq!(fx.state(), State::Closed);
    let l = fx.net.stacks[S].listener(lid).expect("the listener stays");
    assert_eq!((l.syn_queue, l.accept_queue.len()), (0, 0));
}

// ----- ESTABLISHED -----

// RFC 9293 §3.10.7.4 fifth, ESTABLISHED: "If the ACK acks something not yet sent (SEG.ACK >
// SND.NXT), then send an ACK, drop the segment, and return."
#[test]
fn an_ack_of_data_not_yet_sent_in_established_draws_an_ack_and_the_data_is_dropped() {
    let mut fx = socket_established(&cfg());
    let s = fx.sock();
    let (sn, rn) = (s.snd_nxt(), s.rcv_nxt());
    let mut seg = forge_data(s, 0..100);
    seg.ack = sn + 1000;
    assert_only_ack(&fx.poke(seg), sn, rn);
    assert_eq!((fx.sock().rcv_nxt(), fx.sock().recv_queue()), (rn, 0));
    assert_eq!(fx.state(), State::Established);
}

// RFC 9293 §3.10.7.4 first: a segment wholly below RCV.NXT is not acceptable; it draws
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and its text is not delivered again. The copy is made by
// a `Duplicate` fault on the wire, as a scenario stages one.
#[test]
fn an_old_duplicate_of_delivered_data_in_established_is_acked_and_not_delivered_again() {
    let mut fx = socket_established(&cfg());
    let (ch, sh) = (fx.h.expect("client"), fx.peer.expect("server"));
    let late = ms(50);
    fx.net.fault(Fault {
        len: Some(100),
        count: 1,
        ..fault(FaultAction::Duplicate(late), C)
    });
    let start = fx.net.now;
    assert_eq!(fx.net.send(C, ch, &pattern(0..100)), 100);
    let copy_at = start + D + late;
    fx.net.run_until(copy_at);
    let s = fx.net.sock(S, sh);
    assert_only_ack(&fx.net.sent_at(S, copy_at), s.snd_nxt(), s.rcv_nxt());
    assert_eq!(fx.net.recv(S, sh), pattern(0..100));
}

// RFC 9293 §3.10.7.4 first: segments beyond RCV.NXT "SHOULD be held for later processing";
// the receiver ACKs RCV.NXT meanwhile and delivers in order once the hole fills. The reordering
// is a `Delay` fault on the first segment.
#[test]
fn a_segment_overtaken_in_established_is_held_and_the_stream_delivered_in_order() {
    let mut fx = socket_established(&cfg());
    let (ch, sh) = (fx.h.expect("client"), fx.peer.expect("server"));
    let mss = cfg().mss as usize;
    fx.net.fault(Fault {
        count: 1,
        ..fault(FaultAction::Delay(ms(30)), C)
    });
    let start = fx.net.now;
    let rn = fx.net.sock(S, sh).rcv_nxt();
    assert_eq!(fx.net.send(C, ch, &pattern(0..2 * mss)), 2 * mss);
    fx.net.run_until(start + D);
    let dup = only(fx.net.sent_at(S, start + D));
    assert_eq!(
        (dup.flags, dup.ack),
        (Flags::ACK, rn),
        "the hole is reported"
    );
    assert!(fx.net.recv(S, sh).is_empty());
    fx.net.run_for(ms(30));
    let ack = only(fx.net.sent_at(S, start + D + ms(30)));
    assert_eq!(ack.ack, rn + 2 * mss as u32);
    assert_eq!(fx.net.recv(S, sh), pattern(0..2 * mss));
}

// ----- FIN_WAIT_1 -----

// RFC 9293 §3.10.7.4 eighth, FIN-WAIT-1: a FIN that does not acknowledge ours is ACKed
// (RCV.NXT = FIN + 1) and the connection enters CLOSING.
#[test]
fn a_fin_in_fin_wait_1_that_does_not_ack_ours_is_acked_and_enters_closing() {
    let mut fx = socket_fin_wait_1(&cfg());
    let s = fx.sock();
    let (sn, rn) = (s.snd_nxt(), s.rcv_nxt());
    let mut fin = forge(s, rn, Flags::FIN | Flags::ACK, vec![]);
    fin.ack = sn - 1;
    assert_only_ack(&fx.poke(fin), sn, rn + 1);
    assert_eq!(fx.state(), State::Closing);
}

// RFC 9293 §3.10.7.4 fifth, FIN-WAIT-1: "if the FIN segment is now acknowledged, then enter
// FIN-WAIT-2".
#[test]
fn the_ack_of_our_fin_in_fin_wait_1_enters_fin_wait_2() {
    let mut fx = socket_fin_wait_1(&cfg());
    let s = fx.sock();
    let ack = forge(s, s.rcv_nxt(), Flags::ACK, vec![]);
    assert!(fx.poke(ack).is_empty());
    assert_eq!(fx.state(), State::FinWait2);
}

// ----- FIN_WAIT_2 -----

// RFC 9293 §3.10.7.4 seventh, FIN-WAIT-2: segment text is delivered, as in ESTABLISHED.
#[test]
fn data_in_fin_wait_2_is_acked_and_delivered() {
    let mut fx = socket_fin_wait_2(&cfg());
    let s = fx.sock();
    let (sn, rn) = (s.snd_nxt(), s.rcv_nxt());
    let data = forge_data(s, 0..100);
    assert_only_ack(&fx.poke(data), sn, rn + 100);
    let h = fx.h.expect("the client holds its socket");
    assert_eq!(fx.net.recv(C, h), pattern(0..100));
    assert_eq!(fx.state(), State::FinWait2);
}

// RFC 9293 §3.10.7.4 eighth, FIN-WAIT-2: a FIN is acknowledged and the connection enters
// TIME-WAIT, its timer 2 MSL from now.
#[test]
fn a_fin_in_fin_wait_2_is_acked_and_enters_time_wait_for_2msl() {
    let cfg = cfg();
    let mut fx = socket_fin_wait_2(&cfg);
    let s = fx.sock();
    let (sn, rn) = (s.snd_nxt(), s.rcv_nxt());
    let fin = forge(s, rn, Flags::FIN | Flags::ACK, vec![]);
    assert_only_ack(&fx.poke(fin), sn, rn + 1);
    assert_eq!(fx.state(), State::TimeWait);
    let at = fx.net.now;
    assert_eq!(
        fx.net.time_wait_expiry(C, &fx.tuple),
        Some(at + cfg.time_wait)
    );
}

// ----- CLOSE_WAIT -----

// RFC 9293 §3.10.7.4 seventh, CLOSE-WAIT: "This should not occur since a FIN has been received
// from the remote side. Ignore the segment text."
#[test]
fn data_after_the_fin_in_close_wait_is_ignored() {
    let mut fx = socket_close_wait(&cfg());
    let s = fx.sock();
    let rn = s.rcv_nxt();
    let data = forge(s, rn, Flags::ACK | Flags::PSH, pattern(0..100));
    fx.poke(data);
    assert_eq!((fx.sock().rcv_nxt(), fx.sock().recv_queue()), (rn, 0));
    assert_eq!(fx.state(), State::CloseWait);
}

// RFC 9293 §3.10.7.4 first and eighth, CLOSE-WAIT: a retransmitted FIN lies below RCV.NXT, is
// not acceptable and draws <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; "Remain in the CLOSE-WAIT
// state."
#[test]
fn a_retransmitted_fin_in_close_wait_is_reacked_and_the_state_stays() {
    let mut fx = socket_close_wait(&cfg());
    let s = fx.sock();
    let (sn, rn) = (s.snd_nxt(), s.rcv_nxt());
    let fin = forge(s, rn - 1, Flags::FIN | Flags::ACK, vec![]);
    assert_only_ack(&fx.poke(fin), sn, rn);
    assert_eq!(fx.state(), State::CloseWait);
}

// ----- CLOSING -----

// RFC 9293 §3.10.7.4 first and eighth, CLOSING: a retransmitted FIN is re-ACKed; "Remain in
// the CLOSING state."
#[test]
fn a_fin_in_closing_is_reacked_and_the_state_stays() {
    let mut fx = socket_closing(&cfg());
    let s = fx.sock();
    let (sn, rn) = (s.snd_nxt(), s.rcv_nxt());
    let mut fin = forge(s, rn - 1, Flags::FIN | Flags::ACK, vec![]);
    fin.ack = sn - 1;
    assert_only_ack(&fx.poke(fin), sn, rn);
    assert_eq!(fx.state(), State::Closing);
}

// RFC 9293 §3.10.7.4 fifth, CLOSING: "if the ACK acknowledges our FIN, then enter the
// TIME-WAIT state".
#[test]
fn the_ack_of_our_fin_in_closing_enters_time_wait() {
    let mut fx = socket_closing(&cfg());
    let s = fx.sock();
    let ack = forge(s, s.rcv_nxt(), Flags::ACK, vec![]);
    assert!(fx.poke(ack).is_empty());
    assert_eq!(fx.state(), State::TimeWait);
}

// ----- LAST_ACK -----

// RFC 9293 §3.10.7.4 fifth, LAST-ACK: "If our FIN is now acknowledged, delete the TCB, enter
// the CLOSED state, and return."
#[test]
fn the_ack_of_our_fin_in_last_ack_closes_the_connection_silently() {
    let mut fx = socket_last_ack(&cfg());
    let s = fx.sock();
    let ack = forge(s, s.rcv_nxt(), Flags::ACK, vec![]);
    assert!(fx.poke(ack).is_empty());
    assert_eq!(fx.state(), State::Closed);
}

// RFC 9293 §3.10.7.4 first and eighth, LAST-ACK: a retransmitted FIN is re-ACKed; "Remain in
// the LAST-ACK state."
#[test]
fn a_fin_retransmitted_into_last_ack_is_reacked_and_the_state_stays() {
    let mut fx = socket_last_ack(&cfg());
    let s = fx.sock();
    let (sn, rn) = (s.snd_nxt(), s.rcv_nxt());
    let mut fin = forge(s, rn - 1, Flags::FIN | Flags::ACK, vec![]);
    fin.ack = sn - 1;
    assert_only_ack(&fx.poke(fin), sn, rn);
    assert_eq!(fx.state(), State::LastAck);
}

// ----- TIME_WAIT -----

// RFC 9293 §3.10.7.4 eighth, TIME-WAIT: "Remain in the TIME-WAIT state. Restart the 2 MSL
// time-wait timeout." The ACK is <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
#[test]
fn a_fin_retransmitted_into_time_wait_is_reacked_and_restarts_2msl() {
    let cfg = cfg();
    let mut fx = socket_time_wait(&cfg);
    let (tw, first) = {
        let (tw, e) = fx.net.stacks[C].time_wait().get(&fx.tuple).expect("held");
        (*tw, e)
    };
    fx.net.run_for(secs(5));
    let fin = fx.peer_seg(tw.rcv_nxt - 1, tw.snd_nxt, Flags::FIN | Flags::ACK, vec![]);
    assert_only_ack(&fx.poke(fin), tw.snd_nxt, tw.rcv_nxt);
    let at = fx.net.now;
    let expiry = fx.net.time_wait_expiry(C, &fx.tuple);
    assert_eq!(expiry, Some(at + cfg.time_wait));
    assert!(expiry > Some(first));
    assert_eq!(fx.state(), State::TimeWait);
}

// ----- every fixture -----

// Each fixture reaches its state through the RFC 9293 §3.3.2 diagram's arcs; the whole path
// is logged, one cause per arc.
#[test]
fn every_fixture_reaches_its_state_along_the_state_diagram() {
    use State::*;
    let c = cfg();
    let cases: Vec<(Fixture, Vec<State>)> = vec![
        (
            socket_closed(&c),
            vec![SynSent, Established, FinWait1, FinWait2, TimeWait, Closed],
        ),
        (
            socket_closed_by_reset(&c),
            vec![SynSent, Established, Closed],
        ),
        (socket_syn_sent(&c), vec![SynSent]),
        (socket_syn_received(&c), vec![SynReceived]),
        (socket_established(&c), vec![SynSent, Established]),
        (socket_fin_wait_1(&c), vec![SynSent, Established, FinWait1]),
        (
            socket_fin_wait_2(&c),
            vec![SynSent, Established, FinWait1, FinWait2],
        ),
        (
            socket_close_wait(&c),
            vec![SynReceived, Established, CloseWait],
        ),
        (
            socket_closing(&c),
            vec![SynSent, Established, FinWait1, Closing],
        ),
        (
            socket_last_ack(&c),
            vec![SynReceived, Established, CloseWait, LastAck],
        ),
        (
            socket_time_wait(&c),
            vec![SynSent, Established, FinWait1, FinWait2, TimeWait],
        ),
    ];
    let mut seen = vec![Listen];
    for (fx, want) in cases {
        let trs = fx.net.transitions(fx.host, fx.conn);
        let got: Vec<State> = trs.iter().map(|tr| tr.2).collect();
        assert_eq!(got, want, "host {} conn {:?}", fx.host, fx.conn);
        for pair in trs.windows(2) {
            assert_eq!(pair[0].2, pair[1].1, "each arc starts where the last ended");
        }
        seen.push(fx.state());
    }
    seen.sort_by_key(|s| State::ALL.iter().position(|a| a == s));
    seen.dedup();
    assert_eq!(seen, State::ALL, "all 11 states");
}

/// The row `ss -tano` would print for `tuple` on `host` now.
fn ss_row(fx: &Fixture) -> NetstatRow {
    let rows = fx.net.stacks[fx.host].netstat(fx.net.now);
    rows.into_iter()
        .find(|r| r.local == fx.tuple.local && r.foreign == Some(fx.tuple.remote))
        .expect("a row for the fixture's 4-tuple")
}

// Linux `ss -o`: a FIN waiting for its ACK shows the retransmission timer (`on`) with the
// time left and the retransmissions so far (`icsk_retransmits`); RFC 6298 §5.5 doubles it.
#[test]
fn ss_shows_the_retransmission_timer_of_an_unacknowledged_fin_and_its_retries() {
    let mut fx = socket_fin_wait_1(&cfg());
    let rto = fx.net.sock(C, fx.h.unwrap()).rto();
    let closed = before(fx.net.now, D * 2);
    let t = ss_row(&fx).timer.expect("a timer");
    let left = (closed + rto) - fx.net.now;
    assert_eq!((t.kind, t.remaining, t.retrans), (TimerKind::On, left, 0));
    // After the first timeout the FIN went again, and the timer is backed off.
    fx.net.run_until(closed + rto + ms(1));
    let t = ss_row(&fx).timer.expect("a timer");
    assert_eq!((t.kind, t.retrans), (TimerKind::On, 1));
    assert_eq!(t.remaining, (closed + rto * 3) - fx.net.now);
}

// Linux keeps TIME_WAIT as a timewait socket whose timer `ss -o` shows as
// `timer:(timewait,59sec,0)`: the time left of 2 x MSL, restarted by nothing here.
#[test]
fn ss_shows_the_time_left_in_time_wait() {
    let cfg = cfg();
    let mut fx = socket_time_wait(&cfg);
    let entered = fx.net.entered(fx.host, fx.conn, State::TimeWait).unwrap();
    fx.net.run_for(secs(20));
    let t = ss_row(&fx).timer.expect("a timer");
    assert_eq!(t.kind, TimerKind::TimeWait);
    let (_, expires) = fx.net.stacks[fx.host].time_wait().get(&fx.tuple).unwrap();
    assert_eq!(t.remaining, expires - fx.net.now);
    assert_eq!(t.remaining, (entered + cfg.time_wait) - fx.net.now);
}

// An ESTABLISHED connection with nothing in flight has no timer: `ss -o` prints none.
#[test]
fn an_idle_established_connection_shows_no_timer() {
    let fx = socket_established(&cfg());
    assert_eq!(ss_row(&fx).timer, None);
}
