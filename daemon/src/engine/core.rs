//! The engine's state apart from the strategies themselves, and the host API strategies
//! call into it.
//!
//! During a strategy call the [`Core`] is lent to that strategy inside a
//! [`StrategyCtx`], which implements [`pennant_sdk::Host`]: risk checks, order
//! submission to the venue, position queries and the rest run right there, synchronously,
//! on the engine thread. Nothing is shared, so nothing is locked.

use super::budget::{HostLimits, StrategyBudget};
use super::clock::Clock;
use super::journal::Journal;
use super::rejection_log::{self, Noted, RejectionLog, Summary};
use super::timers::Timers;
use super::StrategyIdx;
use crate::account::Ledger;
use crate::account::{Balances, OrderRecord, Orders};
use crate::market::bars::BarAggregator;
use crate::market::{Instruments, MarketState};
use crate::plugin::strategy_log::{truncate, Allowance};
use crate::records::{self, Body, OrderState, RiskKind};
use crate::risk::{Books, RiskEngine};
use crate::venue::{ExecutionReport, Venue, VenueOrder};
use pennant_sdk::batch::BatchHost;
use pennant_sdk::book::BookTop;
use pennant_sdk::{
    Host, InstrumentId, InstrumentInfo, LogLevel, OrderId, OrderRequest, OrderStatus, OrderUpdate,
    Position, Qty, RejectReason, Rejection, Signal, Streams, Timestamp,
};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

/// Counters per strategy, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StrategyStats {
    /// Orders accepted by risk and sent to the venue.
    pub orders: u64,
    /// Orders refused by risk checks.
    pub risk_rejects: u64,
    /// Orders refused by the venue.
    pub venue_rejects: u64,
    /// Fills.
    pub fills: u64,
    /// Signals emitted.
    pub signals: u64,
    /// Events delivered (market data, bars, timers, order updates).
    pub events: u64,
    /// Calls that delivered market events: fewer than the market events delivered where
    /// market windows hand many to one call.
    pub market_calls: u64,
    /// Orders completely filled.
    pub filled: u64,
    /// Orders canceled (by the strategy, an operator, a stop or the kill switch).
    pub canceled: u64,
}

/// Counters by reason and by instrument, for the metrics: bounded by the reason codes
/// and the configured instruments, never by orders.
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    /// Rejected orders by (strategy, instrument, `risk` or `venue`, reason code).
    pub rejects: FxHashMap<(StrategyIdx, InstrumentId, &'static str, &'static str), u64>,
    /// Fills and traded notional (raw [`pennant_sdk::Amount`]) by (strategy, instrument).
    pub traded: FxHashMap<(StrategyIdx, InstrumentId), (u64, i128)>,
}

/// Who wants which market data.
#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    /// Trade subscribers per instrument.
    pub trades: FxHashMap<InstrumentId, Vec<StrategyIdx>>,
    /// Quote subscribers per instrument.
    pub quotes: FxHashMap<InstrumentId, Vec<StrategyIdx>>,
    /// Book level subscribers per instrument.
    pub book: FxHashMap<InstrumentId, Vec<StrategyIdx>>,
    /// Bar aggregators, each with its subscribers.
    pub bars: Vec<(BarAggregator, Vec<StrategyIdx>)>,
}

impl Subscriptions {
    /// Drops every subscription of a strategy.
    pub fn remove(&mut self, strategy: StrategyIdx) {
        for list in self
            .trades
            .values_mut()
            .chain(self.quotes.values_mut())
            .chain(self.book.values_mut())
        {
            list.retain(|&s| s != strategy);
        }
        for (_, list) in &mut self.bars {
            list.retain(|&s| s != strategy);
        }
    }
}

