//! # pennant-daemon
//!
//! The library behind `pennantd`, the Pennant trading daemon. `main.rs` is a thin CLI
//! over [`daemon`]. See `ARCHITECTURE.md` at the repository root for the map.
//!
//! - [`config`]: the TOML configuration, checked with key and line in every error.
//! - [`market`]: normalized market data, instruments, bars, the replay and synthetic data.
//! - [`feed`]: the feed tasks that send market data to the engine.
//! - [`plugin`]: the WebAssembly host that runs strategy components under limits.
//! - [`account`]: the daemon's own orders and its positions, per strategy.
//! - [`engine`]: the deterministic event loop, strategies, timers.
//! - [`risk`]: pre-trade checks inside the `submit-order` host call.
//! - [`venue`]: where orders go; the paper venue simulates an exchange.
//! - [`records`]: what the engine records (orders, fills, positions, lifecycle, risk,
//!   signals) and reads back after a restart.
//! - [`store`]: durable records (SQLite or PostgreSQL) and the writer that keeps them.
//! - [`api`]: the admin HTTP API (warp): health, strategies, records, risk, events.
//! - [`metrics`]: Prometheus metrics, served at `/metrics`.
//! - [`recorder`]: the session recorder and `replay-session`.
//! - [`assembly`]: an engine put together from a configuration.
//! - [`daemon`]: wiring it all together: start, run, shut down.

pub mod account;
pub mod alert;
pub mod api;
pub mod assembly;
pub mod backtest;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod feed;
pub mod market;
pub mod metrics;
pub mod monitor;
pub mod plugin;
pub mod recorder;
pub mod records;
pub mod reload;
pub mod risk;
pub mod service;
pub mod store;
pub mod venue;
