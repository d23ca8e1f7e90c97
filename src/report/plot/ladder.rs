//! Packet sequence ("ladder") charts: one vertical lane per node, time running down, one arrow
//! per hop.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Axes, Bounds, Figure, Frame, Key, Legend, PlotError, Px, Style, axis_range, clip_segment,
    draw_axes, draw_x, extent, fin, text_size,
};

/// A visible arrow in pixels: (index into `arrows`, start, end, arrival inside the window).
type Hop = (usize, Px, Px, bool);

/// One packet hop: it left lane `from` at `sent` and reached lane `to` at `arrived` (seconds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Arrow {
    /// Index into [`Ladder::lanes`] of the sending node.
    pub from: usize,
    /// Index into [`Ladder::lanes`] of the receiving node.
    pub to: usize,
    /// When the packet left `from`.
    pub sent: f64,
    /// When it reached `to`.
    pub arrived: f64,
    /// Short text, e.g. "S 0:0(0)" or "P. 1001:2001(1000) ack 1".
    pub label: String,
    /// Draw in the highlight colour, thicker, on top, and label it first (the lost duplicate).
    pub highlight: bool,
}

/// Something that happened at one lane at one time, drawn as an X with a label (a TTL death).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mark {
    /// Index into [`Ladder::lanes`].
    pub lane: usize,
    /// When, in seconds.
    pub time: f64,
    /// Short text, e.g. "TTL 0".
    pub label: String,
}

/// A ladder diagram.
///
/// Arrows or marks naming a lane that does not exist, or with non-finite times, are skipped.
///
/// Labels are placed greedily so they never overlap: highlighted arrows first, then marks, then
/// the other arrows in order of send time. An arrow's label is centred on the middle of its
/// visible part, or else a third or two thirds along it; a mark's label goes right of the X, or
/// else left of it. A spot is taken only if the label's box stays inside the plot, overlaps no
/// label already placed, covers the middle of no other arrow and crosses no other highlighted
/// arrow; with no such spot the label is left out. So in a dense burst the earliest packets are labelled and the rest are not, and
/// zooming in with `window` brings the missing labels back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ladder {
    /// Title over the chart (may be empty).
    pub title: String,
    /// Node names, left to right.
    pub lanes: Vec<String>,
    /// Packet hops.
    pub arrows: Vec<Arrow>,
    /// TTL deaths and other point events.
    pub deaths: Vec<Mark>,
    /// Time window [t0, t1] to show; `None` fits the data. Arrows crossing its edges are cut.
    pub window: Option<(f64, f64)>,
    /// Legend text for highlighted arrows ("lost duplicate"); empty says "highlighted packet".
    pub highlight_label: String,
}

impl Ladder {
    fn valid(&self, a: &Arrow) -> bool {
        a.from < self.lanes.len()
            && a.to < self.lanes.len()
            && a.sent.is_finite()
            && a.arrived.is_finite()
    }

    fn time_range(&self) -> (f64, f64) {
        let times = self
            .arrows
            .iter()
            .filter(|a| self.valid(a))
            .flat_map(|a| [a.sent, a.arrived])
            .chain(
                self.deaths
                    .iter()
                    .filter(|d| d.lane < self.lanes.len())
                    .map(|d| d.time),
            );
        // Room above the first hop and below the last, so their marks are not on the edge.
        let auto = extent(times).map(|r| {
            let (lo, hi) = axis_range(None, Some(r));
            let d = (hi - lo) * 0.03;
            (lo - d, hi + d)
        });
        axis_range(self.window, auto)
    }
}

