//! Packet sequence ("ladder") charts: one vertical lane per node, time running down, one arrow
//! per hop.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::broken::{BREAK_PX, duration_text};

/// A duration to three significant digits: "137 ms", "1.22 s", "5.68 s", "12.3 s".
fn rounded_duration(d: f64) -> String {
    let sig = |v: f64| {
        let digits = if v >= 100.0 {
            0
        } else if v >= 10.0 {
            1
        } else {
            2
        };
        format!("{v:.digits$}")
    };
    if d >= 1.0 {
        format!("{} s", sig(d))
    } else if d >= 1e-3 {
        format!("{} ms", sig(d * 1e3))
    } else {
        duration_text(d)
    }
}
use super::{
    Axes, Bounds, Figure, Frame, Key, Legend, PlotError, Px, Style, axis_range, clip_segment,
    draw_axes, draw_x, extent, fin, layout_axes, text_size, ticks,
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

/// A packet that died on its way out of lane `from` (lost on the link, a full queue, a fault,
/// the link down): a short stub toward lane `toward` ending in an X, labelled with the cause.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stub {
    /// Index into [`Ladder::lanes`] of the node it left.
    pub from: usize,
    /// Index into [`Ladder::lanes`] of the node it was heading for.
    pub toward: usize,
    /// When it left (seconds); the stub ends a little later, so it slopes like a hop.
    pub sent: f64,
    /// Where the stub ends, in seconds.
    pub ended: f64,
    /// Its text, e.g. "#17 . ack 1002 dropped: fault".
    pub label: String,
}

/// A change to the network at one time, drawn as a dashed line across every lane with its text
/// ("C routes 10.0.1.0/24 via A").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rule {
    /// When, in seconds.
    pub time: f64,
    /// What changed.
    pub label: String,
}

/// A stretch of a ladder's time window drawn to its own scale (see [`Ladder::segments`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Segment {
    /// Its first moment, in seconds.
    pub t0: f64,
    /// Its last moment, in seconds.
    pub t1: f64,
    /// Its share of the panel's height, against the other segments' (the labels it holds).
    pub weight: f64,
}

/// A ladder diagram.
///
/// Arrows or marks naming a lane that does not exist, or with non-finite times, are skipped.
///
/// Labels are placed greedily so they never overlap: highlighted arrows first, then stubs,
/// marks and rules, then the other arrows in order of send time. An arrow's label sits on its
/// visible part (the middle, else a third, two thirds, a quarter... along it); a mark's or
/// stub's label right of its X, else left of it; a rule's above its line at the right, else
/// at the left. A spot is taken only if the label's box stays inside the plot, overlaps no
/// label already placed, covers the middle of no other arrow and crosses no other highlighted
/// arrow. A label with no such spot is never left out: the chart gains a column right of the
/// lanes where those labels are stacked near their height, each joined to its arrow, X or
/// line by a thin leader line.
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
    /// Packets that died on their way out of a lane.
    pub stubs: Vec<Stub>,
    /// Changes to the network, across every lane.
    pub rules: Vec<Rule>,
    /// Time window [t0, t1] to show; `None` fits the data. Arrows crossing its edges are cut.
    pub window: Option<(f64, f64)>,
    /// Legend text for highlighted arrows ("lost duplicate"); empty says "highlighted packet".
    pub highlight_label: String,
    /// TCP state changes, written on their host's lane at the time they happen
    /// ("FIN_WAIT_1"), with a short tick across the lane: how RFC 9293 and textbooks draw a
    /// close.
    pub states: Vec<Mark>,
    /// Stretches of time drawn one under another, each to its own scale and with its own
    /// ticks, the time between two cut out: a break across the lanes with a mark on the time
    /// axis and the time skipped written in it. A burst of milliseconds then gets room beside
    /// seconds of retransmissions. Empty: the window to one scale.
    pub segments: Vec<Segment>,
}

