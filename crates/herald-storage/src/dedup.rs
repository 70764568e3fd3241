//! The `messageId` de-duplication window of the embedded log.
//!
//! A unique index on random `messageId`s costs one dirtied B-tree page per event and made the
//! log five times slower (see BENCHMARKS.md). The log instead remembers the 64-bit fingerprints of
//! the `messageId`s it stored within a time window (by default 24 hours, Segment's documented
//! look-back) and up to a maximum count. The set is derived data: it is rebuilt from the tail of
//! the log on first use, so a restart forgets nothing that is still in the window.
//!
//! Fingerprints are 64-bit xxh3 hashes: with 10 million ids in the window, the chance that a new
//! event is mistaken for a duplicate is about 5 × 10⁻¹³.

use std::collections::{HashSet, VecDeque};

use xxhash_rust::xxh3::xxh3_64;

/// How long and how many `messageId`s the log remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupConfig {
    pub window_ms: i64,
    pub max_ids: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            window_ms: 24 * 3600 * 1000,
            max_ids: 10_000_000,
        }
    }
}

pub fn fingerprint(message_id: &str) -> u64 {
    xxh3_64(message_id.as_bytes())
}

/// Fingerprints received within the window, bucketed by the second they arrived in (the
/// window is kept to the second).
#[derive(Debug)]
pub struct DedupWindow {
    config: DedupConfig,
    seen: HashSet<u64>,
    /// Oldest first: (received second, fingerprints received in it).
    buckets: VecDeque<(i64, Vec<u64>)>,
}

impl DedupWindow {
    pub fn new(config: DedupConfig) -> DedupWindow {
        DedupWindow {
            config,
            seen: HashSet::new(),
            buckets: VecDeque::new(),
        }
    }

    pub fn contains(&self, message_id: &str) -> bool {
        self.seen.contains(&fingerprint(message_id))
    }

    /// Remember an id received at `received_ms`. Returns `false` if it was already known.
    pub fn insert(&mut self, message_id: &str, received_ms: i64) -> bool {
        let fp = fingerprint(message_id);
        if !self.seen.insert(fp) {
            return false;
        }
        let second = received_ms.div_euclid(1000);
        match self.buckets.back_mut() {
            Some((s, ids)) if *s >= second => ids.push(fp),
            _ => self.buckets.push_back((second, vec![fp])),
        }
        self.expire(received_ms);
        true
    }

    /// Forget ids older than the window before `now_ms`, and the oldest beyond `max_ids`.
    pub fn expire(&mut self, now_ms: i64) {
        let oldest_kept = (now_ms - self.config.window_ms).div_euclid(1000);
        while let Some((second, ids)) = self.buckets.front_mut() {
            let over = self.seen.len().saturating_sub(self.config.max_ids);
            if *second < oldest_kept {
                for fp in ids.drain(..) {
                    self.seen.remove(&fp);
                }
            } else if over > 0 {
                let n = over.min(ids.len());
                for fp in ids.drain(..n) {
                    self.seen.remove(&fp);
                }
            } else {
                break;
            }
            if ids.is_empty() {
                self.buckets.pop_front();
            }
        }
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    pub fn config(&self) -> DedupConfig {
        self.config
    }

    /// Release spare capacity (after a burst, or once idle).
    pub fn shrink(&mut self) {
        self.seen.shrink_to_fit();
        self.buckets.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn remembers_within_the_window_and_forgets_after() {
        let mut w = DedupWindow::new(DedupConfig {
            window_ms: 10_000,
            max_ids: 100,
        });
        assert!(w.insert("a", 1_000));
        assert!(!w.insert("a", 5_000));
        assert!(w.insert("b", 8_000));
        w.expire(11_999);
        assert!(w.contains("a"), "the window is kept to the second");
        w.expire(12_000);
        assert!(
            !w.contains("a"),
            "a arrived in second 1, more than 10 s before now"
        );
        assert!(w.contains("b"));
        assert!(w.insert("a", 12_000));
    }

    #[test]
    fn keeps_at_most_max_ids_dropping_the_oldest() {
        let mut w = DedupWindow::new(DedupConfig {
            window_ms: 3_600_000,
            max_ids: 3,
        });
        for (i, id) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            assert!(w.insert(id, 1_000 + i as i64));
        }
        assert_eq!(w.len(), 3);
        assert!(!w.contains("a") && !w.contains("b"));
        assert!(w.contains("c") && w.contains("d") && w.contains("e"));
    }

    proptest! {
        /// Oracle: an id is a duplicate iff it was stored within the window and is among the
        /// newest `max_ids` distinct ids stored.
        #[test]
        fn agrees_with_a_naive_window(
            ops in prop::collection::vec((0u8..20, 0i64..3_000), 1..200),
            window_ms in 500i64..5_000,
            max_ids in 1usize..15,
        ) {
            let mut w = DedupWindow::new(DedupConfig { window_ms, max_ids });
            let mut stored: Vec<(String, i64)> = Vec::new();
            let mut now = 0i64;
            for (id, step) in ops {
                now += step;
                let id = format!("m{id}");
                let oldest_kept = (now - window_ms).div_euclid(1000);
                let live: Vec<&(String, i64)> = stored.iter().filter(|(_, t)| t.div_euclid(1000) >= oldest_kept).collect();
                let newest = &live[live.len().saturating_sub(max_ids)..];
                let expected_dup = newest.iter().any(|(s, _)| *s == id);
                w.expire(now);
                prop_assert_eq!(!w.insert(&id, now), expected_dup, "id {} at {}", id, now);
                if !expected_dup {
                    stored.push((id, now));
                }
            }
        }
    }
}
