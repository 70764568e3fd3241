//! Facts: the per-profile event memory that audience and computed-trait rules read.
//!
//! Every event condition in the catalog (`performed "X" where …`, a computed trait's source, a
//! sequence step) is one *fact*: the list of the profile's matching events, as `(time, log
//! position, messageId, value)` hits, sorted by `(time, log position)`: between equal times the
//! event later in the log comes later, as for profile traits. An event counts once per
//! `(time, messageId)` (a duplicate older than the de-duplication window counts as its first
//! copy in the log). Facts are joins, like profile state: folding events in any order gives the
//! same facts, and merging two profiles is the union of their hits. Hits older than the longest
//! window any rule looks through are pruned (time only moves forward, so they can never count
//! again).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::rule::{Filter, Test};
use super::value::test_value;
use crate::event::{Event, EventType};

/// Which events a fact keeps, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct FactSpec {
    /// The event name as on timelines (track name, or `page`, `screen`, `identify`, `group`,
    /// `alias`); `None` matches every event.
    pub event: Option<String>,
    pub filters: Vec<Filter>,
    /// The property whose value a hit keeps (computed traits).
    pub property: Option<String>,
    /// Milliseconds of history the longest window using this fact reaches back; `None` keeps
    /// every hit.
    pub reach: Option<i64>,
}

impl FactSpec {
    pub fn matches(&self, event: &Event) -> bool {
        if let Some(name) = &self.event {
            if event.display_name() != name {
                return false;
            }
        }
        self.filters
            .iter()
            .all(|f| test_value(&f.test, event_property(event, &f.path), 0).0)
    }

    /// Whether a hit at `ts` can still be inside some window at `now` or later.
    pub fn keeps(&self, ts: i64, now: i64) -> bool {
        self.reach.is_none_or(|reach| ts > now - reach)
    }
}

/// An event property: `properties` (track, page, screen) or `traits` (identify, group), by
/// exact key first and then as a dotted path into nested objects.
pub fn event_property<'e>(event: &'e Event, path: &str) -> Option<&'e Value> {
    let bag = match event.event_type {
        EventType::Identify | EventType::Group => "traits",
        _ => "properties",
    };
    let object = event.payload.get(bag)?.as_object()?;
    lookup(object, path)
}

/// A value in an object by exact key, else by dotted path.
pub fn lookup<'v>(object: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    if let Some(v) = object.get(path) {
        return Some(v);
    }
    let mut parts = path.split('.');
    let mut current = object.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// One matching event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Event time, Unix milliseconds.
    #[serde(rename = "t")]
    pub ts: i64,
    /// A hash of its `messageId` ([`message_key`]): what makes one event count once.
    #[serde(rename = "m")]
    pub id: u64,
    /// Its log position: the order between equal times. Hits stored before positions were
    /// kept read it as 0.
    #[serde(rename = "s", default)]
    pub seq: u64,
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// The facts of one profile, by fact id.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProfileFacts {
    pub facts: BTreeMap<String, Vec<Hit>>,
}

impl ProfileFacts {
    /// Record `event`, at log position `seq`, in every fact it matches; returns the ids of the
    /// facts that changed.
    pub fn fold(
        &mut self,
        specs: &BTreeMap<String, FactSpec>,
        seq: u64,
        event: &Event,
        now: i64,
    ) -> Vec<String> {
        let mut touched = Vec::new();
        let ts = event.timestamp.timestamp_millis();
        for (id, spec) in specs {
            if !spec.keeps(ts, now) || !spec.matches(event) {
                continue;
            }
            let value = spec
                .property
                .as_deref()
                .and_then(|p| event_property(event, p))
                .cloned();
            let hits = self.facts.entry(id.clone()).or_default();
            let hit = Hit {
                ts,
                id: message_key(&event.message_id),
                seq,
                value,
            };
            if insert_hit(hits, hit) {
                touched.push(id.clone());
            }
        }
        touched
    }

