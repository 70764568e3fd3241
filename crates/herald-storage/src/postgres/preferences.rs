//! [`PreferenceStore`] on PostgreSQL: one table of preferences, suppressions and secrets for
//! the whole cluster.

use postgres::Row;

use super::PgState;
use crate::preferences::{AddressPreferences, AddressSuppression, PreferenceStore};
use crate::Result;

fn suppression(r: &Row) -> AddressSuppression {
    AddressSuppression {
        channel: r.get(0),
        address: r.get(1),
        reason: r.get(2),
        message_id: r.get(3),
        created_ms: r.get(4),
    }
}

impl PreferenceStore for PgState {
    fn address_preferences(
        &self,
        channel: &str,
        address: &str,
    ) -> Result<Option<AddressPreferences>> {
        let mut conn = self.pool.get()?;
        let row = conn.row(
            "SELECT preferences, updated_ms FROM address_preferences \
             WHERE channel = $1 AND address = $2",
            &[&channel, &address],
        )?;
        Ok(row.map(|r| AddressPreferences {
            channel: channel.to_owned(),
            address: address.to_owned(),
            preferences: r.get(0),
            updated_ms: r.get(1),
        }))
    }

    fn put_address_preferences(
        &self,
        next: &AddressPreferences,
        previous_ms: Option<i64>,
    ) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let n = match previous_ms {
            None => conn.exec(
                "INSERT INTO address_preferences (channel, address, preferences, updated_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (channel, address) DO NOTHING",
                &[
                    &next.channel,
                    &next.address,
                    &next.preferences,
                    &next.updated_ms,
                ],
            )?,
            Some(previous) => conn.exec(
                "UPDATE address_preferences SET preferences = $3, updated_ms = $4 \
                 WHERE channel = $1 AND address = $2 AND updated_ms = $5",
                &[
                    &next.channel,
                    &next.address,
                    &next.preferences,
                    &next.updated_ms,
                    &previous,
                ],
            )?,
        };
        Ok(n == 1)
    }

    fn address_suppressions(
        &self,
        channel: &str,
        addresses: &[String],
    ) -> Result<Vec<AddressSuppression>> {
        if addresses.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get()?;
        let rows = conn.rows(
            "SELECT channel, address, reason, message_id, created_ms FROM address_suppressions \
             WHERE channel = $1 AND address = ANY($2) ORDER BY address",
            &[&channel, &addresses],
        )?;
        Ok(rows.iter().map(suppression).collect())
    }

    fn suppress_address(&self, s: &AddressSuppression) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let n = conn.exec(
            "INSERT INTO address_suppressions (channel, address, reason, message_id, created_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel, address) DO NOTHING",
            &[
                &s.channel,
                &s.address,
                &s.reason,
                &s.message_id,
                &s.created_ms,
            ],
        )?;
        Ok(n == 1)
    }

    fn unsuppress_address(&self, channel: &str, address: &str) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let n = conn.exec(
            "DELETE FROM address_suppressions WHERE channel = $1 AND address = $2",
            &[&channel, &address],
        )?;
        Ok(n == 1)
    }

    fn list_address_suppressions(
        &self,
        channel: Option<&str>,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<AddressSuppression>> {
        let (after_channel, after_address) = after.unwrap_or(("", ""));
        let limit = crate::sql_limit(limit);
        let mut conn = self.pool.get()?;
        let rows = conn.rows(
            "SELECT channel, address, reason, message_id, created_ms FROM address_suppressions \
             WHERE ($1::TEXT IS NULL OR channel = $1) AND (channel COLLATE \"C\", address COLLATE \"C\") > ($2, $3) \
             ORDER BY channel COLLATE \"C\", address COLLATE \"C\" LIMIT $4",
            &[&channel, &after_channel, &after_address, &limit],
        )?;
        Ok(rows.iter().map(suppression).collect())
    }

    fn shared_secret(&self, name: &str, generated: &str) -> Result<String> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "INSERT INTO shared_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &generated],
        )?;
        let row = conn
            .row("SELECT value FROM shared_secrets WHERE name = $1", &[&name])?
            .ok_or_else(|| crate::StorageError::Corrupt(format!("secret {name} vanished")))?;
        Ok(row.get(0))
    }
}
