//! The send governor: the one decision every message passes before it goes out.
//!
//! [`decide`] is a pure function of the policy, the topic catalog, the candidate message, the
//! person's state, their ledger (recent sends and reservations) and `now`. The checks run in
//! this order, and the first that stops the message gives the decision's reason:
//!
//! 1. **holdout** — the person is in the sender's holdout group (`holdout`). First, so that a
//!    holdout group is a random sample of everyone targeted, whatever else holds for them.
//! 2. **address** — no usable address on the channel (`no_address`).
//! 3. **suppression** — every address part is suppressed (`suppressed`). Needs the address;
//!    applies to transactional messages too (a hard bounce or a GDPR erasure is absolute).
//!
//!    *Transactional messages stop checking here: they are sent.*
//! 4. **subscription** — the topic does not exist on the channel (`unknown_topic`), the person
//!    unsubscribed from it or from the channel (`unsubscribed`), never opted in
//!    (`not_opted_in`) or has not confirmed (`pending_confirmation`). Consent comes before
//!    timing: a message nobody agreed to is skipped, not deferred.
//! 5. **quiet hours** — in the person's time zone (`quiet_hours_deferred` until the end of
//!    the window, or `quiet_hours_dropped`). Before caps, so that a message waiting for the
//!    morning takes no cap slot at night and is counted against the caps of the morning.
//! 6. **caps** — if a cap is full, reserved messages of lower priority are displaced when that
//!    makes room (the candidate is `sent`, each displaced one `displaced`); otherwise `capped`
//!    or `capped_deferred`, as the policy says.
//! 7. otherwise **sent**.
//!
//! Windows slide: a cap with window `w` counts, at `now`, the entries decided after
//! `now - w`. A deferral's `until` is exact: for quiet hours, the end of the window (never
//! itself quiet, DST included, see [`quiet`]); for caps, the earliest instant at which the
//! message fits under every cap without displacing anything and is outside quiet hours. A
//! displaced message that is deferred gets its own such instant, in the ledger as the decision
//! leaves it.

mod caps;
mod decide;
pub mod policy;
pub mod quiet;
mod window;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::channel::{Category, Channel, Priority};
use crate::preferences::{Subscriptions, Suppression};
use crate::reason::Reason;

pub use decide::decide;
pub use policy::{
    Cap, CappedAction, ClockTime, Policy, PolicyError, QuietAction, QuietHours, Window,
};

/// A message asking to go out to one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    /// The message's idempotency key (its [`crate::message::MessageId`] as text).
    pub key: String,
    pub channel: Channel,
    pub category: Category,
    /// The subscription topic, on the message's channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Password resets, receipts: skip subscriptions, quiet hours and caps, never suppression.
    #[serde(default)]
    pub transactional: bool,
    #[serde(default)]
    pub priority: Priority,
    /// The person is in the sender's holdout group ([`crate::message::in_holdout`]).
    #[serde(default)]
    pub holdout: bool,
}

/// What the governor needs to know of the person.
#[derive(Debug, Clone, Copy)]
pub struct PersonState<'a> {
    /// Their address on the candidate's channel ([`crate::address::address_of`]).
    pub address: Option<&'a Address>,
    /// Their IANA time zone; the policy's when absent or unknown.
    pub timezone: Option<&'a str>,
    pub subscriptions: &'a Subscriptions,
    /// The suppression entries of their addresses on the channel (more do no harm).
    pub suppressions: &'a [Suppression],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerState {
    /// Decided `send`, not handed to the provider yet: may still be displaced.
    Reserved,
    /// Handed to the provider: always counts.
    Sent,
}

/// One message in a person's ledger. A reservation whose message is skipped, displaced or
/// fails for good is removed; `at` is the time of the decision that reserved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub key: String,
    pub at: DateTime<Utc>,
    pub channel: Channel,
    pub category: Category,
    pub priority: Priority,
    /// Transactional messages never count toward caps.
    #[serde(default)]
    pub transactional: bool,
    pub state: LedgerState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Send now, to this address (suppressed push tokens already removed).
    Send {
        to: Address,
    },
    /// Decide again at `until`.
    Defer {
        until: DateTime<Utc>,
    },
    Skip,
}

/// A governor decision, recorded with the message:
/// `{"outcome": "defer", "until": "...", "reason": "quiet_hours_deferred"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    #[serde(flatten)]
    pub outcome: Outcome,
    pub reason: Reason,
    /// Reserved messages this one displaced (reason `displaced`); empty unless `send`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub displaced: Vec<Displaced>,
}

/// A reservation displaced by a higher-priority message: dropped (`defer_until` null) or to be
/// decided again at `defer_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Displaced {
    pub key: String,
    pub defer_until: Option<DateTime<Utc>>,
}
