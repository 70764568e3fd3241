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
use herald_storage::cluster::ClusterStore;
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

/// Embedded: the processor applies batches of the log.
#[test]
fn a_poison_event_is_isolated_and_quarantined_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap();
    isolated_and_quarantined(Arc::new(store));
}

/// A cluster: the partition thread applies batches of routed work.
#[test]
fn a_poison_event_is_isolated_and_quarantined_alone_in_a_cluster() {
    let pg = std::env::var("HERALD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let nats =
        std::env::var("HERALD_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let store = ClusterStore::scratch(runtime.handle().clone(), &pg, &nats).unwrap();
    isolated_and_quarantined(Arc::new(store));
}

fn isolated_and_quarantined(store: Arc<dyn Store>) {
    let events: Vec<EncodedEvent> = (1..=50)
        .map(|i| track(i, if i == 23 { "Boom" } else { "Fine" }))
        .collect();
    let head = store.append(&events).unwrap().head;
    let notifier = Arc::new(LogNotifier::default());
    notifier.advance(head);
    let config = ProcessorConfig {
        idle_wait: Duration::from_millis(50),
        lease_retry: Duration::from_millis(50),
        ..ProcessorConfig::default()
    };
    let (handle, join) = spawn(store.clone(), notifier, config, vec![Box::new(Buggy)]);
    let deadline = Instant::now() + Duration::from_secs(60);
    // Every event applied or set aside: 49 profiles with their event applied and one
    // quarantined event. (Counting profiles alone is not enough: in a cluster the sequencer
    // creates a profile before its partition applies the event to its state.)
    let applied = || {
        let snapshot = store.snapshot().unwrap();
        snapshot
            .profiles
            .values()
            .filter(|(_, _, state)| !state.event_counts.is_empty())
            .count()
    };
    while applied() < 49 || store.quarantined_count().unwrap() < 1 {
        assert!(
            Instant::now() < deadline,
            "processing stopped: {} profiles applied, {} quarantined",
            applied(),
            store.quarantined_count().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let quarantined = store.quarantined(0, 10).unwrap();
    assert_eq!(quarantined.iter().map(|q| q.seq).collect::<Vec<_>>(), [23]);
    assert!(
        quarantined[0].reason.contains("a bug in a stage"),
        "{quarantined:?}"
    );
    // Every other event was applied; the poison event's user has no profile state of its own.
    let snapshot = store.snapshot().unwrap();
    let has = |user: &str| {
        snapshot.profiles.values().any(|(_, ids, state)| {
            ids.iter().any(|id| id.value == user) && !state.event_counts.is_empty()
        })
    };
    assert!(has("u22") && has("u24") && !has("u23"));
    // The bug is still there: a retry fails again and changes nothing. (Embedded only: in a
    // cluster the stages run on the partition thread, and a retry applies the event on the
    // command's thread without them.)
    if store.partitioned().is_none() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let retried = runtime.block_on(handle.retry_quarantined(23));
        assert!(
            matches!(retried, Err(CommandError::StillFailing(_))),
            "{retried:?}"
        );
        assert_eq!(store.quarantined_count().unwrap(), 1);
    }
    handle.stop();
    join.join().unwrap();
}
