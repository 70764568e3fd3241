//! Herald's channel providers: what delivers a rendered message to a person, behind one
//! port the send pipeline codes against ([`Provider`]: one attempt, answered with a
//! [`Receipt`] or a [`SendError`] that says whether to retry and whether to suppress the
//! address).
//!
//! - [`email::smtp`]: SMTP (lettre) with a connection pool, STARTTLS or TLS, AUTH, a
//!   send-rate limit, `multipart/alternative` with a generated plain-text part, a
//!   `Message-ID` from the message id, RFC 8058 one-click unsubscribe headers, DKIM
//!   ([`email::dkim`], RSA or Ed25519).
//! - [`email::postmark`]: Postmark's HTTP API.
//! - [`sms`]: Twilio's Messages API.
//! - [`push`]: FCM HTTP v1 (an OAuth2 token from a service-account JWT) and APNs (HTTP/2,
//!   an ES256 provider token).
//! - [`webhook`]: signed webhooks (`Herald-Signature`) behind the SSRF guard
//!   ([`http::guard`]).
//! - [`registry::Providers`]: channel → provider, built from [`registry::ChannelsConfig`].
//! - [`Secret`]: credentials, never printed.
//!
//! # Invariants
//!
//! - **One attempt per call.** A provider never retries on its own; retries, backoff and the
//!   message log are the pipeline's. Every attempt of a message carries the same id (the
//!   `Message-ID`, the webhook's `Idempotency-Key`, Postmark's metadata), so duplicates can
//!   be recognised downstream.
//! - **Errors say what to do**: `Transient` (retry, maybe after `retry_after`) or `Permanent`
//!   with a stable `code` and `suppress` when the address itself is dead. A message that
//!   cannot be built (no subject, a marketing email without an unsubscribe URL) is refused
//!   before anything is sent.
//! - **Credentials are never printed**: `Debug`, `Display` and `Serialize` of every
//!   configuration show [`Secret`]s masked.
//! - **Webhooks reach only public addresses** unless a network is allowed, checked on the
//!   address actually connected to (no DNS rebinding), redirects never followed.
//! - **No network but the configured endpoints**: base URLs are configuration, so tests run
//!   against local stand-ins that speak each provider's documented protocol.
//!
//! docs/channels.md describes the configuration, what is sent and how errors map.

pub mod config;
pub mod email;
pub mod http;
pub mod port;
pub mod push;
pub mod rate;
pub mod registry;
pub mod secret;
pub mod sms;
pub mod sms_status;
pub mod webhook;

pub use config::ConfigError;
pub use port::{Outbound, Provider, ProviderReport, Receipt, SendError, WebhookCredentials};
pub use registry::{ChannelsConfig, EmailProviderConfig, Providers, SmsProviderConfig};
pub use secret::Secret;
