//! [`Queries`] on `state.db`, through the read pool.

use std::collections::{BTreeMap, BTreeSet};

use herald_core::identity::{Identifier, ProfileId};
use herald_core::memory::Snapshot;
use rusqlite::{params, OptionalExtension};

use super::projection::{load_merge, load_refusals};
use super::SqliteStore;
use crate::{
    kind_of, IdentityRow, MergeRow, ProfileRecord, ProfileSearch, ProfileSummary, Quarantined,
    Queries, Result, SearchParams, TimelineFilter,
};

impl Queries for SqliteStore {
    fn profile_of(&self, id: &Identifier) -> Result<Option<ProfileId>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn
            .prepare_cached("SELECT profile_id FROM identities WHERE kind = ?1 AND value = ?2")?;
        Ok(stmt
            .query_row(params![id.kind.as_str(), id.value], |r| r.get(0))
            .optional()?
            .map(ProfileId))
    }

    fn profile(&self, profile: &ProfileId) -> Result<Option<ProfileRecord>> {
        let conn = self.state_readers.get()?;
        let row: Option<(i64, String)> = conn
            .prepare_cached("SELECT created_seq, state FROM profiles WHERE profile_id = ?1")?
            .query_row(params![profile.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((created_seq, state)) = row else {
            return Ok(None);
        };
        let state: herald_core::profile::ProfileState = serde_json::from_str(&state)?;

        let mut identities = Vec::new();
        let mut stmt =
            conn.prepare_cached("SELECT kind, value, link FROM identities WHERE profile_id = ?1")?;
        let rows = stmt.query_map(params![profile.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (kind, value, link) = row?;
            identities.push(IdentityRow {
                identifier: Identifier::new(kind_of(&kind)?, value),
                link: serde_json::from_str(&link)?,
            });
        }
        identities.sort_by(|a, b| (a.link.seq, &a.identifier).cmp(&(b.link.seq, &b.identifier)));

        let mut groups = Vec::new();
        let mut stmt = conn.prepare_cached("SELECT state FROM groups WHERE group_id = ?1")?;
        for group_id in state.groups.keys() {
            let body: Option<String> =
                stmt.query_row(params![group_id], |r| r.get(0)).optional()?;
            let group = match body {
                Some(b) => serde_json::from_str(&b)?,
                None => Default::default(),
            };
            groups.push((group_id.clone(), group));
        }
        Ok(Some(ProfileRecord {
            profile_id: profile.clone(),
            created_seq: created_seq as u64,
            state,
            identities,
            groups,
        }))
    }

    fn search_profiles(
        &self,
        search: &ProfileSearch,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<ProfileId>> {
        let conn = self.state_readers.get()?;
        // The identifier prefix is a range of the identities key (BINARY collation compares
        // UTF-8 bytes, which is code point order); a trait is read from the state's JSON.
        let mut stmt = conn.prepare_cached(
            "SELECT profile_id FROM profiles p WHERE profile_id > ?1 \
               AND (?2 IS NULL OR profile_id IN (SELECT profile_id FROM identities \
                      WHERE kind = ?2 AND value >= ?3 AND (?4 IS NULL OR value < ?4))) \
               AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(p.state, '$.traits') t \
                      WHERE t.key = ?5 AND ( \
                        (json_type(t.value, '$.value') = 'text' AND json_extract(t.value, '$.value') = ?6) \
                        OR (json_type(t.value, '$.value') IN ('integer', 'real') AND json_extract(t.value, '$.value') = ?7) \
                        OR json_type(t.value, '$.value') = ?8))) \
             ORDER BY profile_id LIMIT ?9",
        )?;
        let SearchParams {
            kind,
            prefix,
            name,
            value,
        } = search.params();
        let rows = stmt.query_map(
            params![
                after.map_or("", ProfileId::as_str),
                kind,
                prefix,
                search.prefix_end(),
                name,
                value,
                search.trait_number(),
                search.trait_bool().map(|b| b.to_string()),
                crate::sql_limit(limit)
            ],
            |r| r.get::<_, String>(0),
        )?;
        rows.map(|r| Ok(ProfileId(r?))).collect()
    }

    fn profile_summaries(&self, profiles: &[ProfileId]) -> Result<Vec<ProfileSummary>> {
        let conn = self.state_readers.get()?;
        let ids = serde_json::to_string(&profiles)?;
        let mut states = BTreeMap::new();
        let mut stmt = conn.prepare_cached(
            "SELECT profile_id, state FROM profiles \
             WHERE profile_id IN (SELECT value FROM json_each(?1))",
        )?;
        let rows = stmt.query_map(params![ids], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (p, state) = row?;
            states.insert(p, serde_json::from_str(&state)?);
        }
        let mut identities: BTreeMap<String, Vec<IdentityRow>> = BTreeMap::new();
        let mut stmt = conn.prepare_cached(
            "SELECT profile_id, kind, value, link FROM identities \
             WHERE profile_id IN (SELECT value FROM json_each(?1))",
        )?;
        let rows = stmt.query_map(params![ids], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (p, kind, value, link) = row?;
            identities.entry(p).or_default().push(IdentityRow {
                identifier: Identifier::new(kind_of(&kind)?, value),
                link: serde_json::from_str(&link)?,
            });
        }
        Ok(crate::summaries_in_order(profiles, states, identities))
    }

    fn timeline(&self, profile: &ProfileId, filter: &TimelineFilter) -> Result<Vec<(i64, u64)>> {
        let conn = self.state_readers.get()?;
        let (before_ts, before_seq) = filter.before.unwrap_or((i64::MAX, u64::MAX));
        let mut stmt = conn.prepare_cached(
            "SELECT ts, seq FROM event_index WHERE profile_id = ?1 \
               AND (?2 IS NULL OR name = ?2) AND ts >= ?3 AND ts <= ?4 \
               AND (ts < ?5 OR (ts = ?5 AND seq < ?6)) \
             ORDER BY ts DESC, seq DESC LIMIT ?7",
        )?;
        let rows = stmt.query_map(
            params![
                profile.as_str(),
                filter.event,
                filter.since.map_or(i64::MIN, |t| t.timestamp_millis()),
                filter.until.map_or(i64::MAX, |t| t.timestamp_millis()),
                before_ts,
                before_seq.min(i64::MAX as u64) as i64,
                crate::sql_limit(filter.limit)
            ],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn merges(&self, profile: &ProfileId) -> Result<Vec<MergeRow>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT record, undone FROM merges WHERE profile_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![profile.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
        })?;
        rows.map(|row| {
            let (record, undone) = row?;
            Ok(MergeRow {
                record: serde_json::from_str(&record)?,
                undone,
            })
        })
        .collect()
    }

    fn merge(&self, merge_id: &str) -> Result<Option<MergeRow>> {
        let conn = self.state_readers.get()?;
        Ok(load_merge(&conn, merge_id)?.map(|(_, record, undone)| MergeRow { record, undone }))
    }

    fn refusals(&self, profile: &ProfileId) -> Result<Vec<herald_core::projection::RefusalRecord>> {
        let conn = self.state_readers.get()?;
        load_refusals(&conn, profile)
    }

    fn is_suppressed(&self, id: &Identifier) -> Result<bool> {
        let conn = self.state_readers.get()?;
        let mut stmt =
            conn.prepare_cached("SELECT 1 FROM suppressions WHERE kind = ?1 AND value = ?2")?;
        Ok(stmt.exists(params![id.kind.as_str(), id.value])?)
    }

    fn suppressions(&self) -> Result<Vec<crate::Suppression>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT kind, value, suppressed_at, lifted_at FROM ( \
               SELECT kind, value, at_ms AS suppressed_at, NULL AS lifted_at FROM suppressions \
               UNION ALL SELECT kind, value, suppressed_at_ms, lifted_at_ms FROM lifted_suppressions \
             ) s ORDER BY kind, value, lifted_at IS NOT NULL, lifted_at DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (kind, value, suppressed_at_ms, lifted_at_ms) = row?;
            Ok(crate::Suppression {
                identifier: Identifier::new(crate::kind_of(&kind)?, value),
                suppressed_at_ms,
                lifted_at_ms,
            })
        })
        .collect()
    }

    fn processed_cursor(&self) -> Result<u64> {
        self.counter_row("cursor")
    }

    fn counter(&self, name: &str) -> Result<u64> {
        self.counter_row(&format!("counter:{name}"))
    }

    fn quarantined(&self, after: u64, limit: usize) -> Result<Vec<Quarantined>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT seq, reason, at_ms FROM quarantine WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after as i64, limit as i64], |r| {
            Ok(Quarantined {
                seq: r.get::<_, i64>(0)? as u64,
                reason: r.get(1)?,
                at_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn quarantined_count(&self) -> Result<u64> {
        let conn = self.state_readers.get()?;
        let n: i64 = conn
            .prepare_cached("SELECT count(*) FROM quarantine")?
            .query_row([], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn admin_overrides(&self) -> Result<(Vec<herald_core::identity::Separation>, Vec<Identifier>)> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare("SELECT body FROM separations ORDER BY separation_id")?;
        let separations = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .map(|b| Ok(serde_json::from_str(&b?)?))
            .collect::<Result<Vec<_>>>()?;
        let mut stmt = conn.prepare("SELECT kind, value FROM suppressions")?;
        let suppressed = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .map(|row| {
                let (kind, value) = row?;
                Ok(Identifier::new(kind_of(&kind)?, value))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((separations, suppressed))
    }

    fn snapshot(&self) -> Result<Snapshot> {
        self.snapshot_rows()
    }

    fn ping(&self) -> Result<()> {
        let conn = self.state_readers.get()?;
        conn.query_row("SELECT 1", [], |_| Ok(()))?;
        let log = self.log_readers.get()?;
        log.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}

impl SqliteStore {
    fn snapshot_rows(&self) -> Result<Snapshot> {
        let conn = self.state_readers.get()?;
        let mut profiles = BTreeMap::new();
        let mut stmt = conn.prepare("SELECT profile_id, created_seq, state FROM profiles")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (p, created, state) = row?;
            profiles.insert(
                ProfileId(p),
                (
                    created as u64,
                    BTreeSet::new(),
                    serde_json::from_str(&state)?,
                ),
            );
        }
        let mut stmt = conn.prepare("SELECT kind, value, profile_id FROM identities")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (kind, value, p) = row?;
            if let Some(entry) = profiles.get_mut(&ProfileId(p)) {
                entry.1.insert(Identifier::new(kind_of(&kind)?, value));
            }
        }
        let mut groups = BTreeMap::new();
        let mut stmt = conn.prepare("SELECT group_id, state FROM groups")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (g, state) = row?;
            groups.insert(g, serde_json::from_str(&state)?);
        }
        let mut stmt = conn.prepare("SELECT seq, profile_id FROM event_index")?;
        let attributions = stmt
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, ProfileId(r.get(1)?)))
            })?
            .collect::<Result<_, _>>()?;
        let mut merges = BTreeSet::new();
        let mut stmt =
            conn.prepare("SELECT merge_id, profile_id, record FROM merges WHERE undone = 0")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (id, owner, record) = row?;
            let record: herald_core::projection::MergeRecord = serde_json::from_str(&record)?;
            merges.insert((id, ProfileId(owner), record.winner, record.loser));
        }
        Ok(Snapshot {
            profiles,
            groups,
            attributions,
            merges,
        })
    }

    fn counter_row(&self, key: &str) -> Result<u64> {
        let conn = self.state_readers.get()?;
        let v: Option<i64> = conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row(params![key], |r| r.get(0))
            .optional()?;
        Ok(v.unwrap_or(0) as u64)
    }
}
