//! Binance's public market data archives (<https://data.binance.vision>, described in
//! Binance's `binance-public-data` README) read into the replay format: `pennantd
//! import`. Each archive is a `.zip` holding one CSV file (or that CSV file unzipped),
//! one row per event, no quoting. Some files start with a header row; it is skipped.
//!
//! ```text
//! trades      trade id, price, qty, quote qty, time, is buyer maker, is best match
//!             51175358,17.80180000,5.69000000,101.29224200,1583709433583,True,True
//! aggTrades   agg trade id, price, qty, first trade id, last trade id, time,
//!             is buyer maker, is best match
//!             0,0.20000000,50.00000000,0,0,1735689600010866,False,True
//! bookTicker  update id, best bid price, best bid qty, best ask price, best ask qty,
//!             transaction time, event time
//!             2916541,66666.60,1.234,66666.70,0.5,1714521600123,1714521600125
//! ```
//!
//! Times are milliseconds since the epoch; spot files from 2025-01-01 on use
//! microseconds: a time is read as milliseconds below 10^14, microseconds below 10^17
//! and nanoseconds above (10^14 ms is the year 5138, 10^17 us the year 5138 too). The
//! futures files have no `is best match` column. A trade whose buyer was the maker was
//! a sell by the taker: its aggressor is `sell`. A book ticker becomes a quote at its
//! transaction time (the event time is when Binance sent it). A row that does not
//! parse, or goes back in time, is skipped and counted, as a replay skips it.

use super::replay::format_line;
use super::{Instruments, MarketEvent};
use pennant_sdk::{InstrumentInfo, Price, Qty, Quote, Side, Timestamp, Trade};
use std::io::{BufRead, Write};
use std::path::Path;

/// Which archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// `trades`: every trade.
    Trades,
    /// `aggTrades`: trades at one price, time and taker side, aggregated.
    AggTrades,
    /// `bookTicker`: the best bid and ask after each change.
    BookTicker,
}

impl std::str::FromStr for ArchiveKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "trades" => Ok(ArchiveKind::Trades),
            "aggTrades" | "aggtrades" => Ok(ArchiveKind::AggTrades),
            "bookTicker" | "bookticker" => Ok(ArchiveKind::BookTicker),
            other => Err(format!(
                "unknown archive kind {other:?}: trades, aggTrades or bookTicker"
            )),
        }
    }
}

/// Why an archive cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Opening or reading a file failed.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Writing the replay file failed.
    #[error("write: {0}")]
    Write(#[from] std::io::Error),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Events written.
    pub events: u64,
    /// Header rows skipped.
    pub headers: u64,
    /// Rows skipped as malformed or out of order.
    pub skipped: u64,
    /// The first few of them: file, row number and why.
    pub errors: Vec<(String, u64, String)>,
}

/// Rows listed in [`ImportReport::errors`], at most.
const LISTED: usize = 10;

/// Reads `paths` (archives of `kind`, in time order) as events of `symbol`, and writes
/// them to `out` in the replay text format.
pub fn import(
    paths: &[&Path],
    kind: ArchiveKind,
    symbol: &str,
    out: &mut impl Write,
) -> Result<ImportReport, ArchiveError> {
    // One instrument, for the replay format's symbol column.
    let instruments = Instruments::new([InstrumentInfo {
        id: 1,
        symbol: symbol.to_owned(),
        tick_size: Price::from_raw(1),
        lot_size: Qty::from_raw(1),
        min_qty: Qty::ZERO,
        min_notional: pennant_sdk::Amount::ZERO,
    }]);
    let mut report = ImportReport::default();
    let mut last = Timestamp::MIN;
    for path in paths {
        let name = path.display().to_string();
        let failed = |message: String| ArchiveError::Read {
            path: name.clone(),
            message,
        };
        let file = std::fs::File::open(path).map_err(|err| failed(err.to_string()))?;
        let zipped = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        let mut rows = |reader: &mut dyn BufRead| -> Result<(), ArchiveError> {
            for (n, line) in reader.split(b'\n').enumerate() {
                let line = line.map_err(|err| failed(err.to_string()))?;
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches('\r');
                if text.is_empty() {
                    continue;
                }
                if n == 0 && is_header(text) {
                    report.headers += 1;
                    continue;
                }
                match parse(kind, text) {
                    Ok(event) if event.ts() >= last => {
                        last = event.ts();
                        writeln!(out, "{}", format_line(&event, &instruments))?;
                        report.events += 1;
                    }
                    Ok(event) => skip(
                        &mut report,
                        &name,
                        n as u64 + 1,
                        format!("time {} goes back before {last}", event.ts()),
                    ),
                    Err(err) => skip(&mut report, &name, n as u64 + 1, err),
                }
            }
            Ok(())
        };
        if zipped {
            let mut archive = zip::ZipArchive::new(file).map_err(|err| failed(err.to_string()))?;
            for i in 0..archive.len() {
                let entry = archive.by_index(i).map_err(|err| failed(err.to_string()))?;
                if entry.is_dir() {
                    continue;
                }
                rows(&mut std::io::BufReader::new(entry))?;
            }
        } else {
            rows(&mut std::io::BufReader::new(file))?;
        }
    }
    out.flush()?;
    Ok(report)
}

fn skip(report: &mut ImportReport, file: &str, row: u64, why: String) {
    report.skipped += 1;
    if report.errors.len() < LISTED {
        report.errors.push((file.to_owned(), row, why));
    }
}

/// Whether a first row names the columns (its second, a price, has letters).
fn is_header(row: &str) -> bool {
    row.split(',')
        .nth(1)
        .is_some_and(|f| f.chars().any(|c| c.is_ascii_alphabetic()))
}

