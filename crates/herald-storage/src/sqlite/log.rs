//! [`EventLog`] on `log.db`.

use std::sync::LazyLock;

use herald_core::event::Event;
use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::dedup::{fingerprint, DedupConfig, DedupWindow};
use crate::lock;
use crate::{decode, AppendOutcome, EncodedEvent, EventLog, LogRead, Result, StorageError};

/// The de-duplication window as of `now`: the newest ids of the log within it, oldest first.
fn load_window(conn: &rusqlite::Connection, config: DedupConfig, now: i64) -> Result<DedupWindow> {
    let since = now - config.window_ms;
    let mut stmt = conn.prepare("SELECT message_id, received_ms FROM events ORDER BY seq DESC")?;
    let mut rows = stmt.query([])?;
    let mut recent = Vec::new();
    while let Some(row) = rows.next()? {
        let received: i64 = row.get(1)?;
        if received < since || recent.len() >= config.max_ids {
            break;
        }
        recent.push((row.get::<_, String>(0)?, received));
    }
    let mut window = DedupWindow::new(config);
    for (id, received) in recent.into_iter().rev() {
        window.insert(&id, received);
    }
    Ok(window)
}

/// Events inserted by one statement: statement overhead (including the `sqlite_sequence`
/// update of AUTOINCREMENT) is paid once per statement, not per event. Measured: the writer's
/// CPU per event 5.9–6.0 → 4.9–5.0 µs (BENCHMARKS.md).
const INSERT_ROWS: usize = 64;
const INSERT_ROW_SQL: &str =
    "INSERT INTO events (message_id, received_ms, payload) VALUES (?, ?, ?)";
static INSERT_ROWS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO events (message_id, received_ms, payload) VALUES {}",
        vec!["(?, ?, ?)"; INSERT_ROWS].join(", ")
    )
});

/// Insert `events[i]` for each `i` of `rows` with one statement and record their positions.
fn insert_rows(
    tx: &rusqlite::Transaction<'_>,
    sql: &str,
    rows: &[usize],
    events: &[EncodedEvent],
    positions: &mut [Option<u64>],
) -> Result<()> {
    let mut insert = tx.prepare_cached(sql)?;
    for (k, &i) in rows.iter().enumerate() {
        let event = &events[i];
        insert.raw_bind_parameter(3 * k + 1, &event.message_id)?;
        insert.raw_bind_parameter(3 * k + 2, event.received_ms)?;
        insert.raw_bind_parameter(3 * k + 3, &event.json)?;
    }
    insert.raw_execute()?;
    // The rows of one statement get consecutive positions (AUTOINCREMENT, a single writer).
    let last = tx.last_insert_rowid() as u64;
    for (k, &i) in rows.iter().enumerate() {
        positions[i] = Some(last + 1 + k as u64 - rows.len() as u64);
    }
    Ok(())
}

/// Where a quiet log keeps its de-duplication window (see [`DedupWindow::snapshot`]).
const WINDOW_SNAPSHOT: &str = "dedup-window.bin";

fn log_head(conn: &rusqlite::Connection) -> Result<u64> {
    // sqlite_sequence keeps the highest position ever handed out, even if it was deleted.
    let head: Option<i64> = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(head.unwrap_or(0) as u64)
}

/// Events each thread of a parallel [`EventLog::load`] reads at least.
const PARALLEL_LOAD: usize = 256;

impl SqliteStore {
    /// The window as the quiet log left it, if its snapshot matches the log; else rebuilt from
    /// the log.
    fn open_window(&self, conn: &rusqlite::Connection, now: i64) -> Result<DedupWindow> {
        let path = self.dir.join(WINDOW_SNAPSHOT);
        if let Ok(bytes) = std::fs::read(&path) {
            if let Some(w) = DedupWindow::restore(&bytes, self.dedup_config, log_head(conn)?) {
                return Ok(w);
            }
            tracing::info!(
                "the de-duplication window snapshot is stale; rebuilding it from the log"
            );
        }
        load_window(conn, self.dedup_config, now)
    }
}

