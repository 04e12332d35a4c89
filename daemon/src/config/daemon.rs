//! `[daemon]` (the process: id, state directory, logging, shutdown) and `[recorder]`
//! (the session recorder).

use super::values::daemon_id;
use serde::Deserialize;
use std::num::NonZeroU32;
use std::path::PathBuf;

/// `[daemon]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// This daemon's id: prefixes the client order ids it sends to venues
    /// (`ID-ORDERID`), so that several daemons on one account never collide and each
    /// recognises its own orders. At most [`MAX_DAEMON_ID_LEN`] of `[A-Za-z0-9_-]`.
    #[serde(deserialize_with = "daemon_id")]
    pub id: String,
    /// Where the daemon keeps its state (the store, the spool, the compile cache). By
    /// default systemd's `$STATE_DIRECTORY`, else `/var/lib/pennant`.
    pub state_dir: PathBuf,
    /// How often, in seconds of wall time, to log each strategy's position and PnL.
    pub summary_interval_secs: u64,
    /// Shut down once every feed has ended (for replays and backtests).
    pub exit_when_feeds_end: bool,
    /// Default log level (`error`, `warn`, `info`, `debug`, `trace`); `--log-level` and
    /// `RUST_LOG` override it.
    pub log_level: String,
    /// How long a graceful shutdown (SIGTERM, SIGINT) may take before the daemon exits
    /// regardless, in seconds.
    pub shutdown_timeout_secs: NonZeroU32,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            id: "pennant".into(),
            state_dir: std::env::var_os("STATE_DIRECTORY")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/var/lib/pennant")),
            summary_interval_secs: 10,
            exit_when_feeds_end: false,
            log_level: "info".into(),
            shutdown_timeout_secs: NonZeroU32::MIN.saturating_add(29),
        }
    }
}

/// `[recorder]`: every input of the engine written to the state directory, so that
/// `pennantd replay-session` can run the session again, bit for bit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecorderConfig {
    /// Record live and paper sessions (backtests are reproducible from their files).
    pub enabled: bool,
    /// Where sessions go, one folder each, relative to `[daemon] state_dir`.
    pub dir: PathBuf,
    /// A session's inputs go to files of this size at most (MiB).
    pub segment_mib: NonZeroU32,
    /// All sessions together, at most (MiB): the oldest sessions are deleted to make
    /// room; a session that alone outgrows it stops recording (a session is only
    /// replayable from its start).
    pub max_mib: NonZeroU32,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            enabled: false,
            dir: PathBuf::from("sessions"),
            segment_mib: NonZeroU32::MIN.saturating_add(63),
            max_mib: NonZeroU32::MIN.saturating_add(1023),
        }
    }
}
