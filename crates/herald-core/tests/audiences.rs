//! The oracle test of live audiences: for random event streams (out-of-order and future
//! timestamps, duplicates, merges, unmerges, deletions, catalog edits) and random rules, with
//! the clock advancing, the memberships and computed traits kept incrementally (facts folded
//! per event, merged, pruned, timers firing) always equal a brute-force evaluation of every rule
//! over each profile's full history at that moment.

use std::collections::{BTreeMap, BTreeSet};

use chrono::DateTime;
use herald_core::audience::catalog::{sequence_holds, Aggregate, AudienceDef, ComputedTrait};
use herald_core::audience::facts::{event_property, lookup, message_key, Hit};
use herald_core::audience::live::{backfill_scoped, on_event, on_split, refresh_stored, Cause};
use herald_core::audience::rule::*;
use herald_core::audience::value::{number, test_time, test_value};
use herald_core::audience::{changed_definitions, AudienceStore, Catalog, Changes, FactReaches};
use herald_core::event::{Event, ParseContext, TimeMode};
use herald_core::identity::{IdentityRules, ProfileId};
use herald_core::memory::MemoryProjection;
use herald_core::projection::{apply_event, Applied, ProjectionStore};
use herald_core::split::{delete_person, unmerge};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const T0: i64 = 1_769_904_000_000; // 2026-02-01T00:00:00Z

#[derive(Debug, Clone)]
enum Op {
    /// A message, its time as an offset from the clock (minutes).
    Send(Value, i64),
    Advance(i64),
    Unmerge(usize),
    Delete(usize),
    /// Replace the catalog with another one (the current index plus this) and backfill; with
    /// a message, that message arrives first, on profiles built for the previous catalog.
    /// The backfill, when it can be limited, looks at this many profiles per step.
    Redefine(usize, Option<(Value, i64)>, usize),
}

fn arb_message() -> impl Strategy<Value = Value> {
    let user = prop::option::of(prop::sample::select(vec!["u1", "u2", "u3"]));
    let anon = prop::sample::select(vec!["a1", "a2", "a3", "a4"]);
    (0usize..6, user, anon, 0u32..12, 0u8..3, 0i64..60, 0u32..20).prop_map(
        |(kind, user, anon, msg, n, value, day)| {
            let mut m = json!({"messageId": format!("m{msg}"), "anonymousId": anon});
            let o = m.as_object_mut().unwrap();
            if let Some(u) = user {
                o.insert("userId".into(), json!(u));
            }
            match kind {
                0 => {
                    o.insert("type".into(), json!("identify"));
                    o.insert(
                        "traits".into(),
                        json!({"plan": n, "signup": format!("2026-01-{:02}", day + 10)}),
                    );
                }
                1 | 2 => {
                    o.insert("type".into(), json!("track"));
                    o.insert("event".into(), json!(format!("E{n}")));
                    o.insert("properties".into(), json!({"value": value}));
                }
                3 => {
                    o.insert("type".into(), json!("alias"));
                    o.insert("userId".into(), json!(user.unwrap_or("u1")));
                    o.insert("previousId".into(), json!(anon));
                }
                4 => {
                    o.insert("type".into(), json!("group"));
                    o.insert("groupId".into(), json!(format!("g{}", n % 2)));
                    o.insert("traits".into(), json!({"tier": n}));
                }
                _ => {
                    o.insert("type".into(), json!("page"));
                }
            }
            m
        },
    )
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (arb_message(), -3000i64..60).prop_map(|(m, offset)| Op::Send(m, offset)),
        4 => prop::sample::select(vec![1i64, 30, 59, 60, 61, 600, 1440, 2880]).prop_map(Op::Advance),
        1 => (0usize..8).prop_map(Op::Unmerge),
        1 => (0usize..8).prop_map(Op::Delete),
        2 => (1usize..5, prop::option::of((arb_message(), -3000i64..60)), 1usize..4)
            .prop_map(|(next, early, chunk)| Op::Redefine(next, early, chunk)),
    ]
}

fn arb_span() -> impl Strategy<Value = Span> {
    prop_oneof![
        (1u32..72).prop_map(|amount| Span {
            amount,
            unit: Unit::Hours
        }),
        (1u32..4).prop_map(|amount| Span {
            amount,
            unit: Unit::Days
        }),
        (30u32..200).prop_map(|amount| Span {
            amount,
            unit: Unit::Minutes
        }),
    ]
}

