//! Events Herald itself puts on a person's timeline: `Subscription Changed` and the delivery
//! events (`Message Sent`, `Message Bounced`, …; herald_messaging::message::DeliveryEvent),
//! appended to the log like any ingested event, as the person (their user id, else an
//! anonymous id of theirs). A message id derived from what happened makes a repeat (a retried
//! step after a crash) a duplicate the log drops.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use herald_core::event::{Incoming, ParseContext, TimeMode};
use herald_core::identity::{IdKind, ProfileId};
use herald_messaging::message::{DeliveryEvent, MessageFacts, SourceKind};
use herald_messaging::{Category, Channel};
use herald_storage::messages::MessageRecord;
use herald_storage::{ProfileRecord, Store};
use serde_json::{json, Value};

use crate::writer::IngestHandle;

/// Put a delivery event of `m` on its person's timeline. Its message id is derived from the
/// message and the event, so recording it again (a step retried after a crash) is a duplicate
/// the log drops. A failure is logged: the message's own status is the record.
pub async fn record_delivery(
    store: &Arc<dyn Store>,
    ingest: &IngestHandle,
    m: &MessageRecord,
    event: &DeliveryEvent,
    channel: Channel,
) {
    let Some(facts) = facts_of(m, channel) else {
        return;
    };
    let profile = ProfileId(m.profile_id.clone());
    let store = store.clone();
    let record = match tokio::task::spawn_blocking(move || store.profile(&profile)).await {
        Ok(Ok(Some(record))) => record,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            tracing::warn!(message = %m.id, error = %e, "a delivery event was not recorded");
            return;
        }
        Err(e) => {
            tracing::warn!(message = %m.id, error = %e, "a delivery event was not recorded");
            return;
        }
    };
    let id = event.event_id(&m.id);
    let now = herald_storage::clock::now();
    let Some(incoming) = track(&record, event.name(), event.properties(&facts), &id, now) else {
        return;
    };
    if let Err(e) = ingest.submit(vec![incoming]).await {
        tracing::warn!(message = %m.id, error = ?e, "a delivery event was not recorded");
    }
}

/// What a delivery event says about its message.
fn facts_of(m: &MessageRecord, channel: Channel) -> Option<MessageFacts> {
    let (source, source_id) = match m.source.split_once(':') {
        Some(("broadcast", id)) => (SourceKind::Broadcast, id.to_owned()),
        Some(("journey", id)) => (SourceKind::Journey, id.to_owned()),
        _ => (SourceKind::Api, m.source.clone()),
    };
    Some(MessageFacts {
        message_id: m.id.parse().ok()?,
        channel,
        category: Category::parse(&m.category).ok()?,
        transactional: m.transactional,
        source,
        source_id,
        topic: m.topic.clone(),
    })
}

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
