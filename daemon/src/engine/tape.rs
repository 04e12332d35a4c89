//! The engine's inputs as it takes them, told to a [`Tape`]: the seam the session
//! recorder (a layer above) plugs into. The engine knows nothing of files or formats; it
//! tells the tape each input with the wall time it was handled at, in the order it
//! handled them (a batch cut where a control input came between two of its events), so
//! that feeding the same inputs to a fresh engine, with the same wall times, does the same.

use super::command::Command;
use super::outcome::Outcome;
use super::{clock, outcome, Engine, EngineInput, CORE_HOME};
use crate::market::MarketEvent;
use crate::records::Recovered;
use pennant_sdk::Timestamp;

/// One input, as the engine handled it.
#[derive(Debug, Clone, Copy)]
pub enum Frame<'a> {
    /// Market events, handled one after the other.
    Market(&'a [MarketEvent]),
    /// A feed ended.
    FeedEnded(&'a str),
    /// A wall-clock tick.
    Tick,
    /// Shutdown was asked for.
    Shutdown,
    /// A command ran.
    Command(&'a Command),
    /// A venue's later answer (reports, a snapshot), by venue index.
    Venue(usize, &'a crate::venue::VenueEvent),
    /// The store hold changed: trading reduce-only while records are not durable
    /// (`Some(why)`), or lifted. It depends on the disk, not on the other inputs.
    StoreHold(Option<&'a str>),
}

/// Where the engine tells its inputs.
pub trait Tape: Send {
    /// An input handled at wall time `wall` (0 with the event clock).
    fn record(&mut self, wall: Timestamp, frame: Frame<'_>);
    /// The state read back from the store before the first input.
    fn recovered(&mut self, recovered: &Recovered);
    /// The session ended with this outcome.
    fn finish(&mut self, outcome: &Outcome);
}

/// Recording and replaying a session.
impl Engine {
    /// The clock's mode and time now: where a recorded session starts.
    pub fn clock_start(&self) -> (clock::ClockMode, pennant_sdk::Timestamp) {
        let clock = &self.core_ref().clock;
        (clock.mode(), clock.now())
    }

    /// Tells every input from now on to `tape`, and keeps the session's outcome.
    pub fn record_to(&mut self, tape: Box<dyn Tape>) {
        self.keep_outcome();
        self.tape = Some(tape);
    }

    /// Keeps the outcome from now on ([`Engine::outcome`]), to compare two runs by.
    pub fn keep_outcome(&mut self) {
        self.core().outcome.get_or_insert_with(Default::default);
    }

    /// Replays a recorded session: keeps its outcome, and takes the store hold from the
    /// recording ([`Engine::replay_store_hold`]) rather than from a store. The clock must
    /// be a [`clock::Clock::replayed`] one.
    pub fn replay_mode(&mut self) {
        self.keep_outcome();
        self.replaying = true;
    }

    /// One recorded input, handled at recorded wall time `wall`; false once the engine
    /// would stop.
    pub fn replay_input(&mut self, wall: pennant_sdk::Timestamp, input: EngineInput) -> bool {
        self.core().clock.set_wall(wall);
        self.step(input)
    }

    /// A recorded change of the store hold.
    pub fn replay_store_hold(&mut self, wall: pennant_sdk::Timestamp, hold: Option<String>) {
        let core = self.core();
        core.clock.set_wall(wall);
        let now = core.clock.now();
        core.risk.set_store_hold(hold, now);
    }

    /// The outcome so far (orders, updates, positions), when it is kept.
    pub fn outcome(&self) -> Option<outcome::Outcome> {
        let core = self.core_ref();
        let digest = core.outcome.as_ref()?;
        let mut positions = Vec::new();
        for (idx, slot) in self.strategies.iter().enumerate() {
            for p in core.ledger.positions_of(idx, &core.market) {
                let symbol = core.instruments.symbol(p.instrument);
                positions.push(outcome::PositionOutcome::new(&slot.id, symbol, &p));
            }
        }
        Some(digest.outcome(positions))
    }

    /// Tells the tape, if any, an input handled now.
    pub(super) fn tell(&mut self, frame: Frame<'_>) {
        if let Some(tape) = &mut self.tape {
            let wall = self.core.as_ref().expect(CORE_HOME).clock.wall();
            tape.record(wall, frame);
        }
    }
}
