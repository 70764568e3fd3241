//! Cluster mode's store: the event log in JetStream, everything else in PostgreSQL.

use herald_core::event::Event;
use herald_core::identity::{Identifier, ProfileId, Separation};
use herald_core::memory::Snapshot;
use herald_core::projection::RefusalRecord;

use crate::jetstream::{JetStreamConfig, JetStreamLog};
use crate::postgres::PgState;
use herald_core::audience::{AudienceState, MembershipChange};

use crate::{
    ApiKey, AppendOutcome, Audiences, Backfill, Definitions, EncodedEvent, EventLog, KeyKind,
    KeyStore, LogRead, MergeRow, Partitioned, ProfileRecord, ProfileSearch, ProfileSummary,
    ProjectionBackend, Quarantined, Queries, Result, Routed, SequencerWork, StateTxn, StorageError,
    TimelineFilter,
};

#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `postgres://…`
    pub database_url: String,
    pub bus: JetStreamConfig,
    /// Partitions of a new cluster; an existing one keeps the count it was created with.
    pub partitions: u32,
}

/// Partitions of a new cluster unless configured: a multiple of 1, 2, 3, 4 and 6 nodes.
pub const DEFAULT_PARTITIONS: u32 = 12;

pub struct ClusterStore {
    pub log: JetStreamLog,
    pub state: PgState,
    /// Set for throwaway clusters: removes the database and the stream on drop.
    pub(crate) scratch: Option<Scratch>,
}

impl ClusterStore {
    /// Connect to both, migrating the schema and creating the stream if needed. Blocking: call
    /// it outside the runtime's worker threads (`spawn_blocking`), passing that runtime.
    pub fn connect(handle: tokio::runtime::Handle, config: &ClusterConfig) -> Result<ClusterStore> {
        let mut state = PgState::connect(&config.database_url)?;
        state.claim_partition_count(config.partitions)?;
        let log = JetStreamLog::connect(handle, &config.bus)?;
        Ok(ClusterStore {
            log,
            state,
            scratch: None,
        })
    }

    /// A throwaway cluster store in its own new database and stream, removed when dropped:
    /// for tests and benchmarks. `server_url` is a database URL on the same server (its
    /// database is only used to create and drop the new one).
    pub fn scratch(
        handle: tokio::runtime::Handle,
        server_url: &str,
        nats_url: &str,
    ) -> Result<ClusterStore> {
        let scratch = Scratch::create(server_url, nats_url)?;
        let mut store = ClusterStore::connect(handle, &scratch.config()?)?;
        store.scratch = Some(scratch);
        Ok(store)
    }
}

/// A database and a stream created for one test; both removed when it is dropped.
pub struct Scratch {
    server_url: String,
    nats_url: String,
    pub name: String,
}

