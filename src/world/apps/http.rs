//! HTTP-like applications: a Flask-like server with slow handlers, and a curl-like client with
//! `--connect-timeout` and `-m` (max time) and curl's own error messages.

use rustc_hash::FxHashMap;
use std::net::SocketAddrV4;

use super::{App, AppTimer, AppTimers};
use crate::sim::Duration;
use crate::tcp::{ConnectError, Payload, SocketEvent, SocketHandle};
use crate::world::{AppCtx, AppOutcome};

/// When the server accepts connections waiting in its accept queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AcceptDelay {
    /// One accept() this long after each connection becomes acceptable (zero: at once); it
    /// takes the head of the queue, as any accept() does.
    After(Duration),
    /// Never: connections pile up in the accept queue.
    Never,
}

/// One route: requests for `path` are answered after `delay`.
#[derive(Clone, Debug, PartialEq)]
pub struct Handler {
    /// Request path, e.g. "/myget".
    pub path: String,
    /// Time the handler takes (the seed's `/myget` sleeps 100 s).
    pub delay: Duration,
    /// Response body size in bytes.
    pub body: u64,
}

/// Configuration of an [`HttpServer`].
#[derive(Clone, Debug, PartialEq)]
pub struct HttpServerSpec {
    /// Port to listen on.
    pub port: u16,
    /// listen() backlog (the accept queue holds backlog + 1).
    pub backlog: u32,
    /// When accept() is called.
    pub accept_delay: AcceptDelay,
    /// Routes; unknown paths get a 404 at once.
    pub handlers: Vec<Handler>,
    /// Close after responding (HTTP/1.0, the server closes first) or wait for the client.
    pub close_after_response: bool,
    /// With `close_after_response = false`: close an idle connection after this long.
    pub idle_timeout: Duration,
}

#[derive(Default)]
struct ServerConn {
    request: Vec<u8>,
    /// The request is complete and its handler has started.
    responded: bool,
    /// The handler has not answered yet.
    handling: bool,
    /// The keep-alive timer, cancelled when the connection ends first.
    idle: Option<AppTimer>,
}

#[derive(Clone, Copy)]
enum ServerDue {
    Accept,
    Respond(SocketHandle, usize),
    Idle(SocketHandle),
}

/// A Flask-like server: one request per connection, handled after the route's delay.
pub struct HttpServer {
    spec: HttpServerSpec,
    /// The bytes each route answers with (the last one is the 404), and the note it leaves.
    responses: Vec<(Payload, String)>,
    listener: Option<u32>,
    /// Looked up by key, never iterated: a hash map keeps runs deterministic.
    conns: FxHashMap<SocketHandle, ServerConn>,
    timers: AppTimers<ServerDue>,
}

impl HttpServer {
    /// A server that has not started listening.
    pub fn new(spec: HttpServerSpec) -> HttpServer {
        let connection = if spec.close_after_response {
            "close"
        } else {
            "keep-alive"
        };
        let respond = |path: &str, status: &str, body: u64| {
            let mut bytes = format!(
                "HTTP/1.0 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body}\r\nConnection: {connection}\r\n\r\n"
            )
            .into_bytes();
            bytes.extend(body_bytes(body));
            (Payload::from(bytes), format!("served {path} ({status})"))
        };
        let mut responses: Vec<(Payload, String)> = spec
            .handlers
            .iter()
            .map(|h| respond(&h.path, "200 OK", h.body))
            .collect();
        responses.push(respond("an unknown path", "404 NOT FOUND", 9));
        HttpServer {
            spec,
            responses,
            listener: None,
            conns: FxHashMap::default(),
            timers: AppTimers::default(),
        }
    }

    fn after(&mut self, ctx: &mut AppCtx<'_>, wait: Duration, due: ServerDue) -> AppTimer {
        self.timers.set(ctx, wait, due)
    }

    /// accept() up to `n` waiting connections.
    fn accept(&mut self, ctx: &mut AppCtx<'_>, n: usize) {
        let Some(l) = self.listener else { return };
        for _ in 0..n {
            let Some(h) = ctx.accept(l) else { return };
            self.conns.insert(h, ServerConn::default());
            // The request (and even the client's FIN) may be waiting already.
            self.read(ctx, h);
        }
    }

