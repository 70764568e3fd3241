//! DKIM signing (RFC 6376; Ed25519 per RFC 8463) of outgoing mail, and the DNS record that
//! publishes its public key. The signature itself is lettre's; this module reads the keys
//! operators have (PKCS#1 or PKCS#8 PEM for RSA, PKCS#8 PEM or a base64 seed for Ed25519) and
//! chooses what is signed.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use lettre::Message;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::secret::Secret;

/// The headers signed by default. RFC 8058 requires `List-Unsubscribe` and
/// `List-Unsubscribe-Post` to be covered; a header named here but absent from a message is
/// signed as absent, so it cannot be added on the way without breaking the signature.
pub const DEFAULT_SIGNED_HEADERS: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "MIME-Version",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DkimAlgorithm {
    #[default]
    Rsa,
    Ed25519,
}

/// DKIM configuration: the key is published at `<selector>._domainkey.<domain>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimSettings {
    pub selector: String,
    pub domain: String,
    #[serde(default)]
    pub algorithm: DkimAlgorithm,
    /// RSA: a PEM key, PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`).
    /// Ed25519: a PKCS#8 PEM key, or the base64 of its 32-byte seed.
    pub private_key: Secret,
    /// The headers to sign (default [`DEFAULT_SIGNED_HEADERS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<String>>,
}

/// A loaded key, ready to sign.
#[derive(Debug)]
pub struct DkimSigner {
    config: DkimConfig,
    selector: String,
    domain: String,
    record: String,
}

impl DkimSigner {
    pub fn new(settings: &DkimSettings) -> Result<DkimSigner, ConfigError> {
        let invalid =
            |field: &'static str, message: String| ConfigError::new("dkim", field, message);
        if !is_dns_label_list(&settings.selector) {
            return Err(invalid(
                "selector",
                format!("{:?} is not a DNS name", settings.selector),
            ));
        }
        if !is_dns_label_list(&settings.domain) || !settings.domain.contains('.') {
            return Err(invalid(
                "domain",
                format!("{:?} is not a domain", settings.domain),
            ));
        }
        let key = settings.private_key.expose().trim();
        let (signing_key, record) = match settings.algorithm {
            DkimAlgorithm::Rsa => {
                let private = rsa::RsaPrivateKey::from_pkcs1_pem(key)
                    .or_else(|_| rsa::RsaPrivateKey::from_pkcs8_pem(key))
                    .map_err(|_| {
                        invalid(
                            "private_key",
                            "not an RSA private key in PKCS#1 or PKCS#8 PEM".into(),
                        )
                    })?;
                let public = rsa::RsaPublicKey::from(&private)
                    .to_public_key_der()
                    .map_err(|e| invalid("private_key", e.to_string()))?;
                let pkcs1 = private
                    .to_pkcs1_pem(LineEnding::LF)
                    .map_err(|e| invalid("private_key", e.to_string()))?;
                let signing = DkimSigningKey::new(&pkcs1, DkimSigningAlgorithm::Rsa)
                    .map_err(|e| invalid("private_key", e.to_string()))?;
                (
                    signing,
                    format!("v=DKIM1; k=rsa; p={}", BASE64.encode(public.as_bytes())),
                )
            }
            DkimAlgorithm::Ed25519 => {
                let private = if key.starts_with("-----BEGIN") {
                    ed25519_dalek::SigningKey::from_pkcs8_pem(key).ok()
                } else {
                    BASE64
                        .decode(key)
                        .ok()
                        .and_then(|seed| <[u8; 32]>::try_from(seed).ok())
                        .map(|seed| ed25519_dalek::SigningKey::from_bytes(&seed))
                }
                .ok_or_else(|| {
                    invalid(
                        "private_key",
                        "not an Ed25519 key (PKCS#8 PEM, or the base64 of a 32-byte seed)".into(),
                    )
                })?;
                let public = private.verifying_key().to_bytes();
                let signing = DkimSigningKey::new(
                    &BASE64.encode(private.to_bytes()),
                    DkimSigningAlgorithm::Ed25519,
                )
                .map_err(|e| invalid("private_key", e.to_string()))?;
                (
                    signing,
                    format!("v=DKIM1; k=ed25519; p={}", BASE64.encode(public)),
                )
            }
        };
        let names: Vec<String> = match &settings.headers {
            Some(names) => names.clone(),
            None => DEFAULT_SIGNED_HEADERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        if !names.iter().any(|n| n.eq_ignore_ascii_case("from")) {
            return Err(invalid(
                "headers",
                "RFC 6376 requires the From header to be signed".into(),
            ));
        }
        let mut headers = Vec::with_capacity(names.len());
        for name in names {
            if name.to_ascii_lowercase().starts_with("content-") {
                return Err(invalid(
                    "headers",
                    format!("{name} is written after signing and cannot be signed"),
                ));
            }
            let header = HeaderName::new_from_ascii(name.clone())
                .map_err(|_| invalid("headers", format!("{name:?} is not a header name")))?;
            headers.push(header);
        }
        let config = DkimConfig::new(
            settings.selector.clone(),
            settings.domain.clone(),
            signing_key,
            headers,
            DkimCanonicalization {
                header: DkimCanonicalizationType::Relaxed,
                body: DkimCanonicalizationType::Relaxed,
            },
        );
        Ok(DkimSigner {
            config,
            selector: settings.selector.clone(),
            domain: settings.domain.clone(),
            record,
        })
    }

    /// The DNS name of the TXT record: `<selector>._domainkey.<domain>`.
    pub fn dns_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }

