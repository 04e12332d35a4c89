//! Pre-trade risk checks, run synchronously inside the `submit-order` host call, before
//! any venue sees the order.
//!
//! This module checks that the instrument exists and that the order passes the venue's
//! filters (tick size, lot size, minimum quantity and notional). Position, exposure, rate
//! and loss limits, trading states and the kill switch come with the risk engine.

use crate::market::Instruments;
use pennant_sdk::{OrderRequest, RejectReason, Rejection};

/// Checks an order; `Err` carries the stable reason code and an explanation.
pub fn check_order(instruments: &Instruments, order: &OrderRequest) -> Result<(), Rejection> {
    let info = instruments.get(order.instrument).ok_or_else(|| {
        Rejection::new(
            RejectReason::UnknownInstrument,
            format!("no instrument with handle {}", order.instrument),
        )
    })?;
    info.check_order(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{instrument, px, qty};
    use pennant_sdk::{InstrumentInfo, Side};

    #[test]
    fn unknown_instruments_and_venue_filters_are_rejected() {
        let instruments = Instruments::new([InstrumentInfo {
            min_notional: "5".parse().unwrap(),
            ..instrument(0, "BTC-USDT", "0.5", "0.01")
        }]);
        let ok = OrderRequest::limit(1, Side::Buy, px("100"), qty("0.05"));
        assert_eq!(check_order(&instruments, &ok), Ok(()));
        let reason = |o: OrderRequest| check_order(&instruments, &o).unwrap_err().reason;
        assert_eq!(
            reason(OrderRequest {
                instrument: 9,
                ..ok
            }),
            RejectReason::UnknownInstrument
        );
        assert_eq!(
            reason(OrderRequest {
                price: px("100.25"),
                ..ok
            }),
            RejectReason::TickSize
        );
        assert_eq!(
            reason(OrderRequest {
                qty: qty("0.015"),
                ..ok
            }),
            RejectReason::LotSize
        );
        assert_eq!(
            reason(OrderRequest {
                qty: qty("0.01"),
                ..ok
            }),
            RejectReason::MinNotional
        );
    }
}
