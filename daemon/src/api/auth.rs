//! Bearer tokens, roles and rate limits.
//!
//! The daemon keeps only each token's SHA-256. A presented token is hashed and compared
//! with every known hash in constant time (`subtle`), all of them, so that neither the
//! comparison nor the position of a match leaks through timing.

use super::error::ApiError;
use crate::config::{ApiConfig, Role, TokenConfig};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq;

/// Why a token from the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Its environment variable is not set (or empty).
    #[error("api token {name}: environment variable {var} is not set")]
    MissingEnv {
        /// The token's name.
        name: String,
        /// The variable.
        var: String,
    },
    /// Its file cannot be read.
    #[error("api token {name}: cannot read {path}: {message}")]
    File {
        /// The token's name.
        name: String,
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A hash in the configuration is not hexadecimal.
    #[error("api token {name}: sha256 is not 64 hexadecimal digits")]
    BadHash {
        /// The token's name.
        name: String,
    },
}

/// The SHA-256 of a token, as the configuration's `sha256` holds it (lower-case hex).
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

struct Known {
    name: String,
    role: Role,
    hash: [u8; 32],
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name (`public` on a public route, `anonymous` for a missing or unknown token).
    pub name: String,
    /// Its role.
    pub role: Role,
}

impl Caller {
    /// How the audit trail names this caller.
    pub fn actor(&self) -> String {
        format!("api:{}", self.name)
    }
}

/// The known tokens and their rate limits.
pub struct Tokens {
    known: Vec<Known>,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Tokens {
    /// Reads every token of the configuration: hashes as they are, tokens from their
    /// variable or file (hashed at once). `base_dir` resolves relative files when systemd
    /// gave no `$CREDENTIALS_DIRECTORY`.
    pub fn load(config: &ApiConfig, base_dir: &Path) -> Result<Tokens, TokenError> {
        let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        let known = config
            .tokens
            .iter()
            .map(|token| {
                let hash = read_hash(token, credentials.as_deref().unwrap_or(base_dir))?;
                Ok(Known {
                    name: token.name.get_ref().clone(),
                    role: token.role,
                    hash,
                })
            })
            .collect::<Result<Vec<_>, TokenError>>()?;
        let quota =
            Quota::per_second(config.rate_limit_per_second).allow_burst(config.rate_limit_burst);
        Ok(Tokens {
            known,
            limiter: DefaultKeyedRateLimiter::keyed(quota),
        })
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// True when no token is configured (only public routes can be used).
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// The caller behind an `Authorization` header, if it holds a known bearer token.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Caller, ApiError> {
        let Some(header) = header else {
            return Err(ApiError::unauthorized(
                "this route needs a token: Authorization: Bearer <token>",
            ));
        };
        // The scheme is case-insensitive (RFC 7235).
        let token = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .ok_or_else(|| ApiError::unauthorized("the Authorization header is not Bearer"))?;
        let presented: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
        let mut found = None;
        for known in &self.known {
            if bool::from(known.hash.ct_eq(&presented)) {
                found = Some(known);
            }
        }
        found
            .map(|k| Caller {
                name: k.name.clone(),
                role: k.role,
            })
            .ok_or_else(|| ApiError::unauthorized("unknown token"))
    }

    /// Counts a request against the caller's rate limit (callers without a valid token
    /// share the `public` one on public routes, `anonymous` elsewhere: names the configuration refuses for a token).
    pub fn admit(&self, caller: &Caller) -> Result<(), ApiError> {
        self.limiter.check_key(&caller.name).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::rate_limited(wait.as_secs_f64().ceil().max(1.0) as u64)
        })
    }
}

/// Checks that `caller` may do what needs `role`.
pub fn require(caller: &Caller, role: Role) -> Result<(), ApiError> {
    if caller.role >= role {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "token {} is a {}: this needs {}",
            caller.name,
            caller.role.name(),
            role.name()
        )))
    }
}

