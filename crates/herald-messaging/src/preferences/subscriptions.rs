//! A person's subscription state, its changes, and whether it lets a message through.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::topics::{Topic, TopicDefault};
use super::PreferencesError;
use crate::channel::Channel;

/// A person's status on one topic (or on a whole channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Subscribed,
    Unsubscribed,
    /// Subscribed to a double opt-in topic, not confirmed yet: receives nothing on it.
    PendingConfirmation,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Subscribed => "subscribed",
            Status::Unsubscribed => "unsubscribed",
            Status::PendingConfirmation => "pending_confirmation",
        }
    }
}

/// Where a change came from; recorded as the `source` of the `Subscription Changed` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeSource {
    /// The signed preference page.
    PreferencePage,
    /// An RFC 8058 one-click unsubscribe (the POST of a `List-Unsubscribe` URL).
    OneClick,
    /// The person confirmed a double opt-in.
    Confirmation,
    /// Herald's REST or GraphQL API.
    Api,
    /// Someone in the dashboard.
    Dashboard,
    /// A bulk import.
    Import,
    /// A spam complaint (feedback loop), which unsubscribes.
    Complaint,
    /// An SMS reply such as `STOP`.
    SmsReply,
}

impl ChangeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeSource::PreferencePage => "preference_page",
            ChangeSource::OneClick => "one_click",
            ChangeSource::Confirmation => "confirmation",
            ChangeSource::Api => "api",
            ChangeSource::Dashboard => "dashboard",
            ChangeSource::Import => "import",
            ChangeSource::Complaint => "complaint",
            ChangeSource::SmsReply => "sms_reply",
        }
    }
}

/// One channel's preferences: the channel-wide unsubscribe and the explicit topic statuses
/// (a topic with no entry has its default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelPreferences {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsubscribed: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub topics: BTreeMap<String, Status>,
}

/// A person's subscription state, e.g.
/// `{"email": {"unsubscribed": false, "topics": {"newsletter": "subscribed"}}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Subscriptions(pub BTreeMap<Channel, ChannelPreferences>);

/// A change of a person's effective status, which the pipeline records as a
/// `Subscription Changed` track event ([`SubscriptionChange::properties`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionChange {
    pub channel: Channel,
    /// `None` for the channel-wide unsubscribe.
    pub topic: Option<String>,
    pub status: Status,
    pub previous_status: Status,
    pub source: ChangeSource,
}

impl SubscriptionChange {
    pub const EVENT: &'static str = "Subscription Changed";

    /// The event's properties: `topic` (null for the whole channel), `channel`, `status`,
    /// `previous_status`, `source`.
    pub fn properties(&self) -> Value {
        json!({
            "topic": self.topic,
            "channel": self.channel.as_str(),
            "status": self.status.as_str(),
            "previous_status": self.previous_status.as_str(),
            "source": self.source.as_str(),
        })
    }
}

impl Subscriptions {
    pub fn channel_unsubscribed(&self, channel: Channel) -> bool {
        self.0.get(&channel).is_some_and(|c| c.unsubscribed)
    }

    /// The status the person chose for the topic, if they chose.
    pub fn explicit(&self, topic: &Topic) -> Option<Status> {
        self.0
            .get(&topic.channel)
            .and_then(|c| c.topics.get(&topic.key))
            .copied()
    }

    /// The status in effect: the chosen one, else the topic's default.
    pub fn status(&self, topic: &Topic) -> Status {
        self.explicit(topic).unwrap_or(match topic.default {
            TopicDefault::OptIn => Status::Unsubscribed,
            TopicDefault::OptOut => Status::Subscribed,
        })
    }

    /// Subscribe to a topic: `pending_confirmation` for a double opt-in topic the person is
    /// not already subscribed to, else `subscribed`. A channel-wide unsubscribe stays in force
    /// until [`Subscriptions::resubscribe_channel`].
    pub fn subscribe(&mut self, topic: &Topic, source: ChangeSource) -> Option<SubscriptionChange> {
        let next = if topic.double_opt_in && self.explicit(topic) != Some(Status::Subscribed) {
            Status::PendingConfirmation
        } else {
            Status::Subscribed
        };
        self.set(topic, next, source)
    }

    /// Confirm a pending double opt-in. Confirming twice is no change; confirming what was
    /// never asked for (or was unsubscribed since) is an error.
    pub fn confirm(
        &mut self,
        topic: &Topic,
        source: ChangeSource,
    ) -> Result<Option<SubscriptionChange>, PreferencesError> {
        match self.explicit(topic) {
            Some(Status::PendingConfirmation) => Ok(self.set(topic, Status::Subscribed, source)),
            Some(Status::Subscribed) => Ok(None),
            _ => Err(PreferencesError::NotPending {
                channel: topic.channel,
                key: topic.key.clone(),
            }),
        }
    }

    pub fn unsubscribe(
        &mut self,
        topic: &Topic,
        source: ChangeSource,
    ) -> Option<SubscriptionChange> {
        self.set(topic, Status::Unsubscribed, source)
    }

    /// Unsubscribe from every non-transactional message on the channel.
    pub fn unsubscribe_channel(
        &mut self,
        channel: Channel,
        source: ChangeSource,
    ) -> Option<SubscriptionChange> {
        self.set_channel(channel, true, source)
    }

