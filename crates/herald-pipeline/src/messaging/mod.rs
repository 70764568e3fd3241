//! The send pipeline (docs/messages.md): every queued message passes the send governor
//! (herald_messaging::decide) for its person, is rendered from the template version it
//! recorded, and is handed to its channel's provider (herald_channels). Each step is a
//! compare-and-set on the message's version in the store (its status and `updated_ms`), so a
//! message is decided once and handed over by one worker at a time: a worker holds a `sending`
//! message with a lease (`due_ms` moved [`LEASE_MS`] ahead), and only a lease that ran out —
//! its worker crashed — lets another worker hand it over again, with the same idempotency key
//! (the provider's, where it has one). Nothing that was not in flight is sent twice.

pub mod broadcast;
pub mod events;
mod links;
mod person;

pub use links::{LinkTarget, Links, LINK_TTL_DAYS, SECRET_NAME};
pub use person::Snippets;

use std::sync::Arc;
use std::time::Duration;

use crate::writer::IngestHandle;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use herald_channels::{Outbound, Providers, SendError};
use herald_core::identity::ProfileId;
use herald_messaging::governor::{LedgerEntry, LedgerState, Outcome};
use herald_messaging::message::{BounceKind, DeliveryEvent, MessageFacts, SourceKind};
use herald_messaging::preferences::SuppressionReason;
use herald_messaging::preferences::Topics;
use herald_messaging::template::{context, Content, Target};
use herald_messaging::{decide, AddressRules, Candidate, Category, Channel, Policy, Priority};
use herald_storage::messages::MessageRecord;
use herald_storage::preferences::AddressSuppression;
use herald_storage::Store;
use tokio::sync::{watch, Notify};

/// What the send pipeline and the API both read: the topic catalog, how addresses are read
/// from traits, and the signed links in messages.
pub struct Settings {
    pub topics: Topics,
    pub address_rules: AddressRules,
    pub links: Links,
}

/// The API's side of the pipeline: wakes the sender when a message is queued and the
/// broadcast fan-out when a broadcast starts (otherwise each looks every second), and shares
/// their [`Settings`].
#[derive(Clone)]
pub struct MessagingHandle {
    notify: Arc<Notify>,
    broadcasts: Arc<Notify>,
    pub settings: Arc<Settings>,
}

impl MessagingHandle {
    pub fn new(settings: Arc<Settings>) -> MessagingHandle {
        MessagingHandle {
            notify: Arc::default(),
            broadcasts: Arc::default(),
            settings,
        }
    }

    /// A message was queued: the sender looks now.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// A broadcast was created or resumed: the fan-out looks now.
    pub fn wake_broadcasts(&self) {
        self.broadcasts.notify_one();
    }
}

/// What the sender needs besides the store and the [`Settings`].
pub struct SenderConfig {
    pub providers: Providers,
    pub policy: Policy,
}

/// Statuses the sender picks up.
const PENDING: [&str; 3] = ["queued", "deferred", "sending"];
/// Handing over is tried this many times in all, with these waits between.
const BACKOFF_SECS: [i64; 5] = [5, 30, 120, 600, 3600];
const BATCH: usize = 200;
/// Messages handed over at once (of different people: one person's go in order). A
/// provider's round trip is tens of milliseconds, so one at a time would cap a node at a few
/// dozen messages a second; at a crash, at most this many are in flight.
pub const SEND_CONCURRENCY: usize = 16;
/// How long a worker holds a message it hands over: longer than any provider's timeout.
pub const LEASE_MS: i64 = 120_000;
const IDLE: Duration = Duration::from_secs(1);

pub struct Sender {
    store: Arc<dyn Store>,
    config: SenderConfig,
    handle: MessagingHandle,
    settings: Arc<Settings>,
    /// Where delivery events go: the log, like ingested events.
    ingest: IngestHandle,
}

impl Sender {
    pub fn new(
        store: Arc<dyn Store>,
        config: SenderConfig,
        handle: MessagingHandle,
        ingest: IngestHandle,
    ) -> Sender {
        Sender {
            store,
            config,
            settings: handle.settings.clone(),
            handle,
            ingest,
        }
    }

