//! Webhook signatures, in Stripe's scheme: the header
//! `Herald-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
//!
//! A receiver recomputes the HMAC of the timestamp, a dot and the raw body with the
//! endpoint's secret, compares it in constant time with any `v1` of the header (several
//! `v1` are allowed while a secret is rotated; other schemes are ignored), and refuses a
//! timestamp further than its tolerance from its clock (replays). Herald verifies provider
//! webhooks signed this way with [`verify_webhook`] too.

use chrono::{DateTime, Duration, Utc};
use hmac::Mac;

use super::{Key, TokenError};

pub const WEBHOOK_SIGNATURE_HEADER: &str = "Herald-Signature";
/// A longer header is refused before it is parsed.
const MAX_HEADER_LEN: usize = 4_096;

fn mac(key: &Key, timestamp: i64, body: &[u8]) -> hmac::Hmac<sha2::Sha256> {
    let mut mac = key.mac();
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` sent at `at` (to the second).
pub fn sign_webhook(key: &Key, at: DateTime<Utc>, body: &[u8]) -> String {
    let t = at.timestamp();
    let tag = mac(key, t, body).finalize().into_bytes();
    format!("t={t},v1={}", hex::encode(tag))
}

/// Checks a signature header against the raw `body`: a `v1` must match (else
/// `signature_mismatch`), then its timestamp must be within `tolerance` of `now`, either way
/// (else `signature_expired`). Returns the signed timestamp.
pub fn verify_webhook(
    key: &Key,
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<DateTime<Utc>, TokenError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(TokenError::SignatureMalformed);
    }
    let mut timestamp: Option<i64> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or(TokenError::SignatureMalformed)?;
        match name {
            "t" => {
                let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
                let t = value.parse().ok().filter(|_| digits);
                if timestamp.is_some() || t.is_none() {
                    return Err(TokenError::SignatureMalformed);
                }
                timestamp = t;
            }
            "v1" => {
                let tag = hex::decode(value).map_err(|_| TokenError::SignatureMalformed)?;
                if tag.len() != 32 {
                    return Err(TokenError::SignatureMalformed);
                }
                signatures.push(tag);
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(TokenError::SignatureMalformed)?;
    if signatures.is_empty() {
        return Err(TokenError::SignatureMalformed);
    }
    let expected = mac(key, timestamp, body);
    if !signatures
        .iter()
        .any(|tag| expected.clone().verify_slice(tag).is_ok())
    {
        return Err(TokenError::SignatureMismatch);
    }
    let at = DateTime::from_timestamp(timestamp, 0).ok_or(TokenError::SignatureExpired)?;
    if (now - at).abs() > tolerance {
        return Err(TokenError::SignatureExpired);
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"event":"Message Sent"}"#;
    /// `printf '%s' '1700000000.{"event":"Message Sent"}' | openssl dgst -sha256 -hmac 'webhook-secret-0123456789'`
    const OPENSSL: &str = "9d50437a593e1e7bb79d485c00a5d3855d19235f88e575effb9dfcdcfe6216df";

    fn key() -> Key {
        Key::new(*b"webhook-secret-0123456789").unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn matches_openssl() {
        let header = sign_webhook(&key(), at(1_700_000_000), BODY);
        assert_eq!(header, format!("t=1700000000,v1={OPENSSL}"));
        let five_min = Duration::minutes(5);
        assert_eq!(
            verify_webhook(&key(), &header, BODY, at(1_700_000_100), five_min),
            Ok(at(1_700_000_000))
        );
    }

    #[test]
    fn tolerance_both_ways() {
        let header = sign_webhook(&key(), at(1_700_000_000), BODY);
        let tol = Duration::seconds(300);
        for (now, ok) in [
            (1_700_000_300, true),
            (1_699_999_700, true),
            (1_700_000_301, false),
            (1_699_999_699, false),
        ] {
            let got = verify_webhook(&key(), &header, BODY, at(now), tol);
            assert_eq!(got.is_ok(), ok, "{now}");
            if !ok {
                assert_eq!(got.unwrap_err().code(), "signature_expired");
            }
        }
    }

    #[test]
    fn rotation_and_unknown_schemes() {
        let old = Key::new(*b"the old secret 0123456789").unwrap();
        let t = at(1_700_000_000);
        let new_sig = sign_webhook(&key(), t, BODY);
        let old_sig = sign_webhook(&old, t, BODY);
        let v1_old = old_sig.split_once(",v1=").unwrap().1;
        let both = format!("{new_sig}, v1={v1_old}, v0=deadbeef");
        let tol = Duration::minutes(5);
        assert!(verify_webhook(&key(), &both, BODY, t, tol).is_ok());
        assert!(verify_webhook(&old, &both, BODY, t, tol).is_ok());
    }

    #[test]
    fn refusals() {
        let t = at(1_700_000_000);
        let tol = Duration::minutes(5);
        let header = sign_webhook(&key(), t, BODY);
        assert_eq!(
            verify_webhook(&key(), &header, b"{\"event\":\"Message Sent\"} ", t, tol),
            Err(TokenError::SignatureMismatch)
        );
        let moved = header.replace("t=1700000000", "t=1700000001");
        assert_eq!(
            verify_webhook(&key(), &moved, BODY, t, tol),
            Err(TokenError::SignatureMismatch)
        );
        let sig = header.split_once(",v1=").unwrap().1;
        let long = "v1=00,".repeat(1_000);
        for bad in [
            "",
            "t=1700000000",
            &format!("v1={sig}"),
            &format!("t=abc,v1={sig}"),
            &format!("t=-5,v1={sig}"),
            &format!("t=+1700000000,v1={sig}"),
            &format!("t=1,t=2,v1={sig}"),
            "t=1700000000,v1=zz",
            "t=1700000000,v1=00ff",
            &format!("t=1700000000;v1={sig}"),
            long.as_str(),
        ] {
            assert_eq!(
                verify_webhook(&key(), bad, BODY, t, tol),
                Err(TokenError::SignatureMalformed),
                "{bad:?}"
            );
        }
    }
}
