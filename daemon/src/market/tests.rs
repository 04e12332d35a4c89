//! The market state's books: the quote they give, and what they count as wrong.

use super::*;
use pennant_sdk::testing::{px, qty};
use pennant_sdk::{BookFlags, BookLevel, Side};

fn level(seq: u64, side: Side, price: &str, size: &str, flags: BookFlags) -> MarketEvent {
    MarketEvent::Book(BookLevel {
        instrument: 3,
        ts: seq as i64 * 10,
        seq,
        side,
        price: px(price),
        qty: qty(size),
        flags,
    })
}

#[test]
fn a_book_gives_the_quote_and_counts_what_is_wrong() {
    use BookFlags as F;
    let mut market = MarketState::default();
    // Before a snapshot: refused, counted.
    market.apply(&level(1, Side::Buy, "100", "1", F::LAST));
    assert_eq!(market.top(3).quote, None);
    market.apply(&level(2, Side::Buy, "100", "1", F::RESET));
    // Mid-message: no quote yet.
    assert_eq!(market.top(3).quote, None);
    market.apply(&level(2, Side::Sell, "101", "2", F::LAST));
    let quote = market.top(3).quote.unwrap();
    assert_eq!(
        (quote.bid_price, quote.ask_price, quote.ts),
        (px("100"), px("101"), 20)
    );
    assert_eq!(market.mark(3), Some(px("100.5")));
    // Stale, crossed (twice: one episode), repaired.
    market.apply(&level(1, Side::Buy, "100", "5", F::LAST));
    market.apply(&level(3, Side::Buy, "102", "1", F::LAST));
    market.apply(&level(4, Side::Buy, "102", "2", F::LAST));
    assert_eq!(market.top(3).quote.unwrap().bid_price, px("100"));
    market.apply(&level(5, Side::Buy, "102", "0", F::LAST));
    assert_eq!(
        market.book(3).unwrap().qty_at(Side::Buy, px("100")),
        qty("1")
    );
    let health: Vec<_> = market.book_health().collect();
    assert_eq!(
        health,
        vec![(
            3,
            BookHealth {
                not_synced: 1,
                stale: 1,
                bad: 0,
                crossed: 2,
                is_crossed: false
            }
        )]
    );
}
