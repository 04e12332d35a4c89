//! A pass's changes from what is on disk and what the engine last applied.

use super::*;
use crate::plugin::{PluginSettings, SharedClock};

/// A reloader for one strategy `s` whose component is `s.wasm` in `dir`.
fn reloader(dir: &Path, params: &str) -> Reloader {
    let text = format!(
        r#"
[plugins]
dir = "."
reload_debounce_ms = 50

[[instrument]]
symbol = "BTC-USDT"
tick_size = "0.1"
lot_size = "0.001"

[[strategy]]
id = "s"
component = "s.wasm"
params = {{ {params} }}
"#
    );
    let path = dir.join("pennant.toml");
    std::fs::write(&path, &text).unwrap();
    let config = Config::parse(&text, &path, dir.to_owned()).unwrap();
    let settings = PluginSettings {
        memory_limit_bytes: 1 << 20,
        call_budget: Duration::from_millis(10),
        cache_dir: dir.join("cache"),
        seed: 0,
    };
    let plugins = Arc::new(PluginHost::new(settings, SharedClock::default()).unwrap());
    Reloader::new(config, plugins)
}

fn kinds(pass: &Pass) -> Vec<&'static str> {
    pass.changes
        .iter()
        .map(|c| match c {
            Change::Deploy(_) => "deploy",
            Change::Reconfigure { .. } => "reconfigure",
            Change::Stop { .. } => "stop",
            Change::Refuse { .. } => "refuse",
            Change::Restart { .. } => "restart",
            Change::Limits { .. } => "limits",
        })
        .collect()
}

/// As if the reloader had deployed `bytes` with no parameters.
fn pretend_applied(reloader: &mut Reloader, bytes: &[u8], outcome: Outcome) {
    reloader.applied.insert(
        "s".into(),
        Applied {
            hash: Some(content_hash(bytes)),
            params: Vec::new(),
            open_orders: OpenOrders::Cancel,
            outcome,
            missing_since: None,
        },
    );
}

#[test]
fn a_file_gone_for_less_than_the_debounce_does_not_stop_the_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let mut reloader = reloader(dir.path(), "");
    pretend_applied(&mut reloader, b"running", Outcome::Applied);
    let pass = reloader.prepare(false);
    assert!(pass.changes.is_empty());
    assert!(pass.retry, "looks again after the debounce");
    // Back, unchanged: nothing to do.
    std::fs::write(dir.path().join("s.wasm"), b"running").unwrap();
    assert!(reloader.prepare(false).changes.is_empty());
    // Gone for longer: stopped.
    std::fs::remove_file(dir.path().join("s.wasm")).unwrap();
    assert!(reloader.prepare(false).changes.is_empty());
    if let Some(applied) = reloader.applied.get_mut("s") {
        applied.missing_since = Some(Instant::now() - Duration::from_secs(1));
    }
    let pass = reloader.prepare(false);
    assert_eq!(kinds(&pass), ["stop"]);
    assert!(reloader.prepare(false).changes.is_empty(), "stopped once");
}

#[test]
fn new_settings_re_init_a_running_file_but_redeploy_one_that_failed_to_start() {
    let dir = tempfile::tempdir().unwrap();
    // Not a component: a deploy attempt shows as a refusal.
    std::fs::write(dir.path().join("s.wasm"), b"bytes").unwrap();
    let mut unchanged = reloader(dir.path(), "");
    pretend_applied(&mut unchanged, b"bytes", Outcome::Applied);
    assert!(unchanged.prepare(false).changes.is_empty());

    let mut running = reloader(dir.path(), "k = 1");
    pretend_applied(&mut running, b"bytes", Outcome::Applied);
    assert_eq!(kinds(&running.prepare(false)), ["reconfigure"]);

    let mut failed = reloader(dir.path(), "k = 1");
    pretend_applied(&mut failed, b"bytes", Outcome::Failed);
    assert_eq!(kinds(&failed.prepare(false)), ["refuse"]);
    // Refused: the same bytes are not tried again, whatever the settings.
    failed.applied.get_mut("s").unwrap().params.clear();
    assert!(failed.prepare(false).changes.is_empty());
}

#[test]
fn settle_marks_what_the_engine_could_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let mut reloader = reloader(dir.path(), "");
    pretend_applied(&mut reloader, b"x", Outcome::Applied);
    reloader.settle(&[ChangeOutcome {
        target: "s".into(),
        result: Err("init refused".into()),
    }]);
    assert_eq!(reloader.applied["s"].outcome, Outcome::Failed);
}
