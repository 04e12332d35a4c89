//! Venues: where accepted orders go. One interface, [`Venue`], for the simulated paper
//! venue and for real exchanges.
//!
//! The engine calls a venue synchronously and never waits on it: `submit` and `cancel`
//! hand an order over and return, and execution reports come back through `out`. The
//! paper venue answers at once, in the same call, which keeps backtests deterministic. An
//! exchange adapter instead forwards to a tokio task and feeds the exchange's reports
//! back to the engine as they arrive.

pub mod client_id;
pub mod paper;

use crate::market::MarketEvent;
use pennant_sdk::{Amount, Liquidity, OrderId, OrderRequest, Price, Qty, RejectReason, Timestamp};

pub use client_id::{ClientOrderId, ClientOrderIds};
pub use paper::PaperVenue;

/// An order as a venue sees it: already risk-checked, with the engine's id and the id
/// the venue knows it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueOrder {
    /// The engine's order id.
    pub id: OrderId,
    /// The id it carries at the venue (`[daemon] id`, a dash, `id`).
    pub client_id: ClientOrderId,
    /// What the strategy asked for.
    pub request: OrderRequest,
}

/// What a venue reports about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionReport {
    /// The order is working.
    Accepted {
        /// Which order.
        id: OrderId,
        /// When.
        ts: Timestamp,
    },
    /// The order was refused.
    Rejected {
        /// Which order.
        id: OrderId,
        /// Why.
        reason: RejectReason,
        /// When.
        ts: Timestamp,
    },
    /// Part or all of the order executed.
    Fill {
        /// Which order.
        id: OrderId,
        /// At what price.
        price: Price,
        /// How much.
        qty: Qty,
        /// The fee charged (negative for a rebate).
        fee: Amount,
        /// Maker or taker.
        liquidity: Liquidity,
        /// When.
        ts: Timestamp,
    },
    /// The rest of the order will not execute.
    Canceled {
        /// Which order.
        id: OrderId,
        /// When.
        ts: Timestamp,
    },
}

impl ExecutionReport {
    /// The order it is about.
    pub fn order_id(&self) -> OrderId {
        match *self {
            ExecutionReport::Accepted { id, .. }
            | ExecutionReport::Rejected { id, .. }
            | ExecutionReport::Fill { id, .. }
            | ExecutionReport::Canceled { id, .. } => id,
        }
    }
}

/// A place to send orders.
pub trait Venue: Send {
    /// The venue's name, for logs.
    fn name(&self) -> &str;
    /// Hands over an order at engine time `now`.
    fn submit(&mut self, order: VenueOrder, now: Timestamp, out: &mut Vec<ExecutionReport>);
    /// Asks to cancel an order; a `Canceled` report confirms it. Unknown or finished
    /// orders are ignored: their final report was already sent.
    fn cancel(&mut self, id: OrderId, now: Timestamp, out: &mut Vec<ExecutionReport>);
    /// Market data, for venues that simulate matching against it.
    fn on_market(&mut self, event: &MarketEvent, out: &mut Vec<ExecutionReport>);
    /// The engine clock moved to `now` (orders in flight may arrive).
    fn on_clock(&mut self, now: Timestamp, out: &mut Vec<ExecutionReport>);
    /// Takes back the orders that were working before a restart, with what was left of
    /// each. A simulator rebuilds its book from them; an exchange kept them and has
    /// nothing to do.
    fn restore(&mut self, orders: &[(VenueOrder, Qty)]);
    /// The ids of the orders the venue holds open: what the engine reconciles its own
    /// open orders with after a restart.
    fn open_orders(&self) -> Vec<OrderId>;
}
