//! The [`InboxStore`] port: the in-app inbox, one item per in-app message delivered, kept per
//! user id (the address an in-app message goes to, as preferences are kept per address: a
//! merge or unmerge of profiles never moves an inbox). An item is written once, by the
//! message's id (a repeat after a crash changes nothing); its marks (seen, read, archived) are
//! set once, at the first time each is asked for, so "the first read" is one instant that
//! every node agrees on. Times are Unix milliseconds from the caller's clock.

use crate::Result;

/// One message in a person's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    /// The message's id (its idempotency key).
    pub message_id: String,
    /// Whose inbox: the user id the message was addressed to.
    pub user_id: String,
    pub profile_id: String,
    /// The topic the message was sent on, if any.
    pub topic: Option<String>,
    /// The rendered parts (a JSON object of part name to text: `title`, `body`) and the body's
    /// format (`html` or `text`).
    pub content: String,
    pub format: String,
    pub created_ms: i64,
    pub seen_ms: Option<i64>,
    pub read_ms: Option<i64>,
    pub archived_ms: Option<i64>,
}

/// A mark set on an item. Reading an item also marks it seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxMark {
    Seen,
    Read,
    Archived,
}

/// Which of a user's items a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxFilter {
    /// Not archived.
    Active,
    Archived,
}

/// A user's items that are not archived, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InboxCounts {
    pub total: u64,
    pub unseen: u64,
    pub unread: u64,
}

pub trait InboxStore: Send + Sync {
    /// Store an item unless its message id is stored; true when it was new.
    fn put_inbox_item(&self, item: &InboxItem) -> Result<bool>;
    /// A user's item by its message id (`None` for another user's).
    fn inbox_item(&self, user_id: &str, message_id: &str) -> Result<Option<InboxItem>>;
    /// A user's items, newest first (by `(created_ms, message_id)`), created before `before`.
    fn inbox_items(
        &self,
        user_id: &str,
        filter: InboxFilter,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<InboxItem>>;
    /// A user's items created after `after` (`(created_ms, message_id)`), oldest first: what a
    /// live stream has not shown yet.
    fn inbox_items_after(
        &self,
        user_id: &str,
        after: (i64, &str),
        limit: usize,
    ) -> Result<Vec<InboxItem>>;
    /// Set `mark` (and `seen` with `read`) at `at_ms` where it is not set yet. Returns the item
    /// as it is now and whether `mark` was set by this call (false: it was already set, and
    /// keeps its first time); `None` when the user has no such item.
    fn mark_inbox_item(
        &self,
        user_id: &str,
        message_id: &str,
        mark: InboxMark,
        at_ms: i64,
    ) -> Result<Option<(InboxItem, bool)>>;
    /// Mark every item of a user seen at `at_ms` where it is not; returns how many were marked.
    fn mark_inbox_seen(&self, user_id: &str, at_ms: i64) -> Result<u64>;
    fn inbox_counts(&self, user_id: &str) -> Result<InboxCounts>;
    /// Delete every item of these users (a GDPR erasure); returns how many went.
    fn delete_inbox_items(&self, user_ids: &[String]) -> Result<u64>;
}

/// The columns of `inbox_items`, in the order the adapters read and write them.
pub(crate) const COLUMNS: &str = "message_id, user_id, profile_id, topic, content, format, \
    created_ms, seen_ms, read_ms, archived_ms";

impl InboxMark {
    /// The column the mark sets.
    pub(crate) fn column(self) -> &'static str {
        match self {
            InboxMark::Seen => "seen_ms",
            InboxMark::Read => "read_ms",
            InboxMark::Archived => "archived_ms",
        }
    }
}