    pub fn resubscribe_channel(
        &mut self,
        channel: Channel,
        source: ChangeSource,
    ) -> Option<SubscriptionChange> {
        self.set_channel(channel, false, source)
    }

    /// Records the explicit status; a change is returned only when the status in effect moved
    /// (subscribing to an `opt_out` topic records the choice, which outlives a later change of
    /// the default, but changes nothing now).
    fn set(
        &mut self,
        topic: &Topic,
        next: Status,
        source: ChangeSource,
    ) -> Option<SubscriptionChange> {
        let previous = self.status(topic);
        self.0
            .entry(topic.channel)
            .or_default()
            .topics
            .insert(topic.key.clone(), next);
        (previous != next).then(|| SubscriptionChange {
            channel: topic.channel,
            topic: Some(topic.key.clone()),
            status: next,
            previous_status: previous,
            source,
        })
    }

    fn set_channel(
        &mut self,
        channel: Channel,
        unsubscribed: bool,
        source: ChangeSource,
    ) -> Option<SubscriptionChange> {
        let prefs = self.0.entry(channel).or_default();
        let was = prefs.unsubscribed;
        prefs.unsubscribed = unsubscribed;
        let status = |u: bool| {
            if u {
                Status::Unsubscribed
            } else {
                Status::Subscribed
            }
        };
        (was != unsubscribed).then(|| SubscriptionChange {
            channel,
            topic: None,
            status: status(unsubscribed),
            previous_status: status(was),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preferences::may_send;
    use crate::reason::Reason;

    fn topic(key: &str, default: TopicDefault, double_opt_in: bool) -> Topic {
        Topic {
            key: key.into(),
            channel: Channel::Email,
            default,
            description: String::new(),
            double_opt_in,
            confirmation_template: None,
        }
    }

    #[test]
    fn double_opt_in() {
        let t = topic("news", TopicDefault::OptIn, true);
        let mut subs = Subscriptions::default();
        assert_eq!(
            subs.confirm(&t, ChangeSource::Confirmation)
                .unwrap_err()
                .code(),
            "confirmation_not_pending"
        );
        let change = subs.subscribe(&t, ChangeSource::PreferencePage).unwrap();
        assert_eq!(change.status, Status::PendingConfirmation);
        assert_eq!(change.previous_status, Status::Unsubscribed);
        assert_eq!(
            may_send(Channel::Email, Some(&t), &subs, false),
            Err(Reason::PendingConfirmation)
        );
        assert_eq!(subs.subscribe(&t, ChangeSource::PreferencePage), None);
        let confirmed = subs
            .confirm(&t, ChangeSource::Confirmation)
            .unwrap()
            .unwrap();
        assert_eq!(
            (confirmed.previous_status, confirmed.status),
            (Status::PendingConfirmation, Status::Subscribed)
        );
        assert_eq!(may_send(Channel::Email, Some(&t), &subs, false), Ok(()));
        assert_eq!(subs.confirm(&t, ChangeSource::Confirmation), Ok(None));
        // Subscribing again once subscribed does not ask for a new confirmation.
        assert_eq!(subs.subscribe(&t, ChangeSource::Api), None);
        subs.unsubscribe(&t, ChangeSource::OneClick);
        assert!(subs.confirm(&t, ChangeSource::Confirmation).is_err());
    }

    #[test]
    fn changes_are_reported_only_when_the_status_in_effect_moves() {
        let opt_out = topic("updates", TopicDefault::OptOut, false);
        let mut subs = Subscriptions::default();
        assert_eq!(subs.subscribe(&opt_out, ChangeSource::Api), None);
        assert_eq!(subs.explicit(&opt_out), Some(Status::Subscribed));
        let change = subs.unsubscribe(&opt_out, ChangeSource::OneClick).unwrap();
        assert_eq!(
            change.properties(),
            json!({
                "topic": "updates", "channel": "email", "status": "unsubscribed",
                "previous_status": "subscribed", "source": "one_click"
            })
        );
        assert_eq!(subs.unsubscribe(&opt_out, ChangeSource::OneClick), None);

        let all = subs
            .unsubscribe_channel(Channel::Sms, ChangeSource::SmsReply)
            .unwrap();
        assert_eq!(
            all.properties(),
            json!({
                "topic": null, "channel": "sms", "status": "unsubscribed",
                "previous_status": "subscribed", "source": "sms_reply"
            })
        );
        assert_eq!(
            subs.unsubscribe_channel(Channel::Sms, ChangeSource::Api),
            None
        );
        let back = subs
            .resubscribe_channel(Channel::Sms, ChangeSource::PreferencePage)
            .unwrap();
        assert_eq!(back.status, Status::Subscribed);
        assert_eq!(SubscriptionChange::EVENT, "Subscription Changed");
    }

    #[test]
    fn state_json() {
        let t = topic("news", TopicDefault::OptIn, false);
        let mut subs = Subscriptions::default();
        subs.subscribe(&t, ChangeSource::Api);
        subs.unsubscribe_channel(Channel::Sms, ChangeSource::SmsReply);
        let v = serde_json::to_value(&subs).unwrap();
        assert_eq!(
            v,
            json!({"email": {"topics": {"news": "subscribed"}}, "sms": {"unsubscribed": true}})
        );
        assert_eq!(serde_json::from_value::<Subscriptions>(v).unwrap(), subs);
    }
}
