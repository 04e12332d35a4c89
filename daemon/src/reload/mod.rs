//! Hot reload: from the configuration file and the component files on disk to the
//! [`Change`]s that bring the engine there.
//!
//! The [`Reloader`] remembers what it last asked the engine for: per strategy, the
//! content hash of its component file, its parameters and its open-order policy; and the
//! risk limits of the configuration. Each pass ([`Reloader::prepare`]) re-reads the
//! configuration when asked, hashes every component file, compiles what changed (with
//! the on-disk compile cache; the daemon runs passes off the engine thread) and returns
//! the changes. The engine applies them between two events ([`Engine::apply`]).
//!
//! Start-up is the first pass, from an empty set: one code path for starting and
//! reloading. Passes are triggered by the [`watch`]er (files saved in the component
//! folder, the configuration file) and by `SIGHUP`; [`run`] drives them.
//!
//! A file is loaded only once it compiles and fits the contract, so a partially written
//! file is refused (and loaded when the write completes and the watcher fires again);
//! a file that changes while it is being read is left for the next pass. Each content is
//! tried once: the same bytes are not compiled again until they change.

mod run;
pub mod watch;

pub use run::run;

use crate::config::{Config, ConfigError, Limits, OpenOrders, RiskConfig};
use crate::engine::{
    Change, ChangeOutcome, SharedComponent, StrategyCode, StrategyCtx, StrategySpec,
};
use crate::plugin::{cache::content_hash, PluginHost};
use crate::risk::Scope;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// What asks for a reload pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A file changed in a component folder.
    Components,
    /// The configuration file changed.
    Config,
    /// `SIGHUP`: the configuration and every component.
    Signal,
}

/// An operator's reload of one strategy (from the admin API): a pass as for a changed
/// component, in which the strategy is rebuilt even if its file has not changed.
pub struct StrategyReload {
    /// The strategy id.
    pub id: String,
    /// Where the outcome goes.
    pub reply: oneshot::Sender<Result<Reloaded, ReloadRefused>>,
}

/// What an operator's reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// `started`, `swapped`, `reconfigured` or `restarted`.
    pub outcome: &'static str,
    /// The version now running.
    pub version: Option<String>,
}

/// Why an operator's reload did nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadRefused {
    /// The configuration has no such strategy.
    #[error("no strategy {0} in the configuration")]
    Unknown(String),
    /// The file is missing or refused, or the new instance failed: what ran before runs.
    #[error("{0}")]
    Failed(String),
}

impl Trigger {
    fn rereads_config(self) -> bool {
        matches!(self, Trigger::Config | Trigger::Signal)
    }
}

/// What the reloader last asked for, for one strategy.
#[derive(Debug, Clone, PartialEq)]
struct Applied {
    /// Content hash of the component file last seen (loaded or refused); `None` while
    /// the file is missing.
    hash: Option<String>,
    params: Vec<(String, String)>,
    open_orders: OpenOrders,
    /// What became of it.
    outcome: Outcome,
    /// When the file was first seen missing, if it is: a file that is gone for a moment
    /// (an editor saving by delete and create) must not stop the strategy.
    missing_since: Option<Instant>,
}

/// What became of the last change asked for a strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Asked for, and not known to have failed.
    Applied,
    /// The engine could not apply it (`init` or `restore` failed): the same file is
    /// deployed again when the parameters change.
    Failed,
    /// The file did not compile: not tried again until it changes.
    Refused,
}

/// The outcome of one pass.
#[derive(Default)]
pub struct Pass {
    /// What the engine should do.
    pub changes: Vec<Change>,
    /// Strategies declared in the configuration whose component file does not exist
    /// (yet): they start when it appears.
    pub waiting: Vec<(String, PathBuf)>,
    /// A file changed while it was read: another pass should follow after the debounce.
    pub retry: bool,
    /// The configuration could not be re-read; the one in force stays.
    pub config_error: Option<ConfigError>,
}

/// See the module docs.
pub struct Reloader {
    config: Config,
    plugins: Arc<PluginHost<StrategyCtx>>,
    applied: BTreeMap<String, Applied>,
    applied_risk: RiskConfig,
    /// How long a component file may be missing before its strategy stops.
    grace: Duration,
}

