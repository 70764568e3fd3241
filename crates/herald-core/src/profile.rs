//! Profile and group state: a projection of the events attributed to them.
//!
//! Every field is a join of per-event contributions (last-writer-wins registers ordered by
//! `(timestamp, messageId)`, sums, minimums, maximums, set unions). So applying events in any
//! order gives the same state, and merging two profiles is exactly the state of their union of
//! events. Only splitting (unmerge, deletion) needs a replay from the log.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::{Event, EventType};

/// A value with the event time and message id that set it; the greater `(at, message_id)` wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamped<T> {
    pub value: T,
    pub at: DateTime<Utc>,
    pub message_id: String,
}

impl<T> Stamped<T> {
    fn newer_than(&self, other: &Stamped<T>) -> bool {
        (self.at, &self.message_id) > (other.at, &other.message_id)
    }
}

fn join_register<T>(slot: &mut Option<Stamped<T>>, candidate: Stamped<T>) {
    if slot.as_ref().is_none_or(|cur| candidate.newer_than(cur)) {
        *slot = Some(candidate);
    }
}

fn join_traits(
    into: &mut BTreeMap<String, Stamped<Value>>,
    key: String,
    candidate: Stamped<Value>,
) {
    match into.get(&key) {
        Some(cur) if !candidate.newer_than(cur) => {}
        _ => {
            into.insert(key, candidate);
        }
    }
}

fn join_min(slot: &mut Option<DateTime<Utc>>, t: DateTime<Utc>) {
    *slot = Some(slot.map_or(t, |cur| cur.min(t)));
}

fn join_max(slot: &mut Option<DateTime<Utc>>, t: DateTime<Utc>) {
    *slot = Some(slot.map_or(t, |cur| cur.max(t)));
}

/// The projected state of one person.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProfileState {
    pub traits: BTreeMap<String, Stamped<Value>>,
    /// Groups (accounts) the person belongs to, with the first time they joined.
    pub groups: BTreeMap<String, DateTime<Utc>>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub timezone: Option<Stamped<String>>,
    pub locale: Option<Stamped<String>>,
    /// Events per name: the track event name, or the call type for other calls.
    pub event_counts: BTreeMap<String, u64>,
    pub total_events: u64,
}

impl ProfileState {
    pub fn apply(&mut self, event: &Event) {
        let at = event.timestamp;
        let stamp = |value| Stamped {
            value,
            at,
            message_id: event.message_id.clone(),
        };
        if event.event_type == EventType::Identify {
            for (key, value) in identify_traits(event) {
                join_traits(&mut self.traits, key, stamp(value));
            }
        }
        if let (EventType::Group, Some(group)) = (event.event_type, &event.group_id) {
            let first = self.groups.entry(group.clone()).or_insert(at);
            *first = (*first).min(at);
        }
        if let Some(ctx) = event.context() {
            if let Some(tz) = ctx
                .get("timezone")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                join_register(&mut self.timezone, stamp(Value::Null).map(tz.to_owned()));
            }
            if let Some(locale) = ctx
                .get("locale")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                join_register(&mut self.locale, stamp(Value::Null).map(locale.to_owned()));
            }
        }
        join_min(&mut self.first_seen, at);
        join_max(&mut self.last_seen, at);
        *self
            .event_counts
            .entry(event.display_name().to_owned())
            .or_default() += 1;
        self.total_events += 1;
    }

    pub fn merge(&mut self, other: ProfileState) {
        for (key, value) in other.traits {
            join_traits(&mut self.traits, key, value);
        }
        for (group, joined) in other.groups {
            let first = self.groups.entry(group).or_insert(joined);
            *first = (*first).min(joined);
        }
        if let Some(t) = other.first_seen {
            join_min(&mut self.first_seen, t);
        }
        if let Some(t) = other.last_seen {
            join_max(&mut self.last_seen, t);
        }
        if let Some(tz) = other.timezone {
            join_register(&mut self.timezone, tz);
        }
        if let Some(locale) = other.locale {
            join_register(&mut self.locale, locale);
        }
        for (name, n) in other.event_counts {
            *self.event_counts.entry(name).or_default() += n;
        }
        self.total_events += other.total_events;
    }

    /// Traits as a plain JSON object (values only).
    pub fn trait_values(&self) -> Map<String, Value> {
        self.traits
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }
}

