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

impl Pool {
    /// `read` on one connection inside one read transaction: one snapshot for all it reads,
    /// and one file lock instead of one per statement.
    pub(crate) fn read<R>(&self, read: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let conn = self.get()?;
        let tx =
            rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Deferred)?;
        let out = read(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// `read` over `items` split into parts of at least `min_part`, one per core, each part
    /// inside one read transaction of its own connection; the results in the items' order.
    /// Each part sees the last committed state, as of when it starts.
    pub(crate) fn read_in_parallel<T: Sync, R: Send>(
        &self,
        items: &[T],
        min_part: usize,
        read: impl Fn(&Connection, &[T]) -> Result<Vec<R>> + Sync,
    ) -> Result<Vec<R>> {
        let in_one = |part: &[T]| self.read(|conn| read(conn, part));
        let parts = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(items.len() / min_part.max(1))
            .max(1);
        if parts == 1 {
            return in_one(items);
        }
        let chunks: Vec<&[T]> = items.chunks(items.len().div_ceil(parts)).collect();
        let read: Vec<Result<Vec<R>>> = std::thread::scope(|scope| {
            let others: Vec<_> = chunks[1..]
                .iter()
                .map(|chunk| scope.spawn(|| in_one(chunk)))
                .collect();
            let mut read = vec![in_one(chunks[0])];
            for other in others {
                read.push(
                    other
                        .join()
                        .unwrap_or_else(|e| std::panic::resume_unwind(e)),
                );
            }
            read
        });
        let mut out = Vec::with_capacity(items.len());
        for part in read {
            out.extend(part?);
        }
        Ok(out)
    }
}
