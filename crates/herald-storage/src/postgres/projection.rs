//! [`ProjectionBackend`] on PostgreSQL: the processor's transactions, serialised cluster-wide.

use std::collections::{BTreeSet, HashMap, HashSet};

use herald_core::event::{Event, EventType};
use herald_core::identity::{Identifier, ProfileId, ProfileIdentity, Separation};
use herald_core::profile::{GroupState, ProfileState};
use herald_core::projection::{
    IdentityLink, MergeRecord, ProjectionStore, RebuildStore, RefusalRecord,
};
use postgres::{Row, Transaction};

use super::{exec, row, rows, Params, PgState, Stmts, STATE_LOCK};
use crate::{kind_of, Backfill, ProjectionBackend, Quarantined, Result, StateTxn};

pub(super) struct PgTxn<'c> {
    pub(super) tx: Transaction<'c>,
    pub(super) stmts: &'c mut Stmts,
    /// Profile states read or written in this transaction; `true` when dirty.
    states: HashMap<ProfileId, (ProfileState, bool)>,
    /// Owners and suppression of identifiers, read for a whole batch at once
    /// ([`StateTxn::prefetch_identifiers`]) and kept current by this transaction's own writes,
    /// so that resolving an event does not cost a round trip per identifier.
    owners: HashMap<Identifier, Option<ProfileId>>,
    suppressed: HashMap<Identifier, bool>,
    /// Profiles created in this transaction and not yet inserted (their creating position):
    /// inserted with their final state by one statement at commit, or before a statement
    /// that reads the profiles table.
    new_profiles: HashMap<ProfileId, u64>,
    /// Profiles known not to exist (read for a batch at once, [`StateTxn::prefetch_profiles`];
    /// only this transaction's `create_profile` can make one exist).
    absent: HashSet<ProfileId>,
    /// Identifier owners set and not yet written (the last one set wins): one multi-row upsert
    /// at commit, or before a statement that reads or moves identities.
    pending_owners: HashMap<Identifier, (ProfileId, String)>,
    /// Whether any separation (a merge undone) exists; while none does, resolving an event
    /// needs no separations lookup. Read once per transaction.
    separations_exist: Option<bool>,
    /// Timeline rows not yet written, by position (the last attribution of a position wins):
    /// one multi-row statement at commit, or before a statement that touches the timeline.
    timeline: HashMap<u64, TimelineRow>,
    pub(super) audiences: crate::AudienceCache,
}

struct TimelineRow {
    profile: String,
    name: String,
    ts: i64,
    group: Option<String>,
}

