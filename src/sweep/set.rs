//! `--set PATH=VALUE`: a scenario's parameter changed from the command line, with the paths a
//! sweep uses (`tcp.time_wait=0s`, `host.client.tcp.isn=linux` or `host[client].tcp.isn=linux`,
//! `link[0].delay=5ms`), so one sweep point can be re-run as a plain `run`.

use std::fmt;
use std::str::FromStr;

use crate::report::shell_word;
use crate::scenario::{self, Scenario, ScenarioError};

use super::edit;
use super::spec::SweepSpec;

/// One `--set PATH=VALUE`.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The dotted path, with `host[client]` written as `host.client`.
    pub path: String,
    /// The value: TOML if it reads as a TOML value (`2`, `true`, `{ fixed = 1000 }`, `"x"`),
    /// else the text as a string (`0s`, `linux`, `5ms`).
    pub value: toml::Value,
}

impl FromStr for Override {
    type Err = String;

    fn from_str(arg: &str) -> Result<Override, String> {
        let Some((path, raw)) = arg.split_once('=') else {
            return Err(format!(
                "`{arg}` is not PATH=VALUE (e.g. tcp.time_wait=0s or host[client].tcp.isn=linux)"
            ));
        };
        let path = normalize(path.trim())?;
        let raw = raw.trim();
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string()));
        Ok(Override { path, value })
    }
}

impl fmt::Display for Override {
    /// As typed on a command line: `path=value`, strings bare unless TOML would misread them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = match &self.value {
            toml::Value::String(s) if !reads_as_toml(s) => s.clone(),
            v => v.to_string(),
        };
        write!(f, "{}={value}", self.path)
    }
}

/// Whether `s` typed bare would be read as a TOML value rather than a string (`true`, `2`).
fn reads_as_toml(s: &str) -> bool {
    s.is_empty() || toml::from_str::<toml::Table>(&format!("v = {s}")).is_ok()
}

/// `host[client].tcp.isn` -> `host.client.tcp.isn`; dotted paths pass unchanged.
pub fn normalize(path: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            return Err(format!("`{path}`: `[` without `]`"));
        };
        out.push_str(&rest[..open]);
        out.push('.');
        out.push_str(rest[open + 1..close].trim().trim_matches('"'));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    if out.is_empty() || out.split('.').any(str::is_empty) {
        return Err(format!(
            "`{path}` is not a parameter path (e.g. tcp.time_wait)"
        ));
    }
    Ok(out)
}

/// Parses overrides as a manifest records them.
pub fn parse_all(args: &[String]) -> Result<Vec<Override>, String> {
    args.iter().map(|a| a.parse()).collect()
}

/// Shell words that reproduce `sets` (`--set tcp.time_wait=0.25msl ...`), quoted where a
/// shell would split or expand them.
pub fn command_words(sets: &[Override]) -> String {
    sets.iter()
        .map(|s| format!(" --set {}", shell_word(&s.to_string())))
        .collect()
}

/// `scenario` with `sets` applied in order. A sweep file's `[sweep]` table is left aside, as
/// `run` does. The result keeps the file's text as its source, so the manifest hashes the file
/// as it is.
pub fn apply(scenario: Scenario, sets: &[Override]) -> Result<Scenario, ScenarioError> {
    if sets.is_empty() {
        return Ok(scenario);
    }
    let base = SweepSpec::parse(&scenario.name, &scenario.file, &scenario.source)
        .map_or_else(|_| scenario.source.clone(), |s| s.base_source);
    let text = apply_to_text(&scenario.name, &scenario.file, &base, sets)?;
    let mut s = scenario::parse(&scenario.name, &scenario.file, &text)?;
    s.source = scenario.source;
    Ok(s)
}

/// Scenario text `base` with `sets` applied in order, as TOML text. Each override is checked
/// by the scenario parser as it is applied, so an error names the one at fault, with the
/// parser's message (and its suggestion for a misspelt field).
pub fn apply_to_text(
    name: &str,
    file: &str,
    base: &str,
    sets: &[Override],
) -> Result<String, ScenarioError> {
    let blame = |set: &Override, message: String| ScenarioError {
        location: None,
        file: format!("--set {set}"),
        field: set.path.clone(),
        message,
    };
    let mut doc: toml::Table = toml::from_str(base).map_err(|e| ScenarioError {
        location: None,
        file: file.to_string(),
        field: String::new(),
        message: format!("cannot apply --set: {}", e.message().trim_end()),
    })?;
    let mut text = base.to_string();
    for set in sets {
        edit::set(&mut doc, &set.path, set.value.clone()).map_err(|m| blame(set, m))?;
        text = toml::to_string(&doc)
            .map_err(|e| blame(set, format!("cannot write the edited scenario: {e}")))?;
        scenario::parse(name, file, &text).map_err(|e| ScenarioError {
            field: if e.field.is_empty() {
                set.path.clone()
            } else {
                e.field
            },
            ..blame(set, e.message)
        })?;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_toml_or_else_as_text() {
        let o: Override = "tcp.time_wait=0s".parse().unwrap();
        assert_eq!(o.path, "tcp.time_wait");
        assert_eq!(o.value, toml::Value::String("0s".into()));
        let o: Override = "host[client].tcp.isn={ fixed = 1000 }".parse().unwrap();
        assert_eq!(o.path, "host.client.tcp.isn");
        assert_eq!(o.value["fixed"].as_integer(), Some(1000));
        let o: Override = "link[0].loss = 0.5".parse().unwrap();
        assert_eq!(
            (o.path.as_str(), o.value.as_float()),
            ("link.0.loss", Some(0.5))
        );
        assert!("tcp.time_wait".parse::<Override>().is_err());
        assert!("host[client.tcp.isn=x".parse::<Override>().is_err());
        assert!("tcp..isn=x".parse::<Override>().is_err());
    }

    #[test]
    fn an_override_prints_as_it_reads_back() {
        for arg in [
            "tcp.time_wait=0.25msl",
            "tcp.isn={ fixed = 1000 }",
            "app.0.count=3",
            "x.y=\"true\"",
        ] {
            let o: Override = arg.parse().unwrap();
            let again: Override = o.to_string().parse().unwrap();
            assert_eq!(again, o, "{arg}");
        }
        let sets: Vec<Override> = ["tcp.isn={ fixed = 1000 }", "tcp.time_wait=0s"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(
            command_words(&sets),
            " --set 'tcp.isn={ fixed = 1000 }' --set tcp.time_wait=0s"
        );
    }
}
