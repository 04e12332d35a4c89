//! Durable records: every order state change, fill, position, strategy lifecycle event
//! and state, risk decision and signal, in an embedded SQLite file by default or in
//! PostgreSQL.
//!
//! - Writes never hold the engine: it numbers each [`Record`] in its journal
//!   (the engine's journal) and hands batches to a bounded channel; the [`writer`]
//!   task writes them, one transaction per batch, or appends them to the [`spool`] file
//!   while the database is unreachable and replays them, in order, when it is back.
//!   Every table is keyed by the journal's sequence number, so a batch written twice
//!   (after a timeout whose commit had in fact succeeded) leaves one copy.
//! - At start the schema is migrated (`migrations/sqlite`, `migrations/postgres`, with
//!   refinery); a schema newer than this binary knows is refused.
//! - [`Store::recover`] reads back what the engine needs after a crash: positions, open
//!   orders, each strategy's last state, where the journal and the order ids stand.
//! - The read queries of the admin API: orders, fills and signals by strategy,
//!   instrument, status, side and time, newest first with keyset pagination; daily PnL.
//!
//! [`Store`] is one type over the two backends; the SQL is shared but for its
//! placeholders and a few functions.

pub mod postgres;
pub mod spool;
pub mod sqlite;
pub mod writer;

use crate::records::{Record, Recovered, TradingStateRecord};

use crate::config::StoreConfig;
use crate::records::{FillEvent, OrderEvent, OrderState, SignalEvent};
use pennant_sdk::Side;
use std::path::{Path, PathBuf};

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite file cannot be opened or is not a database.
    #[error("cannot open the store {path}: {message}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// PostgreSQL cannot be reached.
    #[error("cannot reach PostgreSQL at {host}: {message}")]
    Unreachable {
        /// Host and port (never the password).
        host: String,
        /// Why.
        message: String,
    },
    /// The store's configuration is wrong (a bad URL, an unreadable password file).
    #[error("store configuration: {0}")]
    Config(String),
    /// The database's schema was made by a newer Pennant.
    #[error("the store's schema is at version {found}, newer than the {known} this pennantd knows: upgrade pennantd, or point it at another store")]
    SchemaTooNew {
        /// The schema version found.
        found: i64,
        /// The newest this binary has.
        known: i64,
    },
    /// Migrating the schema failed.
    #[error("cannot migrate the store's schema: {0}")]
    Migrate(String),
    /// A query or a write failed.
    #[error("store: {0}")]
    Query(String),
}

impl StoreError {
    /// True when the database may come back by itself (the writer spools meanwhile).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unreachable { .. } | StoreError::Query(_))
    }

    /// True when fixing the configuration (or the file it points at) fixes it.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            StoreError::Open { .. }
                | StoreError::Config(_)
                | StoreError::SchemaTooNew { .. }
                | StoreError::Migrate(_)
        )
    }
}

/// Filters of the read queries; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Strategy id.
    pub strategy: Option<String>,
    /// Instrument symbol.
    pub instrument: Option<String>,
    /// Order status (orders only).
    pub status: Option<OrderState>,
    /// Buy or sell.
    pub side: Option<Side>,
    /// From this time, inclusive (ns).
    pub from: Option<i64>,
    /// Before this time, exclusive (ns).
    pub to: Option<i64>,
}

/// A page of a query: newest first, at most `limit`, older than `cursor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many.
    pub limit: u32,
    /// The `next` of the previous page.
    pub cursor: Option<i64>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Where the next page starts, if there may be one.
    pub next: Option<i64>,
}

/// An order in its latest state.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRow {
    /// When it was created (ns).
    pub created: i64,
    /// When it last changed (ns).
    pub updated: i64,
    /// The order.
    pub order: OrderEvent,
}

/// A fill with its time.
#[derive(Debug, Clone, PartialEq)]
pub struct FillRow {
    /// Journal sequence number.
    pub seq: i64,
    /// When (ns).
    pub ts: i64,
    /// The fill.
    pub fill: FillEvent,
}

/// A signal with its time.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRow {
    /// Journal sequence number.
    pub seq: i64,
    /// When (ns).
    pub ts: i64,
    /// The signal.
    pub signal: SignalEvent,
}

/// One strategy's PnL on one UTC day, from its fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyPnl {
    /// The strategy.
    pub strategy: String,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Realized PnL before fees (raw).
    pub realized_pnl: i64,
    /// Fees (raw).
    pub fees: i64,
}

