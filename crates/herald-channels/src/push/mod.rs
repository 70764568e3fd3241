//! Mobile and web push: FCM HTTP v1 and APNs, one provider for the push channel that sends
//! each token to the service of its platform.
//!
//! The platform of a message's token (`to`) is read from `metadata.platform`: `ios` goes to
//! APNs, `android` and `web` to FCM (as the person's `push_tokens` trait records it, see
//! docs/messaging.md). Without a platform, the one configured service is used, or FCM when
//! both are.

pub mod apns;
pub mod fcm;
pub mod jwt;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::port::{Outbound, Provider, Receipt, SendError};
use apns::{ApnsConfig, ApnsProvider};
use fcm::{FcmConfig, FcmProvider};

/// The push channel's configuration: either service or both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fcm: Option<FcmConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apns: Option<ApnsConfig>,
}

#[derive(Debug)]
pub struct PushProvider {
    fcm: Option<FcmProvider>,
    apns: Option<ApnsProvider>,
}

impl PushProvider {
    pub fn new(config: &PushConfig) -> Result<PushProvider, ConfigError> {
        if config.fcm.is_none() && config.apns.is_none() {
            return Err(ConfigError::new(
                "push",
                "fcm",
                "configure fcm, apns or both",
            ));
        }
        Ok(PushProvider {
            fcm: config.fcm.as_ref().map(FcmProvider::new).transpose()?,
            apns: config.apns.as_ref().map(ApnsProvider::new).transpose()?,
        })
    }
}

#[async_trait::async_trait]
impl Provider for PushProvider {
    fn name(&self) -> &'static str {
        "push"
    }

    async fn send(&self, message: &Outbound) -> Result<Receipt, SendError> {
        let platform = message.metadata.get("platform").and_then(|p| p.as_str());
        let not_configured = |service: &str| {
            SendError::permanent(
                "channel_not_configured",
                format!(
                    "a {} token needs {service}, which is not configured",
                    platform.unwrap_or("push")
                ),
            )
        };
        match platform {
            Some("ios") => match &self.apns {
                Some(apns) => apns.send(message).await,
                None => Err(not_configured("APNs")),
            },
            Some("android" | "web") => match &self.fcm {
                Some(fcm) => fcm.send(message).await,
                None => Err(not_configured("FCM")),
            },
            Some(other) => Err(SendError::permanent(
                "unknown_platform",
                format!("unknown push platform {other:?}; expected ios, android or web"),
            )),
            None => match (&self.fcm, &self.apns) {
                (Some(fcm), _) => fcm.send(message).await,
                (None, Some(apns)) => apns.send(message).await,
                (None, None) => Err(not_configured("FCM or APNs")),
            },
        }
    }
}
