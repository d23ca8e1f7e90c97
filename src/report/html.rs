//! `report.html`: one self-contained page for a run's or a sweep's folder (the summary, every
//! figure as inline SVG, the netstat tables, links to the data files) that opens offline: no
//! script, no style sheet or font fetched from anywhere.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

/// The name of the page in an output folder.
pub const REPORT: &str = "report.html";

/// The page for the folder `dir` holding `files`: `summary` first, then `note` (what the
/// folder lacks, if anything), then each `.svg` figure among `files` inline, then `netstat`
/// (if any), then links to every file.
pub fn folder_report(
    title: &str,
    summary: &str,
    note: Option<&str>,
    netstat: Option<&str>,
    dir: &Path,
    files: &[String],
) -> io::Result<String> {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n\
         <style>body{{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}}\
         pre{{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:90%}}\
         figure{{margin:2em 0}}figure svg{{max-width:100%;height:auto}}\
         figcaption{{font-size:90%;color:#444}}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = escape(title)
    );
    section(&mut page, "Summary", summary);
    if let Some(n) = note {
        let _ = writeln!(page, "<p><em>{}</em></p>", escape(n));
    }
    let figures: Vec<&String> = files.iter().filter(|f| f.ends_with(".svg")).collect();
    if !figures.is_empty() {
        page.push_str("<h2>Figures</h2>\n");
    }
    for f in figures {
        let svg = fs::read_to_string(dir.join(f))?;
        // The SVG element itself, without an XML declaration an HTML page may not hold.
        let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = writeln!(
            page,
            "<figure>\n{svg}\n<figcaption><a href=\"{f}\">{f}</a></figcaption>\n</figure>",
            f = escape(f)
        );
    }
    if let Some(n) = netstat.filter(|n| !n.is_empty()) {
        section(&mut page, "Sockets (netstat -tan)", n);
    }
    page.push_str("<h2>Files</h2>\n<ul>\n");
    for f in files.iter().filter(|f| !f.starts_with('.')) {
        let _ = writeln!(page, "<li><a href=\"{f}\">{f}</a></li>", f = escape(f));
    }
    page.push_str("</ul>\n</body>\n</html>\n");
    Ok(page)
}

fn section(page: &mut String, heading: &str, text: &str) {
    let _ = writeln!(
        page,
        "<h2>{}</h2>\n<pre>{}</pre>",
        escape(heading),
        escape(text)
    );
}

/// `s` with HTML's special characters escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_holds_the_figures_and_escapes_the_text() {
        let t = tempfile::tempdir().unwrap();
        fs::write(
            t.path().join("a.svg"),
            "<?xml version=\"1.0\"?>\n<svg id=\"a\"></svg>",
        )
        .unwrap();
        let files = ["a.svg", "a.png", "events.csv", ".timewait-output"].map(String::from);
        let page = folder_report(
            "run <x>",
            "1 < 2 & 3",
            None,
            Some("tcp 1 0"),
            t.path(),
            &files,
        )
        .unwrap();
        assert!(page.contains("<title>run &lt;x&gt;</title>"));
        assert!(page.contains("<pre>1 &lt; 2 &amp; 3</pre>"));
        assert!(page.contains("<svg id=\"a\"></svg>") && !page.contains("<?xml"));
        assert!(page.contains("<a href=\"events.csv\">"));
        assert!(!page.contains(".timewait-output"));
        assert!(!page.contains("http"), "nothing is fetched");
    }
}
