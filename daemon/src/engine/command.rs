//! The control plane: everything the rest of the daemon asks of the engine is a
//! [`Command`], a plain value, answered through a reply channel with an [`Answer`].
//!
//! Being data, a command can be recorded with the market data around it and replayed
//! ([`super::tape`]), taken before market data (it travels on the control channel), and
//! one day sent from another process. The engine runs it between two events and publishes
//! its view before it answers, so the caller finds what the command changed.

use super::lifecycle::{Change, ChangeOutcome};
use super::{Engine, StartError, StrategyState};
use crate::config::Limits;
use crate::risk::{RiskError, Scope, TradingState};
use tokio::sync::oneshot;

/// Something asked of the engine. `actor` is who asked, for the audit trail.
#[derive(Clone)]
pub enum Command {
    /// Apply a reload pass's changes (start-up is the first pass); the answer carries the
    /// version `version_of` runs afterwards, when asked.
    Apply {
        /// The changes, in the order the reloader made them.
        changes: Vec<Change>,
        /// A strategy whose version the caller wants to hear back.
        version_of: Option<String>,
    },
    /// Pause a strategy: it keeps its instance and orders and hears nothing.
    Pause {
        /// The strategy id.
        strategy: String,
        /// Who asked.
        actor: String,
    },
    /// Resume a paused strategy.
    Resume {
        /// The strategy id.
        strategy: String,
        /// Who asked.
        actor: String,
    },
    /// Move a strategy back to a version it kept (see [`Engine::rollback`]).
    Rollback {
        /// The strategy id.
        strategy: String,
        /// The version's hash; `None` for the one before the current code.
        version: Option<String>,
        /// Who asked.
        actor: String,
    },
    /// Engage the kill switch of a scope: HALTED, and its open orders canceled.
    KillSwitch {
        /// Global or one strategy.
        scope: Scope,
        /// Who asked.
        actor: String,
    },
    /// Release a kill switch: the scope back to ACTIVE. Refused when the scope's halt is
    /// not the kill switch's (a daily-loss breach is released by a trading state).
    ReleaseKillSwitch {
        /// Global or one strategy.
        scope: Scope,
        /// Who asked.
        actor: String,
    },
    /// Set the trading state of a scope.
    SetTradingState {
        /// Global or one strategy.
        scope: Scope,
        /// The state wanted.
        state: TradingState,
        /// Who asked.
        actor: String,
    },
    /// Change some limits of a scope at run time.
    ChangeLimits {
        /// Which limits.
        scope: Scope,
        /// The keys to change and their new values.
        patch: LimitsPatch,
        /// Who asked.
        actor: String,
    },
}

impl Command {
    /// Its name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Apply { .. } => "apply",
            Command::Pause { .. } => "pause",
            Command::Resume { .. } => "resume",
            Command::Rollback { .. } => "rollback",
            Command::KillSwitch { .. } => "kill_switch",
            Command::ReleaseKillSwitch { .. } => "release_kill_switch",
            Command::SetTradingState { .. } => "set_trading_state",
            Command::ChangeLimits { .. } => "change_limits",
        }
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Some limits of a scope to change: each key in `keys` takes its value in `values`
/// (`None` there removes the limit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LimitsPatch {
    /// The limits' names, as in the configuration (`max_order_qty`, ...).
    pub keys: Vec<String>,
    /// Their new values.
    pub values: Limits,
}

impl LimitsPatch {
    /// Sets the patched keys of `limits`; unknown keys are ignored (the API refuses
    /// them before they get here).
    pub fn apply_to(&self, limits: &mut Limits) {
        for key in &self.keys {
            limits.copy_key(&self.values, key);
        }
    }
}

/// What a command did.
#[derive(Debug, Clone)]
pub enum Answer {
    /// The outcome of each change, and the version asked about.
    Applied {
        /// One per change.
        outcomes: Vec<ChangeOutcome>,
        /// The version of `version_of`, if asked and loaded.
        version: Option<String>,
    },
    /// The strategy's state after a pause or a resume.
    Strategy(&'static str),
    /// The version a rollback put in place.
    RolledBack(String),
    /// How many orders the kill switch canceled.
    Canceled(usize),
    /// The scope's limits after the change.
    Limits(Limits),
    /// Done; nothing to tell.
    Done,
}

/// Why a command was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// About a strategy's lifecycle.
    #[error(transparent)]
    Start(#[from] StartError),
    /// About limits or trading states.
    #[error(transparent)]
    Risk(#[from] RiskError),
    /// The scope's kill switch is not engaged.
    #[error("the kill switch of {0} is not engaged: set the trading state instead")]
    NotEngaged(String),
}

/// Where the answer to a command goes.
pub type Reply = oneshot::Sender<Result<Answer, CommandError>>;

impl Engine {
    /// Runs a command now, on the engine thread.
    pub fn execute(&mut self, command: Command) -> Result<Answer, CommandError> {
        log::debug!(command = command.name(); "command");
        self.tell(super::tape::Frame::Command(&command));
        match command {
            Command::Apply {
                changes,
                version_of,
            } => {
                let outcomes = self.apply(changes);
                let version = version_of.and_then(|id| self.version_of(&id));
                Ok(Answer::Applied { outcomes, version })
            }
            Command::Pause { strategy, actor } => {
                self.pause(&strategy, &actor)?;
                Ok(Answer::Strategy(self.state_name(&strategy)))
            }
            Command::Resume { strategy, actor } => {
                self.resume(&strategy, &actor)?;
                Ok(Answer::Strategy(self.state_name(&strategy)))
            }
            Command::Rollback {
                strategy,
                version,
                actor,
            } => Ok(Answer::RolledBack(self.rollback(
                &strategy,
                version.as_deref(),
                &actor,
            )?)),
            Command::KillSwitch { scope, actor } => {
                Ok(Answer::Canceled(self.kill_switch(&scope, &actor)?))
            }
            Command::ReleaseKillSwitch { scope, actor } => {
                let name = scope.to_string();
                if !self.risk().kill_switched().any(|s| s == name) {
                    // Releasing a halt that is not the kill switch's (a daily-loss
                    // breach, an operator's) is a trading-state change, on purpose.
                    return Err(CommandError::NotEngaged(name));
                }
                self.set_trading_state(&scope, TradingState::Active, &actor)?;
                Ok(Answer::Done)
            }
            Command::SetTradingState {
                scope,
                state,
                actor,
            } => {
                self.set_trading_state(&scope, state, &actor)?;
                Ok(Answer::Done)
            }
            Command::ChangeLimits {
                scope,
                patch,
                actor,
            } => {
                self.change_limits(&scope, &actor, |limits| patch.apply_to(limits))?;
                Ok(Answer::Limits(self.risk().limits_of(&scope)))
            }
        }
    }

    fn state_name(&self, strategy: &str) -> &'static str {
        self.index_of(strategy)
            .and_then(|idx| self.state(idx).map(StrategyState::name))
            .unwrap_or("unknown")
    }
}
