//! Matching against the L2 book, for an instrument whose feed sends depth.
//!
//! - An arriving order that crosses the book walks the opposite levels, best first,
//!   taking at each level's price what is there (less what orders of ours already took
//!   from that level since its last update) until it is done or no level crosses it: a
//!   partial fill per level. A market order with an empty opposite side is rejected with
//!   `no_liquidity`; a post-only order that would cross with `post_only_would_cross`.
//!   What is left rests (GTC, post-only) or is canceled (IOC, market), as with quotes.
//! - A resting order has a queue position: the size `ahead` of it at its price, which is
//!   the book's size there when it arrives (it joins the back). Trades reduce it: a trade
//!   at its price against its side (a sell aggressor for a bid) first consumes what is
//!   ahead, and only what is left fills the order, as maker at its price. A trade through
//!   its price (a bid above the trade) fills it from the trade's volume, without a
//!   queue. Cancels reduce it too: when its level's size drops by more than what traded
//!   there since the level's last update, the rest are cancels, and the share of them
//!   ahead of the order is taken to be the share of the level ahead of it (hftbacktest's
//!   `ProbQueueModel` with a linear probability); the size ahead never exceeds the
//!   level's size. Size added to the level joins behind.
//! - At the end of each venue message (a consistent book), an opposite level that
//!   crosses a resting order fills it, as maker at its price, up to that level's size:
//!   the market moved through it. The rest of an order that crossed on arrival is still
//!   aggressive: it takes crossing levels as taker, at their price, until none crosses
//!   it, and from then on rests with the size then at its price ahead of it.
//! - Several of our orders at one price are each behind the size ahead of them, and
//!   behind each other in time order.

use super::{crosses, queue, Arrival, ExecutionReport, MatchingEngine};
use crate::book::{Applied, OrderBook};
use crate::{
    BookFlags, BookLevel, InstrumentId, Liquidity, OrderId, OrderRequest, Price, Qty, Side,
    Timestamp, Trade,
};

/// Size per level since the level's last update: (side of the level, price, size).
#[derive(Debug, Default)]
struct PerLevel(Vec<(Side, Price, Qty)>);

impl PerLevel {
    fn get(&self, side: Side, price: Price) -> Qty {
        self.0
            .iter()
            .find(|&&(s, p, _)| s == side && p == price)
            .map_or(Qty::ZERO, |&(_, _, q)| q)
    }

    fn add(&mut self, side: Side, price: Price, qty: Qty) {
        match self
            .0
            .iter_mut()
            .find(|(s, p, _)| *s == side && *p == price)
        {
            Some((_, _, q)) => *q += qty,
            None => self.0.push((side, price, qty)),
        }
    }

    /// Forgets a level's size, returning it: the level was updated.
    fn take(&mut self, side: Side, price: Price) -> Qty {
        match self.0.iter().position(|&(s, p, _)| s == side && p == price) {
            Some(i) => self.0.swap_remove(i).2,
            None => Qty::ZERO,
        }
    }
}

/// The book of one instrument, and what our orders did to it.
#[derive(Debug, Default)]
pub(super) struct Depth {
    book: OrderBook,
    /// Taken by our orders' taker fills.
    taken: PerLevel,
    /// Traded by the market against the level.
    traded: PerLevel,
    /// The current message started with a snapshot.
    reset: bool,
}

/// Whether `a` is a better price than `b` for orders of `side`.
fn better(side: Side, a: Price, b: Price) -> bool {
    match side {
        Side::Buy => a > b,
        Side::Sell => a < b,
    }
}

/// `qty * num / den`, rounded down, without overflow.
fn scale(qty: Qty, num: Qty, den: Qty) -> Qty {
    if !den.is_positive() {
        return Qty::ZERO;
    }
    let raw = i128::from(qty.raw()) * i128::from(num.raw()) / i128::from(den.raw());
    Qty::from_raw(i64::try_from(raw).unwrap_or(i64::MAX))
}

impl MatchingEngine {
    /// Whether an instrument is matched against its book.
    pub(super) fn has_depth(&self, instrument: InstrumentId) -> bool {
        self.depths
            .get(instrument as usize)
            .is_some_and(|d| d.book.is_synced())
    }

    /// The book the engine matches an instrument against, once it has one.
    pub fn book(&self, instrument: InstrumentId) -> Option<&OrderBook> {
        self.depths
            .get(instrument as usize)
            .map(|d| &d.book)
            .filter(|b| b.is_synced())
    }

    /// A level of an instrument's book: the queues at its price move, and at the end of
    /// the venue's message resting orders that the book crosses fill. Levels the book
    /// refuses (before a snapshot, stale) change nothing.
    pub fn on_book(&mut self, level: &BookLevel, out: &mut Vec<ExecutionReport>) {
        self.on_clock(level.ts, out);
        let depth = super::slot(&mut self.depths, level.instrument);
        let before = depth.book.qty_at(level.side, level.price);
        let Ok(applied) = depth.book.apply(level) else {
            return;
        };
        if applied == Applied::Cleared {
            // Back to the top-of-book model (quotes) until a snapshot: queues are kept
            // and capped by the new book's sizes then.
            depth.reset = true;
            depth.taken.0.clear();
            depth.traded.0.clear();
            return;
        }
        if level.flags.contains(BookFlags::RESET) {
            depth.reset = true;
            depth.taken.0.clear();
            depth.traded.0.clear();
        }
        depth.taken.take(level.side, level.price);
        let traded = depth.traded.take(level.side, level.price);
        if !depth.reset && level.qty < before {
            // What left the level beyond what traded there was canceled; cancels ahead of
            // an order are in proportion to the size ahead of it.
            let cancels = (before - level.qty - traded).max(Qty::ZERO);
            let base = (before - traded).max(Qty::ZERO);
            if let Some(book) = self.resting.get_mut(level.instrument as usize) {
                for r in book.iter_mut().filter(|r| {
                    !r.aggressive && r.request.side == level.side && r.request.price == level.price
                }) {
                    if let Some(ahead) = r.ahead.as_mut() {
                        *ahead -= scale(cancels, *ahead, base).min(*ahead);
                        *ahead = (*ahead).min(level.qty);
                    }
                }
            }
        }
        if applied != Applied::Partial {
            self.settle(level.instrument, level.ts, out);
        }
    }

