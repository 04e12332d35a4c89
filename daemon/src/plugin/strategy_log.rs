//! What a strategy may write to the daemon's log: its `log` host calls and its stdout and
//! stderr share one budget per strategy, so that no strategy can fill the disk.
//!
//! Each line is cut at [`OutputLimits::max_line_bytes`] (the cut is marked in the line),
//! and a strategy may write [`OutputLimits::bytes_per_minute`] bytes per minute of wall
//! time. Past that its lines are dropped until the minute ends; one warning says so when
//! it happens and one more, when the minute ends, counts what was dropped. Wall time, not
//! the engine clock: a backtest replaying a day in a second must not log a day's worth.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The length of a budget window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Limits on one strategy's log output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// Longest line kept, in bytes; the rest is cut and the cut marked.
    pub max_line_bytes: usize,
    /// Bytes a strategy may log per minute of wall time.
    pub bytes_per_minute: u64,
}

impl Default for OutputLimits {
    fn default() -> Self {
        OutputLimits {
            max_line_bytes: 1024,
            bytes_per_minute: 256 * 1024,
        }
    }
}

/// What a strategy has logged, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputStats {
    /// Lines written to the log.
    pub lines: u64,
    /// Bytes written to the log (after cuts).
    pub bytes: u64,
    /// Lines cut at the line limit.
    pub truncated: u64,
    /// Lines dropped because the minute's budget was spent.
    pub dropped: u64,
}

/// Cuts `text` to at most `max` bytes on a character boundary, marking the cut.
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    truncate_part(text, text.len(), max)
}

/// As [`truncate`], for the first part of a text `total` bytes long.
fn truncate_part(text: &str, total: usize, max: usize) -> Cow<'_, str> {
    if total <= max && text.len() == total {
        return Cow::Borrowed(text);
    }
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!(
        "{}... [truncated: {end} of {total} bytes kept]",
        &text[..end],
    ))
}

/// An allowance that renews every [`WINDOW`] of wall time.
#[derive(Debug, Clone)]
pub struct WindowBudget {
    per_window: u64,
    started: Instant,
    used: u64,
    /// What was refused in this window (count of refusals, amount refused).
    refused: (u64, u64),
}

/// What a [`WindowBudget`] says to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    /// Granted.
    Granted,
    /// Refused: this window's allowance is spent. `first` is true for the first
    /// refusal of the window (worth a warning).
    Refused {
        /// The first refusal of this window.
        first: bool,
    },
}

impl WindowBudget {
    /// An allowance of `per_window` per [`WINDOW`].
    pub fn new(per_window: u64) -> Self {
        WindowBudget {
            per_window,
            started: Instant::now(),
            used: 0,
            refused: (0, 0),
        }
    }

    /// Renews the allowance when its window has passed; returns what the window that
    /// ended refused (count, amount), if anything.
    pub fn renew(&mut self) -> Option<(u64, u64)> {
        if self.started.elapsed() < WINDOW {
            return None;
        }
        self.started = Instant::now();
        self.used = 0;
        let refused = std::mem::take(&mut self.refused);
        (refused.0 > 0).then_some(refused)
    }

    /// Takes `amount` from this window's allowance.
    pub fn take(&mut self, amount: u64) -> Allowance {
        if self.used.saturating_add(amount) <= self.per_window {
            self.used += amount;
            return Allowance::Granted;
        }
        self.refused.0 += 1;
        self.refused.1 = self.refused.1.saturating_add(amount);
        Allowance::Refused {
            first: self.refused.0 == 1,
        }
    }

    /// The allowance per window.
    pub fn per_window(&self) -> u64 {
        self.per_window
    }
}

struct State {
    limits: OutputLimits,
    budget: WindowBudget,
    stats: OutputStats,
}

/// One strategy's log, budgeted (see the module docs). Cloning it shares the budget: the
/// engine's `log` host call and the sandbox's stdout and stderr hold the same one.
#[derive(Clone)]
pub struct StrategyLog {
    strategy: Arc<str>,
    state: Arc<Mutex<State>>,
}

impl StrategyLog {
    /// A log for strategy `strategy` with these limits.
    pub fn new(strategy: &str, limits: OutputLimits) -> Self {
        StrategyLog {
            strategy: Arc::from(strategy),
            state: Arc::new(Mutex::new(State {
                limits,
                budget: WindowBudget::new(limits.bytes_per_minute),
                stats: OutputStats::default(),
            })),
        }
    }

