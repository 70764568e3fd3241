//! Storage ports and adapters.
//!
//! The rest of Herald talks to storage only through the traits here: [`EventLog`] (the durable,
//! ordered log that ingest appends to), [`ProjectionBackend`] (transactions over the identity
//! graph and profile state, for the one processor that owns them), [`Queries`] (reads for the
//! admin API), [`KeyStore`] (API keys) and [`UserStore`] (dashboard users and sessions). Every
//! backend implements all of them and passes the same conformance suite (`src/conformance.rs`).

pub mod broadcasts;
pub mod clock;
pub mod cluster;
#[cfg(test)]
mod conformance;
pub mod dedup;
pub mod inbox;
pub mod insights;
pub mod jetstream;
pub mod messages;
pub mod postgres;
pub mod preferences;
pub mod settings;
pub mod sqlite;
pub mod templates;
mod users;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use herald_core::audience::{
    AudienceState, AudienceStore, BackfillScope, DefinitionHashes, FactReaches, MembershipChange,
};
use herald_core::event::{Event, Incoming};
use herald_core::identity::{IdKind, Identifier, IdentityRules, ProfileId};
use herald_core::profile::{GroupState, ProfileState};
use herald_core::projection::{IdentityLink, MergeRecord, RebuildStore, RefusalRecord};
use serde::{Deserialize, Serialize};

pub use sqlite::SqliteStore;
pub use users::{DashboardSession, DashboardUser, Role, UserChange, UserStore, UserUpdate};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(String),
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error("storage is busy")]
    Busy,
    /// The database or the bus cannot be reached (cluster mode); retrying later may succeed.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Another node changed the state this work was based on (it took the processing lease
    /// over); the work was rolled back and must be redone from fresh state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The storage is full: the data directory's disk (SQLite reports `SQLITE_FULL` for an
    /// `ENOSPC` write), PostgreSQL's (`53100 disk_full`) or JetStream's. Nothing was written;
    /// the same request succeeds once space is freed, so callers retry (HTTP 507).
    #[error("storage is full: {0}")]
    Full(String),
}

impl StorageError {
    /// Whether the storage is full (see [`StorageError::Full`]).
    pub fn is_full(&self) -> bool {
        matches!(self, StorageError::Full(_))
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StorageError::Busy
            }
            Some(rusqlite::ErrorCode::DiskFull) => StorageError::Full(e.to_string()),
            _ => StorageError::Database(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for StorageError {
    fn from(e: serde_json::Error) -> Self {
        StorageError::Corrupt(e.to_string())
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// An event ready to append: its `messageId` and its payload encoded as JSON. Callers encode
/// (in parallel, off the single writer thread); the log stores the bytes as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    pub message_id: String,
    /// `receivedAt` in Unix milliseconds: what the de-duplication window is measured in.
    pub received_ms: i64,
    pub json: String,
}

impl EncodedEvent {
    pub fn of(event: &Event) -> Result<EncodedEvent> {
        Ok(EncodedEvent {
            message_id: event.message_id.clone(),
            received_ms: event.received_at.timestamp_millis(),
            json: serde_json::to_string(&event.payload)?,
        })
    }
}

impl From<Incoming> for EncodedEvent {
    fn from(event: Incoming) -> EncodedEvent {
        EncodedEvent {
            message_id: event.message_id,
            received_ms: event.received_at.timestamp_millis(),
            json: event.json,
        }
    }
}

/// The outcome of one durable append.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppendOutcome {
    pub appended: usize,
    /// Events whose `messageId` was already in the log; not stored again.
    pub duplicates: usize,
    /// Log position of the last event appended (the head after the append).
    pub head: u64,
    /// For each input event, its log position, or `None` when it was a duplicate.
    pub positions: Vec<Option<u64>>,
}

/// A log position whose stored text does not read back as an [`Event`] (a bug of an older
/// version, or a disk fault): the processor quarantines it instead of stopping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub seq: u64,
    pub reason: String,
}

/// An event read back from its stored bytes with the processor's one reader
/// ([`herald_core::event::read_stored`]), or why it cannot be.
pub(crate) fn decode(payload: &[u8]) -> std::result::Result<Event, String> {
    std::str::from_utf8(payload)
        .map_err(|e| format!("stored event is not UTF-8: {e}"))
        .and_then(|text| herald_core::event::read_stored(text).map_err(|e| e.to_string()))
}

/// What [`EventLog::read_after`] found: the events that read back, and the positions that did
/// not, each in log order.
#[derive(Debug, Clone, Default)]
pub struct LogRead {
    pub events: Vec<(u64, Event)>,
    pub unreadable: Vec<Unreadable>,
}

impl LogRead {
    /// The last position read, readable or not.
    pub fn last(&self) -> Option<u64> {
        let events = self.events.last().map(|(s, _)| *s);
        let unreadable = self.unreadable.last().map(|u| u.seq);
        events.max(unreadable)
    }

