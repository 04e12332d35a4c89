//! The file watcher: folders, not files, because editors and `cp`/`mv` save by writing a
//! temporary file and renaming it over the old one, which a watch on the file itself
//! would lose. Events are debounced (a copy in progress fires many), filtered to
//! component files (`*.wasm`) and the configuration file, and turned into [`Trigger`]s.

use super::Trigger;
use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};
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
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
}

/// Watches `dirs` (not recursively) and sends a trigger for every debounced batch of
/// changes to a `*.wasm` file or to `config_file`.
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
                    if path.file_name().map(OsString::from) == config_name {
                        config = true;
                    } else if path.extension().is_some_and(|ext| ext == "wasm") {
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
    let mut debouncer =
        new_debouncer(debounce, None, handler).map_err(|err| WatchError(err.to_string()))?;
    for dir in dirs {
        // A folder that cannot be watched (it does not exist, say) leaves the others
        // watched; SIGHUP still reloads everything.
        match debouncer.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                log::info!(path:% = dir.display(); "watching for strategy and configuration changes")
            }
            Err(err) => log::warn!(path:% = dir.display(); "cannot watch this folder: {err}"),
        }
    }
    Ok(Watcher {
        _debouncer: debouncer,
    })
}
