//! The admin REST API under `/api/v1`, authenticated with an admin key as Bearer token or a
//! dashboard session ([`crate::auth::authorize`]): viewers read, admins also change things.

pub mod audiences;
pub mod clock;
pub mod profiles;
pub mod quarantine;
pub mod suppressions;
pub mod tail;
pub mod views;

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use herald_core::audience::AudienceState;
use herald_core::identity::{Identifier, ProfileId};
use herald_core::timestamp::parse_timestamp;
use herald_pipeline::processor::CommandError;
use herald_storage::{KeyKind, ProfileRecord, StorageError, Store, TimelineFilter};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use views::*;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/profiles", get(profiles::list_profiles))
        .route(
            "/api/v1/profiles/{id}",
            get(get_profile).delete(delete_profile),
        )
        .route("/api/v1/profiles/{id}/events", get(get_timeline))
        .route("/api/v1/profiles/{id}/identity", get(get_identity))
        .route("/api/v1/merges/{merge_id}", get(get_merge))
        .route("/api/v1/merges/{merge_id}/undo", post(undo_merge))
        .route("/api/v1/keys", get(list_keys).post(create_key))
        .route("/api/v1/keys/{key_id}", delete(revoke_key))
        .route("/api/v1/status", get(status))
        .route("/api/v1/suppressions", get(suppressions::list_suppressions))
        .route(
            "/api/v1/suppressions/{identifier}",
            delete(suppressions::lift_suppression),
        )
        .route("/api/v1/quarantine", get(quarantine::list_quarantined))
        .route(
            "/api/v1/quarantine/{seq}",
            get(quarantine::get_quarantined).delete(quarantine::discard_quarantined),
        )
        .route(
            "/api/v1/quarantine/{seq}/retry",
            post(quarantine::retry_quarantined),
        )
        .route(
            "/api/v1/audiences",
            get(audiences::list_audiences).post(audiences::create_audience),
        )
        .route(
            "/api/v1/audiences/preview",
            post(audiences::preview_audience),
        )
        .route(
            "/api/v1/audiences/{audience_id}",
            get(audiences::get_audience)
                .put(audiences::edit_audience)
                .delete(audiences::delete_audience),
        )
        .route(
            "/api/v1/audiences/{audience_id}/members",
            get(audiences::list_members),
        )
        .route(
            "/api/v1/audiences/{audience_id}/members.csv",
            get(audiences::export_members),
        )
        .route(
            "/api/v1/audiences/{audience_id}/size-history",
            get(audiences::size_history),
        )
        .route(
            "/api/v1/profiles/{id}/audiences",
            get(audiences::profile_audiences),
        )
        .route(
            "/api/v1/profiles/{id}/audience-history",
            get(audiences::profile_audience_history),
        )
        .route("/api/v1/computed-traits", get(audiences::list_computed))
        .route(
            "/api/v1/computed-traits/{name}",
            get(audiences::get_computed)
                .put(audiences::put_computed)
                .delete(audiences::delete_computed),
        )
        .route("/api/v1/tail", get(tail::tail))
        .merge(crate::insights::routes())
        .merge(crate::catalog::routes())
        .merge(crate::templates::routes())
        .merge(crate::messages::routes())
        .merge(crate::preferences::admin_routes())
        .merge(crate::broadcasts::routes())
        .merge(crate::inbox::admin_routes())
        .merge(crate::messaging_settings::routes())
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::auth::authorize,
        ))
}

/// Run a storage call off the async runtime.
pub async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&dyn Store) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || f(&*store))
        .await
        .map_err(|e| {
            if e.is_panic() {
                tracing::error!(error = %e, "a storage call panicked; answered 500 internal_panic");
                ApiError::Panicked
            } else {
                ApiError::Internal(e.to_string())
            }
        })?
        .map_err(ApiError::from)
}

/// Resolve `kind:value` (or `profile_id:<id>`) to a profile.
pub(crate) async fn resolve_profile(state: &AppState, raw: &str) -> Result<ProfileId, ApiError> {
    if let Some(id) = raw.strip_prefix("profile_id:") {
        let profile = ProfileId(id.to_owned());
        let check = profile.clone();
        return match blocking(state, move |s| s.profile(&check)).await? {
            Some(_) => Ok(profile),
            None => Err(not_found(raw)),
        };
    }
    let identifier = lookup_identifier(state, raw)?;
    blocking(state, move |s| s.profile_of(&identifier))
        .await?
        .ok_or_else(|| not_found(raw))
}

