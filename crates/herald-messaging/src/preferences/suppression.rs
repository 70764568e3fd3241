//! Suppression: addresses that receive nothing on a channel, transactional messages included.

use serde::{Deserialize, Serialize};

use super::PreferencesError;
use crate::address::{normalize_email, normalize_phone, Address};
use crate::channel::Channel;

/// Why an address is suppressed. Declared from the most to the least serious: when several
/// entries match, the first of this order is the one reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// The person was deleted (GDPR erasure); their addresses stay suppressed so that a
    /// re-import or a new event does not message them again.
    Gdpr,
    /// The recipient marked a message as spam.
    Complaint,
    /// The mailbox does not exist (permanent SMTP failure, provider hard bounce).
    HardBounce,
    /// The number cannot receive SMS (provider answer).
    InvalidNumber,
    /// The push service no longer knows the device token.
    InvalidToken,
    /// Someone in the dashboard or the API suppressed it.
    Manual,
}

impl SuppressionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::Gdpr => "gdpr",
            SuppressionReason::Complaint => "complaint",
            SuppressionReason::HardBounce => "hard_bounce",
            SuppressionReason::InvalidNumber => "invalid_number",
            SuppressionReason::InvalidToken => "invalid_token",
            SuppressionReason::Manual => "manual",
        }
    }
}

/// One suppressed address on one channel. `address` is normalised as [`Address`] holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub channel: Channel,
    pub address: String,
    pub reason: SuppressionReason,
}

impl Suppression {
    /// Suppress an address typed or imported by someone: normalised like the address it must
    /// match (emails lower case, phones E.164 — international form required here).
    pub fn parse(
        channel: Channel,
        raw: &str,
        reason: SuppressionReason,
    ) -> Result<Suppression, PreferencesError> {
        let address = match channel {
            Channel::Email => normalize_email(raw),
            Channel::Sms => normalize_phone(raw, None),
            Channel::Push | Channel::InApp => {
                let t = raw.trim();
                (!t.is_empty()).then(|| t.to_owned())
            }
            Channel::Webhook => None,
        };
        address
            .map(|address| Suppression {
                channel,
                address,
                reason,
            })
            .ok_or_else(|| PreferencesError::InvalidAddress {
                channel,
                address: raw.to_owned(),
            })
    }

    /// The entries that suppress every part of an address a message went to (a bounce of
    /// that message, a complaint about it).
    pub fn of(address: &Address, reason: SuppressionReason) -> Vec<Suppression> {
        address
            .suppression_keys()
            .into_iter()
            .map(|key| Suppression {
                channel: address.channel(),
                address: key.to_owned(),
                reason,
            })
            .collect()
    }
}

/// The address with its suppressed parts taken out, or the most serious reason when nothing is
/// left. Email, SMS and in-app addresses are one part; a push address is one part per device
/// token, so a dead token does not silence the person's other devices. Webhooks go to the
/// channel's endpoint and are never suppressed per person.
pub fn without_suppressed(
    address: &Address,
    suppressions: &[Suppression],
) -> Result<Address, SuppressionReason> {
    let channel = address.channel();
    let reason_for = |key: &str| {
        suppressions
            .iter()
            .filter(|s| s.channel == channel && s.address == key)
            .map(|s| s.reason)
            .min()
    };
    match address {
        Address::Push { tokens } => {
            let mut worst: Option<SuppressionReason> = None;
            let mut left = Vec::new();
            for t in tokens {
                match reason_for(&t.token) {
                    Some(r) => worst = Some(worst.map_or(r, |w| w.min(r))),
                    None => left.push(t.clone()),
                }
            }
            match worst {
                Some(reason) if left.is_empty() => Err(reason),
                _ => Ok(Address::Push { tokens: left }),
            }
        }
        other => match other
            .suppression_keys()
            .into_iter()
            .filter_map(reason_for)
            .min()
        {
            Some(reason) => Err(reason),
            None => Ok(other.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::PushToken;

    fn token(t: &str) -> PushToken {
        PushToken {
            token: t.into(),
            platform: None,
        }
    }

    #[test]
    fn email_suppression_matches_the_normalised_address() {
        let entry = Suppression::parse(
            Channel::Email,
            " Ana@Example.com",
            SuppressionReason::HardBounce,
        )
        .unwrap();
        let ana = Address::Email {
            email: "ana@example.com".into(),
        };
        assert_eq!(
            without_suppressed(&ana, std::slice::from_ref(&entry)),
            Err(SuppressionReason::HardBounce)
        );
        let bob = Address::Email {
            email: "bob@example.com".into(),
        };
        assert_eq!(
            without_suppressed(&bob, std::slice::from_ref(&entry)),
            Ok(bob)
        );
        // The same string on another channel does not match.
        let other = Suppression {
            channel: Channel::InApp,
            ..entry
        };
        assert_eq!(without_suppressed(&ana, &[other]), Ok(ana.clone()));
    }

    #[test]
    fn the_most_serious_reason_is_reported() {
        let sms = Address::Sms {
            phone: "+14155550100".into(),
        };
        let list = [
            Suppression::parse(Channel::Sms, "+1 415 555 0100", SuppressionReason::Manual).unwrap(),
            Suppression::parse(Channel::Sms, "+14155550100", SuppressionReason::Gdpr).unwrap(),
            Suppression::parse(
                Channel::Sms,
                "+14155550100",
                SuppressionReason::InvalidNumber,
            )
            .unwrap(),
        ];
        assert_eq!(
            without_suppressed(&sms, &list),
            Err(SuppressionReason::Gdpr)
        );
    }

    #[test]
    fn push_tokens_are_suppressed_one_by_one() {
        let push = Address::Push {
            tokens: vec![token("a"), token("b")],
        };
        let dead_a =
            Suppression::parse(Channel::Push, "a", SuppressionReason::InvalidToken).unwrap();
        assert_eq!(
            without_suppressed(&push, std::slice::from_ref(&dead_a)),
            Ok(Address::Push {
                tokens: vec![token("b")]
            })
        );
        let both = Suppression::of(&push, SuppressionReason::Gdpr);
        assert_eq!(both.len(), 2);
        let mut list = both;
        list.push(dead_a);
        assert_eq!(
            without_suppressed(&push, &list),
            Err(SuppressionReason::Gdpr)
        );
    }

    #[test]
    fn webhooks_are_never_suppressed_and_bad_entries_are_refused() {
        assert_eq!(
            without_suppressed(&Address::Webhook, &[]),
            Ok(Address::Webhook)
        );
        for (channel, raw) in [
            (Channel::Email, "nope"),
            (Channel::Sms, "030 1234567"),
            (Channel::Push, "  "),
            (Channel::Webhook, "https://example.com"),
        ] {
            let err = Suppression::parse(channel, raw, SuppressionReason::Manual).unwrap_err();
            assert_eq!(err.code(), "invalid_address", "{channel} {raw:?}");
        }
    }
}
