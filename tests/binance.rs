//! The Binance adapter's parts (signing, order forms, exchangeInfo, error states, rate
//! budgets) against the fake exchange of `pennant-testkit`, over real HTTP on loopback.
//! Both sides are written from Binance's documentation; neither from the other.

mod support;

use pennant_daemon::market::{Instruments, MarketEvent};
use pennant_daemon::venue::binance::errors::{classify, Failure};
use pennant_daemon::venue::binance::venue::{BinanceSetup, BinanceVenue, StreamSettings, Symbol};
use pennant_daemon::venue::binance::{exchange_info, orders, rate_limits, sign};
use pennant_daemon::venue::{ClientOrderIds, VenueOrder};
use pennant_sdk::testing::{amount, px, qty};
use pennant_sdk::{InstrumentInfo, OrderRequest, RejectReason, Side, TimeInForce};
use pennant_testkit::binance::{FakeBinance, FakeSymbol, Fault};
use std::time::Duration;

const KEY: &str = "test-key";
const SECRET: &str = "test-secret";

/// An answer: status, `Retry-After`, the weight and order-count headers, body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    headers: Vec<(String, String)>,
    body: String,
}

fn call(fake: &FakeBinance, method: &str, path: &str, query: &str, key: &str) -> Answer {
    let url = format!("{}{path}?{query}", fake.base_url());
    let outcome = ureq::request(method, &url).set("X-MBX-APIKEY", key).call();
    let response = match outcome {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(err) => panic!("{method} {path}: {err}"),
    };
    let headers = response
        .headers_names()
        .into_iter()
        .filter(|n| n.starts_with("x-mbx-"))
        .map(|n| {
            let v = response.header(&n).unwrap_or("").to_owned();
            (n, v)
        })
        .collect();
    Answer {
        status: response.status(),
        retry_after: response.header("retry-after").map(str::to_owned),
        headers,
        body: response.into_string().unwrap_or_default(),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn signed(
    fake: &FakeBinance,
    method: &str,
    path: &str,
    params: &str,
    secret: &str,
    offset: i64,
) -> Answer {
    let query = sign::signed_query(secret.as_bytes(), params, 5000, now_ms() + offset);
    call(fake, method, path, &query, KEY)
}

fn failure(answer: &Answer) -> Failure {
    classify(answer.status, &answer.body, answer.retry_after.as_deref())
}

fn order(id: u64, request: OrderRequest) -> VenueOrder {
    VenueOrder {
        id,
        client_id: ClientOrderIds::new("desk").unwrap().of(id),
        request,
    }
}

fn json(answer: &Answer) -> serde_json::Value {
    serde_json::from_str(&answer.body).unwrap_or_else(|_| panic!("{}", answer.body))
}

/// The fake exchange listing BTCUSDT, its book at 50000 / 50001.
fn market() -> FakeBinance {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("50000"), px("50001"));
    fake
}

/// A REST client of the fake, for the test account.
fn fake_client(fake: &FakeBinance) -> pennant_daemon::venue::binance::rest::RestClient {
    let keys = pennant_daemon::venue::binance::keys::ApiKeys {
        key: KEY.into(),
        secret: SECRET.into(),
    };
    pennant_daemon::venue::binance::rest::RestClient::new(fake.base_url(), keys, 5000)
        .and_then(|rest| rest.with_timeout(Duration::from_secs(3)))
        .unwrap()
}

/// The Binance venue on the fake, trading BTC-USDT (instrument 1) for daemon `desk`,
/// measuring Binance's clock every 200 ms, with the user data stream when `stream` is
/// given; its events go to `tx`, made inputs
/// by `wrap`.
fn binance_venue<T: Send + 'static>(
    fake: &FakeBinance,
    stream: Option<StreamSettings>,
    runtime: &tokio::runtime::Runtime,
    tx: tokio::sync::mpsc::Sender<T>,
    wrap: impl Fn(pennant_daemon::venue::VenueEvent) -> T + Send + Sync + 'static,
) -> BinanceVenue {
    let symbol = Symbol {
        name: "BTCUSDT".into(),
        base: "BTC".into(),
        quote: "USDT".into(),
        trading: true,
    };
    let setup = BinanceSetup {
        name: "binance".into(),
        rest: fake_client(fake),
        symbols: [(1, symbol)].into_iter().collect(),
        ids: ClientOrderIds::new("desk").unwrap(),
        stream,
        on_ban: pennant_daemon::records::TradingState::Halted,
        clock_resync: Duration::from_millis(200),
    };
    BinanceVenue::spawn(setup, runtime.handle(), tx, wrap).0
}

/// The fake's user data stream, reconnecting within 50-200 ms.
fn stream_of(fake: &FakeBinance, cancel_after: Option<Duration>) -> Option<StreamSettings> {
    Some(StreamSettings {
        url: fake.ws_api_url(),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(200),
        quiet: Duration::from_secs(60),
        cancel_after,
    })
}

/// The venue on the fake with the user data stream `stream`, once it has subscribed:
/// the runtime it runs on, what it sends, the venue.
fn streaming_venue(
    fake: &FakeBinance,
    stream: Option<StreamSettings>,
) -> (
    tokio::runtime::Runtime,
    tokio::sync::mpsc::Receiver<pennant_daemon::venue::VenueEvent>,
    BinanceVenue,
) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let mut venue = binance_venue(fake, stream, &runtime, tx, |event| event);
    // As the engine does at start: the stream waits for its snapshot request.
    assert_eq!(pennant_daemon::venue::Venue::snapshot(&mut venue), None);
    match next_from(&runtime, &mut rx) {
        pennant_daemon::venue::VenueEvent::Snapshot(_) => {}
        other => panic!("the snapshot first: {other:?}"),
    }
    support::poll("the stream subscribes", || {
        (fake.user_stream_subscriptions() >= 1).then_some(())
    });
    (runtime, rx, venue)
}

/// The next thing the venue sends, within 30 s.
fn next_from<T>(runtime: &tokio::runtime::Runtime, rx: &mut tokio::sync::mpsc::Receiver<T>) -> T {
    runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(30), rx.recv()).await })
        .expect("the venue answers within 30 s")
        .expect("the venue's task runs")
}

#[test]
fn instruments_and_budgets_come_from_exchange_info() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    let info = call(&fake, "GET", "/api/v3/exchangeInfo", "", "");
    assert_eq!(info.status, 200, "{}", info.body);
    let rules = exchange_info::parse(&info.body).unwrap();
    let btc = exchange_info::find(&rules, "BTC-USDT").unwrap();
    let configured = |tick: &str| InstrumentInfo {
        id: 1,
        symbol: "BTC-USDT".into(),
        tick_size: px(tick),
        lot_size: qty("0.00001"),
        min_qty: qty("0.00001"),
        min_notional: amount("5"),
    };
    assert!(exchange_info::mismatches(&configured("0.01"), btc).is_empty());
    assert_eq!(exchange_info::mismatches(&configured("0.1"), btc).len(), 1);
    let mut budget = rate_limits::RateBudget::new(rate_limits::parse(&info.body).unwrap());
    budget.observe(info.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    assert!(budget.allows_order(1).is_ok());
}

#[test]
fn signed_orders_are_taken_refused_and_canceled_as_binance_documents() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("50000"), px("50001"));
    let resting = order(
        1,
        OrderRequest::limit(1, Side::Buy, px("49000"), qty("0.001")),
    );
    let form = orders::new_order(&resting, "BTCUSDT");

    // Taken: it rests, and the answer's headers count it.
    let placed = signed(&fake, "POST", "/api/v3/order", &form, SECRET, 0);
    assert_eq!(placed.status, 200, "{}", placed.body);
    let body = json(&placed);
    assert_eq!(
        (body["status"].as_str(), body["clientOrderId"].as_str()),
        (Some("NEW"), Some("desk-1"))
    );
    let mut budget = rate_limits::RateBudget::new(vec![rate_limits::RateLimit {
        rate_limit_type: rate_limits::LimitKind::Orders,
        interval: "SECOND".into(),
        interval_num: 10,
        limit: 1,
    }]);
    budget.observe(placed.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    assert!(
        budget.allows_order(1).is_err(),
        "one order of one in 10 s is used"
    );

    // Refused, each as a state the adapter knows.
    let again = signed(&fake, "POST", "/api/v3/order", &form, SECRET, 0);
    assert!(
        matches!(
            failure(&again),
            Failure::Refused {
                code: -2010,
                reason: RejectReason::VenueRejected,
                ..
            }
        ),
        "{}",
        again.body
    );
    let odd_lot = order(
        2,
        OrderRequest::limit(1, Side::Buy, px("49000"), qty("0.000015")),
    );
    let lot = signed(
        &fake,
        "POST",
        "/api/v3/order",
        &orders::new_order(&odd_lot, "BTCUSDT"),
        SECRET,
        0,
    );
    assert_eq!(
        failure(&lot),
        Failure::Refused {
            reason: RejectReason::VenueRejected,
            code: -1013,
            message: "Filter failure: LOT_SIZE".into()
        }
    );
    let taker = order(
        3,
        OrderRequest::limit(1, Side::Buy, px("50001"), qty("0.001"))
            .with_time_in_force(TimeInForce::PostOnly),
    );
    let maker = signed(
        &fake,
        "POST",
        "/api/v3/order",
        &orders::new_order(&taker, "BTCUSDT"),
        SECRET,
        0,
    );
    assert!(
        matches!(failure(&maker), Failure::Refused { code: -2010, .. }),
        "{}",
        maker.body
    );
    let forged = signed(&fake, "POST", "/api/v3/order", &form, "not-the-secret", 0);
    assert!(
        matches!(failure(&forged), Failure::Credentials { .. }),
        "{}",
        forged.body
    );

    // A market order takes the ask.
    let market = order(4, OrderRequest::market(1, Side::Buy, qty("0.001")));
    let filled = signed(
        &fake,
        "POST",
        "/api/v3/order",
        &orders::new_order(&market, "BTCUSDT"),
        SECRET,
        0,
    );
    assert_eq!(json(&filled)["status"], "FILLED", "{}", filled.body);
    assert_eq!(json(&filled)["cummulativeQuoteQty"], "50.00100000");

    // Canceled by its client id; a second cancel and a query of an unknown id are the
    // unknown-order states.
    let cancel = orders::by_client_id("BTCUSDT", "desk-1");
    let canceled = signed(&fake, "DELETE", "/api/v3/order", &cancel, SECRET, 0);
    assert_eq!(json(&canceled)["status"], "CANCELED", "{}", canceled.body);
    let twice = signed(&fake, "DELETE", "/api/v3/order", &cancel, SECRET, 0);
    assert!(
        matches!(failure(&twice), Failure::UnknownOrder { .. }),
        "{}",
        twice.body
    );
    let nobody = signed(
        &fake,
        "GET",
        "/api/v3/order",
        &orders::by_client_id("BTCUSDT", "desk-99"),
        SECRET,
        0,
    );
    assert!(
        matches!(failure(&nobody), Failure::UnknownOrder { .. }),
        "{}",
        nobody.body
    );
    let open = signed(
        &fake,
        "GET",
        "/api/v3/openOrders",
        "symbol=BTCUSDT",
        SECRET,
        0,
    );
    assert_eq!(json(&open), serde_json::json!([]));
}

