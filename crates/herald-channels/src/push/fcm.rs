//! Android and web push through Firebase Cloud Messaging's HTTP v1 API:
//! `POST /v1/projects/{project}/messages:send` with an OAuth2 access token, which is obtained
//! from a service account's key (a JWT signed RS256, exchanged at the token endpoint, RFC
//! 7523) and reused until shortly before it expires.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::jwt::{rs256, Rs256Key};
use crate::config::ConfigError;
use crate::http::endpoint::{api_client, base_url, post};
use crate::http::{snippet, transient_status, HttpClient, HttpResponse};
use crate::port::{Outbound, Receipt, SendError};
use crate::secret::Secret;

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// A token is renewed this long before Google says it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// The FCM configuration: the service account's JSON key file, as Google gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcmConfig {
    /// The whole key file (`{"type": "service_account", "project_id", "private_key",
    /// "client_email", "token_uri", …}`), a secret.
    pub service_account_json: Secret,
    /// Default: the service account's `project_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// Default `https://fcm.googleapis.com`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Default: the service account's `token_uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn default_base_url() -> String {
    "https://fcm.googleapis.com".to_owned()
}

fn default_timeout_seconds() -> u64 {
    30
}

#[derive(Deserialize)]
struct ServiceAccount {
    project_id: Option<String>,
    private_key_id: Option<String>,
    private_key: String,
    client_email: String,
    token_uri: Option<String>,
}

struct AccessToken {
    value: Secret,
    renew_at: Instant,
}

pub struct FcmProvider {
    client: HttpClient,
    send_url: String,
    token_url: String,
    client_email: String,
    key_id: Option<String>,
    key: Rs256Key,
    token: Mutex<Option<AccessToken>>,
}

impl std::fmt::Debug for FcmProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmProvider")
            .field("send_url", &self.send_url)
            .field("client_email", &self.client_email)
            .finish_non_exhaustive()
    }
}

