//! The backtest report: what a run came to, per strategy and per instrument, as JSON
//! (`report.json`, schema below), CSV (`fills.csv`; `orders.csv`, every change of every
//! order; `equity.csv`), a page with charts (`report.html`, [`super::html`]) and a text
//! summary.
//!
//! `report.json` (schema `pennant.backtest.v1`): `period` (first and last event, ns and
//! UTC; events; malformed lines skipped), `capital` and `sampling` (the equity curve's
//! interval, its samples, and the periods per year the ratios are annualised with: a
//! 365-day year, markets that never close), `market` (each instrument's first and last
//! price and their change: the market's own move), and `strategies`, each with its
//! parameters (overrides applied), its PnL
//! (money as exact decimal strings: `net_pnl`, `gross_pnl` = realized + unrealized,
//! `realized_pnl`, `unrealized_pnl`, `fees`), `return`, `max_drawdown`,
//! `max_drawdown_fraction`, `max_drawdown_secs`, `sharpe`, `sortino`, `calmar`,
//! `profit_factor` (null when infinite: wins and no losses), `win_rate`, `expectancy`,
//! `round_trips`, `avg_holding_secs`, `exposure`, `turnover`, counts (`orders`, `fills`,
//! `canceled`, `rejected` by `source/reason`) and `instruments` (per instrument: the same
//! money figures and statistics, from the strategy's part in it as an equity curve of
//! its own, with orders, refusals, fills, traded notional and the position at the end)
//! and `signals` (per instrument: signals by side, and per horizon of `[signals]
//! horizons_secs` those measured before the data ended, their hits, hit rate and average
//! move in the signal's direction in basis points). The statistics are defined in
//! [`super::stats`].

use super::stats::{self, Fill, RoundTrip};
use super::{Options, Run};
use crate::engine::view::EngineView;
use crate::engine::StrategyReport;
use crate::market::{Instruments, MarketEvent};
use pennant_sdk::{Amount, Price, Qty, Side, Timestamp, NANOS_PER_SECOND};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The schema id `report.json` carries.
pub const SCHEMA: &str = "pennant.backtest.v1";

/// The columns of `fills.csv` (the API's fill fields).
const FILL_COLUMNS: &[&str] = &[
    "ts",
    "strategy",
    "instrument",
    "order_id",
    "side",
    "price",
    "qty",
    "fee",
    "liquidity",
    "realized_pnl",
];

/// The columns of `orders.csv` (the API's order fields): every change of every order.
const ORDER_COLUMNS: &[&str] = &[
    "ts",
    "strategy",
    "instrument",
    "order_id",
    "side",
    "kind",
    "time_in_force",
    "price",
    "qty",
    "status",
    "filled_qty",
    "reason",
];

/// Nanoseconds in the year the ratios are annualised with (365 days).
const YEAR_NS: f64 = 365.0 * 86_400.0 * 1e9;

/// See the module docs.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The data replayed.
    pub period: Period,
    /// The capital returns are measured against.
    pub capital: String,
    /// The equity curve's sampling.
    pub sampling: Sampling,
    /// Each instrument's own move.
    pub market: Vec<MarketMove>,
    /// Each strategy's results, in the configuration's order.
    pub strategies: Vec<StrategyResult>,
    /// Each strategy's equity curve, `(ns, equity)`: for `equity.csv` and the charts.
    #[serde(skip)]
    pub curves: Vec<(String, Vec<stats::Point>)>,
    /// Every fill, in order: for `fills.csv`.
    #[serde(skip)]
    pub fills: Vec<(Timestamp, crate::records::FillEvent)>,
    /// Every change of every order, in order: for `orders.csv`.
    #[serde(skip)]
    pub orders: Vec<(Timestamp, crate::records::OrderEvent)>,
    /// Each instrument's price at each sampling instant, by symbol: for the charts.
    #[serde(skip)]
    pub prices: BTreeMap<String, Vec<stats::Point>>,
}

/// The data replayed.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// The first event's time, ns.
    pub from: Timestamp,
    /// The last event's time, ns.
    pub to: Timestamp,
    /// The same, as UTC.
    pub from_utc: String,
    /// The same, as UTC.
    pub to_utc: String,
    /// Market events replayed.
    pub events: u64,
    /// Lines or records skipped as malformed.
    pub malformed: u64,
}

