//! The processor: the single owner of projection state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use std::collections::{BTreeSet, HashMap, VecDeque};

use herald_core::audience::live::{group_members_to_refresh, on_event, on_split};
use herald_core::event::Event;
use herald_core::identity::{IdentityRules, ProfileId};
use herald_core::projection::{apply_event, resolve_event, Applied};
use herald_core::split::{delete_person, unmerge, SplitError, SplitOutcome};
use herald_storage::{partition_of, Partitioned, Routed, StateTxn, StorageError, Store, Work};
use tokio::sync::oneshot;

use crate::audiences::AudienceEngine;
use crate::notify::LogNotifier;
use crate::partitions::{PartitionWorker, RecentEvents};
use crate::quarantine::{guarded, Isolation, ProcessorHealth};

mod poison;
use crate::surge;
use poison::{quarantine_unreadable, report_quarantined};

/// A processing step that runs after identity and profile projection, inside the same
/// transaction, for every event in log order. Audiences and journeys plug in here; because the
/// transaction also moves the cursor, a stage sees each event exactly once.
pub trait Stage: Send {
    fn apply(
        &mut self,
        txn: &mut dyn StateTxn,
        seq: u64,
        event: &Event,
        applied: &Applied,
    ) -> Result<(), StorageError>;
}

#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    pub rules: IdentityRules,
    /// Events applied per transaction at most.
    pub batch: usize,
    /// Called on the processor thread when it has caught up, after the store released its
    /// caches: the binary returns the allocator's free memory to the OS here.
    pub on_idle: Option<fn()>,
    /// Called on the processor thread after each chunk of an audience backfill, until it next
    /// goes idle: the binary lets the allocator keep freed memory for reuse here.
    pub on_backfill: Option<fn()>,
    /// How long an idle processor sleeps before looking at the log again when nothing wakes
    /// it. The embedded writer wakes it on every commit; in a cluster, events arrive through
    /// other nodes, so this is the pickup delay there.
    pub idle_wait: Duration,
    /// How often a node without the processing lease tries to take it.
    pub lease_retry: Duration,
}

impl Default for ProcessorConfig {
    fn default() -> Self {
        ProcessorConfig {
            rules: IdentityRules::default(),
            batch: 1000,
            on_idle: None,
            on_backfill: None,
            idle_wait: Duration::from_secs(5),
            lease_retry: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("not found")]
    NotFound,
    #[error("that merge was already undone")]
    AlreadyUndone,
    /// Retrying a quarantined event failed again, for this reason; it stays quarantined.
    #[error("the event still cannot be applied: {0}")]
    StillFailing(String),
    #[error("the processor has stopped")]
    Stopped,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

type SplitReply = oneshot::Sender<Result<SplitOutcome, CommandError>>;
type DoneReply = oneshot::Sender<Result<(), CommandError>>;

enum Command {
    Unmerge {
        merge_id: String,
        reply: SplitReply,
    },
    Delete {
        profile: ProfileId,
        reply: SplitReply,
    },
    /// Apply a quarantined event now (after an upgrade fixed what made it fail).
    Retry {
        seq: u64,
        reply: DoneReply,
    },
    /// Drop a quarantined event from the log for good.
    Discard {
        seq: u64,
        reply: DoneReply,
    },
}

impl Command {
    fn refuse(self, error: CommandError) {
        match self {
            Command::Unmerge { reply, .. } | Command::Delete { reply, .. } => {
                let _ = reply.send(Err(error));
            }
            Command::Retry { reply, .. } | Command::Discard { reply, .. } => {
                let _ = reply.send(Err(error));
            }
        }
    }
}

#[derive(Clone)]
pub struct ProcessorHandle {
    commands: mpsc::Sender<Command>,
    notifier: Arc<LogNotifier>,
    stop: Arc<AtomicBool>,
    /// The processor thread's (embedded; in a cluster, the sequencer's) and, in a cluster,
    /// the partition thread's.
    health: [Arc<ProcessorHealth>; 2],
    rules: Arc<IdentityRules>,
}

impl ProcessorHandle {
    /// The identity rules the processor applies: what an identifier normalises to (lookups
    /// normalise the same way, so `email:ANA@Example.com` finds `email:ana@example.com`).
    pub fn identity_rules(&self) -> &IdentityRules {
        &self.rules
    }

    /// Undo a merge; the affected profiles are replayed from the log.
    pub async fn unmerge(&self, merge_id: &str) -> Result<SplitOutcome, CommandError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Unmerge {
            merge_id: merge_id.to_owned(),
            reply,
        })?;
        answer.await.map_err(|_| CommandError::Stopped)?
    }

