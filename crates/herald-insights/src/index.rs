//! The columnar index: events in (person, time) order, names, property keys and values as
//! dictionary codes, persons as dense ids.
//!
//! Two segments: `base`, physically ordered by `(person, ts, seq)` with each person's events
//! in one run (`base_start`), and `delta`, the events appended since `base` was built, in
//! arrival order with a permutation (`delta_order`) that orders them the same way. A person's
//! events are the merge of their base run and their delta run. Forgetting a person marks
//! their events dead (a bit per event); compaction rewrites `base` without dead events and
//! with `delta` merged in, once `delta` or the dead events reach a quarter of `base`, so
//! appends cost amortised O(1) copies and queries never merge a large delta.

use serde_json::{Map, Value};

use crate::dict::{Dict, Persons};
use crate::EventKind;

/// Compaction waits at least for this many appended or dead events.
const MIN_COMPACTION: usize = 65_536;

/// One event to add to the index.
#[derive(Debug, Clone, Copy)]
pub struct EventInput<'a> {
    /// The event's log position: unique, and the tie-breaker between equal timestamps.
    pub seq: u64,
    /// The profile the event is attributed to now.
    pub profile: &'a str,
    /// The event's (skew-corrected) time, ms since the epoch.
    pub ts_ms: i64,
    pub kind: EventKind,
    /// The name the timeline shows: a track event's `event`, else the type (`page`, ...).
    pub name: &'a str,
    /// The event's `properties` object; only its top-level scalars are indexed.
    pub properties: Option<&'a Map<String, Value>>,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Segment {
    pub(crate) seq: Vec<u64>,
    /// Delta only (base knows its persons by `base_start`).
    pub(crate) person: Vec<u32>,
    pub(crate) ts: Vec<i64>,
    pub(crate) name: Vec<u32>,
    /// Event `i`'s properties are `prop_key/prop_val[prop_start[i]..prop_start[i + 1]]`.
    pub(crate) prop_start: Vec<u32>,
    pub(crate) prop_key: Vec<u32>,
    pub(crate) prop_val: Vec<u32>,
    dead: Vec<u64>,
}

impl Segment {
    fn new() -> Segment {
        Segment {
            prop_start: vec![0],
            ..Segment::default()
        }
    }

    fn len(&self) -> usize {
        self.ts.len()
    }

    fn is_dead(&self, i: usize) -> bool {
        self.dead
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn kill(&mut self, i: usize) -> bool {
        if self.dead.len() <= i / 64 {
            self.dead.resize(i / 64 + 1, 0);
        }
        let was = self.dead[i / 64] & (1 << (i % 64)) != 0;
        self.dead[i / 64] |= 1 << (i % 64);
        !was
    }

    fn push(&mut self, seq: u64, ts: i64, name: u32, props: &[(u32, u32)]) {
        self.seq.push(seq);
        self.ts.push(ts);
        self.name.push(name);
        for &(k, v) in props {
            self.prop_key.push(k);
            self.prop_val.push(v);
        }
        self.prop_start.push(self.prop_key.len() as u32);
    }

    fn copy_from(&mut self, other: &Segment, i: usize) {
        let (a, b) = (
            other.prop_start[i] as usize,
            other.prop_start[i + 1] as usize,
        );
        self.seq.push(other.seq[i]);
        self.ts.push(other.ts[i]);
        self.name.push(other.name[i]);
        self.prop_key.extend_from_slice(&other.prop_key[a..b]);
        self.prop_val.extend_from_slice(&other.prop_val[a..b]);
        self.prop_start.push(self.prop_key.len() as u32);
    }

    fn memory_bytes(&self) -> usize {
        self.seq.capacity() * 8
            + self.person.capacity() * 4
            + self.ts.capacity() * 8
            + self.name.capacity() * 4
            + self.prop_start.capacity() * 4
            + self.prop_key.capacity() * 4
            + self.prop_val.capacity() * 4
            + self.dead.capacity() * 8
    }
}

/// An event of the index: which segment, and where in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EvRef {
    pub(crate) delta: bool,
    pub(crate) i: u32,
}

