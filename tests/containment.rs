//! Containment: the real `pennantd`, two market makers trading, and beside them a
//! strategy that misbehaves (timers, order floods, log floods, ...) or a client that
//! guesses tokens. In each test the misbehaving party is contained, the market makers
//! keep trading (their fills are counted), and the daemon's memory stays bounded.

mod support;

use serde_json::Value;
use std::path::Path;
use support::api::Api;
use support::{poll, Daemon};

const VIEWER: &str = "viewer-secret";
const ADMIN: &str = "admin-secret";

/// Two market makers on a fast synthetic market, plus `extra` (more strategies, more
/// sections), the API on a free port, a status line every second.
fn config(dir: &Path, plugins: &str, risk: &str, extra: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "state"
summary_interval_secs = 1

[api]
listen = "127.0.0.1:0"
rate_limit_per_second = 1000
rate_limit_burst = 1000

[[api.token]]
name = "viewer"
role = "viewer"
sha256 = "{viewer}"

[[api.token]]
name = "admin"
role = "admin"
sha256 = "{admin}"

[plugins]
dir = "{strategies}"
# A call budget no well-behaved call reaches on a loaded machine (it is wall time).
call_budget_ms = 5000
{plugins}

[risk]
{risk}

{market}
[[strategy]]
id = "mm-a"
component = "market_maker.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.5", max_position = "5", half_spread_bps = 1, requote_ticks = 50 }}

[[strategy]]
id = "mm-b"
component = "market_maker.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.3", max_position = "3", half_spread_bps = 1, requote_ticks = 40 }}
{extra}
"#,
        viewer = pennant_daemon::api::hash_token(VIEWER),
        admin = pennant_daemon::api::hash_token(ADMIN),
        strategies = support::components_dir().display(),
        market = support::eth_market(2, 60),
    );
    let path = dir.join("pennant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A `test-strategy` in `mode` with these extra parameters.
fn misbehaving(id: &str, mode: &str, params: &str) -> String {
    format!(
        r#"
[[strategy]]
id = "{id}"
component = "test_strategy.wasm"
params = {{ instrument = "ETH-USDT", mode = "{mode}", trigger = 2 {params} }}
"#
    )
}

fn start(config: &Path) -> (Daemon, Api) {
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    let api = Api::of(&daemon);
    (daemon, api)
}

fn strategy(api: &Api, id: &str) -> Value {
    api.ok("GET", &format!("/api/v1/strategies/{id}"), VIEWER, None)
}

fn fills(api: &Api, id: &str) -> u64 {
    strategy(api, id)["stats"]["fills"].as_u64().unwrap_or(0)
}

/// Waits for `id` to be quarantined; returns the reason.
fn quarantined(api: &Api, id: &str) -> String {
    poll(&format!("{id} to be quarantined"), || {
        let s = strategy(api, id);
        (s["state"] == "quarantined").then(|| s["reason"].as_str().unwrap_or("").to_owned())
    })
}

/// Both market makers fill `more` times from now on.
fn market_makers_keep_trading(api: &Api, more: u64) {
    for id in ["mm-a", "mm-b"] {
        let before = fills(api, id);
        poll(&format!("{more} more fills of {id}"), || {
            (fills(api, id) >= before + more).then_some(())
        });
        assert_eq!(strategy(api, id)["state"], "running", "{id}");
    }
}

/// The resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024
}

/// A generous bound: the daemon with three strategies uses tens of MiB; an unbounded
/// timer heap or backlog passes a GiB within seconds.
const RSS_BOUND_MIB: u64 = 400;

/// SIGTERM: the daemon stops in time, cleanly.
fn stop(daemon: Daemon) -> Vec<String> {
    daemon.signal("TERM");
    let (status, output) = daemon.wait_exit();
    let tail = output[output.len().saturating_sub(30)..].join("\n");
    assert!(status.success(), "pennantd exited with {status}:\n{tail}");
    output
}