fn arb_window() -> impl Strategy<Value = Window> {
    prop_oneof![
        Just(Window::Ever),
        arb_span().prop_map(Window::Last),
        Just(Window::Between(
            Instant::parse("2026-01-30").unwrap(),
            Instant::parse("2026-02-02T12:00:00Z").unwrap()
        )),
    ]
}

fn arb_event_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["E0", "E1", "E2", "page"]).prop_map(str::to_owned)
}

fn arb_filters() -> impl Strategy<Value = Vec<Filter>> {
    prop::collection::vec(
        (0i64..60, any::<bool>()).prop_map(|(v, gt)| Filter {
            path: "value".into(),
            test: if gt {
                Test::Gt(json!(v))
            } else {
                Test::Lte(json!(v))
            },
        }),
        0..2,
    )
}

fn arb_time_test() -> impl Strategy<Value = Test> {
    prop_oneof![
        arb_span().prop_map(Test::MoreThanAgo),
        arb_span().prop_map(Test::LessThanAgo),
        Just(Test::Before(
            Instant::parse("2026-02-01T06:00:00Z").unwrap()
        )),
        Just(Test::After(Instant::parse("2026-01-31T18:00:00Z").unwrap())),
    ]
}

fn arb_atom(audiences_before: usize) -> BoxedStrategy<Rule> {
    let count = (prop::sample::select(CountOp::ALL.to_vec()), 0u64..3)
        .prop_map(|(op, value)| Count { op, value });
    let mut atoms = vec![
        (
            0u8..3,
            prop::sample::select(vec!["eq", "gt", "exists", "neq"]),
        )
            .prop_map(|(n, op)| Rule::Trait {
                path: "plan".into(),
                test: match op {
                    "eq" => Test::Eq(json!(n)),
                    "gt" => Test::Gt(json!(n)),
                    "neq" => Test::Neq(json!(n)),
                    _ => Test::Exists,
                },
            })
            .boxed(),
        prop_oneof![
            arb_span().prop_map(Test::MoreThanAgo),
            arb_span().prop_map(Test::LessThanAgo)
        ]
        .prop_map(|test| Rule::Trait {
            path: "signup".into(),
            test,
        })
        .boxed(),
        (0u8..3)
            .prop_map(|n| Rule::GroupTrait {
                path: "tier".into(),
                test: Test::Eq(json!(n)),
            })
            .boxed(),
        (
            prop::sample::select(vec!["c0", "c1"]),
            0i64..100,
            any::<bool>(),
        )
            .prop_map(|(name, v, exists)| Rule::Computed {
                name: name.into(),
                test: if exists {
                    Test::Exists
                } else {
                    Test::Gt(json!(v))
                },
            })
            .boxed(),
        (arb_event_name(), arb_filters(), count, arb_window())
            .prop_map(|(event, filters, count, window)| Rule::Performed {
                event,
                filters,
                count,
                window,
            })
            .boxed(),
        (
            arb_event_name(),
            arb_filters(),
            arb_time_test(),
            any::<bool>(),
        )
            .prop_map(|(event, filters, test, first)| {
                Rule::performed_at(first, event, filters, test)
            })
            .boxed(),
        (
            prop::collection::vec(
                (arb_event_name(), arb_filters())
                    .prop_map(|(event, filters)| Step { event, filters }),
                2..4,
            ),
            arb_span(),
            arb_window(),
        )
            .prop_map(|(steps, within, window)| Rule::Sequence {
                steps,
                within,
                window,
            })
            .boxed(),
    ];
    if audiences_before > 0 {
        atoms.push(
            (0..audiences_before)
                .prop_map(|i| Rule::InAudience(format!("a{i}")))
                .boxed(),
        );
    }
    prop::strategy::Union::new(atoms).boxed()
}

fn arb_rule(audiences_before: usize) -> impl Strategy<Value = Rule> {
    arb_atom(audiences_before).prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Rule::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Rule::Or),
            inner.prop_map(|r| Rule::Not(Box::new(r))),
        ]
    })
}

fn arb_computed(name: &'static str) -> impl Strategy<Value = ComputedTrait> {
    (
        prop::sample::select(Aggregate::ALL.to_vec()),
        prop::option::of(arb_event_name()),
        arb_filters(),
        arb_window(),
    )
        .prop_map(move |(aggregate, event, filters, window)| ComputedTrait {
            name: name.into(),
            aggregate,
            event,
            property: Some("value".into()),
            filters,
            window,
        })
}

