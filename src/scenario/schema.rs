//! The TOML schema, as serde structs. Every table rejects unknown fields.

use serde::Deserialize;
use toml::Spanned;

pub use super::tcp::TcpSection;
use super::values::{
    AcceptAfter, Addr, Bytes, CountsSetting, Dur, Endpoint, Net, PositiveDur, Probability, Rate,
    Ttl, Url,
};

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
    #[serde(default)]
    pub fault: Vec<FaultSection>,
    #[serde(default)]
    pub tcp: TcpSection,
    #[serde(default)]
    pub output: OutputSection,
    #[serde(default)]
    pub figures: FiguresSection,
}

/// `netstat_style = "netstat" | "ss"`: how `netstat.txt` lists a host's sockets.
#[derive(Deserialize, Debug, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NetstatStyle {
    /// Linux `netstat -tan`.
    #[default]
    Netstat,
    /// Linux `ss -tano`, with each socket's pending timer.
    Ss,
}

/// `pcap = "all" | "per-link" | "off"`
#[derive(Deserialize, Debug, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PcapMode {
    All,
    PerLink,
    /// The default: a capture is a per-packet trace, written when asked for (as tcpdump).
    #[default]
    Off,
}

/// `compress = "none" | "zstd"`: how the large files (`events.csv`, the captures) are stored.
#[derive(Deserialize, Debug, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// Plain files.
    #[default]
    None,
    /// Zstandard, level 1: `events.csv.zst`, `trace.pcap.zst`.
    Zstd,
}

impl Compression {
    /// What the file name gains: `""` or `".zst"`.
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Zstd => ".zst",
        }
    }
}

fn yes() -> bool {
    true
}

/// `[output]`: which files a run writes.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Per-packet rows (`events.csv`): off unless asked for, as ns-3's traces and OMNeT++'s
    /// eventlog, since at about 11 KB per connection they outweigh the simulation itself.
    #[serde(default)]
    pub events: bool,
    #[serde(default = "yes")]
    pub states: bool,
    #[serde(default = "yes")]
    pub connections: bool,
    #[serde(default)]
    pub pcap: PcapMode,
    /// Bytes of each frame kept in the captures, as `tcpdump -s` (the frame's full length is
    /// still recorded); `None` keeps whole frames.
    pub pcap_snaplen: Option<u32>,
    /// Capture only what these nodes send or receive (`pcap = "all"`), or only the links
    /// attached to them (`pcap = "per-link"`), as tcpdump on their interfaces; empty for all.
    #[serde(default)]
    pub pcap_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    pub netstat_at: Vec<Dur>,
    #[serde(default)]
    pub netstat_on_change: bool,
    #[serde(default)]
    pub netstat_style: NetstatStyle,
    /// Whether `socket_counts.csv` is written (rows on each change); on when the scenario has
    /// TCP apps.
    pub socket_counts: Option<CountsSetting>,
    /// Whether `tcp_probe.csv` is written (a row per ACK a sender processes).
    #[serde(default)]
    pub tcp_probe: bool,
    /// How `events.csv` and the captures are stored.
    #[serde(default)]
    pub compress: Compression,
    /// The figures (`ladder`, `timeseq`, `states`, `socket_counts` as SVG and PNG).
    #[serde(default = "yes")]
    pub figures: bool,
}

impl Default for OutputSection {
    fn default() -> Self {
        OutputSection {
            events: false,
            states: true,
            connections: true,
            pcap: PcapMode::Off,
            pcap_snaplen: None,
            pcap_hosts: Vec::new(),
            netstat_at: Vec::new(),
            netstat_on_change: false,
            netstat_style: NetstatStyle::Netstat,
            socket_counts: None,
            tcp_probe: false,
            compress: Compression::None,
            figures: true,
        }
    }
}

/// `[figures]`: how a run draws its figures; the settings `timewait plot DIR` takes as
/// options (`--from`, `--to`, `--conn`, `--hosts`, `--format`, `--width`, `--only`).
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FiguresSection {
    /// Only what happened from this time on: seconds, or a duration such as "1500ms".
    pub from: Option<Spanned<TimeValue>>,
    /// Only what happened until this time.
    pub to: Option<Spanned<TimeValue>>,
    /// Only these connections (`client#2`) and their peers.
    pub conn: Option<Spanned<ListValue>>,
    /// Only these hosts.
    pub hosts: Option<Spanned<ListValue>>,
    /// File formats: svg, png, pdf.
    pub format: Option<Spanned<ListValue>>,
    /// Figure width in pixels.
    pub width: Option<Spanned<i64>>,
    /// Only these figures: ladder, timeseq, states, socket_counts.
    pub only: Option<Spanned<ListValue>>,
}

