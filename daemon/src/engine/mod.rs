//! The engine: one deterministic event loop on its own thread.
//!
//! It receives [`EngineInput`]s over a bounded channel (market data from the feeds, clock
//! ticks, shutdown), keeps the market state, the orders and the positions ([`Core`]),
//! and calls the strategies synchronously: market data to subscribers, bars as they
//! close, timers as they fall due, and order updates after the handler that caused them
//! returns. Orders submitted by a strategy pass the risk checks and reach the venue
//! inside its `submit-order` call.
//!
//! Given the same inputs, the engine makes the same calls in the same order: with the
//! event-time clock a replay is a reproducible backtest, and live trading runs the very
//! same code with the wall clock.

pub mod budget;
pub mod builder;
pub mod clock;
pub mod command;
pub mod core;
mod delivery;
pub mod inputs;
pub mod journal;
mod lifecycle;
pub mod observer;
pub mod outcome;
pub mod query;
mod records;
mod recovery;
pub mod rejection_log;
mod run;
pub mod runtime;
pub mod signal_horizons;
mod snapshots;
pub mod tape;
pub mod timers;
pub mod view;
pub mod window;

pub use self::command::{Answer, Command, CommandError, LimitsPatch, Reply};
pub use self::core::{Core, StrategyCtx, StrategyStats, Tallies};
pub use self::inputs::{EngineInput, EngineInputs, EngineSender};
pub use self::lifecycle::{Change, ChangeOutcome, Done, Version, VersionOutcome};
pub use self::observer::{Heartbeat, StrategyTimings, Timings};
pub use self::query::{Query, QueryAnswer, QueryReply};
pub use self::recovery::RecoverySummary;
pub use self::runtime::{NativeStrategy, StrategyCode, StrategyRuntime};

use crate::config::OpenOrders;
use crate::market::MarketEvent;
use crate::plugin::{Fault, LoadedComponent, PluginError, PluginHost};
use clock::ClockMode;
use pennant_sdk::{InstrumentId, OrderUpdate, Position, Timestamp};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use window::VenueStep;

pub use crate::account::StrategyIdx;

/// A loaded strategy component, shared by every strategy that uses the same file.
pub type SharedComponent = Arc<LoadedComponent<StrategyCtx>>;

/// Where a strategy stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrategyState {
    /// Receiving events.
    Running,
    /// Paused by an operator: its instance and state are kept, it receives nothing (its
    /// order updates and due timers wait for it) and so sends nothing; its open orders
    /// stay.
    Paused,
    /// Stopped after a fault or a failed start; its orders were canceled.
    Quarantined {
        /// What happened.
        reason: String,
    },
    /// Stopped on purpose (its component file was removed, or it left the
    /// configuration); its open orders went by its policy.
    Stopped {
        /// Why.
        reason: String,
    },
}

impl StrategyState {
    /// Lower-case name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            StrategyState::Running => "running",
            StrategyState::Paused => "paused",
            StrategyState::Quarantined { .. } => "quarantined",
            StrategyState::Stopped { .. } => "stopped",
        }
    }
}

/// A strategy to run: its id, code, parameters and open-order policy.
#[derive(Clone)]
pub struct StrategySpec {
    /// Unique id.
    pub id: String,
    /// Its code: a component, or a native build.
    pub code: StrategyCode,
    /// `init` parameters.
    pub params: Vec<(String, String)>,
    /// What becomes of its open orders when it stops.
    pub open_orders: OpenOrders,
}

/// A strategy as the engine keeps it: everything here belongs to the strategy id and
/// outlives any one instance or version.
struct StrategySlot {
    id: String,
    /// The code in use (or last used); `None` until a version has loaded.
    code: Option<StrategyCode>,
    params: Vec<(String, String)>,
    open_orders: OpenOrders,
    instance: Option<Box<dyn StrategyRuntime>>,
    state: StrategyState,
    snapshot: Option<Vec<u8>>,
    snapshot_at: Timestamp,
    /// Order updates that arrived while the strategy was not running (the cancels of its
    /// orders, mostly); delivered when it runs again so that it learns what became of them.
    missed: Vec<OrderUpdate>,
    /// Its open orders came back after a crash, when it could not look after them: its
    /// policy decides at its next start whether they outlive it
    /// ([`Engine::deploy`](crate::engine::Engine::deploy)).
    orders_left_by_crash: bool,
    /// The versions loaded or refused, oldest first, at most `keep_versions`.
    versions: VecDeque<Version>,
    /// The last failure (a refused version, a failed start, a fault), for the operator.
    last_error: Option<String>,
    /// Timer tokens that fell due while the strategy was paused, fired when it resumes.
    deferred_timers: Vec<u64>,
    /// Lifecycle counters, for the metrics.
    lifecycle: LifecycleCounts,
    /// Its histograms, when the engine has metrics.
    metrics: Option<Box<dyn StrategyTimings>>,
}

