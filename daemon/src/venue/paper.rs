//! The paper venue: a simulated exchange that matches orders against the market data feed.
//!
//! Model (top of book only, deterministic):
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

use super::{ExecutionReport, Venue, VenueOrder};
use crate::config::PaperConfig;
use crate::market::MarketEvent;
use pennant_sdk::{
    Amount, InstrumentId, Liquidity, OrderId, OrderKind, Price, Qty, RejectReason, Side,
    TimeInForce, Timestamp, NANOS_PER_MILLI,
};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

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
    order: VenueOrder,
    leaves: Qty,
    /// Arrival sequence, for time priority.
    seq: u64,
    /// Still crossing the book since it arrived: takes liquidity instead of providing it.
    aggressive: bool,
}

/// What a resting order is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Against {
    /// The opposite side of a new quote.
    Quote,
    /// A trade print.
    Trade,
}

/// See the module docs.
#[derive(Debug)]
pub struct PaperVenue {
    name: String,
    maker_fee_bps: Amount,
    taker_fee_bps: Amount,
    latency_ns: i64,
    tops: FxHashMap<InstrumentId, Top>,
    in_flight: VecDeque<(Timestamp, VenueOrder)>,
    resting: FxHashMap<InstrumentId, Vec<Resting>>,
    seq: u64,
}

impl PaperVenue {
    /// A paper venue with the configured fees and latency.
    pub fn new(config: &PaperConfig) -> Self {
        PaperVenue {
            name: "paper".into(),
            maker_fee_bps: config.maker_fee_bps,
            taker_fee_bps: config.taker_fee_bps,
            latency_ns: i64::from(config.latency_ms) * NANOS_PER_MILLI,
            tops: FxHashMap::default(),
            in_flight: VecDeque::new(),
            resting: FxHashMap::default(),
            seq: 0,
        }
    }

