//! The data that crosses the strategy boundary, as plain Rust types.
//!
//! Each type mirrors a record or enum of the `pennant:strategy` WIT package
//! (`sdk/wit/strategy.wit`); the guest glue and the daemon convert at the boundary, so
//! strategy code and host code never see generated bindings.

mod instrument;
mod market;
mod order;
mod position;
mod signal;

pub use instrument::*;
pub use market::*;
pub use order::*;
pub use position::*;
pub use signal::*;

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

#[cfg(test)]
mod tests;
