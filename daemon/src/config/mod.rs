//! The daemon's configuration: one TOML file (`config/pennant.toml` is the demo).
//!
//! Every table refuses unknown keys, and every value is checked as it is read, so an error
//! names the key and its line. Relative paths are relative to the configuration file's
//! folder. Prices, quantities and fees are decimals, written as strings (`"0.01"`) or
//! numbers; they are read exactly into fixed point.

pub mod limits;

pub use limits::{limit_applies, validate_limits, LimitScope, Limits};

use pennant_sdk::{Amount, InstrumentInfo, ParseFixedError, Price, Qty};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use toml::Spanned;

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
    /// The folder of the configuration file; relative paths resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The configuration file itself (as given), which the reloader watches and re-reads.
    #[serde(skip)]
    pub source: PathBuf,
}

/// `[daemon]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// This daemon's id: prefixes the client order ids it sends to venues
    /// (`ID-ORDERID`), so that several daemons on one account never collide and each
    /// recognises its own orders. At most [`MAX_DAEMON_ID_LEN`] of `[A-Za-z0-9_-]`.
    #[serde(deserialize_with = "daemon_id")]
    pub id: String,
    /// Where the daemon keeps its state (the store, the spool, the compile cache). By
    /// default systemd's `$STATE_DIRECTORY`, else `/var/lib/pennant`.
    pub state_dir: PathBuf,
    /// How often, in seconds of wall time, to log each strategy's position and PnL.
    pub summary_interval_secs: u64,
    /// Shut down once every feed has ended (for replays and backtests).
    pub exit_when_feeds_end: bool,
    /// Default log level (`error`, `warn`, `info`, `debug`, `trace`); `--log-level` and
    /// `RUST_LOG` override it.
    pub log_level: String,
    /// How long a graceful shutdown (SIGTERM, SIGINT) may take before the daemon exits
    /// regardless, in seconds.
    pub shutdown_timeout_secs: NonZeroU32,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            id: "pennant".into(),
            state_dir: std::env::var_os("STATE_DIRECTORY")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/var/lib/pennant")),
            summary_interval_secs: 10,
            exit_when_feeds_end: false,
            log_level: "info".into(),
            shutdown_timeout_secs: NonZeroU32::MIN.saturating_add(29),
        }
    }
}

/// `[recorder]`: every input of the engine written to the state directory, so that
/// `pennantd replay-session` can run the session again, bit for bit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecorderConfig {
    /// Record live and paper sessions (backtests are reproducible from their files).
    pub enabled: bool,
    /// Where sessions go, one folder each, relative to `[daemon] state_dir`.
    pub dir: PathBuf,
    /// A session's inputs go to files of this size at most (MiB).
    pub segment_mib: NonZeroU32,
    /// All sessions together, at most (MiB): the oldest sessions are deleted to make
    /// room; a session that alone outgrows it stops recording (a session is only
    /// replayable from its start).
    pub max_mib: NonZeroU32,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            enabled: false,
            dir: PathBuf::from("sessions"),
            segment_mib: NonZeroU32::MIN.saturating_add(63),
            max_mib: NonZeroU32::MIN.saturating_add(1023),
        }
    }
}

/// `[api]`: the admin HTTP API and the metrics endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Serve the API and `/metrics` at all.
    pub enabled: bool,
    /// `HOST:PORT` (loopback by default: put a TLS reverse proxy in front for remote
    /// access) or `unix:/path/to.sock`. Port 0 picks a free port (logged).
    pub listen: Spanned<String>,
    /// Endpoints served without a token: any of `healthz`, `readyz`, `metrics`.
    pub public: Vec<PublicEndpoint>,
    /// Requests per second one token may make, sustained.
    pub rate_limit_per_second: NonZeroU32,
    /// Requests one token may make at once above the sustained rate.
    pub rate_limit_burst: NonZeroU32,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: NonZeroU32,
    /// How long a request waits for the engine before answering 503, in milliseconds.
    pub engine_timeout_ms: NonZeroU32,
    /// The bearer tokens, `[[api.token]]`.
    #[serde(rename = "token")]
    pub tokens: Vec<TokenConfig>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            enabled: true,
            listen: Spanned::new(0..0, "127.0.0.1:8642".into()),
            public: vec![
                PublicEndpoint::Healthz,
                PublicEndpoint::Readyz,
                PublicEndpoint::Metrics,
            ],
            rate_limit_per_second: NonZeroU32::MIN.saturating_add(49),
            rate_limit_burst: NonZeroU32::MIN.saturating_add(99),
            max_body_bytes: NonZeroU32::MIN.saturating_add(65_535),
            engine_timeout_ms: NonZeroU32::MIN.saturating_add(4_999),
            tokens: Vec::new(),
        }
    }
}

