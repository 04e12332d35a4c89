//! Pre-trade risk checks, trading states and the kill switch.
//!
//! Every order a strategy submits is checked here, synchronously, inside its
//! `submit-order` host call, before any venue sees it; the first failing control answers
//! with its stable reason code and a message with the values it compared. The controls,
//! in the order they run: trading state (halted, reduce-only), instrument and allow-list,
//! venue filters, duplicate client order id, order quantity, reference price, order
//! notional, price band, open orders, position (strategy and all strategies), gross
//! exposure (strategy and all strategies), order rate (strategy and all strategies),
//! self-trade, and daily loss, whose breach halts the strategy (or everything).
//!
//! Limits come from `[risk]` (see [`crate::config::RiskConfig`]); a limit left out is not
//! checked. They change at run time through [`RiskEngine::set_limits`], and every change
//! of a limit or a trading state is an [`AuditRecord`].

use crate::account::{Balances, Ledger, Orders, StrategyIdx};
use crate::config::{validate_limits, LimitScope, Limits, RiskConfig};
use crate::market::{Instruments, MarketState};
use crate::records::{Named, RiskKind};
use pennant_sdk::fixed::SCALE;
use pennant_sdk::{
    Amount, InstrumentId, OrderRequest, Price, Qty, RejectReason, Rejection, Timestamp,
    NANOS_PER_SECOND,
};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

mod checks;
mod daily_loss;

pub use daily_loss::DayBaselines;

pub use crate::records::TradingState;

/// What a limit change or a trading state applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every strategy together (`[risk.global]`), or the global trading state.
    Global,
    /// The defaults of every strategy and instrument (`[risk.defaults]`).
    Defaults,
    /// One strategy, by id.
    Strategy(String),
    /// One instrument, by symbol.
    Instrument(String),
}

impl Scope {
    /// Back from its [`Display`](fmt::Display) form (`global`, `strategy ID`, ...).
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "global" => Some(Scope::Global),
            "defaults" => Some(Scope::Defaults),
            _ => match text.split_once(' ') {
                Some(("strategy", id)) => Some(Scope::Strategy(id.to_owned())),
                Some(("instrument", symbol)) => Some(Scope::Instrument(symbol.to_owned())),
                _ => None,
            },
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("global"),
            Scope::Defaults => f.write_str("defaults"),
            Scope::Strategy(id) => write!(f, "strategy {id}"),
            Scope::Instrument(symbol) => write!(f, "instrument {symbol}"),
        }
    }
}

/// A change made to the risk settings: who, what, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Engine time.
    pub ts: Timestamp,
    /// Who: an operator's name, or `risk` for automatic actions (a daily loss breach).
    pub actor: String,
    /// What kind of change: limits, a state, the kill switch, the breaker, the store's
    /// hold.
    pub action: RiskKind,
    /// What it applied to.
    pub scope: String,
    /// The scope's trading state after a `state` or `kill_switch` change.
    pub state: Option<TradingState>,
    /// The change.
    pub detail: String,
    /// The scope's limits after a `limits` change (recorded so that a restart brings
    /// them back).
    pub limits: Option<Limits>,
}

/// Why a risk change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskError {
    /// No strategy or instrument by that name.
    #[error("unknown {0}")]
    UnknownScope(String),
    /// The change does not apply to that scope.
    #[error("{0}")]
    Invalid(String),
}

/// The limits in force for one strategy in one instrument, resolved once (and again after
/// a change) so that checking an order looks nothing up by name.
#[derive(Debug, Clone, Copy, Default)]
struct Resolved {
    allowed: bool,
    max_order_qty: Option<Qty>,
    max_order_notional: Option<Amount>,
    price_band_bps: Option<std::num::NonZeroU32>,
    max_position: Option<Qty>,
    max_gross_exposure: Option<Amount>,
    max_open_orders: Option<u32>,
    max_orders_per_window: Option<std::num::NonZeroU32>,
    max_daily_loss: Option<Amount>,
}

