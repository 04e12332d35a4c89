//! The admin API and `/metrics` of the real `pennantd`, over loopback HTTP: every route,
//! the role boundaries, records with filters, pages and CSV, the live event stream, the
//! kill switch, bad requests, rate limits, and `promtool check metrics`.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::sync::Mutex;
use support::api::Api;
use support::{poll, Daemon};

const VIEWER: &str = "viewer-secret";
const OPERATOR: &str = "operator-secret";
const ADMIN: &str = "admin-secret";
const FLOOD: &str = "flood-secret";

fn sha256(token: &str) -> String {
    pennant_daemon::api::hash_token(token)
}

/// A live market with a market maker (resting orders, fills) and an SMA crossover
/// (signals), its API on a free loopback port.
fn config(dir: &Path, api_extra: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "state"

[api]
listen = "127.0.0.1:0"
{api_extra}

[[api.token]]
name = "viewer"
role = "viewer"
sha256 = "{viewer}"

[[api.token]]
name = "operator"
role = "operator"
token_env = "PENNANT_TEST_OPERATOR_TOKEN"

[[api.token]]
name = "admin"
role = "admin"
sha256 = "{admin}"

[[api.token]]
name = "flood"
role = "viewer"
sha256 = "{flood}"

[plugins]
dir = "{strategies}"
# A call budget no well-behaved call reaches on a loaded machine (it is wall time).
call_budget_ms = 5000

[signals]
horizons_secs = [1, 3600]

{market}
[[strategy]]
id = "mm"
component = "market_maker.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.5", max_position = "5", half_spread_bps = 1, requote_ticks = 50 }}

[[strategy]]
id = "sma"
component = "sma_cross.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.1", fast = 2, slow = 4, bar_interval_ms = 20, allow_short = true }}
"#,
        viewer = sha256(VIEWER),
        admin = sha256(ADMIN),
        flood = sha256(FLOOD),
        strategies = support::components_dir().display(),
        market = support::eth_market(5, 60)
    );
    let path = dir.join("pennant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The `data:` of the stream's events of this type.
fn events_of(lines: &Mutex<Vec<String>>, kind: &str) -> Vec<Value> {
    // Copied out: the reader must not wait on the parsing (the stream would fall behind).
    let lines = lines.lock().unwrap().clone();
    let mut found = Vec::new();
    let mut current = None;
    for line in lines.iter() {
        if let Some(event) = line.strip_prefix("event:") {
            current = Some(event.trim().to_owned());
        } else if let Some(data) = line.strip_prefix("data:") {
            if current.as_deref() == Some(kind) {
                found.push(serde_json::from_str(data.trim()).expect("event data is JSON"));
            }
        } else if line.is_empty() {
            current = None;
        }
    }
    found
}

fn start(dir: &Path, api_extra: &str) -> (Daemon, Api) {
    let config = config(dir, api_extra);
    let daemon = Daemon::start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("PENNANT_TEST_OPERATOR_TOKEN", OPERATOR)],
    );
    let api = Api::of(&daemon);
    (daemon, api)
}

fn strategy(api: &Api, id: &str) -> Value {
    api.ok("GET", &format!("/api/v1/strategies/{id}"), VIEWER, None)
}

