//! Poison events: an event the processor cannot read back, or cannot apply because of an error
//! that retrying will not fix, is set aside ([`herald_storage::Quarantined`]) and processing
//! goes on past it, instead of retrying it forever while everything behind it waits.
//!
//! - Unreadable events are reported by the log ([`herald_storage::LogRead`]) and quarantined in
//!   the transaction of the batch they were read in.
//! - Applying an event fails for good when the store reports corrupt data
//!   ([`StorageError::Corrupt`]) or the code panics (caught per event, see [`guarded`]). The
//!   batch rolls back; the processor then goes through that batch one event at a time
//!   ([`Isolation`]), and the one event that fails alone is quarantined. Other errors (the
//!   database or the bus unavailable, a full disk, a lease handover) are retried: the event is
//!   not at fault.
//!
//! An admin inspects, retries (after an upgrade) or discards quarantined events through the
//! admin API; `/readyz` reports `degraded` while any is quarantined.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI64, Ordering};

use herald_storage::StorageError;

/// Run one event's processing, turning a panic into [`StorageError::Corrupt`] so that the
/// transaction rolls back like for any other error and the event can be isolated. The panic
/// message is logged once by the panic hook; the error carries it for the quarantine record.
pub(crate) fn guarded<T>(
    seq: u64,
    f: impl FnOnce() -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        Err(StorageError::Corrupt(format!(
            "event {seq}: panicked: {message}"
        )))
    })
}

/// Whether retrying cannot help: the error is the event's (or a bug), not the environment's.
pub(crate) fn is_poison(e: &StorageError) -> bool {
    matches!(e, StorageError::Corrupt(_))
}

/// After a batch failed with a poison error, the processor reads one event at a time up to
/// the end of that batch, so that the event at fault is found and set aside alone.
#[derive(Debug, Default)]
pub(crate) struct Isolation {
    /// Read one event at a time while the cursor is before this position.
    until: Option<u64>,
}

impl Isolation {
    /// How many events to read after `cursor`.
    pub(crate) fn limit(&mut self, cursor: u64, batch: usize) -> usize {
        match self.until {
            Some(until) if cursor < until => 1,
            _ => {
                self.until = None;
                batch
            }
        }
    }

    /// A batch of the events `first..=last` failed with `error`: the position to quarantine,
    /// when the batch was that one event and the error is the event's.
    pub(crate) fn failed(&mut self, first: u64, last: u64, error: &StorageError) -> Option<u64> {
        if !is_poison(error) {
            return None;
        }
        if first == last {
            return Some(first);
        }
        self.until = Some(last);
        None
    }
}

/// Whether the processor keeps failing, for `/readyz`: the time of the first failure of the
/// current run of failures (0 when the last attempt succeeded). Per node: each node reports
/// its own processor.
#[derive(Debug, Default)]
pub struct ProcessorHealth {
    failing_since_ms: AtomicI64,
    /// Whether the last failures were a full disk (see [`StorageFull`]).
    pub(crate) full: StorageFull,
}

impl ProcessorHealth {
    pub(crate) fn succeeded(&self) {
        self.failing_since_ms.store(0, Ordering::Relaxed);
        self.full.cleared();
    }

    pub(crate) fn failed(&self, now_ms: i64, error: &StorageError) {
        let _ = self.failing_since_ms.compare_exchange(
            0,
            now_ms.max(1),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        if error.is_full() {
            self.full.refused(now_ms, "processing");
        }
    }

    /// Since when processing has failed without a success in between, if it has.
    pub fn failing_since_ms(&self) -> Option<i64> {
        Some(self.failing_since_ms.load(Ordering::Relaxed)).filter(|t| *t != 0)
    }
}

/// Whether writes find the storage full ([`StorageError::Full`]): since when, without a
/// successful write in between. Set by the writer that was refused (the ingest writer for the
/// log, the processor for projection state) and cleared by that writer's next successful
/// write, so it recovers by itself once space is freed. For `/readyz`, `/api/v1/status` and
/// the `herald_storage_full` gauge.
#[derive(Debug, Default)]
pub struct StorageFull {
    since_ms: AtomicI64,
}

impl StorageFull {
    /// A write was refused because the storage is full (`component` labels the counter).
    pub fn refused(&self, now_ms: i64, component: &'static str) {
        metrics::counter!("herald_storage_full_refusals_total", "component" => component)
            .increment(1);
        if self
            .since_ms
            .compare_exchange(0, now_ms.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            tracing::error!(
                component,
                "storage is full: writes are refused (507 storage_full) until space is freed"
            );
        }
    }

    /// A write succeeded.
    pub fn cleared(&self) {
        if self.since_ms.swap(0, Ordering::Relaxed) != 0 {
            tracing::info!("storage accepts writes again");
        }
    }

    /// Since when writes have found the storage full, if they do.
    pub fn since_ms(&self) -> Option<i64> {
        Some(self.since_ms.load(Ordering::Relaxed)).filter(|t| *t != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_corrupt_error() {
        let e = guarded::<()>(7, || panic!("boom {}", 1)).unwrap_err();
        assert!(
            matches!(&e, StorageError::Corrupt(m) if m.contains("event 7") && m.contains("boom 1")),
            "{e}"
        );
        assert!(guarded(7, || Ok(3)).is_ok_and(|v| v == 3));
    }

    #[test]
    fn isolation_finds_the_one_event_at_fault() {
        let mut iso = Isolation::default();
        let corrupt = StorageError::Corrupt("x".into());
        assert_eq!(iso.limit(10, 100), 100);
        // The batch 11..=60 failed: read one at a time up to 60.
        assert_eq!(iso.failed(11, 60, &corrupt), None);
        assert_eq!(iso.limit(10, 100), 1);
        assert_eq!(iso.limit(30, 100), 1);
        // Event 31 alone fails: it is the one.
        assert_eq!(iso.failed(31, 31, &corrupt), Some(31));
        assert_eq!(iso.limit(59, 100), 1);
        assert_eq!(iso.limit(60, 100), 100);
        // Errors of the environment are retried, never quarantined.
        let down = StorageError::Unavailable("db".into());
        assert_eq!(iso.failed(61, 61, &down), None);
        assert_eq!(iso.failed(61, 90, &down), None);
        assert_eq!(iso.limit(60, 100), 100);
    }

    #[test]
    fn health_remembers_the_first_failure_of_a_run() {
        let h = ProcessorHealth::default();
        assert_eq!(h.failing_since_ms(), None);
        let busy = StorageError::Busy;
        h.failed(100, &busy);
        h.failed(200, &busy);
        assert_eq!(h.failing_since_ms(), Some(100));
        assert_eq!(h.full.since_ms(), None);
        h.failed(300, &StorageError::Full("disk".into()));
        h.failed(400, &StorageError::Full("disk".into()));
        assert_eq!(h.full.since_ms(), Some(300));
        h.succeeded();
        assert_eq!(h.failing_since_ms(), None);
        assert_eq!(h.full.since_ms(), None);
    }
}
