//! `TimeWait::judge` as a table: hand-built TIME_WAIT records and segments, every expected
//! verdict derived from the RFC text or from Linux `tcp_timewait_state_process`
//! (net/ipv4/tcp_minisocks.c), named in each row; the cases that need more words than a row
//! are separate tests at the end.

use std::net::{Ipv4Addr, SocketAddrV4};

use timewait::sim::SimTime;
use timewait::tcp::{
    ConnId, Flags, FourTuple, ReopenIss, Segment, SeqNum, SynInTimeWait, TcpConfig, TimeWait,
    Timestamps, TwVerdict,
};

/// The record's RCV.NXT (just after the peer's FIN) and SND.NXT (just after ours).
const RCV_NXT: SeqNum = SeqNum(1_000_000);
const SND_NXT: SeqNum = SeqNum(5_000_000);
/// The window advertised last.
const RCV_WND: u16 = 65_535;
/// TS.Recent: the peer's last TSval (non-zero, as Linux PAWS needs).
const TS_RECENT: u32 = 7_000;

/// A record of a closed connection; `ts_on` if it used timestamps.
fn record(ts_on: bool) -> TimeWait {
    TimeWait {
        tuple: FourTuple {
            local: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80),
            remote: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 40000),
        },
        conn: ConnId { host: 1, n: 1 },
        snd_nxt: SND_NXT,
        rcv_nxt: RCV_NXT,
        rcv_wnd: RCV_WND,
        ts_recent: TS_RECENT,
        ts_offset: 0,
        ts_on,
        ts_recent_at: SimTime::from_nanos(1_000_000_000),
        since: SimTime::from_nanos(1_000_000_000),
    }
}

/// A segment from the peer to the record's 4-tuple.
fn seg(seq: SeqNum, flags: Flags, tsval: Option<u32>, len: usize) -> Segment {
    Segment {
        src_port: 40000,
        dst_port: 80,
        seq,
        ack: if flags.ack() { SND_NXT } else { SeqNum(0) },
        flags,
        window: 65_535,
        timestamps: tsval.map(|tsval| Timestamps { tsval, tsecr: 0 }),
        payload: vec![0xab; len].into(),
        ..Segment::default()
    }
}

fn config(policy: SynInTimeWait, rfc1337: bool, timestamps: bool) -> TcpConfig {
    TcpConfig {
        syn_in_time_wait: policy,
        rfc1337,
        timestamps,
        ..TcpConfig::default()
    }
}

/// Where the SYN's sequence number lies against the old RCV.NXT.
#[derive(Clone, Copy, Debug)]
enum Seq {
    Above,
    At,
    Below,
}

/// The SYN's timestamp against TS.Recent; `Off` means neither the old connection nor the
/// SYN used timestamps.
#[derive(Clone, Copy, Debug)]
enum Ts {
    Off,
    Newer,
    Equal,
    Older,
}

fn syn(s: Seq, t: Ts) -> (TimeWait, Segment) {
    let seq = match s {
        Seq::Above => RCV_NXT + 1_000,
        Seq::At => RCV_NXT,
        Seq::Below => RCV_NXT - 1_000,
    };
    let tsval = match t {
        Ts::Off => None,
        Ts::Newer => Some(TS_RECENT + 100),
        Ts::Equal => Some(TS_RECENT),
        Ts::Older => Some(TS_RECENT - 100),
    };
    (record(tsval.is_some()), seg(seq, Flags::SYN, tsval, 0))
}

/// What a row expects.
#[derive(Clone, Copy, Debug)]
enum Want {
    Exactly(TwVerdict),
    /// A reopening, the ISS left unconstrained by the source.
    AnyReopen,
}

use SynInTimeWait::{Linux, Rfc1122, Rfc6191, Rfc9293};
use TwVerdict::{Ack, Ignore, Kill, Reopen, Restart};

