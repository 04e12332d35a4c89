//! A strategy's parameters, as `key = value` pairs from the daemon's configuration.

use std::fmt;
use std::str::FromStr;

/// Why a strategy refused its parameters or state. Shown to the operator as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitError(pub String);

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InitError {}

impl From<String> for InitError {
    fn from(message: String) -> Self {
        InitError(message)
    }
}

impl From<&str> for InitError {
    fn from(message: &str) -> Self {
        InitError(message.to_owned())
    }
}

impl From<ParamError> for InitError {
    fn from(err: ParamError) -> Self {
        InitError(err.to_string())
    }
}

/// A parameter that is missing, unknown or does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    /// A required key is absent.
    Missing(String),
    /// A key the strategy does not know (likely a typo).
    Unknown(String),
    /// A value that does not parse as the expected type.
    Invalid {
        /// The key.
        key: String,
        /// The value as given.
        value: String,
        /// Why it did not parse.
        reason: String,
    },
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Missing(key) => write!(f, "missing parameter `{key}`"),
            ParamError::Unknown(key) => write!(f, "unknown parameter `{key}`"),
            ParamError::Invalid { key, value, reason } => {
                write!(f, "parameter `{key}` = {value:?} is invalid: {reason}")
            }
        }
    }
}

impl std::error::Error for ParamError {}

/// The parameters given to [`crate::Strategy::init`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    entries: Vec<(String, String)>,
}

impl Params {
    /// Parameters from `(key, value)` pairs.
    pub fn new<K: Into<String>, V: Into<String>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Params {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The raw value of a key.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a key parsed as `T`, or `None` when absent.
    pub fn get<T>(&self, key: &str) -> Result<Option<T>, ParamError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.raw(key) {
            None => Ok(None),
            Some(value) => value
                .parse()
                .map(Some)
                .map_err(|err: T::Err| ParamError::Invalid {
                    key: key.to_owned(),
                    value: value.to_owned(),
                    reason: err.to_string(),
                }),
        }
    }

    /// The value of a key parsed as `T`, or `default` when absent.
    pub fn get_or<T>(&self, key: &str, default: T) -> Result<T, ParamError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        Ok(self.get(key)?.unwrap_or(default))
    }

    /// The value of a key parsed as `T`; an error when absent.
    pub fn require<T>(&self, key: &str) -> Result<T, ParamError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.get(key)?
            .ok_or_else(|| ParamError::Missing(key.to_owned()))
    }

    /// Refuses any key not in `known`, so a typo in the configuration is an error rather
    /// than a silently ignored setting.
    pub fn deny_unknown(&self, known: &[&str]) -> Result<(), ParamError> {
        match self
            .entries
            .iter()
            .find(|(k, _)| !known.contains(&k.as_str()))
        {
            Some((key, _)) => Err(ParamError::Unknown(key.clone())),
            None => Ok(()),
        }
    }

    /// All `(key, value)` pairs, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::Qty;

    #[test]
    fn typed_access_with_clear_errors() {
        let params = Params::new([("fast", "10"), ("qty", "0.5"), ("slow", "ten")]);
        assert_eq!(params.require::<u32>("fast"), Ok(10));
        assert_eq!(params.require::<Qty>("qty"), Ok("0.5".parse().unwrap()));
        assert_eq!(params.get_or::<u32>("missing", 7), Ok(7));
        let err = params.require::<u32>("slow").unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter `slow` = \"ten\" is invalid: invalid digit found in string"
        );
        assert_eq!(
            params.require::<u32>("nope").unwrap_err().to_string(),
            "missing parameter `nope`"
        );
        assert_eq!(
            params.deny_unknown(&["fast", "qty"]),
            Err(ParamError::Unknown("slow".into()))
        );
        assert_eq!(params.deny_unknown(&["fast", "qty", "slow"]), Ok(()));
    }
}
