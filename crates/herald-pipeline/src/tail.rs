//! The live tail: committed events, broadcast to debugger subscribers. Lagging subscribers
//! miss events rather than slow ingest down.
//!
//! Embedded, the writer publishes each event as it commits. A cluster node's tail is fed by
//! a follower of the shared stream that runs only while someone watches; a subscriber tells
//! it where to start ([`Tail::request_from`]: the log head when it subscribed, plus one), so
//! an event committed between the subscription and the follower attaching is not lost.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use herald_core::event::Event;
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub struct TailEvent {
    pub seq: u64,
    pub event: Arc<Event>,
}

#[derive(Clone)]
pub struct Tail {
    sender: broadcast::Sender<TailEvent>,
    /// The lowest log position a subscriber asked a (not yet started) follower to start at;
    /// `u64::MAX`: none asked.
    requested: Arc<AtomicU64>,
    wake: Arc<tokio::sync::Notify>,
}

impl Tail {
    pub fn new(capacity: usize) -> Tail {
        Tail {
            sender: broadcast::channel(capacity).0,
            requested: Arc::new(AtomicU64::new(u64::MAX)),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// A subscriber wants every event from log position `seq` on: a follower that starts
    /// later must start there (or earlier).
    pub fn request_from(&self, seq: u64) {
        self.requested.fetch_min(seq, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Where a follower starting now must start, when a subscriber asked (taken: the next
    /// follower start waits for a new request).
    pub fn take_request(&self) -> Option<u64> {
        Some(self.requested.swap(u64::MAX, Ordering::SeqCst)).filter(|&s| s != u64::MAX)
    }

    /// Wait until a subscriber asks for events ([`Tail::request_from`]).
    pub async fn requested(&self) {
        self.wake.notified().await;
    }

    /// Whether anyone is watching; publishing is skipped otherwise (the normal case).
    pub fn is_watched(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    pub fn publish(&self, seq: u64, event: Arc<Event>) {
        let _ = self.sender.send(TailEvent { seq, event });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TailEvent> {
        self.sender.subscribe()
    }
}
