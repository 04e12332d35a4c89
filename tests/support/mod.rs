//! Shared by the integration tests: building the strategy components, and running the
//! real `pennantd` binary while watching its log.

#![allow(dead_code)] // each test file uses its own part of this module

pub mod api;
pub mod notify;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a test waits for something before failing. Generous: the machine may be busy.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// The repository root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("daemon/ has a parent")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// The folder holding every strategy component, built once per test process with the
/// same command as `cargo xtask build-strategies`.
pub fn components_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(workspace())
            .args(["build", "--target", "wasm32-wasip2", "--profile", "wasm"])
            .args([
                "-p",
                "sma-cross",
                "-p",
                "market-maker",
                "-p",
                "test-strategy",
                "-p",
                "contract-v0-1",
                "-p",
                "contract-v0-2",
            ])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the strategy components failed");
        target_dir().join("wasm32-wasip2").join("wasm")
    })
}

/// The market maker, compiled in, as strategy `mm` (its orders canceled when it stops).
pub fn native_market_maker(params: &[(&str, &str)]) -> pennant_daemon::engine::StrategySpec {
    pennant_daemon::engine::StrategySpec {
        id: "mm".into(),
        code: pennant_daemon::engine::StrategyCode::native::<market_maker::MarketMaker>(),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        open_orders: pennant_daemon::config::OpenOrders::Cancel,
    }
}

/// The path of a built component, e.g. `component("test_strategy")`.
pub fn component(name: &str) -> PathBuf {
    components_dir().join(format!("{name}.wasm"))
}

/// Another version of a built component: the same code under another content hash.
pub fn variant(name: &str, label: &str) -> Vec<u8> {
    let bytes = std::fs::read(component(name)).expect("the component is built");
    pennant_daemon::plugin::cache::relabel(&bytes, label)
}

/// The configuration sections of a live ETH-USDT market: the instrument and a synthetic
/// feed stepping every `interval_ms`, with a trade on `trade_percent` of the steps.
pub fn eth_market(interval_ms: u32, trade_percent: u8) -> String {
    format!(
        r#"
[[instrument]]
symbol = "ETH-USDT"
tick_size = "0.01"
lot_size = "0.01"

[[feed]]
name = "synthetic"
kind = "synthetic"
interval_ms = {interval_ms}
instruments.ETH-USDT = {{ start_price = "3000", step_bps = 5, trade_percent = {trade_percent} }}
"#
    )
}

/// Polls `check` until it returns `Some`, or panics with `what` after [`DEADLINE`].
pub fn poll<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `pennantd`, its stderr collected line by line.
pub struct Daemon {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Daemon {
    /// Starts `pennantd` with these arguments.
    pub fn start(args: &[&str]) -> Daemon {
        Daemon::start_with_env(args, &[])
    }

    /// Starts `pennantd` with these arguments and environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pennantd"))
            .args(args)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pennantd starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        for stream in [
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let sink = lines.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    sink.lock().expect("log lock").push(line);
                }
            }));
        }
        Daemon {
            child,
            lines,
            readers,
        }
    }

    /// Everything logged so far.
    pub fn output(&self) -> Vec<String> {
        self.lines.lock().expect("log lock").clone()
    }

    /// Waits for a line containing every one of `parts`; returns it.
    pub fn wait_for(&self, parts: &[&str]) -> String {
        poll(&format!("a log line with {parts:?}"), || {
            self.output()
                .into_iter()
                .find(|line| parts.iter().all(|p| line.contains(p)))
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// SIGTERM, then waits for a clean exit (status 0, else the test fails with the
    /// output); returns the whole output.
    pub fn stop(self) -> Vec<String> {
        self.signal("TERM");
        let (status, output) = self.wait_exit();
        assert!(status.success(), "{}", output.join("\n"));
        output
    }

    /// Waits for the process to exit; returns its status and its whole output.
    pub fn wait_exit(mut self) -> (ExitStatus, Vec<String>) {
        let status = poll("pennantd to exit", || {
            self.child.try_wait().expect("try_wait works")
        });
        // The readers end with the process's output streams.
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let output = self.output();
        (status, output)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
