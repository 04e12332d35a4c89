//! Admin API latency under load: the real `pennantd`, in its own process, replays a
//! generated tape at full speed while a few clients on loopback call its admin API back
//! to back over keep-alive HTTP/1.1 connections. Per-request latency and requests/s at
//! the clients, and the events/s the engine processed meanwhile (from `/metrics`).

use crate::report::{duration, quantile, rate, Section};
use crate::scenarios::Run;
use crate::setup::{self, Kind};
use pennant_daemon::market::replay::format_line;
use serde_json::json;
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The viewer token the clients present to `/api/v1`.
const TOKEN: &str = "bench-token";
/// The admin token the kill switch is pulled with.
const ADMIN_TOKEN: &str = "bench-admin-token";
/// Concurrent clients, each a thread with its own connection.
const CLIENTS: usize = 4;
/// Requests each client makes before the measured phase (connection, first-call costs).
const WARMUP: usize = 100;
/// The strategy the daemon runs during the load.
const STRATEGY: Kind = Kind::MarketMaker;
/// How long the daemon may take to start (compiling the component on a cold cache).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a client waits for a reply before counting an error.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// One endpoint under load.
struct Endpoint {
    /// Path and query.
    path: &'static str,
    /// Whether it takes the bearer token.
    token: bool,
}

const ENDPOINTS: [Endpoint; 2] = [
    Endpoint {
        path: "/healthz",
        token: false,
    },
    Endpoint {
        path: "/api/v1/strategies",
        token: true,
    },
];

/// What one phase measured.
struct Phase {
    /// Replies received (any status), and the wall time of the phase.
    requests: usize,
    seconds: f64,
    /// Latency of every reply, in ns, sorted.
    latencies: Vec<u64>,
    /// Replies other than 200, and requests that got no reply (connection errors).
    non_200: usize,
    errors: usize,
    /// What the first failure was.
    first_failure: Option<String>,
    /// Engine events processed between the scrapes around the phase, and the time
    /// between them.
    engine_events: u64,
    engine_seconds: f64,
    /// Whether the feed had read the whole tape by the end of the phase (the engine may
    /// then have idled for part of it).
    tape_ended: bool,
}

