//! [`ProjectionBackend`] on `state.db`: the processor's transactions.
//!
//! Profile states are cached for the length of a transaction and written once at commit, so a
//! batch of events for one busy profile costs one read and one write of its state.

use std::collections::{BTreeSet, HashMap, HashSet};

use herald_core::event::{Event, EventType};
use herald_core::identity::{Identifier, ProfileId, ProfileIdentity, Separation};
use herald_core::profile::{GroupState, ProfileState};
use herald_core::projection::{
    IdentityLink, MergeRecord, ProjectionStore, RebuildStore, RefusalRecord,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::SqliteStore;
use crate::lock;
use crate::{
    kind_of, refusal_from_row, Backfill, ProjectionBackend, Quarantined, Result, StateTxn,
    StorageError,
};

pub(super) struct SqliteTxn<'c> {
    pub(super) tx: Transaction<'c>,
    /// Profile states read or written in this transaction; `true` when dirty.
    states: HashMap<ProfileId, (ProfileState, bool)>,
    pub(super) audiences: crate::AudienceCache,
    /// The store's `state.db` readers.
    pub(super) readers: &'c super::pool::Pool,
    /// Profiles a read ahead found (`read_ahead_audience_states`), less those retired or
    /// cleared since.
    pub(super) existing: HashSet<ProfileId>,
    /// Whether this transaction retired or cleared a profile: its readers' view of which
    /// profiles exist is then out of date.
    pub(super) removed_profiles: bool,
}

pub(super) fn profile_exists(conn: &Connection, profile: &ProfileId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM profiles WHERE profile_id = ?1")?
        .exists(params![profile.as_str()])?)
}

impl ProjectionBackend for SqliteStore {
    fn in_transaction(&self, f: &mut dyn FnMut(&mut dyn StateTxn) -> Result<()>) -> Result<()> {
        let mut conn = lock(&self.state_writer);
        let tx = conn.transaction()?;
        let mut txn = SqliteTxn {
            tx,
            states: HashMap::new(),
            audiences: crate::AudienceCache::default(),
            readers: &self.state_readers,
            existing: HashSet::new(),
            removed_profiles: false,
        };
        f(&mut txn)?;
        txn.flush()?;
        txn.tx.commit()?;
        Ok(())
    }