    /// Sort one stored event into the read or the unreadable ones.
    pub fn push(&mut self, seq: u64, event: std::result::Result<Event, String>) {
        match event {
            Ok(event) => self.events.push((seq, event)),
            Err(reason) => self.unreadable.push(Unreadable { seq, reason }),
        }
    }
}

/// An event the processor set aside instead of applying: it could not be read back, or
/// applying it failed in a way retrying cannot fix (see `herald_pipeline::processor`). It stays
/// in the log until an admin discards it, or retries it (after an upgrade that fixed the cause).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    pub seq: u64,
    pub reason: String,
    /// When it was set aside (Unix ms).
    pub at_ms: i64,
}

/// The durable event log: the source of truth every projection is rebuilt from.
pub trait EventLog: Send + Sync {
    /// Append in one atomic, durable commit. Events whose `messageId` the log already holds
    /// within its de-duplication window (see [`dedup`]) are skipped, as are repeats within
    /// `events`. When this returns `Ok`, the events survive a crash.
    fn append(&self, events: &[EncodedEvent]) -> Result<AppendOutcome>;
    /// Up to `limit` events after position `after`, in log order; those that do not read back
    /// are reported apart, not as an error (an error means the log itself could not be read).
    fn read_after(&self, after: u64, limit: usize) -> Result<LogRead>;
    /// The stored text of the event at `seq` as it is in the log (for inspecting a quarantined
    /// event), or `None` when there is none.
    fn stored_text(&self, seq: u64) -> Result<Option<String>>;
    /// The events at these positions (missing ones are skipped), in log order.
    fn load(&self, seqs: &[u64]) -> Result<Vec<(u64, Event)>>;
    /// Remove events (GDPR deletion, suppressed events).
    fn delete(&self, seqs: &[u64]) -> Result<()>;
    /// Position of the last event appended.
    fn head(&self) -> Result<u64>;
    /// Nothing was appended for a while: let go of memory that the next append can rebuild
    /// (the embedded log writes its de-duplication window to disk and drops it).
    fn quiesce(&self) -> Result<()> {
        Ok(())
    }
}

/// Tell `txn` which identifiers resolving `events` will look up
/// ([`StateTxn::prefetch_identifiers`]) and which profiles it may create
/// ([`StateTxn::prefetch_profiles`]: a new profile is derived from its event's position and
/// one of its identifiers).
pub fn prefetch_batch(
    txn: &mut dyn StateTxn,
    events: &[(u64, Event)],
    rules: &IdentityRules,
) -> Result<()> {
    let mut ids = Vec::new();
    let mut candidates = Vec::new();
    for (seq, e) in events {
        for key in rules.lookup_keys(e) {
            candidates.push(ProfileId::derive(*seq, &key, 0));
            ids.push(key);
        }
    }
    txn.prefetch_identifiers(&ids)?;
    txn.prefetch_profiles(&candidates)
}

/// A transaction over the projection state, owned by the single processor.
pub trait StateTxn: RebuildStore<Error = StorageError> + AudienceStore {
    /// The processor is about to apply events carrying these identifiers: a backend whose
    /// every lookup is a round trip may read their owners and suppressions at once. Only a
    /// hint: lookups of identifiers not named here must work as well.
    fn prefetch_identifiers(&mut self, _ids: &[Identifier]) -> Result<()> {
        Ok(())
    }
    /// The processor may create some of these profiles: a backend may learn at once which of
    /// them exist. Only a hint, like [`StateTxn::prefetch_identifiers`].
    fn prefetch_profiles(&mut self, _candidates: &[ProfileId]) -> Result<()> {
        Ok(())
    }
    /// A partition is about to apply events of these profiles: a backend may read their
    /// profile and audience states at once. Only a hint, like the other prefetches.
    fn prefetch_states(&mut self, _profiles: &[ProfileId]) -> Result<()> {
        Ok(())
    }
    /// Whether a partitioned store has routed work no partition applied yet (an unmerge or a
    /// deletion must wait for it).
    fn routed_pending(&mut self) -> Result<bool> {
        Ok(false)
    }
    /// Log position up to which events have been applied.
    fn cursor(&mut self) -> Result<u64>;
    fn set_cursor(&mut self, seq: u64) -> Result<()>;
    /// Remove timeline entries of events that must leave the log, and queue their removal
    /// from the log (done after commit, see [`ProjectionBackend::pending_log_deletions`]).
    fn forget_events(&mut self, seqs: &[u64]) -> Result<()>;
    /// Events that stay in the log in another form (a deleted person's identifiers redacted
    /// out of them, [`herald_core::split::Redacted`]): from this commit on, the log holds them
    /// as given, at their positions. A backend whose log is apart from its state finishes the
    /// rewrite after commit ([`ProjectionBackend::finish_log_replacements`]).
    fn replace_events(&mut self, events: &[(u64, Event)]) -> Result<()>;
    /// Lift the suppression of an identifier (recorded with its time, `at_ms`): later events
    /// carrying it are processed again. `None` when it was not suppressed.
    fn lift_suppression(&mut self, id: &Identifier, at_ms: i64) -> Result<Option<Suppression>>;
    fn add_counter(&mut self, name: &str, by: u64) -> Result<()>;
    /// Set an event aside (see [`Quarantined`]); setting the same position aside again
    /// replaces its reason.
    fn quarantine(&mut self, entry: &Quarantined) -> Result<()>;
    /// Take an event out of quarantine; `false` when it was not in it.
    fn release_quarantined(&mut self, seq: u64) -> Result<bool>;
    /// The audience backfill in progress or last finished.
    fn backfill(&mut self) -> Result<Option<Backfill>>;
    fn set_backfill(&mut self, backfill: &Backfill) -> Result<()>;
    /// Up to `limit` profile ids after `after`, in id order (backfills walk them).
    fn profiles_after(&mut self, after: Option<&ProfileId>, limit: usize)
        -> Result<Vec<ProfileId>>;
    fn profile_count(&mut self) -> Result<u64>;
    /// How many profiles a backfill limited to `scope` visits at most: those with an event of
    /// its names, and the members of its audiences.
    fn scope_size(&mut self, scope: &BackfillScope) -> Result<u64>;
}

