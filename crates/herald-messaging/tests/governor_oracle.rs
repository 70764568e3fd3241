//! The governor against a naive model of its documentation (`oracle/mod.rs`), over random
//! policies, time zones, people and streams of messages, with the clock moving: every
//! decision must equal the model's, and along the way
//! - no cap ever counts more than `max` messages (sent or reserved) in a window ending at a
//!   message the governor admitted;
//! - transactional messages are always sent (when the person has an unsuppressed address);
//! - a deferral's `until` is after `now`; decided again then, against the same ledger, a
//!   message deferred for quiet hours is not deferred for quiet hours again, and one deferred
//!   by a cap (or displaced and deferred) is sent, displacing nothing; the model finds no
//!   earlier such instant.
//!
//! The scenarios (`oracle/scenario.rs`) start a few days before DST transitions (Europe/Berlin, America/New_York,
//! Australia/Lord_Howe's half-hour shift) and use Asia/Kathmandu's +05:45 too.

mod oracle;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use herald_messaging::governor::{CappedAction, LedgerState, QuietAction};
use herald_messaging::preferences::{Suppression, SuppressionReason};
use herald_messaging::{
    decide, Address, Category, Channel, LedgerEntry, Outcome, PersonState, Priority, Reason,
};
use oracle::scenario::{
    scenario, subscriptions, topics, Arrival, Scenario, BASES, CATEGORIES, ZONES,
};
use oracle::{Model, ModelPerson, STEP};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

/// What happened in a run, by decision reason and for displaced messages by fate.
type Seen = BTreeMap<String, usize>;

