//! One test per control and per state transition, each at its boundary: exactly at the
//! limit passes, one unit over is rejected. Orders go through the engine's real host
//! call (`StrategyCtx::submit_order`), with the paper venue behind it.

use super::*;
use crate::config::PaperConfig;
use crate::engine::clock::{Clock, ClockMode};
use crate::engine::{Core, StrategyCtx};
use crate::plugin::SharedClock;
use crate::records::RiskKind;
use crate::venue::PaperVenue;
use pennant_sdk::testing::{instrument, px, qty};
use pennant_sdk::{Host, OrderId, Quote, Side, Trade};
use std::num::NonZeroU32;
use std::sync::Arc;

const BTC: InstrumentId = 1;
const ETH: InstrumentId = 2;
const SECOND: i64 = 1_000_000_000;
const T0: i64 = 1_700_000_000 * SECOND;

/// A core with two instruments and strategies `a` (index 0) and `b` (1); the context
/// acts as `a`.
fn ctx(config: RiskConfig) -> StrategyCtx {
    let instruments = Arc::new(Instruments::new([
        instrument(0, "BTC-USDT", "0.1", "0.001"),
        instrument(0, "ETH-USDT", "0.01", "0.01"),
    ]));
    let mut core = Core::new(
        Clock::new(ClockMode::Event, SharedClock::default()),
        instruments,
        Box::new(PaperVenue::new(&PaperConfig::default())),
        RiskEngine::new(config),
    );
    core.add_strategy("a");
    core.add_strategy("b");
    core.clock.advance(T0);
    StrategyCtx {
        core: Box::new(core),
        strategy: 0,
    }
}

fn with(f: impl FnOnce(&mut Limits)) -> RiskConfig {
    let mut config = RiskConfig::default();
    f(&mut config.defaults);
    config
}

fn market(ctx: &mut StrategyCtx, event: crate::market::MarketEvent) {
    let core = &mut *ctx.core;
    core.clock.advance(event.ts());
    core.market.apply(&event);
    core.with_venue(0, |venue, out| venue.on_market(&event, out));
}

fn quote(ctx: &mut StrategyCtx, instrument: InstrumentId, bid: &str, ask: &str) {
    let ts = ctx.core.clock.now() + 1;
    market(
        ctx,
        crate::market::MarketEvent::Quote(Quote {
            instrument,
            ts,
            bid_price: px(bid),
            bid_qty: qty("100"),
            ask_price: px(ask),
            ask_qty: qty("100"),
        }),
    );
}

fn trade(ctx: &mut StrategyCtx, instrument: InstrumentId, price: &str) {
    let ts = ctx.core.clock.now() + 1;
    market(
        ctx,
        crate::market::MarketEvent::Trade(Trade {
            instrument,
            ts,
            price: px(price),
            qty: qty("0.001"),
            aggressor: Side::Buy,
        }),
    );
}

fn submit(ctx: &mut StrategyCtx, order: OrderRequest) -> Result<OrderId, RejectReason> {
    ctx.submit_order(&order).map_err(|r| r.reason)
}

fn buy(price: &str, size: &str) -> OrderRequest {
    OrderRequest::limit(BTC, Side::Buy, px(price), qty(size))
}

fn sell(price: &str, size: &str) -> OrderRequest {
    OrderRequest::limit(BTC, Side::Sell, px(price), qty(size))
}

#[test]
fn max_order_quantity() {
    let mut c = ctx(with(|l| l.max_order_qty = Some(qty("1"))));
    assert!(submit(&mut c, buy("100", "1")).is_ok());
    assert_eq!(
        submit(&mut c, buy("100", "1.001")),
        Err(RejectReason::MaxQuantity)
    );
}