impl Scratch {
    /// Create a new empty database named after a fresh id; the stream of the same name is
    /// created by the first node that connects.
    pub fn create(server_url: &str, nats_url: &str) -> Result<Scratch> {
        let name = format!("herald_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = postgres::Client::connect(server_url, postgres::NoTls)?;
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(Scratch {
            server_url: server_url.to_owned(),
            nats_url: nats_url.to_owned(),
            name,
        })
    }

    /// The cluster configuration of this scratch database and stream.
    pub fn config(&self) -> Result<ClusterConfig> {
        let mut pg: postgres::Config = self.server_url.parse()?;
        pg.dbname(&self.name);
        Ok(ClusterConfig {
            database_url: database_url(&pg),
            bus: JetStreamConfig {
                url: self.nats_url.clone(),
                name: self.name.clone(),
                duplicate_window: std::time::Duration::from_secs(86_400),
                replicas: 1,
            },
            partitions: DEFAULT_PARTITIONS,
        })
    }

    /// The `herald serve` flags that make a node of this cluster.
    pub fn serve_args(&self) -> Result<Vec<String>> {
        let config = self.config()?;
        Ok(vec![
            "--database-url".into(),
            config.database_url,
            "--bus-url".into(),
            config.bus.url,
            "--cluster-name".into(),
            config.bus.name,
        ])
    }

    /// Run SQL statements on this cluster's database as they are: tests use it to damage
    /// state on purpose (and `herald verify` must notice).
    pub fn execute_sql(&self, sql: &str) -> Result<()> {
        let config = self.config()?;
        let url = config.database_url;
        let sql = sql.to_owned();
        // On a thread of its own: the blocking client must not run inside a runtime.
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
            client.batch_execute(&sql)?;
            Ok(())
        })
        .join()
        .map_err(|_| StorageError::Database("the SQL thread panicked".into()))?
    }

    /// Append bytes to the stream as they are, bypassing ingest's checks: tests use it to put
    /// an event the processor cannot read into the log. Returns its position.
    pub fn publish_raw(&self, payload: &[u8]) -> Result<u64> {
        let (_, subject) = crate::jetstream::stream_names(&self.name)?;
        let (url, payload) = (self.nats_url.clone(), payload.to_vec());
        let err = |e: &dyn std::fmt::Display| StorageError::Database(e.to_string());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| err(&e))?;
            rt.block_on(async {
                let client = async_nats::connect(url.as_str())
                    .await
                    .map_err(|e| err(&e))?;
                let ack = async_nats::jetstream::new(client)
                    .publish(subject, payload.into())
                    .await
                    .map_err(|e| err(&e))?
                    .await
                    .map_err(|e| err(&e))?;
                Ok(ack.sequence)
            })
        })
        .join()
        .map_err(|_| StorageError::Database("publishing panicked".into()))?
    }

    fn delete_stream(&self) -> Result<()> {
        let (stream, _) = crate::jetstream::stream_names(&self.name)?;
        let url = self.nats_url.clone();
        // On a thread of its own: the caller may be inside a runtime.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| StorageError::Database(e.to_string()))?;
            rt.block_on(async {
                let client = async_nats::connect(url.as_str())
                    .await
                    .map_err(|e| StorageError::Database(e.to_string()))?;
                match async_nats::jetstream::new(client)
                    .delete_stream(&stream)
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(e) => Err(StorageError::Database(e.to_string())),
                }
            })
        })
        .join()
        .map_err(|_| StorageError::Database("stream deletion panicked".into()))?
    }
}

/// A `postgres://` URL for a parsed configuration (host, port, user, database).
fn database_url(pg: &postgres::Config) -> String {
    let host = match pg.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    let user = pg.get_user().unwrap_or("postgres");
    let db = pg.get_dbname().unwrap_or("postgres");
    format!("postgres://{user}@{host}:{port}/{db}")
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = self.delete_stream() {
            tracing::debug!(error = %e, stream = %self.name, "could not delete a scratch stream");
        }
        let dropped =
            postgres::Client::connect(&self.server_url, postgres::NoTls).and_then(|mut c| {
                c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
            });
        if let Err(e) = dropped {
            tracing::warn!(error = %e, database = %self.name, "could not drop a scratch database");
        }
    }
}

