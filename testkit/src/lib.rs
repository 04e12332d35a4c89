//! Fixtures shared by Pennant's integration tests and benchmarks.

pub mod binance;
pub mod pg;
