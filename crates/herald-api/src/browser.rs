//! What browser SDKs need besides the tracking API itself (docs/browser.md):
//!
//! - `GET /v1/projects/{writeKey}/settings`: Segment analytics.js's "CDN settings", fetched
//!   from its `cdnURL` before anything is sent. The `Segment.io` integration's `apiHost` and
//!   `protocol` point back at this Herald, so events come here.
//! - `GET /sourceConfig/`: RudderStack JS SDK v3's source configuration, fetched from its
//!   `configUrl` (write key as HTTP Basic, and in the query string): the source, enabled, with
//!   no device-mode destinations.
//! - CORS on every answer of the public paths (`public_cors`): the tracking routes, these two,
//!   and the 404/405 fallbacks and preflights under them, so a browser on another origin can
//!   read every answer, errors included.
//!
//! Both documents are authenticated by the write key they carry: an unknown or revoked key is
//! a 401 `unauthorized`, which both SDKs report (analytics.js rejects `load` and logs the
//! body; RudderStack logs "Failed to fetch the source config").

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use tower::{Layer, ServiceExt};
use tower_http::cors::CorsLayer;
use utoipa::IntoParams;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::ingest::{auth, authenticate};
use crate::AppState;

/// Where browsers reach this Herald from outside (`herald serve --public-url`): the scheme and
/// the authority, with an optional path prefix when a proxy serves Herald under one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    /// `http` or `https`.
    scheme: &'static str,
    /// `host[:port][/prefix]`, without a trailing slash.
    host_and_path: String,
}

impl PublicUrl {
    /// The Segment `apiHost` for this URL: `host[:port][/prefix]/v1`.
    fn api_host(&self) -> String {
        format!("{}/v1", self.host_and_path)
    }

    /// Whether browsers reach Herald over TLS.
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// The origin browsers send in `Origin` for pages served here: `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        let authority = self.host_and_path.split('/').next().unwrap_or_default();
        format!("{}://{authority}", self.scheme)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host_and_path)
    }
}

impl FromStr for PublicUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (scheme, rest) = if let Some(rest) = s.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = s.strip_prefix("http://") {
            ("http", rest)
        } else {
            return Err(format!(
                "{s:?} is not an http:// or https:// URL (e.g. https://cdp.example.com)"
            ));
        };
        if rest.contains(['?', '#']) {
            return Err(format!(
                "{s:?} has a query or fragment; give the base URL only"
            ));
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        valid_authority(authority).map_err(|e| format!("{s:?}: {e}"))?;
        let path = path.trim_end_matches('/');
        if path.contains(char::is_whitespace) {
            return Err(format!("{s:?}: the path has a space"));
        }
        let host_and_path = if path.is_empty() {
            authority.to_owned()
        } else {
            format!("{authority}/{path}")
        };
        Ok(PublicUrl {
            scheme,
            host_and_path,
        })
    }
}

/// A `host[:port]` as browsers send it in `Host`: no user info, nothing after the port.
fn valid_authority(authority: &str) -> Result<(), String> {
    if authority.is_empty() {
        return Err("no host".into());
    }
    if authority.contains('@') {
        return Err("user info is not allowed in the host".into());
    }
    if let Some((_, port)) = authority.rsplit_once(':') {
        if !authority.ends_with(']') && port.parse::<u16>().is_err() {
            return Err(format!("{authority:?} has an invalid port"));
        }
    }
    match axum::http::uri::Authority::from_str(authority) {
        Ok(a) if a.as_str() == authority => Ok(()),
        _ => Err(format!("{authority:?} is not a valid host[:port]")),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/projects/{write_key}/settings", get(segment_settings))
        .route("/sourceConfig", get(rudder_source_config))
        .route("/sourceConfig/", get(rudder_source_config))
}

/// The base URL browsers reach this Herald at: `--public-url` if given, else the request's
/// `X-Forwarded-Proto` (default `http`) and `X-Forwarded-Host` or `Host`.
pub(crate) fn public_url(state: &AppState, headers: &HeaderMap) -> Result<PublicUrl, ApiError> {
    if let Some(url) = &state.public_url {
        return Ok(url.clone());
    }
    let first = |name: &str| -> Result<Option<String>, ApiError> {
        match headers.get(name) {
            None => Ok(None),
            Some(v) => {
                let v = v.to_str().map_err(|_| {
                    ApiError::bad_request("invalid_header", format!("{name} is not valid text"))
                })?;
                Ok(Some(v.split(',').next().unwrap_or("").trim().to_owned()))
            }
        }
    };
    let scheme = match first("x-forwarded-proto")?.map(|p| p.to_ascii_lowercase()) {
        None => "http",
        Some(p) if p == "http" => "http",
        Some(p) if p == "https" => "https",
        Some(p) => {
            return Err(ApiError::bad_request(
                "invalid_header",
                format!("X-Forwarded-Proto {p:?} is neither http nor https"),
            ))
        }
    };
    let (name, host) = match first("x-forwarded-host")? {
        Some(h) => ("X-Forwarded-Host", h),
        None => match first("host")? {
            Some(h) => ("Host", h),
            None => {
                return Err(ApiError::bad_request(
                    "missing_host",
                    "the request has no Host header; start Herald with --public-url",
                ))
            }
        },
    };
    valid_authority(&host)
        .map_err(|e| ApiError::bad_request("invalid_header", format!("{name}: {e}")))?;
    Ok(PublicUrl {
        scheme,
        host_and_path: host,
    })
}

/// A document that depends on the write key (and, without `--public-url`, on the request's
/// host): browsers may keep it but must check again before using it.
fn settings_response(doc: Value) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-cache"),
            (header::VARY, "Host, X-Forwarded-Host, X-Forwarded-Proto"),
        ],
        axum::Json(doc),
    )
        .into_response()
}

