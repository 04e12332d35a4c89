//! One running strategy instance: its store, its exports, and the rules of calling it.

use super::bindings::Plugin;
use super::{HostState, PluginSettings};
use pennant_sdk as sdk;
use pennant_sdk::MarketEvent;
use std::fmt;
use wasmtime::{Store, Trap};

/// Why an instance stopped: after a fault the instance cannot be called again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The guest trapped (a panic, an out-of-bounds access, `unreachable`...).
    Trap(String),
    /// A call ran past its time budget.
    Timeout {
        /// The budget, in milliseconds.
        budget_ms: u128,
    },
    /// The guest tried to grow its memory past the cap.
    MemoryLimit {
        /// The cap, in bytes.
        limit_bytes: usize,
    },
    /// A previous fault poisoned the instance.
    Poisoned,
    /// The strategy went past one of its host budgets (timers, rejected orders,
    /// snapshot size: what the host keeps or does for it).
    Budget {
        /// Which budget, as a stable code for logs and metrics.
        code: &'static str,
        /// What it did, for the operator.
        message: String,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Trap(message) => write!(f, "trapped: {message}"),
            Fault::Timeout { budget_ms } => {
                write!(f, "exceeded its time budget of {budget_ms} ms per call")
            }
            Fault::MemoryLimit { limit_bytes } => {
                write!(
                    f,
                    "exceeded its memory limit of {} MiB",
                    limit_bytes / (1024 * 1024)
                )
            }
            Fault::Poisoned => write!(f, "was stopped by an earlier fault"),
            Fault::Budget { message, .. } => f.write_str(message),
        }
    }
}

impl Fault {
    /// A short stable code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Fault::Trap(_) => "trap",
            Fault::Timeout { .. } => "timeout",
            Fault::MemoryLimit { .. } => "memory_limit",
            Fault::Poisoned => "poisoned",
            Fault::Budget { code, .. } => code,
        }
    }
}

/// Calls `$body` with the instance's exports as `$p` and the module of its contract
/// version's conversions as `$m`.
macro_rules! each_contract {
    ($plugin:expr, $p:ident => $body:expr) => {
        match $plugin {
            Plugin::V0_1($p) => $body,
            Plugin::V0_2($p) => $body,
            Plugin::V0_3($p) => $body,
        }
    };
    ($plugin:expr, $p:ident, $m:ident => $body:expr) => {
        match $plugin {
            Plugin::V0_1($p) => {
                use super::bindings::v0_1 as $m;
                $body
            }
            Plugin::V0_2($p) => {
                use super::bindings::v0_2 as $m;
                $body
            }
            Plugin::V0_3($p) => {
                use super::bindings::v0_3 as $m;
                $body
            }
        }
    };
}

/// A strategy instance. Every call hands over the host context `C`, which serves the
/// strategy's host calls during the call, and gets it back with the result.
pub struct StrategyInstance<C: 'static> {
    store: Store<HostState<C>>,
    plugin: Plugin,
    budget_ticks: u64,
    settings: PluginSettings,
    poisoned: bool,
    /// Reused buffers for the batches of `on-market`, and the positions they carry.
    batch: Vec<u8>,
    positions: Vec<sdk::Position>,
    marks: Vec<Option<sdk::Price>>,
}