fn arb_catalog() -> impl Strategy<Value = (Vec<ComputedTrait>, Vec<AudienceDef>)> {
    (
        arb_computed("c0"),
        arb_computed("c1"),
        arb_rule(0),
        arb_rule(1),
        arb_rule(2),
    )
        .prop_map(|(c0, c1, r0, r1, r2)| {
            let audiences = [r0, r1, r2]
                .into_iter()
                .enumerate()
                .map(|(i, rule)| AudienceDef {
                    id: format!("a{i}"),
                    rule,
                })
                .collect();
            (vec![c0, c1], audiences)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn live_memberships_equal_brute_force(
        ops in prop::collection::vec(arb_op(), 1..40),
        first in arb_catalog(),
        second in arb_catalog(),
    ) {
        let rules = IdentityRules::default();
        // A third catalog that shares the first one's facts and adds an audience: switching to
        // it keeps most facts and rebuilds only the new ones.
        let mut extended = first.clone();
        extended.1.push(AudienceDef { id: "b0".into(), rule: second.1[0].rule.clone() });
        // Two more that only add: an audience made stricter (its members are re-evaluated,
        // the others cannot enter), and a new computed trait. With `extended`, these are the
        // changes a backfill may limit to the profiles they can affect.
        let mut stricter = first.clone();
        stricter.1[0].rule = Rule::And(vec![first.1[0].rule.clone(), second.1[0].rule.clone()]);
        let mut computed = first.clone();
        computed.0.push(ComputedTrait { name: "c2".into(), ..second.0[0].clone() });
        let definitions = [first, second, extended, stricter, computed];
        let catalogs: Vec<Catalog> = definitions
            .iter()
            .map(|(computed, audiences)| Catalog::new(computed.clone(), audiences.clone()).unwrap())
            .collect();
        // What a backfill record tells the catalog in use: the fact sets of the catalogs
        // profiles may still be built for (a profile built for one of them rebuilds only the
        // facts it lacks).
        let mut builds: BTreeMap<String, FactReaches> =
            [(catalogs[0].fingerprint().to_owned(), catalogs[0].fact_reaches())].into();
        let mut active = catalogs[0].clone();
        let mut current = 0;
        let mut now = T0;
        let mut live = MemoryProjection::default();
        let mut log: Vec<(u64, Event)> = Vec::new();
        let mut seen_ids = BTreeSet::new();
        let mut seq = 0;
        for op in ops {
            let catalog = &active;
            match op {
                Op::Send(v, offset) => {
                    let e = parse(&v, now, offset);
                    if !seen_ids.insert(e.message_id.clone()) { continue; }
                    seq += 1;
                    send(&mut live, &mut log, seq, &e, &rules, catalog, now);
                }
                Op::Advance(minutes) => {
                    now += minutes * 60_000;
                    let due = live.due_profiles(now, usize::MAX).unwrap();
                    for p in due {
                        refresh_stored(&mut live, catalog, &p, now, Cause::Time, Changes::default(), &mut |s: &[u64]| Ok(load(&log, s))).unwrap();
                    }
                    prop_assert!(live.due_profiles(now, 1).unwrap().is_empty(), "a timer stayed due");
                }
                Op::Unmerge(k) => {
                    let open: Vec<String> = live.merges.iter().filter(|(_, m)| !m.2).map(|(id, _)| id.clone()).collect();
                    if open.is_empty() { continue; }
                    let log_ref = log.clone();
                    let out = unmerge(&mut live, &open[k % open.len()], &rules, |s| Ok(load(&log_ref, s))).unwrap();
                    on_split(&mut live, catalog, &out, None, now, &mut |s: &[u64]| Ok(load(&log_ref, s))).unwrap();
                }
                Op::Delete(k) => {
                    let profiles: Vec<_> = live.profiles.keys().cloned().collect();
                    if profiles.is_empty() { continue; }
                    let victim = profiles[k % profiles.len()].clone();
                    let log_ref = log.clone();
                    let out = delete_person(&mut live, &victim, &rules, |s| Ok(load(&log_ref, s))).unwrap();
                    out.rewrite_log(&mut log);
                    let log_ref = log.clone();
                    on_split(&mut live, catalog, &out, Some(&victim), now, &mut |s: &[u64]| Ok(load(&log_ref, s))).unwrap();
                }
                Op::Redefine(next, early, chunk) => {
                    let previous = current;
                    current = (current + next) % catalogs.len();
                    let mut next = catalogs[current].clone();
                    builds.insert(next.fingerprint().to_owned(), next.fact_reaches());
                    next.set_earlier_builds(&builds);
                    let catalog = &next;
                    // As a backfill does: evaluate again only what changed (and what reads the
                    // facts rebuilt, and what is due), and only on the profiles it can affect
                    // when it can tell.
                    let before = catalogs[previous].definition_hashes();
                    let changes = Changes {
                        definitions: changed_definitions(&before, &catalog.definition_hashes()),
                        ..Changes::default()
                    };
                    let scope = catalog.backfill_scope(&before, &changes.definitions);
                    // Deleting an audience deletes its members and history (as the API does).
                    let kept: BTreeSet<&str> = catalog.audience_ids().collect();
                    live.membership_history.retain(|(_, c)| kept.contains(c.audience.as_str()));
                    live.audience_members.retain(|a, _| kept.contains(a.as_str()));
                    if let Some((v, offset)) = early {
                        let e = parse(&v, now, offset);
                        if seen_ids.insert(e.message_id.clone()) {
                            seq += 1;
                            send(&mut live, &mut log, seq, &e, &rules, catalog, now);
                        }
                    }
                    match &scope {
                        Some(scope) => {
                            let mut after = None;
                            loop {
                                let step = backfill_scoped(&mut live, catalog, scope, after.as_ref(), chunk, now, &changes, &mut |s: &[u64]| Ok(load(&log, s))).unwrap();
                                prop_assert!(step.looked_at.len() <= chunk && (step.finished || !step.looked_at.is_empty()));
                                after = step.looked_at.last().cloned().or(after);
                                if step.finished { break; }
                            }
                            // The profiles it did not visit hold what a build for this catalog
                            // holds.
                            let own = catalog.fact_reaches();
                            for reaches in builds.values_mut() {
                                reaches.clone_from(&own);
                            }
                        }
                        None => {
                            let profiles: Vec<_> = live.profiles.keys().cloned().collect();
                            for p in profiles {
                                refresh_stored(&mut live, catalog, &p, now, Cause::Backfill, changes.clone(), &mut |s: &[u64]| Ok(load(&log, s))).unwrap();
                            }
                            // What is stored, however it was saved, holds no fact of a
                            // condition the catalog dropped and no hit its windows dropped.
                            for (p, state) in &live.audience_states {
                                for (id, hits) in &state.facts.facts {
                                    let spec = catalog.facts().get(id);
                                    prop_assert!(spec.is_some(), "{} keeps the dropped fact {}", p, id);
                                    prop_assert!(hits.iter().all(|h| spec.is_some_and(|s| s.keeps(h.ts, now))), "{} keeps pruned hits of {}", p, id);
                                }
                            }
                            builds.retain(|fingerprint, _| fingerprint == catalog.fingerprint());
                        }
                    }
                    next.set_earlier_builds(&builds);
                    active = next;
                }
            }
            check(&mut live, &log, &definitions[current], now)?;
        }
    }
}

/// Apply one event and update audiences, as the processor does.
fn send(
    live: &mut MemoryProjection,
    log: &mut Vec<(u64, Event)>,
    seq: u64,
    e: &Event,
    rules: &IdentityRules,
    catalog: &Catalog,
    now: i64,
) {
    let applied = apply_event(live, seq, e, rules).unwrap();
    if !matches!(applied, Applied::Suppressed) {
        log.push((seq, e.clone()));
    }
    on_event(live, catalog, seq, e, &applied, now, &mut |s: &[u64]| {
        Ok(load(log, s))
    })
    .unwrap();
}

/// Compare every profile's live audience state with the oracle.
fn check(
    live: &mut MemoryProjection,
    log: &[(u64, Event)],
    (computed, audiences): &(Vec<ComputedTrait>, Vec<AudienceDef>),
    now: i64,
) -> Result<(), TestCaseError> {
    let profiles: Vec<ProfileId> = live.profiles.keys().cloned().collect();
    let mut expected_members: BTreeMap<String, BTreeSet<ProfileId>> = BTreeMap::new();
    for p in &profiles {
        let history: Vec<(u64, &Event)> = live
            .attributions
            .iter()
            .filter(|(_, (q, _))| q == p)
            .filter_map(|(s, _)| log.iter().find(|(ls, _)| ls == s).map(|(ls, e)| (*ls, e)))
            .collect();
        let state = live.profile_state(p).unwrap();
        let groups: Vec<Map<String, Value>> = state
            .groups
            .keys()
            .map(|g| live.group_state(g).unwrap().trait_values())
            .collect();
        let oracle = Oracle {
            traits: state.trait_values(),
            groups,
            history,
            now,
        };
        let values: BTreeMap<String, Value> = computed
            .iter()
            .filter_map(|c| oracle.computed(c).map(|v| (c.name.clone(), v)))
            .collect();
        let mut members = BTreeSet::new();
        for a in audiences {
            if oracle.eval(&a.rule, &values, &members) {
                members.insert(a.id.clone());
                expected_members
                    .entry(a.id.clone())
                    .or_default()
                    .insert(p.clone());
            }
        }
        let stored = live.audience_state(p).unwrap();
        let (live_members, live_computed) =
            stored.map(|s| (s.members, s.computed)).unwrap_or_default();
        prop_assert_eq!(&live_members, &members, "profile {} at {}", p, now - T0);
        prop_assert_eq!(&live_computed, &values, "computed traits of {}", p);
    }
    for a in audiences {
        let listed = live
            .audience_members
            .get(&a.id)
            .cloned()
            .unwrap_or_default();
        let expected = expected_members.remove(&a.id).unwrap_or_default();
        prop_assert_eq!(
            listed,
            expected,
            "member list of {}: {:?} / profiles {:?}",
            a.id,
            live.membership_history,
            live.profiles.keys().collect::<Vec<_>>()
        );
    }
    // The history alternates: nobody enters an audience they are in, or leaves one they are not.
    let mut inside: BTreeSet<(ProfileId, String)> = BTreeSet::new();
    for (p, change) in &live.membership_history {
        let key = (p.clone(), change.audience.clone());
        if change.entered {
            prop_assert!(inside.insert(key), "{:?} entered twice", change);
        } else {
            prop_assert!(inside.remove(&key), "{:?} left without entering", change);
        }
    }
    Ok(())
}

/// Brute force: every rule evaluated directly over the whole history.
struct Oracle<'a> {
    traits: Map<String, Value>,
    groups: Vec<Map<String, Value>>,
    /// The profile's events with their log positions.
    history: Vec<(u64, &'a Event)>,
    now: i64,
}

impl Oracle<'_> {
    /// Matching events, the first copy in the log per (time, messageId), in (time, log
    /// position) order.
    fn matching(&self, event: Option<&str>, filters: &[Filter]) -> Vec<Hit> {
        let mut in_log = self.history.clone();
        in_log.sort_by_key(|(seq, _)| *seq);
        let mut seen = BTreeSet::new();
        let mut hits: Vec<Hit> = in_log
            .into_iter()
            .filter(|(_, e)| event.is_none_or(|name| e.display_name() == name))
            .filter(|(_, e)| {
                filters
                    .iter()
                    .all(|f| test_value(&f.test, event_property(e, &f.path), 0).0)
            })
            .filter(|(_, e)| seen.insert((e.timestamp, e.message_id.clone())))
            .map(|(seq, e)| Hit {
                ts: e.timestamp.timestamp_millis(),
                id: message_key(&e.message_id),
                seq,
                value: event_property(e, "value").cloned(),
            })
            .collect();
        hits.sort_by_key(|h| (h.ts, h.seq));
        hits
    }

    fn computed(&self, c: &ComputedTrait) -> Option<Value> {
        let hits: Vec<Hit> = self
            .matching(c.event.as_deref(), &c.filters)
            .into_iter()
            .filter(|h| c.window.contains(h.ts, self.now))
            .collect();
        let numbers: Vec<f64> = hits
            .iter()
            .filter_map(|h| h.value.as_ref()?.as_f64())
            .collect();
        let values: Vec<&Value> = hits
            .iter()
            .filter_map(|h| h.value.as_ref())
            .filter(|v| !v.is_null())
            .collect();
        match c.aggregate {
            Aggregate::Count => Some(Value::from(hits.len())),
            Aggregate::Sum => {
                (!numbers.is_empty()).then(|| number(numbers.iter().fold(0.0, |a, b| a + b)))
            }
            Aggregate::Average => (!numbers.is_empty())
                .then(|| number(numbers.iter().sum::<f64>() / numbers.len() as f64)),
            Aggregate::Min => numbers.iter().copied().reduce(f64::min).map(number),
            Aggregate::Max => numbers.iter().copied().reduce(f64::max).map(number),
            Aggregate::First => values.first().map(|v| (*v).clone()),
            Aggregate::Last => values.last().map(|v| (*v).clone()),
            Aggregate::Distinct => {
                let set: BTreeMap<String, Value> = values
                    .iter()
                    .map(|v| (v.to_string(), (*v).clone()))
                    .collect();
                (!set.is_empty()).then(|| Value::Array(set.into_values().collect()))
            }
        }
    }

    fn eval(
        &self,
        rule: &Rule,
        computed: &BTreeMap<String, Value>,
        members: &BTreeSet<String>,
    ) -> bool {
        let now = self.now;
        match rule {
            Rule::And(rules) => rules.iter().all(|r| self.eval(r, computed, members)),
            Rule::Or(rules) => rules.iter().any(|r| self.eval(r, computed, members)),
            Rule::Not(r) => !self.eval(r, computed, members),
            Rule::Trait { path, test } => test_value(test, lookup(&self.traits, path), now).0,
            Rule::GroupTrait { path, test } => self
                .groups
                .iter()
                .any(|g| test_value(test, lookup(g, path), now).0),
            Rule::Computed { name, test } => test_value(test, computed.get(name), now).0,
            Rule::Performed {
                event,
                filters,
                count,
                window,
            } => {
                let n = self
                    .matching(Some(event), filters)
                    .iter()
                    .filter(|h| window.contains(h.ts, now))
                    .count();
                count.holds(n as u64)
            }
            Rule::FirstPerformed {
                event,
                filters,
                test,
            } => self
                .matching(Some(event), filters)
                .first()
                .is_some_and(|h| test_time(test, h.ts, now).0),
            Rule::LastPerformed {
                event,
                filters,
                test,
            } => self
                .matching(Some(event), filters)
                .last()
                .is_some_and(|h| test_time(test, h.ts, now).0),
            Rule::Sequence {
                steps,
                within,
                window,
            } => {
                let lists: Vec<Vec<Hit>> = steps
                    .iter()
                    .map(|s| {
                        self.matching(Some(&s.event), &s.filters)
                            .into_iter()
                            .filter(|h| window.contains(h.ts, now))
                            .collect()
                    })
                    .collect();
                let found = any_chain(&lists, 0, None, within.millis());
                // The greedy search of the live evaluator agrees with the exhaustive one.
                let refs: Vec<Vec<&Hit>> = lists.iter().map(|l| l.iter().collect()).collect();
                assert_eq!(found, sequence_holds(&refs, within.millis()));
                found
            }
            Rule::InAudience(id) => members.contains(id),
        }
    }
}

/// Exhaustive search for a chain: one hit per step, strictly increasing, spanning ≤ `within`.
fn any_chain(lists: &[Vec<Hit>], step: usize, chain: Option<(&Hit, &Hit)>, within: i64) -> bool {
    if step == lists.len() {
        return chain.is_some_and(|(first, last)| last.ts - first.ts <= within);
    }
    lists[step].iter().any(|h| match chain {
        None => any_chain(lists, step + 1, Some((h, h)), within),
        Some((first, last)) => {
            (h.ts, h.seq) > (last.ts, last.seq)
                && any_chain(lists, step + 1, Some((first, h)), within)
        }
    })
}

fn parse(v: &Value, now: i64, offset_minutes: i64) -> Event {
    let received = DateTime::from_timestamp_millis(now).unwrap();
    let ts = DateTime::from_timestamp_millis(now + offset_minutes * 60_000 + 17).unwrap();
    let mut v = v.clone();
    v["timestamp"] = json!(herald_core::event::rfc3339(ts));
    let ctx = ParseContext {
        received_at: received,
        batch_sent_at: None,
        implied_type: None,
        time_mode: TimeMode::Import,
        fallback_message_id: || "x".to_owned(),
    };
    Event::parse(v, &ctx).unwrap()
}

fn load(log: &[(u64, Event)], seqs: &[u64]) -> Vec<(u64, Event)> {
    log.iter()
        .filter(|(s, _)| seqs.contains(s))
        .cloned()
        .collect()
}
