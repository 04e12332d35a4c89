//! The session files' format. Each file starts with [`MAGIC`] and a format version (u16,
//! little endian), then holds frames: a payload length (u32 LE) and the payload, whose
//! first byte is the kind and next eight the wall time (i64 LE, nanoseconds since the
//! epoch; 0 with the event clock). Market events are the 48-byte records of
//! [`crate::market::binary`], read without parsing; the rarer frames (commands, the recovered
//! state, the outcome) are postcard.
//!
//! | kind | frame      | body                                                        |
//! |------|------------|-------------------------------------------------------------|
//! | 0    | start      | postcard [`SessionStart`]                                   |
//! | 1    | market     | u32 count, then a [`crate::market::binary`] record per      |
//! |      |            | event, its instrument the engine's handle                   |
//! | 2    | feed ended | postcard string                                             |
//! | 3    | tick       | nothing                                                     |
//! | 4    | shutdown   | nothing                                                     |
//! | 5    | command    | postcard [`CommandRecord`]                                  |
//! | 6    | store hold | postcard `Option<String>`                                   |
//! | 7    | recovered  | postcard [`crate::records::Recovered`]                        |
//! | 8    | outcome    | postcard [`crate::engine::outcome::Outcome`]                |
//! | 9    | venue      | postcard `(u32 venue, `[`crate::venue::VenueEvent`]`)`      |

use crate::config::{Limits, OpenOrders};
use crate::engine::outcome::Outcome;
use crate::engine::{Change, Command, LimitsPatch, StrategyCode};
use crate::market::{binary, MarketEvent};
use crate::records::{Named, Recovered};
use crate::risk::{Scope, TradingState};
use pennant_sdk::Timestamp;
use serde::{Deserialize, Serialize};

/// The first bytes of every session file.
pub const MAGIC: &[u8; 16] = b"PENNANT-SESSION\0";
/// The format version this build writes and reads. 2: records are typed (enums for
/// sides, statuses, kinds, trading states) and orders carry their venue, which changes
/// the postcard of the recovered state; a version 1 session is refused by name. 3: the
/// recovered state says when the latest order was created, and a venue's snapshot
/// which orders it had been sent. 4: market events are the binary replay format's
/// 48-byte records, which carry book levels.
pub const VERSION: u16 = 4;
/// A frame larger than this is corrupt (a batch of market events is far smaller).
pub const MAX_FRAME: u32 = 256 * 1024 * 1024;

/// Why a session cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Not a session file.
    #[error("not a session file of format version {VERSION}")]
    NotASession,
    /// A session file of another format version.
    #[error("a session file of format version {found}: this pennantd reads version {VERSION}")]
    Version {
        /// The file's version.
        found: u16,
    },
    /// A frame cannot be decoded.
    #[error("frame {frame}: {message}")]
    Corrupt {
        /// Its number in the file, from 0.
        frame: u64,
        /// What is wrong.
        message: String,
    },
}

/// How the session started: what a replay needs besides the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStart {
    /// `event` or `wall`.
    pub clock: String,
    /// The engine clock when the session started.
    pub clock_now: Timestamp,
    /// The `pennantd` version that recorded it.
    pub daemon_version: String,
}

/// One frame, owned (what a reader gives back).
#[derive(Debug, Clone)]
pub enum Frame {
    /// The session's start.
    Start(SessionStart),
    /// Market events.
    Market(Vec<MarketEvent>),
    /// A feed ended.
    FeedEnded(String),
    /// A wall-clock tick.
    Tick,
    /// Shutdown was asked for.
    Shutdown,
    /// A command.
    Command(CommandRecord),
    /// The store hold changed.
    StoreHold(Option<String>),
    /// The state recovered from the store at start.
    Recovered(Box<Recovered>),
    /// What the session came to.
    Outcome(Outcome),
    /// A venue's later answer.
    Venue(usize, crate::venue::VenueEvent),
}

