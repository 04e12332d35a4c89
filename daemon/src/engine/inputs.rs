//! Where the engine's inputs come from: a market channel (feeds' batches, in order, and
//! their end) and a control channel (ticks, commands from the API and the reloader,
//! shutdown) that is always read first, also between two events of a batch. A kill switch
//! never queues behind a thousand batches of market data.
//!
//! An input's priority is the channel's, not its kind's: a test or a benchmark that sends
//! everything through one channel ([`EngineInputs::from`]) has it handled in order.

use super::{Command, Query, QueryReply, Reply};
use crate::market::MarketEvent;
use std::time::Instant;
use tokio::sync::mpsc::{self, error::TryRecvError};

/// What the engine receives: every input is data (see [`command`]).
pub enum EngineInput {
    /// Market data, in time order within the batch.
    Market {
        /// The events.
        events: Vec<MarketEvent>,
        /// When the feed handed the batch over: where the event-to-handler latency
        /// starts.
        received: Instant,
    },
    /// A feed has no more data.
    FeedEnded {
        /// The feed's name.
        feed: String,
    },
    /// A periodic wall-clock tick: moves the live clock, fires timers, logs summaries.
    Tick,
    /// Stop: cancel open orders, stop the strategies, report.
    Shutdown,
    /// What a venue answered later (an exchange adapter's reports and snapshots).
    Venue {
        /// The venue's index (configuration order).
        venue: usize,
        /// What it sent.
        event: crate::venue::VenueEvent,
    },
    /// Something asked by the reloader or the admin API, run between two events.
    Command {
        /// What to do.
        command: Command,
        /// Where the answer goes, if anyone waits for it.
        reply: Option<Reply>,
    },
    /// Something to read, answered between two events (see [`query`]); not recorded.
    Query {
        /// What to read.
        query: Query,
        /// Where the answer goes.
        reply: QueryReply,
    },
}

impl EngineInput {
    /// A command whose answer goes to `reply`.
    pub fn command(command: Command, reply: Reply) -> Self {
        EngineInput::Command {
            command,
            reply: Some(reply),
        }
    }
}

impl std::fmt::Debug for EngineInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineInput::Market { events, .. } => write!(f, "Market({} events)", events.len()),
            EngineInput::FeedEnded { feed } => write!(f, "FeedEnded({feed})"),
            EngineInput::Tick => f.write_str("Tick"),
            EngineInput::Shutdown => f.write_str("Shutdown"),
            EngineInput::Command { command, .. } => write!(f, "Command({command:?})"),
            EngineInput::Query { query, .. } => write!(f, "Query({query:?})"),
            EngineInput::Venue { venue, .. } => write!(f, "Venue({venue})"),
        }
    }
}

/// Control inputs waiting for the engine, at most (the ticker skips when full).
pub const CONTROL_CHANNEL: usize = 256;

/// The senders of both channels.
#[derive(Clone)]
pub struct EngineSender {
    /// Market data, in order, and the feeds' ends.
    pub market: mpsc::Sender<EngineInput>,
    /// Everything else, taken first.
    pub control: mpsc::Sender<EngineInput>,
}

/// The receiving side, handed to [`super::Engine::run`].
pub struct EngineInputs {
    market: Option<mpsc::Receiver<EngineInput>>,
    control: Option<mpsc::Receiver<EngineInput>>,
    /// Waits on both channels at once when neither has anything.
    waiter: Option<tokio::runtime::Runtime>,
}

/// A market channel of `market` batches and a control channel.
pub fn channels(market: usize) -> (EngineSender, EngineInputs) {
    let (market_tx, market_rx) = mpsc::channel(market);
    let (control_tx, control_rx) = mpsc::channel(CONTROL_CHANNEL);
    (
        EngineSender {
            market: market_tx,
            control: control_tx,
        },
        EngineInputs {
            market: Some(market_rx),
            control: Some(control_rx),
            waiter: None,
        },
    )
}

impl From<mpsc::Receiver<EngineInput>> for EngineInputs {
    /// One channel for everything, handled in order.
    fn from(inputs: mpsc::Receiver<EngineInput>) -> Self {
        EngineInputs {
            market: Some(inputs),
            control: None,
            waiter: None,
        }
    }
}

