//! A `synthetic` feed: a seeded random walk of each configured instrument, one step per
//! interval on the wall clock; it never ends.

use super::{count, send, BATCH};
use crate::config::SyntheticConfig;
use crate::engine::clock::wall_now;
use crate::engine::EngineInput;
use crate::market::synthetic::{Generator, WalkParams};
use crate::market::Instruments;
use crate::metrics::FeedMetrics;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Steps the walk until the engine goes away.
pub async fn run(
    name: String,
    config: SyntheticConfig,
    instruments: Arc<Instruments>,
    tx: mpsc::Sender<EngineInput>,
    metrics: FeedMetrics,
) {
    let walks = config
        .instruments
        .iter()
        .filter_map(|(symbol, walk)| {
            let info = instruments.by_symbol(symbol)?.clone();
            Some((
                info,
                WalkParams {
                    start_price: walk.start_price,
                    step_bps: walk.step_bps,
                    spread_ticks: walk.spread_ticks,
                    max_lots: walk.max_lots,
                    trade_percent: walk.trade_percent,
                },
            ))
        })
        .collect();
    let mut generator = Generator::new(config.seed, walks);
    let mut interval =
        tokio::time::interval(Duration::from_millis(u64::from(config.interval_ms.get())));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    log::info!(feed = name.as_str(), seed = config.seed, interval_ms = config.interval_ms.get(); "synthetic feed started");
    metrics.connected.set(1);
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        interval.tick().await;
        generator.step(wall_now(), &mut batch);
        for event in &batch {
            count(&metrics, event);
        }
        if let Some(last) = batch.last() {
            // A live feed's lag: how old its latest event is when it arrives.
            metrics.lag.set((wall_now() - last.ts()) as f64 / 1e9);
        }
        if !send(&tx, &mut batch).await {
            return;
        }
    }
}