/// Where the API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// A TCP address.
    Tcp(std::net::SocketAddr),
    /// A Unix socket's path.
    Unix(PathBuf),
}

impl ListenAddr {
    /// `HOST:PORT` or `unix:PATH`.
    pub fn parse(text: &str) -> Result<ListenAddr, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("unix: needs a path, as in unix:/run/pennant/api.sock".into());
            }
            return Ok(ListenAddr::Unix(PathBuf::from(path)));
        }
        text.parse().map(ListenAddr::Tcp).map_err(|_| {
            format!("{text:?} is neither HOST:PORT (such as 127.0.0.1:8642) nor unix:PATH")
        })
    }
}

/// An endpoint that can be served without a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublicEndpoint {
    /// `GET /healthz`.
    Healthz,
    /// `GET /readyz`.
    Readyz,
    /// `GET /metrics`.
    Metrics,
}

/// What a token may do; each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything.
    Viewer,
    /// Also pause, resume and reload strategies.
    Operator,
    /// Also change risk limits, trading states and the kill switch.
    Admin,
}

impl Role {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// `[[api.token]]`: a bearer token and its role. The configuration holds a hash, or says
/// where the token is (an environment variable, a credentials file); the daemon keeps
/// only its SHA-256.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it: named in the audit trail (`api:NAME`) and the rate limits.
    #[serde(deserialize_with = "spanned_identifier")]
    pub name: Spanned<String>,
    /// What it may do.
    pub role: Role,
    /// The token's SHA-256, in hex (`pennantd hash-token` prints it).
    #[serde(default)]
    pub sha256: Option<String>,
    /// An environment variable holding the token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// A file holding the token (relative: to `$CREDENTIALS_DIRECTORY` when systemd set
    /// it, else to the configuration's folder).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
}

/// `[plugins]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginConfig {
    /// The folder of strategy components (`.wasm` files).
    pub dir: PathBuf,
    /// Linear memory each strategy instance may use, in MiB.
    pub memory_limit_mib: NonZeroU32,
    /// Time budget of one call into a strategy, in milliseconds.
    pub call_budget_ms: NonZeroU32,
    /// How often to snapshot each strategy's state, in seconds of engine time; a trapped
    /// strategy is rebuilt from its last snapshot.
    pub snapshot_interval_secs: u32,
    /// Seed of the strategies' random numbers (each strategy's is derived from it and its id).
    pub seed: u64,
    /// Watch the component folder and the configuration file, and reload what changes.
    /// `SIGHUP` reloads either way.
    pub watch: bool,
    /// How long the watcher waits for a file to stop changing before reloading it, in
    /// milliseconds.
    pub reload_debounce_ms: NonZeroU32,
    /// How many versions of each strategy to keep for rollback.
    pub keep_versions: NonZeroU32,
    /// Timers one strategy may have pending; setting one more quarantines it.
    pub max_timers: NonZeroU32,
    /// Bar streams one strategy may subscribe to; `subscribe-bars` refuses more.
    pub max_bar_subscriptions: NonZeroU32,
    /// Longest log line (host `log` call, stdout, stderr) kept, in bytes; longer ones are
    /// cut, and the cut marked.
    pub max_log_line_bytes: NonZeroU32,
    /// Bytes of log one strategy may write per minute; past that its lines are dropped
    /// (and counted) until the minute ends.
    pub log_bytes_per_minute: NonZeroU32,
    /// Longest signal note kept, in bytes; longer ones are cut, and the cut marked.
    pub max_signal_note_bytes: NonZeroU32,
    /// Signals one strategy may emit per minute; past that they are dropped (and counted)
    /// until the minute ends.
    pub signals_per_minute: NonZeroU32,
    /// Largest snapshot of a strategy's state, in bytes; a larger one quarantines it.
    pub max_snapshot_bytes: NonZeroU32,
}

