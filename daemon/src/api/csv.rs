//! Rows as CSV, as the API serves them and `pennantd backtest` writes them: the cells of
//! chosen columns of JSON objects (the API's record fields), each one a spreadsheet will
//! not run as a formula.

use serde_json::Value;
use std::io::Write;

/// Writes a header of `columns`, then a line per item with those of its fields (a
/// missing or null field is an empty cell).
pub fn write_rows<'a, W: Write>(
    writer: &mut csv::Writer<W>,
    columns: &[&str],
    items: impl IntoIterator<Item = &'a Value>,
) -> csv::Result<()> {
    writer.write_record(columns)?;
    for item in items {
        writer.write_record(columns.iter().map(|c| match &item[*c] {
            Value::Null => String::new(),
            Value::String(s) => cell(s),
            other => other.to_string(),
        }))?;
    }
    Ok(())
}

/// Text for a CSV cell that a spreadsheet will not run as a formula: a cell starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's
/// advice), unless it is a number (a negative PnL stays a number). Signal notes and
/// rejection reasons come from strategies: untrusted.
pub fn cell(text: &str) -> String {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}
