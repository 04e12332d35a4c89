//! Coming back after a restart: positions, open orders and each strategy's last state from
//! the store, then the venue's view of the open orders reconciled with the engine's.
//!
//! Runs before the first reload pass, so that strategies start with their state, hear
//! about their orders, and order ids continue after the last one given (no id is used
//! twice, so no order is sent twice).

use super::Engine;
use crate::account::OrderRecord;
use crate::config::UNATTRIBUTED;
use crate::records::{Named, OrderState, Recovered, TradingState};
use crate::risk::Scope;
use crate::venue::{ExecutionReport, RecordEnd, UnrecordedOrder, VenueOrder, VenueSnapshot};
use pennant_sdk::{Amount, OrderId, OrderRequest, OrderStatus, Position, Price, Qty, Timestamp};

/// How far order ids jump at a restart: more than the orders the journal can hold
/// unwritten (the writer's queue and the engine's backlog) in any realistic crash.
pub const ORDER_ID_MARGIN: u64 = 1_000_000;

/// What recovery put back and corrected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoverySummary {
    /// Positions restored.
    pub positions: usize,
    /// Open orders restored.
    pub open_orders: usize,
    /// Strategy states restored.
    pub states: usize,
    /// Trading states restored (HALTED stays HALTED across a restart).
    pub trading_states: usize,
    /// Scopes whose limits changed at run time were restored.
    pub limits: usize,
    /// Recovered orders whose cancel was asked for before the restart, asked for again.
    pub cancels_resent: usize,
    /// Open orders of the engine the venue did not have: marked canceled.
    pub missing_at_venue: usize,
    /// Orders open at the venue the engine did not know: canceled at the venue.
    pub unknown_at_venue: usize,
    /// Records that named an instrument or value this configuration does not know.
    pub skipped: usize,
}