/// Parse `kind:value` and normalise the value exactly as identity resolution does when it
/// reads an event (`IdentityRules::normalize`: trimmed, emails lower-cased, phones reduced to
/// digits), so a lookup finds what ingest stored. A value the rules refuse (malformed, or a
/// blocked junk value such as `null`) names no profile: 400 `invalid_identifier`.
pub(crate) fn lookup_identifier(state: &AppState, raw: &str) -> Result<Identifier, ApiError> {
    let parsed: Identifier = raw
        .parse()
        .map_err(|e: herald_core::identity::IdentifierError| {
            ApiError::bad_request("invalid_identifier", e.0)
        })?;
    let value = state
        .processor
        .identity_rules()
        .normalize(parsed.kind, &parsed.value)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_identifier",
                format!(
                    "{raw:?} is not a valid {} (or it is a value the identity rules block)",
                    parsed.kind.as_str()
                ),
            )
        })?;
    Ok(Identifier::new(parsed.kind, value))
}

fn not_found(raw: &str) -> ApiError {
    ApiError::NotFound(
        "profile_not_found",
        format!("no profile has the identifier {raw}"),
    )
}

/// A profile by any of its identifiers.
#[utoipa::path(get, path = "/api/v1/profiles/{id}", tag = "profiles",
    params(("id" = String, Path, description = "An identifier written `kind:value` (`user_id:42`, `anonymous_id:abc`, `email:ana@example.com`, `phone:+14155550100`) or `profile_id:<id>`")),
    responses((status = 200, body = ProfileView), (status = 400, description = "`invalid_identifier`: not `kind:value`, or a value its kind does not accept", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn get_profile(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ProfileView>, ApiError> {
    let profile = resolve_profile(&state, &id).await?;
    let (record, audiences) = blocking(&state, move |s| {
        Ok((s.profile(&profile)?, s.audience_state_of(&profile)?))
    })
    .await?;
    let record = record.ok_or_else(|| not_found(&id))?;
    Ok(Json(profile_view(record, audiences)))
}

/// A profile as the API shows it: its record, with its computed traits and audiences.
pub fn profile_view(record: ProfileRecord, audiences: Option<AudienceState>) -> ProfileView {
    let mut view: ProfileView = record.into();
    if let Some(audiences) = audiences {
        view.computed_traits = audiences.computed;
        view.audiences = audiences.members.into_iter().collect();
    }
    view
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Only events with this name (track event name, or `page`, `identify`, ...).
    pub event: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Only events at or before this time (RFC 3339).
    #[param(format = DateTime)]
    pub until: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^-?[0-9]+\.[0-9]+$")]
    pub cursor: Option<String>,
}

fn time_param(name: &str, raw: &Option<String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.as_deref()
        .map(|s| {
            parse_timestamp(s).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("`{name}` must be an RFC 3339 date-time"),
                )
            })
        })
        .transpose()
}

/// A profile's event timeline, newest first.
#[utoipa::path(get, path = "/api/v1/profiles/{id}/events", tag = "profiles",
    params(("id" = String, Path, description = "`kind:value` or `profile_id:<id>`"), TimelineQuery),
    responses((status = 200, body = TimelineView), (status = 400, description = "`invalid_identifier` (see the profile), or `invalid_query`: a parameter out of range or of the wrong shape", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn get_timeline(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> Result<Json<TimelineView>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "`limit` must be between 1 and 1000",
        ));
    }
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            c.split_once('.')
                .and_then(|(t, s)| Some((t.parse::<i64>().ok()?, s.parse::<u64>().ok()?)))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        "`cursor` is not a cursor this API returned",
                    )
                })
        })
        .transpose()?;
    let filter = TimelineFilter {
        event: q.event.clone(),
        since: time_param("since", &q.since)?,
        until: time_param("until", &q.until)?,
        before,
        limit,
    };
    let profile = resolve_profile(&state, &id).await?;
    let (page, events) = blocking(&state, move |s| {
        let page = s.timeline(&profile, &filter)?;
        let seqs: Vec<u64> = page.iter().map(|(_, seq)| *seq).collect();
        let events: HashMap<u64, herald_core::Event> = s.load(&seqs)?.into_iter().collect();
        Ok((page, events))
    })
    .await?;
    let next_cursor = (page.len() == limit)
        .then(|| page.last().map(|(t, s)| format!("{t}.{s}")))
        .flatten();
    let events = page
        .iter()
        .filter_map(|(_, seq)| {
            events.get(seq).map(|e| {
                let mut v = Value::Object(e.payload.clone());
                v["seq"] = Value::from(*seq);
                v
            })
        })
        .collect();
    Ok(Json(TimelineView {
        events,
        next_cursor,
    }))
}

