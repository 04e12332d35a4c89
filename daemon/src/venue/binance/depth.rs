//! A local order book kept from Binance's diff depth stream, exactly as
//! web-socket-streams.md ("How to manage a local order book correctly") says:
//!
//! 1. Buffer the stream's `depthUpdate` events; note the `U` of the first.
//! 2. Get a snapshot (`GET /api/v3/depth`); if its `lastUpdateId` is below that `U`, get
//!    another.
//! 3. Drop buffered events whose `u` is at most `lastUpdateId`; the book is the snapshot,
//!    its update id `lastUpdateId`.
//! 4. Apply the buffered events, then every event that comes: one whose `u` is below the
//!    book's id is ignored (a duplicate, or late); one whose `U` is above the book's
//!    `id + 1` means events were missed: the book is dropped and the process starts
//!    again from step 1, with that event as the first buffered.
//!
//! [`DepthSync`] is that procedure for one symbol, without I/O: it is told the events and
//! snapshots, says when it needs a snapshot, and writes the book's changes as
//! [`BookLevel`]s (a snapshot as levels whose first has [`BookFlags::RESET`], each
//! event's levels with its `u` as their seq, the last of each with [`BookFlags::LAST`]).
//! Also ignored: an event equal in `u` to the book's id (it was applied). When a book in
//! sync is dropped (a gap, a lost connection) a level with [`BookFlags::CLEAR`] says so,
//! so that nothing downstream trades on it until the next snapshot.

use crate::market::MarketEvent;
use pennant_sdk::{BookFlags, BookLevel, InstrumentId, Price, Qty, Side, Timestamp};

/// Buffered events kept at most while a snapshot is awaited; the oldest go first (the
/// snapshot then answers for a later `U`, and step 2's check still holds).
pub const MAX_BUFFERED: usize = 10_000;

/// A `depthUpdate` event, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthUpdate {
    /// The instrument it is about.
    pub instrument: InstrumentId,
    /// `E`, in nanoseconds.
    pub ts: Timestamp,
    /// `U`: the first update id in the event.
    pub first: u64,
    /// `u`: the last update id in the event.
    pub last: u64,
    /// `b`: bid levels to set.
    pub bids: Vec<(Price, Qty)>,
    /// `a`: ask levels to set.
    pub asks: Vec<(Price, Qty)>,
}

/// A `GET /api/v3/depth` answer, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthSnapshot {
    /// `lastUpdateId`.
    pub last_update_id: u64,
    /// Bids, best first.
    pub bids: Vec<(Price, Qty)>,
    /// Asks, best first.
    pub asks: Vec<(Price, Qty)>,
}

/// What the sync needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: keep feeding it events.
    Nothing,
    /// A snapshot: fetch one and hand it to [`DepthSync::snapshot`].
    Snapshot,
}

/// What happened to the book so far, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepthStats {
    /// Snapshots applied.
    pub snapshots: u64,
    /// Snapshots refused as older than the first buffered event.
    pub stale_snapshots: u64,
    /// Events applied.
    pub applied: u64,
    /// Events ignored as already applied (duplicates, late).
    pub ignored: u64,
    /// Gaps found: the book was dropped and synced again.
    pub gaps: u64,
}

#[derive(Debug)]
enum State {
    /// Waiting for a snapshot; events buffered in order of arrival.
    Buffering {
        buffer: std::collections::VecDeque<DepthUpdate>,
        /// A snapshot has been asked for and not answered.
        asked: bool,
    },
    /// In sync: the book's update id.
    Synced { id: u64 },
}

/// The procedure for one symbol; see the module docs.
#[derive(Debug)]
pub struct DepthSync {
    instrument: InstrumentId,
    state: State,
    stats: DepthStats,
}

impl DepthSync {
    /// A book not yet in sync.
    pub fn new(instrument: InstrumentId) -> Self {
        DepthSync {
            instrument,
            state: State::Buffering {
                buffer: Default::default(),
                asked: false,
            },
            stats: DepthStats::default(),
        }
    }

    /// What happened so far.
    pub fn stats(&self) -> DepthStats {
        self.stats
    }

    /// Whether the book is in sync.
    pub fn is_synced(&self) -> bool {
        matches!(self.state, State::Synced { .. })
    }

    /// Starts again from step 1 (the connection was lost, at wall time `now`: events
    /// were missed); a book in sync is cleared in `out`.
    pub fn reset(&mut self, now: Timestamp, out: &mut Vec<MarketEvent>) {
        if let State::Synced { id } = self.state {
            clear(self.instrument, now, id, out);
        }
        self.state = State::Buffering {
            buffer: Default::default(),
            asked: false,
        };
    }

