//! Parameter sweeps: one scenario run over a grid of parameter values times a set of seeds, in
//! parallel, with tables, a figure and a manifest that are byte-identical whatever the thread
//! count, and shards that merge into exactly the files a single run writes.
//!
//! A sweep file is a scenario file plus a `[sweep]` table (see [`SweepSpec`]). Each grid point
//! is applied by editing the parsed TOML document and re-parsing it with
//! [`scenario::parse`], so every value passes the normal checks.

mod edit;
mod exec;
mod figure;
mod manifest;
mod merge;
pub mod metric;
mod plan;
pub mod set;
mod spec;
pub mod stats;
mod table;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use exec::{RunOutcome, RunResult, execute, run_measured, run_one};
pub use figure::{chart, charts};
pub use manifest::{STATISTICS, SweepManifest};
pub use merge::merge;
pub use plan::{GridPoint, Plan};
pub use spec::{Parameter, SweepSpec, label};
pub use table::{
    MetricStats, OUTCOME_COLUMNS, SUMMARY_COLUMNS, SummaryRow, metric_summary_columns, read_runs,
    runs_header, summarize,
};

use crate::report::{MARKER, OutDir, StagedDir, html};
use crate::scenario::bundled;
pub use set::Override;

use crate::report::plot::{Formats, Style, save};
use crate::scenario::{self, Scenario, ScenarioError};

/// Why a sweep or a merge failed.
#[derive(Debug)]
pub enum SweepError {
    /// The sweep file, a parameter value, the shard or the folders to merge are wrong.
    Input(String),
    /// A run could not be carried out.
    Run(String),
    /// A file could not be written.
    Io(PathBuf, io::Error),
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepError::Input(m) | SweepError::Run(m) => f.write_str(m),
            SweepError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for SweepError {}

/// Which part of the run list to run: runs whose index i has i mod `count` = `index` - 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number K.
    pub index: u64,
    /// Number of shards N.
    pub count: u64,
}

