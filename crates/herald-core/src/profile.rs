//! Profile and group state: a projection of the events attributed to them.
//!
//! Every field is a join of per-event contributions (last-writer-wins registers ordered by
//! `(timestamp, log position)`, sums, minimums, maximums, set unions). So applying events in any
//! order gives the same state, and merging two profiles is exactly the state of their union of
//! events. Only splitting (unmerge, deletion) needs a replay from the log.
//!
//! The order of registers is total: the later event time wins, and between equal times the
//! event later in the log (the one that arrived later) wins. Log positions are unique, so two
//! different events never tie, and nothing arbitrary such as the `messageId` decides.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::{Event, EventType};

/// A value with the time and log position of the event that set it; the greater `(at, seq)`
/// wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamped<T> {
    pub value: T,
    pub at: DateTime<Utc>,
    /// The log position of the event. States stored before positions were kept read it as 0,
    /// so any event applied since wins a tie against them.
    #[serde(default)]
    pub seq: u64,
}

impl<T> Stamped<T> {
    fn newer_than(&self, other: &Stamped<T>) -> bool {
        (self.at, self.seq) > (other.at, other.seq)
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
    /// Apply the event at log position `seq`.
    pub fn apply(&mut self, seq: u64, event: &Event) {
        let at = event.timestamp;
        let stamp = |value| Stamped { value, at, seq };
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
            seq: self.seq,
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

    /// Apply the `group` call at log position `seq`.
    pub fn apply(&mut self, seq: u64, event: &Event) {
        if let Some(traits) = event.traits() {
            for (key, value) in traits {
                let stamped = Stamped {
                    value: value.clone(),
                    at: event.timestamp,
                    seq,
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
        state.apply(2, &newer);
        state.apply(3, &older);
        assert_eq!(
            state.trait_values(),
            json!({"plan":"pro","name":"Ana"})
                .as_object()
                .unwrap()
                .clone()
        );
    }

    #[test]
    fn equal_times_go_to_the_later_event_in_the_log() {
        // An SDK burst: identify, group, identify in the same millisecond; the later identify
        // has the smaller messageId, so ordering ties by messageId would keep "trial".
        let at = "2026-01-01T00:00:00.123Z";
        let trial = event(
            json!({"type":"identify","userId":"u","messageId":"z","timestamp":at,"traits":{"plan":"trial"},"context":{"timezone":"Europe/Paris"}}),
        );
        let group = event(
            json!({"type":"group","userId":"u","groupId":"g","messageId":"m","timestamp":at,"traits":{"plan":"team"}}),
        );
        let pro = event(
            json!({"type":"identify","userId":"u","messageId":"a","timestamp":at,"traits":{"plan":"pro"},"context":{"timezone":"Asia/Tokyo"}}),
        );
        let log = [(7, &trial), (8, &group), (9, &pro)];
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let mut state = ProfileState::default();
            for i in order {
                state.apply(log[i].0, log[i].1);
            }
            assert_eq!(
                state.trait_values()["plan"],
                json!("pro"),
                "order {order:?}"
            );
            assert_eq!(state.timezone.as_ref().unwrap().value, "Asia/Tokyo");
        }
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

    /// Events that mostly share their timestamp (two possible milliseconds), with random
    /// `messageId`s unrelated to their order.
    fn arb_tied_event() -> impl Strategy<Value = Event> {
        ("[a-z0-9]{1,8}", 0i64..2, 0u8..4, 0u8..4, prop::sample::select(vec!["identify", "group", "track"])).prop_map(
            |(message_id, ms, plan, tz, kind)| {
                event(json!({
                    "type": kind, "userId": "u", "event": "E", "groupId": "g", "messageId": message_id,
                    "timestamp": format!("2026-01-01T00:00:00.00{ms}Z"),
                    "traits": {"plan": plan}, "context": {"timezone": format!("tz{tz}")}
                }))
            },
        )
    }

    /// The log: events at consecutive positions, in the order generated.
    fn positioned(events: Vec<Event>) -> Vec<(u64, Event)> {
        events
            .into_iter()
            .enumerate()
            .map(|(i, e)| (i as u64 + 1, e))
            .collect()
    }

    /// The value a last-writer-wins field must hold: from the event with the greatest
    /// `(timestamp, log position)` among those `field` reads.
    fn latest<'e>(
        log: &'e [(u64, Event)],
        field: impl Fn(&Event) -> Option<Value> + 'e,
    ) -> Option<Value> {
        log.iter()
            .filter_map(|(seq, e)| field(e).map(|v| ((e.timestamp, *seq), v)))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, v)| v)
    }

    proptest! {
        /// Merging the states of two halves equals applying all events to one state, in any order.
        #[test]
        fn merge_is_a_join(events in prop::collection::vec(arb_event(), 0..12), split in 0usize..12, rotate in 0usize..12) {
            let log = positioned(events);
            let split = split.min(log.len());
            let mut left = ProfileState::default();
            let mut right = ProfileState::default();
            log[..split].iter().for_each(|(seq, e)| left.apply(*seq, e));
            log[split..].iter().for_each(|(seq, e)| right.apply(*seq, e));
            left.merge(right);

            let mut rotated = log.clone();
            if !rotated.is_empty() { let n = rotate % rotated.len(); rotated.rotate_left(n); }
            let mut whole = ProfileState::default();
            rotated.iter().for_each(|(seq, e)| whole.apply(*seq, e));
            prop_assert_eq!(left, whole);
        }

        /// With ties in time, every register holds the value of the event later in the log,
        /// whatever the order events are applied or merged in, and whatever their messageIds.
        #[test]
        fn ties_go_to_the_later_event_in_the_log(
            events in prop::collection::vec(arb_tied_event(), 1..12),
            order in Just((0..12usize).collect::<Vec<_>>()).prop_shuffle(),
            split in 0usize..12,
        ) {
            let log = positioned(events);
            let shuffled: Vec<&(u64, Event)> = order.iter().filter(|&&i| i < log.len()).map(|&i| &log[i]).collect();
            let split = split.min(shuffled.len());
            let mut profile = ProfileState::default();
            let mut other_half = ProfileState::default();
            let mut group = GroupState::default();
            let mut other_group = GroupState::default();
            for (n, (seq, e)) in shuffled.iter().enumerate() {
                let (p, g) = if n < split { (&mut profile, &mut group) } else { (&mut other_half, &mut other_group) };
                p.apply(*seq, e);
                if e.event_type == EventType::Group {
                    g.apply(*seq, e);
                }
            }
            profile.merge(other_half);
            group.merge(other_group);

            let plan = |kind: EventType| move |e: &Event| (e.event_type == kind).then(|| e.traits().unwrap()["plan"].clone());
            prop_assert_eq!(profile.trait_values().get("plan").cloned(), latest(&log, plan(EventType::Identify)));
            prop_assert_eq!(group.trait_values().get("plan").cloned(), latest(&log, plan(EventType::Group)));
            let timezone = profile.timezone.map(|tz| Value::from(tz.value));
            prop_assert_eq!(timezone, latest(&log, |e| e.context().map(|c| c["timezone"].clone())));
        }
    }
}
