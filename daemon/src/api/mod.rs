//! The admin HTTP API (warp) and the `/metrics` endpoint.
//!
//! One warp filter takes every request apart (method, path, query, `Authorization`, body)
//! and hands it to [`handle`], which finds the route in [`routes::ROUTES`], checks the
//! token and its role, counts the request against the token's rate limit, reads the body
//! (up to `max_body_bytes`), and calls the endpoint. Every failure is an [`ApiError`]:
//! JSON `{"error": {"code", "message"}}` with a 4xx or 5xx, never a panic.
//!
//! Reads never touch the engine thread: they are served from the view the engine
//! publishes ([`crate::engine::view`]) and from the store. Actions (pause, limits, the
//! kill switch) go to the engine as typed commands ([`crate::engine::Command`]) on its
//! control channel and wait for the answer for at most `engine_timeout_ms`.
//!
//! warp has no TLS: the API listens on loopback (or a Unix socket) and remote access goes
//! through a reverse proxy that terminates TLS.

pub mod auth;
mod body;
pub mod csv;
pub mod dashboard;
pub mod error;
pub mod events;
mod handlers;
pub mod intraday;
pub mod json;
pub mod query;
pub mod routes;

pub use auth::{hash_token, Caller, TokenError, Tokens};
pub use error::ApiError;

use crate::config::{ApiConfig, ListenAddr};
use crate::engine::view::ViewReceiver;
use crate::engine::{Answer, Command, CommandError, EngineInput, Query, QueryAnswer};
use crate::metrics::{FeedMetrics, Metrics};
use crate::records::Record;
use crate::records::WriterStats;
use crate::reload::StrategyReload;
use crate::store::Store;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot};
use warp::http::{header, HeaderValue, Method, StatusCode};
use warp::reply::Response;
use warp::Filter;

/// The OpenAPI 3 document of the API, served at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Why the API cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ApiSetupError {
    /// The address cannot be bound (in use, not ours).
    #[error("admin API: cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// A token cannot be read.
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// Everything the API reads and acts on.
pub struct ApiState {
    /// What `[api]` says.
    pub config: ApiConfig,
    /// The tokens and their rate limits.
    pub tokens: Tokens,
    /// The engine's published view.
    pub view: ViewReceiver,
    /// The engine's input, for actions.
    pub engine: mpsc::Sender<EngineInput>,
    /// The operator's reloads go to the reloader.
    pub reloads: mpsc::Sender<StrategyReload>,
    /// The store, for the record lists (none in a backtest).
    pub store: Option<Store>,
    /// The store writer's counters, for readiness.
    pub writer: Option<Arc<WriterStats>>,
    /// The journal's broadcast, to subscribe event streams.
    pub events: broadcast::Sender<Arc<Record>>,
    /// Each feed's instruments, for readiness.
    pub feeds: Vec<(String, FeedMetrics)>,
    /// The strategies the configuration declares, for readiness.
    pub strategies: Vec<String>,
    /// The registry `/metrics` renders.
    pub metrics: Arc<Metrics>,
    /// When the daemon started.
    pub started: Instant,
    /// The signal horizons configured, in seconds (`[signals] horizons_secs`).
    pub signal_horizons: Vec<u32>,
    /// The day's PnL samples, taken by a task [`serve`] starts.
    pub intraday: Arc<std::sync::Mutex<intraday::Intraday>>,
}

impl ApiState {
    /// Has the engine run `command` and returns its answer, or 503 if the engine does
    /// not answer within `engine_timeout_ms` (it may still act on it later).
    pub async fn ask(&self, command: Command) -> Result<Result<Answer, CommandError>, ApiError> {
        let (reply, answer) = oneshot::channel();
        let input = EngineInput::command(command, reply);
        self.round_trip(
            input,
            answer,
            "; the action may still happen: check before retrying",
        )
        .await
    }

    /// Has the engine answer `query`, or 503 as for [`ask`](Self::ask).
    pub async fn read(&self, query: Query) -> Result<QueryAnswer, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.round_trip(EngineInput::Query { query, reply }, answer, "")
            .await
    }

    /// Sends `input` on the control channel and waits `engine_timeout_ms` at most for
    /// its answer; `late` ends the message of a timeout.
    async fn round_trip<T>(
        &self,
        input: EngineInput,
        answer: oneshot::Receiver<T>,
        late: &str,
    ) -> Result<T, ApiError> {
        let limit = Duration::from_millis(u64::from(self.config.engine_timeout_ms.get()));
        let asked = async {
            self.engine.send(input).await.ok()?;
            answer.await.ok()
        };
        match tokio::time::timeout(limit, asked).await {
            Ok(Some(answer)) => Ok(answer),
            Ok(None) => Err(ApiError::unavailable("the engine has stopped")),
            Err(_) => Err(ApiError::unavailable(format!(
                "the engine did not answer within {} ms{late}",
                limit.as_millis()
            ))),
        }
    }

    /// The store, or 503 in a backtest.
    pub fn store(&self) -> Result<&Store, ApiError> {
        self.store
            .as_ref()
            .ok_or_else(|| ApiError::unavailable("no store: this daemon runs a backtest"))
    }
}

