//! `[paper]` and `[[venue]]`: where orders go.

use super::values::{decimal, spanned_identifier};
use pennant_sdk::Amount;
use serde::Deserialize;
use toml::Spanned;

/// `[paper]`: the simulated venue.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaperConfig {
    /// Fee of a maker fill, in basis points of the notional (negative for a rebate).
    #[serde(deserialize_with = "decimal")]
    pub maker_fee_bps: Amount,
    /// Fee of a taker fill, in basis points of the notional.
    #[serde(deserialize_with = "decimal")]
    pub taker_fee_bps: Amount,
    /// Time from submit to the order reaching the simulated matching engine.
    pub latency_ms: u32,
}

/// `[[venue]]`: a place orders go. Each instrument names its venue
/// (`[[instrument]] venue = ...`, else the first).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Its name, in logs, metrics and instruments.
    #[serde(deserialize_with = "spanned_identifier")]
    pub name: Spanned<String>,
    /// What it is: `paper` (the simulator) or `binance`.
    pub kind: VenueKind,
    /// Fee of a maker fill, bps (paper).
    #[serde(default, deserialize_with = "decimal")]
    pub maker_fee_bps: Amount,
    /// Fee of a taker fill, bps (paper).
    #[serde(default, deserialize_with = "decimal")]
    pub taker_fee_bps: Amount,
    /// Time from submit to the simulated matching engine (paper).
    #[serde(default)]
    pub latency_ms: u32,
    /// The REST API (binance): `https://api.binance.com`, or the spot testnet's
    /// `https://testnet.binance.vision`.
    #[serde(default = "default_rest_url")]
    pub rest_url: String,
    /// The WebSocket API, for the user data stream (binance):
    /// `wss://ws-api.binance.com:443/ws-api/v3`, or the testnet's
    /// `wss://ws-api.testnet.binance.vision/ws-api/v3`.
    #[serde(default = "default_ws_api_url")]
    pub ws_api_url: String,
    /// How long a signed request stays valid (binance; at most 60000).
    #[serde(default = "default_recv_window_ms")]
    pub recv_window_ms: u64,
    /// The systemd credential or environment variable holding the API key (binance).
    #[serde(default = "default_key_name")]
    pub api_key_name: String,
    /// The one holding the API secret (binance).
    #[serde(default = "default_secret_name")]
    pub api_secret_name: String,
    /// Without the user data stream for this long, this daemon's open orders there are
    /// canceled (binance; 0: never).
    #[serde(default = "default_cancel_after_secs")]
    pub cancel_on_disconnect_secs: u64,
    /// The first wait before connecting a stream again, doubling up to
    /// `reconnect_max_ms` (binance).
    #[serde(default = "default_reconnect_min_ms")]
    pub reconnect_min_ms: u64,
    /// The longest wait between attempts (binance).
    #[serde(default = "default_reconnect_max_ms")]
    pub reconnect_max_ms: u64,
    /// How long a REST request may take before its outcome is unknown and the order is
    /// asked about by its client order id (binance).
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// The trading state every strategy is put in when the exchange bans this IP
    /// (HTTP 418): `halted` (the default) or `reducing`. It stays until an admin sets
    /// another (`PUT /api/v1/risk/trading-state`).
    #[serde(default)]
    pub on_ban: BanPolicy,
}

/// What a ban (HTTP 418) does to trading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BanPolicy {
    /// Only orders that reduce a position pass.
    Reducing,
    /// Nothing passes.
    #[default]
    Halted,
}

fn default_rest_url() -> String {
    "https://api.binance.com".into()
}
fn default_ws_api_url() -> String {
    "wss://ws-api.binance.com:443/ws-api/v3".into()
}
fn default_recv_window_ms() -> u64 {
    5000
}
fn default_key_name() -> String {
    "BINANCE_API_KEY".into()
}
fn default_secret_name() -> String {
    "BINANCE_API_SECRET".into()
}
fn default_cancel_after_secs() -> u64 {
    30
}
fn default_reconnect_min_ms() -> u64 {
    500
}
fn default_request_timeout_ms() -> u64 {
    10_000
}

fn default_reconnect_max_ms() -> u64 {
    30_000
}

/// The kinds of venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VenueKind {
    /// The simulated venue.
    Paper,
    /// Binance spot (or its testnet, or a server speaking its protocol).
    Binance,
}

impl VenueConfig {
    /// The simulator's settings.
    pub fn paper(&self) -> PaperConfig {
        PaperConfig {
            maker_fee_bps: self.maker_fee_bps,
            taker_fee_bps: self.taker_fee_bps,
            latency_ms: self.latency_ms,
        }
    }
}
