//! [`KeyStore`] on PostgreSQL.

use chrono::{DateTime, Utc};
use postgres::Row;

use super::PgState;
use crate::{hash_secret, ApiKey, KeyKind, KeyStore, Result};

fn decode(r: &Row) -> Result<ApiKey> {
    crate::sqlite::decode_key((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
}

impl KeyStore for PgState {
    fn insert_key(
        &self,
        kind: KeyKind,
        name: &str,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiKey>> {
        let key = ApiKey::new(kind, name, secret, now);
        let mut conn = self.pool.get()?;
        let inserted = conn.exec(
            "INSERT INTO api_keys (id, kind, name, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (hash) DO NOTHING",
            &[&key.id, &kind.as_str(), &key.name, &hash_secret(secret), &key.prefix, &now.to_rfc3339()],
        )?;
        Ok((inserted == 1).then_some(key))
    }

    fn list_keys(&self) -> Result<Vec<ApiKey>> {
        let mut conn = self.pool.get()?;
        conn.rows(
            "SELECT id, kind, name, prefix, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
            &[],
        )?
        .iter()
        .map(decode)
        .collect()
    }

    fn revoke_key(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let n = conn.exec(
            "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &now.to_rfc3339()],
        )?;
        Ok(n == 1)
    }

    fn authenticate(&self, kind: KeyKind, secret: &str) -> Result<Option<ApiKey>> {
        let mut conn = self.pool.get()?;
        conn.row(
            "SELECT id, kind, name, prefix, created_at, revoked_at FROM api_keys \
             WHERE hash = $1 AND kind = $2 AND revoked_at IS NULL",
            &[&hash_secret(secret), &kind.as_str()],
        )?
        .as_ref()
        .map(decode)
        .transpose()
    }

    fn count_keys(&self, kind: KeyKind) -> Result<usize> {
        let mut conn = self.pool.get()?;
        let n: i64 = conn
            .row(
                "SELECT COUNT(*) FROM api_keys WHERE kind = $1 AND revoked_at IS NULL",
                &[&kind.as_str()],
            )?
            .map_or(0, |r| r.get(0));
        Ok(n as usize)
    }

    fn revoked_key_count(&self) -> Result<u64> {
        let mut conn = self.pool.get()?;
        let n: i64 = conn
            .row(
                "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL",
                &[],
            )?
            .map_or(0, |r| r.get(0));
        Ok(n as u64)
    }
}
