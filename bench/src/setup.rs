//! What every scenario needs: an engine on the event clock, strategies, market data, a
//! monotonic clock, and the process's resident memory.

use pennant_daemon::config::{OpenOrders, PaperConfig};
use pennant_daemon::engine::{Engine, EngineSettings, StrategyCode, StrategySpec};
use pennant_daemon::market::synthetic::{Generator, WalkParams};
use pennant_daemon::market::{Instruments, MarketEvent};
use pennant_daemon::plugin::PluginSettings;
use pennant_daemon::venue::{ExecutionReport, PaperVenue, Venue, VenueOrder};
use pennant_sdk::testing::{instrument, px};
use pennant_sdk::{OrderId, Timestamp};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The instrument every scenario trades.
pub const SYMBOL: &str = "BTC-USDT";
/// Start of the generated market data (event time).
pub const T0: Timestamp = 1_700_000_000_000_000_000;

/// Nanoseconds on a monotonic clock since the first call.
pub fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Resident memory of this process, in bytes (0 where /proc is missing).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// The instruments of every scenario.
pub fn instruments() -> Arc<Instruments> {
    Arc::new(Instruments::new([instrument(0, SYMBOL, "0.1", "0.001")]))
}

/// `n` market events (about 60% quotes, 40% trades), deterministic, 1 ms apart.
pub fn market(n: usize) -> Vec<MarketEvent> {
    let mut events = Vec::with_capacity(n);
    each_event(n, |event| events.push(*event));
    events
}

/// Calls `f` with each of the `n` events [`market`] returns, in order, without keeping
/// them: for tapes larger than memory should hold.
pub fn each_event(n: usize, mut f: impl FnMut(&MarketEvent)) {
    let params = WalkParams {
        start_price: px("50000"),
        step_bps: 2,
        spread_ticks: 2,
        max_lots: 1000,
        trade_percent: 70,
    };
    let info = instruments()
        .by_symbol(SYMBOL)
        .cloned()
        .expect("the instrument exists");
    let mut generator = Generator::new(7, vec![(info, params)]);
    let mut batch = Vec::new();
    let mut left = n;
    let mut step = 0i64;
    while left > 0 {
        batch.clear();
        generator.step(T0 + step * 1_000_000, &mut batch);
        step += 1;
        for event in batch.iter().take(left) {
            f(event);
        }
        left -= batch.len().min(left);
    }
}

/// `n` generated quotes (the trades between them left out).
pub fn quotes(n: usize) -> Vec<MarketEvent> {
    // About 60% of generated events are quotes: twice as many events is plenty.
    let quotes: Vec<MarketEvent> = market(n * 2)
        .into_iter()
        .filter(|e| matches!(e, MarketEvent::Quote(_)))
        .take(n)
        .collect();
    assert_eq!(quotes.len(), n, "the generator makes enough quotes");
    quotes
}

/// Records when orders reach the venue: the first and the last since the last reset.
#[derive(Debug, Default)]
pub struct SubmitProbe {
    first: AtomicU64,
    last: AtomicU64,
}

impl SubmitProbe {
    /// `(first, last)` submit times since the last call, and resets.
    pub fn take(&self) -> (u64, u64) {
        (
            self.first.swap(0, Ordering::Relaxed),
            self.last.swap(0, Ordering::Relaxed),
        )
    }
}

/// The paper venue, with the time each order reaches it recorded.
pub struct TimedVenue {
    inner: PaperVenue,
    probe: Arc<SubmitProbe>,
}

impl Venue for TimedVenue {
    fn name(&self) -> &str {
        "timed-paper"
    }
    fn submit(&mut self, order: VenueOrder, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        let t = now_ns();
        let _ = self
            .probe
            .first
            .compare_exchange(0, t, Ordering::Relaxed, Ordering::Relaxed);
        self.probe.last.store(t, Ordering::Relaxed);
        self.inner.submit(order, now, out);
    }
    fn cancel(&mut self, id: OrderId, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        self.inner.cancel(id, now, out);
    }
    fn on_market(&mut self, event: &MarketEvent, out: &mut Vec<ExecutionReport>) {
        self.inner.on_market(event, out);
    }
    fn on_clock(&mut self, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        self.inner.on_clock(now, out);
    }
    fn restore(&mut self, orders: &[(VenueOrder, pennant_sdk::Qty)]) {
        self.inner.restore(orders);
    }
    fn snapshot(&mut self) -> Option<pennant_daemon::venue::VenueSnapshot> {
        self.inner.snapshot()
    }
    fn reach(&self) -> Option<Timestamp> {
        self.inner.reach()
    }
    fn may_report(&self, event: &MarketEvent) -> bool {
        self.inner.may_report(event)
    }
    fn next_arrival(&self) -> Option<Timestamp> {
        self.inner.next_arrival()
    }
}