/// Where a ladder's data goes: the frame, with its time axis cut into pieces of (first time,
/// last time, first pixel row, last pixel row) when the ladder has segments.
struct TimeFrame {
    frame: Frame,
    pieces: Vec<(f64, f64, i32, i32)>,
    /// Rows kept free inside each end of a piece, so nothing drawn touches a break.
    margin: i32,
}

/// See [`TimeFrame::margin`].
const SEGMENT_MARGIN: i32 = 10;

impl std::ops::Deref for TimeFrame {
    type Target = Frame;
    fn deref(&self) -> &Frame {
        &self.frame
    }
}

impl TimeFrame {
    /// The frame with `segments` (in time order) laid out down its plot, their rows shared
    /// by weight after a [`BREAK_PX`] break between each two.
    fn new(frame: Frame, segments: &[Segment]) -> TimeFrame {
        let segs: Vec<&Segment> = segments
            .iter()
            .filter(|s| s.t0.is_finite() && s.t1.is_finite() && s.t1 >= s.t0)
            .collect();
        if segs.len() < 2 {
            return TimeFrame {
                frame,
                pieces: Vec::new(),
                margin: 0,
            };
        }
        let (y0, y1) = (frame.plot.y0, frame.plot.y1);
        let room = (y1 - y0 - BREAK_PX * (segs.len() as i32 - 1)).max(segs.len() as i32) as f64;
        let total: f64 = segs.iter().map(|s| s.weight.max(1e-9)).sum();
        let mut pieces = Vec::with_capacity(segs.len());
        let mut y = y0 as f64;
        for s in segs {
            let h = room * s.weight.max(1e-9) / total;
            pieces.push((s.t0, s.t1, y.round() as i32, (y + h).round() as i32));
            y += h + BREAK_PX as f64;
        }
        TimeFrame {
            frame,
            pieces,
            margin: SEGMENT_MARGIN,
        }
    }

    /// Pixel row of time `t`: within its piece, or across the break it falls in.
    fn py(&self, t: f64) -> i32 {
        if self.pieces.is_empty() {
            return self.frame.py(t);
        }
        let lin = |(t0, t1, p0, p1): (f64, f64, i32, i32), t: f64| {
            let f = if t1 > t0 { (t - t0) / (t1 - t0) } else { 0.5 };
            let v = p0 as f64 + (p1 - p0) as f64 * f;
            if v.is_finite() {
                v.round().clamp(-1e6, 1e6) as i32
            } else {
                p0
            }
        };
        // Each piece's time inside its margins.
        let m = self.margin;
        let inner = |(t0, t1, p0, p1): (f64, f64, i32, i32)| {
            let m = m.min((p1 - p0) / 4);
            (t0, t1, p0 + m, p1 - m)
        };
        for (i, &p) in self.pieces.iter().enumerate() {
            let p = inner(p);
            if t <= p.1 || i + 1 == self.pieces.len() {
                return lin(p, t);
            }
            let n = inner(self.pieces[i + 1]);
            if t < n.0 {
                return lin((p.1, n.0, p.3, n.2), t);
            }
        }
        lin(inner(self.pieces[0]), t)
    }

    /// Pixel position of (lane, time).
    fn map(&self, (x, t): (f64, f64)) -> Px {
        (self.frame.px(x), self.py(t))
    }

    /// The breaks: (first row, last row, time skipped).
    fn breaks(&self) -> Vec<(i32, i32, f64)> {
        self.pieces
            .windows(2)
            .map(|w| (w[0].3, w[1].2, w[1].0 - w[0].1))
            .collect()
    }

