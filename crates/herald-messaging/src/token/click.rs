//! Signed click-tracking links. A link in a message points at Herald with the message id, the
//! target URL and a signature of both; the redirect goes only where a signature says, so the
//! tracking endpoint is never an open redirect.
//!
//! `signature = base64url (no padding) of the first 16 bytes of HMAC-SHA256 over
//! "herald.click.v1", a zero byte, the message id's 16 bytes and the URL's UTF-8 bytes`:
//! 22 characters, as short as a link in an SMS wants, and 128 bits to guess.
//!
//! The open-tracking pixel of a message is signed the same way over "herald.open.v1", a zero
//! byte and the message id alone, so a pixel cannot be made for a message Herald did not send,
//! and a click signature is never a pixel's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;

use super::{Key, TokenError};
use crate::message::MessageId;

const CLICK: &[u8] = b"herald.click.v1\0";
const OPEN: &[u8] = b"herald.open.v1\0";
const TAG_LEN: usize = 16;

fn mac(key: &Key, domain: &[u8], message: MessageId, url: &str) -> hmac::Hmac<sha2::Sha256> {
    let mut mac = key.mac();
    mac.update(domain);
    mac.update(message.0.as_bytes());
    mac.update(url.as_bytes());
    mac
}

fn sign(key: &Key, domain: &[u8], message: MessageId, url: &str) -> String {
    let tag = mac(key, domain, message, url).finalize().into_bytes();
    URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN])
}

fn verify(
    key: &Key,
    domain: &[u8],
    message: MessageId,
    url: &str,
    signature: &str,
) -> Result<(), TokenError> {
    if signature.len() != 22 {
        return Err(TokenError::Invalid);
    }
    let tag = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Invalid)?;
    mac(key, domain, message, url)
        .verify_truncated_left(&tag)
        .map_err(|_| TokenError::Invalid)
}

pub fn click_signature(key: &Key, message: MessageId, url: &str) -> String {
    sign(key, CLICK, message, url)
}

/// Whether `signature` was made for this message and exactly this URL.
pub fn verify_click(
    key: &Key,
    message: MessageId,
    url: &str,
    signature: &str,
) -> Result<(), TokenError> {
    verify(key, CLICK, message, url, signature)
}

pub fn open_signature(key: &Key, message: MessageId) -> String {
    sign(key, OPEN, message, "")
}

/// Whether `signature` is the open pixel's of this message.
pub fn verify_open(key: &Key, message: MessageId, signature: &str) -> Result<(), TokenError> {
    verify(key, OPEN, message, "", signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn an_open_signature_is_for_its_message_and_never_a_click() {
        let key = Key::new(*b"click key 0123456789").unwrap();
        let m = MessageId(Uuid::from_u128(9));
        let sig = open_signature(&key, m);
        assert_eq!(verify_open(&key, m, &sig), Ok(()));
        assert_eq!(
            verify_open(&key, MessageId(Uuid::from_u128(10)), &sig),
            Err(TokenError::Invalid)
        );
        assert_eq!(verify_click(&key, m, "", &sig), Err(TokenError::Invalid));
        let click = click_signature(&key, m, "");
        assert_eq!(verify_open(&key, m, &click), Err(TokenError::Invalid));
    }

    #[test]
    fn only_the_signed_url_of_the_signed_message() {
        let key = Key::new(*b"click key 0123456789").unwrap();
        let m = MessageId(Uuid::from_u128(9));
        let url = "https://shop.example.com/sale?utm_source=herald";
        let sig = click_signature(&key, m, url);
        assert_eq!(sig.len(), 22);
        assert_eq!(verify_click(&key, m, url, &sig), Ok(()));
        let other_key = Key::new(*b"other key 0123456789").unwrap();
        for (k, msg, u, s) in [
            (&key, m, "https://evil.example.com/", sig.as_str()),
            (
                &key,
                m,
                "https://shop.example.com/sale?utm_source=herald&x",
                sig.as_str(),
            ),
            (&key, MessageId(Uuid::from_u128(10)), url, sig.as_str()),
            (&other_key, m, url, sig.as_str()),
            (&key, m, url, ""),
            (&key, m, url, &sig[..21]),
            (&key, m, url, "!!!!!!!!!!!!!!!!!!!!!!"),
        ] {
            assert_eq!(
                verify_click(k, msg, u, s),
                Err(TokenError::Invalid),
                "{u} {s}"
            );
        }
    }
}
