//! [`Partitioned`] on PostgreSQL: partition ownership, the routing table, and the sequencer's
//! and partitions' transactions.
//!
//! Ownership is advisory locks on the lease connection, so PostgreSQL releases a dead node's
//! partitions the moment its connection closes. Every node also holds a presence lock there;
//! `pg_locks` then tells each node, without a heartbeat table that could go stale, how many
//! nodes are alive and who owns which partition, and a node keeps only its share.

use std::collections::{BTreeMap, BTreeSet};

use herald_core::identity::ProfileId;
use postgres::Row;

use super::projection::LockMode;
use super::{connect, Lease, PgState};
use crate::{lock, Partitioned, Result, Routed, SequencerWork, StateTxn, StorageError};

/// Advisory lock classes (the first key of the two-key form) of partitions and of nodes.
const PARTITION_CLASS: i32 = 0x4852;
const PRESENCE_CLASS: i32 = 0x4853;

/// Whether any routed work waits (asked outside and inside state transactions).
pub(super) const ANY_ROUTED: &str = "SELECT EXISTS (SELECT 1 FROM routed)";

impl PgState {
    /// Record the partition count of a new cluster, or learn the one it was created with.
    pub fn claim_partition_count(&mut self, wanted: u32) -> Result<u32> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "INSERT INTO meta (key, value) VALUES ('partitions', $1) ON CONFLICT DO NOTHING",
            &[&i64::from(wanted.max(1))],
        )?;
        let stored = conn
            .row("SELECT value FROM meta WHERE key = 'partitions'", &[])?
            .map_or(1, |r| r.get::<_, i64>(0)) as u32;
        if stored != wanted {
            tracing::warn!(
                stored,
                wanted,
                "the cluster was created with another partition count; using the stored one"
            );
        }
        self.partitions = stored;
        Ok(stored)
    }

    /// The lease connection, reconnected if it died (with the loss of every lock it held).
    pub(super) fn live_lease<'l>(&self, lease: &'l mut Option<Lease>) -> Result<&'l mut Lease> {
        if let Some(l) = lease.as_mut() {
            if l.client.simple_query("SELECT 1").is_err() {
                if l.held || !l.partitions.is_empty() {
                    tracing::warn!("lost the processing lease and partitions (connection closed)");
                }
                *lease = None;
            }
        }
        match lease {
            Some(l) => Ok(l),
            None => Ok(lease.insert(Lease::new(connect(&self.pool.url)?))),
        }
    }
}

fn routed_from_row(r: &Row) -> Result<Routed> {
    Ok(Routed {
        seq: r.get::<_, i64>(0) as u64,
        profile: ProfileId(r.get(1)),
        partition: r.get::<_, i32>(2) as u32,
        work: serde_json::from_str(r.get(3))?,
        waits: r
            .get::<_, Vec<i32>>(4)
            .into_iter()
            .map(|p| p as u32)
            .collect(),
        before: r.get::<_, i64>(5) as u64,
    })
}

impl Partitioned for PgState {
    fn partition_count(&self) -> u32 {
        self.partitions
    }

