//! How good a strategy's signals are: each signal's reference price (its instrument's
//! mark when it was emitted) and the mark again as each horizon passes (1 min, 5 min,
//! 1 h by default, `[signals] horizons_secs`), recorded as a
//! [`SignalOutcome`](crate::records::SignalOutcome) for the store, the API's
//! `/signals/stats` and the backtest report.
//!
//! A horizon has passed at the first market event at or after the signal's time plus
//! the horizon, whatever its instrument: the engine looks only when its clock moves
//! with market data, the same in a backtest (with or without market windows, since
//! every event reaches the market state in order) as live.

use crate::market::MarketState;
use crate::records::SignalOutcome;
use pennant_sdk::{InstrumentId, Side, Timestamp};
use std::collections::VecDeque;
use std::sync::Arc;

/// A signal waiting for one horizon.
#[derive(Debug, Clone)]
struct Pending {
    due: Timestamp,
    emitted: Timestamp,
    strategy: Arc<str>,
    instrument: InstrumentId,
    side: Side,
    reference: i64,
}

/// The signals waiting for their horizons, one queue per horizon: signals come in time
/// order, so each queue is in order of when it is due.
#[derive(Debug, Default)]
pub struct SignalHorizons {
    horizons: Vec<(u32, VecDeque<Pending>)>,
    /// The earliest due time of any queue (`Timestamp::MAX` when none waits).
    next_due: Timestamp,
}

/// Signals waiting at most, over all horizons: past it the oldest are dropped (a
/// strategy signalling thousands of times a second must not grow the host's memory).
const MAX_PENDING: usize = 100_000;

impl SignalHorizons {
    /// Tracks these horizons, in seconds.
    pub fn new(horizons_secs: &[u32]) -> SignalHorizons {
        SignalHorizons {
            horizons: horizons_secs
                .iter()
                .map(|&h| (h, VecDeque::new()))
                .collect(),
            next_due: Timestamp::MAX,
        }
    }

    /// A signal at `now`, its instrument's mark `reference` (raw).
    pub fn emitted(
        &mut self,
        now: Timestamp,
        strategy: &Arc<str>,
        instrument: InstrumentId,
        side: Side,
        reference: i64,
    ) {
        for (secs, queue) in &mut self.horizons {
            if queue.len() >= MAX_PENDING / 3 {
                queue.pop_front();
            }
            let due = now.saturating_add(i64::from(*secs) * 1_000_000_000);
            queue.push_back(Pending {
                due,
                emitted: now,
                strategy: strategy.clone(),
                instrument,
                side,
                reference,
            });
            self.next_due = self.next_due.min(due);
        }
    }

    /// Whether a horizon has passed by `now` (cheap: called on every market event).
    pub fn any_due(&self, now: Timestamp) -> bool {
        now >= self.next_due
    }

    /// The outcomes of every horizon passed by `now`, priced from `market`; `symbol`
    /// names an instrument.
    pub fn take_due<'a>(
        &mut self,
        now: Timestamp,
        market: &MarketState,
        symbol: impl Fn(InstrumentId) -> &'a str,
    ) -> Vec<SignalOutcome> {
        let mut out = Vec::new();
        let mut next = Timestamp::MAX;
        for (secs, queue) in &mut self.horizons {
            while queue.front().is_some_and(|p| p.due <= now) {
                let Some(p) = queue.pop_front() else { break };
                let Some(price) = market.mark(p.instrument) else {
                    continue;
                };
                out.push(SignalOutcome {
                    strategy: p.strategy.to_string(),
                    instrument: symbol(p.instrument).to_owned(),
                    side: p.side,
                    signal_ts: p.emitted,
                    horizon_secs: *secs,
                    reference: p.reference,
                    price: price.raw(),
                });
            }
            if let Some(front) = queue.front() {
                next = next.min(front.due);
            }
        }
        self.next_due = next;
        out
    }
}
