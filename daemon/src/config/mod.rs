//! The daemon's configuration: one TOML file (`config/pennant.toml` is the demo).
//!
//! Every table refuses unknown keys, and every value is checked as it is read, so an error
//! names the key and its line. Relative paths are relative to the configuration file's
//! folder. Prices, quantities and fees are decimals, written as strings (`"0.01"`) or
//! numbers; they are read exactly into fixed point.

pub mod alert;
pub mod api;
pub mod daemon;
pub mod limits;
pub mod market;
pub mod plugins;
pub mod risk;
pub mod secret;
pub mod signals;
pub mod store;
pub mod strategy;
mod values;
pub mod venue;

pub use alert::{AlertConfig, AlertEventName, AlertFormat};
pub use api::{ApiConfig, ListenAddr, PublicEndpoint, Role, TokenConfig};
pub use daemon::{DaemonConfig, RecorderConfig};
pub use limits::{limit_applies, validate_limits, LimitScope, Limits};
pub use market::{
    BinanceFeedConfig, FeedConfig, FeedKind, FeedSource, InstrumentConfig, ReplayConfig,
    SyntheticConfig, WalkConfig, BINANCE_REST_URL, BINANCE_STREAM_URL,
};
pub use plugins::PluginConfig;
pub use risk::RiskConfig;
pub use signals::SignalsConfig;
pub use store::StoreConfig;
pub use strategy::{OpenOrders, ParamValue, StrategyConfig, UNATTRIBUTED};
pub(crate) use values::optional_positive;
pub use values::MAX_DAEMON_ID_LEN;
pub use venue::{BanPolicy, PaperConfig, VenueConfig, VenueKind};

