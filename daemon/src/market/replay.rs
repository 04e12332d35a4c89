//! Replay of recorded market data files.
//!
//! # File format
//!
//! Plain text, one event per line, comma-separated, no quoting. Blank lines and lines
//! starting with `#` are ignored. Timestamps are integer nanoseconds since the Unix epoch
//! and must not go backwards; prices and quantities are decimals (at most 8 places).
//!
//! ```text
//! # ts_ns,trade,symbol,price,qty,aggressor
//! 1700000000000000000,trade,BTC-USDT,50000.10,0.015,buy
//! # ts_ns,quote,symbol,bid_price,bid_qty,ask_price,ask_qty
//! 1700000000000100000,quote,BTC-USDT,50000.00,1.2,50000.20,0.8
//! # ts_ns,book,symbol,seq,bid|ask,price,qty,flags
//! 1700000000000200000,book,BTC-USDT,41,bid,50000.00,1.2,reset
//! 1700000000000200000,book,BTC-USDT,41,ask,50000.20,0.8,last
//! 1700000000000300000,book,BTC-USDT,42,bid,50000.00,0,last
//! ```
//!
//! A `book` line is one level of the L2 book ([`pennant_sdk::BookLevel`]): `seq` is the
//! venue's update id, `qty` the size now at that price (`0` removes the level), and
//! `flags` is empty or `reset` (a snapshot starts: clear the book first), `last` (the
//! venue's message ends here), both as `reset|last`, or `clear` (the feed lost the book:
//! out of sync until the next snapshot; price and size are placeholders).
//!
//! A text file is for reading and writing by hand and by tools; for speed, convert it to
//! the binary format ([`super::binary`], `pennantd convert-replay`), which the replay
//! feed reads without parsing.
//!
//! A malformed line (wrong field count, bad number, unknown symbol, time going backwards)
//! is counted, logged with its file and line number, and skipped: one bad line never stops
//! a replay.

use super::{Instruments, MarketEvent};
use pennant_sdk::{
    BookFlags, BookLevel, InstrumentId, ParseFixedError, Qty, Quote, Side, Timestamp, Trade,
};
use std::fmt;

/// Why a line of a replay file was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Not the number of fields its kind needs.
    #[error("expected {expected} fields for a {kind}, found {found}")]
    FieldCount {
        /// `trade`, `quote` or `book`.
        kind: &'static str,
        /// How many it needs.
        expected: usize,
        /// How many there are.
        found: usize,
    },
    /// The second field is not `trade`, `quote` or `book`.
    #[error("unknown event kind {0:?} (expected trade, quote or book)")]
    UnknownKind(String),
    /// The timestamp is not an integer.
    #[error("bad timestamp {0:?}: expected integer nanoseconds since the Unix epoch")]
    Timestamp(String),
    /// The timestamp is before the previous line's.
    #[error("timestamp {ts} goes back before {previous}")]
    Backwards {
        /// This line's.
        ts: Timestamp,
        /// The previous event's.
        previous: Timestamp,
    },
    /// The symbol is not a configured instrument.
    #[error("unknown symbol {0:?}")]
    UnknownSymbol(String),
    /// A price or quantity does not parse.
    #[error("bad {field} {value:?}: {reason}")]
    Number {
        /// Which field.
        field: &'static str,
        /// As written.
        value: String,
        /// Why.
        reason: ParseFixedError,
    },
    /// A quantity or price that must be positive is not.
    #[error("{0} must be positive")]
    NotPositive(&'static str),
    /// The aggressor is neither `buy` nor `sell`.
    #[error("bad aggressor side {0:?} (expected buy or sell)")]
    Side(String),
    /// A book side is neither `bid` nor `ask`.
    #[error("bad book side {0:?} (expected bid or ask)")]
    BookSide(String),
    /// The book sequence is not an unsigned integer.
    #[error("bad book seq {0:?}: expected an unsigned integer")]
    Seq(String),
    /// A book flag is not `reset` or `last`.
    #[error("bad book flag {0:?} (expected reset, last, clear, or several joined by |)")]
    Flag(String),
    /// A book level's size is negative.
    #[error("qty must not be negative")]
    Negative,
}