/// A command as recorded: scopes and states by name, limits as TOML, code by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandRecord {
    /// See [`Command::Apply`].
    Apply {
        /// The changes.
        changes: Vec<ChangeRecord>,
        /// The strategy asked about.
        version_of: Option<String>,
    },
    /// See [`Command::Pause`].
    Pause {
        /// Strategy id.
        strategy: String,
        /// Who.
        actor: String,
    },
    /// See [`Command::Resume`].
    Resume {
        /// Strategy id.
        strategy: String,
        /// Who.
        actor: String,
    },
    /// See [`Command::Rollback`]: the version by hash; the engine replayed keeps the
    /// versions it was given, so the same one is there.
    Rollback {
        /// Strategy id.
        strategy: String,
        /// The version's hash, or `None` for the one before.
        version: Option<String>,
        /// Who.
        actor: String,
    },
    /// See [`Command::KillSwitch`].
    KillSwitch {
        /// Scope, as displayed.
        scope: String,
        /// Who.
        actor: String,
    },
    /// See [`Command::ReleaseKillSwitch`].
    ReleaseKillSwitch {
        /// Scope, as displayed.
        scope: String,
        /// Who.
        actor: String,
    },
    /// See [`Command::SetTradingState`].
    SetTradingState {
        /// Scope, as displayed.
        scope: String,
        /// `ACTIVE`, `REDUCING` or `HALTED`.
        state: String,
        /// Who.
        actor: String,
    },
    /// See [`Command::ChangeLimits`].
    ChangeLimits {
        /// Scope, as displayed.
        scope: String,
        /// The keys changed.
        keys: Vec<String>,
        /// Their values, as TOML.
        values: String,
        /// Who.
        actor: String,
    },
}

/// A reload change as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeRecord {
    /// New code: the component's content hash (its file is kept with the session), or
    /// `native`.
    Deploy {
        /// Strategy id.
        id: String,
        /// Content hash.
        code: String,
        /// Parameters.
        params: Vec<(String, String)>,
        /// Keep its orders when it stops.
        keep_orders: bool,
    },
    /// New parameters.
    Reconfigure {
        /// Strategy id.
        id: String,
        /// Parameters.
        params: Vec<(String, String)>,
        /// Keep its orders when it stops.
        keep_orders: bool,
    },
    /// Stop.
    Stop {
        /// Strategy id.
        id: String,
        /// Why.
        reason: String,
    },
    /// A refused version.
    Refuse {
        /// Strategy id.
        id: String,
        /// Its hash.
        version: String,
        /// Its file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Rebuild from the code it has.
    Restart {
        /// Strategy id.
        id: String,
    },
    /// New limits of a scope.
    Limits {
        /// Scope, as displayed.
        scope: String,
        /// As TOML.
        limits: String,
    },
}

impl CommandRecord {
    /// The record of a command.
    pub fn of(command: &Command) -> Self {
        match command {
            Command::Apply {
                changes,
                version_of,
            } => CommandRecord::Apply {
                changes: changes.iter().map(ChangeRecord::of).collect(),
                version_of: version_of.clone(),
            },
            Command::Pause { strategy, actor } => CommandRecord::Pause {
                strategy: strategy.clone(),
                actor: actor.clone(),
            },
            Command::Resume { strategy, actor } => CommandRecord::Resume {
                strategy: strategy.clone(),
                actor: actor.clone(),
            },
            Command::Rollback {
                strategy,
                version,
                actor,
            } => CommandRecord::Rollback {
                strategy: strategy.clone(),
                version: version.clone(),
                actor: actor.clone(),
            },
            Command::KillSwitch { scope, actor } => CommandRecord::KillSwitch {
                scope: scope.to_string(),
                actor: actor.clone(),
            },
            Command::ReleaseKillSwitch { scope, actor } => CommandRecord::ReleaseKillSwitch {
                scope: scope.to_string(),
                actor: actor.clone(),
            },
            Command::SetTradingState {
                scope,
                state,
                actor,
            } => CommandRecord::SetTradingState {
                scope: scope.to_string(),
                state: state.name().to_owned(),
                actor: actor.clone(),
            },
            Command::ChangeLimits {
                scope,
                patch,
                actor,
            } => CommandRecord::ChangeLimits {
                scope: scope.to_string(),
                keys: patch.keys.clone(),
                values: patch.values.to_toml(),
                actor: actor.clone(),
            },
        }
    }

