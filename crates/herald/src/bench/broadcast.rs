//! `herald bench broadcast`: a broadcast to an audience of 1M profiles, end to end — the
//! fan-out, the send governor, rendering and the hand-off over SMTP (Herald's SMTP provider,
//! pooled connections) to an in-process sink — on one embedded server. Reports the time to
//! finish (every member's message sent), the rate, the server's memory, and the progress as
//! it goes. Fails unless every member's message was sent and the sink received each.

use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};

use super::client::Client;
use super::process::ServerProcess;
use super::smtp_sink;

const WRITE_KEY: &str = "hwk_bench_broadcast";
const ADMIN_KEY: &str = "hak_bench_broadcast";

#[derive(Args)]
pub struct BroadcastArgs {
    /// Profiles in the audience.
    #[arg(long, default_value_t = 1_000_000)]
    pub profiles: usize,
    /// SMTP connections the provider keeps open.
    #[arg(long, default_value_t = 16)]
    pub connections: u32,
    /// Give up after this many minutes of sending.
    #[arg(long, default_value_t = 60)]
    pub limit_minutes: u64,
    /// A short run for CI: 2,000 profiles; checks that every message arrives.
    #[arg(long)]
    pub smoke: bool,
}

fn people(range: std::ops::Range<usize>) -> Value {
    let batch: Vec<Value> = range
        .map(|i| {
            json!({"type": "identify", "userId": format!("u{i}"), "messageId": format!("i-{i}"),
                "traits": {"email": format!("u{i}@example.com"), "first_name": format!("Name{i}"), "plan": "pro"}})
        })
        .collect();
    json!({ "batch": batch })
}

pub async fn run(mut args: BroadcastArgs) -> anyhow::Result<()> {
    if args.smoke {
        args.profiles = args.profiles.min(2_000);
    }
    let sink = smtp_sink::start().await?;
    let dir = tempfile::tempdir()?;
    let channels = dir.path().join("channels.toml");
    std::fs::write(
        &channels,
        format!(
            "[email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\npool_size = {}\nfrom = \"Bench <bench@herald.test>\"\n",
            sink.port, args.connections
        ),
    )?;
    let data = dir.path().join("data");
    let server = ServerProcess::start(
        &data,
        WRITE_KEY,
        ADMIN_KEY,
        &[
            "--durability",
            "normal",
            "--channels",
            channels.to_str().unwrap_or_default(),
        ],
    )?;
    let client = Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?,
        url: server.url.clone(),
        write_key: WRITE_KEY,
        admin_key: ADMIN_KEY,
    };

    // The audience: every profile.
    let started = Instant::now();
    let chunk = 2_500;
    for start in (0..args.profiles).step_by(chunk) {
        client
            .ingest(&people(start..(start + chunk).min(args.profiles)))
            .await?;
    }
    client.wait_processed().await?;
    client
        .post(
            "/api/v1/audiences",
            &json!({"id": "everyone", "rule": "trait plan = \"pro\""}),
        )
        .await?;
    let size = client.wait_ready("everyone").await?;
    anyhow::ensure!(
        size == args.profiles as u64,
        "the audience has {size} members, not {}",
        args.profiles
    );
    println!(
        "{} profiles loaded and in the audience in {:.1} s",
        args.profiles,
        started.elapsed().as_secs_f64()
    );
    client
        .post(
            "/api/v1/templates",
            &json!({"id": "news", "channel": "email", "content": {
                "subject": "News for {{ traits.first_name }}",
                "body": "<p>Hello {{ traits.first_name }}, here is what is new this week.</p>"}}),
        )
        .await?;

    // The broadcast, watched until every message is sent.
    let rss_before = server.rss_mib()?;
    let started = Instant::now();
    let created = client
        .post(
            "/api/v1/broadcasts",
            &json!({"name": "Bench", "template": "news", "audience": "everyone", "transactional": true}),
        )
        .await?;
    let id = created["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no id: {created}"))?
        .to_owned();
    let limit = Duration::from_secs(args.limit_minutes * 60);
    let deadline = Instant::now() + limit;
    let mut peak_rss = rss_before;
    let mut enqueued_at = None;
    let mut last_print = Instant::now();
    loop {
        let b = client.get(&format!("/api/v1/broadcasts/{id}")).await?;
        peak_rss = peak_rss.max(server.rss_mib()?);
        let progress = &b["progress"];
        let sent = progress["statuses"]["sent"].as_u64().unwrap_or(0);
        let enqueued = progress["enqueued"].as_u64().unwrap_or(0);
        if enqueued_at.is_none() && b["status"] == "finished" {
            enqueued_at = Some(started.elapsed());
        }
        if last_print.elapsed() >= Duration::from_secs(5) {
            println!(
                "  {:>6.1} s: {enqueued} enqueued, {sent} sent, {}; RSS {:.0} MiB",
                started.elapsed().as_secs_f64(),
                progress["statuses"],
                server.rss_mib()?
            );
            last_print = Instant::now();
        }
        if sent == args.profiles as u64 {
            break;
        }
        let settled: u64 = progress["statuses"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| !["queued", "deferred", "sending"].contains(&k.as_str()))
                    .filter_map(|(_, v)| v.as_u64())
                    .sum()
            })
            .unwrap_or(0);
        anyhow::ensure!(
            b["status"] != "finished" || settled < args.profiles as u64,
            "the broadcast ended without sending every message: {progress}"
        );
        anyhow::ensure!(
            Instant::now() < deadline,
            "not sent after {limit:?}: {progress}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let finished = started.elapsed();
    let received = sink.received.load(std::sync::atomic::Ordering::Relaxed);
    anyhow::ensure!(
        received == args.profiles,
        "the sink received {received} emails, not {}",
        args.profiles
    );
    let cpu = server.cpu_seconds()?;
    server.stop()?;
    println!(
        "broadcast to {} profiles: every member enqueued after {:.1} s, all sent after {:.1} s \
         ({:.0} emails/s); server RSS {rss_before:.0} MiB before, {peak_rss:.0} MiB at most; \
         server CPU {cpu:.0} s in all",
        args.profiles,
        enqueued_at.unwrap_or(finished).as_secs_f64(),
        finished.as_secs_f64(),
        args.profiles as f64 / finished.as_secs_f64(),
    );
    Ok(())
}
