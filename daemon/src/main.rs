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
    /// Configuration file.
    #[arg(
        long,
        short,
        global = true,
        default_value = "/etc/pennant/pennant.toml"
    )]
    config: PathBuf,
    /// Log level (error, warn, info, debug, trace); overrides the configuration and
    /// RUST_LOG.
    #[arg(long, global = true)]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon (the default).
    Run,
    /// Check the configuration and strategy components, then exit: 0 if they are fine,
    /// 78 with the problem otherwise.
    CheckConfig,
}

fn init_logging(config_level: &str, cli_level: Option<&str>) {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(config_level);
    if let Ok(env) = std::env::var("RUST_LOG") {
        builder.parse_filters(&env);
    }
    if let Some(level) = cli_level {
        builder.parse_filters(level);
    }
    // Quiet wasmtime's compiler internals at info.
    builder.filter_module("cranelift_codegen", log::LevelFilter::Warn);
    builder.filter_module("wasmtime", log::LevelFilter::Warn);
    builder.format_timestamp_micros().init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli.config) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("pennantd: {err}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    init_logging(&config.daemon.log_level, cli.log_level.as_deref());
    let outcome = match cli.command.unwrap_or(Command::Run) {
        Command::CheckConfig => daemon::check(&config).map(|lines| {
            let mut out = std::io::stdout().lock();
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(out, "{}: ok", cli.config.display());
        }),
        Command::Run => daemon::run(config).map(|_| ()),
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
