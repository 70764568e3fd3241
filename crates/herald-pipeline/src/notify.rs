//! Wakes the processor when the log grows or a command arrives, without polling.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    head: u64,
    pokes: u64,
    /// When the head last moved: how the processor tells that ingest is still flowing.
    advanced_at: Option<Instant>,
}

#[derive(Default)]
pub struct LogNotifier {
    state: Mutex<State>,
    changed: Condvar,
}

impl LogNotifier {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn advance(&self, head: u64) {
        let mut s = self.lock();
        if head > s.head {
            s.head = head;
            s.advanced_at = Some(Instant::now());
        }
        self.changed.notify_all();
    }

    /// Wake the waiter even though the log did not grow (a command, or shutdown).
    pub fn poke(&self) {
        self.lock().pokes += 1;
        self.changed.notify_all();
    }

    /// Wait until the head passes `seen`, a poke, or `timeout`; returns the head.
    pub fn wait_past(&self, seen: u64, timeout: Duration) -> u64 {
        let s = self.lock();
        let pokes = s.pokes;
        let (s, _) = self
            .changed
            .wait_timeout_while(s, timeout, |s| s.head <= seen && s.pokes == pokes)
            .unwrap_or_else(|p| p.into_inner());
        s.head
    }

    pub fn head(&self) -> u64 {
        self.lock().head
    }

    /// How long ago the head last moved; `None` if it never did.
    pub fn since_advance(&self) -> Option<Duration> {
        self.lock().advanced_at.map(|t| t.elapsed())
    }
}
