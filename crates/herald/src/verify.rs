//! `herald verify`: rebuild the projection from the log in memory and compare.

use std::path::Path;

use herald_core::memory::MemoryProjection;
use herald_core::projection::replay;
use herald_storage::cluster::{ClusterConfig, ClusterStore};
use herald_storage::jetstream::JetStreamConfig;
use herald_storage::sqlite::{SqliteOptions, SqliteStore};
use herald_storage::Store;

/// `cluster`: the database URL, bus URL and cluster name of a cluster to verify instead of the
/// data directory.
pub fn run(
    data_dir: &Path,
    cluster: Option<(String, String, String)>,
    rules: Option<&Path>,
) -> anyhow::Result<()> {
    let rules = crate::serve::load_rules(rules)?;
    // The JetStream client runs on this runtime; declared first, it outlives the store.
    let runtime;
    let store: Box<dyn Store> = match cluster {
        None => Box::new(SqliteStore::open(data_dir, SqliteOptions::default())?),
        Some((database_url, url, name)) => {
            runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?;
            Box::new(ClusterStore::connect(
                runtime.handle().clone(),
                &ClusterConfig {
                    database_url,
                    bus: JetStreamConfig {
                        url,
                        name,
                        duplicate_window: std::time::Duration::from_secs(86_400),
                        replicas: 1,
                    },
                    partitions: herald_storage::cluster::DEFAULT_PARTITIONS,
                },
            )?)
        }
    };
    let head = store.head()?;
    let processed = store.processed_cursor()?;
    if processed < head {
        anyhow::bail!("the processor is behind ({processed} of {head}); run verify on a stopped, caught-up server");
    }
    let live = store.snapshot()?;
    let mut rebuilt = MemoryProjection::default();
    let (separations, suppressed) = store.admin_overrides()?;
    rebuilt.separations = separations;
    rebuilt.suppressed = suppressed.into_iter().collect();
    // Quarantined events were never applied: the rebuild leaves them out too.
    let mut quarantined = std::collections::HashSet::new();
    let mut after = 0;
    while let Some(last) = {
        let page = store.quarantined(after, 10_000)?;
        quarantined.extend(page.iter().map(|q| q.seq));
        page.last().map(|q| q.seq)
    } {
        after = last;
    }
    let mut after = 0;
    let mut total = 0;
    loop {
        let batch = store.read_after(after, 10_000)?;
        let Some(last) = batch.last() else {
            break;
        };
        let mut events = batch.events;
        events.retain(|(seq, _)| !quarantined.contains(seq));
        let Ok(_) = replay(&mut rebuilt, &events, &rules);
        total += events.len();
        after = last;
    }
    let rebuilt = rebuilt.snapshot();
    if rebuilt != live {
        anyhow::bail!(
            "MISMATCH: live projection has {} profiles, rebuild from {total} events has {}",
            live.profiles.len(),
            rebuilt.profiles.len()
        );
    }
    println!(
        "ok: {} profiles, {} groups, {total} events: live projection equals a rebuild from the log",
        live.profiles.len(),
        live.groups.len()
    );
    Ok(())
}
