//! `[[alert]]`: where the daemon sends word of what goes wrong (and of its start and
//! stop): a generic JSON webhook, a Slack-compatible incoming webhook, or a Telegram
//! bot. A URL with a token in it and a bot token are secrets: they are named here (a
//! systemd credential or an environment variable) and read at start, never written in
//! the configuration.

use serde::Deserialize;
use std::num::NonZeroU32;
use toml::Spanned;

/// One `[[alert]]` sink.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// Its name, for the log and the metrics.
    pub name: Spanned<String>,
    /// What it speaks.
    pub format: AlertFormat,
    /// The URL to POST to (webhook, slack), when it holds no secret.
    pub url: Option<String>,
    /// The systemd credential or environment variable holding the URL (webhook, slack:
    /// a Slack webhook URL is its own secret).
    pub url_secret: Option<String>,
    /// The credential or environment variable holding the bot token (telegram).
    pub bot_token_secret: Option<String>,
    /// The chat to post in (telegram).
    pub chat_id: Option<String>,
    /// The Bot API (telegram); another for a local Bot API server.
    #[serde(default = "default_telegram_url")]
    pub api_url: String,
    /// The events it is told of; all when left out.
    pub events: Option<Vec<AlertEventName>>,
    /// The same event (kind and subject) again within this many seconds is not sent
    /// at once: one message with the count follows when the time is up.
    #[serde(default = "default_group_secs")]
    pub group_secs: u32,
    /// Alerts waiting to be sent, at most; more are dropped (and counted).
    #[serde(default = "default_queue")]
    pub queue: NonZeroU32,
    /// How long one delivery may take.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: NonZeroU32,
    /// Deliveries after the first that failed (no answer, 5xx, 429), at most.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The wait before the first retry, doubling up to `retry_max_ms` (a `Retry-After`
    /// from the receiver wins).
    #[serde(default = "default_retry_min_ms")]
    pub retry_min_ms: NonZeroU32,
    /// The longest wait between retries.
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: NonZeroU32,
}

/// What a sink speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertFormat {
    /// A JSON object per alert (kind, severity, subject, message, count, times).
    Webhook,
    /// `{"text": ...}`, as Slack's incoming webhooks (and Mattermost's, Discord's
    /// `/slack` endpoints) take it.
    Slack,
    /// The Bot API's `sendMessage`.
    Telegram,
}

/// The events a sink can be told of, by the names the configuration uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEventName {
    /// A strategy quarantined (a trap, a budget, the circuit breaker).
    StrategyQuarantined,
    /// A new version of a strategy refused (the old one runs on).
    StrategyRefused,
    /// A kill switch engaged.
    KillSwitchEngaged,
    /// A kill switch released.
    KillSwitchReleased,
    /// A trading state changed (a daily-loss halt among them).
    TradingState,
    /// A feed lost its connection.
    FeedDisconnected,
    /// A feed's events arrive late.
    FeedStale,
    /// A feed is connected and current again.
    FeedRecovered,
    /// A venue's connection (an exchange's user data stream) is lost.
    VenueDisconnected,
    /// An exchange rate-limited this daemon (HTTP 429).
    VenueRateLimited,
    /// An exchange banned this IP (HTTP 418).
    VenueBanned,
    /// Records cannot be written to the store (they wait in the spool).
    StoreOutage,
    /// The store takes records again.
    StoreRecovered,
    /// Reconciliation with a venue found a difference and corrected it.
    Reconciliation,
    /// The daemon started.
    DaemonStarted,
    /// The daemon is stopping.
    DaemonStopping,
}

fn default_telegram_url() -> String {
    "https://api.telegram.org".into()
}
fn default_group_secs() -> u32 {
    60
}
fn default_queue() -> NonZeroU32 {
    NonZeroU32::MIN.saturating_add(255)
}
fn default_timeout_ms() -> NonZeroU32 {
    NonZeroU32::MIN.saturating_add(4999)
}
fn default_retries() -> u32 {
    5
}
fn default_retry_min_ms() -> NonZeroU32 {
    NonZeroU32::MIN.saturating_add(999)
}
fn default_retry_max_ms() -> NonZeroU32 {
    NonZeroU32::MIN.saturating_add(59_999)
}
