//! A sweep folder's `manifest.toml`: which sweep file (by hash), which shard, which version,
//! and the command that reproduces the files.

use serde::{Deserialize, Serialize};

use super::Shard;
use super::plan::Plan;
use crate::report::{Manifest, shell_word};

/// How the summary's intervals are computed, stated in every manifest.
pub const STATISTICS: &str = "corrupted_proportion: 95% Wilson score interval; corrupted_bytes_mean: 95% Student t interval (mean +- t(0.975, n-1) s / sqrt(n))";

/// Provenance of a sweep folder.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SweepManifest {
    /// The sweep file, as named on the command line (a copy is `sweep.toml` in the folder).
    pub sweep: String,
    /// SHA-256 of the sweep file's bytes.
    pub sweep_sha256: String,
    /// Seeds each grid point ran with.
    pub seeds: Vec<u64>,
    /// Swept parameters, in column order.
    pub parameters: Vec<String>,
    /// The figure's x parameter ("" when nothing is swept).
    pub x: String,
    /// Grid points.
    pub grid_points: u64,
    /// Runs in the whole sweep.
    pub runs: u64,
    /// This folder's shard, "K/N" ("1/1" for a whole sweep).
    pub shard: String,
    /// Runs in this folder.
    pub shard_runs: u64,
    /// How the summary's intervals are computed.
    pub statistics: String,
    /// Version of timewait that ran it.
    pub timewait_version: String,
    /// `--set` overrides applied to the base scenario, as `PATH=VALUE`.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// A command line that reproduces the files (output folder and thread count aside: neither
    /// changes a byte).
    pub command: String,
    /// The files written, in order.
    pub files: Vec<String>,
}

impl SweepManifest {
    /// The manifest of `shard` of `plan`, listing `files`.
    pub fn new(plan: &Plan, shard: Shard, shard_runs: u64, files: Vec<String>) -> SweepManifest {
        let spec = &plan.spec;
        let mut command = format!("timewait sweep {}", shell_word(&spec.file));
        command.push_str(&super::set::command_words(&spec.overrides));
        if shard.count > 1 {
            command.push_str(&format!(" --shard {shard}"));
        }
        SweepManifest {
            sweep: spec.file.clone(),
            sweep_sha256: Manifest::sha256(spec.source.as_bytes()),
            seeds: spec.seeds.clone(),
            parameters: spec.parameters.iter().map(|p| p.path.clone()).collect(),
            x: spec
                .x
                .and_then(|i| spec.parameters.get(i))
                .map(|p| p.path.clone())
                .unwrap_or_default(),
            grid_points: plan.points.len() as u64,
            runs: plan.run_count() as u64,
            shard: shard.to_string(),
            shard_runs,
            overrides: spec.overrides.iter().map(ToString::to_string).collect(),
            statistics: match &plan.spec.metrics {
                None => STATISTICS.to_string(),
                Some(metrics) => metrics
                    .iter()
                    .map(|m| {
                        if m.is_proportion() {
                            format!("{}: proportion of runs, 95% Wilson score interval", m.name)
                        } else {
                            format!(
                                "{}: mean, 95% Student t interval (mean +- t(0.975, n-1) s / sqrt(n))",
                                m.name
                            )
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            },
            timewait_version: env!("CARGO_PKG_VERSION").to_string(),
            command,
            files,
        }
    }

    /// The manifest as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}
