//! [`InboxStore`] on `state.db`.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::inbox::{InboxCounts, InboxFilter, InboxItem, InboxMark, InboxStore, COLUMNS};
use crate::{lock, sql_limit, Result};

fn item(r: &Row<'_>) -> rusqlite::Result<InboxItem> {
    Ok(InboxItem {
        message_id: r.get(0)?,
        user_id: r.get(1)?,
        profile_id: r.get(2)?,
        topic: r.get(3)?,
        content: r.get(4)?,
        format: r.get(5)?,
        created_ms: r.get(6)?,
        seen_ms: r.get(7)?,
        read_ms: r.get(8)?,
        archived_ms: r.get(9)?,
    })
}

/// The statement that sets a mark where it is not set, returning the item.
fn mark_sql(mark: InboxMark) -> String {
    let column = mark.column();
    let also_seen = if mark == InboxMark::Read {
        ", seen_ms = COALESCE(seen_ms, ?3)"
    } else {
        ""
    };
    format!(
        "UPDATE inbox_items SET {column} = ?3{also_seen} \
         WHERE user_id = ?1 AND message_id = ?2 AND {column} IS NULL RETURNING {COLUMNS}"
    )
}

impl InboxStore for SqliteStore {
    fn put_inbox_item(&self, i: &InboxItem) -> Result<bool> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            &format!(
                "INSERT INTO inbox_items ({COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (message_id) DO NOTHING"
            ),
            params![
                i.message_id,
                i.user_id,
                i.profile_id,
                i.topic,
                i.content,
                i.format,
                i.created_ms,
                i.seen_ms,
                i.read_ms,
                i.archived_ms
            ],
        )?;
        Ok(n == 1)
    }

    fn inbox_item(&self, user_id: &str, message_id: &str) -> Result<Option<InboxItem>> {
        let conn = self.state_readers.get()?;
        let row = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM inbox_items WHERE user_id = ?1 AND message_id = ?2"
            ))?
            .query_row(params![user_id, message_id], item)
            .optional()?;
        Ok(row)
    }

    fn inbox_items(
        &self,
        user_id: &str,
        filter: InboxFilter,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<InboxItem>> {
        let (ms, id) = before.unwrap_or((i64::MAX, ""));
        let archived = match filter {
            InboxFilter::Active => "archived_ms IS NULL",
            InboxFilter::Archived => "archived_ms IS NOT NULL",
        };
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM inbox_items WHERE user_id = ?1 AND {archived} \
             AND (created_ms < ?2 OR (created_ms = ?2 AND message_id < ?3)) \
             ORDER BY created_ms DESC, message_id DESC LIMIT ?4"
        ))?;
        let rows = stmt
            .query_map(params![user_id, ms, id, sql_limit(limit)], item)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn inbox_items_after(
        &self,
        user_id: &str,
        (ms, id): (i64, &str),
        limit: usize,
    ) -> Result<Vec<InboxItem>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM inbox_items WHERE user_id = ?1 \
             AND (created_ms > ?2 OR (created_ms = ?2 AND message_id > ?3)) \
             ORDER BY created_ms, message_id LIMIT ?4"
        ))?;
        let rows = stmt
            .query_map(params![user_id, ms, id, sql_limit(limit)], item)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn mark_inbox_item(
        &self,
        user_id: &str,
        message_id: &str,
        mark: InboxMark,
        at_ms: i64,
    ) -> Result<Option<(InboxItem, bool)>> {
        let conn = lock(&self.state_writer);
        let marked = conn
            .prepare_cached(&mark_sql(mark))?
            .query_row(params![user_id, message_id, at_ms], item)
            .optional()?;
        if let Some(marked) = marked {
            return Ok(Some((marked, true)));
        }
        let found = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM inbox_items WHERE user_id = ?1 AND message_id = ?2"
            ))?
            .query_row(params![user_id, message_id], item)
            .optional()?;
        Ok(found.map(|i| (i, false)))
    }

    fn mark_inbox_seen(&self, user_id: &str, at_ms: i64) -> Result<u64> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            "UPDATE inbox_items SET seen_ms = ?2 WHERE user_id = ?1 AND seen_ms IS NULL",
            params![user_id, at_ms],
        )?;
        Ok(n as u64)
    }

    fn delete_inbox_items(&self, user_ids: &[String]) -> Result<u64> {
        let conn = lock(&self.state_writer);
        let mut stmt = conn.prepare_cached("DELETE FROM inbox_items WHERE user_id = ?1")?;
        let mut n = 0;
        for user in user_ids {
            n += stmt.execute(params![user])? as u64;
        }
        Ok(n)
    }

    fn inbox_counts(&self, user_id: &str) -> Result<InboxCounts> {
        let conn = self.state_readers.get()?;
        let counts = conn
            .prepare_cached(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE seen_ms IS NULL), \
                 COUNT(*) FILTER (WHERE read_ms IS NULL) \
                 FROM inbox_items WHERE user_id = ?1 AND archived_ms IS NULL",
            )?
            .query_row(params![user_id], |r| {
                Ok(InboxCounts {
                    total: r.get::<_, i64>(0)? as u64,
                    unseen: r.get::<_, i64>(1)? as u64,
                    unread: r.get::<_, i64>(2)? as u64,
                })
            })?;
        Ok(counts)
    }
}
