//! What the engine records: one [`Record`] per thing that happened, numbered by the
//! engine's journal in the order it happened, and what is read back after a restart
//! ([`Recovered`]). A layer below the engine and the store: the engine writes these,
//! the store maps them to rows, the event stream and the API read them. Records are
//! plain data (ids and symbols as text, money as raw fixed point) so that they can wait
//! in the spool file and be written to either backend as they are.

mod recovered;

pub use recovered::{Recovered, TradingStateRecord};

use pennant_sdk::{Liquidity, OrderKind, OrderStatus, RejectReason, Side, TimeInForce, Timestamp};
use serde::{Deserialize, Serialize};

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Journal sequence number: unique, increasing, without gaps.
    pub seq: u64,
    /// Engine time.
    pub ts: Timestamp,
    /// What happened.
    pub body: Body,
}

/// The kinds of records, one table each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    /// An order changed state.
    Order(OrderEvent),
    /// An order (partly) executed.
    Fill(FillEvent),
    /// A position after a fill.
    Position(PositionSnapshot),
    /// A strategy was started, swapped, stopped...
    Lifecycle(LifecycleEvent),
    /// A strategy's state snapshot.
    State(StateSnapshot),
    /// A risk decision or change.
    Risk(RiskEvent),
    /// A strategy's signal.
    Signal(SignalEvent),
    /// The daemon stopped cleanly: the last record of a run.
    Shutdown,
}

/// An order and its new state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    /// Owner.
    pub strategy: String,
    /// The engine's order id.
    pub order_id: u64,
    /// The strategy's own id.
    pub client_order_id: u64,
    /// Instrument symbol.
    pub instrument: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `market` or `limit`.
    pub kind: String,
    /// `gtc`, `ioc` or `post_only`.
    pub time_in_force: String,
    /// Limit price (raw).
    pub price: i64,
    /// Quantity (raw).
    pub qty: i64,
    /// `submitted`, `accepted`, `partially_filled`, `filled`, `canceled` or `rejected`.
    pub status: String,
    /// Filled so far (raw).
    pub filled_qty: i64,
    /// Why it was rejected.
    pub reason: Option<String>,
}

impl OrderEvent {
    /// True while the order can still fill.
    pub fn is_open(&self) -> bool {
        OPEN_STATUSES.contains(&self.status.as_str())
    }
}

/// Statuses of an order that can still fill.
pub const OPEN_STATUSES: [&str; 3] = ["submitted", "accepted", "partially_filled"];

/// An execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FillEvent {
    /// Owner.
    pub strategy: String,
    /// The order.
    pub order_id: u64,
    /// Instrument symbol.
    pub instrument: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Execution price (raw).
    pub price: i64,
    /// Executed quantity (raw).
    pub qty: i64,
    /// Fee (raw; negative for a rebate).
    pub fee: i64,
    /// `maker` or `taker`.
    pub liquidity: String,
    /// PnL this fill realized, before fees (raw).
    pub realized_pnl: i64,
}

/// A strategy's position in an instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionSnapshot {
    /// Owner.
    pub strategy: String,
    /// Instrument symbol.
    pub instrument: String,
    /// Signed quantity (raw).
    pub qty: i64,
    /// Average entry price (raw).
    pub avg_price: i64,
    /// Realized PnL before fees (raw).
    pub realized_pnl: i64,
    /// Fees paid (raw).
    pub fees: i64,
}

/// A strategy's lifecycle event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifecycleEvent {
    /// The strategy.
    pub strategy: String,
    /// `started`, `swapped`, `reconfigured`, `stopped`, `quarantined`, `refused`,
    /// `failed` or `rolled_back`.
    pub event: String,
    /// The version concerned, if any.
    pub version: Option<String>,
    /// Details (a reason).
    pub detail: String,
}

/// A strategy's state, as its `snapshot` returned it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateSnapshot {
    /// The strategy.
    pub strategy: String,
    /// The bytes.
    pub state: Vec<u8>,
}

