//! Conformance of [`crate::messages::MessageStore`]: idempotent enqueue, the due queue by
//! status, time and partition, compare-and-set updates (one winner among racing workers), the
//! ledger, a profile's log in pages, counts by source.

use std::collections::BTreeMap;

use super::Factory;
use crate::messages::{LedgerSeen, MessageFilter, MessageRecord};

pub(super) fn message(id: &str, profile: &str, partition: u32, due_ms: i64) -> MessageRecord {
    MessageRecord {
        id: id.into(),
        profile_id: profile.into(),
        partition,
        channel: "email".into(),
        source: "broadcast:b1".into(),
        template_id: "welcome".into(),
        template_version: 1,
        category: "marketing".into(),
        topic: Some("news".into()),
        priority: "normal".into(),
        transactional: false,
        status: "queued".into(),
        reason: None,
        address: None,
        due_ms,
        decided_ms: None,
        attempts: 0,
        provider: None,
        provider_message_id: None,
        error: None,
        event: Some(format!("{{\"event\":\"{id}\"}}")),
        created_ms: due_ms,
        updated_ms: due_ms,
    }
}

fn ids(v: &[MessageRecord]) -> Vec<&str> {
    v.iter().map(|m| m.id.as_str()).collect()
}

pub fn messages_queue_and_log(make: &Factory) {
    let store = make();
    let batch = [
        message("m3", "p1", 0, 30),
        message("m1", "p1", 0, 10),
        message("m2", "p2", 1, 20),
        message("m4", "p2", 1, 99),
    ];
    assert_eq!(store.enqueue_messages(&batch).unwrap(), 4);
    // Again, and with a changed copy: nothing new, nothing changed.
    let mut changed = message("m1", "p1", 0, 10);
    changed.status = "sent".into();
    assert_eq!(
        store
            .enqueue_messages(&[changed, message("m5", "p3", 2, 5)])
            .unwrap(),
        1
    );
    assert_eq!(store.message("m1").unwrap().unwrap(), batch[1]);

    let due = store.due_messages(&["queued"], None, 30, 10).unwrap();
    assert_eq!(ids(&due), ["m5", "m1", "m2", "m3"]);
    assert_eq!(
        ids(&store.due_messages(&["queued"], None, 30, 2).unwrap()),
        ["m5", "m1"]
    );
    assert_eq!(
        ids(&store
            .due_messages(&["queued"], Some(&[1, 2]), 99, 10)
            .unwrap()),
        ["m5", "m2", "m4"]
    );
    assert!(store
        .due_messages(&["queued"], Some(&[]), 99, 10)
        .unwrap()
        .is_empty());
    assert!(store
        .due_messages(&["deferred"], None, 99, 10)
        .unwrap()
        .is_empty());

    // Compare-and-set: queued → sending once; the second try sees it moved.
    let mut sending = batch[1].clone();
    sending.status = "sending".into();
    sending.decided_ms = Some(31);
    sending.address = Some("ana@example.com".into());
    sending.attempts = 1;
    sending.updated_ms = 31;
    assert!(store.update_message(&sending, &batch[1]).unwrap());
    assert!(!store.update_message(&sending, &batch[1]).unwrap());
    assert_eq!(store.message("m1").unwrap().unwrap(), sending);
    // The same status is not enough: a version read before another writer's change (its
    // `updated_ms`) is stale.
    let mut lease = sending.clone();
    lease.due_ms = 90;
    lease.updated_ms = 32;
    let mut stale = sending.clone();
    stale.updated_ms = 30;
    assert!(!store.update_message(&lease, &stale).unwrap());
    assert!(store.update_message(&lease, &sending).unwrap());
    let mut deferred = batch[0].clone();
    deferred.status = "deferred".into();
    deferred.reason = Some("quiet_hours_deferred".into());
    deferred.due_ms = 500;
    deferred.updated_ms = 31;
    assert!(store.update_message(&deferred, &batch[0]).unwrap());
    assert_eq!(
        ids(&store
            .due_messages(&["queued", "deferred"], None, 499, 10)
            .unwrap()),
        ["m5", "m2", "m4"]
    );
    assert_eq!(
        ids(&store.due_messages(&["deferred"], None, 500, 10).unwrap()),
        ["m3"]
    );

    // The ledger: what the governor let through, from a time on.
    assert_eq!(ids(&store.ledger("p1", 0).unwrap()), ["m1"]);
    assert!(store.ledger("p1", 32).unwrap().is_empty());
    assert!(store.ledger("p2", 0).unwrap().is_empty());

    // A profile's log, newest first, in pages.
    let first = store.profile_messages("p1", None, 1).unwrap();
    assert_eq!(ids(&first), ["m3"]);
    let next = store
        .profile_messages("p1", Some((first[0].created_ms, &first[0].id)), 10)
        .unwrap();
    assert_eq!(ids(&next), ["m1"]);

    let counts = store.message_counts("broadcast:b1").unwrap();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("deferred".to_owned(), 1),
            ("queued".to_owned(), 3),
            ("sending".to_owned(), 1)
        ])
    );
    assert!(store.message_counts("api").unwrap().is_empty());
}

