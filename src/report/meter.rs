//! Counts the bytes a run's files take, so `--max-output` can stop a run that writes too much.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A shared count of bytes written to disk by every file made through it.
#[derive(Clone, Debug, Default)]
pub struct Meter(Arc<AtomicU64>);

impl Meter {
    /// Bytes handed to the files so far (what their buffers have flushed).
    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Creates (or truncates) `path`, counting what is written to it.
    pub fn create(&self, path: &Path) -> io::Result<Metered> {
        Ok(Metered {
            file: File::create(path)?,
            meter: self.clone(),
        })
    }
}

/// A file whose writes are added to a [`Meter`].
#[derive(Debug)]
pub struct Metered {
    file: File,
    meter: Meter,
}

impl Write for Metered {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        // Relaxed: the count is read by the same thread between events; no other data hangs on it.
        self.meter.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_file_made_through_it() {
        let dir = std::env::temp_dir().join(format!("timewait-meter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let meter = Meter::default();
        let mut a = meter.create(&dir.join("a")).unwrap();
        let mut b = meter.clone().create(&dir.join("b")).unwrap();
        a.write_all(b"hello").unwrap();
        b.write_all(b"abc").unwrap();
        assert_eq!(meter.bytes(), 8);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
