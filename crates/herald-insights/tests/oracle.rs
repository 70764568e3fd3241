//! Every query against a naive implementation of docs/insights.md, written here without the
//! engine: random events, merges (a profile's events move to another), deletions and
//! compactions, then random trends, funnels and retention queries; both must agree exactly.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, TimeZone, Utc};
use herald_insights::*;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const BASE: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, a Thursday
const HALF_HOUR: i64 = 1_800_000;
const NAMES: [&str; 3] = ["a", "b", "c"];
const DAY: i64 = 86_400_000;

#[derive(Debug, Clone)]
struct Ev {
    seq: u64,
    profile: String,
    ts: i64,
    kind: EventKind,
    name: String,
    props: Map<String, Value>,
}

/// A generated event: person, half-hour slot, track name, is a page view, `plan`, `n`.
type Gen = (u8, u16, u8, bool, Option<u8>, Option<u8>);

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<Gen>),
    Merge(u8, u8),
    Delete(u8),
    Compact,
}

fn profile(p: u8) -> String {
    if p.is_multiple_of(2) {
        format!("00000000-0000-4000-8000-00000000000{p}")
    } else {
        format!("p{p}")
    }
}

fn plan(v: u8) -> Value {
    [
        json!("x"),
        json!("y"),
        json!("3"),
        json!(1),
        json!(2),
        json!(true),
        json!(null),
    ][v as usize % 7]
        .clone()
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop::collection::vec((0u8..6, 0u16..480, 0u8..3, any::<bool>(), prop::option::of(0u8..7), prop::option::of(0u8..5)), 1..25).prop_map(Op::Append),
        1 => (0u8..6, 0u8..6).prop_map(|(a, b)| Op::Merge(a, b)),
        1 => (0u8..6).prop_map(Op::Delete),
        1 => Just(Op::Compact),
    ]
}

/// Apply the operations to the index and to the model (the log as attributed now).
fn build(ops: &[Op]) -> (Index, Vec<Ev>) {
    let mut index = Index::new();
    let mut model: Vec<Ev> = Vec::new();
    let mut seq = 0;
    let add = |index: &mut Index, evs: &[Ev]| {
        let inputs: Vec<EventInput> = evs
            .iter()
            .map(|e| EventInput {
                seq: e.seq,
                profile: &e.profile,
                ts_ms: e.ts,
                kind: e.kind,
                name: &e.name,
                properties: Some(&e.props),
            })
            .collect();
        index.append(&inputs);
    };
    for op in ops {
        match op {
            Op::Append(events) => {
                let mut batch = Vec::new();
                for (p, slot, name, page, plan_v, n) in events {
                    seq += 1;
                    let mut props = Map::new();
                    if let Some(v) = plan_v {
                        props.insert("plan".into(), plan(*v));
                    }
                    if let Some(n) = n {
                        props.insert("n".into(), json!(*n));
                    }
                    props.insert("nested".into(), json!({"plan": "x"}));
                    let (kind, name) = if *page {
                        (EventKind::Page, "page".to_owned())
                    } else {
                        (EventKind::Track, NAMES[*name as usize].to_owned())
                    };
                    batch.push(Ev {
                        seq,
                        profile: profile(*p),
                        ts: BASE + *slot as i64 * HALF_HOUR,
                        kind,
                        name,
                        props,
                    });
                }
                add(&mut index, &batch);
                model.extend(batch);
            }
            Op::Merge(loser, winner) if loser != winner => {
                let (l, w) = (profile(*loser), profile(*winner));
                let mut listed = index.profile_seqs(&l);
                let mut seqs = index.forget_profile(&l);
                listed.sort_unstable();
                seqs.sort_unstable();
                assert_eq!(listed, seqs);
                let mut moved = Vec::new();
                for e in model.iter_mut().filter(|e| e.profile == l) {
                    e.profile = w.clone();
                    moved.push(e.clone());
                }
                moved.sort_by_key(|e| e.seq);
                assert_eq!(seqs, moved.iter().map(|e| e.seq).collect::<Vec<_>>());
                add(&mut index, &moved);
            }
            Op::Merge(..) => {}
            Op::Delete(p) => {
                index.forget_profile(&profile(*p));
                model.retain(|e| e.profile != profile(*p));
            }
            Op::Compact => index.compact(),
        }
    }
    assert_eq!(index.len(), model.len());
    (index, model)
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).unwrap()
}

