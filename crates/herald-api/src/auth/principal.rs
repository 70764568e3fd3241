//! Who is calling: an admin key (`Authorization: Bearer hak_…`) or a dashboard session (the
//! `herald_session` cookie), with the role it acts with.
//!
//! Cookies are sent by browsers on their own, so a cookie-authenticated request must also
//! show it comes from the dashboard: an unsafe method (anything but GET, HEAD, OPTIONS) needs
//! the session's CSRF token in `X-CSRF-Token` (403 `csrf_token_invalid`), and an `Origin`
//! header other than this server's own is refused (403 `foreign_origin`). Keys need neither:
//! browsers never send them unasked.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use herald_storage::{hash_secret, KeyKind, Role};

use super::{ms, CSRF_HEADER, SESSION_COOKIE, SESSION_IDLE, SESSION_LIFETIME, TOUCH_EVERY};
use crate::admin::blocking;
use crate::error::ApiError;
use crate::AppState;

/// Who is calling, and with which role.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: Role,
    pub actor: Actor,
}

#[derive(Debug, Clone)]
pub enum Actor {
    /// An admin API key (always the admin role).
    AdminKey,
    /// A signed-in dashboard user.
    User(SignedIn),
}

/// A dashboard session and its user as they were read for this request.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
    /// What unsafe requests of this session must carry in `X-CSRF-Token`.
    pub csrf_token: String,
    /// SHA-256 (hex) of the session's token.
    pub session_hash: String,
}

impl Principal {
    /// 403 `forbidden_role` unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.can_write() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "forbidden_role",
                "the viewer role can only read; this needs the admin role".into(),
            ))
        }
    }

    /// Whether the caller may change things (the admin role).
    pub fn can_write(&self) -> bool {
        self.role == Role::Admin
    }

    /// The signed-in user, when the caller is a session.
    pub fn user(&self) -> Option<&SignedIn> {
        match &self.actor {
            Actor::User(s) => Some(s),
            Actor::AdminKey => None,
        }
    }
}

/// Authenticate a caller from request headers, without a whole request (a WebSocket's
/// upgrade, or its `connection_init` payload): `bearer` (a key taken from elsewhere, e.g. the
/// payload) or the `Authorization: Bearer` header is checked as an admin key; otherwise the
/// `herald_session` cookie as a session, refused when `Origin` is foreign. Does not check CSRF
/// tokens ([`check_csrf`]): that depends on the method.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    bearer: Option<&str>,
) -> Result<Principal, ApiError> {
    let token = bearer
        .map(|b| b.trim().to_owned())
        .or_else(|| bearer_of(headers));
    if let Some(token) = token {
        return admin_key(state, &token).await;
    }
    match session_cookie(headers) {
        Some(cookie) => session(state, headers, cookie).await,
        None => Err(ApiError::Unauthenticated(
            "unauthorized",
            "an admin key is required as `Authorization: Bearer <key>`".into(),
        )),
    }
}

