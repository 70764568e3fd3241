//! [`InboxStore`] on PostgreSQL: the cluster's one inbox table, so every node serves every
//! inbox.

use postgres::Row;

use super::PgState;
use crate::inbox::{InboxCounts, InboxFilter, InboxItem, InboxMark, InboxStore};
use crate::{sql_limit, Result};

/// The column list, as a literal (statements are cached by their `&'static str`).
macro_rules! columns {
    () => {
        "message_id, user_id, profile_id, topic, content, format, created_ms, seen_ms, read_ms, \
         archived_ms"
    };
}

fn item(r: &Row) -> InboxItem {
    InboxItem {
        message_id: r.get(0),
        user_id: r.get(1),
        profile_id: r.get(2),
        topic: r.get(3),
        content: r.get(4),
        format: r.get(5),
        created_ms: r.get(6),
        seen_ms: r.get(7),
        read_ms: r.get(8),
        archived_ms: r.get(9),
    }
}

impl InboxStore for PgState {
    fn put_inbox_item(&self, i: &InboxItem) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let n = conn.exec(
            concat!(
                "INSERT INTO inbox_items (",
                columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (message_id) DO NOTHING"
            ),
            &[
                &i.message_id,
                &i.user_id,
                &i.profile_id,
                &i.topic,
                &i.content,
                &i.format,
                &i.created_ms,
                &i.seen_ms,
                &i.read_ms,
                &i.archived_ms,
            ],
        )?;
        Ok(n == 1)
    }

    fn inbox_item(&self, user_id: &str, message_id: &str) -> Result<Option<InboxItem>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row(
                concat!(
                    "SELECT ",
                    columns!(),
                    " FROM inbox_items WHERE user_id = $1 AND message_id = $2"
                ),
                &[&user_id, &message_id],
            )?
            .as_ref()
            .map(item))
    }

    fn inbox_items(
        &self,
        user_id: &str,
        filter: InboxFilter,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<InboxItem>> {
        let (ms, id) = before.unwrap_or((i64::MAX, ""));
        let archived = filter == InboxFilter::Archived;
        let mut conn = self.pool.get()?;
        let rows = conn.rows(
            concat!(
                "SELECT ",
                columns!(),
                " FROM inbox_items WHERE user_id = $1 AND (archived_ms IS NOT NULL) = $2 \
                 AND (created_ms < $3 OR (created_ms = $3 AND message_id COLLATE \"C\" < $4)) \
                 ORDER BY created_ms DESC, message_id COLLATE \"C\" DESC LIMIT $5"
            ),
            &[&user_id, &archived, &ms, &id, &sql_limit(limit)],
        )?;
        Ok(rows.iter().map(item).collect())
    }

    fn inbox_items_after(
        &self,
        user_id: &str,
        (ms, id): (i64, &str),
        limit: usize,
    ) -> Result<Vec<InboxItem>> {
        let mut conn = self.pool.get()?;
        let rows = conn.rows(
            concat!(
                "SELECT ",
                columns!(),
                " FROM inbox_items WHERE user_id = $1 \
                 AND (created_ms > $2 OR (created_ms = $2 AND message_id COLLATE \"C\" > $3)) \
                 ORDER BY created_ms, message_id COLLATE \"C\" LIMIT $4"
            ),
            &[&user_id, &ms, &id, &sql_limit(limit)],
        )?;
        Ok(rows.iter().map(item).collect())
    }

    fn mark_inbox_item(
        &self,
        user_id: &str,
        message_id: &str,
        mark: InboxMark,
        at_ms: i64,
    ) -> Result<Option<(InboxItem, bool)>> {
        let sql = match mark {
            InboxMark::Seen => concat!(
                "UPDATE inbox_items SET seen_ms = $3 \
                 WHERE user_id = $1 AND message_id = $2 AND seen_ms IS NULL RETURNING ",
                columns!()
            ),
            InboxMark::Read => concat!(
                "UPDATE inbox_items SET read_ms = $3, seen_ms = COALESCE(seen_ms, $3) \
                 WHERE user_id = $1 AND message_id = $2 AND read_ms IS NULL RETURNING ",
                columns!()
            ),
            InboxMark::Archived => concat!(
                "UPDATE inbox_items SET archived_ms = $3 \
                 WHERE user_id = $1 AND message_id = $2 AND archived_ms IS NULL RETURNING ",
                columns!()
            ),
        };
        let mut conn = self.pool.get()?;
        if let Some(marked) = conn.row(sql, &[&user_id, &message_id, &at_ms])? {
            return Ok(Some((item(&marked), true)));
        }
        drop(conn);
        Ok(self.inbox_item(user_id, message_id)?.map(|i| (i, false)))
    }

    fn mark_inbox_seen(&self, user_id: &str, at_ms: i64) -> Result<u64> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "UPDATE inbox_items SET seen_ms = $2 WHERE user_id = $1 AND seen_ms IS NULL",
            &[&user_id, &at_ms],
        )
    }

    fn delete_inbox_items(&self, user_ids: &[String]) -> Result<u64> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "DELETE FROM inbox_items WHERE user_id = ANY($1)",
            &[&user_ids],
        )
    }

    fn inbox_counts(&self, user_id: &str) -> Result<InboxCounts> {
        let mut conn = self.pool.get()?;
        let row = conn.row(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE seen_ms IS NULL), \
                 COUNT(*) FILTER (WHERE read_ms IS NULL) \
                 FROM inbox_items WHERE user_id = $1 AND archived_ms IS NULL",
            &[&user_id],
        )?;
        Ok(row
            .map(|r| InboxCounts {
                total: r.get::<_, i64>(0) as u64,
                unseen: r.get::<_, i64>(1) as u64,
                unread: r.get::<_, i64>(2) as u64,
            })
            .unwrap_or_default())
    }
}
