//! One run of a scenario: build the world, simulate, write the outputs.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::net::{Network, NodeId, Packet, Port};
use crate::progress::Progress;
use crate::report::figures::{FigureData, FigureError};
use crate::report::{self, Manifest, OutDir, OutError, Recorder, StagedDir, html};
use crate::scenario::{Compression, NetstatStyle, OutputOptions, PcapMode, Scenario};
use crate::sim::{Duration, SimTime};
use crate::tcp::{NetstatRow, TcpLog};
use crate::world::{
    AppOutcome, ConfigError, Halt, NetworkEvent, Observer, PacketEvent, RunStats, World,
    WorldConfig,
};

/// What the command line may change about a run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
    /// Stops at this simulated time instead of the scenario's duration.
    pub until: Option<Duration>,
    /// Output folder; `output/<scenario name>` by default.
    pub out: Option<PathBuf>,
    /// Extra times for netstat tables.
    pub netstat_at: Vec<Duration>,
    /// The `--set PATH=VALUE` overrides the scenario was loaded with (already applied), for
    /// the manifest and the summary.
    pub sets: Vec<String>,
    /// The `--outputs` list the scenario's outputs were chosen with (already applied).
    pub outputs: Option<String>,
    /// Show progress on stderr (a bar on a terminal, a line every 10 s otherwise).
    pub progress: bool,
    /// `--max-events`: fail, writing nothing, rather than run more events than this.
    pub max_events: Option<u64>,
    /// `--max-output`: fail, writing nothing, once the files hold more bytes than this.
    pub max_output: Option<u64>,
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The folder holding the files.
    pub dir: PathBuf,
    /// The text of `summary.txt`.
    pub summary: String,
    /// The netstat tables, as written to `netstat.txt`.
    pub netstat: String,
    /// What the folder lacks that a user may look for, and how to get it.
    pub note: Option<&'static str>,
    /// Event and packet counts.
    pub stats: RunStats,
}

