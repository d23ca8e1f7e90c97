//! Positions and field paths for errors the TOML parser reports without them: text that is
//! not UTF-8, keys nested past the parser's depth limit, and syntax errors (which have a span
//! but no field). The scan is line by line and only feeds messages, so it may be approximate
//! inside multi-line strings.

use std::path::Path;

use super::error::ScenarioError;

/// Key segments (or nested brackets) a scenario may use. The TOML parser gives up at 80
/// without saying where; refusing earlier lets the error name the line and the key.
pub const MAX_DEPTH: usize = 64;

/// Largest scenario or sweep file read (4 MiB: 50 times the largest bundled scenario's 10,000
/// hosts would fit). Checking holds about 50 bytes per byte of file, so this keeps `check`
/// within a few seconds and about 200 MB.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Reads a scenario or sweep file as UTF-8; errors name the byte, line and column of the
/// first invalid byte, and the field being written there.
pub fn read_source(path: &Path) -> Result<String, ScenarioError> {
    let file = path.display().to_string();
    let unreadable = |message: String| ScenarioError {
        location: None,
        file: file.clone(),
        field: String::new(),
        message,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| unreadable(format!("cannot read the file: {e}")))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(ScenarioError::at(
            &file,
            "",
            Some(0..0),
            "(file)",
            format!(
                "the file has {len} bytes; scenario and sweep files may have at most {MAX_FILE_BYTES} ({} MiB)",
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    let bytes =
        std::fs::read(path).map_err(|e| unreadable(format!("cannot read the file: {e}")))?;
    decode(&file, bytes)
}

/// `bytes` as UTF-8 text, or an error at the first invalid byte.
pub fn decode(file: &str, bytes: Vec<u8>) -> Result<String, ScenarioError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        // The valid prefix is text, so lines and columns count as they do elsewhere.
        let before = String::from_utf8_lossy(&bytes[..at]);
        let line = before.matches('\n').count() + 1;
        ScenarioError::at(
            file,
            &before,
            Some(at..at),
            field_at(&before, at),
            format!(
                "invalid UTF-8 at byte {at} (0x{:02x}, line {line}): scenario files must be UTF-8 text",
                bytes[at]
            ),
        )
    })
}

/// A TOML syntax error as a located error naming the field being written where it happened.
pub fn syntax_error(file: &str, source: &str, e: &toml::de::Error) -> ScenarioError {
    let message = e.message().trim_end().to_string();
    let at = match e.span() {
        Some(s) => s.start,
        // The parser's depth limit comes without a span: find the key that hit it.
        None => match too_deep(source) {
            Some((at, key)) => {
                return ScenarioError::at(
                    file,
                    source,
                    Some(at..at),
                    key,
                    format!("nested more than {MAX_DEPTH} levels deep ({message})"),
                );
            }
            None => 0,
        },
    };
    ScenarioError::at(file, source, Some(at..at), field_at(source, at), message)
}

/// The first key, header or value nested deeper than [`MAX_DEPTH`]: its offset and its
/// path, shortened.
pub fn too_deep(source: &str) -> Option<(usize, String)> {
    let mut offset = 0;
    let mut open = 0usize;
    for line in source.split_inclusive('\n') {
        // Dots count only in a key or header: not in values, nor inside a multi-line array.
        let mut in_key = open == 0;
        let mut depth = 0usize;
        let mut key_start = None;
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for (i, c) in line.char_indices() {
            match (quote, c) {
                (Some('"'), '\\') if !escaped => {
                    escaped = true;
                    continue;
                }
                (Some(q), c) if c == q && !escaped => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    open += 1;
                    key_start.get_or_insert(i);
                }
                (None, ']' | '}') => open = open.saturating_sub(1),
                (None, '.') if in_key => depth += 1,
                (None, '=') => in_key = false,
                (None, c) if !c.is_whitespace() => {
                    key_start.get_or_insert(i);
                }
                _ => {}
            }
            escaped = false;
            if depth >= MAX_DEPTH || open > MAX_DEPTH {
                let start = key_start.unwrap_or(0);
                return Some((offset + start, shorten(line[start..].trim())));
            }
        }
        offset += line.len();
    }
    None
}

/// A long dotted key as its first parts and a count: `a.b.c.d.… (100 parts)`.
fn shorten(key: &str) -> String {
    let key = key.split('=').next().unwrap_or(key).trim();
    let key = key.trim_start_matches('[').trim_end_matches(']');
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    if parts.len() <= 8 && key.len() <= 80 {
        return key.to_string();
    }
    let head: String = parts[..parts.len().min(4)]
        .join(".")
        .chars()
        .take(60)
        .collect();
    format!("{head}.… ({} parts)", parts.len())
}

/// The field being written at byte `at`: the table header in force (`host[1]` for the second
/// `[[host]]`) and the last key assigned before `at` under it.
pub fn field_at(source: &str, at: usize) -> String {
    let mut at = at.min(source.len());
    while !source.is_char_boundary(at) {
        at -= 1;
    }
    let mut table = String::new();
    let mut arrays: Vec<(String, usize)> = Vec::new();
    let mut key = String::new();
    let end = source[at..].find('\n').map_or(source.len(), |i| at + i);
    for line in source[..end].lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("[[") {
            let name = name.split("]]").next().unwrap_or(name).trim().to_string();
            let n = match arrays.iter_mut().find(|(a, _)| *a == name) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    arrays.push((name.clone(), 0));
                    0
                }
            };
            table = format!("{}[{n}]", shorten(&name));
            key.clear();
        } else if let Some(name) = t.strip_prefix('[') {
            table = shorten(name.split(']').next().unwrap_or(name).trim());
            key.clear();
        } else if !t.starts_with('#')
            && let Some((k, _)) = t.split_once('=')
            && !k.trim().is_empty()
            && (k.trim().starts_with('"') || !k.contains(['"', '{', '[', ',']))
        {
            key = shorten(k.trim());
        }
    }
    match (table.is_empty(), key.is_empty()) {
        (true, true) => "(top level)".to_string(),
        (true, false) => key,
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_headers_and_keys() {
        let src = "[simulation]\nduration = \"1s\"\n[[host]]\nname = \"a\"\n[[host]]\naddr = 5\n";
        assert_eq!(field_at(src, src.len() - 2), "host[1].addr");
        assert_eq!(field_at(src, 14), "simulation.duration");
        assert_eq!(field_at("x", 0), "(top level)");
    }

    #[test]
    fn deep_keys_are_found_and_shortened() {
        let src = format!("[simulation]\n{}b = 1\n", "a.".repeat(100));
        let (at, key) = too_deep(&src).unwrap();
        assert_eq!(at, 13);
        assert_eq!(key, "a.a.a.a.… (101 parts)");
    }
}
