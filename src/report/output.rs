//! Output folders that appear whole or not at all: files are written to a staging folder that
//! is renamed into place only after every file is complete.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// A staging folder for one run's files.
pub struct StagedDir {
    stage: PathBuf,
    /// The folder as the user named it (for messages).
    target: PathBuf,
    /// The same folder, absolute and normalised (for file operations).
    real: PathBuf,
    committed: bool,
}

/// Checks that `target` may be replaced whole: absent, empty, or an output folder (one with
/// a `manifest.toml`), and not the current folder or one holding it, so `--out .` or
/// `--out ~` never wipes someone's files.
pub fn check_replaceable(target: &Path) -> io::Result<()> {
    let real = normalize(target)?;
    if std::env::current_dir().is_ok_and(|cwd| cwd.starts_with(&real)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} holds the current folder and would be replaced whole; choose another --out",
                target.display()
            ),
        ));
    }
    let Ok(mut entries) = fs::read_dir(target) else {
        return Ok(()); // absent (or not a folder: creating the stage reports that)
    };
    if entries.next().is_none() || target.join("manifest.toml").is_file() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{} already exists and is not an output folder (it has files but no manifest.toml); \
             choose another --out, or remove it",
            target.display()
        ),
    ))
}

/// `path` made absolute, with `.` and `..` resolved by name (the folder may not exist yet).
fn normalize(path: &Path) -> io::Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in std::path::absolute(path)?.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

impl StagedDir {
    /// Creates an empty staging folder beside `target`, which must pass
    /// [`check_replaceable`].
    pub fn create(target: &Path) -> io::Result<StagedDir> {
        check_replaceable(target)?;
        let real = normalize(target)?;
        let (Some(parent), Some(name)) = (real.parent(), real.file_name()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} cannot be an output folder", target.display()),
            ));
        };
        fs::create_dir_all(parent)?;
        let stage = parent.join(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        if stage.exists() {
            fs::remove_dir_all(&stage)?;
        }
        fs::create_dir_all(&stage)?;
        Ok(StagedDir {
            stage,
            target: target.to_path_buf(),
            real,
            committed: false,
        })
    }

    /// The staging folder itself.
    pub fn dir(&self) -> &Path {
        &self.stage
    }

    /// Path of a file inside the staging folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.stage.join(name)
    }

    /// The final folder.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Replaces the target folder with the staged one.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        if self.real.exists() {
            fs::remove_dir_all(&self.real)?;
        }
        fs::rename(&self.stage, &self.real)?;
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for StagedDir {
    /// An abandoned run leaves nothing behind.
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.stage);
        }
    }
}