impl DailyPnl {
    /// The day as `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        civil_date(self.day)
    }
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01), in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Nanoseconds in a day.
pub const DAY_NS: i64 = 86_400_000_000_000;

/// The store: SQLite or PostgreSQL.
#[derive(Clone)]
pub enum Store {
    /// The embedded default.
    Sqlite(sqlite::SqliteStore),
    /// Production.
    Postgres(postgres::PgStore),
}

impl Store {
    /// Opens (creating and migrating) the configured store: PostgreSQL if `[store] url`
    /// is set, else the SQLite file (relative paths resolve against `state_dir`).
    pub async fn open(config: &StoreConfig, state_dir: &Path) -> Result<Store, StoreError> {
        match &config.url {
            Some(url) => Ok(Store::Postgres(
                postgres::PgStore::connect(url, config).await?,
            )),
            None => {
                let path = if config.path.is_absolute() {
                    config.path.clone()
                } else {
                    state_dir.join(&config.path)
                };
                Ok(Store::Sqlite(sqlite::SqliteStore::open(&path).await?))
            }
        }
    }

    /// Where it is, for logs: the file, or the host (never a password).
    pub fn describe(&self) -> String {
        match self {
            Store::Sqlite(s) => format!("sqlite {}", s.path().display()),
            Store::Postgres(p) => format!("postgresql {}", p.host()),
        }
    }

    /// Writes a batch in one transaction. Records already written are skipped.
    pub async fn write(&self, records: &[Record]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.write(records.to_vec()).await,
            Store::Postgres(p) => p.write(records).await,
        }
    }

    /// What the engine needs after a restart.
    pub async fn recover(&self) -> Result<Recovered, StoreError> {
        match self {
            Store::Sqlite(s) => s.recover().await,
            Store::Postgres(p) => p.recover().await,
        }
    }

    /// Orders in their latest state, newest first (the cursor is an order id).
    pub async fn orders(
        &self,
        filter: &Filter,
        page: PageRequest,
    ) -> Result<Page<OrderRow>, StoreError> {
        match self {
            Store::Sqlite(s) => s.orders(filter.clone(), page).await,
            Store::Postgres(p) => p.orders(filter, page).await,
        }
    }

    /// Fills, newest first (the cursor is a sequence number).
    pub async fn fills(
        &self,
        filter: &Filter,
        page: PageRequest,
    ) -> Result<Page<FillRow>, StoreError> {
        match self {
            Store::Sqlite(s) => s.fills(filter.clone(), page).await,
            Store::Postgres(p) => p.fills(filter, page).await,
        }
    }

    /// Signals, newest first (the cursor is a sequence number).
    pub async fn signals(
        &self,
        filter: &Filter,
        page: PageRequest,
    ) -> Result<Page<SignalRow>, StoreError> {
        match self {
            Store::Sqlite(s) => s.signals(filter.clone(), page).await,
            Store::Postgres(p) => p.signals(filter, page).await,
        }
    }

    /// How good the signals within the filter were (strategy, instrument, side, and
    /// `from`/`to` on when each signal was emitted).
    pub async fn signal_stats(
        &self,
        filter: &Filter,
    ) -> Result<crate::records::SignalStats, StoreError> {
        match self {
            Store::Sqlite(s) => s.signal_stats(filter.clone()).await,
            Store::Postgres(p) => p.signal_stats(filter).await,
        }
    }

    /// PnL per strategy per UTC day, from the fills, optionally of one strategy and
    /// within `[from, to)`.
    pub async fn daily_pnl(&self, filter: &Filter) -> Result<Vec<DailyPnl>, StoreError> {
        match self {
            Store::Sqlite(s) => s.daily_pnl(filter.clone()).await,
            Store::Postgres(p) => p.daily_pnl(filter).await,
        }
    }

    /// How many rows a table has (tests and benchmarks check what arrived).
    pub async fn count(&self, table: Table) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(s) => s.count(table).await,
            Store::Postgres(p) => p.count(table).await,
        }
    }

    /// The sequence numbers in a table, in the order the rows were inserted.
    pub async fn seqs(&self, table: Table) -> Result<Vec<i64>, StoreError> {
        match self {
            Store::Sqlite(s) => s.seqs(table).await,
            Store::Postgres(p) => p.seqs(table).await,
        }
    }
}

/// After a failed migration: a schema newer than the `known` migrations (a newer
/// Pennant's) is the likely cause, and is named; otherwise the runner's error.
fn migration_failure(
    err: refinery::Error,
    known: &[refinery::Migration],
    last_applied: Option<refinery::Migration>,
) -> StoreError {
    let known = known
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0);
    match last_applied.map(|m| i64::from(m.version())) {
        Some(found) if found > known => StoreError::SchemaTooNew { found, known },
        _ => StoreError::Migrate(err.to_string()),
    }
}