    /// The words in each break, "0.387 s skipped", and their box: right of the time axis.
    fn break_notes(&self, text: &TextStyle<'_>) -> Vec<(String, Bounds)> {
        self.breaks()
            .into_iter()
            .map(|(b0, b1, skipped)| {
                let words = format!("{} skipped", rounded_duration(skipped));
                let (tw, th) = text_size(text, &words);
                let (x0, yc) = (self.plot.x0 + 12, (b0 + b1) / 2);
                let b = Bounds {
                    x0: x0 - 3,
                    y0: yc - th / 2 - 1,
                    x1: x0 + tw + 3,
                    y1: yc + th - th / 2 + 1,
                };
                (words, b)
            })
            .collect()
    }
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
            )
            .chain(self.stubs.iter().flat_map(|s| [s.sent, s.ended]))
            .chain(self.rules.iter().map(|r| r.time));
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
        let (w, h) = area.dim_in_pixel();
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
        let mut rows = if widest + 8 > spacing { 2 } else { 1 };
        let t = self.time_range();
        let legend = self.legend(style, t);
        let legend_h = legend.size().1;

        // A time axis in segments draws its own ticks, each segment's (room left for them).
        let cut = self.segments.len() > 1;
        let tick_style = style.text(style.tick_size, style.ink);
        let tick_w = self
            .segments
            .iter()
            .flat_map(|s| ticks((s.t0, s.t1), 3))
            .map(|(_, l)| text_size(&tick_style, &l).0)
            .max()
            .unwrap_or(0);
        let mut axes = Axes {
            title: &self.title,
            x_label: "",
            y_label: "time (s)",
            x: (-0.5, n as f64 - 0.5),
            y: t,
            y_down: true,
            x_ticks: false,
            y_ticks: !cut,
            left_extra: if cut { tick_w + AXIS_TICK + 6 } else { 0 },
            top_extra: legend_h
                + rows * name_h
                + 6
                + if cut {
                    (style.tick_size * 0.6) as i32
                } else {
                    0
                },
            grid_x: false,
            grid_y: !cut,
        };
        // Labels that find no free spot among the lanes go to a column on the right, as wide
        // as the widest of them (at most half the plot).
        let first = TimeFrame::new(
            layout_axes(w as i32, h as i32, style, &axes).frame,
            &self.segments,
        );
        let (mut labels, homeless) = self.place_labels(style, &first, &self.visible(&first), None);
        if homeless > 0 {
            let plot_w = (first.plot.x1 - first.plot.x0).max(1);
            let gutter = (homeless + 16).min(plot_w / 2);
            let lane_px = (plot_w - gutter).max(1) as f64 / n as f64;
            axes.x.1 += gutter as f64 / lane_px;
            // The column narrows the lanes: names that now touch go in two rows.
            if rows == 1 && widest + 8 > lane_px as i32 {
                rows = 2;
                axes.top_extra += name_h;
            }
        }
        let frame = TimeFrame::new(draw_axes(area, style, &axes)?, &self.segments);
        let plot = frame.plot;
        let visible = self.visible(&frame);
        self.draw_time_axis(area, style, &frame)?;
        if homeless > 0 {
            let gutter_x = frame.px(n as f64 - 0.5) + 8;
            labels = self.place_labels(style, &frame, &visible, Some(gutter_x)).0;
        }
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

        // Breaks in the time axis: the lanes stop and go on dotted, and the break says how
        // much time it skips.
        let note_text = style.text(style.note_size, style.ink);
        for ((b0, b1, _), (words, b)) in frame
            .breaks()
            .into_iter()
            .zip(frame.break_notes(&note_text))
        {
            area.draw(&Rectangle::new(
                [(plot.x0 + 2, b0 + 3), (plot.x1, b1 - 3)],
                WHITE.filled(),
            ))?;
            for i in 0..self.lanes.len() {
                let x = frame.px(i as f64);
                let mut y = b0 + 6;
                while y < b1 - 5 {
                    area.draw(&Circle::new((x, y), 1, style.ink.mix(0.45).filled()))?;
                    y += 5;
                }
            }
            for y in [b0 + 3, b1 - 3] {
                let mut x = plot.x0 + 2;
                while x < plot.x1 {
                    area.draw(&PathElement::new(
                        vec![(x, y), ((x + 4).min(plot.x1), y)],
                        style.ink.mix(0.35).stroke_width(1),
                    ))?;
                    x += 8;
                }
            }
            area.draw(&Rectangle::new(
                [(b.x0, b.y0), (b.x1, b.y1)],
                WHITE.filled(),
            ))?;
            area.draw(&Text::new(
                words,
                (b.x0 + 3, (b.y0 + b.y1) / 2),
                note_text.pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }

        // Changes to the network: dashed across the lanes.
        for r in &self.rules {
            let Some(time) = fin(r.time) else { continue };
            if time < t.0 || time > t.1 {
                continue;
            }
            let y = frame.py(time);
            let (x0, x1) = (frame.px(-0.4), frame.px(n as f64 - 0.6));
            let mut x = x0;
            while x < x1 {
                area.draw(&PathElement::new(
                    vec![(x, y), ((x + 8).min(x1), y)],
                    style.ink.mix(0.7).stroke_width(1),
                ))?;
                x += 13;
            }
        }

        // Plain arrows under highlighted ones.
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

        for (_, s, e) in self.stub_ends(&frame) {
            area.draw(&PathElement::new(vec![s, e], style.ink.stroke_width(1)))?;
            draw_x(area, e, 6, style.ink, style.line_width)?;
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

        for m in self.state_marks(&frame) {
            let (x, y) = m.1;
            area.draw(&PathElement::new(
                vec![(x - 5, y), (x + 5, y)],
                STATE_INK.stroke_width(2),
            ))?;
        }

        let text = style.text(style.note_size, style.ink);
        let hl_text = style.text(style.note_size, style.highlight);
        let state_text = style.text(style.note_size, STATE_INK);
        for l in &labels {
            if let Some((from, to)) = l.leader {
                area.draw(&PathElement::new(
                    vec![from, to],
                    style.ink.mix(0.5).stroke_width(1),
                ))?;
            }
        }
        for l in &labels {
            let ink = match l.kind {
                LabelKind::Highlight => &hl_text,
                LabelKind::State => &state_text,
                LabelKind::Plain => &text,
            };
            draw_label(area, &l.text, l.bounds, ink)?;
        }
        Ok(())
    }
}

/// Length of a tick on a segmented time axis, in pixels.
const AXIS_TICK: i32 = 6;

impl Ladder {
    /// A time axis in segments: each piece's line, ticks, tick labels and grid lines, and
    /// the `=`-like break mark on the axis between two pieces. Nothing without segments (the
    /// frame's own axis is drawn).
    fn draw_time_axis<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &Style,
        frame: &TimeFrame,
    ) -> Result<(), PlotError> {
        if frame.pieces.is_empty() {
            return Ok(());
        }
        let plot = frame.plot;
        let tick_style = style.text(style.tick_size, style.ink);
        let axis = style.ink.stroke_width(2);
        let grid = style.grid.stroke_width(1);
        let thin = style.ink.stroke_width(1);
        let line_h = (style.tick_size * 1.2) as i32;
        let mut last_bottom = i32::MIN;
        for &(t0, t1, p0, p1) in &frame.pieces {
            area.draw(&PathElement::new(vec![(plot.x0, p0), (plot.x0, p1)], axis))?;
            let n = ((p1 - p0) / 60).clamp(1, 8) as usize;
            let mut tk = ticks((t0, t1), n);
            if tk.is_empty() {
                tk = ticks((t0, t1), n + 1);
            }
            for (v, text) in tk {
                let y = frame.py(v);
                if y < p0 || y > p1 || y - line_h / 2 < last_bottom + 2 {
                    continue;
                }
                last_bottom = y + line_h / 2;
                area.draw(&PathElement::new(vec![(plot.x0, y), (plot.x1, y)], grid))?;
                area.draw(&PathElement::new(
                    vec![(plot.x0 - AXIS_TICK, y), (plot.x0, y)],
                    thin,
                ))?;
                area.draw(&Text::new(
                    text,
                    (plot.x0 - AXIS_TICK - 4, y),
                    tick_style.pos(Pos::new(HPos::Right, VPos::Center)),
                ))?;
            }
        }
        for (b0, b1, _) in frame.breaks() {
            let y = (b0 + b1) / 2;
            for dy in [-4, 4] {
                area.draw(&PathElement::new(
                    vec![(plot.x0 - 7, y + dy + 4), (plot.x0 + 7, y + dy - 4)],
                    style.ink.stroke_width(2),
                ))?;
            }
        }
        Ok(())
    }
}

