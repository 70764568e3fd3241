//! Where the messaging settings come from (docs/messaging-settings.md): one document with each
//! channel's provider, the topics, the governor's policy, the address rules and the tracking
//! policy — the channels file's shape. Either the `--channels` file gives it (read at start;
//! the API then shows it and refuses changes, so a file kept in version control stays the
//! truth), or the document stored in the database does: changed over the API, versioned, and
//! followed by every node ([`follow`]), which rebuilds its providers when the version moves.

use std::sync::Arc;
use std::time::Duration;

use herald_channels::{ChannelsConfig, EmailProviderConfig, Providers, SmsProviderConfig};
use herald_messaging::preferences::Topics;
use herald_messaging::tracking::TrackingPolicy;
use herald_messaging::{AddressRules, Policy};
use herald_storage::Store;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::watch;

use super::MessagingHandle;

/// The name of the stored document (herald_storage::settings).
pub const DOCUMENT: &str = "messaging";
/// How often a node looks for a change made on another node.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// The document: the channels' providers (herald_channels::ChannelsConfig, docs/channels.md),
/// with the governor's policy, the topics, the address rules and tracking beside them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
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

/// The sections of the document, in the order they are shown.
pub const SECTIONS: [&str; 8] = [
    "email",
    "sms",
    "push",
    "webhook",
    "topics",
    "policy",
    "addresses",
    "tracking",
];

/// Where this node's settings come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The `--channels` file: changes over the API are refused.
    File,
    /// The stored document at this version (0: none was ever saved, so nothing is configured).
    Stored { version: u64 },
}

/// A document read and checked: the providers built, ready to be used.
pub struct Configuration {
    pub providers: Providers,
    pub channels: ChannelsConfig,
    pub policy: Policy,
    pub topics: Topics,
    pub address_rules: AddressRules,
    pub tracking: TrackingPolicy,
    pub postmark_webhook: Option<herald_channels::WebhookCredentials>,
    pub twilio_callbacks: Option<herald_channels::sms_status::TwilioCallbacks>,
}

/// Why a document cannot be used: a stable code and what is wrong, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigurationError {
    pub code: &'static str,
    pub message: String,
}

impl ConfigurationError {
    fn new(code: &'static str, message: impl Into<String>) -> ConfigurationError {
        ConfigurationError {
            code,
            message: message.into(),
        }
    }
}

impl Configuration {
    /// Nothing configured: no provider, no topic, the default policy.
    pub fn empty() -> Configuration {
        Configuration::from_document(Value::Object(Default::default()))
            .expect("the empty document is valid")
    }

    /// Read and check a document: unknown fields are refused (a typo must not leave a default
    /// in place), the policy is validated, and every provider is built.
    pub fn from_document(document: Value) -> Result<Configuration, ConfigurationError> {
        let parsed: Document = serde_json::from_value(document)
            .map_err(|e| ConfigurationError::new("settings_invalid", e.to_string()))?;
        parsed
            .policy
            .validate()
            .map_err(|e| ConfigurationError::new("policy_invalid", format!("policy: {e}")))?;
        let providers = Providers::from_config(&parsed.channels)
            .map_err(|e| ConfigurationError::new(e.code(), e.to_string()))?;
        let postmark_webhook = match &parsed.channels.email {
            Some(EmailProviderConfig::Postmark(c)) => c.webhook_credentials(),
            _ => None,
        };
        let twilio_callbacks = match &parsed.channels.sms {
            Some(SmsProviderConfig::Twilio(c)) => c.callbacks(),
            None => None,
        };
        Ok(Configuration {
            providers,
            channels: parsed.channels,
            policy: parsed.policy,
            topics: parsed.topics,
            address_rules: parsed.addresses,
            tracking: parsed.tracking,
            postmark_webhook,
            twilio_callbacks,
        })
    }
}