    /// Logs one line from the strategy (target `strategy`, with its id), within its
    /// budget. A line the log level filters out costs nothing.
    pub fn log(&self, level: log::Level, text: &str) {
        if !log::log_enabled!(target: "strategy", level) {
            return;
        }
        if let Some(line) = self.admit(text, text.len()) {
            log::log!(target: "strategy", level, strategy = &*self.strategy; "{line}");
        }
    }

    /// Logs the first part, `kept`, of a line `total` bytes long (stdout and stderr keep
    /// no more of a line than the limit).
    pub fn log_part(&self, level: log::Level, kept: &str, total: usize) {
        if !log::log_enabled!(target: "strategy", level) {
            return;
        }
        if let Some(line) = self.admit(kept, total) {
            log::log!(target: "strategy", level, strategy = &*self.strategy; "{line}");
        }
    }

    /// The line to log for `text`, the start of a line `total` bytes long (cut if need
    /// be), or `None` when this minute's budget is spent; counted either way.
    fn admit<'a>(&self, text: &'a str, total: usize) -> Option<Cow<'a, str>> {
        let strategy = &*self.strategy;
        // Only the engine thread writes; a poisoned lock still holds valid counters.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((lines, bytes)) = state.budget.renew() {
            log::warn!(
                target: "strategy", strategy, dropped_lines = lines, dropped_bytes = bytes;
                "strategy log budget: {lines} lines ({bytes} bytes) were dropped in the last minute"
            );
        }
        let line = truncate_part(text, total, state.limits.max_line_bytes);
        if matches!(line, Cow::Owned(_)) {
            state.stats.truncated += 1;
        }
        match state.budget.take(line.len() as u64) {
            Allowance::Granted => {
                state.stats.lines += 1;
                state.stats.bytes += line.len() as u64;
                Some(line)
            }
            Allowance::Refused { first } => {
                state.stats.dropped += 1;
                if first {
                    let per_minute = state.budget.per_window();
                    log::warn!(
                        target: "strategy", strategy, log_bytes_per_minute = per_minute;
                        "strategy log budget of {per_minute} bytes per minute is spent: its lines are dropped until the minute ends"
                    );
                }
                None
            }
        }
    }

    /// What it has logged so far.
    pub fn stats(&self) -> OutputStats {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stats
    }

    /// Its limits.
    pub fn limits(&self) -> OutputLimits {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_on_a_character_boundary_and_marked() {
        let check = |text: &str, max: usize, want: &str| assert_eq!(truncate(text, max), want);
        check("short", 10, "short");
        check("exactly10!", 10, "exactly10!");
        check("abcdefghijk", 4, "abcd... [truncated: 4 of 11 bytes kept]");
        // "é" is two bytes: a cut inside it backs off to before it.
        check("aé", 2, "a... [truncated: 1 of 3 bytes kept]");
    }

    #[test]
    fn a_spent_budget_refuses_until_the_window_renews() {
        let mut budget = WindowBudget::new(10);
        assert_eq!(budget.take(6), Allowance::Granted);
        assert_eq!(budget.take(5), Allowance::Refused { first: true });
        assert_eq!(
            budget.take(1),
            Allowance::Granted,
            "what is left is still granted"
        );
        assert_eq!(budget.take(4), Allowance::Refused { first: false });
        assert_eq!(budget.renew(), None, "the window has not passed");
        budget.started -= WINDOW;
        assert_eq!(budget.renew(), Some((2, 9)));
        assert_eq!(budget.take(10), Allowance::Granted);
    }

    #[test]
    fn the_log_counts_cuts_and_drops() {
        let log = StrategyLog::new(
            "s",
            OutputLimits {
                max_line_bytes: 8,
                bytes_per_minute: 100,
            },
        );
        assert_eq!(log.admit("fits", 4).as_deref(), Some("fits"));
        let long = "x".repeat(1000);
        let cut = log.admit(&long, 1000).map(Cow::into_owned);
        assert_eq!(
            cut.as_deref(),
            Some("xxxxxxxx... [truncated: 8 of 1000 bytes kept]")
        );
        let part = log.admit("yyy", 5000).map(Cow::into_owned);
        assert_eq!(
            part.as_deref(),
            Some("yyy... [truncated: 3 of 5000 bytes kept]")
        );
        for _ in 0..10 {
            log.admit("0123456", 7);
        }
        let stats = log.stats();
        assert_eq!(stats.truncated, 2);
        assert_eq!(stats.lines + stats.dropped, 13);
        assert!(stats.bytes <= 100, "{stats:?}");
        assert!(stats.dropped > 0, "{stats:?}");
    }
}
