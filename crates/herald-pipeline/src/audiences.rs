//! Audiences on the processor: the catalog built from the stored definitions, backfills after
//! they change, and durable timers.
//!
//! The evaluator itself is `herald_core::audience`; this module decides *when* it runs: for
//! every event inside the processing transaction (see `processor.rs`), for every profile whose
//! timer is due, and for every profile, chunk by chunk, after the definitions changed.

use std::collections::BTreeSet;
use std::sync::Arc;

use herald_core::audience::json::{computed_from_json, from_json};
use herald_core::audience::live::{backfill_scoped, refresh_stored, Cause};
use herald_core::audience::{changed_definitions, AudienceDef, Catalog, Changes};
use herald_storage::{Backfill, Definitions, StateTxn, StorageError, Store};

/// Profiles re-evaluated per backfill transaction.
const BACKFILL_CHUNK: usize = 500;
/// Profiles of a scoped backfill looked at per transaction (most need no re-evaluation).
const SCOPED_CHUNK: usize = 2000;
/// Earlier catalogs a backfill record keeps at most: a scoped backfill keeps those of the
/// profiles it did not visit, so past this many the next one visits every profile (and
/// forgets them).
const MAX_BUILDS: usize = 32;
/// Due timers handled per transaction.
const TIMER_CHUNK: usize = 500;