impl<T> Stamped<T> {
    fn map<U>(self, value: U) -> Stamped<U> {
        Stamped {
            value,
            at: self.at,
            message_id: self.message_id,
        }
    }
}

/// Identify traits: `context.traits` overlaid by top-level `traits` (RudderStack SDKs send both).
fn identify_traits(event: &Event) -> Map<String, Value> {
    let mut traits = event.context_traits().cloned().unwrap_or_default();
    if let Some(top) = event.traits() {
        traits.extend(top.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    traits
}

/// The projected state of one group (account), from `group` calls.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GroupState {
    pub traits: BTreeMap<String, Stamped<Value>>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
}

impl GroupState {
    /// Join another state of the same group into this one (the result does not depend on
    /// the order the two saw their events in).
    pub fn merge(&mut self, other: GroupState) {
        for (key, value) in other.traits {
            join_traits(&mut self.traits, key, value);
        }
        if let Some(t) = other.first_seen {
            join_min(&mut self.first_seen, t);
        }
        if let Some(t) = other.last_seen {
            join_max(&mut self.last_seen, t);
        }
    }

    pub fn apply(&mut self, event: &Event) {
        if let Some(traits) = event.traits() {
            for (key, value) in traits {
                let stamped = Stamped {
                    value: value.clone(),
                    at: event.timestamp,
                    message_id: event.message_id.clone(),
                };
                join_traits(&mut self.traits, key.clone(), stamped);
            }
        }
        join_min(&mut self.first_seen, event.timestamp);
        join_max(&mut self.last_seen, event.timestamp);
    }

    pub fn trait_values(&self) -> Map<String, Value> {
        self.traits
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ParseContext, TimeMode};
    use crate::timestamp::parse_timestamp;
    use proptest::prelude::*;
    use serde_json::json;

    fn event(v: Value) -> Event {
        let ctx = ParseContext {
            received_at: parse_timestamp("2026-01-01T00:00:00Z").unwrap(),
            batch_sent_at: None,
            implied_type: None,
            time_mode: TimeMode::Import,
            fallback_message_id: || "x".to_owned(),
        };
        Event::parse(v, &ctx).unwrap()
    }

    #[test]
    fn later_identify_wins_even_when_it_arrives_first() {
        let newer = event(
            json!({"type":"identify","userId":"u","messageId":"b","timestamp":"2026-01-02T00:00:00Z","traits":{"plan":"pro"}}),
        );
        let older = event(
            json!({"type":"identify","userId":"u","messageId":"a","timestamp":"2026-01-01T00:00:00Z","traits":{"plan":"trial","name":"Ana"}}),
        );
        let mut state = ProfileState::default();
        state.apply(&newer);
        state.apply(&older);
        assert_eq!(
            state.trait_values(),
            json!({"plan":"pro","name":"Ana"})
                .as_object()
                .unwrap()
                .clone()
        );
    }

    fn arb_event() -> impl Strategy<Value = Event> {
        (0u8..4, 0i64..5, 0u8..3, 0u8..3, prop::sample::select(vec!["identify", "track", "group", "page"])).prop_map(
            |(msg, day, plan, tz, kind)| {
                event(json!({
                    "type": kind, "userId": "u", "event": "E", "groupId": "g", "messageId": format!("m{msg}-{day}-{plan}-{tz}-{kind}"),
                    "timestamp": format!("2026-01-0{}T00:00:00Z", day + 1),
                    "traits": {"plan": plan}, "context": {"timezone": format!("tz{tz}")}
                }))
            },
        )
    }

    proptest! {
        /// Merging the states of two halves equals applying all events to one state, in any order.
        #[test]
        fn merge_is_a_join(events in prop::collection::vec(arb_event(), 0..12), split in 0usize..12, rotate in 0usize..12) {
            let split = split.min(events.len());
            let mut left = ProfileState::default();
            let mut right = ProfileState::default();
            events[..split].iter().for_each(|e| left.apply(e));
            events[split..].iter().for_each(|e| right.apply(e));
            left.merge(right);

            let mut rotated = events.clone();
            if !rotated.is_empty() { let n = rotate % rotated.len(); rotated.rotate_left(n); }
            let mut whole = ProfileState::default();
            rotated.iter().for_each(|e| whole.apply(e));
            prop_assert_eq!(left, whole);
        }
    }
}
