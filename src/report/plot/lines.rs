//! Line charts: counts over time (as steps) and probabilities with confidence bands.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Axes, Bounds, Figure, Frame, Key, Legend, MARGIN, PlotError, Px, Style, axes_with_legend,
    axis_range, clip_polygon, clip_polyline, draw_beam, draw_marker, extent, fin, layout_axes,
    sample_path, text_size,
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
    /// This series has the same values as others at every point: it is drawn as one of a
    /// group sharing one line, see [`Share`].
    pub share: Option<Share>,
    /// For a step series with more changes than the plot has pixel columns: where they
    /// come closer than a pixel column or two apart over a stretch, draw each column's least to greatest value as a shaded band with a thin outline
    /// instead of the steps (which would merge into a smear); the exact steps elsewhere.
    /// Nothing is averaged: every value the series takes lies within what is drawn, and a
    /// value held for an instant still reaches the band's edge.
    pub envelope: bool,
}

/// A series' place in a group of series with the same values at every point. The group's
/// line is drawn in turns: the first member's solid line under short dashes of the others,
/// each in its own slot of the dash cycle, so every member's colour shows along the line;
/// markers take turns the same way (point j shows member j mod `of`), and error bars are
/// drawn once, by the first member. The series keep their exact x: none is nudged apart from
/// the others of its group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Share {
    /// Index in [`LineChart::series`] of the group's first member.
    pub first: usize,
    /// This member's place in the group, 0 for the first.
    pub slot: usize,
    /// How many series the group has.
    pub of: usize,
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

    /// The same step series drawn as a band of each pixel column's extremes where its
    /// changes are too dense to draw one by one (see [`Series::envelope`]).
    pub fn dense_as_band(mut self) -> Series {
        self.envelope = true;
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

    /// The same series as member `slot` of a group of `of` series with the same values,
    /// whose first member is series `first`.
    pub fn sharing(mut self, first: usize, slot: usize, of: usize) -> Series {
        self.share = Some(Share { first, slot, of });
        self
    }

    /// The slot and group size of this series' turns (0 of 1 when it shares with none).
    fn turn(&self) -> (usize, usize) {
        match self.share {
            Some(s) if s.of > 1 => (s.slot.min(s.of - 1), s.of),
            _ => (0, 1),
        }
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
    /// A line of smaller text under the title (may be empty): a note such as which series
    /// coincide.
    pub subtitle: String,
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
    /// Vertical dashed lines at x with a label ("loop forms"), e.g. for events. The labels sit
    /// in a band above the plot, in as many rows as they need not to overlap, so they never
    /// cover the data.
    pub vlines: Vec<(f64, String)>,
    /// Horizontal reference lines at y with their words ("28232 ephemeral ports"), dashed
    /// and thin, the words above the line at the right end.
    pub hlines: Vec<(f64, String)>,
    /// Draw the series' bands as error bars (an I-beam at each x) instead of translucent
    /// areas, each series nudged a few pixels sideways so bars and markers of series with the
    /// same values stand side by side rather than on top of each other.
    pub error_bars: bool,
}

/// The subtitle's words when a series draws dense steps as a band.
const BAND_NOTE: &str =
    "shaded where changes are too close to draw apart: each pixel column's least to greatest value";

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
                    dashed: s.dash == Dash::Dashed || s.turn().0 > 0,
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
    /// (series index, polyline) of the thin outlines of dense stretches' bands.
    outlines: Vec<(usize, Vec<(i32, i32)>)>,
}

