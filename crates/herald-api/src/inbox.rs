//! The in-app inbox over REST and Server-Sent Events (docs/inbox.md): what a browser or app
//! reads for one person, authenticated by the write key (public) **and** the person's user id
//! with its hash, which only the customer's backend can compute
//! (herald_messaging::token::inbox_user_hash, with the inbox secret admins read at
//! `GET /api/v1/inbox/secret`). A user id without its hash, or with another's, opens nothing.
//!
//! Items are written by the send pipeline when an in-app message is delivered
//! (herald_pipeline::messaging); reading one is an `Inbox Message Read` event on the person
//! (herald_pipeline::messaging::engagement).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use futures_core::Stream;
use herald_messaging::token::{verify_inbox_user_hash, Key};
use herald_pipeline::messaging::engagement::mark_inbox_item;
use herald_storage::inbox::{InboxCounts, InboxFilter, InboxItem, InboxMark};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::{IntoParams, ToSchema};

use crate::admin::blocking;
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::ingest::{auth, authenticate};
use crate::AppState;

/// The name of the inbox secret in the store (herald_storage::preferences::shared_secret).
pub const SECRET_NAME: &str = "inbox";
/// Items in one page of the listing, by default and at most.
const PAGE: usize = 20;
const MAX_PAGE: usize = 100;
/// The longest user id the inbox takes.
const MAX_USER_ID: usize = 512;
/// How often a live stream looks for items another node delivered.
const POLL: Duration = Duration::from_secs(1);

pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/inbox", get(list_inbox))
        .route("/v1/inbox/seen", post(mark_all_inbox_seen))
        .route("/v1/inbox/stream", get(inbox_stream))
        .route("/v1/inbox/{id}/seen", post(mark_inbox_seen))
        .route("/v1/inbox/{id}/read", post(mark_inbox_read))
        .route("/v1/inbox/{id}/archive", post(archive_inbox_message))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new().route("/api/v1/inbox/secret", get(inbox_secret))
}

/// Who reads the inbox. Each is also read from a header (`X-Herald-User-Id`,
/// `X-Herald-User-Hash`; the write key as HTTP Basic), which is where clients that can send
/// headers should put them: a URL ends up in logs. `EventSource` cannot send headers, so the
/// live stream takes them here.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct InboxAuth {
    /// The person's user id, exactly as the customer's backend signed it.
    #[param(max_length = 512)]
    pub user_id: Option<String>,
    /// Lowercase hex HMAC-SHA256 of the user id with the inbox secret (64 characters).
    pub user_hash: Option<String>,
    /// The write key, when it cannot be sent as HTTP Basic.
    pub write_key: Option<String>,
}

/// A page of the inbox.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[param(max_length = 512)]
    pub user_id: Option<String>,
    pub user_hash: Option<String>,
    pub write_key: Option<String>,
    /// The archived items instead of the others.
    #[serde(default)]
    pub archived: bool,
    /// Items per page: 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// The previous page's `next`.
    pub before: Option<String>,
}

/// One message in the inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxMessage {
    /// The message's id.
    pub id: String,
    pub title: Option<String>,
    pub body: String,
    /// `html` or `text`: how `body` is written.
    pub format: String,
    pub topic: Option<String>,
    pub created_at: DateTime<Utc>,
    pub seen_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// A page of the inbox, with the counts a badge shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    /// Newest first.
    pub messages: Vec<InboxMessage>,
    /// The items not archived.
    pub total: u64,
    pub unseen: u64,
    pub unread: u64,
    /// `before` for the next page; absent on the last.
    pub next: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedAll {
    /// How many items were marked seen by this call.
    pub marked: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxSecret {
    /// The key of the user hash: `hex(HMAC-SHA256(secret, user id))`.
    pub secret: String,
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl From<InboxItem> for InboxMessage {
    fn from(i: InboxItem) -> Self {
        let mut parts: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&i.content).unwrap_or_default();
        let mut part = |name: &str| match parts.remove(name) {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        };
        InboxMessage {
            title: part("title"),
            body: part("body").unwrap_or_default(),
            id: i.message_id,
            format: i.format,
            topic: i.topic,
            created_at: time(i.created_ms),
            seen_at: i.seen_ms.map(time),
            read_at: i.read_ms.map(time),
            archived_at: i.archived_ms.map(time),
        }
    }
}

/// `<created ms>:<message id>`: where a page or a stream stands.
fn cursor(item: &InboxItem) -> String {
    format!("{}:{}", item.created_ms, item.message_id)
}

fn parse_cursor(raw: &str) -> Result<(i64, String), ApiError> {
    raw.split_once(':')
        .and_then(|(ms, id)| Some((ms.parse().ok()?, id.to_owned())))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_cursor",
                "`before` is the `next` of a previous page",
            )
        })
}

