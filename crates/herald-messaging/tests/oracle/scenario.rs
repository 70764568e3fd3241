//! Random scenarios for the governor's simulation: a policy, a person, what they received
//! before, and a stream of messages, around the DST transitions of the zones used.

use std::collections::{BTreeMap, BTreeSet};

use herald_messaging::governor::{Cap, CappedAction, ClockTime, QuietAction, QuietHours, Window};
use herald_messaging::preferences::{
    ChannelPreferences, Status, Subscriptions, Topic, TopicDefault, Topics,
};
use herald_messaging::{Address, Candidate, Category, Channel, Policy, Priority};
use proptest::prelude::*;

use super::ModelPerson;

pub const BASES: [&str; 7] = [
    "2024-03-08T00:00:00Z", // New York springs forward on the 10th
    "2024-03-29T00:00:00Z", // Berlin springs forward on the 31st
    "2024-04-05T00:00:00Z", // Lord Howe falls back half an hour on the 7th
    "2024-10-04T00:00:00Z", // Lord Howe springs forward half an hour on the 6th
    "2024-10-25T00:00:00Z", // Berlin falls back on the 27th
    "2024-11-01T00:00:00Z", // New York falls back on the 3rd
    "2024-06-12T00:00:00Z", // no transition
];
/// The zone whose transition each base date is close to (the last: any).
pub const NATURAL_ZONE: [usize; 7] = [2, 1, 4, 4, 1, 2, 0];
pub const ZONES: [&str; 5] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
];
pub const WINDOWS: [u64; 5] = [3_600, 3 * 3_600, 6 * 3_600, 86_400, 2 * 86_400];
pub const CATEGORIES: [&str; 2] = ["marketing", "news"];
/// Messages arrive over this many days.
pub const SPAN_DAYS: u64 = 3;

#[derive(Debug, Clone)]
pub struct Arrival {
    pub slot: i64,
    pub channel: Channel,
    pub category: usize,
    pub priority: Priority,
    pub transactional: bool,
    pub holdout: bool,
    pub topic: Option<&'static str>,
    /// Slots from its reservation until it is handed to the provider (sent).
    pub delay: i64,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub base: usize,
    pub policy_zone: usize,
    /// An index into ZONES, or ZONES.len() for a name that is not a zone.
    pub person_zone: Option<usize>,
    pub caps: Vec<(Option<Channel>, Option<usize>, u32, usize)>,
    pub quiet: Option<(u32, u32, QuietAction, usize)>,
    pub on_capped: CappedAction,
    pub person: ModelPerson,
    /// Messages of the days before, sent or reserved under some earlier policy: windows may
    /// hold more than a cap's `max` (a cap was lowered).
    pub history: Vec<Arrival>,
    pub arrivals: Vec<Arrival>,
}

pub fn channel() -> impl Strategy<Value = Channel> {
    prop_oneof![3 => Just(Channel::Email), 1 => Just(Channel::Sms)]
}

pub fn priority() -> impl Strategy<Value = Priority> {
    prop::sample::select(Priority::ALL.to_vec())
}

pub fn explicit_status() -> impl Strategy<Value = Option<Status>> {
    prop_oneof![
        2 => Just(None),
        3 => Just(Some(Status::Subscribed)),
        1 => Just(Some(Status::Unsubscribed)),
        1 => Just(Some(Status::PendingConfirmation)),
    ]
}

pub fn person() -> impl Strategy<Value = ModelPerson> {
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

pub fn arrival() -> impl Strategy<Value = Arrival> {
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
pub fn boundary() -> impl Strategy<Value = u32> {
    prop_oneof![2 => 0u32..48, 1 => 2u32..8]
}

pub fn scenario() -> impl Strategy<Value = Scenario> {
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
    pub fn policy(&self) -> Policy {
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

    pub fn person_zone(&self) -> Option<&'static str> {
        self.person_zone
            .map(|z| ZONES.get(z).copied().unwrap_or("Nowhere/Invalid"))
    }

    pub fn candidates(&self) -> Vec<Candidate> {
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

pub fn topics() -> Topics {
    let topic = |key: &str, default, double_opt_in| Topic {
        key: key.into(),
        channel: Channel::Email,
        default,
        description: String::new(),
        double_opt_in,
        confirmation_template: None,
    };
    Topics::new(vec![
        topic("news", TopicDefault::OptIn, true),
        topic("offers", TopicDefault::OptOut, false),
    ])
    .unwrap()
}

pub fn subscriptions(p: &ModelPerson) -> Subscriptions {
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