/// Apply a change to a document: each section the change names replaces that section, and a
/// section given as `null` is removed (no provider for that channel; the default otherwise).
/// A credential the change gives as it is shown (masked: `****` and maybe its last four
/// characters) keeps the stored value, so a form that read the settings can send them back.
pub fn apply_change(current: &Value, change: &Value) -> Result<Value, ConfigurationError> {
    let Value::Object(change) = change else {
        return Err(ConfigurationError::new(
            "settings_invalid",
            "a change is a JSON object of sections",
        ));
    };
    let mut next = current.as_object().cloned().unwrap_or_default();
    for (section, value) in change {
        if !SECTIONS.contains(&section.as_str()) {
            return Err(ConfigurationError::new(
                "settings_invalid",
                format!(
                    "unknown section `{section}`; the sections are {}",
                    SECTIONS.join(", ")
                ),
            ));
        }
        if value.is_null() {
            next.remove(section);
            continue;
        }
        let mut value = value.clone();
        keep_masked(&mut value, current.get(section), section)?;
        next.insert(section.clone(), value);
    }
    Ok(Value::Object(next))
}

/// Replace every masked string in `new` by the stored string at the same place, if that is
/// the one it masks.
fn keep_masked(new: &mut Value, old: Option<&Value>, at: &str) -> Result<(), ConfigurationError> {
    match new {
        Value::String(s) if s.starts_with("****") => match old {
            Some(Value::String(stored))
                if herald_channels::Secret::new(stored.as_str()).masked() == *s =>
            {
                *s = stored.clone();
                Ok(())
            }
            _ => Err(ConfigurationError::new(
                "secret_unknown",
                format!("{at}: `{s}` is a masked credential, but not the one stored here; give the credential itself"),
            )),
        },
        Value::Object(fields) => {
            for (k, v) in fields.iter_mut() {
                keep_masked(v, old.and_then(|o| o.get(k)), &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                keep_masked(v, old.and_then(|o| o.get(i)), &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Load the stored document at start (none: nothing configured).
pub fn load_stored(store: &dyn Store) -> anyhow::Result<(Configuration, Origin)> {
    match store.settings_document(DOCUMENT)? {
        None => Ok((Configuration::empty(), Origin::Stored { version: 0 })),
        Some(stored) => {
            let document: Value = serde_json::from_str(&stored.document)?;
            let configuration = Configuration::from_document(document).map_err(|e| {
                anyhow::anyhow!(
                    "the stored messaging settings (version {}): {e}",
                    stored.version
                )
            })?;
            Ok((
                configuration,
                Origin::Stored {
                    version: stored.version,
                },
            ))
        }
    }
}

/// Follow the stored document until shutdown: when another node saved a newer version, use
/// it here too. (The node that saves one uses it at once.)
pub async fn follow(
    store: Arc<dyn Store>,
    handle: MessagingHandle,
    mut shutdown: watch::Receiver<bool>,
) {
    // A version that cannot be used is said once, not every second.
    let mut refused = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = shutdown.changed() => return,
        }
        let Origin::Stored { version } = handle.settings().origin else {
            return;
        };
        let s = store.clone();
        let read = tokio::task::spawn_blocking(move || s.settings_document(DOCUMENT))
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r.map_err(anyhow::Error::from));
        let stored = match read {
            Ok(Some(stored)) if stored.version > version && stored.version != refused => stored,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the messaging settings");
                continue;
            }
        };
        let configured = serde_json::from_str(&stored.document)
            .map_err(|e| ConfigurationError::new("settings_invalid", e.to_string()))
            .and_then(Configuration::from_document);
        match configured {
            Ok(configuration) => {
                handle.configure(
                    configuration,
                    Origin::Stored {
                        version: stored.version,
                    },
                );
                tracing::info!(version = stored.version, "messaging settings changed");
            }
            Err(e) => {
                refused = stored.version;
                tracing::error!(version = stored.version, error = %e, "the stored messaging settings cannot be used; keeping the previous ones");
            }
        }
    }
}