// ----- the naive semantics -----

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn prop(e: &Ev, key: &str) -> Option<String> {
    e.props.get(key).and_then(text)
}

fn number(t: &str) -> Option<f64> {
    t.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && !t.contains(['i', 'n', 'I', 'N']))
}

fn matches(e: &Ev, f: Option<&EventFilter>) -> bool {
    let Some(f) = f else { return true };
    if f.name.as_ref().is_some_and(|n| *n != e.name) || f.kind.is_some_and(|k| k != e.kind) {
        return false;
    }
    f.properties.iter().all(|p| {
        let v = prop(e, &p.key);
        let want = p.value.as_ref().and_then(text);
        match p.op {
            FilterOp::Eq => v.is_some() && v == want,
            FilterOp::Neq => !(v.is_some() && v == want),
            FilterOp::Contains => v.is_some_and(|v| v.contains(want.unwrap().as_str())),
            FilterOp::Gt => v
                .and_then(|v| number(&v))
                .is_some_and(|x| x > number(&want.unwrap()).unwrap()),
            FilterOp::Lt => v
                .and_then(|v| number(&v))
                .is_some_and(|x| x < number(&want.unwrap()).unwrap()),
            FilterOp::IsSet => v.is_some(),
            FilterOp::IsNotSet => v.is_none(),
        }
    })
}

fn by_person(model: &[Ev]) -> BTreeMap<String, Vec<Ev>> {
    let mut m: BTreeMap<String, Vec<Ev>> = BTreeMap::new();
    for e in model {
        m.entry(e.profile.clone()).or_default().push(e.clone());
    }
    for evs in m.values_mut() {
        evs.sort_by_key(|e| (e.ts, e.seq));
    }
    m
}

fn bucket(ts: i64, len: i64, offset: i64) -> i64 {
    (ts + offset).div_euclid(len)
}

fn label(v: &Option<String>) -> BreakdownValue {
    match v {
        Some(v) => BreakdownValue::Value { value: v.clone() },
        None => BreakdownValue::None,
    }
}

