//! Conformance of [`crate::broadcasts::BroadcastStore`]: create once, read, list newest first
//! in pages, compare-and-set updates, the due ones; and the message moves and outcome counts a
//! broadcast's pause, cancel and progress use.

use super::messages::message;
use super::Factory;
use crate::broadcasts::BroadcastRecord;

fn broadcast(id: &str, created_ms: i64, start_ms: i64, status: &str) -> BroadcastRecord {
    BroadcastRecord {
        id: id.into(),
        name: format!("Broadcast {id}"),
        template_id: "news".into(),
        template_version: 3,
        audience_id: "vips".into(),
        topic: Some("newsletter".into()),
        category: "marketing".into(),
        priority: "normal".into(),
        transactional: false,
        holdout_percent: 12.5,
        schedule: "at:2026-12-05T09:00:00Z".into(),
        start_ms,
        status: status.into(),
        cursor: None,
        enqueued: 0,
        created_ms,
        updated_ms: created_ms,
        finished_ms: None,
    }
}

pub fn broadcasts_are_kept_and_changed_by_compare_and_set(make: &Factory) {
    let store = make();
    let a = broadcast("a", 10, 100, "scheduled");
    let b = broadcast("b", 20, 50, "running");
    let c = broadcast("c", 20, 10, "paused");
    for x in [&a, &b, &c] {
        assert!(store.create_broadcast(x).unwrap());
    }
    assert!(!store
        .create_broadcast(&broadcast("a", 99, 0, "running"))
        .unwrap());
    assert_eq!(store.broadcast("a").unwrap(), Some(a.clone()));
    assert_eq!(store.broadcast("zz").unwrap(), None);

    let ids = |v: Vec<BroadcastRecord>| v.into_iter().map(|b| b.id).collect::<Vec<_>>();
    assert_eq!(ids(store.broadcasts(None, 10).unwrap()), ["c", "b", "a"]);
    assert_eq!(ids(store.broadcasts(None, 2).unwrap()), ["c", "b"]);
    assert_eq!(ids(store.broadcasts(Some((20, "b")), 2).unwrap()), ["a"]);

    // Due: scheduled or running, started by now; by start.
    assert_eq!(ids(store.due_broadcasts(60, 10).unwrap()), ["b"]);
    assert_eq!(ids(store.due_broadcasts(100, 10).unwrap()), ["b", "a"]);
    assert_eq!(ids(store.due_broadcasts(100, 1).unwrap()), ["b"]);

    let mut next = a.clone();
    next.status = "running".into();
    next.cursor = Some("p-17".into());
    next.enqueued = 17;
    next.updated_ms = 11;
    assert!(!store.update_broadcast(&next, 9).unwrap());
    assert_eq!(store.broadcast("a").unwrap(), Some(a.clone()));
    assert!(store.update_broadcast(&next, 10).unwrap());
    assert!(!store.update_broadcast(&next, 10).unwrap());
    assert_eq!(store.broadcast("a").unwrap(), Some(next.clone()));
    let mut done = next.clone();
    done.status = "finished".into();
    done.finished_ms = Some(12);
    done.updated_ms = 12;
    assert!(store.update_broadcast(&done, 11).unwrap());
    assert_eq!(ids(store.due_broadcasts(1_000, 10).unwrap()), ["b"]);
}

pub fn broadcast_messages_move_and_are_counted(make: &Factory) {
    let store = make();
    let mut batch = vec![
        message("m1", "p1", 0, 10),
        message("m2", "p2", 0, 10),
        message("m3", "p3", 0, 10),
        message("m4", "p4", 0, 10),
    ];
    batch[2].status = "skipped".into();
    batch[2].reason = Some("holdout".into());
    batch[3].status = "sent".into();
    let mut other = message("x1", "p1", 0, 10);
    other.source = "api".into();
    batch.push(other);
    store.enqueue_messages(&batch).unwrap();

    // Pause: the queued ones wait; nothing else moves.
    assert_eq!(
        store
            .move_messages("broadcast:b1", &["queued", "deferred"], "paused", None, 50)
            .unwrap(),
        2
    );
    let m1 = store.message("m1").unwrap().unwrap();
    assert_eq!((m1.status.as_str(), m1.updated_ms), ("paused", 50));
    assert_eq!(store.message("x1").unwrap().unwrap().status, "queued");
    assert_eq!(store.message("m4").unwrap().unwrap().status, "sent");
    // A worker that read m2 before the pause loses its compare-and-set.
    let mut stale = batch[1].clone();
    stale.status = "sending".into();
    stale.updated_ms = 51;
    assert!(!store.update_message(&stale, &batch[1]).unwrap());
    // Stamps only move forward.
    assert_eq!(
        store
            .move_messages(
                "broadcast:b1",
                &["paused"],
                "cancelled",
                Some("cancelled"),
                5
            )
            .unwrap(),
        2
    );
    let m1 = store.message("m1").unwrap().unwrap();
    assert_eq!(
        (m1.status.as_str(), m1.reason.as_deref(), m1.updated_ms),
        ("cancelled", Some("cancelled"), 51)
    );
    assert_eq!(
        store
            .move_messages("broadcast:b1", &[], "queued", None, 60)
            .unwrap(),
        0
    );

    let counts = store.message_counts("broadcast:b1").unwrap();
    assert_eq!(counts.get("cancelled"), Some(&2));
    let outcomes = store.message_outcomes("broadcast:b1").unwrap();
    assert_eq!(
        outcomes.into_iter().collect::<Vec<_>>(),
        [(("skipped".to_owned(), "holdout".to_owned()), 1)]
    );
    assert!(store.message_outcomes("api").unwrap().is_empty());
}