/// Rolling counts and baselines per strategy.
#[derive(Debug, Default)]
struct StrategyRisk {
    state: Option<TradingState>,
    messages: VecDeque<Timestamp>,
    /// Refused orders in the breaker's window (at most its limit plus one).
    rejections: VecDeque<Timestamp>,
    /// Net PnL at the start of the trading day.
    day_baseline: Option<Amount>,
}

/// The risk state of the engine: limits, trading states, rate windows, daily baselines.
#[derive(Debug)]
pub struct RiskEngine {
    config: RiskConfig,
    strategies: Vec<StrategyRisk>,
    strategy_ids: Vec<String>,
    global_state: TradingState,
    global_messages: VecDeque<Timestamp>,
    global_day_baseline: Option<Amount>,
    day_start: Option<Timestamp>,
    audit: Vec<AuditRecord>,
    /// Scopes whose kill switch is engaged (until an operator sets their state again).
    kill_switched: std::collections::BTreeSet<String>,
    resolved: FxHashMap<(StrategyIdx, InstrumentId), Resolved>,
    last_watch: Option<Timestamp>,
    /// Whether any daily loss limit is set (the watch has nothing to do otherwise).
    watches_loss: bool,
    /// Why trading is reduce-only for the store's sake (records not durable), if it is.
    store_hold: Option<String>,
}

/// The circuit breaker's window, in engine time.
const BREAKER_WINDOW: Timestamp = 60 * NANOS_PER_SECOND;

/// How often, in engine time, [`RiskEngine::watch`] looks at the daily loss.
pub const WATCH_INTERVAL: Timestamp = 100 * 1_000_000;

/// The engine state the checks read.
pub struct Books<'a> {
    /// Instruments.
    pub instruments: &'a Instruments,
    /// Market state, for reference and mark prices.
    pub market: &'a MarketState,
    /// Working orders.
    pub orders: &'a Orders,
    /// Positions.
    pub ledger: &'a Ledger,
    /// The balances at the venue of the order being checked, if it reports them.
    pub balances: Option<&'a Balances>,
}

/// `a x b / SCALE` in i128, for notionals.
fn notional(price: Price, qty: Qty) -> i128 {
    i128::from(price.raw()) * i128::from(qty.raw()) / i128::from(SCALE)
}