/// How often a strategy started, was replaced and was quarantined (by fault code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleCounts {
    /// Starts from no running instance (the first, and after a quarantine).
    pub loads: u64,
    /// Replacements of a running instance: new code, new parameters, a reload.
    pub reloads: u64,
    /// Quarantines, by fault code.
    pub quarantines: std::collections::BTreeMap<String, u64>,
}

/// The invariant behind every `expect` on the core: it is lent to a strategy only for
/// the duration of one call, which always hands it back.
const CORE_HOME: &str = "the core is home between strategy calls";

/// Order updates kept for a quarantined strategy, at most.
const MAX_MISSED_UPDATES: usize = 10_000;
/// Order updates one event may cause, in a chain of handlers reacting to updates, before
/// the strategy receiving the next one is deemed stuck in a loop and quarantined.
const MAX_UPDATE_CASCADE: usize = 10_000;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// How often to snapshot each strategy, in engine time.
    pub snapshot_interval: Duration,
    /// How often to log the per-strategy summary, in wall time.
    pub summary_interval: Duration,
    /// Stop once every feed has ended.
    pub exit_when_feeds_end: bool,
    /// How many feeds there are.
    pub feeds: usize,
    /// How many versions of each strategy to keep for rollback.
    pub keep_versions: usize,
    /// Records the journal may hold for the writer before trading is held at
    /// reduce-only (`[store] max_backlog_records`).
    pub max_backlog_records: usize,
    /// Hand a strategy many market events per call where that cannot change the
    /// outcome (`[plugins] market_windows`; see [`window`]). Off, every event is a call.
    pub market_windows: bool,
    /// The horizons after which a signal's instrument is priced again, in seconds
    /// (`[signals] horizons_secs`; see [`signal_horizons`]).
    pub signal_horizons: Vec<u32>,
}

/// Where a strategy stands: for the periodic and final summaries and the admin API.
#[derive(Debug, Clone)]
pub struct StrategyReport {
    /// The strategy id.
    pub id: String,
    /// Running, quarantined or stopped (with the reason).
    pub state: StrategyState,
    /// The content hash of the code in use (`native` for a native build), if any loaded.
    pub version: Option<String>,
    /// When that version was loaded (wall time).
    pub loaded_at: Option<SystemTime>,
    /// The last failure: a refused version, a failed start, a fault.
    pub last_error: Option<String>,
    /// The last snapshot of its state (the final report takes one at shutdown).
    pub snapshot: Option<Vec<u8>>,
    /// Counters.
    pub stats: StrategyStats,
    /// Positions with their instrument symbols.
    pub positions: Vec<(String, Position)>,
}

/// Why a strategy could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Instantiation failed.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// `init` refused the parameters, or `restore` the saved state.
    #[error("strategy {strategy} refused its parameters: {message}")]
    Init {
        /// The strategy id.
        strategy: String,
        /// The strategy's message.
        message: String,
    },
    /// `init` or `restore` faulted.
    #[error("strategy {strategy} {fault} while starting")]
    Fault {
        /// The strategy id.
        strategy: String,
        /// What happened.
        fault: Fault,
    },
    /// A version of the strategy was refused before it could start (it did not compile,
    /// or does not fit the contract).
    #[error("{0}")]
    Refused(String),
    /// Only a quarantined strategy can be restarted.
    #[error("strategy {strategy} is not quarantined")]
    NotQuarantined {
        /// The strategy id.
        strategy: String,
    },
    /// No strategy has that index.
    #[error("no strategy #{0}")]
    Unknown(StrategyIdx),
    /// No strategy has that id.
    #[error("no strategy {0}")]
    UnknownId(String),
    /// The strategy has never loaded: there is no code to rebuild it from.
    #[error("strategy {0} has no version loaded")]
    NotLoaded(String),
    /// The strategy is not in a state where this can be done.
    #[error("strategy {strategy} is {state}: cannot {action}")]
    NotRunning {
        /// The strategy id.
        strategy: String,
        /// Its state.
        state: &'static str,
        /// What was asked.
        action: &'static str,
    },
    /// The strategy has no kept version to roll back to (or none with that hash).
    #[error("strategy {strategy} has no earlier version {wanted} to roll back to")]
    NoVersion {
        /// The strategy id.
        strategy: String,
        /// The version asked for, or `at all`.
        wanted: String,
    },
}

