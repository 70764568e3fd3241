//! Frequency caps, priorities and displacement, case by case.

mod support;

use herald_messaging::governor::{Displaced, LedgerState};
use herald_messaging::preferences::Topics;
use herald_messaging::{Channel, LedgerEntry, Outcome, Priority, Reason};
use serde_json::json;
use support::{at, candidate, entry, policy, Person, NOON};

#[test]
fn transactional_messages_do_not_count_toward_caps() {
    let p = policy(json!({"caps": [{"max": 1, "window": "1d"}]}));
    let mut receipt = entry(
        "r",
        "2024-05-06T09:00:00Z",
        "receipts",
        Priority::Normal,
        LedgerState::Sent,
    );
    receipt.transactional = true;
    let c = candidate("m", Channel::Email, "marketing");
    let d = Person::new().decide(&p, &Topics::default(), &c, &[receipt], NOON);
    assert_eq!(d.reason, Reason::Sent);
}

#[test]
fn a_capped_message_is_deferred_until_the_oldest_counted_send_leaves_the_window() {
    let p = policy(json!({
        "caps": [
            {"channel": "email", "category": "marketing", "max": 2, "window": "1d"},
            {"channel": "email", "category": "marketing", "max": 3, "window": "7d"}
        ],
        "on_capped": "defer"
    }));
    let sent = LedgerState::Sent;
    let ledger = [
        entry(
            "a",
            "2024-05-01T10:00:00Z",
            "marketing",
            Priority::Normal,
            sent,
        ),
        entry(
            "b",
            "2024-05-05T18:00:00Z",
            "marketing",
            Priority::Normal,
            sent,
        ),
        entry(
            "c",
            "2024-05-06T08:00:00Z",
            "marketing",
            Priority::Normal,
            sent,
        ),
        entry("n", "2024-05-06T09:00:00Z", "news", Priority::Normal, sent),
    ];
    let c = candidate("m", Channel::Email, "marketing");
    let d = Person::new().decide(&p, &Topics::default(), &c, &ledger, NOON);
    // The day holds b and c: b leaves it at 2024-05-06T18:00Z. The week holds a, b, c: a
    // leaves it at 2024-05-08T10:00Z. Both must have room.
    assert_eq!(
        d.outcome,
        Outcome::Defer {
            until: at("2024-05-08T10:00:00Z")
        }
    );
    assert_eq!(d.reason, Reason::CappedDeferred);
    // At that instant it is sent; a second earlier it is not.
    let d = Person::new().decide(&p, &Topics::default(), &c, &ledger, "2024-05-08T10:00:00Z");
    assert_eq!(d.reason, Reason::Sent);
    let d = Person::new().decide(&p, &Topics::default(), &c, &ledger, "2024-05-08T09:59:59Z");
    assert_eq!(d.reason, Reason::CappedDeferred);
    // A message counts against no cap by itself: deciding "c" again sees room.
    let again = candidate("c", Channel::Email, "marketing");
    let d = Person::new().decide(
        &p,
        &Topics::default(),
        &again,
        &ledger,
        "2024-05-06T08:00:00Z",
    );
    assert_eq!(d.reason, Reason::Sent);
}

#[test]
fn a_capped_message_waits_for_a_slot_outside_quiet_hours() {
    let p = policy(json!({
        "caps": [{"max": 1, "window": "12h"}],
        "quiet_hours": {"start": "21:00", "end": "08:00", "action": "drop"},
        "on_capped": "defer"
    }));
    let ledger = [entry(
        "a",
        "2024-05-06T08:00:00Z",
        "x",
        Priority::Normal,
        LedgerState::Sent,
    )];
    let c = candidate("m", Channel::Email, "marketing");
    // The slot frees at 20:00 UTC = 22:00 CEST, in quiet hours: the next one is 08:00 CEST.
    let d = Person::new().decide(&p, &Topics::default(), &c, &ledger, NOON);
    assert_eq!(
        d.outcome,
        Outcome::Defer {
            until: at("2024-05-07T06:00:00Z")
        }
    );
}

