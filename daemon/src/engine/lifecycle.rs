//! Strategy lifecycle: start, swap to new code or parameters, stop, roll back, restart.
//!
//! Every change runs on the engine thread between two events, so no event reaches half a
//! swap. A swap takes the running instance's state (`snapshot`), builds the new instance
//! aside (`init` with the parameters, `restore` with the state) and only then puts it in
//! place: if any step fails the old instance was never touched and keeps running. What
//! belongs to the strategy id (orders, positions, counters) is not part of an instance
//! and carries over; subscriptions and timers are whatever the new version's `init` and
//! `restore` set up, as after any start.
//!
//! Starting is a swap from nothing: [`Engine::apply`] takes a list of [`Change`]s, and the
//! reloader produces the same list at start-up (from an empty set) as on every reload.

use super::{
    Engine, StartError, StrategyCode, StrategyCtx, StrategyIdx, StrategyRuntime, StrategySlot,
    StrategySpec, StrategyState,
};
use crate::config::{Limits, OpenOrders};
use crate::records::{Body, LifecycleEvent, LifecycleKind};
use crate::risk::Scope;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::SystemTime;

/// One change to the set of strategies or to the limits.
#[derive(Clone)]
pub enum Change {
    /// Start a strategy, or move a known one to this code and these parameters.
    Deploy(StrategySpec),
    /// Re-`init` a strategy with new parameters (and restore its state); same code.
    Reconfigure {
        /// The strategy id.
        id: String,
        /// The new parameters.
        params: Vec<(String, String)>,
        /// Its open-order policy.
        open_orders: OpenOrders,
    },
    /// Stop a strategy, applying its open-order policy.
    Stop {
        /// The strategy id.
        id: String,
        /// Why, for the log and the operator.
        reason: String,
    },
    /// A new version that could not be loaded: recorded in the strategy's versions (its
    /// outcome is the reason, as an error); nothing else changes.
    Refuse {
        /// The strategy id.
        id: String,
        /// The refused file's content hash.
        version: String,
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// Rebuild a strategy from the code it has (an operator's reload with an unchanged
    /// file): a new instance, `init`, and the state of the old one (or its last snapshot
    /// after a fault).
    Restart {
        /// The strategy id.
        id: String,
    },
    /// Set the limits of a scope (from a configuration reload).
    Limits {
        /// The scope.
        scope: Scope,
        /// Its new limits.
        limits: Limits,
    },
}

impl Change {
    /// What the change is about: a strategy id or a limits scope.
    pub fn target(&self) -> String {
        match self {
            Change::Deploy(spec) => spec.id.clone(),
            Change::Reconfigure { id, .. }
            | Change::Stop { id, .. }
            | Change::Refuse { id, .. }
            | Change::Restart { id } => id.clone(),
            Change::Limits { scope, .. } => format!("limits of {scope}"),
        }
    }
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// A strategy started (for the first time, or again after a stop or a fault).
    Started,
    /// A running strategy moved to new code.
    Swapped,
    /// A strategy was re-`init`ed with new parameters.
    Reconfigured,
    /// A strategy was rebuilt from the code it had.
    Restarted,
    /// A strategy stopped.
    Stopped,
    /// Limits were set.
    LimitsSet,
}

impl Done {
    /// Lower-case name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Done::Started => "started",
            Done::Swapped => "swapped",
            Done::Reconfigured => "reconfigured",
            Done::Restarted => "restarted",
            Done::Stopped => "stopped",
            Done::LimitsSet => "limits set",
        }
    }
}

/// The outcome of one [`Change`].
#[derive(Debug, Clone)]
pub struct ChangeOutcome {
    /// A strategy id or a limits scope.
    pub target: String,
    /// What was done, or why not.
    pub result: Result<Done, String>,
}

