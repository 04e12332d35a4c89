//! The file watcher: folders, not files, because editors and `cp`/`mv` save by writing a
//! temporary file and renaming it over the old one, which a watch on the file itself
//! would lose. Events are debounced (a copy in progress fires many) and turned into
//! [`Trigger`]s: the configuration file's, or any other file's but hidden ones (the
//! temporary files of editors and of `cargo xtask build-strategies`; the rename that
//! ends such a save names the real file too). A pass with nothing changed costs a hash of
//! each component file.

use super::Trigger;
use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// Why the watcher could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the file watcher: {0}")]
pub struct WatchError(String);

/// Watches until dropped.
pub struct Watcher {
    debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    watched: BTreeSet<PathBuf>,
}

impl Watcher {
    /// Watches these folders too (those already watched are skipped). A folder that
    /// cannot be watched (it does not exist, say) leaves the others watched; `SIGHUP`
    /// still reloads everything.
    pub fn add(&mut self, dirs: &[PathBuf]) {
        for dir in dirs {
            if self.watched.contains(dir) {
                continue;
            }
            match self.debouncer.watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir.clone());
                    log::info!(path:% = dir.display(); "watching for strategy and configuration changes")
                }
                Err(err) => log::warn!(path:% = dir.display(); "cannot watch this folder: {err}"),
            }
        }
    }
}

/// Watches `dirs` (not recursively) and sends a trigger for every debounced batch of
/// changes to a file that is not hidden.
pub fn start(
    dirs: &[PathBuf],
    config_file: &Path,
    debounce: Duration,
    triggers: mpsc::Sender<Trigger>,
) -> Result<Watcher, WatchError> {
    let config_name = config_file.file_name().map(OsString::from);
    let handler = move |result: DebounceEventResult| match result {
        Ok(events) => {
            let mut config = false;
            let mut components = false;
            for event in &events {
                if matches!(event.kind, EventKind::Access(_)) {
                    continue;
                }
                for path in &event.paths {
                    let name = path.file_name().map(OsString::from);
                    if name == config_name {
                        config = true;
                    } else if name.is_some_and(|n| !n.to_string_lossy().starts_with('.')) {
                        components = true;
                    }
                }
            }
            let trigger = match (config, components) {
                (true, _) => Trigger::Config,
                (false, true) => Trigger::Components,
                (false, false) => return,
            };
            // The debouncer's own thread: blocking here only delays the next batch.
            let _ = triggers.blocking_send(trigger);
        }
        Err(errors) => {
            for error in errors {
                log::warn!("file watcher: {error}");
            }
        }
    };
    let debouncer =
        new_debouncer(debounce, None, handler).map_err(|err| WatchError(err.to_string()))?;
    let mut watcher = Watcher {
        debouncer,
        watched: BTreeSet::new(),
    };
    watcher.add(dirs);
    Ok(watcher)
}
