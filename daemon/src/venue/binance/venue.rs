//! The Binance venue behind the [`Venue`] boundary: the engine's commands go to a tokio
//! task over a bounded queue and return at once; the task talks to Binance
//! ([`RestClient`]) and sends what it learns back as [`VenueEvent`]s over the channel the
//! daemon gives it (wrapped as an `EngineInput::Venue` for the control channel), waiting
//! for room when it is full: a report is never dropped.
//!
//! Answers, as the engine books them:
//! - an order taken is `Accepted` (its fills come from the user data stream); refused,
//!   `Rejected` (`venue_rejected`); a market or IOC order that expired, `Canceled`;
//! - no answer (a timeout, a 5xx): `Unknown` at once, then the order is asked about by
//!   its client order id, and what Binance says it is (working, or never arrived:
//!   `Rejected`) is reported. It is never sent twice;
//! - a cancel confirmed is `Canceled`; refused (the order is not open there: it filled,
//!   or never was), `CancelRejected`;
//! - a snapshot (at start, after a reconnect) is the account's open orders of this
//!   daemon (recognised by their client order ids) with what they filled, the count of
//!   other clients' orders, and the balances: `VenueEvent::Snapshot`;
//! - after a crash, the orders of this daemon past the end of the store's record
//!   (`allOrders`, with their trades from `myTrades`): `VenueEvent::Unrecorded`.
//!
//! The user data stream (when [`StreamSettings`] are given) is one WebSocket API
//! connection subscribed with `userDataStream.subscribe.signature`: its executions are
//! the accepted orders, fills (each trade once), cancels and expiries. When it drops or
//! goes quiet it is connected again after a backoff with jitter; once it is back, the
//! trades made while it was away are read from `myTrades` and reported as the fills they
//! were, then a snapshot reconciles the open orders. After `cancel_after` without it, the
//! open orders are canceled by REST: nobody should quote blind.

use super::errors::Failure;
use super::known_ids::KnownIds;
use super::orders;
use super::rest::RestClient;
use super::user_stream::{self, AccountTrade, Executions, UserEvent};
use crate::records::{Named, TradingState};
use crate::venue::{
    ClientOrderIds, ExecutionReport, RecordEnd, UnrecordedOrder, Venue, VenueEvent, VenueOrder,
    VenueSnapshot,
};
use futures_util::{SinkExt, StreamExt};
use pennant_sdk::{Amount, InstrumentId, OrderId, Qty, RejectReason, Timestamp};
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// Commands waiting for the task, at most; past it an order is refused at once.
pub const QUEUE: usize = 4096;
/// How often the offset to Binance's clock is measured again (besides on a `-1021`).
pub const CLOCK_RESYNC: Duration = Duration::from_secs(600);
/// Orders sent whose client id and symbol are kept for their cancel.
pub const SENT_KEPT: usize = 100_000;
/// How far after the end of the store's record unrecorded orders are looked for (the
/// longest span `allOrders` takes).
const UNRECORDED_WINDOW_MS: i64 = 24 * 3600 * 1000 - 1;
/// Orders asked for per `allOrders` page (its maximum), and pages per symbol at most.
const ALL_ORDERS_PAGE: usize = 1000;
const ALL_ORDERS_PAGES: usize = 10;

enum Request {
    Submit {
        order: VenueOrder,
        symbol: String,
    },
    Cancel {
        id: OrderId,
        client_id: String,
        symbol: String,
    },
    Snapshot,
    /// Orders working before a restart, with what was left of each.
    Adopt(Vec<(VenueOrder, String, Qty)>),
    /// Orders of ours past the end of the store's record.
    FindUnrecorded(RecordEnd),
}

/// A Binance symbol and its assets (to value commissions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// `BTCUSDT`.
    pub name: String,
    /// `BTC`.
    pub base: String,
    /// `USDT`.
    pub quote: String,
    /// Its status at start was `TRADING`; orders in a symbol that is not are refused
    /// (`symbol_not_trading`) without being sent.
    pub trading: bool,
}

/// The user data stream's connection.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// The WebSocket API (`wss://ws-api.binance.com:443/ws-api/v3`).
    pub url: String,
    /// The first wait before connecting again; it doubles, with jitter, up to `max`.
    pub reconnect_min: Duration,
    /// The longest wait between attempts.
    pub reconnect_max: Duration,
    /// Nothing heard for this long (Binance pings every 20 s): the connection is dead.
    pub quiet: Duration,
    /// Without the stream for this long, this daemon's open orders are canceled.
    pub cancel_after: Option<Duration>,
}

/// What the venue is given to start.
pub struct BinanceSetup {
    /// Its name, in logs and metrics.
    pub name: String,
    /// The REST client of the account.
    pub rest: RestClient,
    /// Our instruments' Binance symbols.
    pub symbols: FxHashMap<InstrumentId, Symbol>,
    /// Recognises this daemon's orders.
    pub ids: ClientOrderIds,
    /// The user data stream, if fills are to come.
    pub stream: Option<StreamSettings>,
    /// The trading state a ban (HTTP 418) puts every strategy in.
    pub on_ban: TradingState,
    /// How often Binance's clock is measured again ([`CLOCK_RESYNC`]).
    pub clock_resync: Duration,
}

