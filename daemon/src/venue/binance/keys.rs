//! The API key and secret: from systemd's credentials (`LoadCredential=`, files under
//! `$CREDENTIALS_DIRECTORY`) or else from the environment, never from the configuration's
//! text; never logged (their `Debug` shows neither).

use std::path::Path;

/// Where the key and the secret are looked up: credential file names and environment
/// variable names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNames {
    /// The API key's.
    pub key: String,
    /// The secret's.
    pub secret: String,
}

impl Default for KeyNames {
    fn default() -> Self {
        KeyNames {
            key: "BINANCE_API_KEY".into(),
            secret: "BINANCE_API_SECRET".into(),
        }
    }
}

/// Why the keys are not at hand.
pub type KeysError = crate::config::secret::SecretError;

/// The key and secret of a Binance account.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeys {
    /// Sent as `X-MBX-APIKEY`.
    pub key: String,
    /// Signs requests; never sent.
    pub secret: String,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeys { key: <hidden>, secret: <hidden> }")
    }
}

/// Loads the keys: each from `credentials/<name>` when systemd gave credentials and the
/// file exists, else from the environment variable `<name>` (`env` reads it).
pub fn load(
    names: &KeyNames,
    credentials: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ApiKeys, KeysError> {
    let one = |name: &str| crate::config::secret::read(name, credentials, &env);
    Ok(ApiKeys {
        key: one(&names.key)?,
        secret: one(&names.secret)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_first_then_the_environment_and_neither_is_shown() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("BINANCE_API_SECRET"), "s3cret\n").unwrap();
        let env = |name: &str| (name == "BINANCE_API_KEY").then(|| "k3y".to_owned());
        let keys = load(&KeyNames::default(), Some(dir.path()), env).unwrap();
        assert_eq!((keys.key.as_str(), keys.secret.as_str()), ("k3y", "s3cret"));
        let shown = format!("{keys:?}");
        assert!(
            !shown.contains("k3y") && !shown.contains("s3cret"),
            "{shown}"
        );

        let err = load(&KeyNames::default(), None, env).unwrap_err();
        assert_eq!(err, KeysError::Missing("BINANCE_API_SECRET".into()));
        assert!(
            err.to_string()
                .contains("LoadCredential=BINANCE_API_SECRET"),
            "{err}"
        );
        let blank = |_: &str| Some("  ".to_owned());
        assert!(load(&KeyNames::default(), None, blank).is_err());
    }
}