impl EventLog for ClusterStore {
    fn append(&self, events: &[EncodedEvent]) -> Result<AppendOutcome> {
        self.log.append(events)
    }
    /// The stream's events with the replaced ones (`log_replacements`) read at their
    /// positions, whether or not the original is still in the stream.
    fn read_after(&self, after: u64, limit: usize) -> Result<LogRead> {
        let read = self.log.read_after(after, limit)?;
        // A short read reached the head: replacements up to it belong in this read too.
        let upto = if read.events.len() + read.unreadable.len() < limit {
            None
        } else {
            read.last()
        };
        let replaced = self.state.log_replacements_after(after, upto, limit)?;
        if replaced.is_empty() {
            return Ok(read);
        }
        let mut all: std::collections::BTreeMap<u64, std::result::Result<Event, String>> = read
            .events
            .into_iter()
            .map(|(s, e)| (s, Ok(e)))
            .chain(read.unreadable.into_iter().map(|u| (u.seq, Err(u.reason))))
            .collect();
        for (seq, text) in replaced {
            all.insert(seq, crate::decode(text.as_bytes()));
        }
        let mut out = LogRead::default();
        for (seq, event) in all.into_iter().take(limit) {
            out.push(seq, event);
        }
        Ok(out)
    }
    fn stored_text(&self, seq: u64) -> Result<Option<String>> {
        match self.state.log_replacements(&[seq])?.pop() {
            Some((_, text)) => Ok(Some(text)),
            None => self.log.stored_text(seq),
        }
    }
    fn load(&self, seqs: &[u64]) -> Result<Vec<(u64, Event)>> {
        let mut events = self.log.load(seqs)?;
        let replaced = self.state.log_replacements(seqs)?;
        if replaced.is_empty() {
            return Ok(events);
        }
        events.retain(|(s, _)| !replaced.iter().any(|(r, _)| r == s));
        for (seq, text) in replaced {
            let event = crate::decode(text.as_bytes())
                .map_err(|e| StorageError::Corrupt(format!("event {seq}: {e}")))?;
            events.push((seq, event));
        }
        events.sort_by_key(|(s, _)| *s);
        Ok(events)
    }
    fn delete(&self, seqs: &[u64]) -> Result<()> {
        self.log.delete(seqs)
    }
    fn head(&self) -> Result<u64> {
        self.log.head()
    }
}

impl ProjectionBackend for ClusterStore {
    fn in_transaction(&self, f: &mut dyn FnMut(&mut dyn StateTxn) -> Result<()>) -> Result<()> {
        self.state.in_transaction(f)
    }
    fn pending_log_deletions(&self) -> Result<Vec<u64>> {
        self.state.pending_log_deletions()
    }
    fn finish_log_replacements(&self) -> Result<()> {
        self.state.finish_log_replacements()
    }
    fn confirm_log_deletions(&self, seqs: &[u64]) -> Result<()> {
        self.state.confirm_log_deletions(seqs)
    }
    fn release_memory(&self) -> Result<()> {
        self.state.release_memory()
    }
    fn hold_processing_lease(&self) -> Result<bool> {
        self.state.hold_processing_lease()
    }
    fn release_processing_lease(&self) {
        self.state.release_processing_lease()
    }
    fn partitioned(&self) -> Option<&dyn Partitioned> {
        Some(self)
    }
}

/// The state's, announcing on the bus what wakes other nodes' partitions.
impl Partitioned for ClusterStore {
    fn partition_count(&self) -> u32 {
        self.state.partition_count()
    }
    fn balance_partitions(&self) -> Result<Vec<u32>> {
        self.state.balance_partitions()
    }
    fn release_partitions(&self) {
        self.state.release_partitions()
    }
    fn owned_partitions(&self) -> Vec<u32> {
        self.state.owned_partitions()
    }
    fn in_sequencer_transaction(&self, f: &mut SequencerWork<'_>) -> Result<()> {
        let mut routed = false;
        self.state.in_sequencer_transaction(&mut |txn, out| {
            f(txn, out)?;
            routed = !out.is_empty();
            Ok(())
        })?;
        if routed {
            self.log.announce_progress();
        }
        Ok(())
    }
    fn routed(&self, partitions: &[u32], limit: usize) -> Result<Vec<Routed>> {
        self.state.routed(partitions, limit)
    }
    fn pending_before(&self, partitions: &[u32], before: u64) -> Result<bool> {
        self.state.pending_before(partitions, before)
    }
    fn pending(&self) -> Result<bool> {
        self.state.pending()
    }
    fn in_partition_transaction(
        &self,
        done: &[Routed],
        definitions: u64,
        f: &mut dyn FnMut(&mut dyn StateTxn) -> Result<()>,
    ) -> Result<()> {
        self.state.in_partition_transaction(done, definitions, f)?;
        self.log.announce_progress();
        Ok(())
    }
    fn hold_sequencer(&self, until_ms: Option<i64>) -> Result<()> {
        self.state.hold_sequencer(until_ms)
    }
    fn sequencer_held_until(&self) -> Result<i64> {
        self.state.sequencer_held_until()
    }
    fn sequenced(&self) -> Result<u64> {
        self.state.sequenced()
    }
    fn backlog(&self) -> Result<Vec<(u32, u64)>> {
        self.state.backlog()
    }
}

