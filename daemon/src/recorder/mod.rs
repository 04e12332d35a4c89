//! The session recorder: every input of the engine, written to the state directory as
//! it is handled, so that `pennantd replay-session DIR` ([`replay`]) can run the session
//! again on a fresh engine and show that it makes the same orders, fills and PnL.
//!
//! A session is a folder under `[recorder] dir`, named by its start time (seconds since
//! the epoch, zero-padded so that names sort by age) and the daemon's pid:
//!
//! ```text
//! sessions/001764633600-4242/
//!   config.toml          the configuration the session started with
//!   components/HASH.wasm every strategy version it ran, by content hash
//!   inputs-00000.rec     the engine's inputs (format.rs), rotated at segment_mib
//!   inputs-00001.rec
//! ```
//!
//! Writes are buffered on the engine thread and flushed on every wall-clock tick (a
//! crash loses at most the last 100 ms). A write error (a full disk) stops the recording
//! with an error in the log; trading goes on. Sessions together stay within `max_mib`:
//! when a file is full the oldest whole sessions are deleted; a session that alone
//! outgrows the budget stops recording, since only a whole session can be replayed.

pub mod export;
pub mod format;
pub mod replay;

use crate::config::Config;
use crate::engine::tape::{Frame, Tape};
use crate::engine::{outcome::Outcome, Change, Command, StrategyCode};
use crate::metrics::RecorderMetrics;
use crate::records::Recovered;
use pennant_sdk::Timestamp;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why a recording cannot start.
#[derive(Debug, thiserror::Error)]
#[error("cannot record the session in {path}: {source}")]
pub struct RecorderError {
    /// The folder or file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// Records a session: a [`Tape`] the engine tells its inputs to.
pub struct Recorder {
    root: PathBuf,
    dir: PathBuf,
    file: Option<BufWriter<File>>,
    segment: u32,
    segment_bytes: u64,
    in_segment: u64,
    max_bytes: u64,
    /// Bytes of this session on disk (files and components).
    written: u64,
    buf: Vec<u8>,
    components: HashSet<String>,
    metrics: Option<RecorderMetrics>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RecorderError + '_ {
    move |source| RecorderError {
        path: path.to_owned(),
        source,
    }
}

impl Recorder {
    /// Starts a session folder for `config` with the engine clock in `clock` mode at
    /// `clock_now`.
    pub fn start(
        config: &Config,
        clock: crate::engine::clock::ClockMode,
        clock_now: Timestamp,
    ) -> Result<Recorder, RecorderError> {
        let root = config
            .resolve(&config.daemon.state_dir)
            .join(&config.recorder.dir);
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let dir = root.join(format!("{secs:012}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("components")).map_err(io_error(&dir))?;
        let text = std::fs::read(&config.source).map_err(io_error(&config.source))?;
        let config_copy = dir.join("config.toml");
        std::fs::write(&config_copy, &text).map_err(io_error(&config_copy))?;
        let mib = |n: std::num::NonZeroU32| u64::from(n.get()) * 1024 * 1024;
        let mut recorder = Recorder {
            root,
            dir,
            file: None,
            segment: 0,
            segment_bytes: mib(config.recorder.segment_mib),
            in_segment: 0,
            max_bytes: mib(config.recorder.max_mib),
            written: text.len() as u64,
            buf: Vec::with_capacity(64 * 1024),
            components: HashSet::new(),
            metrics: None,
        };
        recorder.open_segment().map_err(io_error(&recorder.dir))?;
        let start = format::SessionStart {
            clock: match clock {
                crate::engine::clock::ClockMode::Event => "event".into(),
                crate::engine::clock::ClockMode::Wall => "wall".into(),
            },
            clock_now,
            daemon_version: env!("CARGO_PKG_VERSION").into(),
        };
        format::encode_owned(&mut recorder.buf, &format::Frame::Start(start));
        recorder.write_buf();
        recorder.make_room();
        log::info!(dir:% = recorder.dir.display(); "recording the session");
        Ok(recorder)
    }

    /// Shows what it records in the metrics from now on.
    pub fn with_metrics(mut self, metrics: RecorderMetrics) -> Self {
        metrics.recording.set(i64::from(self.file.is_some()));
        metrics.session_bytes.set(self.written as i64);
        self.metrics = Some(metrics);
        self
    }

    /// The session's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn open_segment(&mut self) -> std::io::Result<()> {
        let path = self.dir.join(format!("inputs-{:05}.rec", self.segment));
        let mut file = BufWriter::with_capacity(256 * 1024, File::create(&path)?);
        let header = format::header();
        file.write_all(&header)?;
        self.in_segment = header.len() as u64;
        self.written += header.len() as u64;
        self.file = Some(file);
        Ok(())
    }

    /// Writes what `buf` holds; on failure stops recording.
    fn write_buf(&mut self) {
        let Some(file) = &mut self.file else {
            self.buf.clear();
            return;
        };
        if let Err(err) = file.write_all(&self.buf) {
            self.stop(&format!("cannot write: {err}"));
        }
        let n = self.buf.len() as u64;
        self.in_segment += n;
        self.written += n;
        self.buf.clear();
        if let Some(metrics) = &self.metrics {
            metrics.session_bytes.set(self.written as i64);
        }
        if self.in_segment >= self.segment_bytes && self.file.is_some() {
            self.rotate();
        }
    }

    fn rotate(&mut self) {
        if let Some(mut file) = self.file.take() {
            if let Err(err) = file.flush() {
                self.stop(&format!("cannot write: {err}"));
                return;
            }
        }
        self.segment += 1;
        if let Err(err) = self.open_segment() {
            self.stop(&format!("cannot start the next file: {err}"));
            return;
        }
        self.make_room();
    }

    /// Deletes the oldest other sessions while all of them together pass `max_bytes`;
    /// stops recording if this one alone does.
    fn make_room(&mut self) {
        let mut others: Vec<(PathBuf, u64)> = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir() && *p != self.dir)
                .map(|p| {
                    let size = dir_size(&p);
                    (p, size)
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        others.sort();
        let mut total: u64 = others.iter().map(|(_, size)| size).sum::<u64>() + self.written;
        for (path, size) in others {
            if total <= self.max_bytes {
                break;
            }
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {
                    log::info!(dir:% = path.display(), bytes = size; "deleted the oldest recorded session to stay within [recorder] max_mib");
                    total -= size;
                    if let Some(metrics) = &self.metrics {
                        metrics.deleted.inc();
                    }
                }
                Err(err) => {
                    log::warn!(dir:% = path.display(); "cannot delete an old recorded session: {err}")
                }
            }
        }
        if self.written > self.max_bytes {
            self.stop("the session alone outgrew [recorder] max_mib");
        }
    }

    fn stop(&mut self, why: &str) {
        if let Some(metrics) = &self.metrics {
            metrics.recording.set(0);
        }
        if self.file.take().is_some() {
            log::error!(dir:% = self.dir.display(); "session recording stopped: {why}; trading goes on, but this session cannot be replayed past here");
        }
    }

    /// Keeps the component of each deployed strategy version with the session.
    fn keep_components(&mut self, command: &Command) {
        let Command::Apply { changes, .. } = command else {
            return;
        };
        for change in changes {
            let Change::Deploy(spec) = change else {
                continue;
            };
            let StrategyCode::Wasm(component) = &spec.code else {
                log::warn!(strategy = spec.id.as_str(); "a native strategy cannot be kept with the session: a replay will refuse it");
                continue;
            };
            if !self.components.insert(component.hash.clone()) || self.file.is_none() {
                continue;
            }
            let kept = self
                .dir
                .join("components")
                .join(format!("{}.wasm", component.hash));
            let bytes = match std::fs::read(&component.path) {
                Ok(bytes) if crate::plugin::cache::content_hash(&bytes) == component.hash => bytes,
                Ok(_) => {
                    log::warn!(strategy = spec.id.as_str(), path:% = component.path.display(); "the component file changed since it was loaded: this version is not kept with the session");
                    continue;
                }
                Err(err) => {
                    log::warn!(strategy = spec.id.as_str(), path:% = component.path.display(); "cannot keep the component with the session: {err}");
                    continue;
                }
            };
            match std::fs::write(&kept, &bytes) {
                Ok(()) => self.written += bytes.len() as u64,
                Err(err) => self.stop(&format!("cannot keep a component: {err}")),
            }
        }
    }
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

impl Tape for Recorder {
    fn record(&mut self, wall: Timestamp, frame: Frame<'_>) {
        if self.file.is_none() {
            return;
        }
        if let Frame::Command(command) = frame {
            self.keep_components(command);
        }
        format::encode(&mut self.buf, wall, &frame);
        self.write_buf();
        if matches!(frame, Frame::Tick | Frame::Shutdown) {
            if let Some(Err(err)) = self.file.as_mut().map(Write::flush) {
                self.stop(&format!("cannot write: {err}"));
            }
        }
    }

    fn recovered(&mut self, recovered: &Recovered) {
        format::encode_owned(
            &mut self.buf,
            &format::Frame::Recovered(Box::new(recovered.clone())),
        );
        self.write_buf();
    }

    fn finish(&mut self, outcome: &Outcome) {
        format::encode_owned(&mut self.buf, &format::Frame::Outcome(outcome.clone()));
        self.write_buf();
        if let Some(Err(err)) = self.file.as_mut().map(Write::flush) {
            self.stop(&format!("cannot write: {err}"));
        }
        log::info!(dir:% = self.dir.display(), orders = outcome.orders, fills = outcome.fills, digest = outcome.digest.as_str(); "session recorded");
    }
}
