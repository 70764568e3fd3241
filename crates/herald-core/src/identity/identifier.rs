//! Identifiers: `kind:value` pairs that point at one profile.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Identifier kinds. The declaration order is the default priority (highest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    UserId,
    Email,
    Phone,
    AnonymousId,
}

impl IdKind {
    pub const ALL: [IdKind; 4] = [
        IdKind::UserId,
        IdKind::Email,
        IdKind::Phone,
        IdKind::AnonymousId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::UserId => "user_id",
            IdKind::Email => "email",
            IdKind::Phone => "phone",
            IdKind::AnonymousId => "anonymous_id",
        }
    }
}

impl FromStr for IdKind {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| IdentifierError(format!("unknown identifier kind {s:?}; expected one of user_id, email, phone, anonymous_id")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdentifierError(pub String);

/// One identifier, e.g. `user_id:42` or `email:ana@example.com`. Values are stored normalised
/// (see [`crate::identity::IdentityRules::normalize`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identifier {
    pub kind: IdKind,
    pub value: String,
}

impl Identifier {
    pub fn new(kind: IdKind, value: impl Into<String>) -> Self {
        Identifier {
            kind,
            value: value.into(),
        }
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

impl FromStr for Identifier {
    type Err = IdentifierError;
    /// Parses `kind:value`; the value may itself contain `:`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, value) = s.split_once(':').ok_or_else(|| {
            IdentifierError(format!(
                "identifier {s:?} must be written kind:value, e.g. user_id:42"
            ))
        })?;
        if value.is_empty() {
            return Err(IdentifierError("identifier value is empty".into()));
        }
        Ok(Identifier {
            kind: kind.parse()?,
            value: value.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let id: Identifier = "email:ana@example.com".parse().unwrap();
        assert_eq!(id, Identifier::new(IdKind::Email, "ana@example.com"));
        assert_eq!(id.to_string(), "email:ana@example.com");
        let urn: Identifier = "anonymous_id:urn:x:1".parse().unwrap();
        assert_eq!(urn.value, "urn:x:1");
        assert!("nokind".parse::<Identifier>().is_err());
        assert!("bogus:1".parse::<Identifier>().is_err());
        assert!("user_id:".parse::<Identifier>().is_err());
    }
}