    /// The same, named `name` (one of several `[[venue]]`s).
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// Orders resting on the simulated book, in no particular order: `(order, leaves)`.
    pub fn resting_orders(&self) -> Vec<(VenueOrder, Qty)> {
        self.resting
            .values()
            .flatten()
            .map(|r| (r.order, r.leaves))
            .collect()
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
            Liquidity::Maker => self.maker_fee_bps,
            _ => self.taker_fee_bps,
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
    fn arrive(&mut self, order: VenueOrder, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        let top = self.tops.entry(order.request.instrument).or_default();
        let opposite = match order.request.side {
            Side::Buy => &mut top.ask,
            Side::Sell => &mut top.bid,
        };
        let crosses = |level: &Level| match (order.request.kind, order.request.side) {
            (OrderKind::Market, _) => true,
            (OrderKind::Limit, Side::Buy) => level.price <= order.request.price,
            (OrderKind::Limit, Side::Sell) => level.price >= order.request.price,
        };
        let marketable = opposite.as_ref().is_some_and(crosses);
        let reject = match (order.request.kind, order.request.time_in_force) {
            (OrderKind::Market, TimeInForce::PostOnly) => Some(RejectReason::PostOnlyWouldCross),
            (OrderKind::Market, _) if opposite.is_none() => Some(RejectReason::NoLiquidity),
            (OrderKind::Limit, TimeInForce::PostOnly) if marketable => {
                Some(RejectReason::PostOnlyWouldCross)
            }
            _ => None,
        };
        if let Some(reason) = reject {
            out.push(ExecutionReport::Rejected {
                id: order.id,
                reason,
                ts: now,
            });
            return;
        }
        out.push(ExecutionReport::Accepted {
            id: order.id,
            ts: now,
        });
        let mut leaves = order.request.qty;
        if marketable {
            if let Some(level) = opposite.as_mut() {
                let take = leaves.min(level.available);
                if take.is_positive() {
                    level.available -= take;
                    leaves -= take;
                    let price = level.price;
                    out.push(self.fill(order.id, price, take, Liquidity::Taker, now));
                }
            }
        }
        if !leaves.is_positive() {
            return;
        }
        if order.request.kind == OrderKind::Market
            || order.request.time_in_force == TimeInForce::Ioc
        {
            out.push(ExecutionReport::Canceled {
                id: order.id,
                ts: now,
            });
        } else {
            self.rest(order, leaves, marketable);
        }
    }

    /// Puts an order on the book, behind those already there at its price.
    fn rest(&mut self, order: VenueOrder, leaves: Qty, aggressive: bool) {
        self.seq += 1;
        self.resting
            .entry(order.request.instrument)
            .or_default()
            .push(Resting {
                order,
                leaves,
                seq: self.seq,
                aggressive,
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
        let Some(book) = self.resting.get_mut(&instrument) else {
            return volume;
        };
        let reaches = |o: &VenueOrder| match side {
            Side::Buy => o.request.price >= price,
            Side::Sell => o.request.price <= price,
        };
        if against == Against::Quote {
            // An aggressive rest that this quote no longer reaches now rests like any other.
            for r in book
                .iter_mut()
                .filter(|r| r.order.request.side == side && !reaches(&r.order))
            {
                r.aggressive = false;
            }
        }
        let mut reached: Vec<usize> = (0..book.len())
            .filter(|&i| {
                let r = &book[i];
                r.order.request.side == side
                    && reaches(&r.order)
                    && !(r.aggressive && against == Against::Trade)
            })
            .collect();
        reached.sort_by_key(|&i| {
            let r = &book[i];
            let price_rank = match side {
                Side::Buy => -r.order.request.price.raw(),
                Side::Sell => r.order.request.price.raw(),
            };
            (price_rank, r.seq)
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
                (resting.order.id, price, take, Liquidity::Taker)
            } else {
                (
                    resting.order.id,
                    resting.order.request.price,
                    take,
                    Liquidity::Maker,
                )
            });
        }
        book.retain(|r| r.leaves.is_positive());
        for (id, fill_price, qty, liquidity) in fills {
            out.push(self.fill(id, fill_price, qty, liquidity, ts));
        }
        volume
    }
}

impl Venue for PaperVenue {
    fn name(&self) -> &str {
        &self.name
    }

    /// Only orders that could rest come back: a market or IOC order caught by a restart
    /// is over (the engine, not finding it here, marks it canceled).
    fn restore(&mut self, orders: &[(VenueOrder, Qty)]) {
        for &(order, leaves) in orders {
            let can_rest = order.request.kind == OrderKind::Limit
                && order.request.time_in_force != TimeInForce::Ioc;
            if can_rest && leaves.is_positive() {
                self.rest(order, leaves, false);
            }
        }
    }

    /// Every order in flight or resting, with what it has filled: the simulator's
    /// account is at hand.
    fn snapshot(&mut self) -> Option<super::VenueSnapshot> {
        let mut open: Vec<(OrderId, Qty)> = self
            .in_flight
            .iter()
            .map(|(_, order)| (order.id, Qty::ZERO))
            .chain(
                self.resting
                    .values()
                    .flatten()
                    .map(|r| (r.order.id, (r.order.request.qty - r.leaves).max(Qty::ZERO))),
            )
            .collect();
        open.sort_unstable();
        Some(super::VenueSnapshot {
            open,
            ..super::VenueSnapshot::default()
        })
    }

    fn submit(&mut self, order: VenueOrder, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        if self.latency_ns == 0 {
            self.arrive(order, now, out);
        } else {
            self.in_flight.push_back((now + self.latency_ns, order));
        }
    }

    fn cancel(&mut self, id: OrderId, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        let before = self.in_flight.len();
        self.in_flight.retain(|(_, o)| o.id != id);
        let mut found = self.in_flight.len() != before;
        for book in self.resting.values_mut() {
            let before = book.len();
            book.retain(|r| r.order.id != id);
            found |= book.len() != before;
        }
        if found {
            out.push(ExecutionReport::Canceled { id, ts: now });
        }
    }

    fn on_market(&mut self, event: &MarketEvent, out: &mut Vec<ExecutionReport>) {
        self.on_clock(event.ts(), out);
        match event {
            MarketEvent::Quote(q) => {
                let level = |price: Price, available: Qty| {
                    (price.is_positive() && available.is_positive())
                        .then_some(Level { price, available })
                };
                let mut bid = level(q.bid_price, q.bid_qty);
                let mut ask = level(q.ask_price, q.ask_qty);
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
                self.tops.insert(q.instrument, Top { bid, ask });
            }
            MarketEvent::Trade(t) => {
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
        }
    }

    fn on_clock(&mut self, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        while let Some(&(arrival, order)) = self.in_flight.front() {
            if arrival > now {
                break;
            }
            self.in_flight.pop_front();
            self.arrive(order, arrival, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{amount, px, qty};
    use pennant_sdk::{OrderRequest, Quote, Trade};

    fn venue(latency_ms: u32) -> PaperVenue {
        PaperVenue::new(&PaperConfig {
            maker_fee_bps: amount("-1"),
            taker_fee_bps: amount("5"),
            latency_ms,
        })
    }

    fn quote(ts: i64, bid: &str, bid_qty: &str, ask: &str, ask_qty: &str) -> MarketEvent {
        MarketEvent::Quote(Quote {
            instrument: 1,
            ts,
            bid_price: px(bid),
            bid_qty: qty(bid_qty),
            ask_price: px(ask),
            ask_qty: qty(ask_qty),
        })
    }

    fn trade(ts: i64, price: &str, size: &str) -> MarketEvent {
        MarketEvent::Trade(Trade {
            instrument: 1,
            ts,
            price: px(price),
            qty: qty(size),
            aggressor: Side::Sell,
        })
    }

    fn order(
        id: OrderId,
        side: Side,
        kind: OrderKind,
        price: &str,
        size: &str,
        tif: TimeInForce,
    ) -> VenueOrder {
        VenueOrder {
            id,
            client_id: crate::venue::ClientOrderIds::default().of(id),
            request: OrderRequest {
                instrument: 1,
                side,
                kind,
                price: px(price),
                qty: qty(size),
                time_in_force: tif,
                client_order_id: 0,
            },
        }
    }

    fn limit(id: OrderId, side: Side, price: &str, size: &str) -> VenueOrder {
        order(id, side, OrderKind::Limit, price, size, TimeInForce::Gtc)
    }

    fn fills(out: &[ExecutionReport]) -> Vec<(OrderId, Price, Qty, Liquidity)> {
        out.iter()
            .filter_map(|r| match *r {
                ExecutionReport::Fill {
                    id,
                    price,
                    qty,
                    liquidity,
                    ..
                } => Some((id, price, qty, liquidity)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn market_order_takes_the_shown_size_and_cancels_the_rest() {
        let mut v = venue(0);
        let mut out = Vec::new();
        v.on_market(&quote(1, "99", "1", "101", "2"), &mut out);
        v.submit(
            order(1, Side::Buy, OrderKind::Market, "0", "3", TimeInForce::Ioc),
            2,
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                ExecutionReport::Accepted { id: 1, ts: 2 },
                ExecutionReport::Fill {
                    id: 1,
                    price: px("101"),
                    qty: qty("2"),
                    fee: amount("0.101"),
                    liquidity: Liquidity::Taker,
                    ts: 2
                },
                ExecutionReport::Canceled { id: 1, ts: 2 },
            ]
        );
        // The size was taken: a second order finds none until the next quote.
        out.clear();
        v.submit(
            order(2, Side::Buy, OrderKind::Market, "0", "1", TimeInForce::Ioc),
            3,
            &mut out,
        );
        assert!(fills(&out).is_empty());
        v.on_market(&quote(4, "99", "1", "101", "2"), &mut out);
        v.submit(
            order(3, Side::Buy, OrderKind::Market, "0", "1", TimeInForce::Ioc),
            5,
            &mut out,
        );
        assert_eq!(
            fills(&out),
            vec![(3, px("101"), qty("1"), Liquidity::Taker)]
        );
    }

    #[test]
    fn market_order_without_a_quote_is_rejected() {
        let mut v = venue(0);
        let mut out = Vec::new();
        v.submit(
            order(1, Side::Sell, OrderKind::Market, "0", "1", TimeInForce::Ioc),
            1,
            &mut out,
        );
        assert_eq!(
            out,
            vec![ExecutionReport::Rejected {
                id: 1,
                reason: RejectReason::NoLiquidity,
                ts: 1
            }]
        );
    }

    #[test]
    fn resting_limit_fills_partially_on_trades_then_on_a_crossing_quote() {
        let mut v = venue(0);
        let mut out = Vec::new();
        v.on_market(&quote(1, "99", "1", "101", "1"), &mut out);
        v.submit(limit(1, Side::Buy, "100", "3"), 2, &mut out);
        assert_eq!(out, vec![ExecutionReport::Accepted { id: 1, ts: 2 }]);
        out.clear();
        v.on_market(&trade(3, "100.5", "5"), &mut out);
        assert!(out.is_empty(), "a trade above the bid does not reach it");
        v.on_market(&trade(4, "100", "1"), &mut out);
        assert_eq!(
            fills(&out),
            vec![(1, px("100"), qty("1"), Liquidity::Maker)]
        );
        out.clear();
        v.on_market(&quote(5, "98", "1", "99.5", "1.5"), &mut out);
        assert_eq!(
            fills(&out),
            vec![(1, px("100"), qty("1.5"), Liquidity::Maker)]
        );
        match out[0] {
            ExecutionReport::Fill { fee, .. } => assert_eq!(fee, amount("-0.015"), "maker rebate"),
            _ => unreachable!(),
        }
        assert_eq!(v.resting_orders()[0].1, qty("0.5"));
        out.clear();
        v.cancel(1, 6, &mut out);
        assert_eq!(out, vec![ExecutionReport::Canceled { id: 1, ts: 6 }]);
        assert!(v.resting_orders().is_empty());
        out.clear();
        v.cancel(1, 7, &mut out);
        assert!(out.is_empty(), "canceling a finished order reports nothing");
    }

    #[test]
    fn volume_is_shared_in_price_then_time_priority() {
        let mut v = venue(0);
        let mut out = Vec::new();
        v.submit(limit(1, Side::Buy, "100", "1"), 1, &mut out);
        v.submit(limit(2, Side::Buy, "100", "1"), 2, &mut out);
        v.submit(limit(3, Side::Buy, "101", "1"), 3, &mut out);
        out.clear();
        v.on_market(&trade(4, "99", "2.5"), &mut out);
        assert_eq!(
            fills(&out),
            vec![
                (3, px("101"), qty("1"), Liquidity::Maker),
                (1, px("100"), qty("1"), Liquidity::Maker),
                (2, px("100"), qty("0.5"), Liquidity::Maker),
            ]
        );
    }

    #[test]
    fn marketable_limits_post_only_and_ioc() {
        let mut v = venue(0);
        let mut out = Vec::new();
        v.on_market(&quote(1, "99", "5", "101", "1"), &mut out);
        v.submit(
            order(
                1,
                Side::Buy,
                OrderKind::Limit,
                "101",
                "1",
                TimeInForce::PostOnly,
            ),
            2,
            &mut out,
        );
        assert_eq!(
            out,
            vec![ExecutionReport::Rejected {
                id: 1,
                reason: RejectReason::PostOnlyWouldCross,
                ts: 2
            }]
        );
        out.clear();
        v.submit(
            order(2, Side::Buy, OrderKind::Limit, "102", "3", TimeInForce::Ioc),
            3,
            &mut out,
        );
        assert_eq!(
            fills(&out),
            vec![(2, px("101"), qty("1"), Liquidity::Taker)]
        );
        assert_eq!(
            out.last(),
            Some(&ExecutionReport::Canceled { id: 2, ts: 3 })
        );
        out.clear();
        v.submit(limit(3, Side::Sell, "98", "2"), 4, &mut out);
        assert_eq!(fills(&out), vec![(3, px("99"), qty("2"), Liquidity::Taker)]);
        assert!(v.resting_orders().is_empty());
    }

    #[test]
    fn the_rest_of_a_crossing_limit_keeps_taking_until_the_book_moves_away() {
        let mut v = venue(0);
        let mut out = Vec::new();
        v.on_market(&quote(1, "99", "5", "101", "1"), &mut out);
        v.submit(limit(1, Side::Buy, "105", "3"), 2, &mut out);
        assert_eq!(
            fills(&out),
            vec![(1, px("101"), qty("1"), Liquidity::Taker)]
        );
        out.clear();
        // Trades do not feed an aggressive rest; quotes it crosses do, at their price.
        v.on_market(&trade(3, "101", "5"), &mut out);
        assert!(out.is_empty());
        v.on_market(&quote(4, "99", "5", "101.5", "1"), &mut out);
        assert_eq!(
            fills(&out),
            vec![(1, px("101.5"), qty("1"), Liquidity::Taker)]
        );
        out.clear();
        // The ask moves above it: from now on it rests at 105 as a maker.
        v.on_market(&quote(5, "99", "5", "106", "1"), &mut out);
        assert!(out.is_empty());
        v.on_market(&trade(6, "104", "2"), &mut out);
        assert_eq!(
            fills(&out),
            vec![(1, px("105"), qty("1"), Liquidity::Maker)]
        );
    }

    #[test]
    fn a_market_order_cannot_be_post_only() {
        let mut v = venue(0);
        let mut out = Vec::new();
        v.on_market(&quote(1, "99", "5", "101", "1"), &mut out);
        v.submit(
            order(
                1,
                Side::Buy,
                OrderKind::Market,
                "0",
                "1",
                TimeInForce::PostOnly,
            ),
            2,
            &mut out,
        );
        assert_eq!(
            out,
            vec![ExecutionReport::Rejected {
                id: 1,
                reason: RejectReason::PostOnlyWouldCross,
                ts: 2
            }]
        );
    }

    #[test]
    fn latency_delays_arrival_in_engine_time() {
        let mut v = venue(10);
        let mut out = Vec::new();
        let ms = NANOS_PER_MILLI;
        v.on_market(&quote(0, "99", "5", "101", "5"), &mut out);
        v.submit(
            order(1, Side::Buy, OrderKind::Market, "0", "1", TimeInForce::Ioc),
            ms,
            &mut out,
        );
        assert!(out.is_empty());
        v.on_market(&quote(5 * ms, "99", "5", "102", "5"), &mut out);
        assert!(out.is_empty(), "still in flight");
        v.on_market(&quote(11 * ms, "99", "5", "103", "5"), &mut out);
        // It arrives at 11 ms, before the quote of 11 ms is applied: it takes the 102 ask.
        assert_eq!(
            fills(&out),
            vec![(1, px("102"), qty("1"), Liquidity::Taker)]
        );
        out.clear();
        v.submit(limit(2, Side::Buy, "90", "1"), 12 * ms, &mut out);
        v.cancel(2, 13 * ms, &mut out);
        assert_eq!(out, vec![ExecutionReport::Canceled { id: 2, ts: 13 * ms }]);
        v.on_clock(30 * ms, &mut out);
        assert_eq!(out.len(), 1, "a canceled order in flight never arrives");
    }
}