#[test]
fn max_order_notional_values_market_orders_at_the_reference() {
    let mut c = ctx(with(|l| {
        l.max_order_notional = Some("1000".parse().unwrap())
    }));
    assert!(submit(&mut c, buy("100", "10")).is_ok());
    assert_eq!(
        submit(&mut c, buy("100", "10.001")),
        Err(RejectReason::MaxNotional)
    );
    let market_buy = |q: &str| OrderRequest::market(BTC, Side::Buy, qty(q));
    assert_eq!(
        submit(&mut c, market_buy("1")),
        Err(RejectReason::NoReferencePrice)
    );
    trade(&mut c, BTC, "200");
    quote(&mut c, BTC, "199.9", "200.1");
    assert!(submit(&mut c, market_buy("5")).is_ok());
    assert_eq!(
        submit(&mut c, market_buy("5.001")),
        Err(RejectReason::MaxNotional)
    );
}

#[test]
fn price_band_around_the_last_trade_else_the_mid() {
    let mut c = ctx(with(|l| l.price_band_bps = NonZeroU32::new(100)));
    quote(&mut c, BTC, "199", "201");
    // Reference: the mid, 200; 1% is 2.
    assert!(submit(&mut c, buy("198", "0.01")).is_ok());
    assert_eq!(
        submit(&mut c, buy("197.9", "0.01")),
        Err(RejectReason::PriceBand)
    );
    trade(&mut c, BTC, "100");
    // (Strategy b sells, so as not to cross a's resting buy.)
    c.strategy = 1;
    assert!(submit(&mut c, sell("101", "0.01")).is_ok());
    assert_eq!(
        submit(&mut c, sell("101.1", "0.01")),
        Err(RejectReason::PriceBand)
    );
}

#[test]
fn max_position_counts_open_orders_on_the_same_side() {
    let mut c = ctx(with(|l| l.max_position = Some(qty("1"))));
    assert!(submit(&mut c, buy("100", "0.6")).is_ok());
    assert!(submit(&mut c, buy("99", "0.4")).is_ok());
    assert_eq!(
        submit(&mut c, buy("98", "0.001")),
        Err(RejectReason::MaxPosition)
    );
    // Selling is on the other side: up to a short of 1 on its own.
    assert!(submit(&mut c, sell("200", "1")).is_ok());
    assert_eq!(
        submit(&mut c, sell("200", "0.001")),
        Err(RejectReason::MaxPosition)
    );
}

#[test]
fn global_max_position_adds_every_strategy() {
    let mut config = RiskConfig::default();
    config.global.max_position = Some(qty("1"));
    let mut c = ctx(config);
    quote(&mut c, BTC, "99.9", "100.1");
    assert!(submit(&mut c, OrderRequest::market(BTC, Side::Buy, qty("0.7"))).is_ok());
    c.strategy = 1;
    assert!(submit(&mut c, buy("90", "0.3")).is_ok());
    assert_eq!(
        submit(&mut c, buy("90", "0.001")),
        Err(RejectReason::MaxPosition)
    );
}

#[test]
fn max_gross_exposure_counts_positions_and_open_orders() {
    let mut c = ctx(with(|l| {
        l.max_gross_exposure = Some("150".parse().unwrap())
    }));
    quote(&mut c, BTC, "99.9", "100.1");
    trade(&mut c, BTC, "100");
    assert!(submit(&mut c, buy("100", "1")).is_ok());
    assert!(submit(&mut c, buy("100", "0.5")).is_ok());
    assert_eq!(
        submit(&mut c, buy("100", "0.001")),
        Err(RejectReason::MaxGrossExposure)
    );
}

#[test]
fn max_open_orders() {
    let mut c = ctx(with(|l| l.max_open_orders = Some(2)));
    assert!(submit(&mut c, buy("100", "0.01")).is_ok());
    assert!(submit(&mut c, buy("99", "0.01")).is_ok());
    assert_eq!(
        submit(&mut c, buy("98", "0.01")),
        Err(RejectReason::MaxOpenOrders)
    );
    // Other instruments have their own count.
    assert!(submit(
        &mut c,
        OrderRequest::limit(ETH, Side::Buy, px("10"), qty("1"))
    )
    .is_ok());
}

