//! The figures a run writes: each one valid SVG and PNG, the same bytes every time, the lost
//! duplicate highlighted hop by hop, and `timewait plot` redrawing the same bytes from the CSV
//! files (or refusing a bad folder with the file and line, writing nothing).
//!
//! Set `TIMEWAIT_FIGURES_DIR=/some/dir` to keep the figures of the bundled scenarios drawn by
//! `bundled_scenarios_draw_what_they_record` for looking at.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use timewait::report::figures::FigureData;
use timewait::run::{self, RunOptions};
use timewait::scenario::{self, Scenario};

mod common;

const FIGURES: [&str; 4] = ["ladder", "timeseq", "states", "socket_counts"];
/// The style's highlight colour, as plotters writes it into SVG.
const HIGHLIGHT: &str = "#D55E00";

fn load(name: &str) -> Scenario {
    scenario::load(Path::new(&format!("scenarios/{name}.toml"))).unwrap()
}

fn run_into(s: &Scenario, dir: &Path) -> PathBuf {
    let out = dir.join(&s.name);
    run::run(
        s,
        &RunOptions {
            out: Some(out.clone()),
            ..RunOptions::default()
        },
    )
    .unwrap()
    .dir
}

fn timewait(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_timewait"))
        .args(args)
        .output()
        .unwrap()
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Every file of a folder, by name (hidden ones too: a staging folder left behind would show).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = if p.is_file() {
                fs::read(&p).unwrap()
            } else {
                b"<folder>".to_vec()
            };
            (name, bytes)
        })
        .collect()
}

#[test]
fn every_figure_is_valid_svg_and_png_and_the_same_bytes_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let s = load("incarnation_no_timewait");
    let a = run_into(&s, &tmp.path().join("a"));
    let b = run_into(&s, &tmp.path().join("b"));
    let manifest = fs::read_to_string(a.join("manifest.toml")).unwrap();
    for name in FIGURES {
        let svg = fs::read_to_string(a.join(format!("{name}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{name}.svg starts with <svg");
        assert!(
            svg.trim_end().ends_with("</svg>"),
            "{name}.svg ends with </svg>"
        );
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}.svg: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert!(doc.descendants().filter(|n| n.has_tag_name("text")).count() > 5);

        let png = fs::read(a.join(format!("{name}.png"))).unwrap();
        let (w, h) = png_size(&png);
        // The SVG and the PNG are drawn by the same code at the same size.
        assert_eq!(
            root.attribute("width"),
            Some(w.to_string().as_str()),
            "{name}"
        );
        assert_eq!(
            root.attribute("height"),
            Some(h.to_string().as_str()),
            "{name}"
        );
        assert!(w >= 800 && h >= 300, "{name}: {w}x{h}");

        let pdf = fs::read(a.join(format!("{name}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{name}.pdf starts with %PDF");
        assert!(
            pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"),
            "{name}.pdf ends"
        );
        // The page has the figure's size (96 px to the inch: 0.75 pt per pixel).
        let (pw, ph) = media_box(&pdf);
        assert!(
            (pw - w as f64 * 0.75).abs() < 0.01 && (ph - h as f64 * 0.75).abs() < 0.01,
            "{name}.pdf is {pw}x{ph} pt for {w}x{h} px"
        );
        // Text is set in the bundled font, embedded.
        assert!(
            String::from_utf8_lossy(&pdf).contains("DejaVuSans"),
            "{name}.pdf font"
        );
        for ext in ["svg", "png", "pdf"] {
            let f = format!("{name}.{ext}");
            assert_eq!(
                fs::read(a.join(&f)).unwrap(),
                fs::read(b.join(&f)).unwrap(),
                "{f} differs between two runs"
            );
            assert!(manifest.contains(&format!("\"{f}\"")), "manifest lists {f}");
        }
    }
    // Axes say what they measure, in units.
    let timeseq = fs::read_to_string(a.join("timeseq.svg")).unwrap();
    assert!(timeseq.contains("time (s)") && timeseq.contains("sequence number (bytes)"));
    assert!(timeseq.contains("corrupting segment") && timeseq.contains("retransmission"));
    let states = fs::read_to_string(a.join("states.svg")).unwrap();
    for state in ["SYN_SENT", "ESTABLISHED", "LAST_ACK", "client#2"] {
        assert!(states.contains(state), "states.svg shows {state}");
    }
}

#[test]
fn the_ladder_draws_the_lost_duplicate_in_the_highlight_colour_hop_by_hop() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run_into(&load("incarnation_no_timewait"), tmp.path());
    // The audit's own words name the lost duplicate.
    let summary = fs::read_to_string(dir.join("summary.txt")).unwrap();
    let lost: Vec<u64> = summary
        .lines()
        .filter_map(|l| l.strip_prefix("Lost duplicate: packet #"))
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(lost, [4]);
    let data = FigureData::read_dir(&dir).unwrap();
    assert_eq!(data.lost_duplicates(), lost);

    // Its hops: consecutive events of the packet at different nodes.
    let events = fs::read_to_string(dir.join("events.csv")).unwrap();
    let nodes: Vec<&str> = events
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[3] == "4")
        .map(|f| f[2])
        .collect();
    let hops = nodes.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(hops > 20, "packet #4 loops: {hops} hops");

    let svg = fs::read_to_string(dir.join("ladder.svg")).unwrap();
    let count = |pat: &str| svg.matches(pat).count();
    // One line per hop plus the legend's key, one arrowhead per hop, and the label.
    assert_eq!(count(&format!("stroke=\"{HIGHLIGHT}\"")), hops + 1);
    assert_eq!(
        count(&format!("<polygon opacity=\"1\" fill=\"{HIGHLIGHT}\"")),
        hops
    );
    let labels = count(&format!("fill=\"{HIGHLIGHT}\">\n#4 P. 1:1001(1000) ack 1"));
    assert!((1..=2).contains(&labels), "{labels} labels of #4");
    // The subtitle gives the lifetime the audit measured, to the millisecond.
    let lived: f64 = summary
        .lines()
        .find_map(|l| l.strip_prefix("Lost duplicate: packet #4 "))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|l| l.split('s').next())
        .and_then(|s| s.parse().ok())
        .expect("the audit states the lost duplicate's lifetime");
    assert!(
        svg.contains(&format!("lost duplicate #4, {lived:.3} s in the network")),
        "{lived}"
    );

    let timeseq = fs::read_to_string(dir.join("timeseq.svg")).unwrap();
    assert!(
        timeseq.contains(HIGHLIGHT),
        "the corrupting segment is marked"
    );

    // With TIME_WAIT the same lost duplicate arrives, but corrupts nothing.
    let dir = run_into(&load("incarnation_2msl"), tmp.path());
    let ladder = fs::read_to_string(dir.join("ladder.svg")).unwrap();
    assert!(ladder.contains("lost duplicate #4"));
    let timeseq = fs::read_to_string(dir.join("timeseq.svg")).unwrap();
    assert!(!timeseq.contains(HIGHLIGHT) && !timeseq.contains("corrupting segment"));
    // And a run without lost duplicates highlights nothing.
    let dir = run_into(&load("close_wait_slow_handler"), tmp.path());
    let ladder = fs::read_to_string(dir.join("ladder.svg")).unwrap();
    assert!(!ladder.contains(HIGHLIGHT) && !ladder.contains("lost duplicate"));
}

