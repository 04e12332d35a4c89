//! The configuration's checks, table by table: every error names its key and line.

use super::*;
use std::num::NonZeroU32;

const GOOD: &str = r#"
[daemon]
id = "test"
state_dir = "state"

[paper]
maker_fee_bps = -0.5
taker_fee_bps = "4"

[[instrument]]
symbol = "BTC-USDT"
tick_size = "0.1"
lot_size = 0.001

[[feed]]
name = "walk"
kind = "synthetic"
interval_ms = 100
instruments = { BTC-USDT = { start_price = 50000 } }

[[feed]]
name = "tape"
kind = "replay"
path = "data/tape.csv"

[[strategy]]
id = "sma"
component = "sma_cross.wasm"
params = { instrument = "BTC-USDT", fast = 5, allow_short = true, qty = "0.01" }
"#;

#[test]
fn limits_written_as_toml_read_back_the_same() {
    let check = |limits: Limits| {
        let text = limits.to_toml();
        let back: Limits = toml::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(back, limits, "{text}");
    };
    check(Limits::default());
    check(Limits {
        max_order_qty: Some("0.5".parse().unwrap()),
        max_order_notional: Some("20000.25".parse().unwrap()),
        price_band_bps: NonZeroU32::new(200),
        max_position: Some("0.00000001".parse().unwrap()),
        max_gross_exposure: Some("50000".parse().unwrap()),
        max_open_orders: Some(0),
        max_orders_per_window: NonZeroU32::new(50),
        max_daily_loss: Some("500".parse().unwrap()),
        instruments: Some(vec!["BTC-USDT".into(), "ETH-USDT".into()]),
    });
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(
        text,
        Path::new("pennant.toml"),
        PathBuf::from("/etc/pennant"),
    )
}

#[test]
fn reads_a_full_configuration() {
    let config = parse(GOOD).unwrap();
    assert_eq!(config.paper.maker_fee_bps, "-0.5".parse().unwrap());
    assert_eq!(
        config.instruments[0].info().min_qty,
        "0.001".parse().unwrap()
    );
    assert_eq!(config.feeds.len(), 2);
    assert!(matches!(config.feeds[1].source(), FeedSource::Replay(r) if r.speed == 0.0));
    assert_eq!(
        config.strategies[0].param_pairs(),
        vec![
            ("allow_short".to_owned(), "true".to_owned()),
            ("fast".to_owned(), "5".to_owned()),
            ("instrument".to_owned(), "BTC-USDT".to_owned()),
            ("qty".to_owned(), "0.01".to_owned()),
        ]
    );
    assert_eq!(
        config.component_path(&config.strategies[0]),
        PathBuf::from("/etc/pennant/strategies/sma_cross.wasm")
    );
}

#[test]
fn every_limit_key_can_be_copied_and_no_other() {
    let from: Limits = toml::from_str(
        "max_order_qty = \"1\"\nmax_order_notional = \"2\"\nprice_band_bps = 3\nmax_position = \"4\"\nmax_gross_exposure = \"5\"\nmax_open_orders = 6\nmax_orders_per_window = 7\nmax_daily_loss = \"8\"\ninstruments = [\"X\"]",
    )
    .unwrap();
    let mut to = Limits::default();
    for key in Limits::KEYS {
        assert!(to.copy_key(&from, key), "{key}");
    }
    assert_eq!(to, from);
    assert!(!to.copy_key(&Limits::default(), "max_orders"));
    assert_eq!(to, from);
    to.copy_key(&Limits::default(), "max_position");
    assert_eq!(to.max_position, None);
}

#[test]
fn instruments_name_their_venue() {
    let config = parse(GOOD).unwrap();
    assert_eq!(config.venue_names().collect::<Vec<_>>(), ["paper"]);
    assert_eq!(config.venue_routes(), vec![0; config.instruments.len()]);
    let symbol = config.instruments[0].symbol.get_ref().clone();
    let venues = "\n[[venue]]\nname = \"sim-a\"\nkind = \"paper\"\n\n[[venue]]\nname = \"sim-b\"\nkind = \"paper\"\nmaker_fee_bps = \"-1\"\n";
    let named = |venue: &str| {
        format!("{GOOD}{venues}").replace(
            &format!("symbol = \"{symbol}\"\n"),
            &format!("symbol = \"{symbol}\"\nvenue = \"{venue}\"\n"),
        )
    };
    let config = parse(&named("sim-b")).unwrap();
    assert_eq!(config.venue_names().collect::<Vec<_>>(), ["sim-a", "sim-b"]);
    assert_eq!(config.venue_routes()[0], 1);
    assert_eq!(
        config.venues[1].paper().maker_fee_bps,
        "-1".parse().unwrap()
    );
    let text = named("sim-c");
    let line = text.lines().position(|l| l.contains("sim-c")).unwrap() + 1;
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("instrument.venue") && err.contains("unknown venue sim-c"),
        "{err}"
    );
    assert!(err.contains(&format!(":{line}:")), "{err}");
    let twice = format!("{GOOD}{venues}").replace("sim-b", "sim-a");
    let err = parse(&twice).unwrap_err().to_string();
    assert!(err.contains("venue sim-a is defined twice"), "{err}");
}

