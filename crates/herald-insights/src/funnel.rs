//! Funnels. Per person, in one pass over their events in (ts, seq) order:
//!
//! 1. the furthest step any attempt reaches, by the window-funnel recurrence: `latest[k]` is
//!    the latest step-1 time among attempts that reached step `k` so far (a later start
//!    leaves more of the window, so it dominates); an event matching step `k + 1` within the
//!    window of `latest[k]` raises `latest[k + 1]`, steps taken from the last down so that
//!    one event never serves two steps of one attempt;
//! 2. the attempt reported (its breakdown value and step times): the first step-1 event in
//!    range whose greedy path (each step the earliest later matching event within the
//!    window) reaches that furthest step. The greedy path of an attempt reaches as far as
//!    any path of it can, so 1. and 2. agree (the oracle test checks it).

use std::collections::HashMap;

use crate::filter::{audience, optional_audience, Matcher};
use crate::index::{EvRef, Index};
use crate::query::range_ms;
use crate::trend::{check_limit, rank};
use crate::{
    BreakdownValue, Context, FunnelQuery, FunnelResult, FunnelSeries, FunnelStep, QueryError,
    MAX_STEPS, MAX_WINDOW_MS,
};

/// Per series: persons per step reached, and their times from the previous step.
#[derive(Debug, Clone, Default)]
struct Acc {
    counts: Vec<u64>,
    times: Vec<Vec<i64>>,
}

impl Acc {
    fn new(steps: usize) -> Acc {
        Acc {
            counts: vec![0; steps],
            times: vec![Vec::new(); steps],
        }
    }

    fn add(&mut self, path: &[i64]) {
        for (k, t) in path.iter().enumerate() {
            self.counts[k] += 1;
            if k > 0 {
                self.times[k].push(t - path[k - 1]);
            }
        }
    }

    fn absorb(&mut self, other: Acc) {
        for k in 0..self.counts.len() {
            self.counts[k] += other.counts[k];
        }
        for (mine, theirs) in self.times.iter_mut().zip(other.times) {
            mine.extend(theirs);
        }
    }

    fn steps(mut self, q: &FunnelQuery) -> Vec<FunnelStep> {
        let first = self.counts[0];
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        (0..self.counts.len())
            .map(|k| {
                let times = &mut self.times[k];
                times.sort_unstable();
                let n = times.len();
                let median = (n > 0).then(|| {
                    if n % 2 == 1 {
                        times[n / 2] as f64
                    } else {
                        (times[n / 2 - 1] as f64 + times[n / 2] as f64) / 2.0
                    }
                });
                let average =
                    (n > 0).then(|| times.iter().map(|t| *t as f64).sum::<f64>() / n as f64);
                FunnelStep {
                    name: q.steps[k].name.clone(),
                    count: self.counts[k],
                    conversion_from_first: ratio(self.counts[k], first),
                    conversion_from_previous: if k == 0 {
                        None
                    } else {
                        ratio(self.counts[k], self.counts[k - 1])
                    },
                    median_ms_from_previous: if k == 0 { None } else { median },
                    average_ms_from_previous: if k == 0 { None } else { average },
                }
            })
            .collect()
    }
}

type Shard = (Acc, HashMap<Option<u32>, Acc>, Vec<Acc>, Vec<u16>, Vec<i64>);

