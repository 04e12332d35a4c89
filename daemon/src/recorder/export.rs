//! `pennantd export-session DIR`: the market data a session recorded, as a replay file
//! (`market/replay.rs`'s text format) that a backtest's `[[feed]] kind = "replay"` reads.
//!
//! The events are written in the order the engine took them. A replay file's times may
//! not go backwards; live feeds' clocks can (two feeds, one venue's clock behind
//! another's), so an event stamped before the one written before it is written at that
//! one's time, and counted.

use super::format::Frame;
use super::replay::{ReplayError, Session};
use crate::market::replay::format_line;
use crate::market::Instruments;
use std::io::Write;
use std::path::Path;

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportReport {
    /// Events written.
    pub events: u64,
    /// Events written at a later time than they carried, to keep the file's times in
    /// order.
    pub retimed: u64,
}

/// Writes the market data of the session in `dir` to `out`.
pub fn export(dir: &Path, out: &mut dyn Write) -> Result<ExportReport, ReplayError> {
    let session = Session::open(dir)?;
    let instruments = Instruments::new(session.config.instruments.iter().map(|i| i.info()));
    let mut report = ExportReport::default();
    let mut last = i64::MIN;
    let write_error = ReplayError::Write;
    writeln!(
        out,
        "# market data recorded in {}\n# ts_ns,trade,symbol,price,qty,aggressor\n# ts_ns,quote,symbol,bid_price,bid_qty,ask_price,ask_qty\n# ts_ns,book,symbol,seq,bid|ask,price,qty,flags",
        dir.display()
    )
    .map_err(write_error)?;
    session.frames(|_, _, _, frame| {
        let Frame::Market(events) = frame else {
            return Ok(());
        };
        for mut event in events {
            if event.ts() < last {
                event = event.with_ts(last);
                report.retimed += 1;
            }
            last = event.ts();
            writeln!(out, "{}", format_line(&event, &instruments)).map_err(write_error)?;
            report.events += 1;
        }
        Ok(())
    })?;
    out.flush().map_err(write_error)?;
    Ok(report)
}
