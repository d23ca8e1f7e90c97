//! `runs.csv` (one row per run) and `summary.csv` (one row per grid point).

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

use super::exec::{RunOutcome, RunResult};
use super::metric::Metric;
use super::plan::Plan;
use super::stats;
use crate::report::shell_word;

/// Columns of `runs.csv` after the parameters and the seed when no metrics are chosen.
pub const OUTCOME_COLUMNS: [&str; 7] = super::metric::DEFAULT;

/// Columns of `summary.csv` after the parameters.
pub const SUMMARY_COLUMNS: [&str; 12] = [
    "x",
    "runs",
    "corrupted_runs",
    "corrupted_proportion",
    "corrupted_wilson95_lo",
    "corrupted_wilson95_hi",
    "corrupted_bytes_mean",
    "corrupted_bytes_t95_lo",
    "corrupted_bytes_t95_hi",
    "lost_duplicates_mean",
    "connect_refused_mean",
    "connect_failures_mean",
];

/// The header of `runs.csv`: run, grid, each parameter's path, seed, then the outcomes.
pub fn runs_header(plan: &Plan) -> Vec<String> {
    let mut h = vec!["run".to_string(), "grid".to_string()];
    h.extend(plan.spec.parameters.iter().map(|p| p.path.clone()));
    h.push("seed".into());
    match &plan.spec.metrics {
        Some(metrics) => h.extend(metrics.iter().map(|m| m.name.clone())),
        None => h.extend(OUTCOME_COLUMNS.iter().map(|c| c.to_string())),
    }
    h.push("reproduce".into());
    h
}

/// The `timewait run` command that reproduces run `run` of `plan` in full (its seed and its
/// grid point's values as `--set`s): what `timewait sweep FILE --point RUN` runs.
pub fn reproduce(plan: &Plan, run: usize) -> String {
    let Some((sets, seed)) = plan.run_overrides(run) else {
        return String::new();
    };
    format!(
        "timewait run {} --seed {seed}{}",
        shell_word(&plan.spec.file),
        super::set::command_words(&sets)
    )
}

/// A metric's value as `runs.csv` writes it: a count, seconds with 9 decimals, or empty.
fn cell(m: &Metric, v: Option<u64>) -> String {
    match v {
        None => String::new(),
        Some(n) if m.is_duration() => format!("{}.{:09}", n / 1_000_000_000, n % 1_000_000_000),
        Some(n) => n.to_string(),
    }
}

/// Reads a cell back: the exact value [`cell`] wrote.
fn parse_cell(m: &Metric, text: &str) -> Result<Option<u64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || {
        format!(
            "`{text}` is not a {} in column {}",
            if m.is_duration() {
                "time in seconds"
            } else {
                "count"
            },
            m.name
        )
    };
    if m.is_duration() {
        let (s, ns) = text.split_once('.').ok_or_else(bad)?;
        if ns.len() != 9 || !ns.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let s: u64 = s.parse().map_err(|_| bad())?;
        let ns: u64 = ns.parse().map_err(|_| bad())?;
        s.checked_mul(1_000_000_000)
            .and_then(|v| v.checked_add(ns))
            .map(Some)
            .ok_or_else(bad)
    } else {
        text.parse::<u64>().map(Some).map_err(|_| bad())
    }
}

fn writer(path: &Path) -> io::Result<csv::Writer<BufWriter<File>>> {
    Ok(csv::Writer::from_writer(BufWriter::new(File::create(
        path,
    )?)))
}

/// Writes `runs.csv` with `results` (already in run order).
pub fn write_runs(path: &Path, plan: &Plan, results: &[RunResult]) -> io::Result<()> {
    let mut w = writer(path)?;
    w.write_record(runs_header(plan))?;
    for r in results {
        let o = &r.outcome;
        let mut row = vec![r.run.to_string(), r.grid.to_string()];
        row.extend(plan.labels(r.grid));
        row.push(r.seed.to_string());
        if let Some(metrics) = &plan.spec.metrics {
            row.extend(
                metrics
                    .iter()
                    .enumerate()
                    .map(|(i, m)| cell(m, o.values.get(i).copied().flatten())),
            );
            row.push(reproduce(plan, r.run));
            w.write_record(&row)?;
            continue;
        }
        row.extend(
            [
                u64::from(o.corrupted_bytes > 0),
                o.corrupted_bytes,
                o.lost_duplicates,
                o.connections,
                o.connect_refused,
                o.connect_failures,
                o.events,
            ]
            .map(|n| n.to_string()),
        );
        row.push(reproduce(plan, r.run));
        w.write_record(&row)?;
    }
    w.flush()
}

