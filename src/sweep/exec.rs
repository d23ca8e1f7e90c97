//! Running a sweep's runs on a thread pool, with a progress bar on a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::net::{Network, NodeId};
use crate::report::TcpTally;
use crate::sim::{Duration, SimTime};
use crate::tcp::{ConnError, State, TcpLog};
use crate::world::{AppOutcome, Observer, PacketEvent, PacketEventKind, World, WorldConfig};

use super::SweepError;
use super::metric::{CURL_CODES, Errno, Kind, Metric, nearest_rank};
use super::plan::Plan;

/// What one run found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    /// The sweep's chosen metrics, in its order (empty when it chose none): counts, or
    /// durations in nanoseconds; `None` where a run has no value (no request completed).
    pub values: Vec<Option<u64>>,
}

/// One run of a sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// Counts what a sweep tabulates; TCP's audit and the sockets held per state are the same
/// [`TcpTally`] the run reports use. Per packet it only compares the event's kind.
#[derive(Default)]
struct Counter {
    tcp: TcpTally,
    outcome: RunOutcome,
    /// Failed connects by errno, in [`Errno::ALL`] order.
    connect_failed: [u64; 4],
    /// curl failures by exit code, in [`CURL_CODES`] order.
    curl_failed: [u64; 3],
    /// Durations of completed requests.
    latencies: Vec<Duration>,
    ttl_expired: u64,
    retransmissions: u64,
}

fn errno_slot(e: Errno) -> usize {
    Errno::ALL.iter().position(|x| *x == e).unwrap_or(0)
}

impl Observer for Counter {
    fn wants_hops(&self) -> bool {
        // A TTL death is its own event; a forwarded packet changes no count here.
        false
    }

    fn packet(&mut self, _net: &Network, ev: &PacketEvent<'_>) {
        if ev.kind == PacketEventKind::TtlExpired {
            self.ttl_expired += 1;
        }
        self.tcp.packet(ev);
    }

    fn tcp(&mut self, net: &Network, time: SimTime, node: NodeId, log: &TcpLog) {
        match log {
            TcpLog::State(t) if t.from == State::Closed && t.to == State::SynSent => {
                self.outcome.connections += 1;
            }
            TcpLog::Closed(r) => {
                self.retransmissions += u64::from(r.retransmissions);
                if r.active && r.established_at.is_none() {
                    self.outcome.connect_failures += 1;
                    let errno = match r.error {
                        Some(ConnError::Refused) => Some(Errno::ConnRefused),
                        Some(ConnError::TimedOut) => Some(Errno::TimedOut),
                        _ => None,
                    };
                    if let Some(e) = errno {
                        self.connect_failed[errno_slot(e)] += 1;
                    }
                }
            }
            _ => {}
        }
        // Without files the tally cannot fail to write.
        let _ = self.tcp.log(net, time, node, log);
    }

    fn outcome(
        &mut self,
        _net: &Network,
        _time: SimTime,
        _node: NodeId,
        _app: u32,
        outcome: &AppOutcome,
    ) {
        match *outcome {
            AppOutcome::ConnectFailed(e) => {
                self.outcome.connect_refused += 1;
                self.connect_failed[errno_slot(Errno::of(e))] += 1;
            }
            AppOutcome::CurlFailed(code) => {
                if let Some(i) = CURL_CODES.iter().position(|c| *c == code) {
                    self.curl_failed[i] += 1;
                }
            }
            AppOutcome::RequestCompleted { took } => self.latencies.push(took),
        }
    }
}

impl Counter {
    /// The value of each of `metrics` once the run is over; `hosts` names the nodes by index.
    fn values(&mut self, metrics: &[Metric], hosts: &[&str]) -> Vec<Option<u64>> {
        if metrics.iter().any(|m| matches!(m.kind, Kind::Latency(_))) {
            self.latencies.sort_unstable();
        }
        let occupancy = self.tcp.occupancy();
        let gauge = |state: State, host: &Option<String>| match host {
            None => Some(occupancy.all(state)),
            Some(h) => hosts
                .iter()
                .position(|n| n == h)
                .map(|i| occupancy.host(i as u32, state)),
        };
        let o = &self.outcome;
        metrics
            .iter()
            .map(|m| match &m.kind {
                Kind::Corrupted => Some(u64::from(o.corrupted_bytes > 0)),
                Kind::CorruptedBytes => Some(o.corrupted_bytes),
                Kind::LostDuplicates => Some(o.lost_duplicates),
                Kind::Connections => Some(o.connections),
                Kind::ConnectRefused => Some(o.connect_refused),
                Kind::ConnectFailures => Some(o.connect_failures),
                Kind::Peak(s, h) => gauge(*s, h).map(|g| g.peak),
                Kind::Final(s, h) => gauge(*s, h).map(|g| g.held),
                Kind::ConnectFailed(None) => Some(self.connect_failed.iter().sum()),
                Kind::ConnectFailed(Some(e)) => Some(self.connect_failed[errno_slot(*e)]),
                Kind::CurlFailed(None) => Some(self.curl_failed.iter().sum()),
                Kind::CurlFailed(Some(c)) => CURL_CODES
                    .iter()
                    .position(|x| x == c)
                    .map(|i| self.curl_failed[i]),
                Kind::RequestsCompleted => Some(self.latencies.len() as u64),
                Kind::Latency(q) => nearest_rank(&self.latencies, *q).map(Duration::as_nanos),
                Kind::TtlExpired => Some(self.ttl_expired),
                Kind::Retransmissions => Some(self.retransmissions),
                Kind::Events => Some(o.events),
                Kind::DuplicateLifetimeMax => {
                    self.tcp.longest_lost_duplicate().map(Duration::as_nanos)
                }
            })
            .collect()
    }
}

/// Runs one configuration with `seed` to `until`, in memory: no file is written.
pub fn run_one(config: &WorldConfig, seed: u64, until: SimTime) -> Result<RunOutcome, String> {
    run_measured(config, seed, until, &[])
}

/// [`run_one`], also measuring `metrics` (into [`RunOutcome::values`], in their order).
pub fn run_measured(
    config: &WorldConfig,
    seed: u64,
    until: SimTime,
    metrics: &[Metric],
) -> Result<RunOutcome, String> {
    let mut config = config.clone();
    config.seed = seed;
    let mut world = World::new(&config).map_err(|e| e.to_string())?;
    let mut counter = Counter::default();
    let stats = world.run(until, &mut counter);
    world.finish(&mut counter);
    counter.outcome.corrupted_bytes = counter.tcp.corrupted_bytes();
    counter.outcome.lost_duplicates = counter.tcp.lost_duplicates();
    counter.outcome.events = stats.events;
    if !metrics.is_empty() {
        let hosts: Vec<&str> = config.nodes.iter().map(|n| n.name.as_str()).collect();
        counter.outcome.values = counter.values(metrics, &hosts);
    }
    Ok(counter.outcome)
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
                let metrics = plan.spec.metrics.as_deref().unwrap_or_default();
                let outcome =
                    run_measured(&point.scenario.config, seed, until, metrics).map_err(|e| {
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