fn number<T: std::str::FromStr<Err = ParseFixedError>>(
    field: &'static str,
    value: &str,
) -> Result<T, LineError> {
    value.parse().map_err(|reason| LineError::Number {
        field,
        value: value.to_owned(),
        reason,
    })
}

fn positive<T: PartialOrd + Default>(field: &'static str, value: T) -> Result<T, LineError> {
    if value > T::default() {
        Ok(value)
    } else {
        Err(LineError::NotPositive(field))
    }
}

/// Reads lines of the replay format into events.
#[derive(Debug, Default)]
pub struct LineParser {
    last_ts: Option<Timestamp>,
    /// The last symbol seen and its handle: files rarely switch symbols, and a string
    /// comparison is cheaper than a hash lookup.
    last_symbol: Option<(String, InstrumentId)>,
}

impl LineParser {
    /// Parses one line; `Ok(None)` for blank and comment lines.
    pub fn parse(
        &mut self,
        line: &str,
        instruments: &Instruments,
    ) -> Result<Option<MarketEvent>, LineError> {
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with('#') {
            return Ok(None);
        }
        // Split without allocating: this runs for every line of files of millions. Commas
        // are ASCII, so every slice below starts and ends on a character boundary.
        let mut fields = [""; 8];
        let mut count = 0;
        let mut start = 0;
        for (i, b) in line
            .bytes()
            .enumerate()
            .chain(std::iter::once((line.len(), b',')))
        {
            if b == b',' {
                if let Some(slot) = fields.get_mut(count) {
                    *slot = line.get(start..i).unwrap_or_default().trim_ascii();
                }
                count += 1;
                start = i + 1;
            }
        }
        let (kind, expected) = match fields[1] {
            "trade" if count > 1 => ("trade", 6),
            "quote" if count > 1 => ("quote", 7),
            "book" if count > 1 => ("book", 8),
            other => return Err(LineError::UnknownKind(other.to_owned())),
        };
        if count != expected {
            return Err(LineError::FieldCount {
                kind,
                expected,
                found: count,
            });
        }
        let ts: Timestamp = fields[0]
            .parse()
            .map_err(|_| LineError::Timestamp(fields[0].to_owned()))?;
        let instrument = match &self.last_symbol {
            Some((symbol, id)) if symbol == fields[2] => *id,
            _ => {
                let id = instruments
                    .by_symbol(fields[2])
                    .ok_or_else(|| LineError::UnknownSymbol(fields[2].to_owned()))?
                    .id;
                self.last_symbol = Some((fields[2].to_owned(), id));
                id
            }
        };
        let event = if kind == "book" {
            let side = match fields[4] {
                "bid" => Side::Buy,
                "ask" => Side::Sell,
                other => return Err(LineError::BookSide(other.to_owned())),
            };
            let size: Qty = number("qty", fields[6])?;
            if size.is_negative() {
                return Err(LineError::Negative);
            }
            MarketEvent::Book(BookLevel {
                instrument,
                ts,
                seq: fields[3]
                    .parse()
                    .map_err(|_| LineError::Seq(fields[3].to_owned()))?,
                side,
                price: positive("price", number("price", fields[5])?)?,
                qty: size,
                flags: parse_flags(fields[7])?,
            })
        } else if kind == "trade" {
            let aggressor = match fields[5] {
                "buy" => Side::Buy,
                "sell" => Side::Sell,
                other => return Err(LineError::Side(other.to_owned())),
            };
            MarketEvent::Trade(Trade {
                instrument,
                ts,
                price: positive("price", number("price", fields[3])?)?,
                qty: positive("qty", number("qty", fields[4])?)?,
                aggressor,
            })
        } else {
            MarketEvent::Quote(Quote {
                instrument,
                ts,
                bid_price: positive("bid_price", number("bid_price", fields[3])?)?,
                bid_qty: number("bid_qty", fields[4])?,
                ask_price: positive("ask_price", number("ask_price", fields[5])?)?,
                ask_qty: number("ask_qty", fields[6])?,
            })
        };
        if let Some(previous) = self.last_ts.filter(|&p| ts < p) {
            return Err(LineError::Backwards { ts, previous });
        }
        self.last_ts = Some(ts);
        Ok(Some(event))
    }
}

