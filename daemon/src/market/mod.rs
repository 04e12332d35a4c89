//! Market data: the one normalized event type every feed produces, the instrument
//! registry, the latest top of book per instrument, bar aggregation, the replay format's
//! parser and the synthetic walk. Plain data, below the engine: the feed tasks that
//! send these events to the engine live above it (`feed`, a module above the engine). A future exchange
//! feed (or a message bus) produces the same events, so nothing downstream knows where
//! data came from.

pub mod bars;
pub mod instruments;
pub mod replay;
pub mod synthetic;

use pennant_sdk::{InstrumentId, Price, Quote, Timestamp, Trade};
use rustc_hash::FxHashMap;

pub use instruments::Instruments;

/// A normalized market data event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketEvent {
    /// A trade printed on the venue.
    Trade(Trade),
    /// A new best bid/ask.
    Quote(Quote),
}

impl MarketEvent {
    /// When the event happened (exchange time for live data, recorded time in a replay).
    pub fn ts(&self) -> Timestamp {
        match self {
            MarketEvent::Trade(t) => t.ts,
            MarketEvent::Quote(q) => q.ts,
        }
    }

    /// Which instrument.
    pub fn instrument(&self) -> InstrumentId {
        match self {
            MarketEvent::Trade(t) => t.instrument,
            MarketEvent::Quote(q) => q.instrument,
        }
    }
}

/// The latest quote and trade of one instrument.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TopOfBook {
    /// The latest best bid/ask.
    pub quote: Option<Quote>,
    /// The latest trade price.
    pub last_trade: Option<Price>,
}

impl TopOfBook {
    /// The price positions are marked at: the last trade, else the mid.
    pub fn mark(&self) -> Option<Price> {
        self.last_trade.or_else(|| self.quote.map(|q| q.mid()))
    }
}

/// The latest top of book of every instrument that has had data.
#[derive(Debug, Default)]
pub struct MarketState {
    tops: FxHashMap<InstrumentId, TopOfBook>,
}

impl MarketState {
    /// Records an event.
    pub fn apply(&mut self, event: &MarketEvent) {
        let top = self.tops.entry(event.instrument()).or_default();
        match event {
            MarketEvent::Trade(t) => top.last_trade = Some(t.price),
            MarketEvent::Quote(q) => top.quote = Some(*q),
        }
    }

    /// The top of book of an instrument.
    pub fn top(&self, instrument: InstrumentId) -> TopOfBook {
        self.tops.get(&instrument).copied().unwrap_or_default()
    }

    /// The mark price of an instrument, if it has had data.
    pub fn mark(&self, instrument: InstrumentId) -> Option<Price> {
        self.top(instrument).mark()
    }
}
