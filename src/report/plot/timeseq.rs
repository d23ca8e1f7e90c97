//! tcptrace-style time-sequence charts: segments as vertical bars over time, the ACK line as
//! steps.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Axes, Figure, Frame, Key, Legend, PlotError, Px, Style, axes_with_legend, axis_range,
    clip_polyline, clip_segment, draw_beam, draw_marker, extent, sample_path,
};

/// A time-sequence chart of one direction of one connection.
///
/// Segments are `(time, lo, hi)`: sent at `time` (seconds), covering relative sequence numbers
/// `lo..hi` (bytes), drawn as a vertical bar with end ticks. Non-finite entries are skipped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimeSeq {
    /// Title over the plot (may be empty).
    pub title: String,
    /// First transmissions.
    pub sent: Vec<(f64, f64, f64)>,
    /// Retransmissions, in another colour.
    pub retransmitted: Vec<(f64, f64, f64)>,
    /// (time, cumulative ACK) as received by the sender; drawn as a step line.
    pub acked: Vec<(f64, f64)>,
    /// Segments to point at (the one that corrupted the stream): highlight colour, thick, with a
    /// marker.
    pub highlighted: Vec<(f64, f64, f64)>,
    /// Time window to show; `None` fits the data.
    pub window: Option<(f64, f64)>,
}

const SENT: usize = 0;
const RETX: usize = 4;
const ACK: usize = 2;

impl TimeSeq {
    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let segs = || {
            self.sent
                .iter()
                .chain(&self.retransmitted)
                .chain(&self.highlighted)
        };
        let t = segs().map(|s| s.0).chain(self.acked.iter().map(|a| a.0));
        // A little room either side so the first and last bars clear the frame.
        let auto = extent(t).map(|r| {
            let (lo, hi) = axis_range(None, Some(r));
            let d = (hi - lo) * 0.02;
            (lo - d, hi + d)
        });
        let x = axis_range(self.window, auto);
        let seq = segs()
            .flat_map(|s| [s.1, s.2])
            .chain(self.acked.iter().map(|a| a.1));
        let y = match extent(seq) {
            Some((lo, hi)) => {
                let (lo, hi) = axis_range(None, Some((lo.min(0.0), hi)));
                (lo, hi + (hi - lo) * 0.05)
            }
            None => axis_range(None, None),
        };
        (x, y)
    }
}

/// The chart's data in pixels for one frame.
struct Geometry {
    /// Pieces of the ACK step line.
    acks: Vec<Vec<(i32, i32)>>,
    /// (kind, top, bottom) of every visible bar: 0 sent, 1 retransmitted, 2 highlighted.
    beams: Vec<(usize, Px, Px)>,
    /// Centres of the markers beside highlighted bars.
    markers: Vec<(i32, i32)>,
}

impl TimeSeq {
    fn geometry(&self, frame: &Frame, style: &Style) -> Geometry {
        let mut steps = Vec::with_capacity(self.acked.len() * 2);
        let mut prev: Option<f64> = None;
        for &(t, a) in &self.acked {
            if let Some(p) = prev {
                steps.push((t, p));
            }
            steps.push((t, a));
            prev = Some(a);
        }
        let acks = clip_polyline(&steps, frame.x, frame.y)
            .iter()
            .map(|piece| piece.iter().map(|&p| frame.map(p)).collect())
            .collect();
        let mut beams = Vec::new();
        let mut markers = Vec::new();
        for (kind, segs) in [&self.sent, &self.retransmitted, &self.highlighted]
            .into_iter()
            .enumerate()
        {
            for &seg in segs {
                if let Some((a, b)) = seg_pixels(frame, seg) {
                    beams.push((kind, a, b));
                    if kind == 2 {
                        markers.push((a.0 + style.line_width as i32 + 10, (a.1 + b.1) / 2));
                    }
                }
            }
        }
        Geometry {
            acks,
            beams,
            markers,
        }
    }
}

impl Geometry {
    fn occupied(&self) -> Vec<(i32, i32)> {
        let mut out = Vec::new();
        for p in &self.acks {
            sample_path(p, &mut out);
        }
        for &(_, a, b) in &self.beams {
            sample_path(&[a, b], &mut out);
        }
        out.extend(&self.markers);
        out
    }
}

impl Figure for TimeSeq {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &Style,
    ) -> Result<(), PlotError> {
        let style = &style.sanitized();
        let (xr, yr) = self.ranges();
        let mut axes = Axes {
            title: &self.title,
            x_label: "time (s)",
            y_label: "relative sequence number (bytes)",
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

        // ACKs first: the segments they acknowledge should stay visible on top.
        for p in &g.acks {
            area.draw(&PathElement::new(
                p.clone(),
                style.color(ACK).stroke_width(2),
            ))?;
        }
        let sent_w = (style.line_width / 2).max(1);
        let looks = [
            (style.color(SENT), sent_w),
            (style.color(RETX), sent_w + 1),
            (style.highlight, style.line_width + 1),
        ];
        // Highlighted bars last, so nothing covers them.
        for kind in 0..3 {
            for &(k, a, b) in &g.beams {
                if k == kind {
                    draw_beam(area, a, b, looks[k].0, looks[k].1)?;
                }
            }
        }
        for &c in &g.markers {
            draw_marker(area, 2, c, style.highlight, style)?;
        }
        legend.draw(area, at, boxed, style)
    }
}

impl TimeSeq {
    fn legend(&self, style: &Style) -> Legend {
        let w = (style.line_width / 2).max(1);
        let mut entries = Vec::new();
        if !self.sent.is_empty() {
            entries.push((Key::Beam(style.color(SENT), w), "data sent".to_string()));
        }
        if !self.retransmitted.is_empty() {
            entries.push((
                Key::Beam(style.color(RETX), w + 1),
                "retransmission".to_string(),
            ));
        }
        if !self.acked.is_empty() {
            entries.push((
                Key::Line {
                    color: style.color(ACK),
                    width: 2,
                    dashed: false,
                    marker: None,
                },
                "cumulative ACK".to_string(),
            ));
        }
        if !self.highlighted.is_empty() {
            entries.push((
                Key::Beam(style.highlight, style.line_width + 1),
                "corrupting segment".to_string(),
            ));
        }
        Legend {
            entries,
            text: style.text(style.tick_size, style.ink),
            columns: 1,
        }
    }
}

/// The visible part of a segment's bar, in pixels; `None` if it is outside the plot or not
/// finite.
fn seg_pixels(frame: &Frame, (t, lo, hi): (f64, f64, f64)) -> Option<((i32, i32), (i32, i32))> {
    let (a, b) = clip_segment((t, lo.min(hi)), (t, lo.max(hi)), frame.x, frame.y)?;
    if !(a.0.is_finite() && a.1.is_finite() && b.1.is_finite()) {
        return None;
    }
    Some((frame.map(a), frame.map(b)))
}
