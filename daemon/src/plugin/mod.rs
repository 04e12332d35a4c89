//! The WebAssembly host: loads strategy components, runs them in a sandbox with limits,
//! and calls them.
//!
//! - One [`wasmtime::Engine`] per process, shared by every strategy; one [`Store`] per
//!   strategy instance, so a strategy can only ever touch its own memory.
//! - Compiled components are cached on disk by content hash ([`cache`]): a restart loads
//!   them in a fraction of a millisecond instead of recompiling.
//! - Limits per instance: a linear memory cap (a [`wasmtime::ResourceLimiter`]) and a
//!   time budget per call (epoch interruption: a ticker thread bumps the epoch every
//!   millisecond and each call gets a deadline). Exceeding either, or trapping, is a
//!   [`Fault`]; the instance is then unusable and the engine quarantines the strategy.
//! - Sandbox: strategies get WASI (Rust's standard library needs it) with no files, no
//!   sockets, no environment, clocks that read the engine clock and a seeded random
//!   generator, so a backtest is reproducible.
//!
//! The plugin layer knows nothing of the engine: host calls are served by any
//! `C: pennant_sdk::Host`, handed to each call and taken back after it
//! ([`StrategyInstance::call`]).

pub mod bindings;
pub mod cache;
mod instance;
mod sandbox;
pub mod strategy_log;

pub use instance::{Fault, StrategyInstance};
pub use strategy_log::{OutputLimits, StrategyLog};

/// The WebAssembly runtime's version (`pennant_build_info`); pinned in Cargo.toml.
pub const WASMTIME_VERSION: &str = "48.0.8";

use bindings::PluginPre;
use cache::CompileCache;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// How often the epoch advances: the granularity of call time budgets.
const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Why a component could not be loaded or instantiated.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The file cannot be read.
    #[error("cannot read strategy component {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid WebAssembly component.
    #[error("{path} is not a valid WebAssembly component: {message}")]
    Compile {
        /// The file.
        path: PathBuf,
        /// wasmtime's reason.
        message: String,
    },
    /// The component does not implement the `pennant:strategy` contract this daemon speaks.
    #[error("{path} does not fit the pennant:strategy contract: {message}")]
    Contract {
        /// The file.
        path: PathBuf,
        /// wasmtime's reason (a missing export, a mismatched type, an unknown import).
        message: String,
    },
    /// Creating an instance failed.
    #[error("cannot instantiate strategy {strategy}: {message}")]
    Instantiate {
        /// The strategy id.
        strategy: String,
        /// wasmtime's reason.
        message: String,
    },
    /// The wasmtime engine could not be configured.
    #[error("cannot set up the WebAssembly engine: {0}")]
    Engine(String),
}

/// Limits and sandbox settings applied to every strategy instance.
#[derive(Debug, Clone)]
pub struct PluginSettings {
    /// Linear memory cap per instance, in bytes.
    pub memory_limit_bytes: usize,
    /// Time budget of one call.
    pub call_budget: Duration,
    /// Folder of the compile cache.
    pub cache_dir: PathBuf,
    /// Base seed of the strategies' random numbers.
    pub seed: u64,
}

/// The engine clock as the sandbox sees it: nanoseconds since the Unix epoch, written
/// by the engine before it calls a strategy.
pub type SharedClock = Arc<AtomicI64>;

/// A loaded, type-checked component, ready to instantiate (many times).
pub struct LoadedComponent<C: 'static> {
    pre: PluginPre<HostState<C>>,
    /// SHA-256 of the component file, hex.
    pub hash: String,
    /// Where it was loaded from.
    pub path: PathBuf,
    /// Whether the compiled code came from the compile cache.
    pub from_cache: bool,
}

impl<C: 'static> LoadedComponent<C> {
    /// The contract version the component was built against: `0.1`, `0.2` or `0.3`.
    pub fn contract(&self) -> &'static str {
        self.pre.version()
    }
}

/// The data of one strategy's [`Store`]: the host context while a call runs, the
/// sandbox, and the limiter.
pub struct HostState<C> {
    ctx: Option<C>,
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: sandbox::MemoryLimiter,
}

