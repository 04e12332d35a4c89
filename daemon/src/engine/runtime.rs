//! What the engine calls: a strategy runtime. Strategies run as WebAssembly components in
//! production; the same SDK strategy type can also run natively, compiled into the
//! process, which is how the benchmarks measure what the WebAssembly boundary costs.
//!
//! Every call hands the [`StrategyCtx`] over and gets it back, whatever the outcome.

use super::core::StrategyCtx;
use super::SharedComponent;
use crate::plugin::{Fault, StrategyInstance};
use pennant_sdk::{Bar, BookLevel, MarketEvent, OrderUpdate, Params, Quote, Strategy, Trade};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// The outcome of a call, with the context handed back.
pub type Call<T> = (StrategyCtx, Result<T, Fault>);

/// A strategy instance the engine can call.
pub trait StrategyRuntime: Send {
    /// `init(params)`; the inner `Err` is the strategy refusing its parameters.
    fn init(&mut self, ctx: StrategyCtx, params: &[(String, String)]) -> Call<Result<(), String>>;
    /// A trade.
    fn on_trade(&mut self, ctx: StrategyCtx, trade: &Trade) -> Call<()>;
    /// A quote.
    fn on_quote(&mut self, ctx: StrategyCtx, quote: &Quote) -> Call<()>;
    /// An order book level.
    fn on_book(&mut self, ctx: StrategyCtx, level: &BookLevel) -> Call<()>;
    /// Market events, in order: how many it handled, from the first (at least one). A
    /// runtime that does not take batches ([`Self::takes_batches`]) handles the first.
    fn on_market(&mut self, ctx: StrategyCtx, events: &[MarketEvent]) -> Call<usize> {
        let (ctx, outcome) = match events.first() {
            Some(MarketEvent::Trade(trade)) => self.on_trade(ctx, trade),
            Some(MarketEvent::Quote(quote)) => self.on_quote(ctx, quote),
            Some(MarketEvent::Book(level)) => self.on_book(ctx, level),
            None => return (ctx, Ok(0)),
        };
        (ctx, outcome.map(|()| 1))
    }
    /// Whether it handles many market events per call (a component of contract 0.3).
    fn takes_batches(&self) -> bool {
        false
    }
    /// A closed bar.
    fn on_bar(&mut self, ctx: StrategyCtx, bar: &Bar) -> Call<()>;
    /// An order update.
    fn on_order_update(&mut self, ctx: StrategyCtx, update: &OrderUpdate) -> Call<()>;
    /// A timer.
    fn on_timer(&mut self, ctx: StrategyCtx, token: u64) -> Call<()>;
    /// The state to carry over.
    fn snapshot(&mut self, ctx: StrategyCtx) -> Call<Vec<u8>>;
    /// Takes over a snapshot; the inner `Err` is the strategy refusing it.
    fn restore(&mut self, ctx: StrategyCtx, state: &[u8]) -> Call<Result<(), String>>;
    /// The linear memory it uses, in bytes (0 for a native build).
    fn memory_bytes(&self) -> usize {
        0
    }
}

impl StrategyRuntime for StrategyInstance<StrategyCtx> {
    fn init(&mut self, ctx: StrategyCtx, params: &[(String, String)]) -> Call<Result<(), String>> {
        StrategyInstance::init(self, ctx, params)
    }
    fn on_trade(&mut self, ctx: StrategyCtx, trade: &Trade) -> Call<()> {
        StrategyInstance::on_trade(self, ctx, trade)
    }
    fn on_quote(&mut self, ctx: StrategyCtx, quote: &Quote) -> Call<()> {
        StrategyInstance::on_quote(self, ctx, quote)
    }
    fn on_book(&mut self, ctx: StrategyCtx, level: &BookLevel) -> Call<()> {
        StrategyInstance::on_book(self, ctx, level)
    }
    fn on_market(&mut self, ctx: StrategyCtx, events: &[MarketEvent]) -> Call<usize> {
        StrategyInstance::on_market(self, ctx, events)
    }
    fn takes_batches(&self) -> bool {
        StrategyInstance::takes_batches(self)
    }
    fn on_bar(&mut self, ctx: StrategyCtx, bar: &Bar) -> Call<()> {
        StrategyInstance::on_bar(self, ctx, bar)
    }
    fn on_order_update(&mut self, ctx: StrategyCtx, update: &OrderUpdate) -> Call<()> {
        StrategyInstance::on_order_update(self, ctx, update)
    }
    fn on_timer(&mut self, ctx: StrategyCtx, token: u64) -> Call<()> {
        StrategyInstance::on_timer(self, ctx, token)
    }
    fn snapshot(&mut self, ctx: StrategyCtx) -> Call<Vec<u8>> {
        StrategyInstance::snapshot(self, ctx)
    }
    fn restore(&mut self, ctx: StrategyCtx, state: &[u8]) -> Call<Result<(), String>> {
        StrategyInstance::restore(self, ctx, state)
    }
    fn memory_bytes(&self) -> usize {
        StrategyInstance::memory_bytes(self)
    }
}

