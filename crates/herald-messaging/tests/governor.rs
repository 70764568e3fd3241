//! The governor's decisions, case by case (the property tests are in `governor_oracle.rs`).

use chrono::{DateTime, Utc};
use herald_messaging::governor::{Displaced, LedgerState};
use herald_messaging::preferences::{
    ChangeSource, Subscriptions, Suppression, SuppressionReason, Topic, TopicDefault, Topics,
};
use herald_messaging::{
    decide, Address, Candidate, Category, Channel, Decision, LedgerEntry, Outcome, PersonState,
    Policy, Priority, Reason,
};
use serde_json::json;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn candidate(key: &str, channel: Channel, category: &str) -> Candidate {
    Candidate {
        key: key.into(),
        channel,
        category: Category::parse(category).unwrap(),
        topic: None,
        transactional: false,
        priority: Priority::Normal,
        holdout: false,
    }
}

fn entry(
    key: &str,
    at_: &str,
    category: &str,
    priority: Priority,
    state: LedgerState,
) -> LedgerEntry {
    LedgerEntry {
        key: key.into(),
        at: at(at_),
        channel: Channel::Email,
        category: Category::parse(category).unwrap(),
        priority,
        transactional: false,
        state,
    }
}

fn email() -> Address {
    Address::Email {
        email: "ana@example.com".into(),
    }
}

struct Person {
    address: Option<Address>,
    timezone: Option<&'static str>,
    subscriptions: Subscriptions,
    suppressions: Vec<Suppression>,
}

impl Person {
    fn new() -> Person {
        Person {
            address: Some(email()),
            timezone: Some("Europe/Berlin"),
            subscriptions: Subscriptions::default(),
            suppressions: Vec::new(),
        }
    }

    fn decide(
        &self,
        policy: &Policy,
        topics: &Topics,
        c: &Candidate,
        ledger: &[LedgerEntry],
        now: &str,
    ) -> Decision {
        let state = PersonState {
            address: self.address.as_ref(),
            timezone: self.timezone,
            subscriptions: &self.subscriptions,
            suppressions: &self.suppressions,
        };
        decide(policy, topics, c, &state, ledger, at(now))
    }
}

fn policy(json: serde_json::Value) -> Policy {
    Policy::from_json(&json.to_string()).unwrap()
}

fn topics() -> Topics {
    Topics::new(vec![
        Topic {
            key: "newsletter".into(),
            channel: Channel::Email,
            default: TopicDefault::OptIn,
            description: String::new(),
            double_opt_in: false,
        },
        Topic {
            key: "product".into(),
            channel: Channel::Email,
            default: TopicDefault::OptOut,
            description: String::new(),
            double_opt_in: false,
        },
    ])
    .unwrap()
}

const NOON: &str = "2024-05-06T10:00:00Z"; // 12:00 in Berlin

#[test]
fn the_order_of_the_checks() {
    // Everything is wrong at once; each fix reveals the next check.
    let p = policy(json!({
        "caps": [{"max": 1, "window": "1d"}],
        "quiet_hours": {"start": "11:00", "end": "13:00", "action": "drop"}
    }));
    let t = topics();
    let ledger = [entry(
        "old",
        "2024-05-06T09:00:00Z",
        "marketing",
        Priority::High,
        LedgerState::Sent,
    )];
    let mut person = Person::new();
    person.address = None;
    person.suppressions = Suppression::of(&email(), SuppressionReason::HardBounce);
    person
        .subscriptions
        .unsubscribe_channel(Channel::Email, ChangeSource::Api);
    let mut c = candidate("m1", Channel::Email, "marketing");
    c.holdout = true;
    c.topic = Some("newsletter".into());

    let mut reasons = Vec::new();
    reasons.push(person.decide(&p, &t, &c, &ledger, NOON).reason);
    c.holdout = false;
    reasons.push(person.decide(&p, &t, &c, &ledger, NOON).reason);
    person.address = Some(email());
    reasons.push(person.decide(&p, &t, &c, &ledger, NOON).reason);
    person.suppressions.clear();
    reasons.push(person.decide(&p, &t, &c, &ledger, NOON).reason);
    person
        .subscriptions
        .resubscribe_channel(Channel::Email, ChangeSource::Api);
    reasons.push(person.decide(&p, &t, &c, &ledger, NOON).reason);
    let newsletter = t.get(Channel::Email, "newsletter").unwrap();
    person
        .subscriptions
        .subscribe(newsletter, ChangeSource::Api);
    reasons.push(person.decide(&p, &t, &c, &ledger, NOON).reason);
    let evening = "2024-05-06T16:00:00Z";
    reasons.push(person.decide(&p, &t, &c, &ledger, evening).reason);
    let next_day = "2024-05-07T16:00:00Z";
    reasons.push(person.decide(&p, &t, &c, &ledger, next_day).reason);
    assert_eq!(
        reasons,
        [
            Reason::Holdout,
            Reason::NoAddress,
            Reason::Suppressed,
            Reason::Unsubscribed,
            Reason::NotOptedIn,
            Reason::QuietHoursDropped,
            Reason::Capped,
            Reason::Sent,
        ]
    );
}