fn parse_flags(field: &str) -> Result<BookFlags, LineError> {
    let mut flags = BookFlags::NONE;
    for flag in field
        .split('|')
        .map(str::trim_ascii)
        .filter(|f| !f.is_empty())
    {
        flags = flags.with(match flag {
            "reset" => BookFlags::RESET,
            "last" => BookFlags::LAST,
            "clear" => BookFlags::CLEAR,
            other => return Err(LineError::Flag(other.to_owned())),
        });
    }
    Ok(flags)
}

fn format_flags(flags: BookFlags) -> String {
    [
        (BookFlags::CLEAR, "clear"),
        (BookFlags::RESET, "reset"),
        (BookFlags::LAST, "last"),
    ]
    .iter()
    .filter(|(flag, _)| flags.contains(*flag))
    .map(|(_, name)| *name)
    .collect::<Vec<_>>()
    .join("|")
}

/// Writes an event as a line of the replay format (without the newline).
pub fn format_line(event: &MarketEvent, instruments: &Instruments) -> String {
    struct Line<'a>(&'a MarketEvent, &'a Instruments);
    impl fmt::Display for Line<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.0 {
                MarketEvent::Trade(t) => write!(
                    f,
                    "{},trade,{},{},{},{}",
                    t.ts,
                    self.1.symbol(t.instrument),
                    t.price,
                    t.qty,
                    t.aggressor
                ),
                MarketEvent::Quote(q) => write!(
                    f,
                    "{},quote,{},{},{},{},{}",
                    q.ts,
                    self.1.symbol(q.instrument),
                    q.bid_price,
                    q.bid_qty,
                    q.ask_price,
                    q.ask_qty
                ),
                MarketEvent::Book(l) => write!(
                    f,
                    "{},book,{},{},{},{},{},{}",
                    l.ts,
                    self.1.symbol(l.instrument),
                    l.seq,
                    match l.side {
                        Side::Buy => "bid",
                        Side::Sell => "ask",
                    },
                    l.price,
                    l.qty,
                    format_flags(l.flags)
                ),
            }
        }
    }
    Line(event, instruments).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{instrument, px, qty};

    fn instruments() -> Instruments {
        Instruments::new([instrument(0, "BTC-USDT", "0.01", "0.001")])
    }

    #[test]
    fn parses_trades_quotes_and_skips_comments() {
        let reg = instruments();
        let mut p = LineParser::default();
        assert_eq!(p.parse("# header", &reg), Ok(None));
        assert_eq!(p.parse("   ", &reg), Ok(None));
        let trade = p
            .parse("100,trade,BTC-USDT,50000.1,0.015,sell", &reg)
            .unwrap()
            .unwrap();
        assert_eq!(
            trade,
            MarketEvent::Trade(Trade {
                instrument: 1,
                ts: 100,
                price: px("50000.1"),
                qty: qty("0.015"),
                aggressor: Side::Sell
            })
        );
        let quote = p
            .parse("101, quote, BTC-USDT, 1, 2, 3, 4", &reg)
            .unwrap()
            .unwrap();
        assert_eq!(format_line(&quote, &reg), "101,quote,BTC-USDT,1,2,3,4");
        assert_eq!(
            format_line(&trade, &reg),
            "100,trade,BTC-USDT,50000.1,0.015,sell"
        );
    }

    #[test]
    fn book_lines_read_back_as_written() {
        let reg = instruments();
        let mut p = LineParser::default();
        for (line, side, flags) in [
            (
                "5,book,BTC-USDT,41,bid,50000,1.2,reset",
                Side::Buy,
                BookFlags::RESET,
            ),
            (
                "5,book,BTC-USDT,41,ask,50000.2,0,",
                Side::Sell,
                BookFlags::NONE,
            ),
            (
                "6,book,BTC-USDT,42,ask,50000.2,3,last",
                Side::Sell,
                BookFlags::LAST,
            ),
            (
                "7,book,BTC-USDT,43,bid,1,0,reset|last",
                Side::Buy,
                BookFlags::RESET.with(BookFlags::LAST),
            ),
            (
                "8,book,BTC-USDT,43,bid,0.00000001,0,clear|last",
                Side::Buy,
                BookFlags::CLEAR.with(BookFlags::LAST),
            ),
        ] {
            let event = p.parse(line, &reg).unwrap().unwrap();
            let MarketEvent::Book(level) = event else {
                panic!("{line}: not a book level");
            };
            assert_eq!((level.side, level.flags), (side, flags), "{line}");
            assert_eq!(format_line(&event, &reg), line);
        }
        let mut err = |l: &str| p.parse(l, &reg).unwrap_err().to_string();
        assert_eq!(
            err("8,book,BTC-USDT,1,bid,1,1"),
            "expected 8 fields for a book, found 7"
        );
        assert_eq!(
            err("8,book,BTC-USDT,1,buy,1,1,"),
            "bad book side \"buy\" (expected bid or ask)"
        );
        assert_eq!(
            err("8,book,BTC-USDT,-1,bid,1,1,"),
            "bad book seq \"-1\": expected an unsigned integer"
        );
        assert_eq!(
            err("8,book,BTC-USDT,1,bid,1,1,first"),
            "bad book flag \"first\" (expected reset, last, clear, or several joined by |)"
        );
        assert_eq!(
            err("8,book,BTC-USDT,1,bid,1,-1,"),
            "qty must not be negative"
        );
        assert_eq!(err("8,book,BTC-USDT,1,bid,0,1,"), "price must be positive");
    }

    #[test]
    fn names_what_is_wrong_with_a_bad_line() {
        let reg = instruments();
        let mut p = LineParser::default();
        let err = |p: &mut LineParser, l: &str| p.parse(l, &reg).unwrap_err().to_string();
        assert_eq!(
            err(&mut p, "1,trade,BTC-USDT,1,2"),
            "expected 6 fields for a trade, found 5"
        );
        assert_eq!(
            err(&mut p, "1,tick,BTC-USDT"),
            "unknown event kind \"tick\" (expected trade, quote or book)"
        );
        assert_eq!(
            err(&mut p, "x,trade,BTC-USDT,1,1,buy").as_str(),
            "bad timestamp \"x\": expected integer nanoseconds since the Unix epoch"
        );
        assert_eq!(
            err(&mut p, "1,trade,DOGE,1,1,buy"),
            "unknown symbol \"DOGE\""
        );
        assert_eq!(
            err(&mut p, "1,trade,BTC-USDT,1.5x,1,buy"),
            "bad price \"1.5x\": unexpected character 'x'"
        );
        assert_eq!(
            err(&mut p, "1,trade,BTC-USDT,1,0,buy"),
            "qty must be positive"
        );
        assert_eq!(
            err(&mut p, "1,trade,BTC-USDT,1,1,up"),
            "bad aggressor side \"up\" (expected buy or sell)"
        );
        p.parse("10,trade,BTC-USDT,1,1,buy", &reg).unwrap();
        assert_eq!(
            err(&mut p, "9,trade,BTC-USDT,1,1,buy"),
            "timestamp 9 goes back before 10"
        );
    }
}