#[test]
fn plot_redraws_the_same_bytes_from_the_csv_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run_into(&load("incarnation_no_timewait"), tmp.path());
    let before = files(&dir);
    let copy = tmp.path().join("copy");
    fs::create_dir(&copy).unwrap();
    for csv in [
        "events.csv",
        "states.csv",
        "connections.csv",
        "socket_counts.csv",
    ] {
        fs::copy(dir.join(csv), copy.join(csv)).unwrap();
    }
    let o = timewait(&["plot", copy.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = files(&copy);
    for name in FIGURES {
        for ext in ["svg", "png", "pdf"] {
            let f = format!("{name}.{ext}");
            assert!(before.contains_key(&f), "the run wrote {f}");
            assert!(
                after.get(&f) == before.get(&f),
                "{f} redrawn differs from the run's"
            );
        }
    }
    // Only the figures were added.
    assert_eq!(after.len(), 4 + 3 * FIGURES.len(), "{:?}", after.keys());
}

#[test]
fn plot_refuses_a_bad_folder_naming_the_file_and_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nowhere");
    let o = timewait(&["plot", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nowhere: no such folder"));

    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let o = timewait(&["plot", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("events.csv"));

    let dir = run_into(&load("incarnation_no_timewait"), tmp.path());
    for f in FIGURES {
        fs::remove_file(dir.join(format!("{f}.svg"))).unwrap();
        fs::remove_file(dir.join(format!("{f}.png"))).unwrap();
    }
    let before = files(&dir);
    // A bad value on the third line of events.csv, then a short row in states.csv.
    let events = fs::read_to_string(dir.join("events.csv")).unwrap();
    let mut lines: Vec<String> = events.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen("1.", "1.x", 1);
    fs::write(dir.join("events.csv"), lines.join("\n") + "\n").unwrap();
    let o = timewait(&["plot", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("events.csv:3:"), "{err}");
    assert!(err.contains("column `time`"), "{err}");
    fs::write(dir.join("events.csv"), &events).unwrap();

    // An events.csv from before packets carried their connection: refused, not guessed at.
    let old: String = events
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{}", f[..11].join(","), f[19..].join(","))
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(old.starts_with("time,kind,node,packet,src,dst,ttl,flags,seq,ack,len,note\n"));
    fs::write(dir.join("events.csv"), old + "\n").unwrap();
    let o = timewait(&["plot", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("events.csv: written by an older timewait") && err.contains("rerun"),
        "{err}"
    );
    fs::write(dir.join("events.csv"), &events).unwrap();

    let states = fs::read_to_string(dir.join("states.csv")).unwrap();
    fs::write(dir.join("states.csv"), states.clone() + "1.0,client\n").unwrap();
    let o = timewait(&["plot", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    let last = states.lines().count() + 1;
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("states.csv:{last}:")), "{err}");
    fs::write(dir.join("states.csv"), &states).unwrap();

    let mut after = files(&dir);
    after.insert("events.csv".into(), before["events.csv"].clone());
    assert!(after == before, "a failed plot wrote {:?}", after.keys());
}

#[test]
fn a_scenario_can_turn_the_figures_off() {
    let tmp = tempfile::tempdir().unwrap();
    let s = load("close_wait_slow_handler");
    let source = s.source.clone() + "\n[output]\nfigures = false\n";
    let source = if s.source.contains("[output]") {
        s.source
            .replacen("[output]", "[output]\nfigures = false", 1)
    } else {
        source
    };
    let off = scenario::parse(&s.name, &s.file, &source).unwrap();
    let dir = run_into(&off, tmp.path());
    assert!(!dir.join("states.svg").exists() && !dir.join("ladder.png").exists());
    let bad = source.replacen("figures = false", "figures = \"no\"", 1);
    let e = scenario::parse(&s.name, &s.file, &bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("output.figures"), "{e}");
}

#[test]
fn bundled_scenarios_draw_what_they_record() {
    let keep = std::env::var_os("TIMEWAIT_FIGURES_DIR").map(PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let root = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    // (scenario, figures expected)
    // A timeseq is drawn only for connections it says something about: two short requests
    // and answers with no retransmission (close_wait_slow_handler, time_wait_assassination)
    // get none; a retransmitted segment (incarnation_2msl) gets one.
    let cases: [(&str, &[&str]); 4] = [
        ("routing_loop", &["ladder"]),
        (
            "close_wait_slow_handler",
            &["ladder", "states", "socket_counts"],
        ),
        (
            "time_wait_assassination",
            &["ladder", "states", "socket_counts"],
        ),
        (
            "incarnation_2msl",
            &["ladder", "timeseq", "states", "socket_counts"],
        ),
    ];
    for (name, expected) in cases {
        let s = load(name);
        let dir = run_into(&s, &root);
        for f in FIGURES {
            let drawn = dir.join(format!("{f}.png")).exists();
            assert_eq!(
                drawn,
                expected.contains(&f),
                "{name}: {f}.png drawn: {drawn}"
            );
        }
    }
    // In every bundled scenario that records packets and connections, the figures' lost
    // duplicates (found from the CSV files) are the audit's (which knows each packet's sender).
    let mut paths: Vec<PathBuf> = fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut checked = 0;
    for f in paths {
        let s = timewait::sweep::load_scenario_file(&f).unwrap();
        if !(s.output.events && s.output.connections && s.output.figures) {
            continue;
        }
        let dir = run_into(&s, &tmp.path().join("all"));
        let summary = fs::read_to_string(dir.join("summary.txt")).unwrap();
        let audit: Vec<u64> = summary
            .lines()
            .filter_map(|l| l.strip_prefix("Lost duplicate: packet #"))
            .map(|l| l.split(' ').next().unwrap().parse().unwrap())
            .collect();
        let mut found = FigureData::read_dir(&dir).unwrap().lost_duplicates();
        found.truncate(20);
        assert_eq!(found, audit, "{}", s.name);
        // Every figure keeps a page's shape (A4, 297 x 210), however many panels or rows.
        for (name, bytes) in files(&dir) {
            if name.ends_with(".png") {
                let (w, h) = png_size(&bytes);
                assert!(
                    f64::from(h) <= 1.415 * f64::from(w),
                    "{}/{name} is {w} x {h}",
                    s.name
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 8, "{checked} scenarios checked");
    let ladder = fs::read_to_string(root.join("routing_loop/ladder.svg")).unwrap();
    assert!(
        ladder.contains(" of 260 packets (at most 300 hops)"),
        "the cap is in the title"
    );
}

#[test]
fn plot_redraws_a_sweeps_figure_and_refuses_a_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fs::read_to_string("scenarios/incarnation_no_timewait.toml").unwrap();
    let file = tmp.path().join("tiny.toml");
    fs::write(
        &file,
        base + "\n[sweep]\nseeds = 2\nx = \"tcp.time_wait\"\n\n[sweep.parameters]\n\"tcp.time_wait\" = [\"0s\", \"2msl\"]\n",
    )
    .unwrap();
    let plan = timewait::sweep::load_file(&file).unwrap();
    let whole = tmp.path().join("whole");
    let opts = timewait::sweep::SweepOptions {
        out: Some(whole.clone()),
        jobs: Some(1),
        ..Default::default()
    };
    timewait::sweep::run(&plan, &opts).unwrap();
    let before = files(&whole);
    for f in ["sweep.svg", "sweep.png"] {
        fs::remove_file(whole.join(f)).unwrap();
    }
    let o = timewait(&["plot", whole.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        files(&whole) == before,
        "sweep.svg and sweep.png redrawn the same"
    );

    let shard = tmp.path().join("shard");
    let opts = timewait::sweep::SweepOptions {
        out: Some(shard.clone()),
        jobs: Some(1),
        shard: "1/2".parse().unwrap(),
    };
    timewait::sweep::run(&plan, &opts).unwrap();
    let o = timewait(&["plot", shard.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("runs.csv") && err.contains("timewait merge"),
        "{err}"
    );
    assert!(!shard.join("sweep.png").exists());
}

/// Every label box of a ladder SVG (the translucent white boxes labels sit on) with its text.
fn ladder_labels(svg: &str) -> Vec<((f64, f64, f64, f64), String)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let num =
        |n: &roxmltree::Node<'_, '_>, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    doc.descendants()
        .filter(|n| {
            n.has_tag_name("rect")
                && n.attribute("opacity") == Some("0.85")
                && n.attribute("fill") == Some("#FFFFFF")
        })
        .map(|r| {
            let text = r
                .next_sibling_element()
                .filter(|t| t.has_tag_name("text"))
                .and_then(|t| t.text())
                .unwrap_or_default()
                .trim()
                .to_string();
            let (x, y) = (num(&r, "x"), num(&r, "y"));
            ((x, y, x + num(&r, "width"), y + num(&r, "height")), text)
        })
        .collect()
}

/// The plain packet arrows of a ladder SVG (thin, opaque, in ink, neither vertical nor
/// horizontal): (start, end) in pixels.
fn plain_arrows(svg: &str) -> Vec<((f64, f64), (f64, f64))> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| {
            n.has_tag_name("polyline")
                && n.attribute("opacity") == Some("1")
                && n.attribute("stroke") == Some("#222222")
                && n.attribute("stroke-width") == Some("1")
        })
        .filter_map(|n| {
            let v: Vec<f64> = n
                .attribute("points")?
                .split([' ', ','])
                .filter_map(|v| v.parse().ok())
                .collect();
            (v.len() == 4 && v[0] != v[2] && v[1] != v[3]).then_some(((v[0], v[1]), (v[2], v[3])))
        })
        .collect()
}

/// Whether the segment p-q meets the box (x0, y0, x1, y1), sampled every half pixel.
fn segment_meets_box(p: (f64, f64), q: (f64, f64), b: (f64, f64, f64, f64)) -> bool {
    let len = ((q.0 - p.0).powi(2) + (q.1 - p.1).powi(2)).sqrt();
    let steps = (len * 2.0).ceil().max(1.0) as usize;
    (0..=steps).any(|k| {
        let f = k as f64 / steps as f64;
        let (x, y) = (p.0 + (q.0 - p.0) * f, p.1 + (q.1 - p.1) * f);
        x > b.0 && x < b.2 && y > b.1 && y < b.3
    })
}

/// The ladder labels every packet it draws, never one label over another, in every bundled
/// scenario; in `last_ack_lost` the lost ACKs (with their cause), the retransmitted FINs and
/// the RST are among them, as events.csv identifies them.
#[test]
fn bundled_ladders_label_the_key_packets_and_no_labels_overlap() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut ladders = 0;
    for f in files {
        let s = timewait::sweep::load_scenario_file(&f).unwrap();
        if !(s.output.events && s.output.figures) {
            continue;
        }
        let dir = run_into(&s, tmp.path());
        let Ok(svg) = fs::read_to_string(dir.join("ladder.svg")) else {
            continue;
        };
        ladders += 1;
        let labels = ladder_labels(&svg);
        assert!(!labels.is_empty(), "{}", s.name);
        for (i, (a, ta)) in labels.iter().enumerate() {
            assert!(!ta.is_empty(), "{}: a label box without text", s.name);
            for (b, tb) in &labels[i + 1..] {
                let overlap = a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
                assert!(!overlap, "{}: `{ta}` {a:?} overlaps `{tb}` {b:?}", s.name);
            }
        }
        // The words of a network change cross no arrow.
        let arrows = plain_arrows(&svg);
        let rules: Vec<_> = labels
            .iter()
            .filter(|(_, t)| t.contains(" routes ") || t.starts_with("link "))
            .collect();
        if s.name == "routing_loop" {
            assert!(rules.len() >= 3, "{}: {rules:?}", s.name);
        }
        for (b, t) in &rules {
            for &(p, q) in &arrows {
                assert!(
                    !segment_meets_box(p, q, *b),
                    "{}: `{t}` {b:?} is over the arrow {p:?}-{q:?}",
                    s.name
                );
            }
        }
        // Two hosts over several connections: each packet's label names its ports, as
        // events.csv has them.
        if s.name == "close_wait_accept_queue" {
            let events = common::csv_rows(&dir.join("events.csv"));
            let mut named = 0;
            for (_, t) in &labels {
                let Some(id) = t
                    .strip_prefix('#')
                    .and_then(|r| r.split(' ').next())
                    .filter(|id| id.chars().all(|c| c.is_ascii_digit()))
                else {
                    continue;
                };
                // A drop's mark on a labelled packet names only the packet and the cause.
                if t.starts_with(&format!("#{id} dropped")) {
                    continue;
                }
                let e = events
                    .iter()
                    .find(|e| e["packet"] == id && e["kind"] == "send")
                    .unwrap_or_else(|| panic!("#{id} is in events.csv"));
                let ports = format!("#{id} {} > {}: ", e["sport"], e["dport"]);
                assert!(t.starts_with(&ports), "`{t}` does not start with `{ports}`");
                named += 1;
            }
            assert!(named >= 60, "{named} packet labels");
        }
        if s.name != "last_ack_lost" {
            continue;
        }
        let events = common::csv_rows(&dir.join("events.csv"));
        let label_of = |id: &str| {
            labels
                .iter()
                .find(|(_, t)| t.starts_with(&format!("#{id} ")))
                .map(|(_, t)| t.clone())
        };
        // The faults dropped the two final ACKs where they were sent.
        let drops: Vec<&str> = events
            .iter()
            .filter(|e| e["kind"] == "drop")
            .map(|e| e["packet"].as_str())
            .collect();
        assert_eq!(drops.len(), 2, "{drops:?}");
        for id in drops {
            let l = label_of(id).unwrap_or_else(|| panic!("dropped #{id} has no label"));
            assert!(l.contains("dropped: fault"), "{l}");
        }
        // A FIN sent again by the same incarnation with the same sequence number.
        let mut fins = BTreeMap::new();
        let mut again = Vec::new();
        for e in events.iter().filter(|e| e["kind"] == "send") {
            if e["flags"].contains('F') {
                let key = (e["conn"].clone(), e["seq"].clone());
                if fins.insert(key, e["packet"].clone()).is_some() {
                    again.push(e["packet"].clone());
                }
            }
        }
        assert_eq!(again.len(), 2, "both servers' FINs were retransmitted");
        for id in &again {
            let l = label_of(id).unwrap_or_else(|| panic!("retransmitted FIN #{id} unlabelled"));
            assert!(l.contains(" F. "), "{l}");
        }
        let rst = events
            .iter()
            .find(|e| e["kind"] == "send" && e["flags"].starts_with('R'))
            .expect("client_notw answers the FIN with a RST");
        let l = label_of(&rst["packet"]).expect("the RST has a label");
        assert!(l.contains(" R "), "{l}");
        assert!(
            svg.contains("Drawn for: 2 drops"),
            "the subtitle names the drops"
        );
    }
    assert!(ladders >= 8, "{ladders} ladders checked");
}

/// The page size a PDF declares, in points.
fn media_box(pdf: &[u8]) -> (f64, f64) {
    let text = String::from_utf8_lossy(pdf);
    let at = text.find("/MediaBox [").expect("a MediaBox") + "/MediaBox [".len();
    let nums: Vec<f64> = text[at..]
        .split(']')
        .next()
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    (nums[2] - nums[0], nums[3] - nums[1])
}

/// Packet ids of the labels a ladder SVG draws ("#17 . ack 2" gives 17).
fn labelled_packets(svg: &str) -> std::collections::BTreeSet<u64> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|t| t.text())
        .filter_map(|t| t.trim().strip_prefix('#'))
        .filter_map(|t| t.split([' ', ':']).next()?.parse().ok())
        .collect()
}

/// `plot --from --to --conn` draws only the packets inside the window whose connection was
/// asked for (or is its peer), and some of them; with `--format` and `--only` only those
/// files are written.
#[test]
fn plot_selects_a_window_and_a_connection() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run_into(&load("last_ack_lost"), tmp.path());
    let events = common::csv_rows(&dir.join("events.csv"));
    let conns = common::csv_rows(&dir.join("connections.csv"));
    let out = tmp.path().join("sel");
    fs::create_dir(&out).unwrap();
    for csv in [
        "events.csv",
        "states.csv",
        "connections.csv",
        "socket_counts.csv",
    ] {
        fs::copy(dir.join(csv), out.join(csv)).unwrap();
    }
    // The window: from the first FIN to the end of the exchange; client_notw's connection.
    let t = |e: &BTreeMap<String, String>| e["time"].parse::<f64>().unwrap();
    let first_fin = events
        .iter()
        .filter(|e| e["flags"].contains('F'))
        .map(t)
        .fold(f64::INFINITY, f64::min);
    let (from, to) = (first_fin - 1e-6, first_fin + 0.1);
    let me = conns
        .iter()
        .find(|c| c["host"] == "client_notw")
        .expect("client_notw's connection");
    let peer = conns
        .iter()
        .find(|c| c["local"] == me["remote"] && c["remote"] == me["local"])
        .expect("its peer");
    let o = timewait(&[
        "plot",
        out.to_str().unwrap(),
        "--from",
        &from.to_string(),
        "--to",
        &format!("{}ms", (to * 1e3).round()),
        "--conn",
        &me["conn"],
        "--only",
        "ladder,states",
        "--format",
        "svg,pdf",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let written: Vec<String> = files(&out)
        .into_keys()
        .filter(|f| !f.ends_with(".csv"))
        .collect();
    assert_eq!(
        written,
        ["ladder.pdf", "ladder.svg", "states.pdf", "states.svg"]
    );
    let to = (to * 1e3).round() / 1e3;
    let drawn = labelled_packets(&fs::read_to_string(out.join("ladder.svg")).unwrap());
    assert!(drawn.len() >= 3, "{drawn:?}");
    let mut outside = 0;
    for id in drawn {
        let rows: Vec<_> = events
            .iter()
            .filter(|e| e["packet"] == id.to_string())
            .collect();
        assert!(!rows.is_empty(), "#{id} is a packet");
        for r in &rows {
            assert!(
                t(r) >= from && t(r) <= to,
                "#{id} drawn, but at {} it is outside {from}..{to}",
                r["time"]
            );
            assert!(
                r["conn"] == me["conn"] || r["conn"] == peer["conn"],
                "#{id} belongs to {}",
                r["conn"]
            );
        }
    }
    // The run has packets the selection left out: of the other client, and before `from`.
    for e in &events {
        if e["conn"] != me["conn"] && e["conn"] != peer["conn"] || t(e) < from {
            outside += 1;
        }
    }
    assert!(outside > 0);
    // The states figure names only the selected connection and its peer.
    let states = fs::read_to_string(out.join("states.svg")).unwrap();
    assert!(states.contains(me["conn"].as_str()) && states.contains(peer["conn"].as_str()));
    assert!(
        !states.contains("client_tw#"),
        "the other client's socket is left out"
    );

    // A connection the run does not have is refused, naming it; nothing is written.
    let before = files(&out);
    let o = timewait(&["plot", out.to_str().unwrap(), "--conn", "client_notw#9"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("client_notw#9"), "{err}");
    assert!(files(&out) == before);
    let o = timewait(&["plot", out.to_str().unwrap(), "--only", "ladderr"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("did you mean `ladder`"),
        "{err}"
    );
}

/// A scenario's `[figures]` table draws the run's figures as `plot` with the same options
/// does, byte for byte, PDF included; a bad value names the file, line and field.
#[test]
fn a_scenarios_figures_table_is_what_plot_draws() {
    let tmp = tempfile::tempdir().unwrap();
    let s = load("last_ack_lost");
    let table = "\n[figures]\nfrom = 1.0\nto = \"1.2s\"\nhosts = [\"client_tw\", \"server\"]\nformat = \"svg,pdf\"\nwidth = 1000\nonly = [\"ladder\", \"states\", \"socket_counts\"]\n";
    let with = scenario::parse(&s.name, &s.file, &(s.source.clone() + table)).unwrap();
    let dir = run_into(&with, tmp.path());
    let run_files = files(&dir);
    for f in ["ladder", "states", "socket_counts"] {
        assert!(run_files.contains_key(&format!("{f}.pdf")), "{f}.pdf");
        assert!(!run_files.contains_key(&format!("{f}.png")), "no {f}.png");
        let svg = String::from_utf8_lossy(&run_files[&format!("{f}.svg")]).into_owned();
        assert!(svg.contains("width=\"1000\""), "{f} is 1000 px wide");
        let pdf = &run_files[&format!("{f}.pdf")];
        assert!(
            (media_box(pdf).0 - 750.0).abs() < 0.01,
            "{f}.pdf is 750 pt wide"
        );
    }
    assert!(!run_files.contains_key("timeseq.svg"));
    for f in run_files
        .keys()
        .filter(|f| f.ends_with(".svg") || f.ends_with(".pdf"))
    {
        fs::remove_file(dir.join(f)).unwrap();
    }
    let o = timewait(&[
        "plot",
        dir.to_str().unwrap(),
        "--from",
        "1",
        "--to",
        "1200ms",
        "--hosts",
        "client_tw,server",
        "--format",
        "pdf,svg",
        "--width",
        "1000",
        "--only",
        "socket_counts,states,ladder",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(files(&dir) == run_files, "plot drew other bytes than run");

    for (bad, field, words) in [
        ("width = 20", "figures.width", "out of range"),
        ("format = [\"svg\", \"gif\"]", "figures.format", "gif"),
        (
            "hosts = \"client_tw,sever\"",
            "figures.hosts",
            "did you mean `server`",
        ),
        ("from = \"2s\"\nto = \"1s\"", "figures.to", "empty"),
        ("colour = 1", "figures", "colour"),
    ] {
        let text = format!("{}\n\n[figures]\n{bad}\n", s.source);
        let line = text.lines().count() - bad.lines().count() + 1;
        let e = scenario::parse(&s.name, &s.file, &text).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(field), "{bad}: {msg}");
        assert!(msg.contains(words), "{bad}: {msg}");
        let at = e.location.as_ref().expect("a location").line;
        assert!(
            at == line || at == line + bad.lines().count() - 1 || at == line - 1,
            "{bad}: line {at}, expected {line}: {msg}"
        );
    }
}

/// Every text of an SVG, in document order.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("valid SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

/// How long each socket of `host` spent in `state`, from states.csv (to the run's end when
/// the socket never left it).
fn state_durations(dir: &Path, host: &str, state: &str, end: f64) -> Vec<f64> {
    let mut rd = csv::Reader::from_path(dir.join("states.csv")).unwrap();
    let mut entered: BTreeMap<String, f64> = BTreeMap::new();
    let mut out = Vec::new();
    for r in rd.records() {
        let r = r.unwrap();
        let (t, h, conn, from, to) = (r[0].parse::<f64>().unwrap(), &r[1], &r[2], &r[6], &r[7]);
        if h != host {
            continue;
        }
        if to == state {
            entered.insert(conn.to_string(), t);
        } else if from == state {
            out.push(t - entered.remove(conn).expect("entered before it left"));
        }
    }
    out.extend(entered.values().map(|t| end - t));
    out
}

/// A state bar the time axis cuts no longer shows its length, so the states figure writes it:
/// CLOSE_WAIT for as long as the slow handler sleeps and FIN_WAIT_2 for tcp_fin_timeout
/// (60 s), in close_wait_slow_handler; in time_wait_too_short, both ends of incarnation 2 stay
/// ESTABLISHED through the sender's 5 s delay. Each written duration is the one states.csv
/// records, to the figure's rounding.
#[test]
fn the_states_figure_writes_the_duration_of_every_bar_it_cuts() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, checks) in [
        (
            "close_wait_slow_handler",
            vec![("server", "CLOSE_WAIT"), ("client", "FIN_WAIT_2")],
        ),
        (
            "time_wait_too_short",
            vec![("client", "ESTABLISHED"), ("server", "ESTABLISHED")],
        ),
    ] {
        let s = load(name);
        let end = s.duration.as_secs_f64();
        let dir = run_into(&s, tmp.path());
        let texts = svg_texts(&fs::read_to_string(dir.join("states.svg")).unwrap());
        for (host, state) in checks {
            let longest = state_durations(&dir, host, state, end)
                .into_iter()
                .fold(0.0, f64::max);
            assert!(
                longest > 4.0,
                "{name}: {host} holds {state} for {longest} s"
            );
            let written: Vec<f64> = texts
                .iter()
                .filter_map(|t| t.strip_prefix(&format!("{state} ")))
                .filter_map(|t| t.trim_start_matches('\u{2265}').trim().strip_suffix(" s"))
                .filter_map(|n| n.parse().ok())
                .collect();
            assert!(
                written
                    .iter()
                    .any(|w| (w - longest).abs() <= 0.01 * longest),
                "{name}: {host}'s {state} of {longest:.3} s is written on its bar; texts: {texts:?}"
            );
        }
    }
}

/// The TCP states a ladder notes on a host's lane, as (state, what follows it in brackets).
fn state_notes(svg: &str) -> Vec<(String, Option<String>)> {
    const STATES: [&str; 11] = [
        "SYN_SENT",
        "SYN_RCVD",
        "ESTABLISHED",
        "FIN_WAIT_1",
        "FIN_WAIT_2",
        "CLOSE_WAIT",
        "CLOSING",
        "LAST_ACK",
        "TIME_WAIT",
        "CLOSED",
        "LISTEN",
    ];
    svg_texts(svg)
        .into_iter()
        .filter_map(|t| {
            let (state, rest) = t.split_once(' ').unwrap_or((t.as_str(), ""));
            STATES.contains(&state).then(|| {
                let tag = rest
                    .strip_prefix('(')
                    .and_then(|r| r.split_once(')'))
                    .map(|(tag, _)| tag.to_string());
                (state.to_string(), tag)
            })
        })
        .collect()
}

/// A ladder's state notes name a connection the way its packets do: by port between two
/// hosts with several connections (the ports the packet labels write), by the peer on a
/// lane whose sockets talk to different hosts, by name only for incarnations of one
/// 4-tuple, and not at all when the lane holds one socket.
#[test]
fn ladder_state_notes_name_connections_as_the_packets_do() {
    let tmp = tempfile::tempdir().unwrap();
    let notes_of = |name: &str| {
        let dir = run_into(&load(name), tmp.path());
        let svg = fs::read_to_string(dir.join("ladder.svg")).unwrap();
        (state_notes(&svg), svg_texts(&svg))
    };

    let (notes, texts) = notes_of("close_wait_accept_queue");
    assert!(notes.len() >= 20, "{notes:?}");
    for (state, tag) in &notes {
        let tag = tag
            .as_deref()
            .unwrap_or_else(|| panic!("{state} names no connection"));
        let port = tag
            .strip_prefix(':')
            .unwrap_or_else(|| panic!("{state} ({tag}) is not a port"));
        assert!(
            texts
                .iter()
                .any(|t| t.contains(&format!(" {port} > ")) || t.contains(&format!("> {port}: "))),
            "no packet label has port {port} of {state}"
        );
    }

    let (notes, _) = notes_of("last_ack_lost");
    let tags: std::collections::BTreeSet<_> = notes.iter().filter_map(|n| n.1.clone()).collect();
    assert_eq!(
        tags.into_iter().collect::<Vec<_>>(),
        ["with client_notw", "with client_tw"]
    );
    assert!(notes.iter().any(|n| n.0 == "LAST_ACK"), "{notes:?}");

    let (notes, _) = notes_of("incarnation_2msl");
    assert!(
        notes
            .iter()
            .all(|n| n.1.as_deref().is_some_and(|t| t.contains('#'))),
        "{notes:?}"
    );

    let (notes, _) = notes_of("simultaneous_close");
    assert!(
        !notes.is_empty() && notes.iter().all(|n| n.1.is_none()),
        "{notes:?}"
    );
}

/// close_wait_accept_queue opens five connections in 4 ms, then retransmits for seconds: the
/// ladder cuts the idle time inside its first panel too, each break saying what it skips, so
/// the burst's packets are labelled beside their arrows. A ladder with no crowd keeps one
/// scale per panel.
#[test]
fn a_burst_in_a_long_panel_gets_a_scale_of_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run_into(&load("close_wait_accept_queue"), tmp.path());
    let svg = fs::read_to_string(dir.join("ladder.svg")).unwrap();
    // Every break in a panel's axis says how much time it skips.
    for t in svg_texts(&svg).iter().filter(|t| t.ends_with(" skipped")) {
        let (n, unit) = t
            .trim_end_matches(" skipped")
            .split_once(' ')
            .unwrap_or_else(|| panic!("`{t}`"));
        assert!(
            n.parse::<f64>().is_ok() && ["s", "ms"].contains(&unit),
            "`{t}`"
        );
    }
    // The 4 ms of the five handshakes (#1 at 1.000 s to #23 at 1.004 s) take at least half
    // the height of the second of retransmissions after them (#24 at 1.5 s to #33 at 2.5 s):
    // on one scale they would take a 250th.
    let labels = ladder_labels(&svg);
    let y = |p: &str| {
        labels
            .iter()
            .find(|(_, t)| t.starts_with(p))
            .map(|(b, _)| b.1)
            .unwrap_or_else(|| panic!("no label {p}"))
    };
    assert!(
        y("#23 ") - y("#1 ") >= 0.5 * (y("#33 ") - y("#24 ")),
        "burst {} px, retransmissions {} px",
        y("#23 ") - y("#1 "),
        y("#33 ") - y("#24 ")
    );
    // The burst's handshakes are labelled on their own arrows, not stacked in a column
    // right of the lanes: their labels start well left of the server's lane.
    let server_x = labels
        .iter()
        .filter(|(_, t)| t.starts_with("SYN_RCVD"))
        .map(|(b, _)| b.0)
        .fold(f64::INFINITY, f64::min);
    let beside = labels
        .iter()
        .filter(|(b, t)| {
            ["#1 ", "#2 ", "#3 ", "#4 ", "#5 ", "#6 ", "#7 ", "#8 "]
                .iter()
                .any(|p| t.starts_with(p))
                && b.0 < server_x - 10.0
        })
        .count();
    assert!(
        beside >= 6,
        "{beside} of the burst's first 8 packets labelled on their arrows"
    );

    let dir = run_into(&load("last_ack_lost"), tmp.path());
    let svg = fs::read_to_string(dir.join("ladder.svg")).unwrap();
    assert!(
        !svg.contains(" skipped"),
        "last_ack_lost keeps one scale per panel"
    );
}

/// x of the first text in a ladder SVG that reads exactly `name` (a lane's name).
fn text_x(svg: &str, name: &str) -> f64 {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .find(|n| n.has_tag_name("text") && n.text().map(str::trim) == Some(name))
        .and_then(|n| n.attribute("x"))
        .unwrap_or_else(|| panic!("no lane {name}"))
        .parse()
        .unwrap()
}

#[test]
fn a_ladder_puts_the_data_sender_first_and_routers_between_the_hosts() {
    // bulk_loss_recovery's ladder starts mid-flow with an ACK from the receiver; the data
    // still runs left to right: sender, the router, receiver.
    let tmp = tempfile::tempdir().unwrap();
    let dir = run_into(&load("bulk_loss_recovery"), tmp.path());
    let svg = fs::read_to_string(dir.join("ladder.svg")).unwrap();
    let xs = ["sender_cubic", "R", "receiver"].map(|n| text_x(&svg, n));
    assert!(xs[0] < xs[1] && xs[1] < xs[2], "{xs:?}");
    // A run that draws its SYNs puts the hosts that open connections first.
    let dir = run_into(&load("last_ack_lost"), tmp.path());
    let svg = fs::read_to_string(dir.join("ladder.svg")).unwrap();
    let xs = ["client_tw", "client_notw", "R", "server"].map(|n| text_x(&svg, n));
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
}
