//! One bulk CUBIC flow over a 1 Gb/s, 20 ms path (SACK, delayed ACKs, window scaling, 8 MiB
//! buffers: the window is not the limit) for 10 simulated seconds, outputs off. Prints the
//! flow's goodput, wall time and how many times faster than real time the run was.
//!
//! `cargo bench --bench bulk` (add `-- --quick` for 2 s).

use std::time::Instant;

use timewait::run::simulate;
use timewait::scenario;
use timewait::sim::SimTime;

fn scenario_text(seconds: u32) -> String {
    format!(
        "[simulation]\nseed = 1\nduration = \"{seconds}s\"\n\n\
         [output]\nevents = false\nstates = false\nconnections = false\npcap = \"off\"\n\n\
         [[host]]\nname = \"sender\"\naddr = \"10.0.0.1\"\ntcp = {{ snd_buf = 8388608 }}\n\n\
         [[host]]\nname = \"receiver\"\naddr = \"10.0.1.2\"\ntcp = {{ rcv_buf = 8388608 }}\n\n\
         [[router]]\nname = \"R\"\nroutes = [\n  {{ dest = \"10.0.1.2/32\", via = \"receiver\" }},\n  \
         {{ dest = \"10.0.0.1/32\", via = \"sender\" }},\n]\n\n\
         [[link]]\nends = [\"sender\", \"R\"]\ndelay = \"1ms\"\nbandwidth = \"10Gbps\"\n\n\
         [[link]]\nends = [\"R\", \"receiver\"]\ndelay = \"9ms\"\nbandwidth = \"1Gbps\"\nqueue = 1000\n\n\
         [[app]]\nkind = \"receiver\"\nhost = \"receiver\"\nport = 80\n\n\
         [[app]]\nkind = \"bulk\"\nhost = \"sender\"\nto = \"10.0.1.2:80\"\nbytes = \"4GB\"\nstart = \"0s\"\n"
    )
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let seconds = if quick { 2 } else { 10 };
    let text = scenario_text(seconds);
    let s = scenario::parse("bulk_bench", "bulk_bench.toml", &text).expect("valid scenario");
    let start = Instant::now();
    let out = simulate(&s.config, SimTime::ZERO + s.duration).expect("runs");
    let wall = start.elapsed().as_secs_f64();
    println!("bulk: one CUBIC flow, 1 Gb/s bottleneck, 20 ms RTT, {seconds} s simulated");
    print!(
        "{}",
        out.summary
            .lines()
            .filter(|l| l.starts_with("Transfer:") || l.contains("delivered"))
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    println!(
        "bulk: wall {wall:.2} s, {} events, {:.2} M events/s, {:.1}x real time",
        out.stats.events,
        out.stats.events as f64 / wall / 1e6,
        seconds as f64 / wall
    );
}
