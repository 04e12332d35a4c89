//! The L2 book: a 20-level book generated around the walk's quotes, applied to the SDK's
//! `OrderBook` level by level (the cost of one delta), and fed through the engine with
//! the market maker, whose quotes the paper venue then fills against the book.

use crate::report::{duration, quantile, rate, Section};
use crate::scenarios::Run;
use crate::setup::{self, add_strategies, engine, Build, Kind, SubmitProbe};
use pennant_daemon::market::MarketEvent;
use pennant_sdk::book::OrderBook;
use pennant_sdk::{BookFlags, BookLevel, Price, Qty, Side};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Levels a side.
pub const LEVELS: i64 = 20;

/// The walk's events with, before each quote, the book's change to `LEVELS` levels a side
/// around it (one tick apart, sizes varying at a few levels per message), as a venue's
/// depth stream would show it: `n` events in all.
pub fn book_market(n: usize) -> Vec<MarketEvent> {
    let tick = setup::instruments()
        .by_symbol(setup::SYMBOL)
        .map_or(Price::from_raw(10_000_000), |i| i.tick_size);
    let mut out = Vec::with_capacity(n);
    let mut levels: BTreeMap<(u8, Price), Qty> = BTreeMap::new();
    let mut seq = 0u64;
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    setup::each_event(n, |event| {
        if out.len() >= n {
            return;
        }
        let MarketEvent::Quote(q) = event else {
            out.push(*event);
            return;
        };
        let mut wanted = BTreeMap::new();
        for i in 0..LEVELS {
            let away = Price::from_raw(tick.raw() * i);
            let size = |levels: &BTreeMap<(u8, Price), Qty>, key, top: Qty, next: u64| {
                if i == 0 {
                    top
                } else if next.is_multiple_of(4) {
                    Qty::from_raw(((next >> 8) % 5_000 + 1) as i64 * 100_000)
                } else {
                    levels
                        .get(&key)
                        .copied()
                        .unwrap_or(Qty::from_raw(200_000_000))
                }
            };
            let bid = (0, q.bid_price - away);
            let ask = (1, q.ask_price + away);
            wanted.insert(bid, size(&levels, bid, q.bid_qty, next()));
            wanted.insert(ask, size(&levels, ask, q.ask_qty, next()));
        }
        let mut changes: Vec<((u8, Price), Qty)> = levels
            .keys()
            .filter(|k| !wanted.contains_key(k))
            .map(|&k| (k, Qty::ZERO))
            .collect();
        changes.extend(
            wanted
                .iter()
                .filter(|(k, v)| levels.get(k) != Some(v))
                .map(|(&k, &v)| (k, v)),
        );
        let reset = levels.is_empty();
        seq += 1;
        let count = changes.len();
        for (i, ((side, price), qty)) in changes.into_iter().enumerate() {
            let mut flags = BookFlags::NONE;
            if reset && i == 0 {
                flags = flags.with(BookFlags::RESET);
            }
            if i + 1 == count {
                flags = flags.with(BookFlags::LAST);
            }
            out.push(MarketEvent::Book(BookLevel {
                instrument: q.instrument,
                ts: q.ts,
                seq,
                side: if side == 0 { Side::Buy } else { Side::Sell },
                price,
                qty,
                flags,
            }));
        }
        levels = wanted;
        out.push(*event);
    });
    out.truncate(n);
    out
}

/// What the section measured, for the targets.
pub struct BookFigures {
    /// p99 of one delta, ns.
    pub apply_p99_ns: u64,
    /// Deltas a second, applied back to back.
    pub applies_per_s: f64,
}

/// 4. The L2 book.
pub fn book(run: &Run) -> (Section, BookFigures) {
    let mut section = Section::new(
        "L2 order book",
        "A 20-level book a side, changed before each generated quote (the top levels with \
         the quote, a few deeper sizes per message, levels leaving and entering as the mid \
         moves: most events are book levels, since each move of the mid shifts the ladder). *Delta apply*: \
         `OrderBook::apply` per level, timed one by one (the clock read is included in the \
         percentiles) and back to back. *Engine*: every event through `Engine::on_market` \
         (the market state's book, the paper venue's book and queues, the strategy); the \
         market maker quotes on the quotes, its orders fill against the book.",
        &["measure", "events", "p50", "p99", "rate"],
    );
    let events = book_market(run.size(4_000_000));
    let levels: Vec<BookLevel> = events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Book(l) => Some(*l),
            _ => None,
        })
        .collect();
    let mut timed = Vec::with_capacity(levels.len());
    let mut ob = OrderBook::new();
    for level in &levels {
        let start = Instant::now();
        let _ = std::hint::black_box(ob.apply(level));
        timed.push(start.elapsed().as_nanos() as u64);
    }
    timed.sort_unstable();
    let mut ob = OrderBook::new();
    let start = Instant::now();
    for level in &levels {
        let _ = std::hint::black_box(ob.apply(level));
    }
    let applies_per_s = levels.len() as f64 / start.elapsed().as_secs_f64();
    let (p50, p99) = (quantile(&timed, 0.5), quantile(&timed, 0.99));
    section.row(
        vec![
            "delta apply, 20 levels".into(),
            levels.len().to_string(),
            duration(p50 as f64),
            duration(p99 as f64),
            rate(applies_per_s),
        ],
        json!({"measure": "delta_apply", "levels": levels.len(), "p50_ns": p50, "p99_ns": p99,
               "per_s": applies_per_s}),
    );
    for (name, kind, build) in [
        ("engine, no strategy", None, Build::Native),
        (
            "engine, market-maker native",
            Some(Kind::MarketMaker),
            Build::Native,
        ),
        (
            "engine, market-maker wasm",
            Some(Kind::MarketMaker),
            Build::Wasm,
        ),
    ] {
        let mut engine = engine(&run.cache(), Arc::new(SubmitProbe::default()));
        if let Some(kind) = kind {
            add_strategies(&mut engine, &run.components, kind, build, 1);
        }
        let start = Instant::now();
        for event in &events {
            engine.on_market(event);
        }
        let per_s = events.len() as f64 / start.elapsed().as_secs_f64();
        let fills: u64 = engine.reports().iter().map(|r| r.stats.fills).sum();
        section.row(
            vec![
                format!("{name} ({fills} fills)"),
                events.len().to_string(),
                "-".into(),
                "-".into(),
                rate(per_s),
            ],
            json!({"measure": name, "events": events.len(), "per_s": per_s, "fills": fills}),
        );
    }
    (
        section,
        BookFigures {
            apply_p99_ns: p99,
            applies_per_s,
        },
    )
}
