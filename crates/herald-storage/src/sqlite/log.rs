//! [`EventLog`] on `log.db`.

use herald_core::event::Event;
use rusqlite::params;

use super::{lock, SqliteStore};
use crate::{AppendOutcome, EventLog, Result, StorageError};

fn decode(seq: i64, payload: &str) -> Result<(u64, Event)> {
    let map = serde_json::from_str(payload)?;
    let event = Event::from_stored(map).map_err(|e| StorageError::Corrupt(format!("event {seq}: {e}")))?;
    Ok((seq as u64, event))
}

impl EventLog for SqliteStore {
    fn append(&self, events: &[Event]) -> Result<AppendOutcome> {
        let mut conn = lock(&self.log_writer);
        let tx = conn.transaction()?;
        let mut appended = 0;
        let mut positions = Vec::with_capacity(events.len());
        {
            // Check first: an ignored INSERT would still consume an AUTOINCREMENT position.
            let mut exists = tx.prepare_cached("SELECT 1 FROM events WHERE message_id = ?1")?;
            let mut insert = tx.prepare_cached("INSERT INTO events (message_id, payload) VALUES (?1, ?2)")?;
            for event in events {
                if exists.exists(params![event.message_id])? {
                    positions.push(None);
                    continue;
                }
                let payload = serde_json::to_string(&event.payload)?;
                insert.execute(params![event.message_id, payload])?;
                positions.push(Some(tx.last_insert_rowid() as u64));
                appended += 1;
            }
        }
        let head: i64 = tx
            .query_row("SELECT seq FROM sqlite_sequence WHERE name = 'events'", [], |r| r.get(0))
            .unwrap_or(0);
        tx.commit()?;
        Ok(AppendOutcome { appended, duplicates: events.len() - appended, head: head as u64, positions })
    }

    fn read_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, Event)>> {
        let conn = self.log_readers.get()?;
        let mut stmt = conn.prepare_cached("SELECT seq, payload FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let rows = stmt.query_map(params![after as i64, limit as i64], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|row| {
            let (seq, payload) = row?;
            decode(seq, &payload)
        })
        .collect()
    }

    fn load(&self, seqs: &[u64]) -> Result<Vec<(u64, Event)>> {
        let conn = self.log_readers.get()?;
        let mut stmt = conn.prepare_cached("SELECT payload FROM events WHERE seq = ?1")?;
        let mut sorted = seqs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = Vec::with_capacity(sorted.len());
        for seq in sorted {
            let mut rows = stmt.query(params![seq as i64])?;
            if let Some(row) = rows.next()? {
                let payload: String = row.get(0)?;
                out.push(decode(seq as i64, &payload)?);
            }
        }
        Ok(out)
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
        let conn = self.log_readers.get()?;
        // sqlite_sequence keeps the highest position ever handed out, even if it was deleted.
        let head: Option<i64> =
            conn.query_row("SELECT seq FROM sqlite_sequence WHERE name = 'events'", [], |r| r.get(0)).ok();
        Ok(head.unwrap_or(0) as u64)
    }
}
