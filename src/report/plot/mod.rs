//! Paper figures: SVG, PNG and PDF drawn with `plotters` from plain data (seconds as `f64`),
//! with no knowledge of the simulator's types.
//!
//! Each figure kind is a struct implementing [`Figure`]; [`save`] writes `NAME.svg`,
//! `NAME.png` and `NAME.pdf` (those [`Formats`] asks for) from the same drawing code, so they
//! always agree: the PDF is the SVG text converted ([`svg_to_pdf`]). Output is deterministic: the
//! same input gives the same bytes. No input (NaN, infinities, empty vectors, zero ranges, bad
//! lane indices) makes drawing panic; non-finite values are skipped.

mod broken;
mod ladder;
mod lines;
mod pdf;
mod timeline;
mod timeseq;

pub use ladder::{Arrow, Ladder, Mark, Rule, Segment, Stub};
pub use lines::{Dash, LineChart, Series, Share};
pub use pdf::svg_to_pdf;
pub use timeline::{MAX_ROWS, Row, Timeline, state_color};
pub use timeseq::TimeSeq;

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, RGBColor, register_font};

/// The bundled font; registered under [`FONT_FAMILY`] because the bitmap backend has no other
/// way to find glyphs (the `ab_glyph` feature never loads system fonts).
static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Family name every figure's text uses; SVG viewers substitute their own sans-serif font.
pub const FONT_FAMILY: &str = "sans-serif";

/// Okabe & Ito's colour-blind-safe palette, in the order series take colours (yellow last: it is
/// faint on white).
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xF0, 0xE4, 0x42), // yellow
];

/// Sizes and colours shared by every figure: a single-column paper figure.
///
/// Sizes are pixels; the defaults are chosen so an 800 px wide figure shrunk to a 3.3 in column
/// keeps tick labels near 6 pt. Font sizes are rounded to even numbers when used.
#[derive(Clone, Debug, PartialEq)]
pub struct Style {
    /// Figure width (both SVG and PNG).
    pub width: u32,
    /// Figure height; figures with many rows may grow it (see [`Figure::size`]).
    pub height: u32,
    /// Title size.
    pub title_size: f64,
    /// Axis descriptions ("time (s)") and lane names.
    pub label_size: f64,
    /// Tick labels and legend entries.
    pub tick_size: f64,
    /// Annotations inside the plot: packet labels, marker labels, row labels.
    pub note_size: f64,
    /// Data line width.
    pub line_width: u32,
    /// Series colours, used in order (wrapping).
    pub palette: Vec<RGBColor>,
    /// What the reader should look at: the lost duplicate, the corrupting segment.
    pub highlight: RGBColor,
    /// Ordinary ink: axes, text, plain arrows.
    pub ink: RGBColor,
    /// Grid lines and lane lines.
    pub grid: RGBColor,
}

impl Default for Style {
    fn default() -> Style {
        Style {
            width: 800,
            height: 500,
            title_size: 24.0,
            label_size: 22.0,
            tick_size: 20.0,
            note_size: 16.0,
            line_width: 3,
            palette: OKABE_ITO.to_vec(),
            highlight: RGBColor(0xD5, 0x5E, 0x00),
            ink: RGBColor(0x22, 0x22, 0x22),
            grid: RGBColor(0xDD, 0xDD, 0xDD),
        }
    }
}

impl Style {
    /// Colour `i` of the palette (wrapping); black if the palette is empty.
    pub fn color(&self, i: usize) -> RGBColor {
        match self.palette.len() {
            0 => BLACK,
            n => self.palette[i % n],
        }
    }

    /// The same style with every size clamped to something drawable (figure 16..=10000 px,
    /// fonts 2..=400 px, lines 1..=50 px; NaN sizes take the default), so no arithmetic on it
    /// can overflow. Every figure sanitises the style it is given.
    pub fn sanitized(&self) -> Style {
        let d = Style::default();
        let font = |v: f64, dv: f64| {
            if v.is_finite() {
                v.clamp(2.0, 400.0)
            } else {
                dv
            }
        };
        Style {
            width: self.width.clamp(16, 10_000),
            height: self.height.clamp(16, 10_000),
            title_size: font(self.title_size, d.title_size),
            label_size: font(self.label_size, d.label_size),
            tick_size: font(self.tick_size, d.tick_size),
            note_size: font(self.note_size, d.note_size),
            line_width: self.line_width.clamp(1, 50),
            ..self.clone()
        }
    }

    /// A text style of `size` pixels (rounded to an even number) in `color`.
    pub fn text(&self, size: f64, color: RGBColor) -> TextStyle<'static> {
        // plotters' bitmap text truncates half the size toward zero per glyph, so at odd sizes
        // small glyphs such as '.' sit a pixel high; even sizes keep one baseline.
        let even = if size.is_finite() {
            ((size / 2.0).round() * 2.0).clamp(2.0, 400.0)
        } else {
            12.0
        };
        (FONT_FAMILY, even).into_font().color(&color)
    }
}

/// Why a figure could not be written.
#[derive(Debug)]
pub enum PlotError {
    /// Creating or writing a file failed.
    Io(io::Error),
    /// The bundled font could not be registered.
    Font(String),
    /// The drawing library reported an error.
    Draw(String),
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::Io(e) => write!(f, "cannot write figure: {e}"),
            PlotError::Font(m) => write!(f, "cannot load the figure font: {m}"),
            PlotError::Draw(m) => write!(f, "cannot draw figure: {m}"),
        }
    }
}

