//! Scenarios: TOML in, a checked [`WorldConfig`] out. All validation happens here, and every
//! error names the file, line, column and field.

mod budget;
mod build;
pub mod bundled;
mod error;
pub mod locate;
mod outputs;
mod schema;
mod tcp;
mod values;

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer, ValueDeserializer};

pub use budget::parse_size;
pub use error::{Location, ScenarioError, Warning, clean_field, nearest};

use crate::sim::Duration;
use crate::world::WorldConfig;

/// A checked scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file stem: `routing_loop` for `scenarios/routing_loop.toml`.
    pub name: String,
    /// The file, as the user named it.
    pub file: String,
    /// The file's bytes, for hashing into the run manifest.
    pub source: String,
    /// How long to simulate.
    pub duration: Duration,
    /// The world to build.
    pub config: WorldConfig,
    /// Legal but suspicious things (loops and black holes at t = 0).
    pub warnings: Vec<Warning>,
    /// Which files to write.
    pub output: OutputOptions,
    /// How the figures are drawn (`[figures]`).
    pub figures: crate::report::figures::FigureOptions,
}

/// Application kinds `[[app]]` accepts.
pub const APP_KINDS: &[&str] = &[
    "datagram",
    "sender",
    "bulk",
    "reconnect",
    "receiver",
    "http_server",
    "http_client",
    "churn",
];

/// Which files a run writes (`[output]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputOptions {
    /// `events.csv`.
    pub events: bool,
    /// `states.csv`.
    pub states: bool,
    /// `connections.csv`.
    pub connections: bool,
    /// `trace.pcap`: one capture, one per link, or none.
    pub pcap: PcapMode,
    /// Bytes of each frame the captures keep (`tcpdump -s`); `None` for whole frames.
    pub pcap_snaplen: Option<u32>,
    /// The nodes the captures are limited to (`[output] pcap_hosts`); empty for all.
    pub pcap_hosts: Vec<crate::net::NodeId>,
    /// `netstat.txt`.
    pub netstat: bool,
    /// How `netstat.txt` lists sockets.
    pub netstat_style: NetstatStyle,
    /// `socket_counts.csv`.
    pub socket_counts: bool,
    /// `tcp_probe.csv`: each sender's congestion state after every ACK.
    pub tcp_probe: bool,
    /// How `events.csv` and the captures are stored (`.zst` when compressed).
    pub compress: Compression,
    /// The figures drawn from those files (`ladder`, `timeseq`, `states`, `socket_counts`).
    pub figures: bool,
}

pub use build::{MAX_BODY_BYTES, MAX_ROUTES};
pub use outputs::{OUTPUT_NAMES, OutputSelection};
pub use schema::{Compression, NetstatStyle, PcapMode};
pub use tcp::{README_MARKS, settings_markdown, settings_toml};

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let source = locate::read_source(path)?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    parse(&name, &file, &source)
}

/// Checks scenario text; `file` is used in messages.
pub fn parse(name: &str, file: &str, source: &str) -> Result<Scenario, ScenarioError> {
    let err = |span: Option<Range<usize>>, field: &str, msg: String| {
        // An error about the file as a whole (a missing table) names where it was found.
        let field = match (field, &span) {
            ("", Some(s)) => locate::field_at(source, s.start),
            _ => field.to_string(),
        };
        ScenarioError::at(file, source, span, field, error::with_suggestion(&msg))
    };
    if let Some((at, key)) = locate::too_deep(source) {
        return Err(err(
            Some(at..at),
            &key,
            format!("nested more than {} levels deep", locate::MAX_DEPTH),
        ));
    }
    if source.len() as u64 > locate::MAX_FILE_BYTES {
        return Err(err(
            Some(0..0),
            "(file)",
            format!(
                "the file has {} bytes; scenario and sweep files may have at most {} ({} MiB)",
                source.len(),
                locate::MAX_FILE_BYTES,
                locate::MAX_FILE_BYTES >> 20
            ),
        ));
    }
    let root = DeTable::parse(source).map_err(|e| locate::syntax_error(file, source, &e))?;
    check_counts(root.get_ref()).map_err(|(path, span, msg)| err(span, &path, msg))?;
    let root_span = root.span();
    let mut table = root.into_inner();
    let apps = table.remove("app");
    let doc: schema::File = typed(Deserializer::from(Spanned::new(root_span.clone(), table)))
        .map_err(|(path, span, msg)| err(span.or(Some(0..0)), &path, msg))?;
    let apps = match apps {
        None => Vec::new(),
        Some(v) => parse_apps(v).map_err(|(path, span, msg)| err(span, &path, msg))?,
    };
    build::build(name, file, source, doc, apps).map(budget::with_estimate)
}

type FieldError = (String, Option<Range<usize>>, String);

/// Most `[[host]]` plus `[[router]]` tables a scenario may have. Checking is linear in the
/// counts, but a world of more nodes than this is not what the simulator is for, and the bound
/// keeps `check` of any file within seconds and well under a GB.
pub const MAX_NODES: usize = 10_000;

/// Most `[[link]]`, `[[app]]`, `[[route_change]]`, `[[link_change]]` or `[[fault]]` tables
/// (each kind counted on its own).
pub const MAX_TABLES: usize = 100_000;

