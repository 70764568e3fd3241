//! `--channels FILE`: the providers the send pipeline hands messages to, and the governor's
//! policy (docs/messages.md). A TOML file:
//!
//! ```toml
//! [email]               # one table per channel: email, sms, push, webhook
//! provider = "smtp"     # and that provider's settings (docs/channels.md)
//! host = "smtp.example.com"
//! from = "Example <news@example.com>"
//!
//! [policy]              # the send governor's policy (docs/messaging.md)
//! caps = [{ category = "marketing", max = 2, window = "1d" }]
//!
//! [addresses]
//! default_calling_code = "+49"
//!
//! [tracking]            # opens and clicks in HTML emails, both on by default
//! opens = false
//! ```
//!
//! Without the file no channel is configured: messages fail with `channel_not_configured`.

use std::path::Path;

use anyhow::Context;
use herald_channels::{ChannelsConfig, EmailProviderConfig, Providers};
use herald_messaging::preferences::Topics;
use herald_messaging::tracking::TrackingPolicy;
use herald_messaging::{AddressRules, Policy};
use serde::Deserialize;

/// The file: the channels' providers (herald_channels::ChannelsConfig, docs/channels.md),
/// with the governor's policy, the topics and the address rules beside them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelsFile {
    #[serde(flatten)]
    channels: ChannelsConfig,
    #[serde(default)]
    policy: Policy,
    #[serde(default)]
    topics: Topics,
    #[serde(default)]
    addresses: AddressRules,
    #[serde(default)]
    tracking: TrackingPolicy,
}

/// The channels file read: what the sender and the API share
/// (herald_pipeline::messaging::Settings).
pub struct Loaded {
    pub providers: Providers,
    pub channels: ChannelsConfig,
    pub policy: Policy,
    pub topics: Topics,
    pub address_rules: AddressRules,
    pub tracking: TrackingPolicy,
    pub postmark_webhook: Option<herald_channels::WebhookCredentials>,
}

pub fn load(file: Option<&Path>) -> anyhow::Result<Loaded> {
    let Some(file) = file else {
        return Ok(Loaded {
            providers: Providers::default(),
            channels: ChannelsConfig::default(),
            policy: Policy::default(),
            topics: Topics::default(),
            address_rules: AddressRules::default(),
            tracking: TrackingPolicy::default(),
            postmark_webhook: None,
        });
    };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the channels file {}", file.display()))?;
    let parsed: ChannelsFile = toml::from_str(&text)
        .with_context(|| format!("invalid channels file {}", file.display()))?;
    parsed
        .policy
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: [policy]: {e}", file.display()))?;
    let postmark_webhook = match &parsed.channels.email {
        Some(EmailProviderConfig::Postmark(c)) => c.webhook_credentials(),
        _ => None,
    };
    let providers = Providers::from_config(&parsed.channels)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    Ok(Loaded {
        providers,
        channels: parsed.channels,
        policy: parsed.policy,
        topics: parsed.topics,
        address_rules: parsed.addresses,
        tracking: parsed.tracking,
        postmark_webhook,
    })
}
