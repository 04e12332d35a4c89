//! Market data a strategy receives: trades, top-of-book quotes, order book levels, bars,
//! and the streams it subscribes to.

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

/// Flags of a [`BookLevel`]: where it stands in the venue's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct BookFlags(u8);

impl BookFlags {
    /// No flag: one more level of a message that goes on.
    pub const NONE: BookFlags = BookFlags(0);
    /// Clear the book before applying this level: the first level of a snapshot. A book
    /// is in sync from a reset on.
    pub const RESET: BookFlags = BookFlags(1);
    /// The last level of the venue's message: the book is consistent after it (levels in
    /// between may show a half-applied update, a crossed book say).
    pub const LAST: BookFlags = BookFlags(2);
    /// The feed lost the book (a gap in the venue's updates, a lost connection): clear
    /// it and wait for the next snapshot. The level's price and size mean nothing.
    pub const CLEAR: BookFlags = BookFlags(4);

    /// Both flags of `self` and `other`.
    pub const fn with(self, other: BookFlags) -> BookFlags {
        BookFlags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: BookFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags as bits (reset 1, last 2, clear 4), for the wire and files.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Flags from bits; unknown bits are dropped.
    pub const fn from_bits(bits: u8) -> BookFlags {
        BookFlags(bits & 7)
    }
}

/// One price level of an order book, set to a new size: the L2 event. A snapshot is a
/// run of levels whose first has [`BookFlags::RESET`]; an update is a run of levels
/// that each replace the size at their price (`qty` zero removes the level). The last
/// level of each venue message has [`BookFlags::LAST`]. Plain and fixed-size, like the
/// per-level records of Databento's MBP or Tardis' `book_change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookLevel {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// When.
    pub ts: Timestamp,
    /// The venue's update id of the message this level belongs to (Binance's `u`, or
    /// `lastUpdateId` for a snapshot): never goes back.
    pub seq: u64,
    /// Bids are [`Side::Buy`], asks [`Side::Sell`].
    pub side: Side,
    /// The price of the level.
    pub price: Price,
    /// The size now resting at that price; zero removes the level.
    pub qty: Qty,
    /// Where the level stands in its message.
    pub flags: BookFlags,
}

impl BookLevel {
    /// A level that only carries `flags`: an empty snapshot (`RESET | LAST`) or a lost
    /// book (`CLEAR | LAST`). Its price is the smallest positive one and its size zero, so
    /// that it changes no level.
    pub fn marker(instrument: InstrumentId, ts: Timestamp, seq: u64, flags: BookFlags) -> Self {
        BookLevel {
            instrument,
            ts,
            seq,
            side: Side::Buy,
            price: Price::EPSILON,
            qty: Qty::ZERO,
            flags,
        }
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
    /// Order book levels ([`BookLevel`]), where the feed has depth. Delivered to native
    /// strategies and in [`crate::testing::Harness`]; not yet to components (contract
    /// 0.2 has no book stream: subscribing logs a warning).
    pub book: bool,
}

impl Streams {
    /// Trades only.
    pub const TRADES: Streams = Streams {
        trades: true,
        quotes: false,
        book: false,
    };
    /// Quotes only.
    pub const QUOTES: Streams = Streams {
        trades: false,
        quotes: true,
        book: false,
    };
    /// Order book levels only.
    pub const BOOK: Streams = Streams {
        trades: false,
        quotes: false,
        book: true,
    };
    /// Trades and quotes. Not the book, which is many times their volume: ask for it
    /// with [`Streams::BOOK`] (`Streams { book: true, ..Streams::ALL }` for everything).
    pub const ALL: Streams = Streams {
        trades: true,
        quotes: true,
        book: false,
    };
}

/// A normalized market data event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketEvent {
    /// A trade printed on the venue.
    Trade(Trade),
    /// A new best bid/ask.
    Quote(Quote),
    /// One level of the L2 book changed (or a snapshot starts, with
    /// [`BookFlags::RESET`]).
    Book(BookLevel),
}

impl MarketEvent {
    /// When the event happened (exchange time for live data, recorded time in a replay).
    pub fn ts(&self) -> Timestamp {
        match self {
            MarketEvent::Trade(t) => t.ts,
            MarketEvent::Quote(q) => q.ts,
            MarketEvent::Book(l) => l.ts,
        }
    }

    /// The same event at another time (a recording's clock repaired, say).
    pub fn with_ts(mut self, ts: Timestamp) -> MarketEvent {
        match &mut self {
            MarketEvent::Trade(t) => t.ts = ts,
            MarketEvent::Quote(q) => q.ts = ts,
            MarketEvent::Book(l) => l.ts = ts,
        }
        self
    }

    /// Which instrument.
    pub fn instrument(&self) -> InstrumentId {
        match self {
            MarketEvent::Trade(t) => t.instrument,
            MarketEvent::Quote(q) => q.instrument,
            MarketEvent::Book(l) => l.instrument,
        }
    }
}