/// The user the request speaks for, once the write key and the user hash check out.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    user_id: Option<String>,
    user_hash: Option<String>,
    write_key: Option<String>,
) -> Result<String, ApiError> {
    let key = match auth::from_headers(headers)? {
        Some(key) => key,
        None => write_key.filter(|k| !k.is_empty()).ok_or_else(|| {
            ApiError::Unauthorized(
                "a write key is required: HTTP Basic (key as user name) or the `writeKey` query parameter".into(),
            )
        })?,
    };
    authenticate(state, &key).await?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let user_id = header("x-herald-user-id").or(user_id);
    let user_hash = header("x-herald-user-hash").or(user_hash);
    let (Some(user_id), Some(user_hash)) = (user_id, user_hash) else {
        return Err(ApiError::Unauthenticated(
            "user_hash_required",
            "the inbox needs the user id and its hash (`userId` and `userHash`, or the \
             X-Herald-User-Id and X-Herald-User-Hash headers); see docs/inbox.md"
                .into(),
        ));
    };
    if user_id.is_empty() || user_id.len() > MAX_USER_ID {
        return Err(ApiError::bad_request(
            "invalid_user_id",
            format!("the user id is 1 to {MAX_USER_ID} bytes"),
        ));
    }
    let secret = &state.messaging.settings().inbox_secret;
    let key = Key::new(secret.as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?;
    verify_inbox_user_hash(&key, &user_id, &user_hash).map_err(|_| {
        ApiError::Unauthenticated(
            "user_hash_invalid",
            "the user hash is not the one of this user id".into(),
        )
    })?;
    Ok(user_id)
}

/// A page of the person's inbox, newest first, with the counts of unseen and unread items.
#[utoipa::path(get, path = "/v1/inbox", tag = "inbox", params(ListQuery),
    responses((status = 200, body = InboxPage),
        (status = 400, description = "`invalid_cursor`, `invalid_user_id`, `invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthorized` (write key), `user_hash_required`, `user_hash_invalid`", body = ErrorBody)),
    security(("write_key" = [])))]
pub async fn list_inbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<InboxPage>, ApiError> {
    let user = authorize(&state, &headers, q.user_id, q.user_hash, q.write_key).await?;
    let limit = q.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("`limit` is 1 to {MAX_PAGE}"),
        ));
    }
    let before = q.before.as_deref().map(parse_cursor).transpose()?;
    let filter = if q.archived {
        InboxFilter::Archived
    } else {
        InboxFilter::Active
    };
    let (items, counts) = blocking(&state, move |s| {
        let before = before.as_ref().map(|(ms, id)| (*ms, id.as_str()));
        Ok((
            s.inbox_items(&user, filter, before, limit + 1)?,
            s.inbox_counts(&user)?,
        ))
    })
    .await?;
    Ok(Json(page(items, counts, limit)))
}