impl std::error::Error for PlotError {}

impl From<io::Error> for PlotError {
    fn from(e: io::Error) -> PlotError {
        PlotError::Io(e)
    }
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> PlotError {
        PlotError::Draw(e.to_string())
    }
}

impl From<PlotError> for io::Error {
    fn from(e: PlotError) -> io::Error {
        match e {
            PlotError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
}

/// Registers the bundled DejaVu Sans as [`FONT_FAMILY`]; later calls return the first result.
/// The save functions call it; call it yourself only to draw on your own backend.
pub fn register_fonts() -> Result<(), PlotError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        register_font(FONT_FAMILY, FontStyle::Normal, DEJAVU_SANS)
            .map_err(|_| "DejaVuSans.ttf is not a valid font".to_string())
    })
    .clone()
    .map_err(PlotError::Font)
}

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    /// Pixel size the figure wants with `style` (the style's size unless it needs more room).
    fn size(&self, style: &Style) -> (u32, u32) {
        let style = style.sanitized();
        (style.width, style.height)
    }

    /// Draws the whole figure on `area`, which is already filled white and has [`Self::size`].
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        style: &Style,
    ) -> Result<(), PlotError>;
}

/// Writes `basename.svg` and `basename.png` (the extensions are appended, never substituted).
pub fn save_both(
    basename: &Path,
    style: &Style,
    figure: &(impl Figure + Sync),
) -> Result<(), PlotError> {
    save(basename, style, figure, Formats::SVG_PNG).map(|_| ())
}

/// The file formats a figure is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Formats {
    /// `NAME.svg`.
    pub svg: bool,
    /// `NAME.png`.
    pub png: bool,
    /// `NAME.pdf`, converted from the SVG drawing.
    pub pdf: bool,
}

impl Default for Formats {
    fn default() -> Formats {
        Formats::ALL
    }
}

impl Formats {
    /// SVG, PNG and PDF: what runs and `plot` write unless told otherwise.
    pub const ALL: Formats = Formats {
        svg: true,
        png: true,
        pdf: true,
    };
    /// SVG and PNG only.
    pub const SVG_PNG: Formats = Formats {
        svg: true,
        png: true,
        pdf: false,
    };
    /// The names a list of formats may hold, in the order files are written.
    pub const NAMES: [&'static str; 3] = ["svg", "png", "pdf"];

    /// Reads a comma-separated list such as `svg,pdf` (any order, case-insensitive, spaces
    /// allowed); at least one format.
    pub fn parse(list: &str) -> Result<Formats, String> {
        let mut f = Formats {
            svg: false,
            png: false,
            pdf: false,
        };
        for item in list.split(',').map(str::trim) {
            match item.to_ascii_lowercase().as_str() {
                "svg" => f.svg = true,
                "png" => f.png = true,
                "pdf" => f.pdf = true,
                "" => {}
                other => {
                    return Err(format!(
                        "unknown figure format `{other}`, expected a list of {}",
                        Formats::NAMES.join(", ")
                    ));
                }
            }
        }
        if f.extensions().is_empty() {
            return Err(format!(
                "no figure format given, expected a list of {}",
                Formats::NAMES.join(", ")
            ));
        }
        Ok(f)
    }

    /// The file extensions asked for, in writing order (svg, png, pdf).
    pub fn extensions(&self) -> Vec<&'static str> {
        [(self.svg, "svg"), (self.png, "png"), (self.pdf, "pdf")]
            .into_iter()
            .filter_map(|(on, ext)| on.then_some(ext))
            .collect()
    }
}

impl fmt::Display for Formats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.extensions().join(","))
    }
}

impl std::str::FromStr for Formats {
    type Err = String;
    fn from_str(s: &str) -> Result<Formats, String> {
        Formats::parse(s)
    }
}

/// Writes `basename.svg`, `basename.png` and `basename.pdf`, those `formats` asks for (the
/// extensions are appended, never substituted); returns the extensions written, in order.
/// The SVG text is rendered once and, when a PDF is asked for, converted to it.
pub fn save(
    basename: &Path,
    style: &Style,
    figure: &(impl Figure + Sync),
    formats: Formats,
) -> Result<Vec<&'static str>, PlotError> {
    let vector = || -> Result<(), PlotError> {
        if formats.svg || formats.pdf {
            let svg = render_svg(style, figure)?;
            if formats.svg {
                std::fs::write(with_suffix(basename, ".svg"), &svg)?;
            }
            if formats.pdf {
                std::fs::write(with_suffix(basename, ".pdf"), svg_to_pdf(&svg)?)?;
            }
        }
        Ok(())
    };
    if formats.png {
        // The bitmap is drawn beside the SVG and its PDF: the two share nothing, and a large
        // figure takes about as long for each.
        std::thread::scope(|scope| {
            let png = scope.spawn(|| save_png(&with_suffix(basename, ".png"), style, figure));
            let vector = vector();
            let png = png.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            vector.and(png)
        })?;
    } else {
        vector()?;
    }
    Ok(formats.extensions())
}

