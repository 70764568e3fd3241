//! Key secrets, and the short-lived cache of key checks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_storage::{KeyKind, Store};

use crate::error::ApiError;

/// A new random secret: `hwk_` (write) or `hak_` (admin) and 32 hex characters (128 bits).
pub fn generate(kind: KeyKind) -> String {
    let prefix = match kind {
        KeyKind::Write => "hwk_",
        KeyKind::Admin => "hak_",
    };
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// How long a key check is trusted when nothing says it changed: the longest a node keeps
/// accepting keys it checked while its database is unreachable (cluster mode).
pub const KEY_CHECK_TTL: Duration = Duration::from_secs(5);
/// How often a server reads how many keys were ever revoked
/// ([`herald_storage::KeyStore::revoked_key_count`]) and forgets every cached check when it
/// changed: so a key revoked anywhere (this node's API, another node, the CLI) is refused by
/// every node within [`REVOCATION_BOUND`].
pub const REVOCATION_POLL: Duration = Duration::from_millis(250);
/// The documented bound on a revocation taking effect on every node (the poll interval, with
/// room for a busy machine); a revocation through a node's own API takes effect on it at once.
pub const REVOCATION_BOUND: Duration = Duration::from_secs(1);
/// Entries kept at most; the cache starts over when full, so unknown keys cannot grow it.
const MAX_ENTRIES: usize = 10_000;

type Slot = (u8, String);

/// Remembers recent answers of [`herald_storage::KeyStore::authenticate`], so ingest does not
/// read the key table (on a blocking thread) for every request.
#[derive(Default)]
pub struct KeyCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Slot, (bool, Instant)>,
    /// Bumped by every [`KeyCache::clear`]: a check that read the store before a clear does
    /// not store its (possibly stale) answer after it.
    generation: u64,
}

impl KeyCache {
    /// Whether `secret` is a live key of `kind`.
    pub async fn check(
        &self,
        store: &std::sync::Arc<dyn Store>,
        kind: KeyKind,
        secret: &str,
    ) -> Result<bool, ApiError> {
        let slot = (kind as u8, secret.to_owned());
        let now = Instant::now();
        let generation = {
            let inner = self.lock();
            if let Some(&(valid, at)) = inner.entries.get(&slot) {
                if now.duration_since(at) < KEY_CHECK_TTL {
                    return Ok(valid);
                }
            }
            inner.generation
        };
        let store = store.clone();
        let key = slot.1.clone();
        let valid = tokio::task::spawn_blocking(move || store.authenticate(kind, &key))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??
            .is_some();
        let mut inner = self.lock();
        if inner.generation == generation {
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
            inner.entries.insert(slot, (valid, now));
        }
        Ok(valid)
    }

    /// Forget every answer (after a key is created or revoked).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.generation += 1;
    }

    /// Every [`REVOCATION_POLL`], read how many keys were ever revoked and forget every answer
    /// when that changed. Runs until the runtime stops. A failed read is retried at the next
    /// poll; meanwhile answers still expire after [`KEY_CHECK_TTL`].
    pub fn watch_revocations(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
    ) -> tokio::task::JoinHandle<()> {
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            let mut seen: Option<u64> = None;
            let mut tick = tokio::time::interval(REVOCATION_POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let store = store.clone();
                match tokio::task::spawn_blocking(move || store.revoked_key_count()).await {
                    Ok(Ok(count)) => {
                        // The first read clears too: a check answered before it may
                        // predate a revocation it already counts.
                        if seen != Some(count) {
                            cache.clear();
                        }
                        seen = Some(count);
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "could not read key revocations"),
                    Err(e) => tracing::debug!(error = %e, "key revocation poll failed"),
                }
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}