impl Reloader {
    /// A reloader that has applied nothing yet, for an engine built with `config`'s risk
    /// limits.
    pub fn new(config: Config, plugins: Arc<PluginHost<StrategyCtx>>) -> Self {
        let applied_risk = config.risk.clone();
        let grace = Duration::from_millis(u64::from(config.plugins.reload_debounce_ms.get()));
        Reloader {
            config,
            plugins,
            applied: BTreeMap::new(),
            applied_risk,
            grace,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The folders to watch: the configuration file's and every component's.
    pub fn watched_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = BTreeSet::new();
        dirs.insert(self.config.resolve(&self.config.plugins.dir));
        for strategy in &self.config.strategies {
            if let Some(parent) = self.config.component_path(strategy).parent() {
                dirs.insert(parent.to_owned());
            }
        }
        if let Some(parent) = self.config.source.parent() {
            dirs.insert(if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                parent.to_owned()
            });
        }
        dirs.into_iter().collect()
    }

    /// One pass: re-reads the configuration if `reread_config`, looks at every component
    /// file, compiles what changed, and says what the engine should do.
    pub fn prepare(&mut self, reread_config: bool) -> Pass {
        let mut pass = Pass::default();
        if reread_config {
            match Config::load(&self.config.source) {
                Ok(new) => self.adopt(new),
                Err(err) => {
                    log::error!("configuration not reloaded, the one in force stays: {err}");
                    pass.config_error = Some(err);
                }
            }
        }
        pass.changes.extend(self.limit_changes());
        let mut compiled: HashMap<String, Result<SharedComponent, String>> = HashMap::new();
        let declared: BTreeSet<String> = self
            .config
            .strategies
            .iter()
            .map(|s| s.id().to_owned())
            .collect();
        for (id, applied) in std::mem::take(&mut self.applied) {
            if declared.contains(&id) {
                self.applied.insert(id, applied);
            } else if applied.hash.is_some() {
                pass.changes.push(Change::Stop {
                    id,
                    reason: "removed from the configuration".into(),
                });
            }
        }
        for strategy in self.config.strategies.clone() {
            let id = strategy.id().to_owned();
            let path = self.config.component_path(&strategy);
            let params = strategy.param_pairs();
            let open_orders = strategy.open_orders;
            let previous = self.applied.get(&id).cloned();
            let bytes = match read_settled(&path) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => {
                    log::info!(strategy = id.as_str(), path:% = path.display(); "component file changed while read: next pass");
                    pass.retry = true;
                    continue;
                }
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    let now = Instant::now();
                    match previous {
                        Some(p) if p.hash.is_some() => {
                            let since = p.missing_since.unwrap_or(now);
                            if now.duration_since(since) < self.grace {
                                // Perhaps being saved: look again after the debounce.
                                pass.retry = true;
                                self.applied.insert(
                                    id,
                                    Applied {
                                        missing_since: Some(since),
                                        ..p
                                    },
                                );
                                continue;
                            }
                            pass.changes.push(Change::Stop {
                                id: id.clone(),
                                reason: format!("component file {} removed", path.display()),
                            });
                        }
                        _ => pass.waiting.push((id.clone(), path)),
                    }
                    self.applied.insert(
                        id,
                        Applied {
                            hash: None,
                            params,
                            open_orders,
                            outcome: Outcome::Applied,
                            missing_since: None,
                        },
                    );
                    continue;
                }
                Err(err) => {
                    log::error!(strategy = id.as_str(), path:% = path.display(); "cannot read the component file: {err}");
                    continue;
                }
            };
            let hash = content_hash(&bytes);
            let mut next = Applied {
                hash: Some(hash.clone()),
                params: params.clone(),
                open_orders,
                outcome: Outcome::Applied,
                missing_since: None,
            };
            let same_file = previous
                .as_ref()
                .filter(|p| p.hash.as_deref() == Some(hash.as_str()));
            let same_settings =
                same_file.is_some_and(|p| p.params == params && p.open_orders == open_orders);
            match same_file.map(|p| p.outcome) {
                Some(outcome) if same_settings => next.outcome = outcome,
                Some(Outcome::Refused) => next.outcome = Outcome::Refused,
                Some(Outcome::Applied) => pass.changes.push(Change::Reconfigure {
                    id: id.clone(),
                    params,
                    open_orders,
                }),
                // A new file, or the file whose start failed with other settings.
                Some(Outcome::Failed) | None => {
                    let component = compiled
                        .entry(hash.clone())
                        .or_insert_with(|| {
                            self.plugins
                                .load_bytes(&path, &bytes)
                                .map(Arc::new)
                                .map_err(|err| err.to_string())
                        })
                        .clone();
                    pass.changes.push(match component {
                        Ok(component) => Change::Deploy(StrategySpec {
                            id: id.clone(),
                            code: StrategyCode::Wasm(component),
                            params,
                            open_orders,
                        }),
                        Err(reason) => {
                            next.outcome = Outcome::Refused;
                            Change::Refuse {
                                id: id.clone(),
                                version: hash,
                                path,
                                reason,
                            }
                        }
                    });
                }
            }
            self.applied.insert(id, next);
        }
        pass
    }

    /// Learns what the engine made of a pass's changes: a strategy whose deploy or
    /// re-`init` failed is deployed again (not re-`init`ed) when its settings change.
    pub fn settle(&mut self, outcomes: &[ChangeOutcome]) {
        for outcome in outcomes {
            if let (Err(_), Some(applied)) =
                (&outcome.result, self.applied.get_mut(&outcome.target))
            {
                if applied.outcome == Outcome::Applied {
                    applied.outcome = Outcome::Failed;
                }
            }
        }
    }

    /// Takes a new configuration's strategies and limits; what only a restart can change
    /// stays as it runs.
    fn adopt(&mut self, new: Config) {
        let restart = new.needs_restart(&self.config);
        if !restart.is_empty() {
            log::warn!(
                "configuration reloaded; changes to {} take effect at the next restart",
                restart.join(", ")
            );
        } else {
            log::info!(path:% = self.config.source.display(); "configuration reloaded");
        }
        self.config.strategies = new.strategies;
        self.config.risk.defaults = new.risk.defaults;
        self.config.risk.global = new.risk.global;
        self.config.risk.strategy = new.risk.strategy;
        self.config.risk.instrument = new.risk.instrument;
    }

    /// The scopes whose limits in the configuration differ from those last applied.
    fn limit_changes(&mut self) -> Vec<Change> {
        let old = std::mem::replace(&mut self.applied_risk, self.config.risk.clone());
        let new = &self.config.risk;
        let mut changes = Vec::new();
        let mut push = |scope: Scope, before: Option<&Limits>, after: Option<&Limits>| {
            if before != after {
                changes.push(Change::Limits {
                    scope,
                    limits: after.cloned().unwrap_or_default(),
                });
            }
        };
        push(Scope::Defaults, Some(&old.defaults), Some(&new.defaults));
        push(Scope::Global, Some(&old.global), Some(&new.global));
        let ids: BTreeSet<&String> = old.strategy.keys().chain(new.strategy.keys()).collect();
        for id in ids {
            push(
                Scope::Strategy(id.clone()),
                old.strategy.get(id),
                new.strategy.get(id),
            );
        }
        let symbols: BTreeSet<&String> =
            old.instrument.keys().chain(new.instrument.keys()).collect();
        for symbol in symbols {
            push(
                Scope::Instrument(symbol.clone()),
                old.instrument.get(symbol),
                new.instrument.get(symbol),
            );
        }
        changes
    }
}

/// Reads a file whole, unless it changes while being read (a copy in progress):
/// `Ok(None)` then.
fn read_settled(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let before = std::fs::metadata(path)?;
    let bytes = std::fs::read(path)?;
    let after = std::fs::metadata(path)?;
    let same = before.len() == after.len()
        && after.len() == bytes.len() as u64
        && before.modified().ok() == after.modified().ok();
    Ok(same.then_some(bytes))
}

/// The first line of an error (toml's carry a snippet of the file after it).
fn first_line(err: &ConfigError) -> String {
    err.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Logs what each change did; returns how many failed.
pub fn log_outcomes(outcomes: &[ChangeOutcome]) -> usize {
    let mut failed = 0;
    for outcome in outcomes {
        match &outcome.result {
            Ok(done) => {
                log::debug!(target_of_change = outcome.target.as_str(), done = done.name(); "change applied")
            }
            // The engine logged the reason already.
            Err(_) => failed += 1,
        }
    }
    failed
}

#[cfg(test)]
mod tests;
