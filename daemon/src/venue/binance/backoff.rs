//! The wait before connecting again to one of Binance's streams. Binance allows 300
//! connection attempts per 5 minutes per IP; daemons restarted together must not come
//! back together.

use std::time::Duration;

/// The wait before attempt `attempts + 1` (0: the first reconnect): doubling from `min`
/// to `max`, drawn in its upper half so that clients that lost the same server do not
/// return in step.
pub fn backoff(min: Duration, max: Duration, attempts: u32) -> Duration {
    use rand::{RngExt, SeedableRng};
    let full = min.saturating_mul(1u32 << attempts.min(16)).min(max);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ u64::from(attempts));
    full.mul_f64(rng.random_range(0.5..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_longest_in_their_upper_half() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(1));
        for (attempts, full) in [
            (0, 100),
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1000),
            (40, 1000),
        ] {
            let full = Duration::from_millis(full);
            let wait = backoff(min, max, attempts);
            assert!(wait >= full / 2 && wait <= full, "{attempts}: {wait:?}");
        }
    }
}
