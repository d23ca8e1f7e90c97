//! The `socket_counts` figure: sockets per state and host over time.

use super::model::FigureData;
use super::{COUNT_HOSTS, COUNTED, Stack, secs};
use crate::report::plot::{LineChart, Series};

pub(super) fn socket_counts(
    d: &FigureData,
    window: Option<(Option<f64>, Option<f64>)>,
) -> Option<Stack<LineChart>> {
    let nonzero = |h: usize, k: usize| d.held(h, k);
    let hosts: Vec<usize> = (0..d.counts.len())
        .filter(|&h| (0..COUNTED.len()).any(|k| nonzero(h, k)))
        .collect();
    let shown: Vec<usize> = hosts.iter().copied().take(COUNT_HOSTS).collect();
    let mut panels = Vec::new();
    let mut heights = Vec::new();
    let mut never = Vec::new();
    for (k, state) in COUNTED.iter().enumerate() {
        // A host keeps its colour in every panel; hosts and states never counted are left
        // out rather than drawn as lines along the axis.
        let mut series: Vec<Series> = shown
            .iter()
            .enumerate()
            .filter(|&(_, &h)| nonzero(h, k))
            .map(|(ci, &h)| {
                let line = &d.counts[h].1[k];
                let mut pts: Vec<(f64, f64)> =
                    line.iter().map(|&(t, n)| (secs(t), n as f64)).collect();
                // The count holds until the line's last row (the end of the run).
                if let (Some(end), Some(&(t, n))) = (d.count_end(h, k), line.last())
                    && end > t
                {
                    pts.push((secs(end), n as f64));
                }
                // Thousands of short-lived sockets: each pixel column's range, not a smear.
                Series::new(d.counts[h].0.clone(), pts)
                    .steps()
                    .dense_as_band()
                    .with_color(ci)
            })
            .collect();
        if series.is_empty() {
            never.push(*state);
            continue;
        }
        let most = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0, f64::max);
        // Every line carries its own marker shape: lines that meet stay apart, and a socket
        // held for less than a pixel column still shows as a mark at its height. A line
        // within 1 % of an earlier one is dashed too.
        for s in &mut series {
            *s = std::mem::take(s).with_markers();
        }
        for i in 1..series.len() {
            if series[..i]
                .iter()
                .any(|e| close(&e.points, &series[i].points, most * 0.01))
            {
                series[i] = std::mem::take(&mut series[i]).dashed();
            }
        }
        // TIME_WAIT is measured against what the summary says it should reach: the ports
        // a client has, and its connection rate times TIME_WAIT (one line per value).
        let mut hlines: Vec<(f64, String)> = Vec::new();
        if *state == "TIME_WAIT" {
            let drawn: Vec<&str> = shown.iter().map(|&h| d.counts[h].0.as_str()).collect();
            for (host, v, words) in &d.count_refs {
                if !drawn.contains(&host.as_str()) {
                    continue;
                }
                match hlines.iter_mut().find(|h| h.0 == *v) {
                    // The same port range on several clients is one line.
                    Some(h) if words.ends_with("ephemeral ports") && h.1 == *words => {}
                    Some(h) => h.1 = format!("{}; {words}", h.1),
                    None => hlines.push((*v, words.clone())),
                }
            }
        }
        let top = hlines.iter().map(|h| h.0).fold(most, f64::max);
        // A window open at one end closes there where the counts do.
        let x_range = window.map(|(a, b)| {
            let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
            let lo = xs.clone().fold(f64::INFINITY, f64::min);
            let hi = xs.fold(f64::NEG_INFINITY, f64::max);
            (a.unwrap_or(lo), b.unwrap_or(hi))
        });
        // Hosts whose counts flicker faster than the pixels show are drawn as bands; two
        // such bands over the same range of values blend into one colour, so then each host
        // gets a panel of its own.
        let span = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            });
        let range = |s: &Series| {
            s.points
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                    (lo.min(p.1), hi.max(p.1))
                })
        };
        let flickering: Vec<(f64, f64)> = series
            .iter()
            .filter(|s| band_share(&s.points, span, top) > FLICKER)
            .map(range)
            .collect();
        let blend = flickering
            .iter()
            .enumerate()
            .any(|(i, r)| flickering[..i].contains(r));
        if blend {
            for mut s in series {
                let own = range(&s).1;
                let hlines = hlines
                    .iter()
                    .filter(|h| h.1.contains(&s.name) || h.1.ends_with("ephemeral ports"))
                    .cloned()
                    .collect();
                // The title names the host: no legend.
                let host = std::mem::take(&mut s.name);
                heights.push(HOST_PANEL_PX);
                panels.push(LineChart {
                    hlines,
                    title: format!("{state} sockets on {host}"),
                    x_label: "time (s)".into(),
                    y_label: "sockets".into(),
                    series: vec![s],
                    y_range: Some((0.0, (own * 1.06).max(5.0))),
                    x_range,
                    ..LineChart::default()
                });
            }
            continue;
        }
        heights.push(PANEL_PX);
        panels.push(LineChart {
            hlines,
            title: format!("{state} sockets per host"),
            x_label: "time (s)".into(),
            y_label: "sockets".into(),
            series,
            // Counts are whole: a range of at least 0..5 keeps the ticks on whole numbers.
            y_range: Some((0.0, (top * 1.06).max(5.0))),
            x_range,
            ..LineChart::default()
        });
    }
    // The failures share the state panels' time axis, from their first row to their last.
    let span = panels
        .iter()
        .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)))
        .fold(None, |acc: Option<(f64, f64)>, x| {
            Some(acc.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))))
        });
    if let Some(p) = failed_connects(d, window, span) {
        heights.push(PANEL_PX);
        panels.push(p);
    }
    if panels.is_empty() {
        return None;
    }
    let mut title = "Sockets per state over time".to_string();
    let mut notes = Vec::new();
    if !never.is_empty() {
        notes.push(format!("none in {}", never.join(" or ")));
    }
    if hosts.len() > shown.len() {
        notes.push(format!("first {} of {} hosts", shown.len(), hosts.len()));
    }
    if !notes.is_empty() {
        title.push_str(&format!(" ({})", notes.join("; ")));
    }
    Some(Stack {
        title,
        subtitle: String::new(),
        panels,
        panel_height: PANEL_PX,
        heights,
    })
}

