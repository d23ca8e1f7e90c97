//! Counts the bytes a run's files take, so `--max-output` can stop a run that writes too much,
//! and writes them on threads of their own, so the simulation never waits on the disk.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

use crate::scenario::Compression;

/// The zstd level of compressed files: level 1 compresses `events.csv` about 8x and a
/// capture about 20x; higher levels cost more time for a few percent.
const ZSTD_LEVEL: i32 = 1;

/// Chunks a file's writer thread may have queued before the simulation waits for it: enough
/// to ride out a slow write, few enough that memory stays at a few buffers per file.
const QUEUED_CHUNKS: usize = 8;

/// Bytes a file gathers before handing them to its writer thread.
pub const CHUNK: usize = 1 << 16;

/// A shared count of bytes written to disk by every file made through it.
#[derive(Clone, Debug, Default)]
pub struct Meter(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    bytes: AtomicU64,
    /// Something reads the count while the run goes (`--max-output`), so it must not depend
    /// on how far other threads have got.
    exact: AtomicBool,
}

impl Meter {
    /// Bytes handed to the files so far (what their buffers have flushed).
    pub fn bytes(&self) -> u64 {
        self.0.bytes.load(Ordering::Relaxed)
    }

    /// Asks the files to count their bytes at the same points on every run: rows formatted on
    /// another thread are counted before the run goes on.
    pub fn require_exact(&self) {
        self.0.exact.store(true, Ordering::Relaxed);
    }

    /// Whether [`Meter::require_exact`] was asked.
    pub fn is_exact(&self) -> bool {
        self.0.exact.load(Ordering::Relaxed)
    }

    /// Creates (or truncates) `path`, counting what is written to it.
    pub fn create(&self, path: &Path) -> io::Result<Metered> {
        self.create_compressed(path, Compression::None)
    }

    /// As [`Meter::create`], the file stored as `compress` says (compressed on the writer
    /// thread). The meter counts the bytes before compression.
    pub fn create_compressed(&self, path: &Path, compress: Compression) -> io::Result<Metered> {
        let file = File::create(path)?;
        let sink = match compress {
            Compression::None => Sink::Plain(file),
            Compression::Zstd => Sink::Zstd(zstd::stream::write::Encoder::new(file, ZSTD_LEVEL)?),
        };
        let (tx, rx) = sync_channel::<Chunk>(QUEUED_CHUNKS);
        let (spare_tx, spare) = channel();
        let thread = std::thread::Builder::new()
            .name(format!("write {}", path.display()))
            .spawn(move || write_chunks(sink, rx, spare_tx))?;
        Ok(Metered {
            tx: Some(tx),
            spare,
            thread: Some(thread),
            meter: self.clone(),
            cur: Vec::with_capacity(CHUNK),
        })
    }
}

/// What a file's writer thread is handed.
enum Chunk {
    /// Bytes to append.
    Bytes(Vec<u8>),
    /// Flush, and answer with the first error so far.
    Flush(Sender<io::Result<()>>),
}

/// Where a writer thread puts the bytes.
enum Sink {
    Plain(File),
    Zstd(zstd::stream::write::Encoder<'static, File>),
}

impl Sink {
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(f) => f.write_all(b),
            Sink::Zstd(z) => z.write_all(b),
        }
    }

    /// Puts everything written so far in the file. A compressed file's frame is ended here:
    /// the file is flushed once, at its end.
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(f) => f.flush(),
            Sink::Zstd(z) => {
                z.do_finish()?;
                z.get_mut().flush()
            }
        }
    }
}

