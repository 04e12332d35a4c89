//! The store's conformance suite: the same tests against the embedded SQLite store and a
//! real PostgreSQL (a throwaway cluster per test), then the writer through an outage.

mod support;

use pennant_daemon::config::StoreConfig;
use pennant_daemon::records::WriterStats;
use pennant_daemon::records::{
    Body, FillEvent, LifecycleEvent, LifecycleKind, Named, OrderEvent, OrderState,
    PositionSnapshot, Record, RiskEvent, RiskKind, SignalEvent, StateSnapshot, TradingState,
    TradingStateRecord,
};
use pennant_daemon::store::spool::Spool;
use pennant_daemon::store::writer::{self, WriteTimings, WriterSettings};
use pennant_daemon::store::{Filter, PageRequest, Store, StoreError, Table, DAY_NS};
use pennant_testkit::pg::PgCluster;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_700_000_000_000_000_000;
/// One, in fixed point.
const UNIT: i64 = 100_000_000;

fn sqlite_config() -> StoreConfig {
    StoreConfig::default()
}

fn pg_config(url: String) -> StoreConfig {
    StoreConfig {
        url: Some(url),
        connect_timeout_ms: std::num::NonZeroU32::new(2_000).unwrap(),
        ..StoreConfig::default()
    }
}

/// Runs `test` against a fresh SQLite store, then a fresh PostgreSQL one.
async fn both<F, Fut>(test: F)
where
    F: Fn(Store, &'static str) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(&sqlite_config(), dir.path()).await.unwrap();
    test(sqlite, "sqlite").await;
    let cluster = PgCluster::start();
    let url = cluster.database("conformance");
    let pg = Store::open(&pg_config(url), dir.path()).await.unwrap();
    test(pg, "postgres").await;
}

/// An order record; `who` is the strategy and the order id; `side` and `status` by
/// their names.
fn order(
    seq: u64,
    ts: i64,
    (strategy, id): (&str, u64),
    instrument: &str,
    side: &str,
    status: &str,
    filled: i64,
) -> Record {
    Record {
        seq,
        ts,
        body: Body::Order(OrderEvent {
            strategy: strategy.into(),
            order_id: id,
            client_order_id: id * 10,
            venue: "paper".into(),
            venue_client_id: format!("desk-{id}"),
            instrument: instrument.into(),
            side: Named::parse(side).unwrap(),
            kind: pennant_sdk::OrderKind::Limit,
            time_in_force: pennant_sdk::TimeInForce::Gtc,
            price: 100 * UNIT,
            qty: 2 * UNIT,
            status: OrderState::parse(status).unwrap(),
            filled_qty: filled,
            reason: None,
        }),
    }
}

fn fill(
    seq: u64,
    ts: i64,
    strategy: &str,
    id: u64,
    instrument: &str,
    side: &str,
    pnl: i64,
) -> Record {
    Record {
        seq,
        ts,
        body: Body::Fill(FillEvent {
            strategy: strategy.into(),
            order_id: id,
            venue: "paper".into(),
            instrument: instrument.into(),
            side: Named::parse(side).unwrap(),
            price: 100 * UNIT,
            qty: UNIT,
            fee: 1_000_000,
            liquidity: pennant_sdk::Liquidity::Maker,
            realized_pnl: pnl,
        }),
    }
}

fn position(seq: u64, strategy: &str, qty: i64) -> Record {
    Record {
        seq,
        ts: T0 + seq as i64,
        body: Body::Position(PositionSnapshot {
            strategy: strategy.into(),
            instrument: "BTC-USDT".into(),
            qty,
            avg_price: 100 * UNIT,
            realized_pnl: 5,
            fees: 1,
        }),
    }
}

fn state(seq: u64, strategy: &str, bytes: &[u8]) -> Record {
    Record {
        seq,
        ts: T0 + seq as i64,
        body: Body::State(StateSnapshot {
            strategy: strategy.into(),
            state: bytes.to_vec(),
        }),
    }
}

