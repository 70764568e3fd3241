//! The Segment HTTP Tracking API: `/v1/identify|track|page|screen|group|alias|batch|import` and
//! the browser short forms `/v1/i|t|p|s|g|a|b`, and RudderStack's beacon batches
//! (`/beacon/v1/batch?writeKey=...`, sent with `navigator.sendBeacon`).
//!
//! A request is all or nothing: if any event of a batch is invalid, the response is a 400
//! (`invalid_events`) that lists every bad event by index with its own code, and nothing of the
//! batch is stored. A bad single-event call gets a 400 with the event's code directly. The 200 is sent only once
//! the events are durably committed to the log.

pub(crate) mod auth;
mod body;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use herald_core::event::{
    EventType, Incoming, ParseContext, RawMessage, RawMessageError, TimeMode,
};
use herald_pipeline::writer::SubmitError;
use herald_storage::KeyKind;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody, EventProblem};
use crate::AppState;

/// Largest request body of a batch or import call, decompressed.
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 2500;
/// Largest request body of a single-event call.
pub const MAX_EVENT_BYTES: usize = herald_core::event::MAX_EVENT_BYTES;

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// Always `true`: the events are durably stored (or were already, for retries).
    pub success: bool,
}

#[derive(Clone, Copy)]
enum Endpoint {
    Single(EventType),
    Batch(TimeMode),
}

pub fn routes() -> Router<AppState> {
    let single = |t: EventType| {
        post(move |s: State<AppState>, u: Uri, h: HeaderMap, b: Body| {
            ingest(s, u, h, b, Endpoint::Single(t))
        })
    };
    let batch = post(|s: State<AppState>, u: Uri, h: HeaderMap, b: Body| {
        ingest(s, u, h, b, Endpoint::Batch(TimeMode::Live))
    });
    let mut router = Router::new();
    for (long, short, t) in [
        ("identify", "i", EventType::Identify),
        ("track", "t", EventType::Track),
        ("page", "p", EventType::Page),
        ("screen", "s", EventType::Screen),
        ("group", "g", EventType::Group),
        ("alias", "a", EventType::Alias),
    ] {
        router = router
            .route(&format!("/v1/{long}"), single(t))
            .route(&format!("/v1/{short}"), single(t));
    }
    router
        .route("/v1/batch", batch.clone())
        .route("/v1/b", batch.clone())
        // RudderStack's JS SDK with `useBeacon`: `sendBeacon` can set no header, so the key
        // is in the query string.
        .route("/beacon/v1/batch", batch)
        .route(
            "/v1/import",
            post(|s: State<AppState>, u: Uri, h: HeaderMap, b: Body| {
                ingest(s, u, h, b, Endpoint::Batch(TimeMode::Import))
            }),
        )
}

/// The `writeKey` query parameter (RudderStack's beacons put the key there).
#[derive(Deserialize)]
struct KeyQuery {
    #[serde(rename = "writeKey")]
    write_key: Option<String>,
}

#[derive(Deserialize)]
struct BatchBody<'a> {
    #[serde(borrow)]
    batch: Option<Vec<&'a RawValue>>,
    #[serde(rename = "sentAt")]
    sent_at: Option<Value>,
    #[serde(rename = "writeKey")]
    write_key: Option<Value>,
    /// Merged into every event's context (keys the event sets win).
    context: Option<Map<String, Value>>,
}

/// Send one event (identify; the other single-event calls take the same shape).
#[utoipa::path(
    post, path = "/v1/identify", tag = "ingest",
    description = "Segment Tracking API. Also `/v1/track`, `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias` and the browser short forms `/v1/i|t|p|s|g|a` (write key in the body as `writeKey`). Authenticate with HTTP Basic (write key as user name), a Bearer token, the `writeKey` query parameter, or `writeKey` in the body. Any `Content-Type` (browsers' beacons send `text/plain`). Gzip bodies are accepted. Limit: 32 KB per event.",
    request_body(content = Object, description = "A Segment message"),
    responses(
        (status = 200, description = "Durably stored", body = Accepted),
        (status = 400, description = "Invalid; nothing stored", body = ErrorBody),
        (status = 401, description = "Missing or unknown write key", body = ErrorBody),
        (status = 415, description = "`unsupported_encoding`: a `Content-Encoding` other than gzip", body = ErrorBody),
        (status = 408, description = "`body_timeout`: the body did not arrive within the server's body timeout (`--body-timeout-secs`); the connection is closed", body = ErrorBody),
        (status = 429, description = "Overloaded; retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "`too_many_connections` (the server is at its connection cap; the connection is closed) or `unavailable` (storage unreachable, shutting down); retry after `Retry-After` seconds", body = ErrorBody),
        (status = 507, description = "`storage_full`: the server's storage is full, nothing was stored; retry after `Retry-After` seconds (30)", body = ErrorBody),
    ),
    security(("write_key" = []))
)]
pub async fn identify_doc() {}

