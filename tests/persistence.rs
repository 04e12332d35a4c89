//! Crash and recovery with the real `pennantd` on its embedded store: killed with
//! SIGKILL while trading, started again on the same state folder, it comes back with
//! the positions and open orders the store holds, and never uses an order id twice.

mod support;

use rusqlite::Connection;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;
use support::api::Api;
use support::Daemon;

const ADMIN: &str = "admin-secret";

fn config(dir: &Path) -> std::path::PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "state"

[api]
listen = "127.0.0.1:0"

[[api.token]]
name = "admin"
role = "admin"
sha256 = "{admin}"

[plugins]
dir = "{strategies}"
# A call budget no well-behaved call reaches on a loaded machine (it is wall time).
call_budget_ms = 5000
snapshot_interval_secs = 3600

{market}
[[strategy]]
id = "mm"
component = "market_maker.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.5", max_position = "5", half_spread_bps = 1, requote_ticks = 50 }}
"#,
        strategies = support::components_dir().display(),
        market = support::eth_market(5, 60),
        admin = pennant_daemon::api::hash_token(ADMIN),
    );
    let path = dir.join("pennant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// What the store says: open order ids, positions by (strategy, instrument), fills.
struct Stored {
    open: BTreeSet<i64>,
    positions: BTreeSet<(String, String, i64)>,
    fills: i64,
    max_order_id: i64,
}

fn stored(db: &Path) -> Option<Stored> {
    let conn = Connection::open(db).ok()?;
    let open = conn
        .prepare("SELECT order_id FROM order_state WHERE status IN ('submitted', 'accepted', 'partially_filled')")
        .ok()?
        .query_map([], |r| r.get(0))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    let positions = conn
        .prepare("SELECT p.strategy, p.instrument, p.qty FROM positions p JOIN (SELECT strategy, instrument, MAX(seq) AS seq FROM positions GROUP BY strategy, instrument) l ON p.seq = l.seq")
        .ok()?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    let fills = conn
        .query_row("SELECT COUNT(*) FROM fills", [], |r| r.get(0))
        .ok()?;
    let max_order_id = conn
        .query_row(
            "SELECT COALESCE(MAX(order_id), 0) FROM order_state",
            [],
            |r| r.get(0),
        )
        .ok()?;
    Some(Stored {
        open,
        positions,
        fills,
        max_order_id,
    })
}

/// `key=value` of a log line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let start = line
        .find(&format!("{key}="))
        .map_or(line.len(), |i| i + key.len() + 1);
    line[start..].split_whitespace().next().unwrap_or("")
}

#[test]
fn after_sigkill_the_daemon_comes_back_with_its_positions_and_open_orders() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let db = dir.path().join("state").join("pennant.db");
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    // Trading: some fills booked and some orders resting, as the store sees it.
    support::poll("fills and open orders in the store", || {
        stored(&db).filter(|s| s.fills >= 3 && !s.open.is_empty() && !s.positions.is_empty())
    });
    daemon.signal("KILL");
    let (status, _) = daemon.wait_exit();
    assert_eq!(status.code(), None, "killed by a signal");
    let before = stored(&db).expect("the store is readable after the crash");

    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    daemon.wait_for(&["recovered from the store"]);
    let output = daemon.output();
    let recovered_orders: BTreeSet<i64> = output
        .iter()
        .filter(|l| l.contains("recovered open order"))
        .map(|l| field(l, "order_id").parse().unwrap())
        .collect();
    let recovered_positions: BTreeSet<(String, String, i64)> = output
        .iter()
        .filter(|l| l.contains("recovered position"))
        .map(|l| {
            let qty: f64 = field(l, "position").parse().unwrap();
            (
                field(l, "strategy").to_owned(),
                field(l, "instrument").to_owned(),
                (qty * 1e8).round() as i64,
            )
        })
        .collect();
    assert_eq!(recovered_orders, before.open);
    assert_eq!(recovered_positions, before.positions);
    // The market maker's state is older than its quotes (and it keeps none): left
    // working, they would rest beside the ones it places now. Its policy cancels them.
    let canceled = daemon.wait_for(&["open orders left by a crash canceled", "strategy=mm"]);
    assert_eq!(
        field(&canceled, "canceled_orders"),
        before.open.len().to_string()
    );
    // New orders follow the old ones.
    support::poll("a new order after the restart", || {
        stored(&db).filter(|s| s.max_order_id > before.max_order_id)
    });
    daemon.signal("TERM");
    let (status, output) = daemon.wait_exit();
    let log = output.join("\n");
    assert_eq!(status.code(), Some(0), "{log}");
    // The paper venue had every recovered order resting: nothing to reconcile.
    assert!(!log.contains("reconciled:"), "{log}");

    let conn = Connection::open(&db).unwrap();
    let sent_twice: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM (SELECT order_id FROM orders WHERE status = 'submitted' GROUP BY order_id HAVING COUNT(*) > 1) twice",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sent_twice, 0, "an order id was submitted twice");
    // The recovered orders were canceled before the market maker started: none filled.
    for id in &before.open {
        let status: String = conn
            .query_row(
                "SELECT status FROM order_state WHERE order_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(status, "canceled", "order {id}");
    }
    let after = stored(&db).unwrap();
    assert!(
        after.open.is_empty(),
        "SIGTERM cancels and records it: {:?}",
        after.open
    );
}

