//! `POST /api/v1/test/clock`: move this node's clock forward ([`herald_storage::clock`]).
//! Served only by a node started with `serve --test-clock`, for black-box tests of
//! time-driven behaviour (windows closing, durable timers) that would otherwise sleep or race
//! the machine's speed; absent otherwise, and left out of the OpenAPI document.

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::Json;
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    /// Milliseconds to move the clock forward (never back).
    advance_ms: i64,
}

async fn advance(
    State(state): State<AppState>,
    Json(body): Json<Advance>,
) -> Result<axum::Json<Value>, ApiError> {
    if body.advance_ms < 0 {
        return Err(ApiError::bad_request(
            "invalid_field",
            "advance_ms: the clock only moves forward",
        ));
    }
    let now_ms = herald_storage::clock::advance(body.advance_ms);
    // Wake the processor: timers that just came due fire now.
    state.notifier.poke();
    Ok(axum::Json(json!({ "now_ms": now_ms })))
}

/// The test clock's route, behind the admin key.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/test/clock", post(advance))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authorize,
        ))
        .with_state(state)
}
