//! The measurements. Each returns a section of the report and the figures the targets
//! are judged on. Sizes shrink a hundredfold in a quick run.

use crate::report::{duration, mib, quantile, rate, Section};
use crate::setup::{
    self, add_strategies, engine, market, now_ns, quotes, rss_bytes, Build, Kind, SubmitProbe,
};
use pennant_daemon::config::Config;
use pennant_daemon::daemon;
use pennant_daemon::market::replay::format_line;
use pennant_daemon::plugin::{OutputLimits, PluginHost, PluginSettings, SharedClock, StrategyLog};
use pennant_sdk::testing::TestHost;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a run reads components and writes scratch files, and how big it is.
pub struct Run {
    /// Folder of the `.wasm` components (release builds).
    pub components: PathBuf,
    /// Scratch folder (compile cache, generated files).
    pub scratch: PathBuf,
    /// Reduced sizes, for a smoke test.
    pub quick: bool,
}

impl Run {
    pub(crate) fn size(&self, full: usize) -> usize {
        if self.quick {
            (full / 100).max(1_000)
        } else {
            full
        }
    }

    pub(crate) fn cache(&self) -> PathBuf {
        self.scratch.join("compile-cache")
    }
}

/// Tick-to-order latency percentiles, keyed by strategy count: `(p50, p99)` of the first
/// order, in ns.
pub type Latencies = Vec<(usize, u64, u64)>;

/// 1. A quote enters the engine; every subscribed strategy answers with an order, which
///    passes the risk checks and reaches the venue adapter.
pub fn tick_to_order(run: &Run) -> (Section, Latencies) {
    let mut section = Section::new(
        "Tick-to-order latency",
        "A quote enters the engine (`Engine::on_market`); each subscribed WebAssembly strategy \
         (`test-strategy`, mode `echo`) submits an IOC order from its `on-quote` handler; the \
         order passes the risk checks and reaches the venue adapter, where the time is taken. \
         Monotonic clock; after 10,000 warm-up quotes. *First*: the first strategy's order; \
         *last*: the last strategy's, so with N strategies it includes N handler calls.",
        &[
            "strategies",
            "quotes",
            "order",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
        ],
    );
    let mut summary = Vec::new();
    for strategies in [1usize, 10, 100] {
        let events = run.size(1_000_000);
        let probe = Arc::new(SubmitProbe::default());
        let mut engine = engine(&run.cache(), probe.clone());
        add_strategies(
            &mut engine,
            &run.components,
            Kind::Echo,
            Build::Wasm,
            strategies,
        );
        let warmup = 10_000;
        let quotes = quotes(events + warmup);
        let (mut first, mut last) = (Vec::with_capacity(events), Vec::with_capacity(events));
        for (i, event) in quotes.iter().enumerate() {
            let t0 = now_ns();
            engine.on_market(event);
            let (a, b) = probe.take();
            if i >= warmup && a != 0 {
                first.push(a - t0);
                last.push(b - t0);
            }
        }
        for (name, samples) in [("first", &mut first), ("last", &mut last)] {
            samples.sort_unstable();
            let q = |x| quantile(samples, x);
            let row = [0.5, 0.9, 0.99, 0.999, 1.0].map(q);
            if name == "first" {
                summary.push((strategies, row[0], row[2]));
            }
            if strategies == 1 && name == "last" {
                continue; // the same as "first"
            }
            section.row(
                vec![strategies.to_string(), samples.len().to_string(), name.into()]
                    .into_iter()
                    .chain(row.iter().map(|&ns| duration(ns as f64)))
                    .collect(),
                json!({"strategies": strategies, "orders": name, "samples": samples.len(),
                       "p50_ns": row[0], "p90_ns": row[1], "p99_ns": row[2], "p999_ns": row[3], "max_ns": row[4]}),
            );
        }
    }
    (section, summary)
}

/// Per-event cost of `kind` built as `build` over `events`, in ns, with one strategy.
fn cost_per_event(
    run: &Run,
    kind: Option<Kind>,
    build: Build,
    events: &[pennant_daemon::market::MarketEvent],
) -> f64 {
    let mut engine = engine(&run.cache(), Arc::new(SubmitProbe::default()));
    if let Some(kind) = kind {
        add_strategies(&mut engine, &run.components, kind, build, 1);
    }
    let start = Instant::now();
    for event in events {
        engine.on_market(event);
    }
    start.elapsed().as_nanos() as f64 / events.len() as f64
}

