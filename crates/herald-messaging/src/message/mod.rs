//! A message's identity, its lifecycle, the delivery events it puts on the timeline, and
//! holdout groups.

mod events;
mod holdout;
mod status;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use events::{BounceKind, DeliveryEvent, MessageFacts, DELIVERY_EVENT_NAMES};
pub use holdout::in_holdout;
pub use status::{Status, TransitionError};

/// The namespace of message ids (UUID version 5). Fixed forever: changing it would give every
/// message a new id and so send it again.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a4e_93d7_4b58_a0e2_5c8d_17f3_b940);

/// What asked for a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Broadcast,
    Journey,
    Api,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Broadcast => "broadcast",
            SourceKind::Journey => "journey",
            SourceKind::Api => "api",
        }
    }
}

/// A message's id, which is also its idempotency key: toward the governor's ledger, the
/// outbox, and the providers that take one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub Uuid);

impl MessageId {
    /// The id of the message that `source` (its kind and id) sends to `profile_id` at `step`
    /// (a journey's step and entry, a broadcast's send; empty when there is one). Deterministic,
    /// so asking twice — after a crash, a retry, a replay — names the same message and it is
    /// sent once. A UUID v5 of the four parts, each length-prefixed so that no two different
    /// parts give the same bytes.
    pub fn derive(source: SourceKind, source_id: &str, profile_id: Uuid, step: &str) -> MessageId {
        let mut name = Vec::with_capacity(64 + source_id.len() + step.len());
        for part in [
            source.as_str().as_bytes(),
            source_id.as_bytes(),
            profile_id.as_bytes(),
            step.as_bytes(),
        ] {
            name.extend_from_slice(&(part.len() as u64).to_be_bytes());
            name.extend_from_slice(part);
        }
        MessageId(Uuid::new_v5(&NAMESPACE, &name))
    }

    /// The idempotency key as text (the hyphenated UUID).
    pub fn key(&self) -> String {
        self.0.to_string()
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for MessageId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(MessageId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_are_stable() {
        let profile = Uuid::from_u128(42);
        let a = MessageId::derive(SourceKind::Broadcast, "b1", profile, "");
        assert_eq!(
            a,
            MessageId::derive(SourceKind::Broadcast, "b1", profile, "")
        );
        assert_eq!(a.0.get_version_num(), 5);
        assert_eq!(a.key().parse::<MessageId>().unwrap(), a);
        assert_ne!(a, MessageId::derive(SourceKind::Journey, "b1", profile, ""));
        assert_ne!(
            a,
            MessageId::derive(SourceKind::Broadcast, "b2", profile, "")
        );
        assert_ne!(
            a,
            MessageId::derive(SourceKind::Broadcast, "b1", Uuid::from_u128(43), "")
        );
        assert_ne!(
            a,
            MessageId::derive(SourceKind::Broadcast, "b1", profile, "x")
        );
        // Moving a character between parts does not collide.
        assert_ne!(
            MessageId::derive(SourceKind::Journey, "j1:", profile, "s"),
            MessageId::derive(SourceKind::Journey, "j1", profile, ":s")
        );
    }

    proptest! {
        #[test]
        fn different_parts_give_different_ids(
            a in ("[a-c:]{0,4}", "[a-c:]{0,4}", 0u128..3),
            b in ("[a-c:]{0,4}", "[a-c:]{0,4}", 0u128..3),
        ) {
            let id = |(source, step, p): &(String, String, u128)| {
                MessageId::derive(SourceKind::Journey, source, Uuid::from_u128(*p), step)
            };
            prop_assert_eq!(a == b, id(&a) == id(&b));
        }
    }
}
