//! Applications: the programs that run on hosts and drive traffic.

mod datagram;

pub use datagram::{DatagramApp, DatagramSpec};

use std::net::Ipv4Addr;

use super::{AppCtx, AppId};
use crate::net::Datagram;

/// What a scenario may ask a host to run.
#[derive(Clone, Debug, PartialEq)]
pub enum AppSpec {
    /// Sends UDP-like datagrams on a schedule.
    Datagram(DatagramSpec),
}

impl AppSpec {
    /// The running application for this spec.
    pub fn instantiate(&self, _id: AppId) -> Box<dyn App> {
        match self {
            AppSpec::Datagram(s) => Box::new(DatagramApp::new(s.clone())),
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
}
