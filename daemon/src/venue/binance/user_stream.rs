//! The user data stream (user-data-stream.md): `executionReport` events turned into the
//! engine's [`ExecutionReport`]s, each trade once, and `outboundAccountPosition` into
//! balances. Events come bare or, from the WebSocket API's subscription, wrapped as
//! `{"subscriptionId": 0, "event": {...}}`; both are read.
//!
//! Orders are recognised by their client order id (`c`, or `C` on a cancel: the original
//! id); an order of another client (another daemon, a person on the website) is left
//! alone.

use crate::venue::{ClientOrderIds, ExecutionReport};
use pennant_sdk::{Amount, Liquidity, OrderId, Price, Qty, RejectReason, Timestamp};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

/// Trade ids remembered per symbol to recognise a trade sent twice: far more than a
/// reconnect's `myTrades` page (500) brings back.
pub const REMEMBERED_TRADES: usize = 10_000;

/// Why an event cannot be read (counted and skipped by the adapter).
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Not the JSON Binance documents.
    #[error("user data stream: {0}")]
    Json(#[from] serde_json::Error),
    /// A number field is not a decimal we can hold.
    #[error("user data stream: {field} {value:?} is not a decimal with at most 8 places")]
    Decimal {
        /// The field.
        field: &'static str,
        /// As sent.
        value: String,
    },
}

/// `executionReport`, the fields the adapter reads (Binance's one-letter keys).
#[derive(Debug, Clone, Deserialize)]
pub struct ExecutionEvent {
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Client order id.
    #[serde(rename = "c")]
    pub client_id: String,
    /// On a cancel, the canceled order's client id (`c` is then the cancel's own).
    #[serde(rename = "C", default)]
    pub orig_client_id: String,
    /// Execution type: NEW, CANCELED, REPLACED, REJECTED, TRADE, EXPIRED,
    /// TRADE_PREVENTION.
    #[serde(rename = "x")]
    pub exec_type: String,
    /// Order status after it.
    #[serde(rename = "X")]
    pub status: String,
    /// Reject reason (`NONE` unless rejected).
    #[serde(rename = "r")]
    pub reject_reason: String,
    /// Binance's order id.
    #[serde(rename = "i")]
    pub order_id: i64,
    /// Last executed quantity.
    #[serde(rename = "l")]
    pub last_qty: String,
    /// Last executed price.
    #[serde(rename = "L")]
    pub last_price: String,
    /// Commission of this trade.
    #[serde(rename = "n")]
    pub commission: String,
    /// Its asset (null without a trade).
    #[serde(rename = "N")]
    pub commission_asset: Option<String>,
    /// Transaction time, ms.
    #[serde(rename = "T")]
    pub time: i64,
    /// Trade id (-1 without a trade).
    #[serde(rename = "t")]
    pub trade_id: i64,
    /// The trade was the maker side.
    #[serde(rename = "m")]
    pub maker: bool,
}

/// A trade of the account as `GET /api/v3/myTrades` lists it (rest-api.md): how a
/// fill missed while the stream was away is found again.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountTrade {
    /// Symbol.
    pub symbol: String,
    /// Trade id.
    pub id: i64,
    /// Binance's id of the order.
    pub order_id: i64,
    /// Price.
    pub price: String,
    /// Quantity.
    pub qty: String,
    /// Commission.
    pub commission: String,
    /// Its asset.
    pub commission_asset: String,
    /// When, ms.
    pub time: i64,
    /// The order was the maker.
    pub is_maker: bool,
}

/// A trade, from either source, as [`Executions`] books it.
struct Trade<'a> {
    symbol: &'a str,
    id: i64,
    price: &'a str,
    qty: &'a str,
    commission: &'a str,
    commission_asset: Option<&'a str>,
    maker: bool,
    time: i64,
}

/// A balance of `outboundAccountPosition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The asset.
    pub asset: String,
    /// Free to trade.
    pub free: Amount,
    /// Locked in open orders.
    pub locked: Amount,
}