fn naive_trend(model: &[Ev], q: &TrendQuery, members: Option<&BTreeSet<String>>) -> TrendResult {
    let (from, to) = (q.from.timestamp_millis(), q.to.timestamp_millis());
    let len = if q.interval == Interval::Hour {
        3_600_000
    } else {
        DAY
    };
    let off = q.utc_offset_minutes as i64 * 60_000;
    let first = bucket(from, len, off);
    let count = (bucket(to - 1, len, off) - first + 1) as usize;
    let counted: Vec<&Ev> = model
        .iter()
        .filter(|e| e.ts >= from && e.ts < to && matches(e, q.event.as_ref()))
        .filter(|e| members.is_none_or(|m| m.contains(&e.profile)))
        .collect();
    let profiles = q.measure == Measure::Profiles;
    // The value of each counted event's series.
    let key_of = |e: &Ev| q.breakdown.as_ref().map(|b| prop(e, &b.property));
    let mut shown: Vec<Option<String>> = Vec::new();
    if let Some(b) = &q.breakdown {
        let mut totals: BTreeMap<String, BTreeSet<(String, u64)>> = BTreeMap::new();
        for e in &counted {
            if let Some(v) = prop(e, &b.property) {
                let who = if profiles {
                    (e.profile.clone(), 0)
                } else {
                    (String::new(), e.seq)
                };
                totals.entry(v).or_default().insert(who);
            }
        }
        let mut ranked: Vec<(usize, String)> =
            totals.into_iter().map(|(v, s)| (s.len(), v)).collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        shown = ranked
            .into_iter()
            .take(b.limit as usize)
            .map(|(_, v)| Some(v))
            .collect();
    }
    // Series label -> bucket -> set of events or persons.
    let mut cells: HashMap<Option<BreakdownValue>, Vec<BTreeSet<String>>> = HashMap::new();
    let mut totals: HashMap<Option<BreakdownValue>, BTreeSet<String>> = HashMap::new();
    for e in &counted {
        let series = key_of(e).map(|v| {
            if v.is_none() || shown.contains(&v) {
                label(&v)
            } else {
                BreakdownValue::Other
            }
        });
        let who = if profiles {
            e.profile.clone()
        } else {
            e.seq.to_string()
        };
        let k = (bucket(e.ts, len, off) - first) as usize;
        cells
            .entry(series.clone())
            .or_insert_with(|| vec![BTreeSet::new(); count])[k]
            .insert(who.clone());
        totals.entry(series).or_default().insert(who);
    }
    let mut order: Vec<Option<BreakdownValue>> = if q.breakdown.is_none() {
        vec![None]
    } else {
        shown.iter().map(|v| Some(label(v))).collect()
    };
    if q.breakdown.is_some() {
        for extra in [BreakdownValue::None, BreakdownValue::Other] {
            if totals.contains_key(&Some(extra.clone())) {
                order.push(Some(extra));
            }
        }
    }
    TrendResult {
        buckets: (0..count as i64)
            .map(|k| at((first + k) * len - off))
            .collect(),
        series: order
            .into_iter()
            .map(|s| TrendSeries {
                data: cells.get(&s).map_or(vec![0; count], |c| {
                    c.iter().map(|x| x.len() as u64).collect()
                }),
                total: totals.get(&s).map_or(0, |t| t.len() as u64),
                breakdown: s,
            })
            .collect(),
    }
}

fn steps_of(q: &FunnelQuery, paths: &[Vec<i64>]) -> Vec<FunnelStep> {
    let n = q.steps.len();
    let counts: Vec<u64> = (0..n)
        .map(|k| paths.iter().filter(|p| p.len() > k).count() as u64)
        .collect();
    (0..n)
        .map(|k| {
            let mut times: Vec<i64> = paths
                .iter()
                .filter(|p| p.len() > k && k > 0)
                .map(|p| p[k] - p[k - 1])
                .collect();
            times.sort();
            let m = times.len();
            FunnelStep {
                name: q.steps[k].name.clone(),
                count: counts[k],
                conversion_from_first: (counts[0] > 0).then(|| counts[k] as f64 / counts[0] as f64),
                conversion_from_previous: (k > 0 && counts[k - 1] > 0)
                    .then(|| counts[k] as f64 / counts[k - 1] as f64),
                median_ms_from_previous: (m > 0).then(|| {
                    if m % 2 == 1 {
                        times[m / 2] as f64
                    } else {
                        (times[m / 2 - 1] + times[m / 2]) as f64 / 2.0
                    }
                }),
                average_ms_from_previous: (m > 0)
                    .then(|| times.iter().sum::<i64>() as f64 / m as f64),
            }
        })
        .collect()
}

