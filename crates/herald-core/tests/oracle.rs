//! An independent oracle for identity resolution and profile state, written from the docs
//! (docs/identity.md, ARCHITECTURE.md "Invariants"), not from the code.
//!
//! The other randomized checks (`rebuild.rs`, the conformance suite, `herald verify`) run
//! `apply_event` on both sides, so they prove that the projection agrees with itself. Here the
//! expected state comes from [`model`], a deliberately naive model: it keeps the log as the JSON
//! that was sent and, after every step, recomputes the whole identity graph and every profile
//! from scratch, in log order, with plain sets (no union-find cleverness, no joins, no
//! incremental state). It reads only JSON and shares nothing with `resolve.rs`, `projection.rs`,
//! `profile.rs`, `split.rs` or `MemoryProjection` beyond the public types used to compare
//! (`Identifier`, `ProfileId`).
//!
//! What is compared after every step is what users see: which identifiers are on which
//! profile (the partition), each profile's id, which profile each logged event belongs to, the
//! open merges (event, winner, loser), every profile's traits, groups, first/last seen,
//! timezone, locale and event counts, the groups' traits, and which events the log keeps (with
//! their identifier fields, after deletions redact them).
//!
//! Readings of the docs where they are not explicit are marked `READING:` below.

use std::collections::{BTreeMap, BTreeSet};

use herald_core::event::{Event, ParseContext, TimeMode};
use herald_core::identity::{IdKind, Identifier, IdentityRules, ProfileId};
use herald_core::memory::MemoryProjection;
use herald_core::projection::{apply_event, Applied};
use herald_core::split::{delete_person, unmerge};
use herald_core::timestamp::parse_timestamp;
use proptest::prelude::*;
use serde_json::{json, Value};

mod model {
    //! The naive model. Everything is recomputed from the log on every call.

    use std::collections::{BTreeMap, BTreeSet};

    use chrono::DateTime;
    use herald_core::identity::{IdKind, Identifier, ProfileId};
    use serde_json::{Map, Value};

    /// The documented rules (docs/identity.md, "Configuring the rules"), with the documented
    /// defaults for blocked values and priority.
    #[derive(Debug, Clone)]
    pub struct Rules {
        pub link_email: bool,
        pub link_phone: bool,
        pub limit_user: usize,
        pub limit_email: usize,
        pub limit_phone: usize,
    }

    /// Default priority: `user_id` > `email` > `phone` > `anonymous_id`.
    const PRIORITY: [IdKind; 4] = [
        IdKind::UserId,
        IdKind::Email,
        IdKind::Phone,
        IdKind::AnonymousId,
    ];

    const BLOCKED: [&str; 17] = [
        "",
        "null",
        "nil",
        "none",
        "undefined",
        "0",
        "-1",
        "anonymous",
        "unknown",
        "n/a",
        "na",
        "guest",
        "test",
        "[object object]",
        "nan",
        "false",
        "true",
    ];

    impl Rules {
        fn limit(&self, kind: IdKind) -> usize {
            match kind {
                IdKind::UserId => self.limit_user,
                IdKind::Email => self.limit_email,
                IdKind::Phone => self.limit_phone,
                IdKind::AnonymousId => usize::MAX,
            }
        }
    }

    fn rank(kind: IdKind) -> usize {
        PRIORITY.iter().position(|k| *k == kind).unwrap()
    }

    /// The identifier table of docs/identity.md: trimmed; emails lower-cased and shaped
    /// `local@domain.tld`; phones as digits with a leading `+`, at least 5 digits. Blocked values
    /// (trimmed, case-insensitive, or only `0` and `-`) are no identifier.
    pub fn normalize(kind: IdKind, raw: &Value) -> Option<Identifier> {
        let raw = match raw {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let t = raw.trim();
        if BLOCKED.contains(&t.to_lowercase().as_str()) || t.chars().all(|c| c == '0' || c == '-') {
            return None;
        }
        let value = match kind {
            IdKind::UserId | IdKind::AnonymousId => t.to_owned(),
            IdKind::Email => {
                let e = t.to_lowercase();
                let (local, domain) = e.split_once('@')?;
                let (host, tld) = domain.rsplit_once('.')?;
                if local.is_empty() || host.is_empty() || tld.is_empty() || e.contains(' ') {
                    return None;
                }
                e
            }
            IdKind::Phone => {
                let digits: String = t.chars().filter(char::is_ascii_digit).collect();
                if digits.len() < 5 {
                    return None;
                }
                if t.starts_with('+') {
                    format!("+{digits}")
                } else {
                    digits
                }
            }
        };
        Some(Identifier::new(kind, value))
    }

    fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
        path.iter().try_fold(v, |v, k| v.get(k))
    }

    fn str_at(v: &Value, path: &[&str]) -> Option<String> {
        get(v, path).and_then(Value::as_str).map(str::to_owned)
    }

    pub fn kind(v: &Value) -> &str {
        v["type"].as_str().unwrap()
    }

