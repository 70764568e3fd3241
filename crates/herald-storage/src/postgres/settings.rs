//! [`SettingsStore`] on PostgreSQL: one document for the whole cluster.

use super::PgState;
use crate::settings::{SettingsDocument, SettingsStore};
use crate::Result;

impl SettingsStore for PgState {
    fn settings_document(&self, name: &str) -> Result<Option<SettingsDocument>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .row(
                "SELECT document, version, updated_ms FROM settings_documents WHERE name = $1",
                &[&name],
            )?
            .map(|r| SettingsDocument {
                document: r.get(0),
                version: r.get::<_, i64>(1) as u64,
                updated_ms: r.get(2),
            }))
    }

    fn save_settings_document(
        &self,
        name: &str,
        document: &str,
        expected: u64,
        now_ms: i64,
    ) -> Result<Option<u64>> {
        let mut conn = self.pool.get()?;
        let next = expected as i64 + 1;
        let n = if expected == 0 {
            conn.exec(
                "INSERT INTO settings_documents (name, document, version, updated_ms) \
                 VALUES ($1, $2, 1, $3) ON CONFLICT (name) DO NOTHING",
                &[&name, &document, &now_ms],
            )?
        } else {
            conn.exec(
                "UPDATE settings_documents SET document = $2, version = $3, updated_ms = $4 \
                 WHERE name = $1 AND version = $5",
                &[&name, &document, &next, &now_ms, &(expected as i64)],
            )?
        };
        Ok((n == 1).then_some(next as u64))
    }
}
