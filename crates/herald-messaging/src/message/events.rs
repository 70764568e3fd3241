//! Delivery events: what happens to a message after it is sent, as track events on the
//! person's timeline (usable in audiences and journey goals).
//!
//! Names follow Segment's Email spec, which Customer.io's semantic events follow too
//! (`Email Delivered`, `Email Opened`, `Email Link Clicked`, `Email Bounced`,
//! `Email Marked as Spam`, `Unsubscribed`), with `Message` for `Email` because one family
//! covers every channel and the channel is a property (as Braze's Currents keep the channel in
//! the event, not in a separate name per channel). `Message Clicked` rather than
//! `Link Clicked`: a push notification is tapped, not a link. Properties are snake_case like
//! that spec's (`message_id` for its `email_id`).

use serde_json::{json, Map, Value};

use super::status::Status;
use super::{MessageId, SourceKind};
use crate::channel::{Category, Channel};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BounceKind {
    /// Permanent: the address is suppressed and the message is `bounced`.
    Hard,
    /// Temporary (mailbox full, greylisting): recorded, the provider retries.
    Soft,
}

/// Something that happened to a sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryEvent {
    Sent,
    Delivered,
    Opened,
    /// A click on a tracked link (`url`), or a tap on a push notification (no url).
    Clicked {
        url: Option<String>,
    },
    Bounced {
        kind: BounceKind,
        /// The provider's or the SMTP server's words.
        detail: Option<String>,
    },
    /// The recipient marked the message as spam.
    Complained,
    /// The recipient unsubscribed through this message (its one-click link or the preference
    /// page it linked to); `topic` `None` for the whole channel. The preference change itself
    /// is a separate `Subscription Changed` event.
    Unsubscribed {
        topic: Option<String>,
    },
    /// An in-app inbox message was read.
    InboxRead,
}

/// The names of every delivery event (the timeline's), in lifecycle order.
pub const DELIVERY_EVENT_NAMES: [&str; 8] = [
    "Message Sent",
    "Message Delivered",
    "Message Opened",
    "Message Clicked",
    "Message Bounced",
    "Message Marked as Spam",
    "Unsubscribed",
    "Inbox Message Read",
];

/// What every delivery event says about its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFacts {
    pub message_id: MessageId,
    pub channel: Channel,
    pub category: Category,
    pub transactional: bool,
    pub source: SourceKind,
    pub source_id: String,
    pub topic: Option<String>,
}