/// Writes the figure as a PDF file at `path`.
pub fn save_pdf(path: &Path, style: &Style, figure: &impl Figure) -> Result<(), PlotError> {
    std::fs::write(path, render_pdf(style, figure)?)?;
    Ok(())
}

/// The figure as a PDF document: its SVG drawing converted by [`svg_to_pdf`].
pub fn render_pdf(style: &Style, figure: &impl Figure) -> Result<Vec<u8>, PlotError> {
    svg_to_pdf(&render_svg(style, figure)?)
}

/// Writes the figure as an SVG file at `path`.
pub fn save_svg(path: &Path, style: &Style, figure: &impl Figure) -> Result<(), PlotError> {
    let svg = render_svg(style, figure)?;
    std::fs::write(path, svg)?;
    Ok(())
}

/// The figure as an SVG document.
pub fn render_svg(style: &Style, figure: &impl Figure) -> Result<String, PlotError> {
    register_fonts()?;
    let mut out = String::new();
    {
        // Rendered to a string so file errors surface from `fs::write`, not from a drop.
        let root =
            SVGBackend::with_string(&mut out, checked_size(figure, style)).into_drawing_area();
        root.fill(&WHITE)?;
        figure.draw(&root, style)?;
        root.present()?;
    }
    // XML 1.0 forbids most control characters; a label carrying one would make the file
    // unreadable, so they become spaces (plotters already escapes `<`, `>` and `&`).
    if out.chars().any(not_xml) {
        out = out
            .chars()
            .map(|c| if not_xml(c) { ' ' } else { c })
            .collect();
    }
    Ok(out)
}

fn not_xml(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Writes the figure as a PNG file at `path`.
pub fn save_png(path: &Path, style: &Style, figure: &impl Figure) -> Result<(), PlotError> {
    register_fonts()?;
    let (w, h) = checked_size(figure, style);
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        figure.draw(&root, style)?;
        root.present()?;
    }
    std::fs::write(path, encode_png(&rgb, w, h)?)?;
    Ok(())
}

/// An 8-bit RGB image as PNG bytes, every row Paeth-filtered and coded with fdeflate. Choosing
/// each row's filter by trial (the `image` crate's default) made files 2-7% smaller for twice
/// the encoding work; zlib's default level makes them half the size for ten times the work.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, PlotError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::FilterType::Paeth);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::NonAdaptive);
    let png_error = |e: png::EncodingError| PlotError::Draw(format!("cannot encode PNG: {e}"));
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(rgb).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

/// The figure's size, kept within what a bitmap can hold even if a `Figure` asks for more.
fn checked_size(figure: &impl Figure, style: &Style) -> (u32, u32) {
    let (w, h) = figure.size(style);
    (w.clamp(16, 10_000), h.clamp(16, 10_000))
}