/// One version of a strategy's code, as loaded (or refused).
#[derive(Clone)]
pub struct Version {
    /// Content hash of the component (`native` for a native build).
    pub hash: String,
    /// The component file, if it came from one.
    pub path: Option<PathBuf>,
    /// When it was loaded or refused (wall time).
    pub loaded_at: SystemTime,
    /// What became of it.
    pub outcome: VersionOutcome,
    /// The code, kept for rollback (none for a refused version).
    code: Option<StrategyCode>,
}

impl Version {
    /// Whether [`Engine::rollback`] can return to it: it ran, its code is kept and it
    /// is not the code in use.
    pub fn can_roll_back(&self) -> bool {
        self.code.is_some() && self.outcome != VersionOutcome::Current
    }
}

impl std::fmt::Debug for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Version")
            .field("hash", &self.hash)
            .field("path", &self.path)
            .field("loaded_at", &self.loaded_at)
            .field("outcome", &self.outcome)
            .finish()
    }
}

/// What became of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionOutcome {
    /// The strategy's code now.
    Current,
    /// It ran, and was replaced by a later version (or rolled back from).
    Replaced,
    /// It could not be loaded, or its `init` or `restore` failed; the version before it
    /// kept running.
    Failed {
        /// Why.
        reason: String,
    },
}

impl Engine {
    /// The index of the strategy with this id.
    pub fn index_of(&self, id: &str) -> Option<StrategyIdx> {
        self.strategies.iter().position(|slot| slot.id == id)
    }

    /// The versions of a strategy, oldest first.
    pub fn versions(&self, id: &str) -> Option<Vec<Version>> {
        let idx = self.index_of(id)?;
        Some(self.strategies[idx].versions.iter().cloned().collect())
    }

    /// Adds a strategy and starts it; the index is returned even if it fails to start
    /// (it then stays quarantined with the reason), along with the error.
    pub fn start_strategy(&mut self, spec: StrategySpec) -> Result<StrategyIdx, StartError> {
        let id = spec.id.clone();
        self.deploy(spec)?;
        self.index_of(&id).ok_or(StartError::UnknownId(id))
    }

    /// Applies changes in order (limits first, so that a strategy starts under its
    /// limits) and says what each did. A failed change leaves what it would have
    /// replaced as it was.
    pub fn apply(&mut self, changes: Vec<Change>) -> Vec<ChangeOutcome> {
        let (limits, strategies): (Vec<Change>, Vec<Change>) = changes
            .into_iter()
            .partition(|c| matches!(c, Change::Limits { .. }));
        // A strategy's limits must be in place before it can trade, even one whose
        // component is not there yet.
        for change in limits.iter().chain(&strategies) {
            if let Change::Deploy(StrategySpec { id, .. })
            | Change::Refuse { id, .. }
            | Change::Limits {
                scope: Scope::Strategy(id),
                ..
            } = change
            {
                self.register(id);
            }
        }
        let mut outcomes = Vec::new();
        for change in limits.into_iter().chain(strategies) {
            let target = change.target();
            // What a failure leaves: the running version, or nothing (at start-up).
            let running_before = match &change {
                Change::Limits { .. } => true,
                _ => self
                    .index_of(&target)
                    .is_some_and(|idx| self.strategies[idx].instance.is_some()),
            };
            let result = match change {
                Change::Deploy(spec) => self.deploy(spec).map_err(|e| e.to_string()),
                Change::Reconfigure {
                    id,
                    params,
                    open_orders,
                } => self
                    .reconfigure(&id, params, open_orders)
                    .map_err(|e| e.to_string()),
                Change::Stop { id, reason } => self.stop(&id, &reason).map_err(|e| e.to_string()),
                Change::Refuse {
                    id,
                    version,
                    path,
                    reason,
                } => self.refuse(&id, version, path, reason),
                Change::Restart { id } => self.renew(&id).map_err(|e| e.to_string()),
                Change::Limits { scope, limits } => self
                    .change_limits(&scope, "config reload", |l| *l = limits)
                    .map(|()| Done::LimitsSet)
                    .map_err(|e| e.to_string()),
            };
            if let Err(reason) = &result {
                if running_before {
                    log::error!(change_target = target.as_str(); "not applied, what ran before keeps running: {reason}");
                } else {
                    log::error!(change_target = target.as_str(); "not started: {reason}");
                }
            }
            outcomes.push(ChangeOutcome { target, result });
        }
        outcomes
    }