    pub fn millis(v: &Value) -> i64 {
        DateTime::parse_from_rfc3339(v["timestamp"].as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    }

    /// An admin's undo of a merge: these two sets may never be joined again.
    #[derive(Debug, Clone)]
    pub struct Separation {
        pub left: BTreeSet<Identifier>,
        pub right: BTreeSet<Identifier>,
    }

    #[derive(Debug, Clone, PartialEq)]
    pub struct Profile {
        pub ids: BTreeSet<Identifier>,
        /// Log position of the event that created it.
        pub created: u64,
        /// The identifier that created it (the creating event's most trusted one).
        pub anchor: Identifier,
    }

    impl Profile {
        /// The documented id (ARCHITECTURE.md, "Identity resolution is deterministic"): the
        /// creating event's log position and the identifier that created it.
        pub fn id(&self) -> ProfileId {
            ProfileId::derive(self.created, &self.anchor, 0)
        }
    }

    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Merge {
        pub seq: u64,
        pub winner: ProfileId,
        pub loser: ProfileId,
        pub winner_ids: BTreeSet<Identifier>,
        pub loser_ids: BTreeSet<Identifier>,
    }

    /// The identity graph and attributions after applying a whole log.
    #[derive(Debug, Clone, Default)]
    pub struct World {
        /// Profiles by slot; merged-away profiles are `None`.
        pub profiles: Vec<Option<Profile>>,
        pub owner: BTreeMap<Identifier, usize>,
        /// seq → profile slot.
        pub attributed: BTreeMap<u64, usize>,
        pub merges: Vec<Merge>,
        /// Events carrying a suppressed identifier: dropped from the log.
        pub dropped: Vec<u64>,
    }

    /// What a target of an event is while its links are made.
    enum Target {
        Existing(usize),
        /// A profile to be created, anchored on this identifier, holding these.
        New(Identifier, BTreeSet<Identifier>),
    }

    impl World {
        pub fn alive(&self) -> impl Iterator<Item = (usize, &Profile)> {
            self.profiles
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.as_ref().map(|p| (i, p)))
        }

        /// The identifiers an event carries, most trusted first (docs/identity.md,
        /// "Identifiers" and "Linking"). `alias`: `previousId` is a known `user_id` if only that
        /// exists, otherwise an `anonymous_id`.
        ///
        /// READING: "known" means held by a profile right now. The email comes from
        /// `traits.email`, or `context.traits.email` when `traits` has no string `email`; the
        /// phone only from `traits.phone` (the table names no other place for it).
        pub fn carried(&self, e: &Value, rules: &Rules) -> Vec<Identifier> {
            let mut ids: Vec<Identifier> = Vec::new();
            let mut push = |id: Option<Identifier>| {
                if let Some(id) = id {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            };
            if let Some(u) = e.get("userId") {
                push(normalize(IdKind::UserId, u));
            }
            if let Some(a) = e.get("anonymousId") {
                push(normalize(IdKind::AnonymousId, a));
            }
            if kind(e) == "identify" {
                if rules.link_email {
                    let email = get(e, &["traits", "email"])
                        .filter(|v| v.is_string())
                        .or_else(|| get(e, &["context", "traits", "email"]));
                    push(email.and_then(|v| normalize(IdKind::Email, v)));
                }
                if rules.link_phone {
                    push(get(e, &["traits", "phone"]).and_then(|v| normalize(IdKind::Phone, v)));
                }
            }
            if kind(e) == "alias" {
                if let Some(p) = e.get("previousId") {
                    let as_user = normalize(IdKind::UserId, p);
                    let as_anon = normalize(IdKind::AnonymousId, p);
                    let known = |id: &Option<Identifier>| {
                        id.as_ref().is_some_and(|i| self.owner.contains_key(i))
                    };
                    push(if known(&as_user) && !known(&as_anon) {
                        as_user
                    } else {
                        as_anon
                    });
                }
            }
            ids.sort_by_key(|i| rank(i.kind)); // stable: the event's order within a kind
            ids
        }

        /// Why two sets of identifiers may not be one profile: a limit per kind would be
        /// exceeded, or they span the two sides of an undone merge.
        fn refused(
            a: &BTreeSet<Identifier>,
            b: &BTreeSet<Identifier>,
            rules: &Rules,
            separations: &[Separation],
        ) -> bool {
            let union: BTreeSet<&Identifier> = a.iter().chain(b).collect();
            let over = PRIORITY
                .iter()
                .any(|k| union.iter().filter(|i| i.kind == *k).count() > rules.limit(*k));
            let meets = |x: &BTreeSet<Identifier>, y: &BTreeSet<Identifier>| !x.is_disjoint(y);
            let separated = separations.iter().any(|s| {
                (meets(a, &s.left) && meets(b, &s.right))
                    || (meets(a, &s.right) && meets(b, &s.left))
            });
            over || separated
        }

        /// Apply one logged event. Returns whether it is kept (not dropped as suppressed).
        ///
        /// READING of "Linking": the event goes to the profile of its most trusted identifier
        /// (a new one if that identifier is unknown); then each other identifier is linked to
        /// it: a known one's profile merges with it (the older absorbs the newer), an unknown
        /// one joins it, unless the union would exceed a limit or span a separation, in which
        /// case that link is refused and the identifier stays where it was. The docs do not
        /// say in which order the links are tried when more than one would be refused
        /// together: here the identifiers already known are linked first, then the unknown
        /// ones, each group in priority order (so an unknown email does not keep a known
        /// device's profile out; the email is refused instead).
        pub fn apply(
            &mut self,
            seq: u64,
            e: &Value,
            rules: &Rules,
            separations: &[Separation],
            suppressed: &BTreeSet<Identifier>,
        ) -> bool {
            let ids = self.carried(e, rules);
            if ids.iter().any(|i| suppressed.contains(i)) {
                self.dropped.push(seq);
                return false;
            }
            let Some(first) = ids.first() else {
                return true; // stored, attributed to no profile
            };
            let mut target = match self.owner.get(first) {
                Some(slot) => Target::Existing(*slot),
                None => Target::New(first.clone(), BTreeSet::from([first.clone()])),
            };
            let (known, unknown): (Vec<&Identifier>, Vec<&Identifier>) =
                ids[1..].iter().partition(|i| self.owner.contains_key(*i));
            for id in known.into_iter().chain(unknown) {
                let held = match &target {
                    Target::Existing(slot) => self.profiles[*slot].as_ref().unwrap().ids.clone(),
                    Target::New(_, ids) => ids.clone(),
                };
                if held.contains(id) {
                    continue;
                }
                let other_slot = self.owner.get(id).copied();
                let other: BTreeSet<Identifier> = match other_slot {
                    Some(slot) => self.profiles[slot].as_ref().unwrap().ids.clone(),
                    None => BTreeSet::from([id.clone()]),
                };
                if Self::refused(&held, &other, rules, separations) {
                    continue;
                }
                target = match (target, other_slot) {
                    (Target::New(anchor, mut ids), None) => {
                        ids.insert(id.clone());
                        Target::New(anchor, ids)
                    }
                    (Target::Existing(slot), None) => {
                        self.profiles[slot].as_mut().unwrap().ids.insert(id.clone());
                        self.owner.insert(id.clone(), slot);
                        Target::Existing(slot)
                    }
                    // A profile that does not exist yet is younger than any that does: the
                    // existing one simply takes its identifiers (no merge of two profiles).
                    (Target::New(_, ids), Some(slot)) => {
                        for i in ids {
                            self.owner.insert(i.clone(), slot);
                            self.profiles[slot].as_mut().unwrap().ids.insert(i);
                        }
                        Target::Existing(slot)
                    }
                    (Target::Existing(a), Some(b)) => {
                        let pa = self.profiles[a].clone().unwrap();
                        let pb = self.profiles[b].clone().unwrap();
                        let (w, l, pw, pl) = if pa.created < pb.created {
                            (a, b, pa, pb)
                        } else {
                            (b, a, pb, pa)
                        };
                        self.merges.push(Merge {
                            seq,
                            winner: pw.id(),
                            loser: pl.id(),
                            winner_ids: pw.ids.clone(),
                            loser_ids: pl.ids.clone(),
                        });
                        for i in &pl.ids {
                            self.owner.insert(i.clone(), w);
                        }
                        self.profiles[w].as_mut().unwrap().ids.extend(pl.ids);
                        self.profiles[l] = None;
                        for p in self.attributed.values_mut() {
                            if *p == l {
                                *p = w;
                            }
                        }
                        Target::Existing(w)
                    }
                };
            }
            let slot = match target {
                Target::Existing(slot) => slot,
                Target::New(anchor, ids) => {
                    let slot = self.profiles.len();
                    for i in &ids {
                        self.owner.insert(i.clone(), slot);
                    }
                    self.profiles.push(Some(Profile {
                        ids,
                        created: seq,
                        anchor,
                    }));
                    slot
                }
            };
            self.attributed.insert(seq, slot);
            true
        }
    }

    /// The whole model: the log as sent (redacted where a deletion said so), separations and
    /// suppressions.
    #[derive(Debug, Clone, Default)]
    pub struct Model {
        pub log: Vec<(u64, Value)>,
        pub separations: Vec<Separation>,
        pub suppressed: BTreeSet<Identifier>,
    }

    impl Model {
        /// Recompute the identity graph from scratch over the whole log.
        pub fn world(&self, rules: &Rules) -> World {
            let mut world = World::default();
            for (seq, e) in &self.log {
                world.apply(*seq, e, rules, &self.separations, &self.suppressed);
            }
            world
        }

        /// A new event at log position `seq`: dropped if it carries a suppressed identifier
        /// ("later events carrying any of them are dropped"), else logged.
        pub fn ingest(&mut self, seq: u64, e: Value, rules: &Rules) {
            let world = self.world(rules);
            if world
                .carried(&e, rules)
                .iter()
                .all(|i| !self.suppressed.contains(i))
            {
                self.log.push((seq, e));
            }
        }

        /// Undo a merge: its two sides may never be joined again, and the profiles come out
        /// "exactly as if the merge had never happened" — i.e. as a from-scratch replay of the
        /// log under the separation.
        pub fn unmerge(&mut self, merge: &Merge) {
            self.separations.push(Separation {
                left: merge.winner_ids.clone(),
                right: merge.loser_ids.clone(),
            });
        }

        /// Delete a person: their events (those attributed to their profile) leave the log,
        /// other events lose the fields that carry one of their identifiers (`userId`,
        /// `anonymousId`, an alias's `previousId`, `email`/`phone` in `traits` and
        /// `context.traits`, compared after normalisation), and their identifiers are
        /// suppressed. Events that then carry a suppressed identifier are dropped.
        pub fn delete(&mut self, slot: usize, rules: &Rules) {
            let world = self.world(rules);
            let ids = world.profiles[slot].as_ref().unwrap().ids.clone();
            self.log
                .retain(|(seq, _)| world.attributed.get(seq) != Some(&slot));
            let hit = |kind: IdKind, v: Option<&Value>| {
                v.and_then(|v| normalize(kind, v))
                    .is_some_and(|i| ids.contains(&i))
            };
            for (_, e) in &mut self.log {
                let o = e.as_object_mut().unwrap();
                if hit(IdKind::UserId, o.get("userId")) {
                    o.remove("userId");
                }
                if hit(IdKind::AnonymousId, o.get("anonymousId")) {
                    o.remove("anonymousId");
                }
                if hit(IdKind::UserId, o.get("previousId"))
                    || hit(IdKind::AnonymousId, o.get("previousId"))
                {
                    o.remove("previousId");
                }
                let scrub = |traits: Option<&mut Value>| {
                    if let Some(Value::Object(t)) = traits {
                        for (key, kind) in [("email", IdKind::Email), ("phone", IdKind::Phone)] {
                            if hit(kind, t.get(key)) {
                                t.remove(key);
                            }
                        }
                    }
                };
                scrub(o.get_mut("traits"));
                scrub(o.get_mut("context").and_then(|c| c.get_mut("traits")));
            }
            self.suppressed.extend(ids);
            let dropped = self.world(rules).dropped;
            self.log.retain(|(seq, _)| !dropped.contains(seq));
        }
    }

    /// What a user sees of one profile (docs/identity.md, "Profile state").
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct View {
        pub traits: BTreeMap<String, Value>,
        pub groups: BTreeMap<String, i64>,
        pub first_seen: Option<i64>,
        pub last_seen: Option<i64>,
        pub timezone: Option<String>,
        pub locale: Option<String>,
        pub event_counts: BTreeMap<String, u64>,
        pub total_events: u64,
    }

    /// The value of the event with the greatest `(timestamp, log position)` among those that
    /// have one.
    fn latest<T: Clone>(candidates: impl Iterator<Item = ((i64, u64), T)>) -> Option<T> {
        candidates.max_by_key(|(order, _)| *order).map(|(_, v)| v)
    }

    fn identify_traits(e: &Value) -> Map<String, Value> {
        // Top-level traits win over context.traits of the same event.
        let mut t = get(e, &["context", "traits"])
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(top) = e.get("traits").and_then(Value::as_object) {
            t.extend(top.clone());
        }
        t
    }

    /// A profile's state from its events, from scratch.
    pub fn view(events: &[(u64, &Value)]) -> View {
        let order = |seq: u64, e: &Value| (millis(e), seq);
        let mut keys = BTreeSet::new();
        for (_, e) in events {
            if kind(e) == "identify" {
                keys.extend(identify_traits(e).keys().cloned());
            }
        }
        let traits = keys
            .into_iter()
            .map(|k| {
                let v = latest(
                    events
                        .iter()
                        .filter(|(_, e)| kind(e) == "identify")
                        .filter_map(|(s, e)| {
                            identify_traits(e)
                                .get(&k)
                                .map(|v| (order(*s, e), v.clone()))
                        }),
                );
                (k, v.unwrap())
            })
            .collect();
        let mut groups: BTreeMap<String, i64> = BTreeMap::new();
        for (_, e) in events.iter().filter(|(_, e)| kind(e) == "group") {
            let g = str_at(e, &["groupId"]).unwrap();
            let t = millis(e);
            groups
                .entry(g)
                .and_modify(|x| *x = (*x).min(t))
                .or_insert(t);
        }
        let context_str = |key: &str| {
            latest(
                events
                    .iter()
                    .filter_map(|(s, e)| str_at(e, &["context", key]).map(|v| (order(*s, e), v))),
            )
        };
        let mut event_counts: BTreeMap<String, u64> = BTreeMap::new();
        for (_, e) in events {
            let name = if kind(e) == "track" {
                str_at(e, &["event"]).unwrap()
            } else {
                kind(e).to_owned()
            };
            *event_counts.entry(name).or_default() += 1;
        }
        View {
            traits,
            groups,
            first_seen: events.iter().map(|(_, e)| millis(e)).min(),
            last_seen: events.iter().map(|(_, e)| millis(e)).max(),
            timezone: context_str("timezone"),
            locale: context_str("locale"),
            event_counts,
            total_events: events.len() as u64,
        }
    }

    /// A group's traits: latest `(timestamp, log position)` wins per trait, across the group
    /// calls for it.
    ///
    /// READING: "all `group` calls for it" are the calls attributed to some profile; a call whose
    /// identifiers are all blocked is attributed to no one and is not a person's group call.
    pub fn group_traits(events: &[(u64, &Value)]) -> BTreeMap<String, BTreeMap<String, Value>> {
        type Stamped = ((i64, u64), Value);
        let mut out: BTreeMap<String, BTreeMap<String, Stamped>> = BTreeMap::new();
        for (s, e) in events.iter().filter(|(_, e)| kind(e) == "group") {
            let g = out.entry(str_at(e, &["groupId"]).unwrap()).or_default();
            let order = (millis(e), *s);
            if let Some(t) = e.get("traits").and_then(Value::as_object) {
                for (k, v) in t {
                    if g.get(k).is_none_or(|(o, _)| *o < order) {
                        g.insert(k.clone(), (order, v.clone()));
                    }
                }
            }
        }
        out.into_iter()
            .map(|(g, t)| (g, t.into_iter().map(|(k, (_, v))| (k, v)).collect()))
            .collect()
    }
}

use model::{Model, Rules, View};

/// One step of a scenario.
#[derive(Debug, Clone)]
enum Op {
    /// A message; `true`: logged even if its `messageId` was seen (a duplicate older than the
    /// de-duplication window).
    Send(Value, bool),
    Unmerge(usize),
    Delete(usize),
}

fn arb_message() -> impl Strategy<Value = Value> {
    let user = prop::option::weighted(
        0.4,
        prop::sample::select(vec!["u1", "u2", "u3", " u1 ", "null", "0", "U2"]),
    );
    let anon = prop::option::weighted(
        0.8,
        prop::sample::select(vec![
            "a1",
            "a2",
            "a3",
            " a2",
            "undefined",
            "00000000-0000-0000-0000-000000000000",
        ]),
    );
    let email = prop::option::of((
        prop::sample::select(vec![
            "e1@x.io",
            " E1@X.io",
            "e2@x.io",
            "e3@x.io",
            "not-an-email",
        ]),
        0u8..3, // where: traits, context.traits, both
    ));
    let phone = prop::option::of(prop::sample::select(vec![
        "+1 555 0100",
        "+15550100",
        "555-0199",
        "12",
    ]));
    let previous = prop::sample::select(vec!["a1", "a2", "a3", "u1", "u2", "u3", "guest"]);
    let plan = prop_oneof![(0u8..3).prop_map(Value::from), Just(Value::Null)];
    (
        (0usize..7, user, anon, email, phone),
        (0u32..4, 0u32..3, 0u32..12, previous, plan, 0u8..4, 0u8..3),
    )
        .prop_map(
            |((kind, user, anon, email, phone), (day, minute, msg, previous, plan, n, ctx))| {
                let mut m = json!({
                    "messageId": format!("m{msg}"),
                    // Four days and three minutes: many equal timestamps, in any log order.
                    "timestamp": format!("2026-02-0{}T00:0{minute}:00Z", day + 1),
                });
                let o = m.as_object_mut().unwrap();
                if let Some(u) = user {
                    o.insert("userId".into(), json!(u));
                }
                if let Some(a) = anon {
                    o.insert("anonymousId".into(), json!(a));
                }
                let mut context = serde_json::Map::new();
                match ctx {
                    0 => {}
                    1 => {
                        context.insert("timezone".into(), json!(format!("tz{n}")));
                    }
                    _ => {
                        context.insert("locale".into(), json!(format!("l{n}")));
                    }
                }
                match kind {
                    0 | 1 => {
                        o.insert("type".into(), json!("identify"));
                        let mut traits = json!({"plan": plan});
                        if n == 0 {
                            traits["name"] = json!(format!("n{day}"));
                        }
                        let mut ctx_traits = json!({"plan": "ctx", "city": format!("c{n}")});
                        if let Some((email, place)) = email {
                            if place != 1 {
                                traits["email"] = json!(email);
                            }
                            if place == 1 {
                                ctx_traits["email"] = json!(email);
                            }
                            // Both places with *different* emails is left out: see
                            // `a_deleted_email_in_context_traits_leaves_the_log`.
                            if place == 2 {
                                ctx_traits["email"] = json!(email);
                            }
                        }
                        if let Some(p) = phone {
                            traits["phone"] = json!(p);
                        }
                        o.insert("traits".into(), traits);
                        if n < 2 {
                            context.insert("traits".into(), ctx_traits);
                        }
                    }
                    2 => {
                        o.insert("type".into(), json!("track"));
                        o.insert("event".into(), json!(format!("E{}", n % 3)));
                    }
                    3 => {
                        o.insert("type".into(), json!("alias"));
                        o.insert("userId".into(), json!(user.unwrap_or("u3")));
                        o.insert("previousId".into(), json!(previous));
                    }
                    4 => {
                        o.insert("type".into(), json!("group"));
                        o.insert("groupId".into(), json!(format!("g{}", n % 2)));
                        o.insert("traits".into(), json!({"tier": n}));
                    }
                    5 => {
                        o.insert("type".into(), json!("page"));
                    }
                    _ => {
                        o.insert("type".into(), json!("screen"));
                    }
                }
                if !o.contains_key("userId") && !o.contains_key("anonymousId") {
                    o.insert("anonymousId".into(), json!("a1"));
                }
                if !context.is_empty() {
                    o.insert("context".into(), Value::Object(context));
                }
                m
            },
        )
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        14 => (arb_message(), prop::bool::weighted(0.1)).prop_map(|(m, dup)| Op::Send(m, dup)),
        3 => (0usize..8).prop_map(Op::Unmerge),
        1 => (0usize..8).prop_map(Op::Delete),
    ]
}