/// Why a run failed.
#[derive(Debug)]
pub enum RunError {
    /// The world could not be built.
    Config(ConfigError),
    /// The output folder may not be used (checked before anything is simulated).
    Out(OutError),
    /// A file could not be written.
    Io(PathBuf, io::Error),
    /// A figure could not be drawn or written.
    Figure(FigureError),
    /// A `--max-events` or `--max-output` guard stopped the run; nothing was written.
    Limit(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Config(e) => write!(f, "invalid configuration: {e}"),
            RunError::Out(e) => write!(f, "{e}"),
            RunError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
            RunError::Figure(e) => write!(f, "{e}"),
            RunError::Limit(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

/// What an in-memory run found.
pub struct Outcome {
    /// Event and packet counts.
    pub stats: RunStats,
    /// Everything the reports count (no files written).
    pub recorder: Recorder,
    /// The summary text.
    pub summary: String,
}

/// Runs `config` to `until` without writing any file (tests, sweeps, benchmarks).
pub fn simulate(config: &WorldConfig, until: SimTime) -> Result<Outcome, RunError> {
    let mut world = World::new(config).map_err(RunError::Config)?;
    let none = OutputOptions {
        events: false,
        states: false,
        connections: false,
        pcap: PcapMode::Off,
        pcap_snaplen: None,
        pcap_hosts: Vec::new(),
        netstat: false,
        netstat_style: NetstatStyle::Netstat,
        socket_counts: false,
        tcp_probe: false,
        compress: Compression::None,
        figures: false,
    };
    let mut recorder =
        Recorder::new(None, &none, world.network()).map_err(|e| RunError::Io(PathBuf::new(), e))?;
    let stats = world.run(until, &mut recorder);
    world.finish(&mut recorder);
    let mut summary = String::new();
    recorder.tally.render(world.network(), &mut summary);
    recorder.tcp.render(world.network(), &mut summary);
    Ok(Outcome {
        stats,
        recorder,
        summary,
    })
}

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
    config
        .observe
        .netstat_at
        .extend(opts.netstat_at.iter().copied());
    config.observe.netstat_at.sort();
    let until = SimTime::ZERO + opts.until.unwrap_or(scenario.duration);
    let target = opts.out.clone().unwrap_or_else(|| default_out(scenario));
    // Resolved and checked once, before anything is simulated; only this path is used after.
    let out = OutDir::resolve(&target).map_err(RunError::Out)?;
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| RunError::Io(p, e)
    };

    let mut world = World::new(&config).map_err(RunError::Config)?;
    if let Some(n) = opts.max_events {
        world.limit_events(n);
    }
    let stage = StagedDir::create(&out).map_err(io_err(&target))?;
    let mut recorder = Recorder::new(Some(stage.dir()), &scenario.output, world.network())
        .map_err(io_err(stage.dir()))?;
    if let Some(n) = opts.max_output {
        recorder.limit_output(n);
    }
    let mut figures = scenario
        .output
        .figures
        .then(|| FigureData::for_run(&scenario.output, &scenario.figures));
    let mut progress = opts.progress.then(|| Progress::new(until));
    let mut tee = Tee {
        recorder: &mut recorder,
        figures: figures.as_mut(),
        progress: progress.as_mut(),
    };
    report::output::failpoint("before-simulate");
    let stats = world.run(until, &mut tee);
    if let Some(halt) = world.halted() {
        // Returning before `commit` drops the staging folder: no complete-looking output.
        return Err(RunError::Limit(limit_message(
            halt,
            world.now(),
            recorder.output_bytes(),
            opts.max_output.unwrap_or(0),
        )));
    }
    world.finish(&mut tee);
    if let Some(p) = &progress {
        p.finish();
    }
    recorder.finish().map_err(io_err(stage.dir()))?;

    let mut summary = report::header(&scenario.name, config.seed, until, stats.events);
    if !opts.sets.is_empty() {
        summary.push_str(&format!("Overrides: --set {}\n", opts.sets.join(" --set ")));
    }
    recorder.tally.render(world.network(), &mut summary);
    recorder.tcp.render(world.network(), &mut summary);
    report::render_capacity(&config, &mut summary);
    // The figures read what the summary says of ports, as `timewait plot` reads summary.txt.
    let figure_files = match &mut figures {
        Some(data) => {
            data.read_summary(&summary);
            let data = &*data;
            std::thread::scope(|scope| {
                // Drawn from the tcp_probe.csv just written, as `plot` draws it; reading it back
                // takes as long as choosing the other figures' packets, so beside them.
                let cwnd = scope.spawn(|| {
                    report::figures::cwnd::save(stage.dir(), stage.dir(), &scenario.figures)
                });
                let files = data
                    .figures_with(&scenario.figures)
                    .map_err(|e| RunError::Figure(FigureError::Input(format!("[figures]: {e}"))))
                    .and_then(|figs| figs.save(stage.dir()).map_err(RunError::Figure));
                let cwnd = cwnd.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                let mut files = files?;
                files.extend(cwnd.map_err(RunError::Figure)?);
                Ok::<_, RunError>(files)
            })?
        }
        None => Vec::new(),
    };
    let summary_path = stage.file("summary.txt");
    fs::write(&summary_path, &summary).map_err(io_err(&summary_path))?;
    let mut files: Vec<String> = [report::MARKER.to_string()]
        .into_iter()
        .chain(recorder.files().iter().cloned())
        .chain(figure_files)
        .chain(["summary.txt".to_string()])
        .collect();
    let note = (scenario.output.figures && !scenario.output.events)
        .then_some(report::figures::WITHOUT_PACKETS);
    let html_path = stage.file(html::REPORT);
    let page = html::folder_report(
        &format!("timewait run {}, seed {}", scenario.name, config.seed),
        &summary,
        note,
        Some(&recorder.netstat.text),
        stage.dir(),
        &files,
    )
    .and_then(|page| fs::write(&html_path, page));
    page.map_err(io_err(&html_path))?;
    files.extend([html::REPORT.to_string(), "manifest.toml".to_string()]);

    let manifest = Manifest {
        scenario: scenario.file.clone(),
        scenario_sha256: Manifest::sha256(scenario.source.as_bytes()),
        seed: config.seed,
        until: until.since_start().to_string(),
        timewait_version: env!("CARGO_PKG_VERSION").to_string(),
        command: format!(
            "timewait run {} --seed {} --until {}{}{}",
            report::shell_word(&scenario.file),
            config.seed,
            until.since_start(),
            opts.netstat_at
                .iter()
                .map(|t| format!(" --netstat-at {t}"))
                .collect::<String>(),
            opts.sets
                .iter()
                .map(|s| format!(" --set {}", report::shell_word(s)))
                .chain(opts.outputs.iter().map(|o| format!(" --outputs {o}")))
                .collect::<String>()
        ),
        overrides: opts.sets.clone(),
        outputs: opts.outputs.clone(),
        files,
    };
    let manifest_path = stage.file("manifest.toml");
    fs::write(&manifest_path, manifest.to_toml()).map_err(io_err(&manifest_path))?;
    let dir = stage.commit().map_err(io_err(&target))?;
    Ok(RunOutput {
        dir,
        summary,
        netstat: recorder.netstat.text,
        note,
        stats,
    })
}

/// What a run stopped by a guard tells the user.
fn limit_message(halt: Halt, now: SimTime, bytes: u64, max_output: u64) -> String {
    let (what, flag) = match halt {
        Halt::Events(n) => (
            format!("it had run {n} events (--max-events {n})"),
            "--max-events",
        ),
        Halt::Observer => (
            format!("its files held {bytes} bytes, over --max-output {max_output} bytes"),
            "--max-output",
        ),
    };
    format!(
        "run stopped at simulated time {} because {what}; no output was written. Raise {flag} or shorten the run with --until",
        now.since_start()
    )
}

/// Hands every event to the recorder, then to the figures' model (which needs the recorder's
/// incarnation numbers, so it comes second). It forwards every [`Observer`] method: one added
/// to the trait must be forwarded here too, or the recorder would miss it.
struct Tee<'a> {
    recorder: &'a mut Recorder,
    figures: Option<&'a mut FigureData>,
    progress: Option<&'a mut Progress>,
}