/// One event of the stream.
#[derive(Debug, Clone)]
pub enum UserEvent {
    /// An order changed.
    Execution(Box<ExecutionEvent>),
    /// Balances changed.
    Balances(Vec<Balance>),
    /// Another event (`balanceUpdate`, `listStatus`, ...), not used.
    Other,
}

/// An event, by its `e`.
#[derive(Deserialize)]
#[serde(tag = "e")]
enum Tagged {
    #[serde(rename = "executionReport")]
    Execution(Box<ExecutionEvent>),
    #[serde(rename = "outboundAccountPosition")]
    Position(AccountPosition),
    #[serde(other)]
    Other,
}

/// The WebSocket API's wrapping of a subscription's event.
#[derive(Deserialize)]
struct Wrapped {
    event: Tagged,
}

#[derive(Deserialize)]
struct AccountPosition {
    #[serde(rename = "B")]
    balances: Vec<RawBalance>,
}

#[derive(Deserialize)]
struct RawBalance {
    a: String,
    f: String,
    l: String,
}

fn decimal<T: std::str::FromStr>(field: &'static str, value: &str) -> Result<T, StreamError> {
    value.parse().map_err(|_| StreamError::Decimal {
        field,
        value: value.to_owned(),
    })
}

/// Reads one message of the stream.
pub fn parse(text: &str) -> Result<UserEvent, StreamError> {
    // Read straight into the types: no intermediate JSON tree.
    let event = if text.contains("\"subscriptionId\"") {
        serde_json::from_str::<Wrapped>(text)?.event
    } else {
        serde_json::from_str::<Tagged>(text)?
    };
    Ok(match event {
        Tagged::Execution(event) => UserEvent::Execution(event),
        Tagged::Position(position) => {
            let balances = position
                .balances
                .into_iter()
                .map(|b| {
                    Ok(Balance {
                        free: decimal("B.f", &b.f)?,
                        locked: decimal("B.l", &b.l)?,
                        asset: b.a,
                    })
                })
                .collect::<Result<_, StreamError>>()?;
            UserEvent::Balances(balances)
        }
        Tagged::Other => UserEvent::Other,
    })
}

/// Turns executions into reports for this daemon's orders, each trade once: a trade can
/// come twice (the stream after a reconnect, a REST answer with the same fill).
#[derive(Debug)]
pub struct Executions {
    ids: ClientOrderIds,
    /// Booked trade ids per symbol, the latest [`REMEMBERED_TRADES`] of each.
    trades: HashMap<String, BTreeSet<i64>>,
}

impl Executions {
    /// For the orders whose client ids `ids` gave.
    pub fn new(ids: ClientOrderIds) -> Self {
        Executions {
            ids,
            trades: HashMap::new(),
        }
    }

    /// The report an execution means, if it is about one of this daemon's orders and
    /// not a trade already booked. `base` and `quote` are the symbol's assets, to value
    /// the commission.
    pub fn report(
        &mut self,
        event: &ExecutionEvent,
        base: &str,
        quote: &str,
    ) -> Result<Option<ExecutionReport>, StreamError> {
        let client = if event.exec_type == "CANCELED" && !event.orig_client_id.is_empty() {
            &event.orig_client_id
        } else {
            &event.client_id
        };
        let Some(id) = self.ids.parse(client) else {
            return Ok(None);
        };
        let ts: Timestamp = event.time.saturating_mul(1_000_000);
        Ok(match event.exec_type.as_str() {
            "NEW" => Some(ExecutionReport::Accepted { id, ts }),
            "TRADE" => self.fill(
                id,
                Trade {
                    symbol: &event.symbol,
                    id: event.trade_id,
                    price: &event.last_price,
                    qty: &event.last_qty,
                    commission: &event.commission,
                    commission_asset: event.commission_asset.as_deref(),
                    maker: event.maker,
                    time: event.time,
                },
                base,
                quote,
            )?,
            "CANCELED" | "EXPIRED" | "TRADE_PREVENTION" => {
                Some(ExecutionReport::Canceled { id, ts })
            }
            "REJECTED" => Some(ExecutionReport::Rejected {
                id,
                reason: RejectReason::VenueRejected,
                ts,
            }),
            // REPLACED (an amend) and types this build does not know change nothing
            // the engine books.
            _ => None,
        })
    }