/// See the module docs.
pub struct BinanceVenue {
    name: String,
    requests: mpsc::Sender<Request>,
    symbols: FxHashMap<InstrumentId, String>,
    /// Instruments whose symbol Binance does not trade.
    closed: Vec<InstrumentId>,
    /// The orders sent (this run's and the recovered), oldest first, with their client
    /// id and symbol; at most [`SENT_KEPT`]: a cancel of an older one goes by its client
    /// id on each symbol.
    sent: std::collections::BTreeMap<OrderId, (String, String)>,
    ids: ClientOrderIds,
}

impl BinanceVenue {
    /// Starts the venue's task on `runtime`; what the task learns goes to `sink`, each
    /// event made its input by `wrap`. The task ends once the venue is dropped and the
    /// cancels asked before are sent: a stopping daemon awaits its handle.
    pub fn spawn<T: Send + 'static>(
        setup: BinanceSetup,
        runtime: &tokio::runtime::Handle,
        sink: mpsc::Sender<T>,
        wrap: impl Fn(VenueEvent) -> T + Send + Sync + 'static,
    ) -> (BinanceVenue, tokio::task::JoinHandle<()>) {
        let (requests, queue) = mpsc::channel(QUEUE);
        let mut listed: Vec<Symbol> = setup.symbols.values().cloned().collect();
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        listed.dedup();
        let ids = setup.ids.clone();
        let instruments = setup
            .symbols
            .iter()
            .map(|(id, s)| (s.name.clone(), *id))
            .collect();
        let task = Task {
            rest: setup.rest,
            symbols: listed,
            instruments,
            executions: Executions::new(setup.ids.clone()),
            ids: setup.ids,
            open: FxHashMap::default(),
            by_binance_id: KnownIds::default(),
            sink,
            wrap: Box::new(wrap),
            on_ban: setup.on_ban,
            clock_resync: setup.clock_resync,
            started: false,
            sent_up_to: 0,
        };
        let task = runtime.spawn(task.run(queue, setup.stream));
        let closed = setup
            .symbols
            .iter()
            .filter(|(_, s)| !s.trading)
            .map(|(id, _)| *id)
            .collect();
        let venue = BinanceVenue {
            name: setup.name,
            requests,
            closed,
            symbols: setup
                .symbols
                .into_iter()
                .map(|(id, s)| (id, s.name))
                .collect(),
            sent: std::collections::BTreeMap::new(),
            ids,
        };
        (venue, task)
    }
}

impl BinanceVenue {
    /// Keeps an order sent, for its cancel; the oldest past [`SENT_KEPT`] is forgotten.
    fn remember(&mut self, id: OrderId, client_id: String, symbol: String) {
        self.sent.insert(id, (client_id, symbol));
        while self.sent.len() > SENT_KEPT {
            self.sent.pop_first();
        }
    }
}

impl Venue for BinanceVenue {
    fn name(&self) -> &str {
        &self.name
    }

    fn submit(&mut self, order: VenueOrder, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        let Some(symbol) = self.symbols.get(&order.request.instrument).cloned() else {
            out.push(ExecutionReport::Rejected {
                id: order.id,
                reason: RejectReason::UnknownInstrument,
                ts: now,
            });
            return;
        };
        if self.closed.contains(&order.request.instrument) {
            out.push(ExecutionReport::Rejected {
                id: order.id,
                reason: RejectReason::SymbolNotTrading,
                ts: now,
            });
            return;
        }
        self.remember(order.id, order.client_id.to_string(), symbol.clone());
        if self
            .requests
            .try_send(Request::Submit { order, symbol })
            .is_err()
        {
            log::error!(venue = self.name.as_str(), order_id = order.id; "the Binance venue's queue is full: order refused, not sent");
            self.sent.remove(&order.id);
            out.push(ExecutionReport::Rejected {
                id: order.id,
                reason: RejectReason::VenueRejected,
                ts: now,
            });
        }
    }

    fn cancel(&mut self, id: OrderId, now: Timestamp, out: &mut Vec<ExecutionReport>) {
        let targets: Vec<(String, String)> = match self.sent.get(&id) {
            Some(sent) => vec![sent.clone()],
            // Not sent by this run: an order of ours only Binance has (reconciliation
            // found it). Its symbol is not known here: it is canceled by its client
            // id on each of ours (elsewhere Binance answers "unknown order").
            None => {
                let mut symbols: Vec<String> = self.symbols.values().cloned().collect();
                symbols.sort();
                symbols.dedup();
                let client_id = self.ids.of(id).to_string();
                symbols
                    .into_iter()
                    .map(|s| (client_id.clone(), s))
                    .collect()
            }
        };
        for (client_id, symbol) in targets {
            let request = Request::Cancel {
                id,
                client_id,
                symbol,
            };
            if self.requests.try_send(request).is_err() {
                out.push(ExecutionReport::CancelRejected { id, ts: now });
                return;
            }
        }
    }

