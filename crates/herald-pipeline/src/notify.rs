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

    /// How many pokes there were so far: read it before looking for work, and pass it to
    /// [`LogNotifier::wait_past`], so that a poke that arrives while the waiter is busy is not
    /// lost.
    pub fn pokes(&self) -> u64 {
        self.lock().pokes
    }

    /// Wait until the head passes `seen`, there were more pokes than `seen_pokes`, or
    /// `timeout`; returns the head.
    pub fn wait_past(&self, seen: u64, seen_pokes: u64, timeout: Duration) -> u64 {
        let s = self.lock();
        let (s, _) = self
            .changed
            .wait_timeout_while(s, timeout, |s| s.head <= seen && s.pokes == seen_pokes)
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

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(30);

    #[test]
    fn a_poke_while_the_waiter_was_busy_is_not_lost() {
        let n = LogNotifier::default();
        let seen = n.pokes();
        n.poke();
        let started = Instant::now();
        n.wait_past(0, seen, LONG);
        assert!(
            started.elapsed() < LONG / 2,
            "the earlier poke must end the wait"
        );
    }

    #[test]
    fn a_head_past_the_seen_one_ends_the_wait_and_an_old_one_does_not() {
        let n = LogNotifier::default();
        n.advance(5);
        assert_eq!(n.wait_past(4, n.pokes(), LONG), 5);
        let started = Instant::now();
        assert_eq!(n.wait_past(5, n.pokes(), Duration::from_millis(50)), 5);
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(n.since_advance().is_some());
    }

    #[test]
    fn a_poke_from_another_thread_wakes_a_waiter() {
        let n = std::sync::Arc::new(LogNotifier::default());
        let seen = n.pokes();
        let poker = n.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            poker.poke();
        });
        let started = Instant::now();
        n.wait_past(0, seen, LONG);
        assert!(started.elapsed() < LONG / 2);
        t.join().unwrap();
    }
}
