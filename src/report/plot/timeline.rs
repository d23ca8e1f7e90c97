//! State timelines: one row per socket, a coloured bar per TCP state.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::broken::{BrokenAxis, cut_bar, duration_text};
use super::{
    Axes, Figure, Key, Legend, PlotError, Style, axis_range, draw_axes, extent, fin, text_size,
};

/// Rows drawn at most, so the chart keeps a page's shape; the title says when more were given.
pub const MAX_ROWS: usize = 32;

/// One socket's row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// Shown left of the row: "client 10.0.0.1:49152 -> 10.0.0.2:5000 #2". Labels too long for
    /// the label column are shortened in the middle.
    pub label: String,
    /// (start, end, state) in seconds. An end of +infinity means "still in that state" and runs
    /// to the right edge; spans with NaN or an infinite start are skipped.
    pub spans: Vec<(f64, f64, String)>,
}

/// A state timeline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Title over the chart (may be empty).
    pub title: String,
    /// Sockets, top to bottom; only the first [`MAX_ROWS`] are drawn.
    pub rows: Vec<Row>,
    /// Time window to show; `None` fits the data.
    pub window: Option<(f64, f64)>,
}

/// The TCP states with fixed colours, in legend order.
const KNOWN: [(&str, RGBColor); 11] = [
    ("LISTEN", RGBColor(0xBB, 0xBB, 0xBB)),
    ("SYN_SENT", RGBColor(0x56, 0xB4, 0xE9)),
    ("SYN_RCVD", RGBColor(0x00, 0x9E, 0x73)),
    ("ESTABLISHED", RGBColor(0x00, 0x72, 0xB2)),
    ("FIN_WAIT_1", RGBColor(0xCC, 0x79, 0xA7)),
    ("FIN_WAIT_2", RGBColor(0x88, 0x22, 0x55)),
    ("CLOSING", RGBColor(0x00, 0x00, 0x00)),
    ("TIME_WAIT", RGBColor(0xD5, 0x5E, 0x00)),
    ("CLOSE_WAIT", RGBColor(0xE6, 0x9F, 0x00)),
    ("LAST_ACK", RGBColor(0xF0, 0xE4, 0x42)),
    ("CLOSED", RGBColor(0xE4, 0xE4, 0xE4)),
];

/// Colours for states not in the list above, by order of first appearance.
const OTHER: [RGBColor; 4] = [
    RGBColor(0x77, 0x77, 0x77),
    RGBColor(0x99, 0x99, 0x33),
    RGBColor(0x44, 0xAA, 0x99),
    RGBColor(0x33, 0x22, 0x88),
];

/// The fixed colour of a known TCP state name (LISTEN, SYN_SENT, SYN_RCVD, ESTABLISHED,
/// FIN_WAIT_1, FIN_WAIT_2, CLOSING, TIME_WAIT, CLOSE_WAIT, LAST_ACK, CLOSED); `None` for others.
pub fn state_color(state: &str) -> Option<RGBColor> {
    KNOWN.iter().find(|(n, _)| *n == state).map(|(_, c)| *c)
}

/// Label column width at most, in pixels, so the bars keep most of the figure.
const MAX_LABEL_W: i32 = 420;
/// Plot width at least, in pixels.
const MIN_PLOT_W: i32 = 460;

impl Timeline {
    fn shown(&self) -> &[Row] {
        &self.rows[..self.rows.len().min(MAX_ROWS)]
    }

    fn title(&self) -> String {
        if self.rows.len() <= MAX_ROWS {
            return self.title.clone();
        }
        let note = format!("first {MAX_ROWS} of {} sockets", self.rows.len());
        if self.title.is_empty() {
            note
        } else {
            format!("{} ({note})", self.title)
        }
    }

    fn row_h(style: &Style) -> i32 {
        ((style.note_size * 1.8) as i32).max(12)
    }

    fn label_w(&self, style: &Style) -> i32 {
        let text = style.text(style.note_size, style.ink);
        self.shown()
            .iter()
            .map(|r| text_size(&text, &r.label).0)
            .max()
            .unwrap_or(0)
            .min(MAX_LABEL_W)
    }

