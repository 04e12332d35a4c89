//! The writer task: takes the engine's batches of records off the channel and writes
//! them, one transaction per batch of up to `batch_max` records, each within
//! `write_timeout`. While the database is unreachable every record goes to the [`Spool`]
//! instead, in order (new records too, so that order holds), and the spool is replayed
//! every `retry` until it empties. Records neither written nor spooled (the spool's disk
//! failing) stay in memory, first in line.
//!
//! Ends when the channel closes (the engine's journal is closed at shutdown) and all it
//! received is written or spooled: that is the flush on SIGTERM.

use super::spool::Spool;
use super::{Record, Store, StoreError};
use crate::records::WriterStats;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How the writer batches and retries.
#[derive(Debug, Clone, Copy)]
pub struct WriterSettings {
    /// Records per transaction, at most.
    pub batch_max: usize,
    /// How often to retry the database while records are spooled.
    pub retry: Duration,
    /// How long one transaction may take.
    pub write_timeout: Duration,
}

/// Told how long each batch write took (Prometheus' histogram, in the daemon).
pub trait WriteTimings: Send + Sync {
    /// A batch was written to the database in `took`.
    fn batch_written(&self, took: Duration);
}

/// No one listening (tests, tools).
impl WriteTimings for () {
    fn batch_written(&self, _: Duration) {}
}

/// One transaction, within the time limit: a write that hangs counts as the database
/// being unreachable. Writing the same records again later is harmless.
async fn write(store: &Store, records: &[Record], limit: Duration) -> Result<(), StoreError> {
    match tokio::time::timeout(limit, store.write(records)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(StoreError::Unreachable {
            host: store.describe(),
            message: format!("no answer within {limit:?}"),
        }),
    }
}

/// Runs the writer until the channel closes and everything is written or spooled.
pub async fn run(
    store: Store,
    mut records: mpsc::Receiver<Vec<Record>>,
    mut spool: Spool,
    settings: WriterSettings,
    stats: Arc<WriterStats>,
    timings: Box<dyn WriteTimings>,
) {
    let batch_max = settings.batch_max.max(1);
    // Taken off the channel, neither written nor spooled yet: oldest first.
    let mut held: Vec<Record> = Vec::new();
    let mut closed = false;
    let mut last_replay = Instant::now();
    loop {
        if !closed && held.len() < batch_max {
            let received = if spool.is_empty() && held.is_empty() {
                records.recv().await
            } else {
                tokio::select! {
                    received = records.recv() => received,
                    _ = tokio::time::sleep(settings.retry) => Some(Vec::new()),
                }
            };
            match received {
                Some(batch) => take(&mut held, batch, &stats),
                None => closed = true,
            }
            while !closed && held.len() < batch_max {
                match records.try_recv() {
                    Ok(batch) => take(&mut held, batch, &stats),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => closed = true,
                }
            }
        }
        if spool.is_empty() && !held.is_empty() {
            let start = std::time::Instant::now();
            match write(&store, &held, settings.write_timeout).await {
                Ok(()) => {
                    stats
                        .written
                        .fetch_add(held.len() as u64, Ordering::Relaxed);
                    let took = start.elapsed();
                    stats
                        .last_write_us
                        .store(took.as_micros() as u64, Ordering::Relaxed);
                    timings.batch_written(took);
                    held.clear();
                    stats.undurable.store(0, Ordering::Relaxed);
                }
                Err(err) => {
                    stats.failures.fetch_add(1, Ordering::Relaxed);
                    last_replay = Instant::now();
                    log::warn!(store = store.describe().as_str(); "cannot write to the store, spooling until it is back: {err}");
                }
            }
        }
        if !held.is_empty() {
            // The file system call is short but blocking: off the runtime's workers.
            match tokio::task::block_in_place(|| spool.append(&held)) {
                Ok(()) => {
                    held.clear();
                    stats.undurable.store(0, Ordering::Relaxed);
                }
                Err(err) => {
                    if stats.undurable.swap(held.len() as u64, Ordering::Relaxed) == 0 {
                        log::error!(path:% = spool.path().display(), records = held.len(); "cannot write the spool; the records wait in memory and trading is reduce-only until they are durable: {err}");
                    }
                    if closed {
                        log::error!(records = held.len(); "records lost at shutdown: neither the store nor the spool took them");
                        break;
                    }
                    tokio::time::sleep(settings.retry).await;
                }
            }
        }
        let due = last_replay.elapsed() >= settings.retry;
        if !spool.is_empty() && (due || closed) {
            last_replay = Instant::now();
            replay(
                &store,
                &mut spool,
                batch_max,
                &stats,
                settings.write_timeout,
            )
            .await;
        }
        stats.spooled.store(spool.records(), Ordering::Relaxed);
        stats.spool_bytes.store(spool.bytes(), Ordering::Relaxed);
        if closed && held.is_empty() {
            break;
        }
    }
    if !spool.is_empty() {
        log::warn!(path:% = spool.path().display(), records = spool.records(); "the store is unreachable: records wait in the spool for the next start");
    }
    log::info!(written = stats.written.load(Ordering::Relaxed); "store writer stopped");
}

fn take(held: &mut Vec<Record>, batch: Vec<Record>, stats: &WriterStats) {
    stats
        .queued
        .fetch_sub(batch.len() as u64, Ordering::Relaxed);
    held.extend(batch);
}

/// Writes the spooled records to the store, in order, if it is back.
pub async fn replay(
    store: &Store,
    spool: &mut Spool,
    batch_max: usize,
    stats: &WriterStats,
    limit: Duration,
) {
    let waiting = spool.records();
    match spool
        .replay(batch_max, |batch| async move {
            write(store, &batch, limit).await
        })
        .await
    {
        Ok(written) => {
            stats.written.fetch_add(written, Ordering::Relaxed);
            log::info!(records = written, waiting; "the store is back: spooled records written");
        }
        Err(err) => log::debug!("the store is still unreachable: {err}"),
    }
}
