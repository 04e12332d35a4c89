//! The engine with real strategy components: misbehaving strategies are quarantined with
//! their reason while the others trade on, their orders are canceled, and a quarantined
//! strategy can be rebuilt from its last snapshot.

mod support;

use pennant_daemon::config::{OpenOrders, PaperConfig};
use pennant_daemon::engine::{
    Engine, EngineSettings, StrategyCode, StrategyReport, StrategySpec, StrategyState,
};
use pennant_daemon::market::{Instruments, MarketEvent};
use pennant_daemon::plugin::PluginSettings;
use pennant_daemon::venue::PaperVenue;
use pennant_sdk::testing::{instrument, px, qty};
use pennant_sdk::{Quote, Side, Trade};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_700_000_000_000_000_000;

fn engine(cache: &std::path::Path, snapshot_interval: Duration) -> Engine {
    engine_with(cache, snapshot_interval, Default::default())
}

/// As [`engine`], with these risk settings.
fn engine_with(
    cache: &std::path::Path,
    snapshot_interval: Duration,
    risk: pennant_daemon::config::RiskConfig,
) -> Engine {
    Engine::builder(btc(), plugin_settings(cache))
        .risk(risk)
        .settings(settings(snapshot_interval))
        .build()
        .unwrap()
}

fn btc() -> Arc<Instruments> {
    Arc::new(Instruments::new([instrument(
        0, "BTC-USDT", "0.01", "0.001",
    )]))
}

fn plugin_settings(cache: &std::path::Path) -> PluginSettings {
    PluginSettings {
        memory_limit_bytes: 16 * 1024 * 1024,
        call_budget: Duration::from_millis(1_000),
        cache_dir: cache.to_owned(),
        seed: 1,
    }
}

fn settings(snapshot_interval: Duration) -> EngineSettings {
    EngineSettings {
        snapshot_interval,
        summary_interval: Duration::from_secs(3600),
        ..EngineSettings::default()
    }
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
            open_orders: OpenOrders::Cancel,
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
        other => panic!("{id} is not quarantined but {other:?}"),
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
        "exceeded its time budget of 1000 ms per call"
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
    // The circuit breaker off: the update-loop guard is what this test is about (the
    // breaker, which would trip first, has a test of its own).
    let risk = pennant_daemon::config::RiskConfig {
        max_rejections_per_minute: 0,
        ..Default::default()
    };
    let mut engine = engine_with(cache.path(), Duration::from_secs(3600), risk);
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
                open_orders: OpenOrders::Cancel,
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
        .start_strategy(support::native_market_maker(&[
            ("instrument", "BTC-USDT"),
            ("qty", "0.01"),
            ("max_position", "1"),
        ]))
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
    // It keeps trying to quote (backing off after a refusal); every order is refused
    // until an operator releases it.
    feed(&mut engine, 3, 4);
    let halted = report(&engine.reports(), "mm").stats;
    assert_eq!(halted.orders, before.orders);
    assert!(halted.risk_rejects >= 1);
    engine
        .set_trading_state(
            &pennant_daemon::risk::Scope::Global,
            pennant_daemon::risk::TradingState::Active,
            "ops",
        )
        .unwrap();
    // Released, it quotes again once its back-off (100 ms of engine time) has passed.
    feed(&mut engine, 1_000_000, 1_000_001);
    assert!(report(&engine.reports(), "mm").stats.orders > before.orders);
    let actions: Vec<&str> = engine
        .risk()
        .audit()
        .iter()
        .map(|a| pennant_daemon::records::Named::name(a.action))
        .collect();
    assert_eq!(actions, vec!["kill_switch", "state"]);
}

/// Versions of the test strategy (same code, different content hashes), loaded once.
fn versions(engine: &Engine, dir: &std::path::Path, count: usize) -> Vec<StrategyCode> {
    (0..count)
        .map(|n| {
            let path = dir.join(format!("test_strategy_v{n}.wasm"));
            let bytes = support::variant("test_strategy", &format!("v{n}"));
            let component = engine.plugins().load_bytes(&path, &bytes).unwrap();
            StrategyCode::Wasm(Arc::new(component))
        })
        .collect()
}

fn spec(id: &str, code: &StrategyCode, params: &[(&str, &str)]) -> StrategySpec {
    let mut all = vec![("instrument".to_owned(), "BTC-USDT".to_owned())];
    all.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    StrategySpec {
        id: id.to_owned(),
        code: code.clone(),
        params: all,
        open_orders: OpenOrders::Cancel,
    }
}

fn trade(ts: i64, price: &str) -> Trade {
    Trade {
        instrument: 1,
        ts,
        price: px(price),
        qty: qty("1"),
        aggressor: Side::Sell,
    }
}

/// `(trades, digest, order updates)` from a strategy's last snapshot.
fn counted(report: &StrategyReport) -> (u64, u64, u64) {
    test_strategy::decode_state(report.snapshot.as_deref().expect("a snapshot")).unwrap()
}

#[test]
fn swapping_under_load_loses_and_repeats_no_event_and_carries_the_state_over() {
    use pennant_daemon::engine::{Answer, Change, Command, Done, EngineInput};
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    let versions = versions(&engine, cache.path(), 3);
    engine
        .start_strategy(spec("counter", &versions[0], &[]))
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let engine_thread = std::thread::spawn(move || engine.run(rx.into()));

    // As fast as the engine takes them: batches of trades, with a swap to the next
    // version after every few batches, in the same channel.
    const BATCHES: i64 = 200;
    const PER_BATCH: i64 = 250;
    let mut digest = test_strategy::DIGEST_START;
    let mut replies = Vec::new();
    for batch in 0..BATCHES {
        let trades: Vec<MarketEvent> = (0..PER_BATCH)
            .map(|k| {
                let n = batch * PER_BATCH + k;
                let t = trade(T0 + n * 1_000, if n % 2 == 0 { "100" } else { "100.5" });
                digest = test_strategy::fold_trade(digest, &t);
                MarketEvent::Trade(t)
            })
            .collect();
        tx.blocking_send(EngineInput::Market {
            events: trades,
            received: std::time::Instant::now(),
        })
        .unwrap();
        if batch % 20 == 10 {
            let next = spec("counter", &versions[(batch as usize / 20 + 1) % 3], &[]);
            let (reply, outcome) = tokio::sync::oneshot::channel();
            let command = Command::Apply {
                changes: vec![Change::Deploy(next)],
                version_of: None,
            };
            tx.blocking_send(EngineInput::command(command, reply))
                .unwrap();
            replies.push(outcome);
        }
    }
    tx.blocking_send(EngineInput::Shutdown).unwrap();
    let reports = engine_thread.join().unwrap();
    assert_eq!(replies.len(), 10);
    for outcome in replies {
        match outcome.blocking_recv().unwrap() {
            Ok(Answer::Applied { outcomes, .. }) => {
                assert_eq!(outcomes.len(), 1);
                assert_eq!(outcomes[0].result, Ok(Done::Swapped));
            }
            other => panic!("a deploy answered {other:?}"),
        }
    }
    let counter = report(&reports, "counter");
    assert_eq!(counter.state, StrategyState::Running);
    // Ten swaps: the last went to version (9 + 1) % 3 = 1.
    assert_eq!(counter.version.as_deref(), Some(versions[1].version()));
    assert_eq!(counter.stats.events, (BATCHES * PER_BATCH) as u64);
    let (count, seen, _) = counted(counter);
    assert_eq!(count, (BATCHES * PER_BATCH) as u64);
    assert_eq!(seen, digest, "the versions together saw another sequence");
}

