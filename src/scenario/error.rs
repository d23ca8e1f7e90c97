//! Scenario errors and warnings that point at the file, line, column and field.

use std::fmt;
use std::ops::Range;

/// A position in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file, as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

impl Location {
    /// The line and column of byte offset `at` in `source`.
    pub fn at(file: &str, source: &str, at: usize) -> Location {
        let at = at.min(source.len());
        let before = source.get(..at).unwrap_or(source);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location {
            file: file.to_string(),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Why a scenario was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// Where; `None` when the file could not be read at all.
    pub location: Option<Location>,
    /// The file, as the user named it.
    pub file: String,
    /// Path of the offending field, e.g. `link[2].delay`; empty for the whole file.
    pub field: String,
    /// What is wrong, and how to fix it where we can tell.
    pub message: String,
}

impl ScenarioError {
    /// An error at byte range `span` of `source`.
    pub fn at(
        file: &str,
        source: &str,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError {
            location: span.map(|s| Location::at(file, source, s.start)),
            file: file.to_string(),
            field: clean_field(&field.into()),
            message: message.into(),
        }
    }
}

/// A field path without serde's internal names (`host[0].addr.$__serde_spanned_private_value`
/// becomes `host[0].addr`): they name how the value was read, not where the user wrote it.
pub fn clean_field(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(i) = rest.find("$__") {
        out.push_str(rest[..i].strip_suffix('.').unwrap_or(&rest[..i]));
        let tail = &rest[i..];
        let end = tail.find(['.', '[']).unwrap_or(tail.len());
        rest = &tail[end..];
        if out.is_empty() {
            rest = rest.strip_prefix('.').unwrap_or(rest);
        }
    }
    out.push_str(rest);
    out
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => write!(f, "{l}: error")?,
            None => write!(f, "{}: error", self.file)?,
        }
        if !self.field.is_empty() {
            write!(f, " in `{}`", clean_field(&self.field))?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// Something legal but probably not what the user meant (a loop or black hole at t = 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Where.
    pub location: Location,
    /// Offending field path.
    pub field: String,
    /// What we noticed.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: warning in `{}`: {}",
            self.location, self.field, self.message
        )
    }
}

/// The candidate closest to `word`, if close enough to be a plausible typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Adds "did you mean `x`?" to serde's "unknown field/variant `w`, expected ..." messages.
pub fn with_suggestion(message: &str) -> String {
    let is_unknown = message.starts_with("unknown field") || message.starts_with("unknown variant");
    if !is_unknown {
        return message.to_string();
    }
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    let Some((word, candidates)) = quoted.split_first() else {
        return message.to_string();
    };
    match nearest(word, candidates.iter().copied()) {
        Some(best) => format!("{message} (did you mean `{best}`?)"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_lines_and_columns_from_one() {
        let src = "a = 1\nbb = 2\n";
        assert_eq!(Location::at("f", src, 0).to_string(), "f:1:1");
        assert_eq!(Location::at("f", src, 9).to_string(), "f:2:4");
    }

    #[test]
    fn internal_names_leave_field_paths() {
        let internal = "$__serde_spanned_private_value";
        assert_eq!(
            clean_field(&format!("host[0].addr.{internal}")),
            "host[0].addr"
        );
        assert_eq!(clean_field(&format!("{internal}.tcp.mss")), "tcp.mss");
        assert_eq!(clean_field(&format!("link.{internal}[1]")), "link[1]");
        assert_eq!(clean_field("link[0].delay"), "link[0].delay");
    }

    #[test]
    fn suggests_the_nearest_field() {
        let m = "unknown field `dela`, expected one of `ends`, `delay`, `bandwidth`";
        assert!(with_suggestion(m).ends_with("(did you mean `delay`?)"));
        let far = "unknown field `zzzzzz`, expected `ends` or `delay`";
        assert_eq!(with_suggestion(far), far);
        assert_eq!(nearest("routr", ["router", "host"]), Some("router"));
    }
}