#[test]
fn order_rate_counts_submits_and_cancels_in_a_sliding_window() {
    let mut c = ctx(with(|l| l.max_orders_per_window = NonZeroU32::new(3)));
    let first = submit(&mut c, buy("100", "0.01")).unwrap();
    assert!(submit(&mut c, buy("99", "0.01")).is_ok());
    assert!(
        c.cancel_order(first).is_ok(),
        "a cancel is never refused, but counts"
    );
    assert_eq!(
        submit(&mut c, buy("98", "0.01")),
        Err(RejectReason::RateLimit)
    );
    // The window slides on the engine clock: a second later there is room again.
    c.core.clock.advance(T0 + SECOND);
    assert!(submit(&mut c, buy("98", "0.01")).is_ok());
}

#[test]
fn self_trade_is_prevented() {
    let mut c = ctx(RiskConfig::default());
    assert!(submit(&mut c, sell("101", "0.5")).is_ok());
    assert!(submit(&mut c, buy("100.9", "0.5")).is_ok());
    assert_eq!(
        submit(&mut c, buy("101", "0.5")),
        Err(RejectReason::SelfTrade)
    );
    // Another strategy may trade against it.
    c.strategy = 1;
    assert!(submit(&mut c, buy("101", "0.5")).is_ok());
}

#[test]
fn instrument_allow_list() {
    let mut config = RiskConfig::default();
    config.strategy.insert(
        "a".into(),
        Limits {
            instruments: Some(vec!["BTC-USDT".into()]),
            ..Limits::default()
        },
    );
    let mut c = ctx(config);
    assert!(submit(&mut c, buy("100", "0.01")).is_ok());
    assert_eq!(
        submit(
            &mut c,
            OrderRequest::limit(ETH, Side::Buy, px("10"), qty("1"))
        ),
        Err(RejectReason::InstrumentNotAllowed)
    );
}

#[test]
fn duplicate_client_order_id_while_the_first_is_working() {
    let mut c = ctx(RiskConfig::default());
    let first = submit(&mut c, buy("100", "0.01").with_client_order_id(7)).unwrap();
    assert_eq!(
        submit(&mut c, buy("99", "0.01").with_client_order_id(7)),
        Err(RejectReason::DuplicateClientOrderId)
    );
    assert!(c.cancel_order(first).is_ok());
    assert!(submit(&mut c, buy("99", "0.01").with_client_order_id(7)).is_ok());
}

#[test]
fn strategy_overrides_beat_instrument_overrides_beat_defaults() {
    let mut config = with(|l| l.max_order_qty = Some(qty("1")));
    config.instrument.insert(
        "ETH-USDT".into(),
        Limits {
            max_order_qty: Some(qty("5")),
            ..Limits::default()
        },
    );
    config.strategy.insert(
        "b".into(),
        Limits {
            max_order_qty: Some(qty("2")),
            ..Limits::default()
        },
    );
    let mut c = ctx(config);
    let eth = |q: &str| OrderRequest::limit(ETH, Side::Buy, px("10"), qty(q));
    assert!(submit(&mut c, eth("5")).is_ok());
    assert_eq!(submit(&mut c, eth("5.01")), Err(RejectReason::MaxQuantity));
    assert_eq!(
        submit(&mut c, buy("10", "1.001")),
        Err(RejectReason::MaxQuantity)
    );
    c.strategy = 1;
    assert!(submit(&mut c, eth("2")).is_ok());
    assert_eq!(submit(&mut c, eth("2.01")), Err(RejectReason::MaxQuantity));
}

#[test]
fn a_daily_loss_breach_halts_the_strategy_until_an_operator_releases_it() {
    let mut c = ctx(with(|l| l.max_daily_loss = Some("10".parse().unwrap())));
    quote(&mut c, BTC, "99.9", "100");
    assert!(submit(&mut c, OrderRequest::market(BTC, Side::Buy, qty("1"))).is_ok());
    // Marked at 90: exactly -10 is allowed.
    trade(&mut c, BTC, "90");
    assert!(submit(&mut c, sell("200", "0.001")).is_ok());
    trade(&mut c, BTC, "89.9");
    assert_eq!(
        submit(&mut c, sell("200", "0.001")),
        Err(RejectReason::MaxDailyLoss)
    );
    assert_eq!(c.core.risk.state(0), TradingState::Halted);
    let audit = c.core.risk.audit().last().unwrap().clone();
    assert_eq!(
        (audit.actor.as_str(), audit.action.name()),
        ("risk", "state")
    );
    // The price recovers; the strategy stays halted until released.
    trade(&mut c, BTC, "120");
    assert_eq!(
        submit(&mut c, sell("200", "0.001")),
        Err(RejectReason::TradingHalted)
    );
    let now = c.core.clock.now();
    c.core
        .risk
        .set_state(
            &Scope::Strategy("a".into()),
            TradingState::Active,
            "alice",
            now,
        )
        .unwrap();
    assert!(submit(&mut c, sell("200", "0.001")).is_ok());
    // Strategy b was never affected.
    assert_eq!(c.core.risk.state(1), TradingState::Active);
}