#[test]
fn clock_skew_rate_limits_bans_and_lost_answers_are_states_too() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("50000"), px("50001"));
    let resting = order(
        7,
        OrderRequest::limit(1, Side::Sell, px("51000"), qty("0.001")),
    );
    let form = orders::new_order(&resting, "BTCUSDT");

    // The exchange's clock is 20 s ahead: -1021, then the offset from /api/v3/time.
    fake.set_clock_offset(20_000);
    let late = signed(&fake, "POST", "/api/v3/order", &form, SECRET, 0);
    assert_eq!(failure(&late), Failure::Timestamp, "{}", late.body);
    let sent = now_ms();
    let time = json(&call(&fake, "GET", "/api/v3/time", "", ""));
    let offset = orders::clock_offset(sent, time["serverTime"].as_i64().unwrap(), now_ms());
    assert!((19_000..=21_000).contains(&offset), "{offset}");

    // 429 and 418 say how long to wait.
    fake.inject(Fault::TooManyRequests(7));
    let busy = signed(&fake, "POST", "/api/v3/order", &form, SECRET, offset);
    assert_eq!(
        failure(&busy),
        Failure::RateLimited {
            retry_after: Duration::from_secs(7)
        }
    );
    fake.inject(Fault::Banned(300));
    let banned = signed(&fake, "POST", "/api/v3/order", &form, SECRET, offset);
    assert_eq!(
        failure(&banned),
        Failure::Banned {
            retry_after: Duration::from_secs(300)
        }
    );

    // Accepted, and the answer lost to a 500: the status is unknown, and asking by the
    // client order id finds the order, which is not sent again.
    fake.inject(Fault::ServerErrorAfterAccept);
    let lost = signed(&fake, "POST", "/api/v3/order", &form, SECRET, offset);
    assert_eq!(failure(&lost), Failure::Unknown);
    let asked = signed(
        &fake,
        "GET",
        "/api/v3/order",
        &orders::by_client_id("BTCUSDT", "desk-7"),
        SECRET,
        offset,
    );
    assert_eq!(json(&asked)["status"], "NEW", "{}", asked.body);
    let posts = fake
        .requests()
        .iter()
        .filter(|r| *r == "POST /api/v3/order")
        .count();
    assert_eq!(posts, 4, "{:?}", fake.requests());
    assert_eq!(fake.orders().len(), 1, "one order at the exchange");
}

#[test]
fn the_rest_client_resyncs_its_clock_once_and_keeps_binances_waits() {
    let fake = market();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let form = orders::new_order(
        &order(
            5,
            OrderRequest::limit(1, Side::Buy, px("49000"), qty("0.001")),
        ),
        "BTCUSDT",
    );
    let posts = |fake: &FakeBinance| {
        fake.requests()
            .iter()
            .filter(|r| *r == "POST /api/v3/order")
            .count()
    };
    runtime.block_on(async {
        let mut client = fake_client(&fake);
        // The exchange's clock runs 20 s ahead: the order meets -1021, the clock is
        // measured, and the order goes once more, and only once.
        fake.set_clock_offset(20_000);
        let placed = client
            .signed(reqwest::Method::POST, "/api/v3/order", &form)
            .await
            .unwrap();
        assert_eq!(placed["status"], "NEW");
        assert!((19_000..=21_000).contains(&client.clock_offset_ms()));
        assert_eq!(posts(&fake), 2);
        assert_eq!(fake.orders().len(), 1);

        // A 429 keeps every request home until its Retry-After has passed.
        fake.inject(Fault::TooManyRequests(60));
        let open = "symbol=BTCUSDT";
        let busy = client
            .signed(reqwest::Method::GET, "/api/v3/openOrders", open)
            .await;
        assert_eq!(
            busy,
            Err(Failure::RateLimited {
                retry_after: Duration::from_secs(60)
            })
        );
        let sent = fake.requests().len();
        let held = client
            .signed(reqwest::Method::GET, "/api/v3/openOrders", open)
            .await;
        assert!(matches!(held, Err(Failure::RateLimited { .. })));
        assert_eq!(
            fake.requests().len(),
            sent,
            "nothing was sent while waiting"
        );

        // An answer lost to a 500 is an unknown status, never a second order.
        let mut other = fake_client(&fake);
        other.sync_clock().await.unwrap();
        let lost_form = orders::new_order(
            &order(
                6,
                OrderRequest::limit(1, Side::Buy, px("48000"), qty("0.001")),
            ),
            "BTCUSDT",
        );
        fake.inject(Fault::ServerErrorAfterAccept);
        let lost = other
            .signed(reqwest::Method::POST, "/api/v3/order", &lost_form)
            .await;
        assert_eq!(lost, Err(Failure::Unknown));
        let asked = other
            .signed(
                reqwest::Method::GET,
                "/api/v3/order",
                &orders::by_client_id("BTCUSDT", "desk-6"),
            )
            .await
            .unwrap();
        assert_eq!(asked["status"], "NEW");
    });
    assert_eq!(posts(&fake), 3);
    drop(runtime);
}

#[test]
fn the_venue_answers_later_and_never_sends_an_order_twice() {
    use pennant_daemon::venue::{ExecutionReport as R, Venue, VenueEvent};
    let fake = market();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let rx = std::sync::Mutex::new(rx);
    let mut venue = binance_venue(&fake, None, &runtime, tx, |event| event);
    let recv = || Some(next_from(&runtime, &mut rx.lock().unwrap()));
    let next = || match recv() {
        Some(VenueEvent::Reports(reports)) => reports,
        other => panic!("{other:?}"),
    };
    let bid = |id: u64, price: &str| {
        order(
            id,
            OrderRequest::limit(1, Side::Buy, px(price), qty("0.001")),
        )
    };
    let mut out = Vec::new();

    venue.submit(bid(1, "49000"), 0, &mut out);
    assert!(out.is_empty(), "the answer comes later");
    assert!(matches!(next()[..], [R::Accepted { id: 1, .. }]));

    // The same client order id again: refused there.
    let mut duplicate = bid(2, "49000");
    duplicate.client_id = ClientOrderIds::new("desk").unwrap().of(1);
    venue.submit(duplicate, 0, &mut out);
    assert!(matches!(next()[..], [R::Rejected { id: 2, .. }]));

    // Taken, and the answer lost: unknown at once, then known by asking.
    fake.inject(Fault::ServerErrorAfterAccept);
    venue.submit(bid(3, "48000"), 0, &mut out);
    assert!(matches!(
        next()[..],
        [R::Unknown { id: 3, .. }, R::Accepted { id: 3, .. }]
    ));

    // Taken, and the answer too late for the client's timeout: the same.
    fake.inject(Fault::AnswerAfter(30_000));
    venue.submit(bid(5, "47000"), 0, &mut out);
    assert!(matches!(
        next()[..],
        [R::Unknown { id: 5, .. }, R::Accepted { id: 5, .. }]
    ));

    venue.cancel(1, 0, &mut out);
    assert!(matches!(next()[..], [R::Canceled { id: 1, .. }]));
    venue.cancel(1, 0, &mut out);
    assert!(matches!(next()[..], [R::CancelRejected { id: 1, .. }]));
    venue.cancel(99, 0, &mut out);
    assert!(out.is_empty(), "asked by its client id");
    assert!(matches!(next()[..], [R::CancelRejected { id: 99, .. }]));
    // An order of this daemon that only Binance knows (a previous run's, unrecorded) is
    // canceled by its client id.
    let unrecorded = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=40000&newClientOrderId=desk-50";
    assert_eq!(
        signed(&fake, "POST", "/api/v3/order", unrecorded, SECRET, 0).status,
        200
    );
    venue.cancel(50, 0, &mut out);
    assert!(matches!(next()[..], [R::Canceled { id: 50, .. }]));

    // The account, as a reconnect's reconciliation takes it: this daemon's open order with
    // what it filled, another client's counted and left alone, the balances.
    let theirs = "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.001&price=60000&newClientOrderId=web_1";
    let placed = signed(&fake, "POST", "/api/v3/order", theirs, SECRET, 0);
    assert_eq!(placed.status, 200, "{}", placed.body);
    fake.set_balance("USDT", px("1000"), px("48"));
    fake.set_balance("BTC", px("0.5"), px("0"));
    assert!(venue.snapshot().is_none(), "the account comes later");
    match recv() {
        Some(VenueEvent::Snapshot(account)) => {
            assert_eq!(account.open, [(3, qty("0")), (5, qty("0"))]);
            assert_eq!(account.others, 1);
            assert_eq!(account.sent_up_to, Some(5), "the orders it had been sent");
            assert_eq!(
                account.balances,
                [
                    ("USDT".to_owned(), amount("1000"), amount("48")),
                    ("BTC".to_owned(), amount("0.5"), amount("0"))
                ]
            );
        }
        other => panic!("{other:?}"),
    }

    let at_binance: Vec<_> = fake
        .orders()
        .iter()
        .map(|o| (o.client_id.clone(), o.status.clone()))
        .collect();
    assert_eq!(
        at_binance,
        [
            ("desk-1".to_owned(), "CANCELED".to_owned()),
            ("desk-3".to_owned(), "NEW".to_owned()),
            ("desk-5".to_owned(), "NEW".to_owned()),
            ("desk-50".to_owned(), "CANCELED".to_owned()),
            ("web_1".to_owned(), "NEW".to_owned())
        ]
    );
    drop(venue);
    drop(runtime);
}

