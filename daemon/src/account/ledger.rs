//! Positions and PnL per strategy and instrument.

use super::StrategyIdx;
use crate::market::MarketState;
use pennant_sdk::{Amount, InstrumentId, Position, Price, Qty, Side};
use std::collections::BTreeMap;

/// Why a fill could not be booked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("position overflow booking {qty} at {price}")]
pub struct LedgerOverflow {
    /// The fill's price.
    pub price: Price,
    /// The fill's quantity.
    pub qty: Qty,
}

/// Every strategy's positions.
#[derive(Debug, Default)]
pub struct Ledger {
    positions: BTreeMap<(StrategyIdx, InstrumentId), Position>,
    /// Net position of all strategies together, by instrument.
    net: BTreeMap<InstrumentId, Qty>,
}

impl Ledger {
    /// Books a fill.
    pub fn apply_fill(
        &mut self,
        strategy: StrategyIdx,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        qty: Qty,
        fee: Amount,
    ) -> Result<(), LedgerOverflow> {
        self.positions
            .entry((strategy, instrument))
            .or_insert_with(|| Position::flat(instrument))
            .apply_fill(side, price, qty, fee)
            .ok_or(LedgerOverflow { price, qty })?;
        let net = self.net.entry(instrument).or_default();
        *net = net.checked_add(side.signed(qty)).unwrap_or(*net);
        Ok(())
    }

    /// A strategy's position in an instrument as booked (not marked), if it has had one.
    pub fn get(&self, strategy: StrategyIdx, instrument: InstrumentId) -> Option<&Position> {
        self.positions.get(&(strategy, instrument))
    }

    /// Every position a strategy has had, as booked (not marked).
    pub fn booked(&self, strategy: StrategyIdx) -> impl Iterator<Item = &Position> {
        self.positions
            .range((strategy, 0)..=(strategy, InstrumentId::MAX))
            .map(|(_, p)| p)
    }

    /// Puts back a position recovered after a restart.
    pub fn restore(&mut self, strategy: StrategyIdx, position: Position) {
        let net = self.net.entry(position.instrument).or_default();
        *net = net.checked_add(position.qty).unwrap_or(*net);
        self.positions
            .insert((strategy, position.instrument), position);
    }

    /// Net position of all strategies together in an instrument.
    pub fn net(&self, instrument: InstrumentId) -> Qty {
        self.net.get(&instrument).copied().unwrap_or(Qty::ZERO)
    }

    /// Every instrument's net position, all strategies together.
    pub fn nets(&self) -> impl Iterator<Item = (InstrumentId, Qty)> + '_ {
        self.net.iter().map(|(&i, &q)| (i, q))
    }

    /// One strategy's positions, not marked.
    pub fn of(&self, strategy: StrategyIdx) -> impl Iterator<Item = &Position> + '_ {
        self.positions
            .range((strategy, 0)..=(strategy, InstrumentId::MAX))
            .map(|(_, p)| p)
    }

    /// Every position, by strategy and instrument, not marked.
    pub fn all(&self) -> impl Iterator<Item = (StrategyIdx, &Position)> + '_ {
        self.positions.iter().map(|(&(s, _), p)| (s, p))
    }

    /// A strategy's position in an instrument, marked to market.
    pub fn position(
        &self,
        strategy: StrategyIdx,
        instrument: InstrumentId,
        market: &MarketState,
    ) -> Position {
        let mut position = self
            .positions
            .get(&(strategy, instrument))
            .copied()
            .unwrap_or_else(|| Position::flat(instrument));
        if let Some(mark) = market.mark(instrument) {
            // On overflow the unrealized PnL stays at its last value.
            let _ = position.mark(mark);
        }
        position
    }

    /// Every position a strategy has had, marked to market, by instrument.
    pub fn positions_of(&self, strategy: StrategyIdx, market: &MarketState) -> Vec<Position> {
        self.positions
            .range((strategy, 0)..=(strategy, InstrumentId::MAX))
            .map(|(&(s, i), _)| self.position(s, i, market))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::MarketEvent;
    use pennant_sdk::testing::{amount, px, qty};
    use pennant_sdk::Trade;

    #[test]
    fn books_fills_per_strategy_and_marks_to_the_last_trade() {
        let mut ledger = Ledger::default();
        let mut market = MarketState::default();
        ledger
            .apply_fill(0, 1, Side::Buy, px("100"), qty("2"), amount("0.2"))
            .unwrap();
        ledger
            .apply_fill(1, 1, Side::Sell, px("101"), qty("1"), Amount::ZERO)
            .unwrap();
        ledger
            .apply_fill(0, 1, Side::Sell, px("103"), qty("1"), amount("0.1"))
            .unwrap();
        market.apply(&MarketEvent::Trade(Trade {
            instrument: 1,
            ts: 1,
            price: px("105"),
            qty: qty("1"),
            aggressor: Side::Buy,
        }));
        let p = ledger.position(0, 1, &market);
        assert_eq!(
            (p.qty, p.avg_price, p.realized_pnl, p.unrealized_pnl, p.fees),
            (qty("1"), px("100"), amount("3"), amount("5"), amount("0.3"))
        );
        let q = ledger.position(1, 1, &market);
        assert_eq!((q.qty, q.unrealized_pnl), (qty("-1"), amount("-4")));
        assert_eq!(ledger.positions_of(0, &market).len(), 1);
        assert_eq!(ledger.position(2, 1, &market).qty, Qty::ZERO);
        assert!(ledger
            .apply_fill(0, 1, Side::Buy, Price::MAX, Qty::MAX, Amount::ZERO)
            .is_err());
    }
}
