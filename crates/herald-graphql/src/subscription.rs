//! Subscriptions (graphql-ws over WebSocket at `/graphql`): events as they are committed.

use async_graphql::{Context, Subscription};
use futures_util::Stream;
use herald_api::AppState;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use crate::types::TimelineEvent;

pub struct Subscription;

/// Which live events a subscriber wants.
#[derive(Default, Clone)]
struct Filter {
    event_type: Option<String>,
    event: Option<String>,
    identifier: Option<(String, String)>,
}

impl Filter {
    fn matches(&self, payload: &serde_json::Map<String, Value>) -> bool {
        let text = |key: &str| payload.get(key).and_then(Value::as_str);
        if self
            .event_type
            .as_deref()
            .is_some_and(|t| text("type") != Some(t))
        {
            return false;
        }
        if self
            .event
            .as_deref()
            .is_some_and(|n| text("event") != Some(n))
        {
            return false;
        }
        match &self.identifier {
            None => true,
            Some((kind, value)) => match kind.as_str() {
                "user_id" => text("userId") == Some(value),
                "anonymous_id" => text("anonymousId") == Some(value),
                "email" | "phone" => [
                    payload.get("traits"),
                    payload.get("context").and_then(|c| c.get("traits")),
                ]
                .into_iter()
                .flatten()
                .filter_map(|t| t.get(kind).and_then(Value::as_str))
                .any(|v| v.trim().eq_ignore_ascii_case(value)),
                _ => false,
            },
        }
    }
}

#[Subscription]
impl Subscription {
    /// Every event committed from now on, optionally only one call type (`track`, ...), one
    /// event name, or the events that carry one identifier (`kind:value`: `userId`,
    /// `anonymousId`, or an `email`/`phone` trait). A reader too slow for the stream skips
    /// what it missed.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type")] event_type: Option<String>,
        event: Option<String>,
        identifier: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = TimelineEvent>> {
        let state = ctx.data_unchecked::<AppState>().clone();
        let identifier = identifier
            .map(|raw| {
                raw.split_once(':')
                    .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
                    .ok_or_else(|| {
                        async_graphql::Error::new("`identifier` is written `kind:value`")
                    })
            })
            .transpose()?;
        let filter = Filter {
            event_type,
            event,
            identifier,
        };
        let mut events = state.tail.subscribe();
        let store = state.store.clone();
        let head = tokio::task::spawn_blocking(move || store.head())
            .await
            .map_err(|e| async_graphql::Error::new(e.to_string()))?
            .map_err(|e| async_graphql::Error::new(e.to_string()))?;
        state.tail.request_from(head + 1);
        let mut shutdown = state.shutdown.clone();
        Ok(async_stream(move |yielder| async move {
            loop {
                let next = tokio::select! {
                    _ = shutdown.wait_for(|stopping| *stopping) => break,
                    next = events.recv() => next,
                };
                match next {
                    Ok(item) if filter.matches(&item.event.payload) => {
                        let mut payload = Value::Object(item.event.payload.clone());
                        payload["seq"] = Value::from(item.seq);
                        if yielder
                            .send(TimelineEvent::of(item.seq, payload))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
        }))
    }
}

/// A stream fed by a task: `f` gets a sender and runs until it returns or the stream is
/// dropped (the subscriber left).
fn async_stream<T, F, Fut>(f: F) -> impl Stream<Item = T>
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<T>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    tokio::spawn(f(tx));
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn filters_by_type_name_and_identifier() {
        let track = payload(serde_json::json!({"type": "track", "event": "Checkout",
            "userId": "u1", "anonymousId": "a1", "context": {"traits": {"email": "Ana@Example.com"}}}));
        let identify = payload(serde_json::json!({"type": "identify", "userId": "u2",
            "traits": {"phone": "+14155550100"}}));
        let filter = |t: Option<&str>, e: Option<&str>, id: Option<(&str, &str)>| Filter {
            event_type: t.map(str::to_owned),
            event: e.map(str::to_owned),
            identifier: id.map(|(k, v)| (k.to_owned(), v.to_owned())),
        };
        assert!(filter(None, None, None).matches(&track));
        assert!(filter(Some("track"), Some("Checkout"), None).matches(&track));
        assert!(!filter(Some("identify"), None, None).matches(&track));
        assert!(!filter(None, Some("Viewed"), None).matches(&track));
        assert!(!filter(None, Some("Checkout"), None).matches(&identify));
        assert!(filter(None, None, Some(("user_id", "u1"))).matches(&track));
        assert!(!filter(None, None, Some(("user_id", "u1"))).matches(&identify));
        assert!(filter(None, None, Some(("anonymous_id", "a1"))).matches(&track));
        assert!(filter(None, None, Some(("email", "ana@example.com"))).matches(&track));
        assert!(filter(None, None, Some(("phone", "+14155550100"))).matches(&identify));
        assert!(!filter(None, None, Some(("email", "ana@example.com"))).matches(&identify));
        assert!(!filter(None, None, Some(("group_id", "g1"))).matches(&track));
    }
}