    /// Starts strategy `spec.id` with this code and these parameters, or moves it to them
    /// if it exists: a swap that carries its state over. At its first start after a crash,
    /// open orders it left are canceled first if its policy is to cancel them when it
    /// stops: its state may be older than they are, and a strategy that does not know of
    /// an order would quote beside it.
    pub fn deploy(&mut self, spec: StrategySpec) -> Result<Done, StartError> {
        let idx = self.register(&spec.id);
        if std::mem::take(&mut self.strategies[idx].orders_left_by_crash)
            && spec.open_orders == OpenOrders::Cancel
        {
            let canceled = self.core().cancel_all_of(Some(idx));
            if canceled > 0 {
                log::warn!(strategy = spec.id.as_str(), canceled_orders = canceled; "open orders left by a crash canceled before the strategy starts (open_orders = \"cancel\")");
                self.deliver_updates();
            }
        }
        let path = match &spec.code {
            StrategyCode::Wasm(component) => Some(component.path.clone()),
            StrategyCode::Native(_) => None,
        };
        let hash = spec.code.version().to_owned();
        match self.swap(idx, spec.code.clone(), spec.params) {
            Ok(done) => {
                self.strategies[idx].open_orders = spec.open_orders;
                self.record_version(idx, hash, path, VersionOutcome::Current, Some(spec.code));
                Ok(done)
            }
            Err(err) => {
                let reason = err.to_string();
                self.record_version(idx, hash, path, VersionOutcome::Failed { reason }, None);
                Err(err)
            }
        }
    }

    /// Re-`init`s a strategy with new parameters, its code unchanged, and restores its
    /// state.
    pub fn reconfigure(
        &mut self,
        id: &str,
        params: Vec<(String, String)>,
        open_orders: OpenOrders,
    ) -> Result<Done, StartError> {
        let idx = self
            .index_of(id)
            .ok_or_else(|| StartError::UnknownId(id.to_owned()))?;
        let slot = &mut self.strategies[idx];
        if slot.params == params {
            // Only the policy changed: nothing to re-`init`.
            slot.open_orders = open_orders;
            return Ok(Done::Reconfigured);
        }
        let code = slot.code.clone().ok_or_else(|| StartError::NoVersion {
            strategy: id.to_owned(),
            wanted: "that has loaded".into(),
        })?;
        let done = self.swap(idx, code, params)?;
        self.strategies[idx].open_orders = open_orders;
        Ok(match done {
            Done::Swapped => Done::Reconfigured,
            other => other,
        })
    }

    /// Moves a strategy back to an earlier version it kept: the one with hash `to`, or
    /// else the last one before the current code. Its parameters and state carry over,
    /// as in any swap. Returns the hash now running. `actor` is who asked, for the audit
    /// trail.
    pub fn rollback(
        &mut self,
        id: &str,
        to: Option<&str>,
        actor: &str,
    ) -> Result<String, StartError> {
        let idx = self
            .index_of(id)
            .ok_or_else(|| StartError::UnknownId(id.to_owned()))?;
        let slot = &self.strategies[idx];
        let current = slot.code.as_ref().map(|c| c.version().to_owned());
        let target = slot
            .versions
            .iter()
            .rev()
            .filter(|v| v.can_roll_back())
            .find(|v| match to {
                Some(hash) => v.hash == hash,
                None => Some(&v.hash) != current.as_ref(),
            })
            .cloned()
            .ok_or_else(|| StartError::NoVersion {
                strategy: id.to_owned(),
                wanted: to.unwrap_or("at all").to_owned(),
            })?;
        let code = target.code.clone().ok_or_else(|| StartError::NoVersion {
            strategy: id.to_owned(),
            wanted: target.hash.clone(),
        })?;
        let params = slot.params.clone();
        self.swap(idx, code.clone(), params)?;
        log::info!(strategy = id, version = target.hash.as_str(), actor; "strategy rolled back");
        self.record_lifecycle(
            idx,
            LifecycleKind::RolledBack,
            Some(target.hash.clone()),
            format!("by {actor}"),
        );
        self.record_version(
            idx,
            target.hash.clone(),
            target.path,
            VersionOutcome::Current,
            Some(code),
        );
        Ok(target.hash)
    }

