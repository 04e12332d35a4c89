//! PostgreSQL: a deadpool of tokio-postgres connections. The password comes from the
//! environment variable or the file `[store]` names (a systemd credential, say), never
//! from the configuration text, and never appears in logs or errors.

use super::sql::{self, Param};
use super::sqlite::next_cursor;
use super::{
    DailyPnl, FillRow, Filter, OrderRow, Page, PageRequest, Recovered, SignalRow, StoreError,
    Table, TradingStateRecord,
};
use crate::config::StoreConfig;
use crate::records::signal_stats::{HorizonTally, SignalStats};
use crate::records::{Body, FillEvent, Named, OrderEvent, PositionSnapshot, Record, SignalEvent};
use deadpool_postgres::Transaction;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use pennant_sdk::Side;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, Statement};

mod embedded {
    refinery::embed_migrations!("../migrations/postgres");
}

/// See the module docs.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    host: String,
}

fn query_error(err: impl std::fmt::Display) -> StoreError {
    StoreError::Query(err.to_string())
}

/// The password: from the file if one is named, else from the environment variable.
fn password(config: &StoreConfig) -> Result<Option<String>, StoreError> {
    if let Some(path) = &config.password_file {
        let text = std::fs::read_to_string(path).map_err(|err| {
            StoreError::Config(format!(
                "cannot read the password file {}: {err}",
                path.display()
            ))
        })?;
        return Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()));
    }
    Ok(std::env::var(&config.password_env).ok())
}

