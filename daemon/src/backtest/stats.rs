//! The statistics of a backtest report, from an equity curve and a list of fills: plain
//! functions of their inputs, so that each is checked on small hand-made cases.
//!
//! Definitions (the report states the annualisation it used):
//! - **Returns** are per sample of the equity curve (the equity at the end of each
//!   sampling interval of data time, capital plus net PnL): `r = E / E_prev - 1`.
//! - **Sharpe** is `mean(r) / stdev(r) * sqrt(periods per year)` (population stdev, no
//!   risk-free rate); **Sortino** is the same over the downside deviation
//!   `sqrt(mean(min(r, 0)^2))`. Both are 0 when the deviation is.
//! - **Max drawdown** is the largest fall of equity from a running peak, in money and as
//!   a fraction of that peak; its **duration** is the longest time equity spent below a
//!   peak (to the recovery, or to the end).
//! - **Calmar** is the annualised return over the max drawdown fraction (0 without one).
//! - A **round trip** is a position from flat to flat (a fill that flips the position
//!   closes one and opens the next): its PnL is the realized PnL of its fills less their
//!   fees. **Profit factor** is the sum of winning trips over the loss of losing ones;
//!   **win rate** the share of trips that made money; **expectancy** the mean trip PnL.
//! - **Exposure** is the share of the period with a position open (in any of its
//!   instruments, for a strategy); **turnover** the traded notional over the capital.

/// One point of an equity curve: data time (ns) and equity.
pub type Point = (i64, f64);

/// The largest fall from a running peak: `(money, fraction of the peak, longest time
/// below a peak in ns)`.
pub fn max_drawdown(curve: &[Point]) -> (f64, f64, i64) {
    let Some(&(start, first)) = curve.first() else {
        return (0.0, 0.0, 0);
    };
    let (mut peak, mut peak_at, mut under) = (first, start, false);
    let (mut depth, mut fraction, mut duration) = (0.0f64, 0.0f64, 0i64);
    for &(ts, equity) in curve {
        if equity >= peak {
            if under {
                // Recovered: the time under the peak runs to here.
                duration = duration.max(ts - peak_at);
            }
            (peak, peak_at, under) = (equity, ts, false);
        } else {
            under = true;
            depth = depth.max(peak - equity);
            if peak > 0.0 {
                fraction = fraction.max((peak - equity) / peak);
            }
            duration = duration.max(ts - peak_at);
        }
    }
    (depth, fraction, duration)
}

/// The returns between consecutive points.
pub fn returns(curve: &[Point]) -> Vec<f64> {
    curve
        .windows(2)
        .filter(|w| w[0].1 != 0.0)
        .map(|w| w[1].1 / w[0].1 - 1.0)
        .collect()
}

/// `(Sharpe, Sortino)`, annualised with `periods_per_year`.
pub fn sharpe_sortino(returns: &[f64], periods_per_year: f64) -> (f64, f64) {
    if returns.is_empty() {
        return (0.0, 0.0);
    }
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
    let down = (returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
    let scale = periods_per_year.sqrt();
    let ratio = |dev: f64| if dev > 0.0 { mean / dev * scale } else { 0.0 };
    (ratio(var.sqrt()), ratio(down))
}

/// One fill, as the statistics need it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    /// Data time, ns.
    pub ts: i64,
    /// Signed quantity: positive bought.
    pub qty: f64,
    /// Price.
    pub price: f64,
    /// Fee paid.
    pub fee: f64,
    /// PnL it realized, before fees.
    pub realized: f64,
}

/// A position from flat to flat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTrip {
    /// When it opened, ns.
    pub opened: i64,
    /// When it closed, ns.
    pub closed: i64,
    /// Realized PnL less fees.
    pub pnl: f64,
}

/// The round trips of one instrument's fills, in order, and when the position still
/// open at the end (no round trip) opened.
pub fn round_trips(fills: &[Fill]) -> (Vec<RoundTrip>, Option<i64>) {
    let mut trips = Vec::new();
    let (mut position, mut opened, mut pnl) = (0.0f64, 0i64, 0.0f64);
    // Quantities are fixed point: compare against half a unit of the 8th decimal.
    let flat = |q: f64| q.abs() < 0.5e-8;
    for fill in fills {
        let before = position;
        position += fill.qty;
        if flat(before) {
            opened = fill.ts;
            pnl = 0.0;
        }
        pnl += fill.realized - fill.fee;
        let flipped = !flat(before) && !flat(position) && before.signum() != position.signum();
        if !flat(before) && (flat(position) || flipped) {
            trips.push(RoundTrip {
                opened,
                closed: fill.ts,
                pnl,
            });
            opened = fill.ts;
            pnl = 0.0;
        }
        if flat(position) {
            position = 0.0;
        }
    }
    (trips, (!flat(position)).then_some(opened))
}

/// The time (ns) covered by at least one of `spans` (`(from, to)`, in any order).
pub fn covered(spans: &mut [(i64, i64)]) -> i64 {
    spans.sort_unstable();
    let (mut total, mut reach) = (0i64, i64::MIN);
    for &(from, to) in spans.iter() {
        let from = from.max(reach);
        if to > from {
            total += to - from;
            reach = to;
        }
    }
    total
}

