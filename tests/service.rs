//! The systemd protocol with the real `pennantd`: sd_notify messages read from a Unix
//! datagram socket the test owns, as systemd would, with the watchdog asked for.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::notify::Notifications;
use support::Daemon;

/// The watchdog interval asked for; pennantd pings at half of it.
const WATCHDOG: Duration = Duration::from_millis(400);

fn config(dir: &Path, params: &str, budget_ms: u32) -> std::path::PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "state"

[api]
listen = "127.0.0.1:0"

[plugins]
dir = "{strategies}"
call_budget_ms = {budget_ms}

{market}
[[strategy]]
id = "counter"
component = "test_strategy.wasm"
params = {{ instrument = "ETH-USDT", {params} }}
"#,
        strategies = support::components_dir().display(),
        market = support::eth_market(10, 100)
    );
    let path = dir.join("pennant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start(dir: &Path, config: &Path) -> (Daemon, Notifications) {
    let socket = dir.join("notify.sock");
    let notifications = Notifications::listen(&socket);
    let usec = WATCHDOG.as_micros().to_string();
    let daemon = Daemon::start_with_env(
        &["--config", config.to_str().unwrap()],
        &[
            ("NOTIFY_SOCKET", socket.to_str().unwrap()),
            ("WATCHDOG_USEC", &usec),
        ],
    );
    (daemon, notifications)
}

#[test]
fn ready_watchdog_reloading_and_stopping_reach_systemd() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "mode = \"count\"", 5_000);
    let (daemon, notify) = start(dir.path(), &config);
    let ready = notify.wait_for("READY=1", 0);
    assert!(notify.all()[ready]
        .1
        .contains("STATUS=1/1 strategies running"));
    // Pings from the engine loop, at half the interval, not more often.
    support::poll("three watchdog pings", || {
        (notify.pings().len() >= 3).then_some(())
    });
    // Not more often than every half interval: counted over the span they cover (arrival
    // times can bunch, so no pair is compared).
    let pings = notify.pings();
    let span = *pings.last().unwrap() - pings[0];
    let most = (span.as_secs_f64() / (WATCHDOG / 2).as_secs_f64()).floor() as usize + 2;
    assert!(pings.len() <= most, "{} pings in {span:?}", pings.len());
    // `pennantd reload` (systemd's ExecReload) sends SIGHUP and returns once the reload
    // is done; systemd heard RELOADING=1 with the monotonic time, then READY=1 again.
    let before = notify.all().len();
    let pid = daemon.pid().to_string();
    let (status, output) = Daemon::start(&[
        "reload",
        "--pid",
        &pid,
        "--config",
        config.to_str().unwrap(),
    ])
    .wait_exit();
    assert_eq!(status.code(), Some(0), "{output:?}");
    assert!(
        output.iter().any(|l| l.starts_with("1 ok reloaded")),
        "{output:?}"
    );
    let reloading = notify.wait_for("RELOADING=1", before);
    assert!(notify.all()[reloading].1.contains("MONOTONIC_USEC="));
    notify.wait_for("READY=1", reloading);
    // A reload the daemon refuses (a broken configuration) fails `pennantd reload`, and
    // systemd still hears READY=1: the old configuration runs on.
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{good}\nbogus = 1\n")).unwrap();
    let before = notify.all().len();
    let (status, output) = Daemon::start(&[
        "reload",
        "--pid",
        &pid,
        "--config",
        config.to_str().unwrap(),
    ])
    .wait_exit();
    assert_ne!(status.code(), Some(0), "{output:?}");
    assert!(
        output
            .iter()
            .any(|l| l.contains("2 failed configuration not reloaded")),
        "{output:?}"
    );
    notify.wait_for("READY=1", before);
    std::fs::write(&config, good).unwrap();
    // SIGTERM: STOPPING=1, and a clean exit.
    let before = notify.all().len();
    daemon.signal("TERM");
    notify.wait_for("STOPPING=1", before);
    let (status, output) = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", output.join("\n"));
}

#[test]
fn a_stuck_engine_stops_the_watchdog_pings() {
    let dir = tempfile::tempdir().unwrap();
    // The fifth trade sends the strategy into an endless loop, and the time budget is
    // far away: the engine thread is stuck.
    let config = config(dir.path(), "mode = \"loop\", trigger = 5", 600_000);
    let (daemon, notify) = start(dir.path(), &config);
    notify.wait_for("READY=1", 0);
    daemon.wait_for(&["count=5", "strategy=counter"]);
    let stuck = Instant::now();
    // However long we look from now, no ping comes: a few intervals are plenty.
    support::poll("several watchdog intervals to pass", || {
        (stuck.elapsed() >= WATCHDOG * 4).then_some(())
    });
    let late: Vec<_> = notify
        .pings()
        .into_iter()
        .filter(|&at| at > stuck + WATCHDOG)
        .collect();
    assert!(late.is_empty(), "{} pings from a stuck engine", late.len());
    daemon.signal("KILL");
}