    fn read(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle) {
        // Like Flask's worker, a server running a handler reads nothing more until it is done:
        // what arrives meanwhile (the client's FIN too) waits in Recv-Q.
        if self.conns.get(&h).is_none_or(|c| c.handling) {
            return;
        }
        let data = ctx.recv(h, usize::MAX);
        let Some(c) = self.conns.get_mut(&h) else {
            return;
        };
        let from = c.request.len().saturating_sub(3);
        data.write_to(&mut c.request);
        if c.responded || memchr::memmem::find(&c.request[from..], b"\r\n\r\n").is_none() {
            // Like Flask, a client that closes early does not cancel the handler.
            return;
        }
        c.responded = true;
        c.handling = true;
        let path = request_path(&c.request);
        let route = self
            .spec
            .handlers
            .iter()
            .position(|r| r.path.as_bytes() == path);
        let delay = route.map_or(Duration::ZERO, |i| self.spec.handlers[i].delay);
        self.after(
            ctx,
            delay,
            ServerDue::Respond(h, route.unwrap_or(usize::MAX)),
        );
    }

    fn respond(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle, route: usize) {
        if let Some(c) = self.conns.get_mut(&h) {
            c.handling = false;
        }
        let i = route.min(self.responses.len() - 1);
        // Written even if the client has gone: that is how a late response meets RST.
        ctx.send(h, &self.responses[i].0);
        ctx.note(&self.responses[i].1);
        // A keep-alive server reads on after the response; finding the client gone (EOF), it
        // closes at once.
        let peer_gone = ctx.socket(h).is_some_and(|s| s.peer_closed());
        if self.spec.close_after_response || peer_gone {
            self.finish(ctx, h);
        } else {
            let idle = self.spec.idle_timeout;
            let id = self.after(ctx, idle, ServerDue::Idle(h));
            if let Some(c) = self.conns.get_mut(&h) {
                c.idle = Some(id);
            }
        }
    }

    fn finish(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle) {
        if let Some(c) = self.conns.remove(&h) {
            if let Some(t) = c.idle {
                self.timers.cancel(ctx, t);
            }
            ctx.close(h);
        }
    }
}

/// The path of "GET /myget HTTP/1.1": the request line's second word.
fn request_path(request: &[u8]) -> &[u8] {
    let line = request.split(|b| *b == b'\r').next().unwrap_or_default();
    line.split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty())
        .nth(1)
        .unwrap_or(b"/")
}

/// A body like the seed's "success get", repeated to the size asked for.
fn body_bytes(len: u64) -> Vec<u8> {
    const BODY: &[u8] = b"success get";
    let mut out = BODY.repeat(len as usize / BODY.len() + 1);
    out.truncate(len as usize);
    out
}

impl App for HttpServer {
    fn start(&mut self, ctx: &mut AppCtx<'_>) {
        match ctx.listen(self.spec.port, self.spec.backlog) {
            Ok(l) => self.listener = Some(l),
            Err(e) => ctx.note(&format!(
                "listen() on port {} failed: {}",
                self.spec.port,
                e.message()
            )),
        }
    }

    fn timer(&mut self, ctx: &mut AppCtx<'_>, token: u64) {
        match self.timers.fired(token) {
            // One accept() per connection, `accept_delay` after it became acceptable.
            Some(ServerDue::Accept) => self.accept(ctx, 1),
            Some(ServerDue::Respond(h, route)) => self.respond(ctx, h, route),
            Some(ServerDue::Idle(h)) => {
                if let Some(c) = self.conns.get_mut(&h) {
                    c.idle = None;
                }
                self.finish(ctx, h);
            }
            None => {}
        }
    }

    fn socket(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle, ev: SocketEvent) {
        match ev {
            SocketEvent::Incoming => match self.spec.accept_delay {
                AcceptDelay::Never => {}
                AcceptDelay::After(d) if d.is_zero() => self.accept(ctx, usize::MAX),
                AcceptDelay::After(d) => {
                    self.after(ctx, d, ServerDue::Accept);
                }
            },
            SocketEvent::Readable => self.read(ctx, h),
            SocketEvent::PeerClosed => {
                self.read(ctx, h);
                // EOF with no request, or between keep-alive requests: the server closes its
                // side at once. A server still running a handler (or that closes after
                // responding) keeps CLOSE_WAIT until the handler is done.
                let idle = self.conns.get(&h).is_some_and(|c| {
                    !c.handling && (!c.responded || !self.spec.close_after_response)
                });
                if idle {
                    self.finish(ctx, h);
                }
            }
            SocketEvent::Reset | SocketEvent::TimedOut => {
                self.conns.remove(&h);
            }
            SocketEvent::Connected | SocketEvent::Writable => {}
        }
    }
}

