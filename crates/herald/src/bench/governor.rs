//! `herald bench governor`: the send governor's decision time (herald_messaging::decide), the
//! one call every message makes. A policy with two marketing caps (2 a day, 5 a week) and
//! quiet hours; each person has a ledger of earlier sends. Person `i` has `i % 4` marketing
//! sends today and 3 earlier this week, so the caps say: send when `i % 4 < 2`, capped
//! otherwise — the run fails if a decision says anything else. Target (PRODUCT.md, issue 18):
//! p99 ≤ 1 ms.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use clap::Args;
use herald_messaging::governor::{LedgerEntry, LedgerState, Outcome, PersonState};
use herald_messaging::preferences::{Subscriptions, Topics};
use herald_messaging::{decide, Address, Candidate, Category, Channel, Policy, Priority, Reason};

#[derive(Args)]
pub struct GovernorArgs {
    /// Decisions to time.
    #[arg(long, default_value_t = 200_000)]
    pub decisions: usize,
    /// Earlier sends in each person's ledger this week, besides today's.
    #[arg(long, default_value_t = 3)]
    pub history: usize,
    /// A short run for CI: 5,000 decisions; checks every one.
    #[arg(long)]
    pub smoke: bool,
}

pub fn run(args: GovernorArgs) -> anyhow::Result<()> {
    let decisions = if args.smoke { 5_000 } else { args.decisions };
    let policy = Policy::from_json(
        r#"{"timezone": "Europe/Berlin",
            "caps": [{"category": "marketing", "max": 2, "window": "1d"},
                     {"category": "marketing", "max": 5, "window": "7d"}],
            "quiet_hours": {"start": "22:00", "end": "07:00", "action": "defer"}}"#,
    )
    .map_err(|e| anyhow::anyhow!("the benchmark's policy: {e}"))?;
    policy
        .validate()
        .map_err(|e| anyhow::anyhow!("the benchmark's policy: {e}"))?;
    let topics = Topics::default();
    let subscriptions = Subscriptions::default();
    let marketing = Category::parse("marketing").map_err(|e| anyhow::anyhow!("{e}"))?;
    // 12:00 in Berlin on a Wednesday: outside quiet hours.
    let now = Utc.with_ymd_and_hms(2026, 3, 11, 11, 0, 0).unwrap();
    let address = Address::Email {
        email: "person@example.com".into(),
    };
    let history = args.history.min(3);
    println!(
        "{decisions} decisions; each ledger holds 0–3 sends today and {history} earlier this week"
    );
    let mut times = Vec::with_capacity(decisions);
    let started = Instant::now();
    for i in 0..decisions {
        let today = i % 4;
        let ledger: Vec<LedgerEntry> = (0..today + history)
            .map(|k| LedgerEntry {
                key: format!("old-{i}-{k}"),
                at: if k < today {
                    now - chrono::Duration::hours(1 + k as i64)
                } else {
                    now - chrono::Duration::days(2 + k as i64 - today as i64)
                },
                channel: Channel::Email,
                category: marketing.clone(),
                priority: Priority::Normal,
                transactional: false,
                state: LedgerState::Sent,
            })
            .collect();
        let candidate = Candidate {
            key: format!("new-{i}"),
            channel: Channel::Email,
            category: marketing.clone(),
            topic: None,
            transactional: false,
            priority: Priority::Normal,
            holdout: false,
        };
        let person = PersonState {
            address: Some(&address),
            timezone: Some("Europe/Berlin"),
            subscriptions: &subscriptions,
            suppressions: &[],
        };
        let one = Instant::now();
        let decision = decide(&policy, &topics, &candidate, &person, &ledger, now);
        times.push(one.elapsed());
        let sends = today < 2 && today + history < 5;
        let right = match decision.outcome {
            Outcome::Send { .. } => sends && decision.reason == Reason::Sent,
            Outcome::Skip => !sends && decision.reason == Reason::Capped,
            Outcome::Defer { .. } => false,
        };
        if !right {
            anyhow::bail!("decision {i} ({today} sends today): {decision:?}");
        }
    }
    let elapsed = started.elapsed();
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{decisions} decisions in {:.2} s ({:.0}/s on one thread, ledgers built included); decide: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        elapsed.as_secs_f64(),
        decisions as f64 / elapsed.as_secs_f64(),
        us(at(0.5)),
        us(at(0.99)),
        us(at(1.0))
    );
    Ok(())
}