#[test]
fn a_bad_new_version_leaves_the_old_one_running_and_the_next_good_one_loads() {
    use pennant_daemon::engine::{Change, Done, VersionOutcome};
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    let versions = versions(&engine, cache.path(), 3);
    engine
        .start_strategy(spec("counter", &versions[0], &[]))
        .unwrap();
    feed(&mut engine, 1, 3);
    for (mode, expected) in [
        ("init-trap", "trapped: wasm trap"),
        ("init-error", "refused its parameters: refusing to start"),
        (
            "bad-restore",
            "refused its parameters: refusing the saved state",
        ),
    ] {
        let err = engine
            .deploy(spec("counter", &versions[1], &[("mode", mode)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{mode}: {err}");
        let reports = engine.reports();
        let counter = report(&reports, "counter");
        assert_eq!(counter.state, StrategyState::Running);
        assert_eq!(counter.version.as_deref(), Some(versions[0].version()));
        assert_eq!(counter.last_error.as_deref(), Some(err.as_str()));
    }
    // A file that does not compile is refused before it reaches the engine; the engine
    // records it.
    let outcomes = engine.apply(vec![Change::Refuse {
        id: "counter".into(),
        version: "0badc0de".into(),
        path: "broken.wasm".into(),
        reason: "not a component".into(),
    }]);
    assert!(outcomes[0]
        .result
        .as_ref()
        .unwrap_err()
        .contains("not a component"));
    // Four failures and the version in use fill the five kept; more failures push out
    // older failures, never the version in use.
    for n in 0..3 {
        engine.apply(vec![Change::Refuse {
            id: "counter".into(),
            version: format!("partial-{n}"),
            path: "counter.wasm".into(),
            reason: "truncated".into(),
        }]);
    }
    let kept = engine.versions("counter").unwrap();
    assert_eq!(kept.len(), 5);
    assert_eq!(kept[0].hash, versions[0].version());
    assert_eq!(kept[0].outcome, VersionOutcome::Current);
    assert_eq!(kept[4].hash, "partial-2");
    feed(&mut engine, 4, 5);
    assert_eq!(
        engine.deploy(spec("counter", &versions[2], &[])).unwrap(),
        Done::Swapped
    );
    feed(&mut engine, 6, 6);
    let history: Vec<(String, VersionOutcome)> = engine
        .versions("counter")
        .unwrap()
        .into_iter()
        .map(|v| (v.hash, v.outcome))
        .collect();
    assert_eq!(
        history.len(),
        5,
        "kept versions are capped at 5: {history:?}"
    );
    assert_eq!(
        history[0],
        (versions[0].version().to_owned(), VersionOutcome::Replaced)
    );
    assert_eq!(history[3].0, "partial-2");
    assert_eq!(
        history[4],
        (versions[2].version().to_owned(), VersionOutcome::Current)
    );
    // The trades before, between and after the failures were all counted, by one
    // unbroken state.
    let reports = engine.shutdown();
    assert_eq!(counted(report(&reports, "counter")).0, 6);
}

#[test]
fn rollback_returns_to_a_kept_version_with_the_state() {
    use pennant_daemon::engine::{StartError, VersionOutcome};
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    let versions = versions(&engine, cache.path(), 2);
    let (v0, v1) = (versions[0].version(), versions[1].version());
    engine
        .start_strategy(spec("counter", &versions[0], &[("tag", "a")]))
        .unwrap();
    assert!(matches!(
        engine.rollback("counter", None, "test"),
        Err(StartError::NoVersion { .. })
    ));
    feed(&mut engine, 1, 2);
    engine
        .deploy(spec("counter", &versions[1], &[("tag", "a")]))
        .unwrap();
    feed(&mut engine, 3, 3);
    assert_eq!(engine.rollback("counter", None, "test").unwrap(), v0);
    feed(&mut engine, 4, 4);
    assert!(matches!(
        engine.rollback("counter", Some("no-such-hash"), "test"),
        Err(StartError::NoVersion { .. })
    ));
    assert!(matches!(
        engine.rollback("nobody", None, "test"),
        Err(StartError::UnknownId(_))
    ));
    assert_eq!(engine.rollback("counter", Some(v1), "test").unwrap(), v1);
    let outcomes: Vec<(String, VersionOutcome)> = engine
        .versions("counter")
        .unwrap()
        .into_iter()
        .map(|v| (v.hash, v.outcome))
        .collect();
    // One entry per version, however often it came back.
    assert_eq!(
        outcomes,
        [
            (v0.to_owned(), VersionOutcome::Replaced),
            (v1.to_owned(), VersionOutcome::Current)
        ]
    );
    feed(&mut engine, 5, 5);
    let reports = engine.shutdown();
    let counter = report(&reports, "counter");
    assert_eq!(counter.version.as_deref(), Some(v1));
    assert_eq!(counted(counter).0, 5);
}

#[test]
fn open_orders_survive_a_swap_and_their_fills_reach_the_new_version() {
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    let versions = versions(&engine, cache.path(), 2);
    let params = [("mode", "rest"), ("trigger", "1"), ("price", "99.5")];
    engine
        .start_strategy(spec("rester", &versions[0], &params))
        .unwrap();
    // The first trade makes it rest a buy at 99.5, below the market.
    feed(&mut engine, 1, 1);
    engine
        .deploy(spec("rester", &versions[1], &params))
        .unwrap();
    let reports = engine.reports();
    let at_swap = counted(report(&reports, "rester"));
    assert_eq!(at_swap.0, 1);
    assert_eq!(report(&reports, "rester").stats.orders, 1);
    // A trade through its price fills it: the new version hears of it, and the position
    // is the strategy's.
    engine.on_market(&MarketEvent::Trade(trade(T0 + 5_000, "99")));
    let reports = engine.shutdown();
    let rester = report(&reports, "rester");
    assert_eq!(rester.stats.fills, 1);
    assert_eq!(rester.positions[0].1.qty, qty("1"));
    let after = counted(rester);
    assert_eq!(after.0, 2);
    assert_eq!(after.2, at_swap.2 + 1, "the fill reached the new version");
}

#[test]
fn a_stopped_strategy_applies_its_open_order_policy_and_starts_again_where_it_was() {
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    let versions = versions(&engine, cache.path(), 1);
    let params = [("mode", "rest"), ("trigger", "1"), ("price", "99.5")];
    engine
        .start_strategy(spec("canceler", &versions[0], &params))
        .unwrap();
    let mut keeper = spec("keeper", &versions[0], &params);
    engine.start_strategy(keeper.clone()).unwrap();
    feed(&mut engine, 1, 1);
    // A change of policy alone, as from a configuration edit.
    keeper.open_orders = OpenOrders::Keep;
    assert_eq!(
        engine
            .reconfigure("keeper", keeper.params.clone(), OpenOrders::Keep)
            .unwrap(),
        pennant_daemon::engine::Done::Reconfigured
    );
    engine.stop("canceler", "test").unwrap();
    engine.stop("keeper", "test").unwrap();
    // Only the keeper's order is still there to be filled.
    engine.on_market(&MarketEvent::Trade(trade(T0 + 5_000, "99")));
    let reports = engine.reports();
    assert_eq!(
        report(&reports, "canceler").state,
        StrategyState::Stopped {
            reason: "test".into()
        }
    );
    assert_eq!(report(&reports, "canceler").stats.fills, 0);
    assert_eq!(report(&reports, "keeper").stats.fills, 1);
    let stopped = counted(report(&reports, "keeper"));
    // Started again, it restores the state it stopped with and hears about the fill.
    engine.deploy(keeper).unwrap();
    let reports = engine.shutdown();
    let keeper = report(&reports, "keeper");
    assert_eq!(keeper.state, StrategyState::Running);
    let now = counted(keeper);
    assert_eq!(now.0, stopped.0);
    assert_eq!(now.2, stopped.2 + 1);
}

#[test]
fn a_failed_start_cancels_the_orders_it_placed_and_a_faulting_snapshot_does_not_block_the_fix() {
    use pennant_daemon::engine::Done;
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    let versions = versions(&engine, cache.path(), 2);
    let order_then_refuse = [
        ("mode", "bad-restore"),
        ("order_in_init", "true"),
        ("price", "99.5"),
    ];
    // A new version that quotes in `init`, then refuses the state: its order goes.
    engine.start_strategy(spec("s", &versions[0], &[])).unwrap();
    feed(&mut engine, 1, 1);
    assert!(engine
        .deploy(spec("s", &versions[1], &order_then_refuse))
        .is_err());
    engine.on_market(&MarketEvent::Trade(trade(T0 + 5_000, "99")));
    let reports = engine.reports();
    let s = report(&reports, "s");
    assert_eq!((s.stats.orders, s.stats.fills), (1, 0), "{:?}", s.stats);
    assert_eq!(s.state, StrategyState::Running);

    // A running version whose snapshot traps: quarantined, and the new version starts
    // from the last snapshot taken (here: at its own start, the count then being 0).
    engine
        .start_strategy(spec("t", &versions[0], &[("mode", "snapshot-trap")]))
        .unwrap();
    feed(&mut engine, 2, 3);
    assert_eq!(
        engine.deploy(spec("t", &versions[1], &[])).unwrap(),
        Done::Started
    );
    feed(&mut engine, 4, 4);
    let reports = engine.shutdown();
    let t = report(&reports, "t");
    assert_eq!(t.state, StrategyState::Running);
    assert_eq!(t.version.as_deref(), Some(versions[1].version()));
    assert_eq!(t.last_error, None);
    assert_eq!(counted(t).0, 1, "one trade since the fresh start");
}

/// A venue that lost its book in a restart and holds an order the engine never gave.
struct ForgetfulVenue(PaperVenue);

impl pennant_daemon::venue::Venue for ForgetfulVenue {
    fn name(&self) -> &str {
        "forgetful"
    }
    fn submit(
        &mut self,
        order: pennant_daemon::venue::VenueOrder,
        now: i64,
        out: &mut Vec<pennant_daemon::venue::ExecutionReport>,
    ) {
        self.0.submit(order, now, out)
    }
    fn cancel(&mut self, id: u64, now: i64, out: &mut Vec<pennant_daemon::venue::ExecutionReport>) {
        self.0.cancel(id, now, out)
    }
    fn on_market(
        &mut self,
        event: &MarketEvent,
        out: &mut Vec<pennant_daemon::venue::ExecutionReport>,
    ) {
        self.0.on_market(event, out)
    }
    fn on_clock(&mut self, now: i64, out: &mut Vec<pennant_daemon::venue::ExecutionReport>) {
        self.0.on_clock(now, out)
    }
    fn restore(&mut self, _: &[(pennant_daemon::venue::VenueOrder, pennant_sdk::Qty)]) {}
    fn snapshot(&mut self) -> Option<pennant_daemon::venue::VenueSnapshot> {
        let mut snapshot = self.0.snapshot()?;
        snapshot.open.push((999, pennant_sdk::Qty::ZERO));
        Some(snapshot)
    }
}

#[test]
fn recovery_restores_positions_and_orders_and_reconciles_with_the_venue() {
    use pennant_daemon::records::PositionSnapshot;
    use pennant_daemon::records::{Recovered, TradingStateRecord};
    let cache = tempfile::tempdir().unwrap();
    let mut engine = Engine::builder(btc(), plugin_settings(cache.path()))
        .venue(Box::new(ForgetfulVenue(PaperVenue::new(
            &PaperConfig::default(),
        ))))
        .risk(pennant_daemon::config::RiskConfig {
            global: pennant_daemon::config::Limits {
                max_daily_loss: Some(pennant_sdk::Amount::from_raw(px("50").raw())),
                ..Default::default()
            },
            ..Default::default()
        })
        .settings(settings(Duration::from_secs(3600)))
        .build()
        .unwrap();
    let summary = engine.recover(Recovered {
        last_seq: 40,
        max_order_id: 5,
        last_order_at: 0,
        open_orders: vec![{
            let (mut order, created) =
                recovered_order("s", 5, pennant_daemon::records::OrderState::Accepted);
            order.price = px("99.5").raw();
            (order, created)
        }],
        positions: vec![PositionSnapshot {
            strategy: "s".into(),
            instrument: "BTC-USDT".into(),
            qty: qty("2").raw(),
            avg_price: px("100").raw(),
            realized_pnl: 0,
            fees: 0,
        }],
        states: vec![],
        trading_states: vec![TradingStateRecord {
            scope: "strategy s".into(),
            state: pennant_daemon::records::TradingState::Halted,
            kill_switch: false,
        }],
        // All strategies together were 100 up when today began.
        day_baselines: vec![(
            T0 - T0.rem_euclid(86_400_000_000_000),
            "global".into(),
            px("100").raw().to_string(),
        )],
        limits: vec![],
        clean_shutdown: false,
    });
    assert_eq!(
        (
            summary.positions,
            summary.open_orders,
            summary.missing_at_venue,
            summary.unknown_at_venue,
            summary.trading_states
        ),
        (1, 1, 1, 1, 1)
    );
    // HALTED before the restart, HALTED after it.
    let idx = engine.index_of("s").unwrap();
    assert_eq!(
        engine.risk().state(idx),
        pennant_daemon::risk::TradingState::Halted
    );
    // Today's loss counts from the recovered baseline, not from the restart: flat now
    // against 100 up at the day's start is a loss of 100, past the global limit of 50.
    feed(&mut engine, 1, 1);
    assert_eq!(
        engine.risk().global_state(),
        pennant_daemon::risk::TradingState::Halted
    );
    // The strategy starts with its position and hears that its order is gone.
    let versions = versions(&engine, cache.path(), 1);
    engine.start_strategy(spec("s", &versions[0], &[])).unwrap();
    let reports = engine.shutdown();
    let s = report(&reports, "s");
    assert_eq!(s.positions[0].1.qty, qty("2"));
    assert_eq!(counted(s).2, 1, "the cancel of order 5 reached it");
}

#[test]
fn a_strategy_retrying_refused_orders_trips_its_breaker_and_the_others_go_on() {
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
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
    assert_eq!(
        quarantine_reason(&reports, "spinner"),
        "had more than 600 orders refused in a minute (max_rejections_per_minute)"
    );
    assert_eq!(report(&reports, "spinner").stats.venue_rejects, 601);
    assert_eq!(report(&reports, "counter").stats.events, 5);
    let audit = engine.risk().audit().last().unwrap().clone();
    assert_eq!(
        (
            audit.actor.as_str(),
            pennant_daemon::records::Named::name(audit.action)
        ),
        ("risk", "breaker")
    );
}

/// An open order of `strategy` as the store gives it back: a buy of 1 BTC-USDT at 90.
fn recovered_order(
    strategy: &str,
    id: u64,
    status: pennant_daemon::records::OrderState,
) -> (pennant_daemon::records::OrderEvent, i64) {
    let event = pennant_daemon::records::OrderEvent {
        strategy: strategy.into(),
        order_id: id,
        client_order_id: 0,
        venue: "paper".into(),
        venue_client_id: String::new(),
        instrument: "BTC-USDT".into(),
        side: pennant_sdk::Side::Buy,
        kind: pennant_sdk::OrderKind::Limit,
        time_in_force: pennant_sdk::TimeInForce::Gtc,
        price: px("90").raw(),
        qty: qty("1").raw(),
        status,
        filled_qty: 0,
        reason: None,
    };
    (event, T0)
}

#[test]
fn a_cancel_asked_for_before_a_restart_is_asked_for_again() {
    use pennant_daemon::records::Recovered;
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    let order = |id, status| recovered_order("s", id, status);
    let summary = engine.recover(Recovered {
        last_seq: 10,
        max_order_id: 8,
        last_order_at: 0,
        open_orders: vec![
            order(7, pennant_daemon::records::OrderState::Accepted),
            order(8, pennant_daemon::records::OrderState::PendingCancel),
        ],
        clean_shutdown: true,
        ..Default::default()
    });
    assert_eq!((summary.open_orders, summary.cancels_resent), (2, 1));
    let view = engine.view();
    let s = view.strategy("s").unwrap();
    assert_eq!(s.open_orders, 1, "order 8 is canceled, order 7 rests");
    assert_eq!(s.report.stats.canceled, 1);
    // The strategy hears of the cancel when it starts.
    let versions = versions(&engine, cache.path(), 1);
    engine
        .start_strategy(spec(
            "s",
            &versions[0],
            &[("mode", "rest"), ("trigger", "1"), ("price", "95")],
        ))
        .unwrap();
    feed(&mut engine, 1, 1);
    let open = engine.view().strategy("s").map(|s| s.open_orders);
    assert_eq!(open, Some(2), "order 7 and the new one");
    let reports = engine.shutdown();
    // Taken before the shutdown's cancels: the resent cancel, the new order's acceptance.
    assert_eq!(counted(report(&reports, "s")).2, 2);
}

#[test]
fn after_a_crash_the_orders_a_strategy_left_are_canceled_at_its_start_unless_it_keeps_them() {
    use pennant_daemon::records::{OrderState, Recovered};
    let order = |strategy, id| recovered_order(strategy, id, OrderState::Accepted);
    // (clean shutdown, policy) -> orders of the strategy still open once it started.
    let check = |clean_shutdown: bool, policy: OpenOrders, open: usize| {
        let cache = tempfile::tempdir().unwrap();
        let mut engine = engine(cache.path(), Duration::from_secs(3600));
        engine.recover(Recovered {
            last_seq: 10,
            max_order_id: 8,
            last_order_at: T0,
            open_orders: vec![order("s", 7), order("s", 8)],
            clean_shutdown,
            ..Default::default()
        });
        assert_eq!(engine.view().strategy("s").unwrap().open_orders, 2);
        let versions = versions(&engine, cache.path(), 1);
        let mut spec = spec("s", &versions[0], &[("mode", "count")]);
        spec.open_orders = policy;
        engine.start_strategy(spec).unwrap();
        let view = engine.view();
        let s = view.strategy("s").unwrap();
        let case = format!("clean shutdown {clean_shutdown}, {policy:?}");
        assert_eq!(s.open_orders, open, "{case}");
        assert_eq!(s.report.stats.canceled, (2 - open) as u64, "{case}");
        // The strategy hears of the cancels once it runs, and starts with no other.
        feed(&mut engine, 1, 1);
        assert_eq!(engine.view().strategy("s").unwrap().open_orders, open);
        let reports = engine.shutdown();
        assert_eq!(
            counted(report(&reports, "s")).2,
            (2 - open) as u64,
            "{case}"
        );
    };
    check(false, OpenOrders::Cancel, 0);
    check(false, OpenOrders::Keep, 2);
    // After a clean shutdown the state is as new as the orders: they are its own.
    check(true, OpenOrders::Cancel, 2);
    check(true, OpenOrders::Keep, 2);
}

#[test]
fn a_paused_strategy_misses_nothing_it_gets_its_updates_and_timers_on_resume() {
    let cache = tempfile::tempdir().unwrap();
    let mut engine = engine(cache.path(), Duration::from_secs(3600));
    start(
        &mut engine,
        "test_strategy",
        "counter",
        &[("mode", "count")],
    );
    let ticker = start(&mut engine, "test_strategy", "ticker", &[("mode", "rearm")]);
    let resting = start(
        &mut engine,
        "test_strategy",
        "resting",
        &[("mode", "rest"), ("trigger", "1")],
    );
    feed(&mut engine, 1, 2);
    let before = engine.reports();
    for id in ["counter", "ticker", "resting"] {
        engine.pause(id, "test").unwrap();
    }
    assert_eq!(engine.state(ticker), Some(&StrategyState::Paused));
    // Its resting order is canceled while it is paused: the update waits for it.
    assert_eq!(
        engine
            .kill_switch(
                &pennant_daemon::risk::Scope::Strategy("resting".into()),
                "test"
            )
            .unwrap(),
        1
    );
    feed(&mut engine, 3, 10);
    let paused = engine.reports();
    for id in ["counter", "ticker", "resting"] {
        assert_eq!(
            report(&paused, id).stats.events,
            report(&before, id).stats.events,
            "{id} received nothing while paused"
        );
    }
    engine.resume("counter", "test").unwrap();
    engine.resume("ticker", "test").unwrap();
    engine.resume("resting", "test").unwrap();
    let resumed = engine.reports();
    assert_eq!(
        report(&resumed, "resting").stats.events,
        report(&before, "resting").stats.events + 1,
        "the cancel of its order, delivered on resume"
    );
    assert_eq!(
        report(&resumed, "ticker").stats.events,
        report(&before, "ticker").stats.events + 1,
        "the timer that fell due, fired once on resume"
    );
    feed(&mut engine, 11, 12);
    let after = engine.reports();
    assert_eq!(
        report(&after, "counter").stats.events,
        report(&before, "counter").stats.events + 2,
        "the two trades after resume, none of the eight while paused"
    );
    assert!(report(&after, "ticker").stats.events > report(&resumed, "ticker").stats.events);
    // Only a strategy with an instance can be paused.
    assert!(engine.pause("nobody", "test").is_err());
    assert_eq!(engine.state(resting), Some(&StrategyState::Running));
}

/// A journal whose batches the test reads back.
fn journal() -> (
    pennant_daemon::engine::journal::Journal,
    tokio::sync::mpsc::Receiver<Vec<pennant_daemon::records::Record>>,
) {
    let (records, written) = tokio::sync::mpsc::channel(100_000);
    let sink = pennant_daemon::engine::journal::JournalSink {
        records,
        stats: Default::default(),
    };
    (
        pennant_daemon::engine::journal::Journal::new(sink, 0),
        written,
    )
}

/// What the journal has handed over so far.
fn written(
    rx: &mut tokio::sync::mpsc::Receiver<Vec<pennant_daemon::records::Record>>,
) -> Vec<pennant_daemon::records::Body> {
    let mut bodies = Vec::new();
    while let Ok(batch) = rx.try_recv() {
        bodies.extend(batch.into_iter().map(|r| r.body));
    }
    bodies
}

/// An exchange-like venue: it takes commands and answers nothing at once (as an adapter
/// in a tokio task would); the test answers for it, later, as engine inputs.
struct LaterVenue(Arc<std::sync::Mutex<Vec<String>>>);

impl pennant_daemon::venue::Venue for LaterVenue {
    fn name(&self) -> &str {
        "later"
    }
    fn submit(
        &mut self,
        order: pennant_daemon::venue::VenueOrder,
        _: i64,
        _: &mut Vec<pennant_daemon::venue::ExecutionReport>,
    ) {
        let line = format!("submit {} {}", order.id, order.client_id);
        self.0.lock().unwrap().push(line);
    }
    fn cancel(&mut self, id: u64, _: i64, _: &mut Vec<pennant_daemon::venue::ExecutionReport>) {
        self.0.lock().unwrap().push(format!("cancel {id}"));
    }
    fn snapshot(&mut self) -> Option<pennant_daemon::venue::VenueSnapshot> {
        self.0.lock().unwrap().push("snapshot".into());
        None
    }
    fn find_unrecorded(&mut self, end: pennant_daemon::venue::RecordEnd) {
        let line = format!("find unrecorded after {} at {}", end.last_id, end.at);
        self.0.lock().unwrap().push(line);
    }
    fn adopted(&mut self, order: &pennant_daemon::venue::VenueOrder) {
        let line = format!("adopted {} {}", order.id, order.client_id);
        self.0.lock().unwrap().push(line);
    }
}

/// A snapshot read before the venue was sent an order (it waited in the adapter's
/// queue) does not close that order: only orders up to the snapshot's `sent_up_to` are
/// judged by it.
#[test]
fn a_snapshot_judges_only_the_orders_the_venue_had_been_sent() {
    use pennant_daemon::engine::EngineInput;
    use pennant_daemon::venue::{VenueEvent, VenueSnapshot};
    let cache = tempfile::tempdir().unwrap();
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut engine = Engine::builder(btc(), plugin_settings(cache.path()))
        .venue(Box::new(LaterVenue(sent.clone())))
        .settings(settings(Duration::from_secs(3600)))
        .build()
        .unwrap();
    engine
        .start_strategy(support::native_market_maker(&[
            ("instrument", "BTC-USDT"),
            ("qty", "0.01"),
            ("max_position", "1"),
        ]))
        .unwrap();
    engine.on_market(&MarketEvent::Quote(Quote {
        instrument: 1,
        ts: T0,
        bid_price: px("99.99"),
        bid_qty: qty("5"),
        ask_price: px("100.01"),
        ask_qty: qty("5"),
    }));
    let open = |engine: &mut Engine| {
        let pennant_daemon::engine::QueryAnswer::OpenOrders(open) =
            engine.query(&pennant_daemon::engine::Query::OpenOrders { strategy: None })
        else {
            panic!("asked for open orders")
        };
        open.iter().map(|(o, _)| o.order_id).collect::<Vec<_>>()
    };
    assert_eq!(open(&mut engine), [1, 2]);
    let empty = |sent_up_to| EngineInput::Venue {
        venue: 0,
        event: VenueEvent::Snapshot(VenueSnapshot {
            sent_up_to,
            ..VenueSnapshot::default()
        }),
    };
    // Read when the venue had been sent order 1 only: order 1 is gone, order 2 is not
    // judged.
    engine.step(empty(Some(1)));
    assert_eq!(open(&mut engine), [2]);
    // Read once it had both (or at once, by a simulator): order 2 is gone too.
    engine.step(empty(None));
    assert_eq!(open(&mut engine), Vec::<u64>::new());
}

/// Orders of this daemon a venue has that the store never recorded (the daemon died
/// between sending and recording them): looked for only after a crash, adopted under
/// `unattributed` with their fills booked, audited, and canceled if still working.
#[test]
fn orders_the_store_never_recorded_are_adopted_with_their_fills_after_a_crash() {
    use pennant_daemon::engine::EngineInput;
    use pennant_daemon::records::{Body, OrderState, Recovered, RiskKind};
    use pennant_daemon::venue::{ExecutionReport as R, UnrecordedOrder, VenueEvent};
    use pennant_sdk::OrderRequest;
    let recovered = |clean_shutdown| Recovered {
        last_seq: 30,
        max_order_id: 7,
        last_order_at: T0,
        clean_shutdown,
        ..Recovered::default()
    };
    let start = |recovered: Recovered| {
        let cache = tempfile::tempdir().unwrap();
        let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (journal, records) = journal();
        let mut engine = Engine::builder(btc(), plugin_settings(cache.path()))
            .journal(journal)
            .venue(Box::new(LaterVenue(sent.clone())))
            .client_ids(pennant_daemon::venue::ClientOrderIds::new("desk").unwrap())
            .settings(settings(Duration::from_secs(3600)))
            .build()
            .unwrap();
        engine.recover(recovered);
        (engine, sent, records, cache)
    };
    // After a clean shutdown every order given was recorded: nothing is looked for.
    let (_, sent, _, _) = start(recovered(true));
    assert_eq!(*sent.lock().unwrap(), ["snapshot"]);

    let (mut engine, sent, mut records, _cache) = start(recovered(false));
    assert_eq!(
        *sent.lock().unwrap(),
        [
            format!("find unrecorded after 7 at {T0}"),
            "snapshot".into()
        ]
    );
    let fill = |id, price: &str, q: &str, ts| R::Fill {
        id,
        price: px(price),
        qty: qty(q),
        fee: pennant_sdk::Amount::ZERO,
        liquidity: pennant_sdk::Liquidity::Taker,
        ts,
    };
    let found = vec![
        // A bid resting at the venue, partly filled.
        UnrecordedOrder {
            id: 8,
            request: OrderRequest::limit(1, Side::Buy, px("100"), qty("0.01")),
            created: T0 + 1,
            reports: vec![
                R::Accepted { id: 8, ts: T0 + 1 },
                fill(8, "100", "0.004", T0 + 2),
            ],
        },
        // A market sell, filled in full.
        UnrecordedOrder {
            id: 9,
            request: OrderRequest::market(1, Side::Sell, qty("0.001")),
            created: T0 + 3,
            reports: vec![
                R::Accepted { id: 9, ts: T0 + 3 },
                fill(9, "101", "0.001", T0 + 3),
            ],
        },
    ];
    let unrecorded = |orders: Vec<UnrecordedOrder>| EngineInput::Venue {
        venue: 0,
        event: VenueEvent::Unrecorded(orders),
    };
    engine.step(unrecorded(found.clone()));
    let log = sent.lock().unwrap().clone();
    assert_eq!(
        log[2..],
        ["adopted 8 desk-8", "cancel 8", "adopted 9 desk-9"],
        "the working one is canceled, the filled one not"
    );
    let reports = engine.reports();
    let owner = report(&reports, "unattributed");
    assert_eq!(owner.stats.fills, 2);
    assert_eq!(owner.positions[0].1.qty, qty("0.003"));
    // Told again (a second look): nothing is booked twice.
    engine.step(unrecorded(found));
    assert_eq!(report(&engine.reports(), "unattributed").stats.fills, 2);
    assert_eq!(sent.lock().unwrap().len(), log.len());

    let bodies = written(&mut records);
    let orders: Vec<_> = bodies
        .iter()
        .filter_map(|b| match b {
            Body::Order(o) => Some((o.order_id, o.strategy.as_str(), o.status)),
            _ => None,
        })
        .collect();
    assert_eq!(
        orders,
        [
            (8, "unattributed", OrderState::Submitted),
            (8, "unattributed", OrderState::Accepted),
            (8, "unattributed", OrderState::PartiallyFilled),
            (8, "unattributed", OrderState::PendingCancel),
            (9, "unattributed", OrderState::Submitted),
            (9, "unattributed", OrderState::Accepted),
            (9, "unattributed", OrderState::Filled),
        ]
    );
    let fills = bodies
        .iter()
        .filter(|b| matches!(b, Body::Fill(f) if f.strategy == "unattributed"))
        .count();
    assert_eq!(fills, 2);
    let audited: Vec<_> = bodies
        .iter()
        .filter_map(|b| match b {
            Body::Risk(r) if r.kind == RiskKind::Reconciled => {
                Some((r.actor.clone().unwrap_or_default(), r.detail.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert_eq!(audited[0].0, "venue later");
    assert!(
        audited[0].1.contains("order 8 (desk-8") && audited[0].1.ends_with("and canceled"),
        "{audited:?}"
    );
    assert!(!audited[1].1.ends_with("and canceled"), "{audited:?}");
}

#[test]
fn a_venue_that_answers_later_is_booked_from_its_inputs_and_reconciled_from_its_snapshot() {
    use pennant_daemon::engine::EngineInput;
    use pennant_daemon::venue::{ExecutionReport as R, VenueEvent, VenueSnapshot};
    let cache = tempfile::tempdir().unwrap();
    let instruments = Arc::new(Instruments::new([
        instrument(0, "BTC-USDT", "0.01", "0.001"),
        instrument(0, "ETH-USDT", "0.01", "0.001"),
    ]));
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (journal, mut records) = journal();
    // BTC-USDT on the paper venue, ETH-USDT on the one that answers later.
    let mut engine = Engine::builder(instruments, plugin_settings(cache.path()))
        .journal(journal)
        .venues(
            vec![
                Box::new(PaperVenue::new(&PaperConfig::default())),
                Box::new(LaterVenue(sent.clone())),
            ],
            vec![0, 1],
        )
        .client_ids(pennant_daemon::venue::ClientOrderIds::new("desk").unwrap())
        .settings(settings(Duration::from_secs(3600)))
        .build()
        .unwrap();
    engine
        .start_strategy(support::native_market_maker(&[
            ("instrument", "ETH-USDT"),
            ("qty", "0.01"),
            ("max_position", "1"),
        ]))
        .unwrap();
    let quote = |ts: i64| {
        MarketEvent::Quote(Quote {
            instrument: 2,
            ts,
            bid_price: px("99.99"),
            bid_qty: qty("5"),
            ask_price: px("100.01"),
            ask_qty: qty("5"),
        })
    };
    let log = || sent.lock().unwrap().clone();
    let stats = |engine: &mut Engine| report(&engine.reports(), "mm").stats;
    let venue = |reports: Vec<R>| EngineInput::Venue {
        venue: 1,
        event: VenueEvent::Reports(reports),
    };
    engine.on_market(&quote(T0));
    // Both quotes went to the ETH venue with this daemon's client order ids; nothing came
    // back yet.
    assert_eq!(log(), ["submit 1 desk-1", "submit 2 desk-2"]);
    assert_eq!(stats(&mut engine).orders, 2);
    assert_eq!(engine.order_states(), (0, 0));

    // Later: one accepted, one without an answer (its status is unknown, it stays open).
    assert!(engine.step(venue(vec![
        R::Accepted { id: 1, ts: T0 + 1 },
        R::Unknown { id: 2, ts: T0 + 1 },
    ])));
    assert_eq!(engine.order_states(), (0, 1));
    // Asked now, the engine tells each working order's state exactly.
    let pennant_daemon::engine::QueryAnswer::OpenOrders(open) =
        engine.query(&pennant_daemon::engine::Query::OpenOrders { strategy: None })
    else {
        panic!("asked for open orders")
    };
    let open: Vec<_> = open
        .iter()
        .map(|(o, _)| (o.order_id, o.status, o.venue_client_id.as_str()))
        .collect();
    use pennant_daemon::records::OrderState as S;
    assert_eq!(
        open,
        [(1, S::Accepted, "desk-1"), (2, S::Unknown, "desk-2")]
    );
    let pennant_daemon::engine::QueryAnswer::OpenOrders(none) =
        engine.query(&pennant_daemon::engine::Query::OpenOrders {
            strategy: Some("nobody".into()),
        })
    else {
        panic!("asked for open orders")
    };
    assert!(none.is_empty());
    let fill = R::Fill {
        id: 1,
        price: px("99.99"),
        qty: qty("0.01"),
        fee: pennant_sdk::Amount::ZERO,
        liquidity: pennant_sdk::Liquidity::Maker,
        ts: T0 + 2,
    };
    engine.step(venue(vec![fill]));
    // The same fill again (a stream and a REST answer both told it): counted once.
    engine.step(venue(vec![fill]));
    let after_fill = stats(&mut engine);
    assert_eq!(after_fill.fills, 1);
    let position = report(&engine.reports(), "mm").positions[0].1;
    assert_eq!(position.qty.abs(), qty("0.01"));

    // The kill switch cancels the unknown order once; asking again sends nothing more.
    engine
        .kill_switch(&pennant_daemon::risk::Scope::Global, "ops")
        .unwrap();
    engine
        .kill_switch(&pennant_daemon::risk::Scope::Global, "ops")
        .unwrap();
    assert_eq!(log().iter().filter(|l| *l == "cancel 2").count(), 1);
    assert_eq!(engine.order_states(), (1, 1));
    // A part of it fills while the cancel is out: the cancel is still pending.
    let partial = R::Fill {
        id: 2,
        price: px("100.01"),
        qty: qty("0.004"),
        fee: pennant_sdk::Amount::ZERO,
        liquidity: pennant_sdk::Liquidity::Maker,
        ts: T0 + 3,
    };
    engine.step(venue(vec![partial]));
    assert_eq!(engine.order_states(), (1, 0));
    engine.step(venue(vec![R::CancelRejected { id: 2, ts: T0 + 3 }]));
    assert_eq!(engine.order_states(), (0, 0));
    engine.step(venue(vec![R::Canceled { id: 2, ts: T0 + 4 }]));
    assert_eq!(engine.order_states(), (0, 0));
    assert_eq!(stats(&mut engine).canceled, after_fill.canceled + 1);

    // The records carry the venue, the venue's id of the order and each state it went
    // through, typed; the fill names its venue too.
    let bodies = written(&mut records);
    use pennant_daemon::records::{Body, OrderState};
    let states: Vec<OrderState> = bodies
        .iter()
        .filter_map(|b| match b {
            Body::Order(o) if o.order_id == 2 => {
                assert_eq!(
                    (o.venue.as_str(), o.venue_client_id.as_str()),
                    ("later", "desk-2")
                );
                Some(o.status)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            OrderState::Submitted,
            OrderState::Unknown,
            OrderState::PendingCancel,
            // The partial fill, recorded while the cancel was pending.
            OrderState::PendingCancel,
            OrderState::Canceled
        ]
    );
    let fills: Vec<_> = bodies
        .iter()
        .filter_map(|b| match b {
            Body::Fill(f) => Some((f.order_id, f.venue.as_str(), f.side)),
            _ => None,
        })
        .collect();
    assert_eq!(
        fills,
        [
            (1, "later", pennant_sdk::Side::Buy),
            (2, "later", pennant_sdk::Side::Sell)
        ]
    );

    // After a reconnect the venue's account comes as a snapshot: an order of this daemon
    // the engine does not know is canceled there, other clients' are left alone, and
    // ids continue past the venue's.
    engine.step(EngineInput::Venue {
        venue: 1,
        event: VenueEvent::Snapshot(VenueSnapshot {
            open: vec![(40, qty("0"))],
            others: 2,
            balances: Vec::new(),
            sent_up_to: None,
        }),
    });
    assert_eq!(log().last().map(String::as_str), Some("cancel 40"));
    engine
        .set_trading_state(
            &pennant_daemon::risk::Scope::Global,
            pennant_daemon::risk::TradingState::Active,
            "ops",
        )
        .unwrap();
    engine.on_market(&quote(T0 + 1_000_000_000));
    assert!(
        log().iter().any(|l| l == "submit 41 desk-41"),
        "{:?}",
        log()
    );
}

/// A strategy author's unit test (the SDK's `Harness`) and the daemon (the engine with
/// its paper venue) fill the same strategy's orders the same way: same prices, sizes,
/// liquidity and fees, in the same order, over a market that rests, takes, partly fills
/// and requotes: with quotes only (the top-of-book model), and with an L2 book beside
/// them (the depth model: walks and queues).
#[test]
fn a_strategys_unit_tests_see_the_fills_the_daemon_gives_it() {
    let quotes_only = walk(false);
    let with_book = walk(true);
    assert!(with_book.iter().any(|e| matches!(e, MarketEvent::Book(_))));
    let top = fills_in_harness_and_daemon(&quotes_only);
    let depth = fills_in_harness_and_daemon(&with_book);
    assert_ne!(top, depth, "the book changes the fills");
}

/// A walk of quotes, with trades printing either side of the mid; with `book`, each
/// quote is preceded by the book's change to two levels a side around it.
fn walk(book: bool) -> Vec<MarketEvent> {
    use pennant_sdk::testing::START_TIME;
    use pennant_sdk::{Price, Qty};
    use std::collections::BTreeMap;
    let mut seed: u64 = 7;
    let mut next = move |n: i64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as i64) % n
    };
    let mut mid = px("100");
    let mut events = Vec::new();
    // (0 bid / 1 ask, price) -> size
    let mut levels: BTreeMap<(u8, Price), Qty> = BTreeMap::new();
    for i in 0..600 {
        let ts = START_TIME + 1_000_000_000 + i * 50_000_000;
        mid += Price::from_raw((next(5) - 2) * 1_000_000);
        if next(3) == 0 {
            let away = Price::from_raw((next(7) - 3) * 1_000_000);
            events.push(MarketEvent::Trade(Trade {
                instrument: 1,
                ts,
                price: mid + away,
                qty: qty("0.004"),
                aggressor: if away.is_negative() {
                    Side::Sell
                } else {
                    Side::Buy
                },
            }));
            continue;
        }
        let quote = MarketEvent::Quote(Quote {
            instrument: 1,
            ts,
            bid_price: mid - px("0.01"),
            bid_qty: qty("0.03"),
            ask_price: mid + px("0.01"),
            ask_qty: qty("0.03"),
        });
        if book {
            let wanted: BTreeMap<(u8, Price), Qty> = [
                ((0, mid - px("0.01")), qty("0.03")),
                ((0, mid - px("0.02")), qty("0.05")),
                ((1, mid + px("0.01")), qty("0.03")),
                ((1, mid + px("0.02")), qty("0.05")),
            ]
            .into();
            ladder_change(&mut levels, wanted, 1, ts, i as u64, &mut events);
        }
        // After the book, as a venue's streams would show it: the matcher has seen the
        // market the strategy reacts to.
        events.push(quote);
    }
    events
}

/// A ladder of levels, (0 bid / 1 ask, price) -> size.
type Ladder = std::collections::BTreeMap<(u8, pennant_sdk::Price), pennant_sdk::Qty>;

/// The book levels that take instrument `instrument`'s book from `levels` to `wanted`
/// (a snapshot the first time), as one venue message; `levels` becomes `wanted`.
fn ladder_change(
    levels: &mut Ladder,
    wanted: Ladder,
    instrument: u32,
    ts: i64,
    seq: u64,
    events: &mut Vec<MarketEvent>,
) {
    use pennant_sdk::{BookFlags, BookLevel, Qty};
    let mut changes: Vec<((u8, pennant_sdk::Price), Qty)> = levels
        .keys()
        .filter(|k| !wanted.contains_key(k))
        .map(|&k| (k, Qty::ZERO))
        .collect();
    changes.extend(
        wanted
            .iter()
            .filter(|(k, q)| levels.get(k) != Some(q))
            .map(|(&k, &q)| (k, q)),
    );
    if changes.is_empty() {
        // Nothing moved: the venue repeats its best bid.
        if let Some((&k, &q)) = wanted.iter().rfind(|((side, _), _)| *side == 0) {
            changes.push((k, q));
        }
    }
    let (reset, n) = (levels.is_empty(), changes.len());
    for (j, ((side, price), size)) in changes.into_iter().enumerate() {
        let mut flags = BookFlags::NONE;
        if reset && j == 0 {
            flags = flags.with(BookFlags::RESET);
        }
        if j + 1 == n {
            flags = flags.with(BookFlags::LAST);
        }
        events.push(MarketEvent::Book(BookLevel {
            instrument,
            ts,
            seq,
            side: if side == 0 { Side::Buy } else { Side::Sell },
            price,
            qty: size,
            flags,
        }));
    }
    *levels = wanted;
}

type FillRow = (
    Side,
    pennant_sdk::Price,
    pennant_sdk::Qty,
    pennant_sdk::Liquidity,
    pennant_sdk::Amount,
);

/// The market maker's fills over `events`, in the harness and in the daemon: checked
/// the same, and varied enough to exercise the model.
fn fills_in_harness_and_daemon(events: &[MarketEvent]) -> Vec<FillRow> {
    use pennant_daemon::engine::EngineInput;
    use pennant_daemon::records::Body;
    use pennant_sdk::matching::MatchingSettings;
    use pennant_sdk::testing::{amount, Harness};
    let params = [
        ("instrument", "BTC-USDT"),
        ("qty", "0.01"),
        ("max_position", "0.05"),
        ("half_spread_bps", "2"),
    ];
    let (maker, taker) = (amount("-1"), amount("5"));

    let mut h = Harness::<market_maker::MarketMaker>::new()
        .with_instrument("BTC-USDT", "0.01", "0.001")
        .with_venue(MatchingSettings {
            maker_fee_bps: maker,
            taker_fee_bps: taker,
            latency: 0,
        });
    h.init(&params).unwrap();
    for event in events {
        h.advance_to(event.ts());
        match event {
            MarketEvent::Quote(q) => {
                h.quote("BTC-USDT", q.bid_price, q.bid_qty, q.ask_price, q.ask_qty)
            }
            MarketEvent::Trade(t) => h.trade("BTC-USDT", t.price, t.qty, t.aggressor),
            MarketEvent::Book(l) => h.book("BTC-USDT", l.seq, l.side, l.price, l.qty, l.flags),
        }
    }
    let in_unit_tests: Vec<FillRow> = h
        .host
        .updates
        .iter()
        .filter(|u| u.fill_qty.is_positive())
        .map(|u| (u.side, u.fill_price, u.fill_qty, u.liquidity, u.fee))
        .collect();

    let cache = tempfile::tempdir().unwrap();
    let (journal, mut records) = journal();
    let mut engine = Engine::builder(btc(), plugin_settings(cache.path()))
        .venue(Box::new(PaperVenue::new(&PaperConfig {
            maker_fee_bps: maker,
            taker_fee_bps: taker,
            latency_ms: 0,
        })))
        .journal(journal)
        .settings(settings(Duration::from_secs(3600)))
        .build()
        .unwrap();
    engine
        .start_strategy(support::native_market_maker(&params))
        .unwrap();
    for event in events {
        engine.step(EngineInput::Market {
            events: vec![*event],
            received: std::time::Instant::now(),
        });
    }
    let bodies = written(&mut records);
    let risk_rejects: Vec<_> = bodies
        .iter()
        .filter(|b| matches!(b, Body::Risk(r) if r.reason.is_some()))
        .collect();
    assert!(
        risk_rejects.is_empty(),
        "the harness has no risk checks: {risk_rejects:?}"
    );
    let in_the_daemon: Vec<FillRow> = bodies
        .into_iter()
        .filter_map(|body| match body {
            Body::Fill(f) => Some((
                f.side,
                pennant_sdk::Price::from_raw(f.price),
                pennant_sdk::Qty::from_raw(f.qty),
                f.liquidity,
                pennant_sdk::Amount::from_raw(f.fee),
            )),
            _ => None,
        })
        .collect();
    let partial = in_unit_tests.iter().filter(|f| f.2 < qty("0.01")).count();
    let both_sides = [Side::Buy, Side::Sell]
        .iter()
        .all(|side| in_unit_tests.iter().any(|f| f.0 == *side));
    assert!(
        in_unit_tests.len() >= 10 && partial > 0 && both_sides,
        "the walk exercises the model: {in_unit_tests:?}"
    );
    let book = events.iter().any(|e| matches!(e, MarketEvent::Book(_)));
    assert_eq!(in_unit_tests, in_the_daemon, "with a book: {book}");
    in_unit_tests
}

/// A book the feed leaves crossed, and levels the book refuses, reach `/metrics` by
/// instrument: counted, and the crossed state shown until a message repairs it.
#[test]
fn an_order_books_troubles_are_counted_in_the_metrics() {
    use pennant_daemon::engine::view::Publisher;
    use pennant_sdk::{BookFlags, BookLevel};
    let cache = tempfile::tempdir().unwrap();
    let (journal, _records) = journal();
    let mut engine = Engine::builder(btc(), plugin_settings(cache.path()))
        .journal(journal)
        .settings(settings(Duration::from_secs(3600)))
        .build()
        .unwrap();
    let level = |seq: u64, side: Side, price: &str, size: &str, flags: BookFlags| {
        MarketEvent::Book(BookLevel {
            instrument: 1,
            ts: 1_700_000_000_000_000_000 + seq as i64,
            seq,
            side,
            price: px(price),
            qty: qty(size),
            flags,
        })
    };
    let last = BookFlags::LAST;
    for event in [
        level(1, Side::Buy, "99", "1", last), // before a snapshot
        level(2, Side::Buy, "99", "1", BookFlags::RESET),
        level(2, Side::Sell, "101", "1", last),
        level(1, Side::Buy, "98", "1", last),  // stale
        level(3, Side::Buy, "102", "1", last), // crossed
    ] {
        engine.on_market(&event);
    }
    let render = |engine: &Engine| {
        let metrics = pennant_daemon::metrics::Metrics::new().unwrap();
        let (_publisher, view) = Publisher::new(Arc::new(engine.view()));
        metrics.watch_engine(view, None).unwrap();
        metrics.render()
    };
    let text = render(&engine);
    for line in [
        r#"pennant_book_levels_refused_total{instrument="BTC-USDT",reason="not_synced"} 1"#,
        r#"pennant_book_levels_refused_total{instrument="BTC-USDT",reason="stale"} 1"#,
        r#"pennant_book_crossed_total{instrument="BTC-USDT"} 1"#,
        r#"pennant_book_is_crossed{instrument="BTC-USDT"} 1"#,
    ] {
        assert!(text.contains(line), "no {line} in\n{text}");
    }
    engine.on_market(&level(4, Side::Buy, "102", "0", last));
    let text = render(&engine);
    assert!(
        text.contains(r#"pennant_book_is_crossed{instrument="BTC-USDT"} 0"#),
        "{text}"
    );
}

/// A component of contract 0.3 subscribed to the book gets every level, and `book-top`
/// answers with the book as of the level it handles: at the end of each venue message,
/// the top two levels it reads are those of a book the test builds from the same levels,
/// and the native build of the same strategy reads the same.
#[test]
fn a_component_gets_the_book_level_by_level_and_reads_its_top() {
    use pennant_daemon::engine::EngineInput;
    use pennant_daemon::records::Body;
    use pennant_sdk::book::OrderBook;
    use pennant_sdk::BookFlags;
    let events = walk(true);
    let mut book = OrderBook::new();
    let mut levels = 0;
    let mut expected = Vec::new();
    for event in &events {
        if let MarketEvent::Book(level) = event {
            levels += 1;
            book.apply(level).unwrap();
            if level.flags.contains(BookFlags::LAST) {
                expected.push(test_strategy::book_note(levels, book.top(1, 2).as_ref()));
            }
        }
    }
    assert!(expected.len() > 100, "{}", expected.len());
    assert!(expected[0].contains(" | "), "{}", expected[0]);

    let notes = |code: Option<&str>| {
        let cache = tempfile::tempdir().unwrap();
        let (journal, mut records) = journal();
        let mut engine = Engine::builder(btc(), plugin_settings(cache.path()))
            .journal(journal)
            .settings(settings(Duration::from_secs(3600)))
            .build()
            .unwrap();
        match code {
            Some(component) => {
                start(&mut engine, component, "book", &[("mode", "book")]);
            }
            None => {
                engine
                    .start_strategy(StrategySpec {
                        id: "book".into(),
                        code: StrategyCode::native::<test_strategy::TestStrategy>(),
                        params: vec![
                            ("instrument".into(), "BTC-USDT".into()),
                            ("mode".into(), "book".into()),
                        ],
                        open_orders: OpenOrders::Cancel,
                    })
                    .unwrap();
            }
        }
        engine.step(EngineInput::Market {
            events: events.clone(),
            received: std::time::Instant::now(),
        });
        written(&mut records)
            .into_iter()
            .filter_map(|body| match body {
                Body::Signal(s) => Some(s.note),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(notes(Some("test_strategy")), expected, "the component");
    assert_eq!(notes(None), expected, "the native build");
}

/// Market windows are only an optimisation: a backtest with several strategies (two
/// market makers that take batches, a bar strategy and a native market maker on a third
/// instrument, a test strategy that trades and folds every clock and position it reads
/// into its state on a fourth), global risk limits that refuse orders, timers, snapshots, the daily-loss
/// watch and venue latency, makes the same orders, updates and fills, in the same order,
/// with windows as with one event per call.
#[test]
fn market_windows_change_nothing_a_backtest_does() {
    let cache = tempfile::tempdir().unwrap();
    let run = |windows: bool| {
        let instruments = Arc::new(Instruments::new([
            instrument(0, "BTC-USDT", "0.01", "0.001"),
            instrument(0, "ETH-USDT", "0.01", "0.001"),
            instrument(0, "SOL-USDT", "0.01", "0.001"),
            instrument(0, "DOGE-USDT", "0.01", "1"),
        ]));
        let mut risk = pennant_daemon::config::RiskConfig::default();
        risk.global.max_open_orders = Some(5);
        risk.global.max_daily_loss = pennant_sdk::Amount::from_int(1_000_000);
        let mut engine = Engine::builder(instruments, plugin_settings(cache.path()))
            .venue(Box::new(PaperVenue::new(&PaperConfig {
                maker_fee_bps: pennant_sdk::Amount::ZERO,
                taker_fee_bps: pennant_sdk::Amount::ZERO,
                latency_ms: 1,
            })))
            .risk(risk)
            .settings(EngineSettings {
                market_windows: windows,
                ..settings(Duration::from_secs(2))
            })
            .build()
            .unwrap();
        engine.keep_outcome();
        let market_maker = Arc::new(
            engine
                .plugins()
                .load(&support::component("market_maker"))
                .unwrap(),
        );
        let sma = Arc::new(
            engine
                .plugins()
                .load(&support::component("sma_cross"))
                .unwrap(),
        );
        let mirror = Arc::new(
            engine
                .plugins()
                .load(&support::component("test_strategy"))
                .unwrap(),
        );
        let spec = |id: &str, code: StrategyCode, params: &[(&str, &str)]| StrategySpec {
            id: id.to_owned(),
            code,
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            open_orders: OpenOrders::Cancel,
        };
        let mm = |symbol| {
            [
                ("instrument", symbol),
                ("qty", "0.01"),
                ("max_position", "0.05"),
                ("requote_ticks", "1"),
            ]
        };
        for (id, code, params) in [
            (
                "mm-btc",
                StrategyCode::Wasm(market_maker.clone()),
                mm("BTC-USDT").to_vec(),
            ),
            (
                "mm-eth",
                StrategyCode::Wasm(market_maker),
                mm("ETH-USDT").to_vec(),
            ),
            (
                "mm-sol",
                StrategyCode::native::<market_maker::MarketMaker>(),
                mm("SOL-USDT").to_vec(),
            ),
            (
                "mirror-doge",
                StrategyCode::Wasm(mirror),
                vec![
                    ("instrument", "DOGE-USDT"),
                    ("mode", "mirror"),
                    ("trigger", "40"),
                    ("qty", "1"),
                ],
            ),
            (
                "sma-sol",
                StrategyCode::Wasm(sma),
                vec![
                    ("instrument", "SOL-USDT"),
                    ("qty", "0.01"),
                    ("fast", "2"),
                    ("slow", "4"),
                    ("bar_interval_ms", "200"),
                ],
            ),
        ] {
            engine.start_strategy(spec(id, code, &params)).unwrap();
        }
        for batch in window_tape(30_000).chunks(256) {
            engine.on_market_batch(batch);
        }
        let outcome = engine.outcome().unwrap();
        (outcome, engine.shutdown())
    };
    let (windowed, windowed_reports) = run(true);
    let (one_by_one, one_by_one_reports) = run(false);
    assert!(
        windowed.fills > 20,
        "the tape must fill orders: {windowed:?}"
    );
    let refused: u64 = one_by_one_reports
        .iter()
        .map(|r| r.stats.risk_rejects)
        .sum();
    assert!(refused > 0, "the global limits must refuse some orders");
    assert_eq!(windowed, one_by_one);
    for (a, b) in windowed_reports.iter().zip(&one_by_one_reports) {
        assert_eq!(a.state, b.state, "{}", a.id);
        // The mirror's digest of every clock and position it was told.
        assert_eq!(a.snapshot, b.snapshot, "{}", a.id);
        let calls = |r: &StrategyReport| pennant_daemon::engine::StrategyStats {
            market_calls: 0,
            ..r.stats
        };
        assert_eq!(calls(a), calls(b), "{}", a.id);
    }
    let calls = |reports: &[StrategyReport], id: &str| {
        reports
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.stats.market_calls)
            .unwrap()
    };
    let mirrored = windowed_reports
        .iter()
        .find(|r| r.id == "mirror-doge")
        .unwrap();
    assert!(
        mirrored.stats.fills > 10,
        "the mirror trades: {:?}",
        mirrored.stats
    );
    // The strategies that take batches got fewer calls; the native one did not.
    for id in ["mm-btc", "mm-eth", "mirror-doge"] {
        assert!(
            calls(&windowed_reports, id) < calls(&one_by_one_reports, id),
            "{id}: {} calls with windows, {} without",
            calls(&windowed_reports, id),
            calls(&one_by_one_reports, id)
        );
    }
    assert_eq!(
        calls(&windowed_reports, "mm-sol"),
        calls(&one_by_one_reports, "mm-sol")
    );
}

/// A deterministic tape over BTC, ETH, SOL and DOGE: runs of events of one instrument (as a
/// feed batches them), quotes walking by a tick or two and trades at or through them,
/// 50 to 400 microseconds apart.
fn window_tape(len: usize) -> Vec<MarketEvent> {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let tick = px("0.01").raw();
    let mut mids = [
        px("100").raw(),
        px("50").raw(),
        px("20").raw(),
        px("2").raw(),
    ];
    let (mut ts, mut events) = (T0, Vec::with_capacity(len));
    let mut btc_book = Ladder::new();
    while events.len() < len {
        let i = next(4) as usize;
        for _ in 0..1 + next(30) {
            ts += 50_000 + next(350_000) as i64;
            let instrument = i as u32 + 1;
            let half = tick * (1 + next(3) as i64);
            if next(100) < 15 {
                // A trade at the bid or ask, or a tick through it.
                let through = tick * next(2) as i64;
                let price = match next(2) {
                    0 => mids[i] - half - through,
                    _ => mids[i] + half + through,
                };
                events.push(MarketEvent::Trade(Trade {
                    instrument,
                    ts,
                    price: pennant_sdk::Price::from_raw(price),
                    qty: qty("0.02"),
                    aggressor: if price < mids[i] {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                }));
            } else {
                mids[i] += tick * (next(5) as i64 - 2);
                if i == 0 {
                    // BTC has a book too: the paper venue matches it against the levels.
                    let level = |k: i64| pennant_sdk::Price::from_raw(mids[0] + k * tick);
                    let wanted: Ladder = [
                        (
                            (0, level(-1) - pennant_sdk::Price::from_raw(half)),
                            qty("2"),
                        ),
                        ((0, level(0) - pennant_sdk::Price::from_raw(half)), qty("1")),
                        ((1, level(0) + pennant_sdk::Price::from_raw(half)), qty("1")),
                        ((1, level(1) + pennant_sdk::Price::from_raw(half)), qty("2")),
                    ]
                    .into();
                    ladder_change(
                        &mut btc_book,
                        wanted,
                        1,
                        ts,
                        events.len() as u64,
                        &mut events,
                    );
                }
                events.push(MarketEvent::Quote(Quote {
                    instrument,
                    ts,
                    bid_price: pennant_sdk::Price::from_raw(mids[i] - half),
                    bid_qty: qty("1"),
                    ask_price: pennant_sdk::Price::from_raw(mids[i] + half),
                    ask_qty: qty("1"),
                }));
            }
        }
    }
    events
}

/// A signal is priced at its instrument's mark when emitted and again at the first
/// market event at or after each horizon, in engine time: the outcomes say whether the
/// move went the signal's way.
#[test]
fn a_signal_is_priced_again_as_each_horizon_passes() {
    use pennant_daemon::records::SignalOutcome;
    let cache = tempfile::tempdir().unwrap();
    let (journal, mut records) = journal();
    let mut engine = Engine::builder(btc(), plugin_settings(cache.path()))
        .journal(journal)
        .settings(EngineSettings {
            signal_horizons: vec![1, 3],
            ..settings(Duration::from_secs(3600))
        })
        .build()
        .unwrap();
    // A buy signal on the second trade.
    start(
        &mut engine,
        "test_strategy",
        "signaller",
        &[("mode", "chatty"), ("n", "4"), ("trigger", "2")],
    );
    let prices = ["100", "101", "103", "99", "98", "104", "105"];
    for (n, price) in prices.iter().enumerate() {
        // 900 ms apart: the 1 s horizon of a signal at trade 2 passes at trade 4.
        let event = MarketEvent::Trade(trade(T0 + n as i64 * 900_000_000, price));
        engine.step(pennant_daemon::engine::EngineInput::Market {
            events: vec![event],
            received: std::time::Instant::now(),
        });
    }
    let bodies = written(&mut records);
    assert!(
        bodies
            .iter()
            .any(|b| matches!(b, pennant_daemon::records::Body::Signal(_))),
        "a signal: {bodies:?}"
    );
    let outcomes: Vec<SignalOutcome> = bodies
        .into_iter()
        .filter_map(|body| match body {
            pennant_daemon::records::Body::SignalOutcome(o) => Some(o),
            _ => None,
        })
        .collect();
    // From the second trade on, each trade brings a buy signal (the strategy's chatty
    // mode). Each horizon's price is that of the first trade at or after the signal's
    // time plus the horizon; a horizon not reached by the last trade has no outcome.
    let ts = |n: usize| T0 + n as i64 * 900_000_000;
    let mut expected = Vec::new();
    for signal in 1..prices.len() {
        for horizon_secs in [1u32, 3] {
            let due = ts(signal) + i64::from(horizon_secs) * 1_000_000_000;
            if let Some(at) = (0..prices.len()).find(|&n| ts(n) >= due) {
                expected.push(SignalOutcome {
                    strategy: "signaller".into(),
                    instrument: "BTC-USDT".into(),
                    side: Side::Buy,
                    signal_ts: ts(signal),
                    horizon_secs,
                    reference: px(prices[signal]).raw(),
                    price: px(prices[at]).raw(),
                });
            }
        }
    }
    let mut outcomes = outcomes;
    outcomes.sort_by_key(|o| (o.signal_ts, o.horizon_secs));
    assert_eq!(outcomes, expected);
    // The second trade's signal: 101, then 99 after 1 s (a miss), 104 after 3 s (a hit).
    assert_eq!(
        (outcomes[0].price, outcomes[1].price),
        (px("99").raw(), px("104").raw())
    );
    assert!(!outcomes[0].hit() && outcomes[1].hit());
    assert!((outcomes[1].return_bps() - 3.0 / 101.0 * 1e4).abs() < 1e-9);
}
