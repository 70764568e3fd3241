//! Audiences and computed traits: the rule language (`rule`, with a JSON form in `json` and a
//! text form in `text`), the per-profile event memory rules read (`facts`), and the one
//! evaluator (`catalog`). Pure: callers pass `now` in.

pub mod catalog;
pub mod facts;
pub mod json;
pub mod live;
pub mod rule;
pub mod text;
pub mod value;

pub use catalog::{
    changed_definitions, Aggregate, AudienceDef, BackfillScope, Catalog, CatalogError, Changes,
    ComputedTrait, DefinitionHashes, Evaluation, FactReaches, Outcome, Rebuild, Subject,
};
pub use facts::{FactSpec, Hit, ProfileFacts};
pub use live::{AudienceState, AudienceStore, Cause, MembershipChange};
pub use rule::{Location, Rule, RuleError};
