//! The fill model: a simulated exchange that matches orders against market data. The
//! daemon's paper venue runs it against the feeds, and [`crate::testing::TestHost`]
//! against the events a unit test sends, so that a strategy's unit tests see the fills
//! the daemon would give it.
//!
//! Two models, chosen per instrument by the data it has: the top of book (quotes), and
//! the L2 book (book levels) once its feed has sent a snapshot ([`depth`] describes it;
//! quotes are then ignored here, the book being the finer picture). Both are
//! deterministic.
//!
//! Top of book:
//! - An order reaches the matching engine `latency` after it is submitted, in engine time;
//!   until then it can neither fill nor be seen.
//! - On arrival, a market order takes the best opposite quote, up to the size shown there;
//!   what is left is canceled (a market order with no opposite quote is rejected with
//!   `no_liquidity`). A limit order that crosses the best opposite quote takes it the same
//!   way; post-only orders that would cross are rejected with `post_only_would_cross`; the
//!   rest of an IOC order is canceled, the rest of a GTC or post-only order rests.
//! - A resting order fills at its own price, as maker, when a quote or a trade reaches it:
//!   a buy at P when the ask drops to P or below or a trade prints at P or below; up to the
//!   size shown or traded, shared in price then time priority. Smaller volume means a
//!   partial fill; the order keeps working.
//! - The rest of a limit order that crossed the book on arrival is still aggressive: it
//!   takes later quotes that it crosses at their price, as taker, until a quote no longer
//!   reaches it; from then on it rests like any other order.
//! - Liquidity taken is remembered until the next quote, so two orders cannot both take
//!   the same size.
//! - Taker fills pay `taker_fee_bps`, maker fills `maker_fee_bps`, of the notional.
//! - Cancels take effect at once.
//!
//! The L2 book: see [`depth`].

pub mod depth;

use crate::{
    Amount, InstrumentId, Liquidity, OrderId, OrderKind, OrderRequest, OrderStatus, OrderUpdate,
    Price, Qty, Quote, RejectReason, Side, TimeInForce, Timestamp, Trade,
};
use std::collections::VecDeque;

/// What the simulated exchange charges and how far away it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MatchingSettings {
    /// Fee of a maker fill, in basis points of the notional (negative for a rebate).
    pub maker_fee_bps: Amount,
    /// Fee of a taker fill, in basis points of the notional.
    pub taker_fee_bps: Amount,
    /// Time from submit to the order reaching the matching engine, in nanoseconds.
    pub latency: Timestamp,
}

/// What a venue reports about an order: the fill model's reports, and two that only an
/// exchange makes (`Unknown`, `CancelRejected`), which the model never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExecutionReport {
    /// The order is working.
    Accepted {
        /// Which order.
        id: OrderId,
        /// When.
        ts: Timestamp,
    },
    /// The order was refused.
    Rejected {
        /// Which order.
        id: OrderId,
        /// Why.
        reason: RejectReason,
        /// When.
        ts: Timestamp,
    },
    /// Part or all of the order executed.
    Fill {
        /// Which order.
        id: OrderId,
        /// At what price.
        price: Price,
        /// How much.
        qty: Qty,
        /// The fee charged (negative for a rebate).
        fee: Amount,
        /// Maker or taker.
        liquidity: Liquidity,
        /// When.
        ts: Timestamp,
    },
    /// The rest of the order will not execute.
    Canceled {
        /// Which order.
        id: OrderId,
        /// When.
        ts: Timestamp,
    },
    /// The order was sent and no answer came (a timeout, a dropped connection): it may
    /// or may not be working. It stays open (and counts in the risk checks) until a
    /// later report about it (or a snapshot) says what became of it; it is never sent
    /// again.
    Unknown {
        /// Which order.
        id: OrderId,
        /// When.
        ts: Timestamp,
    },
    /// A cancel was refused (the order had just filled, say): the order is no longer
    /// pending cancel; its own reports still follow.
    CancelRejected {
        /// Which order.
        id: OrderId,
        /// When.
        ts: Timestamp,
    },
}

impl ExecutionReport {
    /// The order it is about.
    pub fn order_id(&self) -> OrderId {
        match *self {
            ExecutionReport::Accepted { id, .. }
            | ExecutionReport::Rejected { id, .. }
            | ExecutionReport::Fill { id, .. }
            | ExecutionReport::Canceled { id, .. }
            | ExecutionReport::Unknown { id, .. }
            | ExecutionReport::CancelRejected { id, .. } => id,
        }
    }