impl Default for PluginConfig {
    fn default() -> Self {
        PluginConfig {
            dir: PathBuf::from("strategies"),
            memory_limit_mib: NonZeroU32::MIN.saturating_add(63),
            call_budget_ms: NonZeroU32::MIN.saturating_add(49),
            snapshot_interval_secs: 60,
            seed: 0,
            watch: true,
            reload_debounce_ms: NonZeroU32::MIN.saturating_add(199),
            keep_versions: NonZeroU32::MIN.saturating_add(4),
            max_timers: NonZeroU32::MIN.saturating_add(999),
            max_bar_subscriptions: NonZeroU32::MIN.saturating_add(15),
            max_log_line_bytes: NonZeroU32::MIN.saturating_add(1023),
            log_bytes_per_minute: NonZeroU32::MIN.saturating_add(256 * 1024 - 1),
            max_signal_note_bytes: NonZeroU32::MIN.saturating_add(255),
            signals_per_minute: NonZeroU32::MIN.saturating_add(599),
            max_snapshot_bytes: NonZeroU32::MIN.saturating_add(16 * 1024 * 1024 - 1),
        }
    }
}

/// `[store]`: the embedded SQLite file by default, PostgreSQL with a `url`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `postgres://user@host:port/database`. The password belongs in the environment
    /// variable `password_env` or in `password_file`, not here.
    pub url: Option<String>,
    /// The SQLite file when there is no `url`, relative to `[daemon] state_dir`.
    pub path: PathBuf,
    /// The environment variable holding the PostgreSQL password.
    pub password_env: String,
    /// A file holding the PostgreSQL password (a systemd credential, say); wins over
    /// `password_env`.
    pub password_file: Option<PathBuf>,
    /// PostgreSQL connections, at most.
    pub pool_size: NonZeroU32,
    /// How long to wait for a PostgreSQL connection, in milliseconds.
    pub connect_timeout_ms: NonZeroU32,
    /// Records per transaction, at most.
    pub batch_max: NonZeroU32,
    /// Batches waiting for the writer, at most, before the engine keeps them itself.
    pub queue: NonZeroU32,
    /// How often to retry an unreachable database while records are spooled, in
    /// milliseconds.
    pub retry_ms: NonZeroU32,
    /// How long one batch's transaction may take before the database counts as
    /// unreachable (its records then go to the spool), in milliseconds.
    pub write_timeout_ms: NonZeroU32,
    /// Records the engine may hold in memory for a writer that cannot keep up. Past it,
    /// or while neither the database nor the spool takes records (a full disk), trading
    /// is reduce-only (cancels and position-reducing orders pass) until the records are
    /// durable again and the backlog is down to half of this.
    pub max_backlog_records: NonZeroU32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: None,
            path: PathBuf::from("pennant.db"),
            password_env: "PENNANT_STORE_PASSWORD".into(),
            password_file: None,
            pool_size: NonZeroU32::MIN.saturating_add(3),
            connect_timeout_ms: NonZeroU32::MIN.saturating_add(4_999),
            batch_max: NonZeroU32::MIN.saturating_add(999),
            queue: NonZeroU32::MIN.saturating_add(1_023),
            retry_ms: NonZeroU32::MIN.saturating_add(999),
            write_timeout_ms: NonZeroU32::MIN.saturating_add(9_999),
            max_backlog_records: NonZeroU32::MIN.saturating_add(99_999),
        }
    }
}

/// `[paper]`: the simulated venue.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaperConfig {
    /// Fee of a maker fill, in basis points of the notional (negative for a rebate).
    #[serde(deserialize_with = "decimal")]
    pub maker_fee_bps: Amount,
    /// Fee of a taker fill, in basis points of the notional.
    #[serde(deserialize_with = "decimal")]
    pub taker_fee_bps: Amount,
    /// Time from submit to the order reaching the simulated matching engine.
    pub latency_ms: u32,
}

