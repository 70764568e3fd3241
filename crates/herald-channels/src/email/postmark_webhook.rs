//! Postmark's webhooks, read: what Postmark reports about a message after it took it
//! (delivered, bounced, marked as spam, opened, clicked), as a [`ProviderReport`] for the
//! pipeline. Every report names Herald's message by the `herald_message_id` Herald put in the
//! message's `Metadata` (postmark.rs); a report without it is about mail Herald did not send
//! and is ignored.
//!
//! Postmark signs nothing: its webhooks are secured with HTTP Basic credentials in the
//! webhook URL, which Herald checks (`webhook_username`, `webhook_password`) before it
//! believes a report. Bounce types (Postmark's `Type`): `HardBounce` and `BadEmailAddress`
//! are hard (the address is suppressed), `SpamComplaint` a complaint (suppressed too),
//! `Transient`, `SoftBounce`, `DnsError`, `AutoResponder` and the rest soft (recorded, not
//! suppressed); subscription notices (`Subscribe`, `Unsubscribe`, `AddressChange`,
//! `ChallengeVerification`) are not about delivery and are ignored.

use herald_messaging::message::{BounceKind, DeliveryEvent, MessageId};
use herald_messaging::preferences::SuppressionReason;
use serde::Deserialize;
use serde_json::Value;

use crate::port::ProviderReport;

#[derive(Debug, Deserialize)]
struct Webhook {
    #[serde(rename = "RecordType", default)]
    record_type: String,
    #[serde(rename = "Type", default)]
    bounce_type: Option<String>,
    #[serde(rename = "Description", default)]
    description: Option<String>,
    #[serde(rename = "Details", default)]
    details: Option<String>,
    #[serde(rename = "OriginalLink", default)]
    original_link: Option<String>,
    #[serde(rename = "Email", default)]
    email: Option<String>,
    #[serde(rename = "Recipient", default)]
    recipient: Option<String>,
    #[serde(rename = "Metadata", default)]
    metadata: Option<serde_json::Map<String, Value>>,
}

/// A webhook body that is not one of Postmark's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Postmark webhook: {0}")]
pub struct WebhookError(pub String);

/// The report in a Postmark webhook body; `None` for a record that is not about a message
/// Herald sent, or not about delivery.
pub fn parse_webhook(body: &[u8]) -> Result<Option<ProviderReport>, WebhookError> {
    let hook: Webhook = serde_json::from_slice(body).map_err(|e| WebhookError(e.to_string()))?;
    if hook.record_type.is_empty() {
        return Err(WebhookError("`RecordType` is missing".into()));
    }
    let Some(message_id) = hook
        .metadata
        .as_ref()
        .and_then(|m| m.get("herald_message_id"))
        .and_then(Value::as_str)
        .and_then(|id| id.parse::<MessageId>().ok())
    else {
        return Ok(None);
    };
    let address = hook.email.clone().or(hook.recipient.clone());
    let detail = || {
        [hook.description.as_deref(), hook.details.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ")
    };
    let (event, suppress) = match hook.record_type.as_str() {
        "Delivery" => (DeliveryEvent::Delivered, None),
        "Open" => (DeliveryEvent::Opened, None),
        "Click" => (
            DeliveryEvent::Clicked {
                url: hook.original_link.clone(),
            },
            None,
        ),
        "SpamComplaint" => (
            DeliveryEvent::Complained,
            Some(SuppressionReason::Complaint),
        ),
        "Bounce" => match hook.bounce_type.as_deref().unwrap_or_default() {
            "HardBounce" | "BadEmailAddress" => (
                DeliveryEvent::Bounced {
                    kind: BounceKind::Hard,
                    detail: Some(detail()),
                },
                Some(SuppressionReason::HardBounce),
            ),
            "SpamComplaint" => (
                DeliveryEvent::Complained,
                Some(SuppressionReason::Complaint),
            ),
            "Subscribe" | "Unsubscribe" | "AddressChange" | "ChallengeVerification" => {
                return Ok(None)
            }
            _ => (
                DeliveryEvent::Bounced {
                    kind: BounceKind::Soft,
                    detail: Some(detail()),
                },
                None,
            ),
        },
        _ => return Ok(None),
    };
    Ok(Some(ProviderReport {
        message_id,
        address,
        event,
        suppress,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "0193a5c0-0000-7000-8000-000000000001";

    fn parse(v: Value) -> Option<ProviderReport> {
        parse_webhook(v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn records_become_delivery_events() {
        let meta = json!({"herald_message_id": ID, "profile_id": "p"});
        let id: MessageId = ID.parse().unwrap();
        let delivered = parse(json!({"RecordType": "Delivery", "MessageID": "pm-1", "Recipient": "a@example.com", "DeliveredAt": "2026-12-05T09:00:00Z", "Metadata": meta})).unwrap();
        assert_eq!(
            (
                delivered.message_id,
                delivered.event,
                delivered.suppress,
                delivered.address.as_deref()
            ),
            (id, DeliveryEvent::Delivered, None, Some("a@example.com"))
        );
        let hard = parse(json!({"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "Description": "Unknown user", "Details": "550 5.1.1", "Email": "a@example.com", "Metadata": meta})).unwrap();
        assert_eq!(
            (hard.event, hard.suppress),
            (
                DeliveryEvent::Bounced {
                    kind: BounceKind::Hard,
                    detail: Some("Unknown user: 550 5.1.1".into())
                },
                Some(SuppressionReason::HardBounce)
            )
        );
        let soft = parse(json!({"RecordType": "Bounce", "Type": "Transient", "Email": "a@example.com", "Metadata": meta})).unwrap();
        assert!(matches!(
            soft.event,
            DeliveryEvent::Bounced {
                kind: BounceKind::Soft,
                ..
            }
        ));
        assert_eq!(soft.suppress, None);
        for complaint in [
            json!({"RecordType": "SpamComplaint", "Type": "SpamComplaint", "Email": "a@example.com", "Metadata": meta}),
            json!({"RecordType": "Bounce", "Type": "SpamComplaint", "Email": "a@example.com", "Metadata": meta}),
        ] {
            let c = parse(complaint).unwrap();
            assert_eq!(
                (c.event, c.suppress),
                (
                    DeliveryEvent::Complained,
                    Some(SuppressionReason::Complaint)
                )
            );
        }
        let click = parse(json!({"RecordType": "Click", "OriginalLink": "https://shop.example.com/", "Recipient": "a@example.com", "Metadata": meta})).unwrap();
        assert_eq!(
            click.event,
            DeliveryEvent::Clicked {
                url: Some("https://shop.example.com/".into())
            }
        );
        assert_eq!(
            parse(json!({"RecordType": "Open", "Metadata": meta}))
                .unwrap()
                .event,
            DeliveryEvent::Opened
        );
    }

    #[test]
    fn foreign_and_non_delivery_records_are_ignored_and_garbage_refused() {
        assert!(parse(json!({"RecordType": "Delivery", "Metadata": {"user_id": 3}})).is_none());
        assert!(parse(json!({"RecordType": "Delivery"})).is_none());
        assert!(parse(
            json!({"RecordType": "Delivery", "Metadata": {"herald_message_id": "nope"}})
        )
        .is_none());
        let meta = json!({"herald_message_id": ID});
        assert!(
            parse(json!({"RecordType": "Bounce", "Type": "Subscribe", "Metadata": meta})).is_none()
        );
        assert!(parse(json!({"RecordType": "SubscriptionChange", "Metadata": meta})).is_none());
        for bad in [&b"not json"[..], b"[]", b"{}", b"{\"RecordType\": 3}"] {
            assert!(
                parse_webhook(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
