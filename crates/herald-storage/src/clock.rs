//! The node's clock for everything time means to users: ingest's `received_at` (and so skew
//! correction), audience windows and durable timers, membership and admin record times.
//!
//! It is the wall clock, moved forward by [`advance`] only when a server was started with
//! `--test-clock` (black-box tests jump over an hour instead of sleeping through part of one).
//! Coordination between cluster nodes (leases, the sequencer hold) never reads it: it uses
//! the wall clock, so a node under test cannot take over another's work by moving its time.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

/// How far this node's clock is ahead of the wall clock (ms). Per process, like the wall
/// clock itself: it is configuration of this node, not state another node would need.
static AHEAD_MS: AtomicI64 = AtomicI64::new(0);

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis() + AHEAD_MS.load(Ordering::Relaxed)
}

/// Now.
pub fn now() -> DateTime<Utc> {
    Utc::now() + TimeDelta::milliseconds(AHEAD_MS.load(Ordering::Relaxed))
}

/// Move this node's clock forward by `ms` (tests only: `serve --test-clock`). Returns the new
/// now, in Unix milliseconds.
pub fn advance(ms: i64) -> i64 {
    AHEAD_MS.fetch_add(ms.max(0), Ordering::Relaxed);
    now_ms()
}
