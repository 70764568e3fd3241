//! What providers report back about the messages Herald handed them (docs/channels.md):
//! `POST /webhooks/postmark` takes Postmark's delivery, bounce, spam complaint, open and click
//! webhooks, believed only with the HTTP Basic credentials configured for them
//! (herald_channels::email::postmark_webhook reads them); `POST /webhooks/twilio` takes
//! Twilio's SMS status callbacks, believed only with their `X-Twilio-Signature`
//! (herald_channels::sms_status). herald_pipeline::messaging::engagement suppresses the
//! address of a hard bounce or a complaint and records the delivery event.
//!
//! A provider retries what is not answered 2xx, so a report about mail Herald did not send, or
//! about a message it no longer has, is answered `200` with `"recorded": false`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use herald_channels::email::postmark_webhook::parse_webhook;
use herald_pipeline::messaging::engagement::reported;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/postmark", post(postmark_webhook))
        .route("/webhooks/twilio", post(twilio_status_callback))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    /// Whether the report was about a message of this Herald and was recorded.
    pub recorded: bool,
}

/// The user name and password of an HTTP Basic `Authorization` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A Postmark webhook (any of its message record types), with the Basic credentials
/// configured as `webhook_username` and `webhook_password` of the Postmark email provider.
#[utoipa::path(post, path = "/webhooks/postmark", tag = "messages",
    request_body(content = Object, description = "A Postmark webhook record (`RecordType` `Delivery`, `Bounce`, `SpamComplaint`, `Open`, `Click`)"),
    responses((status = 200, body = Recorded),
        (status = 400, description = "`invalid_webhook`: not a Postmark webhook record", body = ErrorBody),
        (status = 401, description = "`webhook_unauthorized`: no Basic credentials, or not the configured ones", body = ErrorBody),
        (status = 404, description = "`webhook_not_configured`: no Postmark provider with webhook credentials (said to a request with credentials)", body = ErrorBody)),
    security(("postmark_webhook" = [])))]
pub async fn postmark_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Recorded>, ApiError> {
    let unauthorized = || {
        ApiError::Unauthenticated(
            "webhook_unauthorized",
            "the webhook's HTTP Basic credentials are not the configured ones".into(),
        )
    };
    let Some((user, password)) = basic_credentials(&headers) else {
        return Err(unauthorized());
    };
    let Some(expected) = &state.messaging.settings().postmark_webhook else {
        return Err(ApiError::NotFound(
            "webhook_not_configured",
            "Postmark webhooks are not configured: set webhook_username and webhook_password \
             of the Postmark email provider (docs/channels.md)"
                .into(),
        ));
    };
    let authorized = expected.check(&user, &password);
    if !authorized {
        return Err(unauthorized());
    }
    let report = parse_webhook(&body)
        .map_err(|e| ApiError::bad_request("invalid_webhook", e.to_string()))?;
    record(&state, report).await
}

/// Which message a Twilio status callback is about: the query of its callback URL.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TwilioCallbackQuery {
    /// Herald's message id, which Herald put in the message's `StatusCallback` URL.
    pub herald_message_id: Option<String>,
}

/// A Twilio SMS status callback (form-encoded, as Twilio posts it), believed only with its
/// `X-Twilio-Signature` for the callback URL Herald gave that message.
#[utoipa::path(post, path = "/webhooks/twilio", tag = "messages",
    params(TwilioCallbackQuery),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Twilio's status callback parameters (`MessageSid`, `MessageStatus`, `ErrorCode`, `To`, …)"),
    responses((status = 200, body = Recorded),
        (status = 401, description = "`webhook_unauthorized`: no `X-Twilio-Signature`, or not Twilio's for this URL and body", body = ErrorBody),
        (status = 404, description = "`webhook_not_configured`: the SMS provider has no `status_callback` (said to a signed request)", body = ErrorBody)))]
pub async fn twilio_status_callback(
    State(state): State<AppState>,
    crate::extract::Query(query): crate::extract::Query<TwilioCallbackQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Recorded>, ApiError> {
    let unauthorized = || {
        ApiError::Unauthenticated(
            "webhook_unauthorized",
            "the X-Twilio-Signature is not Twilio's for this callback".into(),
        )
    };
    let Some(signature) = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return Err(unauthorized());
    };
    let settings = state.messaging.settings();
    let Some(callbacks) = &settings.twilio_callbacks else {
        return Err(ApiError::NotFound(
            "webhook_not_configured",
            "Twilio status callbacks are not configured: set status_callback of the Twilio SMS \
             provider (docs/channels.md)"
                .into(),
        ));
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let message_id = query.herald_message_id.unwrap_or_default();
    if !callbacks.verify(&message_id, &params, signature) {
        return Err(unauthorized());
    }
    record(
        &state,
        herald_channels::sms_status::parse_callback(&message_id, &params),
    )
    .await
}

/// Believe a report (herald_pipeline::messaging::engagement::reported); one that is about no
/// message of this Herald, or about nothing delivery tells, is answered `recorded: false`.
async fn record(
    state: &AppState,
    report: Option<herald_channels::ProviderReport>,
) -> Result<Json<Recorded>, ApiError> {
    let Some(report) = report else {
        return Ok(Json(Recorded { recorded: false }));
    };
    let recorded = reported(&state.store, &state.ingest, report)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(Recorded { recorded }))
}