    /// Delete a person everywhere and suppress their identifiers.
    pub async fn delete(&self, profile: &ProfileId) -> Result<SplitOutcome, CommandError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Delete {
            profile: profile.clone(),
            reply,
        })?;
        answer.await.map_err(|_| CommandError::Stopped)?
    }

    /// Apply a quarantined event now; it leaves the quarantine only if that succeeds.
    pub async fn retry_quarantined(&self, seq: u64) -> Result<(), CommandError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Retry { seq, reply })?;
        answer.await.map_err(|_| CommandError::Stopped)?
    }

    /// Remove a quarantined event from the quarantine and from the log.
    pub async fn discard_quarantined(&self, seq: u64) -> Result<(), CommandError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Discard { seq, reply })?;
        answer.await.map_err(|_| CommandError::Stopped)?
    }

    /// Since when this node's processing (either of its threads) has kept failing, if it has
    /// (see [`ProcessorHealth`]).
    pub fn failing_since_ms(&self) -> Option<i64> {
        self.health
            .iter()
            .filter_map(|h| h.failing_since_ms())
            .min()
    }

    /// Since when this node's processing has found the storage full, if it does (cleared by
    /// its next successful batch).
    pub fn storage_full_since_ms(&self) -> Option<i64> {
        self.health.iter().filter_map(|h| h.full.since_ms()).min()
    }

    fn send(&self, command: Command) -> Result<(), CommandError> {
        self.commands
            .send(command)
            .map_err(|_| CommandError::Stopped)?;
        self.notifier.poke();
        Ok(())
    }

    /// Ask the processor to stop after its current batch.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notifier.poke();
    }
}

pub fn spawn(
    store: Arc<dyn Store>,
    notifier: Arc<LogNotifier>,
    config: ProcessorConfig,
    stages: Vec<Box<dyn Stage>>,
) -> (ProcessorHandle, thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let health = Arc::new(ProcessorHealth::default());
    let partition_health = Arc::new(ProcessorHealth::default());
    let handle = ProcessorHandle {
        commands: tx,
        notifier: notifier.clone(),
        stop: stop.clone(),
        health: [health.clone(), partition_health.clone()],
        rules: Arc::new(config.rules.clone()),
    };
    let recent = Arc::new(RecentEvents::default());
    // A cluster applies events on the partition thread; the processor thread sequences.
    let (stages, partition_thread) = if store.partitioned().is_some() {
        let mut worker = PartitionWorker {
            store: store.clone(),
            notifier: notifier.clone(),
            config: config.clone(),
            stages,
            audiences: AudienceEngine::default(),
            recent: recent.clone(),
            stop: stop.clone(),
            health: partition_health,
            isolating: 0,
        };
        let join = thread::Builder::new()
            .name("herald-partitions".into())
            .spawn(move || {
                lower_priority();
                worker.run()
            })
            .expect("spawn partition thread");
        (Vec::new(), Some(join))
    } else {
        (stages, None)
    };
    let mut processor = Processor {
        store,
        notifier,
        config,
        stages,
        audiences: AudienceEngine::default(),
        commands: rx,
        held: VecDeque::new(),
        recent,
        stop,
        health,
        isolation: Isolation::default(),
        attempted: None,
    };
    let join = thread::Builder::new()
        .name("herald-processor".into())
        .spawn(move || {
            lower_priority();
            processor.run();
            if let Some(partitions) = partition_thread {
                let _ = partitions.join();
            }
        })
        .expect("spawn processor thread");
    (handle, join)
}

/// Nice value of the processor thread. When the CPU is saturated, acknowledging events (the
/// request tasks and the ingest writer, at normal priority) goes first and projection catches
/// up afterwards; with spare CPU it changes nothing. Measured on 2 cores over 10 s runs:
/// 58–99k events/s with it, ~63k without (BENCHMARKS.md).
const PROCESSOR_NICE: i32 = 5;

