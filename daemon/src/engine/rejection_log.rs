//! Refused orders, logged and recorded in aggregate: the first refusal of a kind (strategy,
//! risk or venue, reason) in a window is logged and recorded in full, the rest of that
//! window are counted, and one summary per kind closes the window. A strategy retrying a
//! refused order on every event costs a line and a row per window, not per attempt.
//!
//! Windows run on the engine clock, so a backtest records the same summaries each run.

use super::StrategyIdx;
use pennant_sdk::{RejectReason, Timestamp};
use rustc_hash::FxHashMap;

/// How long a window lasts, in engine time.
pub const WINDOW: Timestamp = 10 * 1_000_000_000;

/// Who refused an order: `risk` or `venue`.
pub type Source = &'static str;
/// Why.
pub type Reason = RejectReason;

/// Refusals of one kind in the window that ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The strategy.
    pub strategy: StrategyIdx,
    /// `risk` or `venue`.
    pub source: Source,
    /// Why.
    pub reason: Reason,
    /// Refusals after the first, which were not logged one by one.
    pub suppressed: u64,
    /// When the window began.
    pub since: Timestamp,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    since: Timestamp,
    suppressed: u64,
}

/// What to do with a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Noted {
    /// Log and record it in full; first log the summary of the window that ended.
    Full {
        /// The window of this kind that had ended, if it suppressed anything.
        closed: Option<Summary>,
    },
    /// Counted in the window's summary.
    Counted,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct RejectionLog {
    windows: FxHashMap<(StrategyIdx, Source, Reason), Window>,
}

impl RejectionLog {
    /// Notes a refusal at `now`. [`Noted::Full`] when it is the first of its kind in a
    /// window, to be logged and recorded in full (with the summary of the window of that
    /// kind that had ended, if it suppressed anything).
    pub fn note(
        &mut self,
        now: Timestamp,
        strategy: StrategyIdx,
        source: Source,
        reason: Reason,
    ) -> Noted {
        let fresh = Window {
            since: now,
            suppressed: 0,
        };
        match self.windows.get_mut(&(strategy, source, reason)) {
            Some(window) if now < window.since.saturating_add(WINDOW) => {
                window.suppressed += 1;
                Noted::Counted
            }
            Some(window) => {
                let ended = std::mem::replace(window, fresh);
                Noted::Full {
                    closed: (ended.suppressed > 0).then_some(Summary {
                        strategy,
                        source,
                        reason,
                        suppressed: ended.suppressed,
                        since: ended.since,
                    }),
                }
            }
            None => {
                self.windows.insert((strategy, source, reason), fresh);
                Noted::Full { closed: None }
            }
        }
    }

    /// When the next window ends, if one is open.
    pub fn next_end(&self) -> Option<Timestamp> {
        self.windows
            .values()
            .map(|window| window.since.saturating_add(WINDOW))
            .min()
    }

    /// Closes the windows that have ended by `now`; returns those that suppressed
    /// something, in a stable order.
    pub fn ended(&mut self, now: Timestamp) -> Vec<Summary> {
        if self.windows.is_empty() {
            return Vec::new();
        }
        let mut summaries = Vec::new();
        self.windows.retain(|&(strategy, source, reason), window| {
            if now < window.since.saturating_add(WINDOW) {
                return true;
            }
            if window.suppressed > 0 {
                summaries.push(Summary {
                    strategy,
                    source,
                    reason,
                    suppressed: window.suppressed,
                    since: window.since,
                });
            }
            false
        });
        summaries.sort_by_key(|s| (s.strategy, s.source, s.reason.code()));
        summaries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_of_a_kind_is_logged_and_the_rest_summarised() {
        let full = Noted::Full { closed: None };
        let mut log = RejectionLog::default();
        assert_eq!(log.note(0, 0, "risk", RejectReason::RateLimit), full);
        assert_eq!(
            log.note(1, 0, "risk", RejectReason::RateLimit),
            Noted::Counted
        );
        assert_eq!(
            log.note(2, 0, "risk", RejectReason::RateLimit),
            Noted::Counted
        );
        assert_eq!(
            log.note(2, 1, "risk", RejectReason::RateLimit),
            full,
            "another strategy"
        );
        assert_eq!(
            log.note(3, 0, "venue", RejectReason::PostOnlyWouldCross),
            full,
            "another source"
        );
        assert_eq!(log.ended(WINDOW - 1), vec![]);
        let summary = Summary {
            strategy: 0,
            source: "risk",
            reason: RejectReason::RateLimit,
            suppressed: 2,
            since: 0,
        };
        assert_eq!(log.ended(WINDOW), vec![summary.clone()]);
        // Windows that suppressed nothing end quietly; a new window opens afresh.
        assert_eq!(log.ended(WINDOW + 3), vec![]);
        assert_eq!(
            log.note(WINDOW + 4, 0, "risk", RejectReason::RateLimit),
            full
        );
        // A refusal after a window ended, before `ended` ran, closes it itself.
        assert_eq!(
            log.note(WINDOW + 5, 0, "risk", RejectReason::RateLimit),
            Noted::Counted
        );
        assert_eq!(
            log.note(2 * WINDOW + 4, 0, "risk", RejectReason::RateLimit),
            Noted::Full {
                closed: Some(Summary {
                    suppressed: 1,
                    since: WINDOW + 4,
                    ..summary
                })
            }
        );
    }
}
