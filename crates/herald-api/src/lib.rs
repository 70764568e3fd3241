//! Herald's HTTP surfaces: the Segment Tracking API (`/v1/*`), what browser SDKs fetch first
//! (`/v1/projects/{writeKey}/settings`, `/sourceConfig/`), the admin API (`/api/v1/*`), dashboard
//! sign-in and users (`/api/v1/session`, `/api/v1/users`),
//! OpenAPI (`/openapi.json`, `/docs`), health and metrics.
//!
//! Handlers validate at the edge, then talk to the pipeline (ingest writer, processor) and to
//! storage through its ports; they hold no state of their own.

pub mod admin;
pub mod auth;
pub mod broadcasts;
pub mod browser;
pub mod catalog;
pub mod error;
pub mod extract;
pub mod inbox;
pub mod ingest;
pub mod insights;
pub mod keys;
pub mod messages;
pub mod messaging_settings;
pub mod openapi;
pub mod ops;
pub mod preferences;
pub mod provider_reports;
pub mod templates;
pub mod tracking;

use std::any::Any;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::Router;
use herald_pipeline::notify::LogNotifier;
use herald_pipeline::processor::ProcessorHandle;
use herald_pipeline::tail::Tail;
use herald_pipeline::writer::IngestHandle;
use herald_storage::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
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
    /// Where browsers reach this server (`--public-url`), for the settings documents browser
    /// SDKs fetch; `None`: taken from each request's `Host` / `X-Forwarded-*` headers.
    pub public_url: Option<browser::PublicUrl>,
    /// This node's insights index (`insights::run_*` query it).
    pub insights: herald_pipeline::insights::InsightsHandle,
    /// Wakes the send pipeline when a message is queued.
    pub messaging: herald_pipeline::messaging::MessagingHandle,
}

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(ingest::routes())
        .merge(browser::routes())
        .merge(admin::routes(state.clone()))
        .merge(auth::routes())
        .merge(ops::routes())
        .merge(preferences::public_routes())
        .merge(inbox::public_routes())
        .merge(tracking::routes())
        .merge(provider_reports::routes())
        .merge(openapi::routes());
    // Browser SDKs call the public paths from other origins (authenticated by write key, not
    // cookies): CORS on every answer there, fallbacks and preflights included.
    answer_every_request(routes)
        .layer(axum::middleware::from_fn(browser::public_cors))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Make every answer that does not come from a handler the JSON error body too: an unknown
/// route is a 404 `route_not_found`, a method the route does not take a 405
/// `method_not_allowed` (with `Allow`), and a handler that panics a 500 `internal_panic`
/// instead of a closed connection.
pub fn answer_every_request<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    routes
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .fallback(|| async {
            error::ApiError::NotFound("route_not_found", "no such route; see /docs".into())
        })
        .layer(CatchPanicLayer::custom(panic_response))
}

/// The answer to a request whose handler panicked; the panic is logged here, once.
fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)");
    tracing::error!(
        panic = message,
        "a request handler panicked; answered 500 internal_panic"
    );
    metrics::counter!("herald_http_panics_total").increment(1);
    error::ApiError::Panicked.into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::Request;
    use axum::http::{header, StatusCode};
    use axum::routing::get;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;

    async fn boom() -> &'static str {
        panic!("boom")
    }

    fn app() -> Router {
        answer_every_request(
            Router::new()
                .route("/boom", get(boom))
                .route("/ok", get(|| async { "ok" })),
        )
    }

    async fn call(method: &str, uri: &str) -> (StatusCode, Option<String>, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        let allow = response
            .headers()
            .get(header::ALLOW)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            allow,
            serde_json::from_slice(&bytes).expect("a JSON body"),
        )
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_with_a_json_500() {
        let (status, _, body) = call("GET", "/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["code"], "internal_panic");
        assert!(
            !body["message"].as_str().unwrap().contains("boom"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn unknown_routes_and_methods_are_json_errors() {
        let (status, _, body) = call("GET", "/nowhere").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["code"], "route_not_found");
        let (status, allow, body) = call("DELETE", "/ok").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["code"], "method_not_allowed");
        assert!(allow.is_some_and(|a| a.contains("GET")));
    }
}
