//! `manifest.toml`: what produced a run's files, so anyone can regenerate them.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Provenance of a run's outputs.
#[derive(Serialize, Debug, Clone)]
pub struct Manifest {
    /// The scenario file, as named on the command line.
    pub scenario: String,
    /// SHA-256 of the scenario file's bytes.
    pub scenario_sha256: String,
    /// The seed used.
    pub seed: u64,
    /// Simulated time the run stopped at.
    pub until: String,
    /// Version of timewait that ran it.
    pub timewait_version: String,
    /// A command line that reproduces the files (output folder aside).
    pub command: String,
    /// The `--set PATH=VALUE` overrides applied to the scenario file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    /// The `--outputs` list that chose the files, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<String>,
    /// The files the run wrote, in the order written.
    pub files: Vec<String>,
}

impl Manifest {
    /// Hex SHA-256 of `bytes`.
    pub fn sha256(bytes: &[u8]) -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The manifest as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

/// A word as one shell word (quoted only when it needs to be), for reproducing command lines.
pub fn shell_word(s: &str) -> String {
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c));
    if plain && !s.is_empty() {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
