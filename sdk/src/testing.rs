//! A native test harness: drive a strategy with market events and inspect what it did,
//! without WebAssembly and without the daemon.
//!
//! The harness plays the host. It keeps the clock, the instruments, the strategy's
//! position and working orders, and records every order, cancel, log line and signal.
//! Orders pass the same venue filters as in the daemon ([`InstrumentInfo::check_order`]).
//!
//! Orders fill as the daemon's paper venue fills them: both run the fill model of
//! [`crate::matching`] (an order marketable on arrival takes the best opposite quote up
//! to the size shown; a resting order fills at its price, up to the size a quote shows
//! or a trade prints, in price then time priority; post-only orders that would cross and
//! market orders without a quote are rejected). Fees and latency are zero unless set
//! with [`TestHost::with_venue`] (the paper venue's `maker_fee_bps`, `taker_fee_bps` and
//! `latency_ms`); with latency, an order arrives when the clock passes its arrival time
//! (at the next event or [`Harness::advance_to`]).
//!
//! As in the daemon, order updates caused by a handler are delivered after it returns.
//!
//! ```
//! use pennant_sdk::prelude::*;
//! use pennant_sdk::testing::{Harness, px, qty};
//!
//! struct BuyOnce { instrument: InstrumentId, done: bool }
//!
//! impl Strategy for BuyOnce {
//!     fn init(host: &mut dyn Host, params: &Params) -> Result<Self, InitError> {
//!         let symbol: String = params.require("instrument")?;
//!         let info = host.lookup_instrument(&symbol).ok_or("unknown instrument")?;
//!         host.subscribe(info.id, Streams::QUOTES);
//!         Ok(BuyOnce { instrument: info.id, done: false })
//!     }
//!     fn on_quote(&mut self, host: &mut dyn Host, _quote: &Quote) {
//!         if !self.done {
//!             self.done = host
//!                 .submit_order(&OrderRequest::market(self.instrument, Side::Buy, qty("1")))
//!                 .is_ok();
//!         }
//!     }
//! }
//!
//! let mut h = Harness::<BuyOnce>::new().with_instrument("ETH-USDT", "0.01", "0.001");
//! h.init(&[("instrument", "ETH-USDT")]).unwrap();
//! h.quote("ETH-USDT", px("99"), qty("5"), px("101"), qty("5"));
//! assert_eq!(h.position("ETH-USDT").qty, qty("1"));
//! assert_eq!(h.position("ETH-USDT").avg_price, px("101"));
//! ```

use crate::fixed::{Amount, Price, Qty};
use crate::matching::{ExecutionReport, MatchingEngine, MatchingSettings};
use crate::params::{InitError, Params};
use crate::strategy::{Host, Strategy};
use crate::types::{
    Bar, InstrumentId, InstrumentInfo, Liquidity, LogLevel, OrderId, OrderRequest, OrderStatus,
    OrderUpdate, Position, Quote, RejectReason, Rejection, Side, Signal, Streams, Timestamp, Trade,
};
use std::collections::{BTreeMap, VecDeque};

/// Parses a price, panicking on a typo: for tests.
pub fn px(s: &str) -> Price {
    s.parse()
        .unwrap_or_else(|err| panic!("bad price {s:?}: {err}"))
}

/// Parses a quantity, panicking on a typo: for tests.
pub fn qty(s: &str) -> Qty {
    s.parse()
        .unwrap_or_else(|err| panic!("bad quantity {s:?}: {err}"))
}

/// Parses an amount, panicking on a typo: for tests.
pub fn amount(s: &str) -> Amount {
    s.parse()
        .unwrap_or_else(|err| panic!("bad amount {s:?}: {err}"))
}

/// An instrument with the given tick and lot sizes, a minimum quantity of one lot and no
/// minimum notional: for tests.
pub fn instrument(
    id: InstrumentId,
    symbol: &str,
    tick_size: &str,
    lot_size: &str,
) -> InstrumentInfo {
    InstrumentInfo {
        id,
        symbol: symbol.to_owned(),
        tick_size: px(tick_size),
        lot_size: qty(lot_size),
        min_qty: qty(lot_size),
        min_notional: Amount::ZERO,
    }
}

