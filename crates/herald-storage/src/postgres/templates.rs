//! [`TemplateStore`] on PostgreSQL: a save locks its template's row (created first if new), so
//! concurrent saves of one template on any nodes get consecutive version numbers.

use chrono::{DateTime, Utc};
use postgres::Row;

use super::PgState;
use crate::templates::{
    holds, time, version_of, Expect, Saved, TemplateStore, TemplateSummary, TemplateVersion,
};
use crate::Result;

/// The columns of a version, as a literal (statements are cached by their `&'static str`).
macro_rules! version {
    () => {
        "SELECT template_id, version, name, channel, content, created_ms FROM template_versions"
    };
}

fn decode(r: &Row) -> Result<TemplateVersion> {
    version_of(
        r.get(0),
        r.get::<_, i64>(1),
        r.get(2),
        r.get(3),
        r.get::<_, &str>(4),
        r.get(5),
    )
}

impl TemplateStore for PgState {
    fn templates(&self) -> Result<Vec<TemplateSummary>> {
        let mut conn = self.pool.get()?;
        conn.rows(
            "SELECT t.id, v.name, v.channel, t.last_version, t.created_ms, t.updated_ms \
             FROM templates t JOIN template_versions v ON v.template_id = t.id AND v.version = t.last_version \
             WHERE t.live ORDER BY t.id",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(TemplateSummary {
                id: r.get(0),
                name: r.get(1),
                channel: r.get(2),
                version: r.get::<_, i64>(3) as u32,
                created_at: time(r.get(4))?,
                updated_at: time(r.get(5))?,
            })
        })
        .collect()
    }

    fn template(&self, id: &str, version: Option<u32>) -> Result<Option<TemplateVersion>> {
        let mut conn = self.pool.get()?;
        let row = match version {
            Some(v) => conn.row(
                concat!(version!(), " WHERE template_id = $1 AND version = $2"),
                &[&id, &i64::from(v)],
            )?,
            None => conn.row(
                concat!(
                    version!(),
                    " WHERE template_id = $1 AND version = \
                     (SELECT last_version FROM templates WHERE id = $1 AND live)"
                ),
                &[&id],
            )?,
        };
        row.as_ref().map(decode).transpose()
    }

    fn template_versions(&self, id: &str) -> Result<Vec<TemplateVersion>> {
        let mut conn = self.pool.get()?;
        conn.rows(
            concat!(
                version!(),
                " WHERE template_id = $1 \
                 AND EXISTS (SELECT 1 FROM templates WHERE id = $1 AND live) ORDER BY version DESC"
            ),
            &[&id],
        )?
        .iter()
        .map(decode)
        .collect()
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
        let ms = now.timestamp_millis();
        let mut conn = self.pool.get()?;
        let mut tx = conn.client.transaction()?;
        tx.execute(
            "INSERT INTO templates (id, last_version, live, created_ms, updated_ms) VALUES ($1, 0, FALSE, $2, $2) \
             ON CONFLICT (id) DO NOTHING",
            &[&id, &ms],
        )?;
        let row = tx.query_one(
            "SELECT last_version, live FROM templates WHERE id = $1 FOR UPDATE",
            &[&id],
        )?;
        let (last, live): (i64, bool) = (row.get(0), row.get(1));
        let current = if live { last as u32 } else { 0 };
        if !holds(expect, current) {
            return Ok(Saved::Conflict { current });
        }
        let version = last + 1;
        tx.execute(
            "INSERT INTO template_versions (template_id, version, name, channel, content, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&id, &version, &name, &channel, &content.to_string(), &ms],
        )?;
        tx.execute(
            "UPDATE templates SET last_version = $2, updated_ms = $3, \
             created_ms = CASE WHEN live THEN created_ms ELSE $3 END, live = TRUE WHERE id = $1",
            &[&id, &version, &ms],
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
        let mut conn = self.pool.get()?;
        Ok(conn.exec(
            "UPDATE templates SET live = FALSE WHERE id = $1 AND live",
            &[&id],
        )? == 1)
    }
}
