//! Line charts: counts over time (as steps) and probabilities with confidence bands.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Axes, Bounds, Figure, Frame, Key, Legend, PlotError, Px, Style, axes_with_legend, axis_range,
    clip_polygon, clip_polyline, draw_beam, draw_marker, extent, fin, sample_path, text_size,
};

/// How a series' line is stroked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dash {
    /// A continuous line.
    #[default]
    Solid,
    /// A dashed line.
    Dashed,
}

/// One line of a [`LineChart`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend text; series with an empty name are left out of the legend.
    pub name: String,
    /// (x, y) points in drawing order; a non-finite point breaks the line.
    pub points: Vec<(f64, f64)>,
    /// Optional confidence band as (x, lo, hi), drawn as a translucent area in the series'
    /// colour; entries with a non-finite value break the band.
    pub band: Option<Vec<(f64, f64, f64)>>,
    /// Solid or dashed.
    pub dash: Dash,
    /// Draw a marker at the points (at most about 30 per series, evenly spaced, so dense series
    /// stay readable). Each series gets its own shape, so they differ in grey-scale print too.
    pub marker: bool,
    /// Draw as a step function: each y holds until the next point's x (for counts over time).
    pub step: bool,
    /// Palette index; `None` takes the series' position in [`LineChart::series`].
    pub color: Option<usize>,
}

impl Series {
    /// A solid line without markers, bands or steps.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            ..Series::default()
        }
    }

    /// The same series drawn dashed.
    pub fn dashed(mut self) -> Series {
        self.dash = Dash::Dashed;
        self
    }

    /// The same series with markers.
    pub fn with_markers(mut self) -> Series {
        self.marker = true;
        self
    }

    /// The same series drawn as steps.
    pub fn steps(mut self) -> Series {
        self.step = true;
        self
    }

    /// The same series with a confidence band of (x, lo, hi).
    pub fn with_band(mut self, band: Vec<(f64, f64, f64)>) -> Series {
        self.band = Some(band);
        self
    }

    /// The same series in palette colour `i`.
    pub fn with_color(mut self, i: usize) -> Series {
        self.color = Some(i);
        self
    }

    /// The points as drawn: with the corners of the steps added when `step` is set.
    fn path(&self) -> Vec<(f64, f64)> {
        if !self.step {
            return self.points.clone();
        }
        let mut out = Vec::with_capacity(self.points.len() * 2);
        let mut prev_y: Option<f64> = None;
        for &(x, y) in &self.points {
            if let Some(py) = prev_y {
                out.push((x, py));
            }
            out.push((x, y));
            prev_y = Some(y);
        }
        out
    }
}

/// A line chart with a legend, optional confidence bands and labelled vertical marker lines.
///
/// Ranges left as `None` fit the data; y then starts at 0 when no value is negative, and gets
/// 5 % headroom on top.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineChart {
    /// Title over the plot (may be empty).
    pub title: String,
    /// x axis description, with units: "time (s)".
    pub x_label: String,
    /// y axis description, with units.
    pub y_label: String,
    /// The lines, drawn in order; colours follow the style's palette.
    pub series: Vec<Series>,
    /// x axis range; `None` fits the data.
    pub x_range: Option<(f64, f64)>,
    /// y axis range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// Vertical dashed lines at x with a label ("loop forms"), e.g. for events.
    pub vlines: Vec<(f64, String)>,
    /// Horizontal reference lines at y with their words ("28232 ephemeral ports"), dashed
    /// and thin, the words above the line at the right end.
    pub hlines: Vec<(f64, String)>,
    /// Draw the series' bands as error bars (an I-beam at each x) instead of translucent
    /// areas, each series nudged a few pixels sideways so bars and markers of series with the
    /// same values stand side by side rather than on top of each other.
    pub error_bars: bool,
}

/// Markers per series at most: more would merge into a thick line.
const MAX_MARKERS: usize = 30;

