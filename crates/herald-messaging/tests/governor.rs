//! The governor's decisions, case by case: the order of the checks, consent, quiet hours
//! (caps and priorities: `governor_caps.rs`; the property tests: `governor_oracle.rs`).

mod support;

use herald_messaging::governor::LedgerState;
use herald_messaging::preferences::{ChangeSource, Suppression, SuppressionReason, Topics};
use herald_messaging::{Address, Channel, Decision, Outcome, Policy, Priority, Reason};
use serde_json::json;
use support::{at, candidate, email, entry, policy, topics, Person, NOON};

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
