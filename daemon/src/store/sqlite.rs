//! The embedded store: one SQLite file (WAL mode), used from blocking threads.

use super::sql::{self, Param};
use super::{
    DailyPnl, FillRow, Filter, OrderRow, Page, PageRequest, Recovered, SignalRow, StoreError,
    Table, TradingStateRecord,
};
use crate::records::signal_stats::{HorizonTally, SignalStats};
use crate::records::{Body, FillEvent, Named, OrderEvent, PositionSnapshot, Record, SignalEvent};
use pennant_sdk::Side;
use rusqlite::{params, Connection, OptionalExtension, Row, ToSql};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod embedded {
    refinery::embed_migrations!("../migrations/sqlite");
}

/// See the module docs.
#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

fn query_error(err: impl std::fmt::Display) -> StoreError {
    StoreError::Query(err.to_string())
}

/// `$n` placeholders to SQLite's `?n`.
fn placeholders(sql: &str) -> String {
    sql.replace('$', "?")
}

impl SqliteStore {
    /// Opens (creating if need be) and migrates the file.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path))
            .await
            .map_err(query_error)?
    }

    fn open_blocking(path: &Path) -> Result<SqliteStore, StoreError> {
        let open_error = |message: String| StoreError::Open {
            path: path.to_owned(),
            message,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| open_error(e.to_string()))?;
        }
        let mut conn = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        // WAL: readers do not block the writer; NORMAL sync is durable across a crash
        // of the process (not of the machine's power) at a fraction of FULL's cost.
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| conn.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|()| conn.busy_timeout(std::time::Duration::from_secs(5)))
            .map_err(|e| open_error(e.to_string()))?;
        migrate(&mut conn).map_err(|err| match err {
            StoreError::Migrate(message) => open_error(message),
            other => other,
        })?;
        Ok(SqliteStore {
            path: path.to_owned(),
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn
                .lock()
                .map_err(|_| StoreError::Query("the store connection was poisoned".into()))?;
            f(&mut conn)
        })
        .await
        .map_err(query_error)?
    }

    /// See [`super::Store::write`].
    pub async fn write(&self, records: Vec<Record>) -> Result<(), StoreError> {
        self.with(move |conn| write(conn, &records)).await
    }

    /// See [`super::Store::recover`].
    pub async fn recover(&self) -> Result<Recovered, StoreError> {
        self.with(|conn| recover(conn).map_err(query_error)).await
    }

    /// See [`super::Store::orders`].
    pub async fn orders(
        &self,
        filter: Filter,
        page: PageRequest,
    ) -> Result<Page<OrderRow>, StoreError> {
        self.with(move |conn| {
            let (query, params) = sql::orders(&filter, page);
            let items = select(conn, &query, &params, |row| {
                Ok(OrderRow {
                    order: order_event(row)?,
                    created: row.get(sql::AFTER_ORDER)?,
                    updated: row.get(sql::AFTER_ORDER + 1)?,
                })
            })?;
            let next = next_cursor(&items, page, |o| o.order.order_id as i64);
            Ok(Page { items, next })
        })
        .await
    }

    /// See [`super::Store::fills`].
    pub async fn fills(
        &self,
        filter: Filter,
        page: PageRequest,
    ) -> Result<Page<FillRow>, StoreError> {
        self.with(move |conn| {
            let (query, params) = sql::fills(&filter, page);
            let items = select(conn, &query, &params, |row| {
                Ok(FillRow {
                    seq: row.get(0)?,
                    ts: row.get(1)?,
                    fill: FillEvent {
                        strategy: row.get(2)?,
                        order_id: row.get::<_, i64>(3)? as u64,
                        venue: row.get(11)?,
                        instrument: row.get(4)?,
                        side: named(row, 5)?,
                        price: row.get(6)?,
                        qty: row.get(7)?,
                        fee: row.get(8)?,
                        liquidity: named(row, 9)?,
                        realized_pnl: row.get(10)?,
                    },
                })
            })?;
            let next = next_cursor(&items, page, |f| f.seq);
            Ok(Page { items, next })
        })
        .await
    }

    /// See [`super::Store::signals`].
    pub async fn signals(
        &self,
        filter: Filter,
        page: PageRequest,
    ) -> Result<Page<SignalRow>, StoreError> {
        self.with(move |conn| {
            let (query, params) = sql::signals(&filter, page);
            let items = select(conn, &query, &params, |row| {
                Ok(SignalRow {
                    seq: row.get(0)?,
                    ts: row.get(1)?,
                    signal: SignalEvent {
                        strategy: row.get(2)?,
                        instrument: row.get(3)?,
                        side: named(row, 4)?,
                        strength: row.get(5)?,
                        target: row.get(6)?,
                        stop: row.get(7)?,
                        note: row.get(8)?,
                    },
                })
            })?;
            let next = next_cursor(&items, page, |s| s.seq);
            Ok(Page { items, next })
        })
        .await
    }

    /// See [`super::Store::signal_stats`].
    pub async fn signal_stats(&self, filter: Filter) -> Result<SignalStats, StoreError> {
        self.with(move |conn| {
            let mut stats = SignalStats::default();
            let (query, params) = sql::signal_sides(&filter);
            let sides = select(conn, &query, &params, |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    named::<Side>(row, 2)?,
                    row.get::<_, i64>(3)?,
                ))
            })?;
            for (strategy, instrument, side, count) in sides {
                stats.add_signals(&strategy, &instrument, side, count.max(0) as u64);
            }
            let (query, params) = sql::signal_horizons(&filter);
            let horizons = select(conn, &query, &params, |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    HorizonTally {
                        measured: row.get::<_, i64>(3)?.max(0) as u64,
                        hits: row.get::<_, i64>(4)?.max(0) as u64,
                        sum_return_bps: row.get::<_, Option<f64>>(5)?.unwrap_or(0.0),
                    },
                ))
            })?;
            for (strategy, instrument, horizon, tally) in horizons {
                let horizon = u32::try_from(horizon).unwrap_or(u32::MAX);
                stats.add_horizon(&strategy, &instrument, horizon, tally);
            }
            Ok(stats)
        })
        .await
    }

    /// See [`super::Store::daily_pnl`].
    pub async fn daily_pnl(&self, filter: Filter) -> Result<Vec<DailyPnl>, StoreError> {
        self.with(move |conn| {
            let (query, params) = sql::daily_pnl(&filter);
            select(conn, &query, &params, |row| {
                Ok(DailyPnl {
                    strategy: row.get(0)?,
                    day: row.get(1)?,
                    realized_pnl: row.get(2)?,
                    fees: row.get(3)?,
                })
            })
        })
        .await
    }

    /// See [`super::Store::count`].
    pub async fn count(&self, table: Table) -> Result<i64, StoreError> {
        self.with(move |conn| {
            conn.query_row(&format!("SELECT COUNT(*) FROM {}", table.name()), [], |r| {
                r.get(0)
            })
            .map_err(query_error)
        })
        .await
    }

    /// See [`super::Store::seqs`].
    pub async fn seqs(&self, table: Table) -> Result<Vec<i64>, StoreError> {
        self.with(move |conn| {
            select(
                conn,
                &format!("SELECT seq FROM {} ORDER BY rowid", table.name()),
                &[],
                |row| row.get(0),
            )
        })
        .await
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let runner = embedded::migrations::runner();
    let Err(err) = runner.run(conn) else {
        return Ok(());
    };
    let last = runner.get_last_applied_migration(conn).ok().flatten();
    Err(super::migration_failure(err, runner.get_migrations(), last))
}

