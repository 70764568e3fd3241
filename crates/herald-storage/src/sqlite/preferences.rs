//! [`PreferenceStore`] on `state.db`.

use rusqlite::{params, params_from_iter, types::Value, OptionalExtension, Row};

use super::SqliteStore;
use crate::lock;
use crate::preferences::{AddressPreferences, AddressSuppression, PreferenceStore};
use crate::Result;

const SUPPRESSION: &str = "channel, address, reason, message_id, created_ms";

fn suppression(r: &Row<'_>) -> rusqlite::Result<AddressSuppression> {
    Ok(AddressSuppression {
        channel: r.get(0)?,
        address: r.get(1)?,
        reason: r.get(2)?,
        message_id: r.get(3)?,
        created_ms: r.get(4)?,
    })
}

impl PreferenceStore for SqliteStore {
    fn address_preferences(
        &self,
        channel: &str,
        address: &str,
    ) -> Result<Option<AddressPreferences>> {
        let conn = self.state_readers.get()?;
        let row = conn
            .prepare_cached(
                "SELECT preferences, updated_ms FROM address_preferences \
                 WHERE channel = ?1 AND address = ?2",
            )?
            .query_row(params![channel, address], |r| {
                Ok(AddressPreferences {
                    channel: channel.to_owned(),
                    address: address.to_owned(),
                    preferences: r.get(0)?,
                    updated_ms: r.get(1)?,
                })
            })
            .optional()?;
        Ok(row)
    }

    fn put_address_preferences(
        &self,
        next: &AddressPreferences,
        previous_ms: Option<i64>,
    ) -> Result<bool> {
        let conn = lock(&self.state_writer);
        let n = match previous_ms {
            None => conn.execute(
                "INSERT INTO address_preferences (channel, address, preferences, updated_ms) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel, address) DO NOTHING",
                params![
                    next.channel,
                    next.address,
                    next.preferences,
                    next.updated_ms
                ],
            )?,
            Some(previous) => conn.execute(
                "UPDATE address_preferences SET preferences = ?3, updated_ms = ?4 \
                 WHERE channel = ?1 AND address = ?2 AND updated_ms = ?5",
                params![
                    next.channel,
                    next.address,
                    next.preferences,
                    next.updated_ms,
                    previous
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
        let marks = (2..addresses.len() + 2)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut args: Vec<Value> = vec![channel.to_owned().into()];
        args.extend(addresses.iter().map(|a| Value::from(a.clone())));
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SUPPRESSION} FROM address_suppressions WHERE channel = ?1 AND address IN ({marks}) \
             ORDER BY address"
        ))?;
        let rows = stmt.query_map(params_from_iter(args), suppression)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn suppress_address(&self, s: &AddressSuppression) -> Result<bool> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            &format!(
                "INSERT INTO address_suppressions ({SUPPRESSION}) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (channel, address) DO NOTHING"
            ),
            params![s.channel, s.address, s.reason, s.message_id, s.created_ms],
        )?;
        Ok(n == 1)
    }

    fn unsuppress_address(&self, channel: &str, address: &str) -> Result<bool> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            "DELETE FROM address_suppressions WHERE channel = ?1 AND address = ?2",
            params![channel, address],
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
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SUPPRESSION} FROM address_suppressions \
             WHERE (?1 IS NULL OR channel = ?1) AND (channel, address) > (?2, ?3) \
             ORDER BY channel, address LIMIT ?4"
        ))?;
        let rows = stmt.query_map(
            params![
                channel,
                after_channel,
                after_address,
                crate::sql_limit(limit)
            ],
            suppression,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn shared_secret(&self, name: &str, generated: &str) -> Result<String> {
        let conn = lock(&self.state_writer);
        conn.execute(
            "INSERT INTO shared_secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![name, generated],
        )?;
        Ok(conn.query_row(
            "SELECT value FROM shared_secrets WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )?)
    }
}
