//! Prometheus metrics: what `/metrics` serves.
//!
//! Two kinds of source, one registry:
//! - **Live instruments** observed where things happen: the feeds' event and malformed
//!   counters and lag ([`FeedMetrics`]), the engine's histograms of strategy call duration
//!   and event-to-handler latency ([`EngineMetrics`]), the store writer's write duration,
//!   the admin API's requests ([`ApiMetrics`]). Each is an atomic update, no lock on the
//!   engine thread.
//! - **The engine's published view** ([`crate::engine::view`]), turned into counters and
//!   gauges at scrape time ([`view`]): orders, rejections by reason, fills, notional,
//!   positions, PnL, trading states, kill switches, strategy lifecycle, wasm memory, and
//!   the store writer's queue and spool. The engine keeps these counts anyway; reading
//!   them when Prometheus asks costs the hot path nothing.
//!
//! Naming follows Prometheus: the `pennant_` prefix, base units (seconds, bytes), `_total`
//! on counters, and labels of bounded cardinality only (strategy, instrument, feed,
//! reason, route), never an order id.

mod view;

use crate::engine::view::ViewReceiver;
use crate::records::WriterStats;
use crate::store::writer::WriteTimings;
use prometheus::{
    exponential_buckets, Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec,
    IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The prefix of every metric.
pub const NAMESPACE: &str = "pennant";

/// The daemon's metrics registry and its live instruments.
pub struct Metrics {
    registry: Registry,
    /// The engine's histograms.
    pub engine: EngineMetrics,
    /// The admin API's request counters.
    pub api: ApiMetrics,
    feed_events: IntCounterVec,
    feed_malformed: IntCounterVec,
    feed_lag: GaugeVec,
    feed_connected: IntGaugeVec,
    feed_disconnects: IntCounterVec,
    store_write_duration: Histogram,
    /// The session recorder's instruments.
    pub recorder: RecorderMetrics,
    alerts: IntCounterVec,
}

/// Why the metrics could not be set up (a programming error: two metrics with one name).
#[derive(Debug, thiserror::Error)]
#[error("metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec, MetricsError> {
    Ok(IntCounterVec::new(
        Opts::new(name, help).namespace(NAMESPACE),
        labels,
    )?)
}

