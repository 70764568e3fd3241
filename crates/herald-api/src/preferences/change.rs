//! Changing an address's preferences: a compare-and-set on the stored row (retried when a
//! concurrent change won), then each change of a status in effect recorded as a
//! `Subscription Changed` event on the person, so audiences and the timeline see it.

use herald_core::identity::ProfileId;
use herald_messaging::message::{MessageId, SourceKind};
use herald_messaging::preferences::{
    ChangeSource, ChannelPreferences, Status, SubscriptionChange, Subscriptions,
};
use herald_messaging::Channel;
use herald_pipeline::messaging::events::track;
use herald_pipeline::messaging::CONFIRM_SOURCE;
use herald_storage::messages::MessageRecord;
use herald_storage::preferences::AddressPreferences;
use serde_json::json;

use crate::admin::blocking;
use crate::error::ApiError;
use crate::AppState;

/// One change asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Subscribe(String),
    /// Confirm a pending double opt-in.
    Confirm(String),
    Unsubscribe(String),
    UnsubscribeChannel,
    ResubscribeChannel,
}

/// How often a change is retried when another writer changed the row first.
const ATTEMPTS: usize = 8;

/// The address's stored preferences on the channel (the defaults when it has none) and the
/// version they were read at.
pub(crate) async fn read(
    state: &AppState,
    channel: Channel,
    address: &str,
) -> Result<(ChannelPreferences, Option<i64>), ApiError> {
    let address = address.to_owned();
    let stored = blocking(state, move |s| {
        s.address_preferences(channel.as_str(), &address)
    })
    .await?;
    match stored {
        None => Ok((ChannelPreferences::default(), None)),
        Some(row) => serde_json::from_str(&row.preferences)
            .map(|p| (p, Some(row.updated_ms)))
            .map_err(|e| ApiError::Internal(format!("stored preferences: {e}"))),
    }
}

/// Apply `changes` to the address's preferences on `channel` and record what moved on the
/// profile's timeline. Unknown topics are refused (400 `unknown_topic`) before anything
/// changes.
pub(crate) async fn apply(
    state: &AppState,
    channel: Channel,
    address: &str,
    changes: &[Change],
    source: ChangeSource,
    profile: Option<&ProfileId>,
) -> Result<(ChannelPreferences, Vec<SubscriptionChange>), ApiError> {
    let topics = &state.messaging.settings().topics;
    for change in changes {
        if let Change::Subscribe(key) | Change::Unsubscribe(key) | Change::Confirm(key) = change {
            if topics.get(channel, key).is_none() {
                return Err(ApiError::bad_request(
                    "unknown_topic",
                    format!("there is no topic `{key}` on {channel}"),
                ));
            }
        }
    }
    for _ in 0..ATTEMPTS {
        let (current, version) = read(state, channel, address).await?;
        let mut subscriptions = Subscriptions::default();
        subscriptions.0.insert(channel, current.clone());
        let mut moved = Vec::new();
        for change in changes {
            let done = match change {
                Change::Subscribe(key) => {
                    let topic = topics.get(channel, key).expect("checked above");
                    subscriptions.subscribe(topic, source)
                }
                Change::Unsubscribe(key) => {
                    let topic = topics.get(channel, key).expect("checked above");
                    subscriptions.unsubscribe(topic, source)
                }
                Change::Confirm(key) => {
                    let topic = topics.get(channel, key).expect("checked above");
                    subscriptions
                        .confirm(topic, source)
                        .map_err(|e| ApiError::Conflict("nothing_to_confirm", e.to_string()))?
                }
                Change::UnsubscribeChannel => subscriptions.unsubscribe_channel(channel, source),
                Change::ResubscribeChannel => subscriptions.resubscribe_channel(channel, source),
            };
            moved.extend(done);
        }
        let next = subscriptions.0.remove(&channel).unwrap_or_default();
        if next == current {
            return Ok((current, moved));
        }
        let now_ms = herald_storage::clock::now_ms().max(version.map_or(0, |v| v + 1));
        let row = AddressPreferences {
            channel: channel.as_str().to_owned(),
            address: address.to_owned(),
            preferences: serde_json::to_string(&next)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            updated_ms: now_ms,
        };
        if blocking(state, move |s| s.put_address_preferences(&row, version)).await? {
            // The change stands even when its event cannot be recorded (the writer is
            // overloaded or stopping): consent comes first.
            if let Some(profile) = profile {
                if let Err(e) = record(state, profile, address, &moved).await {
                    tracing::warn!(error = ?e, "a subscription change is stored but its event was not recorded");
                    metrics::counter!("herald_subscription_events_lost_total").increment(1);
                }
                if let Err(e) = ask_confirmations(state, profile, address, &moved, now_ms).await {
                    tracing::warn!(error = ?e, "a double opt-in is pending but its confirmation message was not queued");
                }
            }
            return Ok((next, moved));
        }
    }
    Err(ApiError::Conflict(
        "preferences_busy",
        "the preferences kept changing while this change was made; try again".into(),
    ))
}