/// The engine trading through the Binance venue on the fake exchange: a market maker's
/// quotes go out as LIMIT_MAKER orders with this daemon's client order ids, their answers
/// come back as engine inputs, and the kill switch cancels them there.
#[test]
fn the_engine_trades_through_the_binance_venue() {
    use pennant_daemon::engine::{Engine, EngineInput, EngineSettings, Query, QueryAnswer};
    use pennant_daemon::market::{Instruments, MarketEvent};
    use pennant_daemon::plugin::PluginSettings;
    use pennant_daemon::records::OrderState;
    use std::sync::Arc;

    let fake = market();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let index = 0;
    // The daemon's wrapping: the venue's index, in configuration order.
    let venue = binance_venue(&fake, None, &runtime, tx, move |event| EngineInput::Venue {
        venue: index,
        event,
    });
    let cache = tempfile::tempdir().unwrap();
    let instruments = Arc::new(Instruments::new([pennant_sdk::testing::instrument(
        0, "BTC-USDT", "0.01", "0.00001",
    )]));
    let mut engine = Engine::builder(
        instruments,
        PluginSettings {
            memory_limit_bytes: 16 << 20,
            call_budget: Duration::from_secs(1),
            cache_dir: cache.path().to_owned(),
            seed: 1,
        },
    )
    .venues(vec![Box::new(venue)], vec![0])
    .client_ids(ClientOrderIds::new("desk").unwrap())
    .settings(EngineSettings::default())
    .build()
    .unwrap();
    engine
        .start_strategy(support::native_market_maker(&[
            ("instrument", "BTC-USDT"),
            ("qty", "0.001"),
            ("max_position", "0.01"),
            ("half_spread_bps", "2"),
        ]))
        .unwrap();
    let open = |engine: &Engine| {
        let QueryAnswer::OpenOrders(open) = engine.query(&Query::OpenOrders { strategy: None })
        else {
            panic!("asked for open orders")
        };
        open.into_iter()
            .map(|(o, _)| (o.venue_client_id, o.status))
            .collect::<Vec<_>>()
    };
    // Feeds the venue's answers to the engine, as the daemon's sink does, until `done`.
    let mut answer_until = |engine: &mut Engine, done: &dyn Fn(&Engine) -> bool| {
        while !done(engine) {
            engine.step(next_from(&runtime, &mut rx));
        }
    };

    engine.on_market(&MarketEvent::Quote(pennant_sdk::Quote {
        instrument: 1,
        ts: 1_700_000_000_000_000_000,
        bid_price: px("50000"),
        bid_qty: qty("1"),
        ask_price: px("50001"),
        ask_qty: qty("1"),
    }));
    answer_until(&mut engine, &|e| {
        let o = open(e);
        o.len() == 2 && o.iter().all(|(_, s)| *s == OrderState::Accepted)
    });
    assert_eq!(
        open(&engine)
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>(),
        ["desk-1", "desk-2"]
    );
    let kinds: Vec<_> = fake
        .orders()
        .iter()
        .map(|o| (o.kind.clone(), o.status.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("LIMIT_MAKER".to_owned(), "NEW".to_owned()),
            ("LIMIT_MAKER".to_owned(), "NEW".to_owned())
        ]
    );

    // The kill switch cancels both at Binance.
    engine
        .kill_switch(&pennant_daemon::risk::Scope::Global, "ops")
        .unwrap();
    answer_until(&mut engine, &|e| open(e).is_empty());
    assert!(
        fake.orders().iter().all(|o| o.status == "CANCELED"),
        "{:?}",
        fake.orders()
    );
    drop(engine);
    drop(runtime);
}

/// Reports from the venue until `done` holds over all of them; the snapshots seen.
fn reports_until(
    runtime: &tokio::runtime::Runtime,
    rx: &mut tokio::sync::mpsc::Receiver<pennant_daemon::venue::VenueEvent>,
    seen: &mut Vec<pennant_daemon::venue::ExecutionReport>,
    snapshots: &mut Vec<pennant_daemon::venue::VenueSnapshot>,
    done: impl Fn(&[pennant_daemon::venue::ExecutionReport], usize) -> bool,
) {
    use pennant_daemon::venue::VenueEvent;
    while !done(seen, snapshots.len()) {
        match next_from(runtime, rx) {
            VenueEvent::Reports(reports) => seen.extend(reports),
            VenueEvent::Snapshot(snapshot) => snapshots.push(snapshot),
            VenueEvent::Balances(_) | VenueEvent::Banned { .. } | VenueEvent::Unrecorded(_) => {}
        }
    }
}

fn fills_of(seen: &[pennant_daemon::venue::ExecutionReport], order: u64) -> Vec<pennant_sdk::Qty> {
    seen.iter()
        .filter_map(|r| match r {
            pennant_daemon::venue::ExecutionReport::Fill { id, qty, .. } if *id == order => {
                Some(*qty)
            }
            _ => None,
        })
        .collect()
}

/// Fills come from the user data stream, each trade once even when Binance sends it
/// twice; a fill made while the stream was away comes from `myTrades` once it is back,
/// before the snapshot that reconciles the open orders.
#[test]
fn the_user_stream_brings_fills_and_none_is_lost_while_it_is_away() {
    use pennant_daemon::venue::{ExecutionReport as R, Venue};
    let fake = market();
    let (runtime, mut rx, mut venue) = streaming_venue(&fake, stream_of(&fake, None));
    let (mut seen, mut snapshots, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let bid = |id: u64, price: &str| {
        order(
            id,
            OrderRequest::limit(1, Side::Buy, px(price), qty("0.002")),
        )
    };

    venue.submit(bid(1, "49000"), 0, &mut out);
    // Accepted twice: by the REST answer and by the stream's NEW (the engine books one).
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        s.iter()
            .filter(|r| matches!(r, R::Accepted { id: 1, .. }))
            .count()
            == 2
    });
    fake.duplicate_events(true);
    fake.set_book("BTCUSDT", px("48000"), px("49000"));
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        !fills_of(s, 1).is_empty()
    });
    let fill = seen
        .iter()
        .find(|r| matches!(r, R::Fill { id: 1, .. }))
        .cloned();
    let Some(R::Fill {
        price,
        qty: filled,
        fee,
        liquidity,
        ..
    }) = fill
    else {
        panic!("{seen:?}");
    };
    assert_eq!(
        (price, filled, liquidity),
        (px("49000"), qty("0.002"), pennant_sdk::Liquidity::Maker)
    );
    // 0.1% of the 0.002 BTC bought, valued at the trade's price.
    assert_eq!(fee, amount("0.098"));
    fake.duplicate_events(false);

    venue.submit(bid(2, "48500"), 0, &mut out);
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        s.iter()
            .filter(|r| matches!(r, R::Accepted { id: 2, .. }))
            .count()
            == 2
    });
    // The stream goes away; the order fills meanwhile; the event is lost with it.
    fake.refuse_user_streams(true);
    fake.close_user_streams();
    fake.set_book("BTCUSDT", px("47000"), px("48000"));
    assert_eq!(fake.orders()[1].status, "FILLED");
    fake.refuse_user_streams(false);
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |_, n| n == 1);
    assert_eq!(fake.user_stream_subscriptions(), 2);
    assert_eq!(
        fills_of(&seen, 1),
        [qty("0.002")],
        "the duplicated trade is booked once"
    );
    assert_eq!(
        fills_of(&seen, 2),
        [qty("0.002")],
        "the trade made while away is found again"
    );
    assert!(snapshots[0].open.is_empty(), "{:?}", snapshots[0]);
    let (fill_at, snapshot_at) = (
        seen.iter().position(|r| matches!(r, R::Fill { id: 2, .. })),
        seen.len(),
    );
    assert!(
        fill_at.is_some_and(|at| at < snapshot_at),
        "the fill comes before the snapshot"
    );
    drop(venue);
    drop(runtime);
}

/// Without the user data stream for `cancel_after`, this daemon's open orders are
/// canceled at Binance (and other clients' are not).
#[test]
fn open_orders_are_canceled_when_the_stream_stays_away() {
    use pennant_daemon::venue::{ExecutionReport as R, Venue};
    let fake = market();
    let stream = stream_of(&fake, Some(Duration::from_millis(300)));
    let (runtime, mut rx, mut venue) = streaming_venue(&fake, stream);
    let theirs = "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.001&price=60000&newClientOrderId=web_1";
    assert_eq!(
        signed(&fake, "POST", "/api/v3/order", theirs, SECRET, 0).status,
        200
    );
    let (mut seen, mut snapshots, mut out) = (Vec::new(), Vec::new(), Vec::new());
    venue.submit(
        order(
            1,
            OrderRequest::limit(1, Side::Buy, px("49000"), qty("0.001")),
        ),
        0,
        &mut out,
    );
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        s.iter().any(|r| matches!(r, R::Accepted { id: 1, .. }))
    });
    fake.refuse_user_streams(true);
    fake.close_user_streams();
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        s.iter().any(|r| matches!(r, R::Canceled { id: 1, .. }))
    });
    let statuses: Vec<_> = fake
        .orders()
        .iter()
        .map(|o| (o.client_id.clone(), o.status.clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("web_1".to_owned(), "NEW".to_owned()),
            ("desk-1".to_owned(), "CANCELED".to_owned())
        ]
    );
    drop(venue);
    drop(runtime);
}

