//! The configured providers, one per channel, built from configuration.

use std::collections::BTreeMap;
use std::sync::Arc;

use herald_messaging::Channel;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::email::postmark::{PostmarkConfig, PostmarkProvider};
use crate::email::smtp::{SmtpConfig, SmtpProvider};
use crate::port::{Outbound, Provider, Receipt, SendError};
use crate::push::{PushConfig, PushProvider};
use crate::sms::{TwilioConfig, TwilioProvider};
use crate::webhook::{WebhookConfig, WebhookProvider};

/// The email channel's provider: `{"provider": "smtp", …}` or `{"provider": "postmark", …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum EmailProviderConfig {
    Smtp(SmtpConfig),
    Postmark(PostmarkConfig),
}

/// The SMS channel's provider: `{"provider": "twilio", …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum SmsProviderConfig {
    Twilio(TwilioConfig),
}

/// Every channel's provider; a channel left out has none. (The in-app inbox is storage, not
/// a provider.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailProviderConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsProviderConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookConfig>,
}

/// Channel → provider.
#[derive(Clone, Default)]
pub struct Providers {
    by_channel: BTreeMap<Channel, Arc<dyn Provider>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.by_channel.iter().map(|(c, p)| (c.as_str(), p.name())))
            .finish()
    }
}

impl Providers {
    /// Builds every configured provider; the first configuration that cannot work is the
    /// error. Needs a Tokio runtime (the SMTP pool).
    pub fn from_config(config: &ChannelsConfig) -> Result<Providers, ConfigError> {
        let mut providers = Providers::default();
        if let Some(email) = &config.email {
            let provider: Arc<dyn Provider> = match email {
                EmailProviderConfig::Smtp(c) => Arc::new(SmtpProvider::new(c)?),
                EmailProviderConfig::Postmark(c) => Arc::new(PostmarkProvider::new(c)?),
            };
            providers = providers.with(Channel::Email, provider);
        }
        if let Some(SmsProviderConfig::Twilio(c)) = &config.sms {
            providers = providers.with(Channel::Sms, Arc::new(TwilioProvider::new(c)?));
        }
        if let Some(c) = &config.push {
            providers = providers.with(Channel::Push, Arc::new(PushProvider::new(c)?));
        }
        if let Some(c) = &config.webhook {
            providers = providers.with(Channel::Webhook, Arc::new(WebhookProvider::new(c)?));
        }
        Ok(providers)
    }

    /// The same, with `provider` for `channel` (replacing one configured before).
    pub fn with(mut self, channel: Channel, provider: Arc<dyn Provider>) -> Providers {
        self.by_channel.insert(channel, provider);
        self
    }

    pub fn get(&self, channel: Channel) -> Option<&Arc<dyn Provider>> {
        self.by_channel.get(&channel)
    }

    /// The channels that have a provider, in order.
    pub fn channels(&self) -> impl Iterator<Item = Channel> + '_ {
        self.by_channel.keys().copied()
    }

    /// Sends through the message's channel's provider; a channel without one is the
    /// permanent error `channel_not_configured`.
    pub async fn send(&self, message: &Outbound) -> Result<Receipt, SendError> {
        match self.get(message.channel) {
            Some(provider) => provider.send(message).await,
            None => Err(SendError::permanent(
                "channel_not_configured",
                format!(
                    "no provider is configured for the {} channel",
                    message.channel
                ),
            )),
        }
    }
}