/// What the client does when a timeout expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnTimeout {
    /// close(): FIN, as curl does.
    Close,
    /// Abortive close: RST.
    Abort,
}

/// Configuration of an [`HttpClient`].
#[derive(Clone, Debug, PartialEq)]
pub struct HttpClientSpec {
    /// Server address and port.
    pub server: SocketAddrV4,
    /// Request path.
    pub path: String,
    /// First request.
    pub start: Duration,
    /// Number of requests, one connection each.
    pub requests: u64,
    /// Gap between request starts.
    pub interval: Duration,
    /// curl `--connect-timeout`.
    pub connect_timeout: Option<Duration>,
    /// curl `-m` / `--max-time`: the whole operation.
    pub max_time: Option<Duration>,
    /// What to do when a timeout expires.
    pub on_timeout: OnTimeout,
    /// A fixed source port (forces incarnations of one 4-tuple).
    pub src_port: Option<u16>,
    /// Extra request bytes (a body) beyond the request line and headers.
    pub request_body: u64,
    /// Write one line per request to the summary (off for load generators).
    pub verbose: bool,
}

struct ClientConn {
    /// Timeouts to cancel when the request ends first.
    timeouts: Vec<AppTimer>,
    started: Duration,
    connected: bool,
    received: u64,
    /// Response bytes up to the end of the header.
    head: Vec<u8>,
    /// Once the header is in: where the response ends (`None`: when the server closes).
    expected: Option<Option<u64>>,
}

/// How a response ends, once its header is complete: after header + Content-Length bytes,
/// or (`Connection: close`) when the server closes.
fn response_size(head: &[u8]) -> Option<Option<u64>> {
    // One pass over the header's lines, each ended by CRLF; the first empty one after the
    // status line ends the header.
    let mut close = false;
    let mut body = None;
    let mut start = 0;
    let mut status = true;
    loop {
        let mut from = start;
        let cr = loop {
            let at = from + memchr::memchr(b'\r', head.get(from..)?)?;
            if head.get(at + 1) == Some(&b'\n') {
                break at;
            }
            from = at + 1;
        };
        let line = &head[start..cr];
        if !status {
            if line.is_empty() {
                let end = cr + 2;
                return Some(if close {
                    None
                } else {
                    Some(end as u64 + body.unwrap_or(0))
                });
            }
            close |= line.eq_ignore_ascii_case(b"connection: close");
            if body.is_none()
                && let Some((name, value)) = line.split_at_checked(15)
                && name.eq_ignore_ascii_case(b"content-length:")
            {
                body = Some(
                    value
                        .iter()
                        .skip_while(|b| **b == b' ')
                        .take_while(|b| b.is_ascii_digit())
                        .fold(0u64, |n, d| {
                            n.saturating_mul(10).saturating_add((d - b'0') as u64)
                        }),
                );
            }
        }
        status = false;
        start = cr + 2;
    }
}

#[derive(Clone, Copy)]
enum ClientDue {
    Request(u64),
    ConnectTimeout(SocketHandle),
    MaxTime(SocketHandle),
}

/// A curl-like client: one request per connection.
pub struct HttpClient {
    spec: HttpClientSpec,
    /// The request, the same on every connection.
    request: Payload,
    /// Looked up by key, never iterated: a hash map keeps runs deterministic.
    conns: FxHashMap<SocketHandle, ClientConn>,
    timers: AppTimers<ClientDue>,
    /// Where a response's first bytes are parsed (see [`HttpClient::read`]).
    scratch: Vec<u8>,
}

