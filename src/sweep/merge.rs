//! `timewait merge`: joins shard folders into the files one whole sweep would have written.

use crate::report::plural;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::manifest::SweepManifest;
use super::plan::Plan;
use super::spec::SweepSpec;
use super::table::read_runs;
use super::{Shard, SweepError, SweepOutput, default_out, resolve_out, write};
use crate::report::Manifest;

/// Merges shard folders (each written by `timewait sweep --shard K/N` of the same sweep file)
/// into `out` (default `output/<sweep name>`). Checks that they come from one sweep file and
/// version and that together they hold every run exactly once.
pub fn merge(dirs: &[PathBuf], out: Option<&Path>) -> Result<SweepOutput, SweepError> {
    let bad = |m: String| SweepError::Input(format!("timewait merge: {m}"));
    if dirs.is_empty() {
        return Err(bad("name the shard folders to merge".into()));
    }
    let mut shards: Vec<(Shard, &PathBuf, SweepManifest)> = Vec::new();
    for dir in dirs {
        let path = dir.join("manifest.toml");
        let text = fs::read_to_string(&path).map_err(|e| {
            bad(format!(
                "{} is not a sweep folder: cannot read {}: {e}",
                dir.display(),
                path.display()
            ))
        })?;
        let m: SweepManifest = toml::from_str(&text).map_err(|e| {
            bad(format!(
                "{} is not a sweep manifest: {}",
                path.display(),
                e.message()
            ))
        })?;
        let shard: Shard = m
            .shard
            .parse()
            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
        shards.push((shard, dir, m));
    }
    shards.sort_by_key(|(s, _, _)| s.index);

    let (first_shard, first_dir, first) = &shards[0];
    for (shard, dir, m) in &shards[1..] {
        if m.sweep_sha256 != first.sweep_sha256 {
            return Err(bad(format!(
                "{} and {} come from different sweep files ({} has SHA-256 {}, {} has {})",
                first_dir.display(),
                dir.display(),
                first.sweep,
                first.sweep_sha256,
                m.sweep,
                m.sweep_sha256
            )));
        }
        if m.overrides != first.overrides {
            return Err(bad(format!(
                "{} ran with --set {:?} but {} with {:?}; the shards must run the same sweep",
                first_dir.display(),
                first.overrides,
                dir.display(),
                m.overrides
            )));
        }
        if m.timewait_version != first.timewait_version {
            return Err(bad(format!(
                "{} ran timewait {} but {} ran {}; rerun the shards with one version",
                first_dir.display(),
                first.timewait_version,
                dir.display(),
                m.timewait_version
            )));
        }
        if shard.count != first_shard.count {
            return Err(bad(format!(
                "{} is shard {} but {} is shard {}: the shards must split the sweep the same way",
                first_dir.display(),
                first_shard,
                dir.display(),
                shard
            )));
        }
    }
    let mut seen: BTreeMap<u64, &PathBuf> = BTreeMap::new();
    for (shard, dir, _) in &shards {
        if let Some(other) = seen.insert(shard.index, dir) {
            return Err(bad(format!(
                "shard {shard} is given twice: {} and {}",
                other.display(),
                dir.display()
            )));
        }
    }
    let count = first_shard.count;
    let missing: Vec<u64> = (1..=count).filter(|k| !seen.contains_key(k)).collect();
    if !missing.is_empty() {
        let lost = (0..first.runs).filter(|i| missing.contains(&(i % count + 1)));
        return Err(bad(format!(
            "missing shard{} {}: {} in none of the {} folder{} given; pass all {count} shard folders",
            plural(missing.len() as u64),
            missing
                .iter()
                .map(|k| format!("{k}/{count}"))
                .collect::<Vec<_>>()
                .join(", "),
            some_runs(lost),
            dirs.len(),
            plural(dirs.len() as u64),
        )));
    }

    // The sweep file travels with each shard; it must still be the one that was run.
    let copy = first_dir.join("sweep.toml");
    let source = fs::read_to_string(&copy)
        .map_err(|e| bad(format!("cannot read {}: {e}", copy.display())))?;
    if Manifest::sha256(source.as_bytes()) != first.sweep_sha256 {
        return Err(bad(format!(
            "{} has changed since the shard ran (its SHA-256 is not the manifest's)",
            copy.display()
        )));
    }
    let name = Path::new(&first.sweep)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".into());
    let sets = super::set::parse_all(&first.overrides).map_err(bad)?;
    let spec = SweepSpec::parse(&name, &first.sweep, &source)?;
    let plan = Plan::new(spec.with_overrides(&sets).map_err(|e| bad(e.to_string()))?)?;
    if plan.run_count() as u64 != first.runs {
        return Err(bad(format!(
            "the manifest of {} counts {} runs but its sweep file makes {}",
            first_dir.display(),
            first.runs,
            plan.run_count()
        )));
    }

    let mut slots: Vec<Option<(&PathBuf, super::RunResult)>> = vec![None; plan.run_count()];
    for (shard, dir, _) in &shards {
        let runs = read_runs(&dir.join("runs.csv"), &plan).map_err(bad)?;
        for r in runs {
            if !shard.contains(r.run) {
                return Err(bad(format!(
                    "{}/runs.csv holds run {}, which belongs to shard {}/{count}, not {shard}",
                    dir.display(),
                    r.run,
                    r.run as u64 % count + 1
                )));
            }
            match &slots[r.run] {
                Some((other, _)) => {
                    return Err(bad(format!(
                        "run {} appears twice: in {} and {}",
                        r.run,
                        other.display(),
                        dir.display()
                    )));
                }
                None => {
                    let i = r.run;
                    slots[i] = Some((dir, r));
                }
            }
        }
    }
    let absent: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].is_none()).collect();
    if let Some(&first_absent) = absent.first() {
        let k = first_absent as u64 % count + 1;
        let dir = seen
            .get(&k)
            .map_or_else(String::new, |d| d.display().to_string());
        return Err(bad(format!(
            "{} of {} runs are missing: {} not in {dir}/runs.csv (shard {k}/{count}); was the shard cut short?",
            absent.len(),
            slots.len(),
            some_runs(
                absent
                    .iter()
                    .map(|&i| i as u64)
                    .filter(|i| i % count + 1 == k)
            ),
        )));
    }
    let results = slots.into_iter().flatten().map(|(_, r)| r).collect();

    let target = out.map_or_else(|| default_out(&plan), Path::to_path_buf);
    if dirs.iter().any(|d| same_dir(d, &target)) {
        return Err(bad(format!(
            "the output folder {} is one of the shards; choose another with --out",
            target.display()
        )));
    }
    write(&plan, results, Shard::ALL, &resolve_out(&target)?)
}