/// Admin API latency under load. Panics (after stopping the daemon) if any request
/// gets no reply or a status other than 200.
pub fn api_under_load(run: &Run) -> Section {
    let length = Duration::from_secs(if run.quick { 1 } else { 3 });
    // The market maker holds the engine under 1 M events/s: this outlasts a phase plus
    // the start-up and the warm-up, as `tape_ended` checks (a faster strategy needs more).
    let tape_events = if run.quick { 3_000_000 } else { 8_000_000 };
    let mut section = Section::new(
        "Admin API latency under load",
        &format!(
            "The real `pennantd` (release build, its own process) replays a generated tape of \
             {tape_events} trades and quotes as fast as it can (`speed = 0`) with one `{}` \
             strategy, while {CLIENTS} clients on loopback, each on its own keep-alive HTTP/1.1 \
             connection, send requests back to back for {} s per endpoint, after {WARMUP} \
             warm-up requests each: `GET /healthz` (no token) and `GET /api/v1/strategies` (a \
             viewer token; served from the view the engine publishes). Latency: from writing \
             the request to reading the whole body, at the client. *Engine events/s*: \
             `pennant_engine_events_total` from `/metrics` just before and after the phase; \
             *none* is the same phase without requests, for comparison. A fresh daemon per \
             phase; every reply must be 200. The engine thread, the feed's parser, the API's \
             two runtime workers and the clients share this machine's cores.",
            STRATEGY.name(),
            length.as_secs(),
        ),
        &[
            "endpoint",
            "clients",
            "requests",
            "requests/s",
            "p50",
            "p90",
            "p99",
            "max",
            "non-200",
            "engine events/s",
            "replay",
        ],
    );
    let (binary, dir, config) = prepare(run, "api-load", tape_events);

    let mut failures = Vec::new();
    for endpoint in std::iter::once(None).chain(ENDPOINTS.iter().map(Some)) {
        let path = endpoint.map(|e| e.path);
        let phase =
            measure(&binary, &config, endpoint, length, tape_events as u64).unwrap_or_else(|err| {
                panic!(
                    "admin API under load, {}: {err}",
                    path.unwrap_or("no requests")
                )
            });
        let clients = if endpoint.is_some() { CLIENTS } else { 0 };
        let q = |x| quantile(&phase.latencies, x);
        let [p50, p90, p99, max] = [0.5, 0.9, 0.99, 1.0].map(q);
        let per_second = phase.requests as f64 / phase.seconds.max(1e-9);
        let events_per_second = phase.engine_events as f64 / phase.engine_seconds.max(1e-9);
        let replay = if phase.tape_ended {
            "**tape ended during the phase**".into()
        } else {
            "running throughout".into()
        };
        let cells = match path {
            Some(path) => vec![
                format!("`GET {path}`"),
                clients.to_string(),
                phase.requests.to_string(),
                format!("{per_second:.0}"),
                duration(p50 as f64),
                duration(p90 as f64),
                duration(p99 as f64),
                duration(max as f64),
                (phase.non_200 + phase.errors).to_string(),
                rate(events_per_second),
                replay,
            ],
            None => ["none", "0", "0", "-", "-", "-", "-", "-", "-"]
                .map(String::from)
                .into_iter()
                .chain([rate(events_per_second), replay])
                .collect(),
        };
        section.row(
            cells,
            json!({"endpoint": path, "clients": clients, "seconds": phase.seconds,
                   "requests": phase.requests, "requests_per_s": per_second,
                   "p50_ns": p50, "p90_ns": p90, "p99_ns": p99, "max_ns": max,
                   "non_200": phase.non_200, "errors": phase.errors,
                   "engine_events": phase.engine_events, "engine_events_per_s": events_per_second,
                   "tape_events": tape_events, "tape_ended": phase.tape_ended}),
        );
        if phase.non_200 + phase.errors > 0 {
            failures.push(format!(
                "{}: {} non-200 replies and {} requests without a reply (first: {})",
                path.unwrap_or("?"),
                phase.non_200,
                phase.errors,
                phase.first_failure.as_deref().unwrap_or("?")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "admin API under load: every reply must be 200; {}",
        failures.join("; ")
    );
    section
}

/// The release `pennantd`, and a scratch folder `name` with a tape of `tape_events`
/// events and the configuration that replays it.
fn prepare(run: &Run, name: &str, tape_events: usize) -> (PathBuf, PathBuf, PathBuf) {
    let binary = pennantd().unwrap_or_else(|err| panic!("{name}: {err}"));
    let dir = run.scratch.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch folder is writable");
    let tape = dir.join("tape.csv");
    write_tape(&tape, tape_events).expect("the scratch folder is writable");
    let config = dir.join("pennant.toml");
    std::fs::write(&config, config_text(run, &dir, &tape)).expect("the scratch folder is writable");
    (binary, dir, config)
}

/// The daemon's configuration: a full-speed replay of `tape`, one strategy, the API on a
/// free loopback port with the bench's viewer token and no effective rate limit, and
/// logs at `warn` except the daemon's own start-up lines (which carry the API's address).
fn config_text(run: &Run, dir: &Path, tape: &Path) -> String {
    let params: Vec<String> = STRATEGY
        .params()
        .iter()
        .map(|(key, value)| format!("{key} = {value:?}"))
        .collect();
    format!(
        "[daemon]\nstate_dir = {state:?}\nexit_when_feeds_end = false\n\
         log_level = \"warn,pennant_daemon::daemon=info\"\n\
         [api]\nlisten = \"127.0.0.1:0\"\n\
         rate_limit_per_second = 1000000\nrate_limit_burst = 1000000\n\
         [[api.token]]\nname = \"bench\"\nrole = \"viewer\"\nsha256 = {sha:?}\n\
         [[api.token]]\nname = \"bench-admin\"\nrole = \"admin\"\nsha256 = {admin:?}\n\
         [plugins]\ndir = {components:?}\n\
         [[instrument]]\nsymbol = {symbol:?}\ntick_size = \"0.1\"\nlot_size = \"0.001\"\n\
         [[feed]]\nname = \"tape\"\nkind = \"replay\"\npath = {tape:?}\nspeed = 0\n\
         [[strategy]]\nid = \"s\"\ncomponent = {component:?}\nparams = {{ {params} }}\n",
        state = dir.join("state").display().to_string(),
        sha = pennant_daemon::api::hash_token(TOKEN),
        admin = pennant_daemon::api::hash_token(ADMIN_TOKEN),
        components = run.components.display().to_string(),
        symbol = setup::SYMBOL,
        tape = tape.display().to_string(),
        component = STRATEGY.component(),
        params = params.join(", "),
    )
}

/// Writes the first `events` generated market events ([`setup::market`]'s) as a replay
/// file, without holding them in memory.
fn write_tape(path: &Path, events: usize) -> io::Result<()> {
    let instruments = setup::instruments();
    let mut out = io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut result = Ok(());
    setup::each_event(events, |event| {
        if result.is_ok() {
            result = writeln!(out, "{}", format_line(event, &instruments));
        }
    });
    result?;
    out.flush()
}

/// One phase: a fresh daemon, the load on `endpoint` (or none) for `length`, the
/// engine's events counted around it, the daemon stopped.
fn measure(
    binary: &Path,
    config: &Path,
    endpoint: Option<&Endpoint>,
    length: Duration,
    tape_events: u64,
) -> Result<Phase, String> {
    let mut daemon = Daemon::start(binary, config)?;
    let before = scrape(daemon.addr)?;
    let (load, seconds) = match endpoint {
        Some(endpoint) => load(daemon.addr, endpoint, length),
        None => {
            std::thread::sleep(length);
            (Vec::new(), length.as_secs_f64())
        }
    };
    let after = scrape(daemon.addr)?;
    let status = daemon.stop()?;
    if !status.success() {
        return Err(format!(
            "pennantd exited with {status} after SIGTERM: {}",
            daemon.tail()
        ));
    }
    let mut latencies: Vec<u64> = load
        .iter()
        .flat_map(|t| t.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    Ok(Phase {
        requests: latencies.len(),
        seconds,
        latencies,
        non_200: load.iter().map(|t| t.non_200).sum(),
        errors: load.iter().map(|t| t.errors).sum(),
        first_failure: load.iter().find_map(|t| t.first_failure.clone()),
        engine_events: after.engine_events.saturating_sub(before.engine_events),
        engine_seconds: (after.at - before.at).as_secs_f64(),
        tape_ended: after.feed_events >= tape_events,
    })
}

/// What one client saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<u64>,
    non_200: usize,
    errors: usize,
    first_failure: Option<String>,
}

/// [`CLIENTS`] clients calling `endpoint` back to back for `length`, after a warm-up;
/// what each saw, and the phase's wall time in seconds.
fn load(addr: SocketAddr, endpoint: &Endpoint, length: Duration) -> (Vec<Tally>, f64) {
    let request: Arc<[u8]> = get_request(addr, endpoint.path, endpoint.token).into();
    let start = Arc::new(Barrier::new(CLIENTS + 1));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let request = request.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                let mut client = Client::new(addr);
                for _ in 0..WARMUP {
                    let _ = client.get(&request);
                }
                let mut tally = Tally {
                    latencies: Vec::with_capacity(1 << 16),
                    ..Tally::default()
                };
                start.wait();
                let end = Instant::now() + length;
                loop {
                    let sent = Instant::now();
                    let reply = client.get(&request);
                    let done = Instant::now();
                    match reply {
                        Ok(status) => {
                            tally.latencies.push((done - sent).as_nanos() as u64);
                            if status != 200 {
                                tally.non_200 += 1;
                                tally.first_failure.get_or_insert_with(|| {
                                    let body = String::from_utf8_lossy(&client.body);
                                    format!(
                                        "HTTP {status}: {}",
                                        body.chars().take(200).collect::<String>()
                                    )
                                });
                            }
                        }
                        Err(err) => {
                            // The connection is gone: this client stops, and the phase fails.
                            tally.errors += 1;
                            tally.first_failure.get_or_insert_with(|| err.to_string());
                            break;
                        }
                    }
                    if done >= end {
                        break;
                    }
                }
                tally
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let tallies: Vec<Tally> = clients
        .into_iter()
        .map(|client| {
            client.join().unwrap_or_else(|_| Tally {
                errors: 1,
                first_failure: Some("a client thread panicked".into()),
                ..Tally::default()
            })
        })
        .collect();
    (tallies, began.elapsed().as_secs_f64())
}

/// The kill switch pulled and released, one request at a time, while the engine replays
/// at full speed: the latency from the request to its answer, which comes once every
/// open order in the scope is canceled. Returns the section and the p99 in ns.
pub fn kill_switch_under_load(run: &Run) -> (Section, u64) {
    let switches = if run.quick { 50 } else { 300 };
    let tape_events = if run.quick { 3_000_000 } else { 8_000_000 };
    let mut section = Section::new(
        "Kill switch under load",
        &format!(
            "The real `pennantd` (release build) replays a generated tape of {tape_events} \
             events at full speed with one `{}` strategy, as in the section above. One client \
             engages the global kill switch (`POST /api/v1/kill-switch`, an admin token) and \
             releases it (`DELETE`), {switches} times each, back to back. Latency: from writing \
             the `POST` to reading its answer, which the engine sends once it has halted \
             trading and canceled every open order. Control inputs (the API's, ticks, \
             shutdown) reach the engine on their own channel, read before market data and \
             between two events of a batch, so the switch never queues behind the feed's \
             batches.",
            STRATEGY.name()
        ),
        &[
            "switches",
            "orders canceled",
            "p50",
            "p90",
            "p99",
            "max",
            "engine events/s",
            "replay",
        ],
    );
    let (binary, dir, config) = prepare(run, "kill-switch", tape_events);
    let mut daemon = Daemon::start(&binary, &config)
        .unwrap_or_else(|err| panic!("kill switch under load: {err}"));
    let before = scrape(daemon.addr).unwrap_or_else(|err| panic!("kill switch under load: {err}"));
    let body = r#"{"scope": "global"}"#;
    let engage = request(
        daemon.addr,
        "POST",
        "/api/v1/kill-switch",
        ADMIN_TOKEN,
        body,
    );
    let release = request(
        daemon.addr,
        "DELETE",
        "/api/v1/kill-switch",
        ADMIN_TOKEN,
        body,
    );
    let mut client = Client::new(daemon.addr);
    let mut latencies = Vec::with_capacity(switches);
    let mut canceled = 0u64;
    let mut failure = None;
    for _ in 0..switches {
        let sent = Instant::now();
        let engaged = client.get(&engage);
        let done = Instant::now();
        match engaged {
            Ok(200) => {
                latencies.push((done - sent).as_nanos() as u64);
                canceled += serde_json::from_slice::<serde_json::Value>(&client.body)
                    .ok()
                    .and_then(|v| v["canceled_orders"].as_u64())
                    .unwrap_or(0);
            }
            other => {
                failure = Some(format!(
                    "POST: {other:?}: {}",
                    String::from_utf8_lossy(&client.body)
                ));
                break;
            }
        }
        match client.get(&release) {
            Ok(200) => {}
            other => {
                failure = Some(format!(
                    "DELETE: {other:?}: {}",
                    String::from_utf8_lossy(&client.body)
                ));
                break;
            }
        }
    }
    let after = scrape(daemon.addr).unwrap_or_else(|err| panic!("kill switch under load: {err}"));
    let _ = daemon.stop();
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(failure) = failure {
        panic!("kill switch under load: {failure}: {}", daemon.tail());
    }
    latencies.sort_unstable();
    let [p50, p90, p99, max] = [0.5, 0.9, 0.99, 1.0].map(|q| quantile(&latencies, q));
    let events = after.engine_events.saturating_sub(before.engine_events);
    let events_per_second = events as f64 / (after.at - before.at).as_secs_f64().max(1e-9);
    let tape_ended = after.feed_events >= tape_events as u64;
    section.row(
        vec![
            switches.to_string(),
            canceled.to_string(),
            duration(p50 as f64),
            duration(p90 as f64),
            duration(p99 as f64),
            duration(max as f64),
            rate(events_per_second),
            if tape_ended {
                "**tape ended**".into()
            } else {
                "running throughout".into()
            },
        ],
        json!({"switches": switches, "canceled_orders": canceled, "p50_ns": p50, "p90_ns": p90,
               "p99_ns": p99, "max_ns": max, "engine_events_per_s": events_per_second,
               "tape_ended": tape_ended}),
    );
    (section, p99)
}

/// A request with a JSON body and the token `token`.
fn request(addr: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A GET request for `path`, with the bench's token if `token`.
fn get_request(addr: SocketAddr, path: &str, token: bool) -> Vec<u8> {
    let auth = if token {
        format!("Authorization: Bearer {TOKEN}\r\n")
    } else {
        String::new()
    };
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}\r\n").into_bytes()
}

/// Counters read from `/metrics`, and when.
struct Scrape {
    at: Instant,
    /// `pennant_engine_events_total`.
    engine_events: u64,
    /// `pennant_market_events_total`, every feed and type: what the feed has read.
    feed_events: u64,
}

fn scrape(addr: SocketAddr) -> Result<Scrape, String> {
    let mut client = Client::new(addr);
    let status = client
        .get(&get_request(addr, "/metrics", false))
        .map_err(|err| format!("GET /metrics: {err}"))?;
    let at = Instant::now();
    let text = String::from_utf8_lossy(&client.body);
    if status != 200 {
        return Err(format!("GET /metrics: HTTP {status}: {text}"));
    }
    let counter =
        |name: &str| metric_sum(&text, name).ok_or_else(|| format!("GET /metrics has no {name}"));
    Ok(Scrape {
        at,
        engine_events: counter("pennant_engine_events_total")? as u64,
        // Absent until the feed has read its first event.
        feed_events: metric_sum(&text, "pennant_market_events_total").unwrap_or(0.0) as u64,
    })
}

/// The sum of every sample of metric `name` in Prometheus text format, or `None` if
/// there is none.
fn metric_sum(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let series = line.split_whitespace().next().unwrap_or_default();
        if series.split('{').next() != Some(name) {
            continue;
        }
        if let Some(value) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
            *found.get_or_insert(0.0) += value;
        }
    }
    found
}

/// A minimal HTTP/1.1 client on one keep-alive connection (reopened if the server closes
/// it): sends ready-made requests, reads the status and the body (by `Content-Length`,
/// chunked, or to the end of the connection).
struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
    /// The last reply's body.
    body: Vec<u8>,
    line: String,
}