fn arb_rules() -> impl Strategy<Value = Rules> {
    (
        1usize..3,
        1usize..4,
        1usize..3,
        prop::bool::weighted(0.9),
        any::<bool>(),
    )
        .prop_map(
            |(limit_user, limit_email, limit_phone, link_email, link_phone)| Rules {
                link_email,
                link_phone,
                limit_user,
                limit_email,
                limit_phone,
            },
        )
}

/// The production rules for the model's.
fn identity_rules(r: &Rules) -> IdentityRules {
    IdentityRules {
        link_email: r.link_email,
        link_phone: r.link_phone,
        limits: [
            (IdKind::UserId, r.limit_user),
            (IdKind::Email, r.limit_email),
            (IdKind::Phone, r.limit_phone),
        ]
        .into_iter()
        .collect(),
        ..IdentityRules::default()
    }
}

fn parse(v: &Value) -> Event {
    let ctx = ParseContext {
        received_at: parse_timestamp("2026-03-01T00:00:00Z").unwrap(),
        batch_sent_at: None,
        implied_type: None,
        time_mode: TimeMode::Import,
        fallback_message_id: || "x".to_owned(),
    };
    Event::parse(v.clone(), &ctx).unwrap()
}

/// What users see, in a form both sides produce.
#[derive(Debug, PartialEq)]
struct Seen {
    /// Profile id → (creating position, identifiers, state).
    profiles: BTreeMap<ProfileId, (u64, BTreeSet<Identifier>, View)>,
    attributions: BTreeMap<u64, ProfileId>,
    /// Open merges: (event position, winner, loser).
    merges: BTreeSet<(u64, ProfileId, ProfileId)>,
    groups: BTreeMap<String, BTreeMap<String, Value>>,
    /// The log: position → the identifier fields each kept event holds.
    log: BTreeMap<u64, Value>,
}

