//! `state.db` WAL checkpoints off the processor's commit path.
//!
//! SQLite checkpoints inside the commit that pushes the WAL past `wal_autocheckpoint` pages,
//! and a checkpoint fsyncs the database file: on this disk 9–20 ms added to whichever
//! processing batch triggers it, which is the tail of the event-to-membership latency. The
//! state writer keeps a high threshold as a safety valve only, and this thread runs passive
//! checkpoints (which never block the writer or readers) every 200 ms.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{open_connection, CHECKPOINTER_CACHE_KIB};
use crate::{lock, Result, StorageError};

const EVERY: Duration = Duration::from_millis(200);
/// Pages after which the writer checkpoints by itself (if this thread fell behind).
pub(crate) const WRITER_THRESHOLD: u32 = 20_000;

pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> Result<Checkpointer> {
        let conn = open_connection(path, "NORMAL", CHECKPOINTER_CACHE_KIB)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
        let thread = std::thread::Builder::new()
            .name("herald-checkpoint".into())
            .spawn(move || loop {
                let (flag, wake) = &*signal;
                let (stopped, _) = wake
                    .wait_timeout(lock(flag), EVERY)
                    .unwrap_or_else(|p| p.into_inner());
                if *stopped {
                    return;
                }
                drop(stopped);
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "state checkpoint failed; will retry");
                }
            })
            .map_err(|e| StorageError::Database(format!("cannot start the checkpointer: {e}")))?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (flag, wake) = &*self.stop;
        *lock(flag) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
