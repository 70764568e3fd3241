//! The partition thread of a cluster node: it applies the work the sequencer routed to the
//! partitions this node owns (profile and group states, audiences, stages), in position order,
//! while the processor thread sequences. See docs/cluster.md.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use herald_core::audience::live::{on_group_event, on_profile_event};
use herald_core::event::Event;
use herald_core::identity::ProfileId;
use herald_core::projection::{apply_states, Applied};
use herald_storage::{Partitioned, Quarantined, Routed, StateTxn, StorageError, Store, Work};

use crate::audiences::AudienceEngine;
use crate::notify::LogNotifier;
use crate::processor::{now_ms, ProcessorConfig, Stage, BLOCKED_WAIT, RETRY_AFTER_ERROR};
use crate::quarantine::{guarded, is_poison, ProcessorHealth};

/// Events this node's sequencer routed lately to partitions this node owns, so that its
/// partition thread need not read them back from the log. A cache only: a miss reads the log.
#[derive(Default)]
pub(crate) struct RecentEvents {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// By position, with the partition each was routed to.
    events: BTreeMap<u64, (u32, Event)>,
    /// The partitions this node owns (as its partition thread last balanced them).
    owned: Vec<u32>,
}

/// Events kept at most (more than the sequencer's backlog limit, so that a node sequencing
/// alone always finds them).
const RECENT_EVENTS: usize = 16_384;

impl RecentEvents {
    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keep the events routed to a partition this node owns (`partitions`: where each was
    /// routed).
    pub(crate) fn remember(&self, events: Vec<(u64, Event)>, partitions: &HashMap<u64, u32>) {
        let mut kept = self.lock();
        for (seq, event) in events {
            if let Some(&p) = partitions.get(&seq) {
                if kept.owned.contains(&p) {
                    kept.events.insert(seq, (p, event));
                }
            }
        }
        while kept.events.len() > RECENT_EVENTS {
            kept.events.pop_first();
        }
    }

    /// This node owns these partitions now: forget events of the others.
    fn owned(&self, owned: &[u32]) {
        let mut kept = self.lock();
        kept.owned = owned.to_vec();
        kept.events.retain(|_, (p, _)| owned.contains(p));
    }

    /// The events at these positions that are here, and the positions that are not.
    fn take(&self, seqs: &[u64]) -> (HashMap<u64, Event>, Vec<u64>) {
        let mut kept = self.lock();
        let mut found = HashMap::with_capacity(seqs.len());
        let mut missing = Vec::new();
        for &seq in seqs {
            match kept.events.remove(&seq) {
                Some((_, event)) => {
                    found.insert(seq, event);
                }
                None => missing.push(seq),
            }
        }
        (found, missing)
    }
}

/// What one pass over this node's partitions did.
#[derive(Debug, PartialEq, Eq)]
enum PartitionPass {
    /// Nothing was routed to them.
    Idle,
    /// It applied work.
    Applied,
    /// The next piece of work waits for a partition of another node.
    Blocked,
}

pub(crate) struct PartitionWorker {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) notifier: Arc<LogNotifier>,
    pub(crate) config: ProcessorConfig,
    pub(crate) stages: Vec<Box<dyn Stage>>,
    pub(crate) audiences: AudienceEngine,
    pub(crate) recent: Arc<RecentEvents>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) health: Arc<ProcessorHealth>,
    /// After a batch failed for good: how many more pieces of work to apply one at a time,
    /// so that the one at fault is found and quarantined alone.
    pub(crate) isolating: usize,
}

