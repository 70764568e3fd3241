//! [`UserStore`] on `state.db`.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::SqliteStore;
use crate::lock;
use crate::users::decode_user;
use crate::{DashboardSession, DashboardUser, Result, UserChange, UserStore, UserUpdate};

const USER: &str = "id, email, role, password_hash, created_ms";

fn user_row(r: &Row<'_>) -> rusqlite::Result<(String, String, String, String, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn decode(row: (String, String, String, String, i64)) -> Result<DashboardUser> {
    let (id, email, role, hash, created_ms) = row;
    decode_user(id, email, role, hash, created_ms)
}

fn user_in(tx: &Transaction<'_>, id: &str) -> Result<Option<DashboardUser>> {
    tx.query_row(
        &format!("SELECT {USER} FROM dashboard_users WHERE id = ?1"),
        [id],
        user_row,
    )
    .optional()?
    .map(decode)
    .transpose()
}

/// Whether an admin other than `id` exists.
fn another_admin(tx: &Transaction<'_>, id: &str) -> Result<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM dashboard_users WHERE role = 'admin' AND id <> ?1 LIMIT 1",
            [id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

impl UserStore for SqliteStore {
    fn create_user(&self, user: &DashboardUser, only_if_none: bool) -> Result<bool> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            "INSERT INTO dashboard_users (id, email, role, password_hash, created_ms) \
             SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT ?6 OR NOT EXISTS (SELECT 1 FROM dashboard_users) \
             ON CONFLICT (email) DO NOTHING",
            params![
                user.id,
                user.email,
                user.role.as_str(),
                user.password_hash,
                user.created_at.timestamp_millis(),
                only_if_none
            ],
        )?;
        Ok(n == 1)
    }

    fn users(&self) -> Result<Vec<DashboardUser>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {USER} FROM dashboard_users ORDER BY created_ms, id"
        ))?;
        let rows = stmt.query_map([], user_row)?;
        rows.map(|r| decode(r?)).collect()
    }

    fn user(&self, id: &str) -> Result<Option<DashboardUser>> {
        let conn = self.state_readers.get()?;
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {USER} FROM dashboard_users WHERE id = ?1"))?;
        stmt.query_row([id], user_row)
            .optional()?
            .map(decode)
            .transpose()
    }

    fn user_by_email(&self, email: &str) -> Result<Option<DashboardUser>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {USER} FROM dashboard_users WHERE email = ?1"
        ))?;
        stmt.query_row([email], user_row)
            .optional()?
            .map(decode)
            .transpose()
    }

    fn update_user(&self, id: &str, update: &UserUpdate) -> Result<UserChange> {
        let mut conn = lock(&self.state_writer);
        let tx = conn.transaction()?;
        let Some(mut user) = user_in(&tx, id)? else {
            return Ok(UserChange::NotFound);
        };
        if let Some(role) = update.role {
            if user.role == crate::Role::Admin && role != user.role && !another_admin(&tx, id)? {
                return Ok(UserChange::LastAdmin);
            }
            tx.execute(
                "UPDATE dashboard_users SET role = ?2 WHERE id = ?1",
                params![id, role.as_str()],
            )?;
            user.role = role;
        }
        if let Some(hash) = &update.password_hash {
            tx.execute(
                "UPDATE dashboard_users SET password_hash = ?2 WHERE id = ?1",
                params![id, hash],
            )?;
            tx.execute(
                "DELETE FROM dashboard_sessions WHERE user_id = ?1 AND token_hash IS NOT ?2",
                params![id, update.keep_session],
            )?;
            user.password_hash = hash.clone();
        }
        tx.commit()?;
        Ok(UserChange::Done(user))
    }

    fn delete_user(&self, id: &str) -> Result<UserChange> {
        let mut conn = lock(&self.state_writer);
        let tx = conn.transaction()?;
        let Some(user) = user_in(&tx, id)? else {
            return Ok(UserChange::NotFound);
        };
        if user.role == crate::Role::Admin && !another_admin(&tx, id)? {
            return Ok(UserChange::LastAdmin);
        }
        tx.execute("DELETE FROM dashboard_sessions WHERE user_id = ?1", [id])?;
        tx.execute("DELETE FROM dashboard_users WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(UserChange::Done(user))
    }

    fn create_session(&self, s: &DashboardSession) -> Result<()> {
        let conn = lock(&self.state_writer);
        conn.execute(
            "INSERT INTO dashboard_sessions (token_hash, user_id, csrf_token, created_ms, last_seen_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![s.token_hash, s.user_id, s.csrf_token, s.created_ms, s.last_seen_ms],
        )?;
        Ok(())
    }

    fn session(&self, token_hash: &str) -> Result<Option<(DashboardSession, DashboardUser)>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT u.id, u.email, u.role, u.password_hash, u.created_ms, \
                    s.csrf_token, s.created_ms, s.last_seen_ms \
             FROM dashboard_sessions s JOIN dashboard_users u ON u.id = s.user_id \
             WHERE s.token_hash = ?1",
        )?;
        let found = stmt
            .query_row([token_hash], |r| {
                Ok((user_row(r)?, r.get::<_, String>(5)?, r.get(6)?, r.get(7)?))
            })
            .optional()?;
        found
            .map(|(user, csrf_token, created_ms, last_seen_ms)| {
                let user = decode(user)?;
                let session = DashboardSession {
                    token_hash: token_hash.to_owned(),
                    user_id: user.id.clone(),
                    csrf_token,
                    created_ms,
                    last_seen_ms,
                };
                Ok((session, user))
            })
            .transpose()
    }

    fn touch_session(&self, token_hash: &str, last_seen_ms: i64) -> Result<()> {
        let conn = lock(&self.state_writer);
        conn.execute(
            "UPDATE dashboard_sessions SET last_seen_ms = MAX(last_seen_ms, ?2) WHERE token_hash = ?1",
            params![token_hash, last_seen_ms],
        )?;
        Ok(())
    }

    fn revoke_session(&self, token_hash: &str) -> Result<bool> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            "DELETE FROM dashboard_sessions WHERE token_hash = ?1",
            [token_hash],
        )?;
        Ok(n == 1)
    }

    fn revoke_user_sessions(&self, user_id: &str) -> Result<u64> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            "DELETE FROM dashboard_sessions WHERE user_id = ?1",
            [user_id],
        )?;
        Ok(n as u64)
    }

    fn expire_sessions(&self, idle_before_ms: i64, created_before_ms: i64) -> Result<u64> {
        let conn = lock(&self.state_writer);
        let n = conn.execute(
            "DELETE FROM dashboard_sessions WHERE last_seen_ms < ?1 OR created_ms < ?2",
            params![idle_before_ms, created_before_ms],
        )?;
        Ok(n as u64)
    }

    fn record_failed_sign_in(&self, email: &str, at_ms: i64) -> Result<()> {
        let conn = lock(&self.state_writer);
        conn.execute(
            "INSERT INTO sign_in_failures (email, at_ms) VALUES (?1, ?2)",
            params![email, at_ms],
        )?;
        Ok(())
    }

    fn failed_sign_ins(&self, email: &str, since_ms: i64) -> Result<Vec<i64>> {
        let conn = self.state_readers.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT at_ms FROM sign_in_failures WHERE email = ?1 AND at_ms >= ?2 ORDER BY at_ms",
        )?;
        let rows = stmt.query_map(params![email, since_ms], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn clear_failed_sign_ins(&self, email: &str) -> Result<()> {
        let conn = lock(&self.state_writer);
        conn.execute("DELETE FROM sign_in_failures WHERE email = ?1", [email])?;
        Ok(())
    }

    fn forget_failed_sign_ins(&self, before_ms: i64) -> Result<u64> {
        let conn = lock(&self.state_writer);
        let n = conn.execute("DELETE FROM sign_in_failures WHERE at_ms < ?1", [before_ms])?;
        Ok(n as u64)
    }
}