/// A sample of `/metrics`: `labels` is a strategy id, or every label as Prometheus
/// prints them.
fn metric(api: &Api, name: &str, labels: &str) -> f64 {
    let text = api.call("GET", "/metrics", None, None).body;
    let labels = if labels.contains('=') {
        labels.to_owned()
    } else {
        format!("strategy=\"{labels}\"")
    };
    let prefix = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in the metrics"))
}

#[test]
fn timers_are_capped_and_a_timer_chain_cannot_hold_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let extra =
        misbehaving("hoarder", "timer-flood", "") + &misbehaving("doubler", "timer-double", "");
    let config = config(dir.path(), "max_timers = 1000", "", &extra);
    let (daemon, api) = start(&config);

    let reason = quarantined(&api, "hoarder");
    assert!(
        reason.contains("more than 1000 pending timers (max_timers)"),
        "{reason}"
    );
    let reason = quarantined(&api, "doubler");
    assert!(reason.contains("max_timers"), "{reason}");
    assert_eq!(metric(&api, "pennant_strategy_timers", "hoarder"), 0.0);

    market_makers_keep_trading(&api, 3);
    // The engine's own timing held: status lines keep coming.
    let lines = daemon.output().len();
    poll("another status line", || {
        daemon.output()[lines..]
            .iter()
            .any(|l| l.contains("status strategy") || l.contains("status position"))
            .then_some(())
    });
    let rss = rss_mib(daemon.pid());
    assert!(rss < RSS_BOUND_MIB, "RSS {rss} MiB");
    let output = stop(daemon);
    assert!(output.iter().any(|l| l.contains("engine stopped")));
}

#[test]
fn a_flooding_strategy_trips_its_breaker_and_leaves_the_others_their_budgets() {
    let dir = tempfile::tempdir().unwrap();
    // The demo's rate limits; the flooder rests buys far below the market.
    let risk = "max_rejections_per_minute = 600\n\n[risk.defaults]\nmax_open_orders = 10\nmax_orders_per_window = 50\n\n[risk.global]\nmax_orders_per_window = 200";
    let extra = misbehaving("flooder", "flood", r#", price = "1", qty = "0.01""#);
    let config = config(dir.path(), "", risk, &extra);
    let (daemon, api) = start(&config);

    let reason = quarantined(&api, "flooder");
    assert!(reason.contains("max_rejections_per_minute"), "{reason}");
    let trips = metric(
        &api,
        "pennant_strategy_quarantines_total",
        r#"reason="rejections",strategy="flooder""#,
    );
    assert_eq!(trips, 1.0);
    market_makers_keep_trading(&api, 3);

    // Refusals were logged in aggregate: hundreds of refused orders, a few lines.
    let output = daemon.output();
    let refused_lines = output
        .iter()
        .filter(|l| l.contains("flooder") && l.contains("order rejected"))
        .count();
    assert!((1..=10).contains(&refused_lines), "{refused_lines} lines");
    assert!(
        output
            .iter()
            .any(|l| l.contains("circuit breaker") && l.contains("flooder")),
        "the trip is audited"
    );
    let flooder = strategy(&api, "flooder");
    assert!(
        flooder["stats"]["risk_rejects"].as_u64() > Some(600),
        "{flooder}"
    );
    let rss = rss_mib(daemon.pid());
    assert!(rss < RSS_BOUND_MIB, "RSS {rss} MiB");
    stop(daemon);
}

#[test]
fn a_chatty_strategy_cannot_fill_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = "max_log_line_bytes = 512\nlog_bytes_per_minute = 65536\nmax_signal_note_bytes = 64\nsignals_per_minute = 100";
    // Each trade from the second on: a 1 MiB log line, stdout and stderr line and note.
    let extra = misbehaving("chatty", "chatty", "");
    let config = config(dir.path(), plugins, "", &extra);
    let started = std::time::Instant::now();
    let (daemon, api) = start(&config);
    // The budget renews every minute: a slow run may see more than one.
    let minutes = || 1 + started.elapsed().as_secs() / 60;

    // Enough trades for far more than the budgets.
    poll("a hundred trades seen by the chatty strategy", || {
        let s = strategy(&api, "chatty");
        (s["stats"]["events"].as_u64() > Some(100)).then_some(())
    });
    market_makers_keep_trading(&api, 3);
    assert_eq!(strategy(&api, "chatty")["state"], "running");
    let rss = rss_mib(daemon.pid());
    assert!(rss < RSS_BOUND_MIB, "RSS {rss} MiB");
    assert!(metric(&api, "pennant_strategy_log_lines_truncated_total", "chatty") >= 3.0);
    assert!(metric(&api, "pennant_strategy_log_lines_dropped_total", "chatty") >= 1.0);
    let logged = metric(&api, "pennant_strategy_log_bytes_total", "chatty");
    assert!(logged <= (65536 * minutes()) as f64, "{logged} bytes");
    assert!(
        metric(
            &api,
            "pennant_strategy_signal_notes_truncated_total",
            "chatty"
        ) >= 1.0
    );

    let signals = api.ok("GET", "/api/v1/signals?strategy=chatty", VIEWER, None);
    let note = signals["items"][0]["note"].as_str().unwrap().to_owned();
    assert!(
        note.len() < 200 && note.contains("[truncated: 64 of 1048576 bytes kept]"),
        "{note}"
    );

    let output = stop(daemon);
    let chatty_bytes: usize = output
        .iter()
        .filter(|l| l.contains("chatty"))
        .map(String::len)
        .sum();
    // 64 KiB of budget a minute, plus the daemon's own lines about it.
    assert!(
        chatty_bytes < 256 * 1024 * minutes() as usize,
        "{chatty_bytes} bytes of log"
    );
    assert!(output
        .iter()
        .any(|l| l.contains("[truncated: 512 of 1048576 bytes kept]")));
    assert!(output
        .iter()
        .any(|l| l.contains("log budget of 65536 bytes per minute is spent")));
    let db = std::fs::metadata(dir.path().join("state/pennant.db"))
        .unwrap()
        .len();
    assert!(db < 32 * 1024 * 1024, "the database is {db} bytes");
}

