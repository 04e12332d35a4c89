//! `cargo xtask new-strategy NAME`: a strategy crate that builds to a component, with a
//! unit test on the SDK's harness and a backtest configuration that runs as it is, on the
//! shipped sample tape:
//!
//! ```sh
//! cargo xtask new-strategy my-strategy
//! cargo xtask build-strategies
//! cargo run -p pennant-daemon --bin pennantd -- --config strategies/my-strategy/backtest.toml backtest
//! ```

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Writes `strategies/NAME/` under `root` and adds it to the workspace's members.
pub fn new_strategy(root: &Path, name: &str) -> Result<()> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        bail!("{name:?}: a strategy name is lower-case letters, digits and dashes, from a letter");
    }
    let dir = root.join("strategies").join(name);
    if dir.exists() {
        bail!("{} exists already", dir.display());
    }
    let type_name: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{type}}", &type_name)
            .replace("{{component}}", &name.replace('-', "_"))
    };
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(dir.join("Cargo.toml"), fill(CARGO_TOML))?;
    std::fs::write(dir.join("src").join("lib.rs"), fill(LIB_RS))?;
    std::fs::write(dir.join("backtest.toml"), fill(BACKTEST_TOML))?;
    add_member(&root.join("Cargo.toml"), &format!("strategies/{name}"))?;
    eprintln!(
        "xtask: strategies/{name} made. Next:\n  cargo test -p {name}\n  cargo xtask build-strategies\n  cargo run -p pennant-daemon --bin pennantd -- --config strategies/{name}/backtest.toml backtest"
    );
    Ok(())
}

/// Adds `member` to the `members` list of the workspace manifest at `path`.
fn add_member(path: &Path, member: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let Some(start) = text.find("members = [") else {
        bail!("{}: no `members = [` list", path.display());
    };
    let Some(end) = text[start..].find(']').map(|at| start + at) else {
        bail!("{}: the members list does not end", path.display());
    };
    let line = format!("    \"{member}\",\n");
    let mut out = String::with_capacity(text.len() + line.len());
    out.push_str(&text[..end]);
    out.push_str(&line);
    out.push_str(&text[end..]);
    std::fs::write(path, out)?;
    Ok(())
}

const CARGO_TOML: &str = r#"[package]
name = "{{name}}"
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
pennant-sdk.workspace = true
"#;

const LIB_RS: &str = r#"//! `{{name}}`: a breakout. It buys `qty` when a trade prints above the highest of the
//! last `lookback` trades, and sells it back when one prints below the lowest. Made by
//! `cargo xtask new-strategy`: replace it with your own idea.
//!
//! Parameters: `instrument` (symbol), `qty`, `lookback` (trades, default 20).

use pennant_sdk::prelude::*;
use std::collections::VecDeque;

/// See the crate docs.
pub struct {{type}} {
    instrument: InstrumentId,
    qty: Qty,
    lookback: usize,
    /// The last `lookback` trade prices, oldest first.
    prices: VecDeque<Price>,
    /// The order in flight, if any: no new order until it is done.
    pending: Option<OrderId>,
}

impl Strategy for {{type}} {
    fn init(host: &mut dyn Host, params: &Params) -> Result<Self, InitError> {
        params.deny_unknown(&["instrument", "qty", "lookback"])?;
        let symbol: String = params.require("instrument")?;
        let info = host
            .lookup_instrument(&symbol)
            .ok_or_else(|| format!("unknown instrument `{symbol}`"))?;
        host.subscribe(info.id, Streams::TRADES);
        Ok({{type}} {
            instrument: info.id,
            qty: params.require("qty")?,
            lookback: params.get_or("lookback", 20)?,
            prices: VecDeque::new(),
            pending: None,
        })
    }

