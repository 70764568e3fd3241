//! The in-app inbox user hash: the customer's backend proves to Herald which person a browser
//! or app speaks for, as Intercom's identity verification and Novu's subscriber hash do.
//!
//! `hash = lowercase hex of HMAC-SHA256(key = inbox secret, message = identifier)`, the
//! identifier's UTF-8 bytes exactly as sent (no trimming, no case folding). In a shell:
//! `printf '%s' "$USER_ID" | openssl dgst -sha256 -hmac "$INBOX_SECRET"`.

use hmac::Mac;

use super::{Key, TokenError};

/// The hash the customer's backend gives its client for `identifier`.
pub fn inbox_user_hash(key: &Key, identifier: &str) -> String {
    let mut mac = key.mac();
    mac.update(identifier.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `hash` (hex, either case) is the inbox hash of `identifier`.
pub fn verify_inbox_user_hash(key: &Key, identifier: &str, hash: &str) -> Result<(), TokenError> {
    if hash.len() != 64 {
        return Err(TokenError::Invalid);
    }
    let tag = hex::decode(hash).map_err(|_| TokenError::Invalid)?;
    let mut mac = key.mac();
    mac.update(identifier.as_bytes());
    mac.verify_slice(&tag).map_err(|_| TokenError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed outside Herald, with
    /// `printf '%s' 'user_42' | openssl dgst -sha256 -hmac 'inbox-secret-0123456789'`.
    const OPENSSL: &str = "92cd5f3fffea002afa26851f26a4880b8461f65eabde73638c889292d5b17235";

    #[test]
    fn matches_openssl() {
        let key = Key::new(*b"inbox-secret-0123456789").unwrap();
        assert_eq!(inbox_user_hash(&key, "user_42"), OPENSSL);
        assert_eq!(verify_inbox_user_hash(&key, "user_42", OPENSSL), Ok(()));
        assert_eq!(
            verify_inbox_user_hash(&key, "user_42", &OPENSSL.to_uppercase()),
            Ok(())
        );
    }

    #[test]
    fn another_person_or_a_bad_hash_is_refused() {
        let key = Key::new(*b"inbox-secret-0123456789").unwrap();
        let hash = inbox_user_hash(&key, "user_42");
        for (id, h) in [
            ("user_43", hash.as_str()),
            ("user_42 ", hash.as_str()),
            ("User_42", hash.as_str()),
            ("user_42", &hash[..63]),
            ("user_42", ""),
            ("user_42", &"zz".repeat(32)),
        ] {
            assert_eq!(
                verify_inbox_user_hash(&key, id, h),
                Err(TokenError::Invalid),
                "{id:?} {h:?}"
            );
        }
    }
}
