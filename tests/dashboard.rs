//! The operator's dashboard of the real `pennantd`, in a real browser (headless Chromium
//! driven by playwright-core): its assets as served, login by role, the overview, the live
//! stream, pause and resume, a viewer refused, the kill switch through its confirmation,
//! a phone's screen, and no console errors or CSP violations along the way.

mod support;

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use support::api::Api;
use support::Daemon;

const VIEWER: &str = "viewer-secret";
const OPERATOR: &str = "operator-secret";
const ADMIN: &str = "admin-secret";

/// The Content-Security-Policy every file of the dashboard is served with.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

fn sha256(token: &str) -> String {
    pennant_daemon::api::hash_token(token)
}

/// A live market with a market maker (orders, fills) and an SMA crossover (signals), its
/// API on a free loopback port, with a rate limit the page's polling never reaches.
fn config(dir: &Path) -> PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "state"

[api]
listen = "127.0.0.1:0"
rate_limit_per_second = 1000
rate_limit_burst = 1000

[[api.token]]
name = "viewer"
role = "viewer"
sha256 = "{viewer}"

[[api.token]]
name = "operator"
role = "operator"
token_env = "PENNANT_TEST_OPERATOR_TOKEN"

[[api.token]]
name = "admin"
role = "admin"
sha256 = "{admin}"

[plugins]
dir = "{strategies}"
# A call budget no well-behaved call reaches on a loaded machine (it is wall time).
call_budget_ms = 5000

# Limits far from what the strategies do, for the risk view to show their use.
[risk]
rate_window_ms = 1000

[risk.defaults]
max_position = "20"
max_orders_per_window = 2000
max_daily_loss = "100000"

[risk.global]
max_orders_per_window = 5000
max_daily_loss = "200000"

[risk.strategy.mm]
max_gross_exposure = "1000000"

{market}
[[strategy]]
id = "mm"
component = "market_maker.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.5", max_position = "5", half_spread_bps = 1, requote_ticks = 50 }}

[[strategy]]
id = "sma"
component = "sma_cross.wasm"
params = {{ instrument = "ETH-USDT", qty = "0.1", fast = 2, slow = 4, bar_interval_ms = 20, allow_short = true }}
"#,
        viewer = sha256(VIEWER),
        admin = sha256(ADMIN),
        strategies = support::components_dir().display(),
        market = support::eth_market(5, 60)
    );
    let path = dir.join("pennant.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Where the screenshots go: the workspace's target dir, kept after the test for a look.
fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A command's path, as `which` finds it (playwright wants a path, not a name).
fn which(command: &std::ffi::OsStr) -> PathBuf {
    let path = Path::new(command);
    if path.is_absolute() {
        return path.to_owned();
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(command))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| path.to_owned())
}

/// Each file of the dashboard is served as its source, byte for byte, with the CSP; an
/// unknown file is a JSON 404.
fn check_assets(api: &Api) {
    let sources = support::workspace().join("daemon/assets/dashboard");
    for (path, file, media) in [
        ("/", "index.html", "text/html"),
        ("/ui/app.js", "app.js", "text/javascript"),
        ("/ui/app.css", "app.css", "text/css"),
    ] {
        let response = ureq::get(&format!("{}{path}", api.base))
            .call()
            .unwrap_or_else(|err| panic!("GET {path}: {err}"));
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.header("content-security-policy"),
            Some(CSP),
            "{path}: the CSP header"
        );
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(response.content_type(), media, "{path}");
        let mut served = Vec::new();
        response
            .into_reader()
            .read_to_end(&mut served)
            .expect("the body reads");
        let source = std::fs::read(sources.join(file)).unwrap();
        assert!(
            source.len() > 1000,
            "{file} is the dashboard, not a placeholder"
        );
        assert!(
            served == source,
            "{path} is not daemon/assets/dashboard/{file} as it is now: rebuild pennantd"
        );
    }
    let missing = api.call("GET", "/ui/nope.js", None, None);
    missing.error(404, "not_found");
}