fn naive_funnel(model: &[Ev], q: &FunnelQuery, ctx: &Context) -> FunnelResult {
    let (from, to) = (q.from.timestamp_millis(), q.to.timestamp_millis());
    let only: Option<BTreeSet<String>> = q
        .audience
        .as_ref()
        .map(|a| ctx.audiences[a].iter().cloned().collect());
    let mut results: Vec<(String, Vec<i64>, Option<String>)> = Vec::new();
    for (person, evs) in by_person(model) {
        if only.as_ref().is_some_and(|o| !o.contains(&person)) {
            continue;
        }
        let mut best: Option<(Vec<i64>, usize)> = None;
        for (i, e) in evs.iter().enumerate() {
            if !(e.ts >= from && e.ts < to && matches(e, Some(&q.steps[0]))) {
                continue;
            }
            let mut path = vec![e.ts];
            for later in &evs[i + 1..] {
                if path.len() == q.steps.len() || later.ts - e.ts > q.window_ms {
                    break;
                }
                if matches(later, Some(&q.steps[path.len()])) {
                    path.push(later.ts);
                }
            }
            if best.as_ref().is_none_or(|(b, _)| path.len() > b.len()) {
                best = Some((path, i));
            }
        }
        if let Some((path, i)) = best {
            let value = q
                .breakdown
                .as_ref()
                .and_then(|b| b.property.as_ref())
                .and_then(|p| prop(&evs[i], p));
            results.push((person, path, value));
        }
    }
    let paths: Vec<Vec<i64>> = results.iter().map(|r| r.1.clone()).collect();
    let mut breakdown = Vec::new();
    if let Some(b) = &q.breakdown {
        if b.property.is_some() {
            let mut entered: BTreeMap<String, usize> = BTreeMap::new();
            for (_, _, v) in &results {
                if let Some(v) = v {
                    *entered.entry(v.clone()).or_default() += 1;
                }
            }
            let mut ranked: Vec<(usize, String)> =
                entered.into_iter().map(|(v, c)| (c, v)).collect();
            ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let shown: Vec<String> = ranked
                .into_iter()
                .take(b.limit as usize)
                .map(|x| x.1)
                .collect();
            let series = |pick: &dyn Fn(&Option<String>) -> bool| -> Vec<Vec<i64>> {
                results
                    .iter()
                    .filter(|r| pick(&r.2))
                    .map(|r| r.1.clone())
                    .collect()
            };
            for v in &shown {
                breakdown.push(FunnelSeries {
                    breakdown: BreakdownValue::Value { value: v.clone() },
                    steps: steps_of(q, &series(&|x| x.as_ref() == Some(v))),
                });
            }
            for (label, pick) in [
                (
                    BreakdownValue::None,
                    Box::new(|x: &Option<String>| x.is_none())
                        as Box<dyn Fn(&Option<String>) -> bool>,
                ),
                (
                    BreakdownValue::Other,
                    Box::new(|x: &Option<String>| x.as_ref().is_some_and(|x| !shown.contains(x))),
                ),
            ] {
                let s = series(&pick);
                if !s.is_empty() {
                    breakdown.push(FunnelSeries {
                        breakdown: label,
                        steps: steps_of(q, &s),
                    });
                }
            }
        }
        for id in &b.audiences {
            let members: BTreeSet<&String> = ctx.audiences[id].iter().collect();
            let s: Vec<Vec<i64>> = results
                .iter()
                .filter(|r| members.contains(&r.0))
                .map(|r| r.1.clone())
                .collect();
            breakdown.push(FunnelSeries {
                breakdown: BreakdownValue::Audience { id: id.clone() },
                steps: steps_of(q, &s),
            });
        }
    }
    FunnelResult {
        steps: steps_of(q, &paths),
        breakdown,
    }
}

fn naive_retention(model: &[Ev], q: &RetentionQuery, now: i64) -> RetentionResult {
    let (from, to) = (q.from.timestamp_millis(), q.to.timestamp_millis());
    let (len, off) = if q.period == Period::Day {
        (DAY, 0)
    } else {
        (7 * DAY, 3 * DAY)
    };
    let first = bucket(from, len, off);
    let count = bucket(to - 1, len, off) - first + 1;
    let periods = q.periods as usize + 1;
    let mut cells = vec![vec![0u64; periods]; count as usize];
    for (_, evs) in by_person(model) {
        let Some(start) = evs.iter().position(|e| matches(e, q.start_event.as_ref())) else {
            continue;
        };
        let ts0 = evs[start].ts;
        if ts0 < from || ts0 >= to {
            continue;
        }
        let c = bucket(ts0, len, off);
        let row = &mut cells[(c - first) as usize];
        row[0] += 1;
        for k in 1..periods as i64 {
            if evs[start + 1..]
                .iter()
                .any(|e| bucket(e.ts, len, off) == c + k && matches(e, q.return_event.as_ref()))
            {
                row[k as usize] += 1;
            }
        }
    }
    RetentionResult {
        cohorts: cells
            .into_iter()
            .enumerate()
            .map(|(c, row)| {
                let start = (first + c as i64) * len - off;
                let values: Vec<Option<u64>> = (0..periods)
                    .map(|k| (k == 0 || start + k as i64 * len <= now).then_some(row[k]))
                    .collect();
                Cohort {
                    start: at(start),
                    size: row[0],
                    percentages: values
                        .iter()
                        .map(|v| {
                            v.filter(|_| row[0] > 0)
                                .map(|v| v as f64 * 100.0 / row[0] as f64)
                        })
                        .collect(),
                    values,
                }
            })
            .collect(),
    }
}