/// The record tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Order state changes.
    Orders,
    /// Fills.
    Fills,
    /// Position snapshots.
    Positions,
    /// Strategy lifecycle events.
    StrategyEvents,
    /// Risk events.
    RiskEvents,
    /// Signals.
    Signals,
    /// Signals' horizons passed.
    SignalOutcomes,
}

impl Table {
    /// The SQL name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Orders => "orders",
            Table::Fills => "fills",
            Table::Positions => "positions",
            Table::StrategyEvents => "strategy_events",
            Table::RiskEvents => "risk_events",
            Table::Signals => "signals",
            Table::SignalOutcomes => "signal_outcomes",
        }
    }
}

/// The SQL both backends share, written with `$n` placeholders; SQLite's are rewritten
/// to `?n`.
pub mod sql {
    use super::{Filter, PageRequest};
    use crate::records::Named;

    /// One insert per record kind, then the upserts of the latest-state tables.
    pub const INSERT_ORDER: &str = "INSERT INTO orders (seq, ts, strategy, order_id, client_order_id, instrument, side, kind, time_in_force, price, qty, status, filled_qty, reason, venue, venue_client_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (seq) DO NOTHING";
    /// The latest state of an order, kept only if newer.
    pub const UPSERT_ORDER_STATE: &str = "INSERT INTO order_state (seq, created, ts, strategy, order_id, client_order_id, instrument, side, kind, time_in_force, price, qty, status, filled_qty, reason, venue, venue_client_id) VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (order_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts, status = excluded.status, filled_qty = excluded.filled_qty, reason = excluded.reason WHERE excluded.seq > order_state.seq";
    /// A fill.
    pub const INSERT_FILL: &str = "INSERT INTO fills (seq, ts, strategy, order_id, instrument, side, price, qty, fee, liquidity, realized_pnl, venue) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (seq) DO NOTHING";
    /// A position.
    pub const INSERT_POSITION: &str = "INSERT INTO positions (seq, ts, strategy, instrument, qty, avg_price, realized_pnl, fees) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (seq) DO NOTHING";
    /// A lifecycle event.
    pub const INSERT_LIFECYCLE: &str = "INSERT INTO strategy_events (seq, ts, strategy, event, version, detail) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (seq) DO NOTHING";
    /// A strategy's state, kept only if newer.
    pub const UPSERT_STATE: &str = "INSERT INTO strategy_states (seq, ts, strategy, state) VALUES ($1, $2, $3, $4) ON CONFLICT (strategy) DO UPDATE SET seq = excluded.seq, ts = excluded.ts, state = excluded.state WHERE excluded.seq > strategy_states.seq";
    /// A risk event.
    pub const INSERT_RISK: &str = "INSERT INTO risk_events (seq, ts, strategy, kind, reason, actor, scope, state, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (seq) DO NOTHING";
    /// A signal.
    pub const INSERT_SIGNAL: &str = "INSERT INTO signals (seq, ts, strategy, instrument, side, strength, target, stop, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (seq) DO NOTHING";
    /// A signal's horizon passed.
    pub const INSERT_SIGNAL_OUTCOME: &str = "INSERT INTO signal_outcomes (seq, ts, strategy, instrument, side, signal_ts, horizon_secs, reference, price) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (seq) DO NOTHING";

