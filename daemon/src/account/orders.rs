//! The order book of the engine's own orders: every working order, who owns it, and how
//! venue reports change it into the order updates strategies see.
//!
//! Orders belong to a strategy id, not to a strategy instance or version.

use super::StrategyIdx;
use crate::venue::ExecutionReport;
use pennant_sdk::{
    InstrumentId, OrderId, OrderRequest, OrderStatus, OrderUpdate, Price, Qty, Timestamp,
};
use rustc_hash::FxHashMap;

/// A working order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRecord {
    /// The engine's id.
    pub id: OrderId,
    /// The owner.
    pub strategy: StrategyIdx,
    /// What was asked.
    pub request: OrderRequest,
    /// Accepted or partially filled (or not yet acknowledged: `None`).
    pub status: Option<OrderStatus>,
    /// Filled so far.
    pub filled: Qty,
    /// When it was submitted.
    pub created: Timestamp,
    /// The price the risk checks valued it at: its limit price, or for a market order
    /// the reference price.
    pub valued_at: Price,
    /// A cancel was sent and neither confirmed nor refused yet.
    pub cancel_pending: bool,
    /// Sent without an answer: it may or may not be working until the venue says.
    pub status_unknown: bool,
}

impl OrderRecord {
    /// Quantity still working.
    pub fn leaves(&self) -> Qty {
        (self.request.qty - self.filled).max(Qty::ZERO)
    }
}

/// A fill, as the ledger needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// The owner of the order.
    pub strategy: StrategyIdx,
    /// The order.
    pub request: OrderRequest,
    /// Execution price.
    pub price: Price,
    /// Executed quantity.
    pub qty: Qty,
    /// Fee.
    pub fee: pennant_sdk::Amount,
}

/// Every working order of every strategy.
#[derive(Debug, Default)]
pub struct Orders {
    next_id: OrderId,
    open: FxHashMap<OrderId, OrderRecord>,
    /// The working orders of each strategy in each instrument, oldest first: what the
    /// risk checks look at for every order, without scanning every order.
    books: FxHashMap<(StrategyIdx, InstrumentId), Vec<OrderId>>,
}

impl Orders {
    /// Records a new order, valued at `valued_at` for exposure, and gives it its id.
    pub fn open(
        &mut self,
        strategy: StrategyIdx,
        request: OrderRequest,
        now: Timestamp,
        valued_at: Price,
    ) -> OrderId {
        self.next_id += 1;
        let id = self.next_id;
        self.books
            .entry((strategy, request.instrument))
            .or_default()
            .push(id);
        self.open.insert(
            id,
            OrderRecord {
                id,
                strategy,
                request,
                status: None,
                filled: Qty::ZERO,
                created: now,
                valued_at,
                cancel_pending: false,
                status_unknown: false,
            },
        );
        id
    }

    /// Marks a cancel sent; false if one was already pending (it is not sent twice).
    pub fn mark_cancel_pending(&mut self, id: OrderId) -> bool {
        self.open
            .get_mut(&id)
            .is_some_and(|o| !std::mem::replace(&mut o.cancel_pending, true))
    }

    /// The venue refused a cancel; false if the order is not working.
    pub fn cancel_refused(&mut self, id: OrderId) -> bool {
        self.open
            .get_mut(&id)
            .map(|o| o.cancel_pending = false)
            .is_some()
    }

    /// No answer came for the order; false if it is not working.
    pub fn mark_unknown(&mut self, id: OrderId) -> bool {
        self.open
            .get_mut(&id)
            .map(|o| o.status_unknown = true)
            .is_some()
    }

    /// How many working orders have a cancel pending, and how many an unknown status.
    pub fn pending(&self) -> (usize, usize) {
        self.open.values().fold((0, 0), |(c, u), o| {
            (
                c + usize::from(o.cancel_pending),
                u + usize::from(o.status_unknown),
            )
        })
    }

    /// Puts back a working order recovered after a restart; ids continue after it.
    pub fn restore(&mut self, order: OrderRecord) {
        self.next_id = self.next_id.max(order.id);
        self.books
            .entry((order.strategy, order.request.instrument))
            .or_default()
            .push(order.id);
        self.open.insert(order.id, order);
    }

    /// Order ids continue after `id` (the highest ever given, after a restart).
    pub fn continue_after(&mut self, id: OrderId) {
        self.next_id = self.next_id.max(id);
    }

    /// A working order.
    pub fn get(&self, id: OrderId) -> Option<&OrderRecord> {
        self.open.get(&id)
    }

