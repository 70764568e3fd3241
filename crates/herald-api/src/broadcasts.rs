//! Broadcasts over REST (docs/broadcasts.md): a template to an audience, now, at a time, or at
//! a wall-clock time in each person's time zone, with a holdout; its progress; pause, resume,
//! cancel. The fan-out (herald_pipeline::messaging::broadcast) enqueues the messages and the
//! send pipeline decides and sends them.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use herald_messaging::broadcast::{holdout_percent, Action, Schedule, Status};
use herald_messaging::template::Target;
use herald_messaging::{Category, Priority};
use herald_pipeline::messaging::broadcast::{hold_back, source_of};
use herald_storage::broadcasts::BroadcastRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::admin::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/broadcasts",
            get(list_broadcasts).post(create_broadcast),
        )
        .route("/api/v1/broadcasts/{id}", get(get_broadcast))
        .route("/api/v1/broadcasts/{id}/pause", post(pause_broadcast))
        .route("/api/v1/broadcasts/{id}/resume", post(resume_broadcast))
        .route("/api/v1/broadcasts/{id}/cancel", post(cancel_broadcast))
}

/// A broadcast to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastInput {
    /// 1–200 characters, not blank.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The template's id; its current version is the one every message renders.
    pub template: String,
    /// The audience's id: its members when the fan-out reads them.
    pub audience: String,
    /// The subscription topic the messages belong to.
    #[serde(default)]
    pub topic: Option<String>,
    /// Default `marketing` (`transactional` for a transactional broadcast).
    #[serde(default)]
    pub category: Option<String>,
    /// `low`, `normal` (default), `high`, `critical`.
    #[serde(default)]
    pub priority: Option<String>,
    /// Skips subscriptions, quiet hours and caps (never suppression): for service notices
    /// every member must receive.
    #[serde(default)]
    pub transactional: bool,
    /// This share of the audience (0–100, default 0) is held out: recorded, not sent to.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub holdout_percent: Option<f64>,
    /// Send at this instant (RFC 3339); default now. Not with `local_time`.
    #[serde(default)]
    pub send_at: Option<DateTime<Utc>>,
    /// Send when each person's clock shows this time (`YYYY-MM-DDTHH:MM[:SS]`, no offset).
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")]
    pub local_time: Option<String>,
    /// With `local_time`: the zone of people whose time zone is unknown (default `UTC`).
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// A broadcast's messages so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    /// Members the fan-out has enqueued (held-out ones included).
    pub enqueued: u64,
    /// The audience's size now.
    pub audience_size: u64,
    /// Messages by status: `queued`, `deferred`, `paused`, `sending`, `sent`, `skipped`,
    /// `failed`, …
    pub statuses: BTreeMap<String, u64>,
    /// Skipped messages by reason (`holdout`, `unsubscribed`, `capped`, `cancelled`, …).
    pub skipped: BTreeMap<String, u64>,
    /// Failed messages by error code.
    pub failed: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastView {
    pub id: String,
    pub name: String,
    pub template_id: String,
    pub template_version: u32,
    pub audience_id: String,
    pub topic: Option<String>,
    pub category: String,
    pub priority: String,
    pub transactional: bool,
    pub holdout_percent: f64,
    /// The instant, when everyone gets it at once.
    pub send_at: Option<DateTime<Utc>>,
    /// The wall-clock time, when each person gets it at theirs.
    pub local_time: Option<String>,
    pub time_zone: Option<String>,
    /// `scheduled`, `running`, `paused`, `cancelled`, `finished`.
    pub status: String,
    /// When the fan-out starts (for a local time: when the first clock shows it).
    pub starts_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Only on a single broadcast's read (`GET /api/v1/broadcasts/{id}` and the actions).
    pub progress: Option<Progress>,
}