/// A risk decision or change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskEvent {
    /// The strategy concerned, if one.
    pub strategy: Option<String>,
    /// `rejection`, `limits`, `state`, `kill_switch`...
    pub kind: String,
    /// A rejection's reason code.
    pub reason: Option<String>,
    /// Who made a change.
    pub actor: Option<String>,
    /// The scope of a change.
    pub scope: Option<String>,
    /// The scope's trading state after a state change or the kill switch.
    pub state: Option<String>,
    /// The message.
    pub detail: String,
}

/// A strategy's signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalEvent {
    /// The strategy.
    pub strategy: String,
    /// Instrument symbol.
    pub instrument: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Conviction, 0 to 1.
    pub strength: f64,
    /// Price target (raw).
    pub target: Option<i64>,
    /// Stop (raw).
    pub stop: Option<i64>,
    /// Free text.
    pub note: String,
}

/// The store's names of the SDK's enums: stable text in the tables and the API.
pub mod names {
    use super::*;

    /// `buy` / `sell`.
    pub fn side(side: Side) -> &'static str {
        side.as_str()
    }

    /// Back from [`side`].
    pub fn parse_side(text: &str) -> Option<Side> {
        match text {
            "buy" => Some(Side::Buy),
            "sell" => Some(Side::Sell),
            _ => None,
        }
    }

    /// `market` / `limit`.
    pub fn kind(kind: OrderKind) -> &'static str {
        match kind {
            OrderKind::Market => "market",
            OrderKind::Limit => "limit",
        }
    }

    /// Back from [`kind`].
    pub fn parse_kind(text: &str) -> Option<OrderKind> {
        match text {
            "market" => Some(OrderKind::Market),
            "limit" => Some(OrderKind::Limit),
            _ => None,
        }
    }

    /// `gtc` / `ioc` / `post_only`.
    pub fn time_in_force(tif: TimeInForce) -> &'static str {
        match tif {
            TimeInForce::Gtc => "gtc",
            TimeInForce::Ioc => "ioc",
            TimeInForce::PostOnly => "post_only",
        }
    }

    /// Back from [`time_in_force`].
    pub fn parse_time_in_force(text: &str) -> Option<TimeInForce> {
        match text {
            "gtc" => Some(TimeInForce::Gtc),
            "ioc" => Some(TimeInForce::Ioc),
            "post_only" => Some(TimeInForce::PostOnly),
            _ => None,
        }
    }

    /// An order status; `submitted` is the state before the venue's first answer.
    pub fn status(status: Option<OrderStatus>) -> &'static str {
        match status {
            None => "submitted",
            Some(OrderStatus::Accepted) => "accepted",
            Some(OrderStatus::Rejected) => "rejected",
            Some(OrderStatus::PartiallyFilled) => "partially_filled",
            Some(OrderStatus::Filled) => "filled",
            Some(OrderStatus::Canceled) => "canceled",
        }
    }

    /// The status recorded when a cancel is asked for: the order still works until the
    /// venue confirms (recovery asks again for the cancel of an order left so).
    pub const PENDING_CANCEL: &str = "pending_cancel";

    /// Back from [`status`]: `Some(None)` for `submitted`.
    pub fn parse_status(text: &str) -> Option<Option<OrderStatus>> {
        Some(match text {
            "submitted" => None,
            "accepted" => Some(OrderStatus::Accepted),
            "rejected" => Some(OrderStatus::Rejected),
            "partially_filled" => Some(OrderStatus::PartiallyFilled),
            "filled" => Some(OrderStatus::Filled),
            "canceled" => Some(OrderStatus::Canceled),
            _ => return None,
        })
    }

    /// `maker` / `taker` / `none`.
    pub fn liquidity(liquidity: Liquidity) -> &'static str {
        match liquidity {
            Liquidity::Maker => "maker",
            Liquidity::Taker => "taker",
            Liquidity::None => "none",
        }
    }

    /// A rejection's stable code.
    pub fn reason(reason: RejectReason) -> &'static str {
        reason.code()
    }
}
