//! End to end: the real `pennantd` binary, real strategy components, a replay file.

mod support;

use std::path::Path;
use support::Daemon;

/// 2023-11-14T22:13:20Z, on a whole second.
const T0: i64 = 1_700_000_000_000_000_000;
const SECOND: i64 = 1_000_000_000;

/// One quote and one trade a second, closing 1-second bars at these prices: falling for
/// five bars, then a jump that crosses the 2-bar average over the 4-bar one.
const CLOSES: [&str; 7] = ["100", "99", "98", "97", "96", "110", "110"];

fn replay_file(dir: &Path) -> std::path::PathBuf {
    let mut text = String::from("# ts_ns,trade,symbol,price,qty,aggressor\n");
    for (k, close) in CLOSES.iter().enumerate() {
        let at = T0 + k as i64 * SECOND;
        let price: f64 = close.parse().unwrap();
        text += &format!(
            "{},quote,BTC-USDT,{:.1},10,{:.1},10\n",
            at + SECOND / 10,
            price - 0.1,
            price + 0.1
        );
        text += &format!("{},trade,BTC-USDT,{close},1,buy\n", at + SECOND / 5);
        if k == 2 {
            // Malformed lines are counted and skipped; the replay goes on.
            text += &format!("{},trade,BTC-USDT,not-a-price,1,buy\n", at + SECOND / 4);
            text += "garbage\n";
        }
    }
    let path = dir.join("tape.csv");
    std::fs::write(&path, text).unwrap();
    path
}

const SMA: &str = r#"
[[strategy]]
id = "sma"
component = "sma_cross.wasm"
params = { instrument = "BTC-USDT", qty = "0.5", fast = 2, slow = 4, bar_interval_ms = 1000 }
"#;

fn config(dir: &Path, strategies_dir: &Path) -> std::path::PathBuf {
    config_with(dir, strategies_dir, SMA)
}

fn config_with(dir: &Path, strategies_dir: &Path, strategies: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
[daemon]
id = "e2e"
state_dir = "state"
exit_when_feeds_end = true

[api]
listen = "127.0.0.1:0"

[plugins]
dir = "{strategies_dir}"
# A call budget no well-behaved call reaches on a loaded machine (it is wall time).
call_budget_ms = 5000

[paper]
taker_fee_bps = "10"

[[instrument]]
symbol = "BTC-USDT"
tick_size = "0.1"
lot_size = "0.001"

[[feed]]
name = "tape"
kind = "replay"
path = "tape.csv"
{strategies}"#,
        strategies_dir = strategies_dir.display()
    );
    let path = dir.join("pennant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn replays_a_file_trades_on_it_and_reports_the_positions_it_implies() {
    let dir = tempfile::tempdir().unwrap();
    replay_file(dir.path());
    let config = config(dir.path(), support::components_dir());
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    let (status, output) = daemon.wait_exit();
    let log = output.join("\n");
    assert!(status.success(), "pennantd failed: {status}\n{log}");

    // Both malformed lines were skipped, each named by file and line.
    assert!(
        log.contains("skipping malformed line: bad price \"not-a-price\""),
        "{log}"
    );
    assert!(log.contains("line=8"), "{log}");
    assert!(log.contains("line=9"), "{log}");
    assert!(log.contains("events=14 malformed=2"), "{log}");

    // The cross happens when bar 5 (close 110) closes, at the first event of second 6:
    // a market buy of 0.5 fills at the ask of the last quote, 110.1, paying 10 bps.
    let summary = output
        .iter()
        .find(|l| l.contains("final position") && l.contains("strategy=sma"))
        .unwrap_or_else(|| panic!("no final position line:\n{log}"));
    for expected in [
        "instrument=BTC-USDT",
        "position=0.5 ",
        "avg_price=110.1 ",
        "realized_pnl=0 ",
        "unrealized_pnl=-0.05 ",
        "fees=0.05505 ",
        "orders=1 ",
        "fills=1 ",
    ] {
        assert!(
            summary.contains(expected),
            "missing {expected:?} in {summary}"
        );
    }
    assert!(log.contains("signal: sma 2/4 cross"), "{log}");
}