impl LineChart {
    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let xs = self.series.iter().flat_map(|s| {
            s.points
                .iter()
                .map(|p| p.0)
                .chain(s.band.iter().flatten().map(|b| b.0))
        });
        let auto_x = extent(xs.chain(self.vlines.iter().map(|v| v.0)));
        let x = axis_range(self.x_range, auto_x);
        let ys = self.series.iter().flat_map(|s| {
            s.points
                .iter()
                .map(|p| p.1)
                .chain(s.band.iter().flatten().flat_map(|b| [b.1, b.2]))
        });
        let ys = ys.chain(self.hlines.iter().map(|h| h.0));
        let y = match (self.y_range, extent(ys)) {
            (Some(r), auto) => axis_range(Some(r), auto),
            (None, Some((lo, hi))) => {
                let lo = lo.min(0.0);
                let (lo, hi) = axis_range(None, Some((lo, hi)));
                (lo, hi + (hi - lo) * 0.05)
            }
            (None, None) => axis_range(None, None),
        };
        (x, y)
    }

    fn legend(&self, style: &Style) -> Legend {
        let entries = self
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.name.is_empty())
            .map(|(i, s)| {
                let key = Key::Line {
                    color: style.color(s.color.unwrap_or(i)),
                    width: style.line_width,
                    dashed: s.dash == Dash::Dashed,
                    marker: s.marker.then_some(i),
                };
                (key, s.name.clone())
            })
            .collect();
        Legend {
            entries,
            text: style.text(style.tick_size, style.ink),
            columns: 1,
        }
    }
}

/// A chart's data in pixels for one frame: what is drawn, and what the legend must not hide.
struct Geometry {
    /// (series index, polygon) of the confidence bands.
    bands: Vec<(usize, Vec<(i32, i32)>)>,
    /// (series index, polyline) of the visible line pieces.
    lines: Vec<(usize, Vec<(i32, i32)>)>,
    /// (series index, centre) of the markers.
    markers: Vec<(usize, (i32, i32))>,
    /// (series index, top, bottom) of the error bars.
    bars: Vec<(usize, Px, Px)>,
    /// Labels of the vertical lines.
    vlabels: Vec<VLabel>,
}

impl LineChart {
    fn geometry(&self, frame: &Frame, style: &Style) -> Geometry {
        let (xr, yr) = (frame.x, frame.y);
        let mut g = Geometry {
            bands: Vec::new(),
            lines: Vec::new(),
            markers: Vec::new(),
            bars: Vec::new(),
            vlabels: vline_labels(frame, style, &self.vlines),
        };
        let n = self.series.len();
        // Sideways nudge of each series with error bars, in pixels, centred on the true x.
        let step = if self.error_bars && n > 1 {
            (48 / n as i32).clamp(2, 9)
        } else {
            0
        };
        let nudge = |i: usize| ((2 * i as i32 - (n as i32 - 1)) * step) / 2;
        for (i, s) in self.series.iter().enumerate() {
            let dx = nudge(i);
            let map = |p: (f64, f64)| {
                let (x, y) = frame.map(p);
                (x + dx, y)
            };
            if self.error_bars {
                for &(x, lo, hi) in s.band.as_deref().unwrap_or(&[]) {
                    let (Some(x), Some(lo), Some(hi)) = (fin(x), fin(lo), fin(hi)) else {
                        continue;
                    };
                    if x < xr.0 || x > xr.1 {
                        continue;
                    }
                    let (lo, hi) = (lo.min(hi).max(yr.0), lo.max(hi).min(yr.1));
                    if lo <= hi {
                        g.bars.push((i, map((x, hi)), map((x, lo))));
                    }
                }
            }
            for run in band_runs(s.band.as_deref().unwrap_or(&[])) {
                if self.error_bars {
                    break;
                }
                let poly: Vec<(f64, f64)> = run
                    .iter()
                    .map(|b| (b.0, b.2))
                    .chain(run.iter().rev().map(|b| (b.0, b.1)))
                    .collect();
                let clipped = clip_polygon(&poly, xr, yr);
                if clipped.len() >= 3 {
                    g.bands
                        .push((i, clipped.iter().map(|&p| frame.map(p)).collect()));
                }
            }
            for piece in clip_polyline(&s.path(), xr, yr) {
                g.lines.push((i, piece.iter().map(|&p| map(p)).collect()));
            }
            if s.marker {
                let inside: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .filter_map(|&(x, y)| Some((fin(x)?, fin(y)?)))
                    .filter(|&(x, y)| x >= xr.0 && x <= xr.1 && y >= yr.0 && y <= yr.1)
                    .collect();
                let every = inside.len().div_ceil(MAX_MARKERS).max(1);
                for &p in inside.iter().step_by(every) {
                    g.markers.push((i, map(p)));
                }
            }
        }
        g
    }
}

