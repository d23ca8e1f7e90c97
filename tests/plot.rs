//! Figures: every kind writes a valid SVG and PNG with its labels, deterministically, and no
//! input (empty, NaN, out-of-range) makes it panic.
//!
//! Set `TIMEWAIT_PLOT_DIR=/some/dir` to keep the gallery's figures for looking at.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use timewait::report::plot::{
    Arrow, Figure, Formats, Ladder, LineChart, Mark, Row, Series, Style, TimeSeq, Timeline,
    render_svg, save, save_both,
};

/// TIME_WAIT and CLOSE_WAIT counts over time, as steps, with two event markers.
fn counts() -> LineChart {
    let tw: Vec<(f64, f64)> = (0..=40)
        .map(|i| {
            let t = i as f64 * 0.25;
            (t, ((i * 7) % 11) as f64 + if t > 4.0 { 5.0 } else { 0.0 })
        })
        .collect();
    let cw: Vec<(f64, f64)> = (0..=40)
        .map(|i| (i as f64 * 0.25, ((i * 3) % 5) as f64))
        .collect();
    LineChart {
        title: "Sockets waiting to close".into(),
        x_label: "time (s)".into(),
        y_label: "sockets".into(),
        series: vec![
            Series::new("TIME_WAIT", tw).steps(),
            Series::new("CLOSE_WAIT", cw).steps().dashed(),
        ],
        vlines: vec![(1.0, "loop forms".into()), (3.0, "loop heals".into())],
        ..LineChart::default()
    }
}

/// Probability of corruption against TIME_WAIT / MSL, one line per ISN policy, with bands.
fn corruption() -> LineChart {
    let xs: Vec<f64> = (0..=10).map(|i| i as f64 * 0.25).collect();
    let policy = |name: &str, scale: f64| {
        let pts: Vec<(f64, f64)> = xs
            .iter()
            .map(|&x| (x, (scale * (-1.5 * x).exp()).min(1.0)))
            .collect();
        let band = pts
            .iter()
            .map(|&(x, y)| (x, (y - 0.06).max(0.0), (y + 0.06).min(1.0)))
            .collect();
        Series::new(name, pts).with_markers().with_band(band)
    };
    LineChart {
        title: "Corruption of the next connection".into(),
        x_label: "TIME_WAIT / MSL".into(),
        y_label: "P(corruption)".into(),
        series: vec![
            policy("ISN = 0", 0.9),
            policy("clock-driven ISN", 0.5),
            policy("RFC 6528 ISN", 0.15).dashed(),
        ],
        y_range: Some((0.0, 1.0)),
        ..LineChart::default()
    }
}

/// A handshake, a data segment caught in a loop (dies of TTL), and its lost duplicate.
fn ladder() -> Ladder {
    let lanes = ["client", "A", "B", "C", "server"];
    let mut arrows = Vec::new();
    let mut hop = |from: usize, to: usize, sent: f64, label: &str, highlight: bool| {
        arrows.push(Arrow {
            from,
            to,
            sent,
            arrived: sent + 0.01,
            label: label.into(),
            highlight,
        });
    };
    for (k, (l, dir)) in [("S 0:0(0)", 1), ("S. 0:0(0) ack 1", -1), (". ack 1", 1)]
        .into_iter()
        .enumerate()
    {
        let t0 = k as f64 * 0.05;
        for h in 0..4 {
            let (f, t) = if dir > 0 { (h, h + 1) } else { (4 - h, 3 - h) };
            hop(f, t, t0 + h as f64 * 0.01, l, false);
        }
    }
    // Round and round the A -> B -> C -> A loop.
    let mut t = 0.2;
    for i in 0..12 {
        let (f, to) = [(1, 2), (2, 3), (3, 1)][i % 3];
        hop(f, to, t, "P. 1:1001(1000)", i >= 9);
        t += 0.01;
    }
    Ladder {
        title: "A segment in a routing loop".into(),
        lanes: lanes.iter().map(|s| s.to_string()).collect(),
        arrows,
        deaths: vec![Mark {
            lane: 1,
            time: t,
            label: "TTL 0".into(),
        }],
        window: None,
        highlight_label: "lost duplicate".into(),
        ..Ladder::default()
    }
}