/// A writer thread's loop: appends chunks in order, hands their buffers back for reuse, and
/// stops at the first error (which `flush` and the end of the file report).
fn write_chunks(mut sink: Sink, rx: Receiver<Chunk>, spare: Sender<Vec<u8>>) -> io::Result<()> {
    let mut failed: Option<io::Error> = None;
    for chunk in rx {
        match chunk {
            Chunk::Bytes(mut b) => {
                if failed.is_none()
                    && let Err(e) = sink.write_all(&b)
                {
                    failed = Some(e);
                }
                b.clear();
                let _ = spare.send(b);
            }
            Chunk::Flush(answer) => {
                let r = match &failed {
                    Some(e) => Err(io::Error::new(e.kind(), e.to_string())),
                    None => sink.flush(),
                };
                let _ = answer.send(r);
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => sink.flush(),
    }
}

/// A file whose writes are gathered into [`CHUNK`]-byte buffers, added to a [`Meter`] as each
/// buffer is handed over, and done by a writer thread fed through a bounded channel: the bytes
/// reach the disk in the order written, and `flush` waits for them. Buffered itself, so it
/// needs no `BufWriter` (which would copy every byte once more).
#[derive(Debug)]
pub struct Metered {
    tx: Option<SyncSender<Chunk>>,
    /// Buffers the writer thread is done with.
    spare: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<()>>>,
    meter: Meter,
    /// Bytes written and not yet handed over.
    cur: Vec<u8>,
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Chunk::Bytes(b) => write!(f, "Bytes({})", b.len()),
            Chunk::Flush(_) => f.write_str("Flush"),
        }
    }
}

impl Metered {
    /// Hands `chunk` to the writer thread (after what `write` has gathered) and returns an
    /// empty buffer to fill next: for writers that build their bytes in place.
    pub fn send_chunk(&mut self, chunk: Vec<u8>) -> io::Result<Vec<u8>> {
        self.send_cur()?;
        self.send(chunk)?;
        Ok(self.take_spare())
    }

    /// An empty buffer: one the writer thread is done with, or a new one.
    fn take_spare(&mut self) -> Vec<u8> {
        self.spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK))
    }

    /// Hands what `write` gathered to the writer thread.
    fn send_cur(&mut self) -> io::Result<()> {
        if self.cur.is_empty() {
            return Ok(());
        }
        let next = self.take_spare();
        let full = std::mem::replace(&mut self.cur, next);
        self.send(full)
    }

    fn send(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        let Some(tx) = &self.tx else {
            return Err(io::Error::other("the file's writer thread stopped"));
        };
        let len = chunk.len() as u64;
        if tx.send(Chunk::Bytes(chunk)).is_err() {
            return Err(self.stopped());
        }
        // Relaxed: no other data hangs on the count; a reader that needs it exact waits on a
        // channel for it (see `require_exact`), which orders it.
        self.meter.0.bytes.fetch_add(len, Ordering::Relaxed);
        Ok(())
    }

    /// The writer thread's error, once it has stopped.
    fn stopped(&mut self) -> io::Error {
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => io::Error::other("the file's writer thread stopped"),
        }
    }
}

impl Write for Metered {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.tx.is_none() {
            return Err(io::Error::other("the file's writer thread stopped"));
        }
        self.cur.extend_from_slice(buf);
        if self.cur.len() >= CHUNK {
            self.send_cur()?;
        }
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.write(buf).map(|_| ())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_cur()?;
        let Some(tx) = &self.tx else {
            return Err(io::Error::other("the file's writer thread stopped"));
        };
        let (answer, reply) = channel();
        if tx.send(Chunk::Flush(answer)).is_err() {
            return Err(self.stopped());
        }
        reply.recv().unwrap_or_else(|_| Err(self.stopped()))
    }
}

impl Drop for Metered {
    /// Hands over what is gathered and waits for the writer thread, so a finished run's files
    /// are complete on disk.
    fn drop(&mut self) {
        let _ = self.send_cur();
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
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
        assert_eq!(meter.bytes(), 0, "gathered, not yet handed over");
        a.flush().unwrap();
        let next = b.send_chunk(b"defg".to_vec()).unwrap();
        assert!(next.is_empty());
        assert_eq!(meter.bytes(), 12);
        drop((a, b));
        assert_eq!(std::fs::read(dir.join("b")).unwrap(), b"abcdefg");
        let mut z = meter
            .create_compressed(&dir.join("c.zst"), Compression::Zstd)
            .unwrap();
        let text = b"time,kind\n0.000000001,send\n".repeat(10_000);
        z.write_all(&text).unwrap();
        z.flush().unwrap();
        drop(z);
        let back = zstd::decode_all(std::fs::File::open(dir.join("c.zst")).unwrap()).unwrap();
        assert_eq!(back, text);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
