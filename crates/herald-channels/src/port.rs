//! The port the send pipeline codes against: what to deliver ([`Outbound`]), what a provider
//! answers ([`Receipt`] or [`SendError`]), and the [`Provider`] trait.

use std::collections::BTreeMap;
use std::time::Duration;

use herald_messaging::message::{DeliveryEvent, MessageId};
use herald_messaging::preferences::SuppressionReason;
use herald_messaging::Channel;

/// One message to deliver: already rendered and addressed, with its idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    /// Stable per message: the idempotency key a provider is given where it takes one, the
    /// `Message-ID` of an email, the `Idempotency-Key` of a webhook.
    pub message_id: MessageId,
    pub channel: Channel,
    /// The address: an email address, an E.164 phone number, a push token; unused by
    /// webhooks (the destination is the configured endpoint).
    pub to: String,
    /// The rendered parts by name: `subject`, `preheader`, `body` (HTML for email), `text`,
    /// `title` (docs/templates.md lists each channel's).
    pub parts: BTreeMap<String, String>,
    /// A marketing email carries RFC 8058 `List-Unsubscribe` headers.
    pub marketing: bool,
    /// The https one-click unsubscribe URL (the receiver POSTs to it), given by the caller.
    pub unsubscribe_url: Option<String>,
    /// What the caller wants to travel with the message (profile id, template id and
    /// version, …): Postmark's `Metadata`, a webhook envelope's `metadata`.
    pub metadata: serde_json::Value,
}

impl Outbound {
    /// A part, if present and not empty.
    pub fn part(&self, name: &str) -> Option<&str> {
        self.parts
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// A required part, or the permanent error `missing_part`.
    pub fn require(&self, name: &'static str) -> Result<&str, SendError> {
        self.part(name).ok_or_else(|| SendError::Permanent {
            code: "missing_part",
            message: format!("the message has no {name:?} part"),
            suppress: false,
        })
    }
}

/// A provider took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The provider's name (`smtp`, `postmark`, `twilio`, `webhook`, …).
    pub provider: &'static str,
    /// The provider's id for the message, which its delivery reports (webhooks, DSNs) carry.
    pub provider_message_id: Option<String>,
}

/// Why a message was not delivered, and what the pipeline should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Try again later (after `retry_after`, when the provider said so): the provider or the
    /// network is unavailable, overloaded or rate-limiting.
    #[error("transient: {message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Do not try again. `suppress`: the address itself is dead (a hard bounce, an invalid
    /// number, an unsubscribed recipient, an unregistered token), so the pipeline suppresses
    /// it for the channel.
    #[error("permanent ({code}): {message}")]
    Permanent {
        code: &'static str,
        message: String,
        suppress: bool,
    },
}

impl SendError {
    /// A stable snake_case code: `transient`, or the permanent error's own.
    pub fn code(&self) -> &'static str {
        match self {
            SendError::Transient { .. } => "transient",
            SendError::Permanent { code, .. } => code,
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient { .. })
    }

    /// Whether the address should be suppressed.
    pub fn suppresses(&self) -> bool {
        matches!(self, SendError::Permanent { suppress: true, .. })
    }

    pub(crate) fn transient(message: impl Into<String>) -> SendError {
        SendError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn permanent(code: &'static str, message: impl Into<String>) -> SendError {
        SendError::Permanent {
            code,
            message: message.into(),
            suppress: false,
        }
    }

    pub(crate) fn suppressing(code: &'static str, message: impl Into<String>) -> SendError {
        SendError::Permanent {
            code,
            message: message.into(),
            suppress: true,
        }
    }
}

/// A way to deliver messages of a channel. `send` is one attempt: retries, backoff and the
/// message log are the pipeline's. An implementation must not retry on its own in a way that
/// could deliver twice.
///
/// Object-safe through `async_trait` (a boxed future per send), so that [`crate::Providers`]
/// can hold any provider per channel.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;
    async fn send(&self, message: &Outbound) -> Result<Receipt, SendError>;
}

/// What a provider reports about a message after it took it (a webhook, read by the
/// provider's adapter): the message, the event, and whether the address must be suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderReport {
    pub message_id: MessageId,
    /// The address the report is about, when the provider says.
    pub address: Option<String>,
    pub event: DeliveryEvent,
    /// A hard bounce or a complaint: nothing more goes to the address on the channel.
    pub suppress: Option<SuppressionReason>,
}

/// HTTP Basic credentials a provider's webhook requests must carry (Postmark's way of
/// securing its webhooks: they are in the webhook URL configured at Postmark).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookCredentials {
    pub username: String,
    pub password: crate::Secret,
}

impl WebhookCredentials {
    /// Whether a request's credentials are these, compared in constant time.
    pub fn check(&self, username: &str, password: &str) -> bool {
        let same = |a: &[u8], b: &[u8]| {
            a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
        };
        // Both compared whatever the first gives, so the time says nothing about which failed.
        let user = same(username.as_bytes(), self.username.as_bytes());
        let pass = same(password.as_bytes(), self.password.expose().as_bytes());
        user & pass
    }
}