fn with_suffix(base: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = base.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

// ---- helpers shared by the figure kinds ----

/// Values beyond this are clamped: plotters' tick search needs finite spans.
const HUGE: f64 = 1e15;

/// Clamps a finite value into [-HUGE, HUGE]; `None` for NaN and infinities.
pub(super) fn fin(v: f64) -> Option<f64> {
    v.is_finite().then(|| v.clamp(-HUGE, HUGE))
}

/// Min and max of the finite values, or `None` if there are none.
pub(super) fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter_map(fin)
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A usable axis range: the caller's if it is finite (swapped if reversed), else `auto`, else
/// 0..1; widened when empty or too narrow for plotters' tick search to terminate.
pub(super) fn axis_range(given: Option<(f64, f64)>, auto: Option<(f64, f64)>) -> (f64, f64) {
    let pick = |r: Option<(f64, f64)>| {
        r.and_then(|(a, b)| Some((fin(a)?, fin(b)?)))
            .map(|(a, b)| (a.min(b), a.max(b)))
    };
    let (lo, hi) = pick(given).or(pick(auto)).unwrap_or((0.0, 1.0));
    let mag = lo.abs().max(hi.abs());
    if hi - lo > mag * 1e-9 && hi - lo > 1e-12 {
        return (lo, hi);
    }
    // A single value: centre it in a window wide enough to get ticks.
    let half = (mag * 0.05).max(0.5);
    (lo - half, hi + half)
}

/// Clips segment a-b to the rectangle x0..x1, y0..y1 (Liang-Barsky); `None` if it misses.
pub(super) fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    // Also rejects NaN, which fails every comparison.
    if t0
        .partial_cmp(&t1)
        .is_none_or(|o| o == std::cmp::Ordering::Greater)
    {
        return None;
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// Splits a polyline at non-finite points and clips it to the rectangle, returning the visible
/// pieces (each at least two points).
pub(super) fn clip_polyline(
    points: &[(f64, f64)],
    xr: (f64, f64),
    yr: (f64, f64),
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let mut prev: Option<(f64, f64)> = None;
    for &(x, y) in points {
        let p = match (fin(x), fin(y)) {
            (Some(x), Some(y)) => Some((x, y)),
            _ => None,
        };
        if let (Some(a), Some(b)) = (prev, p) {
            match clip_segment(a, b, xr, yr) {
                Some((ca, cb)) => {
                    // Continue the current piece only if this segment starts where it ended.
                    if current.last() != Some(&ca) {
                        flush(&mut out, &mut current);
                        current.push(ca);
                    }
                    current.push(cb);
                }
                None => flush(&mut out, &mut current),
            }
        } else if p.is_none() {
            flush(&mut out, &mut current);
        }
        prev = p;
    }
    flush(&mut out, &mut current);
    out
}

fn flush(out: &mut Vec<Vec<(f64, f64)>>, current: &mut Vec<(f64, f64)>) {
    if current.len() >= 2 {
        out.push(std::mem::take(current));
    } else {
        current.clear();
    }
}

/// Clips a polygon to the rectangle (Sutherland-Hodgman); fewer than three points if it misses.
pub(super) fn clip_polygon(
    poly: &[(f64, f64)],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Vec<(f64, f64)> {
    type Inside = fn((f64, f64), f64) -> bool;
    type Cross = fn((f64, f64), (f64, f64), f64) -> (f64, f64);
    fn cross_x(a: (f64, f64), b: (f64, f64), x: f64) -> (f64, f64) {
        let t = (x - a.0) / (b.0 - a.0);
        (x, a.1 + t * (b.1 - a.1))
    }
    fn cross_y(a: (f64, f64), b: (f64, f64), y: f64) -> (f64, f64) {
        let t = (y - a.1) / (b.1 - a.1);
        (a.0 + t * (b.0 - a.0), y)
    }
    let edges: [(Inside, Cross, f64); 4] = [
        (|p, v| p.0 >= v, cross_x, x0),
        (|p, v| p.0 <= v, cross_x, x1),
        (|p, v| p.1 >= v, cross_y, y0),
        (|p, v| p.1 <= v, cross_y, y1),
    ];
    let mut pts: Vec<(f64, f64)> = poly.to_vec();
    for (inside, cross, v) in edges {
        let Some(&last) = pts.last() else { break };
        let mut next = Vec::with_capacity(pts.len() + 4);
        let mut s = last;
        for &e in &pts {
            match (inside(e, v), inside(s, v)) {
                (true, true) => next.push(e),
                (true, false) => {
                    next.push(cross(s, e, v));
                    next.push(e);
                }
                (false, true) => next.push(cross(s, e, v)),
                (false, false) => {}
            }
            s = e;
        }
        pts = next;
    }
    pts
}

/// Text size in pixels with the bundled font; (0, 0) if it cannot be measured.
pub(super) fn text_size(style: &TextStyle, text: &str) -> (i32, i32) {
    style
        .font
        .box_size(text)
        .map(|(w, h)| (w as i32, h as i32))
        .unwrap_or((0, 0))
}

/// A pixel position.
pub(super) type Px = (i32, i32);

/// Where the data goes on the figure, and how data values map to pixels.
#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    /// The plot area in pixels.
    pub plot: Bounds,
    /// Data range on x.
    pub x: (f64, f64),
    /// Data range on y.
    pub y: (f64, f64),
    /// `true` when y grows downward (time in a ladder chart).
    pub y_down: bool,
}

impl Frame {
    /// Pixel column of data value `x`.
    pub fn px(&self, x: f64) -> i32 {
        let f = (x - self.x.0) / (self.x.1 - self.x.0);
        lerp(self.plot.x0, self.plot.x1, f)
    }

    /// Pixel row of data value `y`.
    pub fn py(&self, y: f64) -> i32 {
        let f = (y - self.y.0) / (self.y.1 - self.y.0);
        if self.y_down {
            lerp(self.plot.y0, self.plot.y1, f)
        } else {
            lerp(self.plot.y1, self.plot.y0, f)
        }
    }

    /// Pixel position of a data point.
    pub fn map(&self, (x, y): (f64, f64)) -> (i32, i32) {
        (self.px(x), self.py(y))
    }
}

fn lerp(a: i32, b: i32, f: f64) -> i32 {
    let v = a as f64 + (b - a) as f64 * f;
    // Clamped far outside any figure so the cast never saturates into nonsense lines.
    if v.is_finite() {
        v.round().clamp(-1e6, 1e6) as i32
    } else {
        a
    }
}

/// What [`draw_axes`] draws around the plot area.
pub(super) struct Axes<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// Data ranges (already made usable by [`axis_range`]).
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub y_down: bool,
    /// Draw numeric y ticks (off for the timeline, whose rows label themselves).
    pub y_ticks: bool,
    /// Pixels to reserve left of the plot for the caller's own labels (added to tick labels).
    pub left_extra: i32,
    /// Pixels to reserve between the title and the plot (legend, lane names).
    pub top_extra: i32,
    /// Draw the x axis with numeric ticks (off for the ladder, whose lanes are named on top).
    pub x_ticks: bool,
    /// Light grid lines at the x and y ticks.
    pub grid_x: bool,
    pub grid_y: bool,
}

const MARGIN: i32 = 12;
const TICK: i32 = 6;

/// Tick positions and their labels for a range: multiples of 1, 2 or 5 times a power of ten,
/// at most `n` of them (a few more never hurt less than plotters' search, which can skip the
/// last tick or, on degenerate ranges, never finish). Labels share one number of decimals;
/// values of 1e7 and more, or steps under 1e-4, are written as "2.5e7".
pub(super) fn ticks((lo, hi): (f64, f64), n: usize) -> Vec<(f64, String)> {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return Vec::new();
    }
    let n = n.max(1) as f64;
    let mut k = (span / n).log10().floor() as i32;
    let base = 10f64.powi(k);
    let mut m = [1i64, 2, 5, 10]
        .into_iter()
        .find(|&m| span / (m as f64 * base) <= n)
        .unwrap_or(10);
    if m == 10 {
        m = 1;
        k += 1;
    }
    let step = m as f64 * 10f64.powi(k);
    let first = (lo / step - 1e-9).ceil();
    let last = (hi / step + 1e-9).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > 200.0 {
        return Vec::new();
    }
    // Scientific only for values that are themselves huge or tiny: a fine step at 2.2 s reads
    // as 2.20815, not 2.20815e0.
    let top = lo.abs().max(hi.abs());
    let sci = !(1e-4..1e7).contains(&top);
    (first as i64..=last as i64)
        .map(|i| {
            // Value = units x 10^k from integers, so labels never show 0.30000000000000004.
            let units = i * m;
            let v = if k >= 0 {
                units as f64 * 10f64.powi(k)
            } else {
                units as f64 / 10f64.powi(-k)
            };
            let label = if units == 0 {
                if sci || k >= 0 {
                    "0".to_string()
                } else {
                    format!("{:.*}", (-k) as usize, 0.0)
                }
            } else if sci {
                format!("{v:e}")
            } else {
                format!("{:.*}", (-k).max(0) as usize, v)
            };
            (v, label)
        })
        .collect()
}

