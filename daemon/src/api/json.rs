//! What the API's JSON looks like: the engine's view, the store's rows and the journal's
//! records, each turned into JSON in one place. Money and quantities are decimal strings
//! (fixed point, never a float); times are nanoseconds since the Unix epoch, or RFC 3339
//! where a name ends in `_at`.

use crate::config::Limits;
use crate::engine::view::{EngineView, StrategyView};
use crate::engine::{StrategyState, Version, VersionOutcome};
use crate::records::{Body, Named, Record, SignalStats};
use crate::records::{
    FillEvent, LifecycleEvent, OrderEvent, PositionSnapshot, RiskEvent, SignalEvent, SignalOutcome,
};
use crate::store::{DailyPnl, FillRow, OrderRow, SignalRow};
use pennant_sdk::{Amount, Position};
use serde_json::{json, Map, Value};
use std::time::SystemTime;

/// A raw fixed-point value (8 decimals) as a decimal string.
pub fn decimal(raw: i64) -> String {
    Amount::from_raw(raw).to_string()
}

/// Wall time as RFC 3339 (UTC, seconds).
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        crate::store::civil_date(days),
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn position(instrument: &str, venue: &str, p: &Position) -> Value {
    json!({
        "instrument": instrument,
        "venue": venue,
        "qty": p.qty.to_string(),
        "avg_price": p.avg_price.to_string(),
        "realized_pnl": p.realized_pnl.to_string(),
        "unrealized_pnl": p.unrealized_pnl.to_string(),
        "fees": p.fees.to_string(),
        "net_pnl": p.net_pnl().to_string(),
    })
}

/// A strategy (`engine`: where its instruments trade).
pub fn strategy(engine: &EngineView, view: &StrategyView) -> Value {
    let r = &view.report;
    let reason = match &r.state {
        StrategyState::Quarantined { reason } | StrategyState::Stopped { reason } => {
            Some(reason.as_str())
        }
        StrategyState::Running | StrategyState::Paused => None,
    };
    let s = &r.stats;
    json!({
        "id": r.id,
        "state": r.state.name(),
        "reason": reason,
        "version": r.version,
        "loaded_at": r.loaded_at.map(rfc3339),
        "last_error": r.last_error,
        "stats": {
            "events": s.events,
            "orders": s.orders,
            "risk_rejects": s.risk_rejects,
            "venue_rejects": s.venue_rejects,
            "fills": s.fills,
            "signals": s.signals,
            "canceled": s.canceled,
            "open_orders": view.open_orders,
        },
        "memory_bytes": view.memory_bytes,
        "positions": r.positions.iter().map(|(symbol, p)| position(symbol, engine.venue_of(symbol), p)).collect::<Vec<_>>(),
    })
}

/// How good signals were: per strategy and instrument, counts by side and, for each
/// horizon (those configured first, then any other the rows have), measured, hit rate
/// and average return in the signal's direction.
pub fn signal_stats(stats: &SignalStats, configured: &[u32]) -> Value {
    let items: Vec<Value> = stats
        .tallies
        .iter()
        .map(|((strategy, instrument), tally)| {
            let mut horizons: Vec<u32> = configured.to_vec();
            horizons.extend(tally.horizons.keys().filter(|h| !configured.contains(h)));
            let horizons: Vec<Value> = horizons
                .iter()
                .map(|h| {
                    let t = tally.horizons.get(h).copied().unwrap_or_default();
                    json!({
                        "horizon": crate::config::signals::horizon_name(*h),
                        "horizon_secs": h,
                        "measured": t.measured,
                        "hits": t.hits,
                        "hit_rate": t.hit_rate(),
                        "avg_return_bps": t.avg_return_bps(),
                    })
                })
                .collect();
            json!({
                "strategy": strategy,
                "instrument": instrument,
                "signals": tally.buys + tally.sells,
                "buys": tally.buys,
                "sells": tally.sells,
                "horizons": horizons,
            })
        })
        .collect();
    let names: Vec<String> = configured
        .iter()
        .map(|h| crate::config::signals::horizon_name(*h))
        .collect();
    json!({"horizons": names, "items": items})
}

/// One kept version of a strategy's code.
pub fn version(v: &Version) -> Value {
    let (outcome, reason) = match &v.outcome {
        VersionOutcome::Current => ("current", None),
        VersionOutcome::Replaced => ("replaced", None),
        VersionOutcome::Failed { reason } => ("failed", Some(reason.as_str())),
    };
    json!({
        "version": v.hash,
        "path": v.path.as_ref().map(|p| p.display().to_string()),
        "loaded_at": rfc3339(v.loaded_at),
        "outcome": outcome,
        "reason": reason,
        "can_roll_back": v.can_roll_back(),
    })
}

/// Every position of every strategy (or of one).
pub fn positions(view: &EngineView, only: Option<&str>) -> Value {
    let list: Vec<Value> = view
        .strategies
        .iter()
        .filter(|s| only.is_none_or(|id| s.report.id == id))
        .flat_map(|s| {
            s.report.positions.iter().map(|(symbol, p)| {
                let mut value = position(symbol, view.venue_of(symbol), p);
                value["strategy"] = json!(s.report.id);
                value
            })
        })
        .collect();
    json!({ "positions": list })
}

