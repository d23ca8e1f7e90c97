//! Applications: the programs that run on hosts and drive traffic.

mod datagram;
mod http;
mod stream;

pub use datagram::{DatagramApp, DatagramSpec};
pub use http::{
    AcceptDelay, Handler, HttpClient, HttpClientSpec, HttpServer, HttpServerSpec, OnTimeout,
};
pub use stream::{Receiver, ReceiverSpec, Sender, SenderSpec};

use rustc_hash::FxHashMap;
use std::net::Ipv4Addr;

use super::{AppCtx, AppId};
use crate::net::Datagram;
use crate::sim::{Duration, TimerId};
use crate::tcp::{SocketEvent, SocketHandle};

/// What a scenario may ask a host to run.
#[derive(Clone, Debug, PartialEq)]
pub enum AppSpec {
    /// Sends UDP-like datagrams on a schedule.
    Datagram(DatagramSpec),
    /// Connects, writes, closes (once or as a series of incarnations).
    Sender(SenderSpec),
    /// Accepts, reads, closes.
    Receiver(ReceiverSpec),
    /// A Flask-like server.
    HttpServer(HttpServerSpec),
    /// A curl-like client (also a load generator).
    HttpClient(HttpClientSpec),
}

impl AppSpec {
    /// The running application for this spec.
    pub fn instantiate(&self, _id: AppId) -> Box<dyn App> {
        match self {
            AppSpec::Datagram(s) => Box::new(DatagramApp::new(s.clone())),
            AppSpec::Sender(s) => Box::new(Sender::new(s.clone())),
            AppSpec::Receiver(s) => Box::new(Receiver::new(s.clone())),
            AppSpec::HttpServer(s) => Box::new(HttpServer::new(s.clone())),
            AppSpec::HttpClient(s) => Box::new(HttpClient::new(s.clone())),
        }
    }
}

/// A program on a host. The world calls it; it acts through [`AppCtx`].
pub trait App {
    /// Called once, at time zero.
    fn start(&mut self, ctx: &mut AppCtx<'_>);
    /// A timer the app set with [`AppCtx::set_timer`] fired.
    fn timer(&mut self, _ctx: &mut AppCtx<'_>, _token: u64) {}
    /// A datagram arrived for a port this app bound.
    fn datagram(&mut self, _ctx: &mut AppCtx<'_>, _from: Ipv4Addr, _d: &Datagram) {}
    /// Something happened on a socket this app owns (for `Incoming`, `h` is the listener id).
    fn socket(&mut self, _ctx: &mut AppCtx<'_>, _h: SocketHandle, _ev: SocketEvent) {}
}

/// A timer an application set: the queue's id (to cancel it) and the app's token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppTimer {
    id: TimerId,
    token: u64,
}

/// An application's pending timers and what each is for. A cancelled timer's entry goes with
/// it, so the table holds only timers that can still fire (a long run's memory stays flat).
struct AppTimers<D> {
    /// Looked up by key, never iterated: a hash map keeps runs deterministic.
    due: FxHashMap<u64, D>,
    next: u64,
}

impl<D> Default for AppTimers<D> {
    fn default() -> Self {
        AppTimers {
            due: FxHashMap::default(),
            next: 0,
        }
    }
}

impl<D> AppTimers<D> {
    /// Sets a timer `wait` from now for `due`.
    fn set(&mut self, ctx: &mut AppCtx<'_>, wait: Duration, due: D) -> AppTimer {
        self.next += 1;
        self.due.insert(self.next, due);
        AppTimer {
            id: ctx.set_timer_after(wait, self.next),
            token: self.next,
        }
    }

    /// Cancels `t` and forgets what it was for.
    fn cancel(&mut self, ctx: &mut AppCtx<'_>, t: AppTimer) {
        ctx.cancel_timer(t.id);
        self.due.remove(&t.token);
    }

    /// What the timer with `token`, which has fired, was for.
    fn fired(&mut self, token: u64) -> Option<D> {
        self.due.remove(&token)
    }
}