impl Index {
    pub fn funnel(&self, q: &FunnelQuery, ctx: &Context) -> Result<FunnelResult, QueryError> {
        let (from, to) = range_ms(&q.from, &q.to)?;
        let n = q.steps.len();
        if !(2..=MAX_STEPS).contains(&n) {
            return Err(QueryError::InvalidSteps(format!(
                "a funnel has 2–{MAX_STEPS} steps, not {n}"
            )));
        }
        if q.window_ms <= 0 || q.window_ms > MAX_WINDOW_MS {
            return Err(QueryError::InvalidWindow(format!(
                "`windowMs` must be within 1..={MAX_WINDOW_MS}"
            )));
        }
        let matchers = q
            .steps
            .iter()
            .map(|s| Matcher::compile(self, Some(s)))
            .collect::<Result<Vec<_>, _>>()?;
        let only = optional_audience(self, ctx, q.audience.as_ref())?;
        let (mut by_property, mut by_audience) = (None, Vec::new());
        if let Some(b) = &q.breakdown {
            match (&b.property, b.audiences.is_empty()) {
                (Some(p), true) => {
                    check_limit(b.limit)?;
                    by_property = Some(self.keys.get(p));
                }
                (None, false) => {
                    for id in &b.audiences {
                        by_audience.push((id.clone(), audience(self, ctx, id)?));
                    }
                }
                _ => {
                    return Err(QueryError::InvalidBreakdown(
                        "a funnel breakdown has either `property` or `audiences`".into(),
                    ))
                }
            }
        }
        let window = q.window_ms;
        // The steps each name code can match, and the steps that also test properties.
        let by_name: Vec<u16> = (0..self.names.len() as u32)
            .map(|code| {
                matchers
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.name_matches(code))
                    .fold(0u16, |mask, (k, _)| mask | 1 << k)
            })
            .collect();
        let with_properties = matchers
            .iter()
            .enumerate()
            .filter(|(_, m)| m.has_properties())
            .fold(0u16, |mask, (k, _)| mask | 1 << k);
        let shards = self.scan(
            || -> Shard {
                (
                    Acc::new(n),
                    HashMap::new(),
                    vec![Acc::new(n); by_audience.len()],
                    Vec::new(),
                    Vec::new(),
                )
            },
            |(all, per_value, per_audience, masks, path): &mut Shard, p, events| {
                if only.as_ref().is_some_and(|a| !a[p as usize]) {
                    return;
                }
                masks.clear();
                masks.extend(events.iter().map(|r| {
                    let mut m = by_name[self.name(*r) as usize];
                    let mut check = m & with_properties;
                    while check != 0 {
                        let k = check.trailing_zeros() as usize;
                        check &= check - 1;
                        if !matchers[k].properties_match(self, *r) {
                            m &= !(1 << k);
                        }
                    }
                    m
                }));
                let in_range = |i: usize| {
                    let ts = self.ts(events[i]);
                    masks[i] & 1 != 0 && ts >= from && ts < to
                };
                let furthest = furthest(self, events, masks, &in_range, n, window);
                if furthest == 0 {
                    return;
                }
                let start = (0..events.len())
                    .filter(|i| in_range(*i))
                    .find(|i| {
                        greedy(self, events, masks, *i, n, window, path);
                        path.len() == furthest
                    })
                    .expect("some attempt reaches the furthest step");
                all.add(path);
                if let Some(key) = by_property {
                    let v = key.and_then(|k| self.prop(events[start], k));
                    per_value.entry(v).or_insert_with(|| Acc::new(n)).add(path);
                }
                for (a, (_, members)) in per_audience.iter_mut().zip(&by_audience) {
                    if members[p as usize] {
                        a.add(path);
                    }
                }
            },
        );
        let mut all = Acc::new(n);
        let mut per_value: HashMap<Option<u32>, Acc> = HashMap::new();
        let mut per_audience = vec![Acc::new(n); by_audience.len()];
        for (a, v, pa, _, _) in shards {
            all.absorb(a);
            for (k, acc) in v {
                per_value
                    .entry(k)
                    .or_insert_with(|| Acc::new(n))
                    .absorb(acc);
            }
            for (mine, theirs) in per_audience.iter_mut().zip(pa) {
                mine.absorb(theirs);
            }
        }
        let mut breakdown = Vec::new();
        if let (Some(b), Some(_)) = (&q.breakdown, by_property) {
            let mut totals = vec![0u64; self.values.len()];
            for (v, acc) in &per_value {
                if let Some(v) = v {
                    totals[*v as usize] = acc.counts[0];
                }
            }
            let (table, labels) = rank(self, &totals, b.limit);
            let mut series: Vec<Acc> = vec![Acc::new(n); labels.len()];
            let (mut none, mut other) = (Acc::new(n), Acc::new(n));
            for (v, acc) in per_value {
                match v {
                    None => none.absorb(acc),
                    Some(v) if table[v as usize] == u32::MAX => other.absorb(acc),
                    Some(v) => series[table[v as usize] as usize].absorb(acc),
                }
            }
            for (label, acc) in labels.into_iter().zip(series) {
                breakdown.push(FunnelSeries {
                    breakdown: label,
                    steps: acc.steps(q),
                });
            }
            for (label, acc) in [(BreakdownValue::None, none), (BreakdownValue::Other, other)] {
                if acc.counts[0] > 0 {
                    breakdown.push(FunnelSeries {
                        breakdown: label,
                        steps: acc.steps(q),
                    });
                }
            }
        }
        for ((id, _), acc) in by_audience.into_iter().zip(per_audience) {
            breakdown.push(FunnelSeries {
                breakdown: BreakdownValue::Audience { id },
                steps: acc.steps(q),
            });
        }
        Ok(FunnelResult {
            steps: all.steps(q),
            breakdown,
        })
    }
}

/// The furthest step (1-based; 0: no attempt) any attempt reaches.
fn furthest(
    index: &Index,
    events: &[EvRef],
    masks: &[u16],
    in_range: &impl Fn(usize) -> bool,
    n: usize,
    window: i64,
) -> usize {
    let mut latest = [i64::MIN; crate::MAX_STEPS];
    let mut reached = 0;
    for (i, r) in events.iter().enumerate() {
        let m = masks[i];
        if m == 0 {
            continue;
        }
        let ts = index.ts(*r);
        for k in (1..n).rev() {
            if m & (1 << k) != 0 && latest[k - 1] != i64::MIN && ts - latest[k - 1] <= window {
                latest[k] = latest[k].max(latest[k - 1]);
                reached = reached.max(k + 1);
            }
        }
        if in_range(i) {
            latest[0] = ts;
            reached = reached.max(1);
        }
    }
    reached
}

/// The greedy path of the attempt starting at event `start`: each step's time.
fn greedy(
    index: &Index,
    events: &[EvRef],
    masks: &[u16],
    start: usize,
    n: usize,
    window: i64,
    path: &mut Vec<i64>,
) {
    path.clear();
    let t0 = index.ts(events[start]);
    path.push(t0);
    let mut i = start + 1;
    while path.len() < n && i < events.len() {
        let ts = index.ts(events[i]);
        if ts - t0 > window {
            break;
        }
        if masks[i] & (1 << path.len()) != 0 {
            path.push(ts);
        }
        i += 1;
    }
}
