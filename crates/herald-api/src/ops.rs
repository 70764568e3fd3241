//! Operations endpoints: liveness, readiness, Prometheus metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ErrorBody;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Storage answers (in cluster mode: PostgreSQL and JetStream) and the server is not shutting
/// down. A 503 names what failed.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, crate::error::ApiError> {
    if *state.shutdown.borrow() {
        return Err(crate::error::ApiError::Unavailable("shutting down".into()));
    }
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || store.ping())
        .await
        .map_err(|e| crate::error::ApiError::Internal(e.to_string()))?
        .map_err(|e| crate::error::ApiError::Unavailable(format!("not ready: {e}")))?;
    Ok(Json(Health { status: "ready" }))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.store.clone();
    if let Ok(Ok((head, processed))) = tokio::task::spawn_blocking(move || {
        Ok::<_, herald_storage::StorageError>((store.head()?, store.processed_cursor()?))
    })
    .await
    {
        metrics::gauge!("herald_log_head").set(head as f64);
        metrics::gauge!("herald_processed_position").set(processed as f64);
        metrics::gauge!("herald_processor_lag_events").set(head.saturating_sub(processed) as f64);
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
