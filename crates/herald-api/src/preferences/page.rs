//! The pages a message's links open, without a login (docs/preferences.md): the token in the
//! URL is the person's authority, signed by Herald and expiring (herald_messaging::token).
//!
//! - `POST /unsubscribe/{token}`: RFC 8058 one-click unsubscribe, from the message's topic (or
//!   the whole channel when it had none); mail providers POST `List-Unsubscribe=One-Click`.
//! - `GET /unsubscribe/{token}`: asks first (a GET changes nothing: link scanners fetch them).
//! - `GET /preferences/{token}`: the address's topics on the channel, to change.
//! - `POST /preferences/{token}`: the form's answer (`topic=<key>` per topic kept,
//!   `all=unsubscribe` to receive nothing but transactional messages).
//!
//! A bad or expired token is 400 `token_invalid` / 410 `token_expired`: an HTML page for
//! browsers, the JSON error body for anything else.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use herald_core::identity::ProfileId;
use herald_messaging::html::escape;
use herald_messaging::preferences::{ChangeSource, ChannelPreferences, Status, Subscriptions};
use herald_messaging::token::{Claims, Purpose, TokenError};
use herald_pipeline::messaging::LinkTarget;

use super::change::{self, Change};
use crate::error::ApiError;
use crate::extract::Path;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/unsubscribe/{token}",
            get(confirm_unsubscribe).post(one_click),
        )
        .route("/preferences/{token}", get(show).post(save))
        .route("/confirm/{token}", get(ask_confirmation).post(confirm))
}

/// A page, or the JSON error for clients that do not take HTML.
struct Page {
    status: StatusCode,
    title: String,
    body: String,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"robots\" content=\"noindex\"><title>{title}</title><style>\
             body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1f2328}}\
             fieldset{{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0}}\
             label{{display:block;margin:.4rem 0}}small{{color:#59636e;display:block;margin-left:1.6rem}}\
             button{{font:inherit;padding:.4rem 1rem}}</style></head><body><h1>{title}</h1>{body}</body></html>",
            title = escape(&self.title),
            body = self.body
        );
        let mut response = (self.status, html).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        response
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// An error as a page for browsers, else as the JSON error body.
fn failure(headers: &HeaderMap, error: ApiError) -> Response {
    if !wants_html(headers) {
        return error.into_response();
    }
    let status = error.status();
    let (title, text) = match status {
        StatusCode::CONFLICT if error.code() == "nothing_to_confirm" => (
            "Nothing to confirm",
            "This subscription is not waiting for a confirmation: it was confirmed or cancelled since.",
        ),
        StatusCode::GONE => (
            "This link has expired",
            "Use the link in a newer message, or contact the sender.",
        ),
        StatusCode::BAD_REQUEST => (
            "This link is not valid",
            "It may have been cut short or changed. Use the link exactly as it is in the message.",
        ),
        _ => (
            "Something went wrong",
            "Your choice could not be saved. Please try again in a minute.",
        ),
    };
    Page {
        status,
        title: title.into(),
        body: format!("<p>{}</p>", escape(text)),
    }
    .into_response()
}

fn verify(state: &AppState, token: &str, purpose: Purpose) -> Result<Claims, ApiError> {
    state
        .messaging
        .settings()
        .links
        .verify(token, purpose, herald_storage::clock::now())
        .map_err(|e| match e {
            TokenError::Expired => {
                ApiError::Rejected(StatusCode::GONE, "token_expired", e.to_string())
            }
            _ => ApiError::bad_request("token_invalid", e.to_string()),
        })
}

fn what(state: &AppState, claims: &Claims) -> String {
    let settings = state.messaging.settings();
    let topic = claims
        .topic
        .as_deref()
        .and_then(|k| settings.topics.get(claims.channel, k));
    match topic {
        Some(t) if !t.description.is_empty() => t.description.clone(),
        Some(t) => t.key.clone(),
        None => format!("all {} messages", claims.channel),
    }
}