impl Shard {
    /// The whole sweep (1/1).
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Whether run `run` belongs to this shard.
    pub fn contains(&self, run: usize) -> bool {
        run as u64 % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("invalid shard `{s}`: expected K/N with 1 <= K <= N, e.g. 3/8");
        let (k, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// What the command line may choose about a sweep; none of it changes a byte of the results.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Worker threads; all cores if `None`.
    pub jobs: Option<usize>,
    /// Output folder; `output/<sweep name>` by default.
    pub out: Option<PathBuf>,
    /// The part of the runs to do.
    pub shard: Shard,
}

impl Default for SweepOptions {
    fn default() -> SweepOptions {
        SweepOptions {
            jobs: None,
            out: None,
            shard: Shard::ALL,
        }
    }
}

/// What a finished sweep (or merge) wrote.
#[derive(Debug)]
pub struct SweepOutput {
    /// The folder.
    pub dir: PathBuf,
    /// The runs done (a shard's only), in run order.
    pub results: Vec<RunResult>,
    /// Per grid point statistics (whole sweeps only).
    pub summary: Option<Vec<SummaryRow>>,
}

/// A scenario or sweep file's text: a file on disk, or a bundled scenario.
#[derive(Clone, Debug)]
pub struct Source {
    /// The stem: the default output folder's name.
    pub name: String,
    /// The file as named on the command line (a bundled scenario's name), for messages.
    pub file: String,
    /// The text.
    pub text: String,
}

impl Source {
    /// `arg` as an existing file, else as a bundled scenario's name (`routing_loop`, or
    /// `routing_loop.toml`); only a file hides a bundled name, so a folder `routing_loop` (an
    /// output folder) does not. The error says what was tried.
    pub fn find(arg: &Path) -> Result<Source, ScenarioError> {
        if arg.is_file() {
            return Source::read(arg);
        }
        let shown = arg.display().to_string();
        let plain = arg.components().count() == 1;
        let name = arg
            .file_stem()
            .filter(|_| plain && arg.extension().is_none_or(|x| x == "toml"))
            .map(|s| s.to_string_lossy().into_owned());
        if let Some(text) = name.as_deref().and_then(bundled::get) {
            return Ok(Source {
                name: name.clone().unwrap_or_default(),
                file: name.unwrap_or_default(),
                text: text.to_string(),
            });
        }
        let hint = name
            .as_deref()
            .and_then(|n| scenario::nearest(n, bundled::BUNDLED.iter().map(|(b, _)| *b)))
            .map(|b| format!(" (did you mean `{b}`?)"))
            .unwrap_or_default();
        let what = if arg.exists() {
            "is not a file"
        } else {
            "no such file"
        };
        Err(ScenarioError {
            location: None,
            file: shown,
            field: String::new(),
            message: format!(
                "{what}, and no bundled scenario has that name{hint}; `timewait list` names them"
            ),
        })
    }

    /// The file at `path`.
    pub fn read(path: &Path) -> Result<Source, ScenarioError> {
        Ok(Source {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into()),
            file: path.display().to_string(),
            text: scenario::locate::read_source(path)?,
        })
    }
}

/// Reads a sweep file and checks its base scenario (with `sets` applied), each parameter
/// value and each grid point.
pub fn load(src: &Source, sets: &[Override]) -> Result<Plan, SweepError> {
    let spec = SweepSpec::parse(&src.name, &src.file, &src.text)?;
    Plan::new(
        spec.with_overrides(sets)
            .map_err(|e| SweepError::Input(e.to_string()))?,
    )
}

/// Reads the sweep file at `path` and plans it, without overrides.
pub fn load_file(path: &Path) -> Result<Plan, SweepError> {
    let src = Source::read(path).map_err(|e| SweepError::Input(e.to_string()))?;
    load(&src, &[])
}

/// The plan of a sweep folder: its copy of the sweep file (`sweep.toml`) with the overrides
/// its manifest records.
pub fn folder_plan(dir: &Path) -> Result<Plan, SweepError> {
    let input = |m: String| SweepError::Input(m);
    let path = dir.join("manifest.toml");
    let text = fs::read_to_string(&path)
        .map_err(|e| input(format!("cannot read {}: {e}", path.display())))?;
    let manifest: SweepManifest = toml::from_str(&text)
        .map_err(|e| input(format!("{}: {}", path.display(), e.message().trim_end())))?;
    let sets = set::parse_all(&manifest.overrides).map_err(input)?;
    let src = Source::read(&dir.join("sweep.toml")).map_err(|e| input(e.to_string()))?;
    load(&src, &sets)
}

/// Loads a scenario for `timewait run`, with `sets` applied; a sweep file gives its base
/// scenario (line numbers kept), once its `[sweep]` table parses.
pub fn load_scenario(src: &Source, sets: &[Override]) -> Result<Scenario, ScenarioError> {
    prepare(src, sets, false).map(|(s, _)| s)
}

/// [`load_scenario`] of the file at `path`, without overrides.
pub fn load_scenario_file(path: &Path) -> Result<Scenario, ScenarioError> {
    load_scenario(&Source::read(path)?, &[])
}

/// Checks a file as `timewait check` does: a scenario, or a sweep file's base scenario and
/// then every grid point, planned as `timewait sweep` plans them (the plan is returned).
pub fn check(src: &Source, sets: &[Override]) -> Result<(Scenario, Option<Plan>), ScenarioError> {
    prepare(src, sets, true)
}

fn prepare(
    src: &Source,
    sets: &[Override],
    plan: bool,
) -> Result<(Scenario, Option<Plan>), ScenarioError> {
    let (name, file, source) = (&src.name, &src.file, &src.text);
    if !is_sweep(source) {
        let s = scenario::parse(name, file, source)?;
        return Ok((set::apply(s, sets)?, None));
    }
    // A mistake inside [sweep] is reported as such, not as "unknown field `sweep`".
    let spec = SweepSpec::parse_located(name, file, source)?.with_overrides(sets)?;
    let mut s = scenario::parse(name, file, &spec.base_source)?;
    // The manifest hashes the file as it is, [sweep] table included.
    s.source = source.clone();
    let plan = if plan {
        Some(Plan::new_located(spec)?)
    } else {
        None
    };
    Ok((s, plan))
}

/// Whether `source` is a sweep file: TOML with a top-level `sweep` table.
pub fn is_sweep(source: &str) -> bool {
    toml::de::DeTable::parse(source).is_ok_and(|root| root.get_ref().contains_key("sweep"))
}

/// The default output folder of a sweep.
pub fn default_out(plan: &Plan) -> PathBuf {
    Path::new("output").join(&plan.spec.name)
}

/// Runs `opts.shard` of the sweep and writes its folder.
pub fn run(plan: &Plan, opts: &SweepOptions) -> Result<SweepOutput, SweepError> {
    let indices: Vec<usize> = (0..plan.run_count())
        .filter(|&i| opts.shard.contains(i))
        .collect();
    let target = opts.out.clone().unwrap_or_else(|| default_out(plan));
    // Resolved and checked before the runs, so a long sweep is not refused only at the end.
    let out = resolve_out(&target)?;
    let results = execute(plan, &indices, opts.jobs)?;
    write(plan, results, opts.shard, &out)
}

/// Writes a sweep folder: `sweep.toml` (the sweep file), `runs.csv`, and for a whole sweep
/// `summary.csv` and `sweep.svg`/`.png`/`.pdf`, then `manifest.toml`; staged, then renamed
/// into place.
pub(crate) fn write(
    plan: &Plan,
    results: Vec<RunResult>,
    shard: Shard,
    out: &OutDir,
) -> Result<SweepOutput, SweepError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e: io::Error| SweepError::Io(p, e)
    };
    let target = out.shown();
    let stage = StagedDir::create(out).map_err(io_err(target))?;
    let mut files = vec![MARKER.to_string()];
    let mut put = |name: &str, f: &dyn Fn(&Path) -> io::Result<()>| {
        let path = stage.file(name);
        f(&path).map_err(io_err(&path))?;
        files.push(name.to_string());
        Ok::<(), SweepError>(())
    };
    put("sweep.toml", &|p| fs::write(p, &plan.spec.source))?;
    put("runs.csv", &|p| table::write_runs(p, plan, &results))?;
    let summary = if shard.count == 1 {
        let rows = summarize(plan, &results);
        put("summary.csv", &|p| table::write_summary(p, plan, &rows))?;
        for (stem, fig) in charts(plan, &rows) {
            let base = stage.file(&stem);
            let written = save(&base, &Style::default(), &fig, Formats::ALL)
                .map_err(|e| io_err(&base)(e.into()))?;
            files.extend(written.into_iter().map(|ext| format!("{stem}.{ext}")));
        }
        Some(rows)
    } else {
        None
    };
    if let Some(rows) = &summary {
        let path = stage.file(html::REPORT);
        let text = format!(
            "{}: {} grid points x {} seeds = {} runs\n\n{}",
            plan.spec.name,
            plan.points.len(),
            plan.spec.seeds.len(),
            plan.run_count(),
            render_summary(plan, rows)
        );
        html::folder_report(
            &format!("timewait sweep {}", plan.spec.name),
            &text,
            None,
            None,
            stage.dir(),
            &files,
        )
        .and_then(|page| fs::write(&path, page))
        .map_err(io_err(&path))?;
        files.push(html::REPORT.into());
    }
    files.push("manifest.toml".into());
    let manifest = SweepManifest::new(plan, shard, results.len() as u64, files);
    let path = stage.file("manifest.toml");
    fs::write(&path, manifest.to_toml()).map_err(io_err(&path))?;
    let dir = stage.commit().map_err(io_err(target))?;
    Ok(SweepOutput {
        dir,
        results,
        summary,
    })
}