    /// Where the journal stands.
    pub const LAST_SEQ: &str = "SELECT last_seq, clean_shutdown_seq FROM journal WHERE id = 1";
    /// Marks the record of a clean shutdown.
    pub const MARK_CLEAN_SHUTDOWN: &str = "UPDATE journal SET clean_shutdown_seq = $1 WHERE id = 1";
    /// The latest limits set on each scope, unless the configuration set them (a
    /// configuration reload's limits come from the file, which is read again at start).
    pub const RUNTIME_LIMITS: &str = "SELECT r.scope, r.detail FROM risk_events r JOIN (SELECT scope, MAX(seq) AS seq FROM risk_events WHERE kind = 'limits_set' GROUP BY scope) latest ON r.seq = latest.seq WHERE r.actor <> 'config reload' ORDER BY r.scope";
    /// The highest order id, and when the latest order was created.
    pub const MAX_ORDER_ID: &str =
        "SELECT COALESCE(MAX(order_id), 0), COALESCE(MAX(created), 0) FROM order_state";
    /// The columns of an order, in the order [`OrderEvent`]'s readers take them.
    macro_rules! order_columns {
        () => {
            "strategy, order_id, client_order_id, instrument, side, kind, time_in_force, price, qty, status, filled_qty, reason, venue, venue_client_id"
        };
    }
    /// The index of the first column after an order's.
    pub const AFTER_ORDER: usize = 14;
    /// Orders that may still fill (the states [`OrderState::is_open`] names), then when
    /// each was created.
    ///
    /// [`OrderState::is_open`]: crate::records::OrderState::is_open
    pub const OPEN_ORDERS: &str = concat!(
        "SELECT ",
        order_columns!(),
        ", created FROM order_state WHERE status IN ('submitted', 'accepted', 'partially_filled', 'pending_cancel', 'unknown') ORDER BY order_id"
    );
    /// The latest position of each strategy in each instrument.
    pub const LATEST_POSITIONS: &str = "SELECT p.strategy, p.instrument, p.qty, p.avg_price, p.realized_pnl, p.fees FROM positions p JOIN (SELECT strategy, instrument, MAX(seq) AS seq FROM positions GROUP BY strategy, instrument) latest ON p.seq = latest.seq ORDER BY p.strategy, p.instrument";
    /// Each strategy's last state.
    pub const STATES: &str = "SELECT strategy, state FROM strategy_states ORDER BY strategy";
    /// The PnL baselines of the latest trading day (the daily loss counts from them).
    pub const DAY_BASELINES: &str = "SELECT ts, scope, detail FROM risk_events WHERE kind = 'day_start' AND ts = (SELECT MAX(ts) FROM risk_events WHERE kind = 'day_start') ORDER BY seq";
    /// The last trading state of each scope that has had one set.
    pub const TRADING_STATES: &str = "SELECT r.scope, r.state, r.kind FROM risk_events r JOIN (SELECT scope, MAX(seq) AS seq FROM risk_events WHERE state IS NOT NULL GROUP BY scope) latest ON r.seq = latest.seq ORDER BY r.scope";

    /// A query's `WHERE` clause and its parameters.
    pub struct Where {
        /// ` WHERE ...` (or empty).
        pub clause: String,
        /// Text or integer parameters, in placeholder order.
        pub params: Vec<Param>,
    }

