//! SMS through Twilio's Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
//! form-encoded `To`, `From` or `MessagingServiceSid`, `Body`, with HTTP Basic auth.
//!
//! Twilio's Messages API takes no idempotency key that we could find: a message retried after
//! a timeout may be sent twice. Its `sid` is returned as the provider message id, which
//! Twilio's status callbacks carry.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::http::endpoint::{api_client, base_url, post};
use crate::http::{snippet, transient_status, HttpClient, HttpResponse};
use crate::port::{Outbound, Provider, Receipt, SendError};
use crate::rate::RateLimiter;
use crate::secret::Secret;

/// `{"provider": "twilio", ...}` in the SMS channel's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// `AC…`: the account the messages are created in.
    pub account_sid: String,
    /// The account's auth token, or the secret of `api_key_sid`.
    pub auth_token: Secret,
    /// `SK…`: authenticate with this API key (and `auth_token` as its secret) instead of the
    /// account's own token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_sid: Option<String>,
    /// The sending number (E.164) or alphanumeric sender id; or else:
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// `MG…`: a Messaging Service that picks the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_service_sid: Option<String>,
    /// Where Twilio reports delivery: Herald's `https://<public host>/webhooks/twilio`
    /// (each message's `StatusCallback` is this with `herald_message_id=<id>` added; see
    /// crate::sms_status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_callback: Option<String>,
    /// The account's auth token, which Twilio signs status callbacks with, when `auth_token`
    /// is an API key's secret (`api_key_sid`); otherwise `auth_token` is it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_auth_token: Option<Secret>,
    /// Default `https://api.twilio.com`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn default_base_url() -> String {
    "https://api.twilio.com".to_owned()
}

fn default_timeout_seconds() -> u64 {
    30
}

pub struct TwilioProvider {
    client: HttpClient,
    url: String,
    authorization: Secret,
    config: TwilioConfig,
    limiter: Option<RateLimiter>,
}

impl std::fmt::Debug for TwilioProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioProvider")
            .field("url", &self.url)
            .field("auth_token", &self.config.auth_token)
            .finish_non_exhaustive()
    }
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl TwilioConfig {
    /// What checks the status callbacks, when they are configured.
    pub fn callbacks(&self) -> Option<crate::sms_status::TwilioCallbacks> {
        Some(crate::sms_status::TwilioCallbacks {
            base_url: self.status_callback.clone()?,
            token: self
                .webhook_auth_token
                .clone()
                .unwrap_or_else(|| self.auth_token.clone()),
        })
    }
}

impl TwilioProvider {
    pub fn new(config: &TwilioConfig) -> Result<TwilioProvider, ConfigError> {
        let invalid =
            |field: &'static str, message: String| ConfigError::new("twilio", field, message);
        if !is_sid(&config.account_sid, "AC") {
            return Err(invalid(
                "account_sid",
                "must be AC and 32 hex digits".into(),
            ));
        }
        if let Some(key) = &config.api_key_sid {
            if !is_sid(key, "SK") {
                return Err(invalid(
                    "api_key_sid",
                    "must be SK and 32 hex digits".into(),
                ));
            }
        }
        match (&config.from, &config.messaging_service_sid) {
            (Some(_), None) => {}
            (None, Some(sid)) if is_sid(sid, "MG") => {}
            (None, Some(_)) => {
                return Err(invalid(
                    "messaging_service_sid",
                    "must be MG and 32 hex digits".into(),
                ))
            }
            _ => {
                return Err(invalid(
                    "from",
                    "set exactly one of from and messaging_service_sid".into(),
                ))
            }
        }
        if config.auth_token.expose().is_empty() {
            return Err(invalid("auth_token", "is empty".into()));
        }
        if let Some(callback) = &config.status_callback {
            if !(callback.starts_with("https://") || callback.starts_with("http://")) {
                return Err(invalid(
                    "status_callback",
                    "must be an http(s) URL (Herald's /webhooks/twilio)".into(),
                ));
            }
            if config.api_key_sid.is_some() && config.webhook_auth_token.is_none() {
                return Err(invalid(
                    "webhook_auth_token",
                    "Twilio signs status callbacks with the account's auth token: set it when \
                     auth_token is an API key's secret"
                        .into(),
                ));
            }
        }
        let user = config.api_key_sid.as_deref().unwrap_or(&config.account_sid);
        let authorization = Secret::new(format!(
            "Basic {}",
            BASE64.encode(format!("{user}:{}", config.auth_token.expose()))
        ));
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            base_url("twilio", "base_url", &config.base_url)?,
            config.account_sid
        );
        Ok(TwilioProvider {
            client: api_client("twilio", config.timeout_seconds)?,
            url,
            authorization,
            limiter: RateLimiter::configured("twilio", config.rate_per_second, config.burst)?,
            config: config.clone(),
        })
    }

    /// The form `POST …/Messages.json` takes for `message`.
    pub fn form(&self, message: &Outbound) -> Result<Vec<(&'static str, String)>, SendError> {
        let body = message.require("body")?;
        let mut form = vec![("To", message.to.clone())];
        match (&self.config.from, &self.config.messaging_service_sid) {
            (Some(from), _) => form.push(("From", from.clone())),
            (None, Some(sid)) => form.push(("MessagingServiceSid", sid.clone())),
            (None, None) => {}
        }
        form.push(("Body", body.to_owned()));
        if let Some(callback) = &self.config.status_callback {
            form.push((
                "StatusCallback",
                crate::sms_status::callback_url(callback, message.message_id),
            ));
        }
        Ok(form)
    }
}

