//! A `binance` feed: the trade and book-ticker streams of the configured symbols, over
//! combined-stream connections (`{url}/stream?streams=btcusdt@trade/btcusdt@bookTicker`,
//! web-socket-streams.md), normalized by `venue::binance::market_stream` into the
//! engine's events: a trade stamped with the exchange's time, a book ticker (which has
//! none) with the time it arrived.
//!
//! Each connection carries at most [`SYMBOLS_PER_CONNECTION`] symbols (Binance allows
//! 1024 streams on one); the feed counts as connected (`pennant_feed_connected`, the
//! readiness check, `READY=1`) while all of its connections are. A connection that
//! closes, fails, or brings no market data for `quiet_ms` is counted by reason
//! (`pennant_feed_disconnects_total`) and made again after a backoff with jitter.
//! Binance ends every connection after 24 hours; that is a reconnect like any other.
//! Pings are answered by the socket and do not count as data: a connection that only
//! pings is quiet. A message that cannot be read is counted as malformed and skipped.
//!
//! With `depth_levels`, each symbol's diff depth stream (`@depth@100ms`) comes on the
//! same connection and the feed keeps the symbol's book in sync as Binance documents
//! (`venue::binance::depth`): the first event asks for a REST snapshot
//! (`GET /api/v3/depth?symbol=..&limit=depth_levels`, weight 5 to 250 by limit), fetched
//! beside the connection while events are buffered; a gap in update ids starts the sync
//! again; a lost connection too (events were missed). The book reaches the engine as
//! book levels. A snapshot that cannot be fetched is asked again after a backoff.

use super::{count, send, BATCH, MALFORMED_LOGGED};
use crate::config::BinanceFeedConfig;
use crate::engine::clock::wall_now;
use crate::engine::EngineInput;
use crate::market::{Instruments, MarketEvent};
use crate::metrics::FeedMetrics;
use crate::venue::binance::backoff::backoff;
use crate::venue::binance::depth::{DepthSnapshot, DepthSync, Need};
use crate::venue::binance::market_stream::{self, binance_symbol, stream_names, StreamMessage};
use futures_util::{FutureExt, StreamExt};
use pennant_sdk::InstrumentId;
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// Symbols per connection: two streams each, well inside Binance's 1024, and a URL of a
/// few kilobytes.
pub const SYMBOLS_PER_CONNECTION: usize = 200;
/// The longest wait for a connection to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait for a depth snapshot.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(10);
/// Request weight a minute the feed's depth snapshots may use: half of Binance's 6000
/// per IP, the rest left to the venue on the same IP. After a reconnect every symbol
/// needs a snapshot at once; paced, 200 symbols at 1000 levels (weight 50) take 200 s
/// rather than a 429 and a ban.
pub const SNAPSHOT_WEIGHT_PER_MINUTE: u32 = 3000;

