//! `herald bench insights`: trend, funnel and retention over a synthetic history, straight
//! into the insights index (ingesting 10M events over HTTP would take longer than the point
//! of this benchmark; `bench ingest` and `bench audiences` measure that path).
//!
//! The history follows shared/benchmarks/insights.md: `--profiles` people, `--events` events
//! over `--days` days, `--names` event names. Each person signs up on some day, then sends
//! events on later days: page views (with `country` and `path`), the shop steps (`Viewed
//! Product`, `Added to Cart`, `Purchased`) and other names. The generator counts what the
//! queries should find, and the run fails if a result disagrees.

use std::time::Instant;

use chrono::{TimeZone, Utc};
use clap::Args;
use herald_insights::{
    Breakdown, Context, EventFilter, EventInput, EventKind, FunnelQuery, Index, Interval, Measure,
    Period, RetentionQuery, TrendQuery,
};
use serde_json::{json, Map, Value};

#[derive(Args)]
pub struct InsightsArgs {
    #[arg(long, default_value_t = 10_000_000)]
    pub events: usize,
    #[arg(long, default_value_t = 1_000_000)]
    pub profiles: usize,
    /// Distinct event names (at least 5: `page` and the four shop steps are always there).
    #[arg(long, default_value_t = 30)]
    pub names: usize,
    #[arg(long, default_value_t = 60)]
    pub days: i64,
    /// Rounds of each query (the minimum and median are reported).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// A short run for CI: 200,000 events, 20,000 profiles, 2 rounds; checks the results.
    #[arg(long)]
    pub smoke: bool,
}

const DAY: i64 = 86_400_000;
/// 2026-01-05T00:00:00Z, a Monday.
const START: i64 = 1_767_571_200_000;
const COUNTRIES: [&str; 12] = [
    "US", "DE", "FR", "GB", "IN", "BR", "JP", "ES", "IT", "NL", "SE", "PL",
];
const STEPS: [&str; 4] = ["Signed Up", "Viewed Product", "Added to Cart", "Purchased"];

/// splitmix64: a fixed, fast, seedable sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Generated {
    page_views_last_30_days: u64,
    signups_in_range: u64,
}

struct Event {
    profile: String,
    ts: i64,
    kind: EventKind,
    name: String,
    props: Map<String, Value>,
}

/// Generate the history into `index`, in batches of about 100,000 events.
fn generate(args: &InsightsArgs, index: &mut Index) -> Generated {
    let mut rng = Rng(42);
    let per_person = (args.events / args.profiles).max(1);
    let others: Vec<String> = (0..args.names.saturating_sub(5))
        .map(|k| format!("Event {k}"))
        .collect();
    let thirty_days_ago = START + (args.days - 30) * DAY;
    let mut page_views = 0u64;
    let mut batch: Vec<Event> = Vec::with_capacity(110_000);
    let mut seq = 0u64;
    let mut made = 0usize;
    for p in 0..args.profiles {
        let profile = uuid::Uuid::from_u128(0x0192_0000_0000_8000_8000_0000_0000_0000 | p as u128)
            .hyphenated()
            .to_string();
        let country = COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize];
        // Everyone has at least one event (the sign-up); the last person takes what is left.
        let budget = args.events - made - (args.profiles - p - 1);
        let n = if p + 1 == args.profiles {
            budget
        } else {
            (1 + rng.below(2 * per_person as u64 - 1) as usize).min(budget)
        };
        made += n;
        let signed_up = START + rng.below(args.days as u64 * DAY as u64) as i64;
        let mut ts = signed_up;
        for e in 0..n {
            let (kind, name, mut props) = if e == 0 {
                (EventKind::Track, STEPS[0].to_owned(), Map::new())
            } else {
                ts += rng.below(DAY as u64 * 2) as i64;
                match rng.below(100) {
                    0..=39 => {
                        let mut m = Map::new();
                        m.insert("path".into(), json!(format!("/p/{}", rng.below(500))));
                        (EventKind::Page, "page".to_owned(), m)
                    }
                    40..=54 => (EventKind::Track, STEPS[1].to_owned(), Map::new()),
                    55..=62 => (EventKind::Track, STEPS[2].to_owned(), Map::new()),
                    63..=66 => {
                        let mut m = Map::new();
                        m.insert("price".into(), json!(rng.below(200) as f64 + 0.5));
                        (EventKind::Track, STEPS[3].to_owned(), m)
                    }
                    _ if others.is_empty() => (EventKind::Track, STEPS[1].to_owned(), Map::new()),
                    _ => (
                        EventKind::Track,
                        others[rng.below(others.len() as u64) as usize].clone(),
                        Map::new(),
                    ),
                }
            };
            props.insert("country".into(), json!(country));
            if kind == EventKind::Page && ts >= thirty_days_ago && ts < START + args.days * DAY {
                page_views += 1;
            }
            seq += 1;
            batch.push(Event {
                profile: profile.clone(),
                ts,
                kind,
                name,
                props,
            });
        }
        if batch.len() >= 100_000 {
            flush(index, &mut batch, seq);
        }
    }
    flush(index, &mut batch, seq);
    // Everyone signs up within the range, by construction.
    Generated {
        page_views_last_30_days: page_views,
        signups_in_range: args.profiles as u64,
    }
}

