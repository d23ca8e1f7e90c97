//! The command line: thin wrappers over [`scenario`](crate::scenario) and [`run`](crate::run).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::run::{self, RunOptions};
use crate::scenario::{self, Scenario};
use crate::sim::Duration;

/// Discrete-event network simulator that shows why TCP needs TIME_WAIT.
#[derive(Parser, Debug)]
#[command(name = "timewait", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario and write its outputs (events.csv, summary.txt, manifest.toml).
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
    },
    /// Check a scenario without running it; errors name file, line, column and field.
    Check {
        /// Scenario file.
        file: PathBuf,
    },
    /// List the bundled scenarios, one line each.
    List {
        /// Folder to list (default: ./scenarios).
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<Duration>().map_err(|e| e.to_string())
}

/// Exit status for bad input (scenario or usage errors).
const EXIT_BAD_INPUT: u8 = 2;

/// Runs the command line; returns the process exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            file,
            seed,
            out,
            until,
            netstat_at,
        } => {
            let Some(scenario) = load(&file) else {
                return ExitCode::from(EXIT_BAD_INPUT);
            };
            let opts = RunOptions {
                seed,
                until,
                out,
                netstat_at,
            };
            match run::run(&scenario, &opts) {
                Ok(result) => {
                    print!("{}", result.netstat);
                    print!("{}", result.summary);
                    println!("Wrote {}", result.dir.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("timewait: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Check { file } => match load(&file) {
            Some(s) => {
                println!(
                    "{}: ok ({} nodes, {} links, {} apps, {} warnings)",
                    s.file,
                    s.config.nodes.len(),
                    s.config.links.len(),
                    s.config.apps.len(),
                    s.warnings.len()
                );
                ExitCode::SUCCESS
            }
            None => ExitCode::from(EXIT_BAD_INPUT),
        },
        Command::List { dir } => list(&dir),
    }
}

/// Loads a scenario, printing warnings, or the error; `None` on error.
fn load(file: &Path) -> Option<Scenario> {
    let path = resolve(file);
    match scenario::load(&path) {
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

/// A path as given, or a bundled scenario's name ("routing_loop" -> scenarios/routing_loop.toml).
fn resolve(file: &Path) -> PathBuf {
    if file.exists() || file.extension().is_some() {
        return file.to_path_buf();
    }
    let bundled = Path::new("scenarios").join(file).with_extension("toml");
    if bundled.exists() {
        bundled
    } else {
        file.to_path_buf()
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
        let title = text
            .lines()
            .find_map(|l| l.strip_prefix('#').map(str::trim))
            .unwrap_or("");
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        println!("{name:<28} {title}");
    }
    ExitCode::SUCCESS
}
