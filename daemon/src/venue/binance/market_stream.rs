//! Market streams (web-socket-streams.md): `trade`, `bookTicker` and `depthUpdate` (the
//! diff depth stream, `<symbol>@depth@100ms`) messages, bare or on a combined connection
//! (`{"stream": "btcusdt@trade", "data": {...}}`), normalized into the engine's events,
//! or for depth into a [`DepthUpdate`] for [`super::depth::DepthSync`]. A trade carries the exchange's time (`T`); a book ticker has
//! none, so it is stamped with the time it was received. A `serverShutdown` event says
//! the connection is about to end: the feed connects again at once.

use super::depth::DepthUpdate;
use crate::market::MarketEvent;
use pennant_sdk::{InstrumentId, Price, Qty, Quote, Side, Timestamp, Trade};
use rustc_hash::FxHashMap;
use serde::Deserialize;

/// Binance's name of our symbol: `BTC-USDT` is `BTCUSDT` (base and quote asset, joined).
pub fn binance_symbol(ours: &str) -> String {
    ours.replace('-', "")
}

/// The names of the streams of `symbol` (Binance's name) this feed reads: its trades and
/// its best bid and ask, and with `depth` its diff depth stream at 100 ms. Stream names
/// are lowercase.
pub fn stream_names(symbol: &str, depth: bool) -> Vec<String> {
    let lower = symbol.to_lowercase();
    let mut names = vec![format!("{lower}@trade"), format!("{lower}@bookTicker")];
    if depth {
        names.push(format!("{lower}@depth@100ms"));
    }
    names
}

