//! `herald serve`: wire storage, pipeline and HTTP together, and shut down gracefully.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, ValueEnum};
use futures_util::StreamExt;
use herald_api::AppState;
use herald_core::identity::IdentityRules;
use herald_pipeline::notify::LogNotifier;
use herald_pipeline::processor::{self, ProcessorConfig};
use herald_pipeline::tail::Tail;
use herald_pipeline::writer::{self, WriterConfig};
use herald_storage::cluster::{ClusterConfig, ClusterStore};
use herald_storage::dedup::DedupConfig;
use herald_storage::jetstream::JetStreamConfig;
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
    /// At most this many `messageId`s are remembered (12 bytes of memory each; up to 2^31).
    /// Embedded mode only: in cluster mode JetStream keeps the window.
    #[arg(long, env = "HERALD_DEDUP_MAX_IDS", default_value_t = 10_000_000,
          value_parser = clap::value_parser!(u32).range(1..=herald_storage::dedup::MAX_IDS_LIMIT as i64))]
    pub dedup_max_ids: u32,
    /// Cluster mode: the shared PostgreSQL database (`postgres://user@host:5432/db`). Needs
    /// `--bus-url` too; with neither, Herald runs embedded on SQLite.
    #[arg(long, env = "HERALD_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Cluster mode: the NATS JetStream server(s) (`nats://host:4222`, comma-separated).
    #[arg(long, env = "HERALD_BUS_URL")]
    pub bus_url: Option<String>,
    /// Cluster mode: names the JetStream stream (`HERALD_<NAME>`), so several Herald clusters
    /// can share one NATS. Every node of a cluster uses the same name.
    #[arg(long, env = "HERALD_CLUSTER_NAME", default_value = "herald")]
    pub cluster_name: String,
    /// Cluster mode: replicas of the stream (3 on a NATS cluster; 1 on a single server).
    #[arg(long, env = "HERALD_BUS_REPLICAS", default_value_t = 1)]
    pub bus_replicas: usize,
    /// Cluster mode: processing partitions of a new cluster (an existing one keeps the count
    /// it was created with). More partitions than nodes lets every node take a share.
    #[arg(long, env = "HERALD_PARTITIONS", default_value_t = herald_storage::cluster::DEFAULT_PARTITIONS,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub partitions: u32,
    /// Tests only: serve `POST /api/v1/test/clock`, which moves this node's clock forward
    /// (audience windows and timers), so tests of time need not sleep.
    #[arg(long, env = "HERALD_TEST_CLOCK", hide = true)]
    pub test_clock: bool,
    /// The URL browsers reach this server at (`https://cdp.example.com`, optionally with a
    /// path prefix), written into the settings browser SDKs fetch (docs/browser.md). Without
    /// it, each request's `X-Forwarded-Proto` and `X-Forwarded-Host` or `Host` are used.
    #[arg(long, env = "HERALD_PUBLIC_URL")]
    pub public_url: Option<herald_api::browser::PublicUrl>,
    /// Seconds a client has to send a request's head (request line and headers), from its
    /// first byte (from the accept, for a connection's first request); then the connection
    /// is closed. Slow-header clients ("slowloris") cannot hold connections longer.
    #[arg(long, env = "HERALD_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body, from its head: a body that
    /// trickles or stalls gets a 408 `body_timeout` and the connection is closed. 30 s carries
    /// the largest batch (500 KB) at 17 KB/s.
    #[arg(long, env = "HERALD_BODY_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: u64,
    /// Seconds a keep-alive connection may wait for its next request before it is closed.
    #[arg(long, env = "HERALD_IDLE_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout_secs: u64,
    /// Connections served at once; one more is answered 503 `too_many_connections` and
    /// closed. Default: the open-file limit (`ulimit -n`) less 256, between 32 and 65,536
    /// (2,048 if the limit cannot be read).
    #[arg(long, env = "HERALD_MAX_CONNECTIONS",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: Option<u64>,
    /// The channels' providers and the send governor's policy (a TOML file; docs/messages.md).
    /// Without it, no channel is configured and messages fail `channel_not_configured`.
    #[arg(long, env = "HERALD_CHANNELS")]
    pub channels: Option<PathBuf>,
}

