//! The links a message carries to act for its recipient without a login: RFC 8058 one-click
//! unsubscribe and the preference page (herald_messaging::token). Signed with the cluster's
//! shared `links` secret (generated once, kept in the store), so a link made by one node is
//! honoured by every other, and after a restart.

use chrono::{DateTime, Duration, Utc};
use herald_messaging::message::MessageId;
use herald_messaging::token::{self, Claims, Key, Purpose, TokenError};
use herald_messaging::Channel;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use uuid::Uuid;

/// What a tracked link's target keeps unescaped in its query parameter: RFC 3986's unreserved.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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

    /// The confirmation of a double opt-in subscription to the target's topic: GET asks,
    /// POST confirms.
    pub fn confirm_url(&self, target: &LinkTarget<'_>, now: DateTime<Utc>) -> Option<String> {
        self.token(Purpose::ConfirmSubscription, target, now)
            .map(|t| format!("{}/confirm/{t}", self.base))
    }

    /// The person's preference page for the channel.
    pub fn preferences_url(&self, target: &LinkTarget<'_>, now: DateTime<Utc>) -> Option<String> {
        self.token(Purpose::PreferencePage, target, now)
            .map(|t| format!("{}/preferences/{t}", self.base))
    }

    /// The signed redirect to `target` for a link in message `message`:
    /// `<base>/t/c/<message id>/<signature>?u=<target>`.
    pub fn click_url(&self, message: MessageId, target: &str) -> String {
        format!(
            "{}/t/c/{}/{}?u={}",
            self.base,
            message.0,
            token::click_signature(&self.key, message, target),
            utf8_percent_encode(target, QUERY_VALUE)
        )
    }

    /// The open-tracking pixel of message `message`: `<base>/t/o/<message id>/<signature>`.
    pub fn open_url(&self, message: MessageId) -> String {
        format!(
            "{}/t/o/{}/{}",
            self.base,
            message.0,
            token::open_signature(&self.key, message)
        )
    }

    /// Whether `url` points at this Herald (its own links are never wrapped in a redirect).
    pub fn is_own(&self, url: &str) -> bool {
        url.strip_prefix(&self.base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    pub fn verify_click(
        &self,
        message: MessageId,
        target: &str,
        signature: &str,
    ) -> Result<(), TokenError> {
        token::verify_click(&self.key, message, target, signature)
    }

    pub fn verify_open(&self, message: MessageId, signature: &str) -> Result<(), TokenError> {
        token::verify_open(&self.key, message, signature)
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
        // Tracking links: a click URL carries its target, signed for the message.
        let m = MessageId(Uuid::from_u128(5));
        let dest = "https://shop.example.com/a b?x=1&y=é";
        let click = links.click_url(m, dest);
        let (path, query) = click.split_once('?').unwrap();
        assert_eq!(
            query,
            "u=https%3A%2F%2Fshop.example.com%2Fa%20b%3Fx%3D1%26y%3D%C3%A9"
        );
        let signature = path.rsplit('/').next().unwrap();
        assert_eq!(links.verify_click(m, dest, signature), Ok(()));
        assert!(links
            .verify_click(m, "https://evil.example.com/", signature)
            .is_err());
        let open = links.open_url(m);
        let signature = open.rsplit('/').next().unwrap();
        assert_eq!(links.verify_open(m, signature), Ok(()));
        assert!(links.is_own(&open) && links.is_own("https://h.example.com"));
        assert!(!links.is_own("https://h.example.com.evil.example/") && !links.is_own(dest));
        // A profile id that is not a UUID makes no link.
        let bad = LinkTarget {
            profile_id: "nope",
            ..target
        };
        assert_eq!(links.preferences_url(&bad, now), None);
    }
}