fn amount(value: i128) -> Amount {
    Amount::from_raw(value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

fn reject<T>(reason: RejectReason, message: String) -> Result<T, Rejection> {
    Err(Rejection::new(reason, message))
}

impl RiskEngine {
    /// A risk engine with the configured limits.
    pub fn new(config: RiskConfig) -> Self {
        let mut risk = RiskEngine {
            config,
            strategies: Vec::new(),
            strategy_ids: Vec::new(),
            global_state: TradingState::Active,
            global_messages: VecDeque::new(),
            global_day_baseline: None,
            day_start: None,
            audit: Vec::new(),
            kill_switched: Default::default(),
            resolved: FxHashMap::default(),
            last_watch: None,
            watches_loss: false,
            store_hold: None,
        };
        risk.refresh_flags();
        risk
    }

    fn refresh_flags(&mut self) {
        self.watches_loss = self.config.defaults.max_daily_loss.is_some()
            || self.config.global.max_daily_loss.is_some()
            || self
                .config
                .strategy
                .values()
                .any(|l| l.max_daily_loss.is_some());
    }

    /// Registers a strategy (in engine index order).
    pub fn add_strategy(&mut self, id: &str) {
        self.strategies.push(StrategyRisk::default());
        self.strategy_ids.push(id.to_owned());
    }

    /// The limit in force for `strategy` trading `symbol`: the strategy's override, else
    /// the instrument's, else the default. Without a symbol (limits on the strategy as a
    /// whole: daily loss, gross exposure, order rate) instruments have no say.
    fn limit<T: Clone>(
        &self,
        strategy: StrategyIdx,
        symbol: Option<&str>,
        field: impl Fn(&Limits) -> Option<T>,
    ) -> Option<T> {
        let id = self
            .strategy_ids
            .get(strategy)
            .map(String::as_str)
            .unwrap_or_default();
        self.config
            .strategy
            .get(id)
            .and_then(&field)
            .or_else(|| {
                symbol
                    .and_then(|s| self.config.instrument.get(s))
                    .and_then(&field)
            })
            .or_else(|| field(&self.config.defaults))
    }

    /// The limits in force for `strategy` in `instrument`, resolved on first use.
    fn resolve(
        &mut self,
        strategy: StrategyIdx,
        instrument: InstrumentId,
        instruments: &Instruments,
    ) -> Resolved {
        if let Some(resolved) = self.resolved.get(&(strategy, instrument)) {
            return *resolved;
        }
        let symbol = instruments.symbol(instrument).to_owned();
        let id = self.strategy_ids.get(strategy).cloned().unwrap_or_default();
        let allowed = self
            .config
            .strategy
            .get(&id)
            .and_then(|l| l.instruments.as_ref())
            .is_none_or(|list| list.contains(&symbol));
        let resolved = Resolved {
            allowed,
            max_order_qty: self.limit(strategy, Some(&symbol), |l| l.max_order_qty),
            max_order_notional: self.limit(strategy, Some(&symbol), |l| l.max_order_notional),
            price_band_bps: self.limit(strategy, Some(&symbol), |l| l.price_band_bps),
            max_position: self.limit(strategy, Some(&symbol), |l| l.max_position),
            max_gross_exposure: self.limit(strategy, None, |l| l.max_gross_exposure),
            max_open_orders: self.limit(strategy, Some(&symbol), |l| l.max_open_orders),
            max_orders_per_window: self.limit(strategy, None, |l| l.max_orders_per_window),
            max_daily_loss: self.limit(strategy, None, |l| l.max_daily_loss),
        };
        self.resolved.insert((strategy, instrument), resolved);
        resolved
    }

    /// The trading state of a strategy (the global state wins when stricter, and a store
    /// hold makes it at least REDUCING).
    pub fn state(&self, strategy: StrategyIdx) -> TradingState {
        let own = self
            .strategies
            .get(strategy)
            .and_then(|s| s.state)
            .unwrap_or(TradingState::Active);
        match (self.global_state, own) {
            (TradingState::Halted, _) | (_, TradingState::Halted) => TradingState::Halted,
            (TradingState::Reducing, _) | (_, TradingState::Reducing) => TradingState::Reducing,
            _ if self.store_hold.is_some() => TradingState::Reducing,
            _ => TradingState::Active,
        }
    }

    /// Holds trading at reduce-only while records are not durable (`Some(why)`), or
    /// lifts the hold (`None`); each change is audited (actor `store`). Operators' trading
    /// states are untouched: the hold only adds to them.
    pub fn set_store_hold(&mut self, hold: Option<String>, now: Timestamp) {
        if hold == self.store_hold {
            return;
        }
        let detail = match &hold {
            Some(why) => format!("trading is reduce-only until records are durable again: {why}"),
            None => "records are durable again: the store's reduce-only hold is lifted".to_owned(),
        };
        let action = if hold.is_some() {
            RiskKind::StoreHold
        } else {
            RiskKind::StoreRelease
        };
        self.store_hold = hold;
        self.record(now, "store", action, &Scope::Global, detail);
    }

    /// Why trading is held at reduce-only for the store, if it is.
    pub fn store_hold(&self) -> Option<&str> {
        self.store_hold.as_deref()
    }

    /// The global trading state.
    pub fn global_state(&self) -> TradingState {
        self.global_state
    }

    /// The configuration in force.
    pub fn config(&self) -> &RiskConfig {
        &self.config
    }

    /// The limits set on a scope (not resolved: what its table says).
    pub fn limits_of(&self, scope: &Scope) -> Limits {
        match scope {
            Scope::Global => self.config.global.clone(),
            Scope::Defaults => self.config.defaults.clone(),
            Scope::Strategy(id) => self.config.strategy.get(id).cloned().unwrap_or_default(),
            Scope::Instrument(symbol) => self
                .config
                .instrument
                .get(symbol)
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// The scopes (`global`, `strategy ID`) whose kill switch is engaged.
    pub fn kill_switched(&self) -> impl Iterator<Item = &str> {
        self.kill_switched.iter().map(String::as_str)
    }

    /// Audits a correction reconciliation with a venue made (`actor`: `venue NAME`).
    pub fn reconciled(&mut self, now: Timestamp, actor: &str, scope: &Scope, detail: String) {
        self.record(now, actor, RiskKind::Reconciled, scope, detail);
    }

    /// Every change made so far.
    pub fn audit(&self) -> &[AuditRecord] {
        &self.audit
    }

    fn record(
        &mut self,
        ts: Timestamp,
        actor: &str,
        action: RiskKind,
        scope: &Scope,
        detail: String,
    ) {
        log::info!(target: "audit", actor, action = action.name(), scope:% = scope; "{detail}");
        let state = match (action, scope) {
            (RiskKind::State | RiskKind::KillSwitch, Scope::Global) => Some(self.global_state),
            (RiskKind::State | RiskKind::KillSwitch, Scope::Strategy(id)) => self
                .strategy_index(id)
                .ok()
                .and_then(|idx| self.strategies[idx].state),
            _ => None,
        };
        self.audit.push(AuditRecord {
            ts,
            actor: actor.to_owned(),
            action,
            scope: scope.to_string(),
            state,
            detail,
            limits: None,
        });
    }

    fn strategy_index(&self, id: &str) -> Result<StrategyIdx, RiskError> {
        self.strategy_ids
            .iter()
            .position(|s| s == id)
            .ok_or_else(|| RiskError::UnknownScope(format!("strategy {id}")))
    }

    /// Sets a trading state; an audit record says who did it. Leaving `HALTED` is only
    /// ever done this way.
    pub fn set_state(
        &mut self,
        scope: &Scope,
        state: TradingState,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), RiskError> {
        self.apply_state(scope, state)?;
        self.kill_switched.remove(&scope.to_string());
        self.record(
            now,
            actor,
            RiskKind::State,
            scope,
            format!("trading state set to {}", state.name()),
        );
        Ok(())
    }

    /// Engages the kill switch for a scope: `HALTED`, recorded as such. The caller
    /// cancels the open orders in the scope (the engine's `kill_switch`).
    /// Returns the strategy whose orders to cancel, or `None` for all.
    pub fn kill_switch(
        &mut self,
        scope: &Scope,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<StrategyIdx>, RiskError> {
        self.apply_state(scope, TradingState::Halted)?;
        self.kill_switched.insert(scope.to_string());
        self.record(
            now,
            actor,
            RiskKind::KillSwitch,
            scope,
            "kill switch engaged: HALTED, open orders canceled".into(),
        );
        match scope {
            Scope::Strategy(id) => self.strategy_index(id).map(Some),
            _ => Ok(None),
        }
    }

    /// Puts back a trading state recovered after a restart (no audit record: nothing
    /// changed); `kill_switch` when the kill switch set it, which stays engaged.
    pub fn restore_state(
        &mut self,
        scope: &Scope,
        state: TradingState,
        kill_switch: bool,
    ) -> Result<(), RiskError> {
        self.apply_state(scope, state)?;
        if kill_switch {
            self.kill_switched.insert(scope.to_string());
        }
        Ok(())
    }

    /// Puts back limits changed at run time and recovered after a restart (no audit
    /// record: nothing changed).
    pub fn restore_limits(&mut self, scope: &Scope, limits: Limits) -> Result<(), RiskError> {
        let kind = match scope {
            Scope::Global => LimitScope::Global,
            Scope::Defaults => LimitScope::Defaults,
            Scope::Strategy(id) => {
                self.strategy_index(id)?;
                LimitScope::Strategy
            }
            Scope::Instrument(_) => LimitScope::Instrument,
        };
        validate_limits(kind, &limits).map_err(RiskError::Invalid)?;
        self.set_limits(scope, limits);
        Ok(())
    }

    fn set_limits(&mut self, scope: &Scope, limits: Limits) {
        match scope {
            Scope::Global => self.config.global = limits,
            Scope::Defaults => self.config.defaults = limits,
            Scope::Strategy(id) => {
                self.config.strategy.insert(id.clone(), limits);
            }
            Scope::Instrument(symbol) => {
                self.config.instrument.insert(symbol.clone(), limits);
            }
        }
        self.resolved.clear();
        self.refresh_flags();
    }

    fn apply_state(&mut self, scope: &Scope, state: TradingState) -> Result<(), RiskError> {
        match scope {
            Scope::Global => self.global_state = state,
            Scope::Strategy(id) => {
                let idx = self.strategy_index(id)?;
                self.strategies[idx].state = Some(state);
            }
            other => {
                return Err(RiskError::Invalid(format!(
                    "a trading state applies to a strategy or globally, not to {other}"
                )))
            }
        }
        Ok(())
    }

    /// Changes the limits of a scope at run time: `change` edits the limits in force
    /// (so that what it does not touch stays, an allow-list included); the result is
    /// checked like the configuration and recorded with who made the change.
    pub fn change_limits(
        &mut self,
        scope: &Scope,
        actor: &str,
        now: Timestamp,
        instruments: &Instruments,
        change: impl FnOnce(&mut Limits),
    ) -> Result<(), RiskError> {
        let (kind, current) = match scope {
            Scope::Global => (LimitScope::Global, self.config.global.clone()),
            Scope::Defaults => (LimitScope::Defaults, self.config.defaults.clone()),
            Scope::Strategy(id) => {
                self.strategy_index(id)?;
                (
                    LimitScope::Strategy,
                    self.config.strategy.get(id).cloned().unwrap_or_default(),
                )
            }
            Scope::Instrument(symbol) => {
                if instruments.by_symbol(symbol).is_none() {
                    return Err(RiskError::UnknownScope(format!("instrument {symbol}")));
                }
                (
                    LimitScope::Instrument,
                    self.config
                        .instrument
                        .get(symbol)
                        .cloned()
                        .unwrap_or_default(),
                )
            }
        };
        let mut limits = current.clone();
        change(&mut limits);
        validate_limits(kind, &limits).map_err(RiskError::Invalid)?;
        if let Some(unknown) = limits
            .instruments
            .iter()
            .flatten()
            .find(|s| instruments.by_symbol(s).is_none())
        {
            return Err(RiskError::UnknownScope(format!("instrument {unknown}")));
        }
        let detail = format!("limits changed from {current:?} to {limits:?}");
        self.set_limits(scope, limits.clone());
        self.record(now, actor, RiskKind::Limits, scope, detail);
        if let Some(record) = self.audit.last_mut() {
            record.limits = Some(limits);
        }
        Ok(())
    }

    /// Counts a cancel against the order rate windows (cancels are never refused).
    pub fn count_cancel(&mut self, strategy: StrategyIdx, now: Timestamp) {
        self.expire_messages(strategy, now);
        self.count_message(strategy, now);
    }

    /// Drops the messages that have left the rate windows by `now`.
    fn expire_messages(&mut self, strategy: StrategyIdx, now: Timestamp) {
        let window = i64::from(self.config.rate_window_ms.get()) * 1_000_000;
        let own = self.strategies.get_mut(strategy).map(|s| &mut s.messages);
        for messages in own.into_iter().chain([&mut self.global_messages]) {
            while messages.front().is_some_and(|&t| t <= now - window) {
                messages.pop_front();
            }
        }
    }

    /// Counts a message that goes to the venue: only those use the venue-facing rate.
    fn count_message(&mut self, strategy: StrategyIdx, now: Timestamp) {
        let own = self.strategies.get_mut(strategy).map(|s| &mut s.messages);
        for messages in own.into_iter().chain([&mut self.global_messages]) {
            messages.push_back(now);
        }
    }

    /// Counts an order refused (by a check or by the venue) against the circuit breaker;
    /// returns why the breaker trips, if it does (audited here; the engine quarantines
    /// the strategy). The window then starts afresh, for when the strategy is back.
    pub fn count_rejection(&mut self, strategy: StrategyIdx, now: Timestamp) -> Option<String> {
        let max = self.config.max_rejections_per_minute;
        let risk = self.strategies.get_mut(strategy)?;
        if max == 0 {
            return None;
        }
        let since = now.saturating_sub(BREAKER_WINDOW);
        while risk.rejections.front().is_some_and(|&t| t <= since) {
            risk.rejections.pop_front();
        }
        risk.rejections.push_back(now);
        if risk.rejections.len() <= max as usize {
            return None;
        }
        risk.rejections.clear();
        let message =
            format!("had more than {max} orders refused in a minute (max_rejections_per_minute)");
        let scope = Scope::Strategy(self.strategy_ids[strategy].clone());
        self.record(
            now,
            "risk",
            RiskKind::Breaker,
            &scope,
            format!("circuit breaker: {message}: quarantined"),
        );
        Some(message)
    }

    /// Checks an order of `strategy` at engine time `now`. A daily loss breach also halts
    /// the strategy (or, for the global limit, everything), with an audit record.
    pub fn check(
        &mut self,
        strategy: StrategyIdx,
        order: &OrderRequest,
        now: Timestamp,
        books: &Books,
    ) -> Result<Price, Rejection> {
        if strategy >= self.strategies.len() {
            return reject(RejectReason::TradingHalted, "unknown strategy".into());
        }
        self.roll_day(now, books);
        // Only orders that pass go to the venue and count against the rate: a refused
        // retry must not lock a strategy (or every strategy) out of its budget.
        self.expire_messages(strategy, now);
        // Unknown handles are refused below; caching limits for them would let a strategy
        // grow the cache without bound.
        let limits = match books.instruments.get(order.instrument) {
            Some(_) => self.resolve(strategy, order.instrument, books.instruments),
            None => Resolved::default(),
        };
        let result = self.run_checks(strategy, order, &limits, books);
        if result.is_ok() {
            self.count_message(strategy, now);
        }
        if let Err(rejection) = &result {
            if rejection.reason == RejectReason::MaxDailyLoss {
                let global = rejection.message.starts_with("all strategies");
                let scope = if global {
                    Scope::Global
                } else {
                    Scope::Strategy(self.strategy_ids[strategy].clone())
                };
                if global {
                    self.global_state = TradingState::Halted;
                } else {
                    self.strategies[strategy].state = Some(TradingState::Halted);
                }
                self.record(
                    now,
                    "risk",
                    RiskKind::State,
                    &scope,
                    format!("trading state set to HALTED: {}", rejection.message),
                );
            }
        }
        result
    }

    /// Per-strategy view for operators: state, messages in the current window, today's PnL.
    pub fn utilization(
        &self,
        strategy: StrategyIdx,
        now: Timestamp,
        books: &Books,
    ) -> Option<Utilization> {
        let s = self.strategies.get(strategy)?;
        let window = i64::from(self.config.rate_window_ms.get()) * 1_000_000;
        let baseline = s.day_baseline.map_or(0, |b| i128::from(b.raw()));
        Some(Utilization {
            state: self.state(strategy),
            messages_in_window: s.messages.iter().filter(|&&t| t > now - window).count(),
            daily_pnl: amount(Self::net_pnl(Some(strategy), books) - baseline),
            open_notional: amount(books.orders.open_notional(Some(strategy))),
        })
    }

    /// Ids of the registered strategies, by index.
    pub fn strategy_ids(&self) -> &[String] {
        &self.strategy_ids
    }

    /// The instruments' limit overrides, for views.
    pub fn instrument_limits(&self) -> &BTreeMap<String, Limits> {
        &self.config.instrument
    }
}

/// How much of its limits a strategy uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utilization {
    /// Trading state in force.
    pub state: TradingState,
    /// Submits and cancels in the current rate window.
    pub messages_in_window: usize,
    /// PnL since the start of the trading day.
    pub daily_pnl: Amount,
    /// Notional of working limit orders.
    pub open_notional: Amount,
}

/// Checks an order against the instrument registry and venue filters only: for tools
/// that have no engine state (and for the benchmarks' baseline).
pub fn check_order(instruments: &Instruments, order: &OrderRequest) -> Result<(), Rejection> {
    let info = instruments.get(order.instrument).ok_or_else(|| {
        Rejection::new(
            RejectReason::UnknownInstrument,
            format!("no instrument with handle {}", order.instrument),
        )
    })?;
    info.check_order(order)
}

#[cfg(test)]
mod tests;