    /// The ids of a strategy's working orders, oldest first.
    pub fn open_ids(&self, strategy: StrategyIdx) -> Vec<OrderId> {
        let mut ids: Vec<OrderId> = self
            .open
            .values()
            .filter(|o| o.strategy == strategy)
            .map(|o| o.id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Every working order, oldest first.
    pub fn all_open(&self) -> Vec<OrderRecord> {
        let mut orders: Vec<OrderRecord> = self.open.values().copied().collect();
        orders.sort_unstable_by_key(|o| o.id);
        orders
    }

    /// A strategy's working orders in one instrument, oldest first.
    pub fn book(
        &self,
        strategy: StrategyIdx,
        instrument: InstrumentId,
    ) -> impl Iterator<Item = &OrderRecord> {
        self.books
            .get(&(strategy, instrument))
            .into_iter()
            .flatten()
            .filter_map(|id| self.open.get(id))
    }

    /// Whether a strategy has a working order with this client order id.
    pub fn has_client_order_id(&self, strategy: StrategyIdx, client_order_id: u64) -> bool {
        self.books
            .iter()
            .filter(|((s, _), _)| *s == strategy)
            .flat_map(|(_, ids)| ids)
            .any(|id| {
                self.open
                    .get(id)
                    .is_some_and(|o| o.request.client_order_id == client_order_id)
            })
    }

    /// Notional of a strategy's working orders at the prices they were valued at (`None`:
    /// of every strategy's).
    pub fn open_notional(&self, strategy: Option<StrategyIdx>) -> i128 {
        self.books
            .iter()
            .filter(|((s, _), _)| strategy.is_none_or(|want| *s == want))
            .flat_map(|(_, ids)| ids)
            .filter_map(|id| self.open.get(id))
            .map(|o| {
                i128::from(o.valued_at.raw()) * i128::from(o.leaves().raw())
                    / i128::from(pennant_sdk::fixed::SCALE)
            })
            .sum()
    }

    /// Number of working orders.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Applies a venue report: the update for the owning strategy, and the fill if any.
    /// Reports about orders no longer working (a late duplicate) are ignored.
    pub fn apply(
        &mut self,
        report: &ExecutionReport,
    ) -> Option<(StrategyIdx, OrderUpdate, Option<Fill>)> {
        let id = report.order_id();
        let order = self.open.get_mut(&id)?;
        // A venue may acknowledge an order twice (Binance: the REST answer and the user
        // stream's NEW, in either order): the second says nothing new, and must not
        // take a partly filled order back to accepted.
        if matches!(report, ExecutionReport::Accepted { .. })
            && !order.status_unknown
            && matches!(
                order.status,
                Some(OrderStatus::Accepted | OrderStatus::PartiallyFilled)
            )
        {
            return None;
        }
        let update = report.update(&order.request, order.filled)?;
        // Any report about the order says what became of it.
        order.status_unknown = false;
        let mut fill = None;
        match *report {
            ExecutionReport::Accepted { .. } => order.status = Some(OrderStatus::Accepted),
            ExecutionReport::Fill {
                price, qty, fee, ..
            } => {
                order.filled = update.filled_qty;
                order.status = Some(update.status);
                fill = Some(Fill {
                    strategy: order.strategy,
                    request: order.request,
                    price,
                    qty,
                    fee,
                });
            }
            _ => {}
        }
        let strategy = order.strategy;
        if update.status.is_final() {
            if let Some(order) = self.open.remove(&id) {
                if let Some(book) = self
                    .books
                    .get_mut(&(order.strategy, order.request.instrument))
                {
                    book.retain(|&o| o != id);
                }
            }
        }
        Some((strategy, update, fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{amount, px, qty};
    use pennant_sdk::{Liquidity, RejectReason, Side};

    #[test]
    fn reports_become_updates_and_finished_orders_leave() {
        let mut orders = Orders::default();
        let request =
            OrderRequest::limit(1, Side::Buy, px("10"), qty("3")).with_client_order_id(77);
        let id = orders.open(4, request, 100, Price::ZERO);
        let (owner, update, fill) = orders
            .apply(&ExecutionReport::Accepted { id, ts: 101 })
            .unwrap();
        assert_eq!(
            (
                owner,
                update.status,
                update.leaves_qty,
                update.client_order_id
            ),
            (4, OrderStatus::Accepted, qty("3"), 77)
        );
        assert_eq!(fill, None);
        let fill_report = |q: &str| ExecutionReport::Fill {
            id,
            price: px("10"),
            qty: qty(q),
            fee: amount("0.01"),
            liquidity: Liquidity::Maker,
            ts: 102,
        };
        let (_, update, fill) = orders.apply(&fill_report("1")).unwrap();
        assert_eq!(
            (update.status, update.filled_qty, update.leaves_qty),
            (OrderStatus::PartiallyFilled, qty("1"), qty("2"))
        );
        assert_eq!(fill.unwrap().qty, qty("1"));
        assert_eq!(
            orders.apply(&ExecutionReport::Accepted { id, ts: 102 }),
            None,
            "a second acknowledgement changes nothing"
        );
        assert_eq!(orders.open_ids(4), vec![id]);
        let (_, update, _) = orders.apply(&fill_report("2")).unwrap();
        assert_eq!(
            (update.status, update.leaves_qty),
            (OrderStatus::Filled, Qty::ZERO)
        );
        assert!(orders.is_empty());
        assert_eq!(
            orders.apply(&ExecutionReport::Canceled { id, ts: 103 }),
            None,
            "late reports are ignored"
        );
    }

    #[test]
    fn rejections_and_cancels_are_final() {
        let mut orders = Orders::default();
        let a = orders.open(
            0,
            OrderRequest::market(1, Side::Sell, qty("1")),
            0,
            Price::ZERO,
        );
        let b = orders.open(
            1,
            OrderRequest::market(1, Side::Sell, qty("1")),
            0,
            Price::ZERO,
        );
        let (_, update, _) = orders
            .apply(&ExecutionReport::Rejected {
                id: a,
                reason: RejectReason::NoLiquidity,
                ts: 1,
            })
            .unwrap();
        assert_eq!(
            (update.status, update.reason),
            (OrderStatus::Rejected, Some(RejectReason::NoLiquidity))
        );
        let (owner, update, _) = orders
            .apply(&ExecutionReport::Canceled { id: b, ts: 1 })
            .unwrap();
        assert_eq!((owner, update.status), (1, OrderStatus::Canceled));
        assert!(orders.is_empty());
    }
}