/// `(profit factor, win rate, expectancy)` of round trips; the profit factor is
/// infinite with wins and no losses, 0 with neither.
pub fn trip_stats(trips: &[RoundTrip]) -> (f64, f64, f64) {
    if trips.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let wins: f64 = trips.iter().map(|t| t.pnl.max(0.0)).sum();
    let losses: f64 = -trips.iter().map(|t| t.pnl.min(0.0)).sum::<f64>();
    let factor = match (wins > 0.0, losses > 0.0) {
        (_, true) => wins / losses,
        (true, false) => f64::INFINITY,
        (false, false) => 0.0,
    };
    let n = trips.len() as f64;
    let won = trips.iter().filter(|t| t.pnl > 0.0).count() as f64;
    (
        factor,
        won / n,
        trips.iter().map(|t| t.pnl).sum::<f64>() / n,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn drawdown_is_the_deepest_fall_from_a_peak_and_the_longest_time_under_one() {
        let check = |curve: &[Point], want: (f64, f64, i64)| {
            let got = max_drawdown(curve);
            assert!((got.0 - want.0).abs() < 1e-9, "{curve:?}: {got:?}");
            assert!((got.1 - want.1).abs() < 1e-9, "{curve:?}: {got:?}");
            assert_eq!(got.2, want.2, "{curve:?}");
        };
        check(&[], (0.0, 0.0, 0));
        check(&[(0, 100.0), (S, 110.0), (2 * S, 120.0)], (0.0, 0.0, 0));
        // Peak 120 at 1 s, trough 90 at 2 s, back above at 4 s: 30, a quarter, 3 s under.
        check(
            &[
                (0, 100.0),
                (S, 120.0),
                (2 * S, 90.0),
                (3 * S, 100.0),
                (4 * S, 121.0),
            ],
            (30.0, 0.25, 3 * S),
        );
        // Never recovers: under the peak until the end.
        check(&[(0, 100.0), (S, 80.0), (5 * S, 90.0)], (20.0, 0.2, 5 * S));
    }

    #[test]
    fn sharpe_and_sortino_scale_the_mean_by_the_deviation() {
        assert_eq!(sharpe_sortino(&[], 365.0), (0.0, 0.0));
        assert_eq!(sharpe_sortino(&[0.01, 0.01], 365.0), (0.0, 0.0));
        // mean 0.005, stdev 0.015, downside sqrt(0.01^2 / 2)
        let (sharpe, sortino) = sharpe_sortino(&[0.02, -0.01], 4.0);
        assert!((sharpe - 0.005 / 0.015 * 2.0).abs() < 1e-12);
        assert!((sortino - 0.005 / (0.0001f64 / 2.0).sqrt() * 2.0).abs() < 1e-12);
        let r = returns(&[(0, 100.0), (S, 110.0), (2 * S, 99.0)]);
        assert!((r[0] - 0.1).abs() < 1e-12 && (r[1] + 0.1).abs() < 1e-12);
    }

    fn fill(ts: i64, qty: f64, realized: f64, fee: f64) -> Fill {
        Fill {
            ts,
            qty,
            price: 100.0,
            fee,
            realized,
        }
    }

    #[test]
    fn a_round_trip_runs_from_flat_to_flat_and_a_flip_starts_the_next() {
        let fills = [
            fill(S, 1.0, 0.0, 0.1),      // open long
            fill(2 * S, 1.0, 0.0, 0.1),  // add
            fill(4 * S, -2.0, 5.0, 0.2), // close: +5 - 0.4 fees
            fill(5 * S, -1.0, 0.0, 0.1), // open short
            fill(7 * S, 2.0, -3.0, 0.1), // flip: closes the short (-3 - 0.2), opens a long
        ];
        let (trips, open_since) = round_trips(&fills);
        assert_eq!(trips.len(), 2);
        assert_eq!((trips[0].opened, trips[0].closed), (S, 4 * S));
        assert!((trips[0].pnl - 4.6).abs() < 1e-9);
        assert_eq!((trips[1].opened, trips[1].closed), (5 * S, 7 * S));
        assert!((trips[1].pnl + 3.2).abs() < 1e-9);
        // 3 s long, 2 s short, and the long opened at 7 s is still open.
        assert_eq!(open_since, Some(7 * S));
        let mut spans: Vec<_> = trips.iter().map(|t| (t.opened, t.closed)).collect();
        spans.push((7 * S, 10 * S));
        spans.push((2 * S, 3 * S)); // inside the first: counted once
        assert_eq!(covered(&mut spans), 8 * S);
        let (factor, win_rate, expectancy) = trip_stats(&trips);
        assert!((factor - 4.6 / 3.2).abs() < 1e-9);
        assert_eq!(win_rate, 0.5);
        assert!((expectancy - 0.7).abs() < 1e-9);
        assert_eq!(trip_stats(&[]), (0.0, 0.0, 0.0));
        assert_eq!(trip_stats(&trips[..1]).0, f64::INFINITY);
    }
}