/// The next page's cursor: the last row's key, if the page is full.
pub(super) fn next_cursor<T>(
    items: &[T],
    page: PageRequest,
    key: impl Fn(&T) -> i64,
) -> Option<i64> {
    (items.len() as u32 >= page.limit && page.limit > 0)
        .then(|| items.last().map(key))
        .flatten()
}

fn select<T>(
    conn: &Connection,
    query: &str,
    params: &[Param],
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let values: Vec<&dyn ToSql> = params
        .iter()
        .map(|p| match p {
            Param::Text(s) => s as &dyn ToSql,
            Param::Int(i) => i as &dyn ToSql,
        })
        .collect();
    let mut statement = conn
        .prepare_cached(&placeholders(query))
        .map_err(query_error)?;
    let rows = statement
        .query_map(values.as_slice(), map)
        .map_err(query_error)?;
    rows.collect::<rusqlite::Result<Vec<T>>>()
        .map_err(query_error)
}

/// A value of a closed set, from its name (an unknown name is an error naming the column).
fn named<T: Named>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    T::parse(&text).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(err))
    })
}

fn order_event(row: &Row<'_>) -> rusqlite::Result<OrderEvent> {
    Ok(OrderEvent {
        strategy: row.get(0)?,
        order_id: row.get::<_, i64>(1)? as u64,
        client_order_id: row.get::<_, i64>(2)? as u64,
        instrument: row.get(3)?,
        side: named(row, 4)?,
        kind: named(row, 5)?,
        time_in_force: named(row, 6)?,
        price: row.get(7)?,
        qty: row.get(8)?,
        status: named(row, 9)?,
        filled_qty: row.get(10)?,
        reason: row.get(11)?,
        venue: row.get(12)?,
        venue_client_id: row.get(13)?,
    })
}