/// `[[venue]]`: a place orders go. Each instrument names its venue
/// (`[[instrument]] venue = ...`, else the first).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Its name, in logs, metrics and instruments.
    #[serde(deserialize_with = "spanned_identifier")]
    pub name: Spanned<String>,
    /// What it is: `paper` (the simulator) for now.
    pub kind: VenueKind,
    /// Fee of a maker fill, bps (paper).
    #[serde(default, deserialize_with = "decimal")]
    pub maker_fee_bps: Amount,
    /// Fee of a taker fill, bps (paper).
    #[serde(default, deserialize_with = "decimal")]
    pub taker_fee_bps: Amount,
    /// Time from submit to the simulated matching engine (paper).
    #[serde(default)]
    pub latency_ms: u32,
}

/// The kinds of venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VenueKind {
    /// The simulated venue.
    Paper,
}

impl VenueConfig {
    /// The simulator's settings.
    pub fn paper(&self) -> PaperConfig {
        PaperConfig {
            maker_fee_bps: self.maker_fee_bps,
            taker_fee_bps: self.taker_fee_bps,
            latency_ms: self.latency_ms,
        }
    }
}

/// `[risk]`: pre-trade limits. A limit left out is not checked.
///
/// The limit for a strategy trading an instrument is the strategy's override
/// (`[risk.strategy.ID]`), else the instrument's (`[risk.instrument.SYMBOL]`), else the
/// default (`[risk.defaults]`). Limits on a strategy as a whole (daily loss, gross
/// exposure, order rate) have no per-instrument override. `[risk.global]` limits
/// (position per instrument, gross exposure, order rate, daily loss) apply to all
/// strategies together.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// Limits for every strategy and instrument.
    pub defaults: Limits,
    /// Per-strategy overrides, by strategy id.
    pub strategy: BTreeMap<String, Limits>,
    /// Per-instrument overrides, by symbol.
    pub instrument: BTreeMap<String, Limits>,
    /// Limits on all strategies together.
    pub global: Limits,
    /// The sliding window of the order rate throttle.
    pub rate_window_ms: NonZeroU32,
    /// The hour (UTC) at which the trading day, and so the daily loss, starts.
    pub day_start_hour_utc: u8,
    /// The circuit breaker: a strategy with more refused orders (by the risk checks or
    /// the venue) than this in a minute of engine time is quarantined, the trip audited.
    /// Refusals of a halted or reduce-only trading state do not count. 0 turns it off.
    pub max_rejections_per_minute: u32,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            defaults: Limits::default(),
            strategy: BTreeMap::new(),
            instrument: BTreeMap::new(),
            global: Limits::default(),
            rate_window_ms: NonZeroU32::MIN.saturating_add(999),
            day_start_hour_utc: 0,
            max_rejections_per_minute: 600,
        }
    }
}

/// `[[instrument]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentConfig {
    /// Symbol, e.g. `BTC-USDT`.
    pub symbol: Spanned<String>,
    /// Smallest price increment.
    #[serde(deserialize_with = "positive")]
    pub tick_size: Price,
    /// Smallest quantity increment.
    #[serde(deserialize_with = "positive")]
    pub lot_size: Qty,
    /// Smallest order quantity (default: one lot).
    #[serde(default, deserialize_with = "optional_positive")]
    pub min_qty: Option<Qty>,
    /// Smallest order notional (default: none).
    #[serde(default, deserialize_with = "decimal")]
    pub min_notional: Amount,
    /// The `[[venue]]` it trades on (default: the first).
    #[serde(default)]
    pub venue: Option<Spanned<String>>,
}

impl InstrumentConfig {
    /// The SDK's view of this instrument (its id is assigned by the registry).
    pub fn info(&self) -> InstrumentInfo {
        InstrumentInfo {
            id: 0,
            symbol: self.symbol.get_ref().clone(),
            tick_size: self.tick_size,
            lot_size: self.lot_size,
            min_qty: self.min_qty.unwrap_or(self.lot_size),
            min_notional: self.min_notional,
        }
    }
}

