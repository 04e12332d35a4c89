//! The host the harness plays: instruments, clock, the simulated venue (the fill model
//! of [`crate::matching`]), positions, and a record of everything the strategy did.

use super::{instrument, START_TIME};
use crate::book::BookTop;
use crate::fixed::{Price, Qty};
use crate::matching::{ExecutionReport, MatchingEngine, MatchingSettings};
use crate::strategy::Host;
use crate::types::{
    BookLevel, InstrumentId, InstrumentInfo, LogLevel, OrderId, OrderRequest, OrderUpdate,
    Position, Quote, RejectReason, Rejection, Signal, Streams, Timestamp, Trade,
};
use std::collections::{BTreeMap, VecDeque};

/// An order as the harness saw it submitted, with the answer it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The request.
    pub order: OrderRequest,
    /// The order id, or why it was refused.
    pub result: Result<OrderId, Rejection>,
    /// When.
    pub ts: Timestamp,
}

/// An order the simulated venue has not finished with.
#[derive(Debug, Clone, Copy)]
pub(super) struct WorkingOrder {
    pub(super) request: OrderRequest,
    filled: Qty,
}

/// Everything the strategy did, and the simulated market it did it in.
#[derive(Debug, Default)]
pub struct TestHost {
    pub(super) now: Timestamp,
    pub(super) instruments: Vec<InstrumentInfo>,
    pub(super) quotes: BTreeMap<InstrumentId, Quote>,
    pub(super) last_trade: BTreeMap<InstrumentId, Price>,
    pub(super) positions: BTreeMap<InstrumentId, Position>,
    pub(super) working: BTreeMap<OrderId, WorkingOrder>,
    pub(super) venue: MatchingEngine,
    pub(super) executions: Vec<ExecutionReport>,
    pub(super) next_order_id: OrderId,
    pub(super) timers: Vec<(Timestamp, u64)>,
    pub(super) pending_updates: VecDeque<OrderUpdate>,
    /// Every submission, in order.
    pub submissions: Vec<Submission>,
    /// Every cancel request, with its answer.
    pub cancels: Vec<(OrderId, Result<(), Rejection>)>,
    /// Every order update delivered to the strategy.
    pub updates: Vec<OrderUpdate>,
    /// Every log line.
    pub logs: Vec<(LogLevel, String)>,
    /// Every signal.
    pub signals: Vec<Signal>,
    /// Market data subscriptions.
    pub subscriptions: Vec<(InstrumentId, Streams)>,
    /// Bar subscriptions, `(instrument, interval_ms)`.
    pub bar_subscriptions: Vec<(InstrumentId, u32)>,
}

impl TestHost {
    /// A host with its clock at [`START_TIME`] and no instruments.
    pub fn new() -> Self {
        TestHost {
            now: START_TIME,
            ..TestHost::default()
        }
    }

    /// Adds an instrument with the given tick and lot sizes (the minimum quantity is one
    /// lot, there is no minimum notional); its handle is the next free one, from 1.
    pub fn with_instrument(mut self, symbol: &str, tick_size: &str, lot_size: &str) -> Self {
        let id = self.instruments.len() as InstrumentId + 1;
        self.instruments
            .push(instrument(id, symbol, tick_size, lot_size));
        self
    }

    /// Fees and latency of the simulated venue, as the paper venue's configuration
    /// gives them.
    pub fn with_venue(mut self, settings: MatchingSettings) -> Self {
        self.venue = MatchingEngine::new(settings);
        self
    }

    /// Sets the clock (never backwards); orders whose latency has passed arrive.
    pub fn set_now(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
        self.venue.on_clock(self.now, &mut self.executions);
        self.book_executions();
    }

    fn info(&self, id: InstrumentId) -> Option<&InstrumentInfo> {
        self.instruments.iter().find(|i| i.id == id)
    }

    fn mark(&self, instrument: InstrumentId) -> Option<Price> {
        self.last_trade
            .get(&instrument)
            .copied()
            .or_else(|| self.quotes.get(&instrument).map(Quote::mid))
    }

    /// Turns what the simulated venue reported into positions and order updates, as the
    /// daemon books a venue's reports.
    fn book_executions(&mut self) {
        for execution in std::mem::take(&mut self.executions) {
            let id = execution.order_id();
            let Some(working) = self.working.get_mut(&id) else {
                continue;
            };
            let order = working.request;
            let Some(update) = execution.update(&order, working.filled) else {
                // Only an exchange answers Unknown or CancelRejected; the model never does.
                continue;
            };
            if let ExecutionReport::Fill {
                price, qty, fee, ..
            } = execution
            {
                working.filled = update.filled_qty;
                let position = self
                    .positions
                    .entry(order.instrument)
                    .or_insert_with(|| Position::flat(order.instrument));
                // The harness runs in tests, where an overflow is a bug worth a loud
                // failure.
                position
                    .apply_fill(order.side, price, qty, fee)
                    .unwrap_or_else(|| panic!("position overflow filling order {id}"));
            }
            if update.status.is_final() {
                self.working.remove(&id);
            }
            self.pending_updates.push_back(update);
        }
    }