#[test]
fn check_config_accepts_a_good_configuration() {
    let dir = tempfile::tempdir().unwrap();
    replay_file(dir.path());
    let config = config(dir.path(), support::components_dir());
    let (status, output) =
        Daemon::start(&["check-config", "--config", config.to_str().unwrap()]).wait_exit();
    assert_eq!(status.code(), Some(0), "{output:?}");
    assert!(output.iter().any(|l| l == "strategy sma: ok"), "{output:?}");
}

#[test]
fn check_config_names_an_unknown_key_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), support::components_dir());
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("lot_size =", "lot_sise =");
    std::fs::write(&config, text).unwrap();
    let (status, output) =
        Daemon::start(&["check-config", "--config", config.to_str().unwrap()]).wait_exit();
    assert_eq!(status.code(), Some(78));
    let log = output.join("\n");
    assert!(
        log.contains("line 21") && log.contains("unknown field `lot_sise`"),
        "{log}"
    );
}

#[test]
fn check_config_refuses_a_bad_component_and_bad_parameters() {
    let dir = tempfile::tempdir().unwrap();
    replay_file(dir.path());
    let strategies = dir.path().join("strategies");
    std::fs::create_dir(&strategies).unwrap();
    std::fs::write(strategies.join("sma_cross.wasm"), b"\0asm garbage").unwrap();
    let config = config(dir.path(), &strategies);
    let (status, output) =
        Daemon::start(&["check-config", "--config", config.to_str().unwrap()]).wait_exit();
    assert_eq!(status.code(), Some(78));
    assert!(
        output
            .join("\n")
            .contains("sma_cross.wasm is not a valid WebAssembly component"),
        "{output:?}"
    );

    let config = self::config(dir.path(), support::components_dir());
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("fast = 2", "fast = 9");
    std::fs::write(&config, text).unwrap();
    let (status, output) =
        Daemon::start(&["check-config", "--config", config.to_str().unwrap()]).wait_exit();
    assert_eq!(status.code(), Some(78));
    assert!(
        output.join("\n").contains(
            "strategy sma refused its parameters: need 0 < fast < slow, got fast = 9, slow = 4"
        ),
        "{output:?}"
    );
}

#[test]
fn sigterm_stops_a_live_daemon_cleanly_with_a_final_summary() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
[daemon]
state_dir = "state"
summary_interval_secs = 1

[api]
listen = "127.0.0.1:0"

[plugins]
dir = "{strategies}"
# A call budget no well-behaved call reaches on a loaded machine (it is wall time).
call_budget_ms = 5000

[[instrument]]
symbol = "ETH-USDT"
tick_size = "0.01"
lot_size = "0.01"

[[feed]]
name = "synthetic"
kind = "synthetic"
interval_ms = 10
instruments.ETH-USDT = {{ start_price = "3000", step_bps = 5 }}

[[strategy]]
id = "mm"
component = "market_maker.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.5", max_position = "2", half_spread_bps = 2 }}
"#,
        strategies = support::components_dir().display()
    );
    let config = dir.path().join("pennant.toml");
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    // Wait until the engine has run the market maker for a while, then stop it.
    daemon.wait_for(&["status", "strategy=mm"]);
    daemon.signal("TERM");
    let (status, output) = daemon.wait_exit();
    let log = output.join("\n");
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("shutting down signal=SIGTERM"), "{log}");
    assert!(log.contains("engine stopped canceled_orders="), "{log}");
    assert!(
        output
            .iter()
            .any(|l| l.contains("final") && l.contains("strategy=mm state=running")),
        "{log}"
    );
}

