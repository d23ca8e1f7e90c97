//! PDF output: the figure's SVG drawing, read by `usvg` and written by `svg2pdf`.
//!
//! The PDF is made from the very SVG text [`render_svg`](super::render_svg) returns, so the two
//! formats cannot disagree. Text is set in the bundled DejaVu Sans (loaded into `usvg`'s font
//! database from the binary; no system font is ever looked up) and embedded as a subset, so
//! the labels stay selectable and searchable. `svg2pdf` writes no dates or random ids: the same
//! SVG gives the same bytes.

use std::sync::{Arc, OnceLock};

use usvg::fontdb;

use super::{DEJAVU_SANS, PlotError};

/// The family name DejaVu Sans declares, which every generic family maps to.
const FAMILY: &str = "DejaVu Sans";

/// Pixels per inch the figures' pixel sizes are read at: CSS's 96, so an 800 px figure is a
/// page of 8.33 x (h / 96) inches, and line widths and font sizes keep their proportions.
const DPI: f32 = 96.0;

/// The font database with only the bundled font, built once.
fn fonts() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        db.load_font_data(DEJAVU_SANS.to_vec());
        db.set_sans_serif_family(FAMILY);
        db.set_serif_family(FAMILY);
        db.set_monospace_family(FAMILY);
        db.set_cursive_family(FAMILY);
        db.set_fantasy_family(FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// Converts an SVG document (as [`render_svg`](super::render_svg) writes it) into a one-page
/// PDF of the same size.
pub fn svg_to_pdf(svg: &str) -> Result<Vec<u8>, PlotError> {
    let options = usvg::Options {
        font_family: FAMILY.to_string(),
        fontdb: fonts(),
        dpi: DPI,
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|e| PlotError::Draw(format!("cannot read the figure's SVG for PDF: {e}")))?;
    let page = svg2pdf::PageOptions { dpi: DPI };
    svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), page)
        .map_err(|e| PlotError::Draw(format!("cannot write the figure as PDF: {e}")))
}