/// Everything the engine owns except the strategy instances.
pub struct Core {
    /// Pre-trade checks, trading states, limits.
    pub risk: RiskEngine,
    /// The engine clock.
    pub clock: Clock,
    /// Tradable instruments.
    pub instruments: Arc<Instruments>,
    /// Latest quote and trade per instrument.
    pub market: MarketState,
    /// Working orders.
    pub orders: Orders,
    /// Positions and PnL.
    pub ledger: Ledger,
    /// Where orders go, by index ([`Core::venue_of`] routes an instrument to one).
    pub venues: Vec<Box<dyn Venue>>,
    /// Each venue's balances, by venue index (unknown for a venue that does not report
    /// them).
    pub balances: Vec<Balances>,
    /// The venues banned (HTTP 418), with when the ban ends (wall ns).
    pub bans: rustc_hash::FxHashMap<usize, Timestamp>,
    /// The venue of each instrument, by instrument handle - 1.
    routes: Vec<usize>,
    /// Pending strategy timers.
    pub timers: Timers,
    /// Market data subscriptions.
    pub subscriptions: Subscriptions,
    /// Order updates waiting to be delivered, in order.
    pub updates: VecDeque<(StrategyIdx, OrderUpdate)>,
    /// Strategy ids, by index, for logs.
    pub strategy_ids: Vec<Arc<str>>,
    /// Counters, by strategy index.
    pub stats: Vec<StrategyStats>,
    /// Counters by reason and instrument.
    pub tallies: Tallies,
    /// What happened, for the store.
    pub journal: Journal,
    /// Refused orders, logged and recorded in aggregate.
    pub rejections: RejectionLog,
    /// The per-strategy caps on what the host keeps and does for a strategy.
    pub host_limits: HostLimits,
    /// Each strategy's budgets, by strategy index.
    pub budgets: Vec<StrategyBudget>,
    /// The ids orders carry at venues.
    pub client_ids: crate::venue::ClientOrderIds,
    /// A digest of orders and updates, when a session is recorded or replayed.
    pub outcome: Option<super::outcome::OutcomeDigest>,
    /// Scratch buffer for venue reports.
    reports: Vec<ExecutionReport>,
    /// The market window being handled, and what venues were shown ahead.
    pub window: super::window::MarketWindow,
    /// Signals waiting for their horizons.
    pub signals: super::signal_horizons::SignalHorizons,
}

impl Core {
    /// A core with no strategies.
    pub fn new(
        clock: Clock,
        instruments: Arc<Instruments>,
        venue: Box<dyn Venue>,
        risk: RiskEngine,
    ) -> Self {
        Core {
            risk,
            clock,
            instruments,
            market: MarketState::default(),
            orders: Orders::default(),
            ledger: Ledger::default(),
            venues: vec![venue],
            balances: vec![Balances::default()],
            bans: rustc_hash::FxHashMap::default(),
            routes: Vec::new(),
            timers: Timers::default(),
            subscriptions: Subscriptions::default(),
            updates: VecDeque::new(),
            strategy_ids: Vec::new(),
            stats: Vec::new(),
            tallies: Tallies::default(),
            journal: Journal::default(),
            rejections: RejectionLog::default(),
            host_limits: HostLimits::default(),
            budgets: Vec::new(),
            client_ids: crate::venue::ClientOrderIds::default(),
            outcome: None,
            reports: Vec::new(),
            window: Default::default(),
            signals: Default::default(),
        }
    }

    /// Records the outcome of every signal horizon the clock has passed; called after
    /// each market event reaches the market state.
    pub fn mature_signals(&mut self) {
        let now = self.clock.now();
        if !self.signals.any_due(now) {
            return;
        }
        let instruments = &self.instruments;
        let outcomes = self
            .signals
            .take_due(now, &self.market, |id| instruments.symbol(id));
        for outcome in outcomes {
            self.journal.record(now, Body::SignalOutcome(outcome));
        }
    }

    /// Frees what a working order that ended unfilled (its leaves) had reserved of its
    /// venue's balances.
    fn release(&mut self, order: &OrderRecord) {
        let leaves = OrderRequest {
            qty: order.leaves(),
            ..order.request
        };
        let venue = self.venue_of(order.request.instrument);
        let Some(balances) = self.balances.get_mut(venue).filter(|b| b.known()) else {
            return;
        };
        let needs = self
            .instruments
            .get(order.request.instrument)
            .and_then(|info| crate::account::balances::needs(info, &leaves, order.valued_at));
        if let Some((asset, amount)) = needs {
            balances.release(asset, amount);
        }
    }

