//! `herald bench audiences`: what live audiences cost and how fast they move.
//!
//! Two embedded servers. The first processes a history with no audience defined: the
//! baseline. On the second, the audiences exist before the same history is sent (processing
//! throughput with audiences); then one more audience over a new event condition is created
//! and its backfill timed; then single `Trigger` events are sent and the time from their
//! acknowledgment to the membership being visible through the API is measured.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};

use super::client::Client;
use super::process::ServerProcess;

const WRITE_KEY: &str = "hwk_bench_audiences";
const ADMIN_KEY: &str = "hak_bench_audiences";

#[derive(Args)]
pub struct AudiencesArgs {
    /// Audiences to define.
    #[arg(long, default_value_t = 100)]
    pub audiences: usize,
    /// Profiles in the loaded history.
    #[arg(long, default_value_t = 20_000)]
    pub profiles: usize,
    /// Events per profile in the loaded history.
    #[arg(long, default_value_t = 10)]
    pub events_per_profile: usize,
    /// Membership latency probes.
    #[arg(long, default_value_t = 300)]
    pub probes: usize,
    /// A short run for CI: a small history and a few probes; checks that it works.
    #[arg(long)]
    pub smoke: bool,
    /// Leave out the baseline server without audiences (its history takes as long to load
    /// again; for large runs that measure the backfill).
    #[arg(long)]
    pub skip_baseline: bool,
    /// Keep the loaded history (with the audiences defined) in this directory, and on later
    /// runs with the same sizes reuse it instead of loading it again: each run measures the
    /// backfill and the latency on a fresh copy of it.
    #[arg(long)]
    pub history_dir: Option<PathBuf>,
}

