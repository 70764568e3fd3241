//! Events Herald itself puts on a person's timeline: `Subscription Changed` and the delivery
//! events (`Message Sent`, `Message Bounced`, …; herald_messaging::message::DeliveryEvent),
//! appended to the log like any ingested event, as the person (their user id, else an
//! anonymous id of theirs). A message id derived from what happened makes a repeat (a retried
//! step after a crash) a duplicate the log drops.

use chrono::{DateTime, Utc};
use herald_core::event::{Incoming, ParseContext, TimeMode};
use herald_core::identity::IdKind;
use herald_storage::ProfileRecord;
use serde_json::{json, Value};

/// A track event named `name` with `properties`, as the person of `profile`; `None` when the
/// profile has neither a user id nor an anonymous id to send it as.
pub fn track(
    profile: &ProfileRecord,
    name: &str,
    properties: Value,
    message_id: &str,
    now: DateTime<Utc>,
) -> Option<Incoming> {
    let (user_id, anonymous_id) = match (
        profile.identifier(IdKind::UserId),
        profile.identifier(IdKind::AnonymousId),
    ) {
        (Some(u), _) => (Some(u), None),
        (None, Some(a)) => (None, Some(a)),
        (None, None) => return None,
    };
    let message = json!({
        "type": "track",
        "event": name,
        "userId": user_id,
        "anonymousId": anonymous_id,
        "messageId": message_id,
        "properties": properties,
        "context": {"library": {"name": "herald", "version": env!("CARGO_PKG_VERSION")}},
    });
    let ctx = ParseContext {
        received_at: now,
        batch_sent_at: None,
        implied_type: None,
        time_mode: TimeMode::Live,
        fallback_message_id: || uuid::Uuid::new_v4().to_string(),
    };
    match Incoming::parse(&message.to_string(), &ctx, None) {
        Ok(event) => Some(event),
        Err(e) => {
            tracing::warn!(event = name, error = %e.message, "a timeline event Herald made does not parse");
            None
        }
    }
}