impl FcmProvider {
    pub fn new(config: &FcmConfig) -> Result<FcmProvider, ConfigError> {
        let invalid =
            |field: &'static str, message: String| ConfigError::new("fcm", field, message);
        let account: ServiceAccount = serde_json::from_str(config.service_account_json.expose())
            .map_err(|e| {
                invalid(
                    "service_account_json",
                    format!("not a service-account key file: {e}"),
                )
            })?;
        let key = Rs256Key::from_pem(&account.private_key)
            .map_err(|e| invalid("service_account_json", e))?;
        let project = config
            .project_id
            .clone()
            .or(account.project_id)
            .ok_or_else(|| invalid("project_id", "not in the key file nor configured".into()))?;
        if project.is_empty()
            || !project
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':' || b == b'.')
        {
            return Err(invalid(
                "project_id",
                format!("{project:?} is not a project id"),
            ));
        }
        let token_url = config
            .token_url
            .clone()
            .or(account.token_uri)
            .unwrap_or_else(|| "https://oauth2.googleapis.com/token".to_owned());
        base_url("fcm", "token_url", &token_url)?;
        Ok(FcmProvider {
            client: api_client("fcm", config.timeout_seconds)?,
            send_url: format!(
                "{}/v1/projects/{project}/messages:send",
                base_url("fcm", "base_url", &config.base_url)?
            ),
            token_url,
            client_email: account.client_email,
            key_id: account.private_key_id,
            key,
            token: Mutex::new(None),
        })
    }

    /// The JSON document `messages:send` takes.
    pub fn request_body(message: &Outbound) -> Result<Value, SendError> {
        let title = message.require("title")?;
        let mut notification = json!({"title": title});
        if let Some(body) = message.part("body") {
            notification["body"] = Value::String(body.to_owned());
        }
        Ok(json!({
            "message": {
                "token": message.to,
                "notification": notification,
                "data": {"herald_message_id": message.message_id.to_string()},
            }
        }))
    }

    /// A valid access token: the cached one, or a new one from the token endpoint.
    async fn access_token(&self) -> Result<Secret, SendError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let now = Utc::now().timestamp();
        let assertion = rs256(
            &self.key,
            self.key_id.as_deref(),
            &json!({"iss": self.client_email, "scope": SCOPE, "aud": self.token_url,
                    "iat": now, "exp": now + 3600}),
        )
        .map_err(|e| SendError::permanent("provider_auth_failed", e))?;
        let form = serde_urlencoded::to_string([
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ])
        .map_err(|e| SendError::permanent("invalid_request", e.to_string()))?;
        let request = post(
            &self.token_url,
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("accept", "application/json"),
            ],
            form,
        )?;
        let response = self.client.send(request).await?;
        #[derive(Deserialize)]
        struct Granted {
            access_token: String,
            expires_in: Option<u64>,
        }
        match response.status.as_u16() {
            200 => {}
            429 | 500..=599 => {
                return Err(transient_status(&response, "the OAuth2 token endpoint"))
            }
            status => {
                return Err(SendError::permanent(
                    "provider_auth_failed",
                    format!(
                        "the OAuth2 token endpoint answered {status}: {}",
                        snippet(&response.body)
                    ),
                ))
            }
        }
        let granted: Granted = serde_json::from_slice(&response.body).map_err(|e| {
            SendError::transient(format!("the OAuth2 token endpoint's answer: {e}"))
        })?;
        let lifetime = Duration::from_secs(granted.expires_in.unwrap_or(3600));
        let token = AccessToken {
            value: Secret::new(granted.access_token),
            renew_at: Instant::now() + lifetime.saturating_sub(RENEW_BEFORE),
        };
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    pub(super) async fn send(&self, message: &Outbound) -> Result<Receipt, SendError> {
        let body = serde_json::to_vec(&Self::request_body(message)?)
            .map_err(|e| SendError::permanent("invalid_request", e.to_string()))?;
        let token = self.access_token().await?;
        let authorization = format!("Bearer {}", token.expose());
        let request = post(
            &self.send_url,
            &[
                ("content-type", "application/json"),
                ("authorization", &authorization),
            ],
            body,
        )?;
        let response = self.client.send(request).await?;
        if response.status.as_u16() == 401 {
            // The access token was refused (revoked, or the clock is off): get a new one
            // for the next attempt.
            *self.token.lock().await = None;
        }
        answer(&response)
    }
}

fn answer(response: &HttpResponse) -> Result<Receipt, SendError> {
    let doc: Option<Value> = serde_json::from_slice(&response.body).ok();
    if response.status.is_success() {
        return Ok(Receipt {
            provider: "fcm",
            provider_message_id: doc.and_then(|d| d["name"].as_str().map(str::to_owned)),
        });
    }
    // FCM's error code is in `error.details[].errorCode`, else its gRPC status.
    let error = doc.as_ref().map(|d| &d["error"]);
    let fcm_code = error
        .and_then(|e| e["details"].as_array())
        .into_iter()
        .flatten()
        .find_map(|d| d["errorCode"].as_str())
        .or_else(|| error.and_then(|e| e["status"].as_str()))
        .unwrap_or("")
        .to_owned();
    let message = format!(
        "FCM answered {}: {}",
        response.status,
        error
            .and_then(|e| e["message"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| snippet(&response.body))
    );
    match (response.status.as_u16(), fcm_code.as_str()) {
        // The app was uninstalled or the token expired; or the token belongs to another
        // sender: it will never work here.
        (_, "UNREGISTERED" | "SENDER_ID_MISMATCH") => {
            Err(SendError::suppressing("unregistered_token", message))
        }
        (_, "QUOTA_EXCEEDED" | "UNAVAILABLE" | "INTERNAL") | (429 | 500..=599, _) => {
            Err(transient_status(response, "FCM"))
        }
        // The APNs or web push credentials FCM relays with were refused.
        (_, "THIRD_PARTY_AUTH_ERROR") | (403, _) => {
            Err(SendError::permanent("provider_auth_failed", message))
        }
        // Our access token was refused; the next attempt gets a new one.
        (401, _) => Err(SendError::transient(message)),
        _ => Err(SendError::permanent("provider_rejected", message)),
    }
}