    /// Sets the per-strategy caps; strategies registered from then on get them.
    pub fn set_host_limits(&mut self, limits: HostLimits) {
        self.host_limits = limits;
    }

    /// Registers a strategy id; returns its index.
    pub fn add_strategy(&mut self, id: &str) -> StrategyIdx {
        self.risk.add_strategy(id);
        self.strategy_ids.push(Arc::from(id));
        self.stats.push(StrategyStats::default());
        self.budgets
            .push(StrategyBudget::new(id, &self.host_limits));
        self.strategy_ids.len() - 1
    }

    /// Trades on several venues: `routes[i]` is the index in `venues` of the venue of
    /// instrument handle `i + 1` (instruments past the list go to the first venue).
    pub fn set_venues(&mut self, venues: Vec<Box<dyn Venue>>, routes: Vec<usize>) {
        if venues.is_empty() {
            return;
        }
        let last = venues.len() - 1;
        self.routes = routes.into_iter().map(|v| v.min(last)).collect();
        self.balances = vec![Balances::default(); venues.len()];
        self.venues = venues;
    }

    /// The venue an instrument trades on.
    pub fn venue_of(&self, instrument: InstrumentId) -> usize {
        (instrument as usize)
            .checked_sub(1)
            .and_then(|i| self.routes.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// The name of the venue an instrument trades on.
    pub fn venue_name(&self, instrument: InstrumentId) -> &str {
        self.venues
            .get(self.venue_of(instrument))
            .map_or("", |v| v.name())
    }

    /// Lets venue `venue` act on the clock or an event, then books its reports.
    pub fn with_venue(
        &mut self,
        venue: usize,
        f: impl FnOnce(&mut dyn Venue, &mut Vec<ExecutionReport>),
    ) {
        let Some(target) = self.venues.get_mut(venue) else {
            return;
        };
        let mut reports = std::mem::take(&mut self.reports);
        f(target.as_mut(), &mut reports);
        for report in reports.drain(..) {
            self.book(&report);
        }
        self.reports = reports;
    }

    /// Lets every venue act on the clock.
    pub fn venues_on_clock(&mut self, now: Timestamp) {
        for venue in 0..self.venues.len() {
            self.with_venue(venue, |v, out| v.on_clock(now, out));
        }
    }

    /// Books reports that arrived later, as an input (from an exchange adapter).
    pub fn book_reports(&mut self, reports: &[ExecutionReport]) {
        for report in reports {
            self.book(report);
        }
    }

    /// Books one venue report: the order book, the ledger, and an update to deliver.
    /// A report that is not a change the strategy hears of (no answer yet, a refused
    /// cancel) only marks the order.
    fn book(&mut self, report: &ExecutionReport) {
        match *report {
            ExecutionReport::Unknown { id, ts } => {
                if self.orders.mark_unknown(id) {
                    log::warn!(order_id = id; "no answer from the venue: the order's status is unknown until the venue reports it");
                    // Recorded, so that a restart keeps it open for reconciliation.
                    if let Some(order) = self
                        .journal
                        .enabled()
                        .then(|| self.orders.get(id).copied())
                        .flatten()
                    {
                        let mut event = self.order_event(&order, order.status, order.filled, None);
                        event.status = OrderState::Unknown;
                        self.journal.record(ts, Body::Order(event));
                    }
                }
                return;
            }
            ExecutionReport::CancelRejected { id, .. } => {
                if self.orders.cancel_refused(id) {
                    log::info!(order_id = id; "the venue refused the cancel: the order is no longer pending cancel");
                }
                return;
            }
            _ => {}
        }
        let before = self
            .journal
            .enabled()
            .then(|| self.orders.get(report.order_id()).copied())
            .flatten();
        // What a refused or canceled order reserved of the venue's balances is free again
        // (a refusal moves no balance at the venue, so no account update would say so).
        let ending = matches!(
            report,
            ExecutionReport::Rejected { .. } | ExecutionReport::Canceled { .. }
        )
        .then(|| self.orders.get(report.order_id()).copied())
        .flatten();
        let Some((strategy, update, fill)) = self.orders.apply(report) else {
            log::debug!(order_id = report.order_id(); "report for an order no longer working");
            return;
        };
        if let Some(order) = ending {
            self.release(&order);
        }
        if let Some(order) = before {
            let status = Some(update.status);
            let reason = update.reason.map(|r| r.code().to_owned());
            let mut event = self.order_event(&order, status, update.filled_qty, reason);
            // A cancel still unanswered stays recorded, so that a restart asks again.
            if order.cancel_pending && !update.status.is_final() {
                event.status = OrderState::PendingCancel;
            }
            self.journal.record(update.ts, Body::Order(event));
        }
        let id = &self.strategy_ids[strategy];
        let symbol = self.instruments.symbol(update.instrument);
        let mut booked = None;
        match update.status {
            OrderStatus::Filled => self.stats[strategy].filled += 1,
            OrderStatus::Canceled => self.stats[strategy].canceled += 1,
            _ => {}
        }
        if let Some(fill) = fill {
            self.stats[strategy].fills += 1;
            let traded = self
                .tallies
                .traded
                .entry((strategy, fill.request.instrument))
                .or_default();
            traded.0 += 1;
            traded.1 += fill
                .price
                .checked_notional(fill.qty)
                .map_or(0, |n| i128::from(n.raw()));
            let realized_before = self
                .ledger
                .get(strategy, fill.request.instrument)
                .map_or(pennant_sdk::Amount::ZERO, |p| p.realized_pnl);
            if let Err(err) = self.ledger.apply_fill(
                strategy,
                fill.request.instrument,
                fill.request.side,
                fill.price,
                fill.qty,
                fill.fee,
            ) {
                log::error!(strategy:% = id, instrument = symbol, order_id = update.order_id; "{err}");
            }
            booked = Some((fill, realized_before));
            log::debug!(
                strategy:% = id, instrument = symbol, order_id = update.order_id, side:% = update.side,
                price:% = fill.price, qty:% = fill.qty, fee:% = fill.fee;
                "fill"
            );
        }
        if let Some(reason) = update.reason {
            let message = format!("order {} refused by the venue", update.order_id);
            self.refused(
                strategy,
                "venue",
                reason,
                update.instrument,
                update.ts,
                &message,
            );
        }
        if let (Some((fill, realized_before)), true) = (booked, self.journal.enabled()) {
            self.record_fill(
                strategy,
                &update,
                fill.price,
                fill.qty,
                fill.fee,
                realized_before,
            );
        }
        if let Some(outcome) = &mut self.outcome {
            outcome.update(strategy, &update);
        }
        self.updates.push_back((strategy, update));
    }

    /// Counts, logs and records an order refused by `source` (`risk` or `venue`), in
    /// aggregate ([`RejectionLog`]), and counts it against the circuit breaker.
    fn refused(
        &mut self,
        strategy: StrategyIdx,
        source: &'static str,
        reason: RejectReason,
        instrument: InstrumentId,
        now: Timestamp,
        message: &str,
    ) {
        let stats = &mut self.stats[strategy];
        match source {
            "risk" => stats.risk_rejects += 1,
            _ => stats.venue_rejects += 1,
        }
        *self
            .tallies
            .rejects
            .entry((strategy, instrument, source, reason.code()))
            .or_default() += 1;
        if let Noted::Full { closed } = self.rejections.note(now, strategy, source, reason) {
            if let Some(summary) = closed {
                self.summarise(&summary, now);
            }
            let id = &self.strategy_ids[strategy];
            let symbol = self.instruments.symbol(instrument);
            log::info!(
                strategy:% = id, instrument = symbol, source, reason:% = reason;
                "order rejected: {message} (further rejections like it in the next {} s are counted, not logged)",
                rejection_log::WINDOW / 1_000_000_000
            );
            // A venue's refusal is recorded as the order's state already.
            if source == "risk" && self.journal.enabled() {
                self.journal.record(
                    now,
                    Body::Risk(records::RiskEvent {
                        strategy: Some(id.to_string()),
                        kind: RiskKind::Rejection,
                        reason: Some(reason),
                        actor: None,
                        scope: Some(symbol.to_owned()),
                        state: None,
                        detail: message.to_owned(),
                    }),
                );
            }
        }
        // Refusals an operator's (or the store's) trading state causes are not the
        // strategy's fault: a halted strategy that keeps trying is not quarantined.
        let imposed = matches!(
            reason,
            RejectReason::TradingHalted | RejectReason::ReduceOnly
        );
        if !imposed {
            if let Some(message) = self.risk.count_rejection(strategy, now) {
                self.budgets[strategy].breach("rejections", message);
            }
        }
    }

    /// Logs and records the refusals a window counted without logging them one by one.
    fn summarise(&mut self, summary: &Summary, now: Timestamp) {
        let id = &self.strategy_ids[summary.strategy];
        let seconds = (now - summary.since) / 1_000_000_000;
        let detail = format!(
            "{} more orders refused by {} ({}) in {seconds} s",
            summary.suppressed, summary.source, summary.reason
        );
        log::info!(strategy:% = id, source = summary.source, reason = summary.reason.code(), count = summary.suppressed; "{detail}");
        if summary.source == "risk" && self.journal.enabled() {
            self.journal.record(
                now,
                Body::Risk(records::RiskEvent {
                    strategy: Some(id.to_string()),
                    kind: RiskKind::Rejections,
                    reason: Some(summary.reason),
                    actor: None,
                    scope: None,
                    state: None,
                    detail,
                }),
            );
        }
    }

    /// Summarises the refusal windows that have ended by `now`.
    pub fn close_rejection_windows(&mut self, now: Timestamp) {
        for summary in self.rejections.ended(now) {
            self.summarise(&summary, now);
        }
    }

    /// An order as the store records it.
    pub fn order_event(
        &self,
        order: &OrderRecord,
        status: Option<OrderStatus>,
        filled: Qty,
        reason: Option<String>,
    ) -> records::OrderEvent {
        let request = &order.request;
        records::OrderEvent {
            strategy: self.strategy_ids[order.strategy].to_string(),
            order_id: order.id,
            client_order_id: request.client_order_id,
            instrument: self.instruments.symbol(request.instrument).to_owned(),
            venue: self.venue_name(request.instrument).to_owned(),
            venue_client_id: self.client_ids.of(order.id).to_string(),
            side: request.side,
            kind: request.kind,
            time_in_force: request.time_in_force,
            price: request.price.raw(),
            qty: request.qty.raw(),
            status: OrderState::of(status),
            filled_qty: filled.raw(),
            reason,
        }
    }

    /// Records a fill and the position it leaves.
    fn record_fill(
        &mut self,
        strategy: StrategyIdx,
        update: &OrderUpdate,
        price: pennant_sdk::Price,
        qty: Qty,
        fee: pennant_sdk::Amount,
        realized_before: pennant_sdk::Amount,
    ) {
        let id = self.strategy_ids[strategy].to_string();
        let symbol = self.instruments.symbol(update.instrument).to_owned();
        let position = self
            .ledger
            .get(strategy, update.instrument)
            .copied()
            .unwrap_or_else(|| Position::flat(update.instrument));
        self.journal.record(
            update.ts,
            Body::Fill(records::FillEvent {
                strategy: id.clone(),
                order_id: update.order_id,
                instrument: symbol.clone(),
                venue: self.venue_name(update.instrument).to_owned(),
                side: update.side,
                price: price.raw(),
                qty: qty.raw(),
                fee: fee.raw(),
                liquidity: update.liquidity,
                realized_pnl: (position.realized_pnl - realized_before).raw(),
            }),
        );
        self.journal.record(
            update.ts,
            Body::Position(records::PositionSnapshot {
                strategy: id,
                instrument: symbol,
                qty: position.qty.raw(),
                avg_price: position.avg_price.raw(),
                realized_pnl: position.realized_pnl.raw(),
                fees: position.fees.raw(),
            }),
        );
    }

    /// Cancels every working order of a strategy (or of all strategies with `None`).
    pub fn cancel_all_of(&mut self, strategy: Option<StrategyIdx>) -> usize {
        let ids: Vec<OrderId> = match strategy {
            Some(s) => self.orders.open_ids(s),
            None => self.orders.all_open().iter().map(|o| o.id).collect(),
        };
        self.cancel(&ids);
        ids.len()
    }

    /// Asks the venue to cancel these orders. Each request is recorded first (status
    /// `pending_cancel`), so that a cancel asked for just before a crash is asked for
    /// again after the restart rather than forgotten.
    /// A cancel already pending is not sent again.
    pub fn cancel(&mut self, ids: &[OrderId]) {
        let now = self.clock.now();
        for &id in ids {
            let Some(order) = self.orders.get(id).copied() else {
                continue;
            };
            if !self.orders.mark_cancel_pending(id) {
                continue;
            }
            if self.journal.enabled() {
                let mut event = self.order_event(&order, order.status, order.filled, None);
                event.status = OrderState::PendingCancel;
                self.journal.record(now, Body::Order(event));
            }
            let venue = self.venue_of(order.request.instrument);
            self.with_venue(venue, |v, out| v.cancel(id, now, out));
        }
    }

    /// A strategy's position, marked to market.
    pub fn position(&self, strategy: StrategyIdx, instrument: InstrumentId) -> Position {
        self.ledger.position(strategy, instrument, &self.market)
    }
}

/// The host context of one strategy call: the core, lent to strategy `strategy`.
pub struct StrategyCtx {
    /// The engine state.
    pub core: Box<Core>,
    /// Who is calling.
    pub strategy: StrategyIdx,
}

impl StrategyCtx {
    fn id(&self) -> &str {
        &self.core.strategy_ids[self.strategy]
    }

    fn known(&self, instrument: InstrumentId, what: &str) -> bool {
        let known = self.core.instruments.get(instrument).is_some();
        if !known {
            log::warn!(strategy = self.id(), instrument; "{what} for an unknown instrument handle ignored");
        }
        known
    }
}

/// Market windows move the market state to the event a strategy handles
/// ([`Core::seek`]).
impl BatchHost for StrategyCtx {
    fn seek(&mut self, index: u32) {
        self.core.seek(self.strategy, index);
    }

    fn batch_positions(
        &mut self,
        count: usize,
        positions: &mut Vec<Position>,
        marks: &mut Vec<Option<pennant_sdk::Price>>,
    ) -> bool {
        self.core
            .window_positions(self.strategy, count, positions, marks)
    }
}

impl Host for StrategyCtx {
    fn submit_order(&mut self, order: &OrderRequest) -> Result<OrderId, Rejection> {
        let core = &mut *self.core;
        let now = core.clock.now();
        let venue = core.venue_of(order.instrument);
        let books = Books {
            instruments: &core.instruments,
            market: &core.market,
            orders: &core.orders,
            ledger: &core.ledger,
            // Only a venue that reported its balances is checked against them.
            balances: core.balances.get(venue).filter(|b| b.known()),
        };
        let valued_at = match core.risk.check(self.strategy, order, now, &books) {
            Ok(price) => price,
            Err(rejection) => {
                core.refused(
                    self.strategy,
                    "risk",
                    rejection.reason,
                    order.instrument,
                    now,
                    &rejection.message,
                );
                return Err(rejection);
            }
        };
        let id = core.orders.open(self.strategy, *order, now, valued_at);
        core.stats[self.strategy].orders += 1;
        if let Some(outcome) = &mut core.outcome {
            outcome.order(self.strategy, id, order);
        }
        if core.journal.enabled() {
            if let Some(opened) = core.orders.get(id).copied() {
                let event = core.order_event(&opened, None, Qty::ZERO, None);
                core.journal.record(now, Body::Order(event));
            }
        }
        log::debug!(
            strategy:% = core.strategy_ids[self.strategy], instrument = core.instruments.symbol(order.instrument),
            order_id = id, client_id:% = core.client_ids.of(id), side:% = order.side, qty:% = order.qty, price:% = order.price;
            "order submitted"
        );
        let venue_order = VenueOrder {
            id,
            client_id: core.client_ids.of(id),
            request: *order,
        };
        // What the order will lock at the venue is not free to the next one.
        if let Some(balances) = core.balances.get_mut(venue).filter(|b| b.known()) {
            let needs = core
                .instruments
                .get(order.instrument)
                .and_then(|info| crate::account::balances::needs(info, order, valued_at));
            if let Some((asset, amount)) = needs {
                balances.reserve(asset, amount);
            }
        }
        core.with_venue(venue, |v, out| v.submit(venue_order, now, out));
        Ok(id)
    }

    fn cancel_order(&mut self, id: OrderId) -> Result<(), Rejection> {
        match self.core.orders.get(id) {
            Some(order) if order.strategy == self.strategy => {
                let now = self.core.clock.now();
                self.core.risk.count_cancel(self.strategy, now);
                self.core.cancel(&[id]);
                Ok(())
            }
            _ => Err(Rejection::new(
                RejectReason::UnknownOrder,
                format!("order {id} is not a working order of this strategy"),
            )),
        }
    }

    fn cancel_all(&mut self, instrument: Option<InstrumentId>) -> u32 {
        let ids: Vec<OrderId> = self
            .core
            .orders
            .open_ids(self.strategy)
            .into_iter()
            .filter(|&id| {
                instrument.is_none_or(|i| {
                    self.core
                        .orders
                        .get(id)
                        .is_some_and(|o| o.request.instrument == i)
                })
            })
            .collect();
        let now = self.core.clock.now();
        for _ in &ids {
            self.core.risk.count_cancel(self.strategy, now);
        }
        self.core.cancel(&ids);
        ids.len() as u32
    }

    fn position(&mut self, instrument: InstrumentId) -> Position {
        self.core.position(self.strategy, instrument)
    }

    fn instrument(&mut self, id: InstrumentId) -> Option<InstrumentInfo> {
        self.core.instruments.get(id).cloned()
    }

    fn lookup_instrument(&mut self, symbol: &str) -> Option<InstrumentInfo> {
        self.core.instruments.by_symbol(symbol).cloned()
    }

    fn book_top(&mut self, instrument: InstrumentId, depth: usize) -> Option<BookTop> {
        self.core.market.book(instrument)?.top(instrument, depth)
    }

    fn subscribe(&mut self, instrument: InstrumentId, streams: Streams) {
        if !self.known(instrument, "subscription") {
            return;
        }
        let strategy = self.strategy;
        let subs = &mut self.core.subscriptions;
        for (wanted, map) in [
            (streams.trades, &mut subs.trades),
            (streams.quotes, &mut subs.quotes),
            (streams.book, &mut subs.book),
        ] {
            let list = map.entry(instrument).or_default();
            if wanted && !list.contains(&strategy) {
                list.push(strategy);
            }
        }
    }

    fn subscribe_bars(&mut self, instrument: InstrumentId, interval_ms: u32) -> Result<(), String> {
        if self.core.instruments.get(instrument).is_none() {
            return Err(format!("no instrument with handle {instrument}"));
        }
        if interval_ms == 0 {
            return Err("the bar interval must be positive".into());
        }
        let strategy = self.strategy;
        let max = self.core.host_limits.max_bar_subscriptions;
        let bars = &mut self.core.subscriptions.bars;
        let mine = bars.iter().filter(|(_, s)| s.contains(&strategy)).count();
        let known = bars.iter().any(|(agg, s)| {
            agg.instrument() == instrument
                && agg.interval_ms() == interval_ms
                && s.contains(&strategy)
        });
        if !known && mine >= max {
            return Err(format!(
                "this strategy has {mine} bar subscriptions, the most it may have (max_bar_subscriptions)"
            ));
        }
        match bars
            .iter_mut()
            .find(|(agg, _)| agg.instrument() == instrument && agg.interval_ms() == interval_ms)
        {
            Some((_, subscribers)) if !subscribers.contains(&strategy) => {
                subscribers.push(strategy)
            }
            Some(_) => {}
            None => bars.push((BarAggregator::new(instrument, interval_ms), vec![strategy])),
        }
        Ok(())
    }

    fn now(&mut self) -> Timestamp {
        self.core.clock.now()
    }

    fn set_timer(&mut self, at: Timestamp, token: u64) {
        let max = self.core.host_limits.max_timers;
        if self.core.timers.pending(self.strategy) >= max {
            // Contract 0.1's set-timer cannot say no: the timer is not set, and the
            // strategy is quarantined when its call returns.
            self.core.budgets[self.strategy].breach(
                "timers",
                format!("set more than {max} pending timers (max_timers)"),
            );
            return;
        }
        self.core.timers.set(at, self.strategy, token);
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        let level = match level {
            LogLevel::Trace => log::Level::Trace,
            LogLevel::Debug => log::Level::Debug,
            LogLevel::Info => log::Level::Info,
            LogLevel::Warn => log::Level::Warn,
            LogLevel::Error => log::Level::Error,
        };
        self.core.budgets[self.strategy].log.log(level, message);
    }

    fn emit_signal(&mut self, signal: &Signal) {
        let budget = &mut self.core.budgets[self.strategy];
        if let Some((dropped, _)) = budget.signals.renew() {
            log::warn!(strategy = self.id(), dropped_signals = dropped; "{dropped} signals past the signal budget were dropped in the last minute");
        }
        let budget = &mut self.core.budgets[self.strategy];
        if let Allowance::Refused { first } = budget.signals.take(1) {
            budget.stats.signals_dropped += 1;
            if first {
                let per_minute = budget.signals.per_window();
                log::warn!(strategy = self.id(), signals_per_minute = per_minute; "signal budget of {per_minute} per minute is spent: signals are dropped until the minute ends");
            }
            return;
        }
        let note = truncate(&signal.note, self.core.host_limits.max_signal_note_bytes);
        if matches!(note, Cow::Owned(_)) {
            self.core.budgets[self.strategy].stats.notes_truncated += 1;
        }
        self.core.stats[self.strategy].signals += 1;
        if self.core.journal.enabled() {
            let now = self.core.clock.now();
            if let Some(mark) = self.core.market.mark(signal.instrument) {
                let strategy = self.core.strategy_ids[self.strategy].clone();
                self.core.signals.emitted(
                    now,
                    &strategy,
                    signal.instrument,
                    signal.side,
                    mark.raw(),
                );
            }
            let event = records::SignalEvent {
                strategy: self.id().to_owned(),
                instrument: self.core.instruments.symbol(signal.instrument).to_owned(),
                side: signal.side,
                // A strength that is not a number would fail the store's NOT NULL.
                strength: if signal.strength.is_finite() {
                    signal.strength.clamp(0.0, 1.0)
                } else {
                    0.0
                },
                target: signal.target.map(|p| p.raw()),
                stop: signal.stop.map(|p| p.raw()),
                note: note.to_string(),
            };
            self.core.journal.record(now, Body::Signal(event));
        }
        let target = signal.target.map(|p| p.to_string()).unwrap_or_default();
        let stop = signal.stop.map(|p| p.to_string()).unwrap_or_default();
        log::info!(
            strategy = self.id(), instrument = self.core.instruments.symbol(signal.instrument), side:% = signal.side,
            strength = signal.strength, target, stop;
            "signal: {note}"
        );
    }
}
