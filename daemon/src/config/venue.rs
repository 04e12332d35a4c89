//! `[paper]` and `[[venue]]`: where orders go.

use super::values::{decimal, spanned_identifier};
use pennant_sdk::Amount;
use serde::Deserialize;
use toml::Spanned;

/// `[paper]`: the simulated venue.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaperConfig {
    /// Fee of a maker fill, in basis points of the notional (negative for a rebate).
    #[serde(deserialize_with = "decimal")]
    pub maker_fee_bps: Amount,
    /// Fee of a taker fill, in basis points of the notional.
    #[serde(deserialize_with = "decimal")]
    pub taker_fee_bps: Amount,
    /// Time from submit to the order reaching the simulated matching engine.
    pub latency_ms: u32,
}

/// `[[venue]]`: a place orders go. Each instrument names its venue
/// (`[[instrument]] venue = ...`, else the first).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Its name, in logs, metrics and instruments.
    #[serde(deserialize_with = "spanned_identifier")]
    pub name: Spanned<String>,
    /// What it is: `paper` (the simulator) for now.
    pub kind: VenueKind,
    /// Fee of a maker fill, bps (paper).
    #[serde(default, deserialize_with = "decimal")]
    pub maker_fee_bps: Amount,
    /// Fee of a taker fill, bps (paper).
    #[serde(default, deserialize_with = "decimal")]
    pub taker_fee_bps: Amount,
    /// Time from submit to the simulated matching engine (paper).
    #[serde(default)]
    pub latency_ms: u32,
}

/// The kinds of venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VenueKind {
    /// The simulated venue.
    Paper,
}

impl VenueConfig {
    /// The simulator's settings.
    pub fn paper(&self) -> PaperConfig {
        PaperConfig {
            maker_fee_bps: self.maker_fee_bps,
            taker_fee_bps: self.taker_fee_bps,
            latency_ms: self.latency_ms,
        }
    }
}
