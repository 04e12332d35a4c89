//! The fill model against the L2 book, scenario by scenario: each a script of book
//! messages, trades and orders, and the reports it must give.

use super::*;
use crate::testing::{px, qty};
use crate::{BookFlags, BookLevel};

enum Step {
    /// A venue message: levels `b100x5` (bid) and `a101x3` (ask), `r` first for a
    /// snapshot; `clear` for the feed losing the book.
    Book(&'static str),
    /// A trade: price, size, aggressor.
    Trade(&'static str, &'static str, Side),
    /// An order: id, side, limit price (`None`: market), size, time in force.
    Order(
        OrderId,
        Side,
        Option<&'static str>,
        &'static str,
        TimeInForce,
    ),
    Cancel(OrderId),
    /// A top-of-book quote: bid, ask (size 1 each).
    Quote(&'static str, &'static str),
}
use Step::*;
use TimeInForce::{Gtc, Ioc, PostOnly};

fn render(report: &ExecutionReport) -> String {
    match *report {
        ExecutionReport::Accepted { id, .. } => format!("{id} accepted"),
        ExecutionReport::Rejected { id, reason, .. } => format!("{id} rejected {reason:?}"),
        ExecutionReport::Fill {
            id,
            price,
            qty,
            liquidity,
            ..
        } => format!("{id} fill {price}x{qty} {liquidity:?}"),
        ExecutionReport::Canceled { id, .. } => format!("{id} canceled"),
        other => format!("{other:?}"),
    }
}

/// Runs `steps` on instrument 1 with no latency or fees; checks the reports.
fn check(steps: &[Step], expected: &[&str]) {
    let mut engine = MatchingEngine::new(MatchingSettings::default());
    let mut out = Vec::new();
    let mut seq = 0;
    for (ts, step) in steps.iter().enumerate() {
        let ts = ts as Timestamp;
        match *step {
            Book(message) => {
                seq += 1;
                let mut specs: Vec<&str> = message.split_whitespace().collect();
                if message == "clear" {
                    let level =
                        BookLevel::marker(1, ts, seq, BookFlags::CLEAR.with(BookFlags::LAST));
                    engine.on_book(&level, &mut out);
                    continue;
                }
                let reset = specs.first() == Some(&"r");
                if reset {
                    specs.remove(0);
                }
                let n = specs.len();
                for (i, spec) in specs.iter().enumerate() {
                    let side = if spec.starts_with('b') {
                        Side::Buy
                    } else {
                        Side::Sell
                    };
                    let (price, size) = spec[1..].split_once('x').unwrap();
                    let mut flags = BookFlags::NONE;
                    if reset && i == 0 {
                        flags = flags.with(BookFlags::RESET);
                    }
                    if i + 1 == n {
                        flags = flags.with(BookFlags::LAST);
                    }
                    let level = BookLevel {
                        instrument: 1,
                        ts,
                        seq,
                        side,
                        price: px(price),
                        qty: qty(size),
                        flags,
                    };
                    engine.on_book(&level, &mut out);
                }
            }
            Trade(price, size, aggressor) => engine.on_trade(
                &crate::Trade {
                    instrument: 1,
                    ts,
                    price: px(price),
                    qty: qty(size),
                    aggressor,
                },
                &mut out,
            ),
            Order(id, side, price, size, tif) => {
                let request = OrderRequest {
                    instrument: 1,
                    side,
                    kind: if price.is_some() {
                        OrderKind::Limit
                    } else {
                        OrderKind::Market
                    },
                    qty: qty(size),
                    price: price.map_or(Price::ZERO, px),
                    time_in_force: tif,
                    client_order_id: 0,
                };
                engine.submit(id, request, ts, &mut out);
            }
            Cancel(id) => {
                engine.cancel(id, ts, &mut out);
            }
            Quote(bid, ask) => engine.on_quote(
                &crate::Quote {
                    instrument: 1,
                    ts,
                    bid_price: px(bid),
                    bid_qty: qty("1"),
                    ask_price: px(ask),
                    ask_qty: qty("1"),
                },
                &mut out,
            ),
        }
    }
    let got: Vec<String> = out.iter().map(render).collect();
    assert_eq!(got, expected);
}

const BOOK: Step = Book("r b100x5 b99x2 a101x3 a102x4");

#[test]
fn marketable_orders_walk_the_levels() {
    check(
        &[
            BOOK,
            Order(1, Side::Buy, None, "5", Ioc),
            // What order 1 took is gone until those levels are updated.
            Order(2, Side::Buy, None, "3", Ioc),
            Book("a102x4"),
            Order(3, Side::Buy, Some("102"), "1", Ioc),
            Order(4, Side::Sell, Some("99.5"), "6", Gtc),
        ],
        &[
            "1 accepted",
            "1 fill 101x3 Taker",
            "1 fill 102x2 Taker",
            "2 accepted",
            "2 fill 102x2 Taker",
            "2 canceled",
            "3 accepted",
            "3 fill 102x1 Taker",
            // Takes the bid at 100, not the one at 99 it does not reach, and rests.
            "4 accepted",
            "4 fill 100x5 Taker",
        ],
    );
}

#[test]
fn refusals_follow_the_book() {
    check(
        &[
            Order(1, Side::Buy, None, "1", Ioc),
            Book("r b100x5"),
            Order(2, Side::Buy, None, "1", Ioc),
            Order(3, Side::Sell, Some("100"), "1", PostOnly),
            Order(4, Side::Sell, Some("100.5"), "1", PostOnly),
        ],
        &[
            // Before depth, the top-of-book model: no quote, no liquidity.
            "1 rejected NoLiquidity",
            "2 rejected NoLiquidity",
            "3 rejected PostOnlyWouldCross",
            "4 accepted",
        ],
    );
}

#[test]
fn a_resting_order_waits_for_the_size_ahead_of_it() {
    check(
        &[
            BOOK,
            Order(1, Side::Buy, Some("100"), "1", Gtc),
            // 5 ahead: a trade of 3 leaves 2 ahead, the next of 3 fills it.
            Trade("100", "3", Side::Sell),
            // A buy aggressor does not hit bids.
            Trade("100", "9", Side::Buy),
            Trade("100", "3", Side::Sell),
        ],
        &["1 accepted", "1 fill 100x1 Maker"],
    );
    // Orders behind each other at one price, and one at a better price.
    check(
        &[
            BOOK,
            Order(1, Side::Buy, Some("100"), "1", Gtc),
            Order(2, Side::Buy, Some("100"), "1", Gtc),
            Order(3, Side::Buy, Some("100.5"), "1", Gtc),
            Trade("100", "6", Side::Sell),
            Trade("100", "1", Side::Sell),
        ],
        &[
            "1 accepted",
            "2 accepted",
            "3 accepted",
            // The trade went through 100.5 first, then the 5 ahead of orders 1 and 2.
            "3 fill 100.5x1 Maker",
            "1 fill 100x1 Maker",
        ],
    );
}

#[test]
fn cancels_ahead_move_an_order_up() {
    check(
        &[
            Book("r b100x10 a101x1"),
            Order(1, Side::Buy, Some("100"), "1", Gtc),
            // 6 canceled and none traded: all of the level was ahead, so 4 are left.
            Book("b100x4"),
            Trade("100", "4", Side::Sell),
            Trade("100", "1", Side::Sell),
        ],
        &["1 accepted", "1 fill 100x1 Maker"],
    );
    check(
        &[
            Book("r b100x10 a101x1"),
            Order(1, Side::Buy, Some("100"), "2", Gtc),
            // A trade of 4, then the level shows it: no cancel, 6 ahead.
            Trade("100", "4", Side::Sell),
            Book("b100x6"),
            // 3 join behind, then 6 leave: 6 of 9 canceled, 2/3 of them (4) ahead.
            Book("b100x9"),
            Book("b100x3"),
            Trade("100", "3", Side::Sell),
        ],
        &["1 accepted", "1 fill 100x1 Maker"],
    );
}

#[test]
fn the_book_moving_through_an_order_fills_it() {
    check(
        &[
            BOOK,
            Order(1, Side::Buy, Some("100"), "3", Gtc),
            // An ask at 100 appears: the market crossed the bid, which fills as maker.
            Book("a100x2"),
            // Mid-message a crossing level does nothing; at its end, it still crosses.
            Book("b100x0 a99x5 a100x0"),
        ],
        &["1 accepted", "1 fill 100x2 Maker", "1 fill 100x1 Maker"],
    );
}

#[test]
fn the_rest_of_a_crossing_order_takes_new_size_then_rests() {
    check(
        &[
            BOOK,
            Order(1, Side::Buy, Some("101"), "5", Gtc),
            // The level it emptied is refilled: it takes it, as taker.
            Book("a101x1"),
            // The asks move away: it rests, behind the 7 bid at 101.
            Book("a101x0 b101x7"),
            Trade("101", "7", Side::Sell),
            Trade("101", "1", Side::Sell),
        ],
        &[
            "1 accepted",
            "1 fill 101x3 Taker",
            "1 fill 101x1 Taker",
            "1 fill 101x1 Maker",
        ],
    );
}

#[test]
fn quotes_do_not_move_an_instrument_with_depth() {
    check(
        &[
            BOOK,
            Order(1, Side::Buy, Some("100"), "1", Gtc),
            Quote("99", "99.5"),
            Cancel(1),
            Order(2, Side::Buy, Some("101"), "1", Ioc),
        ],
        &[
            "1 accepted",
            "1 canceled",
            "2 accepted",
            "2 fill 101x1 Taker",
        ],
    );
}

#[test]
fn a_cleared_book_falls_back_to_the_quotes_until_a_snapshot() {
    check(
        &[
            BOOK,
            Quote("100", "101"),
            Book("clear"),
            Order(1, Side::Buy, None, "2", Ioc),
            Book("r b100x5 a101x3"),
            Order(2, Side::Buy, None, "2", Ioc),
        ],
        &[
            // Out of sync: the last quote (size 1) is what there is.
            "1 accepted",
            "1 fill 101x1 Taker",
            "1 canceled",
            // In sync again: the book's 3.
            "2 accepted",
            "2 fill 101x2 Taker",
        ],
    );
}

#[test]
fn a_new_snapshot_caps_the_queue() {
    check(
        &[
            Book("r b100x10 a101x1"),
            Order(1, Side::Buy, Some("100"), "1", Gtc),
            Book("r b100x2 a101x1"),
            Trade("100", "2", Side::Sell),
            Trade("100", "1", Side::Sell),
        ],
        &["1 accepted", "1 fill 100x1 Maker"],
    );
}
