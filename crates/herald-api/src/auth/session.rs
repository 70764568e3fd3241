//! `POST/GET/DELETE /api/v1/session`: sign in, who am I, sign out.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_storage::{hash_secret, DashboardSession};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::password::{random_token, verify_password, MAX_PASSWORD_BYTES};
use super::principal::{authenticate, check_csrf, not_signed_in, session_cookie, Actor};
use super::users::UserView;
use super::{
    ms, normalize_email, SESSION_COOKIE, SESSION_IDLE, SESSION_LIFETIME, SIGN_IN_LIMIT,
    SIGN_IN_WINDOW,
};
use crate::admin::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::AppState;

/// No `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// A signed-in session: its user, and the token unsafe requests carry in `X-CSRF-Token`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub user: UserView,
    pub csrf_token: String,
}

/// Sign in to the dashboard: sets the `herald_session` cookie (HttpOnly, SameSite=Strict,
/// Path=/, Max-Age 7 days, Secure when the request came over TLS). A session ends after 12
/// hours unused or 7 days after sign-in. After 5 failed sign-ins for an email within 15
/// minutes, every attempt is refused (429, even with the right password) until the oldest of
/// them is 15 minutes old.
#[utoipa::path(post, path = "/api/v1/session", tag = "dashboard", request_body = SignIn,
    responses(
        (status = 200, body = SessionView, headers(("Set-Cookie" = String, description = "`herald_session=…; HttpOnly; SameSite=Strict; Path=/; Max-Age=604800` (and `Secure` over TLS)"))),
        (status = 401, description = "`invalid_credentials`: no such email, or the wrong password", body = ErrorBody),
        (status = 429, description = "`too_many_sign_ins`: too many failed sign-ins for this email; retry after `Retry-After` seconds", body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<SignIn>,
) -> Result<Response, ApiError> {
    let email = normalize_email(&body.email);
    let now = herald_storage::clock::now_ms();
    let window = ms(SIGN_IN_WINDOW);
    let key = email.clone();
    let (failures, user) = blocking(&state, move |s| {
        s.expire_sessions(now - ms(SESSION_IDLE), now - ms(SESSION_LIFETIME))?;
        s.forget_failed_sign_ins(now - window)?;
        Ok((
            s.failed_sign_ins(&key, now - window)?,
            s.user_by_email(&key)?,
        ))
    })
    .await?;
    if failures.len() >= SIGN_IN_LIMIT {
        return Err(too_many(&failures, now));
    }
    // The attempt counts as failed until it succeeds: attempts running at once (on any node)
    // cannot get more guesses than the limit between them.
    let key = email.clone();
    let attempts = blocking(&state, move |s| {
        s.record_failed_sign_in(&key, now)?;
        s.failed_sign_ins(&key, now - window)
    })
    .await?;
    if attempts.len() > SIGN_IN_LIMIT {
        return Err(too_many(&attempts, now));
    }
    let valid = body.password.len() <= MAX_PASSWORD_BYTES
        && verify_password(
            body.password,
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let user = match user {
        Some(user) if valid => user,
        _ => {
            return Err(ApiError::Unauthenticated(
                "invalid_credentials",
                "wrong email or password".into(),
            ))
        }
    };
    let token = random_token(32);
    let session = DashboardSession {
        token_hash: hash_secret(&token),
        user_id: user.id.clone(),
        csrf_token: random_token(32),
        created_ms: now,
        last_seen_ms: now,
    };
    let view = SessionView {
        user: UserView::from(&user),
        csrf_token: session.csrf_token.clone(),
    };
    blocking(&state, move |s| {
        s.clear_failed_sign_ins(&email)?;
        s.create_session(&session)
    })
    .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        SESSION_LIFETIME.as_secs(),
        secure(&state, &headers)
    );
    Ok(with_cookie(Json(view).into_response(), &cookie))
}

/// The signed-in session (the web app restores its CSRF token with it after a reload).
#[utoipa::path(get, path = "/api/v1/session", tag = "dashboard",
    responses(
        (status = 200, body = SessionView),
        (status = 401, description = "`not_signed_in`: no session cookie, or its session ended", body = ErrorBody),
        (status = 403, description = "`foreign_origin`: sent from another origin", body = ErrorBody)))]
pub async fn who_am_i(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<axum::Json<SessionView>, ApiError> {
    if session_cookie(&headers).is_none() {
        return Err(not_signed_in());
    }
    let principal = authenticate(&state, &headers, None).await?;
    let Actor::User(signed_in) = principal.actor else {
        return Err(not_signed_in());
    };
    Ok(axum::Json(SessionView {
        user: UserView {
            id: signed_in.user_id,
            email: signed_in.email,
            role: principal.role,
            created_at: signed_in.created_at,
        },
        csrf_token: signed_in.csrf_token,
    }))
}

/// Sign out: the session is revoked in the store (its cookie is refused from then on, on
/// every node) and the cookie cleared. Without a live session there is nothing to revoke;
/// the cookie is cleared all the same.
#[utoipa::path(delete, path = "/api/v1/session", tag = "dashboard",
    responses(
        (status = 204, description = "Signed out; `Set-Cookie` clears the cookie"),
        (status = 403, description = "`csrf_token_invalid`: no or the wrong `X-CSRF-Token`; `foreign_origin`: sent from another origin", body = ErrorBody)))]
pub async fn sign_out(
    State(state): State<AppState>,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if session_cookie(&headers).is_some() {
        match authenticate(&state, &headers, None).await {
            Ok(principal) => {
                if let Actor::User(signed_in) = &principal.actor {
                    check_csrf(&principal, &method, &headers)?;
                    let hash = signed_in.session_hash.clone();
                    blocking(&state, move |s| s.revoke_session(&hash)).await?;
                }
            }
            Err(e) if e.code() == "not_signed_in" => {}
            Err(e) => return Err(e),
        }
    }
    let cookie = format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        secure(&state, &headers)
    );
    Ok(with_cookie(StatusCode::NO_CONTENT.into_response(), &cookie))
}

/// 429 `too_many_sign_ins` for an email with these failures (times, oldest first, at least
/// [`SIGN_IN_LIMIT`]): the next attempt is taken once enough of them have left the window.
fn too_many(failures: &[i64], now: i64) -> ApiError {
    let frees_at = failures[failures.len() - SIGN_IN_LIMIT] + ms(SIGN_IN_WINDOW);
    let retry_after_secs = ((frees_at - now).max(1) as u64).div_ceil(1000);
    ApiError::TooManySignIns { retry_after_secs }
}

/// `; Secure` when browsers reach Herald over TLS (`--public-url https://…`, or a proxy's
/// `X-Forwarded-Proto: https`).
fn secure(state: &AppState, headers: &HeaderMap) -> &'static str {
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let public_https = state.public_url.as_ref().is_some_and(|u| u.is_https());
    if forwarded_https || public_https {
        "; Secure"
    } else {
        ""
    }
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    let value = HeaderValue::from_str(cookie).expect("cookies are built from URL-safe text");
    response.headers_mut().insert(header::SET_COOKIE, value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