impl Engine {
    /// Puts back what the store recovered (call before starting strategies), then
    /// reconciles the venue's open orders with the engine's, logging every difference it
    /// corrects.
    pub fn recover(&mut self, recovered: Recovered) -> RecoverySummary {
        if let Some(tape) = &mut self.tape {
            tape.recovered(&recovered);
        }
        let mut summary = RecoverySummary::default();
        // After a crash, orders sent but not yet recorded may be at a venue.
        let record_end =
            (!recovered.clean_shutdown && recovered.last_order_at > 0).then_some(RecordEnd {
                last_id: recovered.max_order_id,
                at: recovered.last_order_at,
            });
        // Orders given just before a crash may not have reached the store: ids jump
        // past any that could have been in flight, so none is ever given twice.
        // (Ids a venue knows of are passed too, when its snapshot comes: `reconcile`.)
        let next = recovered.max_order_id;
        // After a clean shutdown every id given was recorded: no need to jump.
        let margin = if recovered.clean_shutdown {
            0
        } else {
            log::info!(margin = ORDER_ID_MARGIN; "the last run did not shut down cleanly: order ids jump past any it may have given unrecorded");
            ORDER_ID_MARGIN
        };
        self.core()
            .orders
            .continue_after(next.saturating_add(margin));
        for record in recovered.trading_states {
            let (scope, state) = (record.scope, record.state);
            let parsed =
                Scope::parse(&scope).filter(|s| matches!(s, Scope::Global | Scope::Strategy(_)));
            if let Some(Scope::Strategy(id)) = &parsed {
                self.register(id);
            }
            match parsed {
                Some(parsed) => {
                    match self
                        .core()
                        .risk
                        .restore_state(&parsed, state, record.kill_switch)
                    {
                        Ok(()) => {
                            log::warn!(scope = scope.as_str(), state = state.name(), kill_switch = record.kill_switch; "recovered trading state");
                            summary.trading_states += 1;
                        }
                        Err(err) => {
                            log::error!(scope = scope.as_str(); "recovered trading state not applied: {err}")
                        }
                    }
                }
                None => {
                    log::error!(scope = scope.as_str(), state = state.name(); "recovered trading state of an unknown scope: left out")
                }
            }
        }
        for (scope, text) in recovered.limits {
            let parsed = Scope::parse(&scope);
            if let Some(Scope::Strategy(id)) = &parsed {
                self.register(id);
            }
            let limits = toml::from_str::<crate::config::Limits>(&text).map_err(|e| e.to_string());
            let restored = match (parsed, limits) {
                (Some(parsed), Ok(limits)) => self
                    .core()
                    .risk
                    .restore_limits(&parsed, limits)
                    .map_err(|e| e.to_string()),
                (None, _) => Err("unknown scope".to_owned()),
                (_, Err(err)) => Err(err),
            };
            match restored {
                Ok(()) => {
                    log::warn!(scope = scope.as_str(); "recovered limits changed at run time: they apply until the configuration of this scope changes");
                    summary.limits += 1;
                }
                Err(err) => {
                    log::error!(scope = scope.as_str(); "recovered limits not applied, the configuration's apply: {err}");
                }
            }
        }
        let mut day = None;
        let mut baselines = Vec::new();
        let mut global = None;
        for (start, scope, raw) in recovered.day_baselines {
            let Ok(raw) = raw.parse::<i64>() else {
                log::error!(scope = scope.as_str(); "recovered day baseline not a number: left out");
                continue;
            };
            day = Some(start);
            match scope.strip_prefix("strategy ") {
                Some(id) => {
                    self.register(id);
                    baselines.push((id.to_owned(), Amount::from_raw(raw)));
                }
                None => global = Some(Amount::from_raw(raw)),
            }
        }
        if let Some(day) = day {
            self.core().risk.restore_day(day, &baselines, global);
            // Already in the store: not recorded again.
            self.day_recorded = Some(day);
        }
        for (strategy, state) in recovered.states {
            let idx = self.register(&strategy);
            self.strategies[idx].snapshot = Some(state);
            summary.states += 1;
        }
        for p in recovered.positions {
            let idx = self.register(&p.strategy);
            let Some(instrument) = self
                .core()
                .instruments
                .by_symbol(&p.instrument)
                .map(|i| i.id)
            else {
                log::error!(strategy = p.strategy.as_str(), instrument = p.instrument.as_str(); "recovered position in an instrument no longer configured: left out");
                summary.skipped += 1;
                continue;
            };
            let position = Position {
                instrument,
                qty: Qty::from_raw(p.qty),
                avg_price: Price::from_raw(p.avg_price),
                realized_pnl: Amount::from_raw(p.realized_pnl),
                unrealized_pnl: Amount::ZERO,
                fees: Amount::from_raw(p.fees),
            };
            log::info!(strategy = p.strategy.as_str(), instrument = p.instrument.as_str(), position:% = position.qty; "recovered position");
            self.core().ledger.restore(idx, position);
            summary.positions += 1;
        }
        let mut resting = Vec::new();
        let mut to_cancel = Vec::new();
        for (order, created) in recovered.open_orders {
            // A cancel was asked for and not confirmed: the order rests again, and the
            // cancel is asked for again.
            let pending_cancel = order.status == OrderState::PendingCancel;
            // Neither a cancel nor an answer is known for an order left `unknown`: it
            // stays open, unknown, until the venue's snapshot or a report says.
            let status_unknown = order.status == OrderState::Unknown;
            let working = if order.filled_qty > 0 {
                OrderStatus::PartiallyFilled
            } else {
                OrderStatus::Accepted
            };
            let status = match order.status {
                OrderState::Submitted => None,
                OrderState::Accepted => Some(OrderStatus::Accepted),
                OrderState::PartiallyFilled => Some(OrderStatus::PartiallyFilled),
                OrderState::PendingCancel => Some(working),
                // Unknown: as it was before it went unanswered, at best a guess; the
                // flag keeps it from counting as known.
                OrderState::Unknown => (order.filled_qty > 0).then_some(working),
                // The store returns open orders only.
                OrderState::Filled | OrderState::Canceled | OrderState::Rejected => continue,
            };
            let idx = self.register(&order.strategy);
            let core = self.core();
            let Some(instrument) = core.instruments.by_symbol(&order.instrument).map(|i| i.id)
            else {
                log::error!(strategy = order.strategy.as_str(), order_id = order.order_id, instrument = order.instrument.as_str(); "recovered order of an instrument no longer configured: recorded as canceled");
                // Recorded as over, so that it does not come back at the next start.
                let now = core.clock.now();
                let over = crate::records::OrderEvent {
                    status: OrderState::Canceled,
                    reason: Some("not configured at recovery".into()),
                    ..order
                };
                core.journal.record(now, crate::records::Body::Order(over));
                summary.skipped += 1;
                continue;
            };
            let request = OrderRequest {
                instrument,
                side: order.side,
                kind: order.kind,
                price: Price::from_raw(order.price),
                qty: Qty::from_raw(order.qty),
                time_in_force: order.time_in_force,
                client_order_id: order.client_order_id,
            };
            let record = OrderRecord {
                id: order.order_id,
                strategy: idx,
                request,
                status,
                filled: Qty::from_raw(order.filled_qty),
                created,
                valued_at: request.price,
                cancel_pending: false,
                status_unknown,
            };
            resting.push((
                VenueOrder {
                    id: record.id,
                    client_id: core.client_ids.of(record.id),
                    request,
                },
                record.leaves(),
            ));
            log::info!(strategy = order.strategy.as_str(), order_id = record.id, status = order.status.name(); "recovered open order");
            if pending_cancel {
                to_cancel.push(record.id);
            }
            core.orders.restore(record);
            self.strategies[idx].orders_left_by_crash |= !recovered.clean_shutdown;
            summary.open_orders += 1;
        }
        let core = self.core();
        for venue in 0..core.venues.len() {
            let mine: Vec<_> = resting
                .iter()
                .filter(|(o, _)| core.venue_of(o.request.instrument) == venue)
                .copied()
                .collect();
            core.venues[venue].restore(&mine);
            if let Some(end) = record_end {
                core.venues[venue].find_unrecorded(end);
            }
        }
        for venue in 0..self.core_ref().venues.len() {
            match self.core().venues[venue].snapshot() {
                Some(snapshot) => {
                    let done = self.reconcile(venue, &snapshot);
                    summary.missing_at_venue += done.missing_at_venue;
                    summary.unknown_at_venue += done.unknown_at_venue;
                }
                None => {
                    log::info!(venue = self.core_ref().venues[venue].name(); "waiting for the venue's account to reconcile open orders with")
                }
            }
        }
        let still_open: Vec<_> = to_cancel
            .into_iter()
            .filter(|&id| self.core_ref().orders.get(id).is_some())
            .collect();
        if !still_open.is_empty() {
            log::warn!(orders = still_open.len(); "recovered orders whose cancel was asked for before the restart: canceling them again");
            summary.cancels_resent = still_open.len();
            self.core().cancel(&still_open);
            self.deliver_updates();
        }
        log::info!(
            positions = summary.positions, open_orders = summary.open_orders, states = summary.states,
            corrected = summary.missing_at_venue + summary.unknown_at_venue, skipped = summary.skipped;
            "recovered from the store"
        );
        summary
    }

