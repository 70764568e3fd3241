//! `herald serve`: wire storage, pipeline and HTTP together, and shut down gracefully.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use chrono::Utc;
use clap::{Args, ValueEnum};
use herald_api::AppState;
use herald_core::identity::IdentityRules;
use herald_pipeline::notify::LogNotifier;
use herald_pipeline::processor::{self, ProcessorConfig};
use herald_pipeline::tail::Tail;
use herald_pipeline::writer::{self, WriterConfig};
use herald_storage::dedup::DedupConfig;
use herald_storage::sqlite::{Durability, SqliteOptions, SqliteStore};
use herald_storage::{KeyKind, Store};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DurabilityArg {
    /// fsync every commit: acknowledged events survive power loss.
    Full,
    /// No fsync: acknowledged events survive a crash of Herald, not of the machine.
    Normal,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the embedded database lives.
    #[arg(long, env = "HERALD_DATA_DIR", default_value = "herald-data")]
    pub data_dir: PathBuf,
    /// Address to listen on. Port 0 picks a free port (printed at start).
    #[arg(long, env = "HERALD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Identity rules (JSON); see docs/identity.md. Defaults apply to omitted fields.
    #[arg(long, env = "HERALD_IDENTITY_RULES")]
    pub identity_rules: Option<PathBuf>,
    #[arg(long, env = "HERALD_DURABILITY", value_enum, default_value = "full")]
    pub durability: DurabilityArg,
    /// Requests that may wait for a commit before ingest answers 429.
    #[arg(long, env = "HERALD_INGEST_QUEUE", default_value_t = 1024)]
    pub ingest_queue: usize,
    /// How long a `messageId` is remembered for de-duplication, in seconds.
    #[arg(long, env = "HERALD_DEDUP_WINDOW_SECS", default_value_t = 86_400)]
    pub dedup_window_secs: u32,
    /// At most this many `messageId`s are remembered (about 20 bytes of memory each).
    #[arg(long, env = "HERALD_DEDUP_MAX_IDS", default_value_t = 10_000_000)]
    pub dedup_max_ids: usize,
}

pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("HERALD_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("HERALD_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}

pub fn load_rules(path: Option<&Path>) -> anyhow::Result<IdentityRules> {
    match path {
        None => Ok(IdentityRules::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading identity rules {}", p.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("invalid identity rules in {}", p.display()))
        }
    }
}

fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let latency = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ];
    let sizes = [
        1.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 20000.0,
    ];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &latency)?
        .set_buckets_for_metric(Matcher::Suffix("_events".into()), &sizes)?
        .install_recorder()?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// Make sure keys exist: the ones given in the environment, or a generated pair on first start.
/// Returns lines to print.
fn ensure_keys(store: &dyn Store) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for (kind, var, label) in [
        (KeyKind::Write, "HERALD_WRITE_KEY", "Write key"),
        (KeyKind::Admin, "HERALD_ADMIN_KEY", "Admin key"),
    ] {
        let from_env = std::env::var(var).ok().filter(|k| !k.trim().is_empty());
        match from_env {
            Some(secret) => {
                store.insert_key(kind, &format!("from {var}"), secret.trim(), Utc::now())?;
                lines.push(format!("  {label}: {} (from {var})", secret.trim()));
            }
            None if store.count_keys(kind)? == 0 => {
                let secret = herald_api::keys::generate(kind);
                store.insert_key(kind, "generated at first start", &secret, Utc::now())?;
                lines.push(format!(
                    "  {label}: {secret}  (new; shown once, only its hash is stored)"
                ));
            }
            None => lines.push(format!(
                "  {label}s: {} active (`herald keys list`, `herald keys create --kind {}`)",
                store.count_keys(kind)?,
                kind.as_str()
            )),
        }
    }
    Ok(lines)
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let rules = load_rules(args.identity_rules.as_deref())?;
    let durability = match args.durability {
        DurabilityArg::Full => Durability::Full,
        DurabilityArg::Normal => Durability::Normal,
    };
    let dedup = DedupConfig {
        window_ms: i64::from(args.dedup_window_secs) * 1000,
        max_ids: args.dedup_max_ids,
    };
    let sqlite = SqliteStore::open(&args.data_dir, SqliteOptions { durability, dedup })
        .with_context(|| format!("opening the data directory {}", args.data_dir.display()))?;
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let key_lines = ensure_keys(&*store)?;
    let metrics = metrics_handle()?;

    let notifier = Arc::new(LogNotifier::default());
    notifier.advance(store.head()?);
    let tail = Tail::new(1024);
    let (ingest, writer_thread) = writer::spawn(
        store.clone(),
        notifier.clone(),
        tail.clone(),
        WriterConfig {
            queue_requests: args.ingest_queue,
            ..WriterConfig::default()
        },
    );
    let (processor, processor_thread) = processor::spawn(
        store.clone(),
        notifier.clone(),
        ProcessorConfig {
            rules,
            on_idle: Some(crate::release_allocator_memory),
            ..ProcessorConfig::default()
        },
        vec![],
    );
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let state = AppState {
        keys: Arc::default(),
        store: store.clone(),
        ingest,
        processor: processor.clone(),
        tail,
        notifier,
        metrics,
        shutdown: shutdown_rx,
    };

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    println!(
        "Herald {} — embedded SQLite in {}",
        env!("CARGO_PKG_VERSION"),
        args.data_dir.display()
    );
    println!("  Segment ingest: {url}/v1/batch (and /v1/identify, /v1/track, ...)");
    println!("  Admin API:      {url}/api/v1   docs: {url}/docs   OpenAPI: {url}/openapi.json");
    println!("  Metrics:        {url}/metrics   health: {url}/healthz");
    for line in key_lines {
        println!("{line}");
    }
    println!("listening on {url}");
    tracing::info!(%url, data_dir = %args.data_dir.display(), "herald started");

    let app = herald_api::router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: draining in-flight requests");
            let _ = shutdown_tx.send(true);
        })
        .await?;

    // Every ingest handle is gone with the router: the writer commits what is queued and stops.
    processor.stop();
    let _ = tokio::task::spawn_blocking(move || {
        let _ = writer_thread.join();
        let _ = processor_thread.join();
    })
    .await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
