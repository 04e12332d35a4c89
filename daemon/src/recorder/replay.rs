//! `pennantd replay-session DIR`: a recorded session fed to a fresh engine built from the
//! session's configuration, with the strategy versions kept with it, the recorded wall
//! times and no store. The paper venue runs again; what it answered is what it answers
//! again, since it is deterministic. The outcome (a digest of every order and update, and
//! the positions at the end) is compared with the recorded one.

use super::format::{self, FormatError, Frame};
use crate::assembly::{self, Start};
use crate::config::{Config, ConfigError};
use crate::engine::journal::Journal;
use crate::engine::outcome::Outcome;
use crate::engine::{EngineInput, StrategyCode};
use crate::plugin::PluginError;
use pennant_sdk::Timestamp;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Why a session cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A file of the session cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Which.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// What is made of the session cannot be written.
    #[error("cannot write: {0}")]
    Write(std::io::Error),
    /// The folder holds no session files.
    #[error("{0} holds no recorded session (inputs-*.rec)")]
    Empty(PathBuf),
    /// The session's configuration does not parse with this build.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A file is not a session file or is damaged.
    #[error("{path}: {source}")]
    Format {
        /// Which.
        path: PathBuf,
        /// What.
        source: FormatError,
    },
    /// The WebAssembly host cannot start.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// A recorded input cannot be given to the engine.
    #[error("{path}, frame {frame}: {message}")]
    Input {
        /// Which file.
        path: PathBuf,
        /// Which frame.
        frame: u64,
        /// Why.
        message: String,
    },
}

/// What a replay came to.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    /// The inputs fed to the engine.
    pub inputs: u64,
    /// Market events among them.
    pub events: u64,
    /// The replay's outcome.
    pub replayed: Outcome,
    /// The recorded outcome, if the session ended cleanly.
    pub recorded: Option<Outcome>,
}

impl ReplayReport {
    /// The recorded session ended and the replay came to the same, bit for bit.
    pub fn same(&self) -> bool {
        self.recorded.as_ref() == Some(&self.replayed)
    }
}

/// A session folder: its configuration and its input files, in order.
pub struct Session {
    /// The configuration the session started with.
    pub config: Config,
    /// The input files, oldest first.
    pub segments: Vec<PathBuf>,
}

impl Session {
    /// Opens the session in `dir`.
    pub fn open(dir: &Path) -> Result<Session, ReplayError> {
        let config_path = dir.join("config.toml");
        let text = String::from_utf8_lossy(&read(&config_path)?).into_owned();
        let config = Config::parse(&text, &config_path, dir.to_owned())?;
        let mut segments: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| ReplayError::Read {
                path: dir.to_owned(),
                source,
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("inputs-") && n.ends_with(".rec"))
            })
            .collect();
        segments.sort();
        if segments.is_empty() {
            return Err(ReplayError::Empty(dir.to_owned()));
        }
        Ok(Session { config, segments })
    }

    /// Calls `each` with every frame of every file, in order, with its file, its number
    /// in the file and the wall time it was recorded at; stops at the first error
    /// (`each`'s, or a damaged file's).
    pub fn frames(
        &self,
        mut each: impl FnMut(&Path, u64, Timestamp, Frame) -> Result<(), ReplayError>,
    ) -> Result<(), ReplayError> {
        for path in &self.segments {
            let bytes = read(path)?;
            let mut reader = format::Reader::new(&bytes).map_err(format_error(path))?;
            let mut frame_no = 0u64;
            while let Some(frame) = reader.next_frame() {
                let (wall, frame) = frame.map_err(format_error(path))?;
                each(path, frame_no, wall, frame)?;
                frame_no += 1;
            }
        }
        Ok(())
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ReplayError> {
    std::fs::read(path).map_err(|source| ReplayError::Read {
        path: path.to_owned(),
        source,
    })
}

fn format_error(path: &Path) -> impl FnOnce(FormatError) -> ReplayError {
    let path = path.to_owned();
    move |source| ReplayError::Format { path, source }
}

/// Replays the session in `dir`.
pub fn replay(dir: &Path) -> Result<ReplayReport, ReplayError> {
    let session = Session::open(dir)?;
    let config = &session.config;
    let first = &session.segments[0];
    let first_bytes = read(first)?;
    let start = match format::Reader::new(&first_bytes)
        .map_err(format_error(first))?
        .next_frame()
    {
        Some(Ok((_, Frame::Start(start)))) => start,
        Some(Err(err)) => return Err(format_error(first)(err)),
        _ => {
            return Err(ReplayError::Input {
                path: first.clone(),
                frame: 0,
                message: "the session does not begin with its start".into(),
            })
        }
    };
    let cache = std::env::temp_dir().join(format!("pennant-replay-cache-{}", std::process::id()));
    let mut engine = assembly::engine(
        config,
        Journal::default(),
        Start::Replayed {
            clock_now: start.clock_now,
            cache_dir: cache.clone(),
        },
        Vec::new(),
    )?;
    engine.replay_mode();
    let plugins = engine.plugins().clone();
    let mut loaded: HashMap<String, StrategyCode> = HashMap::new();
    let components = dir.join("components");
    let mut code = |hash: &str| -> Result<StrategyCode, String> {
        if let Some(code) = loaded.get(hash) {
            return Ok(code.clone());
        }
        if hash == "native" {
            return Err("a native build was recorded: only components can be replayed".into());
        }
        let path = components.join(format!("{hash}.wasm"));
        let component = plugins
            .load(&path)
            .map_err(|err| format!("version {hash} is not kept with the session: {err}"))?;
        if component.hash != hash {
            return Err(format!("{} is not version {hash}", path.display()));
        }
        let code = StrategyCode::Wasm(std::sync::Arc::new(component));
        loaded.insert(hash.to_owned(), code.clone());
        Ok(code)
    };
    let mut report = ReplayReport {
        inputs: 0,
        events: 0,
        replayed: Outcome::default(),
        recorded: None,
    };
    let mut running = true;
    session.frames(|path, frame_no, wall, frame| {
        // Once the engine has stopped, only the recorded outcome is left to read.
        if !running && !matches!(frame, Frame::Outcome(_)) {
            return Ok(());
        }
        let input = match frame {
            Frame::Start(_) => return Ok(()),
            Frame::Recovered(recovered) => {
                engine.recover(*recovered);
                return Ok(());
            }
            Frame::StoreHold(hold) => {
                engine.replay_store_hold(wall, hold);
                return Ok(());
            }
            Frame::Outcome(outcome) => {
                report.recorded = Some(outcome);
                return Ok(());
            }
            Frame::Market(events) => {
                report.events += events.len() as u64;
                EngineInput::Market {
                    events,
                    received: Instant::now(),
                }
            }
            Frame::FeedEnded(feed) => EngineInput::FeedEnded { feed },
            Frame::Tick => EngineInput::Tick,
            Frame::Venue(venue, event) => EngineInput::Venue { venue, event },
            Frame::Shutdown => EngineInput::Shutdown,
            Frame::Command(record) => EngineInput::Command {
                command: record
                    .command(&mut code)
                    .map_err(|message| ReplayError::Input {
                        path: path.to_owned(),
                        frame: frame_no,
                        message,
                    })?,
                reply: None,
            },
        };
        report.inputs += 1;
        running = engine.replay_input(wall, input);
        Ok(())
    })?;
    engine.shutdown();
    let _ = std::fs::remove_dir_all(&cache);
    // `replay_mode` keeps the outcome.
    report.replayed = engine.outcome().unwrap_or_default();
    Ok(report)
}
