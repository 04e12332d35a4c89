//! The loop: inputs taken in order (control first, and between two events of a batch),
//! each read at one wall-clock time, told to the tape, handled, then the journal flushed
//! and the heartbeat told.

use super::tape;
use super::{view, Engine, EngineInput, EngineInputs, Flow, StrategyReport};
use crate::market::MarketEvent;
use std::time::Instant;

impl Engine {
    /// Runs until shutdown (or until every feed has ended, if so configured), then cancels
    /// open orders, stops the strategies and reports. Control inputs are taken before
    /// market data, and between two events of a batch ([`inputs`]).
    pub fn run(mut self, mut inputs: EngineInputs) -> Vec<StrategyReport> {
        log::info!(strategies = self.strategies.len(); "engine running");
        while let Some(input) = inputs.wait() {
            let flow = self.input(input, || inputs.control_waiting());
            if flow == Flow::Stop {
                break;
            }
            self.flush_journal();
            if self.publisher.as_ref().is_some_and(view::Publisher::due) {
                self.publish(true);
            }
            self.beat();
        }
        self.shutdown()
    }

    /// Handles one input as [`Engine::run`] does; false once the engine would stop.
    pub fn step(&mut self, input: EngineInput) -> bool {
        let flow = self.input(input, || None);
        self.flush_journal();
        flow == Flow::Continue
    }

    /// Tells the heartbeat (systemd's watchdog) that the loop is alive.
    fn beat(&mut self) {
        if let Some(mut heartbeat) = self.heartbeat.take() {
            heartbeat.beat(self);
            self.heartbeat = Some(heartbeat);
        }
    }

    /// Takes one input: reads the wall clock for it, tells the tape, handles it. A batch
    /// of market events takes, between two of its events, the control inputs `control`
    /// has waiting.
    pub(super) fn input(
        &mut self,
        input: EngineInput,
        control: impl FnMut() -> Option<EngineInput>,
    ) -> Flow {
        self.core().clock.sample_wall();
        match input {
            EngineInput::Market { events, received } => self.on_batch(&events, received, control),
            other => self.handle(other),
        }
    }

    /// A batch of market events; between two of them, the control inputs `control`
    /// has waiting. The tape hears the batch cut where a control input came.
    pub(super) fn on_batch(
        &mut self,
        events: &[MarketEvent],
        received: Instant,
        mut control: impl FnMut() -> Option<EngineInput>,
    ) -> Flow {
        self.batch_received = Some(received);
        let mut flow = Flow::Continue;
        let mut wall = self.core_ref().clock.wall();
        let mut told = 0;
        let mut done = 0;
        while done < events.len() {
            let handled = self.on_market_run(&events[done..]);
            self.events += handled as u64;
            done += handled;
            if let Some(input) = control() {
                self.tell_market(wall, &events[told..done]);
                told = done;
                self.core().clock.sample_wall();
                flow = self.handle(input);
                wall = self.core_ref().clock.wall();
                if flow == Flow::Stop {
                    break;
                }
                // A tick mid-batch is a sign of life too: the watchdog hears it however
                // long the batch takes.
                self.beat();
            }
        }
        self.end_batch();
        if flow == Flow::Continue {
            self.tell_market(wall, &events[told..]);
        }
        self.batch_received = None;
        flow
    }

    /// Tells the tape market events handled at wall time `wall`.
    fn tell_market(&mut self, wall: pennant_sdk::Timestamp, events: &[MarketEvent]) {
        if let (Some(tape), false) = (&mut self.tape, events.is_empty()) {
            tape.record(wall, tape::Frame::Market(events));
        }
    }

    /// Handles one input other than market data (which [`Self::input`] takes).
    pub(super) fn handle(&mut self, input: EngineInput) -> Flow {
        match input {
            EngineInput::Market { events, received } => {
                return self.on_batch(&events, received, || None);
            }
            EngineInput::Tick => {
                self.tell(tape::Frame::Tick);
                self.on_tick();
            }
            EngineInput::FeedEnded { feed } => {
                self.tell(tape::Frame::FeedEnded(&feed));
                self.feeds_ended += 1;
                log::info!(feed; "feed ended");
                if self.settings.exit_when_feeds_end && self.feeds_ended >= self.settings.feeds {
                    log::info!("every feed has ended: stopping");
                    return Flow::Stop;
                }
            }
            EngineInput::Shutdown => {
                self.tell(tape::Frame::Shutdown);
                return Flow::Stop;
            }
            EngineInput::Venue { venue, event } => {
                self.tell(tape::Frame::Venue(venue, &event));
                match event {
                    crate::venue::VenueEvent::Reports(reports) => {
                        self.core().book_reports(&reports);
                        self.deliver_updates();
                    }
                    crate::venue::VenueEvent::Snapshot(snapshot) => {
                        if let Some(balances) = self.core().balances.get_mut(venue) {
                            balances.set_all(&snapshot.balances);
                        }
                        self.reconcile(venue, &snapshot);
                    }
                    crate::venue::VenueEvent::Balances(changed) => {
                        if let Some(balances) = self.core().balances.get_mut(venue) {
                            balances.update(&changed);
                        }
                    }
                    crate::venue::VenueEvent::Banned { until, state } => {
                        self.banned(venue, until, state);
                        self.publish_now();
                    }
                    crate::venue::VenueEvent::Unrecorded(orders) => {
                        self.adopt_unrecorded(venue, &orders);
                    }
                }
            }
            // The view is published before the answer: the caller must find the change.
            EngineInput::Command { command, reply } => {
                let answer = self.execute(command);
                self.publish_now();
                if let Some(reply) = reply {
                    let _ = reply.send(answer);
                }
            }
            EngineInput::Query { query, reply } => {
                let _ = reply.send(self.query(&query));
            }
        }
        Flow::Continue
    }
}
