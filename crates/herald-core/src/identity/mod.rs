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

/// Namespace for the hashed part of profile ids.
const PROFILE_NAMESPACE: Uuid = Uuid::from_u128(0x6b1d_3c1e_8f4a_4c4e_9a57_2d7e_1f0b_aa01);

/// A profile's stable id: a UUID (version 8) whose first 48 bits are the log position of the
/// event that created the profile and whose other bits are a UUIDv5 of the identifier that
/// created it. Rebuilding from the log gives the same ids, and ids sort by creation, so a new
/// profile's rows go to the end of every index keyed by profile instead of a random page (at
/// one random page per index per event, the processor's writes were the bulk of its time).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileId(pub String);

impl ProfileId {
    /// The id of a profile created by `anchor` at log position `seq` (only the low 48 bits
    /// order ids). `attempt` > 0 only when that id is taken (a replay re-creating a profile
    /// that still exists).
    pub fn derive(seq: u64, anchor: &Identifier, attempt: u32) -> ProfileId {
        let name = if attempt == 0 {
            anchor.to_string()
        } else {
            format!("{anchor}#{attempt}")
        };
        let mut bytes = *Uuid::new_v5(&PROFILE_NAMESPACE, name.as_bytes()).as_bytes();
        bytes[..6].copy_from_slice(&seq.to_be_bytes()[2..]);
        // Version 8 (custom layout); the variant bits stay those of the UUIDv5.
        bytes[6] = (bytes[6] & 0x0f) | 0x80;
        ProfileId(Uuid::from_bytes(bytes).to_string())
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