/// Height of a panel with every host's line, in pixels.
const PANEL_PX: u32 = 360;

/// Height of a panel with one host's line.
const HOST_PANEL_PX: u32 = 270;

/// A line whose band covers more than this share of the panel's height, on average over the
/// time axis, flickers (see [`band_share`]).
const FLICKER: f64 = 0.1;

/// Columns of the time axis [`band_share`] looks at, about one per two pixels.
const COLUMNS: usize = 400;

/// How much of a panel `top` high the step line `points` covers as a band: the mean, over
/// [`COLUMNS`] columns of `span`, of its least to greatest value in each column, over `top`.
/// A ramp of thousands of steps covers little; a count going up and down between 0 and 1 in
/// every column covers all of it.
fn band_share(points: &[(f64, f64)], (x0, x1): (f64, f64), top: f64) -> f64 {
    if points.is_empty() || x1.partial_cmp(&x0) != Some(std::cmp::Ordering::Greater) || top <= 0.0 {
        return 0.0;
    }
    let width = (x1 - x0) / COLUMNS as f64;
    let mut covered = 0.0;
    let mut i = 0;
    // The value held coming into a column.
    let mut held: Option<f64> = None;
    for c in 0..COLUMNS {
        let end = x0 + (c + 1) as f64 * width;
        let (mut lo, mut hi) = held.map_or((f64::INFINITY, f64::NEG_INFINITY), |v| (v, v));
        while i < points.len() && (points[i].0 < end || c + 1 == COLUMNS) {
            lo = lo.min(points[i].1);
            hi = hi.max(points[i].1);
            held = Some(points[i].1);
            i += 1;
        }
        if hi > lo {
            covered += hi - lo;
        }
    }
    covered / COLUMNS as f64 / top
}

