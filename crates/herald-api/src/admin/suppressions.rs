//! `/api/v1/suppressions`: the identifiers of deleted people, whose later events are dropped;
//! an admin may lift a suppression (the person came back and consented, or it was a
//! mistake). Lifting is recorded with its time and listed with the suppressions that hold.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{TimeZone, Utc};
use herald_storage::{StorageError, Suppression};
use serde::Serialize;
use utoipa::ToSchema;

use super::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;

/// One suppression, holding or lifted.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionView {
    /// `kind:value`.
    pub identifier: String,
    /// When its person was deleted (`null` for deletions made before this was recorded).
    pub suppressed_at: Option<String>,
    /// When an admin lifted it; absent while it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifted_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionsView {
    /// Suppressions that hold: events carrying these identifiers are dropped.
    pub suppressions: Vec<SuppressionView>,
    /// Suppressions lifted by an admin, newest first per identifier.
    pub lifted: Vec<SuppressionView>,
}

fn time(ms: Option<i64>) -> Option<String> {
    ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .map(herald_core::event::rfc3339)
}

impl From<Suppression> for SuppressionView {
    fn from(s: Suppression) -> SuppressionView {
        SuppressionView {
            identifier: s.identifier.to_string(),
            suppressed_at: time(s.suppressed_at_ms),
            lifted_at: time(s.lifted_at_ms),
        }
    }
}

/// Every suppression that holds, and every one lifted.
#[utoipa::path(get, path = "/api/v1/suppressions", tag = "identity",
    responses((status = 200, body = SuppressionsView), (status = 401, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn list_suppressions(
    State(state): State<AppState>,
) -> Result<Json<SuppressionsView>, ApiError> {
    let all = blocking(&state, |s| s.suppressions()).await?;
    let (lifted, holding): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|s| s.lifted_at_ms.is_some());
    Ok(Json(SuppressionsView {
        suppressions: holding.into_iter().map(Into::into).collect(),
        lifted: lifted.into_iter().map(Into::into).collect(),
    }))
}

/// Lift a suppression: later events carrying the identifier are processed again (events
/// dropped while it held stay gone). Recorded with its time.
#[utoipa::path(delete, path = "/api/v1/suppressions/{identifier}", tag = "identity",
    params(("identifier" = String, Path, description = "`kind:value`, as listed")),
    responses((status = 200, body = SuppressionView),
        (status = 400, description = "`invalid_identifier`: not `kind:value`, or a value its kind does not accept", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn lift_suppression(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<SuppressionView>, ApiError> {
    // Normalised as ingest stores it: `email:ANA@Example.com` lifts `email:ana@example.com`.
    let id = super::lookup_identifier(&state, &raw)?;
    let at_ms = herald_storage::clock::now_ms();
    let lifted = blocking(&state, move |s| {
        let mut lifted = None;
        s.in_transaction(&mut |txn| {
            lifted = txn.lift_suppression(&id, at_ms)?;
            Ok::<_, StorageError>(())
        })?;
        Ok(lifted)
    })
    .await?;
    match lifted {
        Some(s) => Ok(Json(s.into())),
        None => Err(ApiError::NotFound(
            "suppression_not_found",
            format!("{raw} is not suppressed"),
        )),
    }
}
