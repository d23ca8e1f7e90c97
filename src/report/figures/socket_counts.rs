//! The `socket_counts` figure: sockets per state and host over time.

use super::model::FigureData;
use super::{COUNT_HOSTS, COUNTED, Stack, secs};
use crate::report::plot::{LineChart, Series};

pub(super) fn socket_counts(d: &FigureData) -> Option<Stack<LineChart>> {
    let nonzero = |h: usize, k: usize| d.held(h, k);
    let hosts: Vec<usize> = (0..d.counts.len())
        .filter(|&h| (0..COUNTED.len()).any(|k| nonzero(h, k)))
        .collect();
    let shown: Vec<usize> = hosts.iter().copied().take(COUNT_HOSTS).collect();
    let mut panels = Vec::new();
    let mut never = Vec::new();
    for (k, state) in COUNTED.iter().enumerate() {
        // A host keeps its colour in every panel; hosts and states never counted are left
        // out rather than drawn as lines along the axis.
        let mut series: Vec<Series> = shown
            .iter()
            .enumerate()
            .filter(|&(_, &h)| nonzero(h, k))
            .map(|(ci, &h)| {
                let pts = d.counts[h].1[k]
                    .iter()
                    .map(|&(t, n)| (secs(t), n as f64))
                    .collect();
                Series::new(d.counts[h].0.clone(), pts)
                    .steps()
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
        // A line within 1 % of an earlier one would hide under it: it is dashed instead.
        for i in 1..series.len() {
            if series[..i]
                .iter()
                .any(|e| close(&e.points, &series[i].points, most * 0.01))
            {
                series[i] = std::mem::take(&mut series[i]).dashed();
            }
        }
        panels.push(LineChart {
            title: format!("{state} sockets per host"),
            x_label: "time (s)".into(),
            y_label: "sockets".into(),
            series,
            // Counts are whole: a range of at least 0..5 keeps the ticks on whole numbers.
            y_range: Some((0.0, (most * 1.05).max(5.0))),
            ..LineChart::default()
        });
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
        panel_height: 360,
        heights: Vec::new(),
    })
}

/// Same x values and y values within `tol` of each other.
fn close(a: &[(f64, f64)], b: &[(f64, f64)], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(p, q)| p.0 == q.0 && (p.1 - q.1).abs() <= tol)
}
