//! A run's figures: `ladder`, `timeseq`, `states` and `socket_counts`, each as SVG, PNG and
//! PDF (the PDF converted from the SVG drawing).
//!
//! - `ladder` ([`ladder`]): packets between hosts and routers, one lane per node, time running
//!   down; every packet drawn labelled like tcpdump ("#4 P. 1:1001(1000) ack 1", sequence and
//!   ACK numbers relative to the connection's ISN); lost duplicates in the highlight colour
//!   over their whole trip; TTL deaths and drops marked with an X and their cause; network
//!   changes as dashed lines across the lanes; a subtitle saying which notable packets it was
//!   drawn for.
//! - `timeseq` ([`timeseq`]): tcptrace-style sequence numbers over time, one panel per
//!   connection that sent data: first transmissions, retransmissions, the ACKs the sender
//!   received, and the lost duplicate that took the place of its data (the corrupting segment).
//! - `states` ([`states`]): one row per socket, a coloured bar per TCP state.
//! - `socket_counts` ([`socket_counts`]): TIME_WAIT, CLOSE_WAIT and ESTABLISHED sockets per
//!   host over time.
//!
//! Everything is drawn from one in-memory model, [`FigureData`] ([`model`]), which holds
//! exactly what the run's CSV files hold (`events.csv`, `states.csv`, `connections.csv`,
//! `socket_counts.csv`). `timewait run` fills it from the recorder as the run goes
//! ([`FigureData::for_run`] and its `on_*` methods); `timewait plot DIR` fills it by reading
//! those files back ([`FigureData::read_dir`]). Both push the same rows through the same code,
//! and every figure is derived from the model alone, so the two draw the same bytes. A figure
//! whose file was turned off in `[output]`, or that would be empty (no TCP data: no
//! `timeseq`), is not drawn.
//!
//! Each packet's connection is read from `events.csv`'s `conn` column (the incarnation that
//! sent it), never inferred. A *lost duplicate* is what the audit calls one: a TCP segment with
//! payload delivered after the incarnation that sent it was released (`released` in
//! `connections.csv`).
//!
//! Caps, so that big runs stay readable (each figure's title says when one applies):
//! - ladder: whole packets, at most [`LADDER_HOPS`] hops in all, plus up to [`LADDER_LOST`]
//!   lost duplicates with every hop of their trip. When the run has more, the notable packets
//!   (drops, RSTs, retransmissions, TTL expiries, deliveries out of a loop) are taken one of
//!   each kind in turn, with the [`LADDER_LEAD`] packets before the earliest, then the
//!   packets after them in send order. Idle stretches (nothing in flight but lost duplicates)
//!   longer than a fifth of the time around them are cut out, leaving at most
//!   [`LADDER_PANELS`] panels, so a burst long after another does not squash both into lines.
//! - timeseq: at most [`TIMESEQ_PANELS`] connections, those with a corrupting segment first,
//!   then those with retransmissions, then the others in opening order.
//! - states: the first [`MAX_ROWS`](super::plot::MAX_ROWS) sockets to appear.
//! - socket_counts: the first [`COUNT_HOSTS`] hosts (by first appearance) with any count.
//! - at most [`MAX_PACKET_ROWS`] packet events are kept; later ones are left out of every
//!   figure (said in the titles).

pub mod cwnd;
mod ladder;
pub mod model;
pub mod select;
mod socket_counts;
mod states;
mod timeseq;

use std::fmt;
use std::fs;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plot::{Figure, Formats, Ladder, LineChart, PlotError, Style, TimeSeq, Timeline, save};
use model::Index;
pub use model::{ConnRow, FigureData, HopKind, HostCounts, NetRow, PacketRow, SocketRow};
pub use select::{FIGURE_NAMES, FigureOptions};