/// Why a message cannot be used (counted as malformed and skipped by the feed).
#[derive(Debug, thiserror::Error)]
pub enum MarketStreamError {
    /// Not the JSON Binance documents.
    #[error("market stream: {0}")]
    Json(#[from] serde_json::Error),
    /// A symbol no `[[instrument]]` maps to.
    #[error("market stream: unknown symbol {0:?}")]
    UnknownSymbol(String),
    /// A price or quantity is not a decimal we can hold.
    #[error("market stream: {field} {value:?} is not a decimal with at most 8 places")]
    Decimal {
        /// The field.
        field: &'static str,
        /// As sent.
        value: String,
    },
}

#[derive(Deserialize)]
struct TradeMsg {
    s: String,
    p: String,
    q: String,
    #[serde(rename = "T")]
    time: i64,
    /// The buyer was the maker: the aggressor sold.
    m: bool,
}

#[derive(Deserialize)]
struct DepthMsg {
    s: String,
    #[serde(rename = "E")]
    time: i64,
    #[serde(rename = "U")]
    first: u64,
    u: u64,
    b: Vec<(String, String)>,
    a: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct BookTickerMsg {
    s: String,
    b: String,
    #[serde(rename = "B")]
    bid_qty: String,
    a: String,
    #[serde(rename = "A")]
    ask_qty: String,
}

fn decimal<T: std::str::FromStr>(field: &'static str, value: &str) -> Result<T, MarketStreamError> {
    value.parse().map_err(|_| MarketStreamError::Decimal {
        field,
        value: value.to_owned(),
    })
}

/// What one message on a market stream connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamMessage {
    /// A trade or a best bid/ask.
    Event(MarketEvent),
    /// A diff depth event, for the symbol's book sync.
    Depth(DepthUpdate),
    /// The server is about to shut down and close the connection.
    ServerShutdown,
    /// Anything else (a subscription's answer): nothing to do.
    Other,
}

/// Reads one message; `symbols` maps Binance's symbols (`BTCUSDT`) to our instruments,
/// and `received` is the wall time of its arrival (ns). `None` for a message that is no
/// event.
pub fn parse(
    text: &str,
    symbols: &FxHashMap<String, InstrumentId>,
    received: Timestamp,
) -> Result<StreamMessage, MarketStreamError> {
    let instrument = |symbol: &str| {
        symbols
            .get(symbol)
            .copied()
            .ok_or_else(|| MarketStreamError::UnknownSymbol(symbol.to_owned()))
    };
    // A combined stream's message names its stream: read it straight into its type.
    match combined_stream(text) {
        Some(name) if name.ends_with("@trade") => {
            let message: Combined<TradeMsg> = serde_json::from_str(text)?;
            return trade(message.data, instrument);
        }
        Some(name) if name.ends_with("@bookTicker") => {
            let message: Combined<BookTickerMsg> = serde_json::from_str(text)?;
            return quote(message.data, received, instrument);
        }
        Some(name) if name.contains("@depth") => {
            let message: Combined<DepthMsg> = serde_json::from_str(text)?;
            return depth(message.data, instrument);
        }
        _ => {}
    }
    let mut value: serde_json::Value = serde_json::from_str(text)?;
    if let Some(data) = value.get_mut("data") {
        value = data.take();
    }
    let kind = value.get("e").and_then(|e| e.as_str());
    if kind == Some("serverShutdown") {
        return Ok(StreamMessage::ServerShutdown);
    }
    if kind == Some("trade") {
        return trade(serde_json::from_value(value)?, instrument);
    }
    if kind == Some("depthUpdate") {
        return depth(serde_json::from_value(value)?, instrument);
    }
    if value.get("u").is_some() && value.get("b").is_some() {
        return quote(serde_json::from_value(value)?, received, instrument);
    }
    Ok(StreamMessage::Other)
}

/// The stream a combined-stream message names (`{"stream":"btcusdt@trade",...}`); stream
/// names hold no characters JSON escapes.
fn combined_stream(text: &str) -> Option<&str> {
    let start = text.find(r#""stream":""#)? + r#""stream":""#.len();
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

#[derive(Deserialize)]
struct Combined<T> {
    data: T,
}

fn trade(
    t: TradeMsg,
    instrument: impl Fn(&str) -> Result<InstrumentId, MarketStreamError>,
) -> Result<StreamMessage, MarketStreamError> {
    Ok(StreamMessage::Event(MarketEvent::Trade(Trade {
        instrument: instrument(&t.s)?,
        ts: t.time.saturating_mul(1_000_000),
        price: decimal::<Price>("p", &t.p)?,
        qty: decimal::<Qty>("q", &t.q)?,
        aggressor: if t.m { Side::Sell } else { Side::Buy },
    })))
}

/// Price levels as Binance writes them: `[["price", "qty"], ...]`.
pub fn levels(
    field: &'static str,
    raw: &[(String, String)],
) -> Result<Vec<(Price, Qty)>, MarketStreamError> {
    raw.iter()
        .map(|(p, q)| Ok((decimal(field, p)?, decimal(field, q)?)))
        .collect()
}

fn depth(
    d: DepthMsg,
    instrument: impl Fn(&str) -> Result<InstrumentId, MarketStreamError>,
) -> Result<StreamMessage, MarketStreamError> {
    Ok(StreamMessage::Depth(DepthUpdate {
        instrument: instrument(&d.s)?,
        ts: d.time.saturating_mul(1_000_000),
        first: d.first,
        last: d.u,
        bids: levels("b", &d.b)?,
        asks: levels("a", &d.a)?,
    }))
}

fn quote(
    q: BookTickerMsg,
    received: Timestamp,
    instrument: impl Fn(&str) -> Result<InstrumentId, MarketStreamError>,
) -> Result<StreamMessage, MarketStreamError> {
    Ok(StreamMessage::Event(MarketEvent::Quote(Quote {
        instrument: instrument(&q.s)?,
        ts: received,
        bid_price: decimal("b", &q.b)?,
        bid_qty: decimal("B", &q.bid_qty)?,
        ask_price: decimal("a", &q.a)?,
        ask_qty: decimal("A", &q.ask_qty)?,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{px, qty};

    fn check(text: &str) -> Result<StreamMessage, MarketStreamError> {
        let symbols = [(binance_symbol("BNB-BTC"), 0)].into_iter().collect();
        parse(text, &symbols, 42)
    }

    #[test]
    fn our_symbols_name_binances_streams() {
        assert_eq!(binance_symbol("BTC-USDT"), "BTCUSDT");
        assert_eq!(
            stream_names("BTCUSDT", false),
            ["btcusdt@trade", "btcusdt@bookTicker"]
        );
        assert_eq!(
            stream_names("BTCUSDT", true),
            ["btcusdt@trade", "btcusdt@bookTicker", "btcusdt@depth@100ms"]
        );
    }

    #[test]
    fn trades_and_book_tickers_become_events() {
        // The documentation's examples, the trade on a combined stream.
        let trade = r#"{"stream":"bnbbtc@trade","data":{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}}"#;
        let StreamMessage::Event(MarketEvent::Trade(t)) = check(trade).unwrap() else {
            panic!("a trade");
        };
        assert_eq!(
            (t.ts, t.price, t.qty, t.aggressor),
            (
                1_672_515_782_136_000_000,
                px("0.001"),
                qty("100"),
                Side::Sell
            )
        );
        let ticker = r#"{"u":400900217,"s":"BNBBTC","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#;
        let combined = format!(r#"{{"stream":"bnbbtc@bookTicker","data":{ticker}}}"#);
        for text in [ticker, combined.as_str()] {
            let StreamMessage::Event(MarketEvent::Quote(q)) = check(text).unwrap() else {
                panic!("a quote: {text}");
            };
            assert_eq!(
                (q.ts, q.bid_price, q.bid_qty, q.ask_price, q.ask_qty),
                (42, px("25.3519"), qty("31.21"), px("25.3652"), qty("40.66"))
            );
        }
        let bare = r#"{"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"0.001","q":"100","T":1,"m":false,"M":true}"#;
        assert!(matches!(
            check(bare).unwrap(),
            StreamMessage::Event(MarketEvent::Trade(Trade {
                aggressor: Side::Buy,
                ..
            }))
        ));
        assert_eq!(
            check(r#"{"result":null,"id":1}"#).unwrap(),
            StreamMessage::Other
        );
        // The diff depth stream's example, bare and combined.
        let depth = r#"{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}"#;
        let combined = format!(r#"{{"stream":"bnbbtc@depth@100ms","data":{depth}}}"#);
        for text in [depth, combined.as_str()] {
            assert_eq!(
                check(text).unwrap(),
                StreamMessage::Depth(DepthUpdate {
                    instrument: 0,
                    ts: 1_672_515_782_136_000_000,
                    first: 157,
                    last: 160,
                    bids: vec![(px("0.0024"), qty("10"))],
                    asks: vec![(px("0.0026"), qty("100"))],
                }),
                "{text}"
            );
        }
        let shutdown =
            r#"{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}"#;
        assert_eq!(check(shutdown).unwrap(), StreamMessage::ServerShutdown);
    }

    #[test]
    fn a_bad_message_is_an_error_to_count() {
        let unknown = r#"{"u":1,"s":"ETHBTC","b":"1","B":"1","a":"1","A":"1"}"#;
        assert!(
            matches!(check(unknown), Err(MarketStreamError::UnknownSymbol(s)) if s == "ETHBTC")
        );
        let bad = r#"{"e":"trade","s":"BNBBTC","p":"x","q":"1","T":1,"m":false}"#;
        assert!(matches!(
            check(bad),
            Err(MarketStreamError::Decimal { field: "p", .. })
        ));
        assert!(check("{").is_err());
    }
}
