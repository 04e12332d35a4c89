//! The two traits of the plugin contract: what a strategy implements ([`Strategy`]) and what
//! the host offers it ([`Host`]).

use crate::book::BookTop;
use crate::params::{InitError, Params};
use crate::types::{
    Bar, BookLevel, InstrumentId, InstrumentInfo, LogLevel, OrderId, OrderRequest, OrderUpdate,
    Position, Quote, Rejection, Signal, Streams, Timestamp, Trade,
};

/// A trading strategy. Implement it, then export it with [`crate::export_strategy!`].
///
/// Handlers run one at a time on the daemon's engine thread and must return quickly: each
/// call has a time budget, and a strategy that exceeds it, traps or runs out of memory is
/// quarantined. Order updates for orders placed in a handler arrive after it returns.
pub trait Strategy: Sized + 'static {
    /// Builds the strategy from its parameters. Resolve instruments with
    /// [`Host::lookup_instrument`] and subscribe to market data here.
    fn init(host: &mut dyn Host, params: &Params) -> Result<Self, InitError>;

    /// A trade on a subscribed instrument.
    fn on_trade(&mut self, host: &mut dyn Host, trade: &Trade) {
        let _ = (host, trade);
    }

    /// A new best bid/ask on a subscribed instrument.
    fn on_quote(&mut self, host: &mut dyn Host, quote: &Quote) {
        let _ = (host, quote);
    }

    /// A level of the order book of an instrument subscribed with [`Streams::book`]
    /// changed. Levels come in the venue's messages: a snapshot starts with
    /// [`crate::BookFlags::RESET`], the last level of each message has
    /// [`crate::BookFlags::LAST`]; keep a [`crate::book::OrderBook`] to follow the
    /// book, and act on it at the end of a message, when it is consistent.
    fn on_book(&mut self, host: &mut dyn Host, level: &BookLevel) {
        let _ = (host, level);
    }

    /// A closed bar of a subscribed interval.
    fn on_bar(&mut self, host: &mut dyn Host, bar: &Bar) {
        let _ = (host, bar);
    }

    /// A change in one of this strategy's orders: accepted, rejected, filled, canceled.
    fn on_order_update(&mut self, host: &mut dyn Host, update: &OrderUpdate) {
        let _ = (host, update);
    }

    /// A timer set with [`Host::set_timer`] fired.
    fn on_timer(&mut self, host: &mut dyn Host, token: u64) {
        let _ = (host, token);
    }

    /// The state to carry over a hot reload or a restart. The default keeps nothing.
    /// [`crate::state::encode`] serializes any serde type. A new version must be able to
    /// read what the previous one wrote: add fields with defaults rather than changing
    /// the meaning of old ones.
    fn snapshot(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Takes over the state of a previous instance, after [`Strategy::init`]. An error
    /// keeps the previous version running.
    ///
    /// What carries over a reload: this state, and everything the daemon keeps for the
    /// strategy id (its open orders, whose updates and fills now come to the new instance,
    /// its positions and PnL). What does not: subscriptions and timers, which are the
    /// ones `init` and `restore` set, as after any start; set a timer again here if the
    /// state says one was pending.
    fn restore(&mut self, host: &mut dyn Host, state: &[u8]) -> Result<(), InitError> {
        let _ = (host, state);
        Ok(())
    }
}

/// What the host offers a strategy. In a WebAssembly component these are calls into the
/// daemon; in [`crate::testing`] they are recorded.
pub trait Host {
    /// Submits an order. Risk checks run inside the call: the answer is the order id or
    /// the rejection with its reason.
    fn submit_order(&mut self, order: &OrderRequest) -> Result<OrderId, Rejection>;
    /// Asks to cancel a working order; a `canceled` order update confirms it.
    fn cancel_order(&mut self, id: OrderId) -> Result<(), Rejection>;
    /// Cancels every working order, or those of one instrument; returns how many.
    fn cancel_all(&mut self, instrument: Option<InstrumentId>) -> u32;
    /// The strategy's position in an instrument.
    fn position(&mut self, instrument: InstrumentId) -> Position;
    /// Instrument details by handle.
    fn instrument(&mut self, id: InstrumentId) -> Option<InstrumentInfo>;
    /// Resolves a symbol such as `BTC-USDT`.
    fn lookup_instrument(&mut self, symbol: &str) -> Option<InstrumentInfo>;
    /// The best `depth` levels of each side of an instrument's order book; `None` when
    /// its feed sends no depth or the book is out of sync (before a snapshot).
    fn book_top(&mut self, instrument: InstrumentId, depth: usize) -> Option<BookTop>;
    /// Receives trades, quotes and/or book levels of an instrument.
    fn subscribe(&mut self, instrument: InstrumentId, streams: Streams);
    /// Receives bars of `interval_ms` aggregated from the instrument's trades.
    fn subscribe_bars(&mut self, instrument: InstrumentId, interval_ms: u32) -> Result<(), String>;
    /// The engine clock (event time in a backtest).
    fn now(&mut self) -> Timestamp;
    /// Calls [`Strategy::on_timer`] with `token` once the engine clock reaches `at`.
    fn set_timer(&mut self, at: Timestamp, token: u64);
    /// Writes to the daemon's log, tagged with the strategy's id.
    fn log(&mut self, level: LogLevel, message: &str);
    /// Publishes an advisory signal.
    fn emit_signal(&mut self, signal: &Signal);
}