#[test]
fn a_corrupt_store_exits_78_naming_the_file_and_an_unreachable_one_69_naming_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("pennant.db"), vec![3u8; 8192]).unwrap();
    let (status, output) = Daemon::start(&["--config", config.to_str().unwrap()]).wait_exit();
    let log = output.join("\n");
    assert_eq!(status.code(), Some(78), "{log}");
    assert!(
        log.contains("cannot open the store") && log.contains("pennant.db"),
        "{log}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[plugins]",
        &format!(
            "[store]\nurl = \"postgres://pennant@127.0.0.1:{port}/pennant\"\nconnect_timeout_ms = 2000\n\n[plugins]"
        ),
    );
    std::fs::write(&config, text).unwrap();
    let (status, output) = Daemon::start(&["--config", config.to_str().unwrap()]).wait_exit();
    let log = output.join("\n");
    assert_eq!(status.code(), Some(69), "{log}");
    assert!(
        log.contains(&format!(
            "cannot reach PostgreSQL at 127.0.0.1:{port}/pennant"
        )),
        "{log}"
    );
}

#[test]
fn with_postgresql_a_sigterm_flushes_every_record_before_exit() {
    let cluster = pennant_testkit::pg::PgCluster::start();
    let url = cluster.database("pennant");
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[plugins]",
        &format!("[store]\nurl = \"{url}\"\n\n[plugins]"),
    );
    std::fs::write(&config, text).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    });
    let count = |query: &str| -> i64 {
        runtime
            .block_on(client.query_one(query, &[]))
            .map(|row| row.get(0))
            .unwrap_or(0)
    };
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    support::poll("fills in PostgreSQL", || {
        (count("SELECT COUNT(*) FROM fills") >= 3).then_some(())
    });
    daemon.signal("TERM");
    let (status, output) = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", output.join("\n"));
    // The cancels of the shutdown itself were written before the exit.
    let open = count("SELECT COUNT(*) FROM order_state WHERE status IN ('submitted', 'accepted', 'partially_filled')");
    assert_eq!(open, 0);
    // Every numbered record arrived: the sequence numbers in the tables are 1..=last_seq
    // without a gap (the one strategy state, taken at shutdown, and the clean shutdown's
    // mark included).
    let last_seq = count("SELECT last_seq FROM journal");
    let seqs: Vec<i64> = runtime
        .block_on(client.query(
            "SELECT seq FROM orders UNION ALL SELECT seq FROM fills UNION ALL SELECT seq FROM positions UNION ALL SELECT seq FROM strategy_events UNION ALL SELECT seq FROM risk_events UNION ALL SELECT seq FROM signals UNION ALL SELECT seq FROM strategy_states UNION ALL SELECT clean_shutdown_seq FROM journal WHERE clean_shutdown_seq > 0 ORDER BY seq",
            &[],
        ))
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(last_seq > 0);
    assert_eq!(seqs, (1..=last_seq).collect::<Vec<i64>>());
}

