//! [`KeyStore`] on `state.db`.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::lock;
use crate::{hash_secret, ApiKey, KeyKind, KeyStore, Result, StorageError};

const COLUMNS: &str = "id, kind, name, prefix, created_at, revoked_at";

fn row_to_key(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, String, String, Option<String>)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(crate) fn decode_key(
    row: (String, String, String, String, String, Option<String>),
) -> Result<ApiKey> {
    let (id, kind, name, prefix, created_at, revoked_at) = row;
    let time = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| StorageError::Corrupt(e.to_string()))
    };
    Ok(ApiKey {
        id,
        kind: KeyKind::parse(&kind)
            .ok_or_else(|| StorageError::Corrupt(format!("key kind {kind}")))?,
        name,
        prefix,
        created_at: time(&created_at)?,
        revoked_at: revoked_at.as_deref().map(time).transpose()?,
    })
}

impl KeyStore for SqliteStore {
    fn insert_key(
        &self,
        kind: KeyKind,
        name: &str,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiKey>> {
        let key = ApiKey::new(kind, name, secret, now);
        let conn = lock(&self.state_writer);
        let inserted = conn.execute(
            "INSERT INTO api_keys (id, kind, name, hash, prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (hash) DO NOTHING",
            params![key.id, kind.as_str(), key.name, hash_secret(secret), key.prefix, now.to_rfc3339()],
        )?;
        Ok((inserted == 1).then_some(key))
    }

    fn list_keys(&self) -> Result<Vec<ApiKey>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([], row_to_key)?;
        rows.map(|r| decode_key(r?)).collect()
    }

    fn revoke_key(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now.to_rfc3339()],
        )?;
        Ok(n == 1)
    }

    fn authenticate(&self, kind: KeyKind, secret: &str) -> Result<Option<ApiKey>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE hash = ?1 AND kind = ?2 AND revoked_at IS NULL"
        ))?;
        stmt.query_row(params![hash_secret(secret), kind.as_str()], row_to_key)
            .optional()?
            .map(decode_key)
            .transpose()
    }

    fn count_keys(&self, kind: KeyKind) -> Result<usize> {
        let conn = self.state_readers.get()?;
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM api_keys WHERE kind = ?1 AND revoked_at IS NULL",
            params![kind.as_str()],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    fn revoked_key_count(&self) -> Result<u64> {
        let conn = self.state_readers.get()?;
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}