/// `GET /unsubscribe/{token}`: asks before unsubscribing.
async fn confirm_unsubscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Response> {
    let claims =
        verify(&state, &token, Purpose::OneClickUnsubscribe).map_err(|e| failure(&headers, e))?;
    Ok(Page {
        status: StatusCode::OK,
        title: "Unsubscribe".into(),
        body: format!(
            "<p>Stop sending <strong>{}</strong> to <strong>{}</strong>?</p>\
             <form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
             <button type=\"submit\">Unsubscribe</button></form>{}",
            escape(&what(&state, &claims)),
            escape(&claims.address),
            preferences_link(&state, &claims),
        ),
    }
    .into_response())
}

/// A link to the full preference page, made for the same person and address.
fn preferences_link(state: &AppState, claims: &Claims) -> String {
    let profile = claims.profile_id.to_string();
    let target = LinkTarget {
        profile_id: &profile,
        channel: claims.channel,
        topic: claims.topic.as_deref(),
        address: &claims.address,
    };
    state
        .messaging
        .settings()
        .links
        .preferences_url(&target, herald_storage::clock::now())
        .map(|url| {
            format!(
                "<p><a href=\"{}\">Choose what you receive</a></p>",
                escape(&url)
            )
        })
        .unwrap_or_default()
}

/// `POST /unsubscribe/{token}`: RFC 8058 one-click unsubscribe.
async fn one_click(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Response> {
    let claims =
        verify(&state, &token, Purpose::OneClickUnsubscribe).map_err(|e| failure(&headers, e))?;
    // A topic that is no longer configured: the whole channel, to be safe.
    let change = match &claims.topic {
        Some(k)
            if state
                .messaging
                .settings()
                .topics
                .get(claims.channel, k)
                .is_some() =>
        {
            Change::Unsubscribe(k.clone())
        }
        _ => Change::UnsubscribeChannel,
    };
    changed(
        &state,
        &headers,
        &claims,
        change,
        ChangeSource::OneClick,
        ("You are unsubscribed", "will no longer receive"),
    )
    .await
}

/// Apply a link's `change` to its address, then say so: the page `title`, and "<address>
/// `sentence` <what>." with a link to the preference page.
async fn changed(
    state: &AppState,
    headers: &HeaderMap,
    claims: &Claims,
    change: Change,
    source: ChangeSource,
    (title, sentence): (&str, &str),
) -> Result<Response, Response> {
    let profile = ProfileId(claims.profile_id.to_string());
    change::apply(
        state,
        claims.channel,
        &claims.address,
        &[change],
        source,
        Some(&profile),
    )
    .await
    .map_err(|e| failure(headers, e))?;
    Ok(Page {
        status: StatusCode::OK,
        title: title.into(),
        body: format!(
            "<p><strong>{}</strong> {sentence} {}.</p>{}",
            escape(&claims.address),
            escape(&what(state, claims)),
            preferences_link(state, claims),
        ),
    }
    .into_response())
}

/// `GET /confirm/{token}`: asks before confirming a double opt-in (a link scanner that
/// follows every link in a mail confirms nothing).
async fn ask_confirmation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Response> {
    let claims =
        verify(&state, &token, Purpose::ConfirmSubscription).map_err(|e| failure(&headers, e))?;
    Ok(Page {
        status: StatusCode::OK,
        title: "Confirm your subscription".into(),
        body: format!(
            "<p>Send <strong>{}</strong> to <strong>{}</strong>?</p>\
             <form method=\"post\"><button type=\"submit\">Confirm</button></form>",
            escape(&what(&state, &claims)),
            escape(&claims.address),
        ),
    }
    .into_response())
}

/// `POST /confirm/{token}`: confirms the double opt-in (`Subscription Changed`, source
/// `confirmation`). Confirming again changes nothing; a subscription that is no longer pending
/// (the person unsubscribed since) is `409 nothing_to_confirm`.
async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Response> {
    let claims =
        verify(&state, &token, Purpose::ConfirmSubscription).map_err(|e| failure(&headers, e))?;
    let Some(topic) = claims.topic.clone() else {
        return Err(failure(
            &headers,
            ApiError::bad_request("token_invalid", "the link names no topic"),
        ));
    };
    changed(
        &state,
        &headers,
        &claims,
        Change::Confirm(topic),
        ChangeSource::Confirmation,
        ("You are subscribed", "will receive"),
    )
    .await
}

/// `GET /preferences/{token}`.
async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Response> {
    let claims =
        verify(&state, &token, Purpose::PreferencePage).map_err(|e| failure(&headers, e))?;
    let (prefs, _) = change::read(&state, claims.channel, &claims.address)
        .await
        .map_err(|e| failure(&headers, e))?;
    Ok(form(&state, &claims, &prefs, None).into_response())
}

/// `POST /preferences/{token}`: the form's answer.
async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let claims =
        verify(&state, &token, Purpose::PreferencePage).map_err(|e| failure(&headers, e))?;
    let mut kept = Vec::new();
    let mut all = false;
    for (name, value) in form_urlencoded::parse(&body) {
        match &*name {
            "topic" => kept.push(value.into_owned()),
            "all" => all = value == "unsubscribe",
            _ => {}
        }
    }
    let (current, _) = change::read(&state, claims.channel, &claims.address)
        .await
        .map_err(|e| failure(&headers, e))?;
    let mut subscriptions = Subscriptions::default();
    subscriptions.0.insert(claims.channel, current);
    let mut changes = vec![if all {
        Change::UnsubscribeChannel
    } else {
        Change::ResubscribeChannel
    }];
    for topic in state
        .messaging
        .settings()
        .topics
        .iter()
        .filter(|t| t.channel == claims.channel)
    {
        let wanted = kept.contains(&topic.key);
        let now = subscriptions.status(topic);
        if wanted && now == Status::Unsubscribed {
            changes.push(Change::Subscribe(topic.key.clone()));
        } else if !wanted && now != Status::Unsubscribed {
            changes.push(Change::Unsubscribe(topic.key.clone()));
        }
    }
    let profile = ProfileId(claims.profile_id.to_string());
    let (prefs, _) = change::apply(
        &state,
        claims.channel,
        &claims.address,
        &changes,
        ChangeSource::PreferencePage,
        Some(&profile),
    )
    .await
    .map_err(|e| failure(&headers, e))?;
    Ok(form(&state, &claims, &prefs, Some("Your choices are saved.")).into_response())
}

