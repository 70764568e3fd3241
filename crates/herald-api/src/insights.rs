//! Insights over REST: trends, funnels and retention (`POST /api/v1/insights/{trends,funnels,
//! retention}`, query JSON in, result JSON out) and saved insights. Routed inside the admin
//! router, so they take its authentication. The `run_*` functions are the entry points any
//! other layer (GraphQL) calls too. Semantics: docs/insights.md.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use herald_insights::{
    Context, FunnelQuery, FunnelResult, Index, QueryError, RetentionQuery, RetentionResult,
    TrendQuery, TrendResult,
};
use herald_pipeline::insights::InsightsError;
use herald_storage::insights::SavedInsight;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::admin::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/insights/trends", post(trends))
        .route("/api/v1/insights/funnels", post(funnels))
        .route("/api/v1/insights/retention", post(retention))
        .route("/api/v1/insights/saved", get(list_saved).post(create_saved))
        .route(
            "/api/v1/insights/saved/{id}",
            get(get_saved).put(put_saved).delete(delete_saved),
        )
}

fn query_error(e: QueryError) -> ApiError {
    match e {
        QueryError::UnknownAudience(id) => ApiError::NotFound(
            "audience_not_found",
            format!("no audience has the id `{id}`"),
        ),
        other => ApiError::BadRequest(other.code(), other.to_string()),
    }
}

/// The members of each audience a query names (404 for an unknown one).
fn members_of(
    store: &dyn herald_storage::Store,
    ids: Vec<String>,
) -> Result<Result<HashMap<String, Vec<String>>, String>, herald_storage::StorageError> {
    let definitions = store.definitions()?;
    let mut out = HashMap::new();
    for id in ids {
        if !definitions.audiences.contains_key(&id) {
            return Ok(Err(id));
        }
        let mut members = Vec::new();
        let mut after = None;
        loop {
            let page = store.members(&id, after.as_ref(), 10_000)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            members.extend(page.into_iter().map(|(p, _)| p.0));
        }
        out.insert(id, members);
    }
    Ok(Ok(out))
}

/// Resolve the audiences, then run `f` on this node's index, caught up first.
pub(crate) async fn run<R: Send + 'static>(
    state: &AppState,
    audiences: Vec<String>,
    f: impl FnOnce(&Index, &Context) -> Result<R, QueryError> + Send + 'static,
) -> Result<R, ApiError> {
    let audiences = match blocking(state, move |s| members_of(s, audiences)).await? {
        Ok(a) => a,
        Err(id) => return Err(query_error(QueryError::UnknownAudience(id))),
    };
    let ctx = Context {
        now_ms: herald_storage::clock::now_ms(),
        audiences,
    };
    let insights = state.insights.clone();
    let outcome = tokio::task::spawn_blocking(move || insights.query(|index| f(index, &ctx)))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    match outcome {
        Ok(result) => result.map_err(query_error),
        Err(InsightsError::Warming { loaded, total }) => Err(ApiError::Rejected(
            StatusCode::SERVICE_UNAVAILABLE,
            "insights_warming",
            format!(
                "the insights index is loading: {loaded} of {total} log positions; retry shortly"
            ),
        )),
        Err(InsightsError::Storage(e)) => Err(e.into()),
    }
}

pub async fn run_trend(state: &AppState, q: TrendQuery) -> Result<TrendResult, ApiError> {
    run(state, q.audience_ids(), move |index, ctx| {
        index.trend(&q, ctx)
    })
    .await
}

pub async fn run_funnel(state: &AppState, q: FunnelQuery) -> Result<FunnelResult, ApiError> {
    run(state, q.audience_ids(), move |index, ctx| {
        index.funnel(&q, ctx)
    })
    .await
}

pub async fn run_retention(
    state: &AppState,
    q: RetentionQuery,
) -> Result<RetentionResult, ApiError> {
    run(state, q.audience_ids(), move |index, ctx| {
        index.retention(&q, ctx)
    })
    .await
}

