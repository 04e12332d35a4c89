//! Market events as fixed-size binary records, and the binary replay file made of them.
//!
//! # Record
//!
//! Every event is [`RECORD_LEN`] (48) bytes, little-endian, so a reader finds the n-th
//! at `48 * n` and decodes it with a few loads, without parsing:
//!
//! | bytes  | field                                                           |
//! |--------|-----------------------------------------------------------------|
//! | 0..8   | `ts`: i64 nanoseconds since the Unix epoch                      |
//! | 8      | kind: 0 trade, 1 quote, 2 book level                            |
//! | 9      | side: trade aggressor / book side (0 buy or bid, 1 sell or ask) |
//! | 10     | book flags (1 reset, 2 last, 4 clear); 0 otherwise              |
//! | 11     | 0                                                               |
//! | 12..16 | instrument: u32                                                 |
//! | 16..24 | trade price / quote bid price / level price (raw fixed point)   |
//! | 24..32 | trade qty / quote bid qty / level qty                           |
//! | 32..40 | quote ask price / level seq (u64)                               |
//! | 40..48 | quote ask qty; 0 otherwise                                      |
//!
//! Prices and quantities are the raw `i64` of [`pennant_sdk::Price`] and
//! [`pennant_sdk::Qty`] (8 decimal places). The session recorder writes the same records
//! in its market frames, with the engine's instrument handles.
//!
//! # Replay file
//!
//! ```text
//! magic    8 bytes   "PNNTMKT\0"
//! version  u16       1
//! symbols  u16       count, then each symbol as a u8 length and its UTF-8 bytes
//! padding  0 to 7 zero bytes, so that records start at a multiple of 8
//! records  48 bytes each, to the end of the file
//! ```
//!
//! A record's instrument is an index into the file's symbol table; the reader maps it to
//! the daemon's instruments once (a symbol the configuration lacks makes its records
//! malformed, as an unknown symbol makes a text line malformed). Timestamps must not go
//! back. `pennantd convert-replay` writes one from a text replay file.

use super::{Instruments, MarketEvent};
use pennant_sdk::{BookFlags, BookLevel, InstrumentId, Price, Qty, Quote, Side, Trade};
use std::io::Write;

/// Bytes per record.
pub const RECORD_LEN: usize = 48;
/// The first bytes of a binary replay file.
pub const MAGIC: &[u8; 8] = b"PNNTMKT\0";
/// The replay file version this build reads and writes.
pub const VERSION: u16 = 1;

