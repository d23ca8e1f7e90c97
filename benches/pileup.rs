//! The TIME_WAIT pile-up at scale: ten clients each open 1,000 short HTTP connections per
//! second to one server for 120 simulated seconds (about 1.2 million connections; with a
//! 60 s TIME_WAIT, about 600,000 TIME_WAIT records at the peak), counted by the same
//! recorder a `timewait run` uses. Prints wall time, events per second and peak memory.
//!
//! `cargo bench --bench pileup` (add `-- --quick` for a 20 s run; `-- --plain` turns
//! congestion control, SACK and delayed ACKs off, to measure what they cost).

use std::time::Instant;

use timewait::run::simulate;
use timewait::scenario;
use timewait::sim::SimTime;

const CLIENTS: usize = 10;
const RATE: u32 = 1_000;

fn scenario_text(seconds: u32, plain: bool) -> String {
    let plain = if plain {
        "congestion = \"none\"\nsack = false\ndelayed_ack = false\n"
    } else {
        ""
    };
    let mut s = format!(
        "[simulation]\nseed = 1\nduration = \"{seconds}s\"\n\n[tcp]\nport_range = [1024, 65535]\n{plain}\n\
         [output]\nevents = false\nstates = false\nconnections = false\npcap = \"off\"\n\n\
         [[host]]\nname = \"server\"\naddr = \"10.0.1.2\"\n\n[[router]]\nname = \"R\"\nroutes = [\n  {{ dest = \"10.0.1.2/32\", via = \"server\" }},\n"
    );
    for i in 0..CLIENTS {
        s += &format!(
            "  {{ dest = \"10.0.0.{}/32\", via = \"client{i}\" }},\n",
            i + 1
        );
    }
    s += "]\n\n[[link]]\nends = [\"R\", \"server\"]\ndelay = \"1ms\"\nbandwidth = \"10Gbps\"\n\n";
    s += "[[app]]\nkind = \"http_server\"\nhost = \"server\"\nport = 80\nbacklog = 4096\n\
          close_after_response = false\nhandlers = [{ path = \"/\", body = 100 }]\n\n";
    for i in 0..CLIENTS {
        s += &format!(
            "[[host]]\nname = \"client{i}\"\naddr = \"10.0.0.{}\"\n\n[[link]]\nends = [\"client{i}\", \"R\"]\n\
             delay = \"1ms\"\nbandwidth = \"10Gbps\"\n\n[[app]]\nkind = \"churn\"\nhost = \"client{i}\"\n\
             url = \"http://10.0.1.2:80/\"\nrate = {RATE}\nduration = \"{seconds}s\"\n\n",
            i + 1
        );
    }
    s
}

/// Peak resident memory of this process, from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let plain = std::env::args().any(|a| a == "--plain");
    let seconds = if quick { 20 } else { 120 };
    let text = scenario_text(seconds, plain);
    let s = scenario::parse("pileup_bench", "pileup_bench.toml", &text).expect("valid scenario");
    let start = Instant::now();
    let out = simulate(&s.config, SimTime::ZERO + s.duration).expect("runs");
    let wall = start.elapsed().as_secs_f64();
    let events = out.stats.events;
    println!(
        "pileup: {CLIENTS} clients x {RATE} connections/s for {seconds} s simulated{}",
        if plain {
            " (no congestion control, SACK or delayed ACKs)"
        } else {
            ""
        }
    );
    print!(
        "{}",
        out.summary
            .lines()
            .filter(|l| l.starts_with("TIME_WAIT on client0") || l.starts_with("TCP on server"))
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    println!(
        "pileup: wall {wall:.2} s, {events} events, {:.2} M events/s, {:.0} connections/s of wall time",
        events as f64 / wall / 1e6,
        (CLIENTS as f64 * RATE as f64 * seconds as f64) / wall
    );
    match peak_rss_mib() {
        Some(m) => println!("pileup: peak resident memory {m:.0} MiB"),
        None => println!("pileup: peak resident memory unavailable (no /proc)"),
    }
}