impl Figure for Ladder {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &Style,
    ) -> Result<(), PlotError> {
        let style = &style.sanitized();
        let (w, _) = area.dim_in_pixel();
        let n = self.lanes.len().max(1);
        let name_style = style.text(style.label_size, style.ink);
        let name_h = (style.label_size * 1.25) as i32;
        // Two staggered rows of lane names when one row would make them touch.
        let spacing = w as i32 * 3 / 4 / n as i32;
        let widest = self
            .lanes
            .iter()
            .map(|l| text_size(&name_style, l).0)
            .max()
            .unwrap_or(0);
        let rows = if widest + 8 > spacing { 2 } else { 1 };
        let t = self.time_range();
        let legend = self.legend(style, t);
        let legend_h = legend.size().1;

        let frame = draw_axes(
            area,
            style,
            &Axes {
                title: &self.title,
                x_label: "",
                y_label: "time (s)",
                x: (-0.5, n as f64 - 0.5),
                y: t,
                y_down: true,
                x_ticks: false,
                y_ticks: true,
                left_extra: 0,
                top_extra: legend_h + rows * name_h + 6,
                grid_x: false,
                grid_y: true,
            },
        )?;
        let plot = frame.plot;
        legend.draw(
            area,
            (
                (plot.x0 + plot.x1 - legend.size().0) / 2,
                plot.y0 - rows * name_h - 6 - legend_h,
            ),
            false,
            style,
        )?;

        // Lanes and their names.
        for (i, name) in self.lanes.iter().enumerate() {
            let x = frame.px(i as f64);
            area.draw(&PathElement::new(
                vec![(x, plot.y0), (x, plot.y1)],
                style.ink.mix(0.45).stroke_width(2),
            ))?;
            let row = if rows == 2 { (i % 2) as i32 } else { 0 };
            area.draw(&Text::new(
                name.clone(),
                (x, plot.y0 - 4 - (rows - 1 - row) * name_h),
                name_style.pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))?;
        }

        // Plain arrows under highlighted ones.
        let visible: Vec<Hop> = self
            .arrows
            .iter()
            .enumerate()
            .filter(|(_, a)| self.valid(a))
            .filter_map(|(i, a)| {
                let start = (a.from as f64, a.sent);
                let end = (a.to as f64, a.arrived);
                let (s, e) = clip_segment(start, end, frame.x, frame.y)?;
                // The head only when the arrival itself is inside the window.
                let head = e == end;
                Some((i, frame.map(s), frame.map(e), head))
            })
            .collect();
        for pass_highlight in [false, true] {
            for &(i, s, e, head) in &visible {
                let a = &self.arrows[i];
                if a.highlight != pass_highlight {
                    continue;
                }
                let (color, width, len) = if a.highlight {
                    (style.highlight, style.line_width, 16)
                } else {
                    (style.ink, 1, 10)
                };
                area.draw(&PathElement::new(vec![s, e], color.stroke_width(width)))?;
                if head {
                    arrow_head(area, s, e, len, color)?;
                }
            }
        }

        for d in &self.deaths {
            let Some(time) = fin(d.time) else { continue };
            if d.lane >= self.lanes.len() || time < t.0 || time > t.1 {
                continue;
            }
            draw_x(
                area,
                frame.map((d.lane as f64, time)),
                7,
                style.ink,
                style.line_width,
            )?;
        }

        self.draw_labels(area, style, &frame, &visible)
    }
}

impl Ladder {
    /// Keys for what shows in the time window `t` only.
    fn legend(&self, style: &Style, t: (f64, f64)) -> Legend {
        let shown: Vec<&Arrow> = self
            .arrows
            .iter()
            .filter(|a| {
                self.valid(a) && a.sent.min(a.arrived) <= t.1 && a.sent.max(a.arrived) >= t.0
            })
            .collect();
        let marks = self
            .deaths
            .iter()
            .any(|d| d.lane < self.lanes.len() && d.time >= t.0 && d.time <= t.1);
        let mut entries = Vec::new();
        if shown.iter().any(|a| !a.highlight) {
            entries.push((
                Key::Line {
                    color: style.ink,
                    width: 1,
                    dashed: false,
                    marker: None,
                },
                "packet".to_string(),
            ));
        }
        if shown.iter().any(|a| a.highlight) {
            entries.push((
                Key::Line {
                    color: style.highlight,
                    width: style.line_width,
                    dashed: false,
                    marker: None,
                },
                if self.highlight_label.is_empty() {
                    "highlighted packet".to_string()
                } else {
                    self.highlight_label.clone()
                },
            ));
        }
        if marks {
            entries.push((Key::Cross(style.ink), "TTL expired".to_string()));
        }
        // The legend only earns its space when there is more than plain packets to explain.
        if entries.len() < 2 {
            entries.clear();
        }
        Legend {
            columns: entries.len().max(1),
            entries,
            text: style.text(style.note_size, style.ink),
        }
    }

