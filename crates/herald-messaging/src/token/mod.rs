//! HMAC-SHA256 signatures: preference-page and one-click unsubscribe tokens, the in-app inbox
//! user hash, webhook signatures, and click-tracking links. Keys are passed in, and so is the
//! time; every check compares in constant time (the `hmac` crate's `verify_slice`).
//!
//! Tokens and click links sign a domain label (`herald.token.v1`, `herald.click.v1`) before
//! their data, so one key can serve both without a signature of one kind being valid as the
//! other. The inbox hash and the webhook signature sign exactly what their receivers compute
//! (the identifier; `t.body`), with keys of their own that are shared with those receivers.

mod click;
mod inbox;
mod signed;
mod webhook;

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use click::{click_signature, open_signature, verify_click, verify_open};
pub use inbox::{inbox_user_hash, verify_inbox_user_hash};
pub use signed::{issue, verify, Claims, Purpose};
pub use webhook::{sign_webhook, verify_webhook, WEBHOOK_SIGNATURE_HEADER};

type HmacSha256 = Hmac<Sha256>;

/// A secret key. At least [`Key::MIN_LEN`] bytes; its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(Vec<u8>);

impl Key {
    pub const MIN_LEN: usize = 16;

    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Key, TokenError> {
        let bytes = bytes.into();
        if bytes.len() < Self::MIN_LEN {
            return Err(TokenError::KeyTooShort);
        }
        Ok(Key(bytes))
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the key must be at least 16 bytes")]
    KeyTooShort,
    #[error("the token, hash or link signature is not valid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error(
        "the token's claims are too long: a topic of at most 64 bytes, an address of at most 320"
    )]
    ClaimsTooLong,
    #[error("the signature header must be t=<unix seconds>,v1=<64 hex digits>")]
    SignatureMalformed,
    #[error("no v1 signature matches the body")]
    SignatureMismatch,
    #[error("the signature's timestamp is outside the tolerance")]
    SignatureExpired,
}

impl TokenError {
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::KeyTooShort => "key_too_short",
            TokenError::Invalid => "token_invalid",
            TokenError::Expired => "token_expired",
            TokenError::ClaimsTooLong => "token_claims_too_long",
            TokenError::SignatureMalformed => "signature_malformed",
            TokenError::SignatureMismatch => "signature_mismatch",
            TokenError::SignatureExpired => "signature_expired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(Key::new(vec![0; 15]).unwrap_err().code(), "key_too_short");
        let key = Key::new(*b"0123456789abcdef").unwrap();
        assert_eq!(format!("{key:?}"), "Key(***)");
    }

    /// RFC 4231 test case 2 (a short key, so through the mac directly): the HMAC underneath
    /// is HMAC-SHA256.
    #[test]
    fn hmac_sha256_is_rfc_4231() {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