#[test]
fn higher_priority_displaces_lower_priority_reservations_never_sends() {
    let p = policy(json!({"caps": [{"channel": "email", "max": 2, "window": "1d"}]}));
    let reserved = LedgerState::Reserved;
    let ledger = [
        entry(
            "low-old",
            "2024-05-06T07:00:00Z",
            "m",
            Priority::Low,
            reserved,
        ),
        entry(
            "low-new",
            "2024-05-06T08:00:00Z",
            "m",
            Priority::Low,
            reserved,
        ),
    ];
    let mut c = candidate("urgent", Channel::Email, "alerts");
    c.priority = Priority::High;
    let d = Person::new().decide(&p, &Topics::default(), &c, &ledger, NOON);
    assert_eq!(d.reason, Reason::Sent);
    // The most recently reserved of the lowest priority goes, and it is dropped (the default).
    assert_eq!(
        d.displaced,
        [Displaced {
            key: "low-new".into(),
            defer_until: None
        }]
    );
    // Equal priority does not displace; nor does anything displace a sent message.
    c.priority = Priority::Low;
    assert_eq!(
        Person::new()
            .decide(&p, &Topics::default(), &c, &ledger, NOON)
            .reason,
        Reason::Capped
    );
    c.priority = Priority::Critical;
    let sent: Vec<LedgerEntry> = ledger
        .iter()
        .cloned()
        .map(|mut e| {
            e.state = LedgerState::Sent;
            e
        })
        .collect();
    assert_eq!(
        Person::new()
            .decide(&p, &Topics::default(), &c, &sent, NOON)
            .reason,
        Reason::Capped
    );
}

#[test]
fn displaced_messages_are_deferred_to_their_own_next_slot() {
    let p = policy(json!({
        "caps": [{"channel": "email", "max": 1, "window": "6h"}],
        "on_capped": "defer"
    }));
    let ledger = [entry(
        "low",
        "2024-05-06T09:00:00Z",
        "m",
        Priority::Low,
        LedgerState::Reserved,
    )];
    let mut c = candidate("high", Channel::Email, "m");
    c.priority = Priority::High;
    let d = Person::new().decide(&p, &Topics::default(), &c, &ledger, NOON);
    // The candidate is reserved at noon UTC: the displaced one fits again six hours later.
    assert_eq!(
        d.displaced,
        [Displaced {
            key: "low".into(),
            defer_until: Some(at("2024-05-06T16:00:00Z"))
        }]
    );
}

#[test]
fn only_the_reservations_needed_are_displaced() {
    // Two caps: email per day (max 2) and marketing per day (max 1). The low-priority
    // reservation "a" counts only toward the email cap, "b" toward both. Taking the lowest
    // priority first takes "a", then "b" for the marketing cap; "a" was not needed after all
    // and is given back.
    let p = policy(json!({"caps": [
        {"channel": "email", "max": 2, "window": "1d"},
        {"category": "marketing", "max": 1, "window": "1d"}
    ]}));
    let ledger = [
        entry(
            "a",
            "2024-05-06T08:00:00Z",
            "news",
            Priority::Low,
            LedgerState::Reserved,
        ),
        entry(
            "b",
            "2024-05-06T07:00:00Z",
            "marketing",
            Priority::Normal,
            LedgerState::Reserved,
        ),
    ];
    let mut c = candidate("c", Channel::Email, "marketing");
    c.priority = Priority::High;
    let d = Person::new().decide(&p, &Topics::default(), &c, &ledger, NOON);
    let keys: Vec<&str> = d.displaced.iter().map(|x| x.key.as_str()).collect();
    assert_eq!((d.reason, keys), (Reason::Sent, vec!["b"]));
}

#[test]
fn no_displacement_when_it_cannot_make_room() {
    let p = policy(json!({"caps": [{"max": 2, "window": "1d"}]}));
    let ledger = [
        entry(
            "s",
            "2024-05-06T07:00:00Z",
            "m",
            Priority::Low,
            LedgerState::Sent,
        ),
        entry(
            "r",
            "2024-05-06T08:00:00Z",
            "m",
            Priority::Normal,
            LedgerState::Reserved,
        ),
        entry(
            "r2",
            "2024-05-06T09:00:00Z",
            "m",
            Priority::Low,
            LedgerState::Reserved,
        ),
    ];
    // Three in the window, max 2: two must go, and only the reservations can; "r" is of the
    // candidate's own priority.
    let c = candidate("c", Channel::Email, "m");
    let d = Person::new().decide(&p, &Topics::default(), &c, &ledger, NOON);
    assert_eq!((d.reason, d.displaced.len()), (Reason::Capped, 0));
}
