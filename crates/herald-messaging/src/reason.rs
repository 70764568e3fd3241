//! Why a message was (or was not) sent: the reasons recorded with every governor decision.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The reason of a governor decision, recorded with the message and shown on the profile. The
/// strings are stable (`as_str`); docs/messaging.md lists them in the order of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Every check passed: the message goes out now (outcome `send`).
    Sent,
    /// The person is in the holdout group of the broadcast or journey that sends the message.
    Holdout,
    /// The person has no usable address on the message's channel.
    NoAddress,
    /// Every address the person has on the channel is suppressed (hard bounce, complaint,
    /// invalid number or token, GDPR deletion, manual).
    Suppressed,
    /// The message names a subscription topic that does not exist on its channel (deleted
    /// after the message was scheduled): it is not sent under a topic nobody can manage.
    UnknownTopic,
    /// The person unsubscribed from the topic, or from the whole channel.
    Unsubscribed,
    /// The topic is opt-in and the person never subscribed to it.
    NotOptedIn,
    /// The person subscribed to a double opt-in topic and has not confirmed yet.
    PendingConfirmation,
    /// It is quiet hours for the person; the message waits for their end.
    QuietHoursDeferred,
    /// It is quiet hours for the person and the policy drops such messages.
    QuietHoursDropped,
    /// A frequency cap is full and the policy drops capped messages.
    Capped,
    /// A frequency cap is full; the message waits until it fits.
    CappedDeferred,
    /// The message was reserved (queued, not yet sent) and lost its place under a cap to a
    /// message of higher priority; dropped or deferred as the policy says for capped messages.
    Displaced,
    /// The broadcast (or journey) that sends the message was cancelled before it was handed
    /// over. Not a governor decision: the broadcast's cancel records it.
    Cancelled,
}

impl Reason {
    pub const ALL: [Reason; 14] = [
        Reason::Sent,
        Reason::Holdout,
        Reason::NoAddress,
        Reason::Suppressed,
        Reason::UnknownTopic,
        Reason::Unsubscribed,
        Reason::NotOptedIn,
        Reason::PendingConfirmation,
        Reason::QuietHoursDeferred,
        Reason::QuietHoursDropped,
        Reason::Capped,
        Reason::CappedDeferred,
        Reason::Displaced,
        Reason::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Sent => "sent",
            Reason::Holdout => "holdout",
            Reason::NoAddress => "no_address",
            Reason::Suppressed => "suppressed",
            Reason::UnknownTopic => "unknown_topic",
            Reason::Unsubscribed => "unsubscribed",
            Reason::NotOptedIn => "not_opted_in",
            Reason::PendingConfirmation => "pending_confirmation",
            Reason::QuietHoursDeferred => "quiet_hours_deferred",
            Reason::QuietHoursDropped => "quiet_hours_dropped",
            Reason::Capped => "capped",
            Reason::CappedDeferred => "capped_deferred",
            Reason::Displaced => "displaced",
            Reason::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown reason {0:?}")]
pub struct UnknownReason(pub String);

impl UnknownReason {
    pub fn code(&self) -> &'static str {
        "unknown_reason"
    }
}

impl FromStr for Reason {
    type Err = UnknownReason;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownReason(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_and_match_serde() {
        for reason in Reason::ALL {
            assert_eq!(reason.as_str().parse::<Reason>(), Ok(reason));
            assert_eq!(
                serde_json::to_value(reason).unwrap(),
                serde_json::Value::from(reason.as_str())
            );
        }
        assert_eq!(
            "nope".parse::<Reason>().unwrap_err().code(),
            "unknown_reason"
        );
    }

    /// docs/messaging.md is what users read: every reason is in its Reasons table, in this
    /// order.
    #[test]
    fn every_reason_is_documented_in_order() {
        let doc = include_str!("../../../docs/messaging.md");
        let start = doc
            .find("### Reasons")
            .expect("docs/messaging.md has a Reasons section");
        let table = &doc[start..];
        let doc = &table[..table[1..].find("\n#").map_or(table.len(), |end| end + 1)];
        let mut last: Option<usize> = None;
        for reason in Reason::ALL {
            let cell = format!("| `{}` |", reason.as_str());
            let at = doc
                .find(&cell)
                .unwrap_or_else(|| panic!("docs/messaging.md has no row {cell}"));
            assert!(
                last < Some(at),
                "{reason} is out of order in docs/messaging.md"
            );
            last = Some(at);
        }
    }
}
