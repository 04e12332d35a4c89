//! The engine's published view as Prometheus counters and gauges, built at scrape time.

use super::{counter_vec, MetricsError, NAMESPACE};
use crate::engine::view::ViewReceiver;
use crate::records::{Named, WriterStats};
use crate::risk::TradingState;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{CounterVec, GaugeVec, IntCounterVec, IntGauge, IntGaugeVec, Opts};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Money and quantities leave fixed point only here, for Prometheus' floats.
fn decimal(raw: i128) -> f64 {
    raw as f64 / 1e8
}

const STATES: [&str; 4] = ["running", "paused", "quarantined", "stopped"];
const TRADING_STATES: [TradingState; 3] = [
    TradingState::Active,
    TradingState::Reducing,
    TradingState::Halted,
];

/// One set of metric families, filled from one view.
struct Families {
    events: IntCounterVec,
    orders: IntCounterVec,
    rejects: IntCounterVec,
    filled: IntCounterVec,
    canceled: IntCounterVec,
    fills: IntCounterVec,
    notional: CounterVec,
    signals: IntCounterVec,
    delivered: IntCounterVec,
    state: IntGaugeVec,
    loads: IntCounterVec,
    reloads: IntCounterVec,
    quarantines: IntCounterVec,
    timers: IntGaugeVec,
    log_lines: IntCounterVec,
    log_bytes: IntCounterVec,
    log_truncated: IntCounterVec,
    log_dropped: IntCounterVec,
    notes_truncated: IntCounterVec,
    signals_dropped: IntCounterVec,
    updates_dropped: IntCounterVec,
    memory: IntGaugeVec,
    position: GaugeVec,
    realized: GaugeVec,
    unrealized: GaugeVec,
    fees: GaugeVec,
    trading_state: IntGaugeVec,
    kill_switch: IntGaugeVec,
    daily_pnl: GaugeVec,
    open_notional: GaugeVec,
    rate_window: IntGaugeVec,
    store_queue: IntGauge,
    store_backlog: IntGauge,
    store_written: IntCounterVec,
    store_backlog_records: IntGauge,
    store_undurable: IntGauge,
    store_hold: IntGauge,
    orders_pending_cancel: IntGauge,
    orders_status_unknown: IntGauge,
    balance: GaugeVec,
    ban_until: GaugeVec,
    book_refused: IntCounterVec,
    book_crossed: IntCounterVec,
    book_is_crossed: IntGaugeVec,
    store_spooled: IntGauge,
    store_spool_bytes: IntGauge,
    store_failures: IntCounterVec,
}

fn gauge_vec(name: &str, help: &str, labels: &[&str]) -> Result<GaugeVec, MetricsError> {
    Ok(GaugeVec::new(
        Opts::new(name, help).namespace(NAMESPACE),
        labels,
    )?)
}

fn int_gauge_vec(name: &str, help: &str, labels: &[&str]) -> Result<IntGaugeVec, MetricsError> {
    Ok(IntGaugeVec::new(
        Opts::new(name, help).namespace(NAMESPACE),
        labels,
    )?)
}

fn int_gauge(name: &str, help: &str) -> Result<IntGauge, MetricsError> {
    Ok(IntGauge::with_opts(
        Opts::new(name, help).namespace(NAMESPACE),
    )?)
}

