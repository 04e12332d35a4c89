//! The store writer's counters, which the engine's journal also keeps: how many records
//! wait, were written, were spooled, or are held undurable. The engine reads them for the
//! durability hold; the API and metrics show them.

use std::sync::atomic::AtomicU64;

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
    /// Records the writer holds in memory because neither the database nor the spool
    /// took them (a full disk): not durable until this is 0 again.
    pub undurable: AtomicU64,
}
