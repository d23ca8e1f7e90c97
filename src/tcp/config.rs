//! TCP settings, each declared once in `tcp_settings!` with its type, default, TOML form,
//! allowed range, source (RFC section or Linux sysctl) and meaning. From that one list come
//! [`TcpConfig`] and its defaults, the [`SETTINGS`] table the README's settings table is
//! printed from, and (in `scenario`) the `[tcp]` TOML schema and its range checks.

use super::congestion::Congestion;
use crate::sim::Duration;

/// How initial sequence numbers are chosen (RFC 9293 §3.4.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IsnPolicy {
    /// RFC 793: a 32-bit clock ticking every 4 us, shared by all connections of a host.
    Rfc793Clock,
    /// RFC 6528: the 4 us clock plus a keyed hash of the 4-tuple (RFC 9293's recommendation).
    Rfc6528,
    /// Linux `secure_tcp_seq`: keyed hash of the 4-tuple plus a 64 ns clock.
    Linux,
    /// A uniform random draw per connection.
    Random,
    /// The same number every time (to make incarnations collide on purpose).
    Fixed(u32),
}

/// What a TIME_WAIT socket does with a SYN for its 4-tuple.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SynInTimeWait {
    /// RFC 9293 §3.10.7.4: no reopening; answer with an ACK (RFC 5961 challenge) and stay.
    Rfc9293,
    /// RFC 1122 §4.2.2.13: reopen if the SYN's sequence number is above the old RCV.NXT,
    /// with an ISS above the old SND.NXT.
    Rfc1122,
    /// Linux `tcp_timewait_state_process`: reopen if SEQ is after RCV.NXT or the timestamp is
    /// newer; the new ISS is the old SND.NXT + 65537.
    Linux,
    /// RFC 6191: with timestamps, reopen only for a newer timestamp (or an equal one with a
    /// higher SEQ) and otherwise drop silently; without timestamps, the RFC 1122 rule.
    Rfc6191,
}

/// Which RTO bounds `rto_min` and `rto_max` default to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TimerPreset {
    /// Linux `TCP_RTO_MIN` 200 ms and `TCP_RTO_MAX` 120 s.
    Linux,
    /// RFC 6298: at least 1 s (§2.4) and at most 60 s (§2.5).
    Rfc6298,
}

impl TimerPreset {
    /// The lower bound on RTO this preset gives.
    pub fn rto_min(self) -> Duration {
        match self {
            TimerPreset::Linux => Duration::from_millis(200),
            TimerPreset::Rfc6298 => Duration::from_secs(1),
        }
    }

    /// The upper bound on RTO this preset gives.
    pub fn rto_max(self) -> Duration {
        match self {
            TimerPreset::Linux => Duration::from_secs(120),
            TimerPreset::Rfc6298 => Duration::from_secs(60),
        }
    }
}

/// TIME_WAIT's length as written: a fixed duration or a multiple of the host's MSL.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeWaitLen {
    /// A fixed duration.
    Fixed(Duration),
    /// Thousandths of MSL (2msl = 2000).
    MslMillis(u64),
}

impl TimeWaitLen {
    /// The duration, given MSL.
    pub fn resolve(self, msl: Duration) -> Duration {
        match self {
            TimeWaitLen::Fixed(d) => d,
            TimeWaitLen::MslMillis(m) => {
                // Saturates: a multiple too large for u64 ns means "longer than any run".
                let ns = msl.as_nanos() as u128 * m as u128 / 1000;
                Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
            }
        }
    }
}

/// Largest `snd_buf` or `rcv_buf`: a sender fills its send buffer, so the buffer becomes
/// memory (Linux's own default maximum, `tcp_wmem`, is 4 MiB).
pub const MAX_BUFFER_BYTES: u32 = 64 << 20;

/// One setting as documentation and checks see it; [`SETTINGS`] holds them in declaration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The name, in [`TcpConfig`] and in TOML.
    pub name: &'static str,
    /// How a value is written in TOML ("duration > 0", "bool", ...).
    pub written: &'static str,
    /// The default, as TOML text.
    pub default: &'static str,
    /// The unit of a number ("bytes"), or "" when the written form carries it.
    pub unit: &'static str,
    /// Allowed values of an integer setting, beyond those of its type.
    pub range: Option<Bounds>,
    /// The RFC section or Linux sysctl the setting follows.
    pub cite: &'static str,
    /// What the setting does.
    pub doc: &'static str,
}

