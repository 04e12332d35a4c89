//! What the engine records after each input: the risk engine's audit trail, the trading
//! day's baselines and the batch for the store (the journal), and whether records are
//! durable enough to keep trading (the store hold).

use super::{tape, Engine, CORE_HOME};

impl Engine {
    /// Records the risk engine's new audit records, then hands the journal's batch to the
    /// store's writer (without waiting), and holds trading at reduce-only while records
    /// are not durable.
    pub fn flush_journal(&mut self) {
        self.record_journal();
        self.watch_durability();
    }

    /// Holds trading at reduce-only while the writer cannot make records durable (a full
    /// disk) or the backlog held here passes `max_backlog_records`; lifts the hold once
    /// records are durable and the backlog is down to half of it.
    pub(super) fn watch_durability(&mut self) {
        if self.replaying {
            return;
        }
        let max = self.settings.max_backlog_records;
        let core = self.core.as_mut().expect(CORE_HOME);
        let backlog = core.journal.backlog_records();
        let held = core.risk.store_hold().is_some();
        let hold = if core.journal.undurable() {
            Some("neither the database nor the spool takes records".to_owned())
        } else if backlog > max || (held && backlog > max / 2) {
            Some(format!(
                "{backlog} records wait for the writer (max_backlog_records = {max})"
            ))
        } else {
            None
        };
        if hold.is_some() != held {
            match &hold {
                Some(why) => {
                    log::error!(backlog_records = backlog; "trading is reduce-only until records are durable again: {why}")
                }
                None => {
                    log::warn!(backlog_records = backlog; "records are durable again: trading resumes")
                }
            }
            let now = core.clock.now();
            core.risk.set_store_hold(hold.clone(), now);
            self.tell(tape::Frame::StoreHold(hold.as_deref()));
            // The audit record of the change goes with the next flush.
            self.publish_now();
        }
    }

    pub(super) fn record_journal(&mut self) {
        let core = self.core.as_mut().expect(CORE_HOME);
        if !core.journal.enabled() {
            // Still looks whether the event stream has gained a listener.
            core.journal.flush();
            return;
        }
        let audit = core.risk.audit();
        if audit.len() > self.audit_recorded {
            let fresh: Vec<_> = audit[self.audit_recorded..].to_vec();
            self.audit_recorded = audit.len();
            for record in fresh {
                let strategy = record.scope.strip_prefix("strategy ").map(str::to_owned);
                if let Some(limits) = &record.limits {
                    // What recovery reads back: the limits themselves, as the
                    // configuration file would give them.
                    core.journal.record(
                        record.ts,
                        crate::records::Body::Risk(crate::records::RiskEvent {
                            strategy: strategy.clone(),
                            kind: crate::records::RiskKind::LimitsSet,
                            reason: None,
                            actor: Some(record.actor.clone()),
                            scope: Some(record.scope.clone()),
                            state: None,
                            detail: limits.to_toml(),
                        }),
                    );
                }
                core.journal.record(
                    record.ts,
                    crate::records::Body::Risk(crate::records::RiskEvent {
                        strategy,
                        kind: record.action,
                        reason: None,
                        actor: Some(record.actor),
                        scope: Some(record.scope),
                        state: record.state,
                        detail: record.detail,
                    }),
                );
            }
        }
        // Checked after every input: the baselines are built only when a day begins.
        let new_day = core.risk.day_start().is_some() && core.risk.day_start() != self.day_recorded;
        if let Some(day) = new_day.then(|| core.risk.day_baselines()).flatten() {
            self.day_recorded = Some(day.day_start);
            let scopes = day
                .strategies
                .into_iter()
                .map(|(id, b)| (Some(id.clone()), format!("strategy {id}"), b))
                .chain(day.global.map(|b| (None, "global".to_owned(), b)));
            for (strategy, scope, baseline) in scopes {
                // Recorded at the day's start: recovery takes the latest day's.
                core.journal.record(
                    day.day_start,
                    crate::records::Body::Risk(crate::records::RiskEvent {
                        strategy,
                        kind: crate::records::RiskKind::DayStart,
                        reason: None,
                        actor: None,
                        scope: Some(scope),
                        state: None,
                        detail: baseline.raw().to_string(),
                    }),
                );
            }
        }
        core.journal.flush();
    }
}
