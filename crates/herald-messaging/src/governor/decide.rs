//! The decision: the checks in their order (see the module documentation of `governor`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::caps::{displace, fits_from, Class};
use super::policy::{CappedAction, Policy, QuietAction};
use super::quiet::quiet_until;
use super::{Candidate, Decision, Displaced, LedgerEntry, LedgerState, Outcome, PersonState};
use crate::address::Address;
use crate::channel::Channel;
use crate::preferences::{may_send, without_suppressed, Topics};
use crate::reason::Reason;

/// Decide what happens to `candidate` for the person at `now`. Pure and deterministic: the
/// same arguments give the same decision. `ledger` holds the person's recent messages (at least
/// [`Policy::horizon`] back); entries with the candidate's own key are ignored, so deciding
/// again a message that was already reserved gives the answer it had.
pub fn decide(
    policy: &Policy,
    topics: &Topics,
    candidate: &Candidate,
    person: &PersonState<'_>,
    ledger: &[LedgerEntry],
    now: DateTime<Utc>,
) -> Decision {
    if candidate.holdout {
        return Decision::skip(Reason::Holdout);
    }
    let address = match person.address {
        Some(a) if a.channel() == candidate.channel && !is_empty(a) => a,
        _ => return Decision::skip(Reason::NoAddress),
    };
    let Ok(to) = without_suppressed(address, person.suppressions) else {
        return Decision::skip(Reason::Suppressed);
    };
    if candidate.transactional {
        return Decision::send(to, Vec::new());
    }
    let topic = match candidate.topic.as_deref() {
        None => None,
        Some(key) => match topics.get(candidate.channel, key) {
            Some(topic) => Some(topic),
            None => return Decision::skip(Reason::UnknownTopic),
        },
    };
    if let Err(reason) = may_send(candidate.channel, topic, person.subscriptions, false) {
        return Decision::skip(reason);
    }
    let tz = person
        .timezone
        .and_then(|name| name.parse::<Tz>().ok())
        .unwrap_or_else(|| policy.tz());
    if let Some(end) = quiet_end(policy, tz, candidate.channel, now) {
        return match policy.quiet_hours.as_ref().map(|q| q.action) {
            Some(QuietAction::Drop) => Decision::skip(Reason::QuietHoursDropped),
            _ => Decision::defer(end, Reason::QuietHoursDeferred),
        };
    }
    let class = Class {
        channel: candidate.channel,
        category: &candidate.category,
        priority: candidate.priority,
    };
    let counted: Vec<&LedgerEntry> = ledger
        .iter()
        .filter(|e| !e.transactional && e.key != candidate.key)
        .collect();
    match displace(policy, class, &counted, now) {
        Some(losers) => {
            let displaced = displaced(policy, tz, candidate, &counted, &losers, now);
            Decision::send(to, displaced)
        }
        None => match policy.on_capped {
            CappedAction::Drop => Decision::skip(Reason::Capped),
            CappedAction::Defer => {
                let until = next_slot(policy, tz, class, &counted, now);
                Decision::defer(until, Reason::CappedDeferred)
            }
        },
    }
}

fn is_empty(address: &Address) -> bool {
    matches!(address, Address::Push { tokens } if tokens.is_empty())
}

/// The end of the quiet window holding `at`, if quiet hours apply to `channel` and it is one.
fn quiet_end(
    policy: &Policy,
    tz: Tz,
    channel: Channel,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let quiet = policy.quiet_hours.as_ref()?;
    if quiet.applies_to(channel) {
        quiet_until(quiet, tz, at)
    } else {
        None
    }
}

/// The earliest instant at or after `now` at which a message of `class` fits under every cap
/// and is outside quiet hours: it would be sent then without displacing anything (with the
/// same ledger). The capped message waits for a slot outside quiet hours whatever the quiet
/// action, which is for messages that come due in quiet hours, not for ones moved there.
fn next_slot(
    policy: &Policy,
    tz: Tz,
    class: Class<'_>,
    counted: &[&LedgerEntry],
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let fits = fits_from(policy, class, counted, now);
    quiet_end(policy, tz, class.channel, fits).unwrap_or(fits)
}

/// What happens to each displaced reservation: dropped, or (when capped messages are
/// deferred) deferred to its own next slot in the ledger as it will be — the losers gone, the
/// candidate reserved at `now`.
fn displaced(
    policy: &Policy,
    tz: Tz,
    candidate: &Candidate,
    counted: &[&LedgerEntry],
    losers: &[&LedgerEntry],
    now: DateTime<Utc>,
) -> Vec<Displaced> {
    let defer = policy.on_capped == CappedAction::Defer;
    let reserved = LedgerEntry::reserve(candidate, now);
    let after: Vec<&LedgerEntry> = counted
        .iter()
        .copied()
        .filter(|e| !losers.iter().any(|l| l.key == e.key))
        .chain(std::iter::once(&reserved))
        .collect();
    losers
        .iter()
        .map(|loser| Displaced {
            key: loser.key.clone(),
            defer_until: defer.then(|| next_slot(policy, tz, Class::of(loser), &after, now)),
        })
        .collect()
}

impl Decision {
    fn skip(reason: Reason) -> Decision {
        Decision {
            outcome: Outcome::Skip,
            reason,
            displaced: Vec::new(),
        }
    }

    fn defer(until: DateTime<Utc>, reason: Reason) -> Decision {
        Decision {
            outcome: Outcome::Defer { until },
            reason,
            displaced: Vec::new(),
        }
    }

    fn send(to: Address, displaced: Vec<Displaced>) -> Decision {
        Decision {
            outcome: Outcome::Send { to },
            reason: Reason::Sent,
            displaced,
        }
    }
}

impl LedgerEntry {
    /// The reservation a `send` decision makes: what the pipeline appends to the ledger.
    pub fn reserve(candidate: &Candidate, at: DateTime<Utc>) -> LedgerEntry {
        LedgerEntry {
            key: candidate.key.clone(),
            at,
            channel: candidate.channel,
            category: candidate.category.clone(),
            priority: candidate.priority,
            transactional: candidate.transactional,
            state: LedgerState::Reserved,
        }
    }
}