    /// Venue `venue` is banned until `until` (wall ns): every strategy goes to `state`
    /// (the venue's `on_ban`), unless trading is already stricter, with an audit record
    /// naming the venue; the ban is in the view (API, metrics, readiness) until it ends.
    pub fn banned(&mut self, venue: usize, until: Timestamp, state: TradingState) {
        let core = self.core();
        let now = core.clock.now();
        let name = core.venues.get(venue).map_or("?", |v| v.name()).to_owned();
        core.bans.insert(venue, until);
        let strictness = |s: TradingState| match s {
            TradingState::Active => 0,
            TradingState::Reducing => 1,
            TradingState::Halted => 2,
        };
        if strictness(state) > strictness(core.risk.global_state()) {
            let actor = format!("venue {name}");
            if let Err(err) = core.risk.set_state(&Scope::Global, state, &actor, now) {
                log::error!(venue = name.as_str(); "cannot set the trading state for a ban: {err}");
            }
        }
    }

    /// Takes on orders of this daemon that venue `venue` has and the store never recorded
    /// (the last run died between sending and recording them, the answer to
    /// [`crate::venue::Venue::find_unrecorded`]): each is recorded under
    /// [`UNATTRIBUTED`](crate::config::UNATTRIBUTED), its fills are booked there (a position, PnL, fill records: the
    /// account's exposure is real), an audit record names it, and one still working is
    /// canceled, for no strategy manages it. An order the engine already has (or adopted
    /// before) is left to reconciliation. Returns how many were adopted.
    pub fn adopt_unrecorded(&mut self, venue: usize, orders: &[UnrecordedOrder]) -> usize {
        let mut adopted = 0;
        for found in orders {
            if self.core_ref().orders.get(found.id).is_some() || !self.adopted.insert(found.id) {
                continue;
            }
            let owner = self.register(UNATTRIBUTED);
            if self.strategies[owner].code.is_none() {
                self.strategies[owner].state = super::StrategyState::Stopped {
                    reason: "holds orders of an earlier run that the store never recorded".into(),
                };
            }
            let core = self.core();
            let now = core.clock.now();
            let name = core.venues.get(venue).map_or("?", |v| v.name()).to_owned();
            let (id, request) = (found.id, found.request);
            let record = OrderRecord {
                id,
                strategy: owner,
                request,
                status: None,
                filled: Qty::ZERO,
                created: found.created,
                valued_at: request.price,
                cancel_pending: false,
                status_unknown: false,
            };
            core.orders.restore(record);
            if core.journal.enabled() {
                let event = core.order_event(&record, None, Qty::ZERO, None);
                core.journal
                    .record(found.created, crate::records::Body::Order(event));
            }
            let client_id = core.client_ids.of(id);
            if let Some(target) = core.venues.get_mut(venue) {
                target.adopted(&VenueOrder {
                    id,
                    client_id,
                    request,
                });
            }
            core.book_reports(&found.reports);
            let working = core.orders.get(id).is_some();
            let detail = format!(
                "order {id} ({client_id}: {} {} {}) at the venue was never recorded: adopted as {UNATTRIBUTED}'s with its {} fill(s){}",
                request.side,
                request.qty,
                core.instruments.symbol(request.instrument),
                found
                    .reports
                    .iter()
                    .filter(|r| matches!(r, ExecutionReport::Fill { .. }))
                    .count(),
                if working { ", and canceled" } else { "" },
            );
            log::warn!(order_id = id, venue = name.as_str(); "reconciled: {detail}");
            core.risk.reconciled(
                now,
                &format!("venue {name}"),
                &Scope::Strategy(UNATTRIBUTED.to_owned()),
                detail,
            );
            if working {
                core.cancel(&[id]);
            }
            adopted += 1;
        }
        self.deliver_updates();
        adopted
    }

