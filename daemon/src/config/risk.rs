//! `[risk]`: the pre-trade limits by scope (their keys are in `limits.rs`), the rate
//! window, the trading day, the circuit breaker.

use super::limits::Limits;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::num::NonZeroU32;

/// `[risk]`: pre-trade limits. A limit left out is not checked.
///
/// The limit for a strategy trading an instrument is the strategy's override
/// (`[risk.strategy.ID]`), else the instrument's (`[risk.instrument.SYMBOL]`), else the
/// default (`[risk.defaults]`). Limits on a strategy as a whole (daily loss, gross
/// exposure, order rate) have no per-instrument override. `[risk.global]` limits
/// (position per instrument, gross exposure, order rate, daily loss) apply to all
/// strategies together.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// Limits for every strategy and instrument.
    pub defaults: Limits,
    /// Per-strategy overrides, by strategy id.
    pub strategy: BTreeMap<String, Limits>,
    /// Per-instrument overrides, by symbol.
    pub instrument: BTreeMap<String, Limits>,
    /// Limits on all strategies together.
    pub global: Limits,
    /// The sliding window of the order rate throttle.
    pub rate_window_ms: NonZeroU32,
    /// The hour (UTC) at which the trading day, and so the daily loss, starts.
    pub day_start_hour_utc: u8,
    /// The circuit breaker: a strategy with more refused orders (by the risk checks or
    /// the venue) than this in a minute of engine time is quarantined, the trip audited.
    /// Refusals of a halted or reduce-only trading state do not count. 0 turns it off.
    pub max_rejections_per_minute: u32,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            defaults: Limits::default(),
            strategy: BTreeMap::new(),
            instrument: BTreeMap::new(),
            global: Limits::default(),
            rate_window_ms: NonZeroU32::MIN.saturating_add(999),
            day_start_hour_utc: 0,
            max_rejections_per_minute: 600,
        }
    }
}