/// 2. The same strategy as a component and natively, same events.
pub fn wasm_overhead(run: &Run) -> (Section, f64) {
    let mut section = Section::new(
        "WebAssembly overhead",
        "The same SDK strategy built as a WebAssembly component and natively (compiled into the \
         daemon behind the same `StrategyRuntime` interface), fed the same generated trades and \
         quotes through the whole engine (risk checks, paper venue, order updates). *Engine \
         alone* is the same run with no strategy; *strategy share* subtracts it.",
        &[
            "strategy",
            "events",
            "native /event",
            "wasm /event",
            "ratio (end to end)",
            "ratio (strategy share)",
        ],
    );
    let events = market(run.size(1_000_000));
    let base = cost_per_event(run, None, Build::Native, &events);
    section.row(
        vec![
            "engine alone".into(),
            events.len().to_string(),
            duration(base),
            duration(base),
            "1.00".into(),
            "-".into(),
        ],
        json!({"strategy": "none", "ns_per_event": base}),
    );
    let mut market_maker_ratio = 0.0;
    for kind in [Kind::Echo, Kind::MarketMaker, Kind::SmaCross] {
        let native = cost_per_event(run, Some(kind), Build::Native, &events);
        let wasm = cost_per_event(run, Some(kind), Build::Wasm, &events);
        let ratio = wasm / native;
        let share = (wasm - base) / (native - base).max(1.0);
        if kind == Kind::MarketMaker {
            market_maker_ratio = ratio;
        }
        section.row(
            vec![
                kind.name().into(),
                events.len().to_string(),
                duration(native),
                duration(wasm),
                format!("{ratio:.2}"),
                format!("{share:.2}"),
            ],
            json!({"strategy": kind.name(), "events": events.len(), "native_ns_per_event": native,
                   "wasm_ns_per_event": wasm, "ratio": ratio, "strategy_share_ratio": share}),
        );
    }
    // What the same measure gave before the move to wasmtime 50 and Rust 1.99.1, kept for
    // comparison (README's table, 2026-11-22, this machine).
    section.row(
        vec![
            "market-maker, wasmtime 48 (2026-11-22)".into(),
            "1000000".into(),
            "283 ns".into(),
            "1.24 us".into(),
            "3.3-4.4".into(),
            "-".into(),
        ],
        json!({"strategy": "market-maker", "reference": "wasmtime 48, 2026-11-22",
               "native_ns_per_event": 283.0, "wasm_ns_per_event": 1240.0, "ratio": "3.3-4.4"}),
    );
    (section, market_maker_ratio)
}

/// Writes `events` as a replay file.
pub(crate) fn write_tape(path: &Path, events: &[pennant_daemon::market::MarketEvent]) {
    let instruments = setup::instruments();
    let file = std::fs::File::create(path).expect("the scratch folder is writable");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for event in events {
        let _ = writeln!(out, "{}", format_line(event, &instruments));
    }
    let _ = out.flush();
}

/// The paper venue of a backtest: its latency, and whether market windows are on.
#[derive(Debug, Clone, Copy)]
struct Paper {
    latency_ms: u32,
    windows: bool,
}

/// As the daemon's defaults: no latency (so no market windows).
const NO_LATENCY: Paper = Paper {
    latency_ms: 0,
    windows: true,
};

/// Runs the real daemon on a replay file with one strategy; returns events/s.
fn replay_file(run: &Run, tape: &Path, kind: Kind, events: usize, paper: Paper) -> f64 {
    let dir = run.scratch.join(format!("replay-{}", kind.name()));
    let _ = std::fs::create_dir_all(&dir);
    let (component, params) = match kind {
        Kind::Idle | Kind::Echo => (
            "test_strategy.wasm",
            r#"{ instrument = "BTC-USDT", mode = "idle" }"#,
        ),
        Kind::SmaCross => (
            "sma_cross.wasm",
            r#"{ instrument = "BTC-USDT", qty = "0.01", fast = 10, slow = 30, bar_interval_ms = 1000 }"#,
        ),
        Kind::MarketMaker => (
            "market_maker.wasm",
            r#"{ instrument = "BTC-USDT", qty = "0.01", max_position = "0.1", half_spread_bps = 1, requote_ticks = 5 }"#,
        ),
    };
    let text = format!(
        "[daemon]\nstate_dir = {state:?}\nexit_when_feeds_end = true\nlog_level = \"warn\"\n\
         [api]\nenabled = false\n\
         [plugins]\ndir = {dir:?}\nmarket_windows = {windows}\n\
         [paper]\nlatency_ms = {latency}\n\
         [[instrument]]\nsymbol = \"BTC-USDT\"\ntick_size = \"0.1\"\nlot_size = \"0.001\"\n\
         [[feed]]\nname = \"tape\"\nkind = \"replay\"\npath = {tape:?}\n\
         [[strategy]]\nid = \"s\"\ncomponent = {component:?}\nparams = {params}\n",
        state = run.scratch.join("state").display().to_string(),
        dir = run.components.display().to_string(),
        tape = tape.display().to_string(),
        windows = paper.windows,
        latency = paper.latency_ms,
    );
    let config_path = dir.join("pennant.toml");
    std::fs::write(&config_path, text).expect("the scratch folder is writable");
    let config = Config::load(&config_path).expect("the generated configuration is valid");
    let start = Instant::now();
    daemon::run(config).expect("the replay runs");
    events as f64 / start.elapsed().as_secs_f64()
}