fn read_hash(token: &TokenConfig, credentials: &Path) -> Result<[u8; 32], TokenError> {
    let name = token.name.get_ref().clone();
    let secret = if let Some(hash) = &token.sha256 {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hash, &mut bytes).map_err(|_| TokenError::BadHash { name })?;
        return Ok(bytes);
    } else if let Some(var) = &token.token_env {
        std::env::var(var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| TokenError::MissingEnv {
                name: name.clone(),
                var: var.clone(),
            })?
    } else if let Some(file) = &token.token_file {
        let path = credentials.join(file);
        std::fs::read_to_string(&path).map_err(|err| TokenError::File {
            name: name.clone(),
            path,
            message: err.to_string(),
        })?
    } else {
        // The configuration check makes this unreachable; refusing is the safe answer.
        return Err(TokenError::BadHash { name });
    };
    Ok(Sha256::digest(secret.trim().as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn tokens(extra: &str) -> Tokens {
        let text = format!(
            "[api]\nrate_limit_per_second = 1\nrate_limit_burst = 2\n\
             [[api.token]]\nname = \"ops\"\nrole = \"operator\"\nsha256 = \"{}\"\n{extra}",
            hash_token("secret-ops")
        );
        let config = Config::parse(&text, Path::new("t.toml"), ".".into()).unwrap();
        Tokens::load(&config.api, Path::new(".")).unwrap()
    }

    #[test]
    fn a_known_token_is_its_role_and_others_are_refused() {
        let tokens = tokens("");
        let caller = tokens.authenticate(Some("Bearer secret-ops")).unwrap();
        assert_eq!(caller.role, Role::Operator);
        assert_eq!(caller.actor(), "api:ops");
        for scheme in ["bearer", "BEARER"] {
            let header = format!("{scheme} secret-ops");
            assert_eq!(tokens.authenticate(Some(&header)), Ok(caller.clone()));
        }
        assert!(tokens.authenticate(Some("Bearer SECRET-OPS")).is_err());
        for bad in [
            None,
            Some("Bearer nope"),
            Some("Basic c2VjcmV0"),
            Some("secret-ops"),
        ] {
            assert_eq!(
                tokens.authenticate(bad).unwrap_err().code,
                "unauthorized",
                "{bad:?}"
            );
        }
        assert!(require(&caller, Role::Viewer).is_ok());
        assert_eq!(require(&caller, Role::Admin).unwrap_err().code, "forbidden");
    }

    #[test]
    fn a_token_over_its_burst_waits() {
        let tokens = tokens("");
        let caller = tokens.authenticate(Some("Bearer secret-ops")).unwrap();
        assert!(tokens.admit(&caller).is_ok());
        assert!(tokens.admit(&caller).is_ok());
        let refused = tokens.admit(&caller).unwrap_err();
        assert_eq!(refused.code, "rate_limited");
        assert_eq!(refused.retry_after, Some(1));
    }

    #[test]
    fn tokens_come_from_a_variable_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("viewer.token"), "from-file\n").unwrap();
        let text = "[[api.token]]\nname = \"v\"\nrole = \"viewer\"\ntoken_file = \"viewer.token\"\n\
                    [[api.token]]\nname = \"e\"\nrole = \"admin\"\ntoken_env = \"PENNANT_TEST_TOKEN_UNSET\"\n";
        let config = Config::parse(text, Path::new("t.toml"), dir.path().into()).unwrap();
        let err = Tokens::load(&config.api, dir.path()).err().unwrap();
        assert!(
            err.to_string().contains("PENNANT_TEST_TOKEN_UNSET"),
            "{err}"
        );
        let text = text.replace("PENNANT_TEST_TOKEN_UNSET", "PATH");
        let config = Config::parse(&text, Path::new("t.toml"), dir.path().into()).unwrap();
        let tokens = Tokens::load(&config.api, dir.path()).unwrap();
        assert_eq!(
            tokens.authenticate(Some("Bearer from-file")).unwrap().name,
            "v"
        );
    }
}
