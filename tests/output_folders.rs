//! Output folders never lose a user's files: `--out` is resolved once as the kernel resolves
//! it, only timewait's own folders are replaced, a replace interrupted at any step leaves the
//! complete old folder or the complete new one, and interrupted runs leave no staging folders.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{TWO_HOSTS, timewait_env};

/// Two hosts, a few datagrams.
fn scenario() -> String {
    format!(
        "[simulation]\nseed = 7\nduration = \"1s\"\n{TWO_HOSTS}\n[[app]]\nkind = \"datagram\"\n\
         host = \"a\"\nto = \"10.0.0.2\"\ninterval = \"100ms\"\ncount = 5\n"
    )
}

const MARKER: &str = ".timewait-output";

/// A temporary folder holding `s.toml`.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(t.path()).unwrap();
    fs::write(root.join("s.toml"), scenario()).unwrap();
    (t, root)
}

fn run_to(root: &Path, out: &str, seed: &str, env: &[(&str, &str)]) -> Output {
    timewait_env(root, &["run", "s.toml", "--out", out, "--seed", seed], env)
}

fn keep(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("notes.txt"), "keep me").unwrap();
}

fn kept(dir: &Path) -> bool {
    fs::read_to_string(dir.join("notes.txt")).is_ok_and(|t| t == "keep me")
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The seed of the complete output folder `dir`: it holds exactly the files its manifest lists
/// (the marker among them). Panics on an incomplete or foreign folder.
fn complete_run(dir: &Path) -> u64 {
    let manifest: toml::Table = fs::read_to_string(dir.join("manifest.toml"))
        .unwrap_or_else(|e| panic!("{}: no manifest: {e}", dir.display()))
        .parse()
        .unwrap();
    let mut listed: Vec<String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(names(dir), listed, "{} is incomplete", dir.display());
    manifest["seed"].as_integer().unwrap() as u64
}

fn refused(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "bad --out is bad input: {err}");
    assert!(err.contains(needle), "{err}");
}