    /// States present, known ones in legend order, then the others by first appearance.
    fn states(&self) -> Vec<(String, RGBColor)> {
        let present = |name: &str| {
            self.shown()
                .iter()
                .any(|r| r.spans.iter().any(|s| s.2 == name && drawable(s)))
        };
        let mut out: Vec<(String, RGBColor)> = KNOWN
            .iter()
            .filter(|(n, _)| present(n))
            .map(|(n, c)| (n.to_string(), *c))
            .collect();
        let mut others = 0;
        for r in self.shown() {
            for s in r.spans.iter().filter(|s| drawable(s)) {
                if state_color(&s.2).is_none() && !out.iter().any(|o| o.0 == s.2) {
                    out.push((s.2.clone(), OTHER[others % OTHER.len()]));
                    others += 1;
                }
            }
        }
        out
    }

    fn legend(&self, style: &Style, width: i32) -> Legend {
        let entries: Vec<(Key, String)> = self
            .states()
            .into_iter()
            .map(|(n, c)| (Key::Swatch(c), n))
            .collect();
        let mut legend = Legend {
            columns: entries.len().max(1),
            entries,
            text: style.text(style.note_size, style.ink),
        };
        // As many columns as fit the width.
        while legend.columns > 1 && legend.size().0 > width {
            legend.columns -= 1;
        }
        legend
    }

    fn x_range(&self) -> (f64, f64) {
        let times = self.shown().iter().flat_map(|r| {
            r.spans
                .iter()
                .filter(|s| drawable(s))
                .flat_map(|s| [s.0, s.1])
        });
        axis_range(self.window, extent(times))
    }
}

