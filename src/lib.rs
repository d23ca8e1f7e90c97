//! timewait: a discrete-event network simulator that replays, byte by byte, why TCP needs
//! TIME_WAIT.
//!
//! Layers, each knowing only those below it: [`sim`] (engine) <- [`tcp`] (protocol) <-
//! [`net`] (links, routers, hosts) <- [`world`] (wiring and applications) <- [`scenario`]
//! (TOML in) and [`report`] (files out).

pub mod cli;
pub mod drill;
pub mod net;
pub mod progress;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod tcp;
pub mod world;
