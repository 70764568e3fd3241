//! Trends: matching events (or distinct profiles) per time bucket, optionally per value of
//! one property. Without a breakdown one pass; with one, a first pass ranks the values.

use crate::filter::{optional_audience, Matcher};
use crate::index::{EvRef, Index};
use crate::query::{range_ms, Buckets};
use crate::{
    BreakdownValue, Context, Measure, QueryError, TrendQuery, TrendResult, TrendSeries,
    MAX_BREAKDOWN_VALUES,
};

const OTHER: u32 = u32::MAX;

/// A shard's counts per (series, bucket), totals per series, and scratch space.
type Shard = (Vec<u64>, Vec<u64>, Vec<EvRef>, Vec<(usize, usize)>);

pub(crate) fn check_limit(limit: u32) -> Result<(), QueryError> {
    if limit == 0 || limit > MAX_BREAKDOWN_VALUES {
        return Err(QueryError::InvalidBreakdown(format!(
            "breakdown `limit` must be 1–{MAX_BREAKDOWN_VALUES}"
        )));
    }
    Ok(())
}

/// The `limit` values with the largest totals (ties: by text), as a table from value code
/// to series (`OTHER` for the rest) and their labels.
pub(crate) fn rank(index: &Index, totals: &[u64], limit: u32) -> (Vec<u32>, Vec<BreakdownValue>) {
    let mut ranked: Vec<u32> = (0..totals.len() as u32)
        .filter(|v| totals[*v as usize] > 0)
        .collect();
    ranked.sort_by(|a, b| {
        totals[*b as usize]
            .cmp(&totals[*a as usize])
            .then_with(|| index.values.text(*a).cmp(index.values.text(*b)))
    });
    ranked.truncate(limit as usize);
    let mut table = vec![OTHER; totals.len()];
    let labels = ranked
        .iter()
        .enumerate()
        .map(|(s, v)| {
            table[*v as usize] = s as u32;
            BreakdownValue::Value {
                value: index.values.text(*v).to_owned(),
            }
        })
        .collect();
    (table, labels)
}

impl Index {
    pub fn trend(&self, q: &TrendQuery, ctx: &Context) -> Result<TrendResult, QueryError> {
        let (from, to) = range_ms(&q.from, &q.to)?;
        if !(-1440..=1440).contains(&q.utc_offset_minutes) {
            return Err(QueryError::InvalidRange(
                "`utcOffsetMinutes` must be within -1440..1440".into(),
            ));
        }
        let buckets = Buckets::over(
            from,
            to,
            q.interval.ms(),
            q.utc_offset_minutes as i64 * 60_000,
        )?;
        let matcher = Matcher::compile(self, q.event.as_ref())?;
        let audience = optional_audience(self, ctx, q.audience.as_ref())?;
        if let Some(b) = &q.breakdown {
            check_limit(b.limit)?;
        }
        let key = q
            .breakdown
            .as_ref()
            .and_then(|b| self.keys.get(&b.property));
        let profiles = q.measure == Measure::Profiles;
        // The events of person `p` that count.
        let counted = |p: u32, events: &[EvRef], out: &mut Vec<EvRef>| {
            out.clear();
            if audience.as_ref().is_some_and(|a| !a[p as usize]) {
                return;
            }
            out.extend(events.iter().copied().filter(|r| {
                let ts = self.ts(*r);
                ts >= from && ts < to && matcher.matches(self, *r)
            }));
        };
        let values = self.values.len();
        // Series: the ranked values, then `none`, then `other`.
        let (table, mut labels) = match &q.breakdown {
            None => (Vec::new(), Vec::new()),
            Some(b) => {
                let totals = self.value_totals(values, key, profiles, &counted);
                rank(self, &totals, b.limit)
            }
        };
        let ranked = labels.len() as u32;
        let series_of = |r: EvRef| -> usize {
            match key.and_then(|k| self.prop(r, k)) {
                _ if q.breakdown.is_none() => 0,
                None => ranked as usize,
                Some(v) => match table[v as usize] {
                    OTHER => ranked as usize + 1,
                    s => s as usize,
                },
            }
        };
        let series = if q.breakdown.is_some() {
            ranked as usize + 2
        } else {
            1
        };
        let nb = buckets.count as usize;
        let shards = self.scan(
            || -> Shard {
                (
                    vec![0u64; series * nb],
                    vec![0u64; series],
                    Vec::new(),
                    Vec::new(),
                )
            },
            |(counts, totals, mine, pairs): &mut Shard, p, events| {
                counted(p, events, mine);
                if mine.is_empty() {
                    return;
                }
                pairs.clear();
                for r in mine.iter() {
                    let (s, k) = (series_of(*r), buckets.of(self.ts(*r)) as usize);
                    if profiles {
                        pairs.push((s, k));
                    } else {
                        counts[s * nb + k] += 1;
                        totals[s] += 1;
                    }
                }
                if profiles {
                    pairs.sort_unstable();
                    pairs.dedup();
                    let mut last = usize::MAX;
                    for (s, k) in pairs.iter() {
                        counts[s * nb + k] += 1;
                        if *s != last {
                            totals[*s] += 1;
                            last = *s;
                        }
                    }
                }
            },
        );
        let (mut counts, mut totals) = (vec![0u64; series * nb], vec![0u64; series]);
        for (c, t, _, _) in shards {
            counts.iter_mut().zip(c).for_each(|(a, b)| *a += b);
            totals.iter_mut().zip(t).for_each(|(a, b)| *a += b);
        }
        let result_series = if q.breakdown.is_none() {
            vec![TrendSeries {
                breakdown: None,
                data: counts,
                total: totals[0],
            }]
        } else {
            labels.push(BreakdownValue::None);
            labels.push(BreakdownValue::Other);
            labels
                .into_iter()
                .enumerate()
                .filter(|(s, _)| (*s as u32) < ranked || totals[*s] > 0)
                .map(|(s, label)| TrendSeries {
                    breakdown: Some(label),
                    data: counts[s * nb..(s + 1) * nb].to_vec(),
                    total: totals[s],
                })
                .collect()
        };
        Ok(TrendResult {
            buckets: buckets.starts(),
            series: result_series,
        })
    }

    /// Per value code of `key`: matching events, or distinct profiles with one.
    fn value_totals(
        &self,
        values: usize,
        key: Option<u32>,
        profiles: bool,
        counted: &(impl Fn(u32, &[EvRef], &mut Vec<EvRef>) + Sync),
    ) -> Vec<u64> {
        let Some(key) = key else {
            return vec![0; values];
        };
        let shards = self.scan(
            || (vec![0u64; values], Vec::new(), Vec::new()),
            |(totals, mine, seen): &mut (Vec<u64>, Vec<EvRef>, Vec<u32>), p, events| {
                counted(p, events, mine);
                seen.clear();
                for r in mine.iter() {
                    if let Some(v) = self.prop(*r, key) {
                        if profiles {
                            seen.push(v);
                        } else {
                            totals[v as usize] += 1;
                        }
                    }
                }
                seen.sort_unstable();
                seen.dedup();
                for v in seen.iter() {
                    totals[*v as usize] += 1;
                }
            },
        );
        let mut totals = vec![0u64; values];
        for (t, _, _) in shards {
            totals.iter_mut().zip(t).for_each(|(a, b)| *a += b);
        }
        totals
    }
}
