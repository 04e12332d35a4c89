//! A synthetic market for the demo and for tests that need live-looking data without a
//! network: a seeded random walk of the mid price, a quote around it every interval, and
//! trades at the bid or the ask now and then.
//!
//! The same seed gives the same sequence of prices, sizes and sides; timestamps are the
//! wall clock, as for a live feed.

use super::MarketEvent;
use pennant_sdk::{InstrumentInfo, Price, Qty, Quote, Side, Timestamp, Trade};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Parameters of the random walk, per instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkParams {
    /// Where the mid starts.
    pub start_price: Price,
    /// The largest move of the mid per step, in basis points.
    pub step_bps: u32,
    /// The quoted spread, in ticks (at least one).
    pub spread_ticks: u32,
    /// The largest quantity shown at the bid or ask, and traded at once, in lots.
    pub max_lots: u32,
    /// Chance of a trade per step, in percent.
    pub trade_percent: u8,
}

struct Walk {
    info: InstrumentInfo,
    params: WalkParams,
    mid: Price,
}

/// Generates events step by step.
pub struct Generator {
    rng: StdRng,
    walks: Vec<Walk>,
}

impl Generator {
    /// A generator for the given instruments, seeded.
    pub fn new(seed: u64, instruments: Vec<(InstrumentInfo, WalkParams)>) -> Self {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            walks: instruments
                .into_iter()
                .map(|(info, params)| Walk {
                    mid: params.start_price,
                    info,
                    params,
                })
                .collect(),
        }
    }

    /// One step at time `ts`: for each instrument a quote, and maybe a trade before it.
    pub fn step(&mut self, ts: Timestamp, out: &mut Vec<MarketEvent>) {
        for walk in &mut self.walks {
            let tick = walk.info.tick_size.max(Price::EPSILON);
            let lot = walk.info.lot_size.max(Qty::EPSILON);
            // Move the mid by up to step_bps, in hundredths of a basis point.
            let reach = i64::from(walk.params.step_bps) * 100;
            let move_hundredths_bps = self.rng.random_range(-reach..=reach);
            let delta = i128::from(walk.mid.raw()) * i128::from(move_hundredths_bps) / 1_000_000;
            let moved = walk.mid.raw().saturating_add(delta as i64);
            walk.mid = Price::from_raw(moved.max(tick.raw() * 10)).round_to(tick);

            let half_spread = tick
                .checked_mul_int(i64::from(walk.params.spread_ticks.max(1)))
                .unwrap_or(tick)
                .checked_div_int(2)
                .unwrap_or(tick)
                .round_down_to(tick);
            let bid = (walk.mid - half_spread).max(tick);
            let ask = bid
                + tick
                    .checked_mul_int(i64::from(walk.params.spread_ticks.max(1)))
                    .unwrap_or(tick);
            let lots = |rng: &mut StdRng| {
                let n = rng.random_range(1..=walk.params.max_lots.max(1));
                lot.checked_mul_int(i64::from(n)).unwrap_or(lot)
            };
            if self.rng.random_range(0..100u8) < walk.params.trade_percent {
                let aggressor = if self.rng.random_bool(0.5) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                out.push(MarketEvent::Trade(Trade {
                    instrument: walk.info.id,
                    ts,
                    price: if aggressor == Side::Buy { ask } else { bid },
                    qty: lots(&mut self.rng),
                    aggressor,
                }));
            }
            out.push(MarketEvent::Quote(Quote {
                instrument: walk.info.id,
                ts,
                bid_price: bid,
                bid_qty: lots(&mut self.rng),
                ask_price: ask,
                ask_qty: lots(&mut self.rng),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{instrument, px, qty};

    fn generator(seed: u64) -> Generator {
        let info = instrument(1, "BTC-USDT", "0.1", "0.001");
        let params = WalkParams {
            start_price: px("50000"),
            step_bps: 5,
            spread_ticks: 2,
            max_lots: 100,
            trade_percent: 50,
        };
        Generator::new(seed, vec![(info, params)])
    }

    fn run(seed: u64, steps: i64) -> Vec<MarketEvent> {
        let mut g = generator(seed);
        let mut out = Vec::new();
        for ts in 0..steps {
            g.step(ts, &mut out);
        }
        out
    }

    #[test]
    fn is_reproducible_from_its_seed() {
        assert_eq!(run(7, 500), run(7, 500));
        assert_ne!(run(7, 500), run(8, 500));
    }

    #[test]
    fn quotes_are_on_tick_uncrossed_and_trades_hit_them() {
        let events = run(3, 2_000);
        let mut trades = 0;
        for e in &events {
            match e {
                MarketEvent::Quote(q) => {
                    assert!(q.bid_price < q.ask_price);
                    assert!(
                        q.bid_price.is_multiple_of(px("0.1"))
                            && q.ask_price.is_multiple_of(px("0.1"))
                    );
                    assert!(q.bid_qty.is_positive() && q.bid_qty <= qty("0.1"));
                }
                MarketEvent::Trade(t) => {
                    trades += 1;
                    assert!(t.price.is_multiple_of(px("0.1")));
                }
                MarketEvent::Book(_) => panic!("the walk has no depth"),
            }
        }
        assert!(
            (800..1200).contains(&trades),
            "about half the steps trade, got {trades}"
        );
    }
}
