//! What a recipient does with a message after it is delivered — reads it in the in-app inbox
//! (and, with tracking and provider reports, opens and clicks it): the message's status moves
//! forward where its lifecycle allows (herald_messaging::message::Status::advance, so a late
//! report never moves it back), and the event goes on the person's timeline either way.

use std::sync::Arc;

use herald_channels::ProviderReport;
use herald_messaging::message::{DeliveryEvent, Status};
use herald_messaging::Channel;
use herald_storage::inbox::{InboxItem, InboxMark};
use herald_storage::preferences::AddressSuppression;
use herald_storage::Store;

use super::events::record_delivery;
use crate::writer::IngestHandle;

/// Compare-and-set attempts on a message that other writers keep changing.
const ATTEMPTS: usize = 5;

/// Record `event` for the message `message_id`: its status advanced (by compare-and-set)
/// where the lifecycle allows, the event on the timeline. False when there is no such message.
pub async fn engaged(
    store: &Arc<dyn Store>,
    ingest: &IngestHandle,
    message_id: &str,
    event: DeliveryEvent,
) -> anyhow::Result<bool> {
    for _ in 0..ATTEMPTS {
        let (s, id) = (store.clone(), message_id.to_owned());
        let Some(m) = tokio::task::spawn_blocking(move || s.message(&id)).await?? else {
            return Ok(false);
        };
        let Ok(channel) = m.channel.parse::<Channel>() else {
            return Ok(false);
        };
        let advanced = engagement_status(&m.status)
            .zip(event.status())
            .and_then(|(from, to)| from.advance(to).ok());
        if let Some(to) = advanced {
            let mut next = m.clone();
            next.status = to.name().into();
            next.updated_ms = herald_storage::clock::now_ms().max(m.updated_ms + 1);
            let (s, previous) = (store.clone(), m.clone());
            let stored =
                tokio::task::spawn_blocking(move || s.update_message(&next, &previous)).await??;
            if !stored {
                continue;
            }
        }
        record_delivery(store, ingest, &m, &event, channel).await;
        return Ok(true);
    }
    anyhow::bail!("message {message_id} kept changing while an engagement was recorded")
}

/// A provider's report about a message (herald_channels::ProviderReport, from its webhook):
/// the address suppressed when the report says so (a hard bounce, a complaint), then the
/// event recorded as [`engaged`] does. False when Herald has no such message.
pub async fn reported(
    store: &Arc<dyn Store>,
    ingest: &IngestHandle,
    report: ProviderReport,
) -> anyhow::Result<bool> {
    let (s, id) = (store.clone(), report.message_id.key());
    let Some(m) = tokio::task::spawn_blocking(move || s.message(&id)).await?? else {
        return Ok(false);
    };
    if let Some(reason) = report.suppress {
        if let Some(address) = m.address.clone().or(report.address.clone()) {
            let row = AddressSuppression {
                channel: m.channel.clone(),
                address,
                reason: reason.as_str().into(),
                message_id: Some(m.id.clone()),
                created_ms: herald_storage::clock::now_ms(),
            };
            let s = store.clone();
            tokio::task::spawn_blocking(move || s.suppress_address(&row)).await??;
        }
    }
    engaged(store, ingest, &m.id, report.event).await
}

/// The statuses after a message was handed over, which engagement moves between.
fn engagement_status(name: &str) -> Option<Status> {
    Some(match name {
        "sent" => Status::Sent,
        "delivered" => Status::Delivered,
        "opened" => Status::Opened,
        "clicked" => Status::Clicked,
        "bounced" => Status::Bounced,
        "complained" => Status::Complained,
        _ => return None,
    })
}

/// Set `mark` on a user's inbox item; the first read of an item is an `Inbox Message Read`
/// event and opens its message. `None` when the user has no such item.
pub async fn mark_inbox_item(
    store: &Arc<dyn Store>,
    ingest: &IngestHandle,
    user_id: &str,
    message_id: &str,
    mark: InboxMark,
) -> anyhow::Result<Option<InboxItem>> {
    let (s, user, id) = (store.clone(), user_id.to_owned(), message_id.to_owned());
    let now = herald_storage::clock::now_ms();
    let marked =
        tokio::task::spawn_blocking(move || s.mark_inbox_item(&user, &id, mark, now)).await??;
    let Some((item, changed)) = marked else {
        return Ok(None);
    };
    if changed && mark == InboxMark::Read {
        engaged(store, ingest, message_id, DeliveryEvent::InboxRead).await?;
    }
    Ok(Some(item))
}
