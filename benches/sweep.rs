//! Throughput of the headline sweep (`scenarios/sweep_time_wait.toml`, 1760 runs) on one worker
//! thread and on two, and the speed-up: runs are independent, so two cores should do nearly
//! twice the runs per second (goal: at least 1.8x).
//!
//! `cargo bench --bench sweep`; plain output, no harness. Each thread count runs the whole sweep
//! `REPS` times, alternating, and reports the best and the median; the results of every pass are
//! checked to be identical. On Linux it also reports the CPU time the process spent per run:
//! when other programs share the cores the wall-clock speed-up drops, but the CPU time per run
//! shows whether the second thread itself costs anything (2 x the CPU-time ratio is the
//! speed-up two idle cores would give).

use std::path::Path;
use std::time::{Duration, Instant};

use timewait::sweep::{self, Plan, RunResult};

/// Passes per thread count.
const REPS: usize = 3;

/// CPU time (user + system, all threads) this process has used, from /proc/self/stat; `None`
/// where there is no such file. Linux counts it in USER_HZ = 100 ticks per second.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// One pass over `runs` on `jobs` threads: wall time, CPU time (if known), results.
fn pass(plan: &Plan, runs: &[usize], jobs: usize) -> (Duration, Option<f64>, Vec<RunResult>) {
    let cpu = cpu_seconds();
    let started = Instant::now();
    let results = sweep::execute(plan, runs, Some(jobs)).expect("every run of the sweep runs");
    let wall = started.elapsed();
    let cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a);
    (wall, cpu, results)
}

fn main() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweep_time_wait.toml");
    let plan = sweep::load_file(&file).unwrap_or_else(|e| panic!("{e}"));
    let runs: Vec<usize> = (0..plan.run_count()).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "sweep_time_wait: {} grid points x {} seeds = {} runs; {cores} cores available",
        plan.points.len(),
        plan.spec.seeds.len(),
        runs.len()
    );

    // Warm-up (page faults, allocator, CPU frequency), not timed.
    let (_, _, reference) = pass(&plan, &runs, 2);
    let events: u64 = reference.iter().map(|r| r.outcome.events).sum();

    let thread_counts = [1usize, 2];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); thread_counts.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); thread_counts.len()];
    for _ in 0..REPS {
        for (i, &jobs) in thread_counts.iter().enumerate() {
            let (t, c, results) = pass(&plan, &runs, jobs);
            assert!(
                results == reference,
                "{jobs} thread(s) gave different results"
            );
            times[i].push(t.as_secs_f64());
            cpu[i].extend(c);
        }
    }

    let mut best_rate = Vec::new();
    let mut cpu_per_run = Vec::new();
    for ((&jobs, ts), cs) in thread_counts.iter().zip(&mut times).zip(&mut cpu) {
        ts.sort_by(f64::total_cmp);
        cs.sort_by(f64::total_cmp);
        let (best, median) = (ts[0], ts[ts.len() / 2]);
        let rate = runs.len() as f64 / best;
        best_rate.push(rate);
        let cpu_note = match cs.get(cs.len() / 2) {
            Some(&c) => {
                let per_run = c / runs.len() as f64;
                cpu_per_run.push(per_run);
                format!(", {:.3} ms CPU per run", per_run * 1e3)
            }
            None => String::new(),
        };
        println!(
            "{jobs} thread{}: {rate:8.1} runs/s ({:.2} M events/s), best {best:.3} s, median {median:.3} s of {REPS}{cpu_note}",
            if jobs == 1 { " " } else { "s" },
            events as f64 / best / 1e6,
        );
    }
    let ratio = best_rate[1] / best_rate[0];
    println!(
        "speed-up 2 threads / 1 thread: {ratio:.2}x (goal >= 1.8x on 2 idle cores){}",
        if cores < 2 {
            "; only one core here, so no speed-up is possible"
        } else {
            ""
        }
    );
    if let [one, two] = cpu_per_run[..] {
        println!(
            "CPU time per run, 2 threads / 1 thread: {:.3} (so 2 idle cores would give {:.2}x)",
            two / one,
            2.0 * one / two
        );
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load = load.split(' ').take(3).collect::<Vec<_>>().join(" ");
        println!(
            "load average during the bench: {load} (other programs on the cores lower the speed-up)"
        );
    }
}