/// Send up to 2,500 events at once.
#[utoipa::path(
    post, path = "/v1/batch", tag = "ingest",
    description = "A batch of Segment messages: `{\"batch\": [...], \"sentAt\": ..., \"context\": {...}}`. Also `/v1/b` (browser short form), `/beacon/v1/batch` (RudderStack's `sendBeacon` batches, write key as the `writeKey` query parameter) and `/v1/import` (historical data: timestamps are taken as given, with no clock-skew correction). All or nothing: if any event is invalid the response lists each bad event by index and nothing is stored. Limits: 500 KB per request (decompressed), 2,500 events, 32 KB per event.",
    request_body(content = Object, description = "`{\"batch\": [message, ...]}`"),
    responses(
        (status = 200, description = "Durably stored", body = Accepted),
        (status = 400, description = "Invalid; nothing stored", body = ErrorBody),
        (status = 401, description = "Missing or unknown write key", body = ErrorBody),
        (status = 415, description = "`unsupported_encoding`: a `Content-Encoding` other than gzip", body = ErrorBody),
        (status = 408, description = "`body_timeout`: the body did not arrive within the server's body timeout (`--body-timeout-secs`); the connection is closed", body = ErrorBody),
        (status = 429, description = "Overloaded; retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "`too_many_connections` (the server is at its connection cap; the connection is closed) or `unavailable` (storage unreachable, shutting down); retry after `Retry-After` seconds", body = ErrorBody),
        (status = 507, description = "`storage_full`: the server's storage is full, nothing was stored; retry after `Retry-After` seconds (30)", body = ErrorBody),
    ),
    security(("write_key" = []))
)]
pub async fn batch_doc() {}

async fn ingest(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    endpoint: Endpoint,
) -> Result<Json<Accepted>, ApiError> {
    let result = ingest_inner(&state, &uri, &headers, body, endpoint).await;
    if let Err(e) = &result {
        match e {
            ApiError::InvalidEvents(problems) => {
                for p in problems {
                    metrics::counter!("herald_events_rejected_total", "reason" => p.code.clone())
                        .increment(1);
                }
            }
            other => metrics::counter!("herald_requests_rejected_total", "reason" => other.code())
                .increment(1),
        }
    }
    result
}

async fn ingest_inner(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    endpoint: Endpoint,
) -> Result<Json<Accepted>, ApiError> {
    // The key from the headers, else from the query string, else (below) from the body.
    let request_key = match auth::from_headers(headers)? {
        Some(key) => Some(key),
        None => query_key(uri)?,
    };
    if let Some(key) = &request_key {
        authenticate(state, key).await?;
    }
    let limit = match endpoint {
        Endpoint::Single(_) => MAX_EVENT_BYTES,
        Endpoint::Batch(_) => MAX_BATCH_BYTES,
    };
    let bytes = body::read(headers, body, limit).await?;
    let received_at = herald_storage::clock::now();

    // Without a key in the headers, the key is read from the body as soon as it parses, and
    // checked before the events are validated: an unauthenticated caller learns nothing else.
    let events = match endpoint {
        Endpoint::Single(event_type) => {
            let text = std::str::from_utf8(&bytes).map_err(|e| {
                ApiError::bad_request("invalid_json", format!("body is not valid JSON: {e}"))
            })?;
            let message = RawMessage::parse(text).map_err(|e| match e {
                RawMessageError::Json(e) => invalid_json(e),
                other => ApiError::bad_request(other.code(), other.to_string()),
            })?;
            if request_key.is_none() {
                authenticate_body_key(state, message.value("writeKey")).await?;
            }
            let ctx = ParseContext {
                received_at,
                batch_sent_at: None,
                implied_type: Some(event_type),
                time_mode: TimeMode::Live,
                fallback_message_id: new_message_id,
            };
            let event = Incoming::from_message(&message, &ctx, None).map_err(|e| {
                metrics::counter!("herald_events_rejected_total", "reason" => e.code).increment(1);
                ApiError::BadRequest(e.code, e.message)
            })?;
            vec![event]
        }
        Endpoint::Batch(time_mode) => {
            let parsed: BatchBody<'_> = serde_json::from_slice(&bytes).map_err(invalid_json)?;
            if request_key.is_none() {
                authenticate_body_key(state, parsed.write_key).await?;
            }
            let raw_events = parsed.batch.ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_batch",
                    "the body must be an object with a `batch` array",
                )
            })?;
            if raw_events.len() > MAX_BATCH_EVENTS {
                return Err(ApiError::bad_request(
                    "batch_too_large",
                    format!(
                        "the batch has {} events; the limit is {MAX_BATCH_EVENTS}",
                        raw_events.len()
                    ),
                ));
            }
            let sent_at = match &parsed.sent_at {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.as_str()),
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "invalid_timestamp",
                        "`sentAt` must be an ISO-8601 date-time",
                    ))
                }
            };
            let events = parse_batch(
                &raw_events,
                sent_at,
                parsed.context.as_ref(),
                received_at,
                time_mode,
            )?;
            events
        }
    };

    metrics::histogram!("herald_ingest_request_events").record(events.len() as f64);
    for e in &events {
        metrics::counter!("herald_events_received_total", "type" => e.event_type.as_str())
            .increment(1);
    }
    if events.is_empty() {
        return Ok(Json(Accepted { success: true }));
    }
    state.ingest.submit(events).await.map_err(submit_error)?;
    Ok(Json(Accepted { success: true }))
}

