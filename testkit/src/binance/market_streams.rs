//! The fake's market streams (web-socket-streams.md): combined-stream connections at
//! `/stream?streams=btcusdt@trade/btcusdt@bookTicker`, each sent the events of the
//! streams it named, wrapped as `{"stream":NAME,"data":PAYLOAD}`: `bookTicker` when the
//! scripted book moves, `trade` when the test prints one, `depthUpdate` when the test
//! changes a depth book (`depth.rs`, with its own faults). Faults: connections closed,
//! new ones refused, a stream gone quiet (connected, sending nothing), a message sent
//! as given (to be malformed), a `serverShutdown` announced.

use futures_util::StreamExt;
use pennant_sdk::{Price, Qty};
use serde_json::{json, Value};
use std::collections::HashSet;
use tokio::sync::mpsc;
use warp::ws::WebSocket;

use super::dec8;

/// One connection: the streams it asked for, and where its messages go.
struct Subscriber {
    streams: HashSet<String>,
    tx: mpsc::UnboundedSender<String>,
}

/// The market streams' state, inside the fake's lock.
#[derive(Default)]
pub(super) struct MarketStreams {
    subscribers: Vec<Subscriber>,
    /// Every connection's query string, in order.
    pub(super) requests: Vec<String>,
    pub(super) refuse: bool,
    /// Connections refused.
    pub(super) refused: u64,
    pub(super) quiet: bool,
    next_trade_id: i64,
    next_update_id: i64,
    /// The books of the diff depth stream and the REST snapshot.
    pub(super) depth: super::depth::DepthBooks,
}

impl MarketStreams {
    /// A new connection asking for `query` (`streams=a/b`); the receiver of its messages.
    pub(super) fn connect(&mut self, query: &str) -> mpsc::UnboundedReceiver<String> {
        self.requests.push(query.to_owned());
        let streams = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("streams="))
            .unwrap_or("")
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.push(Subscriber { streams, tx });
        rx
    }

    /// Sends `data` on stream `name` to the connections that asked for it (none while
    /// quiet).
    pub(super) fn publish(&mut self, name: &str, data: Value) {
        if self.quiet {
            return;
        }
        let text = json!({"stream": name, "data": data}).to_string();
        self.subscribers
            .retain(|s| !s.streams.contains(name) || s.tx.send(text.clone()).is_ok());
    }

    /// The best bid and ask of `symbol` (`BTCUSDT`) changed.
    pub(super) fn book_ticker(&mut self, symbol: &str, bid: Price, ask: Price, size: Qty) {
        self.next_update_id += 1;
        let data = json!({
            "u": self.next_update_id, "s": symbol,
            "b": dec8(bid.raw()), "B": dec8(size.raw()),
            "a": dec8(ask.raw()), "A": dec8(size.raw())
        });
        self.publish(&format!("{}@bookTicker", symbol.to_lowercase()), data);
    }

    /// A trade printed on `symbol`; `buyer_maker`: the buyer's order rested.
    pub(super) fn trade(
        &mut self,
        symbol: &str,
        price: Price,
        qty: Qty,
        buyer_maker: bool,
        ms: i64,
    ) {
        self.next_trade_id += 1;
        let data = json!({
            "e": "trade", "E": ms, "s": symbol, "t": self.next_trade_id,
            "p": dec8(price.raw()), "q": dec8(qty.raw()), "T": ms,
            "m": buyer_maker, "M": true
        });
        self.publish(&format!("{}@trade", symbol.to_lowercase()), data);
    }

    /// Sends `text` as it is to every connection.
    pub(super) fn raw(&mut self, text: &str) {
        self.subscribers
            .retain(|s| s.tx.send(text.to_owned()).is_ok());
    }

    /// Announces a server shutdown to every connection, as Binance does before closing.
    pub(super) fn server_shutdown(&mut self, ms: i64) {
        let text = json!({"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": ms}});
        self.raw(&text.to_string());
    }

    /// Closes every connection.
    pub(super) fn close_all(&mut self) {
        self.subscribers.clear();
    }

    /// Connections open now.
    pub(super) fn open(&self) -> usize {
        self.subscribers
            .iter()
            .filter(|s| !s.tx.is_closed())
            .count()
    }
}

/// One market stream connection: its messages sent until the fake drops it or the
/// client leaves. Pings from the client are answered by warp.
pub(super) async fn session(socket: WebSocket, mut messages: mpsc::UnboundedReceiver<String>) {
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(message)) if !message.is_close() => {}
                _ => return,
            },
            message = messages.recv() => {
                if !super::deliver(&mut sink, message).await {
                    return;
                }
            }
        }
    }
}
