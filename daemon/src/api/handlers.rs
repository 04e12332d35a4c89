//! The endpoints: one function per route, each given what [`super::handle`] checked.

use super::body;
use super::dashboard;
use super::error::ApiError;
use super::events::{self, Subscription};
use super::query::{self, Format, Query};
use super::routes::Endpoint;
use super::{json, json_response, ApiState, Caller, OPENAPI};
use crate::config::Limits;
use crate::engine::{self, Answer, Command, CommandError, QueryAnswer, StartError, StrategyState};
use crate::records::Named;
use crate::reload::{ReloadRefused, StrategyReload};
use crate::risk::{RiskError, TradingState};
use crate::store::{Filter, Page, StoreError};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;

/// How long an operator's reload may take before the API answers 503.
const RELOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Calls `endpoint`.
pub(super) async fn call(
    state: &ApiState,
    endpoint: Endpoint,
    id: Option<String>,
    raw_query: &str,
    body: &[u8],
    caller: &Caller,
) -> Result<Response, ApiError> {
    let id = id.unwrap_or_default();
    let query = |allowed: &[&str]| Query::parse(raw_query, allowed);
    let ok = |body: Value| Ok(json_response(StatusCode::OK, &body));
    match endpoint {
        Endpoint::Dashboard => {
            query(&[])?;
            dashboard::serve("index.html")
        }
        Endpoint::DashboardAsset => {
            query(&[])?;
            dashboard::serve(&id)
        }
        Endpoint::Health => {
            query(&[])?;
            ok(json!({
                "status": "ok",
                "version": env!("CARGO_PKG_VERSION"),
                "uptime_seconds": state.started.elapsed().as_secs(),
            }))
        }
        Endpoint::Ready => {
            query(&[])?;
            Ok(ready(state))
        }
        Endpoint::Metrics => {
            query(&[])?;
            let mut response = Response::new(state.metrics.render().into());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            Ok(response)
        }
        Endpoint::OpenApi => {
            query(&[])?;
            let mut response = Response::new(OPENAPI.into());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
        Endpoint::Session => {
            query(&[])?;
            ok(json!({"name": caller.name, "role": caller.role.name()}))
        }
        Endpoint::Strategies => {
            query(&[])?;
            let view = state.view.borrow().clone();
            ok(
                json!({"strategies": view.strategies.iter().map(|s| json::strategy(&view, s)).collect::<Vec<_>>()}),
            )
        }
        Endpoint::Strategy => {
            query(&[])?;
            let view = state.view.borrow().clone();
            let strategy = view
                .strategy(&id)
                .ok_or_else(|| ApiError::not_found(format!("no strategy {id}")))?;
            ok(json::strategy(&view, strategy))
        }
        Endpoint::Pause | Endpoint::Resume => {
            query(&[])?;
            let actor = caller.actor();
            let strategy = id.clone();
            let command = if endpoint == Endpoint::Pause {
                Command::Pause { strategy, actor }
            } else {
                Command::Resume { strategy, actor }
            };
            let state_now = match state.ask(command).await?.map_err(command_error)? {
                Answer::Strategy(name) => name,
                _ => "unknown",
            };
            ok(json!({"strategy": id, "state": state_now}))
        }
        Endpoint::Reload => {
            query(&[])?;
            let (reply, answer) = oneshot::channel();
            let asked = StrategyReload {
                id: id.clone(),
                reply,
            };
            // A reload reads and may compile a component: it gets longer than an engine
            // task, but not forever.
            let waited = tokio::time::timeout(RELOAD_TIMEOUT, async {
                state.reloads.send(asked).await.ok()?;
                answer.await.ok()
            })
            .await
            .map_err(|_| {
                ApiError::unavailable(format!(
                    "the reload did not finish within {} s; it may still happen: check before retrying",
                    RELOAD_TIMEOUT.as_secs()
                ))
            })?;
            let reloaded = waited
                .ok_or_else(|| ApiError::unavailable("the reloader has stopped"))?
                .map_err(|refused| match refused {
                    ReloadRefused::Unknown(_) => ApiError::not_found(refused.to_string()),
                    ReloadRefused::Failed(_) => ApiError::conflict(refused.to_string()),
                })?;
            ok(json!({"strategy": id, "outcome": reloaded.outcome, "version": reloaded.version}))
        }
        Endpoint::Versions => {
            query(&[])?;
            let strategy = id.clone();
            let QueryAnswer::Versions(Some(versions)) =
                state.read(engine::Query::Versions { strategy }).await?
            else {
                return Err(ApiError::not_found(format!("no strategy {id}")));
            };
            let items: Vec<Value> = versions.iter().rev().map(json::version).collect();
            ok(json!({"strategy": id, "versions": items}))
        }
        Endpoint::Rollback => {
            query(&[])?;
            let request: body::RollbackRequest = if body.is_empty() {
                body::RollbackRequest::default()
            } else {
                body::parse(body, &[])?
            };
            let command = Command::Rollback {
                strategy: id.clone(),
                version: request.version,
                actor: caller.actor(),
            };
            let version = match state.ask(command).await?.map_err(command_error)? {
                Answer::RolledBack(version) => version,
                _ => String::new(),
            };
            let view = state.view.borrow().clone();
            let state_now = view
                .strategy(&id)
                .map_or("unknown", |s| s.report.state.name());
            ok(json!({"strategy": id, "version": version, "state": state_now}))
        }
        Endpoint::Orders => {
            let (filter, page, format) = query(query::ORDER_PARAMS)?.list()?;
            let rows = state
                .store()?
                .orders(&filter, page)
                .await
                .map_err(store_error)?;
            Ok(list(rows, json::order_row, json::ORDER_COLUMNS, format))
        }
        Endpoint::OpenOrders => {
            let strategy = query(&["strategy"])?.get("strategy").map(str::to_owned);
            let QueryAnswer::OpenOrders(orders) =
                state.read(engine::Query::OpenOrders { strategy }).await?
            else {
                return Err(ApiError::internal("the engine answered another query"));
            };
            let items: Vec<Value> = orders
                .iter()
                .map(|(order, created)| json::open_order(order, *created))
                .collect();
            ok(json!({ "items": items }))
        }
        Endpoint::Fills => {
            let (filter, page, format) = query(query::FILL_PARAMS)?.list()?;
            let rows = state
                .store()?
                .fills(&filter, page)
                .await
                .map_err(store_error)?;
            Ok(list(rows, json::fill_row, json::FILL_COLUMNS, format))
        }
        Endpoint::Signals => {
            let (filter, page, format) = query(query::SIGNAL_PARAMS)?.list()?;
            let rows = state
                .store()?
                .signals(&filter, page)
                .await
                .map_err(store_error)?;
            Ok(list(rows, json::signal_row, json::SIGNAL_COLUMNS, format))
        }
        Endpoint::SignalStats => {
            let filter = query(query::SIGNAL_STATS_PARAMS)?.filter()?;
            let stats = state
                .store()?
                .signal_stats(&filter)
                .await
                .map_err(store_error)?;
            ok(json::signal_stats(&stats, &state.signal_horizons))
        }
        Endpoint::Balances => {
            query(&[])?;
            let view = state.view.borrow().clone();
            ok(json::balances(&view))
        }
        Endpoint::Positions => {
            let q = query(&["strategy"])?;
            let view = state.view.borrow().clone();
            ok(json::positions(&view, q.get("strategy")))
        }
        Endpoint::Pnl => {
            let q = query(&["strategy", "from", "to"])?;
            let filter = Filter {
                strategy: q.get("strategy").map(str::to_owned),
                from: q.int("from")?,
                to: q.int("to")?,
                ..Filter::default()
            };
            let days = match &state.store {
                Some(store) => store.daily_pnl(&filter).await.map_err(store_error)?,
                None => Vec::new(),
            };
            let view = state.view.borrow().clone();
            ok(json!({
                "days": days.iter().map(json::day_pnl).collect::<Vec<_>>(),
                "current": json::current_pnl(&view, q.get("strategy")),
            }))
        }
        Endpoint::Intraday => {
            let q = query(&["strategy"])?;
            let intraday = state
                .intraday
                .lock()
                .map_err(|_| ApiError::internal("the PnL samples are not readable"))?;
            let series: Vec<Value> = intraday
                .series(q.get("strategy"))
                .map(|(id, points)| {
                    let points: Vec<Value> = points
                        .iter()
                        .map(|(time, net)| json!({"time": time, "net_pnl": net.to_string()}))
                        .collect();
                    json!({"strategy": id, "points": points})
                })
                .collect();
            ok(json!({"step_secs": super::intraday::STEP.as_secs(), "series": series}))
        }
        Endpoint::Risk => {
            query(&[])?;
            let view = state.view.borrow().clone();
            ok(json::risk(&view))
        }
        Endpoint::Limits => {
            query(&[])?;
            let request: body::LimitsRequest = body::parse(body, &["limits"])?;
            let scope = request.scope()?;
            let patch = request.patch(&scope)?;
            let actor = caller.actor();
            let command = Command::ChangeLimits {
                scope: scope.clone(),
                patch,
                actor,
            };
            let limits = match state.ask(command).await?.map_err(command_error)? {
                Answer::Limits(limits) => limits,
                _ => Limits::default(),
            };
            ok(json!({"scope": scope.to_string(), "limits": json::limits(&limits)}))
        }
        Endpoint::TradingState => {
            query(&[])?;
            let request: body::TradingStateRequest = body::parse(body, &[])?;
            let scope = request.scope()?;
            let wanted = TradingState::from_name(&request.state).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "state {:?} is not one of ACTIVE, REDUCING, HALTED",
                    request.state
                ))
            })?;
            let actor = caller.actor();
            let command = Command::SetTradingState {
                scope: scope.clone(),
                state: wanted,
                actor,
            };
            state.ask(command).await?.map_err(command_error)?;
            ok(json!({"scope": scope.to_string(), "state": wanted.name()}))
        }
        Endpoint::KillSwitchOn => {
            query(&[])?;
            let scope = body::parse::<body::ScopeRequest>(body, &[])?.scope()?;
            let actor = caller.actor();
            let command = Command::KillSwitch {
                scope: scope.clone(),
                actor,
            };
            let canceled = match state.ask(command).await?.map_err(command_error)? {
                Answer::Canceled(n) => n,
                _ => 0,
            };
            ok(json!({"scope": scope.to_string(), "state": "HALTED", "canceled_orders": canceled}))
        }
        Endpoint::KillSwitchOff => {
            query(&[])?;
            let scope = body::parse::<body::ScopeRequest>(body, &[])?.scope()?;
            let actor = caller.actor();
            let command = Command::ReleaseKillSwitch {
                scope: scope.clone(),
                actor,
            };
            state.ask(command).await?.map_err(command_error)?;
            ok(json!({"scope": scope.to_string(), "state": "ACTIVE"}))
        }
        Endpoint::Events => {
            let q = query(events::PARAMS)?;
            let subscription = Subscription::from_query(&q)?;
            Ok(events::reply(state.events.subscribe(), subscription))
        }
    }
}