/// A time in `[figures]`: seconds as a number, or a duration string.
#[derive(Deserialize, Debug, Clone)]
#[serde(
    untagged,
    expecting = "seconds (a number) or a duration such as \"1500ms\""
)]
pub enum TimeValue {
    Int(i64),
    Float(f64),
    Text(String),
}

/// A list in `[figures]`: an array of strings, or one string of comma-separated items.
#[derive(Deserialize, Debug, Clone)]
#[serde(
    untagged,
    expecting = "a list of strings, or one string of comma-separated items"
)]
pub enum ListValue {
    One(String),
    Many(Vec<String>),
}

impl ListValue {
    /// The items, split at commas and trimmed, empty ones left out.
    pub fn items(&self) -> Vec<String> {
        let all: Vec<&str> = match self {
            ListValue::One(s) => vec![s.as_str()],
            ListValue::Many(v) => v.iter().map(String::as_str).collect(),
        };
        all.into_iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }
}

/// `[[fault]]`: drop chosen packets on a link.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FaultSection {
    pub link: Spanned<[Spanned<String>; 2]>,
    /// Only packets sent by this end of the link.
    pub from: Option<Spanned<String>>,
    pub after: Option<Dur>,
    pub until: Option<Dur>,
    /// TCP flags in tcpdump's notation: "S", "S.", ".", "P.", "F.", "R", "R.".
    pub flags: Option<Spanned<String>>,
    /// Payload length.
    pub len: Option<u32>,
    /// Matching packets to let through before dropping.
    #[serde(default)]
    pub skip: u32,
    /// Matching packets to act on.
    #[serde(default = "one")]
    pub count: u32,
    /// "drop" (default), "delay" or "duplicate".
    #[serde(default)]
    pub action: FaultActionName,
    /// For "delay": extra time in the network; for "duplicate": how much later the copy comes.
    pub delay: Option<PositiveDur>,
}

/// `action = "drop" | "delay" | "duplicate"`
#[derive(Deserialize, Debug, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FaultActionName {
    #[default]
    Drop,
    Delay,
    Duplicate,
}

fn one() -> u32 {
    1
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
    /// Overrides of `[tcp]` for this host.
    #[serde(default)]
    pub tcp: TcpSection,
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
    #[serde(default)]
    pub reorder: bool,
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

/// `[[app]] kind = "sender"` (also "bulk" and "reconnect").
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct SenderSection {
    pub host: Spanned<String>,
    pub to: Spanned<Endpoint>,
    pub bytes: Bytes,
    pub start: Option<Dur>,
    #[serde(default = "one")]
    pub connections: u32,
    pub interval: Option<PositiveDur>,
    pub src_port: Option<u16>,
    pub retry: Option<PositiveDur>,
    pub delay: Option<Dur>,
    pub hold: Option<Dur>,
    pub close_at: Option<Dur>,
    #[serde(default)]
    pub half_close: bool,
}

fn default_backlog() -> u32 {
    128
}

/// `[[app]] kind = "receiver"`
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ReceiverSection {
    pub host: Spanned<String>,
    pub port: u16,
    #[serde(default = "default_backlog")]
    pub backlog: u32,
    pub close_at: Option<Dur>,
    pub reply: Option<Bytes>,
}

/// One `handlers` entry of an `http_server`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct HandlerSection {
    pub path: String,
    pub delay: Option<Dur>,
    pub body: Option<Spanned<Bytes>>,
}

/// `[[app]] kind = "http_server"`
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct HttpServerSection {
    pub host: Spanned<String>,
    pub port: u16,
    #[serde(default = "default_backlog")]
    pub backlog: u32,
    pub accept_delay: Option<AcceptAfter>,
    #[serde(default)]
    pub handlers: Vec<HandlerSection>,
    pub close_after_response: Option<bool>,
    pub idle_timeout: Option<PositiveDur>,
}

/// `on_timeout = "close" | "abort"`
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OnTimeoutName {
    Close,
    Abort,
}

/// `[[app]] kind = "http_client"` (curl) and `kind = "churn"` (a quiet load generator).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct HttpClientSection {
    pub host: Spanned<String>,
    pub url: Spanned<Url>,
    pub start: Option<Dur>,
    pub requests: Option<u64>,
    pub interval: Option<PositiveDur>,
    /// Requests per second (instead of `interval`).
    pub rate: Option<Spanned<f64>>,
    /// How long a `rate` runs (instead of `requests`).
    pub duration: Option<PositiveDur>,
    pub connect_timeout: Option<PositiveDur>,
    pub max_time: Option<PositiveDur>,
    pub on_timeout: Option<OnTimeoutName>,
    pub src_port: Option<u16>,
    pub request_body: Option<Spanned<Bytes>>,
    pub verbose: Option<bool>,
}
