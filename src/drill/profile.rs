//! Which TCP the script runs against: the one place the drill's [`TcpConfig`] is built, and
//! the `sysctl` settings a script may change on it.

use std::fmt;
use std::str::FromStr;

use crate::sim::Duration;
use crate::tcp::{SynInTimeWait, TcpConfig, TimerPreset};

/// A named set of TCP choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Profile {
    /// The simulator's defaults, which follow Linux (scripts see `LINUX` defined).
    Linux,
    /// RFC 9293 read literally where Linux chose otherwise (scripts see `RFC9293` defined).
    Rfc9293,
}

impl Profile {
    /// Both profiles, in the order the suite runs them.
    pub const ALL: [Profile; 2] = [Profile::Linux, Profile::Rfc9293];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Linux => "linux",
            Profile::Rfc9293 => "rfc9293",
        }
    }

    /// The `#ifdef` name the profile defines.
    pub fn define(self) -> &'static str {
        match self {
            Profile::Linux => "LINUX",
            Profile::Rfc9293 => "RFC9293",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Profile, String> {
        match s {
            "linux" => Ok(Profile::Linux),
            "rfc9293" => Ok(Profile::Rfc9293),
            _ => Err(format!("unknown profile `{s}`: expected linux or rfc9293")),
        }
    }
}

/// The host's TCP settings under `profile`.
pub fn config(profile: Profile) -> TcpConfig {
    let mut c = TcpConfig::default();
    match profile {
        Profile::Linux => {}
        Profile::Rfc9293 => {
            // §3.4.2: MSL is 2 minutes, and TIME_WAIT lasts 2 x MSL (MUST-13).
            c.msl = Duration::from_secs(120);
            c.time_wait = c.msl * 2;
            // RFC 6298 §2.4-2.5 bounds rather than Linux's 200 ms .. 120 s.
            c.timers = TimerPreset::Rfc6298;
            c.rto_min = c.timers.rto_min();
            c.rto_max = c.timers.rto_max();
            // §3.10.7.4: a SYN in TIME_WAIT gets a (challenge) ACK; no reopening.
            c.syn_in_time_wait = SynInTimeWait::Rfc9293;
            // §3.10.7.4: an acceptable RST ends TIME_WAIT (RFC 1337's fix is not in 9293).
            c.rfc1337 = false;
            // MAY-12: RFC 5961 §5's ACK check is optional; the literal text only drops
            // ACKs of data never sent.
            c.rfc5961_ack_check = false;
            // §3.10.7.3: an unacceptable ACK draws a RST; the SYN waits for its timer.
            c.quick_syn_resend = false;
            // §3.10.7.4 SYN-RECEIVED: a retransmitted SYN is unacceptable (ACK), a new one
            // returns the connection to LISTEN.
            c.check_req = false;
            // §3.10.7.4 second (RFC 5961 §3.2): every state but SYN-SENT challenges an inexact RST.
            c.rst_challenge_everywhere = true;
            // No number is stated: every unacceptable segment is answered.
            c.invalid_ratelimit = Duration::ZERO;
            // §3.10.7.4: "only the new parts are processed".
            c.trim_to_window = true;
            // §3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>.
            c.linux_resets = false;
            // §3.10.7.4 second and fourth: FIN-WAIT-2 challenges a SYN or an inexact RST,
            // orphan or not.
            c.orphan_timewait = false;
        }
    }
    c
}

impl Profile {
    /// What `getsockopt(SO_RCVBUF)` reports for a receive buffer of `rcv_buf` bytes (the
    /// window's space). Linux `sock_setsockopt` (`__sock_set_rcvbuf`) stores twice the value
    /// given, keeping half for bookkeeping, and reports that; the RFC profile reports the
    /// buffer as given (RFC 9293 names no socket options).
    pub fn so_rcvbuf(self, rcv_buf: u32) -> u32 {
        match self {
            Profile::Linux => rcv_buf.saturating_mul(2),
            Profile::Rfc9293 => rcv_buf,
        }
    }
}

/// What a `sysctl NAME=VALUE` did to the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sysctl {
    /// The setting already had that value.
    Unchanged,
    /// The setting changed.
    Changed,
}