    /// An event from the stream; the book's changes go to `out`.
    pub fn update(&mut self, event: DepthUpdate, out: &mut Vec<MarketEvent>) -> Need {
        match &mut self.state {
            State::Buffering { buffer, asked } => {
                if buffer.len() >= MAX_BUFFERED {
                    buffer.pop_front();
                }
                buffer.push_back(event);
                if *asked {
                    Need::Nothing
                } else {
                    *asked = true;
                    Need::Snapshot
                }
            }
            State::Synced { id } => {
                if event.last <= *id {
                    self.stats.ignored += 1;
                    return Need::Nothing;
                }
                if event.first > *id + 1 {
                    self.stats.gaps += 1;
                    log::warn!(instrument = self.instrument, book_id = *id, first = event.first; "depth stream gap: syncing the book again");
                    clear(self.instrument, event.ts, *id, out);
                    self.state = State::Buffering {
                        buffer: [event].into(),
                        asked: true,
                    };
                    return Need::Snapshot;
                }
                *id = event.last;
                self.stats.applied += 1;
                emit(
                    self.instrument,
                    event.ts,
                    event.last,
                    false,
                    &event.bids,
                    &event.asks,
                    out,
                );
                Need::Nothing
            }
        }
    }

    /// A snapshot asked for, received at `received` (it has no time of its own); the
    /// book's changes go to `out`. [`Need::Snapshot`] again if it is older than the
    /// first buffered event.
    pub fn snapshot(
        &mut self,
        snapshot: DepthSnapshot,
        received: Timestamp,
        out: &mut Vec<MarketEvent>,
    ) -> Need {
        let State::Buffering { buffer, asked } = &mut self.state else {
            // In sync already (an answer to a request made before a reconnect's events
            // synced it again): the book is newer than it.
            return Need::Nothing;
        };
        *asked = false;
        if let Some(first) = buffer.front().map(|e| e.first) {
            if snapshot.last_update_id < first {
                self.stats.stale_snapshots += 1;
                *asked = true;
                return Need::Snapshot;
            }
        }
        let buffered = std::mem::take(buffer);
        self.stats.snapshots += 1;
        emit(
            self.instrument,
            received,
            snapshot.last_update_id,
            true,
            &snapshot.bids,
            &snapshot.asks,
            out,
        );
        self.state = State::Synced {
            id: snapshot.last_update_id,
        };
        for event in buffered {
            if event.last <= snapshot.last_update_id {
                continue;
            }
            if self.update(event, out) == Need::Snapshot {
                return Need::Snapshot;
            }
        }
        Need::Nothing
    }
}

/// The book is lost: a clear level.
fn clear(instrument: InstrumentId, ts: Timestamp, seq: u64, out: &mut Vec<MarketEvent>) {
    out.push(MarketEvent::Book(BookLevel::marker(
        instrument,
        ts,
        seq,
        BookFlags::CLEAR.with(BookFlags::LAST),
    )));
}

/// The levels of one message: a snapshot's first level resets the book; the last level
/// ends the message. An empty snapshot is one reset level of size zero.
fn emit(
    instrument: InstrumentId,
    ts: Timestamp,
    seq: u64,
    reset: bool,
    bids: &[(Price, Qty)],
    asks: &[(Price, Qty)],
    out: &mut Vec<MarketEvent>,
) {
    let start = out.len();
    let sides = bids
        .iter()
        .map(|&l| (Side::Buy, l))
        .chain(asks.iter().map(|&l| (Side::Sell, l)));
    for (side, (price, qty)) in sides {
        out.push(MarketEvent::Book(BookLevel {
            instrument,
            ts,
            seq,
            side,
            price,
            qty,
            flags: BookFlags::NONE,
        }));
    }
    if reset && out.len() == start {
        out.push(MarketEvent::Book(BookLevel::marker(
            instrument,
            ts,
            seq,
            BookFlags::NONE,
        )));
    }
    let count = out.len() - start;
    for (i, event) in out[start..].iter_mut().enumerate() {
        if let MarketEvent::Book(level) = event {
            if reset && i == 0 {
                level.flags = level.flags.with(BookFlags::RESET);
            }
            if i + 1 == count {
                level.flags = level.flags.with(BookFlags::LAST);
            }
        }
    }
}

#[cfg(test)]
mod tests;