fn page(mut items: Vec<InboxItem>, counts: InboxCounts, limit: usize) -> InboxPage {
    let next = (items.len() > limit).then(|| {
        items.truncate(limit);
        items.last().map(cursor).unwrap_or_default()
    });
    InboxPage {
        messages: items.into_iter().map(InboxMessage::from).collect(),
        total: counts.total,
        unseen: counts.unseen,
        unread: counts.unread,
        next,
    }
}

async fn mark(
    state: &AppState,
    headers: &HeaderMap,
    auth: InboxAuth,
    id: &str,
    mark: InboxMark,
) -> Result<Json<InboxMessage>, ApiError> {
    let user = authorize(state, headers, auth.user_id, auth.user_hash, auth.write_key).await?;
    let item = mark_inbox_item(&state.store, &state.ingest, &user, id, mark)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| {
            ApiError::NotFound(
                "inbox_message_not_found",
                format!("no message {id:?} in this inbox"),
            )
        })?;
    Ok(Json(item.into()))
}

/// Mark one message seen (shown in a list). Marking again keeps the first time.
#[utoipa::path(post, path = "/v1/inbox/{id}/seen", tag = "inbox", params(("id" = String, Path), InboxAuth),
    responses((status = 200, body = InboxMessage),
        (status = 401, description = "`unauthorized`, `user_hash_required`, `user_hash_invalid`", body = ErrorBody),
        (status = 404, description = "`inbox_message_not_found`: not a message of this inbox", body = ErrorBody)),
    security(("write_key" = [])))]
pub async fn mark_inbox_seen(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(auth): Query<InboxAuth>,
) -> Result<Json<InboxMessage>, ApiError> {
    mark(&state, &headers, auth, &id, InboxMark::Seen).await
}

/// Mark one message read (and seen). The first read is an `Inbox Message Read` event on the
/// person and opens the message.
#[utoipa::path(post, path = "/v1/inbox/{id}/read", tag = "inbox", params(("id" = String, Path), InboxAuth),
    responses((status = 200, body = InboxMessage),
        (status = 401, description = "`unauthorized`, `user_hash_required`, `user_hash_invalid`", body = ErrorBody),
        (status = 404, description = "`inbox_message_not_found`: not a message of this inbox", body = ErrorBody)),
    security(("write_key" = [])))]
pub async fn mark_inbox_read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(auth): Query<InboxAuth>,
) -> Result<Json<InboxMessage>, ApiError> {
    mark(&state, &headers, auth, &id, InboxMark::Read).await
}

/// Archive one message: it leaves the listing and the counts (`archived=true` lists it).
#[utoipa::path(post, path = "/v1/inbox/{id}/archive", tag = "inbox", params(("id" = String, Path), InboxAuth),
    responses((status = 200, body = InboxMessage),
        (status = 401, description = "`unauthorized`, `user_hash_required`, `user_hash_invalid`", body = ErrorBody),
        (status = 404, description = "`inbox_message_not_found`: not a message of this inbox", body = ErrorBody)),
    security(("write_key" = [])))]
pub async fn archive_inbox_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(auth): Query<InboxAuth>,
) -> Result<Json<InboxMessage>, ApiError> {
    mark(&state, &headers, auth, &id, InboxMark::Archived).await
}

/// Mark every message seen (the inbox was opened).
#[utoipa::path(post, path = "/v1/inbox/seen", tag = "inbox", params(InboxAuth),
    responses((status = 200, body = MarkedAll),
        (status = 401, description = "`unauthorized`, `user_hash_required`, `user_hash_invalid`", body = ErrorBody)),
    security(("write_key" = [])))]
pub async fn mark_all_inbox_seen(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(auth): Query<InboxAuth>,
) -> Result<Json<MarkedAll>, ApiError> {
    let user = authorize(
        &state,
        &headers,
        auth.user_id,
        auth.user_hash,
        auth.write_key,
    )
    .await?;
    let now = herald_storage::clock::now_ms();
    let marked = blocking(&state, move |s| s.mark_inbox_seen(&user, now)).await?;
    Ok(Json(MarkedAll { marked }))
}