fn flush(index: &mut Index, batch: &mut Vec<Event>, last_seq: u64) {
    let first = last_seq + 1 - batch.len() as u64;
    let inputs: Vec<EventInput> = batch
        .iter()
        .enumerate()
        .map(|(i, e)| EventInput {
            seq: first + i as u64,
            profile: &e.profile,
            ts_ms: e.ts,
            kind: e.kind,
            name: &e.name,
            properties: Some(&e.props),
        })
        .collect();
    index.append(&inputs);
    batch.clear();
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn at(ms: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).unwrap()
}

fn named(name: &str) -> EventFilter {
    EventFilter {
        name: Some(name.to_owned()),
        ..EventFilter::default()
    }
}

/// Time `f` over `rounds` rounds: (min, median) in ms, and its last result.
fn time<T>(rounds: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..rounds {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (
        times[0],
        times[times.len() / 2],
        last.expect("at least one round"),
    )
}

pub fn run(mut args: InsightsArgs) -> anyhow::Result<()> {
    if args.smoke {
        (args.events, args.profiles, args.rounds) = (200_000, 20_000, 2);
    }
    anyhow::ensure!(
        args.names >= 5
            && args.profiles > 0
            && args.events >= args.profiles
            && args.days >= 30
            && args.rounds > 0,
        "needs --names >= 5, --events >= --profiles > 0, --days >= 30, --rounds > 0"
    );
    println!(
        "insights: {} events, {} profiles, {} names, {} days, {} rounds",
        args.events, args.profiles, args.names, args.days, args.rounds
    );
    let mut index = Index::new();
    let t = Instant::now();
    let generated = generate(&args, &mut index);
    index.compact();
    let build = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        index.len() == args.events,
        "the index holds {} events, not {}",
        index.len(),
        args.events
    );
    let end = START + args.days * DAY;
    let ctx = Context {
        now_ms: end,
        ..Context::default()
    };
    let trend = |measure| TrendQuery {
        from: at(end - 30 * DAY),
        to: at(end),
        interval: Interval::Day,
        measure,
        event: Some(named("page")),
        breakdown: Some(Breakdown {
            property: "country".into(),
            // Every country gets its series (12 of them, no `other`).
            limit: 20,
        }),
        audience: None,
        utc_offset_minutes: 0,
    };
    let views = trend(Measure::Events);
    let users = trend(Measure::Profiles);
    let funnel = FunnelQuery {
        from: at(START),
        to: at(end),
        steps: STEPS.iter().map(|s| named(s)).collect(),
        window_ms: 7 * DAY,
        breakdown: None,
        audience: None,
    };
    let retention = RetentionQuery {
        from: at(START),
        to: at(end),
        period: Period::Week,
        periods: 6,
        start_event: Some(named(STEPS[0])),
        return_event: None,
        audience: None,
    };
    let (v_min, v_med, v) = time(args.rounds, || index.trend(&views, &ctx));
    let (u_min, u_med, u) = time(args.rounds, || index.trend(&users, &ctx));
    let (f_min, f_med, f) = time(args.rounds, || index.funnel(&funnel, &ctx));
    let (r_min, r_med, r) = time(args.rounds, || index.retention(&retention, &ctx));
    let (v, u, f, r) = (v?, u?, f?, r?);
    let views_total: u64 = v.series.iter().map(|s| s.total).sum();
    anyhow::ensure!(
        views_total == generated.page_views_last_30_days,
        "the trend counts {views_total} page views, the generator made {}",
        generated.page_views_last_30_days
    );
    anyhow::ensure!(
        f.steps[0].count == generated.signups_in_range,
        "the funnel's first step has {} profiles, {} signed up",
        f.steps[0].count,
        generated.signups_in_range
    );
    let cohorts: u64 = r.cohorts.iter().map(|c| c.size).sum();
    anyhow::ensure!(
        cohorts == generated.signups_in_range,
        "retention cohorts hold {cohorts} profiles, {} signed up",
        generated.signups_in_range
    );
    for users in &u.series {
        let views = v.series.iter().find(|x| x.breakdown == users.breakdown);
        let views = views.ok_or_else(|| anyhow::anyhow!("a country with users and no views"))?;
        anyhow::ensure!(
            users.data.iter().zip(&views.data).all(|(a, b)| a <= b),
            "more unique users than page views on some day"
        );
    }
    let memory = index.memory_bytes();
    println!(
        "index build:                   {build:.2} s ({:.0} events/s)",
        args.events as f64 / build
    );
    println!(
        "index memory:                  {:.0} MiB ({:.1} bytes per event)",
        memory as f64 / 1048576.0,
        memory as f64 / args.events as f64
    );
    println!(
        "trend, daily page views by country, 30 days:  min {v_min:.1} ms, median {v_med:.1} ms"
    );
    println!(
        "trend, daily unique users by country, 30 days: min {u_min:.1} ms, median {u_med:.1} ms"
    );
    println!(
        "funnel, 4 steps within 7 days:                 min {f_min:.1} ms, median {f_med:.1} ms"
    );
    println!(
        "retention, weekly cohorts, 6 weeks:            min {r_min:.1} ms, median {r_med:.1} ms"
    );
    println!(
        "funnel: {}",
        f.steps
            .iter()
            .map(|s| format!("{} {}", s.name.as_deref().unwrap_or("?"), s.count))
            .collect::<Vec<_>>()
            .join(" → ")
    );
    println!("peak RSS:                      {:.0} MiB", peak_rss_mib());
    Ok(())
}
