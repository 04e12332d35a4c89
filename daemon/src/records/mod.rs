//! What the engine records: one [`Record`] per thing that happened, numbered by the
//! engine's journal in the order it happened, and what is read back after a restart
//! ([`Recovered`]). A layer below the engine and the store: the engine writes these,
//! the store maps them to rows, the event stream and the API read them. Records are
//! plain data (ids and symbols as text, money as raw fixed point, closed sets as the
//! enums of [`names`], which the store writes as their names) so that they can wait in
//! the spool file and be written to either backend as they are.

mod names;
mod recovered;
mod writer_stats;

pub use names::{LifecycleKind, Named, OrderState, RiskKind, TradingState, UnknownName};
pub use recovered::{Recovered, TradingStateRecord};
pub use writer_stats::WriterStats;
pub mod signal_stats;
pub use signal_stats::SignalStats;

use pennant_sdk::{Liquidity, OrderKind, RejectReason, Side, TimeInForce, Timestamp};
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
    /// A signal's instrument as one of its horizons passed.
    SignalOutcome(SignalOutcome),
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
    /// The venue it was sent to (empty in records made before venues were recorded).
    #[serde(default)]
    pub venue: String,
    /// The id the venue knows it by (`DAEMONID-ORDERID`; empty in records made before).
    #[serde(default)]
    pub venue_client_id: String,
    /// Instrument symbol.
    pub instrument: String,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub kind: OrderKind,
    /// How long it works.
    pub time_in_force: TimeInForce,
    /// Limit price (raw).
    pub price: i64,
    /// Quantity (raw).
    pub qty: i64,
    /// Where it stands.
    pub status: OrderState,
    /// Filled so far (raw).
    pub filled_qty: i64,
    /// Why it was rejected or ended: a reason code, or a note.
    pub reason: Option<String>,
}

impl OrderEvent {
    /// True while the order can still fill.
    pub fn is_open(&self) -> bool {
        self.status.is_open()
    }
}

/// An execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FillEvent {
    /// Owner.
    pub strategy: String,
    /// The order.
    pub order_id: u64,
    /// The venue it executed at (empty in records made before venues were recorded).
    #[serde(default)]
    pub venue: String,
    /// Instrument symbol.
    pub instrument: String,
    /// Buy or sell.
    pub side: Side,
    /// Execution price (raw).
    pub price: i64,
    /// Executed quantity (raw).
    pub qty: i64,
    /// Fee (raw; negative for a rebate).
    pub fee: i64,
    /// Maker or taker.
    pub liquidity: Liquidity,
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
    /// What happened.
    pub event: LifecycleKind,
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
    /// What it is.
    pub kind: RiskKind,
    /// A rejection's reason.
    pub reason: Option<RejectReason>,
    /// Who made a change.
    pub actor: Option<String>,
    /// The scope of a change.
    pub scope: Option<String>,
    /// The scope's trading state after a state change or the kill switch.
    pub state: Option<TradingState>,
    /// The message.
    pub detail: String,
}

/// Where a signal's instrument went: its mark when the signal was emitted and as a
/// horizon after it passed (see `engine::signal_horizons`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalOutcome {
    /// The strategy.
    pub strategy: String,
    /// Instrument symbol.
    pub instrument: String,
    /// The signal's side.
    pub side: Side,
    /// When the signal was emitted (engine time).
    pub signal_ts: Timestamp,
    /// The horizon, in seconds.
    pub horizon_secs: u32,
    /// The mark at emission (raw).
    pub reference: i64,
    /// The mark as the horizon passed (raw).
    pub price: i64,
}

impl SignalOutcome {
    /// Whether the price went the signal's way.
    pub fn hit(&self) -> bool {
        match self.side {
            Side::Buy => self.price > self.reference,
            Side::Sell => self.price < self.reference,
        }
    }

    /// The move in the signal's direction, in basis points of the reference.
    pub fn return_bps(&self) -> f64 {
        if self.reference == 0 {
            return 0.0;
        }
        let moved = (self.price as f64 - self.reference as f64) / self.reference as f64 * 1e4;
        match self.side {
            Side::Buy => moved,
            Side::Sell => -moved,
        }
    }
}

/// A strategy's signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalEvent {
    /// The strategy.
    pub strategy: String,
    /// Instrument symbol.
    pub instrument: String,
    /// Buy or sell.
    pub side: Side,
    /// Conviction, 0 to 1.
    pub strength: f64,
    /// Price target (raw).
    pub target: Option<i64>,
    /// Stop (raw).
    pub stop: Option<i64>,
    /// Free text.
    pub note: String,
}
