//! The insights maintainer: this node's [`Index`] of every event, built from the shared store
//! in the background at start and kept current (no state shared between nodes; each builds
//! its own).
//!
//! Until the first load has reached the processed cursor it stood at when the node started,
//! queries are refused with the progress (the API answers 503 `insights_warming`). After
//! that, every query first catches up (under one lock, so concurrent queries do it once):
//!
//! 1. timeline rows past the index's cursor up to the processed cursor are appended, their
//!    properties read from the log;
//! 2. the change feed (`InsightsSource::insights_changes`) names the profiles whose rows moved
//!    or went since the last mark: their events are read again by position, and, in one
//!    write of the index, forgotten and appended as the store attributes them now (a
//!    deleted person's are simply gone).
//!
//! So an answer covers exactly the events processed when it was asked, as attributed now. A
//! background thread catches up every second too, so that a query rarely has much to do.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use herald_core::event::{Event, EventType};
use herald_insights::{EventInput, EventKind, Index};
use herald_storage::insights::InsightsRow;
use herald_storage::{StorageError, Store};

/// Rows read per statement while loading.
const PAGE: usize = 20_000;
/// How often the background thread catches up.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// Why a query could not run.
#[derive(Debug, thiserror::Error)]
pub enum InsightsError {
    /// The first load has not finished: `loaded` of `total` log positions.
    #[error("the insights index is loading ({loaded} of {total} log positions)")]
    Warming { loaded: u64, total: u64 },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Warming { loaded: u64, total: u64 },
    Ready,
}

struct Sync {
    /// Rows up to here are in the index.
    cursor: u64,
    /// Where the change feed is read from next (taken once, before the first row is read).
    mark: Option<u64>,
}

struct Inner {
    store: Arc<dyn Store>,
    index: RwLock<Index>,
    sync: Mutex<Sync>,
    phase: Mutex<Phase>,
}

/// A cheap handle on this node's insights index.
#[derive(Clone)]
pub struct InsightsHandle {
    inner: Arc<Inner>,
}