#[test]
fn a_daemon_id_must_fit_in_client_order_ids() {
    let with_id = |id: &str| GOOD.replace("id = \"test\"", &format!("id = \"{id}\""));
    assert_eq!(parse(&with_id("desk-1")).unwrap().daemon.id, "desk-1");
    let err = parse(&with_id("a-much-too-long-id"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 3") && err.contains("longer than 15"),
        "{err}"
    );
    let err = parse(&with_id("desk.1")).unwrap_err().to_string();
    assert!(err.contains("line 3") && err.contains("not an id"), "{err}");
}

#[test]
fn unknown_keys_are_named_with_their_line() {
    let text = GOOD.replace("lot_size = 0.001", "lot_size = 0.001\nlot_sise = 1");
    let err = parse(&text).unwrap_err().to_string();
    assert!(err.contains("line 14"), "{err}");
    assert!(err.contains("unknown field `lot_sise`"), "{err}");
}

#[test]
fn bad_values_are_named_with_their_line() {
    let err = parse(&GOOD.replace("tick_size = \"0.1\"", "tick_size = \"-1\""))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 12") && err.contains("must be positive, got -1"),
        "{err}"
    );
    let err = parse(&GOOD.replace("tick_size = \"0.1\"", "tick_size = \"0.1.2\""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid decimal \"0.1.2\""), "{err}");
    let err = parse(&GOOD.replace("fast = 5", "fast = [5]"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 29") && err.contains("a string, number or boolean"),
        "{err}"
    );
}

#[test]
fn risk_limits_are_read_and_nonsense_is_refused() {
    let text = format!("{GOOD}\n[risk.defaults]\nmax_order_qty = \"1\"\nprice_band_bps = 50\n\n[risk.strategy.sma]\ninstruments = [\"BTC-USDT\"]\nmax_daily_loss = 100\n");
    let config = parse(&text).unwrap();
    assert_eq!(
        config.risk.defaults.max_order_qty,
        Some("1".parse().unwrap())
    );
    assert_eq!(
        config.risk.strategy["sma"].max_daily_loss,
        Some("100".parse().unwrap())
    );
    let err = parse(&text.replace("max_order_qty = \"1\"", "max_order_qty = \"-1\""))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 32") && err.contains("must be positive, got -1"),
        "{err}"
    );
    let err = parse(&text.replace("price_band_bps = 50", "price_band_bps = 0"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 33") && err.contains("nonzero"), "{err}");
    let err = parse(&text.replace("[risk.strategy.sma]", "[risk.strategy.smx]"))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "pennant.toml:35: `risk.strategy.smx`: no strategy smx");
    let err = parse(&text.replace("[risk.defaults]", "[risk.defaults]\ninstruments = []"))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "pennant.toml:31: `risk.defaults`: `instruments`: an instrument allow-list belongs to a strategy");
    let err = parse(&text.replace("[risk.defaults]", "[risk.global]"))
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("`risk.global`: `max_order_qty`: this limit applies to one order or one strategy, not to all strategies together"), "{err}");
}

#[test]
fn a_backtest_replays_one_file() {
    let text = GOOD.replace("kind = \"synthetic\"\ninterval_ms = 100\ninstruments = { BTC-USDT = { start_price = 50000 } }", "kind = \"replay\"\npath = \"other.csv\"");
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.starts_with("pennant.toml:21: `feed.kind`: a backtest replays one file"),
        "{err}"
    );
}

