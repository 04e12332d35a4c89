//! `pennant-bench [--quick] [--only SECTION] [--components DIR] [--out DIR]`: runs the
//! benchmark report (or, with `--only`, one section of it, for profiling).
//! Use `cargo xtask bench`, which builds everything in release mode first.

use anyhow::{Context, Result};
use pennant_bench::scenarios::Run;
use std::path::PathBuf;

fn main() -> Result<()> {
    let mut quick = false;
    let mut only: Option<String> = None;
    let mut components = PathBuf::from("target/strategies");
    let mut out = PathBuf::from("target/bench");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--only" => only = Some(args.next().context("--only needs a section: latency, overhead, backtest, backtesting, book, startup, scale, risk, reload, store, api, kill or binance")?),
            "--components" => components = args.next().context("--components needs a folder")?.into(),
            "--out" => out = args.next().context("--out needs a folder")?.into(),
            other => anyhow::bail!("unknown argument {other:?}; usage: pennant-bench [--quick] [--only SECTION] [--components DIR] [--out DIR]"),
        }
    }
    // The daemon resolves relative paths against its configuration file's folder.
    let components = std::path::absolute(&components)?;
    let out = std::path::absolute(&out)?;
    let scratch = out.join("scratch");
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    let run = Run {
        components,
        scratch: scratch.clone(),
        quick,
    };
    if let Some(section) = only {
        // For profiling one part: print its table, write no report.
        let section = pennant_bench::run_one(&run, &section)?;
        println!("## {}\n\n| {} |", section.title, section.header.join(" | "));
        for row in section.rows {
            println!("| {} |", row.join(" | "));
        }
        let _ = std::fs::remove_dir_all(&scratch);
        return Ok(());
    }
    let report = pennant_bench::run_all(&run);
    let md = out.join("report.md");
    let json = out.join("report.json");
    std::fs::write(&md, report.markdown())
        .with_context(|| format!("cannot write {}", md.display()))?;
    std::fs::write(&json, serde_json::to_string_pretty(&report.json())?)
        .with_context(|| format!("cannot write {}", json.display()))?;
    let _ = std::fs::remove_dir_all(&scratch);
    println!("{}", report.markdown());
    eprintln!("bench: wrote {} and {}", md.display(), json.display());
    Ok(())
}
