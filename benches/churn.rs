//! Connection churn on a dumbbell, the workload of `benches/peer/` (and ns-3's): 10 client /
//! server pairs share a 100 Mb/s, 5 ms bottleneck; each client opens its share of the
//! connections at 100 per second and fetches 10 KB on each, so the bottleneck runs at about
//! 80% and TIME_WAIT levels off at about 6,000 sockets per client.
//!
//! Each size runs the `timewait` binary as a user would, with `--outputs none` and with the
//! default outputs, alternating; it prints the medians of wall and CPU time (the child's user
//! plus system time, writer threads included), the cost per connection, connections per wall
//! second, the default outputs' wall time over `--outputs none`'s, and peak memory.
//!
//! `cargo bench --bench churn` runs 10^4 and 10^5 connections once each; `-- --reps N` runs
//! each pair N times (medians: a shared machine's wall times move by tens of percent);
//! `-- --large` adds 10^6 (the default outputs write about 1.8 GB there); `-- --emit N` prints
//! the scenario for N connections, to run by hand (`timewait run churn.toml --outputs none`).

use std::process::Command;
use std::time::Instant;

const PAIRS: u64 = 10;
const RATE: u64 = 100;

/// The scenario for `conns` connections, spread over the pairs.
fn scenario_text(conns: u64) -> String {
    let per = conns / PAIRS;
    let seconds = per / RATE + 5;
    let mut s = format!(
        "# Dumbbell churn: {PAIRS} client/server pairs share a 100 Mb/s, 5 ms bottleneck; each \
         client\n# opens {per} connections at {RATE}/s and fetches 10 KB on each.\n\
         [simulation]\nseed = 1\nduration = \"{seconds}s\"\n\n[[router]]\nname = \"R1\"\nroutes = [\n"
    );
    for i in 0..PAIRS {
        s += &format!(
            "  {{ dest = \"10.0.0.{}/32\", via = \"client{i}\" }},\n",
            i + 1
        );
    }
    s +=
        "  { dest = \"10.0.1.0/24\", via = \"R2\" },\n]\n\n[[router]]\nname = \"R2\"\nroutes = [\n";
    for i in 0..PAIRS {
        s += &format!(
            "  {{ dest = \"10.0.1.{}/32\", via = \"server{i}\" }},\n",
            i + 1
        );
    }
    s += "  { dest = \"10.0.0.0/24\", via = \"R1\" },\n]\n\n\
          [[link]]\nends = [\"R1\", \"R2\"]\ndelay = \"5ms\"\nbandwidth = \"100Mbps\"\n\n";
    for i in 0..PAIRS {
        let n = i + 1;
        s += &format!(
            "[[host]]\nname = \"client{i}\"\naddr = \"10.0.0.{n}\"\n\n\
             [[host]]\nname = \"server{i}\"\naddr = \"10.0.1.{n}\"\n\n\
             [[link]]\nends = [\"client{i}\", \"R1\"]\ndelay = \"1ms\"\nbandwidth = \"1Gbps\"\n\n\
             [[link]]\nends = [\"R2\", \"server{i}\"]\ndelay = \"1ms\"\nbandwidth = \"1Gbps\"\n\n\
             [[app]]\nkind = \"http_server\"\nhost = \"server{i}\"\nport = 80\nbacklog = 4096\n\
             close_after_response = false\nhandlers = [{{ path = \"/\", body = 10000 }}]\n\n\
             [[app]]\nkind = \"churn\"\nhost = \"client{i}\"\nurl = \"http://10.0.1.{n}:80/\"\n\
             rate = {RATE}\nrequests = {per}\n\n"
        );
    }
    s
}

/// Resource use of the waited-for children so far: peak resident memory of the largest, in
/// MiB (Linux reports KiB), and their user plus system time, in seconds.
fn children_usage() -> (f64, f64) {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    (
        u.ru_maxrss as f64 / 1024.0,
        secs(u.ru_utime) + secs(u.ru_stime),
    )
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.parse::<u64>().ok())
    };
    if args.iter().any(|a| a == "--emit") {
        print!("{}", scenario_text(value("--emit").unwrap_or(10_000)));
        return;
    }
    let reps = value("--reps").unwrap_or(1).max(1);
    let mut sizes = vec![10_000u64, 100_000];
    if args.iter().any(|a| a == "--large") {
        sizes.push(1_000_000);
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    println!(
        "connections  outputs   wall s    CPU s   us/conn   conns/s   x none   peak MiB (largest child so far)"
    );
    // Ascending sizes, so the children's peak is this run's.
    for &n in &sizes {
        let file = dir.path().join(format!("churn_{n}.toml"));
        std::fs::write(&file, scenario_text(n)).expect("writes the scenario");
        let modes = ["none", "default"];
        let mut wall = [vec![], vec![]];
        let mut cpu = [vec![], vec![]];
        for _ in 0..reps {
            for (m, mode) in modes.iter().enumerate() {
                let out = dir.path().join(format!("out_{n}_{mode}"));
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_timewait"));
                cmd.arg("run").arg(&file).arg("--out").arg(&out).arg("-q");
                if *mode == "none" {
                    cmd.args(["--outputs", "none"]);
                }
                let before = children_usage().1;
                let start = Instant::now();
                let status = cmd.output().expect("runs timewait").status;
                wall[m].push(start.elapsed().as_secs_f64());
                cpu[m].push(children_usage().1 - before);
                assert!(status.success(), "timewait failed on {n} connections");
                let _ = std::fs::remove_dir_all(&out);
            }
        }
        let none = median(wall[0].clone());
        for (m, mode) in modes.iter().enumerate() {
            let w = median(wall[m].clone());
            println!(
                "{n:>11}  {mode:<8} {w:>7.2}  {:>7.2}  {:>8.1}  {:>8.0}  {:>7.2}  {:>9.1}",
                median(cpu[m].clone()),
                w * 1e6 / n as f64,
                n as f64 / w,
                w / none,
                children_usage().0
            );
        }
    }
}
