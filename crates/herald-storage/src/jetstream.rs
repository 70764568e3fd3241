//! [`EventLog`] on a NATS JetStream stream: the cluster's durable log.
//!
//! One stream per Herald cluster (`HERALD_<NAME>`, subject `herald.<name>.events`), file
//! storage, kept until deleted. A publish is acknowledged by JetStream only once the stream
//! has stored it (on a quorum of replicas when the stream is replicated), so ingest answers
//! 200 only after that acknowledgment. Stream sequence numbers are the log positions: they are
//! never reused, and deleted messages leave gaps, as in the embedded log. `messageId` is sent as
//! `Nats-Msg-Id`, so JetStream itself drops retries within the stream's duplicate window, on
//! whichever node they arrive.
//!
//! After each append the node also publishes the new head on the plain NATS subject
//! `herald.<name>.head` ([`JetStreamLog::watch_head`]): the processing node wakes on it as soon
//! as another node appends. It is only a hint (core NATS delivers at most once); the processing
//! node's own poll of the stream head covers a lost one.
//!
//! The [`EventLog`] trait is synchronous (it is called from the ingest writer and processor
//! threads); calls are driven on the Tokio runtime the log was connected on.

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use bytes::Bytes;
use futures_util::future::join_all;
use futures_util::StreamExt;
use herald_core::event::Event;
use tokio::runtime::Handle;

use crate::{decode, AppendOutcome, EncodedEvent, EventLog, LogRead, Result, StorageError};

/// Publishes in flight at once per append; acknowledgments are awaited per window.
const PUBLISH_WINDOW: usize = 1024;
/// Direct reads in flight at once.
const READ_WINDOW: usize = 512;

#[derive(Debug, Clone)]
pub struct JetStreamConfig {
    /// `nats://host:port` (several, comma-separated, for a NATS cluster).
    pub url: String,
    /// Names the stream and subject, so that several Herald clusters (or tests) share a NATS.
    pub name: String,
    /// How long JetStream remembers a `messageId` to drop retries.
    pub duplicate_window: Duration,
    /// Stream replicas (3 on a production NATS cluster; 1 on a single server).
    pub replicas: usize,
}

pub struct JetStreamLog {
    handle: Handle,
    client: async_nats::Client,
    js: jetstream::Context,
    stream: stream::Stream,
    subject: String,
    /// Where appends announce the new head (not captured by the stream).
    head_subject: String,
    /// Where the sequencer and partitions announce that they applied work (a hint that a
    /// partition may have work, or that one waiting for another may go on).
    progress_subject: String,
}

/// Failures talking to JetStream (timeouts, no responders, lost connection) are
/// availability problems: the caller may retry.
/// JetStream out of storage (`insufficient resources`, error code 10023, or `insufficient
/// storage resources available`, 10047) is a full disk: retrying succeeds once space is freed.
fn bus_err(e: impl std::fmt::Display) -> StorageError {
    let message = format!("jetstream: {e}");
    let lower = message.to_ascii_lowercase();
    if lower.contains("insufficient") || lower.contains("resources exceeded") {
        StorageError::Full(message)
    } else {
        StorageError::Unavailable(message)
    }
}

/// Stream and subject names for a cluster name: letters, digits, `-` and `_` only.
pub fn stream_names(name: &str) -> Result<(String, String)> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(StorageError::Database(format!(
            "cluster name {name:?} must be non-empty letters, digits, '-' or '_'"
        )));
    }
    Ok((
        format!("HERALD_{}", name.to_uppercase()),
        format!("herald.{name}.events"),
    ))
}

