//! The ingest writer: group commit on one thread.
//!
//! Each HTTP request hands its validated events to [`IngestHandle::submit`] and waits. The
//! writer thread takes every request queued since its last commit (up to `max_batch_events`),
//! appends them all in one durable transaction, and then answers each request. Many requests
//! share one fsync, which is where the throughput comes from. When the queue is full the
//! request is refused with [`SubmitError::Overloaded`] (HTTP 429), never dropped silently.

use std::sync::mpsc::{self, RecvTimeoutError, TrySendError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use herald_core::event::{Event, Incoming};
use herald_storage::{AppendOutcome, EncodedEvent, EventLog, StorageError};
use tokio::sync::oneshot;

use crate::notify::LogNotifier;
use crate::quarantine::StorageFull;
use crate::tail::Tail;

#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Requests that may wait for a commit before new ones are refused.
    pub queue_requests: usize,
    /// Events committed together at most.
    pub max_batch_events: usize,
    /// After this long without a request the log is told to let go of what it can rebuild
    /// ([`EventLog::quiesce`]).
    pub quiet_after: Duration,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            queue_requests: 1024,
            max_batch_events: 20_000,
            quiet_after: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("ingest queue is full")]
    Overloaded,
    #[error("ingest writer has stopped")]
    Stopped,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

struct Request {
    events: Vec<EncodedEvent>,
    /// Each event's log position, `None` for a duplicate.
    reply: oneshot::Sender<Result<Vec<Option<u64>>, Arc<StorageError>>>,
}

/// What one request's events became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub appended: usize,
    pub duplicates: usize,
}

#[derive(Clone)]
pub struct IngestHandle {
    queue: mpsc::SyncSender<Request>,
    /// The live tail this handle feeds, when committed events reach it from here (embedded);
    /// `None` when the tail is fed from elsewhere (a cluster's stream).
    tail: Option<Tail>,
    /// Whether the log refuses appends because its storage is full.
    full: Arc<StorageFull>,
}

impl IngestHandle {
    /// Since when appends have found the log's storage full, if they do (cleared by the next
    /// successful commit).
    pub fn storage_full_since_ms(&self) -> Option<i64> {
        self.full.since_ms()
    }

    /// Append `events` durably; returns once they are committed. Encoding and the tail happen
    /// here, on the caller's task, so the one writer thread only commits.
    pub async fn submit(&self, events: Vec<Incoming>) -> Result<Submitted, SubmitError> {
        let count = events.len();
        let watched = self.tail.as_ref().filter(|t| t.is_watched());
        // Accepted events always read back (`Incoming::to_event`); one that did not would be
        // quarantined by the processor, and the tail leaves it out.
        let for_tail: Vec<Option<Event>> = match watched {
            Some(_) => events.iter().map(|e| e.to_event().ok()).collect(),
            None => Vec::new(),
        };
        let encoded: Vec<EncodedEvent> = events.into_iter().map(EncodedEvent::from).collect();
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Request {
                events: encoded,
                reply,
            })
            .map_err(|e| match e {
                TrySendError::Full(_) => SubmitError::Overloaded,
                TrySendError::Disconnected(_) => SubmitError::Stopped,
            })?;
        let positions = match answer.await {
            Ok(Ok(positions)) => positions,
            // Keep the kind: an unreachable bus must answer 503, not 500.
            Ok(Err(e)) => return Err(SubmitError::Storage((*e).clone())),
            Err(_) => return Err(SubmitError::Stopped),
        };
        let appended = positions.iter().filter(|p| p.is_some()).count();
        let submitted = Submitted {
            appended,
            duplicates: count - appended,
        };
        if let Some(tail) = watched {
            for (event, position) in for_tail.into_iter().zip(positions) {
                if let (Some(event), Some(seq)) = (event, position) {
                    tail.publish(seq, Arc::new(event));
                }
            }
        }
        Ok(submitted)
    }
}

/// Start the writer thread. It stops when every [`IngestHandle`] is dropped, after committing
/// what was queued.
pub fn spawn(
    log: Arc<dyn EventLog>,
    notifier: Arc<LogNotifier>,
    tail: Option<Tail>,
    config: WriterConfig,
) -> (IngestHandle, thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::sync_channel(config.queue_requests);
    let full = Arc::new(StorageFull::default());
    let writer_full = full.clone();
    let join = thread::Builder::new()
        .name("herald-ingest-writer".into())
        .spawn(move || run(rx, log, notifier, &writer_full, config))
        .expect("spawn ingest writer thread");
    (
        IngestHandle {
            queue: tx,
            tail,
            full,
        },
        join,
    )
}

