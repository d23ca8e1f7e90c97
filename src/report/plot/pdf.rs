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
    // svg2pdf deflates content streams at zlib level 6; they are deflated here, faster.
    let conversion = svg2pdf::ConversionOptions {
        compress: false,
        ..svg2pdf::ConversionOptions::default()
    };
    svg2pdf::to_pdf(&tree, conversion, page)
        .map(|pdf| deflate_streams(&canonical(pdf)))
        .map_err(|e| PlotError::Draw(format!("cannot write the figure as PDF: {e}")))
}

/// zlib level of the content streams. A figure's drawing operators (mostly coordinates)
/// deflate 12% larger at level 2 than at level 6, for 40% of the work.
const DEFLATE_LEVEL: u8 = 2;

/// The PDF with every stream that has no `/Filter` deflated at [`DEFLATE_LEVEL`], and the
/// cross-reference table rewritten for the objects' new offsets. It reads the layout
/// `pdf-writer` writes (each object's dictionary opening with its `/Length`, the table of
/// 20-byte entries at `startxref`); a PDF not laid out so is returned as it is.
fn deflate_streams(pdf: &[u8]) -> Vec<u8> {
    deflate_streams_with(pdf, DEFLATE_LEVEL).unwrap_or_else(|| pdf.to_vec())
}

