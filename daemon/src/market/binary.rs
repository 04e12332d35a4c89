//! Market events as fixed-size binary records, and the binary replay file made of them.
//!
//! # Record
//!
//! Every event is one [`pennant_sdk::record`] (48 bytes, little-endian, documented
//! there): the same records the session recorder writes in its market frames, with the
//! engine's instrument handles, and the host hands a component in a batch.
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
pub use pennant_sdk::record::{decode, encode, record_instrument, RecordError, RECORD_LEN};
use pennant_sdk::InstrumentId;
use std::io::Write;

/// The first bytes of a binary replay file.
pub const MAGIC: &[u8; 8] = b"PNNTMKT\0";
/// The replay file version this build reads and writes.
pub const VERSION: u16 = 1;

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