    /// The update this report makes of an order asking `request` that had `filled`
    /// before it: what the strategy hears, its `filled_qty` the new total. `None` for the
    /// two reports that only mark an order (`Unknown`, `CancelRejected`). The one way
    /// reports become updates, for the daemon's book of orders and the test harness.
    pub fn update(&self, request: &OrderRequest, filled: Qty) -> Option<OrderUpdate> {
        let leaves = |filled: Qty| (request.qty - filled).max(Qty::ZERO);
        let mut update = OrderUpdate {
            order_id: self.order_id(),
            client_order_id: request.client_order_id,
            instrument: request.instrument,
            side: request.side,
            status: OrderStatus::Accepted,
            ts: 0,
            fill_price: Price::ZERO,
            fill_qty: Qty::ZERO,
            fee: Amount::ZERO,
            liquidity: Liquidity::None,
            filled_qty: filled,
            leaves_qty: leaves(filled),
            reason: None,
        };
        match *self {
            ExecutionReport::Accepted { ts, .. } => update.ts = ts,
            ExecutionReport::Rejected { reason, ts, .. } => {
                update.ts = ts;
                update.status = OrderStatus::Rejected;
                update.reason = Some(reason);
                update.leaves_qty = Qty::ZERO;
            }
            ExecutionReport::Fill {
                price,
                qty,
                fee,
                liquidity,
                ts,
                ..
            } => {
                let total = filled.checked_add(qty).unwrap_or(request.qty);
                update.status = if total >= request.qty {
                    OrderStatus::Filled
                } else {
                    OrderStatus::PartiallyFilled
                };
                update.ts = ts;
                update.fill_price = price;
                update.fill_qty = qty;
                update.fee = fee;
                update.liquidity = liquidity;
                update.filled_qty = total;
                update.leaves_qty = leaves(total);
            }
            ExecutionReport::Canceled { ts, .. } => {
                update.ts = ts;
                update.status = OrderStatus::Canceled;
                update.leaves_qty = Qty::ZERO;
            }
            ExecutionReport::Unknown { .. } | ExecutionReport::CancelRejected { .. } => {
                return None
            }
        }
        Some(update)
    }
}

/// One side of the top of book, with the size still available to take.
#[derive(Debug, Clone, Copy)]
struct Level {
    price: Price,
    available: Qty,
}

#[derive(Debug, Clone, Copy, Default)]
struct Top {
    bid: Option<Level>,
    ask: Option<Level>,
}

#[derive(Debug, Clone, Copy)]
struct Resting {
    id: OrderId,
    request: OrderRequest,
    leaves: Qty,
    /// Arrival sequence, for time priority.
    seq: u64,
    /// Still crossing the book since it arrived: takes liquidity instead of providing it.
    aggressive: bool,
    /// With depth: the size ahead of it in the queue at its price (`None` until the
    /// order has seen a book: it rested before one, or came back after a restart).
    ahead: Option<Qty>,
}

impl Resting {
    /// Its rank among orders of its side: better price first, then earlier arrival.
    fn priority(&self) -> (i64, u64) {
        let price = match self.request.side {
            Side::Buy => -self.request.price.raw(),
            Side::Sell => self.request.price.raw(),
        };
        (price, self.seq)
    }
}

/// Indices of the orders of `book` that `keep` selects (of one side), in priority.
fn queue(book: &[Resting], keep: impl Fn(&Resting) -> bool) -> Vec<usize> {
    let mut reached: Vec<usize> = (0..book.len()).filter(|&i| keep(&book[i])).collect();
    reached.sort_by_key(|&i| book[i].priority());
    reached
}

/// An order that has arrived and taken what it could.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    id: OrderId,
    request: OrderRequest,
    now: Timestamp,
    /// What it has left.
    leaves: Qty,
    /// Whether it crossed the book on arrival.
    marketable: bool,
    /// With depth: the size ahead of it at its price.
    ahead: Option<Qty>,
}

/// What a resting order is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Against {
    /// The opposite side of a new quote.
    Quote,
    /// A trade print.
    Trade,
}

/// Whether an order would trade at `price` (on the opposite side).
fn crosses(request: &OrderRequest, price: Price) -> bool {
    match (request.kind, request.side) {
        (OrderKind::Market, _) => true,
        (OrderKind::Limit, Side::Buy) => price <= request.price,
        (OrderKind::Limit, Side::Sell) => price >= request.price,
    }
}

