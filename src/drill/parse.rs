//! The script language: packetdrill's grammar (its `Syntax.md`), read into [`Event`]s.
//!
//! Before tokenizing, comments are removed and `#ifdef NAME` / `#else` / `#endif` blocks are
//! resolved against the defined names (packetdrill itself has no preprocessor; the conformance
//! suite uses one to state where Linux and RFC 9293 differ). An event is one line, or several
//! while a parenthesis, bracket or brace is still open.

use std::fmt;

use crate::tcp::Flags;

/// The largest payload a script packet may carry: what one IPv4 datagram can hold.
pub const MAX_PAYLOAD: u32 = 65_535;

/// A malformed script: where, and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// One time point as written: `+0.1` (relative to the previous event) or `1.5` (absolute),
/// in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimePoint {
    /// Written with a leading `+`.
    pub relative: bool,
    /// Microseconds.
    pub usecs: i64,
}

/// When an event happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// At one time.
    At(TimePoint),
    /// Anywhere in `start ~ end`.
    Range(TimePoint, TimePoint),
    /// `*`: any time.
    Any,
}

/// Which way a packet travels, seen from the host under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `<`: the script injects it.
    Inbound,
    /// `>`: the host must send it.
    Outbound,
}

/// One TCP option as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption {
    /// `nop`.
    Nop,
    /// `eol`.
    Eol,
    /// `mss N`.
    Mss(u16),
    /// `wscale N`.
    WScale(u8),
    /// `sackOK`.
    SackOk,
    /// `sack L:R L:R ...` (RFC 2018 §3): up to 4 blocks, each relative to the ISN of the side
    /// whose data it acknowledges, as packetdrill writes them.
    Sack {
        /// The blocks, `len` of them used.
        blocks: [(u32, u32); 4],
        /// Number of blocks.
        len: u8,
    },
    /// `TS val X ecr Y`.
    Timestamp {
        /// TSval.
        val: u32,
        /// TSecr.
        ecr: u32,
    },
}

/// A packet's options: `<...>` (anything) or a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Options {
    /// `<...>`: not checked.
    Any,
    /// The options in order.
    List(Vec<TcpOption>),
}

/// `< flags seq:end(len) [ack N] [win N] [<options>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketSpec {
    /// `<` or `>`.
    pub direction: Direction,
    /// Control bits.
    pub flags: Flags,
    /// First sequence number (relative, see the executor).
    pub seq: u32,
    /// Payload bytes.
    pub len: u32,
    /// `ack N`, if written.
    pub ack: Option<u32>,
    /// `win N`, if written.
    pub win: Option<u16>,
    /// Options, if written.
    pub options: Option<Options>,
}

/// A system call argument or result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `...`: whatever the call needs.
    Ellipsis,
    /// A number.
    Int(i64),
    /// A symbol such as `SOCK_STREAM` or `O_NONBLOCK`.
    Word(String),
    /// A quoted string.
    Str(String),
    /// `A|B|...`.
    Or(Vec<Expr>),
    /// `[a, b]`.
    Array(Vec<Expr>),
    /// `{name=value, ...}` (linger, sockaddr, ...).
    Struct(Vec<(String, Expr)>),
    /// `name(args)` inside a struct, such as `htons(8080)`.
    Call(String, Vec<Expr>),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, v: &[Expr]| -> fmt::Result {
            for (i, e) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{e}")?;
            }
            Ok(())
        };
        match self {
            Expr::Ellipsis => f.write_str("..."),
            Expr::Int(n) => write!(f, "{n}"),
            Expr::Word(w) => f.write_str(w),
            Expr::Str(s) => write!(f, "\"{s}\""),
            Expr::Or(v) => {
                let parts: Vec<String> = v.iter().map(ToString::to_string).collect();
                f.write_str(&parts.join("|"))
            }
            Expr::Array(v) => {
                f.write_str("[")?;
                list(f, v)?;
                f.write_str("]")
            }
            Expr::Struct(v) => {
                let parts: Vec<String> = v.iter().map(|(k, e)| format!("{k}={e}")).collect();
                write!(f, "{{{}}}", parts.join(", "))
            }
            Expr::Call(name, v) => {
                write!(f, "{name}(")?;
                list(f, v)?;
                f.write_str(")")
            }
        }
    }
}