/// The order ids the store holds, in order.
fn order_ids(db: &Path) -> Vec<i64> {
    let conn = Connection::open(db).unwrap();
    let mut statement = conn
        .prepare("SELECT order_id FROM order_state ORDER BY order_id")
        .unwrap();
    let ids = statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ids
}

#[test]
fn the_kill_switch_run_time_limits_and_order_ids_survive_a_clean_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let db = dir.path().join("state").join("pennant.db");
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    let api = Api::of(&daemon);
    support::poll("orders in the store", || {
        stored(&db).filter(|s| s.max_order_id > 0)
    });
    let scope = r#"{"scope": "strategy", "id": "mm"}"#;
    api.ok("POST", "/api/v1/kill-switch", ADMIN, Some(scope));
    let change = r#"{"scope": "strategy", "id": "mm", "limits": {"max_open_orders": 3, "max_order_qty": "2"}}"#;
    api.ok("PUT", "/api/v1/risk/limits", ADMIN, Some(change));
    let change = r#"{"scope": "global", "limits": {"max_gross_exposure": "123456"}}"#;
    api.ok("PUT", "/api/v1/risk/limits", ADMIN, Some(change));
    daemon.signal("TERM");
    let (status, _) = daemon.wait_exit();
    assert_eq!(status.code(), Some(0));
    let ids_before = order_ids(&db);
    let last = *ids_before.last().unwrap();

    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    let api = Api::of(&daemon);
    let risk = api.ok("GET", "/api/v1/risk", ADMIN, None);
    assert_eq!(risk["kill_switch"], json!(["strategy mm"]), "{risk}");
    let limits = &risk["limits"];
    assert_eq!(limits["strategies"]["mm"]["max_open_orders"], 3, "{risk}");
    assert_eq!(limits["strategies"]["mm"]["max_order_qty"], "2", "{risk}");
    assert_eq!(limits["global"]["max_gross_exposure"], "123456", "{risk}");
    let metrics = api.call("GET", "/metrics", None, None).body;
    assert!(metrics.contains("pennant_kill_switch_engaged{scope=\"strategy mm\"} 1"));
    // Released, the strategy trades again, its order ids right after the last one.
    api.ok("DELETE", "/api/v1/kill-switch", ADMIN, Some(scope));
    let next = support::poll("an order after the restart", || {
        order_ids(&db).into_iter().find(|&id| id > last)
    });
    assert_eq!(next, last + 1, "a clean restart continues the order ids");
    // A configuration reload of that scope wins over the run-time change, and is what
    // the next start applies.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text + "\n[risk.strategy.mm]\nmax_open_orders = 7\n",
    )
    .unwrap();
    daemon.signal("HUP");
    support::poll("the configuration's limits", || {
        let risk = api.ok("GET", "/api/v1/risk", ADMIN, None);
        (risk["limits"]["strategies"]["mm"]["max_open_orders"] == 7).then_some(())
    });
    daemon.signal("KILL");
    let _ = daemon.wait_exit();
    let ids_before = order_ids(&db);
    let last = *ids_before.last().unwrap();
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    let api = Api::of(&daemon);
    let risk = api.ok("GET", "/api/v1/risk", ADMIN, None);
    assert_eq!(
        risk["limits"]["strategies"]["mm"]["max_open_orders"], 7,
        "{risk}"
    );
    assert_eq!(
        risk["limits"]["strategies"]["mm"]["max_order_qty"],
        serde_json::Value::Null,
        "{risk}"
    );
    assert_eq!(
        risk["limits"]["global"]["max_gross_exposure"], "123456",
        "{risk}"
    );
    assert_eq!(risk["kill_switch"], json!([]), "released before the crash");
    // After a crash, ids jump past any that may have been given unrecorded.
    let next = support::poll("an order after the crash", || {
        order_ids(&db).into_iter().find(|&id| id > last)
    });
    assert!(next > last + 1_000_000, "{next} after {last}");
    daemon.signal("TERM");
    let (status, _) = daemon.wait_exit();
    assert_eq!(status.code(), Some(0));
}

