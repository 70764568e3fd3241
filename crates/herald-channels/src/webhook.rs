//! Webhooks: the rendered `body` POSTed to the configured endpoint, signed
//! (`Herald-Signature`, `herald_messaging::token::sign_webhook`), with the message id as
//! `Idempotency-Key`, behind the SSRF guard, redirects not followed.

use chrono::Utc;
use herald_messaging::token::{sign_webhook, Key, WEBHOOK_SIGNATURE_HEADER};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::ConfigError;
use crate::http::endpoint::{base_url, post};
use crate::http::{
    snippet, transient_status, AddressPolicy, ClientOptions, HttpClient, HttpResponse,
};
use crate::port::{Outbound, Provider, Receipt, SendError};
use crate::secret::Secret;

/// The webhook channel's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The endpoint, `https://…` (or `http://…`).
    pub url: String,
    /// The signing secret, shared with the receiver (at least 16 bytes).
    pub secret: Secret,
    /// The `Content-Type` of the rendered body (default `application/json`).
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// Networks that may be reached although they are private, loopback, link-local…
    /// (e.g. `["10.1.2.0/24"]`, or `["127.0.0.0/8"]` for a receiver on the same host).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_networks: Vec<IpNet>,
    /// For the whole request (default 10).
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn default_content_type() -> String {
    "application/json".to_owned()
}

fn default_timeout_seconds() -> u64 {
    10
}

pub struct WebhookProvider {
    client: HttpClient,
    url: String,
    key: Key,
    content_type: String,
}

impl std::fmt::Debug for WebhookProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookProvider")
            .field("url", &self.url)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl WebhookProvider {
    pub fn new(config: &WebhookConfig) -> Result<WebhookProvider, ConfigError> {
        let url = base_url("webhook", "url", &config.url)?;
        let key = Key::new(config.secret.expose().as_bytes())
            .map_err(|e| ConfigError::new("webhook", "secret", e.to_string()))?;
        http::HeaderValue::from_str(&config.content_type)
            .map_err(|_| ConfigError::new("webhook", "content_type", "not a header value"))?;
        let client = HttpClient::new(ClientOptions {
            timeout: std::time::Duration::from_secs(config.timeout_seconds.max(1)),
            guard: Some(AddressPolicy::new(config.allow_networks.clone())),
            http2_only: false,
        })
        .map_err(|e| ConfigError::new("webhook", "tls", e))?;
        Ok(WebhookProvider {
            client,
            url,
            key,
            content_type: config.content_type.clone(),
        })
    }

    /// The request body: the rendered `body` part as it is; a message without one sends a
    /// JSON envelope of its id, metadata and parts instead.
    pub fn body(message: &Outbound) -> Vec<u8> {
        match message.part("body") {
            Some(body) => body.as_bytes().to_vec(),
            None => json!({
                "message_id": message.message_id,
                "metadata": message.metadata,
                "parts": message.parts,
            })
            .to_string()
            .into_bytes(),
        }
    }
}

#[async_trait::async_trait]
impl Provider for WebhookProvider {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, message: &Outbound) -> Result<Receipt, SendError> {
        let body = Self::body(message);
        let content_type = if message.part("body").is_some() {
            self.content_type.as_str()
        } else {
            "application/json"
        };
        let signature = sign_webhook(&self.key, Utc::now(), &body);
        let id = message.message_id.to_string();
        let request = post(
            &self.url,
            &[
                ("content-type", content_type),
                ("user-agent", "Herald-Webhooks/1"),
                (WEBHOOK_SIGNATURE_HEADER, &signature),
                ("idempotency-key", &id),
            ],
            body,
        )?;
        let response = self.client.send(request).await?;
        answer(&response)
    }
}

/// 2xx delivered; 408 and 429 and 5xx transient; a redirect (not followed: its target would
/// escape the guard's decision) and other 4xx permanent.
fn answer(response: &HttpResponse) -> Result<Receipt, SendError> {
    let status = response.status.as_u16();
    match status {
        200..=299 => Ok(Receipt {
            provider: "webhook",
            provider_message_id: None,
        }),
        408 | 429 | 500..=599 => Err(transient_status(response, "the webhook endpoint")),
        300..=399 => Err(SendError::permanent(
            "webhook_redirected",
            format!(
                "the webhook endpoint answered {status} (to {:?}); redirects are not followed",
                response
                    .headers
                    .get(http::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or("")
            ),
        )),
        _ => Err(SendError::permanent(
            "webhook_rejected",
            format!(
                "the webhook endpoint answered {status}: {}",
                snippet(&response.body)
            ),
        )),
    }
}
