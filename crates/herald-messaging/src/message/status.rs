//! A message's status and the transitions it may take.
//!
//! | from | to |
//! |---|---|
//! | (a governor decision) | `queued` (send), `deferred` (defer), `skipped` (skip, with its reason) |
//! | `queued` | `sending`, `deferred`, `skipped`, `failed`, `paused` |
//! | `deferred` | `queued`, `deferred` (another time), `skipped`, `paused` |
//! | `paused` | `queued` (resumed), `skipped` (cancelled) |
//! | `sending` | `queued` (retry), `sent`, `delivered`, `bounced`, `failed` |
//! | `sent` | `delivered`, `opened`, `clicked`, `bounced`, `complained` |
//! | `delivered` | `opened`, `clicked`, `bounced`, `complained` |
//! | `opened` | `clicked`, `complained` |
//! | `clicked` | `complained` |
//! | `bounced`, `complained`, `failed`, `skipped` | — (final) |
//!
//! - `queued`: decided `send` (a ledger reservation), waiting for the provider. It may be
//!   displaced (to `deferred` or `skipped`) or fail for good before it is sent (`failed`).
//! - `deferred`: waits for its `until`, then is decided again (→ `queued`, `deferred`,
//!   `skipped`).
//! - `paused`: its broadcast is paused; it waits, undecided, until the broadcast resumes
//!   (→ `queued`) or is cancelled (→ `skipped`, reason `cancelled`).
//! - `sending`: handed to the provider, no answer yet. A transient error goes back to
//!   `queued` for a retry; a permanent one is `failed`; a synchronous refusal of the recipient
//!   (SMTP 5xx on `RCPT`) is `bounced`; a channel that confirms delivery at once (in-app,
//!   webhook 2xx) may go straight to `delivered`.
//! - `sent` → `delivered` → `opened` → `clicked`: engagement only moves forward, and may skip
//!   steps (an open proves delivery where no delivery report comes).
//! - `bounced` from `sending`, `sent` or `delivered` (a bounce report may follow the relay's
//!   acceptance); `complained` from any status from `sent` on.
//! - `bounced`, `complained`, `failed` and `skipped` are final.
//!
//! A provider event that arrives late (a `delivered` after an `opened`) is refused as a status
//! change; the pipeline still records it as an event on the timeline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::governor::{Decision, Outcome};
use crate::reason::Reason;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Queued,
    Deferred {
        until: DateTime<Utc>,
    },
    Paused,
    Sending,
    Sent,
    Delivered,
    Opened,
    Clicked,
    Bounced,
    Complained,
    /// A permanent failure (the provider refused the message, the template does not render):
    /// recorded, not retried.
    Failed,
    Skipped {
        reason: Reason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a message cannot go from {from} to {to}")]
    Illegal {
        from: &'static str,
        to: &'static str,
    },
    #[error("the message is already {0}")]
    Repeated(&'static str),
}

impl TransitionError {
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::Illegal { .. } => "transition_illegal",
            TransitionError::Repeated(_) => "transition_repeated",
        }
    }
}

impl Status {
    /// The status a governor decision gives a new message.
    pub fn of(decision: &Decision) -> Status {
        match &decision.outcome {
            Outcome::Send { .. } => Status::Queued,
            Outcome::Defer { until } => Status::Deferred { until: *until },
            Outcome::Skip => Status::Skipped {
                reason: decision.reason,
            },
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Deferred { .. } => "deferred",
            Status::Paused => "paused",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::Opened => "opened",
            Status::Clicked => "clicked",
            Status::Bounced => "bounced",
            Status::Complained => "complained",
            Status::Failed => "failed",
            Status::Skipped { .. } => "skipped",
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Status::Bounced | Status::Complained | Status::Failed | Status::Skipped { .. }
        )
    }

    /// The place of an engagement status in `sent < delivered < opened < clicked`.
    fn engagement(&self) -> Option<u8> {
        match self {
            Status::Sent => Some(0),
            Status::Delivered => Some(1),
            Status::Opened => Some(2),
            Status::Clicked => Some(3),
            _ => None,
        }
    }