fn identifier_fields(payload: &serde_json::Map<String, Value>) -> Value {
    let v = Value::Object(payload.clone());
    let at = |path: &[&str]| {
        path.iter()
            .try_fold(&v, |v, k| v.get(*k))
            .cloned()
            .unwrap_or(Value::Null)
    };
    json!({
        "userId": at(&["userId"]),
        "anonymousId": at(&["anonymousId"]),
        "previousId": at(&["previousId"]),
        "traits": at(&["traits"]),
        "context.traits": at(&["context", "traits"]),
    })
}

fn expected(model: &Model, rules: &Rules) -> Seen {
    let world = model.world(rules);
    let mut profiles = BTreeMap::new();
    for (slot, p) in world.alive() {
        let events: Vec<(u64, &Value)> = model
            .log
            .iter()
            .filter(|(s, _)| world.attributed.get(s) == Some(&slot))
            .map(|(s, e)| (*s, e))
            .collect();
        profiles.insert(p.id(), (p.created, p.ids.clone(), model::view(&events)));
    }
    let attributed: Vec<(u64, &Value)> = model
        .log
        .iter()
        .filter(|(s, _)| world.attributed.contains_key(s))
        .map(|(s, e)| (*s, e))
        .collect();
    Seen {
        attributions: world
            .attributed
            .iter()
            .map(|(s, slot)| (*s, world.profiles[*slot].as_ref().unwrap().id()))
            .collect(),
        profiles,
        merges: world
            .merges
            .iter()
            .map(|m| (m.seq, m.winner.clone(), m.loser.clone()))
            .collect(),
        groups: model::group_traits(&attributed)
            .into_iter()
            .filter(|(_, t)| !t.is_empty())
            .collect(),
        log: model
            .log
            .iter()
            .map(|(s, e)| (*s, identifier_fields(e.as_object().unwrap())))
            .collect(),
    }
}

