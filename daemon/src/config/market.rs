//! `[[instrument]]` and `[[feed]]`: what is traded, and where market data comes from.

use super::values::{decimal, optional_positive, positive, speed};
use pennant_sdk::{Amount, InstrumentInfo, Price, Qty};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use toml::Spanned;

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
    /// `binance`: the market streams' base URL (default Binance's,
    /// `wss://stream.binance.com:9443`; the spot testnet's is
    /// `wss://stream.testnet.binance.vision`).
    pub url: Option<String>,
    /// `binance`: the instruments whose trades and best bid/ask it receives, by symbol.
    #[serde(default)]
    pub symbols: Vec<Spanned<String>>,
    /// `binance`: how long without a market data message before the connection is
    /// taken for dead and made again.
    pub quiet_ms: Option<NonZeroU32>,
    /// `binance`: the first wait before connecting again; it doubles, with jitter, up
    /// to `reconnect_max_ms`.
    pub reconnect_min_ms: Option<NonZeroU32>,
    /// `binance`: the longest wait between attempts.
    pub reconnect_max_ms: Option<NonZeroU32>,
    /// `binance`: also keep each symbol's L2 book, this many levels a side from the
    /// REST snapshot (at most 5000), kept up to date from the diff depth stream.
    pub depth_levels: Option<NonZeroU32>,
    /// `binance`: the REST base URL depth snapshots come from (default
    /// `https://api.binance.com`; the spot testnet's is `https://testnet.binance.vision`).
    pub rest_url: Option<String>,
}

/// The kinds of feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// Replays a recorded file (the format is `market::replay`'s).
    Replay,
    /// A seeded random walk (`market::synthetic`).
    Synthetic,
    /// Binance's market streams (trades, book tickers, and with `depth_levels` the
    /// diff depth stream) over WebSocket.
    Binance,
}

impl FeedKind {
    /// Whether the feed brings data as it happens, on the wall clock (a replay brings
    /// recorded time).
    pub fn is_live(self) -> bool {
        matches!(self, FeedKind::Synthetic | FeedKind::Binance)
    }
}

/// A feed's settings for its kind, as checked by [`Config::load`].
#[derive(Debug, Clone)]
pub enum FeedSource {
    /// `kind = "replay"`.
    Replay(ReplayConfig),
    /// `kind = "synthetic"`.
    Synthetic(SyntheticConfig),
    /// `kind = "binance"`.
    Binance(BinanceFeedConfig),
}

/// `kind = "binance"`.
#[derive(Debug, Clone)]
pub struct BinanceFeedConfig {
    /// The market streams' base URL, without a trailing `/`.
    pub url: String,
    /// Our symbols (`BTC-USDT`).
    pub symbols: Vec<String>,
    /// Without a message for this long, the connection is made again.
    pub quiet: std::time::Duration,
    /// The first wait before connecting again.
    pub reconnect_min: std::time::Duration,
    /// The longest wait between attempts.
    pub reconnect_max: std::time::Duration,
    /// Levels a side of each symbol's depth snapshot; `None`: no depth.
    pub depth_levels: Option<u32>,
    /// The REST base URL of depth snapshots, without a trailing `/`.
    pub rest_url: String,
}

/// Binance's REST API, where depth snapshots come from.
pub const BINANCE_REST_URL: &str = "https://api.binance.com";

/// Binance's market streams.
pub const BINANCE_STREAM_URL: &str = "wss://stream.binance.com:9443";

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
            FeedKind::Binance => {
                let ms = |v: Option<NonZeroU32>, default: u64| {
                    std::time::Duration::from_millis(v.map_or(default, |v| u64::from(v.get())))
                };
                FeedSource::Binance(BinanceFeedConfig {
                    url: self
                        .url
                        .as_deref()
                        .unwrap_or(BINANCE_STREAM_URL)
                        .trim_end_matches('/')
                        .to_owned(),
                    symbols: self.symbols.iter().map(|s| s.get_ref().clone()).collect(),
                    quiet: ms(self.quiet_ms, 60_000),
                    reconnect_min: ms(self.reconnect_min_ms, 500),
                    reconnect_max: ms(self.reconnect_max_ms, 30_000),
                    depth_levels: self.depth_levels.map(NonZeroU32::get),
                    rest_url: self
                        .rest_url
                        .as_deref()
                        .unwrap_or(BINANCE_REST_URL)
                        .trim_end_matches('/')
                        .to_owned(),
                })
            }
        }
    }

    /// The keys set that do not apply to this kind, and the first required key missing.
    pub(super) fn misfits(&self) -> (Vec<&'static str>, Option<&'static str>) {
        // Each key with the kind it belongs to, and whether it is set.
        let keys = [
            (FeedKind::Replay, "path", self.path.is_some()),
            (FeedKind::Replay, "speed", self.speed.is_some()),
            (FeedKind::Synthetic, "seed", self.seed.is_some()),
            (
                FeedKind::Synthetic,
                "interval_ms",
                self.interval_ms.is_some(),
            ),
            (
                FeedKind::Synthetic,
                "instruments",
                !self.instruments.is_empty(),
            ),
            (FeedKind::Binance, "url", self.url.is_some()),
            (FeedKind::Binance, "symbols", !self.symbols.is_empty()),
            (FeedKind::Binance, "quiet_ms", self.quiet_ms.is_some()),
            (
                FeedKind::Binance,
                "reconnect_min_ms",
                self.reconnect_min_ms.is_some(),
            ),
            (
                FeedKind::Binance,
                "reconnect_max_ms",
                self.reconnect_max_ms.is_some(),
            ),
            (
                FeedKind::Binance,
                "depth_levels",
                self.depth_levels.is_some(),
            ),
            (FeedKind::Binance, "rest_url", self.rest_url.is_some()),
        ];
        let required: &[&str] = match self.kind {
            FeedKind::Replay => &["path"],
            FeedKind::Synthetic => &["interval_ms", "instruments"],
            FeedKind::Binance => &["symbols"],
        };
        let foreign = keys
            .iter()
            .filter(|(kind, _, set)| *set && *kind != self.kind)
            .map(|(_, key, _)| *key)
            .collect();
        let missing = required
            .iter()
            .copied()
            .find(|key| keys.iter().any(|(_, k, set)| k == key && !*set));
        (foreign, missing)
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