impl HttpClient {
    /// A client that has not started.
    pub fn new(spec: HttpClientSpec) -> HttpClient {
        let mut request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: curl/7.29.0\r\nAccept: */*\r\n\r\n",
            spec.path, spec.server
        )
        .into_bytes();
        request.resize(request.len() + spec.request_body as usize, b'x');
        HttpClient {
            spec,
            request: Payload::from(request),
            conns: FxHashMap::default(),
            timers: AppTimers::default(),
            scratch: Vec::new(),
        }
    }

    fn after(&mut self, ctx: &mut AppCtx<'_>, wait: Duration, due: ClientDue) -> AppTimer {
        self.timers.set(ctx, wait, due)
    }

    /// Forgets a finished request and cancels its timeouts.
    fn forget(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle) -> Option<ClientConn> {
        let c = self.conns.remove(&h)?;
        for t in &c.timeouts {
            self.timers.cancel(ctx, *t);
        }
        Some(c)
    }

    fn request(&mut self, ctx: &mut AppCtx<'_>, i: u64) {
        let next = i + 1;
        if next < self.spec.requests {
            let due = self.spec.start + self.spec.interval * next;
            let wait = due.saturating_sub(ctx.now().since_start());
            self.after(ctx, wait, ClientDue::Request(next));
        }
        let server = self.spec.server;
        match ctx.connect(server, self.spec.src_port) {
            Ok(h) => {
                self.conns.insert(
                    h,
                    ClientConn {
                        timeouts: Vec::new(),
                        started: ctx.now().since_start(),
                        connected: false,
                        received: 0,
                        head: Vec::new(),
                        expected: None,
                    },
                );
                let mut timeouts = Vec::new();
                if let Some(t) = self.spec.connect_timeout {
                    timeouts.push(self.after(ctx, t, ClientDue::ConnectTimeout(h)));
                }
                if let Some(t) = self.spec.max_time {
                    timeouts.push(self.after(ctx, t, ClientDue::MaxTime(h)));
                }
                if let Some(c) = self.conns.get_mut(&h) {
                    c.timeouts = timeouts;
                }
            }
            Err(e) => {
                let why = match e {
                    ConnectError::AddrNotAvailable => "Cannot assign requested address",
                    ConnectError::AddrInUse => "Address already in use",
                };
                ctx.note(&format!(
                    "curl: (7) Failed to connect to {} port {}: {why}",
                    server.ip(),
                    server.port()
                ));
                ctx.outcome(AppOutcome::ConnectFailed(e));
                ctx.outcome(AppOutcome::CurlFailed(7));
            }
        }
    }

    /// Ends a request with curl's message, closing (or aborting) the connection.
    fn give_up(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle, message: String) {
        if self.forget(ctx, h).is_none() {
            return;
        }
        ctx.note(&message);
        ctx.outcome(AppOutcome::CurlFailed(28));
        match self.spec.on_timeout {
            OnTimeout::Close => ctx.close(h),
            OnTimeout::Abort => ctx.abort(h),
        }
    }

    fn read(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle) {
        let data = ctx.recv(h, usize::MAX);
        let eof = ctx.socket(h).is_some_and(|s| s.peer_closed());
        let Some(c) = self.conns.get_mut(&h) else {
            return;
        };
        c.received += data.len() as u64;
        if c.expected.is_none() {
            if c.head.is_empty() {
                // A header nearly always comes whole in the first read: it is parsed in a
                // buffer every connection shares, and only a partial one is kept aside.
                self.scratch.clear();
                data.write_to(&mut self.scratch);
                c.expected = response_size(&self.scratch);
                if c.expected.is_none() {
                    c.head = self.scratch.clone();
                }
            } else {
                data.write_to(&mut c.head);
                c.expected = response_size(&c.head);
                if c.expected.is_some() {
                    c.head = Vec::new();
                }
            }
        }
        // The response ends with its Content-Length, or when the server closes.
        if eof || c.expected.flatten().is_some_and(|n| c.received >= n) {
            let took = ctx.now().since_start().saturating_sub(c.started);
            let received = c.received;
            if self.spec.verbose {
                ctx.note(&format!(
                    "curl: got {received} bytes from http://{}{} in {}",
                    self.spec.server,
                    self.spec.path,
                    took.round_to(Duration::from_micros(1))
                ));
            }
            ctx.outcome(AppOutcome::RequestCompleted { took });
            self.forget(ctx, h);
            ctx.close(h);
        }
    }
}

impl App for HttpClient {
    fn start(&mut self, ctx: &mut AppCtx<'_>) {
        if self.spec.requests > 0 {
            let start = self.spec.start;
            self.after(ctx, start, ClientDue::Request(0));
        }
    }

    fn timer(&mut self, ctx: &mut AppCtx<'_>, token: u64) {
        match self.timers.fired(token) {
            Some(ClientDue::Request(i)) => self.request(ctx, i),
            Some(ClientDue::ConnectTimeout(h))
                if self.conns.get(&h).is_some_and(|c| !c.connected) =>
            {
                self.give_up(ctx, h, "curl: (28) connect() timed out!".into());
            }
            Some(ClientDue::MaxTime(h)) => {
                let Some(c) = self.conns.get(&h) else { return };
                let ms = self.spec.max_time.unwrap_or_default().as_millis();
                let message = if c.connected {
                    format!(
                        "curl: (28) Operation timed out after {ms} milliseconds with {} bytes received",
                        c.received
                    )
                } else {
                    "curl: (28) connect() timed out!".to_string()
                };
                self.give_up(ctx, h, message);
            }
            Some(ClientDue::ConnectTimeout(_)) | None => {}
        }
    }

    fn socket(&mut self, ctx: &mut AppCtx<'_>, h: SocketHandle, ev: SocketEvent) {
        match ev {
            SocketEvent::Connected => {
                let Some(c) = self.conns.get_mut(&h) else {
                    return;
                };
                c.connected = true;
                ctx.send(h, &self.request);
            }
            SocketEvent::Readable | SocketEvent::PeerClosed => self.read(ctx, h),
            SocketEvent::Reset => {
                if let Some(c) = self.forget(ctx, h) {
                    let server = self.spec.server;
                    let message = if c.connected {
                        "curl: (56) Recv failure: Connection reset by peer".to_string()
                    } else {
                        format!(
                            "curl: (7) Failed to connect to {} port {}: Connection refused",
                            server.ip(),
                            server.port()
                        )
                    };
                    ctx.note(&message);
                    ctx.outcome(AppOutcome::CurlFailed(if c.connected { 56 } else { 7 }));
                }
            }
            SocketEvent::TimedOut => {
                if let Some(c) = self.forget(ctx, h) {
                    let server = self.spec.server;
                    // curl's wording depends on whether the connection was ever established.
                    let message = if c.connected {
                        "curl: (56) Recv failure: Connection timed out".to_string()
                    } else {
                        format!(
                            "curl: (7) Failed to connect to {} port {}: Connection timed out",
                            server.ip(),
                            server.port()
                        )
                    };
                    ctx.note(&message);
                    ctx.outcome(AppOutcome::CurlFailed(if c.connected { 56 } else { 7 }));
                }
            }
            SocketEvent::Writable | SocketEvent::Incoming => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{request_path, response_size};

    #[test]
    fn a_request_is_routed_by_the_second_word_of_its_request_line() {
        assert_eq!(
            request_path(b"GET /myget HTTP/1.1\r\nHost: x\r\n\r\n"),
            b"/myget"
        );
        // Runs of blanks separate words (RFC 9112 §3 asks for one; servers accept more).
        assert_eq!(request_path(b"GET \t /a/b  HTTP/1.1\r\n\r\n"), b"/a/b");
        // Only the request line counts, and a line without a target asks for the root.
        assert_eq!(request_path(b"GET\r\nX: /not\r\n\r\n"), b"/");
    }

    #[test]
    fn a_response_ends_after_its_content_length_or_when_the_server_closes() {
        let head = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length:  25\r\nConnection: keep-alive\r\n\r\nbody";
        assert_eq!(response_size(head), Some(Some(head.len() as u64 - 4 + 25)));
        let close = b"HTTP/1.0 200 OK\r\nCONNECTION: Close\r\ncontent-length: 9\r\n\r\n";
        assert_eq!(response_size(close), Some(None));
        // A header not yet whole; a header without a length.
        assert_eq!(
            response_size(b"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n"),
            None
        );
        assert_eq!(response_size(b"HTTP/1.0 200 OK\r\n\r\n"), Some(Some(19)));
        // The status line is no header line, and the first Content-Length counts.
        let odd = b"Connection: close\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(response_size(odd), Some(Some(60)));
    }
}
