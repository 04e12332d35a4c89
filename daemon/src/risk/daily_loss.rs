//! The trading day and the daily loss: each strategy's (and all strategies') net PnL when
//! the day began, on the engine clock; a breach halts, between orders too (`watch`).

use super::{amount, Books, RiskEngine, RiskKind, Scope, TradingState, WATCH_INTERVAL};
use crate::account::StrategyIdx;
use pennant_sdk::{Amount, Position, Timestamp, NANOS_PER_SECOND};

/// A day, in nanoseconds.
const DAY: i64 = 24 * 3600 * NANOS_PER_SECOND;

/// The PnL of each strategy, and of all together, when the trading day began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayBaselines {
    /// When the day began.
    pub day_start: Timestamp,
    /// Per strategy id.
    pub strategies: Vec<(String, Amount)>,
    /// All strategies together.
    pub global: Option<Amount>,
}

impl RiskEngine {
    /// Net PnL of one strategy, or of all, marked to market.
    pub(super) fn net_pnl(strategy: Option<StrategyIdx>, books: &Books) -> i128 {
        let pnl = |p: &Position| {
            let mut p = *p;
            if let Some(mark) = books.market.mark(p.instrument) {
                let _ = p.mark(mark);
            }
            i128::from(p.realized_pnl.raw()) + i128::from(p.unrealized_pnl.raw())
                - i128::from(p.fees.raw())
        };
        match strategy {
            Some(s) => books.ledger.of(s).map(pnl).sum(),
            None => books.ledger.all().map(|(_, p)| pnl(p)).sum(),
        }
    }

    /// When the trading day in force began, if one has.
    pub fn day_start(&self) -> Option<Timestamp> {
        self.day_start
    }

    /// The trading day in force and the PnL each strategy (and all together) had at its
    /// start: what recovery puts back, so that a restart does not reset today's loss.
    pub fn day_baselines(&self) -> Option<DayBaselines> {
        let day_start = self.day_start?;
        let strategies = self
            .strategies
            .iter()
            .zip(&self.strategy_ids)
            .filter_map(|(s, id)| s.day_baseline.map(|b| (id.clone(), b)))
            .collect();
        Some(DayBaselines {
            day_start,
            strategies,
            global: self.global_day_baseline,
        })
    }

    /// Puts back the day's baselines recovered after a restart; if the clock has moved
    /// to another day by the next check, a new day starts as usual.
    pub fn restore_day(
        &mut self,
        day_start: Timestamp,
        strategies: &[(String, Amount)],
        global: Option<Amount>,
    ) {
        self.day_start = Some(day_start);
        for (id, baseline) in strategies {
            if let Ok(idx) = self.strategy_index(id) {
                self.strategies[idx].day_baseline = Some(*baseline);
            }
        }
        self.global_day_baseline = global;
    }

    /// Starts a new trading day when the clock has passed the day start: the daily loss
    /// counts from here.
    pub(super) fn roll_day(&mut self, now: Timestamp, books: &Books) {
        let offset = i64::from(self.config.day_start_hour_utc) * 3600 * NANOS_PER_SECOND;
        let today = now - (now - offset).rem_euclid(DAY);
        if self.day_start == Some(today) {
            return;
        }
        self.day_start = Some(today);
        for idx in 0..self.strategies.len() {
            self.strategies[idx].day_baseline = Some(amount(Self::net_pnl(Some(idx), books)));
        }
        self.global_day_baseline = Some(amount(Self::net_pnl(None, books)));
    }

    /// When [`Self::watch`] next has something to do: `None` if it never does (no daily
    /// loss limit), the start of time before its first watch.
    pub fn next_watch(&self) -> Option<Timestamp> {
        self.watches_loss.then(|| {
            self.last_watch
                .map_or(Timestamp::MIN, |t| t + WATCH_INTERVAL)
        })
    }

    /// Watches the daily loss between orders, on the engine clock (at most every
    /// [`WATCH_INTERVAL`] of engine time): a breach halts the strategy, or everything,
    /// even if it sends no more orders. Also starts the trading day on time.
    pub fn watch(&mut self, now: Timestamp, books: &Books) {
        if !self.watches_loss || self.last_watch.is_some_and(|t| now < t + WATCH_INTERVAL) {
            return;
        }
        self.last_watch = Some(now);
        self.roll_day(now, books);
        for idx in 0..self.strategies.len() {
            let Some(max) = self.limit(idx, None, |l| l.max_daily_loss) else {
                continue;
            };
            let baseline = self.strategies[idx]
                .day_baseline
                .map_or(0, |b| i128::from(b.raw()));
            let today = Self::net_pnl(Some(idx), books) - baseline;
            if today < -i128::from(max.raw())
                && self.strategies[idx].state != Some(TradingState::Halted)
            {
                self.strategies[idx].state = Some(TradingState::Halted);
                let scope = Scope::Strategy(self.strategy_ids[idx].clone());
                let detail = format!(
                    "trading state set to HALTED: today's PnL {} < -max_daily_loss {max}",
                    amount(today)
                );
                self.record(now, "risk", RiskKind::State, &scope, detail);
            }
        }
        if let Some(max) = self.config.global.max_daily_loss {
            let baseline = self.global_day_baseline.map_or(0, |b| i128::from(b.raw()));
            let today = Self::net_pnl(None, books) - baseline;
            if today < -i128::from(max.raw()) && self.global_state != TradingState::Halted {
                self.global_state = TradingState::Halted;
                let detail = format!("trading state set to HALTED: all strategies' PnL today {} < -max_daily_loss {max}", amount(today));
                self.record(now, "risk", RiskKind::State, &Scope::Global, detail);
            }
        }
    }
}
