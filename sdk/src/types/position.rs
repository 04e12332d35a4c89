//! A strategy's position in one instrument and the accounting of fills into it, shared
//! by the daemon's ledger and the test harness.

use super::{InstrumentId, Side};
use crate::fixed::{Amount, Price, Qty};

/// Position and PnL in one instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Signed quantity: positive long, negative short.
    pub qty: Qty,
    /// Average entry price of the open position; zero when flat.
    pub avg_price: Price,
    /// PnL locked in by closing trades (before fees).
    pub realized_pnl: Amount,
    /// PnL of the open position at the mark price.
    pub unrealized_pnl: Amount,
    /// Fees paid (negative for net rebates).
    pub fees: Amount,
}

impl Position {
    /// A flat position.
    pub fn flat(instrument: InstrumentId) -> Self {
        Position {
            instrument,
            ..Position::default()
        }
    }

    /// Applies a fill: adds to or reduces the position, moves the average price when
    /// adding, realizes PnL when reducing, flips through zero when the fill is larger than
    /// the position. Returns `None` (leaving `self` unchanged) on arithmetic overflow.
    pub fn apply_fill(&mut self, side: Side, price: Price, qty: Qty, fee: Amount) -> Option<()> {
        let delta = side.signed(qty);
        let mut next = *self;
        next.fees = next.fees.checked_add(fee)?;
        let same_direction = self.qty.is_zero() || (self.qty.is_positive() == delta.is_positive());
        if same_direction {
            // Adding: the average price is the notional-weighted mean.
            let old_notional = self.avg_price.checked_notional(self.qty.abs())?;
            let new_notional = old_notional.checked_add(price.checked_notional(qty)?)?;
            next.qty = self.qty.checked_add(delta)?;
            next.avg_price = new_notional.checked_per_qty(next.qty.abs())?;
        } else {
            // Reducing (and maybe flipping): realize PnL on the closed part.
            let closed = if qty <= self.qty.abs() {
                qty
            } else {
                self.qty.abs()
            };
            let per_unit = if self.qty.is_positive() {
                price.checked_sub(self.avg_price)?
            } else {
                self.avg_price.checked_sub(price)?
            };
            next.realized_pnl = next
                .realized_pnl
                .checked_add(per_unit.checked_notional(closed)?)?;
            next.qty = self.qty.checked_add(delta)?;
            next.avg_price = if next.qty.is_zero() {
                Price::ZERO
            } else if qty > closed {
                price // flipped: the remainder opened at this fill's price
            } else {
                self.avg_price
            };
        }
        *self = next;
        Some(())
    }

    /// Recomputes the unrealized PnL at a mark price. Returns `None` on overflow.
    pub fn mark(&mut self, mark: Price) -> Option<()> {
        let per_unit = mark.checked_sub(self.avg_price)?;
        self.unrealized_pnl = per_unit.checked_notional(self.qty)?;
        Some(())
    }

    /// Realized plus unrealized PnL, less fees.
    pub fn net_pnl(&self) -> Amount {
        self.realized_pnl
            .checked_add(self.unrealized_pnl)
            .and_then(|pnl| pnl.checked_sub(self.fees))
            .unwrap_or(Amount::ZERO)
    }
}