/// The request weight of a depth snapshot of `limit` levels (rest-api.md "Order book").
pub fn snapshot_weight(limit: u32) -> u32 {
    match limit {
        0..=100 => 5,
        101..=500 => 25,
        501..=1000 => 50,
        _ => 250,
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Starts the feed's connections, one task each.
pub fn spawn(
    name: String,
    config: BinanceFeedConfig,
    instruments: &Instruments,
    tx: mpsc::Sender<EngineInput>,
    metrics: FeedMetrics,
) -> Vec<JoinHandle<()>> {
    let mut symbols: Vec<(String, InstrumentId)> = config
        .symbols
        .iter()
        .filter_map(|ours| Some((binance_symbol(ours), instruments.by_symbol(ours)?.id)))
        .collect();
    symbols.sort();
    symbols.dedup();
    let batches: Vec<_> = symbols
        .chunks(SYMBOLS_PER_CONNECTION)
        .map(<[_]>::to_vec)
        .collect();
    let up = Arc::new(Up {
        connections: AtomicUsize::new(0),
        of: batches.len(),
    });
    let config = Arc::new(config);
    let pace = Arc::new(std::sync::Mutex::new(Instant::now()));
    batches
        .into_iter()
        .enumerate()
        .map(|(index, symbols)| {
            let (snapshots_tx, snapshots) = mpsc::unbounded_channel();
            let connection = Connection {
                feed: name.clone(),
                index,
                url: url(&config.url, &symbols, config.depth_levels.is_some()),
                depth: symbols
                    .iter()
                    .filter(|_| config.depth_levels.is_some())
                    .map(|(symbol, id)| (*id, (symbol.clone(), DepthSync::new(*id))))
                    .collect(),
                symbols: symbols.into_iter().collect(),
                http: reqwest::Client::new(),
                pace: pace.clone(),
                snapshots_tx,
                snapshots,
                config: config.clone(),
                tx: tx.clone(),
                metrics: metrics.clone(),
                up: up.clone(),
                malformed: 0,
                snapshot_failures: 0,
            };
            tokio::spawn(connection.run())
        })
        .collect()
}

/// The combined-stream URL of `symbols` (Binance's names), with their depth streams or
/// not.
pub fn url(base: &str, symbols: &[(String, InstrumentId)], depth: bool) -> String {
    let streams: Vec<String> = symbols
        .iter()
        .flat_map(|(symbol, _)| stream_names(symbol, depth))
        .collect();
    format!("{base}/stream?streams={}", streams.join("/"))
}

/// How many of a feed's connections are up; the feed is connected when all are.
struct Up {
    connections: AtomicUsize,
    of: usize,
}

/// Why a connection was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lost {
    Closed,
    Failed,
    Quiet,
    /// The engine is gone: the feed stops.
    EngineGone,
}

/// One combined-stream connection, made again whenever it is lost.
struct Connection {
    feed: String,
    index: usize,
    url: String,
    symbols: FxHashMap<String, InstrumentId>,
    /// Each symbol's book sync (with `depth_levels`), with its Binance name.
    depth: FxHashMap<InstrumentId, (String, DepthSync)>,
    http: reqwest::Client,
    /// When the feed's next depth snapshot may be asked for (shared by its connections).
    pace: Arc<std::sync::Mutex<Instant>>,
    /// Snapshots fetched (or why not), from the fetch tasks.
    snapshots_tx: mpsc::UnboundedSender<(InstrumentId, Result<DepthSnapshot, String>)>,
    snapshots: mpsc::UnboundedReceiver<(InstrumentId, Result<DepthSnapshot, String>)>,
    config: Arc<BinanceFeedConfig>,
    tx: mpsc::Sender<EngineInput>,
    metrics: FeedMetrics,
    up: Arc<Up>,
    malformed: u64,
    /// Depth snapshots that failed in a row, for the backoff.
    snapshot_failures: u32,
}

impl Connection {
    async fn run(mut self) {
        let mut attempts = 0;
        loop {
            let connected =
                tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(&self.url))
                    .await
                    .map_err(|_| "timed out".to_owned())
                    .and_then(|r| r.map_err(|e| e.to_string()));
            match connected {
                Ok((socket, _)) => {
                    log::info!(feed = self.feed.as_str(), connection = self.index, symbols = self.symbols.len(), attempts; "market streams connected");
                    attempts = 0;
                    self.set_up(true);
                    // Whatever was missed while away: every book syncs again, and is
                    // out of sync until then.
                    let mut cleared = Vec::new();
                    for (_, sync) in self.depth.values_mut() {
                        sync.reset(wall_now(), &mut cleared);
                    }
                    if !send(&self.tx, &mut cleared).await {
                        return;
                    }
                    let lost = self.receive(socket).await;
                    self.set_up(false);
                    let reason = match lost {
                        Lost::EngineGone => return,
                        Lost::Closed => {
                            self.metrics.disconnects.closed.inc();
                            "closed by Binance"
                        }
                        Lost::Failed => {
                            self.metrics.disconnects.failed.inc();
                            "failed"
                        }
                        Lost::Quiet => {
                            self.metrics.disconnects.quiet.inc();
                            "quiet"
                        }
                    };
                    log::warn!(feed = self.feed.as_str(), connection = self.index, reason, quiet_ms = self.config.quiet.as_millis() as u64; "market streams lost: connecting again");
                }
                Err(reason) => {
                    log::warn!(feed = self.feed.as_str(), connection = self.index, attempts, reason = reason.as_str(); "cannot connect to the market streams: trying again later");
                }
            }
            if self.tx.is_closed() {
                return;
            }
            let wait = backoff(
                self.config.reconnect_min,
                self.config.reconnect_max,
                attempts,
            );
            attempts = attempts.saturating_add(1);
            tokio::time::sleep(wait).await;
        }
    }

    fn set_up(&self, up: bool) {
        let now = if up {
            self.up.connections.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.up.connections.fetch_sub(1, Ordering::Relaxed) - 1
        };
        self.metrics.connected.set(i64::from(now == self.up.of));
    }

    /// Reads market data until the connection is lost; messages already waiting are
    /// sent to the engine together.
    async fn receive(&mut self, mut socket: Socket) -> Lost {
        let mut batch = Vec::with_capacity(BATCH);
        let mut last_data = Instant::now();
        loop {
            let first = tokio::select! {
                item = tokio::time::timeout_at(last_data + self.config.quiet, socket.next()) => item,
                Some((instrument, snapshot)) = self.snapshots.recv() => {
                    self.on_snapshot(instrument, snapshot, &mut batch);
                    if !send(&self.tx, &mut batch).await {
                        return Lost::EngineGone;
                    }
                    continue;
                }
            };
            let mut next = Some(first.map_err(|_| ()));
            let mut lost = None;
            while let Some(item) = next.take() {
                lost = match item {
                    Err(()) => Some(Lost::Quiet),
                    Ok(None) | Ok(Some(Ok(Message::Close(_)))) => Some(Lost::Closed),
                    Ok(Some(Err(err))) => {
                        log::warn!(feed = self.feed.as_str(), connection = self.index, error:% = err; "market stream error");
                        Some(Lost::Failed)
                    }
                    Ok(Some(Ok(Message::Text(text)))) => {
                        last_data = Instant::now();
                        self.read(text.as_str(), &mut batch)
                    }
                    // Pings are answered by the socket; they are no market data.
                    Ok(Some(Ok(_))) => None,
                };
                if lost.is_none() && batch.len() < BATCH {
                    next = socket.next().now_or_never().map(Ok);
                }
            }
            if !send(&self.tx, &mut batch).await {
                return Lost::EngineGone;
            }
            if let Some(lost) = lost {
                return lost;
            }
        }
    }

    /// Reads one message into `batch`; `Some` when the connection is to be given up.
    fn read(&mut self, text: &str, batch: &mut Vec<MarketEvent>) -> Option<Lost> {
        let received = wall_now();
        match market_stream::parse(text, &self.symbols, received) {
            Ok(StreamMessage::Event(event)) => {
                if let MarketEvent::Trade(trade) = &event {
                    self.metrics.lag.set((received - trade.ts) as f64 / 1e9);
                }
                count(&self.metrics, &event);
                batch.push(event);
            }
            Ok(StreamMessage::Depth(update)) => {
                let instrument = update.instrument;
                let (_, sync) = self.depth.get_mut(&instrument)?;
                let before = batch.len();
                if sync.update(update, batch) == Need::Snapshot {
                    self.fetch_snapshot(instrument, 0);
                }
                for event in &batch[before..] {
                    count(&self.metrics, event);
                }
            }
            Ok(StreamMessage::ServerShutdown) => {
                log::info!(feed = self.feed.as_str(), connection = self.index; "Binance announced a server shutdown: connecting again");
                return Some(Lost::Closed);
            }
            Ok(StreamMessage::Other) => {}
            Err(err) => {
                self.malformed += 1;
                self.metrics.malformed.inc();
                if self.malformed <= MALFORMED_LOGGED {
                    log::warn!(feed = self.feed.as_str(), connection = self.index; "skipping a malformed market stream message: {err}");
                }
            }
        }
        None
    }

    /// Asks for a depth snapshot of `instrument`, after a backoff if `attempt` > 0; the
    /// answer comes back on the snapshot channel.
    fn fetch_snapshot(&self, instrument: InstrumentId, attempt: u32) {
        let Some((symbol, _)) = self.depth.get(&instrument) else {
            return;
        };
        let limit = self.config.depth_levels.unwrap_or(100);
        let url = format!(
            "{}/api/v3/depth?symbol={symbol}&limit={limit}",
            self.config.rest_url
        );
        let backoff = if attempt == 0 {
            Duration::ZERO
        } else {
            backoff(
                self.config.reconnect_min,
                self.config.reconnect_max,
                attempt,
            )
        };
        // The next slot of the feed's snapshot budget, after the backoff.
        let now = Instant::now();
        let at = {
            let mut next = self.pace.lock().unwrap_or_else(|e| e.into_inner());
            let at = (*next).max(now + backoff);
            let spacing =
                Duration::from_secs(60) * snapshot_weight(limit) / SNAPSHOT_WEIGHT_PER_MINUTE;
            *next = at + spacing;
            at
        };
        let (http, tx) = (self.http.clone(), self.snapshots_tx.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let answer = tokio::time::timeout(SNAPSHOT_TIMEOUT, fetch(&http, &url))
                .await
                .unwrap_or_else(|_| Err("timed out".into()));
            let _ = tx.send((
                instrument,
                answer.map_err(|err| format!("{err} (attempt {attempt})")),
            ));
        });
    }

    /// A depth snapshot fetched, or why not: applied, asked again, or retried.
    fn on_snapshot(
        &mut self,
        instrument: InstrumentId,
        snapshot: Result<DepthSnapshot, String>,
        batch: &mut Vec<MarketEvent>,
    ) {
        let Some((symbol, sync)) = self.depth.get_mut(&instrument) else {
            return;
        };
        let need = match snapshot {
            Ok(snapshot) => {
                let before = batch.len();
                let need = sync.snapshot(snapshot, wall_now(), batch);
                for event in &batch[before..] {
                    count(&self.metrics, event);
                }
                if sync.is_synced() {
                    log::info!(feed = self.feed.as_str(), symbol = symbol.as_str(), stats:? = sync.stats(); "order book in sync");
                }
                need
            }
            Err(err) => {
                log::warn!(feed = self.feed.as_str(), symbol = symbol.as_str(); "cannot fetch a depth snapshot: {err}; trying again");
                self.snapshot_failures = self.snapshot_failures.saturating_add(1);
                self.fetch_snapshot(instrument, self.snapshot_failures);
                return;
            }
        };
        self.snapshot_failures = 0;
        if need == Need::Snapshot {
            self.fetch_snapshot(instrument, 0);
        }
    }
}

