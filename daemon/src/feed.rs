//! Running feeds: each configured `[[feed]]` becomes a tokio task that sends batches of
//! normalized events to the engine, and [`EngineInput::FeedEnded`] when it runs dry.
//! Each counts what it receives, and what it skips, in its [`FeedMetrics`].

use crate::config::{FeedConfig, FeedSource, ReplayConfig, SyntheticConfig};
use crate::engine::clock::wall_now;
use crate::engine::EngineInput;
use crate::market::replay::LineParser;
use crate::market::synthetic::{Generator, WalkParams};
use crate::market::{Instruments, MarketEvent};
use crate::metrics::FeedMetrics;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Events per message to the engine: large enough to amortize the channel, small enough
/// to keep latency low at recorded pace.
const BATCH: usize = 256;
/// Malformed lines logged one by one before only counting.
const MALFORMED_LOGGED: u64 = 20;
/// Read buffer of a replay file.
const READ_BUFFER: usize = 1 << 20;

/// Starts one feed. `resolve` turns the configuration's relative paths into real ones.
pub fn spawn(
    feed: &FeedConfig,
    resolve: impl Fn(&std::path::Path) -> PathBuf,
    instruments: Arc<Instruments>,
    tx: mpsc::Sender<EngineInput>,
    metrics: FeedMetrics,
) -> JoinHandle<()> {
    let name = feed.name.get_ref().clone();
    match feed.source() {
        FeedSource::Replay(replay) => {
            let path = resolve(&replay.path);
            tokio::spawn(run_replay(name, path, replay, instruments, tx, metrics))
        }
        FeedSource::Synthetic(synthetic) => {
            tokio::spawn(run_synthetic(name, synthetic, instruments, tx, metrics))
        }
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
    }
}

/// Replays a file, then tells the engine the feed has ended, whatever happened.
async fn run_replay(
    name: String,
    path: PathBuf,
    config: ReplayConfig,
    instruments: Arc<Instruments>,
    tx: mpsc::Sender<EngineInput>,
    metrics: FeedMetrics,
) {
    replay(&name, &path, &config, &instruments, &tx, &metrics).await;
    metrics.set_ended();
    let _ = tx.send(EngineInput::FeedEnded { feed: name }).await;
}

/// A replay in progress: parses lines, paces and batches events.
struct Replay<'a> {
    name: &'a str,
    path: &'a std::path::Path,
    speed: f64,
    instruments: &'a Instruments,
    tx: &'a mpsc::Sender<EngineInput>,
    metrics: &'a FeedMetrics,
    parser: LineParser,
    batch: Vec<MarketEvent>,
    line_no: u64,
    events: u64,
    malformed: u64,
    origin: Option<(i64, Instant)>,
}

impl Replay<'_> {
    /// Handles one line (without its newline); false once the engine has gone away.
    async fn line(&mut self, bytes: &[u8]) -> bool {
        self.line_no += 1;
        let parsed = match std::str::from_utf8(bytes) {
            Ok(text) => self
                .parser
                .parse(text, self.instruments)
                .map_err(|err| err.to_string()),
            Err(_) => Err("not UTF-8 text".to_owned()),
        };
        let event = match parsed {
            Ok(Some(event)) => event,
            Ok(None) => return true,
            Err(err) => {
                self.malformed += 1;
                self.metrics.malformed.inc();
                if self.malformed <= MALFORMED_LOGGED {
                    log::warn!(feed = self.name, file:% = self.path.display(), line = self.line_no; "skipping malformed line: {err}");
                }
                return true;
            }
        };
        if self.speed > 0.0 {
            let (t0, start) = *self.origin.get_or_insert((event.ts(), Instant::now()));
            // Timestamps never go backwards (the parser refuses that), so this is >= 0.
            let elapsed = event.ts().saturating_sub(t0).max(0);
            let due = start + Duration::from_secs_f64(elapsed as f64 / 1e9 / self.speed);
            if due > Instant::now() {
                if !send(self.tx, &mut self.batch).await {
                    return false;
                }
                tokio::time::sleep_until(due).await;
            }
        }
        self.events += 1;
        count(self.metrics, &event);
        self.batch.push(event);
        self.batch.len() < BATCH || send(self.tx, &mut self.batch).await
    }
}

