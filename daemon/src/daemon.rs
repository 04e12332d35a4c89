//! Wiring: from a configuration to a running daemon, and back down.
//!
//! Start-up order: configuration, instruments, the WebAssembly host, the engine, then the
//! reloader's first pass, which loads and starts every strategy (a strategy whose file is
//! missing or broken is reported and starts when a good file appears); then the tokio
//! runtime with the feeds, the clock ticker, the signal handlers, the file watcher and
//! the reload loop; the engine runs on its own thread. Shutdown (SIGINT/SIGTERM, or the
//! end of every feed when configured) stops the engine, which applies each strategy's
//! open-order policy and reports final positions.

use crate::api::{self, ApiSetupError, ApiState, Tokens};
use crate::assembly;
use crate::config::{Config, ConfigError};
use crate::engine::journal::{Journal, JournalSink};
use crate::engine::{Answer, Command, Engine, EngineInput, StrategyReport};
use crate::feed;
use crate::market::Instruments;
use crate::metrics::Metrics;
use crate::plugin::PluginError;
use crate::recorder::{Recorder, RecorderError};
use crate::records::Recovered;
use crate::records::WriterStats;
use crate::reload::{self, Reloader, Trigger};
use crate::service;
use crate::store::spool::Spool;
use crate::store::writer::{self, WriterSettings};
use crate::store::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Capacity of the engine's market channel, in messages (each a batch of events).
const ENGINE_CHANNEL: usize = 1024;
/// Reload triggers waiting for the reloader, at most.
const RELOAD_TRIGGERS: usize = 64;
/// How often the engine gets a wall-clock tick.
const TICK: Duration = Duration::from_millis(100);
/// Operator reloads waiting for the reloader, at most.
const RELOAD_REQUESTS: usize = 16;
/// Journal records an event-stream client may fall behind by before it misses some.
const EVENT_STREAM: usize = 4096;