/// Queue the confirmation message of each double opt-in that became pending (a transactional
/// message of the topic's `confirmation_template`, source `confirm:<topic>`, whose template
/// sees `message.confirm_url`). Its id is derived from the pending change, so a retried change
/// queues it once.
async fn ask_confirmations(
    state: &AppState,
    profile: &ProfileId,
    address: &str,
    changes: &[SubscriptionChange],
    at_ms: i64,
) -> Result<(), ApiError> {
    let topics = &state.messaging.settings().topics;
    let profile_uuid = uuid::Uuid::parse_str(profile.as_str())
        .map_err(|e| ApiError::Internal(format!("profile id {}: {e}", profile.as_str())))?;
    for change in changes {
        if change.status != Status::PendingConfirmation {
            continue;
        }
        let Some(key) = change.topic.as_deref() else {
            continue;
        };
        let Some(template) = topics
            .get(change.channel, key)
            .and_then(|t| t.confirmation_template.clone())
        else {
            continue;
        };
        let Some(stored) = blocking(state, move |s| s.template(&template, None)).await? else {
            tracing::warn!(
                topic = key,
                "the confirmation template of a double opt-in topic does not exist"
            );
            continue;
        };
        let channel = change.channel.as_str();
        let source_id = format!("{CONFIRM_SOURCE}{channel}:{key}:{address}:{at_ms}");
        let id = MessageId::derive(
            SourceKind::Api,
            &source_id,
            profile_uuid,
            &stored.template_id,
        );
        let record = MessageRecord {
            id: id.to_string(),
            profile_id: profile.as_str().to_owned(),
            partition: herald_storage::message_partition(&*state.store, profile),
            channel: channel.to_owned(),
            source: format!("{CONFIRM_SOURCE}{key}"),
            template_id: stored.template_id,
            template_version: stored.version,
            category: "transactional".into(),
            topic: Some(key.to_owned()),
            priority: "high".into(),
            transactional: true,
            status: "queued".into(),
            reason: None,
            address: None,
            due_ms: at_ms,
            decided_ms: None,
            attempts: 0,
            provider: None,
            provider_message_id: None,
            error: None,
            event: None,
            created_ms: at_ms,
            updated_ms: at_ms,
        };
        blocking(state, move |s| {
            s.enqueue_messages(std::slice::from_ref(&record))
        })
        .await?;
        state.messaging.wake();
    }
    Ok(())
}

/// Append a `Subscription Changed` track event per change, as the person
/// (herald_pipeline::messaging::events).
async fn record(
    state: &AppState,
    profile: &ProfileId,
    address: &str,
    changes: &[SubscriptionChange],
) -> Result<(), ApiError> {
    if changes.is_empty() {
        return Ok(());
    }
    let id = profile.clone();
    let Some(record) = blocking(state, move |s| s.profile(&id)).await? else {
        return Ok(());
    };
    let now = herald_storage::clock::now();
    let events: Vec<_> = changes
        .iter()
        .filter_map(|change| {
            let mut properties = change.properties();
            properties["address"] = json!(address);
            track(
                &record,
                SubscriptionChange::EVENT,
                properties,
                &uuid::Uuid::new_v4().to_string(),
                now,
            )
        })
        .collect();
    if events.is_empty() {
        tracing::info!(profile = %profile.as_str(), "a subscription change is not on the timeline: the profile has no user id nor anonymous id");
        return Ok(());
    }
    state
        .ingest
        .submit(events)
        .await
        .map_err(crate::ingest::submit_error)?;
    Ok(())
}
