//! What the engine publishes for readers on other threads (the admin API and the
//! metrics): a view taken on the engine thread between two inputs and swapped in whole, so
//! that a reader never waits for the engine, nor the engine for a reader.
//!
//! A command that changes what readers see (the API's actions, a reload pass) publishes
//! before it answers (`Engine::publish_now`); otherwise the engine publishes at most every
//! [`PUBLISH_INTERVAL`] of wall time: building a view costs a
//! few allocations per strategy, which a replay at full speed must not pay per batch.

use super::{Engine, LifecycleCounts, StrategyReport};
use crate::config::RiskConfig;
use crate::risk::{TradingState, Utilization};
use pennant_sdk::Timestamp;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;

/// The longest a view can be out of date while the engine is busy.
pub const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);

/// Where to read the engine's latest view.
pub type ViewReceiver = watch::Receiver<Arc<EngineView>>;

/// The engine as readers see it.
#[derive(Debug, Clone)]
pub struct EngineView {
    /// When the view was taken (wall time).
    pub taken_at: SystemTime,
    /// The engine clock then.
    pub engine_time: Timestamp,
    /// Market events processed.
    pub events: u64,
    /// Every strategy the engine knows, in the order they were added.
    pub strategies: Vec<StrategyView>,
    /// The global trading state.
    pub global_state: TradingState,
    /// Scopes whose kill switch is engaged (`global`, `strategy ID`).
    pub kill_switch: Vec<String>,
    /// The limits in force (the configuration's, with run-time changes).
    pub limits: RiskConfig,
    /// Journal batches the store's writer has not taken yet.
    pub journal_backlog: usize,
    /// Records in those batches.
    pub journal_backlog_records: usize,
    /// Why trading is reduce-only for the store's sake, if it is.
    pub store_hold: Option<String>,
    /// Working orders with a cancel sent and not yet answered.
    pub orders_pending_cancel: usize,
    /// Working orders sent without an answer: their status is unknown.
    pub orders_status_unknown: usize,
    /// The venue each instrument trades on: `(symbol, venue)`, in instrument order.
    pub venues: Vec<(String, String)>,
    /// The balances of each venue that reports them: `(venue, asset, balance)`, by
    /// venue, then asset.
    pub balances: Vec<(String, String, crate::account::balances::Balance)>,
    /// Venues banned by their exchange (HTTP 418): `(venue, until)`, wall ns.
    pub bans: Vec<(String, Timestamp)>,
    /// What is wrong with each instrument's L2 book, by symbol (instruments with depth).
    pub books: Vec<(String, crate::market::BookHealth)>,
    /// False once the engine has stopped.
    pub running: bool,
}

/// One strategy as readers see it.
#[derive(Debug, Clone)]
pub struct StrategyView {
    /// State, version, counters and positions (no snapshot).
    pub report: StrategyReport,
    /// Its linear memory, in bytes.
    pub memory_bytes: u64,
    /// Its orders working at the venue.
    pub open_orders: usize,
    /// Starts, reloads and quarantines.
    pub lifecycle: LifecycleCounts,
    /// Rejected orders by (`risk` or `venue`, reason code).
    pub rejects: Vec<(&'static str, &'static str, u64)>,
    /// The same by instrument: (symbol, source, reason, count).
    pub rejects_by_instrument: Vec<(String, &'static str, &'static str, u64)>,
    /// Fills and traded notional (raw amount) by instrument symbol.
    pub traded: Vec<(String, u64, i128)>,
    /// Use of its risk limits.
    pub utilization: Option<Utilization>,
    /// Use of its host budgets.
    pub budget: BudgetView,
}

/// What a strategy uses of its host budgets ([`crate::engine::budget`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetView {
    /// Timers pending.
    pub timers: usize,
    /// Its log output.
    pub log: crate::plugin::strategy_log::OutputStats,
    /// Signals and notes cut or dropped, updates dropped.
    pub counts: crate::engine::budget::BudgetStats,
}

impl EngineView {
    /// The view of strategy `id`.
    pub fn strategy(&self, id: &str) -> Option<&StrategyView> {
        self.strategies.iter().find(|s| s.report.id == id)
    }

