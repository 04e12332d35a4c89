//! Market windows: handing a strategy many market events in one call, with the same
//! outcome, bit for bit, as one event per call.
//!
//! A window is a run of consecutive events of one feed batch in which
//! - every event goes to one strategy, the window's owner (a component that takes
//!   batches), or to nobody (a trade of an instrument with a bar aggregator goes to the
//!   aggregator, so it ends a window);
//! - nothing falls due before the last event: no order arrives at a venue, no timer, bar
//!   close, risk watch, rejection summary or snapshot ([`Engine::next_due`]);
//! - every event is within the smallest venue [`reach`](crate::venue::Venue::reach) of
//!   the first, so no order the owner sends while handling one of them reaches a venue
//!   before the window ends;
//! - the venues report nothing on any of them: each event is run through its venue while
//!   the window is formed, and the first that makes a report ends it (its reports are
//!   held, and booked when the engine reaches that event).
//!
//! The venues see the window's events before the owner handles them; that is what they
//! would have seen anyway, given the reach (a cancel that takes effect at once can only
//! take fills away, and there were none). The market state and the clock do not: they
//! are moved to each event as the owner reaches it ([`Core::seek`]), so that every host
//! call answers as of the event being handled. The owner returns early after a handler
//! that acted; the engine then delivers the order updates and goes on from the next
//! event, which may start another window.

use super::core::Core;
use super::runtime::StrategyRuntime;
use super::{Engine, StrategyIdx, StrategyState};
use crate::market::MarketEvent;
use crate::venue::ExecutionReport;
use pennant_sdk::{Position, Price, Timestamp};

/// The most events one window holds: it bounds the rescan after an early return.
const MAX_WINDOW: usize = 1024;

/// The events of the window a strategy is handling, for [`Core::seek`], and what the
/// venues have been shown ahead of the engine.
#[derive(Debug, Default)]
pub struct MarketWindow {
    /// The window's events, all of them (the owner's and nobody's).
    events: Vec<MarketEvent>,
    /// Where the owner's events are in `events`: the batch it was handed.
    owned: Vec<usize>,
    /// The events applied to the market state (a prefix of `events`).
    applied: usize,
    /// Whether a call is handling the window.
    open: bool,
    /// The batch handed to the owner (reused).
    batch: Vec<MarketEvent>,
    /// How many events of the feed batch, from the one the engine is at, the venues have
    /// seen.
    ahead: usize,
    /// Of those, the one whose venue reports are held, and the reports.
    held: Option<(usize, Vec<ExecutionReport>)>,
}

/// What the venue step of the engine loop does for an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VenueStep {
    /// Show it to its venue.
    Run,
    /// Its venue has seen it, and reported nothing.
    Done,
    /// Its venue has seen it: book the reports it made then.
    Held,
}

impl MarketWindow {
    /// The venue step of event `index` of the feed batch, from the one the engine is at.
    pub(super) fn step(&self, index: usize) -> VenueStep {
        match &self.held {
            Some((held, _)) if *held == index => VenueStep::Held,
            _ if index < self.ahead => VenueStep::Done,
            _ => VenueStep::Run,
        }
    }

    /// The engine moved `count` events on.
    fn consume(&mut self, count: usize) {
        self.ahead = self.ahead.saturating_sub(count);
        if let Some((held, _)) = &mut self.held {
            *held = held.wrapping_sub(count);
        }
    }

    /// Whether a venue has been shown events the engine has not reached.
    pub(super) fn is_ahead(&self) -> bool {
        self.ahead > 0 || self.held.is_some()
    }
}

impl Core {
    /// `seek(index)` from the strategy handling a window: the market state and the clock
    /// move forward to the owner's event `index`. Outside a window only event 0 is
    /// there; seeking back, or past the window, breaks the contract.
    pub fn seek(&mut self, strategy: StrategyIdx, index: u32) {
        let window = &self.window;
        let position = match window.open {
            false if index == 0 => return,
            false => None,
            true => window
                .owned
                .get(index as usize)
                .copied()
                .filter(|&at| at + 1 >= window.applied),
        };
        match position {
            Some(at) => self.catch_up(at + 1),
            None => {
                let told = window.applied.saturating_sub(1);
                let len = window.owned.len().max(1);
                self.budgets[strategy].breach(
                    "contract",
                    format!("asked for event {index} of a batch of {len}, after event {told}"),
                );
            }
        }
    }