impl Geometry {
    /// Pixels the legend should not cover: lines, band edges, markers, vertical-line labels.
    fn occupied(&self) -> Vec<(i32, i32)> {
        let mut out = Vec::new();
        for (_, p) in self.bands.iter().chain(&self.lines) {
            sample_path(p, &mut out);
        }
        out.extend(self.markers.iter().map(|m| m.1));
        for &(_, top, bottom) in &self.bars {
            sample_path(&[top, bottom], &mut out);
        }
        for l in &self.vlabels {
            let b = l.bounds;
            sample_path(&[(b.x0, b.y0), (b.x1, b.y1)], &mut out);
            sample_path(&[(b.x0, b.y1), (b.x1, b.y0)], &mut out);
        }
        out
    }
}

impl Figure for LineChart {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &Style,
    ) -> Result<(), PlotError> {
        let style = &style.sanitized();
        let (xr, yr) = self.ranges();
        let mut axes = Axes {
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            x: xr,
            y: yr,
            y_down: false,
            x_ticks: true,
            y_ticks: true,
            left_extra: 0,
            top_extra: 0,
            grid_x: true,
            grid_y: true,
        };
        let mut legend = self.legend(style);
        let (frame, at, boxed) = axes_with_legend(area, style, &mut axes, &mut legend, |f| {
            self.geometry(f, style).occupied()
        })?;
        let g = self.geometry(&frame, style);
        let color = |i: usize| style.color(self.series[i].color.unwrap_or(i));

        // Bands under everything, so lines stay crisp on top.
        for (i, poly) in &g.bands {
            area.draw(&Polygon::new(poly.clone(), color(*i).mix(0.2).filled()))?;
        }
        draw_vlines(area, style, &frame, &self.vlines, &g.vlabels)?;
        draw_hlines(area, style, &frame, &self.hlines)?;
        for (i, px) in &g.lines {
            let line = color(*i).stroke_width(style.line_width);
            match self.series[*i].dash {
                Dash::Solid => area.draw(&PathElement::new(px.clone(), line))?,
                Dash::Dashed => {
                    let dash = 3 * style.line_width + 6;
                    area.draw(&DashedPathElement::new(
                        px.iter().copied(),
                        dash,
                        dash,
                        line,
                    ))?
                }
            }
        }
        for &(i, top, bottom) in &g.bars {
            draw_beam(area, top, bottom, color(i), 2)?;
        }
        for &(i, c) in &g.markers {
            draw_marker(area, i, c, color(i), style)?;
        }
        legend.draw(area, at, boxed, style)
    }
}

