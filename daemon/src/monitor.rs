//! The monitor: watches the daemon's conditions and raises [`alert`]s on their
//! changes. Feeds (connected, current), the store (writable), venues' bans come from
//! their gauges and the engine's view, read every [`TICK`]; quarantines, refusals, kill
//! switches, trading states and reconciliations from the journal's records as they are
//! broadcast. It only reads: the engine never waits on it.

use crate::alert::{self, Alert, AlertKind};
use crate::engine::view::ViewReceiver;
use crate::metrics::FeedMetrics;
use crate::records::{Body, LifecycleKind, Named, Record, RiskKind, TradingState, WriterStats};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::broadcast;

/// How often the gauges are read.
pub const TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// A live feed whose last event is older than this behind its receipt is stale (the
/// Prometheus rule `PennantFeedStale` uses the same).
pub const STALE_SECS: f64 = 10.0;

/// A feed that has not connected yet since the start is not reported as disconnected
/// before this (connecting to an exchange takes a moment).
pub const FIRST_CONNECT_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// What the monitor watches.
pub struct Watched {
    /// Each feed's gauges, by name.
    pub feeds: Vec<(String, FeedMetrics)>,
    /// The store writer's counters (none in a backtest).
    pub writer: Option<Arc<WriterStats>>,
    /// The engine's view.
    pub view: ViewReceiver,
    /// The journal's records.
    pub records: broadcast::Receiver<Arc<Record>>,
}