    /// The orders of the previous run: cancels and fills of them are known again.
    fn restore(&mut self, orders: &[(VenueOrder, Qty)]) {
        let mut adopted = Vec::new();
        for (order, left) in orders {
            let Some(symbol) = self.symbols.get(&order.request.instrument).cloned() else {
                continue;
            };
            self.remember(order.id, order.client_id.to_string(), symbol.clone());
            adopted.push((*order, symbol, *left));
        }
        if !adopted.is_empty() && self.requests.try_send(Request::Adopt(adopted)).is_err() {
            log::warn!(venue = self.name.as_str(); "the Binance venue's queue is full: recovered orders not adopted");
        }
    }

    /// What is found comes later, from the task, as `VenueEvent::Unrecorded` (before the
    /// snapshot, which the queue keeps after it).
    fn find_unrecorded(&mut self, end: RecordEnd) {
        if self
            .requests
            .try_send(Request::FindUnrecorded(end))
            .is_err()
        {
            log::warn!(venue = self.name.as_str(); "the Binance venue's queue is full: unrecorded orders not looked for");
        }
    }

    fn adopted(&mut self, order: &VenueOrder) {
        if let Some(symbol) = self.symbols.get(&order.request.instrument).cloned() {
            self.remember(order.id, order.client_id.to_string(), symbol);
        }
    }

    /// The account comes later, from the task, as `VenueEvent::Snapshot`.
    fn snapshot(&mut self) -> Option<VenueSnapshot> {
        if self.requests.try_send(Request::Snapshot).is_err() {
            log::warn!(venue = self.name.as_str(); "the Binance venue's queue is full: no snapshot asked");
        }
        None
    }
}

fn now_ns() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as Timestamp)
}

/// What Binance says an order is, as the report the engine books.
fn answered(id: OrderId, order: &Value, ts: Timestamp) -> ExecutionReport {
    match order["status"].as_str() {
        Some("EXPIRED" | "EXPIRED_IN_MATCH" | "CANCELED") => ExecutionReport::Canceled { id, ts },
        Some("REJECTED") => ExecutionReport::Rejected {
            id,
            reason: RejectReason::VenueRejected,
            ts,
        },
        // NEW, PARTIALLY_FILLED, FILLED: working or worked; the fills come from the
        // user data stream, with their trade ids.
        _ => ExecutionReport::Accepted { id, ts },
    }
}

/// Binance's ids of our orders: `(symbol, orderId)` to ours.
type FoundIds = Vec<((String, i64), OrderId)>;

