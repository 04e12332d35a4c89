//! What the engine gets back after a restart: read from the store, recorded with a
//! session.

use super::{OrderEvent, PositionSnapshot, TradingState};

/// What the engine gets back after a restart.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recovered {
    /// The last journal sequence number written.
    pub last_seq: u64,
    /// The highest order id ever given.
    pub max_order_id: u64,
    /// When the latest recorded order was created (0 without one): with
    /// `max_order_id`, where the record of orders ends.
    pub last_order_at: i64,
    /// Orders that could still fill, oldest first, with when they were created.
    pub open_orders: Vec<(OrderEvent, i64)>,
    /// The latest position of each strategy in each instrument.
    pub positions: Vec<PositionSnapshot>,
    /// Each strategy's last state.
    pub states: Vec<(String, Vec<u8>)>,
    /// The last trading state set on each scope (`global`, `strategy ID`), by an
    /// operator, the kill switch or a daily-loss breach.
    pub trading_states: Vec<TradingStateRecord>,
    /// The latest trading day's PnL baselines: `(day start, scope, raw amount)`.
    pub day_baselines: Vec<(i64, String, String)>,
    /// Limits changed at run time (through the API) and not since by the configuration:
    /// `(scope, limits as TOML)`.
    pub limits: Vec<(String, String)>,
    /// The last run ended with a clean shutdown, and everything it recorded was written.
    pub clean_shutdown: bool,
}

/// The last trading state of a scope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TradingStateRecord {
    /// `global` or `strategy ID`.
    pub scope: String,
    /// The state.
    pub state: TradingState,
    /// Set by the kill switch, which stays engaged.
    pub kill_switch: bool,
}