impl DeliveryEvent {
    /// The track event's name.
    pub fn name(&self) -> &'static str {
        match self {
            DeliveryEvent::Sent => "Message Sent",
            DeliveryEvent::Delivered => "Message Delivered",
            DeliveryEvent::Opened => "Message Opened",
            DeliveryEvent::Clicked { .. } => "Message Clicked",
            DeliveryEvent::Bounced { .. } => "Message Bounced",
            DeliveryEvent::Complained => "Message Marked as Spam",
            DeliveryEvent::Unsubscribed { .. } => "Unsubscribed",
            DeliveryEvent::InboxRead => "Inbox Message Read",
        }
    }

    /// The event's message id on the timeline: derived from the message and what happened, so
    /// a repeat (a retried step, a second open) is a duplicate the log drops. A click is one per
    /// link (the first click on each link counts), every other event one per message.
    pub fn event_id(&self, message: &str) -> String {
        match self {
            DeliveryEvent::Clicked { url: Some(url) } => format!(
                "{message}:{}:{:016x}",
                self.name(),
                xxhash_rust::xxh3::xxh3_64(url.as_bytes())
            ),
            _ => format!("{message}:{}", self.name()),
        }
    }

    /// The status the event moves the message to (through [`Status::advance`]), if any: a
    /// soft bounce and an unsubscribe do not change it; reading an inbox message opens it.
    pub fn status(&self) -> Option<Status> {
        match self {
            DeliveryEvent::Sent => Some(Status::Sent),
            DeliveryEvent::Delivered => Some(Status::Delivered),
            DeliveryEvent::Opened | DeliveryEvent::InboxRead => Some(Status::Opened),
            DeliveryEvent::Clicked { .. } => Some(Status::Clicked),
            DeliveryEvent::Bounced {
                kind: BounceKind::Hard,
                ..
            } => Some(Status::Bounced),
            DeliveryEvent::Complained => Some(Status::Complained),
            DeliveryEvent::Bounced {
                kind: BounceKind::Soft,
                ..
            }
            | DeliveryEvent::Unsubscribed { .. } => None,
        }
    }

    /// The track event's properties: `message_id`, `channel`, `category`, `transactional`,
    /// `source_type`, `source_id`, `topic` (when the message has one), and per event
    /// `link_url` (clicked), `bounce_type` and `bounce_reason` (bounced), `topic` (unsubscribed:
    /// what was left, null for the whole channel).
    pub fn properties(&self, message: &MessageFacts) -> Value {
        let mut props = Map::new();
        props.insert("message_id".into(), json!(message.message_id.key()));
        props.insert("channel".into(), json!(message.channel.as_str()));
        props.insert("category".into(), json!(message.category.as_str()));
        props.insert("transactional".into(), json!(message.transactional));
        props.insert("source_type".into(), json!(message.source.as_str()));
        props.insert("source_id".into(), json!(message.source_id));
        if let Some(topic) = &message.topic {
            props.insert("topic".into(), json!(topic));
        }
        match self {
            DeliveryEvent::Clicked { url: Some(url) } => {
                props.insert("link_url".into(), json!(url));
            }
            DeliveryEvent::Bounced { kind, detail } => {
                let kind = match kind {
                    BounceKind::Hard => "hard",
                    BounceKind::Soft => "soft",
                };
                props.insert("bounce_type".into(), json!(kind));
                if let Some(detail) = detail {
                    props.insert("bounce_reason".into(), json!(detail));
                }
            }
            DeliveryEvent::Unsubscribed { topic } => {
                props.insert("topic".into(), json!(topic));
            }
            _ => {}
        }
        Value::Object(props)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn facts() -> MessageFacts {
        MessageFacts {
            message_id: MessageId(Uuid::from_u128(7)),
            channel: Channel::Email,
            category: Category::parse("marketing").unwrap(),
            transactional: false,
            source: SourceKind::Broadcast,
            source_id: "spring-sale".into(),
            topic: Some("newsletter".into()),
        }
    }

    #[test]
    fn every_event_name_is_listed() {
        let events = [
            DeliveryEvent::Sent,
            DeliveryEvent::Delivered,
            DeliveryEvent::Opened,
            DeliveryEvent::Clicked { url: None },
            DeliveryEvent::Bounced {
                kind: BounceKind::Soft,
                detail: None,
            },
            DeliveryEvent::Complained,
            DeliveryEvent::Unsubscribed { topic: None },
            DeliveryEvent::InboxRead,
        ];
        assert_eq!(events.map(|e| e.name()), DELIVERY_EVENT_NAMES);
    }

    #[test]
    fn event_ids_are_one_per_message_and_one_per_clicked_link() {
        let click = |u: &str| DeliveryEvent::Clicked {
            url: Some(u.into()),
        };
        assert_eq!(DeliveryEvent::Opened.event_id("m1"), "m1:Message Opened");
        assert_eq!(
            click("https://a.example/").event_id("m1"),
            click("https://a.example/").event_id("m1")
        );
        assert_ne!(
            click("https://a.example/").event_id("m1"),
            click("https://b.example/").event_id("m1")
        );
        assert_ne!(
            click("https://a.example/").event_id("m1"),
            click("https://a.example/").event_id("m2")
        );
    }

    #[test]
    fn names_and_properties() {
        let f = facts();
        let clicked = DeliveryEvent::Clicked {
            url: Some("https://example.com/sale".into()),
        };
        assert_eq!(clicked.name(), "Message Clicked");
        assert_eq!(
            clicked.properties(&f),
            json!({
                "message_id": "00000000-0000-0000-0000-000000000007",
                "channel": "email", "category": "marketing", "transactional": false,
                "source_type": "broadcast", "source_id": "spring-sale", "topic": "newsletter",
                "link_url": "https://example.com/sale"
            })
        );
        let bounce = DeliveryEvent::Bounced {
            kind: BounceKind::Hard,
            detail: Some("550 5.1.1 user unknown".into()),
        };
        let props = bounce.properties(&f);
        assert_eq!(props["bounce_type"], "hard");
        assert_eq!(props["bounce_reason"], "550 5.1.1 user unknown");
        let unsub = DeliveryEvent::Unsubscribed { topic: None };
        assert_eq!(unsub.name(), "Unsubscribed");
        assert_eq!(unsub.properties(&f)["topic"], Value::Null);
        assert_eq!(DeliveryEvent::Complained.name(), "Message Marked as Spam");
        assert_eq!(DeliveryEvent::InboxRead.name(), "Inbox Message Read");
    }

    #[test]
    fn events_move_the_status_forward() {
        let mut status = Status::Sending;
        for event in [
            DeliveryEvent::Sent,
            DeliveryEvent::Delivered,
            DeliveryEvent::Opened,
            DeliveryEvent::Clicked { url: None },
            DeliveryEvent::Complained,
        ] {
            status = status.advance(event.status().unwrap()).unwrap();
        }
        assert_eq!(status, Status::Complained);
        // A late delivery report after an open is refused as a status change.
        let opened = Status::Opened;
        assert!(opened
            .advance(DeliveryEvent::Delivered.status().unwrap())
            .is_err());
        let soft = DeliveryEvent::Bounced {
            kind: BounceKind::Soft,
            detail: None,
        };
        assert_eq!(soft.status(), None);
        assert_eq!(DeliveryEvent::InboxRead.status(), Some(Status::Opened));
    }
}
