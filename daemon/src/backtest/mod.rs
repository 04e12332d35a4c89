//! `pennantd backtest`: a configuration's strategies run over replay files, as fast as
//! the engine goes, and a report of what they did.
//!
//! The engine is the daemon's (put together by [`crate::assembly`], the strategies
//! started by the reload pass the daemon runs at start), with the same risk checks and
//! paper venue; only the feed differs: the files are read on the engine's thread
//! ([`tape`]) and handed over as the inputs a replay feed would send, cut at every
//! sampling instant so that the equity curve is taken at exact data times. The journal
//! the store would get is kept in memory instead: the fills of the report are the
//! records a live run stores.
//!
//! The report ([`report`]) depends on the inputs alone: the same configuration, files
//! and options give the same JSON, byte for byte.

pub mod html;
pub mod report;
pub mod stats;
pub mod sweep;
pub mod tape;
pub mod walk_forward;

use crate::assembly;
use crate::config::{Config, FeedSource, ParamValue};
use crate::engine::journal::{Journal, JournalSink};
use crate::engine::{Answer, Command, Engine, EngineInput};
use crate::market::MarketEvent;
use crate::plugin::PluginError;
use crate::records::{Body, FillEvent, OrderEvent};
use crate::reload::Reloader;
use pennant_sdk::{Amount, Timestamp, NANOS_PER_SECOND};
use report::Report;
use std::path::PathBuf;
use tape::{Tape, TapeError};

/// Events handed to the engine per input, at most (a replay feed's batch).
const BATCH: usize = 1024;

/// What `pennantd backtest` is asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// The replay files (text or binary); none: the configuration's replay feeds'.
    pub data: Vec<PathBuf>,
    /// The period: events from `from` (inclusive, ns) ...
    pub from: Option<Timestamp>,
    /// ... to `to` (exclusive, ns).
    pub to: Option<Timestamp>,
    /// Parameter overrides, `STRATEGY.KEY=VALUE`.
    pub params: Vec<String>,
    /// The capital returns are measured against, in the quote currency.
    pub capital: Amount,
    /// The equity curve's sampling interval, in seconds of data time.
    pub sample_secs: u32,
}