    /// Union with another profile's facts (a merge).
    pub fn merge(&mut self, other: ProfileFacts) {
        for (id, hits) in other.facts {
            let mine = self.facts.entry(id).or_default();
            mine.extend(hits);
            normalize_hits(mine);
        }
    }

    /// Drop hits no window can see any more, and facts the catalog no longer has. Returns the
    /// ids of the facts it changed.
    pub fn prune(&mut self, specs: &BTreeMap<String, FactSpec>, now: i64) -> Vec<String> {
        let mut changed = Vec::new();
        self.facts.retain(|id, hits| {
            let before = hits.len();
            match specs.get(id) {
                None => hits.clear(),
                Some(spec) => hits.retain(|h| spec.keeps(h.ts, now)),
            }
            if hits.len() != before || hits.is_empty() {
                changed.push(id.clone());
            }
            !hits.is_empty()
        });
        changed
    }

    pub fn hits(&self, id: &str) -> &[Hit] {
        self.facts.get(id).map_or(&[], Vec::as_slice)
    }

    pub fn hit_count(&self) -> usize {
        self.facts.values().map(Vec::len).sum()
    }
}

/// Insert `hit` into `hits` (sorted by `(time, log position)`): a hit of the same `(time,
/// messageId)` later in the log is replaced, one earlier keeps its place. Returns whether
/// `hits` changed.
fn insert_hit(hits: &mut Vec<Hit>, hit: Hit) -> bool {
    let (start, end) = (
        hits.partition_point(|h| h.ts < hit.ts),
        hits.partition_point(|h| h.ts <= hit.ts),
    );
    if let Some(i) = (start..end).find(|&i| hits[i].id == hit.id) {
        if hits[i].seq <= hit.seq {
            return false;
        }
        hits.remove(i);
    }
    let at = hits.partition_point(|h| (h.ts, h.seq) < (hit.ts, hit.seq));
    hits.insert(at, hit);
    true
}

/// Sort hits by `(time, log position)`, keeping one per `(time, messageId)`: the first in the
/// log.
pub fn normalize_hits(hits: &mut Vec<Hit>) {
    hits.sort_by_key(|h| (h.ts, h.id, h.seq));
    hits.dedup_by_key(|h| (h.ts, h.id));
    hits.sort_by_key(|h| (h.ts, h.seq));
}

/// The compact key of a `messageId` kept in hits (64 bits of xxh3: facts stay small, and a
/// collision between two events of one profile at the same millisecond is negligible).
pub fn message_key(message_id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(message_id.as_bytes())
}

/// A stable id for a fact: a hash of its canonical JSON, so that the same condition in two
/// audiences (or after a restart) is the same fact.
pub fn fact_id(event: Option<&str>, filters: &[Filter], property: Option<&str>) -> String {
    let filters: Vec<Value> = filters
        .iter()
        .map(|f| Value::Array(vec![Value::from(f.path.as_str()), test_key(&f.test)]))
        .collect();
    let key = serde_json::json!([event, filters, property]).to_string();
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
}