    /// The venue instrument `symbol` trades on (empty if it is not configured).
    pub fn venue_of(&self, symbol: &str) -> &str {
        self.venues
            .iter()
            .find(|(s, _)| s == symbol)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The engine's side of the view: publishes, and knows when the next one is due.
pub struct Publisher {
    sender: watch::Sender<Arc<EngineView>>,
    last: Instant,
}

impl Publisher {
    /// A publisher starting with `first`, and the receiver readers clone.
    pub fn new(first: Arc<EngineView>) -> (Publisher, ViewReceiver) {
        let (sender, receiver) = watch::channel(first);
        (
            Publisher {
                sender,
                last: Instant::now(),
            },
            receiver,
        )
    }

    /// True when the last view is old enough to be replaced.
    pub fn due(&self) -> bool {
        self.last.elapsed() >= PUBLISH_INTERVAL
    }

    /// Replaces the view readers see.
    pub fn publish(&mut self, view: Arc<EngineView>) {
        self.sender.send_replace(view);
        self.last = Instant::now();
    }
}

impl Engine {
    /// The engine as readers see it now.
    pub fn view(&self) -> EngineView {
        let core = self.core_ref();
        let utilization = self.risk_utilization();
        let strategies = self
            .strategies
            .iter()
            .enumerate()
            .map(|(idx, slot)| {
                let mut by_instrument: Vec<_> = core
                    .tallies
                    .rejects
                    .iter()
                    .filter(|((s, _, _, _), _)| *s == idx)
                    .map(|(&(_, instrument, source, reason), &n)| {
                        (
                            core.instruments.symbol(instrument).to_owned(),
                            source,
                            reason,
                            n,
                        )
                    })
                    .collect();
                by_instrument.sort_unstable();
                let mut rejects: Vec<(&'static str, &'static str, u64)> = Vec::new();
                for &(_, source, reason, n) in &by_instrument {
                    match rejects
                        .iter_mut()
                        .find(|(s, r, _)| (*s, *r) == (source, reason))
                    {
                        Some((_, _, total)) => *total += n,
                        None => rejects.push((source, reason, n)),
                    }
                }
                rejects.sort_unstable();
                let mut traded: Vec<_> = core
                    .tallies
                    .traded
                    .iter()
                    .filter(|((s, _), _)| *s == idx)
                    .map(|(&(_, instrument), &(fills, notional))| {
                        (
                            core.instruments.symbol(instrument).to_owned(),
                            fills,
                            notional,
                        )
                    })
                    .collect();
                traded.sort_unstable();
                StrategyView {
                    report: self.report(idx, false),
                    memory_bytes: slot.instance.as_ref().map_or(0, |i| i.memory_bytes()) as u64,
                    open_orders: core.orders.open_ids(idx).len(),
                    lifecycle: slot.lifecycle.clone(),
                    rejects,
                    rejects_by_instrument: by_instrument,
                    traded,
                    utilization: utilization
                        .iter()
                        .find(|(id, _)| *id == slot.id)
                        .map(|(_, u)| u.clone()),
                    budget: BudgetView {
                        timers: core.timers.pending(idx),
                        log: core.budgets[idx].log.stats(),
                        counts: core.budgets[idx].stats,
                    },
                }
            })
            .collect();
        EngineView {
            taken_at: SystemTime::now(),
            engine_time: core.clock.now(),
            events: self.events,
            strategies,
            global_state: core.risk.global_state(),
            kill_switch: core.risk.kill_switched().map(str::to_owned).collect(),
            limits: core.risk.config().clone(),
            journal_backlog: core.journal.backlog(),
            journal_backlog_records: core.journal.backlog_records(),
            store_hold: core.risk.store_hold().map(str::to_owned),
            orders_pending_cancel: core.orders.pending().0,
            orders_status_unknown: core.orders.pending().1,
            venues: core
                .instruments
                .iter()
                .map(|i| (i.symbol.clone(), core.venue_name(i.id).to_owned()))
                .collect(),
            balances: core
                .venues
                .iter()
                .zip(&core.balances)
                .flat_map(|(venue, balances)| {
                    balances
                        .iter()
                        .map(|(asset, b)| (venue.name().to_owned(), asset.to_owned(), b))
                })
                .collect(),
            bans: {
                let mut bans: Vec<_> = core
                    .bans
                    .iter()
                    .map(|(&v, &until)| {
                        let name = core.venues.get(v).map_or("?", |v| v.name());
                        (name.to_owned(), until)
                    })
                    .collect();
                bans.sort();
                bans
            },
            books: {
                let mut books: Vec<_> = core
                    .market
                    .book_health()
                    .map(|(id, health)| (core.instruments.symbol(id).to_owned(), health))
                    .collect();
                books.sort_by(|a, b| a.0.cmp(&b.0));
                books
            },
            running: true,
        }
    }
}