fn at(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

fn view(b: BroadcastRecord, progress: Option<Progress>) -> BroadcastView {
    let (send_at, local_time, time_zone) = match Schedule::decode(&b.schedule) {
        Some(Schedule::At(t)) => (Some(t), None, None),
        Some(Schedule::LocalTime { local, fallback }) => (
            None,
            Some(local.format("%Y-%m-%dT%H:%M:%S").to_string()),
            Some(fallback.name().to_owned()),
        ),
        None => (None, None, None),
    };
    BroadcastView {
        id: b.id,
        name: b.name,
        template_id: b.template_id,
        template_version: b.template_version,
        audience_id: b.audience_id,
        topic: b.topic,
        category: b.category,
        priority: b.priority,
        transactional: b.transactional,
        holdout_percent: b.holdout_percent,
        send_at,
        local_time,
        time_zone,
        status: b.status,
        starts_at: at(b.start_ms),
        created_at: at(b.created_ms),
        updated_at: at(b.updated_ms),
        finished_at: b.finished_ms.and_then(at),
        progress,
    }
}

async fn with_progress(state: &AppState, b: BroadcastRecord) -> Result<BroadcastView, ApiError> {
    let (source, audience, enqueued) = (source_of(&b.id), b.audience_id.clone(), b.enqueued);
    let (statuses, outcomes, audience_size) = blocking(state, move |s| {
        Ok((
            s.message_counts(&source)?,
            s.message_outcomes(&source)?,
            s.member_count(&audience)?,
        ))
    })
    .await?;
    let mut skipped = BTreeMap::new();
    let mut failed = BTreeMap::new();
    for ((status, reason), n) in outcomes {
        match status.as_str() {
            "skipped" => skipped.insert(reason, n),
            _ => failed.insert(reason, n),
        };
    }
    Ok(view(
        b,
        Some(Progress {
            enqueued,
            audience_size,
            statuses,
            skipped,
            failed,
        }),
    ))
}

fn invalid(code: &'static str, message: String) -> ApiError {
    ApiError::bad_request(code, message)
}

/// Create a broadcast. It starts at its time (at once without one); its messages go through
/// the send governor like any other.
#[utoipa::path(post, path = "/api/v1/broadcasts", tag = "broadcasts", request_body = BroadcastInput,
    responses((status = 201, body = BroadcastView),
        (status = 400, description = "`invalid_name`, `invalid_category`, `invalid_priority`, `invalid_holdout`, `invalid_schedule` (both `send_at` and `local_time`), `invalid_local_time`, `invalid_time_zone`, `template_not_sendable`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`template_not_found` or `audience_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn create_broadcast(
    State(state): State<AppState>,
    Json(input): Json<BroadcastInput>,
) -> Result<(StatusCode, Json<BroadcastView>), ApiError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid(
            "invalid_name",
            "a broadcast's name is 1–200 characters, not blank".into(),
        ));
    }
    let category = input.category.clone().unwrap_or_else(|| {
        if input.transactional {
            "transactional"
        } else {
            "marketing"
        }
        .into()
    });
    Category::parse(&category).map_err(|e| invalid("invalid_category", e.to_string()))?;
    let priority = input.priority.clone().unwrap_or_else(|| "normal".into());
    priority
        .parse::<Priority>()
        .map_err(|e| invalid("invalid_priority", e.to_string()))?;
    let holdout = holdout_percent(input.holdout_percent.unwrap_or(0.0))
        .map_err(|e| invalid(e.code(), e.to_string()))?;
    let now = herald_storage::clock::now();
    let schedule = match (&input.send_at, &input.local_time) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "invalid_schedule",
                "give `send_at` or `local_time`, not both".into(),
            ))
        }
        (Some(at), None) => Schedule::At(*at),
        (None, Some(local)) => {
            Schedule::local_time(local, input.time_zone.as_deref().unwrap_or("UTC"))
                .map_err(|e| invalid(e.code(), e.to_string()))?
        }
        (None, None) => Schedule::At(now),
    };
    if input.time_zone.is_some() && input.local_time.is_none() {
        return Err(invalid(
            "invalid_schedule",
            "`time_zone` goes with `local_time`".into(),
        ));
    }
    let (template, audience) = (input.template.clone(), input.audience.clone());
    let (stored, known) = blocking(&state, move |s| {
        Ok((
            s.template(&template, None)?,
            s.definitions()?.audiences.contains_key(&audience),
        ))
    })
    .await?;
    let stored = stored.ok_or_else(|| {
        ApiError::NotFound(
            "template_not_found",
            format!("no template has the id `{}`", input.template),
        )
    })?;
    if !matches!(Target::parse(&stored.channel), Some(Target::Channel(_))) {
        return Err(invalid(
            "template_not_sendable",
            format!(
                "template `{}` is a {}; only channel templates are sent",
                stored.template_id, stored.channel
            ),
        ));
    }
    if !known {
        return Err(ApiError::NotFound(
            "audience_not_found",
            format!("no audience has the id `{}`", input.audience),
        ));
    }
    let now_ms = now.timestamp_millis();
    let record = BroadcastRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        template_id: stored.template_id,
        template_version: stored.version,
        audience_id: input.audience,
        topic: input.topic,
        category,
        priority,
        transactional: input.transactional,
        holdout_percent: holdout,
        schedule: schedule.encode(),
        start_ms: schedule.start().timestamp_millis(),
        status: Status::Scheduled.as_str().into(),
        cursor: None,
        enqueued: 0,
        created_ms: now_ms,
        updated_ms: now_ms,
        finished_ms: None,
    };
    let saved = record.clone();
    blocking(&state, move |s| s.create_broadcast(&saved)).await?;
    state.messaging.wake_broadcasts();
    Ok((StatusCode::CREATED, Json(view(record, None))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many (1–200, default 50).
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    #[param(pattern = r"^([0-9]{1,15}_.*)?$")]
    pub before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastsView {
    /// Newest first.
    pub broadcasts: Vec<BroadcastView>,
    /// Pass as `before` for the next page; absent on the last.
    pub next: Option<String>,
}

/// Broadcasts, newest first.
#[utoipa::path(get, path = "/api/v1/broadcasts", tag = "broadcasts", params(ListQuery),
    responses((status = 200, body = BroadcastsView),
        (status = 400, description = "`invalid_cursor`", body = ErrorBody),
        (status = 401, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn list_broadcasts(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<BroadcastsView>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let before = match q.before.as_deref() {
        None | Some("") => None,
        Some(cursor) => {
            let parsed = cursor
                .split_once('_')
                .and_then(|(ms, id)| Some((ms.parse::<i64>().ok()?, id.to_owned())));
            Some(parsed.ok_or_else(|| {
                invalid(
                    "invalid_cursor",
                    "`before` is the `next` of a previous page".into(),
                )
            })?)
        }
    };
    let rows = blocking(&state, move |s| {
        s.broadcasts(
            before.as_ref().map(|(ms, id)| (*ms, id.as_str())),
            limit + 1,
        )
    })
    .await?;
    let more = rows.len() > limit;
    let rows: Vec<BroadcastRecord> = rows.into_iter().take(limit).collect();
    let next = more
        .then(|| rows.last().map(|b| format!("{}_{}", b.created_ms, b.id)))
        .flatten();
    Ok(Json(BroadcastsView {
        broadcasts: rows.into_iter().map(|b| view(b, None)).collect(),
        next,
    }))
}

async fn find(state: &AppState, id: &str) -> Result<BroadcastRecord, ApiError> {
    let key = id.to_owned();
    blocking(state, move |s| s.broadcast(&key))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(
                "broadcast_not_found",
                format!("no broadcast has the id `{id}`"),
            )
        })
}

/// A broadcast with its progress.
#[utoipa::path(get, path = "/api/v1/broadcasts/{id}", tag = "broadcasts", params(("id" = String, Path)),
    responses((status = 200, body = BroadcastView),
        (status = 401, body = ErrorBody),
        (status = 404, description = "`broadcast_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn get_broadcast(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BroadcastView>, ApiError> {
    let b = find(&state, &id).await?;
    Ok(Json(with_progress(&state, b).await?))
}

/// Whether any of the broadcast's messages waits (queued, deferred or paused).
async fn has_waiting(state: &AppState, id: &str) -> Result<bool, ApiError> {
    let source = source_of(id);
    let counts = blocking(state, move |s| s.message_counts(&source)).await?;
    Ok(["queued", "deferred", "paused"]
        .iter()
        .any(|k| counts.get(*k).copied().unwrap_or(0) > 0))
}

/// Apply `action` by compare-and-set (retried when the fan-out moved the broadcast
/// meanwhile), then move its waiting messages to agree.
async fn act(state: &AppState, id: &str, action: Action) -> Result<BroadcastView, ApiError> {
    for _ in 0..8 {
        let b = find(state, id).await?;
        let status: Status = b
            .status
            .parse()
            .map_err(|e: String| ApiError::Internal(e))?;
        let next_status = status
            .after(action, b.cursor.is_some())
            .map_err(|e| ApiError::Conflict("invalid_transition", e.to_string()))?;
        if status == Status::Finished && !has_waiting(state, &b.id).await? {
            return Err(ApiError::Conflict(
                "invalid_transition",
                "every message of this broadcast has been handed over or skipped; nothing is left to stop".into(),
            ));
        }
        let mut next = b.clone();
        next.status = next_status.as_str().into();
        next.updated_ms = herald_storage::clock::now_ms().max(b.updated_ms + 1);
        if next_status == Status::Cancelled {
            next.finished_ms = Some(next.updated_ms);
        }
        let (stored, previous) = (next.clone(), b.updated_ms);
        let swapped = blocking(state, move |s| {
            if !s.update_broadcast(&stored, previous)? {
                return Ok(false);
            }
            hold_back(s, &stored)?;
            Ok(true)
        })
        .await?;
        if swapped {
            state.messaging.wake();
            state.messaging.wake_broadcasts();
            return with_progress(state, next).await;
        }
    }
    Err(ApiError::Conflict(
        "broadcast_busy",
        "the broadcast kept changing; try again".into(),
    ))
}

/// Pause: nothing more is enqueued, and its waiting messages wait (`paused`) — also after
/// the fan-out finished, while messages wait for people's local time.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/pause", tag = "broadcasts", params(("id" = String, Path)),
    responses((status = 200, body = BroadcastView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`broadcast_not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_transition` (cancelled, paused, or finished with nothing waiting) or `broadcast_busy`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn pause_broadcast(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BroadcastView>, ApiError> {
    Ok(Json(act(&state, &id, Action::Pause).await?))
}

/// Resume a paused broadcast: its messages are queued again and the fan-out goes on from
/// where it stopped.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/resume", tag = "broadcasts", params(("id" = String, Path)),
    responses((status = 200, body = BroadcastView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`broadcast_not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_transition` (not paused) or `broadcast_busy`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn resume_broadcast(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BroadcastView>, ApiError> {
    Ok(Json(act(&state, &id, Action::Resume).await?))
}

/// Cancel for good: messages not handed over yet are `skipped` (`cancelled`).
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/cancel", tag = "broadcasts", params(("id" = String, Path)),
    responses((status = 200, body = BroadcastView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`broadcast_not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_transition` (cancelled, or finished with nothing waiting) or `broadcast_busy`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn cancel_broadcast(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BroadcastView>, ApiError> {
    Ok(Json(act(&state, &id, Action::Cancel).await?))
}