pub(crate) fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain syscalls on the calling thread; on Linux `setpriority(PRIO_PROCESS, tid)`
        // sets the nice value of that one thread.
        let outcome = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, PROCESSOR_NICE)
        };
        if outcome != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "could not lower the processor's priority");
        }
    }
}

struct Processor {
    store: Arc<dyn Store>,
    notifier: Arc<LogNotifier>,
    config: ProcessorConfig,
    stages: Vec<Box<dyn Stage>>,
    audiences: AudienceEngine,
    commands: mpsc::Receiver<Command>,
    /// Commands waiting for the partitions to apply everything routed (a partitioned store
    /// runs an unmerge or a deletion only then), with when they gave up waiting.
    held: VecDeque<(Command, Instant)>,
    /// What this node's sequencer routed lately, for its partition thread.
    recent: Arc<RecentEvents>,
    stop: Arc<AtomicBool>,
    health: Arc<ProcessorHealth>,
    /// Finding the one event at fault in a batch that failed for good.
    isolation: Isolation,
    /// The first and last positions of the batch being applied or sequenced.
    attempted: Option<(u64, u64)>,
}

/// What one sequencer pass did.
enum Sequenced {
    /// It routed the events up to this position.
    Batch(u64),
    /// There was nothing to sequence, or it is paused for an unmerge or a deletion.
    Nothing,
    /// The partitions are behind: it waits for them.
    Backpressure,
}

/// The sequencer stops routing while this many batches of routed work are not applied yet: the
/// routing table stays small, and the events a node's partitions apply are still in its
/// [`RecentEvents`] when its own sequencer routed them.
const MAX_BACKLOG_BATCHES: usize = 8;

/// How long a waiting sequencer sleeps before it looks again (progress wakes it sooner).
pub(crate) const BLOCKED_WAIT: Duration = Duration::from_millis(10);
/// How long an unmerge or a deletion waits for the partitions to drain at most.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one pause of the sequencer lasts; the node waiting renews it while it waits, so
/// a node that dies waiting holds sequencing back this long at most.
const SEQUENCER_HOLD: Duration = Duration::from_secs(5);

/// How late a durable audience timer may fire at most while the processor is idle.
const TIMER_RESOLUTION: Duration = Duration::from_secs(1);

/// The wall clock (Unix ms), for what nodes coordinate by: the sequencer hold. Everything
/// else reads the node's clock ([`herald_storage::clock`]).
fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) use herald_storage::clock::now_ms;

pub(crate) const RETRY_AFTER_ERROR: Duration = Duration::from_millis(500);

impl Processor {
    fn run(&mut self) {
        let store = self.store.clone();
        match store.partitioned() {
            Some(parts) => self.run_partitioned(parts),
            None => self.run_single(),
        }
        self.store.release_processing_lease();
    }