/// The account as it stands: every listed symbol's open orders, and the balances, with
/// Binance's ids of ours. `None` if Binance did not answer in full (a partial snapshot
/// would cancel what it missed).
async fn snapshot(
    rest: &mut RestClient,
    symbols: &[Symbol],
    ids: &ClientOrderIds,
) -> Option<(VenueSnapshot, FoundIds)> {
    let mut snapshot = VenueSnapshot::default();
    let mut known = Vec::new();
    for symbol in symbols.iter().map(|s| &s.name) {
        let open = rest
            .signed(
                reqwest::Method::GET,
                "/api/v3/openOrders",
                &format!("symbol={symbol}"),
            )
            .await
            .map_err(|failure| log::warn!(symbol = symbol.as_str(); "no snapshot: {failure:?}"))
            .ok()?;
        for order in open.as_array().into_iter().flatten() {
            let client = order["clientOrderId"].as_str().unwrap_or("");
            match ids.parse(client) {
                Some(id) => {
                    if let Some(binance_id) = order["orderId"].as_i64() {
                        known.push(((symbol.clone(), binance_id), id));
                    }
                    let filled = order["executedQty"]
                        .as_str()
                        .and_then(|q| q.parse::<Qty>().ok())
                        .unwrap_or(Qty::ZERO);
                    snapshot.open.push((id, filled));
                }
                None => snapshot.others += 1,
            }
        }
    }
    let account = rest
        .signed(reqwest::Method::GET, "/api/v3/account", "")
        .await
        .map_err(|failure| log::warn!("no snapshot of the balances: {failure:?}"))
        .ok()?;
    for balance in account["balances"].as_array().into_iter().flatten() {
        let amount = |key: &str| {
            balance[key]
                .as_str()
                .and_then(|v| v.parse::<Amount>().ok())
                .unwrap_or(Amount::ZERO)
        };
        let asset = balance["asset"].as_str().unwrap_or("").to_owned();
        snapshot
            .balances
            .push((asset, amount("free"), amount("locked")));
    }
    snapshot.open.sort_unstable();
    Some((snapshot, known))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The venue's task: the REST client, the user data stream, and what they know.
struct Task<T> {
    rest: RestClient,
    symbols: Vec<Symbol>,
    /// The engine's instrument of each symbol.
    instruments: FxHashMap<String, InstrumentId>,
    ids: ClientOrderIds,
    executions: Executions,
    /// This daemon's orders not known to be over: client id, symbol, quantity, filled.
    open: FxHashMap<OrderId, OpenOrder>,
    /// Binance's order ids of our orders, as its answers and the stream give them.
    by_binance_id: KnownIds,
    sink: mpsc::Sender<T>,
    wrap: Box<dyn Fn(VenueEvent) -> T + Send + Sync>,
    on_ban: TradingState,
    clock_resync: Duration,
    /// The highest order id handed to the task (sent, or adopted): what a snapshot
    /// taken now can know of.
    sent_up_to: OrderId,
    /// The engine's start-up requests (adopt, find unrecorded, snapshot) are done: until
    /// then the user data stream waits, for its events could be about orders the
    /// engine does not have yet (and their trades, once seen, are not reported again).
    started: bool,
}

struct OpenOrder {
    client_id: String,
    symbol: String,
    qty: Qty,
    filled: Qty,
}

/// Where the user data stream stands.
struct Stream {
    settings: StreamSettings,
    socket: Option<Socket>,
    /// Failed attempts since it was last up.
    attempts: u32,
    next_attempt: Instant,
    last_heard: Instant,
    /// When it went away (`None` while up, or before it ever was).
    lost_at: Option<Instant>,
    /// Up at least once: a reconnect reconciles.
    was_up: bool,
    canceled_for_outage: bool,
}

fn backoff(settings: &StreamSettings, attempts: u32) -> Duration {
    super::backoff::backoff(settings.reconnect_min, settings.reconnect_max, attempts)
}

async fn next_message(socket: &mut Option<Socket>) -> Option<Result<Message, String>> {
    match socket {
        Some(socket) => socket.next().await.map(|m| m.map_err(|e| e.to_string())),
        None => std::future::pending().await,
    }
}

impl<T> Task<T> {
    async fn run(mut self, mut queue: mpsc::Receiver<Request>, stream: Option<StreamSettings>) {
        if let Err(failure) = self.rest.sync_clock().await {
            log::warn!(
                "cannot read Binance's clock at start: {failure:?}; signing with the local clock"
            );
        }
        let now = Instant::now();
        let mut stream = stream.map(|settings| Stream {
            settings,
            socket: None,
            attempts: 0,
            next_attempt: now,
            last_heard: now,
            lost_at: Some(now),
            was_up: false,
            canceled_for_outage: false,
        });
        let far = Duration::from_secs(86_400);
        let mut resync_at = Instant::now() + self.clock_resync;
        loop {
            if let Some(wait) = self.rest.take_ban() {
                let until = now_ns().saturating_add(wait.as_nanos().min(i64::MAX as u128) as i64);
                log::error!(ban_secs = wait.as_secs(), state = self.on_ban.name(); "Binance banned this IP (HTTP 418): nothing is sent until the ban ends, and trading is set to the venue's on_ban state");
                if !self
                    .tell(VenueEvent::Banned {
                        until,
                        state: self.on_ban,
                    })
                    .await
                {
                    return;
                }
            }
            let (connect_at, quiet_at, cancel_at) = match &stream {
                Some(s) if s.socket.is_some() => {
                    (None, Some(s.last_heard + s.settings.quiet), None)
                }
                Some(s) => (
                    self.started.then_some(s.next_attempt),
                    None,
                    s.lost_at
                        .zip(s.settings.cancel_after)
                        .filter(|_| !s.canceled_for_outage && !self.open.is_empty())
                        .map(|(at, after)| at + after),
                ),
                None => (None, None, None),
            };
            let socket = stream.as_mut().map(|s| &mut s.socket);
            let mut idle = None;
            let message = async {
                match socket {
                    Some(socket) => next_message(socket).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                request = queue.recv() => {
                    let Some(request) = request else { return };
                    if !self.handle(request).await {
                        self.drain_cancels(&mut queue).await;
                        return;
                    }
                }
                message = message => idle = Some(message),
                _ = tokio::time::sleep_until(connect_at.unwrap_or(now + far)), if connect_at.is_some() => {
                    if let Some(s) = stream.as_mut() {
                        if !self.connect(s).await {
                            return;
                        }
                    }
                }
                _ = tokio::time::sleep_until(quiet_at.unwrap_or(now + far)), if quiet_at.is_some() => {
                    if let Some(s) = stream.as_mut() {
                        log::warn!(quiet_secs = s.settings.quiet.as_secs(); "the Binance user data stream went quiet: connecting again");
                        Self::lost(s, "the user data stream went quiet");
                    }
                }
                _ = tokio::time::sleep_until(cancel_at.unwrap_or(now + far)), if cancel_at.is_some() => {
                    if let Some(s) = stream.as_mut() {
                        s.canceled_for_outage = true;
                    }
                    log::error!(orders = self.open.len(); "no Binance user data stream for too long: canceling this daemon's open orders");
                    if !self.cancel_all().await {
                        return;
                    }
                }
                _ = tokio::time::sleep_until(resync_at) => {
                    resync_at = Instant::now() + self.clock_resync;
                    match self.rest.sync_clock().await {
                        Ok(offset_ms) => log::debug!(offset_ms; "Binance's clock measured again"),
                        Err(failure) => log::warn!("cannot measure Binance's clock again: {failure:?}; the last offset stays"),
                    }
                }
            }
            if let (Some(message), Some(s)) = (idle, stream.as_mut()) {
                s.last_heard = Instant::now();
                match message {
                    Some(Ok(Message::Text(text))) => {
                        if !self.on_stream(text.as_str()).await {
                            return;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => {
                        log::warn!("the Binance user data stream closed: connecting again");
                        Self::lost(s, "the user data stream closed");
                    }
                    Some(Err(err)) => {
                        log::warn!(error = err.as_str(); "the Binance user data stream failed: connecting again");
                        Self::lost(s, "the user data stream failed");
                    }
                    // Pings are answered by the socket; they show the connection lives.
                    Some(Ok(_)) => {}
                }
            }
        }
    }

    /// The engine is gone (the daemon is stopping): the cancels it asked for before it
    /// went are still sent, so that its orders do not stay at Binance; nothing else is.
    async fn drain_cancels(&mut self, queue: &mut mpsc::Receiver<Request>) {
        while let Some(request) = queue.recv().await {
            if let Request::Cancel { .. } = request {
                let _ = self.handle(request).await;
            }
        }
    }

    fn lost(s: &mut Stream, why: &str) {
        crate::alert::raise(crate::alert::Alert::new(
            crate::alert::AlertKind::VenueDisconnected,
            "binance",
            format!("{why}: connecting again with backoff; orders are reconciled on return"),
        ));
        s.socket = None;
        s.lost_at = Some(Instant::now());
        s.next_attempt = Instant::now() + backoff(&s.settings, s.attempts);
        s.attempts += 1;
    }

    /// Sends `event` to the engine; false when the engine is gone.
    async fn tell(&self, event: VenueEvent) -> bool {
        self.sink.send((self.wrap)(event)).await.is_ok()
    }

    /// Connects and subscribes; on a reconnect, reconciles. False when the engine is gone.
    async fn connect(&mut self, s: &mut Stream) -> bool {
        match self.subscribe(&s.settings.url).await {
            Ok(socket) => {
                log::info!(attempts = s.attempts; "the Binance user data stream is connected");
                s.socket = Some(socket);
                s.attempts = 0;
                s.last_heard = Instant::now();
                s.lost_at = None;
                s.canceled_for_outage = false;
                let reconnect = s.was_up;
                s.was_up = true;
                !reconnect || self.reconcile().await
            }
            Err(reason) => {
                log::warn!(attempts = s.attempts, reason = reason.as_str(); "cannot connect the Binance user data stream: trying again later");
                s.next_attempt = Instant::now() + backoff(&s.settings, s.attempts);
                s.attempts += 1;
                true
            }
        }
    }

    async fn subscribe(&self, url: &str) -> Result<Socket, String> {
        let (mut socket, _) = tokio::time::timeout(
            super::rest::REQUEST_TIMEOUT,
            tokio_tungstenite::connect_async(url),
        )
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
        let request = self.rest.user_stream_subscription(1);
        socket
            .send(Message::text(request))
            .await
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + super::rest::REQUEST_TIMEOUT;
        loop {
            let message = tokio::time::timeout_at(deadline, socket.next())
                .await
                .map_err(|_| "no answer to the subscription".to_owned())?;
            let Some(message) = message else {
                return Err("closed before answering".into());
            };
            let Message::Text(text) = message.map_err(|e| e.to_string())? else {
                continue;
            };
            let answer: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
            if answer["id"] != "1" {
                continue;
            }
            return match answer["status"].as_u64() {
                Some(200) => Ok(socket),
                _ => Err(format!("subscription refused: {}", answer["error"])),
            };
        }
    }

    /// The trades made while the stream was away, as fills, then a snapshot.
    async fn reconcile(&mut self) -> bool {
        let mut fills = Vec::new();
        for symbol in self.symbols.clone() {
            let from = self.executions.last_trade(&symbol.name).map(|id| id + 1);
            let query = match from {
                Some(from) => format!("symbol={}&fromId={from}", symbol.name),
                None => format!("symbol={}", symbol.name),
            };
            let trades = match self
                .rest
                .signed(reqwest::Method::GET, "/api/v3/myTrades", &query)
                .await
            {
                Ok(trades) => trades,
                Err(failure) => {
                    log::warn!(symbol = symbol.name.as_str(); "cannot read the trades missed while away: {failure:?}");
                    continue;
                }
            };
            for raw in trades.as_array().into_iter().flatten() {
                let Ok(trade) = serde_json::from_value::<AccountTrade>(raw.clone()) else {
                    log::warn!(symbol = symbol.name.as_str(); "a trade of myTrades cannot be read: skipped");
                    continue;
                };
                let Some(id) = self.by_binance_id.get(&symbol.name, trade.order_id) else {
                    continue;
                };
                match self
                    .executions
                    .trade(id, &trade, &symbol.base, &symbol.quote)
                {
                    Ok(Some(fill)) => {
                        log::warn!(order_id = id, trade_id = trade.id; "a fill made while the user data stream was away");
                        fills.push(fill);
                    }
                    Ok(None) => {}
                    Err(err) => log::warn!(order_id = id; "{err}"),
                }
            }
        }
        self.booked(&fills);
        if !fills.is_empty() && !self.tell(VenueEvent::Reports(fills)).await {
            return false;
        }
        self.snapshot().await
    }

    /// Asks for the account and tells the engine; learns Binance's ids of our open
    /// orders on the way (a recovered order's trades are then recognised).
    async fn snapshot(&mut self) -> bool {
        match snapshot(&mut self.rest, &self.symbols, &self.ids).await {
            Some((mut account, known)) => {
                account.sent_up_to = Some(self.sent_up_to);
                for ((symbol, binance_id), id) in known {
                    self.by_binance_id.insert(symbol, binance_id, id);
                }
                self.tell(VenueEvent::Snapshot(account)).await
            }
            None => true,
        }
    }

    /// One message of the user data stream.
    async fn on_stream(&mut self, text: &str) -> bool {
        let event = match user_stream::parse(text) {
            Ok(event) => event,
            Err(err) => {
                log::warn!("{err}: skipped");
                return true;
            }
        };
        let event = match event {
            UserEvent::Execution(event) => event,
            UserEvent::Balances(changed) => {
                let changed = changed
                    .into_iter()
                    .map(|b| (b.asset, b.free, b.locked))
                    .collect();
                return self.tell(VenueEvent::Balances(changed)).await;
            }
            UserEvent::Other => return true,
        };
        let Some(symbol) = self
            .symbols
            .iter()
            .find(|s| s.name == event.symbol)
            .cloned()
        else {
            return true;
        };
        match self.executions.report(&event, &symbol.base, &symbol.quote) {
            Ok(Some(report)) => {
                if let Some(id) = self.ids.parse(&event.client_id) {
                    self.by_binance_id
                        .insert(symbol.name.clone(), event.order_id, id);
                }
                self.booked(std::slice::from_ref(&report));
                self.tell(VenueEvent::Reports(vec![report])).await
            }
            Ok(None) => true,
            Err(err) => {
                log::warn!("{err}: skipped");
                true
            }
        }
    }

    /// Keeps the open orders current: over when canceled, refused or filled.
    fn booked(&mut self, reports: &[ExecutionReport]) {
        for report in reports {
            match report {
                ExecutionReport::Fill { id, qty, .. } => {
                    if let Some(order) = self.open.get_mut(id) {
                        order.filled += *qty;
                        if order.filled >= order.qty {
                            self.open.remove(id);
                            self.by_binance_id.finished(*id);
                        }
                    }
                }
                ExecutionReport::Canceled { id, .. } | ExecutionReport::Rejected { id, .. } => {
                    self.open.remove(id);
                    self.by_binance_id.finished(*id);
                }
                _ => {}
            }
        }
    }

    /// Takes back the orders of the previous run: each asked about by its client order
    /// id, and the trades it made beyond what was booked before the restart (the
    /// first ones, by trade id, up to the quantity booked) reported as the fills they
    /// were, before the snapshot that follows reconciles. An order Binance does not have
    /// never arrived (the snapshot closes it); it is not sent again.
    async fn adopt(&mut self, orders: Vec<(VenueOrder, String, Qty)>) -> bool {
        let mut reports = Vec::new();
        for (order, symbol_name, left) in orders {
            self.sent_up_to = self.sent_up_to.max(order.id);
            let booked = order.request.qty - left;
            self.open.insert(
                order.id,
                OpenOrder {
                    client_id: order.client_id.to_string(),
                    symbol: symbol_name.clone(),
                    qty: order.request.qty,
                    filled: booked,
                },
            );
            let Some(symbol) = self.symbols.iter().find(|s| s.name == symbol_name).cloned() else {
                continue;
            };
            let query = orders::by_client_id(&symbol.name, order.client_id.as_str());
            let Some(found) = self.get("/api/v3/order", &query, order.id).await else {
                continue;
            };
            let Some(binance_id) = found["orderId"].as_i64() else {
                continue;
            };
            self.by_binance_id
                .insert(symbol.name.clone(), binance_id, order.id);
            // Binance has it: taken, whatever became of it since (an order sent just
            // before the daemon died may have had no answer).
            let now = now_ns();
            let last = match answered(order.id, &found, now) {
                ExecutionReport::Accepted { .. } => None,
                other => Some(other),
            };
            if !matches!(last, Some(ExecutionReport::Rejected { .. })) {
                reports.push(ExecutionReport::Accepted {
                    id: order.id,
                    ts: now,
                });
            }
            let executed = found["executedQty"]
                .as_str()
                .and_then(|q| q.parse::<Qty>().ok())
                .unwrap_or(Qty::ZERO);
            let Some(trades) = self.order_trades(&symbol.name, binance_id, order.id).await else {
                continue;
            };
            let mut seen = Qty::ZERO;
            for trade in &trades {
                let Ok(Some(fill)) =
                    self.executions
                        .trade(order.id, trade, &symbol.base, &symbol.quote)
                else {
                    continue;
                };
                let ExecutionReport::Fill { qty, .. } = fill else {
                    continue;
                };
                seen += qty;
                // Trades within what the store had were booked before the restart.
                if seen > booked {
                    log::warn!(order_id = order.id, trade_id = trade.id; "a fill made while the daemon was down");
                    reports.push(fill);
                }
            }
            if executed > booked && seen <= booked {
                log::warn!(order_id = order.id, executed:% = executed, booked:% = booked; "Binance reports more executed than its trades show");
            }
            reports.extend(last);
        }
        self.booked(&reports);
        reports.is_empty() || self.tell(VenueEvent::Reports(reports)).await
    }

    /// Orders of this daemon past `end` that Binance has and the store never recorded:
    /// each symbol's orders from the latest recorded one's creation (`allOrders`, a day
    /// from then at most: an unrecorded order was sent moments after it), each with its
    /// trades (`myTrades`), told to the engine as `VenueEvent::Unrecorded`. From then on
    /// their fills and cancels are recognised as ours.
    async fn find_unrecorded(&mut self, end: RecordEnd) -> bool {
        // A minute's slack for the difference between our clock and Binance's.
        let start = (end.at / 1_000_000 - 60_000).max(0);
        let query_end = start + UNRECORDED_WINDOW_MS;
        let mut found = Vec::new();
        for symbol in self.symbols.clone() {
            let Some(&instrument) = self.instruments.get(&symbol.name) else {
                continue;
            };
            let mut query = format!(
                "symbol={}&startTime={start}&endTime={query_end}&limit={ALL_ORDERS_PAGE}",
                symbol.name
            );
            for _ in 0..ALL_ORDERS_PAGES {
                let page = match self
                    .rest
                    .signed(reqwest::Method::GET, "/api/v3/allOrders", &query)
                    .await
                {
                    Ok(page) => page,
                    Err(failure) => {
                        log::warn!(symbol = symbol.name.as_str(); "cannot list the last run's orders: {failure:?}; unrecorded ones there are not adopted");
                        break;
                    }
                };
                let page = page.as_array().cloned().unwrap_or_default();
                for listed in &page {
                    let Some(id) = listed["clientOrderId"]
                        .as_str()
                        .and_then(|c| self.ids.parse(c))
                    else {
                        continue;
                    };
                    if id <= end.last_id || self.open.contains_key(&id) {
                        continue;
                    }
                    let Some(request) = orders::read_order(listed, instrument) else {
                        log::warn!(order_id = id, symbol = symbol.name.as_str(); "an unrecorded order of ours in a form this daemon does not send: left alone");
                        continue;
                    };
                    if let Some(order) = self.unrecorded(id, request, listed, &symbol).await {
                        found.push(order);
                    }
                }
                let last = page.last().and_then(|o| o["orderId"].as_i64());
                match last {
                    Some(last) if page.len() == ALL_ORDERS_PAGE => {
                        query = format!(
                            "symbol={}&orderId={}&limit={ALL_ORDERS_PAGE}",
                            symbol.name,
                            last + 1
                        );
                    }
                    _ => break,
                }
            }
        }
        found.is_empty() || self.tell(VenueEvent::Unrecorded(found)).await
    }

    /// One unrecorded order of ours Binance listed: its trades as fills, and its end if
    /// it ended; kept as open if it is not.
    async fn unrecorded(
        &mut self,
        id: OrderId,
        request: pennant_sdk::OrderRequest,
        listed: &Value,
        symbol: &Symbol,
    ) -> Option<UnrecordedOrder> {
        let binance_id = listed["orderId"].as_i64()?;
        self.sent_up_to = self.sent_up_to.max(id);
        let created = listed["time"]
            .as_i64()
            .map_or_else(now_ns, |ms| ms * 1_000_000);
        log::warn!(order_id = id, binance_id, symbol = symbol.name.as_str(), status = listed["status"].as_str().unwrap_or("?"); "an order of this daemon at Binance the store never recorded: adopted");
        self.by_binance_id
            .insert(symbol.name.clone(), binance_id, id);
        let mut reports = vec![ExecutionReport::Accepted { id, ts: created }];
        let trades = self
            .order_trades(&symbol.name, binance_id, id)
            .await
            .unwrap_or_default();
        let mut filled = Qty::ZERO;
        for trade in &trades {
            if let Ok(Some(fill)) = self
                .executions
                .trade(id, trade, &symbol.base, &symbol.quote)
            {
                if let ExecutionReport::Fill { qty, .. } = fill {
                    filled += qty;
                }
                reports.push(fill);
            }
        }
        let executed = listed["executedQty"]
            .as_str()
            .and_then(|q| q.parse::<Qty>().ok())
            .unwrap_or(Qty::ZERO);
        if executed > filled {
            log::error!(order_id = id, executed:% = executed, booked:% = filled; "Binance reports more executed of an unrecorded order than its trades show: the difference is not booked");
        }
        let updated = listed["updateTime"]
            .as_i64()
            .map_or(created, |ms| ms * 1_000_000);
        let working = matches!(listed["status"].as_str(), Some("NEW" | "PARTIALLY_FILLED"));
        match answered(id, listed, updated) {
            ExecutionReport::Accepted { .. } if working => {
                self.open.insert(
                    id,
                    OpenOrder {
                        client_id: self.ids.of(id).to_string(),
                        symbol: symbol.name.clone(),
                        qty: request.qty,
                        filled,
                    },
                );
            }
            // Filled: its fills end it (or, if its trades could not be read, the
            // snapshot's reconciliation does).
            ExecutionReport::Accepted { .. } => self.by_binance_id.finished(id),
            end => {
                self.by_binance_id.finished(id);
                reports.push(end);
            }
        }
        Some(UnrecordedOrder {
            id,
            request,
            created,
            reports,
        })
    }

    /// The trades of one order of ours (`myTrades` by Binance's order id), oldest first;
    /// `None` if Binance did not answer.
    async fn order_trades(
        &mut self,
        symbol: &str,
        binance_id: i64,
        id: OrderId,
    ) -> Option<Vec<AccountTrade>> {
        let query = format!("symbol={symbol}&orderId={binance_id}");
        let trades = self.get("/api/v3/myTrades", &query, id).await?;
        let mut trades: Vec<AccountTrade> = trades
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| serde_json::from_value(t.clone()).ok())
            .collect();
        trades.sort_by_key(|t| t.id);
        Some(trades)
    }

    /// A signed `GET` about a recovered order; a failure is logged and skips it (the
    /// snapshot still reconciles it).
    async fn get(&mut self, path: &str, query: &str, order_id: OrderId) -> Option<Value> {
        self.rest
            .signed(reqwest::Method::GET, path, query)
            .await
            .map_err(|failure| log::warn!(order_id, path; "cannot ask Binance about the last run's orders: {failure:?}"))
            .ok()
    }

    /// Cancels every open order of this daemon, one by one (other clients' orders on
    /// the account are not ours to cancel).
    async fn cancel_all(&mut self) -> bool {
        let open: Vec<(OrderId, String, String)> = self
            .open
            .iter()
            .map(|(id, o)| (*id, o.client_id.clone(), o.symbol.clone()))
            .collect();
        for (id, client_id, symbol) in open {
            if !self
                .handle(Request::Cancel {
                    id,
                    client_id,
                    symbol,
                })
                .await
            {
                return false;
            }
        }
        true
    }

    /// One command of the engine; false when the engine is gone.
    async fn handle(&mut self, request: Request) -> bool {
        let reports = match request {
            Request::Snapshot => {
                self.started = true;
                return self.snapshot().await;
            }
            Request::Adopt(orders) => return self.adopt(orders).await,
            Request::FindUnrecorded(end) => return self.find_unrecorded(end).await,
            Request::Submit { order, symbol } => {
                self.sent_up_to = self.sent_up_to.max(order.id);
                self.open.insert(
                    order.id,
                    OpenOrder {
                        client_id: order.client_id.to_string(),
                        symbol: symbol.clone(),
                        qty: order.request.qty,
                        filled: Qty::ZERO,
                    },
                );
                let (reports, binance_id) = submit(&mut self.rest, &order, &symbol).await;
                if let Some(binance_id) = binance_id {
                    self.by_binance_id.insert(symbol, binance_id, order.id);
                }
                reports
            }
            Request::Cancel {
                id,
                client_id,
                symbol,
            } => {
                let query = orders::by_client_id(&symbol, &client_id);
                let ts = now_ns();
                match self
                    .rest
                    .signed(reqwest::Method::DELETE, "/api/v3/order", &query)
                    .await
                {
                    Ok(_) => vec![ExecutionReport::Canceled { id, ts }],
                    Err(failure) => {
                        log::info!(order_id = id; "Binance refused the cancel: {failure:?}");
                        vec![ExecutionReport::CancelRejected { id, ts }]
                    }
                }
            }
        };
        self.booked(&reports);
        // The engine is gone when the channel closes: nothing is left to tell.
        self.tell(VenueEvent::Reports(reports)).await
    }
}

/// Sends an order; the reports its answer means, and Binance's id of it when known.
async fn submit(
    rest: &mut RestClient,
    order: &VenueOrder,
    symbol: &str,
) -> (Vec<ExecutionReport>, Option<i64>) {
    let id = order.id;
    let ts = now_ns();
    // A new order weighs 1 (rest-api.md) and counts once in each order budget.
    if let Err(why) = rest.budget.allows_order(1) {
        log::warn!(order_id = id; "order refused before it was sent: {why}");
        let reason = RejectReason::VenueRateBudget;
        return (vec![ExecutionReport::Rejected { id, reason, ts }], None);
    }
    let form = orders::new_order(order, symbol);
    match rest
        .signed(reqwest::Method::POST, "/api/v3/order", &form)
        .await
    {
        Ok(answer) => (vec![answered(id, &answer, ts)], answer["orderId"].as_i64()),
        Err(Failure::Unknown) => {
            log::warn!(order_id = id, client_id:% = order.client_id; "no answer from Binance for an order: asking about it by its client order id");
            let mut reports = vec![ExecutionReport::Unknown { id, ts }];
            let query = orders::by_client_id(symbol, order.client_id.as_str());
            let mut binance_id = None;
            match rest
                .signed(reqwest::Method::GET, "/api/v3/order", &query)
                .await
            {
                Ok(found) => {
                    binance_id = found["orderId"].as_i64();
                    reports.push(answered(id, &found, now_ns()));
                }
                // Binance does not have it: it never arrived, and is not sent again.
                Err(Failure::UnknownOrder { .. }) => reports.push(ExecutionReport::Rejected {
                    id,
                    reason: RejectReason::VenueRejected,
                    ts: now_ns(),
                }),
                // Still no answer: it stays unknown until reconciliation says.
                Err(failure) => {
                    log::warn!(order_id = id; "the order's status is still unknown: {failure:?}")
                }
            }
            (reports, binance_id)
        }
        Err(failure) => {
            log::info!(order_id = id; "Binance refused the order: {failure:?}");
            (
                vec![ExecutionReport::Rejected {
                    id,
                    reason: failure.reason(),
                    ts,
                }],
                None,
            )
        }
    }
}