/// `name(args) = ret [ERRNO (note)]`, optionally `start...end` for a call that blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Syscall {
    /// The call's name.
    pub name: String,
    /// Its arguments.
    pub args: Vec<Expr>,
    /// When a blocking call must return (`...end`).
    pub end: Option<TimePoint>,
    /// The expected return value.
    pub ret: i64,
    /// The expected errno name (`ECONNREFUSED`), when the call fails.
    pub errno: Option<String>,
}

impl fmt::Display for Syscall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self.args.iter().map(ToString::to_string).collect();
        write!(f, "{}({})", self.name, args.join(", "))
    }
}

/// What an event does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A packet in or out.
    Packet(PacketSpec),
    /// A system call.
    Syscall(Syscall),
    /// A backquoted shell command.
    Shell(String),
    /// A `%{ python }%` block.
    Code(String),
}

/// One timed line of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// 1-based line where it starts.
    pub line: usize,
    /// When.
    pub when: When,
    /// What.
    pub action: Action,
    /// The line's text as written (for messages).
    pub text: String,
}

/// A `--name=value` line at the top of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptOption {
    /// 1-based line.
    pub line: usize,
    /// Name without the dashes.
    pub name: String,
    /// Value as written.
    pub value: String,
}

/// A parsed script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// `--name=value` options.
    pub options: Vec<ScriptOption>,
    /// Events in order.
    pub events: Vec<Event>,
}

/// Parses a script, keeping the `#ifdef` branches `defined` selects.
pub fn parse(text: &str, defined: &[String]) -> Result<Script, ParseError> {
    let lines = preprocess(text, defined)?;
    let mut script = Script::default();
    let mut i = 0;
    while i < lines.len() {
        let (line, first) = (i + 1, lines[i].trim());
        if first.is_empty() {
            i += 1;
            continue;
        }
        // An event continues on the next lines while a bracket is open.
        let mut text = first.to_string();
        while depth(&text) > 0 && i + 1 < lines.len() {
            i += 1;
            text.push(' ');
            text.push_str(lines[i].trim());
        }
        i += 1;
        if let Some(opt) = text.strip_prefix("--") {
            let (name, value) = opt.split_once('=').unwrap_or((opt, ""));
            script.options.push(ScriptOption {
                line,
                name: name.trim().to_string(),
                value: value.trim().to_string(),
            });
            continue;
        }
        let tokens = lex(&text).map_err(|message| ParseError { line, message })?;
        let event = Parser { tokens, pos: 0 }
            .event(line, &text)
            .map_err(|message| ParseError { line, message })?;
        script.events.push(event);
    }
    Ok(script)
}

/// Bracket nesting left open at the end of `s`, outside strings.
fn depth(s: &str) -> i32 {
    let (mut d, mut quote) = (0, None);
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => d += 1,
            (None, ')' | ']' | '}') => d -= 1,
            _ => {}
        }
    }
    d
}

