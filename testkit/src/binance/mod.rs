//! A fake Binance spot exchange on loopback, written from Binance's REST API
//! documentation (rest-api.md, filters.md, errors.md; notes in
//! `../shared/research/binance-spot.md`), not from the daemon's adapter: it checks
//! `X-MBX-APIKEY`, the HMAC-SHA256 signature over the query string and the body, the
//! timestamp against `recvWindow`; applies the symbols' filters (`-1013`); refuses
//! duplicate client order ids and post-only orders that would take (`-2010`); answers
//! unknown orders (`-2011` on cancel, `-2013` on query); matches orders against a scripted
//! top of book; reports the weight and order counts in its headers; and injects faults
//! on demand (429 with `Retry-After`, 418, a 500 after it accepted an order, an answer
//! held past the client's timeout).
//!
//! The REST subset the adapter uses: `GET /api/v3/time`, `GET /api/v3/exchangeInfo`,
//! `POST`/`DELETE`/`GET /api/v3/order`, `GET /api/v3/openOrders`, `GET /api/v3/allOrders`,
//! `GET /api/v3/account`, `GET /api/v3/myTrades`; and the feed's `GET /api/v3/depth`
//! (the books of `depth.rs`).
//!
//! The user data stream as the WebSocket API serves it (web-socket-api.md,
//! user-data-stream.md): at `/ws-api/v3`, `userDataStream.subscribe.signature` (HMAC
//! over the sorted parameters) subscribes the connection, which then receives
//! `{"subscriptionId":0,"event":{...}}` with the `executionReport` of every order change
//! (NEW, TRADE, CANCELED, EXPIRED) and, once balances are set, `outboundAccountPosition`. Resting limit orders
//! fill, as makers, when the scripted book moves through them, or partly when another
//! client's order takes less than they hold (`trade_through`). Faults: connections
//! dropped, new ones refused, every event sent twice, events sent late, a stream gone
//! quiet. An event with no subscriber is
//! lost, as it is at Binance: the client finds it again with `myTrades`.
//!
//! The market streams ([`market_streams`]): combined-stream connections at `/stream`,
//! sent `bookTicker` as the scripted book moves and `trade` as the test prints trades.

mod depth;
mod market_streams;

pub use depth::{DepthFault, Levels};

use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use pennant_sdk::{Price, Qty};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use warp::http::{Response, StatusCode};
use warp::ws::{Message, WebSocket, Ws};
use warp::{Filter, Reply};

/// A symbol the fake lists, with its filters.
#[derive(Debug, Clone)]
pub struct FakeSymbol {
    /// `BTCUSDT`.
    pub symbol: String,
    /// `BTC`.
    pub base: String,
    /// `USDT`.
    pub quote: String,
    /// `PRICE_FILTER` tickSize.
    pub tick_size: Price,
    /// `LOT_SIZE` stepSize.
    pub step_size: Qty,
    /// `LOT_SIZE` minQty.
    pub min_qty: Qty,
    /// `LOT_SIZE` maxQty.
    pub max_qty: Qty,
    /// `NOTIONAL` minNotional.
    pub min_notional: Price,
    /// `TRADING`, `BREAK`, `HALT`...; a symbol not `TRADING` refuses orders with
    /// `-2010` "Market is closed."
    pub status: String,
}

impl FakeSymbol {
    /// BTCUSDT as Binance lists it: tick 0.01, step 0.00001, notional at least 5.
    pub fn btcusdt() -> Self {
        let d = |s: &str| s.parse().unwrap_or_default();
        FakeSymbol {
            symbol: "BTCUSDT".into(),
            base: "BTC".into(),
            quote: "USDT".into(),
            tick_size: d("0.01"),
            step_size: Qty::from_raw(1_000),
            min_qty: Qty::from_raw(1_000),
            max_qty: Qty::from_raw(9_000 * 100_000_000),
            min_notional: d("5"),
            status: "TRADING".into(),
        }
    }
}

/// A fault the next request meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429 `-1003`, with `Retry-After` seconds.
    TooManyRequests(u64),
    /// HTTP 418 (an IP ban), with `Retry-After` seconds.
    Banned(u64),
    /// The order is accepted, then the answer is an HTTP 500: its status is unknown to
    /// the client.
    ServerErrorAfterAccept,
    /// The order is accepted, and the answer sent only after this many milliseconds: a
    /// client that gives up sooner (a timeout) does not know its status.
    AnswerAfter(u64),
}

/// A trade of the account, as `myTrades` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeTrade {
    /// The trade id (per symbol at Binance; unique here).
    pub id: i64,
    /// The order's Binance id.
    pub order_id: u64,
    /// The symbol.
    pub symbol: String,
    /// Price.
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Commission: 0.1% of what the account receives (base on a buy, quote on a sell).
    pub commission: Price,
    /// Its asset.
    pub commission_asset: String,
    /// The account bought.
    pub is_buyer: bool,
    /// The order rested (maker).
    pub is_maker: bool,
    /// When, ms.
    pub time: i64,
}

/// An order the fake holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeOrder {
    /// Binance's id.
    pub order_id: u64,
    /// The client's.
    pub client_id: String,
    /// The symbol.
    pub symbol: String,
    /// `BUY` or `SELL`.
    pub side: String,
    /// `LIMIT`, `LIMIT_MAKER`, `MARKET`.
    pub kind: String,
    /// `GTC`, `IOC` (empty for market and limit-maker orders).
    pub time_in_force: String,
    /// Limit price (zero for market orders).
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Executed so far.
    pub executed: Qty,
    /// The quote amount executed.
    pub quote_executed: Price,
    /// `NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, `EXPIRED`.
    pub status: String,
    /// When it was placed, ms.
    pub time: i64,
}

/// A rate limit's fixed window (Binance counts per calendar interval): what was used
/// since it began.
struct Window {
    length_ms: i64,
    start: i64,
    used: u64,
}