/// Each venue's balances, from the view.
pub fn balances(view: &EngineView) -> Value {
    let list: Vec<Value> = view
        .balances
        .iter()
        .map(|(venue, asset, b)| {
            json!({
                "venue": venue,
                "asset": asset,
                "free": b.free.to_string(),
                "locked": b.locked.to_string(),
            })
        })
        .collect();
    json!({ "balances": list })
}

/// PnL per strategy now, from the view.
pub fn current_pnl(view: &EngineView, only: Option<&str>) -> Vec<Value> {
    view.strategies
        .iter()
        .filter(|s| only.is_none_or(|id| s.report.id == id))
        .map(|s| {
            let sum = |f: fn(&Position) -> Amount| {
                s.report
                    .positions
                    .iter()
                    .fold(Amount::ZERO, |acc, (_, p)| acc + f(p))
            };
            json!({
                "strategy": s.report.id,
                "realized_pnl": sum(|p| p.realized_pnl).to_string(),
                "unrealized_pnl": sum(|p| p.unrealized_pnl).to_string(),
                "fees": sum(|p| p.fees).to_string(),
                "net_pnl": sum(|p| p.net_pnl()).to_string(),
            })
        })
        .collect()
}

/// One strategy-day of PnL from the store.
pub fn day_pnl(day: &DailyPnl) -> Value {
    json!({
        "strategy": day.strategy,
        "date": day.date(),
        "realized_pnl": decimal(day.realized_pnl),
        "fees": decimal(day.fees),
        "net_pnl": decimal(day.realized_pnl.saturating_sub(day.fees)),
    })
}

/// A set of limits; `null` where there is none.
pub fn limits(l: &Limits) -> Value {
    json!({
        "max_order_qty": l.max_order_qty.map(|v| v.to_string()),
        "max_order_notional": l.max_order_notional.map(|v| v.to_string()),
        "price_band_bps": l.price_band_bps.map(|v| v.get()),
        "max_position": l.max_position.map(|v| v.to_string()),
        "max_gross_exposure": l.max_gross_exposure.map(|v| v.to_string()),
        "max_open_orders": l.max_open_orders,
        "max_orders_per_window": l.max_orders_per_window.map(|v| v.get()),
        "max_daily_loss": l.max_daily_loss.map(|v| v.to_string()),
        "instruments": l.instruments,
    })
}

/// Limits, trading states and use of the limits.
pub fn risk(view: &EngineView) -> Value {
    let config = &view.limits;
    let table = |map: &std::collections::BTreeMap<String, Limits>| -> Map<String, Value> {
        map.iter().map(|(k, l)| (k.clone(), limits(l))).collect()
    };
    let strategies: Vec<Value> = view
        .strategies
        .iter()
        .filter_map(|s| {
            let u = s.utilization.as_ref()?;
            Some(json!({
                "id": s.report.id,
                "state": u.state.name(),
                "messages_in_window": u.messages_in_window,
                "daily_pnl": u.daily_pnl.to_string(),
                "open_notional": u.open_notional.to_string(),
            }))
        })
        .collect();
    json!({
        "global_state": view.global_state.name(),
        "kill_switch": view.kill_switch,
        "store_hold": view.store_hold,
        "rate_window_ms": config.rate_window_ms.get(),
        "limits": {
            "defaults": limits(&config.defaults),
            "global": limits(&config.global),
            "strategies": table(&config.strategy),
            "instruments": table(&config.instrument),
        },
        "strategies": strategies,
    })
}

/// An order event's fields, as the API and the event stream show them.
pub fn order_fields(o: &OrderEvent) -> Map<String, Value> {
    let value = json!({
        "order_id": o.order_id,
        "client_order_id": o.client_order_id,
        "venue": o.venue,
        "venue_client_id": o.venue_client_id,
        "strategy": o.strategy,
        "instrument": o.instrument,
        "side": o.side,
        "kind": o.kind,
        "time_in_force": o.time_in_force,
        "price": decimal(o.price),
        "qty": decimal(o.qty),
        "status": o.status,
        "filled_qty": decimal(o.filled_qty),
        "reason": o.reason,
    });
    into_map(value)
}

/// A fill's fields, as the API and the event stream show them.
pub fn fill_fields(f: &FillEvent) -> Map<String, Value> {
    into_map(json!({
        "order_id": f.order_id,
        "venue": f.venue,
        "strategy": f.strategy,
        "instrument": f.instrument,
        "side": f.side,
        "price": decimal(f.price),
        "qty": decimal(f.qty),
        "fee": decimal(f.fee),
        "liquidity": f.liquidity,
        "realized_pnl": decimal(f.realized_pnl),
    }))
}

fn signal_fields(s: &SignalEvent) -> Map<String, Value> {
    into_map(json!({
        "strategy": s.strategy,
        "instrument": s.instrument,
        "side": s.side,
        "strength": s.strength,
        "target": s.target.map(decimal),
        "stop": s.stop.map(decimal),
        "note": s.note,
    }))
}