/// Removes comments and unselected `#ifdef` branches, keeping line numbers (a removed line
/// becomes empty).
fn preprocess(text: &str, defined: &[String]) -> Result<Vec<String>, ParseError> {
    // Each open #ifdef: (its line, whether its branch is taken, whether #else was seen).
    let mut stack: Vec<(usize, bool, bool)> = Vec::new();
    let mut out = Vec::new();
    let mut in_block_comment = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let mut s = String::new();
        let mut rest = raw;
        // C comments may span lines; // comments end the line.
        loop {
            if in_block_comment {
                match rest.find("*/") {
                    Some(end) => {
                        rest = &rest[end + 2..];
                        in_block_comment = false;
                    }
                    None => break,
                }
            } else {
                let line_c = rest.find("//");
                let block = rest.find("/*");
                match (line_c, block) {
                    (Some(a), Some(b)) if a < b => {
                        s.push_str(&rest[..a]);
                        break;
                    }
                    (Some(a), None) => {
                        s.push_str(&rest[..a]);
                        break;
                    }
                    (_, Some(b)) => {
                        s.push_str(&rest[..b]);
                        rest = &rest[b + 2..];
                        in_block_comment = true;
                    }
                    (None, None) => {
                        s.push_str(rest);
                        break;
                    }
                }
            }
        }
        let t = s.trim();
        let taken = stack.iter().all(|(_, on, _)| *on);
        let err = |message: String| ParseError { line, message };
        if let Some(name) = t.strip_prefix("#ifdef") {
            let name = name.trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(err("expected one name after #ifdef".into()));
            }
            stack.push((line, defined.iter().any(|d| d == name), false));
            out.push(String::new());
        } else if let Some(name) = t.strip_prefix("#ifndef") {
            let name = name.trim();
            stack.push((line, !defined.iter().any(|d| d == name), false));
            out.push(String::new());
        } else if t == "#else" {
            match stack.last_mut() {
                Some((_, on, seen)) if !*seen => {
                    *on = !*on;
                    *seen = true;
                }
                Some(_) => return Err(err("a second #else for the same #ifdef".into())),
                None => return Err(err("#else without #ifdef".into())),
            }
            out.push(String::new());
        } else if t == "#endif" {
            if stack.pop().is_none() {
                return Err(err("#endif without #ifdef".into()));
            }
            out.push(String::new());
        } else if t.starts_with('#') {
            return Err(err(format!(
                "unknown directive `{t}`: expected #ifdef, #ifndef, #else or #endif"
            )));
        } else {
            out.push(if taken { s } else { String::new() });
        }
    }
    if let Some((line, _, _)) = stack.last() {
        return Err(ParseError {
            line: *line,
            message: "#ifdef without #endif".into(),
        });
    }
    if in_block_comment {
        return Err(ParseError {
            line: out.len(),
            message: "unterminated /* comment".into(),
        });
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// A number as written (integer or decimal), kept as text so times stay exact.
    Num(String),
    Word(String),
    Str(String),
    Backquoted(String),
    Code(String),
    Ellipsis,
    Punct(char),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Num(s) | Tok::Word(s) => write!(f, "`{s}`"),
            Tok::Str(s) => write!(f, "\"{s}\""),
            Tok::Backquoted(s) => write!(f, "`{s}`"),
            Tok::Code(_) => f.write_str("%{...}%"),
            Tok::Ellipsis => f.write_str("`...`"),
            Tok::Punct(c) => write!(f, "`{c}`"),
        }
    }
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let b: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| b.get(i).copied().unwrap_or('\0');
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '.' && at(i + 1) == '.' && at(i + 2) == '.' {
            out.push(Tok::Ellipsis);
            i += 3;
        } else if c.is_ascii_digit() || (c == '.' && at(i + 1).is_ascii_digit()) {
            let start = i;
            while at(i).is_ascii_digit() {
                i += 1;
            }
            // A '.' is part of the number only when digits follow ("0...0.1" is 0, ..., 0.1).
            if at(i) == '.' && at(i + 1).is_ascii_digit() {
                i += 1;
                while at(i).is_ascii_digit() {
                    i += 1;
                }
            } else if at(i) == 'x' && b[start..i] == ['0'] {
                i += 1;
                while at(i).is_ascii_hexdigit() {
                    i += 1;
                }
            }
            out.push(Tok::Num(b[start..i].iter().collect()));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while at(i).is_ascii_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            out.push(Tok::Word(b[start..i].iter().collect()));
        } else if c == '"' || c == '`' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            if i >= b.len() {
                return Err(format!("unterminated {c}...{c}"));
            }
            let text: String = b[start..i].iter().collect();
            out.push(if c == '"' {
                Tok::Str(text)
            } else {
                Tok::Backquoted(text)
            });
            i += 1;
        } else if c == '%' && at(i + 1) == '{' {
            let rest: String = b[i + 2..].iter().collect();
            let Some(end) = rest.find("}%") else {
                return Err("unterminated %{ ... }% block".into());
            };
            out.push(Tok::Code(rest[..end].to_string()));
            i += 2 + rest[..end].chars().count() + 2;
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    Ok(out)
}

