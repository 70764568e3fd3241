//! Frequency caps over the ledger: counting in sliding windows, when a message fits again,
//! and which reserved messages a higher-priority one displaces.
//!
//! A cap counts, at instant `t`, the ledger entries that match its channel and category, are
//! not transactional, and were decided after `t - window` (an entry dated after `t`, from a
//! node whose clock runs ahead, counts as well). A message fits at `t` when every cap that
//! matches it counts fewer than `max`. Counts only fall as `t` moves on, so a message that
//! does not fit now fits from one exact instant on ([`fits_from`]).

use chrono::{DateTime, Utc};

use super::policy::{Cap, Policy};
use super::{LedgerEntry, LedgerState};
use crate::channel::{Category, Channel, Priority};

/// What the caps need to know of a message.
#[derive(Debug, Clone, Copy)]
pub struct Class<'a> {
    pub channel: Channel,
    pub category: &'a Category,
    pub priority: Priority,
}

impl<'a> Class<'a> {
    pub fn of(entry: &'a LedgerEntry) -> Class<'a> {
        Class {
            channel: entry.channel,
            category: &entry.category,
            priority: entry.priority,
        }
    }
}

/// Whether `entry` is counted by `cap` at instant `at`. (A window reaching back before the
/// beginning of time counts everything.)
fn counts(cap: &Cap, entry: &LedgerEntry, at: DateTime<Utc>) -> bool {
    cap.matches(entry.channel, &entry.category)
        && at
            .checked_sub_signed(cap.window.duration())
            .is_none_or(|start| entry.at > start)
}

/// A cap's `max`. A validated policy's is at least 1; an unvalidated 0 is read as 1, so that
/// the governor decides rather than fails.
fn limit(cap: &Cap) -> usize {
    cap.max.max(1) as usize
}

/// The caps that count messages of `class`.
fn caps_of<'p>(policy: &'p Policy, class: Class<'_>) -> impl Iterator<Item = &'p Cap> + 'p {
    let (channel, category) = (class.channel, class.category.clone());
    policy
        .caps
        .iter()
        .filter(move |cap| cap.matches(channel, &category))
}

/// The earliest instant at or after `now` from which a message of `class` fits under every
/// cap, given `counted` (the ledger entries that count: not transactional, not the message
/// itself). For a cap holding `n >= max` entries at `now`, `n - max + 1` of them must leave its
/// window: the `(n - max + 1)`-th oldest leaves at its time plus the window.
pub fn fits_from(
    policy: &Policy,
    class: Class<'_>,
    counted: &[&LedgerEntry],
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let mut from = now;
    for cap in caps_of(policy, class) {
        let mut times: Vec<DateTime<Utc>> = counted
            .iter()
            .filter(|e| counts(cap, e, now))
            .map(|e| e.at)
            .collect();
        let max = limit(cap);
        if times.len() >= max {
            times.sort_unstable();
            let leaves = times[times.len() - max].checked_add_signed(cap.window.duration());
            from = from.max(leaves.unwrap_or(DateTime::<Utc>::MAX_UTC));
        }
    }
    from
}

/// A cap that is full at `now`, and how many of its entries must go for one more to fit.
struct Full<'p> {
    cap: &'p Cap,
    need: usize,
    removed: usize,
}

/// Which reserved entries must be displaced for a message of `class` to fit now: `Some(vec![])`
/// when it fits as things are, `None` when displacing cannot make room.
///
/// Only reserved (not yet sent) entries of strictly lower priority can be displaced. They are
/// taken one at a time, lowest priority first, then the most recently reserved, then by key,
/// each only if it counts toward a cap that is still full, until no cap is full. Then, from
/// the last taken back to the first, an entry is given back if every cap still has room
/// without it, so nothing is displaced that the message did not need.
pub fn displace<'l>(
    policy: &Policy,
    class: Class<'_>,
    counted: &[&'l LedgerEntry],
    now: DateTime<Utc>,
) -> Option<Vec<&'l LedgerEntry>> {
    let mut full: Vec<Full> = caps_of(policy, class)
        .filter_map(|cap| {
            let n = counted.iter().filter(|e| counts(cap, e, now)).count();
            let max = limit(cap);
            (n >= max).then(|| Full {
                cap,
                need: n - max + 1,
                removed: 0,
            })
        })
        .collect();
    if full.is_empty() {
        return Some(Vec::new());
    }
    let mut eligible: Vec<&LedgerEntry> = counted
        .iter()
        .copied()
        .filter(|e| e.state == LedgerState::Reserved && e.priority < class.priority)
        .filter(|e| full.iter().any(|f| counts(f.cap, e, now)))
        .collect();
    let enough = full
        .iter()
        .all(|f| eligible.iter().filter(|e| counts(f.cap, e, now)).count() >= f.need);
    if !enough {
        return None;
    }
    eligible.sort_by(|a, b| (a.priority, b.at, &a.key).cmp(&(b.priority, a.at, &b.key)));
    let mut taken: Vec<&LedgerEntry> = Vec::new();
    for entry in eligible {
        if full.iter().all(|f| f.removed >= f.need) {
            break;
        }
        let helps = full
            .iter()
            .any(|f| f.removed < f.need && counts(f.cap, entry, now));
        if helps {
            for f in full.iter_mut().filter(|f| counts(f.cap, entry, now)) {
                f.removed += 1;
            }
            taken.push(entry);
        }
    }
    let mut kept = vec![true; taken.len()];
    for (i, entry) in taken.iter().enumerate().rev() {
        let spare = full
            .iter()
            .filter(|f| counts(f.cap, entry, now))
            .all(|f| f.removed > f.need);
        if spare {
            for f in full.iter_mut().filter(|f| counts(f.cap, entry, now)) {
                f.removed -= 1;
            }
            kept[i] = false;
        }
    }
    Some(
        taken
            .into_iter()
            .zip(kept)
            .filter_map(|(e, keep)| keep.then_some(e))
            .collect(),
    )
}