#[test]
fn a_panicking_strategy_is_quarantined_with_its_message_while_another_trades_on() {
    let dir = tempfile::tempdir().unwrap();
    replay_file(dir.path());
    let strategies = r#"
[[strategy]]
id = "trapper"
component = "test_strategy.wasm"
params = { instrument = "BTC-USDT", mode = "trap", trigger = 3 }

[[strategy]]
id = "buyer"
component = "test_strategy.wasm"
params = { instrument = "BTC-USDT", mode = "order", trigger = 5, qty = "0.25" }
"#;
    let config = config_with(dir.path(), support::components_dir(), strategies);
    let (status, output) = Daemon::start(&["--config", config.to_str().unwrap()]).wait_exit();
    let log = output.join("\n");
    assert!(status.success(), "{log}");
    let panic = output
        .iter()
        .find(|l| l.contains("strategy=trapper") && l.contains("deliberate panic at trade 3"))
        .unwrap_or_else(|| panic!("the panic message is not in the log:\n{log}"));
    assert!(panic.contains("output: "), "{panic}");
    assert!(
        output
            .iter()
            .any(|l| l.contains("strategy quarantined: it trapped")
                && l.contains("strategy=trapper")),
        "{log}"
    );
    let buyer = output
        .iter()
        .find(|l| l.contains("final position") && l.contains("strategy=buyer"))
        .unwrap_or_else(|| panic!("no final position for the buyer:\n{log}"));
    assert!(
        buyer.contains("position=0.25 ") && buyer.contains("state=running"),
        "{buyer}"
    );
    assert!(
        output.iter().any(|l| l.contains("final strategy")
            && l.contains("strategy=trapper")
            && l.contains("state=quarantined")),
        "{log}"
    );
}

#[test]
fn a_backtest_clock_starts_at_the_first_event() {
    let dir = tempfile::tempdir().unwrap();
    replay_file(dir.path());
    let strategies = r#"
[[strategy]]
id = "probe"
component = "test_strategy.wasm"
params = { instrument = "BTC-USDT", mode = "probe", trigger = 100 }
"#;
    let config = config_with(dir.path(), support::components_dir(), strategies);
    let (status, output) = Daemon::start(&["--config", config.to_str().unwrap()]).wait_exit();
    let log = output.join("\n");
    assert!(status.success(), "{log}");
    // The first line of the replay file is a quote at T0 + 0.1 s.
    assert!(
        log.contains(&format!("init now={}", T0 + SECOND / 10)),
        "{log}"
    );
}

#[test]
fn a_missing_replay_file_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    // No tape.csv written.
    let config = config(dir.path(), support::components_dir());
    for args in [
        vec!["check-config", "--config", config.to_str().unwrap()],
        vec!["--config", config.to_str().unwrap()],
    ] {
        let (status, output) = Daemon::start(&args).wait_exit();
        let log = output.join("\n");
        assert_eq!(status.code(), Some(78), "{log}");
        assert!(
            log.contains("feed tape: cannot read") && log.contains("tape.csv"),
            "{log}"
        );
        assert!(!log.contains("pennantd started"), "{log}");
    }
}

/// A backtest configuration over the shipped sample (`tests/data/eth-sample.csv`):
/// sma-cross and the market maker on ETH-USDT, 5 ms of venue latency, maker rebates and
/// taker fees.
fn backtest_config(dir: &Path) -> std::path::PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "state"
exit_when_feeds_end = true
log_level = "warn"

[api]
enabled = false

[plugins]
dir = {strategies:?}

[paper]
latency_ms = 5
maker_fee_bps = "-0.5"
taker_fee_bps = "4"

[[instrument]]
symbol = "ETH-USDT"
tick_size = "0.01"
lot_size = "0.01"

[[feed]]
name = "sample"
kind = "replay"
path = {sample:?}

[[strategy]]
id = "sma"
component = "sma_cross.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.1", fast = 3, slow = 8, bar_interval_ms = 2000 }}

