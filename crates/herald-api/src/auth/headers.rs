//! Security headers for the dashboard's pages and the session answers.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The dashboard's Content-Security-Policy: everything from this server only (inline styles
/// allowed for component libraries, `data:` images, WebSockets to itself), never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// The headers on every page and asset of the dashboard (`herald-web`) and on the session
/// answers: the policy above, no MIME sniffing, no referrer to other sites, never framed.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
];

/// Middleware (`axum::middleware::from_fn(security_headers)`) setting [`SECURITY_HEADERS`] on
/// every answer it wraps.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