/// For an unsafe method, a session's caller must send its CSRF token in `X-CSRF-Token`.
pub fn check_csrf(
    principal: &Principal,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let Actor::User(signed_in) = &principal.actor else {
        return Ok(());
    };
    if is_safe(method) {
        return Ok(());
    }
    let sent = headers
        .get(CSRF_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if constant_time_eq(sent, signed_in.csrf_token.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "csrf_token_invalid",
            "a signed-in request that changes something needs the session's `csrfToken` (from `POST` or `GET /api/v1/session`) in the `X-CSRF-Token` header".into(),
        ))
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    /// Authenticates and checks CSRF once per request (the result is kept in the request's
    /// extensions for later extractors).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        let principal = authenticate(state, &parts.headers, None).await?;
        check_csrf(&principal, &parts.method, &parts.headers)?;
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// The admin API's middleware: every request needs a [`Principal`]; viewers may read, and
/// only admins may change things or see keys. Some `POST`s change nothing and are reads
/// ([`is_query`]).
pub async fn authorize(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let principal = Principal::from_request_parts(&mut parts, &state).await?;
    let path = parts.uri.path();
    let reads = is_safe(&parts.method) || (parts.method == Method::POST && is_query(path));
    if !reads || path.starts_with("/api/v1/keys") {
        principal.require_admin()?;
    }
    Ok(next.run(Request::from_parts(parts, body)).await)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The `POST` paths that only read: an audience preview, the insights queries, running a
/// saved insight, rendering or previewing a template (their input is a body, too rich for a
/// URL).
fn is_query(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/audiences/preview"
            | "/api/v1/insights/trends"
            | "/api/v1/insights/funnels"
            | "/api/v1/insights/retention"
            | "/api/v1/templates/render"
            | "/api/v1/templates/preview"
    ) || last_segment_of(path, "/api/v1/templates/", "/preview")
        || last_segment_of(path, "/api/v1/insights/saved/", "/run")
}

/// Whether `path` is `prefix` + one non-empty segment + `suffix`.
fn last_segment_of(path: &str, prefix: &str, suffix: &str) -> bool {
    path.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

fn bearer_of(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    bearer(value).map(str::to_owned)
}

/// The token of an `Authorization` value `Bearer <token>` (either case of `bearer`).
pub fn bearer(value: &str) -> Option<&str> {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

/// The value of the `herald_session` cookie, from any `Cookie` header.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

async fn admin_key(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    if state
        .keys
        .check(&state.store, KeyKind::Admin, token)
        .await?
    {
        return Ok(Principal {
            role: Role::Admin,
            actor: Actor::AdminKey,
        });
    }
    // Say so when it is a write key: the usual mistake is passing the key SDKs use.
    let is_write_key = state
        .keys
        .check(&state.store, KeyKind::Write, token)
        .await?;
    Err(ApiError::Unauthenticated(
        "unauthorized",
        if is_write_key {
            "this is a write key, which only sends events (`/v1/*`); the admin API needs an admin key".into()
        } else {
            "unknown or revoked admin key".into()
        },
    ))
}

pub(crate) fn not_signed_in() -> ApiError {
    ApiError::Unauthenticated(
        "not_signed_in",
        "not signed in, or the session ended (signed out, expired or revoked); sign in with `POST /api/v1/session`".into(),
    )
}

async fn session(
    state: &AppState,
    headers: &HeaderMap,
    cookie: &str,
) -> Result<Principal, ApiError> {
    check_origin(state, headers)?;
    let token_hash = hash_secret(cookie);
    let lookup = token_hash.clone();
    let (session, user) = blocking(state, move |s| s.session(&lookup))
        .await?
        .ok_or_else(not_signed_in)?;
    let now = herald_storage::clock::now_ms();
    if now - session.last_seen_ms >= ms(SESSION_IDLE)
        || now - session.created_ms >= ms(SESSION_LIFETIME)
    {
        return Err(not_signed_in());
    }
    if now - session.last_seen_ms >= ms(TOUCH_EVERY) {
        let touch = token_hash.clone();
        blocking(state, move |s| s.touch_session(&touch, now)).await?;
    }
    Ok(Principal {
        role: user.role,
        actor: Actor::User(SignedIn {
            user_id: user.id,
            email: user.email,
            created_at: user.created_at,
            csrf_token: session.csrf_token,
            session_hash: token_hash,
        }),
    })
}

/// Refuse a cookie-authenticated request (or any WebSocket upgrade) whose `Origin` is not
/// this server's: its own
/// (`--public-url`, else `X-Forwarded-Proto` and `X-Forwarded-Host` or `Host`; without
/// `X-Forwarded-Proto` either scheme, since a TLS proxy may not say).
pub fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let own = crate::browser::public_url(state, headers)?;
    let mut allowed = vec![own.origin().to_ascii_lowercase()];
    if state.public_url.is_none() && !headers.contains_key("x-forwarded-proto") {
        allowed.push(allowed[0].replacen("http://", "https://", 1));
    }
    if allowed.contains(&origin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "foreign_origin",
            format!("a signed-in request from another origin ({origin}) is refused; the dashboard's own origin is {}", allowed[0]),
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; herald_session_x=2"),
        );
        assert_eq!(session_cookie(&headers), None);
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("b=3;herald_session=tok; c=4"),
        );
        assert_eq!(session_cookie(&headers), Some("tok"));
        let mut empty = HeaderMap::new();
        empty.insert(header::COOKIE, HeaderValue::from_static("herald_session="));
        assert_eq!(session_cookie(&empty), None);
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