/// The harness's start time: 2024-01-01T00:00:00Z.
pub const START_TIME: Timestamp = 1_704_067_200_000_000_000;

/// An order as the harness saw it submitted, with the answer it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The request.
    pub order: OrderRequest,
    /// The order id, or why it was refused.
    pub result: Result<OrderId, Rejection>,
    /// When.
    pub ts: Timestamp,
}

/// An order the simulated venue has not finished with.
#[derive(Debug, Clone, Copy)]
struct WorkingOrder {
    request: OrderRequest,
    filled: Qty,
}

/// Everything the strategy did, and the simulated market it did it in.
#[derive(Debug, Default)]
pub struct TestHost {
    now: Timestamp,
    instruments: Vec<InstrumentInfo>,
    quotes: BTreeMap<InstrumentId, Quote>,
    last_trade: BTreeMap<InstrumentId, Price>,
    positions: BTreeMap<InstrumentId, Position>,
    working: BTreeMap<OrderId, WorkingOrder>,
    venue: MatchingEngine,
    executions: Vec<ExecutionReport>,
    next_order_id: OrderId,
    timers: Vec<(Timestamp, u64)>,
    pending_updates: VecDeque<OrderUpdate>,
    /// Every submission, in order.
    pub submissions: Vec<Submission>,
    /// Every cancel request, with its answer.
    pub cancels: Vec<(OrderId, Result<(), Rejection>)>,
    /// Every order update delivered to the strategy.
    pub updates: Vec<OrderUpdate>,
    /// Every log line.
    pub logs: Vec<(LogLevel, String)>,
    /// Every signal.
    pub signals: Vec<Signal>,
    /// Market data subscriptions.
    pub subscriptions: Vec<(InstrumentId, Streams)>,
    /// Bar subscriptions, `(instrument, interval_ms)`.
    pub bar_subscriptions: Vec<(InstrumentId, u32)>,
}

impl TestHost {
    /// A host with its clock at [`START_TIME`] and no instruments.
    pub fn new() -> Self {
        TestHost {
            now: START_TIME,
            ..TestHost::default()
        }
    }

    /// Adds an instrument with the given tick and lot sizes (the minimum quantity is one
    /// lot, there is no minimum notional); its handle is the next free one, from 1.
    pub fn with_instrument(mut self, symbol: &str, tick_size: &str, lot_size: &str) -> Self {
        let id = self.instruments.len() as InstrumentId + 1;
        self.instruments
            .push(instrument(id, symbol, tick_size, lot_size));
        self
    }

    /// Fees and latency of the simulated venue, as the paper venue's configuration
    /// gives them.
    pub fn with_venue(mut self, settings: MatchingSettings) -> Self {
        self.venue = MatchingEngine::new(settings);
        self
    }

    /// Sets the clock (never backwards); orders whose latency has passed arrive.
    pub fn set_now(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
        self.venue.on_clock(self.now, &mut self.executions);
        self.book();
    }

    fn info(&self, id: InstrumentId) -> Option<&InstrumentInfo> {
        self.instruments.iter().find(|i| i.id == id)
    }

    fn mark(&self, instrument: InstrumentId) -> Option<Price> {
        self.last_trade
            .get(&instrument)
            .copied()
            .or_else(|| self.quotes.get(&instrument).map(Quote::mid))
    }

    fn update(
        id: OrderId,
        order: &OrderRequest,
        status: OrderStatus,
        filled: Qty,
        ts: Timestamp,
    ) -> OrderUpdate {
        OrderUpdate {
            order_id: id,
            client_order_id: order.client_order_id,
            instrument: order.instrument,
            side: order.side,
            status,
            ts,
            fill_price: Price::ZERO,
            fill_qty: Qty::ZERO,
            fee: Amount::ZERO,
            liquidity: Liquidity::None,
            filled_qty: filled,
            leaves_qty: if status.is_final() {
                Qty::ZERO
            } else {
                order.qty - filled
            },
            reason: None,
        }
    }

