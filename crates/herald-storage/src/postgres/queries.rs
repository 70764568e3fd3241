//! [`Queries`] on PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};

use herald_core::identity::{Identifier, ProfileId, Separation};
use herald_core::memory::Snapshot;
use herald_core::projection::{MergeRecord, RefusalRecord};

use super::projection::{merge_from_row, refusal_from_row, MERGE_BY_ID, REFUSALS_OF};
use super::PgState;
use crate::{
    kind_of, IdentityRow, MergeRow, ProfileRecord, ProfileSearch, ProfileSummary, Quarantined,
    Queries, Result, SearchParams, TimelineFilter,
};

impl PgState {
    pub(super) fn meta(&self, key: &str) -> Result<u64> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row("SELECT value FROM meta WHERE key = $1", &[&key])?
            .map_or(0, |r| r.get::<_, i64>(0) as u64))
    }
}

impl Queries for PgState {
    fn profile_of(&self, id: &Identifier) -> Result<Option<ProfileId>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row(
                "SELECT profile_id FROM identities WHERE kind = $1 AND value = $2",
                &[&id.kind.as_str(), &id.value],
            )?
            .map(|r| ProfileId(r.get(0))))
    }

    fn profile(&self, profile: &ProfileId) -> Result<Option<ProfileRecord>> {
        let mut conn = self.pool.get()?;
        let Some(row) = conn.row(
            "SELECT created_seq, state FROM profiles WHERE profile_id = $1",
            &[&profile.as_str()],
        )?
        else {
            return Ok(None);
        };
        let state: herald_core::profile::ProfileState = serde_json::from_str(row.get(1))?;
        let mut identities = conn
            .rows(
                "SELECT kind, value, link FROM identities WHERE profile_id = $1",
                &[&profile.as_str()],
            )?
            .iter()
            .map(|r| {
                Ok(IdentityRow {
                    identifier: Identifier::new(kind_of(r.get(0))?, r.get::<_, String>(1)),
                    link: serde_json::from_str(r.get(2))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        identities.sort_by(|a, b| (a.link.seq, &a.identifier).cmp(&(b.link.seq, &b.identifier)));
        let mut groups = Vec::new();
        for group_id in state.groups.keys() {
            let group =
                match conn.row("SELECT state FROM groups WHERE group_id = $1", &[group_id])? {
                    Some(r) => serde_json::from_str(r.get(0))?,
                    None => Default::default(),
                };
            groups.push((group_id.clone(), group));
        }
        Ok(Some(ProfileRecord {
            profile_id: profile.clone(),
            created_seq: row.get::<_, i64>(0) as u64,
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
        let mut conn = self.pool.get()?;
        let SearchParams {
            kind,
            prefix,
            name,
            value,
        } = search.params();
        // `starts_with` compares characters whatever the database's collation is.
        Ok(conn
            .rows(
                "SELECT profile_id FROM profiles p WHERE profile_id > $1 \
                   AND ($2::text IS NULL OR profile_id IN (SELECT profile_id FROM identities \
                          WHERE kind = $2 AND starts_with(value, $3))) \
                   AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM \
                          (SELECT p.state::jsonb -> 'traits' -> $4::text -> 'value' AS v) t \
                          WHERE (jsonb_typeof(t.v) = 'string' AND t.v #>> '{}' = $5::text) \
                             OR (jsonb_typeof(t.v) = 'number' AND (t.v #>> '{}')::float8 = $6::float8) \
                             OR (jsonb_typeof(t.v) = 'boolean' AND t.v #>> '{}' = $7::text))) \
                 ORDER BY profile_id LIMIT $8",
                &[
                    &after.map_or("", ProfileId::as_str),
                    &kind,
                    &prefix,
                    &name,
                    &value,
                    &search.trait_number(),
                    &search.trait_bool().map(|b| b.to_string()),
                    &crate::sql_limit(limit),
                ],
            )?
            .iter()
            .map(|r| ProfileId(r.get(0)))
            .collect())
    }

    fn profile_summaries(&self, profiles: &[ProfileId]) -> Result<Vec<ProfileSummary>> {
        let mut conn = self.pool.get()?;
        let ids: Vec<&str> = profiles.iter().map(ProfileId::as_str).collect();
        let mut states = BTreeMap::new();
        for r in conn.rows(
            "SELECT profile_id, state FROM profiles WHERE profile_id = ANY($1)",
            &[&ids],
        )? {
            states.insert(r.get::<_, String>(0), serde_json::from_str(r.get(1))?);
        }
        let mut identities: BTreeMap<String, Vec<IdentityRow>> = BTreeMap::new();
        for r in conn.rows(
            "SELECT profile_id, kind, value, link FROM identities WHERE profile_id = ANY($1)",
            &[&ids],
        )? {
            identities
                .entry(r.get::<_, String>(0))
                .or_default()
                .push(IdentityRow {
                    identifier: Identifier::new(kind_of(r.get(1))?, r.get::<_, String>(2)),
                    link: serde_json::from_str(r.get(3))?,
                });
        }
        Ok(crate::summaries_in_order(profiles, states, identities))
    }

    fn timeline(&self, profile: &ProfileId, filter: &TimelineFilter) -> Result<Vec<(i64, u64)>> {
        let mut conn = self.pool.get()?;
        let (before_ts, before_seq) = filter.before.unwrap_or((i64::MAX, u64::MAX));
        Ok(conn
            .rows(
                "SELECT ts, seq FROM event_index WHERE profile_id = $1 \
                   AND ($2::text IS NULL OR name = $2) AND ts >= $3 AND ts <= $4 \
                   AND (ts < $5 OR (ts = $5 AND seq < $6)) \
                 ORDER BY ts DESC, seq DESC LIMIT $7",
                &[
                    &profile.as_str(),
                    &filter.event,
                    &filter.since.map_or(i64::MIN, |t| t.timestamp_millis()),
                    &filter.until.map_or(i64::MAX, |t| t.timestamp_millis()),
                    &before_ts,
                    &(before_seq.min(i64::MAX as u64) as i64),
                    &crate::sql_limit(filter.limit),
                ],
            )?
            .iter()
            .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1) as u64))
            .collect())
    }

    fn merges(&self, profile: &ProfileId) -> Result<Vec<MergeRow>> {
        let mut conn = self.pool.get()?;
        conn.rows(
            "SELECT record, undone FROM merges WHERE profile_id = $1 ORDER BY seq, merge_id",
            &[&profile.as_str()],
        )?
        .iter()
        .map(|r| {
            Ok(MergeRow {
                record: serde_json::from_str(r.get(0))?,
                undone: r.get(1),
            })
        })
        .collect()
    }

    fn merge(&self, merge_id: &str) -> Result<Option<MergeRow>> {
        let mut conn = self.pool.get()?;
        conn.row(MERGE_BY_ID, &[&merge_id])?
            .as_ref()
            .map(|r| merge_from_row(r).map(|(_, record, undone)| MergeRow { record, undone }))
            .transpose()
    }

    fn refusals(&self, profile: &ProfileId) -> Result<Vec<RefusalRecord>> {
        let mut conn = self.pool.get()?;
        conn.rows(REFUSALS_OF, &[&profile.as_str()])?
            .iter()
            .map(refusal_from_row)
            .collect()
    }

    fn suppressions(&self) -> Result<Vec<crate::Suppression>> {
        let mut conn = self.pool.get()?;
        conn.rows(
            "SELECT kind, value, suppressed_at, lifted_at FROM ( \
               SELECT kind, value, at_ms AS suppressed_at, NULL::bigint AS lifted_at FROM suppressions \
               UNION ALL SELECT kind, value, suppressed_at_ms, lifted_at_ms FROM lifted_suppressions \
             ) s ORDER BY kind, value, lifted_at IS NOT NULL, lifted_at DESC",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(crate::Suppression {
                identifier: Identifier::new(crate::kind_of(r.get(0))?, r.get::<_, String>(1)),
                suppressed_at_ms: r.get(2),
                lifted_at_ms: r.get(3),
            })
        })
        .collect()
    }

    fn is_suppressed(&self, id: &Identifier) -> Result<bool> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row(
                "SELECT 1 FROM suppressions WHERE kind = $1 AND value = $2",
                &[&id.kind.as_str(), &id.value],
            )?
            .is_some())
    }

    /// Everything up to it is applied: the sequencer's position, or just before the first
    /// routed piece of work no partition has applied yet.
    fn processed_cursor(&self) -> Result<u64> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row(
                "SELECT LEAST(COALESCE((SELECT value FROM meta WHERE key = 'cursor'), 0), \
                              (SELECT min(seq) - 1 FROM routed))",
                &[],
            )?
            .map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    fn counter(&self, name: &str) -> Result<u64> {
        self.meta(&format!("counter:{name}"))
    }

    fn ping(&self) -> Result<()> {
        let mut conn = self.pool.get()?;
        conn.row("SELECT 1", &[])?;
        Ok(())
    }

    fn quarantined(&self, after: u64, limit: usize) -> Result<Vec<Quarantined>> {
        let mut conn = self.pool.get()?;
        let rows = conn.rows(
            "SELECT seq, reason, at_ms FROM quarantine WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&(after as i64), &(limit as i64)],
        )?;
        Ok(rows
            .iter()
            .map(|r| Quarantined {
                seq: r.get::<_, i64>(0) as u64,
                reason: r.get(1),
                at_ms: r.get(2),
            })
            .collect())
    }

    fn quarantined_count(&self) -> Result<u64> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row("SELECT count(*) FROM quarantine", &[])?
            .map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    fn admin_overrides(&self) -> Result<(Vec<Separation>, Vec<Identifier>)> {
        let mut conn = self.pool.get()?;
        let separations = conn
            .rows("SELECT body FROM separations ORDER BY separation_id", &[])?
            .iter()
            .map(|r| Ok(serde_json::from_str(r.get(0))?))
            .collect::<Result<Vec<_>>>()?;
        let suppressed = conn
            .rows(
                "SELECT kind, value FROM suppressions ORDER BY kind, value",
                &[],
            )?
            .iter()
            .map(|r| Ok(Identifier::new(kind_of(r.get(0))?, r.get::<_, String>(1))))
            .collect::<Result<Vec<_>>>()?;
        Ok((separations, suppressed))
    }

    fn snapshot(&self) -> Result<Snapshot> {
        let mut conn = self.pool.get()?;
        // One consistent view of the whole projection.
        let mut tx = conn
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let mut profiles = BTreeMap::new();
        for r in tx.query("SELECT profile_id, created_seq, state FROM profiles", &[])? {
            profiles.insert(
                ProfileId(r.get(0)),
                (
                    r.get::<_, i64>(1) as u64,
                    BTreeSet::new(),
                    serde_json::from_str(r.get(2))?,
                ),
            );
        }
        for r in tx.query("SELECT kind, value, profile_id FROM identities", &[])? {
            if let Some(entry) = profiles.get_mut(&ProfileId(r.get(2))) {
                entry
                    .1
                    .insert(Identifier::new(kind_of(r.get(0))?, r.get::<_, String>(1)));
            }
        }
        let mut groups = BTreeMap::new();
        for r in tx.query("SELECT group_id, state FROM groups", &[])? {
            groups.insert(r.get(0), serde_json::from_str(r.get(1))?);
        }
        let attributions = tx
            .query("SELECT seq, profile_id FROM event_index", &[])?
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u64, ProfileId(r.get(1))))
            .collect();
        let mut merges = BTreeSet::new();
        for r in tx.query(
            "SELECT merge_id, profile_id, record FROM merges WHERE NOT undone",
            &[],
        )? {
            let record: MergeRecord = serde_json::from_str(r.get(2))?;
            merges.insert((r.get(0), ProfileId(r.get(1)), record.winner, record.loser));
        }
        tx.commit()?;
        Ok(Snapshot {
            profiles,
            groups,
            attributions,
            merges,
        })
    }
}

impl PgState {
    /// The replaced texts (`log_replacements`) of these log positions.
    pub(crate) fn log_replacements(&self, seqs: &[u64]) -> Result<Vec<(u64, String)>> {
        let seqs: Vec<i64> = seqs.iter().map(|s| *s as i64).collect();
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                "SELECT seq, payload FROM log_replacements WHERE seq = ANY($1) ORDER BY seq",
                &[&seqs],
            )?
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
            .collect())
    }

    /// The first `limit` replaced texts after position `after`, up to `upto` when given.
    pub(crate) fn log_replacements_after(
        &self,
        after: u64,
        upto: Option<u64>,
        limit: usize,
    ) -> Result<Vec<(u64, String)>> {
        let upto = upto.map_or(i64::MAX, |u| u as i64);
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                "SELECT seq, payload FROM log_replacements WHERE seq > $1 AND seq <= $2 \
                 ORDER BY seq LIMIT $3",
                &[&(after as i64), &upto, &crate::sql_limit(limit)],
            )?
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
            .collect())
    }
}