/// Ink of the TCP state notes: a blue apart from the packets' black and the highlight.
const STATE_INK: RGBColor = RGBColor(0x00, 0x5A, 0x8C);

/// How a label is inked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LabelKind {
    Plain,
    Highlight,
    State,
}

/// A label as laid out: its box, its text, whether it names a highlighted packet, and the
/// leader line joining it to what it names when it is not beside it.
struct Placement {
    bounds: Bounds,
    text: String,
    kind: LabelKind,
    leader: Option<(Px, Px)>,
}

/// A label to place: where it points (`anchor`), its text, and the spots to try, in order.
struct Want<'a> {
    own: usize,
    anchor: Px,
    text: &'a str,
    kind: LabelKind,
    spots: Vec<Bounds>,
    /// The label may cross no arrow, stub or highlighted arrow at all (a network change's
    /// words, which name no packet and so have no arrow of their own to sit on).
    clear: bool,
}

impl Ladder {
    /// The arrows inside the frame, clipped to it, in pixels.
    fn visible(&self, frame: &TimeFrame) -> Vec<Hop> {
        self.arrows
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
            .collect()
    }

    /// Each stub inside the window, as (start, end) in pixels: 40 % of the way toward the
    /// lane it was heading for.
    fn stub_ends(&self, frame: &TimeFrame) -> Vec<(usize, Px, Px)> {
        let n = self.lanes.len();
        self.stubs
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.from < n && s.toward < n && s.sent.is_finite() && s.ended.is_finite()
            })
            .filter(|(_, s)| s.sent >= frame.y.0 && s.ended <= frame.y.1)
            .map(|(k, s)| {
                let x = s.from as f64 + 0.4 * (s.toward as f64 - s.from as f64);
                (
                    k,
                    frame.map((s.from as f64, s.sent)),
                    frame.map((x, s.ended)),
                )
            })
            .collect()
    }

    /// The state notes inside the window: (index into `states`, point on the lane).
    fn state_marks(&self, frame: &TimeFrame) -> Vec<(usize, Px)> {
        self.states
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.lane < self.lanes.len()
                    && !m.label.is_empty()
                    && m.time >= frame.y.0
                    && m.time <= frame.y.1
            })
            .map(|(k, m)| (k, frame.map((m.lane as f64, m.time))))
            .collect()
    }

    /// Lays out every label: beside what it names when a spot is free, else (with
    /// `gutter_x`) in the column right of the lanes. Returns the placements and, without a
    /// gutter, the width of the widest label that found no spot (0 when all did).
    fn place_labels(
        &self,
        style: &Style,
        frame: &TimeFrame,
        visible: &[Hop],
        gutter_x: Option<i32>,
    ) -> (Vec<Placement>, i32) {
        let plot = frame.plot;
        let text = style.text(style.note_size, style.ink);
        let mut mids = MidGrid::default();
        for v in visible {
            mids.insert(v.0, mid(v.1, v.2));
        }
        // An X (a stub's end, a TTL death) stays visible too: no label covers another's.
        let first_x = self.arrows.len();
        let stubs = self.stub_ends(frame);
        let deaths: Vec<(usize, Px)> = self
            .deaths
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.lane < self.lanes.len() && d.time >= frame.y.0 && d.time <= frame.y.1
            })
            .map(|(k, d)| (k, frame.map((d.lane as f64, d.time))))
            .collect();
        for &(k, _, e) in &stubs {
            mids.insert(first_x + k, e);
        }
        for &(k, c) in &deaths {
            mids.insert(first_x + self.stubs.len() + k, c);
        }
        let mut placed = Placed {
            plot,
            mids,
            boxes: BoxGrid::default(),
            // Highlighted arrows must stay visible: other labels may not cover them.
            keep_clear: visible
                .iter()
                .filter(|v| self.arrows[v.0].highlight)
                .map(|v| (v.0, v.1, v.2))
                .collect(),
            segments: visible
                .iter()
                .map(|v| (v.1, v.2))
                .chain(stubs.iter().map(|s| (s.1, s.2)))
                .collect(),
        };
        // The words in the time axis' breaks are there first.
        for (_, b) in frame.break_notes(&text) {
            placed.boxes.push(b);
        }
        let size = |s: &str| text_size(&text, s);
        // A box of `(tw, th)` text centred on `c`, with its padding.
        let centred = |c: Px, (tw, th): (i32, i32)| Bounds {
            x0: c.0 - tw / 2 - 2,
            y0: c.1 - th / 2 - 1,
            x1: c.0 + tw - tw / 2 + 2,
            y1: c.1 + th - th / 2 + 2,
        };
        // Right of an X at `c`, else left of it.
        let beside = |c: Px, (tw, th): (i32, i32)| {
            [c.0 + 10, c.0 - 10 - tw]
                .into_iter()
                .map(|x0| Bounds {
                    x0: x0 - 2,
                    y0: c.1 - th / 2 - 1,
                    x1: x0 + tw + 2,
                    y1: c.1 + th - th / 2 + 2,
                })
                .collect::<Vec<_>>()
        };

        let mut wants: Vec<Want<'_>> = Vec::new();
        let mut order: Vec<&Hop> = visible
            .iter()
            .filter(|v| !self.arrows[v.0].label.is_empty())
            .collect();
        order.sort_by(|a, b| self.arrows[a.0].sent.total_cmp(&self.arrows[b.0].sent));
        let (hl, rest): (Vec<_>, Vec<_>) =
            order.into_iter().partition(|v| self.arrows[v.0].highlight);
        let arrow_want = |&&(i, s, e, _): &&Hop| {
            let a = &self.arrows[i];
            let sz = size(&a.label);
            let at = |f: f64| {
                (
                    s.0 + ((e.0 - s.0) as f64 * f) as i32,
                    s.1 + ((e.1 - s.1) as f64 * f) as i32,
                )
            };
            Want {
                own: i,
                anchor: at(0.5),
                text: &a.label,
                kind: if a.highlight {
                    LabelKind::Highlight
                } else {
                    LabelKind::Plain
                },
                spots: [0.5, 1.0 / 3.0, 2.0 / 3.0, 0.25, 0.75, 0.15, 0.85]
                    .into_iter()
                    .map(|f| centred(at(f), sz))
                    .collect(),
                clear: false,
            }
        };
        wants.extend(hl.iter().map(arrow_want));
        for &(k, _, e) in &stubs {
            let s = &self.stubs[k];
            if s.label.is_empty() {
                continue;
            }
            wants.push(Want {
                own: first_x + k,
                anchor: e,
                text: &s.label,
                kind: LabelKind::Plain,
                spots: beside(e, size(&s.label)),
                clear: false,
            });
        }
        for &(k, c) in &deaths {
            let d = &self.deaths[k];
            if d.label.is_empty() {
                continue;
            }
            wants.push(Want {
                own: first_x + self.stubs.len() + k,
                anchor: c,
                text: &d.label,
                kind: LabelKind::Plain,
                spots: beside(c, size(&d.label)),
                clear: false,
            });
        }
        let n = self.lanes.len().max(1) as f64;
        for r in &self.rules {
            let Some(time) = fin(r.time) else { continue };
            if r.label.is_empty() || time < frame.y.0 || time > frame.y.1 {
                continue;
            }
            let y = frame.py(time);
            let (tw, th) = size(&r.label);
            let (left, right) = (frame.px(-0.4), frame.px(n - 0.6));
            let above = |x0: i32| Bounds {
                x0,
                y0: y - th - 5,
                x1: x0 + tw + 4,
                y1: y - 2,
            };
            let below = |x0: i32| Bounds {
                x0,
                y0: y + 2,
                x1: x0 + tw + 4,
                y1: y + th + 5,
            };
            let mut spots = vec![
                above(right - tw - 4),
                above(left),
                below(right - tw - 4),
                below(left),
            ];
            // Right of the lanes, on the line's height, where no arrow goes.
            if let Some(gx) = gutter_x {
                spots.extend([above(gx), below(gx)]);
            }
            wants.push(Want {
                own: usize::MAX,
                anchor: (right, y),
                text: &r.label,
                kind: LabelKind::Plain,
                spots,
                clear: true,
            });
        }
        // State notes beside their lane: right of it, else left, a little below or above.
        let state_marks = self.state_marks(frame);
        let first_state = first_x + self.stubs.len() + self.deaths.len();
        for &(k, c) in &state_marks {
            let m = &self.states[k];
            let (tw, th) = size(&m.label);
            let at = |x0: i32, dy: i32| Bounds {
                x0: x0 - 2,
                y0: c.1 + dy - th / 2 - 1,
                x1: x0 + tw + 2,
                y1: c.1 + dy + th - th / 2 + 2,
            };
            let mut spots = Vec::new();
            for dy in [0, th / 2 + 2, -(th / 2 + 2), th + 3, -(th + 3)] {
                spots.push(at(c.0 + 8, dy));
                spots.push(at(c.0 - 8 - tw, dy));
            }
            wants.push(Want {
                own: first_state + k,
                anchor: c,
                text: &m.label,
                kind: LabelKind::State,
                spots,
                clear: false,
            });
        }
        wants.extend(rest.iter().map(arrow_want));

        let mut out = Vec::new();
        let mut homeless = Vec::new();
        for w in &wants {
            match w
                .spots
                .iter()
                .find(|b| placed.free(b, w.own) && !(w.clear && placed.crosses_any(b)))
            {
                Some(b) => {
                    placed.boxes.push(*b);
                    // Words right of the lanes are joined to their line.
                    let leader = (w.clear && b.x0 > w.anchor.0)
                        .then_some((w.anchor, (b.x0, (b.y0 + b.y1) / 2)));
                    out.push(Placement {
                        bounds: *b,
                        text: w.text.to_string(),
                        kind: w.kind,
                        leader,
                    });
                }
                None => homeless.push(w),
            }
        }
        let Some(gx) = gutter_x else {
            let widest = homeless
                .iter()
                .map(|w| size(w.text).0 + 4)
                .max()
                .unwrap_or(0);
            return (out, widest);
        };
        // The column right of the lanes: each label as near its anchor's height as the ones
        // already there allow, searching down and up a few pixels at a time.
        let mut full = false;
        for w in homeless {
            let (tw, th) = size(w.text);
            let x0 = gx.min(plot.x1 - tw - 4).max(plot.x0);
            let at = |y: i32| Bounds {
                x0,
                y0: y - th / 2 - 1,
                x1: x0 + tw + 4,
                y1: y + th - th / 2 + 2,
            };
            let fits = |b: &Bounds| plot.contains(b) && !placed.boxes.overlaps(b);
            let y = w.anchor.1;
            let span = plot.y1 - plot.y0;
            let column = (0..=span)
                .step_by(2)
                .flat_map(|d| [y + d, y - d])
                .map(at)
                .find(|b| fits(b) && !(w.clear && placed.crosses_any(b)));
            // A full column: the nearest free spot anywhere in the plot, nearest height first;
            // once there is none, the plot is full and later labels stop searching.
            let b = match column {
                Some(b) => Some(b),
                None if !full => {
                    let found = (0..=span)
                        .step_by(2)
                        .flat_map(|d| [y + d, y - d])
                        .find_map(|yy| {
                            (plot.x0..plot.x1 - tw - 4)
                                .step_by(6)
                                .map(|x| Bounds {
                                    x0: x,
                                    y0: yy - th / 2 - 1,
                                    x1: x + tw + 4,
                                    y1: yy + th - th / 2 + 2,
                                })
                                .find(|b| {
                                    fits(b)
                                        && placed.free(b, w.own)
                                        && !(w.clear && placed.crosses_any(b))
                                })
                        });
                    full = found.is_none();
                    found
                }
                None => None,
            }
            // A plot too full to hold it still shows it, at its height.
            .unwrap_or_else(|| at(y));
            placed.boxes.push(b);
            out.push(Placement {
                bounds: b,
                text: w.text.to_string(),
                kind: w.kind,
                leader: Some((w.anchor, (b.x0, (b.y0 + b.y1) / 2))),
            });
        }
        (out, 0)
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
        let n = self.lanes.len();
        if self
            .stubs
            .iter()
            .any(|s| s.from < n && s.toward < n && s.sent >= t.0 && s.ended <= t.1)
        {
            entries.push((Key::Cross(style.ink), "dropped".to_string()));
        }
        if self.rules.iter().any(|r| r.time >= t.0 && r.time <= t.1) {
            entries.push((
                Key::Line {
                    color: style.ink,
                    width: 1,
                    dashed: true,
                    marker: None,
                },
                "network change".to_string(),
            ));
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

/// Side of a [`BoxGrid`] cell in pixels.
const BOX_CELL: i32 = 32;

/// Label boxes placed so far, bucketed by the pixel cells they touch, so a new box is tested
/// only against its neighbours.
#[derive(Default)]
struct BoxGrid {
    boxes: Vec<Bounds>,
    cells: BTreeMap<Px, Vec<usize>>,
}

impl BoxGrid {
    fn cells(b: &Bounds) -> impl Iterator<Item = Px> {
        let xs = b.x0.div_euclid(BOX_CELL)..=b.x1.div_euclid(BOX_CELL);
        let ys = b.y0.div_euclid(BOX_CELL)..=b.y1.div_euclid(BOX_CELL);
        xs.flat_map(move |x| ys.clone().map(move |y| (x, y)))
    }

    fn push(&mut self, b: Bounds) {
        let i = self.boxes.len();
        self.boxes.push(b);
        for c in Self::cells(&b) {
            self.cells.entry(c).or_default().push(i);
        }
    }

    /// Whether `b` overlaps a box already placed.
    fn overlaps(&self, b: &Bounds) -> bool {
        Self::cells(b).any(|c| {
            self.cells
                .get(&c)
                .is_some_and(|v| v.iter().any(|&i| self.boxes[i].overlaps(b)))
        })
    }
}

/// Labels placed so far, and what they must not cover.
struct Placed {
    plot: Bounds,
    mids: MidGrid,
    boxes: BoxGrid,
    /// (arrow index, start, end) of highlighted arrows.
    keep_clear: Vec<(usize, Px, Px)>,
    /// (start, end) of every visible arrow and stub.
    segments: Vec<(Px, Px)>,
}

impl Placed {
    /// Whether `b` crosses or holds any part of an arrow or stub.
    fn crosses_any(&self, b: &Bounds) -> bool {
        let xr = (b.x0 as f64, b.x1 as f64);
        let yr = (b.y0 as f64, b.y1 as f64);
        let as_f = |p: (i32, i32)| (p.0 as f64, p.1 as f64);
        self.segments
            .iter()
            .any(|&(s, e)| clip_segment(as_f(s), as_f(e), xr, yr).is_some())
    }

    /// `b` is inside the plot, overlaps no label, covers the middle of no arrow other than `own`,
    /// and crosses no highlighted arrow other than `own`.
    fn free(&self, b: &Bounds, own: usize) -> bool {
        let xr = (b.x0 as f64, b.x1 as f64);
        let yr = (b.y0 as f64, b.y1 as f64);
        let as_f = |p: (i32, i32)| (p.0 as f64, p.1 as f64);
        self.plot.contains(b)
            && !self.boxes.overlaps(b)
            && !self.mids.covers_other(b, own)
            && self
                .keep_clear
                .iter()
                .filter(|k| k.0 != own)
                .all(|k| clip_segment(as_f(k.1), as_f(k.2), xr, yr).is_none())
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
