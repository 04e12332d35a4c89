//! Strategy timers, fired in time order (then in the order they were set).

use super::StrategyIdx;
use pennant_sdk::Timestamp;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Pending timers of all strategies.
#[derive(Debug, Clone, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Timestamp, u64, StrategyIdx, u64)>>,
    seq: u64,
    /// Pending timers by strategy index: each strategy's count is capped by the engine.
    pending: Vec<usize>,
}

impl Timers {
    /// Calls strategy `strategy`'s `on-timer(token)` once the clock reaches `at`.
    pub fn set(&mut self, at: Timestamp, strategy: StrategyIdx, token: u64) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, strategy, token)));
        if self.pending.len() <= strategy {
            self.pending.resize(strategy + 1, 0);
        }
        self.pending[strategy] += 1;
    }

    /// How many timers strategy `strategy` has pending.
    pub fn pending(&self, strategy: StrategyIdx) -> usize {
        self.pending.get(strategy).copied().unwrap_or(0)
    }

    /// When the next timer is due, if any is set.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.heap.peek().map(|Reverse((at, _, _, _))| *at)
    }

    /// Removes every timer due at or before `now`, in firing order. Timers set while
    /// these fire wait for the next pass, even if due: a handler that re-arms its timer
    /// for "now" is called again on the next pass, not in an endless loop.
    pub fn take_due(&mut self, now: Timestamp) -> Vec<(StrategyIdx, u64)> {
        let mut due = Vec::new();
        while let Some(Reverse((at, _, _, _))) = self.heap.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((_, _, strategy, token))) = self.heap.pop() {
                if let Some(count) = self.pending.get_mut(strategy) {
                    *count = count.saturating_sub(1);
                }
                due.push((strategy, token));
            }
        }
        due
    }

    /// Drops every timer of a strategy.
    pub fn clear(&mut self, strategy: StrategyIdx) {
        self.heap.retain(|Reverse((_, _, s, _))| *s != strategy);
        if let Some(count) = self.pending.get_mut(strategy) {
            *count = 0;
        }
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True if none are pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_time_then_insertion_order() {
        let mut timers = Timers::default();
        timers.set(20, 0, 1);
        timers.set(10, 1, 2);
        timers.set(10, 0, 3);
        timers.set(30, 1, 4);
        timers.clear(1);
        timers.set(10, 1, 5);
        assert_eq!(
            (timers.pending(0), timers.pending(1), timers.pending(7)),
            (2, 1, 0)
        );
        assert_eq!(timers.take_due(5), vec![]);
        assert_eq!(timers.take_due(25), vec![(0, 3), (1, 5), (0, 1)]);
        assert_eq!(timers.len(), 0);
        assert_eq!((timers.pending(0), timers.pending(1)), (0, 0));
        assert!(timers.is_empty());
    }
}