impl Families {
    fn new() -> Result<Families, MetricsError> {
        const S: &[&str] = &["strategy"];
        const SI: &[&str] = &["strategy", "instrument", "venue"];
        Ok(Families {
            events: counter_vec(
                "engine_events_total",
                "Market events the engine has processed.",
                &[],
            )?,
            orders: counter_vec(
                "orders_submitted_total",
                "Orders that passed the risk checks and went to the venue.",
                S,
            )?,
            rejects: counter_vec(
                "orders_rejected_total",
                "Orders refused, by where (risk, venue) and reason code.",
                &["strategy", "source", "reason"],
            )?,
            filled: counter_vec("orders_filled_total", "Orders completely filled.", S)?,
            canceled: counter_vec("orders_canceled_total", "Orders canceled.", S)?,
            fills: counter_vec("fills_total", "Fills, by strategy, instrument and venue.", SI)?,
            notional: CounterVec::new(
                Opts::new(
                    "traded_notional_total",
                    "Traded notional (price times quantity, in the quote currency), by strategy, instrument and venue.",
                )
                .namespace(NAMESPACE),
                SI,
            )?,
            signals: counter_vec("signals_total", "Signals emitted.", S)?,
            delivered: counter_vec(
                "strategy_events_total",
                "Events delivered to a strategy (market data, bars, timers, order updates).",
                S,
            )?,
            state: int_gauge_vec(
                "strategy_state",
                "1 for the state the strategy is in (running, paused, quarantined, stopped).",
                &["strategy", "state"],
            )?,
            loads: counter_vec(
                "strategy_loads_total",
                "Strategy starts from no running instance (the first, after a quarantine).",
                S,
            )?,
            reloads: counter_vec(
                "strategy_reloads_total",
                "Replacements of a running strategy instance (new code, new parameters, an operator's reload).",
                S,
            )?,
            quarantines: counter_vec(
                "strategy_quarantines_total",
                "Strategies quarantined, by fault.",
                &["strategy", "reason"],
            )?,
            timers: int_gauge_vec(
                "strategy_timers",
                "Timers the strategy has pending (capped by [plugins] max_timers).",
                S,
            )?,
            log_lines: counter_vec(
                "strategy_log_lines_total",
                "Lines the strategy wrote to the log (host log calls, stdout, stderr).",
                S,
            )?,
            log_bytes: counter_vec(
                "strategy_log_bytes_total",
                "Bytes the strategy wrote to the log.",
                S,
            )?,
            log_truncated: counter_vec(
                "strategy_log_lines_truncated_total",
                "Log lines cut at [plugins] max_log_line_bytes.",
                S,
            )?,
            log_dropped: counter_vec(
                "strategy_log_lines_dropped_total",
                "Log lines dropped past [plugins] log_bytes_per_minute.",
                S,
            )?,
            notes_truncated: counter_vec(
                "strategy_signal_notes_truncated_total",
                "Signal notes cut at [plugins] max_signal_note_bytes.",
                S,
            )?,
            signals_dropped: counter_vec(
                "strategy_signals_dropped_total",
                "Signals dropped past [plugins] signals_per_minute.",
                S,
            )?,
            updates_dropped: counter_vec(
                "strategy_order_updates_dropped_total",
                "Order updates dropped while the strategy was not running, past the 10,000 kept for it.",
                S,
            )?,
            memory: int_gauge_vec(
                "strategy_memory_bytes",
                "Linear memory of the strategy's WebAssembly instance.",
                S,
            )?,
            position: gauge_vec(
                "position_quantity",
                "Net position, in units of the instrument (negative: short).",
                SI,
            )?,
            realized: gauge_vec(
                "pnl_realized",
                "Realized PnL before fees, in the quote currency.",
                SI,
            )?,
            unrealized: gauge_vec(
                "pnl_unrealized",
                "Unrealized PnL at the last price, in the quote currency.",
                SI,
            )?,
            fees: gauge_vec("fees_paid", "Fees paid, in the quote currency.", SI)?,
            trading_state: int_gauge_vec(
                "trading_state",
                "1 for the trading state a scope is in (global, or a strategy's own).",
                &["scope", "state"],
            )?,
            kill_switch: int_gauge_vec(
                "kill_switch_engaged",
                "1 when the kill switch of the scope is engaged.",
                &["scope"],
            )?,
            daily_pnl: gauge_vec(
                "risk_daily_pnl",
                "Today's net PnL, as the daily loss limit sees it.",
                S,
            )?,
            open_notional: gauge_vec(
                "risk_open_order_notional",
                "Notional of the strategy's open orders.",
                S,
            )?,
            rate_window: int_gauge_vec(
                "risk_messages_in_window",
                "Order messages in the current rate-limit window.",
                S,
            )?,
            store_queue: int_gauge(
                "store_queue_records",
                "Records handed to the store writer and not yet written or spooled.",
            )?,
            store_backlog: int_gauge(
                "store_backlog_batches",
                "Batches held by the engine because the writer's queue is full.",
            )?,
            store_written: counter_vec(
                "store_written_records_total",
                "Records written to the store.",
                &[],
            )?,
            store_backlog_records: int_gauge(
                "store_backlog_records",
                "Records the engine holds for a writer that has not taken them.",
            )?,
            store_undurable: int_gauge(
                "store_undurable_records",
                "Records held in memory that neither the database nor the spool took (a full disk).",
            )?,
            store_hold: int_gauge(
                "store_hold",
                "1 while trading is reduce-only because records are not durable or the backlog passed [store] max_backlog_records.",
            )?,
            orders_pending_cancel: int_gauge(
                "orders_pending_cancel",
                "Working orders with a cancel sent to their venue and not yet confirmed or refused.",
            )?,
            orders_status_unknown: int_gauge(
                "orders_status_unknown",
                "Working orders sent to their venue without an answer (a timeout): open until the venue says otherwise.",
            )?,
            balance: gauge_vec(
                "venue_balance",
                "The account's balance at a venue that reports it, by venue, asset and kind (free, locked), as the venue last said less what orders sent since reserve.",
                &["venue", "asset", "kind"],
            )?,
            ban_until: gauge_vec(
                "venue_banned_until_seconds",
                "When the exchange's ban of this IP (HTTP 418) ends, Unix seconds; alert while it is above time().",
                &["venue"],
            )?,
            book_refused: counter_vec(
                "book_levels_refused_total",
                "Order book levels refused, by instrument and reason (not_synced: before a snapshot; stale: an older update than the book's; bad_level).",
                &["instrument", "reason"],
            )?,
            book_crossed: counter_vec(
                "book_crossed_total",
                "Venue messages that left an instrument's order book crossed (best bid at or above best ask).",
                &["instrument"],
            )?,
            book_is_crossed: int_gauge_vec(
                "book_is_crossed",
                "1 while an instrument's order book is crossed.",
                &["instrument"],
            )?,
            store_spooled: int_gauge(
                "store_spool_records",
                "Records waiting in the spool file for the store to come back.",
            )?,
            store_spool_bytes: int_gauge("store_spool_bytes", "Size of the spool file.")?,
            store_failures: counter_vec(
                "store_write_failures_total",
                "Batch writes that failed (their records went to the spool).",
                &[],
            )?,
        })
    }

