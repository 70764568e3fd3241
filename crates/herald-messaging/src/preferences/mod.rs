//! Subscription preferences and suppression: what a person agreed to receive, and which of
//! their addresses must receive nothing at all.
//!
//! - [`Topics`]: the catalog of subscription topics, per channel, opt-in or opt-out by default,
//!   optionally double opt-in.
//! - [`Subscriptions`]: one person's choices (per topic, and a channel-wide unsubscribe); every
//!   change of a status in effect is a [`SubscriptionChange`], recorded by the pipeline as a
//!   `Subscription Changed` event.
//! - [`may_send`]: whether those choices let a message through (transactional messages ignore
//!   them).
//! - [`Suppression`]: addresses that bounced, complained, were erased (GDPR) or suppressed by
//!   hand; [`without_suppressed`] applies them, to transactional messages as well.

mod consent;
mod subscriptions;
mod suppression;
mod topics;

pub use consent::may_send;
pub use subscriptions::{
    ChangeSource, ChannelPreferences, Status, SubscriptionChange, Subscriptions,
};
pub use suppression::{without_suppressed, Suppression, SuppressionReason};
pub use topics::{Topic, TopicDefault, Topics};

use crate::channel::Channel;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreferencesError {
    #[error("{0:?} is not a valid topic key: 1 to 64 characters of a-z, 0-9, '_', '-' and '.', starting with a letter or digit")]
    InvalidTopicKey(String),
    #[error("topic {key:?} is defined twice on channel {channel}")]
    DuplicateTopic { channel: Channel, key: String },
    #[error("topic {0:?} is double opt-in, so its default must be opt_in")]
    DoubleOptInNeedsOptIn(String),
    #[error("at most {max} topics")]
    TooManyTopics { max: usize },
    #[error("there is no pending subscription to topic {key:?} on {channel} to confirm")]
    NotPending { channel: Channel, key: String },
    #[error("{address:?} is not a valid {channel} address to suppress")]
    InvalidAddress { channel: Channel, address: String },
}

impl PreferencesError {
    pub fn code(&self) -> &'static str {
        match self {
            PreferencesError::InvalidTopicKey(_) => "invalid_topic_key",
            PreferencesError::DuplicateTopic { .. } => "duplicate_topic",
            PreferencesError::DoubleOptInNeedsOptIn(_) => "double_opt_in_needs_opt_in",
            PreferencesError::TooManyTopics { .. } => "too_many_topics",
            PreferencesError::NotPending { .. } => "confirmation_not_pending",
            PreferencesError::InvalidAddress { .. } => "invalid_address",
        }
    }
}
