//! Mutations: only for the admin role (admin keys, admin users).

use async_graphql::{Context, Json, Object, Result};
use axum::extract::State;
use herald_api::admin::audiences as rest_audiences;
use herald_api::admin::views::CreateKey;
use herald_api::admin::{self as rest};
use herald_api::extract::{Json as RestJson, Path};
use herald_api::AppState;
use serde_json::Value;

use crate::error::OrGql;
use crate::query::{Audience, AudienceInput};
use crate::types::*;
use herald_api::auth::Principal;

#[derive(Default)]
pub struct Mutation;

/// The state, once the caller is known to be allowed to write.
pub(crate) fn writer(ctx: &Context<'_>) -> Result<State<AppState>> {
    ctx.data_unchecked::<Principal>().require_admin().gql()?;
    Ok(State(ctx.data_unchecked::<AppState>().clone()))
}

#[Object(name = "CoreMutation")]
impl Mutation {
    /// Undo a merge: the two profiles are rebuilt from their own events, and the link stays
    /// refused.
    async fn undo_merge(&self, ctx: &Context<'_>, id: String) -> Result<Split> {
        let RestJson(view) = rest::undo_merge(writer(ctx)?, Path(id)).await.gql()?;
        Ok(view.into())
    }

    /// Delete a person (GDPR): their events, profile and identifiers, which are suppressed.
    async fn delete_profile(&self, ctx: &Context<'_>, id: String) -> Result<Split> {
        let RestJson(view) = rest::delete_profile(writer(ctx)?, Path(id)).await.gql()?;
        Ok(view.into())
    }

    /// Create an audience; its members are backfilled from history.
    async fn create_audience(&self, ctx: &Context<'_>, input: AudienceInput) -> Result<Audience> {
        let (_, RestJson(view)) =
            rest_audiences::create_audience(writer(ctx)?, RestJson(input.into()))
                .await
                .gql()?;
        Ok(Audience(view))
    }

    /// Change an audience's name, description or rule.
    async fn update_audience(
        &self,
        ctx: &Context<'_>,
        id: String,
        input: AudienceInput,
    ) -> Result<Audience> {
        let RestJson(view) =
            rest_audiences::edit_audience(writer(ctx)?, Path(id), RestJson(input.into()))
                .await
                .gql()?;
        Ok(Audience(view))
    }

    /// Delete an audience; returns its id.
    async fn delete_audience(&self, ctx: &Context<'_>, id: String) -> Result<String> {
        rest_audiences::delete_audience(writer(ctx)?, Path(id.clone()))
            .await
            .gql()?;
        Ok(id)
    }

    /// Create or replace a computed trait (see docs/audiences.md for the definition).
    async fn put_computed_trait(
        &self,
        ctx: &Context<'_>,
        name: String,
        definition: Json<Value>,
    ) -> Result<ComputedTrait> {
        let RestJson(view) =
            rest_audiences::put_computed(writer(ctx)?, Path(name), RestJson(definition.0))
                .await
                .gql()?;
        Ok(view.into())
    }

    /// Delete a computed trait; returns its name.
    async fn delete_computed_trait(&self, ctx: &Context<'_>, name: String) -> Result<String> {
        rest_audiences::delete_computed(writer(ctx)?, Path(name.clone()))
            .await
            .gql()?;
        Ok(name)
    }

    /// Create an API key; its secret is in the answer, and nowhere else ever.
    async fn create_key(
        &self,
        ctx: &Context<'_>,
        kind: KeyKind,
        #[graphql(default)] name: String,
    ) -> Result<CreatedKey> {
        let request = CreateKey {
            kind: kind.as_str().to_owned(),
            name,
        };
        let (_, RestJson(view)) = rest::create_key(writer(ctx)?, RestJson(request))
            .await
            .gql()?;
        Ok(CreatedKey {
            secret: view.secret,
            key: view.key.into(),
        })
    }

    /// Revoke an API key; returns its id.
    async fn revoke_key(&self, ctx: &Context<'_>, id: String) -> Result<String> {
        rest::revoke_key(writer(ctx)?, Path(id.clone()))
            .await
            .gql()?;
        Ok(id)
    }
}