/// Refuses, before anything is built from them, more tables than the limits above.
fn check_counts(root: &DeTable<'_>) -> Result<(), FieldError> {
    let len = |key: &str| match root.get(key).map(|v| v.get_ref()) {
        Some(DeValue::Array(items)) => items.len(),
        _ => 0,
    };
    let beyond = |key: &str, index: usize| {
        root.get(key).and_then(|v| match v.get_ref() {
            DeValue::Array(items) => items.get(index).map(|i| i.span()),
            _ => None,
        })
    };
    let (hosts, routers) = (len("host"), len("router"));
    if hosts + routers > MAX_NODES {
        // Blame the first node past the limit in file order, host or router.
        let mut nodes: Vec<(Range<usize>, String)> = Vec::new();
        for key in ["host", "router"] {
            if let Some(DeValue::Array(items)) = root.get(key).map(|v| v.get_ref()) {
                nodes.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (v.span(), format!("{key}[{i}]"))),
                );
            }
        }
        nodes.sort_by_key(|(span, _)| span.start);
        let (span, field) = nodes.swap_remove(MAX_NODES);
        return Err((
            field,
            Some(span),
            format!(
                "{hosts} [[host]] and {routers} [[router]] tables: a scenario may have at most {MAX_NODES} nodes"
            ),
        ));
    }
    for key in ["link", "app", "route_change", "link_change", "fault"] {
        if len(key) > MAX_TABLES {
            return Err((
                format!("{key}[{MAX_TABLES}]"),
                beyond(key, MAX_TABLES),
                format!(
                    "{} [[{key}]] tables: a scenario may have at most {MAX_TABLES}",
                    len(key)
                ),
            ));
        }
    }
    Ok(())
}

/// Deserializes with the failing field's path and span.
fn typed<'de, T: DeserializeOwned, D>(de: D) -> Result<T, FieldError>
where
    D: serde::Deserializer<'de, Error = toml::de::Error>,
{
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = clean_field(&e.path().to_string());
        let path = if path == "." { String::new() } else { path };
        (path, e.inner().span(), e.inner().message().to_string())
    })
}

/// One `[[app]]` table, parsed according to its `kind`.
pub(crate) enum AppSection {
    Datagram(schema::DatagramSection),
    Sender(schema::SenderSection),
    Receiver(schema::ReceiverSection),
    HttpServer(schema::HttpServerSection),
    /// `churn` is an `http_client` that is quiet by default and driven by a rate.
    HttpClient(schema::HttpClientSection, bool),
}

/// A parsed app with the span of its table, for later cross-reference errors.
pub(crate) struct SpannedApp {
    pub index: usize,
    pub span: Range<usize>,
    pub section: AppSection,
}

fn parse_apps(value: Spanned<DeValue<'_>>) -> Result<Vec<SpannedApp>, FieldError> {
    let span = value.span();
    let DeValue::Array(items) = value.into_inner() else {
        return Err((
            "app".into(),
            Some(span),
            "expected an array of tables, written [[app]]".into(),
        ));
    };
    let mut out = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let span = item.span();
        let path = format!("app[{index}]");
        let DeValue::Table(mut t) = item.into_inner() else {
            return Err((path, Some(span), "expected a table".into()));
        };
        let Some(kind) = t.remove("kind") else {
            return Err((
                path,
                Some(span),
                format!("missing field `kind` (one of {})", APP_KINDS.join(", ")),
            ));
        };
        let kind_span = kind.span();
        let kind_path = format!("{path}.kind");
        let Some(kind) = kind.get_ref().as_str().map(str::to_string) else {
            return Err((kind_path, Some(kind_span), "expected a string".into()));
        };
        let de = ValueDeserializer::from(Spanned::new(span.clone(), DeValue::Table(t)));
        let prefix = |(p, s, m): FieldError| {
            let p = if p.is_empty() {
                path.clone()
            } else {
                format!("{path}.{p}")
            };
            (p, s.or(Some(span.clone())), m)
        };
        let section = match kind.as_str() {
            "datagram" => AppSection::Datagram(typed(de).map_err(prefix)?),
            "sender" | "bulk" | "reconnect" => AppSection::Sender(typed(de).map_err(prefix)?),
            "receiver" => AppSection::Receiver(typed(de).map_err(prefix)?),
            "http_server" => AppSection::HttpServer(typed(de).map_err(prefix)?),
            "http_client" => AppSection::HttpClient(typed(de).map_err(prefix)?, false),
            "churn" => AppSection::HttpClient(typed(de).map_err(prefix)?, true),
            other => {
                let hint = match nearest(other, APP_KINDS.iter().copied()) {
                    Some(k) => format!(" (did you mean `{k}`?)"),
                    None => String::new(),
                };
                return Err((
                    kind_path,
                    Some(kind_span),
                    format!(
                        "unknown app kind `{other}`, expected one of {}{hint}",
                        APP_KINDS.join(", ")
                    ),
                ));
            }
        };
        out.push(SpannedApp {
            index,
            span,
            section,
        });
    }
    Ok(out)
}
