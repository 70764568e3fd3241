//! What providers report back about the messages Herald handed them (docs/channels.md):
//! `POST /webhooks/postmark` takes Postmark's delivery, bounce, spam complaint, open and click
//! webhooks, believed only with the HTTP Basic credentials configured for them
//! (herald_channels::email::postmark_webhook reads them; herald_pipeline::messaging::engagement
//! suppresses the address of a hard bounce or a complaint and records the delivery event).
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
    Router::new().route("/webhooks/postmark", post(postmark_webhook))
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
    let Some(report) = report else {
        return Ok(Json(Recorded { recorded: false }));
    };
    let recorded = reported(&state.store, &state.ingest, report)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(Recorded { recorded }))
}