impl PartitionWorker {
    pub(crate) fn run(&mut self) {
        let store = self.store.clone();
        let Some(parts) = store.partitioned() else {
            return;
        };
        let mut owned: Vec<u32> = Vec::new();
        let mut balanced: Option<Instant> = None;
        while !self.stop.load(Ordering::SeqCst) {
            let pokes = self.notifier.pokes();
            let seen_head = self.notifier.head();
            if balanced.is_none_or(|at| at.elapsed() >= self.config.lease_retry) {
                // Counted so that takeover bounds are checked in rounds, not in seconds a
                // loaded machine may stretch.
                metrics::counter!("herald_partition_balancing_rounds_total").increment(1);
                match parts.balance_partitions() {
                    Ok(now_owned) => {
                        owned = now_owned;
                        self.recent.owned(&owned);
                        metrics::gauge!("herald_partitions_owned").set(owned.len() as f64);
                        self.report_backlog(parts, &owned);
                    }
                    Err(e) => {
                        owned.clear();
                        self.recent.owned(&owned);
                        tracing::error!(error = %e, "cannot balance the partitions");
                    }
                }
                balanced = Some(Instant::now());
            }
            if let Err(e) = self.audiences.sync(&*self.store, now_ms()) {
                tracing::error!(error = %e, "cannot load the audience definitions");
                thread::sleep(RETRY_AFTER_ERROR);
                continue;
            }
            let pass = if owned.is_empty() {
                Ok(PartitionPass::Idle)
            } else {
                self.apply_partitions(parts, &owned)
            };
            match &pass {
                Ok(_) => self.health.succeeded(),
                Err(StorageError::Conflict(_)) => {}
                Err(e) => self.health.failed(now_ms(), e),
            }
            let wait = match pass {
                Ok(PartitionPass::Applied) => continue,
                Ok(PartitionPass::Blocked) => BLOCKED_WAIT,
                Ok(PartitionPass::Idle) => self.config.idle_wait.min(self.config.lease_retry),
                // Another node applied it first (a handover), or the audience definitions
                // changed: nothing was changed; look again with the current catalog.
                Err(StorageError::Conflict(e)) => {
                    tracing::debug!(error = %e, "partition work refused; looking again");
                    continue;
                }
                Err(e) if is_poison(&e) => match self.isolate(parts, &owned, &e) {
                    Ok(()) => continue,
                    Err(q) => {
                        tracing::error!(error = %e, quarantine = %q, "applying partitions failed; retrying");
                        RETRY_AFTER_ERROR
                    }
                },
                Err(e) => {
                    tracing::error!(error = %e, "applying partitions failed; retrying");
                    RETRY_AFTER_ERROR
                }
            };
            self.notifier.wait_past(seen_head, pokes, wait);
        }
        parts.release_partitions();
        tracing::info!("partitions released");
    }

