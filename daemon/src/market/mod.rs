//! Market data: the one normalized event type every feed produces, the instrument
//! registry, the latest top of book and the L2 book per instrument, bar aggregation, the replay format's
//! parser and the synthetic walk. Plain data, below the engine: the feed tasks that
//! send these events to the engine live above it (`feed`, a module above the engine). A future exchange
//! feed (or a message bus) produces the same events, so nothing downstream knows where
//! data came from.

pub mod archive;
pub mod bars;
pub mod binary;
pub mod convert;
pub mod instruments;
pub mod replay;
pub mod synthetic;

use pennant_sdk::book::{Applied, BookError, OrderBook};
use pennant_sdk::{InstrumentId, Price, Quote};
use rustc_hash::FxHashMap;

pub use instruments::Instruments;
pub use pennant_sdk::MarketEvent;

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

/// What is wrong with the books, by instrument: levels refused and messages that left a
/// book crossed. Read by the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookHealth {
    /// Levels refused before a snapshot.
    pub not_synced: u64,
    /// Levels refused as older than the book.
    pub stale: u64,
    /// Levels refused for a price not positive or a size negative.
    pub bad: u64,
    /// Messages that ended with the book crossed.
    pub crossed: u64,
    /// Whether the last message left it crossed (a new episode is logged once).
    pub is_crossed: bool,
}

/// The latest top of book of every instrument that has had data, and the L2 book of
/// those whose feed sends depth. With a book, the quote is the book's best bid and ask,
/// taken at the end of each venue message (a book's message ends consistent).
#[derive(Debug, Default)]
pub struct MarketState {
    tops: FxHashMap<InstrumentId, TopOfBook>,
    books: FxHashMap<InstrumentId, (OrderBook, BookHealth)>,
}

impl MarketState {
    /// Records an event.
    pub fn apply(&mut self, event: &MarketEvent) {
        let top = self.tops.entry(event.instrument()).or_default();
        match event {
            MarketEvent::Trade(t) => top.last_trade = Some(t.price),
            MarketEvent::Quote(q) => top.quote = Some(*q),
            MarketEvent::Book(level) => {
                let (book, health) = self.books.entry(level.instrument).or_default();
                match book.apply(level) {
                    Ok(Applied::Partial) => {}
                    Ok(Applied::Cleared) => {
                        health.is_crossed = false;
                        log::info!(instrument = level.instrument; "order book cleared by its feed: out of sync until a snapshot");
                    }
                    Ok(Applied::Consistent) => {
                        health.is_crossed = false;
                        top.quote = book.quote(level.instrument).or(top.quote);
                    }
                    Ok(Applied::Crossed { bid, ask }) => {
                        health.crossed += 1;
                        if !health.is_crossed {
                            log::warn!(
                                instrument = level.instrument, seq = level.seq,
                                bid:% = bid, ask:% = ask;
                                "order book crossed"
                            );
                        }
                        health.is_crossed = true;
                    }
                    Err(err) => {
                        let count = match err {
                            BookError::NotSynced => &mut health.not_synced,
                            BookError::Stale { .. } => &mut health.stale,
                            BookError::BadLevel => &mut health.bad,
                        };
                        if *count == 0 {
                            log::warn!(
                                instrument = level.instrument, seq = level.seq, error:% = err;
                                "order book level refused (counted from now on)"
                            );
                        }
                        *count += 1;
                    }
                }
            }
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

    /// The L2 book of an instrument, if its feed has sent depth.
    pub fn book(&self, instrument: InstrumentId) -> Option<&OrderBook> {
        self.books.get(&instrument).map(|(book, _)| book)
    }

    /// The health of every book, by instrument.
    pub fn book_health(&self) -> impl Iterator<Item = (InstrumentId, BookHealth)> + '_ {
        self.books.iter().map(|(&id, (_, health))| (id, *health))
    }
}

#[cfg(test)]
mod tests;
