//! `[plugins]`: where strategy components are, and each strategy's budgets.

use serde::Deserialize;
use std::num::NonZeroU32;
use std::path::PathBuf;

/// `[plugins]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginConfig {
    /// The folder of strategy components (`.wasm` files).
    pub dir: PathBuf,
    /// Linear memory each strategy instance may use, in MiB.
    pub memory_limit_mib: NonZeroU32,
    /// Time budget of one call into a strategy, in milliseconds.
    pub call_budget_ms: NonZeroU32,
    /// How often to snapshot each strategy's state, in seconds of engine time; a trapped
    /// strategy is rebuilt from its last snapshot.
    pub snapshot_interval_secs: u32,
    /// Seed of the strategies' random numbers (each strategy's is derived from it and its id).
    pub seed: u64,
    /// Watch the component folder and the configuration file, and reload what changes.
    /// `SIGHUP` reloads either way.
    pub watch: bool,
    /// How long the watcher waits for a file to stop changing before reloading it, in
    /// milliseconds.
    pub reload_debounce_ms: NonZeroU32,
    /// How many versions of each strategy to keep for rollback.
    pub keep_versions: NonZeroU32,
    /// Timers one strategy may have pending; setting one more quarantines it.
    pub max_timers: NonZeroU32,
    /// Bar streams one strategy may subscribe to; `subscribe-bars` refuses more.
    pub max_bar_subscriptions: NonZeroU32,
    /// Longest log line (host `log` call, stdout, stderr) kept, in bytes; longer ones are
    /// cut, and the cut marked.
    pub max_log_line_bytes: NonZeroU32,
    /// Bytes of log one strategy may write per minute; past that its lines are dropped
    /// (and counted) until the minute ends.
    pub log_bytes_per_minute: NonZeroU32,
    /// Longest signal note kept, in bytes; longer ones are cut, and the cut marked.
    pub max_signal_note_bytes: NonZeroU32,
    /// Signals one strategy may emit per minute; past that they are dropped (and counted)
    /// until the minute ends.
    pub signals_per_minute: NonZeroU32,
    /// Largest snapshot of a strategy's state, in bytes; a larger one quarantines it.
    pub max_snapshot_bytes: NonZeroU32,
    /// In a backtest, hand a strategy (a component of contract 0.3) the market events
    /// that go to it alone in one call, where that cannot change what it does (the
    /// rules are in ARCHITECTURE.md, "Market windows"). Off, every event is one call;
    /// orders and fills are the same either way.
    pub market_windows: bool,
}

impl Default for PluginConfig {
    fn default() -> Self {
        PluginConfig {
            dir: PathBuf::from("strategies"),
            memory_limit_mib: NonZeroU32::MIN.saturating_add(63),
            call_budget_ms: NonZeroU32::MIN.saturating_add(49),
            snapshot_interval_secs: 60,
            seed: 0,
            watch: true,
            reload_debounce_ms: NonZeroU32::MIN.saturating_add(199),
            keep_versions: NonZeroU32::MIN.saturating_add(4),
            max_timers: NonZeroU32::MIN.saturating_add(999),
            max_bar_subscriptions: NonZeroU32::MIN.saturating_add(15),
            max_log_line_bytes: NonZeroU32::MIN.saturating_add(1023),
            log_bytes_per_minute: NonZeroU32::MIN.saturating_add(256 * 1024 - 1),
            max_signal_note_bytes: NonZeroU32::MIN.saturating_add(255),
            signals_per_minute: NonZeroU32::MIN.saturating_add(599),
            max_snapshot_bytes: NonZeroU32::MIN.saturating_add(16 * 1024 * 1024 - 1),
            market_windows: true,
        }
    }
}
