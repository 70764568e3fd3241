//! [`UserStore`] on PostgreSQL. Changes that must see every user at once (the last-admin
//! guard, seeding the first user) run in a transaction holding [`USERS_LOCK`], so concurrent
//! nodes cannot both pass the check.

use postgres::{Row, Transaction};

use super::{PgState, USERS_LOCK};
use crate::users::decode_user;
use crate::{DashboardSession, DashboardUser, Result, Role, UserChange, UserStore, UserUpdate};

fn decode(r: &Row) -> Result<DashboardUser> {
    decode_user(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))
}

fn locked<T>(state: &PgState, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
    let mut conn = state.pool.get()?;
    let mut tx = conn.client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&USERS_LOCK])?;
    let out = f(&mut tx)?;
    tx.commit()?;
    Ok(out)
}

fn user_in(tx: &mut Transaction<'_>, id: &str) -> Result<Option<DashboardUser>> {
    tx.query_opt(
        "SELECT id, email, role, password_hash, created_ms FROM dashboard_users WHERE id = $1",
        &[&id],
    )?
    .as_ref()
    .map(decode)
    .transpose()
}

fn another_admin(tx: &mut Transaction<'_>, id: &str) -> Result<bool> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM dashboard_users WHERE role = 'admin' AND id <> $1 LIMIT 1",
            &[&id],
        )?
        .is_some())
}

impl UserStore for PgState {
    fn create_user(&self, user: &DashboardUser, only_if_none: bool) -> Result<bool> {
        locked(self, |tx| {
            if only_if_none
                && tx
                    .query_opt("SELECT 1 FROM dashboard_users LIMIT 1", &[])?
                    .is_some()
            {
                return Ok(false);
            }
            let n = tx.execute(
                "INSERT INTO dashboard_users (id, email, role, password_hash, created_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING",
                &[
                    &user.id,
                    &user.email,
                    &user.role.as_str(),
                    &user.password_hash,
                    &user.created_at.timestamp_millis(),
                ],
            )?;
            Ok(n == 1)
        })
    }

    fn users(&self) -> Result<Vec<DashboardUser>> {
        let mut conn = self.pool.get()?;
        conn.rows(
            "SELECT id, email, role, password_hash, created_ms FROM dashboard_users ORDER BY created_ms, id",
            &[],
        )?
        .iter()
        .map(decode)
        .collect()
    }

    fn user(&self, id: &str) -> Result<Option<DashboardUser>> {
        let mut conn = self.pool.get()?;
        conn.row(
            "SELECT id, email, role, password_hash, created_ms FROM dashboard_users WHERE id = $1",
            &[&id],
        )?
        .as_ref()
        .map(decode)
        .transpose()
    }

    fn user_by_email(&self, email: &str) -> Result<Option<DashboardUser>> {
        let mut conn = self.pool.get()?;
        conn.row(
            "SELECT id, email, role, password_hash, created_ms FROM dashboard_users WHERE email = $1",
            &[&email],
        )?
        .as_ref()
        .map(decode)
        .transpose()
    }

    fn update_user(&self, id: &str, update: &UserUpdate) -> Result<UserChange> {
        locked(self, |tx| {
            let Some(mut user) = user_in(tx, id)? else {
                return Ok(UserChange::NotFound);
            };
            if let Some(role) = update.role {
                if user.role == Role::Admin && role != user.role && !another_admin(tx, id)? {
                    return Ok(UserChange::LastAdmin);
                }
                tx.execute(
                    "UPDATE dashboard_users SET role = $2 WHERE id = $1",
                    &[&id, &role.as_str()],
                )?;
                user.role = role;
            }
            if let Some(hash) = &update.password_hash {
                tx.execute(
                    "UPDATE dashboard_users SET password_hash = $2 WHERE id = $1",
                    &[&id, hash],
                )?;
                tx.execute(
                    "DELETE FROM dashboard_sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2",
                    &[&id, &update.keep_session],
                )?;
                user.password_hash = hash.clone();
            }
            Ok(UserChange::Done(user))
        })
    }