/// RSS samples over a long run, for the scale section.
pub type RssSeries = Vec<(usize, u64)>;

/// 3. Backtest throughput: a large generated file through the real daemon (replay feed,
///    engine thread, paper venue), and the engine alone on events already in memory.
pub fn backtest(run: &Run) -> (Section, Vec<(Kind, f64)>, RssSeries) {
    let mut section = Section::new(
        "Backtest throughput",
        "Ten million generated trades and quotes (seeded; about 40% trades), one strategy, one \
         engine thread, the paper venue. *From file*: the real daemon replays a CSV file as fast \
         as possible (a tokio task parses it and sends batches to the engine thread), start to \
         exit; *from binary file*: the same tape converted by `pennantd convert-replay` \
         (48-byte records, no parsing). *Engine only*: the same events already in memory, fed \
         to `Engine::on_market`.",
        &[
            "strategy",
            "events",
            "from file",
            "from binary file",
            "engine only",
        ],
    );
    let events = market(run.size(10_000_000));
    let tape = run.scratch.join("tape.csv");
    write_tape(&tape, &events);
    let binary = run.scratch.join("tape.bin");
    {
        let file = std::fs::File::create(&binary).expect("the scratch folder is writable");
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let open = || std::fs::File::open(&tape).map(std::io::BufReader::new);
        pennant_daemon::market::convert::text_to_binary(open, &mut out)
            .expect("the generated tape converts");
    }
    let mut results = Vec::new();
    let mut series = Vec::new();
    for kind in [Kind::Idle, Kind::SmaCross, Kind::MarketMaker] {
        let file_rate = replay_file(run, &tape, kind, events.len(), NO_LATENCY);
        let binary_rate = replay_file(run, &binary, kind, events.len(), NO_LATENCY);
        let mut engine = engine(&run.cache(), Arc::new(SubmitProbe::default()));
        add_strategies(&mut engine, &run.components, kind, Build::Wasm, 1);
        let sample_every = (events.len() / 10).max(1);
        let start = Instant::now();
        for (i, event) in events.iter().enumerate() {
            engine.on_market(event);
            if kind == Kind::MarketMaker && i % sample_every == 0 {
                series.push((i, rss_bytes()));
            }
        }
        let engine_rate = events.len() as f64 / start.elapsed().as_secs_f64();
        if kind == Kind::MarketMaker {
            series.push((events.len(), rss_bytes()));
        }
        results.push((kind, binary_rate));
        section.row(
            vec![
                kind.name().into(),
                events.len().to_string(),
                rate(file_rate),
                rate(binary_rate),
                rate(engine_rate),
            ],
            json!({"strategy": kind.name(), "events": events.len(), "file_events_per_s": file_rate,
                   "binary_file_events_per_s": binary_rate, "engine_events_per_s": engine_rate}),
        );
    }
    // With venue latency the engine hands a 0.3 component the events within the latency
    // that go to it alone in one call (market windows), its position carried along.
    for (kind, windows) in [
        (Kind::Idle, false),
        (Kind::Idle, true),
        (Kind::MarketMaker, false),
        (Kind::MarketMaker, true),
    ] {
        let paper = Paper {
            latency_ms: 5,
            windows,
        };
        let binary_rate = replay_file(run, &binary, kind, events.len(), paper);
        let mut engine = setup::engine_with(
            &run.cache(),
            Arc::new(SubmitProbe::default()),
            paper.latency_ms,
            windows,
        );
        add_strategies(&mut engine, &run.components, kind, Build::Wasm, 1);
        let start = Instant::now();
        for batch in events.chunks(4096) {
            engine.on_market_batch(batch);
        }
        let engine_rate = events.len() as f64 / start.elapsed().as_secs_f64();
        let calls: u64 = engine.reports().iter().map(|r| r.stats.market_calls).sum();
        let name = format!(
            "{}, 5 ms latency, windows {} ({calls} market calls)",
            kind.name(),
            if windows { "on" } else { "off" }
        );
        section.row(
            vec![
                name.clone(),
                events.len().to_string(),
                "-".into(),
                rate(binary_rate),
                rate(engine_rate),
            ],
            json!({"strategy": name, "events": events.len(), "latency_ms": paper.latency_ms,
                   "market_windows": windows, "market_calls": calls,
                   "binary_file_events_per_s": binary_rate, "engine_events_per_s": engine_rate}),
        );
    }
    let _ = std::fs::remove_file(&tape);
    let _ = std::fs::remove_file(&binary);
    (section, results, series)
}

