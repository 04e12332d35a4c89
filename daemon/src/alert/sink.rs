//! One `[[alert]]` sink: its bounded queue, its grouping of repeats, and its delivery
//! task with retries.

use super::format::{self, Message};
use super::{Alert, AlertKind};
use crate::config::{AlertConfig, AlertFormat};
use prometheus::IntCounter;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A sink as its users see it: where alerts are offered.
pub struct SinkHandle {
    name: String,
    wants: Option<Vec<AlertKind>>,
    queue: mpsc::Sender<Alert>,
    /// Alerts queued or being delivered (or waiting in a group).
    held: Arc<AtomicUsize>,
    dropped: IntCounter,
    /// Asks the task to send what waits in groups now.
    flush: Arc<tokio::sync::Notify>,
}

impl SinkHandle {
    /// Queues `alert` if the sink wants its kind; drops it (counted) when the queue is
    /// full or the sink has stopped.
    pub fn offer(&self, alert: &Alert) {
        if self
            .wants
            .as_ref()
            .is_some_and(|w| !w.contains(&alert.kind))
        {
            return;
        }
        self.held.fetch_add(1, Ordering::SeqCst);
        if self.queue.try_send(alert.clone()).is_err() {
            self.held.fetch_sub(1, Ordering::SeqCst);
            self.dropped.inc();
            log::warn!(sink = self.name.as_str(), kind = alert.kind.name(); "alert queue full: alert dropped");
        }
    }

    /// Waits until the sink holds nothing, or `deadline`.
    pub async fn drained(&self, deadline: Instant) {
        self.flush.notify_one();
        while self.held.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Where the sink sends, its secrets resolved.
#[derive(Clone)]
pub struct Target {
    /// The URL to POST to (for Telegram, with the bot token in it).
    pub url: String,
    /// Telegram's chat id.
    pub chat_id: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a token.
        f.write_str("Target { url: <hidden> }")
    }
}

/// Why a sink cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// A secret is missing.
    #[error("alert {sink}: {source}")]
    Secret {
        /// The sink.
        sink: String,
        /// Why.
        source: crate::config::secret::SecretError,
    },
    /// The HTTP client cannot be built.
    #[error("alert {sink}: {message}")]
    Client {
        /// The sink.
        sink: String,
        /// Why.
        message: String,
    },
}

/// The sink's counters.
#[derive(Clone)]
pub struct SinkCounters {
    /// Messages delivered.
    pub sent: IntCounter,
    /// Messages given up on (retries spent, or refused with a 4xx).
    pub failed: IntCounter,
    /// Deliveries tried again.
    pub retried: IntCounter,
    /// Alerts dropped: the queue was full.
    pub dropped: IntCounter,
}

impl SinkCounters {
    /// Counters registered nowhere (a daemon without metrics).
    pub fn detached() -> SinkCounters {
        let counter = || IntCounter::new("alerts", "alerts").expect("constant metric options");
        SinkCounters {
            sent: counter(),
            failed: counter(),
            retried: counter(),
            dropped: counter(),
        }
    }
}

/// Resolves where `config` sends: its URL or bot token from the credentials or the
/// environment.
pub fn target(
    config: &AlertConfig,
    credentials: Option<&std::path::Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Target, SinkError> {
    let secret = |name: &str| {
        crate::config::secret::read(name, credentials, &env).map_err(|source| SinkError::Secret {
            sink: config.name.get_ref().clone(),
            source,
        })
    };
    let url = match config.format {
        AlertFormat::Webhook | AlertFormat::Slack => match (&config.url, &config.url_secret) {
            (Some(url), _) => url.clone(),
            (None, Some(name)) => secret(name)?,
            (None, None) => String::new(),
        },
        AlertFormat::Telegram => {
            let token = secret(config.bot_token_secret.as_deref().unwrap_or_default())?;
            format!(
                "{}/bot{token}/sendMessage",
                config.api_url.trim_end_matches('/')
            )
        }
    };
    Ok(Target {
        url,
        chat_id: config.chat_id.clone().unwrap_or_default(),
    })
}

/// Starts the sink's delivery task on the current runtime.
pub fn spawn(
    config: &AlertConfig,
    target: Target,
    daemon: &str,
    counters: SinkCounters,
) -> Result<SinkHandle, SinkError> {
    let name = config.name.get_ref().clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(config.timeout_ms.get().into()))
        .build()
        .map_err(|err| SinkError::Client {
            sink: name.clone(),
            message: err.to_string(),
        })?;
    let (queue, inbox) = mpsc::channel(config.queue.get() as usize);
    let held = Arc::new(AtomicUsize::new(0));
    let flush = Arc::new(tokio::sync::Notify::new());
    let task = Delivery {
        name: name.clone(),
        format: config.format,
        target,
        daemon: daemon.to_owned(),
        client,
        group: Duration::from_secs(config.group_secs.into()),
        retries: config.retries,
        retry_min: Duration::from_millis(config.retry_min_ms.get().into()),
        retry_max: Duration::from_millis(config.retry_max_ms.get().into()),
        held: held.clone(),
        counters: counters.clone(),
        groups: HashMap::new(),
    };
    tokio::spawn(task.run(inbox, flush.clone()));
    Ok(SinkHandle {
        name,
        wants: config.events.clone(),
        queue,
        held,
        dropped: counters.dropped,
        flush,
    })
}

