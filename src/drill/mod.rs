//! `timewait drill`: runs packetdrill-style scripts against one simulated host's TCP, the
//! script playing the remote end. [`parse`] reads the language, [`exec`] runs it, [`profile`]
//! builds the host's settings. A folder run ([`run_dir`]) honours a `KNOWN` file listing
//! scripts that state a known departure of the model, so the suite says what it does not meet.

pub mod exec;
pub mod parse;
pub mod profile;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::sim::Duration;
pub use exec::Failure;
pub use profile::Profile;

/// packetdrill's default `--tolerance_usecs`.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_millis(4);

/// `us` microseconds, saturating (a tolerance is user input).
pub fn micros(us: u64) -> Duration {
    Duration::from_nanos(us.saturating_mul(1000))
}

/// How to run scripts.
#[derive(Clone, Debug)]
pub struct DrillOptions {
    /// The host's TCP settings.
    pub profile: Profile,
    /// Extra `#ifdef` names (the profile's own name is always defined).
    pub defines: Vec<String>,
    /// Overrides the script's `--tolerance_usecs` and the 4 ms default.
    pub tolerance: Option<Duration>,
}

impl DrillOptions {
    /// Defaults for `profile`.
    pub fn new(profile: Profile) -> DrillOptions {
        DrillOptions {
            profile,
            defines: Vec::new(),
            tolerance: None,
        }
    }
}

/// What running one script gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every line held; the count of events run.
    Pass(usize),
    /// A line did not hold (or could not be run).
    Fail(Failure),
    /// The script is malformed or unreadable (line 0: the file itself).
    Error(Failure),
}

impl Outcome {
    /// True for [`Outcome::Pass`].
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Pass(_))
    }

    /// The first line of the failure, for tables.
    pub fn first_mismatch(&self) -> String {
        match self {
            Outcome::Pass(_) => String::new(),
            Outcome::Fail(f) | Outcome::Error(f) => format!(
                "line {}: {}",
                f.line,
                f.message.lines().next().unwrap_or_default()
            ),
        }
    }

    /// The full report for `file`, as packetdrill prints it (`file:line: message`).
    pub fn report(&self, file: &Path, profile: Profile) -> String {
        match self {
            Outcome::Pass(n) => format!("{}: pass ({profile}, {n} events)\n", file.display()),
            Outcome::Fail(f) => format!("{}:{}: {}\nFAIL\n", file.display(), f.line, f.message),
            Outcome::Error(f) => format!(
                "{}:{}: malformed script: {}\n",
                file.display(),
                f.line,
                f.message
            ),
        }
    }
}

/// Runs the script `text` (read from `file`, named in errors).
pub fn run_script(text: &str, opts: &DrillOptions) -> Outcome {
    let mut defines = opts.defines.clone();
    defines.push(opts.profile.define().to_string());
    let script = match parse::parse(text, &defines) {
        Ok(s) => s,
        Err(e) => {
            return Outcome::Error(Failure {
                line: e.line,
                message: e.message,
            });
        }
    };
    let mut tolerance = DEFAULT_TOLERANCE;
    for o in &script.options {
        match (o.name.as_str(), o.value.parse::<u64>()) {
            ("tolerance_usecs", Ok(us)) => tolerance = micros(us),
            ("ip_version", _) if o.value == "ipv4" => {}
            _ => {
                return Outcome::Fail(Failure {
                    line: o.line,
                    message: format!(
                        "cannot run `--{}={}`: only --tolerance_usecs=N and --ip_version=ipv4 are modelled",
                        o.name, o.value
                    ),
                });
            }
        }
    }
    let tolerance = opts.tolerance.unwrap_or(tolerance);
    match exec::execute(&script, opts.profile, tolerance) {
        Ok(n) => Outcome::Pass(n),
        Err(f) => Outcome::Fail(f),
    }
}

/// Reads and runs one file.
pub fn run_file(path: &Path, opts: &DrillOptions) -> Outcome {
    match std::fs::read_to_string(path) {
        Ok(text) => run_script(&text, opts),
        Err(e) => Outcome::Error(Failure {
            line: 0,
            message: format!("cannot read: {e}"),
        }),
    }
}

