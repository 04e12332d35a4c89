//! A `replay` feed: a recorded file (the format is `market::replay`'s), paced at a
//! multiple of its own time or as fast as possible, then [`EngineInput::FeedEnded`].

use super::{count, send, BATCH, MALFORMED_LOGGED};
use crate::config::ReplayConfig;
use crate::engine::EngineInput;
use crate::market::replay::LineParser;
use crate::market::{Instruments, MarketEvent};
use crate::metrics::FeedMetrics;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Read buffer of a replay file.
const READ_BUFFER: usize = 1 << 20;

/// Replays a file, then tells the engine the feed has ended, whatever happened.
pub async fn run(
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
        tokio::spawn(run("tape".into(), path, config, instruments, tx, metrics));
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