    /// The command again; `code` finds a strategy's code by its hash.
    pub fn command(
        self,
        mut code: impl FnMut(&str) -> Result<StrategyCode, String>,
    ) -> Result<Command, String> {
        let scope = |text: String| Scope::parse(&text).ok_or(format!("unknown scope {text:?}"));
        Ok(match self {
            CommandRecord::Apply {
                changes,
                version_of,
            } => Command::Apply {
                changes: changes
                    .into_iter()
                    .map(|c| c.change(&mut code))
                    .collect::<Result<_, _>>()?,
                version_of,
            },
            CommandRecord::Pause { strategy, actor } => Command::Pause { strategy, actor },
            CommandRecord::Resume { strategy, actor } => Command::Resume { strategy, actor },
            CommandRecord::Rollback {
                strategy,
                version,
                actor,
            } => Command::Rollback {
                strategy,
                version,
                actor,
            },
            CommandRecord::KillSwitch { scope: s, actor } => Command::KillSwitch {
                scope: scope(s)?,
                actor,
            },
            CommandRecord::ReleaseKillSwitch { scope: s, actor } => Command::ReleaseKillSwitch {
                scope: scope(s)?,
                actor,
            },
            CommandRecord::SetTradingState {
                scope: s,
                state,
                actor,
            } => Command::SetTradingState {
                scope: scope(s)?,
                state: TradingState::parse(&state).map_err(|err| err.to_string())?,
                actor,
            },
            CommandRecord::ChangeLimits {
                scope: s,
                keys,
                values,
                actor,
            } => Command::ChangeLimits {
                scope: scope(s)?,
                patch: LimitsPatch {
                    keys,
                    values: limits(&values)?,
                },
                actor,
            },
        })
    }
}

fn limits(text: &str) -> Result<Limits, String> {
    toml::from_str(text).map_err(|err| format!("recorded limits: {err}"))
}

fn policy(keep_orders: bool) -> OpenOrders {
    if keep_orders {
        OpenOrders::Keep
    } else {
        OpenOrders::Cancel
    }
}

impl ChangeRecord {
    /// The record of a change.
    pub fn of(change: &Change) -> Self {
        match change {
            Change::Deploy(spec) => ChangeRecord::Deploy {
                id: spec.id.clone(),
                code: spec.code.version().to_owned(),
                params: spec.params.clone(),
                keep_orders: spec.open_orders == OpenOrders::Keep,
            },
            Change::Reconfigure {
                id,
                params,
                open_orders,
            } => ChangeRecord::Reconfigure {
                id: id.clone(),
                params: params.clone(),
                keep_orders: *open_orders == OpenOrders::Keep,
            },
            Change::Stop { id, reason } => ChangeRecord::Stop {
                id: id.clone(),
                reason: reason.clone(),
            },
            Change::Refuse {
                id,
                version,
                path,
                reason,
            } => ChangeRecord::Refuse {
                id: id.clone(),
                version: version.clone(),
                path: path.display().to_string(),
                reason: reason.clone(),
            },
            Change::Restart { id } => ChangeRecord::Restart { id: id.clone() },
            Change::Limits { scope, limits } => ChangeRecord::Limits {
                scope: scope.to_string(),
                limits: limits.to_toml(),
            },
        }
    }

