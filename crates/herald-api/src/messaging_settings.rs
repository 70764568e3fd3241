//! The messaging settings (docs/messaging-settings.md): `GET /api/v1/messaging/settings` shows
//! the settings in force — each channel's provider, the topics, the send governor's policy,
//! the address rules, tracking — with credentials masked (`****` and, when long enough, their
//! last four characters: herald_channels::Secret); `PATCH` changes them when they are stored
//! in the database (not when the `--channels` file gives them: 409 `settings_from_file`).
//! A change is checked whole (every provider is built) before it is saved, is used at once on
//! this node and within a second on every other (herald_pipeline::messaging::settings).

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use herald_pipeline::messaging::settings::{apply_change, Configuration, Origin, DOCUMENT};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::admin::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/messaging/settings",
        get(messaging_settings).patch(update_messaging_settings),
    )
}

/// The messaging settings in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagingSettings {
    /// `file` (the `--channels` file: read-only over the API) or `api` (stored, changed with
    /// `PATCH`).
    pub origin: &'static str,
    /// The stored settings' version (0: never changed); 0 for the file.
    pub version: u64,
    /// Per channel (`email`, `sms`, `push`, `webhook`), its provider's settings with
    /// credentials masked; a channel left out has no provider.
    #[schema(value_type = Object)]
    pub channels: Value,
    /// The send governor's policy (docs/messaging.md).
    #[schema(value_type = Object)]
    pub policy: Value,
    /// Open and click tracking in emails (docs/tracking.md).
    #[schema(value_type = Object)]
    pub tracking: Value,
    /// How addresses are read from traits.
    #[schema(value_type = Object)]
    pub addresses: Value,
    /// The subscription topics (also `GET /api/v1/topics`).
    #[schema(value_type = Vec<Object>)]
    pub topics: Value,
    /// Whether Postmark's webhooks are taken (`POST /webhooks/postmark`).
    pub postmark_webhook: bool,
}

/// A change of the settings: each section given replaces that section; `null` removes it.
/// (The body's schema: it is read as JSON, where `null` and a section left out differ.)
#[derive(Debug, ToSchema)]
pub struct MessagingSettingsChange {
    /// The version the change was made from: if the settings changed since, nothing is
    /// changed and the answer is 409 `settings_changed`. Left out: the change applies to the
    /// settings as they are.
    pub version: Option<u64>,
    /// A provider's settings as in docs/channels.md (`provider` and its fields); a credential
    /// sent back as it is shown (masked) keeps the stored one.
    #[schema(value_type = Option<Object>)]
    pub email: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub sms: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub push: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub webhook: Option<Value>,
    /// The subscription topics, all of them.
    #[schema(value_type = Option<Vec<Object>>)]
    pub topics: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub policy: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub addresses: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub tracking: Option<Value>,
}

fn json<T: Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

fn view(state: &AppState) -> Result<MessagingSettings, ApiError> {
    let s = state.messaging.settings();
    let (origin, version) = match s.origin {
        Origin::File => ("file", 0),
        Origin::Stored { version } => ("api", version),
    };
    Ok(MessagingSettings {
        origin,
        version,
        channels: json(&s.channels)?,
        policy: json(&s.policy)?,
        tracking: json(&s.tracking)?,
        addresses: json(&s.address_rules)?,
        topics: json(&s.topics)?,
        postmark_webhook: s.postmark_webhook.is_some(),
    })
}

/// The messaging settings in force on this node; credentials masked.
#[utoipa::path(get, path = "/api/v1/messaging/settings", tag = "messages",
    responses((status = 200, body = MessagingSettings), (status = 401, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn messaging_settings(
    State(state): State<AppState>,
) -> Result<Json<MessagingSettings>, ApiError> {
    Ok(Json(view(&state)?))
}

/// Times a change is applied again when another change was saved between its read and its
/// write (only when the caller gave no `version`).
const ATTEMPTS: usize = 3;

/// Change the stored messaging settings: the sections given replace theirs, checked whole
/// before anything is saved; used at once on this node and within a second on the others.
#[utoipa::path(patch, path = "/api/v1/messaging/settings", tag = "messages",
    request_body = MessagingSettingsChange,
    responses((status = 200, body = MessagingSettings),
        (status = 400, description = "`settings_invalid`, `policy_invalid`, `channel_config_invalid` or `secret_unknown`: nothing changed", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "the viewer role", body = ErrorBody),
        (status = 409, description = "`settings_from_file` (the `--channels` file gives them) or `settings_changed` (`version` is not the current one)", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn update_messaging_settings(
    State(state): State<AppState>,
    Json(body): Json<Value>,
) -> Result<Json<MessagingSettings>, ApiError> {
    if state.messaging.settings().origin == Origin::File {
        return Err(ApiError::Conflict(
            "settings_from_file",
            "the messaging settings come from the --channels file; change the file and restart"
                .into(),
        ));
    }
    let Value::Object(mut change) = body else {
        return Err(ApiError::bad_request(
            "settings_invalid",
            "a change is a JSON object of sections",
        ));
    };
    let expected = match change.remove("version") {
        None | Some(Value::Null) => None,
        // JSON Schema's integers include `2.0`.
        Some(v) => Some(
            v.as_u64()
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
                        .map(|f| f as u64)
                })
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "settings_invalid",
                        "version: a whole number of at least 0",
                    )
                })?,
        ),
    };
    let change = Value::Object(change);
    for _ in 0..ATTEMPTS {
        let stored = blocking(&state, |s| s.settings_document(DOCUMENT)).await?;
        let (current, version) = match &stored {
            Some(d) => (
                serde_json::from_str::<Value>(&d.document)
                    .map_err(|e| ApiError::Internal(format!("the stored settings: {e}")))?,
                d.version,
            ),
            None => (Value::Object(Default::default()), 0),
        };
        if expected.is_some_and(|e| e != version) {
            return Err(ApiError::Conflict(
                "settings_changed",
                format!("the settings are at version {version} now; read them again"),
            ));
        }
        let next = apply_change(&current, &change)
            .map_err(|e| ApiError::bad_request(e.code, e.message))?;
        let text = next.to_string();
        let configuration = Configuration::from_document(next)
            .map_err(|e| ApiError::bad_request(e.code, e.message))?;
        let now = herald_storage::clock::now_ms();
        let saved = blocking(&state, move |s| {
            s.save_settings_document(DOCUMENT, &text, version, now)
        })
        .await?;
        if let Some(version) = saved {
            state
                .messaging
                .configure(configuration, Origin::Stored { version });
            tracing::info!(version, "messaging settings changed over the API");
            return Ok(Json(view(&state)?));
        }
        if expected.is_some() {
            return Err(ApiError::Conflict(
                "settings_changed",
                "the settings changed meanwhile; read them again".into(),
            ));
        }
    }
    Err(ApiError::Unavailable(
        "the settings kept changing meanwhile; retry".into(),
    ))
}
