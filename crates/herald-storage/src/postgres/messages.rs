//! [`MessageStore`] on PostgreSQL: the cluster's one message table, which every node's
//! workers read for their own partitions.

use std::collections::BTreeMap;

use postgres::Row;

use super::PgState;
use crate::messages::{LedgerSeen, MessageFilter, MessageRecord, MessageStore};
use crate::Result;

/// The select list, as a literal (statements are cached by their `&'static str`).
macro_rules! select {
    () => {
        "SELECT id, profile_id, partition_no, channel, source, template_id, template_version, \
         category, topic, priority, transactional, status, reason, address, due_ms, decided_ms, \
         attempts, provider, provider_message_id, error, event, created_ms, updated_ms FROM messages"
    };
}

fn record(r: &Row) -> MessageRecord {
    MessageRecord {
        id: r.get(0),
        profile_id: r.get(1),
        partition: r.get::<_, i64>(2) as u32,
        channel: r.get(3),
        source: r.get(4),
        template_id: r.get(5),
        template_version: r.get::<_, i64>(6) as u32,
        category: r.get(7),
        topic: r.get(8),
        priority: r.get(9),
        transactional: r.get(10),
        status: r.get(11),
        reason: r.get(12),
        address: r.get(13),
        due_ms: r.get(14),
        decided_ms: r.get(15),
        attempts: r.get::<_, i64>(16) as u32,
        provider: r.get(17),
        provider_message_id: r.get(18),
        error: r.get(19),
        event: r.get(20),
        created_ms: r.get(21),
        updated_ms: r.get(22),
    }
}

/// The first key of the per-person decision lock (`pg_advisory_xact_lock(int, int)`).
const PERSON_LOCK: i32 = 0x4d53_4700; // "MSG\0"

/// Replace a message if it is still as `previous` was read.
fn update<C: postgres::GenericClient>(
    c: &mut C,
    stmts: &mut super::Stmts,
    m: &MessageRecord,
    previous: &MessageRecord,
) -> Result<bool> {
    let n = super::exec(
        c,
        stmts,
        "UPDATE messages SET status = $2, reason = $3, address = $4, due_ms = $5, decided_ms = $6, \
         attempts = $7, provider = $8, provider_message_id = $9, error = $10, updated_ms = $11, \
         template_version = $12 WHERE id = $1 AND status = $13 AND updated_ms = $14",
        &[
            &m.id,
            &m.status,
            &m.reason,
            &m.address,
            &m.due_ms,
            &m.decided_ms,
            &i64::from(m.attempts),
            &m.provider,
            &m.provider_message_id,
            &m.error,
            &m.updated_ms,
            &i64::from(m.template_version),
            &previous.status,
            &previous.updated_ms,
        ],
    )?;
    Ok(n == 1)
}

impl MessageStore for PgState {
    fn enqueue_messages(&self, messages: &[MessageRecord]) -> Result<usize> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.client.transaction()?;
        let stmt = tx.prepare(
            "INSERT INTO messages (id, profile_id, partition_no, channel, source, template_id, \
             template_version, category, topic, priority, transactional, status, reason, address, due_ms, \
             decided_ms, attempts, provider, provider_message_id, error, event, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) \
             ON CONFLICT (id) DO NOTHING",
        )?;
        let mut new = 0;
        for m in messages {
            new += tx.execute(
                &stmt,
                &[
                    &m.id,
                    &m.profile_id,
                    &i64::from(m.partition),
                    &m.channel,
                    &m.source,
                    &m.template_id,
                    &i64::from(m.template_version),
                    &m.category,
                    &m.topic,
                    &m.priority,
                    &m.transactional,
                    &m.status,
                    &m.reason,
                    &m.address,
                    &m.due_ms,
                    &m.decided_ms,
                    &i64::from(m.attempts),
                    &m.provider,
                    &m.provider_message_id,
                    &m.error,
                    &m.event,
                    &m.created_ms,
                    &m.updated_ms,
                ],
            )? as usize;
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
        let statuses: Vec<&str> = statuses.to_vec();
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut conn = self.pool.get()?;
        let rows = match partitions {
            None => conn.rows(
                concat!(
                    select!(),
                    " WHERE status = ANY($1) AND due_ms <= $2 ORDER BY due_ms, id LIMIT $3"
                ),
                &[&statuses, &now_ms, &limit],
            )?,
            Some(parts) => {
                let parts: Vec<i64> = parts.iter().map(|p| i64::from(*p)).collect();
                conn.rows(
                    concat!(
                        select!(),
                        " WHERE status = ANY($1) AND due_ms <= $2 AND partition_no = ANY($4) \
                         ORDER BY due_ms, id LIMIT $3"
                    ),
                    &[&statuses, &now_ms, &limit, &parts],
                )?
            }
        };
        Ok(rows.iter().map(record).collect())
    }

