//! Strategies' state snapshots: taken every `snapshot_interval` of engine time, kept for a
//! restart after a fault and, with a store, recorded; a snapshot past the strategy's
//! budget is a fault.

use super::{Engine, StrategyIdx};
use crate::plugin::Fault;
use pennant_sdk::Timestamp;

impl Engine {
    /// Snapshots every running strategy whose last snapshot is `snapshot_interval` old.
    pub(super) fn snapshot_due(&mut self, now: Timestamp) {
        let interval = self.settings.snapshot_interval.as_nanos() as Timestamp;
        for idx in 0..self.strategies.len() {
            let slot = &self.strategies[idx];
            if slot.instance.is_some() && now.saturating_sub(slot.snapshot_at) >= interval {
                self.take_snapshot(idx);
            }
        }
    }

    /// Takes a running strategy's state (kept for a restart, and recorded); a fault
    /// quarantines it as in any call.
    pub(super) fn take_snapshot(&mut self, idx: StrategyIdx) -> Option<Vec<u8>> {
        let state = self.snapshot_of(idx).ok()?;
        self.keep_snapshot(idx, state.clone());
        Some(state)
    }

    /// Calls strategy `idx`'s `snapshot`; a state over `max_snapshot_bytes` is a fault
    /// (the host keeps it, and records it).
    pub(super) fn snapshot_of(&mut self, idx: StrategyIdx) -> Result<Vec<u8>, Fault> {
        let max = self.core_ref().host_limits.max_snapshot_bytes;
        self.call_faulting(idx, |instance, ctx| {
            let (ctx, outcome) = instance.snapshot(ctx);
            let outcome = outcome.and_then(|state| match state.len() {
                len if len > max => Err(Fault::Budget {
                    code: "snapshot_size",
                    message: format!(
                        "made a snapshot of {len} bytes, more than max_snapshot_bytes ({max})"
                    ),
                }),
                _ => Ok(state),
            });
            (ctx, outcome)
        })
    }

    /// Keeps a strategy's state as its last snapshot, and records it.
    pub(super) fn keep_snapshot(&mut self, idx: StrategyIdx, state: Vec<u8>) {
        let core = self.core();
        let now = core.clock.now();
        if core.journal.enabled() {
            let strategy = self.strategies[idx].id.clone();
            self.core().journal.record(
                now,
                crate::records::Body::State(crate::records::StateSnapshot {
                    strategy,
                    state: state.clone(),
                }),
            );
        }
        let slot = &mut self.strategies[idx];
        slot.snapshot = Some(state);
        slot.snapshot_at = now;
    }
}
