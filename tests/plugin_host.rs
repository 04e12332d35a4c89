//! The WebAssembly host against real components built from `strategies/`: the contract,
//! the sandbox, the limits, and the compile cache. Host calls are served by the SDK's
//! test host, so these tests exercise the plugin layer alone.

mod support;

use pennant_daemon::plugin::{
    Fault, LoadedComponent, OutputLimits, PluginError, PluginHost, PluginSettings, SharedClock,
    StrategyInstance, StrategyLog,
};
use pennant_sdk::testing::{px, qty, TestHost};
use pennant_sdk::{Side, Trade};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

const NOW: i64 = 1_700_000_000_123_456_789;

/// A call budget no well-behaved call reaches even on a loaded machine (the budget is
/// wall time): only the endless-loop test uses a short one.
const BUDGET: Duration = Duration::from_secs(10);

fn host<C: pennant_sdk::batch::BatchHost + Send + 'static>(
    cache: &Path,
) -> (PluginHost<C>, SharedClock) {
    host_with_budget(cache, BUDGET)
}

fn host_with_budget<C: pennant_sdk::batch::BatchHost + Send + 'static>(
    cache: &Path,
    budget: Duration,
) -> (PluginHost<C>, SharedClock) {
    let clock = SharedClock::default();
    clock.store(NOW, Ordering::Relaxed);
    let settings = PluginSettings {
        memory_limit_bytes: 16 * 1024 * 1024,
        call_budget: budget,
        cache_dir: cache.to_owned(),
        seed: 7,
    };
    (
        PluginHost::new(settings, clock.clone()).expect("the host starts"),
        clock,
    )
}

/// A fresh instance of `component` for strategy `id`, with the default log budget.
fn instantiate<C: pennant_sdk::batch::BatchHost + Send + 'static>(
    plugins: &PluginHost<C>,
    component: &LoadedComponent<C>,
    id: &str,
) -> StrategyInstance<C> {
    plugins
        .instantiate(component, id, StrategyLog::new(id, OutputLimits::default()))
        .unwrap()
}

fn test_host() -> TestHost {
    TestHost::new().with_instrument("BTC-USDT", "0.01", "0.001")
}

fn trade(n: i64) -> Trade {
    Trade {
        instrument: 1,
        ts: NOW + n,
        price: px("100"),
        qty: qty("1"),
        aggressor: Side::Buy,
    }
}

fn params(mode: &str) -> Vec<(String, String)> {
    vec![
        ("mode".into(), mode.into()),
        ("instrument".into(), "BTC-USDT".into()),
    ]
}

/// Instantiates the test strategy in `mode`, inits it, and feeds it trades until it
/// faults or `trades` are done; returns the fault, if any, and the host.
fn run_mode(mode: &str, trades: i64) -> (Option<Fault>, TestHost) {
    let cache = tempfile::tempdir().unwrap();
    let budget = if mode == "loop" {
        Duration::from_millis(50)
    } else {
        BUDGET
    };
    let (plugins, _) = host_with_budget(cache.path(), budget);
    let component = plugins.load(&support::component("test_strategy")).unwrap();
    let mut instance = instantiate(&plugins, &component, mode);
    let (mut ctx, init) = instance.init(test_host(), &params(mode));
    assert_eq!(init, Ok(Ok(())));
    for n in 1..=trades {
        let (back, outcome) = instance.on_trade(ctx, &trade(n));
        ctx = back;
        if let Err(fault) = outcome {
            assert!(instance.is_poisoned());
            let (back, again) = instance.on_trade(ctx, &trade(n + 1));
            assert_eq!(
                again,
                Err(Fault::Poisoned),
                "a faulted instance is never entered again"
            );
            return (Some(fault), back);
        }
    }
    (None, ctx)
}

