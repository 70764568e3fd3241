//! Email through Postmark's HTTP API (`POST /email`, `X-Postmark-Server-Token`).
//!
//! Postmark takes no idempotency key (its support pages say so): a message retried after a
//! timeout may be sent twice. What comes closest: every message carries Herald's message id
//! in a header (`X-Herald-Message-ID`) and in Postmark's `Metadata` (`herald_message_id`),
//! which Postmark's delivery, bounce and open webhooks return, so a duplicate is recognised
//! and attributed to the one message.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::content::{bodies, unsubscribe_headers};
use crate::config::ConfigError;
use crate::http::endpoint::{api_client, base_url, post};
use crate::http::{retry_after, snippet, transient_status, HttpClient, HttpResponse};
use crate::port::{Outbound, Provider, Receipt, SendError};
use crate::rate::RateLimiter;
use crate::secret::Secret;

/// `{"provider": "postmark", ...}` in the email channel's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostmarkConfig {
    /// The server's API token.
    pub server_token: Secret,
    /// A confirmed sender signature, `Name <address>` or `address`.
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Default `https://api.postmarkapp.com`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The message stream of transactional mail (default `outbound`).
    #[serde(default = "default_stream")]
    pub message_stream: String,
    /// The message stream of marketing mail (default `broadcast`).
    #[serde(default = "default_marketing_stream")]
    pub marketing_message_stream: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_unsubscribe_mailto: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// The HTTP Basic credentials in the webhook URL configured at Postmark
    /// (`https://<user>:<password>@<herald>/webhooks/postmark`); without both, Herald takes
    /// no Postmark webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_password: Option<Secret>,
}

impl PostmarkConfig {
    /// What Postmark's webhook requests must carry, when configured.
    pub fn webhook_credentials(&self) -> Option<crate::WebhookCredentials> {
        match (&self.webhook_username, &self.webhook_password) {
            (Some(username), Some(password))
                if !username.is_empty() && !password.expose().is_empty() =>
            {
                Some(crate::WebhookCredentials {
                    username: username.clone(),
                    password: password.clone(),
                })
            }
            _ => None,
        }
    }
}

fn default_base_url() -> String {
    "https://api.postmarkapp.com".to_owned()
}

fn default_stream() -> String {
    "outbound".to_owned()
}

fn default_marketing_stream() -> String {
    "broadcast".to_owned()
}

fn default_timeout_seconds() -> u64 {
    30
}

/// How many `Metadata` fields are sent: Herald's message id and the message's metadata.
const MAX_METADATA_FIELDS: usize = 10;

pub struct PostmarkProvider {
    client: HttpClient,
    url: String,
    config: PostmarkConfig,
    limiter: Option<RateLimiter>,
}

impl std::fmt::Debug for PostmarkProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostmarkProvider")
            .field("url", &self.url)
            .field("server_token", &self.config.server_token)
            .finish_non_exhaustive()
    }
}

impl PostmarkProvider {
    pub fn new(config: &PostmarkConfig) -> Result<PostmarkProvider, ConfigError> {
        let url = format!(
            "{}/email",
            base_url("postmark", "base_url", &config.base_url)?
        );
        if config.server_token.expose().trim().is_empty() {
            return Err(ConfigError::new("postmark", "server_token", "is empty"));
        }
        if !config.from.contains('@') {
            return Err(ConfigError::new(
                "postmark",
                "from",
                format!("{:?} is not an address", config.from),
            ));
        }
        Ok(PostmarkProvider {
            client: api_client("postmark", config.timeout_seconds)?,
            url,
            limiter: RateLimiter::configured("postmark", config.rate_per_second, config.burst)?,
            config: config.clone(),
        })
    }