/// See the module docs.
pub struct Engine {
    core: Option<Box<Core>>,
    strategies: Vec<StrategySlot>,
    plugins: Arc<PluginHost<StrategyCtx>>,
    settings: EngineSettings,
    events: u64,
    feeds_ended: usize,
    last_summary: Instant,
    /// Reused buffer for the subscribers of the event being delivered.
    recipients: Vec<StrategyIdx>,
    /// How many of the risk engine's audit records the journal has.
    audit_recorded: usize,
    /// Told after every input the loop handles: the engine's sign of life.
    heartbeat: Option<Box<dyn Heartbeat>>,
    /// The trading day whose baselines the journal has.
    day_recorded: Option<Timestamp>,
    /// Orders adopted from a venue's `Unrecorded` answer: told again, they are not
    /// adopted twice (a finished one is no longer among the open orders).
    adopted: std::collections::BTreeSet<pennant_sdk::OrderId>,
    /// Where the engine publishes its view for the admin API and the metrics.
    publisher: Option<view::Publisher>,
    /// The engine's histograms, when it has metrics.
    metrics: Option<Box<dyn Timings>>,
    /// When the market batch being handled was received.
    batch_received: Option<Instant>,
    /// Reused buffer: order updates delivered to each strategy in the current pass.
    cascade: Vec<(StrategyIdx, usize)>,
    /// Where the inputs are told, when the session is recorded.
    tape: Option<Box<dyn tape::Tape>>,
    /// Replaying a recorded session: the store hold comes from the recording, not from
    /// watching a store.
    replaying: bool,
}

/// Whether the loop goes on after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

/// Which subscriber list an event goes to.
#[derive(Clone, Copy)]
enum Audience {
    Trades(InstrumentId),
    Quotes(InstrumentId),
    Book(InstrumentId),
    Bars(usize),
}

impl Engine {
    /// An engine with no strategies yet.
    pub fn new(
        core: Core,
        plugins: Arc<PluginHost<StrategyCtx>>,
        settings: EngineSettings,
    ) -> Self {
        Engine {
            core: Some(Box::new(core)),
            strategies: Vec::new(),
            plugins,
            settings,
            events: 0,
            feeds_ended: 0,
            last_summary: Instant::now(),
            recipients: Vec::new(),
            audit_recorded: 0,
            heartbeat: None,
            day_recorded: None,
            adopted: Default::default(),
            publisher: None,
            metrics: None,
            batch_received: None,
            cascade: Vec::new(),
            tape: None,
            replaying: false,
        }
    }

    /// Working orders with a cancel pending, and with an unknown status.
    pub fn order_states(&self) -> (usize, usize) {
        self.core_ref().orders.pending()
    }

    /// Publishes the engine's view here, after a command and at most every
    /// [`view::PUBLISH_INTERVAL`] otherwise; returns where to read it.
    pub fn publish_view(&mut self) -> view::ViewReceiver {
        let view = Arc::new(self.view());
        let (publisher, receiver) = view::Publisher::new(view);
        self.publisher = Some(publisher);
        receiver
    }

    /// Broadcasts the journal's records (for the admin API's event stream).
    pub fn stream_journal(
        &mut self,
        stream: tokio::sync::broadcast::Sender<Arc<crate::records::Record>>,
    ) {
        self.core().journal.stream_to(stream);
    }

    /// Publishes the view now (when the engine publishes one): what a command changed is
    /// seen by the time its caller hears back.
    pub fn publish_now(&mut self) {
        self.publish(true);
    }

    fn publish(&mut self, running: bool) {
        if self.publisher.is_some() {
            let view = view::EngineView {
                running,
                ..self.view()
            };
            if let Some(publisher) = &mut self.publisher {
                publisher.publish(Arc::new(view));
            }
        }
    }

    /// Tells `metrics` each strategy call's duration and each handler's latency from
    /// the batch's arrival.
    pub fn set_metrics(&mut self, metrics: Box<dyn Timings>) {
        for slot in &mut self.strategies {
            slot.metrics = Some(metrics.strategy(&slot.id));
        }
        self.metrics = Some(metrics);
    }

