//! Passwords: argon2id hashes (the `argon2` crate's defaults, OWASP's recommended
//! m = 19 MiB, t = 2, p = 1), computed on a blocking thread; checks that take the same time
//! whether the user exists or not; generated passwords.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::StatusCode;
use base64::Engine;

use crate::error::ApiError;

/// Passwords shorter than this (in characters) are refused: 422 `weak_password`.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Passwords longer than this (in bytes) are refused: 422 `password_too_long` (hashing
/// megabytes would be a cheap way to keep the server busy).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Refuse a password too short or too long to be set.
pub fn validate_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::Rejected(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            format!("a password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::Rejected(
            StatusCode::UNPROCESSABLE_ENTITY,
            "password_too_long",
            format!("a password has at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// The argon2id hash of a password, in PHC string form (salt and parameters included).
pub fn hash_password_blocking(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes(16)).expect("16 bytes are a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password up to its (4 GiB) limit")
        .to_string()
}

/// [`hash_password_blocking`] on a blocking thread.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Whether `password` matches `hash`. Without a hash (no such user) a dummy hash is checked
/// instead, so the answer takes as long either way and does not tell which emails exist.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let stored = hash.as_deref().unwrap_or_else(|| dummy_hash());
        let ok = PasswordHash::new(stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && hash.is_some()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password_blocking(&random_token(16)))
}

/// A new password: 20 characters of URL-safe base64 (120 random bits).
pub fn generate_password() -> String {
    random_token(15)
}

/// `bytes` random bytes from the operating system's CSPRNG, as URL-safe base64 without
/// padding.
pub(crate) fn random_token(bytes: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the operating system's random number generator works");
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_checks_its_password_only() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong horse battery".into(), Some(hash))
            .await
            .unwrap());
        assert!(!verify_password("anything".into(), None).await.unwrap());
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert_eq!(
            validate_password("123456789").unwrap_err().code(),
            "weak_password"
        );
        assert!(validate_password("1234567890").is_ok());
        assert!(
            validate_password("ééééééééééé").is_ok(),
            "characters, not bytes"
        );
        let huge = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(
            validate_password(&huge).unwrap_err().code(),
            "password_too_long"
        );
        let generated = generate_password();
        assert_eq!(generated.len(), 20);
        assert!(validate_password(&generated).is_ok());
        assert_ne!(generated, generate_password());
    }
}