/// New messages as they are delivered (`text/event-stream`). It opens with a `ready` message
/// holding the counts; then each new message is a `message` event (its JSON, with the SSE
/// `id` to resume from: a reconnecting `EventSource` sends it back as `Last-Event-ID` and
/// gets what it missed).
#[utoipa::path(get, path = "/v1/inbox/stream", tag = "inbox", params(InboxAuth),
    responses((status = 200, content_type = "text/event-stream", description = "Server-Sent Events"),
        (status = 401, description = "`unauthorized`, `user_hash_required`, `user_hash_invalid`", body = ErrorBody)),
    security(("write_key" = [])))]
pub async fn inbox_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(auth): Query<InboxAuth>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let user = authorize(
        &state,
        &headers,
        auth.user_id,
        auth.user_hash,
        auth.write_key,
    )
    .await?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_cursor(v).ok());
    // Subscribed before the first read, so nothing delivered in between is missed.
    let mut changes = state.messaging.inbox_changes();
    let u = user.clone();
    let (mut after, counts) = blocking(&state, move |s| {
        let start = match resume {
            Some(at) => at,
            None => {
                let newest = [InboxFilter::Active, InboxFilter::Archived]
                    .into_iter()
                    .map(|f| s.inbox_items(&u, f, None, 1))
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .flatten()
                    .map(|i| (i.created_ms, i.message_id))
                    .max();
                newest.unwrap_or((0, String::new()))
            }
        };
        Ok((start, s.inbox_counts(&u)?))
    })
    .await?;
    let (tx, rx) = mpsc::channel(64);
    let mut shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        let ready = SseEvent::default()
            .event("ready")
            .json_data(counts_json(counts))
            .unwrap_or_default();
        if tx.send(Ok(ready)).await.is_err() {
            return;
        }
        loop {
            let u = user.clone();
            let from = after.clone();
            let read = blocking(&state, move |s| {
                let items = s.inbox_items_after(&u, (from.0, &from.1), MAX_PAGE)?;
                let counts = if items.is_empty() {
                    None
                } else {
                    Some(s.inbox_counts(&u)?)
                };
                Ok((items, counts))
            })
            .await;
            let Ok((items, counts)) = read else {
                return;
            };
            for item in items {
                after = (item.created_ms, item.message_id.clone());
                let event = SseEvent::default()
                    .event("message")
                    .id(cursor(&item))
                    .json_data(InboxMessage::from(item))
                    .unwrap_or_default();
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            if let Some(counts) = counts {
                let event = SseEvent::default()
                    .event("counts")
                    .json_data(counts_json(counts))
                    .unwrap_or_default();
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = shutdown.wait_for(|stopping| *stopping) => return,
                _ = tx.closed() => return,
                _ = tokio::time::sleep(POLL) => {}
                _ = wait_for(&mut changes, &user) => {}
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn counts_json(c: InboxCounts) -> serde_json::Value {
    serde_json::json!({"total": c.total, "unseen": c.unseen, "unread": c.unread})
}

/// Until this node delivers to `user` (or misses wake-ups: then look anyway).
async fn wait_for(changes: &mut tokio::sync::broadcast::Receiver<String>, user: &str) {
    loop {
        match changes.recv().await {
            Ok(changed) if changed == user => return,
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                std::future::pending::<()>().await
            }
        }
    }
}

/// The inbox secret: the customer's backend signs each user id with it (docs/inbox.md). A
/// credential, for admins only.
#[utoipa::path(get, path = "/api/v1/inbox/secret", tag = "inbox",
    responses((status = 200, body = InboxSecret),
        (status = 403, description = "`forbidden_role`: only admins read the secret", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn inbox_secret(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<InboxSecret>, ApiError> {
    principal.require_admin()?;
    Ok(Json(InboxSecret {
        secret: state.messaging.settings().inbox_secret.clone(),
    }))
}