fn signal_outcome_fields(s: &SignalOutcome) -> Map<String, Value> {
    into_map(json!({
        "strategy": s.strategy,
        "instrument": s.instrument,
        "side": s.side,
        "signal_ts": s.signal_ts,
        "horizon": crate::config::signals::horizon_name(s.horizon_secs),
        "reference": decimal(s.reference),
        "price": decimal(s.price),
        "hit": s.hit(),
    }))
}

fn position_fields(p: &PositionSnapshot) -> Map<String, Value> {
    into_map(json!({
        "strategy": p.strategy,
        "instrument": p.instrument,
        "qty": decimal(p.qty),
        "avg_price": decimal(p.avg_price),
        "realized_pnl": decimal(p.realized_pnl),
        "fees": decimal(p.fees),
    }))
}

fn risk_fields(r: &RiskEvent) -> Map<String, Value> {
    into_map(json!({
        "strategy": r.strategy,
        "kind": r.kind,
        "reason": r.reason,
        "actor": r.actor,
        "scope": r.scope,
        "state": r.state,
        "detail": r.detail,
    }))
}

fn lifecycle_fields(l: &LifecycleEvent) -> Map<String, Value> {
    into_map(json!({
        "strategy": l.strategy,
        "event": l.event,
        "version": l.version,
        "detail": l.detail,
    }))
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// An order from the store.
pub fn order_row(row: &OrderRow) -> Value {
    let mut map = order_fields(&row.order);
    map.insert("created".into(), json!(row.created));
    map.insert("updated".into(), json!(row.updated));
    Value::Object(map)
}

/// A fill from the store.
pub fn fill_row(row: &FillRow) -> Value {
    let mut map = fill_fields(&row.fill);
    map.insert("seq".into(), json!(row.seq));
    map.insert("ts".into(), json!(row.ts));
    Value::Object(map)
}

/// A signal from the store.
pub fn signal_row(row: &SignalRow) -> Value {
    let mut map = signal_fields(&row.signal);
    map.insert("seq".into(), json!(row.seq));
    map.insert("ts".into(), json!(row.ts));
    Value::Object(map)
}

/// A working order as the engine holds it, with when it was created.
pub fn open_order(order: &OrderEvent, created: i64) -> Value {
    let mut map = order_fields(order);
    map.insert("created".into(), json!(created));
    Value::Object(map)
}

/// The columns of the CSV exports, in order.
pub const ORDER_COLUMNS: &[&str] = &[
    "order_id",
    "client_order_id",
    "venue",
    "venue_client_id",
    "strategy",
    "instrument",
    "side",
    "kind",
    "time_in_force",
    "price",
    "qty",
    "status",
    "filled_qty",
    "reason",
    "created",
    "updated",
];
/// See [`ORDER_COLUMNS`].
pub const FILL_COLUMNS: &[&str] = &[
    "seq",
    "ts",
    "order_id",
    "venue",
    "strategy",
    "instrument",
    "side",
    "price",
    "qty",
    "fee",
    "liquidity",
    "realized_pnl",
];
/// See [`ORDER_COLUMNS`].
pub const SIGNAL_COLUMNS: &[&str] = &[
    "seq",
    "ts",
    "strategy",
    "instrument",
    "side",
    "strength",
    "target",
    "stop",
    "note",
];

/// The type of a journal record as the event stream names it.
pub fn record_type(body: &Body) -> &'static str {
    match body {
        Body::Order(_) => "order",
        Body::Fill(_) => "fill",
        Body::Position(_) => "position",
        Body::Lifecycle(_) => "lifecycle",
        Body::State(_) => "state",
        Body::Risk(_) => "risk",
        Body::Signal(_) => "signal",
        Body::SignalOutcome(_) => "signal_outcome",
        Body::Shutdown => "shutdown",
    }
}

/// The strategy a record is about, if any.
pub fn record_strategy(body: &Body) -> Option<&str> {
    match body {
        Body::Order(o) => Some(&o.strategy),
        Body::Fill(f) => Some(&f.strategy),
        Body::Position(p) => Some(&p.strategy),
        Body::Lifecycle(l) => Some(&l.strategy),
        Body::State(s) => Some(&s.strategy),
        Body::Risk(r) => r.strategy.as_deref(),
        Body::Signal(s) => Some(&s.strategy),
        Body::SignalOutcome(s) => Some(&s.strategy),
        Body::Shutdown => None,
    }
}

/// A journal record as the event stream sends it.
pub fn record(record: &Record) -> Value {
    let mut map = match &record.body {
        Body::Order(o) => order_fields(o),
        Body::Fill(f) => fill_fields(f),
        Body::Position(p) => position_fields(p),
        Body::Lifecycle(l) => lifecycle_fields(l),
        Body::Risk(r) => risk_fields(r),
        Body::Signal(s) => signal_fields(s),
        Body::SignalOutcome(s) => signal_outcome_fields(s),
        Body::State(_) | Body::Shutdown => Map::new(),
    };
    map.insert("seq".into(), json!(record.seq));
    map.insert("ts".into(), json!(record.ts));
    map.insert("type".into(), json!(record_type(&record.body)));
    Value::Object(map)
}