    /// Turns what the simulated venue reported into positions and order updates, as the
    /// daemon books a venue's reports.
    fn book(&mut self) {
        for execution in std::mem::take(&mut self.executions) {
            let id = execution.order_id();
            let Some(working) = self.working.get_mut(&id) else {
                continue;
            };
            let order = working.request;
            let update = match execution {
                ExecutionReport::Accepted { ts, .. } => {
                    Self::update(id, &order, OrderStatus::Accepted, working.filled, ts)
                }
                ExecutionReport::Rejected { reason, ts, .. } => {
                    let mut update =
                        Self::update(id, &order, OrderStatus::Rejected, working.filled, ts);
                    update.reason = Some(reason);
                    update
                }
                ExecutionReport::Canceled { ts, .. } => {
                    Self::update(id, &order, OrderStatus::Canceled, working.filled, ts)
                }
                ExecutionReport::Fill {
                    price,
                    qty,
                    fee,
                    liquidity,
                    ts,
                    ..
                } => {
                    working.filled += qty;
                    let status = if working.filled >= order.qty {
                        OrderStatus::Filled
                    } else {
                        OrderStatus::PartiallyFilled
                    };
                    let position = self
                        .positions
                        .entry(order.instrument)
                        .or_insert_with(|| Position::flat(order.instrument));
                    // The harness runs in tests, where an overflow is a bug worth a loud
                    // failure.
                    position
                        .apply_fill(order.side, price, qty, fee)
                        .unwrap_or_else(|| panic!("position overflow filling order {id}"));
                    let mut update = Self::update(id, &order, status, working.filled, ts);
                    update.fill_price = price;
                    update.fill_qty = qty;
                    update.fee = fee;
                    update.liquidity = liquidity;
                    update
                }
                // Only an exchange answers so; the model never does.
                ExecutionReport::Unknown { .. } | ExecutionReport::CancelRejected { .. } => {
                    continue
                }
            };
            if update.status.is_final() {
                self.working.remove(&id);
            }
            self.pending_updates.push_back(update);
        }
    }

    /// A quote reaches the simulated venue (before the strategy sees it).
    fn on_quote(&mut self, quote: &Quote) {
        self.quotes.insert(quote.instrument, *quote);
        self.venue.on_quote(quote, &mut self.executions);
        self.book();
    }

    /// A trade reaches the simulated venue (before the strategy sees it).
    fn on_trade(&mut self, trade: &Trade) {
        self.last_trade.insert(trade.instrument, trade.price);
        self.venue.on_trade(trade, &mut self.executions);
        self.book();
    }
}

impl Host for TestHost {
    fn submit_order(&mut self, order: &OrderRequest) -> Result<OrderId, Rejection> {
        let result = match self.info(order.instrument) {
            None => Err(Rejection::new(
                RejectReason::UnknownInstrument,
                format!("no instrument with id {}", order.instrument),
            )),
            Some(info) => info.check_order(order).map(|()| {
                self.next_order_id += 1;
                self.next_order_id
            }),
        };
        self.submissions.push(Submission {
            order: *order,
            result: result.clone(),
            ts: self.now,
        });
        let id = result.clone()?;
        self.working.insert(
            id,
            WorkingOrder {
                request: *order,
                filled: Qty::ZERO,
            },
        );
        self.venue
            .submit(id, *order, self.now, &mut self.executions);
        self.book();
        result
    }

    fn cancel_order(&mut self, id: OrderId) -> Result<(), Rejection> {
        let result = if self.working.contains_key(&id)
            && self.venue.cancel(id, self.now, &mut self.executions)
        {
            self.book();
            Ok(())
        } else {
            Err(Rejection::new(
                RejectReason::UnknownOrder,
                format!("order {id} is not working"),
            ))
        };
        self.cancels.push((id, result.clone()));
        result
    }

    fn cancel_all(&mut self, instrument: Option<InstrumentId>) -> u32 {
        let ids: Vec<OrderId> = self
            .working
            .iter()
            .filter(|(_, w)| instrument.is_none_or(|i| w.request.instrument == i))
            .map(|(&id, _)| id)
            .collect();
        for id in &ids {
            // Every id was just read from `working`, so each cancel succeeds.
            let _ = self.cancel_order(*id);
        }
        ids.len() as u32
    }