    fn draw_labels<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &Style,
        frame: &Frame,
        visible: &[Hop],
    ) -> Result<(), PlotError> {
        let plot = frame.plot;
        let text = style.text(style.note_size, style.ink);
        let hl_text = style.text(style.note_size, style.highlight);
        let mut mids = MidGrid::default();
        for v in visible {
            mids.insert(v.0, mid(v.1, v.2));
        }
        let mut placed = Placed {
            plot,
            mids,
            boxes: Vec::new(),
            // Highlighted arrows must stay visible: other labels may not cover them.
            keep_clear: visible
                .iter()
                .filter(|v| self.arrows[v.0].highlight)
                .map(|v| (v.0, v.1, v.2))
                .collect(),
        };

        // Candidate order: highlighted arrows, marks, then the rest by send time (stable).
        let mut order: Vec<&Hop> = visible
            .iter()
            .filter(|v| !self.arrows[v.0].label.is_empty())
            .collect();
        order.sort_by(|a, b| self.arrows[a.0].sent.total_cmp(&self.arrows[b.0].sent));
        let (hl, rest): (Vec<_>, Vec<_>) =
            order.into_iter().partition(|v| self.arrows[v.0].highlight);

        for &&(i, s, e, _) in &hl {
            placed.arrow_label(area, i, &self.arrows[i].label, s, e, &hl_text)?;
        }
        for d in &self.deaths {
            let Some(time) = fin(d.time) else { continue };
            if d.lane >= self.lanes.len() || d.label.is_empty() || time < frame.y.0 {
                continue;
            }
            let (x, y) = frame.map((d.lane as f64, time));
            let (tw, th) = text_size(&text, &d.label);
            // Right of the X, else left of it.
            for x0 in [x + 10, x - 10 - tw] {
                let b = Bounds {
                    x0: x0 - 2,
                    y0: y - th / 2 - 1,
                    x1: x0 + tw + 2,
                    y1: y + th - th / 2 + 2,
                };
                if placed.free(&b, usize::MAX) {
                    draw_label(area, &d.label, b, &text)?;
                    placed.boxes.push(b);
                    break;
                }
            }
        }
        for &&(i, s, e, _) in &rest {
            placed.arrow_label(area, i, &self.arrows[i].label, s, e, &text)?;
        }
        Ok(())
    }
}

fn mid(a: (i32, i32), b: (i32, i32)) -> (i32, i32) {
    ((a.0 + b.0) / 2, (a.1 + b.1) / 2)
}

/// Side of a [`MidGrid`] cell in pixels.
const CELL: i32 = 16;

/// The middles of the visible arrows, bucketed by pixel cell so a label box finds the ones it
/// would cover without scanning them all.
#[derive(Default)]
struct MidGrid {
    cells: BTreeMap<Px, Vec<(usize, Px)>>,
}

impl MidGrid {
    fn insert(&mut self, arrow: usize, p: (i32, i32)) {
        self.cells
            .entry((p.0.div_euclid(CELL), p.1.div_euclid(CELL)))
            .or_default()
            .push((arrow, p));
    }

    /// Whether `b` covers the middle of an arrow other than `own`.
    fn covers_other(&self, b: &Bounds, own: usize) -> bool {
        for cx in b.x0.div_euclid(CELL)..=b.x1.div_euclid(CELL) {
            for cy in b.y0.div_euclid(CELL)..=b.y1.div_euclid(CELL) {
                let Some(v) = self.cells.get(&(cx, cy)) else {
                    continue;
                };
                if v.iter().any(|&(a, p)| {
                    a != own && p.0 >= b.x0 && p.0 <= b.x1 && p.1 >= b.y0 && p.1 <= b.y1
                }) {
                    return true;
                }
            }
        }
        false
    }
}

