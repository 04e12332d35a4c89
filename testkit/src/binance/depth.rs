//! The fake's order books for the diff depth stream and `GET /api/v3/depth`
//! (web-socket-streams.md, rest-api.md): each symbol's levels and last update id. A
//! change is one `depthUpdate` event with `U` the id after the book's and `u` the new
//! id; the snapshot answers the book now, best first, up to `limit` levels a side, with
//! its `lastUpdateId`. Faults, for the next events: one lost (its ids are skipped: a
//! gap), one sent twice, one held back and sent after the next (reordering).

use pennant_sdk::{Price, Qty};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};

use super::dec8;

/// Price levels, best first: `(price, size)`.
pub type Levels = Vec<(Price, Qty)>;

/// What happens to the next depth event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepthFault {
    /// Not sent: its update ids are missing from the stream.
    Lose,
    /// Sent twice.
    Duplicate,
    /// Held back and sent after the event that follows it.
    Hold,
}

#[derive(Default)]
struct Book {
    bids: BTreeMap<Price, Qty>,
    asks: BTreeMap<Price, Qty>,
    id: u64,
}

/// Every symbol's book.
#[derive(Default)]
pub(super) struct DepthBooks {
    books: BTreeMap<String, Book>,
    faults: VecDeque<DepthFault>,
    /// An event held back, with its stream name.
    held: Option<(String, Value)>,
    /// Snapshots asked for, by symbol, in order.
    pub(super) snapshots: Vec<String>,
}

fn levels<'a>(side: impl Iterator<Item = (&'a Price, &'a Qty)>, limit: usize) -> Vec<Value> {
    side.take(limit)
        .map(|(p, q)| json!([dec8(p.raw()), dec8(q.raw())]))
        .collect()
}

impl DepthBooks {
    /// Faults for the next events, in order.
    pub(super) fn inject(&mut self, fault: DepthFault) {
        self.faults.push_back(fault);
    }

    /// Sets levels of `symbol`'s book (size zero removes one), as one event spanning
    /// `ids` update ids; the messages to publish on its stream, in order (none, one, or
    /// with faults two).
    pub(super) fn change(
        &mut self,
        symbol: &str,
        bids: &[(Price, Qty)],
        asks: &[(Price, Qty)],
        ids: u64,
        ms: i64,
    ) -> Vec<(String, Value)> {
        let book = self.books.entry(symbol.to_owned()).or_default();
        for (side, changes) in [(&mut book.bids, bids), (&mut book.asks, asks)] {
            for &(price, qty) in changes {
                if qty.is_positive() {
                    side.insert(price, qty);
                } else {
                    side.remove(&price);
                }
            }
        }
        let first = book.id + 1;
        book.id += ids.max(1);
        let wire = |side: &[(Price, Qty)]| -> Vec<Value> {
            side.iter()
                .map(|(p, q)| json!([dec8(p.raw()), dec8(q.raw())]))
                .collect()
        };
        let data = json!({
            "e": "depthUpdate", "E": ms, "s": symbol, "U": first, "u": book.id,
            "b": wire(bids), "a": wire(asks)
        });
        let name = format!("{}@depth@100ms", symbol.to_lowercase());
        let message = (name, data);
        let mut out = Vec::new();
        match self.faults.pop_front() {
            Some(DepthFault::Lose) => {}
            Some(DepthFault::Duplicate) => {
                out.push(message.clone());
                out.push(message);
            }
            Some(DepthFault::Hold) => {
                // Whatever was held goes first: one event is held at a time.
                out.extend(self.held.take());
                self.held = Some(message);
                return out;
            }
            None => out.push(message),
        }
        out.extend(self.held.take());
        out
    }

    /// `GET /api/v3/depth`'s answer for `symbol`.
    pub(super) fn snapshot(&mut self, symbol: &str, limit: usize) -> Value {
        self.snapshots.push(symbol.to_owned());
        let book = self.books.entry(symbol.to_owned()).or_default();
        json!({
            "lastUpdateId": book.id,
            "bids": levels(book.bids.iter().rev(), limit),
            "asks": levels(book.asks.iter(), limit),
        })
    }

    /// The book of `symbol` now: (bids best first, asks best first).
    pub(super) fn book(&self, symbol: &str) -> (Levels, Levels) {
        self.books.get(symbol).map_or_else(Default::default, |b| {
            (
                b.bids.iter().rev().map(|(&p, &q)| (p, q)).collect(),
                b.asks.iter().map(|(&p, &q)| (p, q)).collect(),
            )
        })
    }
}
