//! How long a run's figures take: reading the CSV files back, deriving the figures, and
//! drawing them (SVG, PNG and PDF), for a run of about 100,000 packets.
//!
//! The run is the bundled `time_wait_pileup` with its per-event files turned on, stopped at
//! 7 s: three clients opening about 10,000 short HTTP connections. `cargo bench --bench
//! figures` prints the median of a few repetitions of each step, and what the PDFs add.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration as WallTime, Instant};

use timewait::report::figures::FigureData;
use timewait::report::plot::Formats;
use timewait::run::{self, RunOptions};
use timewait::scenario;
use timewait::sim::Duration;

const REPEAT: usize = 7;

fn median(mut v: Vec<WallTime>) -> WallTime {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: WallTime) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let file = "scenarios/time_wait_pileup.toml";
    let source = std::fs::read_to_string(file).expect("run from the crate's folder");
    let source = source
        .replace("events = false", "events = true")
        .replace("states = false", "states = true")
        .replace("connections = false", "connections = true")
        .replace("socket_counts = \"1s\"", "socket_counts = \"10ms\"");
    let s = scenario::parse("time_wait_pileup", file, &source).expect("scenario");
    let tmp = tempfile::tempdir().expect("temporary folder");
    let out = tmp.path().join("run");

    let started = Instant::now();
    let dir = run::run(
        &s,
        &RunOptions {
            out: Some(out),
            until: Some(Duration::from_millis(7000)),
            ..RunOptions::default()
        },
    )
    .expect("run")
    .dir;
    let whole_run = started.elapsed();

    let data = FigureData::read_dir(&dir).expect("read back");
    let packets: BTreeSet<u64> = data.packets.iter().map(|r| r.packet).collect();
    println!(
        "run: {} packets, {} packet events, {} connections, {} sockets ({} in the run, figures included)",
        packets.len(),
        data.packets.len(),
        data.connections.len(),
        data.socket_count,
        ms(whole_run)
    );

    let mut read = Vec::new();
    let mut derive = Vec::new();
    let mut draw = Vec::new();
    let mut total = Vec::new();
    let mut without_pdf = Vec::new();
    for i in 0..REPEAT {
        let t0 = Instant::now();
        let data = FigureData::read_dir(&dir).expect("read back");
        let t1 = Instant::now();
        let figs = data.figures();
        let t2 = Instant::now();
        let to = tmp.path().join(format!("draw{i}"));
        std::fs::create_dir(&to).expect("folder");
        let files = figs.save(Path::new(&to)).expect("draw");
        let t3 = Instant::now();
        assert_eq!(files.len(), 12, "{files:?}");
        let mut svg_png = data.figures();
        svg_png.formats = Formats::SVG_PNG;
        let to = tmp.path().join(format!("nopdf{i}"));
        std::fs::create_dir(&to).expect("folder");
        let t4 = Instant::now();
        svg_png.save(Path::new(&to)).expect("draw");
        without_pdf.push(t4.elapsed());
        read.push(t1 - t0);
        derive.push(t2 - t1);
        draw.push(t3 - t2);
        total.push(t3 - t1);
    }
    println!(
        "figures, median of {REPEAT}: read CSVs {}, derive {}, draw 4 figures as SVG+PNG+PDF {} (SVG+PNG alone {}); all figures from the model {} (goal < 2 s)",
        ms(median(read)),
        ms(median(derive)),
        ms(median(draw)),
        ms(median(without_pdf)),
        ms(median(total))
    );
}
