//! Saved insights: a name, a kind, a query of that kind, and optionally a rolling range (the
//! last N whole UTC days), kept in the store so every node sees them; and running one.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, TimeZone, Utc};
use herald_insights::{FunnelQuery, RetentionQuery, TrendQuery};
use herald_storage::insights::SavedInsight;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{run_funnel, run_retention, run_trend, QUERY_ERRORS};
use crate::admin::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;

/// The longest rolling range, in days (ten years).
const MAX_LAST_DAYS: u32 = 3650;

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
    pub query: Value,
    /// 1–3650: run over the last this many whole UTC days, up to the end of today, instead of
    /// the query's own `from` and `to` (which must still be there). Absent: the query's range.
    #[serde(default, deserialize_with = "crate::extract::whole_u32")]
    pub last_days: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedInsightView {
    pub id: String,
    pub name: String,
    pub kind: InsightKind,
    #[schema(value_type = Object)]
    pub query: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_days: Option<u32>,
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
        last_days: s.last_days,
        created_at: s.created_at,
        updated_at: s.updated_at,
    })
}

/// The input checked: a name of 1–200 characters, a rolling range of 1–3650 days, and a query
/// that reads as its kind.
fn checked(input: &SavedInsightInput) -> Result<(), ApiError> {
    if input.last_days.is_some_and(|d| d == 0 || d > MAX_LAST_DAYS) {
        return Err(ApiError::bad_request(
            "invalid_last_days",
            format!("`lastDays` is 1–{MAX_LAST_DAYS}"),
        ));
    }
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
        (status = 400, description = "`invalid_name`, `invalid_last_days`, or `invalid_query`: the query does not read as its kind", body = ErrorBody)),
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
        last_days: input.last_days,
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

/// Replace a saved insight's name, kind, query and rolling range.
#[utoipa::path(put, path = "/api/v1/insights/saved/{id}", tag = "insights", request_body = SavedInsightInput,
    params(("id" = String, Path)),
    responses((status = 200, body = SavedInsightView),
        (status = 400, description = "`invalid_name`, `invalid_last_days` or `invalid_query`", body = ErrorBody),
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
        last_days: input.last_days,
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

/// `[from, to)` of the last `days` whole UTC days, up to the end of `now`'s day (so today's
/// events so far count).
pub fn rolling_range(days: u32, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = now.date_naive();
    let to = Utc.from_utc_datetime(&(today + Duration::days(1)).and_time(chrono::NaiveTime::MIN));
    (to - Duration::days(i64::from(days)), to)
}

/// A saved insight run now: the range it covered and its result.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedInsightRun {
    pub insight: SavedInsightView,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// A `TrendResult`, `FunnelResult` or `RetentionResult`, as the insight's kind says.
    #[schema(value_type = Object)]
    pub result: Value,
}

fn result<T: Serialize>(value: T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Run a saved insight now, over its rolling range if it has one.
#[utoipa::path(post, path = "/api/v1/insights/saved/{id}/run", tag = "insights",
    params(("id" = String, Path)),
    responses((status = 200, body = SavedInsightRun),
        (status = 400, description = QUERY_ERRORS, body = ErrorBody),
        (status = 404, description = "`saved_insight_not_found`, or `audience_not_found`: the query names an audience deleted since", body = ErrorBody),
        (status = 503, description = "`insights_warming`: the index is still loading; retry after `Retry-After` seconds", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn run_saved(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SavedInsightRun>, ApiError> {
    let key = id.clone();
    let found = blocking(&state, move |s| s.saved_insight(&key)).await?;
    let insight = view(found.ok_or_else(|| saved_missing(&id))?)?;
    let mut query = insight.query.clone();
    if let (Some(days), Some(fields)) = (insight.last_days, query.as_object_mut()) {
        let (from, to) = rolling_range(days, herald_storage::clock::now());
        fields.insert("from".into(), result(from)?);
        fields.insert("to".into(), result(to)?);
    }
    let stored = |e: serde_json::Error| {
        ApiError::Internal(format!("saved insight `{id}` no longer reads: {e}"))
    };
    let (from, to, result) = match insight.kind {
        InsightKind::Trend => {
            let q: TrendQuery = serde_json::from_value(query).map_err(stored)?;
            (q.from, q.to, result(run_trend(&state, q).await?)?)
        }
        InsightKind::Funnel => {
            let q: FunnelQuery = serde_json::from_value(query).map_err(stored)?;
            (q.from, q.to, result(run_funnel(&state, q).await?)?)
        }
        InsightKind::Retention => {
            let q: RetentionQuery = serde_json::from_value(query).map_err(stored)?;
            (q.from, q.to, result(run_retention(&state, q).await?)?)
        }
    };
    Ok(Json(SavedInsightRun {
        insight,
        from,
        to,
        result,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rolling_range_ends_at_the_end_of_today() {
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 17, 45, 3).unwrap();
        let (from, to) = rolling_range(7, now);
        assert_eq!(to, Utc.with_ymd_and_hms(2026, 3, 11, 0, 0, 0).unwrap());
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 3, 4, 0, 0, 0).unwrap());
        let midnight = Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap();
        assert_eq!(rolling_range(1, midnight), (midnight, to));
    }
}
