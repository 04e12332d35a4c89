//! The engine with real strategy components: misbehaving strategies are quarantined with
//! their reason while the others trade on, their orders are canceled, and a quarantined
//! strategy can be rebuilt from its last snapshot.

mod support;

use pennant_daemon::config::PaperConfig;
use pennant_daemon::engine::clock::{Clock, ClockMode};
use pennant_daemon::engine::{
    Core, Engine, EngineSettings, StrategyCode, StrategyReport, StrategySpec, StrategyState,
};
use pennant_daemon::market::{Instruments, MarketEvent};
use pennant_daemon::plugin::{PluginHost, PluginSettings, SharedClock};
use pennant_daemon::venue::PaperVenue;
use pennant_sdk::testing::{instrument, px, qty};
use pennant_sdk::{Quote, Side, Trade};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_700_000_000_000_000_000;

fn engine(cache: &std::path::Path, snapshot_interval: Duration) -> Engine {
    let shared = SharedClock::default();
    let settings = PluginSettings {
        memory_limit_bytes: 16 * 1024 * 1024,
        call_budget: Duration::from_millis(50),
        cache_dir: cache.to_owned(),
        seed: 1,
    };
    let plugins = Arc::new(PluginHost::new(settings, shared.clone()).unwrap());
    let instruments = Arc::new(Instruments::new([instrument(
        0, "BTC-USDT", "0.01", "0.001",
    )]));
    let core = Core::new(
        Clock::new(ClockMode::Event, shared),
        instruments,
        Box::new(PaperVenue::new(&PaperConfig::default())),
        pennant_daemon::risk::RiskEngine::new(Default::default()),
    );
    let settings = EngineSettings {
        snapshot_interval,
        summary_interval: Duration::from_secs(3600),
        exit_when_feeds_end: false,
        feeds: 0,
    };
    Engine::new(core, plugins, settings)
}

fn start(engine: &mut Engine, component: &str, id: &str, params: &[(&str, &str)]) -> usize {
    let component = Arc::new(
        engine
            .plugins()
            .load(&support::component(component))
            .unwrap(),
    );
    let mut all = vec![("instrument".to_owned(), "BTC-USDT".to_owned())];
    all.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    engine
        .start_strategy(StrategySpec {
            id: id.to_owned(),
            code: StrategyCode::Wasm(component),
            params: all,
        })
        .unwrap()
}

fn feed(engine: &mut Engine, from: i64, to: i64) {
    for n in from..=to {
        engine.on_market(&MarketEvent::Quote(Quote {
            instrument: 1,
            ts: T0 + n * 1_000,
            bid_price: px("99.99"),
            bid_qty: qty("5"),
            ask_price: px("100.01"),
            ask_qty: qty("5"),
        }));
        engine.on_market(&MarketEvent::Trade(Trade {
            instrument: 1,
            ts: T0 + n * 1_000 + 500,
            price: px("100"),
            qty: qty("1"),
            aggressor: Side::Buy,
        }));
    }
}

fn report<'a>(reports: &'a [StrategyReport], id: &str) -> &'a StrategyReport {
    reports.iter().find(|r| r.id == id).unwrap()
}

fn quarantine_reason(reports: &[StrategyReport], id: &str) -> String {
    match &report(reports, id).state {
        StrategyState::Quarantined { reason } => reason.clone(),
        StrategyState::Running => panic!("{id} is still running"),
    }
}

#[test]
fn misbehaving_strategies_are_quarantined_and_the_others_go_on() {
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    start(
        &mut engine,
        "test_strategy",
        "counter",
        &[("mode", "count")],
    );
    start(
        &mut engine,
        "test_strategy",
        "trapper",
        &[("mode", "rest-then-trap"), ("trigger", "2")],
    );
    start(
        &mut engine,
        "test_strategy",
        "looper",
        &[("mode", "loop"), ("trigger", "3")],
    );
    start(
        &mut engine,
        "test_strategy",
        "hog",
        &[("mode", "oom"), ("trigger", "4")],
    );
    start(
        &mut engine,
        "test_strategy",
        "buyer",
        &[("mode", "order"), ("trigger", "5"), ("qty", "0.5")],
    );
    feed(&mut engine, 1, 10);
    let reports = engine.reports();

    let reason = quarantine_reason(&reports, "trapper");
    assert!(reason.starts_with("trapped: "), "{reason}");
    assert_eq!(
        quarantine_reason(&reports, "looper"),
        "exceeded its time budget of 50 ms per call"
    );
    assert_eq!(
        quarantine_reason(&reports, "hog"),
        "exceeded its memory limit of 16 MiB"
    );

    // The trapper's resting order was canceled when it was quarantined.
    let trapper = report(&reports, "trapper");
    assert_eq!(trapper.stats.orders, 1);
    assert_eq!(trapper.stats.fills, 0);

    // The others saw every trade and traded.
    assert_eq!(report(&reports, "counter").state, StrategyState::Running);
    assert_eq!(report(&reports, "counter").stats.events, 10);
    let buyer = report(&reports, "buyer");
    assert_eq!(buyer.state, StrategyState::Running);
    assert_eq!((buyer.stats.orders, buyer.stats.fills), (1, 1));
    assert_eq!(buyer.positions[0].1.qty, qty("0.5"));
    assert_eq!(buyer.positions[0].1.avg_price, px("100.01"));

    let final_reports = engine.shutdown();
    assert_eq!(final_reports.len(), 5);
}

