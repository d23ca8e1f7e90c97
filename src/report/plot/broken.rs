//! A time axis with breaks: stretches where nothing happens, long against the time around
//! them (60 s of TIME_WAIT after a 0.2 s exchange), are cut out and drawn as a narrow gap with
//! the classic `//` marks, so the moments where things change get the width.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{PlotError, Style, text_size, ticks};

/// Width of a break, in pixels.
pub(super) const BREAK_PX: i32 = 26;
/// Breaks at most.
const MAX_BREAKS: usize = 3;
/// A gap is cut when it is more than this share of the stretch it lies in...
const CUT_SHARE: f64 = 0.45;
/// ... and more than this share of the whole range: a short wait between two bursts of a
/// short exchange stays drawn to scale.
const CUT_TOTAL: f64 = 0.2;
/// A stretch is drawn at least this share of the widest stretch's width.
const MIN_SHARE: f64 = 0.22;

/// One uncut stretch of time and the pixel columns it is drawn on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Piece {
    pub t0: f64,
    pub t1: f64,
    pub x0: i32,
    pub x1: i32,
}

/// A time axis in pieces, left to right, with a break between each two.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct BrokenAxis {
    pub pieces: Vec<Piece>,
}

impl BrokenAxis {
    /// The axis for events at `times` (any order; non-finite ones ignored) shown over `range`,
    /// drawn on pixel columns `x0..x1`: uncut when no gap between two events dominates.
    pub fn fit(times: &[f64], range: (f64, f64), (x0, x1): (i32, i32)) -> BrokenAxis {
        let mut ts: Vec<f64> = times
            .iter()
            .copied()
            .filter(|t| t.is_finite() && *t >= range.0 && *t <= range.1)
            .chain([range.0, range.1])
            .collect();
        ts.sort_by(f64::total_cmp);
        ts.dedup();
        let whole = BrokenAxis {
            pieces: vec![Piece {
                t0: range.0,
                t1: range.1,
                x0,
                x1,
            }],
        };
        if ts.len() < 3 || x1 - x0 < 200 {
            return whole;
        }
        // Stretches as index ranges of `ts`; cut the relatively longest gap each time.
        let mut parts: Vec<(usize, usize)> = vec![(0, ts.len() - 1)];
        while parts.len() <= MAX_BREAKS {
            let best = parts
                .iter()
                .enumerate()
                .filter_map(|(p, &(a, b))| {
                    let span = ts[b] - ts[a];
                    let total = ts[ts.len() - 1] - ts[0];
                    (a + 1..=b)
                        .filter(|&i| ts[i] - ts[i - 1] > CUT_TOTAL * total)
                        .map(|i| ((ts[i] - ts[i - 1]) / span, i))
                        .filter(|g| g.0 > CUT_SHARE)
                        .max_by(|x, y| x.0.total_cmp(&y.0))
                        .map(|(r, i)| (r, p, i))
                })
                .max_by(|x, y| x.0.total_cmp(&y.0));
            let Some((_, p, i)) = best else { break };
            let (a, b) = parts[p];
            parts[p] = (a, i - 1);
            parts.insert(p + 1, (i, b));
        }
        if parts.len() == 1 {
            return whole;
        }
        // Each stretch padded a little, and widened about its middle to a readable share.
        let spans: Vec<(f64, f64)> = parts.iter().map(|&(a, b)| (ts[a], ts[b])).collect();
        let widest = spans
            .iter()
            .map(|s| s.1 - s.0)
            .fold(0.0, f64::max)
            .max(1e-9);
        let mut padded: Vec<(f64, f64)> = spans
            .iter()
            .map(|&(a, b)| {
                let d = (b - a).max(widest * MIN_SHARE);
                let mid = (a + b) / 2.0;
                let half = d / 2.0 + widest * 0.04;
                (mid - half, mid + half)
            })
            .collect();
        // Never past the range's ends, nor into the next stretch.
        padded[0].0 = padded[0].0.max(range.0);
        let last = padded.len() - 1;
        padded[last].1 = padded[last].1.min(range.1);
        for i in 1..padded.len() {
            let cut = (spans[i - 1].1 + spans[i].0) / 2.0;
            padded[i - 1].1 = padded[i - 1].1.min(cut);
            padded[i].0 = padded[i].0.max(cut);
        }
        let weights: Vec<f64> = padded
            .iter()
            .map(|p| (p.1 - p.0).max(widest * MIN_SHARE))
            .collect();
        let total: f64 = weights.iter().sum();
        let room = (x1 - x0 - BREAK_PX * (padded.len() as i32 - 1)) as f64;
        let mut pieces = Vec::new();
        let mut x = x0 as f64;
        for (p, w) in padded.iter().zip(&weights) {
            let px = room * w / total;
            pieces.push(Piece {
                t0: p.0,
                t1: p.1,
                x0: x.round() as i32,
                x1: (x + px).round() as i32,
            });
            x += px + BREAK_PX as f64;
        }
        BrokenAxis { pieces }
    }