    fn run_single(&mut self) {
        let mut cursor = 0;
        let mut leader = false;
        let mut busy = true;
        while !self.stop.load(Ordering::SeqCst) {
            // Read before looking for work: a poke from here on ends the next wait.
            let pokes = self.notifier.pokes();
            while let Ok(command) = self.commands.try_recv() {
                self.handle(command);
            }
            match self.store.hold_processing_lease() {
                Ok(true) if leader => {}
                Ok(true) => match self.take_over() {
                    Ok(c) => {
                        cursor = c;
                        leader = true;
                        metrics::gauge!("herald_processing_lease_held").set(1.0);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the processor cursor");
                        thread::sleep(RETRY_AFTER_ERROR);
                        continue;
                    }
                },
                Ok(false) => {
                    leader = false;
                    metrics::gauge!("herald_processing_lease_held").set(0.0);
                    self.notifier
                        .wait_past(u64::MAX, pokes, self.config.lease_retry);
                    continue;
                }
                Err(e) => {
                    leader = false;
                    metrics::gauge!("herald_processing_lease_held").set(0.0);
                    tracing::error!(error = %e, "cannot check the processing lease");
                    thread::sleep(RETRY_AFTER_ERROR);
                    continue;
                }
            }
            let seen_head = self.notifier.head();
            if let Err(e) = self.audiences.sync(&*self.store, now_ms()) {
                tracing::error!(error = %e, "cannot load the audience definitions");
                thread::sleep(RETRY_AFTER_ERROR);
                continue;
            }
            let upkeep = self.audience_upkeep();
            let (started, waited_before) = (Instant::now(), surge::run_queue_wait());
            let result = self.process_batch(cursor);
            match &result {
                Ok(_) => self.health.succeeded(),
                Err(e) => self.health.failed(now_ms(), e),
            }
            match result {
                Ok(Some(next)) => {
                    cursor = next;
                    busy = true;
                    let observed = surge::Observed {
                        lag: self.notifier.head().saturating_sub(cursor),
                        since_ingest: self.notifier.since_advance(),
                        batch: started.elapsed(),
                        waited: waited_before
                            .zip(surge::run_queue_wait())
                            .map(|(before, after)| after.saturating_sub(before)),
                    };
                    if let Some(pause) = surge::pause(&observed) {
                        metrics::histogram!("herald_processor_surge_pause_seconds")
                            .record(pause.as_secs_f64());
                        thread::sleep(pause);
                    }
                }
                Ok(None) if upkeep => busy = true,
                Ok(None) => {
                    metrics::gauge!("herald_processor_lag_events").set(0.0);
                    if std::mem::take(&mut busy) {
                        if let Err(e) = self.store.release_memory() {
                            tracing::warn!(error = %e, "could not release cached memory");
                        }
                        if let Some(on_idle) = self.config.on_idle {
                            on_idle();
                        }
                    }
                    let wait = if self.audiences.catalog().is_empty() {
                        self.config.idle_wait
                    } else {
                        self.config.idle_wait.min(TIMER_RESOLUTION)
                    };
                    self.notifier.wait_past(seen_head.max(cursor), pokes, wait);
                }
                Err(e) => {
                    if let Some(seq) = self.poison_at(&e) {
                        match self.quarantine_single(cursor, seq, &e) {
                            Ok(()) => {
                                cursor = seq;
                                continue;
                            }
                            Err(q) => tracing::error!(error = %q, seq, "cannot quarantine"),
                        }
                    }
                    tracing::error!(error = %e, cursor, "processing failed; retrying");
                    thread::sleep(RETRY_AFTER_ERROR);
                    // Another node may have moved the cursor (a lease handover).
                    leader = false;
                }
            }
        }
        tracing::info!(cursor, "processor stopped");
    }

    /// A cluster's processing, this thread's part: the lease holder sequences (resolves
    /// identities in log order and routes events to the partitions of their profiles) and runs
    /// audience timers and backfills; every node runs admin commands. The partitions this node
    /// owns are applied by its partition thread ([`crate::partitions`]).
    fn run_partitioned(&mut self, parts: &dyn Partitioned) {
        let mut cursor = 0;
        let mut leader = false;
        let mut busy = true;
        while !self.stop.load(Ordering::SeqCst) {
            let pokes = self.notifier.pokes();
            while let Ok(command) = self.commands.try_recv() {
                self.held
                    .push_back((command, Instant::now() + DRAIN_TIMEOUT));
            }
            self.run_held_commands(parts);
            let seen_head = self.notifier.head();
            let mut worked = false;
            let mut backpressure = false;
            if !leader {
                // Counted so that takeover bounds are checked in attempts, not in seconds a
                // loaded machine may stretch.
                metrics::counter!("herald_lease_attempts_total").increment(1);
            }
            match self.store.hold_processing_lease() {
                Ok(true) if leader => {}
                Ok(true) => match self.take_over_sequencing(parts) {
                    Ok(c) => {
                        cursor = c;
                        leader = true;
                        metrics::gauge!("herald_processing_lease_held").set(1.0);
                    }
                    Err(e) => tracing::error!(error = %e, "cannot read the sequencer cursor"),
                },
                Ok(false) => {
                    leader = false;
                    metrics::gauge!("herald_processing_lease_held").set(0.0);
                }
                Err(e) => {
                    leader = false;
                    metrics::gauge!("herald_processing_lease_held").set(0.0);
                    tracing::error!(error = %e, "cannot check the processing lease");
                }
            }
            if let Err(e) = self.audiences.sync(&*self.store, now_ms()) {
                tracing::error!(error = %e, "cannot load the audience definitions");
                thread::sleep(RETRY_AFTER_ERROR);
                continue;
            }
            if leader {
                worked |= self.audience_upkeep();
                let result = self.sequence_batch(parts, cursor);
                match &result {
                    Ok(_) => self.health.succeeded(),
                    Err(e) => self.health.failed(now_ms(), e),
                }
                match result {
                    Ok(Sequenced::Batch(next)) => {
                        cursor = next;
                        worked = true;
                    }
                    Ok(Sequenced::Nothing) => {}
                    Ok(Sequenced::Backpressure) => backpressure = true,
                    Err(e) => {
                        if let Some(seq) = self.poison_at(&e) {
                            match self.quarantine_sequenced(parts, cursor, seq, &e) {
                                Ok(()) => {
                                    cursor = seq;
                                    continue;
                                }
                                Err(q) => tracing::error!(error = %q, seq, "cannot quarantine"),
                            }
                        }
                        tracing::error!(error = %e, cursor, "sequencing failed; retrying");
                        // Another node may have moved the cursor (a lease handover).
                        leader = false;
                        thread::sleep(RETRY_AFTER_ERROR);
                    }
                }
            }
            if worked {
                busy = true;
                continue;
            }
            if std::mem::take(&mut busy) {
                if let Err(e) = self.store.release_memory() {
                    tracing::warn!(error = %e, "could not release cached memory");
                }
                if let Some(on_idle) = self.config.on_idle {
                    on_idle();
                }
            }
            let mut wait = self.config.idle_wait.min(self.config.lease_retry);
            if leader && !self.audiences.catalog().is_empty() {
                wait = wait.min(TIMER_RESOLUTION);
            }
            if backpressure || !self.held.is_empty() {
                wait = BLOCKED_WAIT;
            }
            self.notifier.wait_past(seen_head.max(cursor), pokes, wait);
        }
        tracing::info!(cursor, "sequencer stopped");
    }

