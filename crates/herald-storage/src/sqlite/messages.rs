//! [`MessageStore`] on `state.db`.

use std::collections::BTreeMap;

use rusqlite::{params, params_from_iter, types::Value, OptionalExtension, Row};

use super::SqliteStore;
use crate::lock;
use crate::messages::{LedgerSeen, MessageFilter, MessageRecord, MessageStore, COLUMNS};
use crate::Result;

fn record(r: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        id: r.get(0)?,
        profile_id: r.get(1)?,
        partition: r.get(2)?,
        channel: r.get(3)?,
        source: r.get(4)?,
        template_id: r.get(5)?,
        template_version: r.get(6)?,
        category: r.get(7)?,
        topic: r.get(8)?,
        priority: r.get(9)?,
        transactional: r.get(10)?,
        status: r.get(11)?,
        reason: r.get(12)?,
        address: r.get(13)?,
        due_ms: r.get(14)?,
        decided_ms: r.get(15)?,
        attempts: r.get(16)?,
        provider: r.get(17)?,
        provider_message_id: r.get(18)?,
        error: r.get(19)?,
        event: r.get(20)?,
        created_ms: r.get(21)?,
        updated_ms: r.get(22)?,
    })
}

fn values(m: &MessageRecord) -> Vec<Value> {
    vec![
        m.id.clone().into(),
        m.profile_id.clone().into(),
        i64::from(m.partition).into(),
        m.channel.clone().into(),
        m.source.clone().into(),
        m.template_id.clone().into(),
        i64::from(m.template_version).into(),
        m.category.clone().into(),
        m.topic.clone().into(),
        m.priority.clone().into(),
        i64::from(m.transactional).into(),
        m.status.clone().into(),
        m.reason.clone().into(),
        m.address.clone().into(),
        m.due_ms.into(),
        m.decided_ms.into(),
        i64::from(m.attempts).into(),
        m.provider.clone().into(),
        m.provider_message_id.clone().into(),
        m.error.clone().into(),
        m.event.clone().into(),
        m.created_ms.into(),
        m.updated_ms.into(),
    ]
}

/// `?1, ?2, …, ?n`.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Replace a message if it is still as `previous` was read.
fn update(
    conn: &rusqlite::Connection,
    m: &MessageRecord,
    previous: &MessageRecord,
) -> Result<bool> {
    let n = conn.prepare_cached(
        "UPDATE messages SET status = ?2, reason = ?3, address = ?4, due_ms = ?5, decided_ms = ?6, \
         attempts = ?7, provider = ?8, provider_message_id = ?9, error = ?10, updated_ms = ?11, \
         template_version = ?12 WHERE id = ?1 AND status = ?13 AND updated_ms = ?14",
    )?
    .execute(params![
        m.id,
        m.status,
        m.reason,
        m.address,
        m.due_ms,
        m.decided_ms,
        m.attempts,
        m.provider,
        m.provider_message_id,
        m.error,
        m.updated_ms,
        m.template_version,
        previous.status,
        previous.updated_ms
    ])?;
    Ok(n == 1)
}

impl MessageStore for SqliteStore {
    fn enqueue_messages(&self, messages: &[MessageRecord]) -> Result<usize> {
        let mut conn = lock(&self.state_writer);
        let tx = conn.transaction()?;
        let mut new = 0;
        {
            let mut stmt = tx.prepare_cached(&format!(
                "INSERT INTO messages ({COLUMNS}) VALUES ({}) ON CONFLICT (id) DO NOTHING",
                placeholders(1, 23)
            ))?;
            for m in messages {
                new += stmt.execute(params_from_iter(values(m)))?;
            }
        }
        tx.commit()?;
        Ok(new)
    }

