//! A sweep file: a scenario plus a `[sweep]` table naming the seeds, the parameters and their
//! values, and the figure's x axis.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::SweepError;
use super::metric::Metric;
use super::set::Override;
use crate::scenario::{ScenarioError, locate, nearest};

/// The fields of `[sweep]`.
const FIELDS: [&str; 6] = ["seeds", "x", "parameters", "metrics", "x_label", "y_label"];

/// Characters an axis label written in `[sweep]` may have at most.
pub const MAX_LABEL_CHARS: usize = 120;

/// Values one range may expand to at most: a typo in `step` should not start a million runs.
pub const MAX_RANGE_VALUES: usize = 10_000;

/// Seeds a sweep may list at most.
pub const MAX_SEEDS: u64 = 1_000_000;

/// One swept parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// Dotted path into the scenario document: `tcp.time_wait`, `host.client.tcp.isn`.
    pub path: String,
    /// Its values, in the order written (ranges expanded).
    pub values: Vec<toml::Value>,
    /// Byte range of its key in the sweep file, for error messages.
    pub span: Range<usize>,
}

impl Parameter {
    /// Value `i` as it appears in tables and legends.
    pub fn label(&self, i: usize) -> String {
        self.values.get(i).map(label).unwrap_or_default()
    }
}

/// A parsed sweep file.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    /// The file, as the user named it.
    pub file: String,
    /// Its stem: the default output folder's name.
    pub name: String,
    /// The file's bytes, for the manifest's hash.
    pub source: String,
    /// The file with the `[sweep]` table blanked out (same length and line breaks, so the
    /// scenario parser's line and column numbers still point into the real file).
    pub base_source: String,
    /// Seeds every grid point runs with, in order.
    pub seeds: Vec<u64>,
    /// Swept parameters, in the order the file lists them.
    pub parameters: Vec<Parameter>,
    /// Index into `parameters` of the figure's x axis (`None` when nothing is swept).
    pub x: Option<usize>,
    /// Byte range of the `[sweep]` table (of `seeds` if written), for errors about the runs.
    pub seeds_span: Range<usize>,
    /// `--set` overrides applied to the base scenario before the grid's values.
    pub overrides: Vec<Override>,
    /// The metrics chosen by `metrics = [...]`, in order; `None` without that field (the
    /// default columns, see [`super::metric::DEFAULT`]).
    pub metrics: Option<Vec<Metric>>,
    /// The figures' x axis label, as `x_label` writes it (`None`: derived from the parameter).
    pub x_label: Option<String>,
    /// Y axis labels by metric name, as `y_label` writes them (a metric left out keeps the
    /// label naming its statistic).
    pub y_labels: Vec<(String, String)>,
}

impl SweepSpec {
    /// Reads and parses a sweep file (its scenario part is checked later, by the plan).
    pub fn load(path: &Path) -> Result<SweepSpec, SweepError> {
        let file = path.display().to_string();
        let source = locate::read_source(path).map_err(|e| SweepError::Input(e.to_string()))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sweep".into());
        SweepSpec::parse(&name, &file, &source)
    }

    /// Parses sweep text; `file` is used in messages.
    pub fn parse(name: &str, file: &str, source: &str) -> Result<SweepSpec, SweepError> {
        SweepSpec::parse_located(name, file, source).map_err(|e| SweepError::Input(e.to_string()))
    }

