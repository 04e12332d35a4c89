//! Time bars aggregated from trades, for strategies that subscribe to them.
//!
//! Bars are aligned to the Unix epoch (a 1-minute bar covers `[12:00:00, 12:01:00)`) and
//! close on the engine clock: once the clock reaches a bar's end, the bar is emitted, even
//! if no trade follows. An interval with no trades emits no bar. A trade that arrives
//! after its interval has closed (live data can lag the wall clock) counts in the bar
//! being built, never reopens a closed one: each interval gives at most one bar, in order.

use pennant_sdk::{Bar, InstrumentId, Qty, Timestamp, Trade, NANOS_PER_MILLI};

/// Aggregates one instrument's trades into bars of one interval.
#[derive(Debug, Clone)]
pub struct BarAggregator {
    instrument: InstrumentId,
    interval_ns: i64,
    open: Option<Bar>,
    /// End of the last bar emitted: no trade goes into an interval before it.
    closed_until: Timestamp,
}

impl BarAggregator {
    /// An aggregator for `instrument` with bars of `interval_ms` (positive).
    pub fn new(instrument: InstrumentId, interval_ms: u32) -> Self {
        BarAggregator {
            instrument,
            interval_ns: i64::from(interval_ms.max(1)) * NANOS_PER_MILLI,
            open: None,
            closed_until: Timestamp::MIN,
        }
    }

    /// The instrument.
    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    /// The interval in milliseconds.
    pub fn interval_ms(&self) -> u32 {
        (self.interval_ns / NANOS_PER_MILLI) as u32
    }

    /// Closes the open bar if the clock has reached its end.
    pub fn close_due(&mut self, now: Timestamp) -> Option<Bar> {
        match self.open {
            Some(bar) if now >= bar.end => self.close(),
            _ => None,
        }
    }

    fn close(&mut self) -> Option<Bar> {
        let bar = self.open.take()?;
        self.closed_until = bar.end;
        Some(bar)
    }

    /// Adds a trade; returns the previous bar if this trade starts a new one. Call
    /// [`Self::close_due`] with the trade's time first to emit bars in time order.
    pub fn add(&mut self, trade: &Trade) -> Option<Bar> {
        // A late trade counts in the current interval: the bar being built, or the first
        // one after those already emitted.
        let floor = self.open.map_or(self.closed_until, |bar| bar.start);
        let ts = trade.ts.max(floor);
        let start = ts - ts.rem_euclid(self.interval_ns);
        let closed = match self.open {
            Some(bar) if bar.start != start => self.close(),
            _ => None,
        };
        match &mut self.open {
            Some(bar) => {
                bar.high = bar.high.max(trade.price);
                bar.low = bar.low.min(trade.price);
                bar.close = trade.price;
                bar.volume = bar.volume.checked_add(trade.qty).unwrap_or(Qty::MAX);
                bar.trades = bar.trades.saturating_add(1);
            }
            None => {
                self.open = Some(Bar {
                    instrument: self.instrument,
                    start,
                    end: start.saturating_add(self.interval_ns),
                    open: trade.price,
                    high: trade.price,
                    low: trade.price,
                    close: trade.price,
                    volume: trade.qty,
                    trades: 1,
                });
            }
        }
        closed
    }

    /// The bar being built, if any.
    pub fn current(&self) -> Option<&Bar> {
        self.open.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{px, qty};
    use pennant_sdk::Side;

    const MINUTE: i64 = 60_000 * NANOS_PER_MILLI;
    const T0: i64 = 1_700_000_000 * 1_000_000_000 - 1_700_000_000 * 1_000_000_000 % MINUTE;

    fn trade(ts: i64, price: &str, size: &str) -> Trade {
        Trade {
            instrument: 1,
            ts,
            price: px(price),
            qty: qty(size),
            aggressor: Side::Buy,
        }
    }

    #[test]
    fn aggregates_ohlcv_within_an_aligned_interval() {
        let mut agg = BarAggregator::new(1, 60_000);
        assert_eq!(agg.add(&trade(T0 + 5, "100", "1")), None);
        assert_eq!(agg.add(&trade(T0 + 10, "105", "0.5")), None);
        assert_eq!(agg.add(&trade(T0 + 20, "98", "2")), None);
        assert_eq!(agg.add(&trade(T0 + 30, "101", "1")), None);
        let bar = agg.add(&trade(T0 + MINUTE, "102", "1")).unwrap();
        assert_eq!(bar.start, T0);
        assert_eq!(bar.end, T0 + MINUTE);
        assert_eq!(
            (bar.open, bar.high, bar.low, bar.close),
            (px("100"), px("105"), px("98"), px("101"))
        );
        assert_eq!(bar.volume, qty("4.5"));
        assert_eq!(bar.trades, 4);
        assert_eq!(agg.current().unwrap().open, px("102"));
    }

    #[test]
    fn a_late_trade_never_reopens_a_closed_interval() {
        let mut agg = BarAggregator::new(1, 60_000);
        agg.add(&trade(T0 + 1, "100", "1"));
        let first = agg.close_due(T0 + MINUTE).unwrap();
        // Stamped inside the closed minute, processed after it closed.
        assert_eq!(agg.add(&trade(T0 + MINUTE - 5, "101", "1")), None);
        let late = agg.current().unwrap();
        assert_eq!((late.start, late.open), (T0 + MINUTE, px("101")));
        // And one stamped before the bar being built goes into it, not into a new bar.
        agg.add(&trade(T0 + MINUTE + 30, "102", "1"));
        assert_eq!(agg.add(&trade(T0 + 10, "99", "1")), None);
        let bar = agg.close_due(T0 + 2 * MINUTE).unwrap();
        assert_eq!((bar.start, bar.low, bar.trades), (T0 + MINUTE, px("99"), 3));
        assert!(bar.start >= first.end);
    }

    #[test]
    fn closes_on_the_clock_and_skips_empty_intervals() {
        let mut agg = BarAggregator::new(1, 60_000);
        agg.add(&trade(T0 + 1, "100", "1"));
        assert_eq!(agg.close_due(T0 + MINUTE - 1), None);
        let bar = agg.close_due(T0 + MINUTE).unwrap();
        assert_eq!(bar.close, px("100"));
        assert_eq!(agg.close_due(T0 + 10 * MINUTE), None, "no trades, no bar");
        // A trade three intervals later opens a bar aligned to its own interval.
        agg.add(&trade(T0 + 3 * MINUTE + 7, "99", "1"));
        assert_eq!(agg.current().unwrap().start, T0 + 3 * MINUTE);
    }
}