    fn delete_user(&self, id: &str) -> Result<UserChange> {
        locked(self, |tx| {
            let Some(user) = user_in(tx, id)? else {
                return Ok(UserChange::NotFound);
            };
            if user.role == Role::Admin && !another_admin(tx, id)? {
                return Ok(UserChange::LastAdmin);
            }
            tx.execute("DELETE FROM dashboard_sessions WHERE user_id = $1", &[&id])?;
            tx.execute("DELETE FROM dashboard_users WHERE id = $1", &[&id])?;
            Ok(UserChange::Done(user))
        })
    }

    fn create_session(&self, s: &DashboardSession) -> Result<()> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "INSERT INTO dashboard_sessions (token_hash, user_id, csrf_token, created_ms, last_seen_ms) \
             VALUES ($1, $2, $3, $4, $5)",
            &[&s.token_hash, &s.user_id, &s.csrf_token, &s.created_ms, &s.last_seen_ms],
        )?;
        Ok(())
    }

    fn session(&self, token_hash: &str) -> Result<Option<(DashboardSession, DashboardUser)>> {
        let mut conn = self.pool.get()?;
        conn.row(
            "SELECT u.id, u.email, u.role, u.password_hash, u.created_ms, \
                    s.csrf_token, s.created_ms, s.last_seen_ms \
             FROM dashboard_sessions s JOIN dashboard_users u ON u.id = s.user_id \
             WHERE s.token_hash = $1",
            &[&token_hash],
        )?
        .map(|r| {
            let user = decode(&r)?;
            let session = DashboardSession {
                token_hash: token_hash.to_owned(),
                user_id: user.id.clone(),
                csrf_token: r.get(5),
                created_ms: r.get(6),
                last_seen_ms: r.get(7),
            };
            Ok((session, user))
        })
        .transpose()
    }

    fn touch_session(&self, token_hash: &str, last_seen_ms: i64) -> Result<()> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "UPDATE dashboard_sessions SET last_seen_ms = GREATEST(last_seen_ms, $2) WHERE token_hash = $1",
            &[&token_hash, &last_seen_ms],
        )?;
        Ok(())
    }

    fn revoke_session(&self, token_hash: &str) -> Result<bool> {
        let mut conn = self.pool.get()?;
        let n = conn.exec(
            "DELETE FROM dashboard_sessions WHERE token_hash = $1",
            &[&token_hash],
        )?;
        Ok(n == 1)
    }

    fn revoke_user_sessions(&self, user_id: &str) -> Result<u64> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "DELETE FROM dashboard_sessions WHERE user_id = $1",
            &[&user_id],
        )
    }

    fn expire_sessions(&self, idle_before_ms: i64, created_before_ms: i64) -> Result<u64> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "DELETE FROM dashboard_sessions WHERE last_seen_ms < $1 OR created_ms < $2",
            &[&idle_before_ms, &created_before_ms],
        )
    }

    fn record_failed_sign_in(&self, email: &str, at_ms: i64) -> Result<()> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "INSERT INTO sign_in_failures (email, at_ms) VALUES ($1, $2)",
            &[&email, &at_ms],
        )?;
        Ok(())
    }

    fn failed_sign_ins(&self, email: &str, since_ms: i64) -> Result<Vec<i64>> {
        let mut conn = self.pool.get()?;
        Ok(conn
            .rows(
                "SELECT at_ms FROM sign_in_failures WHERE email = $1 AND at_ms >= $2 ORDER BY at_ms",
                &[&email, &since_ms],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn clear_failed_sign_ins(&self, email: &str) -> Result<()> {
        let mut conn = self.pool.get()?;
        conn.exec("DELETE FROM sign_in_failures WHERE email = $1", &[&email])?;
        Ok(())
    }

    fn forget_failed_sign_ins(&self, before_ms: i64) -> Result<u64> {
        let mut conn = self.pool.get()?;
        conn.exec(
            "DELETE FROM sign_in_failures WHERE at_ms < $1",
            &[&before_ms],
        )
    }
}