const VIEWER: &str = "viewer-secret";

/// The synthetic walk of BTC-USDT around 50000, every 20 ms.
const SYNTHETIC_FEED: &str = r#"
[[feed]]
name = "synthetic"
kind = "synthetic"
interval_ms = 20
instruments.BTC-USDT = { start_price = "50000", step_bps = 1, trade_percent = 0 }
"#;

/// A daemon trading BTC-USDT on the fake through `[[venue]] kind = "binance"`: a market
/// maker quoting on the prices of `feed` (a `[[feed]]` table), its API on a free port;
/// `tick_size` as configured.
fn daemon_config(
    dir: &std::path::Path,
    fake: &FakeBinance,
    tick_size: &str,
    feed: &str,
) -> std::path::PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "state"

[api]
listen = "127.0.0.1:0"

[[api.token]]
name = "viewer"
role = "viewer"
sha256 = "{viewer}"

[plugins]
dir = "{strategies}"
call_budget_ms = 5000

[[venue]]
name = "binance"
kind = "binance"
rest_url = "{rest}"
ws_api_url = "{ws}"
reconnect_min_ms = 50
reconnect_max_ms = 200

[[instrument]]
symbol = "BTC-USDT"
tick_size = "{tick_size}"
lot_size = "0.00001"
min_notional = "5"
venue = "binance"
{feed}
[[strategy]]
id = "mm"
component = "market_maker.wasm"
params = {{ instrument = "BTC-USDT", qty = "0.001", max_position = "0.01", half_spread_bps = 2, requote_ticks = 100000 }}
"#,
        viewer = pennant_daemon::api::hash_token(VIEWER),
        strategies = support::components_dir().display(),
        rest = fake.base_url(),
        ws = fake.ws_api_url(),
    );
    let path = dir.join("pennant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `pennantd` quoting BTC-USDT on the fake with the synthetic feed: its folder (kept
/// while the daemon runs), the daemon and its API.
fn start_on(fake: &FakeBinance) -> (tempfile::TempDir, support::Daemon, support::api::Api) {
    let dir = tempfile::tempdir().unwrap();
    let (daemon, api) = start_in(dir.path(), fake);
    (dir, daemon, api)
}

/// `pennantd` as [`start_on`] starts it, in `dir` (again, after a restart: the same
/// store).
fn start_in(dir: &std::path::Path, fake: &FakeBinance) -> (support::Daemon, support::api::Api) {
    let config = daemon_config(dir, fake, "0.01", SYNTHETIC_FEED);
    let env = [("BINANCE_API_KEY", KEY), ("BINANCE_API_SECRET", SECRET)];
    let daemon = support::Daemon::start_with_env(&["--config", config.to_str().unwrap()], &env);
    let api = support::api::Api::of(&daemon);
    (daemon, api)
}

/// The market maker's bid, once it rests at the fake.
fn resting_bid(fake: &FakeBinance) -> pennant_testkit::binance::FakeOrder {
    support::poll("the market maker's bid at Binance", || {
        fake.orders()
            .into_iter()
            .find(|o| o.status == "NEW" && o.side == "BUY")
    })
}

/// The market maker's fills the daemon booked (the fills API).
fn booked_fills(api: &support::api::Api) -> Vec<serde_json::Value> {
    let fills = api.ok("GET", "/api/v1/fills?strategy=mm", VIEWER, None);
    fills["items"].as_array().cloned().unwrap_or_default()
}

/// New orders the fake received (`POST /api/v3/order`), taken or not.
fn posts(fake: &FakeBinance) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.starts_with("POST /api/v3/order"))
        .count()
}

/// The real `pennantd` on the fake exchange: its quotes go out with the daemon's client
/// order ids, a quote the market trades through comes back as a fill from the user data
/// stream, and is booked (fills API) on the `binance` venue.
#[test]
fn pennantd_trades_on_binance_through_its_configuration() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    // Far from the quotes: they rest.
    fake.set_book("BTCUSDT", px("1"), px("1000000"));
    let (_dir, daemon, api) = start_on(&fake);
    let resting = support::poll("the market maker's quotes at Binance", || {
        let orders = fake.orders();
        let quotes: Vec<_> = orders
            .iter()
            .filter(|o| o.status == "NEW" && o.client_id.starts_with("pennant-"))
            .cloned()
            .collect();
        (quotes.len() == 2 && fake.user_stream_subscriptions() >= 1).then_some(quotes)
    });
    assert!(
        resting.iter().all(|o| o.kind == "LIMIT_MAKER"),
        "{resting:?}"
    );
    let bid = resting.iter().find(|o| o.side == "BUY").cloned().unwrap();
    // The market comes down through the bid: it fills, as a maker, at its price.
    fake.set_book("BTCUSDT", px("1"), bid.price);
    let fills = support::poll("the fill, booked", || {
        let fills = booked_fills(&api);
        (!fills.is_empty()).then_some(fills)
    });
    assert_eq!(fills[0]["venue"], "binance", "{}", fills[0]);
    assert_eq!(fills[0]["side"], "buy", "{}", fills[0]);
    assert_eq!(fills[0]["qty"], "0.001", "{}", fills[0]);
    assert_eq!(fake.trades().len(), 1, "{:?}", fake.trades());
    daemon.stop();
    // Stopping cancels the strategy's open orders (open_orders = "cancel"): at Binance.
    let left: Vec<_> = fake
        .orders()
        .into_iter()
        .filter(|o| matches!(o.status.as_str(), "NEW" | "PARTIALLY_FILLED"))
        .collect();
    assert!(left.is_empty(), "still open at Binance: {left:?}");
    assert!(
        fake.orders().iter().any(|o| o.status == "CANCELED"),
        "{:?}",
        fake.orders()
    );
}

/// Missing keys, and an instrument configured unlike the exchange lists it, stop the
/// start, naming the key (and both values).
#[test]
fn pennantd_refuses_an_instrument_binance_disagrees_with() {
    let fake = market();
    let dir = tempfile::tempdir().unwrap();
    let config = daemon_config(dir.path(), &fake, "0.1", SYNTHETIC_FEED);
    // Without keys: refused before anything is asked of Binance.
    let (status, output) = support::Daemon::start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("BINANCE_API_KEY", ""), ("BINANCE_API_SECRET", "")],
    )
    .wait_exit();
    assert_eq!(status.code(), Some(78));
    assert!(output.join("\n").contains("BINANCE_API_KEY"), "{output:?}");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    let env = [("BINANCE_API_KEY", KEY), ("BINANCE_API_SECRET", SECRET)];
    let (status, output) =
        support::Daemon::start_with_env(&["--config", config.to_str().unwrap()], &env).wait_exit();
    assert_eq!(status.code(), Some(78), "a configuration error");
    let text = output.join("\n");
    assert!(
        text.contains("tick_size is 0.1 in the configuration, 0.01 at Binance"),
        "{text}"
    );
    assert!(fake.orders().is_empty());
}

/// `pennantd` killed (-9) with a quote resting at Binance, the quote filled while it is
/// down: the restart recovers the order, finds the trade by asking Binance, and books
/// the fill once.
#[test]
fn a_fill_made_while_pennantd_was_down_is_booked_after_the_restart() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("1"), px("1000000"));
    let dir = tempfile::tempdir().unwrap();
    let (daemon, api) = start_in(dir.path(), &fake);
    let bid = support::poll("the market maker's bid at Binance, recorded", || {
        let bid = fake
            .orders()
            .into_iter()
            .find(|o| o.status == "NEW" && o.side == "BUY")?;
        let open = api.ok("GET", "/api/v1/orders?strategy=mm", VIEWER, None);
        let recorded = open["items"]
            .as_array()?
            .iter()
            .any(|o| o["venue_client_id"] == bid.client_id.as_str());
        recorded.then_some(bid)
    });
    daemon.signal("KILL");
    let _ = daemon.wait_exit();
    fake.set_book("BTCUSDT", px("1"), bid.price);
    assert_eq!(fake.trades().len(), 1);

    let (daemon, api) = start_in(dir.path(), &fake);
    let fills = support::poll("the fill made while down, booked", || {
        let fills = booked_fills(&api);
        (!fills.is_empty()).then_some(fills)
    });
    assert_eq!(fills.len(), 1, "{fills:?}");
    assert_eq!(
        (&fills[0]["venue"], &fills[0]["side"], &fills[0]["qty"]),
        (
            &serde_json::json!("binance"),
            &serde_json::json!("buy"),
            &serde_json::json!("0.001")
        ),
        "{}",
        fills[0]
    );
    assert_eq!(fake.trades().len(), 1);
    daemon.wait_for(&["a fill made while the daemon was down"]);
    daemon.stop();
}

/// The next market event from the feed that `accept` takes, `nudge` called every
/// 200 ms until it comes (a nudge made while the feed reconnects reaches no one, as at
/// Binance).
fn market_event<T>(
    runtime: &tokio::runtime::Runtime,
    rx: &mut tokio::sync::mpsc::Receiver<pennant_daemon::engine::EngineInput>,
    nudge: impl Fn(),
    accept: impl Fn(&MarketEvent) -> Option<T>,
) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no such market event in 30 s"
        );
        nudge();
        let input = runtime
            .block_on(async { tokio::time::timeout(Duration::from_millis(200), rx.recv()).await });
        if let Ok(Some(pennant_daemon::engine::EngineInput::Market { events, .. })) = input {
            if let Some(found) = events.iter().find_map(&accept) {
                return found;
            }
        }
    }
}

