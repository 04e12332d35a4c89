//! The spool: records that could not be written to the database wait here, in order,
//! one JSON line each, synced to disk, until the writer replays them. A line torn by a
//! crash in the middle of an append is the last one, and is skipped with a warning.

use super::Record;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// See the module docs.
pub struct Spool {
    path: PathBuf,
    records: u64,
    bytes: u64,
}

impl Spool {
    /// The spool at `path`; records left there by a previous run count as waiting.
    pub fn open(path: &Path) -> std::io::Result<Spool> {
        let mut spool = Spool {
            path: path.to_owned(),
            records: 0,
            bytes: 0,
        };
        if path.exists() {
            spool.bytes = std::fs::metadata(path)?.len();
            spool.records = BufReader::new(File::open(path)?).lines().count() as u64;
        }
        Ok(spool)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Records waiting.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Size of the file.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends records and syncs them to disk.
    pub fn append(&mut self, records: &[Record]) -> std::io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut text = Vec::new();
        for record in records {
            serde_json::to_writer(&mut text, record)?;
            text.push(b'\n');
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let before = file.metadata()?.len();
        if let Err(err) = file.write_all(&text).and_then(|()| file.sync_data()) {
            // No half line left behind for the next append to be glued onto.
            let _ = file.set_len(before);
            return Err(err);
        }
        self.records += records.len() as u64;
        self.bytes += text.len() as u64;
        Ok(())
    }

    /// Calls `write` with the waiting records in order, `batch` at a time, and empties
    /// the spool once every batch is written. On the first failure it stops and keeps
    /// everything (the batches already written are skipped when replayed again: the
    /// store ignores records it has).
    pub async fn replay<E, F, Fut>(&mut self, batch: usize, mut write: F) -> Result<u64, E>
    where
        F: FnMut(Vec<Record>) -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
    {
        if self.is_empty() {
            return Ok(0);
        }
        let reader = match File::open(&self.path) {
            Ok(file) => BufReader::new(file),
            Err(err) => {
                log::error!(path:% = self.path.display(); "cannot read the spool: {err}");
                return Ok(0);
            }
        };
        let mut pending = Vec::with_capacity(batch);
        let mut written = 0;
        for (n, line) in reader.lines().enumerate() {
            let parsed = line
                .map_err(|e| e.to_string())
                .and_then(|l| serde_json::from_str::<Record>(&l).map_err(|e| e.to_string()));
            match parsed {
                Ok(record) => pending.push(record),
                Err(err) => {
                    log::warn!(path:% = self.path.display(), line = n + 1; "spool line skipped: {err}");
                    continue;
                }
            }
            if pending.len() >= batch {
                written += pending.len() as u64;
                write(std::mem::take(&mut pending)).await?;
            }
        }
        if !pending.is_empty() {
            written += pending.len() as u64;
            write(pending).await?;
        }
        if let Err(err) = File::create(&self.path) {
            log::error!(path:% = self.path.display(); "cannot empty the spool: {err}");
        }
        self.records = 0;
        self.bytes = 0;
        Ok(written)
    }
}