    /// Stops a strategy: takes its state (kept for when it starts again), drops the
    /// instance, its subscriptions and timers, and applies its open-order policy.
    pub fn stop(&mut self, id: &str, reason: &str) -> Result<Done, StartError> {
        let idx = self
            .index_of(id)
            .ok_or_else(|| StartError::UnknownId(id.to_owned()))?;
        if self.strategies[idx].instance.is_some() {
            self.take_snapshot(idx);
        }
        let policy = self.strategies[idx].open_orders;
        let canceled = self.tear_down(
            idx,
            StrategyState::Stopped {
                reason: reason.to_owned(),
            },
            policy,
        );
        self.deliver_updates();
        self.record_lifecycle(idx, LifecycleKind::Stopped, None, reason.to_owned());
        log::info!(strategy = id, reason, canceled_orders = canceled, open_orders:? = policy; "strategy stopped");
        Ok(Done::Stopped)
    }

    /// Rebuilds a quarantined strategy with its code and parameters: a new instance,
    /// `init`, `restore` from its last snapshot, then the order updates it missed. The
    /// way back after a fault.
    pub fn restart(&mut self, idx: StrategyIdx) -> Result<(), StartError> {
        let slot = self.strategies.get(idx).ok_or(StartError::Unknown(idx))?;
        if slot.state == StrategyState::Running {
            return Err(StartError::NotQuarantined {
                strategy: slot.id.clone(),
            });
        }
        let code = slot
            .code
            .clone()
            .ok_or_else(|| StartError::UnknownId(slot.id.clone()))?;
        let params = slot.params.clone();
        self.swap(idx, code, params).map(|_| ())
    }

    /// The version strategy `id` runs (or last ran).
    pub fn version_of(&self, id: &str) -> Option<String> {
        let idx = self.index_of(id)?;
        self.strategies[idx]
            .code
            .as_ref()
            .map(|c| c.version().to_owned())
    }

    /// Rebuilds strategy `id` from the code it has, whatever its state (a paused one
    /// stays paused): what an operator's reload does when the file has not changed.
    pub fn renew(&mut self, id: &str) -> Result<Done, StartError> {
        let idx = self
            .index_of(id)
            .ok_or_else(|| StartError::UnknownId(id.to_owned()))?;
        let slot = &self.strategies[idx];
        let code = slot
            .code
            .clone()
            .ok_or_else(|| StartError::NotLoaded(id.to_owned()))?;
        let params = slot.params.clone();
        self.swap(idx, code, params).map(|done| match done {
            Done::Started => Done::Started,
            _ => Done::Restarted,
        })
    }

    /// Pauses a running strategy (see [`StrategyState::Paused`]); pausing a paused one
    /// does nothing.
    pub fn pause(&mut self, id: &str, actor: &str) -> Result<(), StartError> {
        let idx = self.controllable(id, "pause")?;
        if self.strategies[idx].state == StrategyState::Paused {
            return Ok(());
        }
        self.strategies[idx].state = StrategyState::Paused;
        log::info!(strategy = id, actor; "strategy paused");
        self.record_lifecycle(idx, LifecycleKind::Paused, None, format!("by {actor}"));
        Ok(())
    }

