//! What a message is: its channel, its category (with the transactional flag) and its priority.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The ways Herald reaches a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Push,
    Webhook,
    InApp,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Sms,
        Channel::Push,
        Channel::Webhook,
        Channel::InApp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Push => "push",
            Channel::Webhook => "webhook",
            Channel::InApp => "in_app",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ValueError::UnknownChannel(s.to_owned()))
    }
}

/// How much a message matters when a frequency cap is full: a candidate displaces reserved
/// (queued, not yet sent) messages of strictly lower priority. Ordered `low < normal < high <
/// critical`. Four named levels rather than a number: a number invites fine distinctions nobody
/// can keep consistent across journeys and broadcasts, and equal priorities never displace each
/// other (the first reserved keeps its place).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Critical,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Critical => "critical",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ValueError::UnknownPriority(s.to_owned()))
    }
}

/// A message category such as `marketing` or `product_updates`: what frequency caps count.
/// 1 to 64 characters of `a-z`, `0-9`, `_`, `-` and `.`, starting with a letter or digit, so
/// that it reads the same in JSON, URLs and the dashboard. Also the syntax of topic keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);

impl Category {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Category, ValueError> {
        if is_key(s) {
            Ok(Category(s.to_owned()))
        } else {
            Err(ValueError::InvalidCategory(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The syntax shared by categories and topic keys.
pub(crate) fn is_key(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    s.len() <= Category::MAX_LEN
        && (first.is_ascii_lowercase() || first.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c))
}

impl TryFrom<String> for Category {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if is_key(&s) {
            Ok(Category(s))
        } else {
            Err(ValueError::InvalidCategory(s))
        }
    }
}

impl From<Category> for String {
    fn from(c: Category) -> String {
        c.0
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Category {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::parse(s)
    }
}

/// A value of this module that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("unknown channel {0:?}; expected one of email, sms, push, webhook, in_app")]
    UnknownChannel(String),
    #[error("unknown priority {0:?}; expected one of low, normal, high, critical")]
    UnknownPriority(String),
    #[error("{0:?} is not a valid category or topic key: 1 to 64 characters of a-z, 0-9, '_', '-' and '.', starting with a letter or digit")]
    InvalidCategory(String),
}

impl ValueError {
    pub fn code(&self) -> &'static str {
        match self {
            ValueError::UnknownChannel(_) => "unknown_channel",
            ValueError::UnknownPriority(_) => "unknown_priority",
            ValueError::InvalidCategory(_) => "invalid_category",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_round_trip_through_text_and_json() {
        for channel in Channel::ALL {
            assert_eq!(channel.as_str().parse::<Channel>(), Ok(channel));
            let json = serde_json::to_string(&channel).unwrap();
            assert_eq!(json, format!("\"{}\"", channel.as_str()));
            assert_eq!(serde_json::from_str::<Channel>(&json).unwrap(), channel);
        }
        let err = "fax".parse::<Channel>().unwrap_err();
        assert_eq!(err.code(), "unknown_channel");
        assert!(serde_json::from_str::<Channel>("\"InApp\"").is_err());
    }

    #[test]
    fn priorities_are_ordered_and_round_trip() {
        assert!(Priority::Low < Priority::Normal);
        assert!(Priority::Normal < Priority::High);
        assert!(Priority::High < Priority::Critical);
        assert_eq!(Priority::default(), Priority::Normal);
        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>(), Ok(p));
        }
        assert_eq!(
            "urgent".parse::<Priority>().unwrap_err().code(),
            "unknown_priority"
        );
    }

    #[test]
    fn category_syntax() {
        for ok in [
            "marketing",
            "product_updates",
            "a",
            "2fa",
            "news.weekly",
            "x-y",
        ] {
            assert_eq!(Category::parse(ok).unwrap().as_str(), ok);
        }
        let too_long = "a".repeat(65);
        for bad in [
            "",
            "Marketing",
            "_x",
            "-x",
            ".x",
            "a b",
            "é",
            too_long.as_str(),
        ] {
            let err = Category::parse(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_category", "{bad:?}");
        }
        assert!(Category::parse(&"a".repeat(64)).is_ok());
        assert!(serde_json::from_str::<Category>("\"Bad Category\"").is_err());
        let c: Category = serde_json::from_str("\"marketing\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"marketing\"");
    }
}