    fn take_over_sequencing(&self, parts: &dyn Partitioned) -> Result<u64, StorageError> {
        self.finish_log_deletions()?;
        let cursor = parts.sequenced()?;
        tracing::info!(cursor, "sequencing the log");
        Ok(cursor)
    }

    /// Resolve the identities of the next batch after `cursor`, in log order, and route each
    /// event to its profile's partition.
    fn sequence_batch(
        &mut self,
        parts: &dyn Partitioned,
        cursor: u64,
    ) -> Result<Sequenced, StorageError> {
        // An unmerge or a deletion is waiting for the partitions to drain.
        if parts.sequencer_held_until()? > wall_ms() {
            return Ok(Sequenced::Nothing);
        }
        let routed: u64 = parts.backlog()?.iter().map(|(_, n)| n).sum();
        if routed >= (MAX_BACKLOG_BATCHES * self.config.batch) as u64 {
            return Ok(Sequenced::Backpressure);
        }
        self.attempted = None;
        let limit = self.isolation.limit(cursor, self.config.batch);
        let read = self.store.read_after(cursor, limit)?;
        let Some(last) = read.last() else {
            metrics::gauge!("herald_processor_lag_events").set(0.0);
            return Ok(Sequenced::Nothing);
        };
        self.attempted = Some((cursor + 1, last));
        let (events, unreadable) = (read.events, read.unreadable);
        let started = Instant::now();
        let rules = &self.config.rules;
        let catalog = self.audiences.catalog();
        let count = parts.partition_count();
        let mut suppressed = Vec::new();
        let mut counts = [0u64; 2];
        let mut partitions = HashMap::new();
        parts.in_sequencer_transaction(&mut |txn, routed| {
            check_cursor(txn, cursor)?;
            suppressed.clear();
            counts = [0; 2];
            partitions.clear();
            quarantine_unreadable(txn, &unreadable)?;
            herald_storage::prefetch_batch(txn, &events, rules)?;
            for (seq, event) in &events {
                let applied = guarded(*seq, || resolve_event(txn, *seq, event, rules))?;
                let (profile, created, merges) = match applied {
                    Applied::Attributed {
                        profile,
                        created,
                        merges,
                    } => (profile, created, merges),
                    Applied::Suppressed => {
                        suppressed.push(*seq);
                        continue;
                    }
                    Applied::Unattributable => {
                        counts[1] += 1;
                        continue;
                    }
                };
                counts[0] += merges.len() as u64;
                let partition = partition_of(&profile, count);
                partitions.insert(*seq, partition);
                // A merge waits until the absorbed profiles' partitions applied everything
                // before it: their states are complete then, and never change again.
                let waits: BTreeSet<u32> = merges
                    .iter()
                    .map(|m| partition_of(&m.loser, count))
                    .filter(|p| *p != partition)
                    .collect();
                let members = guarded(*seq, || {
                    group_members_to_refresh(txn, &catalog, event, &profile)
                })?;
                for member in members {
                    let theirs = partition_of(&member, count);
                    routed.push(Routed {
                        seq: *seq,
                        partition: theirs,
                        profile: member,
                        work: Work::GroupChange,
                        // After the `group` call itself was applied to the group's state.
                        waits: if theirs == partition {
                            vec![]
                        } else {
                            vec![partition]
                        },
                        before: seq + 1,
                    });
                }
                routed.push(Routed {
                    seq: *seq,
                    partition,
                    profile,
                    work: Work::Event { created, merges },
                    waits: waits.into_iter().collect(),
                    before: *seq,
                });
            }
            finish_batch(txn, &suppressed, counts[1], last)
        })?;
        self.delete_suppressed(&suppressed)?;
        report_quarantined(&unreadable);
        metrics::counter!("herald_events_sequenced_total").increment(events.len() as u64);
        metrics::histogram!("herald_sequencer_batch_seconds")
            .record(started.elapsed().as_secs_f64());
        self.record_batch(counts[0], suppressed.len(), counts[1], last);
        // Wake this node's partition thread now; others hear the progress announcement.
        self.recent.remember(events, &partitions);
        self.notifier.poke();
        Ok(Sequenced::Batch(last))
    }

