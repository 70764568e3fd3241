//! The embedded backend: two SQLite databases in WAL mode under the data directory.
//!
//! `log.db` holds the event log; only the ingest writer writes it, with `synchronous=FULL` so a
//! commit is on disk before the ingest request is acknowledged. `state.db` holds everything
//! projected from the log plus keys; only the processor writes projection state. Two files let
//! ingest and processing commit in parallel; state.db can use `synchronous=NORMAL` because its
//! cursor commits atomically with the state it describes (a lost tail is simply re-applied).

mod audiences;
mod broadcasts;
mod checkpoint;
mod inbox;
mod insights;
mod keys;
pub(crate) use keys::decode_key;
mod backup;
mod log;
mod messages;
mod pool;
mod preferences;
mod projection;
mod queries;
mod schema;
mod settings;
mod templates;
mod users;
pub use backup::{backup, restore, BackupInfo};
pub(crate) use schema::check_not_newer;
pub use schema::{LOG_SCHEMA_VERSION, STATE_SCHEMA_VERSION};

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;

use crate::dedup::{DedupConfig, DedupWindow};
use crate::Result;
use pool::Pool;

/// How hard commits to the log are flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync on every commit: an acknowledged event survives power loss.
    Full,
    /// No fsync on commit: survives a process crash (`kill -9`), not power loss.
    Normal,
}

/// How the embedded store is opened.
#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    pub durability: Durability,
    pub dedup: DedupConfig,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            durability: Durability::Full,
            dedup: DedupConfig::default(),
        }
    }
}

pub struct SqliteStore {
    dir: PathBuf,
    log_writer: Mutex<Connection>,
    /// Built from the log on the first append; locked after `log_writer`.
    dedup: Mutex<Option<DedupWindow>>,
    dedup_config: DedupConfig,
    log_readers: Pool,
    state_writer: Mutex<Connection>,
    state_readers: Pool,
    /// Declared last: stopped after the writers are closed.
    _checkpointer: checkpoint::Checkpointer,
}

impl SqliteStore {
    /// Open (creating if needed) the store in `dir`, migrating the schema.
    pub fn open(dir: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        let durability = options.durability;
        std::fs::create_dir_all(dir).map_err(|e| {
            crate::StorageError::Database(format!("cannot create {}: {e}", dir.display()))
        })?;
        let log_path = dir.join("log.db");
        let state_path = dir.join("state.db");
        let sync = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        let log_writer = open_connection(&log_path, sync, LOG_WRITER_CACHE_KIB)?;
        schema::migrate_log(&log_writer)?;
        let state_writer = open_connection(&state_path, "NORMAL", STATE_WRITER_CACHE_KIB)?;
        schema::migrate_state(&state_writer)?;
        state_writer.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint={};",
            checkpoint::WRITER_THRESHOLD
        ))?;
        let checkpointer = checkpoint::Checkpointer::start(&state_path)?;
        Ok(SqliteStore {
            dir: dir.to_owned(),
            log_writer: Mutex::new(log_writer),
            dedup: Mutex::new(None),
            dedup_config: options.dedup,
            log_readers: Pool::new(log_path, sync),
            state_writer: Mutex::new(state_writer),
            state_readers: Pool::new(state_path, "NORMAL"),
            _checkpointer: checkpointer,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Page cache sizes. The state writer updates profiles at random keys and gains from a large
/// cache. The log writer only appends (it touches the right edge of one B-tree) and the
/// checkpointer copies WAL frames; with the state writer's 64 MiB each, peak RSS under a 20 s
/// ingest run was 414–418 MiB, mostly these caches (glibc arenas in `/proc/<pid>/smaps`).
const STATE_WRITER_CACHE_KIB: u32 = 65_536;
const LOG_WRITER_CACHE_KIB: u32 = 8_192;
pub(crate) const CHECKPOINTER_CACHE_KIB: u32 = 2_048;
/// Readers serve point lookups and short scans.
pub(crate) const READER_CACHE_KIB: u32 = 4_096;

/// How much of `log.db` its readers map (SQLite's limit).
pub(crate) const LOG_MMAP_BYTES: u64 = 0x7fff_0000;

pub(crate) fn open_connection(
    path: &Path,
    synchronous: &str,
    cache_kib: u32,
) -> Result<Connection> {
    let conn = Connection::open(path)?;
    // The log only appends, so large pages mean fewer WAL frames per commit; state is updated
    // at random keys, where a small page keeps each dirtied page cheap. (Fixed once a file
    // exists.)
    let page_size = if path.ends_with("log.db") {
        16384
    } else {
        4096
    };
    conn.execute_batch(&format!(
        "PRAGMA page_size={page_size}; PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; PRAGMA busy_timeout=10000; \
         PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-{cache_kib};"
    ))?;
    Ok(conn)
}