/// Reads a `runs.csv` written for `plan`, checking that every row matches the plan (its grid
/// point, seed and parameter values) so a merge cannot mix sweeps.
pub fn read_runs(path: &Path, plan: &Plan) -> Result<Vec<RunResult>, String> {
    let shown = path.display();
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| format!("cannot read {shown}: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let expected = runs_header(plan);
    if header != expected {
        return Err(format!(
            "{shown}: the columns are {} but this sweep writes {}",
            header.join(","),
            expected.join(",")
        ));
    }
    let params = plan.spec.parameters.len();
    let mut out = Vec::new();
    for (line, rec) in r.records().enumerate() {
        let at = format!("{shown}, row {}", line + 2);
        let rec = rec.map_err(|e| format!("{at}: {e}"))?;
        let field = |i: usize| rec.get(i).unwrap_or("");
        let int = |i: usize| -> Result<u64, String> {
            field(i).parse::<u64>().map_err(|_| {
                format!(
                    "{at}: `{}` is not a count in column {}",
                    field(i),
                    expected.get(i).map_or("?", |s| s.as_str())
                )
            })
        };
        let run = int(0)? as usize;
        let grid = int(1)? as usize;
        let seed = int(2 + params)?;
        let Some((g, s)) = plan.run_at(run) else {
            return Err(format!(
                "{at}: run {run} is beyond this sweep's {} runs",
                plan.run_count()
            ));
        };
        if (g, s) != (grid, seed) {
            return Err(format!(
                "{at}: run {run} should be grid point {g} with seed {s}, not grid point {grid} with seed {seed}"
            ));
        }
        let labels: Vec<&str> = (0..params).map(|i| field(2 + i)).collect();
        if labels != plan.labels(grid) {
            return Err(format!(
                "{at}: the parameter values {} are not grid point {grid}'s ({})",
                labels.join(", "),
                plan.labels(grid).join(", ")
            ));
        }
        let base = 3 + params;
        if let Some(metrics) = &plan.spec.metrics {
            let values = metrics
                .iter()
                .enumerate()
                .map(|(i, m)| parse_cell(m, field(base + i)).map_err(|e| format!("{at}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(RunResult {
                run,
                grid,
                seed,
                outcome: RunOutcome {
                    values,
                    ..RunOutcome::default()
                },
            });
            continue;
        }
        let o = RunOutcome {
            corrupted_bytes: int(base + 1)?,
            lost_duplicates: int(base + 2)?,
            connections: int(base + 3)?,
            connect_refused: int(base + 4)?,
            connect_failures: int(base + 5)?,
            events: int(base + 6)?,
            values: Vec::new(),
        };
        if int(base)? != u64::from(o.corrupted_bytes > 0) {
            return Err(format!(
                "{at}: `corrupted` disagrees with `corrupted_bytes`"
            ));
        }
        out.push(RunResult {
            run,
            grid,
            seed,
            outcome: o,
        });
    }
    Ok(out)
}

/// One grid point's statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// Grid point.
    pub grid: usize,
    /// Its place on the figure's x axis.
    pub x: f64,
    /// Runs (seeds).
    pub runs: u64,
    /// Runs in which at least one byte was corrupted.
    pub corrupted_runs: u64,
    /// Their proportion.
    pub proportion: f64,
    /// 95 % Wilson score interval of the proportion.
    pub wilson: (f64, f64),
    /// Mean corrupted bytes per run and its 95 % Student t interval (NaN for one run).
    pub bytes: (f64, f64, f64),
    /// Mean lost duplicates per run.
    pub lost_duplicates: f64,
    /// Mean refused connect() calls per run.
    pub connect_refused: f64,
    /// Mean failed connections per run.
    pub connect_failures: f64,
    /// With chosen metrics, each one's statistics, in the sweep's order.
    pub metrics: Vec<MetricStats>,
}

/// One chosen metric at one grid point.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricStats {
    /// Runs that have a value (all, except a latency when no request completed).
    pub n: u64,
    /// A proportion's successes (runs with value 1); 0 for a mean.
    pub k: u64,
    /// The proportion or the mean (durations in seconds); NaN without values.
    pub value: f64,
    /// Its 95 % interval: Wilson for a proportion, Student t for a mean (NaN for one value).
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// The largest value (durations in seconds); NaN without values.
    pub max: f64,
}

/// The statistics of `values` (one per run) of metric `m`.
fn metric_stats(m: &Metric, values: &[Option<u64>]) -> MetricStats {
    let vs: Vec<u64> = values.iter().flatten().copied().collect();
    let n = vs.len() as u64;
    if m.is_proportion() {
        let k = vs.iter().filter(|v| **v > 0).count() as u64;
        let (lo, hi) = stats::wilson(k, n);
        return MetricStats {
            n,
            k,
            value: if n == 0 {
                f64::NAN
            } else {
                k as f64 / n as f64
            },
            lo,
            hi,
            max: vs.iter().max().map_or(f64::NAN, |v| *v as f64),
        };
    }
    let scale = if m.is_duration() { 1e-9 } else { 1.0 };
    let xs: Vec<f64> = vs.iter().map(|v| *v as f64 * scale).collect();
    let (value, lo, hi) = stats::mean_ci(&xs).unwrap_or((f64::NAN, f64::NAN, f64::NAN));
    MetricStats {
        n,
        k: 0,
        value,
        lo,
        hi,
        max: xs.iter().copied().fold(f64::NAN, f64::max),
    }
}

