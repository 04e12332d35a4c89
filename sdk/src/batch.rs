//! A batch of market events as the host hands it to a component in one call (contract
//! 0.3's `on-market`): an 8-byte header, then one [`crate::record`] per event, with the
//! engine's instrument handles. Packed bytes, because a list of typed records costs the
//! boundary ~10x more per event to lift and lower (`../shared/research/wave2.md`, section 1).
//!
//! ```text
//! version     u16  1
//! record len  u16  48
//! count       u32
//! records     48 bytes each
//! ```
//!
//! The host writes it with [`write`]; the SDK's guest glue reads it with [`Batch::parse`]
//! and calls the strategy's handlers, so strategy code never sees it.

use crate::record::{self, RecordError, RECORD_LEN};
use crate::strategy::Host;
use crate::types::MarketEvent;
use std::fmt;

/// A [`Host`] that delivers batches: told by a component which event of the batch being
/// delivered its next host calls are made for. Strategy code never calls it; the
/// daemon's engine implements it, and the test host, which delivers one event per
/// call, has nothing to do.
pub trait BatchHost: Host {
    /// Answer the host calls that follow as of event `index` of the current batch.
    fn seek(&mut self, index: u32);
}

/// The batch format this SDK writes and reads.
pub const VERSION: u16 = 1;
/// Bytes before the first record.
pub const HEADER_LEN: usize = 8;

/// Why a batch cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchError {
    /// Shorter than its header.
    Short,
    /// Another version, or another record length.
    Format {
        /// The version it says.
        version: u16,
        /// The record length it says.
        record_len: u16,
    },
    /// The count does not match the bytes that follow the header.
    Count {
        /// The count it says.
        count: u32,
        /// The bytes after the header.
        bytes: usize,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Short => write!(f, "batch shorter than its {HEADER_LEN}-byte header"),
            BatchError::Format {
                version,
                record_len,
            } => write!(
                f,
                "batch version {version} with {record_len}-byte records: this SDK reads version {VERSION} with {RECORD_LEN}-byte records"
            ),
            BatchError::Count { count, bytes } => {
                write!(f, "batch says {count} records but carries {bytes} bytes")
            }
        }
    }
}

impl std::error::Error for BatchError {}

/// Writes `events` as one batch into `out` (cleared first, so a caller reuses it).
pub fn write(events: impl ExactSizeIterator<Item = MarketEvent>, out: &mut Vec<u8>) {
    out.clear();
    out.reserve(HEADER_LEN + events.len() * RECORD_LEN);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(RECORD_LEN as u16).to_le_bytes());
    let count = u32::try_from(events.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_le_bytes());
    for event in events.take(count as usize) {
        out.extend_from_slice(&record::encode(&event, event.instrument()));
    }
}

/// A batch, checked and ready to read record by record.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    records: &'a [[u8; RECORD_LEN]],
}

impl<'a> Batch<'a> {
    /// Checks the header and the length.
    pub fn parse(bytes: &'a [u8]) -> Result<Batch<'a>, BatchError> {
        let (header, rest) = bytes
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(BatchError::Short)?;
        let version = u16::from_le_bytes([header[0], header[1]]);
        let record_len = u16::from_le_bytes([header[2], header[3]]);
        if version != VERSION || usize::from(record_len) != RECORD_LEN {
            return Err(BatchError::Format {
                version,
                record_len,
            });
        }
        let count = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let (records, tail) = rest.as_chunks::<RECORD_LEN>();
        if !tail.is_empty() || records.len() != count as usize {
            return Err(BatchError::Count {
                count,
                bytes: rest.len(),
            });
        }
        Ok(Batch { records })
    }

    /// How many events.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The `index`-th event (`None` past the end), or why its record is refused.
    pub fn get(&self, index: usize) -> Option<Result<MarketEvent, RecordError>> {
        let r = self.records.get(index)?;
        Some(record::decode(r, record::record_instrument(r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{px, qty};
    use crate::types::{BookFlags, BookLevel, Quote, Side, Trade};

    fn events() -> Vec<MarketEvent> {
        vec![
            MarketEvent::Trade(Trade {
                instrument: 3,
                ts: 10,
                price: px("100.5"),
                qty: qty("0.25"),
                aggressor: Side::Sell,
            }),
            MarketEvent::Quote(Quote {
                instrument: 1,
                ts: 11,
                bid_price: px("99"),
                bid_qty: qty("1"),
                ask_price: px("101"),
                ask_qty: qty("0"),
            }),
            MarketEvent::Book(BookLevel {
                instrument: 7,
                ts: 12,
                seq: u64::MAX - 1,
                side: Side::Buy,
                price: px("98"),
                qty: qty("0"),
                flags: BookFlags::RESET.with(BookFlags::LAST),
            }),
        ]
    }

    #[test]
    fn events_read_back_as_written_with_their_instrument_handles() {
        let mut bytes = vec![0xff; 3];
        write(events().into_iter(), &mut bytes);
        assert_eq!(bytes.len(), HEADER_LEN + 3 * RECORD_LEN);
        let batch = Batch::parse(&bytes).unwrap();
        let read: Vec<_> = (0..batch.len())
            .map(|i| batch.get(i).unwrap().unwrap())
            .collect();
        assert_eq!(read, events());
        assert!(batch.get(3).is_none());
    }

    #[test]
    fn a_batch_that_does_not_add_up_is_refused() {
        let mut bytes = Vec::new();
        write(events().into_iter(), &mut bytes);
        let check = |bytes: &[u8], want: BatchError| {
            assert_eq!(Batch::parse(bytes).unwrap_err(), want);
        };
        check(&bytes[..5], BatchError::Short);
        check(
            &bytes[..bytes.len() - 1],
            BatchError::Count {
                count: 3,
                bytes: 3 * RECORD_LEN - 1,
            },
        );
        let mut other = bytes.clone();
        other[0] = 2;
        check(
            &other,
            BatchError::Format {
                version: 2,
                record_len: 48,
            },
        );
        let mut bad = bytes.clone();
        bad[HEADER_LEN + 8] = 9; // the first record's kind
        let batch = Batch::parse(&bad).unwrap();
        assert_eq!(batch.get(0), Some(Err(RecordError::Kind(9))));
        assert!(batch.get(1).unwrap().is_ok());
    }
}
