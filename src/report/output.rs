//! Output folders that appear whole or not at all: files are written to a staging folder that
//! is renamed into place only after every file is complete.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A staging folder for one run's files.
pub struct StagedDir {
    stage: PathBuf,
    target: PathBuf,
    committed: bool,
}

/// Checks that `target` may be replaced whole: absent, empty, or an output folder (one with
/// a `manifest.toml`), so `--out .` or `--out ~` never wipes someone's files.
pub fn check_replaceable(target: &Path) -> io::Result<()> {
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

impl StagedDir {
    /// Creates an empty staging folder beside `target`, which must pass
    /// [`check_replaceable`].
    pub fn create(target: &Path) -> io::Result<StagedDir> {
        check_replaceable(target)?;
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(p) = parent {
            fs::create_dir_all(p)?;
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        let stage_name = format!(".{name}.partial-{}", std::process::id());
        let stage = match parent {
            Some(p) => p.join(stage_name),
            None => PathBuf::from(stage_name),
        };
        if stage.exists() {
            fs::remove_dir_all(&stage)?;
        }
        fs::create_dir_all(&stage)?;
        Ok(StagedDir {
            stage,
            target: target.to_path_buf(),
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
        if self.target.exists() {
            fs::remove_dir_all(&self.target)?;
        }
        fs::rename(&self.stage, &self.target)?;
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
