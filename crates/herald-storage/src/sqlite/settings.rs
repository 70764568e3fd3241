//! [`SettingsStore`] on SQLite.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::lock;
use crate::settings::{SettingsDocument, SettingsStore};
use crate::Result;

impl SettingsStore for SqliteStore {
    fn settings_document(&self, name: &str) -> Result<Option<SettingsDocument>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT document, version, updated_ms FROM settings_documents WHERE name = ?1",
        )?;
        Ok(stmt
            .query_row(params![name], |r| {
                Ok(SettingsDocument {
                    document: r.get(0)?,
                    version: r.get::<_, i64>(1)? as u64,
                    updated_ms: r.get(2)?,
                })
            })
            .optional()?)
    }

    fn save_settings_document(
        &self,
        name: &str,
        document: &str,
        expected: u64,
        now_ms: i64,
    ) -> Result<Option<u64>> {
        let conn = lock(&self.state_writer);
        let next = expected as i64 + 1;
        let n = if expected == 0 {
            conn.prepare_cached(
                "INSERT INTO settings_documents (name, document, version, updated_ms) \
                 VALUES (?1, ?2, 1, ?3) ON CONFLICT (name) DO NOTHING",
            )?
            .execute(params![name, document, now_ms])?
        } else {
            conn.prepare_cached(
                "UPDATE settings_documents SET document = ?2, version = ?3, updated_ms = ?4 \
                 WHERE name = ?1 AND version = ?5",
            )?
            .execute(params![name, document, next, now_ms, expected as i64])?
        };
        Ok((n == 1).then_some(next as u64))
    }
}
