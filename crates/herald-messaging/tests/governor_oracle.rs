//! The governor against a naive model of its documentation (`oracle/mod.rs`), over random
//! policies, time zones, people and streams of messages, with the clock moving: every
//! decision must equal the model's, and along the way
//! - no cap ever counts more than `max` messages in any window of what was sent or reserved;
//! - transactional messages are always sent (when the person has an unsuppressed address);
//! - a deferral's `until` is after `now`; decided again then, against the same ledger, a
//!   message deferred for quiet hours is not deferred for quiet hours again, and one deferred
//!   by a cap (or displaced and deferred) is sent, displacing nothing; the model finds no
//!   earlier such instant.
//!
//! The scenarios start a few days before DST transitions (Europe/Berlin, America/New_York,
//! Australia/Lord_Howe's half-hour shift) and use Asia/Kathmandu's +05:45 too.

mod oracle;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use herald_messaging::governor::{
    Cap, CappedAction, ClockTime, LedgerState, QuietAction, QuietHours, Window,
};
use herald_messaging::preferences::{
    ChannelPreferences, Status, Subscriptions, Suppression, SuppressionReason, Topic, TopicDefault,
    Topics,
};
use herald_messaging::{
    decide, Address, Candidate, Category, Channel, LedgerEntry, Outcome, PersonState, Policy,
    Priority, Reason,
};
use oracle::{Model, ModelPerson, STEP};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use std::cell::RefCell;

const BASES: [&str; 7] = [
    "2024-03-08T00:00:00Z", // New York springs forward on the 10th
    "2024-03-29T00:00:00Z", // Berlin springs forward on the 31st
    "2024-04-05T00:00:00Z", // Lord Howe falls back half an hour on the 7th
    "2024-10-04T00:00:00Z", // Lord Howe springs forward half an hour on the 6th
    "2024-10-25T00:00:00Z", // Berlin falls back on the 27th
    "2024-11-01T00:00:00Z", // New York falls back on the 3rd
    "2024-06-12T00:00:00Z", // no transition
];
/// The zone whose transition each base date is close to (the last: any).
const NATURAL_ZONE: [usize; 7] = [2, 1, 4, 4, 1, 2, 0];
const ZONES: [&str; 5] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
];
const WINDOWS: [u64; 5] = [3_600, 3 * 3_600, 6 * 3_600, 86_400, 2 * 86_400];
const CATEGORIES: [&str; 2] = ["marketing", "news"];
/// Messages arrive over this many days.
const SPAN_DAYS: u64 = 3;

#[derive(Debug, Clone)]
struct Arrival {
    slot: i64,
    channel: Channel,
    category: usize,
    priority: Priority,
    transactional: bool,
    holdout: bool,
    topic: Option<&'static str>,
    /// Slots from its reservation until it is handed to the provider (sent).
    delay: i64,
}

#[derive(Debug, Clone)]
struct Scenario {
    base: usize,
    policy_zone: usize,
    /// An index into ZONES, or ZONES.len() for a name that is not a zone.
    person_zone: Option<usize>,
    caps: Vec<(Option<Channel>, Option<usize>, u32, usize)>,
    quiet: Option<(u32, u32, QuietAction, usize)>,
    on_capped: CappedAction,
    person: ModelPerson,
    /// Messages of the days before, sent or reserved under some earlier policy: windows may
    /// hold more than a cap's `max` (a cap was lowered).
    history: Vec<Arrival>,
    arrivals: Vec<Arrival>,
}

fn channel() -> impl Strategy<Value = Channel> {
    prop_oneof![3 => Just(Channel::Email), 1 => Just(Channel::Sms)]
}

fn priority() -> impl Strategy<Value = Priority> {
    prop::sample::select(Priority::ALL.to_vec())
}

fn explicit_status() -> impl Strategy<Value = Option<Status>> {
    prop_oneof![
        2 => Just(None),
        3 => Just(Some(Status::Subscribed)),
        1 => Just(Some(Status::Unsubscribed)),
        1 => Just(Some(Status::PendingConfirmation)),
    ]
}

fn person() -> impl Strategy<Value = ModelPerson> {
    (
        prop::bool::weighted(0.95),
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.05),
        explicit_status(),
        explicit_status().prop_filter("offers is not double opt-in", |s| {
            *s != Some(Status::PendingConfirmation)
        }),
    )
        .prop_map(
            |(email, sms, sup_email, sup_sms, unsub_email, news, offers)| {
                let mut suppressed = BTreeSet::new();
                if sup_email {
                    suppressed.insert(Channel::Email);
                }
                if sup_sms {
                    suppressed.insert(Channel::Sms);
                }
                let mut unsubscribed = BTreeSet::new();
                if unsub_email {
                    unsubscribed.insert(Channel::Email);
                }
                ModelPerson {
                    email: email.then(|| Address::Email {
                        email: "ana@example.com".into(),
                    }),
                    sms: sms.then(|| Address::Sms {
                        phone: "+4915123456789".into(),
                    }),
                    suppressed,
                    unsubscribed,
                    news,
                    offers,
                }
            },
        )
}

