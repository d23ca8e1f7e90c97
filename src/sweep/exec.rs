//! Running a sweep's runs on a thread pool, with a progress bar on a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::net::{Network, NodeId};
use crate::report::TcpTally;
use crate::sim::SimTime;
use crate::tcp::{State, TcpLog};
use crate::world::{Observer, PacketEvent, World, WorldConfig};

use super::SweepError;
use super::plan::Plan;

/// What one run found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOutcome {
    /// Bytes delivered from the wrong incarnation.
    pub corrupted_bytes: u64,
    /// Data segments that reached a host after their connection had ended.
    pub lost_duplicates: u64,
    /// Connections opened actively (SYN sent).
    pub connections: u64,
    /// connect() calls refused at once (the 4-tuple still held, e.g. in TIME_WAIT).
    pub connect_refused: u64,
    /// Active connections released without ever being established (timed out, reset).
    pub connect_failures: u64,
    /// Events the simulation ran.
    pub events: u64,
}

/// One run of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunResult {
    /// Index in the full run list (grid point major, seed minor).
    pub run: usize,
    /// Grid point.
    pub grid: usize,
    /// Seed.
    pub seed: u64,
    /// What it found.
    pub outcome: RunOutcome,
}

/// Counts what a sweep tabulates; TCP's audit is the same [`TcpTally`] the run reports use.
struct Counter {
    tcp: TcpTally,
    outcome: RunOutcome,
}

impl Observer for Counter {
    fn packet(&mut self, _net: &Network, ev: &PacketEvent<'_>) {
        self.tcp.packet(ev);
    }

    fn tcp(&mut self, net: &Network, time: SimTime, node: NodeId, log: &TcpLog) {
        match log {
            TcpLog::State(t) if t.from == State::Closed && t.to == State::SynSent => {
                self.outcome.connections += 1;
            }
            TcpLog::Closed(r) if r.active && r.established_at.is_none() => {
                self.outcome.connect_failures += 1;
            }
            _ => {}
        }
        // Without files the tally cannot fail to write.
        let _ = self.tcp.log(net, time, node, log);
    }

    fn app(&mut self, _net: &Network, _time: SimTime, _node: NodeId, _app: u32, message: &str) {
        if is_refused_connect(message) {
            self.outcome.connect_refused += 1;
        }
    }
}

/// Whether an application's message reports a connect() that failed at once (no port, or the
/// 4-tuple held). The apps say so only in words: the sender's "connect() from port P failed:
/// ..." and curl's "(7) Failed to connect ... Cannot assign requested address" or "Address
/// already in use"; curl's refused and timed-out variants are connections that failed later,
/// counted from TCP.
fn is_refused_connect(message: &str) -> bool {
    (message.starts_with("connect() ") && message.contains(" failed"))
        || (message.starts_with("curl: (7) Failed to connect")
            && (message.ends_with("Cannot assign requested address")
                || message.ends_with("Address already in use")))
}

/// Runs one configuration with `seed` to `until`, in memory: no file is written.
pub fn run_one(config: &WorldConfig, seed: u64, until: SimTime) -> Result<RunOutcome, String> {
    let mut config = config.clone();
    config.seed = seed;
    let mut world = World::new(&config).map_err(|e| e.to_string())?;
    let mut counter = Counter {
        tcp: TcpTally::default(),
        outcome: RunOutcome::default(),
    };
    let stats = world.run(until, &mut counter);
    world.finish(&mut counter);
    let mut outcome = counter.outcome;
    outcome.corrupted_bytes = counter.tcp.corrupted_bytes();
    outcome.lost_duplicates = counter.tcp.lost_duplicates();
    outcome.events = stats.events;
    Ok(outcome)
}

/// Runs the runs at `indices` of `plan` on `jobs` threads (all cores if `None`), returning the
/// results sorted by run index whatever order they finished in.
pub fn execute(
    plan: &Plan,
    indices: &[usize],
    jobs: Option<usize>,
) -> Result<Vec<RunResult>, SweepError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .thread_name(|i| format!("sweep-{i}"))
        .build()
        .map_err(|e| SweepError::Run(format!("cannot start the worker threads: {e}")))?;
    let bar = progress_bar(indices.len() as u64);
    let results: Result<Vec<RunResult>, SweepError> = pool.install(|| {
        indices
            .par_iter()
            .map(|&run| {
                let (grid, seed) = plan
                    .run_at(run)
                    .ok_or_else(|| SweepError::Run(format!("run {run} is not in the sweep")))?;
                let point = &plan.points[grid];
                // The World is built here, on the worker: it holds `Rc`s and never crosses threads.
                let until = SimTime::ZERO + point.scenario.duration;
                let outcome = run_one(&point.scenario.config, seed, until).map_err(|e| {
                    SweepError::Run(format!(
                        "run {run} (grid point {grid}, seed {seed}) could not be built: {e}"
                    ))
                })?;
                bar.inc(1);
                Ok(RunResult {
                    run,
                    grid,
                    seed,
                    outcome,
                })
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut results = results?;
    results.sort_by_key(|r| (r.grid, r.seed));
    Ok(results)
}

/// A progress bar on stderr when stderr is a terminal; hidden otherwise (CI logs, redirected
/// stderr, tests), so no control characters end up in a file. Where stdout goes does not matter:
/// the bar is cleared before the summary is printed.
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{elapsed_precise} [{wide_bar}] {pos}/{len} runs, {per_sec}, {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_connects_are_recognised_in_the_apps_words() {
        assert!(is_refused_connect(
            "connect() from port 5555 failed: Cannot assign requested address; retrying in 500ms"
        ));
        assert!(is_refused_connect(
            "curl: (7) Failed to connect to 10.0.0.2 port 80: Address already in use"
        ));
        assert!(!is_refused_connect(
            "curl: (7) Failed to connect to 10.0.0.2 port 80: Connection timed out"
        ));
        // A RST to the SYN is a connection that failed later, not a refused connect() call.
        assert!(!is_refused_connect(
            "curl: (7) Failed to connect to 10.0.0.2 port 80: Connection refused"
        ));
        assert!(!is_refused_connect("connection reset by peer"));
    }
}