impl Client {
    fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            conn: None,
            body: Vec::new(),
            line: String::new(),
        }
    }

    /// Sends `request`, reads the reply into `self.body`, returns its status.
    fn get(&mut self, request: &[u8]) -> io::Result<u16> {
        let reply = self.exchange(request);
        if reply.is_err() {
            self.conn = None;
        }
        reply
    }

    fn exchange(&mut self, request: &[u8]) -> io::Result<u16> {
        if self.conn.is_none() {
            let stream = TcpStream::connect(self.addr)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
            self.conn = Some(BufReader::new(stream));
        }
        let Some(conn) = &mut self.conn else {
            return Err(invalid("no connection".into()));
        };
        conn.get_mut().write_all(request)?;
        let line = &mut self.line;
        read_line(conn, line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| invalid(format!("not an HTTP status line: {line:?}")))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            read_line(conn, line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                return Err(invalid(format!("not a header: {header:?}")));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| invalid(format!("bad Content-Length {value:?}")))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let body = &mut self.body;
        body.clear();
        if chunked {
            loop {
                read_line(conn, line)?;
                let size = line.trim_end().split(';').next().unwrap_or_default();
                let size = usize::from_str_radix(size.trim(), 16)
                    .map_err(|_| invalid(format!("bad chunk size {size:?}")))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        read_line(conn, line)?;
                        if line.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let at = body.len();
                body.resize(at + size, 0);
                conn.read_exact(&mut body[at..])?;
                read_line(conn, line)?;
            }
        } else if let Some(length) = length {
            body.resize(length, 0);
            conn.read_exact(body)?;
        } else {
            conn.read_to_end(body)?;
            close = true;
        }
        if close {
            self.conn = None;
        }
        Ok(status)
    }
}