/// Failed `connect()` calls so far, one line per host and errno (Linux would return them to
/// the application: EADDRNOTAVAIL once every ephemeral port is in use or in TIME_WAIT).
fn failed_connects(
    d: &FigureData,
    window: Option<(Option<f64>, Option<f64>)>,
    span: Option<(f64, f64)>,
) -> Option<LineChart> {
    let series: Vec<Series> = d
        .failed
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut pts: Vec<(f64, f64)> =
                f.steps.iter().map(|&(t, n)| (secs(t), n as f64)).collect();
            // Zero until the first failure, as the state lines start from zero.
            if let (Some((start, _)), Some(&(t, _))) = (span, pts.first())
                && start < t
            {
                pts.insert(0, (start, 0.0));
            }
            // The count holds to the end of the other panels' axis.
            if let (Some((_, end)), Some(&(t, n))) = (span, pts.last())
                && end > t
            {
                pts.push((end, n));
            }
            Series::new(format!("{} {}", f.host, f.errno), pts)
                .steps()
                .with_color(i)
                .with_markers()
        })
        .collect();
    let most = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    if most == 0.0 {
        return None;
    }
    let total: u64 = d
        .failed
        .iter()
        .filter_map(|f| f.steps.last())
        .map(|l| l.1)
        .sum();
    let x_range = match (window, span) {
        (Some((a, b)), Some((lo, hi))) => Some((a.unwrap_or(lo), b.unwrap_or(hi))),
        (None, span) => span,
        (Some(_), None) => None,
    };
    Some(LineChart {
        title: format!("Failed connect() calls so far ({total} in all)"),
        x_label: "time (s)".into(),
        y_label: "failed connects".into(),
        series,
        y_range: Some((0.0, (most * 1.06).max(5.0))),
        x_range,
        ..LineChart::default()
    })
}

/// Two step functions (each y holds until the next x) within `tol` of each other at every x
/// either changes at, from where both have begun.
fn close(a: &[(f64, f64)], b: &[(f64, f64)], tol: f64) -> bool {
    let at = |p: &[(f64, f64)], x: f64| {
        let i = p.partition_point(|q| q.0 <= x);
        (i > 0).then(|| p[i - 1].1)
    };
    a.iter().chain(b).all(|&(x, _)| match (at(a, x), at(b, x)) {
        (Some(u), Some(v)) => (u - v).abs() <= tol,
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::{band_share, close};

    #[test]
    fn a_flickering_count_covers_its_panel_and_a_ramp_does_not() {
        // 0, 1, 0, 1, ... every millisecond for a second: every column holds 0 and 1.
        let flicker: Vec<(f64, f64)> = (0..1000)
            .map(|i| (i as f64 * 1e-3, (i % 2) as f64))
            .collect();
        assert!(band_share(&flicker, (0.0, 1.0), 1.0) > 0.95);
        // A ramp to 1,000 in steps of one: each column spans 2.5 of 1,000.
        let ramp: Vec<(f64, f64)> = (0..=1000).map(|i| (i as f64 * 1e-3, i as f64)).collect();
        assert!(band_share(&ramp, (0.0, 1.0), 1000.0) < 0.01);
    }

    #[test]
    fn step_lines_that_change_at_different_times_are_not_close() {
        let a = [(0.0, 0.0), (1.0, 5.0), (3.0, 0.0)];
        // The same steps written with an extra unchanged point: close.
        let b = [(0.0, 0.0), (1.0, 5.0), (2.0, 5.0), (3.0, 0.0)];
        assert!(close(&a, &b, 0.01));
        // Ends one second later: not close.
        let c = [(0.0, 0.0), (1.0, 5.0), (4.0, 0.0)];
        assert!(!close(&a, &c, 0.01));
    }
}