fn millis(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

fn actual(live: &MemoryProjection, log: &[(u64, Event)]) -> Seen {
    let snap = live.snapshot();
    let profiles = snap
        .profiles
        .into_iter()
        .map(|(id, (created, ids, s))| {
            let view = View {
                traits: s
                    .traits
                    .iter()
                    .map(|(k, v)| (k.clone(), v.value.clone()))
                    .collect(),
                groups: s
                    .groups
                    .iter()
                    .map(|(g, t)| (g.clone(), millis(*t)))
                    .collect(),
                first_seen: s.first_seen.map(millis),
                last_seen: s.last_seen.map(millis),
                timezone: s.timezone.map(|t| t.value),
                locale: s.locale.map(|t| t.value),
                event_counts: s.event_counts,
                total_events: s.total_events,
            };
            (id, (created, ids, view))
        })
        .collect();
    Seen {
        profiles,
        attributions: snap.attributions,
        merges: live
            .merges
            .values()
            .filter(|(_, _, undone)| !undone)
            .map(|(_, m, _)| (m.seq, m.winner.clone(), m.loser.clone()))
            .collect(),
        groups: live
            .groups
            .iter()
            .map(|(g, s)| (g.clone(), s.trait_values().into_iter().collect()))
            .filter(|(_, t): &(String, BTreeMap<String, Value>)| !t.is_empty())
            .collect(),
        log: log
            .iter()
            .map(|(s, e)| (*s, identifier_fields(&e.payload)))
            .collect(),
    }
}

fn load(log: &[(u64, Event)], seqs: &[u64]) -> Vec<(u64, Event)> {
    log.iter()
        .filter(|(s, _)| seqs.contains(s))
        .cloned()
        .collect()
}

/// Run a scenario on both sides, comparing after every step.
fn check(ops: Vec<Op>, rules: Rules) -> Result<(), TestCaseError> {
    let prod_rules = identity_rules(&rules);
    let mut live = MemoryProjection::default();
    let mut log: Vec<(u64, Event)> = Vec::new();
    let mut model = Model::default();
    let mut seen_ids = BTreeSet::new();
    let mut seq = 0;
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Send(v, dup) => {
                let e = parse(&v);
                if !seen_ids.insert(e.message_id.clone()) && !dup {
                    continue; // de-duplicated at ingest
                }
                seq += 1;
                if !matches!(
                    apply_event(&mut live, seq, &e, &prod_rules).unwrap(),
                    Applied::Suppressed
                ) {
                    log.push((seq, e));
                }
                model.ingest(seq, v, &rules);
            }
            Op::Unmerge(k) => {
                let world = model.world(&rules);
                let mut open = world.merges.clone();
                open.sort();
                if open.is_empty() {
                    continue;
                }
                let m = &open[k % open.len()];
                let merge_id = live
                    .merges
                    .iter()
                    .find(|(_, (_, r, undone))| {
                        !undone && r.seq == m.seq && r.winner == m.winner && r.loser == m.loser
                    })
                    .map(|(id, _)| id.clone());
                let Some(merge_id) = merge_id else {
                    return Err(TestCaseError::fail(format!(
                        "step {step}: the projection has no open merge {m:?}"
                    )));
                };
                let log_ref = &log;
                unmerge(&mut live, &merge_id, &prod_rules, |s| Ok(load(log_ref, s))).unwrap();
                model.unmerge(m);
            }
            Op::Delete(k) => {
                let world = model.world(&rules);
                let mut alive: Vec<(ProfileId, usize)> =
                    world.alive().map(|(slot, p)| (p.id(), slot)).collect();
                alive.sort();
                if alive.is_empty() {
                    continue;
                }
                let (victim, slot) = alive[k % alive.len()].clone();
                let log_ref = &log;
                let out = delete_person(&mut live, &victim, &prod_rules, |s| Ok(load(log_ref, s)));
                let Ok(out) = out else {
                    return Err(TestCaseError::fail(format!(
                        "step {step}: the projection cannot delete {victim}: {out:?}"
                    )));
                };
                out.rewrite_log(&mut log);
                model.delete(slot, &rules);
            }
        }
        let (want, got) = (expected(&model, &rules), actual(&live, &log));
        if want != got {
            return Err(TestCaseError::fail(format!(
                "step {step}: the projection differs from the documented model\n{}",
                diff(&want, &got)
            )));
        }
    }
    Ok(())
}

