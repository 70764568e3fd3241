//! A small pool of read-only connections. SQLite readers in WAL mode never block the writer.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::Connection;

use crate::Result;

pub(crate) struct Pool {
    path: PathBuf,
    synchronous: &'static str,
    idle: Mutex<Vec<Connection>>,
}

pub(crate) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
}

const MAX_IDLE: usize = 8;

impl Pool {
    pub(crate) fn new(path: PathBuf, synchronous: &'static str) -> Pool {
        Pool {
            path,
            synchronous,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Close the idle connections (and free their page caches).
    pub(crate) fn clear(&self) {
        crate::lock(&self.idle).clear();
    }

    pub(crate) fn get(&self) -> Result<Pooled<'_>> {
        let reused = crate::lock(&self.idle).pop();
        let conn = match reused {
            Some(c) => c,
            None => {
                let c =
                    super::open_connection(&self.path, self.synchronous, super::READER_CACHE_KIB)?;
                c.execute_batch("PRAGMA query_only=ON;")?;
                if self.path.ends_with("log.db") {
                    // Events are read at scattered positions (timelines, rebuilds, backfills):
                    // through a shared map of the file, not a system call and a copy per page.
                    c.execute_batch(&format!("PRAGMA mmap_size={};", super::LOG_MMAP_BYTES))?;
                }
                c
            }
        };
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
        })
    }
}

impl Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut idle = crate::lock(&self.pool.idle);
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
    }
}
