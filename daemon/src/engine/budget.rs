//! What the host keeps and does for each strategy, counted against that strategy and
//! capped: a strategy is untrusted code, and nothing it asks the host for may grow
//! without bound in the daemon's memory, on its disk, or in the engine's time.
//!
//! | resource | cap ([`HostLimits`]) | past the cap |
//! |---|---|---|
//! | pending timers | `max_timers` | the timer is not set; the strategy is quarantined after the call (`set-timer` cannot say no in contract 0.1) |
//! | bar subscriptions | `max_bar_subscriptions` | `subscribe-bars` returns an error |
//! | log lines, stdout, stderr | `max_log_line_bytes`, `log_bytes_per_minute` | cut (marked) / dropped until the minute ends, counted |
//! | signal notes | `max_signal_note_bytes` | cut (marked), counted |
//! | signals | `signals_per_minute` | dropped until the minute ends, counted |
//! | a snapshot of its state | `max_snapshot_bytes` | the strategy is quarantined |
//! | refused orders (not those of a halted or reduce-only state) | `[risk] max_rejections_per_minute` | the strategy is quarantined (see [`crate::risk`]) |
//!
//! Order updates waiting for a paused or quarantined strategy are capped by the engine
//! (10,000; beyond, the oldest are kept and the rest counted as dropped) and a chain of
//! updates caused by one event by 10,000 per strategy.

use crate::config::PluginConfig;
use crate::plugin::strategy_log::WindowBudget;
use crate::plugin::{OutputLimits, StrategyLog};

/// The per-strategy caps of `[plugins]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostLimits {
    /// Timers one strategy may have pending.
    pub max_timers: usize,
    /// Bar streams (instrument and interval) one strategy may subscribe to.
    pub max_bar_subscriptions: usize,
    /// Longest signal note kept, in bytes.
    pub max_signal_note_bytes: usize,
    /// Signals one strategy may emit per minute of wall time.
    pub signals_per_minute: u64,
    /// Largest snapshot of a strategy's state, in bytes.
    pub max_snapshot_bytes: usize,
    /// Its log lines, stdout and stderr.
    pub output: OutputLimits,
}

/// The defaults are `[plugins]`'s: one home for the numbers.
impl Default for HostLimits {
    fn default() -> Self {
        HostLimits::from(&PluginConfig::default())
    }
}

impl From<&PluginConfig> for HostLimits {
    fn from(plugins: &PluginConfig) -> Self {
        let bytes = |n: std::num::NonZeroU32| n.get() as usize;
        HostLimits {
            max_timers: bytes(plugins.max_timers),
            max_bar_subscriptions: bytes(plugins.max_bar_subscriptions),
            max_signal_note_bytes: bytes(plugins.max_signal_note_bytes),
            signals_per_minute: u64::from(plugins.signals_per_minute.get()),
            max_snapshot_bytes: bytes(plugins.max_snapshot_bytes),
            output: OutputLimits {
                max_line_bytes: bytes(plugins.max_log_line_bytes),
                bytes_per_minute: u64::from(plugins.log_bytes_per_minute.get()),
            },
        }
    }
}

/// A cap a strategy went past during a call, for which the contract has no refusal: the
/// engine quarantines it when the call returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// A stable code for logs and metrics (`timers`, `rejections`).
    pub code: &'static str,
    /// What it did, completing "strategy quarantined: it ...".
    pub message: String,
}

/// Budget counters of one strategy (by index in the core).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetStats {
    /// Signal notes cut at `max_signal_note_bytes`.
    pub notes_truncated: u64,
    /// Signals dropped past `signals_per_minute`.
    pub signals_dropped: u64,
    /// Order updates dropped while the strategy was not running (past the cap).
    pub updates_dropped: u64,
}

/// One strategy's budgets.
pub struct StrategyBudget {
    /// Its log (shared with its instance's stdout and stderr).
    pub log: StrategyLog,
    /// Its signals this minute.
    pub signals: WindowBudget,
    /// The cap it went past in the call in progress, if any.
    pub breach: Option<Breach>,
    /// Counters.
    pub stats: BudgetStats,
}

impl StrategyBudget {
    /// Fresh budgets for strategy `id`.
    pub fn new(id: &str, limits: &HostLimits) -> Self {
        StrategyBudget {
            log: StrategyLog::new(id, limits.output),
            signals: WindowBudget::new(limits.signals_per_minute),
            breach: None,
            stats: BudgetStats::default(),
        }
    }

    /// Notes a breach (the first of a call is the one reported).
    pub fn breach(&mut self, code: &'static str, message: String) {
        if self.breach.is_none() {
            self.breach = Some(Breach { code, message });
        }
    }
}
