//! The engine's inputs as it takes them, told to a [`Tape`]: the seam the session
//! recorder (a layer above) plugs into. The engine knows nothing of files or formats; it
//! tells the tape each input with the wall time it was handled at, in the order it
//! handled them (a batch cut where a control input came between two of its events), so
//! that feeding the same inputs to a fresh engine, with the same wall times, does the same.

use super::command::Command;
use super::outcome::Outcome;
use crate::market::MarketEvent;
use crate::store::Recovered;
use pennant_sdk::Timestamp;

/// One input, as the engine handled it.
#[derive(Debug, Clone, Copy)]
pub enum Frame<'a> {
    /// Market events, handled one after the other.
    Market(&'a [MarketEvent]),
    /// A feed ended.
    FeedEnded(&'a str),
    /// A wall-clock tick.
    Tick,
    /// Shutdown was asked for.
    Shutdown,
    /// A command ran.
    Command(&'a Command),
    /// A venue's later answer (reports, a snapshot), by venue index.
    Venue(usize, &'a crate::venue::VenueEvent),
    /// The store hold changed: trading reduce-only while records are not durable
    /// (`Some(why)`), or lifted. It depends on the disk, not on the other inputs.
    StoreHold(Option<&'a str>),
}

/// Where the engine tells its inputs.
pub trait Tape: Send {
    /// An input handled at wall time `wall` (0 with the event clock).
    fn record(&mut self, wall: Timestamp, frame: Frame<'_>);
    /// The state read back from the store before the first input.
    fn recovered(&mut self, recovered: &Recovered);
    /// The session ended with this outcome.
    fn finish(&mut self, outcome: &Outcome);
}
