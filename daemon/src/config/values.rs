//! How the configuration's values are read: decimals into fixed point (exactly, from a
//! string or a number), positive values, ids, the daemon id, replay speed. Each refuses
//! a bad value with a message naming what it wanted; the caller adds the key and line.

use pennant_sdk::ParseFixedError;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use std::str::FromStr;
use toml::Spanned;

/// Reads a decimal written as a string, an integer or a float (floats through their
/// shortest exact representation, so `0.1` is exactly `0.1`).
pub(super) fn decimal<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = ParseFixedError>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<T: FromStr<Err = ParseFixedError>> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a decimal number such as \"0.01\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            v.parse()
                .map_err(|err| E::custom(format!("invalid decimal {v:?}: {err}")))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

pub(super) fn positive<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = ParseFixedError> + PartialOrd + Default + fmt::Display,
{
    let value: T = decimal(d)?;
    if value > T::default() {
        Ok(value)
    } else {
        Err(de::Error::custom(format!("must be positive, got {value}")))
    }
}

pub(crate) fn optional_positive<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = ParseFixedError> + PartialOrd + Default + fmt::Display,
{
    positive(d).map(Some)
}

pub(super) fn check_identifier<E: de::Error>(id: &str) -> Result<(), E> {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(E::custom(format!(
            "{id:?} is not an id: use letters, digits, - and _"
        )))
    }
}

pub(super) fn identifier<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let id = String::deserialize(d)?;
    check_identifier(&id)?;
    Ok(id)
}

/// The longest `[daemon] id`: with a dash and a 20-digit order id, a client order id
/// fits the 36 characters exchanges take.
pub const MAX_DAEMON_ID_LEN: usize = 15;

pub(super) fn daemon_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let id = identifier(d)?;
    if id.len() > MAX_DAEMON_ID_LEN {
        return Err(de::Error::custom(format!(
            "{id:?} is longer than {MAX_DAEMON_ID_LEN} characters: with an order id it would not fit the 36 characters exchanges take for a client order id"
        )));
    }
    Ok(id)
}

pub(super) fn spanned_identifier<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Spanned<String>, D::Error> {
    let id = Spanned::<String>::deserialize(d)?;
    check_identifier(id.get_ref())?;
    Ok(id)
}

pub(super) fn speed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let speed = f64::deserialize(d)?;
    if speed >= 0.0 && speed.is_finite() {
        Ok(Some(speed))
    } else {
        Err(de::Error::custom(
            "must be 0 (as fast as possible) or positive",
        ))
    }
}
