//! Output folders that cannot lose a user's files.
//!
//! The guarantees, in the order a run meets them:
//! - `--out` is resolved once, as the kernel would resolve it (symlinks and `..` in order), and
//!   only that path is used afterwards: a check and a delete never look at two different folders.
//! - A folder is replaced only if it is absent, empty, or marked as timewait's by the marker file
//!   [`MARKER`] (which holds its format version). Anything else, a regular file included, is
//!   refused before the simulation starts.
//! - Files are written to a hidden staging folder beside the target (`.NAME.partial-PID`). The
//!   finished folder is swapped with the old one in one atomic rename (`RENAME_EXCHANGE`) where
//!   the file system allows it; elsewhere the old folder is renamed aside first. Either way the
//!   path never holds a mix of old and new files, and never a half-written folder.
//! - Staging and set-aside folders left by processes that died (found by PID and marker) are
//!   removed at the start of the next run; a set-aside old output whose replacement never
//!   arrived is put back.
//! - SIGINT, SIGTERM and SIGHUP remove the staging folders of the process before it exits
//!   ([`remove_staged_on_signal`]).

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// The marker file in every folder timewait writes; its content names the format version.
pub const MARKER: &str = ".timewait-output";

/// What [`MARKER`] holds; the number is the output format version.
const MARKER_TEXT: &str = "timewait output folder, format 1\n";

/// Why an output folder cannot be used. Every variant is the user's to fix (bad `--out`).
#[derive(Debug)]
pub struct OutError(pub String);

impl std::fmt::Display for OutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OutError {}

/// An output folder, resolved once and checked: absent, empty or timewait's own.
#[derive(Clone, Debug)]
pub struct OutDir {
    /// The folder as the user named it (for messages).
    shown: PathBuf,
    /// The folder with every symlink and `..` resolved: the only path file operations use.
    real: PathBuf,
}

impl OutDir {
    /// Resolves `path` and checks that it may be replaced whole.
    pub fn resolve(path: &Path) -> Result<OutDir, OutError> {
        let fail = |why: String| OutError(format!("--out {}: {why}", path.display()));
        let real = resolve_path(path).map_err(|e| fail(e.to_string()))?;
        if real.parent().is_none() || real.file_name().is_none() {
            return Err(fail("cannot be an output folder".into()));
        }
        if std::env::current_dir()
            .is_ok_and(|cwd| fs::canonicalize(&cwd).unwrap_or(cwd).starts_with(&real))
        {
            return Err(fail(
                "holds the current folder and would be replaced whole; choose another --out".into(),
            ));
        }
        match fs::symlink_metadata(&real) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e.to_string())),
            Ok(m) if !m.is_dir() => {
                return Err(fail(
                    "is a file, not a folder; choose another --out, or remove it".into(),
                ));
            }
            Ok(_) => {
                let empty = fs::read_dir(&real)
                    .map_err(|e| fail(e.to_string()))?
                    .next()
                    .is_none();
                if !empty && !is_marked(&real) {
                    return Err(fail(format!(
                        "already exists and is not an output folder (it has files but no {MARKER} \
                         marker, so timewait did not write it); choose another --out, or remove it"
                    )));
                }
            }
        }
        Ok(OutDir {
            shown: path.to_path_buf(),
            real,
        })
    }

    /// The folder as the user named it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// The resolved folder.
    pub fn real(&self) -> &Path {
        &self.real
    }
}

/// `path` made absolute and resolved component by component as `open(2)` would: a symlink is
/// followed where it stands, so `link/../x` is `x` beside the link's target, not beside the
/// link. The last components may not exist yet.
fn resolve_path(path: &Path) -> io::Result<PathBuf> {
    let mut cur = PathBuf::new();
    for c in std::path::absolute(path)?.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => cur.push(c),
            Component::CurDir => {}
            Component::ParentDir => {
                cur.pop();
            }
            Component::Normal(name) => {
                cur.push(name);
                if fs::symlink_metadata(&cur).is_ok_and(|m| m.file_type().is_symlink()) {
                    cur = fs::canonicalize(&cur).map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!(
                                "{} is a symlink that cannot be followed: {e}",
                                cur.display()
                            ),
                        )
                    })?;
                }
            }
        }
    }
    Ok(cur)
}