/// The index. See the crate documentation for what it holds and the invariant its
/// maintainer keeps.
#[derive(Debug, Clone)]
pub struct Index {
    /// Event names, keyed by `kind` and name (`"track\u{0}Signed Up"`).
    pub(crate) names: Dict,
    pub(crate) name_kind: Vec<EventKind>,
    pub(crate) keys: Dict,
    pub(crate) values: Dict,
    /// The value's number when its text is a decimal number, else NaN.
    pub(crate) value_num: Vec<f64>,
    pub(crate) persons: Persons,
    pub(crate) base: Segment,
    /// Person `p`'s base events are `base_start[p]..base_start[p + 1]` (persons past the end
    /// have none).
    pub(crate) base_start: Vec<u32>,
    pub(crate) delta: Segment,
    /// Delta events ordered by (person, ts, seq).
    pub(crate) delta_order: Vec<u32>,
    dead: usize,
}

impl Default for Index {
    fn default() -> Self {
        Index::new()
    }
}

/// The text an indexed property value has: strings as they are, numbers in their shortest
/// form (`5.0` is `5`), booleans `true`/`false`; `None` for null, objects and arrays, which
/// are not indexed.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(number_text(n)),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// A text's number, if it is a decimal number (`"42"`, `"-1.5"`, `"2e3"`).
pub(crate) fn decimal(text: &str) -> f64 {
    let plausible = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    match text.parse::<f64>() {
        Ok(f) if plausible && f.is_finite() => f,
        _ => f64::NAN,
    }
}

impl Index {
    pub fn new() -> Index {
        Index {
            names: Dict::default(),
            name_kind: Vec::new(),
            keys: Dict::default(),
            values: Dict::default(),
            value_num: Vec::new(),
            persons: Persons::default(),
            base: Segment::new(),
            base_start: vec![0],
            delta: Segment::new(),
            delta_order: Vec::new(),
            dead: 0,
        }
    }

