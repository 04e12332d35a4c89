//! The data that crosses the strategy boundary, as plain Rust types.
//!
//! Each type mirrors a record or enum of the `pennant:strategy` WIT package
//! (`sdk/wit/strategy.wit`); the guest glue and the daemon convert at the boundary, so
//! strategy code and host code never see generated bindings.

use crate::fixed::{Amount, Price, Qty};
use std::fmt;

/// Handle of an instrument, resolved once with [`crate::Host::lookup_instrument`].
pub type InstrumentId = u32;
/// Order id assigned by the host.
pub type OrderId = u64;
/// Engine time in nanoseconds since the Unix epoch (event time in a backtest).
pub type Timestamp = i64;

/// Nanoseconds in a millisecond, for timer arithmetic.
pub const NANOS_PER_MILLI: i64 = 1_000_000;
/// Nanoseconds in a second, for timer arithmetic.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl RejectReason {
    /// Every reason.
    pub const ALL: [RejectReason; 25] = [
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

/// A trade printed on the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// When.
    pub ts: Timestamp,
    /// At what price.
    pub price: Price,
    /// How much.
    pub qty: Qty,
    /// The side of the taker.
    pub aggressor: Side,
}

/// Best bid and offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// When.
    pub ts: Timestamp,
    /// Best bid price.
    pub bid_price: Price,
    /// Quantity at the best bid.
    pub bid_qty: Qty,
    /// Best ask price.
    pub ask_price: Price,
    /// Quantity at the best ask.
    pub ask_qty: Qty,
}

impl Quote {
    /// The mid price.
    pub fn mid(&self) -> Price {
        self.bid_price.midpoint(self.ask_price)
    }
}

/// A time bar aggregated from trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Start of the interval (inclusive).
    pub start: Timestamp,
    /// End of the interval (exclusive).
    pub end: Timestamp,
    /// First trade price.
    pub open: Price,
    /// Highest trade price.
    pub high: Price,
    /// Lowest trade price.
    pub low: Price,
    /// Last trade price.
    pub close: Price,
    /// Traded quantity.
    pub volume: Qty,
    /// Number of trades.
    pub trades: u32,
}

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

/// An instrument's identity and venue filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentInfo {
    /// Handle used in events.
    pub id: InstrumentId,
    /// Symbol such as `BTC-USDT`.
    pub symbol: String,
    /// Smallest price increment.
    pub tick_size: Price,
    /// Smallest quantity increment.
    pub lot_size: Qty,
    /// Smallest order quantity.
    pub min_qty: Qty,
    /// Smallest price x qty.
    pub min_notional: Amount,
}