async fn replay(
    name: &str,
    path: &std::path::Path,
    config: &ReplayConfig,
    instruments: &Instruments,
    tx: &mpsc::Sender<EngineInput>,
    metrics: &FeedMetrics,
) {
    let file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        Err(err) => {
            log::error!(feed = name, file:% = path.display(); "cannot open replay file: {err}");
            return;
        }
    };
    log::info!(feed = name, file:% = path.display(), speed = config.speed; "replay started");
    metrics.connected.set(1);
    // A large buffer, consumed a whole buffer at a time: each refill of a tokio file is a
    // trip to the blocking pool, and awaiting per line costs more than parsing it.
    let mut reader = tokio::io::BufReader::with_capacity(READ_BUFFER, file);
    let mut replay = Replay {
        name,
        path,
        speed: config.speed,
        instruments,
        tx,
        metrics,
        parser: LineParser::default(),
        batch: Vec::with_capacity(BATCH),
        line_no: 0,
        events: 0,
        malformed: 0,
        origin: None,
    };
    // The start of a line cut by the end of the buffer.
    let mut carry = Vec::new();
    loop {
        let chunk = match reader.fill_buf().await {
            Ok(chunk) => chunk,
            Err(err) => {
                log::error!(feed = name, file:% = path.display(), line = replay.line_no + 1; "cannot read replay file: {err}");
                break;
            }
        };
        if chunk.is_empty() {
            if !carry.is_empty() && !replay.line(&carry).await {
                return;
            }
            break;
        }
        let consumed = chunk.len();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let keep_going = if carry.is_empty() {
                replay.line(&rest[..end]).await
            } else {
                carry.extend_from_slice(&rest[..end]);
                let line = std::mem::take(&mut carry);
                let keep_going = replay.line(&line).await;
                carry = line;
                carry.clear();
                keep_going
            };
            if !keep_going {
                return;
            }
            rest = &rest[end + 1..];
        }
        carry.extend_from_slice(rest);
        reader.consume(consumed);
    }
    let (events, malformed) = (replay.events, replay.malformed);
    if send(tx, &mut replay.batch).await {
        log::info!(feed = name, file:% = path.display(), events, malformed; "replay finished");
    }
}

async fn run_synthetic(
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

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::instrument;

    const SECOND: i64 = 1_000_000_000;

    /// Replays trades at 0 s, 4 s and 10 s at `speed`; returns, per message received,
    /// the (virtual) time since the first one and the number of events in it.
    async fn replay(speed: f64) -> Vec<(Duration, usize)> {
        let lines: Vec<String> = [0, 4, 10]
            .iter()
            .map(|s| format!("{},trade,X,1,1,buy", 1_000 * SECOND + s * SECOND))
            .collect();
        replay_bytes(speed, lines.join("\n").as_bytes(), FeedMetrics::detached()).await
    }

    async fn replay_bytes(speed: f64, text: &[u8], metrics: FeedMetrics) -> Vec<(Duration, usize)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tape.csv");
        std::fs::write(&path, text).unwrap();
        let instruments = Arc::new(Instruments::new([instrument(0, "X", "0.01", "1")]));
        let (tx, mut rx) = mpsc::channel(16);
        let config = ReplayConfig {
            path: path.clone(),
            speed,
        };
        tokio::spawn(run_replay(
            "tape".into(),
            path,
            config,
            instruments,
            tx,
            metrics,
        ));
        let mut received = Vec::new();
        let mut first = None;
        while let Some(input) = rx.recv().await {
            match input {
                EngineInput::Market { events, .. } => {
                    let origin = *first.get_or_insert_with(Instant::now);
                    received.push((Instant::now() - origin, events.len()));
                }
                EngineInput::FeedEnded { .. } => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        received
    }

    #[tokio::test(start_paused = true)]
    async fn replays_at_a_multiple_of_the_recorded_pace() {
        assert_eq!(
            replay(2.0).await,
            vec![
                (Duration::ZERO, 1),
                (Duration::from_secs(2), 1),
                (Duration::from_secs(5), 1)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_line_that_is_not_text_is_skipped() {
        let text = b"1000,trade,X,1,1,buy\n\xff\xfe,trade\n2000,trade,X,1,1,buy\n";
        let metrics = FeedMetrics::detached();
        assert_eq!(
            replay_bytes(0.0, text, metrics.clone()).await,
            vec![(Duration::ZERO, 2)]
        );
        assert_eq!(metrics.trades.get(), 2);
        assert_eq!(metrics.malformed.get(), 1);
        assert!(metrics.ended());
    }

    #[tokio::test(start_paused = true)]
    async fn replays_as_fast_as_possible_in_batches() {
        assert_eq!(replay(0.0).await, vec![(Duration::ZERO, 3)]);
    }
}
