//! The text replay format converted to the binary one ([`super::binary`]): what
//! `pennantd convert-replay` does. Needs no configuration: the symbol table is the
//! symbols the file uses, in the order it first uses them.

use super::binary::{self, FileError};
use super::replay::{LineError, LineParser};
use super::Instruments;
use pennant_sdk::{Amount, InstrumentInfo, Price, Qty};
use std::collections::HashSet;
use std::io::{BufRead, Write};

/// Malformed lines a report lists one by one.
pub const LISTED: usize = 20;

/// Why a conversion stopped.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The text cannot be read.
    #[error("cannot read line {line}: {source}")]
    Read {
        /// The line being read.
        line: u64,
        /// Why.
        source: std::io::Error,
    },
    /// The binary file cannot be written.
    #[error(transparent)]
    Write(#[from] FileError),
}

/// What a conversion did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ConvertReport {
    /// Events written.
    pub events: u64,
    /// Lines skipped as malformed, as in a replay.
    pub malformed: u64,
    /// The first [`LISTED`] of them: line number and why.
    pub errors: Vec<(u64, LineError)>,
    /// The symbol table written.
    pub symbols: Vec<String>,
}

/// The symbol of a data line: its third field (blank and comment lines have none).
fn symbol_of(line: &str) -> Option<&str> {
    let line = line.trim_ascii();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    line.split(',').nth(2).map(str::trim_ascii)
}

/// Converts a text replay file: `open` gives its text, from the start, twice (once to
/// collect the symbols, once to convert).
pub fn text_to_binary<R: BufRead>(
    mut open: impl FnMut() -> std::io::Result<R>,
    out: &mut impl Write,
) -> Result<ConvertReport, ConvertError> {
    let read = |line: u64| move |source| ConvertError::Read { line, source };
    let mut symbols = Vec::new();
    let mut seen = HashSet::new();
    let mut line_no = 0;
    for line in open().map_err(read(0))?.lines() {
        line_no += 1;
        let line = line.map_err(read(line_no))?;
        if let Some(symbol) = symbol_of(&line) {
            if !symbol.is_empty() && seen.insert(symbol.to_owned()) {
                symbols.push(symbol.to_owned());
            }
        }
    }
    // Any filters do: the parser only resolves symbols. Handles are 1..=n in table
    // order, so a handle minus one is the table index.
    let instruments = Instruments::new(symbols.iter().map(|symbol| InstrumentInfo {
        id: 0,
        symbol: symbol.clone(),
        tick_size: Price::EPSILON,
        lot_size: Qty::EPSILON,
        min_qty: Qty::EPSILON,
        min_notional: Amount::ZERO,
    }));
    let names: Vec<&str> = symbols.iter().map(String::as_str).collect();
    binary::write_header(out, &names)?;
    let mut report = ConvertReport::default();
    let mut parser = LineParser::default();
    line_no = 0;
    for line in open().map_err(read(0))?.lines() {
        line_no += 1;
        let line = line.map_err(read(line_no))?;
        match parser.parse(&line, &instruments) {
            Ok(Some(event)) => {
                let record = binary::encode(&event, event.instrument() - 1);
                out.write_all(&record).map_err(FileError::Io)?;
                report.events += 1;
            }
            Ok(None) => {}
            Err(err) => {
                report.malformed += 1;
                if report.errors.len() < LISTED {
                    report.errors.push((line_no, err));
                }
            }
        }
    }
    out.flush().map_err(FileError::Io)?;
    report.symbols = symbols;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::binary::{Header, RECORD_LEN};
    use crate::market::replay::format_line;
    use pennant_sdk::testing::instrument;

    #[test]
    fn a_text_file_converts_to_the_same_events() {
        let text = "# a tape\n\
            1,trade,ETH-USDT,3000,0.5,buy\n\
            2,quote,BTC-USDT,49999,1,50001,2\n\
            3,book,BTC-USDT,7,bid,49999,1,reset\n\
            3,book,BTC-USDT,7,ask,50001,2,last\n\
            2,trade,BTC-USDT,1,1,buy\n\
            4,trade,BTC-USDT,50001,0.1,sell\n";
        let mut out = Vec::new();
        let report = text_to_binary(|| Ok(text.as_bytes()), &mut out).unwrap();
        assert_eq!(report.events, 5);
        assert_eq!(report.malformed, 1);
        assert_eq!(report.errors[0].0, 6);
        assert_eq!(report.symbols, ["ETH-USDT", "BTC-USDT"]);
        // Read back against a configuration listing the symbols in another order.
        let known = Instruments::new([
            instrument(0, "BTC-USDT", "0.01", "0.001"),
            instrument(0, "ETH-USDT", "0.01", "0.001"),
        ]);
        let header = Header::read(&out, &known).unwrap().unwrap();
        let records = &out[header.len..];
        assert_eq!(records.len(), 5 * RECORD_LEN);
        let lines: Vec<String> = records
            .as_chunks::<RECORD_LEN>()
            .0
            .iter()
            .map(|r| {
                let event = header.decode(r).unwrap();
                format_line(&event, &known)
            })
            .collect();
        let expected: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let mut expected = expected.clone();
        expected.remove(4);
        assert_eq!(lines, expected);
    }
}