impl JetStreamLog {
    /// Connect and create the stream if it does not exist (idempotent, safe from several
    /// nodes at once). Must be called outside the runtime's worker threads.
    pub fn connect(handle: Handle, config: &JetStreamConfig) -> Result<JetStreamLog> {
        let (stream_name, subject) = stream_names(&config.name)?;
        handle.clone().block_on(async move {
            let client = async_nats::ConnectOptions::new()
                .name("herald")
                .connect(config.url.as_str())
                .await
                .map_err(|e| bus_err(format!("connecting to {}: {e}", config.url)))?;
            let js = jetstream::ContextBuilder::new()
                .timeout(Duration::from_secs(10))
                .build(client.clone());
            let stream_config = stream::Config {
                name: stream_name,
                subjects: vec![subject.clone()],
                storage: stream::StorageType::File,
                duplicate_window: config.duplicate_window,
                num_replicas: config.replicas,
                allow_direct: true,
                max_message_size: 256 * 1024,
                description: Some("Herald event log".into()),
                ..Default::default()
            };
            // A NATS server (seen with 2.9) removes an account's stream directory when its
            // last stream is deleted; a stream created at that moment fails with "error
            // creating store for stream" (10049). The next attempt finds the directory made.
            let mut attempt = 0;
            let stream = loop {
                match js.get_or_create_stream(stream_config.clone()).await {
                    Ok(stream) => break stream,
                    Err(e) if attempt < 5 && e.to_string().contains("error creating store") => {
                        attempt += 1;
                        tracing::warn!(error = %e, attempt, "creating the stream failed; retrying");
                        tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                    }
                    Err(e) => return Err(bus_err(e)),
                }
            };
            Ok(JetStreamLog {
                handle,
                client,
                js,
                stream,
                subject,
                head_subject: format!("herald.{}.head", config.name),
                progress_subject: format!("herald.{}.progress", config.name),
            })
        })
    }

    async fn head_async(&self) -> Result<u64> {
        Ok(self
            .stream
            .get_info()
            .await
            .map_err(bus_err)?
            .state
            .last_sequence)
    }

    /// The events at these positions (missing ones skipped), each read back or not.
    async fn get(&self, seqs: impl Iterator<Item = u64>, out: &mut LogRead) -> Result<()> {
        let results = join_all(seqs.map(|s| self.stream.direct_get(s))).await;
        for r in results {
            match r {
                Ok(m) => out.push(m.sequence, decode(&m.payload)),
                Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => {}
                Err(e) => return Err(bus_err(e)),
            }
        }
        Ok(())
    }

    /// Events from log position `from` on, as they arrive (the live tail of a cluster node).
    pub fn follow(
        &self,
        from: u64,
    ) -> Result<futures_util::stream::BoxStream<'static, Result<(u64, Event)>>> {
        let stream = self.stream.clone();
        let inbox = self.client.new_inbox();
        let messages = self.handle.block_on(async move {
            let consumer = stream
                .create_consumer(jetstream::consumer::push::OrderedConfig {
                    deliver_subject: inbox,
                    deliver_policy: jetstream::consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: from.max(1),
                    },
                    ..Default::default()
                })
                .await
                .map_err(bus_err)?;
            consumer.messages().await.map_err(bus_err)
        })?;
        Ok(messages
            .map(|m| {
                let m = m.map_err(bus_err)?;
                let seq = m.info().map_err(bus_err)?.stream_sequence;
                let event = decode(&m.payload)
                    .map_err(|e| StorageError::Corrupt(format!("event {seq}: {e}")))?;
                Ok((seq, event))
            })
            .boxed())
    }

    /// Log heads announced by the appends of every node, as they happen (at most once each:
    /// a hint to wake up, not a record).
    pub fn watch_head(&self) -> Result<futures_util::stream::BoxStream<'static, u64>> {
        Ok(self
            .subscribe(self.head_subject.clone())?
            .filter_map(|m| {
                let head = m.payload.as_ref().try_into().ok().map(u64::from_le_bytes);
                std::future::ready(head)
            })
            .boxed())
    }

    /// Progress announced by the sequencer and partitions of every node (at most once each).
    pub fn watch_progress(&self) -> Result<futures_util::stream::BoxStream<'static, ()>> {
        Ok(self
            .subscribe(self.progress_subject.clone())?
            .map(|_| ())
            .boxed())
    }

    /// Announce that routed work was added or applied, off the caller's path.
    pub fn announce_progress(&self) {
        self.publish(self.progress_subject.clone(), Bytes::new());
    }

    fn subscribe(&self, subject: String) -> Result<async_nats::Subscriber> {
        let client = self.client.clone();
        self.handle.block_on(async move {
            let subscriber = client.subscribe(subject).await.map_err(bus_err)?;
            // Once the server answers the flush it has the subscription: no later head is missed.
            client.flush().await.map_err(bus_err)?;
            Ok::<_, StorageError>(subscriber)
        })
    }

    /// Publish a new head on `herald.<name>.head`, off the acknowledgment's path. A hint only:
    /// the processing node polls the head as well, so a lost or failed announcement delays
    /// processing, never loses an event. The flush makes the client send it now rather than
    /// with its next write.
    fn announce(&self, head: u64) {
        self.publish(
            self.head_subject.clone(),
            Bytes::copy_from_slice(&head.to_le_bytes()),
        );
    }

    fn publish(&self, subject: String, payload: Bytes) {
        let client = self.client.clone();
        self.handle.spawn(async move {
            let sent = match client.publish(subject, payload).await {
                Ok(()) => client.flush().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = sent {
                tracing::debug!(error = %e, "could not publish an announcement");
            }
        });
    }

    pub fn ping(&self) -> Result<()> {
        self.handle.block_on(self.head_async()).map(|_| ())
    }
}