/// Where [`draw_axes`] puts things, computed without drawing.
pub(super) struct Layout {
    pub frame: Frame,
    title_style: TextStyle<'static>,
    x_ticks: Vec<(f64, String)>,
    y_ticks: Vec<(f64, String)>,
}

/// Lays out title, axes and tick labels in a `w` x `h` area.
pub(super) fn layout_axes(w: i32, h: i32, style: &Style, a: &Axes<'_>) -> Layout {
    let tick_style = style.text(style.tick_size, style.ink);
    let label_style = style.text(style.label_size, style.ink);
    let line_h = |s: &TextStyle| (s.font.get_size() * 1.2) as i32;

    // Title: shrunk to fit the width rather than clipped.
    let mut title_style = style.text(style.title_size, style.ink);
    let title_w = text_size(&title_style, a.title).0;
    // The bitmap backend draws glyphs a little wider than they measure: keep some slack.
    let room = (w - 2 * MARGIN) * 94 / 100;
    if title_w > room && title_w > 0 {
        let size = (style.title_size * room as f64 / title_w as f64).max(8.0);
        title_style = style.text(size, style.ink);
    }
    let title_h = if a.title.is_empty() {
        0
    } else {
        line_h(&title_style) + 8
    };

    let y_tick_vals = if a.y_ticks {
        ticks(a.y, (h / 70).clamp(2, 8) as usize)
    } else {
        Vec::new()
    };
    let y_tick_w = y_tick_vals
        .iter()
        .map(|(_, s)| text_size(&tick_style, s).0)
        .max()
        .unwrap_or(0);
    let y_label_w = if a.y_label.is_empty() {
        0
    } else {
        line_h(&label_style) + 6
    };
    let left = MARGIN + y_label_w + a.left_extra + if a.y_ticks { y_tick_w + TICK + 6 } else { 0 };
    let x_label_h = if a.x_label.is_empty() {
        0
    } else {
        line_h(&label_style) + 4
    };
    let bottom = MARGIN
        + x_label_h
        + if a.x_ticks {
            line_h(&tick_style) + TICK + 6
        } else {
            0
        };
    // Half a tick label of room so the top y label is not cut.
    let top = MARGIN
        + title_h
        + a.top_extra
        + if a.y_ticks {
            line_h(&tick_style) / 2
        } else {
            0
        };

    // x ticks: as many as fit without labels touching (measured on a dense first try).
    let dense = if a.x_ticks {
        ticks(a.x, 10)
    } else {
        Vec::new()
    };
    let widest = dense
        .iter()
        .map(|(_, s)| text_size(&tick_style, s).0)
        .max()
        .unwrap_or(0);
    // Room for the label plus a gap of about two characters.
    let probe_w = widest + (style.tick_size * 2.0) as i32 + 20;
    let right = MARGIN + widest / 2 + 4;
    let plot = Bounds {
        x0: left,
        y0: top,
        x1: (w - right).max(left + 1),
        y1: (h - bottom).max(top + 1),
    };
    let frame = Frame {
        plot,
        x: a.x,
        y: a.y,
        y_down: a.y_down,
    };
    let n_x = ((plot.x1 - plot.x0) / probe_w.max(1)).clamp(2, 10) as usize;
    let x_tick_vals = if a.x_ticks {
        ticks(a.x, n_x)
    } else {
        Vec::new()
    };

    Layout {
        frame,
        title_style,
        x_ticks: x_tick_vals,
        y_ticks: y_tick_vals,
    }
}