/// Hops drawn in the ladder at most (besides the lost duplicates' own).
pub const LADDER_HOPS: usize = 300;
/// Lost duplicates drawn in the ladder at most.
pub const LADDER_LOST: usize = 3;
/// Panels of the ladder at most (busy stretches of time between idle ones).
pub const LADDER_PANELS: usize = 4;
/// Packets shown before the first lost duplicate when the ladder cannot start at the first.
pub const LADDER_LEAD: usize = 8;
/// Connections (one panel each) in `timeseq` at most.
pub const TIMESEQ_PANELS: usize = 4;
/// Hosts in `socket_counts` at most (one palette colour each).
pub const COUNT_HOSTS: usize = 8;
/// Packet events kept for the figures at most (about 100 bytes each, so about 100 MB).
pub const MAX_PACKET_ROWS: usize = 1_000_000;

/// Why a run that draws figures but writes no `events.csv` has no ladder or timeseq (per-packet
/// rows are off unless asked for), and how to get them.
pub const WITHOUT_PACKETS: &str = "No ladder or timeseq figure: they are drawn from events.csv, \
     which this run did not write (`--outputs all`, or `[output] events = true`).";

/// Samples kept per host and state for `socket_counts` at most, so a long run's figure model
/// stays small: when a line reaches this many, every other sample is dropped and from then on
/// only every 2nd (4th, 8th...) sample of `socket_counts.csv` is kept. The line then shows
/// evenly spaced true samples (the figure is 800 px wide, so 4,096 still fill it).
pub const MAX_COUNT_SAMPLES: usize = 4096;

/// The CSV files the figures are drawn from, in the order they are read.
pub const SOURCES: [&str; 4] = [
    "events.csv",
    "states.csv",
    "connections.csv",
    "socket_counts.csv",
];

/// Socket states whose counts are drawn, in panel order.
pub const COUNTED: [&str; 3] = ["TIME_WAIT", "CLOSE_WAIT", "ESTABLISHED"];

// ---- errors and writing ----

/// Why figures could not be drawn or written.
#[derive(Debug)]
pub enum FigureError {
    /// The folder or one of its files is not what a run writes (the message names it).
    Input(String),
    /// Writing failed.
    Io(PathBuf, io::Error),
    /// Drawing failed.
    Plot(PathBuf, PlotError),
}

