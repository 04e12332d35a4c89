//! A `replay` feed: a recorded file, paced at a multiple of its own time or as fast as
//! possible, then [`EngineInput::FeedEnded`]. The file is text (`market::replay`'s
//! format) or binary (`market::binary`'s), told apart by the binary format's magic.

use super::{count, send, BATCH, MALFORMED_LOGGED};
use crate::config::ReplayConfig;
use crate::engine::EngineInput;
use crate::market::binary::{self, Header, RECORD_LEN};
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
    /// The last record's time (binary files; the text parser keeps its own).
    last_ts: Option<i64>,
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
        match parsed {
            Ok(Some(event)) => self.event(event).await,
            Ok(None) => true,
            Err(err) => {
                self.malformed(&err, "line");
                true
            }
        }
    }

    /// Handles one record of a binary file (`line_no` counts records); false once the
    /// engine has gone away.
    async fn record(&mut self, header: &Header, record: &[u8; RECORD_LEN]) -> bool {
        self.line_no += 1;
        let event = match header.decode(record) {
            Ok(event) => event,
            Err(err) => {
                self.malformed(&err.to_string(), "record");
                return true;
            }
        };
        if let Some(&previous) = self.last_ts.as_ref().filter(|&&p| event.ts() < p) {
            let err = format!("timestamp {} goes back before {previous}", event.ts());
            self.malformed(&err, "record");
            return true;
        }
        self.last_ts = Some(event.ts());
        self.event(event).await
    }

    fn malformed(&mut self, err: &str, what: &str) {
        self.malformed += 1;
        self.metrics.malformed.inc();
        if self.malformed <= MALFORMED_LOGGED {
            log::warn!(feed = self.name, file:% = self.path.display(), line = self.line_no; "skipping malformed {what}: {err}");
        }
    }

    /// Paces and batches one event; false once the engine has gone away.
    async fn event(&mut self, event: MarketEvent) -> bool {
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
        last_ts: None,
    };
    let binary = match reader.fill_buf().await {
        Ok(start) => binary::is_binary(start),
        Err(err) => {
            log::error!(feed = name, file:% = path.display(); "cannot read replay file: {err}");
            return;
        }
    };
    let finished = if binary {
        replay_binary(&mut reader, &mut replay).await
    } else {
        replay_text(&mut reader, &mut replay).await
    };
    if !finished {
        return;
    }
    let (events, malformed) = (replay.events, replay.malformed);
    if send(tx, &mut replay.batch).await {
        log::info!(feed = name, file:% = path.display(), events, malformed, binary; "replay finished");
    }
}

/// The text format, line by line; false once the engine has gone away.
async fn replay_text(
    reader: &mut tokio::io::BufReader<tokio::fs::File>,
    replay: &mut Replay<'_>,
) -> bool {
    let (name, path) = (replay.name, replay.path);
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
            return carry.is_empty() || replay.line(&carry).await;
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
                return false;
            }
            rest = &rest[end + 1..];
        }
        carry.extend_from_slice(rest);
        reader.consume(consumed);
    }
    true
}

