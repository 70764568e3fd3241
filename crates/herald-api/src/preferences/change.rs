//! Changing an address's preferences: a compare-and-set on the stored row (retried when a
//! concurrent change won), then each change of a status in effect recorded as a
//! `Subscription Changed` event on the person, so audiences and the timeline see it.

use herald_core::identity::ProfileId;
use herald_messaging::preferences::{
    ChangeSource, ChannelPreferences, SubscriptionChange, Subscriptions,
};
use herald_messaging::Channel;
use herald_pipeline::messaging::events::track;
use herald_storage::preferences::AddressPreferences;
use serde_json::json;

use crate::admin::blocking;
use crate::error::ApiError;
use crate::AppState;

/// One change asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Subscribe(String),
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
    let topics = &state.messaging.settings.topics;
    for change in changes {
        if let Change::Subscribe(key) | Change::Unsubscribe(key) = change {
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
            }
            return Ok((next, moved));
        }
    }
    Err(ApiError::Conflict(
        "preferences_busy",
        "the preferences kept changing while this change was made; try again".into(),
    ))
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
