//! The request bodies, as types: a body is refused (400) when it is not JSON, has a key
//! twice, has a key the route does not know, or a value of the wrong type, exactly as
//! `openapi.json` describes it (`additionalProperties: false`, one schema per scope).

use super::error::ApiError;
use crate::config::Limits;
use crate::config::{limit_applies, LimitScope};
use crate::engine::LimitsPatch as Patch;
use crate::risk::Scope;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

/// `{"scope": "global" | "strategy", "id": ...}`: the kill switch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRequest {
    scope: String,
    id: Option<String>,
}

/// `POST /strategies/{id}/rollback`: the version to return to; without it (or without a
/// body), the one before the current code.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The version's content hash.
    pub version: Option<String>,
}

/// `PUT /risk/trading-state`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradingStateRequest {
    scope: String,
    id: Option<String>,
    /// `ACTIVE`, `REDUCING` or `HALTED`.
    pub state: String,
}

/// `PUT /risk/limits`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsRequest {
    scope: String,
    id: Option<String>,
    limits: LimitsPatch,
}

/// The limit keys a change names: a value sets the limit, `null` removes it, a key left
/// out stays as it is. Kept as JSON until checked one key at a time.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsPatch {
    #[serde(default, deserialize_with = "present")]
    max_order_qty: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    max_order_notional: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    price_band_bps: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    max_position: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    max_gross_exposure: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    max_open_orders: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    max_orders_per_window: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    max_daily_loss: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    instruments: Option<Value>,
}

/// A key that is there, even as `null`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Reads a body as `T`: a JSON object whose members named in `objects` are objects too
/// (serde would also take a struct from an array, which the document does not allow).
pub fn parse<T: DeserializeOwned>(body: &[u8], objects: &[&str]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("this route needs a JSON body"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|err| ApiError::bad_request(format!("the body is not valid JSON: {err}")))?;
    let Some(fields) = value.as_object() else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    if let Some(key) = objects
        .iter()
        .find(|key| fields.get(**key).is_some_and(|v| !v.is_object()))
    {
        return Err(ApiError::bad_request(format!("`{key}` must be an object")));
    }
    // Parsed again as text, not from the value: a key given twice is refused.
    serde_json::from_slice(body)
        .map_err(|err| ApiError::bad_request(format!("the body does not fit this route: {err}")))
}

/// The scope named by `scope` and `id`; defaults and instruments only for limits.
fn resolve(scope: &str, id: Option<&str>, limits: bool) -> Result<Scope, ApiError> {
    let id = || match id {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(ApiError::bad_request(
            "`id` (a non-empty string) is required for this scope",
        )),
    };
    match scope {
        "global" => Ok(Scope::Global),
        "strategy" => Ok(Scope::Strategy(id()?)),
        "defaults" if limits => Ok(Scope::Defaults),
        "instrument" if limits => Ok(Scope::Instrument(id()?)),
        other => Err(ApiError::bad_request(format!(
            "scope {other:?} is not one of {}",
            if limits {
                "global, defaults, strategy, instrument"
            } else {
                "global, strategy"
            }
        ))),
    }
}

impl ScopeRequest {
    /// The scope it names.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        resolve(&self.scope, self.id.as_deref(), false)
    }
}

impl TradingStateRequest {
    /// The scope it names.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        resolve(&self.scope, self.id.as_deref(), false)
    }
}

impl LimitsRequest {
    /// The scope it names.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        resolve(&self.scope, self.id.as_deref(), true)
    }

    /// Each key it names with its new value, or `None` to remove it. A key that does not
    /// apply at the scope is refused even as `null`, as the document says.
    pub fn patch(&self, scope: &Scope) -> Result<Patch, ApiError> {
        let p = &self.limits;
        let keys = [
            ("max_order_qty", &p.max_order_qty),
            ("max_order_notional", &p.max_order_notional),
            ("price_band_bps", &p.price_band_bps),
            ("max_position", &p.max_position),
            ("max_gross_exposure", &p.max_gross_exposure),
            ("max_open_orders", &p.max_open_orders),
            ("max_orders_per_window", &p.max_orders_per_window),
            ("max_daily_loss", &p.max_daily_loss),
            ("instruments", &p.instruments),
        ];
        let kind = match scope {
            Scope::Global => LimitScope::Global,
            Scope::Defaults => LimitScope::Defaults,
            Scope::Strategy(_) => LimitScope::Strategy,
            Scope::Instrument(_) => LimitScope::Instrument,
        };
        let mut patch = Patch::default();
        for (key, value) in keys {
            let Some(value) = value else { continue };
            patch.keys.push(key.to_owned());
            if value.is_null() {
                limit_applies(kind, key).map_err(ApiError::bad_request)?;
                continue;
            }
            check_type(key, value)?;
            let one: Limits = serde_json::from_value(json!({ key: value }))
                .map_err(|err| ApiError::bad_request(format!("limits.{key}: {err}")))?;
            Patch {
                keys: vec![key.to_owned()],
                values: one,
            }
            .apply_to(&mut patch.values);
        }
        Ok(patch)
    }
}

