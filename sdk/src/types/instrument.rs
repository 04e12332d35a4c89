//! What the host tells of an instrument, and the venue filters an order must pass.

use super::{InstrumentId, OrderKind, OrderRequest, RejectReason, Rejection, TimeInForce};
use crate::fixed::{Amount, Price, Qty};

/// An instrument's identity and venue filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentInfo {
    /// Handle used in events.
    pub id: InstrumentId,
    /// Symbol such as `BTC-USDT`.
    pub symbol: String,
    /// Smallest price increment.
    pub tick_size: Price,
    /// Smallest quantity increment.
    pub lot_size: Qty,
    /// Smallest order quantity.
    pub min_qty: Qty,
    /// Smallest price x qty.
    pub min_notional: Amount,
}

impl InstrumentInfo {
    /// Checks an order against the venue's filters: positive quantity, price on tick, quantity
    /// on lot, minimum quantity and, for limit orders, minimum notional. The daemon's risk
    /// checks and the test harness both use this, so a strategy sees the same answer in
    /// its unit tests as in production.
    pub fn check_order(&self, order: &OrderRequest) -> Result<(), Rejection> {
        if !order.qty.is_positive() {
            return Err(Rejection::new(
                RejectReason::InvalidQuantity,
                format!("quantity {} is not positive", order.qty),
            ));
        }
        if !order.qty.is_multiple_of(self.lot_size) {
            return Err(Rejection::new(
                RejectReason::LotSize,
                format!(
                    "quantity {} is not a multiple of the lot size {}",
                    order.qty, self.lot_size
                ),
            ));
        }
        if order.qty < self.min_qty {
            return Err(Rejection::new(
                RejectReason::MinQuantity,
                format!(
                    "quantity {} is below the minimum {}",
                    order.qty, self.min_qty
                ),
            ));
        }
        if order.kind == OrderKind::Market && order.time_in_force == TimeInForce::PostOnly {
            return Err(Rejection::new(
                RejectReason::PostOnlyWouldCross,
                "a market order cannot be post-only",
            ));
        }
        if order.kind == OrderKind::Limit {
            if !order.price.is_positive() {
                return Err(Rejection::new(
                    RejectReason::InvalidPrice,
                    format!("limit price {} is not positive", order.price),
                ));
            }
            if !order.price.is_multiple_of(self.tick_size) {
                return Err(Rejection::new(
                    RejectReason::TickSize,
                    format!(
                        "price {} is not a multiple of the tick size {}",
                        order.price, self.tick_size
                    ),
                ));
            }
            let notional = order
                .price
                .checked_notional(order.qty)
                .ok_or_else(|| Rejection::new(RejectReason::MaxNotional, "notional overflows"))?;
            if notional < self.min_notional {
                return Err(Rejection::new(
                    RejectReason::MinNotional,
                    format!(
                        "notional {notional} is below the minimum {}",
                        self.min_notional
                    ),
                ));
            }
        }
        Ok(())
    }
}
