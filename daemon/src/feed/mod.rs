//! Running feeds: each configured `[[feed]]` becomes a tokio task that sends batches of
//! normalized events to the engine, and [`EngineInput::FeedEnded`] when it runs dry.
//! Each counts what it receives, and what it skips, in its [`FeedMetrics`].
//!
//! - [`replay`]: a recorded file, at its own pace or as fast as possible.
//! - [`synthetic`]: a seeded random walk on the wall clock.
//! - [`binance`]: Binance's market streams over WebSocket, connected again when they drop
//!   or go quiet.

pub mod binance;
pub mod replay;
pub mod synthetic;

use crate::config::{FeedConfig, FeedSource};
use crate::engine::EngineInput;
use crate::market::{Instruments, MarketEvent};
use crate::metrics::FeedMetrics;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events per message to the engine: large enough to amortize the channel, small enough
/// to keep latency low at recorded pace.
const BATCH: usize = 256;
/// Malformed lines or messages logged one by one before only counting.
const MALFORMED_LOGGED: u64 = 20;

/// Starts one feed. `resolve` turns the configuration's relative paths into real ones.
pub fn spawn(
    feed: &FeedConfig,
    resolve: impl Fn(&std::path::Path) -> PathBuf,
    instruments: Arc<Instruments>,
    tx: mpsc::Sender<EngineInput>,
    metrics: FeedMetrics,
) -> Vec<JoinHandle<()>> {
    let name = feed.name.get_ref().clone();
    match feed.source() {
        FeedSource::Replay(config) => {
            let path = resolve(&config.path);
            vec![tokio::spawn(replay::run(
                name,
                path,
                config,
                instruments,
                tx,
                metrics,
            ))]
        }
        FeedSource::Synthetic(config) => vec![tokio::spawn(synthetic::run(
            name,
            config,
            instruments,
            tx,
            metrics,
        ))],
        FeedSource::Binance(config) => binance::spawn(name, config, &instruments, tx, metrics),
    }
}

async fn send(tx: &mpsc::Sender<EngineInput>, batch: &mut Vec<MarketEvent>) -> bool {
    if batch.is_empty() {
        return true;
    }
    let events = std::mem::replace(batch, Vec::with_capacity(BATCH));
    tx.send(EngineInput::Market {
        events,
        received: std::time::Instant::now(),
    })
    .await
    .is_ok()
}

/// Counts a received event by type.
fn count(metrics: &FeedMetrics, event: &MarketEvent) {
    match event {
        MarketEvent::Trade(_) => metrics.trades.inc(),
        MarketEvent::Quote(_) => metrics.quotes.inc(),
        MarketEvent::Book(_) => metrics.book.inc(),
    }
}