    fn change(
        self,
        code: &mut impl FnMut(&str) -> Result<StrategyCode, String>,
    ) -> Result<Change, String> {
        Ok(match self {
            ChangeRecord::Deploy {
                id,
                code: hash,
                params,
                keep_orders,
            } => Change::Deploy(crate::engine::StrategySpec {
                code: code(&hash).map_err(|err| format!("strategy {id}: {err}"))?,
                id,
                params,
                open_orders: policy(keep_orders),
            }),
            ChangeRecord::Reconfigure {
                id,
                params,
                keep_orders,
            } => Change::Reconfigure {
                id,
                params,
                open_orders: policy(keep_orders),
            },
            ChangeRecord::Stop { id, reason } => Change::Stop { id, reason },
            ChangeRecord::Refuse {
                id,
                version,
                path,
                reason,
            } => Change::Refuse {
                id,
                version,
                path: path.into(),
                reason,
            },
            ChangeRecord::Restart { id } => Change::Restart { id },
            ChangeRecord::Limits { scope, limits: l } => Change::Limits {
                scope: Scope::parse(&scope).ok_or(format!("unknown scope {scope:?}"))?,
                limits: limits(&l)?,
            },
        })
    }
}

/// The file header.
pub fn header() -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    out
}

/// Checks a file's header; returns the rest.
pub fn check_header(bytes: &[u8]) -> Result<&[u8], FormatError> {
    let rest = bytes
        .strip_prefix(&MAGIC[..])
        .ok_or(FormatError::NotASession)?;
    match rest.split_first_chunk::<2>() {
        Some((version, rest)) if u16::from_le_bytes(*version) == VERSION => Ok(rest),
        Some((version, _)) => Err(FormatError::Version {
            found: u16::from_le_bytes(*version),
        }),
        None => Err(FormatError::NotASession),
    }
}

const START: u8 = 0;
const MARKET: u8 = 1;
const FEED_ENDED: u8 = 2;
const TICK: u8 = 3;
const SHUTDOWN: u8 = 4;
const COMMAND: u8 = 5;
const STORE_HOLD: u8 = 6;
const RECOVERED: u8 = 7;
const OUTCOME: u8 = 8;
const VENUE: u8 = 9;

/// Appends one frame to `out`: length, kind, wall time, body.
pub fn encode(out: &mut Vec<u8>, wall: Timestamp, frame: &crate::engine::tape::Frame<'_>) {
    use crate::engine::tape::Frame as F;
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    let kind = match frame {
        F::Market(_) => MARKET,
        F::FeedEnded(_) => FEED_ENDED,
        F::Tick => TICK,
        F::Shutdown => SHUTDOWN,
        F::Command(_) => COMMAND,
        F::StoreHold(_) => STORE_HOLD,
        F::Venue(..) => VENUE,
    };
    out.push(kind);
    out.extend_from_slice(&wall.to_le_bytes());
    match frame {
        F::Market(events) => encode_market(out, events),
        F::FeedEnded(feed) => postcard_into(out, feed),
        F::Tick | F::Shutdown => {}
        F::Command(command) => postcard_into(out, &CommandRecord::of(command)),
        F::StoreHold(hold) => postcard_into(out, hold),
        F::Venue(venue, event) => postcard_into(out, &(*venue as u32, *event)),
    }
    finish(out, at);
}

/// Appends a frame of the session's own (start, recovered state, outcome).
pub fn encode_owned(out: &mut Vec<u8>, frame: &Frame) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    let kind = match frame {
        Frame::Start(_) => START,
        Frame::Recovered(_) => RECOVERED,
        Frame::Outcome(_) => OUTCOME,
        _ => unreachable!("the engine's inputs are encoded from the engine's frames"),
    };
    out.push(kind);
    out.extend_from_slice(&0i64.to_le_bytes());
    match frame {
        Frame::Start(start) => postcard_into(out, start),
        Frame::Recovered(recovered) => postcard_into(out, recovered),
        Frame::Outcome(outcome) => postcard_into(out, outcome),
        _ => {}
    }
    finish(out, at);
}

fn finish(out: &mut [u8], at: usize) {
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

fn postcard_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serializing these types into a Vec cannot fail: no maps with non-string keys,
    // no sequences of unknown length.
    if let Ok(bytes) = postcard::to_allocvec(value) {
        out.extend_from_slice(&bytes);
    }
}