/// The browser's part: one script, in order, printing what it saw as JSON.
const SCRIPT: &str = r##"
const path = require("path");
const { chromium } = require(path.join(process.env.PENNANT_PLAYWRIGHT, "playwright-core"));
const base = process.env.DASH_BASE;
const shots = process.env.DASH_SHOTS;
const tokens = { viewer: process.env.DASH_VIEWER, operator: process.env.DASH_OPERATOR, admin: process.env.DASH_ADMIN };
const out = { steps: [], console: [], pageErrors: [], csp: [] };
const WAIT = 90000;

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.PENNANT_CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu"],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") {
      out.console.push({ type: m.type(), text: m.text(), url: m.location().url || "" });
    }
  });
  page.on("pageerror", (e) => out.pageErrors.push(String(e && e.stack ? e.stack : e)));
  // Reported by the page itself, whatever the console says.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window.__csp = window.__csp || []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const byId = (id) => page.getByTestId(id);
  const step = (name) => out.steps.push(name);
  const collectCsp = async () => {
    const found = await page.evaluate(() => window.__csp || []);
    out.csp.push(...found);
  };
  const outcomeWith = async (text, kind) => {
    const found = page.locator(`[data-testid="outcome"][data-kind="${kind}"]`, { hasText: text }).first();
    await found.waitFor();
    return found.textContent();
  };
  const login = async (role) => {
    await byId("login-token").fill(tokens[role]);
    await byId("login-button").click();
    await page.locator(`[data-testid="session-role"][data-role="${role}"]`).waitFor();
    return {
      name: await byId("session-name").textContent(),
      role: await byId("session-role").textContent(),
      loginHidden: await byId("login").isHidden(),
    };
  };
  const logout = async () => {
    await byId("logout").click();
    await byId("login-token").waitFor({ state: "visible" });
    await collectCsp();
  };
  const stateCell = (id) => page.locator(`[data-testid="strategy-${id}"] [data-testid="strategy-state"]`);
  const waitState = (id, s) => page.locator(`[data-testid="strategy-${id}"][data-state="${s}"]`).waitFor();
  const globalState = (s) => page.locator(`[data-testid="global-state"][data-state="${s}"]`).waitFor();
  const shot = async (name, fullPage) => {
    await page.screenshot({ path: path.join(shots, name), fullPage: !!fullPage });
  };
  const wide = () => page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));

  try {
    // The page, its headers, the login form.
    const response = await page.goto(base + "/");
    out.pageStatus = response.status();
    out.pageCsp = response.headers()["content-security-policy"] || null;
    out.tokenInputType = await byId("login-token").getAttribute("type");
    out.loginVisible = await byId("login").isVisible();
    out.appHiddenBeforeLogin = await page.locator("#app").isHidden();
    step("opened");

    // The operator: both strategies in the overview, with their fills counted.
    out.operator = await login("operator");
    await page.locator('[data-testid="strategy-mm"]').waitFor();
    await page.locator('[data-testid="strategy-sma"]').waitFor();
    out.strategies = await page.$$eval('[data-testid^="strategy-"][data-strategy]', (rows) => rows.map((r) => r.dataset.strategy));
    await page.waitForFunction(() => {
      const cell = document.querySelector('[data-testid="strategy-mm"] [data-testid="strategy-fills"]');
      return cell && Number(cell.textContent) > 0;
    }, null, { timeout: WAIT, polling: 200 });
    await page.locator('[data-testid="ready-checks"] li').first().waitFor();
    out.overview = {
      mmState: await stateCell("mm").textContent(),
      smaState: await stateCell("sma").textContent(),
      mmFills: await page.locator('[data-testid="strategy-mm"] [data-testid="strategy-fills"]').textContent(),
      mmVersion: await page.locator('[data-testid="strategy-mm"] [data-testid="strategy-version"]').textContent(),
      globalState: await byId("global-state").textContent(),
      checks: await page.$$eval('[data-testid="ready-checks"] li', (items) => items.map((li) => li.dataset.testid)),
    };
    await shot("overview.png");
    step("overview");

    // Live: a fill arrives in the stream's table, newest first; the chart of the day.
    await byId("tab-live").click();
    await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor();
    const fill = page.locator('[data-testid="live-row"][data-type="fill"]').first();
    await fill.waitFor({ timeout: WAIT });
    await page.locator('[data-testid="pnl-svg"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="pnl-svg"] polyline, [data-testid="pnl-svg"] circle').length > 0, null, { timeout: WAIT, polling: 200 });
    out.live = {
      fillText: await fill.textContent(),
      fillType: await fill.locator('[data-testid="live-type"]').textContent(),
      rows: await page.locator('[data-testid="live-row"]').count(),
      seqs: await page.$$eval('[data-testid="live-row"][data-seq]', (rows) => rows.slice(0, 20).map((r) => Number(r.dataset.seq))),
      chartShapes: await page.locator('[data-testid="pnl-svg"] polyline, [data-testid="pnl-svg"] circle').count(),
    };
    // The filter: only the SMA's records (the market maker makes the fills).
    await byId("live-strategy").selectOption("sma");
    out.live.filtered = await page.$$eval('[data-testid="live-row"]', (rows) => [...new Set(rows.map((r) => r.dataset.strategy))]);
    await byId("live-strategy").selectOption("");
    await shot("live.png");
    step("live");

    // Pause and resume the SMA from the overview.
    await byId("tab-overview").click();
    await byId("pause-sma").click();
    await waitState("sma", "paused");
    out.paused = { state: await stateCell("sma").textContent(), outcome: await outcomeWith("sma is paused", "ok") };
    await byId("resume-sma").click();
    await waitState("sma", "running");
    out.resumed = { state: await stateCell("sma").textContent(), outcome: await outcomeWith("sma is running", "ok") };
    step("pause-resume");

    // The token: in sessionStorage only, never in the URL.
    out.storage = await page.evaluate(() => ({
      session: sessionStorage.getItem("pennant.token"),
      localKeys: localStorage.length,
      cookie: document.cookie,
    }));
    out.url = page.url();
    await logout();
    out.afterLogout = await page.evaluate(() => sessionStorage.getItem("pennant.token"));
    step("logout");

    // The viewer: the pause button disabled with a note; a pause refused and shown.
    out.viewer = await login("viewer");
    await page.locator('[data-testid="strategy-sma"]').waitFor();
    const pause = byId("pause-sma");
    out.viewerPause = {
      disabled: await pause.isDisabled(),
      title: await pause.getAttribute("title"),
      note: await page.locator('[data-testid="strategy-sma"] [data-testid="needs-operator"]').isVisible(),
    };
    out.viewerFetch = await page.evaluate(async (token) => {
      const r = await fetch("/api/v1/strategies/sma/pause", { method: "POST", headers: { Authorization: `Bearer ${token}` } });
      return { status: r.status, body: await r.json() };
    }, tokens.viewer);
    // The button as if it were enabled: the daemon refuses, the page says why.
    await page.evaluate(() => {
      const b = document.querySelector('[data-testid="pause-sma"]');
      b.disabled = false;
      b.click();
    });
    out.viewerRefusal = await outcomeWith("needs operator", "error");
    out.viewerSmaState = await stateCell("sma").textContent();
    await byId("tab-actions").click();
    out.viewerKill = { disabled: await byId("kill-switch").isDisabled(), note: await byId("kill-needs-admin").isVisible() };
    await logout();
    step("viewer");

    // The admin: the kill switch, canceled once, then engaged through the dialog.
    out.admin = await login("admin");
    await byId("tab-actions").click();
    await globalState("ACTIVE");
    await byId("kill-switch").click();
    await byId("confirm-dialog").waitFor({ state: "visible" });
    await byId("confirm-cancel").click();
    await byId("confirm-dialog").waitFor({ state: "hidden" });
    out.canceledOutcome = await outcomeWith("canceled", "ok");
    await byId("kill-switch").click();
    await byId("confirm-dialog").waitFor({ state: "visible" });
    out.dialogText = await byId("confirm-dialog").textContent();
    await byId("confirm-ok").click();
    await globalState("HALTED");
    out.engaged = {
      outcome: await outcomeWith("engaged", "ok"),
      killState: await byId("kill-state").textContent(),
    };
    await byId("tab-overview").click();
    await page.locator('[data-testid="overview-state"][data-state="HALTED"]').waitFor();
    out.engaged.overviewState = await byId("overview-state").textContent();
    out.engaged.killBadge = await byId("kill-badge").isVisible();
    await shot("kill-switch.png");
    await byId("tab-actions").click();
    await byId("kill-switch-release").click();
    await byId("confirm-dialog").waitFor({ state: "visible" });
    await byId("confirm-ok").click();
    await globalState("ACTIVE");
    out.released = { outcome: await outcomeWith("released", "ok"), globalState: await byId("global-state").textContent() };
    step("kill-switch");

    // The trading state through its select: REDUCING, then ACTIVE again.
    await byId("trading-state-scope").selectOption("global");
    await byId("trading-state-select").selectOption("REDUCING");
    await byId("trading-state-apply").click();
    await globalState("REDUCING");
    out.reducing = await outcomeWith("now REDUCING", "ok");
    await byId("trading-state-select").selectOption("ACTIVE");
    await byId("trading-state-apply").click();
    await globalState("ACTIVE");
    step("trading-state");

    // A limit changed through the form, then one the daemon refuses.
    await byId("limits-scope").selectOption("defaults");
    await byId("limit-max_position").fill("25");
    await byId("limits-apply").click();
    out.limitSet = await outcomeWith("set max_position at defaults", "ok");
    // The form is filled again from the daemon's answer.
    await page.locator('[data-testid="limit-max_position"][data-orig="25"]').waitFor();
    await byId("limit-max_order_qty").fill("-1");
    await byId("limits-apply").click();
    out.limitRefused = await outcomeWith("Limits (defaults) failed", "error");
    step("limits");

    // History and risk, once each.
    await byId("tab-history").click();
    await page.locator('[data-testid="history-row"]').first().waitFor();
    await page.locator('[data-testid="signal-stats-note"][data-state]').waitFor();
    out.history = {
      rows: await page.locator('[data-testid="history-row"]').count(),
      statsState: await byId("signal-stats-note").getAttribute("data-state"),
    };
    await byId("tab-risk").click();
    await page.locator('[data-testid="risk-scope-global"]').waitFor();
    await page.locator('[data-testid="bar-mm-position-ETH-USDT"]').waitFor();
    const bar = (id) => page.$eval(`[data-testid="${id}"]`, (el) => ({ text: el.textContent, width: el.querySelector(".bar-fill").style.width }));
    out.risk = {
      scopes: await page.$$eval('[data-testid^="risk-scope-"]', (els) => els.map((e) => e.dataset.testid)),
      globalRate: await bar("bar-global-rate"),
      mmRate: await bar("bar-mm-rate"),
      mmExposure: await bar("bar-mm-exposure"),
      mmPosition: await bar("bar-mm-position-ETH-USDT"),
    };
    await shot("risk.png");
    step("history-risk");

    // A phone's screen: nothing wider than the viewport, on any tab.
    await page.setViewportSize({ width: 390, height: 844 });
    // A refresh after the resize: the page has laid out fresh data at this width.
    const before = await byId("connection").textContent();
    await page.waitForFunction((t) => document.querySelector('[data-testid="connection"]').textContent !== t, before, { timeout: WAIT, polling: 100 });
    out.phone = {};
    for (const tab of ["live", "history", "risk", "actions", "overview"]) {
      await byId(`tab-${tab}`).click();
      await page.locator(`[data-testid="panel-${tab}"]`).waitFor();
      out.phone[tab] = await wide();
    }
    await page.locator('[data-testid="strategy-sma"]').waitFor();
    await shot("phone.png", true);
    step("phone");
    await collectCsp();
  } catch (e) {
    out.error = String(e && e.stack ? e.stack : e);
    try { await page.screenshot({ path: path.join(shots, "failure.png"), fullPage: true }); } catch (_) {}
  }
  console.log(JSON.stringify(out));
  await browser.close();
  process.exit(out.error ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(1); });
