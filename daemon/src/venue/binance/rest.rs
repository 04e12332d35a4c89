//! The REST client: signed requests with the server clock's offset, Binance's answers
//! as values or [`Failure`]s, and the waits Binance asks for kept before anything else
//! is sent.
//!
//! - The clock offset is measured at start (`GET /api/v3/time`) and again on `-1021`;
//!   the request that met `-1021` is sent once more, and only once (nothing was done).
//! - After a 429 or a 418, no request leaves until its `Retry-After` has passed: the
//!   call fails at once with the same state.
//! - Every answer's weight and order-count headers update the [`RateBudget`].
//! - A request without an answer (a timeout, a dropped connection, a 5xx) is
//!   [`Failure::Unknown`]: the caller asks about the order by its client order id; the
//!   client never resends an order itself.

use super::errors::{classify, Failure};
use super::keys::ApiKeys;
use super::rate_limits::RateBudget;
use super::sign;
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a request may take before its status is unknown, unless the venue's
/// `request_timeout_ms` says otherwise.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// See the module docs.
pub struct RestClient {
    base: String,
    keys: ApiKeys,
    http: reqwest::Client,
    recv_window_ms: u64,
    offset_ms: i64,
    /// No request before this (a 429's or 418's `Retry-After`), and the state to give.
    blocked: Option<(Instant, Failure)>,
    /// The venue's budgets, from `exchangeInfo` and the headers.
    pub budget: RateBudget,
    /// A ban met and not yet told.
    new_ban: Option<Duration>,
}

/// The request weight of a query (rest-api.md): what pacing counts it as.
fn query_weight(path: &str) -> u64 {
    match path {
        "/api/v3/exchangeInfo" | "/api/v3/account" | "/api/v3/myTrades" => 20,
        // One symbol's open orders.
        "/api/v3/openOrders" => 6,
        "/api/v3/order" => 4,
        _ => 1,
    }
}

fn local_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl RestClient {
    /// A client of the REST API at `base` (`https://api.binance.com`, the testnet's, or
    /// the fake's) for the account of `keys`.
    pub fn new(
        base: &str,
        keys: ApiKeys,
        recv_window_ms: u64,
    ) -> Result<RestClient, reqwest::Error> {
        Ok(RestClient {
            base: base.trim_end_matches('/').to_owned(),
            keys,
            http: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()?,
            recv_window_ms: recv_window_ms.min(sign::MAX_RECV_WINDOW_MS),
            offset_ms: 0,
            blocked: None,
            budget: RateBudget::new(Vec::new()),
            new_ban: None,
        })
    }

    /// A ban (HTTP 418) met since the last call, with its length: the venue tells the
    /// engine once per ban.
    pub fn take_ban(&mut self) -> Option<Duration> {
        self.new_ban.take()
    }

    /// The same client with requests given up (their status unknown) after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<RestClient, reqwest::Error> {
        self.http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(self)
    }

    /// The REST API's base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The offset to Binance's clock now in use, ms.
    pub fn clock_offset_ms(&self) -> i64 {
        self.offset_ms
    }

    /// Measures the offset to Binance's clock (`GET /api/v3/time`).
    pub async fn sync_clock(&mut self) -> Result<i64, Failure> {
        let sent = local_ms();
        let answer = self
            .send(reqwest::Method::GET, "/api/v3/time", String::new(), false)
            .await?;
        let server = answer["serverTime"].as_i64().ok_or(Failure::Unknown)?;
        self.offset_ms = super::orders::clock_offset(sent, server, local_ms());
        Ok(self.offset_ms)
    }

    /// The WebSocket API request subscribing a connection to this account's user data
    /// stream (`userDataStream.subscribe.signature`), as its JSON text.
    pub fn user_stream_subscription(&self, id: u64) -> String {
        let params = sign::signed_ws_params(
            self.keys.secret.as_bytes(),
            &[("apiKey", self.keys.key.clone())],
            self.recv_window_ms,
            local_ms() + self.offset_ms,
        );
        let mut object = serde_json::Map::new();
        for (name, value) in params {
            let value = match value.parse::<i64>() {
                Ok(number) if name != "apiKey" && name != "signature" => Value::from(number),
                _ => Value::String(value),
            };
            object.insert(name, value);
        }
        serde_json::json!({
            "id": id.to_string(),
            "method": "userDataStream.subscribe.signature",
            "params": object,
        })
        .to_string()
    }

    /// An unsigned `GET` (`/api/v3/exchangeInfo`).
    pub async fn get_public(&mut self, path: &str) -> Result<Value, Failure> {
        self.send(reqwest::Method::GET, path, String::new(), false)
            .await
    }

    /// A signed request with `params` (the query string, unsigned); on `-1021` the clock
    /// is measured again and the request sent once more.
    pub async fn signed(
        &mut self,
        method: reqwest::Method,
        path: &str,
        params: &str,
    ) -> Result<Value, Failure> {
        match self
            .send(method.clone(), path, params.to_owned(), true)
            .await
        {
            Err(Failure::Timestamp) => {
                log::warn!(path; "Binance refused the request's timestamp: measuring the clock again and retrying once");
                self.sync_clock().await?;
                self.send(method, path, params.to_owned(), true).await
            }
            other => other,
        }
    }

    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        params: String,
        signed: bool,
    ) -> Result<Value, Failure> {
        if let Some((until, failure)) = &self.blocked {
            if Instant::now() < *until {
                return Err(failure.clone());
            }
            self.blocked = None;
        }
        // Queries wait their turn when the weight nears the limit; orders and cancels
        // do not (an order past the budget is refused by the venue instead).
        if method == reqwest::Method::GET {
            let wait = self.budget.wait_before(query_weight(path));
            if !wait.is_zero() {
                log::info!(path, wait_ms = wait.as_millis() as u64; "pacing a Binance query: the request weight nears the limit");
                tokio::time::sleep(wait).await;
            }
        }
        let query = if signed {
            sign::signed_query(
                self.keys.secret.as_bytes(),
                &params,
                self.recv_window_ms,
                local_ms() + self.offset_ms,
            )
        } else {
            params
        };
        let url = if query.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{query}", self.base)
        };
        let response = self
            .http
            .request(method, url)
            .header("X-MBX-APIKEY", &self.keys.key)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            // No answer: whatever was asked may have been done.
            Err(_) => return Err(Failure::Unknown),
        };
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        self.budget
            .observe(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let retry_after = headers
            .iter()
            .find(|(n, _)| n == "retry-after")
            .map(|(_, v)| v.clone());
        let body = match response.text().await {
            Ok(body) => body,
            Err(_) => return Err(Failure::Unknown),
        };
        if status == 200 {
            return serde_json::from_str(&body).map_err(|_| Failure::Unknown);
        }
        let failure = classify(status, &body, retry_after.as_deref());
        if let Failure::RateLimited { retry_after } | Failure::Banned { retry_after } = &failure {
            self.blocked = Some((Instant::now() + *retry_after, failure.clone()));
        }
        if let Failure::RateLimited { retry_after } = &failure {
            crate::alert::raise(crate::alert::Alert::new(
                crate::alert::AlertKind::VenueRateLimited,
                "binance",
                format!(
                    "Binance rate-limited this daemon (HTTP 429): nothing is sent for {} s",
                    retry_after.as_secs()
                ),
            ));
        }
        if let Failure::Banned { retry_after } = &failure {
            self.new_ban = Some(*retry_after);
        }
        Err(failure)
    }
}
