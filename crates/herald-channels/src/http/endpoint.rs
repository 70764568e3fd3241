//! What the HTTP providers share besides the client: a checked base URL, a client with the
//! configured timeout, a request.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::Full;

use super::{ClientOptions, HttpClient};
use crate::config::ConfigError;

/// An `http(s)://host[:port][/path]` URL without query or fragment, checked at start.
pub fn base_url(
    provider: &'static str,
    field: &'static str,
    url: &str,
) -> Result<String, ConfigError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| ConfigError::new(provider, field, format!("{url:?} is not a URL: {e}")))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none() || uri.query().is_some() {
        return Err(ConfigError::new(
            provider,
            field,
            format!("{url:?} must be an http(s) URL with a host and no query"),
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The client for a provider's API: no SSRF guard (the API's address is the operator's
/// choice, and the tests' stand-ins are on loopback).
pub fn api_client(provider: &'static str, timeout_seconds: u64) -> Result<HttpClient, ConfigError> {
    HttpClient::new(ClientOptions {
        timeout: Duration::from_secs(timeout_seconds.max(1)),
        guard: None,
        http2_only: false,
    })
    .map_err(|e| ConfigError::new(provider, "tls", e))
}

/// A POST with these headers and body.
pub fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Result<Request<Full<Bytes>>, crate::port::SendError> {
    let mut builder = Request::post(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Full::new(body.into())).map_err(|e| {
        crate::port::SendError::permanent("invalid_request", format!("building the request: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("p", "base_url", "https://api.example.com/").unwrap(),
            "https://api.example.com"
        );
        assert_eq!(
            base_url("p", "base_url", "http://127.0.0.1:8025/v1").unwrap(),
            "http://127.0.0.1:8025/v1"
        );
        for bad in [
            "",
            "api.example.com",
            "ftp://x.example.com",
            "https://x.example.com/?a=1",
            "not a url",
        ] {
            let err = base_url("p", "base_url", bad).unwrap_err();
            assert_eq!(err.field, "base_url", "{bad:?}");
        }
    }
}