impl Window {
    fn new(length_ms: i64) -> Self {
        Window {
            length_ms,
            start: 0,
            used: 0,
        }
    }

    /// Counts `n` more at `ms`; what the current window has used.
    fn add(&mut self, ms: i64, n: u64) -> u64 {
        let start = ms - ms.rem_euclid(self.length_ms);
        if start != self.start {
            self.start = start;
            self.used = 0;
        }
        self.used += n;
        self.used
    }
}

struct State {
    api_key: String,
    secret: String,
    clock_offset_ms: i64,
    symbols: Vec<FakeSymbol>,
    books: Vec<(String, Price, Price)>,
    orders: Vec<FakeOrder>,
    next_order_id: u64,
    weight: Window,
    orders_10s: Window,
    orders_1d: Window,
    faults: VecDeque<Fault>,
    requests: Vec<(std::time::Instant, String)>,
    balances: Vec<(String, Price, Price)>,
    trades: Vec<FakeTrade>,
    subscribers: Vec<mpsc::UnboundedSender<String>>,
    refuse_streams: bool,
    duplicate_events: bool,
    /// User data stream events are dropped (the connection stays open) while set.
    quiet_events: bool,
    /// Each user data stream event waits this long before it is sent.
    event_delay: Option<std::time::Duration>,
    connections: u64,
    market: market_streams::MarketStreams,
    /// How long the answer being made waits before it is sent.
    answer_delay: Option<std::time::Duration>,
}

/// See the module docs. Stops when dropped.
pub struct FakeBinance {
    base_url: String,
    state: Arc<Mutex<State>>,
    _runtime: tokio::runtime::Runtime,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Binance writes decimals with 8 places.
fn dec8(raw: i64) -> String {
    let sign = if raw < 0 { "-" } else { "" };
    let raw = raw.unsigned_abs();
    format!("{sign}{}.{:08}", raw / 100_000_000, raw % 100_000_000)
}

fn error(status: u16, code: i64, msg: &str) -> (u16, Value) {
    (status, json!({"code": code, "msg": msg}))
}

impl FakeBinance {
    /// Starts the fake for an account with `api_key` and `secret`, listing `symbols`.
    pub fn start(api_key: &str, secret: &str, symbols: Vec<FakeSymbol>) -> FakeBinance {
        Self::start_on("127.0.0.1:0", api_key, secret, symbols)
            .expect("a loopback port for the fake exchange")
    }