/// Resolves an output folder once, refusing one that is not timewait's to replace.
pub(crate) fn resolve_out(target: &Path) -> Result<OutDir, SweepError> {
    OutDir::resolve(target).map_err(|e| SweepError::Input(e.to_string()))
}

/// The summary as a text table for the terminal: one line per grid point.
pub fn render_summary(plan: &Plan, rows: &[SummaryRow]) -> String {
    let mut header: Vec<String> = plan
        .spec
        .parameters
        .iter()
        .map(|p| p.path.clone())
        .collect();
    if let Some(metrics) = &plan.spec.metrics {
        header.extend(metrics.iter().map(|m| {
            if m.is_proportion() {
                format!("{} (95% Wilson)", m.name)
            } else {
                format!("{} mean (95% t)", m.name)
            }
        }));
    } else {
        header.push("corrupted runs (95% Wilson interval)".into());
        header.push("mean corrupted bytes".into());
    }
    let mut lines = vec![header];
    for r in rows {
        let mut line = plan.labels(r.grid);
        if let Some(metrics) = &plan.spec.metrics {
            for (m, s) in metrics.iter().zip(&r.metrics) {
                line.push(if !s.value.is_finite() {
                    "-".to_string()
                } else if m.is_proportion() {
                    format!("{}/{} = {:.2} ({:.2}-{:.2})", s.k, s.n, s.value, s.lo, s.hi)
                } else if s.lo.is_finite() {
                    format!("{} ({}-{})", short(s.value), short(s.lo), short(s.hi))
                } else {
                    short(s.value)
                });
            }
            lines.push(line);
            continue;
        }
        line.push(format!(
            "{}/{} = {:.2} ({:.2}-{:.2})",
            r.corrupted_runs, r.runs, r.proportion, r.wilson.0, r.wilson.1
        ));
        line.push(format!("{:.1}", r.bytes.0));
        lines.push(line);
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in lines {
        let cells: Vec<String> = l
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A mean for the terminal: four significant figures or so.
fn short(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.trunc() {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.6}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition_the_runs() {
        let s: Shard = "2/3".parse().unwrap();
        assert_eq!(s, Shard { index: 2, count: 3 });
        assert_eq!(s.to_string(), "2/3");
        assert!(s.contains(1) && s.contains(4) && !s.contains(0) && !s.contains(2));
        for bad in ["0/3", "4/3", "1/0", "x/2", "3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let all = Shard::ALL;
        assert!((0..10).all(|i| all.contains(i)));
    }
}
