//! `[store]`: SQLite or PostgreSQL, and how the writer batches and retries.

use serde::Deserialize;
use std::num::NonZeroU32;
use std::path::PathBuf;

/// `[store]`: the embedded SQLite file by default, PostgreSQL with a `url`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `postgres://user@host:port/database`. The password belongs in the environment
    /// variable `password_env` or in `password_file`, not here.
    pub url: Option<String>,
    /// The SQLite file when there is no `url`, relative to `[daemon] state_dir`.
    pub path: PathBuf,
    /// The environment variable holding the PostgreSQL password.
    pub password_env: String,
    /// A file holding the PostgreSQL password (a systemd credential, say); wins over
    /// `password_env`.
    pub password_file: Option<PathBuf>,
    /// PostgreSQL connections, at most.
    pub pool_size: NonZeroU32,
    /// How long to wait for a PostgreSQL connection, in milliseconds.
    pub connect_timeout_ms: NonZeroU32,
    /// Records per transaction, at most.
    pub batch_max: NonZeroU32,
    /// Batches waiting for the writer, at most, before the engine keeps them itself.
    pub queue: NonZeroU32,
    /// How often to retry an unreachable database while records are spooled, in
    /// milliseconds.
    pub retry_ms: NonZeroU32,
    /// How long one batch's transaction may take before the database counts as
    /// unreachable (its records then go to the spool), in milliseconds.
    pub write_timeout_ms: NonZeroU32,
    /// Records the engine may hold in memory for a writer that cannot keep up. Past it,
    /// or while neither the database nor the spool takes records (a full disk), trading
    /// is reduce-only (cancels and position-reducing orders pass) until the records are
    /// durable again and the backlog is down to half of this.
    pub max_backlog_records: NonZeroU32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: None,
            path: PathBuf::from("pennant.db"),
            password_env: "PENNANT_STORE_PASSWORD".into(),
            password_file: None,
            pool_size: NonZeroU32::MIN.saturating_add(3),
            connect_timeout_ms: NonZeroU32::MIN.saturating_add(4_999),
            batch_max: NonZeroU32::MIN.saturating_add(999),
            queue: NonZeroU32::MIN.saturating_add(1_023),
            retry_ms: NonZeroU32::MIN.saturating_add(999),
            write_timeout_ms: NonZeroU32::MIN.saturating_add(9_999),
            max_backlog_records: NonZeroU32::MIN.saturating_add(99_999),
        }
    }
}