impl Figure for Timeline {
    fn size(&self, style: &Style) -> (u32, u32) {
        let style = &style.sanitized();
        let w = (self.label_w(style) + MIN_PLOT_W + 120).max(style.width as i32);
        let legend_h = self.legend(style, w - 40).size().1;
        // Title, legend, ticks and axis label, with some slack; rows get the rest.
        let overhead = (style.title_size + 2.0 * style.label_size + 2.0 * style.tick_size) as i32
            + legend_h
            + 60;
        // The height follows the rows, so a few sockets do not get fat bars.
        let rows = self.shown().len().max(1) as i32;
        let h = (overhead + rows * Self::row_h(style)).max(200);
        (w.max(1) as u32, h.max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &Style,
    ) -> Result<(), PlotError> {
        let style = &style.sanitized();
        let (w, h) = area.dim_in_pixel();
        let label_w = self.label_w(style);
        let legend = self.legend(style, w as i32 - 40);
        let legend_h = legend.size().1;
        let xr = self.x_range();
        let title = self.title();
        // The time axis is drawn here, under the rows, so it can be cut where nothing
        // happens: room for its ticks and label is kept below the rows' area.
        let axis_room = (style.tick_size * 1.2) as i32 + (style.label_size * 1.2) as i32 + 26;
        let (rows_area, _) = area.split_vertically(h as i32 - axis_room);
        let frame = draw_axes(
            &rows_area,
            style,
            &Axes {
                title: &title,
                x_label: "",
                y_label: "",
                x: xr,
                y: (0.0, self.shown().len().max(1) as f64),
                y_down: true,
                x_ticks: false,
                y_ticks: false,
                left_extra: label_w + 10,
                top_extra: legend_h + 6,
                grid_x: false,
                grid_y: false,
            },
        )?;
        let plot = frame.plot;
        // Every moment a state changes; the axis gives them the width.
        let times: Vec<f64> = self
            .shown()
            .iter()
            .flat_map(|r| {
                r.spans
                    .iter()
                    .filter(|s| drawable(s))
                    .flat_map(|s| [s.0, s.1])
            })
            .collect();
        // Room right of the axis for half its last tick label.
        let last_w = text_size(
            &style.text(style.tick_size, style.ink),
            &format!("{:.2}", xr.1),
        )
        .0;
        let axis = BrokenAxis::fit(&times, xr, (plot.x0, plot.x1 - last_w / 2 - 4));
        axis.draw(area, style, (plot.y0, plot.y1), "time (s)")?;
        legend.draw(
            area,
            ((w as i32 - legend.size().0) / 2, plot.y0 - legend_h - 6),
            false,
            style,
        )?;

        let states = self.states();
        let color_of = |s: &str| {
            states
                .iter()
                .find(|(n, _)| n == s)
                .map(|(_, c)| *c)
                .unwrap_or(OTHER[0])
        };
        let label_text = style.text(style.note_size, style.ink);
        let row_px = frame.py(1.0) - frame.py(0.0);
        for (i, row) in self.shown().iter().enumerate() {
            let top = frame.py(i as f64);
            let (y0, y1) = (top + row_px * 3 / 20, top + row_px * 17 / 20);
            area.draw(&Text::new(
                shorten(&label_text, &row.label, label_w),
                (plot.x0 - 8, (y0 + y1) / 2),
                label_text.pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            // Cut bars too narrow for their text, named beside the row once it is drawn (a
            // text right of a bar would be painted over by the row's next bar).
            let mut outside: Vec<String> = Vec::new();
            let (mut row_x0, mut row_x1) = (i32::MAX, i32::MIN);
            // The row's extent, known before its bars are drawn: whether a text fits beside it.
            let (ext0, ext1) = row
                .spans
                .iter()
                .filter(|s| drawable(s))
                .map(|s| (s.0.max(xr.0), s.1.min(xr.1)))
                .filter(|(a, b)| a <= b)
                .fold((i32::MAX, i32::MIN), |(lo, hi), (a, b)| {
                    (lo.min(axis.px(a)), hi.max(axis.px(b)))
                });
            let beside = |t: &str| {
                let tw = text_size(&label_text, t).0;
                ext1 + 6 + tw <= plot.x1 || plot.x0 + 6 + tw <= ext0 - 6
            };
            for (start, end, state) in &row.spans {
                let Some(start) = fin(*start) else { continue };
                let open = *end == f64::INFINITY;
                let end = if open {
                    xr.1
                } else {
                    match fin(*end) {
                        Some(e) => e,
                        None => continue,
                    }
                };
                let (a, b) = (start.min(end).max(xr.0), start.max(end).min(xr.1));
                if a > b {
                    continue;
                }
                let (x0, x1) = (axis.px(a), axis.px(b).max(axis.px(a) + 1));
                row_x0 = row_x0.min(x0);
                row_x1 = row_x1.max(x1);
                let color = color_of(state);
                area.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled()))?;
                let cut = axis.crosses_break(a, b);
                if cut {
                    for (bx0, bx1, _) in axis.breaks() {
                        if bx0 >= x0 && bx1 <= x1 {
                            cut_bar(area, (bx0, bx1), (y0, y1))?;
                        }
                    }
                }
                // The state's name inside its bar when it fits, for grey-scale print; on a
                // bar the axis cuts, its duration too, since its length no longer shows it.
                let full = if cut {
                    let d = duration_text(b - a);
                    if open {
                        format!("{state} \u{2265} {d}")
                    } else {
                        format!("{state} {d}")
                    }
                } else {
                    state.clone()
                };
                let ink = if luminance(color) > 0.5 {
                    style.ink
                } else {
                    WHITE
                };
                // The uncut pieces of the bar, widest first: on a cut bar the text goes in
                // the widest, or the state there and its duration in the next.
                let mut pieces = vec![(x0, x1)];
                if cut {
                    let mut edges = vec![x0];
                    for (bx0, bx1, _) in axis.breaks() {
                        if bx0 >= x0 && bx1 <= x1 {
                            edges.push(bx0);
                            edges.push(bx1);
                        }
                    }
                    edges.push(x1);
                    pieces = edges.chunks(2).map(|p| (p[0], p[1])).collect();
                    pieces.sort_by_key(|&(a, b)| std::cmp::Reverse(b - a));
                }
                let th = text_size(&label_text, &full).1;
                let fits = |t: &str, (a, b): (i32, i32)| {
                    b - a >= text_size(&label_text, t).0 + 8 && y1 - y0 >= th
                };
                let mut texts = Vec::new();
                let d = duration_text(b - a);
                let d = if open { format!("\u{2265} {d}") } else { d };
                if fits(&full, pieces[0]) {
                    texts.push((full, pieces[0]));
                } else if cut && fits(&full, (x0, x1)) {
                    // Across the cut (with a halo where the ink is light).
                    texts.push((full, (x0, x1)));
                } else if fits(state, pieces[0]) {
                    if cut {
                        match pieces.get(1) {
                            Some(&p) if fits(&d, p) => {
                                texts.push((state.clone(), pieces[0]));
                                texts.push((d, p));
                            }
                            _ if beside(&full) => {
                                texts.push((state.clone(), pieces[0]));
                                outside.push(full);
                            }
                            // No room beside the row: the duration, which the cut bar's
                            // length no longer shows, rather than the name its colour gives.
                            _ => texts.push((d, pieces[0])),
                        }
                    } else {
                        texts.push((state.clone(), pieces[0]));
                    }
                } else if cut && !beside(&full) && fits(&d, pieces[0]) {
                    texts.push((d, pieces[0]));
                } else if cut {
                    outside.push(full);
                }
                for (text, (tx0, tx1)) in texts {
                    let at = ((tx0 + tx1) / 2, (y0 + y1) / 2);
                    let tw = text_size(&style.text(style.note_size, ink), &text).0;
                    let (lo, hi) = (at.0 - tw / 2 - 2, at.0 + tw / 2 + 2);
                    let across = axis
                        .breaks()
                        .iter()
                        .any(|&(bx0, bx1, _)| bx1 >= lo && bx0 <= hi);
                    // Light ink across a cut (a white band) gets a halo in the bar's colour,
                    // so its letters stay readable where they cross the band.
                    if across && ink == WHITE {
                        let halo = style
                            .text(style.note_size, color)
                            .pos(Pos::new(HPos::Center, VPos::Center));
                        for (dx, dy) in [
                            (-1, -1),
                            (0, -1),
                            (1, -1),
                            (-1, 0),
                            (1, 0),
                            (-1, 1),
                            (0, 1),
                            (1, 1),
                        ] {
                            area.draw(&Text::new(
                                text.clone(),
                                (at.0 + dx, at.1 + dy),
                                halo.clone(),
                            ))?;
                        }
                    }
                    area.draw(&Text::new(
                        text,
                        at,
                        style
                            .text(style.note_size, ink)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    ))?;
                }
            }
            if !outside.is_empty() {
                // Right of the row where there is room, else left of it.
                let text = outside.join(", ");
                let (tw, _) = text_size(&label_text, &text);
                let y = (y0 + y1) / 2;
                let place = if row_x1 + 6 + tw <= plot.x1 {
                    Some(((row_x1 + 6, y), HPos::Left))
                } else if plot.x0 + 6 + tw <= row_x0 - 6 {
                    Some(((row_x0 - 6, y), HPos::Right))
                } else {
                    None
                };
                if let Some((at, pos)) = place {
                    area.draw(&Text::new(
                        text,
                        at,
                        label_text.pos(Pos::new(pos, VPos::Center)),
                    ))?;
                }
            }
        }
        Ok(())
    }
}

/// A span has a finite start and an end that is finite or +infinity.
fn drawable(s: &(f64, f64, String)) -> bool {
    s.0.is_finite() && (s.1.is_finite() || s.1 == f64::INFINITY)
}

/// Relative luminance (0 dark .. 1 light), to pick legible text on a bar.
fn luminance(c: RGBColor) -> f64 {
    (0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64) / 255.0
}

/// `s` if it fits in `max_w` pixels, else its start and end joined by an ellipsis.
fn shorten(text: &TextStyle, s: &str, max_w: i32) -> String {
    if text_size(text, s).0 <= max_w {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let cut = |keep: usize| -> String {
        let head = keep / 2;
        let tail = keep - head;
        chars[..head]
            .iter()
            .chain(std::iter::once(&'…'))
            .chain(&chars[chars.len() - tail..])
            .collect()
    };
    // Binary search for the most characters that fit: width grows with `keep`.
    let (mut lo, mut hi) = (0, chars.len().saturating_sub(1));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if text_size(text, &cut(mid)).0 <= max_w {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    cut(lo)
}
