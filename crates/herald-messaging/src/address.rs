//! Where a message goes: a person's address on a channel, read from their traits.
//!
//! | channel | read from | normalised to |
//! |---|---|---|
//! | `email` | `traits.email` | lower case, after a pragmatic syntax check ([`normalize_email`]) |
//! | `sms` | `traits.phone` | E.164, `+` and 7 to 15 digits ([`normalize_phone`]) |
//! | `push` | `traits.push_tokens` | the valid device tokens, de-duplicated, at most [`MAX_PUSH_TOKENS`] |
//! | `webhook` | — | always addressable: the destination is the channel's configured endpoint |
//! | `in_app` | the profile's user id | the inbox is fetched with the user id and its signed hash |

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::channel::Channel;

/// At most this many push tokens are used per person (the first ones listed).
pub const MAX_PUSH_TOKENS: usize = 32;
/// A push token longer than this is not a token.
pub const MAX_PUSH_TOKEN_LEN: usize = 4096;

/// A person's address on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Address {
    Email { email: String },
    Sms { phone: String },
    Push { tokens: Vec<PushToken> },
    Webhook,
    InApp { user_id: String },
}

impl Address {
    pub fn channel(&self) -> Channel {
        match self {
            Address::Email { .. } => Channel::Email,
            Address::Sms { .. } => Channel::Sms,
            Address::Push { .. } => Channel::Push,
            Address::Webhook => Channel::Webhook,
            Address::InApp { .. } => Channel::InApp,
        }
    }

    /// The strings a suppression entry of this channel is matched against.
    pub fn suppression_keys(&self) -> Vec<&str> {
        match self {
            Address::Email { email } => vec![email],
            Address::Sms { phone } => vec![phone],
            Address::Push { tokens } => tokens.iter().map(|t| t.token.as_str()).collect(),
            Address::Webhook => Vec::new(),
            Address::InApp { user_id } => vec![user_id],
        }
    }
}

/// One device of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushToken {
    pub token: String,
    /// Which push service the token belongs to, when the app said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<PushPlatform>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushPlatform {
    Ios,
    Android,
    Web,
}

/// How addresses are read. `default_calling_code` (digits, e.g. `"1"` or `"49"`) makes
/// national phone numbers usable; without it only international ones are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_calling_code: Option<String>,
}

/// The person's address on `channel`, or `None` when they have none (`no_address`).
/// `traits` is the profile's traits object; `user_id` its user id, if any.
pub fn address_of(
    channel: Channel,
    traits: &Value,
    user_id: Option<&str>,
    rules: &AddressRules,
) -> Option<Address> {
    match channel {
        Channel::Email => traits
            .get("email")
            .and_then(Value::as_str)
            .and_then(normalize_email)
            .map(|email| Address::Email { email }),
        Channel::Sms => traits
            .get("phone")
            .and_then(Value::as_str)
            .and_then(|p| normalize_phone(p, rules.default_calling_code.as_deref()))
            .map(|phone| Address::Sms { phone }),
        Channel::Push => {
            let tokens = push_tokens(traits.get("push_tokens")?);
            (!tokens.is_empty()).then_some(Address::Push { tokens })
        }
        Channel::Webhook => Some(Address::Webhook),
        Channel::InApp => {
            let user_id = user_id?.trim();
            (!user_id.is_empty()).then(|| Address::InApp {
                user_id: user_id.to_owned(),
            })
        }
    }
}

/// `traits.push_tokens`: an array whose items are a token string or an object
/// `{"token": "...", "platform": "ios" | "android" | "web"}`. Invalid items are skipped (an
/// unknown platform is dropped, not the token).
fn push_tokens(value: &Value) -> Vec<PushToken> {
    let mut out: Vec<PushToken> = Vec::new();
    for item in value.as_array().into_iter().flatten() {
        let (token, platform) = match item {
            Value::String(token) => (token.as_str(), None),
            Value::Object(fields) => {
                let Some(token) = fields.get("token").and_then(Value::as_str) else {
                    continue;
                };
                let platform = fields
                    .get("platform")
                    .cloned()
                    .and_then(|p| serde_json::from_value(p).ok());
                (token, platform)
            }
            _ => continue,
        };
        let token = token.trim();
        let valid = !token.is_empty()
            && token.len() <= MAX_PUSH_TOKEN_LEN
            && token.bytes().all(|b| b.is_ascii_graphic());
        if valid && !out.iter().any(|t| t.token == token) {
            out.push(PushToken {
                token: token.to_owned(),
                platform,
            });
            if out.len() == MAX_PUSH_TOKENS {
                break;
            }
        }
    }
    out
}