/// Reads one line into `line` (cleared first); the end of the connection is an error.
fn read_line(conn: &mut BufReader<TcpStream>, line: &mut String) -> io::Result<()> {
    line.clear();
    if conn.read_line(line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ));
    }
    Ok(())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// A running `pennantd`, its API's address, and the last lines of its log; killed if
/// still running when dropped.
struct Daemon {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Daemon {
    /// Starts `binary` on `config` and waits for its API to listen.
    fn start(binary: &Path, config: &Path) -> Result<Daemon, String> {
        let mut child = Command::new(binary)
            .arg("--config")
            .arg(config)
            .arg("run")
            // The configuration's log level decides (the address is in an info line),
            // and the log goes to the pipe, never to journald.
            .env_remove("RUST_LOG")
            .env_remove("JOURNAL_STREAM")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", binary.display()))?;
        let stderr = child.stderr.take();
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let mut daemon = Daemon {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log: log.clone(),
        };
        let Some(stderr) = stderr else {
            return Err("pennantd's standard error is not a pipe".into());
        };
        let (found, addr) = mpsc::channel();
        // Reads the log to its end, so that the daemon never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = listening_addr(&line) {
                    let _ = found.send(addr);
                }
                let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                if log.len() == 20 {
                    log.pop_front();
                }
                log.push_back(line);
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match addr.recv_timeout(Duration::from_millis(100)) {
                Ok(addr) => {
                    daemon.addr = addr;
                    return Ok(daemon);
                }
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if let Ok(Some(status)) = daemon.child.try_wait() {
                        return Err(format!(
                            "pennantd exited with {status} before its API listened: {}",
                            daemon.tail()
                        ));
                    }
                }
                Err(_) => {
                    return Err(format!(
                        "pennantd's API did not listen within {} s: {}",
                        START_TIMEOUT.as_secs(),
                        daemon.tail()
                    ))
                }
            }
        }
    }

    /// SIGTERM, and waits for the graceful shutdown (SIGKILL after 30 s).
    fn stop(&mut self) -> Result<ExitStatus, String> {
        let signalled = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !signalled {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err(format!(
                        "pennantd did not stop within 30 s of SIGTERM: {}",
                        self.tail()
                    ));
                }
                Err(err) => return Err(format!("cannot wait for pennantd: {err}")),
            }
        }
    }

    /// The last lines of the daemon's log, for error messages.
    fn tail(&self) -> String {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.is_empty() {
            "(nothing logged)".into()
        } else {
            log.iter().cloned().collect::<Vec<_>>().join(" / ")
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address in the daemon's `admin API listening addr=HOST:PORT` log line.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    if !line.contains("admin API listening") {
        return None;
    }
    let (_, rest) = line.split_once("addr=")?;
    let addr = rest.split_whitespace().next()?;
    addr.trim_matches('"').parse().ok()
}

