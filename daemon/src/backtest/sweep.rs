//! `pennantd sweep`: one backtest per set of parameters, in parallel, ranked.
//!
//! The sets are a grid (every combination of the axes' values) or `N` random draws
//! (each axis' value drawn uniformly, from a seed: the same seed, the same draws). The
//! data is read once and shared by every run ([`super::Data`]); compiled components
//! come from the compile cache the runs share. Each run is a whole backtest, on its own
//! engine, on one of `threads` threads; a run's result does not depend on the thread or
//! the order it ran in, so a sweep gives the same rows on one thread as on many.
//!
//! Past one machine, a sweep runs in shards: shard `K` of `N` runs the sets whose place
//! in the drawing order is `K` modulo `N` (any batch scheduler's array job: Kubernetes
//! Indexed Jobs say `K` in `JOB_COMPLETION_INDEX`, Slurm in `SLURM_ARRAY_TASK_ID`), and
//! [`merge`] puts the shards' results together as the whole sweep would have them.

use super::report::StrategyResult;
use super::{BacktestError, Data, Options};
use crate::config::Config;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One parameter and the values it takes: `STRATEGY.KEY=a,b,c`, `STRATEGY.KEY=LO..HI`
/// (integers, both included) or `STRATEGY.KEY=LO..HI:STEP` (decimals too).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// `STRATEGY.KEY`.
    pub name: String,
    /// Its values, in order.
    pub values: Vec<String>,
}

impl std::str::FromStr for Axis {
    type Err = String;
    fn from_str(text: &str) -> Result<Axis, String> {
        let bad = |why: &str| format!("{text:?}: {why} (STRATEGY.KEY=a,b,c or LO..HI[:STEP])");
        let (name, spec) = text.split_once('=').ok_or_else(|| bad("no ="))?;
        if !name.contains('.') {
            return Err(bad("the name is not STRATEGY.KEY"));
        }
        let values = match spec.split_once("..") {
            None => spec.split(',').map(str::to_owned).collect(),
            Some((lo, rest)) => {
                let (hi, step) = rest.split_once(':').unwrap_or((rest, "1"));
                range(lo, hi, step).ok_or_else(|| bad("a range of numbers going up"))?
            }
        };
        if values.iter().any(String::is_empty) || values.len() > 100_000 {
            return Err(bad("empty values, or more than 100,000"));
        }
        Ok(Axis {
            name: name.to_owned(),
            values,
        })
    }
}

/// `lo, lo + step, ...` up to `hi`, printed as the inputs are (as integers when they
/// are integers), computed in fixed point.
fn range(lo: &str, hi: &str, step: &str) -> Option<Vec<String>> {
    let parse = |s: &str| s.trim().parse::<pennant_sdk::Price>().ok();
    let (lo, hi, step) = (parse(lo)?, parse(hi)?, parse(step)?);
    if !step.is_positive() || hi < lo {
        return None;
    }
    let mut values = Vec::new();
    let mut at = lo;
    while at <= hi && values.len() <= 100_000 {
        values.push(at.to_string());
        at = at.checked_add(step)?;
    }
    Some(values)
}

/// How the sets are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draw {
    /// Every combination.
    Grid,
    /// `count` random sets from `seed`.
    Random {
        /// How many.
        count: usize,
        /// The seed.
        seed: u64,
    },
}

/// What `pennantd sweep` is asked.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The parameters swept.
    pub axes: Vec<Axis>,
    /// Grid or random.
    pub draw: Draw,
    /// The strategy ranked (the first configured by default).
    pub strategy: Option<String>,
    /// The field of its report ranked by, highest first (`net_pnl`, `sharpe` ...).
    pub metric: String,
    /// Threads (runs at once).
    pub threads: usize,
    /// The shard of the sweep to run, `(K, N)`: the sets at places `K mod N`.
    pub shard: Option<(usize, usize)>,
    /// The backtest every run makes (its `params` apply to all runs).
    pub backtest: Options,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// Its place in the drawing order.
    pub run: usize,
    /// The parameters it set, `(STRATEGY.KEY, value)`.
    pub params: Vec<(String, String)>,
    /// The ranked metric (null when the run failed).
    pub metric: Option<f64>,
    /// The ranked strategy's results, or why the run failed.
    pub result: Result<StrategyResult, String>,
}

/// A sweep's results, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// The strategy ranked.
    pub strategy: String,
    /// The metric ranked by.
    pub metric: String,
    /// How many sets the whole sweep has.
    pub sets: usize,
    /// The shard these rows are, `(K, N)`; none for a whole sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<(usize, usize)>,
    /// Every run, best first (failed runs last, in drawing order).
    pub rows: Vec<SweepRow>,
}

/// The sets of parameters, in drawing order.
pub fn points(axes: &[Axis], draw: Draw) -> Vec<Vec<(String, String)>> {
    match draw {
        Draw::Grid => {
            let mut sets = vec![Vec::new()];
            for axis in axes {
                sets = sets
                    .into_iter()
                    .flat_map(|set: Vec<(String, String)>| {
                        axis.values.iter().map(move |v| {
                            let mut next = set.clone();
                            next.push((axis.name.clone(), v.clone()));
                            next
                        })
                    })
                    .collect();
            }
            sets
        }
        Draw::Random { count, seed } => {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            (0..count)
                .map(|_| {
                    axes.iter()
                        .map(|axis| {
                            let at = rng.random_range(0..axis.values.len());
                            (axis.name.clone(), axis.values[at].clone())
                        })
                        .collect()
                })
                .collect()
        }
    }
}

