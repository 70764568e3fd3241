//! `GET /api/v1/tail`: committed events as Server-Sent Events, like Segment's debugger.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_core::Stream;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::IntoParams;

use crate::extract::Query;
use crate::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TailQuery {
    /// Only this call type (`track`, `identify`, ...).
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// Only track events with this name.
    pub event: Option<String>,
}

/// A live stream of committed events (`text/event-stream`). It opens with a `ready` message
/// (`{"after": <log head>}`): every event committed after that position follows. Each SSE
/// `event` message carries the stored Segment message plus `seq`; a `lagged` message says how
/// many events a slow reader missed.
#[utoipa::path(get, path = "/api/v1/tail", tag = "operations", params(TailQuery),
    responses((status = 200, content_type = "text/event-stream", description = "Server-Sent Events")),
    security(("admin_key" = [])))]
pub async fn tail(
    State(state): State<AppState>,
    Query(q): Query<TailQuery>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let mut events = state.tail.subscribe();
    let mut shutdown = state.shutdown.clone();
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        // Every event after the head as it is now reaches this subscriber (a cluster node's
        // follower starts there); `ready` says so, so a client can start sending.
        let store = state.store.clone();
        let head = match tokio::task::spawn_blocking(move || store.head()).await {
            Ok(Ok(head)) => head,
            _ => return,
        };
        state.tail.request_from(head + 1);
        let ready = SseEvent::default()
            .event("ready")
            .data(format!("{{\"after\":{head}}}"));
        if tx.send(Ok(ready)).await.is_err() {
            return;
        }
        loop {
            let next = tokio::select! {
                _ = shutdown.wait_for(|stopping| *stopping) => break,
                next = events.recv() => next,
            };
            let message = match next {
                Ok(item) => {
                    let e = &item.event;
                    if q.event_type
                        .as_deref()
                        .is_some_and(|t| t != e.event_type.as_str())
                        || q.event
                            .as_deref()
                            .is_some_and(|n| e.event.as_deref() != Some(n))
                    {
                        continue;
                    }
                    let mut v = Value::Object(e.payload.clone());
                    v["seq"] = Value::from(item.seq);
                    SseEvent::default()
                        .event("event")
                        .id(item.seq.to_string())
                        .data(v.to_string())
                }
                Err(RecvError::Lagged(n)) => SseEvent::default()
                    .event("lagged")
                    .data(format!("{{\"missed\":{n}}}")),
                Err(RecvError::Closed) => break,
            };
            if tx.send(Ok(message)).await.is_err() {
                break;
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
