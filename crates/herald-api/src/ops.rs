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

/// Readiness: `ready`, or `degraded` with what needs an operator's attention.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `degraded`.
    pub status: &'static str,
    /// What makes it degraded (absent when ready).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Present and `true` while writes find the storage full: ingest answers 507
    /// `storage_full` until space is freed (the next successful write clears it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub storage_full: bool,
}

/// Since when writes (ingest's appends to the log, or this node's processing) have found the
/// storage full, if they do.
pub(crate) fn storage_full_since_ms(state: &AppState) -> Option<i64> {
    [
        state.ingest.storage_full_since_ms(),
        state.processor.storage_full_since_ms(),
    ]
    .into_iter()
    .flatten()
    .min()
}

/// How long processing must keep failing before readiness reports it as stuck (a failure
/// that a retry fixes, such as a lease handover, is not worth an alert).
const STUCK_AFTER_MS: i64 = 10_000;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Storage answers (in cluster mode: PostgreSQL and JetStream) and the server is not shutting
/// down; a 503 names what failed. A 200 says `degraded`, with the problems, while events are
/// quarantined, this node's processor has kept failing for 10 s, or the storage is full
/// (`storage_full: true`; ingest answers 507 meanwhile): the node still answers (taking it out
/// of a load balancer would only turn retryable answers into refused connections, and the
/// storage is shared by every node of a cluster), but an operator must look.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Readiness), (status = 503, body = ErrorBody)))]
pub async fn readyz(
    State(state): State<AppState>,
) -> Result<Json<Readiness>, crate::error::ApiError> {
    if *state.shutdown.borrow() {
        return Err(crate::error::ApiError::Unavailable("shutting down".into()));
    }
    let store = state.store.clone();
    let quarantined = tokio::task::spawn_blocking(move || {
        store.ping()?;
        store.quarantined_count()
    })
    .await
    .map_err(|e| crate::error::ApiError::Internal(e.to_string()))?
    .map_err(|e| crate::error::ApiError::Unavailable(format!("not ready: {e}")))?;
    let mut problems = Vec::new();
    if quarantined > 0 {
        problems.push(format!(
            "{quarantined} event(s) quarantined: see /api/v1/quarantine"
        ));
    }
    let now = herald_storage::clock::now_ms();
    if let Some(since) = state.processor.failing_since_ms() {
        if now - since >= STUCK_AFTER_MS {
            problems.push(format!(
                "processing has kept failing for {} s: see the logs",
                (now - since) / 1000
            ));
        }
    }
    let storage_full = match storage_full_since_ms(&state) {
        Some(since) => {
            problems.push(format!(
                "storage is full (for {} s): ingest answers 507 storage_full until space is freed",
                (now - since).max(0) / 1000
            ));
            true
        }
        None => false,
    };
    let status = if problems.is_empty() {
        "ready"
    } else {
        "degraded"
    };
    Ok(Json(Readiness {
        status,
        problems,
        storage_full,
    }))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    let full = storage_full_since_ms(&state).is_some();
    metrics::gauge!("herald_storage_full").set(if full { 1.0 } else { 0.0 });
    let store = state.store.clone();
    if let Ok(Ok((head, processed, quarantined))) = tokio::task::spawn_blocking(move || {
        Ok::<_, herald_storage::StorageError>((
            store.head()?,
            store.processed_cursor()?,
            store.quarantined_count()?,
        ))
    })
    .await
    {
        metrics::gauge!("herald_quarantined_events").set(quarantined as f64);
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