/// One row.
fn parse(kind: ArchiveKind, row: &str) -> Result<MarketEvent, String> {
    let fields: Vec<&str> = row.split(',').map(str::trim).collect();
    let field = |i: usize| {
        fields
            .get(i)
            .copied()
            .ok_or_else(|| format!("{} fields, expected more", fields.len()))
    };
    let price = |i: usize| {
        field(i)?
            .parse::<Price>()
            .map_err(|e| format!("field {}: {e}", i + 1))
    };
    let qty = |i: usize| {
        field(i)?
            .parse::<Qty>()
            .map_err(|e| format!("field {}: {e}", i + 1))
    };
    let time = |i: usize| {
        field(i)?
            .parse::<i64>()
            .map_err(|e| format!("field {}: {e}", i + 1))
            .and_then(nanos)
    };
    let taker = |i: usize| match field(i)?.to_ascii_lowercase().as_str() {
        "true" => Ok(Side::Sell),
        "false" => Ok(Side::Buy),
        other => Err(format!("field {}: {other:?} is not true or false", i + 1)),
    };
    let event = match kind {
        ArchiveKind::Trades => MarketEvent::Trade(Trade {
            instrument: 1,
            ts: time(4)?,
            price: price(1)?,
            qty: qty(2)?,
            aggressor: taker(5)?,
        }),
        ArchiveKind::AggTrades => MarketEvent::Trade(Trade {
            instrument: 1,
            ts: time(5)?,
            price: price(1)?,
            qty: qty(2)?,
            aggressor: taker(6)?,
        }),
        ArchiveKind::BookTicker => MarketEvent::Quote(Quote {
            instrument: 1,
            ts: time(5)?,
            bid_price: price(1)?,
            bid_qty: qty(2)?,
            ask_price: price(3)?,
            ask_qty: qty(4)?,
        }),
    };
    Ok(event)
}

/// A Binance archive time (ms, or us from 2025 on) in nanoseconds.
fn nanos(value: i64) -> Result<Timestamp, String> {
    let scale = match value {
        v if v < 0 => return Err(format!("time {v} before the epoch")),
        v if v < 100_000_000_000_000 => 1_000_000,
        v if v < 100_000_000_000_000_000 => 1_000,
        _ => 1,
    };
    value
        .checked_mul(scale)
        .ok_or_else(|| format!("time {value} out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Imports `text` as an archive of `kind` (zipped when `zip`) and returns the replay
    /// text and the report.
    fn check(kind: ArchiveKind, text: &str, zipped: bool) -> (String, ImportReport) {
        let dir = tempfile::tempdir().unwrap();
        let path = if zipped {
            let path = dir.path().join("BTCUSDT-trades-2025-01-01.zip");
            let file = std::fs::File::create(&path).unwrap();
            let mut zip = zip::ZipWriter::new(file);
            zip.start_file(
                "BTCUSDT-trades-2025-01-01.csv",
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            zip.write_all(text.as_bytes()).unwrap();
            zip.finish().unwrap();
            path
        } else {
            let path = dir.path().join("rows.csv");
            std::fs::write(&path, text).unwrap();
            path
        };
        let mut out = Vec::new();
        let report = import(&[&path], kind, "BTC-USDT", &mut out).unwrap();
        (String::from_utf8(out).unwrap(), report)
    }

    #[test]
    fn each_kind_of_archive_reads_into_replay_lines() {
        // The README's sample rows, in milliseconds and in microseconds.
        let (text, report) = check(
            ArchiveKind::Trades,
            "51175358,17.80180000,5.69000000,101.29224200,1583709433583,True,True\n\
             51175359,17.80190000,1.00000000,17.80190000,1735689600010866,False,True\n",
            true,
        );
        assert_eq!(
            text,
            "1583709433583000000,trade,BTC-USDT,17.8018,5.69,sell\n\
             1735689600010866000,trade,BTC-USDT,17.8019,1,buy\n"
        );
        assert_eq!(report.events, 2);
        let (text, _) = check(
            ArchiveKind::AggTrades,
            "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n\
             0,0.20000000,50.00000000,0,0,1735689600010866,False,True\n",
            false,
        );
        assert_eq!(text, "1735689600010866000,trade,BTC-USDT,0.2,50,buy\n");
        let (text, report) = check(
            ArchiveKind::BookTicker,
            "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time\r\n\
             2916541,66666.60,1.234,66666.70,0.5,1714521600123,1714521600125\r\n",
            true,
        );
        assert_eq!(
            text,
            "1714521600123000000,quote,BTC-USDT,66666.6,1.234,66666.7,0.5\n"
        );
        assert_eq!((report.events, report.headers), (1, 1));
    }

    #[test]
    fn bad_rows_and_rows_back_in_time_are_skipped_and_counted() {
        let (text, report) = check(
            ArchiveKind::Trades,
            "1,100.0,1.0,100.0,1700000000000,True,True\n\
             2,not-a-price,1.0,100.0,1700000000001,True,True\n\
             3,100.0,1.0,100.0,1699999999999,True,True\n\
             4,100.0,1.0\n\
             5,100.0,1.0,100.0,1700000000002,maybe,True\n\
             6,101.0,1.0,101.0,1700000000003,False,True\n",
            false,
        );
        assert_eq!(text.lines().count(), 2);
        assert_eq!(report.skipped, 4);
        let rows: Vec<u64> = report.errors.iter().map(|(_, row, _)| *row).collect();
        assert_eq!(rows, [2, 3, 4, 5]);
        assert!(
            report.errors[1].2.contains("goes back"),
            "{:?}",
            report.errors
        );
    }
}
