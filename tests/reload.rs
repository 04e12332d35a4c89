//! Hot reload end to end: the real `pennantd` on a live synthetic market, its strategy
//! folder and configuration changed under it the ways editors, `cp` and `mv` change
//! them, and `SIGHUP`.

mod support;

use pennant_daemon::plugin::cache::content_hash;
use std::path::Path;
use support::Daemon;

const COUNTER: &str = r#"
[[strategy]]
id = "counter"
component = "counter.wasm"
params = { instrument = "ETH-USDT", tag = "TAG" }
"#;

/// A live daemon's configuration with the strategies of `strategies`; written by rename,
/// as an editor saves.
fn write_config(dir: &Path, extra: &str, strategies: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "state"

[api]
listen = "127.0.0.1:0"

[plugins]
dir = "strategies"
# A call budget no well-behaved call reaches on a loaded machine (it is wall time).
call_budget_ms = 5000
reload_debounce_ms = 100
{extra}

{market}{strategies}"#,
        market = support::eth_market(10, 100)
    );
    let path = dir.join("pennant.toml");
    let temp = dir.join(".pennant.toml.swp");
    std::fs::write(&temp, text).unwrap();
    std::fs::rename(&temp, &path).unwrap();
    path
}

/// Saves `bytes` as `name` in `folder` the way `cp x tmp && mv tmp name` does.
fn save_by_rename(folder: &Path, name: &str, bytes: &[u8]) {
    let temp = folder.join(format!(".{name}.part"));
    std::fs::write(&temp, bytes).unwrap();
    std::fs::rename(&temp, folder.join(name)).unwrap();
}

/// The counts a strategy logged, in order, with their tags.
fn counts(output: &[String], strategy: &str) -> Vec<(u64, String)> {
    let needle = format!("strategy={strategy}");
    output
        .iter()
        .filter(|line| line.contains(&needle))
        .filter_map(|line| {
            let rest = &line[line.find("count=")? + "count=".len()..];
            let count = rest.split_whitespace().next()?.parse().ok()?;
            let tag = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("tag="))
                .unwrap_or("")
                .to_owned();
            Some((count, tag))
        })
        .collect()
}

/// Every count from 1 up, once each: the state carried over every reload, never reset
/// or counted twice. (That no event is lost or repeated across a swap is proved exactly,
/// with a digest of every trade, in `tests/engine.rs`.)
fn assert_continuous(counts: &[(u64, String)]) {
    for (k, (count, _)) in counts.iter().enumerate() {
        assert_eq!(*count, k as u64 + 1, "counts jump at {k}: {counts:?}");
    }
}

