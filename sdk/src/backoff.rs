//! Waiting longer after each refusal, on the engine clock.
//!
//! A strategy that retries a refused order on every event floods the engine with
//! refusals that cannot succeed: the daemon logs them in aggregate and, past
//! `[risk] max_rejections_per_minute`, quarantines the strategy. [`Backoff`] is the easy
//! way to retry politely: ask [`Backoff::ready`] before sending, tell it
//! [`Backoff::refused`] or [`Backoff::accepted`] after.
//!
//! ```
//! use pennant_sdk::backoff::Backoff;
//! let mut backoff = Backoff::new(100, 1_000);
//! let ms = 1_000_000;
//! assert!(backoff.ready(0));
//! backoff.refused(0);
//! assert!(!backoff.ready(50 * ms));
//! assert!(backoff.ready(100 * ms));
//! backoff.refused(100 * ms); // waits 200 ms now
//! assert!(!backoff.ready(299 * ms));
//! backoff.accepted();
//! assert!(backoff.ready(0));
//! ```

use crate::types::{Timestamp, NANOS_PER_MILLI};

/// An exponential back-off: the first refusal waits `base_ms`, each further one twice as
/// long, up to `max_ms`; an accepted order resets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: i64,
    max: i64,
    delay: i64,
    until: Timestamp,
}

impl Backoff {
    /// A back-off starting at `base_ms` and doubling up to `max_ms`.
    pub fn new(base_ms: u32, max_ms: u32) -> Self {
        let base = i64::from(base_ms.max(1)) * NANOS_PER_MILLI;
        Backoff {
            base,
            max: (i64::from(max_ms) * NANOS_PER_MILLI).max(base),
            delay: base,
            until: Timestamp::MIN,
        }
    }

    /// True when an order may be sent at `now`.
    pub fn ready(&self, now: Timestamp) -> bool {
        now >= self.until
    }

    /// An order was refused at `now`: wait before the next one, longer each time.
    pub fn refused(&mut self, now: Timestamp) {
        self.until = now.saturating_add(self.delay);
        self.delay = self.delay.saturating_mul(2).min(self.max);
    }

    /// An order was accepted: no more waiting.
    pub fn accepted(&mut self) {
        self.delay = self.base;
        self.until = Timestamp::MIN;
    }
}

impl Default for Backoff {
    /// 100 ms, doubling up to 10 s.
    fn default() -> Self {
        Backoff::new(100, 10_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_reset_on_success() {
        let ms = NANOS_PER_MILLI;
        let mut backoff = Backoff::new(10, 35);
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..5 {
            backoff.refused(now);
            let wait = backoff.until - now;
            waits.push(wait / ms);
            now += wait;
            assert!(backoff.ready(now) && !backoff.ready(now - 1));
        }
        assert_eq!(waits, vec![10, 20, 35, 35, 35]);
        backoff.accepted();
        backoff.refused(now);
        assert_eq!(backoff.until - now, 10 * ms);
    }
}