// ----- random queries -----

fn filter() -> impl Strategy<Value = Option<EventFilter>> {
    let property = (0u8..8, 0u8..7, 0u8..5).prop_map(|(op, v, n)| match op {
        0 => PropertyFilter {
            key: "plan".into(),
            op: FilterOp::Eq,
            value: Some(plan(v)).filter(|v| !v.is_null()).or(Some(json!("x"))),
        },
        1 => PropertyFilter {
            key: "plan".into(),
            op: FilterOp::Neq,
            value: Some(json!("y")),
        },
        2 => PropertyFilter {
            key: "plan".into(),
            op: FilterOp::Contains,
            value: Some(json!(["x", "3", "ru"][n as usize % 3])),
        },
        3 => PropertyFilter {
            key: "n".into(),
            op: FilterOp::Gt,
            value: Some(json!(n as i64 - 1)),
        },
        4 => PropertyFilter {
            key: "plan".into(),
            op: FilterOp::Lt,
            value: Some(json!(2.5)),
        },
        5 => PropertyFilter {
            key: "n".into(),
            op: FilterOp::IsSet,
            value: None,
        },
        6 => PropertyFilter {
            key: "plan".into(),
            op: FilterOp::IsNotSet,
            value: None,
        },
        _ => PropertyFilter {
            key: "missing".into(),
            op: FilterOp::Eq,
            value: Some(json!("x")),
        },
    });
    prop::option::of(
        (
            prop::option::of(0usize..4),
            prop::option::of(any::<bool>()),
            prop::collection::vec(property, 0..2),
        )
            .prop_map(|(name, page, properties)| EventFilter {
                name: name.map(|i| ["a", "b", "c", "page"][i].to_owned()),
                kind: page.map(|p| if p { EventKind::Page } else { EventKind::Track }),
                properties,
            }),
    )
}

fn range() -> impl Strategy<Value = (i64, i64)> {
    (0i64..240, 1i64..260).prop_map(|(a, l)| {
        (
            BASE - 3 * HALF_HOUR + a * HALF_HOUR + 7,
            BASE + (a + l) * HALF_HOUR,
        )
    })
}

fn audiences() -> HashMap<String, Vec<String>> {
    HashMap::from([
        ("evens".to_owned(), (0..6).step_by(2).map(profile).collect()),
        (
            "low".to_owned(),
            (0..3).map(profile).chain(["nobody".to_owned()]).collect(),
        ),
    ])
}

fn context(now: i64) -> Context {
    Context {
        now_ms: now,
        audiences: audiences(),
    }
}

