//! What the daemon holds at its venues, per strategy: its own working orders
//! ([`Orders`]) and its positions and PnL ([`Ledger`]); and per venue, the account's
//! balances where the venue reports them ([`Balances`]).
//!
//! Plain bookkeeping below the risk checks and the engine: the risk engine reads it to
//! value exposure, the engine changes it as strategies act and venues report. It knows
//! nothing of strategies' code, the clock or the store.

pub mod balances;
pub mod ledger;
pub mod orders;

pub use balances::Balances;
pub use ledger::{Ledger, LedgerOverflow};
pub use orders::{OrderRecord, Orders};

/// Index of a strategy in the engine, stable while the engine runs.
pub type StrategyIdx = usize;