    /// The fill a trade of `myTrades` is for order `id` (the caller knows Binance's
    /// order ids), unless the stream already brought it.
    pub fn trade(
        &mut self,
        id: OrderId,
        trade: &AccountTrade,
        base: &str,
        quote: &str,
    ) -> Result<Option<ExecutionReport>, StreamError> {
        self.fill(
            id,
            Trade {
                symbol: &trade.symbol,
                id: trade.id,
                price: &trade.price,
                qty: &trade.qty,
                commission: &trade.commission,
                commission_asset: Some(&trade.commission_asset),
                maker: trade.is_maker,
                time: trade.time,
            },
            base,
            quote,
        )
    }

    /// The highest trade id booked for `symbol`: where `myTrades` resumes.
    pub fn last_trade(&self, symbol: &str) -> Option<i64> {
        self.trades.get(symbol).and_then(|ids| ids.last().copied())
    }

    /// A commission in the symbol's base or quote is valued in the quote at the trade's
    /// price; in a third asset (BNB) it cannot be valued here and counts as zero, which
    /// the log says.
    fn fill(
        &mut self,
        id: OrderId,
        trade: Trade<'_>,
        base: &str,
        quote: &str,
    ) -> Result<Option<ExecutionReport>, StreamError> {
        let seen = self.trades.entry(trade.symbol.to_owned()).or_default();
        if seen
            .first()
            .is_some_and(|&oldest| trade.id < oldest && seen.len() >= REMEMBERED_TRADES)
            || !seen.insert(trade.id)
        {
            return Ok(None);
        }
        if seen.len() > REMEMBERED_TRADES {
            seen.pop_first();
        }
        let price: Price = decimal("L", trade.price)?;
        let qty: Qty = decimal("l", trade.qty)?;
        let commission: Amount = decimal("n", trade.commission)?;
        let fee = match trade.commission_asset {
            Some(asset) if asset == quote => commission,
            Some(asset) if asset == base => price
                .checked_notional(Qty::from_raw(commission.raw()))
                .unwrap_or(Amount::ZERO),
            Some(asset) => {
                log::warn!(order_id = id, asset; "commission in a third asset: not counted in the fees");
                Amount::ZERO
            }
            None => Amount::ZERO,
        };
        Ok(Some(ExecutionReport::Fill {
            id,
            price,
            qty,
            fee,
            liquidity: if trade.maker {
                Liquidity::Maker
            } else {
                Liquidity::Taker
            },
            ts: trade.time.saturating_mul(1_000_000),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{amount, px, qty};

    /// The `executionReport` of user-data-stream.md, with our client order id.
    const NEW: &str = r#"{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"desk-7","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"NEW","X":"NEW","r":"NONE","i":4293153,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":1499405658657,"t":-1,"v":3,"I":8641984,"w":true,"m":false,"M":false,"O":1499405658657,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}"#;

    fn execution(text: &str) -> ExecutionEvent {
        match parse(text).unwrap() {
            UserEvent::Execution(e) => *e,
            other => panic!("{other:?}"),
        }
    }

    fn check(tracker: &mut Executions, text: &str) -> Option<ExecutionReport> {
        tracker.report(&execution(text), "ETH", "BTC").unwrap()
    }

    #[test]
    fn executions_become_reports_each_trade_once() {
        let mut tracker = Executions::new(ClientOrderIds::new("desk").unwrap());
        let ts = 1_499_405_658_657_000_000;
        assert_eq!(
            check(&mut tracker, NEW),
            Some(ExecutionReport::Accepted { id: 7, ts })
        );
        let trade = NEW
            .replace(
                r#""x":"NEW","X":"NEW""#,
                r#""x":"TRADE","X":"PARTIALLY_FILLED""#,
            )
            .replace(r#""l":"0.00000000""#, r#""l":"0.40000000""#)
            .replace(r#""L":"0.00000000""#, r#""L":"0.10264410""#)
            .replace(r#""n":"0","N":null"#, r#""n":"0.00004105","N":"BTC""#)
            .replace(r#""t":-1"#, r#""t":77"#)
            .replace(r#""m":false,"M""#, r#""m":true,"M""#);
        let fill = ExecutionReport::Fill {
            id: 7,
            price: px("0.1026441"),
            qty: qty("0.4"),
            fee: amount("0.00004105"),
            liquidity: Liquidity::Maker,
            ts,
        };
        assert_eq!(check(&mut tracker, &trade), Some(fill));
        // The same trade again (after a reconnect): nothing more.
        assert_eq!(check(&mut tracker, &trade), None);
        // A commission in the base asset is valued at the trade's price.
        let in_base = trade
            .replace(r#""N":"BTC""#, r#""N":"ETH""#)
            .replace(r#""t":77"#, r#""t":78"#);
        let Some(ExecutionReport::Fill { fee, .. }) = check(&mut tracker, &in_base) else {
            panic!("a fill");
        };
        assert_eq!(fee, amount("0.00000421"));
        // A cancel names the order it canceled in `C`.
        let canceled = NEW
            .replace(r#""c":"desk-7""#, r#""c":"cancel-1""#)
            .replace(r#""C":"""#, r#""C":"desk-7""#)
            .replace(r#""x":"NEW","X":"NEW""#, r#""x":"CANCELED","X":"CANCELED""#);
        assert_eq!(
            check(&mut tracker, &canceled),
            Some(ExecutionReport::Canceled { id: 7, ts })
        );
        let rejected = NEW.replace(
            r#""x":"NEW","X":"NEW","r":"NONE""#,
            r#""x":"REJECTED","X":"REJECTED","r":"INSUFFICIENT_BALANCE""#,
        );
        assert!(matches!(
            check(&mut tracker, &rejected),
            Some(ExecutionReport::Rejected { id: 7, .. })
        ));
        // Another client's order is left alone.
        let theirs = NEW.replace(r#""c":"desk-7""#, r#""c":"web_4ac3""#);
        assert_eq!(check(&mut tracker, &theirs), None);
    }

    #[test]
    fn balances_and_wrapped_events_are_read() {
        let wrapped = format!(r#"{{"subscriptionId":0,"event":{NEW}}}"#);
        assert!(matches!(parse(&wrapped).unwrap(), UserEvent::Execution(_)));
        let position = r#"{"e":"outboundAccountPosition","E":1564034571105,"u":1564034571073,"B":[{"a":"ETH","f":"10000.000000","l":"0.000000"}]}"#;
        let UserEvent::Balances(balances) = parse(position).unwrap() else {
            panic!("balances");
        };
        assert_eq!(
            balances,
            [Balance {
                asset: "ETH".into(),
                free: amount("10000"),
                locked: Amount::ZERO
            }]
        );
        assert!(matches!(
            parse(r#"{"e":"balanceUpdate","E":1}"#).unwrap(),
            UserEvent::Other
        ));
        assert!(parse("not json").is_err());
        let bad = NEW
            .replace(r#""l":"0.00000000""#, r#""l":"1e-9""#)
            .replace(r#""x":"NEW""#, r#""x":"TRADE""#);
        let mut tracker = Executions::new(ClientOrderIds::new("desk").unwrap());
        assert!(tracker.report(&execution(&bad), "ETH", "BTC").is_err());
    }
}