#[test]
fn transactional_messages_skip_consent_quiet_hours_and_caps_but_not_suppression() {
    let p = policy(json!({
        "caps": [{"max": 1, "window": "1d"}],
        "quiet_hours": {"start": "00:00", "end": "23:59", "action": "drop"}
    }));
    let ledger = [entry(
        "a",
        "2024-05-06T09:00:00Z",
        "receipts",
        Priority::Low,
        LedgerState::Sent,
    )];
    let mut person = Person::new();
    person
        .subscriptions
        .unsubscribe_channel(Channel::Email, ChangeSource::Api);
    let mut c = candidate("r1", Channel::Email, "receipts");
    c.transactional = true;
    c.topic = Some("deleted-topic".into());
    let d = person.decide(&p, &Topics::default(), &c, &ledger, NOON);
    assert_eq!(d.outcome, Outcome::Send { to: email() });
    assert_eq!(d.reason, Reason::Sent);
    person.suppressions = Suppression::of(&email(), SuppressionReason::Gdpr);
    let d = person.decide(&p, &Topics::default(), &c, &ledger, NOON);
    assert_eq!((d.outcome, d.reason), (Outcome::Skip, Reason::Suppressed));
}

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
fn topics_and_subscriptions() {
    let p = Policy::default();
    let t = topics();
    let mut person = Person::new();
    let mut c = candidate("m", Channel::Email, "marketing");
    c.topic = Some("product".into());
    assert_eq!(person.decide(&p, &t, &c, &[], NOON).reason, Reason::Sent);
    c.topic = Some("gone".into());
    assert_eq!(
        person.decide(&p, &t, &c, &[], NOON).reason,
        Reason::UnknownTopic
    );
    // A topic of the same key on another channel is another topic.
    c.topic = Some("product".into());
    c.channel = Channel::Sms;
    person.address = Some(Address::Sms {
        phone: "+4915123456789".into(),
    });
    assert_eq!(
        person.decide(&p, &t, &c, &[], NOON).reason,
        Reason::UnknownTopic
    );
    // An address of another channel is no address.
    person.address = Some(email());
    assert_eq!(
        person.decide(&p, &t, &c, &[], NOON).reason,
        Reason::NoAddress
    );
}

