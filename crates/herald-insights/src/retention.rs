//! Retention: cohorts by the period of each person's first start event (ever), and which
//! later periods they returned in. One pass.

use crate::filter::{optional_audience, Matcher};
use crate::index::Index;
use crate::query::{instant, range_ms, Buckets, DAY_MS, WEEK_MS};
use crate::{Cohort, Context, Period, QueryError, RetentionQuery, RetentionResult, MAX_PERIODS};

impl Index {
    pub fn retention(
        &self,
        q: &RetentionQuery,
        ctx: &Context,
    ) -> Result<RetentionResult, QueryError> {
        let (from, to) = range_ms(&q.from, &q.to)?;
        if q.periods == 0 || q.periods > MAX_PERIODS {
            return Err(QueryError::InvalidPeriods(format!(
                "`periods` must be within 1..={MAX_PERIODS}"
            )));
        }
        // Weeks start on Monday: 1970-01-01 was a Thursday, three days after one.
        let buckets = match q.period {
            Period::Day => Buckets::over(from, to, DAY_MS, 0)?,
            Period::Week => Buckets::over(from, to, WEEK_MS, 3 * DAY_MS)?,
        };
        let start = Matcher::compile(self, q.start_event.as_ref())?;
        let back = Matcher::compile(self, q.return_event.as_ref())?;
        let only = optional_audience(self, ctx, q.audience.as_ref())?;
        let (cohorts, periods) = (buckets.count as usize, q.periods as usize + 1);
        let shards = self.scan(
            || (vec![0u64; cohorts * periods], Vec::new()),
            |(counts, returned): &mut (Vec<u64>, Vec<bool>), p, events| {
                if only.as_ref().is_some_and(|a| !a[p as usize]) {
                    return;
                }
                let Some(first) = events.iter().position(|r| start.matches(self, *r)) else {
                    return;
                };
                let ts0 = self.ts(events[first]);
                if ts0 < from || ts0 >= to {
                    return;
                }
                let c = buckets.of(ts0);
                returned.clear();
                returned.resize(periods, false);
                returned[0] = true;
                for r in &events[first + 1..] {
                    let k = buckets.of(self.ts(*r)) - c;
                    if k >= 1
                        && (k as usize) < periods
                        && !returned[k as usize]
                        && back.matches(self, *r)
                    {
                        returned[k as usize] = true;
                    }
                }
                for (k, hit) in returned.iter().enumerate() {
                    if *hit {
                        counts[c as usize * periods + k] += 1;
                    }
                }
            },
        );
        let mut counts = vec![0u64; cohorts * periods];
        for (c, _) in shards {
            counts.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        }
        let cohorts = (0..cohorts)
            .map(|c| {
                let row = &counts[c * periods..(c + 1) * periods];
                let size = row[0];
                let values: Vec<Option<u64>> = (0..periods)
                    .map(|k| {
                        (buckets.start_ms((c + k) as i64) <= ctx.now_ms || k == 0).then_some(row[k])
                    })
                    .collect();
                let percentages = values
                    .iter()
                    .map(|v| {
                        v.filter(|_| size > 0)
                            .map(|v| v as f64 * 100.0 / size as f64)
                    })
                    .collect();
                Cohort {
                    start: instant(buckets.start_ms(c as i64)),
                    size,
                    values,
                    percentages,
                }
            })
            .collect();
        Ok(RetentionResult { cohorts })
    }
}
