//! Herald's pure domain: the Segment event model, identity resolution and profile projection.
//!
//! Nothing here does IO or reads the clock: time is passed in, storage is reached through the
//! [`projection::ProjectionStore`] port. That is what makes this crate fast to test, property
//! testable, and shared by every backend.

pub mod audience;
pub mod event;
pub mod identity;
pub mod memory;
pub mod profile;
pub mod projection;
pub mod split;
#[cfg(feature = "testing")]
pub mod testing;
pub mod timestamp;

pub use event::{Event, EventError, EventType, ParseContext, TimeMode};
pub use identity::{IdKind, Identifier, IdentityRules, ProfileId};