/// Why the daemon could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A strategy component cannot be loaded.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// Strategies cannot start (`check-config`).
    #[error("{0}")]
    Strategies(String),
    /// A feed's source cannot be read.
    #[error("feed {feed}: cannot read {path}: {message}")]
    Feed {
        /// The feed's name.
        feed: String,
        /// Its file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A network feed cannot be reached (`check-config --online`).
    #[error("feed {feed}: cannot connect to {url}: {message}")]
    FeedUnreachable {
        /// The feed.
        feed: String,
        /// Its URL.
        url: String,
        /// Why.
        message: String,
    },
    /// The store cannot be opened or reached.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The admin API cannot start.
    #[error(transparent)]
    Api(#[from] ApiSetupError),
    /// The session recorder cannot start.
    #[error(transparent)]
    Recorder(#[from] RecorderError),
    /// An exchange venue cannot start.
    #[error(transparent)]
    Binance(#[from] crate::venue::binance::setup::SetupError),
    /// The runtime could not be set up.
    #[error("cannot start: {0}")]
    Runtime(String),
}

impl DaemonError {
    /// True when fixing the configuration or a strategy file fixes the error.
    pub fn is_config(&self) -> bool {
        match self {
            DaemonError::Runtime(_)
            | DaemonError::FeedUnreachable { .. }
            | DaemonError::Api(ApiSetupError::Bind { .. }) => false,
            DaemonError::Binance(err) => !matches!(
                err,
                crate::venue::binance::setup::SetupError::Unreachable { .. }
            ),
            DaemonError::Store(err) => err.is_config(),
            _ => true,
        }
    }

    /// True when a service it needs is unavailable (the database).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            DaemonError::Store(StoreError::Unreachable { .. })
                | DaemonError::FeedUnreachable { .. }
                | DaemonError::Api(ApiSetupError::Bind { .. })
                | DaemonError::Binance(
                    crate::venue::binance::setup::SetupError::Unreachable { .. }
                )
        )
    }
}

/// Checks a configuration and its strategy components without trading: the file, every
/// component (compiled and type-checked against the contract), and every strategy's
/// `init` with its parameters. Returns a line per strategy.
pub fn check(config: &Config) -> Result<Vec<String>, DaemonError> {
    if config.api.enabled {
        Tokens::load(&config.api, &config.base_dir).map_err(ApiSetupError::from)?;
    }
    let (mut engine, mut reloader) = build_engine(config, Journal::default(), Vec::new())?;
    let pass = reloader.prepare(false);
    let outcomes = apply(&mut engine, pass.changes);
    let mut problems: Vec<String> = outcomes
        .into_iter()
        .filter_map(|o| o.result.err())
        .collect();
    if pass.retry {
        problems.push("a component file changed while it was read: check again".into());
    }
    if !problems.is_empty() {
        return Err(DaemonError::Strategies(problems.join("; ")));
    }
    // A missing file is not an error: `run` starts the strategy when it appears (and a
    // deploy in progress must not stop a restart at ExecStartPre).
    let waiting = pass.waiting.iter().map(|(id, path)| {
        format!(
            "strategy {id}: waiting for its component file {}",
            path.display()
        )
    });
    Ok(engine
        .reports()
        .iter()
        .map(|r| format!("strategy {}: ok", r.id))
        .chain(waiting)
        .collect())
}

/// What `check-config --online` adds: each Binance venue's keys verified with one
/// signed request (after its instruments are checked against `exchangeInfo`), and each
/// `binance` feed's market streams connected once. Returns a line per venue and feed.
pub fn check_online(config: &Config) -> Result<Vec<String>, DaemonError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| DaemonError::Runtime(err.to_string()))?;
    runtime.block_on(async {
        let ids = crate::venue::ClientOrderIds::new(&config.daemon.id).unwrap_or_default();
        let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        let mut lines = Vec::new();
        for (index, venue) in config.venues.iter().enumerate() {
            if venue.kind != crate::config::VenueKind::Binance {
                continue;
            }
            let instruments = venue_instruments(config, index);
            let mut setup = crate::venue::binance::setup::prepare(
                venue,
                &instruments,
                ids.clone(),
                credentials.as_deref(),
            )
            .await?;
            lines.push(crate::venue::binance::setup::verify_keys(&mut setup).await?);
        }
        for feed in &config.feeds {
            let crate::config::FeedSource::Binance(binance) = feed.source() else {
                continue;
            };
            let name = feed.name.get_ref();
            let symbols: Vec<_> = binance
                .symbols
                .iter()
                .map(|s| (crate::venue::binance::market_stream::binance_symbol(s), 0))
                .collect();
            let url =
                crate::feed::binance::url(&binance.url, &symbols, binance.depth_levels.is_some());
            let connected = tokio::time::timeout(
                Duration::from_secs(10),
                tokio_tungstenite::connect_async(url.as_str()),
            )
            .await;
            match connected {
                Ok(Ok((mut socket, _))) => {
                    let _ = socket.close(None).await;
                    lines.push(format!("feed {name}: connected to {}", binance.url));
                }
                Ok(Err(err)) => {
                    return Err(DaemonError::FeedUnreachable {
                        feed: name.clone(),
                        url: binance.url.clone(),
                        message: err.to_string(),
                    })
                }
                Err(_) => {
                    return Err(DaemonError::FeedUnreachable {
                        feed: name.clone(),
                        url: binance.url.clone(),
                        message: "no connection within 10 s".into(),
                    })
                }
            }
        }
        Ok(lines)
    })
}

/// The instruments routed to venue `index`, with the ids the engine gives them.
fn venue_instruments(config: &Config, index: usize) -> Vec<pennant_sdk::InstrumentInfo> {
    let routes = config.venue_routes();
    config
        .instruments
        .iter()
        .enumerate()
        .filter(|(i, _)| routes.get(*i) == Some(&index))
        .map(|(i, instrument)| pennant_sdk::InstrumentInfo {
            id: i as pennant_sdk::InstrumentId + 1,
            ..instrument.info()
        })
        .collect()
}

/// The engine with no strategies yet, and the reloader that will start them: starting
/// is the first reload pass.
fn build_engine(
    config: &Config,
    journal: Journal,
    connected: assembly::Connected,
) -> Result<(Engine, Reloader), DaemonError> {
    // A feed that cannot start is found before READY=1, not after.
    for feed in &config.feeds {
        if let crate::config::FeedSource::Replay(replay) = feed.source() {
            let path = config.resolve(&replay.path);
            if let Err(err) = std::fs::File::open(&path) {
                return Err(DaemonError::Feed {
                    feed: feed.name.get_ref().clone(),
                    path,
                    message: err.to_string(),
                });
            }
        }
    }
    let engine = assembly::engine(config, journal, assembly::Start::Now, connected)?;
    let reloader = Reloader::new(config.clone(), engine.plugins().clone());
    Ok((engine, reloader))
}