/// A pragmatic email check, not RFC 5322: what mail systems accept in practice.
/// - at most 254 characters, exactly one `@`, no whitespace or control characters;
/// - local part 1 to 64 characters of letters, digits and ``!#$%&'*+/=?^_`{|}~.-``, not
///   starting or ending with `.` and without `..` (no quoted local parts);
/// - domain: at least two labels of letters, digits and `-` (1 to 63 characters, not starting
///   or ending with `-`), a last label that is not all digits (no IP literals).
///
/// Non-ASCII letters are accepted (internationalised addresses). The result is lower case, as
/// Herald's identity layer normalises email identifiers, so the same address always compares
/// equal (suppression lists, de-duplication).
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    if email.chars().count() > 254 {
        return None;
    }
    let (local, domain) = email.split_once('@')?;
    let local_ok = !local.is_empty()
        && local.chars().count() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()));
    (local_ok && domain_ok).then_some(email)
}

/// A pragmatic E.164 normalisation, with no per-country numbering plan (no libphonenumber):
/// - only digits, spaces and `-` `.` `(` `)` after an optional leading `+`;
/// - `+` or `00` starts an international number;
/// - otherwise the number is national and needs `default_calling_code`: one leading trunk `0`
///   is dropped (`030 1234567` in Germany), and for calling code `1` a leading `1` of an
///   11-digit number too (`1 415 555 0100`);
/// - the result is `+` and 7 to 15 digits, not starting with `0`.
///
/// It accepts numbers that no carrier would route (the length is not checked per country);
/// the provider's `invalid_number` answer then suppresses them.
pub fn normalize_phone(raw: &str, default_calling_code: Option<&str>) -> Option<String> {
    let trimmed = raw.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || " -.()".contains(c))
    {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let international = if plus {
        digits
    } else if let Some(stripped) = digits.strip_prefix("00") {
        stripped.to_owned()
    } else {
        let code = default_calling_code?;
        let code_ok = (1..=3).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_digit())
            && !code.starts_with('0');
        if !code_ok {
            return None;
        }
        let national = match digits.strip_prefix('0') {
            Some(n) => n,
            None if code == "1" && digits.len() == 11 => &digits[1..],
            None => digits.as_str(),
        };
        format!("{code}{national}")
    };
    let ok = (7..=15).contains(&international.len()) && !international.starts_with('0');
    ok.then(|| format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails() {
        let ok = [
            ("Ana@Example.COM", "ana@example.com"),
            (
                "  ana.b+news@mail.example.co.uk ",
                "ana.b+news@mail.example.co.uk",
            ),
            ("o'brien@example.ie", "o'brien@example.ie"),
            ("jörg@bücher.de", "jörg@bücher.de"),
            ("x@xn--bcher-kva.de", "x@xn--bcher-kva.de"),
        ];
        for (raw, want) in ok {
            assert_eq!(normalize_email(raw).as_deref(), Some(want), "{raw}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        let bad = [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@@example.com",
            "a@b@example.com",
            "ana @example.com",
            "ana@exa mple.com",
            ".ana@example.com",
            "ana.@example.com",
            "an..a@example.com",
            "ana@-example.com",
            "ana@example-.com",
            "ana@example..com",
            "ana@1.2.3.4",
            "ana@[1.2.3.4]",
            "\"ana\"@example.com",
            "ana\u{0}@example.com",
            long_local.as_str(),
        ];
        for raw in bad {
            assert_eq!(normalize_email(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn phones() {
        let cases = [
            ("+1 (415) 555-0100", None, Some("+14155550100")),
            ("+49 30 1234567", None, Some("+49301234567")),
            ("0049 30 1234567", None, Some("+49301234567")),
            ("030 1234567", Some("49"), Some("+49301234567")),
            ("030 1234567", None, None),
            ("415.555.0100", Some("1"), Some("+14155550100")),
            ("1 415 555 0100", Some("1"), Some("+14155550100")),
            ("+683 4002", None, Some("+6834002")),
            ("+1234567890123456", None, None),
            ("+12345", None, None),
            ("+0 123 4567", None, None),
            ("+1 415 555 0100 ext 2", None, None),
            ("+1+4155550100", None, None),
            ("phone", Some("1"), None),
            ("", Some("1"), None),
            ("030 1234567", Some("049"), None),
            ("030 1234567", Some("4x"), None),
        ];
        for (raw, code, want) in cases {
            assert_eq!(
                normalize_phone(raw, code).as_deref(),
                want,
                "{raw:?} {code:?}"
            );
        }
    }

    #[test]
    fn addresses_from_traits() {
        let rules = AddressRules::default();
        let traits = json!({
            "email": "Ana@Example.com",
            "phone": "+49 151 2345 6789",
            "push_tokens": [
                "tok-a",
                {"token": "tok-b", "platform": "ios"},
                {"token": "tok-c", "platform": "palm"},
                "tok-a",
                "",
                "has space",
                42,
                {"platform": "ios"}
            ]
        });
        assert_eq!(
            address_of(Channel::Email, &traits, None, &rules),
            Some(Address::Email {
                email: "ana@example.com".into()
            })
        );
        assert_eq!(
            address_of(Channel::Sms, &traits, None, &rules),
            Some(Address::Sms {
                phone: "+4915123456789".into()
            })
        );
        let Some(Address::Push { tokens }) = address_of(Channel::Push, &traits, None, &rules)
        else {
            panic!("push address expected");
        };
        let names: Vec<(&str, Option<PushPlatform>)> = tokens
            .iter()
            .map(|t| (t.token.as_str(), t.platform))
            .collect();
        assert_eq!(
            names,
            [
                ("tok-a", None),
                ("tok-b", Some(PushPlatform::Ios)),
                ("tok-c", None)
            ]
        );
        assert_eq!(
            address_of(Channel::Webhook, &traits, None, &rules),
            Some(Address::Webhook)
        );
        assert_eq!(address_of(Channel::InApp, &traits, None, &rules), None);
        assert_eq!(
            address_of(Channel::InApp, &traits, Some("  "), &rules),
            None
        );
        assert_eq!(
            address_of(Channel::InApp, &traits, Some("u1"), &rules),
            Some(Address::InApp {
                user_id: "u1".into()
            })
        );
        let empty = json!({"email": "not-an-email", "phone": 5, "push_tokens": "tok"});
        for channel in [Channel::Email, Channel::Sms, Channel::Push] {
            assert_eq!(address_of(channel, &empty, None, &rules), None, "{channel}");
        }
        assert_eq!(address_of(Channel::Email, &Value::Null, None, &rules), None);
    }

    #[test]
    fn push_tokens_are_capped() {
        let many: Vec<String> = (0..100).map(|i| format!("t{i}")).collect();
        let traits = json!({ "push_tokens": many });
        let Some(Address::Push { tokens }) =
            address_of(Channel::Push, &traits, None, &AddressRules::default())
        else {
            panic!("push address expected");
        };
        assert_eq!(tokens.len(), MAX_PUSH_TOKENS);
        assert_eq!(tokens[31].token, "t31");
    }

    #[test]
    fn address_json_names_its_channel() {
        let a = Address::Sms {
            phone: "+14155550100".into(),
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v, json!({"channel": "sms", "phone": "+14155550100"}));
        assert_eq!(serde_json::from_value::<Address>(v).unwrap(), a);
        assert_eq!(
            serde_json::to_value(Address::Webhook).unwrap(),
            json!({"channel": "webhook"})
        );
    }
}