    fn position(&mut self, instrument: InstrumentId) -> Position {
        let mut position = self
            .positions
            .get(&instrument)
            .copied()
            .unwrap_or_else(|| Position::flat(instrument));
        if let Some(mark) = self.mark(instrument) {
            position.mark(mark);
        }
        position
    }

    fn instrument(&mut self, id: InstrumentId) -> Option<InstrumentInfo> {
        self.info(id).cloned()
    }

    fn lookup_instrument(&mut self, symbol: &str) -> Option<InstrumentInfo> {
        self.instruments
            .iter()
            .find(|i| i.symbol == symbol)
            .cloned()
    }

    fn subscribe(&mut self, instrument: InstrumentId, streams: Streams) {
        self.subscriptions.push((instrument, streams));
    }

    fn subscribe_bars(&mut self, instrument: InstrumentId, interval_ms: u32) -> Result<(), String> {
        if interval_ms == 0 {
            return Err("bar interval must be positive".into());
        }
        self.bar_subscriptions.push((instrument, interval_ms));
        Ok(())
    }

    fn now(&mut self) -> Timestamp {
        self.now
    }

    fn set_timer(&mut self, at: Timestamp, token: u64) {
        self.timers.push((at, token));
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.logs.push((level, message.to_owned()));
    }

    fn emit_signal(&mut self, signal: &Signal) {
        self.signals.push(signal.clone());
    }
}

/// Drives one strategy of type `S` with events. See the module docs.
pub struct Harness<S: Strategy> {
    strategy: Option<S>,
    params: Params,
    /// What the strategy did; public so tests can inspect anything.
    pub host: TestHost,
}

impl<S: Strategy> Default for Harness<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Strategy> Harness<S> {
    /// A harness with no instruments, its clock at [`START_TIME`].
    pub fn new() -> Self {
        Harness {
            strategy: None,
            params: Params::default(),
            host: TestHost::new(),
        }
    }

    /// Adds an instrument; see [`TestHost::with_instrument`].
    pub fn with_instrument(mut self, symbol: &str, tick_size: &str, lot_size: &str) -> Self {
        self.host = self.host.with_instrument(symbol, tick_size, lot_size);
        self
    }

    /// Fees and latency of the simulated venue; see [`TestHost::with_venue`].
    pub fn with_venue(mut self, settings: MatchingSettings) -> Self {
        self.host = self.host.with_venue(settings);
        self
    }

    /// The handle of an instrument added with [`Self::with_instrument`].
    pub fn id(&self, symbol: &str) -> InstrumentId {
        self.host
            .instruments
            .iter()
            .find(|i| i.symbol == symbol)
            .map(|i| i.id)
            .unwrap_or_else(|| panic!("no instrument {symbol} in the harness"))
    }

    /// Initializes the strategy with parameters.
    pub fn init(&mut self, params: &[(&str, &str)]) -> Result<(), InitError> {
        self.params = Params::new(params.iter().copied());
        self.strategy = Some(S::init(&mut self.host, &self.params)?);
        self.deliver_updates();
        Ok(())
    }

    /// The strategy, for inspecting its fields.
    pub fn strategy(&self) -> &S {
        self.strategy
            .as_ref()
            .expect("the strategy is not initialized: call init first")
    }

    fn with_strategy(&mut self, f: impl FnOnce(&mut S, &mut TestHost)) {
        let strategy = self
            .strategy
            .as_mut()
            .expect("the strategy is not initialized: call init first");
        f(strategy, &mut self.host);
        self.deliver_updates();
    }

    /// Delivers queued order updates, and those they cause, until none are left.
    fn deliver_updates(&mut self) {
        while let Some(update) = self.host.pending_updates.pop_front() {
            self.host.updates.push(update);
            if let Some(strategy) = self.strategy.as_mut() {
                strategy.on_order_update(&mut self.host, &update);
            }
        }
    }

    /// The current clock.
    pub fn now(&self) -> Timestamp {
        self.host.now
    }

    /// Moves the clock forward to `ts`, firing due timers in time order.
    pub fn advance_to(&mut self, ts: Timestamp) {
        loop {
            self.host.timers.sort_by_key(|(at, _)| *at);
            match self.host.timers.first() {
                Some(&(at, token)) if at <= ts => {
                    self.host.timers.remove(0);
                    self.host.set_now(at);
                    self.deliver_updates();
                    self.with_strategy(|s, h| s.on_timer(h, token));
                }
                _ => break,
            }
        }
        self.host.set_now(ts);
        self.deliver_updates();
    }

