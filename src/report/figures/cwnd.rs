//! The `cwnd` figure: each sender's congestion window and slow-start threshold over time, one
//! panel per connection, with its fast retransmits and retransmission timeouts marked, drawn
//! from `tcp_probe.csv` alone (as tcptrace or ns-3's CongestionWindow trace plots are).

use std::collections::BTreeMap;
use std::path::Path;

use super::select::FigureOptions;
use super::{FigureError, Stack, TIMESEQ_PANELS};
use crate::report::plot::{LineChart, Series, Style, save as save_figure};

/// The probe file the figure is drawn from.
pub const SOURCE: &str = "tcp_probe.csv";

/// A row's `phase` as the figure tells them apart: the onsets it marks, and anything else.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Other,
    Recovery,
    Loss,
}

impl Phase {
    fn read(text: &[u8]) -> Phase {
        match text {
            b"recovery" => Phase::Recovery,
            b"loss" => Phase::Loss,
            _ => Phase::Other,
        }
    }
}

/// One connection's rows: (time s, cwnd kB, ssthresh kB or NaN, phase).
struct Trace {
    host: String,
    conn: String,
    rows: Vec<(f64, f64, f64, Phase)>,
}

fn read(path: &Path) -> Result<Vec<Trace>, FigureError> {
    let bad = |m: String| FigureError::Input(format!("{}: {m}", path.display()));
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            bad(format!(
                "no `{name}` column: not a tcp_probe.csv timewait wrote"
            ))
        })
    };
    let (host, time, conn, cwnd, ssthresh, phase) = (
        col("host")?,
        col("time")?,
        col("conn")?,
        col("cwnd")?,
        col("ssthresh")?,
        col("phase")?,
    );
    let mut traces: Vec<Trace> = Vec::new();
    // Each connection's place in `traces`: a run can have a hundred thousand.
    let mut index: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    // One record read into again and again: a probe file can hold millions of rows.
    let mut rec = csv::ByteRecord::new();
    let mut line = 1;
    while r
        .read_byte_record(&mut rec)
        .map_err(|e| bad(e.to_string()))?
    {
        line += 1;
        let text = |c: usize| String::from_utf8_lossy(rec.get(c).unwrap_or(b"")).into_owned();
        let num = |c: usize| -> Result<f64, FigureError> {
            let v = rec.get(c).unwrap_or(b"");
            if v.is_empty() {
                return Ok(f64::NAN);
            }
            std::str::from_utf8(v)
                .ok()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad(format!("row {line}: `{}` is not a number", text(c))))
        };
        let kb = |v: f64| v / 1000.0;
        let row = (
            num(time)?,
            kb(num(cwnd)?),
            kb(num(ssthresh)?),
            Phase::read(rec.get(phase).unwrap_or(b"")),
        );
        let name = rec.get(conn).unwrap_or(b"");
        match index.get(name) {
            Some(&k) => traces[k].rows.push(row),
            None => {
                index.insert(name.to_vec(), traces.len());
                traces.push(Trace {
                    host: text(host),
                    conn: text(conn),
                    rows: vec![row],
                });
            }
        }
    }
    Ok(traces)
}

/// The rows where the phase turns to `phase`.
fn onset_rows(
    rows: &[(f64, f64, f64, Phase)],
    phase: Phase,
) -> impl Iterator<Item = &(f64, f64, f64, Phase)> {
    let before = std::iter::once(Phase::Other).chain(rows.iter().map(|r| r.3));
    rows.iter()
        .zip(before)
        .filter(move |(r, before)| r.3 == phase && *before != phase)
        .map(|(r, _)| r)
}

/// Points where the phase turns to `phase`, apart (NaN between) so that only markers show.
fn onsets(rows: &[(f64, f64, f64, Phase)], phase: Phase) -> Vec<(f64, f64)> {
    onset_rows(rows, phase)
        .flat_map(|&(t, cwnd, _, _)| [(t, cwnd), (f64::NAN, f64::NAN)])
        .collect()
}

