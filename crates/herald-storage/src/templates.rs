//! The [`TemplateStore`] port: message templates, versioned. Every save appends a version
//! (1, 2, …; a number is never reused, not even after a deletion), versions never change, and
//! a message records the version it was rendered from. A deletion hides the template; its
//! versions stay, for the messages that name them. What a version's `content` holds (which
//! fields, Liquid, MJML) is the messaging domain's business: the store keeps it as JSON.

use chrono::{DateTime, Utc};

use crate::{Result, StorageError};

/// One version of a template, as saved.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateVersion {
    pub template_id: String,
    /// 1 for the first save, one more for each save after.
    pub version: u32,
    pub name: String,
    /// The channel the template is for (`email`, `sms`, …, or `snippet` for a partial).
    pub channel: String,
    pub content: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// A template as listed: its current version's name and channel.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSummary {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A save's precondition on the template's current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Save whatever the current version.
    Any,
    /// The template must not exist (a deleted one counts as absent: it comes back).
    Absent,
    /// The current version must be this one (optimistic concurrency).
    Version(u32),
}

/// What a save did.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    New(TemplateVersion),
    /// The precondition failed: the current version (0: the template does not exist).
    Conflict {
        current: u32,
    },
}

pub trait TemplateStore: Send + Sync {
    /// The templates that exist (not deleted), by id.
    fn templates(&self) -> Result<Vec<TemplateSummary>>;
    /// A version of a template (`None`: the current one); `None` when it does not exist or
    /// was deleted (a numbered version of a deleted template is still found).
    fn template(&self, id: &str, version: Option<u32>) -> Result<Option<TemplateVersion>>;
    /// Every version of a template, newest first (empty for an unknown or deleted one).
    fn template_versions(&self, id: &str) -> Result<Vec<TemplateVersion>>;
    /// Append a version (its number is the next one for this id), if `expect` holds.
    fn save_template(
        &self,
        id: &str,
        name: &str,
        channel: &str,
        content: &serde_json::Value,
        expect: Expect,
        now: DateTime<Utc>,
    ) -> Result<Saved>;
    /// Hide a template; false when it did not exist.
    fn delete_template(&self, id: &str) -> Result<bool>;
}

/// Whether `expect` holds for a template whose current version is `current` (0: absent or
/// deleted).
pub(crate) fn holds(expect: Expect, current: u32) -> bool {
    match expect {
        Expect::Any => true,
        Expect::Absent => current == 0,
        Expect::Version(v) => v == current,
    }
}

pub(crate) fn time(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StorageError::Corrupt(format!("template time {ms}")))
}

/// A row of `template_versions` read back.
pub(crate) fn version_of(
    template_id: String,
    version: i64,
    name: String,
    channel: String,
    content: &str,
    created_ms: i64,
) -> Result<TemplateVersion> {
    Ok(TemplateVersion {
        template_id,
        version: u32::try_from(version)
            .map_err(|_| StorageError::Corrupt(format!("template version {version}")))?,
        name,
        channel,
        content: serde_json::from_str(content)?,
        created_at: time(created_ms)?,
    })
}