/// Why a record was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Not a kind this build knows.
    #[error("unknown record kind {0}")]
    Kind(u8),
    /// A side byte that is neither 0 nor 1.
    #[error("bad side {0}")]
    Side(u8),
    /// A price or trade size that must be positive is not.
    #[error("{0} must be positive")]
    NotPositive(&'static str),
    /// A size that must not be negative is.
    #[error("{0} must not be negative")]
    Negative(&'static str),
    /// The instrument is not in the file's symbol table, or not configured.
    #[error("instrument {0} unknown")]
    Instrument(u32),
}

/// Why a binary replay file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// It does not start with [`MAGIC`].
    #[error("not a binary replay file")]
    NotBinary,
    /// Another version of the format.
    #[error("binary replay format version {0}: this pennantd reads version {VERSION}")]
    Version(u16),
    /// The header ends early or a symbol is not UTF-8.
    #[error("bad header: {0}")]
    Header(&'static str),
    /// A symbol longer than 255 bytes, or more than 65535 symbols.
    #[error("cannot write a header for these symbols: {0}")]
    TooMany(&'static str),
    /// Writing failed.
    #[error("write: {0}")]
    Io(#[from] std::io::Error),
}

fn side_byte(side: Side) -> u8 {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

/// Encodes an event; `instrument` is what its record carries (the event's own handle in
/// a session file, a symbol table index in a replay file).
pub fn encode(event: &MarketEvent, instrument: u32) -> [u8; RECORD_LEN] {
    let mut r = [0u8; RECORD_LEN];
    let (kind, side, flags, words): (u8, u8, u8, [i64; 4]) = match event {
        MarketEvent::Trade(t) => (
            0,
            side_byte(t.aggressor),
            0,
            [t.price.raw(), t.qty.raw(), 0, 0],
        ),
        MarketEvent::Quote(q) => (
            1,
            0,
            0,
            [
                q.bid_price.raw(),
                q.bid_qty.raw(),
                q.ask_price.raw(),
                q.ask_qty.raw(),
            ],
        ),
        MarketEvent::Book(l) => (
            2,
            side_byte(l.side),
            l.flags.bits(),
            [l.price.raw(), l.qty.raw(), l.seq as i64, 0],
        ),
    };
    r[0..8].copy_from_slice(&event.ts().to_le_bytes());
    r[8] = kind;
    r[9] = side;
    r[10] = flags;
    r[12..16].copy_from_slice(&instrument.to_le_bytes());
    for (i, word) in words.iter().enumerate() {
        r[16 + 8 * i..24 + 8 * i].copy_from_slice(&word.to_le_bytes());
    }
    r
}

/// The instrument field of a record, before [`decode`] maps it.
pub fn record_instrument(r: &[u8; RECORD_LEN]) -> u32 {
    u32::from_le_bytes([r[12], r[13], r[14], r[15]])
}

/// Decodes a record, giving it instrument `instrument`; checks what the text format
/// checks (positive prices and trade sizes, sizes not negative).
pub fn decode(r: &[u8; RECORD_LEN], instrument: InstrumentId) -> Result<MarketEvent, RecordError> {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&r[16 + 8 * i..24 + 8 * i]);
        i64::from_le_bytes(w)
    };
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&r[0..8]);
    let ts = i64::from_le_bytes(ts);
    let side = || match r[9] {
        0 => Ok(Side::Buy),
        1 => Ok(Side::Sell),
        other => Err(RecordError::Side(other)),
    };
    let positive = |field, raw: i64| {
        if raw > 0 {
            Ok(raw)
        } else {
            Err(RecordError::NotPositive(field))
        }
    };
    let not_negative = |field, raw: i64| {
        if raw >= 0 {
            Ok(raw)
        } else {
            Err(RecordError::Negative(field))
        }
    };
    Ok(match r[8] {
        0 => MarketEvent::Trade(Trade {
            instrument,
            ts,
            price: Price::from_raw(positive("price", word(0))?),
            qty: Qty::from_raw(positive("qty", word(1))?),
            aggressor: side()?,
        }),
        1 => MarketEvent::Quote(Quote {
            instrument,
            ts,
            bid_price: Price::from_raw(positive("bid_price", word(0))?),
            bid_qty: Qty::from_raw(not_negative("bid_qty", word(1))?),
            ask_price: Price::from_raw(positive("ask_price", word(2))?),
            ask_qty: Qty::from_raw(not_negative("ask_qty", word(3))?),
        }),
        2 => MarketEvent::Book(BookLevel {
            instrument,
            ts,
            seq: word(2) as u64,
            side: side()?,
            price: Price::from_raw(positive("price", word(0))?),
            qty: Qty::from_raw(not_negative("qty", word(1))?),
            flags: BookFlags::from_bits(r[10]),
        }),
        other => return Err(RecordError::Kind(other)),
    })
}

/// Writes the header of a replay file whose records index `symbols`.
pub fn write_header(out: &mut impl Write, symbols: &[&str]) -> Result<(), FileError> {
    let count = u16::try_from(symbols.len()).map_err(|_| FileError::TooMany("over 65535"))?;
    let mut header = Vec::new();
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(&count.to_le_bytes());
    for symbol in symbols {
        let len = u8::try_from(symbol.len()).map_err(|_| FileError::TooMany("over 255 bytes"))?;
        header.push(len);
        header.extend_from_slice(symbol.as_bytes());
    }
    header.resize(header.len().next_multiple_of(8), 0);
    out.write_all(&header)?;
    Ok(())
}

/// Whether bytes start like a binary replay file.
pub fn is_binary(start: &[u8]) -> bool {
    start.starts_with(MAGIC)
}

/// A replay file's header, read: its symbol table mapped to the daemon's instruments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Bytes up to the first record.
    pub len: usize,
    /// The file's symbols, in table order.
    pub symbols: Vec<String>,
    /// The instrument of each symbol (`None`: not configured).
    pub instruments: Vec<Option<InstrumentId>>,
}

impl Header {
    /// Reads a header from the start of a file (`Ok(None)`: more bytes needed).
    pub fn read(bytes: &[u8], known: &Instruments) -> Result<Option<Header>, FileError> {
        if bytes.len() < MAGIC.len() {
            return Ok(None);
        }
        if !is_binary(bytes) {
            return Err(FileError::NotBinary);
        }
        let Some(&[v0, v1, c0, c1]) = bytes.get(8..12) else {
            return Ok(None);
        };
        let version = u16::from_le_bytes([v0, v1]);
        if version != VERSION {
            return Err(FileError::Version(version));
        }
        let mut at = 12;
        let mut symbols = Vec::new();
        for _ in 0..u16::from_le_bytes([c0, c1]) {
            let Some(&len) = bytes.get(at) else {
                return Ok(None);
            };
            let Some(symbol) = bytes.get(at + 1..at + 1 + len as usize) else {
                return Ok(None);
            };
            let symbol =
                std::str::from_utf8(symbol).map_err(|_| FileError::Header("symbol not UTF-8"))?;
            symbols.push(symbol.to_owned());
            at += 1 + len as usize;
        }
        let len = at.next_multiple_of(8);
        if bytes.len() < len {
            return Ok(None);
        }
        let instruments = symbols
            .iter()
            .map(|s| known.by_symbol(s).map(|i| i.id))
            .collect();
        Ok(Some(Header {
            len,
            symbols,
            instruments,
        }))
    }

    /// Decodes a record of the file.
    pub fn decode(&self, r: &[u8; RECORD_LEN]) -> Result<MarketEvent, RecordError> {
        let index = record_instrument(r);
        let instrument = self
            .instruments
            .get(index as usize)
            .copied()
            .flatten()
            .ok_or(RecordError::Instrument(index))?;
        decode(r, instrument)
    }
}

#[cfg(test)]
mod tests;