fn run(
    rx: mpsc::Receiver<Request>,
    log: Arc<dyn EventLog>,
    notifier: Arc<LogNotifier>,
    full: &StorageFull,
    config: WriterConfig,
) {
    let mut quiet = false;
    loop {
        let next = if quiet {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(config.quiet_after)
        };
        let first = match next {
            Ok(request) => request,
            Err(RecvTimeoutError::Timeout) => {
                quiet = true;
                if let Err(e) = log.quiesce() {
                    tracing::warn!(error = %e, "could not release the log's memory");
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        quiet = false;
        let mut group = vec![first];
        let mut events = group[0].events.len();
        while events < config.max_batch_events {
            match rx.try_recv() {
                Ok(next) => {
                    events += next.events.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        commit_group(group, &*log, &notifier, full);
    }
}

fn commit_group(
    group: Vec<Request>,
    log: &dyn EventLog,
    notifier: &LogNotifier,
    full: &StorageFull,
) {
    let started = Instant::now();
    let mut all: Vec<EncodedEvent> = Vec::with_capacity(group.iter().map(|r| r.events.len()).sum());
    let mut replies = Vec::with_capacity(group.len());
    for request in group {
        replies.push((request.reply, request.events.len()));
        all.extend(request.events);
    }
    let result: Result<AppendOutcome, StorageError> = log.append(&all);
    metrics::histogram!("herald_ingest_commit_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("herald_ingest_commit_events").record(all.len() as f64);
    match result {
        Ok(outcome) => {
            full.cleared();
            notifier.advance(outcome.head);
            metrics::counter!("herald_events_stored_total").increment(outcome.appended as u64);
            metrics::counter!("herald_events_duplicate_total").increment(outcome.duplicates as u64);
            let mut positions = outcome.positions.into_iter();
            for (reply, size) in replies {
                let _ = reply.send(Ok(positions.by_ref().take(size).collect()));
            }
        }
        Err(e) => {
            if e.is_full() {
                // Logged once when it starts (`StorageFull::refused`), not per commit.
                let now = chrono::Utc::now().timestamp_millis();
                for _ in &replies {
                    full.refused(now, "ingest");
                }
            } else {
                tracing::error!(error = %e, events = all.len(), "ingest commit failed");
            }
            let e = Arc::new(e);
            for (reply, _) in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::event::EventType;

    /// A log whose bus is down.
    struct Unreachable;

    impl EventLog for Unreachable {
        fn append(&self, _: &[EncodedEvent]) -> Result<AppendOutcome, StorageError> {
            Err(StorageError::Unavailable("bus down".into()))
        }
        fn read_after(&self, _: u64, _: usize) -> Result<herald_storage::LogRead, StorageError> {
            Ok(herald_storage::LogRead::default())
        }
        fn stored_text(&self, _: u64) -> Result<Option<String>, StorageError> {
            Ok(None)
        }
        fn load(&self, _: &[u64]) -> Result<Vec<(u64, Event)>, StorageError> {
            Ok(vec![])
        }
        fn delete(&self, _: &[u64]) -> Result<(), StorageError> {
            Ok(())
        }
        fn head(&self) -> Result<u64, StorageError> {
            Ok(0)
        }
    }

    #[tokio::test]
    async fn a_failed_commit_keeps_its_kind_of_error() {
        let (ingest, _join) = spawn(
            Arc::new(Unreachable),
            Arc::default(),
            None,
            WriterConfig::default(),
        );
        let event = Incoming {
            message_id: "m".into(),
            event_type: EventType::Track,
            received_at: herald_storage::clock::now(),
            json: r#"{"type":"track","event":"E","userId":"u","messageId":"m"}"#.into(),
        };
        match ingest.submit(vec![event]).await {
            Err(SubmitError::Storage(StorageError::Unavailable(what))) => {
                assert_eq!(what, "bus down")
            }
            other => panic!("expected an unavailable storage error, got {other:?}"),
        }
    }
}