fn signal(seq: u64, ts: i64, strategy: &str, instrument: &str, side: &str) -> Record {
    Record {
        seq,
        ts,
        body: Body::Signal(SignalEvent {
            strategy: strategy.into(),
            instrument: instrument.into(),
            side: Named::parse(side).unwrap(),
            strength: 0.5,
            target: Some(110 * UNIT),
            stop: None,
            note: format!("signal {seq}"),
        }),
    }
}

/// A day of activity: order 1 rests and partly fills, order 2 fills, positions and
/// states change twice, and one of each other kind.
fn history() -> Vec<Record> {
    vec![
        order(1, T0 + 10, ("s1", 1), "BTC-USDT", "buy", "submitted", 0),
        order(2, T0 + 11, ("s1", 1), "BTC-USDT", "buy", "accepted", 0),
        order(3, T0 + 12, ("s1", 2), "BTC-USDT", "sell", "submitted", 0),
        order(
            4,
            T0 + 13,
            ("s1", 2),
            "BTC-USDT",
            "sell",
            "filled",
            2 * UNIT,
        ),
        fill(5, T0 + 13, "s1", 2, "BTC-USDT", "sell", 0),
        position(6, "s1", -2 * UNIT),
        state(7, "s1", &[1, 2, 3]),
        Record {
            seq: 8,
            ts: T0 + 14,
            body: Body::Lifecycle(LifecycleEvent {
                strategy: "s1".into(),
                event: LifecycleKind::Swapped,
                version: Some("abc".into()),
                detail: String::new(),
            }),
        },
        Record {
            seq: 9,
            ts: T0 + 15,
            body: Body::Risk(RiskEvent {
                strategy: Some("s1".into()),
                kind: RiskKind::Rejection,
                reason: Some(pennant_sdk::RejectReason::MaxPosition),
                actor: None,
                scope: Some("BTC-USDT".into()),
                state: None,
                detail: "too big".into(),
            }),
        },
        signal(10, T0 + 16, "s1", "BTC-USDT", "buy"),
        order(
            11,
            T0 + 17,
            ("s1", 1),
            "BTC-USDT",
            "buy",
            "partially_filled",
            UNIT,
        ),
        fill(12, T0 + 17, "s1", 1, "BTC-USDT", "buy", 7),
        position(13, "s1", -UNIT),
        state(14, "s1", &[4, 5]),
        Record {
            seq: 15,
            ts: T0 + 19,
            body: Body::Risk(RiskEvent {
                strategy: Some("s1".into()),
                kind: RiskKind::KillSwitch,
                reason: None,
                actor: Some("ops".into()),
                scope: Some("strategy s1".into()),
                state: Some(TradingState::Halted),
                detail: "kill switch engaged".into(),
            }),
        },
    ]
}

