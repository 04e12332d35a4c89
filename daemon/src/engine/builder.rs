//! [`Engine::builder`]: the one way to put an engine together. The daemon (through
//! `assembly`, from a configuration), the replay of a recorded session, the tests and the
//! benchmarks all go through it; each sets what it cares about and takes the defaults
//! for the rest.

use super::budget::HostLimits;
use super::clock::{Clock, ClockMode};
use super::journal::Journal;
use super::{Core, Engine, EngineSettings};
use crate::config::RiskConfig;
use crate::market::Instruments;
use crate::plugin::{PluginError, PluginHost, PluginSettings, SharedClock};
use crate::risk::RiskEngine;
use crate::venue::{ClientOrderIds, PaperVenue, Venue};
use pennant_sdk::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// Where the clock starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClockStart {
    /// The mode's own start (0 with the event clock, now with the wall clock), moved
    /// to this time if given.
    Fresh(Option<Timestamp>),
    /// A replay: at this time, its wall time only what it is told.
    Replayed(Timestamp),
}

/// Sets up an engine; see [`Engine::builder`].
pub struct EngineBuilder {
    instruments: Arc<Instruments>,
    plugins: PluginSettings,
    mode: ClockMode,
    start: ClockStart,
    venues: Vec<Box<dyn Venue>>,
    routes: Vec<usize>,
    risk: RiskConfig,
    settings: EngineSettings,
    host_limits: HostLimits,
    client_ids: ClientOrderIds,
    journal: Journal,
}

impl Default for EngineSettings {
    /// The configuration's defaults, without feeds.
    fn default() -> Self {
        EngineSettings {
            snapshot_interval: Duration::from_secs(60),
            summary_interval: Duration::from_secs(10),
            exit_when_feeds_end: false,
            feeds: 0,
            keep_versions: 5,
            max_backlog_records: 100_000,
            market_windows: true,
            signal_horizons: vec![60, 300, 3600],
        }
    }
}

impl Engine {
    /// An engine trading `instruments`, with strategies loaded under `plugins`. By
    /// default: the event clock from 0, one paper venue without fees for every
    /// instrument, no risk limits, the default settings and per-strategy caps, client
    /// order ids prefixed `pennant`, no journal.
    pub fn builder(instruments: Arc<Instruments>, plugins: PluginSettings) -> EngineBuilder {
        EngineBuilder {
            instruments,
            plugins,
            mode: ClockMode::Event,
            start: ClockStart::Fresh(None),
            venues: Vec::new(),
            routes: Vec::new(),
            risk: RiskConfig::default(),
            settings: EngineSettings::default(),
            host_limits: HostLimits::default(),
            client_ids: ClientOrderIds::default(),
            journal: Journal::default(),
        }
    }
}

impl EngineBuilder {
    /// The wall clock (live) or the event clock (backtests, the default).
    pub fn clock(mut self, mode: ClockMode) -> Self {
        self.mode = mode;
        self
    }

    /// The clock starts at `ts` (a backtest's first event: strategies see data time
    /// from `init` on).
    pub fn start_at(mut self, ts: Timestamp) -> Self {
        self.start = ClockStart::Fresh(Some(ts));
        self
    }

    /// Replaying a recorded session that started at `ts`: the wall time is only what
    /// the recording says.
    pub fn replayed_from(mut self, ts: Timestamp) -> Self {
        self.start = ClockStart::Replayed(ts);
        self
    }

    /// One venue for every instrument.
    pub fn venue(self, venue: Box<dyn Venue>) -> Self {
        self.venues(vec![venue], Vec::new())
    }

    /// Several venues: `routes[i]` is the venue of instrument handle `i + 1` (the first
    /// venue for instruments past the list).
    pub fn venues(mut self, venues: Vec<Box<dyn Venue>>, routes: Vec<usize>) -> Self {
        self.venues = venues;
        self.routes = routes;
        self
    }

    /// The `[risk]` limits.
    pub fn risk(mut self, risk: RiskConfig) -> Self {
        self.risk = risk;
        self
    }

    /// Engine settings.
    pub fn settings(mut self, settings: EngineSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Per-strategy caps.
    pub fn host_limits(mut self, limits: HostLimits) -> Self {
        self.host_limits = limits;
        self
    }

    /// The ids orders carry at venues.
    pub fn client_ids(mut self, ids: ClientOrderIds) -> Self {
        self.client_ids = ids;
        self
    }

    /// Records for the store and the event stream.
    pub fn journal(mut self, journal: Journal) -> Self {
        self.journal = journal;
        self
    }

    /// The engine, with no strategies yet; fails if the WebAssembly host cannot start.
    pub fn build(self) -> Result<Engine, PluginError> {
        let shared = SharedClock::default();
        let plugins = Arc::new(PluginHost::new(self.plugins, shared.clone())?);
        let clock = match self.start {
            ClockStart::Fresh(at) => {
                let mut clock = Clock::new(self.mode, shared);
                if let Some(at) = at {
                    clock.advance(at);
                }
                clock
            }
            ClockStart::Replayed(at) => Clock::replayed(self.mode, at, shared),
        };
        // The default venue, replaced by the configured ones if any.
        let paper = Box::new(PaperVenue::new(&Default::default()));
        let mut core = Core::new(clock, self.instruments, paper, RiskEngine::new(self.risk));
        core.set_venues(self.venues, self.routes);
        core.journal = self.journal;
        core.client_ids = self.client_ids;
        core.set_host_limits(self.host_limits);
        core.signals = super::signal_horizons::SignalHorizons::new(&self.settings.signal_horizons);
        Ok(Engine::new(core, plugins, self.settings))
    }
}
