//! Operations endpoints: liveness, readiness, Prometheus metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::admin::blocking;
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

/// Storage answers and the server is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, crate::error::ApiError> {
    if *state.shutdown.borrow() {
        return Err(crate::error::ApiError::Unavailable("shutting down".into()));
    }
    blocking(&state, |s| s.ping()).await?;
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