/// A `binance` feed of BTC-USDT on the fake, its tasks in `runtime`: its instruments,
/// metrics, what it sends the engine, and its tasks.
fn binance_feed(
    fake: &FakeBinance,
    runtime: &tokio::runtime::Runtime,
    quiet: Duration,
    depth_levels: Option<u32>,
) -> (
    Instruments,
    pennant_daemon::metrics::FeedMetrics,
    tokio::sync::mpsc::Receiver<pennant_daemon::engine::EngineInput>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let instruments = Instruments::new([pennant_sdk::testing::instrument(
        0, "BTC-USDT", "0.01", "0.00001",
    )]);
    let config = pennant_daemon::config::BinanceFeedConfig {
        url: fake.market_stream_url(),
        symbols: vec!["BTC-USDT".into()],
        quiet,
        reconnect_min: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(100),
        depth_levels,
        rest_url: fake.base_url().to_owned(),
    };
    let metrics = pennant_daemon::metrics::FeedMetrics::detached();
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let tasks = {
        let _context = runtime.enter();
        pennant_daemon::feed::binance::spawn(
            "binance".into(),
            config,
            &instruments,
            tx,
            metrics.clone(),
        )
    };
    (instruments, metrics, rx, tasks)
}

/// The `binance` feed on the fake's market streams: one combined connection for the
/// trades and book tickers of its symbols, normalized into events (a trade at the
/// exchange's time); a malformed message counted and skipped; the connection made again
/// after Binance closes it, announces a shutdown, goes quiet or refuses for a while,
/// each counted by reason.
#[test]
fn the_binance_feed_brings_trades_and_quotes_and_connects_again_when_lost() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (instruments, metrics, mut rx, tasks) =
        binance_feed(&fake, &runtime, Duration::from_millis(1_000), None);
    assert_eq!(tasks.len(), 1);
    let connected = || (metrics.connected.get() == 1).then_some(());
    support::poll("the feed connected", connected);
    assert_eq!(
        fake.market_stream_requests()[0],
        "streams=btcusdt@trade/btcusdt@bookTicker"
    );
    let book = || fake.set_book("BTCUSDT", px("50000"), px("50001.5"));
    let quote = market_event(&runtime, &mut rx, book, |e| match e {
        MarketEvent::Quote(q) => Some(*q),
        _ => None,
    });
    assert_eq!(
        (
            quote.instrument,
            quote.bid_price,
            quote.ask_price,
            quote.bid_qty
        ),
        (
            instruments.by_symbol("BTC-USDT").map(|i| i.id).unwrap(),
            px("50000"),
            px("50001.5"),
            qty("1")
        )
    );
    let before = pennant_daemon::engine::clock::wall_now();
    let print = || fake.print_trade("BTCUSDT", px("50000.5"), qty("0.002"), true);
    let trade = market_event(&runtime, &mut rx, print, |e| match e {
        MarketEvent::Trade(t) => Some(*t),
        _ => None,
    });
    assert_eq!(
        (trade.price, trade.qty, trade.aggressor),
        (px("50000.5"), qty("0.002"), Side::Sell),
        "the buyer made the market: the seller took"
    );
    // The exchange's time, in whole milliseconds.
    assert_eq!(trade.ts % 1_000_000, 0);
    assert!(
        (trade.ts - before).abs() < 60_000_000_000,
        "{} vs {before}",
        trade.ts
    );
    assert_eq!(
        (metrics.trades.get() >= 1, metrics.quotes.get() >= 1),
        (true, true)
    );

    fake.send_market_raw(
        r#"{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","p":"x"}}"#,
    );
    support::poll("the malformed message counted", || {
        (metrics.malformed.get() == 1).then_some(())
    });

    let faults: [(&str, &dyn Fn(), &prometheus::IntCounter); 3] = [
        (
            "closed",
            &|| fake.close_market_streams(),
            &metrics.disconnects.closed,
        ),
        (
            "shutdown",
            &|| fake.announce_server_shutdown(),
            &metrics.disconnects.closed,
        ),
        (
            "quiet",
            &|| fake.quiet_market_streams(true),
            &metrics.disconnects.quiet,
        ),
    ];
    for (name, fault, counter) in faults {
        let (connections, lost) = (fake.market_stream_requests().len(), counter.get());
        fault();
        support::poll(&format!("{name}: connected again"), || {
            (fake.market_stream_requests().len() > connections && counter.get() > lost)
                .then_some(())
        });
        fake.quiet_market_streams(false);
        support::poll(&format!("{name}: up"), connected);
        // Data flows on the new connection.
        market_event(&runtime, &mut rx, book, |e| {
            matches!(e, MarketEvent::Quote(_)).then_some(())
        });
    }

    fake.refuse_market_streams(true);
    fake.close_market_streams();
    support::poll("refused twice, not connected", || {
        (fake.market_streams_refused() >= 2 && metrics.connected.get() == 0).then_some(())
    });
    fake.refuse_market_streams(false);
    support::poll("connected after the refusals", connected);
    market_event(&runtime, &mut rx, book, |e| {
        matches!(e, MarketEvent::Quote(_)).then_some(())
    });
    drop(rx);
    drop(runtime);
}

/// The `binance` feed with `depth_levels` keeps each symbol's order book as Binance
/// documents it: the diff depth stream buffered, a REST snapshot, buffered events
/// dropped or applied by their ids; and when the stream loses an event, repeats one,
/// sends two out of order, or the connection is lost, the book it hands the engine still
/// ends as the exchange's (a gap and a reconnect each sync it again from a snapshot).
#[test]
fn the_binance_feed_keeps_the_order_book_through_gaps_duplicates_and_reordering() {
    use pennant_sdk::book::OrderBook;
    use pennant_testkit::binance::DepthFault;
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_, metrics, mut rx, _tasks) =
        binance_feed(&fake, &runtime, Duration::from_secs(30), Some(1000));
    support::poll("the feed connected", || {
        (metrics.connected.get() == 1).then_some(())
    });
    assert_eq!(
        fake.market_stream_requests()[0],
        "streams=btcusdt@trade/btcusdt@bookTicker/btcusdt@depth@100ms"
    );
    let mut book = OrderBook::new();
    // Reads the feed's book levels into `book` until it is the exchange's.
    let mut in_sync = |book: &mut OrderBook, what: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (bids, asks) = fake.depth("BTCUSDT");
            let ours = |levels: Vec<pennant_sdk::book::Level>| -> Vec<_> {
                levels.iter().map(|l| (l.price, l.qty)).collect()
            };
            if book.is_synced()
                && ours(book.bids().collect()) == bids
                && ours(book.asks().collect()) == asks
            {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: the book is not the exchange's in 30 s"
            );
            let input = runtime.block_on(async {
                tokio::time::timeout(Duration::from_millis(100), rx.recv()).await
            });
            if let Ok(Some(pennant_daemon::engine::EngineInput::Market { events, .. })) = input {
                for event in events {
                    if let MarketEvent::Book(level) = event {
                        assert_eq!(level.instrument, 1);
                        // Every level the feed sends applies: nothing stale, nothing
                        // before a snapshot.
                        book.apply(&level).unwrap();
                    }
                }
            }
        }
    };
    let level = |p: &str, q: &str| (px(p), qty(q));
    fake.change_depth(
        "BTCUSDT",
        &[level("50000", "1"), level("49999", "2")],
        &[level("50001", "1"), level("50002", "3")],
        3,
    );
    in_sync(&mut book, "first snapshot");
    assert_eq!(fake.depth_snapshots(), ["BTCUSDT"]);
    let mut step = 0;
    let mut change = |fake: &FakeBinance| {
        step += 1;
        let price = format!("{}", 49990 + step % 9);
        let ask = format!("{}", 50002 + step % 7);
        fake.change_depth(
            "BTCUSDT",
            &[level(&price, &format!("{}", step % 3))],
            &[level(&ask, &format!("{}", (step + 1) % 4))],
            1 + step as u64 % 3,
        );
    };
    for _ in 0..5 {
        change(&fake);
    }
    in_sync(&mut book, "updates");
    assert_eq!(fake.depth_snapshots().len(), 1, "no gap, no new snapshot");

    for (fault, resyncs) in [
        (DepthFault::Duplicate, 0),
        (DepthFault::Hold, 1),
        (DepthFault::Lose, 1),
    ] {
        let before = fake.depth_snapshots().len();
        fake.inject_depth(fault);
        for _ in 0..3 {
            change(&fake);
        }
        in_sync(&mut book, &format!("{fault:?}"));
        support::poll(&format!("{fault:?}: snapshots"), || {
            (fake.depth_snapshots().len() == before + resyncs).then_some(())
        });
    }

    let before = fake.depth_snapshots().len();
    let connections = fake.market_stream_requests().len();
    fake.close_market_streams();
    support::poll("connected again", || {
        (fake.market_stream_requests().len() > connections && metrics.connected.get() == 1)
            .then_some(())
    });
    // Changes while away are missed; the first event after it syncs the book again.
    change(&fake);
    support::poll("a snapshot after the reconnect", || {
        if fake.depth_snapshots().len() > before {
            return Some(());
        }
        change(&fake);
        None
    });
    in_sync(&mut book, "after the reconnect");
    // Snapshots are paced within the feed's share of the request weight: 1000 levels
    // weigh 50, one a second at 3000 a minute.
    let asked: Vec<std::time::Instant> = fake
        .requests_at()
        .into_iter()
        .filter(|(_, r)| r == "GET /api/v3/depth")
        .map(|(at, _)| at)
        .collect();
    assert_eq!(asked.len(), fake.depth_snapshots().len());
    for pair in asked.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(900),
            "snapshots {:?} apart",
            pair[1] - pair[0]
        );
    }
    assert!(metrics.book.get() > 0);
    assert_eq!(metrics.malformed.get(), 0);
    drop(rx);
    drop(runtime);
}

