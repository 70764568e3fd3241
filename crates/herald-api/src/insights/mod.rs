//! Insights over REST: trends, funnels and retention (`POST /api/v1/insights/{trends,funnels,
//! retention}`, query JSON in, result JSON out) and saved insights. Routed inside the admin
//! router, so they take its authentication. The `run_*` functions are the entry points any
//! other layer (GraphQL) calls too. Semantics: docs/insights.md.

pub mod saved;

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use herald_insights::{
    Context, FunnelQuery, FunnelResult, Index, QueryError, RetentionQuery, RetentionResult,
    TrendQuery, TrendResult,
};
use herald_pipeline::insights::InsightsError;

use crate::admin::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::AppState;

pub use saved::{
    create_saved, delete_saved, get_saved, list_saved, put_saved, rolling_range, run_saved,
    InsightKind, SavedInsightInput, SavedInsightRun, SavedInsightView,
};

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
        .route("/api/v1/insights/saved/{id}/run", post(run_saved))
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

pub(crate) const QUERY_ERRORS: &str = "`invalid_range`, `too_many_buckets`, `invalid_steps`, `invalid_window`, `invalid_filter`, `invalid_breakdown` or `invalid_periods`";

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
