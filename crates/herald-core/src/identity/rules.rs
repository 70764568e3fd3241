//! Identity rules: which values count as identifiers, how many of each kind a profile may hold,
//! and which kinds win.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::identifier::{IdKind, Identifier};
use crate::event::{Event, EventType};

/// Configurable identity-resolution rules. The defaults are documented in `docs/identity.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityRules {
    /// Values never treated as identifiers, compared trimmed and case-insensitively. Values made
    /// only of `0` and `-` (all-zero UUIDs) are always blocked.
    pub blocked_values: BTreeSet<String>,
    /// Link profiles through `traits.email` on identify calls.
    pub link_email: bool,
    /// Link profiles through `traits.phone` on identify calls.
    pub link_phone: bool,
    /// The most identifiers of a kind one profile may hold. A link that would exceed it is
    /// refused (recorded, not applied). Kinds not listed are unlimited.
    pub limits: BTreeMap<IdKind, usize>,
    /// Kinds from most to least trusted; the event is attributed to the profile of its most
    /// trusted identifier when links are refused.
    pub priority: Vec<IdKind>,
}

impl Default for IdentityRules {
    fn default() -> Self {
        IdentityRules {
            blocked_values: [
                "",
                "null",
                "nil",
                "none",
                "undefined",
                "0",
                "-1",
                "anonymous",
                "unknown",
                "n/a",
                "na",
                "guest",
                "test",
                "[object object]",
                "nan",
                "false",
                "true",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            link_email: true,
            link_phone: false,
            limits: [(IdKind::UserId, 1), (IdKind::Email, 5), (IdKind::Phone, 5)]
                .into_iter()
                .collect(),
            priority: IdKind::ALL.to_vec(),
        }
    }
}

impl IdentityRules {
    /// Normalise a raw value of a kind, or `None` when it is blocked or malformed.
    pub fn normalize(&self, kind: IdKind, raw: &str) -> Option<String> {
        let trimmed = raw.trim();
        if trimmed.is_empty()
            || trimmed.contains('\0')
            || trimmed.chars().all(|c| c == '0' || c == '-')
            || self.blocked_values.contains(&trimmed.to_lowercase())
        {
            return None;
        }
        match kind {
            IdKind::Email => {
                let email = trimmed.to_lowercase();
                let (local, domain) = email.split_once('@')?;
                (!local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace))
                    .then_some(email)
            }
            IdKind::Phone => {
                let plus = trimmed.starts_with('+');
                let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
                let only_formatting = trimmed
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-().".contains(c));
                (only_formatting && digits.len() >= 5 && !digits.chars().all(|c| c == '0'))
                    .then(|| if plus { format!("+{digits}") } else { digits })
            }
            IdKind::UserId | IdKind::AnonymousId => Some(trimmed.to_owned()),
        }
    }

    pub fn rank(&self, kind: IdKind) -> usize {
        self.priority
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(self.priority.len())
    }

    pub fn limit(&self, kind: IdKind) -> usize {
        self.limits.get(&kind).copied().unwrap_or(usize::MAX)
    }

    /// The identifiers an event carries, most trusted first. For `alias`, `previousId` is not
    /// included: its kind depends on what is already known (see [`super::resolve`]).
    pub fn identifiers_of(&self, event: &Event) -> Vec<Identifier> {
        let mut out = Vec::new();
        let mut push = |kind, raw: Option<&str>| {
            if let Some(value) = raw.and_then(|r| self.normalize(kind, r)) {
                let id = Identifier::new(kind, value);
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        };
        push(IdKind::UserId, event.user_id.as_deref());
        push(IdKind::AnonymousId, event.anonymous_id.as_deref());
        if event.event_type == EventType::Identify {
            if self.link_email {
                push(IdKind::Email, event.trait_str("email"));
            }
            if self.link_phone {
                push(IdKind::Phone, event.trait_str("phone"));
            }
        }
        out.sort_by_key(|id| self.rank(id.kind));
        out
    }

    /// The `previousId` of an alias call, normalised, if usable.
    pub fn previous_id_of(&self, event: &Event) -> Option<String> {
        (event.event_type == EventType::Alias)
            .then(|| {
                event
                    .previous_id
                    .as_deref()
                    .and_then(|p| self.normalize(IdKind::AnonymousId, p))
            })
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_junk_values() {
        let rules = IdentityRules::default();
        for junk in [
            "",
            "  ",
            "null",
            "NULL",
            "undefined",
            "0",
            "anonymous",
            "Unknown",
            "00000000-0000-0000-0000-000000000000",
            "000",
        ] {
            assert_eq!(rules.normalize(IdKind::UserId, junk), None, "{junk:?}");
        }
        assert_eq!(rules.normalize(IdKind::UserId, " 42 "), Some("42".into()));
    }

    #[test]
    fn normalises_email_and_phone() {
        let rules = IdentityRules::default();
        assert_eq!(
            rules.normalize(IdKind::Email, " Ana@Example.COM "),
            Some("ana@example.com".into())
        );
        assert_eq!(rules.normalize(IdKind::Email, "not-an-email"), None);
        assert_eq!(rules.normalize(IdKind::Email, "a b@x.io"), None);
        assert_eq!(
            rules.normalize(IdKind::Phone, "+1 (415) 555-0100"),
            Some("+14155550100".into())
        );
        assert_eq!(rules.normalize(IdKind::Phone, "call me"), None);
        assert_eq!(rules.normalize(IdKind::Phone, "000-000"), None);
    }

    #[test]
    fn rules_deserialise_with_defaults_for_missing_fields() {
        let rules: IdentityRules =
            serde_json::from_str(r#"{"link_phone": true, "limits": {"user_id": 2}}"#).unwrap();
        assert!(rules.link_phone && rules.link_email);
        assert_eq!(rules.limit(IdKind::UserId), 2);
        assert_eq!(rules.limit(IdKind::Email), usize::MAX);
        assert!(serde_json::from_str::<IdentityRules>(r#"{"bogus": 1}"#).is_err());
    }
}
