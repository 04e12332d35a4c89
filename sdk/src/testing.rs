//! A native test harness: drive a strategy with market events and inspect what it did,
//! without WebAssembly and without the daemon.
//!
//! The harness plays the host. It keeps the clock, the instruments, the strategy's
//! position and working orders, and records every order, cancel, log line and signal.
//! Orders pass the same venue filters as in the daemon ([`InstrumentInfo::check_order`]).
//!
//! Fill simulation is deliberately simple: an order that is marketable on arrival takes
//! the best opposite quote, up to the size shown there (a market order with no quote
//! fills in full at the last trade, or is rejected with `no_liquidity`); the rest of a
//! market or IOC order is canceled, the rest of a limit order rests. A resting limit
//! order fills in full at its limit price once a quote or trade reaches it. Post-only orders that would execute on arrival
//! are rejected. The daemon's paper venue models partial fills, fees and latency; use
//! it (through a replay file) for anything that depends on them.
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
use crate::params::{InitError, Params};
use crate::strategy::{Host, Strategy};
use crate::types::{
    Bar, InstrumentId, InstrumentInfo, Liquidity, LogLevel, OrderId, OrderKind, OrderRequest,
    OrderStatus, OrderUpdate, Position, Quote, RejectReason, Rejection, Side, Signal, Streams,
    TimeInForce, Timestamp, Trade,
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

#[derive(Debug, Clone, Copy)]
struct WorkingOrder {
    id: OrderId,
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

    /// Sets the clock (never backwards).
    pub fn set_now(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
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

    fn update(&self, id: OrderId, order: &OrderRequest, status: OrderStatus) -> OrderUpdate {
        OrderUpdate {
            order_id: id,
            client_order_id: order.client_order_id,
            instrument: order.instrument,
            side: order.side,
            status,
            ts: self.now,
            fill_price: Price::ZERO,
            fill_qty: Qty::ZERO,
            fee: Amount::ZERO,
            liquidity: Liquidity::None,
            filled_qty: Qty::ZERO,
            leaves_qty: if status.is_final() {
                Qty::ZERO
            } else {
                order.qty
            },
            reason: None,
        }
    }

    /// Fills `size` of an order that had `filled` before.
    fn fill(
        &mut self,
        id: OrderId,
        order: &OrderRequest,
        price: Price,
        size: Qty,
        filled: Qty,
        liquidity: Liquidity,
    ) {
        let position = self
            .positions
            .entry(order.instrument)
            .or_insert_with(|| Position::flat(order.instrument));
        // The harness runs in tests, where an overflow is a bug worth a loud failure.
        position
            .apply_fill(order.side, price, size, Amount::ZERO)
            .unwrap_or_else(|| panic!("position overflow filling order {id}"));
        let total = filled + size;
        let status = if total >= order.qty {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        let mut update = self.update(id, order, status);
        update.fill_price = price;
        update.fill_qty = size;
        update.filled_qty = total;
        update.leaves_qty = order.qty - total;
        update.liquidity = liquidity;
        self.pending_updates.push_back(update);
    }

    /// The price at which an order would execute on arrival, if it would, and the size
    /// available there.
    fn marketable(&self, order: &OrderRequest) -> Option<(Price, Qty)> {
        let quote = self.quotes.get(&order.instrument);
        let opposite = quote.map(|q| match order.side {
            Side::Buy => (q.ask_price, q.ask_qty),
            Side::Sell => (q.bid_price, q.bid_qty),
        });
        match order.kind {
            OrderKind::Market => opposite.or_else(|| {
                self.last_trade
                    .get(&order.instrument)
                    .map(|&p| (p, Qty::MAX))
            }),
            OrderKind::Limit => opposite.filter(|&(p, _)| match order.side {
                Side::Buy => p <= order.price,
                Side::Sell => p >= order.price,
            }),
        }
    }

    /// Fills resting orders that the market has reached.
    fn match_resting(&mut self, instrument: InstrumentId, best_bid: Price, best_ask: Price) {
        let reached: Vec<WorkingOrder> = self
            .working
            .values()
            .filter(|w| w.request.instrument == instrument)
            .filter(|w| match w.request.side {
                Side::Buy => best_ask <= w.request.price,
                Side::Sell => best_bid >= w.request.price,
            })
            .copied()
            .collect();
        for w in reached {
            self.working.remove(&w.id);
            let rest = w.request.qty - w.filled;
            self.fill(
                w.id,
                &w.request,
                w.request.price,
                rest,
                w.filled,
                Liquidity::Maker,
            );
        }
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
        match (self.marketable(order), order.kind, order.time_in_force) {
            (Some(_), OrderKind::Limit, TimeInForce::PostOnly) => {
                let mut update = self.update(id, order, OrderStatus::Rejected);
                update.reason = Some(RejectReason::PostOnlyWouldCross);
                self.pending_updates.push_back(update);
            }
            (Some((price, shown)), kind, time_in_force) => {
                self.pending_updates
                    .push_back(self.update(id, order, OrderStatus::Accepted));
                let size = order.qty.min(shown);
                self.fill(id, order, price, size, Qty::ZERO, Liquidity::Taker);
                if size < order.qty {
                    if kind == OrderKind::Market || time_in_force == TimeInForce::Ioc {
                        let mut update = self.update(id, order, OrderStatus::Canceled);
                        update.filled_qty = size;
                        self.pending_updates.push_back(update);
                    } else {
                        self.working.insert(
                            id,
                            WorkingOrder {
                                id,
                                request: *order,
                                filled: size,
                            },
                        );
                    }
                }
            }
            (None, OrderKind::Market, _) => {
                let mut update = self.update(id, order, OrderStatus::Rejected);
                update.reason = Some(RejectReason::NoLiquidity);
                self.pending_updates.push_back(update);
            }
            (None, OrderKind::Limit, TimeInForce::Ioc) => {
                self.pending_updates
                    .push_back(self.update(id, order, OrderStatus::Accepted));
                self.pending_updates
                    .push_back(self.update(id, order, OrderStatus::Canceled));
            }
            (None, OrderKind::Limit, _) => {
                self.pending_updates
                    .push_back(self.update(id, order, OrderStatus::Accepted));
                self.working.insert(
                    id,
                    WorkingOrder {
                        id,
                        request: *order,
                        filled: Qty::ZERO,
                    },
                );
            }
        }
        result
    }

    fn cancel_order(&mut self, id: OrderId) -> Result<(), Rejection> {
        let result = match self.working.remove(&id) {
            Some(w) => {
                self.pending_updates
                    .push_back(self.update(id, &w.request, OrderStatus::Canceled));
                Ok(())
            }
            None => Err(Rejection::new(
                RejectReason::UnknownOrder,
                format!("order {id} is not working"),
            )),
        };
        self.cancels.push((id, result.clone()));
        result
    }

    fn cancel_all(&mut self, instrument: Option<InstrumentId>) -> u32 {
        let ids: Vec<OrderId> = self
            .working
            .values()
            .filter(|w| instrument.is_none_or(|i| w.request.instrument == i))
            .map(|w| w.id)
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
                    self.host.now = self.host.now.max(at);
                    self.with_strategy(|s, h| s.on_timer(h, token));
                }
                _ => break,
            }
        }
        self.host.now = self.host.now.max(ts);
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
        self.host.quotes.insert(instrument, quote);
        self.host.match_resting(instrument, bid, ask);
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
        self.host.last_trade.insert(instrument, price);
        self.host.match_resting(instrument, price, price);
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

    /// Orders working at the simulated venue.
    pub fn working_orders(&self) -> Vec<(OrderId, OrderRequest)> {
        self.host
            .working
            .values()
            .map(|w| (w.id, w.request))
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
        h.trade("X", px("99"), qty("1"), Side::Sell);
        assert!(h.working_orders().is_empty());
        assert_eq!(h.position("X").qty, qty("2"));
        assert_eq!(
            h.strategy().seen,
            vec![OrderStatus::Accepted, OrderStatus::Filled]
        );
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