/// "run 4 is", "runs 2, 5 are", or "runs 2, 10, ..., 1754 (220 runs) are": at most eight
/// run numbers and the last.
fn some_runs(runs: impl Iterator<Item = u64>) -> String {
    const SHOWN: usize = 8;
    let mut first = Vec::new();
    let mut last = None;
    let mut n = 0u64;
    for r in runs {
        if first.len() < SHOWN {
            first.push(r.to_string());
        } else {
            last = Some(r);
        }
        n += 1;
    }
    match (n, last) {
        (0, _) => "no runs are".to_string(),
        (1, _) => format!("run {} is", first.join("")),
        (_, None) => format!("runs {} are", first.join(", ")),
        (_, Some(l)) => format!("runs {}, ..., {l} ({n} runs) are", first.join(", ")),
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::some_runs;

    #[test]
    fn run_lists_are_short_and_say_how_many() {
        assert_eq!(some_runs([4].into_iter()), "run 4 is");
        assert_eq!(some_runs([2, 5].into_iter()), "runs 2, 5 are");
        assert_eq!(
            some_runs((0..1760).filter(|i| i % 8 == 2)),
            "runs 2, 10, 18, 26, 34, 42, 50, 58, ..., 1754 (220 runs) are"
        );
        assert_eq!(some_runs(std::iter::empty()), "no runs are");
    }
}