/// Applies Linux sysctl `name` = `value` to `c`, if the model has that setting.
pub fn sysctl(c: &mut TcpConfig, name: &str, value: &str) -> Result<Sysctl, String> {
    const KNOWN: &[&str] = &[
        "tcp_timestamps",
        "tcp_rfc1337",
        "tcp_tw_reuse",
        "tcp_abort_on_overflow",
        "tcp_syn_retries",
        "tcp_synack_retries",
        "tcp_retries2",
        "tcp_orphan_retries",
        "tcp_max_syn_backlog",
        "tcp_max_tw_buckets",
        "tcp_fin_timeout",
        "tcp_sack",
        "tcp_dsack",
        "tcp_ecn",
        "tcp_fack",
        "tcp_invalid_ratelimit",
    ];
    let key = name.strip_prefix("net.ipv4.").unwrap_or(name);
    if key == "ip_local_port_range" {
        // Two numbers, first and last ephemeral port.
        let ports: Vec<u16> = value
            .split_whitespace()
            .map(|p| {
                p.parse()
                    .map_err(|_| format!("{name}={value}: expected two ports"))
            })
            .collect::<Result<_, _>>()?;
        let &[first, last] = ports.as_slice() else {
            return Err(format!("{name}={value}: expected two ports"));
        };
        if first == 0 || first > last {
            return Err(format!("{name}={value}: expected 1 <= first <= last"));
        }
        let before = c.port_range;
        c.port_range = (first, last);
        return Ok(if before == c.port_range {
            Sysctl::Unchanged
        } else {
            Sysctl::Changed
        });
    }
    if !KNOWN.contains(&key) {
        return Err(format!("the model has no equivalent of {name}"));
    }
    let n: i64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{name}={value}: expected a number"))?;
    let before = c.clone();
    let count = |n: i64| u32::try_from(n).map_err(|_| format!("{name}={n}: out of range"));
    match key {
        "tcp_timestamps" => c.timestamps = n != 0,
        "tcp_rfc1337" => c.rfc1337 = n != 0,
        // 2 means loopback only, and the drill's peer is not on loopback.
        "tcp_tw_reuse" => c.tw_reuse = n == 1,
        "tcp_abort_on_overflow" => c.abort_on_overflow = n != 0,
        "tcp_syn_retries" => c.syn_retries = count(n)?,
        "tcp_synack_retries" => c.synack_retries = count(n)?,
        "tcp_retries2" => c.data_retries = count(n)?,
        "tcp_orphan_retries" => c.orphan_retries = count(n)?,
        "tcp_max_syn_backlog" => c.max_syn_backlog = count(n)?,
        "tcp_max_tw_buckets" => c.max_tw_buckets = count(n)?,
        "tcp_invalid_ratelimit" if n >= 0 => c.invalid_ratelimit = Duration::from_millis(n as u64),
        "tcp_fin_timeout" if n > 0 => c.fin_timeout = Duration::from_secs(n as u64),
        "tcp_sack" => c.sack = n != 0,
        "tcp_dsack" => c.dsack = n != 0,
        // The model has no ECN or FACK: turning them off changes nothing.
        "tcp_ecn" | "tcp_fack" if n == 0 => {}
        _ => return Err(format!("the model has no equivalent of {name}={value}")),
    }
    Ok(if *c == before {
        Sysctl::Unchanged
    } else {
        Sysctl::Changed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_is_the_default_and_rfc9293_pins_the_literal_choices() {
        assert_eq!(config(Profile::Linux), TcpConfig::default());
        let r = config(Profile::Rfc9293);
        assert_eq!(r.time_wait, Duration::from_secs(240));
        assert_eq!(r.rto_min, Duration::from_secs(1));
        assert_eq!(r.syn_in_time_wait, SynInTimeWait::Rfc9293);
        assert!(!r.rfc5961_ack_check);
        assert!(!r.check_req && r.rst_challenge_everywhere && r.trim_to_window);
        assert_eq!(r.invalid_ratelimit, Duration::ZERO);
    }

    #[test]
    fn sysctls_map_onto_settings_or_say_why_not() {
        let mut c = config(Profile::Linux);
        assert_eq!(
            sysctl(&mut c, "net.ipv4.tcp_timestamps", "1"),
            Ok(Sysctl::Changed)
        );
        assert!(c.timestamps);
        assert_eq!(
            sysctl(&mut c, "net.ipv4.tcp_sack", "1"),
            Ok(Sysctl::Unchanged)
        );
        assert_eq!(
            sysctl(&mut c, "net.ipv4.tcp_sack", "0"),
            Ok(Sysctl::Changed)
        );
        assert!(!c.sack);
        assert!(sysctl(&mut c, "net.core.somaxconn", "5").is_err());
        assert_eq!(
            sysctl(&mut c, "net.ipv4.ip_local_port_range", "40000 40001"),
            Ok(Sysctl::Changed)
        );
        assert_eq!(c.port_range, (40000, 40001));
        assert!(sysctl(&mut c, "net.ipv4.ip_local_port_range", "5 4").is_err());
        assert_eq!(
            sysctl(&mut c, "net.ipv4.tcp_invalid_ratelimit", "0"),
            Ok(Sysctl::Changed)
        );
        assert_eq!(c.invalid_ratelimit, Duration::ZERO);
    }
}
