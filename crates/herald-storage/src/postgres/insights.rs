//! [`InsightsSource`] on PostgreSQL. Transactions commit out of id order here (sequencer and
//! partitions write at once), so the change feed is ordered by transaction id instead: each
//! row records `pg_current_xact_id()`, and a mark is the oldest transaction still running
//! (`pg_snapshot_xmin`). Every transaction before a mark has ended, so rows with ids in
//! `[mark, next mark)` are all visible when the next mark is read in the same statement.

use herald_core::identity::ProfileId;
use postgres::Row;

use super::PgState;
use crate::insights::{InsightsRow, InsightsSource, SavedInsight};
use crate::{sql_limit, Result};

fn row(r: &Row) -> InsightsRow {
    InsightsRow {
        seq: r.get::<_, i64>(0) as u64,
        profile: ProfileId(r.get(1)),
        ts_ms: r.get(2),
    }
}

fn saved(r: &Row) -> Result<SavedInsight> {
    let time = |s: String| -> Result<chrono::DateTime<chrono::Utc>> {
        Ok(chrono::DateTime::parse_from_rfc3339(&s)
            .map_err(|e| crate::StorageError::Corrupt(format!("saved insight time {s:?}: {e}")))?
            .with_timezone(&chrono::Utc))
    };
    Ok(SavedInsight {
        id: r.get(0),
        name: r.get(1),
        kind: r.get(2),
        query: serde_json::from_str(r.get::<_, &str>(3))?,
        last_days: r.get::<_, Option<i32>>(4).map(|d| d as u32),
        created_at: time(r.get(5))?,
        updated_at: time(r.get(6))?,
    })
}

impl InsightsSource for PgState {
    fn insights_rows(&self, after: u64, upto: u64, limit: usize) -> Result<Vec<InsightsRow>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                "SELECT seq, profile_id, ts FROM event_index WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
                &[&(after as i64), &(upto as i64), &sql_limit(limit)],
            )?
            .iter()
            .map(row)
            .collect())
    }

    fn insights_rows_at(&self, seqs: &[u64]) -> Result<Vec<InsightsRow>> {
        let mut conn = self.pool.get()?;
        let seqs: Vec<i64> = seqs.iter().map(|s| *s as i64).collect();
        Ok(conn
            .rows(
                "SELECT seq, profile_id, ts FROM event_index WHERE seq = ANY($1) ORDER BY seq",
                &[&seqs],
            )?
            .iter()
            .map(row)
            .collect())
    }

    fn insights_change_mark(&self) -> Result<u64> {
        let mut conn = self.pool.get()?;
        let mark: i64 = conn
            .row(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                &[],
            )?
            .map_or(0, |r| r.get(0));
        Ok(mark as u64)
    }

    fn insights_changes(&self, mark: u64) -> Result<(Vec<ProfileId>, u64)> {
        let mut conn = self.pool.get()?;
        let rows = conn.rows(
            "WITH now AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) \
             SELECT now.xmin, c.profile_id FROM now LEFT JOIN insights_changes c \
             ON c.xid >= $1 AND c.xid < now.xmin",
            &[&(mark as i64)],
        )?;
        let next = rows
            .first()
            .map_or(mark, |r| r.get::<_, i64>(0) as u64)
            .max(mark);
        let profiles = rows
            .iter()
            .filter_map(|r| r.get::<_, Option<String>>(1))
            .map(ProfileId)
            .collect();
        Ok((profiles, next))
    }

    fn saved_insights(&self) -> Result<Vec<SavedInsight>> {
        let mut conn = self.pool.get()?;
        conn.rows(
            "SELECT id, name, kind, query, last_days, created_at, updated_at FROM saved_insights ORDER BY created_at, id",
            &[],
        )?
        .iter()
        .map(saved)
        .collect()
    }

    fn saved_insight(&self, id: &str) -> Result<Option<SavedInsight>> {
        let mut conn = self.pool.get()?;
        conn.row(
            "SELECT id, name, kind, query, last_days, created_at, updated_at FROM saved_insights WHERE id = $1",
            &[&id],
        )?
        .as_ref()
        .map(saved)
        .transpose()
    }

    fn put_saved_insight(&self, i: &SavedInsight) -> Result<bool> {
        let mut conn = self.pool.get()?;
        // xmax = 0: the row was inserted, not updated.
        let inserted: bool = conn
            .row(
                "INSERT INTO saved_insights (id, name, kind, query, last_days, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, query = excluded.query, \
                 last_days = excluded.last_days, updated_at = excluded.updated_at RETURNING (xmax = 0)",
                &[&i.id, &i.name, &i.kind, &i.query.to_string(), &i.last_days.map(|d| d as i32), &i.created_at.to_rfc3339(), &i.updated_at.to_rfc3339()],
            )?
            .is_some_and(|r| r.get(0));
        Ok(!inserted)
    }

    fn delete_saved_insight(&self, id: &str) -> Result<bool> {
        let mut conn = self.pool.get()?;
        Ok(conn.exec("DELETE FROM saved_insights WHERE id = $1", &[&id])? == 1)
    }
}
