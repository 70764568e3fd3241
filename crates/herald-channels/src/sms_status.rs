//! Twilio's status callbacks: what Twilio reports about an SMS after it took it (delivered,
//! undelivered, failed), posted form-encoded to the `StatusCallback` URL of each message and
//! signed with `X-Twilio-Signature`: the Base64 of HMAC-SHA1, keyed with the account's auth
//! token, of the full URL Twilio requested followed by each POST parameter's name and value,
//! sorted by name (Twilio's "Webhooks security" documentation).
//!
//! Herald gives each message its own callback URL, the configured `status_callback` with
//! `herald_message_id=<id>` added to its query, so a report names its message without a
//! lookup by Twilio's `MessageSid`, and the URL that was signed is known exactly (no guessing
//! what a proxy in front of Herald rewrote).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use herald_messaging::message::{BounceKind, DeliveryEvent, MessageId};
use herald_messaging::preferences::SuppressionReason;
use ring::hmac;

use crate::port::ProviderReport;
use crate::secret::Secret;

/// The query parameter of a callback URL that names Herald's message.
pub const MESSAGE_PARAM: &str = "herald_message_id";

/// Twilio error codes that say the number itself cannot receive SMS, so nothing more goes to
/// it: 21211 invalid `To`, 21610 the recipient replied STOP, 21612/21614 not reachable or not
/// a mobile number, 30005 unknown destination, 30006 a landline or an unreachable carrier.
const DEAD_NUMBER: [&str; 6] = ["21211", "21610", "21612", "21614", "30005", "30006"];

/// The callback URL of one message: `base` with `herald_message_id=<id>` added.
pub fn callback_url(base: &str, message_id: MessageId) -> String {
    let joiner = if base.contains('?') { '&' } else { '?' };
    format!("{base}{joiner}{MESSAGE_PARAM}={message_id}")
}

/// What checks Twilio's callbacks: the callback URL they were sent to and the token they
/// are signed with.
#[derive(Debug, Clone, PartialEq)]
pub struct TwilioCallbacks {
    pub base_url: String,
    pub token: Secret,
}

impl TwilioCallbacks {
    /// Whether `signature` is Twilio's for a callback about `message_id` with these POST
    /// parameters, checked in constant time.
    pub fn verify(&self, message_id: &str, params: &[(String, String)], signature: &str) -> bool {
        let Ok(id) = message_id.parse::<MessageId>() else {
            return false;
        };
        let Ok(given) = BASE64.decode(signature.trim()) else {
            return false;
        };
        let key = hmac::Key::new(
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            self.token.expose().as_bytes(),
        );
        hmac::verify(
            &key,
            &signed_text(&callback_url(&self.base_url, id), params),
            &given,
        )
        .is_ok()
    }
}

/// The text Twilio signs: the URL, then each parameter's name and value, sorted by name.
fn signed_text(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut text = url.as_bytes().to_vec();
    for (name, value) in sorted {
        text.extend_from_slice(name.as_bytes());
        text.extend_from_slice(value.as_bytes());
    }
    text
}

/// Sign as Twilio does (for stand-ins and tests).
pub fn sign(token: &str, url: &str, params: &[(String, String)]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, token.as_bytes());
    BASE64.encode(hmac::sign(&key, &signed_text(url, params)).as_ref())
}