fn arrival() -> impl Strategy<Value = Arrival> {
    (
        0..(SPAN_DAYS as i64 * 96),
        channel(),
        0..CATEGORIES.len(),
        priority(),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.03),
        prop_oneof![
            12 => Just(None),
            2 => Just(Some("news")),
            2 => Just(Some("offers")),
            1 => Just(Some("ghost")),
        ],
        0i64..32,
    )
        .prop_map(
            |(slot, channel, category, priority, transactional, holdout, topic, delay)| Arrival {
                slot,
                channel,
                category,
                priority,
                transactional,
                holdout,
                topic,
                delay,
            },
        )
}

/// A quiet-hours boundary, in half hours: often between 01:00 and 03:30, where the clocks of
/// the zones used jump or repeat.
fn boundary() -> impl Strategy<Value = u32> {
    prop_oneof![2 => 0u32..48, 1 => 2u32..8]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let cap = (
        prop::option::weighted(0.6, channel()),
        prop::option::weighted(0.5, 0..CATEGORIES.len()),
        1u32..=3,
        0..WINDOWS.len(),
    );
    let quiet = (
        boundary(),
        boundary(),
        prop_oneof![Just(QuietAction::Defer), Just(QuietAction::Drop)],
        0usize..3,
    )
        .prop_filter("start and end differ", |(s, e, _, _)| s != e);
    let zones = (
        0..BASES.len(),
        prop::bool::ANY,
        0..ZONES.len(),
        0..=ZONES.len(),
    );
    (
        zones,
        prop::collection::vec(cap, 0..=3),
        prop::option::weighted(0.6, quiet),
        prop_oneof![Just(CappedAction::Drop), Just(CappedAction::Defer)],
        person(),
        prop::collection::vec(arrival(), 0..8),
        prop::collection::vec(arrival(), 1..40),
    )
        .prop_map(
            |(
                (base, natural, policy_zone, person_zone),
                caps,
                quiet,
                on_capped,
                person,
                history,
                arrivals,
            )| {
                // Half the people live in the zone whose transition is near; the others
                // anywhere, or nowhere known (the policy's zone then).
                let person_zone = if natural {
                    Some(NATURAL_ZONE[base])
                } else {
                    Some(person_zone).filter(|z| *z != 0)
                };
                Scenario {
                    base,
                    policy_zone,
                    person_zone,
                    caps,
                    quiet,
                    on_capped,
                    person,
                    history,
                    arrivals,
                }
            },
        )
}

impl Scenario {
    fn policy(&self) -> Policy {
        let mut caps: Vec<Cap> = Vec::new();
        for (channel, category, max, window) in &self.caps {
            let cap = Cap {
                channel: *channel,
                category: category.map(|c| Category::parse(CATEGORIES[c]).unwrap()),
                max: *max,
                window: Window::from_secs(WINDOWS[*window]).unwrap(),
            };
            let duplicate = caps.iter().any(|c| {
                c.channel == cap.channel && c.category == cap.category && c.window == cap.window
            });
            if !duplicate {
                caps.push(cap);
            }
        }
        let quiet_hours = self.quiet.map(|(start, end, action, channels)| QuietHours {
            start: ClockTime::new(start / 2, (start % 2) * 30).unwrap(),
            end: ClockTime::new(end / 2, (end % 2) * 30).unwrap(),
            action,
            channels: match channels {
                0 => None,
                1 => Some(vec![Channel::Sms]),
                _ => Some(vec![Channel::Email, Channel::Sms]),
            },
        });
        Policy {
            timezone: ZONES[self.policy_zone].to_owned(),
            caps,
            quiet_hours,
            on_capped: self.on_capped,
        }
    }

    fn person_zone(&self) -> Option<&'static str> {
        self.person_zone
            .map(|z| ZONES.get(z).copied().unwrap_or("Nowhere/Invalid"))
    }

    fn candidates(&self) -> Vec<Candidate> {
        self.arrivals
            .iter()
            .enumerate()
            .map(|(i, a)| Candidate {
                key: format!("m{i:02}"),
                channel: a.channel,
                category: Category::parse(CATEGORIES[a.category]).unwrap(),
                topic: a.topic.map(str::to_owned),
                transactional: a.transactional,
                priority: a.priority,
                holdout: a.holdout,
            })
            .collect()
    }
}

fn topics() -> Topics {
    let topic = |key: &str, default, double_opt_in| Topic {
        key: key.into(),
        channel: Channel::Email,
        default,
        description: String::new(),
        double_opt_in,
    };
    Topics::new(vec![
        topic("news", TopicDefault::OptIn, true),
        topic("offers", TopicDefault::OptOut, false),
    ])
    .unwrap()
}

fn subscriptions(p: &ModelPerson) -> Subscriptions {
    let mut email = ChannelPreferences {
        unsubscribed: p.unsubscribed.contains(&Channel::Email),
        topics: BTreeMap::new(),
    };
    for (key, status) in [("news", p.news), ("offers", p.offers)] {
        if let Some(status) = status {
            email.topics.insert(key.to_owned(), status);
        }
    }
    Subscriptions(BTreeMap::from([(Channel::Email, email)]))
}

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
        .filter(|r| *r != "displaced")
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
