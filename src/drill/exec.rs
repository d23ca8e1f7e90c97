//! Runs a parsed script against one simulated host's TCP. The script is the remote end:
//! inbound packets go to [`Stack::segment_in`], system calls to the stack's user calls, and
//! every segment the host sends must match the next `>` line, in order and in time.
//!
//! Numbers are relative as in packetdrill: the host's sequence numbers (outbound SEQ, inbound
//! ACK) count from its ISS, learned from the first SYN it sends on each 4-tuple; the script's own sequence
//! numbers and TSvals are used as written; the host's TSvals are mapped through the last `>`
//! line that named one. Time advances to the next event or the next TCP wakeup, whichever
//! comes first, as the two-host test harness drives its timers.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};

use super::parse::{
    Action, Direction, Event, Expr, Options, PacketSpec, Script, Syscall, TcpOption, TimePoint,
    When,
};
use super::profile::{self, Profile, Sysctl};
use crate::sim::{Duration, EventQueue, SimTime, component_rng};
use crate::tcp::{
    ConnId, Output, Payload, Segment, SeqNum, SocketEvent, SocketHandle, Stack, Tag, TcpConfig,
    Timestamps, Wakeup, Wakeups,
};

/// The host under test.
pub const LOCAL_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 1);
/// The script's address.
pub const REMOTE_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The port `bind` gives and `connect` dials (packetdrill's default).
pub const SERVICE_PORT: u16 = 8080;
/// The script's port when it opens a connection to the host.
pub const REMOTE_PORT: u16 = 48_879;
/// The incarnation the audit sees on inbound segments.
const PEER: ConnId = ConnId { host: 1, n: 1 };

/// How far past a missed deadline the executor looks for the segment, to report it as late.
const LOOK_AHEAD: Duration = Duration::from_secs(600);

const O_RDWR: i64 = 0o2;
const O_NONBLOCK: i64 = 0o4000;

/// Why a script failed: the line, and what went wrong there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// 1-based script line.
    pub line: usize,
    /// A readable account, possibly several lines (expected vs actual packet).
    pub message: String,
}

fn fail<T>(line: usize, message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        line,
        message: message.into(),
    })
}

/// A line the model cannot run: it fails the script, since later lines may depend on it.
fn skipped<T>(ev: &Event, why: impl std::fmt::Display) -> Result<T, Failure> {
    fail(
        ev.line,
        format!(
            "cannot run `{}`: {why} (a skipped line could change what follows, so the script fails)",
            ev.text.trim()
        ),
    )
}