    /// The pixel column of time `t`: within its piece, or within the break it falls in.
    pub fn px(&self, t: f64) -> i32 {
        let first = self.pieces[0];
        if t <= first.t0 || !t.is_finite() {
            return lin(first, t.max(first.t0 - (first.t1 - first.t0)));
        }
        for (i, p) in self.pieces.iter().enumerate() {
            if t <= p.t1 {
                return lin(*p, t);
            }
            if let Some(n) = self.pieces.get(i + 1)
                && t < n.t0
            {
                let f = (t - p.t1) / (n.t0 - p.t1);
                return p.x1 + ((n.x0 - p.x1) as f64 * f).round() as i32;
            }
        }
        let last = self.pieces[self.pieces.len() - 1];
        lin(last, t.min(last.t1 + (last.t1 - last.t0)))
    }

    /// The breaks: pixel columns of each gap and how much time it hides.
    pub fn breaks(&self) -> Vec<(i32, i32, f64)> {
        self.pieces
            .windows(2)
            .map(|w| (w[0].x1, w[1].x0, w[1].t0 - w[0].t1))
            .collect()
    }

    /// Whether the span `a..b` crosses a break.
    pub fn crosses_break(&self, a: f64, b: f64) -> bool {
        self.pieces.windows(2).any(|w| a <= w[0].t1 && b >= w[1].t0)
    }

    /// Draws the axis along pixel row `y`: a line per piece with its own ticks and labels,
    /// `//` at each break, light grid lines up to row `top`, and `label` centred under it.
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &Style,
        (top, y): (i32, i32),
        label: &str,
    ) -> Result<(), PlotError> {
        let tick_style = style.text(style.tick_size, style.ink);
        let axis = style.ink.stroke_width(2);
        let grid = style.grid.stroke_width(1);
        let thin = style.ink.stroke_width(1);
        let mut last_label_end = i32::MIN;
        let mut tick_h = 0;
        for p in &self.pieces {
            area.draw(&PathElement::new(vec![(p.x0, y), (p.x1, y)], axis))?;
            let probe = text_size(&tick_style, &format!("{:.3}", p.t1)).0 + 16;
            let n = ((p.x1 - p.x0) / probe.max(1)).clamp(1, 10) as usize;
            let mut tk = ticks((p.t0, p.t1), n);
            if tk.is_empty() {
                tk = ticks((p.t0, p.t1), n + 1);
            }
            for (v, text) in tk {
                let x = lin(*p, v);
                let (tw, th) = text_size(&tick_style, &text);
                tick_h = tick_h.max(th);
                if x - tw / 2 < last_label_end + 8 {
                    continue;
                }
                last_label_end = x + tw / 2;
                area.draw(&PathElement::new(vec![(x, top), (x, y)], grid))?;
                area.draw(&PathElement::new(vec![(x, y), (x, y + 6)], thin))?;
                area.draw(&Text::new(
                    text,
                    (x, y + 10),
                    tick_style.pos(Pos::new(HPos::Center, VPos::Top)),
                ))?;
            }
        }
        for (bx0, bx1, _) in self.breaks() {
            break_mark(area, style, (bx0 + bx1) / 2, y)?;
        }
        if !label.is_empty() {
            let (l, r) = (self.pieces[0].x0, self.pieces[self.pieces.len() - 1].x1);
            area.draw(&Text::new(
                label.to_string(),
                (
                    (l + r) / 2,
                    y + 14 + tick_h.max((style.tick_size * 1.2) as i32),
                ),
                style
                    .text(style.label_size, style.ink)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        Ok(())
    }
}

fn lin(p: Piece, t: f64) -> i32 {
    let f = if p.t1 > p.t0 {
        (t - p.t0) / (p.t1 - p.t0)
    } else {
        0.5
    };
    let v = p.x0 as f64 + (p.x1 - p.x0) as f64 * f;
    v.round().clamp(-1e6, 1e6) as i32
}

/// The `//` of an axis break centred at (x, y).
pub(super) fn break_mark<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &Style,
    x: i32,
    y: i32,
) -> Result<(), PlotError> {
    let s = style.ink.stroke_width(2);
    for dx in [-4, 4] {
        area.draw(&PathElement::new(
            vec![(x + dx - 4, y + 7), (x + dx + 4, y - 7)],
            s,
        ))?;
    }
    Ok(())
}

/// Cut marks across a bar from `y0` to `y1` at a break spanning columns `bx0..bx1`: the bar
/// is interrupted by a white band with slanted edges.
pub(super) fn cut_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (bx0, bx1): (i32, i32),
    (y0, y1): (i32, i32),
) -> Result<(), PlotError> {
    let mid = (bx0 + bx1) / 2;
    let lean = ((y1 - y0) / 4).max(2);
    area.draw(&Polygon::new(
        vec![
            (mid - 5 + lean, y0 - 1),
            (mid + 5 + lean, y0 - 1),
            (mid + 5 - lean, y1 + 1),
            (mid - 5 - lean, y1 + 1),
        ],
        WHITE.filled(),
    ))?;
    Ok(())
}

