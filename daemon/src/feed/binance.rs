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

use super::{count, send, BATCH, MALFORMED_LOGGED};
use crate::config::BinanceFeedConfig;
use crate::engine::clock::wall_now;
use crate::engine::EngineInput;
use crate::market::{Instruments, MarketEvent};
use crate::metrics::FeedMetrics;
use crate::venue::binance::backoff::backoff;
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
    batches
        .into_iter()
        .enumerate()
        .map(|(index, symbols)| {
            let connection = Connection {
                feed: name.clone(),
                index,
                url: url(&config.url, &symbols),
                symbols: symbols.into_iter().collect(),
                config: config.clone(),
                tx: tx.clone(),
                metrics: metrics.clone(),
                up: up.clone(),
                malformed: 0,
            };
            tokio::spawn(connection.run())
        })
        .collect()
}

/// The combined-stream URL of `symbols` (Binance's names).
pub fn url(base: &str, symbols: &[(String, InstrumentId)]) -> String {
    let streams: Vec<String> = symbols
        .iter()
        .flat_map(|(symbol, _)| stream_names(symbol))
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
    config: Arc<BinanceFeedConfig>,
    tx: mpsc::Sender<EngineInput>,
    metrics: FeedMetrics,
    up: Arc<Up>,
    malformed: u64,
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
            let first = tokio::time::timeout_at(last_data + self.config.quiet, socket.next()).await;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_asks_for_the_trades_and_book_tickers_of_its_symbols() {
        let symbols = [("BTCUSDT".to_owned(), 0), ("ETHUSDT".to_owned(), 1)];
        assert_eq!(
            url("wss://stream.binance.com:9443", &symbols),
            "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/btcusdt@bookTicker/ethusdt@trade/ethusdt@bookTicker"
        );
    }
}
