//! Facts: the per-profile event memory that audience and computed-trait rules read.
//!
//! Every event condition in the catalog (`performed "X" where …`, a computed trait's source, a
//! sequence step) is one *fact*: the list of the profile's matching events, as `(time,
//! messageId, value)` hits, sorted. Facts are joins, like profile state: folding events in any
//! order gives the same facts, and merging two profiles is the union of their hits. Hits older
//! than the longest window any rule looks through are pruned (time only moves forward, so they
//! can never count again).

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
    /// A hash of its `messageId` ([`message_key`]): the tie-breaker between equal times, and
    /// what makes one event count once.
    #[serde(rename = "m")]
    pub id: u64,
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// The facts of one profile, by fact id.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProfileFacts {
    pub facts: BTreeMap<String, Vec<Hit>>,
}

impl ProfileFacts {
    /// Record `event` in every fact it matches; returns the ids of the facts that gained it.
    pub fn fold(
        &mut self,
        specs: &BTreeMap<String, FactSpec>,
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
                value,
            };
            let at = hits.partition_point(|h| (h.ts, &h.id) < (hit.ts, &hit.id));
            if hits
                .get(at)
                .is_none_or(|h| (h.ts, &h.id) != (hit.ts, &hit.id))
            {
                hits.insert(at, hit);
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
            mine.sort_by(|a, b| (a.ts, &a.id).cmp(&(b.ts, &b.id)));
            mine.dedup_by(|a, b| (a.ts, &a.id) == (b.ts, &b.id));
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
