//! `herald verify`: rebuild the projection from the log in memory and compare it with the
//! stored one: profiles, identities, groups, attributions, merges, refusals, the admin
//! overrides (no profile holds a suppressed identifier or both sides of a separation) and
//! audience state (memberships and computed traits, and the member lists).

use std::collections::{BTreeSet, HashSet};
use std::fmt::Debug;
use std::path::Path;

use herald_core::audience::catalog::Changes;
use herald_core::audience::{AudienceState, Cause};
use herald_core::identity::{IdentityRules, ProfileId};
use herald_core::memory::{MemoryProjection, Snapshot};
use herald_core::projection::replay;
use herald_storage::cluster::{ClusterConfig, ClusterStore};
use herald_storage::jetstream::JetStreamConfig;
use herald_storage::sqlite::{SqliteOptions, SqliteStore};
use herald_storage::{StorageError, Store};

/// Differences listed at most (the total is always counted).
const SHOWN: usize = 10;

/// `cluster`: the database URL, bus URL and cluster name of a cluster to verify instead of the
/// data directory.
pub fn run(
    data_dir: &Path,
    cluster: Option<(String, String, String)>,
    rules: Option<&Path>,
) -> anyhow::Result<()> {
    let rules = crate::serve::load_rules(rules)?;
    // The JetStream client runs on this runtime; declared first, it outlives the store.
    let runtime;
    let store: Box<dyn Store> = match cluster {
        None => Box::new(SqliteStore::open(data_dir, SqliteOptions::default())?),
        Some((database_url, url, name)) => {
            runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?;
            Box::new(ClusterStore::connect(
                runtime.handle().clone(),
                &ClusterConfig {
                    database_url,
                    bus: JetStreamConfig {
                        url,
                        name,
                        duplicate_window: std::time::Duration::from_secs(86_400),
                        replicas: 1,
                    },
                    partitions: herald_storage::cluster::DEFAULT_PARTITIONS,
                },
            )?)
        }
    };
    let store = store.as_ref();
    caught_up(store)?;
    let (rebuilt, events) = rebuild(store, &rules)?;
    let live = store.snapshot()?;
    let mut report = Report::default();
    compare_projection(&mut report, &live, &rebuilt.snapshot());
    compare_refusals(&mut report, store, &live, &rebuilt)?;
    check_overrides(&mut report, &live, &rebuilt);
    let audiences = compare_audiences(&mut report, store, &live, rebuilt)?;
    if !report.differences.is_empty() {
        anyhow::bail!(
            "MISMATCH: {} difference(s) between the stored state and a rebuild from {events} events:\n{}",
            report.differences.len(),
            report.shown()
        );
    }
    println!(
        "ok: {} profiles, {} groups, {events} events, {} refusals, {} audience memberships \
         ({} profiles waiting on a due timer not compared): the stored state equals a rebuild from the log",
        live.profiles.len(),
        live.groups.len(),
        report.refusals,
        audiences.memberships,
        audiences.pending
    );
    Ok(())
}

/// Verify compares a finished projection: the processor must have applied the whole log,
/// finished its deletions and its audience backfill.
fn caught_up(store: &dyn Store) -> anyhow::Result<()> {
    let head = store.head()?;
    let processed = store.processed_cursor()?;
    if processed < head {
        anyhow::bail!("the processor is behind ({processed} of {head}); run verify on a stopped, caught-up server");
    }
    if !store.pending_log_deletions()?.is_empty() {
        anyhow::bail!("a deletion is not finished in the log; start the server once to finish it, then verify");
    }
    if let Some(backfill) = store.backfill_status()? {
        if backfill.finished_at.is_none() {
            anyhow::bail!(
                "an audience backfill is not finished; let the server finish it, then verify"
            );
        }
    }
    Ok(())
}

