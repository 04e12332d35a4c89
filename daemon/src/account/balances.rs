//! What the account holds at a venue that says (an exchange; the paper venue does not),
//! per asset: free and locked, as the venue last reported them, less what this daemon's
//! orders sent since have reserved. The pre-trade check refuses an order whose asset is
//! not free (`insufficient_balance`); an order refused or canceled frees what it
//! reserved; the venue's next report replaces the estimate.

use pennant_sdk::{Amount, InstrumentInfo, OrderKind, OrderRequest, Price, Side};
use std::collections::BTreeMap;

/// One asset's balance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balance {
    /// Free to trade.
    pub free: Amount,
    /// Locked in open orders.
    pub locked: Amount,
}

/// One venue's balances; unknown until the venue first reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balances {
    assets: BTreeMap<String, Balance>,
    known: bool,
}

/// The asset an order spends and how much of it: the quote asset for a buy (price times
/// quantity, at `priced_at` for a market order), the base asset for a sell (its
/// quantity). `None` for a symbol not written `BASE-QUOTE`, or a notional past range.
pub fn needs<'a>(
    info: &'a InstrumentInfo,
    order: &OrderRequest,
    priced_at: Price,
) -> Option<(&'a str, Amount)> {
    let (base, quote) = info.symbol.split_once('-')?;
    match order.side {
        Side::Buy => {
            let price = match order.kind {
                OrderKind::Limit => order.price,
                OrderKind::Market => priced_at,
            };
            Some((quote, price.checked_notional(order.qty)?))
        }
        Side::Sell => Some((base, Amount::from_raw(order.qty.raw()))),
    }
}

impl Balances {
    /// Whether the venue has reported its balances.
    pub fn known(&self) -> bool {
        self.known
    }

    /// The account as a snapshot gives it, every asset: replaces what was known. An
    /// empty list (a venue without balances) leaves them unknown.
    pub fn set_all(&mut self, balances: &[(String, Amount, Amount)]) {
        if balances.is_empty() {
            return;
        }
        self.assets.clear();
        self.update(balances);
    }

    /// The assets that changed, as the account stream gives them.
    pub fn update(&mut self, balances: &[(String, Amount, Amount)]) {
        for (asset, free, locked) in balances {
            self.assets.insert(
                asset.clone(),
                Balance {
                    free: *free,
                    locked: *locked,
                },
            );
        }
        self.known |= !balances.is_empty();
    }

    /// What is free of `asset` (zero for an asset the venue did not list); `None`
    /// while the balances are unknown.
    pub fn free(&self, asset: &str) -> Option<Amount> {
        self.known
            .then(|| self.assets.get(asset).map_or(Amount::ZERO, |b| b.free))
    }

    /// An order was sent that will lock `amount` of `asset`: it is no longer free to
    /// the next check, until the venue reports again.
    pub fn reserve(&mut self, asset: &str, amount: Amount) {
        if !self.known {
            return;
        }
        let balance = self.assets.entry(asset.to_owned()).or_default();
        balance.free = Amount::from_raw(balance.free.raw().saturating_sub(amount.raw()));
        balance.locked = Amount::from_raw(balance.locked.raw().saturating_add(amount.raw()));
    }

    /// An order that reserved `amount` of `asset` ended without taking it (refused,
    /// canceled): it is free again, until the venue reports.
    pub fn release(&mut self, asset: &str, amount: Amount) {
        if !self.known {
            return;
        }
        let balance = self.assets.entry(asset.to_owned()).or_default();
        balance.free = Amount::from_raw(balance.free.raw().saturating_add(amount.raw()));
        balance.locked = Amount::from_raw(balance.locked.raw().saturating_sub(amount.raw()).max(0));
    }

    /// Every asset, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Balance)> {
        self.assets.iter().map(|(a, b)| (a.as_str(), *b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{amount, instrument, px, qty};

    #[test]
    fn an_order_needs_the_quote_to_buy_and_the_base_to_sell() {
        let btc = instrument(1, "BTC-USDT", "0.01", "0.00001");
        let buy = OrderRequest::limit(1, Side::Buy, px("50000"), qty("0.002"));
        let sell = OrderRequest::limit(1, Side::Sell, px("50000"), qty("0.002"));
        let market = OrderRequest::market(1, Side::Buy, qty("0.002"));
        let cases = [
            (&buy, ("USDT", "100")),
            (&sell, ("BTC", "0.002")),
            (&market, ("USDT", "120")),
        ];
        for (order, (asset, need)) in cases {
            assert_eq!(needs(&btc, order, px("60000")), Some((asset, amount(need))));
        }
        assert_eq!(
            needs(&instrument(2, "BTCUSDT", "1", "1"), &buy, px("1")),
            None
        );
    }

    #[test]
    fn balances_are_unknown_until_reported_and_reserved_until_reported_again() {
        let mut balances = Balances::default();
        assert_eq!(balances.free("USDT"), None);
        balances.set_all(&[]);
        assert!(!balances.known(), "a venue without balances");
        balances.set_all(&[("USDT".into(), amount("100"), amount("0"))]);
        assert_eq!(balances.free("USDT"), Some(amount("100")));
        assert_eq!(balances.free("BTC"), Some(Amount::ZERO));
        balances.reserve("USDT", amount("30"));
        assert_eq!(balances.free("USDT"), Some(amount("70")));
        balances.release("USDT", amount("10"));
        assert_eq!(
            balances.free("USDT"),
            Some(amount("80")),
            "a refused order's part"
        );
        balances.update(&[("USDT".into(), amount("75"), amount("25"))]);
        assert_eq!(balances.free("USDT"), Some(amount("75")));
        balances.set_all(&[("BTC".into(), amount("1"), amount("0"))]);
        assert_eq!(
            balances.free("USDT"),
            Some(Amount::ZERO),
            "a snapshot replaces"
        );
    }
}
