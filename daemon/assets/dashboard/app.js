// The operator's dashboard of pennantd: plain JavaScript, no framework, no build step.
//
// The page holds no data of its own: everything comes from the API of the same origin,
// asked with the token the user typed. The token lives in sessionStorage (this tab
// only) and goes in the Authorization header, never in a URL. The Content-Security-
// Policy allows no inline script or style: styles change through classes and the CSSOM.
// Money and quantities are decimal strings and are shown as given; only the chart turns
// them into numbers, for coordinates.
"use strict";

(() => {
  const TOKEN_KEY = "pennant.token";
  const ROLES = ["viewer", "operator", "admin"];
  const POLL_MS = 2000;
  const INTRADAY_MS = 10000;
  const RECONNECT_MS = 2000;
  const LIVE_CAP = 300;
  const OUTCOME_CAP = 4;
  const OK_OUTCOME_MS = 20000;
  const ERROR_OUTCOME_MS = 60000;
  const TAIL_CAP = 2000;
  const COLORS = ["#4cc2ff", "#f5a524", "#7bd88f", "#ff6b8b", "#b48cff", "#ffd866", "#5ad1c4", "#ff9e64"];
  const LIMIT_KEYS = [
    "max_order_qty", "max_order_notional", "price_band_bps", "max_position",
    "max_gross_exposure", "max_open_orders", "max_orders_per_window", "max_daily_loss", "instruments",
  ];
  const INTEGER_KEYS = ["price_band_bps", "max_open_orders", "max_orders_per_window"];
  // Which limits a scope may hold (as the daemon's `limit_applies`).
  const REFUSED_AT = {
    strategy: [],
    defaults: ["instruments"],
    instrument: ["max_gross_exposure", "max_orders_per_window", "max_daily_loss", "instruments"],
    global: ["max_order_qty", "max_order_notional", "price_band_bps", "max_open_orders", "instruments"],
  };

  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    session: null,
    strategies: [],
    strategyIds: "",
    risk: null,
    ready: null,
    pnl: null,
    rows: new Map(),
    live: [],
    pending: [],
    flushQueued: false,
    instruments: new Set(),
    series: new Map(), // strategy -> [{t: ms, v: number}] from /pnl/intraday
    tail: new Map(), // strategy -> [{t: ms, v: number}] from the polls since
    stepSecs: 10,
    pollTimer: null,
    intradayTimer: null,
    stream: null,
    generation: 0,
    tab: "overview",
    history: { cursor: null, next: null, page: 1, kind: "orders" },
    limitsScope: null,
  };

  // ---------------------------------------------------------------- helpers

  /** An element: h("td", {class: "num", text: "1"}, child...). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") el.textContent = String(v);
      else if (k === "class") el.className = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function s(tag, attrs) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") el.textContent = String(v);
      else el.setAttribute(k, String(v));
    }
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  function sleep(ms, signal) {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      if (signal) signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }

  const pad = (n, w = 2) => String(n).padStart(w, "0");

  /** Nanoseconds since the epoch (a JSON number) as local time. */
  function nsTime(ns, withDate) {
    if (ns === null || ns === undefined) return "";
    const d = new Date(Number(ns) / 1e6);
    if (Number.isNaN(d.getTime())) return String(ns);
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
    return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}` : time;
  }

  function clock(d = new Date()) {
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  const short = (hash) => (hash ? String(hash).slice(0, 12) : "");

  // Exact sums of decimal strings (8 decimals, as the daemon's fixed point).
  const SCALE = 8;
  function decParse(text) {
    const m = /^(-)?(\d*)(?:\.(\d*))?$/.exec(String(text ?? "0").trim());
    if (!m) return 0n;
    const frac = (m[3] || "").slice(0, SCALE).padEnd(SCALE, "0");
    const v = BigInt((m[2] || "0") + frac);
    return m[1] ? -v : v;
  }
  function decFormat(v) {
    const neg = v < 0n;
    const abs = neg ? -v : v;
    const text = abs.toString().padStart(SCALE + 1, "0");
    let int = text.slice(0, -SCALE);
    let frac = text.slice(-SCALE).replace(/0+$/, "");
    return (neg ? "-" : "") + int + (frac ? "." + frac : "");
  }
  const sign = (text) => (String(text).trim().startsWith("-") ? -1 : decParse(text) === 0n ? 0 : 1);

  const roleRank = (role) => ROLES.indexOf(role);
  const allowed = (need) => !!state.session && roleRank(state.session.role) >= roleRank(need);

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, message, body) {
      super(message);
      this.status = status;
      this.code = code;
      this.body = body;
    }
  }

  async function api(method, path, body, options = {}) {
    if (!state.token) throw new ApiError(401, "unauthorized", "not logged in");
    const headers = { Authorization: `Bearer ${state.token}` };
    const init = { method, headers, cache: "no-store", credentials: "same-origin", signal: options.signal };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, "network", `the daemon did not answer (${e.message})`);
    }
    if (!res.ok) {
      let parsed = null;
      let code = `http_${res.status}`;
      let message = `${res.status} ${res.statusText}`.trim();
      try {
        parsed = await res.json();
        if (parsed && parsed.error) {
          code = parsed.error.code || code;
          message = parsed.error.message || message;
        }
      } catch (_) { /* not JSON */ }
      throw new ApiError(res.status, code, message, parsed);
    }
    if (options.raw) return res;
    return res.json();
  }

  function describeError(e) {
    if (e instanceof ApiError) return e.status ? `${e.message} (${e.status} ${e.code})` : e.message;
    return String(e && e.message ? e.message : e);
  }

  // ---------------------------------------------------------------- status area

  function outcome(ok, text) {
    const area = $("status");
    for (const old of area.querySelectorAll(".outcome")) old.classList.add("old");
    const p = h("div", { class: `outcome ${ok ? "ok" : "error"}`, "data-testid": "outcome", "data-kind": ok ? "ok" : "error" },
      h("span", { class: "when", text: clock() }),
      h("span", { class: "what", text }),
    );
    const close = h("button", { type: "button", class: "close", "aria-label": "dismiss", text: "×" });
    close.addEventListener("click", () => p.remove());
    p.append(close);
    area.prepend(p);
    while (area.children.length > OUTCOME_CAP) area.lastChild.remove();
    // Successes go after a while, failures after longer (or when dismissed).
    setTimeout(() => p.remove(), ok ? OK_OUTCOME_MS : ERROR_OUTCOME_MS);
  }

  /** Runs an action; its outcome (the answer or the API's error) goes to the status area. */
  async function act(button, label, run, describe) {
    if (button) {
      button.dataset.busy = "1";
      applyRoles();
    }
    try {
      const answer = await run();
      outcome(true, `${label}: ${describe ? describe(answer) : "done"}`);
      refresh();
      return answer;
    } catch (e) {
      outcome(false, `${label} failed: ${describeError(e)}`);
      if (e instanceof ApiError && e.status === 401) logout("The token was refused: log in again.");
      return undefined;
    } finally {
      if (button) {
        delete button.dataset.busy;
        applyRoles();
      }
    }
  }

  // ---------------------------------------------------------------- confirm dialog

  function confirmDialog(title, text, okLabel) {
    const dialog = $("confirm");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = okLabel || "Confirm";
    return new Promise((resolve) => {
      const done = (answer) => {
        $("confirm-ok").removeEventListener("click", yes);
        $("confirm-cancel").removeEventListener("click", no);
        dialog.removeEventListener("cancel", no);
        if (dialog.open) dialog.close();
        resolve(answer);
      };
      const yes = () => done(true);
      const no = (ev) => { if (ev) ev.preventDefault(); done(false); };
      $("confirm-ok").addEventListener("click", yes);
      $("confirm-cancel").addEventListener("click", no);
      dialog.addEventListener("cancel", no);
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  }

  // ---------------------------------------------------------------- roles

  /** Enables what the role may do (and the moment allows); the rest says what it needs. */
  function applyRoles() {
    for (const el of document.querySelectorAll("[data-needs]")) {
      const need = el.dataset.needs;
      const may = allowed(need);
      el.disabled = !may || el.dataset.blocked === "1" || el.dataset.busy === "1";
      if (!may) el.title = `needs ${need}`;
      else if (el.dataset.blocked === "1") el.title = el.dataset.why || "";
      else el.removeAttribute("title");
      el.classList.toggle("locked", !may);
    }
    for (const note of document.querySelectorAll(".needs-note")) {
      note.hidden = allowed(note.dataset.role);
    }
  }

  function needsNote(role) {
    return h("span", { class: "needs-note", "data-role": role, "data-testid": `needs-${role}`, text: `needs ${role}` });
  }

  // ---------------------------------------------------------------- session

  async function login(token) {
    state.token = token;
    const session = await api("GET", "/api/v1/session");
    state.session = session;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("session-name").textContent = session.name;
    $("session-role").textContent = session.role;
    $("session-role").dataset.role = session.role;
    $("session").hidden = false;
    $("top-state").hidden = false;
    $("login").hidden = true;
    $("app").hidden = false;
    applyRoles();
    start();
  }

  function logout(message) {
    state.generation += 1;
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.session = null;
    if (state.stream) state.stream.abort();
    state.stream = null;
    clearTimeout(state.pollTimer);
    clearTimeout(state.intradayTimer);
    state.strategies = [];
    state.strategyIds = "";
    state.rows.clear();
    state.live = [];
    state.pending = [];
    state.series.clear();
    state.tail.clear();
    state.instruments.clear();
    state.risk = state.ready = state.pnl = null;
    state.limitsScope = null;
    state.versionsLoaded = false;
    clear($("strategies-body"));
    clear($("live-body"));
    clear($("h-body"));
    clear($("h-head"));
    clear($("risk-bars"));
    clear($("limits-body"));
    clear($("pnl-chart"));
    clear($("pnl-legend"));
    $("app").hidden = true;
    $("session").hidden = true;
    $("top-state").hidden = true;
    $("login").hidden = false;
    $("login-token").value = "";
    $("login-token").focus();
    applyRoles();
    if (message) outcome(message === "Logged out." , message);
  }

  function start() {
    const generation = state.generation;
    refresh();
    loadIntraday(generation);
    startStream(generation);
    showTab(tabFromHash() || state.tab);
  }

  // ---------------------------------------------------------------- polling

  async function refresh() {
    if (!state.token) return;
    const generation = state.generation;
    clearTimeout(state.pollTimer);
    const [strategies, risk, ready, pnl] = await Promise.allSettled([
      api("GET", "/api/v1/strategies"),
      api("GET", "/api/v1/risk"),
      // Not ready is a 503 that still lists the checks.
      api("GET", "/readyz").catch((e) => {
        if (e instanceof ApiError && e.body && e.body.checks) return { ready: false, ...e.body };
        throw e;
      }),
      api("GET", "/api/v1/pnl"),
    ]);
    if (generation !== state.generation) return;
    const failed = [strategies, risk, ready, pnl].filter((r) => r.status === "rejected").map((r) => r.reason);
    if (failed.some((e) => e instanceof ApiError && e.status === 401)) {
      logout("The token was refused: log in again.");
      return;
    }
    if (strategies.status === "fulfilled") state.strategies = strategies.value.strategies || [];
    if (risk.status === "fulfilled") state.risk = risk.value;
    if (ready.status === "fulfilled") state.ready = ready.value;
    if (pnl.status === "fulfilled") {
      state.pnl = pnl.value;
      addTail(pnl.value.current || []);
    }
    const conn = $("conn");
    if (failed.length) {
      conn.textContent = `refresh failed ${clock()}`;
      conn.title = failed.map(describeError).join("; ");
      conn.className = "conn bad";
    } else {
      conn.textContent = `updated ${clock()}`;
      conn.title = "Refreshed every 2 s";
      conn.className = "conn";
    }
    renderAll();
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(refresh, POLL_MS);
  }

  function renderAll() {
    syncStrategyLists();
    renderTopState();
    renderOverview();
    renderRisk();
    renderActionsState();
    if (state.tab === "live") renderChart();
    applyRoles();
  }

  // ---------------------------------------------------------------- overview

  function stateClass(name) {
    switch (name) {
      case "running": case "ACTIVE": return "ok";
      case "paused": case "REDUCING": return "warn";
      case "quarantined": case "stopped": case "HALTED": return "danger";
      default: return "";
    }
  }

  function badge(text, cls, testid) {
    return h("span", { class: `badge ${cls || stateClass(text)}`, "data-testid": testid, text });
  }

  function renderTopState() {
    const risk = state.risk;
    const g = $("global-state");
    if (!risk) return;
    g.textContent = risk.global_state;
    g.className = `badge ${stateClass(risk.global_state)}`;
    g.dataset.state = risk.global_state;
    $("kill-badge").hidden = !(risk.kill_switch || []).length;
  }

  function currentPnl(id) {
    return ((state.pnl && state.pnl.current) || []).find((c) => c.strategy === id);
  }

  function renderOverview() {
    const risk = state.risk;
    if (risk) {
      const ov = $("ov-state");
      clear(ov);
      ov.append(badge(risk.global_state, null, "overview-state-badge"));
      ov.dataset.state = risk.global_state;
      $("ov-hold").textContent = risk.store_hold ? `store hold: ${risk.store_hold}` : "";
      const kills = risk.kill_switch || [];
      const kill = $("ov-kill");
      clear(kill);
      kill.append(kills.length ? badge(`engaged: ${kills.join(", ")}`, "danger") : badge("none", "ok"));
    }
    if (state.pnl) {
      const total = (state.pnl.current || []).reduce((acc, c) => acc + decParse(c.net_pnl), 0n);
      const el = $("ov-pnl");
      el.textContent = decFormat(total);
      el.className = `stat-value ${total < 0n ? "neg" : total > 0n ? "pos" : ""}`;
    }
    const ready = state.ready;
    if (ready) {
      const el = $("ov-ready");
      clear(el);
      const degraded = (ready.degraded || []).length > 0;
      el.append(ready.ready
        ? badge(degraded ? "degraded" : "ready", degraded ? "warn" : "ok", "ready-badge")
        : badge("not ready", "danger", "ready-badge"));
      const list = $("ov-checks");
      clear(list);
      for (const c of ready.checks || []) {
        list.append(h("li", { class: c.ok ? "ok" : c.critical ? "bad" : "warnc", "data-testid": `check-${c.name}`, title: c.detail },
          h("span", { class: "dot" }),
          h("strong", { text: c.name }),
          " ",
          h("span", { class: "muted", text: c.detail })));
      }
    }
    const body = $("strategies-body");
    const seen = new Set();
    for (const st of state.strategies) {
      seen.add(st.id);
      let row = state.rows.get(st.id);
      if (!row) {
        row = strategyRow(st.id);
        state.rows.set(st.id, row);
        body.append(row.tr);
      }
      updateStrategyRow(row, st);
    }
    for (const [id, row] of state.rows) {
      if (!seen.has(id)) {
        row.tr.remove();
        state.rows.delete(id);
      }
    }
    if (!state.strategies.length && !body.querySelector(".empty")) {
      body.append(h("tr", { class: "empty" }, h("td", { colspan: 11, class: "muted", text: "no strategies" })));
    } else if (state.strategies.length) {
      for (const e of body.querySelectorAll(".empty")) e.remove();
    }
  }

  function strategyRow(id) {
    const cell = (cls, testid) => h("td", { class: cls, "data-testid": testid });
    const c = {
      id: h("td", { class: "id" }, h("strong", { text: id })),
      state: cell("", "strategy-state"),
      version: cell("mono", "strategy-version"),
      position: cell("position", "strategy-position"),
      pnl: cell("num", "strategy-pnl"),
      orders: cell("num", "strategy-orders"),
      fills: cell("num", "strategy-fills"),
      rejects: cell("num", "strategy-rejects"),
      open: cell("num", "strategy-open"),
      error: cell("error-cell", "strategy-error"),
      actions: h("td", { class: "actions" }),
    };
    const pause = h("button", { type: "button", class: "btn small", "data-needs": "operator", "data-testid": `pause-${id}`, text: "Pause" });
    const resume = h("button", { type: "button", class: "btn small", "data-needs": "operator", "data-testid": `resume-${id}`, text: "Resume" });
    pause.addEventListener("click", () => pauseResume(pause, id, "pause"));
    resume.addEventListener("click", () => pauseResume(resume, id, "resume"));
    c.actions.append(pause, resume, needsNote("operator"));
    const tr = h("tr", { "data-testid": `strategy-${id}`, "data-strategy": id });
    tr.append(...Object.values(c));
    return { tr, c, pause, resume };
  }

  function updateStrategyRow(row, st) {
    const { c } = row;
    row.tr.dataset.state = st.state;
    if (c.state.dataset.state !== st.state) {
      clear(c.state);
      c.state.append(badge(st.state));
      c.state.dataset.state = st.state;
    }
    c.state.title = st.reason || "";
    c.version.textContent = short(st.version) || "—";
    c.version.title = st.version ? `${st.version}${st.loaded_at ? `\nloaded ${st.loaded_at}` : ""}` : "";
    clear(c.position);
    const positions = st.positions || [];
    if (!positions.length) c.position.append(h("span", { class: "muted", text: "flat" }));
    for (const p of positions) {
      c.position.append(h("div", { title: `realized ${p.realized_pnl}, unrealized ${p.unrealized_pnl}, fees ${p.fees} (${p.venue})` },
        h("span", { class: "muted", text: `${p.instrument} ` }),
        h("span", { class: sign(p.qty) < 0 ? "neg" : "", text: p.qty }),
        h("span", { class: "muted", text: ` @ ${p.avg_price}` })));
    }
    const pnl = currentPnl(st.id);
    c.pnl.textContent = pnl ? pnl.net_pnl : "—";
    c.pnl.className = `num ${pnl ? (sign(pnl.net_pnl) < 0 ? "neg" : sign(pnl.net_pnl) > 0 ? "pos" : "") : ""}`;
    c.pnl.title = pnl ? `realized ${pnl.realized_pnl}, unrealized ${pnl.unrealized_pnl}, fees ${pnl.fees}` : "";
    const stats = st.stats || {};
    c.orders.textContent = stats.orders ?? "";
    c.fills.textContent = stats.fills ?? "";
    c.rejects.textContent = (stats.risk_rejects || 0) + (stats.venue_rejects || 0);
    c.rejects.title = `risk ${stats.risk_rejects || 0}, venue ${stats.venue_rejects || 0}`;
    c.rejects.classList.toggle("warn-text", (stats.risk_rejects || 0) + (stats.venue_rejects || 0) > 0);
    c.open.textContent = stats.open_orders ?? "";
    const error = st.last_error || st.reason || "";
    c.error.textContent = error || "—";
    c.error.title = error;
    c.error.classList.toggle("muted", !error);
    setBlocked(row.pause, st.state !== "running", `${st.id} is ${st.state}`);
    setBlocked(row.resume, st.state !== "paused", `${st.id} is ${st.state}`);
  }

  function setBlocked(button, blocked, why) {
    if (blocked) {
      button.dataset.blocked = "1";
      button.dataset.why = why;
    } else {
      delete button.dataset.blocked;
      delete button.dataset.why;
    }
  }

  function pauseResume(button, id, what) {
    return act(button, `${what === "pause" ? "Pause" : "Resume"} ${id}`,
      () => api("POST", `/api/v1/strategies/${encodeURIComponent(id)}/${what}`),
      (a) => `${a.strategy} is ${a.state}`);
  }

  /** Fills the selects that list strategies, when the list changes. */
  function syncStrategyLists() {
    const ids = state.strategies.map((st) => st.id);
    const key = ids.join("\n");
    if (key === state.strategyIds) return;
    state.strategyIds = key;
    const fill = (select, first, make) => {
      const keep = select.value;
      clear(select);
      for (const opt of first) select.append(opt);
      for (const id of ids) select.append(make(id));
      if ([...select.options].some((o) => o.value === keep)) select.value = keep;
    };
    const plain = (id) => h("option", { value: id, text: id });
    fill($("live-strategy"), [h("option", { value: "", text: "all" })], plain);
    fill($("h-strategy"), [h("option", { value: "", text: "all" })], plain);
    const before = $("a-strategy").value;
    fill($("a-strategy"), [], plain);
    if ($("a-strategy").value !== before || !state.versionsLoaded) loadVersions();
    fill($("ts-scope"), [h("option", { value: "global", text: "global" })], (id) => h("option", { value: `strategy:${id}`, text: `strategy ${id}` }));
    fill($("k-scope"), [h("option", { value: "global", text: "global" })], (id) => h("option", { value: `strategy:${id}`, text: `strategy ${id}` }));
  }

  // ---------------------------------------------------------------- live stream

  function startStream(generation) {
    if (state.stream) state.stream.abort();
    const ctrl = new AbortController();
    state.stream = ctrl;
    runStream(ctrl, generation);
  }

  function streamStatus(text, cls) {
    const el = $("stream-status");
    el.textContent = text;
    el.className = `badge ${cls || ""}`;
    el.dataset.state = text;
  }

  async function runStream(ctrl, generation) {
    const alive = () => !ctrl.signal.aborted && generation === state.generation;
    while (alive()) {
      streamStatus("connecting", "warn");
      try {
        const res = await api("GET", "/api/v1/events", undefined, { raw: true, signal: ctrl.signal });
        streamStatus("live", "ok");
        await readEvents(res.body, ctrl.signal);
        if (alive()) streamStatus("ended: reconnecting", "warn");
      } catch (e) {
        if (!alive()) return;
        if (e instanceof ApiError && e.status === 401) {
          logout("The token was refused: log in again.");
          return;
        }
        streamStatus(`reconnecting: ${describeError(e)}`, "danger");
      }
      await sleep(RECONNECT_MS, ctrl.signal);
    }
  }

  /** Reads Server-Sent Events from a byte stream until it ends. */
  async function readEvents(body, signal) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let event = "message";
    let data = [];
    const abort = () => reader.cancel().catch(() => {});
    signal.addEventListener("abort", abort, { once: true });
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          let line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.endsWith("\r")) line = line.slice(0, -1);
          if (line === "") {
            if (data.length) dispatch(event, data.join("\n"));
            event = "message";
            data = [];
            continue;
          }
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let val = colon < 0 ? "" : line.slice(colon + 1);
          if (val.startsWith(" ")) val = val.slice(1);
          if (field === "event") event = val;
          else if (field === "data") data.push(val);
        }
      }
    } finally {
      signal.removeEventListener("abort", abort);
    }
  }

  function dispatch(event, data) {
    let record;
    try {
      record = JSON.parse(data);
    } catch (_) {
      return;
    }
    if (event === "lagged") {
      record = { type: "lagged", ts: Date.now() * 1e6, detail: `the stream fell behind: ${record.missed} records missed` };
    }
    record.type = record.type || event;
    state.live.unshift(record);
    if (state.live.length > LIVE_CAP) state.live.length = LIVE_CAP;
    if (record.instrument && !state.instruments.has(record.instrument)) {
      state.instruments.add(record.instrument);
      $("live-instrument").append(h("option", { value: record.instrument, text: record.instrument }));
    }
    state.pending.push(record);
    if (!state.flushQueued) {
      state.flushQueued = true;
      requestAnimationFrame(flushLive);
    }
  }

  function liveWanted(r) {
    const strategy = $("live-strategy").value;
    const instrument = $("live-instrument").value;
    const type = $("live-type").value;
    return (!strategy || r.strategy === strategy) && (!instrument || r.instrument === instrument) && (!type || r.type === type);
  }

  function liveDetail(r) {
    switch (r.type) {
      case "order": return [r.kind, r.time_in_force, r.filled_qty && r.filled_qty !== "0" ? `filled ${r.filled_qty}` : "", r.reason, `#${r.order_id}`].filter(Boolean).join(" · ");
      case "fill": return `fee ${r.fee} · ${r.liquidity} · realized ${r.realized_pnl} · #${r.order_id}`;
      case "signal": return [r.strength !== undefined && r.strength !== null ? `strength ${r.strength}` : "", r.target ? `target ${r.target}` : "", r.stop ? `stop ${r.stop}` : "", r.note].filter(Boolean).join(" · ");
      case "position": return `avg ${r.avg_price} · realized ${r.realized_pnl} · fees ${r.fees}`;
      case "risk": return [r.kind, r.scope, r.state, r.reason, r.detail, r.actor ? `by ${r.actor}` : ""].filter(Boolean).join(" · ");
      case "lifecycle": return [r.event, short(r.version), r.detail].filter(Boolean).join(" · ");
      default: return r.detail || "";
    }
  }

  function liveRow(r) {
    const rejected = r.type === "order" && r.status === "rejected";
    const tr = h("tr", { class: `t-${r.type}${rejected ? " rejected" : ""}`, "data-testid": "live-row", "data-type": r.type, "data-seq": r.seq, "data-strategy": r.strategy || "" },
      h("td", { class: "mono", text: nsTime(r.ts) }),
      h("td", { "data-testid": "live-type" }, h("span", { class: `type type-${r.type}`, text: r.type })),
      h("td", { text: r.strategy || "" }),
      h("td", { text: r.instrument || "" }),
      h("td", { class: r.side === "sell" ? "neg" : r.side === "buy" ? "pos" : "", text: r.side || "" }),
      h("td", { class: "num", text: r.price || "" }),
      h("td", { class: "num", text: r.qty || "" }),
      h("td", {}, r.status ? h("span", { class: `status s-${r.status}`, text: r.status }) : r.type === "lifecycle" ? h("span", { class: "status", text: r.event }) : ""),
      h("td", { class: "detail", text: liveDetail(r) }),
    );
    return tr;
  }

  function flushLive() {
    state.flushQueued = false;
    const pending = state.pending;
    state.pending = [];
    if ($("live-hold").checked) return;
    const body = $("live-body");
    const frag = document.createDocumentFragment();
    // Newest first: the pending list is oldest first.
    for (let i = pending.length - 1; i >= 0; i--) {
      if (liveWanted(pending[i])) frag.append(liveRow(pending[i]));
    }
    body.prepend(frag);
    while (body.children.length > LIVE_CAP) body.lastChild.remove();
    $("live-count").textContent = `${body.children.length} shown`;
  }

  function renderLive() {
    state.pending = [];
    const body = $("live-body");
    clear(body);
    const frag = document.createDocumentFragment();
    for (const r of state.live) if (liveWanted(r)) frag.append(liveRow(r));
    body.append(frag);
    $("live-count").textContent = `${body.children.length} shown`;
  }

  // ---------------------------------------------------------------- PnL chart

  async function loadIntraday(generation) {
    clearTimeout(state.intradayTimer);
    try {
      const answer = await api("GET", "/api/v1/pnl/intraday");
      if (generation !== state.generation) return;
      state.stepSecs = answer.step_secs || state.stepSecs;
      for (const series of answer.series || []) {
        const points = (series.points || []).map((p) => ({ t: Number(p.time) / 1e6, v: parseFloat(p.net_pnl) }));
        state.series.set(series.strategy, points);
        const last = points.length ? points[points.length - 1].t : -Infinity;
        const tail = state.tail.get(series.strategy) || [];
        state.tail.set(series.strategy, tail.filter((p) => p.t > last));
      }
      $("chart-note").textContent = `sampled every ${state.stepSecs} s, with the live value every 2 s`;
      if (state.tab === "live") renderChart();
    } catch (e) {
      if (generation !== state.generation) return;
      $("chart-note").textContent = `intraday PnL unavailable: ${describeError(e)}`;
    }
    if (generation === state.generation) state.intradayTimer = setTimeout(() => loadIntraday(generation), INTRADAY_MS);
  }

  function addTail(current) {
    const now = Date.now();
    for (const c of current) {
      const tail = state.tail.get(c.strategy) || [];
      tail.push({ t: now, v: parseFloat(c.net_pnl) });
      if (tail.length > TAIL_CAP) tail.shift();
      state.tail.set(c.strategy, tail);
    }
  }

  function niceNumber(v) {
    const a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1000) return v.toFixed(0);
    if (a >= 1) return v.toFixed(2);
    return v.toPrecision(3);
  }

  function renderChart() {
    const box = $("pnl-chart");
    const legend = $("pnl-legend");
    const names = [...new Set([...state.series.keys(), ...state.tail.keys()])].sort();
    const lines = names.map((name) => ({ name, points: [...(state.series.get(name) || []), ...(state.tail.get(name) || [])].filter((p) => Number.isFinite(p.v)) }));
    const all = lines.flatMap((l) => l.points);
    clear(box);
    clear(legend);
    const width = Math.max(280, Math.floor(box.clientWidth || 600));
    const height = width < 500 ? 180 : 240;
    const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": "PnL of the day per strategy", "data-testid": "pnl-svg" });
    box.append(svg);
    if (!all.length) {
      svg.append(s("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "axis", text: "no samples yet" }));
      return;
    }
    const left = 56, right = 10, top = 10, bottom = 24;
    let t0 = Math.min(...all.map((p) => p.t));
    let t1 = Math.max(...all.map((p) => p.t));
    if (t1 - t0 < 60000) t0 = t1 - 60000;
    let v0 = Math.min(0, ...all.map((p) => p.v));
    let v1 = Math.max(0, ...all.map((p) => p.v));
    if (v1 - v0 < 1e-9) { v0 -= 1; v1 += 1; }
    const padV = (v1 - v0) * 0.08;
    v0 -= padV;
    v1 += padV;
    const x = (t) => left + ((t - t0) / (t1 - t0)) * (width - left - right);
    const y = (v) => top + (1 - (v - v0) / (v1 - v0)) * (height - top - bottom);
    svg.append(s("rect", { x: left, y: top, width: width - left - right, height: height - top - bottom, fill: "none", stroke: "#2a3442" }));
    for (let i = 0; i <= 4; i++) {
      const v = v0 + ((v1 - v0) * i) / 4;
      svg.append(s("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: "#1f2833" }));
      svg.append(s("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "axis", text: niceNumber(v) }));
    }
    svg.append(s("line", { x1: left, x2: width - right, y1: y(0), y2: y(0), stroke: "#5b6878", "stroke-dasharray": "4 3" }));
    const ticks = width < 500 ? 2 : 4;
    for (let i = 0; i <= ticks; i++) {
      const t = t0 + ((t1 - t0) * i) / ticks;
      const d = new Date(t);
      svg.append(s("text", { x: x(t), y: height - 6, "text-anchor": i === 0 ? "start" : i === ticks ? "end" : "middle", class: "axis", text: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` }));
    }
    lines.forEach((line, i) => {
      const color = COLORS[i % COLORS.length];
      if (line.points.length === 1) {
        const p = line.points[0];
        svg.append(s("circle", { cx: x(p.t), cy: y(p.v), r: 3, fill: color }));
      } else if (line.points.length > 1) {
        const pts = line.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
        svg.append(s("polyline", { points: pts, fill: "none", stroke: color, "stroke-width": 2, "stroke-linejoin": "round", "data-strategy": line.name }));
      }
      const now = currentPnl(line.name);
      const swatch = h("span", { class: "swatch" });
      swatch.style.background = color;
      legend.append(h("li", { "data-testid": `legend-${line.name}` }, swatch, h("strong", { text: line.name }), " ", h("span", { class: "muted", text: now ? now.net_pnl : "" })));
    });
  }

  // ---------------------------------------------------------------- history

  const HISTORY_COLUMNS = {
    orders: [
      ["created", "Created", (r) => nsTime(r.created, true), "mono"], ["order_id", "Order"], ["strategy", "Strategy"],
      ["instrument", "Instrument"], ["side", "Side"], ["kind", "Kind"], ["time_in_force", "TIF"], ["price", "Price", null, "num"],
      ["qty", "Qty", null, "num"], ["filled_qty", "Filled", null, "num"], ["status", "Status"], ["reason", "Reason"], ["venue", "Venue"],
    ],
    fills: [
      ["ts", "Time", (r) => nsTime(r.ts, true), "mono"], ["seq", "Seq", null, "num"], ["order_id", "Order"], ["strategy", "Strategy"],
      ["instrument", "Instrument"], ["side", "Side"], ["price", "Price", null, "num"], ["qty", "Qty", null, "num"],
      ["fee", "Fee", null, "num"], ["liquidity", "Liquidity"], ["realized_pnl", "Realized PnL", null, "num"],
    ],
    signals: [
      ["ts", "Time", (r) => nsTime(r.ts, true), "mono"], ["seq", "Seq", null, "num"], ["strategy", "Strategy"],
      ["instrument", "Instrument"], ["side", "Side"], ["strength", "Strength", null, "num"], ["target", "Target", null, "num"],
      ["stop", "Stop", null, "num"], ["note", "Note"],
    ],
  };

  /** datetime-local text as nanoseconds since the epoch (a decimal string). */
  function localToNs(text) {
    if (!text) return null;
    const ms = new Date(text).getTime();
    if (Number.isNaN(ms)) return null;
    return (BigInt(ms) * 1000000n).toString();
  }

  function historyQuery(cursor, format) {
    const kind = $("h-kind").value;
    const q = new URLSearchParams();
    const put = (k, v) => { if (v !== null && v !== undefined && v !== "") q.set(k, v); };
    put("strategy", $("h-strategy").value);
    put("instrument", $("h-instrument").value.trim());
    if (kind === "orders") put("status", $("h-status").value);
    put("side", $("h-side").value);
    put("from", localToNs($("h-from").value));
    put("to", localToNs($("h-to").value));
    put("limit", $("h-limit").value);
    put("cursor", cursor);
    put("format", format);
    return `/api/v1/${kind}?${q}`;
  }

  async function loadHistory(cursor, page) {
    const kind = $("h-kind").value;
    const button = $("h-search");
    button.disabled = true;
    try {
      const answer = await api("GET", historyQuery(cursor));
      state.history = { cursor, next: answer.next ?? null, page, kind };
      const cols = HISTORY_COLUMNS[kind];
      const head = $("h-head");
      clear(head);
      head.append(h("tr", {}, ...cols.map(([, label, , cls]) => h("th", { class: cls === "num" ? "num" : "", text: label }))));
      const body = $("h-body");
      clear(body);
      const frag = document.createDocumentFragment();
      for (const r of answer.items || []) {
        frag.append(h("tr", { "data-testid": "history-row", class: r.status === "rejected" ? "rejected" : "" },
          ...cols.map(([key, , fmt, cls]) => h("td", { class: cls || (key === "side" ? (r.side === "sell" ? "neg" : "pos") : ""), text: fmt ? fmt(r) : (r[key] ?? "") }))));
      }
      body.append(frag);
      if (!(answer.items || []).length) body.append(h("tr", {}, h("td", { colspan: cols.length, class: "muted", text: "no records match" })));
      $("h-next").disabled = state.history.next === null;
      $("h-note").textContent = `${kind}: page ${page}, ${(answer.items || []).length} rows${state.history.next !== null ? " (more: next page)" : ""}`;
    } catch (e) {
      outcome(false, `Loading ${kind} failed: ${describeError(e)}`);
      $("h-note").textContent = describeError(e);
    } finally {
      button.disabled = false;
    }
  }

  async function downloadCsv() {
    const kind = $("h-kind").value;
    const button = $("h-csv");
    await act(button, `CSV of ${kind}`, async () => {
      const res = await api("GET", historyQuery(state.history.kind === kind ? state.history.cursor : null, "csv"), undefined, { raw: true });
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const name = `pennant-${kind}-${new Date().toISOString().replace(/[:.]/g, "-")}.csv`;
      const a = h("a", { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      return { name, size: blob.size };
    }, (r) => `downloaded ${r.name} (${r.size} bytes)`);
  }

  async function loadSignalStats() {
    const note = $("stats-note");
    const head = $("stats-head");
    const body = $("stats-body");
    try {
      const answer = await api("GET", "/api/v1/signals/stats");
      const horizons = answer.horizons || [];
      clear(head);
      clear(body);
      const top = h("tr", {}, h("th", { text: "Strategy" }), h("th", { text: "Instrument" }), h("th", { class: "num", text: "Signals" }),
        h("th", { class: "num", text: "Buys" }), h("th", { class: "num", text: "Sells" }));
      for (const hz of horizons) {
        top.append(h("th", { class: "num", text: `${hz} hit rate` }), h("th", { class: "num", text: `${hz} avg bps` }), h("th", { class: "num", text: `${hz} n` }));
      }
      head.append(top);
      for (const item of answer.items || []) {
        const tr = h("tr", { "data-testid": "signal-stats-row" }, h("td", { text: item.strategy }), h("td", { text: item.instrument }),
          h("td", { class: "num", text: item.signals }), h("td", { class: "num", text: item.buys }), h("td", { class: "num", text: item.sells }));
        for (const hz of horizons) {
          const m = (item.horizons || []).find((x) => x.horizon === hz) || {};
          const rate = m.hit_rate === null || m.hit_rate === undefined ? "—" : `${(m.hit_rate * 100).toFixed(1)}%`;
          const bps = m.avg_return_bps === null || m.avg_return_bps === undefined ? "—" : Number(m.avg_return_bps).toFixed(2);
          tr.append(h("td", { class: `num ${m.hit_rate > 0.5 ? "pos" : m.hit_rate < 0.5 && m.hit_rate !== null && m.hit_rate !== undefined ? "neg" : ""}`, text: rate }),
            h("td", { class: "num", text: bps }), h("td", { class: "num", text: m.measured ?? "—" }));
        }
        body.append(tr);
      }
      if (!(answer.items || []).length) body.append(h("tr", {}, h("td", { colspan: 5 + 3 * horizons.length, class: "muted", text: "no signals yet" })));
      note.textContent = `hit rate: share of signals whose price moved their way after each horizon; updated ${clock()}`;
      note.dataset.state = "ok";
    } catch (e) {
      clear(head);
      clear(body);
      if (e instanceof ApiError && e.status === 404) {
        note.textContent = "Signal statistics are not available on this daemon.";
        note.dataset.state = "not-available";
      } else {
        note.textContent = `Signal statistics failed: ${describeError(e)}`;
        note.dataset.state = "error";
      }
    }
  }

  // ---------------------------------------------------------------- risk

  function effective(limits, key, strategy, instrument) {
    const pick = (table, id) => (table && id && table[id] ? table[id][key] : null);
    const fromStrategy = pick(limits.strategies, strategy);
    if (fromStrategy !== null && fromStrategy !== undefined) return { value: fromStrategy, from: "strategy" };
    const fromInstrument = pick(limits.instruments, instrument);
    if (fromInstrument !== null && fromInstrument !== undefined) return { value: fromInstrument, from: "instrument" };
    const d = limits.defaults ? limits.defaults[key] : null;
    if (d !== null && d !== undefined) return { value: d, from: "defaults" };
    return null;
  }

  function bar(label, used, limit, from, testid) {
    const wrap = h("div", { class: "bar-row", "data-testid": testid });
    const ratio = limit === null ? null : Math.max(0, parseFloat(used)) / parseFloat(limit);
    const pct = ratio === null || !Number.isFinite(ratio) ? 0 : Math.min(100, ratio * 100);
    const fill = h("div", { class: `bar-fill ${pct >= 90 ? "danger" : pct >= 70 ? "warn" : ""}` });
    fill.style.width = `${pct.toFixed(1)}%`;
    wrap.append(
      h("div", { class: "bar-label" }, h("span", { text: label }), h("span", { class: "muted", text: limit === null ? `${used} · no limit` : `${used} / ${limit}${from ? ` (${from})` : ""}` })),
      h("div", { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct.toFixed(0), "aria-label": label }, fill),
    );
    return wrap;
  }

  function lossOf(pnlText) {
    return sign(pnlText) < 0 ? String(pnlText).trim().slice(1) : "0";
  }

  function renderRisk() {
    const risk = state.risk;
    if (!risk) return;
    const limits = risk.limits || {};
    const bars = $("risk-bars");
    clear(bars);
    $("risk-note").textContent = `Order rate window: ${risk.rate_window_ms} ms. Losses count against max_daily_loss; a breach halts trading.`;
    const global = limits.global || {};
    const figures = risk.strategies || [];
    const sum = (f) => decFormat(figures.reduce((acc, x) => acc + decParse(f(x)), 0n));
    const g = h("div", { class: "scope", "data-testid": "risk-scope-global" },
      h("h3", {}, "Global ", badge(risk.global_state, null, "risk-global-state")));
    const globalMsgs = figures.reduce((acc, x) => acc + (x.messages_in_window || 0), 0);
    g.append(
      bar("Order messages in window", String(globalMsgs), global.max_orders_per_window ?? null, null, "bar-global-rate"),
      bar("Open order notional (gross exposure limit)", sum((x) => x.open_notional), global.max_gross_exposure ?? null, null, "bar-global-exposure"),
      bar("Loss today", lossOf(sum((x) => x.daily_pnl)), global.max_daily_loss ?? null, null, "bar-global-loss"),
    );
    bars.append(g);
    for (const f of figures) {
      const st = state.strategies.find((x) => x.id === f.id);
      const scope = h("div", { class: "scope", "data-testid": `risk-scope-${f.id}` }, h("h3", {}, `${f.id} `, badge(f.state, null)));
      const rate = effective(limits, "max_orders_per_window", f.id, null);
      const exposure = effective(limits, "max_gross_exposure", f.id, null);
      const loss = effective(limits, "max_daily_loss", f.id, null);
      scope.append(
        bar("Order messages in window", String(f.messages_in_window), rate ? rate.value : null, rate && rate.from, `bar-${f.id}-rate`),
        bar("Open order notional (gross exposure limit)", f.open_notional, exposure ? exposure.value : null, exposure && exposure.from, `bar-${f.id}-exposure`),
        bar("Loss today", lossOf(f.daily_pnl), loss ? loss.value : null, loss && loss.from, `bar-${f.id}-loss`),
      );
      for (const p of (st && st.positions) || []) {
        const max = effective(limits, "max_position", f.id, p.instrument);
        const qty = String(p.qty).replace(/^-/, "");
        scope.append(bar(`Position ${p.instrument}`, qty, max ? max.value : null, max && max.from, `bar-${f.id}-position-${p.instrument}`));
      }
      bars.append(scope);
    }
    // The limits of every scope.
    const head = $("limits-head");
    if (!head.firstChild) head.append(h("tr", {}, h("th", { text: "Scope" }), ...LIMIT_KEYS.map((k) => h("th", { text: k.replace(/_/g, " ") }))));
    const body = $("limits-body");
    clear(body);
    const row = (name, l) => h("tr", { "data-testid": `limits-${name.replace(/\s+/g, "-")}` }, h("td", {}, h("strong", { text: name })),
      ...LIMIT_KEYS.map((k) => {
        const v = l ? l[k] : null;
        return h("td", { class: v === null || v === undefined ? "muted" : "num", text: v === null || v === undefined ? "—" : Array.isArray(v) ? v.join(", ") : v });
      }));
    body.append(row("global", limits.global), row("defaults", limits.defaults));
    for (const [id, l] of Object.entries(limits.strategies || {})) body.append(row(`strategy ${id}`, l));
    for (const [id, l] of Object.entries(limits.instruments || {})) body.append(row(`instrument ${id}`, l));
    syncLimitScopes();
  }

  // ---------------------------------------------------------------- actions

  function renderActionsState() {
    const risk = state.risk;
    if (risk) {
      const kills = risk.kill_switch || [];
      const el = $("a-kill-state");
      el.textContent = kills.length ? `engaged (${kills.join(", ")})` : "released";
      el.className = kills.length ? "neg" : "pos";
      el.dataset.state = kills.includes("global") ? "engaged" : "released";
    }
    const id = $("a-strategy").value;
    const st = state.strategies.find((x) => x.id === id);
    setBlocked($("a-pause"), !st || st.state !== "running", st ? `${id} is ${st.state}` : "no strategy");
    setBlocked($("a-resume"), !st || st.state !== "paused", st ? `${id} is ${st.state}` : "no strategy");
    setBlocked($("a-reload"), !st, "no strategy");
    const version = $("a-version");
    setBlocked($("a-rollback"), !version.value, "no version to roll back to");
  }

  async function loadVersions() {
    const id = $("a-strategy").value;
    const select = $("a-version");
    const note = $("a-versions-note");
    state.versionsLoaded = true;
    clear(select);
    if (!id) return;
    try {
      const answer = await api("GET", `/api/v1/strategies/${encodeURIComponent(id)}/versions`);
      if ($("a-strategy").value !== id) return;
      clear(select);
      let choices = 0;
      for (const v of answer.versions || []) {
        const label = `${short(v.version)} · ${v.outcome} · ${v.loaded_at}${v.reason ? ` · ${v.reason}` : ""}`;
        const opt = h("option", { value: v.version, text: label, disabled: !v.can_roll_back });
        select.append(opt);
        if (v.can_roll_back) choices += 1;
      }
      const first = [...select.options].find((o) => !o.disabled);
      select.value = first ? first.value : "";
      note.textContent = choices ? `${choices} version(s) to roll back to` : "no earlier version kept to roll back to";
    } catch (e) {
      note.textContent = `versions: ${describeError(e)}`;
    }
    renderActionsState();
    applyRoles();
  }

  function scopeBody(value) {
    return value === "global" ? { scope: "global" } : { scope: "strategy", id: value.slice("strategy:".length) };
  }

  function scopeName(value) {
    return value === "global" ? "global" : `strategy ${value.slice("strategy:".length)}`;
  }

  async function killSwitch(engage) {
    const scope = $("k-scope").value || "global";
    const name = scopeName(scope);
    const sure = await confirmDialog(
      engage ? `Engage the kill switch (${name})?` : `Release the kill switch (${name})?`,
      engage
        ? "Every working order in this scope is canceled and trading halts until the kill switch is released."
        : "Trading in this scope becomes ACTIVE again: strategies may send orders.",
      engage ? "Engage kill switch" : "Release kill switch");
    if (!sure) {
      outcome(true, `Kill switch ${engage ? "engage" : "release"} canceled: nothing changed`);
      return;
    }
    const button = engage ? $("a-kill") : $("a-release");
    await act(button, engage ? `Kill switch (${name})` : `Release kill switch (${name})`,
      () => api(engage ? "POST" : "DELETE", "/api/v1/kill-switch", scopeBody(scope)),
      (a) => engage ? `engaged, ${a.canceled_orders} order(s) canceled; trading ${a.state}` : `released; trading ${a.state}`);
  }

  function setTradingState() {
    const scope = $("ts-scope").value;
    const wanted = $("ts-state").value;
    return act($("ts-apply"), `Trading state (${scopeName(scope)})`,
      () => api("PUT", "/api/v1/risk/trading-state", { ...scopeBody(scope), state: wanted }),
      (a) => `now ${a.state}`);
  }

  function limitScopes() {
    const risk = state.risk;
    const scopes = ["global", "defaults"];
    for (const st of state.strategies) scopes.push(`strategy:${st.id}`);
    const instruments = new Set(Object.keys((risk && risk.limits && risk.limits.instruments) || {}));
    for (const st of state.strategies) for (const p of st.positions || []) instruments.add(p.instrument);
    for (const i of [...instruments].sort()) scopes.push(`instrument:${i}`);
    return scopes;
  }

  function limitsOf(scope) {
    const limits = (state.risk && state.risk.limits) || {};
    if (scope === "global") return limits.global || {};
    if (scope === "defaults") return limits.defaults || {};
    const [kind, id] = [scope.slice(0, scope.indexOf(":")), scope.slice(scope.indexOf(":") + 1)];
    const table = kind === "strategy" ? limits.strategies : limits.instruments;
    return (table && table[id]) || {};
  }

  function syncLimitScopes() {
    const select = $("l-scope");
    const scopes = limitScopes();
    const have = [...select.options].map((o) => o.value).join("\n");
    if (have !== scopes.join("\n")) {
      const keep = select.value;
      clear(select);
      for (const sc of scopes) select.append(h("option", { value: sc, text: sc.replace(":", " ") }));
      if (scopes.includes(keep)) select.value = keep;
    }
    if (state.limitsScope !== select.value) fillLimitFields();
  }

  /** The form of the selected scope, filled with its limits (only on a change of scope). */
  function fillLimitFields() {
    const scope = $("l-scope").value;
    state.limitsScope = scope;
    const fields = $("l-fields");
    clear(fields);
    if (!scope) return;
    const kind = scope.includes(":") ? scope.slice(0, scope.indexOf(":")) : scope;
    const current = limitsOf(scope);
    for (const key of LIMIT_KEYS) {
      if (REFUSED_AT[kind].includes(key)) continue;
      const v = current[key];
      const text = v === null || v === undefined ? "" : Array.isArray(v) ? v.join(", ") : String(v);
      const input = h("input", {
        type: "text", name: key, value: text, "data-orig": text, "data-testid": `limit-${key}`,
        inputmode: INTEGER_KEYS.includes(key) ? "numeric" : key === "instruments" ? "text" : "decimal",
        placeholder: key === "instruments" ? "ETH-USDT, BTC-USDT" : "no limit",
        autocomplete: "off",
      });
      fields.append(h("label", {}, key.replace(/_/g, " "), input));
    }
  }

  function applyLimits() {
    const scope = $("l-scope").value;
    const patch = {};
    for (const input of $("l-fields").querySelectorAll("input")) {
      const text = input.value.trim();
      if (text === input.dataset.orig) continue;
      const key = input.name;
      if (text === "") patch[key] = null;
      else if (INTEGER_KEYS.includes(key)) {
        if (!/^\d+$/.test(text)) {
          outcome(false, `Limits: ${key} must be a whole number, not ${JSON.stringify(text)}`);
          return;
        }
        patch[key] = Number(text);
      } else if (key === "instruments") patch[key] = text.split(",").map((x) => x.trim()).filter(Boolean);
      else patch[key] = text;
    }
    if (!Object.keys(patch).length) {
      outcome(true, "Limits: nothing changed");
      return;
    }
    let body;
    if (scope === "global" || scope === "defaults") body = { scope, limits: patch };
    else body = { scope: scope.slice(0, scope.indexOf(":")), id: scope.slice(scope.indexOf(":") + 1), limits: patch };
    act($("l-apply"), `Limits (${scope.replace(":", " ")})`, () => api("PUT", "/api/v1/risk/limits", body), (a) => {
      state.limitsScope = null; // refill the form from the new limits
      return `set ${Object.keys(patch).join(", ")} at ${a.scope}`;
    });
  }

  // ---------------------------------------------------------------- tabs

  function tabFromHash() {
    const name = location.hash.replace(/^#/, "");
    return document.querySelector(`[data-panel="${CSS.escape(name)}"]`) ? name : null;
  }

  function showTab(name) {
    state.tab = name;
    for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
    if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
    if (name === "live") {
      renderLive();
      renderChart();
    }
    if (name === "history") {
      if (!$("h-head").firstChild) loadHistory(null, 1);
      loadSignalStats();
    }
    if (name === "actions") fillLimitFields();
  }

  // ---------------------------------------------------------------- wiring

  function wire() {
    $("login-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const token = $("login-token").value.trim();
      const error = $("login-error");
      error.hidden = true;
      if (!token) return;
      $("login-button").disabled = true;
      try {
        await login(token);
        $("login-token").value = "";
        outcome(true, `Logged in as ${state.session.name} (${state.session.role})`);
      } catch (e) {
        state.token = null;
        state.session = null;
        error.textContent = `Login failed: ${describeError(e)}`;
        error.hidden = false;
      } finally {
        $("login-button").disabled = false;
      }
    });
    $("logout").addEventListener("click", () => logout("Logged out."));
    for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
    window.addEventListener("hashchange", () => { const t = tabFromHash(); if (t && state.session) showTab(t); });
    for (const id of ["live-strategy", "live-instrument", "live-type"]) $(id).addEventListener("change", renderLive);
    $("live-hold").addEventListener("change", () => { if (!$("live-hold").checked) renderLive(); });
    $("live-clear").addEventListener("click", () => { state.live = []; renderLive(); });
    $("history-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadHistory(null, 1); });
    $("h-kind").addEventListener("change", () => { $("h-status-label").hidden = $("h-kind").value !== "orders"; loadHistory(null, 1); });
    $("h-next").addEventListener("click", () => { if (state.history.next !== null) loadHistory(String(state.history.next), state.history.page + 1); });
    $("h-csv").addEventListener("click", downloadCsv);
    $("stats-refresh").addEventListener("click", loadSignalStats);
    $("a-strategy").addEventListener("change", () => { loadVersions(); renderActionsState(); applyRoles(); });
    $("a-version").addEventListener("change", () => { renderActionsState(); applyRoles(); });
    $("a-pause").addEventListener("click", () => pauseResume($("a-pause"), $("a-strategy").value, "pause"));
    $("a-resume").addEventListener("click", () => pauseResume($("a-resume"), $("a-strategy").value, "resume"));
    $("a-reload").addEventListener("click", () => {
      const id = $("a-strategy").value;
      act($("a-reload"), `Reload ${id}`, () => api("POST", `/api/v1/strategies/${encodeURIComponent(id)}/reload`),
        (a) => { loadVersions(); return `${a.outcome}, version ${short(a.version)}`; });
    });
    $("a-rollback").addEventListener("click", async () => {
      const id = $("a-strategy").value;
      const version = $("a-version").value;
      const sure = await confirmDialog(`Roll ${id} back?`, `${id} is restarted from version ${short(version)}.`, "Roll back");
      if (!sure) return;
      act($("a-rollback"), `Roll back ${id}`, () => api("POST", `/api/v1/strategies/${encodeURIComponent(id)}/rollback`, { version }),
        (a) => { loadVersions(); return `now version ${short(a.version)}, ${a.state}`; });
    });
    $("a-kill").addEventListener("click", () => killSwitch(true));
    $("a-release").addEventListener("click", () => killSwitch(false));
    $("ts-apply").addEventListener("click", setTradingState);
    $("l-scope").addEventListener("change", fillLimitFields);
    $("limits-form").addEventListener("submit", (ev) => { ev.preventDefault(); applyLimits(); });
    window.addEventListener("resize", () => { if (state.tab === "live" && state.session) renderChart(); });
  }

  function boot() {
    wire();
    applyRoles();
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      login(saved).catch((e) => {
        sessionStorage.removeItem(TOKEN_KEY);
        state.token = null;
        state.session = null;
        $("login-error").textContent = `Your saved session ended: ${describeError(e)}`;
        $("login-error").hidden = false;
      });
    } else {
      $("login-token").focus();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