/// The parts that differ, readable.
fn diff(want: &Seen, got: &Seen) -> String {
    let mut out = String::new();
    let keys: BTreeSet<_> = want.profiles.keys().chain(got.profiles.keys()).collect();
    for k in keys {
        let (w, g) = (want.profiles.get(k), got.profiles.get(k));
        if w != g {
            out += &format!("profile {k}:\n  docs: {w:?}\n  code: {g:?}\n");
        }
    }
    if want.attributions != got.attributions {
        out += &format!(
            "attributions:\n  docs: {:?}\n  code: {:?}\n",
            want.attributions, got.attributions
        );
    }
    for (name, w, g) in [
        (
            "merges",
            format!("{:?}", want.merges),
            format!("{:?}", got.merges),
        ),
        (
            "groups",
            format!("{:?}", want.groups),
            format!("{:?}", got.groups),
        ),
        ("log", format!("{:?}", want.log), format!("{:?}", got.log)),
    ] {
        if w != g {
            out += &format!("{name}:\n  docs: {w}\n  code: {g}\n");
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// The projection (apply_event, unmerge, delete_person over MemoryProjection) shows what the
    /// documented model shows, after every step of a random scenario.
    #[test]
    fn projection_matches_the_documented_model(
        ops in prop::collection::vec(arb_op(), 1..48),
        rules in arb_rules(),
    ) {
        check(ops, rules)?;
    }
}

/// The first case the oracle found (shrunk): the alias for `u3`, whose anonymous id is `u1`'s
/// device, landed on `u1`'s profile (merging it with `a3`'s) and left `u3` on no profile.
/// Fixed in `resolve.rs`; pinned here as the oracle saw it.
#[test]
fn found_alias_of_a_new_user_over_a_claimed_device() {
    let identify = |anon: &str, user: Option<&str>, id: &str| {
        let mut m = json!({"type": "identify", "anonymousId": anon, "messageId": id,
                           "timestamp": "2026-02-01T00:00:00Z", "traits": {"plan": 0}});
        if let Some(u) = user {
            m["userId"] = json!(u);
        }
        Op::Send(m, false)
    };
    let ops = vec![
        identify("a1", None, "m0"),
        identify("a3", None, "m3"),
        identify("a2", Some("u1"), "m1"),
        Op::Send(
            json!({"type": "alias", "userId": "u3", "anonymousId": " a2", "previousId": "a3",
                   "messageId": "m2", "timestamp": "2026-02-01T00:00:00Z"}),
            false,
        ),
    ];
    let rules = Rules {
        link_email: false,
        link_phone: false,
        limit_user: 1,
        limit_email: 1,
        limit_phone: 1,
    };
    check(ops, rules).unwrap();
}

/// The docs' deletion example: Kim's `identify` carries Carol's email by mistake (here in
/// `context.traits`, where RudderStack SDKs put it); deleting Carol keeps Kim's event without
/// her email, and Kim's profile without it as a trait.
#[test]
fn deleting_carol_redacts_her_email_from_kims_event() {
    let ops = vec![
        Op::Send(
            json!({"type": "identify", "userId": "carol", "traits": {"email": "carol@x.io"},
                   "messageId": "c", "timestamp": "2026-02-01T00:00:00Z"}),
            false,
        ),
        Op::Send(
            json!({"type": "identify", "userId": "kim", "traits": {"plan": "pro"},
                   "context": {"traits": {"email": "Carol@X.io", "city": "Oslo"}},
                   "messageId": "k", "timestamp": "2026-02-02T00:00:00Z"}),
            false,
        ),
        Op::Delete(0), // profiles sort by creation: Carol's
        Op::Send(
            json!({"type": "identify", "anonymousId": "a9", "traits": {"email": "carol@x.io"},
                   "messageId": "c2", "timestamp": "2026-02-03T00:00:00Z"}),
            false,
        ),
    ];
    let rules = Rules {
        link_email: true,
        link_phone: false,
        limit_user: 1,
        limit_email: 5,
        limit_phone: 5,
    };
    check(ops, rules).unwrap();
}

/// docs/identity.md: deleting Carol keeps another profile's event that carries one of her
/// identifiers with "the fields that carry them removed", and those fields include `email` in
/// `context.traits`; ARCHITECTURE.md: "the log keeps no identifier of the deleted person".
/// The code redacts only events of profiles tied to Carol's by a refused link, and an
/// `identify` whose top-level `traits.email` is Kim's never links (nor records a refusal of)
/// the different email in its `context.traits`, so that event is never looked at and keeps
/// Carol's email in the log.
#[test]
#[ignore = "docs/code disagree: a deleted email in context.traits beside another top-level email stays in the log (issue 20 report)"]
fn a_deleted_email_in_context_traits_leaves_the_log() {
    let rules = IdentityRules::default();
    let mut live = MemoryProjection::default();
    let sent = [
        json!({"type": "identify", "userId": "carol", "traits": {"email": "carol@x.io"},
               "messageId": "c", "timestamp": "2026-02-01T00:00:00Z"}),
        json!({"type": "identify", "userId": "kim", "traits": {"email": "kim@x.io"},
               "context": {"traits": {"email": "carol@x.io"}},
               "messageId": "k", "timestamp": "2026-02-02T00:00:00Z"}),
    ];
    let mut log: Vec<(u64, Event)> = Vec::new();
    for (i, v) in sent.iter().enumerate() {
        let e = parse(v);
        apply_event(&mut live, i as u64 + 1, &e, &rules).unwrap();
        log.push((i as u64 + 1, e));
    }
    let carol = live
        .owners
        .get(&Identifier::new(IdKind::UserId, "carol"))
        .unwrap()
        .0
        .clone();
    let log_ref = &log;
    let out = delete_person(&mut live, &carol, &rules, |s| Ok(load(log_ref, s))).unwrap();
    out.rewrite_log(&mut log);
    assert_eq!(log.len(), 1, "Kim's event stays");
    let kim = serde_json::to_string(&log[0].1.payload).unwrap();
    assert!(!kim.contains("carol@x.io"), "the log still holds {kim}");
}