/// An integer setting's allowed values, inclusive, and why the upper bound exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Smallest allowed value.
    pub min: u64,
    /// Largest allowed value.
    pub max: u64,
    /// Why values above `max` are refused.
    pub why: &'static str,
}

/// Every TCP setting, declared once, handed to `$then` (a macro that turns the list into code:
/// [`TcpConfig`] here, the `[tcp]` schema and its checks in `scenario`).
///
/// An entry is its meaning (doc lines), `name: Type = default` (a default may use the settings
/// above it), optionally `read T => |v| value` when TOML holds a `T` that becomes the value,
/// then how TOML writes it, its default as TOML, an optional unit, an optional allowed range
/// (with why its upper bound exists) and the RFC or Linux source it follows.
macro_rules! tcp_settings {
    ($then:ident) => {
        $then! {
            /// maximum segment lifetime the network is assumed to honour. RFC 9293 §3.4.2 says
            /// 2 min; the 30 s default is what Linux's and BSD's 60 s TIME_WAIT implies
            msl: Duration = Duration::from_secs(30),
                written "duration > 0", default "\"30s\"",
                cite "RFC 9293 §3.4.2";
            /// how long the active closer holds TIME_WAIT (2 x MSL; Linux's `TCP_TIMEWAIT_LEN`
            /// is a fixed 60 s). A multiple resolves against the host's effective `msl`, so
            /// `[tcp] time_wait = "2msl"` with a host's `msl = "10s"` gives that host 20 s.
            /// `"0s"` (or `"0msl"`) skips TIME_WAIT: the socket goes straight to CLOSED, and
            /// `states.csv` shows `TIME_WAIT -> CLOSED` with cause `time_wait = 0s`
            time_wait: Duration = msl * 2,
                read TimeWaitLen => |t| t.resolve(msl),
                written "duration, or a multiple of MSL: `\"2msl\"`, `\"0.5msl\"`, `\"2 msl\"`, `\"msl\"` (= 1 MSL; at most 3 decimals)",
                default "\"2msl\"",
                cite "RFC 9293 §3.3.2 (MUST-13)";
            /// how long an orphaned FIN_WAIT_2 socket (one its application has `close()`d)
            /// waits for the peer's FIN before it goes to CLOSED (cause `FIN_WAIT_2 timeout`; no
            /// RST is sent). It does not apply after a half close (`shutdown`)
            fin_timeout: Duration = Duration::from_secs(60),
                written "duration > 0", default "\"60s\"",
                cite "Linux `tcp_fin_timeout`";
            /// how initial sequence numbers are chosen. `rfc793-clock`: one 32-bit clock per
            /// host that ticks every 4 us, the same for every 4-tuple (each host starts from a
            /// random offset). `rfc6528`: that clock plus a keyed SipHash of the 4-tuple (RFC
            /// 6528, which RFC 9293 recommends). `linux`: a keyed hash of the 4-tuple plus a
            /// clock that ticks every 64 ns (Linux `secure_tcp_seq`). `random`: a uniform draw
            /// for each connection from the host's seeded stream. `{ fixed = N }`: N every time,
            /// to make incarnations collide on purpose. Used for both active and passive opens
            isn: IsnPolicy = IsnPolicy::Rfc6528,
                written "`\"rfc793-clock\"`, `\"rfc6528\"`, `\"linux\"`, `\"random\"`, or `{ fixed = N }` (N: 0..2^32-1)",
                default "\"rfc6528\"",
                cite "RFC 9293 §3.4.1, RFC 6528";
            /// how the retransmission timer is computed. `linux`: every ACK of new data gives an
            /// RTT sample (from the oldest segment it covers, else the lowest segment its SACK
            /// blocks newly cover, else its timestamp echo; never from a retransmitted
            /// segment), `tcp_rtt_estimator` smooths them, and RTO = SRTT + max(mdev terms,
            /// `rto_min`) rounded up to a whole jiffy (see `hz`), so a LAN's RTO is `rto_min` +
            /// SRTT (`ss` shows `rto:204` on loopback at HZ=250); `rto_min` 200 ms, `rto_max`
            /// 120 s; `data_retries` is turned into a time budget (`tcp_model_timeout`:
            /// 924.6 s for 15). `rfc6298`: one segment timed at a time (Karn), RTO = max(`rto_min`,
            /// SRTT + max(1 ms, 4 x RTTVAR)) (§2), `rto_min` 1 s (§2.4), `rto_max` 60 s (§2.5),
            /// `data_retries` a plain count. An explicit `rto_min` or `rto_max` overrides the
            /// preset
            timers: TimerPreset = TimerPreset::Linux,
                written "`\"linux\"` or `\"rfc6298\"`", default "\"linux\"",
                cite "RFC 6298; Linux `tcp_rtt_estimator`, `tcp_set_rto`, `TCP_RTO_MIN`, `TCP_RTO_MAX`";
            /// timer interrupts per second of the Linux kernel modelled (`CONFIG_HZ`): with
            /// `timers = "linux"` the RTO is a whole number of jiffies (1/hz s), rounded up.
            /// It must divide 1,000,000 (100, 250, 1000, ...)
            hz: u32 = 250,
                written "integer that divides 1000000", default "250",
                range 1..=1_000_000, "HZ above 1,000,000 would make a jiffy shorter than the microseconds Linux counts RTT in",
                cite "Linux `CONFIG_HZ` (`kernel/Kconfig.hz` default `HZ_250`)";
            /// RTO before any RTT sample. It is capped by `rto_max` but not raised to
            /// `rto_min`. If a SYN timed out and no RTT sample was taken, data starts at 3 s,
            /// bounded by `rto_min` and `rto_max` (RFC 6298 §5.7)
            rto_initial: Duration = Duration::from_secs(1),
                written "duration > 0", default "\"1s\"",
                cite "RFC 6298 §2.1 (Linux too)";
            /// lower bound on the RTO's deviation term (`linux`: RTO = SRTT + at least this)
            /// or on the RTO itself (`rfc6298`: RTO = max(this, SRTT + max(1 ms, 4 x RTTVAR))).
            /// It must not exceed `rto_max` (checked after the preset is applied). Karn's rule
            /// applies, and each timeout doubles the RTO up to `rto_max`
            rto_min: Duration = timers.rto_min(),
                written "duration > 0", default "\"200ms\"",
                cite "Linux `TCP_RTO_MIN`; RFC 6298 §2.4 says 1 s";
            /// upper bound on the RTO, backoff included
            rto_max: Duration = timers.rto_max(),
                written "duration > 0", default "\"120s\"",
                cite "Linux `TCP_RTO_MAX`; RFC 6298 §2.5 says at least 60 s";
            /// SYN retransmissions before `connect()` fails with a timeout (error
            /// `timed_out`). With the 1 s initial RTO that is 127 s after the first SYN
            syn_retries: u32 = 6,
                written "integer >= 0", default "6",
                cite "Linux `tcp_syn_retries`";
            /// a SYN_SENT socket that answers an unacceptable ACK (say, the challenge ACK of a
            /// peer still in TIME_WAIT) with a RST resends its SYN 2 ms later instead of
            /// waiting for the RTO, if no SYN has timed out yet: the RST may just have cleared
            /// the peer's old connection. `false` waits for the RTO, as RFC 9293 §3.10.7.3
            /// reads
            quick_syn_resend: bool = true,
                written "bool", default "true",
                cite "Linux `tcp_rcv_synsent_state_process` (`TCP_TIMEOUT_MIN`)";
            /// SYN-ACK retransmissions before a half-open passive connection is dropped
            /// silently (SYN_RCVD -> CLOSED, cause `SYN-ACK retries exhausted`), 63 s after the
            /// SYN
            synack_retries: u32 = 5,
                written "integer >= 0", default "5",
                cite "Linux `tcp_synack_retries`";
            /// how long retransmissions of data or FIN may go on without progress before the
            /// connection fails (cause `retransmission timeout`, error `timed_out`, no RST
            /// sent). With `timers = "linux"` it is Linux's time budget: the connection fails
            /// at the first timeout that comes `tcp_model_timeout` after the oldest
            /// unacknowledged segment left, i.e. the time this many timeouts take from an RTO
            /// of 200 ms doubling to `rto_max` (924.6 s for 15); a longer RTT gets fewer
            /// retransmissions. With `rfc6298` it is a plain count. Zero-window probes do not
            /// count
            data_retries: u32 = 15,
                written "integer >= 0", default "15",
                cite "Linux `tcp_retries2`";
            /// with `timers = "linux"`, replaces `data_retries` once the application has
            /// closed the socket (an orphan retransmitting its FIN or data in FIN_WAIT_1,
            /// CLOSING or LAST_ACK): the budget this many timeouts take. 0, Linux's default,
            /// means 8 while the RTO is below `rto_max` (102.2 s from a 200 ms RTO) and 0 once
            /// it has reached it; a shutdown() socket is no orphan. `rfc6298` ignores it
            orphan_retries: u32 = 0,
                written "integer >= 0", default "0",
                cite "Linux `tcp_orphan_retries` (`tcp_write_timeout`)";
            /// what a TIME_WAIT record does with a new SYN for its 4-tuple. `linux`
            /// (`tcp_timewait_state_process`): reopens if the SYN passes PAWS and either its
            /// SEQ is above the old RCV.NXT or (with timestamps) its TSval is newer; the new ISS
            /// is exactly the old SND.NXT + 65537; a SYN that PAWS rejects restarts TIME_WAIT.
            /// `rfc9293` (§3.10.7.4, with RFC 5961): never reopens; answers with an ACK
            /// (`<SEQ=SND.NXT><ACK=RCV.NXT>`), and TIME_WAIT stays without its timer being
            /// restarted. `rfc1122` (§4.2.2.13): reopens if the SYN passes PAWS (RFC 7323 §5.3)
            /// and SEQ > old RCV.NXT, with the generated ISS raised above the old SND.NXT if
            /// needed. `rfc6191` (§2): if the old connection used timestamps and the new one will,
            /// reopens only for a newer TSval (or an equal one with a higher SEQ); if the old one
            /// did not and the new one will, reopens; if the new one will not, uses the RFC 1122
            /// test. If the test fails, `rfc6191` drops the SYN silently and the other rules
            /// answer with an ACK. A reopen ends TIME_WAIT with cause `SYN opens
            /// a new incarnation` and hands the SYN to the listener. If there is none, `linux`
            /// answers with the ACK and TIME_WAIT stays (`tcp_v4_rcv` falls through from
            /// `TCP_TW_SYN` to `TCP_TW_ACK`); the other rules end TIME_WAIT and the SYN draws a
            /// RST
            syn_in_time_wait: SynInTimeWait = SynInTimeWait::Linux,
                written "`\"linux\"`, `\"rfc9293\"`, `\"rfc1122\"`, `\"rfc6191\"`",
                default "\"linux\"",
                cite "RFC 9293 §3.10.7.4, RFC 1122 §4.2.2.13, RFC 6191; Linux `tcp_timewait_state_process`";
            /// TIME_WAIT ignores RST (RFC 1337 fix F1). With `false`, a RST whose SEQ equals
            /// RCV.NXT ends TIME_WAIT (cause `RST received`: "TIME_WAIT assassination"). Any
            /// other RST is always ignored
            rfc1337: bool = false,
                written "bool", default "false",
                cite "RFC 1337; Linux `tcp_rfc1337`";
            /// timestamps and PAWS. A connection uses them only if both ends enable them (the
            /// active end offers them on its SYN). The clock ticks once per ms, with one offset
            /// per host pair, as Linux has done since 4.13. **Not Linux's default**
            /// (`tcp_timestamps = 1`)
            timestamps: bool = false,
                written "bool", default "false",
                cite "RFC 7323";
            /// `connect()` may take over a TIME_WAIT 4-tuple whose last timestamp is at least 1
            /// s old; the new ISS is the old SND.NXT + 65537 (`tcp_twsk_unique`). It works only
            /// if that connection used timestamps: with `timestamps = false` it has no effect,
            /// and `check` warns
            tw_reuse: bool = false,
                written "bool", default "false",
                cite "Linux `tcp_tw_reuse`";
            /// TIME_WAIT records a host may hold. Once the table is full, a closing socket
            /// skips TIME_WAIT (cause `TIME_WAIT table full`; the summary counts these, like
            /// Linux's "time wait bucket table overflow"). `0` never holds TIME_WAIT
            max_tw_buckets: u32 = 262_144,
                written "integer >= 0", default "262144",
                cite "Linux `tcp_max_tw_buckets`";
            /// ephemeral ports, inclusive. Needs 1 <= first <= last. For each destination, the
            /// search is sequential from a hashed starting point and skips 4-tuples that are
            /// live or in TIME_WAIT (unless `tw_reuse` allows a takeover). When none is free,
            /// `connect()` fails with "Cannot assign requested address"
            port_range: (u16, u16) = (32768, 60999),
                written "`[first, last]`", default "[32768, 60999]",
                cite "Linux `ip_local_port_range`";
            /// what to do with a handshake's final ACK when the listener's accept queue is
            /// full. `false` ignores it, so the server stays in SYN_RCVD and resends its
            /// SYN-ACK. `true` answers with a RST and drops the connection (cause `accept queue
            /// full (abort_on_overflow)`)
            abort_on_overflow: bool = false,
                written "bool", default "false",
                cite "Linux `tcp_abort_on_overflow`";
            /// half-open (SYN_RCVD) connections per listener. A SYN is dropped when that many
            /// are pending, and also whenever the accept queue is full
            max_syn_backlog: u32 = 4096,
                written "integer >= 0", default "4096",
                cite "Linux `tcp_max_syn_backlog`";
            /// while a listener's SYN queue holds more than half of max(8, backlog) half-open
            /// connections, those whose SYN-ACK has already timed out get fewer SYN-ACK
            /// retries (down to 2), one fewer for each doubling by which the queue outnumbers
            /// twice the requests still waiting for their first timeout: room is kept for new
            /// handshakes. `false` gives every request `synack_retries`
            syn_queue_pruning: bool = true,
                written "bool", default "true",
                cite "Linux `reqsk_timer_handler`";
            /// drop a segment whose ACK is older than SND.UNA - MAX.SND.WND and send a
            /// challenge ACK. Linux does this; stacks from before 2010 did not
            rfc5961_ack_check: bool = true,
                written "bool", default "true",
                cite "RFC 5961 §5 (RFC 9293 MAY-12)";
            /// SYN_RCVD after a passive open behaves as Linux's request socket
            /// (`tcp_check_req`): a retransmitted SYN (SEQ = IRS) is answered with the SYN-ACK
            /// again, and a new SYN inside the window is answered with a reset
            /// (`<SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>`) and drops the half-open connection. With
            /// `false`, RFC 9293 §3.10.7.4: the retransmitted SYN is unacceptable (left of
            /// RCV.NXT) and gets `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, and a new SYN returns
            /// the connection to LISTEN silently
            check_req: bool = true,
                written "bool", default "true",
                cite "Linux `tcp_check_req`; RFC 9293 §3.10.7.4";
            /// RFC 5961 §3.2 in SYN_RCVD (passive) and TIME_WAIT too: a RST inside the window
            /// but off RCV.NXT gets a challenge ACK and changes nothing. Linux does not:
            /// `tcp_check_req` drops a half-open connection on any in-window RST, and
            /// `tcp_timewait_state_process` ignores such a RST. The other synchronized states
            /// always apply §3.2
            rst_challenge_everywhere: bool = false,
                written "bool", default "false",
                cite "RFC 5961 §3.2 (RFC 9293 §3.10.7.4); Linux `tcp_check_req`, `tcp_timewait_state_process`";
            /// per-connection rate limit on the ACKs sent for dropped segments: challenge ACKs
            /// (RFC 5961, Linux `tcp_send_challenge_ack`) and ACKs for out-of-window or
            /// PAWS-rejected segments (Linux `tcp_oow_rate_limited`, which always answers a
            /// segment carrying data or FIN without SYN). At most one such ACK per interval of
            /// simulated time; `"0s"` sends every one (RFC 9293 states no limit; RFC 5961 §7
            /// says SHOULD throttle). TIME_WAIT records are not limited, and Linux's host-wide
            /// `tcp_challenge_ack_limit` (off by default since 6.0) is not modelled
            invalid_ratelimit: Duration = Duration::from_millis(500),
                read Dur => |d| d.0,
                written "duration >= 0", default "\"500ms\"",
                cite "Linux `tcp_invalid_ratelimit`; RFC 5961 §7";
            /// bytes of a segment beyond the right edge of the receive window are trimmed
            /// (RFC 9293 §3.10.7.4: "only the new parts are processed"). Linux
            /// `tcp_data_queue` checks only that a segment starts inside the window and
            /// queues it whole, so RCV.NXT may pass the window's edge
            trim_to_window: bool = false,
                written "bool", default "false",
                cite "RFC 9293 §3.10.7.4; Linux `tcp_data_queue`";
            /// resets the host sends on its own follow Linux. An abort (`SO_LINGER` zero,
            /// `close()` with unread data) sends `tcp_send_active_reset`'s
            /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>`, and data arriving after `close()` is
            /// answered by `tcp_v4_send_reset` from the segment (`<SEQ=SEG.ACK><CTL=RST>`).
            /// With `false`, both send RFC 9293 §3.10.5's `<SEQ=SND.NXT><CTL=RST>`
            linux_resets: bool = true,
                written "bool", default "true",
                cite "Linux `tcp_send_active_reset`, `tcp_v4_send_reset`; RFC 9293 §3.10.5";
            /// an orphaned FIN_WAIT_2 (its application has `close()`d) behaves as Linux's
            /// timewait socket in substate FIN_WAIT2 (`tcp_timewait_state_process`; Linux holds
            /// one when `fin_timeout` is at most 60 s): a SYN inside the window at or after
            /// RCV.NXT is answered with a reset (`<SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>`,
            /// `TCP_TW_RST`) and closes the connection, and any RST inside the window closes it
            /// without a challenge ACK. With `false`, RFC 9293 §3.10.7.4 (RFC 5961 §3.2, §4):
            /// both get a challenge ACK unless the RST is at RCV.NXT
            orphan_timewait: bool = true,
                written "bool", default "true",
                cite "Linux `tcp_timewait_state_process`; RFC 9293 §3.10.7.4";
            /// MSS option this host sends (Ethernet 1500 - 40). Segments carry at most min(own
            /// `mss`, the peer's MSS option), and 536 is assumed when the peer sends none
            mss: u16 = 1460,
                written "1..65535", default "1460", unit "bytes",
                range 1..=65535, "the MSS option has 16 bits",
                cite "RFC 9293 §3.7.1";
            /// congestion control. `cubic` (RFC 9438, Linux's default) and `newreno` (RFC 6582)
            /// and `reno` (RFC 5681 alone) all slow-start from `initial_window`, grow by bytes
            /// acknowledged (RFC 3465), fast-retransmit on the third duplicate ACK, and fall to
            /// one segment after a timeout. `none` sends whatever the peer's window allows and
            /// recovers by timeout only
            congestion: Congestion = Congestion::Cubic,
                written "`\"cubic\"`, `\"newreno\"`, `\"reno\"`, `\"none\"`", default "\"cubic\"",
                cite "RFC 5681, RFC 6582, RFC 9438; Linux `tcp_congestion_control`";
            /// initial congestion window in segments, also the restart window after idle
            initial_window: u32 = 10,
                written "integer 1..1000", default "10", unit "segments",
                range 1..=1000, "a window of more segments is no longer a start",
                cite "RFC 6928; Linux `TCP_INIT_CWND`";
            /// after an idle period longer than the RTO, the congestion window is halved per RTO
            /// of idleness, down to `initial_window` (Linux `tcp_cwnd_restart`)
            slow_start_after_idle: bool = true,
                written "bool", default "true",
                cite "RFC 5681 §4.1; Linux `tcp_slow_start_after_idle`";
            /// delayed ACKs: in-order data is acknowledged at once for every second full-sized
            /// segment, otherwise after the delayed-ACK timer (40 ms at first, up to 200 ms,
            /// Linux's ATO). Quick-ACK mode acknowledges every segment at the start of a
            /// connection and after out-of-order data (Linux `tcp_in_quickack_mode`); a FIN
            /// that moves ESTABLISHED to CLOSE_WAIT is acknowledged after the timer, so the
            /// application's own FIN can go with it. `false` acknowledges every segment at once
            delayed_ack: bool = true,
                written "bool", default "true",
                cite "RFC 1122 §4.2.3.2, RFC 5681 §4.2; Linux `__tcp_ack_snd_check`";
            /// window scaling: each SYN offers the smallest shift that lets the 16-bit window
            /// field carry the whole `rcv_buf`, and windows are scaled once both SYNs carried
            /// the option. With `false`, or a peer without it, windows stop at 65,535 bytes
            window_scaling: bool = true,
                written "bool", default "true",
                cite "RFC 7323 §2; Linux `tcp_window_scaling`";
            /// selective acknowledgments. Each SYN offers SACK-permitted, a SYN-ACK only in
            /// answer to a SYN that did, and SACK is used only when both agreed. The receiver
            /// then puts up to 4 blocks (3 with timestamps) on every ACK while it holds
            /// out-of-order data, the block of the newest segment first (RFC 2018 §4); the
            /// sender keeps a scoreboard of SACKed ranges and repairs every hole of a window in
            /// one recovery (RFC 6675: IsLost, pipe, NextSeg), and after a timeout resends only
            /// the holes (SACKed ranges are kept, as Linux does). With `false` on either side no
            /// SACK block is sent (a host with `false` sends no SACK option at all) and loss
            /// recovery is NewReno's (RFC 6582)
            sack: bool = true,
                written "bool", default "true",
                cite "RFC 2018, RFC 6675; Linux `tcp_sack`";
            /// D-SACK: with SACK in use, a duplicate segment (below RCV.NXT, or already held out
            /// of order) is acknowledged at once with its range as the first SACK block (RFC
            /// 2883 §4). The sender reads such a block as a report, never as new SACK
            /// information. No effect when `sack` is off
            dsack: bool = true,
                written "bool", default "true",
                cite "RFC 2883; Linux `tcp_dsack`";
            /// receive buffer in bytes. The advertised window is its free space, capped at
            /// 65,535 unless window scaling is on. The default is the window Linux opens with
            /// (its buffer then grows by autotuning, which the model does not do)
            rcv_buf: u32 = 65_535,
                written "integer 1..64 MiB", default "65535", unit "bytes",
                range 1..=MAX_BUFFER_BYTES, "a socket buffer is held in memory",
                cite "Linux `SO_RCVBUF`; RFC 9293 §3.8.6";
            /// send buffer in bytes: data written and not yet acknowledged. `send()` takes only
            /// what fits
            snd_buf: u32 = 262_144,
                written "integer 1..64 MiB", default "262144", unit "bytes",
                range 1..=MAX_BUFFER_BYTES, "a socket buffer is held in memory",
                cite "Linux `SO_SNDBUF`";
        }
    };
}
pub(crate) use tcp_settings;