/// Draws title, axes, grid, ticks and axis labels, and returns where the data goes.
pub(super) fn draw_axes<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &Style,
    a: &Axes<'_>,
) -> Result<Frame, PlotError> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let Layout {
        frame,
        title_style,
        x_ticks: x_tick_vals,
        y_ticks: y_tick_vals,
    } = layout_axes(w, h, style, a);
    let plot = frame.plot;
    let tick_style = style.text(style.tick_size, style.ink);
    let label_style = style.text(style.label_size, style.ink);

    // Grid first so data and axes draw over it.
    let grid = style.grid.stroke_width(1);
    if a.grid_x {
        for (v, _) in &x_tick_vals {
            let x = frame.px(*v);
            area.draw(&PathElement::new(vec![(x, plot.y0), (x, plot.y1)], grid))?;
        }
    }
    if a.grid_y {
        for (v, _) in &y_tick_vals {
            let y = frame.py(*v);
            area.draw(&PathElement::new(vec![(plot.x0, y), (plot.x1, y)], grid))?;
        }
    }

    let axis = style.ink.stroke_width(2);
    let x_axis_y = plot.y1;
    if a.y_ticks {
        area.draw(&PathElement::new(
            vec![(plot.x0, plot.y0), (plot.x0, plot.y1)],
            axis,
        ))?;
    }
    if a.x_ticks {
        area.draw(&PathElement::new(
            vec![(plot.x0, x_axis_y), (plot.x1, x_axis_y)],
            axis,
        ))?;
    }
    let tick_line = style.ink.stroke_width(1);
    for (v, label) in &x_tick_vals {
        let x = frame.px(*v);
        area.draw(&PathElement::new(
            vec![(x, x_axis_y), (x, x_axis_y + TICK)],
            tick_line,
        ))?;
        area.draw(&Text::new(
            label.clone(),
            (x, x_axis_y + TICK + 4),
            tick_style.pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    for (v, label) in &y_tick_vals {
        let y = frame.py(*v);
        area.draw(&PathElement::new(
            vec![(plot.x0 - TICK, y), (plot.x0, y)],
            tick_line,
        ))?;
        area.draw(&Text::new(
            label.clone(),
            (plot.x0 - TICK - 4, y),
            tick_style.pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    if !a.x_label.is_empty() {
        area.draw(&Text::new(
            a.x_label.to_string(),
            ((plot.x0 + plot.x1) / 2, h - MARGIN),
            label_style.pos(Pos::new(HPos::Center, VPos::Bottom)),
        ))?;
    }
    if !a.y_label.is_empty() {
        // Shrunk to the plot's height rather than running off the figure.
        let room = (plot.y1 - plot.y0 + 2 * MARGIN) * 94 / 100;
        let label_w = text_size(&label_style, a.y_label).0;
        let label_style = if label_w > room && label_w > 0 {
            style.text(
                (style.label_size * room as f64 / label_w as f64).max(8.0),
                style.ink,
            )
        } else {
            label_style.clone()
        };
        area.draw(&Text::new(
            a.y_label.to_string(),
            (MARGIN, (plot.y0 + plot.y1) / 2),
            label_style
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    if !a.title.is_empty() {
        area.draw(&Text::new(
            a.title.to_string(),
            (w / 2, MARGIN),
            title_style.pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    Ok(frame)
}

/// A pixel rectangle, for overlap tests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Bounds {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Bounds {
    pub fn overlaps(&self, o: &Bounds) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
    pub fn contains(&self, o: &Bounds) -> bool {
        o.x0 >= self.x0 && o.x1 <= self.x1 && o.y0 >= self.y0 && o.y1 <= self.y1
    }
}

/// How a legend entry's key is drawn.
#[derive(Clone, Copy, Debug)]
pub(super) enum Key {
    /// A line sample, optionally dashed, optionally with the series' marker.
    Line {
        color: RGBColor,
        width: u32,
        dashed: bool,
        marker: Option<usize>,
    },
    /// A filled box.
    Swatch(RGBColor),
    /// A vertical I-beam (a segment with end ticks), as in time-sequence charts.
    Beam(RGBColor, u32),
    /// An X mark.
    Cross(RGBColor),
}

/// A legend laid out in pixel space.
pub(super) struct Legend {
    pub entries: Vec<(Key, String)>,
    pub text: TextStyle<'static>,
    /// Entries per row; 1 gives a vertical legend.
    pub columns: usize,
}

const KEY_W: i32 = 34;
const GAP: i32 = 8;

impl Legend {
    fn row_h(&self) -> i32 {
        (self.text.font.get_size() * 1.35) as i32
    }

    fn col_widths(&self) -> Vec<i32> {
        let cols = self.columns.max(1);
        let mut w = vec![0; cols.min(self.entries.len())];
        for (i, (_, name)) in self.entries.iter().enumerate() {
            let tw = KEY_W + GAP + text_size(&self.text, name).0;
            w[i % cols] = w[i % cols].max(tw);
        }
        w
    }

    /// Width and height including the padding.
    pub fn size(&self) -> (i32, i32) {
        if self.entries.is_empty() {
            return (0, 0);
        }
        let cols = self.columns.max(1);
        let rows = self.entries.len().div_ceil(cols) as i32;
        let w: i32 = self.col_widths().iter().sum::<i32>()
            + 2 * GAP * (self.col_widths().len() as i32 - 1).max(0);
        (w + 2 * GAP, rows * self.row_h() + GAP)
    }

    /// Draws the legend with its top-left corner at `at`; `boxed` adds a white, bordered
    /// background (for legends over data).
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        at: (i32, i32),
        boxed: bool,
        style: &Style,
    ) -> Result<(), PlotError> {
        if self.entries.is_empty() {
            return Ok(());
        }
        let (w, h) = self.size();
        if boxed {
            area.draw(&Rectangle::new(
                [at, (at.0 + w, at.1 + h)],
                WHITE.mix(0.9).filled(),
            ))?;
            area.draw(&Rectangle::new(
                [at, (at.0 + w, at.1 + h)],
                style.grid.stroke_width(1),
            ))?;
        }
        let cols = self.columns.max(1);
        let widths = self.col_widths();
        let rh = self.row_h();
        for (i, (key, name)) in self.entries.iter().enumerate() {
            let col = i % cols;
            let x = at.0 + GAP + widths[..col].iter().map(|w| w + 2 * GAP).sum::<i32>();
            let y = at.1 + GAP / 2 + (i / cols) as i32 * rh + rh / 2;
            draw_key(area, *key, (x, y), rh, style)?;
            area.draw(&Text::new(
                name.clone(),
                (x + KEY_W + GAP, y),
                self.text.pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}

fn draw_key<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    key: Key,
    (x, y): (i32, i32),
    rh: i32,
    style: &Style,
) -> Result<(), PlotError> {
    match key {
        Key::Line {
            color,
            width,
            dashed,
            marker,
        } => {
            let s = color.stroke_width(width);
            if dashed {
                area.draw(&PathElement::new(vec![(x, y), (x + 10, y)], s))?;
                area.draw(&PathElement::new(vec![(x + 18, y), (x + KEY_W, y)], s))?;
            } else {
                area.draw(&PathElement::new(vec![(x, y), (x + KEY_W, y)], s))?;
            }
            if let Some(m) = marker {
                draw_marker(area, m, (x + KEY_W / 2, y), color, style)?;
            }
        }
        Key::Swatch(color) => {
            let half = (rh * 3 / 10).max(3);
            area.draw(&Rectangle::new(
                [(x + 4, y - half), (x + KEY_W - 4, y + half)],
                color.filled(),
            ))?;
        }
        Key::Beam(color, width) => {
            let half = (rh * 4 / 10).max(3);
            let cx = x + KEY_W / 2;
            draw_beam(area, (cx, y - half), (cx, y + half), color, width)?;
        }
        Key::Cross(color) => {
            draw_x(area, (x + KEY_W / 2, y), 6, color, style.line_width)?;
        }
    }
    Ok(())
}

/// Marker shapes, by index: circle, square, triangle, diamond (all filled), then repeating.
pub(super) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    shape: usize,
    (x, y): (i32, i32),
    color: RGBColor,
    style: &Style,
) -> Result<(), PlotError> {
    let r = (style.line_width as i32 + 3).max(4);
    let fill = color.filled();
    match shape % 4 {
        0 => area.draw(&Circle::new((x, y), r, fill))?,
        1 => area.draw(&Rectangle::new(
            [(x - r + 1, y - r + 1), (x + r - 1, y + r - 1)],
            fill,
        ))?,
        2 => area.draw(&Polygon::new(
            vec![
                (x, y - r - 1),
                (x + r + 1, y + r - 1),
                (x - r - 1, y + r - 1),
            ],
            fill,
        ))?,
        _ => area.draw(&Polygon::new(
            vec![
                (x, y - r - 1),
                (x + r + 1, y),
                (x, y + r + 1),
                (x - r - 1, y),
            ],
            fill,
        ))?,
    }
    Ok(())
}

/// An X of half-size `r` centred at `c`.
pub(super) fn draw_x<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    r: i32,
    color: RGBColor,
    width: u32,
) -> Result<(), PlotError> {
    let s = color.stroke_width(width);
    area.draw(&PathElement::new(vec![(x - r, y - r), (x + r, y + r)], s))?;
    area.draw(&PathElement::new(vec![(x - r, y + r), (x + r, y - r)], s))?;
    Ok(())
}

/// A vertical segment from `a` to `b` with short horizontal ticks at both ends.
pub(super) fn draw_beam<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: (i32, i32),
    b: (i32, i32),
    color: RGBColor,
    width: u32,
) -> Result<(), PlotError> {
    let s = color.stroke_width(width);
    let t = 3 + width as i32;
    area.draw(&PathElement::new(vec![a, b], s))?;
    area.draw(&PathElement::new(vec![(a.0 - t, a.1), (a.0 + t, a.1)], s))?;
    area.draw(&PathElement::new(vec![(b.0 - t, b.1), (b.0 + t, b.1)], s))?;
    Ok(())
}

/// The corner of the plot (in pixel bounds `plot`) where a `w` x `h` legend hides the fewest of
/// `points` (pixel positions of the data), trying upper right, upper left, lower right, lower
/// left in that order; returns the legend's top-left corner and how many points it hides.
pub(super) fn best_corner(
    plot: Bounds,
    (w, h): (i32, i32),
    points: &[(i32, i32)],
) -> ((i32, i32), usize) {
    let m = 10;
    let corners = [
        (plot.x1 - m - w, plot.y0 + m),
        (plot.x0 + m, plot.y0 + m),
        (plot.x1 - m - w, plot.y1 - m - h),
        (plot.x0 + m, plot.y1 - m - h),
    ];
    let mut best = corners[0];
    let mut best_hits = usize::MAX;
    for c in corners {
        // A few pixels of slack so lines grazing the box count as covered.
        let b = Bounds {
            x0: c.0 - 4,
            y0: c.1 - 4,
            x1: c.0 + w + 4,
            y1: c.1 + h + 4,
        };
        let hits = points
            .iter()
            .filter(|&&(x, y)| x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1)
            .count();
        if hits < best_hits {
            best = c;
            best_hits = hits;
        }
    }
    (best, best_hits)
}

/// Draws the axes and decides where the legend goes: in the corner of the plot where it hides
/// no data (`occupied` gives the data's pixels for a candidate frame), or, when every corner
/// would hide some, in rows between the title and the plot. Returns the frame, the legend's
/// top-left corner and whether it sits over the plot (and so needs a background box).
pub(super) fn axes_with_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &Style,
    axes: &mut Axes<'_>,
    legend: &mut Legend,
    occupied: impl Fn(&Frame) -> Vec<(i32, i32)>,
) -> Result<(Frame, (i32, i32), bool), PlotError> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    if legend.entries.is_empty() {
        return Ok((draw_axes(area, style, axes)?, (0, 0), false));
    }
    let trial = layout_axes(w, h, style, axes).frame;
    let (corner, hits) = best_corner(trial.plot, legend.size(), &occupied(&trial));
    if hits == 0 {
        return Ok((draw_axes(area, style, axes)?, corner, true));
    }
    legend.columns = legend.entries.len();
    while legend.columns > 1 && legend.size().0 > w - 2 * MARGIN {
        legend.columns -= 1;
    }
    let (lw, lh) = legend.size();
    axes.top_extra += lh + 4;
    let frame = draw_axes(area, style, axes)?;
    Ok((frame, ((w - lw) / 2, frame.plot.y0 - lh - 4), false))
}

/// Samples points along a pixel polyline every few pixels, for [`best_corner`].
pub(super) fn sample_path(path: &[(i32, i32)], out: &mut Vec<(i32, i32)>) {
    for w in path.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (a.0 - b.0).abs().max((a.1 - b.1).abs());
        let steps = (len / 4).clamp(1, 400);
        for k in 0..=steps {
            out.push((a.0 + (b.0 - a.0) * k / steps, a.1 + (b.1 - a.1) * k / steps));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_always_usable() {
        assert_eq!(axis_range(None, None), (0.0, 1.0));
        assert_eq!(axis_range(Some((2.0, 1.0)), None), (1.0, 2.0));
        assert_eq!(
            axis_range(Some((f64::NAN, 1.0)), Some((0.0, 4.0))),
            (0.0, 4.0)
        );
        let (lo, hi) = axis_range(Some((3.0, 3.0)), None);
        assert!(lo < 3.0 && hi > 3.0);
        let (lo, hi) = axis_range(None, Some((1e15, 1e15 + 1e-3)));
        assert!(hi - lo > 1e5);
    }

    #[test]
    fn ticks_read_cleanly() {
        let labels = |r, n| -> Vec<String> { ticks(r, n).into_iter().map(|t| t.1).collect() };
        assert_eq!(
            labels((0.0, 1.0), 5),
            ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
        );
        assert_eq!(
            labels((2.5, 3.5), 10),
            [
                "2.5", "2.6", "2.7", "2.8", "2.9", "3.0", "3.1", "3.2", "3.3", "3.4", "3.5"
            ]
        );
        assert_eq!(
            labels((0.0, 30_000.0), 6),
            ["0", "5000", "10000", "15000", "20000", "25000", "30000"]
        );
        assert_eq!(
            labels((-1e15, 1e15), 4),
            ["-1e15", "-5e14", "0", "5e14", "1e15"]
        );
        assert_eq!(labels((0.0, 3e-6), 3), ["0", "1e-6", "2e-6", "3e-6"]);
        // A fine step on a large value stays positional.
        assert_eq!(labels((2.20814, 2.20822), 2), ["2.20815", "2.20820"]);
        assert!(ticks((1.0, 1.0), 5).is_empty());
        assert!(ticks((0.0, f64::INFINITY), 5).is_empty());
    }

    #[test]
    fn clipping() {
        let r = (0.0, 1.0);
        assert_eq!(
            clip_segment((-1.0, 0.5), (2.0, 0.5), r, r),
            Some(((0.0, 0.5), (1.0, 0.5)))
        );
        assert_eq!(clip_segment((2.0, 2.0), (3.0, 3.0), r, r), None);
        let pieces = clip_polyline(&[(0.1, 0.1), (0.2, f64::NAN), (0.3, 0.3), (0.4, 0.4)], r, r);
        assert_eq!(pieces, vec![vec![(0.3, 0.3), (0.4, 0.4)]]);
        let sq = clip_polygon(&[(-1.0, -1.0), (2.0, -1.0), (2.0, 2.0), (-1.0, 2.0)], r, r);
        assert_eq!(sq.len(), 4);
        assert!(clip_polygon(&[(5.0, 5.0), (6.0, 5.0), (6.0, 6.0)], r, r).len() < 3);
    }
}
