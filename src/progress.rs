//! How far a long run has got, on stderr: a bar with simulated time, events per second and the
//! time left when stderr is a terminal; otherwise (a batch job's log) one line every 10 s of
//! wall time. Wall-clock time is read here for display only: it never reaches the simulation.

use std::io::IsTerminal;
use std::time::{Duration as Wall, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::sim::SimTime;

/// Wall time between two heartbeat lines when stderr is not a terminal, unless the
/// environment variable `TIMEWAIT_HEARTBEAT` gives another number of seconds.
const HEARTBEAT: Wall = Wall::from_secs(10);

fn heartbeat() -> Wall {
    std::env::var("TIMEWAIT_HEARTBEAT")
        .ok()
        .and_then(|v| Wall::try_from_secs_f64(v.trim().parse().ok()?).ok())
        .unwrap_or(HEARTBEAT)
}

/// A run's progress display.
pub struct Progress {
    until: SimTime,
    started: Instant,
    bar: Option<ProgressBar>,
    every: Wall,
    next_line: Instant,
}

impl Progress {
    /// A display for a run that stops at `until`: a bar on a terminal, heartbeat lines else.
    pub fn new(until: SimTime) -> Progress {
        let started = Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(until.since_start().as_nanos());
            if let Ok(style) = ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {percent}% {msg}, {eta} left",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        let every = heartbeat();
        Progress {
            until,
            started,
            bar,
            every,
            next_line: started + every,
        }
    }

    /// Reports that the run has simulated to `now` in `events` events.
    pub fn update(&mut self, now: SimTime, events: u64) {
        let wall = Instant::now();
        let rate = events as f64 / wall.duration_since(self.started).as_secs_f64().max(1e-9);
        let done = now
            .since_start()
            .round_to(crate::sim::Duration::from_millis(1));
        let total = self.until.since_start();
        if let Some(bar) = &self.bar {
            bar.set_position(done.as_nanos());
            bar.set_message(format!("simulated {done} of {total}, {}", per_second(rate)));
        } else if wall >= self.next_line {
            self.next_line = wall + self.every;
            let fraction = done.as_secs_f64() / total.as_secs_f64().max(1e-12);
            let left = if fraction > 0.0 {
                let secs =
                    wall.duration_since(self.started).as_secs_f64() * (1.0 - fraction) / fraction;
                format!(", about {secs:.0} s left")
            } else {
                String::new()
            };
            eprintln!(
                "timewait: simulated {done} of {total} ({:.0}%), {events} events ({}){left}",
                100.0 * fraction.min(1.0),
                per_second(rate)
            );
        }
    }

    /// Clears the bar (before the summary is printed).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// "2.3 M events/s".
fn per_second(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.1} M events/s", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1} k events/s", rate / 1e3)
    } else {
        format!("{rate:.0} events/s")
    }
}
