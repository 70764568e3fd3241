//! Dashboard sign-in, sessions, users and roles (docs/dashboard.md, "Sign-in, roles and
//! sessions").
//!
//! - `session.rs`: `POST/GET/DELETE /api/v1/session` — sign in (argon2id password check,
//!   failed sign-ins limited per email in the store), the `herald_session` cookie, sign out.
//! - `users.rs`: `/api/v1/users` — dashboard users, admin only, never leaving no admin.
//! - `principal.rs`: [`Principal`], who is calling (an admin key or a session) with its
//!   [`Role`]; the CSRF and `Origin` checks of cookie-authenticated requests; [`authorize`],
//!   the admin API's middleware.
//! - `password.rs`: hashing, checking and generating passwords.
//! - `headers.rs`: [`security_headers`] for the dashboard's pages and the session answers.

mod headers;
mod password;
mod principal;
pub mod session;
pub mod users;

use std::time::Duration;

use axum::routing::{get, patch};
use axum::Router;

use crate::error::ApiError;
use crate::AppState;

pub use headers::{security_headers, CONTENT_SECURITY_POLICY, SECURITY_HEADERS};
pub use herald_storage::Role;
pub use password::{
    generate_password, hash_password, hash_password_blocking, validate_password,
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS,
};
pub use principal::{
    authenticate, authorize, bearer, check_csrf, check_origin, Actor, Principal, SignedIn,
};
pub use session::{sign_in, sign_out, who_am_i, SessionView, SignIn};
pub use users::{
    create_user, delete_user, list_users, update_user, CreateUser, UpdateUser, UserView,
};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "herald_session";
/// The header unsafe cookie-authenticated requests carry the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session unused for this long is over.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// A session is over this long after sign-in, however much it is used (the cookie's
/// `Max-Age`).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often a session's last use is written (not on every request).
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// At most this many failed sign-ins per email within [`SIGN_IN_WINDOW`]; further attempts,
/// right password or not, get 429 `too_many_sign_ins` until the oldest leaves the window.
pub const SIGN_IN_LIMIT: usize = 5;
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);

pub fn routes() -> Router<AppState> {
    let session = Router::new()
        .route(
            "/api/v1/session",
            get(who_am_i).post(sign_in).delete(sign_out),
        )
        .layer(axum::middleware::from_fn(security_headers));
    Router::new()
        .merge(session)
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", patch(update_user).delete(delete_user))
}

/// An email as stored: trimmed and lower-cased.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A normalised email a user can be created with: `local@domain`, no spaces, at most 254
/// characters; else 400 `invalid_email`.
pub fn valid_email(raw: &str) -> Result<String, ApiError> {
    let email = normalize_email(raw);
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if ok {
        Ok(email)
    } else {
        Err(ApiError::bad_request(
            "invalid_email",
            format!("{raw:?} is not an email address (local@domain, at most 254 characters)"),
        ))
    }
}

/// Milliseconds of a duration, for comparisons with the store's Unix-ms times.
fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}
