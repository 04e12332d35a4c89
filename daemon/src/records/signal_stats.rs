//! How good signals were, per strategy and instrument: counts by side, and for each
//! horizon how many were measured, how many went the signal's way, and the average move
//! in the signal's direction. Summed from a store's rows (`GET /api/v1/signals/stats`)
//! or from a backtest's records, and shown the same way by both.

use super::SignalOutcome;
use pennant_sdk::Side;
use std::collections::BTreeMap;

/// One horizon's tally.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HorizonTally {
    /// Signals whose horizon has passed.
    pub measured: u64,
    /// Of those, the ones whose price went the signal's way.
    pub hits: u64,
    /// The sum of their moves in the signal's direction, in basis points.
    pub sum_return_bps: f64,
}

impl HorizonTally {
    /// Hits over measured (`None` before any is measured).
    pub fn hit_rate(&self) -> Option<f64> {
        (self.measured > 0).then(|| self.hits as f64 / self.measured as f64)
    }

    /// The average move in the signal's direction, in basis points.
    pub fn avg_return_bps(&self) -> Option<f64> {
        (self.measured > 0).then(|| self.sum_return_bps / self.measured as f64)
    }
}

/// One strategy's signals on one instrument.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignalTally {
    /// Buy signals.
    pub buys: u64,
    /// Sell signals.
    pub sells: u64,
    /// By horizon, in seconds.
    pub horizons: BTreeMap<u32, HorizonTally>,
}

/// Every strategy's and instrument's tally, by `(strategy, instrument)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignalStats {
    /// The tallies.
    pub tallies: BTreeMap<(String, String), SignalTally>,
}

impl SignalStats {
    fn tally(&mut self, strategy: &str, instrument: &str) -> &mut SignalTally {
        self.tallies
            .entry((strategy.to_owned(), instrument.to_owned()))
            .or_default()
    }

    /// Counts `count` signals of `side`.
    pub fn add_signals(&mut self, strategy: &str, instrument: &str, side: Side, count: u64) {
        let tally = self.tally(strategy, instrument);
        match side {
            Side::Buy => tally.buys += count,
            Side::Sell => tally.sells += count,
        }
    }

    /// Adds what a horizon measured (a row of the store's sums, or one outcome).
    pub fn add_horizon(
        &mut self,
        strategy: &str,
        instrument: &str,
        horizon_secs: u32,
        measured: HorizonTally,
    ) {
        let horizon = self
            .tally(strategy, instrument)
            .horizons
            .entry(horizon_secs)
            .or_default();
        horizon.measured += measured.measured;
        horizon.hits += measured.hits;
        horizon.sum_return_bps += measured.sum_return_bps;
    }

    /// Adds one outcome.
    pub fn add_outcome(&mut self, outcome: &SignalOutcome) {
        let measured = HorizonTally {
            measured: 1,
            hits: u64::from(outcome.hit()),
            sum_return_bps: outcome.return_bps(),
        };
        self.add_horizon(
            &outcome.strategy,
            &outcome.instrument,
            outcome.horizon_secs,
            measured,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_and_returns_follow_the_signals_direction() {
        let outcome = |side, reference, price| SignalOutcome {
            strategy: "s".into(),
            instrument: "X".into(),
            side,
            signal_ts: 0,
            horizon_secs: 60,
            reference,
            price,
        };
        let mut stats = SignalStats::default();
        stats.add_signals("s", "X", Side::Buy, 2);
        stats.add_signals("s", "X", Side::Sell, 1);
        stats.add_outcome(&outcome(Side::Buy, 100, 101)); // +100 bps, a hit
        stats.add_outcome(&outcome(Side::Buy, 100, 99)); // -100 bps
        stats.add_outcome(&outcome(Side::Sell, 200, 190)); // +500 bps, a hit
        let tally = &stats.tallies[&("s".to_owned(), "X".to_owned())];
        assert_eq!((tally.buys, tally.sells), (2, 1));
        let h = tally.horizons[&60];
        assert_eq!((h.measured, h.hits), (3, 2));
        assert_eq!(h.hit_rate(), Some(2.0 / 3.0));
        assert!((h.avg_return_bps().unwrap() - 500.0 / 3.0).abs() < 1e-9);
        assert_eq!(HorizonTally::default().hit_rate(), None);
    }
}