#[test]
fn the_daily_loss_counts_from_the_start_of_the_trading_day() {
    let mut c = ctx(with(|l| l.max_daily_loss = Some("10".parse().unwrap())));
    quote(&mut c, BTC, "99.9", "100");
    assert!(submit(&mut c, OrderRequest::market(BTC, Side::Buy, qty("1"))).is_ok());
    trade(&mut c, BTC, "85");
    // A new day: yesterday's loss of 15 is the baseline.
    c.core.clock.advance(T0 + 24 * 3600 * SECOND);
    assert!(submit(&mut c, sell("200", "0.001")).is_ok());
}

#[test]
fn reducing_lets_only_position_reducing_orders_through() {
    let mut c = ctx(RiskConfig::default());
    quote(&mut c, BTC, "99.9", "100");
    assert!(submit(&mut c, OrderRequest::market(BTC, Side::Buy, qty("1"))).is_ok());
    let now = c.core.clock.now();
    c.core
        .risk
        .set_state(
            &Scope::Strategy("a".into()),
            TradingState::Reducing,
            "alice",
            now,
        )
        .unwrap();
    assert_eq!(
        submit(&mut c, buy("90", "0.001")),
        Err(RejectReason::ReduceOnly)
    );
    assert_eq!(
        submit(&mut c, sell("110", "1.001")),
        Err(RejectReason::ReduceOnly)
    );
    assert!(submit(&mut c, sell("110", "0.6")).is_ok());
    // The working 0.6 counts: only 0.4 more may be sold.
    assert_eq!(
        submit(&mut c, sell("110", "0.5")),
        Err(RejectReason::ReduceOnly)
    );
    assert!(submit(&mut c, sell("110", "0.4")).is_ok());
}

#[test]
fn the_global_state_applies_to_every_strategy() {
    let mut c = ctx(RiskConfig::default());
    let now = c.core.clock.now();
    c.core
        .risk
        .set_state(&Scope::Global, TradingState::Halted, "alice", now)
        .unwrap();
    assert_eq!(
        submit(&mut c, buy("100", "0.01")),
        Err(RejectReason::TradingHalted)
    );
    c.strategy = 1;
    assert_eq!(
        submit(&mut c, buy("100", "0.01")),
        Err(RejectReason::TradingHalted)
    );
    assert!(c
        .core
        .risk
        .set_state(
            &Scope::Instrument("BTC-USDT".into()),
            TradingState::Active,
            "alice",
            now
        )
        .is_err());
}

#[test]
fn the_kill_switch_cancels_every_open_order_and_lets_only_cancels_through() {
    let mut c = ctx(RiskConfig::default());
    let ids = [
        submit(&mut c, buy("100", "0.01")).unwrap(),
        submit(&mut c, sell("110", "0.01")).unwrap(),
        submit(
            &mut c,
            OrderRequest::limit(ETH, Side::Buy, px("10"), qty("1")),
        )
        .unwrap(),
    ];
    c.core.updates.clear();
    let now = c.core.clock.now();
    let scope = Scope::Strategy("a".into());
    // Halted, cancels still pass.
    c.core
        .risk
        .set_state(&scope, TradingState::Halted, "alice", now)
        .unwrap();
    assert!(c.cancel_order(ids[0]).is_ok());
    let strategy = c.core.risk.kill_switch(&scope, "alice", now).unwrap();
    assert_eq!(c.core.cancel_all_of(strategy), 2);
    assert!(c.core.orders.is_empty());
    let canceled: Vec<OrderId> = c.core.updates.iter().map(|(_, u)| u.order_id).collect();
    assert_eq!(canceled, ids, "the strategy gets an update for each order");
    assert_eq!(
        submit(&mut c, buy("100", "0.01")),
        Err(RejectReason::TradingHalted)
    );
    assert_eq!(
        c.core.risk.audit().last().unwrap().action,
        RiskKind::KillSwitch
    );
}