    /// Add events (any order, any persons). A seq already live in the index must not be
    /// added again: the maintainer forgets a person's events before re-adding them.
    pub fn append(&mut self, events: &[EventInput<'_>]) {
        if events.is_empty() {
            return;
        }
        let first = self.delta.len();
        let mut props = Vec::new();
        for e in events {
            let person = self.persons.intern(e.profile);
            let name = self.name_code(e.kind, e.name);
            props.clear();
            for (k, v) in e.properties.into_iter().flatten() {
                if let Some(text) = scalar_text(v) {
                    let key = self.keys.intern(k);
                    let value = self.values.intern(&text);
                    if value as usize == self.value_num.len() {
                        self.value_num.push(decimal(&text));
                    }
                    props.push((key, value));
                }
            }
            self.delta.person.push(person);
            self.delta.push(e.seq, e.ts_ms, name, &props);
        }
        let d = &self.delta;
        let key = |i: &u32| (d.person[*i as usize], d.ts[*i as usize], d.seq[*i as usize]);
        let mut fresh: Vec<u32> = (first as u32..d.len() as u32).collect();
        fresh.sort_unstable_by_key(key);
        let old = std::mem::take(&mut self.delta_order);
        let mut merged = Vec::with_capacity(old.len() + fresh.len());
        let (mut a, mut b) = (0, 0);
        while a < old.len() && b < fresh.len() {
            if key(&old[a]) <= key(&fresh[b]) {
                merged.push(old[a]);
                a += 1;
            } else {
                merged.push(fresh[b]);
                b += 1;
            }
        }
        merged.extend_from_slice(&old[a..]);
        merged.extend_from_slice(&fresh[b..]);
        self.delta_order = merged;
        self.maybe_compact();
    }

    fn name_code(&mut self, kind: EventKind, name: &str) -> u32 {
        let code = self.names.intern(&format!("{}\u{0}{name}", kind.as_str()));
        if code as usize == self.name_kind.len() {
            self.name_kind.push(kind);
        }
        code
    }

    /// Every track event name the index has seen, sorted: what completion offers after
    /// `performed`. Names stay once seen, even when every event that carried them is gone.
    pub fn event_names(&self) -> Vec<String> {
        let mut out: Vec<String> = (0..self.names.len() as u32)
            .filter(|&code| self.name_kind[code as usize] == EventKind::Track)
            .map(|code| self.name_text(code).to_owned())
            .collect();
        out.sort();
        out
    }

    /// Every top-level property name the index has seen, sorted.
    pub fn property_keys(&self) -> Vec<String> {
        let mut out: Vec<String> = self.keys.texts().map(str::to_owned).collect();
        out.sort();
        out
    }

    /// The display name of a name code.
    pub(crate) fn name_text(&self, code: u32) -> &str {
        let t = self.names.text(code);
        &t[t.find('\u{0}').map_or(0, |i| i + 1)..]
    }

    /// Forget every event of `profile`; returns their log positions (so that the caller can
    /// read back where they belong now).
    pub fn forget_profile(&mut self, profile: &str) -> Vec<u64> {
        let Some(p) = self.persons.get(profile) else {
            return Vec::new();
        };
        let mut seqs = Vec::new();
        for r in self.base_range(p) {
            if self.base.kill(r) {
                seqs.push(self.base.seq[r]);
            }
        }
        let range = self.delta_range(p);
        for k in range {
            let i = self.delta_order[k] as usize;
            if self.delta.kill(i) {
                seqs.push(self.delta.seq[i]);
            }
        }
        self.dead += seqs.len();
        self.maybe_compact();
        seqs
    }

    /// The log positions of `profile`'s live events.
    pub fn profile_seqs(&self, profile: &str) -> Vec<u64> {
        let Some(p) = self.persons.get(profile) else {
            return Vec::new();
        };
        let base = self
            .base_range(p)
            .filter(|i| !self.base.is_dead(*i))
            .map(|i| self.base.seq[i]);
        let delta = self.delta_range(p).map(|k| self.delta_order[k] as usize);
        let delta = delta
            .filter(|i| !self.delta.is_dead(*i))
            .map(|i| self.delta.seq[i]);
        base.chain(delta).collect()
    }

    fn base_range(&self, p: u32) -> std::ops::Range<usize> {
        let p = p as usize;
        if p + 1 < self.base_start.len() {
            self.base_start[p] as usize..self.base_start[p + 1] as usize
        } else {
            0..0
        }
    }

    fn delta_range(&self, p: u32) -> std::ops::Range<usize> {
        let person = |k: &u32| self.delta.person[*k as usize];
        let a = self.delta_order.partition_point(|k| person(k) < p);
        let b = self.delta_order.partition_point(|k| person(k) <= p);
        a..b
    }

    /// Live events in the index.
    pub fn len(&self) -> usize {
        self.base.len() + self.delta.len() - self.dead
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Persons (profiles) the index has seen, including those whose events were forgotten.
    pub fn person_count(&self) -> usize {
        self.persons.len()
    }

    /// The dense person id of a profile, if the index has seen it.
    pub fn person_of(&self, profile: &str) -> Option<u32> {
        self.persons.get(profile)
    }

    /// The profile id of a dense person id.
    pub fn profile_of(&self, person: u32) -> String {
        self.persons.profile(person)
    }

    /// Bytes the index holds, roughly (columns, dictionaries).
    pub fn memory_bytes(&self) -> usize {
        self.base.memory_bytes()
            + self.delta.memory_bytes()
            + self.base_start.capacity() * 4
            + self.delta_order.capacity() * 4
            + self.names.memory_bytes()
            + self.keys.memory_bytes()
            + self.values.memory_bytes()
            + self.value_num.capacity() * 8
            + self.persons.memory_bytes()
    }

    fn maybe_compact(&mut self) {
        let quarter = (self.base.len() / 4).max(MIN_COMPACTION);
        if self.delta.len() > quarter || self.dead > quarter {
            self.compact();
        }
    }

    /// Rewrite `base` with every live event in (person, ts, seq) order; `delta` empties.
    pub fn compact(&mut self) {
        let mut base = Segment::new();
        let live = self.len();
        base.seq.reserve_exact(live);
        base.ts.reserve_exact(live);
        base.name.reserve_exact(live);
        base.prop_start.reserve_exact(live + 1);
        let mut starts = Vec::with_capacity(self.persons.len() + 1);
        let mut scratch = Vec::new();
        let mut d = 0;
        for p in 0..self.persons.len() as u32 {
            starts.push(base.len() as u32);
            d = self.person_events(p, d, &mut scratch);
            for r in &scratch {
                let seg = if r.delta { &self.delta } else { &self.base };
                base.copy_from(seg, r.i as usize);
            }
        }
        starts.push(base.len() as u32);
        base.prop_key.shrink_to_fit();
        base.prop_val.shrink_to_fit();
        self.base = base;
        self.base_start = starts;
        self.delta = Segment::new();
        self.delta_order = Vec::new();
        self.dead = 0;
    }

    /// Person `p`'s live events in (ts, seq) order into `out`; `d` is where `p`'s delta run
    /// starts in `delta_order` or before it (a position at or after the previous person's
    /// run); returns where the run ends.
    pub(crate) fn person_events(&self, p: u32, mut d: usize, out: &mut Vec<EvRef>) -> usize {
        out.clear();
        let order = &self.delta_order;
        while d < order.len() && self.delta.person[order[d] as usize] < p {
            d += 1;
        }
        let start = d;
        while d < order.len() && self.delta.person[order[d] as usize] == p {
            d += 1;
        }
        let base = self.base_range(p);
        if start == d {
            // No delta run: the base run as it is (the common case after a compaction).
            let live = base.filter(|a| self.dead == 0 || !self.base.is_dead(*a));
            out.extend(live.map(|a| EvRef {
                delta: false,
                i: a as u32,
            }));
            return d;
        }
        let (mut a, mut b) = (base.start, start);
        while a < base.end || b < d {
            let take_base = if a == base.end {
                false
            } else if b == d {
                true
            } else {
                let j = order[b] as usize;
                (self.base.ts[a], self.base.seq[a]) <= (self.delta.ts[j], self.delta.seq[j])
            };
            if take_base {
                if !self.base.is_dead(a) {
                    out.push(EvRef {
                        delta: false,
                        i: a as u32,
                    });
                }
                a += 1;
            } else {
                let j = order[b] as usize;
                if !self.delta.is_dead(j) {
                    out.push(EvRef {
                        delta: true,
                        i: j as u32,
                    });
                }
                b += 1;
            }
        }
        d
    }

    /// Where person `p`'s delta run starts (for a shard starting at `p`).
    pub(crate) fn delta_start(&self, p: u32) -> usize {
        self.delta_order
            .partition_point(|k| self.delta.person[*k as usize] < p)
    }

    #[inline]
    pub(crate) fn seg(&self, r: EvRef) -> &Segment {
        if r.delta {
            &self.delta
        } else {
            &self.base
        }
    }

    #[inline]
    pub(crate) fn ts(&self, r: EvRef) -> i64 {
        self.seg(r).ts[r.i as usize]
    }

    #[inline]
    pub(crate) fn name(&self, r: EvRef) -> u32 {
        self.seg(r).name[r.i as usize]
    }

    /// The value code of property `key` of event `r`.
    #[inline]
    pub(crate) fn prop(&self, r: EvRef, key: u32) -> Option<u32> {
        let s = self.seg(r);
        let (a, b) = (
            s.prop_start[r.i as usize] as usize,
            s.prop_start[r.i as usize + 1] as usize,
        );
        s.prop_key[a..b]
            .iter()
            .position(|k| *k == key)
            .map(|x| s.prop_val[a + x])
    }

    /// Run `visit` over every person with live events (their events in (ts, seq) order),
    /// split into contiguous person shards over up to `threads` threads; one accumulator per
    /// shard, in person order.
    pub(crate) fn scan<A: Send>(
        &self,
        make: impl Fn() -> A + Sync,
        visit: impl Fn(&mut A, u32, &[EvRef]) + Sync,
    ) -> Vec<A> {
        let persons = self.persons.len() as u32;
        let threads = if self.len() < 200_000 {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(8)) as u32
        };
        let shard = |from: u32, to: u32| {
            let mut acc = make();
            let mut scratch = Vec::new();
            let mut d = self.delta_start(from);
            for p in from..to {
                d = self.person_events(p, d, &mut scratch);
                if !scratch.is_empty() {
                    visit(&mut acc, p, &scratch);
                }
            }
            acc
        };
        let shard = &shard;
        if threads <= 1 {
            return vec![shard(0, persons)];
        }
        // Shards of about equal numbers of base events.
        let total = self.base.len() as u64;
        let mut bounds = vec![0u32];
        for t in 1..threads {
            let target = total * t as u64 / threads as u64;
            let p = self.base_start.partition_point(|s| (*s as u64) < target) as u32;
            bounds.push(p.clamp(*bounds.last().unwrap(), persons));
        }
        bounds.push(persons);
        std::thread::scope(|s| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|w| {
                    let (from, to) = (w[0], w[1]);
                    s.spawn(move || shard(from, to))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("an insights shard panicked"))
                .collect()
        })
    }
}
