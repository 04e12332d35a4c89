//! An L2 order book: the size resting at each price, kept from [`BookLevel`] events.
//! The daemon keeps one per instrument that has depth (for the paper venue's fills and
//! the `book-top` host call), and a strategy can keep its own from its `on_book` events.
//!
//! Each side is a `Vec` sorted worst price first, so the best price is at the end: most
//! updates touch the top few levels, which makes them a binary search and a short move
//! at the tail, with no allocation once the book has grown, and a walk from the top a
//! reverse iteration over contiguous memory.
//!
//! Rules, checked on every level:
//! - A level with [`BookFlags::RESET`] clears the book first; from then on the book is
//!   in sync. Levels before the first reset are refused ([`BookError::NotSynced`]): an
//!   update means nothing without the snapshot it applies to.
//! - `seq` never goes back ([`BookError::Stale`]): a level of an older message than one
//!   already applied is refused.
//! - A price must be positive and a size not negative ([`BookError::BadLevel`]).
//! - Removing a level that is not there is not an error (Binance documents it as normal);
//!   so an empty snapshot is one reset level of size zero.
//! - At the end of a message ([`BookFlags::LAST`]) the book is checked: a best bid at or
//!   above the best ask is reported as [`Applied::Crossed`] (the book keeps it: a venue's
//!   next update usually repairs it, and resyncing is the feed's decision).
//! - A level with [`BookFlags::CLEAR`] empties the book and takes it out of sync
//!   ([`Applied::Cleared`]): the feed lost it, and the next snapshot brings it back.
//! - A side keeps at most [`OrderBook::with_max_levels`] levels (default
//!   [`DEFAULT_MAX_LEVELS`]): the worst are dropped, so a runaway feed cannot grow it
//!   without bound.

use crate::{BookFlags, BookLevel, InstrumentId, Price, Qty, Quote, Side, Timestamp};

/// Levels kept per side unless told otherwise: deeper than any venue's incremental
/// depth stream (Binance's snapshot goes to 5000).
pub const DEFAULT_MAX_LEVELS: usize = 5000;

/// Why a level was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookError {
    /// No snapshot yet (or since [`OrderBook::clear`]).
    NotSynced,
    /// Its `seq` is older than the book's.
    Stale {
        /// The book's sequence.
        book: u64,
        /// The level's.
        level: u64,
    },
    /// A price not positive or a size negative.
    BadLevel,
}

impl std::fmt::Display for BookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BookError::NotSynced => f.write_str("no snapshot yet"),
            BookError::Stale { book, level } => {
                write!(f, "update {level} is older than the book's {book}")
            }
            BookError::BadLevel => f.write_str("price not positive or size negative"),
        }
    }
}

impl std::error::Error for BookError {}

impl BookError {
    /// A short stable code, for metrics.
    pub fn code(&self) -> &'static str {
        match self {
            BookError::NotSynced => "not_synced",
            BookError::Stale { .. } => "stale",
            BookError::BadLevel => "bad_level",
        }
    }
}

/// What applying a level did to the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Applied; the venue's message goes on.
    Partial,
    /// Applied, and the message ended with the book consistent.
    Consistent,
    /// The book was cleared and is out of sync until a snapshot.
    Cleared,
    /// Applied, and the message ended with the best bid at or above the best ask.
    Crossed {
        /// The best bid.
        bid: Price,
        /// The best ask.
        ask: Price,
    },
}

/// One price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Its price.
    pub price: Price,
    /// The size resting there.
    pub qty: Qty,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct OrderBook {
    /// Ascending: the best bid last.
    bids: Vec<Level>,
    /// Descending: the best ask last.
    asks: Vec<Level>,
    seq: u64,
    synced: bool,
    max_levels: usize,
    ts: Timestamp,
}

impl Default for OrderBook {
    fn default() -> Self {
        OrderBook::with_max_levels(DEFAULT_MAX_LEVELS)
    }
}

impl OrderBook {
    /// An empty book, not in sync.
    pub fn new() -> Self {
        OrderBook::default()
    }

    /// An empty book keeping at most `max` levels per side (at least one).
    pub fn with_max_levels(max: usize) -> Self {
        OrderBook {
            bids: Vec::new(),
            asks: Vec::new(),
            seq: 0,
            synced: false,
            max_levels: max.max(1),
            ts: 0,
        }
    }