    fn pending_log_deletions(&self) -> Result<Vec<u64>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached("SELECT seq FROM pending_log_deletions ORDER BY seq")?;
        let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
        rows.map(|r| Ok(r? as u64)).collect()
    }

    fn confirm_log_deletions(&self, seqs: &[u64]) -> Result<()> {
        let mut conn = lock(&self.state_writer);
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM pending_log_deletions WHERE seq = ?1")?;
            for seq in seqs {
                stmt.execute(params![*seq as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn finish_log_replacements(&self) -> Result<()> {
        let pending: Vec<(i64, String)> = {
            let conn = self.state_readers.get()?;
            let mut stmt = conn
                .prepare_cached("SELECT seq, payload FROM pending_log_replacements ORDER BY seq")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if pending.is_empty() {
            return Ok(());
        }
        {
            let mut conn = lock(&self.log_writer);
            let tx = conn.transaction()?;
            {
                let mut stmt =
                    tx.prepare_cached("UPDATE events SET payload = ?2 WHERE seq = ?1")?;
                for (seq, payload) in &pending {
                    stmt.execute(params![seq, payload])?;
                }
            }
            tx.commit()?;
        }
        let mut conn = lock(&self.state_writer);
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "DELETE FROM pending_log_replacements WHERE seq = ?1 AND payload = ?2",
            )?;
            for (seq, payload) in &pending {
                stmt.execute(params![seq, payload])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn release_memory(&self) -> Result<()> {
        for writer in [&self.state_writer, &self.log_writer] {
            lock(writer).execute_batch("PRAGMA shrink_memory;")?;
        }
        if let Some(window) = lock(&self.dedup).as_mut() {
            window.shrink();
        }
        self.state_readers.clear();
        self.log_readers.clear();
        Ok(())
    }
}

impl SqliteTxn<'_> {
    pub(super) fn flush(&mut self) -> Result<()> {
        self.flush_audiences()?;
        let mut stmt = self
            .tx
            .prepare_cached("UPDATE profiles SET state = ?2 WHERE profile_id = ?1")?;
        for (profile, (state, dirty)) in &self.states {
            if *dirty {
                stmt.execute(params![profile.as_str(), serde_json::to_string(state)?])?;
            }
        }
        Ok(())
    }
}

impl ProjectionStore for SqliteTxn<'_> {
    type Error = StorageError;

    fn owner(&mut self, id: &Identifier) -> Result<Option<ProfileId>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT profile_id FROM identities WHERE kind = ?1 AND value = ?2")?;
        Ok(stmt
            .query_row(params![id.kind.as_str(), id.value], |r| r.get(0))
            .optional()?
            .map(ProfileId))
    }

    fn identity(&mut self, profile: &ProfileId) -> Result<Option<ProfileIdentity>> {
        let created: Option<i64> = self
            .tx
            .prepare_cached("SELECT created_seq FROM profiles WHERE profile_id = ?1")?
            .query_row(params![profile.as_str()], |r| r.get(0))
            .optional()?;
        let Some(created) = created else {
            return Ok(None);
        };
        let mut stmt = self
            .tx
            .prepare_cached("SELECT kind, value FROM identities WHERE profile_id = ?1")?;
        let rows = stmt.query_map(params![profile.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut identifiers = BTreeSet::new();
        for row in rows {
            let (kind, value) = row?;
            identifiers.insert(Identifier::new(kind_of(&kind)?, value));
        }
        Ok(Some(ProfileIdentity {
            identifiers,
            created_seq: created as u64,
        }))
    }

    fn profile_exists(&mut self, profile: &ProfileId) -> Result<bool> {
        Ok(self.existing.contains(profile) || profile_exists(&self.tx, profile)?)
    }

    fn separations_touching(&mut self, ids: &BTreeSet<Identifier>) -> Result<Vec<Separation>> {
        let mut found = BTreeSet::new();
        {
            let mut stmt = self.tx.prepare_cached(
                "SELECT separation_id FROM separation_members WHERE kind = ?1 AND value = ?2",
            )?;
            for id in ids {
                let rows =
                    stmt.query_map(params![id.kind.as_str(), id.value], |r| r.get::<_, i64>(0))?;
                for row in rows {
                    found.insert(row?);
                }
            }
        }
        let mut stmt = self
            .tx
            .prepare_cached("SELECT body FROM separations WHERE separation_id = ?1")?;
        found
            .into_iter()
            .map(|sid| {
                let body: String = stmt.query_row(params![sid], |r| r.get(0))?;
                Ok(serde_json::from_str(&body)?)
            })
            .collect()
    }

    fn is_suppressed(&mut self, id: &Identifier) -> Result<bool> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT 1 FROM suppressions WHERE kind = ?1 AND value = ?2")?;
        Ok(stmt.exists(params![id.kind.as_str(), id.value])?)
    }

    fn create_profile(&mut self, profile: &ProfileId, created_seq: u64) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO profiles (profile_id, created_seq, state) VALUES (?1, ?2, '{}')",
            )?
            .execute(params![profile.as_str(), created_seq as i64])?;
        self.states
            .insert(profile.clone(), (ProfileState::default(), true));
        Ok(())
    }

    fn set_owner(
        &mut self,
        id: &Identifier,
        profile: &ProfileId,
        link: &IdentityLink,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO identities (kind, value, profile_id, link) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (kind, value) DO UPDATE SET profile_id = excluded.profile_id, link = excluded.link",
            )?
            .execute(params![id.kind.as_str(), id.value, profile.as_str(), serde_json::to_string(link)?])?;
        Ok(())
    }

    fn profile_state(&mut self, profile: &ProfileId) -> Result<ProfileState> {
        if let Some((state, _)) = self.states.get(profile) {
            return Ok(state.clone());
        }
        let body: Option<String> = self
            .tx
            .prepare_cached("SELECT state FROM profiles WHERE profile_id = ?1")?
            .query_row(params![profile.as_str()], |r| r.get(0))
            .optional()?;
        let state: ProfileState = match body {
            Some(b) => serde_json::from_str(&b)?,
            None => ProfileState::default(),
        };
        self.states.insert(profile.clone(), (state.clone(), false));
        Ok(state)
    }

    fn save_profile_state(&mut self, profile: &ProfileId, state: &ProfileState) -> Result<()> {
        self.states.insert(profile.clone(), (state.clone(), true));
        Ok(())
    }

    fn group_state(&mut self, group_id: &str) -> Result<GroupState> {
        let body: Option<String> = self
            .tx
            .prepare_cached("SELECT state FROM groups WHERE group_id = ?1")?
            .query_row(params![group_id], |r| r.get(0))
            .optional()?;
        Ok(match body {
            Some(b) => serde_json::from_str(&b)?,
            None => GroupState::default(),
        })
    }

    fn save_group_state(&mut self, group_id: &str, state: &GroupState) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO groups (group_id, state) VALUES (?1, ?2) ON CONFLICT (group_id) DO UPDATE SET state = excluded.state",
            )?
            .execute(params![group_id, serde_json::to_string(state)?])?;
        Ok(())
    }

    fn absorb(&mut self, winner: &ProfileId, loser: &ProfileId) -> Result<()> {
        let (w, l) = (winner.as_str(), loser.as_str());
        for sql in [
            "UPDATE identities SET profile_id = ?1 WHERE profile_id = ?2",
            "UPDATE event_index SET profile_id = ?1 WHERE profile_id = ?2",
            "INSERT INTO insights_changes (profile_id) SELECT ?2 WHERE ?1 IS NOT NULL",
            "UPDATE merges SET profile_id = ?1 WHERE profile_id = ?2",
            "UPDATE refusals SET profile_id = ?1 WHERE profile_id = ?2",
        ] {
            self.tx.prepare_cached(sql)?.execute(params![w, l])?;
        }
        Ok(())
    }

    fn retire(&mut self, loser: &ProfileId) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM profiles WHERE profile_id = ?1")?
            .execute(params![loser.as_str()])?;
        self.states.remove(loser);
        self.existing.remove(loser);
        self.removed_profiles = true;
        Ok(())
    }

    fn record_merge(&mut self, merge: &MergeRecord) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO merges (merge_id, profile_id, seq, record) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (merge_id) DO UPDATE SET profile_id = excluded.profile_id, record = excluded.record, undone = 0",
            )?
            .execute(params![merge.merge_id, merge.winner.as_str(), merge.seq as i64, serde_json::to_string(merge)?])?;
        Ok(())
    }

    fn record_refusal(&mut self, profile: &ProfileId, refusal: &RefusalRecord) -> Result<()> {
        let reason = serde_json::to_value(refusal.reason)?;
        self.tx
            .prepare_cached("INSERT INTO refusals (profile_id, seq, kind, value, reason) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![
                profile.as_str(),
                refusal.seq as i64,
                refusal.identifier.kind.as_str(),
                refusal.identifier.value,
                reason.as_str().unwrap_or_default()
            ])?;
        Ok(())
    }

    fn attribute(&mut self, seq: u64, profile: &ProfileId, event: &Event) -> Result<()> {
        let group = (event.event_type == EventType::Group)
            .then_some(event.group_id.as_deref())
            .flatten();
        self.tx
            .prepare_cached(
                "INSERT INTO event_index (seq, profile_id, name, ts, group_id) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (seq) DO UPDATE SET profile_id = excluded.profile_id",
            )?
            .execute(params![seq as i64, profile.as_str(), event.display_name(), event.timestamp.timestamp_millis(), group])?;
        Ok(())
    }
}

