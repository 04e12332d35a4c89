//! Risk limits as the configuration gives them: one set of optional limits, the keys
//! they have, and where each may be set. The risk engine enforces them; the
//! configuration, the API and the recorder read and write them through this module.

use super::optional_positive;
use pennant_sdk::{Amount, Qty};
use serde::Deserialize;
use std::fmt;
use std::num::NonZeroU32;

/// One set of limits; every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest order quantity.
    #[serde(deserialize_with = "optional_positive")]
    pub max_order_qty: Option<Qty>,
    /// Largest order notional (market orders valued at the reference price).
    #[serde(deserialize_with = "optional_positive")]
    pub max_order_notional: Option<Amount>,
    /// Limit prices must be within this many basis points of the reference price (the
    /// last trade, else the mid).
    pub price_band_bps: Option<NonZeroU32>,
    /// Largest absolute position, counting open orders on the same side.
    #[serde(deserialize_with = "optional_positive")]
    pub max_position: Option<Qty>,
    /// Largest sum of |position x mark| plus open order notional.
    #[serde(deserialize_with = "optional_positive")]
    pub max_gross_exposure: Option<Amount>,
    /// Most working orders at once (per strategy and instrument).
    pub max_open_orders: Option<u32>,
    /// Most submits and cancels in the sliding window.
    pub max_orders_per_window: Option<NonZeroU32>,
    /// Largest loss since the start of the trading day; a breach halts trading.
    #[serde(deserialize_with = "optional_positive")]
    pub max_daily_loss: Option<Amount>,
    /// For a strategy: the only instruments it may trade.
    pub instruments: Option<Vec<String>>,
}

impl Limits {
    /// The limits' names, as in the configuration and the API.
    pub const KEYS: [&str; 9] = [
        "max_order_qty",
        "max_order_notional",
        "price_band_bps",
        "max_position",
        "max_gross_exposure",
        "max_open_orders",
        "max_orders_per_window",
        "max_daily_loss",
        "instruments",
    ];

    /// Sets limit `key` to its value in `from` (`None` there removes it); false for a
    /// key that is not one of [`Limits::KEYS`].
    pub fn copy_key(&mut self, from: &Limits, key: &str) -> bool {
        macro_rules! fields {
            ($($name:ident),*) => {
                match key {
                    $(stringify!($name) => self.$name = from.$name.clone(),)*
                    _ => return false,
                }
            };
        }
        fields!(
            max_order_qty,
            max_order_notional,
            price_band_bps,
            max_position,
            max_gross_exposure,
            max_open_orders,
            max_orders_per_window,
            max_daily_loss,
            instruments
        );
        true
    }

    /// These limits as a `[risk]` table of the configuration file would give them; read
    /// back with `toml::from_str` (how limits changed at run time are recorded).
    pub fn to_toml(&self) -> String {
        let mut table = toml::Table::new();
        let mut put = |key: &str, value: Option<toml::Value>| {
            if let Some(value) = value {
                table.insert(key.to_owned(), value);
            }
        };
        let text = |v: &dyn fmt::Display| toml::Value::String(v.to_string());
        let int = |v: u32| toml::Value::Integer(i64::from(v));
        put("max_order_qty", self.max_order_qty.map(|v| text(&v)));
        put(
            "max_order_notional",
            self.max_order_notional.map(|v| text(&v)),
        );
        put("price_band_bps", self.price_band_bps.map(|v| int(v.get())));
        put("max_position", self.max_position.map(|v| text(&v)));
        put(
            "max_gross_exposure",
            self.max_gross_exposure.map(|v| text(&v)),
        );
        put("max_open_orders", self.max_open_orders.map(int));
        put(
            "max_orders_per_window",
            self.max_orders_per_window.map(|v| int(v.get())),
        );
        put("max_daily_loss", self.max_daily_loss.map(|v| text(&v)));
        put(
            "instruments",
            self.instruments.as_ref().map(|list| {
                toml::Value::Array(list.iter().cloned().map(toml::Value::String).collect())
            }),
        );
        table.to_string()
    }
}

/// Which kind of `[risk]` table a set of limits sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    /// `[risk.defaults]`.
    Defaults,
    /// `[risk.global]`.
    Global,
    /// `[risk.strategy.ID]`.
    Strategy,
    /// `[risk.instrument.SYMBOL]`.
    Instrument,
}

/// Whether limit `key` can be set at `scope` (a per-order limit has no meaning for all
/// strategies together, a strategy-wide one none per instrument); the error names it.
pub fn limit_applies(scope: LimitScope, key: &str) -> Result<(), String> {
    let refused: &[&str] = match scope {
        LimitScope::Strategy => &[],
        LimitScope::Defaults => &["instruments"],
        LimitScope::Instrument => &[
            "max_gross_exposure",
            "max_orders_per_window",
            "max_daily_loss",
            "instruments",
        ],
        LimitScope::Global => &[
            "max_order_qty",
            "max_order_notional",
            "price_band_bps",
            "max_open_orders",
            "instruments",
        ],
    };
    if !refused.contains(&key) {
        return Ok(());
    }
    let why = match (scope, key) {
        (_, "instruments") => "an instrument allow-list belongs to a strategy",
        (LimitScope::Global, _) => {
            "this limit applies to one order or one strategy, not to all strategies together"
        }
        _ => "this limit applies to a strategy as a whole, not per instrument",
    };
    Err(format!("`{key}`: {why}"))
}

/// Checks that a set of limits makes sense where it sits: only limits on all strategies
/// together are global, limits on a strategy as a whole (daily loss, gross exposure,
/// order rate) are not per instrument, an allow-list belongs to a strategy, and every
/// amount is positive. The error names the key.
pub fn validate_limits(scope: LimitScope, limits: &Limits) -> Result<(), String> {
    let set = [
        ("max_order_qty", limits.max_order_qty.is_some()),
        ("max_order_notional", limits.max_order_notional.is_some()),
        ("price_band_bps", limits.price_band_bps.is_some()),
        ("max_open_orders", limits.max_open_orders.is_some()),
        ("max_position", limits.max_position.is_some()),
        ("max_gross_exposure", limits.max_gross_exposure.is_some()),
        (
            "max_orders_per_window",
            limits.max_orders_per_window.is_some(),
        ),
        ("max_daily_loss", limits.max_daily_loss.is_some()),
        ("instruments", limits.instruments.is_some()),
    ];
    for (key, _) in set.iter().filter(|(_, present)| *present) {
        limit_applies(scope, key)?;
    }
    let positive = [
        ("max_order_qty", limits.max_order_qty.map(Qty::raw)),
        (
            "max_order_notional",
            limits.max_order_notional.map(Amount::raw),
        ),
        ("max_position", limits.max_position.map(Qty::raw)),
        (
            "max_gross_exposure",
            limits.max_gross_exposure.map(Amount::raw),
        ),
        ("max_daily_loss", limits.max_daily_loss.map(Amount::raw)),
    ];
    if let Some((key, _)) = positive.iter().find(|(_, v)| v.is_some_and(|v| v <= 0)) {
        return Err(format!("`{key}`: must be positive"));
    }
    Ok(())
}