#[test]
fn limits_change_at_run_time_with_an_audit_record() {
    let mut config = RiskConfig::default();
    config.strategy.insert(
        "a".into(),
        Limits {
            instruments: Some(vec!["BTC-USDT".into()]),
            ..Limits::default()
        },
    );
    let mut c = ctx(config);
    assert!(submit(&mut c, buy("100", "5")).is_ok());
    let now = c.core.clock.now();
    let instruments = c.core.instruments.clone();
    let a = Scope::Strategy("a".into());
    let risk = &mut c.core.risk;
    risk.change_limits(&a, "bob", now, &instruments, |l| {
        l.max_order_qty = Some(qty("1"))
    })
    .unwrap();
    let record = risk.audit().last().unwrap();
    assert_eq!(
        (record.actor.as_str(), record.scope.as_str()),
        ("bob", "strategy a")
    );
    // Refused changes change nothing.
    let negative = |l: &mut Limits| l.max_position = Some(qty("-1"));
    assert!(risk
        .change_limits(&a, "bob", now, &instruments, negative)
        .is_err());
    let per_instrument_loss = |l: &mut Limits| l.max_daily_loss = Some("5".parse().unwrap());
    let btc = Scope::Instrument("BTC-USDT".into());
    assert!(risk
        .change_limits(&btc, "bob", now, &instruments, per_instrument_loss)
        .is_err());
    let unknown = Scope::Strategy("zz".into());
    assert!(risk
        .change_limits(&unknown, "bob", now, &instruments, |_| {})
        .is_err());
    assert_eq!(risk.audit().len(), 1);
    assert_eq!(
        submit(&mut c, buy("100", "1.001")),
        Err(RejectReason::MaxQuantity)
    );
    // What the change did not touch stays: the allow-list.
    assert_eq!(
        submit(
            &mut c,
            OrderRequest::limit(ETH, Side::Buy, px("10"), qty("1"))
        ),
        Err(RejectReason::InstrumentNotAllowed)
    );
}

#[test]
fn the_daily_loss_is_watched_between_orders_and_counted_from_the_day_start() {
    let mut c = ctx(with(|l| l.max_daily_loss = Some("10".parse().unwrap())));
    quote(&mut c, BTC, "99.9", "100");
    assert!(submit(&mut c, OrderRequest::market(BTC, Side::Buy, qty("1"))).is_ok());
    trade(&mut c, BTC, "89.9");
    let watch = |c: &mut StrategyCtx, at: Timestamp| {
        let core = &mut *c.core;
        let books = Books {
            instruments: &core.instruments,
            market: &core.market,
            orders: &core.orders,
            ledger: &core.ledger,
            balances: None,
        };
        core.risk.watch(at, &books);
    };
    // No order needed: the watch halts the strategy.
    watch(&mut c, T0 + SECOND);
    assert_eq!(c.core.risk.state(0), TradingState::Halted);
    assert_eq!(c.core.risk.state(1), TradingState::Active);
}

#[test]
fn cancel_all_counts_every_cancel_against_the_rate() {
    let mut c = ctx(with(|l| l.max_orders_per_window = NonZeroU32::new(4)));
    assert!(submit(&mut c, buy("100", "0.01")).is_ok());
    assert!(submit(&mut c, buy("99", "0.01")).is_ok());
    assert_eq!(c.cancel_all(None), 2);
    assert_eq!(
        submit(&mut c, buy("98", "0.01")),
        Err(RejectReason::RateLimit)
    );
}