/// `/readyz`: whether the daemon does its job, for a load balancer or systemd: the engine
/// runs, the feeds are connected and records are durable. A strategy that is quarantined
/// or not loaded makes the daemon *degraded*, not unready: the others trade on, and
/// `degraded` says what is wrong (alert on it, or on `pennant_strategy_state`).
fn ready(state: &ApiState) -> Response {
    let view = state.view.borrow().clone();
    let mut checks = Vec::new();
    let mut degraded = Vec::new();
    let mut check = |name: &str, critical: bool, problems: Vec<String>, fine: String| {
        let ok = problems.is_empty();
        let detail = if ok { fine } else { problems.join("; ") };
        if !ok && !critical {
            degraded.push(detail.clone());
        }
        checks.push(json!({"name": name, "ok": ok, "critical": critical, "detail": detail}));
        ok || !critical
    };
    let mut ready = true;
    let mut problems = Vec::new();
    for id in &state.strategies {
        match view.strategy(id).map(|s| &s.report.state) {
            Some(StrategyState::Running | StrategyState::Paused) => {}
            Some(StrategyState::Quarantined { reason }) => {
                problems.push(format!("{id} is quarantined: {reason}"))
            }
            // Stopped on purpose (removed from the configuration, its file removed).
            Some(StrategyState::Stopped { .. })
                if view
                    .strategy(id)
                    .is_some_and(|s| s.report.version.is_some()) => {}
            Some(StrategyState::Stopped { reason }) => {
                problems.push(format!("{id} is not loaded: {reason}"))
            }
            None => problems.push(format!("{id} is not loaded")),
        }
    }
    let count = state.strategies.len();
    ready &= check("strategies", false, problems, format!("{count} loaded"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let problems = view
        .bans
        .iter()
        .filter(|(_, until)| *until > now)
        .map(|(venue, until)| {
            format!(
                "venue {venue} is banned by its exchange (HTTP 418) for {} s more",
                (until - now) / 1_000_000_000
            )
        })
        .collect();
    ready &= check("venues", false, problems, "no venue banned".into());
    let problems = state
        .feeds
        .iter()
        .filter(|(_, feed)| feed.connected.get() != 1 && !feed.ended())
        .map(|(name, _)| format!("feed {name} is not connected"))
        .collect();
    ready &= check(
        "feeds",
        true,
        problems,
        format!("{} connected or done", state.feeds.len()),
    );
    let problems = match &state.writer {
        Some(stats) => {
            use std::sync::atomic::Ordering::Relaxed;
            let mut problems = Vec::new();
            let spooled = stats.spooled.load(Relaxed);
            if spooled > 0 {
                problems.push(format!(
                    "the store is not writable: {spooled} records wait in the spool"
                ));
            }
            let undurable = stats.undurable.load(Relaxed);
            if undurable > 0 {
                problems.push(format!(
                    "records are not durable: neither the store nor the spool takes them ({undurable} wait in memory)"
                ));
            }
            if let Some(hold) = &view.store_hold {
                problems.push(format!("trading is reduce-only: {hold}"));
            }
            problems
        }
        None => Vec::new(),
    };
    let fine = if state.writer.is_some() {
        "writable"
    } else {
        "none (backtest)"
    };
    ready &= check("store", true, problems, fine.into());
    let age = view.taken_at.elapsed().unwrap_or_default();
    let problems = if !view.running {
        vec!["the engine has stopped".to_owned()]
    } else if age > std::time::Duration::from_secs(5) {
        vec![format!(
            "the engine has not published for {} s: it is stuck or overloaded",
            age.as_secs()
        )]
    } else {
        Vec::new()
    };
    ready &= check("engine", true, problems, "running".into());
    if ready {
        json_response(
            StatusCode::OK,
            &json!({"ready": true, "degraded": degraded, "checks": checks}),
        )
    } else {
        let failing: Vec<String> = checks
            .iter()
            .filter(|c| c["ok"] == false && c["critical"] == true)
            .filter_map(|c| c["detail"].as_str().map(str::to_owned))
            .collect();
        let error = ApiError::not_ready(failing.join("; "));
        let mut body = error.body();
        body["checks"] = Value::Array(checks);
        body["degraded"] = json!(degraded);
        error.respond_with(body)
    }
}

/// A page of rows as JSON (`{"items", "next"}`) or CSV (`X-Next-Cursor` header).
fn list<T>(page: Page<T>, to_json: fn(&T) -> Value, columns: &[&str], format: Format) -> Response {
    let items: Vec<Value> = page.items.iter().map(to_json).collect();
    let mut response = match format {
        Format::Json => json_response(StatusCode::OK, &json!({"items": items, "next": page.next})),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let _ = super::csv::write_rows(&mut writer, columns, &items);
            let bytes = writer.into_inner().unwrap_or_default();
            let mut response = Response::new(bytes.into());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            response
        }
    };
    if let Some(next) = page.next {
        if let Ok(value) = HeaderValue::from_str(&next.to_string()) {
            response.headers_mut().insert("x-next-cursor", value);
        }
    }
    response
}

/// Sets field `key` of `limits` from `from` (or clears it).
fn start_error(err: StartError) -> ApiError {
    match err {
        StartError::UnknownId(_) | StartError::Unknown(_) => ApiError::not_found(err.to_string()),
        _ => ApiError::conflict(err.to_string()),
    }
}

fn command_error(err: CommandError) -> ApiError {
    match err {
        CommandError::Start(err) => start_error(err),
        CommandError::Risk(err) => risk_error(err),
        CommandError::NotEngaged(_) => ApiError::conflict(err.to_string()),
    }
}

fn risk_error(err: RiskError) -> ApiError {
    match err {
        RiskError::UnknownScope(_) => ApiError::not_found(err.to_string()),
        RiskError::Invalid(_) => ApiError::bad_request(err.to_string()),
    }
}

fn store_error(err: StoreError) -> ApiError {
    log::error!("admin API: store query failed: {err}");
    if err.is_transient() {
        ApiError::unavailable(format!("the store did not answer: {err}"))
    } else {
        ApiError::internal(format!("the store query failed: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::api::csv::cell as csv_text;

    #[test]
    fn csv_cells_cannot_be_formulas() {
        let check = |text: &str, want: &str| assert_eq!(csv_text(text), want, "{text}");
        check("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")");
        check("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0");
        check("@SUM(A1)", "'@SUM(A1)");
        check("\t=1", "'\t=1");
        check("-1.5", "-1.5");
        check("plain note", "plain note");
    }
}