/// `pennantd` with the `binance` feed as its only market data: while the market streams
/// refuse it, the daemon is not ready (no `READY=1`, `/readyz` 503 naming the feed);
/// once they take it, `READY=1` follows, and the market maker quotes around the book
/// Binance streams.
#[test]
fn pennantd_is_ready_once_its_binance_feed_is_connected_and_quotes_on_its_prices() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.refuse_market_streams(true);
    let dir = tempfile::tempdir().unwrap();
    let feed = format!(
        "\n[[feed]]\nname = \"binance\"\nkind = \"binance\"\nurl = \"{}\"\nsymbols = [\"BTC-USDT\"]\nreconnect_min_ms = 20\nreconnect_max_ms = 100\ndepth_levels = 100\nrest_url = \"{}\"\n",
        fake.market_stream_url(),
        fake.base_url()
    );
    let config = daemon_config(dir.path(), &fake, "0.01", &feed);
    let socket = dir.path().join("notify.sock");
    let notifications = support::notify::Notifications::listen(&socket);
    let daemon = support::Daemon::start_with_env(
        &["--config", config.to_str().unwrap()],
        &[
            ("BINANCE_API_KEY", KEY),
            ("BINANCE_API_SECRET", SECRET),
            ("NOTIFY_SOCKET", socket.to_str().unwrap()),
        ],
    );
    let api = support::api::Api::of(&daemon);
    let unready = support::poll("refused twice, the API up and unready", || {
        let reply = api.call("GET", "/readyz", None, None);
        (fake.market_streams_refused() >= 2 && reply.status == 503).then_some(reply)
    });
    assert!(
        unready.body.contains("feed binance is not connected"),
        "{}",
        unready.body
    );
    let said: Vec<String> = notifications.all().into_iter().map(|(_, m)| m).collect();
    assert!(!said.iter().any(|m| m.contains("READY=1")), "{said:?}");
    assert!(
        said.iter()
            .any(|m| m.contains("STATUS=waiting for feeds: binance")),
        "{said:?}"
    );
    fake.refuse_market_streams(false);
    notifications.wait_for("READY=1", 0);
    assert_eq!(api.call("GET", "/readyz", None, None).status, 200);
    // The book at Binance, streamed until the market maker quotes around it.
    let quotes = support::poll("quotes around Binance's book", || {
        fake.set_book("BTCUSDT", px("60000"), px("60001"));
        let quotes: Vec<_> = fake
            .orders()
            .into_iter()
            .filter(|o| o.status == "NEW" && o.client_id.starts_with("pennant-"))
            .collect();
        (quotes.len() == 2).then_some(quotes)
    });
    for quote in &quotes {
        assert!(
            quote.price > px("59900") && quote.price < px("60100"),
            "{quote:?}"
        );
    }
    let metrics = api.call("GET", "/metrics", None, None).body;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with(r#"pennant_feed_connected{feed="binance"} 1"#)),
        "{metrics}"
    );
    // With depth_levels, Binance's book reaches the engine: synced from a snapshot, then
    // kept from the diff stream.
    support::poll("the book in the engine", || {
        fake.change_depth(
            "BTCUSDT",
            &[(px("60000"), qty("2"))],
            &[(px("60001"), qty("3"))],
            2,
        );
        let metrics = api.call("GET", "/metrics", None, None).body;
        let book = metrics.lines().find_map(|l| {
            l.strip_prefix(r#"pennant_market_events_total{feed="binance",type="book"} "#)
        });
        let levels: u64 = book.and_then(|n| n.parse().ok()).unwrap_or(0);
        (levels >= 4 && metrics.contains(r#"pennant_book_is_crossed{instrument="BTC-USDT"} 0"#))
            .then_some(())
    });
    assert_eq!(fake.depth_snapshots(), ["BTCUSDT"]);
    daemon.stop();
}

/// The refusals of contract 0.2: an order that would pass the venue's budget is refused
/// before it is sent (`venue_rate_budget`), and so is one during a 429's wait; Binance's
/// "insufficient balance" is `insufficient_balance`; a symbol Binance does not trade is
/// refused unsent (`symbol_not_trading`).
#[test]
fn the_venues_own_refusals_have_their_own_codes() {
    use pennant_daemon::venue::{ExecutionReport as R, Venue, VenueEvent};
    let fake = market();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let mut rest = fake_client(&fake);
    let info = call(&fake, "GET", "/api/v3/exchangeInfo", "", KEY);
    rest.budget = rate_limits::RateBudget::new(rate_limits::parse(&info.body).unwrap());
    let symbol = |trading| Symbol {
        name: "BTCUSDT".into(),
        base: "BTC".into(),
        quote: "USDT".into(),
        trading,
    };
    let setup = BinanceSetup {
        name: "binance".into(),
        rest,
        symbols: [(1, symbol(true)), (2, symbol(false))]
            .into_iter()
            .collect(),
        ids: ClientOrderIds::new("desk").unwrap(),
        stream: None,
        on_ban: pennant_daemon::records::TradingState::Halted,
        clock_resync: Duration::from_millis(200),
    };
    let (mut venue, _task) = BinanceVenue::spawn(setup, runtime.handle(), tx, |event| event);
    let mut next = || match next_from(&runtime, &mut rx) {
        VenueEvent::Reports(reports) => reports,
        other => panic!("{other:?}"),
    };
    let bid = |id: u64, instrument| {
        order(
            id,
            OrderRequest::limit(instrument, Side::Buy, px("49000"), qty("0.001")),
        )
    };
    let mut out = Vec::new();
    venue.submit(bid(1, 1), 0, &mut out);
    assert!(matches!(next()[..], [R::Accepted { id: 1, .. }]));
    let refused = |reports: &[R]| match reports {
        [R::Rejected { reason, .. }] => Some(*reason),
        _ => None,
    };
    // Binance's answer: not enough USDT.
    fake.set_balance("USDT", px("10"), px("0"));
    venue.submit(bid(2, 1), 0, &mut out);
    assert_eq!(refused(&next()), Some(RejectReason::InsufficientBalance));
    fake.set_balance("USDT", px("100000"), px("0"));
    // A 429: the order it answered and the one after, unsent, wait it out.
    fake.inject(Fault::TooManyRequests(1));
    venue.submit(bid(3, 1), 0, &mut out);
    assert_eq!(refused(&next()), Some(RejectReason::VenueRateBudget));
    let sent = posts(&fake);
    venue.submit(bid(4, 1), 0, &mut out);
    assert_eq!(refused(&next()), Some(RejectReason::VenueRateBudget));
    assert_eq!(
        posts(&fake),
        sent,
        "nothing is sent before Retry-After ends"
    );
    let mut id = 10;
    support::poll("an order taken after the wait", || {
        id += 1;
        venue.submit(bid(id, 1), 0, &mut out);
        matches!(next()[..], [R::Accepted { .. }]).then_some(())
    });
    // Other clients of the account used the 10-second order budget but one; the next
    // order uses the last, and the answer says so: the one after is not sent.
    fake.use_budget(0, 49);
    venue.submit(bid(100, 1), 0, &mut out);
    assert!(matches!(next()[..], [R::Accepted { id: 100, .. }]));
    let sent = posts(&fake);
    venue.submit(bid(101, 1), 0, &mut out);
    assert_eq!(refused(&next()), Some(RejectReason::VenueRateBudget));
    assert_eq!(posts(&fake), sent, "refused before it was sent");

    venue.submit(bid(102, 2), 0, &mut out);
    assert_eq!(
        refused(&out),
        Some(RejectReason::SymbolNotTrading),
        "at once"
    );
    assert_eq!(posts(&fake), sent);
    drop(venue);
    drop(runtime);
}

/// Balances from Binance as a pre-trade check: with too little USDT and no BTC, the
/// market maker's quotes are refused before they are sent (`insufficient_balance`); the
/// balances are in the API and the metrics; once the account stream says USDT came in,
/// the bid goes out.
#[test]
fn pennantd_checks_orders_against_the_balances_binance_reports() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("1"), px("1000000"));
    fake.set_balance("USDT", px("20"), px("0"));
    fake.set_balance("BTC", px("0"), px("0"));
    let (_dir, daemon, api) = start_on(&fake);
    let metrics = support::poll("quotes refused for want of balance", || {
        let text = api.call("GET", "/metrics", None, None).body;
        text.lines()
            .any(|l| {
                l.starts_with("pennant_orders_rejected_total")
                    && l.contains(r#"reason="insufficient_balance""#)
                    && l.contains(r#"source="risk""#)
            })
            .then_some(text)
    });
    assert!(
        metrics.contains(r#"pennant_venue_balance{asset="USDT",kind="free",venue="binance"} 20"#),
        "{metrics}"
    );
    let balances = api.ok("GET", "/api/v1/balances", VIEWER, None);
    let usdt = balances["balances"]
        .as_array()
        .and_then(|list| list.iter().find(|b| b["asset"] == "USDT").cloned())
        .unwrap_or_default();
    assert_eq!(
        (&usdt["venue"], &usdt["free"], &usdt["locked"]),
        (&"binance".into(), &"20".into(), &"0".into()),
        "{balances}"
    );
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.starts_with("POST /api/v3/order")),
        "nothing was sent: {:?}",
        fake.requests()
    );
    fake.set_balance("USDT", px("100000"), px("0"));
    let bid = support::poll("the bid, once USDT is there", || {
        fake.orders().into_iter().find(|o| o.side == "BUY")
    });
    assert_eq!(bid.status, "NEW");
    assert!(
        fake.orders().iter().all(|o| o.side == "BUY"),
        "no BTC to sell: {:?}",
        fake.orders()
    );
    daemon.stop();
}

/// `pennantd check-config --online`: the keys verified with one signed request and the
/// market streams connected once; a wrong secret is a configuration error (78), market
/// streams that refuse are unavailable (69).
#[test]
fn check_config_online_asks_binance() {
    let fake = market();
    let dir = tempfile::tempdir().unwrap();
    let feed = format!(
        "\n[[feed]]\nname = \"binance\"\nkind = \"binance\"\nurl = \"{}\"\nsymbols = [\"BTC-USDT\"]\n",
        fake.market_stream_url()
    );
    let config = daemon_config(dir.path(), &fake, "0.01", &feed);
    let check = |secret: &str| {
        support::Daemon::start_with_env(
            &[
                "--config",
                config.to_str().unwrap(),
                "check-config",
                "--online",
            ],
            &[("BINANCE_API_KEY", KEY), ("BINANCE_API_SECRET", secret)],
        )
        .wait_exit()
    };
    let (status, output) = check(SECRET);
    let text = output.join("\n");
    assert!(status.success(), "{text}");
    assert!(
        text.contains("venue binance: Binance accepted the keys (canTrade true"),
        "{text}"
    );
    assert!(text.contains("feed binance: connected to ws://"), "{text}");
    let signed: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("GET /api/v3/account"))
        .collect();
    assert_eq!(signed.len(), 1, "one signed request");
    assert!(fake.orders().is_empty());

    let (status, output) = check("not-the-secret");
    assert_eq!(status.code(), Some(78), "{output:?}");
    assert!(
        output
            .join("\n")
            .contains("Binance refused a signed request with these keys"),
        "{output:?}"
    );

    fake.refuse_market_streams(true);
    let (status, output) = check(SECRET);
    assert_eq!(status.code(), Some(69), "{output:?}");
    assert!(
        output
            .join("\n")
            .contains("feed binance: cannot connect to"),
        "{output:?}"
    );
}

