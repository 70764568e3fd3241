//! `/api/v1/quarantine`: events the processor set aside instead of applying
//! (`herald_pipeline::quarantine`): list and inspect them, retry one after an upgrade, or
//! discard it.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use herald_pipeline::processor::CommandError;
use herald_storage::Quarantined;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, command_error};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::AppState;

/// A quarantined event.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantinedView {
    /// Its position in the log.
    pub seq: u64,
    /// Why it was set aside: it could not be read back, or applying it failed for good.
    pub reason: String,
    pub quarantined_at: String,
    /// The event as stored in the log (only in the single-event view; `null` when it is no
    /// longer in the log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantineList {
    /// In log order.
    pub events: Vec<QuarantinedView>,
    /// All quarantined events, not only this page.
    pub total: u64,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuarantineQuery {
    /// Only events after this log position.
    pub after: Option<u64>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

fn view(q: Quarantined, stored: Option<String>) -> QuarantinedView {
    let at = Utc
        .timestamp_millis_opt(q.at_ms)
        .single()
        .map(herald_core::event::rfc3339)
        .unwrap_or_default();
    QuarantinedView {
        seq: q.seq,
        reason: q.reason,
        quarantined_at: at,
        stored,
    }
}

fn not_quarantined(seq: u64) -> ApiError {
    ApiError::NotFound(
        "not_quarantined",
        format!("no quarantined event at position {seq}"),
    )
}

/// Quarantined events, in log order.
#[utoipa::path(get, path = "/api/v1/quarantine", tag = "operations", params(QuarantineQuery),
    responses((status = 200, body = QuarantineList), (status = 400, description = "`invalid_limit` or `invalid_query`", body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn list_quarantined(
    State(state): State<AppState>,
    Query(q): Query<QuarantineQuery>,
) -> Result<Json<QuarantineList>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be between 1 and 1000",
        ));
    }
    // Positions are stored as 64-bit signed integers (as the schema says: `int64`).
    let after = q.after.unwrap_or(0);
    if after > i64::MAX as u64 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "after must be a log position (at most 2^63 - 1)",
        ));
    }
    let (page, total) = blocking(&state, move |s| {
        Ok((s.quarantined(after, limit + 1)?, s.quarantined_count()?))
    })
    .await?;
    let more = page.len() > limit;
    let events: Vec<QuarantinedView> = page
        .into_iter()
        .take(limit)
        .map(|q| view(q, None))
        .collect();
    Ok(Json(QuarantineList {
        next_after: events.last().map(|e| e.seq).filter(|_| more),
        events,
        total,
    }))
}

/// One quarantined event, with its stored text.
#[utoipa::path(get, path = "/api/v1/quarantine/{seq}", tag = "operations",
    params(("seq" = u64, Path, description = "Log position")),
    responses((status = 200, body = QuarantinedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn get_quarantined(
    State(state): State<AppState>,
    Path(seq): Path<u64>,
) -> Result<Json<QuarantinedView>, ApiError> {
    let found = blocking(&state, move |s| {
        let entry = s.quarantined(seq.saturating_sub(1), 1)?.into_iter().next();
        match entry.filter(|q| q.seq == seq) {
            Some(q) => Ok(Some((q, s.stored_text(seq)?))),
            None => Ok(None),
        }
    })
    .await?;
    let (q, stored) = found.ok_or_else(|| not_quarantined(seq))?;
    Ok(Json(view(q, stored)))
}

/// Apply a quarantined event now (after an upgrade fixed what made it fail). It leaves the
/// quarantine only if it applies; a 409 gives the reason it still fails.
#[utoipa::path(post, path = "/api/v1/quarantine/{seq}/retry", tag = "operations",
    params(("seq" = u64, Path, description = "Log position")),
    responses((status = 204, description = "Applied; no longer quarantined"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Still fails (`still_failing`)", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn retry_quarantined(
    State(state): State<AppState>,
    Path(seq): Path<u64>,
) -> Result<StatusCode, ApiError> {
    state
        .processor
        .retry_quarantined(seq)
        .await
        .map_err(|e| match e {
            CommandError::NotFound => not_quarantined(seq),
            CommandError::StillFailing(reason) => ApiError::Conflict(
                "still_failing",
                format!("event {seq} still cannot be applied: {reason}"),
            ),
            other => command_error(other),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Discard a quarantined event: it is removed from the quarantine and from the log.
#[utoipa::path(delete, path = "/api/v1/quarantine/{seq}", tag = "operations",
    params(("seq" = u64, Path, description = "Log position")),
    responses((status = 204, description = "Discarded"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn discard_quarantined(
    State(state): State<AppState>,
    Path(seq): Path<u64>,
) -> Result<StatusCode, ApiError> {
    state
        .processor
        .discard_quarantined(seq)
        .await
        .map_err(|e| match e {
            CommandError::NotFound => not_quarantined(seq),
            other => command_error(other),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
