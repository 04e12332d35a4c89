//! Venues: where accepted orders go. One interface, [`Venue`], for the simulated paper
//! venue and for real exchanges.
//!
//! Commands go out (`submit`, `cancel`, `snapshot`) and reports come back, by one of two
//! ways into the same booking: a venue that knows the answer at once (the paper venue, a
//! simulator: backtests stay deterministic) pushes it to `out` within the call; an
//! exchange adapter hands the command to its tokio task and returns, and its reports and
//! snapshots arrive later as `EngineInput::Venue` ([`VenueEvent`]). The engine never waits
//! on a venue. An order sent without an answer (a timeout) is reported
//! [`ExecutionReport::Unknown`] until a later report about it resolves it; a cancel
//! asked for is pending until the venue confirms it or refuses it
//! ([`ExecutionReport::CancelRejected`]).

pub mod binance;
pub mod client_id;
pub mod detached;
pub mod paper;

use crate::market::MarketEvent;
pub use pennant_sdk::matching::ExecutionReport;
use pennant_sdk::{Amount, OrderId, OrderRequest, Qty, Timestamp};

pub use client_id::{ClientOrderId, ClientOrderIds};
pub use detached::DetachedVenue;
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

/// A venue's account as it stands: what the engine reconciles its own orders with, at
/// start and after a reconnect.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VenueSnapshot {
    /// This daemon's orders open at the venue (recognised by their client order ids),
    /// with the quantity filled so far. An adapter sends the fills it missed as fill
    /// reports before the snapshot.
    pub open: Vec<(OrderId, Qty)>,
    /// Open orders of other clients, left alone.
    pub others: usize,
    /// Balances by asset, where the venue has them: `(asset, free, locked)`.
    pub balances: Vec<(String, Amount, Amount)>,
    /// The highest order id the venue had been sent when it read the account, for a
    /// snapshot that comes later: an engine order past it was still on its way (in the
    /// adapter's queue), so its absence means nothing. `None`: taken at once, every
    /// order counts.
    pub sent_up_to: Option<OrderId>,
}

/// What a venue sends the engine later, as an input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VenueEvent {
    /// Execution reports, in the order the venue gave them.
    Reports(Vec<ExecutionReport>),
    /// The answer to [`Venue::snapshot`].
    Snapshot(VenueSnapshot),
    /// Balances that changed, `(asset, free, locked)` (an exchange's account stream).
    Balances(Vec<(String, Amount, Amount)>),
    /// The exchange banned this IP (HTTP 418) until `until` (wall time, ns): nothing is
    /// sent before then, and trading goes to `state` (the venue's `on_ban`).
    Banned {
        /// When the ban ends.
        until: Timestamp,
        /// The trading state the venue's policy asks for.
        state: crate::records::TradingState,
    },
    /// Orders of this daemon the venue has and the store never recorded (the answer to
    /// [`Venue::find_unrecorded`]). Last in the enum: session files keep their variants'
    /// numbers.
    Unrecorded(Vec<UnrecordedOrder>),
}

/// Where the store's record of orders ended when the last run stopped without a clean
/// shutdown. The journal is written in order, so an order with a higher id than the
/// last recorded one was never recorded: it may have reached the venue all the same
/// (the daemon died between sending it and writing it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordEnd {
    /// The highest order id recorded.
    pub last_id: OrderId,
    /// When the latest recorded order was created (wall time, ns).
    pub at: Timestamp,
}

/// An order of this daemon found at the venue that the store never recorded: what it
/// is, and what became of it there, as the reports to book once the engine has it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnrecordedOrder {
    /// The engine's id, read from its client order id.
    pub id: OrderId,
    /// The order, read back from the venue (the strategy's own id for it is lost: 0).
    pub request: OrderRequest,
    /// When the venue took it (wall time, ns).
    pub created: Timestamp,
    /// Its story at the venue, in order: `Accepted`, its fills, and its end if it ended
    /// (a fill that completes it ends it).
    pub reports: Vec<ExecutionReport>,
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
    /// Market data of the venue's instruments, for venues that simulate matching
    /// against it.
    fn on_market(&mut self, _event: &MarketEvent, _out: &mut Vec<ExecutionReport>) {}
    /// The engine clock moved to `now` (a simulator's orders in flight may arrive).
    fn on_clock(&mut self, _now: Timestamp, _out: &mut Vec<ExecutionReport>) {}
    /// For a simulator: how long, in engine time, an order sent to it takes to reach its
    /// matching, so that the engine may hand a strategy the market events within that
    /// time in one call (nothing it sends while handling them can change their fills). A
    /// cancel may take effect at once: it can only take fills away. `None` (an exchange,
    /// or no latency) lets the engine batch nothing.
    fn reach(&self) -> Option<Timestamp> {
        None
    }
    /// For a simulator: whether a market event could make it report, judged without
    /// running it (never false for one that would; an exchange: always true).
    fn may_report(&self, _event: &MarketEvent) -> bool {
        true
    }
    /// For a simulator: when its next order in flight arrives, if one is.
    fn next_arrival(&self) -> Option<Timestamp> {
        None
    }
    /// Takes back the orders that were working before a restart, with what was left of
    /// each. A simulator rebuilds its book from them; an exchange kept them and has
    /// nothing to do.
    fn restore(&mut self, _orders: &[(VenueOrder, Qty)]) {}
    /// The last run stopped without a clean shutdown, its record of orders ending at
    /// `end`: an exchange adapter looks for orders of this daemon past it and sends
    /// those it finds as a [`VenueEvent::Unrecorded`]. A simulator has nothing to find
    /// (its orders died with the process).
    fn find_unrecorded(&mut self, _end: RecordEnd) {}
    /// An order of this daemon the venue had and the store had not recorded is now the
    /// engine's: its cancel, and reports about it, are known to belong to it.
    fn adopted(&mut self, _order: &VenueOrder) {}
    /// Asks for the venue's account as it stands. A venue that has it at hand returns
    /// it; an exchange adapter returns `None`, asks the exchange, and sends the answer as
    /// a [`VenueEvent::Snapshot`] input.
    fn snapshot(&mut self) -> Option<VenueSnapshot>;
}
