//! The command line: thin wrappers over [`scenario`](crate::scenario) and [`run`](crate::run).

use crate::report::{self, plural};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use std::collections::BTreeSet;

use crate::report::figures::{self, FigureError, FigureOptions, FigureStage};
use crate::report::plot::{Formats, Style, save};
use crate::run::{self, RunOptions};
use crate::scenario::bundled;
use crate::scenario::{OutputSelection, Scenario};
use crate::sim::Duration;
use crate::sweep::{self, Override, Shard, Source, SweepError, SweepOptions};

/// Discrete-event network simulator that shows why TCP needs TIME_WAIT.
#[derive(Parser, Debug)]
#[command(name = "timewait", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario and write its outputs (summary, CSV files, netstat, pcap, figures).
    Run {
        /// Scenario file, or the name of a bundled scenario (see `timewait list`).
        file: PathBuf,
        /// Seed for every random stream (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: output/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Stop at this simulated time, e.g. "30s" (default: the scenario's duration).
        #[arg(long, value_parser = parse_duration)]
        until: Option<Duration>,
        /// Also print every host's sockets (netstat -tan) at this time; repeatable.
        #[arg(long = "netstat-at", value_parser = parse_duration)]
        netstat_at: Vec<Duration>,
        /// Change one parameter, with a sweep's paths: `tcp.time_wait=0s`,
        /// `host[client].tcp.isn=linux`, `link[0].delay=5ms`; repeatable, applied in order.
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
        set: Vec<Override>,
        /// Write only these outputs, whatever the scenario's [output] says: a comma-separated
        /// list of summary, connections, states, events, pcap, netstat, socket_counts, figures,
        /// or `all` or `none` (summary.txt, manifest.toml and report.html are always written).
        #[arg(long, value_name = "LIST", value_parser = parse_outputs)]
        outputs: Option<OutputSelection>,
        /// No progress display on stderr (a bar on a terminal, a line every 10 s otherwise).
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Fail (exit 1, nothing written) rather than run more than N events.
        #[arg(long = "max-events", value_name = "N")]
        max_events: Option<u64>,
        /// Fail (exit 1, nothing written) once the files hold more than SIZE, e.g. "2GB".
        #[arg(long = "max-output", value_name = "SIZE", value_parser = parse_size)]
        max_output: Option<u64>,
    },
    /// Check a scenario (or a sweep file, every grid point) without running it; errors name
    /// file, line, column and field.
    Check {
        /// Scenario file, or the name of a bundled scenario.
        file: PathBuf,
        /// Check with these overrides applied (as `run --set`).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
        set: Vec<Override>,
    },
    /// List the bundled scenarios (compiled into timewait), one line each.
    List {
        /// List the scenario files of this folder instead.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print a bundled scenario, to copy and edit: `timewait show routing_loop > mine.toml`.
    Show {
        /// The bundled scenario's name (see `timewait list`).
        name: String,
    },
    /// Run a parameter sweep: a scenario over a grid of parameter values x seeds, in parallel.
    ///
    /// A sweep file is a scenario file plus a [sweep] table:
    ///
    ///   [sweep]
    ///   seeds = 20                  # seeds 1..=20, or a list [1, 5, 9]
    ///   x = "tcp.time_wait"         # the figure's x axis
    ///   [sweep.parameters]
    ///   "tcp.time_wait" = ["0s", "0.5msl", "1msl", "2msl"]
    ///   "host.client.tcp.isn" = ["rfc793-clock", "random", { fixed = 1000 }]
    ///   "link.2.delay" = { from = 100, to = 200, step = 50, unit = "ms" }
    ///
    /// Paths are dotted TOML paths into the scenario; `host.NAME` picks the [[host]] with that
    /// name, `link.2` the third [[link]]. Every grid point is checked like a scenario before
    /// anything runs. Writes runs.csv, summary.csv, sweep.svg, sweep.png, manifest.toml and a
    /// copy of the sweep file (sweep.toml) to output/<sweep name>/; the files are the same
    /// bytes whatever --jobs is. With --shard K/N only runs K-1, K-1+N, ... are done, and only
    /// runs.csv, sweep.toml and manifest.toml are written; join the shards with `timewait merge`.
    Sweep {
        /// Sweep file, or the name of a bundled sweep (e.g. sweep_time_wait).
        file: PathBuf,
        /// Worker threads (default: all cores); the output does not depend on it.
        #[arg(long, short = 'j', value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Output folder (default: output/<sweep name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only shard K of N, e.g. 3/8: the runs whose index is K-1 mod N.
        #[arg(long, value_parser = parse_shard, conflicts_with = "point")]
        shard: Option<Shard>,
        /// Change the base scenario before the grid's values (as `run --set`); repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
        set: Vec<Override>,
        /// Run only run K (the `run` column of runs.csv) and write its complete run folder
        /// (summary, events, pcap, figures), the bytes `timewait run` writes with the
        /// `--seed` and `--set` arguments runs.csv gives for K.
        #[arg(long, value_name = "K")]
        point: Option<usize>,
    },
    /// Redraw the figures of a run's or a sweep's output folder from its CSV files.
    ///
    /// A run's folder gets ladder, timeseq, states and socket_counts (.svg, .png and .pdf)
    /// from whichever of events.csv, states.csv, connections.csv and socket_counts.csv it
    /// holds; a sweep's folder (sweep.toml and runs.csv) gets sweep.svg, .png and .pdf. Without
    /// options the figures are the bytes `timewait run` and `timewait sweep` write; with the
    /// options of a scenario's [figures] table they are the bytes such a run writes. Nothing is written unless every
    /// figure could be drawn; errors name the file and line.
    Plot {
        /// Output folder of `timewait run` or `timewait sweep`.
        dir: PathBuf,
        /// Draw only what happened from this time on: seconds (1.5) or a duration ("1500ms").
        #[arg(long, value_name = "T", value_parser = figures::select::parse_time)]
        from: Option<u64>,
        /// Draw only what happened until this time: seconds (3) or a duration ("3s").
        #[arg(long, value_name = "T", value_parser = figures::select::parse_time)]
        to: Option<u64>,
        /// Draw only this connection (as connections.csv names it, e.g. client#2) and its
        /// peer; repeatable.
        #[arg(long = "conn", value_name = "ID", value_parser = parse_conn)]
        conn: Vec<String>,
        /// Draw only these hosts' packets, sockets and counts: a comma-separated list.
        #[arg(long, value_name = "A,B")]
        hosts: Option<String>,
        /// File formats: a comma-separated list of svg, png, pdf (default all three).
        #[arg(long, value_name = "LIST", value_parser = Formats::parse)]
        format: Option<Formats>,
        /// Figure width in pixels (default 800).
        #[arg(long, value_name = "PX", value_parser = figures::select::parse_width)]
        width: Option<u32>,
        /// Draw only these figures: a comma-separated list of ladder, timeseq, states,
        /// socket_counts.
        #[arg(long, value_name = "LIST", value_parser = parse_only)]
        only: Option<BTreeSet<String>>,
    },
    /// Join the shard folders of one sweep into the files a whole sweep writes.
    ///
    /// Checks that the folders come from the same sweep file (by SHA-256) and timewait
    /// version, and that together they hold every run exactly once; the result is
    /// byte-identical to running the sweep without --shard.
    Merge {
        /// Shard folders written by `timewait sweep FILE --shard K/N`.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder (default: output/<sweep name>).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print every `[tcp]` setting with its default and its RFC or Linux source, as a `[tcp]`
    /// table to copy into a scenario.
    Settings {
        /// Print the README's Markdown table of the settings instead.
        #[arg(long)]
        markdown: bool,
    },
    /// Run packetdrill-style scripts against one simulated host's TCP (the script is the
    /// peer). A folder runs every *.pkt in it and prints a table; exit 0 only if all pass.
    Drill {
        /// A script, or a folder of scripts (its KNOWN file lists expected failures).
        path: PathBuf,
        /// The host's TCP: `linux` (the defaults) or `rfc9293` (RFC-literal choices).
        #[arg(long, default_value = "linux")]
        profile: crate::drill::Profile,
        /// Define a name for `#ifdef`; repeatable.
        #[arg(long = "define", value_name = "NAME")]
        defines: Vec<String>,
        /// How far a packet may be from its scripted time (default 4000, or the script's).
        #[arg(long = "tolerance-usecs", value_name = "N")]
        tolerance_usecs: Option<u64>,
    },
}

fn parse_set(s: &str) -> Result<Override, String> {
    s.parse()
}

fn parse_outputs(s: &str) -> Result<OutputSelection, String> {
    s.parse()
}

fn parse_size(s: &str) -> Result<u64, String> {
    crate::scenario::parse_size(s)
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<Duration>().map_err(|e| e.to_string())
}

/// Exit status for bad input (scenario or usage errors).
const EXIT_BAD_INPUT: u8 = 2;

/// Runs the command line; returns the process exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // An interrupted run or sweep leaves no staging folder behind.
    if let Err(e) = report::remove_staged_on_signal() {
        eprintln!("timewait: cannot install signal handlers: {e}");
    }
    match cli.command {
        Command::Run {
            file,
            seed,
            out,
            until,
            netstat_at,
            set,
            outputs,
            max_events,
            max_output,
            quiet,
        } => {
            let Some(mut scenario) = load(&file, &set) else {
                return ExitCode::from(EXIT_BAD_INPUT);
            };
            if let Some(o) = &outputs {
                o.apply(&mut scenario);
            }
            let opts = RunOptions {
                seed,
                until,
                out,
                netstat_at,
                sets: set.iter().map(ToString::to_string).collect(),
                outputs: outputs.map(|o| o.to_string()),
                max_events,
                max_output,
                progress: !quiet,
            };
            run_and_report(&scenario, &opts)
        }
        Command::Check { file, set } => {
            match Source::find(&file).and_then(|src| sweep::check(&src, &set)) {
                Ok((s, plan)) => {
                    for w in &s.warnings {
                        eprintln!("{w}");
                    }
                    let count = |n: usize, what: &str| format!("{n} {what}{}", plural(n as u64));
                    // A sweep file is checked as `sweep` plans it: every grid point.
                    let grid = plan.map_or(String::new(), |p| {
                        format!(
                            ", sweep of {} x {} = {}",
                            count(p.points.len(), "grid point"),
                            count(p.spec.seeds.len(), "seed"),
                            count(p.run_count(), "run")
                        )
                    });
                    print_out(&format!(
                        "{}: ok ({}, {}, {}, {}{grid})\n",
                        s.file,
                        count(s.config.nodes.len(), "node"),
                        count(s.config.links.len(), "link"),
                        count(s.config.apps.len(), "app"),
                        count(s.warnings.len(), "warning")
                    ));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(EXIT_BAD_INPUT)
                }
            }
        }
        Command::List { dir } => match dir {
            Some(dir) => list(&dir),
            None => {
                for (name, text) in bundled::BUNDLED {
                    print_out(&format!("{name:<28} {}\n", bundled::title(text)));
                }
                ExitCode::SUCCESS
            }
        },
        Command::Show { name } => match Source::find(Path::new(&name)) {
            Ok(src) if bundled::get(&src.file).is_some() => {
                print_out(&src.text);
                ExitCode::SUCCESS
            }
            Ok(_) => {
                eprintln!(
                    "timewait show: `{name}` is a file, not a bundled scenario's name; `timewait list` names them"
                );
                ExitCode::from(EXIT_BAD_INPUT)
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(EXIT_BAD_INPUT)
            }
        },
        Command::Sweep {
            file,
            jobs,
            out,
            shard,
            set,
            point,
        } => match point {
            Some(k) => sweep_point(&file, &set, k, out),
            None => sweep_command(&file, &set, jobs, out, shard.unwrap_or(Shard::ALL)),
        },
        Command::Merge { dirs, out } => merge_command(&dirs, out.as_deref()),
        Command::Plot {
            dir,
            from,
            to,
            conn,
            hosts,
            format,
            width,
            only,
        } => {
            let opts = FigureOptions {
                from,
                to,
                conns: conn,
                hosts: hosts
                    .as_deref()
                    .map(figures::select::split_list)
                    .unwrap_or_default(),
                formats: format.unwrap_or_default(),
                width,
                only,
            };
            plot_command(&dir, &opts)
        }
        Command::Settings { markdown } => {
            print!(
                "{}",
                if markdown {
                    crate::scenario::settings_markdown()
                } else {
                    crate::scenario::settings_toml()
                }
            );
            ExitCode::SUCCESS
        }
        Command::Drill {
            path,
            profile,
            defines,
            tolerance_usecs,
        } => {
            let opts = crate::drill::DrillOptions {
                profile,
                defines,
                tolerance: tolerance_usecs.map(crate::drill::micros),
            };
            match crate::drill::run_path(&path, &opts) {
                Ok((text, ok)) => {
                    print_out(&text);
                    if ok {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprintln!("timewait drill: {e}");
                    ExitCode::from(EXIT_BAD_INPUT)
                }
            }
        }
    }
}

/// Runs a scenario and prints its netstat tables and summary, or the error.
fn run_and_report(scenario: &Scenario, opts: &RunOptions) -> ExitCode {
    match run::run(scenario, opts) {
        Ok(result) => {
            let note = result.note.map_or(String::new(), |n| format!("{n}\n"));
            print_out(&format!(
                "{}{}Wrote {}\n{note}",
                result.netstat,
                result.summary,
                result.dir.display()
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("timewait: {e}");
            match e {
                run::RunError::Out(_) => ExitCode::from(EXIT_BAD_INPUT),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

/// `timewait sweep FILE --point K`: run K of the sweep as the plain run that reproduces it.
fn sweep_point(file: &Path, sets: &[Override], k: usize, out: Option<PathBuf>) -> ExitCode {
    let plan = match Source::find(file)
        .map_err(|e| SweepError::Input(e.to_string()))
        .and_then(|src| sweep::load(&src, sets))
    {
        Ok(p) => p,
        Err(e) => return sweep_failure(&e),
    };
    let Some((sets, seed)) = plan.run_overrides(k) else {
        eprintln!(
            "timewait sweep: --point {k}: the sweep has runs 0 to {}",
            plan.run_count().saturating_sub(1)
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    };
    let Some(scenario) = load(file, &sets) else {
        return ExitCode::from(EXIT_BAD_INPUT);
    };
    let opts = RunOptions {
        seed: Some(seed),
        out,
        sets: sets.iter().map(ToString::to_string).collect(),
        progress: true,
        ..RunOptions::default()
    };
    run_and_report(&scenario, &opts)
}

/// Loads a scenario (a file or a bundled name) with `sets` applied, printing warnings, or the
/// error; `None` on error.
fn load(file: &Path, sets: &[Override]) -> Option<Scenario> {
    // A sweep file runs as its base scenario (its [sweep] table ignored).
    match Source::find(file).and_then(|src| sweep::load_scenario(&src, sets)) {
        Ok(s) => {
            for w in &s.warnings {
                eprintln!("{w}");
            }
            Some(s)
        }
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

fn list(dir: &Path) -> ExitCode {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("timewait: cannot list {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let title = bundled::title(&text);
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        print_out(&format!("{name:<28} {title}\n"));
    }
    ExitCode::SUCCESS
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "invalid thread count `{s}`: expected a whole number from 1"
        )),
    }
}

/// Exit status for a sweep error: bad input is the user's to fix.
fn sweep_failure(e: &SweepError) -> ExitCode {
    eprintln!("{e}");
    match e {
        SweepError::Input(_) => ExitCode::from(EXIT_BAD_INPUT),
        _ => ExitCode::FAILURE,
    }
}

fn sweep_command(
    file: &Path,
    sets: &[Override],
    jobs: Option<usize>,
    out: Option<PathBuf>,
    shard: Shard,
) -> ExitCode {
    let plan = match Source::find(file)
        .map_err(|e| SweepError::Input(e.to_string()))
        .and_then(|src| sweep::load(&src, sets))
    {
        Ok(p) => p,
        Err(e) => return sweep_failure(&e),
    };
    for w in &plan.warnings {
        eprintln!("{w}");
    }
    let threads = jobs.unwrap_or_else(rayon::current_num_threads);
    let opts = SweepOptions { jobs, out, shard };
    let started = std::time::Instant::now();
    match sweep::run(&plan, &opts) {
        Ok(result) => {
            let secs = started.elapsed().as_secs_f64();
            let done = result.results.len();
            let mut text = format!(
                "{}: {} grid points x {} seeds = {} runs{} in {secs:.1} s on {threads} thread{} ({:.1} runs/s)\n",
                plan.spec.name,
                plan.points.len(),
                plan.spec.seeds.len(),
                plan.run_count(),
                if shard.count > 1 {
                    format!("; shard {shard} ran {done}")
                } else {
                    String::new()
                },
                plural(threads as u64),
                done as f64 / secs.max(1e-9)
            );
            if let Some(rows) = &result.summary {
                text.push_str(&sweep::render_summary(&plan, rows));
            }
            text.push_str(&format!("Wrote {}\n", result.dir.display()));
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => sweep_failure(&e),
    }
}

/// Prints to stdout, ignoring a closed pipe (`timewait sweep ... | head`): the files are
/// already written.
fn print_out(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn merge_command(dirs: &[PathBuf], out: Option<&Path>) -> ExitCode {
    match sweep::merge(dirs, out) {
        Ok(result) => {
            print_out(&format!(
                "Merged {} shard folder{} ({} runs)\nWrote {}\n",
                dirs.len(),
                plural(dirs.len() as u64),
                result.results.len(),
                result.dir.display()
            ));
            ExitCode::SUCCESS
        }
        Err(e) => sweep_failure(&e),
    }
}

fn parse_conn(s: &str) -> Result<String, String> {
    figures::select::check_conn(s).map(|_| s.trim().to_string())
}

fn parse_only(s: &str) -> Result<BTreeSet<String>, String> {
    figures::select::parse_only(s.split(','))
}

fn plot_command(dir: &Path, opts: &FigureOptions) -> ExitCode {
    let drawn = if dir.join("runs.csv").is_file() {
        if opts.selects_all() && opts.only.is_none() {
            plot_sweep(dir, opts)
        } else {
            Err(FigureError::Input(format!(
                "{}: a sweep's figure takes --format and --width only (--from, --to, --conn, --hosts and --only select within one run's figures)",
                dir.display()
            )))
        }
    } else {
        figures::plot_dir(dir, opts)
    };
    match drawn {
        Ok(files) => {
            print_out(&format!(
                "Wrote {} in {}\n",
                files.join(", "),
                dir.display()
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("timewait plot: {e}");
            match e {
                FigureError::Input(_) => ExitCode::from(EXIT_BAD_INPUT),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

/// A whole sweep's figure, from its folder's sweep.toml and runs.csv.
fn plot_sweep(dir: &Path, opts: &FigureOptions) -> Result<Vec<String>, FigureError> {
    let input = |e: SweepError| FigureError::Input(e.to_string());
    let plan = sweep::folder_plan(dir).map_err(input)?;
    let runs = dir.join("runs.csv");
    let results = sweep::read_runs(&runs, &plan).map_err(FigureError::Input)?;
    if results.len() != plan.run_count() {
        return Err(FigureError::Input(format!(
            "{}: holds {} of the sweep's {} runs (a shard?); join the shards with `timewait merge` first",
            runs.display(),
            results.len(),
            plan.run_count()
        )));
    }
    let stage = FigureStage::create(dir)?;
    let mut files = Vec::new();
    for (stem, chart) in sweep::charts(&plan, &sweep::summarize(&plan, &results)) {
        let base = stage.dir().join(&stem);
        let mut style = Style::default();
        if let Some(w) = opts.width {
            style.width = w;
        }
        let written = save(&base, &style, &chart, opts.formats)
            .map_err(|e| FigureError::writing(&base, e))?;
        files.extend(written.into_iter().map(|ext| format!("{stem}.{ext}")));
    }
    stage.commit(&files)?;
    Ok(files)
}
