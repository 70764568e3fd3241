//! The providers built from one configuration document, and routing by channel.

mod support;

use std::sync::{Arc, Mutex};

use herald_channels::{
    ChannelsConfig, EmailProviderConfig, Outbound, Provider, Providers, Receipt, SendError,
};
use herald_messaging::Channel;
use serde_json::json;

fn document() -> serde_json::Value {
    json!({
        "email": {
            "provider": "smtp",
            "host": "smtp.example.com",
            "username": "herald",
            "password": "smtp-password-0123456789",
            "from": "Herald <news@example.com>",
            "rate_per_second": 50,
            "dkim": {
                "selector": "herald1",
                "domain": "example.com",
                "algorithm": "ed25519",
                "private_key": "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
            }
        },
        "sms": {
            "provider": "twilio",
            "account_sid": "AC0123456789abcdef0123456789abcdef",
            "auth_token": "twilio-auth-token-0123456789",
            "from": "+15005550006"
        },
        "push": {
            "apns": {
                "key_id": "KEY1234567",
                "team_id": "TEAM123456",
                "private_key": support::fixture("apns-test-p256.p8"),
                "topic": "com.example.shop"
            }
        },
        "webhook": {
            "url": "https://hooks.example.com/herald",
            "secret": "webhook-secret-0123456789"
        }
    })
}

#[tokio::test]
async fn every_channel_from_one_document() {
    let config: ChannelsConfig = serde_json::from_value(document()).unwrap();
    let providers = Providers::from_config(&config).unwrap();
    let channels: Vec<Channel> = providers.channels().collect();
    assert_eq!(
        channels,
        [
            Channel::Email,
            Channel::Sms,
            Channel::Push,
            Channel::Webhook
        ]
    );
    assert_eq!(providers.get(Channel::Email).unwrap().name(), "smtp");
    assert_eq!(providers.get(Channel::Sms).unwrap().name(), "twilio");
    assert_eq!(providers.get(Channel::Webhook).unwrap().name(), "webhook");
    assert_eq!(providers.get(Channel::Push).unwrap().name(), "push");
    assert!(providers.get(Channel::InApp).is_none());
    assert_eq!(
        format!("{providers:?}"),
        r#"{"email": "smtp", "sms": "twilio", "push": "push", "webhook": "webhook"}"#
    );

    // Shown back (as an API would), every credential is masked.
    let shown = serde_json::to_string(&config).unwrap();
    for secret in [
        "smtp-password-0123456789",
        "twilio-auth-token-0123456789",
        "webhook-secret-0123456789",
        "nWGxne",
        "PRIVATE KEY",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
        assert!(!format!("{config:?}").contains(secret), "{secret} in Debug");
    }
    assert!(shown.contains("\"provider\":\"smtp\""), "{shown}");
}

#[test]
fn postmark_is_the_other_email_provider() {
    let config: ChannelsConfig = serde_json::from_value(json!({
        "email": {"provider": "postmark", "server_token": "pm-token-0123456789abcdef", "from": "news@example.com"}
    }))
    .unwrap();
    let Some(EmailProviderConfig::Postmark(postmark)) = &config.email else {
        panic!("{config:?}");
    };
    assert_eq!(postmark.base_url, "https://api.postmarkapp.com");
    assert_eq!(postmark.message_stream, "outbound");
    assert_eq!(postmark.marketing_message_stream, "broadcast");
}

#[test]
fn unknown_fields_and_providers_are_refused() {
    let mut doc = document();
    doc["email"]["hots"] = json!("typo");
    assert!(serde_json::from_value::<ChannelsConfig>(doc).is_err());
    let mut doc = document();
    doc["sms"]["provider"] = json!("carrier-pigeon");
    assert!(serde_json::from_value::<ChannelsConfig>(doc).is_err());
    let mut doc = document();
    doc["fax"] = json!({});
    assert!(serde_json::from_value::<ChannelsConfig>(doc).is_err());
}

#[tokio::test]
async fn a_configuration_that_cannot_work_names_its_field() {
    let mut doc = document();
    doc["email"]["dkim"]["private_key"] = json!("not a key");
    let config: ChannelsConfig = serde_json::from_value(doc).unwrap();
    let err = Providers::from_config(&config).unwrap_err();
    assert_eq!(
        (err.provider, err.field, err.code()),
        ("dkim", "private_key", "channel_config_invalid")
    );
}

/// A provider that records what it was given.
struct Recording {
    seen: Mutex<Vec<Outbound>>,
}

#[async_trait::async_trait]
impl Provider for Recording {
    fn name(&self) -> &'static str {
        "recording"
    }

    async fn send(&self, message: &Outbound) -> Result<Receipt, SendError> {
        self.seen.lock().unwrap().push(message.clone());
        Ok(Receipt {
            provider: "recording",
            provider_message_id: Some(message.message_id.to_string()),
        })
    }
}

#[tokio::test]
async fn send_routes_by_channel() {
    let recording = Arc::new(Recording {
        seen: Mutex::new(Vec::new()),
    });
    let providers = Providers::default().with(Channel::Sms, recording.clone());
    let sms = support::outbound(Channel::Sms, "+14155550123", &[("body", "hi")], "route");
    let receipt = providers.send(&sms).await.unwrap();
    assert_eq!(receipt.provider, "recording");
    assert_eq!(recording.seen.lock().unwrap().as_slice(), [sms]);

    let email = support::outbound(
        Channel::Email,
        "a@example.com",
        &[("subject", "s")],
        "route",
    );
    let err = providers.send(&email).await.unwrap_err();
    assert_eq!(
        (err.code(), err.is_transient()),
        ("channel_not_configured", false)
    );
    assert_eq!(recording.seen.lock().unwrap().len(), 1);
}