/// The figure for the probe rows in `path` that `opts` selects (time window, connections,
/// hosts), or `None` if no selected sender has a congestion window.
pub fn figure(path: &Path, opts: &FigureOptions) -> Result<Option<Stack<LineChart>>, FigureError> {
    let (from, to) = opts.window_secs().unwrap_or((None, None));
    let inside = |t: f64| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e);
    let traces: Vec<Trace> = read(path)?
        .into_iter()
        .filter(|t| opts.conns.is_empty() || opts.conns.contains(&t.conn))
        .filter(|t| opts.hosts.is_empty() || opts.hosts.contains(&t.host))
        .map(|mut t| {
            t.rows.retain(|r| inside(r.0));
            t
        })
        .filter(|t| t.rows.iter().any(|r| r.1.is_finite()))
        .collect();
    if traces.is_empty() {
        return Ok(None);
    }
    // With more senders than panels, the ones with the most losses (timeouts, then fast
    // retransmits), then the most ACKs, in the order they first sent.
    let shown = traces.len().min(TIMESEQ_PANELS);
    let mut rank: Vec<usize> = (0..traces.len()).collect();
    // Each key once: a probe file can hold a hundred thousand senders.
    rank.sort_by_cached_key(|&k| {
        let tr = &traces[k];
        let n = |phase| onset_rows(&tr.rows, phase).count();
        std::cmp::Reverse((n(Phase::Loss), n(Phase::Recovery), tr.rows.len()))
    });
    let mut chosen: Vec<usize> = rank[..shown].to_vec();
    chosen.sort_unstable();
    let mut panels = Vec::new();
    for tr in chosen.iter().map(|&k| &traces[k]) {
        let cwnd: Vec<(f64, f64)> = tr.rows.iter().map(|r| (r.0, r.1)).collect();
        let ssthresh: Vec<(f64, f64)> = tr
            .rows
            .iter()
            .filter(|r| r.2.is_finite())
            .map(|r| (r.0, r.2))
            .collect();
        let mut series = vec![Series::new("cwnd", cwnd).steps().with_color(0)];
        if !ssthresh.is_empty() {
            series.push(
                Series::new("ssthresh", ssthresh)
                    .steps()
                    .dashed()
                    .with_color(1),
            );
        }
        for (i, (phase, name)) in [
            (Phase::Recovery, "fast retransmit"),
            (Phase::Loss, "timeout"),
        ]
        .into_iter()
        .enumerate()
        {
            let pts = onsets(&tr.rows, phase);
            if !pts.is_empty() {
                let n = pts.len() / 2;
                series.push(
                    Series::new(format!("{name} ({n})"), pts)
                        .with_markers()
                        .with_color(3 + i),
                );
            }
        }
        let top = tr
            .rows
            .iter()
            .flat_map(|r| [r.1, r.2])
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        panels.push(LineChart {
            title: format!("{} sender", tr.conn),
            x_label: "time (s)".into(),
            y_label: "window (kB)".into(),
            series,
            y_range: Some((0.0, top * 1.05)),
            x_range: (from.is_some() || to.is_some()).then(|| {
                let first = tr.rows.first().map_or(0.0, |r| r.0);
                let last = tr.rows.last().map_or(first, |r| r.0);
                (from.unwrap_or(first), to.unwrap_or(last))
            }),
            ..LineChart::default()
        });
    }
    let subtitle = if traces.len() > shown {
        format!(
            "{shown} of {} senders: those with the most timeouts and fast retransmits",
            traces.len()
        )
    } else {
        "from tcp_probe.csv: one row per ACK".to_string()
    };
    Ok(Some(Stack {
        title: "Congestion window and slow-start threshold".into(),
        subtitle,
        panels,
        panel_height: 320,
        heights: Vec::new(),
    }))
}

/// Draws `cwnd` in the formats `opts` asks for into `out`, from `from`'s tcp_probe.csv, if it
/// has one, `opts` wants the figure, and a selected sender has a congestion window; returns
/// the files written.
pub fn save(from: &Path, out: &Path, opts: &FigureOptions) -> Result<Vec<String>, FigureError> {
    let path = from.join(SOURCE);
    if !path.is_file() || !opts.wants("cwnd") {
        return Ok(Vec::new());
    }
    let Some(fig) = figure(&path, opts)? else {
        return Ok(Vec::new());
    };
    let mut style = Style::default();
    if let Some(w) = opts.width {
        style.width = w;
    }
    let base = out.join("cwnd");
    let written = save_figure(&base, &style, &fig, opts.formats)
        .map_err(|e| FigureError::writing(&base, e))?;
    Ok(written
        .into_iter()
        .map(|ext| format!("cwnd.{ext}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::{Phase, onsets};

    #[test]
    fn an_onset_is_a_row_whose_phase_differs_from_the_row_before() {
        let phases = [
            Phase::Recovery,
            Phase::Recovery,
            Phase::Other,
            Phase::Recovery,
            Phase::Loss,
            Phase::Loss,
            Phase::Recovery,
        ];
        let rows: Vec<_> = phases
            .iter()
            .enumerate()
            .map(|(i, &p)| (i as f64, 10.0 * i as f64, f64::NAN, p))
            .collect();
        let times = |phase| -> Vec<f64> {
            onsets(&rows, phase)
                .chunks(2)
                .inspect(|pair| assert!(pair[1].0.is_nan() && pair[1].1.is_nan()))
                .map(|pair| {
                    assert_eq!(pair[0].1, 10.0 * pair[0].0, "marked at the row's cwnd");
                    pair[0].0
                })
                .collect()
        };
        assert_eq!(times(Phase::Recovery), [0.0, 3.0, 6.0]);
        assert_eq!(times(Phase::Loss), [4.0]);
    }
}