    /// Moves the clock forward by `nanos`, firing due timers.
    pub fn advance_by(&mut self, nanos: i64) {
        self.advance_to(self.host.now + nanos);
    }

    /// A new best bid/ask: resting orders it reaches fill, then the strategy sees it.
    pub fn quote(&mut self, symbol: &str, bid: Price, bid_qty: Qty, ask: Price, ask_qty: Qty) {
        let instrument = self.id(symbol);
        let quote = Quote {
            instrument,
            ts: self.host.now,
            bid_price: bid,
            bid_qty,
            ask_price: ask,
            ask_qty,
        };
        self.host.on_quote(&quote);
        self.deliver_updates();
        self.with_strategy(|s, h| s.on_quote(h, &quote));
    }

    /// A trade: resting orders at or through its price fill, then the strategy sees it.
    pub fn trade(&mut self, symbol: &str, price: Price, size: Qty, aggressor: Side) {
        let instrument = self.id(symbol);
        let trade = Trade {
            instrument,
            ts: self.host.now,
            price,
            qty: size,
            aggressor,
        };
        self.host.on_trade(&trade);
        self.deliver_updates();
        self.with_strategy(|s, h| s.on_trade(h, &trade));
    }

    /// A closed bar with the given OHLC, ending now.
    pub fn bar(&mut self, symbol: &str, interval_ms: u32, ohlc: [Price; 4], volume: Qty) {
        let instrument = self.id(symbol);
        let end = self.host.now;
        let bar = Bar {
            instrument,
            start: end - i64::from(interval_ms) * crate::NANOS_PER_MILLI,
            end,
            open: ohlc[0],
            high: ohlc[1],
            low: ohlc[2],
            close: ohlc[3],
            volume,
            trades: 1,
        };
        self.host.last_trade.insert(instrument, ohlc[3]);
        self.with_strategy(|s, h| s.on_bar(h, &bar));
    }

    /// The strategy's position, marked at the last trade (else the mid).
    pub fn position(&mut self, symbol: &str) -> Position {
        let id = self.id(symbol);
        self.host.position(id)
    }

    /// Orders accepted by the host, in order.
    pub fn orders(&self) -> Vec<OrderRequest> {
        self.host
            .submissions
            .iter()
            .filter(|s| s.result.is_ok())
            .map(|s| s.order)
            .collect()
    }

    /// Orders working at the simulated venue (or on their way to it).
    pub fn working_orders(&self) -> Vec<(OrderId, OrderRequest)> {
        self.host
            .working
            .iter()
            .map(|(&id, w)| (id, w.request))
            .collect()
    }