    /// Resumes a paused strategy: first the order updates and the timers it missed, then
    /// events as they come. Resuming a running one does nothing.
    pub fn resume(&mut self, id: &str, actor: &str) -> Result<(), StartError> {
        let idx = self.controllable(id, "resume")?;
        if self.strategies[idx].state == StrategyState::Running {
            return Ok(());
        }
        self.strategies[idx].state = StrategyState::Running;
        log::info!(strategy = id, actor; "strategy resumed");
        self.record_lifecycle(idx, LifecycleKind::Resumed, None, format!("by {actor}"));
        let missed = std::mem::take(&mut self.strategies[idx].missed);
        for update in missed {
            self.deliver(idx, |i, ctx| i.on_order_update(ctx, &update));
            self.deliver_updates();
        }
        let timers = std::mem::take(&mut self.strategies[idx].deferred_timers);
        for token in timers {
            self.deliver(idx, |i, ctx| i.on_timer(ctx, token));
            self.deliver_updates();
        }
        Ok(())
    }

    /// The index of a strategy that can be paused or resumed: one with an instance.
    fn controllable(&self, id: &str, action: &'static str) -> Result<StrategyIdx, StartError> {
        let idx = self
            .index_of(id)
            .ok_or_else(|| StartError::UnknownId(id.to_owned()))?;
        let slot = &self.strategies[idx];
        match slot.state {
            StrategyState::Running | StrategyState::Paused if slot.instance.is_some() => Ok(idx),
            _ => Err(StartError::NotRunning {
                strategy: id.to_owned(),
                state: slot.state.name(),
                action,
            }),
        }
    }

    /// Records a version that could not be loaded; the reason comes back as the error.
    fn refuse(
        &mut self,
        id: &str,
        hash: String,
        path: PathBuf,
        reason: String,
    ) -> Result<Done, String> {
        let idx = self.register(id);
        let message = format!("new version {hash} of strategy {id} refused: {reason}");
        self.strategies[idx].last_error = Some(message.clone());
        self.record_lifecycle(
            idx,
            LifecycleKind::Refused,
            Some(hash.clone()),
            reason.clone(),
        );
        self.record_version(
            idx,
            hash,
            Some(path),
            VersionOutcome::Failed { reason },
            None,
        );
        Err(message)
    }

    /// Records a lifecycle event for the store.
    fn record_lifecycle(
        &mut self,
        idx: StrategyIdx,
        event: LifecycleKind,
        version: Option<String>,
        detail: String,
    ) {
        let strategy = self.strategies[idx].id.clone();
        let core = self.core();
        if core.journal.enabled() {
            let now = core.clock.now();
            core.journal.record(
                now,
                Body::Lifecycle(LifecycleEvent {
                    strategy,
                    event,
                    version,
                    detail,
                }),
            );
        }
    }

    /// The index of strategy `id`, adding it (not started) if it is new.
    pub(super) fn register(&mut self, id: &str) -> StrategyIdx {
        if let Some(idx) = self.index_of(id) {
            return idx;
        }
        let idx = self.core().add_strategy(id);
        let now = self.core().clock.now();
        self.strategies.push(StrategySlot {
            id: id.to_owned(),
            code: None,
            params: Vec::new(),
            open_orders: OpenOrders::default(),
            instance: None,
            state: StrategyState::Stopped {
                reason: "not started yet".into(),
            },
            snapshot: None,
            snapshot_at: now,
            missed: Vec::new(),
            orders_left_by_crash: false,
            versions: VecDeque::new(),
            last_error: None,
            deferred_timers: Vec::new(),
            lifecycle: Default::default(),
            metrics: self.metrics.as_ref().map(|m| m.strategy(id)),
        });
        idx
    }