/// One `GET /api/v3/depth`, read.
async fn fetch(http: &reqwest::Client, url: &str) -> Result<DepthSnapshot, String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "lastUpdateId")]
        last_update_id: u64,
        bids: Vec<(String, String)>,
        asks: Vec<(String, String)>,
    }
    let response = http.get(url).send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "HTTP {status}: {}",
            body.chars().take(200).collect::<String>()
        ));
    }
    let answer: Answer = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    Ok(DepthSnapshot {
        last_update_id: answer.last_update_id,
        bids: market_stream::levels("bids", &answer.bids).map_err(|e| e.to_string())?,
        asks: market_stream::levels("asks", &answer.asks).map_err(|e| e.to_string())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_weigh_what_binance_says_and_are_paced_within_half_the_budget() {
        for (limit, weight) in [
            (5, 5),
            (100, 5),
            (101, 25),
            (500, 25),
            (1000, 50),
            (5000, 250),
        ] {
            assert_eq!(snapshot_weight(limit), weight, "limit {limit}");
        }
        // 1000 levels: one a second; 100 levels: ten a second.
        let spacing =
            |limit| Duration::from_secs(60) * snapshot_weight(limit) / SNAPSHOT_WEIGHT_PER_MINUTE;
        assert_eq!(spacing(1000), Duration::from_secs(1));
        assert_eq!(spacing(100), Duration::from_millis(100));
    }

    #[test]
    fn a_connection_asks_for_the_trades_and_book_tickers_of_its_symbols() {
        let symbols = [("BTCUSDT".to_owned(), 0), ("ETHUSDT".to_owned(), 1)];
        assert_eq!(
            url("wss://stream.binance.com:9443", &symbols, false),
            "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/btcusdt@bookTicker/ethusdt@trade/ethusdt@bookTicker"
        );
    }
}
