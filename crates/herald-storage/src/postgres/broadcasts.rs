//! [`BroadcastStore`] on PostgreSQL: the cluster's one broadcast table.

use postgres::Row;

use super::PgState;
use crate::broadcasts::{BroadcastRecord, BroadcastStore};
use crate::{sql_limit, Result};

/// The select list, as a literal (statements are cached by their `&'static str`).
macro_rules! select {
    () => {
        "SELECT id, name, template_id, template_version, audience_id, topic, category, priority, \
         transactional, holdout_percent, schedule, start_ms, status, cursor, enqueued, created_ms, \
         updated_ms, finished_ms FROM broadcasts"
    };
}

fn record(r: &Row) -> BroadcastRecord {
    BroadcastRecord {
        id: r.get(0),
        name: r.get(1),
        template_id: r.get(2),
        template_version: r.get::<_, i64>(3) as u32,
        audience_id: r.get(4),
        topic: r.get(5),
        category: r.get(6),
        priority: r.get(7),
        transactional: r.get(8),
        holdout_percent: r.get(9),
        schedule: r.get(10),
        start_ms: r.get(11),
        status: r.get(12),
        cursor: r.get(13),
        enqueued: r.get::<_, i64>(14) as u64,
        created_ms: r.get(15),
        updated_ms: r.get(16),
        finished_ms: r.get(17),
    }
}

impl BroadcastStore for PgState {
    fn create_broadcast(&self, b: &BroadcastRecord) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let n = conn.exec(
            "INSERT INTO broadcasts (id, name, template_id, template_version, audience_id, topic, \
             category, priority, transactional, holdout_percent, schedule, start_ms, status, cursor, \
             enqueued, created_ms, updated_ms, finished_ms) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             ON CONFLICT (id) DO NOTHING",
            &[
                &b.id,
                &b.name,
                &b.template_id,
                &i64::from(b.template_version),
                &b.audience_id,
                &b.topic,
                &b.category,
                &b.priority,
                &b.transactional,
                &b.holdout_percent,
                &b.schedule,
                &b.start_ms,
                &b.status,
                &b.cursor,
                &(b.enqueued as i64),
                &b.created_ms,
                &b.updated_ms,
                &b.finished_ms,
            ],
        )?;
        Ok(n == 1)
    }

    fn broadcast(&self, id: &str) -> Result<Option<BroadcastRecord>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row(concat!(select!(), " WHERE id = $1"), &[&id])?
            .as_ref()
            .map(record))
    }

    fn broadcasts(
        &self,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<BroadcastRecord>> {
        let (ms, id) = before.unwrap_or((i64::MAX, ""));
        let mut conn = self.pool.get()?;
        let rows = conn.rows(
            concat!(
                select!(),
                " WHERE created_ms < $1 OR (created_ms = $1 AND id COLLATE \"C\" < $2) \
                 ORDER BY created_ms DESC, id COLLATE \"C\" DESC LIMIT $3"
            ),
            &[&ms, &id, &sql_limit(limit)],
        )?;
        Ok(rows.iter().map(record).collect())
    }

    fn update_broadcast(&self, b: &BroadcastRecord, previous_ms: i64) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let n = conn.exec(
            "UPDATE broadcasts SET status = $2, cursor = $3, enqueued = $4, updated_ms = $5, \
             finished_ms = $6, start_ms = $7 WHERE id = $1 AND updated_ms = $8",
            &[
                &b.id,
                &b.status,
                &b.cursor,
                &(b.enqueued as i64),
                &b.updated_ms,
                &b.finished_ms,
                &b.start_ms,
                &previous_ms,
            ],
        )?;
        Ok(n == 1)
    }

    fn due_broadcasts(&self, now_ms: i64, limit: usize) -> Result<Vec<BroadcastRecord>> {
        let mut conn = self.pool.get()?;
        let rows = conn.rows(
            concat!(
                select!(),
                " WHERE status IN ('scheduled', 'running') AND start_ms <= $1 \
                 ORDER BY start_ms, id COLLATE \"C\" LIMIT $2"
            ),
            &[&now_ms, &sql_limit(limit)],
        )?;
        Ok(rows.iter().map(record).collect())
    }
}