    /// A quote reaches the simulated venue (before the strategy sees it).
    pub(super) fn on_quote(&mut self, quote: &Quote) {
        self.quotes.insert(quote.instrument, *quote);
        self.venue.on_quote(quote, &mut self.executions);
        self.book_executions();
    }

    /// A book level reaches the simulated venue (before the strategy sees it).
    pub(super) fn on_book(&mut self, level: &BookLevel) {
        self.venue.on_book(level, &mut self.executions);
        self.book_executions();
    }

    /// A trade reaches the simulated venue (before the strategy sees it).
    pub(super) fn on_trade(&mut self, trade: &Trade) {
        self.last_trade.insert(trade.instrument, trade.price);
        self.venue.on_trade(trade, &mut self.executions);
        self.book_executions();
    }
}

impl Host for TestHost {
    fn submit_order(&mut self, order: &OrderRequest) -> Result<OrderId, Rejection> {
        let result = match self.info(order.instrument) {
            None => Err(Rejection::new(
                RejectReason::UnknownInstrument,
                format!("no instrument with id {}", order.instrument),
            )),
            Some(info) => info.check_order(order).map(|()| {
                self.next_order_id += 1;
                self.next_order_id
            }),
        };
        self.submissions.push(Submission {
            order: *order,
            result: result.clone(),
            ts: self.now,
        });
        let id = result.clone()?;
        self.working.insert(
            id,
            WorkingOrder {
                request: *order,
                filled: Qty::ZERO,
            },
        );
        self.venue
            .submit(id, *order, self.now, &mut self.executions);
        self.book_executions();
        result
    }

    fn cancel_order(&mut self, id: OrderId) -> Result<(), Rejection> {
        let result = if self.working.contains_key(&id)
            && self.venue.cancel(id, self.now, &mut self.executions)
        {
            self.book_executions();
            Ok(())
        } else {
            Err(Rejection::new(
                RejectReason::UnknownOrder,
                format!("order {id} is not working"),
            ))
        };
        self.cancels.push((id, result.clone()));
        result
    }

    fn cancel_all(&mut self, instrument: Option<InstrumentId>) -> u32 {
        let ids: Vec<OrderId> = self
            .working
            .iter()
            .filter(|(_, w)| instrument.is_none_or(|i| w.request.instrument == i))
            .map(|(&id, _)| id)
            .collect();
        for id in &ids {
            // Every id was just read from `working`, so each cancel succeeds.
            let _ = self.cancel_order(*id);
        }
        ids.len() as u32
    }

    fn position(&mut self, instrument: InstrumentId) -> Position {
        let mut position = self
            .positions
            .get(&instrument)
            .copied()
            .unwrap_or_else(|| Position::flat(instrument));
        if let Some(mark) = self.mark(instrument) {
            position.mark(mark);
        }
        position
    }

    fn instrument(&mut self, id: InstrumentId) -> Option<InstrumentInfo> {
        self.info(id).cloned()
    }

    fn lookup_instrument(&mut self, symbol: &str) -> Option<InstrumentInfo> {
        self.instruments
            .iter()
            .find(|i| i.symbol == symbol)
            .cloned()
    }

    fn book_top(&mut self, instrument: InstrumentId, depth: usize) -> Option<BookTop> {
        self.venue.book(instrument)?.top(instrument, depth)
    }

    fn subscribe(&mut self, instrument: InstrumentId, streams: Streams) {
        self.subscriptions.push((instrument, streams));
    }

    fn subscribe_bars(&mut self, instrument: InstrumentId, interval_ms: u32) -> Result<(), String> {
        if interval_ms == 0 {
            return Err("bar interval must be positive".into());
        }
        self.bar_subscriptions.push((instrument, interval_ms));
        Ok(())
    }

    fn now(&mut self) -> Timestamp {
        self.now
    }

    fn set_timer(&mut self, at: Timestamp, token: u64) {
        self.timers.push((at, token));
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.logs.push((level, message.to_owned()));
    }

    fn emit_signal(&mut self, signal: &Signal) {
        self.signals.push(signal.clone());
    }
}

/// One event per call: every host call is already answered as of its event.
impl crate::batch::BatchHost for TestHost {
    fn seek(&mut self, _index: u32) {}
}