    /// The status after moving to `next`, or why the message cannot.
    pub fn advance(&self, next: Status) -> Result<Status, TransitionError> {
        use Status::*;
        if *self == next {
            return Err(TransitionError::Repeated(self.name()));
        }
        let legal = match (self, &next) {
            (Queued, Sending | Deferred { .. } | Skipped { .. } | Failed | Paused) => true,
            (Deferred { .. }, Queued | Deferred { .. } | Skipped { .. } | Paused) => true,
            (Paused, Queued | Skipped { .. }) => true,
            (Sending, Queued | Sent | Delivered | Bounced | Failed) => true,
            (Sent | Delivered, Bounced) => true,
            (from, Complained) => from.engagement().is_some(),
            (from, to) => {
                matches!((from.engagement(), to.engagement()), (Some(a), Some(b)) if b > a)
            }
        };
        if legal {
            Ok(next)
        } else {
            Err(TransitionError::Illegal {
                from: self.name(),
                to: next.name(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;

    fn all() -> Vec<Status> {
        let t = "2024-05-01T10:00:00Z".parse().unwrap();
        vec![
            Status::Queued,
            Status::Deferred { until: t },
            Status::Paused,
            Status::Sending,
            Status::Sent,
            Status::Delivered,
            Status::Opened,
            Status::Clicked,
            Status::Bounced,
            Status::Complained,
            Status::Failed,
            Status::Skipped {
                reason: Reason::Capped,
            },
        ]
    }

    /// The transition table, written out by name; `advance` must agree on every pair.
    const LEGAL: &[(&str, &[&str])] = &[
        (
            "queued",
            &["deferred", "sending", "failed", "skipped", "paused"],
        ),
        ("deferred", &["queued", "skipped", "paused"]),
        ("paused", &["queued", "skipped"]),
        (
            "sending",
            &["queued", "sent", "delivered", "bounced", "failed"],
        ),
        (
            "sent",
            &["delivered", "opened", "clicked", "bounced", "complained"],
        ),
        ("delivered", &["opened", "clicked", "bounced", "complained"]),
        ("opened", &["clicked", "complained"]),
        ("clicked", &["complained"]),
        ("bounced", &[]),
        ("complained", &[]),
        ("failed", &[]),
        ("skipped", &[]),
    ];

    #[test]
    fn transition_table() {
        for from in all() {
            let allowed = LEGAL
                .iter()
                .find(|(name, _)| *name == from.name())
                .map(|(_, to)| *to)
                .unwrap();
            for to in all() {
                let got = from.advance(to.clone());
                if from == to {
                    assert_eq!(got.unwrap_err().code(), "transition_repeated");
                } else if allowed.contains(&to.name()) {
                    assert_eq!(got, Ok(to.clone()), "{} → {}", from.name(), to.name());
                } else {
                    let err = got.unwrap_err();
                    assert_eq!(
                        err.code(),
                        "transition_illegal",
                        "{} → {}",
                        from.name(),
                        to.name()
                    );
                }
            }
            assert_eq!(from.is_final(), allowed.is_empty(), "{}", from.name());
        }
    }

    #[test]
    fn a_deferred_message_may_be_deferred_to_another_time() {
        let a = Status::Deferred {
            until: "2024-05-01T10:00:00Z".parse().unwrap(),
        };
        let b = Status::Deferred {
            until: "2024-05-01T11:00:00Z".parse().unwrap(),
        };
        assert_eq!(a.advance(b.clone()), Ok(b));
    }

    #[test]
    fn decisions_give_the_first_status() {
        let send = Decision {
            outcome: Outcome::Send {
                to: Address::Webhook,
            },
            reason: Reason::Sent,
            displaced: Vec::new(),
        };
        assert_eq!(Status::of(&send), Status::Queued);
        let skip = Decision {
            outcome: Outcome::Skip,
            reason: Reason::Unsubscribed,
            displaced: Vec::new(),
        };
        assert_eq!(
            serde_json::to_value(Status::of(&skip)).unwrap(),
            serde_json::json!({"status": "skipped", "reason": "unsubscribed"})
        );
    }
}