    fn update_message(&self, m: &MessageRecord, previous: &MessageRecord) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let super::Conn { client, stmts } = &mut *conn;
        update(client, stmts, m, previous)
    }

    fn decide_message(
        &self,
        m: &MessageRecord,
        previous: &MessageRecord,
        ledger: LedgerSeen,
    ) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let super::Conn { client, stmts } = &mut *conn;
        let mut tx = client.transaction()?;
        // One decision per person at a time across the cluster: the lock is held to the
        // commit, so a second decider counts the first one's entry. (Two-key advisory locks
        // never collide with the one-key state lock.)
        super::exec(
            &mut tx,
            stmts,
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&PERSON_LOCK, &m.profile_id],
        )?;
        let entries: i64 = super::row(
            &mut tx,
            stmts,
            "SELECT count(*) FROM messages WHERE profile_id = $1 AND decided_ms >= $2",
            &[&m.profile_id, &ledger.since_ms],
        )?
        .map_or(0, |r| r.get(0));
        if entries != ledger.entries as i64 || !update(&mut tx, stmts, m, previous)? {
            return Ok(false);
        }
        tx.commit()?;
        Ok(true)
    }

    fn erase_messages(&self, profile_ids: &[String], now_ms: i64) -> Result<u64> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "UPDATE messages SET address = NULL, event = NULL, error = NULL, \
             reason = CASE WHEN status IN ('queued', 'deferred', 'sending') THEN 'profile_deleted' ELSE reason END, \
             status = CASE WHEN status IN ('queued', 'deferred', 'sending') THEN 'skipped' ELSE status END, \
             updated_ms = GREATEST(updated_ms + 1, $2) WHERE profile_id = ANY($1)",
            &[&profile_ids, &now_ms],
        )
    }

    fn message(&self, id: &str) -> Result<Option<MessageRecord>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row(concat!(select!(), " WHERE id = $1"), &[&id])?
            .as_ref()
            .map(record))
    }

    fn ledger(&self, profile_id: &str, since_ms: i64) -> Result<Vec<MessageRecord>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                concat!(
                    select!(),
                    " WHERE profile_id = $1 AND decided_ms >= $2 ORDER BY decided_ms, id"
                ),
                &[&profile_id, &since_ms],
            )?
            .iter()
            .map(record)
            .collect())
    }

    fn list_messages(
        &self,
        filter: &MessageFilter,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<MessageRecord>> {
        let (ms, id) = before.unwrap_or((i64::MAX, ""));
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                concat!(
                    select!(),
                    " WHERE (created_ms < $1 OR (created_ms = $1 AND id < $2)) \
                     AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR channel = $4) \
                     AND ($5::text IS NULL OR source = $5) AND ($6::text IS NULL OR template_id = $6) \
                     ORDER BY created_ms DESC, id DESC LIMIT $7"
                ),
                &[
                    &ms,
                    &id,
                    &filter.status,
                    &filter.channel,
                    &filter.source,
                    &filter.template_id,
                    &limit,
                ],
            )?
            .iter()
            .map(record)
            .collect())
    }

    fn profile_messages(
        &self,
        profile_id: &str,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<MessageRecord>> {
        let (ms, id) = before.unwrap_or((i64::MAX, ""));
        let limit = limit.min(i64::MAX as usize) as i64;
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                concat!(
                    select!(),
                    " WHERE profile_id = $1 AND (created_ms < $2 OR (created_ms = $2 AND id < $3)) \
                     ORDER BY created_ms DESC, id DESC LIMIT $4"
                ),
                &[&profile_id, &ms, &id, &limit],
            )?
            .iter()
            .map(record)
            .collect())
    }

    fn message_counts(&self, source: &str) -> Result<BTreeMap<String, u64>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                "SELECT status, COUNT(*) FROM messages WHERE source = $1 GROUP BY status",
                &[&source],
            )?
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
            .collect())
    }

    fn message_outcomes(&self, source: &str) -> Result<BTreeMap<(String, String), u64>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                "SELECT status, reason, COUNT(*) FROM messages WHERE source = $1 \
                 AND status IN ('skipped', 'failed') AND reason IS NOT NULL GROUP BY status, reason",
                &[&source],
            )?
            .iter()
            .map(|r| {
                (
                    (r.get::<_, String>(0), r.get::<_, String>(1)),
                    r.get::<_, i64>(2) as u64,
                )
            })
            .collect())
    }

    fn move_messages(
        &self,
        source: &str,
        from: &[&str],
        to: &str,
        reason: Option<&str>,
        updated_ms: i64,
    ) -> Result<u64> {
        let from: Vec<&str> = from.to_vec();
        let mut conn = self.pool.get()?;
        conn.exec(
            "UPDATE messages SET status = $2, reason = $3, updated_ms = GREATEST(updated_ms + 1, $4) \
             WHERE source = $1 AND status = ANY($5)",
            &[&source, &to, &reason, &updated_ms, &from],
        )
    }
}