/// 4. Compiling a component, loading it from the compile cache, instantiating it.
pub fn startup(run: &Run) -> Section {
    let mut section = Section::new(
        "Compile, cache, instantiate",
        "`market_maker.wasm`: compiling it (empty cache), loading the compiled code from the \
         compile cache (as after a restart), instantiating it from the pre-linked component, and \
         instantiating plus `init`. The basis of hot reload. Then one call across the \
         boundary (`on_quote` to the idle `test_strategy.wasm`), beside wasmtime 48's.",
        &["step", "time", "runs"],
    );
    let path = run.components.join("market_maker.wasm");
    let settings = |cache: &Path| PluginSettings {
        memory_limit_bytes: 64 << 20,
        call_budget: Duration::from_millis(50),
        cache_dir: cache.to_owned(),
        seed: 1,
    };
    let cache = run
        .scratch
        .join(format!("startup-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let host = PluginHost::<TestHost>::new(settings(&cache), SharedClock::default())
        .expect("the host starts");
    let start = Instant::now();
    let component = host.load(&path).expect("the component compiles");
    let compile = start.elapsed();
    let runs = if run.quick { 5 } else { 20 };
    let start = Instant::now();
    for _ in 0..runs {
        let fresh = PluginHost::<TestHost>::new(settings(&cache), SharedClock::default())
            .expect("the host starts");
        let cached = fresh.load(&path).expect("the component loads");
        assert!(cached.from_cache);
    }
    let from_cache = start.elapsed() / runs;
    let instances = if run.quick { 20 } else { 500 };
    let start = Instant::now();
    for _ in 0..instances {
        let _ = host
            .instantiate(
                &component,
                "bench",
                StrategyLog::new("bench", OutputLimits::default()),
            )
            .expect("it instantiates");
    }
    let instantiate = start.elapsed() / instances;
    let params: Vec<(String, String)> = [
        ("instrument", "BTC-USDT"),
        ("qty", "0.01"),
        ("max_position", "0.1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let start = Instant::now();
    for _ in 0..instances {
        let mut instance = host
            .instantiate(
                &component,
                "bench",
                StrategyLog::new("bench", OutputLimits::default()),
            )
            .expect("it instantiates");
        let ctx = TestHost::new().with_instrument("BTC-USDT", "0.1", "0.001");
        let (_, init) = instance.init(ctx, &params);
        assert_eq!(init, Ok(Ok(())));
    }
    let with_init = start.elapsed() / instances;
    // One call across the boundary: a quote to the idle test strategy, which does
    // nothing with it (criterion's `wasm/on_quote_idle`, measured here in one run).
    let idle = host
        .load(&run.components.join("test_strategy.wasm"))
        .expect("the test strategy compiles");
    let mut instance = host
        .instantiate(
            &idle,
            "bench",
            StrategyLog::new("bench", OutputLimits::default()),
        )
        .expect("it instantiates");
    let idle_params = vec![
        ("mode".to_owned(), "idle".to_owned()),
        ("instrument".to_owned(), "BTC-USDT".to_owned()),
    ];
    let (mut ctx, init) = instance.init(
        TestHost::new().with_instrument("BTC-USDT", "0.1", "0.001"),
        &idle_params,
    );
    assert_eq!(init, Ok(Ok(())));
    let quote = pennant_sdk::Quote {
        instrument: 1,
        ts: 1,
        bid_price: pennant_sdk::testing::px("49999.9"),
        bid_qty: pennant_sdk::testing::qty("1"),
        ask_price: pennant_sdk::testing::px("50000.1"),
        ask_qty: pennant_sdk::testing::qty("1"),
    };
    let calls = if run.quick { 20_000 } else { 1_000_000 };
    let start = Instant::now();
    for _ in 0..calls {
        let (back, outcome) = instance.on_quote(std::mem::take(&mut ctx), &quote);
        ctx = back;
        let _ = std::hint::black_box(outcome);
    }
    let one_call = start.elapsed() / calls;
    let _ = std::fs::remove_dir_all(&cache);
    for (step, time, runs) in [
        ("compile (no cache)", compile, 1),
        ("load from the compile cache", from_cache, runs),
        ("instantiate", instantiate, instances),
        ("instantiate + init", with_init, instances),
        ("one call into a component (idle on_quote)", one_call, calls),
    ] {
        section.row(
            vec![
                step.into(),
                duration(time.as_nanos() as f64),
                runs.to_string(),
            ],
            json!({"step": step, "ns": time.as_nanos() as u64, "runs": runs}),
        );
    }
    // The same call before the move to wasmtime 50 (criterion, 2026-11-22, this machine).
    section.row(
        vec![
            "one call into a component, wasmtime 48 (2026-11-22)".into(),
            "265 ns".into(),
            "criterion".into(),
        ],
        json!({"step": "one call into a component", "reference": "wasmtime 48, 2026-11-22", "ns": 265}),
    );
    section
}

/// 5. Memory and per-event cost with many strategy instances.
pub fn scale(run: &Run, series: &RssSeries) -> (Section, f64, f64) {
    let mut section = Section::new(
        "Scale",
        "N `market-maker` WebAssembly instances (one compiled component), all subscribed to the \
         same instrument's quotes. *RSS per instance*: growth of the process's resident memory \
         from starting them, divided by N. *Per event*: cost of one quote reaching all N.",
        &[
            "instances",
            "RSS per instance",
            "per event",
            "per strategy call",
        ],
    );
    let mut per_instance_1000 = 0.0;
    for n in [1usize, 100, 1000] {
        let mut engine = engine(&run.cache(), Arc::new(SubmitProbe::default()));
        // Load the component first so that only instances are counted.
        add_strategies(
            &mut engine,
            &run.components,
            Kind::MarketMaker,
            Build::Wasm,
            0,
        );
        let before = rss_bytes();
        add_strategies(
            &mut engine,
            &run.components,
            Kind::MarketMaker,
            Build::Wasm,
            n,
        );
        let after = rss_bytes();
        let per_instance = after.saturating_sub(before) as f64 / n as f64;
        let events = quotes(run.size((2_000_000 / n).clamp(2_000, 200_000)));
        let start = Instant::now();
        for event in &events {
            engine.on_market(event);
        }
        let per_event = start.elapsed().as_nanos() as f64 / events.len() as f64;
        if n == 1000 {
            per_instance_1000 = per_instance;
        }
        section.row(
            vec![n.to_string(), mib(per_instance), duration(per_event), duration(per_event / n as f64)],
            json!({"instances": n, "rss_bytes_per_instance": per_instance, "ns_per_event": per_event}),
        );
    }
    let growth = match (series.get(1), series.last()) {
        (Some(&(_, early)), Some(&(_, late))) if early > 0 => {
            (late as f64 - early as f64) / early as f64
        }
        _ => 0.0,
    };
    let samples: Vec<String> = series
        .iter()
        .map(|(i, rss)| format!("{:.1}M: {}", *i as f64 / 1e6, mib(*rss as f64)))
        .collect();
    section.method.push_str(&format!(
        "\n\nRSS over the engine-only market-maker backtest, sampled every tenth of the run: {}; \
         growth after the first tenth: {:+.2}%.",
        samples.join(", "),
        growth * 100.0
    ));
    (section, per_instance_1000, growth)
}

/// Cost of the pre-trade checks for one order that passes them all, with every limit
/// configured or none, and five working orders in the book.
pub fn risk_cost(run: &Run) -> Section {
    use pennant_daemon::config::{Limits, PaperConfig, RiskConfig};
    use pennant_daemon::engine::clock::{Clock, ClockMode};
    use pennant_daemon::engine::{Core, StrategyCtx};
    use pennant_daemon::risk::{Books, RiskEngine};
    use pennant_daemon::venue::PaperVenue;
    use pennant_sdk::testing::{px, qty};
    use pennant_sdk::{Host, OrderRequest, Price, Side};
    use std::num::NonZeroU32;

    let mut section = Section::new(
        "Risk check cost per order",
        "`RiskEngine::check` for a limit order that passes every control, for a strategy with \
         five working orders, called in a loop (the engine clock moves 1 ms per order so that \
         the rate window slides). *all*: every limit set, for the strategy and globally.",
        &["limits", "per order", "orders"],
    );
    let amount = |s: &str| s.parse().unwrap_or_default();
    let all = Limits {
        max_order_qty: Some(qty("10")),
        max_order_notional: Some(amount("10000000")),
        price_band_bps: NonZeroU32::new(1000),
        max_position: Some(qty("100")),
        max_gross_exposure: Some(amount("100000000")),
        max_open_orders: Some(100),
        max_orders_per_window: NonZeroU32::new(1_000_000),
        max_daily_loss: Some(amount("1000000")),
        instruments: None,
    };
    for (name, limits) in [("none", Limits::default()), ("all", all)] {
        let config = RiskConfig {
            defaults: limits.clone(),
            global: limits,
            ..RiskConfig::default()
        };
        let mut core = Core::new(
            Clock::new(ClockMode::Event, SharedClock::default()),
            setup::instruments(),
            Box::new(PaperVenue::new(&PaperConfig::default())),
            RiskEngine::new(config),
        );
        core.add_strategy("s");
        core.clock.advance(setup::T0);
        let mut ctx = StrategyCtx {
            core: Box::new(core),
            strategy: 0,
        };
        for event in setup::market(50) {
            ctx.core.market.apply(&event);
        }
        for i in 0..5 {
            let price = px("45000") - Price::from_int(i).unwrap_or_default();
            let _ = ctx.submit_order(&OrderRequest::limit(1, Side::Buy, price, qty("0.01")));
        }
        let order = OrderRequest::limit(1, Side::Buy, px("49000"), qty("0.01"));
        let n = run.size(1_000_000);
        let core = &mut *ctx.core;
        let mut now = core.clock.now();
        let start = Instant::now();
        for _ in 0..n {
            now += 1_000_000;
            let books = Books {
                instruments: &core.instruments,
                market: &core.market,
                orders: &core.orders,
                ledger: &core.ledger,
                balances: None,
            };
            let outcome = core.risk.check(0, &order, now, &books);
            assert!(outcome.is_ok(), "the benchmark order passes: {outcome:?}");
        }
        let per = start.elapsed().as_nanos() as f64 / n as f64;
        section.row(
            vec![name.into(), duration(per), n.to_string()],
            json!({"limits": name, "ns_per_order": per}),
        );
    }
    section
}

/// Hot reload figures: the swap's cost, and the events lost across swaps.
pub struct ReloadFigures {
    /// Mean time of a swap whose component comes from the compile cache, in ns.
    pub cached_swap_ns: f64,
    /// Events lost or repeated across swaps during a full-speed replay (must be 0).
    pub events_lost: i64,
}

/// 6. Hot reload: swapping a running `market_maker` to a new version (load from the compile
///    cache, or compile; then snapshot, instantiate, `init`, `restore`), and a replay at
///    full speed through the engine's channel with swaps between its batches, checked for
///    lost or repeated events by the test strategy's digest of the trades it saw.
pub fn reload(run: &Run) -> (Section, ReloadFigures) {
    use pennant_daemon::config::OpenOrders;
    use pennant_daemon::engine::{EngineInput, StrategyCode, StrategySpec};
    use pennant_daemon::plugin::cache::relabel;
    let mut section = Section::new(
        "Hot reload",
        "A running `market_maker` swapped to another version of its component (the same code \
         under another content hash): the engine's pause alone (snapshot, instantiate, `init`, \
         `restore`, with the component already loaded), and the whole swap with the component \
         loaded from the compile cache or compiled. Then a replay through the engine's channel \
         as fast as it goes, with a swap between batches every 5% of it: events lost or seen \
         twice, from the test strategy's count and digest of every trade it saw.",
        &["measure", "value", "runs"],
    );
    let cache = run
        .scratch
        .join(format!("reload-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let probe = Arc::new(SubmitProbe::default());
    let mut engine = engine(&cache, probe.clone());
    let original = std::fs::read(run.components.join(Kind::MarketMaker.component()))
        .expect("market_maker.wasm is built");
    let path = run.components.join(Kind::MarketMaker.component());
    let spec = |code: StrategyCode| StrategySpec {
        id: "mm".into(),
        code,
        params: Kind::MarketMaker.params(),
        open_orders: OpenOrders::Cancel,
    };
    let load = |engine: &mut pennant_daemon::engine::Engine, label: &str| {
        let bytes = relabel(&original, label);
        let component = engine
            .plugins()
            .load_bytes(&path, &bytes)
            .expect("the component loads");
        StrategyCode::Wasm(Arc::new(component))
    };
    let first = load(&mut engine, "v0");
    engine.start_strategy(spec(first)).expect("mm starts");
    let quotes = quotes(run.size(1_000).max(1_000));
    for event in &quotes[..1_000] {
        engine.on_market(event);
    }

    // The engine's pause: two loaded versions, swapped back and forth.
    let loaded = [load(&mut engine, "a"), load(&mut engine, "b")];
    let swaps = if run.quick { 20 } else { 200 };
    let mut pauses = Vec::with_capacity(swaps);
    for n in 0..swaps {
        let start = Instant::now();
        engine
            .deploy(spec(loaded[n % 2].clone()))
            .expect("the swap works");
        pauses.push(start.elapsed().as_nanos() as u64);
    }
    pauses.sort_unstable();
    let pause = pauses.iter().sum::<u64>() as f64 / swaps as f64;

    // From the compile cache: versions compiled once (by a first load), then swapped in by
    // a load that finds them in the cache.
    let cached_runs = if run.quick { 5 } else { 20 };
    let labels: Vec<String> = (0..cached_runs).map(|n| format!("cached-{n}")).collect();
    for label in &labels {
        load(&mut engine, label);
    }
    let start = Instant::now();
    for label in &labels {
        let code = load(&mut engine, label);
        engine.deploy(spec(code)).expect("the swap works");
    }
    let cached = start.elapsed().as_nanos() as f64 / cached_runs as f64;

    // Compiled: a version never seen.
    let compiled_runs = if run.quick { 2 } else { 5 };
    let start = Instant::now();
    for n in 0..compiled_runs {
        let code = load(&mut engine, &format!("fresh-{n}"));
        engine.deploy(spec(code)).expect("the swap works");
    }
    let compiled = start.elapsed().as_nanos() as f64 / compiled_runs as f64;
    drop(engine);

    // Events lost across swaps at full speed.
    let mut engine = setup::engine(&cache, probe);
    let counter = std::fs::read(run.components.join(Kind::Idle.component()))
        .expect("test_strategy.wasm is built");
    let counter_path = run.components.join(Kind::Idle.component());
    let versions: Vec<StrategyCode> = (0..2)
        .map(|n| {
            let bytes = relabel(&counter, &format!("counter-{n}"));
            let component = engine
                .plugins()
                .load_bytes(&counter_path, &bytes)
                .expect("the component loads");
            StrategyCode::Wasm(Arc::new(component))
        })
        .collect();
    let counter_spec = |code: &StrategyCode| StrategySpec {
        id: "counter".into(),
        code: code.clone(),
        params: vec![
            ("instrument".into(), setup::SYMBOL.into()),
            ("mode".into(), "idle".into()),
        ],
        open_orders: OpenOrders::Cancel,
    };
    engine
        .start_strategy(counter_spec(&versions[0]))
        .expect("the counter starts");
    let events = market(run.size(2_000_000));
    let mut digest = test_strategy::DIGEST_START;
    let mut trades = 0u64;
    for event in &events {
        if let pennant_daemon::market::MarketEvent::Trade(trade) = event {
            digest = test_strategy::fold_trade(digest, trade);
            trades += 1;
        }
    }
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let engine_thread = std::thread::spawn(move || engine.run(rx.into()));
    let start = Instant::now();
    let chunk = (events.len() / 20).max(1);
    let mut replies = Vec::new();
    for (n, batch) in events.chunks(1_024).enumerate() {
        let _ = tx.blocking_send(EngineInput::Market {
            events: batch.to_vec(),
            received: std::time::Instant::now(),
        });
        if (n * 1_024) % chunk < 1_024 && n > 0 {
            let next = counter_spec(&versions[(replies.len() + 1) % 2]);
            let (reply, outcome) = tokio::sync::oneshot::channel();
            let command = pennant_daemon::engine::Command::Apply {
                changes: vec![pennant_daemon::engine::Change::Deploy(next)],
                version_of: None,
            };
            let _ = tx.blocking_send(EngineInput::command(command, reply));
            replies.push(outcome);
        }
    }
    let _ = tx.blocking_send(EngineInput::Shutdown);
    let reports = engine_thread.join().expect("the engine thread ends");
    let elapsed = start.elapsed();
    let replay_swaps = replies
        .into_iter()
        .filter_map(|r| r.blocking_recv().ok())
        .filter(|answer| {
            matches!(answer, Ok(pennant_daemon::engine::Answer::Applied { outcomes, .. })
                if outcomes.iter().all(|o| o.result.is_ok()))
        })
        .count();
    let (seen, seen_digest, _) = reports
        .iter()
        .find(|r| r.id == "counter")
        .and_then(|r| r.snapshot.as_deref())
        .and_then(test_strategy::decode_state)
        .unwrap_or_default();
    let events_lost = trades as i64 - seen as i64;
    let exact = seen_digest == digest;
    let _ = std::fs::remove_dir_all(&cache);

    for (measure, value, runs, data) in [
        (
            "engine pause (component loaded)",
            duration(pause),
            swaps,
            json!({"ns_mean": pause, "ns_p50": quantile(&pauses, 0.5), "ns_max": pauses.last()}),
        ),
        (
            "swap, from the compile cache",
            duration(cached),
            cached_runs,
            json!({"ns_mean": cached}),
        ),
        (
            "swap, compiled",
            duration(compiled),
            compiled_runs,
            json!({"ns_mean": compiled}),
        ),
        (
            "replay with swaps",
            format!(
                "{} events, {replay_swaps} swaps, {}",
                events.len(),
                rate(events.len() as f64 / elapsed.as_secs_f64())
            ),
            1,
            json!({"events": events.len(), "swaps": replay_swaps}),
        ),
        (
            "events lost or repeated",
            format!(
                "{events_lost} (sequence digest {})",
                if exact { "identical" } else { "DIFFERS" }
            ),
            1,
            json!({"events_lost": events_lost, "digest_identical": exact}),
        ),
    ] {
        section.row(vec![measure.into(), value, runs.to_string()], data);
    }
    let lost = if exact {
        events_lost
    } else {
        events_lost.max(1)
    };
    (
        section,
        ReloadFigures {
            cached_swap_ns: cached,
            events_lost: lost,
        },
    )
}

/// 7. Store throughput: order records written through [`Store::write`] (one transaction
///    per batch), SQLite in the scratch folder and PostgreSQL in a throwaway local cluster.
pub fn store(run: &Run) -> Section {
    use pennant_daemon::config::StoreConfig;
    use pennant_daemon::records::{Body, OrderEvent, Record};
    use pennant_daemon::store::Store;
    let mut section = Section::new(
        "Store throughput",
        "Order records (the most frequent kind, two rows each: the event and the order's \
         latest state) written in transactions of 1, 100 and 1,000, through the same call the \
         writer task makes. SQLite: WAL, synchronous=NORMAL, in the scratch folder. PostgreSQL: \
         a local cluster started for the run (fsync off, as in the tests: this measures the \
         daemon's side, not the disk).",
        &["backend", "records per transaction", "records/s", "records"],
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let records = |first: u64, count: u64| -> Vec<Record> {
        (first..first + count)
            .map(|seq| Record {
                seq,
                ts: seq as i64,
                body: Body::Order(OrderEvent {
                    strategy: "bench".into(),
                    order_id: seq,
                    client_order_id: seq,
                    venue: "paper".into(),
                    venue_client_id: format!("bench-{seq}"),
                    instrument: setup::SYMBOL.into(),
                    side: pennant_sdk::Side::Buy,
                    kind: pennant_sdk::OrderKind::Limit,
                    time_in_force: pennant_sdk::TimeInForce::Gtc,
                    price: 50_000 * 100_000_000,
                    qty: 1_000_000,
                    status: pennant_daemon::records::OrderState::Submitted,
                    filled_qty: 0,
                    reason: None,
                }),
            })
            .collect()
    };
    let dir = run.scratch.join(format!("store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cluster =
        pennant_testkit::pg::PgCluster::available().then(pennant_testkit::pg::PgCluster::start);
    let mut backends = vec![("sqlite", StoreConfig::default())];
    match &cluster {
        Some(cluster) => backends.push((
            "postgresql",
            StoreConfig {
                url: Some(cluster.database("bench")),
                ..StoreConfig::default()
            },
        )),
        None => section.row(
            vec![
                "postgresql".into(),
                "-".into(),
                "not measured: no PostgreSQL server programs".into(),
                "0".into(),
            ],
            json!({"backend": "postgresql", "status": "not measured"}),
        ),
    }
    for (name, config) in backends {
        let store = runtime
            .block_on(Store::open(&config, &dir))
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        let mut next = 1;
        for batch in [1u64, 100, 1_000] {
            let total = run.size(if batch == 1 { 5_000 } else { 100_000 }) as u64;
            let total = total - total % batch;
            let all = records(next, total);
            next += total;
            let start = Instant::now();
            for chunk in all.chunks(batch as usize) {
                runtime
                    .block_on(store.write(chunk))
                    .unwrap_or_else(|err| panic!("{name}: {err}"));
            }
            let per_second = total as f64 / start.elapsed().as_secs_f64();
            section.row(
                vec![name.into(), batch.to_string(), rate(per_second), total.to_string()],
                json!({"backend": name, "batch": batch, "records_per_s": per_second, "records": total}),
            );
        }
    }
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
    section
}
