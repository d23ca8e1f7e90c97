//! CSV files whose rows are formatted off the simulation's thread. The run hands over plain
//! records in batches; a thread of the file's own turns them into text and passes the bytes
//! to the file's writer thread. Formatting a row costs the simulation a copy of its record.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

use super::meter::Meter;
use super::row::{CsvFile, Row};
use crate::scenario::Compression;

/// Records gathered before they are handed over.
const BATCH: usize = 1024;
/// Batches the formatting thread may have queued before the simulation waits for it.
const QUEUED_BATCHES: usize = 4;

/// One row of a CSV file as plain data.
pub(crate) trait Record: Send + 'static {
    /// Writes the row's fields into `row`; `hosts` are the nodes' names by id.
    fn write(&self, row: &mut Row, hosts: &[String]);
}

/// What the formatting thread is handed.
enum Msg<R> {
    Batch(Vec<R>),
    /// Answer once every batch before this one is formatted (and its bytes counted).
    Sync(Sender<()>),
}

/// A CSV file written from records (see the module's doc). The bytes are those the same rows
/// written on the simulation's thread would make: only where the formatting runs differs.
pub(crate) struct RecordFile<R: Record> {
    batch: Vec<R>,
    tx: Option<SyncSender<Msg<R>>>,
    /// Batches the formatting thread is done with.
    spare: Receiver<Vec<R>>,
    thread: Option<JoinHandle<io::Result<()>>>,
    meter: Meter,
}

impl<R: Record> RecordFile<R> {
    /// Creates `path` (counted by `meter`) with its header row.
    pub fn create(
        path: &Path,
        header: &[&str],
        meter: &Meter,
        hosts: Arc<[String]>,
    ) -> io::Result<RecordFile<R>> {
        RecordFile::create_compressed(path, header, meter, Compression::None, hosts)
    }

    /// As [`RecordFile::create`], stored as `compress` says.
    pub fn create_compressed(
        path: &Path,
        header: &[&str],
        meter: &Meter,
        compress: Compression,
        hosts: Arc<[String]>,
    ) -> io::Result<RecordFile<R>> {
        let mut file = CsvFile::create_compressed(path, header, meter, compress)?;
        let (tx, rx) = sync_channel::<Msg<R>>(QUEUED_BATCHES);
        let (spare_tx, spare) = channel();
        let thread = std::thread::Builder::new()
            .name(format!("format {}", path.display()))
            .spawn(move || {
                let mut failed = None;
                for msg in rx {
                    match msg {
                        Msg::Batch(mut batch) => {
                            for r in &batch {
                                if failed.is_some() {
                                    break;
                                }
                                r.write(&mut file.row, &hosts);
                                failed = file.end().err();
                            }
                            batch.clear();
                            let _ = spare_tx.send(batch);
                        }
                        Msg::Sync(answer) => {
                            let _ = answer.send(());
                        }
                    }
                }
                match failed {
                    Some(e) => Err(e),
                    None => file.flush(),
                }
            })?;
        Ok(RecordFile {
            batch: Vec::with_capacity(BATCH),
            tx: Some(tx),
            spare,
            thread: Some(thread),
            meter: meter.clone(),
        })
    }

    /// Adds a row.
    pub fn push(&mut self, r: R) -> io::Result<()> {
        self.batch.push(r);
        if self.batch.len() >= BATCH {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> io::Result<()> {
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let full = std::mem::replace(&mut self.batch, next);
        let Some(tx) = &self.tx else {
            return Err(io::Error::other("the file's formatting thread stopped"));
        };
        let mut sent = tx.send(Msg::Batch(full)).is_ok();
        if sent && self.meter.is_exact() {
            // The run reads the meter between events (`--max-output`): the batch's bytes are
            // counted before it goes on, so it stops at the same event on every run.
            let (answer, done) = channel();
            sent = tx.send(Msg::Sync(answer)).is_ok() && done.recv().is_ok();
        }
        if sent { Ok(()) } else { Err(self.stopped()) }
    }

    /// The formatting thread's error, once it has stopped.
    fn stopped(&mut self) -> io::Error {
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => io::Error::other("the file's formatting thread stopped"),
        }
    }

    /// Formats and writes every row, and waits for them to be on disk.
    pub fn finish(mut self) -> io::Result<()> {
        if !self.batch.is_empty() {
            self.send()?;
        }
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(()),
        }
    }
}

impl<R: Record> Drop for RecordFile<R> {
    /// Waits for the formatting thread, so nothing is still writing once the file is dropped.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pair(u64, &'static str);

    impl Record for Pair {
        fn write(&self, row: &mut Row, hosts: &[String]) {
            row.uint(self.0);
            row.text(self.1);
            row.text(&hosts[(self.0 % 2) as usize]);
        }
    }

    #[test]
    fn rows_come_out_in_order_as_the_csv_crate_writes_them_and_are_counted() {
        let dir = std::env::temp_dir().join(format!("timewait-records-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pairs.csv");
        let hosts: Arc<[String]> = vec!["a".to_string(), "b,c".to_string()].into();
        let meter = Meter::default();
        meter.require_exact();
        let mut f = RecordFile::create(&path, &["n", "word", "host"], &meter, hosts).unwrap();
        // Several batches and a partial one, with a field that needs quoting.
        let n = 3 * BATCH as u64 + 7;
        for i in 0..n {
            f.push(Pair(i, if i % 3 == 0 { "x\"y" } else { "plain" }))
                .unwrap();
        }
        f.finish().unwrap();
        let got = std::fs::read(&path).unwrap();
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["n", "word", "host"]).unwrap();
        for i in 0..n {
            let word = if i % 3 == 0 { "x\"y" } else { "plain" };
            let host = if i % 2 == 0 { "a" } else { "b,c" };
            w.write_record([i.to_string().as_str(), word, host])
                .unwrap();
        }
        let want = w.into_inner().unwrap();
        assert_eq!(got, want);
        assert_eq!(meter.bytes(), want.len() as u64);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