#[test]
fn an_oversized_snapshot_quarantines_its_strategy_and_the_daemon_stays_ready() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = "snapshot_interval_secs = 1\nmax_snapshot_bytes = 100000";
    // Beside it, a strategy whose init traps at start-up.
    let extra = misbehaving("hoarder", "big-snapshot", ", n = 200000")
        + &misbehaving("broken", "init-trap", "");
    let config = config(dir.path(), plugins, "", &extra);
    let (daemon, api) = start(&config);
    let reason = quarantined(&api, "hoarder");
    assert!(
        reason.contains("snapshot of 200000 bytes, more than max_snapshot_bytes (100000)"),
        "{reason}"
    );
    // Ready, degraded: the daemon does its job, two strategies do not.
    let ready = api.call("GET", "/readyz", None, None);
    assert_eq!(ready.status, 200, "{}", ready.body);
    let degraded = ready.json()["degraded"].to_string();
    assert!(degraded.contains("hoarder is quarantined"), "{degraded}");
    assert!(degraded.contains("broken"), "{degraded}");
    // Nothing ran before the failed start: the log does not say it keeps running.
    let start_failure = daemon.wait_for(&["change_target=broken"]);
    assert!(start_failure.contains("not started"), "{start_failure}");
    assert!(!start_failure.contains("keeps running"), "{start_failure}");
    market_makers_keep_trading(&api, 3);
    stop(daemon);
}