impl<C: sdk::batch::BatchHost + Send + 'static> StrategyInstance<C> {
    pub(super) fn new(
        store: Store<HostState<C>>,
        plugin: Plugin,
        budget_ticks: u64,
        settings: PluginSettings,
    ) -> Self {
        StrategyInstance {
            store,
            plugin,
            budget_ticks,
            settings,
            poisoned: false,
            batch: Vec::new(),
            positions: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// Whether a fault has made the instance unusable.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// The size of the instance's linear memory, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.store.data().limiter.granted()
    }

    /// Runs one export with `ctx` serving host calls; returns `ctx` and the outcome.
    pub fn call<R>(
        &mut self,
        ctx: C,
        f: impl FnOnce(&Plugin, &mut Store<HostState<C>>) -> wasmtime::Result<R>,
    ) -> (C, Result<R, Fault>) {
        if self.poisoned {
            return (ctx, Err(Fault::Poisoned));
        }
        self.store.data_mut().ctx = Some(ctx);
        self.store.set_epoch_deadline(self.budget_ticks);
        let result = f(&self.plugin, &mut self.store);
        let state = self.store.data_mut();
        // Host calls only borrow the context, so it is always still there.
        let ctx = state
            .ctx
            .take()
            .expect("the host context is returned by every call");
        let result = result.map_err(|err| {
            self.poisoned = true;
            if state.limiter.exceeded() {
                Fault::MemoryLimit {
                    limit_bytes: state.limiter.limit(),
                }
            } else if err.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                Fault::Timeout {
                    budget_ms: self.settings.call_budget.as_millis(),
                }
            } else {
                Fault::Trap(describe(&err))
            }
        });
        (ctx, result)
    }

    /// `init(params)`: the inner `Err` is the strategy refusing its parameters.
    pub fn init(
        &mut self,
        ctx: C,
        params: &[(String, String)],
    ) -> (C, Result<Result<(), String>, Fault>) {
        self.call(ctx, |p, s| {
            each_contract!(p, p, m => p.pennant_strategy_strategy().call_init(s, &m::params_to(params)))
        })
    }

    /// Whether the component takes many market events per call (contract 0.3 and later).
    pub fn takes_batches(&self) -> bool {
        matches!(self.plugin, Plugin::V0_3(_))
    }

    /// Market events, in order: returns how many were handled, from the first. A
    /// component of 0.3 gets them in one `on-market` call and may stop early (after a
    /// handler that acted); one of 0.1 or 0.2 gets the first in a typed call (book levels
    /// are not in its contract: nothing to call) and handles just that one.
    pub fn on_market(&mut self, mut ctx: C, events: &[MarketEvent]) -> (C, Result<usize, Fault>) {
        let Some(first) = events.first() else {
            return (ctx, Ok(0));
        };
        let mut batch = std::mem::take(&mut self.batch);
        if self.takes_batches() {
            // Many events: the positions come along where the host can say them, so
            // that reading one does not cross the boundary.
            self.positions.clear();
            self.marks.clear();
            let carried = events.len() > 1
                && ctx.batch_positions(events.len(), &mut self.positions, &mut self.marks);
            let positions = carried.then_some((&self.positions[..], &self.marks[..]));
            sdk::batch::write(events.iter().copied(), positions, &mut batch);
        }
        let (ctx, outcome) = self.call(ctx, |p, s| match p {
            Plugin::V0_1(p) => super::bindings::v0_1::call_first(p, s, first),
            Plugin::V0_2(p) => super::bindings::v0_2::call_first(p, s, first),
            Plugin::V0_3(p) => p
                .pennant_strategy_strategy()
                .call_on_market(s, &batch)
                .map(|count| count as usize),
        });
        self.batch = batch;
        let outcome = match outcome {
            Ok(0) => {
                self.poisoned = true;
                Err(Fault::Budget {
                    code: "contract",
                    message: format!(
                        "handled none of the {} market events it was given",
                        events.len()
                    ),
                })
            }
            Ok(count) => Ok(count.min(events.len())),
            Err(fault) => Err(fault),
        };
        (ctx, outcome)
    }

    /// One trade.
    pub fn on_trade(&mut self, ctx: C, trade: &sdk::Trade) -> (C, Result<(), Fault>) {
        let (ctx, outcome) = self.on_market(ctx, &[MarketEvent::Trade(*trade)]);
        (ctx, outcome.map(drop))
    }

    /// One quote.
    pub fn on_quote(&mut self, ctx: C, quote: &sdk::Quote) -> (C, Result<(), Fault>) {
        let (ctx, outcome) = self.on_market(ctx, &[MarketEvent::Quote(*quote)]);
        (ctx, outcome.map(drop))
    }

    /// One book level (nothing to call before contract 0.3).
    pub fn on_book(&mut self, ctx: C, level: &sdk::BookLevel) -> (C, Result<(), Fault>) {
        let (ctx, outcome) = self.on_market(ctx, &[MarketEvent::Book(*level)]);
        (ctx, outcome.map(drop))
    }

    /// `on-bar`.
    pub fn on_bar(&mut self, ctx: C, bar: &sdk::Bar) -> (C, Result<(), Fault>) {
        self.call(ctx, |p, s| {
            each_contract!(p, p, m => p.pennant_strategy_strategy().call_on_bar(s, m::bar_to(bar)))
        })
    }

    /// `on-order-update`.
    pub fn on_order_update(&mut self, ctx: C, update: &sdk::OrderUpdate) -> (C, Result<(), Fault>) {
        self.call(ctx, |p, s| {
            each_contract!(p, p, m => p
                .pennant_strategy_strategy()
                .call_on_order_update(s, m::order_update_to(update)))
        })
    }

    /// `on-timer`.
    pub fn on_timer(&mut self, ctx: C, token: u64) -> (C, Result<(), Fault>) {
        self.call(
            ctx,
            |p, s| each_contract!(p, p => p.pennant_strategy_strategy().call_on_timer(s, token)),
        )
    }

    /// `snapshot()`.
    pub fn snapshot(&mut self, ctx: C) -> (C, Result<Vec<u8>, Fault>) {
        self.call(
            ctx,
            |p, s| each_contract!(p, p => p.pennant_strategy_strategy().call_snapshot(s)),
        )
    }

    /// `restore(state)`: the inner `Err` is the strategy refusing the state.
    pub fn restore(&mut self, ctx: C, state: &[u8]) -> (C, Result<Result<(), String>, Fault>) {
        self.call(
            ctx,
            |p, s| each_contract!(p, p => p.pennant_strategy_strategy().call_restore(s, state)),
        )
    }
}

/// The trap's message, without wasmtime's multi-line backtrace.
fn describe(err: &wasmtime::Error) -> String {
    match err.downcast_ref::<Trap>() {
        Some(trap) => {
            let frame = err
                .downcast_ref::<wasmtime::WasmBacktrace>()
                .and_then(|bt| {
                    bt.frames()
                        .iter()
                        .find_map(|f| f.func_name().map(str::to_owned))
                });
            match frame {
                Some(func) => format!("{trap} in {func}"),
                None => trap.to_string(),
            }
        }
        None => format!("{err:#}"),
    }
}