impl PgStore {
    /// Connects, checks the server answers, and migrates the schema.
    pub async fn connect(url: &str, config: &StoreConfig) -> Result<PgStore, StoreError> {
        let mut pg = tokio_postgres::Config::from_str(url)
            .map_err(|err| StoreError::Config(format!("bad [store] url: {err}")))?;
        if let Some(password) = password(config)? {
            pg.password(password);
        }
        let timeout = Duration::from_millis(u64::from(config.connect_timeout_ms.get()));
        pg.connect_timeout(timeout);
        let host = describe_host(&pg);
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.get() as usize)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .map_err(|err| StoreError::Config(err.to_string()))?;
        let store = PgStore { pool, host };
        let mut client = store.client().await?;
        migrate(&mut client).await?;
        Ok(store)
    }

    /// `host:port/database`.
    pub fn host(&self) -> &str {
        &self.host
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|err| StoreError::Unreachable {
                host: self.host.clone(),
                message: match &err {
                    deadpool_postgres::PoolError::Backend(e) => e.to_string(),
                    other => other.to_string(),
                },
            })
    }

    /// See [`super::Store::write`].
    pub async fn write(&self, records: &[Record]) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.failed(e))?;
        write_all(&tx, records).await.map_err(|e| self.failed(e))?;
        if let Some(last) = records.last() {
            tx.execute(
                "UPDATE journal SET last_seq = GREATEST(last_seq, $1) WHERE id = 1",
                &[&(last.seq as i64)],
            )
            .await
            .map_err(|e| self.failed(e))?;
        }
        tx.commit().await.map_err(|e| self.failed(e))
    }

    /// A failed statement: the server gone is `Unreachable`, anything else a query error.
    fn failed(&self, err: tokio_postgres::Error) -> StoreError {
        if err.is_closed() || err.code().is_none() {
            StoreError::Unreachable {
                host: self.host.clone(),
                message: err.to_string(),
            }
        } else {
            query_error(err)
        }
    }

    /// See [`super::Store::recover`].
    pub async fn recover(&self) -> Result<Recovered, StoreError> {
        let client = self.client().await?;
        let (last_seq, clean_seq): (i64, i64) = client
            .query_opt(sql::LAST_SEQ, &[])
            .await
            .map_err(|e| self.failed(e))?
            .map(|r| (r.get(0), r.get(1)))
            .unwrap_or((0, 0));
        let (max_order_id, last_order_at): (i64, i64) = client
            .query_one(sql::MAX_ORDER_ID, &[])
            .await
            .map(|r| (r.get(0), r.get(1)))
            .map_err(|e| self.failed(e))?;
        let open_orders = client
            .query(sql::OPEN_ORDERS, &[])
            .await
            .map_err(|e| self.failed(e))?
            .iter()
            .map(|row| Ok((order_event(row)?, row.get(sql::AFTER_ORDER))))
            .collect::<Result<_, StoreError>>()?;
        let positions = client
            .query(sql::LATEST_POSITIONS, &[])
            .await
            .map_err(|e| self.failed(e))?
            .iter()
            .map(|row| PositionSnapshot {
                strategy: row.get(0),
                instrument: row.get(1),
                qty: row.get(2),
                avg_price: row.get(3),
                realized_pnl: row.get(4),
                fees: row.get(5),
            })
            .collect();
        let states = client
            .query(sql::STATES, &[])
            .await
            .map_err(|e| self.failed(e))?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let day_baselines = client
            .query(sql::DAY_BASELINES, &[])
            .await
            .map_err(|e| self.failed(e))?
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect();
        let trading_states = client
            .query(sql::TRADING_STATES, &[])
            .await
            .map_err(|e| self.failed(e))?
            .iter()
            .map(|row| {
                Ok(TradingStateRecord {
                    scope: row.get(0),
                    state: named(row, 1)?,
                    kill_switch: row.get::<_, String>(2) == "kill_switch",
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let limits = client
            .query(sql::RUNTIME_LIMITS, &[])
            .await
            .map_err(|e| self.failed(e))?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
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

    async fn select(&self, query: &str, params: &[Param]) -> Result<Vec<Row>, StoreError> {
        let values: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| match p {
                Param::Text(s) => s as &(dyn ToSql + Sync),
                Param::Int(i) => i as &(dyn ToSql + Sync),
            })
            .collect();
        let client = self.client().await?;
        client
            .query(query, &values)
            .await
            .map_err(|e| self.failed(e))
    }

    /// See [`super::Store::orders`].
    pub async fn orders(
        &self,
        filter: &Filter,
        page: PageRequest,
    ) -> Result<Page<OrderRow>, StoreError> {
        let (query, params) = sql::orders(filter, page);
        let items: Vec<OrderRow> = self
            .select(&query, &params)
            .await?
            .iter()
            .map(|row| {
                Ok(OrderRow {
                    order: order_event(row)?,
                    created: row.get(sql::AFTER_ORDER),
                    updated: row.get(sql::AFTER_ORDER + 1),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let next = next_cursor(&items, page, |o| o.order.order_id as i64);
        Ok(Page { items, next })
    }

    /// See [`super::Store::fills`].
    pub async fn fills(
        &self,
        filter: &Filter,
        page: PageRequest,
    ) -> Result<Page<FillRow>, StoreError> {
        let (query, params) = sql::fills(filter, page);
        let items: Vec<FillRow> = self
            .select(&query, &params)
            .await?
            .iter()
            .map(|row| {
                Ok(FillRow {
                    seq: row.get(0),
                    ts: row.get(1),
                    fill: FillEvent {
                        strategy: row.get(2),
                        order_id: row.get::<_, i64>(3) as u64,
                        venue: row.get(11),
                        instrument: row.get(4),
                        side: named(row, 5)?,
                        price: row.get(6),
                        qty: row.get(7),
                        fee: row.get(8),
                        liquidity: named(row, 9)?,
                        realized_pnl: row.get(10),
                    },
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let next = next_cursor(&items, page, |f| f.seq);
        Ok(Page { items, next })
    }

    /// See [`super::Store::signals`].
    pub async fn signals(
        &self,
        filter: &Filter,
        page: PageRequest,
    ) -> Result<Page<SignalRow>, StoreError> {
        let (query, params) = sql::signals(filter, page);
        let items: Vec<SignalRow> = self
            .select(&query, &params)
            .await?
            .iter()
            .map(|row| {
                Ok(SignalRow {
                    seq: row.get(0),
                    ts: row.get(1),
                    signal: SignalEvent {
                        strategy: row.get(2),
                        instrument: row.get(3),
                        side: named(row, 4)?,
                        strength: row.get(5),
                        target: row.get(6),
                        stop: row.get(7),
                        note: row.get(8),
                    },
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let next = next_cursor(&items, page, |s| s.seq);
        Ok(Page { items, next })
    }

    /// See [`super::Store::signal_stats`].
    pub async fn signal_stats(&self, filter: &Filter) -> Result<SignalStats, StoreError> {
        let mut stats = SignalStats::default();
        let (query, params) = sql::signal_sides(filter);
        for row in self.select(&query, &params).await? {
            let side: Side = named(&row, 2)?;
            let count: i64 = row.get(3);
            stats.add_signals(row.get(0), row.get(1), side, count.max(0) as u64);
        }
        let (query, params) = sql::signal_horizons(filter);
        for row in self.select(&query, &params).await? {
            let horizon: i64 = row.get(2);
            let measured: i64 = row.get(3);
            let hits: i64 = row.get(4);
            let sum: Option<f64> = row.get(5);
            let tally = HorizonTally {
                measured: measured.max(0) as u64,
                hits: hits.max(0) as u64,
                sum_return_bps: sum.unwrap_or(0.0),
            };
            let horizon = u32::try_from(horizon).unwrap_or(u32::MAX);
            stats.add_horizon(row.get(0), row.get(1), horizon, tally);
        }
        Ok(stats)
    }

    /// See [`super::Store::daily_pnl`].
    pub async fn daily_pnl(&self, filter: &Filter) -> Result<Vec<DailyPnl>, StoreError> {
        let (query, params) = sql::daily_pnl(filter);
        Ok(self
            .select(&query, &params)
            .await?
            .iter()
            .map(|row| DailyPnl {
                strategy: row.get(0),
                day: row.get(1),
                realized_pnl: row.get(2),
                fees: row.get(3),
            })
            .collect())
    }

    /// See [`super::Store::count`].
    pub async fn count(&self, table: Table) -> Result<i64, StoreError> {
        let rows = self
            .select(&format!("SELECT COUNT(*) FROM {}", table.name()), &[])
            .await?;
        Ok(rows.first().map_or(0, |r| r.get(0)))
    }

    /// See [`super::Store::seqs`]. PostgreSQL keeps no insertion order; the physical
    /// order (`ctid`) of an append-only table is it.
    pub async fn seqs(&self, table: Table) -> Result<Vec<i64>, StoreError> {
        let rows = self
            .select(
                &format!("SELECT seq FROM {} ORDER BY ctid", table.name()),
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

fn describe_host(pg: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let host = pg
        .get_hosts()
        .first()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    let db = pg.get_dbname().unwrap_or("");
    format!("{host}:{port}/{db}")
}

async fn migrate(client: &mut tokio_postgres::Client) -> Result<(), StoreError> {
    let runner = embedded::migrations::runner();
    let Err(err) = runner.run_async(client).await else {
        return Ok(());
    };
    let last = runner
        .get_last_applied_migration_async(client)
        .await
        .ok()
        .flatten();
    Err(super::migration_failure(err, runner.get_migrations(), last))
}

/// A value of a closed set, from its name (an unknown name is an error naming the column).
fn named<T: Named>(row: &Row, idx: usize) -> Result<T, StoreError> {
    let text: &str = row.try_get(idx).map_err(query_error)?;
    T::parse(text).map_err(|err| StoreError::Query(format!("column {idx}: {err}")))
}

fn order_event(row: &Row) -> Result<OrderEvent, StoreError> {
    Ok(OrderEvent {
        strategy: row.get(0),
        order_id: row.get::<_, i64>(1) as u64,
        client_order_id: row.get::<_, i64>(2) as u64,
        instrument: row.get(3),
        side: named(row, 4)?,
        kind: named(row, 5)?,
        time_in_force: named(row, 6)?,
        price: row.get(7),
        qty: row.get(8),
        status: named(row, 9)?,
        filled_qty: row.get(10),
        reason: row.get(11),
        venue: row.get(12),
        venue_client_id: row.get(13),
    })
}

/// One statement of a batch, in flight.
type Execute<'a> = Pin<Box<dyn Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a>>;

/// The prepared statements of a write.
struct Statements {
    order: Statement,
    order_state: Statement,
    fill: Statement,
    position: Statement,
    lifecycle: Statement,
    state: Statement,
    risk: Statement,
    signal: Statement,
    signal_outcome: Statement,
}

impl Statements {
    async fn prepare(tx: &Transaction<'_>) -> Result<Statements, tokio_postgres::Error> {
        Ok(Statements {
            order: tx.prepare_cached(sql::INSERT_ORDER).await?,
            order_state: tx.prepare_cached(sql::UPSERT_ORDER_STATE).await?,
            fill: tx.prepare_cached(sql::INSERT_FILL).await?,
            position: tx.prepare_cached(sql::INSERT_POSITION).await?,
            lifecycle: tx.prepare_cached(sql::INSERT_LIFECYCLE).await?,
            state: tx.prepare_cached(sql::UPSERT_STATE).await?,
            risk: tx.prepare_cached(sql::INSERT_RISK).await?,
            signal: tx.prepare_cached(sql::INSERT_SIGNAL).await?,
            signal_outcome: tx.prepare_cached(sql::INSERT_SIGNAL_OUTCOME).await?,
        })
    }
}

/// Every statement of a batch, sent without waiting for each answer (tokio-postgres
/// pipelines the requests of one connection, in the order they are first polled); the
/// transaction fails as a whole if one does.
async fn write_all(tx: &Transaction<'_>, records: &[Record]) -> Result<(), tokio_postgres::Error> {
    let statements = Statements::prepare(tx).await?;
    let s = &statements;
    let mut pending: Vec<Execute<'_>> = Vec::with_capacity(records.len() * 2);
    for record in records {
        let seq = record.seq as i64;
        let ts = record.ts;
        match &record.body {
            Body::Order(o) => {
                let ids = (o.order_id as i64, o.client_order_id as i64);
                let names = (
                    o.side.name(),
                    o.kind.name(),
                    o.time_in_force.name(),
                    o.status.name(),
                );
                for statement in [&s.order, &s.order_state] {
                    pending.push(Box::pin(async move {
                        tx.execute(
                            statement,
                            &[
                                &seq,
                                &ts,
                                &o.strategy,
                                &ids.0,
                                &ids.1,
                                &o.instrument,
                                &names.0,
                                &names.1,
                                &names.2,
                                &o.price,
                                &o.qty,
                                &names.3,
                                &o.filled_qty,
                                &o.reason,
                                &o.venue,
                                &o.venue_client_id,
                            ],
                        )
                        .await
                    }));
                }
            }
            Body::Fill(f) => pending.push(Box::pin(async move {
                let order_id = f.order_id as i64;
                let (side, liquidity) = (f.side.name(), f.liquidity.name());
                tx.execute(
                    &s.fill,
                    &[
                        &seq,
                        &ts,
                        &f.strategy,
                        &order_id,
                        &f.instrument,
                        &side,
                        &f.price,
                        &f.qty,
                        &f.fee,
                        &liquidity,
                        &f.realized_pnl,
                        &f.venue,
                    ],
                )
                .await
            })),
            Body::Position(p) => pending.push(Box::pin(async move {
                tx.execute(
                    &s.position,
                    &[
                        &seq,
                        &ts,
                        &p.strategy,
                        &p.instrument,
                        &p.qty,
                        &p.avg_price,
                        &p.realized_pnl,
                        &p.fees,
                    ],
                )
                .await
            })),
            Body::Lifecycle(l) => pending.push(Box::pin(async move {
                let event = l.event.name();
                tx.execute(
                    &s.lifecycle,
                    &[&seq, &ts, &l.strategy, &event, &l.version, &l.detail],
                )
                .await
            })),
            Body::State(st) => pending.push(Box::pin(async move {
                tx.execute(&s.state, &[&seq, &ts, &st.strategy, &st.state])
                    .await
            })),
            Body::Risk(r) => pending.push(Box::pin(async move {
                let kind = r.kind.name();
                let reason = r.reason.map(Named::name);
                let state = r.state.map(Named::name);
                tx.execute(
                    &s.risk,
                    &[
                        &seq,
                        &ts,
                        &r.strategy,
                        &kind,
                        &reason,
                        &r.actor,
                        &r.scope,
                        &state,
                        &r.detail,
                    ],
                )
                .await
            })),
            Body::Shutdown => pending.push(Box::pin(async move {
                tx.execute(sql::MARK_CLEAN_SHUTDOWN, &[&seq]).await
            })),
            Body::SignalOutcome(o) => pending.push(Box::pin(async move {
                let side = o.side.name();
                let horizon = i64::from(o.horizon_secs);
                tx.execute(
                    &s.signal_outcome,
                    &[
                        &seq,
                        &ts,
                        &o.strategy,
                        &o.instrument,
                        &side,
                        &o.signal_ts,
                        &horizon,
                        &o.reference,
                        &o.price,
                    ],
                )
                .await
            })),
            Body::Signal(sg) => pending.push(Box::pin(async move {
                let side = sg.side.name();
                tx.execute(
                    &s.signal,
                    &[
                        &seq,
                        &ts,
                        &sg.strategy,
                        &sg.instrument,
                        &side,
                        &sg.strength,
                        &sg.target,
                        &sg.stop,
                        &sg.note,
                    ],
                )
                .await
            })),
        }
    }
    futures_util::future::try_join_all(pending).await?;
    Ok(())
}