impl InstrumentInfo {
    /// Checks an order against the venue's filters: positive quantity, price on tick, quantity
    /// on lot, minimum quantity and, for limit orders, minimum notional. The daemon's risk
    /// checks and the test harness both use this, so a strategy sees the same answer in
    /// its unit tests as in production.
    pub fn check_order(&self, order: &OrderRequest) -> Result<(), Rejection> {
        if !order.qty.is_positive() {
            return Err(Rejection::new(
                RejectReason::InvalidQuantity,
                format!("quantity {} is not positive", order.qty),
            ));
        }
        if !order.qty.is_multiple_of(self.lot_size) {
            return Err(Rejection::new(
                RejectReason::LotSize,
                format!(
                    "quantity {} is not a multiple of the lot size {}",
                    order.qty, self.lot_size
                ),
            ));
        }
        if order.qty < self.min_qty {
            return Err(Rejection::new(
                RejectReason::MinQuantity,
                format!(
                    "quantity {} is below the minimum {}",
                    order.qty, self.min_qty
                ),
            ));
        }
        if order.kind == OrderKind::Market && order.time_in_force == TimeInForce::PostOnly {
            return Err(Rejection::new(
                RejectReason::PostOnlyWouldCross,
                "a market order cannot be post-only",
            ));
        }
        if order.kind == OrderKind::Limit {
            if !order.price.is_positive() {
                return Err(Rejection::new(
                    RejectReason::InvalidPrice,
                    format!("limit price {} is not positive", order.price),
                ));
            }
            if !order.price.is_multiple_of(self.tick_size) {
                return Err(Rejection::new(
                    RejectReason::TickSize,
                    format!(
                        "price {} is not a multiple of the tick size {}",
                        order.price, self.tick_size
                    ),
                ));
            }
            let notional = order
                .price
                .checked_notional(order.qty)
                .ok_or_else(|| Rejection::new(RejectReason::MaxNotional, "notional overflows"))?;
            if notional < self.min_notional {
                return Err(Rejection::new(
                    RejectReason::MinNotional,
                    format!(
                        "notional {notional} is below the minimum {}",
                        self.min_notional
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Severity of a strategy's log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// An advisory signal: the strategy's view, recorded and published, never traded by the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Which way.
    pub side: Side,
    /// Conviction, 0.0 to 1.0.
    pub strength: f64,
    /// Optional price target.
    pub target: Option<Price>,
    /// Optional stop.
    pub stop: Option<Price>,
    /// Free-form note.
    pub note: String,
}

/// Which market data streams to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Streams {
    /// Trades.
    pub trades: bool,
    /// Best bid/ask.
    pub quotes: bool,
}

impl Streams {
    /// Trades only.
    pub const TRADES: Streams = Streams {
        trades: true,
        quotes: false,
    };
    /// Quotes only.
    pub const QUOTES: Streams = Streams {
        trades: false,
        quotes: true,
    };
    /// Trades and quotes.
    pub const ALL: Streams = Streams {
        trades: true,
        quotes: true,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(s: &str) -> Price {
        s.parse().unwrap()
    }
    fn q(s: &str) -> Qty {
        s.parse().unwrap()
    }
    fn amt(s: &str) -> Amount {
        s.parse().unwrap()
    }

    #[test]
    fn position_averages_in_and_realizes_out() {
        let mut pos = Position::flat(1);
        pos.apply_fill(Side::Buy, px("100"), q("1"), amt("0.1"))
            .unwrap();
        pos.apply_fill(Side::Buy, px("110"), q("1"), amt("0.1"))
            .unwrap();
        assert_eq!(pos.qty, q("2"));
        assert_eq!(pos.avg_price, px("105"));
        pos.apply_fill(Side::Sell, px("120"), q("0.5"), Amount::ZERO)
            .unwrap();
        assert_eq!(pos.qty, q("1.5"));
        assert_eq!(pos.avg_price, px("105"));
        assert_eq!(pos.realized_pnl, amt("7.5"));
        pos.mark(px("100")).unwrap();
        assert_eq!(pos.unrealized_pnl, amt("-7.5"));
        assert_eq!(pos.fees, amt("0.2"));
        assert_eq!(pos.net_pnl(), amt("-0.2"));
    }

    #[test]
    fn position_flips_through_zero() {
        let mut pos = Position::flat(1);
        pos.apply_fill(Side::Sell, px("50"), q("2"), Amount::ZERO)
            .unwrap();
        assert_eq!(pos.qty, q("-2"));
        pos.apply_fill(Side::Buy, px("40"), q("3"), Amount::ZERO)
            .unwrap();
        assert_eq!(pos.realized_pnl, amt("20"));
        assert_eq!(pos.qty, q("1"));
        assert_eq!(pos.avg_price, px("40"));
        pos.apply_fill(Side::Sell, px("41"), q("1"), Amount::ZERO)
            .unwrap();
        assert_eq!(pos.qty, Qty::ZERO);
        assert_eq!(pos.avg_price, Price::ZERO);
        assert_eq!(pos.realized_pnl, amt("21"));
    }

    #[test]
    fn overflow_leaves_the_position_unchanged() {
        let mut pos = Position::flat(1);
        pos.apply_fill(Side::Buy, px("100"), q("1"), Amount::ZERO)
            .unwrap();
        let before = pos;
        assert_eq!(
            pos.apply_fill(Side::Buy, Price::MAX, Qty::MAX, Amount::ZERO),
            None
        );
        assert_eq!(pos, before);
    }

    #[test]
    fn venue_filters() {
        let info = InstrumentInfo {
            id: 1,
            symbol: "BTC-USDT".into(),
            tick_size: px("0.1"),
            lot_size: q("0.001"),
            min_qty: q("0.001"),
            min_notional: amt("10"),
        };
        let ok = OrderRequest::limit(1, Side::Buy, px("100.1"), q("0.5"));
        assert_eq!(info.check_order(&ok), Ok(()));
        let reason = |o: OrderRequest| info.check_order(&o).unwrap_err().reason;
        assert_eq!(
            reason(OrderRequest {
                price: px("100.15"),
                ..ok
            }),
            RejectReason::TickSize
        );
        assert_eq!(
            reason(OrderRequest {
                qty: q("0.0005"),
                ..ok
            }),
            RejectReason::LotSize
        );
        assert_eq!(
            reason(OrderRequest { qty: q("0"), ..ok }),
            RejectReason::InvalidQuantity
        );
        assert_eq!(
            reason(OrderRequest {
                qty: q("0.01"),
                ..ok
            }),
            RejectReason::MinNotional
        );
        assert_eq!(
            reason(OrderRequest {
                price: px("0"),
                ..ok
            }),
            RejectReason::InvalidPrice
        );
        assert_eq!(
            reason(
                OrderRequest::market(1, Side::Buy, q("1"))
                    .with_time_in_force(TimeInForce::PostOnly)
            ),
            RejectReason::PostOnlyWouldCross
        );
        // Market orders have no price to check.
        assert_eq!(
            info.check_order(&OrderRequest::market(1, Side::Sell, q("0.01"))),
            Ok(())
        );
    }
}