/// Where state lives, from the flags.
pub(crate) enum Backend {
    Embedded,
    Cluster(ClusterConfig),
}

impl ServeArgs {
    fn limits(&self) -> crate::endpoint::Limits {
        crate::endpoint::Limits {
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            body_timeout: Duration::from_secs(self.body_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            max_connections: self
                .max_connections
                .map_or_else(crate::endpoint::default_max_connections, |n| n as usize),
        }
    }

    pub(crate) fn backend(&self) -> anyhow::Result<Backend> {
        match (&self.database_url, &self.bus_url) {
            (None, None) => Ok(Backend::Embedded),
            (Some(db), Some(bus)) => {
                anyhow::ensure!(
                    db.starts_with("postgres://") || db.starts_with("postgresql://"),
                    "--database-url must be a postgres:// URL"
                );
                anyhow::ensure!(
                    bus.split(',').all(|u| u.trim().starts_with("nats://")),
                    "--bus-url must be nats:// URL(s)"
                );
                Ok(Backend::Cluster(ClusterConfig {
                    database_url: db.clone(),
                    bus: JetStreamConfig {
                        url: bus.clone(),
                        name: self.cluster_name.clone(),
                        duplicate_window: Duration::from_secs(u64::from(self.dedup_window_secs)),
                        replicas: self.bus_replicas,
                    },
                    partitions: self.partitions,
                }))
            }
            _ => anyhow::bail!(
                "cluster mode needs both --database-url (PostgreSQL) and --bus-url (NATS JetStream)"
            ),
        }
    }
}

pub fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("HERALD_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    // Colours only for a person at a terminal: a file, a pipe or a log collector gets plain
    // text (and `NO_COLOR` turns them off anywhere).
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
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
/// The signed links of messages (unsubscribe, preferences): under `--public-url`, else this
/// node's listen address; signed with the cluster's `links` secret, made by the first node.
async fn links(
    store: Arc<dyn Store>,
    public_url: Option<&herald_api::browser::PublicUrl>,
    listening: &str,
) -> anyhow::Result<herald_pipeline::messaging::Links> {
    use herald_pipeline::messaging::{Links, SECRET_NAME};
    let secret = tokio::task::spawn_blocking(move || {
        store.shared_secret(SECRET_NAME, &Links::generate_secret())
    })
    .await?
    .context("reading the link-signing secret")?;
    let base = public_url.map_or_else(|| listening.to_owned(), |u| u.to_string());
    Links::new(&secret, &base).map_err(|e| anyhow::anyhow!("the link-signing secret: {e}"))
}

/// The in-app inbox secret (herald_api::inbox): the cluster's, made by the first node.
async fn inbox_secret(store: Arc<dyn Store>) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        store.shared_secret(
            herald_api::inbox::SECRET_NAME,
            &herald_pipeline::messaging::Links::generate_secret(),
        )
    })
    .await?
    .context("reading the inbox secret")
}

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
    let tail = Tail::new(1024);
    let (store, cluster, banner): (Arc<dyn Store>, _, _) = match args.backend()? {
        Backend::Embedded => {
            let durability = match args.durability {
                DurabilityArg::Full => Durability::Full,
                DurabilityArg::Normal => Durability::Normal,
            };
            let dedup = DedupConfig {
                window_ms: i64::from(args.dedup_window_secs) * 1000,
                max_ids: args.dedup_max_ids as usize,
            };
            let sqlite = SqliteStore::open(&args.data_dir, SqliteOptions { durability, dedup })
                .with_context(|| {
                    format!("opening the data directory {}", args.data_dir.display())
                })?;
            let banner = format!("embedded SQLite in {}", args.data_dir.display());
            (Arc::new(sqlite), None, banner)
        }
        Backend::Cluster(config) => {
            let handle = tokio::runtime::Handle::current();
            let banner = format!(
                "cluster mode: PostgreSQL + JetStream stream HERALD_{} on {}",
                config.bus.name.to_uppercase(),
                config.bus.url
            );
            let cluster = Arc::new(
                tokio::task::spawn_blocking(move || ClusterStore::connect(handle, &config))
                    .await?
                    .context("connecting to PostgreSQL and JetStream")?,
            );
            (cluster.clone(), Some(cluster), banner)
        }
    };
    let key_lines = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || ensure_keys(&*store)).await??
    };
    let user_lines = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || crate::users::ensure_first_user(&*store)).await??
    };
    let metrics = metrics_handle()?;

    let notifier = Arc::new(LogNotifier::default());
    {
        let store = store.clone();
        notifier.advance(tokio::task::spawn_blocking(move || store.head()).await??);
    }
    // Embedded, the writer feeds the live tail; in a cluster, events arrive through every
    // node, so the tail follows the stream instead.
    let writer_tail = match &cluster {
        None => Some(tail.clone()),
        Some(cluster) => {
            tokio::spawn(follow_stream(cluster.clone(), tail.clone()));
            tokio::spawn(follow_head(cluster.clone(), notifier.clone()));
            tokio::spawn(follow_progress(cluster.clone(), notifier.clone()));
            None
        }
    };
    let (ingest, writer_thread) = writer::spawn(
        store.clone(),
        notifier.clone(),
        writer_tail,
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
            on_backfill: Some(crate::reuse_freed_memory),
            idle_wait: if cluster.is_some() {
                CLUSTER_PICKUP
            } else {
                ProcessorConfig::default().idle_wait
            },
            ..ProcessorConfig::default()
        },
        vec![],
    );
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    let (configuration, origin) =
        crate::channels::load(args.channels.as_deref(), store.clone()).await?;
    let messaging = herald_pipeline::messaging::MessagingHandle::new(
        herald_pipeline::messaging::Settings::new(
            configuration,
            origin,
            Arc::new(links(store.clone(), args.public_url.as_ref(), &url).await?),
            inbox_secret(store.clone()).await?,
        ),
    );
    tokio::spawn(herald_pipeline::messaging::settings::follow(
        store.clone(),
        messaging.clone(),
        shutdown_rx.clone(),
    ));
    tokio::spawn(
        herald_pipeline::messaging::Sender::new(store.clone(), messaging.clone(), ingest.clone())
            .run(shutdown_rx.clone()),
    );
    tokio::spawn(
        herald_pipeline::messaging::broadcast::Broadcaster::new(store.clone(), messaging.clone())
            .run(shutdown_rx.clone()),
    );
    let keys = Arc::new(herald_api::keys::KeyCache::default());
    keys.watch_revocations(store.clone());
    let state = AppState {
        keys,
        store: store.clone(),
        ingest,
        processor: processor.clone(),
        tail,
        notifier,
        metrics,
        shutdown: shutdown_rx,
        public_url: args.public_url.clone(),
        // Loads this node's insights index from the store in the background.
        insights: herald_pipeline::insights::InsightsHandle::start(store.clone()),
        messaging: messaging.clone(),
    };

    println!("Herald {} — {banner}", env!("CARGO_PKG_VERSION"));
    println!("  Segment ingest: {url}/v1/batch (and /v1/identify, /v1/track, ...)");
    println!(
        "  Browser SDKs:   cdnURL / configUrl / dataPlaneUrl {} (docs/browser.md)",
        args.public_url
            .as_ref()
            .map_or_else(|| url.clone(), |u| u.to_string())
    );
    println!("  Admin API:      {url}/api/v1   docs: {url}/docs   OpenAPI: {url}/openapi.json");
    println!("  GraphQL:        {url}/graphql   schema: {url}/graphql/schema.graphql");
    println!("  Metrics:        {url}/metrics   health: {url}/healthz");
    for line in key_lines.iter().chain(&user_lines) {
        println!("{line}");
    }
    let limits = args.limits();
    println!(
        "  Limits:         {} connections; timeouts: header {} s, body {} s, idle {} s",
        limits.max_connections,
        limits.header_timeout.as_secs(),
        limits.body_timeout.as_secs(),
        limits.idle_timeout.as_secs()
    );
    println!("listening on {url}");
    tracing::info!(%url, backend = %banner, "herald started");

    let app = herald_api::router(state.clone()).merge(herald_graphql::routes(state.clone()));
    let app = if args.test_clock {
        tracing::warn!(
            "--test-clock: this node's clock can be moved forward over the API (tests only)"
        );
        app.merge(herald_api::admin::clock::routes(state))
    } else {
        // The router holds every handle now: the writer stops once it is dropped.
        drop(state);
        app
    };
    let app = herald_web::with_dashboard(app);
    crate::endpoint::serve(listener, app, limits, async move {
        shutdown_signal().await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = shutdown_tx.send(true);
    })
    .await;

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