/// The equity curve's sampling.
#[derive(Debug, Clone, Serialize)]
pub struct Sampling {
    /// Seconds of data time between samples.
    pub interval_secs: u32,
    /// Samples per strategy.
    pub samples: usize,
    /// The periods per year the Sharpe and Sortino ratios are annualised with.
    pub periods_per_year: f64,
}

/// An instrument's own move over the period.
#[derive(Debug, Clone, Serialize)]
pub struct MarketMove {
    /// The symbol.
    pub instrument: String,
    /// Its first price (a trade, else a quote's mid).
    pub first: String,
    /// Its last price.
    pub last: String,
    /// `last / first - 1`.
    pub change: f64,
}

/// The first and last price of each instrument, as the data goes, and its price at each
/// sampling instant (for the charts).
#[derive(Debug, Clone, Default)]
pub struct MarketMoves(
    BTreeMap<u32, (Price, Price)>,
    BTreeMap<u32, Vec<stats::Point>>,
);

impl MarketMoves {
    /// Notes an event's price: a trade's, or a quote's mid.
    pub fn see(&mut self, event: &MarketEvent, _instruments: &Instruments) {
        let price = match event {
            MarketEvent::Trade(t) => t.price,
            MarketEvent::Quote(q) if q.bid_price.is_positive() && q.ask_price.is_positive() => {
                q.mid()
            }
            _ => return,
        };
        self.0
            .entry(event.instrument())
            .and_modify(|(_, last)| *last = price)
            .or_insert((price, price));
    }

    /// Notes each instrument's last price at `ts`.
    pub fn sample(&mut self, ts: Timestamp) {
        for (&instrument, &(_, last)) in &self.0 {
            self.1
                .entry(instrument)
                .or_default()
                .push((ts, last.to_f64()));
        }
    }
}

/// One strategy's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyResult {
    /// The strategy id.
    pub id: String,
    /// Where it stands at the end (`running`, or why it was stopped).
    pub state: String,
    /// Its parameters, with the overrides.
    pub params: BTreeMap<String, String>,
    /// Realized plus unrealized PnL, less fees.
    pub net_pnl: String,
    /// Realized plus unrealized PnL.
    pub gross_pnl: String,
    /// PnL of closed positions.
    pub realized_pnl: String,
    /// PnL of what is open at the end, at the last mark.
    pub unrealized_pnl: String,
    /// Fees paid (negative: net rebates).
    pub fees: String,
    /// Return, drawdown, ratios and round trips.
    #[serde(flatten)]
    pub performance: Performance,
    /// Orders accepted by the risk checks and sent.
    pub orders: u64,
    /// Fills.
    pub fills: u64,
    /// Orders canceled.
    pub canceled: u64,
    /// Orders refused, by `source/reason` (`risk/max_position`, `venue/post_only_would_cross` ...).
    pub rejected: BTreeMap<String, u64>,
    /// Per instrument.
    pub instruments: Vec<InstrumentResult>,
    /// Its signals per instrument, and how good they were after each horizon.
    pub signals: Vec<SignalResult>,
}

/// One strategy's signals on one instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalResult {
    /// The instrument's symbol.
    pub instrument: String,
    /// Signals emitted.
    pub signals: u64,
    /// Of which buys.
    pub buys: u64,
    /// Of which sells.
    pub sells: u64,
    /// Per horizon (`[signals] horizons_secs`).
    pub horizons: Vec<HorizonResult>,
}

/// How a strategy's signals on an instrument stood after one horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HorizonResult {
    /// Its name (`1m`, `5m`, `1h`).
    pub horizon: String,
    /// Signals whose horizon passed before the data ended.
    pub measured: u64,
    /// Of those, the ones whose instrument moved their way.
    pub hits: u64,
    /// Hits over measured (null before any is measured).
    pub hit_rate: Option<f64>,
    /// The average move in the signal's direction, in basis points of the mark at
    /// emission (null before any is measured).
    pub avg_return_bps: Option<f64>,
}

