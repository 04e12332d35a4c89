//! The systemd side of the daemon: sd_notify messages and the watchdog.
//!
//! - `READY=1` once strategies are loaded, the store open and the feeds connected;
//!   `RELOADING=1` with `MONOTONIC_USEC=` then `READY=1` around a `SIGHUP` reload;
//!   `STOPPING=1` when a shutdown begins.
//! - `WATCHDOG=1` comes from the engine loop itself ([`Heartbeat`], called after every
//!   input it handles, ticks included), at half of `WATCHDOG_USEC`: an engine stuck in a
//!   call stops the pings and systemd restarts the service. Not a free-running timer.
//! - `STATUS=` lines for `systemctl status`: strategies running, events/s, kill switch.
//!
//! Outside systemd (`NOTIFY_SOCKET` unset) every call does nothing.

use crate::engine::Engine;
use sd_notify::NotifyState;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the `STATUS=` line is refreshed.
const STATUS_INTERVAL: Duration = Duration::from_secs(5);

fn send(states: &[NotifyState]) {
    if let Err(err) = sd_notify::notify(states) {
        log::warn!("sd_notify failed: {err}");
    }
}

/// `READY=1`, with a status line.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// `STATUS=` alone: what the daemon is doing (shown by `systemctl status`).
pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// `RELOADING=1` and `MONOTONIC_USEC=`, as systemd wants before a reload.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(err) => log::warn!("cannot read the monotonic clock for sd_notify: {err}"),
    }
}

/// Where `pennantd reload` learns that a reload it asked for is done: a file holding
/// the number of SIGHUP reloads the daemon with process id `pid` completed, in
/// `$RUNTIME_DIRECTORY` under systemd, else in the temporary folder. Found from the pid
/// alone: `reload` must work while the configuration file is broken.
pub fn reload_marker(pid: u32) -> PathBuf {
    match std::env::var_os("RUNTIME_DIRECTORY") {
        Some(dir) => PathBuf::from(dir).join("reloads"),
        None => std::env::temp_dir().join(format!("pennantd-{pid}.reloads")),
    }
}

/// How many SIGHUP reloads the daemon has completed (0 before the first).
pub fn reloads_done(marker: &Path) -> u64 {
    std::fs::read_to_string(marker)
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A SIGHUP reload is done (`ok`, or it failed and what ran before stays): `READY=1`
/// for systemd, and the marker counts one more for `pennantd reload`, with the outcome:
/// `N ok STATUS` or `N failed STATUS`.
pub fn reload_done(marker: Option<&Path>, ok: bool, status: &str) {
    ready(status);
    let Some(marker) = marker else {
        return;
    };
    let outcome = if ok { "ok" } else { "failed" };
    let text = format!("{} {outcome} {status}\n", reloads_done(marker) + 1);
    let temp = marker.with_extension("part");
    let written = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, marker));
    if let Err(err) = written {
        log::warn!(path:% = marker.display(); "cannot write the reload marker: {err}");
    }
}

/// `STOPPING=1`.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// Called by the engine after each input: pets the watchdog when due and refreshes the
/// status line.
pub struct Heartbeat {
    watchdog: Option<Duration>,
    last_ping: Option<Instant>,
    last_status: Instant,
    events_at_status: u64,
}

impl Heartbeat {
    /// A heartbeat for systemd's watchdog, if `WATCHDOG_USEC` asks for one (pinged at
    /// half the interval).
    pub fn from_env() -> Self {
        Heartbeat {
            watchdog: sd_notify::watchdog_enabled().map(|d| d / 2),
            last_ping: None,
            last_status: Instant::now(),
            events_at_status: 0,
        }
    }
}

impl crate::engine::Heartbeat for Heartbeat {
    fn beat(&mut self, engine: &Engine) {
        if let Some(interval) = self.watchdog {
            if self.last_ping.is_none_or(|at| at.elapsed() >= interval) {
                self.last_ping = Some(Instant::now());
                send(&[NotifyState::Watchdog]);
            }
        }
        let since = self.last_status.elapsed();
        if since >= STATUS_INTERVAL {
            let events = engine.events();
            let rate = (events - self.events_at_status) as f64 / since.as_secs_f64();
            self.last_status = Instant::now();
            self.events_at_status = events;
            send(&[NotifyState::Status(&status_line(engine, rate))]);
        }
    }
}

/// `3/3 strategies running, 120 events/s, kill switch off`.
pub fn status_line(engine: &Engine, events_per_second: f64) -> String {
    let (running, total) = engine.running_strategies();
    let kill = if engine.risk().global_state() == crate::risk::TradingState::Halted {
        "HALTED"
    } else {
        "off"
    };
    format!(
        "{running}/{total} strategies running, {events_per_second:.0} events/s, kill switch {kill}"
    )
}