[[strategy]]
id = "mm"
component = "market_maker.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.1", max_position = "1", half_spread_bps = 2 }}
"#,
        strategies = support::components_dir().display().to_string(),
        sample = support::workspace()
            .join("tests/data/eth-sample.csv")
            .display()
            .to_string(),
    );
    let path = dir.join("pennant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `pennantd backtest` with `args`.
fn backtest(config: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pennantd"))
        .arg("--config")
        .arg(config)
        .arg("backtest")
        .args(args)
        .output()
        .unwrap()
}

/// Runs `pennantd backtest` with `args` into `out`, which must succeed, and reads its
/// `report.json`.
fn backtest_report(config: &Path, out: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let run = backtest(config, &all);
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// The last trade price of the sample (the engine's mark at the end), and its first and
/// last price (a trade's, or a quote's mid), from the file itself.
fn sample_prices() -> (f64, f64, f64) {
    let text =
        std::fs::read_to_string(support::workspace().join("tests/data/eth-sample.csv")).unwrap();
    let mut prices = Vec::new();
    let mut last_trade = 0.0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(',').collect();
        let price = match fields[1] {
            "trade" => {
                last_trade = fields[3].parse().unwrap();
                last_trade
            }
            _ => (fields[3].parse::<f64>().unwrap() + fields[5].parse::<f64>().unwrap()) / 2.0,
        };
        prices.push(price);
    }
    (last_trade, prices[0], *prices.last().unwrap())
}

/// The report of each example strategy adds up: its net PnL is what its fills (in
/// `fills.csv`) come to by average-cost accounting done here, marked at the last trade,
/// less the fees; its equity curve ends at the capital plus that; the market's move is
/// the sample's. And the same inputs give the same report, byte for byte.
#[test]
fn a_backtest_report_is_what_its_fills_add_up_to_and_the_same_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = backtest_config(dir.path());
    let out = dir.path().join("report");
    let run = backtest(&config, &["--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("3000 events"), "{stdout}");
    assert!(
        !String::from_utf8_lossy(&run.stderr).contains("events,"),
        "no progress bar without a terminal"
    );
    let orders = std::fs::read_to_string(out.join("orders.csv")).unwrap();
    assert!(
        orders.lines().skip(1).any(|l| l.contains(",filled,")),
        "{orders:.300}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], "pennant.backtest.v1");
    assert_eq!(report["period"]["events"], 3000);
    let (mark, first, last) = sample_prices();
    let market = &report["market"][0];
    let number = |v: &serde_json::Value| -> f64 {
        v.as_str()
            .map(|s| s.parse().unwrap())
            .or_else(|| v.as_f64())
            .unwrap()
    };
    assert!((number(&market["first"]) - first).abs() < 1e-9);
    assert!((number(&market["last"]) - last).abs() < 1e-9);
    let fills = std::fs::read_to_string(out.join("fills.csv")).unwrap();
    let equity = std::fs::read_to_string(out.join("equity.csv")).unwrap();
    let strategies = report["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), 2);
    for strategy in strategies {
        let id = strategy["id"].as_str().unwrap();
        // Average-cost accounting of the strategy's fills.
        let (mut position, mut avg, mut realized, mut fees, mut count) = (0.0, 0.0, 0.0, 0.0, 0);
        for row in fills.lines().skip(1) {
            let f: Vec<&str> = row.split(',').collect();
            if f[1] != id {
                continue;
            }
            count += 1;
            let (price, qty, fee): (f64, f64, f64) = (
                f[5].parse().unwrap(),
                f[6].parse().unwrap(),
                f[7].parse().unwrap(),
            );
            let signed = if f[4] == "buy" { qty } else { -qty };
            fees += fee;
            if position == 0.0 || (position > 0.0) == (signed > 0.0) {
                avg = (avg * position + price * signed) / (position + signed);
                position += signed;
            } else {
                let closed = signed.abs().min(position.abs());
                realized += closed * (price - avg) * position.signum();
                position += signed;
                if position.abs() < 1e-9 {
                    (position, avg) = (0.0, 0.0);
                } else if (position > 0.0) != (position - signed > 0.0) {
                    avg = price; // flipped through zero: the rest opened at this price
                }
            }
        }
        let unrealized = position * (mark - avg);
        let net = realized + unrealized - fees;
        assert_eq!(strategy["fills"], count, "{id}");
        assert_eq!(
            strategy["instruments"][0]["orders"], strategy["orders"],
            "{id}: one instrument, all its orders"
        );
        // One instrument: its own figures are the strategy's.
        for field in [
            "net_pnl",
            "gross_pnl",
            "max_drawdown",
            "sharpe",
            "exposure",
            "round_trips",
        ] {
            assert_eq!(
                strategy["instruments"][0][field], strategy[field],
                "{id}: {field} of its one instrument"
            );
        }
        assert!(count > 0, "{id} must trade on the sample");
        assert!(
            (number(&strategy["net_pnl"]) - net).abs() < 1e-6,
            "{id}: report {} against {net} from the fills",
            strategy["net_pnl"]
        );
        assert!((number(&strategy["fees"]) - fees).abs() < 1e-6, "{id}");
        let end = equity
            .lines()
            .rfind(|l| l.split(',').nth(1) == Some(id))
            .unwrap();
        let end: f64 = end.split(',').nth(2).unwrap().parse().unwrap();
        assert!(
            (end - (10_000.0 + net)).abs() < 1e-6,
            "{id}: equity ends at {end}"
        );
        assert_eq!(strategy["state"], "running");
    }
    // The crossover's signals alternate buy and sell; the sample is 150 s long, so the
    // signals of its first 90 s are measured after a minute and none after 5 minutes.
    let sma = &strategies[0];
    assert_eq!(sma["id"], "sma");
    let signals = &sma["signals"][0];
    assert_eq!(signals["instrument"], "ETH-USDT");
    let count = |v: &serde_json::Value| v.as_u64().unwrap();
    let (all, buys, sells) = (
        count(&signals["signals"]),
        count(&signals["buys"]),
        count(&signals["sells"]),
    );
    assert!(
        all > 0 && all == buys + sells && buys.abs_diff(sells) <= 1,
        "{signals}"
    );
    let horizons = signals["horizons"].as_array().unwrap();
    let names: Vec<&str> = horizons
        .iter()
        .map(|h| h["horizon"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["1m", "5m", "1h"]);
    let minute = &horizons[0];
    let measured = count(&minute["measured"]);
    assert!(measured > 0 && measured <= all, "{signals}");
    let rate = count(&minute["hits"]) as f64 / measured as f64;
    assert!((minute["hit_rate"].as_f64().unwrap() - rate).abs() < 1e-12);
    for later in &horizons[1..] {
        assert_eq!(count(&later["measured"]), 0, "{signals}");
        assert!(later["hit_rate"].is_null(), "{signals}");
    }
    assert!(stdout.contains("signals ETH-USDT"), "{stdout}");
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("<table class=\"signals\">"));
    let again = dir.path().join("again");
    assert!(backtest(&config, &["--out", again.to_str().unwrap()])
        .status
        .success());
    assert_eq!(
        std::fs::read(out.join("report.json")).unwrap(),
        std::fs::read(again.join("report.json")).unwrap(),
        "the same inputs give the same report"
    );
    // The same data as a binary replay file: the same report.
    let binary = dir.path().join("sample.bin");
    let converted = std::process::Command::new(env!("CARGO_BIN_EXE_pennantd"))
        .arg("convert-replay")
        .arg(support::workspace().join("tests/data/eth-sample.csv"))
        .arg("--out")
        .arg(&binary)
        .output()
        .unwrap();
    assert!(converted.status.success());
    let from_binary = dir.path().join("binary");
    backtest_report(&config, &from_binary, &["--data", binary.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(out.join("report.json")).unwrap(),
        std::fs::read(from_binary.join("report.json")).unwrap(),
        "a binary file of the same data gives the same report"
    );
}

/// `--param` overrides a strategy's parameter and `--from`/`--to` cut the period; a
/// parameter for a strategy that is not configured is refused with exit status 78.
#[test]
fn a_backtest_takes_overrides_and_a_period_and_refuses_a_bad_override() {
    let dir = tempfile::tempdir().unwrap();
    let config = backtest_config(dir.path());
    let out = dir.path().join("report");
    // The sample runs from T0 + 50 ms to T0 + 150 s: its second minute.
    let from = (T0 + 60 * SECOND).to_string();
    let run = backtest(
        &config,
        &[
            "--out",
            out.to_str().unwrap(),
            "--param",
            "sma.fast=2",
            "--from",
            &from,
            "--to",
            "2023-11-14T22:15:20Z",
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["strategies"][0]["params"]["fast"], "2");
    assert_eq!(report["strategies"][0]["params"]["slow"], "8");
    assert_eq!(
        report["period"]["events"], 1200,
        "60 s of events 50 ms apart"
    );
    assert!(report["period"]["from"].as_i64().unwrap() >= T0 + 60 * SECOND);
    assert!(report["period"]["to"].as_i64().unwrap() < T0 + 120 * SECOND);
    // Orders a limit refuses are counted by reason, per strategy and per instrument.
    let mut text = std::fs::read_to_string(&config).unwrap();
    text += "\n[risk.defaults]\nmax_order_qty = \"0.05\"\n";
    let limited = dir.path().join("limited.toml");
    std::fs::write(&limited, text).unwrap();
    let report = backtest_report(&limited, &dir.path().join("limited"), &[]);
    for strategy in report["strategies"].as_array().unwrap() {
        let refused = &strategy["rejected"]["risk/max_quantity"];
        assert!(refused.as_u64() > Some(0), "{strategy}");
        assert_eq!(
            &strategy["instruments"][0]["rejected"]["risk/max_quantity"],
            refused
        );
        assert_eq!(strategy["fills"], 0);
    }
    let refused = backtest(
        &config,
        &["--out", out.to_str().unwrap(), "--param", "nope.fast=3"],
    );
    assert_eq!(refused.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nope.fast=3"));
}

/// `pennantd import` reads each kind of the shipped Binance archive samples into a
/// replay file (binary for `.bin`), with the documented time units and taker sides, and
/// a backtest replays what it wrote.
#[test]
fn binance_archives_import_into_replay_files_a_backtest_reads() {
    let dir = tempfile::tempdir().unwrap();
    let sample = |name: &str| support::workspace().join("tests/data/binance").join(name);
    let import = |kind: &str, file: &str, out: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pennantd"))
            .args(["import", "--kind", kind, "--symbol", "ETH-USDT"])
            .arg(sample(file))
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let check = |kind: &str, file: &str, out: &str, want: &str| -> String {
        let out = dir.path().join(out);
        let done = import(kind, file, &out);
        let stdout = String::from_utf8_lossy(&done.stdout).to_string();
        assert!(
            done.status.success(),
            "{kind}: {stdout}{}",
            String::from_utf8_lossy(&done.stderr)
        );
        assert!(stdout.contains(want), "{kind}: {stdout}");
        std::fs::read_to_string(&out).unwrap_or_default()
    };
    // Milliseconds (2024) to nanoseconds.
    let agg = check(
        "aggTrades",
        "BTCUSDT-aggTrades-2024-12-31.zip",
        "agg.csv",
        "300 events from 1 files (0 header rows, 0 rows skipped)",
    );
    let first = agg.lines().next().unwrap();
    assert!(
        first.starts_with("17356032"),
        "milliseconds read as such: {first}"
    );
    assert_eq!(
        first.split(',').next().unwrap().len(),
        19,
        "nanoseconds: {first}"
    );
    let quotes = check(
        "bookTicker",
        "BTCUSDT-bookTicker-2024-05-01.zip",
        "quotes.csv",
        "300 events from 1 files (1 header rows, 0 rows skipped)",
    );
    assert!(quotes.lines().all(|l| l.split(',').nth(1) == Some("quote")));
    check(
        "trades",
        "BTCUSDT-trades-2025-01-01.zip",
        "trades.bin",
        "400 events from 1 files",
    );
    let archive = std::fs::read(sample("BTCUSDT-trades-2025-01-01.zip")).unwrap();
    assert!(archive.starts_with(b"PK"), "the sample is a zip archive");
    // The binary file replays: 400 trades from 2025-01-01, their microseconds read so.
    let config = backtest_config(dir.path());
    let out = dir.path().join("report");
    let trades = dir.path().join("trades.bin");
    let report = backtest_report(&config, &out, &["--data", trades.to_str().unwrap()]);
    assert_eq!(report["period"]["events"], 400);
    assert!(report["period"]["from_utc"]
        .as_str()
        .unwrap()
        .starts_with("2025-01-01T00:00"));
    // A kind that does not exist is refused with the configuration status.
    let refused = import(
        "klines",
        "BTCUSDT-trades-2025-01-01.zip",
        &dir.path().join("x.csv"),
    );
    assert_eq!(refused.status.code(), Some(78));
}

/// A sweep of 12 parameter sets ranks them, gives the same results on two threads as on
/// one, and each run is what a backtest with those parameters reports.
#[test]
fn a_sweep_ranks_its_runs_the_same_in_parallel_as_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = backtest_config(dir.path());
    let sweep_with = |args: &[&str], env: &[(&str, &str)], out: &Path| {
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_pennantd"))
            .arg("--config")
            .arg(&config)
            .args([
                "sweep",
                "--grid",
                "sma.fast=2..5",
                "--grid",
                "sma.slow=6,8,10",
            ])
            .args(["--metric", "net_pnl"])
            .args(args)
            .arg("--out")
            .arg(out)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout).to_string();
        assert!(
            run.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        stdout
    };
    let sweep = |threads: &str, out: &Path| sweep_with(&["--threads", threads], &[], out);
    let (parallel, serial) = (dir.path().join("parallel"), dir.path().join("serial"));
    let stdout = sweep("2", &parallel);
    assert!(stdout.contains("12 runs of sma, by net_pnl"), "{stdout}");
    assert!(stdout.contains("best: params = {"), "{stdout}");
    sweep("1", &serial);
    let read = |dir: &Path| std::fs::read(dir.join("sweep.json")).unwrap();
    assert_eq!(
        read(&parallel),
        read(&serial),
        "the same rows on two threads as on one"
    );
    let results: serde_json::Value = serde_json::from_slice(&read(&parallel)).unwrap();
    let rows = results["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    let metric = |row: &serde_json::Value| row["metric"].as_f64().unwrap();
    assert!(
        rows.windows(2).all(|w| metric(&w[0]) >= metric(&w[1])),
        "best first"
    );
    assert!(rows
        .iter()
        .any(|r| r["result"]["Ok"]["fills"].as_u64() > Some(0)));
    // The best run, and the last, against a backtest of their parameters.
    for row in [&rows[0], &rows[11]] {
        let params: Vec<String> = row["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{}={}", p[0].as_str().unwrap(), p[1].as_str().unwrap()))
            .collect();
        let out = dir.path().join(format!("single-{}", row["run"]));
        let mut args = Vec::new();
        for p in &params {
            args.extend(["--param", p.as_str()]);
        }
        let report = backtest_report(&config, &out, &args);
        let single = &report["strategies"][0];
        assert_eq!(
            single["net_pnl"], row["result"]["Ok"]["net_pnl"],
            "{params:?}"
        );
        assert_eq!(single["fills"], row["result"]["Ok"]["fills"], "{params:?}");
    }
    // In three shards (the last told its index as a Kubernetes Indexed Job is), merged:
    // the whole sweep.
    let shards: Vec<_> = (0..3)
        .map(|k| dir.path().join(format!("shard-{k}")))
        .collect();
    sweep_with(&["--shard", "0/3"], &[], &shards[0]);
    sweep_with(&["--shard", "1/3"], &[], &shards[1]);
    sweep_with(
        &["--shards", "3"],
        &[("JOB_COMPLETION_INDEX", "2")],
        &shards[2],
    );
    let merge = |dirs: &[&Path], out: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pennantd"))
            .arg("--config")
            .arg(&config)
            .args(["sweep", "merge"])
            .args(dirs)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let merged = dir.path().join("merged");
    let done = merge(&[&shards[2], &shards[0], &shards[1]], &merged);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(
        read(&merged),
        read(&parallel),
        "the shards merged are the whole sweep"
    );
    let missing = merge(&[&shards[0], &shards[1]], &dir.path().join("partial"));
    assert_eq!(missing.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("shard 2 of 3 is missing"));
}

/// A walk-forward cuts the sample into windows, sweeps each and judges its best
/// parameters on the next: each fold's out-of-sample figure is what a backtest of those
/// parameters over that window reports.
#[test]
fn a_walk_forward_judges_each_folds_best_parameters_on_the_next_window() {
    let dir = tempfile::tempdir().unwrap();
    let config = backtest_config(dir.path());
    let out = dir.path().join("walk");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_pennantd"))
        .arg("--config")
        .arg(&config)
        .args(["sweep", "--grid", "sma.fast=2..4", "--grid", "sma.slow=6,8"])
        .args(["--walk-forward", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("2 folds"), "{stdout}");
    let walked: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("walk_forward.json")).unwrap()).unwrap();
    let folds = walked["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 2);
    // The windows follow each other: the first fold's test is the second's train.
    assert_eq!(folds[0]["test"], folds[1]["train"]);
    assert!(folds[0]["train"][0].as_i64().unwrap() >= T0);
    for fold in folds {
        let (from, to) = (
            fold["test"][0].as_i64().unwrap(),
            fold["test"][1].as_i64().unwrap(),
        );
        let params: Vec<String> = fold["best"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{}={}", p[0].as_str().unwrap(), p[1].as_str().unwrap()))
            .collect();
        let (from, to) = (from.to_string(), to.to_string());
        let mut args = vec!["--from", from.as_str(), "--to", to.as_str()];
        for p in &params {
            args.extend(["--param", p.as_str()]);
        }
        let single = dir.path().join(format!("check-{from}"));
        let report = backtest_report(&config, &single, &args);
        let net: f64 = report["strategies"][0]["net_pnl"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (net - fold["test_metric"].as_f64().unwrap()).abs() < 1e-9,
            "{params:?} over the test window: {net} against {}",
            fold["test_metric"]
        );
    }
}

/// The report's page opens in a real browser (Debian's chromium, driven by
/// playwright-core: `cargo xtask test` installs both and says where): every strategy has
/// its equity, drawdown, price and position charts, drawn, at their size; a screenshot
/// of the page is taken and is not blank.
#[test]
fn the_report_page_shows_its_charts_in_a_browser() {
    let (Some(playwright), Some(chromium)) = (
        std::env::var_os("PENNANT_PLAYWRIGHT"),
        std::env::var_os("PENNANT_CHROMIUM"),
    ) else {
        panic!("PENNANT_PLAYWRIGHT and PENNANT_CHROMIUM are not set: run `cargo xtask test`");
    };
    let dir = tempfile::tempdir().unwrap();
    let config = backtest_config(dir.path());
    let out = dir.path().join("report");
    backtest_report(&config, &out, &[]);
    let script = dir.path().join("open.js");
    std::fs::write(
        &script,
        r#"
const { chromium } = require(require("path").join(process.env.PENNANT_PLAYWRIGHT, "playwright-core"));
(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.PENNANT_CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu"],
  });
  const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
  await page.goto("file://" + process.argv[2]);
  const charts = await page.$$eval("section.strategy", (sections) =>
    sections.map((s) => ({
      id: s.querySelector("h2").textContent,
      charts: [...s.querySelectorAll("figure")].map((f) => ({
        kind: f.className,
        shapes: f.querySelectorAll("svg polyline, svg path, svg polygon, svg rect").length,
        width: f.querySelector("svg").getBoundingClientRect().width,
      })),
    }))
  );
  await page.screenshot({ path: process.argv[3], fullPage: true });
  console.log(JSON.stringify(charts));
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
"#,
    )
    .unwrap();
    let shot = dir.path().join("report.png");
    let chromium_path = which(&chromium);
    let run = std::process::Command::new("node")
        .arg(&script)
        .arg(out.join("report.html"))
        .arg(&shot)
        .env("PENNANT_PLAYWRIGHT", &playwright)
        .env("PENNANT_CHROMIUM", chromium_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let sections: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let sections = sections.as_array().unwrap();
    assert_eq!(sections.len(), 2, "{stdout}");
    for section in sections {
        let kinds: Vec<&str> = section["charts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["equity", "drawdown", "price", "position"],
            "{section}"
        );
        for chart in section["charts"].as_array().unwrap() {
            assert!(
                chart["shapes"].as_u64().unwrap() > 1,
                "{section}: {chart} is empty"
            );
            assert!(chart["width"].as_f64().unwrap() >= 800.0, "{chart}");
        }
    }
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    assert!(
        png.len() > 50_000,
        "a page of charts, not a blank one: {} bytes",
        png.len()
    );
}

/// A command's path, as `which` finds it (playwright wants a path, not a name).
fn which(command: &std::ffi::OsStr) -> std::path::PathBuf {
    let path = std::path::Path::new(command);
    if path.is_absolute() {
        return path.to_owned();
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(command))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| path.to_owned())
}