    /// [`SweepSpec::parse`], with the error as a [`ScenarioError`] (file, line, column, field).
    pub fn parse_located(name: &str, file: &str, source: &str) -> Result<SweepSpec, ScenarioError> {
        let err = |span: Option<Range<usize>>, field: &str, msg: String| {
            ScenarioError::at(file, source, span, field, msg)
        };
        if let Some((at, key)) = locate::too_deep(source) {
            return Err(err(
                Some(at..at),
                &key,
                format!("nested more than {} levels deep", locate::MAX_DEPTH),
            ));
        }
        let root = match DeTable::parse(source) {
            Ok(r) => r,
            // Not TOML at all: the scenario parser says where, in its usual words.
            Err(e) => return Err(locate::syntax_error(file, source, &e)),
        };
        let Some(sweep) = root.get_ref().get("sweep") else {
            return Err(err(
                Some(0..0),
                "sweep",
                "missing [sweep] table: a sweep file is a scenario plus [sweep] with seeds and [sweep.parameters]".into(),
            ));
        };
        let base_source = blank_sweep(source, root.get_ref(), sweep)
            .ok_or_else(|| err(Some(sweep.span()), "sweep", "write the sweep settings under a [sweep] table header (and [sweep.parameters]), not inline or as dotted keys".into()))?;
        let DeValue::Table(table) = sweep.get_ref() else {
            return Err(err(Some(sweep.span()), "sweep", "expected a table".into()));
        };
        for (k, _) in table.iter() {
            let key: &str = k.get_ref();
            if !FIELDS.contains(&key) {
                let hint = nearest(key, FIELDS)
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                return Err(err(
                    Some(k.span()),
                    &format!("sweep.{key}"),
                    format!(
                        "unknown field `{key}`, expected one of `seeds`, `x`, `parameters`, `metrics`, `x_label`, `y_label`{hint}"
                    ),
                ));
            }
        }

        let seeds_span = table.get("seeds").map_or(sweep.span(), |v| v.span());
        let mut seeds = match table.get("seeds") {
            None => vec![1],
            Some(v) => parse_seeds(v).map_err(|(s, m)| err(Some(s), "sweep.seeds", m))?,
        };
        // Runs are ordered by (grid point, seed) whatever order the list gives.
        seeds.sort_unstable();

        let mut parameters = Vec::new();
        if let Some(p) = table.get("parameters") {
            let DeValue::Table(pt) = p.get_ref() else {
                return Err(err(
                    Some(p.span()),
                    "sweep.parameters",
                    "expected a table of \"dotted.path\" = [values] entries".into(),
                ));
            };
            let mut entries: Vec<_> = pt.iter().collect();
            // The order written in the file (the map itself may be sorted).
            entries.sort_by_key(|(k, _)| k.span().start);
            for (k, v) in entries {
                let path: &str = k.get_ref();
                let field = format!("sweep.parameters.\"{path}\"");
                check_path(path).map_err(|m| err(Some(k.span()), &field, m))?;
                let values = parse_values(v).map_err(|(s, m)| err(Some(s), &field, m))?;
                parameters.push(Parameter {
                    path: path.to_string(),
                    values,
                    span: k.span(),
                });
            }
        }

        let x = match table.get("x") {
            None => (!parameters.is_empty()).then_some(0),
            Some(v) => {
                let Some(name) = v.get_ref().as_str() else {
                    return Err(err(
                        Some(v.span()),
                        "sweep.x",
                        "expected the path of a swept parameter, such as \"tcp.time_wait\"".into(),
                    ));
                };
                match parameters.iter().position(|p| p.path == name) {
                    Some(i) => Some(i),
                    None => {
                        let names: Vec<&str> = parameters.iter().map(|p| p.path.as_str()).collect();
                        let hint = nearest(name, names.iter().copied())
                            .map(|n| format!(" (did you mean `{n}`?)"))
                            .unwrap_or_default();
                        return Err(err(
                            Some(v.span()),
                            "sweep.x",
                            format!(
                                "`{name}` is not a swept parameter; [sweep.parameters] has {}{hint}",
                                if names.is_empty() {
                                    "none".to_string()
                                } else {
                                    names
                                        .iter()
                                        .map(|n| format!("`{n}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                }
                            ),
                        ));
                    }
                }
            }
        };

        let metrics = match table.get("metrics") {
            None => None,
            Some(v) => Some(
                parse_metrics(v, &host_names(root.get_ref()))
                    .map_err(|(s, m)| err(Some(s), "sweep.metrics", m))?,
            ),
        };

        let x_label = match table.get("x_label") {
            None => None,
            Some(v) => Some(
                parse_label(
                    v,
                    "the x axis label, such as \"connection rate (connections/s)\"",
                )
                .map_err(|(s, m)| err(Some(s), "sweep.x_label", m))?,
            ),
        };
        let y_labels = match table.get("y_label") {
            None => Vec::new(),
            Some(v) => parse_y_labels(v, metrics.as_deref().unwrap_or_default())
                .map_err(|(s, m)| err(Some(s), "sweep.y_label", m))?,
        };

        Ok(SweepSpec {
            metrics,
            x_label,
            y_labels,
            file: file.to_string(),
            name: name.to_string(),
            source: source.to_string(),
            base_source,
            seeds,
            parameters,
            x,
            seeds_span,
            overrides: Vec::new(),
        })
    }

    /// The sweep with `sets` applied to its base scenario (before each grid point's values).
    pub fn with_overrides(mut self, sets: &[Override]) -> Result<SweepSpec, ScenarioError> {
        if !sets.is_empty() {
            self.base_source =
                super::set::apply_to_text(&self.name, &self.file, &self.base_source, sets)?;
            self.overrides.extend_from_slice(sets);
        }
        Ok(self)
    }

    /// Grid points: the cartesian product of the parameters' values, the last parameter
    /// varying fastest. Each point is one value index per parameter.
    pub fn grid(&self) -> Vec<Vec<usize>> {
        let mut points: Vec<Vec<usize>> = vec![Vec::new()];
        for p in &self.parameters {
            let mut next = Vec::with_capacity(points.len() * p.values.len());
            for point in &points {
                for i in 0..p.values.len() {
                    let mut q = point.clone();
                    q.push(i);
                    next.push(q);
                }
            }
            points = next;
        }
        points
    }

    /// Number of grid points, without building them (saturating).
    pub fn grid_len(&self) -> u64 {
        self.parameters
            .iter()
            .fold(1u64, |n, p| n.saturating_mul(p.values.len() as u64))
    }
}

/// The `name` of every `[[host]]` in the document, in order.
fn host_names(root: &DeTable<'_>) -> Vec<String> {
    let Some(DeValue::Array(hosts)) = root.get("host").map(|h| h.get_ref()) else {
        return Vec::new();
    };
    hosts
        .iter()
        .filter_map(|h| match h.get_ref() {
            DeValue::Table(t) => match t.get("name").map(|n| n.get_ref()) {
                Some(DeValue::String(n)) => Some(n.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// `metrics = ["peak_time_wait", "connect_failed:EADDRNOTAVAIL", ...]`: distinct known names.
fn parse_metrics(v: &Spanned<DeValue<'_>>, hosts: &[String]) -> Result<Vec<Metric>, SpannedError> {
    let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let DeValue::Array(items) = v.get_ref() else {
        return Err((
            v.span(),
            "expected a list of metric names, such as [\"peak_time_wait\", \"connect_failed\"]"
                .into(),
        ));
    };
    if items.is_empty() {
        return Err((
            v.span(),
            "the list of metrics is empty (leave `metrics` out for the default columns)".into(),
        ));
    }
    let mut out: Vec<Metric> = Vec::with_capacity(items.len());
    for item in items {
        let DeValue::String(name) = item.get_ref() else {
            return Err((item.span(), "expected a metric name (a string)".into()));
        };
        let m = Metric::parse(name, &hosts).map_err(|e| (item.span(), e))?;
        if out.iter().any(|o| o.name == m.name) {
            return Err((item.span(), format!("metric `{name}` is listed twice")));
        }
        out.push(m);
    }
    Ok(out)
}

/// An axis label: a non-empty string of one line, at most [`MAX_LABEL_CHARS`] characters.
fn parse_label(v: &Spanned<DeValue<'_>>, expected: &str) -> Result<String, SpannedError> {
    let DeValue::String(text) = v.get_ref() else {
        return Err((v.span(), format!("expected a string: {expected}")));
    };
    let text = text.trim();
    if text.is_empty() {
        return Err((
            v.span(),
            "the label is empty (leave the field out for the default label)".into(),
        ));
    }
    if text.contains(['\n', '\r']) {
        return Err((v.span(), "an axis label is one line".into()));
    }
    let chars = text.chars().count();
    if chars > MAX_LABEL_CHARS {
        return Err((
            v.span(),
            format!("the label has {chars} characters; at most {MAX_LABEL_CHARS} fit on an axis"),
        ));
    }
    Ok(text.to_string())
}

/// `y_label = { "peak_time_wait:client" = "peak TIME_WAIT sockets", ... }`: a label for some
/// of the chosen metrics, in the order written.
fn parse_y_labels(
    v: &Spanned<DeValue<'_>>,
    metrics: &[Metric],
) -> Result<Vec<(String, String)>, SpannedError> {
    let DeValue::Table(t) = v.get_ref() else {
        return Err((
            v.span(),
            "expected a table of metric = label, such as { \"peak_time_wait:client\" = \"peak TIME_WAIT sockets\" }".into(),
        ));
    };
    let mut entries: Vec<_> = t.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut out = Vec::with_capacity(entries.len());
    for (k, label) in entries {
        let name: &str = k.get_ref();
        if !metrics.iter().any(|m| m.name == name) {
            let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
            let hint = nearest(name, names.iter().copied())
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            let listed = if names.is_empty() {
                "`metrics` lists none".to_string()
            } else {
                format!(
                    "`metrics` lists {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err((
                k.span(),
                format!("`{name}` is not a chosen metric; {listed}{hint}"),
            ));
        }
        out.push((
            name.to_string(),
            parse_label(label, &format!("the y axis label of `{name}`"))?,
        ));
    }
    Ok(out)
}

/// The text of a value in tables and legends: strings bare, anything else as TOML writes it.
pub fn label(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Rejects paths the sweep cannot or must not set.
fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!(
            "`{path}` is not a dotted path such as \"tcp.time_wait\" or \"host.client.tcp.isn\""
        ));
    }
    if path == "simulation.seed" {
        return Err("the seed is set by `seeds` in [sweep], not swept as a parameter".into());
    }
    if path == "sweep" || path.starts_with("sweep.") {
        return Err("a sweep cannot sweep its own [sweep] table".into());
    }
    Ok(())
}

type SpannedError = (Range<usize>, String);

fn parse_seeds(v: &Spanned<DeValue<'_>>) -> Result<Vec<u64>, SpannedError> {
    let span = v.span();
    let int = |v: &Spanned<DeValue<'_>>| -> Result<u64, SpannedError> {
        match v.get_ref() {
            DeValue::Integer(i) => u64::from_str_radix(i.as_str(), i.radix()).map_err(|_| {
                (
                    v.span(),
                    format!("seed {i} is not a whole number from 0 up"),
                )
            }),
            _ => Err((v.span(), "expected an integer seed".into())),
        }
    };
    match v.get_ref() {
        DeValue::Integer(_) => {
            let n = int(v)?;
            if n == 0 || n > MAX_SEEDS {
                return Err((
                    span,
                    format!(
                        "seeds = {n}: expected a count from 1 to {MAX_SEEDS} (seeds 1..=N), or a list of seeds"
                    ),
                ));
            }
            Ok((1..=n).collect())
        }
        DeValue::Array(items) => {
            if items.is_empty() {
                return Err((span, "the list of seeds is empty".into()));
            }
            let mut seeds = Vec::with_capacity(items.len());
            for item in items {
                let s = int(item)?;
                if seeds.contains(&s) {
                    return Err((item.span(), format!("seed {s} is listed twice")));
                }
                seeds.push(s);
            }
            if seeds.len() as u64 > MAX_SEEDS {
                return Err((span, format!("more than {MAX_SEEDS} seeds")));
            }
            Ok(seeds)
        }
        _ => Err((
            span,
            "expected a count (seeds = 20 runs seeds 1 to 20) or a list of seeds".into(),
        )),
    }
}

/// A parameter's values: a list, or a range table `{ from, to, step, unit }`.
fn parse_values(v: &Spanned<DeValue<'_>>) -> Result<Vec<toml::Value>, SpannedError> {
    let span = v.span();
    match v.get_ref() {
        DeValue::Array(items) => {
            if items.is_empty() {
                return Err((span, "the list of values is empty".into()));
            }
            items
                .iter()
                .map(|item| {
                    to_value(item).ok_or((
                        item.span(),
                        format!(
                            "unsupported value: sweep values may be integers from {} to {}, numbers, strings, booleans, lists and tables",
                            i64::MIN,
                            i64::MAX
                        ),
                    ))
                })
                .collect()
        }
        DeValue::Table(t) => parse_range(t).map_err(|m| (span, m)),
        _ => Err((
            span,
            "expected a list of values, or a range such as { from = 0, to = 2.5, step = 0.25, unit = \"msl\" }"
                .into(),
        )),
    }
}

/// A spanned parse-tree value as a plain `toml::Value`.
fn to_value(v: &Spanned<DeValue<'_>>) -> Option<toml::Value> {
    Some(match v.get_ref() {
        DeValue::String(s) => toml::Value::String(s.to_string()),
        DeValue::Integer(i) => {
            toml::Value::Integer(i64::from_str_radix(i.as_str(), i.radix()).ok()?)
        }
        DeValue::Float(f) => toml::Value::Float(f.as_str().parse().ok()?),
        DeValue::Boolean(b) => toml::Value::Boolean(*b),
        DeValue::Datetime(d) => toml::Value::Datetime(*d),
        DeValue::Array(items) => {
            toml::Value::Array(items.iter().map(to_value).collect::<Option<Vec<_>>>()?)
        }
        DeValue::Table(t) => {
            let mut out = toml::Table::new();
            for (k, v) in t.iter() {
                out.insert(k.get_ref().to_string(), to_value(v)?);
            }
            toml::Value::Table(out)
        }
    })
}

/// A number as an exact decimal: (digits scaled by 10^scale, scale).
fn decimal(text: &str) -> Option<(i128, u32)> {
    let t = text.replace('_', "");
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, t.trim_start_matches('+').to_string()),
    };
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 12
        || int.len() > 18
    {
        return None;
    }
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    Some((if neg { -digits } else { digits }, frac.len() as u32))
}

/// Formats `n / 10^scale` with no trailing zeros: 250 at scale 3 is "0.25".
fn format_decimal(n: i128, scale: u32) -> String {
    let p = 10i128.pow(scale);
    let sign = if n < 0 { "-" } else { "" };
    let (int, frac) = (n.abs() / p, n.abs() % p);
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let f = format!("{frac:0width$}", width = scale as usize);
    format!("{sign}{int}.{}", f.trim_end_matches('0'))
}

/// `{ from = 0, to = 2.5, step = 0.25, unit = "msl" }` -> "0msl", "0.25msl", ... "2.5msl";
/// without `unit`, numbers (integers when every bound is one).
fn parse_range(t: &DeTable<'_>) -> Result<Vec<toml::Value>, String> {
    const KEYS: [&str; 4] = ["from", "to", "step", "unit"];
    for (k, _) in t.iter() {
        let key: &str = k.get_ref();
        if !KEYS.contains(&key) {
            let hint = nearest(key, KEYS)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "unknown range field `{key}`, expected `from`, `to`, `step` and optionally `unit`{hint}"
            ));
        }
    }
    let num = |key: &str| -> Result<(i128, u32, bool), String> {
        let v = t.get(key).ok_or_else(|| {
            format!("a range needs `from`, `to` and `step` (missing `{key}`), e.g. {{ from = 0, to = 2.5, step = 0.25, unit = \"msl\" }}")
        })?;
        let (text, is_int) = match v.get_ref() {
            DeValue::Integer(i) => (i.to_string(), true),
            DeValue::Float(f) => (f.to_string(), false),
            _ => return Err(format!("range `{key}` must be a number")),
        };
        let value = if let DeValue::Integer(i) = v.get_ref() {
            i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| (n as i128, 0))
        } else {
            // Written the way TOML read it (shortest exact form), then taken as a decimal.
            text.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(|f| decimal(&f.to_string()))
        };
        let (n, s) = value.ok_or_else(|| {
            format!(
                "range `{key}` = {text} is not a decimal with at most 12 digits after the point"
            )
        })?;
        Ok((n, s, is_int))
    };
    let (from, fs, fi) = num("from")?;
    let (to, ts, ti) = num("to")?;
    let (step, ss, si) = num("step")?;
    let unit = match t.get("unit") {
        None => None,
        Some(v) => Some(
            v.get_ref()
                .as_str()
                .ok_or("range `unit` must be a string such as \"msl\" or \"s\"")?
                .to_string(),
        ),
    };
    let scale = fs.max(ts).max(ss);
    let up = |n: i128, s: u32| n * 10i128.pow(scale - s);
    let (from, to, step) = (up(from, fs), up(to, ts), up(step, ss));
    if step <= 0 {
        return Err("range `step` must be above zero".into());
    }
    if to < from {
        return Err(format!(
            "range `to` ({}) is below `from` ({})",
            format_decimal(to, scale),
            format_decimal(from, scale)
        ));
    }
    let count = (to - from) / step + 1;
    if count > MAX_RANGE_VALUES as i128 {
        return Err(format!(
            "the range has {count} values; at most {MAX_RANGE_VALUES} are allowed"
        ));
    }
    let all_int = fi && ti && si;
    Ok((0..count)
        .map(|i| {
            let n = from + i * step;
            let text = format_decimal(n, scale);
            match &unit {
                Some(u) => toml::Value::String(format!("{text}{u}")),
                None if all_int => toml::Value::Integer(n as i64),
                None => toml::Value::Float(text.parse().unwrap_or(f64::NAN)),
            }
        })
        .collect())
}