/// Why a backtest cannot run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The configuration or the options do not make a backtest.
    #[error("{0}")]
    Setup(String),
    /// A data file cannot be read.
    #[error(transparent)]
    Tape(#[from] TapeError),
    /// The engine cannot start.
    #[error("the engine cannot start: {0}")]
    Engine(#[from] PluginError),
    /// A strategy did not start.
    #[error("strategy {id} did not start: {reason}")]
    Start {
        /// The strategy.
        id: String,
        /// Why.
        reason: String,
    },
}

/// Runs the backtest and returns its report; `progress` hears the events handled so
/// far after each input, and how many there are when the files say (binary ones do).
pub fn run(
    mut config: Config,
    options: &Options,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<Report, BacktestError> {
    check(&config, options)?;
    override_params(&mut config, &options.params)?;
    let paths = data_paths(&config, options)?;
    let instruments = instruments_of(&config);
    let (from, to) = period(options);
    let mut tape = Tape::open(&paths, &instruments, from, to)?;
    let total = tape.records;
    let mut report = execute(
        &config,
        options,
        std::iter::from_fn(|| tape.next(&instruments)),
        total,
        progress,
        &paths,
    )?;
    tape.finish()?;
    report.period.malformed = tape.malformed;
    Ok(report)
}

/// The market data of a backtest, read once and kept decoded: what the runs of a sweep
/// share.
#[derive(Debug, Clone)]
pub struct Data {
    events: Vec<MarketEvent>,
    malformed: u64,
    paths: Vec<PathBuf>,
}

impl Data {
    /// Reads the files a backtest of `config` with `options` replays.
    pub fn load(config: &Config, options: &Options) -> Result<Data, BacktestError> {
        check(config, options)?;
        let paths = data_paths(config, options)?;
        let instruments = instruments_of(config);
        let (from, to) = period(options);
        let mut tape = Tape::open(&paths, &instruments, from, to)?;
        let events = std::iter::from_fn(|| tape.next(&instruments)).collect();
        tape.finish()?;
        Ok(Data {
            events,
            malformed: tape.malformed,
            paths,
        })
    }

    /// The first event's time, if there is one.
    pub fn first_ts(&self) -> Option<Timestamp> {
        self.events.first().map(MarketEvent::ts)
    }

    /// The last event's time, if there is one.
    pub fn last_ts(&self) -> Option<Timestamp> {
        self.events.last().map(MarketEvent::ts)
    }

    /// The events from `from` (inclusive) to `to` (exclusive).
    pub fn between(&self, from: Timestamp, to: Timestamp) -> Data {
        let start = self.events.partition_point(|e| e.ts() < from);
        let end = self.events.partition_point(|e| e.ts() < to);
        Data {
            events: self.events[start..end.max(start)].to_vec(),
            malformed: self.malformed,
            paths: self.paths.clone(),
        }
    }

    /// Runs the backtest over this data (the options' data and period were applied
    /// when it was loaded).
    pub fn run(&self, mut config: Config, options: &Options) -> Result<Report, BacktestError> {
        override_params(&mut config, &options.params)?;
        let total = Some(self.events.len() as u64);
        let events = self.events.iter().copied();
        let mut report = execute(&config, options, events, total, |_, _| {}, &self.paths)?;
        report.period.malformed = self.malformed;
        Ok(report)
    }
}

/// What makes a backtest at all.
fn check(config: &Config, options: &Options) -> Result<(), BacktestError> {
    if config.is_live() {
        return Err(BacktestError::Setup(
            "a backtest replays files: this configuration has a live feed or an exchange venue"
                .into(),
        ));
    }
    if options.sample_secs == 0 || !options.capital.is_positive() {
        return Err(BacktestError::Setup(
            "the sampling interval and the capital must be above zero".into(),
        ));
    }
    Ok(())
}

fn instruments_of(config: &Config) -> crate::market::Instruments {
    crate::market::Instruments::new(config.instruments.iter().map(|i| i.info()))
}

fn period(options: &Options) -> (Timestamp, Timestamp) {
    (
        options.from.unwrap_or(Timestamp::MIN),
        options.to.unwrap_or(Timestamp::MAX),
    )
}

/// The run itself, over `events` (in time order, within the period).
fn execute(
    config: &Config,
    options: &Options,
    mut events: impl Iterator<Item = MarketEvent>,
    total: Option<u64>,
    mut progress: impl FnMut(u64, Option<u64>),
    paths: &[PathBuf],
) -> Result<Report, BacktestError> {
    let instruments = instruments_of(config);
    let Some(first) = events.next() else {
        return Err(BacktestError::Setup(format!(
            "no market events in {} for the period and the configured instruments",
            list(paths)
        )));
    };
    let (records, mut written) = tokio::sync::mpsc::channel(1 << 12);
    let journal = Journal::new(
        JournalSink {
            records,
            stats: Default::default(),
        },
        0,
    );
    let mut engine =
        assembly::engine(config, journal, assembly::Start::At(first.ts()), Vec::new())?;
    start_strategies(config, &mut engine)?;
    let mut run = Run::new(options, first.ts());
    run.horizons = config.signals.horizons_secs.clone();
    run.params = config
        .strategies
        .iter()
        .map(|s| (s.id().to_owned(), s.param_pairs().into_iter().collect()))
        .collect();
    run.sample(&engine, first.ts());
    let mut batch = Vec::with_capacity(BATCH);
    let mut next = Some(first);
    while let Some(event) = next {
        run.market.see(&event, &instruments);
        if event.ts() >= run.next_sample || batch.len() == BATCH {
            hand_over(&mut engine, &mut batch, &mut run, &mut written);
            progress(run.events, total);
            while event.ts() >= run.next_sample {
                run.sample(&engine, run.next_sample);
                run.next_sample += run.interval;
            }
        }
        run.last_ts = event.ts();
        batch.push(event);
        next = events.next();
    }
    hand_over(&mut engine, &mut batch, &mut run, &mut written);
    progress(run.events, total);
    run.sample(&engine, run.last_ts);
    let view = engine.view();
    let finals = engine.shutdown();
    drain(&mut written, &mut run);
    Ok(report::build(run, &view, &finals, &instruments, options))
}

/// What a run gathers on its way.
pub struct Run {
    /// The capital, as a number for the statistics.
    capital: f64,
    /// The sampling interval, ns.
    interval: i64,
    /// The next sampling instant.
    next_sample: Timestamp,
    /// The first event's time.
    first_ts: Timestamp,
    /// The last event's time.
    last_ts: Timestamp,
    /// Market events handed to the engine.
    events: u64,
    /// Each strategy's equity curve, by strategy (in the engine's order).
    curves: Vec<Vec<stats::Point>>,
    /// Each strategy's part in each instrument as an equity curve (the capital plus
    /// that instrument's net PnL), by (strategy, symbol).
    instrument_curves: std::collections::BTreeMap<(String, String), Vec<stats::Point>>,
    /// The journal's fills, in order, with their engine time.
    fills: Vec<(Timestamp, FillEvent)>,
    /// The journal's order events (every change of every order), in order.
    orders: Vec<(Timestamp, OrderEvent)>,
    /// Each instrument's first and last price.
    market: report::MarketMoves,
    /// Each strategy's parameters, overrides applied.
    params: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// The signals and their horizons' outcomes.
    signals: crate::records::SignalStats,
    /// The horizons configured (`[signals] horizons_secs`).
    horizons: Vec<u32>,
}

impl Run {
    fn new(options: &Options, first_ts: Timestamp) -> Run {
        let interval = i64::from(options.sample_secs) * NANOS_PER_SECOND;
        Run {
            capital: options.capital.to_f64(),
            interval,
            next_sample: first_ts.saturating_add(interval),
            first_ts,
            last_ts: first_ts,
            events: 0,
            curves: Vec::new(),
            instrument_curves: Default::default(),
            fills: Vec::new(),
            orders: Vec::new(),
            market: Default::default(),
            params: Default::default(),
            signals: Default::default(),
            horizons: Vec::new(),
        }
    }

    /// Each strategy's equity at `ts`: the capital plus its net PnL, marked now.
    fn sample(&mut self, engine: &Engine, ts: Timestamp) {
        let reports = engine.reports_without_snapshots();
        self.curves.resize_with(reports.len(), Vec::new);
        for (curve, report) in self.curves.iter_mut().zip(&reports) {
            let net: f64 = report
                .positions
                .iter()
                .map(|(_, p)| p.net_pnl().to_f64())
                .sum();
            if curve.last().is_none_or(|&(at, _)| at < ts) {
                curve.push((ts, self.capital + net));
            }
            for (symbol, p) in &report.positions {
                // Flat at the capital until its first position.
                let own = self
                    .instrument_curves
                    .entry((report.id.clone(), symbol.clone()))
                    .or_insert_with(|| vec![(self.first_ts, self.capital)]);
                if own.last().is_none_or(|&(at, _)| at < ts) {
                    own.push((ts, self.capital + p.net_pnl().to_f64()));
                }
            }
        }
        self.market.sample(ts);
    }
}

/// Hands the events gathered to the engine, as one input, and takes the records it
/// wrote.
fn hand_over(
    engine: &mut Engine,
    batch: &mut Vec<MarketEvent>,
    run: &mut Run,
    written: &mut tokio::sync::mpsc::Receiver<Vec<crate::records::Record>>,
) {
    if batch.is_empty() {
        return;
    }
    run.events += batch.len() as u64;
    let events = std::mem::replace(batch, Vec::with_capacity(BATCH));
    engine.step(EngineInput::Market {
        events,
        received: std::time::Instant::now(),
    });
    drain(written, run);
}

/// Takes the fills and order events out of the records the journal has sent.
fn drain(written: &mut tokio::sync::mpsc::Receiver<Vec<crate::records::Record>>, run: &mut Run) {
    while let Ok(records) = written.try_recv() {
        for record in records {
            match record.body {
                Body::Fill(fill) => run.fills.push((record.ts, fill)),
                Body::Order(order) => run.orders.push((record.ts, order)),
                Body::Signal(signal) => {
                    run.signals
                        .add_signals(&signal.strategy, &signal.instrument, signal.side, 1)
                }
                Body::SignalOutcome(outcome) => run.signals.add_outcome(&outcome),
                _ => {}
            }
        }
    }
}

/// Starts the configured strategies, as the daemon's first reload pass does: a
/// strategy that does not start stops the backtest.
fn start_strategies(config: &Config, engine: &mut Engine) -> Result<(), BacktestError> {
    let mut reloader = Reloader::new(config.clone(), engine.plugins().clone());
    let pass = reloader.prepare(false);
    if let Some((id, path)) = pass.waiting.first() {
        return Err(BacktestError::Start {
            id: id.clone(),
            reason: format!("no component file at {}", path.display()),
        });
    }
    let command = Command::Apply {
        changes: pass.changes,
        version_of: None,
    };
    let outcomes = match engine.execute(command) {
        Ok(Answer::Applied { outcomes, .. }) => outcomes,
        Ok(_) => Vec::new(),
        Err(err) => {
            return Err(BacktestError::Setup(format!(
                "the strategies cannot start: {err}"
            )))
        }
    };
    for outcome in outcomes {
        if let Err(reason) = outcome.result {
            return Err(BacktestError::Start {
                id: outcome.target,
                reason,
            });
        }
    }
    Ok(())
}

/// Applies `STRATEGY.KEY=VALUE` overrides to the configured strategies' parameters.
fn override_params(config: &mut Config, params: &[String]) -> Result<(), BacktestError> {
    for param in params {
        let bad = || {
            BacktestError::Setup(format!(
                "--param {param:?}: expected STRATEGY.KEY=VALUE with a configured strategy id"
            ))
        };
        let (target, value) = param.split_once('=').ok_or_else(bad)?;
        let (id, key) = target.split_once('.').ok_or_else(bad)?;
        let strategy = config
            .strategies
            .iter_mut()
            .find(|s| s.id() == id)
            .ok_or_else(bad)?;
        strategy
            .params
            .insert(key.to_owned(), ParamValue(value.to_owned()));
    }
    Ok(())
}

/// The files to replay: the options', else the configuration's replay feeds'.
fn data_paths(config: &Config, options: &Options) -> Result<Vec<PathBuf>, BacktestError> {
    if !options.data.is_empty() {
        return Ok(options.data.clone());
    }
    let paths: Vec<PathBuf> = config
        .feeds
        .iter()
        .filter_map(|feed| match feed.source() {
            FeedSource::Replay(replay) => Some(config.resolve(&replay.path)),
            _ => None,
        })
        .collect();
    if paths.is_empty() {
        return Err(BacktestError::Setup(
            "no data: give --data FILE or configure a [[feed]] kind = \"replay\"".into(),
        ));
    }
    Ok(paths)
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
