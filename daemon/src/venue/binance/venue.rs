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
//!   other clients' orders, and the balances: `VenueEvent::Snapshot`.

use super::errors::Failure;
use super::orders;
use super::rest::RestClient;
use crate::venue::{ClientOrderIds, ExecutionReport, Venue, VenueEvent, VenueOrder, VenueSnapshot};
use pennant_sdk::{Amount, InstrumentId, OrderId, Qty, RejectReason, Timestamp};
use rustc_hash::FxHashMap;
use serde_json::Value;
use tokio::sync::mpsc;

/// Commands waiting for the task, at most; past it an order is refused at once.
pub const QUEUE: usize = 4096;

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
}

/// See the module docs.
pub struct BinanceVenue {
    name: String,
    requests: mpsc::Sender<Request>,
    symbols: FxHashMap<InstrumentId, String>,
    sent: FxHashMap<OrderId, (String, String)>,
}

impl BinanceVenue {
    /// Starts the venue's task on `runtime`: `symbols` maps our instruments to Binance's
    /// symbols, `ids` recognises this daemon's orders; what the task learns goes to
    /// `sink`, each event made its input by `wrap`.
    pub fn spawn<T: Send + 'static>(
        name: &str,
        rest: RestClient,
        symbols: FxHashMap<InstrumentId, String>,
        ids: ClientOrderIds,
        runtime: &tokio::runtime::Handle,
        sink: mpsc::Sender<T>,
        wrap: impl Fn(VenueEvent) -> T + Send + 'static,
    ) -> BinanceVenue {
        let (requests, queue) = mpsc::channel(QUEUE);
        let mut listed: Vec<String> = symbols.values().cloned().collect();
        listed.sort();
        listed.dedup();
        runtime.spawn(run(rest, queue, listed, ids, sink, wrap));
        BinanceVenue {
            name: name.to_owned(),
            requests,
            symbols,
            sent: FxHashMap::default(),
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
        self.sent
            .insert(order.id, (order.client_id.to_string(), symbol.clone()));
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
        let Some((client_id, symbol)) = self.sent.get(&id).cloned() else {
            out.push(ExecutionReport::CancelRejected { id, ts: now });
            return;
        };
        if self
            .requests
            .try_send(Request::Cancel {
                id,
                client_id,
                symbol,
            })
            .is_err()
        {
            out.push(ExecutionReport::CancelRejected { id, ts: now });
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

/// The account as it stands: every listed symbol's open orders, and the balances. `None`
/// if Binance did not answer in full (a partial snapshot would cancel what it missed).
async fn snapshot(
    rest: &mut RestClient,
    symbols: &[String],
    ids: &ClientOrderIds,
) -> Option<VenueSnapshot> {
    let mut snapshot = VenueSnapshot::default();
    for symbol in symbols {
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
    Some(snapshot)
}

async fn run<T>(
    mut rest: RestClient,
    mut queue: mpsc::Receiver<Request>,
    symbols: Vec<String>,
    ids: ClientOrderIds,
    sink: mpsc::Sender<T>,
    wrap: impl Fn(VenueEvent) -> T + Send + 'static,
) {
    if let Err(failure) = rest.sync_clock().await {
        log::warn!(
            "cannot read Binance's clock at start: {failure:?}; signing with the local clock"
        );
    }
    while let Some(request) = queue.recv().await {
        let reports = match request {
            Request::Snapshot => {
                if let Some(account) = snapshot(&mut rest, &symbols, &ids).await {
                    if sink
                        .send(wrap(VenueEvent::Snapshot(account)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                continue;
            }
            Request::Submit { order, symbol } => submit(&mut rest, &order, &symbol).await,
            Request::Cancel {
                id,
                client_id,
                symbol,
            } => {
                let query = orders::by_client_id(&symbol, &client_id);
                let ts = now_ns();
                match rest
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
        // The engine is gone when the channel closes: nothing is left to tell.
        if sink.send(wrap(VenueEvent::Reports(reports))).await.is_err() {
            return;
        }
    }
}

async fn submit(rest: &mut RestClient, order: &VenueOrder, symbol: &str) -> Vec<ExecutionReport> {
    let id = order.id;
    let form = orders::new_order(order, symbol);
    let ts = now_ns();
    match rest
        .signed(reqwest::Method::POST, "/api/v3/order", &form)
        .await
    {
        Ok(answer) => vec![answered(id, &answer, ts)],
        Err(Failure::Unknown) => {
            log::warn!(order_id = id, client_id:% = order.client_id; "no answer from Binance for an order: asking about it by its client order id");
            let mut reports = vec![ExecutionReport::Unknown { id, ts }];
            let query = orders::by_client_id(symbol, order.client_id.as_str());
            match rest
                .signed(reqwest::Method::GET, "/api/v3/order", &query)
                .await
            {
                Ok(found) => reports.push(answered(id, &found, now_ns())),
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
            reports
        }
        Err(failure) => {
            log::info!(order_id = id; "Binance refused the order: {failure:?}");
            vec![ExecutionReport::Rejected {
                id,
                reason: RejectReason::VenueRejected,
                ts,
            }]
        }
    }
}
