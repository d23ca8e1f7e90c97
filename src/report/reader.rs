//! Reading a run's files back, compressed or not: `events.csv` may have been written as
//! `events.csv.zst` (`[output] compress = "zstd"`).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// Opens `path`, or, if it does not exist, `path` + `.zst` (decompressed as it is read).
/// `NotFound` if neither exists.
pub fn open_output(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    match File::open(path) {
        Ok(f) => Ok(Box::new(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut z = path.as_os_str().to_owned();
            z.push(".zst");
            let z = PathBuf::from(z);
            match File::open(&z) {
                Ok(f) => Ok(Box::new(zstd::stream::read::Decoder::with_buffer(
                    BufReader::with_capacity(1 << 16, f),
                )?)),
                Err(ze) if ze.kind() == io::ErrorKind::NotFound => Err(e),
                Err(ze) => Err(io::Error::new(ze.kind(), format!("{}: {ze}", z.display()))),
            }
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Meter;
    use crate::scenario::Compression;
    use std::io::Write;

    #[test]
    fn reads_plain_and_compressed_files_alike() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"time,kind\n0.000000001,send\n".repeat(1000);
        std::fs::write(dir.path().join("plain.csv"), &text).unwrap();
        let mut z = Meter::default()
            .create_compressed(&dir.path().join("packed.csv.zst"), Compression::Zstd)
            .unwrap();
        z.write_all(&text).unwrap();
        z.flush().unwrap();
        drop(z);
        for name in ["plain.csv", "packed.csv"] {
            let mut back = Vec::new();
            open_output(&dir.path().join(name))
                .unwrap()
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, text, "{name}");
        }
        let missing = open_output(&dir.path().join("none.csv")).err().unwrap();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