pub(crate) fn load_refusals(
    conn: &rusqlite::Connection,
    profile: &ProfileId,
) -> Result<Vec<RefusalRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, kind, value, reason FROM refusals WHERE profile_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![profile.as_str()], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    rows.map(|row| {
        let (seq, kind, value, reason) = row?;
        refusal_from_row(seq, &kind, value, &reason)
    })
    .collect()
}

pub(crate) fn load_merge(
    conn: &rusqlite::Connection,
    merge_id: &str,
) -> Result<Option<(ProfileId, MergeRecord, bool)>> {
    let row: Option<(String, String, bool)> = conn
        .prepare_cached("SELECT profile_id, record, undone FROM merges WHERE merge_id = ?1")?
        .query_row(params![merge_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(p, record, undone)| Ok((ProfileId(p), serde_json::from_str(&record)?, undone)))
        .transpose()
}

fn seqs(tx: &Transaction<'_>, sql: &str, arg: &str) -> Result<Vec<u64>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map(params![arg], |r| r.get::<_, i64>(0))?;
    rows.map(|r| Ok(r? as u64)).collect()
}

impl RebuildStore for SqliteTxn<'_> {
    fn refusals_of(&mut self, profile: &ProfileId) -> Result<Vec<RefusalRecord>> {
        load_refusals(&self.tx, profile)
    }

    fn profiles_refusing(&mut self, ids: &BTreeSet<Identifier>) -> Result<Vec<ProfileId>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT DISTINCT profile_id FROM refusals WHERE kind = ?1 AND value = ?2",
        )?;
        let mut out = Vec::new();
        for id in ids {
            let rows = stmt.query_map(params![id.kind.as_str(), id.value], |r| {
                r.get::<_, String>(0)
            })?;
            for row in rows {
                out.push(ProfileId(row?));
            }
        }
        Ok(out)
    }

    fn event_seqs(&mut self, profile: &ProfileId) -> Result<Vec<u64>> {
        seqs(
            &self.tx,
            "SELECT seq FROM event_index WHERE profile_id = ?1 ORDER BY seq",
            profile.as_str(),
        )
    }

    fn group_event_seqs(&mut self, group_id: &str) -> Result<Vec<u64>> {
        seqs(
            &self.tx,
            "SELECT seq FROM event_index WHERE group_id = ?1 ORDER BY seq",
            group_id,
        )
    }

    fn delete_group_state(&mut self, group_id: &str) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM groups WHERE group_id = ?1")?
            .execute(params![group_id])?;
        Ok(())
    }

    fn merge_record(&mut self, merge_id: &str) -> Result<Option<(ProfileId, MergeRecord, bool)>> {
        load_merge(&self.tx, merge_id)
    }

    fn mark_merge_undone(&mut self, merge_id: &str) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE merges SET undone = 1 WHERE merge_id = ?1")?
            .execute(params![merge_id])?;
        Ok(())
    }

    fn add_separation(&mut self, separation: &Separation) -> Result<()> {
        self.tx
            .prepare_cached("INSERT INTO separations (body) VALUES (?1)")?
            .execute(params![serde_json::to_string(separation)?])?;
        let sid = self.tx.last_insert_rowid();
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO separation_members (separation_id, kind, value) VALUES (?1, ?2, ?3)",
        )?;
        for id in separation.left.iter().chain(&separation.right) {
            stmt.execute(params![sid, id.kind.as_str(), id.value])?;
        }
        Ok(())
    }

    fn suppress(&mut self, id: &Identifier) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO suppressions (kind, value, at_ms) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?
            .execute(params![id.kind.as_str(), id.value, crate::now_ms()])?;
        Ok(())
    }

    fn clear_profile(&mut self, profile: &ProfileId) -> Result<()> {
        let p = profile.as_str();
        for sql in [
            "DELETE FROM identities WHERE profile_id = ?1",
            "DELETE FROM event_index WHERE profile_id = ?1",
            "INSERT INTO insights_changes (profile_id) VALUES (?1)",
            "DELETE FROM merges WHERE profile_id = ?1 AND undone = 0",
            "DELETE FROM refusals WHERE profile_id = ?1",
            "DELETE FROM profiles WHERE profile_id = ?1",
        ] {
            self.tx.prepare_cached(sql)?.execute(params![p])?;
        }
        self.states.remove(profile);
        self.existing.remove(profile);
        self.removed_profiles = true;
        Ok(())
    }
}

