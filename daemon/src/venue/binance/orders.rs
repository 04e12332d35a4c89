//! Orders over REST: the parameters of `POST /api/v3/order` and `DELETE /api/v3/order`
//! for an engine order (rest-api.md), and the clock offset a signed request needs.
//!
//! | engine order | Binance |
//! |---|---|
//! | limit GTC / IOC | `type=LIMIT&timeInForce=GTC` / `IOC` |
//! | limit post-only | `type=LIMIT_MAKER` (refused by Binance if it would take) |
//! | market | `type=MARKET` (a market order is never post-only: the risk checks refuse it) |
//!
//! Every order carries `newClientOrderId`, the daemon's id for it, so that an answer that
//! never came can be asked about by that id, and the order is never sent twice.

use crate::venue::VenueOrder;
use pennant_sdk::{
    InstrumentId, OrderKind, OrderRequest, Price, Qty, Side, TimeInForce, Timestamp,
};
use serde_json::Value;

/// The form of `POST /api/v3/order` for `order` on Binance's `symbol` (unsigned: the
/// signer appends `recvWindow`, `timestamp` and `signature`). The answer asked for is
/// `RESULT`: status and executed quantity, without the fills, which come on the user
/// data stream.
pub fn new_order(order: &VenueOrder, symbol: &str) -> String {
    let r = &order.request;
    let side = match r.side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    };
    let mut form = format!("symbol={symbol}&side={side}");
    match (r.kind, r.time_in_force) {
        (OrderKind::Market, _) => form.push_str("&type=MARKET"),
        (OrderKind::Limit, TimeInForce::PostOnly) => form.push_str("&type=LIMIT_MAKER"),
        (OrderKind::Limit, TimeInForce::Gtc) => form.push_str("&type=LIMIT&timeInForce=GTC"),
        (OrderKind::Limit, TimeInForce::Ioc) => form.push_str("&type=LIMIT&timeInForce=IOC"),
    }
    form.push_str(&format!("&quantity={}", r.qty));
    if r.kind == OrderKind::Limit {
        form.push_str(&format!("&price={}", r.price));
    }
    form.push_str(&format!(
        "&newClientOrderId={}&newOrderRespType=RESULT",
        order.client_id
    ));
    form
}

/// An order as Binance lists it (`GET /api/v3/order`, `openOrders`, `allOrders`), read
/// back into the engine order that has that form (the table above, backwards); `None`
/// for a form this daemon never sends (stop orders, FOK, order lists) or a field that
/// does not read.
pub fn read_order(order: &Value, instrument: InstrumentId) -> Option<OrderRequest> {
    let side = match order["side"].as_str()? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return None,
    };
    let (kind, time_in_force) = match (order["type"].as_str()?, order["timeInForce"].as_str()) {
        ("MARKET", _) => (OrderKind::Market, TimeInForce::Ioc),
        ("LIMIT_MAKER", _) => (OrderKind::Limit, TimeInForce::PostOnly),
        ("LIMIT", Some("GTC")) => (OrderKind::Limit, TimeInForce::Gtc),
        ("LIMIT", Some("IOC")) => (OrderKind::Limit, TimeInForce::Ioc),
        _ => return None,
    };
    let price = match kind {
        OrderKind::Market => Price::ZERO,
        OrderKind::Limit => order["price"].as_str()?.parse().ok()?,
    };
    Some(OrderRequest {
        instrument,
        side,
        kind,
        price,
        qty: order["origQty"].as_str()?.parse::<Qty>().ok()?,
        time_in_force,
        client_order_id: 0,
    })
}

/// The query of `DELETE /api/v3/order` (or `GET /api/v3/order`, to ask what became of
/// an order) by the daemon's client order id.
pub fn by_client_id(symbol: &str, client_id: &str) -> String {
    format!("symbol={symbol}&origClientOrderId={client_id}")
}

/// The offset to add to the local clock (ms) for Binance's: its `serverTime` against the
/// middle of the round trip that fetched it.
pub fn clock_offset(sent_ms: Timestamp, server_ms: Timestamp, received_ms: Timestamp) -> i64 {
    server_ms - (sent_ms + received_ms) / 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venue::ClientOrderIds;
    use pennant_sdk::testing::{px, qty};
    use pennant_sdk::OrderRequest;

    fn order(request: OrderRequest) -> VenueOrder {
        VenueOrder {
            id: 42,
            client_id: ClientOrderIds::new("desk").unwrap().of(42),
            request,
        }
    }

    #[test]
    fn each_kind_of_order_has_its_binance_form() {
        let limit = OrderRequest::limit(1, Side::Buy, px("0.1"), qty("1"));
        let cases = [
            (limit, "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&newClientOrderId=desk-42&newOrderRespType=RESULT"),
            (limit.with_time_in_force(TimeInForce::Ioc), "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=IOC&quantity=1&price=0.1&newClientOrderId=desk-42&newOrderRespType=RESULT"),
            (limit.with_time_in_force(TimeInForce::PostOnly), "symbol=LTCBTC&side=BUY&type=LIMIT_MAKER&quantity=1&price=0.1&newClientOrderId=desk-42&newOrderRespType=RESULT"),
            (OrderRequest::market(1, Side::Sell, qty("0.25")), "symbol=LTCBTC&side=SELL&type=MARKET&quantity=0.25&newClientOrderId=desk-42&newOrderRespType=RESULT"),
        ];
        for (request, form) in cases {
            assert_eq!(new_order(&order(request), "LTCBTC"), form);
        }
        assert_eq!(
            by_client_id("LTCBTC", "desk-42"),
            "symbol=LTCBTC&origClientOrderId=desk-42"
        );
    }

    #[test]
    fn an_order_binance_lists_reads_back_into_the_order_sent() {
        let limit = OrderRequest::limit(1, Side::Buy, px("0.1"), qty("1"));
        let sent = [
            limit,
            limit.with_time_in_force(TimeInForce::Ioc),
            limit.with_time_in_force(TimeInForce::PostOnly),
            OrderRequest::market(1, Side::Sell, qty("0.25")),
        ];
        for request in sent {
            // What Binance lists: the form's fields, `GTC` for the kinds without one.
            let form: std::collections::HashMap<String, String> =
                serde_urlencoded::from_str(&new_order(&order(request), "LTCBTC")).unwrap();
            let listed = serde_json::json!({
                "side": form["side"], "type": form["type"],
                "timeInForce": form.get("timeInForce").map_or("GTC", |t| t.as_str()),
                "price": form.get("price").map_or("0.00000000", |p| p.as_str()),
                "origQty": form["quantity"],
            });
            assert_eq!(read_order(&listed, 1), Some(request), "{listed}");
        }
        let refused = [
            serde_json::json!({"side": "BUY", "type": "STOP_LOSS_LIMIT", "timeInForce": "GTC", "price": "1", "origQty": "1"}),
            serde_json::json!({"side": "BUY", "type": "LIMIT", "timeInForce": "FOK", "price": "1", "origQty": "1"}),
            serde_json::json!({"side": "HOLD", "type": "LIMIT", "timeInForce": "GTC", "price": "1", "origQty": "1"}),
            serde_json::json!({"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": "one", "origQty": "1"}),
        ];
        for listed in refused {
            assert_eq!(read_order(&listed, 1), None, "{listed}");
        }
    }

    #[test]
    fn the_offset_is_taken_at_the_middle_of_the_round_trip() {
        assert_eq!(clock_offset(1_000, 1_600, 1_200), 500);
        assert_eq!(clock_offset(1_000, 900, 1_000), -100);
    }
}