    fn due_messages(
        &self,
        statuses: &[&str],
        partitions: Option<&[u32]>,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<MessageRecord>> {
        if statuses.is_empty() || partitions.is_some_and(|p| p.is_empty()) {
            return Ok(Vec::new());
        }
        let mut args: Vec<Value> = statuses.iter().map(|s| (*s).to_owned().into()).collect();
        let mut sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE status IN ({}) AND due_ms <= ?{}",
            placeholders(1, statuses.len()),
            statuses.len() + 1
        );
        args.push(now_ms.into());
        if let Some(parts) = partitions {
            sql.push_str(&format!(
                " AND partition_no IN ({})",
                placeholders(args.len() + 1, parts.len())
            ));
            args.extend(parts.iter().map(|p| Value::from(i64::from(*p))));
        }
        sql.push_str(&format!(" ORDER BY due_ms, id LIMIT ?{}", args.len() + 1));
        args.push((limit.min(i64::MAX as usize) as i64).into());
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), record)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn update_message(&self, m: &MessageRecord, previous: &MessageRecord) -> Result<bool> {
        update(&lock(&self.state_writer), m, previous)
    }

    fn decide_message(
        &self,
        m: &MessageRecord,
        previous: &MessageRecord,
        ledger: LedgerSeen,
    ) -> Result<bool> {
        // The one writer connection serializes decisions: the count and the update are one
        // step for every other writer.
        let conn = lock(&self.state_writer);
        let entries: i64 = conn
            .prepare_cached(
                "SELECT count(*) FROM messages WHERE profile_id = ?1 AND decided_ms >= ?2",
            )?
            .query_row(params![m.profile_id, ledger.since_ms], |r| r.get(0))?;
        Ok(entries == ledger.entries as i64 && update(&conn, m, previous)?)
    }

    fn erase_messages(&self, profile_ids: &[String], now_ms: i64) -> Result<u64> {
        let conn = lock(&self.state_writer);
        let mut stmt = conn.prepare_cached(
            "UPDATE messages SET address = NULL, event = NULL, error = NULL, \
             reason = CASE WHEN status IN ('queued', 'deferred', 'sending') THEN 'profile_deleted' ELSE reason END, \
             status = CASE WHEN status IN ('queued', 'deferred', 'sending') THEN 'skipped' ELSE status END, \
             updated_ms = max(updated_ms + 1, ?2) WHERE profile_id = ?1",
        )?;
        let mut n = 0;
        for profile in profile_ids {
            n += stmt.execute(params![profile, now_ms])? as u64;
        }
        Ok(n)
    }

    fn message(&self, id: &str) -> Result<Option<MessageRecord>> {
        let conn = self.state_readers.get()?;
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"))?;
        Ok(stmt.query_row(params![id], record).optional()?)
    }

    fn ledger(&self, profile_id: &str, since_ms: i64) -> Result<Vec<MessageRecord>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM messages WHERE profile_id = ?1 AND decided_ms >= ?2 ORDER BY decided_ms, id"
        ))?;
        let rows = stmt.query_map(params![profile_id, since_ms], record)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn profile_messages(
        &self,
        profile_id: &str,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<MessageRecord>> {
        let (ms, id) = before.unwrap_or((i64::MAX, ""));
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM messages WHERE profile_id = ?1 \
             AND (created_ms < ?2 OR (created_ms = ?2 AND id < ?3)) \
             ORDER BY created_ms DESC, id DESC LIMIT ?4"
        ))?;
        let rows = stmt.query_map(
            params![profile_id, ms, id, limit.min(i64::MAX as usize) as i64],
            record,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn list_messages(
        &self,
        filter: &MessageFilter,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<MessageRecord>> {
        let (ms, id) = before.unwrap_or((i64::MAX, ""));
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM messages \
             WHERE (created_ms < ?1 OR (created_ms = ?1 AND id < ?2)) \
             AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR channel = ?4) \
             AND (?5 IS NULL OR source = ?5) AND (?6 IS NULL OR template_id = ?6) \
             ORDER BY created_ms DESC, id DESC LIMIT ?7"
        ))?;
        let rows = stmt.query_map(
            params![
                ms,
                id,
                filter.status,
                filter.channel,
                filter.source,
                filter.template_id,
                limit.min(i64::MAX as usize) as i64
            ],
            record,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn message_outcomes(&self, source: &str) -> Result<BTreeMap<(String, String), u64>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT status, reason, COUNT(*) FROM messages WHERE source = ?1 \
             AND status IN ('skipped', 'failed') AND reason IS NOT NULL GROUP BY status, reason",
        )?;
        let rows = stmt.query_map(params![source], |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                r.get::<_, i64>(2)? as u64,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn move_messages(
        &self,
        source: &str,
        from: &[&str],
        to: &str,
        reason: Option<&str>,
        updated_ms: i64,
    ) -> Result<u64> {
        if from.is_empty() {
            return Ok(0);
        }
        let mut args: Vec<Value> = vec![
            source.to_owned().into(),
            to.to_owned().into(),
            reason.map(str::to_owned).into(),
            updated_ms.into(),
        ];
        args.extend(from.iter().map(|s| Value::from((*s).to_owned())));
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            &format!(
                "UPDATE messages SET status = ?2, reason = ?3, updated_ms = MAX(updated_ms + 1, ?4) \
                 WHERE source = ?1 AND status IN ({})",
                placeholders(5, from.len())
            ),
            params_from_iter(args),
        )?;
        Ok(n as u64)
    }

    fn message_counts(&self, source: &str) -> Result<BTreeMap<String, u64>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT status, COUNT(*) FROM messages WHERE source = ?1 GROUP BY status",
        )?;
        let rows = stmt.query_map(params![source], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