fn write(conn: &mut Connection, records: &[Record]) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(query_error)?;
    for record in records {
        write_one(&tx, record).map_err(query_error)?;
    }
    if let Some(last) = records.last() {
        tx.execute(
            "UPDATE journal SET last_seq = max(last_seq, ?1) WHERE id = 1",
            params![last.seq as i64],
        )
        .map_err(query_error)?;
    }
    tx.commit().map_err(query_error)
}

fn write_one(tx: &rusqlite::Transaction<'_>, record: &Record) -> rusqlite::Result<()> {
    let seq = record.seq as i64;
    let ts = record.ts;
    match &record.body {
        Body::Order(o) => {
            let values = params![
                seq,
                ts,
                o.strategy,
                o.order_id as i64,
                o.client_order_id as i64,
                o.instrument,
                o.side.name(),
                o.kind.name(),
                o.time_in_force.name(),
                o.price,
                o.qty,
                o.status.name(),
                o.filled_qty,
                o.reason,
                o.venue,
                o.venue_client_id
            ];
            tx.prepare_cached(&placeholders(sql::INSERT_ORDER))?
                .execute(values)?;
            tx.prepare_cached(&placeholders(sql::UPSERT_ORDER_STATE))?
                .execute(values)?;
        }
        Body::Fill(f) => {
            tx.prepare_cached(&placeholders(sql::INSERT_FILL))?
                .execute(params![
                    seq,
                    ts,
                    f.strategy,
                    f.order_id as i64,
                    f.instrument,
                    f.side.name(),
                    f.price,
                    f.qty,
                    f.fee,
                    f.liquidity.name(),
                    f.realized_pnl,
                    f.venue
                ])?;
        }
        Body::Position(p) => {
            tx.prepare_cached(&placeholders(sql::INSERT_POSITION))?
                .execute(params![
                    seq,
                    ts,
                    p.strategy,
                    p.instrument,
                    p.qty,
                    p.avg_price,
                    p.realized_pnl,
                    p.fees
                ])?;
        }
        Body::Lifecycle(l) => {
            tx.prepare_cached(&placeholders(sql::INSERT_LIFECYCLE))?
                .execute(params![
                    seq,
                    ts,
                    l.strategy,
                    l.event.name(),
                    l.version,
                    l.detail
                ])?;
        }
        Body::State(s) => {
            tx.prepare_cached(&placeholders(sql::UPSERT_STATE))?
                .execute(params![seq, ts, s.strategy, s.state])?;
        }
        Body::Risk(r) => {
            tx.prepare_cached(&placeholders(sql::INSERT_RISK))?
                .execute(params![
                    seq,
                    ts,
                    r.strategy,
                    r.kind.name(),
                    r.reason.map(Named::name),
                    r.actor,
                    r.scope,
                    r.state.map(Named::name),
                    r.detail
                ])?;
        }
        Body::Shutdown => {
            tx.prepare_cached(&placeholders(sql::MARK_CLEAN_SHUTDOWN))?
                .execute(params![seq])?;
        }
        Body::SignalOutcome(o) => {
            tx.prepare_cached(&placeholders(sql::INSERT_SIGNAL_OUTCOME))?
                .execute(params![
                    seq,
                    ts,
                    o.strategy,
                    o.instrument,
                    o.side.name(),
                    o.signal_ts,
                    o.horizon_secs,
                    o.reference,
                    o.price
                ])?;
        }
        Body::Signal(s) => {
            tx.prepare_cached(&placeholders(sql::INSERT_SIGNAL))?
                .execute(params![
                    seq,
                    ts,
                    s.strategy,
                    s.instrument,
                    s.side.name(),
                    s.strength,
                    s.target,
                    s.stop,
                    s.note
                ])?;
        }
    }
    Ok(())
}

