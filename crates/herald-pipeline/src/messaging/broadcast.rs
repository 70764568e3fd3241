//! The broadcast fan-out (docs/broadcasts.md): a due broadcast's audience is read in pages (in
//! profile id order, from the broadcast's cursor), and each member gets one message with a
//! deterministic id (`MessageId::derive(broadcast, id, profile, template)`), queued for when
//! it is due for them, or recorded `skipped` (`holdout`) when they are in the holdout. The
//! cursor moves by compare-and-set after the page is enqueued, so a crash or a second node
//! repeats at most a page, and enqueueing it again changes nothing. The send pipeline
//! ([`super::Sender`]) then decides and sends the messages like any other.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use herald_core::identity::ProfileId;
use herald_messaging::broadcast::{Schedule, Status};
use herald_messaging::message::{in_holdout, MessageId, SourceKind};
use herald_storage::broadcasts::BroadcastRecord;
use herald_storage::messages::MessageRecord;
use herald_storage::Store;
use tokio::sync::watch;
use uuid::Uuid;

use super::MessagingHandle;

/// Members read and enqueued per step.
pub const PAGE: usize = 1_000;
const IDLE: Duration = Duration::from_secs(1);

/// The source of a broadcast's messages.
pub fn source_of(broadcast_id: &str) -> String {
    format!("broadcast:{broadcast_id}")
}

pub struct Broadcaster {
    store: Arc<dyn Store>,
    handle: MessagingHandle,
}

impl Broadcaster {
    pub fn new(store: Arc<dyn Store>, handle: MessagingHandle) -> Broadcaster {
        Broadcaster { store, handle }
    }

    /// Fan out until shutdown: a page of every due broadcast, again at once while there is
    /// more, else after a wake-up (a broadcast created or resumed) or a second.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            let busy = match self.tick().await {
                Ok(busy) => busy,
                Err(e) => {
                    tracing::warn!(error = %e, "the broadcast fan-out could not read its broadcasts");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = self.handle.broadcasts.notified() => {}
                    _ = tokio::time::sleep(IDLE) => {}
                    _ = shutdown.changed() => return,
                }
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// One page of each due broadcast; whether any has more to do.
    pub async fn tick(&self) -> anyhow::Result<bool> {
        let now = herald_storage::clock::now();
        let store = self.store.clone();
        let due =
            tokio::task::spawn_blocking(move || store.due_broadcasts(now.timestamp_millis(), 20))
                .await??;
        let mut busy = false;
        for b in due {
            let id = b.id.clone();
            let store = self.store.clone();
            match tokio::task::spawn_blocking(move || step(&*store, b, now)).await? {
                Ok(more) => busy |= more,
                Err(e) => {
                    tracing::warn!(broadcast = %id, error = %e, "a broadcast's fan-out step failed; it is retried");
                }
            }
        }
        if busy {
            self.handle.wake();
        }
        Ok(busy)
    }
}

/// Enqueue the next page of `b`'s audience; whether there is more.
pub fn step(store: &dyn Store, b: BroadcastRecord, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let schedule = Schedule::decode(&b.schedule).ok_or_else(|| {
        anyhow::anyhow!(
            "broadcast {} has an unreadable schedule {:?}",
            b.id,
            b.schedule
        )
    })?;
    let scope = Uuid::parse_str(&b.id)?;
    let after = b.cursor.clone().map(ProfileId);
    let members = store.members(&b.audience_id, after.as_ref(), PAGE)?;
    let mut next = b.clone();
    next.updated_ms = herald_storage::clock::now_ms().max(b.updated_ms + 1);
    if members.is_empty() {
        next.status = Status::Finished.as_str().into();
        next.finished_ms = Some(now.timestamp_millis());
        store.update_broadcast(&next, b.updated_ms)?;
        return Ok(false);
    }
    let source = source_of(&b.id);
    let channel = channel_of(store, &b)?;
    let created = now.timestamp_millis();
    let mut batch = Vec::with_capacity(members.len());
    for (profile, _) in &members {
        let Ok(person) = Uuid::parse_str(profile.as_str()) else {
            continue;
        };
        let due = match schedule {
            Schedule::At(at) => at,
            Schedule::LocalTime { .. } => {
                let timezone = store
                    .profile(profile)?
                    .and_then(|p| p.state.timezone.map(|t| t.value));
                schedule.due_for(timezone.as_deref())
            }
        };
        let held_out = in_holdout(scope, person, b.holdout_percent);
        batch.push(MessageRecord {
            id: MessageId::derive(SourceKind::Broadcast, &b.id, person, &b.template_id).key(),
            profile_id: profile.as_str().to_owned(),
            partition: herald_storage::message_partition(store, profile),
            channel: channel.clone(),
            source: source.clone(),
            template_id: b.template_id.clone(),
            template_version: b.template_version,
            category: b.category.clone(),
            topic: b.topic.clone(),
            priority: b.priority.clone(),
            transactional: b.transactional,
            status: if held_out { "skipped" } else { "queued" }.into(),
            reason: held_out.then(|| "holdout".to_owned()),
            address: None,
            due_ms: due.timestamp_millis().max(created),
            decided_ms: None,
            attempts: 0,
            provider: None,
            provider_message_id: None,
            error: None,
            event: None,
            created_ms: created,
            updated_ms: created,
        });
    }
    store.enqueue_messages(&batch)?;
    next.status = Status::Running.as_str().into();
    next.cursor = members.last().map(|(p, _)| p.as_str().to_owned());
    next.enqueued = b.enqueued + members.len() as u64;
    if !store.update_broadcast(&next, b.updated_ms)? {
        // Paused or cancelled while this page was enqueued: its messages follow the
        // broadcast (another node's fan-out moving on is harmless: the page is the same).
        if let Some(now_stored) = store.broadcast(&b.id)? {
            hold_back(store, &now_stored)?;
        }
    }
    Ok(members.len() == PAGE)
}

/// A broadcast's channel: its template's.
fn channel_of(store: &dyn Store, b: &BroadcastRecord) -> anyhow::Result<String> {
    store
        .template(&b.template_id, Some(b.template_version))?
        .map(|t| t.channel)
        .ok_or_else(|| {
            anyhow::anyhow!("template {} v{} is gone", b.template_id, b.template_version)
        })
}

/// Make the broadcast's waiting messages agree with its status: held while it is paused,
/// skipped (`cancelled`) once it is cancelled, queued again once it runs. Returns how many
/// moved.
pub fn hold_back(store: &dyn Store, b: &BroadcastRecord) -> herald_storage::Result<u64> {
    let source = source_of(&b.id);
    let now = herald_storage::clock::now_ms();
    match b.status.parse::<Status>() {
        Ok(Status::Paused) => {
            store.move_messages(&source, &["queued", "deferred"], "paused", None, now)
        }
        Ok(Status::Cancelled) => store.move_messages(
            &source,
            &["queued", "deferred", "paused"],
            "skipped",
            Some("cancelled"),
            now,
        ),
        Ok(Status::Running | Status::Scheduled) => {
            store.move_messages(&source, &["paused"], "queued", None, now)
        }
        _ => Ok(0),
    }
}