/// Samples the day's PnL every [`intraday::STEP`] while the engine publishes.
async fn sample_intraday(mut view: ViewReceiver, into: Arc<std::sync::Mutex<intraday::Intraday>>) {
    let mut ticks = tokio::time::interval(intraday::STEP);
    loop {
        ticks.tick().await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        let snapshot = view.borrow_and_update().clone();
        if let Ok(mut intraday) = into.lock() {
            intraday.sample(&snapshot, now);
        }
        if !snapshot.running {
            return;
        }
    }
}

/// Starts serving; returns where it listens (for the log) once bound.
pub async fn serve(state: ApiState) -> Result<String, ApiSetupError> {
    let listen = state.config.listen.get_ref().clone();
    tokio::spawn(sample_intraday(state.view.clone(), state.intraday.clone()));
    let state = Arc::new(state);
    let with_state = warp::any().map(move || state.clone());
    let filter = warp::any()
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream().map(Box::pin))
        .and(with_state)
        .then(
            |method: Method,
             path: warp::path::FullPath,
             query: String,
             headers: warp::http::HeaderMap,
             body,
             state: Arc<ApiState>| async move {
                let started = Instant::now();
                let (route, response) =
                    handle(&state, &method, path.as_str(), &query, &headers, body).await;
                let api = &state.metrics.api;
                api.requests
                    .with_label_values(&[route, response.status().as_str()])
                    .inc();
                api.duration
                    .with_label_values(&[route])
                    .observe(started.elapsed().as_secs_f64());
                response
            },
        )
        .recover(|rejection: warp::Rejection| async move {
            // What warp itself refuses (a header that is not text, say): JSON as well.
            Ok::<_, std::convert::Infallible>(
                ApiError::bad_request(format!("{rejection:?}")).into_response(),
            )
        });
    match ListenAddr::parse(&listen) {
        Ok(ListenAddr::Tcp(addr)) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| ApiSetupError::Bind {
                    addr: listen.clone(),
                    source,
                })?;
            let local = listener
                .local_addr()
                .map_or(listen.clone(), |a| a.to_string());
            tokio::spawn(warp::serve(filter).incoming(listener).run());
            Ok(local)
        }
        Ok(ListenAddr::Unix(path)) => {
            // A socket left by a previous run would make bind fail; anything else at that
            // path, or a socket another process still serves, is not ours to remove.
            use std::os::unix::fs::FileTypeExt;
            let stale = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket())
                && std::os::unix::net::UnixStream::connect(&path).is_err();
            if stale {
                let _ = std::fs::remove_file(&path);
            }
            let listener =
                tokio::net::UnixListener::bind(&path).map_err(|source| ApiSetupError::Bind {
                    addr: listen.clone(),
                    source,
                })?;
            tokio::spawn(warp::serve(filter).incoming(listener).run());
            Ok(listen)
        }
        Err(message) => Err(ApiSetupError::Bind {
            addr: listen,
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
        }),
    }
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = Response::new(body.to_string().into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Answers one request; returns the route template (for the metrics) and the response.
async fn handle<S, B>(
    state: &ApiState,
    method: &Method,
    path: &str,
    query: &str,
    headers: &warp::http::HeaderMap,
    body: S,
) -> (&'static str, Response)
where
    S: Stream<Item = Result<B, warp::Error>> + Send + Unpin,
    B: bytes::Buf,
{
    let (route, id) = match routes::find(method, path) {
        Ok(found) => found,
        Err(None) => {
            return (
                "unknown",
                ApiError::not_found(format!("no route {path}")).into_response(),
            )
        }
        Err(Some(allowed)) => {
            let mut response =
                ApiError::method_not_allowed(format!("{path} takes {allowed}, not {method}"))
                    .into_response();
            if let Ok(value) = HeaderValue::from_str(&allowed) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            return ("unknown", response);
        }
    };
    let outcome = async {
        let caller = authorize(state, route.access, headers)?;
        let body = read_body(body, state.config.max_body_bytes.get()).await?;
        handlers::call(state, route.endpoint, id, query, &body, &caller).await
    };
    let response = outcome.await.unwrap_or_else(ApiError::into_response);
    (route.path, response)
}

/// The caller of a request, if it may call a route with this access.
fn authorize(
    state: &ApiState,
    access: routes::Access,
    headers: &warp::http::HeaderMap,
) -> Result<Caller, ApiError> {
    use routes::Access;
    let needed = match access {
        Access::Public => None,
        Access::PublicIf(endpoint) if state.config.public.contains(&endpoint) => None,
        Access::PublicIf(_) => Some(crate::config::Role::Viewer),
        Access::Token(role) => Some(role),
    };
    // Requests to public routes share one rate limit, and requests with a missing or
    // unknown token another: guessing tokens gets 429s but cannot make health checks
    // and scrapes fail.
    let Some(role) = needed else {
        let public = Caller {
            name: "public".into(),
            role: crate::config::Role::Viewer,
        };
        state.tokens.admit(&public)?;
        return Ok(public);
    };
    let anonymous = Caller {
        name: "anonymous".into(),
        role: crate::config::Role::Viewer,
    };
    let header = match headers.get(header::AUTHORIZATION) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?,
        ),
        None => None,
    };
    let caller = match state.tokens.authenticate(header) {
        Ok(caller) => caller,
        Err(refused) => {
            state.tokens.admit(&anonymous)?;
            return Err(refused);
        }
    };
    auth::require(&caller, role)?;
    state.tokens.admit(&caller)?;
    Ok(caller)
}