/// A mix of the rule kinds real users write; one of them (`trigger`) is what the latency
/// probes enter.
fn audience_rules(n: usize) -> Vec<(String, String)> {
    let templates = [
        r#"trait plan = "plan{k}""#,
        r#"performed "Viewed {k}" >= 2 in last 7 days"#,
        r#"performed "Added {k}" in last 30 days where price > 20 and not performed "Bought {k}" in last 30 days"#,
        r#"computed spend_{c} > 100"#,
        r#"last performed "Viewed {k}" more than 14 days ago"#,
        r#"sequence "Viewed {k}" then "Added {k}" within 1 hour in last 7 days"#,
        r#"trait plan in ["plan{k}", "pro"] or performed "Upgraded" ever"#,
    ];
    let mut rules = vec![("trigger".to_owned(), r#"performed "Trigger""#.to_owned())];
    for i in 1..n {
        let k = i % 10;
        let rule = templates[i % templates.len()]
            .replace("{k}", &k.to_string())
            .replace("{c}", &(i % 3).to_string());
        rules.push((format!("a{i:03}"), rule));
    }
    rules
}

fn history_batch(profiles: std::ops::Range<usize>, per_profile: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for p in profiles {
        let user = format!("user{p}");
        out.push(json!({"type": "identify", "userId": user, "traits": {"plan": format!("plan{}", p % 10)}}));
        for e in 1..per_profile {
            let k = (p + e) % 10;
            let name = ["Viewed", "Added", "Bought", "Viewed"][e % 4];
            let days_ago = (p * 7 + e * 3) % 40;
            out.push(json!({
                "type": "track", "userId": user, "event": format!("{name} {k}"),
                "properties": {"price": (p * 13 + e * 7) % 100},
                "timestamp": herald_core::event::rfc3339(chrono::Utc::now() - chrono::Duration::days(days_ago as i64)),
            }));
        }
    }
    out
}

/// The members the `backfilled` audience (`performed "Viewed 3" >= 1 in last 30 days where
/// price > 50`) must have, counted naively over the generated history itself. (Each profile's
/// history holds at most one `Viewed 3` per ten events, so the rule asks for one.)
fn expected_backfilled(profiles: usize, per_profile: usize) -> u64 {
    let since = chrono::Utc::now() - chrono::Duration::days(30);
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for e in history_batch(0..profiles, per_profile) {
        let recent = e["timestamp"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|t| t > since);
        if e["event"] == "Viewed 3" && e["properties"]["price"].as_f64() > Some(50.0) && recent {
            *counts.entry(e["userId"].to_string()).or_default() += 1;
        }
    }
    counts.values().filter(|&&n| n >= 1).count() as u64
}

/// An embedded server on a fresh data directory, and a client of it.
fn start(dir: &Path, http: &reqwest::Client) -> anyhow::Result<(ServerProcess, Client)> {
    let server = ServerProcess::start(dir, WRITE_KEY, ADMIN_KEY, &["--durability", "normal"])?;
    let client = Client {
        http: http.clone(),
        url: server.url.clone(),
        write_key: WRITE_KEY,
        admin_key: ADMIN_KEY,
    };
    Ok((server, client))
}

impl Client {
    async fn define(&self, audiences: &[(String, String)]) -> anyhow::Result<()> {
        for c in 0..3 {
            self.admin(
                reqwest::Method::PUT,
                &format!("/api/v1/computed-traits/spend_{c}"),
                Some(&json!({"aggregate": "sum", "event": format!("Bought {c}"), "property": "price", "window": {"last": "90d"}})),
            )
            .await?;
        }
        for (id, rule) in audiences {
            self.post("/api/v1/audiences", &json!({"id": id, "rule": rule}))
                .await?;
        }
        Ok(())
    }

    async fn load_history(&self, profiles: usize, per_profile: usize) -> anyhow::Result<()> {
        let chunk = (500 / per_profile).max(1);
        for start in (0..profiles).step_by(chunk) {
            let batch = history_batch(start..(start + chunk).min(profiles), per_profile);
            self.ingest(&json!({"batch": batch})).await?;
        }
        Ok(())
    }

    /// Define the audiences, then send the history: returns how long it took to process.
    async fn load_with_audiences(
        &self,
        rules: &[(String, String)],
        args: &AudiencesArgs,
    ) -> anyhow::Result<Duration> {
        self.define(rules).await?;
        self.wait_ready("trigger").await?;
        let started = Instant::now();
        self.load_history(args.profiles, args.events_per_profile)
            .await?;
        self.wait_processed().await?;
        Ok(started.elapsed())
    }
}

pub async fn run(mut args: AudiencesArgs) -> anyhow::Result<()> {
    if args.smoke {
        args.profiles = args.profiles.min(200);
        args.events_per_profile = args.events_per_profile.min(5);
        args.probes = args.probes.min(10);
    }
    let rules = audience_rules(args.audiences);
    let events = args.profiles * args.events_per_profile;
    println!(
        "{} audiences; history of {} profiles × {} events = {events} events",
        rules.len(),
        args.profiles,
        args.events_per_profile
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;

    // 1. The history with no audience: the baseline.
    let plain = if args.skip_baseline {
        None
    } else {
        let dir = tempfile::tempdir()?;
        let (server, client) = start(dir.path(), &http)?;
        let started = Instant::now();
        client
            .load_history(args.profiles, args.events_per_profile)
            .await?;
        client.wait_processed().await?;
        server.stop()?;
        Some(started.elapsed())
    };

    // 2. The audiences first, then the same history: processing with audiences.
    let dir = tempfile::tempdir()?;
    let (server, client, with_audiences) = match &args.history_dir {
        None => {
            let (server, client) = start(dir.path(), &http)?;
            let loaded = client.load_with_audiences(&rules, &args).await?;
            (server, client, Some(loaded))
        }
        Some(kept) => {
            let sizes = json!({"audiences": rules.len(), "profiles": args.profiles, "events_per_profile": args.events_per_profile});
            let marker = kept.join("bench-history.json");
            let loaded = if marker.exists() {
                let earlier: Value = serde_json::from_slice(&std::fs::read(&marker)?)?;
                anyhow::ensure!(
                    earlier == sizes,
                    "{} holds a history of other sizes: {earlier}",
                    kept.display()
                );
                println!("history loaded earlier, in {}", kept.display());
                None
            } else {
                std::fs::create_dir_all(kept)?;
                anyhow::ensure!(
                    std::fs::read_dir(kept)?.next().is_none(),
                    "{} holds an unfinished history: remove it",
                    kept.display()
                );
                let (server, client) = start(kept, &http)?;
                let loaded = client.load_with_audiences(&rules, &args).await?;
                server.stop()?;
                std::fs::write(&marker, sizes.to_string())?;
                Some(loaded)
            };
            for file in std::fs::read_dir(kept)? {
                let file = file?;
                if file.file_type()?.is_file() {
                    std::fs::copy(file.path(), dir.path().join(file.file_name()))?;
                }
            }
            let (server, client) = start(dir.path(), &http)?;
            (server, client, loaded)
        }
    };
    let sample = client.get("/api/v1/profiles/user_id:user1").await?;
    anyhow::ensure!(
        sample["audiences"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "the sample profile is in no audience: the rules do not exercise anything"
    );
    let rss_loaded = server.rss_mib()?;
    let state_bytes = std::fs::metadata(dir.path().join("state.db"))?.len();
    let (audience_bytes, hits) = {
        let db = rusqlite::Connection::open_with_flags(
            dir.path().join("state.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let bytes: f64 =
            db.query_row("SELECT avg(length(state)) FROM audience_state", [], |r| {
                r.get(0)
            })?;
        let states: Vec<String> = db
            .prepare("SELECT state FROM audience_state LIMIT 1000")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let hits: usize = states
            .iter()
            .filter_map(|s| serde_json::from_str::<herald_core::audience::AudienceState>(s).ok())
            .map(|s| s.facts.hit_count())
            .sum();
        (bytes, hits as f64 / states.len().max(1) as f64)
    };

    // 3. One more audience over a new event condition: a backfill that reads every profile's
    // history from the log.
    let started = Instant::now();
    client
        .post("/api/v1/audiences", &json!({"id": "backfilled", "rule": r#"performed "Viewed 3" >= 1 in last 30 days where price > 50"#}))
        .await?;
    let size = client.wait_ready("backfilled").await?;
    let backfill = started.elapsed();
    // The backfill's result against the history read directly (a history kept from an earlier
    // run has moved in time since, so only one loaded now is checked).
    if args.history_dir.is_none() {
        let expected = expected_backfilled(args.profiles, args.events_per_profile);
        anyhow::ensure!(
            expected > 0,
            "the history puts nobody in the backfilled audience"
        );
        anyhow::ensure!(
            size == expected,
            "the backfilled audience has {size} members; the history read directly gives {expected}"
        );
        println!("backfilled audience: {size} members (= the history read directly)");
    }

    let mut latencies = Vec::with_capacity(args.probes);
    for i in 0..args.probes {
        let user = format!("probe{i}");
        client
            .ingest(&json!({"batch": [{"type": "track", "userId": user, "event": "Trigger"}]}))
            .await?;
        let acked = Instant::now();
        loop {
            let r = client
                .http
                .get(format!("{}/api/v1/profiles/user_id:{user}", client.url))
                .bearer_auth(ADMIN_KEY)
                .send()
                .await?;
            if r.status().is_success() {
                let p: Value = r.json().await?;
                if p["audiences"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "trigger"))
                {
                    break;
                }
            }
            anyhow::ensure!(
                acked.elapsed() < Duration::from_secs(30),
                "membership never became visible"
            );
        }
        latencies.push(acked.elapsed());
    }
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    let rss = server.rss_mib()?;
    server.stop()?;

    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    if let Some(plain) = plain {
        println!(
            "ingest + processing, no audiences:    {:>8.0} events/s ({:.2} s)",
            rate(plain),
            plain.as_secs_f64()
        );
    }
    if let Some(with_audiences) = with_audiences {
        println!(
            "ingest + processing, {} audiences:   {:>8.0} events/s ({:.2} s)",
            rules.len(),
            rate(with_audiences),
            with_audiences.as_secs_f64()
        );
    }
    println!(
        "backfill of a new audience:            {:.2} s ({:.0} profiles/s, {:.0} events/s)",
        backfill.as_secs_f64(),
        args.profiles as f64 / backfill.as_secs_f64(),
        events as f64 / backfill.as_secs_f64()
    );
    println!(
        "ack → membership visible (n={}):     p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    println!(
        "audience state per profile:            {audience_bytes:.0} bytes stored ({hits:.1} remembered events)"
    );
    println!(
        "RSS after loading {rss_loaded:.0} MiB, after the probes {rss:.0} MiB; state.db {:.1} MiB ({:.0} bytes per profile, all state)",
        state_bytes as f64 / 1048576.0,
        state_bytes as f64 / args.profiles as f64
    );
    Ok(())
}