    /// The end of a venue message: queues learn the book, crossed orders fill.
    fn settle(&mut self, instrument: InstrumentId, ts: Timestamp, out: &mut Vec<ExecutionReport>) {
        let Some(depth) = self.depths.get_mut(instrument as usize) else {
            return;
        };
        let Some(book) = self.resting.get_mut(instrument as usize) else {
            depth.reset = false;
            return;
        };
        let reset = std::mem::take(&mut depth.reset);
        // Price then time priority, per side.
        book.sort_by_key(|r| (r.request.side as u8, r.priority()));
        let mut fills = Vec::new();
        for r in book.iter_mut() {
            let opposite = r.request.side.opposite();
            for level in depth.book.levels(opposite) {
                if !r.leaves.is_positive() || !crosses(&r.request, level.price) {
                    break;
                }
                let available = level.qty - depth.taken.get(opposite, level.price);
                let take = r.leaves.min(available);
                if !take.is_positive() {
                    continue;
                }
                r.leaves -= take;
                depth.taken.add(opposite, level.price, take);
                fills.push(if r.aggressive {
                    (r.id, level.price, take, Liquidity::Taker)
                } else {
                    (r.id, r.request.price, take, Liquidity::Maker)
                });
            }
            let at_price = depth.book.qty_at(r.request.side, r.request.price);
            let crossed = depth
                .book
                .levels(opposite)
                .next()
                .is_some_and(|best| crosses(&r.request, best.price));
            if r.aggressive && !crossed {
                r.aggressive = false;
                r.ahead = Some(at_price);
            }
            r.ahead = match r.ahead {
                None => Some(at_price),
                Some(ahead) if reset => Some(ahead.min(at_price)),
                ahead => ahead,
            };
        }
        book.retain(|r| r.leaves.is_positive());
        for (id, price, qty, liquidity) in fills {
            out.push(self.fill(id, price, qty, liquidity, ts));
        }
    }

    /// A trade on an instrument with depth: it reaches the orders of the side it hit
    /// (bids for a sell aggressor), through the size ahead of them at its price.
    pub(super) fn trade_on_depth(&mut self, t: &Trade, out: &mut Vec<ExecutionReport>) {
        let hit = t.aggressor.opposite();
        super::slot(&mut self.depths, t.instrument)
            .traded
            .add(hit, t.price, t.qty);
        let Some(book) = self.resting.get_mut(t.instrument as usize) else {
            return;
        };
        let reached = queue(book, |r| {
            r.request.side == hit
                && !r.aggressive
                && (r.request.price == t.price || better(hit, r.request.price, t.price))
        });
        let mut used = Qty::ZERO;
        let mut fills = Vec::new();
        for i in reached {
            let r = &mut book[i];
            let left = (t.qty - used).max(Qty::ZERO);
            let take = if r.request.price == t.price {
                let ahead = r.ahead.unwrap_or(Qty::ZERO);
                r.ahead = Some((ahead - left).max(Qty::ZERO));
                r.leaves.min((left - ahead).max(Qty::ZERO))
            } else {
                r.leaves.min(left)
            };
            if take.is_positive() {
                r.leaves -= take;
                used += take;
                fills.push((r.id, r.request.price, take));
            }
        }
        book.retain(|r| r.leaves.is_positive());
        for (id, price, qty) in fills {
            out.push(self.fill(id, price, qty, Liquidity::Maker, t.ts));
        }
    }

    /// An order arrives at an instrument with depth: it walks the opposite levels it
    /// crosses, then rests at the back of its price's queue or is canceled.
    pub(super) fn arrive_on_depth(
        &mut self,
        id: OrderId,
        request: OrderRequest,
        now: Timestamp,
        out: &mut Vec<ExecutionReport>,
    ) {
        let depth = super::slot(&mut self.depths, request.instrument);
        let opposite = request.side.opposite();
        let best = depth.book.levels(opposite).next();
        let marketable = best.is_some_and(|l| crosses(&request, l.price));
        if !Self::admit(id, &request, now, best.is_some(), marketable, out) {
            return;
        }
        let mut leaves = request.qty;
        let mut fills = Vec::new();
        for level in depth.book.levels(opposite) {
            if !leaves.is_positive() || !crosses(&request, level.price) {
                break;
            }
            let take = leaves.min(level.qty - depth.taken.get(opposite, level.price));
            if take.is_positive() {
                leaves -= take;
                depth.taken.add(opposite, level.price, take);
                fills.push((level.price, take));
            }
        }
        let arrival = Arrival {
            id,
            request,
            now,
            leaves,
            marketable,
            ahead: Some(depth.book.qty_at(request.side, request.price)),
        };
        self.conclude(arrival, fills, out);
    }
}