impl PgTxn<'_> {
    pub(super) fn exec(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        exec(&mut self.tx, self.stmts, sql, params)
    }
    pub(super) fn rows(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        rows(&mut self.tx, self.stmts, sql, params)
    }
    pub(super) fn row(&mut self, sql: &'static str, params: Params<'_>) -> Result<Option<Row>> {
        row(&mut self.tx, self.stmts, sql, params)
    }

    fn flush(&mut self) -> Result<()> {
        self.flush_owners()?;
        self.flush_audiences()?;
        self.flush_timeline()?;
        self.flush_new_profiles()?;
        let (ids, states): (Vec<String>, Vec<String>) = self
            .states
            .iter()
            .filter(|(_, (_, dirty))| *dirty)
            .map(|(p, (state, _))| Ok((p.0.clone(), serde_json::to_string(state)?)))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .unzip();
        if !ids.is_empty() {
            self.exec(
                "UPDATE profiles p SET state = t.state \
                 FROM unnest($1::text[], $2::text[]) AS t(profile_id, state) \
                 WHERE p.profile_id = t.profile_id",
                &[&ids, &states],
            )?;
        }
        Ok(())
    }

    /// Insert the profiles created so far, with their current state (later changes are
    /// written as updates).
    fn flush_new_profiles(&mut self) -> Result<()> {
        if self.new_profiles.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::with_capacity(self.new_profiles.len());
        let mut created = Vec::with_capacity(ids.capacity());
        let mut states = Vec::with_capacity(ids.capacity());
        for (profile, seq) in std::mem::take(&mut self.new_profiles) {
            let state = match self.states.get_mut(&profile) {
                Some((state, dirty)) => {
                    *dirty = false;
                    serde_json::to_string(state)?
                }
                None => "{}".to_owned(),
            };
            ids.push(profile.0);
            created.push(seq as i64);
            states.push(state);
        }
        self.exec(
            "INSERT INTO profiles (profile_id, created_seq, state) \
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])",
            &[&ids, &created, &states],
        )?;
        Ok(())
    }

    /// Write the pending identifier owners.
    fn flush_owners(&mut self) -> Result<()> {
        if self.pending_owners.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending_owners);
        let (mut kinds, mut values, mut profiles, mut links) = (
            Vec::with_capacity(pending.len()),
            Vec::with_capacity(pending.len()),
            Vec::with_capacity(pending.len()),
            Vec::with_capacity(pending.len()),
        );
        for (id, (profile, link)) in pending {
            kinds.push(id.kind.as_str());
            values.push(id.value);
            profiles.push(profile.0);
            links.push(link);
        }
        self.exec(
            "INSERT INTO identities (kind, value, profile_id, link) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) \
             ON CONFLICT (kind, value) DO UPDATE SET profile_id = excluded.profile_id, link = excluded.link",
            &[&kinds, &values, &profiles, &links],
        )?;
        Ok(())
    }

    /// Write the pending timeline rows.
    pub(super) fn flush_timeline(&mut self) -> Result<()> {
        if self.timeline.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.timeline);
        let (mut seqs, mut profiles, mut names, mut ts, mut groups) = (
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
        );
        for (seq, row) in rows {
            seqs.push(seq as i64);
            profiles.push(row.profile);
            names.push(row.name);
            ts.push(row.ts);
            groups.push(row.group);
        }
        self.exec(
            "INSERT INTO event_index (seq, profile_id, name, ts, group_id) \
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[]) \
             ON CONFLICT (seq) DO UPDATE SET profile_id = excluded.profile_id",
            &[&seqs, &profiles, &names, &ts, &groups],
        )?;
        Ok(())
    }

    /// Keep the known owners current after identities of `from` moved to `to` (a merge) or
    /// were removed (`None`).
    fn reassign_known_owners(&mut self, from: &ProfileId, to: Option<&ProfileId>) {
        for owner in self.owners.values_mut() {
            if owner.as_ref() == Some(from) {
                *owner = to.cloned();
            }
        }
    }

    fn seqs(&mut self, sql: &'static str, arg: &str) -> Result<Vec<u64>> {
        Ok(self
            .rows(sql, &[&arg])?
            .iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect())
    }
}

/// How a state transaction takes the state lock.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum LockMode {
    /// One at a time with every other state transaction: admin commands, timers, backfills,
    /// and the processing of an unpartitioned store.
    Exclusive,
    /// Concurrently with other shared ones (the sequencer and partitions, which never write
    /// the same rows but group states, which they lock), one at a time with exclusive ones.
    Shared,
}

impl PgState {
    /// Run `f` in one state transaction, flushing what it buffered before committing.
    pub(super) fn transaction(
        &self,
        mode: LockMode,
        f: &mut dyn FnMut(&mut PgTxn<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut conn = self.pool.get()?;
        let super::Conn { client, stmts } = &mut *conn;
        let mut tx = client.transaction()?;
        match mode {
            LockMode::Exclusive => {
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&STATE_LOCK])?
            }
            LockMode::Shared => {
                tx.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&STATE_LOCK])?
            }
        };
        let mut txn = PgTxn {
            tx,
            stmts,
            states: HashMap::new(),
            owners: HashMap::new(),
            suppressed: HashMap::new(),
            new_profiles: HashMap::new(),
            absent: HashSet::new(),
            pending_owners: HashMap::new(),
            separations_exist: None,
            timeline: HashMap::new(),
            audiences: crate::AudienceCache::default(),
        };
        f(&mut txn)?;
        txn.flush()?;
        txn.tx.commit()?;
        Ok(())
    }
}

