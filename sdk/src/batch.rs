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
//! positions   u32  P (absent: the batch carries no positions)
//! position    48 bytes each, P of them: instrument u32, 0 u32, qty, avg price,
//!             realized PnL, unrealized PnL, fees (i64 each, raw fixed point)
//! marks       i64 each, count per position, position after position: the mark after
//!             each event (i64::MIN: none)
//! ```
//!
//! When the positions are there, they are every position the strategy has, as the host
//! keeps them (no fill can change them during the call: a fill is a venue report, and
//! the host ends a batch before any), and the guest answers `get-position` itself: the
//! position, marked at the mark after the event being handled, exactly as the host
//! would (`Position::mark`), and a flat one for an instrument not listed. Strategies
//! that read their position on every event then cross the boundary only to act.
//!
//! The host writes it with [`write`]; the SDK's guest glue reads it with [`Batch::parse`]
//! and calls the strategy's handlers, so strategy code never sees it.

use crate::fixed::{Amount, Price, Qty};
use crate::record::{self, RecordError, RECORD_LEN};
use crate::strategy::Host;
use crate::types::{MarketEvent, Position};
use std::fmt;

/// A [`Host`] that delivers batches: told by a component which event of the batch being
/// delivered its next host calls are made for. Strategy code never calls it; the
/// daemon's engine implements it, and the test host, which delivers one event per
/// call, has nothing to do.
pub trait BatchHost: Host {
    /// Answer the host calls that follow as of event `index` of the current batch.
    fn seek(&mut self, index: u32);

    /// For the batch of `count` events about to be delivered: every position of the
    /// strategy (into `positions`) and the mark of each after each event (into `marks`,
    /// `count` per position, in the same order), so that the batch carries them. False
    /// (the default) when the host cannot say them exactly: the guest then asks.
    fn batch_positions(
        &mut self,
        _count: usize,
        _positions: &mut Vec<Position>,
        _marks: &mut Vec<Option<Price>>,
    ) -> bool {
        false
    }
}

/// Bytes of one position in a batch.
pub const POSITION_LEN: usize = 48;

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

/// Writes `events` as one batch into `out` (cleared first, so a caller reuses it), with
/// `positions` and their `marks` (`events.len()` per position, position after position)
/// when given.
pub fn write(
    events: impl ExactSizeIterator<Item = MarketEvent>,
    positions: Option<(&[Position], &[Option<Price>])>,
    out: &mut Vec<u8>,
) {
    out.clear();
    out.reserve(HEADER_LEN + events.len() * RECORD_LEN);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(RECORD_LEN as u16).to_le_bytes());
    let count = u32::try_from(events.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_le_bytes());
    for event in events.take(count as usize) {
        out.extend_from_slice(&record::encode(&event, event.instrument()));
    }
    let Some((positions, marks)) = positions else {
        return;
    };
    out.extend_from_slice(&(positions.len() as u32).to_le_bytes());
    for p in positions {
        out.extend_from_slice(&p.instrument.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for raw in [
            p.qty.raw(),
            p.avg_price.raw(),
            p.realized_pnl.raw(),
            p.unrealized_pnl.raw(),
            p.fees.raw(),
        ] {
            out.extend_from_slice(&raw.to_le_bytes());
        }
    }
    for p in 0..positions.len() {
        for i in 0..count as usize {
            let mark = marks.get(p * count as usize + i).copied().flatten();
            out.extend_from_slice(&mark.map_or(i64::MIN, Price::raw).to_le_bytes());
        }
    }
}

/// A batch, checked and ready to read record by record.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    records: &'a [[u8; RECORD_LEN]],
    /// The positions, when the batch carries them.
    positions: Option<Carried<'a>>,
}