/// `[[feed]]`: a source of market data. Which keys apply depends on `kind`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// Name, for logs.
    pub name: Spanned<String>,
    /// What produces the data.
    pub kind: FeedKind,
    /// `replay`: the file.
    pub path: Option<PathBuf>,
    /// `replay`: 0 replays as fast as possible; 1 at the recorded pace; 10 ten times faster.
    #[serde(default, deserialize_with = "speed")]
    pub speed: Option<f64>,
    /// `synthetic`: seed of the random walk.
    pub seed: Option<u64>,
    /// `synthetic`: time between steps.
    pub interval_ms: Option<NonZeroU32>,
    /// `synthetic`: the random walk of each instrument, by symbol.
    #[serde(default)]
    pub instruments: BTreeMap<String, WalkConfig>,
}

/// The kinds of feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// Replays a recorded file (the format is `market::replay`'s).
    Replay,
    /// A seeded random walk (`market::synthetic`).
    Synthetic,
}

/// A feed's settings for its kind, as checked by [`Config::load`].
#[derive(Debug, Clone)]
pub enum FeedSource {
    /// `kind = "replay"`.
    Replay(ReplayConfig),
    /// `kind = "synthetic"`.
    Synthetic(SyntheticConfig),
}

/// `kind = "replay"`.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    /// The file, as written in the configuration.
    pub path: PathBuf,
    /// 0: as fast as possible; otherwise a multiple of the recorded pace.
    pub speed: f64,
}

/// `kind = "synthetic"`.
#[derive(Debug, Clone)]
pub struct SyntheticConfig {
    /// Seed of the random walk.
    pub seed: u64,
    /// Time between steps.
    pub interval_ms: NonZeroU32,
    /// The random walk of each instrument, by symbol.
    pub instruments: BTreeMap<String, WalkConfig>,
}

impl FeedConfig {
    /// The settings for this feed's kind.
    pub fn source(&self) -> FeedSource {
        match self.kind {
            FeedKind::Replay => FeedSource::Replay(ReplayConfig {
                path: self.path.clone().unwrap_or_default(),
                speed: self.speed.unwrap_or(0.0),
            }),
            FeedKind::Synthetic => FeedSource::Synthetic(SyntheticConfig {
                seed: self.seed.unwrap_or(0),
                interval_ms: self
                    .interval_ms
                    .unwrap_or(NonZeroU32::MIN.saturating_add(99)),
                instruments: self.instruments.clone(),
            }),
        }
    }

    /// The keys set that do not apply to this kind, and the first required key missing.
    fn misfits(&self) -> (Vec<&'static str>, Option<&'static str>) {
        let replay_keys = [
            ("path", self.path.is_some()),
            ("speed", self.speed.is_some()),
        ];
        let synthetic_keys = [
            ("seed", self.seed.is_some()),
            ("interval_ms", self.interval_ms.is_some()),
            ("instruments", !self.instruments.is_empty()),
        ];
        let (foreign, missing): (&[(&str, bool)], Option<&str>) = match self.kind {
            FeedKind::Replay => (&synthetic_keys, self.path.is_none().then_some("path")),
            FeedKind::Synthetic => (
                &replay_keys,
                if self.interval_ms.is_none() {
                    Some("interval_ms")
                } else if self.instruments.is_empty() {
                    Some("instruments")
                } else {
                    None
                },
            ),
        };
        (
            foreign
                .iter()
                .filter(|(_, set)| *set)
                .map(|(k, _)| *k)
                .collect(),
            missing,
        )
    }
}

/// One instrument's random walk in a synthetic feed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkConfig {
    /// Where the mid starts.
    #[serde(deserialize_with = "positive")]
    pub start_price: Price,
    /// The largest move of the mid per step, in basis points.
    #[serde(default = "default_step_bps")]
    pub step_bps: u32,
    /// Quoted spread in ticks.
    #[serde(default = "default_spread_ticks")]
    pub spread_ticks: u32,
    /// The largest size at the bid/ask or traded at once, in lots.
    #[serde(default = "default_max_lots")]
    pub max_lots: u32,
    /// Chance of a trade per step, in percent.
    #[serde(default = "default_trade_percent")]
    pub trade_percent: u8,
}

