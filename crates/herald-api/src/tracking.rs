//! Open and click tracking (docs/tracking.md): the pixel at the end of an HTML email and the
//! signed redirects its links go through (herald_messaging::tracking writes them into the
//! HTML; herald_pipeline::messaging::Links signs them). Each records a delivery event through
//! herald_pipeline::messaging::engagement: the first open of a message and the first click on
//! each of its links are events on the person's timeline, and the message's status moves to
//! `opened` or `clicked`.
//!
//! The redirect goes only where a signature made by Herald for that message says, so it is
//! never an open redirect; a link whose signature does not check out is a 400 page, not a
//! redirect anywhere.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use herald_messaging::message::{DeliveryEvent, MessageId};
use herald_messaging::tracking::{is_machine_fetch, is_web_url};
use herald_pipeline::messaging::engagement::engaged;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::AppState;

/// What a `Location` cannot hold as it is (non-ASCII bytes are always encoded).
const LOCATION: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`');

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/o/{message}/{signature}", get(track_open))
        .route("/t/c/{message}/{signature}", get(track_click))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClickQuery {
    /// The link's target, as signed.
    pub u: String,
}

fn invalid() -> ApiError {
    ApiError::bad_request(
        "link_invalid",
        "this tracking link is not one Herald made (changed, or from another Herald)",
    )
}

/// What a tracked fetch says of who made it: its method and `User-Agent`.
pub struct RequestFacts {
    head: bool,
    user_agent: Option<String>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestFacts {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestFacts {
            head: parts.method == axum::http::Method::HEAD,
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        })
    }
}

/// Record `event` for `message`, unless a machine fetched the pixel or the link
/// (herald_messaging::tracking::is_machine_fetch: counted, not recorded); a failure is logged
/// (the reader still gets their page).
async fn record(
    state: &AppState,
    request: &RequestFacts,
    message: MessageId,
    event: DeliveryEvent,
) {
    let kind = match event {
        DeliveryEvent::Opened => "open",
        _ => "click",
    };
    if is_machine_fetch(request.head, request.user_agent.as_deref()) {
        metrics::counter!("herald_tracking_machine_fetches_total", "kind" => kind).increment(1);
        return;
    }
    if let Err(e) = engaged(&state.store, &state.ingest, &message.key(), event).await {
        tracing::warn!(message = %message.key(), error = %e, "an engagement was not recorded");
    }
}

/// The open-tracking pixel of a message: a transparent GIF, never cached. Its first load is
/// `Message Opened` on the person's timeline.
#[utoipa::path(get, path = "/t/o/{message}/{signature}", tag = "tracking",
    params(("message" = String, Path, description = "The message's id"), ("signature" = String, Path)),
    responses((status = 200, content_type = "image/gif", description = "A transparent 1×1 GIF"),
        (status = 400, description = "`link_invalid`: not a pixel Herald made", body = ErrorBody)))]
pub async fn track_open(
    State(state): State<AppState>,
    request: RequestFacts,
    Path((message, signature)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id: MessageId = message.parse().map_err(|_| invalid())?;
    state
        .messaging
        .settings()
        .links
        .verify_open(id, &signature)
        .map_err(|_| invalid())?;
    record(&state, &request, id, DeliveryEvent::Opened).await;
    Ok((
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "no-store, max-age=0"),
        ],
        PIXEL,
    )
        .into_response())
}

/// A tracked link: a redirect (302) to its target. The first click on each link of a message
/// is `Message Clicked` (with `link_url`) on the person's timeline.
#[utoipa::path(get, path = "/t/c/{message}/{signature}", tag = "tracking",
    params(("message" = String, Path, description = "The message's id"), ("signature" = String, Path), ClickQuery),
    responses((status = 302, description = "To the link's target (`Location`)"),
        (status = 400, description = "`link_invalid`: not a link Herald made; `invalid_query`: no `u`", body = ErrorBody)))]
pub async fn track_click(
    State(state): State<AppState>,
    request: RequestFacts,
    Path((message, signature)): Path<(String, String)>,
    Query(q): Query<ClickQuery>,
) -> Result<Response, ApiError> {
    let id: MessageId = message.parse().map_err(|_| invalid())?;
    if !is_web_url(&q.u) {
        return Err(invalid());
    }
    state
        .messaging
        .settings()
        .links
        .verify_click(id, &q.u, &signature)
        .map_err(|_| invalid())?;
    record(
        &state,
        &request,
        id,
        DeliveryEvent::Clicked {
            url: Some(q.u.clone()),
        },
    )
    .await;
    // A header value is ASCII: what else the target holds (spaces, non-ASCII letters) goes
    // percent-encoded, as a browser would send it.
    let location = utf8_percent_encode(&q.u, LOCATION).to_string();
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, location.as_str()),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
    )
        .into_response())
}
