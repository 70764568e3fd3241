//! [`TemplateStore`] on `state.db`: a save is one transaction on the writer connection.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::lock;
use crate::templates::{
    holds, time, version_of, Expect, Saved, TemplateStore, TemplateSummary, TemplateVersion,
};
use crate::Result;

const VERSION: &str = "template_id, version, name, channel, content, created_ms";

type VersionRow = (String, i64, String, String, String, i64);

fn version_row(r: &Row<'_>) -> rusqlite::Result<VersionRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn decode((id, version, name, channel, content, created): VersionRow) -> Result<TemplateVersion> {
    version_of(id, version, name, channel, &content, created)
}

impl TemplateStore for SqliteStore {
    fn templates(&self) -> Result<Vec<TemplateSummary>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT t.id, v.name, v.channel, t.last_version, t.created_ms, t.updated_ms \
             FROM templates t JOIN template_versions v ON v.template_id = t.id AND v.version = t.last_version \
             WHERE t.live ORDER BY t.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, name, channel, version, created, updated) = row?;
            Ok(TemplateSummary {
                id,
                name,
                channel,
                version: version as u32,
                created_at: time(created)?,
                updated_at: time(updated)?,
            })
        })
        .collect()
    }

    fn template(&self, id: &str, version: Option<u32>) -> Result<Option<TemplateVersion>> {
        let conn = self.state_readers.get()?;
        let row = match version {
            Some(v) => conn
                .prepare_cached(&format!(
                    "SELECT {VERSION} FROM template_versions WHERE template_id = ?1 AND version = ?2"
                ))?
                .query_row(params![id, v], version_row)
                .optional()?,
            None => conn
                .prepare_cached(&format!(
                    "SELECT {VERSION} FROM template_versions WHERE template_id = ?1 AND version = \
                     (SELECT last_version FROM templates WHERE id = ?1 AND live)"
                ))?
                .query_row(params![id], version_row)
                .optional()?,
        };
        row.map(decode).transpose()
    }

    fn template_versions(&self, id: &str) -> Result<Vec<TemplateVersion>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {VERSION} FROM template_versions WHERE template_id = ?1 \
             AND EXISTS (SELECT 1 FROM templates WHERE id = ?1 AND live) ORDER BY version DESC"
        ))?;
        let rows = stmt.query_map(params![id], version_row)?;
        rows.map(|r| decode(r?)).collect()
    }

    fn save_template(
        &self,
        id: &str,
        name: &str,
        channel: &str,
        content: &serde_json::Value,
        expect: Expect,
        now: DateTime<Utc>,
    ) -> Result<Saved> {
        let mut conn = lock(&self.state_writer);
        let tx = conn.transaction()?;
        let found: Option<(i64, bool)> = tx
            .query_row(
                "SELECT last_version, live FROM templates WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (last, live) = found.unwrap_or((0, false));
        let current = if live { last as u32 } else { 0 };
        if !holds(expect, current) {
            return Ok(Saved::Conflict { current });
        }
        let version = last + 1;
        let ms = now.timestamp_millis();
        tx.execute(
            "INSERT INTO template_versions (template_id, version, name, channel, content, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, version, name, channel, content.to_string(), ms],
        )?;
        tx.execute(
            "INSERT INTO templates (id, last_version, live, created_ms, updated_ms) VALUES (?1, ?2, 1, ?3, ?3) \
             ON CONFLICT (id) DO UPDATE SET last_version = excluded.last_version, live = 1, updated_ms = excluded.updated_ms, \
             created_ms = CASE WHEN templates.live THEN templates.created_ms ELSE excluded.created_ms END",
            params![id, version, ms],
        )?;
        tx.commit()?;
        Ok(Saved::New(TemplateVersion {
            template_id: id.to_owned(),
            version: version as u32,
            name: name.to_owned(),
            channel: channel.to_owned(),
            content: content.clone(),
            created_at: time(ms)?,
        }))
    }

    fn delete_template(&self, id: &str) -> Result<bool> {
        let conn = lock(&self.state_writer);
        Ok(conn.execute(
            "UPDATE templates SET live = 0 WHERE id = ?1 AND live",
            params![id],
        )? == 1)
    }
}
