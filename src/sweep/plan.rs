//! A sweep's plan: every grid point turned into a checked scenario, and the run list.

use crate::net::NodeKind;
use crate::scenario::{self, Scenario, ScenarioError, Warning};

use super::SweepError;
use super::edit;
use super::set::Override;
use super::spec::SweepSpec;

/// One grid point: a value per parameter, and the scenario they make.
#[derive(Clone, Debug)]
pub struct GridPoint {
    /// Index into each parameter's values.
    pub values: Vec<usize>,
    /// The base scenario with those values applied, checked by the scenario parser.
    pub scenario: Scenario,
    /// Position on the figure's x axis.
    pub x: f64,
}

/// Everything needed to run a sweep or rebuild its tables.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The sweep file.
    pub spec: SweepSpec,
    /// Grid points in run order.
    pub points: Vec<GridPoint>,
    /// The x axis' description.
    pub x_label: String,
    /// True when x is TIME_WAIT / MSL (the figure then marks MSL and 2 x MSL).
    pub x_is_time_wait: bool,
    /// The base scenario's warnings (loops at t = 0 and the like).
    pub warnings: Vec<Warning>,
}

/// Grid points a sweep may have at most.
pub const MAX_GRID_POINTS: u64 = 100_000;

/// Runs a sweep may have at most.
pub const MAX_RUNS: u64 = 10_000_000;

impl Plan {
    /// Checks the base scenario, each parameter value alone, then each grid point.
    pub fn new(spec: SweepSpec) -> Result<Plan, SweepError> {
        Plan::new_located(spec).map_err(|e| SweepError::Input(e.to_string()))
    }

    /// [`Plan::new`], with the error as a [`ScenarioError`] (file, line, column, field).
    pub fn new_located(spec: SweepSpec) -> Result<Plan, ScenarioError> {
        let base = scenario::parse(&spec.name, &spec.file, &spec.base_source)?;
        let at = |span: std::ops::Range<usize>, field: &str, message: String| {
            ScenarioError::at(&spec.file, &spec.source, Some(span), field, message)
        };
        let grid_len = spec.grid_len();
        let runs = grid_len.saturating_mul(spec.seeds.len() as u64);
        if grid_len > MAX_GRID_POINTS {
            // Blame the parameter whose values first take the grid past the limit.
            let mut n = 1u64;
            let culprit = spec.parameters.iter().find(|p| {
                n = n.saturating_mul(p.values.len() as u64);
                n > MAX_GRID_POINTS
            });
            let (span, field) = culprit.map_or((spec.seeds_span.clone(), "sweep".into()), |p| {
                (p.span.clone(), format!("sweep.parameters.\"{}\"", p.path))
            });
            return Err(at(
                span,
                &field,
                format!(
                    "the sweep has {grid_len} grid points (the product of the parameters' value counts); at most {MAX_GRID_POINTS} are allowed"
                ),
            ));
        }
        if runs > MAX_RUNS {
            return Err(at(
                spec.seeds_span.clone(),
                "sweep.seeds",
                format!(
                    "the sweep has {grid_len} grid points x {} seeds = {runs} runs; at most {MAX_RUNS} are allowed",
                    spec.seeds.len()
                ),
            ));
        }
        // The base scenario parsed, so only what a plain TOML value cannot hold fails here
        // (an integer above i64::MAX, such as a huge seed).
        let doc: toml::Table = toml::from_str(&spec.base_source).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let field = scenario::locate::field_at(&spec.source, span.start);
            at(
                span,
                &field,
                format!("{} (a sweep file's values must fit the sweep's TOML values: integers up to {})", e.message().trim_end(), i64::MAX),
            )
        })?;

        // Each value alone first, so an error names the one parameter and value at fault.
        for p in &spec.parameters {
            for v in &p.values {
                let where_ = |msg: String| {
                    at(
                        p.span.clone(),
                        &format!("sweep.parameters.\"{}\"", p.path),
                        format!("value {}: {msg}", quoted(v)),
                    )
                };
                let mut d = doc.clone();
                edit::set(&mut d, &p.path, v.clone()).map_err(where_)?;
                check(&spec, &d).map_err(|e| where_(describe(&e)))?;
            }
        }

        let mut points = Vec::new();
        for values in spec.grid() {
            let mut d = doc.clone();
            for (p, &i) in spec.parameters.iter().zip(&values) {
                if let Some(v) = p.values.get(i) {
                    edit::set(&mut d, &p.path, v.clone()).map_err(|m| {
                        at(
                            p.span.clone(),
                            &format!("sweep.parameters.\"{}\"", p.path),
                            format!("value {}: {m}", quoted(v)),
                        )
                    })?;
                }
            }
            let scenario = check(&spec, &d).map_err(|e| {
                let point: Vec<String> = spec
                    .parameters
                    .iter()
                    .zip(&values)
                    .map(|(p, &i)| {
                        format!(
                            "{} = {}",
                            p.path,
                            p.values.get(i).map(quoted).unwrap_or_default()
                        )
                    })
                    .collect();
                // Located at the last parameter's key: the values only fail together.
                let (span, field) = spec
                    .parameters
                    .last()
                    .map_or((spec.seeds_span.clone(), "sweep".to_string()), |p| {
                        (p.span.clone(), format!("sweep.parameters.\"{}\"", p.path))
                    });
                at(
                    span,
                    &field,
                    format!("grid point {}: {}", point.join(", "), describe(&e)),
                )
            })?;
            points.push(GridPoint {
                values,
                scenario,
                x: 0.0,
            });
        }

        let (x_label, x_is_time_wait) = place_on_x(&spec, &mut points);
        // The file's own words win over the ones derived from the parameter.
        let x_label = spec.x_label.clone().unwrap_or(x_label);
        Ok(Plan {
            spec,
            points,
            x_label,
            x_is_time_wait,
            warnings: base.warnings,
        })
    }

    /// Number of runs: grid points x seeds.
    pub fn run_count(&self) -> usize {
        self.points.len() * self.spec.seeds.len()
    }

    /// Grid point and seed of run `index` (runs are ordered by grid point, then seed).
    pub fn run_at(&self, index: usize) -> Option<(usize, u64)> {
        let n = self.spec.seeds.len();
        let grid = index.checked_div(n)?;
        (grid < self.points.len()).then(|| (grid, self.spec.seeds[index % n]))
    }

    /// The overrides that make run `index` a plain `timewait run`: the sweep's own `--set`s,
    /// then the grid point's parameter values; with its seed.
    pub fn run_overrides(&self, index: usize) -> Option<(Vec<Override>, u64)> {
        let (grid, seed) = self.run_at(index)?;
        let point = self.points.get(grid)?;
        let mut sets = self.spec.overrides.clone();
        for (p, &i) in self.spec.parameters.iter().zip(&point.values) {
            sets.push(Override {
                path: p.path.clone(),
                value: p.values.get(i)?.clone(),
            });
        }
        Some((sets, seed))
    }

    /// The labels of grid point `grid`'s parameter values, in parameter order.
    pub fn labels(&self, grid: usize) -> Vec<String> {
        match self.points.get(grid) {
            Some(pt) => self
                .spec
                .parameters
                .iter()
                .zip(&pt.values)
                .map(|(p, &i)| p.label(i))
                .collect(),
            None => Vec::new(),
        }
    }
}