impl SqliteTxn<'_> {
    /// The profiles of these events' timeline rows go into the insights change feed.
    fn record_insights_changes(&mut self, seqs: &[u64]) -> Result<()> {
        let mut record = self.tx.prepare_cached(
            "INSERT INTO insights_changes (profile_id) SELECT profile_id FROM event_index WHERE seq = ?1",
        )?;
        for seq in seqs {
            record.execute(params![*seq as i64])?;
        }
        Ok(())
    }

    /// Count a deletion or rewrite of `log.db` queued by this transaction, of events the
    /// cursor has passed: `backup` copies state.db, then log.db, and knows by this count
    /// whether a rewrite queued in between could have changed the log copy behind the state
    /// copy's back. Events beyond the cursor (those of deleted people a batch suppresses, in
    /// the batch that moves the cursor past them) are not counted: a state copy taken before
    /// that batch has not applied them, and already holds the suppression that drops them.
    fn count_log_rewrite(&mut self, seqs: impl IntoIterator<Item = u64>) -> Result<()> {
        let cursor = self.cursor()?;
        if !seqs.into_iter().any(|seq| seq <= cursor) {
            return Ok(());
        }
        self.tx
            .prepare_cached(&format!(
                "INSERT INTO meta (key, value) VALUES ('{}', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1",
                super::backup::LOG_REWRITES
            ))?
            .execute([])?;
        Ok(())
    }
}