#[test]
fn a_quarantined_strategy_is_rebuilt_from_its_last_snapshot() {
    let cache = tempfile::tempdir().unwrap();
    // Snapshot on every event.
    let mut engine = engine(cache.path(), Duration::from_nanos(1));
    let trapper = start(
        &mut engine,
        "test_strategy",
        "trapper",
        &[("mode", "trap"), ("trigger", "3")],
    );
    feed(&mut engine, 1, 3);
    assert!(matches!(
        engine.state(trapper),
        Some(StrategyState::Quarantined { .. })
    ));
    engine.restart(trapper).unwrap();
    assert_eq!(engine.state(trapper), Some(&StrategyState::Running));
    // The snapshot held a count of 2, so the very next trade is the 3rd again: the same
    // deterministic panic proves the state came back. A fresh start would count 1.
    feed(&mut engine, 4, 4);
    let reports = engine.reports();
    assert!(quarantine_reason(&reports, "trapper").starts_with("trapped: "));
}

#[test]
fn a_strategy_cannot_hold_the_engine_with_instant_timers_or_update_loops() {
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    start(
        &mut engine,
        "test_strategy",
        "rearmer",
        &[("mode", "rearm")],
    );
    start(
        &mut engine,
        "test_strategy",
        "spinner",
        &[("mode", "spin"), ("trigger", "2")],
    );
    start(
        &mut engine,
        "test_strategy",
        "counter",
        &[("mode", "count")],
    );
    feed(&mut engine, 1, 5);
    let reports = engine.reports();
    // The timer re-armed for "now" fires once per pass of the clock, not forever.
    let rearmer = report(&reports, "rearmer");
    assert_eq!(rearmer.state, StrategyState::Running);
    assert!(rearmer.stats.events <= 30, "{:?}", rearmer.stats);
    // Resubmitting on every immediate rejection is a loop: quarantined, not spun on.
    assert_eq!(
        quarantine_reason(&reports, "spinner"),
        "caused more than 10000 order updates in reaction to one event"
    );
    assert_eq!(report(&reports, "counter").stats.events, 5);
}

#[test]
fn a_restarted_strategy_hears_about_the_orders_canceled_while_it_was_away() {
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    let idx = start(
        &mut engine,
        "test_strategy",
        "trapper",
        &[("mode", "rest-then-trap"), ("trigger", "2")],
    );
    feed(&mut engine, 1, 2);
    assert!(matches!(
        engine.state(idx),
        Some(StrategyState::Quarantined { .. })
    ));
    assert!(engine.restart(idx).is_ok());
    assert!(matches!(
        engine.restart(idx),
        Err(pennant_daemon::engine::StartError::NotQuarantined { .. })
    ));
    // Two trades, then on restart the two updates of its resting order it missed while
    // quarantined: accepted, and canceled by the quarantine.
    assert_eq!(report(&engine.reports(), "trapper").stats.events, 2 + 2);
}

#[test]
fn native_builds_of_sdk_strategies_run_behind_the_same_interface() {
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    for (id, mode) in [("native-counter", "count"), ("native-trapper", "trap")] {
        engine
            .start_strategy(StrategySpec {
                id: id.into(),
                code: StrategyCode::native::<test_strategy::TestStrategy>(),
                params: vec![
                    ("instrument".into(), "BTC-USDT".into()),
                    ("mode".into(), mode.into()),
                ],
            })
            .unwrap();
    }
    feed(&mut engine, 1, 5);
    let reports = engine.reports();
    assert_eq!(report(&reports, "native-counter").stats.events, 5);
    assert_eq!(
        quarantine_reason(&reports, "native-trapper"),
        "trapped: panicked: test-strategy: deliberate panic at trade 3"
    );
}

#[test]
fn the_kill_switch_halts_cancels_and_tells_the_strategies() {
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    engine
        .start_strategy(StrategySpec {
            id: "mm".into(),
            code: StrategyCode::native::<market_maker::MarketMaker>(),
            params: [
                ("instrument", "BTC-USDT"),
                ("qty", "0.01"),
                ("max_position", "1"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        })
        .unwrap();
    feed(&mut engine, 1, 2);
    let before = report(&engine.reports(), "mm").stats;
    assert!(
        before.orders >= 2,
        "the market maker quotes both sides: {before:?}"
    );
    let canceled = engine
        .kill_switch(&pennant_daemon::risk::Scope::Global, "ops")
        .unwrap();
    assert_eq!(canceled, 2);
    let after_kill = report(&engine.reports(), "mm").stats;
    assert_eq!(
        after_kill.events,
        before.events + 2,
        "an order update for each cancel"
    );
    assert_eq!(
        engine.risk().global_state(),
        pennant_daemon::risk::TradingState::Halted
    );
    // It keeps trying to quote; every order is refused until an operator releases it.
    feed(&mut engine, 3, 4);
    let halted = report(&engine.reports(), "mm").stats;
    assert_eq!(halted.orders, before.orders);
    assert!(halted.risk_rejects >= 2);
    engine
        .set_trading_state(
            &pennant_daemon::risk::Scope::Global,
            pennant_daemon::risk::TradingState::Active,
            "ops",
        )
        .unwrap();
    feed(&mut engine, 5, 6);
    assert!(report(&engine.reports(), "mm").stats.orders > before.orders);
    let actions: Vec<&str> = engine
        .risk()
        .audit()
        .iter()
        .map(|a| a.action.as_str())
        .collect();
    assert_eq!(actions, vec!["kill_switch", "state"]);
}
