//! The links a message carries to act for its recipient without a login: RFC 8058 one-click
//! unsubscribe and the preference page (herald_messaging::token). Signed with the cluster's
//! shared `links` secret (generated once, kept in the store), so a link made by one node is
//! honoured by every other, and after a restart.

use chrono::{DateTime, Duration, Utc};
use herald_messaging::token::{self, Claims, Key, Purpose, TokenError};
use herald_messaging::Channel;
use uuid::Uuid;

/// How long a link in a message keeps working: a year (CAN-SPAM asks for 30 days; people
/// unsubscribe from old mail).
pub const LINK_TTL_DAYS: i64 = 365;

/// The name of the signing secret in the store (herald_storage::preferences).
pub const SECRET_NAME: &str = "links";

pub struct Links {
    key: Key,
    /// `scheme://host[:port][/prefix]`, no trailing slash.
    base: String,
}

/// What a link is for: one person's address on one channel, and the topic the message was on.
#[derive(Debug, Clone)]
pub struct LinkTarget<'a> {
    pub profile_id: &'a str,
    pub channel: Channel,
    pub topic: Option<&'a str>,
    pub address: &'a str,
}

impl Links {
    /// Links under `base` (the public URL), signed with `secret`.
    pub fn new(secret: &str, base: &str) -> Result<Links, TokenError> {
        Ok(Links {
            key: Key::new(secret.as_bytes())?,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// A fresh random secret, for the first node that starts.
    pub fn generate_secret() -> String {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random number generator");
        hex::encode(bytes)
    }

    pub fn token(
        &self,
        purpose: Purpose,
        target: &LinkTarget<'_>,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let claims = Claims {
            purpose,
            profile_id: Uuid::parse_str(target.profile_id).ok()?,
            channel: target.channel,
            topic: target.topic.map(str::to_owned),
            address: target.address.to_owned(),
            expires_at: now + Duration::days(LINK_TTL_DAYS),
        };
        token::issue(&self.key, &claims).ok()
    }

    /// The RFC 8058 `List-Unsubscribe` URL: POST unsubscribes, GET asks first.
    pub fn unsubscribe_url(&self, target: &LinkTarget<'_>, now: DateTime<Utc>) -> Option<String> {
        self.token(Purpose::OneClickUnsubscribe, target, now)
            .map(|t| format!("{}/unsubscribe/{t}", self.base))
    }

    /// The person's preference page for the channel.
    pub fn preferences_url(&self, target: &LinkTarget<'_>, now: DateTime<Utc>) -> Option<String> {
        self.token(Purpose::PreferencePage, target, now)
            .map(|t| format!("{}/preferences/{t}", self.base))
    }

    pub fn verify(
        &self,
        token: &str,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<Claims, TokenError> {
        token::verify(&self.key, token, purpose, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn links_verify_for_their_purpose_only() {
        let links = Links::new(&Links::generate_secret(), "https://h.example.com/").unwrap();
        let now = Utc.timestamp_opt(1_767_225_600, 0).unwrap();
        let target = LinkTarget {
            profile_id: "0b6f7c3e-8f1e-4b7a-9d2c-1f2e3d4c5b6a",
            channel: Channel::Email,
            topic: Some("newsletter"),
            address: "ada@example.com",
        };
        let url = links.unsubscribe_url(&target, now).unwrap();
        let token = url
            .strip_prefix("https://h.example.com/unsubscribe/")
            .unwrap();
        let claims = links
            .verify(token, Purpose::OneClickUnsubscribe, now)
            .unwrap();
        assert_eq!(claims.topic.as_deref(), Some("newsletter"));
        assert_eq!(claims.address, "ada@example.com");
        assert_eq!(
            links.verify(token, Purpose::PreferencePage, now),
            Err(TokenError::Invalid)
        );
        let later = now + Duration::days(LINK_TTL_DAYS + 1);
        assert_eq!(
            links.verify(token, Purpose::OneClickUnsubscribe, later),
            Err(TokenError::Expired)
        );
        // Another secret does not honour it.
        let other = Links::new(&Links::generate_secret(), "https://h.example.com").unwrap();
        assert_eq!(
            other.verify(token, Purpose::OneClickUnsubscribe, now),
            Err(TokenError::Invalid)
        );
        // A profile id that is not a UUID makes no link.
        let bad = LinkTarget {
            profile_id: "nope",
            ..target
        };
        assert_eq!(links.preferences_url(&bad, now), None);
    }
}