impl EventLog for SqliteStore {
    fn append(&self, events: &[EncodedEvent]) -> Result<AppendOutcome> {
        let mut conn = lock(&self.log_writer);
        let mut dedup = lock(&self.dedup);
        let now = events.iter().map(|e| e.received_ms).max().unwrap_or(0);
        let window = match &mut *dedup {
            Some(w) => w,
            None => dedup.insert(self.open_window(&conn, now)?),
        };
        window.expire(now);
        let tx = conn.transaction()?;
        let fingerprints: Vec<u64> = events.iter().map(|e| fingerprint(&e.message_id)).collect();
        let mut fresh = std::collections::HashSet::with_capacity(events.len());
        let new: Vec<usize> = (0..events.len())
            .filter(|&i| {
                let fp = fingerprints[i];
                !window.contains_fingerprint(fp) && fresh.insert(fp)
            })
            .collect();
        let mut positions = vec![None; events.len()];
        for chunk in new.chunks(INSERT_ROWS) {
            if chunk.len() == INSERT_ROWS {
                insert_rows(&tx, &INSERT_ROWS_SQL, chunk, events, &mut positions)?;
            } else {
                for row in chunk.chunks(1) {
                    insert_rows(&tx, INSERT_ROW_SQL, row, events, &mut positions)?;
                }
            }
        }
        let head = log_head(&tx)?;
        tx.commit()?;
        // Only committed ids join the window: a failed commit leaves it as it was.
        for ((event, position), &fp) in events.iter().zip(&positions).zip(&fingerprints) {
            if position.is_some() {
                window.remember(fp, event.received_ms);
            }
        }
        metrics::gauge!("herald_dedup_window_ids").set(window.len() as f64);
        let appended = fresh.len();
        Ok(AppendOutcome {
            appended,
            duplicates: events.len() - appended,
            head,
            positions,
        })
    }