#[test]
fn a_well_behaved_component_counts_and_carries_its_state_to_a_new_instance() {
    let cache = tempfile::tempdir().unwrap();
    let (plugins, _) = host(cache.path());
    let component = plugins.load(&support::component("test_strategy")).unwrap();
    let mut first = instantiate(&plugins, &component, "counter");
    let (mut ctx, init) = first.init(test_host(), &params("count"));
    assert_eq!(init, Ok(Ok(())));
    assert_eq!(
        ctx.subscriptions.len(),
        1,
        "init subscribed through the host"
    );
    for n in 1..=4 {
        let (back, outcome) = first.on_trade(ctx, &trade(n));
        assert_eq!(outcome, Ok(()));
        ctx = back;
    }
    let (ctx, state) = first.snapshot(ctx);
    let state = state.unwrap();
    let mut second = instantiate(&plugins, &component, "counter");
    let (ctx, init) = second.init(ctx, &params("count"));
    assert_eq!(init, Ok(Ok(())));
    let (ctx, restored) = second.restore(ctx, &state);
    assert_eq!(restored, Ok(Ok(())));
    let (ctx, outcome) = second.on_trade(ctx, &trade(5));
    assert_eq!(outcome, Ok(()));
    assert_eq!(ctx.logs.last().map(|(_, l)| l.as_str()), Some("count=5"));
}