/// The report in a status callback; `None` for a status that is not an outcome (`queued`,
/// `sending`, `sent`, `accepted`, `scheduled`: Twilio still holds the message).
pub fn parse_callback(message_id: &str, params: &[(String, String)]) -> Option<ProviderReport> {
    let message_id = message_id.parse::<MessageId>().ok()?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let code = get("ErrorCode").filter(|c| !c.is_empty());
    let detail = || {
        Some(match (code, get("ErrorMessage")) {
            (Some(c), Some(m)) if !m.is_empty() => format!("{c}: {m}"),
            (Some(c), _) => format!("Twilio error {c}"),
            (None, _) => "undelivered".to_owned(),
        })
    };
    let dead = code.is_some_and(|c| DEAD_NUMBER.contains(&c));
    let (event, suppress) = match get("MessageStatus").or(get("SmsStatus"))? {
        "delivered" => (DeliveryEvent::Delivered, None),
        "undelivered" | "failed" if dead => (
            DeliveryEvent::Bounced {
                kind: BounceKind::Hard,
                detail: detail(),
            },
            Some(SuppressionReason::HardBounce),
        ),
        "undelivered" | "failed" => (
            DeliveryEvent::Bounced {
                kind: BounceKind::Soft,
                detail: detail(),
            },
            None,
        ),
        _ => return None,
    };
    Some(ProviderReport {
        message_id,
        address: get("To").map(str::to_owned),
        event,
        suppress,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0193a5c0-0000-7000-8000-000000000001";

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_signature_is_twilios_documented_example() {
        // Twilio's signature validation snippet (TwilioDevEd/api-snippets): this URL, these
        // parameters and the auth token 12345 sign as GvWf1cFY/Q7PnoempGyD5oXAezc=.
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let p = params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]);
        assert_eq!(sign("12345", url, &p), "GvWf1cFY/Q7PnoempGyD5oXAezc=");
    }

    #[test]
    fn only_the_signature_of_this_message_and_these_parameters_is_believed() {
        let callbacks = TwilioCallbacks {
            base_url: "https://herald.example.com/webhooks/twilio".into(),
            token: Secret::new("an-auth-token"),
        };
        let p = params(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]);
        let url = callback_url(&callbacks.base_url, ID.parse().unwrap());
        assert_eq!(
            url,
            format!("https://herald.example.com/webhooks/twilio?herald_message_id={ID}")
        );
        let good = sign("an-auth-token", &url, &p);
        assert!(callbacks.verify(ID, &p, &good));
        assert!(!callbacks.verify(ID, &p, &sign("another-token", &url, &p)));
        let other = "0193a5c0-0000-7000-8000-000000000002";
        assert!(!callbacks.verify(other, &p, &good));
        let changed = params(&[("MessageSid", "SM1"), ("MessageStatus", "failed")]);
        assert!(!callbacks.verify(ID, &changed, &good));
        assert!(!callbacks.verify(ID, &p, "not base64!"));
        assert!(!callbacks.verify("not-an-id", &p, &good));
        assert_eq!(
            callback_url("https://h.example/t?x=1", ID.parse().unwrap()),
            format!("https://h.example/t?x=1&herald_message_id={ID}")
        );
    }

    #[test]
    fn statuses_become_delivery_events() {
        let report = |pairs: &[(&str, &str)]| parse_callback(ID, &params(pairs));
        let delivered = report(&[("MessageStatus", "delivered"), ("To", "+15551230000")]).unwrap();
        assert_eq!(
            (
                delivered.event,
                delivered.suppress,
                delivered.address.as_deref()
            ),
            (DeliveryEvent::Delivered, None, Some("+15551230000"))
        );
        let dead = report(&[
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30005"),
            ("ErrorMessage", "Unknown destination"),
        ])
        .unwrap();
        assert_eq!(
            (dead.event, dead.suppress),
            (
                DeliveryEvent::Bounced {
                    kind: BounceKind::Hard,
                    detail: Some("30005: Unknown destination".into())
                },
                Some(SuppressionReason::HardBounce)
            )
        );
        let busy = report(&[("MessageStatus", "failed"), ("ErrorCode", "30003")]).unwrap();
        assert_eq!(
            (busy.event, busy.suppress),
            (
                DeliveryEvent::Bounced {
                    kind: BounceKind::Soft,
                    detail: Some("Twilio error 30003".into())
                },
                None
            )
        );
        for pending in ["queued", "sending", "sent", "accepted"] {
            assert_eq!(report(&[("MessageStatus", pending)]), None);
        }
        assert_eq!(report(&[("To", "+1")]), None);
        assert_eq!(
            parse_callback("nope", &params(&[("MessageStatus", "delivered")])),
            None
        );
    }
}