/// Whether `dir` holds timewait's marker.
fn is_marked(dir: &Path) -> bool {
    fs::read_to_string(dir.join(MARKER)).is_ok_and(|t| t.starts_with("timewait output folder"))
}

fn mark(dir: &Path) -> io::Result<()> {
    fs::write(dir.join(MARKER), MARKER_TEXT)
}

/// Staging folders of this process, for the signal handler; a folder leaves the list under the
/// lock, once it has been renamed into place.
static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn staged() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    STAGED.lock().unwrap_or_else(|p| p.into_inner())
}

/// A staging folder for one run's files.
pub struct StagedDir {
    stage: PathBuf,
    out: OutDir,
    committed: bool,
}

impl StagedDir {
    /// Creates an empty, marked staging folder beside `out`, after removing what dead processes
    /// left beside it.
    pub fn create(out: &OutDir) -> io::Result<StagedDir> {
        let (Some(parent), Some(name)) = (out.real.parent(), out.real.file_name()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot be an output folder",
            ));
        };
        fs::create_dir_all(parent)?;
        clean_stale(parent);
        let stage = parent.join(hidden(
            &name.to_string_lossy(),
            "partial",
            std::process::id(),
        ));
        if stage.exists() {
            fs::remove_dir_all(&stage)?;
        }
        let made = make_stage(&stage);
        let dir = StagedDir {
            stage,
            out: out.clone(),
            committed: false,
        };
        made.map(|()| dir)
    }

    /// The staging folder itself.
    pub fn dir(&self) -> &Path {
        &self.stage
    }

    /// Path of a file inside the staging folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.stage.join(name)
    }

    /// The final folder, as the user named it.
    pub fn target(&self) -> &Path {
        &self.out.shown
    }

    /// Puts the staged folder in place of the target, then deletes the old one.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        let real = self.out.real.clone();
        let old = {
            let mut list = staged();
            failpoint("before-commit");
            let old = swap_in(&self.stage, &real)?;
            // The stage path now holds the old output (or nothing): no longer ours to protect.
            list.retain(|p| p != &self.stage);
            self.committed = true;
            old
        };
        if let Some(old) = old {
            failpoint("before-delete-old");
            fs::remove_dir_all(&old)?;
        }
        Ok(self.out.shown.clone())
    }
}

impl Drop for StagedDir {
    /// An abandoned run leaves nothing behind.
    fn drop(&mut self) {
        if !self.committed {
            remove_stage(&self.stage);
        }
    }
}

/// Creates the marked staging folder `stage` and registers it for removal on a signal.
pub(crate) fn make_stage(stage: &Path) -> io::Result<()> {
    // Under the lock: a signal's cleanup waits until the folder and its marker exist.
    let mut list = staged();
    list.push(stage.to_path_buf());
    fs::create_dir(stage).and_then(|()| mark(stage))
}

/// Removes a staging folder made by [`make_stage`] and forgets it.
pub(crate) fn remove_stage(stage: &Path) {
    let mut list = staged();
    let _ = fs::remove_dir_all(stage);
    list.retain(|p| p != stage);
}

/// `.NAME.KIND-PID`: the hidden name of a staging (`partial`) or set-aside (`old`) folder.
fn hidden(name: &str, kind: &str, pid: u32) -> String {
    format!(".{name}.{kind}-{pid}")
}

/// Moves `stage` to `target`. Returns where the old target now lies (to delete), if there was
/// one. The old folder is marked first, so that if this process dies before deleting it, the
/// next run recognises it as timewait's leftover.
fn swap_in(stage: &Path, target: &Path) -> io::Result<Option<PathBuf>> {
    if !target.exists() {
        fs::rename(stage, target)?;
        return Ok(None);
    }
    mark(target)?;
    if exchange(stage, target)? {
        return Ok(Some(stage.to_path_buf()));
    }
    // No atomic exchange here: rename the old folder aside, the new one in. Between the two
    // renames the path is absent (never half-written); a crash there is undone by
    // `clean_stale`, which puts the old folder back.
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let aside = target.with_file_name(hidden(&name, "old", std::process::id()));
    fs::rename(target, &aside)?;
    failpoint("after-aside");
    fs::rename(stage, target)?;
    Ok(Some(aside))
}