fn encode_market(out: &mut Vec<u8>, events: &[MarketEvent]) {
    out.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for event in events {
        out.extend_from_slice(&binary::encode(event, event.instrument()));
    }
}

/// Reads frames from a file's bytes, after its header.
pub struct Reader<'a> {
    rest: &'a [u8],
    frame: u64,
}

impl<'a> Reader<'a> {
    /// Frames of `bytes`, a whole session file.
    pub fn new(bytes: &'a [u8]) -> Result<Self, FormatError> {
        Ok(Reader {
            rest: check_header(bytes)?,
            frame: 0,
        })
    }

    fn corrupt(&self, message: impl Into<String>) -> FormatError {
        FormatError::Corrupt {
            frame: self.frame,
            message: message.into(),
        }
    }

    /// The next frame with its wall time; `None` at the end. A frame cut short (the
    /// daemon stopped while writing it) ends the file too.
    pub fn next_frame(&mut self) -> Option<Result<(Timestamp, Frame), FormatError>> {
        let (len, rest) = self.rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len);
        if len > MAX_FRAME {
            return Some(Err(self.corrupt(format!("a frame of {len} bytes"))));
        }
        if rest.len() < len as usize {
            log::warn!(frame = self.frame; "the session file ends within a frame: the rest was not written");
            self.rest = &[];
            return None;
        }
        let (payload, rest) = rest.split_at(len as usize);
        self.rest = rest;
        let decoded = self.decode(payload);
        self.frame += 1;
        Some(decoded)
    }

    fn decode(&self, payload: &[u8]) -> Result<(Timestamp, Frame), FormatError> {
        let Some((&kind, rest)) = payload.split_first() else {
            return Err(self.corrupt("an empty frame"));
        };
        let Some((wall, body)) = rest.split_first_chunk::<8>() else {
            return Err(self.corrupt("a frame without its wall time"));
        };
        let wall = i64::from_le_bytes(*wall);
        let postcard_err = |err: postcard::Error| self.corrupt(err.to_string());
        let frame = match kind {
            START => Frame::Start(postcard::from_bytes(body).map_err(postcard_err)?),
            MARKET => Frame::Market(decode_market(body).map_err(|m| self.corrupt(m))?),
            FEED_ENDED => Frame::FeedEnded(postcard::from_bytes(body).map_err(postcard_err)?),
            TICK => Frame::Tick,
            SHUTDOWN => Frame::Shutdown,
            COMMAND => Frame::Command(postcard::from_bytes(body).map_err(postcard_err)?),
            STORE_HOLD => Frame::StoreHold(postcard::from_bytes(body).map_err(postcard_err)?),
            RECOVERED => Frame::Recovered(postcard::from_bytes(body).map_err(postcard_err)?),
            OUTCOME => Frame::Outcome(postcard::from_bytes(body).map_err(postcard_err)?),
            VENUE => {
                let (venue, event): (u32, crate::venue::VenueEvent) =
                    postcard::from_bytes(body).map_err(postcard_err)?;
                Frame::Venue(venue as usize, event)
            }
            other => return Err(self.corrupt(format!("unknown frame kind {other}"))),
        };
        Ok((wall, frame))
    }
}

