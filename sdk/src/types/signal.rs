//! What a strategy tells the host besides orders: log lines and signals.

use super::{InstrumentId, Side};
use crate::fixed::Price;

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