fn kind(t: EventType) -> EventKind {
    match t {
        EventType::Identify => EventKind::Identify,
        EventType::Track => EventKind::Track,
        EventType::Page => EventKind::Page,
        EventType::Screen => EventKind::Screen,
        EventType::Group => EventKind::Group,
        EventType::Alias => EventKind::Alias,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl InsightsHandle {
    /// A handle whose index is loaded (and then followed) by a background thread, which
    /// ends once every handle is dropped.
    pub fn start(store: Arc<dyn Store>) -> InsightsHandle {
        let handle = InsightsHandle::new(store);
        let weak = Arc::downgrade(&handle.inner);
        std::thread::Builder::new()
            .name("insights".into())
            .spawn(move || follow(weak))
            .expect("spawn the insights thread");
        handle
    }

    /// A handle with nothing loaded and no thread: [`InsightsHandle::load`] loads it.
    pub fn new(store: Arc<dyn Store>) -> InsightsHandle {
        InsightsHandle {
            inner: Arc::new(Inner {
                store,
                index: RwLock::new(Index::new()),
                sync: Mutex::new(Sync {
                    cursor: 0,
                    mark: None,
                }),
                phase: Mutex::new(Phase::Warming {
                    loaded: 0,
                    total: 0,
                }),
            }),
        }
    }

    /// The first load: everything processed now, then ready.
    pub fn load(&self) -> Result<(), StorageError> {
        let store = &self.inner.store;
        let mut sync = lock(&self.inner.sync);
        // The mark first: a change committed while the rows are read is seen after. Kept
        // when a load that failed half-way starts again, since the rows it read stay.
        if sync.mark.is_none() {
            sync.mark = Some(store.insights_change_mark()?);
        }
        let total = store.processed_cursor()?;
        *lock(&self.inner.phase) = Phase::Warming { loaded: 0, total };
        self.append_rows(&mut sync, total, |loaded| {
            *lock(&self.inner.phase) = Phase::Warming { loaded, total };
        })?;
        drop(sync);
        self.catch_up()?;
        *lock(&self.inner.phase) = Phase::Ready;
        Ok(())
    }

    /// Bring the index up to the processed cursor and the change feed (see the module docs).
    pub fn catch_up(&self) -> Result<(), StorageError> {
        let store = &self.inner.store;
        let mut sync = lock(&self.inner.sync);
        let upto = store.processed_cursor()?;
        self.append_rows(&mut sync, upto, |_| {})?;
        let Some(mark) = sync.mark else {
            return Ok(());
        };
        let (changed, next) = store.insights_changes(mark)?;
        if !changed.is_empty() {
            let profiles: BTreeSet<String> = changed.into_iter().map(|p| p.0).collect();
            let seqs: Vec<u64> = {
                let index = self.inner.index.read().unwrap_or_else(|p| p.into_inner());
                profiles
                    .iter()
                    .flat_map(|p| index.profile_seqs(p))
                    .collect()
            };
            let mut rows = store.insights_rows_at(&seqs)?;
            rows.retain(|r| r.seq <= sync.cursor);
            let events = self.events_of(&rows)?;
            let mut index = self.inner.index.write().unwrap_or_else(|p| p.into_inner());
            for p in &profiles {
                index.forget_profile(p);
            }
            append(&mut index, &rows, &events);
        }
        sync.mark = Some(next);
        Ok(())
    }

    /// Append the rows after the cursor up to `upto`, page by page.
    fn append_rows(
        &self,
        sync: &mut Sync,
        upto: u64,
        progress: impl Fn(u64),
    ) -> Result<(), StorageError> {
        let store = &self.inner.store;
        loop {
            let rows = store.insights_rows(sync.cursor, upto, PAGE)?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                break;
            };
            let events = self.events_of(&rows)?;
            append(
                &mut self.inner.index.write().unwrap_or_else(|p| p.into_inner()),
                &rows,
                &events,
            );
            sync.cursor = last;
            progress(last);
        }
        sync.cursor = sync.cursor.max(upto);
        Ok(())
    }

    /// The rows' events from the log, in the rows' order (`None`: gone from the log since).
    fn events_of(&self, rows: &[InsightsRow]) -> Result<Vec<Option<Event>>, StorageError> {
        let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
        let mut loaded = self.inner.store.load(&seqs)?.into_iter().peekable();
        Ok(rows
            .iter()
            .map(|r| {
                while loaded.peek().is_some_and(|(s, _)| *s < r.seq) {
                    loaded.next();
                }
                loaded.next_if(|(s, _)| *s == r.seq).map(|(_, e)| e)
            })
            .collect())
    }

    /// Run `f` on the index, caught up first; refused while the first load runs.
    pub fn query<R>(&self, f: impl FnOnce(&Index) -> R) -> Result<R, InsightsError> {
        if let Phase::Warming { loaded, total } = *lock(&self.inner.phase) {
            return Err(InsightsError::Warming { loaded, total });
        }
        self.catch_up()?;
        let index = self.inner.index.read().unwrap_or_else(|p| p.into_inner());
        Ok(f(&index))
    }

    /// Events in the index and bytes it holds (for status and metrics).
    pub fn size(&self) -> (usize, usize) {
        let index = self.inner.index.read().unwrap_or_else(|p| p.into_inner());
        (index.len(), index.memory_bytes())
    }
}

fn append(index: &mut Index, rows: &[InsightsRow], events: &[Option<Event>]) {
    let inputs: Vec<EventInput> = rows
        .iter()
        .zip(events)
        .filter_map(|(r, e)| {
            let e = e.as_ref()?;
            Some(EventInput {
                seq: r.seq,
                profile: r.profile.as_str(),
                ts_ms: r.ts_ms,
                kind: kind(e.event_type),
                name: e.display_name(),
                properties: e.payload.get("properties").and_then(|p| p.as_object()),
            })
        })
        .collect();
    index.append(&inputs);
}

/// The background thread: load (retrying after errors), then catch up every second.
fn follow(weak: Weak<Inner>) {
    let mut loaded = false;
    loop {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let handle = InsightsHandle { inner };
        let outcome = if loaded {
            handle.catch_up()
        } else {
            handle.load()
        };
        match outcome {
            Ok(()) => {
                if !loaded {
                    let (events, bytes) = handle.size();
                    tracing::info!(events, mib = bytes >> 20, "insights index loaded");
                }
                loaded = true;
            }
            Err(e) => {
                tracing::warn!(error = %e, "insights index: reading the store failed; retrying")
            }
        }
        drop(handle);
        std::thread::sleep(FOLLOW_EVERY);
    }
}