    /// The TXT record's value: `v=DKIM1; k=rsa; p=<base64 of the public key>`.
    pub fn dns_record(&self) -> &str {
        &self.record
    }

    /// Adds the `DKIM-Signature` header (relaxed/relaxed canonicalization, SHA-256, the
    /// current time as `t=`).
    pub fn sign(&self, message: &mut Message) {
        message.sign(&self.config);
    }
}

fn is_dns_label_list(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(algorithm: DkimAlgorithm, key: &str) -> DkimSettings {
        DkimSettings {
            selector: "herald1".into(),
            domain: "mail.example.com".into(),
            algorithm,
            private_key: Secret::new(key),
            headers: None,
        }
    }

    /// RFC 8032 section 7.1, test 1: the seed and its public key.
    #[test]
    fn ed25519_record_from_a_seed_matches_rfc_8032() {
        let seed = hex_decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let public = hex_decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        let signer =
            DkimSigner::new(&settings(DkimAlgorithm::Ed25519, &BASE64.encode(seed))).unwrap();
        assert_eq!(signer.dns_name(), "herald1._domainkey.mail.example.com");
        assert_eq!(
            signer.dns_record(),
            format!("v=DKIM1; k=ed25519; p={}", BASE64.encode(public))
        );
    }

    fn hex_decode(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn bad_settings_are_refused_with_the_field() {
        let cases = [
            (settings(DkimAlgorithm::Rsa, "not a key"), "private_key"),
            (settings(DkimAlgorithm::Ed25519, "c2hvcnQ="), "private_key"),
            (
                DkimSettings {
                    selector: "bad selector".into(),
                    ..settings(DkimAlgorithm::Ed25519, "")
                },
                "selector",
            ),
            (
                DkimSettings {
                    domain: "localhost".into(),
                    ..settings(DkimAlgorithm::Ed25519, "")
                },
                "domain",
            ),
            (
                DkimSettings {
                    headers: Some(vec!["From".into(), "Content-Type".into()]),
                    ..settings(DkimAlgorithm::Ed25519, &BASE64.encode([7u8; 32]))
                },
                "headers",
            ),
            (
                DkimSettings {
                    headers: Some(vec!["Subject".into()]),
                    ..settings(DkimAlgorithm::Ed25519, &BASE64.encode([7u8; 32]))
                },
                "headers",
            ),
        ];
        for (settings, field) in cases {
            let err = DkimSigner::new(&settings).unwrap_err();
            assert_eq!(err.field, field, "{err}");
            assert_eq!(err.code(), "channel_config_invalid");
            assert!(!err.to_string().contains("c2hvcnQ"), "{err}");
        }
    }
}
