//! Stream applications: a sender that connects, writes N bytes and closes (once, or as a series
//! of incarnations from a fixed port), and a receiver that reads everything and closes.

use rustc_hash::FxHashMap;
use std::net::SocketAddrV4;

use super::{App, AppTimers};
use crate::sim::Duration;
use crate::tcp::Payload;
use crate::tcp::{SocketEvent, SocketHandle};
use crate::world::{AppCtx, AppOutcome};

/// Bytes handed to send() at a time.
const CHUNK: u64 = 64 * 1024;

/// Configuration of a [`Sender`].
#[derive(Clone, Debug, PartialEq)]
pub struct SenderSpec {
    /// Server address and port.
    pub to: SocketAddrV4,
    /// Bytes to write on each connection.
    pub bytes: u64,
    /// When the first connection starts.
    pub start: Duration,
    /// How many connections, one after another.
    pub connections: u32,
    /// Gap between connection starts.
    pub interval: Duration,
    /// A fixed source port (every connection is then an incarnation of the same 4-tuple).
    pub src_port: Option<u16>,
    /// Wait before trying connect() again after it failed.
    pub retry: Duration,
    /// Pause between the connection opening and the first write ("think time").
    pub delay: Duration,
    /// Pause between the last write and close().
    pub hold: Duration,
    /// Close at this time instead (to stage a simultaneous close).
    pub close_at: Option<Duration>,
    /// Half close after the last write (shutdown(SHUT_WR): the FIN follows the data, reads go
    /// on) and close() once the peer has closed too, as an HTTP/1.0 client or `nc -N` does.
    pub half_close: bool,
}

struct Conn {
    written: u64,
    /// The handshake completed (a RST before it is a refusal).
    connected: bool,
    /// Writing may start (after `delay`).
    writing: bool,
    closed: bool,
}

/// What an app timer is for.
#[derive(Clone, Copy)]
enum Due {
    /// Start connection number `i`.
    Connect(u64),
    /// Start writing on a socket.
    Write(SocketHandle),
    /// Close a socket.
    Close(SocketHandle),
}

/// Connects, writes, closes; optionally again and again.
pub struct Sender {
    spec: SenderSpec,
    /// Looked up by key, never iterated: a hash map keeps runs deterministic.
    conns: FxHashMap<SocketHandle, Conn>,
    timers: AppTimers<Due>,
}

impl Sender {
    /// A sender that has not started.
    pub fn new(spec: SenderSpec) -> Sender {
        Sender {
            spec,
            conns: FxHashMap::default(),
            timers: AppTimers::default(),
        }
    }

    fn after(&mut self, ctx: &mut AppCtx<'_>, wait: Duration, due: Due) {
        self.timers.set(ctx, wait, due);
    }

    fn write(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle) {
        let Some(conn) = ctx.socket(h).map(|s| s.conn) else {
            return;
        };
        let Some(c) = self.conns.get_mut(&h) else {
            return;
        };
        if !c.writing {
            return;
        }
        while c.written < self.spec.bytes {
            // Only what the send buffer has room for is generated.
            let room = ctx.socket(h).map_or(0, |s| s.send_space());
            let n = (self.spec.bytes - c.written).min(CHUNK).min(room as u64) as usize;
            if n == 0 {
                return; // the buffer is full: Writable will call again
            }
            let data = Payload::pattern(conn, c.written, n as u32);
            let took = ctx.send(h, &data);
            c.written += took as u64;
            if took < n {
                return; // the buffer is full: Writable will call again
            }
        }
        if !c.closed {
            c.closed = true;
            if let Some(t) = self.spec.close_at {
                let wait = t.saturating_sub(ctx.now().since_start());
                self.after(ctx, wait, Due::Close(h));
            } else if self.spec.hold.is_zero() {
                self.finish(ctx, h);
            } else {
                let hold = self.spec.hold;
                self.after(ctx, hold, Due::Close(h));
            }
        }
    }

    /// Ends the sending side: close(), or with `half_close` shutdown(SHUT_WR) (close() follows
    /// once the peer has closed).
    fn finish(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle) {
        if self.spec.half_close {
            ctx.shutdown(h);
            self.read(ctx, h);
        } else {
            ctx.close(h);
        }
    }

    /// Reads what arrived; after a half close, close() once the peer has closed and every
    /// byte is read.
    fn read(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle) {
        ctx.recv(h, usize::MAX);
        let done = self.spec.half_close
            && self.conns.get(&h).is_some_and(|c| c.closed)
            && ctx
                .socket(h)
                .is_some_and(|s| s.peer_closed() && !s.app_closed());
        if done {
            ctx.close(h);
        }
    }

    fn connect(&mut self, ctx: &mut AppCtx<'_>, i: u64) {
        match ctx.connect(self.spec.to, self.spec.src_port) {
            Ok(h) => {
                self.conns.insert(
                    h,
                    Conn {
                        written: 0,
                        connected: false,
                        writing: false,
                        closed: false,
                    },
                );
                let next = i + 1;
                if next < self.spec.connections as u64 {
                    let due = self.spec.start + self.spec.interval * next;
                    let wait = due.saturating_sub(ctx.now().since_start());
                    self.after(ctx, wait, Due::Connect(next));
                }
            }
            Err(e) => {
                ctx.note(&format!(
                    "connect() from port {} failed: {}; retrying in {}",
                    self.spec
                        .src_port
                        .map_or("(ephemeral)".to_string(), |p| p.to_string()),
                    e.message(),
                    self.spec.retry
                ));
                ctx.outcome(AppOutcome::ConnectFailed(e));
                let retry = self.spec.retry;
                self.after(ctx, retry, Due::Connect(i));
            }
        }
    }
}