    fn collectors(&self) -> [&dyn Collector; 47] {
        [
            &self.events,
            &self.orders,
            &self.rejects,
            &self.filled,
            &self.canceled,
            &self.fills,
            &self.notional,
            &self.signals,
            &self.delivered,
            &self.state,
            &self.loads,
            &self.reloads,
            &self.quarantines,
            &self.timers,
            &self.log_lines,
            &self.log_bytes,
            &self.log_truncated,
            &self.log_dropped,
            &self.notes_truncated,
            &self.signals_dropped,
            &self.updates_dropped,
            &self.memory,
            &self.position,
            &self.realized,
            &self.unrealized,
            &self.fees,
            &self.trading_state,
            &self.kill_switch,
            &self.daily_pnl,
            &self.open_notional,
            &self.rate_window,
            &self.store_queue,
            &self.store_backlog,
            &self.store_written,
            &self.store_backlog_records,
            &self.store_undurable,
            &self.store_hold,
            &self.orders_pending_cancel,
            &self.orders_status_unknown,
            &self.balance,
            &self.ban_until,
            &self.book_refused,
            &self.book_crossed,
            &self.book_is_crossed,
            &self.store_spooled,
            &self.store_spool_bytes,
            &self.store_failures,
        ]
    }
}

/// Renders the latest view at each scrape.
pub(super) struct ViewCollector {
    view: ViewReceiver,
    store: Option<Arc<WriterStats>>,
    /// Never filled: only their descriptions are used, for registration.
    described: Families,
}

impl ViewCollector {
    pub(super) fn new(
        view: ViewReceiver,
        store: Option<Arc<WriterStats>>,
    ) -> Result<ViewCollector, MetricsError> {
        Ok(ViewCollector {
            view,
            store,
            described: Families::new()?,
        })
    }