fn run(s: &Scenario) -> Result<Seen, TestCaseError> {
    let mut seen = Seen::new();
    let base: DateTime<Utc> = BASES[s.base].parse().unwrap();
    let policy = s.policy();
    prop_assert!(policy.validate().is_ok(), "{:?}", policy.validate());
    let tz: Tz = s
        .person_zone()
        .and_then(|z| z.parse().ok())
        .unwrap_or_else(|| ZONES[s.policy_zone].parse().unwrap());
    let model = Model::new(policy.clone(), s.person.clone(), tz);
    let topics = topics();
    let subs = subscriptions(&s.person);
    let mut suppressions = Vec::new();
    for channel in &s.person.suppressed {
        let address = match channel {
            Channel::Email => s.person.email.as_ref(),
            _ => s.person.sms.as_ref(),
        };
        if let Some(address) = address {
            suppressions.extend(Suppression::of(address, SuppressionReason::HardBounce));
        }
    }
    let state = |channel: Channel| PersonState {
        address: match channel {
            Channel::Email => s.person.email.as_ref(),
            _ => s.person.sms.as_ref(),
        },
        timezone: s.person_zone(),
        subscriptions: &subs,
        suppressions: &suppressions,
    };

    let candidates = s.candidates();
    let index: HashMap<&str, usize> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.key.as_str(), i))
        .collect();
    let mut queue: BTreeMap<(DateTime<Utc>, usize), usize> = BTreeMap::new();
    let mut seq = 0;
    for (i, a) in s.arrivals.iter().enumerate() {
        queue.insert((base + Duration::seconds(a.slot * STEP), seq), i);
        seq += 1;
    }
    let mut ledger: Vec<LedgerEntry> = Vec::new();
    let mut send_at: HashMap<String, DateTime<Utc>> = HashMap::new();
    for (i, h) in s.history.iter().enumerate() {
        // Within the two days before the base; half of them still reserved.
        let at = base - Duration::seconds((h.slot % 192 + 1) * STEP);
        let key = format!("h{i:02}");
        let reserved = h.delay % 2 == 0;
        let sent_at = if reserved {
            base + Duration::seconds(h.delay * STEP)
        } else {
            at
        };
        send_at.insert(key.clone(), sent_at);
        ledger.push(LedgerEntry {
            key,
            at,
            channel: h.channel,
            category: Category::parse(CATEGORIES[h.category]).unwrap(),
            priority: h.priority,
            transactional: h.transactional,
            state: if reserved {
                LedgerState::Reserved
            } else {
                LedgerState::Sent
            },
        });
    }
    let mut decisions = 0;
    while let Some(((now, _), i)) = queue.pop_first() {
        decisions += 1;
        prop_assert!(decisions < 1_000, "the simulation does not settle");
        for e in ledger.iter_mut() {
            if e.state == LedgerState::Reserved && send_at[&e.key] <= now {
                e.state = LedgerState::Sent;
            }
        }
        let c = &candidates[i];
        let d = decide(&policy, &topics, c, &state(c.channel), &ledger, now);
        let expected = model.decide(c, &ledger, now);
        prop_assert_eq!(Some(&d), expected.as_ref(), "{} at {}", c.key, now);
        *seen.entry(d.reason.as_str().to_owned()).or_default() += 1;
        for x in &d.displaced {
            let fate = if x.defer_until.is_some() {
                "displaced_deferred"
            } else {
                "displaced_dropped"
            };
            *seen.entry(fate.to_owned()).or_default() += 1;
        }

        let reachable = !c.holdout
            && model_address(&s.person, c.channel)
            && !s.person.suppressed.contains(&c.channel);
        if c.transactional && reachable {
            let sent = matches!(d.outcome, Outcome::Send { .. });
            prop_assert!(
                sent && d.displaced.is_empty(),
                "transactional {} not sent",
                c.key
            );
        }
        match &d.outcome {
            Outcome::Send { .. } => {
                for x in &d.displaced {
                    let at = ledger.iter().position(|e| e.key == x.key);
                    prop_assert!(at.is_some(), "{} displaced twice", x.key);
                    let gone = ledger.remove(at.unwrap_or_default());
                    prop_assert_eq!(gone.state, LedgerState::Reserved);
                    prop_assert!(gone.priority < c.priority);
                }
                ledger.push(LedgerEntry::reserve(c, now));
                send_at.insert(
                    c.key.clone(),
                    now + Duration::seconds(s.arrivals[i].delay * STEP),
                );
                for x in &d.displaced {
                    // Only the run's own messages are requeued; history has no candidate.
                    let requeue = index.get(x.key.as_str());
                    if let (Some(until), Some(&loser)) = (x.defer_until, requeue) {
                        prop_assert!(until > now);
                        let loser = &candidates[loser];
                        let again = decide(
                            &policy,
                            &topics,
                            loser,
                            &state(loser.channel),
                            &ledger,
                            until,
                        );
                        prop_assert_eq!(
                            again.reason,
                            Reason::Sent,
                            "{} displaced to {}",
                            x.key,
                            until
                        );
                        prop_assert!(again.displaced.is_empty());
                        queue.insert((until, seq), index[loser.key.as_str()]);
                        seq += 1;
                    }
                }
            }
            Outcome::Defer { until } => {
                prop_assert!(*until > now);
                let again = decide(&policy, &topics, c, &state(c.channel), &ledger, *until);
                if d.reason == Reason::QuietHoursDeferred {
                    prop_assert_ne!(
                        again.reason,
                        Reason::QuietHoursDeferred,
                        "{} at {}",
                        c.key,
                        until
                    );
                } else {
                    prop_assert_eq!(d.reason, Reason::CappedDeferred);
                    prop_assert_eq!(again.reason, Reason::Sent, "{} at {}", c.key, until);
                    prop_assert!(again.displaced.is_empty());
                }
                queue.insert((*until, seq), i);
                seq += 1;
            }
            Outcome::Skip => {}
        }
        for (k, cap) in policy.caps.iter().enumerate() {
            let most = model.max_in_windows_ending_at_new_entries(k, &ledger);
            prop_assert!(
                most <= cap.max as usize,
                "cap {k} holds {most} > {}",
                cap.max
            );
        }
    }
    Ok(seen)
}

fn model_address(p: &ModelPerson, channel: Channel) -> bool {
    match channel {
        Channel::Email => p.email.is_some(),
        Channel::Sms => p.sms.is_some(),
        _ => false,
    }
}

