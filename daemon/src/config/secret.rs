//! Secrets (API keys, webhook URLs, bot tokens) by name: from systemd's credentials
//! (`LoadCredential=`, files under `$CREDENTIALS_DIRECTORY`) or else from the
//! environment, never from the configuration's text.

use std::path::Path;

/// Why a secret is not at hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Neither a credential file nor an environment variable has it.
    #[error("no {0}: give it as a systemd credential (LoadCredential={0}:...) or in the environment variable {0}")]
    Missing(String),
    /// A credential file cannot be read.
    #[error("cannot read the credential {name}: {message}")]
    Unreadable {
        /// The credential.
        name: String,
        /// Why.
        message: String,
    },
}

/// The secret `name`: the file `credentials/<name>` when systemd gave credentials and
/// the file exists, else the environment variable `<name>` (`env` reads it); trimmed,
/// and never empty.
pub fn read(
    name: &str,
    credentials: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<String, SecretError> {
    if let Some(path) = credentials.map(|dir| dir.join(name)) {
        match std::fs::read_to_string(&path) {
            Ok(text) => return Ok(text.trim().to_owned()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(SecretError::Unreadable {
                    name: name.to_owned(),
                    message: err.to_string(),
                })
            }
        }
    }
    env(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| SecretError::Missing(name.to_owned()))
}
