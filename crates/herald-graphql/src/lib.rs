//! The GraphQL API at `/graphql`: what the dashboard reads and changes, as a domain model
//! (profiles, their timeline and identity graph, merges, audiences, computed traits, keys,
//! status) with queries, mutations and live events as a subscription (`graphql-ws` over
//! WebSocket at the same path).
//!
//! Resolvers call the REST handlers' own functions in `herald_api::admin` (validation, error
//! codes and views are shared; nothing here talks to storage except the batch loaders), so the
//! two APIs cannot drift. Callers authenticate as for REST (`herald_api::auth::Principal`: an
//! admin key, or a dashboard session with its CSRF token); mutations need the admin role. Errors carry the REST error's `code` (and `location` for an invalid
//! rule) in `extensions`. Lists that resolve nested profiles go through [`loaders`], one
//! storage call per list, not per item. Depth and complexity are limited ([`MAX_DEPTH`],
//! [`MAX_COMPLEXITY`]); the schema is published at `/graphql/schema.graphql` and checked in
//! (`schema.graphql` next to this crate's `Cargo.toml`).

mod broadcasts;
mod error;
pub mod http;
mod insights;
pub mod loaders;
mod messages;
mod mutation;
mod preferences;
mod query;
mod subscription;
mod templates;
mod types;

use async_graphql::dataloader::DataLoader;
use async_graphql::{MergedObject, Schema};
use herald_api::AppState;

pub use http::routes;

/// The deepest selection a request may nest.
pub const MAX_DEPTH: usize = 12;
/// The most a request may cost: each field 1, list fields times the page they ask for.
pub const MAX_COMPLEXITY: usize = 5_000;

/// Every query: profiles, audiences and the rest (`query.rs`), insights (`insights.rs`).
#[derive(MergedObject, Default)]
pub struct Query(
    query::Query,
    insights::InsightsQuery,
    templates::TemplatesQuery,
    messages::MessagesQuery,
    broadcasts::BroadcastsQuery,
    preferences::PreferencesQuery,
);

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    mutation::Mutation,
    insights::InsightsMutation,
    templates::TemplatesMutation,
    messages::MessagesMutation,
    broadcasts::BroadcastsMutation,
    preferences::PreferencesMutation,
);

pub type HeraldSchema = Schema<Query, Mutation, subscription::Subscription>;

/// The schema, bound to a server's state.
pub fn schema(state: AppState) -> HeraldSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    .data(DataLoader::new(
        loaders::SummaryLoader(state.clone()),
        tokio::spawn,
    ))
    .data(DataLoader::new(
        loaders::ProfileLoader(state.clone()),
        tokio::spawn,
    ))
    .data(state)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .finish()
}

/// The schema in SDL, as published at `/graphql/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    .finish()
    .sdl()
}