/// Segment analytics.js settings for a write key.
#[utoipa::path(
    get, path = "/v1/projects/{write_key}/settings", tag = "browser",
    description = "What `@segment/analytics-next` fetches from its `cdnURL` before sending anything (point `cdnURL` at this Herald). The `Segment.io` integration's `apiHost` and `protocol` point at Herald's public URL (`--public-url`, else the request's `X-Forwarded-Proto`/`X-Forwarded-Host`/`Host`); no destinations, no remote plugins, no metrics. See docs/browser.md.",
    params(("write_key" = String, Path, description = "The write key")),
    responses(
        (status = 200, description = "The settings document", body = Object),
        (status = 400, description = "`missing_host` or `invalid_header`: no usable Host and no --public-url", body = ErrorBody),
        (status = 401, description = "`unauthorized`: unknown or revoked write key", body = ErrorBody),
    ),
)]
pub async fn segment_settings(
    State(state): State<AppState>,
    Path(write_key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authenticate(&state, &write_key).await?;
    let url = public_url(&state, &headers)?;
    Ok(settings_response(json!({
        "integrations": {
            "Segment.io": {
                "apiKey": write_key,
                "apiHost": url.api_host(),
                "protocol": url.scheme,
            }
        },
        "analyticsNextEnabled": true,
        "plan": {},
        "edgeFunction": {},
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "remotePlugins": [],
        "legacyVideoPluginsEnabled": false,
        // Segment's own performance metrics would go to api.segment.io: none are sent.
        "metrics": {"sampleRate": 0},
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SourceConfigQuery {
    /// The write key, when it is not sent as HTTP Basic (the SDK sends both). Other
    /// parameters the SDK adds (`p`, `v`, `build`, `lockIntegrationsVersion`, ...) are ignored.
    #[serde(rename = "writeKey")]
    #[param(rename = "writeKey")]
    pub write_key: Option<String>,
}

/// RudderStack JS SDK v3 source configuration for a write key.
#[utoipa::path(
    get, path = "/sourceConfig/", tag = "browser",
    description = "What `@rudderstack/analytics-js` v3 fetches from its `configUrl` before sending anything (point `configUrl` at this Herald; `/sourceConfig` without the slash works too). The write key is HTTP Basic (as the SDK sends it) or the `writeKey` query parameter. The source is enabled, with no device-mode destinations and no error or metrics reporting; events go to the SDK's `dataPlaneUrl` (this Herald). See docs/browser.md.",
    params(SourceConfigQuery),
    responses(
        (status = 200, description = "The source configuration", body = Object),
        (status = 401, description = "`unauthorized`: no write key, or an unknown or revoked one", body = ErrorBody),
    ),
    security((), ("write_key" = []))
)]
pub async fn rudder_source_config(
    State(state): State<AppState>,
    Query(query): Query<SourceConfigQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let write_key = match auth::from_headers(&headers)? {
        Some(key) => key,
        None => query.write_key.filter(|k| !k.is_empty()).ok_or_else(|| {
            ApiError::Unauthorized(
                "a write key is required: HTTP Basic (key as user name) or the `writeKey` query parameter".into(),
            )
        })?,
    };
    authenticate(&state, &write_key).await?;
    // A stable id per write key that does not reveal it.
    let id = format!("herald-{}", &herald_storage::hash_secret(&write_key)[..16]);
    Ok(settings_response(json!({
        "isHosted": false,
        "source": {
            "id": id,
            "name": "Herald",
            "writeKey": write_key,
            "enabled": true,
            "workspaceId": "herald",
            "sourceDefinition": {"name": "Javascript", "category": null},
            "config": {
                "statsCollection": {
                    "errors": {"enabled": false},
                    "metrics": {"enabled": false},
                },
            },
            "destinations": [],
        },
    })))
}

/// The paths browsers call cross-origin: the tracking API (`/v1/...`, including the settings
/// document), RudderStack's beacon batches (`/beacon/...`) and source config.
pub fn is_public_path(path: &str) -> bool {
    path.starts_with("/v1/")
        || path == "/v1"
        || path.starts_with("/beacon/")
        || path == "/sourceConfig"
        || path.starts_with("/sourceConfig/")
}

/// Open CORS: any origin (mirrored, so that a request sent with credentials, such as
/// `sendBeacon`'s, can read the answer too), any method and header a preflight asks for, a
/// day-long preflight cache, and `Retry-After` readable by scripts (SDKs back off by it).
static CORS: LazyLock<CorsLayer> = LazyLock::new(|| {
    CorsLayer::very_permissive()
        .max_age(Duration::from_secs(86_400))
        .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
});

/// The CORS layer over every answer on a public path: handlers' answers and errors, the 404
/// and 405 fallbacks, and preflights (answered here, even for a path that does not exist, so
/// that the browser then sees the JSON 404 instead of a CORS failure). Other paths (the admin
/// API) get no CORS headers.
pub async fn public_cors(request: Request, next: Next) -> Response {
    if !is_public_path(request.uri().path()) {
        return next.run(request).await;
    }
    match CORS.clone().layer(next).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// `Access-Control-Allow-Origin` of an answer, for tests.
#[cfg(test)]
fn allow_origin(response: &Response) -> Option<&axum::http::HeaderValue> {
    response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_parse_and_refuse_what_is_not_a_base_url() {
        let url: PublicUrl = "https://cdp.example.com/".parse().unwrap();
        assert_eq!(url.to_string(), "https://cdp.example.com");
        assert_eq!(url.api_host(), "cdp.example.com/v1");
        assert!("http://[::1]:8080".parse::<PublicUrl>().is_ok());
        assert!("http://[::1]".parse::<PublicUrl>().is_ok());
        let url: PublicUrl = "http://127.0.0.1:8080/herald/".parse().unwrap();
        assert_eq!(url.scheme, "http");
        assert_eq!(url.api_host(), "127.0.0.1:8080/herald/v1");
        for bad in [
            "cdp.example.com",
            "ftp://x",
            "https://",
            "https://a b",
            "https://u@host",
            "https://host?x=1",
            "https://host:port",
            "https://host:",
            "https://host:99999",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn public_paths_are_the_tracking_ones() {
        for p in [
            "/v1/t",
            "/v1/batch",
            "/v1/projects/k/settings",
            "/v1/nowhere",
            "/beacon/v1/batch",
            "/sourceConfig",
            "/sourceConfig/",
        ] {
            assert!(is_public_path(p), "{p}");
        }
        for p in [
            "/api/v1/profiles",
            "/metrics",
            "/docs",
            "/v10",
            "/sourceConfigs",
        ] {
            assert!(!is_public_path(p), "{p}");
        }
    }

    #[tokio::test]
    async fn fallbacks_on_public_paths_carry_cors_and_others_do_not() {
        use axum::body::Body;
        let app: Router = crate::answer_every_request(
            Router::new().route("/v1/t", axum::routing::post(|| async { "ok" })),
        )
        .layer(axum::middleware::from_fn(public_cors));
        let call = |method: &str, uri: &str, preflight: bool| {
            let mut request = axum::http::Request::builder()
                .method(method)
                .uri(uri)
                .header(header::ORIGIN, "http://shop.example");
            if preflight {
                request = request.header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST");
            }
            app.clone().oneshot(request.body(Body::empty()).unwrap())
        };
        let origin = axum::http::HeaderValue::from_static("http://shop.example");
        let r = call("GET", "/v1/t", false).await.unwrap();
        assert_eq!(r.status(), 405);
        assert_eq!(allow_origin(&r), Some(&origin));
        let r = call("POST", "/v1/nowhere", false).await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(allow_origin(&r), Some(&origin));
        let r = call("OPTIONS", "/v1/t", true).await.unwrap();
        assert!(r.status().is_success());
        assert_eq!(allow_origin(&r), Some(&origin));
        let r = call("GET", "/api/v1/nowhere", false).await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(allow_origin(&r), None);
    }
}