/// Refuses a value of the wrong JSON type: the configuration file is lenient (a TOML
/// number for a decimal), the API is as strict as its document.
fn check_type(key: &str, value: &Value) -> Result<(), ApiError> {
    let fits = match key {
        "instruments" => value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string)),
        "price_band_bps" | "max_open_orders" | "max_orders_per_window" => value.is_u64(),
        _ => value.as_str().is_some_and(is_positive_decimal),
    };
    if fits {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "limits.{key}: {value} is not {}",
            match key {
                "instruments" => "a list of symbols",
                "price_band_bps" | "max_open_orders" | "max_orders_per_window" => "an integer",
                _ => "a positive decimal string such as \"0.5\" (up to 10 digits, 8 decimals)",
            }
        )))
    }
}

/// Exactly the document's `PositiveDecimal`: `0` or up to ten digits without a leading
/// zero, then up to eight decimals, and not zero.
pub fn is_positive_decimal(text: &str) -> bool {
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let int_ok = digits(int) && int.len() <= 10 && (int == "0" || !int.starts_with('0'));
    let frac_ok = frac.is_none_or(|f| digits(f) && f.len() <= 8);
    let nonzero = text.bytes().any(|b| (b'1'..=b'9').contains(&b));
    int_ok && frac_ok && nonzero
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(body: &str) -> Result<String, String> {
        let request: LimitsRequest =
            parse(body.as_bytes(), &["limits"]).map_err(|e| e.to_string())?;
        let scope = request.scope().map_err(|e| e.to_string())?;
        let patch = request.patch(&scope).map_err(|e| e.to_string())?;
        Ok(patch
            .keys
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(","))
    }

    #[test]
    fn bodies_are_refused_as_the_document_says() {
        let kill = |body: &str| {
            parse::<ScopeRequest>(body.as_bytes(), &[])
                .and_then(|r| r.scope())
                .map_err(|e| e.to_string())
        };
        assert_eq!(kill(r#"{"scope": "global"}"#), Ok(Scope::Global));
        assert_eq!(
            kill(r#"{"scope": "strategy", "id": "mm"}"#),
            Ok(Scope::Strategy("mm".into()))
        );
        for bad in [
            r#"{"scope": "global", "id": {}}"#,
            r#"{"scope": "global", "scope": "strategy", "id": "mm"}"#,
            r#"{"scope": "strategy", "id": ""}"#,
            r#"{"scope": "strategy"}"#,
            r#"{"scope": "global", "extra": 1}"#,
            r#"{"scope": "defaults"}"#,
            r#"[]"#,
            r#"["global", null]"#,
            "",
        ] {
            assert!(kill(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn decimals_are_as_strict_as_the_document() {
        for good in ["1", "0.5", "0.00000001", "9999999999.99999999", "10.10"] {
            assert!(is_positive_decimal(good), "{good}");
        }
        for bad in [
            "0",
            "0.0",
            "00.5",
            "01",
            "+1",
            "-1",
            "1.",
            ".5",
            " 1",
            "1e3",
            "",
            "12345678901",
            "1.123456789",
        ] {
            assert!(!is_positive_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn a_limit_that_does_not_apply_at_a_scope_is_refused_even_as_null() {
        assert_eq!(
            limits(
                r#"{"scope": "strategy", "id": "s", "limits": {"max_order_qty": "1", "instruments": null}}"#
            ),
            Ok("max_order_qty,instruments".into())
        );
        assert_eq!(
            limits(r#"{"scope": "global", "limits": {"max_position": null}}"#),
            Ok("max_position".into())
        );
        for bad in [
            r#"{"scope": "global", "limits": {"max_order_qty": null}}"#,
            r#"{"scope": "defaults", "limits": {"instruments": null}}"#,
            r#"{"scope": "instrument", "id": "X", "limits": {"max_daily_loss": null}}"#,
            r#"{"scope": "global", "limits": {"nope": 1}}"#,
            r#"{"scope": "global", "limits": {"max_position": "1", "max_position": "2"}}"#,
            r#"{"scope": "global", "limits": {"max_position": 5}}"#,
            r#"{"scope": "defaults", "limits": [null, null]}"#,
        ] {
            assert!(limits(bad).is_err(), "{bad} was accepted");
        }
    }
}
