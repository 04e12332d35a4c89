//! `fake-binance [--listen ADDR]`: the fake Binance spot exchange of `pennant-testkit` as
//! a process, with a market that moves, for `cargo xtask demo --binance-fake`. It lists
//! BTCUSDT, holds an account of 100,000 USDT and 2 BTC for the key `demo-key` and
//! secret `demo-secret` (or `$BINANCE_API_KEY` / `$BINANCE_API_SECRET`), and every
//! 100 ms moves its book a few dollars (resting orders it moves through fill) and
//! sometimes prints a trade on the market streams. It runs until it is stopped.

use pennant_sdk::{Price, Qty};
use pennant_testkit::binance::{FakeBinance, FakeSymbol};
use std::time::Duration;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:18090".to_owned();
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(addr)) => listen = addr,
            _ => {
                eprintln!("usage: fake-binance [--listen ADDR]");
                std::process::exit(2);
            }
        }
    }
    let key = std::env::var("BINANCE_API_KEY").unwrap_or_else(|_| "demo-key".into());
    let secret = std::env::var("BINANCE_API_SECRET").unwrap_or_else(|_| "demo-secret".into());
    let fake = match FakeBinance::start_on(&listen, &key, &secret, vec![FakeSymbol::btcusdt()]) {
        Ok(fake) => fake,
        Err(err) => {
            eprintln!("fake-binance: cannot listen on {listen}: {err}");
            std::process::exit(69);
        }
    };
    let usd = |units: i64| Price::from_raw(units * 100_000_000);
    fake.set_balance("USDT", usd(100_000), usd(0));
    fake.set_balance("BTC", usd(2), usd(0));
    eprintln!(
        "fake-binance: REST {0}, WebSocket API {1}, market streams {2}",
        fake.base_url(),
        fake.ws_api_url(),
        fake.market_stream_url()
    );
    // A walk of the mid in cents, from a fixed seed: the same demo every time.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut mid_cents: i64 = 5_000_000;
    loop {
        let step = (next() % 1_001) as i64 - 500;
        mid_cents = (mid_cents + step).clamp(4_000_000, 6_000_000);
        let cents = |c: i64| Price::from_raw(c * 1_000_000);
        fake.set_book("BTCUSDT", cents(mid_cents - 50), cents(mid_cents + 50));
        if next() % 10 < 4 {
            let lots = (next() % 50 + 1) as i64;
            fake.print_trade(
                "BTCUSDT",
                cents(mid_cents),
                Qty::from_raw(lots * 100_000),
                next() % 2 == 0,
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
