//! Insights over GraphQL: trends, funnels and retention (the query and the result are the
//! JSON documents of `docs/insights.md`, as for REST), saved insights, and the catalog of
//! names seen in the data.

use async_graphql::{Context, Enum, InputObject, Json, Object, Result, SimpleObject};
use axum::extract::State;
use chrono::{DateTime, Utc};
use herald_api::catalog::{self as rest_catalog, CatalogView};
use herald_api::error::ApiError;
use herald_api::extract::{Json as RestJson, Path};
use herald_api::insights::{self as rest, InsightKind, SavedInsightView};
use herald_api::AppState;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::OrGql;
use crate::mutation::writer;

fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// A query document read as REST reads its body: a wrong shape is `unprocessable_body`.
fn read<T: DeserializeOwned>(query: Json<Value>) -> Result<T> {
    serde_json::from_value(query.0)
        .map_err(|e| {
            ApiError::Rejected(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable_body",
                format!("the query does not read: {e}"),
            )
        })
        .gql()
}

fn json<T: serde::Serialize>(value: T) -> Result<Json<Value>> {
    Ok(Json(serde_json::to_value(value)?))
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "InsightKind")]
pub enum Kind {
    Trend,
    Funnel,
    Retention,
}

impl From<Kind> for InsightKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Trend => InsightKind::Trend,
            Kind::Funnel => InsightKind::Funnel,
            Kind::Retention => InsightKind::Retention,
        }
    }
}

impl From<InsightKind> for Kind {
    fn from(k: InsightKind) -> Self {
        match k {
            InsightKind::Trend => Kind::Trend,
            InsightKind::Funnel => Kind::Funnel,
            InsightKind::Retention => Kind::Retention,
        }
    }
}

/// A saved chart: a name, a kind, and a query of that kind.
#[derive(SimpleObject)]
pub struct SavedInsight {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub query: Json<Value>,
    /// Runs over the last this many whole UTC days instead of the query's own range.
    pub last_days: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<SavedInsightView> for SavedInsight {
    fn from(v: SavedInsightView) -> Self {
        SavedInsight {
            id: v.id,
            name: v.name,
            kind: v.kind.into(),
            query: Json(v.query),
            last_days: v.last_days,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(InputObject)]
pub struct SavedInsightInput {
    /// 1–200 characters.
    pub name: String,
    pub kind: Kind,
    /// A trend, funnel or retention query, as `kind` says.
    pub query: Json<Value>,
    /// 1–3650: run over the last this many whole UTC days, up to the end of today, instead of
    /// the query's own `from` and `to`.
    pub last_days: Option<u32>,
}

impl From<SavedInsightInput> for rest::SavedInsightInput {
    fn from(i: SavedInsightInput) -> Self {
        rest::SavedInsightInput {
            name: i.name,
            kind: i.kind.into(),
            query: i.query.0,
            last_days: i.last_days,
        }
    }
}

/// A saved insight's result, and the range it covered.
#[derive(SimpleObject)]
pub struct SavedInsightRun {
    pub insight: SavedInsight,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The result document of the insight's kind (docs/insights.md).
    pub result: Json<Value>,
}

/// Names seen in the data, for completing rules and queries.
#[derive(SimpleObject)]
pub struct Catalog {
    /// Every track event name seen (names stay once seen).
    pub event_names: Vec<String>,
    /// Every top-level event property name seen.
    pub property_names: Vec<String>,
    /// The trait names of a sample of up to 1,000 profiles.
    pub trait_names: Vec<String>,
}

impl From<CatalogView> for Catalog {
    fn from(v: CatalogView) -> Self {
        Catalog {
            event_names: v.event_names,
            property_names: v.property_names,
            trait_names: v.trait_names,
        }
    }
}

#[derive(Default)]
pub struct InsightsQuery;

#[Object]
impl InsightsQuery {
    /// Event counts or distinct profiles per hour or day (query and result: docs/insights.md).
    async fn trend(&self, ctx: &Context<'_>, query: Json<Value>) -> Result<Json<Value>> {
        json(rest::run_trend(state(ctx), read(query)?).await.gql()?)
    }

    /// Ordered steps within a conversion window (query and result: docs/insights.md).
    async fn funnel(&self, ctx: &Context<'_>, query: Json<Value>) -> Result<Json<Value>> {
        json(rest::run_funnel(state(ctx), read(query)?).await.gql()?)
    }

    /// Cohorts by first event, returning by period (query and result: docs/insights.md).
    async fn retention(&self, ctx: &Context<'_>, query: Json<Value>) -> Result<Json<Value>> {
        json(rest::run_retention(state(ctx), read(query)?).await.gql()?)
    }

    /// Saved insights, oldest first.
    async fn saved_insights(&self, ctx: &Context<'_>) -> Result<Vec<SavedInsight>> {
        let RestJson(list) = rest::list_saved(State(state(ctx).clone())).await.gql()?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// A saved insight run now (over its rolling range if it has one).
    async fn run_saved_insight(&self, ctx: &Context<'_>, id: String) -> Result<SavedInsightRun> {
        let RestJson(run) = rest::run_saved(State(state(ctx).clone()), Path(id))
            .await
            .gql()?;
        Ok(SavedInsightRun {
            insight: run.insight.into(),
            from: run.from,
            to: run.to,
            result: Json(run.result),
        })
    }

    /// Names seen in the data: track events, properties, traits.
    async fn catalog(&self, ctx: &Context<'_>) -> Result<Catalog> {
        let RestJson(view) = rest_catalog::catalog(State(state(ctx).clone()))
            .await
            .gql()?;
        Ok(view.into())
    }
}

#[derive(Default)]
pub struct InsightsMutation;

#[Object]
impl InsightsMutation {
    /// Save an insight (its query is checked against its kind).
    async fn save_insight(
        &self,
        ctx: &Context<'_>,
        input: SavedInsightInput,
    ) -> Result<SavedInsight> {
        let (_, RestJson(view)) = rest::create_saved(writer(ctx)?, RestJson(input.into()))
            .await
            .gql()?;
        Ok(view.into())
    }

    /// Replace a saved insight's name, kind, query and rolling range.
    async fn update_saved_insight(
        &self,
        ctx: &Context<'_>,
        id: String,
        input: SavedInsightInput,
    ) -> Result<SavedInsight> {
        let RestJson(view) = rest::put_saved(writer(ctx)?, Path(id), RestJson(input.into()))
            .await
            .gql()?;
        Ok(view.into())
    }

    /// Delete a saved insight; returns its id.
    async fn delete_saved_insight(&self, ctx: &Context<'_>, id: String) -> Result<String> {
        rest::delete_saved(writer(ctx)?, Path(id.clone()))
            .await
            .gql()?;
        Ok(id)
    }
}