    fn core(&mut self) -> &mut Core {
        self.core.as_mut().expect(CORE_HOME)
    }

    fn core_ref(&self) -> &Core {
        self.core.as_ref().expect(CORE_HOME)
    }

    /// Takes the core out to lend it to a strategy call; it comes back with the call.
    fn take_core(&mut self) -> Box<Core> {
        self.core.take().expect(CORE_HOME)
    }

    /// The WebAssembly host strategies are loaded with.
    pub fn plugins(&self) -> &Arc<PluginHost<StrategyCtx>> {
        &self.plugins
    }

    /// Beats this heartbeat after every input the loop handles (systemd's watchdog).
    pub fn set_heartbeat(&mut self, heartbeat: Box<dyn Heartbeat>) {
        self.heartbeat = Some(heartbeat);
    }

    /// How many strategies run, of how many the engine knows.
    pub fn running_strategies(&self) -> (usize, usize) {
        let running = self
            .strategies
            .iter()
            .filter(|s| s.state == StrategyState::Running)
            .count();
        (running, self.strategies.len())
    }

    /// Market events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Where a strategy stands.
    pub fn state(&self, idx: StrategyIdx) -> Option<&StrategyState> {
        self.strategies.get(idx).map(|s| &s.state)
    }

    /// The risk engine: limits, trading states, the audit trail.
    pub fn risk(&self) -> &crate::risk::RiskEngine {
        &self.core_ref().risk
    }

    /// How much of its limits each strategy uses: trading state, messages in the rate
    /// window, today's PnL, open order notional.
    pub fn risk_utilization(&self) -> Vec<(String, crate::risk::Utilization)> {
        let core = self.core_ref();
        let books = crate::risk::Books {
            instruments: &core.instruments,
            market: &core.market,
            orders: &core.orders,
            ledger: &core.ledger,
            balances: None,
        };
        (0..self.strategies.len())
            .filter_map(|idx| {
                let id = self.strategies[idx].id.clone();
                core.risk
                    .utilization(idx, core.clock.now(), &books)
                    .map(|u| (id, u))
            })
            .collect()
    }

    /// Engages the kill switch for a scope (a strategy, or everything): `HALTED`, and
    /// every open order in the scope canceled; the strategies get an order update for each.
    /// Returns how many orders were canceled.
    pub fn kill_switch(
        &mut self,
        scope: &crate::risk::Scope,
        actor: &str,
    ) -> Result<usize, crate::risk::RiskError> {
        let core = self.core();
        let now = core.clock.now();
        let strategy = core.risk.kill_switch(scope, actor, now)?;
        let canceled = core.cancel_all_of(strategy);
        self.deliver_updates();
        Ok(canceled)
    }

    /// Sets a trading state (how an operator leaves `HALTED`).
    pub fn set_trading_state(
        &mut self,
        scope: &crate::risk::Scope,
        state: crate::risk::TradingState,
        actor: &str,
    ) -> Result<(), crate::risk::RiskError> {
        let core = self.core();
        let now = core.clock.now();
        core.risk.set_state(scope, state, actor, now)
    }

    /// Changes the limits of a scope at run time (see
    /// [`crate::risk::RiskEngine::change_limits`]).
    pub fn change_limits(
        &mut self,
        scope: &crate::risk::Scope,
        actor: &str,
        change: impl FnOnce(&mut crate::config::Limits),
    ) -> Result<(), crate::risk::RiskError> {
        let core = self.core();
        let now = core.clock.now();
        let instruments = core.instruments.clone();
        core.risk
            .change_limits(scope, actor, now, &instruments, change)
    }

    /// Moves the clock to `ts` and runs what falls due.
    fn advance_clock(&mut self, ts: Timestamp) {
        let now = self.core().clock.advance(ts);
        self.run_due(now);
    }

