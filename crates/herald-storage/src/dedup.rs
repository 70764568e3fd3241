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
//!
//! Memory is 12 bytes per remembered id (plus at most 256 KiB of index), roughly half of the
//! hash set with per-second lists it replaced: fingerprints live in one array sorted by value, each with the low 32 bits
//! of its insertion ordinal, next to a small hash map of the ids added since the array was last
//! merged. The ordinal says whether an id is still remembered: the window is a range of
//! ordinals (`cutoff..next`), moved by time (the first ordinal of the oldest second still in
//! the window) and by count (`next − max_ids`). Forgotten ids leave the array at the next merge.

use std::collections::{HashMap, VecDeque};

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

/// Larger windows would let a stale ordinal's low 32 bits wrap into the live range
/// (`herald serve --dedup-max-ids` refuses more).
pub const MAX_IDS_LIMIT: usize = 1 << 31;

/// The recent map is merged into the sorted array once it holds this many ids, or an eighth of
/// the array, whichever is more: merging costs a pass over the array, so this keeps the
/// amortised cost per insert constant and the map's share of memory small.
const MIN_MERGE: usize = 4096;

pub fn fingerprint(message_id: &str) -> u64 {
    xxh3_64(message_id.as_bytes())
}

/// Whether an id whose ordinal has these low 32 bits is still remembered, given the window
/// `cutoff..next`. Stored ids are never older than `max_ids` plus one merge interval
/// (`< 2³²` ordinals), so the low bits identify them.
fn remembered(next: u64, cutoff: u64, low: u32) -> bool {
    let age = u64::from((next as u32).wrapping_sub(low));
    next.checked_sub(age)
        .is_some_and(|ordinal| ordinal >= cutoff)
}

/// The top `bits` bits of a fingerprint.
fn prefix_of(fp: u64, bits: u32) -> usize {
    fp.checked_shr(64 - bits).unwrap_or(0) as usize
}

/// Fingerprints received within the window.
#[derive(Debug)]
pub struct DedupWindow {
    config: DedupConfig,
    /// Ordinal of the next id inserted (the count of ids ever inserted).
    next: u64,
    /// Ids with a smaller ordinal are forgotten.
    cutoff: u64,
    /// Oldest first: (second, ordinal of the first id received in it). Seconds never go back:
    /// an id received with an earlier clock reading counts in the latest second.
    seconds: VecDeque<(i64, u64)>,
    /// Merged fingerprints in ascending order, and the low 32 bits of their ordinals.
    sorted: Vec<u64>,
    ordinals: Vec<u32>,
    /// `prefix[p]..prefix[p + 1]` is the range of `sorted` whose top `prefix_bits` bits are
    /// `p`: about 16 fingerprints each, for a short binary search.
    prefix: Vec<u32>,
    prefix_bits: u32,
    /// Fingerprints inserted since the last merge → low 32 bits of their ordinals. SipHash
    /// with a random key: `messageId`s come from clients holding public write keys.
    recent: HashMap<u64, u32>,
    /// [`MIN_MERGE`]; smaller in tests, to exercise merges.
    min_merge: usize,
}

impl DedupWindow {
    pub fn new(config: DedupConfig) -> DedupWindow {
        DedupWindow::starting_at(config, MIN_MERGE, 0)
    }

    fn starting_at(config: DedupConfig, min_merge: usize, first_ordinal: u64) -> DedupWindow {
        assert!(
            config.max_ids <= MAX_IDS_LIMIT,
            "a de-duplication window holds at most {MAX_IDS_LIMIT} ids"
        );
        DedupWindow {
            config,
            next: first_ordinal,
            cutoff: first_ordinal,
            seconds: VecDeque::new(),
            sorted: Vec::new(),
            ordinals: Vec::new(),
            prefix: vec![0, 0],
            prefix_bits: 0,
            recent: HashMap::new(),
            min_merge,
        }
    }

    fn remembered(&self, low: u32) -> bool {
        remembered(self.next, self.cutoff, low)
    }

    pub fn contains_fingerprint(&self, fp: u64) -> bool {
        if self
            .recent
            .get(&fp)
            .is_some_and(|&low| self.remembered(low))
        {
            return true;
        }
        let p = prefix_of(fp, self.prefix_bits);
        let range = self.prefix[p] as usize..self.prefix[p + 1] as usize;
        let start = range.start;
        self.sorted[range]
            .binary_search(&fp)
            .is_ok_and(|i| self.remembered(self.ordinals[start + i]))
    }

    #[cfg(test)]
    fn contains(&self, message_id: &str) -> bool {
        self.contains_fingerprint(fingerprint(message_id))
    }

    /// Remember an id received at `received_ms`. Returns `false` if it was already known.
    pub fn insert(&mut self, message_id: &str, received_ms: i64) -> bool {
        let fp = fingerprint(message_id);
        if self.contains_fingerprint(fp) {
            return false;
        }
        self.remember(fp, received_ms);
        true
    }

