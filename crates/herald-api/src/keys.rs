//! Key secrets, and the short-lived cache of key checks.

use std::collections::HashMap;
use std::sync::Mutex;
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

/// How long a key check is trusted. A key revoked through this node's API stops working at
/// once (the cache is cleared); one revoked elsewhere (CLI, another node) within this time.
pub const KEY_CHECK_TTL: Duration = Duration::from_secs(5);
/// Entries kept at most; the cache starts over when full, so unknown keys cannot grow it.
const MAX_ENTRIES: usize = 10_000;

/// Remembers recent answers of [`herald_storage::KeyStore::authenticate`], so ingest does not
/// read the key table (on a blocking thread) for every request.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<(u8, String), (bool, Instant)>>,
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
        if let Some(&(valid, at)) = self.lock().get(&slot) {
            if now.duration_since(at) < KEY_CHECK_TTL {
                return Ok(valid);
            }
        }
        let store = store.clone();
        let key = slot.1.clone();
        let valid = tokio::task::spawn_blocking(move || store.authenticate(kind, &key))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??
            .is_some();
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(slot, (valid, now));
        Ok(valid)
    }

    /// Forget every answer (after a key is created or revoked here).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(u8, String), (bool, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