/// The positions a batch carries: each one's bytes, and the marks (raw, `count` per
/// position).
type Carried<'a> = (&'a [[u8; POSITION_LEN]], &'a [[u8; 8]]);

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
        let wrong = || BatchError::Count {
            count,
            bytes: rest.len(),
        };
        let (records, trailer) = rest
            .split_at_checked(count as usize * RECORD_LEN)
            .ok_or_else(wrong)?;
        let (records, _) = records.as_chunks::<RECORD_LEN>();
        let positions = match trailer.split_first_chunk::<4>() {
            None if trailer.is_empty() => None,
            None => return Err(wrong()),
            Some((held, trailer)) => {
                let held = u32::from_le_bytes(*held) as usize;
                let (positions, marks) = trailer
                    .split_at_checked(held * POSITION_LEN)
                    .ok_or_else(wrong)?;
                if marks.len() != held * count as usize * 8 {
                    return Err(wrong());
                }
                Some((positions.as_chunks().0, marks.as_chunks().0))
            }
        };
        Ok(Batch { records, positions })
    }

    /// The strategy's position in `instrument` as of event `index`, when the batch
    /// carries the positions (see the module docs).
    pub fn position(&self, instrument: u32, index: usize) -> Option<Position> {
        let (positions, marks) = self.positions?;
        let Some(at) = positions
            .iter()
            .position(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]]) == instrument)
        else {
            return Some(Position::flat(instrument));
        };
        let p = &positions[at];
        let raw = |k: usize| {
            let start = 8 + 8 * k;
            let mut bytes = [0; 8];
            bytes.copy_from_slice(&p[start..start + 8]);
            i64::from_le_bytes(bytes)
        };
        let mut position = Position {
            instrument,
            qty: Qty::from_raw(raw(0)),
            avg_price: Price::from_raw(raw(1)),
            realized_pnl: Amount::from_raw(raw(2)),
            unrealized_pnl: Amount::from_raw(raw(3)),
            fees: Amount::from_raw(raw(4)),
        };
        let mark = marks
            .get(at * self.records.len() + index)
            .map(|bytes| i64::from_le_bytes(*bytes))
            .filter(|&raw| raw != i64::MIN);
        if let Some(mark) = mark {
            // As the host does: on overflow the unrealized PnL stays as it was.
            let _ = position.mark(Price::from_raw(mark));
        }
        Some(position)
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
        write(events().into_iter(), None, &mut bytes);
        assert_eq!(bytes.len(), HEADER_LEN + 3 * RECORD_LEN);
        let batch = Batch::parse(&bytes).unwrap();
        let read: Vec<_> = (0..batch.len())
            .map(|i| batch.get(i).unwrap().unwrap())
            .collect();
        assert_eq!(read, events());
        assert!(batch.get(3).is_none());
        assert_eq!(batch.position(1, 0), None, "no positions: the guest asks");
    }

    #[test]
    fn positions_come_back_marked_after_each_event_and_flat_where_there_are_none() {
        use crate::testing::amount;
        let held = Position {
            instrument: 1,
            qty: qty("-2"),
            avg_price: px("100"),
            realized_pnl: amount("3"),
            unrealized_pnl: amount("-7"),
            fees: amount("0.5"),
        };
        // Marked at 99 after the first event, none after the second, 101 after the last.
        let marks = [Some(px("99")), None, Some(px("101"))];
        let mut bytes = Vec::new();
        write(events().into_iter(), Some((&[held], &marks)), &mut bytes);
        let batch = Batch::parse(&bytes).unwrap();
        assert_eq!(batch.len(), 3);
        let marked = |unrealized: &str| Position {
            unrealized_pnl: amount(unrealized),
            ..held
        };
        assert_eq!(batch.position(1, 0), Some(marked("2")));
        assert_eq!(
            batch.position(1, 1),
            Some(held),
            "no mark: as the host keeps it"
        );
        assert_eq!(batch.position(1, 2), Some(marked("-2")));
        assert_eq!(batch.position(4, 0), Some(Position::flat(4)));
        check_refused(&bytes[..bytes.len() - 1], 3);
        check_refused(&bytes[..HEADER_LEN + 3 * RECORD_LEN + 2], 3);
    }

    fn check_refused(bytes: &[u8], count: u32) {
        assert_eq!(
            Batch::parse(bytes).unwrap_err(),
            BatchError::Count {
                count,
                bytes: bytes.len() - HEADER_LEN
            }
        );
    }

    #[test]
    fn a_batch_that_does_not_add_up_is_refused() {
        let mut bytes = Vec::new();
        write(events().into_iter(), None, &mut bytes);
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