/// Audience and computed-trait definitions as stored: one versioned document, changed
/// atomically (so that two nodes editing at once cannot create a reference cycle).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Definitions {
    pub version: u64,
    pub audiences: BTreeMap<String, AudienceRecord>,
    pub computed: BTreeMap<String, ComputedRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudienceRecord {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The rule in canonical JSON form.
    pub rule: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputedRecord {
    pub name: String,
    /// The definition in JSON form.
    pub definition: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Re-evaluating every profile after the definitions changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backfill {
    /// The definitions version being applied.
    pub version: u64,
    /// The last profile done (profiles are walked in id order).
    pub cursor: Option<ProfileId>,
    pub done: u64,
    /// Profiles when the backfill started.
    pub total: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The fact sets (fact id → reach) of the catalogs that profiles may still have their
    /// facts built for, by catalog fingerprint: this backfill's own, and while it is
    /// unfinished those of earlier ones. A profile built for one of them rebuilds only the
    /// facts it lacks.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub builds: BTreeMap<String, FactReaches>,
    /// Hashes of the definitions being applied (what the next backfill compares with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definitions: Option<DefinitionHashes>,
    /// The audiences and computed traits whose definitions changed since profiles were last
    /// evaluated: the only ones this backfill evaluates again, with those whose facts it
    /// rebuilds. `None`: unknown, every one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<BTreeSet<String>>,
    /// When the change cannot affect most profiles: the only ones this backfill visits
    /// ([`herald_core::audience::Catalog::backfill_scope`]), walked in id order by `cursor`
    /// (`total` counts them). `None`: every profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<BackfillScope>,
}

/// Audience definitions, memberships and their history.
pub trait Audiences: Send + Sync {
    fn definitions(&self) -> Result<Definitions>;
    /// The current definitions version (cheap: the processor polls it).
    fn definitions_version(&self) -> Result<u64>;
    /// Read the definitions, let `change` edit them and store them under the next version, in
    /// one transaction. `change` returns `false` to change nothing. Returns the new version.
    fn change_definitions(
        &self,
        change: &mut dyn FnMut(&mut Definitions) -> bool,
    ) -> Result<Option<u64>>;
    fn backfill_status(&self) -> Result<Option<Backfill>>;
    /// Members in profile id order after `after`, with the time they entered (Unix ms).
    fn members(
        &self,
        audience: &str,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<(ProfileId, i64)>>;
    fn member_count(&self, audience: &str) -> Result<u64>;
    fn audience_state_of(&self, profile: &ProfileId) -> Result<Option<AudienceState>>;
    /// The profile's membership changes, newest first.
    fn membership_history(
        &self,
        profile: &ProfileId,
        limit: usize,
    ) -> Result<Vec<MembershipChange>>;
    /// Changes per UTC day, oldest first: (day start in Unix ms, entered, exited).
    fn size_history(&self, audience: &str) -> Result<Vec<(i64, u64, u64)>>;
}

pub trait ProjectionBackend: Send + Sync {
    /// Run `f` in one transaction, committed when it returns `Ok`, rolled back otherwise.
    fn in_transaction(&self, f: &mut dyn FnMut(&mut dyn StateTxn) -> Result<()>) -> Result<()>;
    /// Log positions queued for removal by [`StateTxn::forget_events`] and not yet confirmed.
    fn pending_log_deletions(&self) -> Result<Vec<u64>>;
    /// Confirm that these positions were removed from the log.
    fn confirm_log_deletions(&self, seqs: &[u64]) -> Result<()>;
    /// Write to the log the replacements [`StateTxn::replace_events`] queued (called after
    /// their commit, and at start in case the process died in between).
    fn finish_log_replacements(&self) -> Result<()>;
    /// Give cached pages and idle connections back: called when processing has caught up, so
    /// an idle server stays small.
    fn release_memory(&self) -> Result<()>;
    /// Whether this node may process the log now, acquiring the right if it is free. One node
    /// of a cluster holds it at a time; an embedded store always does.
    fn hold_processing_lease(&self) -> Result<bool> {
        Ok(true)
    }
    /// Give the lease up (graceful shutdown) so that another node takes over at once.
    fn release_processing_lease(&self) {}
    /// Processing partitioned by profile (a cluster), or `None` when one processor applies
    /// everything (embedded).
    fn partitioned(&self) -> Option<&dyn Partitioned> {
        None
    }
}

/// What a partition does at one routed position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Work {
    /// Apply the event at this position to its profile's state and audiences (the sequencer
    /// has resolved its identity); `merges` are the merges it made.
    Event {
        created: bool,
        merges: Vec<MergeRecord>,
    },
    /// Re-evaluate what reads group traits: the `group` call at this position, by another
    /// profile, changed one of this profile's groups.
    GroupChange,
}

/// One piece of work the sequencer routed to the partition of its profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub seq: u64,
    pub partition: u32,
    pub profile: ProfileId,
    pub work: Work,
    /// Partitions that must have applied everything routed to them before position `before`
    /// first: those of the profiles a merge absorbed (their states must be complete), or the
    /// partition applying the `group` call a group change follows.
    pub waits: Vec<u32>,
    pub before: u64,
}

impl Routed {
    /// Rows are applied in this order within a partition: by position, an event before the
    /// group changes it causes.
    pub fn key(&self) -> (u64, u8, &str) {
        let kind = match self.work {
            Work::Event { .. } => 0,
            Work::GroupChange => 1,
        };
        (self.seq, kind, self.profile.as_str())
    }
}

/// The partition a profile's events are applied in: FNV-1a of its id. Stable for the life of
/// a cluster, since the partition count is fixed when the cluster is created.
pub fn partition_of(profile: &ProfileId, count: u32) -> u32 {
    let hash = profile
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    (hash % u64::from(count.max(1))) as u32
}

/// The partition a message to `profile` is queued in: the profile's, so that the node
/// owning it decides for the person ([`Partitioned::owned_partitions`]); 0 on a store that
/// is not partitioned.
pub fn message_partition(store: &dyn Store, profile: &ProfileId) -> u32 {
    store
        .partitioned()
        .map_or(0, |p| partition_of(profile, p.partition_count()))
}

/// The body of a sequencer transaction: it resolves events and pushes what it routes.
pub type SequencerWork<'a> = dyn FnMut(&mut dyn StateTxn, &mut Vec<Routed>) -> Result<()> + 'a;

/// Processing partitioned by profile, in a cluster. The sequencer (the holder of the
/// processing lease) resolves identities in log order and routes each event to the partition
/// of its profile; each partition is owned by one node at a time, which applies its work in
/// order. Transactions of the sequencer and of partitions run concurrently with each other and
/// one at a time with every other state transaction ([`ProjectionBackend::in_transaction`]).
pub trait Partitioned: Send + Sync {
    /// How many partitions the cluster has (fixed when it was created).
    fn partition_count(&self) -> u32;
    /// Take free partitions up to this node's share of the live nodes' and give up those
    /// beyond it; returns the partitions this node owns now.
    fn balance_partitions(&self) -> Result<Vec<u32>>;
    /// Give every partition up (graceful shutdown).
    fn release_partitions(&self);
    /// The partitions this node holds now, as it last balanced them (none once the
    /// connection that holds them is lost): the ones whose messages its sender decides.
    fn owned_partitions(&self) -> Vec<u32>;
    /// Run `f` as a sequencer transaction; what it pushes to the routing list is routed when
    /// it commits.
    fn in_sequencer_transaction(&self, f: &mut SequencerWork<'_>) -> Result<()>;
    /// The first `limit` pieces of work routed to these partitions, in position order (which
    /// keeps each partition's order).
    fn routed(&self, partitions: &[u32], limit: usize) -> Result<Vec<Routed>>;
    /// Whether one of `partitions` still has work routed before position `before`.
    fn pending_before(&self, partitions: &[u32], before: u64) -> Result<bool>;
    /// Whether any work is routed and not yet applied.
    fn pending(&self) -> Result<bool>;
    /// Apply routed work: removes `done` from the routing table and runs `f`, in one
    /// transaction; fails with [`StorageError::Conflict`], changing nothing, if some of it was
    /// already done (another node owned the partition meanwhile), or if the audience
    /// definitions are no longer at `definitions` (the version of the catalog `f` evaluates
    /// with: applying work with an older one could undo a backfill of the newer one).
    fn in_partition_transaction(
        &self,
        done: &[Routed],
        definitions: u64,
        f: &mut dyn FnMut(&mut dyn StateTxn) -> Result<()>,
    ) -> Result<()>;
    /// Pause the sequencer until `until_ms` (wall clock), or resume it (`None`): an unmerge or
    /// a deletion needs every routed piece of work applied first.
    fn hold_sequencer(&self, until_ms: Option<i64>) -> Result<()>;
    /// Until when the sequencer is paused (0: it is not).
    fn sequencer_held_until(&self) -> Result<i64>;
    /// The sequencer's position: events up to it are resolved and routed.
    fn sequenced(&self) -> Result<u64>;
    /// Routed work not yet applied, per partition (those with none left out).
    fn backlog(&self) -> Result<Vec<(u32, u64)>>;
}

/// An identifier on a profile, with how it got there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityRow {
    pub identifier: Identifier,
    pub link: IdentityLink,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRecord {
    pub profile_id: ProfileId,
    pub created_seq: u64,
    pub state: ProfileState,
    pub identities: Vec<IdentityRow>,
    pub groups: Vec<(String, GroupState)>,
}

impl ProfileRecord {
    /// The profile's first identifier of a kind.
    pub fn identifier(&self, kind: IdKind) -> Option<&str> {
        self.identities
            .iter()
            .find(|i| i.identifier.kind == kind)
            .map(|i| i.identifier.value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MergeRow {
    pub record: MergeRecord,
    pub undone: bool,
}

#[derive(Debug, Clone, Default)]
pub struct TimelineFilter {
    pub event: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Continue after this `(timestamp millis, seq)` (exclusive); newest first.
    pub before: Option<(i64, u64)>,
    pub limit: usize,
}

/// What the profile list (`GET /api/v1/profiles`) searches by; every condition given must
/// hold. [`ProfileSearch::matches`] is the meaning every backend implements.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileSearch {
    /// An identifier of this kind whose (normalised) value starts with this prefix, compared
    /// character by character (an empty prefix: any identifier of the kind).
    pub identifier: Option<(IdKind, String)>,
    /// The trait of this name holds this value: a string equal to it, a number equal to it
    /// read as a JSON number (`42` matches `42` and `42.0`), or the boolean `true`/`false`.
    pub trait_value: Option<(String, String)>,
}

/// A [`ProfileSearch`] as SQL parameters: `None` where a criterion is absent.
pub(crate) struct SearchParams<'a> {
    pub kind: Option<&'a str>,
    pub prefix: &'a str,
    pub name: Option<&'a str>,
    pub value: Option<&'a str>,
}

impl ProfileSearch {
    pub(crate) fn params(&self) -> SearchParams<'_> {
        let (kind, prefix) = match &self.identifier {
            Some((kind, prefix)) => (Some(kind.as_str()), prefix.as_str()),
            None => (None, ""),
        };
        let (name, value) = match &self.trait_value {
            Some((name, value)) => (Some(name.as_str()), Some(value.as_str())),
            None => (None, None),
        };
        SearchParams {
            kind,
            prefix,
            name,
            value,
        }
    }

    /// Whether a profile with these identifiers and this state is found by the search.
    pub fn matches<'a>(
        &self,
        identifiers: impl IntoIterator<Item = &'a Identifier>,
        state: &ProfileState,
    ) -> bool {
        let identifier_ok = match &self.identifier {
            None => true,
            Some((kind, prefix)) => identifiers
                .into_iter()
                .any(|id| id.kind == *kind && id.value.starts_with(prefix.as_str())),
        };
        let trait_ok = match &self.trait_value {
            None => true,
            Some((name, wanted)) => state.traits.get(name).is_some_and(|t| match &t.value {
                serde_json::Value::String(s) => s == wanted,
                serde_json::Value::Number(n) => {
                    n.as_f64().is_some() && n.as_f64() == self.trait_number()
                }
                serde_json::Value::Bool(b) => self.trait_bool() == Some(*b),
                _ => false,
            }),
        };
        identifier_ok && trait_ok
    }

    /// The searched trait value read as a JSON number, if it is one.
    pub(crate) fn trait_number(&self) -> Option<f64> {
        let (_, value) = self.trait_value.as_ref()?;
        serde_json::from_str::<serde_json::Number>(value)
            .ok()?
            .as_f64()
    }

    /// The searched trait value read as a JSON boolean, if it is one.
    pub(crate) fn trait_bool(&self) -> Option<bool> {
        match self.trait_value.as_ref()?.1.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// The first string greater than every string that starts with the identifier prefix, in
    /// code point (= UTF-8 byte) order; `None` when there is none (empty or all `char::MAX`).
    pub(crate) fn prefix_end(&self) -> Option<String> {
        let (_, prefix) = self.identifier.as_ref()?;
        let mut chars: Vec<char> = prefix.chars().collect();
        while let Some(last) = chars.pop() {
            let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
            if let Some(next) = next {
                chars.push(next);
                return Some(chars.into_iter().collect());
            }
        }
        None
    }
}

/// What the profile list shows of a profile, read for many profiles at once.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileSummary {
    pub profile_id: ProfileId,
    pub state: ProfileState,
    /// In the order they joined (log position, then identifier), as in [`ProfileRecord`].
    pub identities: Vec<IdentityRow>,
}

/// Profile summaries in the order of `profiles`, from states and identities read by id.
pub(crate) fn summaries_in_order(
    profiles: &[ProfileId],
    mut states: BTreeMap<String, ProfileState>,
    mut identities: BTreeMap<String, Vec<IdentityRow>>,
) -> Vec<ProfileSummary> {
    profiles
        .iter()
        .filter_map(|p| {
            let state = states.remove(p.as_str())?;
            let mut identities = identities.remove(p.as_str()).unwrap_or_default();
            identities
                .sort_by(|a, b| (a.link.seq, &a.identifier).cmp(&(b.link.seq, &b.identifier)));
            Some(ProfileSummary {
                profile_id: p.clone(),
                state,
                identities,
            })
        })
        .collect()
}

/// A uniform random sample of `size` profiles (all of them when there are fewer), and how many
/// profiles there are: one reservoir pass over every profile id in id order, so the same
/// `seed` over the same profiles draws the same sample on every backend.
pub fn sample_profiles(
    store: &dyn Queries,
    size: usize,
    seed: u64,
) -> Result<(u64, Vec<ProfileId>)> {
    let mut reservoir = Reservoir::new(size, seed);
    let mut after: Option<ProfileId> = None;
    loop {
        let page = store.search_profiles(&ProfileSearch::default(), after.as_ref(), 10_000)?;
        let full = page.len() == 10_000;
        after = page.last().cloned();
        for id in page {
            reservoir.offer(id);
        }
        if !full {
            return Ok(reservoir.finish());
        }
    }
}

/// Reservoir sampling (algorithm R) with a seeded SplitMix64 generator: after `n` offers,
/// every `size`-subset of them is equally likely to be held.
pub struct Reservoir<T> {
    size: usize,
    seen: u64,
    state: u64,
    held: Vec<T>,
}

impl<T> Reservoir<T> {
    pub fn new(size: usize, seed: u64) -> Self {
        Reservoir {
            size,
            seen: 0,
            state: seed,
            held: Vec::with_capacity(size.min(1 << 16)),
        }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn offer(&mut self, item: T) {
        self.seen += 1;
        if self.held.len() < self.size {
            self.held.push(item);
            return;
        }
        // Uniform in 0..seen (the bias of the modulo is below 2^-40 for any real count).
        let j = self.next() % self.seen;
        if (j as usize) < self.size {
            self.held[j as usize] = item;
        }
    }

    /// How many were offered, and the sample.
    pub fn finish(self) -> (u64, Vec<T>) {
        (self.seen, self.held)
    }
}

/// An identifier of a deleted person: events carrying it are dropped while it is suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub identifier: Identifier,
    /// When it was suppressed (Unix ms); `None` for suppressions older than this record.
    pub suppressed_at_ms: Option<i64>,
    /// When an admin lifted it (Unix ms); `None` while it holds.
    pub lifted_at_ms: Option<i64>,
}

/// Reads for the admin API.
pub trait Queries: Send + Sync {
    fn profile_of(&self, id: &Identifier) -> Result<Option<ProfileId>>;
    fn profile(&self, profile: &ProfileId) -> Result<Option<ProfileRecord>>;
    /// Profiles found by `search` ([`ProfileSearch::matches`]), in id order after `after`, at
    /// most `limit`.
    fn search_profiles(
        &self,
        search: &ProfileSearch,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<ProfileId>>;
    /// These profiles' states and identities, read together; missing ones are left out, the
    /// others come in the order asked.
    fn profile_summaries(&self, profiles: &[ProfileId]) -> Result<Vec<ProfileSummary>>;
    /// Log positions of the profile's events, newest first, with their `(timestamp, seq)`.
    fn timeline(&self, profile: &ProfileId, filter: &TimelineFilter) -> Result<Vec<(i64, u64)>>;
    fn merges(&self, profile: &ProfileId) -> Result<Vec<MergeRow>>;
    fn merge(&self, merge_id: &str) -> Result<Option<MergeRow>>;
    fn refusals(&self, profile: &ProfileId) -> Result<Vec<RefusalRecord>>;
    fn is_suppressed(&self, id: &Identifier) -> Result<bool>;
    /// Suppressed identifiers and lifted suppressions, each in identifier order, the lifted
    /// ones newest first per identifier.
    fn suppressions(&self) -> Result<Vec<Suppression>>;
    fn processed_cursor(&self) -> Result<u64>;
    fn counter(&self, name: &str) -> Result<u64>;
    /// Quarantined events after position `after`, in log order.
    fn quarantined(&self, after: u64, limit: usize) -> Result<Vec<Quarantined>>;
    fn quarantined_count(&self) -> Result<u64>;
    /// Check the backend answers (for `/readyz`).
    fn ping(&self) -> Result<()>;
    /// Admin decisions a rebuild must respect: separations (undone merges) and suppressed
    /// identifiers (deleted people).
    fn admin_overrides(&self) -> Result<(Vec<herald_core::identity::Separation>, Vec<Identifier>)>;
    /// The whole projection in comparable form: for consistency checks (`herald verify`) and
    /// the conformance suite. Reads everything; not for hot paths.
    fn snapshot(&self) -> Result<herald_core::memory::Snapshot>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// Sends events (Segment write key). Not secret: it ships in browser code.
    Write,
    /// Reads and changes everything under `/api/v1`.
    Admin,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Write => "write",
            KeyKind::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<KeyKind> {
        match s {
            "write" => Some(KeyKind::Write),
            "admin" => Some(KeyKind::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub kind: KeyKind,
    pub name: String,
    /// The first characters of the secret, to tell keys apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// A new live key with a fresh id, for the given secret.
    pub fn new(kind: KeyKind, name: &str, secret: &str, now: DateTime<Utc>) -> ApiKey {
        ApiKey {
            id: format!("key_{}", uuid::Uuid::new_v4().simple()),
            kind,
            name: name.to_owned(),
            prefix: secret.chars().take(8).collect(),
            created_at: now,
            revoked_at: None,
        }
    }
}

/// API keys; secrets are stored only as SHA-256 hashes.
pub trait KeyStore: Send + Sync {
    /// Store a key with the given secret. Returns `None` if a key with that secret exists.
    fn insert_key(
        &self,
        kind: KeyKind,
        name: &str,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiKey>>;
    fn list_keys(&self) -> Result<Vec<ApiKey>>;
    /// Revoke; returns false when no such (unrevoked) key exists.
    fn revoke_key(&self, id: &str, now: DateTime<Utc>) -> Result<bool>;
    /// The live key of this kind with this secret.
    fn authenticate(&self, kind: KeyKind, secret: &str) -> Result<Option<ApiKey>>;
    fn count_keys(&self, kind: KeyKind) -> Result<usize>;
    /// How many keys were ever revoked. Keys are never deleted nor un-revoked, so it changes
    /// exactly when a key is revoked, by whatever process or node: servers poll it to drop
    /// cached key checks.
    fn revoked_key_count(&self) -> Result<u64>;
}

/// Everything a backend provides.
pub trait Store:
    EventLog
    + ProjectionBackend
    + Queries
    + KeyStore
    + UserStore
    + Audiences
    + insights::InsightsSource
    + templates::TemplateStore
    + messages::MessageStore
    + preferences::PreferenceStore
    + broadcasts::BroadcastStore
    + inbox::InboxStore
    + settings::SettingsStore
{
}
impl<T> Store for T where
    T: EventLog
        + ProjectionBackend
        + Queries
        + KeyStore
        + UserStore
        + Audiences
        + insights::InsightsSource
        + templates::TemplateStore
        + messages::MessageStore
        + preferences::PreferenceStore
        + broadcasts::BroadcastStore
        + inbox::InboxStore
        + settings::SettingsStore
{
}

/// The node's clock in Unix milliseconds, for the times admin records carry.
pub(crate) fn now_ms() -> i64 {
    clock::now_ms()
}

pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding a lock leaves no half-done transaction behind (rusqlite and
    // postgres roll back on drop), so what it guards is still usable.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn kind_of(s: &str) -> Result<IdKind> {
    s.parse()
        .map_err(|e: herald_core::identity::IdentifierError| StorageError::Corrupt(e.0))
}

pub(crate) fn refusal_from_row(
    seq: i64,
    kind: &str,
    value: String,
    reason: &str,
) -> Result<RefusalRecord> {
    Ok(RefusalRecord {
        seq: seq as u64,
        identifier: Identifier::new(kind_of(kind)?, value),
        reason: serde_json::from_value(serde_json::Value::String(reason.to_owned()))?,
    })
}

/// A membership history row, as both backends store it.
pub(crate) fn change_from_row(
    audience: String,
    entered: bool,
    at: i64,
    cause: &str,
) -> Result<MembershipChange> {
    let cause: herald_core::audience::Cause =
        serde_json::from_str(cause).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    Ok(MembershipChange {
        audience,
        entered,
        at,
        cause,
    })
}

/// SHA-256 of a key secret, hex-encoded.
pub fn hash_secret(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// A row limit for SQL (`usize::MAX` means no limit).
/// The first `limit` ids of the union of sets, given the first `limit` of each (any id
/// among the union's first `limit` is among its own set's first `limit`).
pub(crate) fn first_of_union(lists: Vec<Vec<String>>, limit: usize) -> Vec<String> {
    let mut all: Vec<String> = lists.into_iter().flatten().collect();
    all.sort_unstable();
    all.dedup();
    all.truncate(limit);
    all
}

/// [`AudienceStore::named_events_after`] from two per-name queries, so that each reads its
/// name's slice of the timeline index in order: `profiles(name, after, limit)` (the distinct
/// profiles after `after`, in order) and `events(name, after, last)` (`(profile, seq)` of
/// the profiles in `(after, last]`).
pub(crate) fn named_events_after(
    names: &BTreeSet<String>,
    after: Option<&ProfileId>,
    limit: usize,
    mut profiles: impl FnMut(&str, &str, usize) -> Result<Vec<String>>,
    mut events: impl FnMut(&str, &str, &str) -> Result<Vec<(String, u64)>>,
) -> Result<Vec<(ProfileId, Vec<u64>)>> {
    let after = after.map_or("", ProfileId::as_str);
    let lists = names
        .iter()
        .map(|name| profiles(name, after, limit))
        .collect::<Result<Vec<_>>>()?;
    let chosen = first_of_union(lists, limit);
    let Some(last) = chosen.last() else {
        return Ok(Vec::new());
    };
    let mut found: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for name in names {
        for (profile, seq) in events(name, after, last)? {
            found.entry(profile).or_default().push(seq);
        }
    }
    Ok(found
        .into_iter()
        .map(|(profile, mut seqs)| {
            seqs.sort_unstable();
            (ProfileId(profile), seqs)
        })
        .collect())
}

pub(crate) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Audience states read or written in one processing transaction, written back once at its
/// end: a batch that holds several events of one profile parses and stores its state once.
#[derive(Default)]
pub(crate) struct AudienceCache {
    entries: std::collections::HashMap<ProfileId, Cached>,
    flushed: bool,
}

struct Cached {
    /// `Some(None)`: the profile has no state (or it was dropped). `None`: not kept (it was
    /// only read, and is read again if asked for).
    state: Option<Option<AudienceState>>,
    /// What is to be written.
    pending: Option<Pending>,
    /// The facts the backend holds apart from the stored state (`None`: nothing apart).
    apart: Option<BTreeSet<String>>,
}

enum Pending {
    Whole,
    /// Only `built_for` and these facts ([`AudienceStore::save_audience_facts`]).
    Facts(BTreeSet<String>),
}

/// A state as read: with the facts the backend held apart from it, if any.
pub(crate) type Loaded = (Option<AudienceState>, Option<BTreeSet<String>>);

/// A changed state to write back.
pub(crate) struct Dirty {
    pub profile: ProfileId,
    pub state: Option<AudienceState>,
    pub write: Write,
}

pub(crate) enum Write {
    /// The whole state; `apart` says whether facts held apart are to be deleted.
    Whole { apart: bool },
    /// `built_for` and these facts, apart from the stored state (the ones held apart before
    /// included).
    Apart(BTreeSet<String>),
}

impl AudienceCache {
    pub(crate) fn get(
        &mut self,
        profile: &ProfileId,
        load: impl FnOnce() -> Result<Loaded>,
    ) -> Result<Option<AudienceState>> {
        if let Some(cached) = self.entries.get_mut(profile) {
            match (&mut cached.state, &cached.pending) {
                // Read ahead and not changed since: handed over (a later read reads it again).
                (state @ Some(_), None) => return Ok(state.take().flatten()),
                (Some(state), Some(_)) => return Ok(state.clone()),
                (None, _) => {}
            }
        }
        let (state, apart) = load()?;
        // Only what is held apart is remembered: a state read is usually saved next, so no
        // copy is kept of it.
        let cached = self.entries.entry(profile.clone()).or_insert(Cached {
            state: None,
            pending: None,
            apart: None,
        });
        cached.apart = apart;
        Ok(state)
    }

    /// Remember a state read with others, unless this transaction has one already.
    pub(crate) fn preload(&mut self, profile: ProfileId, (state, apart): Loaded) {
        self.entries.entry(profile).or_insert(Cached {
            state: Some(state),
            pending: None,
            apart,
        });
    }

    /// Whether this transaction read or changed the profile's state already.
    pub(crate) fn holds(&self, profile: &ProfileId) -> bool {
        self.entries.contains_key(profile)
    }

    /// Whether this transaction has written any state back yet.
    pub(crate) fn flushed(&self) -> bool {
        self.flushed
    }

    pub(crate) fn put(&mut self, profile: &ProfileId, state: Option<AudienceState>) {
        let cached = self.entry(profile);
        cached.state = Some(state);
        cached.pending = Some(Pending::Whole);
    }

    /// Store `state`, which differs from the one stored only in `built_for` and `rebuilt`.
    pub(crate) fn put_facts(
        &mut self,
        profile: &ProfileId,
        state: AudienceState,
        rebuilt: &BTreeSet<String>,
    ) {
        if !self.entries.contains_key(profile) {
            // Not read first: what is held apart is unknown, so the whole state is written.
            return self.put(profile, Some(state));
        }
        let cached = self.entry(profile);
        cached.state = Some(Some(state));
        cached.pending = match cached.pending.take() {
            None => Some(Pending::Facts(rebuilt.clone())),
            Some(Pending::Facts(earlier)) => {
                Some(Pending::Facts(earlier.union(rebuilt).cloned().collect()))
            }
            Some(Pending::Whole) => Some(Pending::Whole),
        };
    }

    fn entry(&mut self, profile: &ProfileId) -> &mut Cached {
        self.entries.entry(profile.clone()).or_insert(Cached {
            state: None,
            pending: None,
            // Not read first: whatever is held apart must go with a whole write.
            apart: Some(BTreeSet::new()),
        })
    }

    /// The changed entries, leaving the cache clean (written states are not kept: a later
    /// read in the transaction reads what was written).
    pub(crate) fn take_dirty(&mut self) -> Vec<Dirty> {
        let dirty: Vec<ProfileId> = self
            .entries
            .iter()
            .filter(|(_, c)| c.pending.is_some())
            .map(|(p, _)| p.clone())
            .collect();
        let mut out = Vec::with_capacity(dirty.len());
        for profile in dirty {
            let Some(cached) = self.entries.remove(&profile) else {
                continue;
            };
            let write = match cached.pending {
                Some(Pending::Facts(rebuilt)) => {
                    let apart = cached.apart.unwrap_or_default();
                    Write::Apart(apart.union(&rebuilt).cloned().collect())
                }
                _ => Write::Whole {
                    apart: cached.apart.is_some(),
                },
            };
            out.push(Dirty {
                profile,
                state: cached.state.flatten(),
                write,
            });
        }
        self.flushed |= !out.is_empty();
        out
    }
}