    /// Remember a fingerprint the caller found absent with [`Self::contains_fingerprint`] (under
    /// the same lock), received at `received_ms`: [`Self::insert`] without looking it up again.
    pub fn remember(&mut self, fp: u64, received_ms: i64) {
        debug_assert!(!self.contains_fingerprint(fp), "remembered twice");
        let second = received_ms.div_euclid(1000);
        if self.seconds.back().is_none_or(|&(s, _)| s < second) {
            self.seconds.push_back((second, self.next));
        }
        self.recent.insert(fp, self.next as u32);
        self.next += 1;
        self.expire(received_ms);
        if self.recent.len() >= self.min_merge.max(self.sorted.len() / 8) {
            self.merge();
        }
    }

    /// Forget ids older than the window before `now_ms`, and the oldest beyond `max_ids`.
    pub fn expire(&mut self, now_ms: i64) {
        let oldest_kept = (now_ms - self.config.window_ms).div_euclid(1000);
        while self.seconds.front().is_some_and(|&(s, _)| s < oldest_kept) {
            self.seconds.pop_front();
        }
        let by_time = self.seconds.front().map_or(self.next, |&(_, first)| first);
        let by_count = self.next.saturating_sub(self.config.max_ids as u64);
        self.cutoff = self.cutoff.max(by_time).max(by_count);
        // A second whose successor starts at or below the cutoff holds no remembered id.
        while self
            .seconds
            .get(1)
            .is_some_and(|&(_, first)| first <= self.cutoff)
        {
            self.seconds.pop_front();
        }
    }

