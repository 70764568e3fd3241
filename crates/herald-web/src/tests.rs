use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;

use super::*;

/// The dashboard over an API whose unknown routes are JSON 404s, as Herald's are.
fn app() -> Router {
    let api = Router::new()
        .route("/api/v1/status", get(|| async { "status" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, r#"{"code":"route_not_found"}"#) });
    with_dashboard(api)
}

async fn call(path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (parts.status, parts.headers, bytes.to_vec())
}

const PAGE: (&str, &str) = ("accept", "text/html,application/xhtml+xml");

fn is_index(body: &[u8]) -> bool {
    body == DIST.get_file("index.html").unwrap().contents()
}

#[tokio::test]
async fn the_app_is_served_at_the_root_with_security_headers() {
    let (status, headers, body) = call("/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(is_index(&body));
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(headers[name], value, "{name}");
    }
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_gzipped_for_browsers_that_take_it() {
    let script = DIST
        .get_dir("assets")
        .unwrap()
        .files()
        .find(|f| f.path().extension().is_some_and(|e| e == "js"))
        .expect("a built script");
    let path = format!("/{}", script.path().display());
    let (status, headers, body) = call(&path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, script.contents());
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(headers.get(header::CONTENT_ENCODING).is_none());

    let (status, headers, gz) = call(&path, &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert!(gz.len() < body.len() && gz.starts_with(&[0x1f, 0x8b]));

    let (status, _, body) = call("/assets/nope.js", &[PAGE]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8(body).unwrap().contains("asset_not_found"));
}

#[tokio::test]
async fn page_navigations_to_app_paths_get_the_app() {
    for path in ["/profiles/email:ana@example.com", "/audiences?q=1", "/live"] {
        let (status, headers, body) = call(path, &[PAGE]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(is_index(&body), "{path}");
        assert_eq!(headers["x-frame-options"], "DENY");
    }
}

#[tokio::test]
async fn api_paths_and_non_page_requests_keep_their_json_404() {
    for path in [
        "/api/v1/nope",
        "/api",
        "/v1/nope",
        "/graphql",
        "/graphql/nope",
        "/metrics/x",
        "/docs/nope",
        "/healthz/x",
    ] {
        let (status, _, body) = call(path, &[PAGE]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, br#"{"code":"route_not_found"}"#, "{path}");
    }
    // Not a page navigation (a script, curl): the API's answer.
    let (status, _, body) = call("/profiles", &[("accept", "application/json")]).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::NOT_FOUND, &br#"{"code":"route_not_found"}"#[..])
    );
    let (status, _, body) = call("/api/v1/status", &[PAGE]).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"status"[..]));
}
