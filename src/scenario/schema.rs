//! The TOML schema, as serde structs. Every table rejects unknown fields.

use serde::Deserialize;
use toml::Spanned;

use super::values::{Addr, Dur, Net, PositiveDur, Probability, Rate, Ttl};

/// The whole file, except `[[app]]` tables (parsed separately so their errors keep positions).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub simulation: Simulation,
    #[serde(default)]
    pub host: Vec<HostSection>,
    #[serde(default)]
    pub router: Vec<RouterSection>,
    #[serde(default)]
    pub link: Vec<LinkSection>,
    #[serde(default)]
    pub route_change: Vec<RouteChangeSection>,
    #[serde(default)]
    pub link_change: Vec<LinkChangeSection>,
}

fn default_seed() -> u64 {
    1
}

fn default_ttl() -> Ttl {
    Ttl(64)
}

/// `[simulation]`
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Simulation {
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub duration: PositiveDur,
    #[serde(default)]
    pub ttl_mode: TtlModeName,
    #[serde(default = "default_ttl")]
    pub default_ttl: Ttl,
}

/// `ttl_mode = "hops" | "seconds"`
#[derive(Deserialize, Debug, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum TtlModeName {
    #[default]
    Hops,
    Seconds,
}

/// One entry of a `routes` list.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    pub dest: Spanned<Net>,
    /// A neighbour's name, or "drop" for a black hole.
    pub via: Spanned<String>,
}

/// `[[host]]`
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct HostSection {
    pub name: Spanned<String>,
    pub addr: Spanned<Addr>,
    /// Defaults to one default route via the host's only link.
    #[serde(default)]
    pub routes: Vec<RouteSection>,
}

/// `[[router]]`
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RouterSection {
    pub name: Spanned<String>,
    pub addr: Option<Spanned<Addr>>,
    pub icmp_time_exceeded: Option<Spanned<bool>>,
    #[serde(default)]
    pub routes: Vec<RouteSection>,
}

fn default_queue() -> u32 {
    1000
}

/// `[[link]]`
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct LinkSection {
    pub ends: Spanned<[Spanned<String>; 2]>,
    pub delay: Dur,
    pub bandwidth: Option<Rate>,
    #[serde(default = "default_queue")]
    pub queue: u32,
    #[serde(default)]
    pub loss: Probability,
    #[serde(default)]
    pub duplicate: Probability,
    pub jitter: Option<Dur>,
}

/// `[[route_change]]`
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RouteChangeSection {
    pub at: Dur,
    /// The router (or host) whose table changes.
    pub router: Spanned<String>,
    pub dest: Spanned<Net>,
    /// A neighbour's name, "drop" for a black hole, or "none" to withdraw the route.
    pub via: Spanned<String>,
}

/// `state = "up" | "down"`
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    Up,
    Down,
}

/// `[[link_change]]`
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct LinkChangeSection {
    pub at: Dur,
    pub ends: Spanned<[Spanned<String>; 2]>,
    pub state: LinkState,
}

/// `[[app]] kind = "datagram"`
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct DatagramSection {
    pub host: Spanned<String>,
    pub to: Spanned<Addr>,
    #[serde(default = "default_datagram_port")]
    pub port: u16,
    #[serde(default = "default_datagram_port")]
    pub src_port: u16,
    #[serde(default)]
    pub start: Option<Dur>,
    pub interval: Option<PositiveDur>,
    pub count: u64,
    #[serde(default = "default_datagram_size")]
    pub size: u32,
    pub ttl: Option<Ttl>,
}

fn default_datagram_port() -> u16 {
    9
}

fn default_datagram_size() -> u32 {
    64
}