/// Runs the sweep.
pub fn run(config: &Config, options: &SweepOptions) -> Result<Sweep, BacktestError> {
    let data = Data::load(config, &options.backtest)?;
    run_on(config, options, &data)
}

/// Runs the sweep over data already read.
pub fn run_on(
    config: &Config,
    options: &SweepOptions,
    data: &Data,
) -> Result<Sweep, BacktestError> {
    let strategy = match &options.strategy {
        Some(id) if config.strategies.iter().any(|s| s.id() == id) => id.clone(),
        Some(id) => {
            return Err(BacktestError::Setup(format!(
                "--strategy {id}: no such strategy in the configuration"
            )))
        }
        None => config
            .strategies
            .first()
            .map(|s| s.id().to_owned())
            .ok_or_else(|| BacktestError::Setup("the configuration has no strategy".into()))?,
    };
    if let Some((k, n)) = options.shard {
        if n == 0 || k >= n {
            return Err(BacktestError::Setup(format!(
                "shard {k} of {n}: the shard must be below the count"
            )));
        }
    }
    let all = points(&options.axes, options.draw);
    let sets: Vec<(usize, Vec<(String, String)>)> = all
        .iter()
        .cloned()
        .enumerate()
        .filter(|(at, _)| options.shard.is_none_or(|(k, n)| at % n == k))
        .collect();
    let next = AtomicUsize::new(0);
    let rows = Mutex::new(Vec::with_capacity(sets.len()));
    let threads = options.threads.clamp(1, sets.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some((at, set)) = sets.get(at) else {
                    return;
                };
                let at = *at;
                let mut backtest = options.backtest.clone();
                backtest
                    .params
                    .extend(set.iter().map(|(name, value)| format!("{name}={value}")));
                let result = data
                    .run(config.clone(), &backtest)
                    .map_err(|err| err.to_string())
                    .and_then(|report| {
                        report
                            .strategies
                            .into_iter()
                            .find(|s| s.id == strategy)
                            .ok_or_else(|| format!("no result for {strategy}"))
                    });
                let metric = result
                    .as_ref()
                    .ok()
                    .and_then(|r| metric_of(r, &options.metric));
                let row = SweepRow {
                    run: at,
                    params: set.clone(),
                    metric,
                    result,
                };
                if let Ok(mut rows) = rows.lock() {
                    rows.push(row);
                }
            });
        }
    });
    let mut rows = rows.into_inner().unwrap_or_default();
    rank(&mut rows);
    Ok(Sweep {
        strategy,
        metric: options.metric.clone(),
        sets: all.len(),
        shard: options.shard,
        rows,
    })
}

/// Best first; failed runs last; ties in drawing order.
fn rank(rows: &mut [SweepRow]) {
    rows.sort_by(|a, b| match (a.metric, b.metric) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.run.cmp(&b.run)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.run.cmp(&b.run),
    });
}

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A results file cannot be read.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The shards are not the shards of one sweep, or some are missing.
    #[error("{0}")]
    Mismatch(String),
}

/// The shards of one sweep, as the whole sweep: every shard of `N` once, of the same
/// sweep (strategy, metric, number of sets).
pub fn merge(shards: Vec<Sweep>) -> Result<Sweep, MergeError> {
    let mismatch = |why: String| MergeError::Mismatch(why);
    let first = shards
        .first()
        .ok_or_else(|| mismatch("no shards to merge".into()))?;
    let (strategy, metric, sets) = (first.strategy.clone(), first.metric.clone(), first.sets);
    let count = first.shard.map_or(1, |(_, n)| n);
    let mut seen = vec![false; count];
    let mut rows = Vec::with_capacity(sets);
    for shard in shards {
        if (shard.strategy.as_str(), shard.metric.as_str(), shard.sets)
            != (strategy.as_str(), metric.as_str(), sets)
        {
            return Err(mismatch(format!(
                "shards of different sweeps: {} by {} over {} sets, and {} by {} over {}",
                strategy, metric, sets, shard.strategy, shard.metric, shard.sets
            )));
        }
        let (k, n) = shard
            .shard
            .ok_or_else(|| mismatch("a whole sweep among the shards".into()))?;
        if n != count || k >= n || std::mem::replace(&mut seen[k], true) {
            return Err(mismatch(format!(
                "shard {k} of {n} twice, or of another count"
            )));
        }
        rows.extend(shard.rows);
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(mismatch(format!("shard {missing} of {count} is missing")));
    }
    rank(&mut rows);
    Ok(Sweep {
        strategy,
        metric,
        sets,
        shard: None,
        rows,
    })
}