/// A strategy's [`SignalResult`]s, from what the run's records summed.
fn signal_results(run: &Run, strategy: &str) -> Vec<SignalResult> {
    run.signals
        .tallies
        .iter()
        .filter(|((id, _), _)| id == strategy)
        .map(|((_, instrument), tally)| {
            let mut horizons = run.horizons.clone();
            horizons.extend(tally.horizons.keys().filter(|h| !run.horizons.contains(h)));
            SignalResult {
                instrument: instrument.clone(),
                signals: tally.buys + tally.sells,
                buys: tally.buys,
                sells: tally.sells,
                horizons: horizons
                    .iter()
                    .map(|h| {
                        let t = tally.horizons.get(h).copied().unwrap_or_default();
                        HorizonResult {
                            horizon: crate::config::signals::horizon_name(*h),
                            measured: t.measured,
                            hits: t.hits,
                            hit_rate: t.hit_rate(),
                            avg_return_bps: t.avg_return_bps(),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The figures of an equity curve and its round trips: a strategy's, or its part in one
/// instrument (the instrument's net PnL over the same capital).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    /// Net PnL over the capital.
    #[serde(rename = "return")]
    pub total_return: f64,
    /// The deepest fall of equity from a peak, in money.
    pub max_drawdown: f64,
    /// The same, as a fraction of the peak.
    pub max_drawdown_fraction: f64,
    /// The longest time equity spent under a peak.
    pub max_drawdown_secs: f64,
    /// Annualised Sharpe ratio of the sampled returns.
    pub sharpe: f64,
    /// Annualised Sortino ratio.
    pub sortino: f64,
    /// Annualised return over the max drawdown fraction.
    pub calmar: f64,
    /// Wins over losses of the round trips; null when infinite.
    pub profit_factor: Option<f64>,
    /// Share of round trips that made money.
    pub win_rate: f64,
    /// Mean PnL of a round trip, less fees.
    pub expectancy: f64,
    /// Positions taken from flat and brought back to flat (or flipped).
    pub round_trips: usize,
    /// Mean time a round trip lasted.
    pub avg_holding_secs: f64,
    /// Share of the period with a position open.
    pub exposure: f64,
    /// Traded notional over the capital.
    pub turnover: f64,
}

/// One strategy's results in one instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstrumentResult {
    /// The symbol.
    pub instrument: String,
    /// Net PnL.
    pub net_pnl: String,
    /// Realized plus unrealized PnL.
    pub gross_pnl: String,
    /// Realized PnL.
    pub realized_pnl: String,
    /// Unrealized PnL at the end.
    pub unrealized_pnl: String,
    /// Fees.
    pub fees: String,
    /// The position at the end.
    pub position: String,
    /// Its average price.
    pub avg_price: String,
    /// Orders sent (accepted by the risk checks).
    pub orders: usize,
    /// Orders refused, by `source/reason`.
    pub rejected: BTreeMap<String, u64>,
    /// Fills.
    pub fills: usize,
    /// Traded notional.
    pub traded_notional: f64,
    /// Return, drawdown, ratios and round trips, from its own equity curve.
    #[serde(flatten)]
    pub performance: Performance,
}

/// Puts the report together from what the run gathered and the engine's last word.
pub(super) fn build(
    run: Run,
    view: &EngineView,
    finals: &[StrategyReport],
    instruments: &Instruments,
    options: &Options,
) -> Report {
    let periods_per_year = YEAR_NS / run.interval as f64;
    let duration = (run.last_ts - run.first_ts).max(1);
    let mut strategies = Vec::new();
    let mut curves = Vec::new();
    for (idx, end) in finals.iter().enumerate() {
        let curve = run.curves.get(idx).cloned().unwrap_or_default();
        let view = view.strategies.iter().find(|s| s.report.id == end.id);
        strategies.push(strategy_result(
            end,
            view,
            &curve,
            &run,
            periods_per_year,
            duration,
        ));
        curves.push((end.id.clone(), curve));
    }
    let market = run
        .market
        .0
        .iter()
        .map(|(&instrument, &(first, last))| MarketMove {
            instrument: instruments.symbol(instrument).to_owned(),
            first: first.to_string(),
            last: last.to_string(),
            change: if first.is_positive() {
                last.to_f64() / first.to_f64() - 1.0
            } else {
                0.0
            },
        })
        .collect();
    Report {
        schema: SCHEMA,
        period: Period {
            from: run.first_ts,
            to: run.last_ts,
            from_utc: utc(run.first_ts),
            to_utc: utc(run.last_ts),
            events: run.events,
            // Filled in by the caller, who read the files.
            malformed: 0,
        },
        capital: options.capital.to_string(),
        sampling: Sampling {
            interval_secs: options.sample_secs,
            samples: curves.first().map_or(0, |(_, c)| c.len()),
            periods_per_year,
        },
        market,
        strategies,
        curves,
        fills: run.fills,
        orders: run.orders,
        prices: run
            .market
            .1
            .iter()
            .map(|(&i, points)| (instruments.symbol(i).to_owned(), points.clone()))
            .collect(),
    }
}

fn strategy_result(
    end: &StrategyReport,
    view: Option<&crate::engine::view::StrategyView>,
    curve: &[stats::Point],
    run: &Run,
    periods_per_year: f64,
    duration: i64,
) -> StrategyResult {
    let sum = |f: fn(&pennant_sdk::Position) -> Amount| {
        end.positions.iter().fold(Amount::ZERO, |acc, (_, p)| {
            acc.checked_add(f(p)).unwrap_or(acc)
        })
    };
    let realized = sum(|p| p.realized_pnl);
    let unrealized = sum(|p| p.unrealized_pnl);
    let fees = sum(|p| p.fees);
    let gross = realized.checked_add(unrealized).unwrap_or(realized);
    let net = gross.checked_sub(fees).unwrap_or(gross);
    let mut trips: Vec<RoundTrip> = Vec::new();
    let mut spans = Vec::new();
    let mut instruments = Vec::new();
    let mut notional = 0.0;
    // Every instrument the strategy held, sent an order in, or had one refused in.
    let mut symbols: std::collections::BTreeSet<&String> =
        end.positions.iter().map(|(symbol, _)| symbol).collect();
    symbols.extend(
        run.orders
            .iter()
            .filter(|(_, o)| o.strategy == end.id)
            .map(|(_, o)| &o.instrument),
    );
    if let Some(v) = view {
        symbols.extend(
            v.rejects_by_instrument
                .iter()
                .map(|(symbol, _, _, _)| symbol),
        );
    }
    for symbol in symbols {
        let flat = pennant_sdk::Position::default();
        let position = end
            .positions
            .iter()
            .find(|(s, _)| s == symbol)
            .map_or(&flat, |(_, p)| p);
        let fills: Vec<Fill> = run
            .fills
            .iter()
            .filter(|(_, f)| f.strategy == end.id && &f.instrument == symbol)
            .map(|(ts, f)| Fill {
                ts: *ts,
                qty: match f.side {
                    Side::Buy => Qty::from_raw(f.qty).to_f64(),
                    Side::Sell => -Qty::from_raw(f.qty).to_f64(),
                },
                price: Price::from_raw(f.price).to_f64(),
                fee: Amount::from_raw(f.fee).to_f64(),
                realized: Amount::from_raw(f.realized_pnl).to_f64(),
            })
            .collect();
        let traded: f64 = fills.iter().map(|f| (f.qty * f.price).abs()).sum();
        notional += traded;
        let (own, open_since) = stats::round_trips(&fills);
        let mut own_spans: Vec<(i64, i64)> = own.iter().map(|t| (t.opened, t.closed)).collect();
        if let Some(opened) = open_since {
            own_spans.push((opened, run.last_ts));
        }
        spans.extend_from_slice(&own_spans);
        let key = (end.id.clone(), symbol.clone());
        let flat_curve = vec![(run.first_ts, run.capital)];
        let own_curve = run.instrument_curves.get(&key).unwrap_or(&flat_curve);
        let gross = position
            .realized_pnl
            .checked_add(position.unrealized_pnl)
            .unwrap_or(position.realized_pnl);
        let own_performance = performance(
            own_curve,
            &own,
            &mut own_spans,
            traded,
            position.net_pnl().to_f64(),
            run,
            periods_per_year,
            duration,
        );
        let orders = run
            .orders
            .iter()
            .filter(|(_, o)| o.strategy == end.id && &o.instrument == symbol)
            .map(|(_, o)| o.order_id)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        instruments.push(InstrumentResult {
            instrument: symbol.clone(),
            net_pnl: position.net_pnl().to_string(),
            gross_pnl: gross.to_string(),
            realized_pnl: position.realized_pnl.to_string(),
            unrealized_pnl: position.unrealized_pnl.to_string(),
            fees: position.fees.to_string(),
            position: position.qty.to_string(),
            avg_price: position.avg_price.to_string(),
            orders,
            rejected: view
                .map(|v| {
                    v.rejects_by_instrument
                        .iter()
                        .filter(|(s, _, _, _)| s == symbol)
                        .map(|(_, source, reason, n)| (format!("{source}/{reason}"), *n))
                        .collect()
                })
                .unwrap_or_default(),
            fills: fills.len(),
            traded_notional: traded,
            performance: own_performance,
        });
        trips.extend(own);
    }
    let performance = performance(
        curve,
        &trips,
        &mut spans,
        notional,
        net.to_f64(),
        run,
        periods_per_year,
        duration,
    );
    let rejected = view
        .map(|v| {
            v.rejects
                .iter()
                .map(|(source, reason, n)| (format!("{source}/{reason}"), *n))
                .collect()
        })
        .unwrap_or_default();
    StrategyResult {
        id: end.id.clone(),
        params: run.params.get(&end.id).cloned().unwrap_or_default(),
        state: {
            let state = view.map_or(&end.state, |v| &v.report.state);
            match state {
                crate::engine::StrategyState::Quarantined { reason }
                | crate::engine::StrategyState::Stopped { reason } => {
                    format!("{}: {reason}", state.name())
                }
                _ => state.name().to_owned(),
            }
        },
        net_pnl: net.to_string(),
        gross_pnl: gross.to_string(),
        realized_pnl: realized.to_string(),
        unrealized_pnl: unrealized.to_string(),
        fees: fees.to_string(),
        performance,
        orders: end.stats.orders,
        fills: end.stats.fills,
        canceled: end.stats.canceled,
        rejected,
        instruments,
        signals: signal_results(run, &end.id),
    }
}

/// The figures of `curve` and `trips` (`spans`: when a position was open; `notional`:
/// traded; `net`: the net PnL at the end).
#[allow(clippy::too_many_arguments)]
fn performance(
    curve: &[stats::Point],
    trips: &[RoundTrip],
    spans: &mut [(i64, i64)],
    notional: f64,
    net: f64,
    run: &Run,
    periods_per_year: f64,
    duration: i64,
) -> Performance {
    let total_return = net / run.capital;
    let (max_drawdown, max_drawdown_fraction, under) = stats::max_drawdown(curve);
    let (sharpe, sortino) = stats::sharpe_sortino(&stats::returns(curve), periods_per_year);
    let annual = total_return * YEAR_NS / duration as f64;
    let calmar = if max_drawdown_fraction > 0.0 {
        annual / max_drawdown_fraction
    } else {
        0.0
    };
    let (profit_factor, win_rate, expectancy) = stats::trip_stats(trips);
    let held: i64 = trips.iter().map(|t| t.closed - t.opened).sum();
    Performance {
        total_return,
        max_drawdown,
        max_drawdown_fraction,
        max_drawdown_secs: under as f64 / NANOS_PER_SECOND as f64,
        sharpe,
        sortino,
        calmar,
        profit_factor: profit_factor.is_finite().then_some(profit_factor),
        win_rate,
        expectancy,
        round_trips: trips.len(),
        avg_holding_secs: if trips.is_empty() {
            0.0
        } else {
            held as f64 / trips.len() as f64 / NANOS_PER_SECOND as f64
        },
        exposure: stats::covered(spans) as f64 / duration as f64,
        turnover: notional / run.capital,
    }
}

/// A time as RFC 3339 UTC, to the nanosecond.
fn utc(ts: Timestamp) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ts))
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ts.to_string())
}

impl Report {
    /// Writes `report.json`, `fills.csv` and `equity.csv` into `dir` (made if needed).
    pub fn write(&self, dir: &Path) -> Result<(), csv::Error> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("report.json"), json)?;
        std::fs::write(dir.join("report.html"), super::html::page(self))?;
        // The API's fields for fills and orders, with their engine time.
        let with_ts = |ts: Timestamp, mut fields: serde_json::Map<String, serde_json::Value>| {
            fields.insert("ts".into(), ts.into());
            serde_json::Value::Object(fields)
        };
        let fills: Vec<_> = self
            .fills
            .iter()
            .map(|(ts, f)| with_ts(*ts, crate::api::json::fill_fields(f)))
            .collect();
        let mut writer = csv::Writer::from_path(dir.join("fills.csv"))?;
        crate::api::csv::write_rows(&mut writer, FILL_COLUMNS, &fills)?;
        writer.flush()?;
        let orders: Vec<_> = self
            .orders
            .iter()
            .map(|(ts, o)| with_ts(*ts, crate::api::json::order_fields(o)))
            .collect();
        let mut writer = csv::Writer::from_path(dir.join("orders.csv"))?;
        crate::api::csv::write_rows(&mut writer, ORDER_COLUMNS, &orders)?;
        writer.flush()?;
        let mut equity = csv::Writer::from_path(dir.join("equity.csv"))?;
        equity.write_record(["ts", "strategy", "equity"])?;
        for (id, curve) in &self.curves {
            for (ts, value) in curve {
                equity.write_record([ts.to_string(), id.clone(), format!("{value:.8}")])?;
            }
        }
        Ok(equity.flush()?)
    }

    /// A few lines per strategy, for a terminal.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "backtest {} to {}: {} events ({} malformed), capital {}\n",
            self.period.from_utc,
            self.period.to_utc,
            self.period.events,
            self.period.malformed,
            self.capital
        );
        for m in &self.market {
            out += &format!(
                "  market {}: {} -> {} ({:+.2}%)\n",
                m.instrument,
                m.first,
                m.last,
                m.change * 100.0
            );
        }
        for s in &self.strategies {
            out += &format!(
                "{} ({}): net {} (gross {}, fees {}), return {:+.4}%, max drawdown {:.2} ({:.2}%, {:.0} s), sharpe {:.2}, sortino {:.2}\n  {} orders, {} fills, {} canceled, {} rejected; {} round trips, win rate {:.1}%, expectancy {:.4}, exposure {:.1}%, turnover {:.2}\n",
                s.id,
                s.state,
                s.net_pnl,
                s.gross_pnl,
                s.fees,
                s.performance.total_return * 100.0,
                s.performance.max_drawdown,
                s.performance.max_drawdown_fraction * 100.0,
                s.performance.max_drawdown_secs,
                s.performance.sharpe,
                s.performance.sortino,
                s.orders,
                s.fills,
                s.canceled,
                s.rejected.values().sum::<u64>(),
                s.performance.round_trips,
                s.performance.win_rate * 100.0,
                s.performance.expectancy,
                s.performance.exposure * 100.0,
                s.performance.turnover,
            );
            for signals in &s.signals {
                let horizons: Vec<String> = signals
                    .horizons
                    .iter()
                    .map(|h| match (h.hit_rate, h.avg_return_bps) {
                        (Some(rate), Some(bps)) => format!(
                            "{} hit {:.1}% avg {:+.2} bps ({})",
                            h.horizon,
                            rate * 100.0,
                            bps,
                            h.measured
                        ),
                        _ => format!("{} not measured", h.horizon),
                    })
                    .collect();
                out += &format!(
                    "  signals {}: {} ({} buy, {} sell); {}\n",
                    signals.instrument,
                    signals.signals,
                    signals.buys,
                    signals.sells,
                    horizons.join(", ")
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_print_as_utc() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            super::utc(1_700_000_000_123_456_789),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(
            super::utc(951_782_400 * 1_000_000_000),
            "2000-02-29T00:00:00Z"
        );
    }
}
