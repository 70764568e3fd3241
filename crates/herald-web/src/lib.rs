//! The dashboard, embedded: `web/` is built by `build.rs` (Vite) and compiled into the binary.
//!
//! [`with_dashboard`] adds it to the API's router: `/` and `/assets/*` serve the built files
//! (hashed assets cached for a year, a gzip copy when the browser takes it), and a page
//! navigation (`GET`, `Accept: text/html`) to any path the API does not know gets the app's
//! `index.html`, so the app's own URLs (`/profiles/email:ana@example.com`) can be shared. The
//! API's paths keep their JSON 404s, and so does any request that is not a page navigation.
//! Every file served here carries the security headers in [`SECURITY_HEADERS`].

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use include_dir::{include_dir, Dir};

static DIST: Dir = include_dir!("$OUT_DIR/dist");

/// Headers on every page and asset of the dashboard: the same as on the session answers.
pub use herald_api::auth::SECURITY_HEADERS;

/// Paths that belong to the API and so never fall back to the app.
const API_PREFIXES: [&str; 8] = [
    "/api/",
    "/v1/",
    "/graphql",
    "/openapi.json",
    "/docs",
    "/metrics",
    "/healthz",
    "/readyz",
];

/// `api` with the dashboard added (see the module documentation).
pub fn with_dashboard(api: Router) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*path}", get(asset))
        .merge(api)
        .layer(axum::middleware::from_fn(app_fallback))
}

async fn index(headers: HeaderMap) -> Response {
    file("index.html", &headers, "no-cache")
}

async fn asset(
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    file(
        &format!("assets/{path}"),
        &headers,
        "public, max-age=31536000, immutable",
    )
}

/// A 404 from the API for a page navigation outside the API's paths: the app's `index.html`.
async fn app_fallback(request: Request, next: Next) -> Response {
    let navigation = (request.method() == Method::GET || request.method() == Method::HEAD)
        && !is_api_path(request.uri().path())
        && accepts_html(request.headers());
    let headers = navigation.then(|| request.headers().clone());
    let response = next.run(request).await;
    match headers {
        Some(headers) if response.status() == StatusCode::NOT_FOUND => {
            file("index.html", &headers, "no-cache")
        }
        _ => response,
    }
}

fn is_api_path(path: &str) -> bool {
    path.starts_with("/assets/")
        || API_PREFIXES
            .iter()
            .any(|p| path == p.trim_end_matches('/') || path.starts_with(p))
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

fn file(path: &str, request: &HeaderMap, cache: &'static str) -> Response {
    let Some(plain) = DIST.get_file(path) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"code":"asset_not_found","message":"no such dashboard asset"}"#,
        )
            .into_response();
    };
    let gzip = DIST
        .get_file(format!("{path}.gz"))
        .filter(|_| accepts_gzip(request));
    let body = gzip.unwrap_or(plain).contents();
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip.is_some() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests;
