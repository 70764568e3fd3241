//! The two JSON Web Tokens push needs (RFC 7519, compact JWS): RS256 for Google's OAuth2
//! service-account grant (RFC 7523), ES256 for APNs provider tokens. Pure: keys and the time
//! are passed in.

use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as BASE64URL};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// An RSA key that signs RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
#[derive(Clone)]
pub struct Rs256Key(rsa::RsaPrivateKey);

impl std::fmt::Debug for Rs256Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rs256Key(****)")
    }
}

impl Rs256Key {
    /// From a PEM key, PKCS#8 (as in a Google service-account file) or PKCS#1.
    pub fn from_pem(pem: &str) -> Result<Rs256Key, String> {
        rsa::RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
            .map(Rs256Key)
            .map_err(|_| "not an RSA private key in PEM".to_owned())
    }

    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        let digest = Sha256::digest(data);
        self.0
            .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest)
            .map_err(|e| format!("RS256: {e}"))
    }
}

/// A P-256 key that signs ES256 (ECDSA with SHA-256, the signature as r ‖ s).
pub struct Es256Key(EcdsaKeyPair);

impl std::fmt::Debug for Es256Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Es256Key(****)")
    }
}

impl Es256Key {
    /// From a PKCS#8 PEM key: the `.p8` file Apple gives.
    pub fn from_pem(pem: &str) -> Result<Es256Key, String> {
        let der = pem_der(pem, "PRIVATE KEY").ok_or("not a PKCS#8 PEM key")?;
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
            .map(Es256Key)
            .map_err(|_| "not a P-256 private key".to_owned())
    }

    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        self.0
            .sign(&SystemRandom::new(), data)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| "ES256 signing failed".to_owned())
    }
}

/// The DER inside a PEM block labelled `label`.
fn pem_der(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let b64: String = pem[start..stop].split_whitespace().collect();
    BASE64.decode(b64).ok()
}

/// `header.claims.signature`, each base64url without padding.
fn compact(
    header: &Value,
    claims: &Value,
    sign: impl Fn(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<String, String> {
    let signing_input = format!(
        "{}.{}",
        BASE64URL.encode(header.to_string()),
        BASE64URL.encode(claims.to_string())
    );
    let signature = sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", BASE64URL.encode(signature)))
}

pub fn rs256(key: &Rs256Key, key_id: Option<&str>, claims: &Value) -> Result<String, String> {
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = Value::String(kid.to_owned());
    }
    compact(&header, claims, |data| key.sign(data))
}

pub fn es256(key: &Es256Key, key_id: &str, claims: &Value) -> Result<String, String> {
    let header = serde_json::json!({"alg": "ES256", "kid": key_id});
    compact(&header, claims, |data| key.sign(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair;
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    fn parts(token: &str) -> (Value, Value, Vec<u8>, String) {
        let pieces: Vec<&str> = token.split('.').collect();
        assert_eq!(pieces.len(), 3, "{token}");
        let decode = |s: &str| BASE64URL.decode(s).unwrap();
        (
            serde_json::from_slice(&decode(pieces[0])).unwrap(),
            serde_json::from_slice(&decode(pieces[1])).unwrap(),
            decode(pieces[2]),
            format!("{}.{}", pieces[0], pieces[1]),
        )
    }

    #[test]
    fn es256_tokens_verify_with_the_public_key() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            BASE64.encode(pkcs8.as_ref())
        );
        let key = Es256Key::from_pem(&pem).unwrap();
        let token = es256(
            &key,
            "ABC123DEFG",
            &serde_json::json!({"iss": "TEAM", "iat": 1}),
        )
        .unwrap();
        let (header, claims, signature, input) = parts(&token);
        assert_eq!(
            header,
            serde_json::json!({"alg": "ES256", "kid": "ABC123DEFG"})
        );
        assert_eq!(claims, serde_json::json!({"iss": "TEAM", "iat": 1}));
        assert_eq!(signature.len(), 64);
        let public = UnparsedPublicKey::new(
            &ECDSA_P256_SHA256_FIXED,
            key.0.public_key().as_ref().to_vec(),
        );
        public.verify(input.as_bytes(), &signature).unwrap();
        assert!(public.verify(b"other", &signature).is_err());
        assert_eq!(format!("{key:?}"), "Es256Key(****)");
        assert!(
            Es256Key::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .is_err()
        );
    }
}
