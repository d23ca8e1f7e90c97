//! The `states` figure: one row per socket, a coloured bar per TCP state.

use super::model::FigureData;
use super::secs;
use crate::report::plot::{Row, Timeline};

pub(super) fn states(
    d: &FigureData,
    window: Option<(Option<f64>, Option<f64>)>,
) -> Option<Timeline> {
    if d.sockets.is_empty() {
        return None;
    }
    // Remote addresses are named by the host that owns them, when the files say.
    let owner = &d.owners;
    let rows = d
        .sockets
        .iter()
        .map(|s| {
            let remote = match owner.get(s.remote.ip()) {
                Some(h) => format!("{h}:{}", s.remote.port()),
                None => s.remote.to_string(),
            };
            let mut label = format!("{} :{} \u{2192} {remote}", s.conn, s.local.port());
            if s.incarnation > 1 {
                label.push_str(&format!(" (inc. {})", s.incarnation));
            }
            let mut spans = Vec::new();
            for (k, (t, state)) in s.changes.iter().enumerate() {
                if state == "CLOSED" {
                    continue;
                }
                let end = s
                    .changes
                    .get(k + 1)
                    .map_or(f64::INFINITY, |(t1, _)| secs(*t1));
                spans.push((secs(*t), end, state.clone()));
            }
            Row { label, spans }
        })
        .collect();
    let mut title = "TCP state of each socket".to_string();
    if d.socket_count > d.sockets.len() {
        title.push_str(&format!(
            " (first {} of {} sockets)",
            d.sockets.len(),
            d.socket_count
        ));
    }
    Some(Timeline {
        title,
        rows,
        // A window open at one end closes there where the state changes do.
        window: window.map(|(a, b)| {
            let times = d
                .sockets
                .iter()
                .flat_map(|s| s.changes.iter().map(|c| secs(c.0)));
            let lo = times.clone().fold(f64::INFINITY, f64::min);
            let hi = times.fold(f64::NEG_INFINITY, f64::max);
            (a.unwrap_or(lo), b.unwrap_or(hi))
        }),
    })
}
