//! Orders and what becomes of them: the request a strategy submits, why one is refused,
//! and the updates the host sends back.

use super::{InstrumentId, OrderId, Timestamp};
use crate::fixed::{Amount, Price, Qty};
use std::fmt;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buy: increases the position.
    Buy,
    /// Sell: decreases the position.
    Sell,
}

impl Side {
    /// Every side.
    pub const ALL: [Side; 2] = [Side::Buy, Side::Sell];

    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// `qty` signed for a position: positive for a buy, negative for a sell.
    pub fn signed(self, qty: Qty) -> Qty {
        match self {
            Side::Buy => qty,
            Side::Sell => -qty,
        }
    }

    /// Lower-case name, as used in logs, files and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Market or limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// Executes against the best opposite quote; what does not fill at once is canceled.
    Market,
    /// Executes at the limit price or better.
    Limit,
}

/// How long an order works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Good till canceled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Maker only: rejected if it would execute on arrival.
    PostOnly,
}

impl OrderKind {
    /// Every kind.
    pub const ALL: [OrderKind; 2] = [OrderKind::Market, OrderKind::Limit];

    /// Snake-case name, as recorded and logged.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Market => "market",
            OrderKind::Limit => "limit",
        }
    }
}

impl TimeInForce {
    /// Every time in force.
    pub const ALL: [TimeInForce; 3] = [TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::PostOnly];

    /// Snake-case name, as recorded and logged.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Gtc => "gtc",
            TimeInForce::Ioc => "ioc",
            TimeInForce::PostOnly => "post_only",
        }
    }
}

/// An order a strategy asks the host to place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderRequest {
    /// What to trade.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub kind: OrderKind,
    /// Limit price; ignored for market orders.
    pub price: Price,
    /// Quantity, positive.
    pub qty: Qty,
    /// How long it works.
    pub time_in_force: TimeInForce,
    /// The strategy's own id, echoed in order updates.
    pub client_order_id: u64,
}

impl OrderRequest {
    /// A good-till-canceled limit order.
    pub fn limit(instrument: InstrumentId, side: Side, price: Price, qty: Qty) -> Self {
        OrderRequest {
            instrument,
            side,
            kind: OrderKind::Limit,
            price,
            qty,
            time_in_force: TimeInForce::Gtc,
            client_order_id: 0,
        }
    }

    /// A market order.
    pub fn market(instrument: InstrumentId, side: Side, qty: Qty) -> Self {
        OrderRequest {
            instrument,
            side,
            kind: OrderKind::Market,
            price: Price::ZERO,
            qty,
            time_in_force: TimeInForce::Ioc,
            client_order_id: 0,
        }
    }

    /// The same order with another time in force.
    pub fn with_time_in_force(mut self, time_in_force: TimeInForce) -> Self {
        self.time_in_force = time_in_force;
        self
    }

    /// The same order with the strategy's own id.
    pub fn with_client_order_id(mut self, id: u64) -> Self {
        self.client_order_id = id;
        self
    }
}

/// Why an order or cancel was refused; the codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum RejectReason {
    UnknownInstrument,
    InvalidQuantity,
    InvalidPrice,
    TickSize,
    LotSize,
    MinQuantity,
    MaxQuantity,
    MinNotional,
    MaxNotional,
    PriceBand,
    NoReferencePrice,
    MaxPosition,
    MaxGrossExposure,
    MaxOpenOrders,
    RateLimit,
    MaxDailyLoss,
    SelfTrade,
    InstrumentNotAllowed,
    DuplicateClientOrderId,
    TradingHalted,
    ReduceOnly,
    PostOnlyWouldCross,
    NoLiquidity,
    UnknownOrder,
    VenueRejected,
    /// The account at the venue has not the free balance the order needs (the quote
    /// asset for a buy, the base asset for a sell). New in contract 0.2: a component
    /// built against 0.1 sees `venue_rejected`.
    InsufficientBalance,
    /// The order would pass the venue's own request or order budget (or the venue has
    /// asked for a pause, HTTP 429/418), so it was not sent. New in contract 0.2: a 0.1
    /// component sees `rate_limit`.
    VenueRateBudget,
    /// The venue does not trade the symbol now (its status is not `TRADING`). New in
    /// contract 0.2: a 0.1 component sees `venue_rejected`.
    SymbolNotTrading,
}

impl RejectReason {
    /// Every reason.
    pub const ALL: [RejectReason; 28] = [
        RejectReason::UnknownInstrument,
        RejectReason::InvalidQuantity,
        RejectReason::InvalidPrice,
        RejectReason::TickSize,
        RejectReason::LotSize,
        RejectReason::MinQuantity,
        RejectReason::MaxQuantity,
        RejectReason::MinNotional,
        RejectReason::MaxNotional,
        RejectReason::PriceBand,
        RejectReason::NoReferencePrice,
        RejectReason::MaxPosition,
        RejectReason::MaxGrossExposure,
        RejectReason::MaxOpenOrders,
        RejectReason::RateLimit,
        RejectReason::MaxDailyLoss,
        RejectReason::SelfTrade,
        RejectReason::InstrumentNotAllowed,
        RejectReason::DuplicateClientOrderId,
        RejectReason::TradingHalted,
        RejectReason::ReduceOnly,
        RejectReason::PostOnlyWouldCross,
        RejectReason::NoLiquidity,
        RejectReason::UnknownOrder,
        RejectReason::VenueRejected,
        RejectReason::InsufficientBalance,
        RejectReason::VenueRateBudget,
        RejectReason::SymbolNotTrading,
    ];

