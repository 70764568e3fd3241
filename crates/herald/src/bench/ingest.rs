//! `herald bench ingest`: sustained `/v1/batch` load over loopback against a real server.
//!
//! By default it starts `herald serve` as a child process in a fresh temporary data
//! directory, so the server's CPU and memory are measured apart from the load generator's.
//! With `--nodes N` it starts N cluster nodes instead, on a scratch database and stream of the
//! local PostgreSQL and NATS JetStream, and spreads the connections over them round-robin.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::Value;

use herald_storage::cluster::Scratch;

use super::process::ServerProcess;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Benchmark an already running server instead of starting one.
    #[arg(long, requires = "write_key")]
    pub url: Option<String>,
    #[arg(long)]
    pub write_key: Option<String>,
    /// Admin key of `--url` (to wait for processing and read status).
    #[arg(long)]
    pub admin_key: Option<String>,
    /// Seconds of sustained load.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Events per batch.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Approximate serialized size of each event.
    #[arg(long, default_value_t = 500)]
    pub event_bytes: usize,
    /// Seconds to measure idle CPU and memory after the load.
    #[arg(long, default_value_t = 10)]
    pub idle_seconds: u64,
    /// Durability of the spawned server (`full` fsyncs every commit).
    #[arg(long, default_value = "full")]
    pub durability: String,
    /// A short run for CI: 2 s of load, 1 s idle; checks that it works, not how fast.
    #[arg(long)]
    pub smoke: bool,
    /// Start this many cluster nodes (PostgreSQL + JetStream) instead of one embedded server.
    #[arg(long, conflicts_with = "url")]
    pub nodes: Option<usize>,
    /// PostgreSQL server for `--nodes` (a scratch database is created on it and dropped after).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub database_url: String,
    /// NATS JetStream server for `--nodes` (a scratch stream is created and deleted after).
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub bus_url: String,
}

/// A batch body with fixed-width slots rewritten per request, so the generator spends its CPU
/// on copying, not on JSON formatting.
struct Template {
    body: Vec<u8>,
    /// Byte offsets of each event's 12-digit sequence slot (in messageId and userId).
    id_slots: Vec<usize>,
    user_slots: Vec<usize>,
}

impl Template {
    fn new(batch: usize, event_bytes: usize) -> Template {
        let mut body = String::from("{\"batch\":[");
        let mut id_slots = Vec::new();
        let mut user_slots = Vec::new();
        for i in 0..batch {
            if i > 0 {
                body.push(',');
            }
            let head = "{\"type\":\"track\",\"event\":\"Order Completed\",\"messageId\":\"bench-";
            body.push_str(head);
            id_slots.push(body.len());
            body.push_str("000000000000\",\"userId\":\"user-");
            user_slots.push(body.len());
            body.push_str("000000\",\"timestamp\":\"2026-11-01T12:00:00.000Z\",\"context\":{\"library\":{\"name\":\"herald-bench\",\"version\":\"1\"},\"ip\":\"127.0.0.1\"},\"properties\":{\"revenue\":42.5,\"currency\":\"EUR\",\"sku\":\"SKU-1234\",\"padding\":\"");
            let so_far = head.len() + 12 + 37 + 6 + 200;
            body.push_str(&"x".repeat(event_bytes.saturating_sub(so_far)));
            body.push_str("\"}}");
        }
        body.push_str("],\"sentAt\":\"2026-11-01T12:00:00.000Z\"}");
        Template {
            body: body.into_bytes(),
            id_slots,
            user_slots,
        }
    }

    fn render(&self, request: u64) -> Vec<u8> {
        let mut out = self.body.clone();
        let n = self.id_slots.len() as u64;
        for (i, (&id, &user)) in self.id_slots.iter().zip(&self.user_slots).enumerate() {
            let seq = request * n + i as u64;
            write_digits(&mut out[id..id + 12], seq);
            write_digits(
                &mut out[user..user + 6],
                seq.wrapping_mul(2_654_435_761) % 1_000_000,
            );
        }
        out
    }
}

fn write_digits(slot: &mut [u8], mut v: u64) {
    for b in slot.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    overloaded: AtomicU64,
    failed: AtomicU64,
}

pub async fn run(mut args: IngestArgs) -> anyhow::Result<()> {
    if args.smoke {
        args.seconds = 2;
        args.idle_seconds = 1;
        args.connections = args.connections.min(4);
    }
    let data_dir = tempfile::tempdir()?;
    let mut scratch = None;
    let (servers, urls, write_key, admin_key) = match &args.url {
        Some(url) => (
            vec![],
            vec![url.clone()],
            args.write_key.clone().unwrap_or_default(),
            args.admin_key.clone(),
        ),
        None => {
            let (w, a) = ("hwk_bench_write_key", "hak_bench_admin_key");
            let mut extra = vec!["--durability".to_owned(), args.durability.clone()];
            if args.nodes.is_some() {
                let (db, bus) = (args.database_url.clone(), args.bus_url.clone());
                let s = tokio::task::spawn_blocking(move || Scratch::create(&db, &bus)).await??;
                extra.extend(s.serve_args()?);
                scratch = Some(s);
            }
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let mut servers = Vec::new();
            for i in 0..args.nodes.unwrap_or(1) {
                let dir = data_dir.path().join(format!("node-{i}"));
                servers.push(ServerProcess::start(&dir, w, a, &extra)?);
            }
            let urls = servers.iter().map(|s| s.url.clone()).collect();
            (servers, urls, w.to_owned(), Some(a.to_owned()))
        }
    };
    let result = load(&args, &servers, &urls, &write_key, admin_key.as_deref()).await;
    for s in servers {
        s.stop()?;
    }
    // Dropping the scratch cluster talks to PostgreSQL synchronously: not on a runtime thread.
    tokio::task::spawn_blocking(move || drop(scratch)).await?;
    result
}

