//! The procedure, step by step, and a scripted market delivered with gaps, duplicates
//! and reordering: the book kept always ends as the market's.

use super::*;
use pennant_sdk::book::OrderBook;
use std::collections::BTreeMap;

fn level(price: i64, qty: i64) -> (Price, Qty) {
    (Price::from_int(price).unwrap(), Qty::from_int(qty).unwrap())
}

fn event(first: u64, last: u64, bids: &[(i64, i64)], asks: &[(i64, i64)]) -> DepthUpdate {
    DepthUpdate {
        instrument: 1,
        ts: last as i64,
        first,
        last,
        bids: bids.iter().map(|&(p, q)| level(p, q)).collect(),
        asks: asks.iter().map(|&(p, q)| level(p, q)).collect(),
    }
}

fn snapshot(id: u64, bids: &[(i64, i64)], asks: &[(i64, i64)]) -> DepthSnapshot {
    DepthSnapshot {
        last_update_id: id,
        bids: bids.iter().map(|&(p, q)| level(p, q)).collect(),
        asks: asks.iter().map(|&(p, q)| level(p, q)).collect(),
    }
}

/// The book `events` make, as `bids | asks` (whole units, best first).
fn book_of(events: &[MarketEvent]) -> String {
    let mut book = OrderBook::new();
    for e in events {
        if let MarketEvent::Book(l) = e {
            book.apply(l).unwrap();
        }
    }
    book.to_string()
}

#[test]
fn the_documented_procedure() {
    let mut sync = DepthSync::new(1);
    let mut out = Vec::new();
    // Step 1: the first event asks for a snapshot, later ones are only buffered.
    assert_eq!(
        sync.update(event(157, 160, &[(10, 1)], &[]), &mut out),
        Need::Snapshot
    );
    assert_eq!(
        sync.update(event(161, 165, &[(10, 2)], &[]), &mut out),
        Need::Nothing
    );
    assert!(out.is_empty() && !sync.is_synced());
    // Step 2: a snapshot older than U = 157 is fetched again.
    assert_eq!(
        sync.snapshot(snapshot(150, &[], &[]), 0, &mut out),
        Need::Snapshot
    );
    assert!(out.is_empty());
    // Step 3-4: 160 <= 162 is dropped, 161..165 applies over the snapshot.
    let more = snapshot(162, &[(10, 5), (9, 1)], &[(11, 3)]);
    assert_eq!(sync.snapshot(more, 0, &mut out), Need::Nothing);
    assert!(sync.is_synced());
    assert_eq!(book_of(&out), "10x2 9x1 | 11x3");
    // Late and duplicate events are ignored; the next applies.
    assert_eq!(
        sync.update(event(161, 165, &[(10, 9)], &[]), &mut out),
        Need::Nothing
    );
    assert_eq!(
        sync.update(event(100, 120, &[(10, 9)], &[]), &mut out),
        Need::Nothing
    );
    assert_eq!(
        sync.update(event(166, 166, &[], &[(11, 0), (12, 1)]), &mut out),
        Need::Nothing
    );
    assert_eq!(book_of(&out), "10x2 9x1 | 12x1");
    // A gap drops the book and starts again, with that event buffered.
    assert_eq!(
        sync.update(event(170, 171, &[(8, 1)], &[]), &mut out),
        Need::Snapshot
    );
    assert!(!sync.is_synced());
    let again = snapshot(170, &[(7, 1)], &[(12, 1)]);
    assert_eq!(sync.snapshot(again, 0, &mut out), Need::Nothing);
    assert_eq!(book_of(&out), "8x1 7x1 | 12x1");
    assert_eq!(
        sync.stats(),
        DepthStats {
            snapshots: 2,
            stale_snapshots: 1,
            applied: 3,
            ignored: 2,
            gaps: 1,
        }
    );
    // Each message ends with `last`; a snapshot starts with `reset`.
    let flags: Vec<u8> = out
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Book(l) => Some(l.flags.bits()),
            _ => None,
        })
        .collect();
    // The gap cleared the book first (clear|last = 6).
    assert_eq!(flags, [1, 0, 2, 2, 0, 2, 6, 1, 2, 2]);
    // A lost connection clears a book in sync; one not in sync has nothing to clear.
    let mut cleared = Vec::new();
    sync.reset(7, &mut cleared);
    sync.reset(8, &mut cleared);
    assert_eq!(cleared.len(), 1);
    assert_eq!(book_of(&[out.clone(), cleared].concat()), " | ");
}