/// The projection rebuilt from the log with the stored admin overrides, leaving quarantined
/// events out (they were never applied). Returns it with the number of events replayed.
fn rebuild(store: &dyn Store, rules: &IdentityRules) -> anyhow::Result<(MemoryProjection, usize)> {
    let mut rebuilt = MemoryProjection::default();
    let (separations, suppressed) = store.admin_overrides()?;
    rebuilt.separations = separations;
    rebuilt.suppressed = suppressed.into_iter().collect();
    let mut quarantined = HashSet::new();
    let mut after = 0;
    while let Some(last) = {
        let page = store.quarantined(after, 10_000)?;
        quarantined.extend(page.iter().map(|q| q.seq));
        page.last().map(|q| q.seq)
    } {
        after = last;
    }
    let mut after = 0;
    let mut total = 0;
    loop {
        let batch = store.read_after(after, 10_000)?;
        let Some(last) = batch.last() else {
            break;
        };
        let mut events = batch.events;
        events.retain(|(seq, _)| !quarantined.contains(seq));
        let Ok(_) = replay(&mut rebuilt, &events, rules);
        total += events.len();
        after = last;
    }
    Ok((rebuilt, total))
}

#[derive(Default)]
struct Report {
    differences: Vec<String>,
    refusals: usize,
}

impl Report {
    fn differ(&mut self, what: impl Into<String>) {
        self.differences.push(what.into());
    }

    /// Compare one named thing, noting both sides when they differ.
    fn compare<T: PartialEq + Debug>(&mut self, what: &str, stored: &T, rebuilt: &T) {
        if stored != rebuilt {
            self.differ(format!("{what}: stored {stored:?}, rebuilt {rebuilt:?}"));
        }
    }

    fn shown(&self) -> String {
        let mut lines: Vec<String> = self
            .differences
            .iter()
            .take(SHOWN)
            .map(|d| format!("  - {d}"))
            .collect();
        if self.differences.len() > SHOWN {
            lines.push(format!("  ... and {} more", self.differences.len() - SHOWN));
        }
        lines.join("\n")
    }
}

/// Profiles (with their identifiers and state), groups, attributions and merges.
fn compare_projection(report: &mut Report, live: &Snapshot, rebuilt: &Snapshot) {
    let ids: BTreeSet<&ProfileId> = live
        .profiles
        .keys()
        .chain(rebuilt.profiles.keys())
        .collect();
    for id in ids {
        match (live.profiles.get(id), rebuilt.profiles.get(id)) {
            (Some(stored), Some(again)) => {
                report.compare(&format!("profile {id}: creation"), &stored.0, &again.0);
                report.compare(&format!("profile {id}: identifiers"), &stored.1, &again.1);
                report.compare(&format!("profile {id}: state"), &stored.2, &again.2);
            }
            (Some(_), None) => report.differ(format!("profile {id}: stored, not in the rebuild")),
            (None, _) => report.differ(format!("profile {id}: in the rebuild, not stored")),
        }
    }
    let groups: BTreeSet<&String> = live.groups.keys().chain(rebuilt.groups.keys()).collect();
    for g in groups {
        report.compare(
            &format!("group {g}"),
            &live.groups.get(g),
            &rebuilt.groups.get(g),
        );
    }
    let seqs: BTreeSet<&u64> = live
        .attributions
        .keys()
        .chain(rebuilt.attributions.keys())
        .collect();
    for seq in seqs {
        report.compare(
            &format!("the event at {seq}: its profile"),
            &live.attributions.get(seq),
            &rebuilt.attributions.get(seq),
        );
    }
    for merge in live.merges.symmetric_difference(&rebuilt.merges) {
        let side = if live.merges.contains(merge) {
            "stored only"
        } else {
            "rebuilt only"
        };
        report.differ(format!("merge {merge:?}: {side}"));
    }
}

/// The links the rules refused, per profile (they tie histories together for unmerges and
/// deletions).
fn compare_refusals(
    report: &mut Report,
    store: &dyn Store,
    live: &Snapshot,
    rebuilt: &MemoryProjection,
) -> Result<(), StorageError> {
    for id in live.profiles.keys() {
        let mut stored = store.refusals(id)?;
        let mut again: Vec<_> = rebuilt
            .refusals
            .iter()
            .filter(|(p, _)| p == id)
            .map(|(_, r)| r.clone())
            .collect();
        let key = |r: &herald_core::projection::RefusalRecord| {
            (r.seq, r.identifier.clone(), format!("{:?}", r.reason))
        };
        stored.sort_by_key(key);
        again.sort_by_key(key);
        report.refusals += stored.len();
        report.compare(&format!("profile {id}: refusals"), &stored, &again);
    }
    Ok(())
}