    /// Simulates a hot reload: snapshots the strategy, builds a new instance with the same
    /// parameters and restores the snapshot into it. Working orders and positions stay.
    pub fn reload(&mut self) -> Result<(), InitError> {
        let state = self.strategy().snapshot();
        let mut fresh = S::init(&mut self.host, &self.params)?;
        fresh.restore(&mut self.host, &state)?;
        self.strategy = Some(fresh);
        self.deliver_updates();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TimeInForce;

    /// Places whatever the test tells it to, and remembers updates.
    struct Scripted {
        next: Vec<OrderRequest>,
        seen: Vec<OrderStatus>,
    }

    impl Strategy for Scripted {
        fn init(_host: &mut dyn Host, _params: &Params) -> Result<Self, InitError> {
            Ok(Scripted {
                next: Vec::new(),
                seen: Vec::new(),
            })
        }
        fn on_quote(&mut self, host: &mut dyn Host, _quote: &Quote) {
            for order in self.next.drain(..) {
                let _ = host.submit_order(&order);
            }
        }
        fn on_order_update(&mut self, _host: &mut dyn Host, update: &OrderUpdate) {
            self.seen.push(update.status);
        }
    }

    fn harness() -> Harness<Scripted> {
        let mut h = Harness::new().with_instrument("X", "0.5", "1");
        h.init(&[]).unwrap();
        h
    }

    #[test]
    fn resting_limit_fills_when_the_market_reaches_it() {
        let mut h = harness();
        let x = h.id("X");
        h.strategy.as_mut().unwrap().next =
            vec![OrderRequest::limit(x, Side::Buy, px("99"), qty("2"))];
        h.quote("X", px("99.5"), qty("1"), px("100"), qty("1"));
        assert_eq!(h.working_orders().len(), 1);
        // A trade at its price fills what it printed; the ask reaching it, the rest.
        h.trade("X", px("99"), qty("1"), Side::Sell);
        assert_eq!(h.position("X").qty, qty("1"));
        assert_eq!(h.working_orders().len(), 1);
        h.quote("X", px("98.5"), qty("1"), px("99"), qty("5"));
        assert!(h.working_orders().is_empty());
        assert_eq!(h.position("X").qty, qty("2"));
        assert_eq!(
            h.strategy().seen,
            vec![
                OrderStatus::Accepted,
                OrderStatus::PartiallyFilled,
                OrderStatus::Filled
            ]
        );
        let fills: Vec<_> = h
            .host
            .updates
            .iter()
            .filter(|u| u.fill_qty.is_positive())
            .map(|u| (u.fill_price, u.fill_qty, u.liquidity))
            .collect();
        assert_eq!(
            fills,
            [
                (px("99"), qty("1"), Liquidity::Maker),
                (px("99"), qty("1"), Liquidity::Maker)
            ]
        );
    }

    #[test]
    fn fees_and_latency_are_the_paper_venues() {
        let mut h = Harness::<Scripted>::new()
            .with_instrument("X", "0.5", "1")
            .with_venue(MatchingSettings {
                maker_fee_bps: amount("-1"),
                taker_fee_bps: amount("5"),
                latency: 10,
            });
        h.init(&[]).unwrap();
        let x = h.id("X");
        h.strategy.as_mut().unwrap().next = vec![OrderRequest::market(x, Side::Buy, qty("2"))];
        h.quote("X", px("99.5"), qty("5"), px("100"), qty("5"));
        // In flight: nothing happened yet.
        assert!(h.strategy().seen.is_empty());
        assert_eq!(h.working_orders().len(), 1);
        h.advance_by(10);
        assert_eq!(
            h.strategy().seen,
            vec![OrderStatus::Accepted, OrderStatus::Filled]
        );
        let p = h.position("X");
        assert_eq!((p.qty, p.avg_price), (qty("2"), px("100")));
        // 5 bps of 200.
        assert_eq!(p.fees, amount("0.1"));
    }

    #[test]
    fn filters_post_only_and_no_liquidity() {
        let mut h = harness();
        let x = h.id("X");
        // No quote yet: a market order has nothing to execute against.
        assert!(h
            .host
            .submit_order(&OrderRequest::market(x, Side::Buy, qty("1")))
            .is_ok());
        h.strategy.as_mut().unwrap().next = vec![
            OrderRequest::limit(x, Side::Buy, px("100.25"), qty("1")),
            OrderRequest::limit(x, Side::Buy, px("100"), qty("1"))
                .with_time_in_force(TimeInForce::PostOnly),
        ];
        h.quote("X", px("99.5"), qty("1"), px("100"), qty("1"));
        let results: Vec<_> = h
            .host
            .submissions
            .iter()
            .map(|s| s.result.as_ref().map_err(|r| r.reason).map(|_| ()))
            .collect();
        assert_eq!(results, vec![Ok(()), Err(RejectReason::TickSize), Ok(())]);
        let reasons: Vec<_> = h.host.updates.iter().filter_map(|u| u.reason).collect();
        assert_eq!(
            reasons,
            vec![RejectReason::NoLiquidity, RejectReason::PostOnlyWouldCross]
        );
    }

    #[test]
    fn timers_fire_in_order_as_the_clock_moves() {
        let mut h = harness();
        h.host.set_timer(START_TIME + 20, 2);
        h.host.set_timer(START_TIME + 10, 1);
        h.advance_by(15);
        assert_eq!(h.host.timers, vec![(START_TIME + 20, 2)]);
        assert_eq!(h.now(), START_TIME + 15);
    }
}
