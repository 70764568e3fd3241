//! The governor policy: frequency caps, quiet hours, what happens to capped messages. Stored
//! as JSON (docs/messaging.md has the format); [`Policy::from_json`] parses and validates.

use std::fmt;
use std::str::FromStr;

use chrono::{Duration, NaiveTime, Timelike};
use chrono_tz::Tz;
use serde::de;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::channel::{Category, Channel};

pub use super::window::Window;

/// At most this many caps in a policy.
pub const MAX_CAPS: usize = 32;
/// A cap's window is at most this many days.
pub const MAX_WINDOW_DAYS: u64 = 366;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The IANA time zone of quiet hours for people whose own time zone is missing or unknown.
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caps: Vec<Cap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
    /// What happens to a message that does not fit under a cap, and to a reserved message that
    /// a higher-priority one displaces.
    #[serde(default)]
    pub on_capped: CappedAction,
}

fn utc() -> String {
    "UTC".to_owned()
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            timezone: utc(),
            caps: Vec::new(),
            quiet_hours: None,
            on_capped: CappedAction::default(),
        }
    }
}

/// At most `max` non-transactional messages to one person in any sliding `window`, counting
/// the messages whose channel and category match (an absent one matches all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cap {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    pub max: u32,
    pub window: Window,
}

impl Cap {
    /// Whether a message of this channel and category counts toward the cap.
    pub fn matches(&self, channel: Channel, category: &Category) -> bool {
        self.channel.is_none_or(|c| c == channel)
            && self.category.as_ref().is_none_or(|c| c == category)
    }
}

/// Quiet hours, `start` to `end` in the person's local time (`end` before `start` spans
/// midnight), for the listed channels (all when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub start: ClockTime,
    pub end: ClockTime,
    #[serde(default)]
    pub action: QuietAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<Channel>>,
}

impl QuietHours {
    pub fn applies_to(&self, channel: Channel) -> bool {
        self.channels
            .as_ref()
            .is_none_or(|cs| cs.contains(&channel))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuietAction {
    /// Wait for the end of quiet hours.
    #[default]
    Defer,
    Drop,
}

/// Dropping is the default: a backlog of deferred marketing messages landing at once is
/// rarely what anyone wants, and a message that waits should be a decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CappedAction {
    #[default]
    Drop,
    /// Wait until the message fits (and is outside quiet hours).
    Defer,
}

/// A local time of day, `HH:MM` (00:00 to 23:59).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(NaiveTime);

impl ClockTime {
    pub fn new(hour: u32, minute: u32) -> Option<ClockTime> {
        NaiveTime::from_hms_opt(hour, minute, 0).map(ClockTime)
    }

    pub fn time(self) -> NaiveTime {
        self.0
    }
}

impl FromStr for ClockTime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("time {s:?} must be HH:MM between 00:00 and 23:59");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return Err(bad());
        }
        let hour = h.parse().map_err(|_| bad())?;
        let minute = m.parse().map_err(|_| bad())?;
        ClockTime::new(hour, minute).ok_or_else(bad)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

/// Why a policy is refused. Caps are numbered from 0 in the order of the `caps` array.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy is not valid JSON of the expected shape: {0}")]
    Malformed(String),
    #[error("at most {MAX_CAPS} caps")]
    TooManyCaps,
    #[error("cap {index}: max must be at least 1 (to stop a category on a channel, use a subscription topic)")]
    CapMaxZero { index: usize },
    #[error("cap {index}: the window is at most {MAX_WINDOW_DAYS} days")]
    CapWindowTooLong { index: usize },
    #[error("caps {first} and {index} count the same channel and category over the same window")]
    CapDuplicate { first: usize, index: usize },
    #[error("quiet hours start and end at the same time ({0}); remove them instead")]
    QuietHoursEmpty(ClockTime),
    #[error("quiet hours name no channel; list at least one, or leave channels out for all")]
    QuietHoursNoChannel,
    #[error("unknown time zone {0:?}; expected an IANA name such as Europe/Berlin")]
    UnknownTimezone(String),
}

impl PolicyError {
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Malformed(_) => "policy_malformed",
            PolicyError::TooManyCaps => "too_many_caps",
            PolicyError::CapMaxZero { .. } => "cap_max_zero",
            PolicyError::CapWindowTooLong { .. } => "cap_window_too_long",
            PolicyError::CapDuplicate { .. } => "cap_duplicate",
            PolicyError::QuietHoursEmpty(_) => "quiet_hours_empty",
            PolicyError::QuietHoursNoChannel => "quiet_hours_no_channel",
            PolicyError::UnknownTimezone(_) => "unknown_timezone",
        }
    }
}

