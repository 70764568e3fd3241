//! A test send (docs/templates.md#test-sends): a template rendered (for a chosen profile and
//! event, like a preview) and handed to its channel's provider for one address, at once. It is
//! a check of the template and of the channel's settings, not a message to a person: it skips
//! the send governor (subscriptions, suppression, quiet hours, caps), is not in the message
//! log, counts toward no cap, and is not tracked. An email's subject says `[Test]`.

use axum::extract::State;
use herald_channels::{Outbound, SendError};
use herald_messaging::address::{normalize_email, normalize_phone};
use herald_messaging::message::MessageId;
use herald_messaging::template::{Content, Target};
use herald_messaging::Channel;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{missing, rendered};
use crate::admin::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;

/// Where a test goes, and what to render it with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSendInput {
    /// An email address, an E.164 phone number or a push token, for the template's channel
    /// (a webhook goes to its configured endpoint: no address).
    #[serde(default)]
    pub to: Option<String>,
    /// Render for this person (any identifier, `kind:value`); else without a profile.
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
    /// This version (default: the current one).
    #[serde(default, deserialize_with = "crate::extract::whole_u32")]
    pub version: Option<u32>,
}

/// What the provider said.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestSendView {
    pub channel: String,
    pub to: String,
    pub version: u32,
    pub provider: String,
    pub provider_message_id: Option<String>,
}

/// The address a test goes to, normalised for its channel.
fn address(state: &AppState, channel: Channel, to: Option<&str>) -> Result<String, ApiError> {
    let bad = |what: &str| {
        ApiError::bad_request(
            "invalid_address",
            format!("`to` is not {what} for a {} template", channel.as_str()),
        )
    };
    let to = to.map(str::trim).filter(|t| !t.is_empty());
    match channel {
        Channel::Email => to
            .and_then(normalize_email)
            .ok_or_else(|| bad("an email address")),
        Channel::Sms => {
            let settings = state.messaging.settings();
            let code = settings.address_rules.default_calling_code.as_deref();
            to.and_then(|t| normalize_phone(t, code))
                .ok_or_else(|| bad("a phone number"))
        }
        Channel::Push => to
            .filter(|t| t.len() <= 4096)
            .map(str::to_owned)
            .ok_or_else(|| bad("a device token")),
        Channel::Webhook => Ok(String::new()),
        Channel::InApp => Err(ApiError::bad_request(
            "test_send_unsupported",
            "an in-app template is tried with its preview; its inbox is a person's".to_owned(),
        )),
    }
}

/// Render a template and hand it to its channel's provider for one address, now.
#[utoipa::path(post, path = "/api/v1/templates/{id}/test", tag = "templates", request_body = TestSendInput,
    params(("id" = String, Path)),
    responses((status = 200, description = "The provider took it", body = TestSendView),
        (status = 400, description = "`invalid_address`, `test_send_unsupported` (a snippet or an in-app template), a template error's code, or `invalid_identifier`", body = ErrorBody),
        (status = 404, description = "`template_not_found` or `profile_not_found`", body = ErrorBody),
        (status = 409, description = "`channel_not_configured`: no provider for the template's channel", body = ErrorBody),
        (status = 502, description = "`test_send_failed`: the provider refused it or could not be reached (its code and words)", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn test_send(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<TestSendInput>,
) -> Result<Json<TestSendView>, ApiError> {
    let key = id.clone();
    let stored = blocking(&state, move |s| s.template(&key, input.version))
        .await?
        .ok_or_else(|| missing(&id))?;
    let channel = match Target::parse(&stored.channel) {
        Some(Target::Channel(c)) => c,
        _ => {
            return Err(ApiError::bad_request(
                "test_send_unsupported",
                format!("`{id}` is a snippet; snippets are sent inside templates"),
            ))
        }
    };
    let to = address(&state, channel, input.to.as_deref())?;
    let provider = state
        .messaging
        .settings()
        .providers
        .get(channel)
        .cloned()
        .ok_or_else(|| {
            ApiError::Conflict(
                "channel_not_configured",
                format!("no provider is configured for {}", channel.as_str()),
            )
        })?;
    let content: Content = serde_json::from_value(stored.content)
        .map_err(|e| ApiError::Internal(format!("template `{id}` v{}: {e}", stored.version)))?;
    let view = rendered(
        &state,
        Target::Channel(channel),
        content,
        input.profile,
        input.event,
    )
    .await?;
    let mut parts: std::collections::BTreeMap<String, String> =
        serde_json::from_value(view.parts).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(subject) = parts.get_mut("subject") {
        *subject = format!("[Test] {subject}");
    }
    let outbound = Outbound {
        message_id: MessageId(uuid::Uuid::new_v4()),
        channel,
        to: to.clone(),
        parts,
        marketing: false,
        unsubscribe_url: None,
        metadata: serde_json::json!({"test": true, "template_id": id, "template_version": stored.version}),
    };
    let receipt = provider.send(&outbound).await.map_err(|e: SendError| {
        ApiError::Rejected(
            axum::http::StatusCode::BAD_GATEWAY,
            "test_send_failed",
            format!("{e} ({})", e.code()),
        )
    })?;
    Ok(Json(TestSendView {
        channel: channel.as_str().into(),
        to,
        version: stored.version,
        provider: receipt.provider.into(),
        provider_message_id: receipt.provider_message_id,
    }))
}
