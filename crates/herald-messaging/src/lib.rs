//! Herald's messaging domain: the types every messaging layer (storage, the send pipeline,
//! REST, GraphQL, the dashboard) builds on, and the decisions that must be exactly right.
//!
//! - [`channel`]: channels, categories, priorities.
//! - [`address`]: a person's address on a channel, read from their traits; email and phone
//!   normalisation.
//! - [`governor`]: **the send governor**, [`governor::decide`]: suppression, subscriptions,
//!   holdouts, quiet hours in the person's time zone, frequency caps with priorities, in one
//!   documented order, with exact deferral times; and its policy.
//! - [`preferences`]: subscription topics, a person's subscriptions and their changes (the
//!   `Subscription Changed` event), suppression lists.
//! - [`token`]: HMAC-SHA256 preference-page and one-click unsubscribe tokens, the in-app inbox
//!   user hash, webhook signatures, click-tracking link signatures.
//! - [`message`]: message ids (deterministic idempotency keys), the status lifecycle,
//!   delivery events as timeline events, holdout groups.
//! - [`broadcast`]: a broadcast's lifecycle, and when each person's message is due (one
//!   instant, or a wall-clock time in each person's time zone).
//! - [`reason`]: the reasons a decision records.
//! - [`template`]: what each channel's template holds, its check, and its rendering (Liquid,
//!   then MJML to HTML).
//! - [`tracking`]: open and click tracking written into an email's HTML (signed redirects, a
//!   pixel), the rest of the document left as it was.
//!
//! # Invariants
//!
//! - **Pure**: no IO, no clock (every function that depends on time takes `now`), no global
//!   state, no randomness. The same inputs give the same outputs, so every decision can be
//!   replayed, simulated and property-tested.
//! - **Caps hold**: if every `send` decision is appended to the ledger as a reservation (and
//!   displaced reservations are removed), no sliding window ever holds more than a cap's `max`
//!   non-transactional messages that it counts (`tests/governor_oracle.rs`).
//! - **Deferrals are exact**: a deferred message decided again at its `until`, against the
//!   same ledger, is not deferred again for the same reason, and no earlier instant would have
//!   done (`tests/governor_oracle.rs`, quiet hours across DST included).
//! - **Transactional messages** pass subscriptions, quiet hours and caps, never suppression.
//! - **Signatures** are verified in constant time; a token says `token_expired` only once its
//!   signature is genuine, and a token of one purpose is never valid for another.
//! - **Hostile input never panics**: traits, tokens, headers and policies from outside are
//!   parsed with bounds and refused with a stable error `code()`.
//!
//! Providers, storage and the HTTP API are built on this crate elsewhere; docs/messaging.md
//! describes what this crate decides.

pub mod address;
pub mod broadcast;
pub mod channel;
pub mod governor;
pub mod html;
pub mod message;
pub mod preferences;
pub mod reason;
pub mod template;
pub mod token;
pub mod tracking;

pub use address::{address_of, Address, AddressRules};
pub use channel::{Category, Channel, Priority};
pub use governor::{decide, Candidate, Decision, LedgerEntry, Outcome, PersonState, Policy};
pub use reason::Reason;
