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

pub mod clock;
pub mod core;
pub mod ledger;
pub mod orders;
pub mod timers;

pub use self::core::{Core, StrategyCtx, StrategyStats};

use crate::market::MarketEvent;
use crate::plugin::{Fault, LoadedComponent, PluginError, PluginHost, StrategyInstance};
use pennant_sdk::{Position, Timestamp};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Index of a strategy in the engine, stable while the engine runs.
pub type StrategyIdx = usize;

/// A loaded strategy component, shared by every strategy that uses the same file.
pub type SharedComponent = Arc<LoadedComponent<StrategyCtx>>;

/// What the engine receives.
#[derive(Debug)]
pub enum EngineInput {
    /// Market data, in time order within the batch.
    Market(Vec<MarketEvent>),
    /// A feed has no more data.
    FeedEnded {
        /// The feed's name.
        feed: String,
    },
    /// A periodic wall-clock tick: moves the live clock, fires timers, logs summaries.
    Tick,
    /// Stop: cancel open orders, stop the strategies, report.
    Shutdown,
}

/// Where a strategy stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrategyState {
    /// Receiving events.
    Running,
    /// Stopped after a fault or a failed start; its orders were canceled.
    Quarantined {
        /// What happened.
        reason: String,
    },
}

impl StrategyState {
    /// Lower-case name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            StrategyState::Running => "running",
            StrategyState::Quarantined { .. } => "quarantined",
        }
    }
}

/// A strategy to start: its id, component and parameters.
pub struct StrategySpec {
    /// Unique id.
    pub id: String,
    /// The loaded component.
    pub component: SharedComponent,
    /// `init` parameters.
    pub params: Vec<(String, String)>,
}

struct StrategySlot {
    spec: StrategySpec,
    instance: Option<StrategyInstance<StrategyCtx>>,
    state: StrategyState,
    snapshot: Option<Vec<u8>>,
    snapshot_at: Timestamp,
}

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
}