/// The body, refused past `limit` bytes without reading the rest.
async fn read_body<S, B>(mut body: S, limit: u32) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>> + Send + Unpin,
    B: bytes::Buf,
{
    let mut collected = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk =
            chunk.map_err(|err| ApiError::bad_request(format!("cannot read the body: {err}")))?;
        if collected.len() + chunk.remaining() > limit as usize {
            return Err(ApiError::payload_too_large(limit));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            collected.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(Bytes::from(collected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeSet;

    fn document() -> Value {
        serde_json::from_str(OPENAPI).expect("openapi.json is JSON")
    }

    #[test]
    fn the_openapi_document_lists_exactly_the_routes() {
        let doc = document();
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in ["get", "put", "post", "delete", "patch"] {
                if let Some(op) = item.get(method) {
                    documented.insert((method.to_uppercase(), path.clone()));
                    let role = op["x-pennant-role"].as_str().unwrap_or("?");
                    let route = routes::ROUTES
                        .iter()
                        .find(|r| r.path == path && r.method.as_str() == method.to_uppercase());
                    if let Some(route) = route {
                        let expected = match route.access {
                            routes::Access::Public | routes::Access::PublicIf(_) => "public",
                            routes::Access::Token(role) => role.name(),
                        };
                        assert_eq!(role, expected, "{method} {path}");
                    }
                }
            }
        }
        let served: BTreeSet<(String, String)> = routes::ROUTES
            .iter()
            .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
            .collect();
        assert_eq!(
            documented, served,
            "the routes and daemon/src/api/openapi.json differ"
        );
    }

    /// The names of a closed set, as the records' types give them.
    fn names<T: crate::records::Named>() -> Vec<&'static str> {
        T::ALL.iter().map(|v| v.name()).collect()
    }

    #[test]
    fn the_openapi_document_lists_the_values_the_records_have() {
        use crate::records::OrderState;
        use pennant_sdk::{Liquidity, OrderKind, Side, TimeInForce};
        let doc = document();
        let enumeration = |pointer: &str| -> Vec<String> {
            let values = doc.pointer(pointer).and_then(Value::as_array);
            let values = values.unwrap_or_else(|| panic!("no enum at {pointer}"));
            values
                .iter()
                .map(|v| v.as_str().unwrap_or("?").to_owned())
                .collect()
        };
        let order = "/components/schemas/Order/properties";
        let cases: [(String, Vec<&str>); 6] = [
            (format!("{order}/status/enum"), names::<OrderState>()),
            (
                "/components/parameters/Status/schema/enum".into(),
                names::<OrderState>(),
            ),
            (format!("{order}/side/enum"), names::<Side>()),
            (format!("{order}/kind/enum"), names::<OrderKind>()),
            (
                format!("{order}/time_in_force/enum"),
                names::<TimeInForce>(),
            ),
            (
                "/components/schemas/Fill/properties/side/enum".into(),
                names::<Side>(),
            ),
        ];
        for (pointer, expected) in cases {
            let mut documented = enumeration(&pointer);
            let mut expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
            documented.sort();
            expected.sort();
            assert_eq!(documented, expected, "{pointer}");
        }
        // A fill is made by a maker or a taker, never by `none`.
        let liquidity = enumeration("/components/schemas/Fill/properties/liquidity/enum");
        for value in &liquidity {
            assert!(names::<Liquidity>().contains(&value.as_str()), "{value}");
        }
    }

    #[test]
    fn the_openapi_document_is_valid_openapi_3() {
        let parsed: openapiv3::OpenAPI =
            serde_json::from_str(OPENAPI).expect("an OpenAPI 3 document");
        assert!(parsed.openapi.starts_with("3.0"));
        // Every reference resolves.
        fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        out.push(r);
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for reference in found {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            assert!(
                doc.pointer(pointer).is_some(),
                "{reference} does not resolve"
            );
        }
        // Every operation says who may call it and what it answers.
        for (path, item) in parsed.paths.paths {
            let item = item.as_item().expect("no path references");
            for (method, op) in item.iter() {
                assert!(op.operation_id.is_some(), "{method} {path}: operationId");
                assert!(
                    !op.responses.responses.is_empty(),
                    "{method} {path}: responses"
                );
            }
        }
    }
}
