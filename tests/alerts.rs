//! Alert sinks against a local HTTP receiver that answers as told: 500s, too slowly,
//! not at all (nothing listening yet), 4xx; and the real `pennantd` telling a webhook
//! of its start, a kill switch, a quarantine and its stop.

mod support;

use pennant_daemon::alert::sink::{self, SinkCounters, SinkHandle, Target};
use pennant_daemon::alert::{Alert, AlertKind};
use pennant_daemon::config::AlertConfig;
use prometheus::IntCounter;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use warp::Filter;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Status(u16),
    /// 200, after this long.
    Late(Duration),
}

/// A local HTTP receiver: answers requests as scripted (200 once the script is done)
/// and keeps every request's path and JSON body.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<VecDeque<Answer>>>,
    got: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Receiver {
    fn scripted(answers: &[Answer]) -> Receiver {
        let receiver = Receiver::default();
        receiver.script.lock().unwrap().extend(answers);
        receiver
    }

    /// Serves on `port` (0: any) of loopback; returns the address.
    fn serve(&self, port: u16) -> SocketAddr {
        let this = self.clone();
        let route = warp::post()
            .and(warp::path::full())
            .and(warp::body::bytes())
            .then(move |path: warp::path::FullPath, body: bytes::Bytes| {
                let this = this.clone();
                async move {
                    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    this.got
                        .lock()
                        .unwrap()
                        .push((path.as_str().to_owned(), json));
                    let answer = this.script.lock().unwrap().pop_front();
                    let status = match answer {
                        Some(Answer::Status(code)) => code,
                        Some(Answer::Late(wait)) => {
                            tokio::time::sleep(wait).await;
                            200
                        }
                        None => 200,
                    };
                    warp::http::Response::builder()
                        .status(status)
                        .body(String::from("{}"))
                        .unwrap()
                }
            });
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        tokio::spawn(warp::serve(route).incoming(listener).run());
        addr
    }

    fn requests(&self) -> Vec<(String, Value)> {
        self.got.lock().unwrap().clone()
    }
}

fn counters() -> SinkCounters {
    let counter = || IntCounter::new("c", "c").unwrap();
    SinkCounters {
        sent: counter(),
        failed: counter(),
        retried: counter(),
        dropped: counter(),
    }
}

/// An `[[alert]]` of this TOML (`name` and `format` are given).
fn config(format: &str, extra: &str) -> AlertConfig {
    let text = format!(
        "name = \"test\"\nformat = \"{format}\"\ntimeout_ms = 2000\nretry_min_ms = 20\nretry_max_ms = 100\n{extra}"
    );
    toml::from_str(&text).unwrap()
}

fn webhook(addr: SocketAddr, extra: &str) -> (AlertConfig, Target) {
    let config = config("webhook", &format!("url = \"http://{addr}/hook\"\n{extra}"));
    let target = sink::target(&config, None, |_| None).unwrap();
    (config, target)
}

fn start(config: &AlertConfig, target: Target, counters: &SinkCounters) -> SinkHandle {
    sink::spawn(config, target, "desk", counters.clone()).unwrap()
}

