//! The types' own rules: filters, position accounting, parsing.

use super::*;
use crate::fixed::{Amount, Price, Qty};

fn px(s: &str) -> Price {
    s.parse().unwrap()
}
fn q(s: &str) -> Qty {
    s.parse().unwrap()
}
fn amt(s: &str) -> Amount {
    s.parse().unwrap()
}

#[test]
fn position_averages_in_and_realizes_out() {
    let mut pos = Position::flat(1);
    pos.apply_fill(Side::Buy, px("100"), q("1"), amt("0.1"))
        .unwrap();
    pos.apply_fill(Side::Buy, px("110"), q("1"), amt("0.1"))
        .unwrap();
    assert_eq!(pos.qty, q("2"));
    assert_eq!(pos.avg_price, px("105"));
    pos.apply_fill(Side::Sell, px("120"), q("0.5"), Amount::ZERO)
        .unwrap();
    assert_eq!(pos.qty, q("1.5"));
    assert_eq!(pos.avg_price, px("105"));
    assert_eq!(pos.realized_pnl, amt("7.5"));
    pos.mark(px("100")).unwrap();
    assert_eq!(pos.unrealized_pnl, amt("-7.5"));
    assert_eq!(pos.fees, amt("0.2"));
    assert_eq!(pos.net_pnl(), amt("-0.2"));
}

#[test]
fn position_flips_through_zero() {
    let mut pos = Position::flat(1);
    pos.apply_fill(Side::Sell, px("50"), q("2"), Amount::ZERO)
        .unwrap();
    assert_eq!(pos.qty, q("-2"));
    pos.apply_fill(Side::Buy, px("40"), q("3"), Amount::ZERO)
        .unwrap();
    assert_eq!(pos.realized_pnl, amt("20"));
    assert_eq!(pos.qty, q("1"));
    assert_eq!(pos.avg_price, px("40"));
    pos.apply_fill(Side::Sell, px("41"), q("1"), Amount::ZERO)
        .unwrap();
    assert_eq!(pos.qty, Qty::ZERO);
    assert_eq!(pos.avg_price, Price::ZERO);
    assert_eq!(pos.realized_pnl, amt("21"));
}

#[test]
fn overflow_leaves_the_position_unchanged() {
    let mut pos = Position::flat(1);
    pos.apply_fill(Side::Buy, px("100"), q("1"), Amount::ZERO)
        .unwrap();
    let before = pos;
    assert_eq!(
        pos.apply_fill(Side::Buy, Price::MAX, Qty::MAX, Amount::ZERO),
        None
    );
    assert_eq!(pos, before);
}

#[test]
fn venue_filters() {
    let info = InstrumentInfo {
        id: 1,
        symbol: "BTC-USDT".into(),
        tick_size: px("0.1"),
        lot_size: q("0.001"),
        min_qty: q("0.001"),
        min_notional: amt("10"),
    };
    let ok = OrderRequest::limit(1, Side::Buy, px("100.1"), q("0.5"));
    assert_eq!(info.check_order(&ok), Ok(()));
    let reason = |o: OrderRequest| info.check_order(&o).unwrap_err().reason;
    assert_eq!(
        reason(OrderRequest {
            price: px("100.15"),
            ..ok
        }),
        RejectReason::TickSize
    );
    assert_eq!(
        reason(OrderRequest {
            qty: q("0.0005"),
            ..ok
        }),
        RejectReason::LotSize
    );
    assert_eq!(
        reason(OrderRequest { qty: q("0"), ..ok }),
        RejectReason::InvalidQuantity
    );
    assert_eq!(
        reason(OrderRequest {
            qty: q("0.01"),
            ..ok
        }),
        RejectReason::MinNotional
    );
    assert_eq!(
        reason(OrderRequest {
            price: px("0"),
            ..ok
        }),
        RejectReason::InvalidPrice
    );
    assert_eq!(
        reason(
            OrderRequest::market(1, Side::Buy, q("1")).with_time_in_force(TimeInForce::PostOnly)
        ),
        RejectReason::PostOnlyWouldCross
    );
    // Market orders have no price to check.
    assert_eq!(
        info.check_order(&OrderRequest::market(1, Side::Sell, q("0.01"))),
        Ok(())
    );
}
