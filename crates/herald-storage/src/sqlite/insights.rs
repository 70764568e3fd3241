//! [`InsightsSource`] on `state.db`. The change feed is `insights_changes`, whose
//! `AUTOINCREMENT` ids follow commit order (SQLite has one writer): the mark is the next id.

use herald_core::identity::ProfileId;
use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::insights::{InsightsRow, InsightsSource, SavedInsight};
use crate::{lock, sql_limit, Result};

fn time(s: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    Ok(chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|e| crate::StorageError::Corrupt(format!("saved insight time {s:?}: {e}")))?
        .with_timezone(&chrono::Utc))
}

type SavedRow = (String, String, String, String, Option<u32>, String, String);

fn saved(r: &rusqlite::Row) -> rusqlite::Result<SavedRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn decode((id, name, kind, query, last_days, created, updated): SavedRow) -> Result<SavedInsight> {
    Ok(SavedInsight {
        id,
        name,
        kind,
        query: serde_json::from_str(&query)?,
        last_days,
        created_at: time(&created)?,
        updated_at: time(&updated)?,
    })
}

const SAVED: &str =
    "SELECT id, name, kind, query, last_days, created_at, updated_at FROM saved_insights";

impl InsightsSource for SqliteStore {
    fn insights_rows(&self, after: u64, upto: u64, limit: usize) -> Result<Vec<InsightsRow>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT seq, profile_id, ts FROM event_index WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![after as i64, upto as i64, sql_limit(limit)], |r| {
            Ok(InsightsRow {
                seq: r.get::<_, i64>(0)? as u64,
                profile: ProfileId(r.get(1)?),
                ts_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insights_rows_at(&self, seqs: &[u64]) -> Result<Vec<InsightsRow>> {
        let conn = self.state_readers.get()?;
        let mut stmt =
            conn.prepare_cached("SELECT profile_id, ts FROM event_index WHERE seq = ?1")?;
        let mut sorted = seqs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = Vec::new();
        for seq in sorted {
            let row = stmt
                .query_row(params![seq as i64], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .optional()?;
            if let Some((profile, ts_ms)) = row {
                out.push(InsightsRow {
                    seq,
                    profile: ProfileId(profile),
                    ts_ms,
                });
            }
        }
        Ok(out)
    }

    fn insights_change_mark(&self) -> Result<u64> {
        let conn = self.state_readers.get()?;
        let max: i64 = conn.query_row(
            "SELECT COALESCE(MAX(id), 0) FROM insights_changes",
            [],
            |r| r.get(0),
        )?;
        Ok(max as u64 + 1)
    }

    fn insights_changes(&self, mark: u64) -> Result<(Vec<ProfileId>, u64)> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, profile_id FROM insights_changes WHERE id >= ?1 ORDER BY id",
        )?;
        let mut next = mark;
        let mut profiles = Vec::new();
        let rows = stmt.query_map(params![mark as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, profile) = row?;
            next = next.max(id as u64 + 1);
            profiles.push(ProfileId(profile));
        }
        Ok((profiles, next))
    }

    fn saved_insights(&self) -> Result<Vec<SavedInsight>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!("{SAVED} ORDER BY created_at, id"))?;
        let rows = stmt.query_map([], saved)?;
        rows.map(|r| decode(r?)).collect()
    }

    fn saved_insight(&self, id: &str) -> Result<Option<SavedInsight>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!("{SAVED} WHERE id = ?1"))?;
        stmt.query_row(params![id], saved)
            .optional()?
            .map(decode)
            .transpose()
    }

    fn put_saved_insight(&self, i: &SavedInsight) -> Result<bool> {
        let conn = lock(&self.state_writer);
        let existed: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM saved_insights WHERE id = ?1)",
            params![i.id],
            |r| r.get(0),
        )?;
        conn.execute(
            "INSERT INTO saved_insights (id, name, kind, query, last_days, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, query = excluded.query, \
             last_days = excluded.last_days, updated_at = excluded.updated_at",
            params![i.id, i.name, i.kind, i.query.to_string(), i.last_days, i.created_at.to_rfc3339(), i.updated_at.to_rfc3339()],
        )?;
        Ok(existed)
    }

    fn delete_saved_insight(&self, id: &str) -> Result<bool> {
        let conn = lock(&self.state_writer);
        Ok(conn.execute("DELETE FROM saved_insights WHERE id = ?1", params![id])? == 1)
    }
}
