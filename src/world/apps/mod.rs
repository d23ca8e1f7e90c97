//! Applications: the programs that run on hosts and drive traffic.

mod datagram;
mod http;
mod stream;

pub use datagram::{DatagramApp, DatagramSpec};
pub use http::{
    AcceptDelay, Handler, HttpClient, HttpClientSpec, HttpServer, HttpServerSpec, OnTimeout,
};
pub use stream::{Receiver, ReceiverSpec, Sender, SenderSpec};

use std::net::Ipv4Addr;

use super::{AppCtx, AppId};
use crate::net::Datagram;
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