    /// For the batch of `count` events being handed to `strategy`: its positions as
    /// booked, and the mark of each after each of its events, computed ahead from the
    /// window's events (a trade sets the mark, a quote does while there has been no
    /// trade). False outside a window, or when a book level could move a mark (the
    /// book's quote): the guest then asks.
    pub fn window_positions(
        &self,
        strategy: StrategyIdx,
        count: usize,
        positions: &mut Vec<Position>,
        marks: &mut Vec<Option<Price>>,
    ) -> bool {
        let window = &self.window;
        if !window.open || window.applied != 1 || window.owned.len() != count {
            return false;
        }
        positions.extend(self.ledger.booked(strategy).copied());
        for position in positions.iter() {
            let instrument = position.instrument;
            let mut top = self.market.top(instrument);
            let mut owned = window.owned.iter().peekable();
            for (at, event) in window.events.iter().enumerate() {
                if at > 0 && event.instrument() == instrument {
                    match event {
                        MarketEvent::Trade(t) => top.last_trade = Some(t.price),
                        MarketEvent::Quote(q) => top.quote = Some(*q),
                        MarketEvent::Book(_) if top.last_trade.is_some() => {}
                        MarketEvent::Book(_) => return false,
                    }
                }
                if owned.next_if_eq(&&at).is_some() {
                    marks.push(top.mark());
                }
            }
        }
        true
    }

    /// Applies the window's events to the market state, and moves the clock, until
    /// `count` are.
    fn catch_up(&mut self, count: usize) {
        while self.window.applied < count.min(self.window.events.len()) {
            let event = self.window.events[self.window.applied];
            self.clock.advance(event.ts());
            self.market.apply(&event);
            self.mature_signals();
            self.window.applied += 1;
        }
    }

    /// Shows an event to its venue ahead of the engine, unless the venue could report
    /// on it (false: the window ends before it). Should it report all the same, the
    /// reports are held for [`Core::book_held`] (false too): never lost.
    fn show_ahead(&mut self, index: usize, event: &MarketEvent) -> bool {
        let venue = self.venue_of(event.instrument());
        let Some(target) = self.venues.get_mut(venue) else {
            return false;
        };
        if target.may_report(event) {
            return false;
        }
        let mut reports = Vec::new();
        target.on_market(event, &mut reports);
        self.window.ahead = index + 1;
        if reports.is_empty() {
            return true;
        }
        self.window.held = Some((index, reports));
        false
    }

    /// Books the reports a venue made on the event the engine is at, shown to it ahead.
    pub(super) fn book_held(&mut self) {
        if let Some((_, reports)) = self.window.held.take() {
            self.book_reports(&reports);
        }
    }
}

impl Engine {
    /// The smallest reach of the venues, when every venue has one and the clock is the
    /// events': otherwise there are no windows.
    fn reach(&self) -> Option<Timestamp> {
        let core = self.core_ref();
        if !self.settings.market_windows || core.clock.mode() != super::clock::ClockMode::Event {
            return None;
        }
        core.venues
            .iter()
            .map(|venue| venue.reach())
            .try_fold(Timestamp::MAX, |min, reach| Some(min.min(reach?)))
    }

    /// The earliest engine time at which something other than a market event falls due:
    /// an order's arrival at a venue, a timer, a bar's close, the risk watch, the end of
    /// a rejection window, a snapshot.
    fn next_due(&self) -> Timestamp {
        let core = self.core_ref();
        let interval = self.settings.snapshot_interval.as_nanos() as Timestamp;
        let snapshots = self
            .strategies
            .iter()
            .filter(|slot| slot.instance.is_some())
            .map(|slot| slot.snapshot_at.saturating_add(interval));
        core.venues
            .iter()
            .filter_map(|venue| venue.next_arrival())
            .chain(core.timers.next_due())
            .chain(
                core.subscriptions
                    .bars
                    .iter()
                    .filter_map(|(bars, _)| bars.current().map(|bar| bar.end)),
            )
            .chain(core.risk.next_watch())
            .chain(core.rejections.next_end())
            .chain(snapshots)
            .min()
            .unwrap_or(Timestamp::MAX)
    }