use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What is wrong with a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value of the wrong kind.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's message, which names the line, the column and the key.
        message: String,
    },
    /// A value is well-formed but does not make sense with the rest.
    #[error("{path}:{line}: `{key}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line of the offending value.
        line: usize,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The daemon itself.
    #[serde(default)]
    pub daemon: DaemonConfig,
    /// How strategy components are loaded and limited.
    #[serde(default)]
    pub plugins: PluginConfig,
    /// The paper venue, when there is no `[[venue]]`.
    #[serde(default)]
    pub paper: PaperConfig,
    /// Venues, `[[venue]]`; without any, one paper venue named `paper` from `[paper]`.
    #[serde(rename = "venue", default)]
    pub venues: Vec<VenueConfig>,
    /// Tradable instruments, `[[instrument]]`.
    #[serde(rename = "instrument", default)]
    pub instruments: Vec<InstrumentConfig>,
    /// Market data feeds, `[[feed]]`.
    #[serde(rename = "feed", default)]
    pub feeds: Vec<FeedConfig>,
    /// Strategies to run, `[[strategy]]`.
    #[serde(rename = "strategy", default)]
    pub strategies: Vec<StrategyConfig>,
    /// Pre-trade risk limits, `[risk]`.
    #[serde(default)]
    pub risk: RiskConfig,
    /// Where records are kept, `[store]`.
    #[serde(default)]
    pub store: StoreConfig,
    /// `[api]`: the admin HTTP API and `/metrics`.
    #[serde(default)]
    pub api: ApiConfig,
    /// `[recorder]`: the session recorder.
    #[serde(default)]
    pub recorder: RecorderConfig,
    /// `[signals]`: how signals are judged.
    #[serde(default)]
    pub signals: SignalsConfig,
    /// `[[alert]]`: where alerts are sent.
    #[serde(rename = "alert", default)]
    pub alerts: Vec<AlertConfig>,
    /// The folder of the configuration file; relative paths resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The configuration file itself (as given), which the reloader watches and re-reads.
    #[serde(skip)]
    pub source: PathBuf,
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Config::parse(&text, path, base_dir)
    }

    /// Parses and checks configuration text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path, base_dir: PathBuf) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.to_string().trim_end().to_owned(),
        })?;
        config.base_dir = base_dir;
        config.source = path.to_owned();
        config.check(text, path)?;
        Ok(config)
    }

    /// Cross-checks that serde cannot express: unique names, known symbols.
    fn check(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let invalid =
            |span: std::ops::Range<usize>, key: &str, message: String| ConfigError::Invalid {
                path: path.to_owned(),
                line: text.get(..span.start).unwrap_or(text).matches('\n').count() + 1,
                key: key.to_owned(),
                message,
            };
        let mut symbols = HashSet::new();
        for instrument in &self.instruments {
            if !symbols.insert(instrument.symbol.get_ref().as_str()) {
                return Err(invalid(
                    instrument.symbol.span(),
                    "instrument.symbol",
                    format!(
                        "instrument {} is defined twice",
                        instrument.symbol.get_ref()
                    ),
                ));
            }
        }
        let mut venues = HashSet::new();
        for venue in &self.venues {
            if !venues.insert(venue.name.get_ref().as_str()) {
                return Err(invalid(
                    venue.name.span(),
                    "venue.name",
                    format!("venue {} is defined twice", venue.name.get_ref()),
                ));
            }
            if venue.kind == VenueKind::Binance && !(1..=60_000).contains(&venue.recv_window_ms) {
                return Err(invalid(
                    venue.name.span(),
                    "venue.recv_window_ms",
                    "must be 1 to 60000 (Binance's limit)".into(),
                ));
            }
        }
        for instrument in &self.instruments {
            if let Some(venue) = &instrument.venue {
                if !self.venue_names().any(|n| n == venue.get_ref()) {
                    return Err(invalid(
                        venue.span(),
                        "instrument.venue",
                        format!("unknown venue {}: add it as a [[venue]]", venue.get_ref()),
                    ));
                }
            }
        }
        let mut feeds = HashSet::new();
        for feed in &self.feeds {
            if !feeds.insert(feed.name.get_ref().as_str()) {
                return Err(invalid(
                    feed.name.span(),
                    "feed.name",
                    format!("feed {} is defined twice", feed.name.get_ref()),
                ));
            }
            let (foreign, missing) = feed.misfits();
            if let Some(key) = foreign.first() {
                return Err(invalid(
                    feed.name.span(),
                    &format!("feed.{key}"),
                    format!("does not apply to a {:?} feed", feed.kind),
                ));
            }
            if let Some(key) = missing {
                return Err(invalid(
                    feed.name.span(),
                    &format!("feed.{key}"),
                    format!("is required for a {:?} feed", feed.kind),
                ));
            }
            {
                if let Some(unknown) = feed
                    .instruments
                    .keys()
                    .find(|s| !symbols.contains(s.as_str()))
                {
                    return Err(invalid(
                        feed.name.span(),
                        "feed.instruments",
                        format!("unknown instrument {unknown}: add it as an [[instrument]]"),
                    ));
                }
                if let Some(unknown) = feed
                    .symbols
                    .iter()
                    .find(|s| !symbols.contains(s.get_ref().as_str()))
                {
                    return Err(invalid(
                        unknown.span(),
                        "feed.symbols",
                        format!(
                            "unknown instrument {}: add it as an [[instrument]]",
                            unknown.get_ref()
                        ),
                    ));
                }
                if let Some(url) = &feed.url {
                    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
                        return Err(invalid(
                            feed.name.span(),
                            "feed.url",
                            format!("{url:?} is not a WebSocket URL (ws:// or wss://)"),
                        ));
                    }
                }
                if let Some(url) = &feed.rest_url {
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        return Err(invalid(
                            feed.name.span(),
                            "feed.rest_url",
                            format!("{url:?} is not an HTTP URL (http:// or https://)"),
                        ));
                    }
                }
                if let Some(levels) = feed.depth_levels.filter(|n| n.get() > 5000) {
                    return Err(invalid(
                        feed.name.span(),
                        "feed.depth_levels",
                        format!("is {levels}: Binance's snapshots have at most 5000 levels a side"),
                    ));
                }
                if let (Some(min), Some(max)) = (feed.reconnect_min_ms, feed.reconnect_max_ms) {
                    if min > max {
                        return Err(invalid(
                            feed.name.span(),
                            "feed.reconnect_min_ms",
                            format!("is {min}, more than reconnect_max_ms ({max})"),
                        ));
                    }
                }
            }
        }
        let replays: Vec<_> = self
            .feeds
            .iter()
            .filter(|f| f.kind == FeedKind::Replay)
            .collect();
        let live = self.feeds.iter().any(|f| f.kind.is_live());
        if let (false, Some(second)) = (live, replays.get(1)) {
            // Two files would reach the engine interleaved as tokio schedules them, and the
            // event-time clock would make the result depend on that.
            return Err(invalid(
                second.name.span(),
                "feed.kind",
                "a backtest replays one file: merge the files by time, or run one daemon per file"
                    .into(),
            ));
        }
        // The risk tables have no spans: point at the first line that names the key.
        let at = |needle: &str| {
            let start = text.find(needle).unwrap_or(0);
            start..start
        };
        if self.risk.day_start_hour_utc > 23 {
            return Err(invalid(
                at("day_start_hour_utc"),
                "risk.day_start_hour_utc",
                "must be an hour from 0 to 23".into(),
            ));
        }
        let tables = [
            (
                "risk.defaults".to_owned(),
                LimitScope::Defaults,
                &self.risk.defaults,
            ),
            (
                "risk.global".to_owned(),
                LimitScope::Global,
                &self.risk.global,
            ),
        ]
        .into_iter()
        .chain(
            self.risk
                .instrument
                .iter()
                .map(|(s, l)| (format!("risk.instrument.{s}"), LimitScope::Instrument, l)),
        )
        .chain(
            self.risk
                .strategy
                .iter()
                .map(|(s, l)| (format!("risk.strategy.{s}"), LimitScope::Strategy, l)),
        );
        for (table, scope, limits) in tables {
            if let Err(message) = validate_limits(scope, limits) {
                return Err(invalid(at(&format!("[{table}")), &table, message));
            }
        }
        if let Some(symbol) = self
            .risk
            .instrument
            .keys()
            .find(|s| !symbols.contains(s.as_str()))
        {
            return Err(invalid(
                at(&format!("[risk.instrument.{symbol}")),
                &format!("risk.instrument.{symbol}"),
                format!("unknown instrument {symbol}"),
            ));
        }
        for (id, limits) in &self.risk.strategy {
            if !self.strategies.iter().any(|s| s.id() == id) {
                return Err(invalid(
                    at(&format!("risk.strategy.{id}")),
                    &format!("risk.strategy.{id}"),
                    format!("no strategy {id}"),
                ));
            }
            if let Some(unknown) = limits
                .instruments
                .iter()
                .flatten()
                .find(|s| !symbols.contains(s.as_str()))
            {
                return Err(invalid(
                    at(&format!("risk.strategy.{id}")),
                    &format!("risk.strategy.{id}.instruments"),
                    format!("unknown instrument {unknown}"),
                ));
            }
        }
        self.check_api(&invalid)?;
        self.check_alerts(&invalid)?;
        let horizons = &self.signals.horizons_secs;
        if horizons.len() > 8 || horizons.contains(&0) {
            let at = text.find("horizons_secs").unwrap_or(0);
            return Err(invalid(
                at..at,
                "signals.horizons_secs",
                "at most 8 horizons, each above 0 seconds".into(),
            ));
        }
        let mut ids = HashSet::new();
        for strategy in &self.strategies {
            let id = strategy.id.get_ref();
            if id == UNATTRIBUTED {
                return Err(invalid(
                    strategy.id.span(),
                    "strategy.id",
                    format!("{id} is the owner of orders found at a venue that the store never recorded: not a strategy id"),
                ));
            }
            if !ids.insert(id.as_str()) {
                return Err(invalid(
                    strategy.id.span(),
                    "strategy.id",
                    format!("strategy {id} is defined twice"),
                ));
            }
        }
        Ok(())
    }

    fn check_alerts(
        &self,
        invalid: &dyn Fn(std::ops::Range<usize>, &str, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let mut names = HashSet::new();
        for sink in &self.alerts {
            let name = sink.name.get_ref();
            let wrong = |key: &str, message: String| invalid(sink.name.span(), key, message);
            if !names.insert(name.as_str()) {
                return Err(wrong(
                    "alert.name",
                    format!("alert {name} is defined twice"),
                ));
            }
            match sink.format {
                AlertFormat::Webhook | AlertFormat::Slack => {
                    if sink.url.is_some() == sink.url_secret.is_some() {
                        return Err(wrong(
                            "alert.url",
                            format!("alert {name}: give exactly one of url, url_secret"),
                        ));
                    }
                    if let Some(url) = &sink.url {
                        if !url.starts_with("http://") && !url.starts_with("https://") {
                            return Err(wrong(
                                "alert.url",
                                format!("alert {name}: {url:?} is not an http(s) URL"),
                            ));
                        }
                    }
                }
                AlertFormat::Telegram => {
                    if sink.bot_token_secret.is_none() || sink.chat_id.is_none() {
                        return Err(wrong(
                            "alert.bot_token_secret",
                            format!("alert {name}: telegram needs bot_token_secret and chat_id"),
                        ));
                    }
                }
            }
            if sink.retry_min_ms > sink.retry_max_ms {
                return Err(wrong(
                    "alert.retry_min_ms",
                    format!("alert {name}: retry_min_ms is above retry_max_ms"),
                ));
            }
        }
        Ok(())
    }

    fn check_api(
        &self,
        invalid: &dyn Fn(std::ops::Range<usize>, &str, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let listen = &self.api.listen;
        if let Err(message) = ListenAddr::parse(listen.get_ref()) {
            return Err(invalid(listen.span(), "api.listen", message));
        }
        let mut names = HashSet::new();
        for token in &self.api.tokens {
            let name = token.name.get_ref();
            if name == "anonymous" || name == "public" {
                return Err(invalid(
                    token.name.span(),
                    "api.token.name",
                    format!("{name} names requests without a valid token: choose another"),
                ));
            }
            if !names.insert(name.as_str()) {
                return Err(invalid(
                    token.name.span(),
                    "api.token.name",
                    format!("token {name} is defined twice"),
                ));
            }
            let sources = [
                token.sha256.is_some(),
                token.token_env.is_some(),
                token.token_file.is_some(),
            ];
            if sources.iter().filter(|&&s| s).count() != 1 {
                return Err(invalid(
                    token.name.span(),
                    "api.token",
                    format!("token {name}: give exactly one of sha256, token_env, token_file"),
                ));
            }
            if let Some(hash) = &token.sha256 {
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(
                        token.name.span(),
                        "api.token.sha256",
                        format!("token {name}: a SHA-256 is 64 hexadecimal digits"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A path from the configuration, resolved against the configuration's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.base_dir.join(path)
        }
    }

    /// The venues' names, in order (`paper` without `[[venue]]`).
    pub fn venue_names(&self) -> impl Iterator<Item = &str> {
        let default = self.venues.is_empty().then_some("paper");
        default
            .into_iter()
            .chain(self.venues.iter().map(|v| v.name.get_ref().as_str()))
    }

    /// The index of each instrument's venue, in instrument order.
    pub fn venue_routes(&self) -> Vec<usize> {
        self.instruments
            .iter()
            .map(|i| {
                i.venue
                    .as_ref()
                    .and_then(|name| self.venue_names().position(|n| n == name.get_ref()))
                    .unwrap_or(0)
            })
            .collect()
    }

    /// True with a live feed: the engine runs on the wall clock and trades on. Without
    /// one it is a backtest on the data's own time.
    pub fn is_live(&self) -> bool {
        self.feeds.iter().any(|f| f.kind.is_live())
            || self.venues.iter().any(|v| v.kind == VenueKind::Binance)
    }

    /// The component file of a strategy.
    pub fn component_path(&self, strategy: &StrategyConfig) -> PathBuf {
        self.resolve(&self.plugins.dir)
            .join(strategy.component.get_ref())
    }

    /// The sections of `self` that differ from `running` and that a reload cannot apply
    /// (they take a restart): everything but the strategies and the risk limits.
    pub fn needs_restart(&self, running: &Config) -> Vec<&'static str> {
        let mut changed = Vec::new();
        for (name, differs) in [
            ("[daemon]", self.daemon != running.daemon),
            ("[plugins]", self.plugins != running.plugins),
            ("[paper]", self.paper != running.paper),
            ("[store]", self.store != running.store),
            ("[api]", self.api != running.api),
            ("[[alert]]", self.alerts != running.alerts),
            ("[signals]", self.signals != running.signals),
            ("[[instrument]]", self.instruments != running.instruments),
            ("[[feed]]", self.feeds != running.feeds),
            (
                "[risk] rate_window_ms",
                self.risk.rate_window_ms != running.risk.rate_window_ms,
            ),
            (
                "[risk] day_start_hour_utc",
                self.risk.day_start_hour_utc != running.risk.day_start_hour_utc,
            ),
        ] {
            if differs {
                changed.push(name);
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests;
