//! An event whose application fails for good (here: a stage that panics on it, as a bug
//! would) is isolated from its batch and quarantined alone; every other event of the batch is
//! applied, and processing goes on. A retry that fails again leaves it quarantined.

use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_core::event::{Incoming, ParseContext, TimeMode};
use herald_core::projection::Applied;
use herald_core::timestamp::parse_timestamp;
use herald_pipeline::notify::LogNotifier;
use herald_pipeline::processor::{spawn, CommandError, ProcessorConfig, Stage};
use herald_storage::sqlite::{SqliteOptions, SqliteStore};
use herald_storage::{EncodedEvent, StateTxn, StorageError, Store};

/// A stage with a bug: it panics on one event name.
struct Buggy;

impl Stage for Buggy {
    fn apply(
        &mut self,
        _: &mut dyn StateTxn,
        _: u64,
        event: &herald_core::event::Event,
        _: &Applied,
    ) -> Result<(), StorageError> {
        assert_ne!(event.event.as_deref(), Some("Boom"), "a bug in a stage");
        Ok(())
    }
}

fn track(i: usize, name: &str) -> EncodedEvent {
    let ctx = ParseContext {
        received_at: parse_timestamp("2026-12-04T12:00:00Z").unwrap(),
        batch_sent_at: None,
        implied_type: None,
        time_mode: TimeMode::Live,
        fallback_message_id: String::new,
    };
    let text = format!(r#"{{"type":"track","userId":"u{i}","event":"{name}","messageId":"m{i}"}}"#);
    Incoming::parse(&text, &ctx, None).unwrap().into()
}

#[test]
fn a_poison_event_is_isolated_and_quarantined_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap());
    let events: Vec<EncodedEvent> = (1..=50)
        .map(|i| track(i, if i == 23 { "Boom" } else { "Fine" }))
        .collect();
    let head = store.append(&events).unwrap().head;
    let notifier = Arc::new(LogNotifier::default());
    notifier.advance(head);
    let config = ProcessorConfig {
        idle_wait: Duration::from_millis(50),
        ..ProcessorConfig::default()
    };
    let (handle, join) = spawn(store.clone(), notifier, config, vec![Box::new(Buggy)]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.processed_cursor().unwrap() < head {
        assert!(Instant::now() < deadline, "processing stopped at {}", store.processed_cursor().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    let quarantined = store.quarantined(0, 10).unwrap();
    assert_eq!(quarantined.iter().map(|q| q.seq).collect::<Vec<_>>(), [23]);
    assert!(quarantined[0].reason.contains("a bug in a stage"), "{quarantined:?}");
    // Every other event was applied: 49 profiles, none for the poison event's user.
    let snapshot = store.snapshot().unwrap();
    assert_eq!(snapshot.profiles.len(), 49);
    let has = |user: &str| {
        snapshot
            .profiles
            .values()
            .any(|(_, ids, _)| ids.iter().any(|id| id.value == user))
    };
    assert!(has("u22") && has("u24") && !has("u23"));
    // The bug is still there: a retry fails again and changes nothing.
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let retried = runtime.block_on(handle.retry_quarantined(23));
    assert!(matches!(retried, Err(CommandError::StillFailing(_))), "{retried:?}");
    assert_eq!(store.quarantined_count().unwrap(), 1);
    assert_eq!(store.snapshot().unwrap().profiles.len(), 49);
    handle.stop();
    join.join().unwrap();
}