    /// Runs what falls due at `now`: orders in flight reach the venue, bars close, timers
    /// fire, snapshots are taken. Timers set while firing wait for the next pass (see
    /// [`timers::Timers::take_due`]), so a strategy re-arming a timer for "now" cannot
    /// hold the engine.
    fn run_due(&mut self, now: Timestamp) {
        self.core().venues_on_clock(now);
        self.deliver_updates();
        let core = self.core();
        let books = crate::risk::Books {
            instruments: &core.instruments,
            market: &core.market,
            orders: &core.orders,
            ledger: &core.ledger,
            balances: None,
        };
        core.risk.watch(now, &books);
        core.close_rejection_windows(now);
        for aggregator in 0..self.core().subscriptions.bars.len() {
            if let Some(bar) = self.core().subscriptions.bars[aggregator].0.close_due(now) {
                self.broadcast(Audience::Bars(aggregator), |engine, idx| {
                    engine.deliver(idx, |i, ctx| i.on_bar(ctx, &bar));
                });
            }
        }
        for (idx, token) in self.core().timers.take_due(now) {
            if self.strategies[idx].state == StrategyState::Paused {
                self.strategies[idx].deferred_timers.push(token);
                continue;
            }
            self.deliver(idx, |i, ctx| i.on_timer(ctx, token));
            self.deliver_updates();
        }
        self.snapshot_due(now);
    }

    /// Processes one market event, delivered on its own (see [`Self::on_market_batch`]).
    pub fn on_market(&mut self, event: &MarketEvent) {
        self.events += 1;
        self.advance_clock(event.ts());
        self.apply_market(event, VenueStep::Run);
        self.deliver_market(event);
    }

    /// Processes market events in order, as a feed's batch: runs of them that go to one
    /// strategy are handed to it in one call where that cannot change the outcome (see
    /// [`window`]).
    pub fn on_market_batch(&mut self, events: &[MarketEvent]) {
        self.on_batch(events, Instant::now(), || None);
    }

    /// The end of a feed batch: no venue may have been shown an event past it.
    fn end_batch(&mut self) {
        let core = self.core();
        if core.window.is_ahead() {
            core.book_held();
            core.window = window::MarketWindow::default();
        }
    }

    /// The market state takes an event, then its venue (which may fill resting orders):
    /// the updates this causes are delivered.
    fn apply_market(&mut self, event: &MarketEvent, venue: VenueStep) {
        let core = self.core();
        core.market.apply(event);
        core.mature_signals();
        match venue {
            VenueStep::Run => {
                let venue = core.venue_of(event.instrument());
                core.with_venue(venue, |v, out| v.on_market(event, out));
            }
            VenueStep::Done => {}
            VenueStep::Held => core.book_held(),
        }
        self.deliver_updates();
    }

    /// A market event goes to the bar aggregators (a trade) and to its subscribers.
    fn deliver_market(&mut self, event: &MarketEvent) {
        let audience = match event {
            MarketEvent::Trade(trade) => {
                for aggregator in 0..self.core().subscriptions.bars.len() {
                    let (bars, _) = &mut self.core().subscriptions.bars[aggregator];
                    if bars.instrument() != trade.instrument {
                        continue;
                    }
                    if let Some(bar) = bars.add(trade) {
                        self.broadcast(Audience::Bars(aggregator), |engine, idx| {
                            engine.deliver(idx, |i, ctx| i.on_bar(ctx, &bar));
                        });
                    }
                }
                Audience::Trades(trade.instrument)
            }
            MarketEvent::Quote(quote) => Audience::Quotes(quote.instrument),
            MarketEvent::Book(level) => Audience::Book(level.instrument),
        };
        self.broadcast(audience, |engine, idx| {
            engine.observe_latency(idx);
            let delivered = engine.deliver(idx, |i, ctx| match event {
                MarketEvent::Trade(trade) => i.on_trade(ctx, trade),
                MarketEvent::Quote(quote) => i.on_quote(ctx, quote),
                MarketEvent::Book(level) => i.on_book(ctx, level),
            });
            if delivered {
                engine.core().stats[idx].market_calls += 1;
            }
        });
    }

    /// Observes the time from the feed's hand-over of the batch being handled to the call
    /// of strategy `idx`'s handler.
    fn observe_latency(&self, idx: StrategyIdx) {
        let slot = &self.strategies[idx];
        if let (Some(metrics), Some(received), StrategyState::Running) =
            (&slot.metrics, self.batch_received, &slot.state)
        {
            metrics.handler_latency(received.elapsed().as_secs_f64());
        }
    }

