//! `GET /api/v1/messaging/settings`: the messaging configuration in force on this node, as
//! the channels file (`--channels`, docs/messages.md) set it: each channel's provider and its
//! settings, the send governor's policy, the tracking policy, the address rules, the topics,
//! and whether provider webhooks are taken. Credentials are never shown: they read `****`
//! and, when long enough, their last four characters (herald_channels::Secret).

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/messaging/settings", get(messaging_settings))
}

/// The messaging configuration in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagingSettings {
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

fn json<T: Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

/// The messaging configuration in force on this node; credentials masked.
#[utoipa::path(get, path = "/api/v1/messaging/settings", tag = "messages",
    responses((status = 200, body = MessagingSettings), (status = 401, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn messaging_settings(
    State(state): State<AppState>,
) -> Result<Json<MessagingSettings>, ApiError> {
    let s = &state.messaging.settings;
    Ok(Json(MessagingSettings {
        channels: json(&s.channels)?,
        policy: json(&s.policy)?,
        tracking: json(&s.tracking)?,
        addresses: json(&s.address_rules)?,
        topics: json(&s.topics)?,
        postmark_webhook: s.postmark_webhook.is_some(),
    }))
}
