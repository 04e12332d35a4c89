//! Micro-benchmarks of the hot pieces (`cargo bench -p pennant-bench`): fixed-point
//! arithmetic, the paper venue's book update, the risk checks, and one strategy call
//! across the WebAssembly boundary. Components come from `target/strategies/`
//! (`cargo xtask build-strategies`).

use criterion::{criterion_group, criterion_main, Criterion};
use pennant_daemon::config::PaperConfig;
use pennant_daemon::market::{Instruments, MarketEvent};
use pennant_daemon::plugin::{OutputLimits, PluginHost, PluginSettings, SharedClock, StrategyLog};
use pennant_daemon::risk;
use pennant_daemon::venue::{PaperVenue, Venue, VenueOrder};
use pennant_sdk::testing::{instrument, px, qty, TestHost};
use pennant_sdk::{Amount, OrderRequest, Price, Quote, Side};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn fixed_point(c: &mut Criterion) {
    let price = px("50000.12");
    let size = qty("0.015");
    c.bench_function("fixed/parse", |b| {
        b.iter(|| black_box("50000.12345678").parse::<Price>())
    });
    c.bench_function("fixed/notional", |b| {
        b.iter(|| black_box(price).checked_notional(black_box(size)))
    });
    let notional: Amount = price * size;
    let bps: Amount = "7.5".parse().unwrap_or_default();
    c.bench_function("fixed/fee_bps", |b| {
        b.iter(|| black_box(notional).checked_mul_bps(black_box(bps)))
    });
    c.bench_function("fixed/format", |b| b.iter(|| black_box(price).to_string()));
}

fn quote(ts: i64, bid: Price, ask: Price) -> MarketEvent {
    MarketEvent::Quote(Quote {
        instrument: 1,
        ts,
        bid_price: bid,
        bid_qty: qty("1"),
        ask_price: ask,
        ask_qty: qty("1"),
    })
}

fn order_book(c: &mut Criterion) {
    let mut venue = PaperVenue::new(&PaperConfig::default());
    let mut out = Vec::new();
    // Ten resting orders a side, away from the market: every quote scans them, none fill.
    for i in 0..20u64 {
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let offset = Price::from_int(100 + i as i64).unwrap_or(Price::ZERO);
        let price = if side == Side::Buy {
            px("50000") - offset
        } else {
            px("50000") + offset
        };
        venue.submit(
            VenueOrder {
                id: i + 1,
                client_id: pennant_daemon::venue::ClientOrderIds::default().of(i + 1),
                request: OrderRequest::limit(1, side, price, qty("0.01")),
            },
            0,
            &mut out,
        );
    }
    let mut ts = 1;
    c.bench_function("paper_venue/quote_with_20_resting", |b| {
        b.iter(|| {
            ts += 1;
            out.clear();
            venue.on_market(&quote(ts, px("49999.9"), px("50000.1")), &mut out);
            black_box(out.len())
        })
    });
}

fn risk_checks(c: &mut Criterion) {
    let instruments = Instruments::new([instrument(0, "BTC-USDT", "0.1", "0.001")]);
    let order = OrderRequest::limit(1, Side::Buy, px("50000.1"), qty("0.015"));
    c.bench_function("risk/check_order", |b| {
        b.iter(|| risk::check_order(&instruments, black_box(&order)))
    });
}

fn strategy_call(c: &mut Criterion) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/strategies/test_strategy.wasm");
    let cache = std::env::temp_dir().join(format!("pennant-bench-cache-{}", std::process::id()));
    let settings = PluginSettings {
        memory_limit_bytes: 64 << 20,
        call_budget: Duration::from_millis(50),
        cache_dir: cache.clone(),
        seed: 1,
    };
    let Ok(host) = PluginHost::<TestHost>::new(settings, SharedClock::default()) else {
        return;
    };
    let Ok(component) = host.load(&path) else {
        eprintln!("skipping the WebAssembly call benchmark: build {} first (cargo xtask build-strategies)", path.display());
        return;
    };
    let Ok(mut instance) = host.instantiate(
        &component,
        "bench",
        StrategyLog::new("bench", OutputLimits::default()),
    ) else {
        return;
    };
    let params = vec![
        ("mode".to_owned(), "idle".to_owned()),
        ("instrument".to_owned(), "BTC-USDT".to_owned()),
    ];
    let (mut ctx, _) = instance.init(
        TestHost::new().with_instrument("BTC-USDT", "0.1", "0.001"),
        &params,
    );
    let MarketEvent::Quote(q) = quote(1, px("49999.9"), px("50000.1")) else {
        return;
    };
    c.bench_function("wasm/on_quote_idle", |b| {
        b.iter(|| {
            let (back, outcome) = instance.on_quote(ctx_take(&mut ctx), black_box(&q));
            ctx = back;
            black_box(outcome)
        })
    });
    let _ = std::fs::remove_dir_all(cache);
}

/// Moves the context out of its slot for a call (the slot gets an empty one).
fn ctx_take(ctx: &mut TestHost) -> TestHost {
    std::mem::take(ctx)
}

criterion_group! {
    name = hot;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = fixed_point, order_book, risk_checks, strategy_call
}
criterion_main!(hot);