/// An engine on the event clock with the paper venue (its submits timed by `probe`),
/// a compile cache in `cache`, and no strategies yet.
pub fn engine(cache: &Path, probe: Arc<SubmitProbe>) -> Engine {
    engine_with(cache, probe, 0, true)
}

/// As [`engine`], with the paper venue's latency and market windows on or off.
pub fn engine_with(
    cache: &Path,
    probe: Arc<SubmitProbe>,
    latency_ms: u32,
    windows: bool,
) -> Engine {
    let settings = PluginSettings {
        memory_limit_bytes: 64 << 20,
        call_budget: Duration::from_millis(50),
        cache_dir: cache.to_owned(),
        seed: 1,
    };
    let venue = TimedVenue {
        inner: PaperVenue::new(&PaperConfig {
            latency_ms,
            ..PaperConfig::default()
        }),
        probe,
    };
    Engine::builder(instruments(), settings)
        .venue(Box::new(venue))
        .settings(EngineSettings {
            snapshot_interval: Duration::from_secs(3600),
            summary_interval: Duration::from_secs(1 << 30),
            market_windows: windows,
            ..EngineSettings::default()
        })
        .build()
        .expect("the WebAssembly host starts")
}

/// The example strategies, and the do-nothing and order-on-every-quote test modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Receives trades and quotes, does nothing.
    Idle,
    /// Sends an IOC order on every quote.
    Echo,
    /// sma-cross on 1-second bars.
    SmaCross,
    /// market-maker, requoting on every quote.
    MarketMaker,
}

impl Kind {
    /// Name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Idle => "idle",
            Kind::Echo => "echo",
            Kind::SmaCross => "sma-cross",
            Kind::MarketMaker => "market-maker",
        }
    }

    /// The component file of this strategy.
    pub fn component(self) -> &'static str {
        match self {
            Kind::Idle | Kind::Echo => "test_strategy.wasm",
            Kind::SmaCross => "sma_cross.wasm",
            Kind::MarketMaker => "market_maker.wasm",
        }
    }

    /// Its `init` parameters.
    pub fn params(self) -> Vec<(String, String)> {
        let pairs: &[(&str, &str)] = match self {
            Kind::Idle => &[("mode", "idle")],
            Kind::Echo => &[("mode", "echo"), ("qty", "0.001")],
            Kind::SmaCross => &[
                ("qty", "0.01"),
                ("fast", "10"),
                ("slow", "30"),
                ("bar_interval_ms", "1000"),
            ],
            Kind::MarketMaker => &[
                ("qty", "0.01"),
                ("max_position", "0.1"),
                ("half_spread_bps", "1"),
                ("requote_ticks", "5"),
            ],
        };
        std::iter::once(("instrument".to_owned(), SYMBOL.to_owned()))
            .chain(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .collect()
    }

    fn native(self) -> StrategyCode {
        match self {
            Kind::Idle | Kind::Echo => StrategyCode::native::<test_strategy::TestStrategy>(),
            Kind::SmaCross => StrategyCode::native::<sma_cross::SmaCross>(),
            Kind::MarketMaker => StrategyCode::native::<market_maker::MarketMaker>(),
        }
    }
}

/// WebAssembly component or native build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The `.wasm` component, as in production.
    Wasm,
    /// The same SDK strategy compiled into the process.
    Native,
}

/// Starts `count` strategies of `kind` in `engine`.
pub fn add_strategies(
    engine: &mut Engine,
    components: &Path,
    kind: Kind,
    build: Build,
    count: usize,
) {
    let code = match build {
        Build::Native => kind.native(),
        Build::Wasm => {
            let path: PathBuf = components.join(kind.component());
            let component = engine
                .plugins()
                .load(&path)
                .unwrap_or_else(|err| panic!("cannot load {}: {err}", path.display()));
            StrategyCode::Wasm(Arc::new(component))
        }
    };
    for n in 0..count {
        engine
            .start_strategy(StrategySpec {
                id: format!("{}-{n}", kind.name()),
                code: code.clone(),
                params: kind.params(),
                open_orders: OpenOrders::Cancel,
            })
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", kind.name()));
    }
}