    /// The stable code, in snake case, as logged and counted (`"tick_size"`).
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::UnknownInstrument => "unknown_instrument",
            RejectReason::InvalidQuantity => "invalid_quantity",
            RejectReason::InvalidPrice => "invalid_price",
            RejectReason::TickSize => "tick_size",
            RejectReason::LotSize => "lot_size",
            RejectReason::MinQuantity => "min_quantity",
            RejectReason::MaxQuantity => "max_quantity",
            RejectReason::MinNotional => "min_notional",
            RejectReason::MaxNotional => "max_notional",
            RejectReason::PriceBand => "price_band",
            RejectReason::NoReferencePrice => "no_reference_price",
            RejectReason::MaxPosition => "max_position",
            RejectReason::MaxGrossExposure => "max_gross_exposure",
            RejectReason::MaxOpenOrders => "max_open_orders",
            RejectReason::RateLimit => "rate_limit",
            RejectReason::MaxDailyLoss => "max_daily_loss",
            RejectReason::SelfTrade => "self_trade",
            RejectReason::InstrumentNotAllowed => "instrument_not_allowed",
            RejectReason::DuplicateClientOrderId => "duplicate_client_order_id",
            RejectReason::TradingHalted => "trading_halted",
            RejectReason::ReduceOnly => "reduce_only",
            RejectReason::PostOnlyWouldCross => "post_only_would_cross",
            RejectReason::NoLiquidity => "no_liquidity",
            RejectReason::UnknownOrder => "unknown_order",
            RejectReason::VenueRejected => "venue_rejected",
            RejectReason::InsufficientBalance => "insufficient_balance",
            RejectReason::VenueRateBudget => "venue_rate_budget",
            RejectReason::SymbolNotTrading => "symbol_not_trading",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A refused order or cancel: the stable reason and a message for humans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The stable code.
    pub reason: RejectReason,
    /// What exactly was wrong.
    pub message: String,
}

impl Rejection {
    /// A rejection with its reason and message.
    pub fn new(reason: RejectReason, message: impl Into<String>) -> Self {
        Rejection {
            reason,
            message: message.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

impl std::error::Error for Rejection {}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Working at the venue.
    Accepted,
    /// Refused by the venue.
    Rejected,
    /// Partly filled, the rest still working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Canceled; nothing more will fill.
    Canceled,
}

impl OrderStatus {
    /// True when the order can no longer fill.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Rejected | OrderStatus::Filled | OrderStatus::Canceled
        )
    }

    /// Every status.
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Accepted,
        OrderStatus::Rejected,
        OrderStatus::PartiallyFilled,
        OrderStatus::Filled,
        OrderStatus::Canceled,
    ];

    /// Lower-case name, as logged.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Accepted => "accepted",
            OrderStatus::Rejected => "rejected",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::Canceled => "canceled",
        }
    }
}

/// Whether a fill added or took liquidity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    /// Not a fill.
    None,
    /// The order rested and was hit.
    Maker,
    /// The order executed on arrival.
    Taker,
}

impl Liquidity {
    /// Every value.
    pub const ALL: [Liquidity; 3] = [Liquidity::None, Liquidity::Maker, Liquidity::Taker];

    /// Lower-case name, as recorded.
    pub fn as_str(self) -> &'static str {
        match self {
            Liquidity::None => "none",
            Liquidity::Maker => "maker",
            Liquidity::Taker => "taker",
        }
    }
}

/// A change in one of the strategy's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderUpdate {
    /// The host's id of the order.
    pub order_id: OrderId,
    /// The strategy's own id of the order.
    pub client_order_id: u64,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// The new status.
    pub status: OrderStatus,
    /// When.
    pub ts: Timestamp,
    /// Price of this fill (zero when not a fill).
    pub fill_price: Price,
    /// Quantity of this fill (zero when not a fill).
    pub fill_qty: Qty,
    /// Fee of this fill (negative for a rebate).
    pub fee: Amount,
    /// Maker or taker, for a fill.
    pub liquidity: Liquidity,
    /// Filled so far.
    pub filled_qty: Qty,
    /// Still working.
    pub leaves_qty: Qty,
    /// Why, when rejected.
    pub reason: Option<RejectReason>,
}

impl OrderUpdate {
    /// True if this update reports a fill.
    pub fn is_fill(&self) -> bool {
        self.fill_qty.is_positive()
    }
}
