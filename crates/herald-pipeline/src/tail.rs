//! The live tail: committed events, broadcast to debugger subscribers. Lagging subscribers
//! miss events rather than slow ingest down.

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
}

impl Tail {
    pub fn new(capacity: usize) -> Tail {
        Tail {
            sender: broadcast::channel(capacity).0,
        }
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