/// Every `*.pkt` under `dir`, sorted by path (subfolders included).
pub fn scripts_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|e| e == "pkt") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A script the model is known to fail, from a folder's `KNOWN` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// Path relative to the folder, with `/`.
    pub script: String,
    /// The profile it fails under, or `None` for both.
    pub profile: Option<Profile>,
    /// Why: the departure from RFC or Linux.
    pub reason: String,
}

/// Reads `dir/KNOWN`: lines `path/to/script.pkt [linux|rfc9293]: reason`, `#` comments.
pub fn known_in(dir: &Path) -> Result<Vec<Known>, String> {
    let path = dir.join("KNOWN");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "{}:{}: expected `script.pkt [linux|rfc9293]: reason`",
                path.display(),
                i + 1
            )
        };
        let (head, reason) = line.split_once(':').ok_or_else(bad)?;
        let mut words = head.split_whitespace();
        let script = words.next().ok_or_else(bad)?.to_string();
        let profile = match words.next() {
            Some(p) => Some(p.parse::<Profile>().map_err(|_| bad())?),
            None => None,
        };
        out.push(Known {
            script,
            profile,
            reason: reason.trim().to_string(),
        });
    }
    Ok(out)
}

/// One row of a folder run.
#[derive(Clone, Debug)]
pub struct Row {
    /// Path relative to the folder.
    pub script: String,
    /// What happened.
    pub outcome: Outcome,
    /// The `KNOWN` entry that covers it, if any.
    pub known: Option<Known>,
}

impl Row {
    /// `pass`, `FAIL`, `known` (a listed script that failed) or `FIXED?` (a listed one that
    /// passed, so the list is out of date).
    pub fn result(&self) -> &'static str {
        match (self.outcome.passed(), &self.known) {
            (true, None) => "pass",
            (false, None) => "FAIL",
            (false, Some(_)) => "known",
            (true, Some(_)) => "FIXED?",
        }
    }

    /// True when the row needs no attention.
    pub fn ok(&self) -> bool {
        matches!(self.result(), "pass" | "known")
    }
}

/// Runs every script under `dir`.
pub fn run_dir(dir: &Path, opts: &DrillOptions) -> Result<Vec<Row>, String> {
    let known = known_in(dir)?;
    let files = scripts_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if files.is_empty() {
        return Err(format!("{}: no *.pkt scripts", dir.display()));
    }
    Ok(files
        .iter()
        .map(|f| {
            let script = f
                .strip_prefix(dir)
                .unwrap_or(f)
                .to_string_lossy()
                .replace('\\', "/");
            let known = known
                .iter()
                .find(|k| k.script == script && k.profile.is_none_or(|p| p == opts.profile))
                .cloned();
            Row {
                outcome: run_file(f, opts),
                script,
                known,
            }
        })
        .collect())
}

/// The table `timewait drill DIR` prints: script, result, first mismatch; then totals.
pub fn table(rows: &[Row], profile: Profile) -> String {
    let width = rows
        .iter()
        .map(|r| r.script.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut s = format!("{:<width$}  {:<6}  first mismatch\n", "script", "result");
    for r in rows {
        let detail = match (&r.known, r.outcome.passed()) {
            (Some(k), false) => format!("{} [known: {}]", r.outcome.first_mismatch(), k.reason),
            (Some(_), true) => "passes: remove it from KNOWN".into(),
            (None, _) => r.outcome.first_mismatch(),
        };
        let line = format!("{:<width$}  {:<6}  {detail}", r.script, r.result());
        let _ = writeln!(s, "{}", line.trim_end());
    }
    let count = |what: &str| rows.iter().filter(|r| r.result() == what).count();
    let _ = writeln!(
        s,
        "{} scripts ({profile}): {} pass, {} known, {} fail",
        rows.len(),
        count("pass"),
        count("known"),
        count("FAIL") + count("FIXED?")
    );
    s
}

/// `timewait drill PATH`: a script's report or a folder's table, and whether all is well.
pub fn run_path(path: &Path, opts: &DrillOptions) -> Result<(String, bool), String> {
    if path.is_dir() {
        let rows = run_dir(path, opts)?;
        Ok((table(&rows, opts.profile), rows.iter().all(Row::ok)))
    } else {
        let outcome = run_file(path, opts);
        Ok((outcome.report(path, opts.profile), outcome.passed()))
    }
}
