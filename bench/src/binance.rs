//! The Binance adapter: an order's round trip through `BinanceVenue` to the fake exchange
//! of `pennant-testkit` over loopback HTTP (submit to the acknowledgement reaching the
//! engine's channel), and the adapter's own work per order, without the network.

use crate::report::{duration, quantile, Section};
use crate::scenarios::Run;
use pennant_daemon::records::TradingState;
use pennant_daemon::venue::binance::keys::ApiKeys;
use pennant_daemon::venue::binance::rest::RestClient;
use pennant_daemon::venue::binance::user_stream::{self, Executions, UserEvent};
use pennant_daemon::venue::binance::venue::{BinanceSetup, BinanceVenue, Symbol};
use pennant_daemon::venue::binance::{orders, sign};
use pennant_daemon::venue::{ClientOrderIds, ExecutionReport, Venue, VenueEvent, VenueOrder};
use pennant_sdk::testing::{px, qty};
use pennant_sdk::{OrderRequest, Side, TimeInForce};
use pennant_testkit::binance::{FakeBinance, FakeSymbol};
use serde_json::json;
use std::time::{Duration, Instant};

const KEY: &str = "bench-key";
const SECRET: &str = "bench-secret";

fn bid(ids: &ClientOrderIds, id: u64) -> VenueOrder {
    VenueOrder {
        id,
        client_id: ids.of(id),
        request: OrderRequest::limit(1, Side::Buy, px("40000"), qty("0.001"))
            .with_time_in_force(TimeInForce::PostOnly),
    }
}

/// Submit to acknowledgement through the venue's task, REST over loopback to the fake
/// (which signs nothing back but checks every signature), one order at a time; p50 and
/// p99 in ns, and how many.
fn round_trip(run: &Run) -> anyhow::Result<(u64, u64, usize)> {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("50000"), px("50001"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let keys = ApiKeys {
        key: KEY.into(),
        secret: SECRET.into(),
    };
    let ids = ClientOrderIds::new("bench")?;
    let setup = BinanceSetup {
        name: "binance".into(),
        rest: RestClient::new(fake.base_url(), keys, 5000)?,
        symbols: [(
            1,
            Symbol {
                name: "BTCUSDT".into(),
                base: "BTC".into(),
                quote: "USDT".into(),
                trading: true,
            },
        )]
        .into_iter()
        .collect(),
        ids: ids.clone(),
        stream: None,
        on_ban: TradingState::Halted,
        clock_resync: pennant_daemon::venue::binance::venue::CLOCK_RESYNC,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let (mut venue, _task) = BinanceVenue::spawn(setup, runtime.handle(), tx, |event| event);
    let n = run.size(100_000) / 100;
    let mut samples = Vec::with_capacity(n);
    let mut out = Vec::new();
    for id in 1..=n as u64 {
        let start = Instant::now();
        venue.submit(bid(&ids, id), 0, &mut out);
        let event = runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), rx.recv()).await });
        match event {
            Ok(Some(VenueEvent::Reports(reports)))
                if matches!(reports[..], [ExecutionReport::Accepted { .. }]) =>
            {
                samples.push(start.elapsed().as_nanos() as u64);
            }
            other => anyhow::bail!("order {id}: {other:?}"),
        }
    }
    samples.sort_unstable();
    Ok((quantile(&samples, 0.5), quantile(&samples, 0.99), n))
}

/// The adapter's work for one order with no network: the REST form and its HMAC
/// signature, then the user data stream's NEW and TRADE reports read into execution
/// reports; ns per order.
fn adapter_cost(run: &Run) -> anyhow::Result<(f64, usize)> {
    let ids = ClientOrderIds::new("bench")?;
    let mut executions = Executions::new(ids.clone());
    let n = run.size(200_000);
    let event = |id: u64, exec: &str, trade: i64| {
        json!({"subscriptionId": 0, "event": {
            "e": "executionReport", "E": 1, "s": "BTCUSDT", "c": ids.of(id).to_string(),
            "S": "BUY", "o": "LIMIT_MAKER", "f": "GTC", "q": "0.00100000", "p": "40000.00000000",
            "P": "0", "F": "0", "g": -1, "C": "", "x": exec, "X": "NEW", "r": "NONE",
            "i": id, "l": "0.00100000", "z": "0.00100000", "L": "40000.00000000",
            "n": "0.00000100", "N": "BTC", "T": 1, "t": trade, "v": 3, "I": 1, "w": true,
            "m": true, "M": false, "O": 1, "Z": "40.00000000", "Y": "40.00000000",
            "Q": "0", "W": 1, "V": "NONE"
        }})
        .to_string()
    };
    let messages: Vec<(String, String)> = (1..=n as u64)
        .map(|id| (event(id, "NEW", -1), event(id, "TRADE", id as i64)))
        .collect();
    let start = Instant::now();
    let mut reports = 0;
    for (i, (new, trade)) in messages.iter().enumerate() {
        let order = bid(&ids, i as u64 + 1);
        let form = orders::new_order(&order, "BTCUSDT");
        let query = sign::signed_query(SECRET.as_bytes(), &form, 5000, 1_700_000_000_000);
        std::hint::black_box(query);
        for text in [new, trade] {
            if let Ok(UserEvent::Execution(event)) = user_stream::parse(text) {
                if let Ok(Some(report)) = executions.report(&event, "BTC", "USDT") {
                    std::hint::black_box(report);
                    reports += 1;
                }
            }
        }
    }
    let per = start.elapsed().as_nanos() as f64 / n as f64;
    anyhow::ensure!(reports == 2 * n, "{reports} reports for {n} orders");
    Ok((per, n))
}

/// The report's section.
pub fn adapter(run: &Run) -> Section {
    let mut section = Section::new(
        "Binance adapter",
        "*Round trip*: `BinanceVenue::submit` of a post-only limit order to its `Accepted` \
         report on the engine's channel, through the venue's tokio task, a signed REST \
         request over loopback HTTP to the fake exchange of `pennant-testkit` (which checks \
         the signature, the filters and the window) and its answer, one order at a time. \
         *Adapter cost*: the work the adapter does per order without the network: the REST \
         form and its HMAC-SHA256 signature, and the user data stream's NEW and TRADE \
         `executionReport`s read into execution reports (JSON parse, trade id de-duplication, \
         commission valued).",
        &["what", "p50 / per order", "p99", "orders"],
    );
    match round_trip(run) {
        Ok((p50, p99, n)) => section.row(
            vec![
                "round trip to the fake".into(),
                duration(p50 as f64),
                duration(p99 as f64),
                n.to_string(),
            ],
            json!({"what": "round_trip", "p50_ns": p50, "p99_ns": p99, "orders": n}),
        ),
        Err(err) => section.row(
            vec![
                "round trip to the fake".into(),
                format!("failed: {err}"),
                "".into(),
                "0".into(),
            ],
            json!({"what": "round_trip", "error": err.to_string()}),
        ),
    }
    match adapter_cost(run) {
        Ok((per, n)) => section.row(
            vec![
                "adapter cost".into(),
                duration(per),
                "".into(),
                n.to_string(),
            ],
            json!({"what": "adapter_cost", "ns_per_order": per, "orders": n}),
        ),
        Err(err) => section.row(
            vec![
                "adapter cost".into(),
                format!("failed: {err}"),
                "".into(),
                "0".into(),
            ],
            json!({"what": "adapter_cost", "error": err.to_string()}),
        ),
    }
    section
}