    /// Run the unmerges and deletions that were waiting, once every routed piece of work is
    /// applied: they replay profiles from the log, which must not race a partition applying
    /// one of those events. The sequencer pauses meanwhile.
    fn run_held_commands(&mut self, parts: &dyn Partitioned) {
        if self.held.is_empty() {
            return;
        }
        let result = parts
            .hold_sequencer(Some(wall_ms() + SEQUENCER_HOLD.as_millis() as i64))
            .and_then(|()| parts.pending());
        match result {
            Ok(false) => {
                while let Some((command, until)) = self.held.pop_front() {
                    // Work routed since the check: wait for it as well.
                    if let Some(again) = self.try_command(command) {
                        self.held.push_front((again, until));
                        return;
                    }
                }
                if let Err(e) = parts.hold_sequencer(None) {
                    tracing::error!(error = %e, "cannot resume the sequencer");
                }
            }
            Ok(true) => {
                let now = Instant::now();
                while self.held.front().is_some_and(|(_, until)| *until <= now) {
                    if let Some((command, _)) = self.held.pop_front() {
                        command.refuse(CommandError::Storage(StorageError::Unavailable(
                            "the partitions did not drain in time".into(),
                        )));
                    }
                }
                if self.held.is_empty() {
                    let _ = parts.hold_sequencer(None);
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot pause the sequencer"),
        }
    }

    /// Fire due audience timers and advance a backfill by one chunk, between batches so that
    /// ingest keeps flowing. Returns whether a backfill chunk was done.
    fn audience_upkeep(&mut self) -> bool {
        let now = now_ms();
        if let Err(e) = self.audiences.fire_timers(&self.store, now) {
            tracing::error!(error = %e, "audience timers failed; retrying");
        }
        match self.audiences.backfill_step(&self.store, now) {
            Ok(worked) => {
                if let Some(on_backfill) = self.config.on_backfill.filter(|_| worked) {
                    on_backfill();
                }
                worked
            }
            Err(e) => {
                tracing::error!(error = %e, "audience backfill failed; retrying");
                false
            }
        }
    }

    /// Start processing as the lease holder: finish what a previous holder left half done and
    /// continue from the stored cursor.
    fn take_over(&self) -> Result<u64, StorageError> {
        self.finish_log_deletions()?;
        let cursor = self.store.processed_cursor()?;
        tracing::info!(cursor, "processing the log");
        Ok(cursor)
    }

    /// Apply the next batch after `cursor`. `None` when there was nothing to do.
    fn process_batch(&mut self, cursor: u64) -> Result<Option<u64>, StorageError> {
        self.attempted = None;
        let limit = self.isolation.limit(cursor, self.config.batch);
        let read = self.store.read_after(cursor, limit)?;
        let Some(last) = read.last() else {
            return Ok(None);
        };
        self.attempted = Some((cursor + 1, last));
        let (events, unreadable) = (read.events, read.unreadable);
        let started = Instant::now();
        let rules = &self.config.rules;
        let stages = &mut self.stages;
        let catalog = self.audiences.catalog();
        let loader = self.store.clone();
        let now = now_ms();
        let mut suppressed = Vec::new();
        let mut counts = [0u64; 2];
        self.store.in_transaction(&mut |txn: &mut dyn StateTxn| {
            check_cursor(txn, cursor)?;
            suppressed.clear();
            counts = [0; 2];
            quarantine_unreadable(txn, &unreadable)?;
            herald_storage::prefetch_batch(txn, &events, rules)?;
            for (seq, event) in &events {
                let applied = guarded(*seq, || {
                    apply_one(txn, &catalog, stages, *seq, event, rules, now, &*loader)
                })?;
                match &applied {
                    Applied::Attributed { merges, .. } => counts[0] += merges.len() as u64,
                    Applied::Suppressed => suppressed.push(*seq),
                    Applied::Unattributable => counts[1] += 1,
                }
            }
            finish_batch(txn, &suppressed, counts[1], last)
        })?;
        self.delete_suppressed(&suppressed)?;
        report_quarantined(&unreadable);
        metrics::counter!("herald_events_processed_total").increment(events.len() as u64);
        metrics::histogram!("herald_processor_batch_seconds")
            .record(started.elapsed().as_secs_f64());
        self.record_batch(counts[0], suppressed.len(), counts[1], last);
        Ok(Some(last))
    }

    fn handle(&mut self, command: Command) {
        if let Some(again) = self.try_command(command) {
            again.refuse(CommandError::Storage(StorageError::Conflict(
                "routed work is not applied yet".into(),
            )));
        }
    }

    /// Run a command and reply, or give it back when routed work must be applied first.
    fn try_command(&mut self, command: Command) -> Option<Command> {
        fn conflict<T>(result: &Result<T, CommandError>) -> bool {
            matches!(
                result,
                Err(CommandError::Storage(StorageError::Conflict(_)))
            )
        }
        match command {
            Command::Unmerge { merge_id, reply } => {
                let result = self.split(None, |txn, rules, store| {
                    unmerge(txn, &merge_id, rules, |s| store.load(s))
                });
                if conflict(&result) {
                    return Some(Command::Unmerge { merge_id, reply });
                }
                let _ = reply.send(result);
            }
            Command::Delete { profile, reply } => {
                let result = self.split(Some(&profile), |txn, rules, store| {
                    delete_person(txn, &profile, rules, |s| store.load(s))
                });
                if conflict(&result) {
                    return Some(Command::Delete { profile, reply });
                }
                let _ = reply.send(result);
            }
            Command::Retry { seq, reply } => {
                let result = self.retry(seq);
                if conflict(&result) {
                    return Some(Command::Retry { seq, reply });
                }
                let _ = reply.send(result);
            }
            Command::Discard { seq, reply } => {
                let result = self.discard(seq);
                if conflict(&result) {
                    return Some(Command::Discard { seq, reply });
                }
                let _ = reply.send(result);
            }
        }
        None
    }

    /// Run an unmerge or a deletion (of `deleted`) and bring audiences up to date with it.
    fn split(
        &mut self,
        deleted: Option<&ProfileId>,
        op: impl Fn(
            &mut dyn StateTxn,
            &IdentityRules,
            &dyn Store,
        ) -> Result<SplitOutcome, SplitError<StorageError>>,
    ) -> Result<SplitOutcome, CommandError> {
        let now = now_ms();
        // A node without the processing lease also runs commands: its catalog must be current
        // for the split to rebuild the affected profiles' audiences.
        self.audiences.sync(&*self.store, now)?;
        let store = self.store.clone();
        let rules = &self.config.rules;
        let catalog = self.audiences.catalog();
        let mut outcome = None;
        let mut refused = None;
        self.store
            .in_transaction(&mut |txn: &mut dyn StateTxn| {
                if txn.routed_pending()? {
                    return Err(StorageError::Conflict(
                        "routed work is not applied yet".into(),
                    ));
                }
                match op(txn, rules, &*store) {
                    Ok(o) => {
                        on_split(txn, &catalog, &o, deleted, now, &mut |s: &[u64]| {
                            let mut events = store.load(s)?;
                            o.overlay(&mut events);
                            Ok(events)
                        })?;
                        txn.forget_events(&o.deleted_seqs)?;
                        let redacted: Vec<(u64, Event)> = o
                            .redacted
                            .iter()
                            .map(|r| (r.seq, r.event.clone()))
                            .collect();
                        txn.replace_events(&redacted)?;
                        if !o.deleted_seqs.is_empty() {
                            txn.add_counter("deleted_events", o.deleted_seqs.len() as u64)?;
                        }
                        outcome = Some(o);
                        Ok(())
                    }
                    Err(SplitError::Store(e)) => Err(e),
                    Err(other) => {
                        refused = Some(other);
                        // Roll back: nothing was changed, but the transaction must not commit halfway.
                        Err(StorageError::Database("refused".into()))
                    }
                }
            })
            .or_else(|e| if refused.is_some() { Ok(()) } else { Err(e) })?;
        match (refused, outcome) {
            (Some(SplitError::NotFound), _) => Err(CommandError::NotFound),
            (Some(SplitError::AlreadyUndone), _) => Err(CommandError::AlreadyUndone),
            (_, Some(o)) => {
                self.finish_log_deletions()?;
                Ok(o)
            }
            _ => Err(CommandError::NotFound),
        }
    }

    /// Remove the events of deleted people a batch met from the log (their state was already
    /// forgotten with the batch).
    fn delete_suppressed(&self, suppressed: &[u64]) -> Result<(), StorageError> {
        if !suppressed.is_empty() {
            self.store.delete(suppressed)?;
            self.store.confirm_log_deletions(suppressed)?;
        }
        Ok(())
    }

    fn record_batch(&self, merges: u64, suppressed: usize, unattributable: u64, last: u64) {
        metrics::counter!("herald_profile_merges_total").increment(merges);
        metrics::counter!("herald_events_suppressed_total").increment(suppressed as u64);
        metrics::counter!("herald_events_unattributable_total").increment(unattributable);
        metrics::gauge!("herald_processor_lag_events")
            .set(self.notifier.head().saturating_sub(last) as f64);
    }

    fn finish_log_deletions(&self) -> Result<(), StorageError> {
        let pending = self.store.pending_log_deletions()?;
        if !pending.is_empty() {
            self.store.delete(&pending)?;
            self.store.confirm_log_deletions(&pending)?;
        }
        self.store.finish_log_replacements()
    }
}

/// Apply one event (identity, profile, audiences, stages): what a batch does per event.
#[allow(clippy::too_many_arguments)]
fn apply_one(
    txn: &mut dyn StateTxn,
    catalog: &herald_core::audience::Catalog,
    stages: &mut [Box<dyn Stage>],
    seq: u64,
    event: &Event,
    rules: &IdentityRules,
    now: i64,
    loader: &dyn Store,
) -> Result<Applied, StorageError> {
    let applied = apply_event(txn, seq, event, rules)?;
    on_event(
        txn,
        catalog,
        seq,
        event,
        &applied,
        now,
        &mut |s: &[u64]| loader.load(s),
    )?;
    for stage in stages.iter_mut() {
        stage.apply(txn, seq, event, &applied)?;
    }
    Ok(applied)
}

/// The end of a batch's transaction: forget the events of deleted people it met, count them
/// and the unattributable ones, and move the cursor.
fn finish_batch(
    txn: &mut dyn StateTxn,
    suppressed: &[u64],
    unattributable: u64,
    last: u64,
) -> Result<(), StorageError> {
    if !suppressed.is_empty() {
        txn.forget_events(suppressed)?;
        txn.add_counter("suppressed_events", suppressed.len() as u64)?;
    }
    if unattributable > 0 {
        txn.add_counter("unattributable_events", unattributable)?;
    }
    txn.set_cursor(last)
}

/// Fencing: if another node applied anything since this node read its cursor, the batch is
/// stale; it rolls back and starts over from the stored cursor.
fn check_cursor(txn: &mut dyn StateTxn, cursor: u64) -> Result<(), StorageError> {
    let stored = txn.cursor()?;
    if stored != cursor {
        return Err(StorageError::Conflict(format!(
            "the cursor moved from {cursor} to {stored}"
        )));
    }
    Ok(())
}
