//! `[[strategy]]`: a strategy's id, component, parameters and open-order policy.

use super::values::spanned_identifier;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use toml::Spanned;

/// The owner of orders of this daemon found at a venue that the store never recorded
/// (recovery adopts them under it: which strategy sent one is lost with the record). A
/// configuration may not give a strategy this id.
pub const UNATTRIBUTED: &str = "unattributed";

/// `[[strategy]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Unique id; names the strategy in logs, orders and the API.
    #[serde(deserialize_with = "spanned_identifier")]
    pub id: Spanned<String>,
    /// The component file, relative to `[plugins] dir`.
    pub component: Spanned<PathBuf>,
    /// Parameters passed to the strategy's `init`, as `key = value` strings.
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
    /// What becomes of the strategy's open orders when it stops (its component file is
    /// removed, it leaves the configuration, the daemon shuts down).
    #[serde(default)]
    pub open_orders: OpenOrders,
}

/// What becomes of a strategy's open orders when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenOrders {
    /// Cancel them (the default); after a crash, those it left are canceled before it
    /// starts again.
    #[default]
    Cancel,
    /// Leave them working at the venue; their fills still count in the strategy's
    /// position, and it hears about them when it starts again.
    Keep,
}

/// A parameter value: a string, number or boolean, passed to the strategy as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamValue(pub String);

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ParamValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl StrategyConfig {
    /// The strategy's id.
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }

    /// The parameters as `(key, value)` pairs.
    pub fn param_pairs(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect()
    }
}
