//! Subscription topics: what a person can subscribe to, per channel.

use serde::{Deserialize, Serialize};

use super::PreferencesError;
use crate::channel::{is_key, Channel};

/// Whether a person who never chose is subscribed (`opt_out`: yes, until they unsubscribe) or
/// not (`opt_in`: no, until they subscribe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicDefault {
    OptIn,
    OptOut,
}

/// A subscription topic such as `newsletter` on `email`. A topic is identified by its channel
/// and key together: `newsletter` on `email` and `newsletter` on `sms` are two topics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub key: String,
    pub channel: Channel,
    pub default: TopicDefault,
    #[serde(default)]
    pub description: String,
    /// Subscribing leaves the person `pending_confirmation` until they confirm (a link in a
    /// confirmation message, sent as transactional). Only for `opt_in` topics.
    #[serde(default)]
    pub double_opt_in: bool,
    /// The template of the confirmation message a double opt-in subscription sends (it sees
    /// `message.confirm_url`); without one, nothing is sent and the subscription stays
    /// pending until confirmed another way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_template: Option<String>,
}

/// The topic catalog: valid keys, each (channel, key) once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Topic>", into = "Vec<Topic>")]
pub struct Topics(Vec<Topic>);

impl Topics {
    pub const MAX: usize = 500;

    pub fn new(topics: Vec<Topic>) -> Result<Topics, PreferencesError> {
        if topics.len() > Self::MAX {
            return Err(PreferencesError::TooManyTopics { max: Self::MAX });
        }
        for (i, topic) in topics.iter().enumerate() {
            if !is_key(&topic.key) {
                return Err(PreferencesError::InvalidTopicKey(topic.key.clone()));
            }
            if topic.double_opt_in && topic.default == TopicDefault::OptOut {
                return Err(PreferencesError::DoubleOptInNeedsOptIn(topic.key.clone()));
            }
            if topics[..i]
                .iter()
                .any(|t| t.channel == topic.channel && t.key == topic.key)
            {
                return Err(PreferencesError::DuplicateTopic {
                    channel: topic.channel,
                    key: topic.key.clone(),
                });
            }
        }
        Ok(Topics(topics))
    }

    pub fn get(&self, channel: Channel, key: &str) -> Option<&Topic> {
        self.0.iter().find(|t| t.channel == channel && t.key == key)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Topic> {
        self.0.iter()
    }
}

impl TryFrom<Vec<Topic>> for Topics {
    type Error = PreferencesError;
    fn try_from(topics: Vec<Topic>) -> Result<Self, Self::Error> {
        Topics::new(topics)
    }
}

impl From<Topics> for Vec<Topic> {
    fn from(t: Topics) -> Vec<Topic> {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn topic(key: &str, channel: Channel, default: TopicDefault) -> Topic {
        Topic {
            key: key.into(),
            channel,
            default,
            description: String::new(),
            double_opt_in: false,
            confirmation_template: None,
        }
    }

    #[test]
    fn catalog_checks() {
        let ok = Topics::new(vec![
            topic("newsletter", Channel::Email, TopicDefault::OptIn),
            topic("newsletter", Channel::Sms, TopicDefault::OptIn),
        ])
        .unwrap();
        assert_eq!(
            ok.get(Channel::Sms, "newsletter").unwrap().channel,
            Channel::Sms
        );
        assert!(ok.get(Channel::Push, "newsletter").is_none());

        let dup = Topics::new(vec![
            topic("news", Channel::Email, TopicDefault::OptIn),
            topic("news", Channel::Email, TopicDefault::OptOut),
        ]);
        assert_eq!(dup.unwrap_err().code(), "duplicate_topic");
        let bad = Topics::new(vec![topic(
            "News Letter",
            Channel::Email,
            TopicDefault::OptIn,
        )]);
        assert_eq!(bad.unwrap_err().code(), "invalid_topic_key");
        let mut doi = topic("news", Channel::Email, TopicDefault::OptOut);
        doi.double_opt_in = true;
        assert_eq!(
            Topics::new(vec![doi]).unwrap_err().code(),
            "double_opt_in_needs_opt_in"
        );
        let many = (0..=Topics::MAX)
            .map(|i| topic(&format!("t{i}"), Channel::Email, TopicDefault::OptIn))
            .collect();
        assert_eq!(Topics::new(many).unwrap_err().code(), "too_many_topics");
    }

    #[test]
    fn catalog_json() {
        let v = json!([{
            "key": "product_updates", "channel": "email", "default": "opt_out",
            "description": "What we shipped this month"
        }]);
        let topics: Topics = serde_json::from_value(v.clone()).unwrap();
        let t = topics.get(Channel::Email, "product_updates").unwrap();
        assert_eq!(t.default, TopicDefault::OptOut);
        assert!(!t.double_opt_in);
        let back = serde_json::to_value(&topics).unwrap();
        assert_eq!(back[0]["key"], "product_updates");
        let dup = json!([
            {"key": "a", "channel": "email", "default": "opt_in"},
            {"key": "a", "channel": "email", "default": "opt_in"}
        ]);
        assert!(serde_json::from_value::<Topics>(dup).is_err());
    }
}