    /// Starts the fake listening on `addr` (`127.0.0.1:18090`, say); an error when the
    /// address cannot be bound.
    pub fn start_on(
        addr: &str,
        api_key: &str,
        secret: &str,
        symbols: Vec<FakeSymbol>,
    ) -> std::io::Result<FakeBinance> {
        let state = Arc::new(Mutex::new(State {
            api_key: api_key.into(),
            secret: secret.into(),
            clock_offset_ms: 0,
            symbols,
            books: Vec::new(),
            orders: Vec::new(),
            next_order_id: 1,
            weight: Window::new(60_000),
            orders_10s: Window::new(10_000),
            orders_1d: Window::new(86_400_000),
            faults: VecDeque::new(),
            requests: Vec::new(),
            balances: Vec::new(),
            trades: Vec::new(),
            subscribers: Vec::new(),
            refuse_streams: false,
            duplicate_events: false,
            quiet_events: false,
            event_delay: None,
            connections: 0,
            market: market_streams::MarketStreams::default(),
            answer_delay: None,
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let shared = state.clone();
        let ws_state = state.clone();
        let ws_api = warp::path!("ws-api" / "v3")
            .and(warp::ws())
            .map(move |ws: Ws| {
                let state = ws_state.clone();
                if lock(&state).refuse_streams {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                ws.on_upgrade(move |socket| ws_session(socket, state))
                    .into_response()
            });
        let market_state = state.clone();
        let market = warp::path!("stream")
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::ws())
            .map(move |query: String, ws: Ws| {
                let mut state = lock(&market_state);
                if state.market.refuse {
                    state.market.refused += 1;
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                let messages = state.market.connect(&query);
                ws.on_upgrade(move |socket| market_streams::session(socket, messages))
                    .into_response()
            });
        let filter = warp::any()
            .and(warp::method())
            .and(warp::path::full())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .map(
                move |method: warp::http::Method,
                      path: warp::path::FullPath,
                      query: String,
                      headers: warp::http::HeaderMap,
                      body: bytes::Bytes| {
                    let key = headers
                        .get("x-mbx-apikey")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    let body = String::from_utf8_lossy(&body).into_owned();
                    let mut state = lock(&shared);
                    let (status, extra, value) =
                        state.handle(method.as_str(), path.as_str(), &query, &body, &key);
                    let mut response = Response::builder()
                        .status(
                            StatusCode::from_u16(status)
                                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                        )
                        .header("content-type", "application/json;charset=UTF-8")
                        .header(
                            "x-mbx-used-weight-1m",
                            state.weight.add(now_ms(), 0).to_string(),
                        );
                    if path.as_str() == "/api/v3/order" && method == warp::http::Method::POST {
                        let ms = now_ms();
                        response = response
                            .header(
                                "x-mbx-order-count-10s",
                                state.orders_10s.add(ms, 0).to_string(),
                            )
                            .header(
                                "x-mbx-order-count-1d",
                                state.orders_1d.add(ms, 0).to_string(),
                            );
                    }
                    for (name, value) in extra {
                        response = response.header(name, value);
                    }
                    let text = if value.is_null() {
                        String::new()
                    } else {
                        value.to_string()
                    };
                    let delay = state.answer_delay.take();
                    let response = response
                        .body(text)
                        .unwrap_or_else(|_| Response::new(String::new()));
                    (response, delay)
                },
            )
            .then(
                |(response, delay): (Response<String>, Option<std::time::Duration>)| async move {
                    if let Some(delay) = delay {
                        tokio::time::sleep(delay).await;
                    }
                    response
                },
            );
        let listener = runtime.block_on(tokio::net::TcpListener::bind(addr))?;
        let addr = listener.local_addr()?;
        runtime.spawn(
            warp::serve(ws_api.or(market).or(filter))
                .incoming(listener)
                .run(),
        );
        Ok(FakeBinance {
            base_url: format!("http://{addr}"),
            state,
            _runtime: runtime,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `ws://127.0.0.1:PORT/ws-api/v3`: the WebSocket API.
    pub fn ws_api_url(&self) -> String {
        format!("{}/ws-api/v3", self.base_url.replacen("http", "ws", 1))
    }

    /// `ws://127.0.0.1:PORT`: the market streams' base URL.
    pub fn market_stream_url(&self) -> String {
        self.base_url.replacen("http", "ws", 1)
    }

    /// Sets the top of book orders match against, and sends it as a `bookTicker` (one
    /// unit at each side) to the market streams; resting limit orders it moves through
    /// fill at their price, as makers.
    pub fn set_book(&self, symbol: &str, bid: Price, ask: Price) {
        let mut state = lock(&self.state);
        state.books.retain(|(s, _, _)| s != symbol);
        state.books.push((symbol.into(), bid, ask));
        state
            .market
            .book_ticker(symbol, bid, ask, Qty::from_raw(100_000_000));
        let server_ms = now_ms() + state.clock_offset_ms;
        let (buys_from, sells_to) = (
            ask.is_positive().then_some(ask),
            bid.is_positive().then_some(bid),
        );
        state.take(symbol, buys_from, sells_to, Qty::MAX, server_ms);
    }

    /// Another client's order of `qty` takes liquidity at `price`: the account's resting
    /// orders it reaches (buys at `price` or above, sells at or below, oldest first)
    /// fill at their own price, as makers, for as much as it has: a part, or all.
    pub fn trade_through(&self, symbol: &str, price: Price, qty: Qty) {
        let mut state = lock(&self.state);
        let server_ms = now_ms() + state.clock_offset_ms;
        state.take(symbol, Some(price), Some(price), qty, server_ms);
    }

    /// Prints a trade of others on `symbol`'s trade stream (the account's orders are not
    /// touched); `buyer_maker`: the buyer's order rested, so the aggressor sold.
    pub fn print_trade(&self, symbol: &str, price: Price, qty: Qty, buyer_maker: bool) {
        let mut state = lock(&self.state);
        let ms = now_ms() + state.clock_offset_ms;
        state.market.trade(symbol, price, qty, buyer_maker, ms);
    }

    /// Changes levels of `symbol`'s order book (size zero removes one), as one
    /// `depthUpdate` event on its diff depth stream spanning `ids` update ids (Binance's
    /// events usually span several); what the REST snapshot answers from now on.
    pub fn change_depth(
        &self,
        symbol: &str,
        bids: &[(Price, Qty)],
        asks: &[(Price, Qty)],
        ids: u64,
    ) {
        let mut state = lock(&self.state);
        let ms = now_ms() + state.clock_offset_ms;
        for (name, data) in state.market.depth.change(symbol, bids, asks, ids, ms) {
            state.market.publish(&name, data);
        }
    }

    /// What happens to the next depth events, in order: lost, sent twice, held back.
    pub fn inject_depth(&self, fault: DepthFault) {
        lock(&self.state).market.depth.inject(fault);
    }

    /// The order book of `symbol` now: (bids best first, asks best first).
    pub fn depth(&self, symbol: &str) -> (Levels, Levels) {
        lock(&self.state).market.depth.book(symbol)
    }

    /// The symbols of the depth snapshots asked for, in order.
    pub fn depth_snapshots(&self) -> Vec<String> {
        lock(&self.state).market.depth.snapshots.clone()
    }

    /// Sends `text` as it is on every market stream connection.
    pub fn send_market_raw(&self, text: &str) {
        lock(&self.state).market.raw(text);
    }

    /// Announces a `serverShutdown` on every market stream connection.
    pub fn announce_server_shutdown(&self) {
        let mut state = lock(&self.state);
        let ms = now_ms() + state.clock_offset_ms;
        state.market.server_shutdown(ms);
    }

    /// Closes every market stream connection.
    pub fn close_market_streams(&self) {
        lock(&self.state).market.close_all();
    }

    /// Refuses (HTTP 503) new market stream connections while `refuse` holds.
    pub fn refuse_market_streams(&self, refuse: bool) {
        lock(&self.state).market.refuse = refuse;
    }

    /// While `quiet` holds, market stream connections stay open and are sent nothing.
    pub fn quiet_market_streams(&self, quiet: bool) {
        lock(&self.state).market.quiet = quiet;
    }

    /// The query string of every market stream connection made, in order.
    pub fn market_stream_requests(&self) -> Vec<String> {
        lock(&self.state).market.requests.clone()
    }

    /// Market stream connections refused so far.
    pub fn market_streams_refused(&self) -> u64 {
        lock(&self.state).market.refused
    }

    /// Market stream connections open now.
    pub fn market_streams_open(&self) -> usize {
        lock(&self.state).market.open()
    }

    /// Closes every user data stream connection (the subscriber reconnects).
    pub fn close_user_streams(&self) {
        lock(&self.state).subscribers.clear();
    }

    /// Refuses (HTTP 503) new WebSocket connections while `refuse` holds.
    pub fn refuse_user_streams(&self, refuse: bool) {
        lock(&self.state).refuse_streams = refuse;
    }

    /// Sends every user data stream event twice while `twice` holds.
    pub fn duplicate_events(&self, twice: bool) {
        lock(&self.state).duplicate_events = twice;
    }

    /// While `quiet` holds, user data stream connections stay open and their events are
    /// lost (found again only by `myTrades`).
    pub fn quiet_user_streams(&self, quiet: bool) {
        lock(&self.state).quiet_events = quiet;
    }

    /// Each user data stream event is sent `delay` late (in order), as a slow stream
    /// would: the REST answer comes first.
    pub fn delay_events(&self, delay: Option<std::time::Duration>) {
        lock(&self.state).event_delay = delay;
    }

    /// User data stream subscriptions made so far.
    pub fn user_stream_subscriptions(&self) -> u64 {
        lock(&self.state).connections
    }

    /// Every trade of the account.
    pub fn trades(&self) -> Vec<FakeTrade> {
        lock(&self.state).trades.clone()
    }

    /// Moves the exchange's clock by `ms` against the machine's.
    pub fn set_clock_offset(&self, ms: i64) {
        lock(&self.state).clock_offset_ms = ms;
    }

    /// Sets an asset's balance: free and locked. Once any is set, an order needs the free
    /// balance it spends (the quote asset for a buy, the base for a sell), else `-2010`
    /// "Account has insufficient balance"; balances move only when the test sets them.
    pub fn set_balance(&self, asset: &str, free: Price, locked: Price) {
        let mut state = lock(&self.state);
        state.balances.retain(|(a, _, _)| a != asset);
        state.balances.push((asset.into(), free, locked));
        let ms = now_ms() + state.clock_offset_ms;
        state.account_position(&[asset.to_owned()], ms);
    }

    /// Makes the current windows' use what is given: request weight this minute and
    /// orders these 10 seconds (as another client of the same account or IP would).
    pub fn use_budget(&self, weight: u64, orders_10s: u64) {
        let mut state = lock(&self.state);
        let ms = now_ms();
        let used = state.weight.add(ms, 0);
        state.weight.add(ms, weight.saturating_sub(used));
        let used = state.orders_10s.add(ms, 0);
        state.orders_10s.add(ms, orders_10s.saturating_sub(used));
    }

    /// The next request meets `fault`.
    pub fn inject(&self, fault: Fault) {
        lock(&self.state).faults.push_back(fault);
    }

    /// Every order it holds, in the order placed.
    pub fn orders(&self) -> Vec<FakeOrder> {
        lock(&self.state).orders.clone()
    }

    /// Every request it received: `METHOD /path`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state)
            .requests
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Every request it received, with when.
    pub fn requests_at(&self) -> Vec<(std::time::Instant, String)> {
        lock(&self.state).requests.clone()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    fn handle(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        body: &str,
        key: &str,
    ) -> (u16, Vec<(&'static str, String)>, Value) {
        self.requests
            .push((std::time::Instant::now(), format!("{method} {path}")));
        match self.faults.front().copied() {
            Some(Fault::TooManyRequests(secs)) => {
                self.faults.pop_front();
                let (s, v) = error(
                    429,
                    -1003,
                    "Too many requests; current limit of IP is 6000 requests per minute.",
                );
                return (s, vec![("retry-after", secs.to_string())], v);
            }
            Some(Fault::Banned(secs)) => {
                self.faults.pop_front();
                let (s, v) = error(418, -1003, "Way too many requests; IP banned.");
                return (s, vec![("retry-after", secs.to_string())], v);
            }
            _ => {}
        }
        let server_ms = now_ms() + self.clock_offset_ms;
        let (weight, signed) = match (method, path) {
            ("GET", "/api/v3/time") => (1, false),
            ("GET", "/api/v3/exchangeInfo") => (20, false),
            ("POST" | "DELETE" | "GET", "/api/v3/order") => {
                (if method == "GET" { 4 } else { 1 }, true)
            }
            ("GET", "/api/v3/openOrders") => (6, true),
            ("GET", "/api/v3/allOrders") => (20, true),
            ("GET", "/api/v3/account") => (20, true),
            ("GET", "/api/v3/myTrades") => (20, true),
            ("GET", "/api/v3/depth") => (0, false),
            _ => {
                let (s, v) = error(404, -1000, "Unknown path.");
                return (s, vec![], v);
            }
        };
        self.weight.add(now_ms(), weight);
        let total = format!("{query}{body}");
        let params: Vec<(String, String)> =
            serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .unwrap_or_default()
                .into_iter()
                .chain(
                    serde_urlencoded::from_str::<Vec<(String, String)>>(body).unwrap_or_default(),
                )
                .collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        if signed {
            if key != self.api_key {
                let (s, v) = error(
                    401,
                    -2015,
                    "Invalid API-key, IP, or permissions for action.",
                );
                return (s, vec![], v);
            }
            let Some(signature) = param("signature") else {
                let (s, v) = error(
                    400,
                    -1102,
                    "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
                );
                return (s, vec![], v);
            };
            let payload = total
                .replace(&format!("&signature={signature}"), "")
                .replace(&format!("signature={signature}"), "");
            let expected = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes())
                .map(|mut mac| {
                    mac.update(payload.as_bytes());
                    hex::encode(mac.finalize().into_bytes())
                })
                .unwrap_or_default();
            if expected != signature {
                let (s, v) = error(400, -1022, "Signature for this request is not valid.");
                return (s, vec![], v);
            }
            let Some(timestamp) = param("timestamp").and_then(|t| t.parse::<i64>().ok()) else {
                let (s, v) = error(
                    400,
                    -1102,
                    "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
                );
                return (s, vec![], v);
            };
            let window = param("recvWindow")
                .and_then(|w| w.parse::<i64>().ok())
                .unwrap_or(5000);
            if !(timestamp < server_ms + 1000 && server_ms - timestamp <= window) {
                let (s, v) = error(
                    400,
                    -1021,
                    "Timestamp for this request is outside of the recvWindow.",
                );
                return (s, vec![], v);
            }
        }
        if path == "/api/v3/depth" {
            // Weight by limit (rest-api.md "Order book"): up to 100, 5; 500, 25;
            // 1000, 50; 5000, 250.
            let limit = param("limit")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(100)
                .min(5000);
            let weight = match limit {
                0..=100 => 5,
                101..=500 => 25,
                501..=1000 => 50,
                _ => 250,
            };
            self.weight.add(now_ms(), weight);
            let Some(symbol) =
                param("symbol").filter(|s| self.symbols.iter().any(|f| &f.symbol == s))
            else {
                let (s, v) = error(400, -1121, "Invalid symbol.");
                return (s, vec![], v);
            };
            return (200, vec![], self.market.depth.snapshot(&symbol, limit));
        }
        let (status, value) = match (method, path) {
            ("GET", "/api/v3/time") => (200, json!({"serverTime": server_ms})),
            ("GET", "/api/v3/exchangeInfo") => (200, self.exchange_info(server_ms)),
            ("POST", "/api/v3/order") => {
                let (status, value) = self.new_order(&param, server_ms);
                if status == 200 && self.faults.front() == Some(&Fault::ServerErrorAfterAccept) {
                    self.faults.pop_front();
                    return (500, vec![], Value::Null);
                }
                if let (200, Some(&Fault::AnswerAfter(ms))) = (status, self.faults.front()) {
                    self.faults.pop_front();
                    self.answer_delay = Some(std::time::Duration::from_millis(ms));
                }
                (status, value)
            }
            ("DELETE", "/api/v3/order") => self.cancel(&param),
            ("GET", "/api/v3/account") => (200, self.account(server_ms)),
            ("GET", "/api/v3/myTrades") => (200, self.my_trades(&param)),
            ("GET", "/api/v3/allOrders") => self.all_orders(&param),
            ("GET", "/api/v3/order") => match self.find(&param, false) {
                Some(i) => (200, order_json(&self.orders[i])),
                None => error(400, -2013, "Order does not exist."),
            },
            _ => {
                let symbol = param("symbol");
                let open: Vec<Value> = self
                    .orders
                    .iter()
                    .filter(|o| matches!(o.status.as_str(), "NEW" | "PARTIALLY_FILLED"))
                    .filter(|o| symbol.as_ref().is_none_or(|s| *s == o.symbol))
                    .map(order_json)
                    .collect();
                (200, Value::Array(open))
            }
        };
        (status, vec![], value)
    }

    fn account(&self, server_ms: i64) -> Value {
        let balances: Vec<Value> = self
            .balances
            .iter()
            .map(|(a, f, l)| json!({"asset": a, "free": dec8(f.raw()), "locked": dec8(l.raw())}))
            .collect();
        json!({
            "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000", "seller": "0.00000000"},
            "canTrade": true, "canWithdraw": true, "canDeposit": true, "brokered": false,
            "requireSelfTradePrevention": false, "preventSor": false, "updateTime": server_ms,
            "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": 354937868
        })
    }

    fn exchange_info(&self, server_ms: i64) -> Value {
        let symbols: Vec<Value> = self
            .symbols
            .iter()
            .map(|s| {
                json!({
                    "symbol": s.symbol, "status": s.status, "baseAsset": s.base,
                    "baseAssetPrecision": 8, "quoteAsset": s.quote, "quotePrecision": 8,
                    "quoteAssetPrecision": 8,
                    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                    "filters": [
                        {"filterType": "PRICE_FILTER", "minPrice": dec8(s.tick_size.raw()), "maxPrice": "1000000.00000000", "tickSize": dec8(s.tick_size.raw())},
                        {"filterType": "LOT_SIZE", "minQty": dec8(s.min_qty.raw()), "maxQty": dec8(s.max_qty.raw()), "stepSize": dec8(s.step_size.raw())},
                        {"filterType": "NOTIONAL", "minNotional": dec8(s.min_notional.raw()), "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5}
                    ],
                    "permissions": [], "defaultSelfTradePreventionMode": "EXPIRE_MAKER"
                })
            })
            .collect();
        json!({
            "timezone": "UTC", "serverTime": server_ms,
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000}
            ],
            "exchangeFilters": [], "symbols": symbols
        })
    }

    fn new_order(
        &mut self,
        param: &dyn Fn(&str) -> Option<String>,
        server_ms: i64,
    ) -> (u16, Value) {
        let missing = |name: &str| {
            error(
                400,
                -1102,
                &format!(
                    "Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
                ),
            )
        };
        let (Some(symbol), Some(side), Some(kind)) =
            (param("symbol"), param("side"), param("type"))
        else {
            return missing("symbol");
        };
        let Some(spec) = self.symbols.iter().find(|s| s.symbol == symbol).cloned() else {
            return error(400, -1121, "Invalid symbol.");
        };
        let Some(qty) = param("quantity").and_then(|q| q.parse::<Qty>().ok()) else {
            return missing("quantity");
        };
        let limit = kind == "LIMIT" || kind == "LIMIT_MAKER";
        let price = if limit {
            match param("price").and_then(|p| p.parse::<Price>().ok()) {
                Some(p) => p,
                None => return missing("price"),
            }
        } else {
            Price::ZERO
        };
        let tif = if kind == "LIMIT" {
            match param("timeInForce") {
                Some(t) => t,
                None => return missing("timeInForce"),
            }
        } else {
            String::new()
        };
        if limit && price.raw() % spec.tick_size.raw().max(1) != 0 {
            return error(400, -1013, "Filter failure: PRICE_FILTER");
        }
        if qty.raw() % spec.step_size.raw().max(1) != 0 || qty < spec.min_qty || qty > spec.max_qty
        {
            return error(400, -1013, "Filter failure: LOT_SIZE");
        }
        let client_id =
            param("newClientOrderId").unwrap_or_else(|| format!("fake-{}", self.next_order_id));
        if self.orders.iter().any(|o| {
            o.client_id == client_id && matches!(o.status.as_str(), "NEW" | "PARTIALLY_FILLED")
        }) {
            return error(400, -2010, "Duplicate order sent.");
        }
        let (bid, ask) = self
            .books
            .iter()
            .find(|(s, _, _)| *s == symbol)
            .map_or((Price::ZERO, Price::ZERO), |(_, b, a)| (*b, *a));
        let (opposite, crosses) = match side.as_str() {
            "BUY" => (ask, ask.is_positive() && (!limit || price >= ask)),
            _ => (bid, bid.is_positive() && (!limit || price <= bid)),
        };
        let valued_at = if limit { price } else { opposite };
        let notional = valued_at
            .checked_notional(qty)
            .map_or(i64::MAX, |n| n.raw());
        if notional < spec.min_notional.raw() {
            return error(400, -1013, "Filter failure: NOTIONAL");
        }
        if kind == "LIMIT_MAKER" && crosses {
            return error(400, -2010, "Order would immediately match and take.");
        }
        if spec.status != "TRADING" {
            return error(400, -2010, "Market is closed.");
        }
        // Once the test has set balances, an order needs the free asset it spends.
        if !self.balances.is_empty() {
            let (asset, needed) = match side.as_str() {
                "BUY" => (&spec.quote, notional),
                _ => (&spec.base, qty.raw()),
            };
            let free = self
                .balances
                .iter()
                .find(|(a, _, _)| a == asset)
                .map_or(0, |(_, free, _)| free.raw());
            if free < needed {
                return error(
                    400,
                    -2010,
                    "Account has insufficient balance for requested action.",
                );
            }
        }
        let mut order = FakeOrder {
            order_id: self.next_order_id,
            client_id,
            symbol,
            side,
            kind: kind.clone(),
            time_in_force: tif.clone(),
            price,
            qty,
            executed: Qty::ZERO,
            quote_executed: Price::ZERO,
            status: "NEW".into(),
            time: server_ms,
        };
        self.next_order_id += 1;
        self.orders_10s.add(now_ms(), 1);
        self.orders_1d.add(now_ms(), 1);
        let expires = !crosses && (kind == "MARKET" || tif == "IOC");
        order.time = server_ms;
        self.orders.push(order);
        let i = self.orders.len() - 1;
        self.emit(execution_report(&self.orders[i], "NEW", None, server_ms));
        if crosses {
            self.fill(i, opposite, qty, false, server_ms);
        } else if expires {
            self.orders[i].status = "EXPIRED".into();
            self.emit(execution_report(
                &self.orders[i],
                "EXPIRED",
                None,
                server_ms,
            ));
        }
        (200, order_json(&self.orders[i]))
    }

    /// Another side takes up to `qty` from the account's resting orders on `symbol`:
    /// buys priced at `buys_from` or above, sells at `sells_to` or below, oldest first,
    /// each at its own price, as makers (a part when `qty` runs out).
    fn take(
        &mut self,
        symbol: &str,
        buys_from: Option<Price>,
        sells_to: Option<Price>,
        qty: Qty,
        server_ms: i64,
    ) {
        let reached: Vec<usize> = self
            .orders
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.symbol == symbol
                    && matches!(o.status.as_str(), "NEW" | "PARTIALLY_FILLED")
                    && match o.side.as_str() {
                        "BUY" => buys_from.is_some_and(|p| o.price >= p),
                        _ => sells_to.is_some_and(|p| o.price <= p),
                    }
            })
            .map(|(i, _)| i)
            .collect();
        let mut left = qty;
        for i in reached {
            if !left.is_positive() {
                break;
            }
            let order = &self.orders[i];
            let take = (order.qty - order.executed).min(left);
            let at = order.price;
            self.fill(i, at, take, true, server_ms);
            left -= take;
        }
    }

    /// Order `i` trades `qty` at `price`: the order, the trade, the stream's event.
    fn fill(&mut self, i: usize, price: Price, qty: Qty, maker: bool, server_ms: i64) {
        let quote = Price::from_raw(price.checked_notional(qty).map_or(0, |n| n.raw()));
        let order = &mut self.orders[i];
        order.executed += qty;
        order.quote_executed = Price::from_raw(order.quote_executed.raw() + quote.raw());
        order.status = if order.executed >= order.qty {
            "FILLED"
        } else {
            "PARTIALLY_FILLED"
        }
        .into();
        let buy = order.side == "BUY";
        let spec = self.symbols.iter().find(|s| s.symbol == order.symbol);
        let (commission, asset) = match (buy, spec) {
            (true, Some(s)) => (Price::from_raw(qty.raw() / 1000), s.base.clone()),
            (false, Some(s)) => (Price::from_raw(quote.raw() / 1000), s.quote.clone()),
            (_, None) => (Price::ZERO, String::new()),
        };
        let trade = FakeTrade {
            id: self.trades.len() as i64 + 1,
            order_id: order.order_id,
            symbol: order.symbol.clone(),
            price,
            qty,
            commission,
            commission_asset: asset,
            is_buyer: buy,
            is_maker: maker,
            time: server_ms,
        };
        let event = execution_report(&self.orders[i], "TRADE", Some(&trade), server_ms);
        self.trades.push(trade);
        self.emit(event);
    }

    /// Sends `event` to every subscribed connection (twice when asked); with none, it
    /// is lost. An order's change is followed, once balances are set, by an
    /// `outboundAccountPosition` with its symbol's two assets, as Binance sends one
    /// after every change of the account.
    fn emit(&mut self, event: Value) {
        let assets = self
            .symbols
            .iter()
            .find(|s| event["e"] == "executionReport" && event["s"] == s.symbol.as_str())
            .map(|s| vec![s.base.clone(), s.quote.clone()]);
        self.send_event(event);
        if let Some(assets) = assets {
            let ms = now_ms() + self.clock_offset_ms;
            self.account_position(&assets, ms);
        }
    }

    /// An `outboundAccountPosition` (user-data-stream.md) of `assets` that have a
    /// balance.
    fn account_position(&mut self, assets: &[String], ms: i64) {
        let balances: Vec<Value> = self
            .balances
            .iter()
            .filter(|(a, _, _)| assets.contains(a))
            .map(
                |(a, free, locked)| json!({"a": a, "f": dec8(free.raw()), "l": dec8(locked.raw())}),
            )
            .collect();
        if !balances.is_empty() {
            self.send_event(
                json!({"e": "outboundAccountPosition", "E": ms, "u": ms, "B": balances}),
            );
        }
    }

    fn send_event(&mut self, event: Value) {
        if self.quiet_events {
            return;
        }
        let text = json!({"subscriptionId": 0, "event": event}).to_string();
        let times = if self.duplicate_events { 2 } else { 1 };
        self.subscribers
            .retain(|tx| (0..times).all(|_| tx.send(text.clone()).is_ok()));
    }

    /// `GET /api/v3/allOrders`: the symbol's orders, open or not, by `orderId` (from that
    /// id), `startTime` and `endTime` (at most 24 hours apart), or else the most recent;
    /// `limit` of them (500 unless asked, at most 1000), oldest first.
    fn all_orders(&self, param: &dyn Fn(&str) -> Option<String>) -> (u16, Value) {
        let Some(symbol) = param("symbol") else {
            return error(
                400,
                -1102,
                "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
            );
        };
        let number = |name: &str| param(name).and_then(|v| v.parse::<i64>().ok());
        let (from_id, start, end) = (number("orderId"), number("startTime"), number("endTime"));
        if let (Some(start), Some(end)) = (start, end) {
            if end - start > 24 * 3600 * 1000 {
                return error(
                    400,
                    -1127,
                    "More than 24 hours between startTime and endTime.",
                );
            }
        }
        let limit = number("limit").unwrap_or(500).clamp(1, 1000) as usize;
        let mut orders: Vec<&FakeOrder> = self
            .orders
            .iter()
            .filter(|o| o.symbol == symbol)
            .filter(|o| from_id.is_none_or(|f| o.order_id as i64 >= f))
            .filter(|o| start.is_none_or(|s| o.time >= s))
            .filter(|o| end.is_none_or(|e| o.time <= e))
            .collect();
        orders.sort_by_key(|o| o.order_id);
        if from_id.is_none() && start.is_none() && end.is_none() && orders.len() > limit {
            orders.drain(..orders.len() - limit);
        }
        let listed = orders.into_iter().take(limit).map(order_json).collect();
        (200, Value::Array(listed))
    }

    fn my_trades(&self, param: &dyn Fn(&str) -> Option<String>) -> Value {
        let symbol = param("symbol").unwrap_or_default();
        let from = param("fromId").and_then(|i| i.parse::<i64>().ok());
        let order = param("orderId").and_then(|i| i.parse::<u64>().ok());
        let mut trades: Vec<&FakeTrade> = self
            .trades
            .iter()
            .filter(|t| t.symbol == symbol)
            .filter(|t| from.is_none_or(|f| t.id >= f))
            .filter(|t| order.is_none_or(|o| t.order_id == o))
            .collect();
        // Without fromId, the most recent 500.
        if from.is_none() && trades.len() > 500 {
            trades.drain(..trades.len() - 500);
        }
        Value::Array(
            trades
                .into_iter()
                .take(500)
                .map(|t| {
                    json!({
                        "symbol": t.symbol, "id": t.id, "orderId": t.order_id, "orderListId": -1,
                        "price": dec8(t.price.raw()), "qty": dec8(t.qty.raw()),
                        "quoteQty": dec8(t.price.checked_notional(t.qty).map_or(0, |n| n.raw())),
                        "commission": dec8(t.commission.raw()), "commissionAsset": t.commission_asset,
                        "time": t.time, "isBuyer": t.is_buyer, "isMaker": t.is_maker, "isBestMatch": true
                    })
                })
                .collect(),
        )
    }

    /// The answer to one WebSocket API request; `subscribe` is set when it subscribed
    /// the connection.
    fn ws_request(&mut self, text: &str, subscribe: &mut bool) -> Value {
        let request: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let id = request["id"].clone();
        let fail = |status: u16, code: i64, msg: &str| json!({"id": id, "status": status, "error": {"code": code, "msg": msg}});
        match request["method"].as_str() {
            Some("ping") => json!({"id": id, "status": 200, "result": {}}),
            Some("userDataStream.subscribe.signature") => {
                let params = request["params"].as_object().cloned().unwrap_or_default();
                let value = |k: &str| match params.get(k) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                if value("apiKey").as_deref() != Some(self.api_key.as_str()) {
                    return fail(
                        401,
                        -2015,
                        "Invalid API-key, IP, or permissions for action.",
                    );
                }
                let mut names: Vec<&String> = params.keys().filter(|k| *k != "signature").collect();
                names.sort();
                let payload = names
                    .iter()
                    .map(|k| format!("{k}={}", value(k).unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join("&");
                let expected = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes())
                    .map(|mut mac| {
                        mac.update(payload.as_bytes());
                        hex::encode(mac.finalize().into_bytes())
                    })
                    .unwrap_or_default();
                if value("signature").map(|s| s.to_lowercase()) != Some(expected) {
                    return fail(400, -1022, "Signature for this request is not valid.");
                }
                let server_ms = now_ms() + self.clock_offset_ms;
                let timestamp = value("timestamp").and_then(|t| t.parse::<i64>().ok());
                let window = value("recvWindow")
                    .and_then(|w| w.parse::<i64>().ok())
                    .unwrap_or(5000);
                match timestamp {
                    Some(t) if t < server_ms + 1000 && server_ms - t <= window => {}
                    _ => {
                        return fail(
                            400,
                            -1021,
                            "Timestamp for this request is outside of the recvWindow.",
                        )
                    }
                }
                *subscribe = true;
                self.connections += 1;
                json!({"id": id, "status": 200, "result": {"subscriptionId": 0}})
            }
            _ => fail(400, -1020, "Unsupported operation."),
        }
    }

    fn find(&self, param: &dyn Fn(&str) -> Option<String>, open_only: bool) -> Option<usize> {
        let by_client = param("origClientOrderId");
        let by_id = param("orderId").and_then(|i| i.parse::<u64>().ok());
        self.orders.iter().position(|o| {
            (by_client.as_deref() == Some(o.client_id.as_str()) || by_id == Some(o.order_id))
                && (!open_only || matches!(o.status.as_str(), "NEW" | "PARTIALLY_FILLED"))
        })
    }

    fn cancel(&mut self, param: &dyn Fn(&str) -> Option<String>) -> (u16, Value) {
        match self.find(param, true) {
            Some(i) => {
                self.orders[i].status = "CANCELED".into();
                let mut value = order_json(&self.orders[i]);
                value["origClientOrderId"] = json!(self.orders[i].client_id);
                let server_ms = now_ms() + self.clock_offset_ms;
                let mut event = execution_report(&self.orders[i], "CANCELED", None, server_ms);
                // On a cancel, `c` is the cancel request's own id and `C` the order's.
                event["C"] = json!(self.orders[i].client_id);
                event["c"] = json!(param("newClientOrderId")
                    .unwrap_or_else(|| format!("cancel-{}", self.orders[i].order_id)));
                self.emit(event);
                (200, value)
            }
            None => error(400, -2011, "Unknown order sent."),
        }
    }
}

/// An order as `GET /api/v3/order` and the RESULT answers write it.
fn order_json(o: &FakeOrder) -> Value {
    json!({
        "symbol": o.symbol, "orderId": o.order_id, "orderListId": -1,
        "clientOrderId": o.client_id, "transactTime": o.time, "time": o.time, "updateTime": o.time,
        "price": dec8(o.price.raw()), "origQty": dec8(o.qty.raw()),
        "executedQty": dec8(o.executed.raw()), "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": dec8(o.quote_executed.raw()), "status": o.status,
        "timeInForce": if o.time_in_force.is_empty() { "GTC" } else { o.time_in_force.as_str() },
        "type": o.kind, "side": o.side, "workingTime": o.time,
        "isWorking": matches!(o.status.as_str(), "NEW" | "PARTIALLY_FILLED"),
        "selfTradePreventionMode": "NONE"
    })
}

/// An `executionReport` (user-data-stream.md) for order `o` after `exec_type`, with the
/// trade it made.
fn execution_report(o: &FakeOrder, exec_type: &str, trade: Option<&FakeTrade>, ms: i64) -> Value {
    let (last_qty, last_price, commission, asset, trade_id, maker) = match trade {
        Some(t) => (
            t.qty.raw(),
            t.price.raw(),
            dec8(t.commission.raw()),
            Value::String(t.commission_asset.clone()),
            t.id,
            t.is_maker,
        ),
        None => (0, 0, "0".to_owned(), Value::Null, -1, false),
    };
    json!({
        "e": "executionReport", "E": ms, "s": o.symbol, "c": o.client_id, "S": o.side,
        "o": o.kind, "f": if o.time_in_force.is_empty() { "GTC" } else { o.time_in_force.as_str() },
        "q": dec8(o.qty.raw()), "p": dec8(o.price.raw()), "P": "0.00000000", "F": "0.00000000",
        "g": -1, "C": "", "x": exec_type, "X": o.status, "r": "NONE", "i": o.order_id,
        "l": dec8(last_qty), "z": dec8(o.executed.raw()), "L": dec8(last_price),
        "n": commission, "N": asset, "T": ms, "t": trade_id, "v": 3, "I": 8641984,
        "w": matches!(o.status.as_str(), "NEW" | "PARTIALLY_FILLED"), "m": maker, "M": false,
        "O": o.time, "Z": dec8(o.quote_executed.raw()),
        "Y": dec8(Price::from_raw(last_price).checked_notional(Qty::from_raw(last_qty)).map_or(0, |n| n.raw())),
        "Q": "0.00000000", "W": o.time, "V": "NONE"
    })
}

/// One WebSocket API connection: requests answered; once subscribed, the account's
/// events sent until the fake drops the subscription or the client leaves.
async fn ws_session(socket: WebSocket, state: Arc<Mutex<State>>) {
    let (mut sink, mut stream) = socket.split();
    let (events_tx, mut events) = mpsc::unbounded_channel::<String>();
    let mut events_tx = Some(events_tx);
    let mut subscribed = false;
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(Ok(message)) = message else { return };
                if message.is_close() {
                    return;
                }
                let Ok(text) = message.to_str() else { continue };
                let mut subscribe = false;
                let answer = lock(&state).ws_request(text, &mut subscribe);
                if subscribe && !subscribed {
                    if let Some(tx) = events_tx.take() {
                        lock(&state).subscribers.push(tx);
                    }
                    subscribed = true;
                }
                if sink.send(Message::text(answer.to_string())).await.is_err() {
                    return;
                }
            }
            event = events.recv(), if subscribed => {
                let delay = lock(&state).event_delay;
                if let Some(delay) = delay {
                    tokio::time::sleep(delay).await;
                }
                if !deliver(&mut sink, event).await {
                    return;
                }
            }
        }
    }
}

/// Sends a subscriber's next message; `None` (the fake dropped the subscriber) closes
/// the connection. False once the connection is gone.
async fn deliver(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    message: Option<String>,
) -> bool {
    match message {
        Some(text) => sink.send(Message::text(text)).await.is_ok(),
        None => {
            let _ = sink.close().await;
            false
        }
    }
}