#[test]
fn the_watcher_swaps_saved_versions_and_applies_config_edits_without_losing_a_trade() {
    let dir = tempfile::tempdir().unwrap();
    let strategies = dir.path().join("strategies");
    std::fs::create_dir(&strategies).unwrap();
    let v0 = support::variant("test_strategy", "v0");
    let v1 = support::variant("test_strategy", "v1");
    let v2 = support::variant("test_strategy", "v2");
    std::fs::write(strategies.join("counter.wasm"), &v0).unwrap();
    // `late` is declared before its file exists: the daemon starts without it.
    let late = r#"
[[strategy]]
id = "late"
component = "late.wasm"
params = { instrument = "ETH-USDT" }
"#;
    // `fixme` refuses its parameters until the configuration is fixed.
    let fixme = |mode: &str| {
        format!(
            "\n[[strategy]]\nid = \"fixme\"\ncomponent = \"counter.wasm\"\nparams = {{ instrument = \"ETH-USDT\", mode = \"{mode}\" }}\n"
        )
    };
    let config = write_config(
        dir.path(),
        "",
        &(COUNTER.replace("TAG", "a") + late + &fixme("init-error")),
    );
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    daemon.wait_for(&["component file not found", "strategy=late"]);
    daemon.wait_for(&["target=fixme", "refusing to start"]);
    daemon.wait_for(&["count=3 tag=a", "strategy=counter"]);

    // A new version saved by rename: swapped in.
    save_by_rename(&strategies, "counter.wasm", &v1);
    daemon.wait_for(&["strategy swapped", "strategy=counter", &content_hash(&v1)]);

    // A partial write is refused, and the old version trades on; once the write
    // completes, the whole file loads.
    let half = &v2[..v2.len() / 2];
    std::fs::write(strategies.join("counter.wasm"), half).unwrap();
    daemon.wait_for(&["refused", "target=counter", &content_hash(half)]);
    let before = counts(&daemon.output(), "counter").len();
    daemon.wait_for(&[&format!("count={} tag=a", before + 2), "strategy=counter"]);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(strategies.join("counter.wasm"))
        .unwrap();
    std::io::Write::write_all(&mut file, &v2[v2.len() / 2..]).unwrap();
    drop(file);
    daemon.wait_for(&["strategy swapped", "strategy=counter", &content_hash(&v2)]);

    // A parameter and a limit edited in the configuration: re-inited with the new
    // parameter, its count carried over, and the limit changed with an audit record.
    let risk = "\n[risk.strategy.counter]\nmax_open_orders = 3\n";
    let fixed = COUNTER.replace("TAG", "b") + late + &fixme("count") + risk;
    write_config(dir.path(), "", &fixed);
    daemon.wait_for(&["strategy reconfigured", "strategy=counter"]);
    daemon.wait_for(&["strategy started", "strategy=fixme"]);
    daemon.wait_for(&["tag=b", "strategy=counter"]);
    daemon.wait_for(&["max_open_orders: Some(3)", "actor=config reload"]);

    // The file of the declared strategy appears: it starts.
    save_by_rename(&strategies, "late.wasm", &v0);
    daemon.wait_for(&["strategy started", "strategy=late"]);

    // Removing the file stops the strategy; saving it again starts it where it was.
    std::fs::remove_file(strategies.join("counter.wasm")).unwrap();
    daemon.wait_for(&["strategy stopped", "strategy=counter", "component file"]);
    save_by_rename(&strategies, "counter.wasm", &v0);
    daemon.wait_for(&["strategy started", "strategy=counter", "restored=true"]);
    let before = counts(&daemon.output(), "counter").len();
    daemon.wait_for(&[&format!("count={} tag=b", before + 2), "strategy=counter"]);

    daemon.signal("TERM");
    let (status, output) = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", output.join("\n"));
    let counts = counts(&output, "counter");
    assert_continuous(&counts);
    // Tagged `a` until the edit, `b` after it, never back.
    let first_b = counts.iter().position(|(_, tag)| tag == "b").unwrap();
    assert!(counts[..first_b].iter().all(|(_, tag)| tag == "a"));
    assert!(counts[first_b..].iter().all(|(_, tag)| tag == "b"));
}

#[test]
fn sighup_reloads_the_configuration_and_a_bad_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let strategies = dir.path().join("strategies");
    std::fs::create_dir(&strategies).unwrap();
    std::fs::write(
        strategies.join("counter.wasm"),
        support::variant("test_strategy", "v0"),
    )
    .unwrap();
    let unwatched = "watch = false";
    let config = write_config(dir.path(), unwatched, &COUNTER.replace("TAG", "a"));
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    daemon.wait_for(&["count=2 tag=a", "strategy=counter"]);

    // Without the watcher, a new file waits for SIGHUP.
    let v1 = support::variant("test_strategy", "v1");
    save_by_rename(&strategies, "counter.wasm", &v1);
    let before = counts(&daemon.output(), "counter").len();
    daemon.wait_for(&[&format!("count={} tag=a", before + 30), "strategy=counter"]);
    assert!(!daemon
        .output()
        .iter()
        .any(|l| l.contains("strategy swapped")));
    daemon.signal("HUP");
    daemon.wait_for(&["strategy swapped", "strategy=counter", &content_hash(&v1)]);

    // A configuration with a mistake: named with its line, and nothing changes.
    write_config(
        dir.path(),
        &format!("{unwatched}\nbogus = 1"),
        &COUNTER.replace("TAG", "b"),
    );
    daemon.signal("HUP");
    daemon.wait_for(&["configuration not reloaded", "parse error at line"]);
    daemon.wait_for(&["unknown field `bogus`"]);
    let before = counts(&daemon.output(), "counter").len();
    daemon.wait_for(&[&format!("count={} tag=a", before + 2), "strategy=counter"]);

    // Fixed, with a second strategy and a change only a restart applies.
    let second = r#"