    /// Who an event goes to, for a window: `Some(None)` for nobody, `Some(Some(s))` for
    /// strategy `s` alone when it takes batches, `None` when it cannot be in a window.
    fn window_audience(&self, event: &MarketEvent) -> Option<Option<StrategyIdx>> {
        let subs = &self.core_ref().subscriptions;
        let list = match event {
            MarketEvent::Trade(trade) => {
                if subs
                    .bars
                    .iter()
                    .any(|(bars, _)| bars.instrument() == trade.instrument)
                {
                    return None;
                }
                subs.trades.get(&trade.instrument)
            }
            MarketEvent::Quote(quote) => subs.quotes.get(&quote.instrument),
            MarketEvent::Book(level) => subs.book.get(&level.instrument),
        };
        match list.map_or(&[][..], Vec::as_slice) {
            [] => Some(None),
            [idx] => {
                let slot = self.strategies.get(*idx)?;
                let batches = slot.state == StrategyState::Running
                    && slot.instance.as_ref().is_some_and(|i| i.takes_batches());
                batches.then_some(Some(*idx))
            }
            _ => None,
        }
    }

    /// Handles the first of `events` (the rest of a feed batch) and, where they form a
    /// window with it, those that follow: returns how many it handled.
    pub(super) fn on_market_run(&mut self, events: &[MarketEvent]) -> usize {
        let Some(first) = events.first() else {
            return 0;
        };
        let step = self.core_ref().window.step(0);
        self.advance_clock(first.ts());
        self.apply_market(first, step);
        let window = match (self.reach(), self.window_audience(first)) {
            (Some(reach), Some(Some(owner))) => Some((reach, owner)),
            _ => None,
        };
        let Some((reach, owner)) = window else {
            self.deliver_market(first);
            self.core().window.consume(1);
            return 1;
        };
        let until = match events.len() {
            1 => Timestamp::MIN,
            _ => first.ts().saturating_add(reach).min(self.next_due()),
        };
        let window = &mut self.core().window;
        let mut owned = std::mem::take(&mut window.owned);
        owned.clear();
        owned.push(0);
        let mut len = 1;
        while len < events.len().min(MAX_WINDOW) {
            let event = &events[len];
            let audience = self.window_audience(event);
            let ours = audience == Some(Some(owner));
            if event.ts() >= until || !ours && audience != Some(None) {
                break;
            }
            match self.core_ref().window.step(len) {
                VenueStep::Held => break,
                VenueStep::Done => {}
                VenueStep::Run => {
                    if !self.core().show_ahead(len, event) {
                        break;
                    }
                }
            }
            if ours {
                owned.push(len);
            }
            len += 1;
        }
        let handled = if owned.len() == 1 {
            // The owner's only event: delivered as without windows. What follows goes
            // to nobody and its venue has seen it: the engine takes it from there.
            self.core().window.owned = owned;
            self.deliver_market(first);
            1
        } else {
            self.run_window(owner, &events[..len], owned)
        };
        self.core().window.consume(handled);
        handled
    }

    /// Hands `events` (a window whose first event the engine is at) to `owner`, its
    /// events at `owned`: returns how many of them were handled, from the first.
    fn run_window(
        &mut self,
        owner: StrategyIdx,
        events: &[MarketEvent],
        owned: Vec<usize>,
    ) -> usize {
        let window = &mut self.core().window;
        window.events.clear();
        window.events.extend_from_slice(events);
        let mut batch = std::mem::take(&mut window.batch);
        batch.clear();
        batch.extend(owned.iter().map(|&at| events[at]));
        window.owned = owned;
        window.applied = 1;
        window.open = true;
        self.observe_latency(owner);
        let handled = self.deliver_batch(owner, &batch);
        let core = self.core();
        core.window.open = false;
        let through = match handled {
            Some(count) if count < batch.len() => core.window.owned[count.max(1) - 1] + 1,
            _ => events.len(),
        };
        core.catch_up(through);
        core.window.batch = batch;
        self.deliver_updates();
        through
    }

    /// Delivers a batch of market events to strategy `idx` (counted in its statistics):
    /// how many it handled, `None` if it was not called or faulted.
    fn deliver_batch(&mut self, idx: StrategyIdx, batch: &[MarketEvent]) -> Option<usize> {
        if !self.is_running(idx) {
            return None;
        }
        let handled = self.call(idx, |i: &mut dyn StrategyRuntime, ctx| {
            i.on_market(ctx, batch)
        })?;
        let stats = &mut self.core().stats[idx];
        stats.events += handled as u64;
        stats.market_calls += 1;
        Some(handled)
    }
}