/// How often the processing node of a cluster looks at the stream head by itself. The
/// announcements of new heads (`follow_head`) wake it at once; this only bounds how late an
/// append is picked up when its announcement was lost (core NATS publishes are at most once).
const CLUSTER_PICKUP: Duration = Duration::from_secs(1);

/// Wake the processor when any node of the cluster appends (its announcement of the new head).
async fn follow_head(cluster: Arc<ClusterStore>, notifier: Arc<LogNotifier>) {
    follow(
        cluster,
        "the log head",
        |c| c.log.watch_head(),
        move |head| notifier.advance(head),
    )
    .await
}

/// Wake the processor when a sequencer or partition of any node applied work: a partition
/// of this node may have work now, or may stop waiting for another one.
async fn follow_progress(cluster: Arc<ClusterStore>, notifier: Arc<LogNotifier>) {
    follow(
        cluster,
        "the partitions' progress",
        |c| c.log.watch_progress(),
        move |()| notifier.poke(),
    )
    .await
}

/// Feed `on` with the announcements `watch` subscribes to, subscribing again a second after
/// the subscription fails or ends.
async fn follow<T: Send + 'static>(
    cluster: Arc<ClusterStore>,
    what: &'static str,
    watch: fn(&ClusterStore) -> herald_storage::Result<futures_util::stream::BoxStream<'static, T>>,
    mut on: impl FnMut(T),
) {
    loop {
        let c = cluster.clone();
        match tokio::task::spawn_blocking(move || watch(&c)).await {
            Ok(Ok(mut announcements)) => {
                while let Some(item) = announcements.next().await {
                    on(item);
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot watch {what}"),
            Err(_) => return,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Feed the live tail from the stream while someone watches it, from where the first of its
/// subscribers asked (the head when it subscribed, so nothing committed since is missed).
async fn follow_stream(cluster: Arc<ClusterStore>, tail: Tail) {
    loop {
        let from = loop {
            if let Some(from) = tail.take_request() {
                break from;
            }
            tail.requested().await;
        };
        if !tail.is_watched() {
            continue;
        }
        let c = cluster.clone();
        let feed = match tokio::task::spawn_blocking(move || c.log.follow(from)).await {
            Ok(Ok(feed)) => feed,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot follow the stream for the live tail");
                tail.request_from(from);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(_) => return,
        };
        let mut feed = feed.take_while(|_| std::future::ready(tail.is_watched()));
        let mut next = from;
        while let Some(item) = feed.next().await {
            match item {
                Ok((seq, event)) => {
                    next = seq + 1;
                    tail.publish(seq, Arc::new(event));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live tail feed failed");
                    // Go on from where this feed stopped, for the subscribers still there.
                    tail.request_from(next);
                    break;
                }
            }
        }
    }
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
