//! The paper venue: the SDK's fill model ([`pennant_sdk::matching`]) run against the
//! market data feed, behind the [`Venue`] boundary. The model (top of book, latency in
//! engine time, maker and taker fees, partial fills in price then time priority) is
//! documented there: the SDK's `TestHost` runs the very same one, so a strategy's unit
//! tests see the fills a paper session gives.

use super::{ExecutionReport, Venue, VenueOrder};
use crate::config::PaperConfig;
use crate::market::MarketEvent;
use pennant_sdk::matching::{MatchingEngine, MatchingSettings};
use pennant_sdk::{OrderId, Qty, Timestamp, NANOS_PER_MILLI};

/// See the module docs.
#[derive(Debug)]
pub struct PaperVenue {
    name: String,
    engine: MatchingEngine,
}

impl PaperVenue {
    /// A paper venue with the configured fees and latency.
    pub fn new(config: &PaperConfig) -> Self {
        PaperVenue {
            name: "paper".into(),
            engine: MatchingEngine::new(MatchingSettings {
                maker_fee_bps: config.maker_fee_bps,
                taker_fee_bps: config.taker_fee_bps,
                latency: i64::from(config.latency_ms) * NANOS_PER_MILLI,
            }),
        }
    }

    /// The same, named `name` (one of several `[[venue]]`s).
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// Orders resting on the simulated book, in no particular order: `(id, leaves)`.
    pub fn resting_orders(&self) -> Vec<(OrderId, Qty)> {
        self.engine
            .resting()
            .into_iter()
            .map(|(id, _, leaves)| (id, leaves))
            .collect()
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
            self.engine.restore(order.id, order.request, leaves);
        }
    }

    /// Every order in flight or resting, with what it has filled: the simulator's
    /// account is at hand.
    fn snapshot(&mut self) -> Option<super::VenueSnapshot> {
        Some(super::VenueSnapshot {
            open: self.engine.open_orders(),
            ..super::VenueSnapshot::default()
        })
    }

    fn submit(&mut self, order: VenueOrder, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        self.engine.submit(order.id, order.request, now, out);
    }

    fn cancel(&mut self, id: OrderId, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        self.engine.cancel(id, now, out);
    }

    fn on_market(&mut self, event: &MarketEvent, out: &mut Vec<ExecutionReport>) {
        match event {
            MarketEvent::Quote(q) => self.engine.on_quote(q, out),
            MarketEvent::Trade(t) => self.engine.on_trade(t, out),
            MarketEvent::Book(l) => self.engine.on_book(l, out),
        }
    }

    fn on_clock(&mut self, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        self.engine.on_clock(now, out);
    }

    fn reach(&self) -> Option<Timestamp> {
        Some(self.engine.latency()).filter(|&latency| latency > 0)
    }

    fn may_report(&self, event: &MarketEvent) -> bool {
        self.engine.may_report(event)
    }

    fn next_arrival(&self) -> Option<Timestamp> {
        self.engine.next_arrival()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{amount, px, qty};
    use pennant_sdk::{
        Liquidity, OrderKind, OrderRequest, Price, Quote, RejectReason, Side, TimeInForce, Trade,
    };

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
