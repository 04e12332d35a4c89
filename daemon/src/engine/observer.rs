//! What watches the engine, known to it only by these traits: the daemon's systemd
//! watchdog (`service::Heartbeat`) and its Prometheus histograms (`metrics`) implement
//! them; the engine imports neither.

use super::Engine;

/// Told after every input the engine handles, ticks included: its sign of life.
pub trait Heartbeat: Send {
    /// The engine handled an input and is alive.
    fn beat(&mut self, engine: &Engine);
}

/// Where the engine tells how long things took.
pub trait Timings: Send {
    /// One strategy's timings, resolved once when the strategy is registered, so that
    /// telling them looks nothing up.
    fn strategy(&self, id: &str) -> Box<dyn StrategyTimings>;
}

/// One strategy's timings.
pub trait StrategyTimings: Send {
    /// A call into the strategy took `seconds`.
    fn call(&self, seconds: f64);
    /// From the feed's hand-over of a market event to the strategy's handler.
    fn handler_latency(&self, seconds: f64);
}