/// The source with every `[sweep]`/`[sweep.*]` section replaced by spaces (line breaks kept).
/// `None` if the sweep table is not written with table headers.
fn blank_sweep(source: &str, root: &DeTable<'_>, sweep: &Spanned<DeValue<'_>>) -> Option<String> {
    let mut headers = Vec::new();
    for (_, v) in root.iter() {
        collect_headers(source, v, &mut headers);
    }
    let mut sweep_headers = Vec::new();
    collect_headers(source, sweep, &mut sweep_headers);
    if sweep_headers.is_empty() {
        return None;
    }
    headers.sort_unstable();
    headers.dedup();
    let mut bytes = source.as_bytes().to_vec();
    for start in sweep_headers {
        let end = headers
            .iter()
            .copied()
            .find(|&h| h > start)
            .unwrap_or(source.len());
        for b in &mut bytes[start..end] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    // Blanking whole sections from one header to the next keeps UTF-8 valid: every
    // multi-byte character inside becomes spaces, and the boundaries are ASCII ('[').
    String::from_utf8(bytes).ok()
}

/// Start offsets of the `[table]` and `[[array]]` headers that define `v` and its sub-tables.
fn collect_headers(source: &str, v: &Spanned<DeValue<'_>>, out: &mut Vec<usize>) {
    let span = v.span();
    let is_header = source.get(span.clone()).is_some_and(|s| s.starts_with('['));
    match v.get_ref() {
        DeValue::Table(t) => {
            if is_header {
                out.push(span.start);
            }
            for (_, c) in t.iter() {
                collect_headers(source, c, out);
            }
        }
        // An array of tables: each element has its own `[[name]]` header.
        DeValue::Array(items) if source.get(span).is_some_and(|s| s.starts_with("[[")) => {
            for item in items {
                collect_headers(source, item, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[simulation]\nduration = \"1s\"\n";

    fn spec(sweep: &str) -> Result<SweepSpec, SweepError> {
        SweepSpec::parse("t", "t.toml", &format!("{BASE}{sweep}"))
    }

    #[test]
    fn ranges_expand_to_exact_decimals() {
        let s = spec("[sweep]\nseeds = 3\n[sweep.parameters]\n\"tcp.time_wait\" = { from = 0, to = 2.5, step = 0.25, unit = \"msl\" }\n\"link.0.loss\" = { from = 0.1, to = 0.3, step = 0.1 }\n\"tcp.mss\" = { from = 500, to = 1500, step = 500 }\n").unwrap();
        assert_eq!(s.seeds, vec![1, 2, 3]);
        let labels: Vec<String> = (0..s.parameters[0].values.len())
            .map(|i| s.parameters[0].label(i))
            .collect();
        assert_eq!(
            labels,
            [
                "0msl", "0.25msl", "0.5msl", "0.75msl", "1msl", "1.25msl", "1.5msl", "1.75msl",
                "2msl", "2.25msl", "2.5msl"
            ]
        );
        assert_eq!(
            s.parameters[1].values,
            vec![
                toml::Value::Float(0.1),
                toml::Value::Float(0.2),
                toml::Value::Float(0.3)
            ]
        );
        assert_eq!(
            s.parameters[2].values,
            vec![
                toml::Value::Integer(500),
                toml::Value::Integer(1000),
                toml::Value::Integer(1500)
            ]
        );
        assert_eq!(s.x, Some(0));
        assert_eq!(s.grid_len(), 11 * 3 * 3);
        assert_eq!(s.grid()[1], vec![0, 0, 1]);
    }

    #[test]
    fn the_sweep_table_is_blanked_in_place() {
        let src = format!(
            "{BASE}[sweep]\nseeds = [4, 9]\nx = \"tcp.isn\"\n[sweep.parameters]\n\"tcp.isn\" = [\"random\", {{ fixed = 1000 }}]\n\n[tcp]\nmsl = \"1s\"\n"
        );
        let s = SweepSpec::parse("t", "t.toml", &src).unwrap();
        assert_eq!(s.base_source.len(), src.len());
        assert_eq!(s.base_source.lines().count(), src.lines().count());
        assert!(!s.base_source.contains("sweep") && s.base_source.contains("[tcp]\nmsl"));
        assert_eq!(s.seeds, vec![4, 9]);
        let s = SweepSpec::parse("t", "t.toml", &src.replace("[4, 9]", "[9, 4]")).unwrap();
        assert_eq!(s.seeds, vec![4, 9]);
        assert_eq!(s.parameters[0].label(1), "{ fixed = 1000 }");
    }

    #[test]
    fn axis_labels_are_read_and_checked() {
        let sweep = "[sweep]\nx = \"app.0.rate\"\nx_label = \" connection rate (connections/s) \"\nmetrics = [\"peak_time_wait\", \"connect_failed\"]\ny_label = { connect_failed = \"failed connects\" }\n[sweep.parameters]\n\"app.0.rate\" = [1, 2]\n";
        let s = spec(sweep).unwrap();
        assert_eq!(
            s.x_label.as_deref(),
            Some("connection rate (connections/s)")
        );
        assert_eq!(
            s.y_labels,
            vec![("connect_failed".to_string(), "failed connects".to_string())]
        );
        let s = spec("[sweep]\n[sweep.parameters]\n\"tcp.msl\" = [\"1s\"]\n").unwrap();
        assert_eq!((s.x_label, s.y_labels), (None, vec![]));

        // A wrong type is located at its line, with the field named.
        let e = spec("[sweep]\nseeds = 2\nx_label = 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.toml:5:11:")
                && e.contains("`sweep.x_label`")
                && e.contains("expected a string"),
            "{e}"
        );
        let e = spec("[sweep]\nmetrics = [\"connections\"]\ny_label = \"connections\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.toml:5:")
                && e.contains("`sweep.y_label`")
                && e.contains("metric = label"),
            "{e}"
        );
        let e = spec("[sweep]\nmetrics = [\"connections\"]\ny_label = { connections = 7 }\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expected a string: the y axis label of `connections`"),
            "{e}"
        );
        let e = spec("[sweep]\nmetrics = [\"connections\"]\ny_label = { conections = \"n\" }\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not a chosen metric") && e.contains("did you mean `connections`"),
            "{e}"
        );
        let e = spec("[sweep]\nx_label = \"  \"\n").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = spec("[sweep]\nx_lable = \"rate\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `x_label`"), "{e}");
    }

    #[test]
    fn mistakes_are_located_and_named() {
        let e = spec("[sweep]\nseed = 3\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.toml:4:1:") && e.contains("did you mean `seeds`"),
            "{e}"
        );
        let e =
            spec("[sweep]\nx = \"tcp.isn\"\n[sweep.parameters]\n\"tcp.time_wait\" = [\"1s\"]\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("`tcp.isn` is not a swept parameter"), "{e}");
        let e = spec("[sweep.parameters]\n\"tcp.time_wait\" = { from = 1, to = 0, step = 1 }\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("below `from`"), "{e}");
        let e = spec("[sweep.parameters]\n\"simulation.seed\" = [1, 2]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("seeds"), "{e}");
        let e = SweepSpec::parse("t", "t.toml", &format!("sweep = {{ seeds = 2 }}\n{BASE}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("table header"), "{e}");
        let e = spec("[sweep]\nseeds = 0\n").unwrap_err().to_string();
        assert!(e.contains("from 1"), "{e}");
        assert!(
            spec("")
                .unwrap_err()
                .to_string()
                .contains("missing [sweep]")
        );
    }
}
