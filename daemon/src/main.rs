//! `pennantd`: the command line over [`pennant_daemon`].

use clap::{Parser, Subcommand};
use pennant_daemon::config::Config;
use pennant_daemon::daemon;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// sysexits: configuration error.
const EX_CONFIG: u8 = 78;
/// sysexits: internal software error.
const EX_SOFTWARE: u8 = 70;
/// sysexits: a service needed is unavailable (the database).
const EX_UNAVAILABLE: u8 = 69;

/// Pennant trading daemon: runs WebAssembly trading strategies against market data,
/// with pre-trade risk checks, on a paper or real venue.
#[derive(Parser)]
#[command(name = "pennantd", version)]
struct Cli {
    /// Configuration file [default: $CONFIGURATION_DIRECTORY/pennant.toml under systemd,
    /// else /etc/pennant/pennant.toml].
    #[arg(long, short, global = true, default_value_os_t = default_config())]
    config: PathBuf,
    /// Log level (error, warn, info, debug, trace); overrides the configuration and
    /// RUST_LOG.
    #[arg(long, global = true)]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

/// `pennantd sweep`'s arguments.
#[derive(clap::Args)]
struct SweepArgs {
    #[command(subcommand)]
    merge: Option<SweepCommand>,
    /// A parameter and its values: STRATEGY.KEY=a,b,c, STRATEGY.KEY=LO..HI
    /// (integers) or STRATEGY.KEY=LO..HI:STEP (repeatable).
    #[arg(long = "grid", value_name = "AXIS", required = true)]
    axes: Vec<String>,
    /// Draw this many random sets over the axes instead of the whole grid.
    #[arg(long)]
    random: Option<usize>,
    /// The seed of the random draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The strategy ranked [default: the first configured].
    #[arg(long)]
    strategy: Option<String>,
    /// The field of its report ranked by, highest first (net_pnl, sharpe, sortino,
    /// calmar, profit_factor, win_rate, expectancy, ...).
    #[arg(long, default_value = "net_pnl")]
    metric: String,
    /// Runs at once [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
    /// Walk forward instead: cut the data into FOLDS + 1 windows, sweep each (in
    /// sample) and judge its best parameters on the next (out of sample); writes
    /// walk_forward.json.
    #[arg(long, value_name = "FOLDS", conflicts_with_all = ["shard", "shards"])]
    walk_forward: Option<usize>,
    /// Run one shard of the sweep: K of N (K from 0), the sets at places K mod N.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Run this array job's shard of N: K from JOB_COMPLETION_INDEX (a Kubernetes
    /// Indexed Job) or SLURM_ARRAY_TASK_ID (a Slurm job array).
    #[arg(long, value_name = "N", conflicts_with = "shard")]
    shards: Option<usize>,
    #[command(flatten)]
    run: BacktestArgs,
    /// The folder the results go to.
    #[arg(long, short, default_value = "sweep-report")]
    out: PathBuf,
}

/// `pennantd sweep merge`.
#[derive(Subcommand)]
enum SweepCommand {
    /// Merge the results of a sweep's shards (their output folders) into the whole
    /// sweep's.
    Merge {
        /// The shards' output folders (each with its sweep.json).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The folder the merged results go to.
        #[arg(long, short, default_value = "sweep-report")]
        out: PathBuf,
    },
}

/// What a backtest replays and how it measures, for `backtest` and `sweep`.
#[derive(clap::Args)]
struct BacktestArgs {
    /// A replay file (text or binary; repeat for more, merged in time order)
    /// [default: the configuration's replay feeds].
    #[arg(long = "data", value_name = "FILE")]
    data: Vec<PathBuf>,
    /// Start of the period: RFC 3339 (2024-01-02T00:00:00Z) or nanoseconds.
    #[arg(long)]
    from: Option<String>,
    /// End of the period (exclusive), as --from.
    #[arg(long)]
    to: Option<String>,
    /// Override a strategy parameter (repeatable).
    #[arg(long = "param", value_name = "STRATEGY.KEY=VALUE")]
    params: Vec<String>,
    /// The capital returns are measured against, in the quote currency.
    #[arg(long, default_value = "10000")]
    capital: String,
    /// Seconds of data time between two points of the equity curve.
    #[arg(long, default_value_t = 60)]
    sample_secs: u32,
}

impl BacktestArgs {
    fn options(self) -> Result<pennant_daemon::backtest::Options, String> {
        Ok(pennant_daemon::backtest::Options {
            data: self.data,
            from: self.from.as_deref().map(data_time).transpose()?,
            to: self.to.as_deref().map(data_time).transpose()?,
            params: self.params,
            capital: self
                .capital
                .parse()
                .map_err(|err| format!("--capital {:?}: {err}", self.capital))?,
            sample_secs: self.sample_secs,
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon (the default).
    Run,
    /// Check the configuration and strategy components, then exit: 0 if they are fine,
    /// 78 with the problem otherwise.
    CheckConfig {
        /// Also ask the exchanges: each Binance venue's instruments against
        /// exchangeInfo and its keys with one signed request, each binance feed's
        /// market streams connected once (69 when one cannot be reached).
        #[arg(long)]
        online: bool,
    },
    /// Ask the running daemon to reload (SIGHUP) and wait until it has: systemd's
    /// ExecReload.
    Reload {
        /// The daemon's process id (systemd's $MAINPID).
        #[arg(long)]
        pid: u32,
        /// How long to wait, in seconds.
        #[arg(long, default_value_t = 90)]
        timeout: u64,
    },
    /// Read an admin API token on standard input and print the SHA-256 that
    /// `[[api.token]] sha256` takes.
    HashToken,
    /// Run a recorded session (`[recorder]`) again on a fresh engine, with the strategy
    /// versions kept with it, and compare its orders, fills and PnL with the recording's:
    /// 0 if they are the same, bit for bit, 1 if they differ.
    ReplaySession {
        /// The session's folder (under the state directory's `sessions/`).
        dir: PathBuf,
    },
    /// Write the market data a recorded session saw as a replay file, for a backtest's
    /// `[[feed]] kind = "replay"`.
    ExportSession {
        /// The session's folder.
        dir: PathBuf,
        /// The file to write [default: standard output].
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Run the configured strategies over replay files as fast as possible, with the
    /// daemon's engine, risk checks and paper venue, and write a report: report.json,
    /// fills.csv, orders.csv and equity.csv in the output folder, a summary on standard
    /// output, and a progress bar on standard error when it is a terminal.
    Backtest {
        #[command(flatten)]
        run: BacktestArgs,
        /// The folder the report goes to.
        #[arg(long, short, default_value = "backtest-report")]
        out: PathBuf,
    },
    /// Run one backtest per set of parameters, in parallel, and rank them: a grid
    /// (every combination of the --grid axes) or --random N draws over them. Writes
    /// sweep.json and sweep.csv in the output folder, the best runs and the best
    /// parameters (as a `params` line) on standard output. `sweep merge` puts the
    /// results of shards together.
    #[command(subcommand_negates_reqs = true, args_conflicts_with_subcommands = true)]
    Sweep(Box<SweepArgs>),
    /// Read Binance's public market data archives (data.binance.vision: trades,
    /// aggTrades or bookTicker, zipped or not, in time order) into a replay file: the
    /// binary format when OUT ends in `.bin`, else text. Rows that do not parse are
    /// skipped and counted.
    Import {
        /// The archive kind: trades, aggTrades or bookTicker.
        #[arg(long)]
        kind: String,
        /// The instrument the rows are of, as the configuration names it (BTC-USDT).
        #[arg(long)]
        symbol: String,
        /// The archives.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The replay file to write.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Convert a text replay file to the binary replay format (fixed-size records that a
    /// replay reads without parsing). Malformed lines are skipped and listed, as a
    /// replay would skip them.
    ConvertReplay {
        /// The text replay file.
        input: PathBuf,
        /// The binary file to write.
        #[arg(long, short)]
        out: PathBuf,
    },
}

/// A time of the data: RFC 3339, or nanoseconds since the epoch.
fn data_time(text: &str) -> Result<i64, String> {
    if let Ok(ns) = text.parse::<i64>() {
        return Ok(ns);
    }
    text.parse::<jiff::Timestamp>()
        .map_err(|err| format!("{text:?} is neither RFC 3339 nor nanoseconds: {err}"))
        .and_then(|t| {
            i64::try_from(t.as_nanosecond()).map_err(|_| format!("{text:?} is out of range"))
        })
}

/// Runs a backtest and writes its report.
fn backtest(
    config: Config,
    options: &pennant_daemon::backtest::Options,
    out: &std::path::Path,
) -> ExitCode {
    use pennant_daemon::backtest;
    let started = std::time::Instant::now();
    // A progress bar on a terminal; nothing when stderr goes to a file or a journal.
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::no_length();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {human_pos}/{human_len} events, {per_sec}, ETA {eta} {wide_bar}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = |done: u64, total: Option<u64>| {
        if let Some(bar) = &bar {
            if let Some(total) = total {
                bar.set_length(total);
            }
            bar.set_position(done);
        }
    };
    let report = backtest::run(config, options, progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = match report {
        Ok(report) => report,
        Err(err) => return backtest_failed(&err),
    };
    if let Err(err) = report.write(out) {
        eprintln!(
            "pennantd: cannot write the report to {}: {err}",
            out.display()
        );
        return ExitCode::from(EX_SOFTWARE);
    }
    let elapsed = started.elapsed().as_secs_f64();
    print!("{}", report.summary());
    println!(
        "report in {} ({:.2} s, {:.2} M events/s)",
        out.display(),
        elapsed,
        report.period.events as f64 / elapsed.max(1e-9) / 1e6
    );
    ExitCode::SUCCESS
}

/// A backtest or a sweep that could not run: the message, and its exit status.
fn backtest_failed(err: &pennant_daemon::backtest::BacktestError) -> ExitCode {
    use pennant_daemon::backtest::BacktestError;
    eprintln!("pennantd: {err}");
    ExitCode::from(match err {
        BacktestError::Setup(_) | BacktestError::Start { .. } => EX_CONFIG,
        BacktestError::Tape(_) => EX_UNAVAILABLE,
        BacktestError::Engine(_) => EX_SOFTWARE,
    })
}

/// The shard to run: `--shard K/N`, or `--shards N` with K from the array job.
fn shard_of(shard: Option<&str>, shards: Option<usize>) -> Result<Option<(usize, usize)>, String> {
    if let Some(text) = shard {
        let bad = || format!("--shard {text:?}: expected K/N, K below N");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        return if k < n { Ok(Some((k, n))) } else { Err(bad()) };
    }
    let Some(n) = shards else {
        return Ok(None);
    };
    let index = ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"]
        .iter()
        .find_map(|name| std::env::var(name).ok().map(|v| (*name, v)));
    let Some((name, value)) = index else {
        return Err("--shards: neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set".into());
    };
    match value.trim().parse::<usize>() {
        Ok(k) if k < n => Ok(Some((k, n))),
        _ => Err(format!("{name}={value:?}: not a shard index below {n}")),
    }
}

/// Runs a walk-forward and writes its folds.
fn walk(
    config: Config,
    options: &pennant_daemon::backtest::sweep::SweepOptions,
    folds: usize,
    out: &std::path::Path,
) -> ExitCode {
    use pennant_daemon::backtest::walk_forward;
    let walked = match walk_forward::run(&config, options, folds) {
        Ok(walked) => walked,
        Err(err) => return backtest_failed(&err),
    };
    if let Err(err) = walked.write(out) {
        eprintln!(
            "pennantd: cannot write the results to {}: {err}",
            out.display()
        );
        return ExitCode::from(EX_SOFTWARE);
    }
    print!("{}", walked.table());
    ExitCode::SUCCESS
}

/// Merges shards' results.
fn sweep_merge(dirs: &[PathBuf], out: &std::path::Path) -> ExitCode {
    use pennant_daemon::backtest::sweep;
    let merged = dirs
        .iter()
        .map(|dir| sweep::Sweep::read(&dir.join("sweep.json")))
        .collect::<Result<Vec<_>, _>>()
        .and_then(sweep::merge);
    let merged = match merged {
        Ok(merged) => merged,
        Err(err) => {
            eprintln!("pennantd: {err}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    if let Err(err) = merged.write(out) {
        eprintln!(
            "pennantd: cannot write the results to {}: {err}",
            out.display()
        );
        return ExitCode::from(EX_SOFTWARE);
    }
    print!("{}", merged.table(10));
    if let Some(best) = merged.best_params() {
        println!("best: {best}");
    }
    ExitCode::SUCCESS
}

/// Runs a sweep and writes its results.
fn sweep(
    config: Config,
    options: &pennant_daemon::backtest::sweep::SweepOptions,
    out: &std::path::Path,
) -> ExitCode {
    use pennant_daemon::backtest::sweep;
    let started = std::time::Instant::now();
    let results = match sweep::run(&config, options) {
        Ok(results) => results,
        Err(err) => return backtest_failed(&err),
    };
    if let Err(err) = results.write(out) {
        eprintln!(
            "pennantd: cannot write the results to {}: {err}",
            out.display()
        );
        return ExitCode::from(EX_SOFTWARE);
    }
    print!("{}", results.table(10));
    if let Some(best) = results.best_params() {
        println!("best: {best}");
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "results in {} ({} runs in {:.2} s, {:.2} runs/s on {} threads)",
        out.display(),
        results.rows.len(),
        elapsed,
        results.rows.len() as f64 / elapsed.max(1e-9),
        options.threads
    );
    ExitCode::SUCCESS
}

/// Imports Binance archives into a replay file (binary through a text file beside it).
fn import(kind: &str, symbol: &str, files: &[PathBuf], out: &std::path::Path) -> ExitCode {
    use pennant_daemon::market::archive;
    let kind: archive::ArchiveKind = match kind.parse() {
        Ok(kind) => kind,
        Err(err) => {
            eprintln!("pennantd: --kind: {err}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let binary = out.extension().is_some_and(|e| e == "bin");
    let text = if binary {
        out.with_extension("csv.part")
    } else {
        out.to_owned()
    };
    let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    let imported = std::fs::File::create(&text)
        .map_err(|err| format!("cannot create {}: {err}", text.display()))
        .and_then(|file| {
            let mut file = std::io::BufWriter::new(file);
            archive::import(&paths, kind, symbol, &mut file).map_err(|err| err.to_string())
        });
    let report = match imported {
        Ok(report) => report,
        Err(err) => {
            eprintln!("pennantd: {err}");
            return ExitCode::from(EX_UNAVAILABLE);
        }
    };
    for (file, row, why) in &report.errors {
        eprintln!("{file}: row {row} skipped: {why}");
    }
    if binary {
        let code = convert_replay(&text, out);
        let _ = std::fs::remove_file(&text);
        if code != ExitCode::SUCCESS {
            return code;
        }
    }
    println!(
        "{}: {} events from {} files ({} header rows, {} rows skipped)",
        out.display(),
        report.events,
        files.len(),
        report.headers,
        report.skipped
    );
    ExitCode::SUCCESS
}

/// Converts a text replay file to a binary one.
fn convert_replay(input: &std::path::Path, out: &std::path::Path) -> ExitCode {
    use pennant_daemon::market::convert;
    let converted = std::fs::File::create(out)
        .map_err(|err| format!("cannot create {}: {err}", out.display()))
        .and_then(|file| {
            let mut file = std::io::BufWriter::new(file);
            let open = || std::fs::File::open(input).map(std::io::BufReader::new);
            convert::text_to_binary(open, &mut file)
                .map_err(|err| format!("{}: {err}", input.display()))
        });
    match converted {
        Ok(report) => {
            for (line, err) in &report.errors {
                eprintln!("{}:{line}: skipped: {err}", input.display());
            }
            if report.malformed > report.errors.len() as u64 {
                eprintln!(
                    "... and {} more malformed lines",
                    report.malformed - report.errors.len() as u64
                );
            }
            eprintln!(
                "converted {} market events of {} symbols ({}) to {}; {} malformed lines skipped",
                report.events,
                report.symbols.len(),
                report.symbols.join(", "),
                out.display(),
                report.malformed
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            let _ = std::fs::remove_file(out);
            eprintln!("pennantd: {err}");
            ExitCode::from(EX_SOFTWARE)
        }
    }
}

/// Writes a session's market data as a replay file.
fn export_session(dir: &std::path::Path, out: Option<&std::path::Path>) -> ExitCode {
    let written = match out {
        Some(path) => std::fs::File::create(path)
            .map_err(|err| format!("cannot create {}: {err}", path.display()))
            .and_then(|file| {
                let mut file = std::io::BufWriter::new(file);
                pennant_daemon::recorder::export::export(dir, &mut file).map_err(|e| e.to_string())
            }),
        None => pennant_daemon::recorder::export::export(dir, &mut std::io::stdout().lock())
            .map_err(|e| e.to_string()),
    };
    match written {
        Ok(report) => {
            eprintln!(
                "exported {} market events ({} written at a later time to keep the times in order)",
                report.events, report.retimed
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("pennantd: {err}");
            ExitCode::from(EX_SOFTWARE)
        }
    }
}

/// Replays a session and prints what it came to beside what was recorded.
fn replay_session(dir: &std::path::Path) -> ExitCode {
    let report = match pennant_daemon::recorder::replay::replay(dir) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("pennantd: {err}");
            return ExitCode::from(EX_SOFTWARE);
        }
    };
    let mut out = std::io::stdout().lock();
    let r = &report.replayed;
    let _ = writeln!(
        out,
        "replayed {} inputs ({} market events)",
        report.inputs, report.events
    );
    let _ = writeln!(out, "{:<10} {:>10} {:>10}", "", "recorded", "replayed");
    let rec = report.recorded.as_ref();
    type Count = fn(&pennant_daemon::engine::outcome::Outcome) -> u64;
    let rows: [(&str, Count); 3] = [
        ("orders", |o| o.orders),
        ("updates", |o| o.updates),
        ("fills", |o| o.fills),
    ];
    for (name, count) in rows {
        let recorded = rec.map_or("-".to_owned(), |o| count(o).to_string());
        let _ = writeln!(out, "{name:<10} {recorded:>10} {:>10}", count(r));
    }
    for p in &r.positions {
        let _ = writeln!(
            out,
            "position {} {}: qty {} realized {} fees {}",
            p.strategy,
            p.instrument,
            pennant_sdk::Qty::from_raw(p.qty),
            pennant_sdk::Amount::from_raw(p.realized_pnl),
            pennant_sdk::Amount::from_raw(p.fees)
        );
    }
    let _ = writeln!(out, "digest replayed {}", r.digest);
    match rec {
        Some(recorded) if report.same() => {
            let _ = writeln!(
                out,
                "same orders, fills and PnL as recorded ({})",
                recorded.digest
            );
            ExitCode::SUCCESS
        }
        Some(recorded) => {
            let _ = writeln!(out, "digest recorded {}", recorded.digest);
            let _ = writeln!(out, "DIFFERENT from the recording");
            ExitCode::from(1)
        }
        None => {
            let _ = writeln!(out, "the recording has no outcome (the daemon did not shut down cleanly): nothing to compare");
            ExitCode::from(1)
        }
    }
}

/// Sends SIGHUP to `pid` and waits for the reload marker to count one more reload.
fn reload(pid: u32, timeout: u64) -> Result<String, String> {
    let marker = pennant_daemon::service::reload_marker(pid);
    let before = pennant_daemon::service::reloads_done(&marker);
    let target = i32::try_from(pid)
        .ok()
        .filter(|&p| p > 1)
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| format!("{pid} is not a daemon's process id"))?;
    rustix::process::kill_process(target, rustix::process::Signal::HUP)
        .map_err(|err| format!("cannot signal process {pid}: {err}"))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(timeout);
    while std::time::Instant::now() < deadline {
        if pennant_daemon::service::reloads_done(&marker) > before {
            let done = std::fs::read_to_string(&marker).unwrap_or_default();
            return match done.split_whitespace().nth(1) {
                Some("ok") => Ok(done),
                _ => Err(done.trim_end().to_owned()),
            };
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err(format!(
        "no reload completed within {timeout} s ({})",
        marker.display()
    ))
}

fn default_config() -> PathBuf {
    std::env::var_os("CONFIGURATION_DIRECTORY")
        .map(|dir| PathBuf::from(dir).join("pennant.toml"))
        .unwrap_or_else(|| PathBuf::from("/etc/pennant/pennant.toml"))
}

/// The level filter specs, each overriding the ones before: the configuration's,
/// `RUST_LOG`, `--log-level`, and wasmtime's compiler kept quiet at info.
fn filter_specs(config_level: &str, cli_level: Option<&str>) -> Vec<String> {
    let mut specs = vec![config_level.to_owned()];
    specs.extend(std::env::var("RUST_LOG").ok());
    specs.extend(cli_level.map(str::to_owned));
    specs.push("cranelift_codegen=warn,wasmtime=warn".into());
    specs
}

/// journald, with the records' key-values as fields (STRATEGY, INSTRUMENT, ORDER_ID,
/// REASON...), filtered like the stderr logger.
struct Journal {
    filter: env_filter::Filter,
    journal: systemd_journal_logger::JournalLog,
}

impl log::Log for Journal {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.filter.enabled(metadata)
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.filter.matches(record) {
            self.journal.log(record);
        }
    }
    fn flush(&self) {
        self.journal.flush();
    }
}

/// Under systemd (stderr connected to the journal) logs go to journald with structured
/// fields; otherwise to stderr, human-readable.
fn init_logging(config_level: &str, cli_level: Option<&str>) {
    let specs = filter_specs(config_level, cli_level);
    if systemd_journal_logger::connected_to_journal() {
        if let Ok(journal) = systemd_journal_logger::JournalLog::new() {
            let mut builder = env_filter::Builder::new();
            for spec in &specs {
                builder.parse(spec);
            }
            let filter = builder.build();
            let level = filter.filter();
            let logger = Journal {
                filter,
                journal: journal.with_syslog_identifier("pennantd".into()),
            };
            if log::set_boxed_logger(Box::new(logger)).is_ok() {
                log::set_max_level(level);
            }
            return;
        }
    }
    let mut builder = env_logger::Builder::new();
    for spec in &specs {
        builder.parse_filters(spec);
    }
    builder.format_timestamp_micros().init();
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Some(Command::HashToken) = cli.command {
        let mut token = String::new();
        if std::io::stdin().read_line(&mut token).is_err() || token.trim().is_empty() {
            eprintln!("pennantd: give the token on standard input");
            return ExitCode::from(EX_CONFIG);
        }
        println!("{}", pennant_daemon::api::hash_token(&token));
        return ExitCode::SUCCESS;
    }
    if let Some(Command::ReplaySession { dir }) = &cli.command {
        // The session carries its own configuration.
        init_logging("warn", cli.log_level.as_deref());
        return replay_session(dir);
    }
    if let Some(Command::ExportSession { dir, out }) = &cli.command {
        init_logging("warn", cli.log_level.as_deref());
        return export_session(dir, out.as_deref());
    }
    if let Some(Command::ConvertReplay { input, out }) = &cli.command {
        return convert_replay(input, out);
    }
    if let Some(Command::Import {
        kind,
        symbol,
        files,
        out,
    }) = &cli.command
    {
        return import(kind, symbol, files, out);
    }
    if let Some(Command::Reload { pid, timeout }) = cli.command {
        // Needs no configuration: it must work while the file is broken.
        return match reload(pid, timeout) {
            Ok(done) => {
                println!("{}", done.trim_end());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("pennantd: {err}");
                ExitCode::from(EX_SOFTWARE)
            }
        };
    }
    let config = match Config::load(&cli.config) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("pennantd: {err}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    init_logging(&config.daemon.log_level, cli.log_level.as_deref());
    match cli.command {
        Some(Command::Backtest { run, out }) => {
            return match run.options() {
                Ok(options) => backtest(config, &options, &out),
                Err(err) => {
                    eprintln!("pennantd: {err}");
                    ExitCode::from(EX_CONFIG)
                }
            };
        }
        Some(Command::Sweep(args)) => {
            let SweepArgs {
                merge,
                axes,
                random,
                seed,
                strategy,
                metric,
                threads,
                walk_forward,
                shard,
                shards,
                run,
                out,
            } = *args;
            if let Some(SweepCommand::Merge { dirs, out }) = merge {
                return sweep_merge(&dirs, &out);
            }
            let options = (|| {
                let axes = axes
                    .iter()
                    .map(|a| a.parse().map_err(|err| format!("--grid {err}")))
                    .collect::<Result<Vec<_>, String>>()?;
                Ok::<_, String>(pennant_daemon::backtest::sweep::SweepOptions {
                    axes,
                    draw: match random {
                        Some(count) => {
                            pennant_daemon::backtest::sweep::Draw::Random { count, seed }
                        }
                        None => pennant_daemon::backtest::sweep::Draw::Grid,
                    },
                    strategy,
                    metric,
                    threads: threads.unwrap_or_else(|| {
                        std::thread::available_parallelism().map_or(1, |n| n.get())
                    }),
                    shard: shard_of(shard.as_deref(), shards)?,
                    backtest: run.options()?,
                })
            })();
            return match options {
                Ok(options) => match walk_forward {
                    Some(folds) => walk(config, &options, folds, &out),
                    None => sweep(config, &options, &out),
                },
                Err(err) => {
                    eprintln!("pennantd: {err}");
                    ExitCode::from(EX_CONFIG)
                }
            };
        }
        command => cli.command = command,
    }
    let outcome = match cli.command.unwrap_or(Command::Run) {
        Command::CheckConfig { online } => daemon::check(&config)
            .and_then(|mut lines| {
                if online {
                    lines.extend(daemon::check_online(&config)?);
                }
                Ok(lines)
            })
            .map(|lines| {
                let mut out = std::io::stdout().lock();
                for line in lines {
                    let _ = writeln!(out, "{line}");
                }
                let _ = writeln!(out, "{}: ok", cli.config.display());
            }),
        Command::Run => daemon::run(config).map(|_| ()),
        // Answered before the configuration is read.
        Command::Reload { .. }
        | Command::HashToken
        | Command::ReplaySession { .. }
        | Command::ExportSession { .. }
        | Command::ConvertReplay { .. }
        | Command::Import { .. }
        | Command::Backtest { .. }
        | Command::Sweep(_) => Ok(()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            log::error!("{err}");
            eprintln!("pennantd: {err}");
            ExitCode::from(if err.is_config() {
                EX_CONFIG
            } else if err.is_unavailable() {
                EX_UNAVAILABLE
            } else {
                EX_SOFTWARE
            })
        }
    }
}