/// `Some(Bounds)` from a declaration's `range` clause, `None` without one.
macro_rules! setting_range {
    () => {
        None
    };
    ($lo:literal, $hi:expr, $why:literal) => {
        Some($crate::tcp::Bounds {
            min: $lo,
            max: $hi as u64,
            why: $why,
        })
    };
}
pub(crate) use setting_range;

/// Turns the declarations into [`TcpConfig`], its `Default` and [`SETTINGS`].
macro_rules! config_and_table {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $ty:ty = $default:expr,
        $(read $read:ty => |$v:ident| $conv:expr,)?
        written $written:literal, default $shown:literal,
        $(unit $unit:literal,)?
        $(range $lo:literal ..= $hi:expr, $why:literal,)?
        cite $cite:literal;
    )*) => {
        /// TCP settings for a host. `Default` is the Linux-flavoured baseline the README
        /// documents; [`SETTINGS`] describes each field.
        #[derive(Clone, Debug, PartialEq)]
        pub struct TcpConfig {
            $(
                $(#[doc = $doc])*
                pub $name: $ty,
            )*
        }

        impl Default for TcpConfig {
            fn default() -> Self {
                // In declaration order, so a default may use the settings above it.
                $(let $name: $ty = $default;)*
                TcpConfig { $($name),* }
            }
        }

        /// Every TCP setting, in declaration order (the order of the README table).
        pub const SETTINGS: &[Setting] = &[$(
            Setting {
                name: stringify!($name),
                written: $written,
                default: $shown,
                unit: concat!($($unit)?),
                range: setting_range!($($lo, $hi, $why)?),
                cite: $cite,
                doc: concat!($($doc),*).trim_ascii_start(),
            },
        )*];
    };
}

tcp_settings!(config_and_table);

impl TcpConfig {
    /// Number of ephemeral ports.
    pub fn port_count(&self) -> u32 {
        (self.port_range.1 as u32 + 1).saturating_sub(self.port_range.0 as u32)
    }
}