impl ProjectionBackend for PgState {
    fn in_transaction(&self, f: &mut dyn FnMut(&mut dyn StateTxn) -> Result<()>) -> Result<()> {
        self.transaction(LockMode::Exclusive, &mut |txn| f(txn))
    }

    fn pending_log_deletions(&self) -> Result<Vec<u64>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows("SELECT seq FROM pending_log_deletions ORDER BY seq", &[])?
            .iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect())
    }

    fn confirm_log_deletions(&self, seqs: &[u64]) -> Result<()> {
        let seqs: Vec<i64> = seqs.iter().map(|s| *s as i64).collect();
        let mut conn = self.pool.get()?;
        conn.exec(
            "DELETE FROM pending_log_deletions WHERE seq = ANY($1)",
            &[&seqs],
        )?;
        Ok(())
    }

    /// Nothing to do: the replacement is in `log_replacements` from its commit on, and the
    /// original goes from the stream with the pending log deletions.
    fn finish_log_replacements(&self) -> Result<()> {
        Ok(())
    }

    fn release_memory(&self) -> Result<()> {
        self.release_idle();
        Ok(())
    }

    fn hold_processing_lease(&self) -> Result<bool> {
        self.hold_lease()
    }

    fn release_processing_lease(&self) {
        self.release_lease()
    }
}

