//! What the governor's case tests share: a person, messages and ledger entries in a line.

#![allow(dead_code)] // each test file uses its part

use chrono::{DateTime, Utc};
use herald_messaging::governor::LedgerState;
use herald_messaging::preferences::{Subscriptions, Suppression, Topic, TopicDefault, Topics};
use herald_messaging::{
    decide, Address, Candidate, Category, Channel, Decision, LedgerEntry, PersonState, Policy,
    Priority,
};

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub fn candidate(key: &str, channel: Channel, category: &str) -> Candidate {
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

pub fn entry(
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

pub fn email() -> Address {
    Address::Email {
        email: "ana@example.com".into(),
    }
}

pub struct Person {
    pub address: Option<Address>,
    pub timezone: Option<&'static str>,
    pub subscriptions: Subscriptions,
    pub suppressions: Vec<Suppression>,
}

impl Person {
    pub fn new() -> Person {
        Person {
            address: Some(email()),
            timezone: Some("Europe/Berlin"),
            subscriptions: Subscriptions::default(),
            suppressions: Vec::new(),
        }
    }

    pub fn decide(
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

pub fn policy(json: serde_json::Value) -> Policy {
    Policy::from_json(&json.to_string()).unwrap()
}

pub fn topics() -> Topics {
    Topics::new(vec![
        Topic {
            key: "newsletter".into(),
            channel: Channel::Email,
            default: TopicDefault::OptIn,
            description: String::new(),
            double_opt_in: false,
            confirmation_template: None,
        },
        Topic {
            key: "product".into(),
            channel: Channel::Email,
            default: TopicDefault::OptOut,
            description: String::new(),
            double_opt_in: false,
            confirmation_template: None,
        },
    ])
    .unwrap()
}

pub const NOON: &str = "2024-05-06T10:00:00Z"; // 12:00 in Berlin