/// A duration for a bar: "60 s", "1.5 s", "250 ms", "40 µs".
pub(super) fn duration_text(d: f64) -> String {
    if !d.is_finite() || d < 0.0 {
        return String::new();
    }
    if d >= 100.0 {
        format!("{d:.0} s")
    } else if d >= 9.95 {
        format!("{d:.1} s").replace(".0 s", " s")
    } else if d >= 1.0 {
        format!("{d:.2} s")
    } else if d >= 1e-3 {
        let ms = format!("{:.3}", d * 1e3);
        format!("{} ms", ms.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!("{:.0} µs", d * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_quiet_stretch_is_cut_and_short_ones_are_not() {
        // A 0.2 s exchange, then TIME_WAIT ends 60 s later.
        let times = [1.0, 1.02, 1.04, 1.1, 1.2, 61.04];
        let ax = BrokenAxis::fit(&times, (1.0, 61.04), (100, 900));
        assert_eq!(ax.pieces.len(), 2, "{ax:?}");
        let (bx0, bx1, hidden) = ax.breaks()[0];
        assert_eq!(bx1 - bx0, BREAK_PX);
        assert!(hidden > 59.0 && hidden < 60.0, "{hidden}");
        // The exchange gets most of the width, and its events fall apart.
        assert!(ax.px(1.02) - ax.px(1.0) > 50);
        assert!(ax.pieces[0].x1 - ax.pieces[0].x0 > 400);
        // Monotonic across the break.
        let xs: Vec<i32> = [1.0, 1.2, 10.0, 40.0, 61.0, 61.04]
            .iter()
            .map(|&t| ax.px(t))
            .collect();
        assert!(xs.windows(2).all(|w| w[0] <= w[1]), "{xs:?}");
        assert!(ax.crosses_break(1.04, 61.04) && !ax.crosses_break(1.0, 1.1));

        // Evenly spread changes: one piece, the plain linear axis.
        let even: Vec<f64> = (0..20).map(|i| i as f64 * 0.5).collect();
        let ax = BrokenAxis::fit(&even, (0.0, 9.5), (100, 900));
        assert_eq!(ax.pieces.len(), 1);
        assert_eq!(ax.px(0.0), 100);
        assert_eq!(ax.px(9.5), 900);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(60.0), "60 s");
        assert_eq!(duration_text(59.84), "59.8 s");
        assert_eq!(duration_text(1.5), "1.50 s");
        assert_eq!(duration_text(0.25), "250 ms");
        assert_eq!(duration_text(0.0205), "20.5 ms");
        assert_eq!(duration_text(4e-5), "40 µs");
    }
}