impl EventLog for JetStreamLog {
    fn append(&self, events: &[EncodedEvent]) -> Result<AppendOutcome> {
        self.handle.block_on(async {
            let mut out = AppendOutcome {
                positions: Vec::with_capacity(events.len()),
                ..AppendOutcome::default()
            };
            for window in events.chunks(PUBLISH_WINDOW) {
                let mut acks = Vec::with_capacity(window.len());
                for e in window {
                    let publish = PublishMessage::build()
                        .payload(Bytes::copy_from_slice(e.json.as_bytes()))
                        .message_id(&e.message_id);
                    acks.push(
                        self.js
                            .send_publish(self.subject.clone(), publish)
                            .await
                            .map_err(bus_err)?,
                    );
                }
                for ack in join_all(acks.into_iter().map(|a| async move { a.await })).await {
                    let ack = ack.map_err(bus_err)?;
                    out.head = out.head.max(ack.sequence);
                    if ack.duplicate {
                        out.duplicates += 1;
                        out.positions.push(None);
                    } else {
                        out.appended += 1;
                        out.positions.push(Some(ack.sequence));
                    }
                }
            }
            if out.appended > 0 {
                self.announce(out.head);
            }
            Ok(out)
        })
    }

    fn read_after(&self, after: u64, limit: usize) -> Result<LogRead> {
        self.handle.block_on(async {
            let head = self.head_async().await?;
            let mut out = LogRead::default();
            let mut from = after + 1;
            let found = |out: &LogRead| out.events.len() + out.unreadable.len();
            // Skip over deleted stretches until something is found or the head is reached.
            while found(&out) < limit && from <= head {
                let to = head.min(from + (limit - found(&out)).min(READ_WINDOW) as u64 - 1);
                self.get(from..=to, &mut out).await?;
                from = to + 1;
            }
            Ok(out)
        })
    }

    fn stored_text(&self, seq: u64) -> Result<Option<String>> {
        self.handle.block_on(async {
            match self.stream.direct_get(seq).await {
                Ok(m) => Ok(Some(String::from_utf8_lossy(&m.payload).into_owned())),
                Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => Ok(None),
                Err(e) => Err(bus_err(e)),
            }
        })
    }

    fn load(&self, seqs: &[u64]) -> Result<Vec<(u64, Event)>> {
        let mut sorted = seqs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        self.handle.block_on(async {
            let mut out = LogRead::default();
            for chunk in sorted.chunks(READ_WINDOW) {
                self.get(chunk.iter().copied(), &mut out).await?;
            }
            match out.unreadable.first() {
                Some(u) => Err(StorageError::Corrupt(format!(
                    "event {}: {}",
                    u.seq, u.reason
                ))),
                None => Ok(out.events),
            }
        })
    }

    fn delete(&self, seqs: &[u64]) -> Result<()> {
        self.handle.block_on(async {
            for result in join_all(seqs.iter().map(|s| self.stream.delete_message(*s))).await {
                match result {
                    Ok(_) => {}
                    Err(e) => match e.kind() {
                        // Gone already (a deletion finished again after a crash between
                        // deleting and confirming): the server says so with one of these.
                        stream::DeleteMessageErrorKind::JetStream(js)
                            if [
                                jetstream::ErrorCode::NO_MESSAGE_FOUND,
                                jetstream::ErrorCode::SEQUENCE_NOT_FOUND,
                                jetstream::ErrorCode::STREAM_MESSAGE_DELETE_FAILED,
                            ]
                            .contains(&js.error_code()) => {}
                        _ => return Err(bus_err(e)),
                    },
                }
            }
            Ok(())
        })
    }

    fn head(&self) -> Result<u64> {
        self.handle.block_on(self.head_async())
    }
}