/// A value as written in TOML, for messages (strings keep their quotes).
fn quoted(v: &toml::Value) -> String {
    v.to_string()
}

/// A scenario error found in an edited document: its field and message, without the position
/// (which points into the re-written text, not the user's file).
fn describe(e: &ScenarioError) -> String {
    if e.field.is_empty() {
        e.message.clone()
    } else {
        format!("error in `{}`: {}", e.field, e.message)
    }
}

/// Writes the edited document back to TOML and checks it with the scenario parser.
fn check(spec: &SweepSpec, doc: &toml::Table) -> Result<Scenario, ScenarioError> {
    let text = toml::to_string(doc).map_err(|e| ScenarioError {
        location: None,
        file: spec.file.clone(),
        field: String::new(),
        message: format!("cannot write the edited scenario: {e}"),
    })?;
    scenario::parse(&spec.name, &spec.file, &text)
}

/// Sets each point's x and returns the axis label. TIME_WAIT is shown as a multiple of MSL
/// (from each point's own configuration); other parameters as numbers, durations in seconds,
/// or, failing all, the value's position in its list.
fn place_on_x(spec: &SweepSpec, points: &mut [GridPoint]) -> (String, bool) {
    let Some(xi) = spec.x else {
        return ("grid point".into(), false);
    };
    let Some(param) = spec.parameters.get(xi) else {
        return ("grid point".into(), false);
    };
    let path = param.path.as_str();
    let segs: Vec<&str> = path.split('.').collect();
    if segs.last() == Some(&"time_wait") {
        // `host.NAME.tcp.time_wait` reads that host; `tcp.time_wait` the first host.
        let host = (segs.first() == Some(&"host") && segs.len() == 4).then(|| segs[1]);
        for pt in points.iter_mut() {
            let hosts: Vec<_> = pt
                .scenario
                .config
                .nodes
                .iter()
                .filter(|n| n.kind == NodeKind::Host)
                .collect();
            let node = match host {
                Some(h) => hosts
                    .iter()
                    .find(|n| n.name == h)
                    .or_else(|| h.parse::<usize>().ok().and_then(|i| hosts.get(i))),
                None => hosts.first(),
            };
            pt.x = node.map_or(f64::NAN, |n| {
                n.tcp.time_wait.as_secs_f64() / n.tcp.msl.as_secs_f64()
            });
        }
        return ("TIME_WAIT / MSL".into(), true);
    }
    let numbers: Option<Vec<f64>> = param.values.iter().map(number).collect();
    let (xs, label) = if let Some(xs) = numbers {
        (xs, path.to_string())
    } else if let Some(xs) = param
        .values
        .iter()
        .map(seconds)
        .collect::<Option<Vec<f64>>>()
    {
        (xs, format!("{path} (s)"))
    } else if let Some(xs) = param.values.iter().map(msl).collect::<Option<Vec<f64>>>() {
        (xs, format!("{path} (x MSL)"))
    } else {
        let names: Vec<String> = (0..param.values.len()).map(|i| param.label(i)).collect();
        (
            (0..param.values.len()).map(|i| i as f64).collect(),
            format!("{path}: {}", numbered(&names)),
        )
    };
    for pt in points.iter_mut() {
        pt.x = pt
            .values
            .get(xi)
            .and_then(|&i| xs.get(i))
            .copied()
            .unwrap_or(f64::NAN);
    }
    (label, false)
}

/// "0 = a, 1 = b, ..." for categorical axes.
fn numbered(names: &[String]) -> String {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{i} = {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn seconds(v: &toml::Value) -> Option<f64> {
    v.as_str()?
        .parse::<crate::sim::Duration>()
        .ok()
        .map(|d| d.as_secs_f64())
}

fn msl(v: &toml::Value) -> Option<f64> {
    v.as_str()?.trim().strip_suffix("msl")?.trim().parse().ok()
}
