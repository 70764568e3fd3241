//! The cluster state backend: projection state, queries, keys and dashboard users in
//! PostgreSQL.
//!
//! Every node connects to the same database. Writes to projection state (the processor's
//! batches, unmerges, deletions) run in transactions that first take one transaction-level
//! advisory lock, so they are serialised cluster-wide whichever node runs them; the processor
//! additionally checks, inside its transaction, that the stored cursor is the one it read the
//! batch after (see `herald-pipeline::processor`), which fences a node that lost the processing
//! lease. The lease itself is a session-level advisory lock held on a dedicated connection: it
//! is released by PostgreSQL the moment that connection dies, which is what moves processing
//! to a surviving node after a crash.

mod audiences;
mod broadcasts;
mod inbox;
mod insights;
mod keys;
mod messages;
mod partitions;
mod preferences;
mod projection;
mod queries;
mod schema;
mod settings;
mod templates;
mod users;
pub use schema::SCHEMA_VERSION;

use std::collections::HashMap;
use std::sync::Mutex;

use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row, Statement};

use crate::{lock, Result, StorageError};

/// Advisory lock keys (scoped to the database by PostgreSQL).
const MIGRATION_LOCK: i64 = 0x4845_5241_4c44_0001;
const PROCESSING_LEASE: i64 = 0x4845_5241_4c44_0002;
const STATE_LOCK: i64 = 0x4845_5241_4c44_0003;
/// Serialises changes to dashboard users (the last-admin guard, seeding the first user).
const USERS_LOCK: i64 = 0x4845_5241_4c44_0010;

/// Idle connections kept per node.
const MAX_IDLE: usize = 16;

impl From<postgres::Error> for StorageError {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) if *db.code() == postgres::error::SqlState::DISK_FULL => {
                StorageError::Full(format!("postgres: {}", db.message()))
            }
            Some(db) => {
                StorageError::Database(format!("postgres: {} ({})", db.message(), db.code().code()))
            }
            // No answer from the server: a closed connection, a timeout, a refused connect.
            None => StorageError::Unavailable(format!("postgres: {e}")),
        }
    }
}

type Stmts = HashMap<&'static str, Statement>;

/// A connection with its prepared statements (one round trip per statement instead of two).
pub(crate) struct Conn {
    client: Client,
    stmts: Stmts,
}

struct Pool {
    url: String,
    idle: Mutex<Vec<Conn>>,
}

struct Pooled<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
}

impl Pool {
    fn get(&self) -> Result<Pooled<'_>> {
        let idle = lock(&self.idle).pop();
        let conn = match idle {
            Some(c) if !c.client.is_closed() => c,
            _ => Conn {
                client: connect(&self.url)?,
                stmts: HashMap::new(),
            },
        };
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
        })
    }

    fn clear(&self) {
        lock(&self.idle).clear();
    }
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("present until drop")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut idle = lock(&self.pool.idle);
            if !conn.client.is_closed() && idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
    }
}

fn connect(url: &str) -> Result<Client> {
    Client::connect(url, NoTls)
        .map_err(|e| StorageError::Unavailable(format!("connecting to PostgreSQL: {e}")))
}

fn prepare<C: GenericClient>(c: &mut C, stmts: &mut Stmts, sql: &'static str) -> Result<Statement> {
    if let Some(s) = stmts.get(sql) {
        return Ok(s.clone());
    }
    let s = c.prepare(sql)?;
    stmts.insert(sql, s.clone());
    Ok(s)
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

fn exec<C: GenericClient>(
    c: &mut C,
    stmts: &mut Stmts,
    sql: &'static str,
    params: Params<'_>,
) -> Result<u64> {
    let s = prepare(c, stmts, sql)?;
    Ok(c.execute(&s, params)?)
}

fn rows<C: GenericClient>(
    c: &mut C,
    stmts: &mut Stmts,
    sql: &'static str,
    params: Params<'_>,
) -> Result<Vec<Row>> {
    let s = prepare(c, stmts, sql)?;
    Ok(c.query(&s, params)?)
}

fn row<C: GenericClient>(
    c: &mut C,
    stmts: &mut Stmts,
    sql: &'static str,
    params: Params<'_>,
) -> Result<Option<Row>> {
    let s = prepare(c, stmts, sql)?;
    Ok(c.query_opt(&s, params)?)
}

impl Conn {
    fn exec(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        exec(&mut self.client, &mut self.stmts, sql, params)
    }
    fn rows(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        rows(&mut self.client, &mut self.stmts, sql, params)
    }
    fn row(&mut self, sql: &'static str, params: Params<'_>) -> Result<Option<Row>> {
        row(&mut self.client, &mut self.stmts, sql, params)
    }
}

/// Projection state, queries and keys in one PostgreSQL database.
pub struct PgState {
    pool: Pool,
    /// The connection that holds, or keeps asking for, the processing lease, this node's
    /// partitions and its presence.
    lease: Mutex<Option<Lease>>,
    /// The cluster's partition count ([`PgState::claim_partition_count`]).
    partitions: u32,
}

struct Lease {
    client: Client,
    /// Whether this connection holds the processing lease (the sequencer's).
    held: bool,
    /// The partitions it holds.
    partitions: std::collections::BTreeSet<u32>,
    /// Whether it holds this node's presence lock.
    present: bool,
}

impl Lease {
    fn new(client: Client) -> Lease {
        Lease {
            client,
            held: false,
            partitions: Default::default(),
            present: false,
        }
    }
}

impl PgState {
    /// Connect and migrate the schema. Several nodes may start at once: migrations run under
    /// an advisory lock, each in its own transaction, so exactly one node applies each.
    pub fn connect(url: &str) -> Result<PgState> {
        let mut client = connect(url)?;
        schema::migrate(&mut client)?;
        let state = PgState {
            pool: Pool {
                url: url.to_owned(),
                idle: Mutex::new(vec![]),
            },
            lease: Mutex::new(None),
            partitions: 1,
        };
        Ok(state)
    }

    /// Whether this node holds the processing lease, acquiring it if it is free. Checked by
    /// the processor before each batch; a dead lease connection means the lease is lost (and
    /// PostgreSQL has already released it).
    pub fn hold_lease(&self) -> Result<bool> {
        let mut guard = lock(&self.lease);
        let l = self.live_lease(&mut guard)?;
        if !l.held {
            l.held = l
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&PROCESSING_LEASE])?
                .get(0);
            if l.held {
                tracing::info!("acquired the processing lease");
            }
        }
        Ok(l.held)
    }

    /// Give the lease up (graceful shutdown), so another node takes over at once.
    pub fn release_lease(&self) {
        lock(&self.lease).take();
    }

    pub(crate) fn release_idle(&self) {
        self.pool.clear();
    }
}

impl Drop for PgState {
    /// A `postgres::Client` owns a small runtime, which may not be dropped on an async
    /// runtime's thread; the last owner of the store may well be one (server shutdown).
    fn drop(&mut self) {
        let idle = std::mem::take(&mut *lock(&self.pool.idle));
        let lease = lock(&self.lease).take();
        let _ = std::thread::spawn(move || drop((idle, lease))).join();
    }
}