/// A tmpfs of `mib` MiB mounted at `path` for the life of the value (the tests run as
/// root, as CI does).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(path: &Path, mib: u32) -> SmallDisk {
        std::fs::create_dir_all(path).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(path)
            .status()
            .expect("mount runs");
        assert!(status.success(), "mounting a tmpfs needs root: {status}");
        SmallDisk(path.to_owned())
    }

    /// Writes a file until the disk is full; returns it.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let mut byte = [0u8; 1];
        while file.write_all(&byte).is_ok() {
            byte[0] = byte[0].wrapping_add(1);
        }
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_disk_holds_trading_at_reduce_only_and_loses_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let disk = SmallDisk::mount(&dir.path().join("state"), 64);
    let db = dir.path().join("state").join("pennant.db");
    let daemon = Daemon::start(&["--config", config.to_str().unwrap()]);
    let api = Api::of(&daemon);
    support::poll("fills in the store", || {
        stored(&db).filter(|s| s.fills >= 3)
    });
    let rejected = || {
        let metrics = api.call("GET", "/metrics", None, None).body;
        metrics
            .lines()
            .find_map(|l| {
                l.strip_prefix(r#"pennant_orders_rejected_total{reason="reduce_only",source="risk",strategy="mm"} "#)
            })
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };

    let filler = disk.fill();
    // Not durable: trading is held at reduce-only, and readiness says why.
    let hold = support::poll("the store's hold", || {
        let risk = api.ok("GET", "/api/v1/risk", ADMIN, None);
        risk["store_hold"].as_str().map(str::to_owned)
    });
    assert!(
        hold.contains("neither the database nor the spool"),
        "{hold}"
    );
    let ready = api.call("GET", "/readyz", None, None);
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(
        ready.body.contains("records are not durable"),
        "{}",
        ready.body
    );
    let metrics = api.call("GET", "/metrics", None, None).body;
    assert!(metrics.contains("pennant_store_hold 1"), "{metrics}");
    support::poll("an opening order refused as reduce-only", || {
        (rejected() > 0).then_some(())
    });
    let rss = rss_mib(daemon.pid());
    assert!(rss < 400, "RSS {rss} MiB");

    // Space comes back: everything is written, the hold lifts, trading goes on.
    std::fs::remove_file(filler).unwrap();
    support::poll("the hold lifted", || {
        let risk = api.ok("GET", "/api/v1/risk", ADMIN, None);
        risk["store_hold"].is_null().then_some(())
    });
    support::poll("ready again", || {
        (api.call("GET", "/readyz", None, None).status == 200).then_some(())
    });
    let before = stored(&db).unwrap().fills;
    support::poll("fills after the disk came back", || {
        stored(&db).filter(|s| s.fills > before)
    });
    daemon.signal("TERM");
    let (status, output) = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", output.join("\n"));
    assert!(!output.iter().any(|l| l.contains("records lost")));

    // Every numbered record is in the database: 1..=last_seq without a gap.
    let conn = Connection::open(&db).unwrap();
    let last_seq: i64 = conn
        .query_row("SELECT last_seq FROM journal", [], |r| r.get(0))
        .unwrap();
    let mut statement = conn
        .prepare("SELECT seq FROM orders UNION ALL SELECT seq FROM fills UNION ALL SELECT seq FROM positions UNION ALL SELECT seq FROM strategy_events UNION ALL SELECT seq FROM risk_events UNION ALL SELECT seq FROM signals UNION ALL SELECT seq FROM strategy_states UNION ALL SELECT clean_shutdown_seq FROM journal WHERE clean_shutdown_seq > 0 ORDER BY seq")
        .unwrap();
    let seqs: Vec<i64> = statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(seqs.len() as i64, last_seq, "a record is missing");
    assert!(seqs.iter().copied().eq(1..=last_seq), "the seqs have a gap");
    drop(statement);
    drop(conn);
    drop(disk);
}

/// The resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap()
        / 1024
}