/// A ban (HTTP 418) while `pennantd` trades: nothing more is sent, every strategy is
/// HALTED (the venue's default `on_ban`), and the ban shows in the risk API, the
/// metrics and readiness (degraded, not unready).
#[test]
fn a_ban_halts_trading_and_shows_everywhere() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("1"), px("1000000"));
    let (_dir, daemon, api) = start_on(&fake);
    let bid = resting_bid(&fake);
    // The next request is banned: the bid fills, and the market maker's new bid meets
    // the 418.
    fake.inject(Fault::Banned(300));
    fake.set_book("BTCUSDT", px("1"), bid.price);
    let risk = support::poll("trading halted by the ban", || {
        let risk = api.ok("GET", "/api/v1/risk", VIEWER, None);
        (risk["global_state"] == "HALTED").then_some(risk)
    });
    let metrics = api.call("GET", "/metrics", None, None).body;
    let until = metrics
        .lines()
        .find_map(|l| l.strip_prefix(r#"pennant_venue_banned_until_seconds{venue="binance"} "#))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no ban gauge: {metrics}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        until > now + 200.0 && until < now + 301.0,
        "{until} vs {now}"
    );
    let ready = api.call("GET", "/readyz", None, None);
    assert_eq!(ready.status, 200, "degraded, not unready: {}", ready.body);
    assert!(
        ready.json()["degraded"]
            .to_string()
            .contains("venue binance is banned"),
        "{}",
        ready.body
    );
    let sent = posts(&fake);
    // Halted: a new price moves nothing out.
    fake.set_book("BTCUSDT", px("1"), px("1000000"));
    let events = api.ok("GET", "/api/v1/risk", VIEWER, None);
    assert_eq!(events["global_state"], "HALTED", "{risk}");
    let output = daemon.stop();
    assert_eq!(posts(&fake), sent, "nothing sent after the ban");
    assert!(
        output
            .join("\n")
            .contains("Binance banned this IP (HTTP 418)"),
        "{output:?}"
    );
}

/// `pennantd` killed (-9) while an order's answer is on its way: Binance took the order,
/// the daemon never heard. The restart asks Binance about it by its client order id and
/// cancels it there before the market maker starts again (its `open_orders` policy is
/// the default, "cancel"); it is never sent again.
#[test]
fn an_order_in_flight_when_pennantd_is_killed_is_found_not_sent_again() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("1"), px("1000000"));
    // The first order is taken; its answer waits past the daemon's life.
    fake.inject(Fault::AnswerAfter(30_000));
    let dir = tempfile::tempdir().unwrap();
    let (daemon, api) = start_in(dir.path(), &fake);
    let in_flight = support::poll("the first order at Binance, recorded, unanswered", || {
        let taken = fake.orders().into_iter().next()?;
        let orders = api.ok("GET", "/api/v1/orders?strategy=mm", VIEWER, None);
        let recorded = orders["items"]
            .as_array()?
            .iter()
            .any(|o| o["venue_client_id"] == taken.client_id.as_str());
        recorded.then_some(taken)
    });
    assert_eq!(fake.orders().len(), 1, "the venue waits for its answer");
    daemon.signal("KILL");
    let _ = daemon.wait_exit();

    let (daemon, api) = start_in(dir.path(), &fake);
    support::poll("the order canceled at Binance and in the record", || {
        let at_binance = fake
            .orders()
            .iter()
            .any(|o| o.client_id == in_flight.client_id && o.status == "CANCELED");
        let orders = api.ok("GET", "/api/v1/orders?strategy=mm", VIEWER, None);
        let recorded = orders["items"].as_array()?.iter().any(|o| {
            o["venue_client_id"] == in_flight.client_id.as_str() && o["status"] == "canceled"
        });
        (at_binance && recorded).then_some(())
    });
    let copies = fake
        .orders()
        .iter()
        .filter(|o| o.client_id == in_flight.client_id)
        .count();
    assert_eq!(copies, 1, "never sent twice: {:?}", fake.orders());
    daemon.stop();
}