/// See the module docs. Instruments are indexed by their id (small and dense).
#[derive(Debug, Default)]
pub struct MatchingEngine {
    settings: MatchingSettings,
    tops: Vec<Top>,
    in_flight: VecDeque<(Timestamp, OrderId, OrderRequest)>,
    resting: Vec<Vec<Resting>>,
    depths: Vec<depth::Depth>,
    seq: u64,
}

fn slot<T: Default>(list: &mut Vec<T>, instrument: InstrumentId) -> &mut T {
    let i = instrument as usize;
    if list.len() <= i {
        list.resize_with(i + 1, T::default);
    }
    &mut list[i]
}

impl MatchingEngine {
    /// A matching engine with these fees and latency.
    pub fn new(settings: MatchingSettings) -> Self {
        MatchingEngine {
            settings,
            ..MatchingEngine::default()
        }
    }

    /// Orders resting on the book, in no particular order: `(id, request, leaves)`.
    pub fn resting(&self) -> Vec<(OrderId, OrderRequest, Qty)> {
        self.resting
            .iter()
            .flatten()
            .map(|r| (r.id, r.request, r.leaves))
            .collect()
    }

    /// Every order in flight or resting, with what it has filled, by id.
    pub fn open_orders(&self) -> Vec<(OrderId, Qty)> {
        let mut open: Vec<(OrderId, Qty)> = self
            .in_flight
            .iter()
            .map(|&(_, id, _)| (id, Qty::ZERO))
            .chain(
                self.resting
                    .iter()
                    .flatten()
                    .map(|r| (r.id, (r.request.qty - r.leaves).max(Qty::ZERO))),
            )
            .collect();
        open.sort_unstable();
        open
    }

    /// Puts back an order that was resting before a restart, with what it had left.
    /// Only orders that could rest come back: a market or IOC order is over.
    pub fn restore(&mut self, id: OrderId, request: OrderRequest, leaves: Qty) {
        if Self::rests(&request) && leaves.is_positive() {
            self.rest(id, request, leaves, false, None);
        }
    }

    /// An order sent at `now`: it arrives now, or after the latency.
    pub fn submit(
        &mut self,
        id: OrderId,
        request: OrderRequest,
        now: Timestamp,
        out: &mut Vec<ExecutionReport>,
    ) {
        if self.settings.latency == 0 {
            self.arrive(id, request, now, out);
        } else {
            self.in_flight
                .push_back((now + self.settings.latency, id, request));
        }
    }

    /// Cancels an order in flight or resting; false if there was none by that id.
    pub fn cancel(&mut self, id: OrderId, now: Timestamp, out: &mut Vec<ExecutionReport>) -> bool {
        let before = self.in_flight.len();
        self.in_flight.retain(|&(_, o, _)| o != id);
        let mut found = self.in_flight.len() != before;
        for book in &mut self.resting {
            let before = book.len();
            book.retain(|r| r.id != id);
            found |= book.len() != before;
        }
        if found {
            out.push(ExecutionReport::Canceled { id, ts: now });
        }
        found
    }

    /// The latency an order takes to arrive, in engine time.
    pub fn latency(&self) -> Timestamp {
        self.settings.latency
    }

    /// When the next order in flight arrives, if one is.
    pub fn next_arrival(&self) -> Option<Timestamp> {
        self.in_flight.front().map(|&(arrival, _, _)| arrival)
    }

    /// Whether a market event could make a report, judged without running it: it
    /// reaches the price of a resting order of its instrument (a trade at or through
    /// it, an opposite quote or book level at or through it), the instrument has an
    /// order still taking, or the event resets or clears its book. Orders in flight are
    /// not judged: the caller runs the clock first ([`Self::next_arrival`]). Never false
    /// for an event that reports; true for some that do not.
    pub fn may_report(&self, event: &crate::MarketEvent) -> bool {
        use crate::{BookFlags, MarketEvent};
        let Some(resting) = self.resting.get(event.instrument() as usize) else {
            return false;
        };
        if resting.is_empty() {
            return false;
        }
        if resting.iter().any(|r| r.aggressive) {
            return true;
        }
        let reaches = |side: Side, price: Price| {
            resting.iter().any(|r| {
                r.request.side == side
                    && match side {
                        Side::Buy => r.request.price >= price,
                        Side::Sell => r.request.price <= price,
                    }
            })
        };
        match event {
            MarketEvent::Trade(t) => reaches(Side::Buy, t.price) || reaches(Side::Sell, t.price),
            MarketEvent::Quote(q) => {
                reaches(Side::Buy, q.ask_price) || reaches(Side::Sell, q.bid_price)
            }
            MarketEvent::Book(level) => {
                level.flags.contains(BookFlags::RESET)
                    || level.flags.contains(BookFlags::CLEAR)
                    || reaches(level.side.opposite(), level.price)
            }
        }
    }