/// One strategy's outcome, for the final summary.
#[derive(Debug, Clone)]
pub struct StrategyReport {
    /// The strategy id.
    pub id: String,
    /// Running or quarantined (with the reason).
    pub state: StrategyState,
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
    /// `init` refused the parameters.
    #[error("strategy {strategy} refused its parameters: {message}")]
    Init {
        /// The strategy id.
        strategy: String,
        /// The strategy's message.
        message: String,
    },
    /// `init` faulted.
    #[error("strategy {strategy} {fault} during init")]
    Fault {
        /// The strategy id.
        strategy: String,
        /// What happened.
        fault: Fault,
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
        }
    }

    fn core(&mut self) -> &mut Core {
        self.core
            .as_mut()
            .expect("the core is home between strategy calls")
    }

    /// The WebAssembly host strategies are loaded with.
    pub fn plugins(&self) -> &Arc<PluginHost<StrategyCtx>> {
        &self.plugins
    }

    /// Market events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Instantiates and initializes a strategy; on failure nothing is left behind.
    pub fn start_strategy(&mut self, spec: StrategySpec) -> Result<StrategyIdx, StartError> {
        let mut instance = self.plugins.instantiate(&spec.component, &spec.id)?;
        let idx = self.core().add_strategy(&spec.id);
        let ctx = StrategyCtx {
            core: self
                .core
                .take()
                .expect("the core is home between strategy calls"),
            strategy: idx,
        };
        let (ctx, outcome) = instance.init(ctx, &spec.params);
        self.core = Some(ctx.core);
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(message)) => Some(StartError::Init {
                strategy: spec.id.clone(),
                message,
            }),
            Err(fault) => Some(StartError::Fault {
                strategy: spec.id.clone(),
                fault,
            }),
        };
        let now = self.core().clock.now();
        let state = match &failure {
            None => StrategyState::Running,
            Some(err) => StrategyState::Quarantined {
                reason: err.to_string(),
            },
        };
        if failure.is_some() {
            // Undo what init may have set up.
            let core = self.core();
            core.subscriptions.remove(idx);
            core.timers.clear(idx);
            core.cancel_all_of(Some(idx));
            core.updates.retain(|(s, _)| *s != idx);
        }
        log::info!(strategy = spec.id.as_str(), hash = spec.component.hash.as_str(), state = state.name(); "strategy loaded");
        self.strategies.push(StrategySlot {
            spec,
            instance: failure.is_none().then_some(instance),
            state,
            snapshot: None,
            snapshot_at: now,
        });
        match failure {
            None => Ok(idx),
            Some(err) => Err(err),
        }
    }

    /// Where a strategy stands.
    pub fn state(&self, idx: StrategyIdx) -> Option<&StrategyState> {
        self.strategies.get(idx).map(|s| &s.state)
    }

    /// Calls strategy `idx` with the core lent to it; quarantines it on a fault.
    fn call<R>(
        &mut self,
        idx: StrategyIdx,
        f: impl FnOnce(
            &mut StrategyInstance<StrategyCtx>,
            StrategyCtx,
        ) -> (StrategyCtx, Result<R, Fault>),
    ) -> Option<R> {
        let slot = self.strategies.get_mut(idx)?;
        let instance = slot.instance.as_mut()?;
        let core = self
            .core
            .take()
            .expect("the core is home between strategy calls");
        let (ctx, outcome) = f(
            instance,
            StrategyCtx {
                core,
                strategy: idx,
            },
        );
        self.core = Some(ctx.core);
        match outcome {
            Ok(value) => Some(value),
            Err(fault) => {
                self.quarantine(idx, &fault);
                None
            }
        }
    }

    /// Delivers an event to strategy `idx` (counted in its statistics).
    fn deliver(
        &mut self,
        idx: StrategyIdx,
        f: impl FnOnce(
            &mut StrategyInstance<StrategyCtx>,
            StrategyCtx,
        ) -> (StrategyCtx, Result<(), Fault>),
    ) {
        if self
            .strategies
            .get(idx)
            .is_some_and(|s| s.instance.is_some())
        {
            self.core().stats[idx].events += 1;
            self.call(idx, f);
        }
    }

    /// Stops a faulty strategy: drops its instance, cancels its orders, keeps the rest going.
    fn quarantine(&mut self, idx: StrategyIdx, fault: &Fault) {
        let slot = &mut self.strategies[idx];
        slot.instance = None;
        slot.state = StrategyState::Quarantined {
            reason: fault.to_string(),
        };
        let id = slot.spec.id.clone();
        let core = self.core();
        core.subscriptions.remove(idx);
        core.timers.clear(idx);
        let canceled = core.cancel_all_of(Some(idx));
        log::error!(strategy = id.as_str(), fault = fault.code(), canceled_orders = canceled; "strategy quarantined: it {fault}");
    }

    /// Rebuilds a quarantined strategy: a new instance, `init` with its parameters, and
    /// `restore` from its last snapshot. The way back after a trap; the admin API will
    /// expose it.
    pub fn restart(&mut self, idx: StrategyIdx) -> Result<(), StartError> {
        let slot = self
            .strategies
            .get_mut(idx)
            .ok_or_else(|| StartError::Init {
                strategy: format!("#{idx}"),
                message: "no such strategy".into(),
            })?;
        let mut instance = self
            .plugins
            .instantiate(&slot.spec.component, &slot.spec.id)?;
        let id = slot.spec.id.clone();
        let params = slot.spec.params.clone();
        let snapshot = slot.snapshot.clone();
        let core = self
            .core
            .take()
            .expect("the core is home between strategy calls");
        let (ctx, init) = instance.init(
            StrategyCtx {
                core,
                strategy: idx,
            },
            &params,
        );
        let (ctx, restored) = match (init, &snapshot) {
            (Ok(Ok(())), Some(state)) => instance.restore(ctx, state),
            (other, _) => (ctx, other),
        };
        self.core = Some(ctx.core);
        let failure = match restored {
            Ok(Ok(())) => None,
            Ok(Err(message)) => Some(StartError::Init {
                strategy: id.clone(),
                message,
            }),
            Err(fault) => Some(StartError::Fault {
                strategy: id.clone(),
                fault,
            }),
        };
        if let Some(err) = failure {
            let core = self.core();
            core.subscriptions.remove(idx);
            core.timers.clear(idx);
            core.cancel_all_of(Some(idx));
            return Err(err);
        }
        let slot = &mut self.strategies[idx];
        slot.instance = Some(instance);
        slot.state = StrategyState::Running;
        log::info!(strategy = id.as_str(), restored = snapshot.is_some(); "strategy restarted");
        self.deliver_updates();
        Ok(())
    }

    /// Delivers queued order updates (and those they cause) until none are left.
    fn deliver_updates(&mut self) {
        while let Some((idx, update)) = self.core().updates.pop_front() {
            self.deliver(idx, |i, ctx| i.on_order_update(ctx, &update));
        }
    }

    /// Moves the clock to `ts` and runs what falls due: orders arriving at the venue,
    /// bars closing, timers firing, snapshots.
    fn advance_clock(&mut self, ts: Timestamp) {
        let now = self.core().clock.advance(ts);
        self.run_due(now);
    }

    fn run_due(&mut self, now: Timestamp) {
        self.core()
            .with_venue(|venue, out| venue.on_clock(now, out));
        self.deliver_updates();
        let mut i = 0;
        while i < self.core().subscriptions.bars.len() {
            if let Some(bar) = self.core().subscriptions.bars[i].0.close_due(now) {
                self.deliver_bar(i, &bar);
            }
            i += 1;
        }
        while let Some((idx, token)) = self.core().timers.pop_due(now) {
            self.deliver(idx, |i, ctx| i.on_timer(ctx, token));
            self.deliver_updates();
        }
        self.snapshot_due(now);
    }

    fn deliver_bar(&mut self, aggregator: usize, bar: &pennant_sdk::Bar) {
        let mut k = 0;
        while let Some(&idx) = self.core().subscriptions.bars[aggregator].1.get(k) {
            self.deliver(idx, |i, ctx| i.on_bar(ctx, bar));
            self.deliver_updates();
            k += 1;
        }
    }

    fn snapshot_due(&mut self, now: Timestamp) {
        let interval = self.settings.snapshot_interval.as_nanos() as Timestamp;
        for idx in 0..self.strategies.len() {
            let slot = &self.strategies[idx];
            if slot.instance.is_some() && now - slot.snapshot_at >= interval {
                self.take_snapshot(idx, now);
            }
        }
    }

    fn take_snapshot(&mut self, idx: StrategyIdx, now: Timestamp) {
        if let Some(state) = self.call(idx, |i, ctx| i.snapshot(ctx)) {
            let slot = &mut self.strategies[idx];
            slot.snapshot = Some(state);
            slot.snapshot_at = now;
        }
    }

    /// Processes one market event.
    pub fn on_market(&mut self, event: &MarketEvent) {
        self.events += 1;
        self.advance_clock(event.ts());
        let core = self.core();
        core.market.apply(event);
        core.with_venue(|venue, out| venue.on_market(event, out));
        self.deliver_updates();
        match event {
            MarketEvent::Trade(trade) => {
                let mut i = 0;
                while i < self.core().subscriptions.bars.len() {
                    let (aggregator, _) = &mut self.core().subscriptions.bars[i];
                    if aggregator.instrument() == trade.instrument {
                        if let Some(bar) = aggregator.add(trade) {
                            self.deliver_bar(i, &bar);
                        }
                    }
                    i += 1;
                }
                let mut k = 0;
                while let Some(idx) = self
                    .core()
                    .subscriptions
                    .trades
                    .get(&trade.instrument)
                    .and_then(|l| l.get(k).copied())
                {
                    self.deliver(idx, |i, ctx| i.on_trade(ctx, trade));
                    self.deliver_updates();
                    k += 1;
                }
            }
            MarketEvent::Quote(quote) => {
                let mut k = 0;
                while let Some(idx) = self
                    .core()
                    .subscriptions
                    .quotes
                    .get(&quote.instrument)
                    .and_then(|l| l.get(k).copied())
                {
                    self.deliver(idx, |i, ctx| i.on_quote(ctx, quote));
                    self.deliver_updates();
                    k += 1;
                }
            }
        }
    }

    /// A wall-clock tick: the live clock moves, and the summary is logged when due.
    pub fn on_tick(&mut self) {
        let now = self.core().clock.tick();
        self.run_due(now);
        if self.last_summary.elapsed() >= self.settings.summary_interval {
            self.last_summary = Instant::now();
            self.log_summary("status");
        }
    }

    /// Runs until shutdown (or until every feed has ended, if so configured), then cancels
    /// open orders, stops the strategies and reports.
    pub fn run(mut self, mut inputs: mpsc::Receiver<EngineInput>) -> Vec<StrategyReport> {
        log::info!(strategies = self.strategies.len(); "engine running");
        while let Some(input) = inputs.blocking_recv() {
            match input {
                EngineInput::Market(batch) => {
                    for event in &batch {
                        self.on_market(event);
                    }
                }
                EngineInput::Tick => self.on_tick(),
                EngineInput::FeedEnded { feed } => {
                    self.feeds_ended += 1;
                    log::info!(feed; "feed ended");
                    if self.settings.exit_when_feeds_end && self.feeds_ended >= self.settings.feeds
                    {
                        log::info!("every feed has ended: stopping");
                        break;
                    }
                }
                EngineInput::Shutdown => break,
            }
        }
        self.shutdown()
    }

    /// Cancels every open order (strategies see the cancels), then reports.
    pub fn shutdown(&mut self) -> Vec<StrategyReport> {
        let canceled = self.core().cancel_all_of(None);
        self.deliver_updates();
        log::info!(canceled_orders = canceled, events = self.events; "engine stopped");
        let reports = self.reports();
        self.log_reports(&reports, "final");
        for slot in &mut self.strategies {
            slot.instance = None;
        }
        reports
    }

    /// Each strategy's state, counters and positions.
    pub fn reports(&mut self) -> Vec<StrategyReport> {
        let core = self
            .core
            .as_ref()
            .expect("the core is home between strategy calls");
        self.strategies
            .iter()
            .enumerate()
            .map(|(idx, slot)| StrategyReport {
                id: slot.spec.id.clone(),
                state: slot.state.clone(),
                stats: core.stats[idx],
                positions: core
                    .ledger
                    .positions_of(idx, &core.market)
                    .into_iter()
                    .map(|p| (core.instruments.symbol(p.instrument).to_owned(), p))
                    .collect(),
            })
            .collect()
    }

    fn log_summary(&mut self, kind: &str) {
        let reports = self.reports();
        self.log_reports(&reports, kind);
    }

    fn log_reports(&self, reports: &[StrategyReport], kind: &str) {
        for report in reports {
            let s = &report.stats;
            if let StrategyState::Quarantined { reason } = &report.state {
                log::warn!(strategy = report.id.as_str(), state = "quarantined", reason = reason.as_str(); "{kind} strategy");
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