/// A kind and subject seen lately: until `until`, more of them are counted, not sent.
struct Group {
    until: Instant,
    /// The last one held back, how many, and when the first of those was raised.
    waiting: Option<(Alert, u64, SystemTime)>,
}

struct Delivery {
    name: String,
    format: AlertFormat,
    target: Target,
    daemon: String,
    client: reqwest::Client,
    group: Duration,
    retries: u32,
    retry_min: Duration,
    retry_max: Duration,
    held: Arc<AtomicUsize>,
    counters: SinkCounters,
    groups: HashMap<(AlertKind, String), Group>,
}

impl Delivery {
    async fn run(mut self, mut inbox: mpsc::Receiver<Alert>, flush: Arc<tokio::sync::Notify>) {
        loop {
            let next_due = self.groups.values().map(|g| g.until).min();
            let far = Instant::now() + Duration::from_secs(86_400);
            tokio::select! {
                alert = inbox.recv() => match alert {
                    Some(alert) => self.take(alert).await,
                    None => break,
                },
                () = flush.notified() => {
                    // What is queued is taken first, so that it is in its group.
                    while let Ok(alert) = inbox.try_recv() {
                        self.take(alert).await;
                    }
                    self.send_waiting().await;
                }
                _ = tokio::time::sleep_until(next_due.unwrap_or(far)), if next_due.is_some() => {
                    self.close_groups().await;
                }
            }
        }
        self.send_waiting().await;
    }

    /// Sends every group's count now (the daemon is stopping).
    async fn send_waiting(&mut self) {
        let waiting: Vec<_> = self
            .groups
            .values_mut()
            .filter_map(|g| g.waiting.take())
            .collect();
        for group in waiting {
            self.send_group(group).await;
        }
    }

    /// A new alert: sent now, or counted into its group.
    async fn take(&mut self, alert: Alert) {
        // A group whose time is up goes first, so that this alert does not replace it.
        self.close_groups().await;
        let now = Instant::now();
        let key = (alert.kind, alert.subject.clone());
        if let Some(group) = self.groups.get_mut(&key).filter(|g| g.until > now) {
            match &mut group.waiting {
                Some((last, count, _)) => {
                    *last = alert;
                    *count += 1;
                    // Already held once; this one is in the count.
                    self.held.fetch_sub(1, Ordering::SeqCst);
                }
                None => group.waiting = Some((alert.clone(), 1, alert.at)),
            }
            return;
        }
        self.groups.insert(
            key,
            Group {
                until: now + self.group,
                waiting: None,
            },
        );
        let first_at = alert.at;
        self.deliver(Message {
            alert,
            count: 1,
            first_at,
        })
        .await;
    }

    /// Sends the count of each group whose time is up; a group with nothing held back
    /// ends, one that sent a count starts a new period.
    async fn close_groups(&mut self) {
        let now = Instant::now();
        let due: Vec<_> = self
            .groups
            .iter()
            .filter(|(_, g)| g.until <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let waiting = self.groups.get_mut(&key).and_then(|g| g.waiting.take());
            match waiting {
                Some(waiting) => {
                    if let Some(group) = self.groups.get_mut(&key) {
                        group.until = now + self.group;
                    }
                    self.send_group(waiting).await;
                }
                None => {
                    self.groups.remove(&key);
                }
            }
        }
    }

    async fn send_group(&mut self, (alert, count, first_at): (Alert, u64, SystemTime)) {
        self.deliver(Message {
            alert,
            count,
            first_at,
        })
        .await;
    }

    /// Delivers one message, retrying with backoff; releases what it held.
    async fn deliver(&mut self, message: Message) {
        let body = format::body(self.format, &message, &self.daemon, &self.target.chat_id);
        let mut attempt = 0;
        loop {
            let outcome = self
                .client
                .post(&self.target.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await;
            let retry_after = match outcome {
                Ok(response) if response.status().is_success() => {
                    self.counters.sent.inc();
                    break;
                }
                Ok(response) => {
                    let status = response.status();
                    let wait = retry_after(&response);
                    if status.is_client_error() && status.as_u16() != 429 {
                        log::error!(sink = self.name.as_str(), status = status.as_u16(), kind = message.alert.kind.name(); "the alert receiver refused the alert: not sent");
                        self.counters.failed.inc();
                        break;
                    }
                    log::warn!(sink = self.name.as_str(), status = status.as_u16(), attempt; "the alert receiver did not take the alert");
                    wait
                }
                Err(err) => {
                    // No URL in the message: it may hold a token.
                    let why = if err.is_timeout() {
                        "no answer in time"
                    } else if err.is_connect() {
                        "cannot connect"
                    } else {
                        "the request failed"
                    };
                    log::warn!(sink = self.name.as_str(), attempt; "alert not delivered: {why}");
                    None
                }
            };
            if attempt >= self.retries {
                log::error!(sink = self.name.as_str(), kind = message.alert.kind.name(), attempts = attempt + 1; "alert given up after its retries");
                self.counters.failed.inc();
                break;
            }
            let backoff = self
                .retry_min
                .saturating_mul(1 << attempt.min(16))
                .min(self.retry_max);
            tokio::time::sleep(retry_after.unwrap_or(backoff).min(self.retry_max)).await;
            attempt += 1;
            self.counters.retried.inc();
        }
        self.held.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A receiver's `Retry-After` in seconds.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let secs: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}
