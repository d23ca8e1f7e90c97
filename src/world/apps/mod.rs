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
use crate::tcp::{ConnId, SocketEvent, SocketHandle};

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

/// The bytes every application writes: a pure function of (incarnation, stream offset), so a
/// byte in a capture can be traced to its writer. Lower-case letters keep captures readable.
pub fn content(conn: ConnId, offset: u64, len: usize) -> Vec<u8> {
    const ALPHABET: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";
    let shift = (conn.n as u64)
        .wrapping_mul(7)
        .wrapping_add(conn.host as u64 * 13);
    let mut out = Vec::with_capacity(len);
    let mut at = ((offset.wrapping_add(shift)) % 26) as usize;
    while out.len() < len {
        // Copy up to 26 letters at a time from the doubled alphabet.
        let n = (len - out.len()).min(26);
        out.extend_from_slice(&ALPHABET[at..at + n]);
        at = (at + n) % 26;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_a_pure_function_of_incarnation_and_offset() {
        let c = ConnId { host: 1, n: 2 };
        let whole = content(c, 100, 1000);
        // Any slice of the stream is the same bytes, however it is cut.
        assert_eq!(&whole[37..537], &content(c, 137, 500)[..]);
        let shift = (2 * 7 + 13) % 26;
        assert_eq!(whole[0], b'a' + ((100 + shift) % 26) as u8);
        assert_ne!(content(ConnId { host: 1, n: 3 }, 100, 50), whole[..50]);
    }
}
