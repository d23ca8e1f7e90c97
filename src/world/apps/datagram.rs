//! A datagram sender: `count` datagrams, one every `interval`, from `start`.

use std::net::Ipv4Addr;

use super::App;
use crate::sim::Duration;
use crate::world::AppCtx;

/// Configuration of a [`DatagramApp`].
#[derive(Clone, Debug, PartialEq)]
pub struct DatagramSpec {
    /// Destination address.
    pub to: Ipv4Addr,
    /// Destination port.
    pub port: u16,
    /// Source port.
    pub src_port: u16,
    /// Time of the first datagram.
    pub start: Duration,
    /// Gap between datagrams.
    pub interval: Duration,
    /// How many to send.
    pub count: u64,
    /// Payload bytes per datagram.
    pub size: u32,
    /// IP TTL; the network default when absent.
    pub ttl: Option<u8>,
}

/// Sends datagrams on a fixed schedule.
pub struct DatagramApp {
    spec: DatagramSpec,
    sent: u64,
}

impl DatagramApp {
    /// A sender that has sent nothing yet.
    pub fn new(spec: DatagramSpec) -> DatagramApp {
        DatagramApp { spec, sent: 0 }
    }
}

impl App for DatagramApp {
    fn start(&mut self, ctx: &mut AppCtx<'_>) {
        if self.spec.count > 0 {
            ctx.set_timer_after(self.spec.start, 0);
        }
    }

    fn timer(&mut self, ctx: &mut AppCtx<'_>, _token: u64) {
        let s = &self.spec;
        ctx.send_datagram(s.to, s.src_port, s.port, s.size, self.sent, s.ttl);
        self.sent += 1;
        if self.sent < s.count {
            ctx.set_timer_after(s.interval, 0);
        }
    }
}