fn limits_set(seq: u64, scope: &str, actor: &str, toml: &str) -> Record {
    Record {
        seq,
        ts: T0 + seq as i64,
        body: Body::Risk(RiskEvent {
            strategy: None,
            kind: RiskKind::LimitsSet,
            reason: None,
            actor: Some(actor.into()),
            scope: Some(scope.into()),
            state: None,
            detail: toml.into(),
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancels_asked_for_run_time_limits_and_a_clean_shutdown_come_back() {
    both(|store, backend| async move {
        store
            .write(&[
                order(1, T0, ("s1", 1), "BTC-USDT", "buy", "accepted", 0),
                order(2, T0 + 1, ("s1", 1), "BTC-USDT", "buy", "pending_cancel", 0),
                order(3, T0 + 1, ("s1", 3), "BTC-USDT", "sell", "unknown", 0),
                limits_set(4, "global", "api:admin", "max_open_orders = 3\n"),
                limits_set(5, "strategy s1", "api:admin", "max_open_orders = 4\n"),
                // The configuration set the strategy's limits later: it has the say.
                limits_set(6, "strategy s1", "config reload", "max_open_orders = 5\n"),
                Record {
                    seq: 7,
                    ts: T0 + 7,
                    body: Body::Shutdown,
                },
            ])
            .await
            .unwrap();
        let back = store.recover().await.unwrap();
        let open: Vec<_> = back
            .open_orders
            .iter()
            .map(|(o, _)| (o.order_id, o.status))
            .collect();
        assert_eq!(
            open,
            [(1, OrderState::PendingCancel), (3, OrderState::Unknown)],
            "{backend}: an order without an answer stays open"
        );
        assert_eq!(
            back.limits,
            vec![("global".to_owned(), "max_open_orders = 3\n".to_owned())],
            "{backend}"
        );
        assert!(back.clean_shutdown, "{backend}");
        // Anything after the shutdown record means another run wrote and did not end it.
        store
            .write(&[order(
                8,
                T0 + 8,
                ("s1", 2),
                "BTC-USDT",
                "buy",
                "submitted",
                0,
            )])
            .await
            .unwrap();
        assert!(!store.recover().await.unwrap().clean_shutdown, "{backend}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_written_comes_back_after_a_restart() {
    both(|store, backend| async move {
        let empty = store.recover().await.unwrap();
        assert_eq!((empty.last_seq, empty.max_order_id), (0, 0), "{backend}");
        let records = history();
        store.write(&records[..7]).await.unwrap();
        store.write(&records[7..]).await.unwrap();
        let back = store.recover().await.unwrap();
        assert_eq!(back.last_seq, 15, "{backend}");
        assert_eq!(
            back.trading_states,
            vec![TradingStateRecord {
                scope: "strategy s1".to_owned(),
                state: TradingState::Halted,
                kill_switch: true,
            }],
            "{backend}"
        );
        assert_eq!(back.max_order_id, 2, "{backend}");
        // Order 2 was submitted at T0 + 12: where the record of orders ends.
        assert_eq!(back.last_order_at, T0 + 12, "{backend}");
        assert_eq!(
            back.open_orders.len(),
            1,
            "{backend}: {:?}",
            back.open_orders
        );
        let (open, created) = &back.open_orders[0];
        assert_eq!(
            (open.order_id, open.status, open.filled_qty, *created),
            (1, OrderState::PartiallyFilled, UNIT, T0 + 10),
            "{backend}"
        );
        assert_eq!(
            (open.venue.as_str(), open.venue_client_id.as_str()),
            ("paper", "desk-1"),
            "{backend}"
        );
        assert_eq!(back.positions.len(), 1, "{backend}");
        assert_eq!(back.positions[0].qty, -UNIT, "{backend}");
        assert_eq!(
            back.states,
            vec![("s1".to_owned(), vec![4, 5])],
            "{backend}"
        );
        for (table, rows) in [
            (Table::Orders, 5),
            (Table::Fills, 2),
            (Table::Positions, 2),
            (Table::StrategyEvents, 1),
            (Table::RiskEvents, 2),
            (Table::Signals, 1),
        ] {
            assert_eq!(
                store.count(table).await.unwrap(),
                rows,
                "{backend} {table:?}"
            );
        }
        // Day baselines: only the latest day's come back.
        let day = |seq: u64, ts: i64, scope: &str, raw: i64| Record {
            seq,
            ts,
            body: Body::Risk(RiskEvent {
                strategy: None,
                kind: RiskKind::DayStart,
                reason: None,
                actor: None,
                scope: Some(scope.into()),
                state: None,
                detail: raw.to_string(),
            }),
        };
        store
            .write(&[
                day(16, T0 - DAY_NS, "global", 1),
                day(17, T0, "strategy s1", 2),
                day(18, T0, "global", 3),
            ])
            .await
            .unwrap();
        let back = store.recover().await.unwrap();
        assert_eq!(
            back.day_baselines,
            vec![
                (T0, "strategy s1".to_owned(), "2".to_owned()),
                (T0, "global".to_owned(), "3".to_owned())
            ],
            "{backend}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_idempotent_and_an_order_keeps_its_latest_state() {
    both(|store, backend| async move {
        let records = history();
        store.write(&records).await.unwrap();
        // A batch written again (its first commit's answer was lost): one copy.
        store.write(&records).await.unwrap();
        assert_eq!(store.count(Table::Orders).await.unwrap(), 5, "{backend}");
        assert_eq!(store.count(Table::Fills).await.unwrap(), 2, "{backend}");
        // A newer state, then an older record arriving late: the newer stays.
        store
            .write(&[order(
                20,
                T0 + 30,
                ("s1", 1),
                "BTC-USDT",
                "buy",
                "canceled",
                UNIT,
            )])
            .await
            .unwrap();
        store
            .write(&[order(
                15,
                T0 + 18,
                ("s1", 1),
                "BTC-USDT",
                "buy",
                "accepted",
                UNIT,
            )])
            .await
            .unwrap();
        let back = store.recover().await.unwrap();
        assert!(
            back.open_orders.is_empty(),
            "{backend}: {:?}",
            back.open_orders
        );
        assert_eq!(back.last_seq, 20, "{backend}");
        let orders = store
            .orders(
                &Filter::default(),
                PageRequest {
                    limit: 10,
                    cursor: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            orders.items[1].order.status,
            OrderState::Canceled,
            "{backend}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_filter_and_page_newest_first() {
    both(|store, backend| async move {
        let mut records = Vec::new();
        let mut seq = 0;
        for n in 0..30u64 {
            let strategy = if n % 2 == 0 { "even" } else { "odd" };
            let instrument = if n % 3 == 0 { "ETH-USDT" } else { "BTC-USDT" };
            let side = if n % 5 == 0 { "sell" } else { "buy" };
            // Fills on two days: the first twenty on day 0, the rest on day 1.
            let ts = T0 - T0.rem_euclid(DAY_NS) + if n < 20 { n as i64 } else { DAY_NS + n as i64 };
            let status = if n % 4 == 0 { "canceled" } else { "accepted" };
            seq += 1;
            records.push(order(
                seq,
                ts,
                (strategy, n + 1),
                instrument,
                side,
                status,
                0,
            ));
            seq += 1;
            records.push(fill(seq, ts, strategy, n + 1, instrument, side, 100));
            seq += 1;
            records.push(signal(seq, ts, strategy, instrument, side));
        }
        store.write(&records).await.unwrap();

        // Every page newest first, no row twice, none missed.
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .orders(&Filter::default(), PageRequest { limit: 7, cursor })
                .await
                .unwrap();
            seen.extend(page.items.iter().map(|o| o.order.order_id));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, (1..=30).rev().collect::<Vec<u64>>(), "{backend}");

        let even_eth = Filter {
            strategy: Some("even".into()),
            instrument: Some("ETH-USDT".into()),
            ..Filter::default()
        };
        let page = store
            .orders(
                &even_eth,
                PageRequest {
                    limit: 100,
                    cursor: None,
                },
            )
            .await
            .unwrap();
        let ids: Vec<u64> = page.items.iter().map(|o| o.order.order_id).collect();
        assert_eq!(ids, vec![25, 19, 13, 7, 1], "{backend}");
        assert_eq!(page.next, None, "{backend}");

        let canceled_sells = Filter {
            status: Some(OrderState::Canceled),
            side: Some(pennant_sdk::Side::Sell),
            ..Filter::default()
        };
        let page = store
            .orders(
                &canceled_sells,
                PageRequest {
                    limit: 100,
                    cursor: None,
                },
            )
            .await
            .unwrap();
        let ids: Vec<u64> = page.items.iter().map(|o| o.order.order_id).collect();
        assert_eq!(ids, vec![21, 1], "{backend}");

        let day0 = T0 - T0.rem_euclid(DAY_NS);
        let second_day = Filter {
            from: Some(day0 + DAY_NS),
            to: Some(day0 + 2 * DAY_NS),
            ..Filter::default()
        };
        let fills = store
            .fills(
                &second_day,
                PageRequest {
                    limit: 100,
                    cursor: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(fills.items.len(), 10, "{backend}");
        assert!(fills.items.windows(2).all(|w| w[0].seq > w[1].seq));

        let odd_sells = Filter {
            strategy: Some("odd".into()),
            side: Some(pennant_sdk::Side::Sell),
            ..Filter::default()
        };
        let signals = store
            .signals(
                &odd_sells,
                PageRequest {
                    limit: 2,
                    cursor: None,
                },
            )
            .await
            .unwrap();
        let notes: Vec<&str> = signals
            .items
            .iter()
            .map(|s| s.signal.note.as_str())
            .collect();
        // Odd sells: n = 5, 15, 25; their signals are records 3n + 3.
        assert_eq!(notes, vec!["signal 78", "signal 48"], "{backend}");
        let rest = store
            .signals(
                &odd_sells,
                PageRequest {
                    limit: 2,
                    cursor: signals.next,
                },
            )
            .await
            .unwrap();
        assert_eq!(rest.items.len(), 1, "{backend}");

        // Days round down, also before 1970.
        store
            .write(&[
                fill(1_000, -1, "early", 999, "BTC-USDT", "buy", 3),
                fill(1_001, 1, "early", 999, "BTC-USDT", "buy", 4),
            ])
            .await
            .unwrap();
        let early = Filter {
            strategy: Some("early".into()),
            ..Filter::default()
        };
        let days: Vec<(String, i64)> = store
            .daily_pnl(&early)
            .await
            .unwrap()
            .iter()
            .map(|d| (d.date(), d.realized_pnl))
            .collect();
        assert_eq!(
            days,
            vec![("1969-12-31".into(), 3), ("1970-01-01".into(), 4)],
            "{backend}"
        );
        let pnl = store
            .daily_pnl(&Filter {
                to: Some(T0 + 2 * DAY_NS),
                from: Some(T0 - DAY_NS),
                ..Filter::default()
            })
            .await
            .unwrap();
        let rows: Vec<(String, String, i64, i64)> = pnl
            .iter()
            .map(|d| (d.strategy.clone(), d.date(), d.realized_pnl, d.fees))
            .collect();
        let (first, second) = (
            pennant_daemon::store::civil_date(day0 / DAY_NS),
            pennant_daemon::store::civil_date(day0 / DAY_NS + 1),
        );
        assert_eq!(
            rows,
            vec![
                ("even".into(), first.clone(), 1_000, 10_000_000),
                ("even".into(), second.clone(), 500, 5_000_000),
                ("odd".into(), first, 1_000, 10_000_000),
                ("odd".into(), second, 500, 5_000_000),
            ],
            "{backend}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_stores_are_refused_naming_the_file_or_the_host() {
    let dir = tempfile::tempdir().unwrap();
    // Not a database.
    let path = dir.path().join("corrupt.db");
    std::fs::write(&path, vec![7u8; 4096]).unwrap();
    let config = StoreConfig {
        path: path.clone(),
        ..StoreConfig::default()
    };
    let err = Store::open(&config, dir.path()).await.err().unwrap();
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert!(err.is_config());

    // Nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://pennant@127.0.0.1:{port}/nowhere");
    let err = Store::open(&pg_config(url), dir.path())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );

    // A schema from a newer Pennant.
    let newer = |store: Store| async move {
        drop(store);
    };
    let sqlite_path = dir.path().join("newer.db");
    let config = StoreConfig {
        path: sqlite_path.clone(),
        ..StoreConfig::default()
    };
    newer(Store::open(&config, dir.path()).await.unwrap()).await;
    rusqlite::Connection::open(&sqlite_path)
        .unwrap()
        .execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (99, 'future', '2030-01-01T00:00:00Z', '0')",
            [],
        )
        .unwrap();
    let err = Store::open(&config, dir.path()).await.err().unwrap();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 99,
                known: 4
            }
        ),
        "{err}"
    );

    let cluster = PgCluster::start();
    let url = cluster.database("newer");
    newer(
        Store::open(&pg_config(url.clone()), dir.path())
            .await
            .unwrap(),
    )
    .await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (99, 'future', '2030-01-01T00:00:00Z', '0')",
            &[],
        )
        .await
        .unwrap();
    let err = Store::open(&pg_config(url), dir.path())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 99,
                known: 4
            }
        ),
        "{err}"
    );
}

/// Sends `count` order records numbered from `first` to the writer, in batches of 10.
async fn send(
    tx: &tokio::sync::mpsc::Sender<Vec<Record>>,
    stats: &WriterStats,
    first: u64,
    count: u64,
) {
    for start in (first..first + count).step_by(10) {
        let batch: Vec<Record> = (start..(start + 10).min(first + count))
            .map(|seq| {
                order(
                    seq,
                    T0 + seq as i64,
                    ("s", seq),
                    "BTC-USDT",
                    "buy",
                    "submitted",
                    0,
                )
            })
            .collect();
        stats
            .queued
            .fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
        tx.send(batch).await.unwrap();
    }
}

/// Counts the batch writes the writer reports.
#[derive(Clone, Default)]
struct BatchesTimed(Arc<std::sync::atomic::AtomicU64>);

impl WriteTimings for BatchesTimed {
    fn batch_written(&self, _: Duration) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn writer_settings() -> WriterSettings {
    WriterSettings {
        batch_max: 50,
        retry: Duration::from_millis(100),
        write_timeout: Duration::from_secs(5),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_spools_through_an_outage_and_every_record_arrives_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = PgCluster::start();
    let url = cluster.database("outage");
    let store = Store::open(&pg_config(url), dir.path()).await.unwrap();
    let spool = Spool::open(&dir.path().join("spool.jsonl")).unwrap();
    let stats = Arc::new(WriterStats::default());
    let batches = BatchesTimed::default();
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let task = tokio::spawn(writer::run(
        store.clone(),
        rx,
        spool,
        writer_settings(),
        stats.clone(),
        Box::new(batches.clone()),
    ));
    send(&tx, &stats, 1, 200).await;
    wait_until("the first records are written", || {
        stats.written.load(std::sync::atomic::Ordering::Relaxed) >= 200
    })
    .await;

    // The database goes away while orders keep coming: they are spooled.
    cluster.stop_server();
    send(&tx, &stats, 201, 300).await;
    wait_until("records to be spooled", || {
        stats.spooled.load(std::sync::atomic::Ordering::Relaxed) >= 300
    })
    .await;
    assert!(stats.spool_bytes.load(std::sync::atomic::Ordering::Relaxed) > 0);

    // It comes back: the spool is replayed, in order, then new records follow.
    cluster.start_server();
    send(&tx, &stats, 501, 100).await;
    drop(tx);
    tokio::time::timeout(Duration::from_secs(120), task)
        .await
        .expect("the writer finishes")
        .unwrap();
    let seqs = store.seqs(Table::Orders).await.unwrap();
    assert_eq!(seqs, (1..=600).collect::<Vec<i64>>());
    assert_eq!(stats.spooled.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(stats.queued.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert!(stats.failures.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    // Every batch that reached the database was timed, the spooled ones not.
    let timed = batches.0.load(std::sync::atomic::Ordering::Relaxed);
    assert!((2..=600).contains(&timed), "{timed} batch writes timed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_spooled_at_shutdown_wait_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let spool_path = dir.path().join("spool.jsonl");
    let cluster = PgCluster::start();
    let url = cluster.database("later");
    let store = Store::open(&pg_config(url), dir.path()).await.unwrap();
    cluster.stop_server();
    let stats = Arc::new(WriterStats::default());
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let task = tokio::spawn(writer::run(
        store.clone(),
        rx,
        Spool::open(&spool_path).unwrap(),
        writer_settings(),
        stats.clone(),
        Box::new(()),
    ));
    send(&tx, &stats, 1, 40).await;
    drop(tx);
    task.await.unwrap();
    let mut spool = Spool::open(&spool_path).unwrap();
    assert_eq!(spool.records(), 40);

    cluster.start_server();
    let written = spool
        .replay(15, |batch| {
            let store = &store;
            async move { store.write(&batch).await }
        })
        .await
        .unwrap();
    assert_eq!(written, 40);
    assert!(spool.is_empty());
    assert_eq!(
        store.seqs(Table::Orders).await.unwrap(),
        (1..=40).collect::<Vec<i64>>()
    );
    assert!(Path::new(&spool_path).exists());
}

async fn wait_until(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + support::DEADLINE;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Signal statistics: counts by side from the signals, hits and returns per horizon
/// from the outcomes, filtered like the list; the same from both stores, and the same
/// as summing the records one by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signal_statistics_sum_the_outcomes_of_the_signals_asked_for() {
    use pennant_daemon::records::{SignalOutcome, SignalStats};
    let outcome =
        |seq: u64, strategy: &str, side: &str, signal_ts: i64, horizon_secs, price| Record {
            seq,
            ts: signal_ts + i64::from(horizon_secs) * 1_000_000_000,
            body: Body::SignalOutcome(SignalOutcome {
                strategy: strategy.into(),
                instrument: "BTC-USDT".into(),
                side: Named::parse(side).unwrap(),
                signal_ts,
                horizon_secs,
                reference: 100 * UNIT,
                price: price * UNIT,
            }),
        };
    let records = vec![
        signal(1, T0, "a", "BTC-USDT", "buy"),
        signal(2, T0 + 1, "a", "BTC-USDT", "sell"),
        signal(3, T0 + 2, "a", "BTC-USDT", "buy"),
        signal(4, T0 + 3, "b", "BTC-USDT", "sell"),
        outcome(5, "a", "buy", T0, 60, 101),      // hit, +100 bps
        outcome(6, "a", "sell", T0 + 1, 60, 102), // miss, -200 bps
        outcome(7, "a", "buy", T0 + 2, 60, 100),  // miss, 0
        outcome(8, "a", "buy", T0, 300, 105),     // hit, +500 bps
        outcome(9, "b", "sell", T0 + 3, 60, 90),  // hit, +1000 bps
    ];
    let mut by_hand = SignalStats::default();
    for record in &records {
        match &record.body {
            Body::Signal(s) => by_hand.add_signals(&s.strategy, &s.instrument, s.side, 1),
            Body::SignalOutcome(o) => by_hand.add_outcome(o),
            _ => {}
        }
    }
    both(|store, backend| {
        let (records, by_hand) = (records.clone(), by_hand.clone());
        async move {
            store.write(&records).await.unwrap();
            assert_eq!(store.count(Table::SignalOutcomes).await.unwrap(), 5);
            let all = store.signal_stats(&Filter::default()).await.unwrap();
            let a = &all.tallies[&("a".to_owned(), "BTC-USDT".to_owned())];
            assert_eq!((a.buys, a.sells), (2, 1), "{backend}");
            let minute = a.horizons[&60];
            assert_eq!((minute.measured, minute.hits), (3, 1), "{backend}");
            assert!(
                (minute.sum_return_bps - (-100.0)).abs() < 1e-6,
                "{backend}: {minute:?}"
            );
            assert_eq!(a.horizons[&300].hits, 1, "{backend}");
            // The store's sums are the records' sums.
            assert_eq!(
                all.tallies.keys().collect::<Vec<_>>(),
                by_hand.tallies.keys().collect::<Vec<_>>()
            );
            for (key, tally) in &by_hand.tallies {
                let stored = &all.tallies[key];
                assert_eq!(
                    (stored.buys, stored.sells),
                    (tally.buys, tally.sells),
                    "{backend}"
                );
                for (h, t) in &tally.horizons {
                    let s = stored.horizons[h];
                    assert_eq!(
                        (s.measured, s.hits),
                        (t.measured, t.hits),
                        "{backend} {key:?} {h}"
                    );
                    assert!(
                        (s.sum_return_bps - t.sum_return_bps).abs() < 1e-6,
                        "{backend}"
                    );
                }
            }
            // Filtered by strategy and by when the signal was emitted.
            let only_b = Filter {
                strategy: Some("b".into()),
                ..Filter::default()
            };
            let b = store.signal_stats(&only_b).await.unwrap();
            assert_eq!(b.tallies.len(), 1, "{backend}");
            let late = Filter {
                from: Some(T0 + 1),
                to: Some(T0 + 3),
                ..Filter::default()
            };
            let late = store.signal_stats(&late).await.unwrap();
            let a = &late.tallies[&("a".to_owned(), "BTC-USDT".to_owned())];
            assert_eq!(
                (a.buys, a.sells, a.horizons[&60].measured),
                (1, 1, 2),
                "{backend}"
            );
            assert!(!a.horizons.contains_key(&300), "{backend}");
        }
    })
    .await;
}