impl Metrics {
    /// A registry with every live instrument and the build information.
    pub fn new() -> Result<Metrics, MetricsError> {
        let registry = Registry::new();
        let engine = EngineMetrics::new()?;
        let api = ApiMetrics::new()?;
        let metrics = Metrics {
            feed_events: counter_vec(
                "market_events_total",
                "Market data events received, by feed and type.",
                &["feed", "type"],
            )?,
            feed_malformed: counter_vec(
                "market_malformed_total",
                "Malformed market data messages counted and skipped, by feed.",
                &["feed"],
            )?,
            feed_lag: GaugeVec::new(
                Opts::new(
                    "feed_lag_seconds",
                    "Wall time at receipt minus the event's own timestamp, for the last event of a live feed.",
                )
                .namespace(NAMESPACE),
                &["feed"],
            )?,
            feed_connected: IntGaugeVec::new(
                Opts::new(
                    "feed_connected",
                    "1 while the feed is connected (a replay: while it reads its file).",
                )
                .namespace(NAMESPACE),
                &["feed"],
            )?,
            feed_disconnects: counter_vec(
                "feed_disconnects_total",
                "Connections of a live feed lost, by feed and reason: closed (by the other end), failed (an error), quiet (no market data for the feed's quiet_ms).",
                &["feed", "reason"],
            )?,
            store_write_duration: Histogram::with_opts(
                HistogramOpts::new(
                    "store_write_duration_seconds",
                    "Duration of each batch written to the store, in one transaction.",
                )
                .namespace(NAMESPACE)
                .buckets(exponential_buckets(1e-4, 4.0, 8)?),
            )?,
            recorder: RecorderMetrics {
                recording: IntGauge::with_opts(
                    Opts::new(
                        "recorder_recording",
                        "1 while the session recorder writes ([recorder] enabled and no write error).",
                    )
                    .namespace(NAMESPACE),
                )?,
                session_bytes: IntGauge::with_opts(
                    Opts::new(
                        "recorder_session_bytes",
                        "Bytes of this session's recording on disk (inputs, configuration, components).",
                    )
                    .namespace(NAMESPACE),
                )?,
                deleted: IntCounter::with_opts(
                    Opts::new(
                        "recorder_sessions_deleted_total",
                        "Older recorded sessions deleted to stay within [recorder] max_mib.",
                    )
                    .namespace(NAMESPACE),
                )?,
            },
            alerts: counter_vec(
                "alerts_total",
                "Alerts by [[alert]] sink and outcome: sent (messages delivered, a group counting once), failed (given up after the retries, or refused with a 4xx), retried (deliveries tried again), dropped (the sink's queue was full).",
                &["sink", "outcome"],
            )?,
            registry,
            engine,
            api,
        };
        let build = IntGaugeVec::new(
            Opts::new(
                "build_info",
                "Always 1: the version of pennantd and of its WebAssembly runtime.",
            )
            .namespace(NAMESPACE),
            &["version", "wasmtime"],
        )?;
        build
            .with_label_values(&[env!("CARGO_PKG_VERSION"), crate::plugin::WASMTIME_VERSION])
            .set(1);
        let start = Gauge::with_opts(
            Opts::new(
                "start_time_seconds",
                "When the daemon started, in seconds since the Unix epoch.",
            )
            .namespace(NAMESPACE),
        )?;
        start.set(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        );
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(build),
            Box::new(start),
            Box::new(metrics.feed_events.clone()),
            Box::new(metrics.feed_malformed.clone()),
            Box::new(metrics.feed_lag.clone()),
            Box::new(metrics.feed_connected.clone()),
            Box::new(metrics.feed_disconnects.clone()),
            Box::new(metrics.engine.call_duration.clone()),
            Box::new(metrics.engine.handler_latency.clone()),
            Box::new(metrics.api.requests.clone()),
            Box::new(metrics.api.duration.clone()),
            Box::new(metrics.recorder.recording.clone()),
            Box::new(metrics.recorder.session_bytes.clone()),
            Box::new(metrics.recorder.deleted.clone()),
            Box::new(metrics.alerts.clone()),
        ];
        for collector in collectors {
            metrics.registry.register(collector)?;
        }
        Ok(metrics)
    }

    /// The counters of alert sink `sink`.
    pub fn alert_sink(&self, sink: &str) -> crate::alert::sink::SinkCounters {
        let counter = |outcome: &str| self.alerts.with_label_values(&[sink, outcome]);
        crate::alert::sink::SinkCounters {
            sent: counter("sent"),
            failed: counter("failed"),
            retried: counter("retried"),
            dropped: counter("dropped"),
        }
    }

    /// Serves the engine's published view (and the store writer's counters, when there
    /// is a store) at every scrape.
    pub fn watch_engine(
        &self,
        view: ViewReceiver,
        store: Option<Arc<WriterStats>>,
    ) -> Result<(), MetricsError> {
        if store.is_some() {
            self.registry
                .register(Box::new(self.store_write_duration.clone()))?;
        }
        self.registry
            .register(Box::new(view::ViewCollector::new(view, store)?))?;
        Ok(())
    }

    /// What the store writer times its batch writes into (served once
    /// [`watch_engine`](Metrics::watch_engine) is given the writer's counters).
    pub fn store_timings(&self) -> Box<dyn WriteTimings> {
        Box::new(self.store_write_duration.clone())
    }

    /// The instruments of feed `name`.
    pub fn feed(&self, name: &str) -> FeedMetrics {
        FeedMetrics {
            trades: self.feed_events.with_label_values(&[name, "trade"]),
            quotes: self.feed_events.with_label_values(&[name, "quote"]),
            book: self.feed_events.with_label_values(&[name, "book"]),
            malformed: self.feed_malformed.with_label_values(&[name]),
            lag: self.feed_lag.with_label_values(&[name]),
            connected: self.feed_connected.with_label_values(&[name]),
            disconnects: Disconnects {
                closed: self.feed_disconnects.with_label_values(&[name, "closed"]),
                failed: self.feed_disconnects.with_label_values(&[name, "failed"]),
                quiet: self.feed_disconnects.with_label_values(&[name, "quiet"]),
            },
            ended: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Everything, in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let families = self.registry.gather();
        if let Err(err) = TextEncoder::new().encode(&families, &mut buffer) {
            log::error!("cannot encode the metrics: {err}");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// The session recorder's instruments (`recorder::Recorder::with_metrics`).
#[derive(Clone)]
pub struct RecorderMetrics {
    /// 1 while recording.
    pub recording: IntGauge,
    /// Bytes of the session on disk.
    pub session_bytes: IntGauge,
    /// Old sessions deleted for room.
    pub deleted: IntCounter,
}

/// One feed's instruments. Cheap to clone; a detached set counts for no registry (tests,
/// benchmarks).
#[derive(Clone)]
pub struct FeedMetrics {
    /// Trades received.
    pub trades: IntCounter,
    /// Quotes received.
    pub quotes: IntCounter,
    /// Order book levels received.
    pub book: IntCounter,
    /// Malformed messages skipped.
    pub malformed: IntCounter,
    /// Lag of the last event (live feeds).
    pub lag: Gauge,
    /// 1 while connected (a feed of several connections: while all are).
    pub connected: IntGauge,
    /// Connections lost, by reason.
    pub disconnects: Disconnects,
    /// Set when the feed has no more data (a replay that finished).
    ended: Arc<AtomicBool>,
}

impl FeedMetrics {
    /// Instruments registered nowhere.
    pub fn detached() -> FeedMetrics {
        FeedMetrics {
            trades: IntCounter::new("trades", "trades").expect("constant metric options"),
            quotes: IntCounter::new("quotes", "quotes").expect("constant metric options"),
            book: IntCounter::new("book", "book").expect("constant metric options"),
            malformed: IntCounter::new("malformed", "malformed").expect("constant metric options"),
            lag: Gauge::new("lag", "lag").expect("constant metric options"),
            connected: IntGauge::new("connected", "connected").expect("constant metric options"),
            disconnects: Disconnects {
                closed: IntCounter::new("closed", "closed").expect("constant metric options"),
                failed: IntCounter::new("failed", "failed").expect("constant metric options"),
                quiet: IntCounter::new("quiet", "quiet").expect("constant metric options"),
            },
            ended: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The feed has no more data: not connected, and not expected to be.
    pub fn set_ended(&self) {
        self.connected.set(0);
        self.ended.store(true, Ordering::Relaxed);
    }

    /// Whether the feed has ended.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }
}

/// A live feed's lost connections, by reason.
#[derive(Clone)]
pub struct Disconnects {
    /// Closed by the other end.
    pub closed: IntCounter,
    /// Failed with an error.
    pub failed: IntCounter,
    /// No market data for too long.
    pub quiet: IntCounter,
}

/// The engine's histograms, per strategy.
#[derive(Clone)]
pub struct EngineMetrics {
    call_duration: HistogramVec,
    handler_latency: HistogramVec,
}

/// One strategy's histograms, resolved once so that observing takes no lookup.
#[derive(Clone)]
pub struct StrategyMetrics {
    /// Duration of each call into the strategy.
    pub call_duration: Histogram,
    /// From the feed's hand-over of a market event to the strategy's handler.
    pub handler_latency: Histogram,
}

impl EngineMetrics {
    fn new() -> Result<EngineMetrics, MetricsError> {
        Ok(EngineMetrics {
            call_duration: HistogramVec::new(
                HistogramOpts::new(
                    "strategy_call_duration_seconds",
                    "Duration of each call into a strategy (handlers, snapshots), host calls included.",
                )
                .namespace(NAMESPACE)
                .buckets(exponential_buckets(1e-6, 4.0, 10)?),
                &["strategy"],
            )?,
            handler_latency: HistogramVec::new(
                HistogramOpts::new(
                    "event_handler_latency_seconds",
                    "From a feed handing a market event to the engine to the strategy's handler being called.",
                )
                .namespace(NAMESPACE)
                .buckets(exponential_buckets(1e-5, 4.0, 9)?),
                &["strategy"],
            )?,
        })
    }

    /// Strategy `id`'s histograms.
    pub fn strategy(&self, id: &str) -> StrategyMetrics {
        StrategyMetrics {
            call_duration: self.call_duration.with_label_values(&[id]),
            handler_latency: self.handler_latency.with_label_values(&[id]),
        }
    }
}

impl crate::engine::Timings for EngineMetrics {
    fn strategy(&self, id: &str) -> Box<dyn crate::engine::StrategyTimings> {
        Box::new(EngineMetrics::strategy(self, id))
    }
}

impl crate::engine::StrategyTimings for StrategyMetrics {
    fn call(&self, seconds: f64) {
        self.call_duration.observe(seconds);
    }
    fn handler_latency(&self, seconds: f64) {
        self.handler_latency.observe(seconds);
    }
}

/// The admin API's requests, by route template (never the raw path) and status.
#[derive(Clone)]
pub struct ApiMetrics {
    /// Requests answered.
    pub requests: IntCounterVec,
    /// How long they took.
    pub duration: HistogramVec,
}

impl ApiMetrics {
    fn new() -> Result<ApiMetrics, MetricsError> {
        Ok(ApiMetrics {
            requests: counter_vec(
                "api_requests_total",
                "Admin API requests answered, by route and status code.",
                &["route", "code"],
            )?,
            duration: HistogramVec::new(
                HistogramOpts::new(
                    "api_request_duration_seconds",
                    "Admin API request handling time, by route (an event stream: until it ends).",
                )
                .namespace(NAMESPACE)
                .buckets(exponential_buckets(1e-5, 4.0, 10)?),
                &["route"],
            )?,
        })
    }
}

/// The store writer times each batch write into the histogram.
impl WriteTimings for Histogram {
    fn batch_written(&self, took: Duration) {
        self.observe(took.as_secs_f64());
    }
}