#[test]
fn a_band_needs_a_reference_price_and_unknown_handles_are_not_cached() {
    let mut c = ctx(with(|l| l.price_band_bps = NonZeroU32::new(100)));
    assert_eq!(
        submit(&mut c, buy("100", "0.01")),
        Err(RejectReason::NoReferencePrice)
    );
    for handle in 100..200 {
        let order = OrderRequest::limit(handle, Side::Buy, px("1"), qty("1"));
        assert_eq!(submit(&mut c, order), Err(RejectReason::UnknownInstrument));
    }
    assert!(c.core.risk.resolved.len() <= 1);
}

#[test]
fn open_market_orders_count_in_the_exposure_at_the_reference_price() {
    let mut c = ctx(with(|l| {
        l.max_gross_exposure = Some("1000".parse().unwrap())
    }));
    // Venue latency keeps the market orders in flight, and so open, unfilled.
    let venue = PaperVenue::new(&PaperConfig {
        latency_ms: 5,
        ..PaperConfig::default()
    });
    c.core.venues = vec![Box::new(venue)];
    trade(&mut c, BTC, "100");
    for _ in 0..10 {
        assert!(submit(&mut c, OrderRequest::market(BTC, Side::Buy, qty("1"))).is_ok());
    }
    assert_eq!(
        submit(&mut c, OrderRequest::market(BTC, Side::Buy, qty("0.001"))),
        Err(RejectReason::MaxGrossExposure)
    );
}

#[test]
fn global_gross_exposure_adds_every_strategy() {
    let mut config = RiskConfig::default();
    config.global.max_gross_exposure = Some("150".parse().unwrap());
    let mut c = ctx(config);
    trade(&mut c, BTC, "100");
    assert!(submit(&mut c, buy("100", "1")).is_ok());
    c.strategy = 1;
    assert!(submit(&mut c, buy("100", "0.5")).is_ok());
    assert_eq!(
        submit(&mut c, buy("100", "0.001")),
        Err(RejectReason::MaxGrossExposure)
    );
}

#[test]
fn global_order_rate_adds_every_strategy() {
    let mut config = RiskConfig::default();
    config.global.max_orders_per_window = NonZeroU32::new(3);
    let mut c = ctx(config);
    assert!(submit(&mut c, buy("100", "0.01")).is_ok());
    assert!(submit(&mut c, buy("99", "0.01")).is_ok());
    c.strategy = 1;
    assert!(submit(&mut c, buy("98", "0.01")).is_ok());
    assert_eq!(
        submit(&mut c, buy("97", "0.01")),
        Err(RejectReason::RateLimit)
    );
    c.core.clock.advance(T0 + SECOND);
    assert!(submit(&mut c, buy("97", "0.01")).is_ok());
}

#[test]
fn a_global_daily_loss_breach_halts_everything() {
    let mut config = RiskConfig::default();
    config.global.max_daily_loss = Some("10".parse().unwrap());
    let mut c = ctx(config);
    quote(&mut c, BTC, "99.9", "100");
    assert!(submit(&mut c, OrderRequest::market(BTC, Side::Buy, qty("0.5"))).is_ok());
    c.strategy = 1;
    assert!(submit(&mut c, OrderRequest::market(BTC, Side::Buy, qty("0.5"))).is_ok());
    trade(&mut c, BTC, "90");
    assert!(
        submit(&mut c, sell("200", "0.001")).is_ok(),
        "exactly -10 together"
    );
    trade(&mut c, BTC, "89.9");
    assert_eq!(
        submit(&mut c, sell("200", "0.001")),
        Err(RejectReason::MaxDailyLoss)
    );
    assert_eq!(c.core.risk.global_state(), TradingState::Halted);
    c.strategy = 0;
    assert_eq!(
        submit(&mut c, sell("200", "0.001")),
        Err(RejectReason::TradingHalted)
    );
}