/// The preference form for the address's channel.
fn form(
    state: &AppState,
    claims: &Claims,
    prefs: &ChannelPreferences,
    notice: Option<&str>,
) -> Page {
    let mut subscriptions = Subscriptions::default();
    subscriptions.0.insert(claims.channel, prefs.clone());
    let mut topics = String::new();
    for topic in state
        .messaging
        .settings()
        .topics
        .iter()
        .filter(|t| t.channel == claims.channel)
    {
        let status = subscriptions.status(topic);
        let label = if topic.description.is_empty() {
            &topic.key
        } else {
            &topic.description
        };
        topics.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"topic\" value=\"{key}\"{checked}> {label}</label>{pending}",
            key = escape(&topic.key),
            checked = if status == Status::Unsubscribed { "" } else { " checked" },
            label = escape(label),
            pending = if status == Status::PendingConfirmation {
                "<small>Waiting for your confirmation</small>"
            } else {
                ""
            },
        ));
    }
    let topics = if topics.is_empty() {
        String::new()
    } else {
        format!("<fieldset><legend>Topics</legend>{topics}</fieldset>")
    };
    Page {
        status: StatusCode::OK,
        title: "Your preferences".into(),
        body: format!(
            "{notice}<p>For <strong>{address}</strong> ({channel}).</p><form method=\"post\">{topics}\
             <label><input type=\"checkbox\" name=\"all\" value=\"unsubscribe\"{all}> \
             Unsubscribe from everything but transactional messages</label>\
             <p><button type=\"submit\">Save</button></p></form>",
            notice = notice
                .map(|n| format!("<p role=\"status\"><strong>{}</strong></p>", escape(n)))
                .unwrap_or_default(),
            address = escape(&claims.address),
            channel = claims.channel,
            all = if prefs.unsubscribed { " checked" } else { "" },
        ),
    }
}