fn members(id: &Option<String>) -> Option<BTreeSet<String>> {
    id.as_ref()
        .map(|a| audiences()[a].iter().cloned().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn trends_match_the_naive_semantics(
        ops in prop::collection::vec(op(), 1..12),
        (from, to) in range(),
        hour in any::<bool>(),
        profiles in any::<bool>(),
        event in filter(),
        breakdown in prop::option::of((prop::sample::select(vec!["plan", "n", "missing"]), 1u32..4)),
        audience in prop::option::of(prop::sample::select(vec!["evens", "low"])),
        offset in prop::sample::select(vec![0, 60, -330, 1440]),
    ) {
        let (index, model) = build(&ops);
        let q = TrendQuery {
            from: at(from),
            to: at(to),
            interval: if hour { Interval::Hour } else { Interval::Day },
            measure: if profiles { Measure::Profiles } else { Measure::Events },
            event,
            breakdown: breakdown.map(|(p, limit)| Breakdown { property: p.into(), limit }),
            audience: audience.map(str::to_owned),
            utc_offset_minutes: offset,
        };
        let got = index.trend(&q, &context(0)).unwrap();
        prop_assert_eq!(got, naive_trend(&model, &q, members(&q.audience).as_ref()));
    }

    #[test]
    fn funnels_match_the_naive_semantics(
        ops in prop::collection::vec(op(), 1..12),
        (from, to) in range(),
        steps in prop::collection::vec(filter(), 2..5),
        window in prop::sample::select(vec![1, HALF_HOUR, 3 * HALF_HOUR, 20 * HALF_HOUR, 7 * DAY]),
        breakdown in prop::option::of(prop_oneof![
            (prop::sample::select(vec!["plan", "n"]), 1u32..3).prop_map(|(p, limit)| FunnelBreakdown { property: Some(p.into()), limit, audiences: vec![] }),
            Just(FunnelBreakdown { property: None, limit: 10, audiences: vec!["evens".into(), "low".into()] }),
        ]),
        audience in prop::option::of(prop::sample::select(vec!["evens", "low"])),
    ) {
        let (index, model) = build(&ops);
        let q = FunnelQuery {
            from: at(from),
            to: at(to),
            steps: steps.into_iter().map(Option::unwrap_or_default).collect(),
            window_ms: window,
            breakdown,
            audience: audience.map(str::to_owned),
        };
        let got = index.funnel(&q, &context(0)).unwrap();
        prop_assert_eq!(got, naive_funnel(&model, &q, &context(0)));
    }

    #[test]
    fn retention_matches_the_naive_semantics(
        ops in prop::collection::vec(op(), 1..12),
        (from, to) in range(),
        week in any::<bool>(),
        periods in 1u32..5,
        start_event in filter(),
        return_event in filter(),
        audience in prop::option::of(prop::sample::select(vec!["evens", "low"])),
        now_slot in 0i64..500,
    ) {
        let (index, model) = build(&ops);
        let now = BASE + now_slot * HALF_HOUR;
        let q = RetentionQuery {
            from: at(from),
            to: at(to),
            period: if week { Period::Week } else { Period::Day },
            periods,
            start_event,
            return_event,
            audience: audience.map(str::to_owned),
        };
        let got = index.retention(&q, &context(now)).unwrap();
        let only = members(&q.audience);
        let model: Vec<Ev> = model.into_iter().filter(|e| only.as_ref().is_none_or(|m| m.contains(&e.profile))).collect();
        prop_assert_eq!(got, naive_retention(&model, &q, now));
    }
}

#[test]
fn bad_queries_are_refused_with_stable_codes() {
    let (index, _) = build(&[Op::Append(vec![(0, 1, 0, false, None, None)])]);
    let ctx = context(0);
    let trend = |f: &dyn Fn(&mut TrendQuery)| {
        let mut q = TrendQuery {
            from: at(BASE),
            to: at(BASE + DAY),
            interval: Interval::Hour,
            measure: Measure::Events,
            event: None,
            breakdown: None,
            audience: None,
            utc_offset_minutes: 0,
        };
        f(&mut q);
        index.trend(&q, &ctx).map(|_| ()).map_err(|e| e.code())
    };
    assert_eq!(trend(&|_| {}), Ok(()));
    assert_eq!(trend(&|q| q.to = q.from), Err("invalid_range"));
    assert_eq!(
        trend(&|q| q.to = at(BASE + 2001 * 3_600_000)),
        Err("too_many_buckets")
    );
    assert_eq!(trend(&|q| q.to = at(BASE + 2000 * 3_600_000)), Ok(()));
    assert_eq!(
        trend(&|q| q.audience = Some("nope".into())),
        Err("audience_not_found")
    );
    assert_eq!(
        trend(&|q| q.utc_offset_minutes = 1441),
        Err("invalid_range")
    );
    assert_eq!(
        trend(&|q| q.breakdown = Some(Breakdown {
            property: "plan".into(),
            limit: 0
        })),
        Err("invalid_breakdown")
    );
    let with = |op, value| EventFilter {
        properties: vec![PropertyFilter {
            key: "n".into(),
            op,
            value,
        }],
        ..EventFilter::default()
    };
    assert_eq!(
        trend(&|q| q.event = Some(with(FilterOp::Gt, Some(json!("x"))))),
        Err("invalid_filter")
    );
    assert_eq!(
        trend(&|q| q.event = Some(with(FilterOp::Eq, None))),
        Err("invalid_filter")
    );
    assert_eq!(
        trend(&|q| q.event = Some(with(FilterOp::Contains, Some(json!(3))))),
        Err("invalid_filter")
    );
    assert_eq!(
        trend(&|q| q.event = Some(with(FilterOp::IsSet, Some(json!(3))))),
        Err("invalid_filter")
    );
    assert_eq!(
        trend(&|q| q.event = Some(EventFilter {
            name: Some("never sent".into()),
            ..EventFilter::default()
        })),
        Ok(())
    );
    let funnel = |steps: usize, window_ms| {
        let q = FunnelQuery {
            from: at(BASE),
            to: at(BASE + DAY),
            steps: vec![EventFilter::default(); steps],
            window_ms,
            breakdown: None,
            audience: None,
        };
        index.funnel(&q, &ctx).map(|_| ()).map_err(|e| e.code())
    };
    assert_eq!(funnel(2, DAY), Ok(()));
    assert_eq!(funnel(1, DAY), Err("invalid_steps"));
    assert_eq!(funnel(11, DAY), Err("invalid_steps"));
    assert_eq!(funnel(10, DAY), Ok(()));
    assert_eq!(funnel(2, 0), Err("invalid_window"));
    let retention = |periods| {
        let q = RetentionQuery {
            from: at(BASE),
            to: at(BASE + DAY),
            period: Period::Day,
            periods,
            start_event: None,
            return_event: None,
            audience: None,
        };
        index.retention(&q, &ctx).map(|_| ()).map_err(|e| e.code())
    };
    assert_eq!(retention(0), Err("invalid_periods"));
    assert_eq!(retention(401), Err("invalid_periods"));
    assert_eq!(retention(400), Ok(()));
}

#[test]
fn queries_parse_from_camel_case_json_and_refuse_unknown_fields() {
    let q: FunnelQuery = serde_json::from_value(json!({
        "from": "2026-01-01T00:00:00Z", "to": "2026-01-08T00:00:00Z", "windowMs": 86400000,
        "steps": [{"name": "Signed Up"}, {"name": "Purchased", "properties": [{"key": "plan", "op": "isSet"}]}],
        "breakdown": {"property": "country"}
    }))
    .unwrap();
    assert_eq!(q.breakdown.unwrap().limit, 10);
    // Whole numbers as JSON Schema reads them; out of range saturates (the checks refuse it).
    let q: TrendQuery = serde_json::from_value(json!({
        "from": "2026-01-01T00:00:00Z", "to": "2026-01-08T00:00:00Z", "interval": "day",
        "utcOffsetMinutes": 60.0, "breakdown": {"property": "p", "limit": 1e12}
    }))
    .unwrap();
    assert_eq!(
        (q.utc_offset_minutes, q.breakdown.unwrap().limit),
        (60, u32::MAX)
    );
    assert!(serde_json::from_value::<TrendQuery>(json!({
        "from": "2026-01-01T00:00:00Z", "to": "2026-01-08T00:00:00Z", "interval": "day", "utcOffsetMinutes": 1.5
    }))
    .is_err());
    assert!(serde_json::from_value::<TrendQuery>(json!({
        "from": "2026-01-01T00:00:00Z", "to": "2026-01-08T00:00:00Z", "interval": "day", "bogus": 1
    }))
    .is_err());
}
