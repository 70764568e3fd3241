//! Audiences on `state.db`: the processor's [`AudienceStore`] inside its transactions, and the
//! [`Audiences`] reads and definition changes for the API.

use std::collections::{BTreeMap, BTreeSet};

use herald_core::audience::facts::Hit;
use herald_core::audience::{AudienceState, AudienceStore, MembershipChange};
use herald_core::identity::ProfileId;
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::projection::{profile_exists, SqliteTxn};
use super::SqliteStore;
use crate::{change_from_row, lock, Audiences, Backfill, Definitions, Result, Write};

pub(super) fn setting<T: DeserializeOwned>(conn: &Connection, key: &str) -> Result<Option<T>> {
    let value: Option<String> = conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()?;
    Ok(value.map(|v| serde_json::from_str(&v)).transpose()?)
}

pub(super) fn set_setting<T: Serialize>(conn: &Connection, key: &str, value: &T) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, serde_json::to_string(value)?])?;
    Ok(())
}

fn definitions_version(conn: &Connection) -> Result<u64> {
    let v: Option<i64> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'definitions_version'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(v.unwrap_or(0) as u64)
}

/// States each thread of a parallel read ahead reads at least.
const READ_AHEAD_PART: usize = 64;

/// The profile's audience state, with the facts held apart from it laid over it.
fn state_of(conn: &Connection, profile: &ProfileId) -> Result<crate::Loaded> {
    let state: Option<String> = conn
        .prepare_cached("SELECT state FROM audience_state WHERE profile_id = ?1")?
        .query_row(params![profile.as_str()], |r| r.get(0))
        .optional()?;
    let mut state: Option<AudienceState> = state.map(|s| serde_json::from_str(&s)).transpose()?;
    let apart: Option<(String, String)> = conn
        .prepare_cached("SELECT built_for, facts FROM audience_facts_apart WHERE profile_id = ?1")?
        .query_row(params![profile.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((built_for, facts)) = apart else {
        return Ok((state, None));
    };
    let facts: BTreeMap<String, Vec<Hit>> = serde_json::from_str(&facts)?;
    let over = state.get_or_insert_with(AudienceState::default);
    over.built_for = built_for;
    let ids = facts.keys().cloned().collect();
    for (id, hits) in facts {
        match hits.is_empty() {
            true => over.facts.facts.remove(&id),
            false => over.facts.facts.insert(id, hits),
        };
    }
    Ok((state, Some(ids)))
}

impl SqliteTxn<'_> {
    /// Write the audience states changed in this transaction.
    pub(super) fn flush_audiences(&mut self) -> Result<()> {
        for crate::Dirty {
            profile,
            state,
            write,
        } in self.audiences.take_dirty()
        {
            let p = profile.as_str();
            match (state, write) {
                (Some(state), Write::Apart(ids)) => {
                    // Each rebuilt fact, an empty list for one with no hits left (it hides
                    // what the stored state may still hold of it).
                    let facts: BTreeMap<&String, &[Hit]> =
                        ids.iter().map(|id| (id, state.facts.hits(id))).collect();
                    self.tx
                        .prepare_cached(
                            "INSERT INTO audience_facts_apart (profile_id, built_for, facts) VALUES (?1, ?2, ?3) \
                             ON CONFLICT (profile_id) DO UPDATE SET built_for = excluded.built_for, facts = excluded.facts",
                        )?
                        .execute(params![p, state.built_for, serde_json::to_string(&facts)?])?;
                }
                (state, write) => {
                    match state {
                        Some(state) => self
                            .tx
                            .prepare_cached(
                                "INSERT INTO audience_state (profile_id, state, due_ms) VALUES (?1, ?2, ?3) \
                                 ON CONFLICT (profile_id) DO UPDATE SET state = excluded.state, due_ms = excluded.due_ms",
                            )?
                            .execute(params![p, serde_json::to_string(&state)?, state.due()])?,
                        None => self
                            .tx
                            .prepare_cached("DELETE FROM audience_state WHERE profile_id = ?1")?
                            .execute(params![p])?,
                    };
                    if matches!(write, Write::Whole { apart: true }) {
                        self.tx
                            .prepare_cached(
                                "DELETE FROM audience_facts_apart WHERE profile_id = ?1",
                            )?
                            .execute(params![p])?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl AudienceStore for SqliteTxn<'_> {
    fn audience_state(&mut self, profile: &ProfileId) -> Result<Option<AudienceState>> {
        let tx = &self.tx;
        self.audiences.get(profile, || state_of(tx, profile))
    }

    fn save_audience_state(&mut self, profile: &ProfileId, state: &AudienceState) -> Result<()> {
        self.audiences.put(profile, Some(state.clone()));
        Ok(())
    }

    fn save_audience_facts(
        &mut self,
        profile: &ProfileId,
        state: AudienceState,
        rebuilt: &BTreeSet<String>,
    ) -> Result<()> {
        self.audiences.put_facts(profile, state, rebuilt);
        Ok(())
    }

    /// Reads the states and whether the profiles exist (what refreshing them asks first).
    fn read_ahead_audience_states(&mut self, profiles: &[&ProfileId]) -> Result<()> {
        // Readers see the last commit: what this transaction sees too, for every profile
        // while it has written no audience state back and removed no profile (the profiles it
        // created the readers do not see, and are looked up in the transaction).
        if self.audiences.flushed() || self.removed_profiles {
            return Ok(());
        }
        let unread: Vec<&ProfileId> = profiles
            .iter()
            .copied()
            .filter(|p| !self.audiences.holds(p))
            .collect();
        let read = self
            .readers
            .read_in_parallel(&unread, READ_AHEAD_PART, |conn, part| {
                part.iter()
                    .map(|p| Ok((profile_exists(conn, p)?, state_of(conn, p)?)))
                    .collect()
            })?;
        for (profile, (exists, loaded)) in unread.into_iter().zip(read) {
            if exists {
                self.existing.insert(profile.clone());
            }
            self.audiences.preload(profile.clone(), loaded);
        }
        Ok(())
    }

    fn drop_audience_state(&mut self, profile: &ProfileId) -> Result<()> {
        self.audiences.put(profile, None);
        Ok(())
    }

    fn record_membership(&mut self, profile: &ProfileId, change: &MembershipChange) -> Result<()> {
        let p = profile.as_str();
        if change.entered {
            self.tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO audience_members (audience_id, profile_id, since_ms) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![change.audience, p, change.at])?;
        } else {
            self.tx
                .prepare_cached(
                    "DELETE FROM audience_members WHERE audience_id = ?1 AND profile_id = ?2",
                )?
                .execute(params![change.audience, p])?;
        }
        self.tx
            .prepare_cached(
                "INSERT INTO membership_changes (profile_id, audience_id, entered, at_ms, cause) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                p,
                change.audience,
                change.entered,
                change.at,
                serde_json::to_string(&change.cause)?
            ])?;
        Ok(())
    }

    fn forget_memberships(&mut self, profile: &ProfileId) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM membership_changes WHERE profile_id = ?1")?
            .execute(params![profile.as_str()])?;
        Ok(())
    }

    fn group_members(&mut self, group_id: &str) -> Result<Vec<ProfileId>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT DISTINCT profile_id FROM event_index WHERE group_id = ?1 ORDER BY profile_id",
        )?;
        let rows = stmt.query_map(params![group_id], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(ProfileId(r?))).collect()
    }

    fn due_profiles(&mut self, now: i64, limit: usize) -> Result<Vec<ProfileId>> {
        self.flush_audiences()?;
        let mut stmt = self.tx.prepare_cached(
            "SELECT profile_id FROM audience_state WHERE due_ms <= ?1 ORDER BY due_ms LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now, crate::sql_limit(limit)], |r| {
            r.get::<_, String>(0)
        })?;
        rows.map(|r| Ok(ProfileId(r?))).collect()
    }

    fn event_seqs_named(
        &mut self,
        profile: &ProfileId,
        names: &BTreeSet<String>,
    ) -> Result<Vec<u64>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, name FROM event_index WHERE profile_id = ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![profile.as_str()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            if names.contains(&row.get::<_, String>(1)?) {
                out.push(row.get::<_, i64>(0)? as u64);
            }
        }
        Ok(out)
    }

    fn named_events_after(
        &mut self,
        names: &BTreeSet<String>,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<(ProfileId, Vec<u64>)>> {
        let tx = &self.tx;
        crate::named_events_after(
            names,
            after,
            limit,
            |name, after, limit| {
                let mut stmt = tx.prepare_cached(
                    "SELECT DISTINCT profile_id FROM event_index WHERE name = ?1 AND profile_id > ?2 \
                     ORDER BY profile_id LIMIT ?3",
                )?;
                let rows = stmt.query_map(params![name, after, crate::sql_limit(limit)], |r| {
                    r.get::<_, String>(0)
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            },
            |name, after, last| {
                let mut stmt = tx.prepare_cached(
                    "SELECT profile_id, seq FROM event_index \
                     WHERE name = ?1 AND profile_id > ?2 AND profile_id <= ?3",
                )?;
                let rows = stmt.query_map(params![name, after, last], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            },
        )
    }

    fn members_after(
        &mut self,
        audiences: &BTreeSet<String>,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<ProfileId>> {
        let after = after.map_or("", ProfileId::as_str);
        let mut stmt = self.tx.prepare_cached(
            "SELECT profile_id FROM audience_members WHERE audience_id = ?1 AND profile_id > ?2 \
             ORDER BY profile_id LIMIT ?3",
        )?;
        let lists = audiences
            .iter()
            .map(|a| {
                let rows = stmt.query_map(params![a, after, crate::sql_limit(limit)], |r| {
                    r.get::<_, String>(0)
                })?;
                rows.collect::<rusqlite::Result<Vec<String>>>()
            })
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(crate::first_of_union(lists, limit)
            .into_iter()
            .map(ProfileId)
            .collect())
    }
}

impl Audiences for SqliteStore {
    fn definitions(&self) -> Result<Definitions> {
        // The document and its version from the same snapshot.
        self.state_readers.read(|conn| {
            let mut definitions: Definitions = setting(conn, "definitions")?.unwrap_or_default();
            definitions.version = definitions_version(conn)?;
            Ok(definitions)
        })
    }

    fn definitions_version(&self) -> Result<u64> {
        definitions_version(&*self.state_readers.get()?)
    }

    fn change_definitions(
        &self,
        change: &mut dyn FnMut(&mut Definitions) -> bool,
    ) -> Result<Option<u64>> {
        let mut conn = lock(&self.state_writer);
        let tx = conn.transaction()?;
        let mut definitions: Definitions = setting(&tx, "definitions")?.unwrap_or_default();
        definitions.version = definitions_version(&tx)?;
        let before: Vec<String> = definitions.audiences.keys().cloned().collect();
        if !change(&mut definitions) {
            return Ok(None);
        }
        definitions.version += 1;
        for gone in before
            .iter()
            .filter(|a| !definitions.audiences.contains_key(*a))
        {
            for sql in [
                "DELETE FROM audience_members WHERE audience_id = ?1",
                "DELETE FROM membership_changes WHERE audience_id = ?1",
            ] {
                tx.prepare_cached(sql)?.execute(params![gone])?;
            }
        }
        set_setting(&tx, "definitions", &definitions)?;
        tx.prepare_cached(
            "INSERT INTO meta (key, value) VALUES ('definitions_version', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![definitions.version as i64])?;
        tx.commit()?;
        Ok(Some(definitions.version))
    }

    fn backfill_status(&self) -> Result<Option<Backfill>> {
        setting(&*self.state_readers.get()?, "backfill")
    }

    fn members(
        &self,
        audience: &str,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<(ProfileId, i64)>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT profile_id, since_ms FROM audience_members WHERE audience_id = ?1 AND profile_id > ?2 ORDER BY profile_id LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![
                audience,
                after.map_or("", |p| p.as_str()),
                crate::sql_limit(limit)
            ],
            |r| Ok((ProfileId(r.get(0)?), r.get(1)?)),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn member_count(&self, audience: &str) -> Result<u64> {
        let conn = self.state_readers.get()?;
        let n: i64 = conn
            .prepare_cached("SELECT count(*) FROM audience_members WHERE audience_id = ?1")?
            .query_row(params![audience], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn audience_state_of(&self, profile: &ProfileId) -> Result<Option<AudienceState>> {
        // One snapshot for the state and the facts held apart from it.
        Ok(self.state_readers.read(|conn| state_of(conn, profile))?.0)
    }

    fn membership_history(
        &self,
        profile: &ProfileId,
        limit: usize,
    ) -> Result<Vec<MembershipChange>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT audience_id, entered, at_ms, cause FROM membership_changes WHERE profile_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![profile.as_str(), crate::sql_limit(limit)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        rows.map(|r| {
            let (audience, entered, at, cause) = r?;
            change_from_row(audience, entered, at, &cause)
        })
        .collect()
    }

    fn size_history(&self, audience: &str) -> Result<Vec<(i64, u64, u64)>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT (at_ms / 86400000) * 86400000 AS day, sum(entered), sum(1 - entered) \
             FROM membership_changes WHERE audience_id = ?1 GROUP BY day ORDER BY day",
        )?;
        let rows = stmt.query_map(params![audience], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
