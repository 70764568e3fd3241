//! The [`BroadcastStore`] port: broadcasts and their fan-out's progress. A broadcast changes
//! only by compare-and-set on its `updated_ms`, so the fan-out of two nodes, and a pause or
//! cancel from the API meanwhile, never overwrite one another. Its messages are ordinary
//! messages (herald_storage::messages) with the source `broadcast:<id>`.

use crate::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastRecord {
    /// A UUID (the holdout's scope).
    pub id: String,
    pub name: String,
    pub template_id: String,
    /// The template's version when the broadcast was created: every message renders it.
    pub template_version: u32,
    pub audience_id: String,
    pub topic: Option<String>,
    pub category: String,
    pub priority: String,
    pub transactional: bool,
    /// 0 to 100.
    pub holdout_percent: f64,
    /// `at:<RFC 3339>` or `local:<YYYY-MM-DDTHH:MM:SS>@<fallback zone>`.
    pub schedule: String,
    /// When the fan-out may start (Unix ms).
    pub start_ms: i64,
    /// herald_messaging::broadcast::Status.
    pub status: String,
    /// The last member enqueued (members are read in profile id order).
    pub cursor: Option<String>,
    /// Members enqueued (held-out ones included).
    pub enqueued: u64,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub finished_ms: Option<i64>,
}

pub trait BroadcastStore: Send + Sync {
    /// Store a new broadcast; false when its id exists.
    fn create_broadcast(&self, broadcast: &BroadcastRecord) -> Result<bool>;
    fn broadcast(&self, id: &str) -> Result<Option<BroadcastRecord>>;
    /// Newest first, created before `before` (`(created_ms, id)`), at most `limit`.
    fn broadcasts(&self, before: Option<(i64, &str)>, limit: usize)
        -> Result<Vec<BroadcastRecord>>;
    /// Replace the broadcast if it is still at `previous_ms`; false, nothing changed,
    /// otherwise.
    fn update_broadcast(&self, next: &BroadcastRecord, previous_ms: i64) -> Result<bool>;
    /// `scheduled` and `running` broadcasts whose start is at or before `now_ms`.
    fn due_broadcasts(&self, now_ms: i64, limit: usize) -> Result<Vec<BroadcastRecord>>;
}

/// The columns of `broadcasts`, in the order the adapters read and write them.
pub(crate) const COLUMNS: &str = "id, name, template_id, template_version, audience_id, topic, \
    category, priority, transactional, holdout_percent, schedule, start_ms, status, cursor, \
    enqueued, created_ms, updated_ms, finished_ms";
