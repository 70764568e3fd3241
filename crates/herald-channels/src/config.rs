//! Provider configuration errors.

/// A provider's configuration that cannot work, naming the provider and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provider} configuration, {field}: {message}")]
pub struct ConfigError {
    pub provider: &'static str,
    pub field: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(provider: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        ConfigError {
            provider,
            field,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        "channel_config_invalid"
    }
}
