//! The [`SettingsStore`] port: settings documents changed over the API and shared by every
//! node — the messaging settings (channels' providers, topics, the governor's policy). A
//! document is a JSON text under a name, with a version that each change increments; a change
//! is a compare-and-set on that version, so two editors never silently overwrite each other.
//! Nodes notice a change by its version.

use crate::Result;

/// A stored settings document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsDocument {
    pub document: String,
    /// 1 for the first version, then one more per change.
    pub version: u64,
    pub updated_ms: i64,
}

pub trait SettingsStore: Send + Sync {
    /// The document of this name, if one was ever saved.
    fn settings_document(&self, name: &str) -> Result<Option<SettingsDocument>>;
    /// Save a document if the stored one is still at version `expected` (0: none was saved
    /// yet). Returns the new version, or `None`, changing nothing, when another change came
    /// first.
    fn save_settings_document(
        &self,
        name: &str,
        document: &str,
        expected: u64,
        now_ms: i64,
    ) -> Result<Option<u64>>;
}