    /// Orders whose latency has passed by `now` arrive.
    pub fn on_clock(&mut self, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        while let Some(&(arrival, id, request)) = self.in_flight.front() {
            if arrival > now {
                break;
            }
            self.in_flight.pop_front();
            self.arrive(id, request, arrival, out);
        }
    }

    /// A new top of book: resting orders it reaches fill, then it is what arriving
    /// orders take.
    pub fn on_quote(&mut self, q: &Quote, out: &mut Vec<ExecutionReport>) {
        self.on_clock(q.ts, out);
        let level = |price: Price, available: Qty| {
            (price.is_positive() && available.is_positive()).then_some(Level { price, available })
        };
        let mut bid = level(q.bid_price, q.bid_qty);
        let mut ask = level(q.ask_price, q.ask_qty);
        if self.has_depth(q.instrument) {
            // The book decides; the quote is kept for when the book is lost.
            *slot(&mut self.tops, q.instrument) = Top { bid, ask };
            return;
        }
        if let Some(a) = ask.as_mut() {
            a.available = self.match_resting(
                q.instrument,
                Side::Buy,
                a.price,
                a.available,
                Against::Quote,
                q.ts,
                out,
            );
        }
        if let Some(b) = bid.as_mut() {
            b.available = self.match_resting(
                q.instrument,
                Side::Sell,
                b.price,
                b.available,
                Against::Quote,
                q.ts,
                out,
            );
        }
        *slot(&mut self.tops, q.instrument) = Top { bid, ask };
    }

    /// A trade print: resting orders it reaches fill, up to its size.
    pub fn on_trade(&mut self, t: &Trade, out: &mut Vec<ExecutionReport>) {
        self.on_clock(t.ts, out);
        if self.has_depth(t.instrument) {
            self.trade_on_depth(t, out);
            return;
        }
        let left = self.match_resting(
            t.instrument,
            Side::Buy,
            t.price,
            t.qty,
            Against::Trade,
            t.ts,
            out,
        );
        self.match_resting(
            t.instrument,
            Side::Sell,
            t.price,
            left,
            Against::Trade,
            t.ts,
            out,
        );
    }

    fn fill(
        &self,
        id: OrderId,
        price: Price,
        qty: Qty,
        liquidity: Liquidity,
        ts: Timestamp,
    ) -> ExecutionReport {
        let bps = match liquidity {
            Liquidity::Maker => self.settings.maker_fee_bps,
            _ => self.settings.taker_fee_bps,
        };
        let fee = price
            .checked_notional(qty)
            .and_then(|notional| notional.checked_mul_bps(bps))
            .unwrap_or(Amount::ZERO);
        ExecutionReport::Fill {
            id,
            price,
            qty,
            fee,
            liquidity,
            ts,
        }
    }

    /// The order reaches the matching engine.
    fn arrive(
        &mut self,
        id: OrderId,
        request: OrderRequest,
        now: Timestamp,
        out: &mut Vec<ExecutionReport>,
    ) {
        if self.has_depth(request.instrument) {
            self.arrive_on_depth(id, request, now, out);
            return;
        }
        let top = slot(&mut self.tops, request.instrument);
        let opposite = match request.side {
            Side::Buy => &mut top.ask,
            Side::Sell => &mut top.bid,
        };
        let marketable = opposite
            .as_ref()
            .is_some_and(|level| crosses(&request, level.price));
        if !Self::admit(id, &request, now, opposite.is_some(), marketable, out) {
            return;
        }
        let mut leaves = request.qty;
        let mut taken = None;
        if marketable {
            if let Some(level) = opposite.as_mut() {
                let take = leaves.min(level.available);
                if take.is_positive() {
                    level.available -= take;
                    leaves -= take;
                    taken = Some((level.price, take));
                }
            }
        }
        let arrival = Arrival {
            id,
            request,
            now,
            leaves,
            marketable,
            ahead: None,
        };
        self.conclude(arrival, taken, out);
    }