/// An SDK strategy compiled into the daemon. A panic is caught and reported as a trap,
/// after which the instance is never called again, as with a component.
pub struct NativeStrategy<S> {
    strategy: Option<S>,
    poisoned: bool,
}

impl<S: Strategy + Send> NativeStrategy<S> {
    /// An instance not yet initialized.
    pub fn new() -> Self {
        NativeStrategy {
            strategy: None,
            poisoned: false,
        }
    }

    fn run<T>(
        &mut self,
        mut ctx: StrategyCtx,
        f: impl FnOnce(&mut Option<S>, &mut StrategyCtx) -> T,
    ) -> Call<T> {
        if self.poisoned {
            return (ctx, Err(Fault::Poisoned));
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| f(&mut self.strategy, &mut ctx)));
        let outcome = outcome.map_err(|panic| {
            self.poisoned = true;
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            Fault::Trap(format!("panicked: {message}"))
        });
        (ctx, outcome)
    }

    fn handle(&mut self, ctx: StrategyCtx, f: impl FnOnce(&mut S, &mut StrategyCtx)) -> Call<()> {
        self.run(ctx, |strategy, ctx| {
            if let Some(strategy) = strategy {
                f(strategy, ctx);
            }
        })
    }
}

impl<S: Strategy + Send> Default for NativeStrategy<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Strategy + Send> StrategyRuntime for NativeStrategy<S> {
    fn init(&mut self, ctx: StrategyCtx, params: &[(String, String)]) -> Call<Result<(), String>> {
        let params = Params::new(params.iter().cloned());
        self.run(ctx, |strategy, ctx| {
            S::init(ctx, &params)
                .map(|s| {
                    *strategy = Some(s);
                })
                .map_err(|err| err.0)
        })
    }
    fn on_trade(&mut self, ctx: StrategyCtx, trade: &Trade) -> Call<()> {
        self.handle(ctx, |s, ctx| s.on_trade(ctx, trade))
    }
    fn on_quote(&mut self, ctx: StrategyCtx, quote: &Quote) -> Call<()> {
        self.handle(ctx, |s, ctx| s.on_quote(ctx, quote))
    }
    fn on_book(&mut self, ctx: StrategyCtx, level: &BookLevel) -> Call<()> {
        self.handle(ctx, |s, ctx| s.on_book(ctx, level))
    }
    fn on_bar(&mut self, ctx: StrategyCtx, bar: &Bar) -> Call<()> {
        self.handle(ctx, |s, ctx| s.on_bar(ctx, bar))
    }
    fn on_order_update(&mut self, ctx: StrategyCtx, update: &OrderUpdate) -> Call<()> {
        self.handle(ctx, |s, ctx| s.on_order_update(ctx, update))
    }
    fn on_timer(&mut self, ctx: StrategyCtx, token: u64) -> Call<()> {
        self.handle(ctx, |s, ctx| s.on_timer(ctx, token))
    }
    fn snapshot(&mut self, ctx: StrategyCtx) -> Call<Vec<u8>> {
        self.run(ctx, |strategy, _| {
            strategy.as_ref().map(S::snapshot).unwrap_or_default()
        })
    }
    fn restore(&mut self, ctx: StrategyCtx, state: &[u8]) -> Call<Result<(), String>> {
        self.run(ctx, |strategy, ctx| match strategy {
            Some(s) => s.restore(ctx, state).map_err(|err| err.0),
            None => Err("restore called before a successful init".into()),
        })
    }
}

/// Makes a fresh native instance.
pub type NativeFactory = Arc<dyn Fn() -> Box<dyn StrategyRuntime> + Send + Sync>;

/// Where a strategy's code comes from.
#[derive(Clone)]
pub enum StrategyCode {
    /// A WebAssembly component (the normal case).
    Wasm(SharedComponent),
    /// An SDK strategy compiled into the process.
    Native(NativeFactory),
}

impl StrategyCode {
    /// The native build of strategy type `S`.
    pub fn native<S: Strategy + Send>() -> Self {
        StrategyCode::Native(Arc::new(|| Box::new(NativeStrategy::<S>::new())))
    }

    /// The component's content hash, or `native`.
    pub fn version(&self) -> &str {
        match self {
            StrategyCode::Wasm(component) => &component.hash,
            StrategyCode::Native(_) => "native",
        }
    }
}
