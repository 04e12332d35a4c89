//! The market data of a backtest: replay files (text or binary, told apart by the binary
//! format's magic) read on the engine's thread, merged in time order, cut to a period.
//! A malformed line or record is counted and skipped, as the replay feed does; a file that
//! cannot be read to its end fails the backtest (a report on part of the data would not
//! say so).

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
    /// The first read error: the tape ended there.
    error: Option<TapeError>,
    paths: Vec<PathBuf>,
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
            error: None,
            paths: paths.to_vec(),
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

    /// Why the tape ended before its files did, if it did: taken once the events are.
    pub fn finish(&mut self) -> Result<(), TapeError> {
        self.error.take().map_or(Ok(()), Err)
    }

    /// The next event of the period, in time order; `None` at the end, or at a read
    /// error ([`Tape::finish`] tells).
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
        if self.error.is_some() {
            return None;
        }
        let failed = |path: &Path, err: std::io::Error| TapeError::Read {
            path: path.to_owned(),
            message: err.to_string(),
        };
        loop {
            let event = match &mut self.sources[i] {
                Source::Text { lines, parser } => {
                    let line = match lines.next()? {
                        Ok(line) => line,
                        Err(err) => {
                            self.error = Some(failed(&self.paths[i], err));
                            return None;
                        }
                    };
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
                    match read_record(reader, &mut record) {
                        Ok(RecordRead::Whole) => {}
                        Ok(RecordRead::End) => return None,
                        Ok(RecordRead::Cut) => {
                            self.malformed += 1;
                            return None;
                        }
                        Err(err) => {
                            self.error = Some(failed(&self.paths[i], err));
                            return None;
                        }
                    }
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

/// What reading one binary record found.
#[derive(Debug, PartialEq, Eq)]
enum RecordRead {
    Whole,
    /// The file ended at a record's boundary.
    End,
    /// The file ended inside a record (a damaged or still growing file).
    Cut,
}

fn read_record(reader: &mut impl Read, record: &mut [u8]) -> std::io::Result<RecordRead> {
    let mut filled = 0;
    while filled < record.len() {
        match reader.read(&mut record[filled..]) {
            Ok(0) if filled == 0 => return Ok(RecordRead::End),
            Ok(0) => return Ok(RecordRead::Cut),
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(RecordRead::Whole)
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

#[cfg(test)]
mod tests {
    use super::{read_record, RecordRead};
    use std::io::Read;

    /// Gives its bytes a few at a time, then fails or ends.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        fails: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.at == self.bytes.len() {
                return if self.fails {
                    Err(std::io::Error::other("disk gone"))
                } else {
                    Ok(0)
                };
            }
            let n = buf.len().min(3).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn a_record_read_in_pieces_is_whole_and_an_end_inside_one_is_a_cut() {
        let check = |len: usize, fails: bool, expected: Result<Vec<RecordRead>, ()>| {
            let mut reader = Trickle {
                bytes: (0..len as u8).collect(),
                at: 0,
                fails,
            };
            let mut got = Vec::new();
            let outcome = loop {
                let mut record = [0u8; 8];
                match read_record(&mut reader, &mut record) {
                    Ok(RecordRead::Whole) => {
                        assert_eq!(record[0] as usize, got.len() * 8);
                        got.push(RecordRead::Whole);
                    }
                    Ok(end) => {
                        got.push(end);
                        break Ok(got);
                    }
                    Err(_) => break Err(()),
                }
            };
            assert_eq!(outcome, expected, "{len} bytes, fails: {fails}");
        };
        use RecordRead::*;
        check(0, false, Ok(vec![End]));
        check(16, false, Ok(vec![Whole, Whole, End]));
        check(19, false, Ok(vec![Whole, Whole, Cut]));
        check(16, true, Err(()));
        check(5, true, Err(()));
    }
}
