//! The engine clock: event time in a backtest or replay, wall time when trading live.
//!
//! Everything that needs "now" inside the engine (strategies, timers, bars, the paper
//! venue's latency) reads this clock, which is what makes a backtest reproducible and
//! lets live and simulated trading run the same code.

use crate::plugin::SharedClock;
use pennant_sdk::Timestamp;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

/// Which time the engine follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// Time is the timestamp of the latest event: replays and backtests.
    Event,
    /// Time is the wall clock, never behind the latest event: live feeds.
    Wall,
}

/// The wall clock in nanoseconds since the Unix epoch.
pub fn wall_now() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as Timestamp)
        .unwrap_or(0)
}

/// A clock that only moves forward, published to the strategy sandbox.
///
/// In wall mode the wall clock is read once per input ([`Clock::sample_wall`]), not per
/// event, so that what the engine does is a function of its inputs and of that one
/// reading, which a session recording keeps and a replay sets ([`Clock::set_wall`]).
#[derive(Debug)]
pub struct Clock {
    mode: ClockMode,
    now: Timestamp,
    /// The wall clock as last read (or, replaying, as recorded).
    wall: Timestamp,
    /// Replaying: the wall clock is never read, only set.
    replayed: bool,
    shared: SharedClock,
}

impl Clock {
    /// A clock in `mode`, publishing to `shared`.
    pub fn new(mode: ClockMode, shared: SharedClock) -> Self {
        let now = match mode {
            ClockMode::Event => 0,
            ClockMode::Wall => wall_now(),
        };
        shared.store(now, Ordering::Relaxed);
        Clock {
            mode,
            now,
            wall: now,
            replayed: false,
            shared,
        }
    }

    /// A clock in `mode` that starts at `now` and whose wall time comes only from
    /// [`Clock::set_wall`]: a replay of a recorded session.
    pub fn replayed(mode: ClockMode, now: Timestamp, shared: SharedClock) -> Self {
        shared.store(now, Ordering::Relaxed);
        Clock {
            mode,
            now,
            wall: now,
            replayed: true,
            shared,
        }
    }

    /// Reads the wall clock for the input about to be handled (wall mode, not replaying).
    pub fn sample_wall(&mut self) {
        if self.mode == ClockMode::Wall && !self.replayed {
            self.wall = wall_now();
        }
    }

    /// The wall time the current input is handled at (0 with the event clock).
    pub fn wall(&self) -> Timestamp {
        match self.mode {
            ClockMode::Event => 0,
            ClockMode::Wall => self.wall,
        }
    }

    /// Sets the wall time of the input about to be handled, as recorded.
    pub fn set_wall(&mut self, wall: Timestamp) {
        self.wall = wall;
    }

    /// The mode.
    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Moves to an event's time (and, in wall mode, to the wall clock if that is later).
    pub fn advance(&mut self, event_ts: Timestamp) -> Timestamp {
        let target = match self.mode {
            ClockMode::Event => event_ts,
            ClockMode::Wall => event_ts.max(self.wall),
        };
        if target > self.now {
            self.now = target;
            self.shared.store(target, Ordering::Relaxed);
        }
        self.now
    }

    /// In wall mode, catches up with the wall clock; in event mode, does nothing.
    pub fn tick(&mut self) -> Timestamp {
        match self.mode {
            ClockMode::Event => self.now,
            ClockMode::Wall => self.advance(self.wall),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_time_only_moves_forward() {
        let mut clock = Clock::new(ClockMode::Event, SharedClock::default());
        assert_eq!(clock.advance(100), 100);
        assert_eq!(clock.advance(50), 100);
        assert_eq!(clock.tick(), 100);
        assert_eq!(clock.shared.load(Ordering::Relaxed), 100);
    }

    #[test]
    fn wall_time_is_never_behind_the_wall_clock() {
        let mut clock = Clock::new(ClockMode::Wall, SharedClock::default());
        let before = wall_now();
        clock.sample_wall();
        assert!(clock.advance(0) >= before);
        let future = before + 3_600 * 1_000_000_000;
        assert_eq!(clock.advance(future), future);
    }

    #[test]
    fn a_replayed_wall_clock_reads_only_what_it_is_told() {
        let mut clock = Clock::replayed(ClockMode::Wall, 1_000, SharedClock::default());
        clock.sample_wall();
        assert_eq!(clock.tick(), 1_000);
        clock.set_wall(5_000);
        assert_eq!(clock.wall(), 5_000);
        assert_eq!(clock.advance(2_000), 5_000);
        assert_eq!(clock.tick(), 5_000);
    }
}