const QUERY_ERRORS: &str = "`invalid_range`, `too_many_buckets`, `invalid_steps`, `invalid_window`, `invalid_filter`, `invalid_breakdown` or `invalid_periods`";

/// Event counts or distinct profiles per hour or day.
#[utoipa::path(post, path = "/api/v1/insights/trends", tag = "insights", request_body = TrendQuery,
    responses((status = 200, body = TrendResult),
        (status = 400, description = QUERY_ERRORS, body = ErrorBody),
        (status = 404, description = "`audience_not_found`", body = ErrorBody),
        (status = 503, description = "`insights_warming`: the index is still loading (the message says how far); retry after `Retry-After` seconds", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn trends(
    State(state): State<AppState>,
    Json(q): Json<TrendQuery>,
) -> Result<Json<TrendResult>, ApiError> {
    Ok(Json(run_trend(&state, q).await?))
}

/// Conversion through 2–10 ordered steps within a window.
#[utoipa::path(post, path = "/api/v1/insights/funnels", tag = "insights", request_body = FunnelQuery,
    responses((status = 200, body = FunnelResult),
        (status = 400, description = QUERY_ERRORS, body = ErrorBody),
        (status = 404, description = "`audience_not_found`", body = ErrorBody),
        (status = 503, description = "`insights_warming`: the index is still loading; retry after `Retry-After` seconds", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn funnels(
    State(state): State<AppState>,
    Json(q): Json<FunnelQuery>,
) -> Result<Json<FunnelResult>, ApiError> {
    Ok(Json(run_funnel(&state, q).await?))
}

/// Cohorts by first start event, and who returned in each later period.
#[utoipa::path(post, path = "/api/v1/insights/retention", tag = "insights", request_body = RetentionQuery,
    responses((status = 200, body = RetentionResult),
        (status = 400, description = QUERY_ERRORS, body = ErrorBody),
        (status = 404, description = "`audience_not_found`", body = ErrorBody),
        (status = 503, description = "`insights_warming`: the index is still loading; retry after `Retry-After` seconds", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn retention(
    State(state): State<AppState>,
    Json(q): Json<RetentionQuery>,
) -> Result<Json<RetentionResult>, ApiError> {
    Ok(Json(run_retention(&state, q).await?))
}

/// What kind of query a saved insight holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum InsightKind {
    Trend,
    Funnel,
    Retention,
}

impl InsightKind {
    fn as_str(self) -> &'static str {
        match self {
            InsightKind::Trend => "trend",
            InsightKind::Funnel => "funnel",
            InsightKind::Retention => "retention",
        }
    }

    fn parse(s: &str) -> Option<InsightKind> {
        [
            InsightKind::Trend,
            InsightKind::Funnel,
            InsightKind::Retention,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A saved insight as written: a name, a kind, and a query of that kind.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedInsightInput {
    /// 1–200 characters.
    pub name: String,
    pub kind: InsightKind,
    /// A `TrendQuery`, `FunnelQuery` or `RetentionQuery`, as `kind` says.
    #[schema(value_type = Object)]
    pub query: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedInsightView {
    pub id: String,
    pub name: String,
    pub kind: InsightKind,
    #[schema(value_type = Object)]
    pub query: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(s: SavedInsight) -> Result<SavedInsightView, ApiError> {
    Ok(SavedInsightView {
        kind: InsightKind::parse(&s.kind)
            .ok_or_else(|| ApiError::Internal(format!("saved insight kind {:?}", s.kind)))?,
        id: s.id,
        name: s.name,
        query: s.query,
        created_at: s.created_at,
        updated_at: s.updated_at,
    })
}

/// The input checked: a name of 1–200 characters, and a query that reads as its kind.
fn checked(input: &SavedInsightInput) -> Result<(), ApiError> {
    let chars = input.name.trim().chars().count();
    if chars == 0 || chars > 200 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "a saved insight's `name` is 1–200 characters",
        ));
    }
    let q = input.query.clone();
    let read = match input.kind {
        InsightKind::Trend => serde_json::from_value::<TrendQuery>(q).map(|_| ()),
        InsightKind::Funnel => serde_json::from_value::<FunnelQuery>(q).map(|_| ()),
        InsightKind::Retention => serde_json::from_value::<RetentionQuery>(q).map(|_| ()),
    };
    read.map_err(|e| {
        ApiError::bad_request(
            "invalid_query",
            format!("`query` is not a {} query: {e}", input.kind.as_str()),
        )
    })
}

fn saved_missing(id: &str) -> ApiError {
    ApiError::NotFound(
        "saved_insight_not_found",
        format!("no saved insight has the id `{id}`"),
    )
}

/// Saved insights, oldest first.
#[utoipa::path(get, path = "/api/v1/insights/saved", tag = "insights",
    responses((status = 200, body = Vec<SavedInsightView>)), security(("admin_key" = [])))]
pub async fn list_saved(
    State(state): State<AppState>,
) -> Result<Json<Vec<SavedInsightView>>, ApiError> {
    let all = blocking(&state, |s| s.saved_insights()).await?;
    Ok(Json(all.into_iter().map(view).collect::<Result<_, _>>()?))
}

/// Save an insight; it gets a new id.
#[utoipa::path(post, path = "/api/v1/insights/saved", tag = "insights", request_body = SavedInsightInput,
    responses((status = 201, body = SavedInsightView),
        (status = 400, description = "`invalid_name`, or `invalid_query`: the query does not read as its kind", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn create_saved(
    State(state): State<AppState>,
    Json(input): Json<SavedInsightInput>,
) -> Result<(StatusCode, Json<SavedInsightView>), ApiError> {
    checked(&input)?;
    let now = herald_storage::clock::now();
    let saved = SavedInsight {
        id: uuid::Uuid::new_v4().to_string(),
        name: input.name.trim().to_owned(),
        kind: input.kind.as_str().to_owned(),
        query: input.query,
        created_at: now,
        updated_at: now,
    };
    let stored = saved.clone();
    blocking(&state, move |s| s.put_saved_insight(&stored)).await?;
    Ok((StatusCode::CREATED, Json(view(saved)?)))
}

#[utoipa::path(get, path = "/api/v1/insights/saved/{id}", tag = "insights",
    params(("id" = String, Path)),
    responses((status = 200, body = SavedInsightView), (status = 404, description = "`saved_insight_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn get_saved(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SavedInsightView>, ApiError> {
    let key = id.clone();
    let found = blocking(&state, move |s| s.saved_insight(&key)).await?;
    Ok(Json(view(found.ok_or_else(|| saved_missing(&id))?)?))
}

/// Replace a saved insight's name, kind and query.
#[utoipa::path(put, path = "/api/v1/insights/saved/{id}", tag = "insights", request_body = SavedInsightInput,
    params(("id" = String, Path)),
    responses((status = 200, body = SavedInsightView),
        (status = 400, description = "`invalid_name` or `invalid_query`", body = ErrorBody),
        (status = 404, description = "`saved_insight_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn put_saved(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<SavedInsightInput>,
) -> Result<Json<SavedInsightView>, ApiError> {
    checked(&input)?;
    let key = id.clone();
    let Some(old) = blocking(&state, move |s| s.saved_insight(&key)).await? else {
        return Err(saved_missing(&id));
    };
    let saved = SavedInsight {
        name: input.name.trim().to_owned(),
        kind: input.kind.as_str().to_owned(),
        query: input.query,
        updated_at: herald_storage::clock::now(),
        ..old
    };
    let stored = saved.clone();
    blocking(&state, move |s| s.put_saved_insight(&stored)).await?;
    Ok(Json(view(saved)?))
}

#[utoipa::path(delete, path = "/api/v1/insights/saved/{id}", tag = "insights",
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "`saved_insight_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn delete_saved(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let key = id.clone();
    if blocking(&state, move |s| s.delete_saved_insight(&key)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(saved_missing(&id))
    }
}
