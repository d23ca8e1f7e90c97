//! Linux's retransmission timer on the wire (`timers = "linux"`, the default): its RTT
//! estimator and jiffy rounding, RTT samples from timestamp echoes, `tcp_retries2` as a time
//! budget (and `tcp_orphan_retries` for sockets their application closed), and SYN queue
//! pruning. Each expected number is worked out in the comment above it.

mod common;

use common::pair::*;
use timewait::net::Fault;
use timewait::sim::{Duration, SimTime};
use timewait::tcp::{ConnError, State, TcpConfig, TimerPreset};

/// Times of a list of sent segments.
fn times(v: &[(SimTime, timewait::tcp::Segment)]) -> Vec<SimTime> {
    v.iter().map(|(t, _)| *t).collect()
}

/// One connection over a 10.5 ms one-way wire (RTT 21 ms); the client's RTO afterwards.
fn rto_after_handshake(cfg: TcpConfig) -> Duration {
    let mut net = Net::new(cfg.clone(), cfg, Duration::from_micros(10_500));
    let (ch, _) = net.open(None);
    net.sock(C, ch).rto()
}

#[test]
fn linux_rto_is_srtt_plus_rto_min_rounded_up_to_a_whole_jiffy() {
    // The handshake's one sample, m = 21 ms: srtt = 21 ms, mdev_us = 2m = 42 ms, rttvar =
    // max(42 ms, rto_min 200 ms) = 200 ms; RTO = 221 ms, which is 55.25 jiffies of 4 ms at
    // HZ=250: 56 jiffies, 224 ms. At HZ=1000: 221 ms.
    assert_eq!(rto_after_handshake(TcpConfig::default()), ms(224));
    let hz1000 = TcpConfig {
        hz: 1000,
        ..TcpConfig::default()
    };
    assert_eq!(rto_after_handshake(hz1000), ms(221));
    // RFC 6298 with the same 200 ms floor: max(200, 21 + 4 x 10.5 = 63) = 200 ms.
    let rfc = TcpConfig {
        timers: TimerPreset::Rfc6298,
        rto_min: ms(200),
        ..TcpConfig::default()
    };
    assert_eq!(rto_after_handshake(rfc), ms(200));
}

#[test]
fn lost_data_is_resent_one_linux_rto_after_it_left() {
    let mut net = Net::new(
        TcpConfig::default(),
        TcpConfig::default(),
        Duration::from_micros(10_500),
    );
    let (ch, _) = net.open(None);
    net.fault_where(
        Fault {
            count: 1,
            ..drop_from(C)
        },
        is_data,
    );
    let sent = net.now;
    net.send(C, ch, &pattern(0..100));
    net.run_for(secs(1));
    let data = times(&net.sent_by(C, is_data));
    assert_eq!(data, [sent, sent + ms(224)]);
}

