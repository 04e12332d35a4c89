//! Alerts: word of what goes wrong, sent to people (`[[alert]]` sinks: a JSON webhook,
//! Slack, Telegram).
//!
//! Like the `log` facade, alerts are raised from anywhere with [`raise`] and go nowhere
//! until [`install`] has put the sinks in place (the daemon does at start; a test or a
//! backtest that does not, raises into nothing). Raising never waits: each sink has a
//! bounded queue, and an alert that finds it full is dropped and counted. Each sink
//! delivers on its own task ([`sink`]), one alert after another, with retries and
//! backoff; the same event again within `group_secs` waits and goes as one message with
//! a count. Delivery is at least once: a receiver that answers too late may get an alert
//! twice.
//!
//! What raises them: the monitor (feeds, store, venues' bans, and the journal's records:
//! quarantines, refusals, kill switches, trading states, reconciliations), the exchange
//! venues (disconnects, rate limits), and the daemon (start, stop).

pub mod format;
pub mod sink;

pub use crate::config::AlertEventName as AlertKind;

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What happened.
    pub kind: AlertKind,
    /// What it happened to (a strategy, a feed, a venue, a scope; the daemon's id).
    pub subject: String,
    /// For people.
    pub message: String,
    /// When.
    pub at: SystemTime,
}

impl Alert {
    /// An alert of now.
    pub fn new(kind: AlertKind, subject: impl Into<String>, message: impl Into<String>) -> Alert {
        Alert {
            kind,
            subject: subject.into(),
            message: message.into(),
            at: SystemTime::now(),
        }
    }
}

/// How urgent a kind of alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Trading is hurt: someone should look now.
    Critical,
    /// Something is wrong and may get worse.
    Warning,
    /// For the record (a start, a recovery).
    Info,
}

impl Severity {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl AlertKind {
    /// The name the configuration and the messages use.
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::StrategyQuarantined => "strategy_quarantined",
            AlertKind::StrategyRefused => "strategy_refused",
            AlertKind::KillSwitchEngaged => "kill_switch_engaged",
            AlertKind::KillSwitchReleased => "kill_switch_released",
            AlertKind::TradingState => "trading_state",
            AlertKind::FeedDisconnected => "feed_disconnected",
            AlertKind::FeedStale => "feed_stale",
            AlertKind::FeedRecovered => "feed_recovered",
            AlertKind::VenueDisconnected => "venue_disconnected",
            AlertKind::VenueRateLimited => "venue_rate_limited",
            AlertKind::VenueBanned => "venue_banned",
            AlertKind::StoreOutage => "store_outage",
            AlertKind::StoreRecovered => "store_recovered",
            AlertKind::Reconciliation => "reconciliation",
            AlertKind::DaemonStarted => "daemon_started",
            AlertKind::DaemonStopping => "daemon_stopping",
        }
    }

    /// How urgent it is.
    pub fn severity(self) -> Severity {
        match self {
            AlertKind::StrategyQuarantined
            | AlertKind::KillSwitchEngaged
            | AlertKind::FeedDisconnected
            | AlertKind::VenueBanned
            | AlertKind::StoreOutage => Severity::Critical,
            AlertKind::StrategyRefused
            | AlertKind::TradingState
            | AlertKind::FeedStale
            | AlertKind::VenueDisconnected
            | AlertKind::VenueRateLimited
            | AlertKind::Reconciliation
            | AlertKind::DaemonStopping => Severity::Warning,
            AlertKind::KillSwitchReleased
            | AlertKind::FeedRecovered
            | AlertKind::StoreRecovered
            | AlertKind::DaemonStarted => Severity::Info,
        }
    }
}

/// The installed sinks.
static SINKS: OnceLock<Vec<sink::SinkHandle>> = OnceLock::new();

/// Puts the sinks in place; the first call wins (a daemon installs once).
pub fn install(sinks: Vec<sink::SinkHandle>) {
    let _ = SINKS.set(sinks);
}

/// Hands `alert` to every installed sink that wants its kind; never waits.
pub fn raise(alert: Alert) {
    log::debug!(kind = alert.kind.name(), subject = alert.subject.as_str(); "alert");
    for sink in SINKS.get().map_or(&[][..], Vec::as_slice) {
        sink.offer(&alert);
    }
}

/// Waits until every sink has delivered (or given up on) what it holds, or `timeout`
/// has passed; for a stopping daemon's last alerts.
pub async fn flush(timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    for sink in SINKS.get().map_or(&[][..], Vec::as_slice) {
        sink.drained(deadline).await;
    }
}
