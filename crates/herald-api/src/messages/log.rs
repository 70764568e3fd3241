//! The message log (docs/messages.md#the-message-log): every message, newest first, filtered
//! by status, channel, source and template; a person's messages; and what happened to one
//! message after it was sent (its delivery events, from its person's timeline).

use std::collections::HashMap;

use axum::extract::State;
use herald_messaging::message::DELIVERY_EVENT_NAMES;
use herald_storage::messages::{MessageFilter, MessageRecord};
use herald_storage::TimelineFilter;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{invalid, MessageView};
use crate::admin::{blocking, resolve_profile};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::AppState;

/// The most delivery events one message's page shows.
const MAX_EVENTS: usize = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// At most this many (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// The `next` cursor of the previous page.
    pub before: Option<String>,
}

/// The overall log's filters, with its page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only messages with this status (`sent`, `skipped`, `opened`, …).
    pub status: Option<String>,
    /// Only this channel (`email`, `sms`, `push`, `webhook`, `in_app`).
    pub channel: Option<String>,
    /// Only this source (`api`, `broadcast:<id>`).
    pub source: Option<String>,
    /// Only messages of this template.
    pub template: Option<String>,
    /// At most this many (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// The `next` cursor of the previous page.
    pub before: Option<String>,
}

/// A page of messages, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagesPage {
    pub messages: Vec<MessageView>,
    /// Pass as `before` for the next page; absent on the last.
    pub next: Option<String>,
}

/// A message's delivery events, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageEvents {
    /// Timeline events (`Message Sent`, `Message Delivered`, `Message Opened`, …) whose
    /// `properties.message_id` is this message, each with its `seq`.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
}

fn limit_of(limit: Option<usize>) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(50);
    if (1..=500).contains(&limit) {
        Ok(limit)
    } else {
        Err(invalid("invalid_limit", "`limit` is 1–500".into()))
    }
}

fn cursor_of(before: Option<String>) -> Result<Option<(i64, String)>, ApiError> {
    before
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.split_once('.')
                .and_then(|(ms, id)| Some((ms.parse::<i64>().ok()?, id.to_owned())))
                .ok_or_else(|| {
                    invalid(
                        "invalid_cursor",
                        "`before` is not a cursor this API gave".into(),
                    )
                })
        })
        .transpose()
}

/// A page of `limit` from `found` (read with one more, to know whether there is a next).
fn page_of(found: Vec<MessageRecord>, limit: usize) -> MessagesPage {
    let more = found.len() > limit;
    let messages: Vec<MessageRecord> = found.into_iter().take(limit).collect();
    let next = more
        .then(|| {
            messages
                .last()
                .map(|m| format!("{}.{}", m.created_ms, m.id))
        })
        .flatten();
    MessagesPage {
        messages: messages.into_iter().map(Into::into).collect(),
        next,
    }
}

/// Every message, newest first, filtered.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", params(ListQuery),
    responses((status = 200, body = MessagesPage),
        (status = 400, description = "`invalid_limit` or `invalid_cursor`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn list_messages(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<MessagesPage>, ApiError> {
    let limit = limit_of(q.limit)?;
    let before = cursor_of(q.before)?;
    // An empty filter (a form's unset field) is no filter.
    let given = |v: Option<String>| v.filter(|v| !v.is_empty());
    let filter = MessageFilter {
        status: given(q.status),
        channel: given(q.channel),
        source: given(q.source),
        template_id: given(q.template),
    };
    let found = blocking(&state, move |s| {
        s.list_messages(
            &filter,
            before.as_ref().map(|(ms, id)| (*ms, id.as_str())),
            limit + 1,
        )
    })
    .await?;
    Ok(Json(page_of(found, limit)))
}

/// A person's messages, newest first.
#[utoipa::path(get, path = "/api/v1/profiles/{id}/messages", tag = "messages",
    params(("id" = String, Path, description = "Any identifier, `kind:value`"), LogQuery),
    responses((status = 200, body = MessagesPage),
        (status = 400, description = "`invalid_identifier`, `invalid_limit` or `invalid_cursor`", body = ErrorBody),
        (status = 404, description = "`profile_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn profile_messages(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> Result<Json<MessagesPage>, ApiError> {
    let limit = limit_of(q.limit)?;
    let before = cursor_of(q.before)?;
    let profile = resolve_profile(&state, &id).await?;
    let found = blocking(&state, move |s| {
        s.profile_messages(
            profile.as_str(),
            before.as_ref().map(|(ms, id)| (*ms, id.as_str())),
            limit + 1,
        )
    })
    .await?;
    Ok(Json(page_of(found, limit)))
}

/// What happened to a message after it was sent: the delivery events on its person's
/// timeline that name it, oldest first (none for a message whose person was deleted).
#[utoipa::path(get, path = "/api/v1/messages/{id}/events", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, body = MessageEvents), (status = 404, description = "`message_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn message_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MessageEvents>, ApiError> {
    let key = id.clone();
    let events = blocking(&state, move |s| {
        let Some(m) = s.message(&key)? else {
            return Ok(None);
        };
        let profile = herald_core::identity::ProfileId(m.profile_id.clone());
        if s.profile(&profile)?.is_none() {
            return Ok(Some(vec![]));
        }
        let since = chrono::DateTime::from_timestamp_millis(m.created_ms);
        let mut found: Vec<(i64, u64)> = Vec::new();
        for name in DELIVERY_EVENT_NAMES {
            let filter = TimelineFilter {
                event: Some(name.to_owned()),
                since,
                until: None,
                before: None,
                limit: MAX_EVENTS,
            };
            found.extend(s.timeline(&profile, &filter)?);
        }
        let seqs: Vec<u64> = found.iter().map(|(_, seq)| *seq).collect();
        let loaded: HashMap<u64, herald_core::Event> = s.load(&seqs)?.into_iter().collect();
        found.sort();
        Ok(Some(
            found
                .iter()
                .filter_map(|(_, seq)| {
                    let e = loaded.get(seq)?;
                    let named = e
                        .payload
                        .get("properties")
                        .and_then(|p| p.get("message_id"))
                        .and_then(Value::as_str)
                        == Some(key.as_str());
                    named.then(|| {
                        let mut v = Value::Object(e.payload.clone());
                        v["seq"] = Value::from(*seq);
                        v
                    })
                })
                .take(MAX_EVENTS)
                .collect::<Vec<_>>(),
        ))
    })
    .await?
    .ok_or_else(|| {
        ApiError::NotFound("message_not_found", format!("no message has the id `{id}`"))
    })?;
    Ok(Json(MessageEvents { events }))
}
