//! The day's PnL per strategy, sampled from the engine's view: what the dashboard draws
//! as the PnL chart of the day. Kept in memory by the API (the store keeps days, not
//! moments): it starts empty at each UTC midnight and at each start of the daemon.

use crate::engine::view::EngineView;
use pennant_sdk::{Amount, Position};
use std::collections::BTreeMap;

/// How often the day's PnL is sampled.
pub const STEP: std::time::Duration = std::time::Duration::from_secs(10);

/// At most this many samples per strategy: a day at [`STEP`].
const MAX_POINTS: usize = 86_400 / STEP.as_secs() as usize;

const DAY_NS: i64 = 86_400 * 1_000_000_000;

/// Each strategy's net PnL (realized and unrealized, less fees) through the day.
#[derive(Debug, Default)]
pub struct Intraday {
    day: i64,
    series: BTreeMap<String, Vec<(i64, Amount)>>,
}

impl Intraday {
    /// Adds one sample of every strategy in `view`, taken at `now` (ns since the epoch);
    /// a sample on a new UTC day drops the day before.
    pub fn sample(&mut self, view: &EngineView, now: i64) {
        for strategy in &view.strategies {
            let net = strategy
                .report
                .positions
                .iter()
                .fold(Amount::ZERO, |acc, (_, p): &(String, Position)| {
                    acc + p.net_pnl()
                });
            self.push(now, &strategy.report.id, net);
        }
    }

    fn push(&mut self, now: i64, id: &str, net: Amount) {
        let day = now.div_euclid(DAY_NS);
        if day != self.day {
            self.day = day;
            self.series.clear();
        }
        let points = self.series.entry(id.to_owned()).or_default();
        if points.len() == MAX_POINTS {
            points.remove(0);
        }
        points.push((now, net));
    }

    /// The samples of each strategy (or of one), oldest first.
    pub fn series<'a>(
        &'a self,
        only: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a str, &'a [(i64, Amount)])> {
        self.series
            .iter()
            .filter(move |(id, _)| only.is_none_or(|o| o == id.as_str()))
            .map(|(id, points)| (id.as_str(), points.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_keeps_its_samples_and_a_new_day_starts_empty() {
        let mut intraday = Intraday::default();
        let one = Amount::from_raw(100_000_000);
        intraday.push(5, "a", Amount::ZERO);
        intraday.push(6, "a", one);
        intraday.push(6, "b", one);
        let a: Vec<_> = intraday.series(Some("a")).collect();
        assert_eq!(a, [("a", &[(5, Amount::ZERO), (6, one)][..])]);
        intraday.push(DAY_NS + 5, "b", one);
        let all: Vec<_> = intraday.series(None).collect();
        assert_eq!(
            all,
            [("b", &[(DAY_NS + 5, one)][..])],
            "the day before is gone"
        );
    }
}