/// `pennantd` killed (-9) after sending orders the store never recorded (placed here at
/// the fake with the daemon's next client ids, as the dead run would have sent them):
/// the restart finds them (`allOrders`), adopts them under `unattributed` with their
/// fills booked, audits each, and cancels the one still working; the recorded quotes
/// are recovered, and canceled by the market maker's policy before it starts again.
#[test]
fn orders_pennantd_sent_but_never_recorded_are_adopted_with_their_fills() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("1"), px("1000000"));
    let dir = tempfile::tempdir().unwrap();
    let (daemon, api) = start_in(dir.path(), &fake);
    let quotes = support::poll("the market maker's two quotes at Binance, recorded", || {
        let quotes: Vec<_> = fake
            .orders()
            .into_iter()
            .filter(|o| o.status == "NEW")
            .collect();
        let open = api.ok("GET", "/api/v1/orders/open?strategy=mm", VIEWER, None);
        let recorded = open["items"].as_array()?.len();
        (quotes.len() == 2 && recorded == 2).then_some(quotes)
    });
    daemon.signal("KILL");
    let _ = daemon.wait_exit();

    // What the dead run sent after its last record: the next two client ids.
    let last = quotes
        .iter()
        .filter_map(|o| o.client_id.strip_prefix("pennant-")?.parse::<u64>().ok())
        .max()
        .unwrap();
    let (bid, ask) = (
        quotes.iter().find(|o| o.side == "BUY").unwrap().price,
        quotes.iter().find(|o| o.side == "SELL").unwrap().price,
    );
    // A bid between the quotes, half filled by another client's sell there (which
    // reaches neither quote).
    let inside = pennant_sdk::Price::from_raw((bid.raw() + ask.raw()) / 2 / 1_000_000 * 1_000_000);
    let resting = format!("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.002&price={inside}&newClientOrderId=pennant-{}", last + 1);
    let placed = signed(&fake, "POST", "/api/v3/order", &resting, SECRET, 0);
    assert_eq!(placed.status, 200, "{}", placed.body);
    fake.trade_through("BTCUSDT", inside, qty("0.001"));
    // A market sell, filled in full at the book's bid.
    fake.set_book("BTCUSDT", px("40000"), px("1000000"));
    let market = format!(
        "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.0005&newClientOrderId=pennant-{}",
        last + 2
    );
    let placed = signed(&fake, "POST", "/api/v3/order", &market, SECRET, 0);
    assert_eq!(placed.status, 200, "{}", placed.body);
    assert_eq!(fake.trades().len(), 2, "{:?}", fake.trades());

    let (daemon, api) = start_in(dir.path(), &fake);
    let fills = support::poll("both unrecorded orders' fills, booked", || {
        let fills = api.ok("GET", "/api/v1/fills?strategy=unattributed", VIEWER, None);
        let fills = fills["items"].as_array()?.clone();
        (fills.len() == 2).then_some(fills)
    });
    let mut seen: Vec<_> = fills
        .iter()
        .map(|f| {
            (
                f["side"].as_str().unwrap().to_owned(),
                f["qty"].as_str().unwrap().to_owned(),
                f["price"].as_str().unwrap().to_owned(),
                f["venue"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let owned = |s: &str| s.to_owned();
    assert_eq!(
        seen,
        [
            (
                owned("buy"),
                owned("0.001"),
                inside.to_string(),
                owned("binance")
            ),
            (
                owned("sell"),
                owned("0.0005"),
                owned("40000"),
                owned("binance")
            ),
        ]
    );
    // The working one is canceled at Binance; nothing of ours was sent again.
    support::poll("the adopted bid canceled at Binance", || {
        fake.orders()
            .iter()
            .any(|o| o.client_id == format!("pennant-{}", last + 1) && o.status == "CANCELED")
            .then_some(())
    });
    support::poll("the adopted orders' position, unattributed", || {
        let positions = api.ok(
            "GET",
            "/api/v1/positions?strategy=unattributed",
            VIEWER,
            None,
        );
        (positions["positions"][0]["qty"] == "0.0005").then_some(())
    });
    // The recorded quotes are the market maker's: canceled before it starts again (its
    // policy), each sent once.
    for order in &quotes {
        support::poll("a recovered quote canceled at Binance", || {
            fake.orders()
                .iter()
                .any(|o| o.client_id == order.client_id && o.status == "CANCELED")
                .then_some(())
        });
        let copies = fake
            .orders()
            .iter()
            .filter(|o| o.client_id == order.client_id)
            .count();
        assert_eq!(copies, 1, "never sent twice: {:?}", fake.orders());
    }
    daemon.wait_for(&["the store never recorded: adopted"]);
    daemon.stop();
    // Each adoption is in the audit trail, by the venue.
    let db = rusqlite::Connection::open(dir.path().join("state").join("pennant.db")).unwrap();
    let audited: Vec<(String, String)> = db
        .prepare("SELECT actor, detail FROM risk_events WHERE kind = 'reconciled' ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(
        audited.iter().all(|(actor, _)| actor == "venue binance"),
        "{audited:?}"
    );
    assert!(audited[0].1.ends_with("and canceled"), "{audited:?}");
}

/// The user data stream lost while `pennantd` trades, and a quote filled meanwhile: once
/// the stream is back the trade is read from `myTrades` and booked, once.
#[test]
fn pennantd_books_a_fill_made_while_its_user_stream_was_away() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("1"), px("1000000"));
    let (_dir, daemon, api) = start_on(&fake);
    let bid = resting_bid(&fake);
    fake.refuse_user_streams(true);
    fake.close_user_streams();
    fake.set_book("BTCUSDT", px("1"), bid.price);
    assert_eq!(fake.trades().len(), 1, "filled while the stream is away");
    let subscriptions = fake.user_stream_subscriptions();
    fake.refuse_user_streams(false);
    let fills = support::poll("the fill, booked after the reconnect", || {
        let fills = booked_fills(&api);
        (!fills.is_empty() && fake.user_stream_subscriptions() > subscriptions).then_some(fills)
    });
    assert_eq!(fills.len(), 1, "{fills:?}");
    assert_eq!(fills[0]["qty"], "0.001", "{}", fills[0]);
    // Nothing more to book: the fills API still has the one.
    let open = api.ok("GET", "/api/v1/orders/open?strategy=mm", VIEWER, None);
    assert!(
        !open["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|o| o["venue_client_id"] == bid.client_id.as_str()),
        "the filled bid is no longer open: {open}"
    );
    let fills = booked_fills(&api);
    assert_eq!(fills.len(), 1, "{fills:?}");
    daemon.stop();
}

/// A 429 while `pennantd` trades: the order it answered is refused
/// (`venue_rate_budget`), nothing at all is sent until `Retry-After` has passed, and
/// then the market maker's quote goes out again.
#[test]
fn pennantd_backs_off_for_retry_after_then_trades_again() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    fake.set_book("BTCUSDT", px("1"), px("1000000"));
    let (_dir, daemon, api) = start_on(&fake);
    let bid = resting_bid(&fake);
    let before = fake.requests_at().len();
    fake.inject(Fault::TooManyRequests(2));
    // The bid fills; the next bid meets the 429.
    fake.set_book("BTCUSDT", px("1"), bid.price);
    let again = support::poll("a new bid after the wait", || {
        fake.orders()
            .into_iter()
            .find(|o| o.status == "NEW" && o.side == "BUY" && o.order_id != bid.order_id)
    });
    assert_ne!(again.client_id, bid.client_id);
    let after: Vec<_> = fake.requests_at().into_iter().skip(before).collect();
    let (limited_at, _) = after[0].clone();
    for (at, request) in &after[1..] {
        assert!(
            at.duration_since(limited_at) >= Duration::from_secs(2),
            "{request} sent {:?} after the 429",
            at.duration_since(limited_at)
        );
    }
    let metrics = api.call("GET", "/metrics", None, None).body;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("pennant_orders_rejected_total")
                && l.contains(r#"reason="venue_rate_budget""#)),
        "{metrics}"
    );
    daemon.stop();
}

/// The configuration of `cargo xtask demo --binance-fake` is one `pennantd` accepts.
#[test]
fn the_binance_fake_demo_configuration_checks() {
    let config = support::workspace().join("config/binance-fake.toml");
    let (status, output) = support::Daemon::start_with_env(
        &["--config", config.to_str().unwrap(), "check-config"],
        &[
            ("BINANCE_API_KEY", "demo-key"),
            ("BINANCE_API_SECRET", "demo-secret"),
        ],
    )
    .wait_exit();
    assert!(status.success(), "{}", output.join("\n"));
    let loaded = pennant_daemon::config::Config::load(&config).unwrap();
    assert!(loaded.is_live());
    assert_eq!(loaded.venues[0].rest_url, "http://127.0.0.1:18090");
}

/// A user data stream that is slow (every event late) books each fill once, after the
/// REST answers; one that goes quiet (connected, silent) is taken for dead after the
/// quiet time and made again, and the fill made while it was silent comes from
/// `myTrades`.
#[test]
fn a_slow_or_quiet_user_stream_loses_no_fill() {
    use pennant_daemon::venue::{ExecutionReport as R, Venue};
    let fake = market();
    let stream = StreamSettings {
        quiet: Duration::from_millis(500),
        ..stream_of(&fake, None).unwrap()
    };
    let (runtime, mut rx, mut venue) = streaming_venue(&fake, Some(stream));
    let (mut seen, mut snapshots, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let bid = |id: u64, price: &str| {
        order(
            id,
            OrderRequest::limit(1, Side::Buy, px(price), qty("0.002")),
        )
    };
    fake.delay_events(Some(Duration::from_millis(200)));
    venue.submit(bid(1, "49000"), 0, &mut out);
    fake.set_book("BTCUSDT", px("48000"), px("49000"));
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        !fills_of(s, 1).is_empty()
    });
    fake.delay_events(None);

    venue.submit(bid(2, "48500"), 0, &mut out);
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        s.iter().any(|r| matches!(r, R::Accepted { id: 2, .. }))
    });
    let subscriptions = fake.user_stream_subscriptions();
    fake.quiet_user_streams(true);
    fake.set_book("BTCUSDT", px("47000"), px("48000"));
    assert_eq!(fake.orders()[1].status, "FILLED", "filled, its events lost");
    fake.quiet_user_streams(false);
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        !fills_of(s, 2).is_empty()
    });
    assert!(
        fake.user_stream_subscriptions() > subscriptions,
        "connected again"
    );
    // Whatever else the streams bring meanwhile, each trade is booked once.
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |_, n| n >= 1);
    assert_eq!(fills_of(&seen, 1), [qty("0.002")]);
    assert_eq!(fills_of(&seen, 2), [qty("0.002")]);
    drop(venue);
    drop(runtime);
}

/// A resting order filled in parts: each trade is its own fill, the order stays open at
/// Binance until the last.
#[test]
fn an_order_filled_in_parts_is_reported_part_by_part() {
    use pennant_daemon::venue::Venue;
    let fake = market();
    let (runtime, mut rx, mut venue) = streaming_venue(&fake, stream_of(&fake, None));
    let (mut seen, mut snapshots, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let bid = order(
        1,
        OrderRequest::limit(1, Side::Buy, px("49000"), qty("0.002")),
    );
    venue.submit(bid, 0, &mut out);
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        s.iter().any(|r| {
            matches!(
                r,
                pennant_daemon::venue::ExecutionReport::Accepted { id: 1, .. }
            )
        })
    });
    fake.trade_through("BTCUSDT", px("49000"), qty("0.0005"));
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        !fills_of(s, 1).is_empty()
    });
    assert_eq!(fake.orders()[0].status, "PARTIALLY_FILLED");
    fake.trade_through("BTCUSDT", px("48000"), qty("0.01"));
    reports_until(&runtime, &mut rx, &mut seen, &mut snapshots, |s, _| {
        fills_of(s, 1).len() == 2
    });
    assert_eq!(fills_of(&seen, 1), [qty("0.0005"), qty("0.0015")]);
    assert_eq!(fake.orders()[0].status, "FILLED");
    drop(venue);
    drop(runtime);
}

/// Binance's clock is measured again now and then, not only at start and on a `-1021`.
#[test]
fn the_clock_offset_is_kept_fresh() {
    let fake = market();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let venue = binance_venue(&fake, None, &runtime, tx, |event| event);
    // binance_venue resyncs every 200 ms.
    support::poll("the clock measured three times", || {
        let times = fake
            .requests()
            .iter()
            .filter(|r| r.as_str() == "GET /api/v3/time")
            .count();
        (times >= 3).then_some(())
    });
    drop(venue);
    drop(runtime);
}

/// What a quote reserved of the balance is free again once Binance refuses it: with USDT
/// for one bid only, a bid refused at Binance (post-only that would take) is followed by
/// another, not by a refusal for want of balance.
#[test]
fn a_refused_order_frees_the_balance_it_reserved() {
    let fake = FakeBinance::start(KEY, SECRET, vec![FakeSymbol::btcusdt()]);
    // The ask is below every bid the market maker makes around 50000: its post-only bids
    // would take, and Binance refuses them.
    fake.set_book("BTCUSDT", px("1"), px("40000"));
    fake.set_balance("USDT", px("60"), px("0"));
    fake.set_balance("BTC", px("0"), px("0"));
    let (_dir, daemon, _api) = start_on(&fake);
    support::poll("a second bid after the first was refused", || {
        (posts(&fake) >= 2).then_some(())
    });
    // Only bids go out (there is no BTC to sell), and Binance keeps none of them: without
    // the release the second would have waited for a new account snapshot (the user
    // stream's reconnect), refused meanwhile for want of USDT, unsent.
    assert!(
        fake.orders().is_empty(),
        "each was refused: {:?}",
        fake.orders()
    );
    assert_eq!(
        fake.user_stream_subscriptions(),
        1,
        "no reconnect (and no new snapshot) in between"
    );
    daemon.stop();
}
