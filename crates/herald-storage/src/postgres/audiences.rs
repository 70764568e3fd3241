//! Audiences on PostgreSQL: the processor's [`AudienceStore`] inside its transactions, and the
//! [`Audiences`] reads and definition changes for the API (serialised with processing by the
//! state lock).

use herald_core::audience::{AudienceState, AudienceStore, MembershipChange};
use herald_core::identity::ProfileId;

use super::projection::PgTxn;
use super::{PgState, STATE_LOCK};
use crate::{change_from_row, Audiences, Backfill, Definitions, Result};

impl PgTxn<'_> {
    /// Write the audience states changed in this transaction.
    pub(super) fn flush_audiences(&mut self) -> Result<()> {
        let (mut ids, mut states, mut dues, mut gone) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // Nothing is held apart here: every write is whole.
        for crate::Dirty { profile, state, .. } in self.audiences.take_dirty() {
            match state {
                Some(state) => {
                    ids.push(profile.0);
                    states.push(serde_json::to_string(&state)?);
                    dues.push(state.due());
                }
                None => gone.push(profile.0),
            }
        }
        if !ids.is_empty() {
            self.exec(
                "INSERT INTO audience_state (profile_id, state, due_ms) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) \
                 ON CONFLICT (profile_id) DO UPDATE SET state = excluded.state, due_ms = excluded.due_ms",
                &[&ids, &states, &dues],
            )?;
        }
        if !gone.is_empty() {
            self.exec(
                "DELETE FROM audience_state WHERE profile_id = ANY($1)",
                &[&gone],
            )?;
        }
        Ok(())
    }
}

