//! Market data a strategy receives: trades, top-of-book quotes, bars, and the streams
//! it subscribes to.

use super::{InstrumentId, Side, Timestamp};
use crate::fixed::{Price, Qty};

/// A trade printed on the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// When.
    pub ts: Timestamp,
    /// At what price.
    pub price: Price,
    /// How much.
    pub qty: Qty,
    /// The side of the taker.
    pub aggressor: Side,
}

/// Best bid and offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// When.
    pub ts: Timestamp,
    /// Best bid price.
    pub bid_price: Price,
    /// Quantity at the best bid.
    pub bid_qty: Qty,
    /// Best ask price.
    pub ask_price: Price,
    /// Quantity at the best ask.
    pub ask_qty: Qty,
}

impl Quote {
    /// The mid price.
    pub fn mid(&self) -> Price {
        self.bid_price.midpoint(self.ask_price)
    }
}

/// A time bar aggregated from trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Start of the interval (inclusive).
    pub start: Timestamp,
    /// End of the interval (exclusive).
    pub end: Timestamp,
    /// First trade price.
    pub open: Price,
    /// Highest trade price.
    pub high: Price,
    /// Lowest trade price.
    pub low: Price,
    /// Last trade price.
    pub close: Price,
    /// Traded quantity.
    pub volume: Qty,
    /// Number of trades.
    pub trades: u32,
}

/// Which market data streams to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Streams {
    /// Trades.
    pub trades: bool,
    /// Best bid/ask.
    pub quotes: bool,
}

impl Streams {
    /// Trades only.
    pub const TRADES: Streams = Streams {
        trades: true,
        quotes: false,
    };
    /// Quotes only.
    pub const QUOTES: Streams = Streams {
        trades: false,
        quotes: true,
    };
    /// Trades and quotes.
    pub const ALL: Streams = Streams {
        trades: true,
        quotes: true,
    };
}