impl App for Sender {
    fn start(&mut self, ctx: &mut AppCtx<'_>) {
        if self.spec.connections > 0 {
            let start = self.spec.start;
            self.after(ctx, start, Due::Connect(0));
        }
    }

    fn timer(&mut self, ctx: &mut AppCtx<'_>, token: u64) {
        match self.timers.fired(token) {
            Some(Due::Connect(i)) => self.connect(ctx, i),
            Some(Due::Write(h)) => {
                if let Some(c) = self.conns.get_mut(&h) {
                    c.writing = true;
                }
                self.write(ctx, h);
            }
            Some(Due::Close(h)) => self.finish(ctx, h),
            None => {}
        }
    }

    fn socket(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle, ev: SocketEvent) {
        match ev {
            SocketEvent::Connected => {
                if let Some(c) = self.conns.get_mut(&h) {
                    c.connected = true;
                }
                let delay = self.spec.delay;
                self.after(ctx, delay, Due::Write(h));
            }
            SocketEvent::Writable => self.write(ctx, h),
            SocketEvent::Readable | SocketEvent::PeerClosed => self.read(ctx, h),
            SocketEvent::Reset => {
                let refused = self.conns.get(&h).is_some_and(|c| !c.connected);
                ctx.note(if refused {
                    "connection refused"
                } else {
                    "connection reset by peer"
                });
            }
            SocketEvent::TimedOut => ctx.note("connection timed out"),
            SocketEvent::Incoming => {}
        }
    }
}

/// Configuration of a [`Receiver`].
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiverSpec {
    /// Port to listen on.
    pub port: u16,
    /// listen() backlog.
    pub backlog: u32,
    /// Close every connection open at this time, instead of when its peer closes; later
    /// connections close when their peer does.
    pub close_at: Option<Duration>,
    /// Bytes written back on each connection once its peer has closed (a request that ends
    /// with the client's FIN, as HTTP/1.0 and `nc -N` send one); the receiver closes when the
    /// reply is written. Zero: no reply.
    pub reply: u64,
}

/// Accepts every connection, reads everything, closes when the peer has (or at `close_at`).
pub struct Receiver {
    spec: ReceiverSpec,
    listener: Option<u32>,
    open: Vec<SocketHandle>,
    /// Reply bytes written so far, per connection replying (looked up by key, never iterated:
    /// a hash map keeps runs deterministic).
    replies: FxHashMap<SocketHandle, u64>,
}

impl Receiver {
    /// A receiver that has not started listening.
    pub fn new(spec: ReceiverSpec) -> Receiver {
        Receiver {
            spec,
            listener: None,
            open: Vec::new(),
            replies: FxHashMap::default(),
        }
    }

    /// Whether connections wait for `close_at` rather than close after the peer does.
    fn holding(&self, ctx: &AppCtx<'_>) -> bool {
        self.spec
            .close_at
            .is_some_and(|t| ctx.now().since_start() < t)
    }

    fn drain(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle) {
        ctx.recv(h, usize::MAX);
        let peer_closed = ctx
            .socket(h)
            .is_some_and(|s| s.peer_closed() && !s.app_closed());
        if !peer_closed || self.holding(ctx) {
            return;
        }
        if self.spec.reply > 0 {
            self.replies.entry(h).or_insert(0);
            self.reply(ctx, h);
        } else {
            ctx.close(h);
        }
    }

    /// Writes what the send buffer takes of the reply; closes once it is all written.
    fn reply(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle) {
        let Some(conn) = ctx.socket(h).map(|s| s.conn) else {
            return;
        };
        let Some(written) = self.replies.get_mut(&h) else {
            return;
        };
        while *written < self.spec.reply {
            let room = ctx.socket(h).map_or(0, |s| s.send_space());
            let n = (self.spec.reply - *written).min(CHUNK).min(room as u64) as usize;
            if n == 0 {
                return; // the buffer is full: Writable will call again
            }
            let took = ctx.send(h, &Payload::pattern(conn, *written, n as u32));
            *written += took as u64;
            if took < n {
                return; // the buffer is full: Writable will call again
            }
        }
        self.replies.remove(&h);
        ctx.close(h);
    }
}

impl App for Receiver {
    fn start(&mut self, ctx: &mut AppCtx<'_>) {
        match ctx.listen(self.spec.port, self.spec.backlog) {
            Ok(l) => self.listener = Some(l),
            Err(e) => ctx.note(&format!(
                "listen() on port {} failed: {}",
                self.spec.port,
                e.message()
            )),
        }
        if let Some(t) = self.spec.close_at {
            ctx.set_timer_after(t, 0);
        }
    }

    fn timer(&mut self, ctx: &mut AppCtx<'_>, _token: u64) {
        for h in std::mem::take(&mut self.open) {
            ctx.close(h);
        }
    }

    fn socket(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle, ev: SocketEvent) {
        match ev {
            SocketEvent::Incoming => {
                let Some(l) = self.listener else { return };
                while let Some(c) = ctx.accept(l) {
                    // After `close_at`, a new connection closes as soon as its peer does.
                    if self.holding(ctx) {
                        self.open.push(c);
                    }
                    // Data and even the peer's FIN may have arrived before accept().
                    self.drain(ctx, c);
                }
            }
            SocketEvent::Readable | SocketEvent::PeerClosed => self.drain(ctx, h),
            SocketEvent::Writable => self.reply(ctx, h),
            SocketEvent::Reset | SocketEvent::TimedOut => {
                self.replies.remove(&h);
            }
            _ => {}
        }
    }
}