/// Workers racing to claim the same messages: each message is claimed exactly once.
pub fn racing_claims_have_one_winner(make: &Factory) {
    let store = make();
    let all: Vec<MessageRecord> = (0..40)
        .map(|i| message(&format!("r{i:02}"), "p", 0, i))
        .collect();
    store.enqueue_messages(&all).unwrap();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            let all = all.clone();
            std::thread::spawn(move || {
                all.iter()
                    .filter(|m| {
                        let mut claimed = (*m).clone();
                        claimed.status = "sending".into();
                        claimed.provider = Some(format!("worker-{w}"));
                        claimed.updated_ms = m.updated_ms + 1;
                        store.update_message(&claimed, m).unwrap()
                    })
                    .count()
            })
        })
        .collect();
    let won: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(won, 40);
    assert_eq!(
        store.message_counts("broadcast:b1").unwrap(),
        BTreeMap::from([("sending".to_owned(), 40)])
    );
}

/// Decisions to send count the ledger: one made with a ledger that changed meanwhile fails
/// and changes nothing, so workers racing to send a person's messages under a cap of three
/// send exactly three, however they interleave.
pub fn decisions_recheck_the_ledger(make: &Factory) {
    let store = make();
    let decided = |m: &MessageRecord, at: i64| {
        let mut next = m.clone();
        next.status = "sending".into();
        next.decided_ms = Some(at);
        next.updated_ms = m.updated_ms + 1;
        next
    };
    let first = message("d0", "p", 0, 1);
    let other = message("e0", "someone-else", 0, 1);
    store
        .enqueue_messages(&[first.clone(), other.clone()])
        .unwrap();
    let seen = |since_ms, entries| LedgerSeen { since_ms, entries };
    assert!(store
        .decide_message(&decided(&other, 5), &other, seen(0, 0))
        .unwrap());
    // Another person's decision is not this one's ledger.
    assert!(!store
        .decide_message(&decided(&first, 6), &first, seen(0, 1))
        .unwrap());
    assert_eq!(store.message("d0").unwrap().unwrap(), first);
    assert!(store
        .decide_message(&decided(&first, 6), &first, seen(0, 0))
        .unwrap());
    let second = message("d1", "p", 0, 2);
    store
        .enqueue_messages(std::slice::from_ref(&second))
        .unwrap();
    // A decider that read the ledger before d0 was decided.
    assert!(!store
        .decide_message(&decided(&second, 7), &second, seen(0, 0))
        .unwrap());
    assert_eq!(store.message("d1").unwrap().unwrap(), second);
    // Entries before `since_ms` are not counted.
    assert!(store
        .decide_message(&decided(&second, 7), &second, seen(7, 0))
        .unwrap());

    const CAP: usize = 3;
    let all: Vec<MessageRecord> = (0..24)
        .map(|i| message(&format!("c{i:02}"), "capped", 0, i))
        .collect();
    store.enqueue_messages(&all).unwrap();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            let mut mine = all.clone();
            mine.rotate_left(w * 6);
            std::thread::spawn(move || {
                for m in mine {
                    loop {
                        let current = store.message(&m.id).unwrap().unwrap();
                        if current.status != "queued" {
                            break;
                        }
                        let ledger = store.ledger("capped", 0).unwrap();
                        let mut next = current.clone();
                        next.updated_ms = current.updated_ms + 1;
                        if ledger.len() < CAP {
                            next.status = "sending".into();
                            next.decided_ms = Some(100);
                        } else {
                            next.status = "skipped".into();
                        }
                        let done = if next.status == "sending" {
                            store.decide_message(&next, &current, seen(0, ledger.len()))
                        } else {
                            store.update_message(&next, &current)
                        };
                        if done.unwrap() {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let sent = store
        .ledger("capped", 0)
        .unwrap()
        .iter()
        .filter(|m| m.status == "sending")
        .count();
    assert_eq!(sent, CAP);
}

pub fn the_message_log_filters_and_pages(make: &Factory) {
    let store = make();
    let with = |id: &str, channel: &str, source: &str, template: &str, status: &str, ms: i64| {
        let mut m = message(id, "p1", 0, ms);
        m.channel = channel.into();
        m.source = source.into();
        m.template_id = template.into();
        m.status = status.into();
        m
    };
    let all = [
        with("a", "email", "broadcast:b1", "welcome", "queued", 10),
        with("b", "sms", "api", "receipt", "sent", 20),
        with("c", "email", "api", "welcome", "sent", 30),
        with("d", "email", "broadcast:b2", "welcome", "skipped", 30),
    ];
    store.enqueue_messages(&all).unwrap();
    let list = |filter: MessageFilter, before: Option<(i64, &str)>, limit: usize| {
        let found = store.list_messages(&filter, before, limit).unwrap();
        found.into_iter().map(|m| m.id).collect::<Vec<_>>()
    };
    let any = MessageFilter::default();
    assert_eq!(list(any.clone(), None, 10), ["d", "c", "b", "a"]);
    assert_eq!(list(any.clone(), Some((30, "c")), 10), ["b", "a"]);
    let sent = MessageFilter {
        status: Some("sent".into()),
        ..Default::default()
    };
    assert_eq!(list(sent, None, 10), ["c", "b"]);
    let email_api = MessageFilter {
        channel: Some("email".into()),
        source: Some("api".into()),
        ..Default::default()
    };
    assert_eq!(list(email_api, None, 10), ["c"]);
    let welcome = MessageFilter {
        template_id: Some("welcome".into()),
        ..Default::default()
    };
    assert_eq!(list(welcome.clone(), None, 2), ["d", "c"]);
    assert_eq!(list(welcome, Some((30, "c")), 2), ["a"]);
    let none = MessageFilter {
        channel: Some("push".into()),
        ..Default::default()
    };
    assert!(list(none, None, 10).is_empty());
}

/// Erasing a deleted person's messages clears what they hold of the person and stops those
/// not finished; the rows stay and other people's messages are untouched.
pub fn erased_messages_keep_nothing_of_their_person(make: &Factory) {
    let store = make();
    let with = |id: &str, profile: &str, status: &str| {
        let mut m = message(id, profile, 0, 10);
        m.status = status.into();
        m.address = Some(format!("{profile}@example.com"));
        m.error = Some(format!("550 {profile}@example.com: no such user"));
        m
    };
    let all = [
        with("a1", "gone", "sent"),
        with("a2", "gone", "queued"),
        with("a3", "gone", "sending"),
        with("a4", "gone-too", "deferred"),
        with("b1", "kept", "queued"),
    ];
    store.enqueue_messages(&all).unwrap();
    let erased = store
        .erase_messages(&["gone".to_owned(), "gone-too".to_owned()], 50)
        .unwrap();
    assert_eq!(erased, 4);
    for (id, status, reason) in [
        ("a1", "sent", None),
        ("a2", "skipped", Some("profile_deleted")),
        ("a3", "skipped", Some("profile_deleted")),
        ("a4", "skipped", Some("profile_deleted")),
    ] {
        let m = store.message(id).unwrap().unwrap();
        assert_eq!(
            (
                m.status.as_str(),
                m.reason.as_deref(),
                &m.address,
                &m.event,
                &m.error
            ),
            (status, reason, &None, &None, &None),
            "{id}"
        );
        assert_eq!(
            m.updated_ms, 50,
            "{id}: a worker's compare-and-set now fails"
        );
    }
    assert_eq!(store.message("b1").unwrap().unwrap(), all[4]);
    assert_eq!(
        store.message_counts("broadcast:b1").unwrap(),
        BTreeMap::from([
            ("queued".to_owned(), 1),
            ("sent".to_owned(), 1),
            ("skipped".to_owned(), 3)
        ])
    );
}
