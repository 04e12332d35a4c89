//! Walk-forward: a sweep optimised on one period and judged on the next, fold after
//! fold, so that a strategy fitted to noise shows it.
//!
//! The data's span is cut into `folds + 1` windows of equal data time. Fold `i` sweeps
//! the parameters over window `i` (in sample), takes the best set, and backtests it over
//! window `i + 1` (out of sample). The report puts each fold's in-sample and
//! out-of-sample metric side by side; their ratio (the walk-forward efficiency) near 1
//! says the parameters carry over, near 0 or below that they were fitted to the past.

use super::sweep::{self, Sweep, SweepOptions};
use super::{BacktestError, Data};
use crate::config::Config;
use pennant_sdk::Timestamp;
use serde::Serialize;

/// One fold.
#[derive(Debug, Clone, Serialize)]
pub struct Fold {
    /// The in-sample window, `[from, to)` in ns.
    pub train: (Timestamp, Timestamp),
    /// The out-of-sample window.
    pub test: (Timestamp, Timestamp),
    /// The best parameters in sample, `(STRATEGY.KEY, value)`.
    pub best: Vec<(String, String)>,
    /// Their metric in sample.
    pub train_metric: Option<f64>,
    /// Their metric out of sample.
    pub test_metric: Option<f64>,
    /// Why the out-of-sample run failed, if it did.
    pub error: Option<String>,
}

/// A walk-forward's folds.
#[derive(Debug, Clone, Serialize)]
pub struct WalkForward {
    /// The strategy ranked.
    pub strategy: String,
    /// The metric ranked by.
    pub metric: String,
    /// The folds, in time order.
    pub folds: Vec<Fold>,
    /// The mean out-of-sample metric over the folds that ran.
    pub mean_test_metric: Option<f64>,
    /// The sum of the out-of-sample metrics over the sum of the in-sample ones.
    pub efficiency: Option<f64>,
}

/// Runs a walk-forward of `folds` folds of the sweep `options` describes.
pub fn run(
    config: &Config,
    options: &SweepOptions,
    folds: usize,
) -> Result<WalkForward, BacktestError> {
    if folds == 0 {
        return Err(BacktestError::Setup(
            "a walk-forward needs a fold at least".into(),
        ));
    }
    let data = Data::load(config, &options.backtest)?;
    let (Some(first), Some(last)) = (data.first_ts(), data.last_ts()) else {
        return Err(BacktestError::Setup(
            "no market events to walk forward over".into(),
        ));
    };
    let span = (last - first + 1).max(folds as i64 + 1);
    let edge = |i: usize| first + (span as i128 * i as i128 / (folds as i128 + 1)) as i64;
    let mut out = Vec::with_capacity(folds);
    let mut strategy = String::new();
    for i in 0..folds {
        let train = (edge(i), edge(i + 1));
        let test = (edge(i + 1), edge(i + 2));
        let in_sample: Sweep = sweep::run_on(config, options, &data.between(train.0, train.1))?;
        strategy = in_sample.strategy.clone();
        let Some(best) = in_sample.rows.first() else {
            continue;
        };
        let mut judged = options.backtest.clone();
        judged.params.extend(
            best.params
                .iter()
                .map(|(name, value)| format!("{name}={value}")),
        );
        let outcome = data.between(test.0, test.1).run(config.clone(), &judged);
        let (test_metric, error) = match outcome {
            Ok(report) => (
                report
                    .strategies
                    .iter()
                    .find(|s| s.id == strategy)
                    .and_then(|s| sweep::metric_of(s, &options.metric)),
                None,
            ),
            Err(err) => (None, Some(err.to_string())),
        };
        out.push(Fold {
            train,
            test,
            best: best.params.clone(),
            train_metric: best.metric,
            test_metric,
            error,
        });
    }
    let tests: Vec<f64> = out.iter().filter_map(|f| f.test_metric).collect();
    let trains: f64 = out
        .iter()
        .filter(|f| f.test_metric.is_some())
        .filter_map(|f| f.train_metric)
        .sum();
    Ok(WalkForward {
        strategy,
        metric: options.metric.clone(),
        mean_test_metric: (!tests.is_empty())
            .then(|| tests.iter().sum::<f64>() / tests.len() as f64),
        efficiency: (trains != 0.0 && !tests.is_empty())
            .then(|| tests.iter().sum::<f64>() / trains),
        folds: out,
    })
}

impl WalkForward {
    /// Writes `walk_forward.json` into `dir`.
    pub fn write(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("walk_forward.json"), json)
    }

    /// A line per fold, for a terminal.
    pub fn table(&self) -> String {
        let mut out = format!(
            "walk-forward of {} by {}, {} folds:\n",
            self.strategy,
            self.metric,
            self.folds.len()
        );
        for (i, fold) in self.folds.iter().enumerate() {
            let best: Vec<String> = fold.best.iter().map(|(n, v)| format!("{n}={v}")).collect();
            let number = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.6}"));
            out += &format!(
                "{:>3}. in sample {} -> out of sample {}  ({})\n",
                i + 1,
                number(fold.train_metric),
                number(fold.test_metric),
                best.join(" ")
            );
        }
        let number = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.4}"));
        out += &format!(
            "mean out of sample {}, efficiency {}\n",
            number(self.mean_test_metric),
            number(self.efficiency)
        );
        out
    }
}