impl AudienceStore for PgTxn<'_> {
    fn audience_state(&mut self, profile: &ProfileId) -> Result<Option<AudienceState>> {
        let (tx, stmts) = (&mut self.tx, &mut *self.stmts);
        self.audiences.get(profile, || {
            let row = super::row(
                tx,
                stmts,
                "SELECT state FROM audience_state WHERE profile_id = $1",
                &[&profile.as_str()],
            )?;
            let state = row.map(|r| serde_json::from_str(r.get(0))).transpose()?;
            Ok((state, None))
        })
    }

    fn save_audience_state(&mut self, profile: &ProfileId, state: &AudienceState) -> Result<()> {
        self.audiences.put(profile, Some(state.clone()));
        Ok(())
    }

    fn drop_audience_state(&mut self, profile: &ProfileId) -> Result<()> {
        self.audiences.put(profile, None);
        Ok(())
    }

    fn record_membership(&mut self, profile: &ProfileId, change: &MembershipChange) -> Result<()> {
        let p = profile.as_str();
        if change.entered {
            self.exec(
                "INSERT INTO audience_members (audience_id, profile_id, since_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (audience_id, profile_id) DO UPDATE SET since_ms = excluded.since_ms",
                &[&change.audience, &p, &change.at],
            )?;
        } else {
            self.exec(
                "DELETE FROM audience_members WHERE audience_id = $1 AND profile_id = $2",
                &[&change.audience, &p],
            )?;
        }
        self.exec(
            "INSERT INTO membership_changes (profile_id, audience_id, entered, at_ms, cause) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &p,
                &change.audience,
                &change.entered,
                &change.at,
                &serde_json::to_string(&change.cause)?,
            ],
        )?;
        Ok(())
    }

    fn forget_memberships(&mut self, profile: &ProfileId) -> Result<()> {
        self.exec(
            "DELETE FROM membership_changes WHERE profile_id = $1",
            &[&profile.as_str()],
        )?;
        Ok(())
    }

    fn group_members(&mut self, group_id: &str) -> Result<Vec<ProfileId>> {
        self.flush_timeline()?;
        Ok(self
            .rows(
                "SELECT DISTINCT profile_id FROM event_index WHERE group_id = $1 ORDER BY profile_id",
                &[&group_id],
            )?
            .iter()
            .map(|r| ProfileId(r.get(0)))
            .collect())
    }

    fn due_profiles(&mut self, now: i64, limit: usize) -> Result<Vec<ProfileId>> {
        self.flush_audiences()?;
        Ok(self
            .rows(
                "SELECT profile_id FROM audience_state WHERE due_ms <= $1 ORDER BY due_ms LIMIT $2",
                &[&now, &crate::sql_limit(limit)],
            )?
            .iter()
            .map(|r| ProfileId(r.get(0)))
            .collect())
    }

    fn event_seqs_named(
        &mut self,
        profile: &ProfileId,
        names: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<u64>> {
        self.flush_timeline()?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Ok(self
            .rows(
                "SELECT seq FROM event_index WHERE profile_id = $1 AND name = ANY($2) ORDER BY seq",
                &[&profile.as_str(), &names],
            )?
            .iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect())
    }

    fn named_events_after(
        &mut self,
        names: &std::collections::BTreeSet<String>,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<(ProfileId, Vec<u64>)>> {
        self.flush_timeline()?;
        let this = std::cell::RefCell::new(self);
        crate::named_events_after(
            names,
            after,
            limit,
            |name, after, limit| {
                Ok(this
                    .borrow_mut()
                    .rows(
                        "SELECT DISTINCT profile_id FROM event_index WHERE name = $1 AND profile_id > $2 \
                         ORDER BY profile_id LIMIT $3",
                        &[&name, &after, &crate::sql_limit(limit)],
                    )?
                    .iter()
                    .map(|r| r.get(0))
                    .collect())
            },
            |name, after, last| {
                Ok(this
                    .borrow_mut()
                    .rows(
                        "SELECT profile_id, seq FROM event_index \
                         WHERE name = $1 AND profile_id > $2 AND profile_id <= $3",
                        &[&name, &after, &last],
                    )?
                    .iter()
                    .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
                    .collect())
            },
        )
    }

    fn members_after(
        &mut self,
        audiences: &std::collections::BTreeSet<String>,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<ProfileId>> {
        let after = after.map_or("", ProfileId::as_str);
        let lists = audiences
            .iter()
            .map(|a| {
                Ok(self
                    .rows(
                        "SELECT profile_id FROM audience_members WHERE audience_id = $1 AND profile_id > $2 \
                         ORDER BY profile_id LIMIT $3",
                        &[a, &after, &crate::sql_limit(limit)],
                    )?
                    .iter()
                    .map(|r| r.get(0))
                    .collect())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(crate::first_of_union(lists, limit)
            .into_iter()
            .map(ProfileId)
            .collect())
    }
}

impl Audiences for PgState {
    fn definitions(&self) -> Result<Definitions> {
        // One statement, so one snapshot: read apart, a change committed in between paired the
        // old document with the new version, and the processor then kept the old catalog.
        let row = self.pool.get()?.row(
            "SELECT (SELECT value FROM settings WHERE key = 'definitions'), \
                    (SELECT value FROM meta WHERE key = 'definitions_version')",
            &[],
        )?;
        let (document, version) = row
            .map(|r| (r.get::<_, Option<String>>(0), r.get::<_, Option<i64>>(1)))
            .unwrap_or_default();
        let mut definitions: Definitions = document
            .map(|d| serde_json::from_str(&d))
            .transpose()?
            .unwrap_or_default();
        definitions.version = version.unwrap_or(0) as u64;
        Ok(definitions)
    }

    fn definitions_version(&self) -> Result<u64> {
        let mut conn = self.pool.get()?;
        let super::Conn { client, stmts } = &mut *conn;
        definitions_version(client, stmts)
    }

    fn change_definitions(
        &self,
        change: &mut dyn FnMut(&mut Definitions) -> bool,
    ) -> Result<Option<u64>> {
        let mut conn = self.pool.get()?;
        let super::Conn { client, stmts } = &mut *conn;
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&STATE_LOCK])?;
        let mut definitions: Definitions = tx
            .query_opt("SELECT value FROM settings WHERE key = 'definitions'", &[])?
            .map(|r| serde_json::from_str(r.get(0)))
            .transpose()?
            .unwrap_or_default();
        definitions.version = definitions_version(&mut tx, stmts)?;
        let before: Vec<String> = definitions.audiences.keys().cloned().collect();
        if !change(&mut definitions) {
            return Ok(None);
        }
        definitions.version += 1;
        for gone in before
            .iter()
            .filter(|a| !definitions.audiences.contains_key(*a))
        {
            tx.execute(
                "DELETE FROM audience_members WHERE audience_id = $1",
                &[gone],
            )?;
            tx.execute(
                "DELETE FROM membership_changes WHERE audience_id = $1",
                &[gone],
            )?;
        }
        tx.execute(
            "INSERT INTO settings (key, value) VALUES ('definitions', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&serde_json::to_string(&definitions)?],
        )?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('definitions_version', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&(definitions.version as i64)],
        )?;
        tx.commit()?;
        Ok(Some(definitions.version))
    }

    fn backfill_status(&self) -> Result<Option<Backfill>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row("SELECT value FROM settings WHERE key = 'backfill'", &[])?
            .map(|r| serde_json::from_str(r.get(0)))
            .transpose()?)
    }

    fn members(
        &self,
        audience: &str,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<(ProfileId, i64)>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                "SELECT profile_id, since_ms FROM audience_members \
                 WHERE audience_id = $1 AND profile_id > $2 ORDER BY profile_id LIMIT $3",
                &[
                    &audience,
                    &after.map_or("", |p| p.as_str()),
                    &crate::sql_limit(limit),
                ],
            )?
            .iter()
            .map(|r| (ProfileId(r.get(0)), r.get(1)))
            .collect())
    }

    fn member_count(&self, audience: &str) -> Result<u64> {
        let mut conn = self.pool.get()?;
        let row = conn.row(
            "SELECT count(*) FROM audience_members WHERE audience_id = $1",
            &[&audience],
        )?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0)) as u64)
    }

    fn audience_state_of(&self, profile: &ProfileId) -> Result<Option<AudienceState>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row(
                "SELECT state FROM audience_state WHERE profile_id = $1",
                &[&profile.as_str()],
            )?
            .map(|r| serde_json::from_str(r.get(0)))
            .transpose()?)
    }

    fn membership_history(
        &self,
        profile: &ProfileId,
        limit: usize,
    ) -> Result<Vec<MembershipChange>> {
        let mut conn = self.pool.get()?;
        conn.rows(
            "SELECT audience_id, entered, at_ms, cause FROM membership_changes \
             WHERE profile_id = $1 ORDER BY id DESC LIMIT $2",
            &[&profile.as_str(), &crate::sql_limit(limit)],
        )?
        .iter()
        .map(|r| change_from_row(r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
    }

    fn size_history(&self, audience: &str) -> Result<Vec<(i64, u64, u64)>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                "SELECT (at_ms / 86400000) * 86400000 AS day, \
                 count(*) FILTER (WHERE entered), count(*) FILTER (WHERE NOT entered) \
                 FROM membership_changes WHERE audience_id = $1 GROUP BY day ORDER BY day",
                &[&audience],
            )?
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get::<_, i64>(1) as u64,
                    r.get::<_, i64>(2) as u64,
                )
            })
            .collect())
    }
}

/// The stored definitions version, on a connection or inside a transaction.
pub(super) fn definitions_version<C: postgres::GenericClient>(
    c: &mut C,
    stmts: &mut super::Stmts,
) -> Result<u64> {
    Ok(super::row(
        c,
        stmts,
        "SELECT value FROM meta WHERE key = 'definitions_version'",
        &[],
    )?
    .map_or(0, |r| r.get::<_, i64>(0)) as u64)
}