#[test]
fn a_panic_is_a_trap_fault() {
    let (fault, host) = run_mode("trap", 5);
    match fault {
        Some(Fault::Trap(message)) => assert!(message.contains("unreachable"), "{message}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_eq!(
        host.logs.len(),
        3,
        "it counted to its trigger, then stopped"
    );
}

#[test]
fn an_endless_loop_is_interrupted_by_the_time_budget() {
    let (fault, _) = run_mode("loop", 5);
    assert_eq!(fault, Some(Fault::Timeout { budget_ms: 50 }));
}

#[test]
fn growing_past_the_memory_cap_is_a_memory_fault() {
    let (fault, _) = run_mode("oom", 5);
    assert_eq!(
        fault,
        Some(Fault::MemoryLimit {
            limit_bytes: 16 * 1024 * 1024
        })
    );
}

#[test]
fn the_sandbox_has_no_files_environment_or_network_and_the_engine_clock() {
    let (fault, host) = run_mode("probe", 3);
    assert_eq!(fault, None);
    let probe = host
        .logs
        .iter()
        .find(|(_, l)| l.starts_with("probe"))
        .expect("the probe logged");
    assert_eq!(
        probe.1,
        format!(
            "probe file=denied env=unset clock={NOW} now={} net=denied",
            pennant_sdk::testing::START_TIME
        )
    );
}

#[test]
fn init_and_restore_refusals_are_errors_not_faults() {
    let cache = tempfile::tempdir().unwrap();
    let (plugins, _) = host(cache.path());
    let component = plugins.load(&support::component("test_strategy")).unwrap();
    let mut instance = instantiate(&plugins, &component, "refuser");
    let (ctx, init) = instance.init(test_host(), &params("init-error"));
    assert_eq!(
        init,
        Ok(Err("refusing to start, as asked (mode = init-error)".into()))
    );
    let mut instance = instantiate(&plugins, &component, "refuser");
    let (ctx, init) = instance.init(ctx, &params("nonsense"));
    assert_eq!(init, Ok(Err("unknown mode `nonsense`".into())));
    let mut instance = instantiate(&plugins, &component, "refuser");
    let (ctx, _) = instance.init(ctx, &params("bad-restore"));
    let (_, restored) = instance.restore(ctx, &[1]);
    assert_eq!(
        restored,
        Ok(Err(
            "refusing the saved state, as asked (mode = bad-restore)".into()
        ))
    );
    assert!(!instance.is_poisoned());
}

#[test]
fn compiled_components_are_cached_by_content_hash() {
    let cache = tempfile::tempdir().unwrap();
    let path = support::component("sma_cross");
    let first: LoadedComponent<TestHost> = host(cache.path()).0.load(&path).unwrap();
    assert!(!first.from_cache);
    assert_eq!(first.hash.len(), 64);
    assert!(cache.path().join(format!("{}.cwasm", first.hash)).exists());
    // A new host, as after a restart, loads the compiled code instead of compiling.
    let second: LoadedComponent<TestHost> = host(cache.path()).0.load(&path).unwrap();
    assert!(second.from_cache);
    assert_eq!(second.hash, first.hash);
    // A corrupt entry is ignored and replaced.
    std::fs::write(
        cache.path().join(format!("{}.cwasm", first.hash)),
        b"garbage",
    )
    .unwrap();
    let third: LoadedComponent<TestHost> = host(cache.path()).0.load(&path).unwrap();
    assert!(!third.from_cache);
}

#[test]
fn bad_component_files_are_refused_with_a_reason() {
    let cache = tempfile::tempdir().unwrap();
    let (plugins, _) = host::<TestHost>(cache.path());
    let missing = plugins
        .load(Path::new("/nonexistent/strategy.wasm"))
        .err()
        .unwrap();
    assert!(matches!(missing, PluginError::Read { .. }), "{missing}");
    let bytes = std::fs::read(support::component("sma_cross")).unwrap();
    let truncated = plugins
        .load_bytes(Path::new("half.wasm"), &bytes[..bytes.len() / 2])
        .err()
        .unwrap();
    assert!(
        matches!(truncated, PluginError::Compile { .. }),
        "{truncated}"
    );
    assert!(truncated
        .to_string()
        .starts_with("half.wasm is not a valid WebAssembly component"));
    let garbage = plugins
        .load_bytes(Path::new("junk.wasm"), b"not wasm at all")
        .err()
        .unwrap();
    assert!(matches!(garbage, PluginError::Compile { .. }), "{garbage}");
}

/// A host that refuses every order with one reason and keeps the strategy's log lines.
struct Refusing {
    inner: TestHost,
    reason: pennant_sdk::RejectReason,
    logs: Vec<String>,
}

impl pennant_sdk::batch::BatchHost for Refusing {
    fn seek(&mut self, index: u32) {
        self.inner.seek(index)
    }
}

impl pennant_sdk::Host for Refusing {
    fn submit_order(
        &mut self,
        _order: &pennant_sdk::OrderRequest,
    ) -> Result<pennant_sdk::OrderId, pennant_sdk::Rejection> {
        Err(pennant_sdk::Rejection::new(
            self.reason,
            "refused by the test",
        ))
    }
    fn cancel_order(&mut self, id: pennant_sdk::OrderId) -> Result<(), pennant_sdk::Rejection> {
        self.inner.cancel_order(id)
    }
    fn cancel_all(&mut self, instrument: Option<pennant_sdk::InstrumentId>) -> u32 {
        self.inner.cancel_all(instrument)
    }
    fn position(&mut self, instrument: pennant_sdk::InstrumentId) -> pennant_sdk::Position {
        self.inner.position(instrument)
    }
    fn instrument(&mut self, id: pennant_sdk::InstrumentId) -> Option<pennant_sdk::InstrumentInfo> {
        self.inner.instrument(id)
    }
    fn lookup_instrument(&mut self, symbol: &str) -> Option<pennant_sdk::InstrumentInfo> {
        self.inner.lookup_instrument(symbol)
    }
    fn book_top(
        &mut self,
        instrument: pennant_sdk::InstrumentId,
        depth: usize,
    ) -> Option<pennant_sdk::book::BookTop> {
        self.inner.book_top(instrument, depth)
    }
    fn subscribe(&mut self, instrument: pennant_sdk::InstrumentId, streams: pennant_sdk::Streams) {
        self.inner.subscribe(instrument, streams)
    }
    fn subscribe_bars(
        &mut self,
        instrument: pennant_sdk::InstrumentId,
        interval_ms: u32,
    ) -> Result<(), String> {
        self.inner.subscribe_bars(instrument, interval_ms)
    }
    fn now(&mut self) -> pennant_sdk::Timestamp {
        self.inner.now()
    }
    fn set_timer(&mut self, at: pennant_sdk::Timestamp, token: u64) {
        self.inner.set_timer(at, token)
    }
    fn log(&mut self, _level: pennant_sdk::LogLevel, message: &str) {
        self.logs.push(message.to_owned());
    }
    fn emit_signal(&mut self, signal: &pennant_sdk::Signal) {
        self.inner.emit_signal(signal)
    }
}

/// Components built against contracts 0.1 and 0.2 still load and run beside 0.3 ones, in
/// one plugin host; a refusal reason added since reaches each as the nearest code its
/// version has, from a host call and in an order update.
#[test]
fn components_of_contracts_0_1_and_0_2_run_beside_0_3_and_see_their_own_codes() {
    use pennant_sdk::{Liquidity, OrderStatus, OrderUpdate, Price, Quote, RejectReason};
    let cache = tempfile::tempdir().unwrap();
    let (plugins, _) = host::<Refusing>(cache.path());
    let quote = Quote {
        instrument: 1,
        ts: NOW,
        bid_price: px("100"),
        bid_qty: qty("1"),
        ask_price: px("101"),
        ask_qty: qty("1"),
    };
    let update = OrderUpdate {
        order_id: 7,
        client_order_id: 1,
        instrument: 1,
        side: Side::Buy,
        status: OrderStatus::Rejected,
        ts: NOW,
        fill_price: Price::ZERO,
        fill_qty: pennant_sdk::Qty::ZERO,
        fee: pennant_sdk::Amount::ZERO,
        liquidity: Liquidity::None,
        filled_qty: pennant_sdk::Qty::ZERO,
        leaves_qty: pennant_sdk::Qty::ZERO,
        reason: Some(RejectReason::VenueRateBudget),
    };
    let check = |name: &str, contract: &str, refusal: &str, reason: &str| {
        let component = plugins.load(&support::component(name)).unwrap();
        assert_eq!(component.contract(), contract);
        let mut instance = instantiate(&plugins, &component, name);
        let host = Refusing {
            inner: test_host(),
            reason: RejectReason::InsufficientBalance,
            logs: Vec::new(),
        };
        let params = [
            ("instrument".to_owned(), "BTC-USDT".to_owned()),
            ("qty".to_owned(), "100000".to_owned()),
        ];
        let (host, init) = instance.init(host, &params);
        assert_eq!(init, Ok(Ok(())));
        let (host, outcome) = instance.on_quote(host, &quote);
        assert_eq!(outcome, Ok(()));
        let (host, outcome) = instance.on_order_update(host, &update);
        assert_eq!(outcome, Ok(()));
        assert_eq!(
            host.logs,
            [
                format!("contract {contract} refusal: RejectReason::{refusal}"),
                format!("contract {contract} update: OrderStatus::Rejected reason Some(RejectReason::{reason})"),
            ]
        );
    };
    check("contract_v0_1", "0.1", "VenueRejected", "RateLimit");
    check(
        "contract_v0_2",
        "0.2",
        "InsufficientBalance",
        "VenueRateBudget",
    );
    // Built with the SDK, against 0.3: the code itself.
    let component = plugins.load(&support::component("market_maker")).unwrap();
    assert_eq!(component.contract(), "0.3");
    let mut instance = instantiate(&plugins, &component, "mm");
    let params = [
        ("instrument".to_owned(), "BTC-USDT".to_owned()),
        ("qty".to_owned(), "0.01".to_owned()),
        ("max_position".to_owned(), "0.1".to_owned()),
    ];
    let fresh = Refusing {
        inner: test_host(),
        reason: RejectReason::InsufficientBalance,
        logs: Vec::new(),
    };
    let (fresh, init) = instance.init(fresh, &params);
    assert_eq!(init, Ok(Ok(())));
    let (fresh, outcome) = instance.on_quote(fresh, &quote);
    assert_eq!(outcome, Ok(()));
    assert!(
        fresh
            .logs
            .iter()
            .any(|l| l.contains("quote refused: insufficient_balance")),
        "{:?}",
        fresh.logs
    );
}
