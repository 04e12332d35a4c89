//! One market event as a fixed-size binary record: the unit of the binary replay file,
//! of the session recorder's market frames and of the batches the host hands a
//! component (`on-market` in contract 0.3). One codec, used by all three.
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
//! Prices and quantities are the raw `i64` of [`Price`] and [`Qty`] (8 decimal places).

use crate::fixed::{Price, Qty};
use crate::types::{BookFlags, BookLevel, InstrumentId, MarketEvent, Quote, Side, Trade};
use std::fmt;

/// Bytes per record.
pub const RECORD_LEN: usize = 48;

/// Why a record was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// Not a kind this build knows.
    Kind(u8),
    /// A side byte that is neither 0 nor 1.
    Side(u8),
    /// A price or trade size that must be positive is not.
    NotPositive(&'static str),
    /// A size that must not be negative is.
    Negative(&'static str),
    /// The instrument is not in the file's symbol table, or not configured.
    Instrument(u32),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Kind(kind) => write!(f, "unknown record kind {kind}"),
            RecordError::Side(side) => write!(f, "bad side {side}"),
            RecordError::NotPositive(field) => write!(f, "{field} must be positive"),
            RecordError::Negative(field) => write!(f, "{field} must not be negative"),
            RecordError::Instrument(id) => write!(f, "instrument {id} unknown"),
        }
    }
}

impl std::error::Error for RecordError {}

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