impl ProjectionStore for PgTxn<'_> {
    type Error = crate::StorageError;

    fn owner(&mut self, id: &Identifier) -> Result<Option<ProfileId>> {
        if let Some(known) = self.owners.get(id) {
            return Ok(known.clone());
        }
        let owner = self
            .row(
                "SELECT profile_id FROM identities WHERE kind = $1 AND value = $2",
                &[&id.kind.as_str(), &id.value],
            )?
            .map(|r| ProfileId(r.get(0)));
        self.owners.insert(id.clone(), owner.clone());
        Ok(owner)
    }

    fn identity(&mut self, profile: &ProfileId) -> Result<Option<ProfileIdentity>> {
        if self.absent.contains(profile) {
            return Ok(None);
        }
        let created = match self.new_profiles.get(profile) {
            Some(&seq) => seq,
            None => match self.row(
                "SELECT created_seq FROM profiles WHERE profile_id = $1",
                &[&profile.as_str()],
            )? {
                Some(r) => r.get::<_, i64>(0) as u64,
                None => return Ok(None),
            },
        };
        // The stored identifiers, with the owners this transaction set and has not written.
        let mut identifiers = BTreeSet::new();
        for r in self.rows(
            "SELECT kind, value FROM identities WHERE profile_id = $1",
            &[&profile.as_str()],
        )? {
            let id = Identifier::new(kind_of(r.get(0))?, r.get::<_, String>(1));
            if self
                .pending_owners
                .get(&id)
                .is_none_or(|(owner, _)| owner == profile)
            {
                identifiers.insert(id);
            }
        }
        identifiers.extend(
            self.pending_owners
                .iter()
                .filter(|(_, (owner, _))| owner == profile)
                .map(|(id, _)| id.clone()),
        );
        Ok(Some(ProfileIdentity {
            identifiers,
            created_seq: created,
        }))
    }

    fn separations_touching(&mut self, ids: &BTreeSet<Identifier>) -> Result<Vec<Separation>> {
        if self.separations_exist.is_none() {
            let any = self
                .row("SELECT EXISTS (SELECT 1 FROM separations)", &[])?
                .is_some_and(|r| r.get::<_, bool>(0));
            self.separations_exist = Some(any);
        }
        if self.separations_exist == Some(false) {
            return Ok(Vec::new());
        }
        let kinds: Vec<&str> = ids.iter().map(|i| i.kind.as_str()).collect();
        let values: Vec<&str> = ids.iter().map(|i| i.value.as_str()).collect();
        self.rows(
            "SELECT body FROM separations WHERE separation_id IN ( \
                 SELECT m.separation_id FROM separation_members m \
                 JOIN unnest($1::text[], $2::text[]) AS t(kind, value) \
                   ON m.kind = t.kind AND m.value = t.value) \
             ORDER BY separation_id",
            &[&kinds, &values],
        )?
        .iter()
        .map(|r| Ok(serde_json::from_str(r.get(0))?))
        .collect()
    }

    fn is_suppressed(&mut self, id: &Identifier) -> Result<bool> {
        if let Some(&known) = self.suppressed.get(id) {
            return Ok(known);
        }
        let suppressed = self
            .row(
                "SELECT 1 FROM suppressions WHERE kind = $1 AND value = $2",
                &[&id.kind.as_str(), &id.value],
            )?
            .is_some();
        self.suppressed.insert(id.clone(), suppressed);
        Ok(suppressed)
    }

    fn create_profile(&mut self, profile: &ProfileId, created_seq: u64) -> Result<()> {
        self.absent.remove(profile);
        self.new_profiles.insert(profile.clone(), created_seq);
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
        self.pending_owners
            .insert(id.clone(), (profile.clone(), serde_json::to_string(link)?));
        self.owners.insert(id.clone(), Some(profile.clone()));
        Ok(())
    }

    fn profile_state(&mut self, profile: &ProfileId) -> Result<ProfileState> {
        if let Some((state, _)) = self.states.get(profile) {
            return Ok(state.clone());
        }
        let state: ProfileState = match self.row(
            "SELECT state FROM profiles WHERE profile_id = $1",
            &[&profile.as_str()],
        )? {
            Some(r) => serde_json::from_str(r.get(0))?,
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
        Ok(
            match self.row("SELECT state FROM groups WHERE group_id = $1", &[&group_id])? {
                Some(r) => serde_json::from_str(r.get(0))?,
                None => GroupState::default(),
            },
        )
    }

    /// Joined with the stored state under a row lock: partitions of a cluster apply `group`
    /// calls of different profiles concurrently, and a group state is a join, so joining
    /// what another partition committed meanwhile gives the same state in any order.
    fn save_group_state(&mut self, group_id: &str, state: &GroupState) -> Result<()> {
        let mut state = state.clone();
        loop {
            let stored = self.row(
                "SELECT state FROM groups WHERE group_id = $1 FOR UPDATE",
                &[&group_id],
            )?;
            if let Some(r) = stored {
                state.merge(serde_json::from_str(r.get(0))?);
                self.exec(
                    "UPDATE groups SET state = $2 WHERE group_id = $1",
                    &[&group_id, &serde_json::to_string(&state)?],
                )?;
                return Ok(());
            }
            let inserted = self.exec(
                "INSERT INTO groups (group_id, state) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&group_id, &serde_json::to_string(&state)?],
            )?;
            if inserted == 1 {
                return Ok(());
            }
        }
    }

    fn absorb(&mut self, winner: &ProfileId, loser: &ProfileId) -> Result<()> {
        self.flush_timeline()?;
        self.flush_owners()?;
        let (w, l) = (winner.as_str(), loser.as_str());
        for sql in [
            "UPDATE identities SET profile_id = $1 WHERE profile_id = $2",
            "UPDATE event_index SET profile_id = $1 WHERE profile_id = $2",
            "INSERT INTO insights_changes (profile_id) SELECT $2::text WHERE $1::text IS NOT NULL",
            "UPDATE merges SET profile_id = $1 WHERE profile_id = $2",
            "UPDATE refusals SET profile_id = $1 WHERE profile_id = $2",
        ] {
            self.exec(sql, &[&w, &l])?;
        }
        self.reassign_known_owners(loser, Some(winner));
        Ok(())
    }

    fn retire(&mut self, loser: &ProfileId) -> Result<()> {
        // One created in this transaction was never inserted.
        if self.new_profiles.remove(loser).is_none() {
            self.exec(
                "DELETE FROM profiles WHERE profile_id = $1",
                &[&loser.as_str()],
            )?;
        }
        self.states.remove(loser);
        Ok(())
    }

    fn record_merge(&mut self, merge: &MergeRecord) -> Result<()> {
        self.exec(
            "INSERT INTO merges (merge_id, profile_id, seq, record) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (merge_id) DO UPDATE SET profile_id = excluded.profile_id, record = excluded.record, undone = FALSE",
            &[&merge.merge_id, &merge.winner.as_str(), &(merge.seq as i64), &serde_json::to_string(merge)?],
        )?;
        Ok(())
    }

    fn record_refusal(&mut self, profile: &ProfileId, refusal: &RefusalRecord) -> Result<()> {
        let reason = serde_json::to_value(refusal.reason)?;
        self.exec(
            "INSERT INTO refusals (profile_id, seq, kind, value, reason) VALUES ($1, $2, $3, $4, $5)",
            &[
                &profile.as_str(),
                &(refusal.seq as i64),
                &refusal.identifier.kind.as_str(),
                &refusal.identifier.value,
                &reason.as_str().unwrap_or_default(),
            ],
        )?;
        Ok(())
    }

    fn attribute(&mut self, seq: u64, profile: &ProfileId, event: &Event) -> Result<()> {
        let group = (event.event_type == EventType::Group)
            .then_some(event.group_id.as_deref())
            .flatten();
        let row = TimelineRow {
            profile: profile.0.clone(),
            name: event.display_name().to_owned(),
            ts: event.timestamp.timestamp_millis(),
            group: group.map(str::to_owned),
        };
        match self.timeline.get_mut(&seq) {
            // As `ON CONFLICT (seq)` would: a re-attribution moves the row, nothing else.
            Some(pending) => pending.profile = row.profile,
            None => {
                self.timeline.insert(seq, row);
            }
        }
        Ok(())
    }
}

