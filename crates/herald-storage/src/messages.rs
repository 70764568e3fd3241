//! The [`MessageStore`] port: every message Herald decides to send or not — the send queue,
//! the governor's ledger and the message log in one table. A message's id is its
//! idempotency key: enqueueing it again changes nothing. Its status moves forward only by a
//! compare-and-set on its status and `updated_ms` ([`MessageStore::update_message`]), so two
//! workers never both decide or hand over the same version of it.
//! Times are Unix milliseconds from the caller's clock.

use std::collections::BTreeMap;

use crate::Result;

/// One message and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// The idempotency key (herald_messaging::message::MessageId).
    pub id: String,
    pub profile_id: String,
    /// The profile's partition (`partition_of` with the cluster's count; 0 embedded): the
    /// worker of that partition decides its messages, in order, per person.
    pub partition: u32,
    pub channel: String,
    /// What asked for it: `broadcast:<id>`, `api`, later `journey:<id>`.
    pub source: String,
    pub template_id: String,
    pub template_version: u32,
    pub category: String,
    /// The subscription topic it belongs to.
    pub topic: Option<String>,
    pub priority: String,
    pub transactional: bool,
    /// `queued`, `deferred`, `sending`, `sent`, `delivered`, `skipped`, `failed`, … (the
    /// lifecycle of herald_messaging::message::Status).
    pub status: String,
    /// Why it is where it is (a governor reason, a provider's error code).
    pub reason: Option<String>,
    pub address: Option<String>,
    /// When to consider it next (queued and deferred messages).
    pub due_ms: i64,
    /// When the governor let it through: from then on it counts toward caps.
    pub decided_ms: Option<i64>,
    pub attempts: u32,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub error: Option<String>,
    /// The event that triggered it (its JSON), rendered as `event` in the template.
    pub event: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// Which messages the overall log shows: each given field must match exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFilter {
    pub status: Option<String>,
    pub channel: Option<String>,
    pub source: Option<String>,
    pub template_id: Option<String>,
}

/// The ledger a decision was made with: how many of the profile's messages had been decided
/// at or after `since_ms` ([`MessageStore::ledger`] read `entries` of them). Entries only
/// arrive (a decision's time is never changed), so the same count means the same ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerSeen {
    pub since_ms: i64,
    pub entries: usize,
}

pub trait MessageStore: Send + Sync {
    /// Store the messages whose id is not stored yet; returns how many were new.
    fn enqueue_messages(&self, messages: &[MessageRecord]) -> Result<usize>;
    /// Messages with one of `statuses`, due at `now_ms` or before, in the given partitions
    /// (`None`: all), the earliest due first, at most `limit`.
    fn due_messages(
        &self,
        statuses: &[&str],
        partitions: Option<&[u32]>,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<MessageRecord>>;
    /// Replace a message if it is still as `previous` was read (the same status and
    /// `updated_ms`); false, and nothing changed, when another writer changed it first. The
    /// caller gives the new version a later `updated_ms` than `previous`.
    fn update_message(&self, message: &MessageRecord, previous: &MessageRecord) -> Result<bool>;
    /// [`MessageStore::update_message`] for the governor's decision to send: it also fails,
    /// changing nothing, when the profile's ledger since `ledger.since_ms` no longer holds
    /// `ledger.entries` messages — another worker (another node) decided for the person
    /// meanwhile, and the decision must be made again with the ledger as it is now. Decisions
    /// for one person are serialized, so two of them never both let a capped message through.
    fn decide_message(
        &self,
        message: &MessageRecord,
        previous: &MessageRecord,
        ledger: LedgerSeen,
    ) -> Result<bool>;
    fn message(&self, id: &str) -> Result<Option<MessageRecord>>;
    /// A profile's messages the governor let through at or after `since_ms` (its ledger).
    fn ledger(&self, profile_id: &str, since_ms: i64) -> Result<Vec<MessageRecord>>;
    /// A profile's messages, newest first, created before `before` (`(created_ms, id)`).
    fn profile_messages(
        &self,
        profile_id: &str,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<MessageRecord>>;
    /// Every message matching `filter`, newest first, created before `before`
    /// (`(created_ms, id)`): the overall message log.
    fn list_messages(
        &self,
        filter: &MessageFilter,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<MessageRecord>>;
    /// Erase what the messages of these (deleted) profiles hold of their person — the
    /// address, the triggering event, the provider's error text — stamped `now_ms`; those not
    /// finished (queued, deferred, sending) become `skipped` with the reason
    /// `profile_deleted`, so no worker sends them. The rows stay, counted in their source's
    /// progress. Returns how many were erased.
    fn erase_messages(&self, profile_ids: &[String], now_ms: i64) -> Result<u64>;
    /// A source's messages, counted by status.
    fn message_counts(&self, source: &str) -> Result<BTreeMap<String, u64>>;
    /// A source's skipped and failed messages, counted by (status, reason).
    fn message_outcomes(&self, source: &str) -> Result<BTreeMap<(String, String), u64>>;
    /// Move a source's messages with one of `from` statuses to `to` (with `reason`, stamped
    /// `updated_ms`): a broadcast's pause, resume and cancel. Returns how many moved. A
    /// worker's compare-and-set on a message moved meanwhile fails, so it is not sent.
    fn move_messages(
        &self,
        source: &str,
        from: &[&str],
        to: &str,
        reason: Option<&str>,
        updated_ms: i64,
    ) -> Result<u64>;
}

/// The columns of `messages`, in the order the adapters read and write them.
pub(crate) const COLUMNS: &str = "id, profile_id, partition_no, channel, source, template_id, \
    template_version, category, topic, priority, transactional, status, reason, address, due_ms, \
    decided_ms, attempts, provider, provider_message_id, error, event, created_ms, updated_ms";
