//! From a configuration to an engine: the one place where the daemon, `check-config` and
//! `replay-session` put an engine together (instruments, clock, WebAssembly host, paper
//! venue, risk engine, per-strategy caps, settings). It has no strategies yet: they come
//! with the first reload pass, as a [`crate::engine::Command::Apply`].

use crate::config::{Config, FeedKind, VenueKind};
use crate::engine::budget::HostLimits;
use crate::engine::clock::ClockMode;
use crate::engine::journal::Journal;
use crate::engine::{Engine, EngineSettings};
use crate::market::Instruments;
use crate::plugin::{PluginError, PluginSettings};
use crate::venue::{ClientOrderIds, DetachedVenue, PaperVenue, Venue};
use pennant_sdk::Timestamp;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the engine's clock starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// Now: the wall clock for a live session; a replay file's first event for a
    /// backtest, so that strategies see data time from `init` on.
    Now,
    /// A backtest of data whose first event is at this time (read by the caller).
    At(Timestamp),
    /// Replaying a recorded session: where its clock was, with the recorded wall times
    /// and compiled code cached in `cache_dir`.
    Replayed {
        /// The engine clock at the recorded session's start.
        clock_now: Timestamp,
        /// The compile cache to use.
        cache_dir: PathBuf,
    },
}

/// The venues started outside (the exchanges' adapters, which need the daemon's runtime
/// and channels), by their index in the configuration. A configured exchange without
/// one is a [`DetachedVenue`].
pub type Connected = Vec<(usize, Box<dyn Venue>)>;

/// The engine `config` describes, recording to `journal`, with no strategies yet.
pub fn engine(
    config: &Config,
    journal: Journal,
    start: Start,
    mut connected: Connected,
) -> Result<Engine, PluginError> {
    let instruments = Arc::new(Instruments::new(
        config.instruments.iter().map(|i| i.info()),
    ));
    let mode = if config.is_live() {
        ClockMode::Wall
    } else {
        ClockMode::Event
    };
    let cache_dir = match &start {
        Start::Now | Start::At(_) => config
            .resolve(&config.daemon.state_dir)
            .join("compile-cache"),
        Start::Replayed { cache_dir, .. } => cache_dir.clone(),
    };
    let plugins = PluginSettings {
        memory_limit_bytes: config.plugins.memory_limit_mib.get() as usize * 1024 * 1024,
        call_budget: Duration::from_millis(u64::from(config.plugins.call_budget_ms.get())),
        cache_dir,
        seed: config.plugins.seed,
    };
    let venues: Vec<Box<dyn Venue>> = if config.venues.is_empty() {
        vec![Box::new(PaperVenue::new(&config.paper))]
    } else {
        config
            .venues
            .iter()
            .enumerate()
            .map(|(i, v)| match v.kind {
                VenueKind::Paper => {
                    Box::new(PaperVenue::new(&v.paper()).named(v.name.get_ref())) as Box<dyn Venue>
                }
                VenueKind::Binance => match connected.iter().position(|(at, _)| *at == i) {
                    Some(at) => connected.swap_remove(at).1,
                    None => Box::new(DetachedVenue::new(v.name.get_ref())),
                },
            })
            .collect()
    };
    let settings = EngineSettings {
        snapshot_interval: Duration::from_secs(u64::from(config.plugins.snapshot_interval_secs)),
        summary_interval: Duration::from_secs(config.daemon.summary_interval_secs),
        exit_when_feeds_end: config.daemon.exit_when_feeds_end,
        feeds: config.feeds.len(),
        keep_versions: config.plugins.keep_versions.get() as usize,
        max_backlog_records: config.store.max_backlog_records.get() as usize,
        market_windows: config.plugins.market_windows,
        signal_horizons: config.signals.horizons_secs.clone(),
    };
    let builder = Engine::builder(instruments.clone(), plugins)
        .clock(mode)
        .venues(venues, config.venue_routes())
        .risk(config.risk.clone())
        .settings(settings)
        .host_limits(HostLimits::from(&config.plugins))
        // The configuration checked the id; the default is the fallback that cannot be.
        .client_ids(ClientOrderIds::new(&config.daemon.id).unwrap_or_default())
        .journal(journal);
    let builder = match start {
        Start::Replayed { clock_now, .. } => builder.replayed_from(clock_now),
        Start::At(ts) => builder.start_at(ts),
        // A backtest's time starts with its data: strategies see it from `init` on.
        Start::Now if mode == ClockMode::Event => {
            match first_replay_timestamp(config, &instruments) {
                Some(ts) => builder.start_at(ts),
                None => builder,
            }
        }
        Start::Now => builder,
    };
    builder.build()
}

/// The time of the first event of the (single) replay file, if it can be read.
fn first_replay_timestamp(config: &Config, instruments: &Instruments) -> Option<Timestamp> {
    use std::io::BufRead;
    let feed = config.feeds.iter().find(|f| f.kind == FeedKind::Replay)?;
    let crate::config::FeedSource::Replay(replay) = feed.source() else {
        return None;
    };
    let file = std::fs::File::open(config.resolve(&replay.path)).ok()?;
    let mut parser = crate::market::replay::LineParser::default();
    std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .take(1_000)
        .find_map(|line| parser.parse(&line, instruments).ok().flatten())
        .map(|event| event.ts())
}
