//! The moving parts between the HTTP edge and storage.
//!
//! - [`writer`]: the ingest writer. Requests enqueue validated events; one thread appends them
//!   to the log in group commits and acknowledges each request after its commit.
//! - [`processor`]: the single owner of projection state. It reads the log in order, applies
//!   each event (identity, profile, group, timeline, then every [`processor::Stage`]) and moves
//!   its cursor in the same transaction, so every event is applied exactly once. Admin commands
//!   that change projection state (unmerge, delete) run on it too.
//!   In a cluster it sequences (identity, in log order) and a partition thread applies the
//!   rest per partition (`partitions.rs`).
//! - [`surge`]: when the processor steps back so that acknowledging an ingest surge gets the
//!   CPU first.
//! - [`insights`]: this node's insights index, loaded at start and kept current.
//! - [`tail`]: a broadcast of committed events for the live debugger.

pub mod audiences;
pub mod insights;
pub mod messaging;
pub mod notify;
mod partitions;
pub mod processor;
pub mod quarantine;
pub mod surge;
pub mod tail;
pub mod writer;