impl LineChart {
    fn geometry(&self, frame: &Frame) -> Geometry {
        let (xr, yr) = (frame.x, frame.y);
        let mut g = Geometry {
            bands: Vec::new(),
            lines: Vec::new(),
            markers: Vec::new(),
            bars: Vec::new(),
            outlines: Vec::new(),
        };
        // Sideways nudge of each line with error bars, in pixels, centred on the true x: one
        // per group of series sharing a line, so that bars and markers of lines that meet
        // stand side by side; all the lines' nudges together take at most half the distance
        // between neighbouring x values, so a point never drifts toward the next one.
        let leader = |i: usize| match self.series[i].share {
            Some(s) if s.first < i && s.of > 1 => s.first,
            _ => i,
        };
        let lines: Vec<usize> = (0..self.series.len()).filter(|&i| leader(i) == i).collect();
        let n = lines.len();
        let step = if self.error_bars && n > 1 {
            let mut xs: Vec<i32> = self
                .series
                .iter()
                .flat_map(|s| s.points.iter().filter_map(|p| fin(p.0)))
                .filter(|&x| x >= xr.0 && x <= xr.1)
                .map(|x| frame.px(x))
                .collect();
            xs.sort_unstable();
            xs.dedup();
            let gap = xs.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(i32::MAX);
            let room = (gap / 2 / (n as i32 - 1)).max(1);
            (48 / n as i32).clamp(2, 9).min(room)
        } else {
            0
        };
        let nudge = |i: usize| {
            let k = lines.iter().position(|&l| l == leader(i)).unwrap_or(0) as i32;
            ((2 * k - (n as i32 - 1)) * step) / 2
        };
        for (i, s) in self.series.iter().enumerate() {
            let dx = nudge(i);
            let (slot, of) = s.turn();
            let map = |p: (f64, f64)| {
                let (x, y) = frame.map(p);
                (x + dx, y)
            };
            // A series sharing its line with earlier ones has their bars too: drawn once.
            if self.error_bars && slot == 0 {
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
                if self.error_bars || slot > 0 {
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
            let columns = (s.step && s.envelope)
                .then(|| StepColumns::new(&s.points, frame))
                .filter(|c| !c.dense.is_empty());
            let lines: Vec<Vec<(i32, i32)>> = clip_polyline(&s.path(), xr, yr)
                .iter()
                .map(|piece| piece.iter().map(|&p| map(p)).collect())
                .collect();
            if let Some(c) = &columns {
                for &(c0, c1) in &c.dense {
                    let (top, bottom) = c.outline(c0, c1, frame);
                    let poly: Vec<(i32, i32)> =
                        top.iter().chain(bottom.iter().rev()).copied().collect();
                    g.bands.push((i, poly));
                    g.outlines.push((i, top));
                    g.outlines.push((i, bottom));
                }
                for piece in &lines {
                    for part in cut_out(piece, &c.dense) {
                        g.lines.push((i, part));
                    }
                }
                if s.marker {
                    // Evenly along the series, each on the greatest value of its column;
                    // each series' marks a little after the previous one's, so series
                    // that share values show every shape.
                    let cols: Vec<i32> =
                        c.hi.iter()
                            .enumerate()
                            .filter(|(_, h)| h.is_some())
                            .map(|(k, _)| c.first + k as i32)
                            .collect();
                    let (first, last) = match (cols.first(), cols.last()) {
                        (Some(&a), Some(&b)) => (a, b),
                        _ => continue,
                    };
                    let n = MAX_MARKERS as i32;
                    let spacing = (last - first) / n;
                    let shift = spacing * i as i32 / self.series.len().max(1) as i32;
                    for k in 0..n {
                        let col = first + spacing / 2 + shift + spacing * k;
                        if (k as usize) % of != slot {
                            continue;
                        }
                        if let Some(hi) = c.hi.get((col - first) as usize).copied().flatten() {
                            g.markers.push((i, (col, frame.py(hi))));
                        }
                    }
                }
                continue;
            }
            for piece in lines {
                g.lines.push((i, piece));
            }
            if s.marker {
                let inside: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .filter_map(|&(x, y)| Some((fin(x)?, fin(y)?)))
                    .filter(|&(x, y)| x >= xr.0 && x <= xr.1 && y >= yr.0 && y <= yr.1)
                    .collect();
                let every = inside.len().div_ceil(MAX_MARKERS).max(1);
                // Members of a shared line take turns: point j shows member j mod `of`.
                for (_, &p) in inside
                    .iter()
                    .step_by(every)
                    .enumerate()
                    .filter(|(j, _)| j % of == slot)
                {
                    g.markers.push((i, map(p)));
                }
            }
        }
        g
    }
}

impl Geometry {
    /// Pixels the legend should not cover: lines, band edges, markers, error bars.
    fn occupied(&self) -> Vec<(i32, i32)> {
        let mut out = Vec::new();
        for (_, p) in self.bands.iter().chain(&self.lines).chain(&self.outlines) {
            sample_path(p, &mut out);
        }
        out.extend(self.markers.iter().map(|m| m.1));
        for &(_, top, bottom) in &self.bars {
            sample_path(&[top, bottom], &mut out);
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
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
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
        // A band drawn for dense steps is explained under the title (the plot's width, and
        // so its pixel columns, does not depend on the height the note takes).
        let banded = self.series.iter().any(|s| s.envelope && s.step) && {
            let frame = layout_axes(w, h, style, &axes).frame;
            self.series
                .iter()
                .filter(|s| s.envelope && s.step)
                .any(|s| !StepColumns::new(&s.points, &frame).dense.is_empty())
        };
        let subtitle = match (banded, self.subtitle.is_empty()) {
            (false, _) => self.subtitle.clone(),
            (true, true) => BAND_NOTE.to_string(),
            (true, false) => format!("{}; {BAND_NOTE}", self.subtitle),
        };
        let sub_text = fit_text(style, style.note_size, &subtitle, w - 2 * MARGIN);
        let sub_h = if subtitle.is_empty() {
            0
        } else {
            text_size(&sub_text, &subtitle).1 + 6
        };
        axes.top_extra = sub_h;
        // The vertical lines' labels take a band of rows over the plot; the plot's width
        // does not depend on its height, so a trial layout tells how many rows they need.
        let trial = layout_axes(w, h, style, &axes).frame;
        let rows = vline_labels(&trial, style, &self.vlines)
            .iter()
            .map(|l| l.row + 1)
            .max()
            .unwrap_or(0);
        let row_h = vline_row_height(style);
        let band_h = if rows > 0 { rows * row_h + 4 } else { 0 };
        axes.top_extra += band_h;
        let mut legend = self.legend(style);
        let (frame, mut at, boxed) = axes_with_legend(area, style, &mut axes, &mut legend, |f| {
            self.geometry(f).occupied()
        })?;
        if !boxed {
            // Over the plot: above the band of line labels.
            at.1 -= band_h;
        }
        if !subtitle.is_empty() {
            let layout = layout_axes(w, h, style, &axes);
            let title_h = if self.title.is_empty() {
                0
            } else {
                (layout.title_style.font.get_size() * 1.2) as i32 + 8
            };
            area.draw(&Text::new(
                subtitle.clone(),
                (w / 2, MARGIN + title_h),
                sub_text.pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        let g = self.geometry(&frame);
        let vlabels = vline_labels(&frame, style, &self.vlines);
        let color = |i: usize| style.color(self.series[i].color.unwrap_or(i));

        // Bands under everything, so lines stay crisp on top.
        for (i, poly) in &g.bands {
            let alpha = if self.series[*i].envelope { 0.3 } else { 0.2 };
            area.draw(&Polygon::new(poly.clone(), color(*i).mix(alpha).filled()))?;
        }
        for (i, edge) in &g.outlines {
            area.draw(&PathElement::new(edge.clone(), color(*i).stroke_width(1)))?;
        }
        draw_vlines(area, style, &frame, &self.vlines, &vlabels)?;
        draw_hlines(area, style, &frame, &self.hlines)?;
        for (i, px) in &g.lines {
            let line = color(*i).stroke_width(style.line_width);
            let dash = 3 * style.line_width + 6;
            match (self.series[*i].dash, self.series[*i].turn()) {
                (Dash::Solid | Dash::Dashed, (slot, of)) if slot > 0 => {
                    // One dash in each cycle of `of`, in this member's slot.
                    let d = dash as f64;
                    for piece in dashes(px, d, d * (of - 1) as f64, d * slot as f64) {
                        area.draw(&PathElement::new(piece, line))?;
                    }
                }
                (Dash::Solid, _) => area.draw(&PathElement::new(px.clone(), line))?,
                (Dash::Dashed, _) => area.draw(&DashedPathElement::new(
                    px.iter().copied(),
                    dash,
                    dash,
                    line,
                ))?,
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

/// Changes within this many pixel columns either side of a column, at least
/// [`DENSE_CHANGES`] of them, make it a dense column: the steps there would merge.
const DENSE_REACH: i32 = 3;

/// See [`DENSE_REACH`]: more than about one change every two pixel columns.
const DENSE_CHANGES: usize = 4;

/// Pixels a column's values must spread over for its changes to need a band: within less,
/// the line's own width shows them.
const DENSE_SPREAD: i32 = 3;

/// Dense stretches narrower than this many pixel columns are drawn as steps.
const DENSE_WIDTH: i32 = 6;

/// Dense stretches at most this many pixel columns apart are drawn as one band.
const DENSE_GAP: i32 = 8;

/// A step series seen one pixel column at a time: the least and greatest value it takes in
/// each column (including the value held into the column from the left), and the stretches
/// of columns where its changes are too dense to draw one by one.
struct StepColumns {
    /// Pixel column of `lo[0]` and `hi[0]`.
    first: i32,
    /// Least value in each column from `first` on (`None` where the series is not drawn).
    lo: Vec<Option<f64>>,
    /// Greatest value in each column.
    hi: Vec<Option<f64>>,
    /// Dense stretches, as inclusive ranges of pixel columns, left to right.
    dense: Vec<(i32, i32)>,
}

impl StepColumns {
    fn new(points: &[(f64, f64)], frame: &Frame) -> StepColumns {
        let (xr, yr) = (frame.x, frame.y);
        let (left, right) = (
            frame.plot.x0.min(frame.plot.x1),
            frame.plot.x0.max(frame.plot.x1),
        );
        let width = (right - left + 1).max(1) as usize;
        let mut lo: Vec<Option<f64>> = vec![None; width];
        let mut hi: Vec<Option<f64>> = vec![None; width];
        let mut changes = vec![0usize; width];
        let pts: Vec<(f64, f64)> = points
            .iter()
            .filter_map(|&(x, y)| Some((fin(x)?, fin(y)?)))
            .collect();
        let col =
            |x: f64| (frame.px(x.clamp(xr.0, xr.1)) - left).clamp(0, width as i32 - 1) as usize;
        for (k, &(x, y)) in pts.iter().enumerate() {
            let end = pts.get(k + 1).map_or(x, |p| p.0);
            if end < xr.0 || x > xr.1 {
                continue;
            }
            let y = y.clamp(yr.0.min(yr.1), yr.0.max(yr.1));
            let (a, b) = (col(x), col(end));
            if x >= xr.0 && k > 0 {
                changes[a] += 1;
            }
            for c in a..=b {
                lo[c] = Some(lo[c].map_or(y, |v: f64| v.min(y)));
                hi[c] = Some(hi[c].map_or(y, |v: f64| v.max(y)));
            }
        }
        // Only a series with more changes than the plot has columns: a few bursts drawn as
        // steps keep their markers on the values, and bold risers show them best.
        let mut dense = Vec::new();
        if changes.iter().sum::<usize>() < width {
            return StepColumns {
                first: left,
                lo,
                hi,
                dense,
            };
        }
        // Changes near each column, by a running sum over the window.
        let reach = DENSE_REACH as usize;
        let mut prefix = vec![0usize; width + 1];
        for c in 0..width {
            prefix[c + 1] = prefix[c] + changes[c];
        }
        let mut run: Option<(i32, i32)> = None;
        for c in 0..width {
            let near = prefix[(c + reach + 1).min(width)] - prefix[c.saturating_sub(reach)];
            // Changes that stay within a line's width of each other draw as a line anyway.
            let tall = match (lo[c], hi[c]) {
                (Some(l), Some(h)) => (frame.py(l) - frame.py(h)).abs() >= DENSE_SPREAD,
                _ => false,
            };
            let is_dense = near >= DENSE_CHANGES && tall;
            let at = left + c as i32;
            match (&mut run, is_dense) {
                (Some(r), true) => r.1 = at,
                (None, true) => run = Some((at, at)),
                (Some(r), false) => {
                    dense.push(*r);
                    run = None;
                }
                (None, false) => {}
            }
        }
        dense.extend(run);
        // Bands a few columns apart are one: the steps between them would be a smear too.
        let mut merged: Vec<(i32, i32)> = Vec::with_capacity(dense.len());
        for r in dense {
            match merged.last_mut() {
                Some(m) if r.0 - m.1 <= DENSE_GAP => m.1 = r.1,
                _ => merged.push(r),
            }
        }
        // A burst within a few columns draws as risers over each other: a line as wide as
        // the band would be, and bolder.
        merged.retain(|r| r.1 - r.0 + 1 >= DENSE_WIDTH);
        let dense = merged;
        StepColumns {
            first: left,
            lo,
            hi,
            dense,
        }
    }

    /// The top and bottom edges (left to right) of the band over columns `c0..=c1`, in
    /// pixels: each column's greatest and least value across its width.
    fn outline(&self, c0: i32, c1: i32, frame: &Frame) -> (Vec<Px>, Vec<Px>) {
        let mut top = Vec::new();
        let mut bottom = Vec::new();
        for c in c0..=c1 {
            let i = (c - self.first) as usize;
            let (Some(lo), Some(hi)) = (self.lo[i], self.hi[i]) else {
                continue;
            };
            let (t, b) = (frame.py(hi), frame.py(lo));
            top.extend([(c, t), (c + 1, t)]);
            bottom.extend([(c, b), (c + 1, b)]);
        }
        (top, bottom)
    }
}

/// The parts of an axis-parallel pixel polyline (a step line) outside the bands over the
/// column ranges `cut` (inclusive, each band spanning x = a to b + 1): level stretches stop
/// at a band's edges, and risers inside a band are left to it.
fn cut_out(path: &[(i32, i32)], cut: &[(i32, i32)]) -> Vec<Vec<(i32, i32)>> {
    let mut kept: Vec<((i32, i32), (i32, i32))> = Vec::new();
    for w in path.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x0 == x1 {
            if !cut.iter().any(|&(a, b)| a <= x0 && x0 <= b) {
                kept.push(((x0, y0), (x1, y1)));
            }
            continue;
        }
        let (lo, hi) = (x0.min(x1), x0.max(x1));
        let mut from = lo;
        let mut parts = Vec::new();
        for &(a, b) in cut {
            if b < from || a >= hi {
                continue;
            }
            if a > from {
                parts.push((from, a));
            }
            from = from.max(b + 1);
        }
        if from < hi {
            parts.push((from, hi));
        }
        if x1 < x0 {
            parts.reverse();
            for p in &mut parts {
                *p = (p.1, p.0);
            }
        }
        // A level stretch keeps its height; any other segment its ends' (steps have none).
        kept.extend(parts.into_iter().map(|(a, b)| ((a, y0), (b, y1))));
    }
    let mut out: Vec<Vec<(i32, i32)>> = Vec::new();
    for (p, q) in kept {
        match out.last_mut() {
            Some(line) if line.last() == Some(&p) => line.push(q),
            _ => out.push(vec![p, q]),
        }
    }
    out
}

/// A text style of `size` pixels, made smaller (down to 8 px) until `text` fits `width`
/// pixels, with room for the bitmap backend drawing glyphs a little wider than it measures.
pub(super) fn fit_text(style: &Style, size: f64, text: &str, width: i32) -> TextStyle<'static> {
    let t = style.text(size, style.ink);
    let tw = text_size(&t, text).0;
    let room = width * 94 / 100;
    if tw <= room || tw == 0 {
        return t;
    }
    style.text((size * room as f64 / tw as f64).max(8.0), style.ink)
}

/// The pieces of a pixel polyline drawn by a dash pattern of `on` pixels drawn, `off`
/// pixels skipped, starting `phase` pixels into the pattern.
fn dashes(path: &[(i32, i32)], on: f64, off: f64, phase: f64) -> Vec<Vec<(i32, i32)>> {
    let period = (on + off).max(1.0);
    let mut out: Vec<Vec<(i32, i32)>> = Vec::new();
    let mut cur: Vec<(i32, i32)> = Vec::new();
    // Distance along the path, shifted so the pattern starts `phase` pixels late: the
    // member in slot k draws where the first member's dash cycle has moved on k dashes.
    let mut at = period - phase.rem_euclid(period);
    let point = |a: (i32, i32), b: (i32, i32), f: f64| {
        (
            a.0 + ((b.0 - a.0) as f64 * f).round() as i32,
            a.1 + ((b.1 - a.1) as f64 * f).round() as i32,
        )
    };
    for w in path.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (((b.0 - a.0) as f64).powi(2) + ((b.1 - a.1) as f64).powi(2)).sqrt();
        let mut done = 0.0;
        while done < len {
            let pos = at.rem_euclid(period);
            let drawing = pos < on;
            let left = if drawing { on - pos } else { period - pos };
            let step = left.min(len - done);
            let (p, q) = (point(a, b, done / len), point(a, b, (done + step) / len));
            if drawing {
                if cur.is_empty() {
                    cur.push(p);
                }
                cur.push(q);
            } else if cur.len() >= 2 {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.clear();
            }
            done += step;
            at += step;
        }
    }
    if cur.len() >= 2 {
        out.push(cur);
    }
    out
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
    /// Row in the band over the plot, 0 nearest the plot.
    row: i32,
    /// Text is right of the line (else left).
    right: bool,
    text: String,
}

/// Height of one row of vertical-line labels.
fn vline_row_height(style: &Style) -> i32 {
    (style.note_size * 1.3) as i32 + 2
}

/// Places the vertical lines' labels in a band of rows over the plot, right of their line
/// (left when there is no room). A line runs up to its own label, so a label that spans other
/// lines goes in a row above theirs, and labels that span none are placed first, lowest; a
/// label that would overlap one already placed goes a row higher, so none is ever left out
/// and none covers the data.
fn vline_labels(frame: &Frame, style: &Style, vlines: &[(f64, String)]) -> Vec<VLabel> {
    let text = style.text(style.note_size, style.ink);
    let row_h = vline_row_height(style);
    let mut sorted: Vec<&(f64, String)> = vlines
        .iter()
        .filter(|v| v.0 >= frame.x.0 && v.0 <= frame.x.1 && !v.1.is_empty())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let plot = frame.plot;
    let columns: Vec<i32> = sorted.iter().map(|v| frame.px(v.0)).collect();
    // Each label's side and box in row 0: right of its line unless only the left has room,
    // and the other lines it spans there.
    let laid: Vec<(bool, Bounds, Vec<usize>)> = sorted
        .iter()
        .enumerate()
        .map(|(k, (_, label))| {
            let px = columns[k];
            let (tw, th) = text_size(&text, label);
            let at = |right: bool| {
                let x0 = if right { px + 4 } else { px - 4 - tw };
                let y = plot.y0 - 4 - row_h + (row_h - th) / 2;
                Bounds {
                    x0: x0 - 2,
                    y0: y - 1,
                    x1: x0 + tw + 2,
                    y1: y + th + 1,
                }
            };
            let spans = |b: &Bounds| -> Vec<usize> {
                (0..columns.len())
                    .filter(|&j| j != k && columns[j] != px)
                    .filter(|&j| columns[j] >= b.x0 && columns[j] <= b.x1)
                    .collect()
            };
            let fits_right = px + 6 + tw <= plot.x1 + MARGIN;
            let fits_left = px - 6 - tw >= plot.x0 - MARGIN;
            let (r, l) = (at(true), at(false));
            let right = match (fits_right, fits_left) {
                (true, true) => spans(&r).len() <= spans(&l).len(),
                (false, true) => false,
                _ => true,
            };
            let b = if right { r } else { l };
            let crossed = spans(&b);
            (right, b, crossed)
        })
        .collect();
    let mut order: Vec<usize> = (0..sorted.len()).collect();
    order.sort_by_key(|&k| (!laid[k].2.is_empty(), k));
    let mut rows: Vec<Option<i32>> = vec![None; sorted.len()];
    let mut placed: Vec<VLabel> = Vec::new();
    for k in order {
        let (right, b0, crossed) = &laid[k];
        // Above every line it spans whose label is already placed.
        let mut row = crossed
            .iter()
            .filter_map(|&j| rows[j])
            .map(|r| r + 1)
            .max()
            .unwrap_or(0);
        let shifted = |row: i32| Bounds {
            y0: b0.y0 - row * row_h,
            y1: b0.y1 - row * row_h,
            ..*b0
        };
        while placed.iter().any(|p| p.bounds.overlaps(&shifted(row))) {
            row += 1;
        }
        rows[k] = Some(row);
        placed.push(VLabel {
            px: columns[k],
            bounds: shifted(row),
            row,
            right: *right,
            text: sorted[k].1.clone(),
        });
    }
    placed
}

/// Dashed vertical lines at the given x, each from the bottom of the plot up to its label in
/// the band over the plot, and the labels placed by [`vline_labels`].
fn draw_vlines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &Style,
    frame: &Frame,
    vlines: &[(f64, String)],
    labels: &[VLabel],
) -> Result<(), PlotError> {
    let plot = frame.plot;
    for (x, label) in vlines {
        if *x < frame.x.0 || *x > frame.x.1 {
            continue;
        }
        let px = frame.px(*x);
        let top = labels
            .iter()
            .find(|l| l.px == px && l.text == *label)
            .map_or(plot.y0, |l| (l.bounds.y0 + l.bounds.y1) / 2);
        area.draw(&DashedPathElement::new(
            [(px, top), (px, plot.y1)],
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame {
            plot: Bounds {
                x0: 100,
                y0: 0,
                x1: 299,
                y1: 200,
            },
            x: (0.0, 100.0),
            y: (0.0, 20.0),
            y_down: false,
        }
    }

    /// A count flipping between 2 and 5 every 10 ms for 60 s (far more changes than the 200
    /// columns), one socket held for 10 us at 17, then quiet at 1 from 60 s on.
    fn busy() -> Vec<(f64, f64)> {
        let mut pts: Vec<(f64, f64)> = (0..6000)
            .map(|k| (k as f64 * 0.01, if k % 2 == 0 { 2.0 } else { 5.0 }))
            .collect();
        pts.push((30.000_005, 17.0));
        pts.push((30.000_015, 2.0));
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        pts.push((60.0, 1.0));
        pts.push((100.0, 1.0));
        pts
    }

    #[test]
    fn dense_steps_become_a_band_that_keeps_every_extreme() {
        let f = frame();
        let c = StepColumns::new(&busy(), &f);
        // One band over the busy minute, none over the quiet rest.
        assert_eq!(c.dense.len(), 1, "{:?}", c.dense);
        let (a, b) = c.dense[0];
        assert_eq!(a, f.px(0.0));
        assert!((f.px(59.0)..=f.px(60.0)).contains(&b), "{b}");
        let col = |x: f64| (f.px(x) - c.first) as usize;
        // The socket held for 10 us still reaches the band's top in its column.
        assert_eq!(c.hi[col(30.0)], Some(17.0));
        assert_eq!((c.lo[col(20.0)], c.hi[col(20.0)]), (Some(2.0), Some(5.0)));
        assert_eq!((c.lo[col(80.0)], c.hi[col(80.0)]), (Some(1.0), Some(1.0)));
        // The band's outline spans each column's extremes.
        let (top, bottom) = c.outline(a, b, &f);
        assert!(top.contains(&(f.px(30.0), f.py(17.0))));
        assert!(bottom.iter().all(|p| p.1 >= f.py(2.0)));
    }

    #[test]
    fn sparse_steps_and_flat_dense_ones_stay_steps() {
        let f = frame();
        // A few bursts: steps, however close their changes.
        let few: Vec<(f64, f64)> = (0..80).map(|k| (k as f64 * 0.001, k as f64)).collect();
        assert!(StepColumns::new(&few, &f).dense.is_empty());
        // Thousands of +1 steps over a range of 0.1 px each: the line shows them exactly.
        let climb: Vec<(f64, f64)> = (0..5000)
            .map(|k| (k as f64 * 0.02, k as f64 * 1e-4))
            .collect();
        assert!(StepColumns::new(&climb, &f).dense.is_empty());
    }

    #[test]
    fn step_lines_stop_at_the_band_edges() {
        // Level at 10 from x 0 to 50, a riser inside the band, level at 20 to 100.
        let path = [(0, 10), (50, 10), (50, 20), (100, 20)];
        let parts = cut_out(&path, &[(40, 59)]);
        assert_eq!(
            parts,
            vec![vec![(0, 10), (40, 10)], vec![(60, 20), (100, 20)]]
        );
        // A riser outside every band is kept with its level stretches.
        let parts = cut_out(&path, &[(70, 79)]);
        assert_eq!(
            parts,
            vec![
                vec![(0, 10), (50, 10), (50, 20), (70, 20)],
                vec![(80, 20), (100, 20)]
            ]
        );
    }
}