    /// Move the recent ids into the sorted array, dropping the forgotten ones from both.
    fn merge(&mut self) {
        let (next, cutoff) = (self.next, self.cutoff);
        let mut recent: Vec<(u64, u32)> = self
            .recent
            .drain()
            .filter(|&(_, low)| remembered(next, cutoff, low))
            .collect();
        recent.sort_unstable_by_key(|&(fp, _)| fp);
        let kept = self
            .ordinals
            .iter()
            .filter(|&&low| self.remembered(low))
            .count();
        let mut sorted = Vec::with_capacity(kept + recent.len());
        let mut ordinals = Vec::with_capacity(kept + recent.len());
        let mut old = self
            .sorted
            .iter()
            .zip(&self.ordinals)
            .map(|(&fp, &low)| (fp, low))
            .filter(|&(_, low)| self.remembered(low))
            .peekable();
        let mut new = recent.into_iter().peekable();
        // A fingerprint is in both only if its old entry was forgotten before it came again,
        // and forgotten entries were filtered out: the two streams are disjoint.
        loop {
            let take_old = match (old.peek(), new.peek()) {
                (Some(a), Some(b)) => a.0 < b.0,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let (fp, low) = if take_old { old.next() } else { new.next() }.expect("peeked above");
            sorted.push(fp);
            ordinals.push(low);
        }
        self.sorted = sorted;
        self.ordinals = ordinals;
        self.rebuild_prefix();
    }

    fn rebuild_prefix(&mut self) {
        let n = self.sorted.len();
        self.prefix_bits = (usize::BITS - n.leading_zeros()).saturating_sub(4).min(16);
        let ranges = 1usize << self.prefix_bits;
        self.prefix.clear();
        self.prefix.reserve_exact(ranges + 1);
        let mut at = 0usize;
        for p in 0..=ranges {
            while at < n && prefix_of(self.sorted[at], self.prefix_bits) < p {
                at += 1;
            }
            self.prefix.push(at as u32);
        }
    }

    pub fn len(&self) -> usize {
        (self.next - self.cutoff) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn config(&self) -> DedupConfig {
        self.config
    }

    /// Release spare capacity (after a burst, or once idle): the recent ids go to the sorted
    /// array, which is allocated to size, unless they are too few to matter (merging copies
    /// the whole array, ~100 ms at 10M ids, which a server going idle after each of a few
    /// events must not pay each time).
    pub fn shrink(&mut self) {
        if self.recent.len() >= self.min_merge {
            self.merge();
        }
        self.recent.shrink_to_fit();
        self.seconds.shrink_to_fit();
    }
}

/// A snapshot of a window, written when ingest goes quiet so an idle server does not hold it in
/// memory (`SqliteStore` drops it after writing). Little-endian: magic, the log head it was
/// taken at, the config, `next`, `cutoff`, the seconds, the sorted fingerprints and their
/// ordinals, then an xxh3 checksum of all of it. It is a cache: any doubt (another head, config
/// or format, a bad checksum) and the window is rebuilt from the log instead.
const SNAPSHOT_MAGIC: &[u8; 8] = b"HRLDDW01";

impl DedupWindow {
    /// The snapshot of this window as of log head `head` (merges the recent ids first).
    pub fn snapshot(&mut self, head: u64) -> Vec<u8> {
        self.merge();
        let n = self.sorted.len();
        let mut out = Vec::with_capacity(72 + 16 * self.seconds.len() + 12 * n);
        out.extend_from_slice(SNAPSHOT_MAGIC);
        for word in [
            head,
            self.config.window_ms as u64,
            self.config.max_ids as u64,
            self.next,
            self.cutoff,
            self.seconds.len() as u64,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        for &(second, first) in &self.seconds {
            out.extend_from_slice(&second.to_le_bytes());
            out.extend_from_slice(&first.to_le_bytes());
        }
        out.extend_from_slice(&(n as u64).to_le_bytes());
        for fp in &self.sorted {
            out.extend_from_slice(&fp.to_le_bytes());
        }
        for low in &self.ordinals {
            out.extend_from_slice(&low.to_le_bytes());
        }
        let sum = xxh3_64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// The window a snapshot holds, if it was taken at log head `head` with `config`.
    pub fn restore(bytes: &[u8], config: DedupConfig, head: u64) -> Option<DedupWindow> {
        let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
        if xxh3_64(body) != u64::from_le_bytes(sum.try_into().ok()?) {
            return None;
        }
        let mut r = Reader(body.strip_prefix(SNAPSHOT_MAGIC.as_slice())?);
        let fields = [r.u64()?, r.u64()?, r.u64()?];
        if fields != [head, config.window_ms as u64, config.max_ids as u64] {
            return None;
        }
        let mut w = DedupWindow::new(config);
        (w.next, w.cutoff) = (r.u64()?, r.u64()?);
        for _ in 0..r.u64()? {
            w.seconds.push_back((r.u64()? as i64, r.u64()?));
        }
        let n = usize::try_from(r.u64()?).ok()?;
        if r.0.len() != n.checked_mul(12)? {
            return None;
        }
        let (fps, lows) = r.0.split_at(8 * n);
        w.sorted = fps
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        w.ordinals = lows
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        if !w.sorted.is_sorted() {
            return None;
        }
        w.rebuild_prefix();
        Some(w)
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u64(&mut self) -> Option<u64> {
        let (word, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_le_bytes(*word))
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

    #[test]
    fn a_snapshot_restores_the_same_window_only_for_its_head_and_config() {
        let config = DedupConfig {
            window_ms: 10_000,
            max_ids: 100,
        };
        let mut w = DedupWindow::starting_at(config, 2, 0);
        for i in 0..7 {
            assert!(w.insert(&format!("m{i}"), 1_000 * i));
        }
        let bytes = w.snapshot(42);
        let mut back = DedupWindow::restore(&bytes, config, 42).expect("valid snapshot");
        for i in 0..7 {
            assert!(back.contains(&format!("m{i}")), "m{i}");
        }
        assert!(!back.contains("m7"));
        assert_eq!(back.len(), w.len());
        // It keeps moving like the original: m0 (second 0) leaves at 11 s, new ids join.
        back.expire(10_999);
        assert!(back.contains("m0"));
        back.expire(11_000);
        assert!(!back.contains("m0") && back.contains("m1"));
        assert!(back.insert("m7", 11_000) && !back.insert("m7", 11_001));

        assert!(
            DedupWindow::restore(&bytes, config, 43).is_none(),
            "another head"
        );
        let other = DedupConfig {
            max_ids: 99,
            ..config
        };
        assert!(
            DedupWindow::restore(&bytes, other, 42).is_none(),
            "another config"
        );
        for at in [0, 9, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 1;
            assert!(
                DedupWindow::restore(&bad, config, 42).is_none(),
                "flipped byte {at}"
            );
        }
        assert!(DedupWindow::restore(&bytes[..bytes.len() - 3], config, 42).is_none());
        assert!(DedupWindow::restore(&[], config, 42).is_none());
    }

    proptest! {
        /// Oracle: an id is a duplicate iff it was stored within the window and is among the
        /// newest `max_ids` distinct ids stored. Runs with small merge thresholds, shrinks and
        /// snapshot round trips at random, and ordinals that start just below a multiple of
        /// 2³², so merges, snapshots and the wrap of the stored low bits are covered.
        #[test]
        fn agrees_with_a_naive_window(
            ops in prop::collection::vec((0u8..20, 0i64..3_000, any::<bool>(), prop::bool::weighted(0.1)), 1..200),
            window_ms in 500i64..5_000,
            max_ids in 1usize..15,
            min_merge in 1usize..6,
            first_ordinal in prop_oneof![Just(0u64), (1u64 << 32) - 50..(1u64 << 32), (5u64 << 32) - 50..(5u64 << 32)],
        ) {
            let config = DedupConfig { window_ms, max_ids };
            let mut w = DedupWindow::starting_at(config, min_merge, first_ordinal);
            let mut stored: Vec<(String, i64)> = Vec::new();
            let mut now = 0i64;
            for (id, step, shrink, snapshot) in ops {
                now += step;
                if shrink {
                    w.shrink();
                }
                if snapshot {
                    w = DedupWindow::restore(&w.snapshot(7), config, 7).expect("own snapshot");
                    w.min_merge = min_merge;
                }
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