/// The binary format, record by record; false once the engine has gone away (or the
/// file cannot be read: nothing more to send).
async fn replay_binary(
    reader: &mut tokio::io::BufReader<tokio::fs::File>,
    replay: &mut Replay<'_>,
) -> bool {
    let (name, path) = (replay.name, replay.path);
    // The header, then the start of a record cut by the end of the buffer.
    let mut carry = Vec::new();
    let mut header = None;
    loop {
        let chunk = match reader.fill_buf().await {
            Ok(chunk) => chunk,
            Err(err) => {
                log::error!(feed = name, file:% = path.display(), record = replay.line_no + 1; "cannot read replay file: {err}");
                return true;
            }
        };
        if chunk.is_empty() {
            if header.is_none() {
                log::error!(feed = name, file:% = path.display(); "binary replay file ends inside its header");
            } else if !carry.is_empty() {
                replay.malformed(
                    &format!("{} bytes left over at the end", carry.len()),
                    "record",
                );
            }
            return true;
        }
        let consumed = chunk.len();
        let mut rest = chunk;
        let header = match &header {
            Some(header) => header,
            None => {
                carry.extend_from_slice(rest);
                rest = &[];
                match Header::read(&carry, replay.instruments) {
                    Ok(None) => {
                        reader.consume(consumed);
                        continue;
                    }
                    Ok(Some(read)) => {
                        for (symbol, id) in read.symbols.iter().zip(&read.instruments) {
                            if id.is_none() {
                                log::warn!(feed = name, file:% = path.display(), symbol = symbol.as_str(); "symbol not configured: its records are skipped");
                            }
                        }
                        carry.drain(..read.len);
                        header.insert(read)
                    }
                    Err(err) => {
                        log::error!(feed = name, file:% = path.display(); "cannot replay: {err}");
                        return true;
                    }
                }
            }
        };
        if !carry.is_empty() {
            // Complete the record cut by the last buffer's end (or, after the header, the
            // records read with it), then replay every whole record held.
            let need = (RECORD_LEN - carry.len() % RECORD_LEN) % RECORD_LEN;
            let take = need.min(rest.len());
            carry.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            let whole = carry.len() - carry.len() % RECORD_LEN;
            let held: Vec<u8> = carry.drain(..whole).collect();
            for record in held.as_chunks::<RECORD_LEN>().0 {
                if !replay.record(header, record).await {
                    return false;
                }
            }
        }
        let (records, remainder) = rest.as_chunks::<RECORD_LEN>();
        for record in records {
            if !replay.record(header, record).await {
                return false;
            }
        }
        carry.extend_from_slice(remainder);
        reader.consume(consumed);
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
        replay_events(speed, text, metrics)
            .await
            .into_iter()
            .map(|(at, events)| (at, events.len()))
            .collect()
    }

    async fn replay_events(
        speed: f64,
        text: &[u8],
        metrics: FeedMetrics,
    ) -> Vec<(Duration, Vec<MarketEvent>)> {
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
                    received.push((Instant::now() - origin, events));
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
    async fn a_binary_file_replays_the_events_of_its_text() {
        // More than a read buffer, so that records are cut by the buffer's end.
        let mut text = String::new();
        for i in 0..30_000i64 {
            let ts = 1_000 * SECOND + i;
            match i % 3 {
                0 => text += &format!("{ts},trade,X,{}.5,1,buy\n", 100 + i % 7),
                1 => text += &format!("{ts},book,X,{i},bid,{},2,last\n", 90 + i % 5),
                _ => text += &format!("{ts},quote,X,99,1,101,2\n"),
            }
        }
        let mut binary = Vec::new();
        crate::market::convert::text_to_binary(|| Ok(text.as_bytes()), &mut binary).unwrap();
        assert!(binary.len() > READ_BUFFER);
        let all = |batches: Vec<(Duration, Vec<MarketEvent>)>| -> Vec<MarketEvent> {
            batches.into_iter().flat_map(|(_, events)| events).collect()
        };
        let from_text = all(replay_events(0.0, text.as_bytes(), FeedMetrics::detached()).await);
        let metrics = FeedMetrics::detached();
        let from_binary = all(replay_events(0.0, &binary, metrics.clone()).await);
        assert_eq!(from_text.len(), 30_000);
        assert_eq!(from_binary, from_text);
        assert_eq!(metrics.book.get(), 10_000);
        assert_eq!(metrics.malformed.get(), 0);

        // A small file (read in one buffer) with a cut last record: the whole ones replay.
        let mut small = Vec::new();
        crate::market::convert::text_to_binary(
            || Ok("1000000000000,trade,X,1,1,buy\n1000000000001,trade,X,2,1,sell\n".as_bytes()),
            &mut small,
        )
        .unwrap();
        small.truncate(small.len() - 1);
        let metrics = FeedMetrics::detached();
        let events = all(replay_events(0.0, &small, metrics.clone()).await);
        assert_eq!((events.len(), metrics.malformed.get()), (1, 1));

        // A record going back in time and a cut last record are counted and skipped.
        let mut damaged = binary.clone();
        let first = damaged.len() - 2 * RECORD_LEN;
        damaged[first..first + 8].copy_from_slice(&0i64.to_le_bytes());
        damaged.truncate(damaged.len() - 5);
        let metrics = FeedMetrics::detached();
        let events = all(replay_events(0.0, &damaged, metrics.clone()).await);
        assert_eq!(events.len(), 29_998);
        assert_eq!(metrics.malformed.get(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn replays_as_fast_as_possible_in_batches() {
        assert_eq!(replay(0.0).await, vec![(Duration::ZERO, 3)]);
    }
}