/// A server whose first SYN-ACK is lost; the client waits 5 s before resending its SYN, so
/// only the server's timer acts. Returns the server's RTO once the handshake is done.
fn server_rto_after_a_resent_syn_ack(timestamps: bool) -> Duration {
    let cfg = TcpConfig {
        timestamps,
        ..TcpConfig::default()
    };
    let client = TcpConfig {
        rto_initial: secs(5),
        ..cfg.clone()
    };
    let mut net = Net::new(client, cfg, Duration::from_micros(10_500));
    net.fault_where(
        Fault {
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
        .expect("the resent SYN-ACK completed the handshake");
    net.sock(S, sh).rto()
}

#[test]
fn a_resent_syn_ack_is_timed_by_the_timestamp_echo_of_the_final_ack() {
    // Linux `tcp_synack_rtt_meas`: a retransmitted SYN-ACK gives no sample from its send time
    // (Karn), but the final ACK echoes the resent SYN-ACK's TSval: sent at 1.0105 s (TS clock
    // 1010 ms), echoed back at 1.0315 s (1031 ms): 21 ms, so RTO = 21 + 200 = 221 ms, 224 ms
    // in 4 ms jiffies. Without timestamps there is no sample: RFC 6298 §5.7's 3 s.
    assert_eq!(server_rto_after_a_resent_syn_ack(true), ms(224));
    assert_eq!(server_rto_after_a_resent_syn_ack(false), secs(3));
}

/// A connection over `delay` whose client loses every segment from `at` on; returns the times
/// of the client's data segments and when it failed with a timeout.
fn fail_by_timeout(cfg: TcpConfig, delay: Duration) -> (Vec<SimTime>, SimTime) {
    let mut net = Net::new(cfg.clone(), cfg, delay);
    let (ch, _) = net.open(None);
    net.fault(Fault {
        after: net.now,
        ..drop_from(C)
    });
    net.send(C, ch, &pattern(0..100));
    net.run_for(secs(3000));
    let data = times(&net.sent_by(C, is_data));
    let failed = net
        .events_of(C, ch)
        .into_iter()
        .find(|(_, e)| *e == timewait::tcp::SocketEvent::TimedOut)
        .map(|(t, _)| t)
        .expect("the connection timed out");
    (data, failed)
}

#[test]
fn tcp_retries2_is_a_time_budget_counted_from_the_first_transmission() {
    // Linux `tcp_model_timeout(3, TCP_RTO_MIN)`: (2^4 - 1) x 200 ms = 3.0 s. With rto_min 1 s
    // over a 20 ms RTT, RTO = 1.020 s (255 jiffies): the data leaves at T, is resent at T +
    // 1.020, and at the next expiry, T + 3.060, 3.060 s >= 3.0 s have passed since T: the
    // connection fails after one retransmission. A real kernel (6.18, veth pair, route
    // `rto_min 1s`, tcp_retries2 = 3) failed the same way after 3.075 s. RFC 6298's count
    // (RTO max(1 s, 20 + 4 x 10 ms) = 1 s) resends three times: T + 1, 3, 7, and fails at
    // T + 15 s.
    let linux = TcpConfig {
        data_retries: 3,
        rto_min: secs(1),
        ..TcpConfig::default()
    };
    let (data, failed) = fail_by_timeout(linux, D);
    let t0 = data[0];
    assert_eq!(data, [t0, t0 + ms(1020)]);
    assert_eq!(failed, t0 + ms(3060));
    let rfc = TcpConfig {
        data_retries: 3,
        timers: TimerPreset::Rfc6298,
        rto_min: secs(1),
        ..TcpConfig::default()
    };
    let (data, failed) = fail_by_timeout(rfc, D);
    let t0 = data[0];
    assert_eq!(data, [t0, t0 + secs(1), t0 + secs(3), t0 + secs(7)]);
    assert_eq!(failed, t0 + secs(15));
}

/// A connection whose client loses everything from now on and then ends its side, with
/// close() (an orphan) or shutdown() (not one); the times of its FINs and when it was released.
fn fin_wait_1_gives_up(cfg: TcpConfig, orphan: bool) -> (Vec<SimTime>, SimTime) {
    let mut net = Net::new(cfg.clone(), cfg, D);
    let (ch, _) = net.open(None);
    let conn = net.sock(C, ch).conn;
    net.fault(Fault {
        after: net.now,
        ..drop_from(C)
    });
    if orphan {
        net.close(C, ch);
    } else {
        net.shutdown(C, ch);
    }
    net.run_for(secs(3000));
    let r = net.record(C, conn);
    assert_eq!(r.error, Some(ConnError::TimedOut), "{r:?}");
    (times(&net.sent_by(C, is_fin)), r.closed_at)
}

#[test]
fn an_orphaned_fin_wait_1_gives_up_after_eight_retries_not_fifteen() {
    // Linux `tcp_write_timeout`: a socket its application closed (SOCK_DEAD) retries
    // `tcp_orphan_retries` times, and 0 (the default) means 8 while the RTO is below
    // TCP_RTO_MAX: budget (2^9 - 1) x 200 ms = 102.2 s. Over a 20 ms RTT the RTO is 220 ms
    // (55 jiffies), doubling: expiries at T + 0.22 x (2^k - 1), k = 1..9: 0.22, 0.66, ...,
    // 56.10, 112.42 s. At 56.10 s < 102.2 s the 8th retransmission goes; at 112.42 s the
    // budget is spent. The same socket after shutdown() is no orphan and keeps tcp_retries2's
    // 924.6 s: expiries go on doubling to 112.42 and 225.06 s (RTO 112.64 s, then capped at
    // 120 s), then every 120 s: 345.06, ..., 825.06, 945.06: 15 retransmissions, released at
    // T + 945.06 s.
    let (fins, released) = fin_wait_1_gives_up(TcpConfig::default(), true);
    let t0 = fins[0];
    assert_eq!(fins.len(), 1 + 8, "{fins:?}");
    assert_eq!(fins[8], t0 + ms(56_100));
    assert_eq!(released, t0 + ms(112_420));
    let (fins, released) = fin_wait_1_gives_up(TcpConfig::default(), false);
    let t0 = fins[0];
    assert_eq!(fins.len(), 1 + 15, "{fins:?}");
    assert_eq!(released, t0 + ms(945_060));
}

#[test]
fn tcp_orphan_retries_set_is_a_budget_too() {
    // tcp_orphan_retries = 3 with rto_min 1 s: budget (2^4 - 1) x 200 ms = 3.0 s, so as with
    // tcp_retries2 = 3 above: FIN at T, resent at T + 1.020, released at T + 3.060. A real
    // kernel (6.18, veth pair, route `rto_min 1s`, the peer's address removed) kept its
    // orphaned FIN_WAIT_1 until T + 8.0 s: it also sends a tail loss probe at T + 1.0 s
    // (`tcp_send_loss_probe`, which the model does not have) that neither backs off the RTO
    // nor starts the budget's clock, then retransmits at T + 2.0 and T + 4.0 and gives up at
    // T + 8.0, 6.0 s after its first retransmission: a budget, where a count of 3 would have
    // gone on to T + 16.
    let cfg = TcpConfig {
        orphan_retries: 3,
        rto_min: secs(1),
        ..TcpConfig::default()
    };
    let (fins, released) = fin_wait_1_gives_up(cfg, true);
    let t0 = fins[0];
    assert_eq!(fins, [t0, t0 + ms(1020)]);
    assert_eq!(released, t0 + ms(3060));
}

#[test]
fn the_default_fifteen_retries_are_924_6_s_so_a_long_rtt_gets_fewer() {
    // tcp_retries2 = 15: (2^10 - 1) x 0.2 s + (15 - 9) x 120 s = 924.6 s. Over a 500 ms RTT the
    // handshake's sample gives srtt 500 ms, mdev_us 1 s, RTO 1.5 s. Expiries come at T + 1.5 x
    // (2^k - 1) while the RTO doubles (k = 1..7: 1.5, 4.5, ..., 190.5 s; the 8th interval
    // would be 192 s, capped at 120), then every 120 s: 310.5, ..., 910.5, 1030.5. At
    // 910.5 s < 924.6 s the 13th retransmission goes; at 1030.5 s the budget is spent. So
    // 13 retransmissions, not 15.
    let (data, failed) = fail_by_timeout(TcpConfig::default(), ms(250));
    let t0 = data[0];
    assert_eq!(data.len(), 1 + 13, "{data:?}");
    assert_eq!(data[13], t0 + ms(910_500));
    assert_eq!(failed, t0 + ms(1_030_500));
}

#[test]
fn syn_queue_pruning_drops_old_half_open_connections_until_the_queue_is_half_empty() {
    // Eight SYNs whose handshakes never complete (the server's segments are all lost), to a
    // listener with backlog 8 (Linux holds at most `backlog` requests). While the SYN queue
    // holds more than half of max(8, backlog), i.e. 5 or more, Linux `reqsk_timer_handler`
    // lowers synack_retries from 5 by one for each doubling by which the queue reaches twice
    // the young requests (never timed out), down to 2. At the first timeouts (1 s) most are
    // young: no request is old enough to drop. At the second (3 s) none is young: 2 retries.
    // At the third (7 s), in the order the SYNs came, requests are dropped while the queue
    // still holds 5 or more: four of them (8, 7, 6, 5), after 3 SYN-ACKs each. The last four
    // find a queue of 4 and keep all 5 retries: 6 SYN-ACKs, dropped at 63 s.
    let expect = |i: u16| if i < 4 { (3, secs(7)) } else { (6, secs(63)) };
    half_open_flood(8, expect);
    // A listener with backlog 128 is never half full: nothing is pruned.
    half_open_flood(128, |_| (6, secs(63)));
}

/// Eight half-open connections to a listener with `backlog`; `expect(i)` is the number of
/// SYN-ACKs the i-th gets and how long after its first it is dropped.
fn half_open_flood(backlog: u32, expect: impl Fn(u16) -> (usize, Duration)) {
    let mut net = Net::pair(&TcpConfig::default());
    net.fault(drop_from(S));
    // Only the first SYN of each client gets through.
    net.fault_where(
        Fault {
            skip: 8,
            ..drop_from(C)
        },
        is_syn,
    );
    net.listen(backlog);
    for i in 0..8 {
        net.connect(Some(CPORT + i)).expect("connect");
    }
    net.run_for(secs(100));
    for i in 0..8 {
        let port = CPORT + i;
        let (syn_acks, dropped_after) = expect(i);
        let sent = times(&net.sent_by(S, |s| is_syn_ack(s) && s.dst_port == port));
        assert_eq!(sent.len(), syn_acks, "port {port}, backlog {backlog}");
        let closed = net
            .log
            .iter()
            .find_map(|(t, h, l)| match l {
                timewait::tcp::TcpLog::State(tr)
                    if *h == S && tr.tuple.remote.port() == port && tr.to == State::Closed =>
                {
                    Some(*t)
                }
                _ => None,
            })
            .expect("the half-open connection was dropped");
        assert_eq!(
            closed,
            sent[0] + dropped_after,
            "port {port}, backlog {backlog}"
        );
    }
}