"##;

/// Console errors the steps cause on purpose (the browser logs every 4xx it loads): the
/// viewer's refused pause, the refused limit, and the signal statistics where the daemon
/// has none.
fn expected_console_error(entry: &Value) -> bool {
    let text = entry["text"].as_str().unwrap_or("");
    let url = entry["url"].as_str().unwrap_or("");
    text.starts_with("Failed to load resource")
        && ((text.contains("403") && url.ends_with("/api/v1/strategies/sma/pause"))
            || (text.contains("400") && url.ends_with("/api/v1/risk/limits"))
            || (text.contains("404") && url.ends_with("/api/v1/signals/stats")))
}

#[test]
fn the_dashboard_serves_operators_in_a_browser() {
    let (Some(playwright), Some(chromium)) = (
        std::env::var_os("PENNANT_PLAYWRIGHT"),
        std::env::var_os("PENNANT_CHROMIUM"),
    ) else {
        panic!("PENNANT_PLAYWRIGHT and PENNANT_CHROMIUM are not set: run `cargo xtask test`");
    };
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let daemon = Daemon::start_with_env(
        &["--config", config.to_str().unwrap()],
        &[("PENNANT_TEST_OPERATOR_TOKEN", OPERATOR)],
    );
    let api = Api::of(&daemon);
    check_assets(&api);

    let shots = screenshots_dir();
    let names = [
        "overview.png",
        "live.png",
        "kill-switch.png",
        "risk.png",
        "phone.png",
    ];
    for name in names.iter().chain(&["failure.png"]) {
        let _ = std::fs::remove_file(shots.join(name));
    }
    let script = dir.path().join("dashboard.js");
    std::fs::write(&script, SCRIPT).unwrap();
    let run = std::process::Command::new("node")
        .arg(&script)
        .env("PENNANT_PLAYWRIGHT", &playwright)
        .env("PENNANT_CHROMIUM", which(&chromium))
        .env("DASH_BASE", &api.base)
        .env("DASH_SHOTS", &shots)
        .env("DASH_VIEWER", VIEWER)
        .env("DASH_OPERATOR", OPERATOR)
        .env("DASH_ADMIN", ADMIN)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(
        run.status.success(),
        "the browser script failed (see {}):\n{stdout}\n{stderr}",
        shots.join("failure.png").display()
    );
    let out: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|err| panic!("not JSON ({err}): {stdout}\n{stderr}"));
    let text = |v: &Value| v.as_str().unwrap_or_default().trim().to_owned();
    eprintln!("what the browser saw: {out:#}");

    // The page and its headers; the token field hides what is typed.
    assert_eq!(out["pageStatus"], 200, "{out}");
    assert_eq!(out["pageCsp"], CSP);
    assert_eq!(out["tokenInputType"], "password");
    assert_eq!(out["loginVisible"], true);
    assert_eq!(out["appHiddenBeforeLogin"], true);

    // The operator's overview.
    assert_eq!(text(&out["operator"]["name"]), "operator");
    assert_eq!(text(&out["operator"]["role"]), "operator");
    assert_eq!(out["operator"]["loginHidden"], true);
    assert_eq!(out["strategies"], serde_json::json!(["mm", "sma"]));
    let overview = &out["overview"];
    assert_eq!(text(&overview["mmState"]), "running", "{overview}");
    assert_eq!(text(&overview["smaState"]), "running", "{overview}");
    assert!(text(&overview["mmFills"]).parse::<u64>().unwrap() > 0);
    assert_eq!(text(&overview["mmVersion"]).len(), 12, "a short hash");
    assert_eq!(text(&overview["globalState"]), "ACTIVE");
    assert_eq!(
        overview["checks"],
        serde_json::json!([
            "check-strategies",
            "check-venues",
            "check-feeds",
            "check-store",
            "check-engine"
        ])
    );

    // Live: a fill, newest first, the filter, the chart.
    let live = &out["live"];
    assert_eq!(text(&live["fillType"]), "fill", "{live}");
    // Both strategies trade: the newest fill is either's.
    let fill = text(&live["fillText"]);
    assert!(fill.contains("mm") || fill.contains("sma"), "{live}");
    assert!(text(&live["fillText"]).contains("ETH-USDT"), "{live}");
    let rows = live["rows"].as_u64().unwrap();
    assert!((1..=300).contains(&rows), "{rows} rows: capped at 300");
    let seqs: Vec<u64> = live["seqs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap())
        .collect();
    assert!(!seqs.is_empty());
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    assert!(live["chartShapes"].as_u64().unwrap() > 0, "{live}");
    let filtered = live["filtered"].as_array().unwrap();
    assert!(
        filtered.iter().all(|s| s == "sma"),
        "the strategy filter shows only sma: {filtered:?}"
    );

    // Pause and resume, each with its outcome shown.
    assert_eq!(text(&out["paused"]["state"]), "paused");
    assert!(text(&out["paused"]["outcome"]).contains("Pause sma: sma is paused"));
    assert_eq!(text(&out["resumed"]["state"]), "running");
    assert!(text(&out["resumed"]["outcome"]).contains("Resume sma: sma is running"));

    // The token: in this tab's sessionStorage, not in the URL, nowhere else; gone at
    // logout.
    assert_eq!(out["storage"]["session"], OPERATOR);
    assert_eq!(out["storage"]["localKeys"], 0);
    assert_eq!(out["storage"]["cookie"], "");
    let url = text(&out["url"]);
    assert!(url.starts_with(&api.base), "{url}");
    assert!(!url.contains(OPERATOR), "the token is in the URL: {url}");
    assert_eq!(out["afterLogout"], Value::Null);

    // The viewer: may not pause, and is told so.
    assert_eq!(text(&out["viewer"]["role"]), "viewer");
    assert_eq!(
        out["viewerPause"]["disabled"], true,
        "{}",
        out["viewerPause"]
    );
    assert_eq!(out["viewerPause"]["title"], "needs operator");
    assert_eq!(out["viewerPause"]["note"], true);
    assert_eq!(out["viewerFetch"]["status"], 403);
    assert_eq!(out["viewerFetch"]["body"]["error"]["code"], "forbidden");
    let refusal = text(&out["viewerRefusal"]);
    assert!(
        refusal.contains("Pause sma failed") && refusal.contains("403 forbidden"),
        "{refusal}"
    );
    assert_eq!(text(&out["viewerSmaState"]), "running");
    assert_eq!(out["viewerKill"]["disabled"], true);
    assert_eq!(out["viewerKill"]["note"], true);

    // The admin: the kill switch only through its confirmation.
    assert_eq!(text(&out["admin"]["role"]), "admin");
    assert!(text(&out["canceledOutcome"]).contains("nothing changed"));
    assert!(
        text(&out["dialogText"]).contains("canceled"),
        "{}",
        out["dialogText"]
    );
    let engaged = &out["engaged"];
    assert!(
        text(&engaged["outcome"]).contains("trading HALTED"),
        "{engaged}"
    );
    assert!(
        text(&engaged["killState"]).starts_with("engaged"),
        "{engaged}"
    );
    assert_eq!(text(&engaged["overviewState"]), "HALTED");
    assert_eq!(engaged["killBadge"], true);
    assert!(text(&out["released"]["outcome"]).contains("released; trading ACTIVE"));
    assert_eq!(text(&out["released"]["globalState"]), "ACTIVE");
    let risk = api.ok("GET", "/api/v1/risk", VIEWER, None);
    assert_eq!(risk["kill_switch"], serde_json::json!([]), "{risk}");

    // The trading state and the limits, through their forms.
    assert!(text(&out["reducing"]).contains("Trading state (global): now REDUCING"));
    assert!(text(&out["limitSet"]).contains("Limits (defaults): set max_position at defaults"));
    let refused = text(&out["limitRefused"]);
    assert!(
        refused.contains("max_order_qty") && refused.contains("400 bad_request"),
        "{refused}"
    );
    let risk = api.ok("GET", "/api/v1/risk", VIEWER, None);
    assert_eq!(risk["global_state"], "ACTIVE", "{risk}");
    assert_eq!(risk["limits"]["defaults"]["max_position"], "25", "{risk}");
    assert_eq!(risk["limits"]["defaults"]["max_order_qty"], Value::Null);

    // History and risk.
    assert!(out["history"]["rows"].as_u64().unwrap() > 0);
    let stats = text(&out["history"]["statsState"]);
    assert!(stats == "ok" || stats == "not-available", "{stats}");
    assert_eq!(
        out["risk"]["scopes"],
        serde_json::json!(["risk-scope-global", "risk-scope-mm", "risk-scope-sma"])
    );
    // Each figure against the limit in force, and where that limit is set.
    let bar = |name: &str| text(&out["risk"][name]["text"]);
    assert!(
        bar("globalRate").ends_with("/ 5000"),
        "{}",
        bar("globalRate")
    );
    assert!(
        bar("mmRate").ends_with("/ 2000 (defaults)"),
        "{}",
        bar("mmRate")
    );
    assert!(
        bar("mmExposure").ends_with("/ 1000000 (strategy)"),
        "{}",
        bar("mmExposure")
    );
    assert!(
        bar("mmPosition").ends_with("/ 25 (defaults)"),
        "the limit set above: {}",
        bar("mmPosition")
    );
    for name in ["globalRate", "mmRate", "mmExposure", "mmPosition"] {
        let width = text(&out["risk"][name]["width"]);
        let percent: f64 = width.strip_suffix('%').unwrap().parse().unwrap();
        assert!((0.0..=100.0).contains(&percent), "{name}: {width}");
    }

    // A phone's screen.
    for (tab, size) in out["phone"].as_object().unwrap() {
        let (scroll, inner) = (
            size["scrollWidth"].as_u64().unwrap(),
            size["innerWidth"].as_u64().unwrap(),
        );
        assert_eq!(inner, 390, "{tab}");
        assert!(
            scroll <= inner,
            "{tab}: the page is {scroll} px wide on a {inner} px screen"
        );
    }
    assert_eq!(out["phone"].as_object().unwrap().len(), 5);

    // Nothing went wrong in the page.
    assert_eq!(out["pageErrors"], serde_json::json!([]), "{out}");
    assert_eq!(out["csp"], serde_json::json!([]), "CSP violations: {out}");
    let unexpected: Vec<&Value> = out["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !expected_console_error(e))
        .collect();
    assert!(unexpected.is_empty(), "console errors: {unexpected:?}");

    // The screenshots.
    for name in names {
        let path = shots.join(name);
        let png = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
        assert!(
            png.len() > 20_000,
            "{name} shows a page, not a blank one: {} bytes",
            png.len()
        );
    }
    daemon.stop();
}