pub(super) fn refusal_from_row(r: &Row) -> Result<RefusalRecord> {
    crate::refusal_from_row(r.get(0), r.get(1), r.get(2), r.get(3))
}

pub(super) const REFUSALS_OF: &str =
    "SELECT seq, kind, value, reason FROM refusals WHERE profile_id = $1 ORDER BY seq, id";
pub(super) const MERGE_BY_ID: &str =
    "SELECT profile_id, record, undone FROM merges WHERE merge_id = $1";

pub(super) fn merge_from_row(r: &Row) -> Result<(ProfileId, MergeRecord, bool)> {
    Ok((
        ProfileId(r.get(0)),
        serde_json::from_str(r.get(1))?,
        r.get(2),
    ))
}

impl RebuildStore for PgTxn<'_> {
    fn refusals_of(&mut self, profile: &ProfileId) -> Result<Vec<RefusalRecord>> {
        self.rows(REFUSALS_OF, &[&profile.as_str()])?
            .iter()
            .map(refusal_from_row)
            .collect()
    }

    fn profiles_refusing(&mut self, ids: &BTreeSet<Identifier>) -> Result<Vec<ProfileId>> {
        let mut out = Vec::new();
        for id in ids {
            for r in self.rows(
                "SELECT DISTINCT profile_id FROM refusals WHERE kind = $1 AND value = $2",
                &[&id.kind.as_str(), &id.value],
            )? {
                out.push(ProfileId(r.get(0)));
            }
        }
        Ok(out)
    }

    fn event_seqs(&mut self, profile: &ProfileId) -> Result<Vec<u64>> {
        self.flush_timeline()?;
        self.seqs(
            "SELECT seq FROM event_index WHERE profile_id = $1 ORDER BY seq",
            profile.as_str(),
        )
    }

    fn group_event_seqs(&mut self, group_id: &str) -> Result<Vec<u64>> {
        self.flush_timeline()?;
        self.seqs(
            "SELECT seq FROM event_index WHERE group_id = $1 ORDER BY seq",
            group_id,
        )
    }

    fn delete_group_state(&mut self, group_id: &str) -> Result<()> {
        self.exec("DELETE FROM groups WHERE group_id = $1", &[&group_id])?;
        Ok(())
    }

    fn merge_record(&mut self, merge_id: &str) -> Result<Option<(ProfileId, MergeRecord, bool)>> {
        self.row(MERGE_BY_ID, &[&merge_id])?
            .as_ref()
            .map(merge_from_row)
            .transpose()
    }

    fn mark_merge_undone(&mut self, merge_id: &str) -> Result<()> {
        self.exec(
            "UPDATE merges SET undone = TRUE WHERE merge_id = $1",
            &[&merge_id],
        )?;
        Ok(())
    }

    fn add_separation(&mut self, separation: &Separation) -> Result<()> {
        self.separations_exist = Some(true);
        let sid: i64 = self
            .row(
                "INSERT INTO separations (body) VALUES ($1) RETURNING separation_id",
                &[&serde_json::to_string(separation)?],
            )?
            .map(|r| r.get(0))
            .unwrap_or_default();
        for id in separation.left.iter().chain(&separation.right) {
            self.exec(
                "INSERT INTO separation_members (separation_id, kind, value) VALUES ($1, $2, $3)",
                &[&sid, &id.kind.as_str(), &id.value],
            )?;
        }
        Ok(())
    }

    fn suppress(&mut self, id: &Identifier) -> Result<()> {
        self.exec(
            "INSERT INTO suppressions (kind, value, at_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&id.kind.as_str(), &id.value, &crate::now_ms()],
        )?;
        self.suppressed.insert(id.clone(), true);
        Ok(())
    }

    fn clear_profile(&mut self, profile: &ProfileId) -> Result<()> {
        self.flush_timeline()?;
        self.flush_owners()?;
        self.new_profiles.remove(profile);
        let p = profile.as_str();
        for sql in [
            "DELETE FROM identities WHERE profile_id = $1",
            "DELETE FROM event_index WHERE profile_id = $1",
            "INSERT INTO insights_changes (profile_id) VALUES ($1)",
            "DELETE FROM merges WHERE profile_id = $1 AND NOT undone",
            "DELETE FROM refusals WHERE profile_id = $1",
            "DELETE FROM profiles WHERE profile_id = $1",
        ] {
            self.exec(sql, &[&p])?;
        }
        self.states.remove(profile);
        self.reassign_known_owners(profile, None);
        Ok(())
    }
}

