//! `[signals]`: how strategies' signals are judged.

use serde::Deserialize;

/// `[signals]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignalsConfig {
    /// After each of these many seconds, a signal's instrument is priced again, and
    /// whether it moved the signal's way is recorded (`GET /api/v1/signals/stats`, the
    /// backtest report). At most 8, each above 0.
    pub horizons_secs: Vec<u32>,
}

impl Default for SignalsConfig {
    fn default() -> Self {
        SignalsConfig {
            horizons_secs: vec![60, 300, 3600],
        }
    }
}

/// A horizon's name: `1m`, `5m`, `1h`, `90s`, `1d`.
pub fn horizon_name(secs: u32) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
