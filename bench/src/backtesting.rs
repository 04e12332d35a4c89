//! `pennantd backtest` and `pennantd sweep` as an author runs them: a backtest with its
//! report (the journal kept, the equity curve sampled, the statistics), and a sweep's
//! runs per second on one thread and on every core.

use crate::report::{duration, rate, Section};
use crate::scenarios::{write_tape, Run};
use crate::setup::market;
use pennant_daemon::backtest::{self, sweep};
use pennant_daemon::config::Config;
use serde_json::json;
use std::time::Instant;

/// The section.
pub fn backtesting(run: &Run) -> Section {
    let mut section = Section::new(
        "Backtest reports and sweeps",
        "`pennantd backtest` on a binary file of generated trades and quotes, sma-cross on \
         1-second bars, the report built (fills and orders from the journal, equity sampled \
         every 60 s of data time, the statistics); then `pennantd sweep` of 8 parameter sets \
         (fast 5..8 x slow 20, 30) over a tenth of the tape, on one thread and on every core \
         (the data decoded once and shared, the component from the compile cache).",
        &["run", "events", "rate", "time"],
    );
    let events = market(run.size(2_000_000));
    let text = run.scratch.join("report-tape.csv");
    write_tape(&text, &events);
    let tape = run.scratch.join("report-tape.bin");
    {
        let file = std::fs::File::create(&tape).expect("the scratch folder is writable");
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let open = || std::fs::File::open(&text).map(std::io::BufReader::new);
        pennant_daemon::market::convert::text_to_binary(open, &mut out)
            .expect("the generated tape converts");
    }
    let _ = std::fs::remove_file(&text);
    let dir = run.scratch.join("backtesting");
    let _ = std::fs::create_dir_all(&dir);
    let config_path = dir.join("pennant.toml");
    let config_text = format!(
        "[daemon]\nstate_dir = {state:?}\nexit_when_feeds_end = true\nlog_level = \"warn\"\n\
         [api]\nenabled = false\n\
         [plugins]\ndir = {components:?}\n\
         [[instrument]]\nsymbol = \"BTC-USDT\"\ntick_size = \"0.1\"\nlot_size = \"0.001\"\n\
         [[strategy]]\nid = \"sma\"\ncomponent = \"sma_cross.wasm\"\n\
         params = {{ instrument = \"BTC-USDT\", qty = \"0.01\", fast = 10, slow = 30, bar_interval_ms = 1000 }}\n",
        state = dir.join("state").display().to_string(),
        components = run.components.display().to_string(),
    );
    std::fs::write(&config_path, config_text).expect("the scratch folder is writable");
    let config = Config::load(&config_path).expect("the generated configuration is valid");
    let options = backtest::Options {
        data: vec![tape.clone()],
        from: None,
        to: None,
        params: Vec::new(),
        capital: pennant_sdk::Amount::from_int(10_000).expect("in range"),
        sample_secs: 60,
    };
    let start = Instant::now();
    let report = backtest::run(config.clone(), &options, |_, _| {}).expect("the backtest runs");
    let elapsed = start.elapsed();
    let per_s = report.period.events as f64 / elapsed.as_secs_f64();
    section.row(
        vec![
            format!("backtest with report ({} fills)", report.fills.len()),
            report.period.events.to_string(),
            rate(per_s),
            duration(elapsed.as_nanos() as f64),
        ],
        json!({"run": "backtest", "events": report.period.events, "events_per_s": per_s}),
    );
    let tenth = events.len() / 10;
    let to = events.get(tenth).map(|e| e.ts());
    let axes: Vec<sweep::Axis> = ["sma.fast=5..8", "sma.slow=20,30"]
        .iter()
        .map(|a| a.parse().expect("a valid axis"))
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut one = 0.0;
    for threads in [1, cores] {
        let options = sweep::SweepOptions {
            axes: axes.clone(),
            draw: sweep::Draw::Grid,
            strategy: None,
            metric: "net_pnl".into(),
            threads,
            shard: None,
            backtest: backtest::Options {
                to,
                ..options.clone()
            },
        };
        let start = Instant::now();
        let results = sweep::run(&config, &options).expect("the sweep runs");
        let elapsed = start.elapsed();
        let runs_per_s = results.rows.len() as f64 / elapsed.as_secs_f64();
        if threads == 1 {
            one = runs_per_s;
        }
        let speedup = runs_per_s / one.max(f64::MIN_POSITIVE);
        section.row(
            vec![
                format!(
                    "sweep of {} runs on {threads} thread(s), {speedup:.2}x one thread",
                    results.rows.len()
                ),
                tenth.to_string(),
                format!("{runs_per_s:.2} runs/s"),
                duration(elapsed.as_nanos() as f64),
            ],
            json!({"run": "sweep", "threads": threads, "runs": results.rows.len(),
                   "events_per_run": tenth, "runs_per_s": runs_per_s, "speedup": speedup}),
        );
    }
    let _ = std::fs::remove_file(&tape);
    section
}