/// Build the catalog of a set of definitions; an error names what is wrong.
pub fn catalog_of(definitions: &Definitions) -> Result<Catalog, String> {
    let computed = definitions
        .computed
        .values()
        .map(|c| {
            computed_from_json(&c.definition)
                .map_err(|e| format!("computed trait `{}`: {e}", c.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let audiences = definitions
        .audiences
        .values()
        .map(|a| {
            from_json(&a.rule)
                .map(|rule| AudienceDef {
                    id: a.id.clone(),
                    rule,
                })
                .map_err(|e| format!("audience `{}`: {e}", a.id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Catalog::new(computed, audiences).map_err(|e| e.to_string())
}

/// The processor's view of the definitions.
pub struct AudienceEngine {
    version: u64,
    catalog: Arc<Catalog>,
    /// Whether a backfill may be unfinished; `None` until the stored status was read once.
    backfill_pending: Option<bool>,
    /// When due timers were last looked for.
    timers_checked: Option<std::time::Instant>,
}

/// How often due timers are looked for at most (each look is a transaction).
const TIMER_CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

impl Default for AudienceEngine {
    fn default() -> Self {
        AudienceEngine {
            version: 0,
            catalog: Arc::new(Catalog::default()),
            backfill_pending: None,
            timers_checked: None,
        }
    }
}

impl AudienceEngine {
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.clone()
    }

    /// The definitions version the catalog was built from.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Reload the catalog when the stored definitions changed, and start a backfill for the
    /// new version (unless one for it was already started, by this node before a restart or
    /// by another node).
    pub fn sync(&mut self, store: &dyn Store, now_ms: i64) -> Result<(), StorageError> {
        if self.backfill_pending.is_none() {
            self.backfill_pending = Some(
                store
                    .backfill_status()?
                    .is_some_and(|b| b.finished_at.is_none()),
            );
        }
        let version = store.definitions_version()?;
        if version == self.version {
            return Ok(());
        }
        self.backfill_pending = Some(true);
        let definitions = store.definitions()?;
        let mut catalog = match catalog_of(&definitions) {
            Ok(catalog) => catalog,
            Err(e) => {
                // The API validates every change, so this is a definitions document written by
                // something else; keep the last good catalog.
                tracing::error!(error = %e, version, "invalid audience definitions; keeping the previous ones");
                (*self.catalog).clone()
            }
        };
        self.version = definitions.version;
        let own = (catalog.fingerprint().to_owned(), catalog.fact_reaches());
        let hashes = catalog.definition_hashes();
        store.in_transaction(&mut |txn: &mut dyn StateTxn| {
            let previous = txn.backfill()?;
            if let Some(started) = previous
                .as_ref()
                .filter(|b| b.version >= definitions.version)
            {
                catalog.set_earlier_builds(&started.builds);
                return Ok(());
            }
            // What changed since profiles were last evaluated: since the previous definitions,
            // and while the previous backfill is unfinished, what it had still to apply.
            let changed = previous.as_ref().and_then(|p| {
                let before = p.definitions.as_ref()?;
                let unapplied = match p.finished_at {
                    Some(_) => BTreeSet::new(),
                    None => p.changed.clone()?,
                };
                Some(&unapplied | &changed_definitions(before, &hashes))
            });
            // Profiles may still be built for the catalogs the previous backfill knew of.
            let mut builds = previous
                .as_ref()
                .map(|b| b.builds.clone())
                .unwrap_or_default();
            builds.insert(own.0.clone(), own.1.clone());
            catalog.set_earlier_builds(&builds);
            // Whether the change can affect only some profiles: then only those are visited
            // (with what an unfinished previous backfill still had to visit).
            let scope = changed
                .as_ref()
                .filter(|_| builds.len() <= MAX_BUILDS)
                .and_then(|changed| {
                    let previous = previous.as_ref()?;
                    let scope = catalog.backfill_scope(previous.definitions.as_ref()?, changed)?;
                    match previous.finished_at {
                        Some(_) => Some(scope),
                        None => Some(previous.scope.clone()?.union(scope)),
                    }
                });
            let total = match &scope {
                Some(scope) => txn.scope_size(scope)?,
                None => txn.profile_count()?,
            };
            let backfill = Backfill {
                version: definitions.version,
                cursor: None,
                done: 0,
                total,
                started_at: chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default(),
                finished_at: None,
                builds,
                definitions: Some(hashes.clone()),
                changed,
                scope,
            };
            tracing::info!(
                version = backfill.version,
                profiles = backfill.total,
                scoped = backfill.scope.is_some(),
                "audience backfill started"
            );
            txn.set_backfill(&backfill)
        })?;
        self.catalog = Arc::new(catalog);
        Ok(())
    }

    /// Re-evaluate the next chunk of profiles of an unfinished backfill. Returns whether there
    /// was anything to do.
    pub fn backfill_step(
        &mut self,
        store: &Arc<dyn Store>,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        if self.backfill_pending == Some(false) {
            return Ok(false);
        }
        let (catalog, version) = (self.catalog.clone(), self.version);
        let loader = store.clone();
        let mut worked = false;
        let mut finished = false;
        let mut builds = None;
        store.in_transaction(&mut |txn: &mut dyn StateTxn| {
            worked = false;
            finished = true;
            let Some(mut backfill) = txn.backfill()? else {
                return Ok(());
            };
            if backfill.finished_at.is_some() {
                return Ok(());
            }
            finished = false;
            // Started for newer definitions by another engine (the partition thread, another
            // node): it must be run with their catalog, which the next `sync` loads.
            if backfill.version != version {
                return Ok(());
            }
            let changes = match &backfill.changed {
                Some(definitions) => Changes {
                    definitions: definitions.clone(),
                    ..Changes::default()
                },
                None => Changes::all(),
            };
            let load = &mut |s: &[u64]| loader.load(s);
            let (profiles, last) = match &backfill.scope {
                Some(scope) => {
                    let step = backfill_scoped(
                        txn,
                        &catalog,
                        scope,
                        backfill.cursor.as_ref(),
                        SCOPED_CHUNK,
                        now_ms,
                        &changes,
                        load,
                    )?;
                    (step.looked_at, step.finished)
                }
                None => {
                    let profiles = txn.profiles_after(backfill.cursor.as_ref(), BACKFILL_CHUNK)?;
                    for profile in &profiles {
                        refresh_stored(
                            txn,
                            &catalog,
                            profile,
                            now_ms,
                            Cause::Backfill,
                            changes.clone(),
                            load,
                        )?;
                    }
                    let last = profiles.len() < BACKFILL_CHUNK;
                    (profiles, last)
                }
            };
            backfill.done += profiles.len() as u64;
            backfill.total = backfill.total.max(backfill.done);
            backfill.cursor = profiles.last().cloned().or(backfill.cursor);
            if last {
                finished = true;
                backfill.finished_at = chrono::DateTime::from_timestamp_millis(now_ms);
                backfill.total = backfill.done;
                if backfill.scope.is_some() {
                    // The profiles it did not visit hold what a build for this catalog holds
                    // (see `Catalog::backfill_scope`), whichever catalog they were built for.
                    let own = catalog.fact_reaches();
                    for reaches in backfill.builds.values_mut() {
                        reaches.clone_from(&own);
                    }
                } else {
                    // Every profile is built for this catalog now.
                    backfill
                        .builds
                        .retain(|fingerprint, _| fingerprint == catalog.fingerprint());
                }
                builds = Some(backfill.builds.clone());
                tracing::info!(
                    version = backfill.version,
                    profiles = backfill.done,
                    "audience backfill finished"
                );
            }
            worked = true;
            txn.set_backfill(&backfill)
        })?;
        if finished {
            self.backfill_pending = Some(false);
        }
        if let Some(builds) = builds {
            let mut catalog = (*self.catalog).clone();
            catalog.set_earlier_builds(&builds);
            self.catalog = Arc::new(catalog);
        }
        Ok(worked)
    }

    /// Re-evaluate profiles whose timer is due. Returns how many.
    pub fn fire_timers(
        &mut self,
        store: &Arc<dyn Store>,
        now_ms: i64,
    ) -> Result<usize, StorageError> {
        if self.catalog.is_empty()
            || self
                .timers_checked
                .is_some_and(|t| t.elapsed() < TIMER_CHECK_EVERY)
        {
            return Ok(0);
        }
        self.timers_checked = Some(std::time::Instant::now());
        let catalog = self.catalog.clone();
        let loader = store.clone();
        let mut fired = 0;
        loop {
            let mut chunk = 0;
            store.in_transaction(&mut |txn: &mut dyn StateTxn| {
                let due = txn.due_profiles(now_ms, TIMER_CHUNK)?;
                chunk = due.len();
                for profile in &due {
                    refresh_stored(
                        txn,
                        &catalog,
                        profile,
                        now_ms,
                        Cause::Time,
                        Changes::default(),
                        &mut |s: &[u64]| loader.load(s),
                    )?;
                }
                Ok(())
            })?;
            fired += chunk;
            if chunk < TIMER_CHUNK {
                break;
            }
        }
        if fired > 0 {
            metrics::counter!("herald_audience_timers_fired_total").increment(fired as u64);
        }
        Ok(fired)
    }
}

#[cfg(test)]
mod tests {
    use herald_core::audience::json::to_json;
    use herald_core::audience::text::parse;
    use herald_storage::{AudienceRecord, SqliteStore};

    use super::*;

    fn define(store: &dyn Store, id: &str, rule: &str) {
        let now = herald_storage::clock::now();
        store
            .change_definitions(&mut |d| {
                let record = AudienceRecord {
                    id: id.into(),
                    name: id.into(),
                    description: None,
                    rule: to_json(&parse(rule).unwrap()),
                    created_at: now,
                    updated_at: now,
                };
                d.audiences.insert(id.into(), record);
                true
            })
            .unwrap();
    }

    /// Two engines share a store (a cluster node's sequencer and partition threads, or two
    /// nodes): one that has not loaded the newest definitions must not run, and so finish,
    /// the backfill the other started for them, since it lacks their catalog.
    #[test]
    fn a_backfill_runs_only_with_the_catalog_it_was_started_for() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(dir.path(), Default::default()).unwrap());
        let (mut behind, mut ahead) = (AudienceEngine::default(), AudienceEngine::default());
        // `behind` loads the first definitions and starts their backfill...
        define(&*store, "a", r#"trait plan = "pro""#);
        behind.sync(&*store, 0).unwrap();
        assert_eq!(store.backfill_status().unwrap().unwrap().version, 1);
        // ...while `ahead` already loads the next ones.
        define(&*store, "b", r#"trait plan = "free""#);
        ahead.sync(&*store, 0).unwrap();
        let started = store.backfill_status().unwrap().unwrap();
        assert_eq!(started.version, 2);
        assert!(!behind.backfill_step(&store, 0).unwrap());
        assert_eq!(store.backfill_status().unwrap().unwrap(), started);

        behind.sync(&*store, 0).unwrap();
        while behind.backfill_step(&store, 0).unwrap() {}
        let finished = store.backfill_status().unwrap().unwrap();
        assert_eq!(finished.version, 2);
        assert!(finished.finished_at.is_some());
    }
}
