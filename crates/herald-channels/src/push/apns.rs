//! iOS push through Apple's APNs provider API over HTTP/2: `POST /3/device/{token}` with a
//! provider token (a JWT signed ES256 with the team's `.p8` key), renewed every 50 minutes
//! (Apple refuses tokens older than an hour and renewals more often than every 20 minutes).

use std::time::{Duration, Instant};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::jwt::{es256, Es256Key};
use crate::config::ConfigError;
use crate::http::endpoint::{base_url, post};
use crate::http::{snippet, transient_status, ClientOptions, HttpClient, HttpResponse};
use crate::port::{Outbound, Receipt, SendError};
use crate::secret::Secret;

const TOKEN_LIFETIME: Duration = Duration::from_secs(50 * 60);

/// The APNs configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApnsConfig {
    /// The `.p8` key's id (10 characters).
    pub key_id: String,
    /// The developer team id (10 characters).
    pub team_id: String,
    /// The `.p8` file's content (PKCS#8 PEM, P-256).
    pub private_key: Secret,
    /// The app's bundle id: the `apns-topic`.
    pub topic: String,
    /// Default `https://api.push.apple.com` (the sandbox is
    /// `https://api.sandbox.push.apple.com`).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn default_base_url() -> String {
    "https://api.push.apple.com".to_owned()
}

fn default_timeout_seconds() -> u64 {
    30
}

struct ProviderToken {
    value: String,
    renew_at: Instant,
}

pub struct ApnsProvider {
    client: HttpClient,
    base_url: String,
    key_id: String,
    team_id: String,
    topic: String,
    key: Es256Key,
    token: Mutex<Option<ProviderToken>>,
}

impl std::fmt::Debug for ApnsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsProvider")
            .field("base_url", &self.base_url)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

fn is_apple_id(s: &str) -> bool {
    s.len() == 10 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl ApnsProvider {
    pub fn new(config: &ApnsConfig) -> Result<ApnsProvider, ConfigError> {
        let invalid =
            |field: &'static str, message: String| ConfigError::new("apns", field, message);
        if !is_apple_id(&config.key_id) {
            return Err(invalid("key_id", "must be 10 letters or digits".into()));
        }
        if !is_apple_id(&config.team_id) {
            return Err(invalid("team_id", "must be 10 letters or digits".into()));
        }
        if config.topic.is_empty() || http::HeaderValue::from_str(&config.topic).is_err() {
            return Err(invalid("topic", "must be the app's bundle id".into()));
        }
        let key = Es256Key::from_pem(config.private_key.expose())
            .map_err(|e| invalid("private_key", e))?;
        let client = HttpClient::new(ClientOptions {
            timeout: Duration::from_secs(config.timeout_seconds.max(1)),
            guard: None,
            http2_only: true,
        })
        .map_err(|e| invalid("tls", e))?;
        Ok(ApnsProvider {
            client,
            base_url: base_url("apns", "base_url", &config.base_url)?,
            key_id: config.key_id.clone(),
            team_id: config.team_id.clone(),
            topic: config.topic.clone(),
            key,
            token: Mutex::new(None),
        })
    }

    /// The JSON payload: the alert, and Herald's message id beside `aps`.
    pub fn payload(message: &Outbound) -> Result<Value, SendError> {
        let title = message.require("title")?;
        let mut alert = json!({"title": title});
        if let Some(body) = message.part("body") {
            alert["body"] = Value::String(body.to_owned());
        }
        Ok(json!({"aps": {"alert": alert}, "herald_message_id": message.message_id.to_string()}))
    }

    async fn provider_token(&self) -> Result<String, SendError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let value = es256(
            &self.key,
            &self.key_id,
            &json!({"iss": self.team_id, "iat": Utc::now().timestamp()}),
        )
        .map_err(|e| SendError::permanent("provider_auth_failed", e))?;
        *cached = Some(ProviderToken {
            value: value.clone(),
            renew_at: Instant::now() + TOKEN_LIFETIME,
        });
        Ok(value)
    }

    pub(super) async fn send(&self, message: &Outbound) -> Result<Receipt, SendError> {
        let token = &message.to;
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SendError::suppressing(
                "unregistered_token",
                format!("{token:?} is not an APNs device token (hex digits)"),
            ));
        }
        let payload = serde_json::to_vec(&Self::payload(message)?)
            .map_err(|e| SendError::permanent("invalid_request", e.to_string()))?;
        let authorization = format!("bearer {}", self.provider_token().await?);
        let id = message.message_id.to_string();
        let request = post(
            &format!("{}/3/device/{token}", self.base_url),
            &[
                ("authorization", &authorization),
                ("apns-topic", &self.topic),
                ("apns-push-type", "alert"),
                ("apns-priority", "10"),
                ("apns-id", &id),
                ("content-type", "application/json"),
            ],
            payload,
        )?;
        let response = self.client.send(request).await?;
        if response.status.as_u16() == 403 {
            // An expired or refused provider token: make a new one for the next attempt.
            *self.token.lock().await = None;
        }
        answer(&response)
    }
}

fn answer(response: &HttpResponse) -> Result<Receipt, SendError> {
    if response.status.is_success() {
        return Ok(Receipt {
            provider: "apns",
            provider_message_id: response
                .headers
                .get("apns-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        });
    }
    let reason = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|d| d["reason"].as_str().map(str::to_owned))
        .unwrap_or_else(|| snippet(&response.body));
    let message = format!("APNs answered {}: {reason}", response.status);
    match (response.status.as_u16(), reason.as_str()) {
        // The app is gone from the device, or the token was never valid for this app.
        (410, _) | (_, "Unregistered" | "BadDeviceToken" | "DeviceTokenNotForTopic") => {
            Err(SendError::suppressing("unregistered_token", message))
        }
        (403, "ExpiredProviderToken") | (429, _) | (500..=599, _) => {
            Err(transient_status(response, "APNs"))
        }
        (403, _) => Err(SendError::permanent("provider_auth_failed", message)),
        (413, _) => Err(SendError::permanent("message_too_long", message)),
        _ => Err(SendError::permanent("provider_rejected", message)),
    }
}
