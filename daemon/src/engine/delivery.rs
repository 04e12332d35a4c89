//! Calling strategies: one call with the core lent to the strategy's store and its faults
//! turned into quarantines (`call`, `call_faulting`), one event to its audience
//! (`deliver`, `broadcast`), and the order updates a call caused, delivered after it
//! returns, in order, with the cascade bounded (`deliver_updates`).

use super::runtime::{Call, StrategyRuntime};
use super::{
    Audience, Engine, StrategyCtx, StrategyIdx, StrategyState, MAX_MISSED_UPDATES,
    MAX_UPDATE_CASCADE,
};
use crate::plugin::Fault;
use std::time::Instant;

impl Engine {
    /// Calls strategy `idx` with the core lent to it; quarantines it on a fault.
    pub(super) fn call<R>(
        &mut self,
        idx: StrategyIdx,
        f: impl FnOnce(&mut dyn StrategyRuntime, StrategyCtx) -> Call<R>,
    ) -> Option<R> {
        self.call_faulting(idx, f).ok()
    }

    /// As [`Self::call`], with the fault (the strategy is quarantined all the same). A
    /// strategy with no instance is [`Fault::Poisoned`].
    pub(super) fn call_faulting<R>(
        &mut self,
        idx: StrategyIdx,
        f: impl FnOnce(&mut dyn StrategyRuntime, StrategyCtx) -> Call<R>,
    ) -> Result<R, Fault> {
        let Some(mut instance) = self
            .strategies
            .get_mut(idx)
            .and_then(|slot| slot.instance.take())
        else {
            return Err(Fault::Poisoned);
        };
        let core = self.take_core();
        let started = self.strategies[idx]
            .metrics
            .as_ref()
            .map(|_| Instant::now());
        let (ctx, outcome) = f(
            instance.as_mut(),
            StrategyCtx {
                core,
                strategy: idx,
            },
        );
        self.core = Some(ctx.core);
        // A cap the strategy went past in the call faults it, as a trap would.
        let outcome = match self.core().budgets[idx].breach.take() {
            Some(breach) if outcome.is_ok() => Err(Fault::Budget {
                code: breach.code,
                message: breach.message,
            }),
            _ => outcome,
        };
        let slot = &mut self.strategies[idx];
        if let (Some(metrics), Some(started)) = (&slot.metrics, started) {
            metrics.call(started.elapsed().as_secs_f64());
        }
        slot.instance = Some(instance);
        outcome.inspect_err(|fault| self.quarantine(idx, fault.code(), fault.to_string()))
    }

    /// Delivers an event to strategy `idx` (counted in its statistics): false if it is
    /// not running, and so was not called.
    pub(super) fn deliver(
        &mut self,
        idx: StrategyIdx,
        f: impl FnOnce(&mut dyn StrategyRuntime, StrategyCtx) -> Call<()>,
    ) -> bool {
        let running = self.is_running(idx);
        if running {
            self.core().stats[idx].events += 1;
            self.call(idx, f);
        }
        running
    }

    /// Whether strategy `idx` has an instance and runs (is not paused).
    pub(super) fn is_running(&self, idx: StrategyIdx) -> bool {
        self.strategies
            .get(idx)
            .is_some_and(|s| s.instance.is_some() && s.state == StrategyState::Running)
    }

    /// Delivers an event to every subscriber of `audience`, each followed by the order
    /// updates it caused. The list is copied first: a subscriber quarantined on the way
    /// leaves it, and must not make the next one miss the event.
    pub(super) fn broadcast(
        &mut self,
        audience: Audience,
        mut f: impl FnMut(&mut Self, StrategyIdx),
    ) {
        let mut recipients = std::mem::take(&mut self.recipients);
        recipients.clear();
        let subs = &self.core().subscriptions;
        let list = match audience {
            Audience::Trades(instrument) => subs.trades.get(&instrument),
            Audience::Quotes(instrument) => subs.quotes.get(&instrument),
            Audience::Book(instrument) => subs.book.get(&instrument),
            Audience::Bars(aggregator) => subs.bars.get(aggregator).map(|(_, list)| list),
        };
        recipients.extend_from_slice(list.map_or(&[][..], Vec::as_slice));
        for &idx in &recipients {
            f(self, idx);
            self.deliver_updates();
        }
        self.recipients = recipients;
    }

    /// Delivers queued order updates (and those they cause) until none are left. A
    /// strategy caught in a loop of updates (resubmitting an order that is rejected at
    /// once, say) is quarantined rather than left to spin the engine.
    pub(super) fn deliver_updates(&mut self) {
        if self.core_ref().updates.is_empty() {
            return;
        }
        // (strategy, updates delivered to it in this pass): the few that got any.
        let mut delivered = std::mem::take(&mut self.cascade);
        delivered.clear();
        while let Some((idx, update)) = self.core().updates.pop_front() {
            let slot = &mut self.strategies[idx];
            if slot.instance.is_none() || slot.state == StrategyState::Paused {
                if slot.missed.len() < MAX_MISSED_UPDATES {
                    slot.missed.push(update);
                } else {
                    let budget = &mut self.core().budgets[idx];
                    budget.stats.updates_dropped += 1;
                    if budget.stats.updates_dropped == 1 {
                        log::warn!(strategy = self.strategies[idx].id.as_str(); "more than {MAX_MISSED_UPDATES} order updates wait for this strategy: later ones are dropped (the store keeps every order's state)");
                    }
                }
                continue;
            }
            // Counted per strategy: one caught in a loop must not get a well-behaved
            // strategy receiving its own updates in the same pass quarantined.
            let count = match delivered.iter_mut().find(|(s, _)| *s == idx) {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    delivered.push((idx, 1));
                    1
                }
            };
            if count > MAX_UPDATE_CASCADE {
                let reason = format!(
                    "caused more than {MAX_UPDATE_CASCADE} order updates in reaction to one event"
                );
                self.quarantine(idx, "update_loop", reason);
                continue;
            }
            self.deliver(idx, |i, ctx| i.on_order_update(ctx, &update));
        }
        self.cascade = delivered;
    }
}