#[derive(Deserialize)]
struct Created {
    sid: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    code: Option<i64>,
    #[serde(default)]
    message: String,
}

#[async_trait::async_trait]
impl Provider for TwilioProvider {
    fn name(&self) -> &'static str {
        "twilio"
    }

    async fn send(&self, message: &Outbound) -> Result<Receipt, SendError> {
        let form = serde_urlencoded::to_string(self.form(message)?)
            .map_err(|e| SendError::permanent("invalid_request", e.to_string()))?;
        if let Some(limiter) = &self.limiter {
            limiter.acquire().await;
        }
        let request = post(
            &self.url,
            &[
                ("accept", "application/json"),
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", self.authorization.expose()),
            ],
            form,
        )?;
        let response = self.client.send(request).await?;
        answer(&response)
    }
}

fn answer(response: &HttpResponse) -> Result<Receipt, SendError> {
    let status = response.status.as_u16();
    if response.status.is_success() {
        let created: Option<Created> = serde_json::from_slice(&response.body).ok();
        return Ok(Receipt {
            provider: "twilio",
            provider_message_id: created.and_then(|c| c.sid),
        });
    }
    if status == 429 || status >= 500 {
        return Err(transient_status(response, "Twilio"));
    }
    match serde_json::from_slice::<ApiError>(&response.body) {
        Ok(ApiError {
            code: Some(code),
            message,
        }) => Err(api_error(code, &message)),
        _ if status == 401 => Err(SendError::permanent(
            "provider_auth_failed",
            format!(
                "Twilio refused the credentials: {}",
                snippet(&response.body)
            ),
        )),
        _ => Err(SendError::permanent(
            "provider_rejected",
            format!("Twilio answered {status}: {}", snippet(&response.body)),
        )),
    }
}

/// Twilio's error codes (its error dictionary) for what a message creation can meet.
fn api_error(code: i64, text: &str) -> SendError {
    let message = format!("Twilio error {code}: {text}");
    match code {
        // 'To' is not a valid phone number; not a mobile number.
        21211 | 21614 => SendError::suppressing("invalid_number", message),
        // The recipient replied STOP: Twilio refuses until they reply START.
        21610 => SendError::suppressing("unsubscribed_recipient", message),
        // Authentication failed.
        20003 => SendError::permanent("provider_auth_failed", message),
        // Too many requests.
        20429 => SendError::transient(message),
        // Body too long.
        21617 => SendError::permanent("message_too_long", message),
        // Cannot route to the number; region not enabled; 'From' not usable: the number may
        // be fine for another sender or later configuration.
        _ => SendError::permanent("provider_rejected", message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes() {
        for (code, expected, suppress) in [
            (21211, "invalid_number", true),
            (21614, "invalid_number", true),
            (21610, "unsubscribed_recipient", true),
            (20003, "provider_auth_failed", false),
            (21617, "message_too_long", false),
            (21408, "provider_rejected", false),
            (21612, "provider_rejected", false),
            (20429, "transient", false),
        ] {
            let e = api_error(code, "x");
            assert_eq!((e.code(), e.suppresses()), (expected, suppress), "{code}");
        }
    }

    #[test]
    fn sids() {
        assert!(is_sid("AC0123456789abcdef0123456789abcdef", "AC"));
        assert!(!is_sid("AC0123456789abcdef0123456789abcdeg", "AC"));
        assert!(!is_sid("SK0123456789abcdef0123456789abcdef", "AC"));
        assert!(!is_sid("AC0123", "AC"));
    }
}