/// Microseconds in a decimal number of seconds, exactly ("0.1" is 100000).
fn usecs(s: &str) -> Result<i64, String> {
    let bad = || format!("`{s}` is not a time in seconds");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 6 {
        return Err(format!(
            "`{s}`: times have at most 6 decimals (microseconds)"
        ));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    // A billion seconds (31 years) is beyond any script and keeps nanoseconds in range.
    if whole > 1_000_000_000 {
        return Err(format!("`{s}`: times are at most 1000000000 seconds"));
    }
    let frac_us: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(frac_us))
        .ok_or_else(bad)
}

fn int(s: &str) -> Result<i64, String> {
    match s.strip_prefix("0x") {
        Some(h) => i64::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|_| format!("expected an integer, found `{s}`"))
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("found {t}"),
            None => "found the end of the line".into(),
        }
    }

    fn punct(&mut self, c: char, what: &str) -> Result<(), String> {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected `{c}` {what}, {}", self.found()))
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn word_is(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn number(&mut self, what: &str) -> Result<i64, String> {
        let neg = self.eat('-');
        match self.next() {
            Some(Tok::Num(s)) => int(&s).map(|n| if neg { -n } else { n }),
            _ => {
                self.pos -= 1;
                Err(format!("expected {what}, {}", self.found()))
            }
        }
    }

    fn unsigned<T: TryFrom<i64>>(&mut self, what: &str) -> Result<T, String> {
        let n = self.number(what)?;
        T::try_from(n).map_err(|_| format!("{what} {n} is out of range"))
    }

    fn time_point(&mut self) -> Result<TimePoint, String> {
        let relative = self.eat('+');
        match self.next() {
            Some(Tok::Num(s)) => Ok(TimePoint {
                relative,
                usecs: usecs(&s)?,
            }),
            _ => {
                self.pos -= 1;
                Err(format!(
                    "expected a time (`0.1`, `+0.1`, `*` or `0.1~0.2`), {}",
                    self.found()
                ))
            }
        }
    }

    fn event(mut self, line: usize, text: &str) -> Result<Event, String> {
        // packetdrill lets a shell command stand without a time (its "init command").
        let when = if matches!(self.peek(), Some(Tok::Backquoted(_))) {
            When::At(TimePoint {
                relative: true,
                usecs: 0,
            })
        } else if self.eat('*') {
            When::Any
        } else {
            let start = self.time_point()?;
            if self.eat('~') {
                When::Range(start, self.time_point()?)
            } else {
                When::At(start)
            }
        };
        let action = match self.peek() {
            Some(Tok::Punct('<')) => Action::Packet(self.packet(Direction::Inbound)?),
            Some(Tok::Punct('>')) => Action::Packet(self.packet(Direction::Outbound)?),
            Some(Tok::Backquoted(s)) => {
                let s = s.clone();
                self.pos += 1;
                Action::Shell(s)
            }
            Some(Tok::Code(s)) => {
                let s = s.clone();
                self.pos += 1;
                Action::Code(s)
            }
            Some(Tok::Word(_)) | Some(Tok::Ellipsis) => Action::Syscall(self.syscall()?),
            _ => {
                return Err(format!(
                    "expected `<`, `>`, a system call or a `shell command` after the time, {}",
                    self.found()
                ));
            }
        };
        if self.peek().is_some() {
            return Err(format!(
                "unexpected {} at the end of the event",
                self.found()
            ));
        }
        Ok(Event {
            line,
            when,
            action,
            text: text.to_string(),
        })
    }

    fn packet(&mut self, direction: Direction) -> Result<PacketSpec, String> {
        self.pos += 1;
        // Flags: a word of S F R P (and '.' for ACK), a lone '.', or '-' for none.
        let mut written = String::new();
        if let Some(Tok::Word(w)) = self.peek() {
            written.push_str(w);
            self.pos += 1;
        }
        if self.eat('.') {
            written.push('.');
        } else if written.is_empty() && !self.eat('-') {
            return Err(format!(
                "expected TCP flags (S, S., ., P., F., R, R., ...), {}",
                self.found()
            ));
        }
        let flags: Flags = written.parse()?;
        let start: u32 = self.unsigned("a sequence number")?;
        self.punct(':', "in seq:end(len)")?;
        let end: u32 = self.unsigned("the end sequence number")?;
        self.punct('(', "in seq:end(len)")?;
        let len: u32 = self.unsigned("the payload length")?;
        self.punct(')', "in seq:end(len)")?;
        if len > MAX_PAYLOAD {
            return Err(format!(
                "a payload of {len} bytes: at most {MAX_PAYLOAD} (an IPv4 datagram's size)"
            ));
        }
        if end.wrapping_sub(start) != len {
            return Err(format!(
                "{start}:{end}({len}): the end must be the start plus the length"
            ));
        }
        let mut spec = PacketSpec {
            direction,
            flags,
            seq: start,
            len,
            ack: None,
            win: None,
            options: None,
        };
        if self.word_is("ack") {
            self.pos += 1;
            spec.ack = Some(self.unsigned("the acknowledgment number")?);
        }
        if self.word_is("win") {
            self.pos += 1;
            spec.win = Some(self.unsigned("the window (0..65535)")?);
        }
        if self.eat('<') {
            spec.options = Some(self.options()?);
        }
        Ok(spec)
    }

    fn options(&mut self) -> Result<Options, String> {
        if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            self.punct('>', "after <...")?;
            return Ok(Options::Any);
        }
        let mut list = Vec::new();
        loop {
            let Some(Tok::Word(w)) = self.next() else {
                self.pos -= 1;
                return Err(format!(
                    "expected a TCP option (mss, sackOK, sack, wscale, TS, nop, eol), {}",
                    self.found()
                ));
            };
            list.push(match w.as_str() {
                "nop" => TcpOption::Nop,
                "eol" => TcpOption::Eol,
                "sackOK" => TcpOption::SackOk,
                "sack" => {
                    let mut blocks = [(0, 0); 4];
                    let mut len = 0u8;
                    while matches!(self.peek(), Some(Tok::Num(_))) {
                        if len == 4 {
                            return Err("more than 4 SACK blocks (RFC 2018 §3)".into());
                        }
                        let l = self.unsigned("a SACK block's left edge")?;
                        self.punct(':', "in a SACK block left:right")?;
                        let r = self.unsigned("a SACK block's right edge")?;
                        blocks[len as usize] = (l, r);
                        len += 1;
                    }
                    TcpOption::Sack { blocks, len }
                }
                "mss" => TcpOption::Mss(self.unsigned("the MSS")?),
                "wscale" => TcpOption::WScale(self.unsigned("the window scale")?),
                "TS" => {
                    if !self.word_is("val") {
                        return Err(format!("expected `val` after TS, {}", self.found()));
                    }
                    self.pos += 1;
                    let val = self.unsigned("TSval")?;
                    if !self.word_is("ecr") {
                        return Err(format!("expected `ecr` after TS val, {}", self.found()));
                    }
                    self.pos += 1;
                    TcpOption::Timestamp {
                        val,
                        ecr: self.unsigned("TSecr")?,
                    }
                }
                other => {
                    return Err(format!(
                        "unknown TCP option `{other}`: expected mss, sackOK, sack, wscale, TS, nop or eol"
                    ));
                }
            });
            if self.eat('>') {
                return Ok(Options::List(list));
            }
            self.punct(',', "between TCP options")?;
        }
    }

    fn syscall(&mut self) -> Result<Syscall, String> {
        let end = if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            Some(self.time_point()?)
        } else {
            None
        };
        let Some(Tok::Word(name)) = self.next() else {
            self.pos -= 1;
            return Err(format!("expected a system call name, {}", self.found()));
        };
        self.punct('(', "after the system call's name")?;
        let args = self.expr_list(')')?;
        self.punct('=', "before the expected return value")?;
        let ret = self.number("a return value")?;
        let errno = match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.pos += 1;
                Some(w)
            }
            _ => None,
        };
        // The errno's description in parentheses is a note for readers.
        if self.eat('(') {
            while let Some(t) = self.next() {
                if t == Tok::Punct(')') {
                    break;
                }
            }
        }
        Ok(Syscall {
            name,
            args,
            end,
            ret,
            errno,
        })
    }

    /// Expressions separated by commas up to `close` (consumed).
    fn expr_list(&mut self, close: char) -> Result<Vec<Expr>, String> {
        let mut v = Vec::new();
        if self.eat(close) {
            return Ok(v);
        }
        loop {
            v.push(self.expr()?);
            if self.eat(close) {
                return Ok(v);
            }
            self.punct(',', &format!("or `{close}` in the list"))?;
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let first = self.atom()?;
        if self.peek() != Some(&Tok::Punct('|')) {
            return Ok(first);
        }
        let mut v = vec![first];
        while self.eat('|') {
            v.push(self.atom()?);
        }
        Ok(Expr::Or(v))
    }

    fn atom(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Ellipsis) => Ok(Expr::Ellipsis),
            Some(Tok::Num(s)) => Ok(Expr::Int(int(&s)?)),
            Some(Tok::Punct('-')) => match self.next() {
                Some(Tok::Num(s)) => Ok(Expr::Int(-int(&s)?)),
                _ => Err("expected a number after `-`".into()),
            },
            Some(Tok::Str(s)) => {
                // `"abc"...` means the string followed by anything.
                if self.peek() == Some(&Tok::Ellipsis) {
                    self.pos += 1;
                }
                Ok(Expr::Str(s))
            }
            Some(Tok::Word(w)) => {
                if self.eat('(') {
                    Ok(Expr::Call(w, self.expr_list(')')?))
                } else {
                    Ok(Expr::Word(w))
                }
            }
            Some(Tok::Punct('[')) => Ok(Expr::Array(self.expr_list(']')?)),
            Some(Tok::Punct('{')) => {
                let mut fields = Vec::new();
                if self.eat('}') {
                    return Ok(Expr::Struct(fields));
                }
                loop {
                    let key = match self.next() {
                        Some(Tok::Word(k)) => k,
                        Some(Tok::Ellipsis) => "...".to_string(),
                        _ => {
                            self.pos -= 1;
                            return Err(format!(
                                "expected a field name in {{...}}, {}",
                                self.found()
                            ));
                        }
                    };
                    let value = if key != "..." && self.eat('=') {
                        self.expr()?
                    } else {
                        Expr::Ellipsis
                    };
                    fields.push((key, value));
                    if self.eat('}') {
                        return Ok(Expr::Struct(fields));
                    }
                    self.punct(',', "or `}` between fields")?;
                }
            }
            _ => {
                self.pos -= 1;
                Err(format!("expected an argument, {}", self.found()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Event {
        let script = parse(s, &[]).expect("parses");
        assert_eq!(script.events.len(), 1, "{script:?}");
        script.events[0].clone()
    }

    #[test]
    fn reads_a_packet_with_every_field() {
        let e =
            one("+0.1 > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 1 ecr 2,nop,wscale 7>");
        let sack = one("+0 > . 1:1(0) ack 1 <nop,nop,sack 1001:2001 3001:4001>");
        let Action::Packet(p) = sack.action else {
            panic!("a packet")
        };
        let mut blocks = [(0, 0); 4];
        blocks[0] = (1001, 2001);
        blocks[1] = (3001, 4001);
        assert_eq!(
            p.options,
            Some(Options::List(vec![
                TcpOption::Nop,
                TcpOption::Nop,
                TcpOption::Sack { blocks, len: 2 }
            ]))
        );
        assert_eq!(
            e.when,
            When::At(TimePoint {
                relative: true,
                usecs: 100_000
            })
        );
        let Action::Packet(p) = e.action else {
            panic!("a packet")
        };
        assert_eq!(p.flags, Flags::SYN | Flags::ACK);
        assert_eq!((p.seq, p.len, p.ack, p.win), (0, 0, Some(1), Some(65535)));
        assert_eq!(
            p.options,
            Some(Options::List(vec![
                TcpOption::Mss(1460),
                TcpOption::SackOk,
                TcpOption::Timestamp { val: 1, ecr: 2 },
                TcpOption::Nop,
                TcpOption::WScale(7)
            ]))
        );
    }

    #[test]
    fn reads_system_calls_with_errno_and_blocking_end() {
        let e = one("0.1...0.25 connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)");
        let Action::Syscall(c) = e.action else {
            panic!("a call")
        };
        assert_eq!(c.name, "connect");
        assert_eq!(c.ret, -1);
        assert_eq!(c.errno.as_deref(), Some("ECONNREFUSED"));
        assert_eq!(
            c.end,
            Some(TimePoint {
                relative: false,
                usecs: 250_000
            })
        );
        let e = one("+0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0");
        let Action::Syscall(c) = e.action else {
            panic!("a call")
        };
        assert_eq!(
            c.args[3],
            Expr::Struct(vec![
                ("onoff".into(), Expr::Int(1)),
                ("linger".into(), Expr::Int(0))
            ])
        );
        let e = one("+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
        let Action::Syscall(c) = e.action else {
            panic!("a call")
        };
        assert_eq!(
            c.args[2],
            Expr::Or(vec![
                Expr::Word("O_RDWR".into()),
                Expr::Word("O_NONBLOCK".into())
            ])
        );
    }

    #[test]
    fn ranges_and_ifdef_branches() {
        let s = "0.9~1.1 > S 0:0(0) <...>\n#ifdef LINUX\n+0 < R 1:1(0) win 0\n#else\n+0 < . 1:1(0) ack 1 win 0\n#endif\n";
        let linux = parse(s, &["LINUX".into()]).expect("parses");
        let rfc = parse(s, &[]).expect("parses");
        assert_eq!(linux.events.len(), 2);
        assert_eq!(linux.events[1].line, 3);
        assert_eq!(rfc.events[1].line, 5);
        assert!(
            matches!(linux.events[0].when, When::Range(a, b) if a.usecs == 900_000 && b.usecs == 1_100_000)
        );
    }

    #[test]
    fn malformed_lines_name_the_line_and_what_was_expected() {
        let e = parse("0 < S 0:0(0)\n\n+0 > S. 0:5(0) ack 1\n", &[]).expect_err("bad length");
        assert_eq!(e.line, 3);
        assert!(
            e.message.contains("end must be the start plus the length"),
            "{e}"
        );
        let e = parse("0 < Q 0:0(0)", &[]).expect_err("bad flags");
        assert!(e.message.contains("invalid TCP flags"), "{e}");
        let e = parse("#ifdef LINUX\n0 < S 0:0(0)\n", &[]).expect_err("open ifdef");
        assert_eq!(e.line, 1);
        let e = parse("0 listen(3, 1) =", &[]).expect_err("no return value");
        assert!(e.message.contains("expected a return value"), "{e}");
    }

    #[test]
    fn comments_and_continued_lines() {
        let s = "// header\n0 setsockopt(3, SOL_SOCKET,\n   SO_REUSEADDR, [1], 4) = 0 /* note */\n`sysctl -q net.ipv4.tcp_timestamps=1`\n";
        let script = parse(s, &[]).expect("parses");
        assert_eq!(script.events.len(), 2);
        assert_eq!(script.events[0].line, 2);
        assert!(
            matches!(&script.events[1].action, Action::Shell(c) if c.contains("tcp_timestamps"))
        );
    }
}