impl Policy {
    pub fn from_json(json: &str) -> Result<Policy, PolicyError> {
        let policy: Policy =
            serde_json::from_str(json).map_err(|e| PolicyError::Malformed(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// The first problem of the policy, in the order of its fields.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.timezone.parse::<Tz>().is_err() {
            return Err(PolicyError::UnknownTimezone(self.timezone.clone()));
        }
        if self.caps.len() > MAX_CAPS {
            return Err(PolicyError::TooManyCaps);
        }
        for (index, cap) in self.caps.iter().enumerate() {
            if cap.max == 0 {
                return Err(PolicyError::CapMaxZero { index });
            }
            if cap.window.secs() > MAX_WINDOW_DAYS * 86_400 {
                return Err(PolicyError::CapWindowTooLong { index });
            }
            let same = |c: &Cap| {
                c.channel == cap.channel && c.category == cap.category && c.window == cap.window
            };
            if let Some(first) = self.caps[..index].iter().position(same) {
                return Err(PolicyError::CapDuplicate { first, index });
            }
        }
        if let Some(quiet) = &self.quiet_hours {
            if quiet.start == quiet.end {
                return Err(PolicyError::QuietHoursEmpty(quiet.start));
            }
            if quiet.channels.as_ref().is_some_and(Vec::is_empty) {
                return Err(PolicyError::QuietHoursNoChannel);
            }
        }
        Ok(())
    }

    /// How far back the ledger must reach: the longest cap window. Older entries never count.
    pub fn horizon(&self) -> Duration {
        self.caps
            .iter()
            .map(|c| c.window.duration())
            .max()
            .unwrap_or_else(Duration::zero)
    }

    /// The policy's time zone (UTC when it does not parse: an unvalidated policy).
    pub fn tz(&self) -> Tz {
        self.timezone.parse().unwrap_or(Tz::UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times() {
        let t: ClockTime = "21:00".parse().unwrap();
        assert_eq!(t.to_string(), "21:00");
        assert_eq!(
            "08:05".parse::<ClockTime>().unwrap(),
            ClockTime::new(8, 5).unwrap()
        );
        for bad in ["24:00", "8:00", "08:60", "0800", "08:00:00", "ab:cd", ""] {
            assert!(bad.parse::<ClockTime>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_documented_example_parses() {
        let policy = Policy::from_json(
            r#"{
                "timezone": "Europe/Berlin",
                "caps": [
                    {"channel": "email", "category": "marketing", "max": 2, "window": "1d"},
                    {"channel": "email", "category": "marketing", "max": 5, "window": "7d"},
                    {"max": 10, "window": "1d"}
                ],
                "quiet_hours": {"start": "21:00", "end": "08:00", "action": "defer", "channels": ["sms", "push"]},
                "on_capped": "defer"
            }"#,
        )
        .unwrap();
        assert_eq!(policy.caps.len(), 3);
        assert_eq!(policy.horizon(), Duration::days(7));
        assert_eq!(policy.tz(), chrono_tz::Europe::Berlin);
        let quiet = policy.quiet_hours.as_ref().unwrap();
        assert!(quiet.applies_to(Channel::Sms) && !quiet.applies_to(Channel::Email));
        let back: Policy = serde_json::from_value(serde_json::to_value(&policy).unwrap()).unwrap();
        assert_eq!(back, policy);
        let empty = Policy::from_json("{}").unwrap();
        assert_eq!(empty, Policy::default());
        assert_eq!(empty.on_capped, CappedAction::Drop);
        assert_eq!(empty.horizon(), Duration::zero());
    }

    #[test]
    fn invalid_policies_have_codes() {
        let cases = [
            (r#"{"caps": [{"max": 0, "window": "1d"}]}"#, "cap_max_zero"),
            (
                r#"{"caps": [{"max": 1, "window": "367d"}]}"#,
                "cap_window_too_long",
            ),
            (
                r#"{"caps": [{"max": 1, "window": "1d"}, {"max": 3, "window": "24h"}]}"#,
                "cap_duplicate",
            ),
            (
                r#"{"quiet_hours": {"start": "21:00", "end": "21:00"}}"#,
                "quiet_hours_empty",
            ),
            (
                r#"{"quiet_hours": {"start": "21:00", "end": "08:00", "channels": []}}"#,
                "quiet_hours_no_channel",
            ),
            (r#"{"timezone": "Mars/Olympus"}"#, "unknown_timezone"),
            (
                r#"{"caps": [{"max": 1, "window": "1y"}]}"#,
                "policy_malformed",
            ),
            (
                r#"{"caps": [{"max": 1, "window": "1d", "channel": "fax"}]}"#,
                "policy_malformed",
            ),
            (
                r#"{"caps": [{"max": 1, "window": "1d", "category": "Bad"}]}"#,
                "policy_malformed",
            ),
            (
                r#"{"quiet_hours": {"start": "25:00", "end": "08:00"}}"#,
                "policy_malformed",
            ),
            (r#"{"on_capped": "explode"}"#, "policy_malformed"),
            (r#"{"caps": [], "extra": 1}"#, "policy_malformed"),
            ("[", "policy_malformed"),
        ];
        for (json, code) in cases {
            let err = Policy::from_json(json).unwrap_err();
            assert_eq!(err.code(), code, "{json}: {err}");
        }
        let too_many: Vec<String> = (1..=MAX_CAPS + 1)
            .map(|i| format!(r#"{{"max": 1, "window": {i}}}"#))
            .collect();
        let json = format!(r#"{{"caps": [{}]}}"#, too_many.join(","));
        assert_eq!(
            Policy::from_json(&json).unwrap_err().code(),
            "too_many_caps"
        );
        // Different filters over the same window are not duplicates.
        Policy::from_json(
            r#"{"caps": [{"max": 1, "window": "1d"}, {"channel": "sms", "max": 1, "window": "1d"}]}"#,
        )
        .unwrap();
    }
}
