//! Scenarios: TOML in, a checked [`WorldConfig`] out. All validation happens here, and every
//! error names the file, line, column and field.

mod budget;
mod build;
mod error;
mod schema;
mod values;

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer, ValueDeserializer};

pub use budget::parse_size;
pub use error::{Location, ScenarioError, Warning, nearest};

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputOptions {
    /// `events.csv`.
    pub events: bool,
    /// `states.csv`.
    pub states: bool,
    /// `connections.csv`.
    pub connections: bool,
    /// `trace.pcap`: one capture, one per link, or none.
    pub pcap: PcapMode,
    /// The figures drawn from those files (`ladder`, `timeseq`, `states`, `socket_counts`).
    pub figures: bool,
}

pub use schema::PcapMode;

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        location: None,
        file: file.clone(),
        field: String::new(),
        message: format!("cannot read the file: {e}"),
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    parse(&name, &file, &source)
}

/// Checks scenario text; `file` is used in messages.
pub fn parse(name: &str, file: &str, source: &str) -> Result<Scenario, ScenarioError> {
    let err = |span: Option<Range<usize>>, field: &str, msg: String| {
        ScenarioError::at(file, source, span, field, error::with_suggestion(&msg))
    };
    let root = DeTable::parse(source).map_err(|e| err(e.span(), "", e.message().to_string()))?;
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

/// Deserializes with the failing field's path and span.
fn typed<'de, T: DeserializeOwned, D>(de: D) -> Result<T, FieldError>
where
    D: serde::Deserializer<'de, Error = toml::de::Error>,
{
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
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
