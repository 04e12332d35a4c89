//! The session recorder end to end: the real `pennantd` trading on the synthetic feed
//! with the paper venue, a hot reload, a limits change and a kill switch in the session;
//! then `pennantd replay-session` runs the recording on a fresh engine and must come to
//! the same orders, fills and PnL, bit for bit. A changed session must not.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::api::Api;
use support::{poll, Daemon};

const ADMIN: &str = "admin-secret";

fn write_config(dir: &Path) -> PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "state"

[api]
listen = "127.0.0.1:0"
rate_limit_per_second = 1000
rate_limit_burst = 1000

[[api.token]]
name = "admin"
role = "admin"
sha256 = "{admin}"

[plugins]
dir = "strategies"
# A call budget no well-behaved call reaches on a loaded machine (it is wall time).
call_budget_ms = 5000
reload_debounce_ms = 100

[recorder]
enabled = true
# Small files: the session spans several.
segment_mib = 1

# The instrument trades on the first (and only) venue.
[[venue]]
name = "sim"
kind = "paper"
maker_fee_bps = "-0.5"
taker_fee_bps = "4"
latency_ms = 3

{market}
[[strategy]]
id = "mm-a"
component = "market_maker.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.5", max_position = "5", half_spread_bps = 1, requote_ticks = 50 }}

[[strategy]]
id = "mm-b"
component = "market_maker.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.3", max_position = "3", half_spread_bps = 1, requote_ticks = 40 }}
"#,
        admin = pennant_daemon::api::hash_token(ADMIN),
        market = support::eth_market(1, 60),
    );
    let path = dir.join("pennant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn strategy(api: &Api, id: &str) -> Value {
    api.ok("GET", &format!("/api/v1/strategies/{id}"), ADMIN, None)
}

fn more_fills(api: &Api, id: &str, more: u64) {
    let fills = |api: &Api| strategy(api, id)["stats"]["fills"].as_u64().unwrap_or(0);
    let before = fills(api);
    poll(&format!("{more} more fills of {id}"), || {
        (fills(api) >= before + more).then_some(())
    });
}

