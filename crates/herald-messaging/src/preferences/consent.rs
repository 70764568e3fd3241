//! Whether a person's subscription state lets a message through.

use super::subscriptions::{Status, Subscriptions};
use super::topics::{Topic, TopicDefault};
use crate::channel::Channel;
use crate::reason::Reason;

/// Whether subscription state lets a message through. Transactional messages always pass
/// (they ignore topics and the channel-wide unsubscribe, though not suppression). Otherwise:
/// a channel-wide unsubscribe → `unsubscribed`; a topic of another channel → `unknown_topic`;
/// then the topic's status: unsubscribed → `unsubscribed`, pending → `pending_confirmation`,
/// never chosen on an `opt_in` topic → `not_opted_in`. A message with no topic needs only the
/// channel not to be unsubscribed.
pub fn may_send(
    channel: Channel,
    topic: Option<&Topic>,
    subscriptions: &Subscriptions,
    transactional: bool,
) -> Result<(), Reason> {
    if transactional {
        return Ok(());
    }
    if subscriptions.channel_unsubscribed(channel) {
        return Err(Reason::Unsubscribed);
    }
    let Some(topic) = topic else {
        return Ok(());
    };
    if topic.channel != channel {
        return Err(Reason::UnknownTopic);
    }
    match (subscriptions.explicit(topic), topic.default) {
        (Some(Status::Subscribed), _) | (None, TopicDefault::OptOut) => Ok(()),
        (Some(Status::Unsubscribed), _) => Err(Reason::Unsubscribed),
        (Some(Status::PendingConfirmation), _) => Err(Reason::PendingConfirmation),
        (None, TopicDefault::OptIn) => Err(Reason::NotOptedIn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preferences::ChangeSource;

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
    fn may_send_table() {
        let opt_in = topic("news", TopicDefault::OptIn, false);
        let opt_out = topic("updates", TopicDefault::OptOut, false);
        let mut subs = Subscriptions::default();
        assert_eq!(may_send(Channel::Email, None, &subs, false), Ok(()));
        assert_eq!(
            may_send(Channel::Email, Some(&opt_in), &subs, false),
            Err(Reason::NotOptedIn)
        );
        assert_eq!(
            may_send(Channel::Email, Some(&opt_out), &subs, false),
            Ok(())
        );
        assert_eq!(may_send(Channel::Email, Some(&opt_in), &subs, true), Ok(()));
        assert_eq!(
            may_send(Channel::Sms, Some(&opt_out), &subs, false),
            Err(Reason::UnknownTopic)
        );

        subs.subscribe(&opt_in, ChangeSource::Api);
        subs.unsubscribe(&opt_out, ChangeSource::PreferencePage);
        assert_eq!(
            may_send(Channel::Email, Some(&opt_in), &subs, false),
            Ok(())
        );
        assert_eq!(
            may_send(Channel::Email, Some(&opt_out), &subs, false),
            Err(Reason::Unsubscribed)
        );
        assert_eq!(
            may_send(Channel::Email, Some(&opt_out), &subs, true),
            Ok(())
        );

        subs.unsubscribe_channel(Channel::Email, ChangeSource::OneClick);
        for t in [None, Some(&opt_in), Some(&opt_out)] {
            assert_eq!(
                may_send(Channel::Email, t, &subs, false),
                Err(Reason::Unsubscribed)
            );
            assert_eq!(may_send(Channel::Email, t, &subs, true), Ok(()));
        }
        assert_eq!(may_send(Channel::Sms, None, &subs, false), Ok(()));
    }
}