fn deflate_streams_with(pdf: &[u8], level: u8) -> Option<Vec<u8>> {
    let number = |digits: &[u8]| {
        std::str::from_utf8(digits)
            .ok()?
            .trim()
            .parse::<usize>()
            .ok()
    };
    let tail = pdf.len().saturating_sub(64);
    let at = tail + find(&pdf[tail..], b"startxref\n")?;
    let xref = number(pdf[at + 10..].split(|&b| b == b'\n').next()?)?;
    // "xref\n0 N\n", then N entries of 20 bytes: offset, generation, n (in use) or f (free).
    let head = xref + find(pdf.get(xref..)?, b"\n")? + 1;
    let count_line = &pdf[head..head + find(&pdf[head..], b"\n")?];
    let count = number(count_line.split(|&b| b == b' ').nth(1)?)?;
    let entries = head + count_line.len() + 1;
    let trailer = entries + 20 * count;
    if !pdf.get(xref..)?.starts_with(b"xref\n0 ") || !pdf.get(trailer..)?.starts_with(b"trailer") {
        return None;
    }
    let entry = |i: usize| &pdf[entries + 20 * i..entries + 20 * i + 20];
    let mut objects: Vec<(usize, usize)> = (0..count)
        .filter(|&i| entry(i)[17] == b'n')
        .map(|i| Some((number(&entry(i)[..10])?, i)))
        .collect::<Option<_>>()?;
    objects.sort_unstable();
    let mut out = Vec::with_capacity(pdf.len() / 3);
    out.extend_from_slice(pdf.get(..objects.first()?.0)?);
    let mut offsets = vec![None; count];
    for (k, &(start, i)) in objects.iter().enumerate() {
        let end = objects.get(k + 1).map_or(xref, |o| o.0);
        offsets[i] = Some(out.len());
        let object = pdf.get(start..end)?;
        match deflated_object(object, level) {
            Some(new) => out.extend_from_slice(&new),
            None => out.extend_from_slice(object),
        }
    }
    let new_xref = out.len();
    out.extend_from_slice(&pdf[xref..entries]);
    for (i, offset) in offsets.iter().enumerate() {
        match offset {
            Some(o) => out.extend_from_slice(format!("{o:010}").as_bytes()),
            None => out.extend_from_slice(&entry(i)[..10]),
        }
        out.extend_from_slice(&entry(i)[10..]);
    }
    out.extend_from_slice(pdf.get(trailer..at)?);
    out.extend_from_slice(format!("startxref\n{new_xref}\n%%EOF").as_bytes());
    Some(out)
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One object (`N 0 obj` to the next object) with its stream deflated, or `None` when it has
/// no stream, already has a filter, or is not laid out as `deflate_streams` expects.
fn deflated_object(object: &[u8], level: u8) -> Option<Vec<u8>> {
    const LENGTH: &[u8] = b"obj\n<<\n  /Length ";
    const OPEN: &[u8] = b"\n>>\nstream\n";
    let len_at = find(object, LENGTH)? + LENGTH.len();
    let len_end = len_at + find(&object[len_at..], b"\n")?;
    let length: usize = std::str::from_utf8(&object[len_at..len_end])
        .ok()?
        .parse()
        .ok()?;
    let dict_end = find(object, OPEN)?;
    if find(&object[..dict_end], b"/Filter").is_some() {
        return None;
    }
    let data_at = dict_end + OPEN.len();
    let data_end = data_at.checked_add(length)?;
    let data = object.get(data_at..data_end)?;
    if !object[data_end..].starts_with(b"\nendstream") {
        return None;
    }
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(data, level);
    let mut new = Vec::with_capacity(object.len() - length + packed.len() + 24);
    new.extend_from_slice(&object[..len_at]);
    new.extend_from_slice(packed.len().to_string().as_bytes());
    new.extend_from_slice(object.get(len_end..dict_end)?);
    new.extend_from_slice(b"\n  /Filter /FlateDecode");
    new.extend_from_slice(OPEN);
    new.extend_from_slice(&packed);
    new.extend_from_slice(&object[data_end..]);
    Some(new)
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
    use super::{DEFLATE_LEVEL, canonical, deflate_streams_with, find, svg_to_pdf};

    /// (object number, offset) of each in-use cross-reference entry.
    fn xref(pdf: &[u8]) -> Vec<(usize, usize)> {
        let text = String::from_utf8_lossy(pdf);
        let at: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        String::from_utf8_lossy(&pdf[at..])
            .lines()
            .skip(2)
            .take_while(|l| !l.starts_with("trailer"))
            .enumerate()
            .filter(|(_, l)| l.ends_with(" n"))
            .map(|(i, l)| (i, l[..10].parse().unwrap()))
            .collect()
    }

    /// Each stream's data, inflated when it carries `/Filter /FlateDecode`.
    fn streams(pdf: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = pdf;
        while let Some(i) = rest.windows(8).position(|w| w == b"\nstream\n") {
            let dict = &rest[..i];
            let dict = &dict[dict.windows(2).rposition(|w| w == b"<<").unwrap()..];
            let dict = String::from_utf8_lossy(dict);
            let len: usize = dict
                .split("/Length ")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let data = &rest[i + 8..i + 8 + len];
            out.push(if dict.contains("/Filter /FlateDecode") {
                miniz_oxide::inflate::decompress_to_vec_zlib(data).unwrap()
            } else {
                data.to_vec()
            });
            rest = &rest[i + 8 + len..];
        }
        out
    }

    const SVG: &str = r##"<svg width="200" height="100" viewBox="0 0 200 100" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="200" height="100" fill="#FFFFFF"/>
<polyline fill="none" stroke="#0072B2" stroke-width="2" points="10,90 50,20 90,60 130,10 190,80 "/>
<polygon fill="#0072B2" fill-opacity="0.3" points="10,90 50,40 90,70 "/>
<text x="100" y="12" font-family="sans-serif" font-size="12">TIME_WAIT</text>
</svg>"##;

    #[test]
    fn content_streams_are_deflated_and_the_xref_points_at_every_object() {
        let pdf = svg_to_pdf(SVG).unwrap();
        for (n, offset) in xref(&pdf) {
            assert!(
                pdf[offset..].starts_with(format!("{n} 0 obj\n").as_bytes()),
                "entry {n} points at {:?}",
                String::from_utf8_lossy(&pdf[offset..offset + 12])
            );
        }
        // Level 0 stores the streams: the same document, its streams unfiltered, inflates to
        // the same bytes.
        let stored = deflate_streams_with(&pdf, 0).unwrap();
        assert_eq!(streams(&pdf), streams(&stored));
        let filters = |p: &[u8]| {
            String::from_utf8_lossy(p)
                .matches("/Filter /FlateDecode")
                .count()
        };
        assert_eq!(
            filters(&pdf),
            streams(&pdf).len(),
            "every stream is deflated"
        );
        assert!(deflate_streams_with(&pdf, DEFLATE_LEVEL).is_some());
    }

    #[test]
    fn a_pdf_not_laid_out_as_expected_is_left_as_it_is() {
        assert_eq!(deflate_streams_with(b"%PDF-1.7\nnot a table", 2), None);
        let pdf = svg_to_pdf(SVG).unwrap();
        let cut = &pdf[..pdf.len() - 40];
        assert_eq!(super::deflate_streams(cut), cut);
        // A stream's length past its object's end: that object is copied as it is.
        let uncompressed = svg2pdf::to_pdf(
            &usvg::Tree::from_str(SVG, &usvg::Options::default()).unwrap(),
            svg2pdf::ConversionOptions {
                compress: false,
                embed_text: false,
                ..svg2pdf::ConversionOptions::default()
            },
            svg2pdf::PageOptions::default(),
        )
        .unwrap();
        let at = find(&uncompressed, b"/Length ").unwrap() + 8;
        let digits = uncompressed[at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let mut long = uncompressed.clone();
        long[at..at + digits].fill(b'9');
        let object = &long[at - 30..at + 30];
        let out = deflate_streams_with(&long, 2).unwrap();
        assert!(find(&out, object).is_some(), "the object is kept");
        // An offset past the end: the whole PDF is refused, never read out of bounds.
        let mut bad = uncompressed.clone();
        // The last cross-reference entry: 10 digits of offset, then " 00000 n\r\n".
        let last = bad.windows(3).rposition(|w| w == b" n\r").unwrap() - 16;
        bad[last..last + 10].copy_from_slice(b"9999999999");
        assert_eq!(deflate_streams_with(&bad, 2), None);
    }

    #[test]
    fn resource_entries_are_sorted_and_streams_and_lengths_kept() {
        let a = b"<<\n  /ExtGState <<\n    /g1 9 0 R\n    /g0 8 0 R\n  >>\n>>\nstream\n/b 2 0 R\n/a 1 0 R\nendstream\n".to_vec();
        let b = b"<<\n  /ExtGState <<\n    /g0 8 0 R\n    /g1 9 0 R\n  >>\n>>\nstream\n/b 2 0 R\n/a 1 0 R\nendstream\n".to_vec();
        assert_eq!(canonical(a.clone()), b);
        assert_eq!(canonical(b.clone()), b);
        assert_eq!(canonical(a.clone()).len(), a.len());
    }
}