    fn record_version(
        &mut self,
        idx: StrategyIdx,
        hash: String,
        path: Option<PathBuf>,
        outcome: VersionOutcome,
        code: Option<StrategyCode>,
    ) {
        let keep = self.settings.keep_versions.max(1);
        let versions = &mut self.strategies[idx].versions;
        if outcome == VersionOutcome::Current {
            for version in versions.iter_mut() {
                if version.outcome == VersionOutcome::Current {
                    version.outcome = VersionOutcome::Replaced;
                }
            }
        }
        // One entry per hash, the latest: rolling back and forth must not fill the list
        // with copies and push out what else was kept.
        versions.retain(|v| v.hash != hash);
        versions.push_back(Version {
            hash,
            path,
            loaded_at: SystemTime::now(),
            outcome,
            code,
        });
        // Failed versions go first, then the oldest that ran, never the one in use: a
        // run of refused files (a slow copy, say) must not push out what rollback needs.
        while versions.len() > keep {
            let failed = versions
                .iter()
                .position(|v| matches!(v.outcome, VersionOutcome::Failed { .. }));
            let replaced = || {
                versions
                    .iter()
                    .position(|v| v.outcome == VersionOutcome::Replaced)
            };
            match failed.or_else(replaced) {
                Some(oldest) => {
                    versions.remove(oldest);
                }
                None => break,
            }
        }
    }

    /// Puts `code` with `params` in place for strategy `idx`, carrying its state over:
    /// the running instance's fresh snapshot, or for a strategy not running, its last
    /// one. The new instance is built aside; on any failure the strategy is left exactly
    /// as it was (its subscriptions and timers too).
    fn swap(
        &mut self,
        idx: StrategyIdx,
        code: StrategyCode,
        params: Vec<(String, String)>,
    ) -> Result<Done, StartError> {
        let id = self.strategies[idx].id.clone();
        let mut was_running = self.strategies[idx].instance.is_some();
        let paused = self.strategies[idx].state == StrategyState::Paused;
        let mut state = self.strategies[idx].snapshot.clone();
        if was_running {
            match self.snapshot_of(idx) {
                Ok(fresh) => {
                    self.keep_snapshot(idx, fresh.clone());
                    state = Some(fresh);
                }
                Err(fault) => {
                    // The old version is quarantined (it faulted): the new one, perhaps
                    // the fix, starts from the last periodic snapshot instead.
                    log::warn!(strategy = id.as_str(); "the running version {fault} while its state was taken; the new one starts from the last snapshot");
                    was_running = false;
                }
            }
        }
        let core = self.core();
        let saved = (core.subscriptions.clone(), core.timers.clone());
        let orders_before = core.orders.open_ids(idx);
        core.subscriptions.remove(idx);
        core.timers.clear(idx);
        let instance = match self.build(idx, &code, &params, state.as_deref()) {
            Ok(instance) => instance,
            Err(err) => {
                let core = self.core();
                (core.subscriptions, core.timers) = saved;
                // Orders the failed version placed in `init` or `restore` are nobody's
                // intent any more: cancelled. The version that stays (if any) hears of
                // them as updates.
                let placed: Vec<_> = core
                    .orders
                    .open_ids(idx)
                    .into_iter()
                    .filter(|id| !orders_before.contains(id))
                    .collect();
                core.cancel(&placed);
                let slot = &mut self.strategies[idx];
                slot.last_error = Some(err.to_string());
                if !was_running {
                    slot.state = StrategyState::Quarantined {
                        reason: err.to_string(),
                    };
                }
                self.deliver_updates();
                self.record_lifecycle(
                    idx,
                    LifecycleKind::Failed,
                    Some(code.version().to_owned()),
                    err.to_string(),
                );
                return Err(err);
            }
        };
        let now = self.core().clock.now();
        let slot = &mut self.strategies[idx];
        let same_code = slot.code.as_ref().map(StrategyCode::version) == Some(code.version());
        slot.instance = Some(instance);
        // Timers are what the new instance's `init`/`restore` set, as for a running one.
        slot.deferred_timers.clear();
        // A paused strategy stays paused through a new version: resuming is the operator's.
        slot.state = if paused {
            StrategyState::Paused
        } else {
            StrategyState::Running
        };
        slot.code = Some(code);
        slot.params = params;
        slot.snapshot = state;
        slot.snapshot_at = now;
        slot.last_error = None;
        let (done, kind) = match (was_running, same_code) {
            (false, _) => (Done::Started, LifecycleKind::Started),
            (true, true) => (Done::Reconfigured, LifecycleKind::Reconfigured),
            (true, false) => (Done::Swapped, LifecycleKind::Swapped),
        };
        match done {
            Done::Started => slot.lifecycle.loads += 1,
            _ => slot.lifecycle.reloads += 1,
        }
        log::info!(
            strategy = id.as_str(), version = slot.code.as_ref().map_or("", StrategyCode::version),
            restored = slot.snapshot.is_some();
            "strategy {}", done.name()
        );
        let version = slot.code.as_ref().map(|c| c.version().to_owned());
        self.record_lifecycle(idx, kind, version, String::new());
        if !was_running && !paused {
            let missed = std::mem::take(&mut self.strategies[idx].missed);
            for update in missed {
                self.deliver(idx, |i, ctx| i.on_order_update(ctx, &update));
                self.deliver_updates();
            }
        }
        self.deliver_updates();
        Ok(done)
    }