/// Per grid point statistics from complete results in run order.
pub fn summarize(plan: &Plan, results: &[RunResult]) -> Vec<SummaryRow> {
    let mut by_grid: Vec<Vec<&RunOutcome>> = vec![Vec::new(); plan.points.len()];
    for r in results {
        if let Some(v) = by_grid.get_mut(r.grid) {
            v.push(&r.outcome);
        }
    }
    plan.points
        .iter()
        .zip(by_grid)
        .enumerate()
        .map(|(grid, (pt, rs))| {
            let n = rs.len() as u64;
            let k = rs.iter().filter(|o| o.corrupted_bytes > 0).count() as u64;
            let bytes: Vec<f64> = rs.iter().map(|o| o.corrupted_bytes as f64).collect();
            let mean = |f: fn(&RunOutcome) -> u64| {
                if n == 0 {
                    f64::NAN
                } else {
                    rs.iter().map(|o| f(o) as f64).sum::<f64>() / n as f64
                }
            };
            SummaryRow {
                grid,
                x: pt.x,
                runs: n,
                corrupted_runs: k,
                proportion: if n == 0 {
                    f64::NAN
                } else {
                    k as f64 / n as f64
                },
                wilson: stats::wilson(k, n),
                bytes: stats::mean_ci(&bytes).unwrap_or((f64::NAN, f64::NAN, f64::NAN)),
                lost_duplicates: mean(|o| o.lost_duplicates),
                connect_refused: mean(|o| o.connect_refused),
                connect_failures: mean(|o| o.connect_failures),
                metrics: plan
                    .spec
                    .metrics
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, m)| {
                        let values: Vec<Option<u64>> = rs
                            .iter()
                            .map(|o| o.values.get(i).copied().flatten())
                            .collect();
                        metric_stats(m, &values)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Fixed six decimals, or empty for a value that does not exist (NaN).
fn fixed(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.6}")
    } else {
        String::new()
    }
}

/// The columns of `summary.csv` after `grid` and the parameters, with chosen metrics: `x`,
/// `runs`, then per metric `M_runs` (runs where M holds), `M_proportion`, `M_wilson95_lo`,
/// `M_wilson95_hi` for a proportion, or `M_runs` (runs with a value), `M_mean`, `M_t95_lo`,
/// `M_t95_hi` for a mean.
pub fn metric_summary_columns(metrics: &[Metric]) -> Vec<String> {
    let mut h = vec!["x".to_string(), "runs".to_string()];
    for m in metrics {
        let n = &m.name;
        if m.is_proportion() {
            h.extend([
                format!("{n}_runs"),
                format!("{n}_proportion"),
                format!("{n}_wilson95_lo"),
                format!("{n}_wilson95_hi"),
            ]);
        } else {
            h.extend([
                format!("{n}_runs"),
                format!("{n}_mean"),
                format!("{n}_t95_lo"),
                format!("{n}_t95_hi"),
            ]);
        }
    }
    h
}

/// Writes `summary.csv`.
pub fn write_summary(path: &Path, plan: &Plan, rows: &[SummaryRow]) -> io::Result<()> {
    if let Some(metrics) = &plan.spec.metrics {
        return write_metric_summary(path, plan, metrics, rows);
    }
    let mut w = writer(path)?;
    let mut header = vec!["grid".to_string()];
    header.extend(plan.spec.parameters.iter().map(|p| p.path.clone()));
    header.extend(SUMMARY_COLUMNS.iter().map(|c| c.to_string()));
    w.write_record(&header)?;
    for r in rows {
        let mut row = vec![r.grid.to_string()];
        row.extend(plan.labels(r.grid));
        row.extend([
            if r.x.is_finite() {
                r.x.to_string()
            } else {
                String::new()
            },
            r.runs.to_string(),
            r.corrupted_runs.to_string(),
            fixed(r.proportion),
            fixed(r.wilson.0),
            fixed(r.wilson.1),
            fixed(r.bytes.0),
            fixed(r.bytes.1),
            fixed(r.bytes.2),
            fixed(r.lost_duplicates),
            fixed(r.connect_refused),
            fixed(r.connect_failures),
        ]);
        w.write_record(&row)?;
    }
    w.flush()
}

fn write_metric_summary(
    path: &Path,
    plan: &Plan,
    metrics: &[Metric],
    rows: &[SummaryRow],
) -> io::Result<()> {
    let mut w = writer(path)?;
    let mut header = vec!["grid".to_string()];
    header.extend(plan.spec.parameters.iter().map(|p| p.path.clone()));
    header.extend(metric_summary_columns(metrics));
    w.write_record(&header)?;
    for r in rows {
        let mut row = vec![r.grid.to_string()];
        row.extend(plan.labels(r.grid));
        row.push(if r.x.is_finite() {
            r.x.to_string()
        } else {
            String::new()
        });
        row.push(r.runs.to_string());
        for (m, s) in metrics.iter().zip(&r.metrics) {
            // A proportion's `M_runs` counts the runs where M holds (`corrupted_runs` as in the
            // default summary); a mean's, the runs that have a value.
            let count = if m.is_proportion() { s.k } else { s.n };
            row.extend([count.to_string(), fixed(s.value), fixed(s.lo), fixed(s.hi)]);
        }
        w.write_record(&row)?;
    }
    w.flush()
}
