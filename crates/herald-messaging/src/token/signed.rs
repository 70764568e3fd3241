//! Signed tokens for links in messages: the preference page and RFC 8058 one-click
//! unsubscribe. No login: whoever holds the link acts for the person it was made for, until it
//! expires.
//!
//! A token is `<payload>.<mac>`, both base64url without padding. The payload (signed, not
//! encrypted: the address in it is readable) is:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version, 1 |
//! | 1 | purpose: 1 preference page, 2 one-click unsubscribe |
//! | 8 | expiry, Unix seconds, signed big-endian |
//! | 16 | profile id |
//! | 1 | channel: 1 email, 2 sms, 3 push, 4 webhook, 5 in_app |
//! | 1 | topic length `n` (0: the whole channel) |
//! | n | topic key, UTF-8 |
//! | rest | the address the message went to, UTF-8 |
//!
//! and the mac is HMAC-SHA256 over `herald.token.v1`, a zero byte, then the payload. The
//! purpose is signed, so a one-click token does not open a preference page nor the reverse.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::Mac;
use uuid::Uuid;

use super::{Key, TokenError};
use crate::channel::Channel;

const DOMAIN: &[u8] = b"herald.token.v1\0";
const VERSION: u8 = 1;
const MAX_TOPIC: usize = 64;
const MAX_ADDRESS: usize = 320;
/// Longer text is refused before decoding: no valid token comes near it.
const MAX_TOKEN_LEN: usize = 1_024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    PreferencePage,
    OneClickUnsubscribe,
    /// Confirm a double opt-in subscription to the token's topic.
    ConfirmSubscription,
}

impl Purpose {
    fn code(self) -> u8 {
        match self {
            Purpose::PreferencePage => 1,
            Purpose::OneClickUnsubscribe => 2,
            Purpose::ConfirmSubscription => 3,
        }
    }
}

/// What a token says. `expires_at` is kept to the second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub purpose: Purpose,
    pub profile_id: Uuid,
    pub channel: Channel,
    /// The topic to unsubscribe from (one-click) or to show first (preference page); `None`
    /// for the whole channel.
    pub topic: Option<String>,
    /// The address the message went to.
    pub address: String,
    pub expires_at: DateTime<Utc>,
}

fn channel_code(channel: Channel) -> u8 {
    match channel {
        Channel::Email => 1,
        Channel::Sms => 2,
        Channel::Push => 3,
        Channel::Webhook => 4,
        Channel::InApp => 5,
    }
}

fn mac(key: &Key, payload: &[u8]) -> hmac::Hmac<sha2::Sha256> {
    let mut mac = key.mac();
    mac.update(DOMAIN);
    mac.update(payload);
    mac
}

/// The token for `claims`.
pub fn issue(key: &Key, claims: &Claims) -> Result<String, TokenError> {
    let topic = claims.topic.as_deref().unwrap_or("");
    if topic.len() > MAX_TOPIC || claims.address.len() > MAX_ADDRESS {
        return Err(TokenError::ClaimsTooLong);
    }
    let mut payload = Vec::with_capacity(28 + topic.len() + claims.address.len());
    payload.push(VERSION);
    payload.push(claims.purpose.code());
    payload.extend_from_slice(&claims.expires_at.timestamp().to_be_bytes());
    payload.extend_from_slice(claims.profile_id.as_bytes());
    payload.push(channel_code(claims.channel));
    payload.push(topic.len() as u8);
    payload.extend_from_slice(topic.as_bytes());
    payload.extend_from_slice(claims.address.as_bytes());
    let tag = mac(key, &payload).finalize().into_bytes();
    Ok(format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(tag)
    ))
}