/// 300 random scenarios; afterwards, every reason and both fates of a displaced message must
/// have come up, so that a generator that stopped reaching a case fails the test too.
#[test]
fn governor_agrees_with_the_model() {
    let mut runner = TestRunner::new(ProptestConfig::with_cases(300));
    let seen = RefCell::new(Seen::new());
    let result = runner.run(&scenario(), |s| {
        for (what, n) in run(&s)? {
            *seen.borrow_mut().entry(what).or_default() += n;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner();
    let mut expected: Vec<&str> = Reason::ALL
        .iter()
        .map(|r| r.as_str())
        // `cancelled` is a broadcast's, never the governor's.
        .filter(|r| !["displaced", "cancelled"].contains(r))
        .collect();
    expected.extend(["displaced_deferred", "displaced_dropped"]);
    for what in expected {
        let n = seen.get(what).copied().unwrap_or(0);
        assert!(n >= 5, "{what} came up {n} times: {seen:?}");
    }
}

/// A scenario built by hand where everything happens: quiet hours over Berlin's spring-forward
/// night, tight caps, all priorities, deferrals and displacements.
#[test]
fn a_busy_night_in_berlin() {
    let mut arrivals = Vec::new();
    for i in 0..60 {
        arrivals.push(Arrival {
            slot: (i * 7) % 288,
            channel: if i % 4 == 0 {
                Channel::Sms
            } else {
                Channel::Email
            },
            category: (i % 2) as usize,
            priority: Priority::ALL[(i % 4) as usize],
            transactional: i % 13 == 0,
            holdout: false,
            topic: None,
            delay: i % 5,
        });
    }
    let s = Scenario {
        base: 1,
        policy_zone: 1,
        person_zone: Some(1),
        caps: vec![
            (Some(Channel::Email), Some(0), 2, 3),
            (None, None, 3, 2),
            (Some(Channel::Sms), None, 1, 1),
        ],
        quiet: Some((45, 5, QuietAction::Defer, 0)),
        on_capped: CappedAction::Defer,
        history: Vec::new(),
        person: ModelPerson {
            email: Some(Address::Email {
                email: "ana@example.com".into(),
            }),
            sms: Some(Address::Sms {
                phone: "+4915123456789".into(),
            }),
            suppressed: BTreeSet::new(),
            unsubscribed: BTreeSet::new(),
            news: None,
            offers: None,
        },
        arrivals,
    };
    let seen = match run(&s) {
        Ok(seen) => seen,
        Err(e) => panic!("{e}"),
    };
    for what in [
        "sent",
        "capped_deferred",
        "quiet_hours_deferred",
        "displaced_deferred",
    ] {
        assert!(seen.contains_key(what), "{what}: {seen:?}");
    }
}

/// Quiet 03:00 to 02:30 in Berlin over the spring-forward night of 2024-03-31, when both
/// boundaries fall into the skipped hour and two quiet windows touch: messages arriving that
/// night wait until 02:30 CEST on April 1st, not until the jump.
#[test]
fn quiet_windows_touching_on_a_spring_forward_night() {
    let arrivals = (0..16)
        .map(|i| Arrival {
            slot: 136 + 4 * i, // from 2024-03-30T10:00Z, every hour
            channel: Channel::Email,
            category: 0,
            priority: Priority::Normal,
            transactional: false,
            holdout: false,
            topic: None,
            delay: 1,
        })
        .collect();
    let s = Scenario {
        base: 1,
        policy_zone: 0,
        person_zone: Some(1),
        caps: vec![(None, None, 3, 3)],
        quiet: Some((6, 5, QuietAction::Defer, 0)),
        on_capped: CappedAction::Defer,
        history: Vec::new(),
        person: ModelPerson {
            email: Some(Address::Email {
                email: "ana@example.com".into(),
            }),
            sms: None,
            suppressed: BTreeSet::new(),
            unsubscribed: BTreeSet::new(),
            news: None,
            offers: None,
        },
        arrivals,
    };
    let seen = match run(&s) {
        Ok(seen) => seen,
        Err(e) => panic!("{e}"),
    };
    assert!(seen.contains_key("quiet_hours_deferred"), "{seen:?}");
}