    /// Reports what an arriving order took, as taker, then rests or cancels the rest.
    fn conclude(
        &mut self,
        arrival: Arrival,
        taken: impl IntoIterator<Item = (Price, Qty)>,
        out: &mut Vec<ExecutionReport>,
    ) {
        let Arrival { id, now, .. } = arrival;
        for (price, qty) in taken {
            out.push(self.fill(id, price, qty, Liquidity::Taker, now));
        }
        if !arrival.leaves.is_positive() {
            return;
        }
        if !Self::rests(&arrival.request) {
            out.push(ExecutionReport::Canceled { id, ts: now });
        } else {
            let Arrival {
                request,
                leaves,
                marketable,
                ahead,
                ..
            } = arrival;
            self.rest(id, request, leaves, marketable, ahead);
        }
    }

    /// Whether what an arrived order leaves rests on the book (a GTC or post-only
    /// limit) rather than being canceled.
    fn rests(request: &OrderRequest) -> bool {
        request.kind == OrderKind::Limit && request.time_in_force != TimeInForce::Ioc
    }

    /// Accepts an arriving order, or rejects it (false), given whether the opposite side
    /// has any liquidity and whether the order crosses it.
    fn admit(
        id: OrderId,
        request: &OrderRequest,
        now: Timestamp,
        opposite: bool,
        marketable: bool,
        out: &mut Vec<ExecutionReport>,
    ) -> bool {
        let refusal = match (request.kind, request.time_in_force) {
            (OrderKind::Market, TimeInForce::PostOnly) => Some(RejectReason::PostOnlyWouldCross),
            (OrderKind::Market, _) if !opposite => Some(RejectReason::NoLiquidity),
            (OrderKind::Limit, TimeInForce::PostOnly) if marketable => {
                Some(RejectReason::PostOnlyWouldCross)
            }
            _ => None,
        };
        out.push(match refusal {
            Some(reason) => ExecutionReport::Rejected {
                id,
                reason,
                ts: now,
            },
            None => ExecutionReport::Accepted { id, ts: now },
        });
        refusal.is_none()
    }

    /// Puts an order on the book, behind those already there at its price.
    fn rest(
        &mut self,
        id: OrderId,
        request: OrderRequest,
        leaves: Qty,
        aggressive: bool,
        ahead: Option<Qty>,
    ) {
        self.seq += 1;
        let seq = self.seq;
        slot(&mut self.resting, request.instrument).push(Resting {
            id,
            request,
            leaves,
            seq,
            aggressive,
            ahead,
        });
    }

    /// Fills resting orders of `side` that `price` reaches, sharing `volume` in price then
    /// time priority. Returns the volume left.
    #[allow(clippy::too_many_arguments)]
    fn match_resting(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        mut volume: Qty,
        against: Against,
        ts: Timestamp,
        out: &mut Vec<ExecutionReport>,
    ) -> Qty {
        let Some(book) = self.resting.get_mut(instrument as usize) else {
            return volume;
        };
        if book.is_empty() {
            return volume;
        }
        let reaches = |r: &OrderRequest| match side {
            Side::Buy => r.price >= price,
            Side::Sell => r.price <= price,
        };
        if against == Against::Quote {
            // An aggressive rest that this quote no longer reaches now rests like any other.
            for r in book
                .iter_mut()
                .filter(|r| r.request.side == side && !reaches(&r.request))
            {
                r.aggressive = false;
            }
        }
        let reached = queue(book, |r| {
            r.request.side == side
                && reaches(&r.request)
                && !(r.aggressive && against == Against::Trade)
        });
        let mut fills = Vec::new();
        for i in reached {
            if !volume.is_positive() {
                break;
            }
            let resting = &mut book[i];
            let take = resting.leaves.min(volume);
            resting.leaves -= take;
            volume -= take;
            fills.push(if resting.aggressive {
                (resting.id, price, take, Liquidity::Taker)
            } else {
                (resting.id, resting.request.price, take, Liquidity::Maker)
            });
        }
        book.retain(|r| r.leaves.is_positive());
        for (id, fill_price, qty, liquidity) in fills {
            out.push(self.fill(id, fill_price, qty, liquidity, ts));
        }
        volume
    }
}

#[cfg(test)]
mod tests;
