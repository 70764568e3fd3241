//! Email over SMTP (lettre; the pool in `smtp_pool.rs`): STARTTLS, implicit TLS or plain, AUTH,
//! a send-rate limit, `multipart/alternative` with a plain-text part, a `Message-ID` made
//! from the message id, RFC 8058 headers on marketing mail, DKIM.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::TlsParameters;
use lettre::transport::smtp::extension::ClientId;
use lettre::Message;
use serde::{Deserialize, Serialize};

use super::content::{bodies, unsubscribe_headers};
use super::dkim::{DkimSettings, DkimSigner};
use super::smtp_pool::{Pool, Target};
use super::smtp_reply::classify;
use crate::config::ConfigError;
use crate::port::{Outbound, Provider, Receipt, SendError};
use crate::rate::RateLimiter;
use crate::secret::Secret;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain, then `STARTTLS`, which is required (port 587 by default).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465 by default).
    Tls,
    /// No encryption at all (port 25 by default): for a relay on the same host or network.
    None,
}

/// `{"provider": "smtp", ...}` in the email channel's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 587, 465 or 25 by `security`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// With `password`: AUTH (PLAIN or LOGIN, as the server offers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// The sender, `Name <address>` or `address`.
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The right-hand side of `Message-ID`s (default: the sender's domain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id_domain: Option<String>,
    /// The name given in `EHLO` (default: this host's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hello_name: Option<String>,
    /// An address that unsubscribes whoever writes to it: added to `List-Unsubscribe` as
    /// `mailto:` (the subject names the message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_unsubscribe_mailto: Option<String>,
    /// At most this many messages a second (default: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Connections kept open (default 4).
    #[serde(default = "default_pool_size")]
    pub pool_size: u32,
    /// For each SMTP command (default 30).
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim: Option<DkimSettings>,
}

fn default_pool_size() -> u32 {
    4
}

fn default_timeout_seconds() -> u64 {
    30
}

/// The SMTP provider. Built once; its pool is shared by every send.
pub struct SmtpProvider {
    pool: Pool,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    message_id_domain: String,
    mailto: Option<String>,
    limiter: Option<RateLimiter>,
    dkim: Option<DkimSigner>,
}

impl std::fmt::Debug for SmtpProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpProvider")
            .field("from", &self.from.to_string())
            .field("message_id_domain", &self.message_id_domain)
            .finish_non_exhaustive()
    }
}

impl SmtpProvider {
    pub fn new(config: &SmtpConfig) -> Result<SmtpProvider, ConfigError> {
        let invalid =
            |field: &'static str, message: String| ConfigError::new("smtp", field, message);
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| invalid("from", format!("{:?}: {e}", config.from)))?;
        let reply_to = match &config.reply_to {
            Some(r) => Some(
                r.parse()
                    .map_err(|e| invalid("reply_to", format!("{r:?}: {e}")))?,
            ),
            None => None,
        };
        let message_id_domain = config
            .message_id_domain
            .clone()
            .unwrap_or_else(|| from.email.domain().to_owned());
        if let Some(address) = &config.list_unsubscribe_mailto {
            address
                .parse::<lettre::Address>()
                .map_err(|e| invalid("list_unsubscribe_mailto", format!("{address:?}: {e}")))?;
        }
        let limiter = RateLimiter::configured("smtp", config.rate_per_second, config.burst)?;
        if config.pool_size == 0 {
            return Err(invalid("pool_size", "must be at least 1".into()));
        }
        let dkim = config.dkim.as_ref().map(DkimSigner::new).transpose()?;

        let port = config.port.unwrap_or(match config.security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        });
        let tls = match config.security {
            SmtpSecurity::None => None,
            _ => Some(
                TlsParameters::new_rustls(config.host.clone())
                    .map_err(|e| invalid("host", format!("TLS setup: {e}")))?,
            ),
        };
        let credentials = match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                Some(Credentials::new(user.clone(), password.expose().to_owned()))
            }
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "username",
                    "username and password go together".into(),
                ))
            }
        };
        let target = Target {
            host: config.host.clone(),
            port,
            security: config.security,
            tls,
            hello: config
                .hello_name
                .clone()
                .map_or_else(ClientId::default, ClientId::Domain),
            credentials,
            timeout: Duration::from_secs(config.timeout_seconds.max(1)),
        };
        Ok(SmtpProvider {
            pool: Pool::new(target, config.pool_size),
            from,
            reply_to,
            message_id_domain,
            mailto: config.list_unsubscribe_mailto.clone(),
            limiter,
            dkim,
        })
    }

    /// The `Message-ID` of a message: `<message id@domain>`, the same on every attempt.
    pub fn message_id_header(&self, message: &Outbound) -> String {
        format!("<{}@{}>", message.message_id, self.message_id_domain)
    }

    /// The message as it goes on the wire (signed when DKIM is configured).
    pub fn build(&self, message: &Outbound) -> Result<Message, SendError> {
        let to: Mailbox = message.to.parse().map_err(|e| {
            SendError::suppressing("invalid_address", format!("{:?}: {e}", message.to))
        })?;
        let subject = message.require("subject")?;
        let bodies = bodies(message)?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(self.message_id_header(message)));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        for (name, value) in unsubscribe_headers(message, self.mailto.as_deref())? {
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(name),
                value,
            ));
        }
        let built = match (bodies.html, bodies.text) {
            (Some(html), Some(text)) => {
                builder.multipart(MultiPart::alternative_plain_html(text, html))
            }
            (Some(html), None) => builder.singlepart(SinglePart::html(html)),
            (None, Some(text)) => builder.singlepart(SinglePart::plain(text)),
            (None, None) => return Err(message.require("body").unwrap_err()),
        };
        let mut email =
            built.map_err(|e| SendError::permanent("invalid_message", e.to_string()))?;
        if let Some(dkim) = &self.dkim {
            dkim.sign(&mut email);
        }
        Ok(email)
    }
}

#[async_trait::async_trait]
impl Provider for SmtpProvider {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, message: &Outbound) -> Result<Receipt, SendError> {
        let email = self.build(message)?;
        if let Some(limiter) = &self.limiter {
            limiter.acquire().await;
        }
        self.pool.send(email.envelope(), &email.formatted()).await?;
        Ok(Receipt {
            provider: "smtp",
            provider_message_id: Some(self.message_id_header(message)),
        })
    }
}

/// A lettre error as a send error: the server's reply by its codes, anything else (no
/// connection, a timeout, TLS) transient.
pub(super) fn classify_error(e: &lettre::transport::smtp::Error) -> SendError {
    let text = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    match e.status() {
        Some(code) => classify(u16::from(code), &text),
        None => SendError::transient(format!("SMTP: {e}")),
    }
}