/// Watches until the engine stops.
pub async fn run(mut watched: Watched) {
    let mut conditions = Conditions::default();
    let mut records = RecordAlerts::default();
    let mut ticks = tokio::time::interval(TICK);
    let started = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                let view = watched.view.borrow().clone();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as i64);
                let feeds: Vec<FeedReading> = watched
                    .feeds
                    .iter()
                    .map(|(name, m)| FeedReading {
                        name: name.clone(),
                        connected: m.connected.get() == 1,
                        ended: m.ended(),
                        lag_secs: m.lag.get(),
                    })
                    .collect();
                let spooled = watched
                    .writer
                    .as_ref()
                    .map_or(0, |w| w.spooled.load(Ordering::Relaxed) + w.undurable.load(Ordering::Relaxed));
                let banned: Vec<String> = view
                    .bans
                    .iter()
                    .filter(|(_, until)| *until > now)
                    .map(|(venue, _)| venue.clone())
                    .collect();
                let graced = started.elapsed() < FIRST_CONNECT_GRACE;
                for alert in conditions.read(&feeds, spooled, &banned, graced) {
                    alert::raise(alert);
                }
                if !view.running {
                    return;
                }
            }
            record = watched.records.recv() => match record {
                Ok(record) => {
                    if let Some(alert) = records.of(&record) {
                        alert::raise(alert);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    log::warn!(missed; "the monitor fell behind the journal: records skipped, their alerts not raised");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// One feed's gauges at a tick.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedReading {
    /// The feed.
    pub name: String,
    /// Connected (all its connections).
    pub connected: bool,
    /// It has no more data (a replay that finished): neither connected nor missing.
    pub ended: bool,
    /// Its last event's lag, in seconds.
    pub lag_secs: f64,
}

/// The conditions last seen, to raise alerts on their changes only.
#[derive(Debug, Default)]
pub struct Conditions {
    /// Feeds down or stale: name -> stale (true) or disconnected (false).
    feeds: HashMap<String, bool>,
    /// Feeds seen connected since the start.
    connected_once: HashSet<String>,
    store_down: bool,
    banned: HashSet<String>,
}

impl Conditions {
    /// The alerts of what changed since the last reading; while `graced`, a feed that
    /// has not connected yet is not reported.
    pub fn read(
        &mut self,
        feeds: &[FeedReading],
        spooled: u64,
        banned: &[String],
        graced: bool,
    ) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for feed in feeds {
            if feed.connected {
                self.connected_once.insert(feed.name.clone());
            }
            let now = if feed.ended {
                None
            } else if !feed.connected && graced && !self.connected_once.contains(&feed.name) {
                continue;
            } else if !feed.connected {
                Some(false)
            } else if feed.lag_secs > STALE_SECS {
                Some(true)
            } else {
                None
            };
            let before = self.feeds.get(&feed.name).copied();
            if now == before {
                continue;
            }
            match now {
                Some(false) => alerts.push(Alert::new(
                    AlertKind::FeedDisconnected,
                    &feed.name,
                    "the feed lost its connection; it connects again with backoff",
                )),
                Some(true) => alerts.push(Alert::new(
                    AlertKind::FeedStale,
                    &feed.name,
                    format!(
                        "the feed's events arrive {:.1} s late (more than {STALE_SECS} s)",
                        feed.lag_secs
                    ),
                )),
                None if !feed.ended => alerts.push(Alert::new(
                    AlertKind::FeedRecovered,
                    &feed.name,
                    "the feed is connected and current again",
                )),
                None => {}
            }
            match now {
                Some(state) => self.feeds.insert(feed.name.clone(), state),
                None => self.feeds.remove(&feed.name),
            };
        }
        let down = spooled > 0;
        if down != self.store_down {
            self.store_down = down;
            alerts.push(if down {
                Alert::new(
                    AlertKind::StoreOutage,
                    "store",
                    format!(
                        "the store does not take records: {spooled} wait in the spool or in memory"
                    ),
                )
            } else {
                Alert::new(
                    AlertKind::StoreRecovered,
                    "store",
                    "the store takes records again; the spool is written",
                )
            });
        }
        let banned_now: HashSet<String> = banned.iter().cloned().collect();
        for venue in banned_now.difference(&self.banned) {
            alerts.push(Alert::new(
                AlertKind::VenueBanned,
                venue,
                "the exchange banned this IP (HTTP 418): nothing is sent until the ban ends",
            ));
        }
        self.banned = banned_now;
        alerts
    }
}

/// The alerts the journal's records raise.
#[derive(Debug, Default)]
pub struct RecordAlerts {
    /// Scopes whose kill switch is engaged: the next ACTIVE of one is its release.
    kill_switched: HashSet<String>,
}

impl RecordAlerts {
    /// The alert `record` raises, if any.
    pub fn of(&mut self, record: &Record) -> Option<Alert> {
        match &record.body {
            Body::Lifecycle(event) => {
                let kind = match event.event {
                    LifecycleKind::Quarantined => AlertKind::StrategyQuarantined,
                    LifecycleKind::Refused | LifecycleKind::Failed => AlertKind::StrategyRefused,
                    _ => return None,
                };
                let what = match event.event {
                    LifecycleKind::Quarantined => "quarantined".to_owned(),
                    _ => format!(
                        "new version {} refused, the old one runs on",
                        event.version.as_deref().unwrap_or("?")
                    ),
                };
                Some(Alert::new(
                    kind,
                    &event.strategy,
                    format!("{what}: {}", event.detail),
                ))
            }
            Body::Risk(event) => {
                let scope = event
                    .scope
                    .clone()
                    .or_else(|| event.strategy.clone())
                    .unwrap_or_else(|| "global".into());
                let by = event
                    .actor
                    .as_deref()
                    .map(|a| format!(" (by {a})"))
                    .unwrap_or_default();
                match event.kind {
                    RiskKind::KillSwitch => {
                        self.kill_switched.insert(scope.clone());
                        Some(Alert::new(
                            AlertKind::KillSwitchEngaged,
                            scope,
                            format!("kill switch engaged{by}: {}", event.detail),
                        ))
                    }
                    RiskKind::State => {
                        let state = event.state?;
                        if state == TradingState::Active && self.kill_switched.remove(&scope) {
                            return Some(Alert::new(
                                AlertKind::KillSwitchReleased,
                                scope,
                                format!("kill switch released{by}: trading is ACTIVE"),
                            ));
                        }
                        Some(Alert::new(
                            AlertKind::TradingState,
                            scope,
                            format!("trading state {}{by}: {}", state.name(), event.detail),
                        ))
                    }
                    RiskKind::Breaker => Some(Alert::new(
                        AlertKind::StrategyQuarantined,
                        event.strategy.clone().unwrap_or(scope),
                        format!("the circuit breaker quarantined it: {}", event.detail),
                    )),
                    RiskKind::Reconciled => Some(Alert::new(
                        AlertKind::Reconciliation,
                        event.strategy.clone().unwrap_or(scope),
                        event.detail.clone(),
                    )),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(connected: bool, lag_secs: f64) -> FeedReading {
        FeedReading {
            name: "md".into(),
            connected,
            ended: false,
            lag_secs,
        }
    }

    #[test]
    fn conditions_raise_on_their_changes_only() {
        let mut conditions = Conditions::default();
        let mut check =
            |feeds: &[FeedReading], spooled: u64, banned: &[&str], want: &[AlertKind]| {
                let banned: Vec<String> = banned.iter().map(|b| b.to_string()).collect();
                let got: Vec<AlertKind> = conditions
                    .read(feeds, spooled, &banned, true)
                    .into_iter()
                    .map(|a| a.kind)
                    .collect();
                assert_eq!(got, want, "{feeds:?} spooled={spooled} banned={banned:?}");
            };
        use AlertKind as K;
        // Not connected yet at the start: not reported within the grace.
        check(&[feed(false, 0.0)], 0, &[], &[]);
        check(&[feed(true, 0.1)], 0, &[], &[]);
        check(&[feed(false, 0.1)], 0, &[], &[K::FeedDisconnected]);
        check(&[feed(false, 0.1)], 0, &[], &[]);
        check(&[feed(true, 30.0)], 0, &[], &[K::FeedStale]);
        check(
            &[feed(true, 30.0)],
            5,
            &["binance"],
            &[K::StoreOutage, K::VenueBanned],
        );
        check(&[feed(true, 0.2)], 5, &["binance"], &[K::FeedRecovered]);
        check(&[feed(true, 0.2)], 0, &[], &[K::StoreRecovered]);
        let ended = FeedReading {
            ended: true,
            ..feed(false, 0.0)
        };
        check(&[ended], 0, &[], &[]);
    }

    #[test]
    fn records_raise_quarantines_refusals_kill_switches_and_states() {
        use crate::records::{LifecycleEvent, RiskEvent};
        let mut alerts = RecordAlerts::default();
        let mut check = |body: Body, want: Option<(AlertKind, &str)>| {
            let record = Record {
                seq: 1,
                ts: 0,
                body,
            };
            let got = alerts.of(&record).map(|a| (a.kind, a.subject));
            assert_eq!(got, want.map(|(k, s)| (k, s.to_owned())), "{record:?}");
        };
        let lifecycle = |event| {
            Body::Lifecycle(LifecycleEvent {
                strategy: "mm".into(),
                event,
                version: Some("abc".into()),
                detail: "trap".into(),
            })
        };
        let risk = |kind, state| {
            Body::Risk(RiskEvent {
                strategy: None,
                kind,
                reason: None,
                actor: Some("api:admin".into()),
                scope: Some("global".into()),
                state,
                detail: String::new(),
            })
        };
        use AlertKind as K;
        check(
            lifecycle(LifecycleKind::Quarantined),
            Some((K::StrategyQuarantined, "mm")),
        );
        check(
            lifecycle(LifecycleKind::Refused),
            Some((K::StrategyRefused, "mm")),
        );
        check(lifecycle(LifecycleKind::Paused), None);
        let halted = Some(TradingState::Halted);
        let active = Some(TradingState::Active);
        check(
            risk(RiskKind::State, halted),
            Some((K::TradingState, "global")),
        );
        check(
            risk(RiskKind::KillSwitch, halted),
            Some((K::KillSwitchEngaged, "global")),
        );
        check(
            risk(RiskKind::State, active),
            Some((K::KillSwitchReleased, "global")),
        );
        check(
            risk(RiskKind::State, active),
            Some((K::TradingState, "global")),
        );
        check(
            risk(RiskKind::Reconciled, None),
            Some((K::Reconciliation, "global")),
        );
        check(risk(RiskKind::Limits, None), None);
    }
}