fn timeline(rows: usize) -> Timeline {
    let rows = (0..rows)
        .map(|i| {
            let t = i as f64 * 0.4;
            let (side, states): (&str, &[&str]) = if i % 2 == 0 {
                (
                    "client",
                    &[
                        "SYN_SENT",
                        "ESTABLISHED",
                        "FIN_WAIT_1",
                        "FIN_WAIT_2",
                        "TIME_WAIT",
                    ],
                )
            } else {
                (
                    "server",
                    &["SYN_RCVD", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK"],
                )
            };
            let durations = [0.05, 1.5, 0.05, 0.3, 2.0];
            let mut start = t;
            let spans = states
                .iter()
                .zip(durations)
                .map(|(s, d)| {
                    let span = (start, start + d, s.to_string());
                    start += d;
                    span
                })
                .collect();
            Row {
                label: format!(
                    "{side} 10.0.0.1:{} -> 10.0.0.2:5000 #{}",
                    49152 + i / 2,
                    i / 2
                ),
                spans,
            }
        })
        .collect();
    Timeline {
        title: "Socket states".into(),
        rows,
        window: None,
    }
}

fn timeseq() -> TimeSeq {
    let mut sent = Vec::new();
    let mut acked = Vec::new();
    for i in 0..30 {
        let t = i as f64 * 0.02;
        let lo = i as f64 * 1000.0;
        sent.push((t, lo, lo + 1000.0));
        acked.push((t + 0.05, lo + 1000.0));
    }
    TimeSeq {
        title: "Client -> server".into(),
        retransmitted: vec![(0.7, 5000.0, 6000.0), (0.72, 6000.0, 7000.0)],
        highlighted: vec![(0.9, 12000.0, 13000.0)],
        sent,
        acked,
        window: None,
    }
}

/// Where figures go: `TIMEWAIT_PLOT_DIR` if set (kept), else a temporary folder.
fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("TIMEWAIT_PLOT_DIR") {
        Some(d) => {
            let p = PathBuf::from(d);
            std::fs::create_dir_all(&p).expect("create TIMEWAIT_PLOT_DIR");
            (None, p)
        }
        None => {
            let t = tempfile::tempdir().expect("tempdir");
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

/// Every text node of the SVG, after checking it parses.
fn svg_texts(path: &Path) -> HashSet<String> {
    let src = std::fs::read_to_string(path).expect("read svg");
    let doc = roxmltree::Document::parse(&src).expect("SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Decodes the PNG and returns (width, height, number of distinct colours).
fn png_facts(path: &Path) -> (u32, u32, usize) {
    let file = std::fs::File::open(path).expect("open png");
    let mut reader = png::Decoder::new(file).read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    let px = info.color_type.samples();
    let colours: HashSet<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    (info.width, info.height, colours.len())
}

/// Writes `fig` as `name.svg` / `name.png` / `name.pdf`, checks them, and returns the SVG's
/// texts.
fn check(fig: &(impl Figure + Sync), dir: &Path, name: &str) -> HashSet<String> {
    let style = Style::default();
    let base = dir.join(name);
    let written = save(&base, &style, fig, Formats::ALL).expect("figure written");
    assert_eq!(written, ["svg", "png", "pdf"]);
    let svg = dir.join(format!("{name}.svg"));
    let png = dir.join(format!("{name}.png"));
    let pdf = dir.join(format!("{name}.pdf"));
    assert!(
        std::fs::read(&pdf).expect("pdf").starts_with(b"%PDF-"),
        "{name}.pdf is a PDF"
    );
    for p in [&svg, &png, &pdf] {
        let len = std::fs::metadata(p).expect("file exists").len();
        assert!(len > 0, "{} is empty", p.display());
    }
    let (w, h, colours) = png_facts(&png);
    assert_eq!((w, h), fig.size(&style), "{name}.png size");
    assert!(colours > 1, "{name}.png is a single flat colour");

    // Same input, same bytes.
    let again = dir.join(format!("{name}-again"));
    save(&again, &style, fig, Formats::ALL).expect("figure written twice");
    for ext in ["svg", "png", "pdf"] {
        let a = std::fs::read(dir.join(format!("{name}.{ext}"))).expect("read");
        let b = std::fs::read(dir.join(format!("{name}-again.{ext}"))).expect("read");
        assert!(a == b, "{name}.{ext} differs between two identical draws");
        std::fs::remove_file(dir.join(format!("{name}-again.{ext}"))).expect("remove");
    }
    svg_texts(&svg)
}

fn assert_has(texts: &HashSet<String>, wanted: &[&str]) {
    for w in wanted {
        assert!(texts.contains(*w), "SVG lacks text {w:?}; has {texts:?}");
    }
}

#[test]
fn line_chart_of_counts() {
    let (_keep, dir) = out_dir();
    let t = check(&counts(), &dir, "counts");
    assert_has(
        &t,
        &[
            "Sockets waiting to close",
            "time (s)",
            "sockets",
            "TIME_WAIT",
            "CLOSE_WAIT",
            "loop forms",
            "loop heals",
        ],
    );
}

#[test]
fn line_chart_with_bands() {
    let (_keep, dir) = out_dir();
    let t = check(&corruption(), &dir, "corruption");
    assert_has(
        &t,
        &[
            "TIME_WAIT / MSL",
            "P(corruption)",
            "ISN = 0",
            "clock-driven ISN",
            "RFC 6528 ISN",
            "0.5",
        ],
    );
}

#[test]
fn ladder_chart() {
    let (_keep, dir) = out_dir();
    let t = check(&ladder(), &dir, "ladder");
    assert_has(
        &t,
        &[
            "client",
            "A",
            "B",
            "C",
            "server",
            "time (s)",
            "S 0:0(0)",
            "TTL 0",
            "lost duplicate",
            "P. 1:1001(1000)",
        ],
    );
}

#[test]
fn ladder_window_zooms() {
    let (_keep, dir) = out_dir();
    let mut l = ladder();
    l.window = Some((0.19, 0.26));
    let t = check(&l, &dir, "ladder-window");
    assert_has(&t, &["P. 1:1001(1000)"]);
    assert!(
        !t.contains("S 0:0(0)"),
        "the handshake is outside the window"
    );
}

#[test]
fn timeline_chart() {
    let (_keep, dir) = out_dir();
    let t = check(&timeline(6), &dir, "timeline");
    assert_has(
        &t,
        &[
            "Socket states",
            "time (s)",
            "client 10.0.0.1:49152 -> 10.0.0.2:5000 #0",
            "server 10.0.0.1:49154 -> 10.0.0.2:5000 #2",
            "TIME_WAIT",
            "CLOSE_WAIT",
            "ESTABLISHED",
        ],
    );
}

#[test]
fn timeline_caps_rows() {
    let (_keep, dir) = out_dir();
    let fig = timeline(100);
    let t = check(&fig, &dir, "timeline-capped");
    assert_has(&t, &["Socket states (first 32 of 100 sockets)"]);
    // Rows go client #0, server #0, client #1, ...: the 32nd is server #15.
    assert!(t.contains("server 10.0.0.1:49167 -> 10.0.0.2:5000 #15"));
    assert!(!t.iter().any(|s| s.contains("#16")), "row 33 is drawn");
}

#[test]
fn time_sequence_chart() {
    let (_keep, dir) = out_dir();
    let t = check(&timeseq(), &dir, "timeseq");
    assert_has(
        &t,
        &[
            "Client -> server",
            "time (s)",
            "relative sequence number (bytes)",
            "data sent",
            "retransmission",
            "cumulative ACK",
            "corrupting segment",
        ],
    );
}

#[test]
fn empty_inputs_give_valid_figures() {
    let (_keep, dir) = out_dir();
    check(&LineChart::default(), &dir, "empty-lines");
    check(&Ladder::default(), &dir, "empty-ladder");
    check(&Timeline::default(), &dir, "empty-timeline");
    check(&TimeSeq::default(), &dir, "empty-timeseq");
    // Series and lanes present, but nothing in them.
    let lines = LineChart {
        series: vec![Series::new("nothing", vec![]).with_band(vec![])],
        ..LineChart::default()
    };
    check(&lines, &dir, "empty-series");
    let ladder = Ladder {
        lanes: vec!["a".into(), "b".into()],
        ..Ladder::default()
    };
    check(&ladder, &dir, "empty-lanes");
}

#[test]
fn hostile_inputs_do_not_panic() {
    let (_keep, dir) = out_dir();
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    let lines = LineChart {
        series: vec![
            Series::new("nan", vec![(nan, 1.0), (1.0, nan), (inf, -inf), (2.0, 2.0)])
                .with_markers()
                .steps()
                .with_band(vec![(nan, 0.0, 1.0), (1.0, inf, 0.0), (2.0, 3.0, 1.0)]),
            Series::new("one point", vec![(5.0, 5.0)]).with_color(usize::MAX),
            Series::new("huge", vec![(0.0, 1e300), (1e300, -1e300)]),
        ],
        x_range: Some((3.0, 3.0)),
        y_range: Some((nan, 7.0)),
        vlines: vec![
            (nan, "nan".into()),
            (3.0, String::new()),
            (inf, "inf".into()),
        ],
        ..LineChart::default()
    };
    check(&lines, &dir, "hostile-lines");
    let tiny = LineChart {
        series: vec![Series::new(
            "tiny",
            vec![(1e15, 1e-300), (1e15 + 1.0, 2e-300)],
        )],
        ..LineChart::default()
    };
    check(&tiny, &dir, "hostile-tiny");
    let ladder = Ladder {
        lanes: vec!["only".into()],
        arrows: vec![
            Arrow {
                from: 0,
                to: 7,
                sent: 0.0,
                arrived: 1.0,
                label: "bad lane".into(),
                highlight: true,
            },
            Arrow {
                from: 0,
                to: 0,
                sent: nan,
                arrived: 1.0,
                ..Arrow::default()
            },
            Arrow {
                from: 0,
                to: 0,
                sent: 2.0,
                arrived: 1.0,
                label: "backwards".into(),
                highlight: false,
            },
        ],
        deaths: vec![
            Mark {
                lane: 9,
                time: 0.0,
                label: "x".into(),
            },
            Mark {
                lane: 0,
                time: inf,
                label: "y".into(),
            },
        ],
        window: Some((inf, nan)),
        ..Ladder::default()
    };
    check(&ladder, &dir, "hostile-ladder");
    let timeline = Timeline {
        rows: vec![Row {
            label: "x".repeat(500),
            spans: vec![
                (nan, 1.0, "ESTABLISHED".into()),
                (0.0, inf, "TIME_WAIT".into()),
                (3.0, 1.0, "made up".into()),
                (-inf, 1.0, "LISTEN".into()),
            ],
        }],
        window: Some((1.0, 1.0)),
        ..Timeline::default()
    };
    check(&timeline, &dir, "hostile-timeline");
    let ts = TimeSeq {
        sent: vec![(nan, 0.0, 1.0), (1.0, 5.0, 2.0), (2.0, inf, 0.0)],
        retransmitted: vec![(1.0, 1.0, 1.0)],
        acked: vec![(nan, nan), (1.0, 3.0)],
        highlighted: vec![(inf, 0.0, 1.0)],
        window: Some((2.0, -2.0)),
        ..TimeSeq::default()
    };
    check(&ts, &dir, "hostile-timeseq");
}

#[test]
fn odd_text_and_styles_do_not_break_files() {
    let (_keep, dir) = out_dir();
    let lines = LineChart {
        title: "a <b> & \"c\" \u{1}\u{7f} \u{1F600}".into(),
        x_label: "x\ny".into(),
        series: vec![Series::new("<&>", vec![(0.0, 0.0), (1.0, 1.0)])],
        ..LineChart::default()
    };
    let t = check(&lines, &dir, "odd-text");
    assert!(
        t.contains("<&>"),
        "markup characters survive escaping: {t:?}"
    );
    let long = Timeline {
        rows: vec![Row {
            label: "y".repeat(100_000),
            spans: vec![(0.0, 1.0, "ESTABLISHED".into())],
        }],
        ..Timeline::default()
    };
    check(&long, &dir, "long-label");

    // Nonsense sizes are clamped, not obeyed.
    let style = Style {
        width: 0,
        height: 3,
        title_size: f64::NAN,
        label_size: 1e300,
        tick_size: -5.0,
        note_size: f64::INFINITY,
        line_width: u32::MAX,
        palette: Vec::new(),
        ..Style::default()
    };
    let base = dir.join("odd-style");
    save_both(&base, &style, &corruption()).expect("lines with odd style");
    save_both(&base, &style, &ladder()).expect("ladder with odd style");
    save_both(&base, &style, &timeline(3)).expect("timeline with odd style");
    save_both(&base, &style, &timeseq()).expect("timeseq with odd style");
}

/// Not a timed assertion: prints how long a 10,000-arrow ladder plus the other figures take
/// (run with `cargo test --release --test plot -- --nocapture drawing_time`).
#[test]
fn drawing_time() {
    let (_keep, dir) = out_dir();
    let lanes: Vec<String> = ["client", "R1", "R2", "R3", "R4", "server"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let arrows: Vec<Arrow> = (0..10_000)
        .map(|i| {
            let from = i % 5;
            let sent = i as f64 * 0.001;
            Arrow {
                from,
                to: from + 1,
                sent,
                arrived: sent + 0.004,
                label: format!("P. {}:{}(1000)", i * 1000, i * 1000 + 1000),
                highlight: i == 5000,
            }
        })
        .collect();
    let big = Ladder {
        title: "10,000 hops".into(),
        lanes,
        arrows,
        ..Ladder::default()
    };
    let style = Style::default();
    let start = Instant::now();
    save_both(&dir.join("perf-ladder"), &style, &big).expect("ladder");
    let ladder_time = start.elapsed();
    save_both(&dir.join("perf-lines"), &style, &corruption()).expect("lines");
    save_both(&dir.join("perf-timeline"), &style, &timeline(40)).expect("timeline");
    save_both(&dir.join("perf-timeseq"), &style, &timeseq()).expect("timeseq");
    let total = start.elapsed();
    eprintln!(
        "drawing time: 10,000-arrow ladder {:.0} ms, all four figures {:.0} ms (SVG + PNG each)",
        ladder_time.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3
    );
}

/// Four series with the same values at every point, sharing one line: each one's colour
/// shows on the line and on markers, the bars are drawn once, and the vertical lines' labels
/// sit above the plot (over no data), none over another.
#[test]
fn coinciding_series_each_show_and_line_labels_stay_off_the_data() {
    let xs: Vec<f64> = (0..=20).map(|i| i as f64 * 0.125).collect();
    let pts: Vec<(f64, f64)> = xs.iter().map(|&x| (x, 0.68)).collect();
    let band: Vec<(f64, f64, f64)> = xs.iter().map(|&x| (x, 0.64, 0.72)).collect();
    let names = ["rfc793-clock", "rfc6528", "linux", "random"];
    let chart = LineChart {
        title: "Longest lifetime".into(),
        subtitle: "All series coincide: rfc793-clock = rfc6528 = linux = random".into(),
        x_label: "TIME_WAIT / MSL".into(),
        y_label: "s".into(),
        series: names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                Series::new(*n, pts.clone())
                    .with_markers()
                    .with_band(band.clone())
                    .sharing(0, i, names.len())
            })
            .collect(),
        vlines: vec![
            (
                0.944,
                "longest old segment lifetime 0.944 s = 0.94 MSL".into(),
            ),
            (1.0, "MSL".into()),
            (2.0, "2 x MSL".into()),
        ],
        error_bars: true,
        ..LineChart::default()
    };
    let (_keep, dir) = out_dir();
    check(&chart, &dir, "lines-coinciding");
    let svg = render_svg(&Style::default(), &chart).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let style = Style::default();
    let hex = |i: usize| {
        let c = style.color(i);
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    };
    let strokes = |c: &str, width: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .filter(|n| {
                n.attribute("stroke") == Some(c) && n.attribute("stroke-width") == Some(width)
            })
            .count()
    };
    let filled = |c: &str| {
        doc.descendants()
            .filter(|n| n.attribute("fill") == Some(c))
            .count()
    };
    let lw = style.line_width.to_string();
    for (i, n) in names.iter().enumerate() {
        // On the line, not only in the legend's key: the first member's solid line is one
        // path, the others' dashes many.
        let least = if i == 0 { 2 } else { 3 };
        assert!(strokes(&hex(i), &lw) >= least, "{n}'s line shows nowhere");
        // Markers in its colour (the legend's key has one too).
        assert!(filled(&hex(i)) >= 3, "{n}'s markers show nowhere");
    }
    // Error bars (stroke width 2) in the first member's colour only.
    assert!(strokes(&hex(0), "2") >= 21);
    for i in 1..names.len() {
        assert_eq!(strokes(&hex(i), "2"), 0, "series {i} drew its own bars");
    }
    // Every vertical line's label is drawn, above the plot's top (the top y grid line), and
    // no two overlap.
    let grid_top = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some("#DDDDDD"))
        .filter_map(|n| {
            let pts: Vec<f64> = n
                .attribute("points")?
                .split([' ', ','])
                .filter_map(|v| v.parse().ok())
                .collect();
            (pts.len() == 4 && pts[1] == pts[3]).then_some(pts[1])
        })
        .fold(f64::INFINITY, f64::min);
    let boxes: Vec<(f64, f64, f64, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("opacity") == Some("0.85"))
        .map(|r| {
            let v = |a: &str| r.attribute(a).unwrap().parse::<f64>().unwrap();
            (v("x"), v("y"), v("x") + v("width"), v("y") + v("height"))
        })
        .collect();
    assert_eq!(boxes.len(), 3, "{boxes:?}");
    for (i, a) in boxes.iter().enumerate() {
        assert!(
            a.3 <= grid_top,
            "label {a:?} reaches into the plot (top {grid_top})"
        );
        for b in &boxes[i + 1..] {
            let overlap = a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
            assert!(!overlap, "{a:?} overlaps {b:?}");
        }
    }
    let texts: HashSet<String> = doc
        .descendants()
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect();
    assert!(texts.contains("All series coincide: rfc793-clock = rfc6528 = linux = random"));
}

/// A bar the time axis cuts, whose words fit neither piece but the whole bar: they are
/// written across the cut, and, in white on the dark bar, with a halo in the bar's colour so
/// the letters over the white cut band stay readable.
#[test]
fn words_across_a_cut_on_a_dark_bar_have_a_halo() {
    let state = "A_VERY_LONG_STATE_NAME_WRITTEN_RIGHT_ACROSS_THE_CUT";
    let timeline = Timeline {
        title: "cut".into(),
        rows: vec![
            Row {
                label: "long".into(),
                spans: vec![(0.0, 100.0, state.into())],
            },
            Row {
                label: "early".into(),
                spans: vec![
                    (0.0, 0.5, "SYN_SENT".into()),
                    (0.5, 1.0, "ESTABLISHED".into()),
                ],
            },
            Row {
                label: "late".into(),
                spans: vec![
                    (99.0, 99.5, "FIN_WAIT_1".into()),
                    (99.5, 100.0, "TIME_WAIT".into()),
                ],
            },
        ],
        window: None,
    };
    let (_keep, dir) = out_dir();
    check(&timeline, &dir, "timeline-cut-halo");
    let svg = render_svg(&Style::default(), &timeline).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let full = format!("{state} 100 s");
    let fills: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.text().map(str::trim) == Some(full.as_str()))
        .filter_map(|n| n.attribute("fill"))
        .collect();
    // The state is not a known one: the first of the other colours, a dark grey.
    assert_eq!(
        fills.iter().filter(|f| **f == "#FFFFFF").count(),
        1,
        "{fills:?}"
    );
    assert_eq!(
        fills.iter().filter(|f| **f == "#777777").count(),
        8,
        "{fills:?}"
    );
}