/// Swaps two folders atomically; `Ok(false)` where the platform or file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    if forced_fallback() {
        return Ok(false);
    }
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<bool> {
    Ok(false)
}

/// Removes the staging and set-aside folders that dead processes left in `parent` (only those
/// holding the marker), and puts back a set-aside output whose replacement never arrived.
/// Best effort: a folder that cannot be removed is left for the next run.
pub fn clean_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let mut found: Vec<(PathBuf, String, &str, u32)> = Vec::new();
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix('.') else {
            continue;
        };
        for kind in ["partial", "old"] {
            let Some((name, pid)) = rest.rsplit_once(&format!(".{kind}-")) else {
                continue;
            };
            let Ok(pid) = pid.parse::<u32>() else {
                continue;
            };
            if !name.is_empty() && pid != std::process::id() && !alive(pid) {
                found.push((e.path(), name.to_string(), kind, pid));
            }
        }
    }
    found.sort();
    for (path, name, kind, _) in found {
        if !is_marked(&path) {
            continue;
        }
        let target = parent.join(&name);
        if kind == "old" && fs::symlink_metadata(&target).is_err() {
            let _ = fs::rename(&path, &target);
        } else {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// Whether process `pid` exists (a PID we may not signal belongs to a live process).
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn alive(_: u32) -> bool {
    true // cannot tell: never remove another process's folder
}

/// Installs handlers that remove this process's staging folders on SIGINT, SIGTERM and SIGHUP,
/// then end the process as the signal would have. For the command line; a library user keeps
/// its own handlers.
pub fn remove_staged_on_signal() -> io::Result<()> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                // Held until exit, so no commit can start after the folders are gone.
                let list = staged();
                for p in list.iter() {
                    remove_racing_writers(p);
                }
                let _ = signal_hook::low_level::emulate_default_handler(sig);
                std::process::exit(128 + sig);
            }
        });
    }
    Ok(())
}

/// Removes `dir` while other threads may still be creating files in it (a writer opening its
/// file makes the last `rmdir` fail with "directory not empty"): tries again until it is gone.
#[cfg(unix)]
fn remove_racing_writers(dir: &Path) {
    for _ in 0..100 {
        if fs::remove_dir_all(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Test builds only: `TIMEWAIT_FAILPOINT=NAME` aborts the process at that step, as a crash or
/// `kill -9` would, so tests can check what each step leaves behind.
pub(crate) fn failpoint(name: &str) {
    if cfg!(debug_assertions) && std::env::var("TIMEWAIT_FAILPOINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
}

/// Test builds only: `TIMEWAIT_NO_EXCHANGE=1` takes the rename-aside path even where an atomic
/// exchange is available, so both paths are tested on Linux.
#[cfg(target_os = "linux")]
fn forced_fallback() -> bool {
    cfg!(debug_assertions) && std::env::var_os("TIMEWAIT_NO_EXCHANGE").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_are_followed_where_they_stand() {
        let t = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(t.path()).unwrap();
        fs::create_dir_all(root.join("elsewhere/deep")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("elsewhere/deep"), root.join("link")).unwrap();
        #[cfg(unix)]
        assert_eq!(
            resolve_path(&root.join("link/../victim")).unwrap(),
            root.join("elsewhere/victim")
        );
        assert_eq!(
            resolve_path(&root.join("a/./b/../c")).unwrap(),
            root.join("a/c")
        );
    }

    #[test]
    fn hidden_names_parse_back() {
        let t = tempfile::tempdir().unwrap();
        // A dead child's PID: the child has been waited for.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let stale = t.path().join(hidden("run.x", "partial", pid));
        fs::create_dir(&stale).unwrap();
        mark(&stale).unwrap();
        let foreign = t.path().join(hidden("keep", "partial", pid));
        fs::create_dir(&foreign).unwrap(); // no marker: not ours to remove
        let aside = t.path().join(hidden("out", "old", pid));
        fs::create_dir(&aside).unwrap();
        mark(&aside).unwrap();
        clean_stale(t.path());
        assert!(!stale.exists());
        assert!(foreign.exists());
        assert!(!aside.exists() && t.path().join("out").is_dir(), "put back");
    }
}
