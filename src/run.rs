//! One run of a scenario: build the world, simulate, write the outputs.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::report::{self, Manifest, Recorder, StagedDir};
use crate::scenario::Scenario;
use crate::sim::{Duration, SimTime};
use crate::world::{ConfigError, RunStats, World};

/// What the command line may change about a run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
    /// Stops at this simulated time instead of the scenario's duration.
    pub until: Option<Duration>,
    /// Output folder; `output/<scenario name>` by default.
    pub out: Option<PathBuf>,
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The folder holding the files.
    pub dir: PathBuf,
    /// The text of `summary.txt`.
    pub summary: String,
    /// Event and packet counts.
    pub stats: RunStats,
}

/// Why a run failed.
#[derive(Debug)]
pub enum RunError {
    /// The world could not be built.
    Config(ConfigError),
    /// A file could not be written.
    Io(PathBuf, io::Error),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Config(e) => write!(f, "invalid configuration: {e}"),
            RunError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for RunError {}

/// The default output folder for a scenario.
pub fn default_out(scenario: &Scenario) -> PathBuf {
    Path::new("output").join(&scenario.name)
}

/// Runs `scenario` and writes its outputs.
pub fn run(scenario: &Scenario, opts: &RunOptions) -> Result<RunOutput, RunError> {
    let mut config = scenario.config.clone();
    if let Some(seed) = opts.seed {
        config.seed = seed;
    }
    let until = SimTime::ZERO + opts.until.unwrap_or(scenario.duration);
    let target = opts.out.clone().unwrap_or_else(|| default_out(scenario));
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| RunError::Io(p, e)
    };

    let mut world = World::new(&config).map_err(RunError::Config)?;
    let stage = StagedDir::create(&target).map_err(io_err(&target))?;
    let mut recorder =
        Recorder::new(Some(stage.dir())).map_err(io_err(&stage.file("events.csv")))?;
    let stats = world.run(until, &mut recorder);
    recorder
        .finish()
        .map_err(io_err(&stage.file("events.csv")))?;

    let mut summary = report::header(&scenario.name, config.seed, until, stats.events);
    recorder.tally.render(world.network(), &mut summary);
    let summary_path = stage.file("summary.txt");
    fs::write(&summary_path, &summary).map_err(io_err(&summary_path))?;

    let manifest = Manifest {
        scenario: scenario.file.clone(),
        scenario_sha256: Manifest::sha256(scenario.source.as_bytes()),
        seed: config.seed,
        until: until.since_start().to_string(),
        timewait_version: env!("CARGO_PKG_VERSION").to_string(),
        command: format!(
            "timewait run {} --seed {} --until {}",
            scenario.file,
            config.seed,
            until.since_start()
        ),
        files: vec![
            "events.csv".into(),
            "summary.txt".into(),
            "manifest.toml".into(),
        ],
    };
    let manifest_path = stage.file("manifest.toml");
    fs::write(&manifest_path, manifest.to_toml()).map_err(io_err(&manifest_path))?;
    let dir = stage.commit().map_err(io_err(&target))?;
    Ok(RunOutput {
        dir,
        summary,
        stats,
    })
}
