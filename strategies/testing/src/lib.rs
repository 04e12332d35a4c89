//! `test-strategy`: one component, many behaviours, chosen by the `mode` parameter. The
//! daemon's tests use it to prove the sandbox and the quarantine.
//!
//! Every mode counts the trades it sees and folds each into a digest of the sequence,
//! and counts the order updates it hears about (all three in the snapshot, so a reload
//! carries them over: a lost, repeated or reordered trade shows in the digest), and logs `count=N` on each (`count=N tag=T` with a `tag`
//! parameter). On the `trigger`-th trade (default 3) it misbehaves:
//!
//! | mode | on the trigger trade |
//! |---|---|
//! | `count` | nothing: a well-behaved counter |
//! | `trap` | panics |
//! | `loop` | loops forever |
//! | `oom` | allocates memory until it runs out |
//! | `order` | buys `qty` at market (default 1) |
//! | `rest` | places a buy limit order for `qty` at `price` |
//! | `rest-then-trap` | places a buy limit order far below the market, then panics |
//! | `spin` | sends a post-only buy far above the market, and again each time it is rejected |
//!
//! `rearm` sets a timer for "now" in `init` and again every time it fires;
//! `timer-double` sets one in `init` and two more for "now" every time one fires.
//!
//! Floods, on every trade from the trigger trade on, `n` times (the containment tests):
//!
//! | mode | on each trade from the trigger on |
//! |---|---|
//! | `timer-flood` | sets `n` timers an hour ahead (default 100,000) |
//! | `flood` | sends `n` limit buys for `qty` at `price` (default 1,000) |
//! | `chatty` | logs, prints and signals a note of `n` bytes (default 1 MiB) |
//!
//! `big-snapshot` makes snapshots of `n` bytes.
//!
//! Two modes serve the benchmarks: `idle` receives trades and quotes and does nothing;
//! `echo` answers every quote with an IOC buy at the bid (which does not execute).
//! | `probe` | tries to escape: logs what a file read, an environment variable, the clock and random numbers give (and the engine clock in `init`) |
//!
//! `book` subscribes to the book instead of trades and, at the end of each venue message
//! (a level flagged `last`), emits a signal whose note is [`book_note`] of the count of
//! levels it has seen and the host's `book_top` at depth 2: what the tests compare with
//! the book they build themselves.
//!
//! `mirror` subscribes to trades and quotes and, on each, folds what the host answers
//! (the engine clock, and its position with its unrealized PnL) into the digest; on
//! every `trigger`-th of them it sends a market order for `qty`, buying and selling in
//! turn: what the tests compare between two ways of delivering the same events.
//!
//! `init-error` refuses its parameters; `init-trap` panics in `init`; `bad-restore`
//! refuses any saved state; `snapshot-trap` panics when its state is taken. With
//! `order_in_init = true`, `init` places the `rest` order at once.

use pennant_sdk::prelude::*;
use pennant_sdk::state;

/// See the crate docs.
pub struct TestStrategy {
    mode: String,
    trigger: u64,
    count: u64,
    digest: u64,
    updates: u64,
    instrument: InstrumentId,
    qty: Qty,
    price: Price,
    tag: String,
    n: u64,
    /// Book levels seen (mode `book`).
    levels: u64,
    /// Trades and quotes seen (mode `mirror`).
    mirrored: u64,
}

/// The note mode `book` signals: `levels=N seq=S 100x1 99x2 | 101x3 102x1`, or
/// `levels=N out of sync` when the host has no book to give.
pub fn book_note(levels: u64, top: Option<&pennant_sdk::book::BookTop>) -> String {
    let Some(top) = top else {
        return format!("levels={levels} out of sync");
    };
    let side = |side: &[pennant_sdk::book::Level]| {
        side.iter()
            .map(|l| format!("{}x{}", l.price, l.qty))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "levels={levels} seq={} {} | {}",
        top.seq,
        side(&top.bids),
        side(&top.asks)
    )
}

/// FNV-1a over a trade's time, price and quantity, chained onto `digest`: the digest of
/// a sequence of trades, as [`TestStrategy`] keeps it.
pub fn fold_trade(digest: u64, trade: &Trade) -> u64 {
    fold(digest, [trade.ts, trade.price.raw(), trade.qty.raw()])
}

