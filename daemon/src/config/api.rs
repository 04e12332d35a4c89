//! `[api]`: where the admin API listens, its tokens and roles, its rate limits.

use super::values::spanned_identifier;
use serde::Deserialize;
use std::num::NonZeroU32;
use std::path::PathBuf;
use toml::Spanned;

/// `[api]`: the admin HTTP API and the metrics endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Serve the API and `/metrics` at all.
    pub enabled: bool,
    /// `HOST:PORT` (loopback by default: put a TLS reverse proxy in front for remote
    /// access) or `unix:/path/to.sock`. Port 0 picks a free port (logged).
    pub listen: Spanned<String>,
    /// Endpoints served without a token: any of `healthz`, `readyz`, `metrics`.
    pub public: Vec<PublicEndpoint>,
    /// Requests per second one token may make, sustained.
    pub rate_limit_per_second: NonZeroU32,
    /// Requests one token may make at once above the sustained rate.
    pub rate_limit_burst: NonZeroU32,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: NonZeroU32,
    /// How long a request waits for the engine before answering 503, in milliseconds.
    pub engine_timeout_ms: NonZeroU32,
    /// The bearer tokens, `[[api.token]]`.
    #[serde(rename = "token")]
    pub tokens: Vec<TokenConfig>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            enabled: true,
            listen: Spanned::new(0..0, "127.0.0.1:8642".into()),
            public: vec![
                PublicEndpoint::Healthz,
                PublicEndpoint::Readyz,
                PublicEndpoint::Metrics,
            ],
            rate_limit_per_second: NonZeroU32::MIN.saturating_add(49),
            rate_limit_burst: NonZeroU32::MIN.saturating_add(99),
            max_body_bytes: NonZeroU32::MIN.saturating_add(65_535),
            engine_timeout_ms: NonZeroU32::MIN.saturating_add(4_999),
            tokens: Vec::new(),
        }
    }
}

/// Where the API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// A TCP address.
    Tcp(std::net::SocketAddr),
    /// A Unix socket's path.
    Unix(PathBuf),
}

impl ListenAddr {
    /// `HOST:PORT` or `unix:PATH`.
    pub fn parse(text: &str) -> Result<ListenAddr, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("unix: needs a path, as in unix:/run/pennant/api.sock".into());
            }
            return Ok(ListenAddr::Unix(PathBuf::from(path)));
        }
        text.parse().map(ListenAddr::Tcp).map_err(|_| {
            format!("{text:?} is neither HOST:PORT (such as 127.0.0.1:8642) nor unix:PATH")
        })
    }
}

/// An endpoint that can be served without a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublicEndpoint {
    /// `GET /healthz`.
    Healthz,
    /// `GET /readyz`.
    Readyz,
    /// `GET /metrics`.
    Metrics,
}

/// What a token may do; each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything.
    Viewer,
    /// Also pause, resume and reload strategies.
    Operator,
    /// Also change risk limits, trading states and the kill switch.
    Admin,
}

impl Role {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// `[[api.token]]`: a bearer token and its role. The configuration holds a hash, or says
/// where the token is (an environment variable, a credentials file); the daemon keeps
/// only its SHA-256.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it: named in the audit trail (`api:NAME`) and the rate limits.
    #[serde(deserialize_with = "spanned_identifier")]
    pub name: Spanned<String>,
    /// What it may do.
    pub role: Role,
    /// The token's SHA-256, in hex (`pennantd hash-token` prints it).
    #[serde(default)]
    pub sha256: Option<String>,
    /// An environment variable holding the token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// A file holding the token (relative: to `$CREDENTIALS_DIRECTORY` when systemd set
    /// it, else to the configuration's folder).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
}