#[test]
fn refused_orders_do_not_use_the_rate_budgets() {
    let mut config = with(|l| l.max_orders_per_window = NonZeroU32::new(2));
    config.global.max_orders_per_window = NonZeroU32::new(3);
    let mut c = ctx(config);
    assert!(submit(&mut c, buy("100", "0.01")).is_ok());
    assert!(submit(&mut c, buy("99", "0.01")).is_ok());
    // A flood of refused retries, by the rate limit itself and by another check.
    for _ in 0..100 {
        assert_eq!(
            submit(&mut c, buy("98", "0.01")),
            Err(RejectReason::RateLimit)
        );
        assert_eq!(
            submit(&mut c, buy("98", "100000")),
            Err(RejectReason::RateLimit)
        );
    }
    // Another strategy still has the global window's last message.
    c.strategy = 1;
    assert!(submit(&mut c, buy("97", "0.01")).is_ok());
    // Once the window has slid past its two orders, the flooder trades again.
    c.strategy = 0;
    c.core.clock.advance(T0 + SECOND);
    assert!(submit(&mut c, buy("98", "0.01")).is_ok());
}

#[test]
fn the_circuit_breaker_trips_past_its_rejections_per_minute_and_is_audited() {
    let mut config = with(|l| l.max_order_qty = Some(qty("1")));
    config.max_rejections_per_minute = 3;
    let mut c = ctx(config);
    let now = c.core.clock.now();
    let breach = |c: &StrategyCtx| c.core.budgets[0].breach.clone();
    for _ in 0..3 {
        assert_eq!(
            submit(&mut c, buy("100", "2")),
            Err(RejectReason::MaxQuantity)
        );
    }
    assert_eq!(breach(&c), None, "at the limit");
    // Refusals older than a minute have left the window.
    c.core.clock.advance(now + 61 * SECOND);
    assert_eq!(
        submit(&mut c, buy("100", "2")),
        Err(RejectReason::MaxQuantity)
    );
    assert_eq!(breach(&c), None);
    for _ in 0..3 {
        let _ = submit(&mut c, buy("100", "2"));
    }
    let tripped = breach(&c).expect("the breaker tripped");
    assert_eq!(tripped.code, "rejections");
    assert!(
        tripped.message.contains("more than 3 orders refused"),
        "{}",
        tripped.message
    );
    let audit = c.core.risk.audit().last().expect("an audit record").clone();
    assert_eq!(
        (audit.actor.as_str(), audit.action.name()),
        ("risk", "breaker")
    );
    assert_eq!(audit.scope, "strategy a");
    // Strategy b has a breaker of its own.
    assert_eq!(c.core.budgets[1].breach, None);
}

#[test]
fn refusals_a_trading_state_imposes_do_not_trip_the_breaker() {
    let mut c = ctx(RiskConfig {
        max_rejections_per_minute: 3,
        ..Default::default()
    });
    let now = c.core.clock.now();
    for state in [TradingState::Halted, TradingState::Reducing] {
        c.core
            .risk
            .set_state(&Scope::Global, state, "ops", now)
            .unwrap();
        for _ in 0..10 {
            assert!(submit(&mut c, buy("100", "1")).is_err());
        }
    }
    assert_eq!(c.core.budgets[0].breach, None);
    assert_eq!(c.core.stats[0].risk_rejects, 20);
}

#[test]
fn repeated_rejections_are_recorded_once_per_window_then_summarised() {
    let mut c = ctx(with(|l| l.max_order_qty = Some(qty("1"))));
    let (records, mut written) = tokio::sync::mpsc::channel(16);
    let sink = crate::engine::journal::JournalSink {
        records,
        stats: Default::default(),
    };
    c.core.journal = crate::engine::journal::Journal::new(sink, 0);
    let start = c.core.clock.now();
    for _ in 0..50 {
        let _ = submit(&mut c, buy("100", "2"));
    }
    c.core
        .close_rejection_windows(start + crate::engine::rejection_log::WINDOW);
    c.core.journal.flush();
    let batch = written.try_recv().expect("a batch");
    let kinds: Vec<(RiskKind, String)> = batch
        .iter()
        .filter_map(|r| match &r.body {
            crate::records::Body::Risk(e) => Some((e.kind, e.detail.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert_eq!(kinds[0].0, RiskKind::Rejection);
    assert_eq!(kinds[1].0, RiskKind::Rejections);
    assert!(
        kinds[1]
            .1
            .starts_with("49 more orders refused by risk (max_quantity)"),
        "{}",
        kinds[1].1
    );
    assert_eq!(c.core.stats[0].risk_rejects, 50, "every refusal is counted");
}