#[test]
fn quiet_hours_defer_to_their_exact_end_in_the_persons_zone() {
    let p = policy(json!({
        "timezone": "America/New_York",
        "quiet_hours": {"start": "21:00", "end": "08:00"}
    }));
    let c = candidate("m", Channel::Email, "marketing");
    let mut person = Person::new();
    // 23:30 in Berlin (CEST): until 08:00 CEST = 06:00 UTC.
    let d = person.decide(&p, &Topics::default(), &c, &[], "2024-05-06T21:30:00Z");
    assert_eq!(
        d.outcome,
        Outcome::Defer {
            until: at("2024-05-07T06:00:00Z")
        }
    );
    assert_eq!(d.reason, Reason::QuietHoursDeferred);
    // Unknown zone: the policy's, New York (EDT): 17:30 there is not quiet.
    person.timezone = Some("Europe/Atlantis");
    let d = person.decide(&p, &Topics::default(), &c, &[], "2024-05-06T21:30:00Z");
    assert_eq!(d.reason, Reason::Sent);
    person.timezone = None;
    let d = person.decide(&p, &Topics::default(), &c, &[], "2024-05-07T03:00:00Z");
    assert_eq!(
        d.outcome,
        Outcome::Defer {
            until: at("2024-05-07T12:00:00Z")
        }
    );
}

#[test]
fn quiet_hours_apply_to_their_channels_only() {
    let p = policy(json!({"quiet_hours": {"start": "00:00", "end": "23:00", "channels": ["sms"]}}));
    let c = candidate("m", Channel::Email, "marketing");
    assert_eq!(
        Person::new()
            .decide(&p, &Topics::default(), &c, &[], NOON)
            .reason,
        Reason::Sent
    );
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

#[test]
fn push_tokens_are_filtered_and_decisions_serialise() {
    let p = Policy::default();
    let mut person = Person::new();
    let push: Address = serde_json::from_value(json!({
        "channel": "push", "tokens": [{"token": "dead"}, {"token": "live", "platform": "android"}]
    }))
    .unwrap();
    person.address = Some(push);
    person.suppressions =
        vec![Suppression::parse(Channel::Push, "dead", SuppressionReason::InvalidToken).unwrap()];
    let c = candidate("p", Channel::Push, "marketing");
    let d = person.decide(&p, &Topics::default(), &c, &[], NOON);
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        json!({
            "outcome": "send", "reason": "sent",
            "to": {"channel": "push", "tokens": [{"token": "live", "platform": "android"}]}
        })
    );
    let deferred = Decision {
        outcome: Outcome::Defer { until: at(NOON) },
        reason: Reason::CappedDeferred,
        displaced: Vec::new(),
    };
    let v = serde_json::to_value(&deferred).unwrap();
    assert_eq!(
        v,
        json!({"outcome": "defer", "until": "2024-05-06T10:00:00Z", "reason": "capped_deferred"})
    );
    assert_eq!(serde_json::from_value::<Decision>(v).unwrap(), deferred);
    // No token left, or none at all.
    person
        .suppressions
        .push(Suppression::parse(Channel::Push, "live", SuppressionReason::Manual).unwrap());
    assert_eq!(
        person.decide(&p, &Topics::default(), &c, &[], NOON).reason,
        Reason::Suppressed
    );
    person.address = Some(Address::Push { tokens: Vec::new() });
    assert_eq!(
        person.decide(&p, &Topics::default(), &c, &[], NOON).reason,
        Reason::NoAddress
    );
}

#[test]
fn an_unvalidated_policy_is_decided_on_not_a_panic() {
    // `max: 0` is refused by validation; built in code it reads as 1.
    let p = Policy {
        caps: vec![herald_messaging::governor::Cap {
            channel: None,
            category: None,
            max: 0,
            window: "1d".parse().unwrap(),
        }],
        timezone: "Not/AZone".into(),
        on_capped: herald_messaging::governor::CappedAction::Defer,
        ..Policy::default()
    };
    assert_eq!(p.validate().unwrap_err().code(), "unknown_timezone");
    let c = candidate("m", Channel::Email, "marketing");
    let person = Person::new();
    assert_eq!(
        person.decide(&p, &Topics::default(), &c, &[], NOON).reason,
        Reason::Sent
    );
    let ledger = [entry(
        "a",
        "2024-05-06T09:00:00Z",
        "m",
        Priority::Normal,
        LedgerState::Sent,
    )];
    let d = person.decide(&p, &Topics::default(), &c, &ledger, NOON);
    assert_eq!(
        d.outcome,
        Outcome::Defer {
            until: at("2024-05-07T09:00:00Z")
        }
    );
}