/// The `pennantd` binary of this cargo profile, built first so that it is the daemon of
/// this source tree (cargo does nothing if it is up to date). `$PENNANTD` names another
/// binary, used as is.
fn pennantd() -> Result<PathBuf, String> {
    if let Some(binary) = std::env::var_os("PENNANTD") {
        return Ok(PathBuf::from(binary));
    }
    let exe = std::env::current_exe().map_err(|err| format!("where am I? {err}"))?;
    let profile_dir = exe
        .parent()
        .ok_or("this program is in no folder")?
        .to_owned();
    let target_dir = profile_dir
        .parent()
        .ok_or("this program is not in a cargo target folder")?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_owned(),
        Some(name) => name.to_owned(),
        None => {
            return Err(format!(
                "{} is not a cargo profile folder",
                profile_dir.display()
            ))
        }
    };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the bench crate is in no workspace")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("bench: building pennantd ({profile} profile)");
    let status = Command::new(&cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--profile",
            &profile,
            "--package",
            "pennant-daemon",
            "--bin",
            "pennantd",
        ])
        .env("CARGO_TARGET_DIR", target_dir)
        // Cargo's progress on standard error, nothing on the report's standard output.
        .stdout(Stdio::null())
        .status()
        .map_err(|err| format!("cannot run {cargo:?}: {err}"))?;
    if !status.success() {
        return Err(format!("building pennantd failed ({status})"));
    }
    let binary = profile_dir.join("pennantd");
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!("{} is missing after the build", binary.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn finds_the_address_in_the_log_line() {
        let line = "[2026-01-01T00:00:00.000000Z INFO  pennant_daemon::daemon] admin API \
                    listening addr=127.0.0.1:40123 tokens=1";
        assert_eq!(
            listening_addr(line),
            Some(SocketAddr::from(([127, 0, 0, 1], 40123)))
        );
        assert_eq!(listening_addr("pennantd started addr=127.0.0.1:1"), None);
    }

    #[test]
    fn sums_a_metric_over_its_labels() {
        let text = "# HELP pennant_market_events_total x\n\
                    pennant_market_events_total{feed=\"tape\",type=\"quote\"} 6\n\
                    pennant_market_events_total{feed=\"tape\",type=\"trade\"} 4\n\
                    pennant_engine_events_total 10\n\
                    pennant_engine_events_total_other 99\n";
        assert_eq!(metric_sum(text, "pennant_market_events_total"), Some(10.0));
        assert_eq!(metric_sum(text, "pennant_engine_events_total"), Some(10.0));
        assert_eq!(metric_sum(text, "pennant_fills_total"), None);
    }

    #[test]
    fn reads_keep_alive_replies_by_length_and_chunked() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("a connection");
            let mut reader = BufReader::new(stream.try_clone().expect("a clone"));
            let mut stream = stream;
            let replies: [&[u8]; 2] = [
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
                b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            ];
            for reply in replies {
                let mut line = String::new();
                loop {
                    line.clear();
                    reader.read_line(&mut line).expect("a request line");
                    if line == "\r\n" {
                        break;
                    }
                }
                stream.write_all(reply).expect("the reply is sent");
            }
        });
        let mut client = Client::new(addr);
        let request = get_request(addr, "/healthz", false);
        assert_eq!(client.get(&request).expect("a reply"), 200);
        assert_eq!(client.body, b"hello");
        assert_eq!(client.get(&request).expect("a reply"), 404);
        assert_eq!(client.body, b"abcde");
        server.join().expect("the server ends");
    }
}