    /// The JSON document `POST /email` takes for `message`.
    pub fn request_body(&self, message: &Outbound) -> Result<Value, SendError> {
        let subject = message.require("subject")?;
        let bodies = bodies(message)?;
        let mut headers =
            vec![json!({"Name": "X-Herald-Message-ID", "Value": message.message_id.to_string()})];
        for (name, value) in
            unsubscribe_headers(message, self.config.list_unsubscribe_mailto.as_deref())?
        {
            headers.push(json!({"Name": name, "Value": value}));
        }
        let stream = if message.marketing {
            &self.config.marketing_message_stream
        } else {
            &self.config.message_stream
        };
        let mut fields = Map::new();
        fields.insert("From".into(), json!(self.config.from));
        fields.insert("To".into(), json!(message.to));
        fields.insert("Subject".into(), json!(subject));
        fields.insert("MessageStream".into(), json!(stream));
        fields.insert("Headers".into(), Value::Array(headers));
        fields.insert("Metadata".into(), Value::Object(metadata(message)));
        if let Some(html) = bodies.html {
            fields.insert("HtmlBody".into(), Value::String(html));
        }
        if let Some(text) = bodies.text {
            fields.insert("TextBody".into(), Value::String(text));
        }
        if let Some(reply_to) = &self.config.reply_to {
            fields.insert("ReplyTo".into(), Value::String(reply_to.clone()));
        }
        let body = Value::Object(fields);
        Ok(body)
    }
}

/// Postmark's `Metadata` is a flat map of strings: Herald's message id, then the message
/// metadata's top-level strings, numbers and booleans (nested values are left out).
fn metadata(message: &Outbound) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "herald_message_id".into(),
        Value::String(message.message_id.to_string()),
    );
    if let Value::Object(fields) = &message.metadata {
        for (key, value) in fields {
            if out.len() >= MAX_METADATA_FIELDS {
                break;
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            out.entry(key.clone()).or_insert(Value::String(text));
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    #[serde(default)]
    error_code: i64,
    #[serde(default)]
    message: String,
    #[serde(rename = "MessageID", default)]
    message_id: Option<String>,
}

#[async_trait::async_trait]
impl Provider for PostmarkProvider {
    fn name(&self) -> &'static str {
        "postmark"
    }

    async fn send(&self, message: &Outbound) -> Result<Receipt, SendError> {
        let body = serde_json::to_vec(&self.request_body(message)?)
            .map_err(|e| SendError::permanent("invalid_request", e.to_string()))?;
        if let Some(limiter) = &self.limiter {
            limiter.acquire().await;
        }
        let request = post(
            &self.url,
            &[
                ("accept", "application/json"),
                ("content-type", "application/json"),
                ("x-postmark-server-token", self.config.server_token.expose()),
            ],
            body,
        )?;
        let response = self.client.send(request).await?;
        answer(&response)
    }
}

/// Postmark's answer: 200 with `ErrorCode` 0 is sent; 422 carries an API error code; 401 a
/// bad token; 429 the rate limit; 5xx an outage.
fn answer(response: &HttpResponse) -> Result<Receipt, SendError> {
    let parsed: Option<Answer> = serde_json::from_slice(&response.body).ok();
    let status = response.status.as_u16();
    match (status, parsed) {
        (200, Some(a)) if a.error_code == 0 => Ok(Receipt {
            provider: "postmark",
            provider_message_id: a.message_id,
        }),
        (429, _) | (500..=599, _) => Err(transient_status(response, "Postmark")),
        (401, _) => Err(SendError::permanent(
            "provider_auth_failed",
            format!(
                "Postmark refused the server token: {}",
                snippet(&response.body)
            ),
        )),
        (_, Some(a)) => Err(api_error(a.error_code, &a.message, response)),
        (_, None) => Err(SendError::permanent(
            "provider_rejected",
            format!("Postmark answered {status}: {}", snippet(&response.body)),
        )),
    }
}

/// Postmark's API error codes (its API overview lists them).
fn api_error(code: i64, text: &str, response: &HttpResponse) -> SendError {
    let message = format!("Postmark error {code}: {text}");
    match code {
        // An address that hard-bounced, complained or was suppressed on Postmark.
        406 => SendError::suppressing("inactive_recipient", message),
        300 => SendError::permanent("invalid_email_request", message),
        10 => SendError::permanent("provider_auth_failed", message),
        // Maintenance, and the rate limit reported in a 422.
        100 | 429 => SendError::Transient {
            message,
            retry_after: retry_after(&response.headers, Utc::now()),
        },
        _ => SendError::permanent("provider_rejected", message),
    }
}
