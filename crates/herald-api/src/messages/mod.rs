//! Messages over REST (docs/messages.md): send a template to one person
//! (`POST /api/v1/messages`, queued for the send pipeline, idempotent by key), read a message,
//! and the message log (`log.rs`). The pipeline (herald_pipeline::messaging) decides and sends.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use herald_messaging::message::{MessageId, SourceKind};
use herald_messaging::template::Target;
use herald_messaging::{Category, Priority};
use herald_storage::messages::MessageRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::admin::{blocking, resolve_profile};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;

pub mod log;

pub use log::{list_messages, message_events, profile_messages, LogQuery, MessagesPage};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/messages", post(send).get(list_messages))
        .route("/api/v1/messages/{id}", get(message))
        .route("/api/v1/messages/{id}/events", get(message_events))
        .route("/api/v1/profiles/{id}/messages", get(profile_messages))
}

/// A message to send to one person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendInput {
    /// The template's id (its current version is recorded now and rendered when sent).
    pub template: String,
    /// The person: any identifier, `kind:value`.
    pub profile: String,
    /// The triggering event (its JSON), as `event` in the template.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
    /// Receipts, password resets: skip subscriptions, quiet hours and caps (never
    /// suppression).
    #[serde(default)]
    pub transactional: bool,
    /// Frequency caps count by category (default: `transactional` or `marketing`).
    #[serde(default)]
    pub category: Option<String>,
    /// `low`, `normal` (default), `high`, `critical`.
    #[serde(default)]
    pub priority: Option<String>,
    /// The subscription topic it belongs to.
    #[serde(default)]
    pub topic: Option<String>,
    /// Sending again with the same key (and template and person) is the same message: it is
    /// not queued twice. Also read from the `Idempotency-Key` header.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A message and where it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub profile_id: String,
    pub channel: String,
    pub source: String,
    pub template_id: String,
    pub template_version: u32,
    pub category: String,
    pub topic: Option<String>,
    pub priority: String,
    pub transactional: bool,
    /// `queued`, `deferred`, `sending`, `sent`, `skipped`, `failed`, …
    pub status: String,
    /// Why: the governor's reason (`capped`, `unsubscribed`, `no_address`, …) or a
    /// provider's error code.
    pub reason: Option<String>,
    pub address: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub error: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn at(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

impl From<MessageRecord> for MessageView {
    fn from(m: MessageRecord) -> Self {
        MessageView {
            id: m.id,
            profile_id: m.profile_id,
            channel: m.channel,
            source: m.source,
            template_id: m.template_id,
            template_version: m.template_version,
            category: m.category,
            topic: m.topic,
            priority: m.priority,
            transactional: m.transactional,
            status: m.status,
            reason: m.reason,
            address: m.address,
            due_at: at(m.due_ms),
            decided_at: m.decided_ms.and_then(at),
            attempts: m.attempts,
            provider: m.provider,
            provider_message_id: m.provider_message_id,
            error: m.error,
            created_at: at(m.created_ms),
            updated_at: at(m.updated_ms),
        }
    }
}

pub(crate) fn invalid(code: &'static str, message: String) -> ApiError {
    ApiError::bad_request(code, message)
}

/// Queue a template for one person. The send pipeline decides (the governor), renders and
/// sends it; `GET /api/v1/messages/{id}` says how it went.
#[utoipa::path(post, path = "/api/v1/messages", tag = "messages", request_body = SendInput,
    responses((status = 202, description = "Queued (or already queued with this idempotency key)", body = MessageView),
        (status = 400, description = "`invalid_identifier`, `invalid_category`, `invalid_priority`, `invalid_idempotency_key`, or `template_not_sendable` (a snippet)", body = ErrorBody),
        (status = 404, description = "`template_not_found` or `profile_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn send(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<SendInput>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let category = input.category.clone().unwrap_or_else(|| {
        if input.transactional {
            "transactional"
        } else {
            "marketing"
        }
        .into()
    });
    Category::parse(&category).map_err(|e| invalid("invalid_category", e.to_string()))?;
    let priority = input.priority.clone().unwrap_or_else(|| "normal".into());
    priority
        .parse::<Priority>()
        .map_err(|e| invalid("invalid_priority", e.to_string()))?;
    let key = match (&input.idempotency_key, headers.get("idempotency-key")) {
        (Some(k), _) => Some(k.clone()),
        (None, Some(h)) => Some(
            h.to_str()
                .map_err(|_| {
                    invalid(
                        "invalid_idempotency_key",
                        "`Idempotency-Key` is not text".into(),
                    )
                })?
                .to_owned(),
        ),
        (None, None) => None,
    };
    if key.as_ref().is_some_and(|k| k.is_empty() || k.len() > 200) {
        return Err(invalid(
            "invalid_idempotency_key",
            "an idempotency key is 1–200 bytes".into(),
        ));
    }
    let profile = resolve_profile(&state, &input.profile).await?;
    let template_id = input.template.clone();
    let stored = blocking(&state, move |s| s.template(&template_id, None))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(
                "template_not_found",
                format!("no template has the id `{}`", input.template),
            )
        })?;
    let channel = match Target::parse(&stored.channel) {
        Some(Target::Channel(c)) => c,
        _ => {
            return Err(invalid(
                "template_not_sendable",
                format!(
                    "template `{}` is a {}; only channel templates are sent",
                    stored.template_id, stored.channel
                ),
            ))
        }
    };
    let profile_uuid = uuid::Uuid::parse_str(profile.as_str())
        .map_err(|e| ApiError::Internal(format!("profile id {}: {e}", profile.as_str())))?;
    let source_id = key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let id = MessageId::derive(
        SourceKind::Api,
        &source_id,
        profile_uuid,
        &stored.template_id,
    );
    let now = herald_storage::clock::now_ms();
    let record = MessageRecord {
        id: id.to_string(),
        profile_id: profile.as_str().to_owned(),
        partition: herald_storage::message_partition(&*state.store, &profile),
        channel: channel.as_str().to_owned(),
        source: "api".into(),
        template_id: stored.template_id,
        template_version: stored.version,
        category,
        priority,
        transactional: input.transactional,
        status: "queued".into(),
        topic: input.topic,
        reason: None,
        address: None,
        due_ms: now,
        decided_ms: None,
        attempts: 0,
        provider: None,
        provider_message_id: None,
        error: None,
        event: input.event.map(|e| e.to_string()),
        created_ms: now,
        updated_ms: now,
    };
    let key = record.id.clone();
    let stored = blocking(&state, move |s| {
        s.enqueue_messages(std::slice::from_ref(&record))?;
        s.message(&key)
    })
    .await?
    .ok_or_else(|| ApiError::Internal("a queued message is not there".into()))?;
    state.messaging.wake();
    Ok((StatusCode::ACCEPTED, Json(stored.into())))
}

/// A message and where it stands.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, body = MessageView), (status = 404, description = "`message_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn message(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let key = id.clone();
    let found = blocking(&state, move |s| s.message(&key)).await?;
    Ok(Json(
        found
            .ok_or_else(|| {
                ApiError::NotFound("message_not_found", format!("no message has the id `{id}`"))
            })?
            .into(),
    ))
}