    /// A new instance of `code` for strategy `idx`, `init`ed with `params` and, given a
    /// state, `restore`d from it. The strategy's slot is not touched.
    fn build(
        &mut self,
        idx: StrategyIdx,
        code: &StrategyCode,
        params: &[(String, String)],
        state: Option<&[u8]>,
    ) -> Result<Box<dyn StrategyRuntime>, StartError> {
        let id = self.strategies[idx].id.clone();
        let mut instance: Box<dyn StrategyRuntime> = match code {
            StrategyCode::Native(factory) => factory(),
            StrategyCode::Wasm(component) => {
                let log = self.core_ref().budgets[idx].log.clone();
                Box::new(self.plugins.instantiate(component, &id, log)?)
            }
        };
        let core = self.take_core();
        let (ctx, init) = instance.init(
            StrategyCtx {
                core,
                strategy: idx,
            },
            params,
        );
        let (ctx, outcome) = match (init, state) {
            (Ok(Ok(())), Some(state)) => instance.restore(ctx, state),
            (other, _) => (ctx, other),
        };
        self.core = Some(ctx.core);
        match outcome {
            Ok(Ok(())) => Ok(instance),
            Ok(Err(message)) => Err(StartError::Init {
                strategy: id,
                message,
            }),
            Err(fault) => Err(StartError::Fault {
                strategy: id,
                fault,
            }),
        }
    }

    /// Drops a strategy's instance, subscriptions and timers, and cancels its orders
    /// unless the policy keeps them; returns how many orders were canceled.
    pub(super) fn tear_down(
        &mut self,
        idx: StrategyIdx,
        state: StrategyState,
        open_orders: OpenOrders,
    ) -> usize {
        let slot = &mut self.strategies[idx];
        slot.instance = None;
        slot.deferred_timers.clear();
        slot.state = state;
        let core = self.core();
        core.subscriptions.remove(idx);
        core.timers.clear(idx);
        match open_orders {
            OpenOrders::Cancel => core.cancel_all_of(Some(idx)),
            OpenOrders::Keep => 0,
        }
    }

    /// Stops a misbehaving strategy, cancelling its orders whatever its policy (a strategy
    /// that faulted cannot look after them), and keeps the rest going.
    pub(super) fn quarantine(&mut self, idx: StrategyIdx, code: &str, reason: String) {
        let slot = &mut self.strategies[idx];
        slot.last_error = Some(reason.clone());
        *slot
            .lifecycle
            .quarantines
            .entry(code.to_owned())
            .or_default() += 1;
        let canceled = self.tear_down(
            idx,
            StrategyState::Quarantined {
                reason: reason.clone(),
            },
            OpenOrders::Cancel,
        );
        let id = self.strategies[idx].id.clone();
        log::error!(strategy = id.as_str(), fault = code, canceled_orders = canceled; "strategy quarantined: it {reason}");
        self.record_lifecycle(idx, LifecycleKind::Quarantined, None, reason);
    }
}