/// The answer when the writer did not take events: 429 when its queue is full, 503 while
/// shutting down, the storage's own error otherwise.
pub(crate) fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Overloaded => ApiError::Overloaded,
        SubmitError::Stopped => ApiError::Unavailable("the server is shutting down".into()),
        SubmitError::Storage(e) => e.into(),
    }
}

fn parse_batch(
    raw_events: &[&RawValue],
    sent_at: Option<&str>,
    batch_context: Option<&Map<String, Value>>,
    received_at: chrono::DateTime<Utc>,
    time_mode: TimeMode,
) -> Result<Vec<Incoming>, ApiError> {
    let mut events = Vec::with_capacity(raw_events.len());
    let mut problems = Vec::new();
    let ctx = ParseContext {
        received_at,
        batch_sent_at: sent_at,
        implied_type: None,
        time_mode,
        fallback_message_id: new_message_id,
    };
    for (index, raw) in raw_events.iter().enumerate() {
        match Incoming::parse(raw.get(), &ctx, batch_context) {
            Ok(e) => events.push(e),
            Err(e) => problems.push(EventProblem {
                index,
                code: e.code.into(),
                message: e.message,
            }),
        }
    }
    if problems.is_empty() {
        Ok(events)
    } else {
        Err(ApiError::InvalidEvents(problems))
    }
}

async fn authenticate_body_key(state: &AppState, key: Option<Value>) -> Result<(), ApiError> {
    match key {
        Some(Value::String(key)) if !key.is_empty() => authenticate(state, &key).await,
        _ => Err(ApiError::Unauthorized(
            "a write key is required: HTTP Basic (key as user name), Bearer, or `writeKey` in the body".into(),
        )),
    }
}

/// The `writeKey` query parameter, if the request has one.
fn query_key(uri: &Uri) -> Result<Option<String>, ApiError> {
    if uri.query().is_none_or(|q| !q.contains("writeKey")) {
        return Ok(None);
    }
    let axum::extract::Query(q) = axum::extract::Query::<KeyQuery>::try_from_uri(uri)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    Ok(q.write_key.filter(|k| !k.is_empty()))
}

pub(crate) async fn authenticate(state: &AppState, key: &str) -> Result<(), ApiError> {
    if state.keys.check(&state.store, KeyKind::Write, key).await? {
        Ok(())
    } else {
        Err(ApiError::Unauthorized(
            "unknown or revoked write key".into(),
        ))
    }
}

fn invalid_json(e: serde_json::Error) -> ApiError {
    ApiError::bad_request("invalid_json", format!("body is not valid JSON: {e}"))
}

/// For events sent without a `messageId` (no SDK does that): such events cannot be
/// de-duplicated on retry.
fn new_message_id() -> String {
    format!("herald-{}", uuid::Uuid::new_v4())
}
