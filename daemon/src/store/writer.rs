//! The writer task: takes the engine's batches of records off the channel and writes
//! them, one transaction per batch of up to `batch_max` records. While the database is
//! unreachable every record goes to the [`Spool`] instead, in order (new records too, so
//! that order holds), and the spool is replayed every `retry` until it empties.
//!
//! Ends when the channel closes (the engine's journal is closed at shutdown) and all it
//! received is written or spooled: that is the flush on SIGTERM.

use super::spool::Spool;
use super::{Record, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How the writer batches and retries.
#[derive(Debug, Clone, Copy)]
pub struct WriterSettings {
    /// Records per transaction, at most.
    pub batch_max: usize,
    /// How often to retry the database while records are spooled.
    pub retry: Duration,
}

/// Counters the writer and the engine's journal keep, for logs and metrics.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Records handed to the writer and not yet written or spooled.
    pub queued: AtomicU64,
    /// Records written to the database.
    pub written: AtomicU64,
    /// Records waiting in the spool.
    pub spooled: AtomicU64,
    /// Size of the spool file, in bytes.
    pub spool_bytes: AtomicU64,
    /// Batches whose write failed (and went to the spool).
    pub failures: AtomicU64,
    /// Duration of the last batch write, in microseconds.
    pub last_write_us: AtomicU64,
}

/// Runs the writer until the channel closes and everything is written or spooled.
pub async fn run(
    store: Store,
    mut records: mpsc::Receiver<Vec<Record>>,
    mut spool: Spool,
    settings: WriterSettings,
    stats: Arc<WriterStats>,
) {
    let batch_max = settings.batch_max.max(1);
    let mut closed = false;
    while !closed {
        let mut batch: Vec<Record> = Vec::new();
        if spool.is_empty() {
            match records.recv().await {
                Some(first) => batch = first,
                None => closed = true,
            }
        } else {
            tokio::select! {
                received = records.recv() => match received {
                    Some(first) => batch = first,
                    None => closed = true,
                },
                _ = tokio::time::sleep(settings.retry) => {}
            }
        }
        while batch.len() < batch_max {
            match records.try_recv() {
                Ok(more) => batch.extend(more),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        stats
            .queued
            .fetch_sub(batch.len() as u64, Ordering::Relaxed);
        if spool.is_empty() && !batch.is_empty() {
            let start = std::time::Instant::now();
            match store.write(&batch).await {
                Ok(()) => {
                    stats
                        .written
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    stats
                        .last_write_us
                        .store(start.elapsed().as_micros() as u64, Ordering::Relaxed);
                    batch.clear();
                }
                Err(err) => {
                    stats.failures.fetch_add(1, Ordering::Relaxed);
                    log::warn!(store = store.describe().as_str(); "cannot write to the store, spooling until it is back: {err}");
                }
            }
        }
        if !batch.is_empty() {
            if let Err(err) = spool.append(&batch) {
                // Nowhere left to put them: say so loudly, with how many.
                log::error!(path:% = spool.path().display(), records = batch.len(); "records lost: cannot write the spool: {err}");
            }
        }
        if !spool.is_empty() {
            replay(&store, &mut spool, batch_max, &stats).await;
        }
        stats.spooled.store(spool.records(), Ordering::Relaxed);
        stats.spool_bytes.store(spool.bytes(), Ordering::Relaxed);
    }
    if !spool.is_empty() {
        log::warn!(path:% = spool.path().display(), records = spool.records(); "the store is unreachable: records wait in the spool for the next start");
    }
    log::info!(written = stats.written.load(Ordering::Relaxed); "store writer stopped");
}

/// Writes the spooled records to the store, in order, if it is back.
pub async fn replay(store: &Store, spool: &mut Spool, batch_max: usize, stats: &WriterStats) {
    let waiting = spool.records();
    match spool
        .replay(batch_max, |batch| async move { store.write(&batch).await })
        .await
    {
        Ok(written) => {
            stats.written.fetch_add(written, Ordering::Relaxed);
            log::info!(records = written, waiting; "the store is back: spooled records written");
        }
        Err(err) => log::debug!("the store is still unreachable: {err}"),
    }
}