fn test_key(test: &Test) -> Value {
    let probe = super::json::to_json(&super::rule::Rule::Trait {
        path: String::new(),
        test: test.clone(),
    });
    serde_json::json!([probe.get("op"), probe.get("value")])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience::catalog::{sequence_holds, Aggregate, ComputedTrait};
    use crate::audience::rule::Window;
    use crate::event::{ParseContext, TimeMode};
    use crate::timestamp::parse_timestamp;
    use proptest::prelude::*;
    use serde_json::json;

    fn event(name: &str, message_id: &str, ms: i64, value: u8) -> Event {
        let ctx = ParseContext {
            received_at: parse_timestamp("2026-01-01T00:00:00Z").unwrap(),
            batch_sent_at: None,
            implied_type: None,
            time_mode: TimeMode::Import,
            fallback_message_id: || "x".to_owned(),
        };
        let v = json!({"type": "track", "userId": "u", "event": name, "messageId": message_id,
            "timestamp": format!("2026-01-01T00:00:00.00{ms}Z"), "properties": {"v": value}});
        Event::parse(v, &ctx).unwrap()
    }

    fn specs() -> BTreeMap<String, FactSpec> {
        ["A", "B"]
            .into_iter()
            .map(|name| {
                let spec = FactSpec {
                    event: Some(name.into()),
                    filters: Vec::new(),
                    property: Some("v".into()),
                    reach: None,
                };
                (name.to_owned(), spec)
            })
            .collect()
    }

    /// What a fact must hold: the matching events, the first copy in the log of each
    /// `(time, messageId)`, in `(time, log position)` order.
    fn expected(log: &[(u64, Event)], name: &str) -> Vec<(i64, u64, Value)> {
        let mut seen = std::collections::BTreeSet::new();
        let mut hits: Vec<(i64, u64, Value)> = log
            .iter()
            .filter(|(_, e)| e.display_name() == name)
            .filter(|(_, e)| seen.insert((e.timestamp, e.message_id.clone())))
            .map(|(seq, e)| {
                (
                    e.timestamp.timestamp_millis(),
                    *seq,
                    e.payload["properties"]["v"].clone(),
                )
            })
            .collect();
        hits.sort_by_key(|h| (h.0, h.1));
        hits
    }

    fn arb_log() -> impl Strategy<Value = Vec<(u64, Event)>> {
        let one = (
            prop::sample::select(vec!["A", "B"]),
            "[a-d]",
            0i64..2,
            0u8..5,
        );
        prop::collection::vec(one, 1..12).prop_map(|events| {
            events
                .into_iter()
                .enumerate()
                .map(|(i, (name, id, ms, v))| (i as u64 + 1, event(name, &id, ms, v)))
                .collect()
        })
    }

    proptest! {
        /// With ties in time and messageIds that say nothing of the order, facts order hits by
        /// log position, whatever order events are folded and merged in: `last` is the later
        /// event in the log, and a sequence A → B holds exactly when some B comes after some A.
        #[test]
        fn ties_in_facts_go_by_log_position(
            log in arb_log(),
            order in Just((0..12usize).collect::<Vec<_>>()).prop_shuffle(),
            split in 0usize..12,
        ) {
            let specs = specs();
            let shuffled: Vec<&(u64, Event)> = order.iter().filter(|&&i| i < log.len()).map(|&i| &log[i]).collect();
            let split = split.min(shuffled.len());
            let (mut facts, mut other) = (ProfileFacts::default(), ProfileFacts::default());
            for (n, (seq, e)) in shuffled.iter().enumerate() {
                let into = if n < split { &mut facts } else { &mut other };
                into.fold(&specs, *seq, e, 0);
            }
            facts.merge(other);
            for name in ["A", "B"] {
                let held: Vec<(i64, u64, Value)> = facts
                    .hits(name)
                    .iter()
                    .map(|h| (h.ts, h.seq, h.value.clone().unwrap()))
                    .collect();
                let want = expected(&log, name);
                prop_assert_eq!(&held, &want, "fact {}", name);
                let last = ComputedTrait {
                    name: "last".into(),
                    aggregate: Aggregate::Last,
                    event: Some(name.into()),
                    property: Some("v".into()),
                    filters: Vec::new(),
                    window: Window::Ever,
                };
                prop_assert_eq!(last.value(facts.hits(name), 0).0, want.last().map(|h| h.2.clone()));
            }
            let (a, b) = (expected(&log, "A"), expected(&log, "B"));
            let chain = a.iter().any(|x| b.iter().any(|y| (x.0, x.1) < (y.0, y.1)));
            let lists: Vec<Vec<&Hit>> = ["A", "B"].iter().map(|n| facts.hits(n).iter().collect()).collect();
            prop_assert_eq!(sequence_holds(&lists, 1_000), chain);
        }
    }
}
