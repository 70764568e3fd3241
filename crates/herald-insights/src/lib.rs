//! Herald's insights engine: trends, funnels and retention over every event, answered from an
//! in-memory columnar index in one pass per query (two for a trend with a breakdown: the
//! first ranks the values). Pure: no IO, no clock (`Context::now_ms` is passed in).
//!
//! # The index
//!
//! Events are kept in (person, time) order, so that a funnel or retention question is a walk
//! over each person's events, and a trend a scan of a few columns:
//!
//! - persons are dense `u32` ids (Herald's UUID profile ids kept as 16 bytes, once);
//! - an event is its log position (`seq`, the tie-breaker between equal timestamps and how
//!   the maintainer finds it again), its time in ms, and a name code (the event's type and
//!   timeline name together, so `type` filters cost nothing);
//! - properties: every top-level scalar of `properties` (string, number, boolean; null,
//!   objects and arrays are not indexed), as `(key code, value code)` pairs per event, with
//!   one dictionary of value texts and the number of each value text that is a decimal.
//!
//! Why pairs per event rather than a column per key: event names carry different properties
//! (30 names with a handful each), so a dense column per key would be mostly empty, and a
//! lazily built one would make the first query on a key pay a pass over the log. A filter or
//! breakdown looks at an event's pairs only once its name matched, and there are few; the
//! dictionaries turn every comparison into an integer comparison (`contains` into a table
//! over the value codes, `gt`/`lt` into a lookup of the value's number).
//!
//! Storage: see [`index`](crate::Index): a base segment ordered by (person, ts, seq) and a
//! delta of appended events merged in at query time and compacted into the base once it
//! reaches a quarter of it.
//!
//! # The invariant its maintainer keeps
//!
//! The index holds exactly the events of the log as attributed to profiles now: every
//! event a profile's timeline holds, under that profile. Appends are events past the
//! maintainer's cursor. Anything else (a merge moving a loser's events to the winner, an
//! unmerge or deletion replaying or removing a profile's events, a redaction rewriting them)
//! is handled by [`Index::forget_profile`] on every profile whose events changed, followed by
//! appending those events again as the store attributes them now (or not at all, when they
//! were deleted). So results are exact, never approximate, and a deleted person's events
//! are gone from every result once the maintainer has seen the deletion.
//!
//! # Queries
//!
//! See docs/insights.md for the precise semantics of [`TrendQuery`], [`FunnelQuery`] and
//! [`RetentionQuery`]; `tests/oracle.rs` checks each against a naive implementation of those
//! words.

mod dict;
mod filter;
mod funnel;
mod index;
mod query;
mod retention;
mod trend;

pub use index::{scalar_text, EventInput, Index};
pub use query::*;