impl StateTxn for PgTxn<'_> {
    fn prefetch_identifiers(&mut self, ids: &[Identifier]) -> Result<()> {
        let unknown: BTreeSet<&Identifier> = ids
            .iter()
            .filter(|id| !self.owners.contains_key(*id) || !self.suppressed.contains_key(*id))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let kinds: Vec<&str> = unknown.iter().map(|i| i.kind.as_str()).collect();
        let values: Vec<&str> = unknown.iter().map(|i| i.value.as_str()).collect();
        let rows = self.rows(
            "SELECT t.kind, t.value, i.profile_id, s.kind IS NOT NULL \
             FROM unnest($1::text[], $2::text[]) AS t(kind, value) \
             LEFT JOIN identities i ON i.kind = t.kind AND i.value = t.value \
             LEFT JOIN suppressions s ON s.kind = t.kind AND s.value = t.value",
            &[&kinds, &values],
        )?;
        for r in rows {
            let id = Identifier::new(kind_of(r.get(0))?, r.get::<_, String>(1));
            let owner = r.get::<_, Option<String>>(2).map(ProfileId);
            self.owners.entry(id.clone()).or_insert(owner);
            self.suppressed.entry(id).or_insert(r.get(3));
        }
        Ok(())
    }

    fn prefetch_profiles(&mut self, candidates: &[ProfileId]) -> Result<()> {
        let unknown: Vec<&str> = candidates
            .iter()
            .filter(|p| !self.new_profiles.contains_key(*p) && !self.absent.contains(*p))
            .map(ProfileId::as_str)
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let existing: HashSet<String> = self
            .rows(
                "SELECT profile_id FROM profiles WHERE profile_id = ANY($1)",
                &[&unknown],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for p in unknown {
            if !existing.contains(p) {
                self.absent.insert(ProfileId(p.to_owned()));
            }
        }
        Ok(())
    }

    fn prefetch_states(&mut self, profiles: &[ProfileId]) -> Result<()> {
        let wanted: Vec<&str> = profiles
            .iter()
            .filter(|p| !self.states.contains_key(*p))
            .map(|p| p.as_str())
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let rows = self.rows(
            "SELECT p.profile_id, p.state, a.state FROM profiles p \
             LEFT JOIN audience_state a ON a.profile_id = p.profile_id \
             WHERE p.profile_id = ANY($1)",
            &[&wanted],
        )?;
        for r in rows {
            let profile = ProfileId(r.get(0));
            let state: ProfileState = serde_json::from_str(r.get(1))?;
            let audience = r
                .get::<_, Option<&str>>(2)
                .map(serde_json::from_str)
                .transpose()?;
            self.audiences.preload(profile.clone(), (audience, None));
            self.states.entry(profile).or_insert((state, false));
        }
        Ok(())
    }

    fn routed_pending(&mut self) -> Result<bool> {
        Ok(self
            .row(super::partitions::ANY_ROUTED, &[])?
            .is_some_and(|r| r.get(0)))
    }

    fn cursor(&mut self) -> Result<u64> {
        Ok(self
            .row("SELECT value FROM meta WHERE key = 'cursor'", &[])?
            .map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    fn set_cursor(&mut self, seq: u64) -> Result<()> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES ('cursor', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&(seq as i64)],
        )?;
        Ok(())
    }

    fn forget_events(&mut self, seqs: &[u64]) -> Result<()> {
        self.flush_timeline()?;
        let seqs: Vec<i64> = seqs.iter().map(|s| *s as i64).collect();
        self.exec(
            "INSERT INTO insights_changes (profile_id) SELECT profile_id FROM event_index WHERE seq = ANY($1)",
            &[&seqs],
        )?;
        self.exec("DELETE FROM event_index WHERE seq = ANY($1)", &[&seqs])?;
        // A replaced event's original left the stream already (or is queued to): only its
        // replacement remains to delete.
        self.exec(
            "INSERT INTO pending_log_deletions (seq) SELECT s FROM unnest($1::bigint[]) s \
             WHERE NOT EXISTS (SELECT 1 FROM log_replacements r WHERE r.seq = s) ON CONFLICT DO NOTHING",
            &[&seqs],
        )?;
        self.exec("DELETE FROM log_replacements WHERE seq = ANY($1)", &[&seqs])?;
        Ok(())
    }

    fn replace_events(&mut self, events: &[(u64, Event)]) -> Result<()> {
        // The original leaves the stream once: an event redacted again is replaced already.
        let seqs: Vec<i64> = events.iter().map(|(s, _)| *s as i64).collect();
        self.flush_timeline()?;
        self.exec(
            "INSERT INTO insights_changes (profile_id) SELECT profile_id FROM event_index WHERE seq = ANY($1)",
            &[&seqs],
        )?;
        self.exec(
            "INSERT INTO pending_log_deletions (seq) SELECT s FROM unnest($1::bigint[]) s \
             WHERE NOT EXISTS (SELECT 1 FROM log_replacements r WHERE r.seq = s) ON CONFLICT DO NOTHING",
            &[&seqs],
        )?;
        for (seq, event) in events {
            self.exec(
                "INSERT INTO log_replacements (seq, payload) VALUES ($1, $2) \
                 ON CONFLICT (seq) DO UPDATE SET payload = excluded.payload",
                &[&(*seq as i64), &crate::EncodedEvent::of(event)?.json],
            )?;
        }
        Ok(())
    }

    fn lift_suppression(
        &mut self,
        id: &Identifier,
        at_ms: i64,
    ) -> Result<Option<crate::Suppression>> {
        let Some(row) = self.row(
            "DELETE FROM suppressions WHERE kind = $1 AND value = $2 RETURNING at_ms",
            &[&id.kind.as_str(), &id.value],
        )?
        else {
            return Ok(None);
        };
        let suppressed_at_ms: Option<i64> = row.get(0);
        self.exec(
            "INSERT INTO lifted_suppressions (kind, value, suppressed_at_ms, lifted_at_ms) \
             VALUES ($1, $2, $3, $4)",
            &[&id.kind.as_str(), &id.value, &suppressed_at_ms, &at_ms],
        )?;
        self.suppressed.insert(id.clone(), false);
        Ok(Some(crate::Suppression {
            identifier: id.clone(),
            suppressed_at_ms,
            lifted_at_ms: Some(at_ms),
        }))
    }

    fn add_counter(&mut self, name: &str, by: u64) -> Result<()> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = meta.value + excluded.value",
            &[&format!("counter:{name}"), &(by as i64)],
        )?;
        Ok(())
    }

    fn quarantine(&mut self, entry: &Quarantined) -> Result<()> {
        self.exec(
            "INSERT INTO quarantine (seq, reason, at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (seq) DO UPDATE SET reason = excluded.reason, at_ms = excluded.at_ms",
            &[&(entry.seq as i64), &entry.reason, &entry.at_ms],
        )?;
        Ok(())
    }

    fn release_quarantined(&mut self, seq: u64) -> Result<bool> {
        Ok(self.exec("DELETE FROM quarantine WHERE seq = $1", &[&(seq as i64)])? > 0)
    }

    fn backfill(&mut self) -> Result<Option<Backfill>> {
        let row = self.row("SELECT value FROM settings WHERE key = 'backfill'", &[])?;
        Ok(row.map(|r| serde_json::from_str(r.get(0))).transpose()?)
    }

    fn set_backfill(&mut self, backfill: &Backfill) -> Result<()> {
        self.exec(
            "INSERT INTO settings (key, value) VALUES ('backfill', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&serde_json::to_string(backfill)?],
        )?;
        Ok(())
    }

    fn profiles_after(
        &mut self,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<ProfileId>> {
        self.flush_new_profiles()?;
        Ok(self
            .rows(
                "SELECT profile_id FROM profiles WHERE profile_id > $1 ORDER BY profile_id LIMIT $2",
                &[&after.map_or("", |p| p.as_str()), &crate::sql_limit(limit)],
            )?
            .iter()
            .map(|r| ProfileId(r.get(0)))
            .collect())
    }

    fn profile_count(&mut self) -> Result<u64> {
        self.flush_new_profiles()?;
        let row = self.row("SELECT count(*) FROM profiles", &[])?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0)) as u64)
    }

    fn scope_size(&mut self, scope: &crate::BackfillScope) -> Result<u64> {
        self.flush_timeline()?;
        let names: Vec<&str> = scope.names.iter().map(String::as_str).collect();
        let audiences: Vec<&str> = scope.members_of.iter().map(String::as_str).collect();
        let row = self.row(
            "SELECT count(*) FROM ( \
               SELECT profile_id FROM event_index WHERE name = ANY($1) \
               UNION SELECT profile_id FROM audience_members WHERE audience_id = ANY($2)) s",
            &[&names, &audiences],
        )?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0)) as u64)
    }
}
