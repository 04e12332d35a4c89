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
use crate::matching::MatchingSettings;
use crate::params::{InitError, Params};
use crate::strategy::{Host, Strategy};
use crate::types::{
    Bar, BookFlags, BookLevel, InstrumentId, InstrumentInfo, OrderId, OrderRequest, Position,
    Quote, Side, Timestamp, Trade,
};

mod host;

pub use host::{Submission, TestHost};

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

    /// A level of the order book (`side` [`Side::Buy`] for a bid): the simulated venue's
    /// book changes and resting orders it reaches fill, then the strategy sees it.
    pub fn book(
        &mut self,
        symbol: &str,
        seq: u64,
        side: Side,
        price: Price,
        size: Qty,
        flags: BookFlags,
    ) {
        let level = BookLevel {
            instrument: self.id(symbol),
            ts: self.host.now,
            seq,
            side,
            price,
            qty: size,
            flags,
        };
        self.host.on_book(&level);
        self.deliver_updates();
        self.with_strategy(|s, h| s.on_book(h, &level));
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
mod tests;
