//! The [`UserStore`] port: dashboard users, their sessions and failed sign-ins. They live in
//! the store (state.db, or the cluster's PostgreSQL database), so every node of a cluster
//! signs people in and out the same way.
//!
//! What is stored: a user's argon2id password hash (never the password), a session's SHA-256
//! token hash (never the token; see [`crate::hash_secret`]) with its CSRF token, and the times
//! of failed sign-ins per email. The policies (lifetimes, limits) belong to the caller, which
//! passes every time in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Result;

/// What a dashboard user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, keys and users included.
    Admin,
    /// Reads only.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// A dashboard user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardUser {
    /// `usr_` and 32 hex characters.
    pub id: String,
    /// Normalised by the caller (trimmed, lower case); unique.
    pub email: String,
    pub role: Role,
    /// The password's argon2id hash in PHC string form.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

impl DashboardUser {
    /// A new user with a fresh id.
    pub fn new(email: &str, role: Role, password_hash: String, now: DateTime<Utc>) -> Self {
        DashboardUser {
            id: format!("usr_{}", uuid::Uuid::new_v4().simple()),
            email: email.to_owned(),
            role,
            password_hash,
            created_at: now,
        }
    }
}

/// A signed-in session. Times are Unix milliseconds of the node's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSession {
    /// SHA-256 (hex) of the cookie's token.
    pub token_hash: String,
    pub user_id: String,
    /// What unsafe requests must carry in `X-CSRF-Token`.
    pub csrf_token: String,
    pub created_ms: i64,
    /// Last use, updated at most every so often by the caller ([`UserStore::touch_session`]).
    pub last_seen_ms: i64,
}

/// A change to a user.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub role: Option<Role>,
    /// A new password hash: the user's sessions are revoked, except `keep_session`.
    pub password_hash: Option<String>,
    /// The token hash of a session to keep when the password changes (the caller's own).
    pub keep_session: Option<String>,
}

/// What became of a change to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    /// Done; the user as it is now (as it was, for a deletion).
    Done(DashboardUser),
    NotFound,
    /// Refused: it would leave no admin.
    LastAdmin,
}

pub trait UserStore: Send + Sync {
    /// Store a new user. `false` when the email is taken, or, with `only_if_none`, when any
    /// user exists (checked atomically: for seeding the first user from several nodes).
    fn create_user(&self, user: &DashboardUser, only_if_none: bool) -> Result<bool>;
    /// Every user, oldest first.
    fn users(&self) -> Result<Vec<DashboardUser>>;
    fn user(&self, id: &str) -> Result<Option<DashboardUser>>;
    fn user_by_email(&self, email: &str) -> Result<Option<DashboardUser>>;
    /// Change a role and/or password, refusing to demote the last admin.
    fn update_user(&self, id: &str, update: &UserUpdate) -> Result<UserChange>;
    /// Delete a user and their sessions, refusing to delete the last admin.
    fn delete_user(&self, id: &str) -> Result<UserChange>;

    fn create_session(&self, session: &DashboardSession) -> Result<()>;
    /// A session and its user, by the token's hash.
    fn session(&self, token_hash: &str) -> Result<Option<(DashboardSession, DashboardUser)>>;
    fn touch_session(&self, token_hash: &str, last_seen_ms: i64) -> Result<()>;
    /// `false` when there was no such session.
    fn revoke_session(&self, token_hash: &str) -> Result<bool>;
    /// Revoke every session of a user; returns how many.
    fn revoke_user_sessions(&self, user_id: &str) -> Result<u64>;
    /// Delete sessions last seen before `idle_before_ms` or created before
    /// `created_before_ms`; returns how many.
    fn expire_sessions(&self, idle_before_ms: i64, created_before_ms: i64) -> Result<u64>;

    fn record_failed_sign_in(&self, email: &str, at_ms: i64) -> Result<()>;
    /// The times of an email's failed sign-ins at or after `since_ms`, oldest first.
    fn failed_sign_ins(&self, email: &str, since_ms: i64) -> Result<Vec<i64>>;
    /// Forget an email's failed sign-ins (after a successful one).
    fn clear_failed_sign_ins(&self, email: &str) -> Result<()>;
    /// Forget every failed sign-in before `before_ms`; returns how many.
    fn forget_failed_sign_ins(&self, before_ms: i64) -> Result<u64>;
}

/// A user from its stored columns (the same in both backends).
pub(crate) fn decode_user(
    id: String,
    email: String,
    role: String,
    password_hash: String,
    created_ms: i64,
) -> Result<DashboardUser> {
    Ok(DashboardUser {
        id,
        email,
        role: Role::parse(&role)
            .ok_or_else(|| crate::StorageError::Corrupt(format!("user role {role}")))?,
        password_hash,
        created_at: DateTime::from_timestamp_millis(created_ms)
            .ok_or_else(|| crate::StorageError::Corrupt(format!("user time {created_ms}")))?,
    })
}