/// Labels placed so far, and what they must not cover.
struct Placed {
    plot: Bounds,
    mids: MidGrid,
    boxes: Vec<Bounds>,
    /// (arrow index, start, end) of highlighted arrows.
    keep_clear: Vec<(usize, Px, Px)>,
}

impl Placed {
    /// `b` is inside the plot, overlaps no label, covers the middle of no arrow other than `own`,
    /// and crosses no highlighted arrow other than `own`.
    fn free(&self, b: &Bounds, own: usize) -> bool {
        let xr = (b.x0 as f64, b.x1 as f64);
        let yr = (b.y0 as f64, b.y1 as f64);
        let as_f = |p: (i32, i32)| (p.0 as f64, p.1 as f64);
        self.plot.contains(b)
            && self.boxes.iter().all(|p| !p.overlaps(b))
            && !self.mids.covers_other(b, own)
            && self
                .keep_clear
                .iter()
                .filter(|k| k.0 != own)
                .all(|k| clip_segment(as_f(k.1), as_f(k.2), xr, yr).is_none())
    }

    /// Labels arrow `i` at the middle of its visible part, else a third or two thirds along it;
    /// leaves it unlabelled when none of those spots is free.
    fn arrow_label<DB: DrawingBackend>(
        &mut self,
        area: &DrawingArea<DB, Shift>,
        i: usize,
        label: &str,
        s: (i32, i32),
        e: (i32, i32),
        text: &TextStyle,
    ) -> Result<(), PlotError> {
        let (tw, th) = text_size(text, label);
        for f in [0.5, 1.0 / 3.0, 2.0 / 3.0] {
            let c = (
                s.0 + ((e.0 - s.0) as f64 * f) as i32,
                s.1 + ((e.1 - s.1) as f64 * f) as i32,
            );
            let b = Bounds {
                x0: c.0 - tw / 2 - 2,
                y0: c.1 - th / 2 - 1,
                x1: c.0 + tw - tw / 2 + 2,
                y1: c.1 + th - th / 2 + 2,
            };
            if self.free(&b, i) {
                draw_label(area, label, b, text)?;
                self.boxes.push(b);
                break;
            }
        }
        Ok(())
    }
}

/// Text on a translucent white box, so it reads over the arrows it crosses.
fn draw_label<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    b: Bounds,
    text: &TextStyle,
) -> Result<(), PlotError> {
    area.draw(&Rectangle::new(
        [(b.x0, b.y0), (b.x1, b.y1)],
        WHITE.mix(0.85).filled(),
    ))?;
    area.draw(&Text::new(
        label.to_string(),
        ((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2),
        text.pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// A filled arrowhead of length up to `len` pixels at `e`, pointing from `s` to `e`.
fn arrow_head<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: (i32, i32),
    e: (i32, i32),
    len: i32,
    color: RGBColor,
) -> Result<(), PlotError> {
    let (dx, dy) = ((e.0 - s.0) as f64, (e.1 - s.1) as f64);
    let d = (dx * dx + dy * dy).sqrt();
    if d < 1.0 {
        return Ok(());
    }
    // Short arrows get proportionally smaller heads rather than heads longer than themselves.
    let l = (len as f64).min(d * 0.6);
    let (ux, uy) = (dx / d, dy / d);
    let half = l * 0.4;
    let bx = e.0 as f64 - ux * l;
    let by = e.1 as f64 - uy * l;
    let p1 = (
        (bx - uy * half).round() as i32,
        (by + ux * half).round() as i32,
    );
    let p2 = (
        (bx + uy * half).round() as i32,
        (by - ux * half).round() as i32,
    );
    area.draw(&Polygon::new(vec![e, p1, p2], color.filled()))?;
    Ok(())
}
