//! The insights port: what the insights index (herald-pipeline's maintainer) reads from the
//! store, and the saved insights the API keeps.
//!
//! The index holds every timeline row (`event_index`: log position, profile, time) with the
//! event's properties read from the log. New rows are those past the processed cursor. Rows
//! that move to another profile or go (a merge's loser, a profile cleared by an unmerge or a
//! deletion, forgotten or rewritten events) are announced by the **change feed**: every
//! adapter records the profile whose rows moved, in the same transaction as the move. The
//! maintainer forgets those profiles' rows and reads their positions again
//! ([`InsightsSource::insights_rows_at`]), which gives where they belong now, or nothing.

use chrono::{DateTime, Utc};
use herald_core::identity::ProfileId;
use serde::{Deserialize, Serialize};

use crate::Result;

/// One timeline row: an event's log position, the profile it belongs to now, its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightsRow {
    pub seq: u64,
    pub profile: ProfileId,
    pub ts_ms: i64,
}

/// A saved insight: a named query of one kind (`trend`, `funnel`, `retention`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedInsight {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub query: serde_json::Value,
    /// Runs over the last this many whole UTC days (up to the end of today) instead of the
    /// query's own `from`/`to`.
    pub last_days: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub trait InsightsSource: Send + Sync {
    /// Timeline rows with `after < seq <= upto`, in position order, at most `limit`.
    fn insights_rows(&self, after: u64, upto: u64, limit: usize) -> Result<Vec<InsightsRow>>;
    /// The timeline rows at these positions that exist now (in position order).
    fn insights_rows_at(&self, seqs: &[u64]) -> Result<Vec<InsightsRow>>;
    /// A mark of the change feed now: [`InsightsSource::insights_changes`] from it returns
    /// every change committed after this call (and maybe some before).
    fn insights_change_mark(&self) -> Result<u64>;
    /// The profiles of changes from `mark` on (duplicates possible), and the mark to pass
    /// next. Every change committed before this call is at or after the returned mark or
    /// among the profiles returned.
    fn insights_changes(&self, mark: u64) -> Result<(Vec<ProfileId>, u64)>;

    /// Saved insights, oldest first.
    fn saved_insights(&self) -> Result<Vec<SavedInsight>>;
    fn saved_insight(&self, id: &str) -> Result<Option<SavedInsight>>;
    /// Insert a new one, or replace name, kind, query and `updated_at` of an existing one
    /// (`created_at` stays); returns whether it existed.
    fn put_saved_insight(&self, insight: &SavedInsight) -> Result<bool>;
    /// Returns whether it existed.
    fn delete_saved_insight(&self, id: &str) -> Result<bool>;
}