/// Maximal runs of finite band entries, sorted by x.
fn band_runs(band: &[(f64, f64, f64)]) -> Vec<Vec<(f64, f64, f64)>> {
    let mut runs = Vec::new();
    let mut cur: Vec<(f64, f64, f64)> = Vec::new();
    for &(x, lo, hi) in band {
        match (fin(x), fin(lo), fin(hi)) {
            (Some(x), Some(lo), Some(hi)) => cur.push((x, lo.min(hi), lo.max(hi))),
            _ => {
                if cur.len() >= 2 {
                    runs.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
        }
    }
    if cur.len() >= 2 {
        runs.push(cur);
    }
    for r in &mut runs {
        r.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    runs
}

/// A placed label of a vertical line.
struct VLabel {
    /// The line's pixel column.
    px: i32,
    /// Text box.
    bounds: Bounds,
    /// Text is right of the line (else left).
    right: bool,
    text: String,
}

/// Places the vertical lines' labels along the top of the plot, right of their line (left when
/// there is no room); a label that would overlap one already placed drops a row (three rows,
/// then it is omitted).
fn vline_labels(frame: &Frame, style: &Style, vlines: &[(f64, String)]) -> Vec<VLabel> {
    let text = style.text(style.note_size, style.ink);
    let row_h = (style.note_size * 1.3) as i32;
    let mut sorted: Vec<&(f64, String)> = vlines
        .iter()
        .filter(|v| v.0 >= frame.x.0 && v.0 <= frame.x.1 && !v.1.is_empty())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let plot = frame.plot;
    let mut placed: Vec<VLabel> = Vec::new();
    for (x, label) in sorted {
        let px = frame.px(*x);
        let (tw, th) = text_size(&text, label);
        let right = px + 6 + tw <= plot.x1;
        let x0 = if right { px + 4 } else { px - 4 - tw };
        for row in 0..3 {
            let y = plot.y0 + 4 + row * row_h;
            let b = Bounds {
                x0: x0 - 2,
                y0: y - 1,
                x1: x0 + tw + 2,
                y1: y + th + 1,
            };
            if placed.iter().all(|p| !p.bounds.overlaps(&b)) {
                placed.push(VLabel {
                    px,
                    bounds: b,
                    right,
                    text: label.clone(),
                });
                break;
            }
        }
    }
    placed
}

/// Dashed vertical lines at the given x, and their labels placed by [`vline_labels`].
fn draw_vlines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &Style,
    frame: &Frame,
    vlines: &[(f64, String)],
    labels: &[VLabel],
) -> Result<(), PlotError> {
    let plot = frame.plot;
    for (x, _) in vlines {
        if *x < frame.x.0 || *x > frame.x.1 {
            continue;
        }
        let px = frame.px(*x);
        area.draw(&DashedPathElement::new(
            [(px, plot.y0), (px, plot.y1)],
            6,
            4,
            style.ink.mix(0.6).stroke_width(1),
        ))?;
    }
    let text = style.text(style.note_size, style.ink);
    for l in labels {
        let b = l.bounds;
        area.draw(&Rectangle::new(
            [(b.x0, b.y0), (b.x1, b.y1)],
            WHITE.mix(0.85).filled(),
        ))?;
        let (tx, anchor) = if l.right {
            (l.px + 4, HPos::Left)
        } else {
            (l.px - 4, HPos::Right)
        };
        area.draw(&Text::new(
            l.text.clone(),
            (tx, b.y0 + 1),
            text.pos(Pos::new(anchor, VPos::Top)),
        ))?;
    }
    Ok(())
}

/// Dashed horizontal reference lines, each with its words above it at the right end (below
/// it when the line is near the top); words that would overlap earlier ones are moved down a
/// row.
fn draw_hlines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &Style,
    frame: &Frame,
    hlines: &[(f64, String)],
) -> Result<(), PlotError> {
    let plot = frame.plot;
    let text = style.text(style.note_size, style.ink);
    let mut taken: Vec<Bounds> = Vec::new();
    for (y, label) in hlines {
        let Some(y) = fin(*y) else { continue };
        if y < frame.y.0 || y > frame.y.1 {
            continue;
        }
        let py = frame.py(y);
        area.draw(&DashedPathElement::new(
            [(plot.x0, py), (plot.x1, py)],
            8,
            5,
            style.ink.mix(0.75).stroke_width(1),
        ))?;
        if label.is_empty() {
            continue;
        }
        let (tw, th) = text_size(&text, label);
        let x0 = plot.x1 - tw - 8;
        let mut top = if py - th - 4 >= plot.y0 {
            py - th - 4
        } else {
            py + 3
        };
        let mut b = Bounds {
            x0: x0 - 2,
            y0: top - 1,
            x1: x0 + tw + 2,
            y1: top + th + 1,
        };
        let mut tries = 0;
        while taken.iter().any(|t| t.overlaps(&b)) && tries < 4 {
            top += th + 2;
            b.y0 = top - 1;
            b.y1 = top + th + 1;
            tries += 1;
        }
        area.draw(&Rectangle::new(
            [(b.x0, b.y0), (b.x1, b.y1)],
            WHITE.mix(0.85).filled(),
        ))?;
        area.draw(&Text::new(
            label.clone(),
            (x0, top),
            text.pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
        taken.push(b);
    }
    Ok(())
}