fn decode_market(body: &[u8]) -> Result<Vec<MarketEvent>, String> {
    let (count, rest) = body
        .split_first_chunk::<4>()
        .ok_or("market frame without its count")?;
    let count = u32::from_le_bytes(*count) as usize;
    if rest.len() != count * binary::RECORD_LEN {
        return Err(format!(
            "market frame of {count} events in {} bytes",
            rest.len()
        ));
    }
    rest.as_chunks::<{ binary::RECORD_LEN }>()
        .0
        .iter()
        .map(|record| {
            binary::decode(record, binary::record_instrument(record)).map_err(|e| e.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tape::Frame as F;
    use pennant_sdk::{BookFlags, BookLevel, Price, Qty, Quote, Side, Trade};

    #[test]
    fn frames_read_back_as_written() {
        let trade = Trade {
            instrument: 3,
            ts: 1_700_000_000_000_000_000,
            price: Price::from_raw(6_500_012_345_678),
            qty: Qty::from_raw(1_000_000),
            aggressor: Side::Sell,
        };
        let quote = Quote {
            instrument: 1,
            ts: 42,
            bid_price: Price::from_raw(99),
            bid_qty: Qty::from_raw(5),
            ask_price: Price::from_raw(101),
            ask_qty: Qty::from_raw(7),
        };
        let level = BookLevel {
            instrument: 2,
            ts: 43,
            seq: 1 << 40,
            side: Side::Buy,
            price: Price::from_raw(98),
            qty: Qty::ZERO,
            flags: BookFlags::LAST,
        };
        let events = [
            MarketEvent::Trade(trade),
            MarketEvent::Quote(quote),
            MarketEvent::Book(level),
        ];
        let command = Command::ChangeLimits {
            scope: Scope::Strategy("mm".into()),
            patch: LimitsPatch {
                keys: vec!["max_order_qty".into()],
                values: Limits {
                    max_order_qty: Some("0.5".parse().unwrap()),
                    ..Limits::default()
                },
            },
            actor: "token ops".into(),
        };
        let mut bytes = header();
        encode(&mut bytes, 7, &F::Market(&events));
        encode(&mut bytes, 8, &F::Tick);
        encode(&mut bytes, 9, &F::Command(&command));
        encode(&mut bytes, 10, &F::StoreHold(Some("disk full")));
        let venue_event = crate::venue::VenueEvent::Reports(vec![
            crate::venue::ExecutionReport::Unknown { id: 4, ts: 11 },
            crate::venue::ExecutionReport::Fill {
                id: 4,
                price: Price::from_raw(5),
                qty: Qty::from_raw(6),
                fee: pennant_sdk::Amount::from_raw(-1),
                liquidity: pennant_sdk::Liquidity::Maker,
                ts: 12,
            },
        ]);
        encode(&mut bytes, 11, &F::Venue(2, &venue_event));
        let mut reader = Reader::new(&bytes).unwrap();
        let mut next = || reader.next_frame().map(|f| f.unwrap());
        match next() {
            Some((7, Frame::Market(back))) => assert_eq!(back, events),
            other => panic!("{other:?}"),
        }
        assert!(matches!(next(), Some((8, Frame::Tick))));
        match next() {
            Some((9, Frame::Command(record))) => {
                assert_eq!(record, CommandRecord::of(&command));
                let again = record.command(|_| Err("no code".into())).unwrap();
                assert_eq!(CommandRecord::of(&again), CommandRecord::of(&command));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(next(), Some((10, Frame::StoreHold(Some(why)))) if why == "disk full"));
        match next() {
            Some((11, Frame::Venue(2, back))) => assert_eq!(back, venue_event),
            other => panic!("{other:?}"),
        }
        assert!(next().is_none());
        // A frame cut short by a crash ends the file; garbage is an error.
        let cut = &bytes[..bytes.len() - 3];
        let mut reader = Reader::new(cut).unwrap();
        assert_eq!(std::iter::from_fn(|| reader.next_frame()).count(), 4);
        let mut bad = header();
        bad.extend_from_slice(&[9, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut reader = Reader::new(&bad).unwrap();
        assert!(matches!(
            reader.next_frame(),
            Some(Err(FormatError::Corrupt { .. }))
        ));
        assert!(matches!(
            Reader::new(b"not a session"),
            Err(FormatError::NotASession)
        ));
        // A file of an earlier format is refused by its version, not misread.
        for version in [1u16, 2, 3] {
            let mut old = MAGIC.to_vec();
            old.extend_from_slice(&version.to_le_bytes());
            let err = Reader::new(&old).err().unwrap();
            assert!(matches!(err, FormatError::Version { found } if found == version));
            assert!(err.to_string().contains("reads version 4"), "{err}");
        }
    }
}