    fn balance_partitions(&self) -> Result<Vec<u32>> {
        let mut guard = lock(&self.lease);
        let l = self.live_lease(&mut guard)?;
        while !l.present {
            let key = (uuid::Uuid::new_v4().as_u128() as i32) & i32::MAX;
            l.present = l
                .client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, $2)",
                    &[&PRESENCE_CLASS, &key],
                )?
                .get(0);
        }
        let me: i32 = l.client.query_one("SELECT pg_backend_pid()", &[])?.get(0);
        let rows = l.client.query(
            "SELECT classid::bigint, objid::bigint, pid FROM pg_locks \
             WHERE locktype = 'advisory' AND granted AND objsubid = 2 \
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND classid::bigint IN ($1, $2)",
            &[&i64::from(PARTITION_CLASS), &i64::from(PRESENCE_CLASS)],
        )?;
        let mut nodes = BTreeSet::new();
        let mut owners = BTreeMap::new();
        for r in &rows {
            let (class, key, pid): (i64, i64, i32) = (r.get(0), r.get(1), r.get(2));
            if class == i64::from(PRESENCE_CLASS) {
                nodes.insert(pid);
            } else {
                owners.insert(key as u32, pid);
            }
        }
        let count = self.partitions;
        let share = count.div_ceil(nodes.len().max(1) as u32) as usize;
        l.partitions = owners
            .iter()
            .filter(|(_, pid)| **pid == me)
            .map(|(p, _)| *p)
            .collect();
        while l.partitions.len() > share {
            let Some(extra) = l.partitions.pop_last() else {
                break;
            };
            l.client.execute(
                "SELECT pg_advisory_unlock($1, $2)",
                &[&PARTITION_CLASS, &(extra as i32)],
            )?;
            tracing::info!(partition = extra, "gave a partition up to another node");
        }
        for p in 0..count {
            if l.partitions.len() >= share {
                break;
            }
            if owners.contains_key(&p) {
                continue;
            }
            let taken: bool = l
                .client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, $2)",
                    &[&PARTITION_CLASS, &(p as i32)],
                )?
                .get(0);
            if taken {
                tracing::info!(partition = p, "took a partition");
                l.partitions.insert(p);
            }
        }
        Ok(l.partitions.iter().copied().collect())
    }

    fn release_partitions(&self) {
        if let Some(l) = lock(&self.lease).as_mut() {
            for p in std::mem::take(&mut l.partitions) {
                let _ = l.client.execute(
                    "SELECT pg_advisory_unlock($1, $2)",
                    &[&PARTITION_CLASS, &(p as i32)],
                );
            }
        }
    }

    fn owned_partitions(&self) -> Vec<u32> {
        match lock(&self.lease).as_ref() {
            Some(l) if !l.client.is_closed() => l.partitions.iter().copied().collect(),
            _ => Vec::new(),
        }
    }

    fn in_sequencer_transaction(&self, f: &mut SequencerWork<'_>) -> Result<()> {
        let mut routed = Vec::new();
        self.transaction(LockMode::Shared, &mut |txn| {
            routed.clear();
            f(txn, &mut routed)?;
            if routed.is_empty() {
                return Ok(());
            }
            let mut columns = (
                Vec::with_capacity(routed.len()),
                Vec::with_capacity(routed.len()),
                Vec::with_capacity(routed.len()),
                Vec::with_capacity(routed.len()),
                Vec::with_capacity(routed.len()),
                Vec::with_capacity(routed.len()),
                Vec::with_capacity(routed.len()),
            );
            for r in &routed {
                let (seq, kind, profile) = r.key();
                columns.0.push(seq as i64);
                columns.1.push(i16::from(kind));
                columns.2.push(profile.to_owned());
                columns.3.push(r.partition as i32);
                columns.4.push(serde_json::to_string(&r.work)?);
                // A PostgreSQL array literal: unnest cannot take an array of arrays.
                let waits: Vec<String> = r.waits.iter().map(u32::to_string).collect();
                columns.5.push(format!("{{{}}}", waits.join(",")));
                columns.6.push(r.before as i64);
            }
            txn.exec(
                "INSERT INTO routed (seq, kind, profile_id, partition, work, waits, before) \
                 SELECT s, k, p, n, w, a::integer[], b FROM unnest($1::bigint[], $2::smallint[], \
                   $3::text[], $4::integer[], $5::text[], $6::text[], $7::bigint[]) AS t(s, k, p, n, w, a, b)",
                &[
                    &columns.0, &columns.1, &columns.2, &columns.3, &columns.4, &columns.5,
                    &columns.6,
                ],
            )?;
            Ok(())
        })
    }

    fn routed(&self, partitions: &[u32], limit: usize) -> Result<Vec<Routed>> {
        let partitions: Vec<i32> = partitions.iter().map(|p| *p as i32).collect();
        let mut conn = self.pool.get()?;
        conn.rows(
            "SELECT seq, profile_id, partition, work, waits, before FROM routed \
             WHERE partition = ANY($1) ORDER BY seq, kind, profile_id LIMIT $2",
            &[&partitions, &crate::sql_limit(limit)],
        )?
        .iter()
        .map(routed_from_row)
        .collect()
    }

    fn pending_before(&self, partitions: &[u32], before: u64) -> Result<bool> {
        let partitions: Vec<i32> = partitions.iter().map(|p| *p as i32).collect();
        let mut conn = self.pool.get()?;
        Ok(conn
            .row(
                "SELECT EXISTS (SELECT 1 FROM routed WHERE partition = ANY($1) AND seq < $2)",
                &[&partitions, &(before as i64)],
            )?
            .is_some_and(|r| r.get(0)))
    }

    fn pending(&self) -> Result<bool> {
        let mut conn = self.pool.get()?;
        Ok(conn.row(ANY_ROUTED, &[])?.is_some_and(|r| r.get(0)))
    }

    fn in_partition_transaction(
        &self,
        done: &[Routed],
        definitions: u64,
        f: &mut dyn FnMut(&mut dyn StateTxn) -> Result<()>,
    ) -> Result<()> {
        let (mut seqs, mut kinds, mut profiles) = (Vec::new(), Vec::new(), Vec::new());
        for r in done {
            let (seq, kind, profile) = r.key();
            seqs.push(seq as i64);
            kinds.push(i16::from(kind));
            profiles.push(profile.to_owned());
        }
        self.transaction(LockMode::Shared, &mut |txn| {
            // First, so that a second owner of the partition (during a handover) waits here
            // for the first one's commit and then finds its work gone.
            let removed = txn.exec(
                "DELETE FROM routed WHERE (seq, kind, profile_id) IN \
                 (SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::text[]))",
                &[&seqs, &kinds, &profiles],
            )?;
            if removed != done.len() as u64 {
                return Err(StorageError::Conflict(format!(
                    "{} of {} routed pieces of work were already applied",
                    done.len() as u64 - removed,
                    done.len()
                )));
            }
            // Definitions change under the exclusive state lock: what this reads holds until
            // the commit.
            let stored = super::audiences::definitions_version(&mut txn.tx, txn.stmts)?;
            if stored != definitions {
                return Err(StorageError::Conflict(format!(
                    "the audience definitions moved from version {definitions} to {stored}"
                )));
            }
            f(txn)
        })
    }

    fn hold_sequencer(&self, until_ms: Option<i64>) -> Result<()> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "INSERT INTO meta (key, value) VALUES ('sequencer_held_until', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&until_ms.unwrap_or(0)],
        )?;
        Ok(())
    }

    fn sequencer_held_until(&self) -> Result<i64> {
        Ok(self.meta("sequencer_held_until")? as i64)
    }

    fn sequenced(&self) -> Result<u64> {
        self.meta("cursor")
    }

    fn backlog(&self) -> Result<Vec<(u32, u64)>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                "SELECT partition, count(*) FROM routed GROUP BY partition ORDER BY partition",
                &[],
            )?
            .iter()
            .map(|r| (r.get::<_, i32>(0) as u32, r.get::<_, i64>(1) as u64))
            .collect())
    }
}
