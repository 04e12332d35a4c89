//! The market data of a backtest: replay files (text or binary, told apart by the binary
//! format's magic) read on the engine's thread, merged in time order, cut to a period.
//! A malformed line or record is counted and skipped, as the replay feed does.

use crate::market::binary::{self, Header, RECORD_LEN};
use crate::market::replay::LineParser;
use crate::market::{Instruments, MarketEvent};
use pennant_sdk::Timestamp;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Why a data file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TapeError {
    /// Opening or reading it failed.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// One file being read.
enum Source {
    Text {
        lines: std::io::Split<BufReader<std::fs::File>>,
        parser: LineParser,
    },
    Binary {
        reader: BufReader<std::fs::File>,
        header: Header,
    },
}

/// Replay files merged in time order (a tie goes to the file named first).
pub struct Tape {
    sources: Vec<Source>,
    heads: Vec<Option<MarketEvent>>,
    from: Timestamp,
    to: Timestamp,
    /// Lines and records skipped as malformed.
    pub malformed: u64,
    /// How many records the files hold, when all are binary (a text file's count is
    /// only known once read).
    pub records: Option<u64>,
}

impl Tape {
    /// Opens `paths`, to read their events from `from` (inclusive) to `to` (exclusive).
    pub fn open(
        paths: &[PathBuf],
        instruments: &Instruments,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Tape, TapeError> {
        let mut tape = Tape {
            sources: Vec::new(),
            heads: Vec::new(),
            from,
            to,
            malformed: 0,
            records: Some(0),
        };
        for path in paths {
            let (source, records) = open(path, instruments)?;
            tape.records = tape.records.zip(records).map(|(a, b)| a + b);
            tape.sources.push(source);
            tape.heads.push(None);
        }
        for i in 0..tape.sources.len() {
            tape.heads[i] = tape.read(i, instruments);
        }
        Ok(tape)
    }

    /// The next event of the period, in time order; `None` at the end.
    pub fn next(&mut self, instruments: &Instruments) -> Option<MarketEvent> {
        let (at, _) = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, head)| head.map(|e| (i, e.ts())))
            .min_by_key(|&(i, ts)| (ts, i))?;
        let event = self.heads[at].take();
        self.heads[at] = self.read(at, instruments);
        event
    }

    /// The next event of source `i` within the period.
    fn read(&mut self, i: usize, instruments: &Instruments) -> Option<MarketEvent> {
        loop {
            let event = match &mut self.sources[i] {
                Source::Text { lines, parser } => {
                    let line = lines.next()?.ok()?;
                    let parsed = std::str::from_utf8(&line)
                        .map_err(|_| ())
                        .and_then(|text| parser.parse(text, instruments).map_err(drop));
                    match parsed {
                        Ok(Some(event)) => event,
                        Ok(None) => continue,
                        Err(()) => {
                            self.malformed += 1;
                            continue;
                        }
                    }
                }
                Source::Binary { reader, header } => {
                    let mut record = [0u8; RECORD_LEN];
                    reader.read_exact(&mut record).ok()?;
                    match header.decode(&record) {
                        Ok(event) => event,
                        Err(_) => {
                            self.malformed += 1;
                            continue;
                        }
                    }
                }
            };
            if event.ts() >= self.to {
                return None;
            }
            if event.ts() >= self.from {
                return Some(event);
            }
        }
    }
}

/// Opens one file: a binary replay file's header is read at once, and its records
/// counted.
fn open(path: &Path, instruments: &Instruments) -> Result<(Source, Option<u64>), TapeError> {
    let failed = |message: String| TapeError::Read {
        path: path.to_owned(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|err| failed(err.to_string()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let start = reader.fill_buf().map_err(|err| failed(err.to_string()))?;
    if !binary::is_binary(start) {
        let source = Source::Text {
            lines: reader.split(b'\n'),
            parser: LineParser::default(),
        };
        return Ok((source, None));
    }
    // The header is a symbol table: far smaller than the buffer the first read filled.
    let bytes = reader.fill_buf().map_err(|err| failed(err.to_string()))?;
    let header = Header::read(bytes, instruments)
        .map_err(|err| failed(err.to_string()))?
        .ok_or_else(|| failed("the header ends early".into()))?;
    reader.consume(header.len);
    let len = reader.get_ref().metadata().map_or(0, |m| m.len());
    let records = len.saturating_sub(header.len as u64) / RECORD_LEN as u64;
    Ok((Source::Binary { reader, header }, Some(records)))
}
