//! The harness against scripted strategies: fills, filters, fees and latency, timers.

use super::*;
use crate::{Liquidity, OrderStatus, OrderUpdate, RejectReason, TimeInForce};

/// Places whatever the test tells it to, and remembers updates.
struct Scripted {
    next: Vec<OrderRequest>,
    seen: Vec<OrderStatus>,
}

impl Strategy for Scripted {
    fn init(_host: &mut dyn Host, _params: &Params) -> Result<Self, InitError> {
        Ok(Scripted {
            next: Vec::new(),
            seen: Vec::new(),
        })
    }
    fn on_quote(&mut self, host: &mut dyn Host, _quote: &Quote) {
        for order in self.next.drain(..) {
            let _ = host.submit_order(&order);
        }
    }
    fn on_order_update(&mut self, _host: &mut dyn Host, update: &OrderUpdate) {
        self.seen.push(update.status);
    }
}

fn harness() -> Harness<Scripted> {
    let mut h = Harness::new().with_instrument("X", "0.5", "1");
    h.init(&[]).unwrap();
    h
}

#[test]
fn resting_limit_fills_when_the_market_reaches_it() {
    let mut h = harness();
    let x = h.id("X");
    h.strategy.as_mut().unwrap().next = vec![OrderRequest::limit(x, Side::Buy, px("99"), qty("2"))];
    h.quote("X", px("99.5"), qty("1"), px("100"), qty("1"));
    assert_eq!(h.working_orders().len(), 1);
    // A trade at its price fills what it printed; the ask reaching it, the rest.
    h.trade("X", px("99"), qty("1"), Side::Sell);
    assert_eq!(h.position("X").qty, qty("1"));
    assert_eq!(h.working_orders().len(), 1);
    h.quote("X", px("98.5"), qty("1"), px("99"), qty("5"));
    assert!(h.working_orders().is_empty());
    assert_eq!(h.position("X").qty, qty("2"));
    assert_eq!(
        h.strategy().seen,
        vec![
            OrderStatus::Accepted,
            OrderStatus::PartiallyFilled,
            OrderStatus::Filled
        ]
    );
    let fills: Vec<_> = h
        .host
        .updates
        .iter()
        .filter(|u| u.fill_qty.is_positive())
        .map(|u| (u.fill_price, u.fill_qty, u.liquidity))
        .collect();
    assert_eq!(
        fills,
        [
            (px("99"), qty("1"), Liquidity::Maker),
            (px("99"), qty("1"), Liquidity::Maker)
        ]
    );
}

#[test]
fn fees_and_latency_are_the_paper_venues() {
    let mut h = Harness::<Scripted>::new()
        .with_instrument("X", "0.5", "1")
        .with_venue(MatchingSettings {
            maker_fee_bps: amount("-1"),
            taker_fee_bps: amount("5"),
            latency: 10,
        });
    h.init(&[]).unwrap();
    let x = h.id("X");
    h.strategy.as_mut().unwrap().next = vec![OrderRequest::market(x, Side::Buy, qty("2"))];
    h.quote("X", px("99.5"), qty("5"), px("100"), qty("5"));
    // In flight: nothing happened yet.
    assert!(h.strategy().seen.is_empty());
    assert_eq!(h.working_orders().len(), 1);
    h.advance_by(10);
    assert_eq!(
        h.strategy().seen,
        vec![OrderStatus::Accepted, OrderStatus::Filled]
    );
    let p = h.position("X");
    assert_eq!((p.qty, p.avg_price), (qty("2"), px("100")));
    // 5 bps of 200.
    assert_eq!(p.fees, amount("0.1"));
}

#[test]
fn filters_post_only_and_no_liquidity() {
    let mut h = harness();
    let x = h.id("X");
    // No quote yet: a market order has nothing to execute against.
    assert!(h
        .host
        .submit_order(&OrderRequest::market(x, Side::Buy, qty("1")))
        .is_ok());
    h.strategy.as_mut().unwrap().next = vec![
        OrderRequest::limit(x, Side::Buy, px("100.25"), qty("1")),
        OrderRequest::limit(x, Side::Buy, px("100"), qty("1"))
            .with_time_in_force(TimeInForce::PostOnly),
    ];
    h.quote("X", px("99.5"), qty("1"), px("100"), qty("1"));
    let results: Vec<_> = h
        .host
        .submissions
        .iter()
        .map(|s| s.result.as_ref().map_err(|r| r.reason).map(|_| ()))
        .collect();
    assert_eq!(results, vec![Ok(()), Err(RejectReason::TickSize), Ok(())]);
    let reasons: Vec<_> = h.host.updates.iter().filter_map(|u| u.reason).collect();
    assert_eq!(
        reasons,
        vec![RejectReason::NoLiquidity, RejectReason::PostOnlyWouldCross]
    );
}

#[test]
fn timers_fire_in_order_as_the_clock_moves() {
    let mut h = harness();
    h.host.set_timer(START_TIME + 20, 2);
    h.host.set_timer(START_TIME + 10, 1);
    h.advance_by(15);
    assert_eq!(h.host.timers, vec![(START_TIME + 20, 2)]);
    assert_eq!(h.now(), START_TIME + 15);
}