#[test]
fn an_empty_snapshot_still_resets_the_book() {
    let mut sync = DepthSync::new(1);
    let mut out = Vec::new();
    sync.update(event(5, 5, &[], &[]), &mut out);
    sync.snapshot(snapshot(5, &[], &[]), 0, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(book_of(&out), " | ");
}

/// A market of `n` events of random levels; the snapshot of its book after event `at`.
struct Market {
    events: Vec<DepthUpdate>,
}

impl Market {
    fn new(n: u64) -> Market {
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let mut events = Vec::new();
        let mut id = 1000;
        for _ in 0..n {
            let first = id + 1;
            id += 1 + next(3);
            let mut bids = Vec::new();
            let mut asks = Vec::new();
            for _ in 0..1 + next(4) {
                let qty = if next(4) == 0 { 0 } else { 1 + next(9) as i64 };
                if next(2) == 0 {
                    bids.push((90 + next(10) as i64, qty));
                } else {
                    asks.push((101 + next(10) as i64, qty));
                }
            }
            events.push(event(first, id, &bids, &asks));
        }
        Market { events }
    }

    /// The book after the events up to and including index `at` (`None`: before any).
    fn snapshot(&self, at: Option<usize>) -> DepthSnapshot {
        let mut sides: [BTreeMap<Price, Qty>; 2] = Default::default();
        let upto = at.map_or(0, |i| i + 1);
        for e in &self.events[..upto] {
            for (i, levels) in [&e.bids, &e.asks].into_iter().enumerate() {
                for &(p, q) in levels {
                    if q.is_zero() {
                        sides[i].remove(&p);
                    } else {
                        sides[i].insert(p, q);
                    }
                }
            }
        }
        DepthSnapshot {
            last_update_id: at.map_or(1000, |i| self.events[i].last),
            bids: sides[0].iter().rev().map(|(&p, &q)| (p, q)).collect(),
            asks: sides[1].iter().map(|(&p, &q)| (p, q)).collect(),
        }
    }
}

/// Delivers the market's events in `order` (indices; repeats are duplicates, missing
/// ones gaps); a snapshot, when asked, is of the market after the last event delivered.
/// The book kept must be the market's.
fn check(order: &[usize], market: &Market) -> DepthStats {
    let mut sync = DepthSync::new(1);
    let mut out = Vec::new();
    let mut newest: Option<usize> = None;
    for &i in order {
        newest = newest.max(Some(i));
        if sync.update(market.events[i].clone(), &mut out) == Need::Snapshot {
            // The exchange answers with its book now: after the newest event it sent.
            while sync.snapshot(market.snapshot(newest), 0, &mut out) == Need::Snapshot {}
        }
    }
    let last = market.snapshot(newest);
    let expected = book_of(&{
        let mut o = Vec::new();
        emit(1, 0, 0, true, &last.bids, &last.asks, &mut o);
        o
    });
    assert_eq!(book_of(&out), expected, "order {order:?}");
    sync.stats()
}

#[test]
fn gaps_duplicates_and_reordering_still_end_in_the_markets_book() {
    let market = Market::new(200);
    let all: Vec<usize> = (0..200).collect();
    assert_eq!(check(&all, &market).gaps, 0);
    // Duplicates: every tenth event sent twice.
    let twice: Vec<usize> = all
        .iter()
        .flat_map(|&i| if i % 10 == 0 { vec![i, i] } else { vec![i] })
        .collect();
    let stats = check(&twice, &market);
    assert_eq!((stats.ignored, stats.gaps), (20, 0));
    // Gaps: events 50 and 120 lost.
    let lost: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| i != 50 && i != 120)
        .collect();
    assert_eq!(check(&lost, &market).gaps, 2);
    // Reordering: pairs swapped here and there.
    let mut swapped = all.clone();
    for i in (30..190).step_by(40) {
        swapped.swap(i, i + 1);
    }
    let stats = check(&swapped, &market);
    assert!(stats.gaps >= 4, "{stats:?}");
}
