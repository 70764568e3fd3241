//! Conformance of [`crate::inbox::InboxStore`]: an item is stored once; a user sees only their
//! own items, newest first in pages, and the ones after a cursor oldest first; marks are set
//! once and keep their first time; reading marks seen; counts leave archived items out.

use super::Factory;
use crate::inbox::{InboxCounts, InboxFilter, InboxItem, InboxMark};

fn item(id: &str, user: &str, created_ms: i64) -> InboxItem {
    InboxItem {
        message_id: id.into(),
        user_id: user.into(),
        profile_id: format!("profile-of-{user}"),
        topic: Some("product_updates".into()),
        content: format!(r#"{{"title":"Hello {id}","body":"<p>Body {id}</p>"}}"#),
        format: "html".into(),
        created_ms,
        seen_ms: None,
        read_ms: None,
        archived_ms: None,
    }
}

pub fn inbox_items_are_kept_per_user_and_marked_once(make: &Factory) {
    let store = make();
    let a = item("m-a", "u1", 10);
    let b = item("m-b", "u1", 20);
    let c = item("m-c", "u1", 20);
    let other = item("m-x", "u2", 15);
    for i in [&a, &b, &c, &other] {
        assert!(store.put_inbox_item(i).unwrap());
    }
    // Stored once: a repeat (even with other content) changes nothing.
    let mut again = a.clone();
    again.content = "{}".into();
    assert!(!store.put_inbox_item(&again).unwrap());
    assert_eq!(store.inbox_item("u1", "m-a").unwrap(), Some(a.clone()));
    // Another user's item is not found through this user.
    assert_eq!(store.inbox_item("u1", "m-x").unwrap(), None);
    assert_eq!(store.inbox_item("u2", "m-x").unwrap(), Some(other.clone()));

    let ids = |v: Vec<InboxItem>| v.into_iter().map(|i| i.message_id).collect::<Vec<_>>();
    let active = InboxFilter::Active;
    assert_eq!(
        ids(store.inbox_items("u1", active, None, 10).unwrap()),
        ["m-c", "m-b", "m-a"]
    );
    assert_eq!(
        ids(store.inbox_items("u1", active, None, 2).unwrap()),
        ["m-c", "m-b"]
    );
    assert_eq!(
        ids(store
            .inbox_items("u1", active, Some((20, "m-b")), 2)
            .unwrap()),
        ["m-a"]
    );
    assert_eq!(
        ids(store.inbox_items_after("u1", (10, "m-a"), 10).unwrap()),
        ["m-b", "m-c"]
    );
    assert_eq!(
        ids(store.inbox_items_after("u1", (20, "m-b"), 10).unwrap()),
        ["m-c"]
    );
    assert_eq!(
        ids(store.inbox_items_after("u1", (0, ""), 1).unwrap()),
        ["m-a"]
    );
    assert_eq!(
        store.inbox_counts("u1").unwrap(),
        InboxCounts {
            total: 3,
            unseen: 3,
            unread: 3
        }
    );

    // Reading marks read and seen, once: a second read keeps the first time.
    let (read, changed) = store
        .mark_inbox_item("u1", "m-b", InboxMark::Read, 100)
        .unwrap()
        .unwrap();
    assert!(changed);
    assert_eq!((read.read_ms, read.seen_ms), (Some(100), Some(100)));
    let (again, changed) = store
        .mark_inbox_item("u1", "m-b", InboxMark::Read, 200)
        .unwrap()
        .unwrap();
    assert!(!changed);
    assert_eq!((again.read_ms, again.seen_ms), (Some(100), Some(100)));
    // Another user cannot mark it; an unknown id is not found.
    assert_eq!(
        store
            .mark_inbox_item("u2", "m-b", InboxMark::Archived, 300)
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .mark_inbox_item("u1", "nope", InboxMark::Seen, 300)
            .unwrap(),
        None
    );
    // Seen first, then read: the seen time stays.
    store
        .mark_inbox_item("u1", "m-a", InboxMark::Seen, 110)
        .unwrap()
        .unwrap();
    let (read, _) = store
        .mark_inbox_item("u1", "m-a", InboxMark::Read, 120)
        .unwrap()
        .unwrap();
    assert_eq!((read.seen_ms, read.read_ms), (Some(110), Some(120)));
    assert_eq!(
        store.inbox_counts("u1").unwrap(),
        InboxCounts {
            total: 3,
            unseen: 1,
            unread: 1
        }
    );

    // Archived items leave the active listing and the counts.
    let (archived, changed) = store
        .mark_inbox_item("u1", "m-c", InboxMark::Archived, 130)
        .unwrap()
        .unwrap();
    assert!(changed && archived.archived_ms == Some(130));
    assert_eq!(
        ids(store.inbox_items("u1", active, None, 10).unwrap()),
        ["m-b", "m-a"]
    );
    assert_eq!(
        ids(store
            .inbox_items("u1", InboxFilter::Archived, None, 10)
            .unwrap()),
        ["m-c"]
    );
    assert_eq!(
        store.inbox_counts("u1").unwrap(),
        InboxCounts {
            total: 2,
            unseen: 0,
            unread: 0
        }
    );

    // Marking all seen touches only the unseen items of that user.
    assert_eq!(store.mark_inbox_seen("u1", 500).unwrap(), 1);
    assert_eq!(store.mark_inbox_seen("u2", 500).unwrap(), 1);
    assert_eq!(store.mark_inbox_seen("u2", 600).unwrap(), 0);
    assert_eq!(
        store.inbox_item("u2", "m-x").unwrap().unwrap().seen_ms,
        Some(500)
    );
    assert_eq!(
        store.inbox_item("u1", "m-a").unwrap().unwrap().seen_ms,
        Some(110)
    );
    assert_eq!(
        store.inbox_counts("nobody").unwrap(),
        InboxCounts::default()
    );
}

/// A GDPR erasure deletes every item of the person's user ids, and nobody else's.
pub fn inbox_items_are_deleted_per_user(make: &Factory) {
    let store = make();
    for i in [
        item("m-1", "u1", 1),
        item("m-2", "u1", 2),
        item("m-3", "u2", 3),
        item("m-4", "u3", 4),
    ] {
        assert!(store.put_inbox_item(&i).unwrap());
    }
    let gone = store
        .delete_inbox_items(&["u1".to_owned(), "u3".to_owned(), "nobody".to_owned()])
        .unwrap();
    assert_eq!(gone, 3);
    assert_eq!(store.inbox_item("u1", "m-1").unwrap(), None);
    assert_eq!(store.inbox_item("u3", "m-4").unwrap(), None);
    assert_eq!(store.inbox_counts("u1").unwrap().total, 0);
    assert_eq!(
        store.inbox_item("u2", "m-3").unwrap(),
        Some(item("m-3", "u2", 3))
    );
    assert_eq!(store.delete_inbox_items(&[]).unwrap(), 0);
}