#[test]
fn the_admin_api_serves_operators_and_admins_by_role() {
    let dir = tempfile::tempdir().unwrap();
    // Readiness is polled without a token: a limit no poll reaches.
    let (daemon, api) = start(
        dir.path(),
        "rate_limit_per_second = 1000\nrate_limit_burst = 1000",
    );
    let events = api.stream("/api/v1/events", VIEWER);
    // Few records, so none can be missed however busy the machine: the audit trail.
    let control = api.stream("/api/v1/events?types=risk,lifecycle", VIEWER);
    let mm_events = api.stream("/api/v1/events?strategy=mm&types=fill", VIEWER);

    // Health and readiness need no token.
    let health = api.call("GET", "/healthz", None, None);
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let ready = poll("readiness", || {
        let reply = api.call("GET", "/readyz", None, None);
        (reply.status == 200).then(|| reply.json())
    });
    assert_eq!(ready["ready"], true);
    let names: Vec<_> = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(names, ["strategies", "venues", "feeds", "store", "engine"]);

    // No token, an unknown token: 401.
    api.call("GET", "/api/v1/strategies", None, None)
        .error(401, "unauthorized");
    api.call("GET", "/api/v1/strategies", Some("wrong"), None)
        .error(401, "unauthorized");

    // Strategies.
    let list = api.ok("GET", "/api/v1/strategies", VIEWER, None);
    let ids: Vec<&str> = list["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["mm", "sma"]);
    let mm = poll("fills of the market maker", || {
        let mm = strategy(&api, "mm");
        (mm["stats"]["fills"].as_u64() > Some(0)).then_some(mm)
    });
    assert_eq!(mm["state"], "running");
    assert_eq!(mm["version"].as_str().unwrap().len(), 64);
    assert!(mm["loaded_at"].as_str().unwrap().ends_with('Z'));
    assert!(mm["memory_bytes"].as_u64().unwrap() > 0);
    assert_eq!(mm["positions"][0]["instrument"], "ETH-USDT");
    api.get("/api/v1/strategies/nope", VIEWER)
        .error(404, "not_found");

    // Pause and resume: a viewer may not, an operator may. A paused strategy gets
    // nothing while the market goes on.
    api.call("POST", "/api/v1/strategies/mm/pause", Some(VIEWER), None)
        .error(403, "forbidden");
    let paused = api.ok("POST", "/api/v1/strategies/mm/pause", OPERATOR, None);
    assert_eq!(paused, json!({"strategy": "mm", "state": "paused"}));
    let frozen = strategy(&api, "mm");
    assert_eq!(frozen["state"], "paused");
    let sma_before = strategy(&api, "sma")["stats"]["events"].as_u64().unwrap();
    poll("the market to go on", || {
        (strategy(&api, "sma")["stats"]["events"].as_u64().unwrap() > sma_before + 20).then_some(())
    });
    assert_eq!(
        strategy(&api, "mm")["stats"]["events"],
        frozen["stats"]["events"],
        "a paused strategy receives nothing"
    );
    let resumed = api.ok("POST", "/api/v1/strategies/mm/resume", OPERATOR, None);
    assert_eq!(resumed["state"], "running");
    poll("the market maker to hear events again", || {
        (strategy(&api, "mm")["stats"]["events"].as_u64() > frozen["stats"]["events"].as_u64())
            .then_some(())
    });
    // A reload with the file unchanged rebuilds the strategy from its code.
    let reloaded = api.ok("POST", "/api/v1/strategies/sma/reload", OPERATOR, None);
    assert_eq!(reloaded["outcome"], "restarted", "{reloaded}");
    assert_eq!(reloaded["version"], strategy(&api, "sma")["version"]);
    api.call(
        "POST",
        "/api/v1/strategies/nope/reload",
        Some(OPERATOR),
        None,
    )
    .error(404, "not_found");

    // Limits: not an operator's; an admin's, audited.
    let change = r#"{"scope": "strategy", "id": "mm", "limits": {"max_open_orders": 50, "max_order_qty": "2"}}"#;
    api.call("PUT", "/api/v1/risk/limits", Some(OPERATOR), Some(change))
        .error(403, "forbidden");
    let changed = api.ok("PUT", "/api/v1/risk/limits", ADMIN, Some(change));
    assert_eq!(changed["scope"], "strategy mm");
    assert_eq!(changed["limits"]["max_open_orders"], 50);
    assert_eq!(changed["limits"]["max_order_qty"], "2");
    let cleared = api.ok(
        "PUT",
        "/api/v1/risk/limits",
        ADMIN,
        Some(r#"{"scope": "strategy", "id": "mm", "limits": {"max_order_qty": null}}"#),
    );
    assert_eq!(cleared["limits"]["max_order_qty"], Value::Null);
    assert_eq!(cleared["limits"]["max_open_orders"], 50, "untouched");
    let risk = api.ok("GET", "/api/v1/risk", VIEWER, None);
    assert_eq!(risk["limits"]["strategies"]["mm"]["max_open_orders"], 50);
    assert_eq!(risk["global_state"], "ACTIVE");
    assert_eq!(risk["strategies"].as_array().unwrap().len(), 2);

    // Trading state.
    let reducing = api.ok(
        "PUT",
        "/api/v1/risk/trading-state",
        ADMIN,
        Some(r#"{"scope": "global", "state": "REDUCING"}"#),
    );
    assert_eq!(reducing, json!({"scope": "global", "state": "REDUCING"}));
    assert_eq!(
        api.ok("GET", "/api/v1/risk", VIEWER, None)["global_state"],
        "REDUCING"
    );
    api.ok(
        "PUT",
        "/api/v1/risk/trading-state",
        ADMIN,
        Some(r#"{"scope": "global", "state": "ACTIVE"}"#),
    );

    // The kill switch cancels the strategy's open orders and keeps it from placing more.
    // The market maker replaces its quotes as the market moves: the engine may hold
    // none at the instant of the switch, so the test engages it until it catches some.
    let scope = r#"{"scope": "strategy", "id": "mm"}"#;
    api.call("POST", "/api/v1/kill-switch", Some(OPERATOR), Some(scope))
        .error(403, "forbidden");
    let killed = poll("a kill switch that cancels resting orders", || {
        poll("resting orders of the market maker", || {
            (strategy(&api, "mm")["stats"]["open_orders"].as_u64() > Some(0)).then_some(())
        });
        let killed = api.ok("POST", "/api/v1/kill-switch", ADMIN, Some(scope));
        assert_eq!(killed["state"], "HALTED");
        if killed["canceled_orders"].as_u64() > Some(0) {
            return Some(killed);
        }
        api.ok("DELETE", "/api/v1/kill-switch", ADMIN, Some(scope));
        None
    });
    assert!(killed["canceled_orders"].as_u64().unwrap() >= 1, "{killed}");
    // Halted, it places no order: none is left working, in the engine or the store.
    assert_eq!(strategy(&api, "mm")["stats"]["open_orders"], 0);
    let open = "/api/v1/orders?strategy=mm&status=accepted";
    poll("no open order left in the store", || {
        let items = api.ok("GET", open, VIEWER, None)["items"].clone();
        items.as_array().unwrap().is_empty().then_some(())
    });
    let risk = api.ok("GET", "/api/v1/risk", VIEWER, None);
    assert_eq!(risk["kill_switch"], json!(["strategy mm"]));
    let released = api.ok("DELETE", "/api/v1/kill-switch", ADMIN, Some(scope));
    assert_eq!(released["state"], "ACTIVE");
    assert_eq!(
        api.ok("GET", "/api/v1/risk", VIEWER, None)["kill_switch"],
        json!([])
    );

    // Records: filters, keyset pages, CSV.
    let first = api.ok("GET", "/api/v1/orders?limit=2", VIEWER, None);
    let page: Vec<u64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_u64().unwrap())
        .collect();
    assert_eq!(page.len(), 2);
    let next = first["next"].as_i64().expect("a next page");
    let second = api.ok(
        "GET",
        &format!("/api/v1/orders?limit=2&cursor={next}"),
        VIEWER,
        None,
    );
    let later: Vec<u64> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_u64().unwrap())
        .collect();
    assert_eq!(later.len(), 2);
    assert!(
        later.iter().all(|id| !page.contains(id)),
        "{page:?} {later:?}"
    );
    let buys = api.ok(
        "GET",
        "/api/v1/orders?strategy=mm&side=buy&limit=50",
        VIEWER,
        None,
    );
    let buys = buys["items"].as_array().unwrap();
    assert!(!buys.is_empty());
    assert!(buys
        .iter()
        .all(|o| o["side"] == "buy" && o["strategy"] == "mm"));
    // Each order names its venue and the id the venue knows it by: the daemon's id, then
    // the order's.
    let first = &buys[0];
    assert_eq!(first["venue"], "paper");
    assert_eq!(
        first["venue_client_id"].as_str(),
        Some(format!("pennant-{}", first["order_id"]).as_str()),
        "{first}"
    );
    // The live working orders come from the engine itself.
    // (The market maker quotes again after the kill switch's release.)
    let open = poll("the market maker's working orders, live", || {
        let open = api.ok("GET", "/api/v1/orders/open?strategy=mm", VIEWER, None);
        let items = open["items"].as_array().cloned().unwrap_or_default();
        (!items.is_empty()).then_some(items)
    });
    for order in &open {
        assert_eq!(
            (&order["strategy"], &order["venue"]),
            (&json!("mm"), &json!("paper"))
        );
        let status = order["status"].as_str().unwrap();
        assert!(
            [
                "submitted",
                "accepted",
                "partially_filled",
                "pending_cancel"
            ]
            .contains(&status),
            "{order}"
        );
        assert!(order["created"].as_i64().unwrap() > 0);
    }
    let err = api.call("GET", "/api/v1/orders/open?side=buy", Some(VIEWER), None);
    assert_eq!(err.status, 400, "{}", err.body);
    let fills = api.ok("GET", "/api/v1/fills?strategy=mm", VIEWER, None);
    let fill = &fills["items"][0];
    assert_eq!(
        (&fill["strategy"], &fill["venue"]),
        (&json!("mm"), &json!("paper"))
    );
    assert!(fill["price"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
    let csv = api.get("/api/v1/fills?format=csv&limit=3", VIEWER);
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"));
    let mut rows = csv.body.lines();
    assert_eq!(
        rows.next(),
        Some("seq,ts,order_id,venue,strategy,instrument,side,price,qty,fee,liquidity,realized_pnl")
    );
    assert_eq!(rows.count(), 3);
    assert!(csv.next_cursor.is_some());
    let signals = poll("a signal of the crossover", || {
        let signals = api.ok("GET", "/api/v1/signals?strategy=sma", VIEWER, None);
        (!signals["items"].as_array().unwrap().is_empty()).then_some(signals)
    });
    assert_eq!(signals["items"][0]["instrument"], "ETH-USDT");
    // A second after a signal its instrument is priced again; an hour is not yet.
    let stats = poll("a signal measured after 1 s", || {
        let stats = api.ok("GET", "/api/v1/signals/stats?strategy=sma", VIEWER, None);
        let measured = stats["items"][0]["horizons"][0]["measured"].as_u64();
        (measured > Some(0)).then_some(stats)
    });
    assert_eq!(stats["horizons"], json!(["1s", "1h"]));
    let item = &stats["items"][0];
    assert_eq!(
        (item["strategy"].as_str(), item["instrument"].as_str()),
        (Some("sma"), Some("ETH-USDT"))
    );
    let count = |key: &str| item[key].as_u64().unwrap();
    assert_eq!(count("signals"), count("buys") + count("sells"), "{item}");
    let second = &item["horizons"][0];
    assert!(
        second["measured"].as_u64().unwrap() <= count("signals"),
        "{item}"
    );
    assert!(second["hits"].as_u64().unwrap() <= second["measured"].as_u64().unwrap());
    let rate = second["hit_rate"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&rate), "{item}");
    assert!(second["avg_return_bps"].is_number(), "{item}");
    let hour = &item["horizons"][1];
    assert_eq!(
        (hour["horizon"].as_str(), hour["measured"].as_u64()),
        (Some("1h"), Some(0))
    );
    assert!(hour["hit_rate"].is_null() && hour["avg_return_bps"].is_null());
    api.call("GET", "/api/v1/signals/stats?limit=5", Some(VIEWER), None)
        .error(400, "unknown_parameter");
    let positions = api.ok("GET", "/api/v1/positions?strategy=mm", VIEWER, None);
    assert_eq!(positions["positions"][0]["strategy"], "mm");
    assert_eq!(positions["positions"][0]["venue"], "paper");
    let pnl = poll("today's PnL", || {
        let pnl = api.ok("GET", "/api/v1/pnl?strategy=mm", VIEWER, None);
        (!pnl["days"].as_array().unwrap().is_empty()).then_some(pnl)
    });
    assert_eq!(pnl["days"][0]["strategy"], "mm");
    assert_eq!(pnl["current"][0]["strategy"], "mm");

    // The event stream carried orders, fills, the pause and the audited limit change.
    poll("orders and fills on the stream", || {
        (!events_of(&events, "order").is_empty() && !events_of(&events, "fill").is_empty())
            .then_some(())
    });
    poll("the pause on the stream", || {
        let lifecycle = events_of(&control, "lifecycle");
        lifecycle
            .iter()
            .any(|e| e["event"] == "paused")
            .then_some(())
    });
    assert!(events_of(&control, "order").is_empty(), "filtered by type");
    let risk_events = events_of(&control, "risk");
    assert!(
        risk_events
            .iter()
            .any(|e| e["kind"] == "limits" && e["actor"] == "api:admin"),
        "{risk_events:?}"
    );
    let filtered = poll("the filtered stream", || {
        let fills = events_of(&mm_events, "fill");
        (!fills.is_empty()).then_some(fills)
    });
    assert!(filtered.iter().all(|f| f["strategy"] == "mm"));
    assert!(events_of(&mm_events, "order").is_empty());

    // The document, and the metrics as Prometheus' own checker sees them.
    let doc = api.call("GET", "/api/v1/openapi.json", None, None).json();
    assert_eq!(doc["openapi"], "3.0.3");
    let metrics = api.call("GET", "/metrics", None, None);
    assert_eq!(metrics.status, 200);
    for family in [
        "pennant_build_info{",
        "pennant_market_events_total{feed=\"synthetic\",type=\"trade\"}",
        "pennant_orders_submitted_total{strategy=\"mm\"}",
        "pennant_orders_canceled_total{strategy=\"mm\"}",
        "pennant_fills_total{instrument=\"ETH-USDT\",strategy=\"mm\",venue=\"paper\"}",
        "pennant_strategy_call_duration_seconds_bucket{strategy=\"mm\"",
        "pennant_event_handler_latency_seconds_bucket{strategy=\"sma\"",
        "pennant_position_quantity{instrument=\"ETH-USDT\",strategy=\"mm\",venue=\"paper\"}",
        "pennant_strategy_state{state=\"running\",strategy=\"mm\"} 1",
        "pennant_trading_state{scope=\"global\",state=\"ACTIVE\"} 1",
        "pennant_kill_switch_engaged{scope=\"strategy mm\"} 0",
        "pennant_strategy_reloads_total{strategy=\"sma\"} 1",
        "pennant_strategy_memory_bytes{strategy=\"mm\"}",
        "pennant_store_write_duration_seconds_count",
        "pennant_store_queue_records",
        "pennant_api_requests_total{code=\"403\",route=\"/api/v1/strategies/{id}/pause\"} 1",
    ] {
        assert!(
            metrics.body.contains(family),
            "no {family} in\n{}",
            metrics.body
        );
    }
    promtool_check(&metrics.body);
    metrics_exported(&metrics.body);
    drop(daemon);
}

/// Every `pennant_*` metric the Grafana dashboard and the alerting rules query is one
/// the daemon exports (a histogram's `_bucket`, `_sum` and `_count` are its family's).
fn metrics_exported(scrape: &str) {
    let families: std::collections::BTreeSet<&str> = scrape
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let root = support::workspace();
    for file in [
        "packaging/grafana/pennant.json",
        "packaging/prometheus/pennant.rules.yml",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let mut names = Vec::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("pennant_") {
            let name: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            rest = &rest[at + name.len()..];
            names.push(name);
        }
        assert!(names.len() > 5, "{file} queries pennant metrics");
        for name in names {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .filter(|base| families.contains(base))
                .unwrap_or(&name);
            assert!(
                families.contains(family),
                "{file} queries {name}, which pennantd does not export: {families:?}"
            );
        }
    }
}

/// `promtool check metrics` must pass without a word.
fn promtool_check(text: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs (cargo xtask test installs Debian's prometheus package)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool: {said}");
    assert!(said.trim().is_empty(), "promtool warns: {said}");
}

#[test]
fn bad_requests_get_json_errors_and_floods_get_429() {
    let dir = tempfile::tempdir().unwrap();
    let (daemon, api) = start(
        dir.path(),
        "max_body_bytes = 1024\nrate_limit_per_second = 1\nrate_limit_burst = 40\npublic = [\"healthz\"]",
    );
    let put = |body: &str| api.call("PUT", "/api/v1/risk/limits", Some(ADMIN), Some(body));
    put("{not json").error(400, "bad_request");
    put("[1, 2]").error(400, "bad_request");
    put(r#"{"scope": 5, "limits": {}}"#).error(400, "bad_request");
    put(r#"{"scope": "planet", "limits": {}}"#).error(400, "bad_request");
    put(r#"{"scope": "strategy", "limits": {}}"#).error(400, "bad_request");
    put(r#"{"scope": "global", "limits": {"max_open_orders": "many"}}"#).error(400, "bad_request");
    put(r#"{"scope": "global", "limits": {"max_everything": 1}}"#).error(400, "bad_request");
    put(r#"{"scope": "global", "limits": {"max_everything": null}}"#).error(400, "bad_request");
    put(r#"{"scope": "global", "limits": {"max_order_qty": "-1"}}"#).error(400, "bad_request");
    put(r#"{"scope": "strategy", "id": "ghost", "limits": {}}"#).error(404, "not_found");
    // As the document has it: no key twice, no unknown key, no value of another type.
    put(r#"{"scope": "global", "scope": "strategy", "id": "mm", "limits": {}}"#)
        .error(400, "bad_request");
    put(r#"{"scope": "global", "limits": {}, "extra": true}"#).error(400, "bad_request");
    put(r#"{"scope": "global", "limits": {"max_position": 5}}"#).error(400, "bad_request");
    put(r#"{"scope": "global", "limits": {"max_order_qty": null}}"#).error(400, "bad_request");
    api.call(
        "POST",
        "/api/v1/kill-switch",
        Some(ADMIN),
        Some(r#"{"scope": "global", "id": {}}"#),
    )
    .error(400, "bad_request");
    put(&format!(
        r#"{{"scope": "global", "pad": "{}"}}"#,
        "x".repeat(4096)
    ))
    .error(413, "payload_too_large");
    api.call("POST", "/api/v1/kill-switch", Some(ADMIN), None)
        .error(400, "bad_request");
    // Releasing a kill switch that is not engaged must not lift another halt.
    api.call(
        "DELETE",
        "/api/v1/kill-switch",
        Some(ADMIN),
        Some(r#"{"scope": "global"}"#),
    )
    .error(409, "conflict");

    api.call(
        "PUT",
        "/api/v1/risk/trading-state",
        Some(ADMIN),
        Some(r#"{"scope": "global", "state": "ASLEEP"}"#),
    )
    .error(400, "bad_request");
    api.get("/api/v1/orders?colour=red", ADMIN)
        .error(400, "unknown_parameter");
    api.get("/api/v1/orders?limit=lots", ADMIN)
        .error(400, "bad_request");
    api.get("/api/v1/fills?status=filled", ADMIN)
        .error(400, "unknown_parameter");
    api.get("/api/v1/events?types=weather", ADMIN)
        .error(400, "bad_request");
    api.get("/api/v1/nowhere", ADMIN).error(404, "not_found");
    api.call("GET", "/api/v1/kill-switch", Some(ADMIN), None)
        .error(405, "method_not_allowed");
    // Pausing twice is no error; resuming a running strategy neither.
    for _ in 0..2 {
        let paused = api.ok("POST", "/api/v1/strategies/sma/pause", ADMIN, None);
        assert_eq!(paused["state"], "paused");
    }
    api.ok("POST", "/api/v1/strategies/sma/resume", ADMIN, None);
    api.ok("POST", "/api/v1/strategies/sma/resume", ADMIN, None);
    // Only /healthz is public here.
    assert_eq!(api.call("GET", "/healthz", None, None).status, 200);
    api.call("GET", "/metrics", None, None)
        .error(401, "unauthorized");
    assert_eq!(api.get("/metrics", VIEWER).status, 200);

    // A token past its burst waits; others are not held back.
    let refused = poll("a 429", || {
        let reply = api.get("/api/v1/risk", FLOOD);
        (reply.status == 429).then_some(reply)
    });
    refused.error(429, "rate_limited");
    let wait: u64 = refused.retry_after.expect("Retry-After").parse().unwrap();
    assert!(wait >= 1);
    assert_eq!(api.get("/api/v1/risk", VIEWER).status, 200);

    // Requests without a valid token share one limit: a guessing run is throttled, and
    // public routes, on a budget of their own, still answer.
    let guessed = poll("a 429 for token guessing", || {
        let reply = api.call("GET", "/api/v1/risk", Some("guess"), None);
        (reply.status == 429).then_some(reply)
    });
    guessed.error(429, "rate_limited");
    assert_eq!(api.call("GET", "/healthz", None, None).status, 200);

    // None of it hurt the daemon.
    assert_eq!(api.get("/api/v1/strategies", VIEWER).status, 200);
    assert!(!daemon.output().iter().any(|l| l.contains("panicked")));
}

#[test]
fn the_api_can_listen_on_a_unix_socket() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("api.sock");
    let config = config(dir.path(), "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"unix:{}\"", socket.display()),
    );
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("PENNANT_TEST_OPERATOR_TOKEN", OPERATOR)],
    );
    daemon.wait_for(&["admin API listening", "unix:"]);
    let mut stream = std::os::unix::net::UnixStream::connect(&socket).expect("the socket");
    stream
        .write_all(b"GET /api/v1/strategies HTTP/1.1\r\nHost: pennant\r\nAuthorization: Bearer viewer-secret\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"id\":\"mm\""), "{response}");
}

/// schemathesis (pinned in `cargo xtask test`, which installs it) against the real
/// daemon, for a bounded time: every operation of `openapi.json` with examples, the
/// schema's edge cases and fuzzed inputs, every check (no 5xx, documented status codes,
/// content types and headers, responses and SSE events that fit their schemas, valid
/// requests accepted, invalid ones refused, auth enforced). The document and the server
/// cannot drift apart without this failing.
#[test]
fn the_api_and_its_openapi_document_agree() {
    let st = std::env::var_os("PENNANT_SCHEMATHESIS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| support::workspace().join("target/tools/schemathesis/bin/st"));
    assert!(
        st.exists(),
        "schemathesis is not installed at {} (cargo xtask test installs it)",
        st.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let (daemon, api) = start(
        dir.path(),
        "rate_limit_per_second = 100000\nrate_limit_burst = 100000",
    );
    let output = std::process::Command::new(&st)
        .arg("run")
        .arg(format!("{}/api/v1/openapi.json", api.base))
        .args(["-H", &format!("Authorization: Bearer {ADMIN}")])
        .args(["--checks", "all", "--phases", "examples,coverage,fuzzing"])
        .args([
            "--max-time",
            "45",
            "--workers",
            "1",
            "--request-timeout",
            "10",
        ])
        .env("NO_COLOR", "1")
        // Its cache (`.schemathesis/`) goes with the test's directory, not the tree.
        .current_dir(dir.path())
        .output()
        .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Every operation of the document was tested.
    let selected = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Selected: "))
        .and_then(|v| v.split_once('/'))
        .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()));
    let tested = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Tested: "))
        .map(|v| v.trim().to_owned());
    match (selected, tested) {
        (Some((chosen, all)), Some(tested)) => {
            assert_eq!((&chosen, &tested), (&all, &all), "{report}")
        }
        _ => panic!("no summary in the report:\n{report}"),
    }
    assert!(!daemon.output().iter().any(|l| l.contains("panicked")));
}