fn default_step_bps() -> u32 {
    2
}
fn default_spread_ticks() -> u32 {
    2
}
fn default_max_lots() -> u32 {
    100
}
fn default_trade_percent() -> u8 {
    30
}

/// `[[strategy]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Unique id; names the strategy in logs, orders and the API.
    #[serde(deserialize_with = "spanned_identifier")]
    pub id: Spanned<String>,
    /// The component file, relative to `[plugins] dir`.
    pub component: Spanned<PathBuf>,
    /// Parameters passed to the strategy's `init`, as `key = value` strings.
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
    /// What becomes of the strategy's open orders when it stops (its component file is
    /// removed, it leaves the configuration, the daemon shuts down).
    #[serde(default)]
    pub open_orders: OpenOrders,
}

/// What becomes of a strategy's open orders when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenOrders {
    /// Cancel them (the default).
    #[default]
    Cancel,
    /// Leave them working at the venue; their fills still count in the strategy's
    /// position, and it hears about them when it starts again.
    Keep,
}

/// A parameter value: a string, number or boolean, passed to the strategy as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamValue(pub String);

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ParamValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
                Ok(ParamValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads a decimal written as a string, an integer or a float (floats through their
/// shortest exact representation, so `0.1` is exactly `0.1`).
fn decimal<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = ParseFixedError>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<T: FromStr<Err = ParseFixedError>> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a decimal number such as \"0.01\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            v.parse()
                .map_err(|err| E::custom(format!("invalid decimal {v:?}: {err}")))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

fn positive<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = ParseFixedError> + PartialOrd + Default + fmt::Display,
{
    let value: T = decimal(d)?;
    if value > T::default() {
        Ok(value)
    } else {
        Err(de::Error::custom(format!("must be positive, got {value}")))
    }
}

pub(crate) fn optional_positive<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = ParseFixedError> + PartialOrd + Default + fmt::Display,
{
    positive(d).map(Some)
}

fn check_identifier<E: de::Error>(id: &str) -> Result<(), E> {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(E::custom(format!(
            "{id:?} is not an id: use letters, digits, - and _"
        )))
    }
}

fn identifier<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let id = String::deserialize(d)?;
    check_identifier(&id)?;
    Ok(id)
}

/// The longest `[daemon] id`: with a dash and a 20-digit order id, a client order id
/// fits the 36 characters exchanges take.
pub const MAX_DAEMON_ID_LEN: usize = 15;

fn daemon_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let id = identifier(d)?;
    if id.len() > MAX_DAEMON_ID_LEN {
        return Err(de::Error::custom(format!(
            "{id:?} is longer than {MAX_DAEMON_ID_LEN} characters: with an order id it would not fit the 36 characters exchanges take for a client order id"
        )));
    }
    Ok(id)
}

fn spanned_identifier<'de, D: Deserializer<'de>>(d: D) -> Result<Spanned<String>, D::Error> {
    let id = Spanned::<String>::deserialize(d)?;
    check_identifier(id.get_ref())?;
    Ok(id)
}

fn speed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let speed = f64::deserialize(d)?;
    if speed >= 0.0 && speed.is_finite() {
        Ok(Some(speed))
    } else {
        Err(de::Error::custom(
            "must be 0 (as fast as possible) or positive",
        ))
    }
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
            }
        }
        let replays: Vec<_> = self
            .feeds
            .iter()
            .filter(|f| f.kind == FeedKind::Replay)
            .collect();
        let live = self.feeds.iter().any(|f| f.kind == FeedKind::Synthetic);
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
        let mut ids = HashSet::new();
        for strategy in &self.strategies {
            let id = strategy.id.get_ref();
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
        self.feeds.iter().any(|f| f.kind == FeedKind::Synthetic)
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

impl StrategyConfig {
    /// The strategy's id.
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }

    /// The parameters as `(key, value)` pairs.
    pub fn param_pairs(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