#[test]
fn cross_checks_name_key_and_line() {
    let text = format!("{GOOD}\n[[strategy]]\nid = \"sma\"\ncomponent = \"x.wasm\"\n");
    let err = parse(&text).unwrap_err().to_string();
    assert_eq!(
        err,
        "pennant.toml:32: `strategy.id`: strategy sma is defined twice"
    );
    let text = format!("{GOOD}\n[[strategy]]\nid = \"unattributed\"\ncomponent = \"x.wasm\"\n");
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.starts_with("pennant.toml:32: `strategy.id`: unattributed is the owner of orders"),
        "{err}"
    );
    let text = GOOD.replace(
        "path = \"data/tape.csv\"",
        "path = \"data/tape.csv\"\nseed = 3",
    );
    let err = parse(&text).unwrap_err().to_string();
    assert_eq!(
        err,
        "pennant.toml:22: `feed.seed`: does not apply to a Replay feed"
    );
    let text = GOOD.replace("interval_ms = 100\n", "");
    let err = parse(&text).unwrap_err().to_string();
    assert_eq!(
        err,
        "pennant.toml:16: `feed.interval_ms`: is required for a Synthetic feed"
    );
    let text = GOOD.replace("{ BTC-USDT = {", "{ ETH-USDT = {");
    let err = parse(&text).unwrap_err().to_string();
    assert_eq!(err, "pennant.toml:16: `feed.instruments`: unknown instrument ETH-USDT: add it as an [[instrument]]");
}

#[test]
fn a_binance_feed_names_its_symbols_and_defaults_the_rest() {
    let feed = "\n[[feed]]\nname = \"binance\"\nkind = \"binance\"\nsymbols = [\"BTC-USDT\"]\n";
    let config = parse(&format!("{GOOD}{feed}")).unwrap();
    assert!(config.is_live());
    let Some(FeedSource::Binance(binance)) = config.feeds.last().map(FeedConfig::source) else {
        panic!("a binance feed");
    };
    assert_eq!(binance.url, BINANCE_STREAM_URL);
    assert_eq!(binance.symbols, ["BTC-USDT"]);
    assert_eq!(binance.quiet, std::time::Duration::from_secs(60));
    assert_eq!(
        (binance.depth_levels, binance.rest_url.as_str()),
        (None, BINANCE_REST_URL)
    );
    let custom = feed.replace(
        "symbols",
        "url = \"ws://127.0.0.1:9/\"\nquiet_ms = 250\nreconnect_min_ms = 10\ndepth_levels = 1000\nrest_url = \"http://127.0.0.1:9/\"\nsymbols",
    );
    let config = parse(&format!("{GOOD}{custom}")).unwrap();
    let Some(FeedSource::Binance(binance)) = config.feeds.last().map(FeedConfig::source) else {
        panic!("a binance feed");
    };
    assert_eq!(
        (
            binance.url.as_str(),
            binance.quiet.as_millis(),
            binance.reconnect_min.as_millis()
        ),
        ("ws://127.0.0.1:9", 250, 10)
    );
    assert_eq!(
        (binance.depth_levels, binance.rest_url.as_str()),
        (Some(1000), "http://127.0.0.1:9")
    );
    for (change, error) in [
        (
            ("[\"BTC-USDT\"]", "[\"BTC-USDT\", \"ETH-USDT\"]"),
            "pennant.toml:34: `feed.symbols`: unknown instrument ETH-USDT: add it as an [[instrument]]",
        ),
        (
            ("symbols = [\"BTC-USDT\"]", "quiet_ms = 5"),
            "pennant.toml:32: `feed.symbols`: is required for a Binance feed",
        ),
        (
            ("symbols", "seed = 1\nsymbols"),
            "pennant.toml:32: `feed.seed`: does not apply to a Binance feed",
        ),
        (
            ("symbols", "url = \"https://stream.binance.com\"\nsymbols"),
            "pennant.toml:32: `feed.url`: \"https://stream.binance.com\" is not a WebSocket URL (ws:// or wss://)",
        ),
        (
            ("symbols", "rest_url = \"wss://x\"\nsymbols"),
            "pennant.toml:32: `feed.rest_url`: \"wss://x\" is not an HTTP URL (http:// or https://)",
        ),
        (
            ("symbols", "depth_levels = 5001\nsymbols"),
            "pennant.toml:32: `feed.depth_levels`: is 5001: Binance's snapshots have at most 5000 levels a side",
        ),
        (
            ("symbols", "reconnect_min_ms = 900\nreconnect_max_ms = 800\nsymbols"),
            "pennant.toml:32: `feed.reconnect_min_ms`: is 900, more than reconnect_max_ms (800)",
        ),
    ] {
        let text = format!("{GOOD}{}", feed.replace(change.0, change.1));
        assert_eq!(parse(&text).unwrap_err().to_string(), error);
    }
}