    /// Send until shutdown: every due message, then wait for a wake-up or a second.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.tick().await {
                Ok(n) if n >= BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the send pipeline could not read its queue"),
            }
            tokio::select! {
                _ = self.handle.notify.notified() => {}
                _ = tokio::time::sleep(IDLE) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// One pass over the due messages: each person's in due order, up to
    /// [`SEND_CONCURRENCY`] people at once.
    pub async fn tick(&self) -> anyhow::Result<usize> {
        let now = herald_storage::clock::now();
        let store = self.store.clone();
        let due = tokio::task::spawn_blocking(move || {
            store.due_messages(&PENDING, None, now.timestamp_millis(), BATCH)
        })
        .await??;
        let n = due.len();
        let mut people: Vec<Vec<MessageRecord>> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for m in due {
            let i = *index.entry(m.profile_id.clone()).or_insert_with(|| {
                people.push(Vec::new());
                people.len() - 1
            });
            people[i].push(m);
        }
        futures_util::stream::iter(people)
            .for_each_concurrent(SEND_CONCURRENCY, |messages| async move {
                for m in messages {
                    let id = m.id.clone();
                    if let Err(e) = self.process(m, now).await {
                        tracing::warn!(message = %id, error = %e, "a message could not be processed; it stays queued");
                    }
                }
            })
            .await;
        Ok(n)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> herald_storage::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let store = self.store.clone();
        Ok(tokio::task::spawn_blocking(move || f(&*store)).await??)
    }

    async fn process(&self, m: MessageRecord, now: DateTime<Utc>) -> anyhow::Result<()> {
        if m.status == "sending" {
            // Handed over before and not finished: a retry, or a worker that crashed.
            let mut held = m.clone();
            held.due_ms = now.timestamp_millis() + LEASE_MS;
            return match self.swap(held, &m).await? {
                Some(held) => self.deliver(held, now).await,
                None => Ok(()),
            };
        }
        let profile = m.profile_id.clone();
        let person = self.blocking(move |s| person::load(s, &profile)).await?;
        let Some(person) = person else {
            return self
                .finish(m, "skipped", Some("profile_deleted"), None, now)
                .await;
        };
        let Ok(channel) = m.channel.parse::<Channel>() else {
            return self
                .finish(m, "failed", Some("unknown_channel"), None, now)
                .await;
        };
        let Ok(category) = Category::parse(&m.category) else {
            return self
                .finish(m, "failed", Some("invalid_category"), None, now)
                .await;
        };
        let candidate = Candidate {
            key: m.id.clone(),
            channel,
            category,
            topic: m.topic.clone(),
            transactional: m.transactional,
            priority: m.priority.parse::<Priority>().unwrap_or_default(),
            holdout: false,
        };
        let since = now - self.config.policy.horizon();
        let profile = m.profile_id.clone();
        let ledger = self
            .blocking(move |s| s.ledger(&profile, since.timestamp_millis()))
            .await?;
        let entries: Vec<LedgerEntry> = ledger.iter().filter_map(ledger_entry).collect();
        let address = person.address(channel, &self.settings.address_rules);
        let consent = match address.clone() {
            Some(address) => {
                self.blocking(move |s| person::Consent::load(s, channel, &address))
                    .await?
            }
            None => person::Consent::default(),
        };
        let decision = decide(
            &self.config.policy,
            &self.settings.topics,
            &candidate,
            &consent.state(address.as_ref(), person.timezone()),
            &entries,
            now,
        );
        let reason = decision.reason.as_str();
        match decision.outcome {
            Outcome::Skip => self.finish(m, "skipped", Some(reason), None, now).await,
            Outcome::Defer { until } => {
                let mut next = m.clone();
                next.status = "deferred".into();
                next.reason = Some(reason.into());
                next.due_ms = until.timestamp_millis();
                self.swap(next, &m).await.map(|_| ())
            }
            Outcome::Send { to } => {
                let mut next = m.clone();
                next.status = "sending".into();
                next.reason = None;
                // One address per message: a push message goes to the person's first live token.
                next.address = to.suppression_keys().first().map(|a| (*a).to_owned());
                next.decided_ms = Some(now.timestamp_millis());
                next.due_ms = now.timestamp_millis() + LEASE_MS;
                if let Some(next) = self.swap(next, &m).await? {
                    self.deliver(next, now).await?;
                }
                Ok(())
            }
        }
    }

    /// Render the recorded template version and hand the message to its provider.
    async fn deliver(&self, m: MessageRecord, now: DateTime<Utc>) -> anyhow::Result<()> {
        let Ok(channel) = m.channel.parse::<Channel>() else {
            return self
                .finish(m, "failed", Some("unknown_channel"), None, now)
                .await;
        };
        let Some(provider) = self.config.providers.get(channel).cloned() else {
            return self
                .finish(m, "failed", Some("channel_not_configured"), None, now)
                .await;
        };
        let links = self.links_of(&m, channel, now);
        let parts = match self.render(&m, &links).await? {
            Ok(parts) => parts,
            Err((code, message)) => {
                return self
                    .finish(m, "failed", Some(code), Some(message), now)
                    .await
            }
        };
        let outbound = Outbound {
            message_id: m
                .id
                .parse()
                .map_err(|e| anyhow::anyhow!("message id {}: {e}", m.id))?,
            channel,
            to: m.address.clone().unwrap_or_default(),
            parts,
            marketing: !m.transactional,
            unsubscribe_url: links.unsubscribe.clone(),
            metadata: serde_json::json!({
                "profile_id": m.profile_id,
                "template_id": m.template_id,
                "template_version": m.template_version,
                "source": m.source,
            }),
        };
        let attempt = provider.send(&outbound).await;
        let mut next = m.clone();
        next.attempts = m.attempts + 1;
        let after = herald_storage::clock::now_ms();
        match attempt {
            Ok(receipt) => {
                next.status = "sent".into();
                next.provider = Some(receipt.provider.to_owned());
                next.provider_message_id = receipt.provider_message_id;
                next.error = None;
                self.record(&m, DeliveryEvent::Sent, channel).await;
            }
            Err(e) if e.suppresses() => {
                // The address is dead (a hard bounce, an invalid number or token): the
                // message bounced, and nothing more goes to the address on this channel.
                next.status = "bounced".into();
                next.reason = Some(e.code().into());
                next.error = Some(e.to_string());
                self.suppress(&m, channel).await?;
                let bounce = DeliveryEvent::Bounced {
                    kind: BounceKind::Hard,
                    detail: Some(e.to_string()),
                };
                self.record(&m, bounce, channel).await;
            }
            Err(e @ SendError::Transient { .. }) if (m.attempts as usize) < BACKOFF_SECS.len() => {
                let wait = match &e {
                    SendError::Transient {
                        retry_after: Some(d),
                        ..
                    } => d.as_secs() as i64,
                    _ => BACKOFF_SECS[m.attempts as usize],
                };
                next.error = Some(e.to_string());
                next.reason = Some("retrying".into());
                next.due_ms = after + wait.max(1) * 1000;
            }
            Err(e) => {
                next.status = "failed".into();
                next.reason = Some(
                    if e.is_transient() {
                        "retries_exhausted"
                    } else {
                        e.code()
                    }
                    .into(),
                );
                next.error = Some(e.to_string());
            }
        }
        self.swap(next, &m).await.map(|_| ())
    }

    /// The message's parts rendered, or the template error's code and message.
    /// Put a delivery event on the person's timeline. Its message id is derived from the
    /// message and the event, so recording it again (a step retried after a crash) is a
    /// duplicate the log drops. A failure is logged: the message's own status is the record.
    async fn record(&self, m: &MessageRecord, event: DeliveryEvent, channel: Channel) {
        let Some(facts) = facts_of(m, channel) else {
            return;
        };
        let profile = ProfileId(m.profile_id.clone());
        let record = match self.blocking(move |s| s.profile(&profile)).await {
            Ok(Some(record)) => record,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(message = %m.id, error = %e, "a delivery event was not recorded");
                return;
            }
        };
        let id = format!("{}:{}", m.id, event.name());
        let now = herald_storage::clock::now();
        let Some(incoming) =
            events::track(&record, event.name(), event.properties(&facts), &id, now)
        else {
            return;
        };
        if let Err(e) = self.ingest.submit(vec![incoming]).await {
            tracing::warn!(message = %m.id, error = ?e, "a delivery event was not recorded");
        }
    }

    /// Suppress the address a message bounced from.
    async fn suppress(&self, m: &MessageRecord, channel: Channel) -> anyhow::Result<()> {
        let reason = match channel {
            Channel::Email => SuppressionReason::HardBounce,
            Channel::Sms => SuppressionReason::InvalidNumber,
            Channel::Push => SuppressionReason::InvalidToken,
            Channel::Webhook | Channel::InApp => return Ok(()),
        };
        let Some(address) = m.address.clone() else {
            return Ok(());
        };
        let row = AddressSuppression {
            channel: channel.as_str().into(),
            address,
            reason: reason.as_str().into(),
            message_id: Some(m.id.clone()),
            created_ms: herald_storage::clock::now_ms(),
        };
        self.blocking(move |s| s.suppress_address(&row)).await?;
        Ok(())
    }

    /// The signed links of a message to its address (none without an address).
    fn links_of(&self, m: &MessageRecord, channel: Channel, now: DateTime<Utc>) -> MessageLinks {
        let Some(address) = m.address.as_deref() else {
            return MessageLinks::default();
        };
        let target = LinkTarget {
            profile_id: &m.profile_id,
            channel,
            topic: m.topic.as_deref(),
            address,
        };
        let links = &self.settings.links;
        MessageLinks {
            unsubscribe: links.unsubscribe_url(&target, now),
            preferences: links.preferences_url(&target, now),
        }
    }

    async fn render(
        &self,
        m: &MessageRecord,
        links: &MessageLinks,
    ) -> anyhow::Result<Result<std::collections::BTreeMap<String, String>, (&'static str, String)>>
    {
        let (template, version, profile) = (
            m.template_id.clone(),
            m.template_version,
            m.profile_id.clone(),
        );
        let (stored, person) = self
            .blocking(move |s| {
                Ok((
                    s.template(&template, Some(version))?,
                    person::load(s, &profile)?,
                ))
            })
            .await?;
        let Some(stored) = stored else {
            return Ok(Err((
                "template_not_found",
                format!("template {} v{} is gone", m.template_id, m.template_version),
            )));
        };
        let content: Content = match serde_json::from_value(stored.content) {
            Ok(c) => c,
            Err(e) => return Ok(Err(("template_invalid", e.to_string()))),
        };
        let Some(target) = Target::parse(&stored.channel) else {
            return Ok(Err((
                "template_invalid",
                format!("channel {}", stored.channel),
            )));
        };
        let event: Option<serde_json::Value> = m
            .event
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok());
        let ctx = context(
            person.as_ref().map(|p| &p.template),
            event.as_ref(),
            serde_json::json!({
                "id": m.id,
                "unsubscribe_url": links.unsubscribe,
                "preferences_url": links.preferences,
            }),
        );
        let store = self.store.clone();
        let rendered = tokio::task::spawn_blocking(move || {
            let loader = person::Snippets(&*store);
            content
                .check(target)
                .and_then(|c| c.render(&ctx, &loader, herald_storage::clock::now()))
        })
        .await?;
        Ok(rendered
            .map(|r| {
                r.parts
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect()
            })
            .map_err(|e| (e.code, e.to_string())))
    }

    async fn finish(
        &self,
        m: MessageRecord,
        status: &str,
        reason: Option<&str>,
        error: Option<String>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut next = m.clone();
        next.status = status.into();
        next.reason = reason.map(str::to_owned);
        next.error = error;
        next.due_ms = now.timestamp_millis();
        self.swap(next, &m).await.map(|_| ())
    }

    /// Store `next` if the message is still as `previous` was read, stamped later than it:
    /// the version stored, or `None` when another worker changed the message first.
    async fn swap(
        &self,
        mut next: MessageRecord,
        previous: &MessageRecord,
    ) -> anyhow::Result<Option<MessageRecord>> {
        next.updated_ms = herald_storage::clock::now_ms().max(previous.updated_ms + 1);
        let previous = previous.clone();
        self.blocking(move |s| Ok(s.update_message(&next, &previous)?.then_some(next)))
            .await
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

/// A message's signed links, also in its template's `message` context.
#[derive(Default)]
struct MessageLinks {
    unsubscribe: Option<String>,
    preferences: Option<String>,
}

/// A stored message as a ledger entry: everything the governor let through counts.
fn ledger_entry(m: &MessageRecord) -> Option<LedgerEntry> {
    let at = DateTime::from_timestamp_millis(m.decided_ms?)?;
    if !matches!(
        m.status.as_str(),
        "sending" | "sent" | "delivered" | "opened" | "clicked"
    ) {
        return None;
    }
    Some(LedgerEntry {
        key: m.id.clone(),
        at,
        channel: m.channel.parse().ok()?,
        category: Category::parse(&m.category).ok()?,
        priority: m.priority.parse().unwrap_or_default(),
        transactional: m.transactional,
        state: LedgerState::Sent,
    })
}
