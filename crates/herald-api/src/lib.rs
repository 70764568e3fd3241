//! Herald's HTTP surfaces: the Segment Tracking API (`/v1/*`), the admin API (`/api/v1/*`),
//! OpenAPI (`/openapi.json`, `/docs`), health and metrics.
//!
//! Handlers validate at the edge, then talk to the pipeline (ingest writer, processor) and to
//! storage through its ports; they hold no state of their own.

pub mod admin;
pub mod error;
pub mod ingest;
pub mod keys;
pub mod openapi;
pub mod ops;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use herald_pipeline::notify::LogNotifier;
use herald_pipeline::processor::ProcessorHandle;
use herald_pipeline::tail::Tail;
use herald_pipeline::writer::IngestHandle;
use herald_storage::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::watch;
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub ingest: IngestHandle,
    pub processor: ProcessorHandle,
    pub tail: Tail,
    pub notifier: Arc<LogNotifier>,
    pub metrics: PrometheusHandle,
    pub keys: Arc<keys::KeyCache>,
    /// Becomes `true` when shutdown starts; long-lived responses (the SSE tail) end then.
    pub shutdown: watch::Receiver<bool>,
}

pub fn router(state: AppState) -> Router {
    // Browser SDKs post from other origins; ingest is authenticated by write key, not cookies.
    let cors = CorsLayer::very_permissive().max_age(Duration::from_secs(86_400));
    Router::new()
        .merge(ingest::routes().layer(cors))
        .merge(admin::routes(state.clone()))
        .merge(ops::routes())
        .merge(openapi::routes())
        .fallback(|| async {
            error::ApiError::NotFound("route_not_found", "no such route; see /docs".into())
        })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