impl Observer for Tee<'_> {
    fn packet(&mut self, net: &Network, ev: &PacketEvent<'_>) {
        self.recorder.packet(net, ev);
        if let Some(f) = self.figures.as_deref_mut() {
            f.on_packet(net, ev);
        }
    }

    fn link(&mut self, net: &Network, time: SimTime, port: Port, packet: &Packet) {
        self.recorder.link(net, time, port, packet);
    }

    fn wants_hops(&self) -> bool {
        self.recorder.wants_hops() || self.figures.is_some()
    }

    fn network(&mut self, net: &Network, ev: &NetworkEvent) {
        self.recorder.network(net, ev);
        if let Some(f) = self.figures.as_deref_mut() {
            f.on_network(net, ev);
        }
    }

    fn tcp(&mut self, net: &Network, time: SimTime, node: NodeId, log: &TcpLog) {
        self.recorder.tcp(net, time, node, log);
        if let Some(f) = self.figures.as_deref_mut() {
            f.on_tcp(net, time, node, log, &self.recorder.tcp);
        }
    }

    fn netstat(&mut self, net: &Network, time: SimTime, node: NodeId, rows: &[NetstatRow]) {
        self.recorder.netstat(net, time, node, rows);
    }

    fn counts(&mut self, net: &Network, time: SimTime, node: NodeId, counts: &[u64; 11]) {
        self.recorder.counts(net, time, node, counts);
        if let Some(f) = self.figures.as_deref_mut() {
            f.on_counts(net, time, node, counts);
        }
    }

    fn app(&mut self, net: &Network, time: SimTime, node: NodeId, app: u32, message: &str) {
        self.recorder.app(net, time, node, app, message);
    }

    fn halt(&self) -> bool {
        self.recorder.halt()
    }

    fn progress(&mut self, now: SimTime, events: u64) {
        if let Some(p) = self.progress.as_deref_mut() {
            p.update(now, events);
        }
    }

    fn outcome(
        &mut self,
        net: &Network,
        time: SimTime,
        node: NodeId,
        app: u32,
        outcome: &AppOutcome,
    ) {
        self.recorder.outcome(net, time, node, app, outcome);
        if let (Some(f), AppOutcome::ConnectFailed(e)) = (self.figures.as_deref_mut(), outcome) {
            f.on_connect_failed(net, time, node, e.errno());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::PacketEventKind;

    /// Counts packet events by kind and link calls, wanting hops or not.
    struct Count {
        hops: bool,
        kinds: Vec<PacketEventKind>,
        links: usize,
    }

    impl Observer for Count {
        fn packet(&mut self, _net: &Network, ev: &PacketEvent<'_>) {
            self.kinds.push(ev.kind);
        }
        fn link(&mut self, _net: &Network, _time: SimTime, _port: Port, _packet: &Packet) {
            self.links += 1;
        }
        fn wants_hops(&self) -> bool {
            self.hops
        }
    }

    #[test]
    fn an_observer_that_wants_no_hops_sees_every_other_event_unchanged() {
        let source = crate::scenario::bundled::get("routing_loop").expect("bundled");
        let scenario =
            crate::scenario::parse("routing_loop", "routing_loop.toml", source).expect("parses");
        let until = SimTime::ZERO + scenario.duration;
        let run = |hops| {
            let mut obs = Count {
                hops,
                kinds: Vec::new(),
                links: 0,
            };
            World::new(&scenario.config)
                .expect("builds")
                .run(until, &mut obs);
            obs
        };
        let (all, ends) = (run(true), run(false));
        assert!(all.links > 0 && all.kinds.contains(&PacketEventKind::Forward));
        assert_eq!(ends.links, 0);
        let not_forward = |o: &Count| -> Vec<PacketEventKind> {
            o.kinds
                .iter()
                .copied()
                .filter(|k| *k != PacketEventKind::Forward)
                .collect()
        };
        assert_eq!(ends.kinds, not_forward(&all));
        assert!(ends.kinds.contains(&PacketEventKind::TtlExpired));
    }
}