impl EngineInputs {
    /// A control input that is waiting, if any: taken between two events.
    pub fn control_waiting(&mut self) -> Option<EngineInput> {
        let control = self.control.as_mut()?;
        match control.try_recv() {
            Ok(input) => Some(input),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.control = None;
                None
            }
        }
    }

    /// The next input, control first; `None` once the control channel (or, without one,
    /// the market channel) has closed: a closed market channel only means the feeds are
    /// gone.
    pub fn wait(&mut self) -> Option<EngineInput> {
        loop {
            if let Some(input) = self.control_waiting() {
                return Some(input);
            }
            if let Some(market) = &mut self.market {
                match market.try_recv() {
                    Ok(input) => return Some(input),
                    Err(TryRecvError::Empty) => {}
                    Err(TryRecvError::Disconnected) => self.market = None,
                }
            }
            match (&mut self.control, &mut self.market) {
                (None, None) => return None,
                (None, Some(market)) => {
                    if let Some(input) = market.blocking_recv() {
                        return Some(input);
                    }
                    return None;
                }
                (Some(control), None) => {
                    let input = control.blocking_recv();
                    if input.is_none() {
                        self.control = None;
                    }
                    return input;
                }
                (Some(control), Some(market)) => {
                    let waiter = match &mut self.waiter {
                        Some(waiter) => waiter,
                        None => match tokio::runtime::Builder::new_current_thread().build() {
                            Ok(runtime) => self.waiter.insert(runtime),
                            Err(err) => {
                                log::error!("cannot wait on the engine's inputs: {err}");
                                return None;
                            }
                        },
                    };
                    // Whichever comes first; a closed channel is noted and the loop
                    // goes round again.
                    let (from_control, input) = waiter.block_on(async {
                        tokio::select! {
                            biased;
                            input = control.recv() => (true, input),
                            input = market.recv() => (false, input),
                        }
                    });
                    match (from_control, input) {
                        (_, Some(input)) => return Some(input),
                        (true, None) => return None,
                        (false, None) => self.market = None,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(input: &EngineInput) -> String {
        format!("{input:?}")
    }

    #[test]
    fn control_is_taken_before_queued_market_data() {
        let (tx, mut inputs) = channels(8);
        for feed in ["a", "b"] {
            tx.market
                .try_send(EngineInput::FeedEnded { feed: feed.into() })
                .unwrap();
        }
        tx.control.try_send(EngineInput::Tick).unwrap();
        assert_eq!(name(&inputs.wait().unwrap()), "Tick");
        assert_eq!(name(&inputs.wait().unwrap()), "FeedEnded(a)");
        tx.control.try_send(EngineInput::Shutdown).unwrap();
        assert_eq!(name(&inputs.control_waiting().unwrap()), "Shutdown");
        assert!(inputs.control_waiting().is_none());
        assert_eq!(name(&inputs.wait().unwrap()), "FeedEnded(b)");
        // The feeds gone, the engine still hears control; it ends with that channel.
        let EngineSender { market, control } = tx;
        drop(market);
        let waiter = std::thread::spawn(move || {
            let first = inputs.wait().map(|i| name(&i));
            (first, inputs.wait().is_none())
        });
        control.blocking_send(EngineInput::Tick).unwrap();
        drop(control);
        assert_eq!(waiter.join().unwrap(), (Some("Tick".to_owned()), true));
    }

    #[test]
    fn one_channel_is_taken_in_order() {
        let (tx, rx) = mpsc::channel(8);
        let mut inputs = EngineInputs::from(rx);
        tx.try_send(EngineInput::Tick).unwrap();
        tx.try_send(EngineInput::Shutdown).unwrap();
        assert!(inputs.control_waiting().is_none());
        assert_eq!(name(&inputs.wait().unwrap()), "Tick");
        assert_eq!(name(&inputs.wait().unwrap()), "Shutdown");
        drop(tx);
        assert!(inputs.wait().is_none());
    }
}