/// The claims of a token made with `key` for `purpose`, if it has not expired at `now`.
/// Anything else — wrong key, any byte changed, another purpose, not a token — is
/// `token_invalid`; `token_expired` is said only of a genuine token.
pub fn verify(
    key: &Key,
    token: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Invalid);
    }
    let (payload, tag) = token.split_once('.').ok_or(TokenError::Invalid)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Invalid)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| TokenError::Invalid)?;
    mac(key, &payload)
        .verify_slice(&tag)
        .map_err(|_| TokenError::Invalid)?;
    let claims = parse(&payload).ok_or(TokenError::Invalid)?;
    if claims.purpose != purpose {
        return Err(TokenError::Invalid);
    }
    if now >= claims.expires_at {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

fn parse(payload: &[u8]) -> Option<Claims> {
    let (&version, rest) = payload.split_first()?;
    if version != VERSION {
        return None;
    }
    let (&purpose, rest) = rest.split_first()?;
    let purpose = [
        Purpose::PreferencePage,
        Purpose::OneClickUnsubscribe,
        Purpose::ConfirmSubscription,
    ]
    .into_iter()
    .find(|p| p.code() == purpose)?;
    let (expiry, rest) = rest.split_first_chunk::<8>()?;
    let (profile, rest) = rest.split_first_chunk::<16>()?;
    let (&channel, rest) = rest.split_first()?;
    let channel = Channel::ALL
        .into_iter()
        .find(|c| channel_code(*c) == channel)?;
    let (&topic_len, rest) = rest.split_first()?;
    let (topic, address) = rest.split_at_checked(usize::from(topic_len))?;
    let topic = std::str::from_utf8(topic).ok()?;
    Some(Claims {
        purpose,
        profile_id: Uuid::from_bytes(*profile),
        channel,
        topic: (!topic.is_empty()).then(|| topic.to_owned()),
        address: std::str::from_utf8(address).ok()?.to_owned(),
        expires_at: DateTime::from_timestamp(i64::from_be_bytes(*expiry), 0)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::new(*b"an example key of 32 bytes long!").unwrap()
    }

    fn claims(purpose: Purpose) -> Claims {
        Claims {
            purpose,
            profile_id: Uuid::from_u128(0x1234),
            channel: Channel::Email,
            topic: Some("newsletter".into()),
            address: "ana@example.com".into(),
            expires_at: "2025-01-01T00:00:00Z".parse().unwrap(),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn round_trip_and_expiry() {
        let c = claims(Purpose::PreferencePage);
        let token = issue(&key(), &c).unwrap();
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        let now = at("2024-12-31T23:59:59Z");
        assert_eq!(verify(&key(), &token, Purpose::PreferencePage, now), Ok(c));
        let err = verify(
            &key(),
            &token,
            Purpose::PreferencePage,
            at("2025-01-01T00:00:00Z"),
        );
        assert_eq!(err.unwrap_err().code(), "token_expired");
    }

    #[test]
    fn purposes_are_not_interchangeable() {
        let now = at("2024-06-01T00:00:00Z");
        let click = issue(&key(), &claims(Purpose::OneClickUnsubscribe)).unwrap();
        assert_eq!(
            verify(&key(), &click, Purpose::PreferencePage, now),
            Err(TokenError::Invalid)
        );
        assert!(verify(&key(), &click, Purpose::OneClickUnsubscribe, now).is_ok());
        let page = issue(&key(), &claims(Purpose::PreferencePage)).unwrap();
        assert_eq!(
            verify(&key(), &page, Purpose::OneClickUnsubscribe, now),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn other_keys_and_garbage_are_invalid_never_expired() {
        let now = at("2030-01-01T00:00:00Z");
        let token = issue(&key(), &claims(Purpose::PreferencePage)).unwrap();
        let other = Key::new(*b"another key of 32 bytes long!!!!").unwrap();
        assert_eq!(
            verify(&other, &token, Purpose::PreferencePage, now),
            Err(TokenError::Invalid)
        );
        let long = "a".repeat(2_000);
        for bad in ["", ".", "abc", "abc.def", "!!!.???", long.as_str()] {
            assert_eq!(
                verify(&key(), bad, Purpose::PreferencePage, now),
                Err(TokenError::Invalid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn whole_channel_and_limits() {
        let mut c = claims(Purpose::OneClickUnsubscribe);
        c.topic = None;
        c.channel = Channel::Sms;
        c.address = "+14155550100".into();
        let token = issue(&key(), &c).unwrap();
        let now = at("2024-06-01T00:00:00Z");
        assert_eq!(
            verify(&key(), &token, Purpose::OneClickUnsubscribe, now),
            Ok(c.clone())
        );
        c.topic = Some("t".repeat(65));
        assert_eq!(
            issue(&key(), &c).unwrap_err().code(),
            "token_claims_too_long"
        );
        c.topic = None;
        c.address = "a".repeat(321);
        assert_eq!(issue(&key(), &c), Err(TokenError::ClaimsTooLong));
    }
}