[[strategy]]
id = "second"
component = "counter.wasm"
params = { instrument = "ETH-USDT" }
"#;
    let text = COUNTER.replace("TAG", "b") + second;
    write_config(dir.path(), &format!("{unwatched}\nseed = 9"), &text);
    daemon.signal("HUP");
    daemon.wait_for(&["take effect at the next restart", "[plugins]"]);
    daemon.wait_for(&["tag=b", "strategy=counter"]);
    daemon.wait_for(&["strategy started", "strategy=second"]);

    // Dropped from the configuration: stopped.
    write_config(dir.path(), unwatched, &COUNTER.replace("TAG", "b"));
    daemon.signal("HUP");
    daemon.wait_for(&[
        "strategy stopped",
        "strategy=second",
        "removed from the configuration",
    ]);

    daemon.signal("TERM");
    let (status, output) = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", output.join("\n"));
    assert_continuous(&counts(&output, "counter"));
    assert!(!output.iter().any(|l| l.contains("watching for strategy")));
}

#[test]
fn an_operator_lists_kept_versions_and_rolls_back_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let strategies = dir.path().join("strategies");
    std::fs::create_dir(&strategies).unwrap();
    let v0 = support::variant("test_strategy", "v0");
    let v1 = support::variant("test_strategy", "v1");
    let (h0, h1) = (content_hash(&v0), content_hash(&v1));
    std::fs::write(strategies.join("counter.wasm"), &v0).unwrap();
    let tokens = format!(
        "\n[[api.token]]\nname = \"viewer\"\nrole = \"viewer\"\nsha256 = \"{}\"\n\
         \n[[api.token]]\nname = \"ops\"\nrole = \"operator\"\nsha256 = \"{}\"\n",
        pennant_daemon::api::hash_token("viewer-token"),
        pennant_daemon::api::hash_token("operator-token"),
    );
    let config = write_config(dir.path(), "", &(COUNTER.replace("TAG", "a") + &tokens));
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    let api = support::api::Api::of(&daemon);
    daemon.wait_for(&["count=2 tag=a", "strategy=counter"]);
    save_by_rename(&strategies, "counter.wasm", &v1);
    daemon.wait_for(&["strategy swapped", "strategy=counter", &h1]);

    let versions = |token| {
        let list = api.ok("GET", "/api/v1/strategies/counter/versions", token, None);
        list["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let outcome = v["outcome"].as_str().unwrap().to_owned();
                let can = v["can_roll_back"].as_bool().unwrap();
                (v["version"].as_str().unwrap().to_owned(), outcome, can)
            })
            .collect::<Vec<_>>()
    };
    let running = |hash: &str| (hash.to_owned(), "current".to_owned(), false);
    let kept = |hash: &str| (hash.to_owned(), "replaced".to_owned(), true);
    // Newest first; a viewer may read them.
    assert_eq!(versions("viewer-token"), vec![running(&h1), kept(&h0)]);

    let rollback = "/api/v1/strategies/counter/rollback";
    let to = |hash: &str| format!(r#"{{"version": "{hash}"}}"#);
    api.call("POST", rollback, Some("viewer-token"), Some(&to(&h0)))
        .error(403, "forbidden");
    api.call("POST", rollback, Some("operator-token"), Some(&to("f00d")))
        .error(409, "conflict");
    api.call(
        "POST",
        rollback,
        Some("operator-token"),
        Some(r#"{"hash": "x"}"#),
    )
    .error(400, "bad_request");
    api.call(
        "POST",
        "/api/v1/strategies/nobody/rollback",
        Some("operator-token"),
        None,
    )
    .error(404, "not_found");
    api.call(
        "GET",
        "/api/v1/strategies/nobody/versions",
        Some("viewer-token"),
        None,
    )
    .error(404, "not_found");
    // Nothing changed by the refusals.
    assert_eq!(versions("viewer-token"), vec![running(&h1), kept(&h0)]);

    let back = api.ok("POST", rollback, "operator-token", Some(&to(&h0)));
    assert_eq!(
        back,
        serde_json::json!({"strategy": "counter", "version": h0, "state": "running"})
    );
    daemon.wait_for(&["strategy rolled back", "strategy=counter", "actor=api:ops"]);
    let shown = api.ok("GET", "/api/v1/strategies/counter", "viewer-token", None);
    assert_eq!(shown["version"], h0.as_str());
    assert_eq!(versions("viewer-token")[0], running(&h0));
    assert!(versions("viewer-token").contains(&kept(&h1)));
    // It trades on from where it was: the count goes on.
    let before = counts(&daemon.output(), "counter").len();
    daemon.wait_for(&[&format!("count={} tag=a", before + 2), "strategy=counter"]);

    // No body: back to the one before, the newer version.
    let forth = api.ok("POST", rollback, "operator-token", None);
    assert_eq!(forth["version"], h1.as_str());

    daemon.signal("TERM");
    let (status, output) = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", output.join("\n"));
    assert_continuous(&counts(&output, "counter"));
}