    /// Makes the engine's open orders on venue `venue` and the venue's agree, from its
    /// snapshot (at start, and whenever a venue sends one: after a reconnect): an order
    /// the venue does not have is over (marked canceled, and its strategy hears so); an
    /// order of this daemon only the venue has is nobody's (canceled at the venue);
    /// another client's orders are left alone. Order ids continue past any the venue
    /// knows. An order the venue had not been sent when it read its account
    /// ([`VenueSnapshot::sent_up_to`]) is not judged by that account.
    pub fn reconcile(&mut self, venue: usize, snapshot: &VenueSnapshot) -> Reconciled {
        let mut done = Reconciled {
            others: snapshot.others,
            ..Reconciled::default()
        };
        let core = self.core();
        let now = core.clock.now();
        let name = core.venues.get(venue).map_or("?", |v| v.name()).to_owned();
        let at_venue: std::collections::BTreeMap<_, _> = snapshot.open.iter().copied().collect();
        if let Some(&highest) = at_venue.keys().next_back() {
            core.orders.continue_after(highest);
        }
        // Orders sent after the venue read its account are not judged by it.
        let sent_up_to = snapshot.sent_up_to.unwrap_or(OrderId::MAX);
        let ours: Vec<_> = core
            .orders
            .all_open()
            .into_iter()
            .filter(|o| core.venue_of(o.request.instrument) == venue && o.id <= sent_up_to)
            .collect();
        for order in &ours {
            let id = order.id;
            match at_venue.get(&id) {
                None => {
                    log::warn!(order_id = id, venue = name.as_str(); "reconciled: open order not at the venue, marked canceled");
                    let owner = Scope::Strategy(core.strategy_ids[order.strategy].to_string());
                    core.risk.reconciled(
                        now,
                        &format!("venue {name}"),
                        &owner,
                        format!("open order {id} is not at the venue: marked canceled"),
                    );
                    core.with_venue(venue, |_, out| {
                        out.push(ExecutionReport::Canceled { id, ts: now })
                    });
                    done.missing_at_venue += 1;
                }
                Some(&filled) if filled != order.filled => {
                    log::warn!(order_id = id, venue = name.as_str(), engine_filled:% = order.filled, venue_filled:% = filled; "reconciled: the venue has another filled quantity: the adapter owes the fills between");
                    done.fills_differ += 1;
                }
                Some(_) => {}
            }
        }
        for &id in at_venue.keys() {
            if !ours.iter().any(|o| o.id == id) {
                log::warn!(order_id = id, venue = name.as_str(); "reconciled: order open at the venue unknown to the engine, canceled there");
                core.risk.reconciled(
                    now,
                    &format!("venue {name}"),
                    &Scope::Global,
                    format!("order {id} of this daemon is open at the venue and unknown to the engine: canceled there"),
                );
                core.with_venue(venue, |v, out| v.cancel(id, now, out));
                done.unknown_at_venue += 1;
            }
        }
        if done != Reconciled::default() {
            log::info!(
                venue = name.as_str(), missing_at_venue = done.missing_at_venue, unknown_at_venue = done.unknown_at_venue,
                fills_differ = done.fills_differ, other_clients = done.others;
                "reconciled with the venue"
            );
        }
        self.deliver_updates();
        done
    }
}

/// What one reconciliation with a venue corrected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Open orders of the engine the venue did not have: marked canceled.
    pub missing_at_venue: usize,
    /// This daemon's orders open at the venue the engine did not know: canceled there.
    pub unknown_at_venue: usize,
    /// Orders whose filled quantity differs (the adapter sends the missing fills).
    pub fills_differ: usize,
    /// Other clients' open orders, left alone.
    pub others: usize,
}