    fn read_after(&self, after: u64, limit: usize) -> Result<LogRead> {
        let conn = self.log_readers.get()?;
        // The payload as bytes: text that is not UTF-8 is an unreadable event, not a failed read.
        let mut stmt = conn.prepare_cached(
            "SELECT seq, CAST(payload AS BLOB) FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![after as i64, limit as i64])?;
        let mut read = LogRead::default();
        while let Some(row) = rows.next()? {
            let (seq, payload): (i64, Vec<u8>) = (row.get(0)?, row.get(1)?);
            read.push(seq as u64, decode(&payload));
        }
        Ok(read)
    }

    fn stored_text(&self, seq: u64) -> Result<Option<String>> {
        let conn = self.log_readers.get()?;
        let mut stmt =
            conn.prepare_cached("SELECT CAST(payload AS BLOB) FROM events WHERE seq = ?1")?;
        let bytes: Option<Vec<u8>> = stmt
            .query_row(params![seq as i64], |r| r.get(0))
            .optional()?;
        Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn load(&self, seqs: &[u64]) -> Result<Vec<(u64, Event)>> {
        let mut sorted = seqs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        // Many events (a backfill's chunk, a replay) are read and parsed on every core. An
        // event never changes once written, and only the caller's thread deletes any, so the
        // parts' snapshots agree on the ones asked for.
        self.log_readers
            .read_in_parallel(&sorted, PARALLEL_LOAD, |conn, part| {
                let mut stmt =
                    conn.prepare_cached("SELECT CAST(payload AS BLOB) FROM events WHERE seq = ?1")?;
                let mut out = Vec::with_capacity(part.len());
                for &seq in part {
                    let mut rows = stmt.query(params![seq as i64])?;
                    if let Some(row) = rows.next()? {
                        let payload: Vec<u8> = row.get(0)?;
                        let event = decode(&payload)
                            .map_err(|e| StorageError::Corrupt(format!("event {seq}: {e}")))?;
                        out.push((seq, event));
                    }
                }
                Ok(out)
            })
    }

    fn delete(&self, seqs: &[u64]) -> Result<()> {
        let mut conn = lock(&self.log_writer);
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM events WHERE seq = ?1")?;
            for seq in seqs {
                stmt.execute(params![*seq as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn head(&self) -> Result<u64> {
        log_head(&*self.log_readers.get()?)
    }

    /// Writes the window to `dedup-window.bin` (not synced: a torn or stale file fails its
    /// checks and the window is rebuilt from the log) and drops it: 12 bytes per remembered id
    /// leave the idle server's memory, and the next append reads them back (tens of ms for
    /// millions of ids) instead of scanning the log.
    fn quiesce(&self) -> Result<()> {
        let conn = lock(&self.log_writer);
        let mut dedup = lock(&self.dedup);
        let Some(window) = dedup.as_mut() else {
            return Ok(());
        };
        let bytes = window.snapshot(log_head(&conn)?);
        let (path, partial) = (
            self.dir.join(WINDOW_SNAPSHOT),
            self.dir.join(format!("{WINDOW_SNAPSHOT}.partial")),
        );
        let written =
            std::fs::write(&partial, &bytes).and_then(|()| std::fs::rename(&partial, &path));
        if let Err(e) = written {
            // Keep the window in memory: nothing is lost, the server just stays larger.
            tracing::warn!(error = %e, "could not write the de-duplication window snapshot");
            return Ok(());
        }
        *dedup = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::SqliteOptions;

    fn encoded(id: &str, received_ms: i64) -> EncodedEvent {
        EncodedEvent {
            message_id: id.into(),
            received_ms,
            json: format!(
                r#"{{"type":"track","event":"E","userId":"u","messageId":"{id}","timestamp":"2026-01-01T00:00:00Z","receivedAt":"2026-01-01T00:00:00Z"}}"#
            ),
        }
    }

    #[test]
    fn the_dedup_window_survives_a_restart_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteOptions {
            dedup: DedupConfig {
                window_ms: 60_000,
                max_ids: 100,
            },
            ..Default::default()
        };
        {
            let store = SqliteStore::open(dir.path(), options).unwrap();
            let out = store
                .append(&[
                    encoded("a", 1_000),
                    encoded("b", 50_000),
                    encoded("a", 50_000),
                ])
                .unwrap();
            assert_eq!((out.appended, out.duplicates), (2, 1));
        }
        let store = SqliteStore::open(dir.path(), options).unwrap();
        // Rebuilt from the log: both still known 10 s after b...
        let out = store
            .append(&[encoded("a", 60_000), encoded("b", 60_000)])
            .unwrap();
        assert_eq!((out.appended, out.duplicates), (0, 2));
        // ...but `a` (received at 1 s) is forgotten once the 60 s window has passed it.
        let out = store
            .append(&[encoded("a", 62_000), encoded("b", 62_000)])
            .unwrap();
        assert_eq!((out.appended, out.duplicates), (1, 1));
        assert_eq!(out.positions, [Some(3), None]);
    }

    fn dups(store: &SqliteStore, ids: &[&str], at: i64) -> usize {
        let events: Vec<_> = ids.iter().map(|id| encoded(id, at)).collect();
        store.append(&events).unwrap().duplicates
    }

    #[test]
    fn a_quiet_log_keeps_its_window_on_disk_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let snapshot = dir.path().join(WINDOW_SNAPSHOT);
        let store = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap();
        assert_eq!(dups(&store, &["a", "b"], 1_000), 0);
        // Deleted from the log, `a` is still in the window (as in memory): only a window that
        // really came back from the snapshot knows it.
        store.delete(&[1]).unwrap();
        store.quiesce().unwrap();
        assert!(lock(&store.dedup).is_none(), "the window left memory");
        assert!(snapshot.exists());
        assert_eq!(dups(&store, &["a", "b", "c"], 2_000), 2, "read back");
        store.quiesce().unwrap();

        // A snapshot that does not match the log is not used: here the log moved on after it
        // (a crash before the next quiet spell), and the window comes from the log itself,
        // which no longer holds `a`.
        let stale = std::fs::read(&snapshot).unwrap();
        assert_eq!(dups(&store, &["d"], 3_000), 0);
        drop(store);
        std::fs::write(&snapshot, &stale).unwrap();
        let store = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap();
        assert_eq!(dups(&store, &["b", "c", "d", "e"], 4_000), 3);
        assert_eq!(dups(&store, &["a"], 4_000), 0, "rebuilt from the log");
        store.quiesce().unwrap();
        drop(store);

        // A torn snapshot neither: the log again (`a` is back in it, `e` too).
        let whole = std::fs::read(&snapshot).unwrap();
        std::fs::write(&snapshot, &whole[..whole.len() / 2]).unwrap();
        let store = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap();
        assert_eq!(dups(&store, &["a", "e", "f"], 5_000), 2);
    }
}