    /// Applies one level; see the module docs for the rules.
    pub fn apply(&mut self, level: &BookLevel) -> Result<Applied, BookError> {
        if level.flags.contains(BookFlags::CLEAR) {
            self.clear();
            self.ts = level.ts;
            return Ok(Applied::Cleared);
        }
        if !level.price.is_positive() || level.qty.is_negative() {
            return Err(BookError::BadLevel);
        }
        if level.flags.contains(BookFlags::RESET) {
            self.bids.clear();
            self.asks.clear();
            self.synced = true;
        } else if !self.synced {
            return Err(BookError::NotSynced);
        } else if level.seq < self.seq {
            return Err(BookError::Stale {
                book: self.seq,
                level: level.seq,
            });
        }
        self.seq = level.seq;
        self.ts = level.ts;
        self.set(level.side, level.price, level.qty);
        if !level.flags.contains(BookFlags::LAST) {
            return Ok(Applied::Partial);
        }
        Ok(match (self.best_bid(), self.best_ask()) {
            (Some(bid), Some(ask)) if bid.price >= ask.price => Applied::Crossed {
                bid: bid.price,
                ask: ask.price,
            },
            _ => Applied::Consistent,
        })
    }

    /// Sets the size at a price (zero removes the level).
    fn set(&mut self, side: Side, price: Price, qty: Qty) {
        let max = self.max_levels;
        let levels = self.side_mut(side);
        // Worst first: bids ascend, asks descend. Searching from the best end would be
        // faster still for top updates, but a binary search is already a few compares.
        let found = match side {
            Side::Buy => levels.binary_search_by(|l| l.price.cmp(&price)),
            Side::Sell => levels.binary_search_by(|l| price.cmp(&l.price)),
        };
        match (found, qty.is_positive()) {
            (Ok(i), true) => levels[i].qty = qty,
            (Ok(i), false) => {
                levels.remove(i);
            }
            (Err(i), true) => {
                if levels.len() >= max {
                    if i == 0 {
                        // Worse than every level kept, in a full side: out of depth.
                        return;
                    }
                    levels.remove(0);
                    levels.insert(i - 1, Level { price, qty });
                } else {
                    levels.insert(i, Level { price, qty });
                }
            }
            (Err(_), false) => {}
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut Vec<Level> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn side(&self, side: Side) -> &[Level] {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    /// Empties the book and marks it out of sync (a feed that lost its stream).
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.synced = false;
    }

    /// Whether a snapshot has been applied since the book was made or cleared.
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// The update id of the last level applied.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// When the last level applied happened.
    pub fn ts(&self) -> Timestamp {
        self.ts
    }

    /// The best bid.
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.last().copied()
    }

    /// The best ask.
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.last().copied()
    }

    /// The levels of one side, best first.
    pub fn levels(&self, side: Side) -> impl ExactSizeIterator<Item = Level> + '_ {
        self.side(side).iter().rev().copied()
    }

    /// The bids, best (highest) first.
    pub fn bids(&self) -> impl ExactSizeIterator<Item = Level> + '_ {
        self.levels(Side::Buy)
    }

    /// The asks, best (lowest) first.
    pub fn asks(&self) -> impl ExactSizeIterator<Item = Level> + '_ {
        self.levels(Side::Sell)
    }

    /// The size resting at a price on one side (zero if no level).
    pub fn qty_at(&self, side: Side, price: Price) -> Qty {
        let levels = self.side(side);
        let found = match side {
            Side::Buy => levels.binary_search_by(|l| l.price.cmp(&price)),
            Side::Sell => levels.binary_search_by(|l| price.cmp(&l.price)),
        };
        found.map_or(Qty::ZERO, |i| levels[i].qty)
    }

    /// The best bid and ask as a quote, if both sides have a level.
    pub fn quote(&self, instrument: InstrumentId) -> Option<Quote> {
        let (bid, ask) = (self.best_bid()?, self.best_ask()?);
        Some(Quote {
            instrument,
            ts: self.ts,
            bid_price: bid.price,
            bid_qty: bid.qty,
            ask_price: ask.price,
            ask_qty: ask.qty,
        })
    }
    /// The best `depth` levels of each side, or `None` while the book is out of sync
    /// (before its first snapshot, or after its feed lost it).
    pub fn top(&self, instrument: InstrumentId, depth: usize) -> Option<BookTop> {
        self.synced.then(|| BookTop {
            instrument,
            ts: self.ts,
            seq: self.seq,
            bids: self.bids().take(depth).collect(),
            asks: self.asks().take(depth).collect(),
        })
    }
}

/// The best levels of an order book, best first: what [`crate::Host::book_top`] answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookTop {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// When the last level applied happened.
    pub ts: Timestamp,
    /// The venue's update id of the last level applied.
    pub seq: u64,
    /// Bids, highest first.
    pub bids: Vec<Level>,
    /// Asks, lowest first.
    pub asks: Vec<Level>,
}

/// `100x1 99x2 | 101x3`: bids then asks, best first, each `PRICExSIZE`.
impl std::fmt::Display for OrderBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, l) in self.bids().enumerate() {
            let gap = if i == 0 { "" } else { " " };
            write!(f, "{gap}{}x{}", l.price, l.qty)?;
        }
        f.write_str(" | ")?;
        for (i, l) in self.asks().enumerate() {
            let gap = if i == 0 { "" } else { " " };
            write!(f, "{gap}{}x{}", l.price, l.qty)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