/// A file descriptor of the script's process.
#[derive(Clone, Debug)]
struct Fd {
    sock: Sock,
    nonblock: bool,
    /// SO_LINGER {onoff=1, linger=0}: close() aborts with RST.
    linger_abort: bool,
    /// The pending socket error (`sk_err`), reported once by the next call.
    error: Option<&'static str>,
    /// The handshake completed (so a later RST means ECONNRESET, not ECONNREFUSED).
    connected: bool,
    shut_wr: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sock {
    /// socket(), maybe bind().
    Fresh { port: Option<u16> },
    /// listen().
    Listener(u32),
    /// A connection (connect() or accept()).
    Conn(SocketHandle),
}

/// What a system call did.
enum Ret {
    /// Returned this value.
    Value(i64),
    /// Failed with this errno.
    Errno(&'static str),
    /// Blocks until [`Exec::poll_blocked`] completes it.
    Blocks(Wait),
}

#[derive(Clone, Copy, Debug)]
enum Wait {
    Accept { lid: u32 },
    Connect { fd: i32 },
    Read { fd: i32, max: usize },
}

struct Blocked {
    line: usize,
    call: Syscall,
    started: SimTime,
    wait: Wait,
}

/// The executor's state: the host, its timers, the script's descriptors and numbering.
struct Exec {
    /// The profile the host follows, for what the socket API reports.
    profile: Profile,
    config: TcpConfig,
    stack: Stack,
    queue: EventQueue<Wakeup>,
    wakeups: Wakeups,
    now: SimTime,
    tolerance: Duration,
    /// Segments the host sent that no `>` line has matched yet.
    sent: VecDeque<(SimTime, Segment)>,
    fds: BTreeMap<i32, Fd>,
    local_port: u16,
    remote_port: u16,
    /// The host's ISS: its sequence numbers are shown relative to it.
    local_iss: SeqNum,
    /// The (local, remote) ports of the SYN `local_iss` came from: a new incarnation of the same
    /// 4-tuple keeps the numbering, so a TIME_WAIT reopen shows its ISS against the old one.
    iss_ports: Option<(u16, u16)>,
    /// The script's initial sequence number (from its last SYN), for the audit's offsets.
    remote_isn: SeqNum,
    /// Host TSval minus script TSval, from the last `>` line that named one.
    ts_shift: u32,
    blocked: Option<Blocked>,
    /// Where relative times count from: the previous event's time.
    last: SimTime,
}

/// Runs `script` on a host configured by `profile`; an outbound segment passes when it is sent
/// within `tolerance` of its line's time. Returns the number of events run.
pub fn execute(script: &Script, profile: Profile, tolerance: Duration) -> Result<usize, Failure> {
    let config = profile::config(profile);
    let stack = new_stack(&config);
    let mut x = Exec {
        profile,
        config,
        stack,
        queue: EventQueue::new(),
        wakeups: Wakeups::default(),
        now: SimTime::ZERO,
        tolerance,
        sent: VecDeque::new(),
        fds: BTreeMap::new(),
        local_port: SERVICE_PORT,
        remote_port: REMOTE_PORT,
        local_iss: SeqNum(0),
        iss_ports: None,
        remote_isn: SeqNum(0),
        ts_shift: 0,
        blocked: None,
        last: SimTime::ZERO,
    };
    for ev in &script.events {
        x.event(ev)?;
    }
    x.finish(script.events.last().map_or(0, |e| e.line))?;
    Ok(script.events.len())
}

fn new_stack(config: &TcpConfig) -> Stack {
    Stack::new(0, LOCAL_IP, config.clone(), component_rng(1, "drill/tcp"))
}

/// A shell command's words: split at whitespace outside double quotes (which stay in the word),
/// so `ip_local_port_range="40000 40000"` is one.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for ch in s.chars() {
        if ch == '"' {
            quoted = !quoted;
        }
        if ch.is_whitespace() && !quoted {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        } else {
            word.push(ch);
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// `t + d`, saturating (a script's times and tolerance are user input).
fn later(t: SimTime, d: Duration) -> SimTime {
    SimTime::from_nanos(t.as_nanos().saturating_add(d.as_nanos()))
}

/// A non-negative number of microseconds as a duration, saturating.
fn micros(us: i64) -> Duration {
    Duration::from_nanos((us.max(0) as u64).saturating_mul(1000))
}

fn secs(t: SimTime) -> String {
    format!("{:.6}", t.as_nanos() as f64 / 1e9)
}

impl Exec {
    /// A time point: `+t` counts from the previous event (for a `>` line, from when its segment
    /// was actually sent, as packetdrill does), `t` from the script's start.
    fn at(&self, p: TimePoint) -> SimTime {
        let base = if p.relative { self.last } else { SimTime::ZERO };
        later(base, micros(p.usecs))
    }

    /// The window an event's time allows.
    fn window(&self, when: When) -> (SimTime, SimTime) {
        match when {
            When::At(p) => {
                let t = self.at(p);
                (t, t)
            }
            When::Range(a, b) => (self.at(a), self.at(b)),
            When::Any => (self.now, SimTime::MAX),
        }
    }

    fn event(&mut self, ev: &Event) -> Result<(), Failure> {
        let (lo, hi) = self.window(ev.when);
        if hi < lo {
            return fail(ev.line, "the time range ends before it starts");
        }
        if let Action::Packet(p) = &ev.action
            && p.direction == Direction::Outbound
        {
            let at = self.expect(ev, p, lo, hi)?;
            self.last = at;
        } else {
            self.advance(lo);
            self.no_unexpected(ev.line, "before this line")?;
            match &ev.action {
                Action::Packet(p) => self.inject(p),
                Action::Syscall(c) => self.syscall(ev, c)?,
                Action::Shell(cmd) => self.shell(ev, cmd)?,
                Action::Code(_) => return skipped(ev, "%{ python }% blocks are not supported"),
            }
            self.last = self.now;
        }
        self.poll_blocked()
    }

    /// At the end: nothing sent that the script did not expect, and no call still blocked.
    fn finish(&mut self, last_line: usize) -> Result<(), Failure> {
        self.no_unexpected(last_line, "after the last line")?;
        if let Some(b) = &self.blocked {
            return fail(
                b.line,
                format!("{} is still blocked when the script ends", b.call),
            );
        }
        Ok(())
    }

    // ----- time and the host's timers -----

    /// Takes in what a call into the stack produced.
    fn absorb(&mut self, mut out: Output) {
        self.wakeups.schedule(&mut out, &mut self.queue, |w| w);
        for o in out.segments {
            // The first SYN the host sends on a 4-tuple is its ISS, sequence number 0.
            let ports = (o.segment.src_port, o.segment.dst_port);
            if o.segment.flags.syn() && self.iss_ports != Some(ports) {
                self.local_iss = o.segment.seq;
                self.iss_ports = Some(ports);
            }
            self.sent.push_back((self.now, *o.segment));
        }
        for (_, h, ev) in out.events {
            let Some(fd) = self.fds.values_mut().find(|f| f.sock == Sock::Conn(h)) else {
                continue;
            };
            match ev {
                SocketEvent::Connected => fd.connected = true,
                SocketEvent::Reset => {
                    fd.error = Some(if fd.connected {
                        "ECONNRESET"
                    } else {
                        "ECONNREFUSED"
                    })
                }
                SocketEvent::TimedOut => fd.error = Some("ETIMEDOUT"),
                _ => {}
            }
        }
    }

    fn call<R>(&mut self, f: impl FnOnce(&mut Stack, SimTime, &mut Output) -> R) -> R {
        let mut out = Output::default();
        let r = f(&mut self.stack, self.now, &mut out);
        self.absorb(out);
        r
    }

    /// Runs the earliest pending wakeup, if it is due by `limit`.
    fn fire_next(&mut self, limit: SimTime) -> bool {
        match self.queue.peek_time() {
            Some(t) if t <= limit => {}
            _ => return false,
        }
        let Some((t, w)) = self.queue.pop() else {
            return false;
        };
        self.now = self.now.max(t);
        self.wakeups.fired(w);
        self.call(|s, now, out| s.wakeup(now, w, out));
        true
    }

    /// Runs the host's timers up to `to`, then stands at `to` (never going back).
    fn advance(&mut self, to: SimTime) {
        while self.fire_next(to) {}
        self.now = self.now.max(to);
    }

    // ----- packets -----

    /// The next segment the host sends must be `p`, within the time window.
    fn expect(
        &mut self,
        ev: &Event,
        p: &PacketSpec,
        lo: SimTime,
        hi: SimTime,
    ) -> Result<SimTime, Failure> {
        let deadline = if hi == SimTime::MAX {
            hi
        } else {
            later(hi, self.tolerance)
        };
        while self.sent.is_empty() {
            if !self.fire_next(deadline) {
                // Failing anyway: look ahead, so a late segment is reported as late.
                let ahead =
                    SimTime::from_nanos(deadline.as_nanos().saturating_add(LOOK_AHEAD.as_nanos()));
                while self.sent.is_empty() && self.fire_next(ahead) {}
                let Some((at, seg)) = self.sent.front() else {
                    return fail(
                        ev.line,
                        format!(
                            "expected an outbound packet by {}, but the host sent nothing\n  script packet: {}",
                            secs(deadline),
                            show_spec(lo, p)
                        ),
                    );
                };
                return fail(
                    ev.line,
                    format!(
                        "sent at {}, expected by {} (tolerance {} us)\n  script packet: {}\n  actual packet: {}",
                        secs(*at),
                        secs(deadline),
                        self.tolerance.as_nanos() / 1000,
                        show_spec(lo, p),
                        self.show(*at, seg)
                    ),
                );
            }
        }
        let (at, seg) = self.sent.pop_front().expect("not empty");
        let mut wrong = Vec::new();
        if later(at, self.tolerance) < lo || (hi != SimTime::MAX && at > deadline) {
            wrong.push(format!(
                "sent at {}, expected {} (tolerance {} us)",
                secs(at),
                if lo == hi {
                    secs(lo)
                } else {
                    format!("{}~{}", secs(lo), secs(hi))
                },
                self.tolerance.as_nanos() / 1000
            ));
        }
        if seg.flags != p.flags {
            wrong.push(format!("flags {} (expected {})", seg.flags, p.flags));
        }
        let seq = self.relative_seq(&seg);
        if seq != p.seq {
            wrong.push(format!("seq {seq} (expected {})", p.seq));
        }
        if seg.payload.len() as u32 != p.len {
            wrong.push(format!(
                "payload {} bytes (expected {})",
                seg.payload.len(),
                p.len
            ));
        }
        if let Some(ack) = p.ack
            && seg.ack.0 != ack
        {
            wrong.push(format!("ack {} (expected {ack})", seg.ack.0));
        }
        if let Some(win) = p.win
            && seg.window != win
        {
            wrong.push(format!("win {} (expected {win})", seg.window));
        }
        if let Some(Options::List(list)) = &p.options {
            self.check_options(list, &seg, &mut wrong);
        }
        if !wrong.is_empty() {
            return fail(
                ev.line,
                format!(
                    "error handling packet: {}\n  script packet: {}\n  actual packet: {}",
                    wrong.join("; "),
                    show_spec(lo, p),
                    self.show(at, &seg)
                ),
            );
        }
        Ok(at)
    }

    fn check_options(&mut self, list: &[TcpOption], seg: &Segment, wrong: &mut Vec<String>) {
        let mut mss = None;
        let mut ts = None;
        let mut sack_ok = false;
        let mut sack: Option<Vec<(u32, u32)>> = None;
        for o in list {
            match *o {
                TcpOption::Mss(m) => mss = Some(m),
                TcpOption::Timestamp { val, ecr } => ts = Some((val, ecr)),
                TcpOption::SackOk => sack_ok = true,
                TcpOption::Sack { blocks, len } => sack = Some(blocks[..len as usize].to_vec()),
                TcpOption::WScale(_) => {
                    wrong.push("no wscale option (the model does not scale windows)".into())
                }
                TcpOption::Nop | TcpOption::Eol => {}
            }
        }
        if seg.mss != mss {
            let show = |m: Option<u16>| m.map_or("none".into(), |m| m.to_string());
            wrong.push(format!("mss {} (expected {})", show(seg.mss), show(mss)));
        }
        // RFC 2018 §2: SACK-permitted on a SYN (a SYN-ACK only answers one that offered it). An
        // offer the script does not list on a SYN is let pass, as wscale is (the suite's
        // scripts predate SACK); on a SYN-ACK it must be an answer.
        let answer = seg.flags.ack();
        if seg.sack_ok != sack_ok && (sack_ok || answer) {
            wrong.push(if sack_ok {
                "no sackOK option (expected one)".into()
            } else {
                "a sackOK option (expected none)".into()
            });
        }
        // RFC 2018 §3: SACK blocks, in the peer's numbers (they acknowledge its data).
        let got = self.sack_blocks(seg);
        if got != sack.clone().unwrap_or_default() {
            let show = |b: &[(u32, u32)]| {
                if b.is_empty() {
                    "none".to_string()
                } else {
                    show_sack(b)
                }
            };
            wrong.push(format!(
                "sack {} (expected {})",
                show(&got),
                show(&sack.unwrap_or_default())
            ));
        }
        match (ts, seg.timestamps) {
            (Some((val, ecr)), Some(t)) => {
                self.ts_shift = t.tsval.wrapping_sub(val);
                if t.tsecr != ecr {
                    wrong.push(format!("TS ecr {} (expected {ecr})", t.tsecr));
                }
            }
            (Some(_), None) => wrong.push("no TS option (expected one)".into()),
            (None, Some(_)) => wrong.push("a TS option (expected none)".into()),
            (None, None) => {}
        }
    }

    /// The SACK blocks the host sent. They acknowledge the peer's data, whose numbers the
    /// script writes as they are (like the `ack` field), so they are shown unchanged.
    fn sack_blocks(&self, seg: &Segment) -> Vec<(u32, u32)> {
        seg.sack.as_deref().map_or_else(Vec::new, |b| {
            b.as_slice().iter().map(|&(l, r)| (l.0, r.0)).collect()
        })
    }

    /// Any segment still unmatched is one the script did not expect.
    fn no_unexpected(&mut self, line: usize, when: &str) -> Result<(), Failure> {
        let Some((at, seg)) = self.sent.front() else {
            return Ok(());
        };
        fail(
            line,
            format!(
                "unexpected outbound packet {when}\n  actual packet: {}",
                self.show(*at, seg)
            ),
        )
    }

    fn inject(&mut self, p: &PacketSpec) {
        if p.flags.syn() {
            self.remote_isn = SeqNum(p.seq);
        }
        let mut seg = Segment {
            src_port: self.remote_port,
            dst_port: self.local_port,
            seq: SeqNum(p.seq),
            ack: p.ack.map_or(SeqNum(0), |a| self.local_iss + a),
            flags: p.flags,
            window: p.win.unwrap_or(u16::MAX),
            payload: Payload::from(vec![0; p.len as usize]),
            tag: Tag {
                conn: PEER,
                offset: SeqNum(p.seq).since(self.remote_isn + 1) as u64,
                sent_at: self.now,
                arrived_at: self.now,
                ttl_left: 64,
                ..Tag::default()
            },
            ..Segment::default()
        };
        if let Some(Options::List(list)) = &p.options {
            for o in list {
                match *o {
                    TcpOption::Mss(m) => seg.mss = Some(m),
                    TcpOption::SackOk => seg.sack_ok = true,
                    // Blocks acknowledge the host's data: relative to its ISS.
                    TcpOption::Sack { blocks, len } => {
                        seg.sack = Some(Box::new(
                            blocks[..len as usize]
                                .iter()
                                .map(|&(l, r)| (self.local_iss + l, self.local_iss + r))
                                .collect(),
                        ))
                    }
                    TcpOption::Timestamp { val, ecr } => {
                        seg.timestamps = Some(Timestamps {
                            tsval: val,
                            tsecr: ecr.wrapping_add(self.ts_shift),
                        })
                    }
                    // A host without window scaling ignores it, as RFC 7323 allows.
                    _ => {}
                }
            }
        }
        self.call(|s, now, out| s.segment_in(now, REMOTE_IP, LOCAL_IP, &seg, out));
    }

    /// The host's SEQ counted from its ISS. A RST with SEQ 0 answers a segment without ACK
    /// (RFC 9293 §3.10.7.1) and owes nothing to the ISS, so it stays 0.
    fn relative_seq(&self, seg: &Segment) -> u32 {
        if seg.flags.rst() && seg.seq == SeqNum(0) {
            0
        } else {
            seg.seq.since(self.local_iss)
        }
    }

    /// A segment in tcpdump-ish form with the host's numbers made relative.
    fn show(&self, at: SimTime, seg: &Segment) -> String {
        let seq = self.relative_seq(seg);
        let len = seg.payload.len() as u32;
        let mut s = format!(
            "{} {} {}:{}({})",
            secs(at),
            seg.flags,
            seq,
            seq.wrapping_add(len),
            len
        );
        if seg.flags.ack() {
            let _ = write!(s, " ack {}", seg.ack.0);
        }
        let _ = write!(s, " win {}", seg.window);
        let mut opts = Vec::new();
        if let Some(m) = seg.mss {
            opts.push(format!("mss {m}"));
        }
        if seg.sack_ok {
            opts.push("sackOK".into());
        }
        if let Some(t) = seg.timestamps {
            opts.push(format!(
                "TS val {} ecr {}",
                t.tsval.wrapping_sub(self.ts_shift),
                t.tsecr
            ));
        }
        let sack = self.sack_blocks(seg);
        if !sack.is_empty() {
            opts.push(show_sack(&sack));
        }
        if !opts.is_empty() {
            let _ = write!(s, " <{}>", opts.join(","));
        }
        s
    }

    // ----- system calls -----

    fn syscall(&mut self, ev: &Event, c: &Syscall) -> Result<(), Failure> {
        if let Some(b) = &self.blocked {
            return fail(
                ev.line,
                format!(
                    "{c} while line {}'s {} is still blocked (one call at a time)",
                    b.line, b.call
                ),
            );
        }
        let ret = match self.run_call(ev, c)? {
            Ret::Blocks(wait) => {
                self.blocked = Some(Blocked {
                    line: ev.line,
                    call: c.clone(),
                    started: self.now,
                    wait,
                });
                return Ok(());
            }
            r => r,
        };
        self.check_return(ev.line, c, self.now, self.now, &ret)
    }

    /// Compares what a call returned at `done` (started at `started`) with the script.
    fn check_return(
        &self,
        line: usize,
        c: &Syscall,
        started: SimTime,
        done: SimTime,
        ret: &Ret,
    ) -> Result<(), Failure> {
        let (value, errno) = match ret {
            Ret::Value(v) => (*v, None),
            Ret::Errno(e) => (-1, Some(*e)),
            Ret::Blocks(_) => unreachable!("a finished call"),
        };
        if value != c.ret || errno != c.errno.as_deref() {
            let show = |v: i64, e: Option<&str>| match e {
                Some(e) => format!("{v} {e}"),
                None => v.to_string(),
            };
            return fail(
                line,
                format!(
                    "{c} returned {}, expected {}",
                    show(value, errno),
                    show(c.ret, c.errno.as_deref())
                ),
            );
        }
        if let Some(end) = c.end {
            let want = if end.relative {
                later(started, micros(end.usecs))
            } else {
                later(SimTime::ZERO, micros(end.usecs))
            };
            if later(done, self.tolerance) < want || done > later(want, self.tolerance) {
                return fail(
                    line,
                    format!(
                        "{c} returned at {}, expected {} (tolerance {} us)",
                        secs(done),
                        secs(want),
                        self.tolerance.as_nanos() / 1000
                    ),
                );
            }
        }
        Ok(())
    }

    /// Completes a blocked call once it can return.
    fn poll_blocked(&mut self) -> Result<(), Failure> {
        let Some(b) = &self.blocked else {
            return Ok(());
        };
        let wait = b.wait;
        let ret = match wait {
            Wait::Accept { lid } => self.try_accept(lid),
            Wait::Connect { fd } => self.connect_result(fd),
            Wait::Read { fd, max } => self.try_read(fd, max),
        };
        let Some(ret) = ret else { return Ok(()) };
        let b = self.blocked.take().expect("blocked");
        self.check_return(b.line, &b.call, b.started, self.now, &ret)
    }

    fn fd(&self, ev: &Event, args: &[Expr]) -> Result<i32, Failure> {
        match args.first() {
            Some(Expr::Int(n)) => Ok(*n as i32),
            _ => fail(ev.line, "expected a file descriptor as the first argument"),
        }
    }

    fn run_call(&mut self, ev: &Event, c: &Syscall) -> Result<Ret, Failure> {
        let args = &c.args;
        if c.name == "socket" {
            if !args.iter().any(|a| *a == Expr::Word("SOCK_STREAM".into())) {
                return skipped(ev, "only SOCK_STREAM sockets are modelled");
            }
            let fd = self.free_fd();
            self.fds.insert(
                fd,
                Fd {
                    sock: Sock::Fresh { port: None },
                    nonblock: false,
                    linger_abort: false,
                    error: None,
                    connected: false,
                    shut_wr: false,
                },
            );
            return Ok(Ret::Value(fd as i64));
        }
        const CALLS: &[&str] = &[
            "bind",
            "listen",
            "accept",
            "accept4",
            "connect",
            "write",
            "send",
            "read",
            "recv",
            "shutdown",
            "close",
            "fcntl",
            "setsockopt",
            "getsockopt",
        ];
        if !CALLS.contains(&c.name.as_str()) {
            return skipped(ev, format!("the system call {}() is not modelled", c.name));
        }
        let n = self.fd(ev, args)?;
        let Some(fd) = self.fds.get(&n).cloned() else {
            return Ok(Ret::Errno("EBADF"));
        };
        let int_arg = |i: usize| match args.get(i) {
            Some(Expr::Int(v)) => Ok(*v),
            _ => fail(ev.line, format!("expected a number as argument {}", i + 1)),
        };
        Ok(match (c.name.as_str(), fd.sock) {
            ("bind", Sock::Fresh { .. }) => {
                let port = sockaddr_port(args.get(1)).unwrap_or(SERVICE_PORT);
                self.set(n, |f| f.sock = Sock::Fresh { port: Some(port) });
                Ret::Value(0)
            }
            ("bind", _) => Ret::Errno("EINVAL"),
            ("listen", Sock::Fresh { port }) => {
                let port = port.unwrap_or(SERVICE_PORT);
                let backlog = int_arg(1)?.clamp(0, u32::MAX as i64) as u32;
                match self
                    .stack
                    .listen(SocketAddrV4::new(LOCAL_IP, port), backlog, n as u32)
                {
                    Ok(lid) => {
                        self.set(n, |f| f.sock = Sock::Listener(lid));
                        self.local_port = port;
                        self.remote_port = REMOTE_PORT;
                        Ret::Value(0)
                    }
                    Err(e) => Ret::Errno(e.errno()),
                }
            }
            ("listen", Sock::Listener(_)) => Ret::Value(0),
            ("listen", _) => Ret::Errno("EINVAL"),
            ("accept" | "accept4", Sock::Listener(lid)) => match self.try_accept(lid) {
                Some(r) => r,
                None if fd.nonblock => Ret::Errno("EAGAIN"),
                None => Ret::Blocks(Wait::Accept { lid }),
            },
            ("accept" | "accept4", _) => Ret::Errno("EINVAL"),
            ("connect", Sock::Fresh { port }) => {
                let remote = SocketAddrV4::new(
                    REMOTE_IP,
                    sockaddr_port(args.get(1)).unwrap_or(SERVICE_PORT),
                );
                match self.call(|s, now, out| s.connect(now, port, remote, n as u32, out)) {
                    Ok(h) => {
                        self.set(n, |f| f.sock = Sock::Conn(h));
                        if let Some(s) = self.stack.socket(h) {
                            self.local_port = s.tuple.local.port();
                        }
                        self.remote_port = remote.port();
                        if fd.nonblock {
                            Ret::Errno("EINPROGRESS")
                        } else {
                            Ret::Blocks(Wait::Connect { fd: n })
                        }
                    }
                    Err(e) => Ret::Errno(e.errno()),
                }
            }
            ("connect", Sock::Conn(_)) => match self.connect_result(n) {
                Some(Ret::Value(_)) => Ret::Errno("EISCONN"),
                Some(r) => r,
                None => Ret::Errno("EALREADY"),
            },
            ("connect", Sock::Listener(_)) => Ret::Errno("EISCONN"),
            ("write" | "send", Sock::Conn(h)) => {
                let len = int_arg(2)?.max(0) as usize;
                if len > crate::tcp::MAX_BUFFER_BYTES as usize {
                    return fail(
                        ev.line,
                        format!("a write of {len} bytes: at most 64 MiB per call"),
                    );
                }
                if let Some(e) = self.take_error(n) {
                    e
                } else if fd.shut_wr || self.stack.socket(h).is_none_or(|s| !s.state.accepts_send())
                {
                    Ret::Errno("EPIPE")
                } else {
                    let data = Payload::from(vec![0u8; len]);
                    let sent = self.call(|s, now, out| s.send(now, h, &data, out));
                    if sent == 0 && len > 0 {
                        if fd.nonblock {
                            Ret::Errno("EAGAIN")
                        } else {
                            return skipped(ev, "a write that blocks on a full send buffer");
                        }
                    } else {
                        Ret::Value(sent as i64)
                    }
                }
            }
            ("write" | "send", _) => Ret::Errno("EPIPE"),
            ("read" | "recv", Sock::Conn(_)) => {
                let max = int_arg(2)?.max(0) as usize;
                match self.try_read(n, max) {
                    Some(r) => r,
                    None if fd.nonblock => Ret::Errno("EAGAIN"),
                    None => Ret::Blocks(Wait::Read { fd: n, max }),
                }
            }
            ("read" | "recv", _) => Ret::Errno("ENOTCONN"),
            ("shutdown", Sock::Conn(h)) => match args.get(1) {
                Some(Expr::Word(w)) if w == "SHUT_WR" || w == "SHUT_RDWR" => {
                    self.call(|s, now, out| s.shutdown(now, h, out));
                    self.set(n, |f| f.shut_wr = true);
                    Ret::Value(0)
                }
                _ => return skipped(ev, "only SHUT_WR and SHUT_RDWR are modelled"),
            },
            ("shutdown", _) => Ret::Errno("ENOTCONN"),
            ("close", sock) => {
                self.fds.remove(&n);
                match sock {
                    Sock::Listener(lid) => self.call(|s, now, out| s.close_listener(now, lid, out)),
                    Sock::Conn(h) if fd.linger_abort => {
                        self.call(|s, now, out| s.abort(now, h, out))
                    }
                    Sock::Conn(h) => self.call(|s, now, out| s.close(now, h, out)),
                    Sock::Fresh { .. } => {}
                }
                Ret::Value(0)
            }
            ("fcntl", _) => match args.get(1) {
                Some(Expr::Word(w)) if w == "F_GETFL" => {
                    Ret::Value(O_RDWR | if fd.nonblock { O_NONBLOCK } else { 0 })
                }
                Some(Expr::Word(w)) if w == "F_SETFL" => {
                    let flags = args.get(2).map(flag_bits).unwrap_or(Ok(0));
                    let flags = match flags {
                        Ok(f) => f,
                        Err(w) => return skipped(ev, format!("unknown flag {w}")),
                    };
                    self.set(n, |f| f.nonblock = flags & O_NONBLOCK != 0);
                    Ret::Value(0)
                }
                _ => return skipped(ev, "only F_GETFL and F_SETFL are modelled"),
            },
            ("setsockopt", _) => self.setsockopt(ev, n, args)?,
            ("getsockopt", _) => self.getsockopt(ev, n, args)?,
            (name, _) => {
                return skipped(ev, format!("{name}() is not modelled on this descriptor"));
            }
        })
    }

    fn setsockopt(&mut self, ev: &Event, n: i32, args: &[Expr]) -> Result<Ret, Failure> {
        let name = match args.get(2) {
            Some(Expr::Word(w)) => w.as_str(),
            _ => return fail(ev.line, "expected an option name as argument 3"),
        };
        let value = match args.get(3) {
            Some(Expr::Array(v)) => match v.first() {
                Some(Expr::Int(i)) => Some(*i),
                _ => None,
            },
            Some(Expr::Int(i)) => Some(*i),
            _ => None,
        };
        Ok(match (name, value) {
            // The model never refuses a bind, so the option has nothing to change.
            ("SO_REUSEADDR", _) => Ret::Value(0),
            // The model sends at once (it has no Nagle algorithm): TCP_NODELAY is how it is.
            ("TCP_NODELAY", Some(v)) if v != 0 => Ret::Value(0),
            ("SO_LINGER", _) => {
                let field = |k: &str| match args.get(3) {
                    Some(Expr::Struct(fields)) => fields.iter().find_map(|(f, e)| match e {
                        Expr::Int(i) if f == k => Some(*i),
                        _ => None,
                    }),
                    _ => None,
                };
                match (field("onoff"), field("linger")) {
                    (Some(0), _) => self.set(n, |f| f.linger_abort = false),
                    (Some(_), Some(0)) => self.set(n, |f| f.linger_abort = true),
                    _ => {
                        return skipped(
                            ev,
                            "only SO_LINGER off, or on with a zero timeout, is modelled",
                        );
                    }
                }
                Ret::Value(0)
            }
            ("SO_RCVBUF" | "SO_SNDBUF", Some(v)) if v > 0 => {
                let mut c = self.config.clone();
                let v = v.min(crate::tcp::MAX_BUFFER_BYTES as i64) as u32;
                if name == "SO_RCVBUF" {
                    c.rcv_buf = v;
                } else {
                    c.snd_buf = v;
                }
                self.reconfigure(ev, c, name)?;
                Ret::Value(0)
            }
            _ => {
                return skipped(
                    ev,
                    format!("the option {name} with this value is not modelled"),
                );
            }
        })
    }

    fn getsockopt(&mut self, ev: &Event, n: i32, args: &[Expr]) -> Result<Ret, Failure> {
        let name = match args.get(2) {
            Some(Expr::Word(w)) => w.clone(),
            _ => return fail(ev.line, "expected an option name as argument 3"),
        };
        let actual: String = match name.as_str() {
            "SO_ERROR" => self
                .fds
                .get_mut(&n)
                .and_then(|f| f.error.take())
                .unwrap_or("0")
                .to_string(),
            "SO_RCVBUF" => self.profile.so_rcvbuf(self.config.rcv_buf).to_string(),
            "SO_SNDBUF" => self.config.snd_buf.to_string(),
            "TCP_NODELAY" => "1".into(),
            _ => return skipped(ev, format!("getsockopt of {name} is not modelled")),
        };
        let expected = match args.get(3) {
            Some(Expr::Array(v)) if v.len() == 1 => v[0].to_string(),
            Some(Expr::Ellipsis) | None => return Ok(Ret::Value(0)),
            Some(e) => e.to_string(),
        };
        if expected != actual && expected != "..." {
            return fail(
                ev.line,
                format!("getsockopt {name} gave [{actual}], expected [{expected}]"),
            );
        }
        Ok(Ret::Value(0))
    }

    /// A new configuration takes effect only before the host has any socket, since every
    /// socket shares its host's settings.
    fn reconfigure(&mut self, ev: &Event, c: TcpConfig, what: &str) -> Result<(), Failure> {
        if c == self.config {
            return Ok(());
        }
        let pristine = self.stack.sockets().next().is_none()
            && self.stack.listeners().next().is_none()
            && self.stack.time_wait().is_empty();
        if !pristine {
            return skipped(
                ev,
                format!(
                    "{what} changes a host-wide setting, which the model only takes before the first listen() or connect()"
                ),
            );
        }
        self.stack = new_stack(&c);
        self.queue = EventQueue::new();
        self.wakeups = Wakeups::default();
        self.config = c;
        Ok(())
    }

    /// Backquoted commands: `sysctl` lines the model has settings for; nothing else.
    fn shell(&mut self, ev: &Event, cmd: &str) -> Result<(), Failure> {
        let mut c = self.config.clone();
        for part in cmd
            .split([';', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let words = shell_words(part);
            let mut words = words.iter().map(String::as_str);
            if words.next() != Some("sysctl") {
                return skipped(ev, "shell commands other than sysctl are not run");
            }
            for w in words.filter(|w| !w.starts_with('-')) {
                let Some((name, value)) = w.split_once('=') else {
                    return skipped(ev, format!("`{w}` is not NAME=VALUE"));
                };
                match profile::sysctl(&mut c, name, value.trim_matches('"')) {
                    Ok(Sysctl::Unchanged | Sysctl::Changed) => {}
                    Err(why) => return skipped(ev, why),
                }
            }
        }
        self.reconfigure(ev, c, "sysctl")
    }

    // ----- descriptor helpers -----

    fn free_fd(&self) -> i32 {
        (3..)
            .find(|n| !self.fds.contains_key(n))
            .expect("a free fd")
    }

    fn set(&mut self, n: i32, f: impl FnOnce(&mut Fd)) {
        if let Some(fd) = self.fds.get_mut(&n) {
            f(fd);
        }
    }

    fn take_error(&mut self, n: i32) -> Option<Ret> {
        self.fds
            .get_mut(&n)
            .and_then(|f| f.error.take())
            .map(Ret::Errno)
    }

    fn try_accept(&mut self, lid: u32) -> Option<Ret> {
        let fd = self.free_fd();
        let h = self.stack.accept(lid, fd as u32)?;
        self.fds.insert(
            fd,
            Fd {
                sock: Sock::Conn(h),
                nonblock: false,
                linger_abort: false,
                error: None,
                connected: true,
                shut_wr: false,
            },
        );
        Some(Ret::Value(fd as i64))
    }

    fn connect_result(&mut self, n: i32) -> Option<Ret> {
        let fd = self.fds.get(&n)?;
        if fd.connected {
            return Some(Ret::Value(0));
        }
        self.take_error(n)
    }

    /// What read() returns now, or `None` if it would block. Data first, then the pending
    /// error, then end of stream (Linux `tcp_recvmsg`).
    fn try_read(&mut self, n: i32, max: usize) -> Option<Ret> {
        let Sock::Conn(h) = self.fds.get(&n)?.sock else {
            return Some(Ret::Errno("ENOTCONN"));
        };
        match self.stack.socket(h) {
            Some(s) if s.recv_queue() > 0 && max > 0 => {
                let data = self.call(|st, now, out| st.recv(now, h, max, out));
                Some(Ret::Value(data.len() as i64))
            }
            Some(s) if s.peer_closed() => Some(Ret::Value(0)),
            Some(_) => self.take_error(n),
            None => Some(self.take_error(n).unwrap_or(Ret::Value(0))),
        }
    }
}

/// The port in `{sa_family=AF_INET, sin_port=htons(N), ...}`, if written.
fn sockaddr_port(e: Option<&Expr>) -> Option<u16> {
    let Some(Expr::Struct(fields)) = e else {
        return None;
    };
    fields.iter().find_map(|(k, v)| match v {
        Expr::Call(f, a) if k == "sin_port" && f == "htons" => match a.first() {
            Some(Expr::Int(p)) => u16::try_from(*p).ok(),
            _ => None,
        },
        _ => None,
    })
}

/// `O_RDWR|O_NONBLOCK` as bits.
fn flag_bits(e: &Expr) -> Result<i64, String> {
    match e {
        Expr::Int(n) => Ok(*n),
        Expr::Word(w) => match w.as_str() {
            "O_RDWR" => Ok(O_RDWR),
            "O_RDONLY" => Ok(0),
            "O_WRONLY" => Ok(1),
            "O_NONBLOCK" => Ok(O_NONBLOCK),
            _ => Err(w.clone()),
        },
        Expr::Or(v) => v.iter().try_fold(0, |acc, e| Ok(acc | flag_bits(e)?)),
        other => Err(other.to_string()),
    }
}

/// A script packet as written, with its time.
fn show_spec(at: SimTime, p: &PacketSpec) -> String {
    let mut s = format!(
        "{} {} {}:{}({})",
        secs(at),
        p.flags,
        p.seq,
        p.seq.wrapping_add(p.len),
        p.len
    );
    if let Some(a) = p.ack {
        let _ = write!(s, " ack {a}");
    }
    if let Some(w) = p.win {
        let _ = write!(s, " win {w}");
    }
    match &p.options {
        Some(Options::Any) => s.push_str(" <...>"),
        Some(Options::List(list)) => {
            let opts: Vec<String> = list
                .iter()
                .map(|o| match o {
                    TcpOption::Nop => "nop".into(),
                    TcpOption::Eol => "eol".into(),
                    TcpOption::Mss(m) => format!("mss {m}"),
                    TcpOption::WScale(w) => format!("wscale {w}"),
                    TcpOption::SackOk => "sackOK".into(),
                    TcpOption::Sack { blocks, len } => show_sack(&blocks[..*len as usize]),
                    TcpOption::Timestamp { val, ecr } => format!("TS val {val} ecr {ecr}"),
                })
                .collect();
            let _ = write!(s, " <{}>", opts.join(","));
        }
        None => {}
    }
    s
}

/// `sack 1001:2001 3001:4001`, packetdrill's form.
fn show_sack(blocks: &[(u32, u32)]) -> String {
    let b: Vec<String> = blocks.iter().map(|(l, r)| format!("{l}:{r}")).collect();
    format!("sack {}", b.join(" "))
}