/// Folds words into a digest (FNV-1a over their bytes).
fn fold(digest: u64, words: impl IntoIterator<Item = i64>) -> u64 {
    let mut hash = digest;
    for word in words {
        for byte in word.to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// The digest before any trade.
pub const DIGEST_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Decodes a snapshot: `(trades, digest, order updates)`.
pub fn decode_state(bytes: &[u8]) -> Option<(u64, u64, u64)> {
    state::decode(bytes).ok()
}

impl TestStrategy {
    /// Mode `mirror`, on a trade or a quote.
    fn mirror(&mut self, host: &mut dyn Host) {
        let p = host.position(self.instrument);
        let now = host.now();
        self.digest = fold(
            self.digest,
            [
                now,
                p.qty.raw(),
                p.avg_price.raw(),
                p.realized_pnl.raw(),
                p.unrealized_pnl.raw(),
                p.fees.raw(),
            ],
        );
        self.mirrored += 1;
        let every = self.trigger.max(1);
        if self.mirrored.is_multiple_of(every) {
            let side = match (self.mirrored / every) % 2 {
                0 => Side::Buy,
                _ => Side::Sell,
            };
            let _ = host.submit_order(&OrderRequest::market(self.instrument, side, self.qty));
        }
    }

    fn misbehave(&mut self, host: &mut dyn Host) {
        match self.mode.as_str() {
            "trap" => panic!("test-strategy: deliberate panic at trade {}", self.count),
            "loop" => {
                let mut spins = 0u64;
                loop {
                    spins = std::hint::black_box(spins.wrapping_add(1));
                }
            }
            "oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "spin" => self.spin(host),
            "rest" => {
                let order = OrderRequest::limit(self.instrument, Side::Buy, self.price, self.qty);
                if let Err(rejection) = host.submit_order(&order) {
                    host.log(LogLevel::Warn, &format!("order refused: {rejection}"));
                }
            }
            "rest-then-trap" => {
                let order = OrderRequest::limit(
                    self.instrument,
                    Side::Buy,
                    Price::from_raw(1_000_000),
                    self.qty,
                );
                let placed = host.submit_order(&order);
                panic!("test-strategy: deliberate panic after placing {placed:?}");
            }
            "order" => {
                if let Err(rejection) =
                    host.submit_order(&OrderRequest::market(self.instrument, Side::Buy, self.qty))
                {
                    host.log(LogLevel::Warn, &format!("order refused: {rejection}"));
                }
            }
            "probe" => {
                let file = std::fs::read_to_string("/etc/hostname")
                    .map(|_| "read")
                    .unwrap_or("denied");
                let env = std::env::var("HOME").unwrap_or_else(|_| "unset".into());
                let clock = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                let random = std::collections::hash_map::RandomState::new();
                let _ = random; // HashMap's seeding works (it uses WASI random)
                let net = std::net::TcpStream::connect("127.0.0.1:9")
                    .map(|_| "connected")
                    .unwrap_or("denied");
                let now = host.now();
                host.log(
                    LogLevel::Info,
                    &format!("probe file={file} env={env} clock={clock} now={now} net={net}"),
                );
            }
            _ => {}
        }
    }
}

impl TestStrategy {
    /// The flooding modes, on every trade from the trigger on.
    fn flood(&mut self, host: &mut dyn Host) {
        match self.mode.as_str() {
            "timer-flood" => {
                let later = host.now() + 3600 * NANOS_PER_SECOND;
                for token in 0..self.n {
                    host.set_timer(later, token);
                }
            }
            "flood" => {
                let order = OrderRequest::limit(self.instrument, Side::Buy, self.price, self.qty);
                for _ in 0..self.n {
                    let _ = host.submit_order(&order);
                }
            }
            "chatty" => {
                let text = "x".repeat(self.n as usize);
                host.log(LogLevel::Info, &text);
                println!("{text}");
                eprintln!("{text}");
                host.emit_signal(&Signal {
                    instrument: self.instrument,
                    side: Side::Buy,
                    strength: 0.5,
                    target: None,
                    stop: None,
                    note: text,
                });
            }
            _ => {}
        }
    }

    fn spin(&mut self, host: &mut dyn Host) {
        let order = OrderRequest::limit(
            self.instrument,
            Side::Buy,
            Price::from_int(1_000_000).unwrap_or(Price::MAX),
            self.qty,
        )
        .with_time_in_force(TimeInForce::PostOnly);
        let _ = host.submit_order(&order);
    }
}

impl Strategy for TestStrategy {
    fn init(host: &mut dyn Host, params: &Params) -> Result<Self, InitError> {
        params.deny_unknown(&[
            "mode",
            "trigger",
            "instrument",
            "qty",
            "price",
            "tag",
            "order_in_init",
            "n",
        ])?;
        let mode: String = params.get_or("mode", "count".to_owned())?;
        if mode == "init-error" {
            return Err("refusing to start, as asked (mode = init-error)".into());
        }
        if mode == "init-trap" {
            panic!("test-strategy: deliberate panic in init (mode = init-trap)");
        }
        let known = [
            "count",
            "trap",
            "loop",
            "oom",
            "order",
            "rest",
            "rest-then-trap",
            "spin",
            "rearm",
            "idle",
            "echo",
            "probe",
            "bad-restore",
            "snapshot-trap",
            "timer-double",
            "timer-flood",
            "flood",
            "chatty",
            "big-snapshot",
            "book",
            "mirror",
        ];
        if !known.contains(&mode.as_str()) {
            return Err(format!("unknown mode `{mode}`").into());
        }
        let symbol: String = params.require("instrument")?;
        let info = host
            .lookup_instrument(&symbol)
            .ok_or_else(|| format!("unknown instrument `{symbol}`"))?;
        let streams = match mode.as_str() {
            "idle" => Streams::ALL,
            "echo" => Streams::QUOTES,
            "book" => Streams::BOOK,
            "mirror" => Streams::ALL,
            _ => Streams::TRADES,
        };
        host.subscribe(info.id, streams);
        if mode == "probe" {
            let now = host.now();
            host.log(LogLevel::Info, &format!("init now={now}"));
        }
        if mode == "rearm" || mode == "timer-double" {
            let now = host.now();
            host.set_timer(now, 0);
        }
        let n_default = match mode.as_str() {
            "timer-flood" => 100_000,
            "flood" => 1_000,
            _ => 1 << 20,
        };
        let strategy = TestStrategy {
            mode,
            trigger: params.get_or("trigger", 3)?,
            count: 0,
            digest: DIGEST_START,
            updates: 0,
            instrument: info.id,
            qty: params.get_or("qty", Qty::ONE)?,
            price: params.get_or("price", Price::ONE)?,
            tag: params.get_or("tag", String::new())?,
            n: params.get_or("n", n_default)?,
            levels: 0,
            mirrored: 0,
        };
        if params.get_or("order_in_init", false)? {
            let order =
                OrderRequest::limit(strategy.instrument, Side::Buy, strategy.price, strategy.qty);
            let _ = host.submit_order(&order);
        }
        Ok(strategy)
    }

    fn on_trade(&mut self, host: &mut dyn Host, trade: &Trade) {
        self.count += 1;
        self.digest = fold_trade(self.digest, trade);
        if self.mode != "idle" {
            let line = if self.tag.is_empty() {
                format!("count={}", self.count)
            } else {
                format!("count={} tag={}", self.count, self.tag)
            };
            host.log(LogLevel::Info, &line);
        }
        if self.mode == "mirror" {
            self.mirror(host);
            return;
        }
        if self.count == self.trigger {
            self.misbehave(host);
        }
        if self.count >= self.trigger {
            self.flood(host);
        }
    }

    fn on_quote(&mut self, host: &mut dyn Host, quote: &Quote) {
        if self.mode == "mirror" {
            self.mirror(host);
        }
        if self.mode == "echo" {
            let order = OrderRequest::limit(self.instrument, Side::Buy, quote.bid_price, self.qty)
                .with_time_in_force(TimeInForce::Ioc);
            let _ = host.submit_order(&order);
        }
    }

    fn on_book(&mut self, host: &mut dyn Host, level: &BookLevel) {
        self.levels += 1;
        if self.mode != "book" || !level.flags.contains(BookFlags::LAST) {
            return;
        }
        let top = host.book_top(self.instrument, 2);
        host.emit_signal(&Signal {
            instrument: self.instrument,
            side: Side::Buy,
            strength: 0.0,
            target: None,
            stop: None,
            note: book_note(self.levels, top.as_ref()),
        });
    }

    fn on_order_update(&mut self, host: &mut dyn Host, update: &OrderUpdate) {
        self.updates += 1;
        if self.mode == "spin" && update.status == OrderStatus::Rejected {
            self.spin(host);
        }
    }

    fn on_timer(&mut self, host: &mut dyn Host, token: u64) {
        let now = host.now();
        match self.mode.as_str() {
            "rearm" => host.set_timer(now, token),
            "timer-double" => {
                host.set_timer(now, token);
                host.set_timer(now, token);
            }
            _ => {}
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        if self.mode == "snapshot-trap" {
            panic!("test-strategy: deliberate panic in snapshot (mode = snapshot-trap)");
        }
        if self.mode == "big-snapshot" {
            return vec![7; self.n as usize];
        }
        state::encode(&(self.count, self.digest, self.updates))
    }

    fn restore(&mut self, _host: &mut dyn Host, bytes: &[u8]) -> Result<(), InitError> {
        if self.mode == "bad-restore" {
            return Err("refusing the saved state, as asked (mode = bad-restore)".into());
        }
        (self.count, self.digest, self.updates) = state::decode(bytes)?;
        Ok(())
    }
}

pennant_sdk::export_strategy!(TestStrategy);

#[cfg(test)]
mod tests {
    use super::*;
    use pennant_sdk::testing::{px, qty, Harness};

    #[test]
    fn counts_and_carries_the_count_over_a_reload() {
        let mut h = Harness::<TestStrategy>::new().with_instrument("X", "0.01", "1");
        h.init(&[("instrument", "X")]).unwrap();
        h.trade("X", px("1"), qty("1"), Side::Buy);
        h.trade("X", px("1"), qty("1"), Side::Buy);
        h.reload().unwrap();
        h.trade("X", px("1"), qty("1"), Side::Buy);
        assert_eq!(h.strategy().count, 3);
        assert_eq!(h.host.logs.last().unwrap().1, "count=3");
    }

    #[test]
    fn refuses_unknown_modes() {
        let mut h = Harness::<TestStrategy>::new().with_instrument("X", "0.01", "1");
        assert_eq!(
            h.init(&[("instrument", "X"), ("mode", "nope")])
                .unwrap_err()
                .0,
            "unknown mode `nope`"
        );
    }
}
