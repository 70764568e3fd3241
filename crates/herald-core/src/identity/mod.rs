//! Identity resolution: which identifiers belong to which profile.

mod identifier;
mod resolve;
mod rules;

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use identifier::{IdKind, Identifier, IdentifierError};
pub use resolve::{
    resolve, Claim, IdentityView, MergeStep, ProfileIdentity, Refusal, RefusalReason, Resolution,
    Separation, Target,
};
pub use rules::IdentityRules;

/// Namespace for deriving profile ids (UUIDv5) from their anchor identifier.
const PROFILE_NAMESPACE: Uuid = Uuid::from_u128(0x6b1d_3c1e_8f4a_4c4e_9a57_2d7e_1f0b_aa01);

/// A profile's stable id. It is derived from the identifier that created the profile, so that
/// rebuilding from the log gives the same ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileId(pub String);

impl ProfileId {
    /// The id of a profile created by `anchor`. `attempt` > 0 only when that id is taken
    /// (the anchor created a profile before, which since moved away).
    pub fn derive(anchor: &Identifier, attempt: u32) -> ProfileId {
        let name = if attempt == 0 {
            anchor.to_string()
        } else {
            format!("{anchor}#{attempt}")
        };
        ProfileId(Uuid::new_v5(&PROFILE_NAMESPACE, name.as_bytes()).to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests;