impl Sweep {
    /// Reads a `sweep.json`.
    pub fn read(path: &std::path::Path) -> Result<Sweep, MergeError> {
        let failed = |message: String| MergeError::Read {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|err| failed(err.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|err| failed(err.to_string()))
    }
}

/// A numeric field of a strategy's results, by its name in `report.json`.
pub fn metric_of(result: &StrategyResult, metric: &str) -> Option<f64> {
    let value = serde_json::to_value(result).ok()?;
    match value.get(metric)? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl Sweep {
    /// Writes `sweep.json` and `sweep.csv` (a row per run, best first) into `dir`.
    pub fn write(&self, dir: &std::path::Path) -> Result<(), csv::Error> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("sweep.json"), json)?;
        let mut csv = csv::Writer::from_path(dir.join("sweep.csv"))?;
        let names: Vec<String> = self
            .rows
            .first()
            .map(|r| r.params.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default();
        let mut header = vec!["rank".to_owned(), "run".to_owned()];
        header.extend(names.iter().cloned());
        header.push(format!("ranked_by_{}", self.metric));
        header.extend(
            [
                "net_pnl",
                "sharpe",
                "max_drawdown_fraction",
                "fills",
                "error",
            ]
            .map(str::to_owned),
        );
        csv.write_record(&header)?;
        for (rank, row) in self.rows.iter().enumerate() {
            let mut record = vec![(rank + 1).to_string(), row.run.to_string()];
            record.extend(row.params.iter().map(|(_, v)| v.clone()));
            let number = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
            match &row.result {
                Ok(r) => record.extend([
                    number(row.metric),
                    r.net_pnl.clone(),
                    r.performance.sharpe.to_string(),
                    r.performance.max_drawdown_fraction.to_string(),
                    r.fills.to_string(),
                    String::new(),
                ]),
                Err(err) => record.extend([
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    err.clone(),
                ]),
            }
            csv.write_record(&record)?;
        }
        Ok(csv.flush()?)
    }

    /// The best runs as a table, for a terminal.
    pub fn table(&self, top: usize) -> String {
        let mut out = format!(
            "{} runs of {}, by {}:\n",
            self.rows.len(),
            self.strategy,
            self.metric
        );
        for (rank, row) in self.rows.iter().take(top).enumerate() {
            let params: Vec<String> = row.params.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let outcome = match &row.result {
                Ok(r) => format!(
                    "{} {:.6}, net {}, sharpe {:.2}, {} fills",
                    self.metric,
                    row.metric.unwrap_or(f64::NAN),
                    r.net_pnl,
                    r.performance.sharpe,
                    r.fills
                ),
                Err(err) => format!("failed: {err}"),
            };
            out += &format!("{:>4}. {}  {outcome}\n", rank + 1, params.join(" "));
        }
        out
    }

    /// The best run's parameters of the ranked strategy as the configuration's `params`
    /// line, to paste into its `[[strategy]]`.
    pub fn best_params(&self) -> Option<String> {
        let best = self.rows.first()?;
        let result = best.result.as_ref().ok()?;
        let fields: Vec<String> = result
            .params
            .iter()
            .map(|(k, v)| format!("{k} = {}", toml_value(v)))
            .collect();
        Some(format!("params = {{ {} }}", fields.join(", ")))
    }
}

/// A parameter as TOML: a number or a boolean as it is, anything else quoted.
fn toml_value(value: &str) -> String {
    if value.parse::<i64>().is_ok() || value == "true" || value == "false" {
        value.to_owned()
    } else {
        format!("{value:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_read_lists_and_ranges() {
        let check = |text: &str, want: &[&str]| {
            let axis: Axis = text.parse().unwrap();
            assert_eq!(axis.values, want, "{text}");
        };
        check("sma.fast=3,5,8", &["3", "5", "8"]);
        check("sma.fast=3..6", &["3", "4", "5", "6"]);
        check("mm.half_spread_bps=0.5..2:0.5", &["0.5", "1", "1.5", "2"]);
        for bad in [
            "fast=3..6",
            "sma.fast",
            "sma.fast=6..3",
            "sma.fast=1..2:0",
            "sma.fast=a..b",
        ] {
            assert!(bad.parse::<Axis>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_grid_is_every_combination_and_random_draws_follow_the_seed() {
        let axes: Vec<Axis> = ["s.a=1,2", "s.b=x,y,z"].map(|t| t.parse().unwrap()).into();
        let grid = points(&axes, Draw::Grid);
        assert_eq!(grid.len(), 6);
        assert_eq!(
            grid[0],
            [("s.a".into(), "1".into()), ("s.b".into(), "x".into())]
        );
        assert_eq!(
            grid[5],
            [("s.a".into(), "2".into()), ("s.b".into(), "z".into())]
        );
        let draw = |seed| points(&axes, Draw::Random { count: 5, seed });
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        assert_eq!(draw(7).len(), 5);
    }

    #[test]
    fn best_params_print_as_toml() {
        assert_eq!(toml_value("5"), "5");
        assert_eq!(toml_value("true"), "true");
        assert_eq!(toml_value("0.5"), "\"0.5\"");
        assert_eq!(toml_value("BTC-USDT"), "\"BTC-USDT\"");
    }
}