/// `pennantd replay-session DIR`: exit code and stdout.
fn replay(session: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pennantd"))
        .args(["replay-session", session.to_str().unwrap()])
        .env_remove("RUST_LOG")
        .output()
        .expect("pennantd runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

/// The recorded and replayed values of a row of the report (`fills  12  12`).
/// Runs a backtest to its end; checks its log says `finished` (the replay's summary) and
/// returns what it logs of mm-a's final position (after the message: the fields).
fn backtest_position(config: &Path, finished: &str) -> String {
    let run = Daemon::start(&["--config", config.to_str().unwrap()]);
    let (status, output) = run.wait_exit();
    let log = output.join("\n");
    assert!(status.success(), "{log}");
    assert!(log.contains(finished), "{log}");
    output
        .iter()
        .filter(|l| l.contains("strategy=mm-a"))
        .find_map(|l| l.split_once("final position"))
        .map(|(_, fields)| fields.to_owned())
        .unwrap_or_else(|| panic!("no final position:\n{log}"))
}

fn row(report: &str, name: &str) -> (String, String) {
    let line = report
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} row in:\n{report}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    (cells[1].to_owned(), cells[2].to_owned())
}

#[test]
fn a_recorded_session_replays_to_the_same_orders_fills_and_pnl() {
    let dir = tempfile::tempdir().unwrap();
    let strategies = dir.path().join("strategies");
    std::fs::create_dir(&strategies).unwrap();
    let v0 = support::variant("market_maker", "v0");
    std::fs::write(strategies.join("market_maker.wasm"), &v0).unwrap();
    let config = write_config(dir.path());
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    let api = Api::of(&daemon);
    daemon.wait_for(&["recording the session"]);
    more_fills(&api, "mm-a", 3);

    // A hot reload: both strategies move to a new version of their component.
    let v1 = support::variant("market_maker", "v1");
    let v1_hash = pennant_daemon::plugin::cache::content_hash(&v1);
    let temp = strategies.join(".market_maker.wasm.part");
    std::fs::write(&temp, &v1).unwrap();
    std::fs::rename(&temp, strategies.join("market_maker.wasm")).unwrap();
    poll("the new version to run", || {
        (strategy(&api, "mm-a")["version"] == v1_hash.as_str()).then_some(())
    });
    more_fills(&api, "mm-a", 3);

    // A limits change and a kill switch, engaged and released, with trading around them.
    let limits = r#"{"scope": "strategy", "id": "mm-b", "limits": {"max_order_qty": "0.4"}}"#;
    api.ok("PUT", "/api/v1/risk/limits", ADMIN, Some(limits));
    let global = r#"{"scope": "global"}"#;
    let killed = api.ok("POST", "/api/v1/kill-switch", ADMIN, Some(global));
    assert_eq!(killed["state"], "HALTED");
    api.ok("DELETE", "/api/v1/kill-switch", ADMIN, Some(global));
    more_fills(&api, "mm-b", 3);

    // The recorder shows in the metrics: recording, and how much it keeps.
    let metrics = api.call("GET", "/metrics", None, None).body;
    assert!(
        metrics.contains("pennant_recorder_recording 1"),
        "{metrics}"
    );
    let kept: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("pennant_recorder_session_bytes "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no pennant_recorder_session_bytes in\n{metrics}"));
    assert!(kept > 1000.0, "{kept}");

    daemon.signal("TERM");
    let (status, output) = daemon.wait_exit();
    assert!(status.success(), "pennantd exited with {status}");
    assert!(output.iter().any(|l| l.contains("session recorded")));

    let sessions: Vec<PathBuf> = std::fs::read_dir(dir.path().join("state/sessions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let session = &sessions[0];
    let kept = std::fs::read_dir(session.join("components"))
        .unwrap()
        .count();
    assert_eq!(kept, 2, "both versions are kept with the session");

    let (code, report) = replay(session);
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("same orders, fills and PnL as recorded"),
        "{report}"
    );
    let (recorded, replayed) = row(&report, "fills");
    assert_eq!(recorded, replayed, "{report}");
    assert!(recorded.parse::<u64>().unwrap() >= 9, "{report}");
    let (recorded, replayed) = row(&report, "orders");
    assert_eq!(recorded, replayed, "{report}");

    // The market data the session saw is a replay file: every recorded event, which a
    // backtest reads without a malformed line and trades on.
    let events: u64 = report
        .lines()
        .find_map(|l| l.split_once(" inputs (")?.1.strip_suffix(" market events)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no market event count in:\n{report}"));
    let tape = dir.path().join("tape.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_pennantd"))
        .args(["export-session", session.to_str().unwrap(), "--out"])
        .arg(&tape)
        .output()
        .expect("pennantd runs");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("exported {events} market events")),
        "{said}"
    );
    let backtest_dir = dir.path().join("backtest");
    std::fs::create_dir(&backtest_dir).unwrap();
    let backtest = backtest_dir.join("pennant.toml");
    std::fs::write(
        &backtest,
        format!(
            r#"
[daemon]
state_dir = "state"
exit_when_feeds_end = true

[api]
listen = "127.0.0.1:0"

[plugins]
dir = "{strategies}"
call_budget_ms = 5000

[[instrument]]
symbol = "ETH-USDT"
tick_size = "0.01"
lot_size = "0.01"

[[feed]]
name = "recorded"
kind = "replay"
path = "{tape}"

[[strategy]]
id = "mm-a"
component = "market_maker.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.5", max_position = "5", half_spread_bps = 1, requote_ticks = 50 }}
"#,
            strategies = strategies.display(),
            tape = tape.display(),
        ),
    )
    .unwrap();
    let position = backtest_position(
        &backtest,
        &format!("events={events} malformed=0 binary=false"),
    );
    assert!(!position.contains("fills=0 "), "{position}");

    // The same tape converted to the binary format backtests to the same final
    // position, fills and PnL.
    let binary = dir.path().join("tape.bin");
    let out = Command::new(env!("CARGO_BIN_EXE_pennantd"))
        .arg("convert-replay")
        .arg(&tape)
        .arg("--out")
        .arg(&binary)
        .output()
        .expect("pennantd runs");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("converted {events} market events of 1 symbols")),
        "{said}"
    );
    let text_config = std::fs::read_to_string(&backtest).unwrap();
    std::fs::write(
        &backtest,
        text_config.replace(&tape.display().to_string(), &binary.display().to_string()),
    )
    .unwrap();
    let from_binary = backtest_position(
        &backtest,
        &format!("events={events} malformed=0 binary=true"),
    );
    assert_eq!(from_binary, position);

    // Replaying is repeatable, and the comparison can fail: with another maker fee in
    // the session's configuration the fills' fees, and so the PnL, differ.
    let (code, again) = replay(session);
    assert_eq!((code, &again), (0, &report));
    let config = session.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(r#"maker_fee_bps = "-0.5""#, r#"maker_fee_bps = "-2""#),
    )
    .unwrap();
    let (code, changed) = replay(session);
    assert_eq!(code, 1, "{changed}");
    assert!(
        changed.contains("DIFFERENT from the recording"),
        "{changed}"
    );

    // A damaged session is refused with a reason, not replayed in part.
    let first = session.join("inputs-00000.rec");
    let mut bytes = std::fs::read(&first).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&first, bytes).unwrap();
    let (code, damaged) = replay(session);
    assert_eq!(code, 70, "{damaged}");
    assert!(damaged.contains("not a session file"), "{damaged}");
}