#[cfg(unix)]
#[test]
fn out_through_a_symlink_and_dotdot_is_the_folder_the_kernel_names() {
    let (_t, root) = setup();
    // `link` points into other/, so `link/../victim` is other/victim, not ./victim.
    keep(&root.join("victim"));
    fs::create_dir_all(root.join("other/elsewhere")).unwrap();
    std::os::unix::fs::symlink(root.join("other/elsewhere"), root.join("link")).unwrap();

    // other/victim holds someone's files: refused, nothing touched on either side.
    keep(&root.join("other/victim"));
    refused(
        &run_to(&root, "link/../victim", "1", &[]),
        "is not an output folder",
    );
    assert!(kept(&root.join("victim")) && kept(&root.join("other/victim")));

    // other/victim absent: the run writes there, and ./victim is untouched.
    fs::remove_dir_all(root.join("other/victim")).unwrap();
    let o = run_to(&root, "link/../victim", "1", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(complete_run(&root.join("other/victim")), 1);
    assert_eq!(names(&root.join("victim")), ["notes.txt"]);
}

#[test]
fn a_manifest_alone_does_not_make_an_output_folder() {
    let (_t, root) = setup();
    let dir = root.join("project");
    keep(&dir);
    fs::write(dir.join("manifest.toml"), "[package]\nname = \"mine\"\n").unwrap();
    refused(&run_to(&root, "project", "1", &[]), "not an output folder");
    assert!(kept(&dir) && dir.join("manifest.toml").is_file());
    let o = timewait_env(&root, &["sweep", "s.toml", "--out", "project"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(kept(&dir));
}

#[test]
fn out_naming_a_file_is_refused_before_anything_is_simulated() {
    let (_t, root) = setup();
    fs::write(root.join("results"), "my data").unwrap();
    // The failpoint aborts the process when the simulation starts: a refusal must come first.
    let o = run_to(
        &root,
        "results",
        "1",
        &[("TIMEWAIT_FAILPOINT", "before-simulate")],
    );
    refused(&o, "is a file, not a folder");
    assert_eq!(fs::read_to_string(root.join("results")).unwrap(), "my data");
    // The same for a folder that is not ours.
    keep(&root.join("mine"));
    let o = run_to(
        &root,
        "mine",
        "1",
        &[("TIMEWAIT_FAILPOINT", "before-simulate")],
    );
    refused(&o, "not an output folder");
    assert!(kept(&root.join("mine")));
}

#[test]
fn output_folders_are_replaced_whole_and_marked() {
    let (_t, root) = setup();
    assert!(run_to(&root, "out", "1", &[]).status.success());
    assert_eq!(complete_run(&root.join("out")), 1);
    assert!(
        fs::read_to_string(root.join("out").join(MARKER))
            .unwrap()
            .contains("format 1")
    );
    fs::write(root.join("out/extra.txt"), "scratch").unwrap();
    assert!(run_to(&root, "out", "2", &[]).status.success());
    assert_eq!(
        complete_run(&root.join("out")),
        2,
        "extra.txt went with the old folder"
    );
    assert_eq!(names(&root), ["out", "s.toml"], "no hidden folder is left");
}

/// A replace killed at each step of its commit leaves the complete old folder or the complete
/// new one at the path, and the next run cleans up whatever the dead process left beside it.
#[test]
fn an_interrupted_replace_leaves_the_old_or_the_new_folder_complete() {
    // (failpoint, forced rename-aside path, what the path holds after the crash)
    let cases: [(&str, bool, Option<u64>); 4] = [
        ("before-commit", false, Some(1)),
        ("before-delete-old", false, Some(2)),
        ("before-delete-old", true, Some(2)),
        // Between the two renames of the rename-aside path the folder is absent, never partial.
        ("after-aside", true, None),
    ];
    for (point, aside, holds) in cases {
        let (_t, root) = setup();
        assert!(run_to(&root, "out", "1", &[]).status.success());
        let mut env = vec![("TIMEWAIT_FAILPOINT", point)];
        if aside {
            env.push(("TIMEWAIT_NO_EXCHANGE", "1"));
        }
        let o = run_to(&root, "out", "2", &env);
        assert!(
            !o.status.success(),
            "{point}: the failpoint ends the process"
        );
        let out = root.join("out");
        match holds {
            Some(seed) => assert_eq!(complete_run(&out), seed, "{point} (aside: {aside})"),
            None => assert!(!out.exists(), "{point}"),
        }
        assert!(
            names(&root).len() > 2,
            "{point}: the dead process left a folder behind"
        );
        // The next run removes what the dead process left (or puts the old folder back first).
        let o = run_to(&root, "out", "3", &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(complete_run(&out), 3);
        assert_eq!(names(&root), ["out", "s.toml"], "{point}");
    }
}

#[test]
fn a_set_aside_folder_is_put_back_when_its_replacement_never_arrived() {
    let (_t, root) = setup();
    assert!(run_to(&root, "out", "1", &[]).status.success());
    let env = [
        ("TIMEWAIT_FAILPOINT", "after-aside"),
        ("TIMEWAIT_NO_EXCHANGE", "1"),
    ];
    assert!(!run_to(&root, "out", "2", &env).status.success());
    // A run to another folder beside it restores `out` as it was.
    assert!(run_to(&root, "other", "5", &[]).status.success());
    assert_eq!(complete_run(&root.join("out")), 1);
    assert_eq!(names(&root), ["other", "out", "s.toml"]);
}

#[test]
fn stale_staging_folders_of_dead_processes_are_removed_and_others_kept() {
    let (_t, root) = setup();
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = root.join(format!(".out.partial-{dead}"));
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join(MARKER), "timewait output folder, format 1\n").unwrap();
    fs::write(stale.join("events.csv"), "half").unwrap();
    // Same shape of name, but no marker: not timewait's, kept.
    let foreign = root.join(format!(".notes.partial-{dead}"));
    keep(&foreign);
    // A live process's staging folder (this test's own PID) is kept.
    let live = root.join(format!(".x.partial-{}", std::process::id()));
    fs::create_dir(&live).unwrap();
    fs::write(live.join(MARKER), "timewait output folder, format 1\n").unwrap();

    assert!(run_to(&root, "out", "1", &[]).status.success());
    assert!(!stale.exists());
    assert!(kept(&foreign));
    assert!(live.exists());
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_removes_its_staging_folder() {
    let (_t, root) = setup();
    // Long enough (a day of datagrams) that it is still running when the signal comes.
    let long = scenario()
        .replace("duration = \"1s\"", "duration = \"24h\"")
        .replace("count = 5", "count = 100000000")
        .replace("interval = \"100ms\"", "interval = \"1ms\"");
    fs::write(root.join("s.toml"), long).unwrap();
    for signal in ["INT", "TERM"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_timewait"))
            .current_dir(&root)
            .args(["run", "s.toml", "--out", "out"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stage = root.join(format!(".out.partial-{}", child.id()));
        let start = Instant::now();
        while !stage.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the run never staged its folder"
            );
            assert!(child.try_wait().unwrap().is_none(), "the run ended early");
            std::thread::sleep(Duration::from_millis(10));
        }
        let kill = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = child.wait().unwrap();
        assert!(!status.success(), "SIG{signal}");
        assert!(!stage.exists(), "SIG{signal} left {}", stage.display());
        assert!(!root.join("out").exists(), "SIG{signal}: no output appears");
    }
}