/// No profile holds a suppressed identifier (a deleted person's) or identifiers of both sides
/// of a separation (an undone merge).
fn check_overrides(report: &mut Report, live: &Snapshot, overrides: &MemoryProjection) {
    for (id, (_, identifiers, _)) in &live.profiles {
        for held in identifiers.intersection(&overrides.suppressed) {
            report.differ(format!(
                "profile {id} holds the suppressed identifier {held}"
            ));
        }
        for separation in &overrides.separations {
            if !separation.left.is_disjoint(identifiers)
                && !separation.right.is_disjoint(identifiers)
            {
                report.differ(format!(
                    "profile {id} holds both sides of a separation ({:?} | {:?})",
                    separation.left, separation.right
                ));
            }
        }
    }
}

#[derive(Default)]
struct AudienceCounts {
    memberships: usize,
    /// Profiles whose stored state waits on a timer that is already due: the processor
    /// stopped before firing it, so their stored memberships may be a moment old.
    pending: usize,
}

/// Every profile's memberships and computed traits against an evaluation of the rebuilt
/// profile from its whole history, now, and the member lists against the states. A profile
/// whose stored state is not yet due is valid until its due time, so the two must agree.
fn compare_audiences(
    report: &mut Report,
    store: &dyn Store,
    live: &Snapshot,
    mut rebuilt: MemoryProjection,
) -> anyhow::Result<AudienceCounts> {
    let definitions = store.definitions()?;
    let catalog = herald_pipeline::audiences::catalog_of(&definitions)
        .map_err(|e| anyhow::anyhow!("the stored audience definitions do not compile: {e}"))?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut counts = AudienceCounts::default();
    // The rebuilt projection cannot fail, so a failed read of the log is kept here and
    // reported after the evaluation that asked for it.
    let mut failed: Option<StorageError> = None;
    let mut load = |seqs: &[u64]| {
        Ok(store.load(seqs).unwrap_or_else(|e| {
            failed.get_or_insert(e);
            Vec::new()
        }))
    };
    let mut members_of: std::collections::BTreeMap<&str, BTreeSet<ProfileId>> = definitions
        .audiences
        .keys()
        .map(|a| (a.as_str(), BTreeSet::new()))
        .collect();
    for id in live.profiles.keys() {
        let stored = store.audience_state_of(id)?.unwrap_or_default();
        for audience in &stored.members {
            if let Some(members) = members_of.get_mut(audience.as_str()) {
                members.insert(id.clone());
            }
        }
        counts.memberships += stored.members.len();
        if stored.due().is_some_and(|due| due <= now) {
            counts.pending += 1;
            continue;
        }
        let Ok(()) = herald_core::audience::live::refresh_stored(
            &mut rebuilt,
            &catalog,
            id,
            now,
            Cause::Backfill,
            Changes::all(),
            &mut load,
        );
        let again: AudienceState = rebuilt.audience_states.get(id).cloned().unwrap_or_default();
        report.compare(
            &format!("profile {id}: audiences"),
            &stored.members,
            &again.members,
        );
        report.compare(
            &format!("profile {id}: computed traits"),
            &stored.computed,
            &again.computed,
        );
    }
    if let Some(e) = failed {
        return Err(e.into());
    }
    for (audience, from_states) in members_of {
        let mut listed = BTreeSet::new();
        let mut after: Option<ProfileId> = None;
        loop {
            let page = store.members(audience, after.as_ref(), 10_000)?;
            let Some((last, _)) = page.last() else {
                break;
            };
            after = Some(last.clone());
            listed.extend(page.into_iter().map(|(p, _)| p));
        }
        report.compare(
            &format!("audience {audience}: member list"),
            &listed,
            &from_states,
        );
    }
    Ok(counts)
}