    fn on_trade(&mut self, host: &mut dyn Host, trade: &Trade) {
        if self.prices.len() == self.lookback && self.pending.is_none() {
            let high = self.prices.iter().copied().max().unwrap_or(trade.price);
            let low = self.prices.iter().copied().min().unwrap_or(trade.price);
            let long = host.position(self.instrument).qty.is_positive();
            let side = if trade.price > high && !long {
                Some(Side::Buy)
            } else if trade.price < low && long {
                Some(Side::Sell)
            } else {
                None
            };
            if let Some(side) = side {
                let order = OrderRequest::market(self.instrument, side, self.qty);
                if let Ok(id) = host.submit_order(&order) {
                    self.pending = Some(id);
                }
            }
        }
        self.prices.push_back(trade.price);
        if self.prices.len() > self.lookback {
            self.prices.pop_front();
        }
    }

    fn on_order_update(&mut self, _host: &mut dyn Host, update: &OrderUpdate) {
        if update.status.is_final() && self.pending == Some(update.order_id) {
            self.pending = None;
        }
    }
}

pennant_sdk::export_strategy!({{type}});

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{px, qty, Harness};

    const SYMBOL: &str = "ETH-USDT";

    #[test]
    fn buys_a_breakout_and_sells_a_breakdown() {
        let mut h = Harness::<{{type}}>::new().with_instrument(SYMBOL, "0.01", "0.01");
        h.init(&[("instrument", SYMBOL), ("qty", "0.1"), ("lookback", "3")])
            .unwrap();
        let trade = |h: &mut Harness<{{type}}>, price: &str| {
            h.advance_by(NANOS_PER_SECOND);
            let p = px(price);
            h.quote(SYMBOL, p - px("0.01"), qty("10"), p + px("0.01"), qty("10"));
            h.trade(SYMBOL, p, qty("1"), Side::Buy);
        };
        for price in ["100", "101", "100.5", "100.8"] {
            trade(&mut h, price);
        }
        assert!(h.orders().is_empty(), "inside the range: no order");
        trade(&mut h, "102");
        assert_eq!(h.position(SYMBOL).qty, qty("0.1"), "above the high: long");
        trade(&mut h, "99");
        assert_eq!(h.position(SYMBOL).qty, Qty::ZERO, "below the low: flat");
    }
}
"#;

const BACKTEST_TOML: &str = r#"# A backtest of {{name}} on the shipped sample tape:
#   cargo xtask build-strategies
#   cargo run -p pennant-daemon --bin pennantd -- --config strategies/{{name}}/backtest.toml backtest
[daemon]
state_dir = "../../target/backtest-state/{{name}}"
exit_when_feeds_end = true
log_level = "warn"

[api]
enabled = false

[plugins]
dir = "../../target/strategies"

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
path = "../../tests/data/eth-sample.csv"

[[strategy]]
id = "{{name}}"
component = "{{component}}.wasm"
params = { instrument = "ETH-USDT", qty = "0.1", lookback = 20 }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_strategy_is_a_crate_a_member_and_a_backtest_configuration() {
        let root = std::env::temp_dir().join(format!("pennant-scaffold-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("strategies")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\n    \"daemon\",\n]\n",
        )
        .unwrap();
        new_strategy(&root, "my-breakout").unwrap();
        let dir = root.join("strategies/my-breakout");
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("pub struct MyBreakout"));
        assert!(lib.contains("export_strategy!(MyBreakout)"));
        assert!(!lib.contains("{{"), "every placeholder filled");
        let backtest = std::fs::read_to_string(dir.join("backtest.toml")).unwrap();
        assert!(backtest.contains("component = \"my_breakout.wasm\""));
        let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(manifest["package"]["name"].as_str(), Some("my-breakout"));
        let workspace = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let workspace: toml::Table = workspace.parse().unwrap();
        let members: Vec<&str> = workspace["workspace"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m.as_str())
            .collect();
        assert_eq!(members, ["daemon", "strategies/my-breakout"]);
        assert!(new_strategy(&root, "my-breakout").is_err(), "not twice");
        assert!(new_strategy(&root, "My_Strategy").is_err(), "a bad name");
        let _ = std::fs::remove_dir_all(&root);
    }
}
