//! PDF output: the figure's SVG drawing, read by `usvg` and written by `svg2pdf`.
//!
//! The PDF is made from the very SVG text [`render_svg`](super::render_svg) returns, so the two
//! formats cannot disagree. Text is set in the bundled DejaVu Sans (loaded into `usvg`'s font
//! database from the binary; no system font is ever looked up) and embedded as a subset, so
//! the labels stay selectable and searchable. `svg2pdf` writes no dates or random ids, but it
//! lists a resource dictionary's entries in hash-map order, which changes from one process to
//! the next; [`canonical`] sorts them, so the same SVG gives the same bytes.

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
        .map(canonical)
        .map_err(|e| PlotError::Draw(format!("cannot write the figure as PDF: {e}")))
}

/// The PDF with each run of consecutive `/Name N 0 R` lines of one indentation (the entries
/// of a resource dictionary, as `pdf-writer` prints them, one per line) sorted. Streams are
/// left alone. Sorting lines within an object keeps every object's length, so the
/// cross-reference table's offsets stay right.
fn canonical(pdf: Vec<u8>) -> Vec<u8> {
    let entry = |l: &[u8]| {
        let t = l.trim_ascii_start();
        let indent = l.len() - t.len();
        let words: Vec<&[u8]> = t.split(|&b| b == b' ').collect();
        (indent > 0
            && words.len() == 4
            && words[0].first() == Some(&b'/')
            && words[1].iter().all(u8::is_ascii_digit)
            && words[2] == b"0"
            && words[3] == b"R")
            .then_some(indent)
    };
    let mut lines: Vec<&[u8]> = pdf.split(|&b| b == b'\n').collect();
    let mut in_stream = false;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if in_stream {
            in_stream = l != b"endstream";
            i += 1;
            continue;
        }
        if l == b"stream" {
            in_stream = true;
            i += 1;
            continue;
        }
        let Some(indent) = entry(l) else {
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < lines.len() && entry(lines[j]) == Some(indent) {
            j += 1;
        }
        lines[i..j].sort_unstable();
        i = j;
    }
    lines.join(&b'\n')
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn resource_entries_are_sorted_and_streams_and_lengths_kept() {
        let a = b"<<\n  /ExtGState <<\n    /g1 9 0 R\n    /g0 8 0 R\n  >>\n>>\nstream\n/b 2 0 R\n/a 1 0 R\nendstream\n".to_vec();
        let b = b"<<\n  /ExtGState <<\n    /g0 8 0 R\n    /g1 9 0 R\n  >>\n>>\nstream\n/b 2 0 R\n/a 1 0 R\nendstream\n".to_vec();
        assert_eq!(canonical(a.clone()), b);
        assert_eq!(canonical(b.clone()), b);
        assert_eq!(canonical(a.clone()).len(), a.len());
    }
}
