//! Binance's ids of this daemon's orders (`(symbol, orderId)`, as its answers and
//! streams give them), for the rows that carry no client order id (`myTrades`).
//! Working orders are always known; finished ones are kept for the latest
//! [`FINISHED_KEPT`] (a trade of an order canceled while the stream was away can still
//! come from `myTrades` after its cancel), so the table stays bounded.

use pennant_sdk::OrderId;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Finished orders whose Binance id is still known.
pub const FINISHED_KEPT: usize = 10_000;

/// See the module docs.
#[derive(Debug, Default)]
pub struct KnownIds {
    by_binance: FxHashMap<(String, i64), OrderId>,
    by_ours: FxHashMap<OrderId, (String, i64)>,
    finished: VecDeque<OrderId>,
}

impl KnownIds {
    /// Our order `id` is `binance_id` on `symbol`.
    pub fn insert(&mut self, symbol: String, binance_id: i64, id: OrderId) {
        self.by_binance.insert((symbol.clone(), binance_id), id);
        self.by_ours.insert(id, (symbol, binance_id));
    }

    /// Our order with `binance_id` on `symbol`.
    pub fn get(&self, symbol: &str, binance_id: i64) -> Option<OrderId> {
        self.by_binance
            .get(&(symbol.to_owned(), binance_id))
            .copied()
    }

    /// Order `id` is over; the oldest finished order past [`FINISHED_KEPT`] is forgotten.
    pub fn finished(&mut self, id: OrderId) {
        if !self.by_ours.contains_key(&id) {
            return;
        }
        self.finished.push_back(id);
        while self.finished.len() > FINISHED_KEPT {
            if let Some(old) = self.finished.pop_front() {
                if let Some(key) = self.by_ours.remove(&old) {
                    self.by_binance.remove(&key);
                }
            }
        }
    }

    /// Orders known.
    pub fn len(&self) -> usize {
        self.by_binance.len()
    }

    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.by_binance.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_orders_stay_and_finished_ones_are_kept_up_to_a_bound() {
        let mut known = KnownIds::default();
        known.insert("BTCUSDT".into(), 7, 1);
        for id in 2..(FINISHED_KEPT as u64 + 10) {
            known.insert("BTCUSDT".into(), id as i64 + 100, id);
            known.finished(id);
        }
        assert_eq!(known.get("BTCUSDT", 7), Some(1), "working: kept");
        assert_eq!(
            known.get("BTCUSDT", 102),
            None,
            "the oldest finished: forgotten"
        );
        assert_eq!(
            known.get("BTCUSDT", FINISHED_KEPT as i64 + 109),
            Some(FINISHED_KEPT as u64 + 9)
        );
        assert_eq!(known.len(), FINISHED_KEPT + 1);
        known.finished(999_999);
        assert_eq!(
            known.len(),
            FINISHED_KEPT + 1,
            "an unknown order changes nothing"
        );
    }
}