/// Polls (async) until `check` holds, for at most a minute.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn quarantined(subject: &str) -> Alert {
    Alert::new(
        AlertKind::StrategyQuarantined,
        subject,
        "call budget exceeded",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_retried_through_500s_and_a_slow_answer_until_it_takes_the_alert() {
    let receiver = Receiver::scripted(&[
        Answer::Status(500),
        Answer::Late(Duration::from_secs(6)),
        Answer::Status(503),
    ]);
    let addr = receiver.serve(0);
    let (config, target) = webhook(addr, "retries = 5");
    let counters = counters();
    let handle = start(&config, target, &counters);
    handle.offer(&quarantined("mm"));
    until("the delivery", || counters.sent.get() == 1).await;
    // 500, too late, 503, then taken (more, should a loaded machine make an answer
    // late: each is retried all the same).
    let got = receiver.requests();
    assert!(got.len() >= 4, "500, too late, 503, then taken: {got:?}");
    for (path, body) in &got {
        assert_eq!(path, "/hook");
        assert_eq!(body["kind"], "strategy_quarantined");
        assert_eq!(body["subject"], "mm");
        assert_eq!(body["severity"], "critical");
        assert_eq!(body["daemon"], "desk");
        assert_eq!(body["count"], 1);
    }
    assert_eq!(counters.retried.get(), got.len() as u64 - 1);
    assert_eq!(counters.failed.get(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_is_down_gets_the_alert_once_it_is_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let (config, target) = webhook(addr, "retries = 1000");
    let counters = counters();
    let handle = start(&config, target, &counters);
    handle.offer(&Alert::new(
        AlertKind::FeedDisconnected,
        "binance-md",
        "lost",
    ));
    until("a failed attempt", || counters.retried.get() >= 2).await;
    assert_eq!(counters.sent.get(), 0);
    let receiver = Receiver::default();
    receiver.serve(port);
    until("the delivery", || counters.sent.get() == 1).await;
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1["kind"], "feed_disconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_end_and_a_refusal_is_not_retried() {
    let receiver = Receiver::scripted(&[Answer::Status(500); 3]);
    let addr = receiver.serve(0);
    let (config, target) = webhook(addr, "retries = 2");
    let counters = counters();
    let handle = start(&config, target, &counters);
    handle.offer(&quarantined("a"));
    until("giving up", || counters.failed.get() == 1).await;
    assert_eq!(receiver.requests().len(), 3, "the first and two retries");

    receiver
        .script
        .lock()
        .unwrap()
        .push_back(Answer::Status(400));
    handle.offer(&quarantined("b"));
    until("the refusal", || counters.failed.get() == 2).await;
    assert_eq!(receiver.requests().len(), 4, "a 400 is not tried again");
    assert_eq!((counters.sent.get(), counters.retried.get()), (0, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_go_as_one_message_with_their_count() {
    let receiver = Receiver::default();
    let addr = receiver.serve(0);
    let (config, target) = webhook(addr, "group_secs = 3600");
    let counters = counters();
    let handle = start(&config, target, &counters);
    for _ in 0..5 {
        handle.offer(&quarantined("mm"));
    }
    handle.offer(&quarantined("sma"));
    // Until the group's time is up (an hour) the four repeats wait; a stopping daemon
    // sends them at once.
    handle
        .drained(tokio::time::Instant::now() + Duration::from_secs(60))
        .await;
    let got: Vec<(String, u64)> = receiver
        .requests()
        .iter()
        .map(|(_, b)| {
            (
                b["subject"].as_str().unwrap().to_owned(),
                b["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [("mm".into(), 1), ("mm".into(), 4), ("sma".into(), 1)],
        "{got:?}"
    );
    assert_eq!(counters.sent.get(), 3);
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_queue_drops_and_counts_and_never_waits() {
    let receiver = Receiver::default();
    let addr = receiver.serve(0);
    let (config, target) = webhook(addr, "queue = 2\ngroup_secs = 0");
    let counters = counters();
    let handle = start(&config, target, &counters);
    // On this one thread the sink's task cannot run between the offers: two are
    // queued, the other eight find the queue full.
    for n in 0..10 {
        handle.offer(&quarantined(&format!("s{n}")));
    }
    assert_eq!(counters.dropped.get(), 8);
    until("the two queued", || counters.sent.get() == 2).await;
    let subjects: Vec<Value> = receiver
        .requests()
        .iter()
        .map(|(_, b)| b["subject"].clone())
        .collect();
    assert_eq!(subjects, ["s0", "s1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_and_telegram_get_their_formats_and_secrets_stay_out_of_the_configuration() {
    let receiver = Receiver::default();
    let addr = receiver.serve(0);
    let credentials = tempfile::tempdir().unwrap();
    std::fs::write(
        credentials.path().join("SLACK_URL"),
        format!("http://{addr}/services/T0/B0/x\n"),
    )
    .unwrap();
    let slack = config("slack", "url_secret = \"SLACK_URL\"");
    let target = sink::target(&slack, Some(credentials.path()), |_| None).unwrap();
    assert!(
        !format!("{target:?}").contains("services"),
        "the URL is not shown"
    );
    let counters = counters();
    start(&slack, target, &counters).offer(&quarantined("mm"));
    let telegram = config(
        "telegram",
        &format!(
            "bot_token_secret = \"BOT_TOKEN\"\nchat_id = \"-1001\"\napi_url = \"http://{addr}\""
        ),
    );
    let env = |name: &str| (name == "BOT_TOKEN").then(|| "123:abc".to_owned());
    let target = sink::target(&telegram, None, env).unwrap();
    start(&telegram, target, &counters).offer(&Alert::new(
        AlertKind::KillSwitchEngaged,
        "global",
        "by api:admin",
    ));
    until("both", || counters.sent.get() == 2).await;
    let mut got = receiver.requests();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got[0].0, "/bot123:abc/sendMessage");
    assert_eq!(got[0].1["chat_id"], "-1001");
    assert_eq!(
        got[0].1["text"],
        "[desk] CRITICAL kill_switch_engaged global: by api:admin"
    );
    assert_eq!(got[1].0, "/services/T0/B0/x");
    assert_eq!(
        got[1].1["text"],
        "[desk] CRITICAL strategy_quarantined mm: call budget exceeded"
    );

    let missing = sink::target(&telegram, None, |_| None).unwrap_err();
    assert!(missing.to_string().contains("BOT_TOKEN"), "{missing}");
}

const ADMIN: &str = "admin-token";

#[test]
fn the_daemon_tells_a_webhook_of_its_start_a_kill_switch_a_quarantine_and_its_stop() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = Receiver::default();
    let addr = runtime.block_on(async { receiver.serve(0) });
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
[daemon]
id = "desk-1"
state_dir = "state"

[api]
listen = "127.0.0.1:0"

[[api.token]]
name = "admin"
role = "admin"
sha256 = "{admin}"

[plugins]
dir = "{strategies}"
call_budget_ms = 5000

[[alert]]
name = "ops"
format = "webhook"
url = "http://{addr}/hook"
group_secs = 3600
retry_min_ms = 50

[[alert]]
name = "quiet"
format = "slack"
url = "http://{addr}/slack"
events = ["daemon_stopping"]
{market}
[[strategy]]
id = "faulty"
component = "test_strategy.wasm"
params = {{ instrument = "ETH-USDT", mode = "trap", trigger = 3 }}
"#,
        admin = pennant_daemon::api::hash_token(ADMIN),
        strategies = support::components_dir().display(),
        market = support::eth_market(5, 60),
    );
    let path = dir.path().join("pennant.toml");
    std::fs::write(&path, config).unwrap();
    let daemon = support::Daemon::start(&["--config", path.to_str().unwrap()]);
    let api = support::api::Api::of(&daemon);
    let kinds = |path: &str| -> Vec<String> {
        receiver
            .requests()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b["kind"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let seen = |kind: &str| kinds("/hook").iter().any(|k| k == kind);
    support::poll("the start", || seen("daemon_started").then_some(()));
    support::poll("the quarantine", || {
        seen("strategy_quarantined").then_some(())
    });
    let global = r#"{"scope": "global"}"#;
    api.ok("POST", "/api/v1/kill-switch", ADMIN, Some(global));
    support::poll("the kill switch", || {
        seen("kill_switch_engaged").then_some(())
    });
    api.ok("DELETE", "/api/v1/kill-switch", ADMIN, Some(global));
    support::poll("its release", || seen("kill_switch_released").then_some(()));
    let scrape = api.get("/metrics", ADMIN).body;
    assert!(
        scrape.contains("pennant_alerts_total{outcome=\"sent\",sink=\"ops\"}"),
        "{scrape}"
    );

    daemon.signal("TERM");
    let (status, output) = daemon.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", output.join("\n"));
    let hook = kinds("/hook");
    assert_eq!(
        hook.first().map(String::as_str),
        Some("daemon_started"),
        "{hook:?}"
    );
    assert_eq!(
        hook.last().map(String::as_str),
        Some("daemon_stopping"),
        "{hook:?}"
    );
    // The sink that asked for the stop alone heard nothing else.
    let slack: Vec<Value> = receiver
        .requests()
        .iter()
        .filter(|(p, _)| p == "/slack")
        .map(|(_, b)| b["text"].clone())
        .collect();
    assert_eq!(
        slack,
        ["[desk-1] WARNING daemon_stopping desk-1: pennantd is stopping"]
    );
    let body = receiver
        .requests()
        .into_iter()
        .find(|(_, b)| b["kind"] == "kill_switch_engaged")
        .unwrap()
        .1;
    assert_eq!(body["subject"], "global");
    assert!(
        body["message"].as_str().unwrap().contains("api:admin"),
        "{body}"
    );
    drop(runtime);
}