const ACK: Want = Want::Exactly(Ack { restart: false });
const DROP: Want = Want::Exactly(Ignore);
const ABOVE_OLD: Want = Want::Exactly(Reopen(ReopenIss::AboveOld(SND_NXT)));
/// Linux: `isn = tw_snd_nxt + 65535 + 2`.
const LINUX_ISN: Want = Want::Exactly(Reopen(ReopenIss::Exactly(SeqNum(5_000_000 + 65_537))));
const GENERATED: Want = Want::Exactly(Reopen(ReopenIss::Generated));

/// (policy, SYN sequence, SYN timestamp, expected, source).
type SynRow = (SynInTimeWait, Seq, Ts, Want, &'static str);

// Sources of the SYN rows:
// R9293: RFC 9293 §3.10.7.4 fourth check with RFC 5961 §4.2: a SYN in a synchronized state,
//   whatever its sequence number, draws a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and
//   is dropped; only a retransmitted FIN restarts 2MSL, so no restart. RFC 7323 §5.3 R1 (an
//   older TSval) ends the same way: ACK and drop.
// R1122: RFC 1122 §4.2.2.13 (RFC 9293 MAY-2) with BSD's test SEQ_GT(SEG.SEQ, RCV.NXT): reopen
//   with an ISS above the old SND.NXT; otherwise the segment goes on through RFC 9293 (challenge
//   ACK). RFC 1122 has no timestamps: a newer or equal TSval passes RFC 7323 R1 (it rejects
//   only SEG.TSval < TS.Recent) and changes nothing.
// LINUX: tcp_timewait_state_process: reopen if !paws_reject && (after(seq, rcv_nxt) ||
//   (saw_tstamp && (s32)(ts_recent - tsval) < 0)), ISS tw_snd_nxt + 65537; otherwise ACK,
//   restarting only `if (paws_reject || th->ack)`, so not for an acceptable bare SYN.
// R6191: RFC 6191 §2: with timestamps on both incarnations honour the SYN if TSval > last
//   seen, or TSval = last seen and SEQ > last seen; without timestamps the RFC 1122 SEQ rule
//   (as BSD: SEQ_GT(SEG.SEQ, RCV.NXT)); "otherwise, silently drop". RFC 6191 does not pick the
//   ISS; with timestamps on, the ordinary generator (RFC 6528) is what the model documents.
const SYN_ROWS: &[SynRow] = &[
    (Rfc9293, Seq::Above, Ts::Off, ACK, "R9293"),
    (Rfc9293, Seq::At, Ts::Off, ACK, "R9293"),
    (Rfc9293, Seq::Below, Ts::Off, ACK, "R9293"),
    (Rfc9293, Seq::Above, Ts::Newer, ACK, "R9293"),
    (Rfc9293, Seq::At, Ts::Newer, ACK, "R9293"),
    (Rfc9293, Seq::Below, Ts::Newer, ACK, "R9293"),
    (Rfc9293, Seq::Above, Ts::Equal, ACK, "R9293"),
    (Rfc9293, Seq::At, Ts::Equal, ACK, "R9293"),
    (Rfc9293, Seq::Below, Ts::Equal, ACK, "R9293"),
    (Rfc9293, Seq::Above, Ts::Older, ACK, "R9293 + RFC 7323 R1"),
    (Rfc9293, Seq::At, Ts::Older, ACK, "R9293 + RFC 7323 R1"),
    (Rfc9293, Seq::Below, Ts::Older, ACK, "R9293 + RFC 7323 R1"),
    (
        Rfc1122,
        Seq::Above,
        Ts::Off,
        ABOVE_OLD,
        "R1122: SEQ > RCV.NXT",
    ),
    (
        Rfc1122,
        Seq::At,
        Ts::Off,
        ACK,
        "R1122: SEQ = RCV.NXT is not above",
    ),
    (Rfc1122, Seq::Below, Ts::Off, ACK, "R1122"),
    (Rfc1122, Seq::Above, Ts::Newer, ABOVE_OLD, "R1122"),
    (
        Rfc1122,
        Seq::At,
        Ts::Newer,
        ACK,
        "R1122: the TSval is not consulted",
    ),
    (
        Rfc1122,
        Seq::Below,
        Ts::Newer,
        ACK,
        "R1122: the TSval is not consulted",
    ),
    (Rfc1122, Seq::Above, Ts::Equal, ABOVE_OLD, "R1122"),
    (Rfc1122, Seq::At, Ts::Equal, ACK, "R1122"),
    (Rfc1122, Seq::Below, Ts::Equal, ACK, "R1122"),
    // (Rfc1122, Above, Older): see rfc7323_an_old_timestamp_stops_an_rfc1122_reopening.
    (Rfc1122, Seq::At, Ts::Older, ACK, "R1122 + RFC 7323 R1"),
    (Rfc1122, Seq::Below, Ts::Older, ACK, "R1122 + RFC 7323 R1"),
    (
        Linux,
        Seq::Above,
        Ts::Off,
        LINUX_ISN,
        "LINUX: after(seq, rcv_nxt)",
    ),
    (Linux, Seq::At, Ts::Off, ACK, "LINUX: not after, no ACK bit"),
    (
        Linux,
        Seq::Below,
        Ts::Off,
        ACK,
        "LINUX: not after, no ACK bit",
    ),
    (Linux, Seq::Above, Ts::Newer, LINUX_ISN, "LINUX"),
    (Linux, Seq::At, Ts::Newer, LINUX_ISN, "LINUX: newer TSval"),
    (
        Linux,
        Seq::Below,
        Ts::Newer,
        LINUX_ISN,
        "LINUX: newer TSval",
    ),
    (
        Linux,
        Seq::Above,
        Ts::Equal,
        LINUX_ISN,
        "LINUX: equal passes PAWS, seq after",
    ),
    (Linux, Seq::At, Ts::Equal, ACK, "LINUX: equal is not newer"),
    (
        Linux,
        Seq::Below,
        Ts::Equal,
        ACK,
        "LINUX: equal is not newer",
    ),
    // (Linux, *, Older): see linux_a_paws_rejected_syn_restarts_time_wait.
    (
        Rfc6191,
        Seq::Above,
        Ts::Off,
        Want::AnyReopen,
        "R6191 via RFC 1122",
    ),
    (Rfc6191, Seq::At, Ts::Off, DROP, "R6191: otherwise drop"),
    (Rfc6191, Seq::Below, Ts::Off, DROP, "R6191: otherwise drop"),
    (
        Rfc6191,
        Seq::Above,
        Ts::Newer,
        GENERATED,
        "R6191: TSval greater",
    ),
    (
        Rfc6191,
        Seq::At,
        Ts::Newer,
        GENERATED,
        "R6191: TSval greater",
    ),
    (
        Rfc6191,
        Seq::Below,
        Ts::Newer,
        GENERATED,
        "R6191: TSval greater",
    ),
    (
        Rfc6191,
        Seq::Above,
        Ts::Equal,
        GENERATED,
        "R6191: TSval equal, SEQ greater",
    ),
    (
        Rfc6191,
        Seq::At,
        Ts::Equal,
        DROP,
        "R6191: TSval equal, SEQ not greater",
    ),
    (
        Rfc6191,
        Seq::Below,
        Ts::Equal,
        DROP,
        "R6191: TSval equal, SEQ not greater",
    ),
    (Rfc6191, Seq::Above, Ts::Older, DROP, "R6191: TSval older"),
    (Rfc6191, Seq::At, Ts::Older, DROP, "R6191: TSval older"),
    (Rfc6191, Seq::Below, Ts::Older, DROP, "R6191: TSval older"),
];

fn check(got: TwVerdict, want: Want) -> bool {
    match want {
        Want::Exactly(v) => got == v,
        Want::AnyReopen => matches!(got, Reopen(_)),
    }
}

#[test]
fn a_syn_in_time_wait_is_judged_by_each_policy_as_its_source_says() {
    let mut wrong = Vec::new();
    for &(policy, s, t, want, why) in SYN_ROWS {
        let (tw, syn) = syn(s, t);
        let got = tw.judge(&syn, &config(policy, false, true));
        if !check(got, want) {
            wrong.push(format!(
                "{policy:?} SYN {s:?} TS {t:?}: got {got:?}, want {want:?} ({why})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// The table holds each policy x SEQ x TSval combination once, bar the four tested apart below.
#[test]
fn the_syn_table_covers_every_combination_but_those_tested_apart() {
    let key = |p: SynInTimeWait, s: Seq, t: Ts| format!("{p:?} {s:?} {t:?}");
    let mut have: Vec<String> = SYN_ROWS.iter().map(|r| key(r.0, r.1, r.2)).collect();
    have.sort();
    let n = have.len();
    have.dedup();
    assert_eq!(have.len(), n, "no combination twice");
    let mut missing = Vec::new();
    for p in [Rfc9293, Rfc1122, Linux, Rfc6191] {
        for s in [Seq::Above, Seq::At, Seq::Below] {
            for t in [Ts::Off, Ts::Newer, Ts::Equal, Ts::Older] {
                if !have.contains(&key(p, s, t)) {
                    missing.push(key(p, s, t));
                }
            }
        }
    }
    assert_eq!(
        missing,
        [
            key(Rfc1122, Seq::Above, Ts::Older),
            key(Linux, Seq::Above, Ts::Older),
            key(Linux, Seq::At, Ts::Older),
            key(Linux, Seq::Below, Ts::Older),
        ]
    );
}

/// (segment, rfc1337, expected, source) for a record with timestamps on.
type Row = (Segment, bool, TwVerdict, &'static str);

fn other_rows() -> Vec<Row> {
    let ts = Some(TS_RECENT + 10);
    let old_ts = Some(TS_RECENT - 10);
    let rst = |seq: SeqNum, tsval: Option<u32>| seg(seq, Flags::RST, tsval, 0);
    vec![
        // RFC 9293 §3.10.7.4 second check (TIME-WAIT: "enter the CLOSED state"), RFC 5961 §3.2
        // (exactly RCV.NXT resets); Linux: `if (!sysctl_tcp_rfc1337) goto kill`.
        (rst(RCV_NXT, None), false, Kill, "RFC 9293 / RFC 5961 §3.2"),
        // RFC 1337 §3 fix F1: ignore RST segments in TIME-WAIT.
        (rst(RCV_NXT, None), true, Ignore, "RFC 1337 F1"),
        // RFC 9293 §3.10.7.4 first check: an unacceptable RST is dropped, never answered.
        (
            rst(RCV_NXT + 100_000, None),
            false,
            Ignore,
            "RFC 9293 first check",
        ),
        (
            rst(RCV_NXT - 1, None),
            false,
            Ignore,
            "RFC 9293 first check",
        ),
        (rst(RCV_NXT + 100_000, None), true, Ignore, "RFC 1337 F1"),
        // Inside the window but not at RCV.NXT: Linux takes the in-window path only for
        // seq == rcv_nxt, and a RST elsewhere ends in `inet_twsk_put; return TCP_TW_SUCCESS`.
        (rst(RCV_NXT + 100, None), false, Ignore, "Linux"),
        // RFC 7323 §5.3 R1 rejects an older TSval only "if the RST bit is not set".
        (rst(RCV_NXT, old_ts), false, Kill, "RFC 7323 §5.3 R1"),
        // A bare ACK at RCV.NXT: Linux's "in window segment, it may be only reset or bare ack"
        // branch reschedules TCP_TIMEWAIT_LEN and answers nothing.
        (seg(RCV_NXT, Flags::ACK, ts, 0), false, Restart, "Linux"),
        // A retransmitted FIN: RFC 9293 §3.10.7.4 ("acknowledge it, and restart the 2 MSL
        // timeout"); Linux: out of window, `th->ack` reschedules, then an ACK.
        (
            seg(RCV_NXT - 1, Flags::FIN | Flags::ACK, ts, 0),
            false,
            Ack { restart: true },
            "RFC 9293 TIME-WAIT; Linux",
        ),
        // PAWS: RFC 7323 §5.3 R1, an older TSval is unacceptable, answered with an ACK;
        // Linux: `if (paws_reject || th->ack) inet_twsk_reschedule`, then an ACK.
        (
            seg(RCV_NXT, Flags::ACK, old_ts, 0),
            false,
            Ack { restart: true },
            "RFC 7323 R1; Linux",
        ),
        // An old duplicate with data: RFC 9293 first check, unacceptable, ACK; Linux restarts.
        (
            seg(RCV_NXT - 500, Flags::ACK | Flags::PSH, ts, 100),
            false,
            Ack { restart: true },
            "RFC 9293 first check; Linux",
        ),
        // New data after the FIN: RFC 9293 seventh check (TIME-WAIT: "should not occur ...
        // ignore the segment text"); Linux: not bare, so out-of-window ACK with restart.
        (
            seg(RCV_NXT, Flags::ACK | Flags::PSH, ts, 100),
            false,
            Ack { restart: true },
            "Linux",
        ),
        // A SYN-ACK is not a connection request: Linux needs `th->syn && !th->ack` to reopen;
        // it has ACK, so it is ACKed and restarts.
        (
            seg(RCV_NXT + 1_000, Flags::SYN | Flags::ACK, ts, 0),
            false,
            Ack { restart: true },
            "Linux",
        ),
    ]
}

#[test]
fn rsts_acks_fins_and_paws_rejects_in_time_wait_are_judged_as_their_sources_say() {
    let mut wrong = Vec::new();
    for (seg, rfc1337, want, why) in other_rows() {
        let tw = record(true);
        let got = tw.judge(&seg, &config(Linux, rfc1337, true));
        if got != want {
            wrong.push(format!(
                "{:?} seq {} ts {:?} rfc1337 {rfc1337}: got {got:?}, want {want:?} ({why})",
                seg.flags,
                seg.seq.diff(RCV_NXT),
                seg.timestamps.map(|t| t.tsval)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// RFC 1337 F1 and RFC 9293's RST handling do not depend on the SYN policy.
#[test]
fn the_rst_verdict_is_the_same_under_every_syn_policy() {
    for policy in [Rfc9293, Rfc1122, Linux, Rfc6191] {
        for (rfc1337, want) in [(false, Kill), (true, Ignore)] {
            let got = record(false).judge(
                &seg(RCV_NXT, Flags::RST, None, 0),
                &config(policy, rfc1337, false),
            );
            assert_eq!(got, want, "{policy:?} rfc1337 {rfc1337}");
        }
    }
}

// ----- rows where the model departs from its source -----

// RFC 7323 §5.3 R1 applies in every synchronized state, before SYN processing (4.4BSD
// tcp_input runs the PAWS test before its TIME_WAIT SEQ_GT reopening test): a SYN whose TSval
// is older than TS.Recent is "not acceptable", answered with an ACK and dropped, whatever its
// sequence number.
#[test]
fn rfc7323_an_old_timestamp_stops_an_rfc1122_reopening() {
    let (tw, syn) = syn(Seq::Above, Ts::Older);
    let got = tw.judge(&syn, &config(Rfc1122, false, true));
    assert!(matches!(got, Ack { .. }), "got {got:?}");
}

// Linux tcp_timewait_state_process: a PAWS-rejected SYN fails the reopening test
// (`!paws_reject`), then `if (paws_reject || th->ack) inet_twsk_reschedule(tw,
// TCP_TIMEWAIT_LEN)` restarts TIME_WAIT before the ACK, whatever the sequence number.
#[test]
fn linux_a_paws_rejected_syn_restarts_time_wait() {
    for s in [Seq::Above, Seq::At, Seq::Below] {
        let (tw, syn) = syn(s, Ts::Older);
        let got = tw.judge(&syn, &config(Linux, false, true));
        assert_eq!(got, Ack { restart: true }, "SYN {s:?}");
    }
}

// RFC 6191 §2: "If the previous incarnation of the connection did not use Timestamps ... If
// TCP Timestamps would be enabled for the new incarnation of the connection, honor the
// incoming connection request", whatever the sequence number.
#[test]
fn rfc6191_a_syn_with_timestamps_reopens_a_time_wait_that_had_none() {
    let tw = record(false);
    let syn = seg(RCV_NXT - 1_000, Flags::SYN, Some(TS_RECENT), 0);
    let got = tw.judge(&syn, &config(Rfc6191, false, true));
    assert!(matches!(got, Reopen(_)), "got {got:?}");
}
