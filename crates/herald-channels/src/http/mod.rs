//! The HTTP client the HTTP providers share: hyper over rustls (ring) with the system's
//! root certificates, one request at a time with a deadline, no redirects followed, no
//! proxy, a bounded response body; optionally behind the SSRF guard ([`AddressPolicy`]),
//! which is checked on the addresses the connection is actually made to.

pub mod endpoint;
pub mod guard;

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub use guard::AddressPolicy;

use crate::port::SendError;

/// The most of a response body that is read (providers answer with small JSON documents).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the destination address {ip} is refused: {reason}")]
    Forbidden { ip: IpAddr, reason: &'static str },
    #[error("{0}")]
    Failed(String),
}

impl From<HttpError> for SendError {
    /// A refused address is permanent (the configuration must change); no answer is
    /// transient. A timeout may come after the provider took the request: the retry is what
    /// the idempotency key is for.
    fn from(e: HttpError) -> SendError {
        match e {
            HttpError::Forbidden { .. } => {
                SendError::permanent("destination_forbidden", e.to_string())
            }
            HttpError::Timeout(_) | HttpError::Failed(_) => SendError::transient(e.to_string()),
        }
    }
}

/// How a client is set up.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// For the whole exchange: connecting, sending, reading the answer.
    pub timeout: Duration,
    /// `Some`: only addresses this policy accepts are connected to.
    pub guard: Option<AddressPolicy>,
    /// Speak HTTP/2 only, also over plain `http://` (APNs; its test stand-in).
    pub http2_only: bool,
}

/// A pooled client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector<Resolver>>, Full<Bytes>>,
    timeout: Duration,
    guard: Option<Arc<AddressPolicy>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .field("guard", &self.guard)
            .finish()
    }
}

impl HttpClient {
    pub fn new(options: ClientOptions) -> Result<HttpClient, String> {
        let guard = options.guard.map(Arc::new);
        let mut http = HttpConnector::new_with_resolver(Resolver {
            guard: guard.clone(),
        });
        http.enforce_http(false);
        http.set_connect_timeout(Some(options.timeout));
        let tls = tls_config()?;
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let https = if options.http2_only {
            builder.enable_http2().wrap_connector(http)
        } else {
            builder.enable_http1().enable_http2().wrap_connector(http)
        };
        let client = Client::builder(TokioExecutor::new())
            .http2_only(options.http2_only)
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        Ok(HttpClient {
            client,
            timeout: options.timeout,
            guard,
        })
    }

    /// Sends one request and reads its answer, within the timeout.
    pub async fn send(&self, request: Request<Full<Bytes>>) -> Result<HttpResponse, HttpError> {
        // An address literal in the URL is connected to without the resolver: check it here.
        if let (Some(guard), Some(host)) = (&self.guard, request.uri().host()) {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = host.parse::<IpAddr>() {
                guard
                    .check(ip)
                    .map_err(|reason| HttpError::Forbidden { ip, reason })?;
            }
        }
        let exchange = async {
            let response = self.client.request(request).await.map_err(connect_error)?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| HttpError::Failed(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok(HttpResponse {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| HttpError::Timeout(self.timeout))?
    }
}

/// rustls with ring and the system's roots. A missing or unreadable root store is an error
/// only when no root at all could be loaded.
fn tls_config() -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A certificate the store cannot use is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Finds a refused address in a connection error's chain.
fn connect_error(e: hyper_util::client::legacy::Error) -> HttpError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if let Some(forbidden) = err
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<Forbidden>())
        {
            return HttpError::Forbidden {
                ip: forbidden.ip,
                reason: forbidden.reason,
            };
        }
        source = err.source();
    }
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(err) = source {
        message.push_str(": ");
        message.push_str(&err.to_string());
        source = err.source();
    }
    HttpError::Failed(message)
}

#[derive(Debug, thiserror::Error)]
#[error("{ip} is refused: {reason}")]
struct Forbidden {
    ip: IpAddr,
    reason: &'static str,
}

/// Resolves names with the system resolver and, behind a guard, refuses a name any of whose
/// addresses is refused (a name that mixes public and private addresses is not a webhook
/// endpoint anyone means). The connector connects only to the addresses returned here.
#[derive(Clone)]
struct Resolver {
    guard: Option<Arc<AddressPolicy>>,
}

type Resolving = Pin<Box<dyn Future<Output = io::Result<std::vec::IntoIter<SocketAddr>>> + Send>>;

impl tower_service::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let guard = self.guard.clone();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if let Some(guard) = guard {
                for addr in &addrs {
                    guard.check(addr.ip()).map_err(|reason| {
                        io::Error::new(
                            io::ErrorKind::PermissionDenied,
                            Forbidden {
                                ip: addr.ip(),
                                reason,
                            },
                        )
                    })?;
                }
            }
            Ok(addrs.into_iter())
        })
    }
}

/// The `Retry-After` header as a duration: delay-seconds, or an HTTP date after `now`.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The start of a response body, for error messages.
pub fn snippet(body: &[u8]) -> String {
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].trim().to_owned()
}

/// A transient error for a status, with the answer's `Retry-After`.
pub fn transient_status(response: &HttpResponse, what: &str) -> SendError {
    SendError::Transient {
        message: format!(
            "{what} answered {}: {}",
            response.status,
            snippet(&response.body)
        ),
        retry_after: retry_after(&response.headers, Utc::now()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert("retry-after", HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:30:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:00:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn snippets_are_short_and_whole_characters() {
        let long = "é".repeat(400);
        let s = snippet(long.as_bytes());
        assert!(s.len() <= 300 && s.chars().all(|c| c == 'é'));
        assert_eq!(snippet(b"  {\"x\":1}\n"), "{\"x\":1}");
    }
}