async fn load(
    args: &IngestArgs,
    servers: &[ServerProcess],
    urls: &[String],
    write_key: &str,
    admin_key: Option<&str>,
) -> anyhow::Result<()> {
    let url = &urls[0];
    let template = Arc::new(Template::new(args.batch, args.event_bytes));
    let event_size = template.body.len() / args.batch;
    let mode = match args.nodes {
        Some(n) => format!("{n}-node cluster (PostgreSQL + JetStream)"),
        None => format!("embedded, durability {}", args.durability),
    };
    println!(
        "bench ingest: {} s, {} connections, {} events/batch, ~{} bytes/event, {mode}",
        args.seconds, args.connections, args.batch, event_size
    );

    // Every wait has a deadline, so a server that stops answering fails the run (and CI's
    // smoke run) instead of hanging it.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let counters = Arc::new(Counters::default());
    let next_request = Arc::new(AtomicU64::new(0));
    let cpu = || -> anyhow::Result<f64> { servers.iter().map(|s| s.cpu_seconds()).sum() };
    let rss = || {
        servers
            .iter()
            .map(|s| s.rss_mib().unwrap_or(0.0))
            .sum::<f64>()
    };
    let cpu_before = cpu()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let (client, template, counters, next_request) = (
            client.clone(),
            template.clone(),
            counters.clone(),
            next_request.clone(),
        );
        let endpoint = format!("{}/v1/batch", urls[c % urls.len()]);
        let key = write_key.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let body = template.render(next_request.fetch_add(1, Ordering::Relaxed));
                let sent = Instant::now();
                let response = client
                    .post(&endpoint)
                    .basic_auth(&key, Some(""))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                match response.map(|r| r.status().as_u16()) {
                    Ok(200) => {
                        latencies.push(sent.elapsed());
                        counters.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(429) => {
                        counters.overloaded.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    _ => {
                        counters.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let mut peak_rss = 0f64;
    while !servers.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak_rss = peak_rss.max(rss());
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_load = (!servers.is_empty())
        .then(|| cpu().map(|now| (now - cpu_before) / elapsed))
        .transpose()?;
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let ok = counters.ok.load(Ordering::Relaxed);
    let events = ok * args.batch as u64;
    println!("acknowledged events:  {events} in {elapsed:.1} s");
    println!(
        "throughput:           {:.0} events/s ({:.0} requests/s)",
        events as f64 / elapsed,
        ok as f64 / elapsed
    );
    println!(
        "ack latency:          p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "429 responses:        {}   failed requests: {}",
        counters.overloaded.load(Ordering::Relaxed),
        counters.failed.load(Ordering::Relaxed)
    );
    if let Some(load) = cpu_load {
        println!(
            "server CPU:           {:.2} cores ({:.0}% of the machine; Herald processes only)",
            load,
            load * 100.0 / num_cpus()
        );
        println!("server peak RSS:      {peak_rss:.1} MiB");
    }

    if let Some(admin) = admin_key {
        let drain_limit = Duration::from_secs(if args.smoke { 120 } else { 600 });
        let drain_start = Instant::now();
        let status = loop {
            let status: Value = client
                .get(format!("{url}/api/v1/status"))
                .bearer_auth(admin)
                .send()
                .await?
                .json()
                .await?;
            if status["lag"].as_u64() == Some(0) || drain_start.elapsed() > drain_limit {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let drain = drain_start.elapsed().as_secs_f64();
        println!(
            "processing:           caught up {drain:.1} s after load ended; {:.0} events/s applied to profiles over load + drain",
            events as f64 / (elapsed + drain)
        );
        if status["lag"].as_u64() != Some(0) {
            anyhow::bail!("processing did not catch up: {status}");
        }
        // A server this run started holds exactly what it acknowledged: every event of every
        // 200, nothing of a failed request, each message id once.
        let stored = status["log_head"].as_u64().unwrap_or(0);
        if !servers.is_empty() {
            if stored != events {
                anyhow::bail!("{events} events acknowledged, but the log holds {stored}");
            }
            println!("stored events:        {stored} (= acknowledged)");
        }
    }

    if !servers.is_empty() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = cpu()?;
        tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
        let idle = (cpu()? - before) / args.idle_seconds as f64;
        println!(
            "idle:                 {:.2}% CPU, {:.1} MiB RSS (all nodes)",
            idle * 100.0,
            rss()
        );
    }
    if ok == 0 || counters.failed.load(Ordering::Relaxed) > 0 {
        anyhow::bail!("the benchmark saw failed requests or no successful request");
    }
    Ok(())
}

fn num_cpus() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}