    fn fill(&self, f: &Families) {
        let view = self.view.borrow().clone();
        f.events.with_label_values::<&str>(&[]).inc_by(view.events);
        for s in &view.strategies {
            let r = &s.report;
            let id = r.id.as_str();
            let stats = &r.stats;
            f.orders.with_label_values(&[id]).inc_by(stats.orders);
            f.filled.with_label_values(&[id]).inc_by(stats.filled);
            f.canceled.with_label_values(&[id]).inc_by(stats.canceled);
            f.signals.with_label_values(&[id]).inc_by(stats.signals);
            f.delivered.with_label_values(&[id]).inc_by(stats.events);
            for &(source, reason, n) in &s.rejects {
                f.rejects.with_label_values(&[id, source, reason]).inc_by(n);
            }
            for (symbol, fills, notional) in &s.traded {
                let labels = [id, symbol.as_str(), view.venue_of(symbol)];
                f.fills.with_label_values(&labels).inc_by(*fills);
                f.notional
                    .with_label_values(&labels)
                    .inc_by(decimal(*notional).max(0.0));
            }
            let name = r.state.name();
            for state in STATES {
                f.state
                    .with_label_values(&[id, state])
                    .set(i64::from(state == name));
            }
            f.loads.with_label_values(&[id]).inc_by(s.lifecycle.loads);
            f.reloads
                .with_label_values(&[id])
                .inc_by(s.lifecycle.reloads);
            for (reason, n) in &s.lifecycle.quarantines {
                f.quarantines.with_label_values(&[id, reason]).inc_by(*n);
            }
            f.memory
                .with_label_values(&[id])
                .set(i64::try_from(s.memory_bytes).unwrap_or(i64::MAX));
            let b = &s.budget;
            f.timers
                .with_label_values(&[id])
                .set(i64::try_from(b.timers).unwrap_or(i64::MAX));
            f.log_lines.with_label_values(&[id]).inc_by(b.log.lines);
            f.log_bytes.with_label_values(&[id]).inc_by(b.log.bytes);
            f.log_truncated
                .with_label_values(&[id])
                .inc_by(b.log.truncated);
            f.log_dropped.with_label_values(&[id]).inc_by(b.log.dropped);
            f.notes_truncated
                .with_label_values(&[id])
                .inc_by(b.counts.notes_truncated);
            f.signals_dropped
                .with_label_values(&[id])
                .inc_by(b.counts.signals_dropped);
            f.updates_dropped
                .with_label_values(&[id])
                .inc_by(b.counts.updates_dropped);
            for (symbol, p) in &r.positions {
                let labels = [id, symbol.as_str(), view.venue_of(symbol)];
                f.position
                    .with_label_values(&labels)
                    .set(decimal(p.qty.raw().into()));
                f.realized
                    .with_label_values(&labels)
                    .set(decimal(p.realized_pnl.raw().into()));
                f.unrealized
                    .with_label_values(&labels)
                    .set(decimal(p.unrealized_pnl.raw().into()));
                f.fees
                    .with_label_values(&labels)
                    .set(decimal(p.fees.raw().into()));
            }
            if let Some(u) = &s.utilization {
                f.daily_pnl
                    .with_label_values(&[id])
                    .set(decimal(u.daily_pnl.raw().into()));
                f.open_notional
                    .with_label_values(&[id])
                    .set(decimal(u.open_notional.raw().into()));
                f.rate_window
                    .with_label_values(&[id])
                    .set(i64::try_from(u.messages_in_window).unwrap_or(i64::MAX));
                let scope = format!("strategy {id}");
                set_trading_state(f, &scope, u.state);
                f.kill_switch
                    .with_label_values(&[scope.as_str()])
                    .set(i64::from(view.kill_switch.contains(&scope)));
            }
        }
        set_trading_state(f, "global", view.global_state);
        f.kill_switch
            .with_label_values(&["global"])
            .set(i64::from(view.kill_switch.iter().any(|s| s == "global")));
        f.store_backlog
            .set(i64::try_from(view.journal_backlog).unwrap_or(i64::MAX));
        f.store_backlog_records
            .set(i64::try_from(view.journal_backlog_records).unwrap_or(i64::MAX));
        f.store_hold.set(i64::from(view.store_hold.is_some()));
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        f.orders_pending_cancel
            .set(count(view.orders_pending_cancel));
        f.orders_status_unknown
            .set(count(view.orders_status_unknown));
        for (symbol, health) in &view.books {
            let symbol = symbol.as_str();
            for (reason, n) in [
                ("not_synced", health.not_synced),
                ("stale", health.stale),
                ("bad_level", health.bad),
            ] {
                f.book_refused
                    .with_label_values(&[symbol, reason])
                    .inc_by(n);
            }
            f.book_crossed
                .with_label_values(&[symbol])
                .inc_by(health.crossed);
            f.book_is_crossed
                .with_label_values(&[symbol])
                .set(i64::from(health.is_crossed));
        }
        for (venue, until) in &view.bans {
            f.ban_until
                .with_label_values(&[venue.as_str()])
                .set(*until as f64 / 1e9);
        }
        for (venue, asset, balance) in &view.balances {
            for (kind, value) in [("free", balance.free), ("locked", balance.locked)] {
                f.balance
                    .with_label_values(&[venue.as_str(), asset.as_str(), kind])
                    .set(decimal(value.raw().into()));
            }
        }
        if let Some(stats) = &self.store {
            let load = |v: &std::sync::atomic::AtomicU64| {
                i64::try_from(v.load(Ordering::Relaxed)).unwrap_or(i64::MAX)
            };
            f.store_queue.set(load(&stats.queued));
            f.store_written
                .with_label_values::<&str>(&[])
                .inc_by(stats.written.load(Ordering::Relaxed));
            f.store_spooled.set(load(&stats.spooled));
            f.store_undurable.set(load(&stats.undurable));
            f.store_spool_bytes.set(load(&stats.spool_bytes));
            f.store_failures
                .with_label_values::<&str>(&[])
                .inc_by(stats.failures.load(Ordering::Relaxed));
        }
    }
}

fn set_trading_state(f: &Families, scope: &str, current: TradingState) {
    for state in TRADING_STATES {
        f.trading_state
            .with_label_values(&[scope, state.name()])
            .set(i64::from(state == current));
    }
}

impl Collector for ViewCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.described
            .collectors()
            .into_iter()
            .flat_map(|c| c.desc())
            .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let families = match Families::new() {
            Ok(families) => families,
            Err(err) => {
                log::error!("{err}");
                return Vec::new();
            }
        };
        self.fill(&families);
        let store = self.store.is_some();
        families
            .collectors()
            .into_iter()
            .flat_map(|c| c.collect())
            // Without a store (a backtest) the store's families would only be zeros.
            .filter(|family| store || !family.name().starts_with("pennant_store_"))
            .collect()
    }
}