impl StateTxn for SqliteTxn<'_> {
    fn cursor(&mut self) -> Result<u64> {
        let v: Option<i64> = self
            .tx
            .prepare_cached("SELECT value FROM meta WHERE key = 'cursor'")?
            .query_row([], |r| r.get(0))
            .optional()?;
        Ok(v.unwrap_or(0) as u64)
    }

    fn set_cursor(&mut self, seq: u64) -> Result<()> {
        self.tx
            .prepare_cached("INSERT INTO meta (key, value) VALUES ('cursor', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
            .execute(params![seq as i64])?;
        Ok(())
    }

    fn forget_events(&mut self, seqs: &[u64]) -> Result<()> {
        self.record_insights_changes(seqs)?;
        let mut forget = self
            .tx
            .prepare_cached("DELETE FROM event_index WHERE seq = ?1")?;
        let mut queue = self.tx.prepare_cached(
            "INSERT INTO pending_log_deletions (seq) VALUES (?1) ON CONFLICT DO NOTHING",
        )?;
        let mut unreplace = self
            .tx
            .prepare_cached("DELETE FROM pending_log_replacements WHERE seq = ?1")?;
        for seq in seqs {
            forget.execute(params![*seq as i64])?;
            queue.execute(params![*seq as i64])?;
            unreplace.execute(params![*seq as i64])?;
        }
        drop((forget, queue, unreplace));
        self.count_log_rewrite(seqs.iter().copied())
    }

    fn replace_events(&mut self, events: &[(u64, Event)]) -> Result<()> {
        self.record_insights_changes(&events.iter().map(|(s, _)| *s).collect::<Vec<_>>())?;
        let mut queue = self.tx.prepare_cached(
            "INSERT INTO pending_log_replacements (seq, payload) VALUES (?1, ?2) \
             ON CONFLICT (seq) DO UPDATE SET payload = excluded.payload",
        )?;
        for (seq, event) in events {
            queue.execute(params![*seq as i64, crate::EncodedEvent::of(event)?.json])?;
        }
        drop(queue);
        self.count_log_rewrite(events.iter().map(|(seq, _)| *seq))
    }

    fn lift_suppression(
        &mut self,
        id: &Identifier,
        at_ms: i64,
    ) -> Result<Option<crate::Suppression>> {
        let Some(suppressed_at_ms) = self
            .tx
            .prepare_cached(
                "DELETE FROM suppressions WHERE kind = ?1 AND value = ?2 RETURNING at_ms",
            )?
            .query_row(params![id.kind.as_str(), id.value], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .optional()?
        else {
            return Ok(None);
        };
        self.tx
            .prepare_cached(
                "INSERT INTO lifted_suppressions (kind, value, suppressed_at_ms, lifted_at_ms) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id.kind.as_str(), id.value, suppressed_at_ms, at_ms])?;
        Ok(Some(crate::Suppression {
            identifier: id.clone(),
            suppressed_at_ms,
            lifted_at_ms: Some(at_ms),
        }))
    }

    fn add_counter(&mut self, name: &str, by: u64) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
            )?
            .execute(params![format!("counter:{name}"), by as i64])?;
        Ok(())
    }

    fn quarantine(&mut self, entry: &Quarantined) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO quarantine (seq, reason, at_ms) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (seq) DO UPDATE SET reason = excluded.reason, at_ms = excluded.at_ms",
            )?
            .execute(params![entry.seq as i64, entry.reason, entry.at_ms])?;
        Ok(())
    }

    fn release_quarantined(&mut self, seq: u64) -> Result<bool> {
        let removed = self
            .tx
            .prepare_cached("DELETE FROM quarantine WHERE seq = ?1")?
            .execute(params![seq as i64])?;
        Ok(removed > 0)
    }

    fn backfill(&mut self) -> Result<Option<Backfill>> {
        super::audiences::setting(&self.tx, "backfill")
    }

    fn set_backfill(&mut self, backfill: &Backfill) -> Result<()> {
        super::audiences::set_setting(&self.tx, "backfill", backfill)
    }

    fn profiles_after(
        &mut self,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<ProfileId>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT profile_id FROM profiles WHERE profile_id > ?1 ORDER BY profile_id LIMIT ?2",
        )?;
        let rows = stmt.query_map(
            params![after.map_or("", |p| p.as_str()), crate::sql_limit(limit)],
            |r| r.get::<_, String>(0),
        )?;
        rows.map(|r| Ok(ProfileId(r?))).collect()
    }

    fn profile_count(&mut self) -> Result<u64> {
        let n: i64 = self
            .tx
            .prepare_cached("SELECT count(*) FROM profiles")?
            .query_row([], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn scope_size(&mut self, scope: &crate::BackfillScope) -> Result<u64> {
        let n: i64 = self
            .tx
            .prepare_cached(
                "SELECT count(*) FROM ( \
                   SELECT profile_id FROM event_index WHERE name IN (SELECT value FROM json_each(?1)) \
                   UNION SELECT profile_id FROM audience_members \
                   WHERE audience_id IN (SELECT value FROM json_each(?2)))",
            )?
            .query_row(
                params![
                    serde_json::to_string(&scope.names)?,
                    serde_json::to_string(&scope.members_of)?
                ],
                |r| r.get(0),
            )?;
        Ok(n as u64)
    }
}