fn recover(conn: &mut Connection) -> rusqlite::Result<Recovered> {
    let (last_seq, clean_seq): (i64, i64) = conn
        .query_row(sql::LAST_SEQ, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0));
    let (max_order_id, last_order_at): (i64, i64) =
        conn.query_row(sql::MAX_ORDER_ID, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut statement = conn.prepare(sql::OPEN_ORDERS)?;
    let open_orders = statement
        .query_map([], |row| {
            Ok((order_event(row)?, row.get(sql::AFTER_ORDER)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut statement = conn.prepare(sql::LATEST_POSITIONS)?;
    let positions = statement
        .query_map([], |row| {
            Ok(PositionSnapshot {
                strategy: row.get(0)?,
                instrument: row.get(1)?,
                qty: row.get(2)?,
                avg_price: row.get(3)?,
                realized_pnl: row.get(4)?,
                fees: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut statement = conn.prepare(sql::STATES)?;
    let states = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut statement = conn.prepare(sql::DAY_BASELINES)?;
    let day_baselines = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut statement = conn.prepare(sql::TRADING_STATES)?;
    let trading_states = statement
        .query_map([], |row| {
            Ok(TradingStateRecord {
                scope: row.get(0)?,
                state: named(row, 1)?,
                kill_switch: row.get::<_, String>(2)? == "kill_switch",
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut statement = conn.prepare(sql::RUNTIME_LIMITS)?;
    let limits = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Recovered {
        last_seq: last_seq as u64,
        max_order_id: max_order_id as u64,
        last_order_at,
        open_orders,
        positions,
        states,
        trading_states,
        day_baselines,
        limits,
        clean_shutdown: last_seq > 0 && clean_seq == last_seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::OrderState;

    #[test]
    fn orders_recorded_before_venues_were_migrate_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("old.db")).unwrap();
        embedded::migrations::runner()
            .set_target(refinery::Target::Version(2))
            .run(&mut conn)
            .unwrap();
        conn.execute(
            "INSERT INTO order_state (order_id, seq, created, ts, strategy, client_order_id, instrument, side, kind, time_in_force, price, qty, status, filled_qty, reason) VALUES (7, 1, 10, 10, 's', 0, 'BTC-USDT', 'sell', 'limit', 'post_only', 1, 2, 'accepted', 0, NULL)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let back = recover(&mut conn).unwrap();
        let (order, created) = &back.open_orders[0];
        assert_eq!(*created, 10);
        assert_eq!(
            (order.side, order.time_in_force, order.status),
            (
                pennant_sdk::Side::Sell,
                pennant_sdk::TimeInForce::PostOnly,
                OrderState::Accepted
            )
        );
        assert_eq!(
            (order.venue.as_str(), order.venue_client_id.as_str()),
            ("", "")
        );

        // A name this binary does not know is an error naming it, not a guess.
        conn.execute("UPDATE order_state SET side = 'up'", [])
            .unwrap();
        let err = recover(&mut conn).unwrap_err().to_string();
        assert!(err.contains("\"up\" is not a side"), "{err}");
    }
}