/// Applies reload changes before the engine runs, as the command the reloader sends
/// later (so that a recorded session has them).
fn apply(
    engine: &mut Engine,
    changes: Vec<crate::engine::Change>,
) -> Vec<crate::engine::ChangeOutcome> {
    let command = Command::Apply {
        changes,
        version_of: None,
    };
    match engine.execute(command) {
        Ok(Answer::Applied { outcomes, .. }) => outcomes,
        _ => Vec::new(),
    }
}

/// Returns once every feed is connected or has ended; says in the log which it waits for.
async fn feeds_connected(feeds: &[(String, crate::metrics::FeedMetrics)]) {
    let waiting = || -> Vec<&str> {
        feeds
            .iter()
            .filter(|(_, m)| m.connected.get() != 1 && !m.ended())
            .map(|(name, _)| name.as_str())
            .collect()
    };
    let mut said = false;
    loop {
        let names = waiting();
        if names.is_empty() {
            return;
        }
        if !said {
            said = true;
            log::info!(feeds:% = names.join(","); "waiting for market data feeds to connect before READY=1");
            service::status(&format!("waiting for feeds: {}", names.join(", ")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs the daemon until SIGINT/SIGTERM (or until the feeds end, when configured);
/// returns the final report of every strategy.
pub fn run(config: Config) -> Result<Vec<StrategyReport>, DaemonError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pennant-io")
        .enable_all()
        .build()
        .map_err(|err| DaemonError::Runtime(err.to_string()))?;
    // A backtest keeps nothing: its positions and orders must never become the live
    // state of the next start.
    let tokens = if config.api.enabled {
        Some(Tokens::load(&config.api, &config.base_dir).map_err(ApiSetupError::from)?)
    } else {
        None
    };
    // Alerts watch the engine's view and journal, which metrics come with.
    let metrics = match tokens.is_some() || !config.alerts.is_empty() {
        true => Some(Arc::new(
            Metrics::new().map_err(|err| DaemonError::Runtime(err.to_string()))?,
        )),
        false => None,
    };
    let (journal, writer, recovered) = if config.is_live() {
        let state_dir = config.resolve(&config.daemon.state_dir);
        let (store, spool, recovered) = runtime.block_on(open_store(&config, &state_dir))?;
        let stats = Arc::new(WriterStats::default());
        let (records, records_rx) = mpsc::channel(config.store.queue.get() as usize);
        let journal = Journal::new(
            JournalSink {
                records,
                stats: stats.clone(),
            },
            recovered.last_seq,
        );
        let settings = WriterSettings {
            batch_max: config.store.batch_max.get() as usize,
            retry: Duration::from_millis(u64::from(config.store.retry_ms.get())),
            write_timeout: Duration::from_millis(u64::from(config.store.write_timeout_ms.get())),
        };
        let reader = store.clone();
        let writer = runtime.spawn(writer::run(
            store,
            records_rx,
            spool,
            settings,
            stats.clone(),
            metrics.as_ref().map_or_else(
                || Box::new(()) as Box<dyn writer::WriteTimings>,
                |m| m.store_timings(),
            ),
        ));
        (journal, Some((writer, reader, stats)), Some(recovered))
    } else {
        log::info!("backtest: nothing is recovered or stored");
        (Journal::default(), None, None)
    };
    let (senders, inputs) = crate::engine::inputs::channels(ENGINE_CHANNEL);
    let (connected, venue_tasks) = runtime.block_on(connect_venues(&config, &senders.control))?;
    let (mut engine, mut reloader) = build_engine(&config, journal, connected)?;
    if config.recorder.enabled && config.is_live() {
        let (mode, now) = engine.clock_start();
        let mut recorder = Recorder::start(&config, mode, now)?;
        if let Some(metrics) = &metrics {
            recorder = recorder.with_metrics(metrics.recorder.clone());
        }
        engine.record_to(Box::new(recorder));
    }
    if let Some(recovered) = recovered {
        engine.recover(recovered);
    }
    let pass = reloader.prepare(false);
    let outcomes = apply(&mut engine, pass.changes);
    reloader.settle(&outcomes);
    reload::log_outcomes(&outcomes);
    for (id, path) in &pass.waiting {
        log::warn!(strategy = id.as_str(), path:% = path.display(); "component file not found: the strategy starts when it appears");
    }
    // Strategies the store remembers but the configuration no longer has: their open
    // orders go by the default policy.
    for report in engine.reports() {
        if !config.strategies.iter().any(|s| s.id() == report.id) && report.version.is_none() {
            let stop = crate::engine::Change::Stop {
                id: report.id.clone(),
                reason: "recovered from the store but not configured".into(),
            };
            apply(&mut engine, vec![stop]);
        }
    }
    engine.set_heartbeat(Box::new(service::Heartbeat::from_env()));
    let (events, _) = broadcast::channel(EVENT_STREAM);
    // The monitor hears the journal from its first record: subscribed before the engine
    // runs (a strategy can be quarantined on the first trades).
    let monitor_records = (!config.alerts.is_empty()).then(|| events.subscribe());
    let view = metrics.as_ref().map(|metrics| {
        engine.set_metrics(Box::new(metrics.engine.clone()));
        engine.stream_journal(events.clone());
        engine.publish_view()
    });
    let (running, total) = engine.running_strategies();
    // Feeds send market data; everything else goes on the control channel, which the
    // engine reads first.
    let tx = senders.control.clone();
    let engine_thread = std::thread::Builder::new()
        .name("engine".into())
        .spawn(move || engine.run(inputs))
        .map_err(|err| DaemonError::Runtime(format!("cannot start the engine thread: {err}")))?;

    runtime.block_on(async {
        let instruments = Arc::new(Instruments::new(config.instruments.iter().map(|i| i.info())));
        let mut feeds = Vec::new();
        for feed_config in &config.feeds {
            let name = feed_config.name.get_ref().clone();
            let feed_metrics = metrics
                .as_ref()
                .map_or_else(crate::metrics::FeedMetrics::detached, |m| m.feed(&name));
            feed::spawn(feed_config, |p| config.resolve(p), instruments.clone(), senders.market.clone(), feed_metrics.clone());
            feeds.push((name, feed_metrics));
        }
        let feed_state = feeds.clone();
        tokio::spawn(tick(tx.clone()));
        let grace = Duration::from_secs(u64::from(config.daemon.shutdown_timeout_secs.get()));
        // Installed here, before READY=1: a signal arriving as soon as systemd hears we
        // are up must find its handler, not the default action (terminate).
        let signals = Signals::install();
        tokio::spawn(shutdown_on_signal(signals.term, signals.int, tx.clone(), grace));
        let (triggers, trigger_rx) = mpsc::channel(RELOAD_TRIGGERS);
        let watcher = if config.plugins.watch {
            let debounce = Duration::from_millis(u64::from(config.plugins.reload_debounce_ms.get()));
            reload::watch::start(&reloader.watched_dirs(), &config.source, debounce, triggers.clone())
                .map_err(|err| log::error!("{err}; SIGHUP still reloads"))
                .ok()
        } else {
            None
        };
        // Whatever changed between the first pass and the watch (or was being written
        // during the first pass) is picked up now.
        let _ = triggers.try_send(Trigger::Components);
        tokio::spawn(reload_on_sighup(signals.hup, triggers));
        let marker = service::reload_marker(std::process::id());
        let (reloads, reload_rx) = mpsc::channel(RELOAD_REQUESTS);
        tokio::spawn(reload::run(reloader, trigger_rx, reload_rx, tx.clone(), watcher, Some(marker)));
        if let Some(records) = monitor_records {
            start_alerts(&config, metrics.as_deref())?;
            // Before the monitor's first alert.
            crate::alert::raise(crate::alert::Alert::new(
                crate::alert::AlertKind::DaemonStarted,
                &config.daemon.id,
                format!("pennantd {} started: {running}/{total} strategies running", env!("CARGO_PKG_VERSION")),
            ));
            if let Some(view) = &view {
                tokio::spawn(crate::monitor::run(crate::monitor::Watched {
                    feeds: feeds.clone(),
                    writer: writer.as_ref().map(|(_, _, stats)| stats.clone()),
                    view: view.clone(),
                    records,
                }));
            }
        }
        if let (Some(tokens), Some(metrics), Some(view)) = (tokens, metrics, view) {
            let (store, stats) = match &writer {
                Some((_, store, stats)) => (Some(store.clone()), Some(stats.clone())),
                None => (None, None),
            };
            metrics.watch_engine(view.clone(), stats.clone()).map_err(|err| DaemonError::Runtime(err.to_string()))?;
            let token_count = tokens.len();
            let state = ApiState {
                config: config.api.clone(),
                tokens,
                view,
                engine: tx.clone(),
                reloads,
                store,
                writer: stats,
                events,
                feeds,
                strategies: config.strategies.iter().map(|s| s.id().to_owned()).collect(),
                metrics,
                started: std::time::Instant::now(),
                intraday: Default::default(),
                signal_horizons: config.signals.horizons_secs.clone(),
            };
            let addr = api::serve(state).await?;
            log::info!(addr = addr.as_str(), tokens = token_count; "admin API listening");
        }
        log::info!(feeds = config.feeds.len(), strategies = config.strategies.len(); "pennantd started");

        // A feed over the network is not up when started: systemd hears READY=1 once
        // every feed is connected (or, a replay, done), and not before.
        tokio::select! {
            () = feeds_connected(&feed_state) => {}
            () = tx.closed() => {}
        }
        service::ready(&format!("{running}/{total} strategies running, starting"));
        // The engine decides when to stop; its channel closing tells us.
        tx.closed().await;
        service::stopping();
        crate::alert::raise(crate::alert::Alert::new(
            crate::alert::AlertKind::DaemonStopping,
            &config.daemon.id,
            "pennantd is stopping",
        ));
        // The exchanges' venues send the cancels the stopping strategies asked for.
        for task in venue_tasks {
            if tokio::time::timeout(grace, task).await.is_err() {
                log::warn!(grace_secs = grace.as_secs(); "a venue did not finish its last requests in time");
            }
        }
        // The engine closed its journal on the way out: the writer finishes what it has.
        if let Some((writer, _, _)) = writer {
            let _ = writer.await;
        }
        crate::alert::flush(ALERT_FLUSH).await;
        Ok::<(), DaemonError>(())
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    let _ = std::fs::remove_file(service::reload_marker(std::process::id()));
    engine_thread
        .join()
        .map_err(|_| DaemonError::Runtime("the engine thread panicked".into()))
}

/// How long a stopping daemon waits for its last alerts to be delivered.
const ALERT_FLUSH: Duration = Duration::from_secs(5);

/// Starts the `[[alert]]` sinks, their secrets read from the credentials or the
/// environment, and installs them for [`crate::alert::raise`].
fn start_alerts(config: &Config, metrics: Option<&Metrics>) -> Result<(), DaemonError> {
    use crate::alert::sink;
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    let mut sinks = Vec::new();
    for alert in &config.alerts {
        let name = alert.name.get_ref();
        let failed = |err: sink::SinkError| DaemonError::Runtime(err.to_string());
        let target = sink::target(alert, credentials.as_deref(), |n| std::env::var(n).ok())
            .map_err(failed)?;
        let counters = metrics.map_or_else(sink::SinkCounters::detached, |m| m.alert_sink(name));
        sinks.push(sink::spawn(alert, target, &config.daemon.id, counters).map_err(failed)?);
        log::info!(sink = name.as_str(), format:? = alert.format; "alert sink ready");
    }
    crate::alert::install(sinks);
    Ok(())
}

/// Starts the exchanges' venues (`[[venue]] kind = "binance"`): each checked against
/// the exchange first, its task on the runtime, its reports on the engine's control
/// channel as `EngineInput::Venue` with its index.
async fn connect_venues(
    config: &Config,
    control: &mpsc::Sender<EngineInput>,
) -> Result<(assembly::Connected, Vec<tokio::task::JoinHandle<()>>), DaemonError> {
    let ids = crate::venue::ClientOrderIds::new(&config.daemon.id).unwrap_or_default();
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    let mut connected = assembly::Connected::new();
    let mut tasks = Vec::new();
    for (index, venue) in config.venues.iter().enumerate() {
        if venue.kind != crate::config::VenueKind::Binance {
            continue;
        }
        let instruments = venue_instruments(config, index);
        let setup = crate::venue::binance::setup::prepare(
            venue,
            &instruments,
            ids.clone(),
            credentials.as_deref(),
        )
        .await?;
        log::info!(venue = venue.name.get_ref().as_str(), url = venue.rest_url.as_str(), instruments = instruments.len(); "Binance venue checked against exchangeInfo");
        let (venue, task) = crate::venue::binance::venue::BinanceVenue::spawn(
            setup,
            &tokio::runtime::Handle::current(),
            control.clone(),
            move |event| EngineInput::Venue {
                venue: index,
                event,
            },
        );
        connected.push((index, Box::new(venue)));
        tasks.push(task);
    }
    Ok((connected, tasks))
}

/// Opens the store, writes what a previous run left in the spool, and reads back what
/// the engine needs.
async fn open_store(
    config: &Config,
    state_dir: &Path,
) -> Result<(Store, Spool, Recovered), DaemonError> {
    let store = Store::open(&config.store, state_dir).await?;
    let spool_path = state_dir.join("spool.jsonl");
    let mut spool = Spool::open(&spool_path).map_err(|err| {
        DaemonError::Runtime(format!(
            "cannot read the spool {}: {err}",
            spool_path.display()
        ))
    })?;
    if !spool.is_empty() {
        let waiting = spool.records();
        spool
            .replay(config.store.batch_max.get() as usize, |batch| {
                let store = &store;
                async move { store.write(&batch).await }
            })
            .await?;
        log::info!(records = waiting; "records spooled by the last run written");
    }
    let recovered = store.recover().await?;
    log::info!(store = store.describe().as_str(), last_seq = recovered.last_seq; "store open");
    Ok((store, spool, recovered))
}

/// The signals the daemon handles; a stream that cannot be installed is `None` (and
/// logged).
struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        let install = |kind: SignalKind, name: &str| {
            signal(kind)
                .map_err(|err| log::error!(signal = name; "cannot install the handler: {err}"))
                .ok()
        };
        Signals {
            term: install(SignalKind::terminate(), "SIGTERM"),
            int: install(SignalKind::interrupt(), "SIGINT"),
            hup: install(SignalKind::hangup(), "SIGHUP"),
        }
    }
}

/// `SIGHUP`: re-read the configuration and every component, as the watcher would.
async fn reload_on_sighup(
    hup: Option<tokio::signal::unix::Signal>,
    triggers: mpsc::Sender<Trigger>,
) {
    let Some(mut hup) = hup else {
        return;
    };
    while hup.recv().await.is_some() {
        log::info!(signal = "SIGHUP"; "reloading");
        if triggers.send(Trigger::Signal).await.is_err() {
            return;
        }
    }
}

async fn tick(tx: mpsc::Sender<EngineInput>) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        interval.tick().await;
        // A tick that finds the control channel full is not needed: one is waiting.
        if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(EngineInput::Tick) {
            return;
        }
    }
}

/// First SIGINT/SIGTERM: graceful stop. A second one: exit at once.
async fn shutdown_on_signal(
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
    tx: mpsc::Sender<EngineInput>,
    grace: Duration,
) {
    let (Some(mut term), Some(mut int)) = (term, int) else {
        log::error!("no SIGTERM/SIGINT handlers: stop with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => log::info!(signal = "SIGTERM"; "shutting down"),
        _ = int.recv() => log::info!(signal = "SIGINT"; "shutting down"),
    }
    service::stopping();
    // The deadline runs from the first signal, even if the engine is too stuck to take
    // the request.
    let deadline = tokio::time::sleep(grace);
    tokio::pin!(deadline);
    let request = tx.send(EngineInput::Shutdown);
    tokio::pin!(request);
    let mut requested = false;
    loop {
        tokio::select! {
            _ = &mut request, if !requested => requested = true,
            _ = term.recv() => {
                log::warn!("second signal: exiting at once");
                break;
            }
            _ = int.recv() => {
                log::warn!("second signal: exiting at once");
                break;
            }
            _ = &mut deadline => {
                log::error!(seconds = grace.as_secs(); "the graceful shutdown took too long: exiting at once");
                break;
            }
        }
    }
    std::process::exit(130);
}