/// A profile's identity graph and merge history.
#[utoipa::path(get, path = "/api/v1/profiles/{id}/identity", tag = "identity",
    params(("id" = String, Path, description = "`kind:value` or `profile_id:<id>`")),
    responses((status = 200, body = IdentityGraphView), (status = 400, description = "`invalid_identifier`: not `kind:value`, or a value its kind does not accept", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn get_identity(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IdentityGraphView>, ApiError> {
    let profile = resolve_profile(&state, &id).await?;
    let (record, merges, refusals) = blocking(&state, move |s| {
        Ok((
            s.profile(&profile)?,
            s.merges(&profile)?,
            s.refusals(&profile)?,
        ))
    })
    .await?;
    let record = record.ok_or_else(|| not_found(&id))?;
    Ok(Json(IdentityGraphView {
        profile_id: record.profile_id.to_string(),
        identities: record.identities.iter().map(IdentityView::from).collect(),
        merges: merges.into_iter().map(MergeView::from).collect(),
        // Alias alternatives are bookkeeping for rebuilds, not links anyone asked for.
        refused_links: refusals
            .into_iter()
            .filter(|r| r.reason != herald_core::identity::RefusalReason::AliasAlternative)
            .map(RefusalView::from)
            .collect(),
    }))
}

/// One merge record.
#[utoipa::path(get, path = "/api/v1/merges/{merge_id}", tag = "identity",
    params(("merge_id" = String, Path)),
    responses((status = 200, body = MergeView), (status = 404, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn get_merge(
    State(state): State<AppState>,
    Path(merge_id): Path<String>,
) -> Result<Json<MergeView>, ApiError> {
    let id = merge_id.clone();
    let row = blocking(&state, move |s| s.merge(&id))
        .await?
        .ok_or_else(|| merge_not_found(&merge_id))?;
    Ok(Json(row.into()))
}

fn merge_not_found(id: &str) -> ApiError {
    ApiError::NotFound("merge_not_found", format!("no merge {id}"))
}

/// Undo a merge. The two sides are never merged again; every profile whose history depends on
/// the merged one is recomputed from the log.
#[utoipa::path(post, path = "/api/v1/merges/{merge_id}/undo", tag = "identity",
    params(("merge_id" = String, Path)),
    responses((status = 200, body = SplitView), (status = 404, body = ErrorBody), (status = 409, description = "Already undone", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn undo_merge(
    State(state): State<AppState>,
    Path(merge_id): Path<String>,
) -> Result<Json<SplitView>, ApiError> {
    let outcome = state
        .processor
        .unmerge(&merge_id)
        .await
        .map_err(|e| match e {
            CommandError::NotFound => merge_not_found(&merge_id),
            CommandError::AlreadyUndone => ApiError::Conflict(
                "merge_already_undone",
                format!("merge {merge_id} was already undone"),
            ),
            other => command_error(other),
        })?;
    Ok(Json(split_view(outcome)))
}

/// Delete a person (GDPR): their profile, identities and events are removed, and their
/// identifiers are suppressed so later events for them are dropped (and counted); their
/// addresses (email, phone, push tokens) are suppressed for messaging with the reason `gdpr`,
/// their inbox is deleted and their messages keep nothing of them (address, event, error).
/// Events of other profiles that carry one of their identifiers are kept with it redacted; the
/// response lists every profile the deletion touched.
#[utoipa::path(delete, path = "/api/v1/profiles/{id}", tag = "profiles",
    params(("id" = String, Path, description = "`kind:value` or `profile_id:<id>`")),
    responses((status = 200, body = SplitView), (status = 400, description = "`invalid_identifier`: not `kind:value`, or a value its kind does not accept", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn delete_profile(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SplitView>, ApiError> {
    let profile = resolve_profile(&state, &id).await?;
    // Read before the deletion takes the traits they are in; suppressed once it is done.
    let rules = state.messaging.settings().address_rules.clone();
    let whose = profile.as_str().to_owned();
    let erasure = blocking(&state, move |s| {
        herald_pipeline::messaging::erasure(s, &whose, &rules)
    })
    .await?;
    let outcome = state
        .processor
        .delete(&profile)
        .await
        .map_err(|e| match e {
            CommandError::NotFound => not_found(&id),
            other => command_error(other),
        })?;
    let now = herald_storage::clock::now_ms();
    let removed: Vec<String> = outcome
        .removed_profiles()
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    blocking(&state, move |s| {
        s.erase_messages(&removed, now)?;
        s.delete_inbox_items(&erasure.user_ids)?;
        for (channel, address) in erasure.addresses {
            s.suppress_address(&herald_storage::preferences::AddressSuppression {
                channel: channel.as_str().into(),
                address,
                reason: herald_messaging::preferences::SuppressionReason::Gdpr
                    .as_str()
                    .into(),
                message_id: None,
                created_ms: now,
            })?;
        }
        Ok(())
    })
    .await?;
    Ok(Json(split_view(outcome)))
}

fn command_error(e: CommandError) -> ApiError {
    match e {
        CommandError::Stopped => ApiError::Unavailable("the server is shutting down".into()),
        CommandError::Storage(e) => e.into(),
        other => ApiError::Internal(other.to_string()),
    }
}

fn split_view(o: herald_core::split::SplitOutcome) -> SplitView {
    SplitView {
        profiles: o.profiles.iter().map(ToString::to_string).collect(),
        removed_profiles: o
            .removed_profiles()
            .iter()
            .map(ToString::to_string)
            .collect(),
        replayed_events: o.replayed,
        deleted_events: o.deleted_seqs.len(),
        redacted_events: o
            .redacted
            .iter()
            .map(|r| RedactedView {
                seq: r.seq,
                profile_id: r.profile.as_ref().map(ToString::to_string),
            })
            .collect(),
        suppressed_identifiers: o.suppressed.iter().map(ToString::to_string).collect(),
    }
}

/// Every API key (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", responses((status = 200, body = Vec<KeyView>)), security(("admin_key" = [])))]
pub async fn list_keys(State(state): State<AppState>) -> Result<Json<Vec<KeyView>>, ApiError> {
    let keys = blocking(&state, |s| s.list_keys()).await?;
    Ok(Json(keys.into_iter().map(KeyView::from).collect()))
}

/// Create a key; the response holds its secret, shown only this once.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = CreateKey,
    responses((status = 201, body = CreatedKeyView), (status = 400, description = "`invalid_json`, `invalid_key_kind` or `invalid_name`", body = ErrorBody)), security(("admin_key" = [])))]
pub async fn create_key(
    State(state): State<AppState>,
    Json(req): Json<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKeyView>), ApiError> {
    let kind = KeyKind::parse(&req.kind).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_key_kind",
            format!("kind must be `write` or `admin`, not {:?}", req.kind),
        )
    })?;
    if req.name.len() > 200 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "name is longer than 200 characters",
        ));
    }
    let secret = crate::keys::generate(kind);
    let (s2, name) = (secret.clone(), req.name.clone());
    let key = blocking(&state, move |s| {
        s.insert_key(kind, &name, &s2, herald_storage::clock::now())
    })
    .await?
    .ok_or_else(|| ApiError::Internal("generated key collided".into()))?;
    state.keys.clear();
    Ok((
        StatusCode::CREATED,
        Json(CreatedKeyView {
            key: key.into(),
            secret,
        }),
    ))
}

/// Revoke a key. It stops working at once on this server, and within 1 s on every other node.
#[utoipa::path(delete, path = "/api/v1/keys/{key_id}", tag = "keys", params(("key_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("admin_key" = [])))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Path(key_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = key_id.clone();
    if blocking(&state, move |s| {
        s.revoke_key(&id, herald_storage::clock::now())
    })
    .await?
    {
        state.keys.clear();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(
            "key_not_found",
            format!("no live key {key_id}"),
        ))
    }
}

/// Log and processing progress, and drop counters.
#[utoipa::path(get, path = "/api/v1/status", tag = "operations", responses((status = 200, body = StatusView)), security(("admin_key" = [])))]
pub async fn status(State(state): State<AppState>) -> Result<Json<StatusView>, ApiError> {
    let full_since = crate::ops::storage_full_since_ms(&state);
    let identity_rules = serde_json::to_value(state.processor.identity_rules())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let view = blocking(&state, move |s| {
        let log_head = s.head()?;
        let processed = s.processed_cursor()?;
        Ok(StatusView {
            log_head,
            processed,
            lag: log_head.saturating_sub(processed),
            suppressed_events: s.counter("suppressed_events")?,
            unattributable_events: s.counter("unattributable_events")?,
            deleted_events: s.counter("deleted_events")?,
            quarantined_events: s.quarantined_count()?,
            discarded_events: s.counter("discarded_events")?,
            storage_full: full_since.is_some(),
            storage_full_since: full_since.and_then(chrono::DateTime::from_timestamp_millis),
            identity_rules,
        })
    })
    .await?;
    Ok(Json(view))
}
