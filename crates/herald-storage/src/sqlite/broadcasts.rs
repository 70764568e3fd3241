//! [`BroadcastStore`] on `state.db`.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::broadcasts::{BroadcastRecord, BroadcastStore, COLUMNS};
use crate::{lock, sql_limit, Result};

fn record(r: &Row<'_>) -> rusqlite::Result<BroadcastRecord> {
    Ok(BroadcastRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        template_id: r.get(2)?,
        template_version: r.get(3)?,
        audience_id: r.get(4)?,
        topic: r.get(5)?,
        category: r.get(6)?,
        priority: r.get(7)?,
        transactional: r.get(8)?,
        holdout_percent: r.get(9)?,
        schedule: r.get(10)?,
        start_ms: r.get(11)?,
        status: r.get(12)?,
        cursor: r.get(13)?,
        enqueued: r.get::<_, i64>(14)? as u64,
        created_ms: r.get(15)?,
        updated_ms: r.get(16)?,
        finished_ms: r.get(17)?,
    })
}

impl BroadcastStore for SqliteStore {
    fn create_broadcast(&self, b: &BroadcastRecord) -> Result<bool> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            &format!(
                "INSERT INTO broadcasts ({COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
                 ON CONFLICT (id) DO NOTHING"
            ),
            params![
                b.id,
                b.name,
                b.template_id,
                b.template_version,
                b.audience_id,
                b.topic,
                b.category,
                b.priority,
                b.transactional,
                b.holdout_percent,
                b.schedule,
                b.start_ms,
                b.status,
                b.cursor,
                b.enqueued as i64,
                b.created_ms,
                b.updated_ms,
                b.finished_ms
            ],
        )?;
        Ok(n == 1)
    }

    fn broadcast(&self, id: &str) -> Result<Option<BroadcastRecord>> {
        let conn = self.state_readers.get()?;
        let row = conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM broadcasts WHERE id = ?1"))?
            .query_row(params![id], record)
            .optional()?;
        Ok(row)
    }

    fn broadcasts(
        &self,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<BroadcastRecord>> {
        let (ms, id) = before.unwrap_or((i64::MAX, ""));
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM broadcasts \
             WHERE created_ms < ?1 OR (created_ms = ?1 AND id < ?2) \
             ORDER BY created_ms DESC, id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![ms, id, sql_limit(limit)], record)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn update_broadcast(&self, b: &BroadcastRecord, previous_ms: i64) -> Result<bool> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            "UPDATE broadcasts SET status = ?2, cursor = ?3, enqueued = ?4, updated_ms = ?5, \
             finished_ms = ?6, start_ms = ?7 WHERE id = ?1 AND updated_ms = ?8",
            params![
                b.id,
                b.status,
                b.cursor,
                b.enqueued as i64,
                b.updated_ms,
                b.finished_ms,
                b.start_ms,
                previous_ms
            ],
        )?;
        Ok(n == 1)
    }

    fn due_broadcasts(&self, now_ms: i64, limit: usize) -> Result<Vec<BroadcastRecord>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM broadcasts WHERE status IN ('scheduled', 'running') \
             AND start_ms <= ?1 ORDER BY start_ms, id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![now_ms, sql_limit(limit)], record)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