#[test]
fn guessing_tokens_does_not_starve_health_checks_and_scrapes() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "", "", "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "rate_limit_per_second = 1000\nrate_limit_burst = 1000",
        "rate_limit_per_second = 10\nrate_limit_burst = 20",
    );
    std::fs::write(&config, text).unwrap();
    let (daemon, api) = start(&config);
    let mut limited = 0;
    for guess in 0..600 {
        let reply = api.call(
            "GET",
            "/api/v1/strategies",
            Some(&format!("guess-{guess}")),
            None,
        );
        assert!(matches!(reply.status, 401 | 429), "{}", reply.status);
        limited += usize::from(reply.status == 429);
    }
    assert!(
        limited > 500,
        "failed authentications are limited: {limited} of 600"
    );
    for path in ["/healthz", "/readyz", "/metrics"] {
        let reply = api.call("GET", path, None, None);
        assert!(
            matches!(reply.status, 200 | 503),
            "{path}: {}",
            reply.status
        );
    }
    // Guessing on is still limited (the budget refills meanwhile: a 429 comes soon).
    poll("guessing limited again", || {
        let reply = api.call("GET", "/api/v1/strategies", Some("guess-again"), None);
        (reply.status == 429).then_some(())
    });
    assert_eq!(
        api.call("GET", "/api/v1/strategies", Some(VIEWER), None)
            .status,
        200
    );
    // The market makers trade on (read within the viewer's own small budget: a 429 is
    // a reply to poll again).
    let fills = |id: &str| {
        let reply = api.call(
            "GET",
            &format!("/api/v1/strategies/{id}"),
            Some(VIEWER),
            None,
        );
        (reply.status == 200).then(|| reply.json()["stats"]["fills"].as_u64().unwrap_or(0))
    };
    for id in ["mm-a", "mm-b"] {
        let before = poll("the fills so far", || fills(id));
        poll(&format!("another fill of {id}"), || {
            fills(id).filter(|&n| n > before)
        });
    }
    stop(daemon);
}

#[test]
fn the_kill_switch_does_not_queue_behind_a_full_speed_replay() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    // A tape far longer than the engine's market channel holds, replayed at full speed.
    const EVENTS: usize = 600_000;
    let tape = dir.path().join("tape.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tape).unwrap());
    let t0: i64 = 1_700_000_000_000_000_000;
    for n in 0..EVENTS as i64 {
        let cents = 300_000 + (n / 7 % 40) - 20;
        let (bid, ask) = (cents as f64 / 100.0, (cents + 2) as f64 / 100.0);
        let ts = t0 + n * 1_000_000;
        if n % 3 == 0 {
            writeln!(out, "{ts},trade,ETH-USDT,{ask:.2},0.5,buy").unwrap();
        } else {
            writeln!(out, "{ts},quote,ETH-USDT,{bid:.2},5,{ask:.2},5").unwrap();
        }
    }
    out.flush().unwrap();
    drop(out);
    // The two market makers of every test here, on the tape instead of the live market.
    let replay = "[[instrument]]\nsymbol = \"ETH-USDT\"\ntick_size = \"0.01\"\nlot_size = \"0.01\"\n\n[[feed]]\nname = \"tape\"\nkind = \"replay\"\npath = \"tape.csv\"\nspeed = 0\n";
    let config = config(dir.path(), "", "", "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&support::eth_market(2, 60), replay)
        // Taken between two events, the switch answers in about 50 ms in a debug build,
        // also with the cores loaded three times over; queued behind the market
        // channel's batches (about 260k events) it took 0.7-0.9 s and got a 503 here.
        .replace(
            "rate_limit_burst = 1000",
            "rate_limit_burst = 1000\nengine_timeout_ms = 500",
        );
    std::fs::write(&config, text).unwrap();
    let (daemon, api) = start(&config);
    let read = || {
        let body = api.call("GET", "/metrics", None, None).body;
        body.lines()
            .filter(|l| l.starts_with("pennant_market_events_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as usize
    };
    poll("the replay under way", || (read() > 10_000).then_some(()));
    let scope = r#"{"scope": "global"}"#;
    let reply = api.call("POST", "/api/v1/kill-switch", Some(ADMIN), Some(scope));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        read() < EVENTS,
        "the replay was still running when the switch answered"
    );
    let risk = api.ok("GET", "/api/v1/risk", ADMIN, None);
    assert_eq!(risk["global_state"], "HALTED");
    assert_eq!(
        api.ok("GET", "/api/v1/strategies/mm-a", ADMIN, None)["stats"]["open_orders"],
        0
    );
    stop(daemon);
}