    /// A query parameter.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Param {
        /// Text.
        Text(String),
        /// An integer.
        Int(i64),
    }

    /// The filter (columns as named) and page as SQL, with `$n` placeholders.
    pub fn filter(
        filter: &Filter,
        time_column: &str,
        key_column: &str,
        page: Option<PageRequest>,
        with_status: bool,
    ) -> Where {
        let mut parts = Vec::new();
        let mut params = Vec::new();
        let mut push = |sql: String, param: Param| {
            params.push(param);
            parts.push(sql.replace("$?", &format!("${}", params.len())));
        };
        if let Some(s) = &filter.strategy {
            push("strategy = $?".into(), Param::Text(s.clone()));
        }
        if let Some(s) = &filter.instrument {
            push("instrument = $?".into(), Param::Text(s.clone()));
        }
        if let (true, Some(s)) = (with_status, &filter.status) {
            push("status = $?".into(), Param::Text(s.name().to_owned()));
        }
        if let Some(s) = &filter.side {
            push("side = $?".into(), Param::Text(s.name().to_owned()));
        }
        if let Some(t) = filter.from {
            push(format!("{time_column} >= $?"), Param::Int(t));
        }
        if let Some(t) = filter.to {
            push(format!("{time_column} < $?"), Param::Int(t));
        }
        if let Some(cursor) = page.and_then(|p| p.cursor) {
            push(format!("{key_column} < $?"), Param::Int(cursor));
        }
        let clause = if parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", parts.join(" AND "))
        };
        Where { clause, params }
    }

    /// The orders query.
    pub fn orders(filter: &Filter, page: PageRequest) -> (String, Vec<Param>) {
        let w = self::filter(filter, "created", "order_id", Some(page), true);
        (
            format!(
                concat!(
                    "SELECT ",
                    order_columns!(),
                    ", created, ts FROM order_state{} ORDER BY order_id DESC LIMIT {}"
                ),
                w.clause, page.limit
            ),
            w.params,
        )
    }

    /// The fills query.
    pub fn fills(filter: &Filter, page: PageRequest) -> (String, Vec<Param>) {
        let w = self::filter(filter, "ts", "seq", Some(page), false);
        (
            format!(
                "SELECT seq, ts, strategy, order_id, instrument, side, price, qty, fee, liquidity, realized_pnl, venue FROM fills{} ORDER BY seq DESC LIMIT {}",
                w.clause, page.limit
            ),
            w.params,
        )
    }

    /// The signals query.
    pub fn signals(filter: &Filter, page: PageRequest) -> (String, Vec<Param>) {
        let w = self::filter(filter, "ts", "seq", Some(page), false);
        (
            format!(
                "SELECT seq, ts, strategy, instrument, side, strength, target, stop, note FROM signals{} ORDER BY seq DESC LIMIT {}",
                w.clause, page.limit
            ),
            w.params,
        )
    }

    /// The signal counts by side: `strategy, instrument, side, count`.
    pub fn signal_sides(filter: &Filter) -> (String, Vec<Param>) {
        let w = self::filter(filter, "ts", "seq", None, false);
        (
            format!(
                "SELECT strategy, instrument, side, COUNT(*) FROM signals{} GROUP BY strategy, instrument, side ORDER BY strategy, instrument, side",
                w.clause
            ),
            w.params,
        )
    }

    /// The horizons' sums: `strategy, instrument, horizon_secs, measured, hits,
    /// sum of the moves in the signal's direction in basis points`.
    pub fn signal_horizons(filter: &Filter) -> (String, Vec<Param>) {
        let w = self::filter(filter, "signal_ts", "seq", None, false);
        (
            format!(
                "SELECT strategy, instrument, horizon_secs, COUNT(*), \
                 CAST(SUM(CASE WHEN (side = 'buy' AND price > reference) OR (side = 'sell' AND price < reference) THEN 1 ELSE 0 END) AS BIGINT), \
                 SUM(CASE WHEN reference = 0 THEN 0.0 \
                          WHEN side = 'buy' THEN (CAST(price AS DOUBLE PRECISION) - reference) * 10000.0 / reference \
                          ELSE (CAST(reference AS DOUBLE PRECISION) - price) * 10000.0 / reference END) \
                 FROM signal_outcomes{} GROUP BY strategy, instrument, horizon_secs ORDER BY strategy, instrument, horizon_secs",
                w.clause
            ),
            w.params,
        )
    }

    /// The daily PnL query (UTC days from nanosecond times, rounded down: both SQL
    /// dialects truncate division toward zero, which would merge the days either side of
    /// 1970-01-01).
    pub fn daily_pnl(filter: &Filter) -> (String, Vec<Param>) {
        let only = Filter {
            strategy: filter.strategy.clone(),
            from: filter.from,
            to: filter.to,
            ..Filter::default()
        };
        let w = self::filter(&only, "ts", "seq", None, false);
        (
            format!(
                "SELECT strategy, {floor} AS day, CAST(SUM(realized_pnl) AS BIGINT), CAST(SUM(fee) AS BIGINT) FROM fills{} GROUP BY strategy, {floor} ORDER BY strategy, day",
                w.clause,
                floor = format!("(ts - ((ts % {day}) + {day}) % {day}) / {day}", day = super::DAY_NS)
            ),
            w.params,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Named;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_675), "2023-11-14");
        assert_eq!(civil_date(-1), "1969-12-31");
        assert_eq!(civil_date(11_016), "2000-02-29");
    }

    #[test]
    fn recovery_reads_back_every_open_state_and_no_other() {
        let listed = sql::OPEN_ORDERS
            .split("status IN (")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap();
        let listed: Vec<&str> = listed.split(", ").map(|s| s.trim_matches('\'')).collect();
        let open: Vec<&str> = OrderState::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.name())
            .collect();
        assert_eq!(listed, open);
        let columns = sql::OPEN_ORDERS.split(" FROM ").next().unwrap();
        assert_eq!(
            columns.split(", ").count(),
            sql::AFTER_ORDER + 1,
            "{columns}"
        );
    }

    #[test]
    fn filters_number_their_placeholders_in_order() {
        let filter = Filter {
            strategy: Some("s".into()),
            side: Some(Side::Buy),
            from: Some(5),
            ..Filter::default()
        };
        let (query, params) = sql::orders(
            &filter,
            PageRequest {
                limit: 10,
                cursor: Some(99),
            },
        );
        assert!(query.contains(
            " WHERE strategy = $1 AND side = $2 AND created >= $3 AND order_id < $4 ORDER BY order_id DESC LIMIT 10"
        ), "{query}");
        assert_eq!(params.len(), 4);
    }
}