impl<C> HostState<C> {
    /// The host context of the call in progress.
    fn ctx(&mut self) -> wasmtime::Result<&mut C> {
        self.ctx
            .as_mut()
            .ok_or_else(|| wasmtime::format_err!("host call outside of a strategy call"))
    }
}

impl<C: Send> WasiView for HostState<C> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Bumps the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Result<Self, PluginError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .map_err(|err| PluginError::Engine(format!("cannot start the epoch thread: {err}")))?;
        Ok(EpochTicker {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Loads and instantiates strategy components. `C` serves the strategies' host calls.
pub struct PluginHost<C: 'static> {
    engine: Engine,
    linker: Linker<HostState<C>>,
    cache: CompileCache,
    settings: PluginSettings,
    clock: SharedClock,
    _ticker: EpochTicker,
}

impl<C: pennant_sdk::batch::BatchHost + Send + 'static> PluginHost<C> {
    /// A host with the given limits, reading time from `clock`.
    pub fn new(settings: PluginSettings, clock: SharedClock) -> Result<Self, PluginError> {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        // Component calls are 3-6x faster without the async machinery we do not use.
        config.concurrency_support(false);
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|err| PluginError::Engine(err.to_string()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|err| PluginError::Engine(err.to_string()))?;
        bindings::add_to_linker(&mut linker).map_err(|err| PluginError::Engine(err.to_string()))?;
        let cache = CompileCache::new(settings.cache_dir.clone());
        let ticker = EpochTicker::start(engine.clone())?;
        Ok(PluginHost {
            engine,
            linker,
            cache,
            settings,
            clock,
            _ticker: ticker,
        })
    }

    /// Reads, compiles (or loads from the cache) and type-checks a component.
    pub fn load(&self, path: &Path) -> Result<LoadedComponent<C>, PluginError> {
        let bytes = std::fs::read(path).map_err(|source| PluginError::Read {
            path: path.to_owned(),
            source,
        })?;
        self.load_bytes(path, &bytes)
    }

    /// As [`Self::load`], from bytes already read.
    pub fn load_bytes(&self, path: &Path, bytes: &[u8]) -> Result<LoadedComponent<C>, PluginError> {
        let hash = cache::content_hash(bytes);
        let cached = self.cache.get(&self.engine, &hash);
        let from_cache = cached.is_some();
        let component = match cached {
            Some(component) => component,
            None => {
                let component = Component::from_binary(&self.engine, bytes).map_err(|err| {
                    PluginError::Compile {
                        path: path.to_owned(),
                        message: format!("{err:#}"),
                    }
                })?;
                self.cache.put(&hash, &component);
                component
            }
        };
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(PluginPre::new)
            .map_err(|err| PluginError::Contract {
                path: path.to_owned(),
                message: format!("{err:#}"),
            })?;
        log::debug!(path:% = path.display(), hash = hash.as_str(), from_cache, contract = pre.version(); "component loaded");
        Ok(LoadedComponent {
            pre,
            hash,
            path: path.to_owned(),
            from_cache,
        })
    }

    /// A fresh instance of a component for strategy `strategy_id`, in its own store, its
    /// stdout and stderr written to `log`. Nothing is called yet: call `init` next.
    pub fn instantiate(
        &self,
        component: &LoadedComponent<C>,
        strategy_id: &str,
        log: StrategyLog,
    ) -> Result<StrategyInstance<C>, PluginError> {
        let state = HostState {
            ctx: None,
            wasi: sandbox::wasi_context(strategy_id, self.settings.seed, self.clock.clone(), log),
            table: ResourceTable::new(),
            limiter: sandbox::MemoryLimiter::new(self.settings.memory_limit_bytes),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(self.budget_ticks());
        let plugin =
            component
                .pre
                .instantiate(&mut store)
                .map_err(|err| PluginError::Instantiate {
                    strategy: strategy_id.to_owned(),
                    message: format!("{err:#}"),
                })?;
        Ok(StrategyInstance::new(
            store,
            plugin,
            self.budget_ticks(),
            self.settings.clone(),
        ))
    }

    /// The call budget in epoch ticks, rounded up, plus one for the tick in progress.
    fn budget_ticks(&self) -> u64 {
        let tick = EPOCH_TICK.as_nanos().max(1);
        (self.settings.call_budget.as_nanos().div_ceil(tick) as u64).saturating_add(1)
    }
}