    /// A wall-clock tick: logs the summary when due and, with the wall clock, moves time
    /// forward so that timers fire and bars close without market data. With the event
    /// clock, time is the data's alone: ticks must not change what a backtest does.
    pub fn on_tick(&mut self) {
        if self.core().clock.mode() == ClockMode::Wall {
            let now = self.core().clock.tick();
            self.run_due(now);
        }
        if self.last_summary.elapsed() >= self.settings.summary_interval {
            self.last_summary = Instant::now();
            let reports = self.reports();
            self.log_reports(&reports, "status");
            let journal = &self.core_ref().journal;
            if let Some(stats) = journal.stats() {
                use std::sync::atomic::Ordering::Relaxed;
                log::info!(
                    queued = stats.queued.load(Relaxed), backlog_batches = journal.backlog(),
                    written = stats.written.load(Relaxed), spooled = stats.spooled.load(Relaxed),
                    spool_bytes = stats.spool_bytes.load(Relaxed), failures = stats.failures.load(Relaxed),
                    last_write_us = stats.last_write_us.load(Relaxed);
                    "status store"
                );
            }
        }
    }

    /// Cancels every open order (strategies see the cancels), then reports.
    pub fn shutdown(&mut self) -> Vec<StrategyReport> {
        for idx in 0..self.strategies.len() {
            self.take_snapshot(idx);
        }
        let mut canceled = 0;
        for idx in 0..self.strategies.len() {
            if self.strategies[idx].open_orders == OpenOrders::Cancel {
                canceled += self.core().cancel_all_of(Some(idx));
            }
        }
        self.deliver_updates();
        let kept = self.core_ref().orders.all_open().len();
        log::info!(canceled_orders = canceled, kept_orders = kept, events = self.events; "engine stopped");
        self.flush_journal();
        // The last record: with it written, a restart knows that every order id given
        // was recorded.
        let now = self.core().clock.now();
        self.core()
            .journal
            .record(now, crate::records::Body::Shutdown);
        self.core().journal.close();
        if let (Some(outcome), Some(tape)) = (self.outcome(), self.tape.as_mut()) {
            tape.finish(&outcome);
        }
        self.publish(false);
        let reports = self.reports();
        self.log_reports(&reports, "final");
        for slot in &mut self.strategies {
            slot.instance = None;
        }
        reports
    }

    /// Each strategy's state, counters and positions.
    pub fn reports(&mut self) -> Vec<StrategyReport> {
        (0..self.strategies.len())
            .map(|idx| self.report(idx, true))
            .collect()
    }

    /// As [`Self::reports`], without the snapshots (cheap enough to take often).
    pub fn reports_without_snapshots(&self) -> Vec<StrategyReport> {
        (0..self.strategies.len())
            .map(|idx| self.report(idx, false))
            .collect()
    }

    /// Strategy `idx`'s state, counters and positions, with its last snapshot if asked.
    fn report(&self, idx: StrategyIdx, with_snapshot: bool) -> StrategyReport {
        let core = self.core_ref();
        let slot = &self.strategies[idx];
        StrategyReport {
            id: slot.id.clone(),
            state: slot.state.clone(),
            version: slot.code.as_ref().map(|c| c.version().to_owned()),
            loaded_at: slot
                .versions
                .iter()
                .rev()
                .find(|v| v.outcome == VersionOutcome::Current)
                .map(|v| v.loaded_at),
            last_error: slot.last_error.clone(),
            snapshot: if with_snapshot {
                slot.snapshot.clone()
            } else {
                None
            },
            stats: core.stats[idx],
            positions: core
                .ledger
                .positions_of(idx, &core.market)
                .into_iter()
                .map(|p| (core.instruments.symbol(p.instrument).to_owned(), p))
                .collect(),
        }
    }

    fn log_reports(&self, reports: &[StrategyReport], kind: &str) {
        for report in reports {
            let s = &report.stats;
            if let StrategyState::Quarantined { reason } | StrategyState::Stopped { reason } =
                &report.state
            {
                log::warn!(strategy = report.id.as_str(), state = report.state.name(), reason = reason.as_str(); "{kind} strategy");
            }
            if report.positions.is_empty() {
                log::info!(
                    strategy = report.id.as_str(), state = report.state.name(), orders = s.orders, fills = s.fills,
                    rejects = s.risk_rejects + s.venue_rejects, signals = s.signals;
                    "{kind} strategy: no position"
                );
            }
            for (symbol, p) in &report.positions {
                log::info!(
                    strategy = report.id.as_str(), state = report.state.name(), instrument = symbol.as_str(),
                    position:% = p.qty, avg_price:% = p.avg_price, realized_pnl:% = p.realized_pnl,
                    unrealized_pnl:% = p.unrealized_pnl, fees:% = p.fees, net_pnl:% = p.net_pnl(),
                    orders = s.orders, fills = s.fills, rejects = s.risk_rejects + s.venue_rejects, signals = s.signals;
                    "{kind} position"
                );
            }
        }
    }
}