    /// Apply the next batch of work routed to the partitions this node owns, in position
    /// order, in one transaction, stopping before a piece that waits for a partition of
    /// another node to catch up. (One transaction for all of them: a commit per partition
    /// and batch cost more than the work.)
    fn apply_partitions(
        &mut self,
        parts: &dyn Partitioned,
        owned: &[u32],
    ) -> Result<PartitionPass, StorageError> {
        let limit = if self.isolating > 0 {
            1
        } else {
            self.config.batch
        };
        let mut work = parts.routed(owned, limit)?;
        if work.is_empty() {
            return Ok(PartitionPass::Idle);
        }
        if let Some(blocked) = first_blocked(parts, owned, &work)? {
            work.truncate(blocked);
            if work.is_empty() {
                return Ok(PartitionPass::Blocked);
            }
        }
        let started = Instant::now();
        let seqs: Vec<u64> = work
            .iter()
            .filter(|w| matches!(w.work, Work::Event { .. }))
            .map(|w| w.seq)
            .collect();
        let (mut events, missing) = self.recent.take(&seqs);
        if !missing.is_empty() {
            events.extend(self.store.load(&missing)?);
        }
        let catalog = self.audiences.catalog();
        let stages = &mut self.stages;
        let loader = self.store.clone();
        let now = now_ms();
        let mut profiles: Vec<ProfileId> = work.iter().map(|w| w.profile.clone()).collect();
        for w in &work {
            if let Work::Event { merges, .. } = &w.work {
                profiles.extend(merges.iter().map(|m| m.loser.clone()));
            }
        }
        profiles.sort_unstable();
        profiles.dedup();
        let definitions = self.audiences.version();
        parts.in_partition_transaction(&work, definitions, &mut |txn: &mut dyn StateTxn| {
            txn.prefetch_states(&profiles)?;
            for w in &work {
                guarded(w.seq, || {
                    let Work::Event { created, merges } = &w.work else {
                        return on_group_event(
                            txn,
                            &catalog,
                            w.seq,
                            &w.profile,
                            now,
                            &mut |s: &[u64]| loader.load(s),
                        );
                    };
                    let Some(event) = events.get(&w.seq) else {
                        tracing::warn!(seq = w.seq, "a routed event is no longer in the log");
                        return Ok(());
                    };
                    let applied = Applied::Attributed {
                        profile: w.profile.clone(),
                        created: *created,
                        merges: merges.clone(),
                    };
                    apply_states(txn, w.seq, event, &applied)?;
                    on_profile_event(
                        txn,
                        &catalog,
                        w.seq,
                        event,
                        &applied,
                        now,
                        &mut |s: &[u64]| loader.load(s),
                    )?;
                    for stage in stages.iter_mut() {
                        stage.apply(txn, w.seq, event, &applied)?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        self.isolating = self.isolating.saturating_sub(work.len());
        metrics::counter!("herald_events_processed_total").increment(seqs.len() as u64);
        metrics::counter!("herald_partition_log_reads_total").increment(missing.len() as u64);
        // The sequencer may be waiting for the backlog to shrink.
        self.notifier.poke();
        metrics::histogram!("herald_processor_batch_seconds")
            .record(started.elapsed().as_secs_f64());
        Ok(PartitionPass::Applied)
    }

    /// A batch failed for good (`error`): when it was one piece of work, quarantine that piece
    /// (its routing row goes in the same transaction) and go on; otherwise apply the next
    /// pieces one at a time to find it.
    fn isolate(
        &mut self,
        parts: &dyn Partitioned,
        owned: &[u32],
        error: &StorageError,
    ) -> Result<(), StorageError> {
        if self.isolating == 0 {
            self.isolating = self.config.batch;
            return Ok(());
        }
        let work = parts.routed(owned, 1)?;
        let Some(piece) = work.first() else {
            return Ok(());
        };
        let entry = Quarantined {
            seq: piece.seq,
            reason: format!("{error} (profile {})", piece.profile),
            at_ms: now_ms(),
        };
        let definitions = self.audiences.version();
        parts.in_partition_transaction(&work, definitions, &mut |txn: &mut dyn StateTxn| {
            txn.quarantine(&entry)
        })?;
        tracing::error!(seq = entry.seq, reason = %entry.reason, "event quarantined; processing goes on");
        metrics::counter!("herald_events_quarantined_total").increment(1);
        self.isolating = self.isolating.saturating_sub(1);
        Ok(())
    }

    /// Per-partition backlog of the partitions this node owns, for `/metrics`.
    fn report_backlog(&self, parts: &dyn Partitioned, owned: &[u32]) {
        match parts.backlog() {
            Ok(backlog) => {
                let backlog: HashMap<u32, u64> = backlog.into_iter().collect();
                for p in owned {
                    metrics::gauge!("herald_partition_backlog", "partition" => p.to_string())
                        .set(backlog.get(p).copied().unwrap_or(0) as f64);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the partitions' backlog"),
        }
    }
}

/// The index of the first piece of work that waits for a partition still behind, if any.
/// `work` is a prefix, in position order, of what is routed to the `owned` partitions, so
/// what it waits for in those is either applied or earlier in `work` itself.
fn first_blocked(
    parts: &dyn Partitioned,
    owned: &[u32],
    work: &[Routed],
) -> Result<Option<usize>, StorageError> {
    for (i, w) in work.iter().enumerate() {
        let others: Vec<u32> = w
            .waits
            .iter()
            .copied()
            .filter(|p| !owned.contains(p))
            .collect();
        if !others.is_empty() && parts.pending_before(&others, w.before)? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}