impl fmt::Display for FigureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FigureError::Input(m) => f.write_str(m),
            FigureError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
            FigureError::Plot(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl std::error::Error for FigureError {}

impl FigureError {
    /// A failure to draw or write the figure whose files start with `base`.
    pub fn writing(base: &Path, e: PlotError) -> FigureError {
        match e {
            PlotError::Io(io) => FigureError::Io(base.to_path_buf(), io),
            other => FigureError::Plot(base.to_path_buf(), other),
        }
    }
}

/// The figures of one run; `None` where there is nothing to draw.
pub struct RunFigures {
    /// `ladder`: packet sequence chart, one panel per busy stretch of time.
    pub ladder: Option<Stack<Ladder>>,
    /// `timeseq`: sequence numbers over time, one panel per connection.
    pub timeseq: Option<Stack<TimeSeq>>,
    /// `states`: each socket's TCP state over time.
    pub states: Option<Timeline>,
    /// `socket_counts`: sockets per state and host over time.
    pub socket_counts: Option<Stack<LineChart>>,
    /// The files each figure is written as.
    pub formats: Formats,
    /// Figure width in pixels; `None` keeps the style's.
    pub width: Option<u32>,
}

impl RunFigures {
    /// How many figures there are.
    pub fn len(&self) -> usize {
        self.ladder.is_some() as usize
            + self.timeseq.is_some() as usize
            + self.states.is_some() as usize
            + self.socket_counts.is_some() as usize
    }

    /// True if there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes `NAME.svg`, `NAME.png` and `NAME.pdf` (the formats asked for) for each figure
    /// into `dir`; returns the file names written, in order.
    pub fn save(&self, dir: &Path) -> Result<Vec<String>, FigureError> {
        let mut style = Style::default();
        if let Some(w) = self.width {
            style.width = w;
        }
        // Thicker bars in timeseq: a segment is one bar, and at the default width it is a
        // hairline.
        let thick = Style {
            line_width: 4,
            ..style.clone()
        };
        let formats = self.formats;
        type Job<'a> = Box<dyn Fn(&Path) -> Result<Vec<&'static str>, PlotError> + Sync + 'a>;
        let mut jobs: Vec<(&str, Job)> = Vec::new();
        if let Some(l) = &self.ladder {
            jobs.push(("ladder", Box::new(|b| save(b, &style, l, formats))));
        }
        if let Some(t) = &self.timeseq {
            jobs.push(("timeseq", Box::new(|b| save(b, &thick, t, formats))));
        }
        if let Some(t) = &self.states {
            jobs.push(("states", Box::new(|b| save(b, &style, t, formats))));
        }
        if let Some(c) = &self.socket_counts {
            jobs.push(("socket_counts", Box::new(|b| save(b, &style, c, formats))));
        }
        // Each figure on a thread of its own: they share nothing but read-only data, and
        // drawing them is most of a large run's last seconds.
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .iter()
                .map(|(name, job)| {
                    let base = dir.join(name);
                    scope.spawn(move || (job(&base), base))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        let mut files = Vec::new();
        for ((name, _), (written, base)) in jobs.iter().zip(results) {
            let written = written.map_err(|e| FigureError::writing(&base, e))?;
            files.extend(written.into_iter().map(|ext| format!("{name}.{ext}")));
        }
        Ok(files)
    }
}

/// `timewait plot DIR` for a run's folder: redraws the figures from its CSV files, as `opts`
/// selects them. Everything is read and drawn into a hidden staging folder inside `dir`
/// first, and the figures are moved into `dir` only when all are done, so a failure leaves
/// `dir` as it was.
pub fn plot_dir(dir: &Path, opts: &FigureOptions) -> Result<Vec<String>, FigureError> {
    if !dir.is_dir() {
        return Err(FigureError::Input(format!(
            "{}: no such folder",
            dir.display()
        )));
    }
    opts.check().map_err(FigureError::Input)?;
    let mut data = FigureData::read_dir(dir)?;
    // The summary's reference numbers, as the run that wrote it drew them.
    if let Ok(summary) = fs::read_to_string(dir.join("summary.txt")) {
        data.read_summary(&summary);
    }
    let figs = data
        .figures_with(opts)
        .map_err(|e| FigureError::Input(format!("{}: {e}", dir.display())))?;
    if figs.is_empty() {
        let why = match &opts.only {
            Some(only)
                if !(data.packets.is_empty()
                    && data.sockets.is_empty()
                    && data.counts.is_empty()) =>
            {
                let packet_figures = only.iter().any(|f| f == "ladder" || f == "timeseq");
                // Per-packet rows are off by default: say where the packet figures come from.
                let why = if packet_figures && !has_events(dir) {
                    " (the ladder and timeseq are drawn from events.csv, which this folder does \
                     not have: rerun with `--outputs all`, or `[output] events = true`)"
                } else {
                    ""
                };
                format!(
                    "none of the figures asked for ({}) has anything to show{why}",
                    only.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            }
            _ if opts.selects_all() => {
                "its CSV files hold no packets, state changes or socket counts".to_string()
            }
            _ => "the selection holds no packets, state changes or socket counts".to_string(),
        };
        return Err(FigureError::Input(format!(
            "{}: nothing to draw: {why}",
            dir.display()
        )));
    }
    let stage = FigureStage::create(dir)?;
    // The cwnd figure reads tcp_probe.csv on a thread of its own, beside the others' drawing.
    let (files, cwnd) = std::thread::scope(|scope| {
        let cwnd = scope.spawn(|| cwnd::save(dir, stage.dir(), opts));
        let files = figs.save(stage.dir());
        let cwnd = cwnd.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (files, cwnd)
    });
    let mut files = files?;
    files.extend(cwnd?);
    stage.commit(&files)?;
    Ok(files)
}

/// Whether `dir` holds `events.csv`, plain or compressed.
fn has_events(dir: &Path) -> bool {
    dir.join("events.csv").exists() || dir.join("events.csv.zst").exists()
}

/// A hidden folder inside an output folder where figures are drawn before they are moved into
/// it; removed when dropped.
pub struct FigureStage {
    stage: PathBuf,
    target: PathBuf,
}

impl FigureStage {
    /// Creates `.figures.partial-PID` in `dir`, after removing what dead processes left there.
    pub fn create(dir: &Path) -> Result<FigureStage, FigureError> {
        crate::report::clean_stale(dir);
        let stage = dir.join(format!(".figures.partial-{}", std::process::id()));
        let io_err = |e| FigureError::Io(stage.clone(), e);
        if stage.exists() {
            fs::remove_dir_all(&stage).map_err(io_err)?;
        }
        crate::report::output::make_stage(&stage).map_err(io_err)?;
        Ok(FigureStage {
            stage: stage.clone(),
            target: dir.to_path_buf(),
        })
    }

    /// The staging folder.
    pub fn dir(&self) -> &Path {
        &self.stage
    }

    /// Moves `files` from the staging folder into the output folder.
    pub fn commit(self, files: &[String]) -> Result<(), FigureError> {
        for f in files {
            let to = self.target.join(f);
            fs::rename(self.stage.join(f), &to).map_err(|e| FigureError::Io(to, e))?;
        }
        Ok(())
    }
}

impl Drop for FigureStage {
    fn drop(&mut self) {
        crate::report::output::remove_stage(&self.stage);
    }
}

// ---- a figure of stacked panels ----

/// Height over width of a page (A4 portrait, 297 / 210): a figure no taller than this for its
/// width fits a page with its caption, scaled to the text width.
pub const PAGE_ASPECT: f64 = 1.414;

/// How much wider than asked one column may grow to keep a page's shape: a wider figure
/// prints its text smaller, and two columns beyond this would print it smaller still.
const MAX_WIDEN: f64 = 1.5;

/// Pixels between two columns of panels.
const COLUMN_GAP: u32 = 24;

/// Where a stack's panels go: columns of `width` pixels, each a run of panels in reading order.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Width of each column.
    pub width: u32,
    /// The panels of each column.
    pub columns: Vec<Range<usize>>,
}

/// Panels drawn one under another, under a common title, keeping a page's shape (see
/// [`Stack::layout`]): when one column would be too tall, it is made wider, or the panels go
/// in two columns side by side, read down the first, then the second.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stack<F> {
    /// Title over all panels.
    pub title: String,
    /// A smaller line under the title (may be empty).
    pub subtitle: String,
    /// The panels, top to bottom.
    pub panels: Vec<F>,
    /// Height of each panel in pixels, unless `heights` gives it.
    pub panel_height: u32,
    /// Heights of the panels, in order (the panels beyond take `panel_height`).
    pub heights: Vec<u32>,
}

impl<F> Stack<F> {
    fn height(&self, i: usize) -> u32 {
        self.heights
            .get(i)
            .copied()
            .unwrap_or(self.panel_height)
            .clamp(100, 8000)
    }

    /// How the stack is laid out for columns `width` wide under a `header` (title and
    /// subtitle) so that it keeps a page's shape ([`PAGE_ASPECT`]): one column when it is
    /// short enough; one column made up to [`MAX_WIDEN`] times wider when that is enough;
    /// else two, split where the taller is shortest, each made wider if it must be.
    pub fn layout(&self, width: u32, header: u32) -> Layout {
        let n = self.panels.len();
        let one: Vec<Range<usize>> = std::iter::once(0..n).collect();
        // The width that gives `columns` a page's shape, at least `width`.
        let needed = |columns: &[Range<usize>]| {
            let k = columns.len() as f64;
            let tall = f64::from(header + self.tallest(columns));
            let w = (tall / PAGE_ASPECT - (k - 1.0) * f64::from(COLUMN_GAP)) / k;
            (w.ceil() as u32).max(width)
        };
        let w1 = needed(&one);
        if n < 2 || f64::from(w1) <= MAX_WIDEN * f64::from(width) {
            return Layout {
                width: w1,
                columns: one,
            };
        }
        let two = (1..n)
            .map(|s| vec![0..s, s..n])
            .min_by_key(|cols| (self.tallest(cols), cols[0].end))
            .unwrap_or(one);
        Layout {
            width: needed(&two),
            columns: two,
        }
    }

    /// Height of the tallest of `columns`.
    fn tallest(&self, columns: &[Range<usize>]) -> u32 {
        columns
            .iter()
            .map(|c| c.clone().map(|i| self.height(i)).sum::<u32>())
            .max()
            .unwrap_or(0)
    }

    fn header(&self, style: &Style) -> u32 {
        let title = if self.title.is_empty() {
            0
        } else {
            (style.title_size * 1.2) as u32 + 20
        };
        let sub = self.subtitle_lines(style).len() as u32 * ((style.note_size * 1.3) as u32 + 4);
        title + sub
    }

    /// The subtitle broken at its "; " into lines that fit the width (a part too long for a
    /// line alone is shrunk when drawn).
    fn subtitle_lines(&self, style: &Style) -> Vec<String> {
        if self.subtitle.is_empty() {
            return Vec::new();
        }
        let font = style.text(style.note_size, style.ink).font;
        let fits = |t: &str| font.box_size(t).is_ok_and(|(tw, _)| tw + 24 <= style.width);
        let mut lines: Vec<String> = Vec::new();
        for part in self.subtitle.split("; ") {
            match lines.last_mut() {
                Some(line) if fits(&format!("{line}; {part}")) => {
                    line.push_str("; ");
                    line.push_str(part);
                }
                Some(line) => {
                    line.push(';');
                    lines.push(part.to_string());
                }
                None => lines.push(part.to_string()),
            }
        }
        lines
    }
}

impl<F: Figure> Figure for Stack<F> {
    fn size(&self, style: &Style) -> (u32, u32) {
        let style = style.sanitized();
        let header = self.header(&style);
        let layout = self.layout(style.width, header);
        let tallest = match self.panels.len() {
            0 => self.height(0),
            _ => self.tallest(&layout.columns),
        };
        let k = layout.columns.len() as u32;
        (k * layout.width + (k - 1) * COLUMN_GAP, header + tallest)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &Style,
    ) -> Result<(), PlotError> {
        let style = &style.sanitized();
        let (w, _) = area.dim_in_pixel();
        let header = self.header(style);
        if header > 0 {
            let mut text = style.text(style.title_size, style.ink);
            // Shrunk to fit the width rather than cut.
            if let Ok((tw, _)) = text.font.box_size(&self.title)
                && tw + 24 > w
            {
                let size = (style.title_size * (w as f64 - 24.0) / tw as f64).max(8.0);
                text = style.text(size, style.ink);
            }
            area.draw(&Text::new(
                self.title.clone(),
                (w as i32 / 2, 12),
                text.pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
            let line_h = (style.note_size * 1.3) as i32 + 4;
            for (k, line) in self.subtitle_lines(style).into_iter().enumerate() {
                let mut sub = style.text(style.note_size, style.ink);
                if let Ok((tw, _)) = sub.font.box_size(&line)
                    && tw + 24 > w
                {
                    let size = (style.note_size * (w as f64 - 24.0) / tw as f64).max(7.0);
                    sub = style.text(size, style.ink);
                }
                area.draw(&Text::new(
                    line,
                    (
                        w as i32 / 2,
                        (style.title_size * 1.2) as i32 + 16 + k as i32 * line_h,
                    ),
                    sub.pos(Pos::new(HPos::Center, VPos::Top)),
                ))?;
            }
        }
        let (_, body) = area.split_vertically(header);
        let layout = self.layout(style.width, header);
        let (_, body_h) = body.dim_in_pixel();
        for (k, column) in layout.columns.into_iter().enumerate() {
            let x0 = k as i32 * (layout.width + COLUMN_GAP) as i32;
            let mut rest = body.clone().shrink((x0, 0), (layout.width, body_h));
            for i in column {
                let (top, below) = rest.split_vertically(self.height(i));
                self.panels[i].draw(&top, style)?;
                rest = below;
            }
        }
        Ok(())
    }
}

// ---- from the model to the figures ----

/// Seconds, for plotting.
fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

impl FigureData {
    /// Packet ids of the lost duplicates the figures highlight, in order of delivery: TCP
    /// segments with payload delivered after the incarnation that sent them was released.
    pub fn lost_duplicates(&self) -> Vec<u64> {
        Index::new(self).lost_ids()
    }

    /// The figures this data gives, all of them, as SVG, PNG and PDF.
    pub fn figures(&self) -> RunFigures {
        self.draw(&FigureOptions::default())
    }

    /// The figures `opts` selects; an error when it names a host or connection the data
    /// does not hold.
    pub fn figures_with(&self, opts: &FigureOptions) -> Result<RunFigures, select::SelectError> {
        if opts.selects_all() {
            return Ok(self.draw(opts));
        }
        Ok(self.select(opts)?.draw(opts))
    }

    fn draw(&self, opts: &FigureOptions) -> RunFigures {
        let ix = Index::new(self);
        let note = if self.packets_left_out > 0 {
            format!(
                " (first {} packet events; {} more not drawn)",
                self.packets.len(),
                self.packets_left_out
            )
        } else {
            String::new()
        };
        let chosen = opts.describe();
        let window = opts.window_secs();
        let mut figs = RunFigures {
            ladder: None,
            timeseq: None,
            states: None,
            socket_counts: None,
            formats: opts.formats,
            width: opts.width,
        };
        if opts.wants("ladder") {
            figs.ladder = ladder::ladder(&ix, &note).map(|mut l| {
                l.subtitle = join_notes(&chosen, &l.subtitle);
                l
            });
        }
        if opts.wants("timeseq") {
            figs.timeseq = timeseq::timeseq(&ix, &note).map(|mut t| {
                t.subtitle = join_notes(&chosen, &t.subtitle);
                t
            });
        }
        if opts.wants("states") {
            figs.states = states::states(self, window).map(|mut t| {
                if !chosen.is_empty() {
                    t.title = format!("{} ({})", t.title, chosen.trim_start_matches("Selected: "));
                }
                t
            });
        }
        if opts.wants("socket_counts") {
            figs.socket_counts = socket_counts::socket_counts(self, window).map(|mut c| {
                c.subtitle = join_notes(&chosen, &c.subtitle);
                c
            });
        }
        figs
    }
}

/// Two notes for one subtitle line, either possibly empty.
fn join_notes(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}. {b}"),
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    fn stack(heights: &[u32]) -> Stack<()> {
        Stack {
            panels: vec![(); heights.len()],
            heights: heights.to_vec(),
            ..Stack::default()
        }
    }

    #[test]
    fn a_stack_keeps_a_pages_shape_by_widening_then_by_two_columns() {
        // 1,000 px under 800: a page holds it as it is.
        let l = stack(&[500, 500]).layout(800, 0);
        assert_eq!((l.width, l.columns), (800, vec![0..2]));
        // 1,200 px: one column 1,200 / 1.414 = 849 px wide keeps the shape.
        let l = stack(&[400, 400, 400]).layout(800, 0);
        assert_eq!((l.width, l.columns), (849, vec![0..3]));
        // 2,400 px would need 1,698 px, over 1.5 x 800: two columns of 1,200 px, 800 wide.
        let l = stack(&[400; 6]).layout(800, 0);
        assert_eq!((l.width, l.columns), (800, vec![0..3, 3..6]));
        // Uneven panels: the split that makes the taller column shortest.
        let l = stack(&[2000, 300, 300, 300, 300]).layout(800, 0);
        assert_eq!(l.columns, vec![0..1, 1..5]);
        // 2,000 px in a column: (2000 / 1.414 - 24) / 2 = 696 < 800, so 800 wide.
        assert_eq!(l.width, 800);
    }
}
