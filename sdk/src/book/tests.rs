//! The book's rules, table-driven, and a long random run against a `BTreeMap` model.

use super::*;
use crate::testing::{px, qty};
use std::collections::BTreeMap;

/// A level from a compact spec: `"b 100 2"` (bid 100 size 2), with flags `r` (reset)
/// `l` (last) and `c` (clear) after it: `"a 101 0 l"`.
fn lv(seq: u64, spec: &str) -> BookLevel {
    let parts: Vec<&str> = spec.split_whitespace().collect();
    let side = if parts[0] == "b" {
        Side::Buy
    } else {
        Side::Sell
    };
    let mut flags = BookFlags::NONE;
    for f in parts.get(3).copied().unwrap_or("").chars() {
        flags = flags.with(match f {
            'r' => BookFlags::RESET,
            'c' => BookFlags::CLEAR,
            _ => BookFlags::LAST,
        });
    }
    BookLevel {
        instrument: 1,
        ts: seq as i64,
        seq,
        side,
        price: px(parts[1]),
        qty: qty(parts[2]),
        flags,
    }
}

/// Applies levels `(seq, spec)` and checks the book (`bids | asks`, best first) and the
/// last level's outcome.
fn check(levels: &[(u64, &str)], book_after: &str, last: Result<Applied, BookError>) {
    let mut book = OrderBook::new();
    let mut outcome = Ok(Applied::Partial);
    for &(seq, spec) in levels {
        outcome = book.apply(&lv(seq, spec));
    }
    assert_eq!(book.to_string(), book_after, "levels {levels:?}");
    assert_eq!(outcome, last, "levels {levels:?}");
}

#[test]
fn levels_follow_the_rules() {
    use Applied::*;
    let snapshot = [
        (5, "b 100 1 r"),
        (5, "b 99 2"),
        (5, "a 101 3"),
        (5, "a 102 4 l"),
    ];
    check(&snapshot, "100x1 99x2 | 101x3 102x4", Ok(Consistent));
    // An update replaces, inserts and removes levels, at any depth.
    let mut update = snapshot.to_vec();
    update.extend([
        (6, "b 100 5"),
        (6, "b 98 1"),
        (6, "a 101 0"),
        (6, "a 103 1 l"),
    ]);
    check(&update, "100x5 99x2 98x1 | 102x4 103x1", Ok(Consistent));
    // Removing a level that is not there is normal.
    let mut absent = snapshot.to_vec();
    absent.push((6, "a 105 0 l"));
    check(&absent, "100x1 99x2 | 101x3 102x4", Ok(Consistent));
    // Nothing before a snapshot.
    check(&[(1, "b 100 1 l")], " | ", Err(BookError::NotSynced));
    // Older messages are refused; the same seq (a message's levels) is not.
    let mut stale = snapshot.to_vec();
    stale.push((4, "b 100 9 l"));
    check(
        &stale,
        "100x1 99x2 | 101x3 102x4",
        Err(BookError::Stale { book: 5, level: 4 }),
    );
    // A crossed book is reported at the end of a message, not in the middle of one.
    let mut crossing = snapshot.to_vec();
    crossing.push((6, "b 101 1"));
    check(&crossing, "101x1 100x1 99x2 | 101x3 102x4", Ok(Partial));
    crossing.push((6, "a 101 0 l"));
    check(&crossing, "101x1 100x1 99x2 | 102x4", Ok(Consistent));
    let mut crossed = snapshot.to_vec();
    crossed.push((6, "b 102 1 l"));
    check(
        &crossed,
        "102x1 100x1 99x2 | 101x3 102x4",
        Ok(Crossed {
            bid: px("102"),
            ask: px("101"),
        }),
    );
    // A new snapshot replaces everything, whatever its seq.
    let mut again = update.clone();
    again.push((2, "a 200 1 rl"));
    check(&again, " | 200x1", Ok(Consistent));
    // A clear empties the book and takes it out of sync, whatever its level says.
    let mut cleared = snapshot.to_vec();
    cleared.push((6, "b 0 -1 c"));
    check(&cleared, " | ", Ok(Cleared));
    cleared.push((7, "b 100 1 l"));
    check(&cleared, " | ", Err(BookError::NotSynced));
    // Bad levels.
    let mut bad = snapshot.to_vec();
    bad.push((6, "b 0 1 l"));
    check(&bad, "100x1 99x2 | 101x3 102x4", Err(BookError::BadLevel));
    bad.push((6, "b 100 -1 l"));
    check(&bad, "100x1 99x2 | 101x3 102x4", Err(BookError::BadLevel));
}

#[test]
fn a_full_side_keeps_its_best_levels() {
    let mut book = OrderBook::with_max_levels(3);
    for (i, spec) in [
        "b 100 1 r",
        "b 99 1",
        "b 98 1",
        "b 97 1",
        "b 101 1",
        "a 110 1 l",
    ]
    .iter()
    .enumerate()
    {
        book.apply(&lv(1, spec))
            .unwrap_or_else(|e| panic!("{i}: {e}"));
    }
    assert_eq!(book.to_string(), "101x1 100x1 99x1 | 110x1");
    assert_eq!(book.qty_at(Side::Buy, px("100")), qty("1"));
    assert_eq!(book.qty_at(Side::Buy, px("98")), Qty::ZERO);
    assert_eq!(
        book.quote(7).map(|q| (q.bid_price, q.ask_price)),
        Some((px("101"), px("110")))
    );
}

#[test]
fn a_long_random_run_matches_a_map() {
    // xorshift: deterministic, no dependency.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut book = OrderBook::new();
    let mut model: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
    book.apply(&lv(0, "b 1 0 rl")).unwrap();
    for seq in 1..20_000u64 {
        let side = if next(2) == 0 { Side::Buy } else { Side::Sell };
        // Bids 900..1000, asks 1001..1100: never crossed.
        let price = match side {
            Side::Buy => 900 + next(100) as i64,
            Side::Sell => 1001 + next(100) as i64,
        };
        let size = if next(3) == 0 { 0 } else { 1 + next(50) as i64 };
        let level = BookLevel {
            instrument: 1,
            ts: 0,
            seq,
            side,
            price: Price::from_int(price).unwrap(),
            qty: Qty::from_int(size).unwrap(),
            flags: BookFlags::LAST,
        };
        assert_eq!(book.apply(&level), Ok(Applied::Consistent));
        let map = &mut model[side as usize];
        if size == 0 {
            map.remove(&price);
        } else {
            map.insert(price, size);
        }
    }
    let raw = |levels: Vec<Level>| -> Vec<(i64, i64)> {
        levels
            .iter()
            .map(|l| (l.price.raw() / 100_000_000, l.qty.raw() / 100_000_000))
            .collect()
    };
    let bids: Vec<(i64, i64)> = model[0].iter().rev().map(|(&p, &q)| (p, q)).collect();
    let asks: Vec<(i64, i64)> = model[1].iter().map(|(&p, &q)| (p, q)).collect();
    assert_eq!(raw(book.bids().collect()), bids);
    assert_eq!(raw(book.asks().collect()), asks);
}