impl Queries for ClusterStore {
    fn profile_of(&self, id: &Identifier) -> Result<Option<ProfileId>> {
        self.state.profile_of(id)
    }
    fn profile(&self, profile: &ProfileId) -> Result<Option<ProfileRecord>> {
        self.state.profile(profile)
    }
    fn search_profiles(
        &self,
        search: &ProfileSearch,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<ProfileId>> {
        self.state.search_profiles(search, after, limit)
    }
    fn profile_summaries(&self, profiles: &[ProfileId]) -> Result<Vec<ProfileSummary>> {
        self.state.profile_summaries(profiles)
    }
    fn timeline(&self, profile: &ProfileId, filter: &TimelineFilter) -> Result<Vec<(i64, u64)>> {
        self.state.timeline(profile, filter)
    }
    fn merges(&self, profile: &ProfileId) -> Result<Vec<MergeRow>> {
        self.state.merges(profile)
    }
    fn merge(&self, merge_id: &str) -> Result<Option<MergeRow>> {
        self.state.merge(merge_id)
    }
    fn refusals(&self, profile: &ProfileId) -> Result<Vec<RefusalRecord>> {
        self.state.refusals(profile)
    }
    fn is_suppressed(&self, id: &Identifier) -> Result<bool> {
        self.state.is_suppressed(id)
    }
    fn suppressions(&self) -> Result<Vec<crate::Suppression>> {
        self.state.suppressions()
    }
    fn processed_cursor(&self) -> Result<u64> {
        self.state.processed_cursor()
    }
    fn counter(&self, name: &str) -> Result<u64> {
        self.state.counter(name)
    }
    fn quarantined(&self, after: u64, limit: usize) -> Result<Vec<Quarantined>> {
        self.state.quarantined(after, limit)
    }
    fn quarantined_count(&self) -> Result<u64> {
        self.state.quarantined_count()
    }
    /// Both the database and the bus must answer.
    fn ping(&self) -> Result<()> {
        self.state.ping()?;
        self.log.ping()
    }
    fn admin_overrides(&self) -> Result<(Vec<Separation>, Vec<Identifier>)> {
        self.state.admin_overrides()
    }
    fn snapshot(&self) -> Result<Snapshot> {
        self.state.snapshot()
    }
}

impl KeyStore for ClusterStore {
    fn insert_key(
        &self,
        kind: KeyKind,
        name: &str,
        secret: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<ApiKey>> {
        self.state.insert_key(kind, name, secret, now)
    }
    fn list_keys(&self) -> Result<Vec<ApiKey>> {
        self.state.list_keys()
    }
    fn revoke_key(&self, id: &str, now: chrono::DateTime<chrono::Utc>) -> Result<bool> {
        self.state.revoke_key(id, now)
    }
    fn authenticate(&self, kind: KeyKind, secret: &str) -> Result<Option<ApiKey>> {
        self.state.authenticate(kind, secret)
    }
    fn count_keys(&self, kind: KeyKind) -> Result<usize> {
        self.state.count_keys(kind)
    }
    fn revoked_key_count(&self) -> Result<u64> {
        self.state.revoked_key_count()
    }
}

/// Dashboard users and sessions live in PostgreSQL, like keys.
impl crate::UserStore for ClusterStore {
    fn create_user(&self, user: &crate::DashboardUser, only_if_none: bool) -> Result<bool> {
        self.state.create_user(user, only_if_none)
    }
    fn users(&self) -> Result<Vec<crate::DashboardUser>> {
        self.state.users()
    }
    fn user(&self, id: &str) -> Result<Option<crate::DashboardUser>> {
        self.state.user(id)
    }
    fn user_by_email(&self, email: &str) -> Result<Option<crate::DashboardUser>> {
        self.state.user_by_email(email)
    }
    fn update_user(&self, id: &str, update: &crate::UserUpdate) -> Result<crate::UserChange> {
        self.state.update_user(id, update)
    }
    fn delete_user(&self, id: &str) -> Result<crate::UserChange> {
        self.state.delete_user(id)
    }
    fn create_session(&self, session: &crate::DashboardSession) -> Result<()> {
        self.state.create_session(session)
    }
    fn session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(crate::DashboardSession, crate::DashboardUser)>> {
        self.state.session(token_hash)
    }
    fn touch_session(&self, token_hash: &str, last_seen_ms: i64) -> Result<()> {
        self.state.touch_session(token_hash, last_seen_ms)
    }
    fn revoke_session(&self, token_hash: &str) -> Result<bool> {
        self.state.revoke_session(token_hash)
    }
    fn revoke_user_sessions(&self, user_id: &str) -> Result<u64> {
        self.state.revoke_user_sessions(user_id)
    }
    fn expire_sessions(&self, idle_before_ms: i64, created_before_ms: i64) -> Result<u64> {
        self.state
            .expire_sessions(idle_before_ms, created_before_ms)
    }
    fn record_failed_sign_in(&self, email: &str, at_ms: i64) -> Result<()> {
        self.state.record_failed_sign_in(email, at_ms)
    }
    fn failed_sign_ins(&self, email: &str, since_ms: i64) -> Result<Vec<i64>> {
        self.state.failed_sign_ins(email, since_ms)
    }
    fn clear_failed_sign_ins(&self, email: &str) -> Result<()> {
        self.state.clear_failed_sign_ins(email)
    }
    fn forget_failed_sign_ins(&self, before_ms: i64) -> Result<u64> {
        self.state.forget_failed_sign_ins(before_ms)
    }
}

impl crate::insights::InsightsSource for ClusterStore {
    fn insights_rows(
        &self,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<crate::insights::InsightsRow>> {
        self.state.insights_rows(after, upto, limit)
    }
    fn insights_rows_at(&self, seqs: &[u64]) -> Result<Vec<crate::insights::InsightsRow>> {
        self.state.insights_rows_at(seqs)
    }
    fn insights_change_mark(&self) -> Result<u64> {
        self.state.insights_change_mark()
    }
    fn insights_changes(&self, mark: u64) -> Result<(Vec<ProfileId>, u64)> {
        self.state.insights_changes(mark)
    }
    fn saved_insights(&self) -> Result<Vec<crate::insights::SavedInsight>> {
        self.state.saved_insights()
    }
    fn saved_insight(&self, id: &str) -> Result<Option<crate::insights::SavedInsight>> {
        self.state.saved_insight(id)
    }
    fn put_saved_insight(&self, insight: &crate::insights::SavedInsight) -> Result<bool> {
        self.state.put_saved_insight(insight)
    }
    fn delete_saved_insight(&self, id: &str) -> Result<bool> {
        self.state.delete_saved_insight(id)
    }
}

impl Audiences for ClusterStore {
    fn definitions(&self) -> Result<Definitions> {
        self.state.definitions()
    }
    fn definitions_version(&self) -> Result<u64> {
        self.state.definitions_version()
    }
    fn change_definitions(
        &self,
        change: &mut dyn FnMut(&mut Definitions) -> bool,
    ) -> Result<Option<u64>> {
        self.state.change_definitions(change)
    }
    fn backfill_status(&self) -> Result<Option<Backfill>> {
        self.state.backfill_status()
    }
    fn members(
        &self,
        audience: &str,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<(ProfileId, i64)>> {
        self.state.members(audience, after, limit)
    }
    fn member_count(&self, audience: &str) -> Result<u64> {
        self.state.member_count(audience)
    }
    fn audience_state_of(&self, profile: &ProfileId) -> Result<Option<AudienceState>> {
        self.state.audience_state_of(profile)
    }
    fn membership_history(
        &self,
        profile: &ProfileId,
        limit: usize,
    ) -> Result<Vec<MembershipChange>> {
        self.state.membership_history(profile, limit)
    }
    fn size_history(&self, audience: &str) -> Result<Vec<(i64, u64, u64)>> {
        self.state.size_history(audience)
    }
}

impl crate::templates::TemplateStore for ClusterStore {
    fn templates(&self) -> Result<Vec<crate::templates::TemplateSummary>> {
        self.state.templates()
    }
    fn template(
        &self,
        id: &str,
        version: Option<u32>,
    ) -> Result<Option<crate::templates::TemplateVersion>> {
        self.state.template(id, version)
    }
    fn template_versions(&self, id: &str) -> Result<Vec<crate::templates::TemplateVersion>> {
        self.state.template_versions(id)
    }
    fn save_template(
        &self,
        id: &str,
        name: &str,
        channel: &str,
        content: &serde_json::Value,
        expect: crate::templates::Expect,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::templates::Saved> {
        self.state
            .save_template(id, name, channel, content, expect, now)
    }
    fn delete_template(&self, id: &str) -> Result<bool> {
        self.state.delete_template(id)
    }
}

impl crate::messages::MessageStore for ClusterStore {
    fn enqueue_messages(&self, messages: &[crate::messages::MessageRecord]) -> Result<usize> {
        self.state.enqueue_messages(messages)
    }
    fn due_messages(
        &self,
        statuses: &[&str],
        partitions: Option<&[u32]>,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<crate::messages::MessageRecord>> {
        self.state.due_messages(statuses, partitions, now_ms, limit)
    }
    fn update_message(
        &self,
        message: &crate::messages::MessageRecord,
        previous: &crate::messages::MessageRecord,
    ) -> Result<bool> {
        self.state.update_message(message, previous)
    }
    fn decide_message(
        &self,
        message: &crate::messages::MessageRecord,
        previous: &crate::messages::MessageRecord,
        ledger: crate::messages::LedgerSeen,
    ) -> Result<bool> {
        self.state.decide_message(message, previous, ledger)
    }
    fn message(&self, id: &str) -> Result<Option<crate::messages::MessageRecord>> {
        self.state.message(id)
    }
    fn ledger(
        &self,
        profile_id: &str,
        since_ms: i64,
    ) -> Result<Vec<crate::messages::MessageRecord>> {
        self.state.ledger(profile_id, since_ms)
    }
    fn profile_messages(
        &self,
        profile_id: &str,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<crate::messages::MessageRecord>> {
        self.state.profile_messages(profile_id, before, limit)
    }
    fn list_messages(
        &self,
        filter: &crate::messages::MessageFilter,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<crate::messages::MessageRecord>> {
        self.state.list_messages(filter, before, limit)
    }
    fn erase_messages(&self, profile_ids: &[String], now_ms: i64) -> Result<u64> {
        self.state.erase_messages(profile_ids, now_ms)
    }
    fn message_counts(&self, source: &str) -> Result<std::collections::BTreeMap<String, u64>> {
        self.state.message_counts(source)
    }
    fn message_outcomes(
        &self,
        source: &str,
    ) -> Result<std::collections::BTreeMap<(String, String), u64>> {
        self.state.message_outcomes(source)
    }
    fn move_messages(
        &self,
        source: &str,
        from: &[&str],
        to: &str,
        reason: Option<&str>,
        updated_ms: i64,
    ) -> Result<u64> {
        self.state
            .move_messages(source, from, to, reason, updated_ms)
    }
}

impl crate::preferences::PreferenceStore for ClusterStore {
    fn address_preferences(
        &self,
        channel: &str,
        address: &str,
    ) -> Result<Option<crate::preferences::AddressPreferences>> {
        self.state.address_preferences(channel, address)
    }
    fn put_address_preferences(
        &self,
        next: &crate::preferences::AddressPreferences,
        previous_ms: Option<i64>,
    ) -> Result<bool> {
        self.state.put_address_preferences(next, previous_ms)
    }
    fn address_suppressions(
        &self,
        channel: &str,
        addresses: &[String],
    ) -> Result<Vec<crate::preferences::AddressSuppression>> {
        self.state.address_suppressions(channel, addresses)
    }
    fn suppress_address(
        &self,
        suppression: &crate::preferences::AddressSuppression,
    ) -> Result<bool> {
        self.state.suppress_address(suppression)
    }
    fn unsuppress_address(&self, channel: &str, address: &str) -> Result<bool> {
        self.state.unsuppress_address(channel, address)
    }
    fn list_address_suppressions(
        &self,
        channel: Option<&str>,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<crate::preferences::AddressSuppression>> {
        self.state.list_address_suppressions(channel, after, limit)
    }
    fn shared_secret(&self, name: &str, generated: &str) -> Result<String> {
        self.state.shared_secret(name, generated)
    }
}

impl crate::broadcasts::BroadcastStore for ClusterStore {
    fn create_broadcast(&self, broadcast: &crate::broadcasts::BroadcastRecord) -> Result<bool> {
        self.state.create_broadcast(broadcast)
    }
    fn broadcast(&self, id: &str) -> Result<Option<crate::broadcasts::BroadcastRecord>> {
        self.state.broadcast(id)
    }
    fn broadcasts(
        &self,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<crate::broadcasts::BroadcastRecord>> {
        self.state.broadcasts(before, limit)
    }
    fn update_broadcast(
        &self,
        next: &crate::broadcasts::BroadcastRecord,
        previous_ms: i64,
    ) -> Result<bool> {
        self.state.update_broadcast(next, previous_ms)
    }
    fn due_broadcasts(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<crate::broadcasts::BroadcastRecord>> {
        self.state.due_broadcasts(now_ms, limit)
    }
}

impl crate::settings::SettingsStore for ClusterStore {
    fn settings_document(&self, name: &str) -> Result<Option<crate::settings::SettingsDocument>> {
        self.state.settings_document(name)
    }
    fn save_settings_document(
        &self,
        name: &str,
        document: &str,
        expected: u64,
        now_ms: i64,
    ) -> Result<Option<u64>> {
        self.state
            .save_settings_document(name, document, expected, now_ms)
    }
}

impl crate::inbox::InboxStore for ClusterStore {
    fn put_inbox_item(&self, item: &crate::inbox::InboxItem) -> Result<bool> {
        self.state.put_inbox_item(item)
    }
    fn inbox_item(
        &self,
        user_id: &str,
        message_id: &str,
    ) -> Result<Option<crate::inbox::InboxItem>> {
        self.state.inbox_item(user_id, message_id)
    }
    fn inbox_items(
        &self,
        user_id: &str,
        filter: crate::inbox::InboxFilter,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<crate::inbox::InboxItem>> {
        self.state.inbox_items(user_id, filter, before, limit)
    }
    fn inbox_items_after(
        &self,
        user_id: &str,
        after: (i64, &str),
        limit: usize,
    ) -> Result<Vec<crate::inbox::InboxItem>> {
        self.state.inbox_items_after(user_id, after, limit)
    }
    fn mark_inbox_item(
        &self,
        user_id: &str,
        message_id: &str,
        mark: crate::inbox::InboxMark,
        at_ms: i64,
    ) -> Result<Option<(crate::inbox::InboxItem, bool)>> {
        self.state.mark_inbox_item(user_id, message_id, mark, at_ms)
    }
    fn mark_inbox_seen(&self, user_id: &str, at_ms: i64) -> Result<u64> {
        self.state.mark_inbox_seen(user_id, at_ms)
    }
    fn inbox_counts(&self, user_id: &str) -> Result<crate::inbox::InboxCounts> {
        self.state.inbox_counts(user_id)
    }
    fn delete_inbox_items(&self, user_ids: &[String]) -> Result<u64> {
        self.state.delete_inbox_items(user_ids)
    }
}
